"""GHCN-Daily station records in NCEI's "access" CSV format.

One row per day: ``STATION, DATE, LATITUDE, LONGITUDE, ELEVATION, NAME`` and, per
element, its value and ``<ELEMENT>_ATTRIBUTES`` = ``mflag,qflag,sflag[,obs time]``.
Values are integers in tenths: precipitation in 0.1 mm, temperatures in 0.1 °C, snow
depth in mm (GHCN-Daily readme, section III). A non-blank quality flag means the value
failed a quality check; :func:`read_ghcn_daily` sets such values to NaN by default and
keeps every flag in its own column.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from cropsm.io.readers._errors import ReaderError
from cropsm.io.readers._files import local_path

__all__ = ["ELEMENTS", "read_ghcn_daily"]

#: element -> (output column, divisor to physical units, unit)
ELEMENTS: dict[str, tuple[str, float, str]] = {
    "PRCP": ("prcp", 10.0, "mm"),
    "TMAX": ("tmax", 10.0, "degC"),
    "TMIN": ("tmin", 10.0, "degC"),
    "TAVG": ("tavg", 10.0, "degC"),
    "SNWD": ("snwd", 1.0, "mm"),
    "SNOW": ("snow", 1.0, "mm"),
}
_META = ("STATION", "DATE", "LATITUDE", "LONGITUDE", "ELEVATION", "NAME")


def read_ghcn_daily(path: str | Path, drop_failed_qc: bool = True) -> pd.DataFrame:
    """Read a GHCN-Daily access CSV.

    Parameters
    ----------
    path : str or Path
        The station's CSV, e.g. ``CHM00054511.csv``.
    drop_failed_qc : bool
        Set values with a non-blank quality flag to NaN.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``date``; for each element present (:data:`ELEMENTS`) a float column
        in physical units and ``<name>_mflag``, ``<name>_qflag``, ``<name>_sflag`` string
        columns. ``attrs`` has ``station``, ``name``, ``lat``, ``lon``, ``elevation``,
        ``units``, ``failed_qc`` (count per element) and ``path``.

    Raises
    ------
    ReaderError
        If the file lacks the access-format columns or holds several stations.
    """
    path = local_path(path)
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as err:
        first = str(err).strip().splitlines()[0]
        raise ReaderError(path, f"cannot be read as CSV ({first}); expected a GHCN-Daily "
                                "access CSV.") from err
    missing = [c for c in _META if c not in raw.columns]
    elements = [e for e in ELEMENTS if e in raw.columns]
    if missing or not elements:
        raise ReaderError(path, f"is not a GHCN-Daily access CSV: expected columns "
                                f"{', '.join(_META)} and at least one of "
                                f"{', '.join(ELEMENTS)}; it has {', '.join(raw.columns[:12])}.")
    stations = raw["STATION"].unique()
    if len(stations) != 1:
        raise ReaderError(path, f"holds {len(stations)} stations; expected one per file.")
    try:
        dates = pd.to_datetime(raw["DATE"], format="%Y-%m-%d")
    except ValueError as err:
        raise ReaderError(path, f"column DATE is not yyyy-mm-dd ({err}).") from err
    out = pd.DataFrame(index=pd.DatetimeIndex(dates, name="date"))
    units, failed = {}, {}
    for element in elements:
        name, divisor, unit = ELEMENTS[element]
        values = pd.to_numeric(raw[element].str.strip(), errors="coerce").to_numpy("f8")
        attributes = raw.get(f"{element}_ATTRIBUTES", pd.Series("", index=raw.index))
        flags = attributes.str.split(",", expand=True).reindex(columns=range(3))
        flags = flags.fillna("").apply(lambda col: col.str.strip())
        bad = (flags[1] != "").to_numpy() & np.isfinite(values)
        if drop_failed_qc:
            values = np.where(bad, np.nan, values)
        out[name] = values / divisor
        for i, kind in enumerate(("mflag", "qflag", "sflag")):
            out[f"{name}_{kind}"] = flags[i].astype("string").to_numpy()
        units[name] = unit
        failed[name] = int(bad.sum())
    head = raw.iloc[0]
    out.attrs.update(station=str(stations[0]), name=head["NAME"].strip(),
                     lat=float(head["LATITUDE"]), lon=float(head["LONGITUDE"]),
                     elevation=float(head["ELEVATION"]), units=units, failed_qc=failed,
                     path=str(path))
    return out
