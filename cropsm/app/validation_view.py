"""Validation panel: the validation report of the chosen crop × depth, as tables and plots."""

from __future__ import annotations

from typing import Any

import holoviews as hv
import panel as pn
import param

from cropsm.analysis.report import ValidationReport
from cropsm.analysis.validation import (
    comparison_table,
    confusion_table,
    importance_table,
    insitu_table,
    metrics_table,
    month_table,
    region_report,
    zone_table,
)
from cropsm.app import data
from cropsm.app.skill_view import SkillView
from cropsm.app.state import AppState
from cropsm.core.errors import CropSMError

_HEIGHT = 280


class ValidationView(pn.viewable.Viewer):
    """Metrics per validation setting, per month and zone, classifier and importance."""

    state = param.ClassSelector(class_=AppState, allow_None=param.parameters.NoNone)

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self._title = pn.pane.Markdown()
        self._metrics = pn.widgets.Tabulator(disabled=True, show_index=False,
                                             sizing_mode="stretch_width")
        self._confusion = pn.widgets.Tabulator(disabled=True, sizing_mode="stretch_width")
        self._comparison = pn.widgets.Tabulator(disabled=True, show_index=False,
                                                sizing_mode="stretch_width")
        self._insitu = pn.widgets.Tabulator(disabled=True, show_index=False,
                                            sizing_mode="stretch_width")
        self._insitu_notes = pn.pane.Markdown()
        self._plots = pn.GridBox(ncols=2, sizing_mode="stretch_width")
        self._skill = SkillView(state=self.state)
        self.state.param.watch(self._update, ["crop", "depth", "region"])
        self._update()

    def _update(self, *_: object) -> None:
        crop, depth = self.state.crop, self.state.depth
        try:
            report = data.validation_report(crop, depth)
        except CropSMError as err:  # StoreError or ReportError
            self._title.object = (f"**No validation report for {crop} {depth}:** {err} "
                                  "Run `cropsm validate` to write it.")
            self._metrics.value = metrics_table(None)
            self._plots.objects = []
            return
        report, scope = self._region_scope(report)
        effect, classifier = report.irrigation_module_effect, report.classifier
        self._title.object = (
            f"**{crop} {depth}**: {report.n_samples:,} station observations "
            f"({report.n_train:,} train / {report.n_test:,} test). "
            f"{scope}"
            "Rows differ in how honest they are: *paper* uses the observed CIR at test "
            "time as the paper does; the others never see it. Irrigation module: R² "
            f"{effect['r2_change_pct']:+.1f} %, RMSE "
            f"{effect['rmse_change_pct']:+.1f} % without it. Classifier: "
            f"overall accuracy {classifier['overall_accuracy']:.3f}, "
            f"ROC AUC {classifier['roc_auc']:.3f}.")
        self._metrics.value = metrics_table(report).round(4)
        self._confusion.value = confusion_table(report)
        self._comparison.value = comparison_table(report).round(4)
        self._show_insitu()
        months = month_table(report)
        zones = zone_table(report).astype({"zone": str})  # categories, not a number axis
        importance = importance_table(report)
        opts = dict(responsive=True, height=_HEIGHT, tools=["hover"])
        self._plots.objects = [
            pn.pane.HoloViews(hv.Curve(months, "month", "spatial_r").opts(
                title="Spatial r per month", ylim=(0, 1), **opts) * hv.Scatter(
                months, "month", "spatial_r").opts(size=6), sizing_mode="stretch_width"),
            pn.pane.HoloViews(hv.Bars(importance, "feature", "r2_loss").opts(
                title="Permutation importance (R² loss)", xrotation=45, **opts),
                sizing_mode="stretch_width"),
            pn.pane.HoloViews(hv.Bars(zones.melt(id_vars=["zone"], value_vars=[
                "rmse", "bias", "ubrmse"]), ["zone", "variable"], "value").opts(
                title="Per zone: RMSE, bias, ubRMSE (m³ m⁻³)", **opts),
                sizing_mode="stretch_width"),
            pn.pane.HoloViews(hv.Bars(zones, "zone", "r").opts(
                title="Per zone: temporal r", ylim=(0, 1), **opts),
                sizing_mode="stretch_width"),
        ]

    def _region_scope(self, report: ValidationReport) -> tuple[ValidationReport, str]:
        """The report's figures recomputed for the state's region, and what was done."""
        if self.state.region is None:
            return report, ""
        where = self.state.region_label or "the drawn region"
        crop, depth = self.state.crop, self.state.depth
        try:
            tables = [data.validation_table(name, crop, depth)
                      for name in ("test", "samples", "classifier")]
        except CropSMError:
            return report, (f"*These tables cover all stations: re-run `cropsm validate` to "
                            f"filter them to {where}.* ")
        test, samples, classifier = tables
        region = region_report(test, samples, classifier, self.state.region)
        report = report.restricted_to(region)
        if not region.rows:
            return report, f"*No validation station lies in {where}; nothing to show.* "
        return report, (f"**Filtered to {where}: {region.stations} stations** (permutation "
                        "importance covers all stations). ")

    def _show_insitu(self) -> None:
        real = data.insitu_comparison()
        self._insitu.value = insitu_table(real.get("comparison", {})).round(4)
        described = real.get("observations", {})
        self._insitu_notes.object = (
            "\n".join(f"- {name}: {text}" for name, text in described.items()) if described
            else "Run `cropsm validate --catalog catalogs/real-example.yaml` (or your own "
                 "catalog of real files) to score ESA CCI and other gridded products here.")

    def __panel__(self) -> pn.Column:
        return pn.Column(self._title, self._metrics, self._plots,
                         pn.pane.Markdown("**CIR classifier** (held-out rows)"),
                         self._confusion,
                         pn.pane.Markdown(
                             "**Product comparison at matched resolution** (in-situ means "
                             "per coarse pixel and day; demo competitors are degraded coarse "
                             "truth, see `cropsm.analysis.product_comparison`)"),
                         self._comparison,
                         pn.pane.Markdown("**Real data: gridded products against in-situ "
                                          "stations** (same metrics, at each product's "
                                          "pixel; see `catalogs/real-example.yaml`)"),
                         self._insitu, self._insitu_notes, pn.layout.Divider(), self._skill,
                         sizing_mode="stretch_width")
