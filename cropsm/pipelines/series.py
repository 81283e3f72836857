"""The time series at a point of the map: a station's observations, or a pixel's product.

:func:`series_at` is what a tap on the dashboard's map shows: the station within the
tolerance if there is one, else the pixel under the point.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cropsm.core.regions import RegionError
from cropsm.pipelines.sources import CatalogReader
from cropsm.serve.predict import ServingModel, feature_rows

__all__ = ["PointSeries", "nearest_station", "pixel_series", "series_at", "station_series"]


@dataclass(frozen=True)
class PointSeries:
    """The series at a point.

    Attributes
    ----------
    station : str or None
        The station's id, or None for a pixel.
    table : pandas.DataFrame
        :func:`station_series` or :func:`pixel_series`.
    """

    station: str | None
    table: pd.DataFrame


def pixel_series(reader: CatalogReader, crop: str, depth: str, x: float, y: float,
                 with_truth: bool = True) -> pd.DataFrame:
    """The product's series at the cell containing grid point ``x, y``.

    Returns
    -------
    pandas.DataFrame
        Indexed by date: ``sm``, ``sm_q10``, ``sm_q90`` and, on the demo world, ``truth``;
        ``attrs`` hold the cell's ``row`` and ``col``.

    Raises
    ------
    cropsm.core.regions.RegionError
        The point is outside the grid.
    """
    row, col = (int(v) for v in reader.grid.xy_to_rowcol(x, y))
    if row < 0 or col < 0:
        raise RegionError(f"The point x={x:.0f}, y={y:.0f} m is outside the data's grid.")
    series = reader.product("series")
    out = pd.DataFrame({name: series[name].isel(y=row, x=col).sel(
        crop=crop, depth=depth).values for name in ("sm", "sm_q10", "sm_q90")},
        index=pd.DatetimeIndex(series["time"].values, name="date"))
    if with_truth and reader.has_entry("truth"):
        truth = reader.dataset("truth")["sm"].sel(crop=crop, depth=depth)
        days = out.index.intersection(pd.DatetimeIndex(truth["time"].values))
        if len(days):
            values = truth.isel(y=row, x=col).sel(time=days).values
            out["truth"] = pd.Series(values, index=days)
    out.attrs.update(row=row, col=col)
    return out


def station_series(reader: CatalogReader, crop: str, depth: str, station_id: str,
                   models: Callable[[str, str], ServingModel]) -> pd.DataFrame:
    """A station's observations of a crop and depth, and the saved model's predictions.

    Predictions use the classifier's CIR, never the observed one. The station helped train
    the model, so scores on this table are in-sample; the station-blocked scores are in
    the validation report.

    Parameters
    ----------
    reader : CatalogReader
        The catalog.
    crop, depth : str
        The observations' crop and depth.
    station_id : str
        A station of the catalog's ``station_meta``.
    models : callable
        ``models(crop, depth)`` gives the serving model; called only if the station has
        observations.

    Returns
    -------
    pandas.DataFrame
        Indexed by date: ``observed`` and ``predicted`` (m³ m⁻³); empty if the station has
        no such observations.
    """
    obs = reader.table("stations")
    obs = obs[(obs["station_id"] == station_id) & (obs["crop"] == crop)
              & (obs["depth"] == depth)].sort_values("date")
    if obs.empty:
        return pd.DataFrame(columns=["observed", "predicted"])
    meta = reader.stations().set_index("station_id").loc[station_id]
    model = models(crop, depth)
    X = feature_rows(reader.dataset("covariates"), reader.dataset("covariates_daily"),
                     np.full(len(obs), meta["row"]), np.full(len(obs), meta["col"]),
                     pd.DatetimeIndex(obs["date"].to_numpy()), crop, memory=model.memory)
    predicted = model.predict_rows(X)["sm"]
    return pd.DataFrame({"observed": obs["sm"].to_numpy(), "predicted": predicted},
                        index=pd.DatetimeIndex(obs["date"].to_numpy(), name="date"))


def nearest_station(reader: CatalogReader, x: float, y: float, tolerance: float
                    ) -> str | None:
    """The station within ``tolerance`` grid metres of ``x, y``, if any."""
    table = reader.stations()
    if table.empty:
        return None
    distance = np.hypot(table["x"].to_numpy() - x, table["y"].to_numpy() - y)
    best = int(np.argmin(distance))
    return str(table["station_id"].iloc[best]) if distance[best] <= tolerance else None


def series_at(reader: CatalogReader, crop: str, depth: str, x: float, y: float,
              tolerance: float, models: Callable[[str, str], ServingModel]) -> PointSeries:
    """The series of the station within ``tolerance`` metres of ``x, y``, else the pixel's.

    Parameters
    ----------
    reader : CatalogReader
        The catalog.
    crop, depth : str
        The product's crop and depth.
    x, y : float
        The point in grid metres.
    tolerance : float
        How close to a station (grid metres) the point picks it.
    models : callable
        ``models(crop, depth)`` gives the serving model; called only for a station with
        observations.

    Raises
    ------
    cropsm.core.regions.RegionError
        The point is outside the grid.
    cropsm.io.models.ModelFileError
        A station was picked and its model is missing.
    """
    station = nearest_station(reader, x, y, tolerance)
    if station is not None:
        return PointSeries(station, station_series(reader, crop, depth, station, models))
    return PointSeries(None, pixel_series(reader, crop, depth, x, y))
