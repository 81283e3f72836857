"""Soil-moisture memory from the inputs a user has: antecedent rain, PET and the season.

The paper's forest sees the rain of the last 10 days (``pre10``); soil moisture
remembers for months. These indices give a model that memory, from the same daily rain,
monthly PET and crop calendar, with **generic** constants and a structure unlike the
demo world's soil-water balance (which has five layers, soil-specific parameters, crops
and irrigation): linear filters of rain on the weather grid and sums of PET.

* ``api_fast``, ``api_slow`` (mm): antecedent precipitation indices, ``sum_i k**(i-1)
  P(d - i)`` over the ``lookback_days`` before day ``d`` (Kohler & Linsley 1951). An
  exponential filter of rain has the form of the soil-water index of Wagner et al.
  (1999) with characteristic time ``T = -1 / ln k``; the defaults T = 5 and 20 days are
  two of the T values of the Copernicus Global Land SWI product (1 to 100 days).
* ``pre30``, ``pre90`` (mm): rain of the 30 and 90 days before ``d``, the 1- and 3-month
  scales of the SPI (McKee et al. 1993).
* ``pet30``, ``pet90`` (mm): PET of the same days, the year's monthly PET (the features'
  ``pet``) spread evenly over each month's days.
* ``balance90`` (mm): ``pre90 - pet90``, the climatic water balance of the SPEI
  (Vicente-Serrano et al. 2010) over 90 days.
* ``day_of_season`` (days): days since the pixel's sowing day.

Rain indices are linear in rain, so they are computed on the weather grid and
interpolated bilinearly to the cell, for stations and grids alike: a station's indices
equal the grid's at its pixel by construction (to float rounding). The paper's ``pre``
and ``pre10`` interpolate each day's rain with
:func:`cropsm.core.grid.intermittent_sample` instead, which keeps wet and dry days
apart; the two differ at a cell (``pre30`` can be below ``pre10`` near a rain edge),
which a forest takes as it comes. The filter is
truncated at ``lookback_days``, so an index depends on that many days before the date and
nothing else: no spin-up, no state.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import xarray as xr
from scipy.signal import lfilter

from cropsm.core.grid import bilinear_weights
from cropsm.rf.features import FeatureError, monthly_at_pixels, sample_pixels

__all__ = ["MEMORY_FEATURES", "MemoryParams", "memory_at", "rain_indices", "truncated_api",
           "window_sums"]

#: The memory indices, in order (see the module docstring for each).
MEMORY_FEATURES: tuple[str, ...] = ("api_fast", "api_slow", "pre30", "pre90", "pet30",
                                    "pet90", "balance90", "day_of_season")


@dataclass(frozen=True)
class MemoryParams:
    """Constants of the memory indices: generic, not fitted to any world.

    Attributes
    ----------
    fast_days, slow_days : float
        Characteristic times T (days) of the two antecedent precipitation indices; the
        decay per day is ``exp(-1 / T)``.
    short_days, long_days : int
        Windows (days) of the rain and PET sums.
    lookback_days : int
        Days the API filters look back (they are truncated there).
    """

    fast_days: float = 5.0
    slow_days: float = 20.0
    short_days: int = 30
    long_days: int = 90
    lookback_days: int = 365

    def scaled(self, factor: float) -> MemoryParams:
        """Every time constant and window times ``factor`` (a ±30 % robustness check)."""
        return replace(self, fast_days=self.fast_days * factor,
                       slow_days=self.slow_days * factor,
                       short_days=max(1, round(self.short_days * factor)),
                       long_days=max(1, round(self.long_days * factor)))

    @property
    def reach_days(self) -> int:
        """Days before a sample's date that its indices read."""
        return max(self.lookback_days, self.long_days)


def truncated_api(rain: np.ndarray, decay: float, lookback: int) -> np.ndarray:
    """Antecedent precipitation index of every day from the ``lookback`` days before it.

    Parameters
    ----------
    rain : numpy.ndarray
        Daily rain (mm), time on axis 0.
    decay : float
        Weight kept per day, 0 < decay < 1.
    lookback : int
        Days summed.

    Returns
    -------
    numpy.ndarray of float64
        Same shape; ``out[d] = sum_{i=1..lookback} decay**(i-1) rain[d-i]``, NaN where
        ``d < lookback``.
    """
    full = lfilter([0.0, 1.0], [1.0, -decay], np.asarray(rain, "f8"), axis=0)
    out = np.full(full.shape, np.nan)
    out[lookback:] = full[lookback:] - decay ** lookback * full[:-lookback]
    return out


