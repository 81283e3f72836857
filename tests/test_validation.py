import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from cropsm.analysis.report import ValidationReport
from cropsm.analysis.validation import (
    markdown_summary,
    metrics_table,
    region_report,
    truth_window_report,
    validate,
)
from cropsm.cli import main
from cropsm.core import metrics
from cropsm.io.store import read_json
from cropsm.rf.model import training_table


@pytest.fixture(scope="module")
def inputs(tiny_entries):
    return tiny_entries


@pytest.fixture(scope="module")
def report(inputs):
    table = training_table(inputs["covariates"], inputs["covariates_daily"],
                           inputs["stations"], inputs["station_meta"], "wheat", "10-20cm")
    rep, tables = validate(table, "wheat", "10-20cm", seed=0, n_jobs=1)
    return rep, tables, table


def test_report_has_every_row(report):
    rep, tables, table = report
    assert isinstance(rep, ValidationReport) and rep.schema_version == 1
    assert (rep.crop, rep.depth) == ("wheat", "10-20cm")
    assert set(rep.rows) == {"paper", "honest", "no_irrigation", "honest_cross_fitted",
                             "station_blocked", "zone_blocked"}
    assert rep.n_test == pytest.approx(0.1 * len(table), abs=2)
    for row in ("paper", "honest", "no_irrigation", "honest_cross_fitted"):
        assert rep.rows[row]["n"] == rep.n_test
    assert rep.rows["station_blocked"]["n"] == len(table)
    assert set(rep.permutation_importance_r2) >= {"CIR", "pre10", "fc"}
    assert 0 <= rep.classifier["overall_accuracy"] <= 1
    assert len(tables.samples) == len(table) and len(tables.test) == rep.n_test


def test_report_json_round_trip(report, tmp_path):
    """The report written as JSON reads back as the same report, to the last digit."""
    import dataclasses

    from cropsm.io.store import write_json

    rep, _, table = report
    full = dataclasses.replace(rep, truth_window={"n": 3, "r": 0.5, "window_rows": [1, 4]},
                               product_comparison={"0.25°: x": {"n": 2, "pixels": 1}})
    for original in (rep, full):
        path = write_json(original.to_dict(), tmp_path / "report.json", default=float)
        doc = read_json(path)
        assert doc["schema_version"] == 1
        assert list(doc)[:6] == ["crop", "depth", "n_samples", "n_train", "n_test", "params"]
        back = ValidationReport.from_dict(doc)
        assert json.dumps(back.to_dict(), default=float) == json.dumps(original.to_dict(),
                                                                       default=float)
        assert set(back.per_month_spatial_r) == set(original.per_month_spatial_r)
        assert all(isinstance(k, int) for k in back.per_month_spatial_r)
    assert "truth_window" not in rep.to_dict()  # absent optional parts stay absent


def test_report_reading_refuses_what_it_cannot_read(report):
    from cropsm.analysis.report import ReportError
    from cropsm.core.errors import CropSMError

    doc = report[0].to_dict()
    old = {k: v for k, v in doc.items() if k != "schema_version"}
    assert ValidationReport.from_dict(old).schema_version == 1  # written before the field
    with pytest.raises(ReportError, match="schema version 2"):
        ValidationReport.from_dict({**doc, "schema_version": 2})
    with pytest.raises(CropSMError, match="lacks classifier"):
        ValidationReport.from_dict({k: v for k, v in doc.items() if k != "classifier"})


