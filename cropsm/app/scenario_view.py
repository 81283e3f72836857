"""What-if scenarios on the region: irrigation, rain, the other crop's forest, omissions."""

from __future__ import annotations

import io
import warnings
from typing import cast

import holoviews as hv
import numpy as np
import panel as pn
import param
import xarray as xr

from cropsm.analysis.scenario_skill import NO_TRUTH, skill_sentence
from cropsm.app import data
from cropsm.app.export_view import provenance
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


def scenario_models(state: AppState, name: str) -> dict:
    """The serving models a scenario needs, by crop (and ``"reduced"`` or ``"rainfed"``)."""
    if (name.startswith("omit_") or name == "irrigation") and state.method != "paper":
        raise PredictError("CIR = 0 and the feature omissions belong to the paper method "
                           "(its irrigation module and reduced models): switch the method "
                           "to paper, or choose the learned irrigation-off scenario.")
    method = scenario_method(state, name)
    wanted = crops.CROPS if name == "crop_swap" else (state.crop,)
    models = {crop: data.serving_model(crop, state.depth, method=method) for crop in wanted}
    if name == "irrigation_rainfed":
        try:
            models["rainfed"] = data.serving_model(state.crop, state.depth, RAINFED_ONLY,
                                                   method="cropsm")
        except ModelFileError as err:
            raise PredictError(f"No {state.crop} {state.depth} forest of the rain-fed "
                               "stations; train it with `cropsm train --method cropsm "
                               "--rainfed`.") from err
    if name.startswith("omit_"):
        group = name[len("omit_"):]
        try:
            models["reduced"] = data.serving_model(state.crop, state.depth, group)
        except ModelFileError as err:
            raise PredictError(f"No {state.crop} {state.depth} model without the {group} "
                               f"features; train it with `cropsm train --omit {group}`."
                               ) from err
    return models


