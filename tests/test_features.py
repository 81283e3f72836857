import numpy as np
import pandas as pd
import pytest

from cropsm.core import crops
from cropsm.io.catalog import open_catalog, read_entry
from cropsm.rf.features import BASE_FEATURES, FEATURES, FeatureError, features_at, grid_samples
from cropsm.rf.irrigation import cir_labels, smi_threshold


@pytest.fixture(scope="module")
def world(tiny_world):
    _, catalog, _ = tiny_world
    cat = open_catalog(catalog)
    return (read_entry("covariates", cat), read_entry("covariates_daily", cat),
            read_entry("stations", cat), read_entry("station_meta", cat))


def test_feature_names_and_order():
    assert FEATURES == ("pre", "pre10", "doy", "CIR", "bulk_density", "river_distance",
                        "moisture_index", "pet", "lat", "lon", "fc")
    assert "CIR" not in BASE_FEATURES and len(BASE_FEATURES) == 10


def test_station_features_equal_grid_features_at_its_pixel(world):
    cov, daily, obs, meta = world
    sample = obs.sample(200, random_state=0).merge(meta[["station_id", "row", "col"]],
                                                   on="station_id")
    points = features_at(cov, daily, sample["row"], sample["col"], sample["date"])
    # the grid path: a window x dates, every cropland cell and day
    for _, one in sample.head(5).iterrows():
        r, c = one["row"], one["col"]
        mask = np.zeros((cov.sizes["y"], cov.sizes["x"]), bool)
        mask[max(r - 2, 0):r + 3, max(c - 2, 0):c + 3] = True
        days = pd.date_range(one["date"] - pd.Timedelta(days=2), one["date"])
        rr, cc, dd = grid_samples(mask, days)
        grid = features_at(cov, daily, rr, cc, dd)
        pick = np.nonzero((rr == r) & (cc == c) & (dd == one["date"]))[0]
        assert pick.size == 1
        i = sample.index[(sample["row"] == r) & (sample["col"] == c)
                         & (sample["date"] == one["date"])][0]
        pd.testing.assert_series_equal(grid.iloc[pick[0]], points.loc[i], check_names=False)


def test_feature_values_are_physical(world):
    cov, daily, obs, meta = world
    s = obs.merge(meta[["station_id", "row", "col"]], on="station_id")
    f = features_at(cov, daily, s["row"], s["col"], s["date"])
    assert list(f.columns) == list(BASE_FEATURES)
    assert (f["pre"] >= 0).all() and (f["pre10"] >= 0).all()
    assert (f["pre10"] > 0).mean() > 0.3  # rain does fall in ten days, most of the time
    assert f["doy"].between(1, 366).all()
    assert f["fc"].between(0.05, 0.6).all() and f["pet"].ge(0).all()
    np.testing.assert_allclose(f["lat"], s["lat"], atol=1e-6)
    np.testing.assert_allclose(f["lon"], s["lon"], atol=1e-6)
    assert not f.isna().any().any()


def test_pre10_is_the_sum_of_the_ten_previous_days(world):
    cov, daily, obs, meta = world
    one = obs.merge(meta[["station_id", "row", "col"]], on="station_id").iloc[100]
    days = pd.date_range(one["date"] - pd.Timedelta(days=10), one["date"])
    f = features_at(cov, daily, [one["row"]] * len(days), [one["col"]] * len(days), days)
    assert f["pre10"].iloc[-1] == pytest.approx(f["pre"].iloc[:-1].sum(), rel=1e-5)


def test_missing_covariate_and_dates_outside_are_named(world):
    cov, daily, obs, meta = world
    with pytest.raises(FeatureError, match="fc"):
        features_at(cov.drop_vars("fc"), daily, [0], [0], ["2018-05-01"])
    with pytest.raises(FeatureError, match="pre10 looks back"):
        features_at(cov, daily, [0], [0], ["2030-05-01"])


def test_cir_labels_follow_eq1():
    fc = np.array([0.3, 0.3, 0.3])
    # maize jointing threshold is 70 % of field capacity
    labels = cir_labels([0.20, 0.21, 0.25], fc, "maize", ["jointing"] * 3, "0-10cm")
    np.testing.assert_array_equal(labels, [0, 1, 1])
    assert smi_threshold("wheat", ["grouting"], "10-20cm")[0] == 55
    with pytest.raises(ValueError, match="No Table 2 threshold"):
        cir_labels([0.2], [0.3], "maize", ["tillering"], "0-10cm")
    with pytest.raises(ValueError, match="Unknown depth"):
        smi_threshold("maize", ["jointing"], "0-50cm")


def test_observed_stages_have_thresholds(world):
    _, _, obs, _ = world
    for crop in crops.CROPS:
        stages = obs.loc[obs.crop == crop, "phenology"].astype(str)
        assert not np.isnan(smi_threshold(crop, stages, "0-10cm")).any()
