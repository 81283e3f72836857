"""What-if scenarios on the region: irrigation, rain, the other crop's forest, omissions."""

from __future__ import annotations

import io
import warnings

import holoviews as hv
import numpy as np
import panel as pn
import param
import xarray as xr

from cropsm.analysis.scenario_skill import NO_TRUTH, SKILL_SENTENCE, skill_sentence
from cropsm.app import data
from cropsm.app.export_view import provenance
from cropsm.app.i18n import tr
from cropsm.app.jobs import run_in_thread, show_error
from cropsm.app.state import AppState
from cropsm.core import crops
from cropsm.io.export import csv_bytes
from cropsm.io.models import ModelFileError
from cropsm.pipelines.counterfactual import TruthCheck, checked_scenario, forest_scenario_change
from cropsm.pipelines.region import plan_live_run
from cropsm.rf.features import RAINFED_ONLY
from cropsm.serve import live
from cropsm.serve.forest_scenarios import (
    MEASURED_SKILL,
    PRECIPITATION_RANGE,
    SCENARIOS,
    ScenarioResult,
    check_factor,
    scenario_summary,
)
from cropsm.serve.predict import PredictError

_HEIGHT = 320


def scenario_method(state: AppState, name: str) -> str:
    """The method whose models a scenario runs: the learned irrigation-off is CropSM's."""
    return "cropsm" if name == "irrigation_rainfed" else state.method


def plan_scenario(state: AppState, name: str = "") -> live.RegionRun:
    """Check and cost a scenario: two forest passes, so half the live budget."""
    return plan_live_run(data.reader(state.catalog_path), state.crop, state.depth,
                         state.region, state.run_start, state.run_end, data.china(),
                         budget=live.LIVE_BUDGET_PIXEL_DAYS // 2,
                         memory=scenario_method(state, name) == "cropsm")


def skill_text(skill: dict[str, float], lang: str, model: str = "model",
               mean: str = "mean difference") -> str:
    """:func:`~cropsm.analysis.scenario_skill.skill_sentence` in ``lang``.

    ``model`` and ``mean`` are its English words, translated here with its template.
    """
    return skill_sentence(skill, tr(model, lang), tr(mean, lang), tr(SKILL_SENTENCE, lang))


def scenario_label(result: ScenarioResult, lang: str) -> str:
    """What the scenario changed, in ``lang``: English is the result's own label."""
    if lang == "en":
        return result.label
    name = result.name
    if name == "precipitation":
        return tr("daily precipitation {factor}", lang).format(factor=f"{result.factor:+.0%}")
    if name.startswith("omit_"):
        return tr("model without the {group} features", lang).format(
            group=tr(name[len("omit_"):], lang))
    if name == "crop_swap":
        other = next(c for c in crops.CROPS if c != result.run.crop)
        return tr("{other} model on {crop} cells and season", lang).format(
            other=tr(other, lang), crop=tr(result.run.crop, lang))
    return tr(result.label, lang)


def scenario_models(state: AppState, name: str) -> dict:
    """The serving models a scenario needs, by crop (and ``"reduced"`` or ``"rainfed"``)."""
    lang = state.lang
    if (name.startswith("omit_") or name == "irrigation") and state.method != "paper":
        raise PredictError(tr("CIR = 0 and the feature omissions belong to the paper method "
                              "(its irrigation module and reduced models): switch the method "
                              "to paper, or choose the learned irrigation-off scenario.", lang))
    method = scenario_method(state, name)
    wanted = crops.CROPS if name == "crop_swap" else (state.crop,)
    models = {crop: data.serving_model(crop, state.depth, method=method) for crop in wanted}
    if name == "irrigation_rainfed":
        try:
            models["rainfed"] = data.serving_model(state.crop, state.depth, RAINFED_ONLY,
                                                   method="cropsm")
        except ModelFileError as err:
            raise PredictError(tr("No {crop} {depth} forest of the rain-fed stations; train "
                                  "it with `cropsm train --method cropsm --rainfed`.",
                                  lang).format(crop=tr(state.crop, lang), depth=state.depth)
                               ) from err
    if name.startswith("omit_"):
        group = name[len("omit_"):]
        try:
            models["reduced"] = data.serving_model(state.crop, state.depth, group)
        except ModelFileError as err:
            raise PredictError(tr("No {crop} {depth} model without the {group} features; "
                                  "train it with `cropsm train --omit {group}`.", lang).format(
                crop=tr(state.crop, lang), depth=state.depth, group=group)) from err
    return models


