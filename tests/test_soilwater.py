"""The truth's soil column (cropsm.demo.soilwater) on synthetic inputs."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cropsm.core import crops
from cropsm.core.grid import bilinear_weights
from cropsm.core.soil import saxton_rawls
from cropsm.demo import soilwater

START, END = "2008-01-01", "2011-12-31"
DATES = pd.date_range(START, END)
MONTHS = pd.date_range(START, END, freq="MS")
KIND = {k: i for i, k in enumerate(soilwater.CROP_KINDS)}
MONTHLY_PET = np.array([10, 20, 50, 90, 130, 160, 160, 140, 90, 50, 20, 10], "f4")
MONTHLY_T = np.array([-4, -1, 6, 14, 20, 25, 27, 25, 20, 13, 4, -2], "f4")


def _inputs(n=200, rain_scale=1.0, irrigated=False, seed=0, kinds=("maize",),
            temperature_shift=0.0):
    rng = np.random.default_rng(seed)
    sand = rng.uniform(0.1, 0.8, n)
    clay = np.minimum(rng.uniform(0.05, 0.4, n), 0.95 - sand)
    soil = saxton_rawls(sand, clay, rng.uniform(0.5, 3, n))
    wet = rng.random((len(DATES), n)) < 0.2
    pre = (wet * rng.gamma(0.7, 12.0, (len(DATES), n)) * rain_scale).astype("f4")
    # a coarse grid with two latitude rows whose first row holds each pixel's own rain,
    # and pixels exactly on its cell centres: bilinear weights pick that value
    rain = np.stack([pre, np.zeros_like(pre)], axis=1)
    weights = bilinear_weights(np.array([0.0, 1.0]), np.arange(n, dtype="f8"),
                               np.zeros(n), np.arange(n, dtype="f8"))
    calendar = {"winter wheat": (280.0, 160.0), "spring wheat": (90.0, 200.0),
                "maize": (165.0, 265.0)}
    seasons = np.full((n, 2), -1)
    sowing = np.full((n, 2), np.nan)
    end = np.full((n, 2), np.nan)
    for k, kind in enumerate(kinds):
        seasons[:, k] = KIND[kind]
        sowing[:, k], end[:, k] = calendar[kind]
    month = MONTHS.month.to_numpy() - 1
    return dict(rain=rain, rain_weights=weights, dates=DATES,
                pet=np.tile(MONTHLY_PET[month][:, None], (1, n)),
                temperature=np.tile(MONTHLY_T[month][:, None] + temperature_shift, (1, n)),
                months=MONTHS, seasons=seasons, sowing=sowing, end_of_season=end,
                fc=soil.field_capacity, wp=soil.wilting_point, sat=soil.saturation,
                resid=soil.residual, sand=sand, irrigated=np.full((n, 2), irrigated),
                pixel_id=np.arange(n) * 7919, seed=11, out_dates=DATES)


@pytest.mark.parametrize("rain_scale", [0.0, 1.0, 20.0])
def test_sm_stays_within_residual_and_saturation(rain_scale):
    kw = _inputs(rain_scale=rain_scale, irrigated=True)
    sm = soilwater.simulate_columns(**kw).sm
    assert sm.shape == (len(crops.SOIL_LAYERS), len(DATES), 200)
    assert np.all(sm >= kw["resid"].astype("f4")[None, None] - 1e-6)
    assert np.all(sm <= kw["sat"].astype("f4")[None, None] + 1e-6)


def test_rain_wets_and_drought_dries():
    dry = soilwater.simulate_columns(**_inputs(rain_scale=0.0)).sm
    wet = soilwater.simulate_columns(**_inputs(rain_scale=3.0)).sm
    assert wet.mean() > dry.mean() + 0.03


def test_irrigated_fields_get_water_in_season_and_others_none():
    dry = soilwater.simulate_columns(**_inputs(rain_scale=0.3))
    irrigated = soilwater.simulate_columns(**_inputs(rain_scale=0.3, irrigated=True))
    assert dry.irrigations.sum() == 0 and irrigated.irrigations.min() > 0
    season = (DATES.day_of_year >= 170) & (DATES.day_of_year <= 260)
    assert irrigated.sm[:, season].mean() > dry.sm[:, season].mean() + 0.01
    # no event outside the maize season: SM before sowing is the same
    before = DATES.day_of_year < 160
    np.testing.assert_allclose(irrigated.sm[:, before & (DATES.year == 2008)],
                               dry.sm[:, before & (DATES.year == 2008)])


def test_a_pixel_gets_the_same_truth_whatever_it_is_run_with():
    kw = _inputs(irrigated=True, kinds=("winter wheat", "maize"))
    full = soilwater.simulate_columns(**kw)
    pick = np.array([3, 77, 150])
    sub = {k: (v[pick] if isinstance(v, np.ndarray) and v.ndim >= 1 and v.shape[0] == 200
               else v) for k, v in kw.items()}
    sub["pet"], sub["temperature"] = kw["pet"][:, pick], kw["temperature"][:, pick]
    sub["rain"] = kw["rain"]
    sub["rain_weights"] = tuple(w[pick] for w in kw["rain_weights"])
    part = soilwater.simulate_columns(**sub)
    np.testing.assert_array_equal(part.sm, full.sm[:, :, pick])
    np.testing.assert_array_equal(part.irrigations, full.irrigations[pick])


def test_a_run_split_in_two_with_its_state_equals_one_run():
    """No irrigation, so nothing but theta and snow carries over: the split is exact."""
    kw = _inputs(kinds=("winter wheat",))
    whole = soilwater.simulate_columns(**kw)
    cut = DATES.get_loc(pd.Timestamp("2009-10-01"))
    first = soilwater.simulate_columns(**{**kw, "rain": kw["rain"][:cut],
                                          "dates": DATES[:cut], "out_dates": DATES[:cut]})
    second = soilwater.simulate_columns(**{**kw, "rain": kw["rain"][cut:],
                                           "dates": DATES[cut:], "out_dates": DATES[cut:],
                                           "theta0": first.theta, "snow0": first.snow})
    np.testing.assert_array_equal(np.concatenate([first.sm, second.sm], axis=1), whole.sm)


def test_no_seam_at_the_new_year_or_in_october():
    """Day-to-day changes on 1 October and 1 January look like those of other days."""
    sm = soilwater.simulate_columns(**_inputs(kinds=("winter wheat", "maize"))).sm[0]
    change = np.abs(np.diff(sm, axis=0))
    day = DATES[1:]
    seam = (day.month.isin([1, 10])) & (day.day == 1)
    # the fortnight either side: the same season, without the day itself
    near = np.zeros(len(day), bool)
    for first in day[seam]:
        near |= np.abs((day - first).days) <= 15
    result = stats.ks_2samp(change[seam].ravel(), change[near & ~seam].ravel())
    assert result.pvalue > 0.01, result


def test_autumn_rain_is_remembered_in_spring():
    """Rain in September raises SM the next March: the year does not restart.

    The winter is dry, as on the North China Plain, so nothing else refills the soil.
    """
    base = _inputs(rain_scale=0.5, kinds=("winter wheat",))
    winter = (DATES >= "2009-10-01") & (DATES <= "2010-03-31")
    base["rain"][winter] = 0.0
    wet = {**base, "rain": base["rain"].copy()}
    september = (DATES.year == 2009) & (DATES.month == 9)
    wet["rain"][september, 0] += 8.0
    march = (DATES.year == 2010) & (DATES.month == 3)
    dry_sm = soilwater.simulate_columns(**base).sm[:2, march].mean()
    wet_sm = soilwater.simulate_columns(**wet).sm[:2, march].mean()
    assert wet_sm > dry_sm + 0.005, (wet_sm, dry_sm)


def test_frozen_soil_holds_snow_and_melts_it_later():
    cold = _inputs(temperature_shift=-30.0)  # frozen all year
    run = soilwater.simulate_columns(**cold)
    # nothing infiltrates or leaves: the state never changes and all rain is snow
    np.testing.assert_allclose(run.sm[:, -1], run.sm[:, 0])
    assert np.allclose(run.snow, cold["rain"][:, 0].sum(axis=0), rtol=1e-5)
    thawing = soilwater.simulate_columns(**_inputs())
    assert thawing.snow.max() < cold["rain"][:, 0].sum(axis=0).min()


def test_double_cropping_dries_the_summer_soil_more_than_wheat_and_fallow():
    """Maize after wheat transpires in summer; a wheat + fallow field only evaporates."""
    double = soilwater.simulate_columns(**_inputs(kinds=("winter wheat", "maize"))).sm
    fallow = soilwater.simulate_columns(**_inputs(kinds=("winter wheat",))).sm
    summer = DATES.month.isin([7, 8])
    assert double[2:, summer].mean() < fallow[2:, summer].mean() - 0.005
    spring = DATES.month.isin([3, 4])
    np.testing.assert_allclose(double[:, spring & (DATES.year == 2008)],
                               fallow[:, spring & (DATES.year == 2008)])


def test_irrigated_share_follows_zone_crop_and_water():
    zone = np.array([3, 3, 1, 1, 6])
    annual = np.array([600.0, 600.0, 550.0, 150.0, 1200.0])
    river = np.array([5.0, 80.0, 5.0, 5.0, 5.0])
    wheat = soilwater.irrigated_share("wheat", zone, annual, river)
    maize = soilwater.irrigated_share("maize", zone, annual, river)
    assert wheat[0] > wheat[1] and wheat[0] > wheat[4]
    assert maize[2] < 0.2 < 0.9 < maize[3]  # north-east rain-fed, oasis irrigated
    assert (wheat >= maize).all()


def test_irrigated_fields_match_their_share_and_nest_across_crops():
    pixel_id = np.arange(200_000) * 31
    low = soilwater.irrigated_fields(np.full(pixel_id.size, 0.3), pixel_id, 5)
    high = soilwater.irrigated_fields(np.full(pixel_id.size, 0.8), pixel_id, 5)
    assert abs(low.mean() - 0.3) < 0.005 and abs(high.mean() - 0.8) < 0.005
    assert (high | ~low).all()  # irrigated for the rarer crop means irrigated for both


@pytest.mark.parametrize("crop", crops.CROPS)
def test_kernel_stage_matches_crops_stage_index(crop):
    starts = np.asarray(crops.STAGE_START[crop], "f8")
    for sow, eos in [(120.0, 265.0), (280.0, 160.0), (np.nan, 160.0), (200.0, 200.0)]:
        doy = np.arange(1, 366, dtype="f8")
        expected = crops.stage_index(crop, doy, sow, eos)
        got = np.array([soilwater._stage(d, sow, eos, starts) for d in doy])
        np.testing.assert_array_equal(got, expected)


def test_deeper_layers_are_damped_and_lag_the_surface():
    sm = soilwater.simulate_columns(**_inputs()).sm
    spread = sm.std(axis=1).mean(axis=1)  # day-to-day variability per layer
    print(f"\nmean daily SD per layer: {np.round(spread, 4).tolist()}")
    assert spread[0] > spread[-1]
    # the surface answers rain the same day; 40-50 cm follows the surface more than a
    # day later: its best lag against 0-10 cm is positive on most pixels
    surface, deep = np.diff(sm[0], axis=0), np.diff(sm[-1], axis=0)
    lags = []
    for i in range(surface.shape[1]):
        corr = [np.corrcoef(surface[:-k or None, i], deep[k:, i])[0, 1] for k in range(0, 6)]
        lags.append(int(np.nanargmax(corr)))
    assert np.median(lags) >= 1, lags[:20]


def test_no_irrigation_is_counted_or_applied_on_frozen_ground():
    frozen = soilwater.simulate_columns(**_inputs(rain_scale=0.3, irrigated=True,
                                                  temperature_shift=-40.0))
    assert frozen.irrigations.sum() == 0


def test_a_run_sees_the_same_temperature_whatever_day_it_starts():
    """With the month either side, the first half-month is interpolated like any other."""
    record = pd.date_range("2007-11-01", "2012-01-31", freq="MS")
    month = record.month.to_numpy() - 1
    monthly = MONTHLY_T[month][:, None].astype("f8")
    days = pd.date_range("2009-01-01", "2009-02-28")
    long = soilwater.daily_temperature(monthly, record, pd.date_range("2008-06-01", days[-1]))
    months = soilwater.run_months(days, record)
    assert months[0] == pd.Timestamp("2008-12-01")
    short = soilwater.daily_temperature(monthly[record.isin(months)], months, days)
    np.testing.assert_array_equal(short, long[-len(days):])
