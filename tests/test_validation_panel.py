"""Validation panel: what it shows equals the validation report it reads."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cropsm.analysis.report import ValidationReport
from cropsm.analysis.validation import SETTINGS, confusion_table, importance_table, metrics_table
from cropsm.app.state import AppState
from cropsm.app.validation_view import ValidationView

REPORTS = Path(__file__).resolve().parents[1] / "docs" / "validation"


@pytest.fixture
def report():
    return json.loads((REPORTS / "validation_wheat_0-10cm.json").read_text())


def test_metrics_table_is_the_report_side_by_side(report):
    table = metrics_table(ValidationReport.from_dict(report))
    assert list(table["setting"]) == [SETTINGS[k] for k in SETTINGS if k in report["rows"]]
    for _, row in table.iterrows():
        key = next(k for k, label in SETTINGS.items() if label == row["setting"])
        for metric in ("n", "r", "r_ci_low", "r_ci_high", "r2", "bias", "rmse", "ubrmse"):
            assert row[metric] == report["rows"][key][metric]


def test_confusion_matrix_orientation_and_importance_order(report):
    matrix = confusion_table(ValidationReport.from_dict(report))
    c = report["classifier"]
    assert matrix.loc["observed CIR = 1", "predicted CIR = 1"] == c["tp"]
    assert matrix.loc["observed CIR = 1", "predicted CIR = 0"] == c["fn"]
    assert matrix.loc["observed CIR = 0", "predicted CIR = 1"] == c["fp"]
    assert c["tp"] / (c["tp"] + c["fn"]) == pytest.approx(c["producers_accuracy"])
    importance = importance_table(ValidationReport.from_dict(report))
    assert np.all(np.diff(importance["r2_loss"].to_numpy()) <= 0)
    assert importance["feature"].iloc[0] == max(report["permutation_importance_r2"],
                                                key=lambda k: report[
                                                    "permutation_importance_r2"][k]["mean"])


def test_panel_shows_the_report_and_follows_the_crop(report, monkeypatch):
    monkeypatch.setenv("CROPSM_REPORTS", str(REPORTS))
    state = AppState()
    view = ValidationView(state=state)
    shown = view._metrics.value
    honest = shown[shown["setting"] == SETTINGS["station_blocked"]].iloc[0]
    assert honest["r"] == round(report["rows"]["station_blocked"]["r"], 4)
    assert len(view._plots.objects) == 4
    state.crop = "maize"
    maize = json.loads((REPORTS / "validation_maize_0-10cm.json").read_text())
    assert view._metrics.value["n"].iloc[0] == maize["rows"]["paper"]["n"]
    assert "maize 0-10cm" in view._title.object


def test_missing_report_says_what_to_run(tmp_path, monkeypatch):
    monkeypatch.setenv("CROPSM_REPORTS", str(tmp_path))
    view = ValidationView(state=AppState(crop="maize", depth="10-20cm"))
    assert "Run `cropsm validate`" in view._title.object
    assert view._plots.objects == []


@pytest.fixture
def sample_reports(tmp_path, monkeypatch):
    """Held-out prediction tables as `cropsm validate` writes them, for two regions."""
    rng = np.random.default_rng(3)
    rows = []
    for k, (lon, lat) in enumerate([(114.5, 36.5), (115.0, 37.0), (125.0, 45.0),
                                    (125.5, 45.5)]):
        obs = rng.uniform(0.1, 0.35, 40)
        rows.append(pd.DataFrame({
            "station_id": f"S{k}", "date": pd.date_range("2015-04-01", periods=40),
            "zone": 3 + k // 2, "lon": lon, "lat": lat, "obs": obs,
            "station_blocked": obs + rng.normal(0, 0.03, 40),
            "zone_blocked": obs * 0.8 + 0.05 + rng.normal(0, 0.04, 40)}))
    samples = pd.concat(rows, ignore_index=True)
    samples.to_parquet(tmp_path / "samples_wheat_0-10cm.parquet")
    pd.DataFrame({"cir": rng.integers(0, 2, 200), "score": rng.random(200)}).to_parquet(
        tmp_path / "classifier_wheat_0-10cm.parquet")
    monkeypatch.setenv("CROPSM_REPORTS", str(tmp_path))
    return samples


def test_skill_view_numbers_equal_pytesmo_and_follow_the_region(sample_reports):
    from pytesmo import metrics as pm

    from cropsm.app.skill_view import SkillView
    from cropsm.core.metrics import taylor_statistics

    state = AppState()
    view = SkillView(state=state)
    text = view._summary.object
    obs, pred = sample_reports["obs"].to_numpy(), sample_reports["station_blocked"].to_numpy()
    assert f"r = {float(pm.pearson_r(obs, pred)):.3f}" in text
    assert f"ubRMSE = {pm.ubrmsd(obs, pred):.4f}" in text
    assert f"RMSE = {pm.rmsd(obs, pred):.4f}" in text
    assert f"bias = {-pm.bias(obs, pred):+.4f}" in text  # pytesmo: obs - pred
    assert "(4 stations)" in text and len(view._plots.objects) == 5
    state.set_region("114,36,116,38")
    north_china = sample_reports[sample_reports["lon"] < 120]
    obs, pred = north_china["obs"].to_numpy(), north_china["station_blocked"].to_numpy()
    assert "(2 stations)" in view._summary.object
    assert f"r = {float(pm.pearson_r(obs, pred)):.3f}" in view._summary.object
    stats = taylor_statistics(pred, obs)
    assert stats["crmsd"] ** 2 == pytest.approx(
        stats["std_ratio"] ** 2 + 1 - 2 * stats["std_ratio"] * stats["r"])
    view._on_station([0])  # a tap on the first station of the map
    shown = view._station.objects[0].object
    s0 = north_china[north_china["station_id"] == "S0"]
    assert shown.startswith("**Station S0**")
    assert f"r = {float(pm.pearson_r(s0['obs'], s0['station_blocked'])):.3f}" in shown
    state.set_region("100,30,101,31")
    assert "No validation station lies in" in view._summary.object


def test_comparison_table_rows_follow_the_report(report):
    import dataclasses

    from cropsm.analysis.validation import comparison_table

    products = {
        "0.25°: CropSM (station-blocked)": {"n": 10, "r": 0.7, "bias": 0.0, "rmse": 0.05,
                                           "ubrmse": 0.05, "pixels": 3},
        "0.25°: passive-like 0.25°": {"n": 10, "r": 0.5, "bias": -0.02, "rmse": 0.06,
                                     "ubrmse": 0.055, "pixels": 3}}
    typed = dataclasses.replace(ValidationReport.from_dict(report), product_comparison=products)
    table = comparison_table(typed)
    assert list(table["product"]) == list(products)
    assert table.loc[1, "r"] == 0.5 and table.loc[0, "pixels"] == 3
    assert comparison_table(dataclasses.replace(typed, product_comparison=None)).empty


def test_station_skill_per_station_equals_pytesmo(sample_reports):
    from pytesmo import metrics as pm

    from cropsm.analysis.validation import station_skill

    skill = station_skill(sample_reports).set_index("station_id")
    one = sample_reports[sample_reports["station_id"] == "S2"]
    obs, pred = one["obs"].to_numpy(), one["station_blocked"].to_numpy()
    assert skill.loc["S2", "r"] == pytest.approx(float(pm.pearson_r(obs, pred)))
    assert skill.loc["S2", "rmse"] == pytest.approx(pm.rmsd(obs, pred))
    assert skill.loc["S2", "bias"] == pytest.approx(-pm.bias(obs, pred))
    assert skill.loc["S2", "ubrmse"] == pytest.approx(pm.ubrmsd(obs, pred))
    assert skill.loc["S2", "zone"] == 4


def test_panel_shows_the_real_data_comparison(monkeypatch):
    """`cropsm validate --catalog catalogs/real-example.yaml` output appears in the panel."""
    monkeypatch.setenv("CROPSM_REPORTS", str(REPORTS))
    real = json.loads((REPORTS / "insitu_comparison.json").read_text())
    view = ValidationView(state=AppState())
    table = view._insitu.value
    row = table[(table["in situ"] == "ismn_maqu") & (table["product"] == "esa_cci_passive")]
    assert len(row) == 1
    expected = real["comparison"]["ismn_maqu"]["esa_cci_passive"]
    assert row["overlap_days"].iloc[0] == expected["overlap_days"]
    assert row["pairs"].iloc[0] == expected["pairs"]
    assert "397 daily" in view._insitu_notes.object


def test_reports_written_while_the_server_runs_are_picked_up(tmp_path, monkeypatch):
    """The caches key on the file's modification time: a report that appears, or is
    rewritten, after the first read is what the next session sees."""
    import os

    from cropsm.app import data

    monkeypatch.setenv("CROPSM_REPORTS", str(tmp_path))
    assert data.network_comparison() == {}
    target = tmp_path / "network_comparison.json"
    target.write_text(json.dumps({"rows": [1]}))
    assert data.network_comparison() == {"rows": [1]}
    target.write_text(json.dumps({"rows": [2]}))
    stat = target.stat()
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert data.network_comparison() == {"rows": [2]}
    name = "validation_wheat_0-10cm.json"
    (tmp_path / name).write_text((REPORTS / name).read_text())
    first = data.validation_report("wheat", "0-10cm")
    doc = json.loads((REPORTS / name).read_text())
    doc["rows"]["honest_cross_fitted"]["r"] = 0.5
    (tmp_path / name).write_text(json.dumps(doc))
    stat = (tmp_path / name).stat()
    os.utime(tmp_path / name, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    second = data.validation_report("wheat", "0-10cm")
    assert second.rows["honest_cross_fitted"]["r"] == 0.5 != first.rows["honest_cross_fitted"]["r"]
