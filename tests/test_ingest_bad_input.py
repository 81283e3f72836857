"""``cropsm ingest`` refuses bad input in one line naming the file and the fix, and
publishes nothing: each case breaks one file of the tiny world's export."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
import rasterio
import xarray as xr
import yaml

from cropsm.io.readers import ReaderError
from cropsm.pipelines.ingest import ingest


@pytest.fixture
def files(tiny_export, tmp_path):
    """A private copy of the export's files (links resolved, no ingest outputs) to break."""
    copy = tmp_path / "files"
    shutil.copytree(tiny_export.resolve(), copy,
                    ignore=shutil.ignore_patterns("data", "catalog", "gauges", "samples",
                                                  "*.yaml.tmp", ".versions"))
    return copy


def _config(files, **changes) -> dict:
    doc = yaml.safe_load((files / "ingest.yaml").read_text())
    doc.update(changes)
    return doc


def _refused(files, doc: dict | None = None, match: str = "") -> str:
    config = files / "ingest.yaml"
    if doc is not None:
        config.write_text(yaml.safe_dump(doc))
    with pytest.raises(ReaderError, match=match) as err:
        ingest(config)
    message = str(err.value)
    assert "\n" not in message
    # nothing published: no store, no catalog
    assert not (files / "data" / "covariates.zarr").exists()
    assert not (files / "catalog" / "cropsm.yaml").exists()
    return message


def _rewrite_netcdf(path, change):
    with xr.open_dataset(path, decode_coords="all") as ds:
        ds = change(ds.load())
    path.unlink()
    ds.to_netcdf(path)


def test_missing_days_are_listed_and_refused_unless_filled(files):
    rain = files / "rain" / "precipitation_0p05.nc"
    _rewrite_netcdf(rain, lambda ds: ds.drop_sel(time=["2016-07-01", "2016-07-02"]))
    message = _refused(files, match="lacks 2 day")
    assert str(rain.parent) in message and "2016-07-01, 2016-07-02" in message
    assert "fill_missing_days: true" in message
    doc = _config(files, fill_missing_days=True)
    (files / "ingest.yaml").write_text(yaml.safe_dump(doc))
    report = ingest(files / "ingest.yaml")
    assert report["filled_days"] == ["2016-07-01", "2016-07-02"]
    weather = xr.open_zarr(files / "data" / "weather.zarr")
    assert float(weather["pre"].sel(time="2016-07-01").max()) == 0.0


