"""Ordinary kriging of daily station rain (cropsm.core.kriging)."""

from __future__ import annotations

import numpy as np
import pytest
from pykrige.ok import OrdinaryKriging

from cropsm.core.errors import InputDataError
from cropsm.core.kriging import MIN_STATIONS, TRACE_MM, krige_daily

# A non-square grid (lat rows != lon columns) catches a transposed result.
GRID_LON = np.linspace(110.0, 116.0, 31)
GRID_LAT = np.linspace(34.0, 39.0, 21)


@pytest.fixture(scope="module")
def network():
    rng = np.random.default_rng(42)
    n = 25
    lon = rng.uniform(110.0, 116.0, n)
    lat = rng.uniform(34.0, 39.0, n)
    # smooth wet field plus noise, well above the trace threshold
    values = np.stack([5.0 + 3.0 * np.sin(lon / 2 + k) + np.cos(lat + k)
                       + rng.gamma(2.0, 1.0, n) for k in range(4)])
    values[2, [1, 7, 11]] = np.nan
    return lon, lat, values


def reference(lon, lat, z, model="spherical", **kwargs):
    ok = OrdinaryKriging(lon, lat, z, variogram_model=model, coordinates_type="geographic",
                         **kwargs)
    field, variance = ok.execute("grid", GRID_LON, GRID_LAT)
    return np.ma.getdata(field), np.ma.getdata(variance)


def test_shape_and_dtype(network):
    lon, lat, values = network
    estimate, variance = krige_daily(lon, lat, values, GRID_LON, GRID_LAT)
    assert estimate.shape == variance.shape == (4, GRID_LAT.size, GRID_LON.size)
    assert estimate.dtype == variance.dtype == np.float32
    assert np.isfinite(estimate).all() and np.isfinite(variance).all()
    assert (estimate >= 0).all() and (variance >= 0).all()


@pytest.mark.parametrize("model", ["spherical", "exponential", "gaussian", "linear"])
def test_days_match_pykrige_called_directly(network, model):
    lon, lat, values = network
    estimate, variance = krige_daily(lon, lat, values, GRID_LON, GRID_LAT,
                                     variogram_model=model)
    for day in range(values.shape[0]):
        valid = np.isfinite(values[day])
        field, var = reference(lon[valid], lat[valid], values[day, valid], model)
        field = np.where(field < TRACE_MM, 0.0, field)
        np.testing.assert_allclose(estimate[day], field, rtol=1e-6, atol=1e-5)
        np.testing.assert_allclose(variance[day], np.maximum(var, 0), rtol=1e-6, atol=1e-5)


def test_moving_window_of_all_stations_equals_full_kriging(network):
    lon, lat, values = network
    full = krige_daily(lon, lat, values[:2], GRID_LON, GRID_LAT)
    window = krige_daily(lon, lat, values[:2], GRID_LON, GRID_LAT, n_closest_points=lon.size)
    np.testing.assert_allclose(window[0], full[0], rtol=1e-6, atol=1e-5)
    np.testing.assert_allclose(window[1], full[1], rtol=1e-6, atol=1e-5)
    nearest = krige_daily(lon, lat, values[:1], GRID_LON, GRID_LAT, n_closest_points=8)[0]
    assert np.isfinite(nearest).all() and not np.allclose(nearest, full[0][:1])


def test_fixed_variogram_matches_pykrige(network):
    lon, lat, values = network
    params = {"sill": 6.0, "range": 3.0, "nugget": 0.5}
    estimate, variance = krige_daily(lon, lat, values[:1], GRID_LON, GRID_LAT,
                                     variogram_parameters=params)
    field, var = reference(lon, lat, values[0], variogram_parameters=params)
    np.testing.assert_allclose(estimate[0], field, rtol=1e-6, atol=1e-5)
    np.testing.assert_allclose(variance[0], var, rtol=1e-6, atol=1e-5)


@pytest.mark.parametrize("params", [{"sill": 8.0, "range": 4.0, "nugget": 0.0}, None])
def test_exact_at_stations_on_grid_nodes(params):
    # stations sitting on nodes (lat row j, lon column i)
    rows = np.array([2, 5, 9, 14, 18, 3, 11, 16])
    cols = np.array([4, 25, 12, 7, 29, 17, 1, 20])
    lon, lat = GRID_LON[cols], GRID_LAT[rows]
    z = np.array([[3.0, 12.5, 7.25, 0.8, 20.0, 5.5, 9.0, 1.5]])
    estimate, variance = krige_daily(lon, lat, z, GRID_LON, GRID_LAT,
                                     variogram_parameters=params)
    np.testing.assert_allclose(estimate[0, rows, cols], z[0], rtol=1e-6)
    if params is not None:  # no nugget: no uncertainty at the stations
        np.testing.assert_allclose(variance[0, rows, cols], 0.0, atol=1e-5)
        assert variance[0].max() > 1.0