def window_sums(values: np.ndarray, days: int) -> np.ndarray:
    """Sum of the ``days`` values before each day (time on axis 0); NaN where too early."""
    csum = np.concatenate([np.zeros((1, *values.shape[1:])),
                           np.cumsum(values, axis=0, dtype="f8")])
    out = np.full(values.shape, np.nan)
    out[days:] = csum[days:-1] - csum[:-days - 1]
    return out


def _rain_window(daily: xr.Dataset, first: pd.Timestamp, last: pd.Timestamp,
                 lat_index: np.ndarray, lon_index: np.ndarray) -> np.ndarray:
    """Daily rain (days, cells) at weather cells.

    Only the box around the cells is read, a year at a time, so a small window reads
    little and a long record never holds more than a year of the box at once.
    """
    have = pd.DatetimeIndex(daily["time"].values)
    if first < have[0] or last > have[-1]:
        raise FeatureError(
            f"Daily rain covers {have[0]:%Y-%m-%d}..{have[-1]:%Y-%m-%d}, but the memory "
            f"indices need {first:%Y-%m-%d}..{last:%Y-%m-%d} (they look back over the "
            "days before each sample); choose later dates or add earlier rain.")
    start, stop = int(have.searchsorted(first)), int(have.searchsorted(last)) + 1
    i0, j0 = int(lat_index.min()), int(lon_index.min())
    box = daily["pre"].isel(lat=slice(i0, int(lat_index.max()) + 1),
                            lon=slice(j0, int(lon_index.max()) + 1))
    parts = []
    for block in range(start, stop, 366):
        values = box.isel(time=slice(block, min(block + 366, stop))).values
        parts.append(np.asarray(values, "f4")[:, lat_index - i0, lon_index - j0])
    return np.concatenate(parts)


