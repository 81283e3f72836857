"""Spring wheat: where it grows, its calendar, its stages and pattern, and the sowing contract.

All on synthetic arrays or the bundled GHCN Beijing record: no demo build.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from cropsm.core import crops, patterns
from cropsm.demo import climate, geography
from cropsm.io.assets import read_ghcn_daily
from cropsm.rf.features import FeatureError
from cropsm.serve import predict

BEIJING = (116.28, 39.93)  # the world's temperature reference (GHCN-Daily CHM00054511)
BEIJING_ELEVATION = 55.0

# name: lon, lat, elevation (m), province adcode
SPRING_PLACES = {
    "Harbin": (126.6, 45.8, 150.0, 230000),
    "Yinchuan": (106.3, 38.5, 1100.0, 640000),
    "Zhangye": (100.5, 38.9, 1480.0, 620000),
}
WINTER_PLACES = {
    "Zhengzhou": (113.6, 34.7, 110.0, 410000),
    "Shijiazhuang": (114.5, 38.0, 80.0, 130000),
}
PLACES = {**SPRING_PLACES, **WINTER_PLACES}

WINTER_STAGE = crops.STAGES["wheat"].index("greening")


@pytest.fixture(scope="module")
def place_climate():
    """The world's monthly temperature (12, n) at :data:`PLACES`, from real Beijing data."""
    ghcn = read_ghcn_daily()
    t_ref = climate.temperature_climate(ghcn["tmax"], ghcn["tmin"])
    lon, lat, elevation, adcode = (np.array(v) for v in zip(*PLACES.values(), strict=True))
    temp = climate.monthly_temperature(t_ref, BEIJING[1], BEIJING_ELEVATION, lat, elevation)
    return list(PLACES), lon, lat, adcode.astype("i4"), temp


# --- where wheat is spring wheat -------------------------------------------------------

def test_rule_on_sample_points(place_climate):
    names, lon, lat, adcode, temp = place_climate
    spring = geography.spring_wheat(adcode, lon, lat, temp[0])
    assert spring.dtype == bool
    assert dict(zip(names, spring.tolist(), strict=True)) == {
        name: name in SPRING_PLACES for name in names}


def test_rule_zoning_and_winter_survival():
    # (adcode, lon, lat, January temperature) -> spring?
    cases = [
        (620000, 103.8, 36.0, -5.0, False),   # Lanzhou side of Gansu: east of the Hexi split
        (620000, 100.0, 39.0, -5.0, True),    # Hexi corridor, even with a mild January
        (650000, 87.6, 43.8, -5.0, True),     # northern Xinjiang
        (650000, 76.0, 39.5, -5.0, False),    # southern Xinjiang (Kashgar)
        (630000, 101.8, 36.6, -5.0, True),    # Qinghai
        (150000, 111.7, 40.8, -5.0, True),    # Inner Mongolia
        (220000, 125.3, 43.9, -5.0, True),    # Jilin
        (130000, 115.0, 41.5, -12.0, True),   # a cold corner of Hebei: winter kill
        (130000, 115.0, 41.5, -9.0, False),   # the same, just above the limit
        (130000, 115.0, 41.5, np.nan, False),  # no temperature: zoning only
        (0, 120.0, 50.0, -25.0, False),       # outside China
    ]
    adcode, lon, lat, jan, expected = (np.array(c) for c in zip(*cases, strict=True))
    got = geography.spring_wheat(adcode.astype("i4"), lon, lat, jan)
    assert got.tolist() == expected.tolist()
    assert geography.SPRING_WHEAT_JANUARY_MAX == -10.0


def test_rule_broadcasts_over_a_grid():
    adcode = np.array([[230000, 410000], [0, 640000]], "i4")
    lon, lat = np.meshgrid([110.0, 111.0], [35.0, 36.0])
    jan = np.full((2, 2), -2.0, "f4")
    assert geography.spring_wheat(adcode, lon, lat, jan).tolist() == [[True, False],
                                                                     [False, True]]


# --- the spring-wheat calendar ---------------------------------------------------------

def test_calendar_sows_in_march_april_and_harvests_in_july_august(place_climate):
    names, _, _, _, temp = place_climate
    sowing, eos = geography.spring_wheat_calendar(temp)
    assert sowing.dtype == np.float32 and eos.dtype == np.float32
    for k, name in enumerate(names):
        if name not in SPRING_PLACES:
            continue
        sow = pd.Timestamp("2018-01-01") + pd.Timedelta(days=float(sowing[k]) - 1)
        end = pd.Timestamp("2018-01-01") + pd.Timedelta(days=float(eos[k]) - 1)
        print(f"\n{name}: sown {sow:%d %b}, harvested {end:%d %b}")
        assert sow.month in (3, 4), name
        assert end.month in (7, 8), name
        assert eos[k] - sowing[k] == geography.SPRING_WHEAT_SEASON_DAYS


