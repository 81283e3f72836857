"""Operations on regular lat/lon grids: point sampling and block averaging.

Coarse satellite products (ESA CCI at 0.25°, for example) arrive on such grids. The ESA
CCI reader block-averages and samples with them, and the product comparison samples a
product at the stations.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

__all__ = ["coarse_average", "sample_points"]


def sample_points(ds: xr.Dataset, lon, lat, variable: str = "sm") -> pd.DataFrame:
    """Values of the pixels holding each point, per day.

    Parameters
    ----------
    ds : xarray.Dataset
        On a regular lat/lon grid, e.g. from
        :func:`cropsm.io.readers.read_esa_cci`.
    lon, lat : array-like
        Point positions in degrees.

    Returns
    -------
    pandas.DataFrame
        ``point`` (index of the point), ``date``, ``pixel_lon``, ``pixel_lat`` and the
        variable; points outside the grid are dropped.
    """
    lon = np.atleast_1d(np.asarray(lon, dtype="f8"))
    lat = np.atleast_1d(np.asarray(lat, dtype="f8"))
    half_lon = float(abs(ds["lon"][1] - ds["lon"][0])) / 2
    half_lat = float(abs(ds["lat"][1] - ds["lat"][0])) / 2
    lon_lo, lon_hi = float(ds["lon"].min()) - half_lon, float(ds["lon"].max()) + half_lon
    lat_lo, lat_hi = float(ds["lat"].min()) - half_lat, float(ds["lat"].max()) + half_lat
    inside = (lon >= lon_lo) & (lon <= lon_hi) & (lat >= lat_lo) & (lat <= lat_hi)
    points = np.flatnonzero(inside)
    picked = ds[variable].sel(lon=xr.DataArray(lon[points], dims="point"),
                              lat=xr.DataArray(lat[points], dims="point"), method="nearest")
    frame = picked.to_dataframe(name=variable).reset_index()
    frame["point"] = points[frame["point"].to_numpy()]
    return (frame.rename(columns={"time": "date", "lon": "pixel_lon", "lat": "pixel_lat"})
            [["point", "date", "pixel_lon", "pixel_lat", variable]])


def coarse_average(ds: xr.Dataset, factor: int, min_valid: int = 1,
                   variable: str = "sm") -> xr.DataArray:
    """Average ``factor`` × ``factor`` pixels into one, ignoring NaN.

    Parameters
    ----------
    ds : xarray.Dataset
        On a regular lat/lon grid, e.g. from :func:`cropsm.io.readers.read_esa_cci`.
    factor : int
        Pixels per coarse pixel along each axis (2: 0.25° -> 0.5°).
    min_valid : int
        Coarse pixels with fewer valid fine pixels are NaN.
    """
    if factor < 1:
        raise ValueError(f"factor must be a positive integer, got {factor}.")
    data = ds[variable]
    coarse = data.coarsen(lat=factor, lon=factor, boundary="trim")
    count = coarse.count()
    return coarse.mean().where(count >= min_valid).assign_attrs(data.attrs)
