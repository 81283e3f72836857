"""The multilayer network of Liu et al. (2021): pattern scenarios, quality flags, RF vs NN."""

from __future__ import annotations

import io
import warnings

import holoviews as hv
import numpy as np
import pandas as pd
import panel as pn
import param
import xarray as xr

from cropsm.analysis.scenario_skill import NO_TRUTH
from cropsm.app import data
from cropsm.app.export_view import provenance
from cropsm.app.i18n import tr
from cropsm.app.jobs import run_in_thread, show_error
from cropsm.app.pattern_regions_view import PatternRegionsView
from cropsm.app.scenario_view import skill_text
from cropsm.app.state import AppState
from cropsm.core import crops, patterns
from cropsm.io.catalog import CatalogError
from cropsm.io.export import csv_bytes, netcdf_bytes
from cropsm.nn import pattern_scenarios as ps
from cropsm.pipelines.control_maps import ControlMaps, control_experiment_maps
from cropsm.pipelines.counterfactual import TruthCheck, pattern_truth_check
from cropsm.pipelines.region import plan_live_run
from cropsm.serve import live

_HEIGHT = 300
# the reference runs the chain once per pattern present, the scenario once more
_BUDGET = live.LIVE_BUDGET_PIXEL_DAYS // 5


def plan_pattern_run(state: AppState) -> live.RegionRun:
    """Check and cost a pattern scenario on the state's region and dates."""
    return plan_live_run(data.reader(state.catalog_path), state.crop, crops.DEPTHS[0],
                         state.region, state.run_start, state.run_end, data.china(),
                         budget=_BUDGET)


def _image(values: np.ndarray, run: live.RegionRun, name: str, cmap, clim, title: str):
    image = xr.DataArray(values, coords={"y": run.grid.y, "x": run.grid.x}, dims=("y", "x"))
    return hv.Image(image, kdims=["x", "y"], vdims=[name]).opts(
        cmap=cmap, clim=clim, colorbar=True, responsive=True, height=_HEIGHT, data_aspect=1,
        xaxis=None, yaxis=None, tools=["hover"], title=title)


def _truth_text(check: TruthCheck | None, lang: str = "en") -> str:
    """The pattern response's skill against the demo world's re-simulated truth."""
    if check is None:
        return "\n\n" + tr(NO_TRUTH, lang)
    text = "\n\n" + tr("**Against the true response** (the demo world's fields re-simulated "
                        "under the pattern, against their own patterns; the network's "
                        "response taken against its reference weighted as the fields are): "
                        "{skill}", lang).format(skill=skill_text(check.skill, lang, "network",
                                                                 "mean"))
    return text + (f"\n\n**⚠ {check.warning}**" if check.warning else "")


