"""The map: a 1 km layer rasterized server-side, the offline basemap, stations, drawing."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import holoviews as hv
import numpy as np
import panel as pn
import param
import shapely
from holoviews.operation.datashader import rasterize

from cropsm.analysis.map_layers import MAP_LAYERS
from cropsm.app import data
from cropsm.app.i18n import tr
from cropsm.app.jobs import internal_error
from cropsm.app.state import AppState
from cropsm.core.errors import CropSMError
from cropsm.core.grid import xy_to_lonlat
from cropsm.core.regions import RegionError
from cropsm.pipelines.basemap import project_lines
from cropsm.pipelines.map_layer import SCREEN_PX

_HEIGHT = 560


def _empty(title: str) -> hv.Image:
    return hv.Image(np.full((2, 2), np.nan), bounds=(0, 0, 1, 1), kdims=["x", "y"],
                    vdims=["value"]).opts(title=title)


def _range(bounds: Sequence[float] | None) -> tuple[float, float] | None:
    """A plot range as plain floats, so equal views share the cache's entry."""
    return None if bounds is None else (float(bounds[0]), float(bounds[1]))


class MapView(pn.viewable.Viewer):
    """The layer map with basemap, stations, tap and box/polygon drawing."""

    state = param.ClassSelector(class_=AppState, allow_None=param.parameters.NoNone)

    def __init__(self, **params):
        super().__init__(**params)
        self._error = ""
        self._range = hv.streams.RangeXY()
        self._size = hv.streams.PlotSize()
        self._choice = hv.streams.Params(self.state, ["crop", "depth", "date", "layer"])
        image = hv.DynamicMap(self._image, streams=[self._range, self._size, self._choice])
        self._tap = hv.streams.SingleTap(source=image, transient=True)
        self._tap.add_subscriber(self._on_tap)
        self._range.add_subscriber(self._on_range)
        boxes = hv.Rectangles([]).opts(fill_alpha=0.05, line_color="red", line_width=2)
        polygons = hv.Polygons([]).opts(fill_alpha=0.05, line_color="red", line_width=2)
        self._box_edit = hv.streams.BoxEdit(source=boxes, num_objects=1)
        self._poly_draw = hv.streams.PolyDraw(source=polygons, num_objects=1,
                                              drag=False, show_vertices=True)
        self._box_edit.add_subscriber(self._on_box)
        self._poly_draw.add_subscriber(self._on_polygon)
        stations = hv.DynamicMap(pn.bind(self._stations, self.state.param.crop))
        outline = hv.DynamicMap(pn.bind(self._outline, self.state.param.region))
        overlay = image * self._basemap() * stations * outline * boxes * polygons
        extent = self.state.extent
        plot_opts: dict[str, Any] = dict(responsive=True, data_aspect=1, xaxis=None, yaxis=None,
                         active_tools=["wheel_zoom", "pan"])
        if extent is not None:
            plot_opts.update(xlim=(extent[0], extent[2]), ylim=(extent[1], extent[3]))
        self._pane = pn.pane.HoloViews(overlay.opts(**plot_opts), sizing_mode="stretch_width",
                                       min_height=_HEIGHT)

    # -- rendering ---------------------------------------------------------------------
    def _image(self, x_range=None, y_range=None, width=None, height=None, **_):
        state = self.state
        lang = state.lang
        layer = MAP_LAYERS[state.layer]
        label, units = tr(layer.label, lang), tr(layer.units, lang)
        title = f"{label}: {tr(state.crop, lang)} {state.depth}, {state.date}"
        try:
            values = data.map_layer(state.catalog_path, state.crop, state.depth, state.date,
                                    state.layer, _range(x_range), _range(y_range),
                                    int(width or SCREEN_PX))
        except CropSMError as err:
            self._error = str(err)
            state.post(self._error, "warning")
            return _empty(f"{label}: {err}")
        except Exception:  # a bug must not leave the map blank without a trace
            self._error = internal_error("Map", lang)
            state.post(self._error, "error")
            return _empty(f"{label}: {self._error}")
        if self._error and state.message == self._error:
            state.post("")
        self._error = ""
        if values.size == 0 or values.sizes["x"] < 2 or values.sizes["y"] < 2:
            return _empty(tr("{title}: nothing in view", lang).format(title=title))
        image = hv.Image(values, kdims=["x", "y"], vdims=[hv.Dimension(
            "value", label=label, unit=units)])
        ranges = {}
        if x_range is not None and y_range is not None:
            ranges = {"x_range": tuple(x_range), "y_range": tuple(y_range)}
        shaded = rasterize(image, dynamic=False, width=int(width or SCREEN_PX),
                           height=int(height or _HEIGHT), **ranges,
                           aggregator="first" if layer.classes else "mean")
        opts = dict(colorbar=True, clabel=f"{label} ({units})", title=title,
                    clim=layer.clim, tools=["hover"], nodata=None)
        if layer.classes:
            opts.update(cmap=list(layer.classes.values()), color_levels=len(layer.classes),
                        colorbar_opts={"major_label_overrides": {
                            code: tr(name, lang) for code, name in enumerate(layer.classes)}})
        else:
            opts["cmap"] = layer.cmap
        return shaded.opts(**opts)

    @staticmethod
    def _basemap() -> hv.Overlay:
        lines = data.basemap_lines()
        return (hv.Path([lines["provinces"]], kdims=["x", "y"]).opts(color="#888888",
                                                                  line_width=0.6)
                * hv.Path([lines["rivers"]], kdims=["x", "y"]).opts(color="#4a90d9",
                                                                 line_width=0.8)
                * hv.Path([lines["boundary"]], kdims=["x", "y"]).opts(color="black",
                                                                   line_width=1.2))

    def _stations(self, crop: str) -> hv.Points:
        table = data.stations(self.state.catalog_path)
        table = table[table["crops"].astype(str).str.contains(crop)]
        return hv.Points(table, kdims=["x", "y"], vdims=["station_id", "lon", "lat"]).opts(
            color="black", marker="triangle", size=6, tools=["hover"])

    @staticmethod
    def _outline(region) -> hv.Path:
        lines = np.empty((0, 2)) if region is None else project_lines([region])
        return hv.Path([lines], kdims=["x", "y"]).opts(color="red", line_width=2)

    # -- interaction -------------------------------------------------------------------
    def _on_tap(self, x=None, y=None):
        if x is not None and y is not None:
            self.state.tapped = (float(x), float(y))

    def _on_range(self, x_range=None, y_range=None):
        if x_range is not None and y_range is not None:
            self.state.extent = (float(x_range[0]), float(y_range[0]), float(x_range[1]),
                                 float(y_range[1]))

    def _on_box(self, data=None):
        if not data or not data.get("x0"):
            return
        x0, y0, x1, y1 = (data[k][-1] for k in ("x0", "y0", "x1", "y1"))
        lon, lat = xy_to_lonlat(np.array([x0, x1, x0, x1]), np.array([y0, y0, y1, y1]))
        text = f"{lon.min():.3f},{lat.min():.3f},{lon.max():.3f},{lat.max():.3f}"
        self._set_region(text)

    def _on_polygon(self, data=None):
        if not data or not data.get("xs"):
            return
        xs, ys = np.asarray(data["xs"][-1], float), np.asarray(data["ys"][-1], float)
        if xs.size < 3:
            return
        lon, lat = xy_to_lonlat(xs, ys)
        polygon = shapely.Polygon(np.column_stack([lon, lat]))
        self.state.param.update(region=polygon, region_label="")
        lang = self.state.lang
        if polygon.is_valid:
            self.state.post(tr("Polygon region drawn", lang))
        else:
            self.state.post(tr("Polygon region drawn (it crosses itself; it will be repaired "
                               "before use)", lang), "warning")

    def _set_region(self, text: str):
        try:
            self.state.set_region(text)
        except RegionError as err:
            self.state.post(str(err), "warning")

    def __panel__(self):
        return self._pane

