"""ESA CCI Soil Moisture daily L3S images (netCDF, one file per day, 0.25°).

Each file holds ``sm`` (m³ m⁻³, fill -9999), ``sm_uncertainty``, ``flag`` and the
retrieval's ancillary variables on a regular 0.25° lat/lon grid with one time step.
A value is kept when its ``flag`` is 0 ("no data inconsistency detected"), as the
esa_cci_sm reader and QA4SM do; other flags mark snow or frozen soil (1), dense
vegetation (2), no convergence (4), values beyond the physical boundary (8), low
measurement weight (16) and their sums.

File names follow ``ESACCI-SOILMOISTURE-L3S-SSMV-<PRODUCT>-<YYYYMMDD>000000-fv<X.Y>.nc``.
Missing days are reported (``attrs["missing_days"]`` and a warning), never filled.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from cropsm.core.latlon import coarse_average, sample_points
from cropsm.io.readers._errors import ReaderError
from cropsm.io.readers._files import expand_paths, missing_days

__all__ = ["CCI_NAME", "coarse_average", "read_esa_cci", "sample_points"]

CCI_NAME = re.compile(r"ESACCI-SOILMOISTURE-L3S-SSMV-(?P<product>[A-Z]+)-"
                      r"(?P<date>\d{8})\d{6}-fv(?P<version>[\d.]+)\.nc$")
_VARIABLES = ("sm", "sm_uncertainty", "flag")


def _open_one(path: Path, bbox) -> xr.Dataset:
    try:
        ds = xr.open_dataset(path, engine="netcdf4")
    except (OSError, ValueError) as err:
        raise ReaderError(path, f"not a netCDF file ({err}); expected an ESA CCI SM L3S "
                                "daily image.") from err
    missing = [v for v in _VARIABLES if v not in ds.variables]
    if missing or not {"lat", "lon", "time"} <= set(ds.dims):
        ds.close()
        raise ReaderError(path, f"has no {', '.join(missing) or 'time/lat/lon dimensions'}; "
                                f"expected ESA CCI SM variables {', '.join(_VARIABLES)} on "
                                f"(time, lat, lon); it has {', '.join(map(str, ds.data_vars))}.")
    ds = ds[list(_VARIABLES)]
    if bbox is not None:
        lon_min, lat_min, lon_max, lat_max = bbox
        lat = ds["lat"].values
        lat_slice = slice(lat_max, lat_min) if lat[0] > lat[-1] else slice(lat_min, lat_max)
        ds = ds.sel(lon=slice(lon_min, lon_max), lat=lat_slice)
    return ds.load()


def read_esa_cci(paths: str | Path | Sequence[str | Path], bbox=None,
                 keep_flags: Sequence[int] = (0,)) -> xr.Dataset:
    """Read ESA CCI SM daily images into one (time, lat, lon) dataset.

    Parameters
    ----------
    paths : str, Path or sequence
        A folder, a glob pattern or a list of files.
    bbox : tuple of float, optional
        ``(lon_min, lat_min, lon_max, lat_max)`` in degrees: read only this window.
    keep_flags : sequence of int
        ``flag`` values whose ``sm`` is kept; others become NaN. ``(0,)`` keeps the
        values without any detected inconsistency.

    Returns
    -------
    xarray.Dataset
        ``sm``, ``sm_uncertainty`` (float32, NaN where missing or flagged) and ``flag``
        on ascending ``lat``; ``attrs`` has ``product``, ``version``, ``files``,
        ``missing_days`` and ``flagged`` (values removed by ``keep_flags``).

    Raises
    ------
    ReaderError
        A file that is not an ESA CCI SM image, names that do not follow the CCI
        pattern, or files of different products or versions.
    """
    files = expand_paths(paths, suffixes=(".nc",))
    names: list[re.Match[str]] = []
    for f in files:
        match = CCI_NAME.search(f.name)
        if match is None:
            raise ReaderError(f, "file name does not follow the ESA CCI pattern "
                                 "'ESACCI-SOILMOISTURE-L3S-SSMV-<PRODUCT>-<YYYYMMDD>000000-"
                                 "fv<X.Y>.nc'.")
        names.append(match)
    kinds = {(m["product"], m["version"]) for m in names}
    if len(kinds) > 1:
        raise ReaderError(files[0].parent, f"mixes ESA CCI products/versions {sorted(kinds)}; "
                                           "read one product at a time.")
    order = np.argsort([m["date"] for m in names])
    parts = [_open_one(files[i], bbox) for i in order]
    ds = xr.concat(parts, dim="time", join="exact")
    dates = pd.DatetimeIndex(ds["time"].values)
    if dates.has_duplicates:
        raise ReaderError(files[0].parent, "holds two files for the same day.")
    keep = ds["flag"].isin(list(keep_flags))
    valid = ds["sm"].notnull()
    flagged = int((valid & ~keep).sum())
    out = xr.Dataset({
        "sm": ds["sm"].where(keep).astype("f4"),
        "sm_uncertainty": ds["sm_uncertainty"].where(keep & valid).astype("f4"),
        # 127 is the flag's own fill value ("NaN" in flag_meanings)
        "flag": ds["flag"].fillna(127).astype("i1"),
    }).sortby("lat")
    out["sm"].attrs.update(units="m3 m-3", long_name="ESA CCI volumetric soil moisture")
    product, version = next(iter(kinds))
    gaps = missing_days(dates)
    out.attrs.update(product=product, version=version, flagged=flagged,
                     files=[str(files[i]) for i in order],
                     missing_days=[d.strftime("%Y-%m-%d") for d in gaps])
    if gaps:
        warnings.warn(f"ESA CCI {product}: {len(gaps)} missing day(s) between "
                      f"{dates.min():%Y-%m-%d} and {dates.max():%Y-%m-%d} (first: "
                      f"{gaps[0]:%Y-%m-%d}); they are left out, not filled.", UserWarning,
                      stacklevel=2)
    return out