class ScenarioView(pn.viewable.Viewer):
    """Choose a scenario, run it on the region, read its maps, series and numbers."""

    state = param.ClassSelector(class_=AppState, allow_None=param.parameters.NoNone)
    scenario: param.Selector[str] = param.Selector(default=next(iter(SCENARIOS)),
                                                   objects=list(SCENARIOS))
    # soft bounds only: a value outside PRECIPITATION_RANGE reaches check_factor, which
    # refuses it with a message rather than param with an exception
    factor: param.Number[float] = param.Number(
        default=-0.3, softbounds=PRECIPITATION_RANGE, step=0.05,
        doc="Relative change of daily precipitation (-0.3: 30 % less)")

    def __init__(self, **params):
        super().__init__(**params)
        lang = self.state.lang
        self.param.scenario.objects = {tr(v, lang): k for k, v in SCENARIOS.items()}
        self._name = pn.widgets.Select.from_param(self.param.scenario,
                                                  name=tr("Scenario", lang))
        self._factor = pn.widgets.FloatSlider.from_param(
            self.param.factor, name=tr("Precipitation change", lang), format="0%")
        self._run = pn.widgets.Button(label=tr("Run scenario on the region", lang),
                                      color="success")
        self._run.on_click(self.run)
        self._summary = pn.pane.Markdown(tr("Choose a region and dates in the sidebar, then a "
                                            "scenario. Nothing is written to the product "
                                            "store.", lang))
        self._plots = pn.Row(sizing_mode="stretch_width")
        self._csv = pn.widgets.FileDownload(callback=self._csv_file,
                                            label=tr("Download scenario CSV", lang),
                                            filename="cropsm_scenario.csv", visible=False)

    async def run(self, *_):
        """Check, cost and run the chosen scenario off the event loop."""
        state, name = self.state, self.scenario
        lang = state.lang

        def prepare():
            factor = check_factor(self.factor) if name == "precipitation" else 0.0
            plan = plan_scenario(state, name)
            models = scenario_models(state, name)
            return (tr("Running scenario '{scenario}' on {cells} cells …", lang).format(
                scenario=tr(SCENARIOS[name], lang), cells=f"{plan.cropland_cells:,}"),
                    (data.reader(state.catalog_path), name, models, plan, factor))

        done = await run_in_thread(state, "Scenario", prepare, checked_scenario)
        if done is None:
            return
        _, (result, check) = done
        self.state.param.update(scenario=result, scenario_check=check)
        self._show(result, check)
        state.post(tr("Scenario finished: {label}.", lang).format(
            label=scenario_label(result, lang)),
                   "warning" if check is not None and check.warning else "info")

    def _show(self, result: ScenarioResult, check: TruthCheck | None = None):
        lang = self.state.lang
        numbers = scenario_summary(result)
        self._summary.object = (
            tr("**{label}** ({crop} {depth}, {start}..{end}): {pixel_days} pixel-days; mean SM "
               "baseline {baseline}, scenario {scenario}, difference {difference} m³ m⁻³; "
               "{drier} of pixel-days drier and {wetter} wetter by more than 0.01 m³ m⁻³; "
               "{outside} outside the scenario model's area of applicability.", lang).format(
                label=scenario_label(result, lang), crop=tr(result.run.crop, lang),
                depth=result.run.depth, start=f"{result.run.dates[0]:%Y-%m-%d}",
                end=f"{result.run.dates[-1]:%Y-%m-%d}",
                pixel_days=f"{numbers['pixel_days']:,}",
                baseline=f"{numbers['baseline_mean_sm']:.4f}",
                scenario=f"{numbers['scenario_mean_sm']:.4f}",
                difference=f"{numbers['mean_difference']:+.4f}",
                drier=f"{numbers['drier_share']:.0%}", wetter=f"{numbers['wetter_share']:.0%}",
                outside=f"{numbers['outside_aoa_share']:.0%}")
            + (self._ranking(result) if result.name.startswith("omit_") else "")
            + self._truth_text(result, check, lang))
        run = result.run
        mean_difference = result.mean_difference()
        image = xr.DataArray(mean_difference, coords={"y": run.grid.y, "x": run.grid.x},
                             dims=("y", "x"))
        limit = float(np.nanmax(np.abs(mean_difference))) if np.isfinite(
            mean_difference).any() else 0.01
        difference_map = hv.Image(image, kdims=["x", "y"], vdims=["difference"]).opts(
            cmap="RdBu", clim=(-limit, limit), colorbar=True, responsive=True, height=_HEIGHT,
            data_aspect=1, xaxis=None, yaxis=None, tools=["hover"],
            clabel=tr("scenario − baseline (m³ m⁻³)", lang), title=tr("Mean difference", lang))
        table = result.mean_series()
        series = (hv.Curve(table, "date", "baseline_sm", label=tr("baseline", lang))
                  * hv.Curve(table, "date", "scenario_sm", label=tr("scenario", lang))).opts(
            responsive=True, height=_HEIGHT, xlabel=tr("date", lang),
            ylabel=tr("regional mean SM (m³ m⁻³)", lang), legend_position="top_left",
            title=tr("Regional mean", lang))
        plots = [pn.pane.HoloViews(difference_map, sizing_mode="stretch_width", height=_HEIGHT,
                                   linked_axes=False)]
        if check is not None:
            with np.errstate(invalid="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # cells without days: NaN
                true_mean = np.nanmean(np.where(result.baseline["predicted"],
                                                check.truth.difference, np.nan), axis=0)
            true_map = hv.Image(xr.DataArray(true_mean, coords={"y": run.grid.y,
                                                                "x": run.grid.x},
                                             dims=("y", "x")),
                                kdims=["x", "y"], vdims=["difference"]).opts(
                cmap="RdBu", clim=(-limit, limit), colorbar=True, responsive=True,
                height=_HEIGHT, data_aspect=1, xaxis=None, yaxis=None, tools=["hover"],
                clabel=tr("true change (m³ m⁻³)", lang),
                title=tr("True mean difference (demo world)", lang))
            plots.append(pn.pane.HoloViews(true_map, sizing_mode="stretch_width",
                                           height=_HEIGHT, linked_axes=False))
        self._plots.objects = [*plots, pn.pane.HoloViews(series, sizing_mode="stretch_width",
                                                         height=_HEIGHT)]
        self._csv.filename = f"cropsm_scenario_{result.name}_{run.crop}_{run.depth}.csv"
        self._csv.visible = True

    @staticmethod
    def _truth_text(result: ScenarioResult, check: TruthCheck | None, lang: str = "en") -> str:
        """The response's skill against the counterfactual truth, or why there is none."""
        if check is None:
            if forest_scenario_change(result) is None:
                return "\n\n" + tr("This scenario changes the model, not the world: it has no "
                                    "true response to check.", lang)
            measured = MEASURED_SKILL.get(result.name)
            return ("\n\n" + tr(NO_TRUTH, lang)
                    + (" " + tr("Measured on the demo world, this scenario was {measured} "
                                "(docs/scenarios.md).", lang).format(
                        measured=tr(measured, lang)) if measured else ""))
        text = "\n\n" + tr("**Against the true response** (the demo world re-simulated under "
                            "the same change): {skill}", lang).format(
            skill=skill_text(check.skill, lang))
        return text + (f"\n\n**⚠ {check.warning}**" if check.warning else "")

    def _ranking(self, result: ScenarioResult) -> str:
        """Held-out R² lost without each feature group (Liu et al. 2021, Fig. 5)."""
        lang = self.state.lang
        try:
            table = data.omission_table(result.run.crop, result.run.depth)
        except ModelFileError as err:  # no card, or one without the scores
            return "\n\n" + tr("No R² ranking: {err}", lang).format(err=err)
        lines = [tr("{k}. {group}: R² {r2}, loss {loss}", lang).format(
            k=k + 1, group=tr(str(row.group), lang), r2=f"{row.r2:.3f}", loss=f"{row.r2_loss:+.3f}")
                 for k, row in enumerate(table.itertuples())]
        return ("\n\n" + tr("**R² lost without each feature group** (held-out rows, "
                             "classifier CIR):", lang) + "\n\n" + "\n".join(lines))

    def _csv_file(self):
        if self.state.scenario is None:
            return None
        meta = provenance(self.state, live=True)
        meta.update(scenario=self.state.scenario.label, source="scenario run (not stored)",
                    dates=f"{self.state.scenario.run.dates[0]:%Y-%m-%d}.."
                          f"{self.state.scenario.run.dates[-1]:%Y-%m-%d}")
        try:
            return io.BytesIO(csv_bytes(self.state.scenario.mean_series(), meta))
        except Exception as err:  # show_error logs what is not a refusal
            show_error(self.state, "CSV", err, "not exported")
            return None

    def __panel__(self):
        return pn.Column(pn.Row(self._name, self._factor, self._run), self._summary,
                         self._plots, self._csv, sizing_mode="stretch_width")
