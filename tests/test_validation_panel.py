"""Validation panel: what it shows equals the validation report it reads."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from cropsm.app.state import AppState
from cropsm.app.validation_view import ValidationView
from cropsm.validation import SETTINGS, confusion_table, importance_table, metrics_table

REPORTS = Path(__file__).resolve().parents[1] / "docs" / "validation"


@pytest.fixture
def report():
    return json.loads((REPORTS / "validation_wheat_0-10cm.json").read_text())


def test_metrics_table_is_the_report_side_by_side(report):
    table = metrics_table(report)
    assert list(table["setting"]) == [SETTINGS[k] for k in SETTINGS if k in report["rows"]]
    for _, row in table.iterrows():
        key = next(k for k, label in SETTINGS.items() if label == row["setting"])
        for metric in ("n", "r", "r_ci_low", "r_ci_high", "r2", "bias", "rmse", "ubrmse"):
            assert row[metric] == report["rows"][key][metric]


def test_confusion_matrix_orientation_and_importance_order(report):
    matrix = confusion_table(report)
    c = report["classifier"]
    assert matrix.loc["observed CIR = 1", "predicted CIR = 1"] == c["tp"]
    assert matrix.loc["observed CIR = 1", "predicted CIR = 0"] == c["fn"]
    assert matrix.loc["observed CIR = 0", "predicted CIR = 1"] == c["fp"]
    assert c["tp"] / (c["tp"] + c["fn"]) == pytest.approx(c["producers_accuracy"])
    importance = importance_table(report)
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
