"""ISMN in-situ soil moisture in the "header+values" ``.stm`` format.

An ``.stm`` file holds one sensor of one station: a header line
``CSE network station lat lon elevation depth_from depth_to sensor`` and then one line
per hour, ``yyyy/mm/dd hh:mm value ismn_flag provider_flag``. Files from the ISMN
download portal may end their lines with CR only (the bundled MAQU sample does).

The ISMN quality flags (Dorigo et al. 2013, Vadose Zone J. 12(3)) are ``G`` (good),
``M`` (missing), ``C01``-``C03`` (outside the plausible range) and ``D01``-``D10``
(dubious: frozen soil, rises without rain, spikes, breaks, plateaus); one value can
carry several, comma-separated. ``U`` appears in older downloads (the MAQU sample)
but is not in the published flag table; it is read as "not checked". QA4SM keeps
only ``G``, which is :data:`GOOD_FLAGS`.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from cropsm.io.readers._errors import ReaderError
from cropsm.io.readers._files import local_path
from cropsm.io.readers.stations import STATION_COLUMNS, product_depth

__all__ = ["GOOD_FLAGS", "ISMN_FLAGS", "daily_observations", "read_ismn_stm"]

GOOD_FLAGS: tuple[str, ...] = ("G",)

ISMN_FLAGS: dict[str, str] = {
    "G": "good",
    "M": "parameter value missing",
    "U": "not checked (not in the ISMN flag table; seen in older downloads)",
    "C01": "soil moisture < 0 m3 m-3",
    "C02": "soil moisture > 0.6 m3 m-3",
    "C03": "soil moisture > saturation point (from HWSD)",
    "D01": "in-situ soil temperature < 0 degC",
    "D02": "in-situ air temperature < 0 degC",
    "D03": "GLDAS soil temperature < 0 degC",
    "D04": "rise without in-situ precipitation in the preceding 24 h",
    "D05": "rise without GLDAS precipitation in the preceding 24 h",
    "D06": "spike",
    "D07": "negative break (drop)",
    "D08": "positive break (jump)",
    "D09": "constant low values after a negative break",
    "D10": "saturated plateau",
}

_HEADER_FIELDS = ("cse", "network", "station", "lat", "lon", "elevation", "depth_from",
                  "depth_to", "sensor")
_VALUE_LINE = re.compile(r"^\d{4}/\d{2}/\d{2} \d{2}:\d{2}\s+\S+\s+\S+\s+\S+\s*$")


def _header(path: Path, line: str) -> dict:
    tokens = line.split()
    if len(tokens) < len(_HEADER_FIELDS):
        raise ReaderError(path, "first line is not an ISMN header (expected 'CSE network "
                                "station lat lon elevation depth_from depth_to sensor').")
    # sensor names may contain spaces: everything after depth_to is the sensor
    fields: dict[str, str | float] = dict(zip(_HEADER_FIELDS[:-1], tokens[:8], strict=True))
    fields["sensor"] = " ".join(tokens[8:])
    try:
        for key in ("lat", "lon", "elevation", "depth_from", "depth_to"):
            fields[key] = float(fields[key])
    except ValueError as err:
        raise ReaderError(path, f"ISMN header has a non-numeric coordinate or depth "
                                f"({err}).") from err
    return fields


def read_ismn_stm(path: str | Path) -> pd.DataFrame:
    """Read one ISMN "header+values" file.

    Parameters
    ----------
    path : str or Path
        An ``.stm`` file (CR, LF or CRLF line endings).

    Returns
    -------
    pandas.DataFrame
        One row per record: ``time`` (UTC), ``sm`` (m³ m⁻³), ``flag`` (ISMN flags,
        comma-separated), ``provider_flag``. ``attrs`` holds the header (``network``,
        ``station``, ``lat``, ``lon``, ``elevation`` in m, ``depth_from``/``depth_to``
        in m, ``sensor``), ``variable`` (from the file name), ``units`` and ``path``.

    Raises
    ------
    ReaderError
        If the file is not an ISMN header+values file.
    """
    path = local_path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as err:
        raise ReaderError(path, f"not a text file ({err.reason}); expected an ISMN "
                                ".stm file.") from err
    except OSError as err:
        raise ReaderError(path, f"cannot be read ({err.strerror}).") from err
    lines = text.splitlines()
    if not lines:
        raise ReaderError(path, "is empty; expected an ISMN header line and hourly values.")
    meta = _header(path, lines[0])
    values = [line for line in lines[1:] if line.strip()]
    bad = next((i for i, line in enumerate(values) if not _VALUE_LINE.match(line)), None)
    if bad is not None:
        raise ReaderError(path, f"line {bad + 2} is not 'yyyy/mm/dd hh:mm value flag "
                                f"provider_flag': {values[bad][:60]!r}.")
    dtypes: dict[str, str | type[str]] = {"day": str, "clock": str, "sm": "f8", "flag": str,
                                          "provider_flag": str}
    raw = pd.read_csv(io.StringIO("\n".join(values)), sep=r"\s+", header=None,
                      names=["day", "clock", "sm", "flag", "provider_flag"], dtype=dtypes)
    frame = pd.DataFrame({
        "time": pd.to_datetime(raw["day"] + " " + raw["clock"], format="%Y/%m/%d %H:%M"),
        "sm": raw["sm"].to_numpy(),
        "flag": raw["flag"].to_numpy(),
        "provider_flag": raw["provider_flag"].to_numpy(),
    })
    name_parts = path.stem.split("_")
    meta["variable"] = "soil_moisture" if "sm" in name_parts else "unknown"
    if meta["variable"] != "soil_moisture":
        raise ReaderError(path, "file name does not mark a soil-moisture file ('_sm_'); "
                                "only ISMN soil moisture is read.")
    frame.attrs.update(meta, units={"sm": "m3 m-3", "time": "UTC"}, path=str(path))
    return frame


def _kept(flags: pd.Series, keep_flags: Iterable[str]) -> np.ndarray:
    keep = set(keep_flags)
    return np.array([set(f.split(",")) <= keep for f in flags], dtype=bool)


def daily_observations(frame: pd.DataFrame, keep_flags: Iterable[str] = GOOD_FLAGS,
                       min_hours: int = 12, station_id: str | None = None) -> pd.DataFrame:
    """Daily means of one ISMN sensor as rows of the station observation table.

    Parameters
    ----------
    frame : pandas.DataFrame
        Output of :func:`read_ismn_stm`.
    keep_flags : iterable of str
        A record is kept only if every one of its ISMN flags is in this set.
    min_hours : int
        Days with fewer kept hourly records are dropped, not filled.
    station_id : str, optional
        Defaults to ``"<network>:<station>"``.

    Returns
    -------
    pandas.DataFrame
        Columns of :data:`cropsm.io.readers.stations.STATION_COLUMNS` plus ``hours``,
        ``depth_from`` and ``depth_to`` (m). ``crop``, ``phenology`` and ``zone`` are
        missing (ISMN stations are not crop stations). ``attrs["dropped"]`` counts the
        records dropped by flag and the days dropped for coverage.
    """
    meta = frame.attrs
    kept = _kept(frame["flag"], keep_flags) & np.isfinite(frame["sm"].to_numpy())
    good = frame.loc[kept]
    daily = good.groupby(good["time"].dt.floor("D"))["sm"].agg(["mean", "size"])
    full = daily[daily["size"] >= min_hours]
    out = pd.DataFrame({
        "station_id": station_id or f"{meta['network']}:{meta['station']}",
        "lon": meta["lon"], "lat": meta["lat"],
        "crop": pd.Series(pd.NA, index=full.index, dtype="string"),
        "depth": product_depth(meta["depth_from"], meta["depth_to"]),
        "date": full.index.to_numpy(),
        "sm": full["mean"].to_numpy(dtype="f8"),
        "phenology": pd.Series(pd.NA, index=full.index, dtype="string"),
        "zone": pd.Series(pd.NA, index=full.index, dtype="Int64"),
        "hours": full["size"].to_numpy(dtype="i8"),
        "depth_from": meta["depth_from"], "depth_to": meta["depth_to"],
    }).reset_index(drop=True)
    out.attrs.update(dropped={"records_by_flag": int((~kept).sum()),
                              "days_under_min_hours": int((daily["size"] < min_hours).sum())},
                     keep_flags=sorted(set(keep_flags)), path=meta.get("path"))
    return out[[*STATION_COLUMNS, "hours", "depth_from", "depth_to"]]