def test_calendar_interpolates_between_mid_months():
    # 0 degC in mid-March (DOY 74.5), 6 degC in mid-April (DOY 105): 3 degC halfway
    t = np.array([-10, -5, 0, 6, 12, 18, 22, 20, 14, 6, -2, -8], "f4")[:, None]
    sowing, eos = geography.spring_wheat_calendar(t)
    assert geography.SPRING_SOWING_TEMPERATURE == 3.0
    assert sowing[0] == np.round(74.5 + 0.5 * 30.5)
    assert eos[0] == sowing[0] + 110


def test_calendar_clamps_to_the_sowing_window_and_keeps_nan():
    warm = np.full(12, 10.0)  # warm all winter: first day of the window
    cold = np.array([-30, -28, -20, -10, -2, 1, 2, 1, -3, -10, -20, -28], "f8")  # never 3 degC
    early = np.array([-5, 4, 8, 12, 16, 20, 24, 22, 16, 10, 2, -3], "f8")  # crosses in Feb
    missing = np.full(12, np.nan)
    t = np.stack([warm, cold, early, missing], axis=1)
    sowing, eos = geography.spring_wheat_calendar(t)
    first, last = geography.SPRING_SOWING_WINDOW
    assert sowing[:3].tolist() == [first, last, first]
    assert np.isnan(sowing[3]) and np.isnan(eos[3])


def test_calendar_needs_twelve_months():
    with pytest.raises(ValueError, match="12 months"):
        geography.spring_wheat_calendar(np.zeros((11, 3)))


def test_wheat_calendar_merges_winter_and_spring():
    ww_sos = np.array([45.0, 45.0, np.nan], "f4")
    ww_eos = np.array([160.0, 160.0, np.nan], "f4")
    spring = np.array([False, True, True])
    spring_sow = np.array([80.0, 85.0, 90.0], "f4")
    spring_eos = spring_sow + 110
    sowing, eos = geography.wheat_calendar(ww_sos, ww_eos, spring, spring_sow, spring_eos)
    assert sowing.dtype == np.float32 and eos.dtype == np.float32
    # winter wheat: 115 days before WorldCereal's green-up, in the previous autumn
    assert sowing[0] == geography.winter_wheat_sowing(45.0) == 45 - 115 + 365
    assert eos[0] == 160
    # spring wheat: its own calendar, even where WorldCereal's winter calendar is NaN
    assert sowing[1:].tolist() == [85.0, 90.0] and eos[1:].tolist() == [195.0, 200.0]
    assert geography.winter_wheat_sowing(235.0) == 120


# --- stages -----------------------------------------------------------------------------

@pytest.mark.parametrize(("sow", "eos"), [(70.0, 180.0), (95.0, 205.0), (120.0, 230.0)])
def test_spring_stages_cover_the_season_and_skip_greening(sow, eos):
    doy = np.arange(1, 366, dtype="f8")
    stage = crops.stage_index("wheat", doy, sow, eos, spring=True)
    inside = (doy >= sow) & (doy <= eos)
    assert ((stage >= 0) == inside).all()
    assert WINTER_STAGE not in stage
    season = stage[inside]
    assert season[0] == 0 and season[-1] == len(crops.STAGES["wheat"]) - 1
    assert (np.diff(season) >= 0).all()
    assert set(season) == set(range(len(crops.STAGES["wheat"]))) - {WINTER_STAGE}


def test_spring_flag_broadcasts_per_pixel():
    doy = np.arange(1, 366)[:, None]
    sowing = np.array([280.0, 80.0, 120.0])
    eos = np.array([160.0, 190.0, 260.0])
    spring = np.array([False, True, True])
    stage = crops.stage_index("wheat", doy, sowing[None], eos[None], spring=spring[None])
    assert (stage[:, 0] == WINTER_STAGE).any()      # winter wheat greens up
    assert not (stage[:, 1:] == WINTER_STAGE).any()  # spring wheat never does
    # without the flag, every pixel uses the winter-wheat table
    plain = crops.stage_index("wheat", doy, sowing[None], eos[None])
    assert (plain[:, 1] == WINTER_STAGE).any()
    # the flag is ignored for maize
    np.testing.assert_array_equal(
        crops.stage_index("maize", doy, sowing[None], eos[None], spring=spring[None]),
        crops.stage_index("maize", doy, sowing[None], eos[None]))


