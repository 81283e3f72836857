import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from pyproj import Transformer
from shapely.geometry import Polygon, box

from cropsm.core.grid import (
    ALBERS_CHINA,
    Grid,
    bilinear_sample,
    bilinear_weights,
    china_grid,
    intermittent_sample,
    lonlat_to_xy,
)

GRID = china_grid()


def test_china_grid_is_1km_albers_over_mainland():
    assert GRID.crs == "ESRI:102025"
    assert GRID.resolution == 1000.0
    assert GRID.shape == (4378, 4438)
    # Mohe (far north), Sanya (Hainan), Kashgar (far west) and Fuyuan (far east) are inside.
    for lon, lat in [(122.5, 53.4), (109.5, 18.3), (75.99, 39.47), (134.3, 48.4)]:
        row, col = GRID.lonlat_to_rowcol(lon, lat)
        assert row >= 0 and col >= 0


def test_projection_matches_pyproj():
    rng = np.random.default_rng(0)
    lon = rng.uniform(74, 134, 1000)
    lat = rng.uniform(18, 53, 1000)
    ref = Transformer.from_crs("EPSG:4326", ALBERS_CHINA, always_xy=True)
    rx, ry = ref.transform(lon, lat)
    x, y = lonlat_to_xy(lon, lat)
    np.testing.assert_array_equal(x, rx)
    np.testing.assert_array_equal(y, ry)


def test_rowcol_roundtrip_and_centres():
    rows = np.array([0, 10, GRID.shape[0] - 1])
    cols = np.array([0, 20, GRID.shape[1] - 1])
    x, y = GRID.rowcol_to_xy(rows, cols)
    assert x[0] == GRID.bounds[0] + 500 and y[0] == GRID.bounds[3] - 500
    r2, c2 = GRID.xy_to_rowcol(x, y)
    np.testing.assert_array_equal(r2, rows)
    np.testing.assert_array_equal(c2, cols)
    lon, lat = GRID.rowcol_to_lonlat(rows, cols)
    r3, c3 = GRID.lonlat_to_rowcol(lon, lat)
    np.testing.assert_array_equal(r3, rows)
    np.testing.assert_array_equal(c3, cols)


def test_points_outside_get_minus_one():
    row, col = GRID.lonlat_to_rowcol(np.array([0.0, 116.3]), np.array([0.0, 39.9]))
    assert row[0] == -1 and col[0] == -1
    assert row[1] >= 0


@settings(max_examples=200, deadline=None)
@given(st.floats(75, 133), st.floats(19, 52))
def test_lonlat_lands_in_cell_containing_it(lon, lat):
    row, col = GRID.lonlat_to_rowcol(lon, lat)
    assume(row >= 0)
    x, y = lonlat_to_xy(lon, lat)
    cx, cy = GRID.rowcol_to_xy(row, col)
    assert abs(x - cx) <= 500 + 1e-6 and abs(y - cy) <= 500 + 1e-6


@pytest.mark.parametrize("all_touched, lo, hi", [(False, 10_000, 10_000), (True, 10_000, 10_404)])
def test_100km_box_mask_has_10000_cells(all_touched, lo, hi):
    # an aligned 100 km x 100 km box in the grid's CRS, shifted off the cell edges
    x0, y0 = 200_250.0, 1_500_250.0
    mask = GRID.mask(box(x0, y0, x0 + 100_000, y0 + 100_000), crs=ALBERS_CHINA,
                     all_touched=all_touched)
    assert lo <= mask.sum() <= hi


def test_lonlat_polygon_mask_area_matches_geodesic_area():
    from pyproj import Geod

    poly = Polygon([(114, 36), (115, 36), (115, 37), (114, 37)])
    area_km2 = abs(Geod(ellps="WGS84").geometry_area_perimeter(poly)[0]) / 1e6
    cells = GRID.mask(poly).sum()
    # an equal-area grid: cell count = area in km2, up to the boundary cells (~perimeter)
    assert abs(cells - area_km2) < 0.01 * area_km2


