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
from cropsm.analysis.trends import sen_mann_kendall
from cropsm.core.errors import CropSMError
from cropsm.core.grid import every_nth_cell
from cropsm.io.catalog import CatalogError, product_store_path
from cropsm.io.product import open_product
from cropsm.pipelines.climatology import climatology_window
from cropsm.pipelines.region import region_window
from cropsm.pipelines.sources import CatalogReader
from cropsm.pipelines.trends import regional_trend, whole_year_means
from cropsm.serve.predict import cropland

__all__ = ["SCHEMES", "RegionSeason", "record_window", "record_years", "region_season",
           "region_trends", "region_years", "season_spells"]

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


def _days(dates: pd.DatetimeIndex, start: Any, end: Any, what: str = "The product",
          command: str = "cropsm predict --season YEAR") -> pd.DatetimeIndex:
    """The days of ``dates`` from ``start`` to ``end`` (default: all), or a CatalogError."""
    if len(dates) == 0:
        raise CatalogError(f"{what} has no dates yet; run `cropsm predict` first.")
    start = pd.Timestamp(start) if start is not None else dates[0]
    end = pd.Timestamp(end) if end is not None else dates[-1]
    days = dates[(dates >= start) & (dates <= end)]
    if len(days) == 0:
        raise CatalogError(f"{what} has no day from {start:%Y-%m-%d} to {end:%Y-%m-%d}; "
                           f"it holds {dates[0]:%Y-%m-%d}..{dates[-1]:%Y-%m-%d}. Predict "
                           f"them with `{command}`.")
    return days


def _record_source(reader: CatalogReader, crop: str, depth: str, geometry: Any, china: Any,
                   start: Any, end: Any
                   ) -> tuple[xr.DataArray, np.ndarray, xr.Dataset, float]:
    """The record's SM of the days, the region's cells, their covariates and cell area."""
    window, mask = record_window(reader, crop, depth, geometry, china)
    stride = int(window.attrs["record_stride"])
    cov = every_nth_cell(reader.dataset("covariates")[["crop_fraction", "fc", "province"]],
                         stride).sel(x=window["x"].values, y=window["y"].values).load()
    held = pd.DatetimeIndex(window["time"].values)
    days = _days(held, start, end, "The climate record",
                 "cropsm predict --years FIRST-LAST --every N")
    return window.sel(time=days), mask, cov, reader.grid.cell_area_km2 * stride**2


def region_season(reader: CatalogReader, crop: str, depth: str, geometry: Any, china: Any,
                  start: Any = None, end: Any = None, scheme: str = "category",
                  density: str = "1km") -> RegionSeason:
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
    density : {"1km", "record"}
        Every 1 km cell of the product, or the climate record's cells (every Nth), each
        standing for its N × N km²: the same model's values on a sample of the cells,
        far less to read for a province's season (BENCHMARKS.md gives the speed,
        ``docs/time-depth.md`` the difference in the shares). The days are then the
        record's from ``start`` to ``end`` (default: all).

    Raises
    ------
    cropsm.core.regions.RegionError
        No region, or one off the grid or the crop's cropland.
    cropsm.io.catalog.CatalogError
        No product days in the period, (``category``) no climatology, or (``record``) a
        record without those days.
    """
    if scheme not in SCHEMES:
        raise ValueError(f"Unknown scheme {scheme!r}; choose one of {', '.join(SCHEMES)}.")
    if density not in ("1km", "record"):
        raise ValueError(f"density is '1km' or 'record', got {density!r}")
    if density == "record":
        series, region, cov, area = _record_source(reader, crop, depth, geometry, china,
                                                   start, end)
        days = pd.DatetimeIndex(series["time"].values)
    else:
        days = _days(reader.dates(), start, end)
        run = region_window(reader, crop, depth, geometry, china)
        cov = reader.dataset("covariates")[["crop_fraction", "fc", "province"]].isel(
            y=run.rows, x=run.cols).load()
        series = reader.product("series")["sm"].sel(crop=crop, depth=depth, time=days).isel(
            y=run.rows, x=run.cols)
        region, area = run.region, run.grid.cell_area_km2
    cells = cropland(cov, crop) & region
    weights = np.where(cells, cov["crop_fraction"].sel(crop=crop).values, 0.0) * area
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


def record_window(reader: CatalogReader, crop: str, depth: str, geometry: Any, china: Any
                  ) -> tuple[xr.DataArray, np.ndarray]:
    """The climate record over a region: its window's SM and the region's cropland cells.

    Returns the (time, y, x) SM of the record cells in the region's window and a (y, x)
    mask of those in the region with the crop.

    Raises
    ------
    cropsm.io.catalog.CatalogError
        No record, or no record cell in the region.
    """
    run = region_window(reader, crop, depth, geometry, china)
    path = product_store_path(reader.catalog, "soil_moisture_record")
    stride = int(open_product(path, dask=False).attrs.get("record_stride", 1))
    record = open_product(path, "series", dask=False)
    cov = every_nth_cell(reader.dataset("covariates")[["crop_fraction"]], stride)
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
    return window.assign_attrs(record_stride=stride), mask


def region_years(reader: CatalogReader, crop: str, depth: str, geometry: Any, china: Any,
                 year: int, other: int | None = None) -> pd.DataFrame:
    """A region's daily mean SM in ``year`` against the band of the record's other years.

    Reads the climate record (every Nth cell), so the comparison has the same cells in
    every year, the year included.

    Parameters
    ----------
    year : int
        The year shown.
    other : int, optional
        Another year of the record to show beside it.

    Returns
    -------
    pandas.DataFrame
        Index ``dayofyear``: ``year`` (the year's regional mean, m³ m⁻³), ``q10``,
        ``q50``, ``q90`` (quantiles of the other years), ``years``, and the ``other``
        year's regional mean if asked for.
    """
    window, mask = record_window(reader, crop, depth, geometry, china)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # days with no cell in season
        means = np.nanmean(window.values[:, mask], axis=1)
    times = pd.DatetimeIndex(window["time"].values)
    band = climatology_band(pd.Series(means, index=times), exclude_year=year)
    for shown in (year, other):
        if shown is None:
            continue
        this = times.year == shown
        if not this.any():
            raise CatalogError(f"The climate record has no {shown}; it holds "
                               f"{times[0].year}-{times[-1].year}.")
        band[str(shown)] = pd.Series(means[this], index=times[this].day_of_year)
    return band


def record_years(reader: CatalogReader) -> list[int]:
    """Years the climate record holds (empty without one)."""
    try:
        record = open_product(product_store_path(reader.catalog, "soil_moisture_record"),
                              dask=False)
    except CropSMError:
        return []
    return sorted({int(y) for y in pd.DatetimeIndex(record["time"].values).year})


def region_trends(reader: CatalogReader, crop: str, depth: str, geometry: Any, china: Any
                  ) -> tuple[xr.Dataset, dict[str, Any]]:
    """Sen's slope and Mann-Kendall of each year's mean SM: per record cell, and regional.

    Returns
    -------
    maps : xarray.Dataset
        :func:`cropsm.analysis.trends.sen_mann_kendall` per record cell of the region's
        window, NaN off the region's cropland.
    regional : dict
        :func:`cropsm.pipelines.trends.regional_trend` of the region's mean.
    """
    window, mask = record_window(reader, crop, depth, geometry, china)
    yearly = whole_year_means(window)
    maps = sen_mann_kendall(yearly.where(xr.DataArray(mask, dims=("y", "x"))), dim="year")
    return maps, regional_trend(yearly, mask)
