"""Point-scale station observations (cropsm.demo.observation) on synthetic arrays.

Statistics are checked against numpy/scipy reference computations (np.std, np.corrcoef,
scipy.stats) and the closed-form theory, never against the module's own outputs.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cropsm.demo import observation as ob

SEED = 20240611
N_LAYERS = 5
MANY = [f"S{k:04d}" for k in range(3000)]


def _visits(first: str, last: str) -> pd.DatetimeIndex:
    days = pd.date_range(first, last)
    return days[np.isin(days.day, (8, 18, 28))]


def _adjacent_correlation(x: np.ndarray) -> float:
    """Mean over adjacent layer pairs of np.corrcoef; x is (n_layers, n_samples)."""
    c = np.corrcoef(x)
    return float(np.mean([c[i, i + 1] for i in range(x.shape[0] - 1)]))


# --- determinism and independence from the station set --------------------------------

def test_the_same_station_gets_the_same_draws_alone_or_with_others_in_any_order():
    dates = _visits("2016-01-01", "2017-12-31")
    ids = ["W000", "W001", "M007", "W123"]
    order = [2, 0, 3, 1]
    shuffled = [ids[i] for i in order]
    both = ob.station_offsets(SEED, ids, N_LAYERS)
    np.testing.assert_array_equal(ob.station_offsets(SEED, shuffled, N_LAYERS), both[order])
    np.testing.assert_array_equal(ob.station_offsets(SEED, ["M007"], N_LAYERS), both[[2]])
    for fn in (ob.representativeness_errors, ob.sampling_noise):
        full = fn(SEED, ids, dates, N_LAYERS)
        np.testing.assert_array_equal(fn(SEED, shuffled, dates, N_LAYERS), full[:, :, order])
        np.testing.assert_array_equal(fn(SEED, ["W123"], dates, N_LAYERS), full[:, :, [3]])
    miss = ob.missed_visits(SEED, ids, dates)
    np.testing.assert_array_equal(ob.missed_visits(SEED, shuffled, dates), miss[:, order])
    np.testing.assert_array_equal(ob.missed_visits(SEED, ["W001"], dates), miss[:, [1]])
    # a numpy array of ids (as world.stations holds them) is the same as a list
    np.testing.assert_array_equal(ob.missed_visits(SEED, np.array(ids), dates), miss)
    # again: a second call gives the same values, another seed other values
    np.testing.assert_array_equal(ob.representativeness_errors(SEED, ids, dates, N_LAYERS),
                                  ob.representativeness_errors(SEED, ids, dates, N_LAYERS))
    assert not np.allclose(ob.station_offsets(SEED + 1, ids, N_LAYERS), both)


def test_a_day_gets_the_same_draws_whatever_window_is_asked_for():
    two_years = _visits("2015-01-01", "2016-12-31")
    one_year = _visits("2016-01-01", "2016-12-31")
    pick = two_years.get_indexer(one_year)
    ids = ["W000", "M001"]
    for fn in (ob.representativeness_errors, ob.sampling_noise):
        np.testing.assert_allclose(fn(SEED, ids, one_year, N_LAYERS),
                                   fn(SEED, ids, two_years, N_LAYERS)[:, pick],
                                   rtol=0, atol=1e-15)
    np.testing.assert_array_equal(ob.missed_visits(SEED, ids, one_year),
                                  ob.missed_visits(SEED, ids, two_years)[pick])
    # the top layers do not depend on how many layers are asked for
    np.testing.assert_allclose(ob.representativeness_errors(SEED, ids, one_year, 2),
                               ob.representativeness_errors(SEED, ids, one_year, 5)[:2],
                               rtol=0, atol=1e-15)
    np.testing.assert_array_equal(ob.station_offsets(SEED, ids, 3),
                                  ob.station_offsets(SEED, ids, 5)[:, :3])


def test_station_key_is_stable():
    # BLAKE2b, not Python's per-process salted hash()
    import hashlib
    ref = int.from_bytes(hashlib.blake2b(b"W012", digest_size=8).digest(), "little")
    assert ob.station_key("W012") == ref


# --- offsets ------------------------------------------------------------------------------

def test_offsets_have_the_chosen_sd_and_layer_correlation():
    off = ob.station_offsets(SEED, MANY, N_LAYERS, sd=0.03, layer_correlation=0.7)
    assert off.shape == (len(MANY), N_LAYERS)
    sd = np.std(off, axis=0, ddof=1)
    assert np.all(np.abs(sd / 0.03 - 1) < 0.10), sd
    assert abs(np.mean(off)) < 3 * 0.03 / math.sqrt(off.size) * 3
    c = np.corrcoef(off.T)
    assert abs(_adjacent_correlation(off.T) - 0.7) < 0.03
    assert abs(np.mean([c[i, i + 2] for i in range(N_LAYERS - 2)]) - 0.49) < 0.04
    # normal: a Kolmogorov-Smirnov test against N(0, 0.03)
    assert stats.kstest(off[:, 0], stats.norm(0, 0.03).cdf).pvalue > 0.001


# --- representativeness errors ------------------------------------------------------------

def test_errors_have_the_chosen_sd_and_layer_correlation():
    dates = _visits("2016-01-01", "2016-12-31")
    e = ob.representativeness_errors(SEED, MANY[:1000], dates, N_LAYERS, sd=0.02,
                                     e_folding_days=20.0, layer_correlation=0.7)
    assert e.shape == (N_LAYERS, dates.size, 1000)
    # one date per station: independent samples across stations
    sd = np.std(e[:, 5, :], axis=1, ddof=1)
    assert np.all(np.abs(sd / 0.02 - 1) < 0.10), sd
    assert abs(np.std(e, ddof=1) / 0.02 - 1) < 0.05
    assert abs(_adjacent_correlation(e.reshape(N_LAYERS, -1)) - 0.7) < 0.03


def test_errors_lag_correlation_follows_the_real_day_gaps():
    # a long daily series of a few stations: lag-10 autocorrelation ~ rho ** 10
    rho = math.exp(-1 / 20.0)
    days = pd.date_range("1990-01-01", "2019-12-31")
    e = ob.representativeness_errors(SEED, ["W000", "W001", "W002"], days, 2,
                                     e_folding_days=20.0)
    series = e.transpose(0, 2, 1).reshape(-1, days.size)  # (layer x station, day)
    lagged = [stats.pearsonr(x[:-10], x[10:]).statistic for x in series]
    assert abs(np.mean(lagged) - rho**10) < 0.05, (np.mean(lagged), rho**10)
    # visits only, requested alone: consecutive 8th -> 18th visits are 10 days apart
    visits = _visits("1990-01-01", "2019-12-31")
    v = ob.representativeness_errors(SEED, MANY[:200], visits, 1, e_folding_days=20.0)[0]
    gap = np.diff(visits.day.to_numpy())
    ten = np.nonzero(gap == 10)[0]
    r10 = np.corrcoef(v[ten].ravel(), v[ten + 1].ravel())[0, 1]
    assert abs(r10 - rho**10) < 0.05, (r10, rho**10)
    # across a month end (28th -> 8th: 8 to 11 days) and 40 days apart (the 8th two
    # months on) the correlation follows the gap too
    forty = np.nonzero((visits.day[:-6] == 8) & (
        (visits[6:] - visits[:-6]).days.to_numpy() >= 59))[0]
    r_long = np.corrcoef(v[forty].ravel(), v[forty + 6].ravel())[0, 1]
    gap_long = float(np.mean((visits[forty + 6] - visits[forty]).days))
    assert abs(r_long - rho**gap_long) < 0.05, (r_long, rho**gap_long)


# --- missed visits ------------------------------------------------------------------------

def test_missed_visits_rate_and_whole_visits():
    dates = _visits("2010-01-01", "2012-12-31")
    miss = ob.missed_visits(SEED, MANY[:1000], dates, p_miss=0.08)
    assert miss.shape == (dates.size, 1000) and miss.dtype == bool
    assert abs(miss.mean() - 0.08) < 0.01
    # binomial test of the count (scipy reference)
    assert stats.binomtest(int(miss.sum()), miss.size, 0.08).pvalue > 0.001
    # a missed visit misses every layer: the NaN pattern is the same in all layers
    truth = np.full((N_LAYERS, dates.size, 50), 0.25)
    obs = ob.station_observations(SEED, MANY[:50], dates, truth, 0.05, 0.45)
    nan = np.isnan(obs)
    assert (nan == nan[:1]).all()
    np.testing.assert_array_equal(nan[0], miss[:, :50])


def test_frozen_days_are_not_observed():
    t = np.array([[-5.0, -0.01, 0.0, 3.0, np.nan]])
    np.testing.assert_array_equal(ob.observable(t), [[False, False, True, True, False]])
    dates = _visits("2016-01-01", "2016-02-28")
    temp = np.full((dates.size, 3), 5.0)
    temp[0] = -2.0
    obs = ob.station_observations(SEED, ["A", "B", "C"], dates,
                                  np.full((N_LAYERS, dates.size, 3), 0.2), 0.05, 0.45,
                                  daily_temperature_c=temp, p_miss=0.0)
    assert np.isnan(obs[:, 0]).all() and not np.isnan(obs[:, 1:]).any()


# --- observe ------------------------------------------------------------------------------

def test_observe_adds_the_parts_and_stays_within_the_bounds():
    rng = np.random.default_rng(1)
    n_st, n_d = 400, 36
    truth = rng.uniform(0.03, 0.50, (N_LAYERS, n_d, n_st))
    residual = rng.uniform(0.03, 0.08, n_st)
    saturation = rng.uniform(0.40, 0.50, n_st)
    truth = np.clip(truth, residual, saturation)
    off = rng.normal(0, 0.03, (n_st, N_LAYERS))
    err = rng.normal(0, 0.02, truth.shape)
    noise = rng.normal(0, 0.01, truth.shape)
    obs = ob.observe(truth, off, err, residual, saturation, noise=noise)
    assert obs.shape == truth.shape
    assert (obs >= residual).all() and (obs <= saturation).all()
    raw = truth + np.transpose(off)[:, None, :] + err + noise
    inside = (raw > residual) & (raw < saturation)
    np.testing.assert_allclose(obs[inside], raw[inside], rtol=0, atol=1e-15)
    # the clipped share, counted independently of the module
    low, high = ob.clipped_fraction(obs, residual, saturation)
    assert low == pytest.approx(np.mean(raw <= residual))
    assert high == pytest.approx(np.mean(raw >= saturation))
    with pytest.raises(ValueError):
        ob.observe(truth, off.T, err, residual, saturation, noise=noise)
    without_noise = ob.observe(truth, off, err, residual, saturation)
    assert (without_noise >= residual).all() and (without_noise <= saturation).all()


def test_station_sd_matches_the_variance_sum():
    # truth of sd 0.055 far from the bounds: station sd = sqrt(0.055² + 0.03² + 0.02² + 0.01²)
    dates = _visits("2016-01-01", "2016-12-31")
    ids = MANY[:1000]
    rng = np.random.default_rng(2)
    truth = 0.25 + rng.normal(0, 0.055, (1, dates.size, len(ids)))
    obs = ob.station_observations(SEED, ids, dates, truth, 0.0, 1.0, p_miss=0.0)
    expected = math.sqrt(0.055**2 + 0.03**2 + 0.02**2 + 0.01**2)
    assert abs(np.std(obs, ddof=1) / expected - 1) < 0.03


def test_soft_bounds_shrink_deviations_towards_a_bound_and_never_reach_it():
    truth = np.array([0.06, 0.10, 0.25, 0.44, 0.05])[None, :, None] * np.ones((1, 1, 7))
    d = np.array([-0.2, -0.05, -0.001, 0.0, 0.001, 0.05, 0.2])
    residual, saturation = 0.05, 0.45
    obs = ob.observe(truth, np.zeros((7, 1)), np.broadcast_to(d, truth.shape),
                     residual, saturation, bounds="soft")
    # reference: the closed form, computed here with plain numpy
    t = truth[0]
    room = np.where(d < 0, t - residual, saturation - t)
    ref = t + np.sign(d) * room * (1 - np.exp(-np.abs(d) / np.where(room > 0, room, 1)))
    np.testing.assert_allclose(obs[0], ref, rtol=0, atol=1e-15)
    # strictly inside unless the truth sits on the bound; monotone in the deviation
    assert (obs[0, :4] > residual).all() and (obs[0, :4] < saturation).all()
    assert (obs[0, 4, :3] == residual).all()
    assert (np.diff(obs[0], axis=1) >= 0).all()
    # close to additive where the room is large
    assert abs(obs[0, 2, 2] - (0.25 - 0.001)) < 1e-5
    with pytest.raises(ValueError):
        ob.observe(truth, np.zeros((7, 1)), np.zeros(truth.shape), residual, saturation,
                   bounds="hard")  # type: ignore[arg-type]
