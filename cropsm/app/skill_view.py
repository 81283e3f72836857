"""Sample-level skill: density scatter, station map, Taylor diagram and ROC, for a region.

Reads the held-out predictions ``cropsm validate`` writes beside its report
(``samples_<crop>_<depth>.parquet``: station-blocked and zone-blocked predictions of every
observation; ``classifier_<crop>_<depth>.parquet``: the CIR classifier's test scores).
Every number is recomputed with :mod:`cropsm.core.metrics` for the samples inside the
state's region.
"""

from __future__ import annotations

from typing import Any

import holoviews as hv
import numpy as np
import pandas as pd
import panel as pn
import param
from holoviews.operation.datashader import rasterize
from sklearn.metrics import roc_auc_score, roc_curve

from cropsm.analysis.validation import samples_in_region, station_skill
from cropsm.app import data
from cropsm.app.i18n import tr
from cropsm.app.state import AppState
from cropsm.core import metrics
from cropsm.core.errors import CropSMError

_HEIGHT = 320
SETTINGS = {"station_blocked": "station-blocked CV", "zone_blocked": "zone-blocked CV"}


def density_scatter(samples: pd.DataFrame, column: str, lang: str = "en") -> hv.Overlay:
    """Observed vs predicted as a datashaded density, with the 1:1 and fitted lines."""
    valid = samples[np.isfinite(samples[column]) & np.isfinite(samples["obs"])]
    top = float(max(valid["obs"].max(), valid[column].max(), 0.05)) if len(valid) else 0.5
    points = hv.Points(valid, kdims=["obs", column])
    shaded = rasterize(points, dynamic=False, width=300, height=300,
                       x_range=(0, top), y_range=(0, top)).opts(
        cmap="Blues", cnorm="log", colorbar=True, clabel=tr("observations", lang),
        xlabel=tr("observed SM (m³ m⁻³)", lang), ylabel=tr("predicted SM (m³ m⁻³)", lang),
        responsive=True, height=_HEIGHT,
        title=tr("{setting}: observed vs predicted", lang).format(
            setting=tr(SETTINGS[column], lang)))
    one_to_one = hv.Curve([(0, 0), (top, top)]).opts(color="black", line_dash="dashed")
    overlay = shaded * one_to_one
    if len(valid) >= 2:
        slope, intercept = np.polyfit(valid["obs"], valid[column], 1)
        overlay = overlay * hv.Curve([(0, intercept), (top, intercept + slope * top)]).opts(
            color="red")
    return overlay


def taylor_diagram(samples: pd.DataFrame, lang: str = "en") -> hv.Overlay:
    """One point per validation setting on a normalised Taylor diagram (σ_obs = 1)."""
    angles = np.linspace(0, np.pi / 2, 90)
    arcs = [hv.Curve((k * np.cos(angles), k * np.sin(angles))).opts(color="#cccccc")
            for k in (0.5, 1.0, 1.5)]
    for r in (0.2, 0.4, 0.6, 0.8, 0.9, 0.95, 0.99):
        theta = np.arccos(r)
        arcs.append(hv.Curve([(0, 0), (1.6 * np.cos(theta), 1.6 * np.sin(theta))]).opts(
            color="#eeeeee"))
    rows = []
    for column, label in SETTINGS.items():
        if samples[column].notna().any():
            stats = metrics.taylor_statistics(samples[column], samples["obs"])
            theta = np.arccos(np.clip(stats["r"], -1, 1))
            rows.append({"x": stats["std_ratio"] * np.cos(theta),
                         "y": stats["std_ratio"] * np.sin(theta), "setting": tr(label, lang),
                         **stats})
    table = pd.DataFrame(rows, columns=["x", "y", "setting", "std_ratio", "r", "crmsd"])
    points = hv.Points(table, ["x", "y"], ["setting", "std_ratio", "r", "crmsd"]).opts(
        color="setting", cmap="Category10", size=10, tools=["hover"], legend_position="right")
    reference = hv.Points([(1.0, 0.0)]).opts(color="black", marker="star", size=14)
    return hv.Overlay([*arcs, reference, points]).opts(
        responsive=True, height=_HEIGHT, xlim=(0, 1.6), ylim=(0, 1.6), data_aspect=1,
        xlabel="σ_pred/σ_obs · r", ylabel="σ_pred/σ_obs · sin(acos r)",
        title=tr("Taylor diagram (observations: star)", lang))