class NetworkView(pn.viewable.Viewer):
    """Choose a layer and a cropping pattern; run the network on the region."""

    state = param.ClassSelector(class_=AppState, allow_None=param.parameters.NoNone)
    layer: param.Selector[str] = param.Selector(default=crops.SOIL_LAYERS[0],
                                                objects=list(crops.SOIL_LAYERS))
    pattern: param.Selector[int] = param.Selector(objects=list(patterns.PATTERNS),
                                                  doc="The cropping pattern's code")

    def __init__(self, **params):
        super().__init__(**params)
        lang = self.state.lang
        self._layer = pn.widgets.Select.from_param(self.param.layer, name=tr("Layer", lang))
        present = self._present_patterns() or list(patterns.PATTERNS)
        self.param.pattern.objects = {tr(patterns.PATTERNS[c], lang): c for c in present}
        self.pattern = present[0]
        self._pattern = pn.widgets.Select.from_param(self.param.pattern,
                                                     name=tr("Whole region under", lang))
        self._run = pn.widgets.Button(label=tr("Run the network on the region", lang),
                                      color="success")
        self._run.on_click(self.run)
        self._summary = pn.pane.Markdown(tr(
            "The multilayer network (Liu et al. 2021) predicts five 10 cm layers from 0 to "
            "50 cm. Choose a region and dates in the sidebar, a layer and a cropping pattern: "
            "the run shows the pattern-weighted reference product, the region under that "
            "pattern minus the reference, and the quality flags. Nothing is written.", lang))
        self._plots = pn.Row(sizing_mode="stretch_width")
        self._seasonal = pn.Row(sizing_mode="stretch_width")
        self._csv = pn.widgets.FileDownload(callback=self._csv_file,
                                            label=tr("Download CSV", lang),
                                            filename="cropsm_pattern_scenario.csv",
                                            visible=False)
        self._grid = pn.widgets.FileDownload(callback=self._netcdf_file,
                                             label=tr("Download the grids and flags (netCDF)",
                                                      lang),
                                             filename="cropsm_pattern_scenario.nc",
                                             visible=False)
        self._control = pn.widgets.Button(label=tr("Control experiments (Fig. 6)", lang),
                                          button_type="primary")
        self._control.on_click(self.run_controls)
        self._control_summary = pn.pane.Markdown("")
        self._control_maps = pn.Row(sizing_mode="stretch_width")
        self._regions = PatternRegionsView(state=self.state)

    def _present_patterns(self) -> list[int]:
        try:
            cov = data.dataset(self.state.catalog_path, "covariates")
        except CatalogError:
            return list(patterns.PATTERNS)
        return list(cov.attrs.get("patterns_present", patterns.PATTERNS))

    async def run(self, *_):
        """Check, cost and run the scenario off the event loop."""
        state = self.state
        lang = state.lang
        layer, code = self.layer, self.pattern
        path = state.catalog_path

        def prepare():
            plan = plan_pattern_run(state)
            return (tr("Running the network ({layer}, {pattern}) on {cells} cells …",
                       lang).format(layer=layer, pattern=tr(patterns.PATTERNS[code], lang),
                                    cells=f"{plan.cropland_cells:,}"), (plan, data.network()))

        def work(plan, network):
            result = ps.pattern_scenario(
                network, data.dataset(path, "covariates"), data.dataset(path, "covariates_daily"),
                data.table(path, "stations"), data.table(path, "station_meta"), plan.rows,
                plan.cols, plan.region, plan.dates, layer, code)
            return result, pattern_truth_check(data.reader(path), network, result, plan, layer,
                                               code)

        done = await run_in_thread(state, "Network run", prepare, work)
        if done is None:
            return
        (plan, _), (result, check) = done
        self.state.param.update(network=result, network_check=check)
        self._show(result, plan, check)
        state.post(tr("Network run finished: {pattern} at {layer}.", lang).format(
            pattern=tr(patterns.PATTERNS[code], lang), layer=layer),
                   "warning" if check is not None and check.warning else "info")

    def _show(self, result: xr.Dataset, run: live.RegionRun,
              check: TruthCheck | None = None) -> None:
        lang = self.state.lang
        reference = result["reference"].mean("time").values
        difference = result["difference"].mean("time").values
        flag = np.where(np.isfinite(reference), result["pattern_flag"].values, np.nan)
        finite = np.isfinite(difference)
        limit = float(np.nanmax(np.abs(difference))) if finite.any() else 0.01
        low, high = (np.nanpercentile(reference, [2, 98]) if np.isfinite(reference).any()
                     else (0.0, 0.4))
        self._plots.objects = [pn.pane.HoloViews(p, sizing_mode="stretch_width", height=_HEIGHT,
                                                 linked_axes=False)
                               for p in (
            _image(reference, run, "reference", "viridis_r", (low, high),
                   tr("Reference (pattern-weighted), mean", lang)),
            _image(difference, run, "difference", "RdBu", (-limit, limit),
                   tr("Pattern − reference, mean", lang)),
            _image(flag, run, "pattern_flag", ["#d62728", "#2ca02c"], (0, 1),
                   tr("Pattern flag (green: observed in the zone)", lang)))]
        if check is not None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # cells without days: NaN
                true_mean = np.nanmean(check.truth.difference, axis=0)
            self._plots.objects = [*self._plots.objects, pn.pane.HoloViews(
                _image(true_mean, run, "difference", "RdBu", (-limit, limit),
                       tr("True pattern − own fields, mean (demo world)", lang)),
                sizing_mode="stretch_width", height=_HEIGHT, linked_axes=False)]
        zones = data.dataset(self.state.catalog_path, "covariates")["zone"].isel(
            y=run.rows, x=run.cols)
        seasonal = ps.seasonal_difference(result, zones.where(np.isfinite(
            result["reference"].isel(time=0)), 0).astype(int))
        if not seasonal.empty:
            # points as well as lines: a run inside one month has one value per zone
            curves = [element(frame, "month", "difference",
                              label=tr("zone {zone}", lang).format(zone=zone))
                      for zone, frame in seasonal.groupby("zone")
                      for element in (hv.Curve, hv.Scatter)]
            self._seasonal.objects = [pn.pane.HoloViews(hv.Overlay(curves).opts(
                responsive=True, height=_HEIGHT, xlabel=tr("month", lang),
                ylabel=tr("pattern − reference (m³ m⁻³)", lang),
                title=tr("Monthly difference by agricultural zone", lang),
                legend_position="top_left"),
                sizing_mode="stretch_width", height=_HEIGHT, linked_axes=False)]
        in_time = float(result["time_flag"].mean())
        self._summary.object = (
            tr("**{pattern}** at {layer}, {start}..{end}: mean reference {reference}, pattern − "
               "reference {difference} m³ m⁻³. Time flag: {in_time} of the days lie inside the "
               "stations' period; pattern flag: {flag} of the cells have this pattern observed "
               "at stations of their zone.", lang).format(
                pattern=tr(result.attrs['pattern'], lang), layer=result.attrs['layer'],
                start=f"{run.dates[0]:%Y-%m-%d}", end=f"{run.dates[-1]:%Y-%m-%d}",
                reference=f"{np.nanmean(reference):.4f}",
                difference=f"{np.nanmean(difference):+.4f}", in_time=f"{in_time:.0%}",
                flag=f"{np.nanmean(flag):.0%}")
            + _truth_text(check, lang) + self._comparison())
        self._csv.filename = (f"cropsm_pattern_{result.attrs['layer']}_"
                              f"{int(self.pattern)}.csv")
        self._grid.filename = self._csv.filename.replace(".csv", ".nc")
        self._csv.visible = self._grid.visible = True

    def _comparison(self) -> str:
        """RF vs NN on the same held-out rows, from ``cropsm network compare``."""
        rows = data.network_comparison().get("rows", [])
        layer, lang = self.layer, self.state.lang
        mine = [r for r in rows if r["scheme"] == "station_blocked" and r["layer"] == layer
                and r["crop"] == self.state.crop]
        if not mine:
            return ""
        text = ", ".join(f"{tr(r['method'], lang)} r {r['r']:.3f}, ubRMSE {r['ubrmse']:.4f}"
                         for r in mine)
        return "\n\n" + tr("Station-blocked skill at {layer} ({crop}): {text}.", lang).format(
            layer=layer, crop=tr(self.state.crop, lang), text=text)

    @staticmethod
    def series(result: xr.Dataset) -> pd.DataFrame:
        """Regional means per day, the time flag, and the share of cells the pattern flags."""
        means = result[["reference", "scenario", "difference"]].mean(("y", "x"))
        frame = means.to_dataframe().reset_index()
        frame["time_flag"] = result["time_flag"].values
        cropland = np.isfinite(result["reference"].isel(time=0).values)
        frame["pattern_flag_share"] = float(result["pattern_flag"].values[cropland].mean())
        return frame.rename(columns={"time": "date"})

    def _csv_file(self):
        result = self.state.network
        if result is None:
            return None
        try:
            return io.BytesIO(csv_bytes(self.series(result), self._provenance(result)))
        except Exception as err:  # show_error logs what is not a refusal
            show_error(self.state, "CSV", err, "not exported")
            return None

    def _provenance(self, result: xr.Dataset) -> dict:
        meta = provenance(self.state)
        meta.update(method="multilayer network (Liu et al. 2021)",
                    layer=result.attrs["layer"], pattern=result.attrs["pattern"],
                    source="network run (not stored)")
        return meta

    def _netcdf_file(self):
        result = self.state.network
        if result is None:
            return None
        try:
            return io.BytesIO(netcdf_bytes(result, self._provenance(result)))
        except Exception as err:  # show_error logs what is not a refusal
            show_error(self.state, "netCDF", err, "not exported")
            return None

    async def run_controls(self, *_):
        """Each reduced network minus the full one on the region, off the event loop."""
        state, layer = self.state, self.layer
        lang = state.lang

        def prepare():
            plan = plan_pattern_run(state)
            return (tr("Running the control experiments at {layer} on {cells} cells …",
                       lang).format(layer=layer, cells=f"{plan.cropland_cells:,}"),
                    (data.reader(state.catalog_path), data.models_dir(), plan, layer))

        done = await run_in_thread(state, "Control experiments", prepare,
                                   control_experiment_maps)
        if done is None:
            return
        (_reader, _models, plan, _layer), controls = done
        self._show_controls(controls, plan)
        state.post(tr("Control experiments finished at {layer}.", lang).format(layer=layer))

    def _show_controls(self, controls: ControlMaps, run: live.RegionRun) -> None:
        maps, ranking = controls.maps, controls.ranking
        lang = self.state.lang
        means = {group: maps[f"without_{group}"].mean("time").values
                 for group in ranking["group"]}
        finite = [np.abs(v[np.isfinite(v)]) for v in means.values()]
        limit = max((float(v.max()) for v in finite if v.size), default=0.01)
        self._control_maps.objects = [
            pn.pane.HoloViews(_image(values, run, "difference", "RdBu", (-limit, limit),
                                     tr("without {group}", lang).format(group=tr(group, lang))),
                              sizing_mode="stretch_width", height=_HEIGHT, linked_axes=False)
            for group, values in means.items()]
        lines = [tr("{k}. {group}: training R² {r2}, loss {loss}; mean difference "
                    "{difference} m³ m⁻³", lang).format(
            k=k + 1, group=tr(str(row.group), lang), r2=f"{row.r2_train:.3f}",
            loss=f"{row.r2_loss:+.3f}", difference=f"{np.nanmean(means[row.group]):+.4f}")
                 for k, row in enumerate(ranking.itertuples())]
        self._control_summary.object = (
            tr("**Control experiments at {layer}** (Liu et al. 2021, Fig. 6), {start}..{end}: "
               "each network trained without a feature group minus the full network, mean "
               "over the days; ranked by the training R² it loses (Fig. 5).", lang).format(
                layer=maps.attrs['layer'], start=f"{run.dates[0]:%Y-%m-%d}",
                end=f"{run.dates[-1]:%Y-%m-%d}")
            + "\n\n" + "\n".join(lines))

    def __panel__(self):
        return pn.Column(pn.Row(self._layer, self._pattern, self._run, self._control),
                         self._summary, self._plots, self._seasonal,
                         pn.Row(self._csv, self._grid), self._control_summary,
                         self._control_maps, pn.layout.Divider(), self._regions,
                         sizing_mode="stretch_width")
