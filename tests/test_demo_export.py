"""``cropsm demo export``: the tiny world in real-world formats reads back as the world."""

import json
import re

import numpy as np
import pandas as pd
import pytest
import rasterio
import xarray as xr
import yaml
from click.testing import CliRunner
from pyproj import Transformer

from cropsm.cli import main
from cropsm.core.grid import Grid, bilinear_sample, intermittent_sample
from cropsm.demo.profiles import get_profile
from cropsm.io.catalog import CatalogError
from cropsm.io.readers import AGME_COLUMNS, read_station_table
from cropsm.io.store import StoreError
from cropsm.pipelines.demo_export import GAUGES, export_world

SOIL = {"field_capacity_0-10cm": "m3 m-3", "bulk_density": "g cm-3", "sand": "%",
        "silt": "%", "clay": "%", "organic_matter": "%"}
LONLAT_TIFS = {"terrain/elevation.tif": "m",
               **{f"crops/{c}_fraction.tif": "%" for c in ("wheat", "maize")},
               **{f"crops/{c}_{s}_doy.tif": "day" for c in ("wheat", "maize")
                  for s in ("sowing", "green_up", "maturity")}}
EXPECTED = {"README.md", "ingest.yaml", "ingest_gauges.yaml", "rain/precipitation_0p05.nc",
            "rain/rain_stations.csv", "climate/pet_monthly_4km.nc",
            "climate/tas_monthly_4km.nc", "climate/pet_climatology_4km.nc",
            "climate/tas_climatology_4km.nc", "vectors/rivers.geojson",
            "stations/agme_soil_moisture.csv", *LONLAT_TIFS,
            *(f"soil/{name}.tif" for name in SOIL)}


@pytest.fixture(scope="module")
def exported(tiny_world, tmp_path_factory):
    _, catalog, _ = tiny_world
    out = tmp_path_factory.mktemp("export") / "world_files"
    return out, export_world(catalog, out)