def test_flat_days_are_the_constant_with_zero_variance(network):
    lon, lat, _ = network
    values = np.zeros((3, lon.size))
    values[1] = 4.2
    values[2] = 4.2
    values[2, :10] = np.nan          # flat among the stations that report
    estimate, variance = krige_daily(lon, lat, values, GRID_LON, GRID_LAT)
    np.testing.assert_array_equal(estimate[0], 0.0)
    np.testing.assert_allclose(estimate[1:], 4.2, rtol=1e-6)
    np.testing.assert_array_equal(variance, 0.0)


def test_flat_day_below_trace_is_dry(network):
    lon, lat, _ = network
    estimate, variance = krige_daily(lon, lat, np.full((1, lon.size), 0.05),
                                     GRID_LON, GRID_LAT)
    np.testing.assert_array_equal(estimate, 0.0)
    np.testing.assert_array_equal(variance, 0.0)


def test_missing_stations_are_dropped_for_that_day_only(network):
    lon, lat, values = network
    estimate, variance = krige_daily(lon, lat, values, GRID_LON, GRID_LAT)
    valid = np.isfinite(values[2])
    subset, subset_var = krige_daily(lon[valid], lat[valid], values[2:3, valid],
                                     GRID_LON, GRID_LAT)
    np.testing.assert_array_equal(estimate[2], subset[0])
    np.testing.assert_array_equal(variance[2], subset_var[0])
    full, _ = krige_daily(lon, lat, values[1:2], GRID_LON, GRID_LAT)
    np.testing.assert_array_equal(estimate[1], full[0])


def test_too_few_stations_gives_nan(network):
    lon, lat, values = network
    values = values[[0, 1, 3]].copy()         # days without missing stations
    values[0, MIN_STATIONS - 1:] = np.nan      # 2 valid stations
    values[1, :] = np.nan                      # none
    values[2, MIN_STATIONS:] = np.nan          # exactly 3: kriged
    estimate, variance = krige_daily(lon, lat, values, GRID_LON, GRID_LAT)
    assert np.isnan(estimate[:2]).all() and np.isnan(variance[:2]).all()
    assert np.isfinite(estimate[2]).all() and np.isfinite(variance[2]).all()


def test_negative_estimates_are_clipped_and_trace_is_dry():
    # two wet stations among dry ones under a smooth (gaussian, no nugget) variogram:
    # kriging weights overshoot below zero around them
    rng = np.random.default_rng(7)
    lon = rng.uniform(110.0, 116.0, 30)
    lat = rng.uniform(34.0, 39.0, 30)
    z = np.zeros((1, 30))
    z[0, 0] = 40.0
    z[0, 1] = 25.0
    params = {"sill": 60.0, "range": 2.0, "nugget": 0.0}
    raw, _ = reference(lon, lat, z[0], "gaussian", variogram_parameters=params)
    assert raw.min() < -0.5                     # the premise of the test
    assert ((raw > 0) & (raw < TRACE_MM)).any()
    estimate, _ = krige_daily(lon, lat, z, GRID_LON, GRID_LAT, variogram_model="gaussian",
                              variogram_parameters=params)
    assert estimate.min() == 0.0
    np.testing.assert_array_equal(estimate[0][raw < TRACE_MM], 0.0)
    kept = raw >= TRACE_MM
    np.testing.assert_allclose(estimate[0][kept], raw[kept], rtol=1e-6, atol=1e-5)
    no_trace, _ = krige_daily(lon, lat, z, GRID_LON, GRID_LAT, variogram_model="gaussian",
                              variogram_parameters=params, trace=0.0)
    assert no_trace.min() == 0.0
    assert ((no_trace > 0) & (no_trace < TRACE_MM)).any()


def test_singular_system_gives_nan_and_warns():
    lon = np.array([110.0, 110.0, 112.0, 113.0, 111.0])   # two stations at one place
    lat = np.array([35.0, 35.0, 36.0, 37.0, 38.0])
    values = np.array([[1.0, 3.0, 2.0, 5.0, 0.0], [1.0, np.nan, 2.0, 5.0, 0.0]])
    with pytest.warns(UserWarning, match=r"singular on 1 day\(s\) \(indices \[0\]\)"):
        estimate, _ = krige_daily(lon, lat, values, GRID_LON, GRID_LAT,
                                  variogram_parameters={"sill": 4.0, "range": 3.0,
                                                        "nugget": 0.0})
    assert np.isnan(estimate[0]).all() and np.isfinite(estimate[1]).all()


def test_bad_input_is_refused(network):
    lon, lat, values = network
    with pytest.raises(InputDataError, match="negative or infinite"):
        krige_daily(lon, lat, np.where(np.isnan(values), -9999.0, values), GRID_LON, GRID_LAT)
    with pytest.raises(ValueError, match="n_stations"):
        krige_daily(lon, lat, values[:, :-1], GRID_LON, GRID_LAT)
    with pytest.raises(ValueError, match="differ in length"):
        krige_daily(lon, lat[:-1], values, GRID_LON, GRID_LAT)
    with pytest.raises(ValueError, match="variogram model"):
        krige_daily(lon, lat, values, GRID_LON, GRID_LAT, variogram_model="cubic")
    with pytest.raises(ValueError, match="NaN or infinite"):
        krige_daily(np.where(np.arange(lon.size) == 0, np.nan, lon), lat, values,
                    GRID_LON, GRID_LAT)
