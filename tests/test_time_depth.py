"""The climate record, its percentiles, the layers, the season, bulletins: tiny world, CLI."""

from __future__ import annotations

import io
import shutil

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from click.testing import CliRunner
from PIL import Image
from shapely.geometry import box

from cropsm.analysis.percentiles import PERCENTILES, doy_thresholds, percentile_rank
from cropsm.cli import main
from cropsm.core.grid import every_nth_cell
from cropsm.core.regions import province_code, province_region
from cropsm.io import assets
from cropsm.io.catalog import CatalogError, open_catalog, product_store_path
from cropsm.io.product import SHARES_GROUP, ProductStore, open_product, read_group
from cropsm.pipelines.bulletin import make_bulletin
from cropsm.pipelines.climatology import ClimatologyError, compute_climatology, open_climatology
from cropsm.pipelines.map_layer import map_layer
from cropsm.pipelines.percentile_skill import borrowing_error, percentile_skill
from cropsm.pipelines.province_shares import add_province_areas, province_shares
from cropsm.pipelines.season import (
    record_years,
    region_season,
    region_trends,
    region_years,
    season_spells,
)
from cropsm.pipelines.sources import CatalogReader

TINY_BOX = box(115.4, 38.6, 117.2, 40.2)
CROP, DEPTH = "wheat", "0-10cm"


@pytest.fixture(scope="module")
def reader(climate_catalog):
    return CatalogReader(climate_catalog)


def test_the_record_is_the_product_on_every_4th_cell(climate_catalog, served_catalog):
    cat = open_catalog(climate_catalog)
    record = open_product(product_store_path(cat, "soil_moisture_record"))
    assert record.attrs["record_stride"] == 4
    product = open_product(product_store_path(open_catalog(served_catalog), "soil_moisture"))
    days = product["time"].values
    thinned = every_nth_cell(product["sm"].sel(crop=CROP, depth=DEPTH, time=days), 4)
    kept = record["sm"].sel(crop=CROP, depth=DEPTH, time=days)
    np.testing.assert_array_equal(kept.values, thinned.values)
    assert np.isfinite(kept.values).any()


def test_climatology_store_is_xclim_on_the_record(climate_catalog):
    cat = open_catalog(climate_catalog)
    clim = open_climatology(product_store_path(cat, "climatology"))
    assert clim.attrs["years"] == "2017-2017" and clim.attrs["record_stride"] == 4
    record = open_product(product_store_path(cat, "soil_moisture_record"), "series")["sm"]
    year = record.sel(crop=CROP, depth=DEPTH, time=slice("2017-01-01", "2017-12-31"))
    cells = np.argwhere(np.isfinite(year.values).any(axis=0))[:25]
    sample = xr.DataArray(
        year.values[:, cells[:, 0], cells[:, 1]], dims=("time", "cell"),
        coords={"time": year["time"].values})
    expected = doy_thresholds(sample).values
    stored = clim["sm_threshold"].sel(crop=CROP, depth=DEPTH).values[
        :, :, cells[:, 0], cells[:, 1]]
    # stored as uint16 with a scale of 1e-4
    np.testing.assert_allclose(stored, expected, atol=0.6e-4, equal_nan=True)


def test_climatology_refuses_years_the_record_lacks(climate_catalog):
    with pytest.raises(ClimatologyError, match="whole years 2017-2018.*--years"):
        compute_climatology(climate_catalog, [(CROP, DEPTH)], years=(2010, 2017), workers=0)
    with pytest.raises(ClimatologyError, match="holds no maize/0-10cm"):
        compute_climatology(climate_catalog, [("maize", "0-10cm")], years=(2017, 2017),
                            min_years=1, workers=0)


