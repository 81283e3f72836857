"""Soil-moisture percentiles against a day-of-year climatology, and drought categories.

A day's soil moisture is ranked against the record of the same cell and time of year:
:func:`doy_thresholds` computes, with xclim's :func:`~xclim.core.calendar.percentile_doy`,
the soil moisture at each of :data:`PERCENTILES` for every day of the year from a
multi-year record (a moving window of days around each day of year, pooled over the
years); :func:`percentile_rank` places a value between them; :func:`drought_category`
turns the rank into the U.S. Drought Monitor's categories:

=====  ======================  ===========================
code   category                percentile ``p`` of the day
=====  ======================  ===========================
0      none                    p > 30
1      D0 abnormally dry       20 < p ≤ 30
2      D1 moderate drought     10 < p ≤ 20
3      D2 severe drought       5 < p ≤ 10
4      D3 extreme drought      2 < p ≤ 5
5      D4 exceptional drought  p ≤ 2
=====  ======================  ===========================

The bounds 30/20/10/5/2 are the USDM's percentile ranges for its categories
(Svoboda et al. 2002, *The Drought Monitor*, Bull. Amer. Meteor. Soc. 83(8),
1181–1190, Table 1). Categories are uint8 with :data:`CATEGORY_FILL` (255) where there
is no rank. These sit beside, not instead of, the GB/T 32136 grades of
:mod:`cropsm.analysis.drought`, which grade relative soil moisture, not its rarity.

The rank is linear between the stored percentiles; below the lowest it is half that
percentile (1 for 2) and above the highest it is half-way to 100 (99 for 98), so the
categories, whose bounds are all stored percentiles, are exact and the rank only
interpolates what lies between bounds. Where thresholds tie (a dry soil pinned at its
residual water content for weeks), a value on them ranks at the lowest tied percentile,
the category the direct comparison ``value <= threshold`` gives.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import NamedTuple

import numba
import numpy as np
import xarray as xr

from cropsm.analysis.drought import classes_by_bounds

__all__ = [
    "CATEGORY_FILL",
    "DROUGHT_CATEGORIES",
    "PERCENTILES",
    "WINDOW_DAYS",
    "DroughtCategory",
    "doy_thresholds",
    "drought_category",
    "percentile_rank",
    "percentile_rank_at",
    "percentile_rank_cells",
]

#: Percentiles kept per day of year (every category bound, and the median).
PERCENTILES: tuple[float, ...] = (2.0, 5.0, 10.0, 20.0, 30.0, 50.0, 70.0, 80.0, 90.0, 95.0,
                                  98.0)

#: Days of the moving window pooled around each day of year. Our choice, not a published
#: value: a month of days gives 25 years × 31 = 775 values per percentile, and soil
#: moisture's seasonal cycle moves little within a month.
WINDOW_DAYS = 31

CATEGORY_FILL = 255


class DroughtCategory(NamedTuple):
    """One percentile category: ``lower < p <= upper`` (``None``: unbounded)."""

    code: int
    name: str
    label: str
    lower: float | None
    upper: float | None


#: USDM categories by soil-moisture percentile (Svoboda et al. 2002, Table 1).
DROUGHT_CATEGORIES: tuple[DroughtCategory, ...] = (
    DroughtCategory(0, "none", "no drought", 30.0, None),
    DroughtCategory(1, "D0", "abnormally dry", 20.0, 30.0),
    DroughtCategory(2, "D1", "moderate drought", 10.0, 20.0),
    DroughtCategory(3, "D2", "severe drought", 5.0, 10.0),
    DroughtCategory(4, "D3", "extreme drought", 2.0, 5.0),
    DroughtCategory(5, "D4", "exceptional drought", None, 2.0),
)

_CATEGORY_ATTRS = {
    "long_name": "drought category by soil-moisture percentile (USDM, Svoboda et al. 2002)",
    "flag_values": [c.code for c in DROUGHT_CATEGORIES],
    "flag_meanings": " ".join(c.name for c in DROUGHT_CATEGORIES),
    "comment": f"{CATEGORY_FILL}: no percentile",
}


def doy_thresholds(record: xr.DataArray, per: Sequence[float] = PERCENTILES,
                   window: int = WINDOW_DAYS) -> xr.DataArray:
    """Soil moisture at each percentile of each day of year, from a daily record.

    A thin wrapper of :func:`xclim.core.calendar.percentile_doy` (Hyndman and Fan's
    method 8), which pools ``window`` days around each day of year over the record's
    years and skips missing values, so out-of-season days (NaN in the product) do not
    count, and a day of year with no value in its window has no thresholds. A record
    with leap years gets xclim's 366-day mapping: the percentiles of days 1–365
    interpolated onto 1–366.

    Parameters
    ----------
    record : xarray.DataArray
        Daily soil moisture (m³ m⁻³) with a ``time`` dimension, several years long, any
        other dimensions. Dask-backed input must have one chunk along ``time``.
    per : sequence of float
        Percentiles (0–100), ascending.
    window : int
        Days pooled around each day of year (odd).

    Returns
    -------
    xarray.DataArray
        float32, dimensions ``(dayofyear, percentiles, ...)`` with 366 days of year, units
        of ``record``; NaN where a cell has no value in the window.
    """
    from xclim.core.calendar import percentile_doy

    per = [float(p) for p in per]
    if sorted(per) != per or len(set(per)) != len(per):
        raise ValueError(f"percentiles must be strictly ascending, got {per}")
    if window < 1 or window % 2 == 0:
        raise ValueError(f"window must be a positive odd number of days, got {window}")
    record = record.astype("f4")
    record.attrs.setdefault("units", "m3 m-3")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN windows give NaN
        out = percentile_doy(record, window=window, per=per, copy=False)
    # percentile_doy maps a record with leap years onto 366 days by interpolating along
    # the days of year, which also fills days without any value (out of season)
    seen = (record.notnull().rolling(time=window, center=True, min_periods=1).max()
            .groupby("time.dayofyear").max().astype(bool))
    out = out.where(seen.reindex(dayofyear=out["dayofyear"], fill_value=False))
    dims = ("dayofyear", "percentiles", *[d for d in out.dims
                                         if d not in ("dayofyear", "percentiles")])
    # a record without leap years has 365 days of year; day 366 (31 December of a leap
    # year) takes day 365's thresholds
    out = out.transpose(*dims).astype("f4").reindex(dayofyear=np.arange(1, 367),
                                                    method="nearest")
    out.attrs = {"long_name": "soil moisture at each day-of-year percentile",
                 "units": record.attrs["units"], "window_days": window,
                 "method": "xclim.core.calendar.percentile_doy (Hyndman and Fan method 8)"}
    return out.rename("sm_percentile_threshold")


def _percentile_rank(values: np.ndarray, thresholds: np.ndarray, per: np.ndarray) -> np.ndarray:
    """Rank of ``values`` (...) against ``thresholds`` (P, ...), both broadcast."""
    values = np.asarray(values, dtype="f4")
    thresholds = np.asarray(thresholds, dtype="f4")
    per = np.asarray(per, dtype="f4")
    # values equal to a threshold rank at that percentile ('upper bound belongs to it')
    above = np.sum(values[None] > thresholds, axis=0)
    n = per.size
    lo = np.clip(above - 1, 0, n - 1)
    hi = np.clip(above, 0, n - 1)
    t_lo = np.take_along_axis(thresholds, lo[None], axis=0)[0]
    t_hi = np.take_along_axis(thresholds, hi[None], axis=0)[0]
    with np.errstate(invalid="ignore", divide="ignore"):
        step = np.where(t_hi > t_lo, (values - t_lo) / (t_hi - t_lo), 1.0)
    rank = per[lo] + np.clip(step, 0, 1) * (per[hi] - per[lo])
    rank = np.where(values < thresholds[0], per[0] / 2, rank)
    rank = np.where(above == n, (100 + per[-1]) / 2, rank)
    missing = np.isnan(values) | np.isnan(thresholds).any(axis=0)
    return np.where(missing, np.nan, rank).astype("f4")


def percentile_rank(values, thresholds, per: Sequence[float] = PERCENTILES):
    """Percentile (0–100) of ``values`` against per-cell percentile thresholds.

    Parameters
    ----------
    values : array_like or xarray.DataArray
        Soil moisture (m³ m⁻³), any shape.
    thresholds : array_like or xarray.DataArray
        Soil moisture at each of ``per``, with the percentiles first (numpy) or along a
        ``percentiles`` dimension (xarray), the rest broadcastable against ``values``;
        e.g. one day of year of :func:`doy_thresholds`.
    per : sequence of float
        The percentiles of ``thresholds``, ascending.

    Returns
    -------
    numpy.ndarray or xarray.DataArray
        float32 percentile, NaN where the value or a threshold is missing. A value equal
        to a threshold ranks at its percentile; see the module notes for the ends.
    """
    per_array = np.asarray(per, dtype="f4")
    if not isinstance(values, xr.DataArray) and not isinstance(thresholds, xr.DataArray):
        return _percentile_rank(values, thresholds, per_array)
    out = xr.apply_ufunc(
        lambda v, t: _percentile_rank(v, np.moveaxis(t, -1, 0), per_array),
        values, thresholds, input_core_dims=[[], ["percentiles"]],
        dask="parallelized", output_dtypes=[np.float32])
    out.attrs = {"long_name": "soil-moisture percentile against the day-of-year climatology",
                 "units": "%"}
    return out.rename("sm_percentile")


@numba.njit(cache=True, inline="always")
def _rank_one(v, thresholds, ry, rx, per):
    """Rank of one value against the record cell ``(ry, rx)``; NaN where either is missing."""
    n = per.size
    if np.isnan(v) or np.isnan(thresholds[0, ry, rx]):
        return np.float32(np.nan)
    if v < thresholds[0, ry, rx]:
        return np.float32(per[0] / 2)
    k = 0
    while k < n and v > thresholds[k, ry, rx]:
        k += 1
    if k == n:
        return np.float32((100 + per[n - 1]) / 2)
    hi = thresholds[k, ry, rx]
    lo = thresholds[max(k - 1, 0), ry, rx]
    step = (v - lo) / (hi - lo) if hi > lo else 1.0
    return np.float32(per[max(k - 1, 0)] + min(max(step, 0.0), 1.0) * (
        per[k] - per[max(k - 1, 0)]))


@numba.njit(parallel=True, cache=True)
def _rank_at(values, thresholds, iy, ix, per):
    ny, nx = values.shape
    out = np.empty((ny, nx), np.float32)
    for r in numba.prange(ny):
        for c in range(nx):
            out[r, c] = _rank_one(values[r, c], thresholds, iy[r], ix[c], per)
    return out


@numba.njit(parallel=True, cache=True)
def _rank_cells(values, thresholds, iy, ix, per):
    out = np.empty(values.size, np.float32)
    for k in numba.prange(values.size):
        out[k] = _rank_one(values[k], thresholds, iy[k], ix[k], per)
    return out


def percentile_rank_at(values: np.ndarray, thresholds: np.ndarray, iy: np.ndarray,
                       ix: np.ndarray, per: Sequence[float] = PERCENTILES) -> np.ndarray:
    """:func:`percentile_rank` of a 2-D window against thresholds looked up per cell.

    Cell ``(r, c)`` of ``values`` is ranked against ``thresholds[:, iy[r], ix[c]]``, in
    one compiled pass: gathering the thresholds of every cell first would allocate
    ``len(per)`` copies of the window.

    Parameters
    ----------
    values : numpy.ndarray
        (y, x) soil moisture (m³ m⁻³).
    thresholds : numpy.ndarray
        (percentile, ry, rx) thresholds of the record cells.
    iy, ix : numpy.ndarray of int
        Record row of each row and record column of each column of ``values``.
    per : sequence of float

    Returns
    -------
    numpy.ndarray
        float32 (y, x), NaN where the value or the record cell's thresholds are missing
        (a record cell has all its thresholds of a day or none).
    """
    return _rank_at(np.ascontiguousarray(values, dtype=np.float32),
                    np.ascontiguousarray(thresholds, dtype=np.float32),
                    np.asarray(iy, dtype=np.int64), np.asarray(ix, dtype=np.int64),
                    np.asarray(per, dtype=np.float32))


def percentile_rank_cells(values: np.ndarray, thresholds: np.ndarray, iy: np.ndarray,
                          ix: np.ndarray, per: Sequence[float] = PERCENTILES) -> np.ndarray:
    """:func:`percentile_rank_at` of scattered cells (value k against record cell iy[k], ix[k]).

    The same compiled rank as :func:`percentile_rank_at`, cell for cell, for a list of
    cells (e.g. a crop's cropland) rather than a window.

    Parameters
    ----------
    values : numpy.ndarray
        (cell,) soil moisture (m³ m⁻³).
    thresholds : numpy.ndarray
        (percentile, ry, rx) thresholds of the record cells.
    iy, ix : numpy.ndarray of int
        (cell,) record row and column of each cell.
    per : sequence of float

    Returns
    -------
    numpy.ndarray
        float32 (cell,), NaN where the value or the record cell's thresholds are missing.
    """
    return _rank_cells(np.ascontiguousarray(values, dtype=np.float32),
                       np.ascontiguousarray(thresholds, dtype=np.float32),
                       np.asarray(iy, dtype=np.int64), np.asarray(ix, dtype=np.int64),
                       np.asarray(per, dtype=np.float32))


def _drought_category(rank: np.ndarray) -> np.ndarray:
    return classes_by_bounds(rank, DROUGHT_CATEGORIES, CATEGORY_FILL)


def drought_category(rank):
    """Drought category codes (0 none, 1 D0 … 5 D4) from a percentile rank.

    Parameters
    ----------
    rank : array_like or xarray.DataArray
        Percentile (0–100), e.g. from :func:`percentile_rank`.

    Returns
    -------
    numpy.ndarray or xarray.DataArray
        uint8 codes, :data:`CATEGORY_FILL` where ``rank`` is NaN; a DataArray carries
        CF ``flag_values`` and ``flag_meanings``.
    """
    if not isinstance(rank, xr.DataArray):
        return _drought_category(rank)
    out = xr.apply_ufunc(_drought_category, rank, dask="parallelized",
                         output_dtypes=[np.uint8])
    out.attrs = dict(_CATEGORY_ATTRS)
    return out.rename("drought_category")
