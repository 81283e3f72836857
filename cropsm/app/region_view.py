"""A region: run the model on it live, and its skill against the demo truth.

Its day's statistics are beside the map (:mod:`cropsm.app.summary_view`).
"""

from __future__ import annotations

import holoviews as hv
import numpy as np
import panel as pn
import param
import xarray as xr

from cropsm.analysis.region_tables import mean_series_table
from cropsm.app import data
from cropsm.app.i18n import tr
from cropsm.app.jobs import internal_error, run_in_thread
from cropsm.app.state import AppState
from cropsm.core.errors import CropSMError
from cropsm.pipelines.region import (
    RegionData,
    plan_live_run,
    truth_skill,
)
from cropsm.serve import live

_HEIGHT = 320


class RegionView(pn.viewable.Viewer):
    """Live model runs on the region, and per-pixel skill where there is a truth."""

    state = param.ClassSelector(class_=AppState, allow_None=param.parameters.NoNone)

    def __init__(self, **params):
        super().__init__(**params)
        # panes are created per result: toggling a HoloViews pane's visibility trips a
        # panel 1.9 stylesheet bug
        self._results = pn.Row(sizing_mode="stretch_width")
        self._skill = pn.Row(sizing_mode="stretch_width")

    # the skill covers all the product's days, so a date change does not redo it
    @param.depends("state.region", "state.crop", "state.depth", watch=True)
    def _show_truth_skill(self, *_):
        if self.state.region is None:
            self._skill.objects = []
            return
        state = self.state
        try:
            found = truth_skill(data.reader(state.catalog_path), state.crop, state.depth,
                                state.region, data.china())
        except CropSMError:  # the statistics above show why the region is not usable
            found = None
        except Exception:  # a bug: the skill maps stay away, the log has the traceback
            state.post(internal_error("Truth skill", state.lang), "error")
            found = None
        if found is None:
            self._skill.objects = []
            return
        region, skill = found
        grid = region.run.grid
        lang = state.lang
        maps = []
        for name, label, cmap, clim in (("r", tr("temporal r", lang), "RdYlBu", (-1, 1)),
                                        ("ubrmse", tr("ubRMSE (m³ m⁻³)", lang), "magma_r",
                                         (0, 0.08))):
            image = xr.DataArray(skill[name], coords={"y": grid.y, "x": grid.x},
                                 dims=("y", "x"))
            maps.append(pn.pane.HoloViews(hv.Image(image, kdims=["x", "y"], vdims=[name]).opts(
                cmap=cmap, clim=clim, colorbar=True, responsive=True, height=_HEIGHT,
                data_aspect=1, xaxis=None, yaxis=None, tools=["hover"], clabel=label,
                title=tr("Against the demo truth: {label} per pixel over {days} days",
                         lang).format(label=label, days=int(skill['days'].max()))),
                sizing_mode="stretch_width",
                linked_axes=False))
        self._skill.objects = maps

    async def run(self, *_):
        """Check, cost and run the model on the region, off the event loop."""
        state = self.state
        lang = state.lang

        def prepare():
            reader = data.reader(state.catalog_path)
            cov, daily = reader.dataset("covariates"), reader.dataset("covariates_daily")
            model = data.serving_model(state.crop, state.depth, method=state.method)
            plan = plan_live_run(reader, state.crop, state.depth, state.region,
                                 state.run_start, state.run_end, data.china(),
                                 memory=model.memory)
            return (tr("Running {crop} {depth} ({method} method) on {cells} cropland "
                       "pixels × {days} days …", lang).format(
                crop=tr(state.crop, lang), depth=state.depth, method=tr(state.method, lang),
                cells=f"{plan.cropland_cells:,}", days=len(plan.dates)),
                (model, cov, daily, plan))

        done = await run_in_thread(state, "Run", prepare, live.run_region)
        if done is None:
            return
        (model, _cov, _daily, plan), result = done
        state.run = RegionData(plan, result, "live run", model.method)
        self._show(state.run)
        state.post(tr("Run finished: {n} pixel-days predicted.", lang).format(
            n=f"{int(result['predicted'].sum()):,}"))

    def _show(self, region: RegionData):
        run, result = region.run, region.result
        lang = self.state.lang
        mean = np.nanmean(np.where(result["predicted"], result["sm"], np.nan), axis=0) \
            if result["predicted"].any() else np.full(run.region.shape, np.nan)
        image = xr.DataArray(mean, coords={"y": run.grid.y, "x": run.grid.x}, dims=("y", "x"))
        result_map = hv.Image(image, kdims=["x", "y"], vdims=["sm"]).opts(
            cmap="viridis_r", clim=(0, 0.45), colorbar=True, responsive=True, height=_HEIGHT,
            data_aspect=1, clabel=tr("mean SM (m³ m⁻³)", lang), tools=["hover"], xaxis=None,
            yaxis=None, title=tr("Live run: mean SM {start}..{end}", lang).format(
                start=f"{run.dates[0]:%Y-%m-%d}", end=f"{run.dates[-1]:%Y-%m-%d}"))
        table = mean_series_table(result, run.dates, run.crop, run.depth)
        band = hv.Area(table, "date", ["sm_q10", "sm_q90"]).opts(alpha=0.3)
        result_series = (band * hv.Curve(table, "date", "sm")).opts(
            responsive=True, height=_HEIGHT, xlabel=tr("date", lang),
            ylabel=tr("regional mean SM (m³ m⁻³)", lang),
            title=tr("Regional mean and 10–90 % band", lang))
        self._results.objects = [
            pn.pane.HoloViews(result_map, sizing_mode="stretch_width", height=_HEIGHT,
                              linked_axes=False),
            pn.pane.HoloViews(result_series, sizing_mode="stretch_width", height=_HEIGHT)]

    def __panel__(self):
        return pn.Column(self._results, self._skill, sizing_mode="stretch_width")
