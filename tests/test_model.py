import json

import numpy as np
import pytest

from cropsm.io.catalog import open_catalog, read_entry
from cropsm.io.models import ModelFileError, save_model
from cropsm.rf.features import FEATURES
from cropsm.rf.model import PAPER_PARAMS, fit_model, split_within_zones, training_table
from cropsm.serve.models import load_model


@pytest.fixture(scope="module")
def table(tiny_world):
    _, catalog, _ = tiny_world
    cat = open_catalog(catalog)
    return training_table(read_entry("covariates", cat), read_entry("covariates_daily", cat),
                          read_entry("stations", cat), read_entry("station_meta", cat),
                          "maize", "0-10cm")


@pytest.fixture(scope="module")
def fitted(table):
    return fit_model(table, "maize", "0-10cm", seed=1, n_jobs=1)


def test_training_table(table):
    assert list(table.columns[:len(FEATURES)]) == list(FEATURES)
    assert set(table["CIR"].unique()) <= {0.0, 1.0}
    assert table["sm"].between(0, 0.6).all()


def test_paper_defaults(fitted):
    reg = fitted.regressor
    assert (reg.n_estimators, reg.max_features, reg.min_samples_leaf, reg.max_samples) == (
        50, 4, 1, None)
    assert PAPER_PARAMS["n_estimators"] == 50


def test_split_is_90_10_within_each_zone(table):
    train, test = split_within_zones(table, seed=0)
    assert len(np.intersect1d(train, test)) == 0 and len(train) + len(test) == len(table)
    for zone, group in table.groupby("zone"):
        n_test = np.isin(group.index, test).sum()
        assert abs(n_test - 0.1 * len(group)) <= 1, zone


def test_prediction_uses_predicted_cir_unless_given(fitted, table):
    base = table.drop(columns=["CIR"])
    auto = fitted.predict(base)
    given = fitted.predict(base, cir=fitted.predict_cir(base))
    np.testing.assert_array_equal(auto, given)
    observed = fitted.predict(base, cir=table["CIR"])
    assert auto.shape == observed.shape == (len(table),)


def test_save_load_roundtrip_and_card(fitted, table, tmp_path):
    path = save_model(fitted, tmp_path, cv_scores={"rmse": 0.03})
    card = json.loads(path.with_suffix(".card.json").read_text())
    assert card["features"] == list(FEATURES)
    assert card["file_size_bytes"] == path.stat().st_size
    assert card["hyper_parameters"]["n_estimators"] == 50
    assert card["library_versions"]["scikit-learn"]
    loaded = load_model(path)
    base = table.drop(columns=["CIR"])
    np.testing.assert_array_equal(loaded.predict(base), fitted.predict(base))
    assert not list(tmp_path.glob(".*tmp*"))


def test_changed_model_file_is_refused(fitted, tmp_path):
    path = save_model(fitted, tmp_path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="does not match its card") as info:
        load_model(path)
    assert str(path) in str(info.value)


def test_card_with_other_features_is_refused(fitted, tmp_path):
    path = save_model(fitted, tmp_path)
    card_path = path.with_suffix(".card.json")
    card = json.loads(card_path.read_text())
    card["features"] = card["features"][::-1]
    card_path.write_text(json.dumps(card))
    with pytest.raises(ModelFileError, match="trained on features"):
        load_model(path)


def test_missing_model_message(tmp_path):
    with pytest.raises(ModelFileError, match="train it with `cropsm train`"):
        load_model(tmp_path / "nope.skops")


def test_no_observations_for_crop_is_named(tiny_world):
    _, catalog, _ = tiny_world
    cat = open_catalog(catalog)
    stations = read_entry("stations", cat)
    with pytest.raises(ValueError, match="No station observations for wheat"):
        training_table(read_entry("covariates", cat), read_entry("covariates_daily", cat),
                       stations[stations["crop"] == "maize"], read_entry("station_meta", cat),
                       "wheat", "0-10cm")