class ScenarioView(pn.viewable.Viewer):
    """Choose a scenario, run it on the region, read its maps, series and numbers."""

    state = param.ClassSelector(class_=AppState, allow_None=param.parameters.NoNone)

    def __init__(self, **params):
        super().__init__(**params)
        self._name = pn.widgets.Select(label="Scenario", options={v: k for k, v in
                                                                 SCENARIOS.items()})
        low, high = PRECIPITATION_RANGE
        self._factor = pn.widgets.FloatSlider(label="Precipitation change", start=low,
                                              end=high, step=0.05, value=-0.3,
                                              format="0%")
        self._run = pn.widgets.Button(label="Run scenario on the region", color="success")
        self._run.on_click(self.run)
        self._summary = pn.pane.Markdown("Choose a region and dates in the sidebar, then a "
                                         "scenario. Nothing is written to the product store.")
        self._plots = pn.Row(sizing_mode="stretch_width")
        self._csv = pn.widgets.FileDownload(callback=self._csv_file, label="Download scenario CSV",
                                            filename="cropsm_scenario.csv", visible=False)

    async def run(self, *_):
        """Check, cost and run the chosen scenario off the event loop."""
        state, name = self.state, self._name.value

        def prepare():
            # the slider's value is typed float | int | None; check_factor refuses a
            # non-number (None included) with a PredictError, so pass it on unchanged
            value = cast(float, self._factor.value)
            factor = check_factor(value) if name == "precipitation" else 0.0
            plan = plan_scenario(state, name)
            models = scenario_models(state, name)
            return (f"Running scenario '{SCENARIOS[name]}' on {plan.cropland_cells:,} cells …",
                    (data.reader(state.catalog_path), name, models, plan, factor))

        done = await run_in_thread(state, "Scenario", prepare, checked_scenario)
        if done is None:
            return
        _, (result, check) = done
        self.state.param.update(scenario=result, scenario_check=check)
        self._show(result, check)
        state.post(f"Scenario finished: {result.label}.",
                   "warning" if check is not None and check.warning else "info")

    def _show(self, result: ScenarioResult, check: TruthCheck | None = None):
        numbers = scenario_summary(result)
        self._summary.object = (
            f"**{result.label}** ({result.run.crop} {result.run.depth}, "
            f"{result.run.dates[0]:%Y-%m-%d}..{result.run.dates[-1]:%Y-%m-%d}): "
            f"{numbers['pixel_days']:,} pixel-days; mean SM baseline "
            f"{numbers['baseline_mean_sm']:.4f}, scenario {numbers['scenario_mean_sm']:.4f}, "
            f"difference {numbers['mean_difference']:+.4f} m³ m⁻³; "
            f"{numbers['drier_share']:.0%} of pixel-days drier and "
            f"{numbers['wetter_share']:.0%} wetter by more than 0.01 m³ m⁻³; "
            f"{numbers['outside_aoa_share']:.0%} outside the scenario model's area of "
            "applicability."
            + (self._ranking(result) if result.name.startswith("omit_") else "")
            + self._truth_text(result, check))
        run = result.run
        mean_difference = result.mean_difference()
        image = xr.DataArray(mean_difference, coords={"y": run.grid.y, "x": run.grid.x},
                             dims=("y", "x"))
        limit = float(np.nanmax(np.abs(mean_difference))) if np.isfinite(
            mean_difference).any() else 0.01
        difference_map = hv.Image(image, kdims=["x", "y"], vdims=["difference"]).opts(
            cmap="RdBu", clim=(-limit, limit), colorbar=True, responsive=True, height=_HEIGHT,
            data_aspect=1, xaxis=None, yaxis=None, tools=["hover"],
            clabel="scenario − baseline (m³ m⁻³)", title="Mean difference")
        table = result.mean_series()
        series = (hv.Curve(table, "date", "baseline_sm", label="baseline")
                  * hv.Curve(table, "date", "scenario_sm", label="scenario")).opts(
            responsive=True, height=_HEIGHT, ylabel="regional mean SM (m³ m⁻³)",
            legend_position="top_left", title="Regional mean")
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
                clabel="true change (m³ m⁻³)", title="True mean difference (demo world)")
            plots.append(pn.pane.HoloViews(true_map, sizing_mode="stretch_width",
                                           height=_HEIGHT, linked_axes=False))
        self._plots.objects = [*plots, pn.pane.HoloViews(series, sizing_mode="stretch_width",
                                                         height=_HEIGHT)]
        self._csv.filename = f"cropsm_scenario_{result.name}_{run.crop}_{run.depth}.csv"
        self._csv.visible = True

    @staticmethod
    def _truth_text(result: ScenarioResult, check: TruthCheck | None) -> str:
        """The response's skill against the counterfactual truth, or why there is none."""
        if check is None:
            if forest_scenario_change(result) is None:
                return ("\n\nThis scenario changes the model, not the world: it has no true "
                        "response to check.")
            measured = MEASURED_SKILL.get(result.name)
            return (f"\n\n{NO_TRUTH}"
                    + (f" Measured on the demo world, this scenario was {measured} "
                       "(docs/scenarios.md)." if measured else ""))
        text = ("\n\n**Against the true response** (the demo world re-simulated under the "
                "same change): " + skill_sentence(check.skill))
        return text + (f"\n\n**⚠ {check.warning}**" if check.warning else "")

    def _ranking(self, result: ScenarioResult) -> str:
        """Held-out R² lost without each feature group (Liu et al. 2021, Fig. 5)."""
        try:
            table = data.omission_table(result.run.crop, result.run.depth)
        except ModelFileError as err:  # no card, or one without the scores
            return f"\n\nNo R² ranking: {err}"
        lines = [f"{k + 1}. {row.group}: R² {row.r2:.3f}, loss {row.r2_loss:+.3f}"
                 for k, row in enumerate(table.itertuples())]
        return ("\n\n**R² lost without each feature group** (held-out rows, classifier "
                "CIR):\n\n" + "\n".join(lines))

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