def _config_paths(node):
    """Every ``path`` value in a config's ``inputs`` tree."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "path":
                yield value
            else:
                yield from _config_paths(value)


def test_every_file_is_written_published_and_opens(exported):
    out, written = exported
    assert out.is_symlink() and ".versions" in str(out.resolve())
    assert {p.relative_to(out).as_posix() for p in written} == EXPECTED
    assert all(p.stat().st_size == size > 0 for p, size in written.items())
    for path in written:
        if path.suffix == ".tif":
            with rasterio.open(path) as src:
                assert src.count == 1 and src.dtypes[0] == "float32"
                assert np.isnan(src.nodata)
        elif path.suffix == ".nc":
            with xr.open_dataset(path) as ds:
                assert ds.attrs["Conventions"] == "CF-1.10"
        elif path.suffix == ".csv":
            assert len(pd.read_csv(path)) > 0
    assert "synthetic" in (out / "README.md").read_text()


def test_rasters_carry_crs_resolution_and_units(exported, tiny_entries):
    out, _ = exported
    bbox = get_profile("tiny").bbox
    for name, units in SOIL.items():
        with rasterio.open(out / "soil" / f"{name}.tif") as src:
            assert src.crs.to_epsg() == 32650
            assert src.res == pytest.approx((250.0, 250.0))
            assert src.tags()["units"] == units and src.units == (units,)
    for name, units in LONLAT_TIFS.items():
        with rasterio.open(out / name) as src:
            assert src.crs.to_epsg() == 4326
            assert src.res == pytest.approx((0.01, 0.01))
            assert src.tags()["units"] == units and src.units == (units,)
            # the whole window has data (NaN only beyond the 1 km grid's footprint)
            window = src.window(*bbox).round_offsets().round_lengths()
            assert not np.isnan(src.read(1, window=window)).any(), name
    # nearest from the 1 km cells: the 250 m clay at each 1 km centre is that cell's clay
    cov = tiny_entries["covariates"]
    grid = Grid.from_coords(cov["x"].values, cov["y"].values)
    lon, lat = grid.lonlat()
    with rasterio.open(out / "soil" / "clay.tif") as src:
        x, y = Transformer.from_crs("EPSG:4326", src.crs, always_xy=True).transform(lon, lat)
        rows, cols = rasterio.transform.rowcol(src.transform, x.ravel(), y.ravel())
        clay = src.read(1)[rows, cols]
    assert np.isclose(clay, cov["clay"].values.ravel() * 100, atol=1e-4).mean() > 0.99
    with rasterio.open(out / "crops" / "maize_fraction.tif") as src:
        fraction = src.read(1)
    assert 0 <= np.nanmin(fraction) and 40 < np.nanmax(fraction) <= 100


def test_rain_netcdf_averages_back_to_the_world(exported, tiny_entries):
    out, _ = exported
    pre = tiny_entries["covariates_daily"]["pre"].sortby("lat").sortby("lon").load()
    with xr.open_dataset(out / "rain" / "precipitation_0p05.nc", decode_coords="all") as ds:
        fine = ds["pre"].load()
        assert fine.attrs["units"] == "mm day-1"
        assert fine.rio.crs.to_epsg() == 4326
        np.testing.assert_allclose(np.diff(ds["lat"]), 0.05, atol=1e-9)
        np.testing.assert_allclose(np.diff(ds["lon"]), 0.05, atol=1e-9)
    # one ring of edge cells beyond the weather grid, then the world's own cells
    coarse = fine.coarsen(lat=5, lon=5).mean().isel(lat=slice(1, -1), lon=slice(1, -1))
    assert (fine.sizes["lat"], fine.sizes["lon"]) == (5 * pre.sizes["lat"] + 10,
                                                      5 * pre.sizes["lon"] + 10)
    np.testing.assert_array_equal(fine["time"].values, pre["time"].values)
    np.testing.assert_allclose(coarse["lat"], pre["lat"], atol=1e-9)
    np.testing.assert_allclose(coarse.values, pre.values, rtol=1e-6, atol=1e-5)


def test_gauges_sample_the_world_rain(exported, tiny_entries):
    out, _ = exported
    pre = tiny_entries["covariates_daily"]["pre"].sortby("lat").sortby("lon").load()
    table = pd.read_csv(out / "rain" / "rain_stations.csv", parse_dates=["date"])
    assert list(table.columns) == ["station", "lon", "lat", "date", "prcp"]
    assert table["station"].nunique() == GAUGES
    assert len(table) == GAUGES * pre.sizes["time"]
    lon_min, lat_min, lon_max, lat_max = get_profile("tiny").bbox
    assert table["lon"].between(lon_min, lon_max).all()
    assert table["lat"].between(lat_min, lat_max).all()
    first = table[table["station"] == "G001"]
    expected = intermittent_sample(pre.values, pre["lat"].values, pre["lon"].values,
                                   np.array([first["lat"].iloc[0]]),
                                   np.array([first["lon"].iloc[0]]))[:, 0]
    np.testing.assert_allclose(first["prcp"], expected, atol=0.006)


def test_monthly_climate_is_climatology_with_the_anomalies(exported, tiny_entries):
    out, _ = exported
    cov, daily = tiny_entries["covariates"], tiny_entries["covariates_daily"]
    daily = daily.sortby("lat").sortby("lon")
    meta = tiny_entries["station_meta"]
    with xr.open_dataset(out / "climate" / "tas_monthly_4km.nc") as ds:
        tas = ds["tas"].load()
        assert tas.attrs["units"] == "degC"
        np.testing.assert_allclose(np.diff(ds["lat"]), 1 / 24, atol=1e-9)
        np.testing.assert_array_equal(ds["time"].values, daily["month_start"].values)
    with xr.open_dataset(out / "climate" / "pet_monthly_4km.nc") as ds:
        pet = ds["pet"].load()
        assert pet.attrs["units"] == "mm month-1"
        assert float(pet.min()) >= 0
    # at the stations (plains, so 4 km averages differ little from the 1 km cell)
    months = pd.DatetimeIndex(daily["month_start"].values).month
    clim = cov["air_temperature"].values[months - 1][:, meta["row"], meta["col"]]
    anomaly = bilinear_sample(daily["tas_anomaly"].values, daily["lat"].values,
                              daily["lon"].values, meta["lat"].values, meta["lon"].values)
    at = tas.sel(lat=xr.DataArray(meta["lat"]), lon=xr.DataArray(meta["lon"]),
                 method="nearest").values
    assert np.abs(at - (clim + anomaly)).max() < 0.5


def test_agme_table_reproduces_the_stations(exported, tiny_entries):
    out, _ = exported
    stations, meta = tiny_entries["stations"], tiny_entries["station_meta"]
    path = out / "stations" / "agme_soil_moisture.csv"
    raw = pd.read_csv(path, dtype={"Station_Id_C": str})
    assert set(raw["Soil_Depth_BelS"]) <= {10, 20, 30, 40, 50}
    irrigated = meta.set_index("station_id")["irrigated"].astype(int)
    assert (raw["Irrigated"] == raw["Station_Id_C"].map(irrigated)).all()
    got = read_station_table(path, columns=AGME_COLUMNS)
    assert len(got) == len(stations)

    def keyed(table):
        lower = table["depth"].astype(str).map(lambda d: int(re.search(r"(\d+)cm$", d)[1]))
        return (table.assign(lower=lower, crop=table["crop"].astype(str),
                             date=pd.to_datetime(table["date"]))
                .set_index(["station_id", "crop", "date", "lower"]).sort_index())

    want, have = keyed(stations), keyed(got)
    assert want.index.equals(have.index)
    np.testing.assert_allclose(have["sm"], want["sm"].astype("f8"), atol=1e-6)
    np.testing.assert_allclose(have["lon"], want["lon"])
    assert (have["phenology"].astype(str) == want["phenology"].astype(str)).all()


def test_rivers_are_lonlat_lines_near_the_window(exported):
    out, _ = exported
    doc = json.loads((out / "vectors" / "rivers.geojson").read_text())
    assert doc["type"] == "FeatureCollection" and len(doc["features"]) > 5
    coords = np.concatenate([np.asarray(f["geometry"]["coordinates"]).reshape(-1, 2)
                             for f in doc["features"]])
    assert (coords[:, 0] > 100).all() and (coords[:, 1] < 55).all()


def test_configs_follow_the_ingest_schema(exported, tiny_entries):
    out, _ = exported
    daily = tiny_entries["covariates_daily"]
    gridded = yaml.safe_load((out / "ingest.yaml").read_text())
    gauges = yaml.safe_load((out / "ingest_gauges.yaml").read_text())
    assert gridded["version"] == 1
    assert tuple(gridded["window"]["bbox"]) == get_profile("tiny").bbox
    first, last = pd.DatetimeIndex(daily["time"].values[[0, -1]])
    assert [pd.Timestamp(d) for d in gridded["period"]] == [first, last]
    assert (gridded["output"], gridded["catalog"], gridded["rain_resolution"]) == (
        "data", "catalog/cropsm.yaml", 0.25)
    assert gridded["inputs"]["precipitation"]["variable"] == "pre"
    assert "precipitation_stations" not in gridded["inputs"]
    assert gauges["inputs"]["precipitation_stations"]["units"] == "mm day-1"
    assert "precipitation" not in gauges["inputs"]
    assert {k: v for k, v in gauges.items() if k != "inputs"} == {
        k: v for k, v in gridded.items() if k != "inputs"}
    assert gridded["inputs"]["stations"]["format"] == "agme"
    assert set(gridded["inputs"]["crops"]["wheat"]) == {"fraction", "sowing", "green_up",
                                                        "maturity"}
    assert "no heading" in (out / "ingest.yaml").read_text()
    for config in (gridded, gauges):
        paths = list(_config_paths(config["inputs"]))
        assert len(paths) == 22
        assert all((out / p).is_file() for p in paths)


def test_cli_replaces_an_export_and_refuses_other_folders(exported, tiny_world, tmp_path):
    out, _ = exported
    _, catalog, _ = tiny_world
    before = out.resolve()
    res = CliRunner().invoke(main, ["demo", "export", str(out), "--catalog", str(catalog)])
    assert res.exit_code == 0, res.output
    assert "26 files" in res.output and out.resolve() != before
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(StoreError, match="not an earlier"):
        export_world(catalog, tmp_path / "mine")
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"
    with pytest.raises(CatalogError):
        export_world(tmp_path / "none.yaml", tmp_path / "new")
