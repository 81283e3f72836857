"""Scenarios: each run checked against the saved scikit-learn models or a direct prediction."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cropsm.app import data
from cropsm.app.scenario_view import ScenarioView, plan_scenario
from cropsm.app.state import AppState
from cropsm.core.regions import RegionError
from cropsm.io.catalog import entry_path, open_catalog
from cropsm.io.models import model_path
from cropsm.rf.features import BASE_FEATURES, FEATURES
from cropsm.serve import live
from cropsm.serve.forest_scenarios import check_factor, run_scenario, scenario_summary
from cropsm.serve.models import load_model
from cropsm.serve.predict import COVARIATES, PredictError, apply_model, predict_window, window_rows

BOX = "116.0,39.0,116.8,39.8"


@pytest.fixture
def state(served_catalog, tiny_models, monkeypatch):
    monkeypatch.setenv("CROPSM_MODELS", str(tiny_models))
    state = AppState(catalog_path=str(served_catalog))
    state.set_dates(data.product_dates(state.catalog_path))
    state.set_region(BOX)
    state.param.update(run_start=dt.date(2018, 5, 1), run_end=dt.date(2018, 5, 6))
    return state


def _inputs(state):
    path = state.catalog_path
    cov, daily = data.dataset(path, "covariates"), data.dataset(path, "covariates_daily")
    models = {crop: data.serving_model(crop, state.depth) for crop in ("wheat", "maize")}
    return models, cov, daily, plan_scenario(state)


def test_irrigation_off_equals_sklearn_with_cir_zero(state, tiny_models):
    models, cov, daily, plan = _inputs(state)
    result = run_scenario("irrigation", models, cov, daily, plan)
    window = cov[list(COVARIATES)].isel(y=plan.rows, x=plan.cols).load()
    direct = predict_window(models["wheat"], window, daily, plan.dates, plan.region)
    np.testing.assert_array_equal(result.baseline["sm"], direct["sm"])
    rows = window_rows(window, daily, plan.dates, "wheat", plan.region)
    assert rows.t.size > 100
    reference = load_model(model_path(tiny_models, "wheat", "0-10cm")).regressor
    reference.set_params(n_jobs=1)
    X = rows.X.copy()
    X[:, FEATURES.index("CIR")] = 0
    np.testing.assert_array_equal(result.scenario["sm"][rows.t, rows.rows, rows.cols],
                                  reference.predict(X))
    assert np.array_equal(np.isfinite(result.difference), result.baseline["predicted"])


def test_precipitation_scales_pre_and_pre10_together(state):
    models, cov, daily, plan = _inputs(state)
    window = cov[list(COVARIATES)].isel(y=plan.rows, x=plan.cols).load()
    base = window_rows(window, daily, plan.dates, "wheat", plan.region).X
    drier = window_rows(window, daily.assign(pre=daily["pre"] * np.float32(0.5)), plan.dates,
                        "wheat", plan.region).X
    for name in ("pre", "pre10"):
        column = FEATURES.index(name)
        np.testing.assert_allclose(drier[:, column], 0.5 * base[:, column], rtol=1e-5,
                                   atol=1e-4)
    others = [FEATURES.index(f) for f in BASE_FEATURES if f not in ("pre", "pre10")]
    np.testing.assert_array_equal(drier[:, others], base[:, others])
    unchanged = run_scenario("precipitation", models, cov, daily, plan, factor=0.0)
    np.testing.assert_array_equal(unchanged.scenario["sm"], unchanged.baseline["sm"])
    result = run_scenario("precipitation", models, cov, daily, plan, factor=-0.5)
    assert "-50%" in result.label
    assert np.nanmean(result.difference) < 0  # half the rain: drier on average
    numbers = scenario_summary(result)
    assert numbers["mean_difference"] == pytest.approx(float(np.nanmean(result.difference)))
    assert numbers["drier_share"] + numbers["wetter_share"] <= 1


def test_crop_swap_applies_the_other_model_to_the_same_rows(state):
    models, cov, daily, plan = _inputs(state)
    result = run_scenario("crop_swap", models, cov, daily, plan)
    window = cov[list(COVARIATES)].isel(y=plan.rows, x=plan.cols).load()
    rows = window_rows(window, daily, plan.dates, "wheat", plan.region)
    np.testing.assert_array_equal(result.scenario["sm"], apply_model(models["maize"], rows)["sm"])
    np.testing.assert_array_equal(result.scenario["predicted"], result.baseline["predicted"])
    assert result.label == "maize model on wheat cells and season"


@pytest.mark.parametrize("factor", [float("nan"), 0.51, -2, "a lot", None])
def test_precipitation_factor_out_of_range_is_refused(factor):
    with pytest.raises(PredictError, match="factor"):
        check_factor(factor)


def test_scenario_budget_and_regions_without_cropland(state, tiny_entries, monkeypatch):
    from cropsm.core.grid import Grid

    monkeypatch.setattr(live, "LIVE_BUDGET_PIXEL_DAYS", 40)
    with pytest.raises(PredictError, match="over the live budget of 20"):
        plan_scenario(state)
    monkeypatch.undo()
    cov = tiny_entries["covariates"]
    wheat = cov["crop_fraction"].sel(crop="wheat").values >= 0.10
    lon, lat = Grid.from_coords(cov["x"].values, cov["y"].values).lonlat()
    empty = next((r, c) for r in range(5, wheat.shape[0] - 5, 5)
                 for c in range(5, wheat.shape[1] - 5, 5)
                 if not wheat[r - 3:r + 4, c - 3:c + 4].any())
    r, c = empty
    state.set_region(f"{lon[r, c] - 0.01:.4f},{lat[r, c] - 0.01:.4f},"
                     f"{lon[r, c] + 0.01:.4f},{lat[r, c] + 0.01:.4f}")
    with pytest.raises(RegionError, match="holds no wheat cropland"):
        plan_scenario(state)
    state.set_region("100,30,100.5,30.5")  # China, but outside the tiny world's grid
    with pytest.raises(RegionError, match="outside the data's grid"):
        plan_scenario(state)


def _files(store: Path) -> dict[str, bytes]:
    return {str(p.relative_to(store)): p.read_bytes() for p in sorted(store.rglob("*"))
            if p.is_file()}


def test_scenario_view_runs_exports_and_never_writes_the_product(state):
    store = Path(entry_path(open_catalog(state.catalog_path), "soil_moisture")).resolve()
    before = _files(store)
    view = ScenarioView(state=state)
    view._name.value = "precipitation"
    view._factor.value = 0.25
    asyncio.run(view.run())
    assert state.message == "Scenario finished: daily precipitation +25%.", state.message
    text = view._csv_file().getvalue().decode()
    assert "# scenario: daily precipitation +25%" in text
    table = pd.read_csv(io.StringIO(text), comment="#")
    assert list(table.columns) == ["date", "baseline_sm", "scenario_sm", "difference"]
    assert len(table) == 6
    view._factor.value = 0.9
    asyncio.run(view.run())
    assert state.message.startswith("Scenario refused: The precipitation factor 0.9")
    assert _files(store) == before


@pytest.fixture(scope="module")
def reduced_models(tiny_world, tiny_models):
    """Reduced wheat 0-10 cm models without precipitation and without CIR."""
    from click.testing import CliRunner

    from cropsm.cli import main

    result = CliRunner().invoke(main, [
        "train", "--crop", "wheat", "--depth", "0-10cm", "--catalog", str(tiny_world[1]),
        "--models", str(tiny_models), "--omit", "precipitation", "--omit", "cir",
        "--if-missing"])
    assert result.exit_code == 0, result.output
    assert "wheat/0-10cm without precipitation" in result.output
    return tiny_models


def test_reduced_model_files_and_serving_equal_sklearn(reduced_models, tiny_entries):
    from cropsm.io.models import read_card
    from cropsm.rf.model import kept_features
    from cropsm.serve.predict import ServingModel

    path = model_path(reduced_models, "wheat", "0-10cm", "precipitation")
    card = read_card(path)
    assert card["omitted_group"] == "precipitation"
    assert card["features"] == list(kept_features("precipitation"))
    assert "pre" not in card["features"] and "pre10" not in card["features"]
    model = load_model(path, "wheat", "0-10cm")
    serving = ServingModel.from_model(model, card["sha256"])
    window = tiny_entries["covariates"][list(COVARIATES)].isel(y=slice(40, 120),
                                                               x=slice(40, 120)).load()
    rows = window_rows(window, tiny_entries["covariates_daily"],
                       pd.date_range("2018-05-01", periods=3), "wheat")
    assert rows.t.size > 0
    X = rows.X.copy()
    X[:, FEATURES.index("CIR")] = model.classifier.predict(
        X[:, [FEATURES.index(f) for f in BASE_FEATURES]])
    model.regressor.set_params(n_jobs=1)
    expected = model.regressor.predict(X[:, [FEATURES.index(f) for f in model.features]])
    np.testing.assert_array_equal(serving.predict_rows(rows.X)["sm"], expected)


def test_omission_scenario_shows_the_r2_ranking(state, reduced_models):
    from cropsm.rf.model import omission_ranking

    view = ScenarioView(state=state)
    view._name.value = "omit_precipitation"
    asyncio.run(view.run())
    assert state.message == "Scenario finished: model without the precipitation features."
    text = view._summary.object
    assert "R² lost without each feature group" in text
    table = data.omission_table("wheat", "0-10cm")
    assert set(table["group"]) == {"precipitation", "cir"}
    first = table.iloc[0]
    assert f"1. {first['group']}: R² {first['r2']:.3f}, loss {first['r2_loss']:+.3f}" in text
    ranking = omission_ranking({"r2": 0.5, "rmse": 0.05},
                               {"a": {"r2": 0.45, "rmse": 0.055}, "b": {"r2": 0.2, "rmse": 0.07}})
    assert list(ranking["group"]) == ["b", "a"]
    assert ranking["r2_loss"].tolist() == pytest.approx([0.3, 0.05])
    view._name.value = "omit_soil"
    asyncio.run(view.run())
    assert "train it with `cropsm train --omit soil`" in state.message