def rain_indices(daily: xr.Dataset, lat, lon, days: pd.DatetimeIndex,
                 params: MemoryParams = MemoryParams()) -> dict[str, np.ndarray]:
    """The rain indices at cells on days: computed on weather cells, interpolated bilinearly.

    Parameters
    ----------
    daily : xarray.Dataset
        Daily ``pre`` (mm day⁻¹; time, lat, lon; lat and lon ascending).
    lat, lon : numpy.ndarray
        Cell centres (degrees).
    days : pandas.DatetimeIndex
        The days (distinct, ascending).

    Returns
    -------
    dict of str to numpy.ndarray of float32
        ``api_fast``, ``api_slow``, ``pre30`` and ``pre90`` (mm), each (days, cells).
    """
    i0, j0, wi, wj = bilinear_weights(daily["lat"].values, daily["lon"].values, lat, lon)
    nlon = daily.sizes["lon"]
    corners = [(i0, j0), (i0, j0 + 1), (i0 + 1, j0), (i0 + 1, j0 + 1)]
    weights = [(1 - wi) * (1 - wj), (1 - wi) * wj, wi * (1 - wj), wi * wj]
    cells, position = np.unique(np.concatenate([i * nlon + j for i, j in corners]),
                                return_inverse=True)
    position = position.reshape(4, -1)
    first = days.min() - pd.Timedelta(days=params.reach_days)
    rain = _rain_window(daily, first, days.max(), cells // nlon, cells % nlon)
    if np.isnan(rain).any():
        # a filter carries a gap into every later day: refuse rather than spread it
        missing = pd.date_range(first, days.max())[np.isnan(rain).any(axis=1)]
        raise FeatureError(f"Daily rain has missing values on {len(missing)} day(s) the memory "
                           f"indices need (first {missing[0]:%Y-%m-%d}); fill them in the "
                           "daily covariates.")
    day = (days - first).days.to_numpy()
    fields = {
        "api_fast": truncated_api(rain, np.exp(-1 / params.fast_days), params.lookback_days),
        "api_slow": truncated_api(rain, np.exp(-1 / params.slow_days), params.lookback_days),
        "pre30": window_sums(rain, params.short_days),
        "pre90": window_sums(rain, params.long_days),
    }
    out = {}
    for name, field in fields.items():
        on_days = field[day]
        out[name] = sum(w * on_days[:, p] for w, p in zip(weights, position, strict=True)
                        ).astype("f4")
    return out


#: Largest (days × cells) block :func:`memory_at` computes at once.
_BLOCK_VALUES = 8_000_000


def memory_at(covariates: xr.Dataset, daily: xr.Dataset, rows, cols, dates, crop: str,
              params: MemoryParams = MemoryParams()) -> pd.DataFrame:
    """The memory indices (:data:`MEMORY_FEATURES`) of samples at grid cells and dates.

    The indices are computed for every distinct cell on every distinct day of the
    samples (in blocks of days), then read out per sample: a grid window costs its cells
    times its days, a table of station visits its stations times its visit days.

    Parameters
    ----------
    covariates : xarray.Dataset
        Static covariates on the grid with ``pet`` (month, y, x; mm month⁻¹) and
        ``sowing`` (crop, y, x; day of year).
    daily : xarray.Dataset
        Daily ``pre`` and monthly ``pet_factor`` (see :func:`cropsm.rf.features.features_at`),
        from ``params.reach_days`` before the first date.
    rows, cols : array_like of int
        Cell of each sample.
    dates : array_like of datetime64
        Date of each sample.
    crop : str
        Whose sowing day starts the season.
    params : MemoryParams
        Generic by default.

    Returns
    -------
    pandas.DataFrame
        One row per sample, columns :data:`MEMORY_FEATURES`, float32.
    """
    rows = np.asarray(rows, dtype="i8")
    cols = np.asarray(cols, dtype="i8")
    dates = pd.DatetimeIndex(dates).normalize()
    if len(dates) == 0:
        return pd.DataFrame({f: np.array([], "f4") for f in MEMORY_FEATURES})
    for name in ("pet", "sowing"):
        if name not in covariates:
            raise FeatureError(f"Covariates missing for the memory indices: {name}.")
    at, inverse, lon, lat = sample_pixels(covariates, rows, cols)
    codes, distinct = pd.factorize(dates.values)  # hashing: linear in the samples
    order = np.argsort(distinct)
    days = pd.DatetimeIndex(distinct[order])
    day_of = np.argsort(order)[codes]
    pet_clim = np.asarray(covariates["pet"].isel(at).values, "f8")  # (month, cell)
    out = {name: np.empty(len(dates), "f4") for name in MEMORY_FEATURES}
    per_block = max(1, _BLOCK_VALUES // len(lat))
    for start in range(0, len(days), per_block):
        block = days[start:start + per_block]
        fields = rain_indices(daily, lat, lon, block, params)
        for name, window in (("pet30", params.short_days), ("pet90", params.long_days)):
            fields[name] = _pet_before(daily, pet_clim, lat, lon, block, window)
        mine = (day_of >= start) & (day_of < start + len(block))
        pick = (day_of[mine] - start, inverse[mine])
        for name, field in fields.items():
            out[name][mine] = field[pick]
    out["balance90"] = out["pre90"] - out["pet90"]
    sowing = np.asarray(covariates["sowing"].sel(crop=crop).isel(at).values, "f8")[inverse]
    out["day_of_season"] = np.mod(dates.day_of_year.to_numpy() - sowing, 365).astype("f4")
    return pd.DataFrame(out, columns=list(MEMORY_FEATURES))


def _pet_before(daily: xr.Dataset, pet_clim: np.ndarray, lat, lon, days: pd.DatetimeIndex,
                window: int) -> np.ndarray:
    """PET (mm) of the ``window`` days before each day, at cells: (days, cells).

    Each month's PET (climatology times the year-month's ``pet_factor``) is spread evenly
    over its days; a window covers at most ``window // 28 + 2`` months.
    """
    end = days - pd.Timedelta(days=1)  # the last day counted
    start = days - pd.Timedelta(days=window)
    month = start.to_period("M").to_timestamp()
    needed = pd.date_range(month.min(), end.max(), freq="MS")
    factor, _ = monthly_at_pixels(daily, "pet_factor", lat, lon, needed)  # (month, cell)
    total = np.zeros((len(days), len(lat)))
    for _ in range(window // 28 + 2):
        month_end = month + pd.offsets.MonthEnd(0)
        low = np.maximum(start.values, month.values)
        high = np.minimum(end.values, month_end.values)
        overlap = ((high - low) / np.timedelta64(1, "D")).astype("f8") + 1
        if not (overlap > 0).any():
            break
        index = needed.get_indexer(month)
        rate = (pet_clim[month.month.to_numpy() - 1] * factor[index]
                / month.days_in_month.to_numpy()[:, None])
        total += np.clip(overlap, 0, None)[:, None] * rate
        month = month + pd.offsets.MonthBegin(1)
    return total
