"""Gridded SM products: small GeoTIFFs and netCDF files in the real formats, read back."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import rasterio
import xarray as xr
from affine import Affine
from rasterio.windows import from_bounds

from cropsm.core.grid import ALBERS_CHINA, Grid, lonlat_to_xy
from cropsm.io.readers import ReaderError
from cropsm.io.readers.catalog_readers import GriddedReader
from cropsm.io.readers.gridded import date_regex, read_gridded, regrid

NODATA = -9999
SCALE = 0.001
# a 1 km Albers window over the North China Plain
ORIGIN = lonlat_to_xy(114.0, 38.0)
TRANSFORM = Affine(1000.0, 0.0, round(float(ORIGIN[0]), -3), 0.0, -1000.0,
                   round(float(ORIGIN[1]), -3))
SHAPE = (40, 60)


def _field(day: int) -> np.ndarray:
    rows, cols = np.mgrid[0:SHAPE[0], 0:SHAPE[1]]
    values = (200 + 2 * rows + cols + day).astype("i2")
    values[0, :3] = NODATA
    return values


def _write_tif(path, values, crs=ALBERS_CHINA, transform=TRANSFORM):
    profile = dict(driver="GTiff", width=values.shape[1], height=values.shape[0], count=1,
                   dtype="int16", nodata=NODATA, transform=transform, tiled=True,
                   blockxsize=16, blockysize=16, compress="deflate")
    if crs is not None:
        profile["crs"] = crs
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(values, 1)


@pytest.fixture
def daily_tifs(tmp_path):
    folder = tmp_path / "ChinaCropSM1km"
    folder.mkdir()
    for day in range(1, 6):
        _write_tif(folder / f"ChinaCropSM1km_wheat_2018{120 + day:03d}.tif", _field(day))
    return folder


def test_daily_geotiffs_with_scale_nodata_and_day_of_year(daily_tifs):
    sm = read_gridded(daily_tifs, "%Y%j", scale_factor=SCALE)
    assert sm.dims == ("time", "y", "x") and sm.shape == (5, *SHAPE)
    assert sm.dtype == np.float32
    assert list(pd.DatetimeIndex(sm["time"].values)) == list(
        pd.date_range("2018-05-01", "2018-05-05"))
    expected = np.where(_field(3) == NODATA, np.nan, _field(3) * SCALE).astype("f4")
    np.testing.assert_allclose(sm.isel(time=2).to_numpy(), expected, rtol=1e-6)
    assert np.isnan(sm[0, 0, :3]).all() and int(sm.isnull().sum()) == 5 * 3
    assert sm.rio.crs.to_string() in (ALBERS_CHINA, sm.rio.crs.to_string())
    assert sm.rio.transform() == TRANSFORM
    assert sm.attrs["missing_days"] == []


def test_bbox_reads_the_same_values_as_a_window_of_the_full_read(daily_tifs):
    full = read_gridded(daily_tifs, "%Y%j", scale_factor=SCALE)
    bbox = (114.2, 37.8, 114.5, 38.0)
    part = read_gridded(daily_tifs, "%Y%j", scale_factor=SCALE, bbox=bbox)
    assert 0 < part.sizes["x"] < full.sizes["x"] and 0 < part.sizes["y"] < full.sizes["y"]
    xr.testing.assert_equal(part.drop_vars("spatial_ref"),
                            full.sel(x=part["x"], y=part["y"]).drop_vars("spatial_ref"))
    # the same window, read with plain rasterio
    path = sorted(daily_tifs.glob("*.tif"))[0]
    with rasterio.open(path) as src:
        x0, y0 = float(part["x"].min()) - 500, float(part["y"].min()) - 500
        x1, y1 = float(part["x"].max()) + 500, float(part["y"].max()) + 500
        raw = src.read(1, window=from_bounds(x0, y0, x1, y1, src.transform))
    np.testing.assert_allclose(part.isel(time=0).to_numpy(),
                               np.where(raw == NODATA, np.nan, raw * SCALE), rtol=1e-6)


def test_dask_and_eager_reads_agree(daily_tifs):
    eager = read_gridded(daily_tifs, "%Y%j", scale_factor=SCALE, start="2018-05-02")
    lazy = read_gridded(daily_tifs, "%Y%j", scale_factor=SCALE, start="2018-05-02",
                        chunks={"x": 16, "y": 16})
    assert lazy.chunks is not None and eager.chunks is None
    assert eager.sizes["time"] == 4
    xr.testing.assert_identical(lazy.compute(), eager)


def test_missing_days_are_reported_not_filled(daily_tifs):
    (daily_tifs / "ChinaCropSM1km_wheat_2018123.tif").unlink()
    with pytest.warns(UserWarning, match="1 missing day") as record:
        sm = read_gridded(daily_tifs, "%Y%j")
    assert any(str(daily_tifs) in str(w.message) for w in record)
    assert sm.attrs["missing_days"] == ["2018-05-03"]
    assert sm.sizes["time"] == 4


def test_year_month_day_pattern_and_yearly_netcdf(tmp_path):
    times = pd.date_range("2018-01-01", periods=4)
    lat = np.arange(40.0, 38.0, -0.5)
    lon = np.arange(110.0, 112.5, 0.5)
    values = np.arange(4 * 4 * 5, dtype="f4").reshape(4, 4, 5) / 100
    ds = xr.Dataset({"SM": (("time", "lat", "lon"), values)},
                    coords={"time": times, "lat": lat, "lon": lon})
    ds.rio.write_crs("EPSG:4326", inplace=True)
    path = tmp_path / "RSSSM_2018.nc"
    ds.to_netcdf(path, engine="netcdf4")
    sm = read_gridded(path, variable="SM")
    assert sm.sizes["time"] == 4
    np.testing.assert_allclose(sm.to_numpy(), values)
    assert sm.rio.crs.to_epsg() == 4326
    with pytest.raises(ReaderError, match="has no variable 'sm'") as err:
        read_gridded(path, variable="sm")
    assert "RSSSM_2018.nc" in str(err.value) and "SM" in str(err.value)
    assert date_regex("SM_%Y%m%d").search("SM_20180102.tif")["m"] == "01"


def test_bad_files_and_patterns_name_the_file(tmp_path, daily_tifs):
    with pytest.raises(ReaderError, match="matches the date pattern") as err:
        read_gridded(daily_tifs, "SM_%Y%m%d")
    assert "ChinaCropSM1km" in str(err.value)
    fake = tmp_path / "fake"
    fake.mkdir()
    (fake / "SM_20180101.tif").write_text("not a raster")
    with pytest.raises(ReaderError, match="not a GeoTIFF") as err:
        read_gridded(fake, "SM_%Y%m%d")
    assert "SM_20180101.tif" in str(err.value)
    bare = tmp_path / "bare"
    bare.mkdir()
    _write_tif(bare / "SM_20180101.tif", _field(1), crs=None)
    with pytest.raises(ReaderError, match="has no CRS"):
        read_gridded(bare, "SM_%Y%m%d")
    assert read_gridded(bare, "SM_%Y%m%d", crs=ALBERS_CHINA).rio.crs is not None
    _write_tif(daily_tifs / "ChinaCropSM1km_wheat_2018126.tif", _field(6),
               transform=TRANSFORM * Affine.translation(1, 0))
    with pytest.raises(ReaderError, match="another grid") as err:
        read_gridded(daily_tifs, "%Y%j")
    assert "2018126" in str(err.value)
    with pytest.raises(ReaderError, match="give `date_pattern`"):
        read_gridded(bare)
    with pytest.raises(ValueError, match="only %Y"):
        date_regex("%Y%H")


def test_regrid_averages_onto_a_coarser_analysis_grid(daily_tifs):
    sm = read_gridded(daily_tifs, "%Y%j", scale_factor=SCALE)
    target = Grid(ALBERS_CHINA, Affine(2000.0, 0.0, TRANSFORM.c, 0.0, -2000.0, TRANSFORM.f),
                  (SHAPE[0] // 2, SHAPE[1] // 2))
    coarse = regrid(sm, target, "average")
    assert coarse.shape == (5, *target.shape)
    np.testing.assert_array_equal(coarse["x"], target.x)
    blocks = sm.isel(time=1).to_numpy().reshape(SHAPE[0] // 2, 2, SHAPE[1] // 2, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = np.nanmean(blocks, axis=(1, 3))
    np.testing.assert_allclose(coarse.isel(time=1).to_numpy(), expected, rtol=1e-5)
    same = regrid(sm, Grid(ALBERS_CHINA, TRANSFORM, SHAPE), "nearest")
    np.testing.assert_array_equal(same.to_numpy(), sm.to_numpy())
    with pytest.raises(ValueError, match="Unknown resampling"):
        regrid(sm, target, "smooth")


def test_catalog_reader_passes_the_options(daily_tifs):
    sm = GriddedReader(url=str(daily_tifs), date_pattern="%Y%j", scale_factor=SCALE).read()
    assert sm.sizes["time"] == 5 and float(sm.max()) < 1
