"""Station soil-moisture tables in CropSM's documented schema, from CSV or Parquet.

The station observation table has one row per station, day, crop and depth:

============  ==========  ================================================================
column        type        meaning
============  ==========  ================================================================
station_id    string      station identifier
lon, lat      float       station position, degrees (WGS84)
crop          string      ``wheat``, ``maize`` or missing (not a crop station)
depth         string      CropSM layer ``0-10cm`` or ``10-20cm`` (else ``<a>-<b>cm``)
date          datetime    observation day
sm            float       volumetric soil moisture, m³ m⁻³
phenology     string      phenological stage on that day, or missing
zone          Int64       agricultural zone 1-9, or missing
============  ==========  ================================================================

An optional ``rsm`` column carries relative soil moisture (% of field capacity), the
quantity CMA agrometeorological stations report beside or instead of volumetric SM.

Tables laid out like CMA AGME soil-moisture exports are read with
:data:`AGME_COLUMNS`; any other layout is read by passing a mapping of its column
names to the schema's.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from cropsm.io.readers._errors import ReaderError
from cropsm.io.readers._files import local_path, read_table

__all__ = [
    "AGME_COLUMNS",
    "STATION_COLUMNS",
    "product_depth",
    "read_station_table",
]

STATION_COLUMNS: tuple[str, ...] = ("station_id", "lon", "lat", "crop", "depth", "date",
                                    "sm", "phenology", "zone")
_REQUIRED = ("station_id", "lon", "lat", "depth", "date", "sm")

#: CMA AGME element names (as in CMA data-service exports) -> schema columns. Depth is
#: the layer's lower bound in cm, SM in percent by volume (``SVWC``), relative SM in
#: percent (``SRHU``).
AGME_COLUMNS: dict[str, str] = {
    "Station_Id_C": "station_id",
    "Lon": "lon",
    "Lat": "lat",
    "Crop_Name": "crop",
    "Soil_Depth_BelS": "depth",
    "Datetime": "date",
    "SVWC": "sm",
    "SRHU": "rsm",
    "Crop_Growth_Period": "phenology",
    "Irrigated": "irrigated",  # a CropSM extension: 1 where the station's field is irrigated
}

_CROP_NAMES = {"wheat": "wheat", "winter wheat": "wheat", "spring wheat": "wheat",
               "小麦": "wheat", "冬小麦": "wheat", "春小麦": "wheat",
               "maize": "maize", "corn": "maize", "summer maize": "maize",
               "spring maize": "maize", "玉米": "maize", "夏玉米": "maize", "春玉米": "maize"}


def product_depth(depth_from: float, depth_to: float) -> str:
    """The CropSM layer holding a sensor between ``depth_from`` and ``depth_to`` metres."""
    if depth_to <= 0.10 + 1e-9:
        return "0-10cm"
    if depth_from >= 0.10 - 1e-9 and depth_to <= 0.20 + 1e-9:
        return "10-20cm"
    return f"{depth_from * 100:g}-{depth_to * 100:g}cm"


def _depth_labels(values: pd.Series, path: Path) -> pd.Series:
    """Depth labels from labels (``0-10cm``) or lower bounds in cm (``10``, ``20``)."""
    text = values.astype("string").str.strip()
    numeric = pd.to_numeric(text, errors="coerce")
    labels = text.where(numeric.isna(), None)
    bounds = numeric.dropna()
    if len(bounds):
        # AGME layers are 10 cm thick and named by their lower bound (10 = 0-10 cm)
        mapped = bounds.map(lambda cm: f"{float(cm) - 10:g}-{float(cm):g}cm"
                            if float(cm) >= 10 and float(cm) % 10 == 0 else f"{float(cm):g}cm")
        labels = labels.fillna(mapped)
    if labels.isna().any():
        raise ReaderError(path, "column 'depth' has empty values; expected '0-10cm', "
                                "'10-20cm' or the layer's lower bound in cm.")
    return labels


def read_station_table(path: str | Path, columns: Mapping[str, str] | None = None,
                       sm_percent: bool | None = None) -> pd.DataFrame:
    """Read a station SM table (CSV or Parquet) into the station observation schema.

    Parameters
    ----------
    path : str or Path
        ``.csv`` or ``.parquet``.
    columns : mapping, optional
        Source column name -> schema column name (see :data:`AGME_COLUMNS`). Columns
        not named keep their names.
    sm_percent : bool, optional
        Whether ``sm`` is in percent by volume. By default: True if any value
        exceeds 1.

    Returns
    -------
    pandas.DataFrame
        The :data:`STATION_COLUMNS` (plus ``rsm`` and ``irrigated`` if present),
        sorted by station and date.

    Raises
    ------
    ReaderError
        Unknown file type, missing columns (named, with those the file has),
        unparseable dates or implausible SM values.
    """
    path = local_path(path)
    raw = read_table(path, id_columns=("Station_Id_C", "station_id"))
    frame = raw.rename(columns=dict(columns or {}))
    missing = [c for c in _REQUIRED if c not in frame.columns]
    if missing:
        raise ReaderError(path, f"missing column(s) {', '.join(missing)}; the file has "
                                f"{', '.join(map(str, raw.columns))}. Pass a column mapping "
                                "(e.g. cropsm.io.readers.AGME_COLUMNS).")
    try:
        dates = pd.to_datetime(frame["date"])
    except (ValueError, TypeError) as err:
        raise ReaderError(path, f"column 'date' cannot be parsed as dates ({err}).") from err
    sm = pd.to_numeric(frame["sm"], errors="coerce").astype("f8")
    if sm_percent is None:
        sm_percent = bool((sm > 1).any())
    if sm_percent:
        sm = sm / 100.0
    if ((sm < 0) | (sm > 0.8)).any():
        raise ReaderError(path, "column 'sm' has values outside 0-0.8 m3 m-3 (or 0-80 %); "
                                "check its unit (sm_percent) and the column mapping.")
    crop = frame["crop"].astype("string").str.strip().str.lower() if "crop" in frame \
        else pd.Series(pd.NA, index=frame.index, dtype="string")
    unknown = sorted(set(crop.dropna()) - set(_CROP_NAMES))
    if unknown:
        raise ReaderError(path, f"unknown crop name(s) {unknown[:5]}; expected wheat or maize "
                                f"(or {', '.join(k for k in _CROP_NAMES if not k.isascii())}).")
    out = pd.DataFrame({
        "station_id": frame["station_id"].astype("string"),
        "lon": pd.to_numeric(frame["lon"], errors="coerce").astype("f8"),
        "lat": pd.to_numeric(frame["lat"], errors="coerce").astype("f8"),
        "crop": crop.map(_CROP_NAMES, na_action="ignore").astype("string"),
        "depth": _depth_labels(frame["depth"], path),
        "date": dates.dt.floor("D"),
        "sm": sm,
        "phenology": (frame["phenology"].astype("string") if "phenology" in frame
                      else pd.Series(pd.NA, index=frame.index, dtype="string")),
        "zone": (pd.to_numeric(frame["zone"], errors="coerce").astype("Int64") if "zone" in frame
                 else pd.Series(pd.NA, index=frame.index, dtype="Int64")),
    })
    if "rsm" in frame:
        out["rsm"] = pd.to_numeric(frame["rsm"], errors="coerce").astype("f8")
    if "irrigated" in frame:
        out["irrigated"] = pd.to_numeric(frame["irrigated"], errors="coerce").fillna(0) > 0
    bad_position = ~(np.isfinite(out["lon"]) & np.isfinite(out["lat"]))
    if bad_position.any():
        raise ReaderError(path, f"{int(bad_position.sum())} row(s) have no valid lon/lat.")
    out = out.sort_values(["station_id", "date", "depth"], kind="stable").reset_index(drop=True)
    out.attrs.update(path=str(path), units={"sm": "m3 m-3", "rsm": "%", "lon": "degrees_east",
                                            "lat": "degrees_north"})
    return out
