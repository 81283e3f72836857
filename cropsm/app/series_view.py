"""Tap for a time series: a pixel's prediction and band, or a station's observations."""

from __future__ import annotations

import holoviews as hv
import pandas as pd
import panel as pn
import param

from cropsm.app import data
from cropsm.app.i18n import tr
from cropsm.app.jobs import internal_error
from cropsm.app.state import AppState
from cropsm.core import metrics
from cropsm.core.errors import CropSMError
from cropsm.pipelines.series import series_at

_HEIGHT = 300
_STATION_PIXELS = 8  # a tap this close to a station (in screen pixels) picks the station


class SeriesView(pn.viewable.Viewer):
    """The series of the last tapped pixel or station."""

    state = param.ClassSelector(class_=AppState, allow_None=param.parameters.NoNone)

    def __init__(self, **params):
        super().__init__(**params)
        self._plot = pn.pane.HoloViews(self._placeholder(self.state.lang),
                                       sizing_mode="stretch_width", height=_HEIGHT)
        self._summary = pn.pane.Markdown(tr("Tap the map for a pixel's series, or a station "
                                            "(triangle) for its observations.",
                                            self.state.lang))

    @staticmethod
    def _placeholder(lang: str = "en") -> hv.Curve:
        return hv.Curve([], "date", "sm").opts(responsive=True, height=_HEIGHT,
                                               xlabel=tr("date", lang), ylabel=tr("sm", lang))

    @param.depends("state.tapped", "state.crop", "state.depth", watch=True)
    def _update(self, *_):
        if self.state.tapped is None:
            return
        x, y = self.state.tapped
        extent = self.state.extent
        tolerance = 5000.0 if extent is None else (extent[2] - extent[0]) / 700 * _STATION_PIXELS
        state = self.state
        try:
            found = series_at(data.reader(state.catalog_path), state.crop, state.depth, x, y,
                              tolerance, lambda c, d: data.serving_model(c, d,
                                                                          method=state.method))
        except CropSMError as err:
            self._summary.object = tr("**No series here:** {err}", state.lang).format(err=err)
            self._plot.object = self._placeholder(self.state.lang)
            return
        except Exception:  # a bug: the panel says so and the log has the traceback
            self._summary.object = internal_error("Series", state.lang)
            state.post(self._summary.object, "error")
            self._plot.object = self._placeholder(self.state.lang)
            return
        if found.station is not None:
            self._show_station(found.station, found.table)
        else:
            self._show_pixel(found.table)

    def _show_pixel(self, table: pd.DataFrame) -> None:
        lang = self.state.lang
        crop = tr(self.state.crop, lang)
        label = tr("pixel row {row}, col {col}", lang).format(row=table.attrs['row'],
                                                             col=table.attrs['col'])
        if table["sm"].isna().all():
            self._summary.object = tr("**{label}:** no prediction here (not {crop} cropland, "
                                      "or out of season).", lang).format(label=label, crop=crop)
            self._plot.object = self._placeholder(self.state.lang)
            return
        frame = table.reset_index()
        band = hv.Area(frame, "date", ["sm_q10", "sm_q90"],
                       label=tr("10–90 % of trees", lang)).opts(alpha=0.3, color="#1f77b4")
        plot = band * hv.Curve(frame, "date", "sm", label=tr("predicted", lang)).opts(
            color="#1f77b4")
        text = tr("**{label}**, {crop} {depth}", lang).format(label=label, crop=crop,
                                                             depth=self.state.depth)
        if "truth" in frame:
            plot = plot * hv.Curve(frame, "date", "truth", label=tr("truth (demo)", lang)).opts(
                color="black", line_dash="dashed")
            text += tr(": r = {r}, ubRMSE = {ubrmse} m³ m⁻³ against the truth", lang).format(
                r=f"{float(metrics.pearson_r(table['sm'], table['truth'])):.2f}",
                ubrmse=f"{float(metrics.ubrmse(table['sm'], table['truth'])):.3f}")
        self._summary.object = text
        self._plot.object = plot.opts(responsive=True, height=_HEIGHT, xticks=4,
                                      xlabel=tr("date", lang), ylabel=tr("SM (m³ m⁻³)", lang),
                                      legend_position="top_left")

    def _show_station(self, station: str, table: pd.DataFrame) -> None:
        lang = self.state.lang
        crop, depth = tr(self.state.crop, lang), self.state.depth
        if table.empty:
            self._summary.object = tr("**Station {station}** has no {crop} {depth} "
                                      "observations.", lang).format(station=station, crop=crop,
                                                                    depth=depth)
            self._plot.object = self._placeholder(self.state.lang)
            return
        r = float(metrics.pearson_r(table["predicted"], table["observed"]))
        ub = float(metrics.ubrmse(table["predicted"], table["observed"]))
        frame = table.reset_index()
        plot = (hv.Scatter(frame, "date", "observed", label=tr("observed", lang)).opts(
                    color="black", size=5)
                * hv.Scatter(frame, "date", "predicted", label=tr("predicted", lang)).opts(
                    color="#d62728", size=5, marker="x"))
        self._summary.object = tr(
            "**Station {station}**, {crop} {depth}: {n} observations, r = {r}, ubRMSE = "
            "{ubrmse} m³ m⁻³ (in-sample: the station trained this model; see the validation "
            "report for station-blocked scores).", lang).format(
            station=station, crop=crop, depth=depth, n=len(table), r=f"{r:.2f}",
            ubrmse=f"{ub:.3f}")
        self._plot.object = plot.opts(responsive=True, height=_HEIGHT, xticks=4,
                                      xlabel=tr("date", lang), ylabel=tr("SM (m³ m⁻³)", lang),
                                      legend_position="top_left")

    def __panel__(self):
        return pn.Column(self._summary, self._plot, sizing_mode="stretch_width")