def test_percentile_layers(reader):
    sm = map_layer(reader, CROP, DEPTH, "2018-05-15", "sm", screen_px=10_000)
    pct = map_layer(reader, CROP, DEPTH, "2018-05-15", "percentile", screen_px=10_000)
    cat = map_layer(reader, CROP, DEPTH, "2018-05-15", "category", screen_px=10_000)
    anomaly = map_layer(reader, CROP, DEPTH, "2018-05-15", "anomaly", screen_px=10_000)
    assert pct.attrs["units"] == "%" and cat.attrs["flag_meanings"].startswith("none D0")
    has = np.isfinite(sm.values)
    # nearly every predicted cell reaches a record cell within two record cells
    assert np.isfinite(pct.values[has]).mean() > 0.95
    assert np.nanmin(pct.values) >= 1 and np.nanmax(pct.values) <= 99
    assert set(np.unique(cat.values[np.isfinite(cat.values)])) <= set(range(6))
    # record cells themselves: a percentile is the value's rank against the cell's own
    # thresholds, the anomaly the value minus the cell's own mean
    clim = reader.climatology()
    doy = pd.Timestamp("2018-05-15").day_of_year - 1
    thresholds = clim["sm_threshold"].sel(crop=CROP, depth=DEPTH).isel(dayofyear=doy).values
    means = clim["sm_mean"].sel(crop=CROP, depth=DEPTH).isel(dayofyear=doy).values
    at_record = sm.sel(y=clim["y"].values, x=clim["x"].values).values
    usable = np.argwhere(np.isfinite(at_record) & np.isfinite(thresholds).all(axis=0))
    assert len(usable) > 100
    for ry, rx in usable[:: max(len(usable) // 20, 1)]:
        y, x = clim["y"].values[ry], clim["x"].values[rx]
        value, own = at_record[ry, rx], thresholds[:, ry, rx]
        # tied thresholds (dry soil pinned at its residual): a value on them ranks at the
        # lowest tied percentile, as its category does (module notes); np.interp would
        # take the highest
        expected = (np.interp(value, own, PERCENTILES, left=1, right=99)
                    if np.all(np.diff(own) > 0) else percentile_rank(value, own[:, None])[0])
        assert float(pct.sel(y=y, x=x)) == pytest.approx(expected, abs=1e-3)
        assert float(anomaly.sel(y=y, x=x)) == pytest.approx(value - means[ry, rx], abs=2e-4)


def test_season_shares_spells_and_years(reader):
    china = assets.read_boundary()
    season = region_season(reader, CROP, DEPTH, TINY_BOX, china)
    assert list(season.shares.columns) == ["none", "D0", "D1", "D2", "D3", "D4"]
    assert len(season.shares) == 10
    np.testing.assert_allclose(season.shares.sum(axis=1), 1.0)
    sampled = region_season(reader, CROP, DEPTH, TINY_BOX, china, "2018-05-11", "2018-05-20",
                            density="record")
    assert list(sampled.shares.index) == list(season.shares.index)
    # every 4th cell standing for 16 km²: the same crop area and nearly the same shares
    assert sampled.weights.sum() == pytest.approx(season.weights.sum(), rel=0.15)
    assert (sampled.shares - season.shares).abs().max().max() < 0.1
    whole = region_season(reader, CROP, DEPTH, TINY_BOX, china, density="record")
    assert len(whole.shares) == 730  # the record's two years, beyond the product's days
    grades = region_season(reader, CROP, DEPTH, TINY_BOX, china, scheme="grade")
    assert list(grades.shares.columns)[0] == "none" and len(grades.shares.columns) == 5
    spells = season_spells(season)
    assert int(spells["longest_days"].max()) <= 10
    assert (spells["current_days"] <= spells["longest_days"]).all()
    years = region_years(reader, CROP, DEPTH, TINY_BOX, china, 2018, other=2017)
    assert {"q10", "q50", "q90", "years", "2018", "2017"} <= set(years.columns)
    assert years["years"].max() == 1  # the band has 2017 only
    # with one other year the band is that year
    np.testing.assert_allclose(years["2017"].dropna(), years["q50"].loc[
        years["2017"].dropna().index])
    with pytest.raises(CatalogError, match="no 2012; it holds 2017-2018"):
        region_years(reader, CROP, DEPTH, TINY_BOX, china, 2018, other=2012)
    assert record_years(reader) == [2017, 2018]
    with pytest.raises(CatalogError, match="a trend needs at least 8"):
        region_trends(reader, CROP, DEPTH, TINY_BOX, china)
    with pytest.raises(CatalogError, match="no day from 2018-07-01"):
        region_season(reader, CROP, DEPTH, TINY_BOX, china, "2018-07-01", "2018-07-10")


def test_published_province_areas_are_the_1km_season(reader):
    provinces, china, days = assets.read_provinces(), assets.read_boundary(), reader.dates()
    for name, tolerance in (("Hebei", 1e-6), ("Beijing", 0.01), ("Tianjin", 0.01)):
        code = province_code(name, provinces)
        for scheme in ("category", "grade"):
            published = province_shares(reader, CROP, DEPTH, code, days, scheme)
            computed = region_season(reader, CROP, DEPTH, province_region(name, provinces),
                                     china, scheme=scheme).shares
            assert published.notna().all().all()
            # the province code's cells stand for the outline: the same cells inside the
            # tiny world, a few border cells apart where the outline crosses Beijing's and
            # Tianjin's
            np.testing.assert_allclose(published.values, computed.values, atol=tolerance)
    with pytest.raises(CatalogError, match="no published province areas"):
        province_shares(reader, "maize", DEPTH, code, days)
    with pytest.raises(CatalogError, match="lacks some of the days"):
        province_shares(reader, CROP, DEPTH, code, ["2019-05-01"])
    # areas of other covariates (a re-ingest) or another climatology are not served
    other = CatalogReader(reader.path)
    other.entry_version = lambda name: "covariates.zarr.v-other"
    with pytest.raises(CatalogError, match="other covariates"):
        province_shares(other, CROP, DEPTH, code, days, "grade")
    other = CatalogReader(reader.path)
    other.climatology_version = lambda: "climatology.zarr.v-other"
    assert province_shares(other, CROP, DEPTH, code, days, "grade").notna().all().all()
    with pytest.raises(CatalogError, match="another climatology"):
        province_shares(other, CROP, DEPTH, code, days, "category")


def test_a_region_run_clears_its_days_areas_and_never_the_published_ones(reader):
    published = product_store_path(reader.catalog, "soil_moisture").resolve()
    before = read_group(published, SHARES_GROUP)
    axis = pd.DatetimeIndex(before["time"].values)
    days = reader.dates()
    store = ProductStore.create(published.parent / "partial-region-test",
                                reader.dataset("covariates"), axis, {}, base=published)
    try:
        add_province_areas(store, reader, [(CROP, DEPTH)], days[:2], axis,
                           region=np.ones((3, 3), bool))
        after = store.read_group(SHARES_GROUP)
    finally:
        shutil.rmtree(store.path)
    area = after["grade_area"].sel(crop=CROP, depth=DEPTH)
    assert area.sel(time=days[:2]).isnull().all()
    xr.testing.assert_equal(area.sel(time=days[2:]),
                            before["grade_area"].sel(crop=CROP, depth=DEPTH, time=days[2:]))
    # the published store's files were hard links: unlinked, not overwritten
    xr.testing.assert_identical(read_group(published, SHARES_GROUP), before)


def test_areas_are_added_to_a_store_published_without_them(reader, tmp_path):
    from cropsm.pipelines.province_shares import days_without_areas, publish_province_areas

    published = product_store_path(reader.catalog, "soil_moisture").resolve()
    days = reader.dates()
    copy = ProductStore.create(tmp_path / ".versions" / "old.partial",
                               reader.dataset("covariates"), days, {}, base=published)
    shutil.rmtree(copy.path / SHARES_GROUP)  # as published before the areas existed
    target = tmp_path / "old.zarr"
    copy.publish(target)
    assert list(days_without_areas(reader, target, [(CROP, DEPTH)])) == list(days)
    publish_province_areas(reader, target, [(CROP, DEPTH)], days)
    assert days_without_areas(reader, target, [(CROP, DEPTH)]).empty
    xr.testing.assert_identical(read_group(target.resolve(), SHARES_GROUP),
                                read_group(published, SHARES_GROUP))


def test_bulletin_files(reader, tmp_path):
    made = make_bulletin(reader, CROP, DEPTH, "2018-05-2", geometry=TINY_BOX,
                         region_name="Hebei plain")
    image = Image.open(io.BytesIO(made.png))
    assert image.format == "PNG" and image.size[0] >= 800
    text = made.csv.decode()
    assert text.startswith("# product: CropSM wheat 0-10cm")
    assert "# climatology: 2017-2017" in text
    table = pd.read_csv(io.StringIO(text), comment="#")
    assert {"zone", "none_km2", "D4_km2", "graded_km2"} <= set(table.columns)
    assert set(table["zone"]) <= {"Beijing", "Tianjin", "Hebei"}
    np.testing.assert_allclose(table.filter(like="_km2").drop(columns="graded_km2").sum(axis=1),
                               table["graded_km2"], rtol=1e-9)
    png, csv = made.write(tmp_path)
    assert png.name == "bulletin_Hebei_plain_wheat_0-10cm_2018-05-2_category.png"
    with pytest.raises(CatalogError, match="no day from 2018-05-01 to 2018-05-10"):
        make_bulletin(reader, CROP, DEPTH, "2018-05-1", geometry=TINY_BOX)


def test_percentile_skill_against_the_truth(climate_catalog):
    skill = percentile_skill(climate_catalog, CROP, DEPTH, 2018)
    assert skill["pixel_days"] > 100_000 and skill["climatology_years"] == "2017-2017"
    assert 0 <= skill["agreement"] <= 1 and -1 <= skill["kappa"] <= 1
    assert np.asarray(skill["confusion"]).sum() == skill["pixel_days"]
    with pytest.raises(CatalogError, match="score a later year"):
        percentile_skill(climate_catalog, CROP, DEPTH, 2017)
    borrowed = borrowing_error(climate_catalog, CROP, DEPTH, 4, n_cells=500)
    assert borrowed["cells"] == 500 and borrowed["agreement"] > borrowed["always_none"] - 0.2


def test_cli_bulletin_and_climatology(climate_catalog, tmp_path):
    runner = CliRunner()
    out = runner.invoke(main, ["bulletin", "--province", "Beijing", "--dekad", "2018-05-2",
                               "--out", str(tmp_path), "--catalog", str(climate_catalog)])
    assert out.exit_code == 0, out.output
    assert (tmp_path / "bulletin_Beijing_wheat_0-10cm_2018-05-2_category.csv").exists()
    grade = runner.invoke(main, ["bulletin", "--province", "Beijing", "--dekad", "2018-05-2",
                                 "--scheme", "grade", "--out", str(tmp_path),
                                 "--catalog", str(climate_catalog)])
    assert grade.exit_code == 0, grade.output
    bad = runner.invoke(main, ["bulletin", "--province", "Beijing", "--dekad", "2018-05-4",
                               "--catalog", str(climate_catalog)])
    assert bad.exit_code == 2 and "D = 1 (days 1-10)" in bad.output
    nowhere = runner.invoke(main, ["bulletin", "--province", "Atlantis", "--dekad",
                                   "2018-05-2", "--catalog", str(climate_catalog)])
    assert nowhere.exit_code != 0 and "No province called 'Atlantis'" in nowhere.output
    short = runner.invoke(main, ["climatology", "--crop", CROP, "--depth", DEPTH,
                                 "--catalog", str(climate_catalog), "--workers", "0"])
    assert short.exit_code != 0 and "at least 3 whole years" in short.output
    years = runner.invoke(main, ["predict", "--years", "2018", "--catalog",
                                 str(climate_catalog)])
    assert years.exit_code == 2 and "FIRST-LAST" in years.output


def test_trends_need_years_and_regional_trend_is_the_mean_series(climate_catalog):
    from cropsm.pipelines.trends import regional_trend, yearly_means

    with pytest.raises(CatalogError, match="2 whole years; a trend needs at least 8"):
        yearly_means(climate_catalog, CROP, DEPTH)
    years = np.arange(2001, 2013)
    values = 0.2 + 0.002 * (years - 2001)[:, None, None] + np.zeros((years.size, 3, 4))
    values[:, 0, 0] = np.nan
    yearly = xr.DataArray(values, dims=("year", "y", "x"), coords={"year": years})
    out = regional_trend(yearly, np.ones((3, 4), bool))
    assert out["slope"] == pytest.approx(0.002) and out["significant"]
    assert out["years"] == "2001-2012"


def test_a_season_run_reports_its_progress_and_resumes(climate_catalog, tiny_models, tmp_path):
    from cropsm.io.product import SEASON_SERIES_DAYS, open_product, stored_series_days
    from cropsm.pipelines.predict import predict_product
    from cropsm.pipelines.season_status import read_season_status

    out = tmp_path / "season.zarr"
    small = "116.0,39.0,116.3,39.3"  # a few dozen cells: the months, not the pixels, cost
    run = predict_product(climate_catalog, tiny_models, [(CROP, DEPTH)], season=2018,
                          bbox=small, out=out, workers=0)
    status = read_season_status(out)
    weather_end = pd.Timestamp(
        CatalogReader(climate_catalog).dataset("covariates_daily")["time"].values[-1])
    held = pd.date_range("2018-01-01", min(weather_end, pd.Timestamp("2018-12-31")))
    assert status.state == "done" and status.days_done == status.days_planned == len(held)
    assert run.days == len(held)
    # filled a month per run: each run rewrote the series chunks of its month only, and
    # every day reached the series layout
    assert stored_series_days(out) == SEASON_SERIES_DAYS
    with open_product(out, dask=False) as maps, \
            open_product(out, "series", dask=False) as series:
        assert maps["sm"].equals(series["sm"])
    again = predict_product(climate_catalog, tiny_models, [(CROP, DEPTH)], season=2018,
                            bbox=small, out=out, workers=0)
    assert again.days == 0 and read_season_status(out).days_planned == 0