class SkillView(pn.viewable.Viewer):
    """Sample-level validation of the chosen crop × depth, filtered to the region."""

    state = param.ClassSelector(class_=AppState, allow_None=param.parameters.NoNone)

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self._summary = pn.pane.Markdown()
        self._plots = pn.GridBox(ncols=2, sizing_mode="stretch_width")
        self._station = pn.Column(sizing_mode="stretch_width")
        self._samples = pd.DataFrame()
        self._skill = pd.DataFrame()
        self._update()

    @param.depends("state.crop", "state.depth", "state.region", watch=True)
    def _update(self, *_: object) -> None:
        crop, depth, lang = self.state.crop, self.state.depth, self.state.lang
        try:
            samples = data.validation_table("samples", crop, depth)
            classifier = data.validation_table("classifier", crop, depth)
        except CropSMError as err:
            self._summary.object = tr("**No held-out predictions for {crop} {depth}:** {err} "
                                      "Run `cropsm validate` to write them.", lang).format(
                crop=tr(crop, lang), depth=depth, err=err)
            self._plots.objects = []
            return
        samples = samples_in_region(samples, self.state.region)
        where = self.state.region_label or tr("the drawn region" if self.state.region is not None
                                              else "all stations", lang)
        if samples.empty:
            self._summary.object = tr("No validation station lies in {where}.", lang).format(
                where=where)
            self._plots.objects = []
            return
        lines = [tr("**Held-out skill, {crop} {depth}, {where}** ({n} stations):", lang).format(
            crop=tr(crop, lang), depth=depth, where=where, n=samples['station_id'].nunique())]
        for column, label in SETTINGS.items():
            skill = metrics.skill_table(samples[column], samples["obs"])
            lines.append(tr("- {setting}: N = {n}, r = {r} [{r_low}, {r_high}], R² = {r2}, bias "
                            "= {bias}, RMSE = {rmse}, ubRMSE = {ubrmse} m³ m⁻³", lang).format(
                setting=tr(label, lang), n=f"{skill['n']:,}", r=f"{skill['r']:.3f}",
                r_low=f"{skill['r_ci_low']:.3f}", r_high=f"{skill['r_ci_high']:.3f}",
                r2=f"{skill['r2']:.3f}", bias=f"{skill['bias']:+.4f}",
                rmse=f"{skill['rmse']:.4f}", ubrmse=f"{skill['ubrmse']:.4f}"))
        auc = roc_auc_score(classifier["cir"], classifier["score"]) \
            if classifier["cir"].nunique() == 2 else float("nan")
        lines.append(tr("- CIR classifier (all test rows): ROC AUC = {auc}", lang).format(
            auc=f"{auc:.3f}"))
        self._summary.object = "\n".join(lines)
        per_station = station_skill(samples)
        self._samples, self._skill = samples, per_station
        stations = hv.Points(per_station, ["lon", "lat"], ["r", "ubrmse", "station_id", "n"]).opts(
            color="r", cmap="RdYlBu", clim=(-0.2, 1.0), size=8, colorbar=True, clabel="r",
            tools=["hover", "tap"], responsive=True, height=_HEIGHT, data_aspect=1,
            title=tr("Stations by temporal r (station-blocked); tap one for its series", lang))
        hv.streams.Selection1D(source=stations).add_subscriber(self._on_station)
        boundary = hv.Path([data.china_lines()]).opts(color="#888888", line_width=0.7)
        fpr, tpr, _ = roc_curve(classifier["cir"], classifier["score"])
        roc = (hv.Curve((fpr, tpr), tr("false positive rate", lang),
                        tr("true positive rate", lang))
               * hv.Curve([(0, 0), (1, 1)]).opts(color="#999999", line_dash="dashed")).opts(
            responsive=True, height=_HEIGHT,
            title=tr("CIR classifier ROC (AUC {auc})", lang).format(auc=f"{auc:.3f}"))
        per_zone = per_station.astype({"zone": str}).melt(
            id_vars=["zone"], value_vars=["r", "rmse", "bias", "ubrmse"], var_name="metric")
        boxes = hv.BoxWhisker(per_zone, [hv.Dimension("metric", label=tr("metric", lang)),
                                         hv.Dimension("zone", label=tr("zone", lang))],
                              hv.Dimension("value", label=tr("value", lang))).opts(
            responsive=True, height=_HEIGHT, xrotation=45, box_fill_color="zone",
            cmap="Category10",
            title=tr("Per zone: station temporal metrics (station-blocked)", lang))
        self._plots.objects = [
            pn.pane.HoloViews(density_scatter(samples, "station_blocked", lang),
                              sizing_mode="stretch_width"),
            pn.pane.HoloViews(boxes, sizing_mode="stretch_width"),
            pn.pane.HoloViews(boundary * stations, sizing_mode="stretch_width"),
            pn.pane.HoloViews(taylor_diagram(samples, lang), sizing_mode="stretch_width"),
            pn.pane.HoloViews(roc, sizing_mode="stretch_width"),
        ]

    def _on_station(self, index: list[int] | None = None) -> None:
        if not index or self._skill.empty:
            return
        self.show_station(str(self._skill["station_id"].iloc[index[0]]))

    def show_station(self, station_id: str) -> None:
        """A station's observations against its held-out predictions."""
        one = self._samples[self._samples["station_id"] == station_id].sort_values("date")
        if one.empty:
            return
        lang = self.state.lang
        skill = metrics.skill_table(one["station_blocked"], one["obs"])
        plot = (hv.Scatter(one, "date", "obs", label=tr("observed", lang)).opts(color="black",
                                                                                size=5)
                * hv.Scatter(one, "date", "station_blocked",
                             label=tr("held-out prediction", lang)).opts(
                    color="#d62728", marker="x", size=6)).opts(
            responsive=True, height=_HEIGHT, xlabel=tr("date", lang),
            ylabel=tr("SM (m³ m⁻³)", lang), legend_position="top_left",
            title=tr("Station {station}", lang).format(station=station_id))
        self._station.objects = [
            pn.pane.Markdown(tr("**Station {station}** (station-blocked, held out): N = {n}, "
                                "r = {r}, ubRMSE = {ubrmse} m³ m⁻³", lang).format(
                station=station_id, n=skill['n'], r=f"{skill['r']:.3f}",
                ubrmse=f"{skill['ubrmse']:.4f}")),
            pn.pane.HoloViews(plot, sizing_mode="stretch_width")]

    def __panel__(self) -> pn.Column:
        return pn.Column(self._summary, self._plots, self._station,
                         sizing_mode="stretch_width")
