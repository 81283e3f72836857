import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from cropsm.analysis.validation import (
    markdown_summary,
    region_report,
    truth_window_report,
    validate,
)
from cropsm.cli import main
from cropsm.core import metrics
from cropsm.rf.model import training_table


@pytest.fixture(scope="module")
def inputs(tiny_entries):
    return tiny_entries


@pytest.fixture(scope="module")
def report(inputs):
    table = training_table(inputs["covariates"], inputs["covariates_daily"],
                           inputs["stations"], inputs["station_meta"], "wheat", "10-20cm")
    return validate(table, "wheat", "10-20cm", seed=0, n_jobs=1), table


def test_report_has_every_row(report):
    rep, table = report
    assert set(rep["rows"]) == {"paper", "honest", "no_irrigation", "honest_cross_fitted",
                                "station_blocked", "zone_blocked"}
    assert rep["n_test"] == pytest.approx(0.1 * len(table), abs=2)
    for row in ("paper", "honest", "no_irrigation", "honest_cross_fitted"):
        assert rep["rows"][row]["n"] == rep["n_test"]
    assert rep["rows"]["station_blocked"]["n"] == len(table)
    assert set(rep["permutation_importance_r2"]) >= {"CIR", "pre10", "fc"}
    assert 0 <= rep["classifier"]["overall_accuracy"] <= 1


def test_honest_rows_are_not_better_than_the_papers_leaky_row(report):
    rep, _ = report
    rows = rep["rows"]
    # CIR from the observation leaks the target: the paper's setting is optimistic
    assert rows["paper"]["rmse"] <= rows["honest"]["rmse"]


def test_truth_window_excludes_its_stations(inputs, report):
    _, table = report
    out = truth_window_report(table, inputs["covariates"], inputs["covariates_daily"],
                              inputs["station_meta"], inputs["truth"], "wheat", "10-20cm")
    assert out["stations_left_out"] >= 1
    assert out["cells"] > 0 and out["n"] > 0
    assert np.isfinite(out["rmse"])


def test_region_report_recomputes_the_report_from_its_tables(report):
    """With no region the per-sample tables give back every figure of the report."""
    import shapely

    rep, _ = report
    tables = rep["tables"]
    whole = region_report(tables["test"], tables["samples"], tables["classifier"], None)
    assert set(whole["rows"]) == set(rep["rows"])
    for key, row in rep["rows"].items():
        for metric in ("n", "r", "r2", "bias", "rmse", "ubrmse"):
            assert whole["rows"][key][metric] == pytest.approx(row[metric], rel=1e-9,
                                                               nan_ok=True), key
    assert whole["per_month_spatial_r"] == pytest.approx(rep["per_month_spatial_r"])
    assert whole["per_zone_temporal"] == rep["per_zone_temporal"]
    assert whole["classifier"] == pytest.approx(rep["classifier"], nan_ok=True)
    assert whole["irrigation_module_effect"] == pytest.approx(rep["irrigation_module_effect"])
    # a region holding one station's position only: its rows count only its samples
    first = tables["samples"].iloc[0]
    spot = shapely.box(first["lon"] - 1e-3, first["lat"] - 1e-3, first["lon"] + 1e-3,
                       first["lat"] + 1e-3)
    one = region_report(tables["test"], tables["samples"], tables["classifier"], spot)
    near = (tables["samples"]["lon"] - first["lon"]).abs() < 1e-3
    at_spot = tables["samples"][near
                                & ((tables["samples"]["lat"] - first["lat"]).abs() < 1e-3)]
    assert one["stations"] == at_spot["station_id"].nunique()
    assert one["rows"]["station_blocked"]["n"] == len(at_spot)
    outside = region_report(tables["test"], tables["samples"], tables["classifier"],
                            shapely.box(0, 0, 1, 1))
    assert outside["rows"] == {} and outside["stations"] == 0


def test_markdown_summary_lists_rows(report):
    rep, _ = report
    text = markdown_summary([rep])
    assert "| wheat/10-20cm | honest |" in text and "ROC AUC" in text


def test_cli_train_and_validate(tiny_world, tmp_path, monkeypatch):
    _, catalog, _ = tiny_world
    runner = CliRunner()
    res = runner.invoke(main, ["train", "--crop", "maize", "--depth", "0-10cm",
                               "--catalog", str(catalog), "--models", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "cropsm_maize_0-10cm.skops").exists()
    assert (tmp_path / "cropsm_maize_0-10cm.card.json").exists()
    res = runner.invoke(main, ["validate", "--crop", "maize", "--depth", "0-10cm",
                               "--catalog", str(catalog), "--out", str(tmp_path / "val")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "val" / "validation_maize_0-10cm.json").exists()
    assert "station_blocked" in (tmp_path / "val" / "summary.md").read_text()
    report = json.loads((tmp_path / "val" / "validation_maize_0-10cm.json").read_text())
    samples = pd.read_parquet(tmp_path / "val" / "samples_maize_0-10cm.parquet")
    assert len(samples) == report["n_samples"]
    assert not (tmp_path / "val" / ".versions").exists()  # plain files, fit for a repository
    assert metrics.skill_table(samples["station_blocked"], samples["obs"])["r"] == \
        pytest.approx(report["rows"]["station_blocked"]["r"], rel=1e-12)
    classifier = pd.read_parquet(tmp_path / "val" / "classifier_maize_0-10cm.parquet")
    assert len(classifier) == report["n_test"]

    from cropsm.app.skill_view import SkillView
    from cropsm.app.state import AppState

    monkeypatch.setenv("CROPSM_REPORTS", str(tmp_path / "val"))
    view = SkillView(state=AppState(crop="maize", depth="0-10cm"))
    assert f"r = {report['rows']['station_blocked']['r']:.3f}" in view._summary.object


def test_train_on_catalog_without_the_crop_says_so(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("entries: [")
    res = CliRunner().invoke(main, ["train", "--catalog", str(bad), "--models", str(tmp_path)])
    assert res.exit_code == 2 and "not a valid intake catalog" in res.output
