"""The map layer pipeline: one call returns what the map draws, with CF units.

The reference is the map view's former code (reads of the product store, field capacity
and truth, then :func:`cropsm.analysis.map_layers.layer_values`), written out here.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from cropsm.analysis.map_layers import MAP_LAYERS, layer_values
from cropsm.core.errors import CropSMError
from cropsm.core.grid import Grid
from cropsm.io.catalog import CatalogError, entry_path, open_catalog, read_entry
from cropsm.io.product import OVERVIEW_FACTORS, open_product
from cropsm.pipelines.map_layer import LAYER_ATTRS, MapLayerError, level_for, map_layer
from cropsm.pipelines.sources import CatalogReader

DAY = dt.date(2018, 5, 4)
LAYERS = ["sm", "uncertainty", "aoa", "relative_sm", "drought", "error"]


def _select(da, x_range, y_range, stride=1):
    da = da.sel(x=slice(*x_range), y=slice(y_range[1], y_range[0]))
    return da.isel(x=slice(None, None, stride), y=slice(None, None, stride))


def old_layer_window(catalog, crop, depth, date, layer, x_range, y_range, screen_px):
    """The map view's layer_window before the pipeline, on stores opened here."""
    cat = open_catalog(catalog)
    store = entry_path(cat, "soil_moisture")
    cov = read_entry("covariates", cat)
    full = Grid.from_coords(cov["x"].values, cov["y"].values)
    view_cells = (x_range[1] - x_range[0]) / full.resolution
    factor = max([f for f in OVERVIEW_FACTORS if view_cells / f >= screen_px], default=0)
    when = np.datetime64(date)
    pick = {"crop": crop, "depth": depth}
    if layer == "sm" and factor:
        return _select(open_product(store, factor, dask=False)["sm"].sel(**pick, time=when),
                       x_range, y_range).load().rename("sm")
    ds = open_product(store, 0, dask=False)
    stride = max(factor, 1)
    product = {name: _select(ds[name].sel(**pick, time=when), x_range, y_range, stride).load()
               for name in MAP_LAYERS[layer].variables}
    like = next(iter(product.values()))
    extra = None
    if MAP_LAYERS[layer].extra == "fc":
        fc = cov["fc"].isel(x=slice(None, None, stride), y=slice(None, None, stride)).load()
        extra = _select(fc, x_range, y_range).values
    elif MAP_LAYERS[layer].extra == "truth":
        truth = read_entry("truth", cat)["sm"].sel(**pick)
        extra = _select(truth.sel(time=when), x_range, y_range, stride).values
    values = layer_values(layer, {k: v.values for k, v in product.items()}, extra)
    return like.copy(data=values).rename(layer)


@pytest.fixture(scope="module")
def reader(served_catalog):
    return CatalogReader(served_catalog)


@pytest.fixture(scope="module")
def view(reader):
    """A window of the tiny world: x, y ranges in grid metres."""
    x, y = reader.grid.x, reader.grid.y
    return (float(x[10]), float(x[120])), (float(y[110]), float(y[5]))


# Zoomed out, the old view took field capacity of other cells (a bug, fixed); those layers
# are checked against their definition in test_zoomed_out_layers_use_each_cells_field_capacity.
@pytest.mark.parametrize("layer, screen_px", [
    (layer, px) for layer in LAYERS for px in (10**9, 20)
    if not (MAP_LAYERS[layer].extra == "fc" and px == 20)])
def test_map_layer_equals_the_view_before(served_catalog, reader, view, layer, screen_px):
    x_range, y_range = view
    got = map_layer(reader, "maize", "0-10cm", DAY, layer, x_range, y_range, screen_px)
    expected = old_layer_window(served_catalog, "maize", "0-10cm", DAY, layer, x_range,
                                y_range, screen_px)
    assert got.name == layer and got.dims == ("y", "x")
    xr.testing.assert_equal(got.drop_attrs(), expected.drop_attrs())
    assert np.isfinite(got.values).any()


@pytest.mark.parametrize("layer", ["relative_sm", "drought"])
def test_zoomed_out_layers_use_each_cells_field_capacity(served_catalog, reader, view, layer):
    got = map_layer(reader, "maize", "0-10cm", DAY, layer, *view, screen_px=20)
    assert got.attrs["cell_stride"] > 1
    cat = open_catalog(served_catalog)
    sm = open_product(entry_path(cat, "soil_moisture"))["sm"].sel(
        crop="maize", depth="0-10cm", time=str(DAY), x=got["x"], y=got["y"]).values
    fc = read_entry("covariates", cat)["fc"].sel(x=got["x"], y=got["y"]).values
    np.testing.assert_array_equal(got.values, layer_values(layer, {"sm": sm}, fc))
    assert np.isfinite(got.values).any()


@pytest.mark.parametrize("layer", LAYERS)
def test_map_layer_carries_cf_units_and_what_it_shows(reader, view, layer):
    got = map_layer(reader, "wheat", "10-20cm", DAY, layer, *view, screen_px=20)
    assert got.attrs["units"] == LAYER_ATTRS[layer]["units"]
    assert got.attrs["long_name"]
    assert (got.attrs["crop"], got.attrs["depth"], got.attrs["layer"]) == (
        "wheat", "10-20cm", layer)
    stride = abs(float(got["x"][1] - got["x"][0])) / reader.grid.resolution
    assert got.attrs["cell_stride"] == round(stride) > 1
    assert pd.Timestamp(got["time"].values) == pd.Timestamp(DAY)
    if layer == "drought":
        assert got.attrs["flag_values"] == [0, 1, 2, 3, 4]
        finite = got.values[np.isfinite(got.values)]
        assert set(np.unique(finite)) <= {0.0, 1.0, 2.0, 3.0, 4.0}


def test_map_layer_takes_a_catalog_path_and_the_whole_grid(served_catalog, reader):
    by_path = map_layer(served_catalog, "wheat", "0-10cm", "2018-05-04", "sm")
    by_reader = map_layer(reader, "wheat", "0-10cm", DAY, "sm")
    xr.testing.assert_identical(by_path, by_reader)
    assert by_path.attrs["cell_stride"] == max(level_for(reader.grid.shape[1], 700), 1)


def test_map_layer_refuses_with_documented_errors(reader):
    with pytest.raises(MapLayerError, match="Unknown map layer 'rain'"):
        map_layer(reader, "wheat", "0-10cm", DAY, "rain")
    with pytest.raises(CatalogError, match="The product has no 2019-01-01; it holds 2018"):
        map_layer(reader, "wheat", "0-10cm", dt.date(2019, 1, 1), "sm")
    with pytest.raises(CropSMError, match="No climatology yet.*cropsm climatology"):
        map_layer(reader, "wheat", "0-10cm", DAY, "anomaly")
    assert issubclass(MapLayerError, ValueError)  # `except ValueError` callers still work


def test_the_app_caches_the_pipelines_result(served_catalog, view):
    from cropsm.app import data

    args = (str(served_catalog), "wheat", "0-10cm", DAY, "drought", *view, 50)
    first = data.map_layer(*args)
    assert data.map_layer(*args) is first
    xr.testing.assert_identical(first, map_layer(data.reader(args[0]), *args[1:]))
