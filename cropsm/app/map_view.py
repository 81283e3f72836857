"""The map: a 1 km layer rasterized server-side, the offline basemap, stations, drawing."""

from __future__ import annotations

import holoviews as hv
import numpy as np
import pandas as pd
import panel as pn
import param
import shapely
import xarray as xr
from holoviews.operation.datashader import rasterize

from cropsm.analysis.drought import DROUGHT_GRADES, NotEnoughYears, doy_anomaly
from cropsm.analysis.map_layers import GRADE_COLOURS, MAP_LAYERS, layer_values
from cropsm.app import data
from cropsm.app.state import AppState
from cropsm.core.grid import xy_to_lonlat
from cropsm.io.catalog import CatalogError

_HEIGHT = 560
_SCREEN_PX = 700  # typical width of the map in pixels, for choosing an overview level


def _empty(title: str) -> hv.Image:
    return hv.Image(np.full((2, 2), np.nan), bounds=(0, 0, 1, 1), kdims=["x", "y"],
                    vdims=["value"]).opts(title=title)


def _select(da: xr.DataArray, x_range, y_range, stride: int = 1) -> xr.DataArray:
    """The part of a (y, x) array in view (y descends), every ``stride``-th cell."""
    if x_range is not None and y_range is not None:
        da = da.sel(x=slice(*x_range), y=slice(y_range[1], y_range[0]))
    if stride > 1:
        da = da.isel(x=slice(None, None, stride), y=slice(None, None, stride))
    return da


def layer_window(state: AppState, x_range=None, y_range=None, screen_px: int = _SCREEN_PX
                 ) -> xr.DataArray:
    """The current layer for the state's crop, depth and date over a view, at screen detail.

    Soil moisture zoomed out reads the overview pyramid; other layers read every
    ``factor``-th 1 km cell, since they are not averages of the coarse SM.

    Raises
    ------
    cropsm.io.catalog.CatalogError, ValueError
        The product or a layer's input is missing, with what to do.
    """
    path, layer = state.catalog_path, MAP_LAYERS[state.layer]
    if state.date is None:
        raise CatalogError("The product has no dates yet; run `cropsm predict` first.")
    full = data.grid(path)
    if x_range is None or y_range is None:
        x0, y0, x1, y1 = full.bounds
        x_range, y_range = (x0, x1), (y0, y1)
    view_cells = (x_range[1] - x_range[0]) / full.resolution
    factor = data.level_for(view_cells, screen_px)
    when = np.datetime64(state.date)
    pick = {"crop": state.crop, "depth": state.depth}
    if state.layer == "sm" and factor:
        return _select(data.product(path, factor)["sm"].sel(**pick, time=when), x_range,
                       y_range).load().rename("sm")
    ds = data.product(path, 0)
    if state.layer == "anomaly":
        years = pd.DatetimeIndex(ds["time"].values).year.unique()
        if len(years) < 3:
            raise NotEnoughYears(f"The anomaly needs at least 3 years of product; it holds "
                                 f"{len(years)} ({', '.join(map(str, years))}). Run "
                                 "`cropsm predict` over more years.")
        series = _select(data.product(path, "series")["sm"].sel(**pick), x_range, y_range,
                         max(factor, 1)).load()
        return doy_anomaly(series).sel(time=when).rename("anomaly")
    product = {name: _select(ds[name].sel(**pick, time=when), x_range, y_range,
                             max(factor, 1)).load() for name in layer.variables}
    like = next(iter(product.values()))
    extra = None
    if layer.extra == "fc":
        extra = _select(data.field_capacity(path, max(factor, 1)), x_range, y_range).values
    elif layer.extra == "truth":
        if not data.has_entry(path, "truth"):
            raise CatalogError("This catalog has no truth; prediction − truth exists on the "
                               "demo world only.")
        truth = data.entry(path, "truth")["sm"].sel(**pick)
        if when not in truth["time"].values:
            raise CatalogError(f"The truth has no {state.date}; it covers "
                               f"{str(truth.time.values[0])[:10]}..{str(truth.time.values[-1])[:10]}.")
        extra = _select(truth.sel(time=when), x_range, y_range, max(factor, 1)).values
    values = layer_values(state.layer, {k: v.values for k, v in product.items()}, extra)
    return like.copy(data=values).rename(state.layer)


class MapView(pn.viewable.Viewer):
    """The layer map with basemap, stations, tap and box/polygon drawing."""

    state = param.ClassSelector(class_=AppState)

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
        plot_opts = dict(responsive=True, data_aspect=1, xaxis=None, yaxis=None,
                         active_tools=["wheel_zoom", "pan"])
        if extent is not None:
            plot_opts.update(xlim=(extent[0], extent[2]), ylim=(extent[1], extent[3]))
        self._pane = pn.pane.HoloViews(overlay.opts(**plot_opts), sizing_mode="stretch_width",
                                       min_height=_HEIGHT)

    # -- rendering ---------------------------------------------------------------------
    def _image(self, x_range=None, y_range=None, width=None, height=None, **_):
        layer = MAP_LAYERS[self.state.layer]
        title = f"{layer.label}: {self.state.crop} {self.state.depth}, {self.state.date}"
        try:
            values = layer_window(self.state, x_range, y_range,
                                  screen_px=int(width or _SCREEN_PX))
        except (CatalogError, OSError, ValueError, KeyError) as err:
            self._error = self.state.message = str(err)
            return _empty(f"{layer.label}: {err}")
        if self._error and self.state.message == self._error:
            self.state.message = ""
        self._error = ""
        if values.size == 0 or values.sizes["x"] < 2 or values.sizes["y"] < 2:
            return _empty(f"{title}: nothing in view")
        image = hv.Image(values, kdims=["x", "y"], vdims=[hv.Dimension(
            "value", label=layer.label, unit=layer.units)])
        ranges = {}
        if x_range is not None and y_range is not None:
            ranges = {"x_range": tuple(x_range), "y_range": tuple(y_range)}
        shaded = rasterize(image, dynamic=False, width=int(width or _SCREEN_PX),
                           height=int(height or _HEIGHT), **ranges,
                           aggregator="first" if layer.cmap == "drought" else "mean")
        opts = dict(colorbar=True, clabel=f"{layer.label} ({layer.units})", title=title,
                    clim=layer.clim, tools=["hover"], nodata=None)
        if layer.cmap == "drought":
            opts.update(cmap=list(GRADE_COLOURS.values()), color_levels=len(DROUGHT_GRADES),
                        colorbar_opts={"major_label_overrides": {
                            g.code: g.name for g in DROUGHT_GRADES}})
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
        lines = np.empty((0, 2)) if region is None else data.project_lines([region])
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
        self.state.message = ("Polygon region drawn"
                              + ("" if polygon.is_valid else
                                 " (it crosses itself; it will be repaired before use)"))

    def _set_region(self, text: str):
        try:
            self.state.set_region(text)
        except ValueError as err:
            self.state.message = str(err)

    def __panel__(self):
        return self._pane

