"""Year-varying monthly temperature and PET: anomalies, PET factor and the features using them.

None of these tests builds the demo world: the features run on small synthetic
covariates and daily stores.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from cropsm.core.grid import bilinear_sample, china_grid, lonlat_to_xy
from cropsm.demo import climate
from cropsm.io.assets import read_ghcn_daily
from cropsm.nn import network
from cropsm.rf.features import FeatureError, features_at, grid_samples


@pytest.fixture(scope="module")
def beijing_sd():
    ghcn = read_ghcn_daily()
    return climate.monthly_anomaly_sd(ghcn["tmax"], ghcn["tmin"])


# -- the real anomaly size ---------------------------------------------------------------

def test_monthly_anomaly_sd_of_beijing_is_plausible(beijing_sd):
    assert beijing_sd.shape == (12,)
    assert np.all((beijing_sd > 0.3) & (beijing_sd < 3.0))
    # winter months vary more from year to year than summer months
    assert beijing_sd[[0, 1, 11]].mean() > beijing_sd[[5, 6, 7]].mean()


def test_monthly_anomaly_sd_skips_months_with_too_few_days():
    days = pd.date_range("2001-01-01", "2010-12-31")
    warm = pd.Series(np.where(days.year % 2 == 0, 1.0, -1.0), index=days)  # +-1 K by year
    tmax, tmin = warm + 5.0, warm - 5.0
    sd = climate.monthly_anomaly_sd(tmax, tmin, years=(2001, 2010))
    np.testing.assert_allclose(sd, np.std([1.0, -1.0] * 5, ddof=1))
    # a January of 20 valid days with a wild mean does not count
    gap = (days.year == 2004) & (days.month == 1) & (days.day > 20)
    tmax[gap] = np.nan
    tmax[(days.year == 2004) & (days.month == 1) & ~gap] = 50.0
    sd_gap = climate.monthly_anomaly_sd(tmax, tmin, years=(2001, 2010))
    assert sd_gap[0] == pytest.approx(np.std([1.0, -1.0] * 4 + [-1.0], ddof=1))
    with pytest.raises(ValueError, match="fewer than five years"):
        climate.monthly_anomaly_sd(tmax, tmin, years=(2001, 2003))


# -- synthetic anomalies ---------------------------------------------------------------

POINTS_LON = np.array([116.0, 116.0, 110.0, 110.0, 88.0, 125.0])
POINTS_LAT = np.array([39.5, 40.4, 22.0, 49.0, 43.0, 30.0])
LONG_RUN = pd.date_range("1901-01-01", "2100-12-01", freq="MS")  # 200 years


@pytest.fixture(scope="module")
def long_run(beijing_sd):
    return climate.temperature_anomalies(3, POINTS_LON, POINTS_LAT, LONG_RUN, beijing_sd)


def test_anomaly_sd_by_calendar_month_follows_ghcn(long_run, beijing_sd):
    assert long_run.shape == (len(LONG_RUN), POINTS_LON.size) and long_run.dtype == np.float32
    month = LONG_RUN.month.to_numpy() - 1
    sd = np.stack([long_run[month == m].std(axis=0, ddof=1) for m in range(12)])  # (12, point)
    np.testing.assert_allclose(sd[:, 0], beijing_sd, rtol=0.2)  # at a point
    np.testing.assert_allclose(sd.mean(axis=1), beijing_sd, rtol=0.2)  # over points
    assert np.abs(long_run.mean(axis=0)).max() < 0.15  # anomalies: no offset


def test_anomalies_are_coherent_over_1000_km_and_persist_a_little(long_run, beijing_sd):
    month = LONG_RUN.month.to_numpy() - 1
    z = long_run / beijing_sd[month][:, None]
    near = np.corrcoef(z[:, 0], z[:, 1])[0, 1]  # 100 km apart
    far = np.corrcoef(z[:, 2], z[:, 3])[0, 1]  # 3000 km apart
    assert near > 0.9
    assert far < 0.5
    lag1 = np.mean([np.corrcoef(z[:-1, k], z[1:, k])[0, 1] for k in range(z.shape[1])])
    assert lag1 == pytest.approx(climate.ANOMALY_PERSISTENCE, abs=0.08)


def test_a_window_and_a_shorter_period_see_the_national_values(beijing_sd):
    lon, lat = np.meshgrid(np.arange(73.125, 135.5, 0.25), np.arange(17.625, 54.0, 0.25))
    months = pd.date_range("1992-09-01", "2018-12-01", freq="MS")
    national = climate.temperature_anomalies(7, lon, lat, months, beijing_sd)
    assert national.shape == (len(months),) + lon.shape
    window = (slice(80, 100), slice(160, 190))
    later = months[months >= "2016-01-01"]
    part = climate.temperature_anomalies(7, lon[window], lat[window], later, beijing_sd)
    np.testing.assert_array_equal(part, national[len(months) - len(later):][:, *window])
    other_seed = climate.temperature_anomalies(8, lon[window], lat[window], later, beijing_sd)
    assert not np.allclose(other_seed, part)


# -- PET of a year ------------------------------------------------------------------------

def _t_clim(lat):
    ghcn = read_ghcn_daily()
    t_ref = climate.temperature_climate(ghcn["tmax"], ghcn["tmin"])
    return climate.monthly_temperature(t_ref, 39.93, 55.0, lat, np.zeros_like(lat))


def test_thornthwaite_with_the_climatological_heat_index_is_unchanged():
    lat = np.linspace(18.0, 53.0, 30).reshape(5, 6).astype("f4")
    t = _t_clim(lat)
    np.testing.assert_array_equal(
        climate.thornthwaite_pet(t, lat, heat_index=climate.heat_index(t)),
        climate.thornthwaite_pet(t, lat))


def test_pet_factor_follows_the_year_temperature():
    lat = np.array([25.0, 35.0, 45.0], "f4")
    t = _t_clim(lat)
    months = pd.date_range("2017-01-01", "2018-12-01", freq="MS")
    clim_of = t[months.month - 1]
    zero = climate.pet_factor(t, np.zeros_like(clim_of), months, lat)
    assert zero.dtype == np.float32
    np.testing.assert_allclose(zero, 1.0, rtol=1e-6)
    warm = climate.pet_factor(t, np.full_like(clim_of, 2.0), months, lat)
    cold = climate.pet_factor(t, np.full_like(clim_of, -2.0), months, lat)
    growing = clim_of > 5.0
    assert (warm[growing] > 1.0).all() and (cold[growing] < 1.0).all()
    frozen = clim_of <= 0.0
    assert frozen.any()
    np.testing.assert_array_equal(warm[frozen], 1.0)
    # the factor times the climatological PET is Thornthwaite's PET of the year's
    # temperatures with the climatological heat index
    anomaly = np.random.default_rng(0).normal(0.0, 1.5, clim_of.shape).astype("f4")
    factor = climate.pet_factor(t, anomaly, months, lat, max_factor=None)
    heat = climate.heat_index(t)
    pet_clim = climate.thornthwaite_pet(t, lat)
    for year in (2017, 2018):
        k = months.year == year
        expected = climate.thornthwaite_pet(t + anomaly[k], lat, heat_index=heat)
        np.testing.assert_allclose(pet_clim * factor[k], expected, rtol=1e-4, atol=1e-3)


def test_pet_factor_is_capped_just_above_freezing():
    lat = np.array([40.0])
    t = np.full((12, 1), 0.2)  # every month just above 0 C
    months = pd.date_range("2018-01-01", periods=12, freq="MS")
    warm = np.full((12, 1), 3.0, "f4")
    plain = climate.pet_factor(t, warm, months, lat, max_factor=None)
    assert (plain > climate.MAX_PET_FACTOR).all()  # ((0.2 + 3) / 0.2) ** a
    np.testing.assert_array_equal(climate.pet_factor(t, warm, months, lat),
                                  climate.MAX_PET_FACTOR)


# -- the features take the year's values -----------------------------------------------

def _tiny_stores():
    """Covariates of an 8 x 10 km window near Beijing and two years of daily weather."""
    grid = china_grid()
    x, y = lonlat_to_xy(116.3, 39.9)
    rows, cols = grid.window_slices(x - 5000, y - 4000, x + 5000, y + 4000)
    window = grid.window(rows, cols)
    ny, nx = window.shape
    rng = np.random.default_rng(42)
    yx, myx = ("y", "x"), ("month", "y", "x")
    cov = xr.Dataset({
        "bulk_density": (yx, rng.uniform(1.2, 1.5, (ny, nx)).astype("f4")),
        "river_distance": (yx, rng.uniform(0, 50, (ny, nx)).astype("f4")),
        "moisture_index": (yx, rng.uniform(-0.5, 0.2, (ny, nx)).astype("f4")),
        "fc": (yx, rng.uniform(0.2, 0.35, (ny, nx)).astype("f4")),
        "sand": (yx, rng.uniform(0.2, 0.5, (ny, nx)).astype("f4")),
        "clay": (yx, rng.uniform(0.1, 0.3, (ny, nx)).astype("f4")),
        "silt": (yx, rng.uniform(0.2, 0.4, (ny, nx)).astype("f4")),
        "elevation": (yx, rng.uniform(20, 80, (ny, nx)).astype("f4")),
        "cropping_pattern": (yx, np.ones((ny, nx), "i1")),
        "pet": (myx, rng.uniform(5, 150, (12, ny, nx)).astype("f4")),
        "air_temperature": (myx, rng.uniform(-5, 27, (12, ny, nx)).astype("f4")),
    }, coords={"y": window.y, "x": window.x, "month": np.arange(1, 13)})
    time = pd.date_range("2016-01-01", "2017-12-31")
    months = pd.date_range("2016-01-01", "2017-12-01", freq="MS")
    lat = np.arange(39.375, 40.45, 0.25)
    lon = np.arange(115.625, 117.0, 0.25)
    tll, mll = ("time", "lat", "lon"), ("month_start", "lat", "lon")
    daily = xr.Dataset({
        "pre": (tll, rng.gamma(0.5, 4.0, (len(time), lat.size, lon.size)).astype("f4")),
        "pet_factor": (mll, rng.uniform(0.6, 1.6, (len(months), lat.size, lon.size))
                       .astype("f4"), {"units": "1"}),
        "tas_anomaly": (mll, rng.normal(0, 1.5, (len(months), lat.size, lon.size))
                        .astype("f4"), {"units": "K"}),
    }, coords={"time": time, "month_start": months, "lat": lat, "lon": lon})
    return window, cov, daily


@pytest.fixture(scope="module")
def stores():
    return _tiny_stores()


def _samples(window):
    rng = np.random.default_rng(1)
    n = 40
    rows = rng.integers(0, window.shape[0], n)
    cols = rng.integers(0, window.shape[1], n)
    dates = pd.DatetimeIndex(rng.choice(pd.date_range("2017-01-01", "2017-12-31"), n))
    return rows, cols, dates


def _expected_monthly(daily, name, window, rows, cols, dates):
    """Bilinear value of a monthly variable at each sample, one sample at a time."""
    lon, lat = window.rowcol_to_lonlat(rows, cols)
    out = np.empty(len(dates))
    for k, date in enumerate(dates):
        field = daily[name].sel(month_start=date.replace(day=1)).values
        out[k] = bilinear_sample(field, daily["lat"].values, daily["lon"].values,
                                 lat[k:k + 1], lon[k:k + 1])[0]
    return out


def test_forest_pet_is_the_climatology_times_the_year_factor(stores):
    window, cov, daily = stores
    rows, cols, dates = _samples(window)
    f = features_at(cov, daily, rows, cols, dates)
    assert f["pet"].dtype == np.float32
    clim = cov["pet"].values[dates.month - 1, rows, cols]
    factor = _expected_monthly(daily, "pet_factor", window, rows, cols, dates)
    np.testing.assert_allclose(f["pet"], clim * factor, rtol=1e-5)
    assert not np.allclose(f["pet"], clim, rtol=1e-2)  # the year's factor does act


def test_forest_station_rows_equal_grid_rows(stores):
    window, cov, daily = stores
    days = pd.date_range("2017-03-30", "2017-04-02")  # two months
    rows, cols, dates = grid_samples(np.ones(window.shape, bool), days)
    grid = features_at(cov, daily, rows, cols, dates)
    for k in (0, 17, len(dates) // 2, len(dates) - 1):
        one = features_at(cov, daily, rows[k:k + 1], cols[k:k + 1], dates[k:k + 1])
        pd.testing.assert_frame_equal(one, grid.iloc[k:k + 1].reset_index(drop=True))


def test_forest_refuses_a_store_without_pet_factor_or_its_months(stores):
    window, cov, daily = stores
    rows, cols, dates = _samples(window)
    with pytest.raises(FeatureError, match="pet_factor.*rebuild the demo world"):
        features_at(cov, daily.drop_vars("pet_factor"), rows, cols, dates)
    short = daily.isel(month_start=slice(0, 18))  # up to 2017-06
    with pytest.raises(FeatureError, match=r"pet_factor covers 2016-01..2017-06.*2017-07"):
        features_at(cov, short, rows, cols, dates)


def test_network_air_temperature_is_the_climatology_plus_the_year_anomaly(stores):
    window, cov, daily = stores
    rows, cols, dates = _samples(window)
    f = network.features_at(cov, daily, rows, cols, dates, short_history="nan")
    clim = cov["air_temperature"].values[dates.month - 1, rows, cols]
    anomaly = _expected_monthly(daily, "tas_anomaly", window, rows, cols, dates)
    np.testing.assert_allclose(f["air_temperature"], clim + anomaly, rtol=1e-5, atol=1e-5)
    with pytest.raises(FeatureError, match="tas_anomaly"):
        network.features_at(cov, daily.drop_vars("tas_anomaly"), rows, cols, dates,
                            short_history="nan")
    with pytest.raises(FeatureError, match="tas_anomaly covers"):
        network.features_at(cov, daily.isel(month_start=slice(0, 18)), rows, cols, dates,
                            short_history="nan")
