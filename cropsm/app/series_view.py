"""Tap for a time series: a pixel's prediction and band, or a station's observations."""

from __future__ import annotations

import holoviews as hv
import numpy as np
import pandas as pd
import panel as pn
import param

from cropsm.app import data
from cropsm.app.state import AppState
from cropsm.core import metrics
from cropsm.io.catalog import CatalogError
from cropsm.rf.features import BASE_FEATURES, FEATURES, features_at

_HEIGHT = 300
_STATION_PIXELS = 8  # a tap this close to a station (in screen pixels) picks the station


def pixel_series(state: AppState, x: float, y: float, with_truth: bool = True) -> pd.DataFrame:
    """The product's series at the cell containing grid point ``x, y``.

    Returns
    -------
    pandas.DataFrame
        Indexed by date: ``sm``, ``sm_q10``, ``sm_q90`` and, on the demo world, ``truth``.
    """
    path = state.catalog_path
    row, col = (int(v) for v in data.grid(path).xy_to_rowcol(x, y))
    series = data.product(path, "series")
    out = pd.DataFrame({name: series[name].isel(y=row, x=col).sel(
        crop=state.crop, depth=state.depth).values for name in ("sm", "sm_q10", "sm_q90")},
        index=pd.DatetimeIndex(series["time"].values, name="date"))
    if with_truth and data.has_entry(path, "truth"):
        truth = data.entry(path, "truth")["sm"].sel(crop=state.crop, depth=state.depth)
        days = out.index.intersection(pd.DatetimeIndex(truth["time"].values))
        if len(days):
            values = truth.isel(y=row, x=col).sel(time=days).values
            out["truth"] = pd.Series(values, index=days)
    out.attrs.update(row=row, col=col)
    return out


def station_series(state: AppState, station_id: str) -> pd.DataFrame:
    """A station's observations of the state's crop and depth, and the model's predictions.

    Predictions come from the saved model with the classifier's CIR, never the observed
    one. The station helped train that model, so its scores here are in-sample; the
    station-blocked scores are in the validation report.
    """
    path = state.catalog_path
    obs = data.entry(path, "stations")
    obs = obs[(obs["station_id"] == station_id) & (obs["crop"] == state.crop)
              & (obs["depth"] == state.depth)].sort_values("date")
    if obs.empty:
        return pd.DataFrame(columns=["observed", "predicted"])
    meta = data.stations(path).set_index("station_id").loc[station_id]
    table = features_at(data.entry(path, "covariates"), data.entry(path, "covariates_daily"),
                        np.full(len(obs), meta["row"]), np.full(len(obs), meta["col"]),
                        obs["date"].to_numpy())
    X = np.zeros((len(obs), len(FEATURES)), np.float32)
    for name in BASE_FEATURES:
        X[:, FEATURES.index(name)] = table[name].to_numpy()
    predicted = data.serving_model(state.crop, state.depth).predict_rows(X)["sm"]
    return pd.DataFrame({"observed": obs["sm"].to_numpy(), "predicted": predicted},
                        index=pd.DatetimeIndex(obs["date"].to_numpy(), name="date"))


def nearest_station(state: AppState, x: float, y: float, tolerance: float) -> str | None:
    """The station within ``tolerance`` grid metres of ``x, y``, if any."""
    table = data.stations(state.catalog_path)
    if table.empty:
        return None
    distance = np.hypot(table["x"].to_numpy() - x, table["y"].to_numpy() - y)
    best = int(np.argmin(distance))
    return str(table["station_id"].iloc[best]) if distance[best] <= tolerance else None


class SeriesView(pn.viewable.Viewer):
    """The series of the last tapped pixel or station."""

    state = param.ClassSelector(class_=AppState)

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
        try:
            station = nearest_station(self.state, x, y, tolerance)
            if station is not None:
                self._show_station(station)
            else:
                self._show_pixel(x, y)
        except (CatalogError, OSError, ValueError, IndexError, KeyError) as err:
            self._summary.object = f"**No series here:** {err}"
            self._plot.object = self._placeholder()

    def _show_pixel(self, x: float, y: float):
        table = pixel_series(self.state, x, y)
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
        self._plot.object = plot.opts(responsive=True, height=_HEIGHT, ylabel="SM (m³ m⁻³)",
                                      legend_position="top_left")

    def _show_station(self, station: str):
        table = station_series(self.state, station)
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
        self._plot.object = plot.opts(responsive=True, height=_HEIGHT, ylabel="SM (m³ m⁻³)",
                                      legend_position="top_left")

    def __panel__(self):
        return pn.Column(self._summary, self._plot, sizing_mode="stretch_width")