def test_blocked_predictions_are_those_of_forests_that_never_saw_the_fold(report):
    from sklearn.model_selection import PredefinedSplit

    from cropsm.analysis.validation import blocked_predictions
    from cropsm.rf.features import BASE_FEATURES
    from cropsm.rf.model import fit_model

    _, _, table = report
    table = table.reset_index(drop=True)
    folds = np.where(np.arange(len(table)) < len(table) // 2, 0, 1)
    pred = blocked_predictions(table, "wheat", "10-20cm", PredefinedSplit(folds), n_jobs=1)
    second = folds == 1
    model = fit_model(table[~second], "wheat", "10-20cm", n_jobs=1)
    np.testing.assert_array_equal(pred[second],
                                  model.predict(table[second][list(BASE_FEATURES)]))


def test_honest_rows_are_not_better_than_the_papers_leaky_row(report):
    rep, _, _ = report
    rows = rep.rows
    # CIR from the observation leaks the target: the paper's setting is optimistic
    assert rows["paper"]["rmse"] <= rows["honest"]["rmse"]


def test_truth_window_excludes_its_stations(inputs, report):
    _, _, table = report
    out = truth_window_report(table, inputs["covariates"], inputs["covariates_daily"],
                              inputs["station_meta"], inputs["truth"], "wheat", "10-20cm")
    assert out["stations_left_out"] >= 1
    assert out["cells"] > 0 and out["n"] > 0
    assert np.isfinite(out["rmse"])


def test_region_report_recomputes_the_report_from_its_tables(report):
    """With no region the per-sample tables give back every figure of the report."""
    import shapely

    rep, tables, _ = report
    whole = region_report(tables.test, tables.samples, tables.classifier, None)
    assert set(whole.rows) == set(rep.rows)
    for key, row in rep.rows.items():
        for metric in ("n", "r", "r2", "bias", "rmse", "ubrmse"):
            assert whole.rows[key][metric] == pytest.approx(row[metric], rel=1e-9,
                                                            nan_ok=True), key
    assert whole.per_month_spatial_r == pytest.approx(rep.per_month_spatial_r)
    assert whole.per_zone_temporal == rep.per_zone_temporal
    assert whole.classifier == pytest.approx(rep.classifier, nan_ok=True)
    assert whole.irrigation_module_effect == pytest.approx(rep.irrigation_module_effect)
    # a region holding one station's position only: its rows count only its samples
    samples = tables.samples
    first = samples.iloc[0]
    spot = shapely.box(first["lon"] - 1e-3, first["lat"] - 1e-3, first["lon"] + 1e-3,
                       first["lat"] + 1e-3)
    one = region_report(tables.test, samples, tables.classifier, spot)
    near = (samples["lon"] - first["lon"]).abs() < 1e-3
    at_spot = samples[near & ((samples["lat"] - first["lat"]).abs() < 1e-3)]
    assert one.stations == at_spot["station_id"].nunique()
    assert one.rows["station_blocked"]["n"] == len(at_spot)
    restricted = rep.restricted_to(one)
    assert restricted.rows == one.rows
    assert restricted.permutation_importance_r2 == rep.permutation_importance_r2
    outside = region_report(tables.test, samples, tables.classifier, shapely.box(0, 0, 1, 1))
    assert outside.rows == {} and outside.stations == 0
    assert outside.classifier is None and outside.irrigation_module_effect is None
    assert rep.restricted_to(outside).classifier == rep.classifier


def test_markdown_summary_lists_rows(report):
    rep, _, _ = report
    text = markdown_summary([rep])
    assert "| wheat/10-20cm | honest |" in text and "ROC AUC" in text


def _catalog_with_fewer_stations(data, folder):
    from cropsm.io.catalog import write_catalog

    (folder / "data").mkdir(parents=True)
    for path in data.iterdir():
        if path.name != "stations.parquet":
            (folder / "data" / path.name).symlink_to(path.resolve())
    stations = pd.read_parquet(data / "stations.parquet")
    stations.iloc[: len(stations) * 9 // 10].to_parquet(folder / "data" / "stations.parquet")
    return write_catalog(folder / "cropsm.yaml", folder / "data", "tiny")


def test_train_and_validate_pipelines(tiny_world, tmp_path, monkeypatch):
    from cropsm.pipelines.train import TrainedModel, train_models
    from cropsm.pipelines.validate import validate_catalog

    _, catalog, _ = tiny_world
    trained = train_models(catalog, tmp_path, [("maize", "0-10cm")])
    assert [type(m) for m in trained] == [TrainedModel] and trained[0].name == "maize/0-10cm"
    assert trained[0].path == tmp_path / "cropsm_maize_0-10cm.skops"
    assert trained[0].path.with_suffix(".card.json").exists()
    assert train_models(catalog, tmp_path, [("maize", "0-10cm")], if_missing=True) == []
    # other stations (a rebuilt world, another ingest): --if-missing retrains
    other = _catalog_with_fewer_stations(tiny_world[0], tmp_path / "other")
    again = train_models(other, tmp_path, [("maize", "0-10cm")], if_missing=True)
    assert [m.name for m in again] == ["maize/0-10cm"]
    assert train_models(other, tmp_path, [("maize", "0-10cm")], if_missing=True) == []
    train_models(catalog, tmp_path, [("maize", "0-10cm")])
    run = validate_catalog(catalog, tmp_path / "val", [("maize", "0-10cm")])
    assert run.insitu is None and [r.crop for r in run.reports] == ["maize"]
    assert (tmp_path / "val" / "summary.md").read_text() == run.markdown
    assert "station_blocked" in run.markdown
    report = read_json(tmp_path / "val" / "validation_maize_0-10cm.json")
    assert ValidationReport.from_dict(report).to_dict().keys() == run.reports[0].to_dict().keys()
    assert run.reports[0].truth_window is not None  # the demo world has a truth
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
    assert res.exit_code == 1 and "not a valid intake catalog" in res.output


@pytest.fixture(scope="module")
def memory_report(inputs):
    table = training_table(inputs["covariates"], inputs["covariates_daily"],
                           inputs["stations"], inputs["station_meta"], "maize", "0-10cm",
                           memory=True)
    rep, tables = validate(table, "maize", "0-10cm", seed=0, n_jobs=1)
    return rep, tables, table


def test_the_cropsm_method_is_scored_on_the_paper_rows_splits(memory_report):
    from cropsm.rf.model import CROPSM_FEATURES

    rep, tables, table = memory_report
    assert {"cropsm_honest", "cropsm_station_blocked", "cropsm_zone_blocked"} <= set(rep.rows)
    assert rep.rows["cropsm_honest"]["n"] == rep.rows["honest"]["n"] == rep.n_test
    assert rep.rows["cropsm_station_blocked"]["n"] == len(table)
    assert set(rep.cropsm_importance_r2) == set(CROPSM_FEATURES)
    assert {"cropsm_station_blocked", "cropsm_zone_blocked"} <= set(tables.samples)
    np.testing.assert_allclose(
        metrics.skill_table(tables.test["cropsm_honest"], tables.test["obs"])["r"],
        rep.rows["cropsm_honest"]["r"])
    assert "CropSM method: station-blocked CV" in set(metrics_table(rep)["setting"])


def test_cropsm_forest_is_scikit_learns_forest_on_its_features(memory_report):
    from sklearn.ensemble import RandomForestRegressor

    from cropsm.rf.model import CROPSM_FEATURES, CROPSM_PARAMS, fit_cropsm_model

    _, _, table = memory_report
    model = fit_cropsm_model(table, "maize", "0-10cm", seed=3, n_jobs=1)
    x = table[list(CROPSM_FEATURES)].to_numpy("f4")
    reference = RandomForestRegressor(**CROPSM_PARAMS, random_state=3, n_jobs=1).fit(
        x, table["sm"].to_numpy("f4"))
    assert model.method == "cropsm" and model.classifier is None
    assert "lat" not in model.features and "CIR" not in model.features
    np.testing.assert_array_equal(model.predict(table), reference.predict(x))


def test_cropsm_blocked_predictions_never_saw_their_fold(memory_report):
    from sklearn.model_selection import GroupKFold

    from cropsm.analysis.validation import blocked_predictions
    from cropsm.rf.model import fit_cropsm_model

    _, _, table = memory_report
    stations = table["station_id"].to_numpy()
    pred = blocked_predictions(table, "maize", "0-10cm", GroupKFold(3), stations, seed=0,
                               n_jobs=1, method="cropsm")
    train, test = next(GroupKFold(3).split(table, groups=stations))
    alone = fit_cropsm_model(table.iloc[train], "maize", "0-10cm", seed=0, n_jobs=1)
    np.testing.assert_array_equal(pred[test], alone.predict(table.iloc[test]))
    assert not set(stations[train]) & set(stations[test])


def test_cropsm_method_needs_the_memory_indices(report):
    from cropsm.core.errors import InputDataError
    from cropsm.rf.model import fit_cropsm_model

    _, _, table = report
    with pytest.raises(InputDataError, match=r"api_fast.*memory=True"):
        fit_cropsm_model(table, "wheat", "10-20cm")
