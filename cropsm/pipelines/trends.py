"""``cropsm trends``: Sen's slope and Mann-Kendall per record cell, and for a region.

Liu et al. (2021, Figs. 2-3) map the trend of each year's mean soil moisture. Here the
yearly value is the mean over the days the product has in the year (the crop's season,
or the months asked for), on the climate record's cells; the trend is
:func:`cropsm.analysis.trends.sen_mann_kendall`.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from cropsm.analysis.trends import MIN_YEARS, sen_mann_kendall
from cropsm.io.catalog import CatalogError, open_catalog, product_store_path
from cropsm.io.product import open_product

__all__ = ["record_trends", "regional_trend", "whole_year_means", "yearly_means"]


def whole_year_means(sm: xr.DataArray, months: Sequence[int] | None = None) -> xr.DataArray:
    """Each whole year's mean of a daily (time, ...) record, over ``months`` if given.

    Raises
    ------
    cropsm.io.catalog.CatalogError
        Fewer than :data:`cropsm.analysis.trends.MIN_YEARS` whole years.
    """
    times = pd.DatetimeIndex(sm["time"].values)
    years, counts = np.unique(times.year, return_counts=True)
    whole = [int(y) for y, n in zip(years, counts, strict=True) if n >= 365]
    if len(whole) < MIN_YEARS:
        raise CatalogError(f"The climate record holds {len(whole)} whole years; a trend "
                           f"needs at least {MIN_YEARS}. Extend it with `cropsm predict "
                           "--years FIRST-LAST --every N`.")
    keep = times.year.isin(whole)
    if months is not None:
        keep &= times.month.isin(list(months))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # cells never in season
        out = sm.isel(time=np.flatnonzero(keep)).groupby("time.year").mean("time")
    out.attrs = {"units": "m3 m-3",
                 "long_name": "yearly mean soil moisture over the days predicted"}
    return out.rename("sm")


def yearly_means(catalog_path: str | Path, crop: str, depth: str,
                 months: Sequence[int] | None = None) -> xr.DataArray:
    """Each whole year's mean SM per record cell of the catalog's climate record."""
    cat = open_catalog(catalog_path)
    record = open_product(product_store_path(cat, "soil_moisture_record"), "series")
    return whole_year_means(record["sm"].sel(crop=crop, depth=depth), months)


def record_trends(catalog_path: str | Path, crop: str, depth: str,
                  months: Sequence[int] | None = None, alpha: float = 0.05) -> xr.Dataset:
    """Trend maps of the record: Sen's slope (m³ m⁻³ per year), S, z, p, significance."""
    yearly = yearly_means(catalog_path, crop, depth, months).load()
    out = sen_mann_kendall(yearly, dim="year", alpha=alpha)
    out.attrs.update(crop=crop, depth=depth,
                     months="all" if months is None else ",".join(map(str, months)))
    return out


def regional_trend(yearly: xr.DataArray, mask: np.ndarray, alpha: float = 0.05
                   ) -> dict[str, Any]:
    """The trend of a region's mean over its record cells (``mask`` on the record grid)."""
    regional = yearly.where(xr.DataArray(mask, dims=("y", "x"))).mean(("y", "x"))
    out = sen_mann_kendall(regional, dim="year", alpha=alpha)
    return {name: float(out[name]) for name in ("slope", "z", "p")} | {
        "significant": bool(out["significant"]), "years": out.attrs["period"]}
