"""Tap for a time series: a pixel's prediction and band, or a station's observations."""

from __future__ import annotations

import holoviews as hv
import pandas as pd
import panel as pn
import param

from cropsm.app import data
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
        self._plot = pn.pane.HoloViews(self._placeholder(), sizing_mode="stretch_width",
                                       height=_HEIGHT)
        self._summary = pn.pane.Markdown("Tap the map for a pixel's series, or a station "
                                         "(triangle) for its observations.")
        self.state.param.watch(self._update, ["tapped", "crop", "depth"])

    @staticmethod
    def _placeholder() -> hv.Curve:
        return hv.Curve([], "date", "sm").opts(responsive=True, height=_HEIGHT)

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
            self._summary.object = f"**No series here:** {err}"
            self._plot.object = self._placeholder()
            return
        except Exception:  # a bug: the panel says so and the log has the traceback
            self._summary.object = internal_error("Series")
            state.post(self._summary.object, "error")
            self._plot.object = self._placeholder()
            return
        if found.station is not None:
            self._show_station(found.station, found.table)
        else:
            self._show_pixel(found.table)

    def _show_pixel(self, table: pd.DataFrame) -> None:
        label = f"pixel row {table.attrs['row']}, col {table.attrs['col']}"
        if table["sm"].isna().all():
            self._summary.object = (f"**{label}:** no prediction here (not {self.state.crop} "
                                    "cropland, or out of season).")
            self._plot.object = self._placeholder()
            return
        frame = table.reset_index()
        band = hv.Area(frame, "date", ["sm_q10", "sm_q90"], label="10–90 % of trees").opts(
            alpha=0.3, color="#1f77b4")
        plot = band * hv.Curve(frame, "date", "sm", label="predicted").opts(color="#1f77b4")
        text = f"**{label}**, {self.state.crop} {self.state.depth}"
        if "truth" in frame:
            plot = plot * hv.Curve(frame, "date", "truth", label="truth (demo)").opts(
                color="black", line_dash="dashed")
            text += (f": r = {float(metrics.pearson_r(table['sm'], table['truth'])):.2f}, "
                     f"ubRMSE = {float(metrics.ubrmse(table['sm'], table['truth'])):.3f} "
                     "m³ m⁻³ against the truth")
        self._summary.object = text
        self._plot.object = plot.opts(responsive=True, height=_HEIGHT, xticks=4,
                                      ylabel="SM (m³ m⁻³)",
                                      legend_position="top_left")

    def _show_station(self, station: str, table: pd.DataFrame) -> None:
        if table.empty:
            self._summary.object = (f"**Station {station}** has no {self.state.crop} "
                                    f"{self.state.depth} observations.")
            self._plot.object = self._placeholder()
            return
        r = float(metrics.pearson_r(table["predicted"], table["observed"]))
        ub = float(metrics.ubrmse(table["predicted"], table["observed"]))
        frame = table.reset_index()
        plot = (hv.Scatter(frame, "date", "observed", label="observed").opts(
                    color="black", size=5)
                * hv.Scatter(frame, "date", "predicted", label="predicted").opts(
                    color="#d62728", size=5, marker="x"))
        self._summary.object = (
            f"**Station {station}**, {self.state.crop} {self.state.depth}: "
            f"{len(table)} observations, r = {r:.2f}, ubRMSE = {ub:.3f} m³ m⁻³ "
            "(in-sample: the station trained this model; see the validation report for "
            "station-blocked scores).")
        self._plot.object = plot.opts(responsive=True, height=_HEIGHT, xticks=4,
                                      ylabel="SM (m³ m⁻³)",
                                      legend_position="top_left")

    def __panel__(self):
        return pn.Column(self._summary, self._plot, sizing_mode="stretch_width")
