"""A region's season from the product store: drought classes day by day, spells, years.

What the dashboard's season view and ``cropsm bulletin`` read. Each function reads the
region's window once through a :class:`~cropsm.pipelines.sources.CatalogReader`, ranks
each day's 1 km soil moisture against the climatology of its day of year, and returns
tables or arrays; the bulletin's files are written by :mod:`cropsm.pipelines.bulletin`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from cropsm.analysis.bulletin import class_shares, climatology_band
from cropsm.analysis.drought import DROUGHT_GRADES, GRADE_FILL, drought_grade, relative_sm
from cropsm.analysis.percentiles import (
    CATEGORY_FILL,
    DROUGHT_CATEGORIES,
    PERCENTILES,
    drought_category,
    percentile_rank_at,
)
from cropsm.analysis.spells import drought_spells
from cropsm.io.catalog import CatalogError
from cropsm.pipelines.climatology import climatology_window
from cropsm.pipelines.region import region_window
from cropsm.pipelines.sources import CatalogReader
from cropsm.serve.predict import cropland

__all__ = ["SCHEMES", "RegionSeason", "region_season", "region_years", "season_spells"]

#: Class schemes: name -> (class names, fill code).
SCHEMES: dict[str, tuple[tuple[str, ...], int]] = {
    "category": (tuple(c.name for c in DROUGHT_CATEGORIES), CATEGORY_FILL),
    "grade": (tuple(g.name for g in DROUGHT_GRADES), GRADE_FILL),
}


@dataclass(frozen=True)
class RegionSeason:
    """A region's daily classes over a period.

    Attributes
    ----------
    codes : xarray.DataArray
        (time, y, x) uint8 class codes of the scheme on the region's cropland, the fill
        elsewhere, with the window's grid coordinates.
    values : xarray.DataArray
        (time, y, x) what the classes are cut from: the percentile (%, scheme
        ``category``) or the relative soil moisture (%, scheme ``grade``); NaN off the
        region's cropland.
    weights : numpy.ndarray
        (y, x) crop area of each cell (km²): harvested fraction × cell area.
    shares : pandas.DataFrame
        Daily share of the region's graded crop area in each class (the bulletin chart).
    scheme : str
    provinces : numpy.ndarray
        (y, x) province adcode of each cell.
    """

    codes: xr.DataArray
    values: xr.DataArray
    weights: np.ndarray
    shares: pd.DataFrame
    scheme: str
    provinces: np.ndarray


def _days(reader: CatalogReader, start: Any, end: Any) -> pd.DatetimeIndex:
    dates = reader.dates()
    if len(dates) == 0:
        raise CatalogError("The product has no dates yet; run `cropsm predict` first.")
    start = pd.Timestamp(start) if start is not None else dates[0]
    end = pd.Timestamp(end) if end is not None else dates[-1]
    days = dates[(dates >= start) & (dates <= end)]
    if len(days) == 0:
        raise CatalogError(f"The product has no day from {start:%Y-%m-%d} to {end:%Y-%m-%d}; "
                           f"it holds {dates[0]:%Y-%m-%d}..{dates[-1]:%Y-%m-%d}. Predict "
                           "them with `cropsm predict --season YEAR`.")
    return days


def region_season(reader: CatalogReader, crop: str, depth: str, geometry: Any, china: Any,
                  start: Any = None, end: Any = None, scheme: str = "category"
                  ) -> RegionSeason:
    """Daily drought classes of a region's cropland from ``start`` to ``end``.

    Parameters
    ----------
    reader : CatalogReader
    crop, depth : str
    geometry : shapely geometry
        The region in lon/lat degrees.
    china : shapely geometry
        Mainland China's outline.
    start, end : date-like, optional
        Default: the product's first and last day.
    scheme : {"category", "grade"}
        Percentile categories against the climatology (D0–D4), or GB/T 32136 grades of
        relative soil moisture.

    Raises
    ------
    cropsm.core.regions.RegionError
        No region, or one off the grid or the crop's cropland.
    cropsm.io.catalog.CatalogError
        No product days in the period, or (``category``) no climatology.
    """
    if scheme not in SCHEMES:
        raise ValueError(f"Unknown scheme {scheme!r}; choose one of {', '.join(SCHEMES)}.")
    run = region_window(reader, crop, depth, geometry, china)
    days = _days(reader, start, end)
    cov = reader.dataset("covariates")[["crop_fraction", "fc", "province"]].isel(
        y=run.rows, x=run.cols).load()
    cells = cropland(cov, crop) & run.region
    weights = np.where(cells, cov["crop_fraction"].sel(crop=crop).values, 0.0) \
        * run.grid.cell_area_km2
    series = reader.product("series")["sm"].sel(crop=crop, depth=depth, time=days).isel(
        y=run.rows, x=run.cols)
    sm = np.where(cells[None], series.values, np.nan).astype("f4")
    names, fill = SCHEMES[scheme]
    if scheme == "grade":
        values = relative_sm(sm, cov["fc"].values[None])
        codes = drought_grade(values)
    else:
        x, y = series["x"].values, series["y"].values
        record, iy, ix = climatology_window(reader.climatology(), "sm_threshold", crop, depth,
                                            days, x, y)
        ranks = np.stack([percentile_rank_at(sm[t], record[t], iy, ix, PERCENTILES)
                          for t in range(len(days))])
        values, codes = ranks, drought_category(ranks)
    coords = {"time": days, "y": series["y"].values, "x": series["x"].values}
    codes_da = xr.DataArray(np.where(cells[None], codes, fill).astype("u1"),
                            dims=("time", "y", "x"), coords=coords, name=scheme)
    shares = class_shares(codes_da, names, weights)
    values_da = xr.DataArray(values, dims=("time", "y", "x"), coords=coords,
                             name="percentile" if scheme == "category" else "relative_sm",
                             attrs={"units": "%"})
    return RegionSeason(codes_da, values_da, weights, shares, scheme, cov["province"].values)


def season_spells(season: RegionSeason, min_category: int = 2) -> xr.Dataset:
    """Drought spells per pixel of a region's season (scheme ``category``)."""
    if season.scheme != "category":
        raise ValueError("Spells are counted on percentile categories (scheme 'category').")
    return drought_spells(season.codes, min_category=min_category)


