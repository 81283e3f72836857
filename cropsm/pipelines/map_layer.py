"""One map layer over a view, read and computed in one call: what the dashboard's map draws.

Soil moisture zoomed out reads the product's overview pyramid. The other layers read
every ``factor``-th 1 km cell instead, since they are not averages of the coarse SM
(a drought grade of a mean SM is not the mean grade).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from cropsm.analysis.drought import DROUGHT_GRADES
from cropsm.analysis.map_layers import MAP_LAYERS, layer_values
from cropsm.analysis.percentiles import DROUGHT_CATEGORIES, PERCENTILES, percentile_rank_at
from cropsm.core.errors import CropSMError
from cropsm.io.catalog import CatalogError
from cropsm.io.product import OVERVIEW_FACTORS
from cropsm.pipelines.climatology import climatology_at, climatology_window
from cropsm.pipelines.sources import CatalogReader

__all__ = ["LAYER_ATTRS", "SCREEN_PX", "MapLayerError", "level_for", "map_layer"]

#: A map of typical screen width in pixels, for choosing an overview level.
SCREEN_PX = 700

def _class_attrs(long_name: str, classes) -> dict[str, Any]:
    """CF attributes of a layer of class codes (drought grades or categories)."""
    return {"units": "1", "long_name": long_name,
            "flag_values": [c.code for c in classes],
            "flag_meanings": " ".join(c.name for c in classes)}


#: CF attributes of each layer (units in UDUNITS form).
LAYER_ATTRS: dict[str, dict[str, Any]] = {
    "sm": {"units": "m3 m-3", "long_name": "volumetric soil moisture"},
    "uncertainty": {"units": "m3 m-3", "long_name": "spread of the trees' soil moisture, "
                                                    "90th minus 10th percentile"},
    "aoa": {"units": "1", "long_name": "inside the model's area of applicability",
            "flag_values": [0, 1], "flag_meanings": "outside inside"},
    "relative_sm": {"units": "%", "long_name": "relative soil moisture (percent of field "
                                               "capacity)"},
    "drought": _class_attrs("agricultural drought grade (GB/T 32136-2015, relative soil "
                            "moisture)", DROUGHT_GRADES),
    "anomaly": {"units": "m3 m-3", "long_name": "soil moisture minus the climate record's "
                                                "day-of-year mean"},
    "percentile": {"units": "%", "long_name": "soil-moisture percentile against the climate "
                                              "record's day of year"},
    "category": _class_attrs("drought category by soil-moisture percentile (USDM, "
                             "Svoboda et al. 2002)", DROUGHT_CATEGORIES),
    "error": {"units": "m3 m-3", "long_name": "predicted minus true soil moisture (demo "
                                              "world)"},
}


class MapLayerError(CropSMError, ValueError):
    """A map layer CropSM does not have."""


def level_for(view_cells: float, screen_px: int) -> int:
    """Coarsest overview factor that still has at least one cell per screen pixel (0: none)."""
    usable = [f for f in OVERVIEW_FACTORS if view_cells / f >= screen_px]
    return max(usable, default=0)


def _select(da: xr.DataArray, x_range: tuple[float, float] | None,
            y_range: tuple[float, float] | None, stride: int = 1) -> xr.DataArray:
    """The part of a (y, x) array in view (y descends), every ``stride``-th cell."""
    if x_range is not None and y_range is not None:
        da = da.sel(x=slice(*x_range), y=slice(y_range[1], y_range[0]))
    if stride > 1:
        da = da.isel(x=slice(None, None, stride), y=slice(None, None, stride))
    return da


def map_layer(catalog: CatalogReader | str | Path, crop: str, depth: str,
              date: dt.date | str | pd.Timestamp | None, layer: str,
              x_range: tuple[float, float] | None = None,
              y_range: tuple[float, float] | None = None,
              screen_px: int = SCREEN_PX) -> xr.DataArray:
    """A layer of :data:`cropsm.analysis.map_layers.MAP_LAYERS` on one day over a view.

    Parameters
    ----------
    catalog : CatalogReader, str or pathlib.Path
        The catalog (a reader keeps its stores open between calls).
    crop, depth : str
        The product's crop and depth.
    date : date-like
        A day the product holds.
    layer : str
        A key of ``MAP_LAYERS``.
    x_range, y_range : tuple of float, optional
        The view in grid metres (default: the whole grid).
    screen_px : int
        Pixels across the view: the result has at least that many cells across if the
        1 km grid does (a huge value always gives the 1 km grid).

    Returns
    -------
    xarray.DataArray
        (y, x) named ``layer``, NaN where the layer has no value, with CF ``units`` and
        ``long_name`` (:data:`LAYER_ATTRS`), and ``crop``, ``depth``, ``layer`` and
        ``cell_stride`` (1 km cells per cell) attributes.

    Raises
    ------
    MapLayerError
        An unknown layer.
    cropsm.io.catalog.CatalogError
        No product, a day it lacks, (``error``) no truth for the day, or (``anomaly``,
        ``percentile``, ``category``) no climatology (``cropsm climatology``).
    """
    if layer not in MAP_LAYERS:
        raise MapLayerError(f"Unknown map layer {layer!r}; choose one of "
                            f"{', '.join(MAP_LAYERS)}.")
    reader = catalog if isinstance(catalog, CatalogReader) else CatalogReader(catalog)
    when = reader.day(date)
    full = reader.grid
    if x_range is None or y_range is None:
        x0, y0, x1, y1 = full.bounds
        x_range, y_range = (x0, x1), (y0, y1)
    factor = level_for((x_range[1] - x_range[0]) / full.resolution, screen_px)
    stride = max(factor, 1)
    if layer == "sm" and factor:
        out = _select(reader.product(factor)["sm"].sel(crop=crop, depth=depth, time=when),
                      x_range, y_range).load()
    else:
        out = _from_product(reader, layer, crop, depth, when, x_range, y_range, stride)
    out = out.rename(layer)
    out.attrs = {**LAYER_ATTRS[layer], "crop": crop, "depth": depth, "layer": layer,
                 "cell_stride": stride}
    return out


def _from_product(reader: CatalogReader, layer: str, crop: str, depth: str,
                  when: np.datetime64, x_range: tuple[float, float],
                  y_range: tuple[float, float], stride: int) -> xr.DataArray:
    """A layer computed from 1 km product variables (and field capacity or the truth)."""
    ds = reader.product(0)
    product = {name: _select(ds[name].sel(crop=crop, depth=depth, time=when), x_range,
                             y_range, stride).load() for name in MAP_LAYERS[layer].variables}
    like = next(iter(product.values()))
    extra = None
    if MAP_LAYERS[layer].extra == "fc":
        # the same selection as the product's, so each cell gets its own capacity
        extra = _select(reader.field_capacity(), x_range, y_range, stride).values
    elif MAP_LAYERS[layer].extra == "truth":
        if not reader.has_entry("truth"):
            raise CatalogError("This catalog has no truth; prediction − truth exists on the "
                               "demo world only.")
        truth = reader.dataset("truth")["sm"].sel(crop=crop, depth=depth)
        days = pd.DatetimeIndex(truth["time"].values)
        if when not in days:
            raise CatalogError(f"The truth has no {pd.Timestamp(when):%Y-%m-%d}; it covers "
                               f"{days[0]:%Y-%m-%d}..{days[-1]:%Y-%m-%d}.")
        extra = _select(truth.sel(time=when), x_range, y_range, stride).values
    elif MAP_LAYERS[layer].extra == "mean":
        extra = climatology_at(reader.climatology(), "sm_mean", crop, depth, when,
                               like["x"].values, like["y"].values)
    elif MAP_LAYERS[layer].extra == "rank":
        record, iy, ix = climatology_window(reader.climatology(), "sm_threshold", crop,
                                            depth, [when], like["x"].values,
                                            like["y"].values)
        extra = percentile_rank_at(product["sm"].values, record[0], iy, ix, PERCENTILES)
    values = layer_values(layer, {k: v.values for k, v in product.items()}, extra)
    return like.copy(data=values)
