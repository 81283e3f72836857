"""Station tables of ``cropsm ingest``: rain gauges and soil-moisture stations."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from cropsm.core import crops
from cropsm.core.grid import Grid
from cropsm.io.ingest.config import TableInput
from cropsm.io.ingest.units import convert
from cropsm.io.readers import AGME_COLUMNS, read_ghcn_daily, read_station_table
from cropsm.io.readers._errors import ReaderError
from cropsm.io.readers._files import read_table

__all__ = ["GAUGE_COLUMNS", "read_rain_gauges", "read_stations"]

#: Columns of a rain-gauge table after its ``columns`` mapping.
GAUGE_COLUMNS = ("station_id", "lon", "lat", "date", "value")


def read_rain_gauges(spec: TableInput, bounds: tuple[float, float, float, float]
                     ) -> pd.DataFrame:
    """Daily gauge rain (mm day-1) of the gauges inside ``bounds`` (lon/lat degrees).

    ``spec.format`` is ``cropsm`` (a CSV/Parquet with :data:`GAUGE_COLUMNS` after the
    config's ``columns`` mapping, in ``spec.units``) or ``ghcn`` (one GHCN-Daily access
    CSV; ``PRCP`` in its documented 0.1 mm is converted by the reader).

    Returns
    -------
    pandas.DataFrame
        ``station_id, lon, lat, date, prcp``.
    """
    path = spec.path
    if spec.format == "ghcn":
        raw = read_ghcn_daily(path)
        if "prcp" not in raw:
            raise ReaderError(path, "has no PRCP element; give a station file with rain.")
        frame = pd.DataFrame({"station_id": raw.attrs["station"], "lon": raw.attrs["lon"],
                              "lat": raw.attrs["lat"], "date": raw.index,
                              "value": raw["prcp"].to_numpy()})
        units: str | None = "mm day-1"
    else:
        frame = read_table(spec.path, id_columns=("station_id",)).rename(
            columns=spec.columns)
        missing = [c for c in GAUGE_COLUMNS if c not in frame]
        if missing:
            raise ReaderError(path, f"lacks column(s) {', '.join(missing)} (after the "
                                    f"`columns` mapping); it has "
                                    f"{', '.join(map(str, frame.columns))}. Map them in "
                                    "`precipitation_stations.columns`.")
        units = spec.units
    prcp = convert(pd.to_numeric(frame["value"], errors="coerce").to_numpy("f8"), units,
                   "mm day-1", source=str(path), name="gauge precipitation")
    out = pd.DataFrame({"station_id": frame["station_id"].astype(str),
                        "lon": pd.to_numeric(frame["lon"], errors="coerce"),
                        "lat": pd.to_numeric(frame["lat"], errors="coerce"),
                        "date": _dates(frame["date"], path), "prcp": prcp})
    lon0, lat0, lon1, lat1 = bounds
    # gauges up to a degree outside the window still inform its edge
    near = out["lon"].between(lon0 - 1, lon1 + 1) & out["lat"].between(lat0 - 1, lat1 + 1)
    if not near.any():
        raise ReaderError(path, f"has no gauge within a degree of the window "
                                f"({lon0:.2f}-{lon1:.2f} E, {lat0:.2f}-{lat1:.2f} N).")
    return out[near].reset_index(drop=True)


def _dates(values: pd.Series, path) -> pd.Series:
    try:
        return pd.to_datetime(values).dt.floor("D")
    except (ValueError, TypeError) as err:
        raise ReaderError(path, f"column 'date' cannot be read as dates ({err}).") from err


def read_stations(spec: TableInput, grid: Grid, inside: np.ndarray) -> pd.DataFrame:
    """Soil-moisture observations of the crop stations inside the window.

    Parameters
    ----------
    spec : TableInput
        ``format`` ``agme`` (CMA AGME element names, :data:`AGME_COLUMNS`) or ``cropsm``
        (the schema of :mod:`cropsm.io.readers.stations`, after ``columns``).
    grid, inside : Grid, numpy.ndarray
        The window and its cells inside China (and the province, if any).

    Returns
    -------
    pandas.DataFrame
        The observation schema plus ``row``, ``col`` and ``irrigated`` (False unless
        the table says otherwise).
    """
    columns = AGME_COLUMNS if spec.format == "agme" else spec.columns
    obs = read_station_table(spec.path, columns=columns)
    obs = obs[obs["crop"].isin(crops.CROPS)].copy()
    if obs.empty:
        raise ReaderError(spec.path, f"has no observations of {' or '.join(crops.CROPS)}; "
                                     "check the crop column and its mapping.")
    row, col = grid.lonlat_to_rowcol(obs["lon"].to_numpy(), obs["lat"].to_numpy())
    ny, nx = grid.shape
    ok = (row >= 0) & (row < ny) & (col >= 0) & (col < nx)
    ok[ok] = inside[row[ok], col[ok]]
    if not ok.any():
        raise ReaderError(spec.path, "has no station inside the window; check the window "
                                     "and the stations' lon/lat.")
    dropped = obs.loc[~ok, "station_id"].unique()
    if dropped.size:
        warnings.warn(f"{spec.path}: {dropped.size} station(s) outside the window left out "
                      f"(first: {dropped[0]}).", UserWarning, stacklevel=2)
    obs = obs[ok].assign(row=row[ok], col=col[ok])
    if "irrigated" not in obs:
        obs["irrigated"] = False
    return obs.reset_index(drop=True)
