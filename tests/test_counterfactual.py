"""Counterfactual truth: the world re-simulated under a scenario, and the response's skill."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cropsm.analysis.scenario_skill import SIGN_THRESHOLD, response_skill, verdict
from cropsm.app import data
from cropsm.app.scenario_view import plan_scenario
from cropsm.app.state import AppState
from cropsm.demo.counterfactual import Change, true_response
from cropsm.pipelines.counterfactual import checked_scenario, truth_check
from cropsm.pipelines.sources import CatalogReader

ROWS, COLS = slice(60, 110), slice(60, 110)
DATES = pd.date_range("2018-07-01", periods=12)


@pytest.fixture(scope="module")
def maize_cells(tiny_entries):
    cov = tiny_entries["covariates"]
    return cov["crop_fraction"].sel(crop="maize").isel(y=ROWS, x=COLS).values > 0


def _response(tiny_entries, cells, change, crop="maize", layer=0):
    return true_response(tiny_entries["covariates"], tiny_entries["covariates_daily"], crop,
                         layer, ROWS, COLS, cells, DATES, change)


def test_the_baseline_is_the_stored_truth(tiny_entries, maize_cells):
    response = _response(tiny_entries, maize_cells, Change())
    stored = tiny_entries["truth"]["sm"].sel(crop="maize", depth="0-10cm", time=DATES)
    stored = stored.isel(y=ROWS, x=COLS).values
    assert maize_cells.sum() > 100
    # the store keeps SM to 1e-4 (its scale factor): the rest is the same physics
    np.testing.assert_allclose(response.baseline[:, maize_cells], stored[:, maize_cells],
                               atol=1e-4)
    assert np.isnan(response.baseline[:, ~maize_cells]).all()
    np.testing.assert_array_equal(response.difference[:, maize_cells], 0)  # no change


def test_changes_move_the_truth_the_way_physics_says(tiny_entries, maize_cells):
    wetter = _response(tiny_entries, maize_cells, Change(rain_factor=1.3))
    drier = _response(tiny_entries, maize_cells, Change(rain_factor=0.7))
    unirrigated = _response(tiny_entries, maize_cells, Change(irrigation=False))
    assert np.nanmean(wetter.difference) > 0.002
    assert np.nanmean(drier.difference) < -0.002
    assert np.nanmean(unirrigated.difference) < 0
    assert np.nanmax(unirrigated.difference) <= 1e-6  # irrigation only ever adds water
    fallow = _response(tiny_entries, maize_cells, Change(pattern=4))
    assert np.isfinite(fallow.difference[:, maize_cells]).all()


def test_response_skill_against_scipy_and_by_hand():
    rng = np.random.default_rng(3)
    true = rng.normal(-0.01, 0.01, 500)
    model = 0.7 * true + rng.normal(0, 0.003, 500)
    model[:5] = np.nan
    skill = response_skill(model, true)
    ok = np.isfinite(model)
    assert skill["n"] == ok.sum()
    assert skill["r"] == pytest.approx(stats.pearsonr(model[ok], true[ok])[0], rel=1e-10)
    assert skill["bias"] == pytest.approx(model[ok].mean() - true[ok].mean())
    signed = ok & (np.abs(true) >= SIGN_THRESHOLD)
    assert skill["sign_agreement"] == pytest.approx(
        (np.sign(model[signed]) == np.sign(true[signed])).mean())
    assert skill["mean_ratio"] == pytest.approx(model[ok].mean() / true[ok].mean())
    assert verdict(skill) is None  # 70 % of the true change: within a factor of two
    wrong = response_skill(-true, true)
    assert "sign is right on only 0%" in verdict(wrong)
    assert response_skill([np.nan], [0.1])["n"] == 0


@pytest.fixture
def state(served_catalog, tiny_models, monkeypatch):
    monkeypatch.setenv("CROPSM_MODELS", str(tiny_models))
    state = AppState(catalog_path=str(served_catalog))
    state.set_region("116.0,39.0,116.8,39.8")
    state.param.update(run_start=dt.date(2018, 5, 1), run_end=dt.date(2018, 5, 6))
    return state


def test_scenarios_are_scored_against_the_true_response(state):
    reader = CatalogReader(state.catalog_path)
    plan = plan_scenario(state)
    models = {crop: data.serving_model(crop, state.depth) for crop in ("wheat", "maize")}
    result, check = checked_scenario(reader, "precipitation", models, plan, -0.4)
    assert check is not None and check.skill["n"] == int(result.baseline["predicted"].sum())
    # no sign asserted: on this irrigated plain less rain brings irrigation forward, and
    # the true response can be wetter (see docs/scenarios.md)
    assert np.isfinite(check.skill["mean_true"]) and np.isfinite(check.skill["r"])
    direct = true_response(reader.dataset("covariates"), reader.dataset("covariates_daily"),
                           "wheat", 0, plan.rows, plan.cols,
                           result.baseline["predicted"].any(axis=0), plan.dates,
                           Change(rain_factor=0.6))
    np.testing.assert_array_equal(check.truth.difference, direct.difference)
    swapped, none = checked_scenario(reader, "crop_swap", models, plan)
    assert none is None and truth_check(reader, swapped) is None  # changes the model only


def test_a_cells_own_single_pattern_has_no_true_response(tiny_entries):
    from cropsm.demo.counterfactual import true_pattern_response

    cov = tiny_entries["covariates"]
    whole = slice(0, cov.sizes["y"]), slice(0, cov.sizes["x"])
    shares = cov["pattern_fraction"].values
    code = int(np.argmax([(s > 0.9999).sum() for s in shares])) + 1
    pure = shares[code - 1] > 0.9999  # cells all of whose cropland follows ``code``
    mixed = (shares.sum(axis=0) > 0) & ~pure
    assert pure.sum() > 20 and mixed.sum() > 20
    response = true_pattern_response(cov, tiny_entries["covariates_daily"], 2, *whole,
                                     pure | mixed, DATES, code)
    np.testing.assert_allclose(response.difference[:, pure], 0, atol=1e-4)
    assert np.abs(response.difference[:, mixed]).max() > 1e-3


def test_network_pattern_scenarios_are_scored_against_the_truth(state, tiny_models):
    from cropsm.io.models import network_path
    from cropsm.nn import pattern_scenarios as ps
    from cropsm.pipelines.counterfactual import pattern_truth_check
    from cropsm.serve.models import load_network

    reader = CatalogReader(state.catalog_path)
    plan = plan_scenario(state)
    network = load_network(network_path(tiny_models))
    cov, daily = reader.dataset("covariates"), reader.dataset("covariates_daily")
    code = cov.attrs["patterns_present"][0]
    result = ps.pattern_scenario(network, cov, daily, reader.table("stations"),
                                 reader.table("station_meta"), plan.rows, plan.cols,
                                 plan.region, plan.dates, "20-30cm", code)
    check = pattern_truth_check(reader, network, result, plan, "20-30cm", code)
    assert check is not None
    assert check.skill["n"] == int(np.isfinite(result["scenario"].values).sum())
    assert np.isfinite(check.skill["mean_true"])


def test_control_maps_are_each_reduced_network_minus_the_full_one(state, tiny_models):
    from cropsm.io.models import network_path
    from cropsm.nn import pattern_scenarios as ps
    from cropsm.pipelines.control_maps import control_experiment_maps
    from cropsm.serve.models import load_network

    reader = CatalogReader(state.catalog_path)
    plan = plan_scenario(state)
    controls = control_experiment_maps(reader, tiny_models, plan, "30-40cm")
    assert sorted(controls.ranking["group"]) == ["cropping_pattern", "soil"]
    assert controls.ranking["r2_loss"].is_monotonic_decreasing
    cov, daily = reader.dataset("covariates"), reader.dataset("covariates_daily")
    args = (cov, daily, plan.rows, plan.cols, plan.region, plan.dates, "30-40cm")
    full = ps.predict_region(load_network(network_path(tiny_models)), *args)
    soil = ps.predict_region(load_network(network_path(tiny_models, "soil")), *args)
    np.testing.assert_array_equal(controls.maps["without_soil"].values,
                                  (soil - full).values)
    assert np.isfinite(controls.maps["full"].values).any()


def test_the_control_maps_command_writes_netcdf(tiny_world, tiny_models, tmp_path):
    import xarray as xr
    from click.testing import CliRunner

    from cropsm.cli import main

    out = tmp_path / "controls.nc"
    result = CliRunner().invoke(main, [
        "network", "controls", "--bbox", "116.0,39.0,116.8,39.8", "--start", "2018-05-01",
        "--end", "2018-05-03", "--layer", "30-40cm", "--out", str(out),
        "--catalog", str(tiny_world[1]), "--models", str(tiny_models)])
    assert result.exit_code == 0, result.output
    assert "without soil: training R2 loss" in result.output
    with xr.open_dataset(out) as ds:
        assert {"full", "without_soil", "without_cropping_pattern"} <= set(ds.data_vars)
        assert ds.sizes["time"] == 3 and "soil" in ds.attrs["ranking_by_training_r2_loss"]


def test_station_irrigation_flags_agree_with_the_truths_irrigation(tiny_entries):
    meta, truth = tiny_entries["station_meta"], tiny_entries["truth"]
    assert meta["irrigated"].dtype == bool
    assert meta["irrigated"].any() and (~meta["irrigated"]).any()
    for crop in ("wheat", "maize"):
        mine = meta[meta["crops"] == crop]
        events = truth["irrigation_events"].sel(crop=crop).values[mine["row"], mine["col"]]
        # a field the truth irrigated in the map year is an irrigated station's plot
        assert mine["irrigated"].to_numpy()[events > 0].all()
        assert (events > 0).any()


def test_the_rainfed_forest_learns_from_rainfed_stations_only(tiny_world, tiny_entries,
                                                              tiny_models, tmp_path):
    from cropsm.core.errors import InputDataError
    from cropsm.io.models import model_path, read_card
    from cropsm.pipelines.train import rainfed_rows
    from cropsm.rf.features import RAINFED_ONLY
    from cropsm.rf.model import training_table

    e = tiny_entries
    meta = e["station_meta"]
    table = training_table(e["covariates"], e["covariates_daily"], e["stations"], meta,
                           "maize", "0-10cm")
    rows = rainfed_rows(table, meta)
    irrigated = set(meta.loc[meta["irrigated"], "station_id"])
    assert not set(table["station_id"].iloc[rows]) & irrigated
    assert len(rows) == (~table["station_id"].isin(irrigated)).sum() < len(table)
    card = read_card(model_path(tiny_models, "maize", "0-10cm", RAINFED_ONLY, "cropsm"))
    full = read_card(model_path(tiny_models, "maize", "0-10cm", method="cropsm"))
    assert card["method"] == "cropsm" and card["omitted_group"] == RAINFED_ONLY
    assert card["n_samples"] < full["n_samples"]
    with pytest.raises(InputDataError, match="no 'irrigated' column"):
        rainfed_rows(table, meta.drop(columns="irrigated"))
    wheat = training_table(e["covariates"], e["covariates_daily"], e["stations"], meta,
                           "wheat", "0-10cm")
    with pytest.raises(InputDataError, match="Only 2 rain-fed stations observe wheat at 0-10"):
        rainfed_rows(wheat, meta, "wheat at 0-10cm")
    # training skips such a product with that warning and trains the others
    from cropsm.pipelines.train import train_models

    with pytest.warns(UserWarning, match="not available for wheat at 0-10cm"):
        trained = train_models(tiny_world[1], tmp_path, (("wheat", "0-10cm"),),
                               method="cropsm", omit=(RAINFED_ONLY,))
    assert [m.omitted for m in trained] == [None]


def test_learned_irrigation_off_is_scored_against_the_truth(state):
    from cropsm.app.scenario_view import scenario_models
    from cropsm.serve.forest_scenarios import run_scenario
    from cropsm.serve.predict import PredictError, apply_model, serving_covariates, window_rows

    state.param.update(crop="maize", run_start=dt.date(2018, 7, 1), run_end=dt.date(2018, 7, 8))
    reader = CatalogReader(state.catalog_path)
    plan = plan_scenario(state, "irrigation_rainfed")
    models = scenario_models(state, "irrigation_rainfed")  # the app's method is paper
    assert {m.method for m in models.values()} == {"cropsm"} and "rainfed" in models
    result, check = checked_scenario(reader, "irrigation_rainfed", models, plan)
    assert check is not None and check.skill["n"] == int(result.baseline["predicted"].sum())
    # switching irrigation off never wets a field
    assert np.nanmax(check.truth.difference) <= 1e-4 and check.skill["mean_true"] < 0
    # the response is the rain-fed forest minus the forest of all stations, in that order
    cov, daily = reader.dataset("covariates"), reader.dataset("covariates_daily")
    window = serving_covariates(cov).isel(y=plan.rows, x=plan.cols).load()
    rows = window_rows(window, daily, plan.dates, plan.crop, plan.region, memory=True)
    np.testing.assert_array_equal(result.baseline["sm"],
                                  apply_model(models[state.crop], rows)["sm"])
    np.testing.assert_array_equal(result.scenario["sm"], apply_model(models["rainfed"], rows)["sm"])
    assert np.isfinite(check.skill["r"]) and np.isfinite(check.skill["mean_model"])
    # a forest that is not the rain-fed one is refused, not silently subtracted
    with pytest.raises(PredictError, match="--rainfed"):
        run_scenario("irrigation_rainfed", {state.crop: models[state.crop],
                                            "rainfed": models[state.crop]},
                     reader.dataset("covariates"), reader.dataset("covariates_daily"), plan)
    with pytest.raises(PredictError, match="cropsm train --method cropsm --rainfed"):
        run_scenario("irrigation_rainfed", {state.crop: models[state.crop]},
                     reader.dataset("covariates"), reader.dataset("covariates_daily"), plan)