def region_years(reader: CatalogReader, crop: str, depth: str, geometry: Any, china: Any,
                 year: int) -> pd.DataFrame:
    """A region's daily mean SM in ``year`` against the band of the record's other years.

    Reads the climate record (every Nth cell), so the comparison has the same cells in
    every year, the year included.

    Returns
    -------
    pandas.DataFrame
        Index ``dayofyear``: ``year`` (the year's regional mean, m³ m⁻³), ``q10``,
        ``q50``, ``q90`` (quantiles of the other years) and ``years``.
    """
    from cropsm.io.catalog import product_store_path
    from cropsm.io.product import open_product
    from cropsm.serve.engine import record_grid

    run = region_window(reader, crop, depth, geometry, china)
    record = open_product(product_store_path(reader.catalog, "soil_moisture_record"),
                          "series", dask=False)
    stride = int(record.attrs.get("record_stride", 1))
    cov = record_grid(reader.dataset("covariates")[["crop_fraction"]], stride)
    inside = xr.DataArray(run.region, dims=("y", "x"),
                          coords={"y": run.grid.y, "x": run.grid.x})
    x_in = (record["x"] >= run.grid.x.min()) & (record["x"] <= run.grid.x.max())
    y_in = (record["y"] >= run.grid.y.min()) & (record["y"] <= run.grid.y.max())
    window = record["sm"].sel(crop=crop, depth=depth).isel(x=np.flatnonzero(x_in.values),
                                                           y=np.flatnonzero(y_in.values))
    at = {"x": window["x"].values, "y": window["y"].values}
    mask = inside.sel(at, method="nearest").values & cropland(cov.sel(at), crop)
    if not mask.any():
        raise CatalogError("The region holds no cell of the climate record; draw a larger "
                           "region or use a record with a smaller --every.")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # days with no cell in season
        means = np.nanmean(window.values[:, mask], axis=1)
    times = pd.DatetimeIndex(window["time"].values)
    band = climatology_band(pd.Series(means, index=times), exclude_year=year)
    this = times.year == year
    band[str(year)] = pd.Series(means[this], index=times[this].day_of_year)
    return band
