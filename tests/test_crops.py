import numpy as np
import pandas as pd
import pytest

from cropsm.core import crops


def test_table2_thresholds_cover_every_stage_and_depth():
    for crop in crops.CROPS:
        table = crops.smi_lower(crop)
        assert table.shape == (len(crops.DEPTHS), len(crops.STAGES[crop]))
        assert set(crops.SMI_RANGE[crop]) == set(crops.STAGES[crop])
        for lo, hi in crops.SMI_RANGE[crop].values():
            assert 0 < lo < hi <= 100
    # spot values from the paper's Table 2
    assert crops.SMI_RANGE["wheat"]["jointing"] == (80, 95)
    assert crops.SMI_RANGE["maize"]["seedling"] == (65, 75)


def test_stage_index_within_and_outside_season():
    # maize sown DOY 120, harvested DOY 260
    doy = np.array([100, 120, 125, 200, 259, 261])
    idx = crops.stage_index("maize", doy, 120, 260)
    assert idx[0] == -1 and idx[-1] == -1
    assert idx[1] == 0
    assert np.all(np.diff(idx[1:5]) >= 0)
    assert crops.stage_names("maize")[idx[4]] == "mature"


def test_stage_index_wraps_the_new_year_for_winter_wheat():
    idx = crops.stage_index("wheat", np.array([280, 350, 20, 150, 170]), 280, 160)
    names = [crops.stage_names("wheat")[i] if i >= 0 else None for i in idx]
    assert names[0] == "seeding"
    assert names[1] == "tillering" and names[2] == "tillering"
    assert names[3] in ("grouting", "mature")
    assert names[4] is None


def test_in_season_takes_the_sowing_day():
    # winter wheat sown on DOY 280, harvested on DOY 160: January is in season, July not
    season = crops.in_season("wheat", pd.to_datetime(["2018-01-15", "2018-07-15"]),
                             np.array([280.0, np.nan]), np.array([160.0, 160.0]))
    assert season.shape == (2, 2)
    assert season[:, 0].tolist() == [True, False]
    assert not season[:, 1].any()  # no sowing day: never in season


def test_stage_index_nan_calendar_is_out_of_season():
    assert crops.stage_index("wheat", 100, np.nan, 160) == -1


def test_unknown_crop_message():
    with pytest.raises(ValueError, match="choose one of wheat, maize"):
        crops.stage_names("rice")
