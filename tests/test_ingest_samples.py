"""The bundled real samples go through ``cropsm ingest`` where they fit.

GHCN-Daily Beijing as a rain gauge, the real DEM, the WorldCereal calendars and the NGCC
rivers replace their exported twins in the tiny world's config; the ERA5 example
netCDF (0-360 longitudes, six-hourly steps, ``m**3 m**-3``) goes through the raster
reader.
"""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from cropsm.core.grid import china_window
from cropsm.io.assets import assets_dir
from cropsm.io.catalog import read_entry
from cropsm.io.ingest.config import RasterInput
from cropsm.io.ingest.rasters import open_raster, to_grid
from cropsm.io.readers import ReaderError
from cropsm.pipelines.ingest import ingest

ASSETS = assets_dir()
ERA5 = ASSETS / "reanalysis" / "ERA5_example_downloaded_raw_swvl1_lsm_5deg_20100101.nc"
BEIJING_BOX = (115.6, 39.2, 117.0, 40.1)


@pytest.fixture(scope="module")
def samples(tiny_export):
    out = tiny_export
    doc = yaml.safe_load((out / "ingest.yaml").read_text())
    inputs = doc["inputs"]
    del inputs["precipitation"]
    inputs["precipitation_stations"] = {
        "path": str(ASSETS / "meteo" / "GHCND_CHM00054511_Beijing_daily.csv"),
        "format": "ghcn"}
    inputs["elevation"] = {"path": str(ASSETS / "covariates" / "cnmaps_china-dem_0.2deg.nc"),
                           "variable": "dem", "units": "m"}
    calendar = ASSETS / "covariates"
    # the WorldCereal files have no units tag and no sowing date: winter wheat's start
    # of season stands in for its green-up, maize's for its sowing
    inputs["crops"]["wheat"]["green_up"] = {"path": str(calendar / "WW_SOS_WGS84.tif"),
                                            "units": "day"}
    inputs["crops"]["wheat"]["maturity"] = {"path": str(calendar / "WW_EOS_WGS84.tif"),
                                            "units": "day"}
    inputs["crops"]["maize"]["sowing"] = {"path": str(calendar / "M1_SOS_WGS84.tif"),
                                          "units": "day"}
    inputs["rivers"] = {"path": str(ASSETS / "maps" / "cn_rivers_ngcc_1to4m.geojson")}
    doc.update(window={"bbox": list(BEIJING_BOX)}, output="samples/data",
               catalog="samples/cropsm.yaml")
    doc["rain_resolution"] = 0.05
    doc["fill_missing_days"] = True  # the gauge's record has gaps (see ATTRIBUTION.md)
    (out / "samples.yaml").write_text(yaml.safe_dump(doc))
    return ingest(out / "samples.yaml")


def test_the_real_samples_ingest(samples, tiny_entries):
    assert samples["stations"] > 0
    assert 0 < len(samples["filled_days"]) < 1471
    cov = read_entry("covariates", samples["catalog"])
    direct = tiny_entries["covariates"]
    grid = china_window(BEIJING_BOX)
    window = direct.sel(x=slice(grid.x[0], grid.x[-1]), y=slice(grid.y[0], grid.y[-1]))
    assert window.sizes["x"] == cov.sizes["x"] and window.sizes["y"] == cov.sizes["y"]
    # the same real rivers, DEM and maize calendar the demo world is built on
    np.testing.assert_array_equal(cov["river_distance"].values,
                                  window["river_distance"].values)
    assert np.abs(cov["elevation"].values - window["elevation"].values).mean() < 5.0
    maize = (cov["sowing"].sel(crop="maize").values == window["sowing"].sel(
        crop="maize").values).mean()
    assert maize > 0.95
    # one gauge: every cell of the rain grid gets its rain, kriging cannot run
    weather = read_entry("covariates_daily", samples["catalog"])
    pre = weather["pre"].sel(time="2016-07-20").values
    assert np.allclose(pre, pre.flat[0])


def test_era5_netcdf_reads_with_its_own_conventions():
    grid = china_window(BEIJING_BOX)
    spec = RasterInput("era5", (ERA5,), variable="swvl1")
    da = open_raster(spec, "field_capacity", grid.bounds, grid.crs)
    assert da.dims == ("time", "y", "x") and da.sizes["time"] == 4
    # the global 0-360 file is clipped to the cells around the window (of 72 x 37)
    assert 100 < float(da["x"].min()) < float(da["x"].max()) <= 180
    assert da.sizes["x"] < 10 and da.sizes["y"] < 10
    assert float(da["y"][0]) > float(da["y"][-1])
    on_grid = to_grid(da.isel(time=0), grid, "nearest").values
    beijing = float(da.isel(time=0).sel(x=115.0, y=40.0).values)
    assert np.nanmax(np.abs(on_grid - beijing)) < 0.1
    # soil moisture is not rain: the unit says so
    with pytest.raises(ReaderError, match="swvl1|m\\*\\*3") as err:
        open_raster(spec, "precipitation", (115.0, 39.0, 117.0, 40.0), "EPSG:4326")
    assert str(ERA5) in str(err.value)


def test_a_netcdf_default_fill_is_no_data():
    """The cnmaps DEM leaves its sea as netCDF's default fill (9.97e36) without a
    _FillValue attribute; by the netCDF convention that is no data, not a height."""
    dem = RasterInput("dem", (ASSETS / "covariates" / "cnmaps_china-dem_0.2deg.nc",),
                      variable="dem", units="m")
    bohai = open_raster(dem, "elevation", (117.5, 37.5, 121.5, 40.5), "EPSG:4326")
    values = bohai.values
    assert np.isnan(values).any() and np.nanmax(values) < 9000