def test_a_grid_that_does_not_cover_the_window_is_refused(files):
    sand = files / "soil" / "sand.tif"
    with rasterio.open(sand) as src:
        profile, data = src.profile, src.read(1)
        tags, units = src.tags(), src.units
    half = data[:, : data.shape[1] // 2]
    profile.update(width=half.shape[1])
    with rasterio.open(sand, "w", **profile) as dst:
        dst.write(half, 1)
        dst.update_tags(**tags)
        dst.units = units
    message = _refused(files, match="covers x")
    assert str(sand) in message and "window needs" in message


def test_a_missing_crs_is_refused(files):
    fc = files / "soil" / "field_capacity_0-10cm.tif"
    with rasterio.open(fc) as src:
        profile, data, units = src.profile, src.read(1), src.units
    profile["crs"] = None
    fc.unlink()
    with rasterio.open(fc, "w", **profile) as dst:
        dst.write(data, 1)
        dst.units = units
    message = _refused(files, match="has no CRS")
    assert str(fc) in message and "crs: EPSG:<code>" in message


def test_a_crs_that_contradicts_the_file_is_refused(files):
    doc = _config(files)
    doc["inputs"]["elevation"]["crs"] = "EPSG:32650"
    message = _refused(files, doc, match="is in EPSG:4326 but the config says crs: EPSG:32650")
    assert "elevation.tif" in message


def test_non_monotonic_coordinates_are_refused(files):
    pet = files / "climate" / "pet_monthly_4km.nc"
    _rewrite_netcdf(pet, lambda ds: ds.isel(lat=np.r_[1, 0, 2:ds.sizes["lat"]]))
    message = _refused(files, match="not monotonic")
    assert str(pet) in message and "sort" in message


@pytest.mark.parametrize("units, match", [(None, "has no units"),
                                          ("m3 m-3", "m3 m-3")])
def test_a_missing_or_wrong_unit_is_refused(files, units, match):
    pet = files / "climate" / "pet_monthly_4km.nc"

    def change(ds):
        if units is None:
            del ds["pet"].attrs["units"]
        else:
            ds["pet"].attrs["units"] = units
        return ds

    _rewrite_netcdf(pet, change)
    message = _refused(files, match=match)
    assert str(pet) in message


def test_a_station_table_without_the_needed_columns_is_refused(files):
    table = files / "stations" / "agme_soil_moisture.csv"
    pd.read_csv(table).drop(columns=["SVWC"]).to_csv(table, index=False)
    message = _refused(files, match="missing column")
    assert str(table) in message and "sm" in message


def test_a_bad_config_key_is_named(files):
    doc = _config(files)
    doc["inputs"]["soil"]["sandd"] = doc["inputs"]["soil"].pop("sand")
    message = _refused(files, doc, match="unknown key")
    assert "sandd" in message and "inputs.soil" in message


def test_a_write_that_fails_publishes_nothing_and_keeps_the_previous_stores(files,
                                                                            monkeypatch):
    """The inputs pass every check, then the disk fails while the stores are written."""
    ingest(files / "ingest.yaml")
    catalog = files / "catalog" / "cropsm.yaml"
    before = catalog.read_text()
    stores = {p.name: p.resolve() for p in (files / "data").iterdir() if p.is_symlink()}
    assert len(stores) == 4

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    # the tables are written after both Zarr stores: those are complete when it fails
    monkeypatch.setattr(pd.DataFrame, "to_parquet", full_disk)
    with pytest.raises(OSError, match="No space left"):
        ingest(files / "ingest.yaml")
    assert catalog.read_text() == before
    assert {p.name: p.resolve() for p in (files / "data").iterdir() if p.is_symlink()} == stores
    assert not list((files / "data" / ".versions").glob("*.tmp-*"))


def test_a_province_window_is_checked_against_the_files(files):
    """``window: {province: ...}``: the province's grid is built and the inputs must cover
    it; Tianjin reaches east of the tiny world's files."""
    doc = _config(files, window={"province": "Tianjin"})
    message = _refused(files, doc, match="covers x")
    assert "give a file that covers the window or a smaller window" in message
    doc = _config(files, window={"province": "Atlantis"})
    _refused(files, doc, match="window.province")


def test_zones_and_rivers_from_a_geopackage_and_a_shapefile(files, tiny_entries):
    """Vector inputs in other OGR formats and another CRS: zones from polygons with a
    code field replace the province rule; rivers from a Shapefile in UTM give the
    direct build's distances."""
    import pyogrio.raw
    import shapely
    from pyproj import Transformer

    from cropsm.core.grid import Grid
    from cropsm.io.ingest.vectors import read_vectors

    rivers, _ = read_vectors(files / "vectors" / "rivers.geojson")
    utm = Transformer.from_crs("EPSG:4326", "EPSG:32650", always_xy=True)
    lines = shapely.to_wkb(shapely.transform(np.asarray(rivers, dtype=object),
                                             utm.transform, interleaved=False))
    pyogrio.raw.write(files / "vectors" / "rivers_utm.shp", lines, [], [],
                      driver="ESRI Shapefile", geometry_type="MultiLineString",
                      crs="EPSG:32650", promote_to_multi=True)
    boxes = [shapely.box(110.0, 35.0, 116.3, 42.0), shapely.box(116.3, 35.0, 122.0, 42.0)]
    pyogrio.raw.write(files / "vectors" / "zones.gpkg",
                      np.array([shapely.to_wkb(b) for b in boxes], dtype=object),
                      [np.array([2, 3], dtype="int32")], ["zone"], driver="GPKG",
                      geometry_type="Polygon", crs="EPSG:4326")
    doc = _config(files)
    doc["inputs"]["rivers"] = {"path": "vectors/rivers_utm.shp"}
    doc["inputs"]["zones"] = {"path": "vectors/zones.gpkg", "field": "zone"}
    (files / "ingest.yaml").write_text(yaml.safe_dump(doc))
    ingest(files / "ingest.yaml")
    cov = xr.open_zarr(files / "data" / "covariates.zarr").load()
    lon, _ = Grid.from_coords(cov["x"].values, cov["y"].values).lonlat()
    zone, inside = cov["zone"].values, cov["province"].values > 0
    assert (zone[inside & (lon < 116.2)] == 2).all()
    assert (zone[inside & (lon > 116.4)] == 3).all()
    direct = tiny_entries["covariates"]["river_distance"].values
    assert np.abs(cov["river_distance"].values - direct).max() <= 1.0  # one cell, km


def test_a_rain_grid_too_large_for_memory_is_refused_before_reading(files):
    # 0.001 deg over 119 years: terabytes on any machine
    doc = _config(files, rain_resolution=0.001, period=["1900-01-01", "2018-12-31"])
    message = _refused(files, doc, match="needs .* GB in memory")
    assert "rain_resolution: 0.25" in message