def test_window_and_subsetting():
    rows, cols = GRID.window_slices(0, 0, 50_000, 30_000)
    win = GRID.window(rows, cols)
    assert win.shape == (30, 50)
    assert win.offset_in(GRID) == (rows.start, cols.start)
    np.testing.assert_array_equal(win.x, GRID.x[cols])
    np.testing.assert_array_equal(win.y, GRID.y[rows])
    assert Grid.from_coords(win.x, win.y) == win


def test_window_outside_raises_clear_error():
    with pytest.raises(ValueError, match="outside the grid"):
        GRID.window_slices(1e8, 1e8, 1e8 + 10, 1e8 + 10)


def test_empty_polygon_gives_empty_mask():
    assert not GRID.window(slice(0, 10), slice(0, 10)).mask(Polygon()).any()


def test_bilinear_sample_matches_scipy():
    from scipy.interpolate import RegularGridInterpolator

    lat = np.arange(30, 40, 0.25)
    lon = np.arange(110, 120, 0.25)
    field = np.random.default_rng(1).random((lat.size, lon.size))
    pts_lat = np.random.default_rng(2).uniform(30, 39.75, 50)
    pts_lon = np.random.default_rng(3).uniform(110, 119.75, 50)
    ref = RegularGridInterpolator((lat, lon), field)(np.column_stack([pts_lat, pts_lon]))
    np.testing.assert_allclose(bilinear_sample(field, lat, lon, pts_lat, pts_lon), ref,
                               rtol=1e-12)


def test_intermittent_sample_keeps_wet_area_and_amounts():
    rng = np.random.default_rng(4)
    lat = np.arange(0, 20, 1.0)
    lon = np.arange(0, 20, 1.0)
    wet = rng.random((lat.size, lon.size)) < 0.3
    field = np.where(wet, 1.0 + rng.gamma(0.7, 8.0, wet.shape), 0.0)
    plat = rng.uniform(0, 19, 20_000)
    plon = rng.uniform(0, 19, 20_000)
    out = intermittent_sample(field, lat, lon, plat, plon)
    smeared = bilinear_sample(field, lat, lon, plat, plon)
    assert abs((out > 0).mean() - wet.mean()) < 0.05
    assert (smeared >= 1.0).mean() > (out > 0).mean() + 0.05
    assert out[out > 0].min() >= 1.0
    # at cell centres both interpolations return the cell's own value
    np.testing.assert_allclose(intermittent_sample(field, lat, lon, lat[3], lon[5]),
                               field[3, 5])


def _intermittent_numpy(field, lat_axis, lon_axis, lat, lon):
    """The formula in numpy, as the stations' training rows were first sampled."""
    i0, j0, wi, wj = bilinear_weights(lat_axis, lon_axis, lat, lon)
    weights = ((1 - wi) * (1 - wj), (1 - wi) * wj, wi * (1 - wj), wi * wj)
    corners = (field[..., i0, j0], field[..., i0, j0 + 1], field[..., i0 + 1, j0],
               field[..., i0 + 1, j0 + 1])
    wet_weight = sum(w * (v > 0) for w, v in zip(weights, corners, strict=True))
    amount = sum(w * v for w, v in zip(weights, corners, strict=True))
    wet = wet_weight >= 0.5
    out = np.where(wet, amount / np.where(wet, wet_weight, 1.0), 0.0)
    return out.astype(field.dtype if field.dtype.kind == "f" else "f8")


@pytest.mark.parametrize("dtype", ["f4", "f8", "i2"])
def test_intermittent_sample_equals_the_numpy_formula_bit_for_bit(dtype):
    rng = np.random.default_rng(5)
    lat_axis, lon_axis = np.arange(20, 30, 0.25), np.arange(100, 115, 0.25)
    field = rng.gamma(0.5, 6, (9, lat_axis.size, lon_axis.size))
    field[field < 2] = 0  # dry cells beside wet ones: the wet test decides
    field = field.astype(dtype)
    lat = rng.uniform(19, 31, (40, 50))  # beyond the edges too
    lon = rng.uniform(99, 116, (40, 50))
    for sample in (field, field[0]):
        got = intermittent_sample(sample, lat_axis, lon_axis, lat, lon)
        want = _intermittent_numpy(sample, lat_axis, lon_axis, lat, lon)
        assert got.dtype == want.dtype and got.shape == want.shape
        assert np.array_equal(got, want)
