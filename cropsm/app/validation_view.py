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
from cropsm.app.i18n import tr
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
        self._update()

    @param.depends("state.crop", "state.depth", "state.region", watch=True)
    def _update(self, *_: object) -> None:
        crop, depth, lang = self.state.crop, self.state.depth, self.state.lang
        try:
            report = data.validation_report(crop, depth)
        except CropSMError as err:  # StoreError or ReportError
            self._title.object = tr("**No validation report for {crop} {depth}:** {err} Run "
                                    "`cropsm validate` to write it.", lang).format(
                crop=tr(crop, lang), depth=depth, err=err)
            self._metrics.value = metrics_table(None)
            self._plots.objects = []
            return
        report, scope = self._region_scope(report)
        effect, classifier = report.irrigation_module_effect, report.classifier
        self._title.object = tr(
            "**{crop} {depth}**: {n} station observations ({train} train / {test} test). "
            "{scope}Rows differ in how honest they are: *paper* uses the observed CIR at test "
            "time as the paper does; the others never see it. Irrigation module: R² {r2} %, "
            "RMSE {rmse} % without it. Classifier: overall accuracy {accuracy}, ROC AUC "
            "{auc}.", lang).format(
            crop=tr(crop, lang), depth=depth, n=f"{report.n_samples:,}",
            train=f"{report.n_train:,}", test=f"{report.n_test:,}", scope=scope,
            r2=f"{effect['r2_change_pct']:+.1f}", rmse=f"{effect['rmse_change_pct']:+.1f}",
            accuracy=f"{classifier['overall_accuracy']:.3f}",
            auc=f"{classifier['roc_auc']:.3f}")
        self._metrics.value = metrics_table(report).round(4)
        self._confusion.value = confusion_table(report)
        self._comparison.value = comparison_table(report).round(4)
        self._show_insitu()
        months = month_table(report)
        zones = zone_table(report).astype({"zone": str})  # categories, not a number axis
        importance = importance_table(report)
        opts = dict(responsive=True, height=_HEIGHT, tools=["hover"])

        # the tables' columns, named on the axes in the page's language
        month = hv.Dimension("month", label=tr("month", lang))
        spatial_r = hv.Dimension("spatial_r", label=tr("spatial_r", lang))
        zone = hv.Dimension("zone", label=tr("zone", lang))
        self._plots.objects = [
            pn.pane.HoloViews(hv.Curve(months, month, spatial_r).opts(
                title=tr("Spatial r per month", lang), ylim=(0, 1), **opts) * hv.Scatter(
                months, month, spatial_r).opts(size=6), sizing_mode="stretch_width"),
            pn.pane.HoloViews(hv.Bars(importance,
                                      hv.Dimension("feature", label=tr("feature", lang)),
                                      hv.Dimension("r2_loss", label=tr("r2_loss", lang))).opts(
                title=tr("Permutation importance (R² loss)", lang), xrotation=45, **opts),
                sizing_mode="stretch_width"),
            pn.pane.HoloViews(hv.Bars(zones.melt(id_vars=["zone"], value_vars=[
                "rmse", "bias", "ubrmse"]), [zone, hv.Dimension("variable",
                                                                label=tr("variable", lang))],
                hv.Dimension("value", label=tr("value", lang))).opts(
                title=tr("Per zone: RMSE, bias, ubRMSE (m³ m⁻³)", lang), **opts),
                sizing_mode="stretch_width"),
            pn.pane.HoloViews(hv.Bars(zones, zone, hv.Dimension("r", label=tr("r", lang))).opts(
                title=tr("Per zone: temporal r", lang), ylim=(0, 1), **opts),
                sizing_mode="stretch_width"),
        ]

    def _region_scope(self, report: ValidationReport) -> tuple[ValidationReport, str]:
        """The report's figures recomputed for the state's region, and what was done."""
        if self.state.region is None:
            return report, ""
        lang = self.state.lang
        where = self.state.region_label or tr("the drawn region", lang)
        crop, depth = self.state.crop, self.state.depth
        try:
            tables = [data.validation_table(name, crop, depth)
                      for name in ("test", "samples", "classifier")]
        except CropSMError:
            return report, tr("*These tables cover all stations: re-run `cropsm validate` to "
                              "filter them to {where}.*", lang).format(where=where) + " "
        test, samples, classifier = tables
        region = region_report(test, samples, classifier, self.state.region)
        report = report.restricted_to(region)
        if not region.rows:
            return report, tr("*No validation station lies in {where}; nothing to show.*",
                              lang).format(where=where) + " "
        return report, tr("**Filtered to {where}: {n} stations** (permutation importance "
                          "covers all stations).", lang).format(where=where,
                                                                 n=region.stations) + " "

    def _show_insitu(self) -> None:
        real = data.insitu_comparison()
        self._insitu.value = insitu_table(real.get("comparison", {})).round(4)
        described = real.get("observations", {})
        self._insitu_notes.object = (
            "\n".join(f"- {name}: {text}" for name, text in described.items()) if described
            else tr("Run `cropsm validate --catalog catalogs/real-example.yaml` (or your own "
                    "catalog of real files) to score ESA CCI and other gridded products here.",
                    self.state.lang))

    def __panel__(self) -> pn.Column:
        lang = self.state.lang
        return pn.Column(self._title, self._metrics, self._plots,
                         pn.pane.Markdown(tr("**CIR classifier** (held-out rows)", lang)),
                         self._confusion,
                         pn.pane.Markdown(tr(
                             "**Product comparison at matched resolution** (in-situ means "
                             "per coarse pixel and day; demo competitors are degraded coarse "
                             "truth, see `cropsm.analysis.product_comparison`)", lang)),
                         self._comparison,
                         pn.pane.Markdown(tr("**Real data: gridded products against in-situ "
                                             "stations** (same metrics, at each product's "
                                             "pixel; see `catalogs/real-example.yaml`)", lang)),
                         self._insitu, self._insitu_notes, pn.layout.Divider(), self._skill,
                         sizing_mode="stretch_width")
