"""The CropSM method end to end: train, card, serving kernel, product store, live runs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

from cropsm.io.catalog import open_catalog
from cropsm.io.models import ModelFileError, load_model, model_path, read_card
from cropsm.io.product import open_product, product_methods
from cropsm.pipelines._common import read_station_inputs
from cropsm.pipelines.predict import predict_product
from cropsm.pipelines.train import train_models
from cropsm.rf import model as sm_model
from cropsm.serve import live
from cropsm.serve.models import load_model as load_serving
from cropsm.serve.predict import (
    NO_CIR,
    SERVING_COLUMNS,
    PredictError,
    ServingModel,
    feature_rows,
)


@pytest.fixture(scope="module")
def cropsm_models(tiny_world, tmp_path_factory):
    """The tiny world's CropSM-method forests, in a folder of their own."""
    _, catalog, _ = tiny_world
    folder = tmp_path_factory.mktemp("cropsm_models")
    trained = train_models(catalog, folder, (("maize", "0-10cm"), ("wheat", "10-20cm")),
                           method="cropsm")
    return folder, trained


def test_training_writes_a_card_that_names_the_method(cropsm_models):
    folder, trained = cropsm_models
    path = model_path(folder, "maize", "0-10cm", method="cropsm")
    assert [m.path for m in trained][0] == path and path.name.endswith("_cropsm-method.skops")
    card = read_card(path)
    assert card["method"] == "cropsm"
    assert card["features"] == list(sm_model.CROPSM_FEATURES)
    assert 0 < card["cv_scores"]["held_out"]["r"] <= 1
    model = load_serving(path, "maize", "0-10cm")
    assert model.method == "cropsm" and model.classifier is None


def test_a_card_with_other_features_is_refused(cropsm_models, tmp_path):
    import json
    import shutil

    folder, _ = cropsm_models
    source = model_path(folder, "maize", "0-10cm", method="cropsm")
    copy = tmp_path / source.name
    shutil.copy(source, copy)
    card = read_card(source)
    card["features"] = card["features"][::-1]
    copy.with_suffix(".card.json").write_text(json.dumps(card))
    with pytest.raises(ModelFileError, match="--method cropsm"):
        load_model(copy, expected_features=sm_model.expected_features)


def test_serving_kernel_equals_scikit_learn_on_the_method_rows(cropsm_models, tiny_entries,
                                                               tiny_world):
    folder, _ = cropsm_models
    model = load_serving(model_path(folder, "maize", "0-10cm", method="cropsm"))
    serving = ServingModel.from_model(model)
    cov, daily = tiny_entries["covariates"], tiny_entries["covariates_daily"]
    meta = tiny_entries["station_meta"]
    obs = tiny_entries["stations"]
    obs = obs[(obs["crop"] == "maize") & (obs["depth"] == "0-10cm")].merge(
        meta[["station_id", "row", "col"]], on="station_id")
    dates = pd.DatetimeIndex(obs["date"])
    X = feature_rows(cov, daily, obs["row"].to_numpy(), obs["col"].to_numpy(), dates,
                     "maize", memory=True)
    assert X.shape == (len(obs), len(SERVING_COLUMNS))
    columns = [SERVING_COLUMNS.index(f) for f in model.features]
    out = serving.predict_rows(X)
    reference = model.regressor.set_params(n_jobs=1)  # threads sum the trees in any order
    np.testing.assert_array_equal(out["sm"], reference.predict(X[:, columns]))
    assert (out["cir"] == NO_CIR).all()
    with pytest.raises(PredictError, match="no irrigation module"):
        serving.predict_rows(X, irrigation=False)
    # the rows a station gets at serving time are its training rows, to float rounding
    inputs = read_station_inputs(open_catalog(tiny_world[1]))
    table = sm_model.training_table(inputs.covariates, inputs.daily, inputs.stations,
                                    inputs.station_meta, "maize", "0-10cm", memory=True)
    np.testing.assert_allclose(X[:, columns], table[list(model.features)].to_numpy("f4"),
                               rtol=1e-5, atol=1e-3)


def test_product_store_records_the_method(cropsm_models, tiny_models, product_catalog,
                                          tmp_path):
    folder, _ = cropsm_models
    run = predict_product(product_catalog, folder, (("maize", "0-10cm"),),
                          start="2018-07-01", end="2018-07-03", workers=0,
                          out=tmp_path / "sm.zarr", method="cropsm")
    ds = open_product(run.target)
    assert ds.attrs["method"] == "cropsm" and "cropsm method" in ds.attrs["source"]
    sm = ds["sm"].sel(crop="maize", depth="0-10cm")
    assert sm.notnull().any()
    assert np.nanmin(sm.values) >= 0 and np.nanmax(sm.values) <= 0.6
    # a paper-method product added to the same store keeps each product's own method
    predict_product(product_catalog, tiny_models, (("wheat", "10-20cm"),),
                    start="2018-07-01", end="2018-07-03", workers=0, out=run.target)
    assert product_methods(run.target) == {"maize/0-10cm": "cropsm", "wheat/10-20cm": "paper"}
    assert open_product(run.target).attrs["method"] == "cropsm,paper"


def test_live_runs_need_a_year_of_rain_before_them(tiny_entries):
    cov, daily = tiny_entries["covariates"], tiny_entries["covariates_daily"]
    first = pd.Timestamp(daily["time"].values[0])
    box = shapely.box(116.0, 39.0, 116.2, 39.2)
    china = shapely.box(70, 15, 140, 55)
    early = first + pd.Timedelta(days=30)
    live.plan_region(cov, daily, "maize", "0-10cm", box, early, early, china)
    with pytest.raises(PredictError, match="a year of rain"):
        live.plan_region(cov, daily, "maize", "0-10cm", box, early, early, china, memory=True)


def test_the_app_state_carries_the_method_in_the_url():
    from cropsm.app.state import AppState

    state = AppState(catalog_path="unused.yaml")
    assert state.method == "paper" and "method" not in state.query()
    assert state.apply_query({"method": "cropsm"}) == []
    assert state.query()["method"] == "cropsm"
    assert state.apply_query({"method": "magic"})[0].startswith("URL method='magic' ignored")


def test_irrigation_and_omission_scenarios_refuse_the_cropsm_method():
    from cropsm.app.scenario_view import scenario_models
    from cropsm.app.state import AppState

    state = AppState(catalog_path="unused.yaml", method="cropsm")
    for name in ("omit_soil", "irrigation"):
        with pytest.raises(PredictError, match="switch the method to paper"):
            scenario_models(state, name)


def test_the_area_of_applicability_bounds_the_memory_indices(cropsm_models, tiny_entries):
    from cropsm.rf.memory import MEMORY_FEATURES

    folder, _ = cropsm_models
    serving = ServingModel.from_model(load_serving(model_path(folder, "maize", "0-10cm",
                                                              method="cropsm")))
    assert set(MEMORY_FEATURES) <= set(serving.applicability.daily_names)
    cov, daily = tiny_entries["covariates"], tiny_entries["covariates_daily"]
    meta = tiny_entries["station_meta"]
    rows, cols = meta["row"].to_numpy()[:5], meta["col"].to_numpy()[:5]
    X = feature_rows(cov, daily, rows, cols, pd.DatetimeIndex(["2018-07-10"] * 5), "maize",
                     memory=True)
    inside = serving.applicability.inside(X, columns=SERVING_COLUMNS)
    X[:, SERVING_COLUMNS.index("api_slow")] = 1e4  # a year of rain no station has seen
    assert inside.any()
    assert not serving.applicability.inside(X, columns=SERVING_COLUMNS).any()
