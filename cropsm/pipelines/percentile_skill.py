"""Demo world: how well the product's percentile categories match the truth's own.

Two figures, both on the map year at the climate record's cells:

:func:`percentile_skill`
    The product's category (its SM ranked against the product's climatology) against
    the truth's category (the true SM ranked against the truth's own climatology, the
    same years, days and window), pixel-day by pixel-day
    (:func:`cropsm.analysis.category_skill.category_agreement`). The truth's record is
    re-simulated at the record cells (:func:`cropsm.demo.record.true_record`) and kept
    to the pixel-days the product record has, so both climatologies have the same
    support.
:func:`borrowing_error`
    What the reduced density costs: a 1 km cell takes its percentiles from its record
    cell. On the stored 1 km truth of the map year, each cell's day is ranked among its
    own season's days and among its record cell's, and the two categories compared.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from cropsm.analysis.category_skill import category_agreement
from cropsm.analysis.percentiles import (
    DROUGHT_CATEGORIES,
    PERCENTILES,
    doy_thresholds,
    drought_category,
    percentile_rank,
)
from cropsm.core import crops
from cropsm.core.grid import every_nth_cell
from cropsm.demo.record import true_record
from cropsm.io.catalog import CatalogError, open_catalog, product_store_path, read_entry
from cropsm.io.product import open_product
from cropsm.pipelines._common import entry_of
from cropsm.pipelines.climatology import open_climatology

__all__ = ["borrowing_error", "percentile_skill", "regional_drought_share"]


def _cells(da: xr.DataArray, rows: np.ndarray, cols: np.ndarray) -> xr.DataArray:
    return da.isel(y=xr.DataArray(rows, dims="cell"), x=xr.DataArray(cols, dims="cell"))


def _categories(values: np.ndarray, thresholds: np.ndarray, doys: np.ndarray,
                per=PERCENTILES) -> np.ndarray:
    """Categories of (day, cell) values against (dayofyear, percentile, cell) thresholds."""
    out = np.empty(values.shape, "u1")
    for t, doy in enumerate(doys):
        out[t] = drought_category(percentile_rank(values[t], thresholds[doy - 1], per))
    return out


def percentile_skill(catalog_path: str | Path, crop: str, depth: str, year: int
                     ) -> dict[str, object]:
    """Agreement of the product's and the truth's percentile categories in ``year``.

    Parameters
    ----------
    catalog_path : path
        A demo-world catalog with a climate record and its climatology whose years end
        before ``year``.
    crop, depth : str
    year : int
        The year scored (the map year); the record must hold it.

    Returns
    -------
    dict
        :func:`cropsm.analysis.category_skill.category_agreement` plus ``cells``,
        ``climatology_years`` and ``record_stride``.
    """
    cat = open_catalog(catalog_path)
    if "truth" not in cat.entries:
        raise CatalogError("Percentile skill needs the demo world's truth; this catalog has "
                           "none.")
    clim = open_climatology(product_store_path(cat, "climatology"))
    first, last = (int(v) for v in str(clim.attrs["years"]).split("-"))
    if year <= last:
        raise CatalogError(f"The climatology spans {first}-{last}; score a later year, so "
                           "the year ranked is not in its own climatology.")
    stride = int(clim.attrs["record_stride"])
    covariates = entry_of(cat, "covariates", xr.Dataset)
    weather = entry_of(cat, "covariates_daily", xr.Dataset)
    truth = true_record(covariates, weather, crop, depth, stride, f"{first}-01-01",
                        f"{year}-12-31")
    rows, cols = truth["row"].values, truth["col"].values
    record = open_product(product_store_path(cat, "soil_moisture_record"), "series",
                          dask=False)["sm"].sel(crop=crop, depth=depth,
                                                time=slice(f"{first}-01-01", f"{year}-12-31"))
    product = _cells(record, rows, cols).values.astype("f4")
    if product.shape != truth.shape:
        raise CatalogError(f"The record holds {product.shape[0]} days of {first}-{year}, the "
                           f"truth {truth.shape[0]}; extend the record over those years.")
    in_season = np.isfinite(product)
    true_values = np.where(in_season, truth.values, np.nan)
    times = pd.DatetimeIndex(truth["time"].values)
    climate = times.year <= last
    # the truth's climatology exactly as the product's was made
    per = [float(p) for p in clim["percentiles"].values]
    true_thresholds = doy_thresholds(xr.DataArray(
        true_values[climate], dims=("time", "cell"), coords={"time": times[climate]}),
        per=per, window=int(clim.attrs["window_days"])).values
    product_thresholds = _cells(clim["sm_threshold"].sel(crop=crop, depth=depth), rows,
                                cols).values  # (dayofyear, percentile, cell)
    scored = times.year == year
    doys = times[scored].day_of_year.to_numpy()
    predicted = _categories(product[scored], product_thresholds, doys, per)
    true = _categories(true_values[scored], true_thresholds, doys, per)
    out = category_agreement(predicted, true, len(DROUGHT_CATEGORIES))
    provinces = every_nth_cell(covariates["province"], stride).values[rows, cols]
    return {**out, "provinces": regional_drought_share(predicted, true, provinces),
            "cells": int(rows.size), "climatology_years": f"{first}-{last}",
            "record_stride": stride, "year": year, "product": f"{crop}/{depth}"}


def regional_drought_share(predicted: np.ndarray, true: np.ndarray, zones: np.ndarray,
                           drought_from: int = 2, min_cells: int = 50) -> dict[str, float]:
    """Daily share of each zone's cells in drought, product against truth.

    Parameters
    ----------
    predicted, true : numpy.ndarray
        (day, cell) category codes.
    zones : numpy.ndarray
        (cell,) zone (province) code of each cell; zones with fewer than ``min_cells``
        cells are left out.

    Returns
    -------
    dict
        ``r`` (Pearson, over all zone-days), ``mae`` (mean absolute difference of the
        share), ``r_within`` (the median over zones of each zone's r over its days: the
        day-to-day skill, without the differences between zones), ``zone_days``,
        ``zones``, and ``r_zone_means``: the twin of ``r``, the r of a share that is each
        zone's own mean true share of the year every day, an oracle of where drought is
        more common this year; the share a climatology expects is the same everywhere
        (20 % for D1+) and has no r at all.
    """
    n = len(DROUGHT_CATEGORIES)
    pairs, twins, within = [], [], []
    for zone in np.unique(zones):
        cells = zones == zone
        if cells.sum() < min_cells:
            continue
        graded = (predicted[:, cells] < n) & (true[:, cells] < n)
        days = graded.sum(axis=1) >= min_cells
        if not days.any():
            continue
        dry_p = ((predicted[:, cells] >= drought_from) & graded).sum(axis=1) / np.maximum(
            graded.sum(axis=1), 1)
        dry_t = ((true[:, cells] >= drought_from) & graded).sum(axis=1) / np.maximum(
            graded.sum(axis=1), 1)
        pairs.append(np.column_stack([dry_p[days], dry_t[days]]))
        twins.append(np.full(days.sum(), dry_t[days].mean()))
        if days.sum() > 2 and np.std(dry_p[days]) > 0 and np.std(dry_t[days]) > 0:
            within.append(np.corrcoef(dry_p[days], dry_t[days])[0, 1])
    if not pairs:
        raise ValueError(f"No zone has {min_cells} classified cells on any day.")
    both = np.concatenate(pairs)
    twin = np.concatenate(twins)
    with np.errstate(invalid="ignore", divide="ignore"):
        return {"r": float(np.corrcoef(both[:, 0], both[:, 1])[0, 1]),
                "mae": float(np.mean(np.abs(both[:, 0] - both[:, 1]))),
                "r_within": float(np.median(within)) if within else float("nan"),
                "r_zone_means": float(np.corrcoef(twin, both[:, 1])[0, 1]),
                "zone_days": int(len(both)), "zones": len(pairs)}


def borrowing_error(catalog_path: str | Path, crop: str, depth: str, stride: int,
                    n_cells: int = 20000, seed: int = 0) -> dict[str, object]:
    """Category agreement of a 1 km cell's own season distribution and its record cell's.

    On the stored truth (the map year, 1 km): for a random sample of the crop's 1 km
    cropland cells, each day of the crop's season is ranked among the cell's own season
    days and among its record cell's (the nearest cell of
    :func:`cropsm.core.grid.every_nth_cell`), both as percentiles cut into categories.

    Returns
    -------
    dict
        :func:`cropsm.analysis.category_skill.category_agreement` of borrowed against
        own, plus ``cells`` and ``record_stride``.
    """
    cat = open_catalog(catalog_path)
    truth = read_entry("truth", cat)["sm"].sel(crop=crop, depth=depth)
    cov = read_entry("covariates", cat)
    fraction = cov["crop_fraction"].sel(crop=crop).values
    ny, nx = fraction.shape
    start = stride // 2
    rr, cc = np.nonzero(fraction >= crops.CROPLAND_MIN_FRACTION)
    # the nearest record cell, as cropsm.pipelines.climatology maps 1 km cells
    record_r = np.clip(np.floor((rr - start) / stride + 0.5), 0, (ny - 1 - start) // stride)
    record_c = np.clip(np.floor((cc - start) / stride + 0.5), 0, (nx - 1 - start) // stride)
    own_r, own_c = start + record_r.astype(int) * stride, start + record_c.astype(int) * stride
    usable = fraction[own_r, own_c] >= crops.CROPLAND_MIN_FRACTION
    pick = np.random.default_rng(seed).choice(np.flatnonzero(usable),
                                              size=min(n_cells, int(usable.sum())),
                                              replace=False)
    times = pd.DatetimeIndex(truth["time"].values)
    sowing = cov["sowing"].sel(crop=crop).values
    eos = cov["eos"].sel(crop=crop).values
    mine = _cells(truth, rr[pick], cc[pick]).values
    theirs = _cells(truth, own_r[pick], own_c[pick]).values
    season = crops.in_season(crop, times, sowing[own_r[pick], own_c[pick]],
                             eos[own_r[pick], own_c[pick]])
    mine = np.where(season, mine, np.nan)
    theirs = np.where(season, theirs, np.nan)
    per = np.asarray(PERCENTILES)
    own_thresholds = np.nanpercentile(mine, per, axis=0, method="median_unbiased")
    their_thresholds = np.nanpercentile(theirs, per, axis=0, method="median_unbiased")
    own = drought_category(percentile_rank(mine, own_thresholds[:, None], PERCENTILES))
    borrowed = drought_category(percentile_rank(mine, their_thresholds[:, None], PERCENTILES))
    out = category_agreement(borrowed, own, len(DROUGHT_CATEGORIES))
    # cells whose nearest record cell lacks the crop borrow from farther (up to two
    # record cells away) in the product; they are not in this figure
    return {**out, "cells": int(pick.size), "record_stride": stride,
            "share_borrowing_farther": float(1 - usable.mean()),
            "product": f"{crop}/{depth}", "year": int(times[0].year)}
