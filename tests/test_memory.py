"""The memory indices of the CropSM method against plain reference computations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cropsm.core.grid import Grid, bilinear_sample
from cropsm.rf.features import FeatureError, grid_samples
from cropsm.rf.memory import (
    MEMORY_FEATURES,
    MemoryParams,
    memory_at,
    truncated_api,
    window_sums,
)


def test_truncated_api_is_the_weighted_sum_of_the_days_before():
    rain = np.random.default_rng(0).gamma(0.3, 8.0, size=(400, 3))
    out = truncated_api(rain, 0.9, 60)
    assert np.isnan(out[:60]).all()
    for d in (60, 61, 250, 399):
        expected = sum(0.9 ** (i - 1) * rain[d - i] for i in range(1, 61))
        np.testing.assert_allclose(out[d], expected, rtol=1e-10)


def test_window_sums_equal_pandas_rolling_sums_of_the_days_before():
    rain = np.random.default_rng(1).gamma(0.3, 8.0, size=(200, 2))
    expected = pd.DataFrame(rain).rolling(30).sum().shift(1).to_numpy()
    np.testing.assert_allclose(window_sums(rain, 30), expected, rtol=1e-10)


def test_scaled_params_move_every_time_constant():
    low, high = MemoryParams().scaled(0.7), MemoryParams().scaled(1.3)
    assert (low.fast_days, low.slow_days, low.short_days, low.long_days) == (3.5, 14.0, 21, 63)
    assert (high.fast_days, high.long_days, high.lookback_days) == (6.5, 117, 365)
    assert high.reach_days == 365


@pytest.fixture(scope="module")
def world(tiny_entries):
    cov, daily = tiny_entries["covariates"], tiny_entries["covariates_daily"]
    return Grid.from_coords(cov["x"].values, cov["y"].values), cov.load(), daily.load()


def _days(daily, first, n):
    start = pd.Timestamp(daily["time"].values[0]) + pd.Timedelta(days=first)
    return pd.date_range(start, periods=n)


def test_station_indices_equal_the_grid_indices_at_its_pixel(world):
    grid, cov, daily = world
    days = _days(daily, 400, 3)
    rows, cols, dates = grid_samples(np.ones(grid.shape, bool), days)
    whole = memory_at(cov, daily, rows, cols, dates, "maize")
    assert list(whole.columns) == list(MEMORY_FEATURES)
    assert not whole.isna().any().any()
    for k in (0, 5, len(dates) // 2, len(dates) - 1):
        one = memory_at(cov, daily, rows[k:k + 1], cols[k:k + 1], dates[k:k + 1], "maize")
        np.testing.assert_allclose(one.to_numpy(), whole.iloc[k:k + 1].to_numpy(),
                                   rtol=1e-5, atol=1e-3)


def test_indices_follow_their_definitions_at_one_cell(world):
    grid, cov, daily = world
    row, col = grid.shape[0] // 2, grid.shape[1] // 3
    date = _days(daily, 500, 1)[0]
    got = memory_at(cov, daily, [row], [col], [date], "wheat").iloc[0]
    lon, lat = grid.rowcol_to_lonlat(np.array([row]), np.array([col]))
    rain = bilinear_sample(daily["pre"].sel(time=slice(date - pd.Timedelta(days=365),
                                                       date - pd.Timedelta(days=1))).values,
                           daily["lat"].values, daily["lon"].values, lat, lon)[:, 0]
    before = rain[::-1]  # the day before first
    np.testing.assert_allclose(got["pre30"], before[:30].sum(), rtol=1e-5)
    np.testing.assert_allclose(got["pre90"], before[:90].sum(), rtol=1e-5)
    weights = np.exp(-np.arange(365) / 20.0)
    np.testing.assert_allclose(got["api_slow"], (weights * before).sum(), rtol=1e-4)
    pet = []  # PET of each of the 90 days, the month's PET spread over its days
    for day in pd.date_range(date - pd.Timedelta(days=90), periods=90):
        factor = bilinear_sample(daily["pet_factor"].sel(month_start=day.replace(day=1)).values,
                                 daily["lat"].values, daily["lon"].values, lat, lon)[0]
        pet.append(cov["pet"].values[day.month - 1, row, col] * factor / day.days_in_month)
    np.testing.assert_allclose(got["pet90"], np.sum(pet), rtol=1e-4)
    np.testing.assert_allclose(got["balance90"], got["pre90"] - got["pet90"], rtol=1e-5)
    sowing = cov["sowing"].sel(crop="wheat").values[row, col]
    assert got["day_of_season"] == (date.day_of_year - sowing) % 365


def test_a_date_without_a_year_of_rain_before_it_is_refused(world):
    grid, cov, daily = world
    first = pd.Timestamp(daily["time"].values[0])
    with pytest.raises(FeatureError, match="memory indices need"):
        memory_at(cov, daily, [0], [0], [first + pd.Timedelta(days=100)], "maize")
