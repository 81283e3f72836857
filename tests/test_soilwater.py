import numpy as np
import pandas as pd
import pytest

from cropsm.core import crops
from cropsm.core.grid import bilinear_weights
from cropsm.demo import soilwater
from cropsm.demo.soil import saxton_rawls

YEAR = 2010
DATES = pd.date_range(f"{YEAR - 1}-10-01", f"{YEAR}-12-31")


def _inputs(n=200, rain_scale=1.0, p_irr=0.2, seed=0):
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
    pet = np.tile(np.array([10, 20, 50, 90, 130, 160, 160, 140, 90, 50, 20, 10], "f4")[:, None],
                  (1, n))
    return dict(rain=rain, rain_weights=weights, dates=DATES, pet_month=pet, sos=np.full(n, 120.0),
                eos=np.full(n, 265.0), fc=soil.field_capacity, wp=soil.wilting_point,
                sat=soil.saturation, resid=soil.residual, sand=sand,
                p_irr=np.full(n, p_irr, "f4"), pixel_id=np.arange(n) * 7919, seed=11)


@pytest.mark.parametrize("rain_scale", [0.0, 1.0, 20.0])
def test_sm_stays_within_residual_and_saturation(rain_scale):
    kw = _inputs(rain_scale=rain_scale)
    sm, _ = soilwater.simulate_year("maize", YEAR, **kw)
    assert sm.shape == (len(crops.SOIL_LAYERS), 365, 200)
    assert np.all(sm >= kw["resid"].astype("f4")[None, None] - 1e-6)
    assert np.all(sm <= kw["sat"].astype("f4")[None, None] + 1e-6)


def test_rain_wets_and_drought_dries():
    dry, _ = soilwater.simulate_year("maize", YEAR, **_inputs(rain_scale=0.0, p_irr=0.0))
    wet, _ = soilwater.simulate_year("maize", YEAR, **_inputs(rain_scale=3.0, p_irr=0.0))
    assert wet.mean() > dry.mean() + 0.03


def test_irrigation_follows_its_probability_and_raises_sm():
    none, n0 = soilwater.simulate_year("maize", YEAR, **_inputs(rain_scale=0.3, p_irr=0.0))
    some, n1 = soilwater.simulate_year("maize", YEAR, **_inputs(rain_scale=0.3, p_irr=0.1))
    many, n2 = soilwater.simulate_year("maize", YEAR, **_inputs(rain_scale=0.3, p_irr=0.9))
    assert n0.sum() == 0 and 0 < n1.mean() < n2.mean()
    season = slice(130, 260)
    assert many[:, season].mean() > some[:, season].mean() > none[:, season].mean()


def test_a_pixel_gets_the_same_truth_whatever_it_is_run_with():
    kw = _inputs()
    full, irr_full = soilwater.simulate_year("wheat", YEAR, **kw)
    pick = np.array([3, 77, 150])
    sub = {k: (v[..., pick] if isinstance(v, np.ndarray) and k != "rain" else v)
           for k, v in kw.items()}
    sub["rain_weights"] = tuple(w[pick] for w in kw["rain_weights"])
    part, irr_part = soilwater.simulate_year("wheat", YEAR, **sub)
    np.testing.assert_array_equal(part, full[:, :, pick])
    np.testing.assert_array_equal(irr_part, irr_full[pick])


def test_irrigation_more_likely_near_rivers_and_in_irrigated_zones():
    p = soilwater.irrigation_probability(np.array([3, 3, 6]), np.array([1.0, 80.0, 1.0]))
    assert p[0] > p[1] and p[0] > p[2]


def test_wrong_period_is_rejected():
    kw = _inputs()
    with pytest.raises(ValueError, match="needs daily dates"):
        soilwater.simulate_year("wheat", YEAR + 1, **kw)


@pytest.mark.parametrize("crop", crops.CROPS)
def test_kernel_stage_matches_crops_stage_index(crop):
    starts = np.asarray(crops.STAGE_START[crop], "f8")
    for sow, eos in [(120.0, 265.0), (280.0, 160.0), (np.nan, 160.0), (200.0, 200.0)]:
        doy = np.arange(1, 366, dtype="f8")
        expected = crops.stage_index(crop, doy, sow, eos)
        got = np.array([soilwater._stage(d, sow, eos, starts) for d in doy])
        np.testing.assert_array_equal(got, expected)


def test_deeper_layers_are_damped_and_lag_the_surface():
    sm, _ = soilwater.simulate_year("maize", YEAR, **_inputs(p_irr=0.0))
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
