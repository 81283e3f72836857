from pathlib import Path

import pandas as pd
import pytest
import xarray as xr

from cropsm.io.catalog import (
    ENTRIES,
    CatalogError,
    default_catalog,
    open_catalog,
    read_entry,
    render_catalog,
)

COMMITTED = Path(__file__).resolve().parents[1] / "catalogs" / "cropsm.yaml"


def test_committed_catalog_is_the_rendered_default():
    assert COMMITTED.read_text() == render_catalog("../data/demo", "demo")


def test_committed_catalog_opens_and_lists_every_entry():
    cat = open_catalog(COMMITTED)
    assert set(cat.entries) == set(ENTRIES)


def test_default_catalog_comes_from_the_settings_not_the_source_tree(tmp_path, monkeypatch):
    for name in ("CROPSM_HOME", "CROPSM_CATALOG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    assert default_catalog() == Path("catalogs", "cropsm.yaml")
    with pytest.raises(CatalogError, match="not found; build the demo data"):
        open_catalog()
    monkeypatch.setenv("CROPSM_HOME", str(tmp_path / "home"))
    assert default_catalog() == tmp_path / "home" / "catalogs" / "cropsm.yaml"
    monkeypatch.setenv("CROPSM_CATALOG", str(COMMITTED))
    assert default_catalog() == COMMITTED
    assert set(open_catalog().entries) == set(ENTRIES)


def test_every_entry_opens_lazily_with_cf_units(tiny_world):
    _, catalog, _ = tiny_world
    cat = open_catalog(catalog)
    cov = read_entry("covariates", cat)
    assert isinstance(cov, xr.Dataset)
    assert cov["fc"].chunks is not None  # dask-backed, nothing loaded yet
    for name in ("fc", "bulk_density", "river_distance", "moisture_index", "pet",
                 "crop_fraction", "elevation"):
        assert "units" in cov[name].attrs, name
        assert cov[name].attrs["grid_mapping"] == "spatial_ref"
    assert cov["pet"].attrs["units"] == "mm month-1"
    assert cov["x"].attrs["standard_name"] == "projection_x_coordinate"
    assert "crs_wkt" in cov["spatial_ref"].attrs
    daily = read_entry("covariates_daily", cat)
    assert daily["pre"].attrs["units"] == "mm day-1"
    assert daily["pre"].attrs["interpolation"] == "cropsm.core.grid.intermittent_sample"
    truth = read_entry("truth", cat)
    assert truth["sm"].dims == ("crop", "depth", "time", "y", "x")
    assert truth["sm"].attrs["units"] == "m3 m-3"
    stations = read_entry("stations", cat)
    assert isinstance(stations, pd.DataFrame)
    assert stations.attrs["units"]["sm"] == "m3 m-3"
    assert list(stations.columns) == ["station_id", "lon", "lat", "crop", "depth", "date",
                                      "sm", "phenology", "zone"]
    meta = read_entry("station_meta", cat)
    assert {"station_id", "lon", "lat", "crops", "zone"} <= set(meta.columns)


def test_placeholder_soil_moisture_entry_says_what_to_do(tiny_world):
    _, catalog, _ = tiny_world
    with pytest.raises(CatalogError, match="does not exist"):
        read_entry("soil_moisture", catalog)


def test_missing_catalog_message(tmp_path):
    with pytest.raises(CatalogError, match="not found; build the demo data"):
        open_catalog(tmp_path / "nope.yaml")


@pytest.mark.parametrize("text", ["entries: [unclosed", "version: 2\nentries: 5\n", "\x00\x01"])
def test_malformed_catalog_gives_one_line_error(tmp_path, text):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(CatalogError) as info:
        cat = open_catalog(path)
        read_entry("covariates", cat)
    assert "\n" not in str(info.value)
    assert str(path) in str(info.value) or "no entry" in str(info.value)


def test_unknown_entry(tiny_world):
    _, catalog, _ = tiny_world
    with pytest.raises(CatalogError, match="no entry 'rain'"):
        read_entry("rain", catalog)