def test_stage_starts_tables_match_stage_index():
    spring = np.array([False, True])
    table = crops.stage_starts("wheat", spring)
    assert table.shape == (2, len(crops.STAGES["wheat"]))
    np.testing.assert_array_equal(table[0], crops.STAGE_START["wheat"])
    np.testing.assert_array_equal(table[1], crops.SPRING_WHEAT_STAGE_START)
    np.testing.assert_array_equal(crops.stage_starts("maize"), crops.STAGE_START["maize"])
    assert crops.stage_starts("maize", spring).shape == (2, len(crops.STAGES["maize"]))
    # a kernel's rule "the last stage whose start is <= the season fraction" gives the
    # same stages as stage_index, the zero-length greening included
    sow, eos = 90.0, 200.0
    for doy in range(90, 201):
        frac = (doy - sow) / (eos - sow)
        for k, flag in enumerate(spring):
            last = max(i for i, start in enumerate(table[k]) if start <= frac)
            assert last == crops.stage_index("wheat", doy, sow, eos, spring=flag)


# --- patterns ---------------------------------------------------------------------------

def test_spring_wheat_is_pattern_3_and_winter_wheat_patterns_1_2():
    wheat = np.array([0.4, 0.4, 0.3, 0.0])
    maize = np.array([0.2, 0.2, 0.0, 0.5])
    flag = np.array([0, 1, 0, 1], "i1")
    share = patterns.pattern_fractions(wheat, maize, flag)
    # winter wheat with maize: 0.2 double cropped + 0.2 wheat only
    np.testing.assert_allclose(share[:, 0], [0.5, 0.5, 0.0, 0.0])
    # spring wheat with maize: no double cropping; wheat 0.4 -> pattern 3, maize 0.2 -> 4
    np.testing.assert_allclose(share[:, 1], [0.0, 0.0, 4 / 6, 2 / 6], rtol=1e-6)
    np.testing.assert_allclose(share[:, 2], [0.0, 1.0, 0.0, 0.0])
    np.testing.assert_allclose(share[:, 3], [0.0, 0.0, 0.0, 1.0])
    assert patterns.dominant_pattern(share).tolist() == [1, 3, 2, 4]
    assert patterns.crop_pattern(share, "wheat").tolist()[:3] == [1, 3, 2]
    assert patterns.winter_wheat(flag).tolist() == [True, False, True, False]
    assert patterns.winter_wheat(np.array([np.nan, 1.0])).tolist() == [True, False]


# --- the data contract: sowing ----------------------------------------------------------

def _covariates(with_sowing: bool = True) -> xr.Dataset:
    ny, nx = 1, 2
    yx = ("y", "x")
    crop = ("crop", "y", "x")
    ds = xr.Dataset(
        {
            "crop_fraction": (crop, np.full((2, ny, nx), 0.5, "f4")),
            # WorldCereal's winter-cereal SOS at both cells; the season is sowing..eos
            "sos": (crop, np.full((2, ny, nx), 45.0, "f4")),
            "eos": (crop, np.array([[[160.0, 190.0]], [[260.0, 260.0]]], "f4")),
            "spring_wheat": (yx, np.array([[0, 1]], "i1")),
            **{name: (yx, np.ones((ny, nx), "f4"))
               for name in ("bulk_density", "river_distance", "moisture_index", "fc")},
            "pet": (("month", "y", "x"), np.ones((12, ny, nx), "f4")),
        },
        coords={"crop": list(crops.CROPS), "y": [0.0], "x": [0.0, 1000.0],
                "month": np.arange(1, 13)},
    )
    if with_sowing:
        # winter wheat sown in autumn, spring wheat on DOY 80; maize on DOY 120
        ds["sowing"] = (crop, np.array([[[290.0, 80.0]], [[120.0, 120.0]]], "f4"))
    return ds


def test_window_rows_without_sowing_asks_for_a_rebuild():
    cov = _covariates(with_sowing=False)
    with pytest.raises(FeatureError, match=r"`sowing`.*world v2.*cropsm demo build"):
        predict.window_rows(cov, xr.Dataset(), pd.date_range("2018-05-01", "2018-05-02"),
                            "wheat")
    with pytest.raises(FeatureError, match="cropsm demo build"):
        predict.serving_covariates(cov)


def test_window_rows_season_is_sowing_to_eos(monkeypatch):
    def fake_features(covariates, daily, rows, cols, dates):
        return pd.DataFrame({name: np.zeros(len(rows)) for name in predict.BASE_FEATURES})

    monkeypatch.setattr(predict, "features_at", fake_features)
    cov = _covariates()
    assert set(predict.COVARIATES) <= set(predict.serving_covariates(cov).data_vars)
    # 1 Jan: winter wheat (sown DOY 290) is in season, spring wheat (sown DOY 80) is not;
    # 1 May: both; 1 Jul: only the spring wheat (harvested DOY 190)
    dates = pd.to_datetime(["2018-01-01", "2018-05-01", "2018-07-01"])
    rows = predict.window_rows(cov, xr.Dataset(), dates, "wheat")
    assert list(zip(rows.t.tolist(), rows.cols.tolist(), strict=True)) == [
        (0, 0), (1, 0), (1, 1), (2, 1)]
