"""Headless dashboard tests: set the state, assert on what the views derive.

References are computed independently: the product store read with xarray, the saved
scikit-learn models, and :mod:`cropsm.analysis.drought` on the raw arrays.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io

import numpy as np
import pandas as pd
import param
import pytest
import rasterio
from shapely.geometry import box

from cropsm.analysis.drought import drought_grade, relative_sm
from cropsm.app import data
from cropsm.app.export_view import map_cog, region_csv
from cropsm.app.region_view import RegionView
from cropsm.app.state import AppState
from cropsm.core.regions import RegionError
from cropsm.io.catalog import CatalogError, entry_path, open_catalog
from cropsm.io.models import model_path
from cropsm.io.product import open_product
from cropsm.pipelines import series
from cropsm.pipelines.map_layer import map_layer
from cropsm.pipelines.region import region_statistics, truth_skill
from cropsm.rf.features import BASE_FEATURES, FEATURES, features_at
from cropsm.serve.models import load_model

BOX = "116.0,39.0,116.8,39.8"  # inside the tiny world (115.4-117.2 E, 38.6-40.2 N)


@pytest.fixture
def state(served_catalog, tiny_models, monkeypatch):
    monkeypatch.setenv("CROPSM_MODELS", str(tiny_models))
    state = AppState(catalog_path=str(served_catalog))
    state.set_dates(data.product_dates(state.catalog_path))
    return state


def layer_window(state, x_range=None, y_range=None, screen_px=700):
    """The state's map layer, as the map view asks for it."""
    return map_layer(data.reader(state.catalog_path), state.crop, state.depth, state.date,
                     state.layer, x_range, y_range, screen_px)


@pytest.fixture
def product(served_catalog):
    return open_product(entry_path(open_catalog(served_catalog), "soil_moisture"))


def test_state_takes_the_product_dates(state, product):
    days = [pd.Timestamp(t).date() for t in product["time"].values]
    assert state.available_dates == days
    assert state.date == days[0]
    assert (state.run_start, state.run_end) == (days[0], days[-1])  # 10 days: all of them
    # a season's product: the live run defaults to its last 10 days, not the year
    year = [dt.date(2018, 1, 1) + dt.timedelta(days=k) for k in range(365)]
    fresh = AppState(catalog_path=state.catalog_path)
    fresh.set_dates(year)
    assert (fresh.run_start, fresh.run_end) == (dt.date(2018, 12, 22), dt.date(2018, 12, 31))


def test_url_round_trip_and_rejected_values(state):
    problems = state.apply_query({"crop": "maize", "depth": "10-20cm", "layer": "drought",
                                  "date": "2018-05-03", "extent": "100,200,90000,95000",
                                  "region": BOX, "unknown": "x"})
    assert problems == []
    assert state.query() == {"crop": "maize", "depth": "10-20cm", "layer": "drought",
                             "date": "2018-05-03", "extent": "100,200,90000,95000",
                             "region": BOX}
    bad = {"crop": "rice", "layer": "../../etc/passwd", "date": "2019-01-01",
           "extent": "nan,0,1,1", "region": "1,2,3"}
    problems = state.apply_query(bad)
    assert len(problems) == len(bad)
    assert all("ignored" in p for p in problems)
    assert "the product has no 2019-01-01" in " ".join(problems)
    assert (state.crop, state.layer, state.date) == ("maize", "drought", dt.date(2018, 5, 3))
    other = AppState(catalog_path=state.catalog_path)
    other.apply_query(state.query())
    assert other.query() == state.query()


def test_province_region_from_url(state):
    assert state.apply_query({"region": "Beijing"}, data.provinces()) == []
    assert state.region.contains(box(116.3, 39.9, 116.4, 40.0))
    beijing = state.region
    # Chinese names with or without 市/省/自治区, as analysts write them
    for name in ("北京市", "北京"):
        assert state.apply_query({"region": name}, data.provinces()) == []
        assert state.region.equals(beijing)
    assert state.apply_query({"region": "内蒙古"}, data.provinces()) == []
    assert state.apply_query({"region": "Atlantis"}, data.provinces())[0].startswith(
        "URL region='Atlantis' ignored: No province called 'Atlantis'")


@pytest.mark.parametrize("layer", ["sm", "uncertainty", "aoa", "relative_sm", "drought",
                                   "error"])
def test_layers_at_1km_equal_the_stored_arrays(state, product, tiny_entries, layer):
    state.param.update(crop="maize", depth="0-10cm", layer=layer, date=dt.date(2018, 5, 4))
    x, y = product["x"].values, product["y"].values
    view = layer_window(state, (x[10], x[120]), (y[110], y[5]), screen_px=10**9)
    at = product.sel(crop="maize", depth="0-10cm", time="2018-05-04").sel(
        x=view["x"], y=view["y"])
    fc = tiny_entries["covariates"]["fc"].sel(x=view["x"], y=view["y"]).values
    expected = {
        "sm": at["sm"].values,
        "uncertainty": at["sm_q90"].values - at["sm_q10"].values,
        "aoa": np.where(at["aoa"].values == 255, np.nan, at["aoa"].values),
        "relative_sm": relative_sm(at["sm"].values, fc),
        "drought": np.where((g := drought_grade(relative_sm(at["sm"].values, fc))) == 255,
                            np.nan, g),
        "error": at["sm"].values - tiny_entries["truth"]["sm"].sel(
            crop="maize", depth="0-10cm", time="2018-05-04", x=view["x"], y=view["y"]).values,
    }[layer]
    np.testing.assert_array_equal(view.values, expected)
    assert np.isfinite(view.values).any()


def test_zoomed_out_sm_reads_the_overview(state, product):
    view = layer_window(state, screen_px=20)
    spacing = abs(float(view["x"][1] - view["x"][0]))
    assert spacing >= 2000  # an overview level, not the 1 km grid
    assert view.sizes["x"] >= 20


@pytest.mark.parametrize("layer", ["anomaly", "percentile", "category"])
def test_climatology_layers_without_a_climatology_say_how_to_make_one(state, layer):
    state.layer = layer
    with pytest.raises(CatalogError, match="predict --years.*cropsm climatology"):
        layer_window(state)


def test_pixel_series_is_the_stored_series_with_truth(state, product, tiny_entries):
    sm = product["sm"].sel(crop="wheat", depth="0-10cm")
    counts = sm.notnull().sum("time").values
    row, col = np.argwhere(counts == counts.max())[0]
    table = series.pixel_series(data.reader(state.catalog_path), state.crop, state.depth,
                                float(product["x"][col]), float(product["y"][row]))
    np.testing.assert_array_equal(table["sm"].to_numpy(), sm.isel(y=row, x=col).values)
    truth = tiny_entries["truth"]["sm"].sel(crop="wheat", depth="0-10cm").isel(y=row, x=col)
    np.testing.assert_array_equal(table["truth"].to_numpy(),
                                  truth.sel(time=table.index).values)
    assert (table["sm_q10"] <= table["sm"]).all() and (table["sm"] <= table["sm_q90"]).all()


def test_station_series_matches_sklearn_with_predicted_cir(state, tiny_entries, tiny_models):
    obs = tiny_entries["stations"]
    station = obs[(obs["crop"] == "wheat") & (obs["depth"] == "0-10cm")]["station_id"].iloc[0]
    reader = data.reader(state.catalog_path)
    table = series.station_series(reader, "wheat", "0-10cm", station, data.serving_model)
    meta = tiny_entries["station_meta"].set_index("station_id").loc[station]
    model = load_model(model_path(tiny_models, "wheat", "0-10cm"))
    features = features_at(tiny_entries["covariates"], tiny_entries["covariates_daily"],
                           np.full(len(table), meta["row"]), np.full(len(table), meta["col"]),
                           table.index)
    base = features[list(BASE_FEATURES)].to_numpy(np.float32)
    X = np.zeros((len(table), len(FEATURES)), np.float32)
    X[:, [FEATURES.index(f) for f in BASE_FEATURES]] = base
    X[:, FEATURES.index("CIR")] = model.classifier.predict(base)
    model.regressor.set_params(n_jobs=1)  # threads would add the trees in any order
    np.testing.assert_array_equal(table["predicted"].to_numpy(), model.regressor.predict(X))
    x, y = data.stations(state.catalog_path).set_index("station_id").loc[station, ["x", "y"]]
    assert series.nearest_station(reader, x + 300, y - 300, tolerance=1000) == station
    assert series.nearest_station(reader, x + 300, y - 300, tolerance=100) is None
    found = series.series_at(reader, "wheat", "0-10cm", x + 300, y - 300, 1000,
                             data.serving_model)
    assert found.station == station and found.table.equals(table)


def test_region_statistics_count_cropland(state, tiny_entries):
    from cropsm.core.grid import Grid

    state.set_region(BOX)
    stats = region_statistics(data.reader(state.catalog_path), state.crop, state.depth,
                              state.region, state.date, data.china())
    cov = tiny_entries["covariates"]
    lon, lat = Grid.from_coords(cov["x"].values, cov["y"].values).lonlat()
    lon0, lat0, lon1, lat1 = (float(v) for v in BOX.split(","))
    inside = (lon >= lon0) & (lon <= lon1) & (lat >= lat0) & (lat <= lat1)
    cropland = cov["crop_fraction"].sel(crop="wheat").values >= 0.10
    assert stats["cropland_km2"] == pytest.approx((inside & cropland).sum(), rel=0.02)
    assert 0 < stats["predicted_km2"] <= stats["cropland_km2"]
    assert sum(stats["grade_shares"].values()) == pytest.approx(1.0)
    assert 0.0 < stats["mean_sm"] < 0.6


def test_live_run_equals_predict_window_and_guards_cost(state, tiny_entries, monkeypatch):
    from cropsm.serve import live
    from cropsm.serve.predict import predict_window, serving_covariates

    state.set_region(BOX)
    state.param.update(run_start=dt.date(2018, 6, 1), run_end=dt.date(2018, 6, 4))
    view = RegionView(state=state)
    asyncio.run(view.run())
    assert not state.running and state.message.startswith("Run finished"), state.message
    run, result = state.run.run, state.run.result
    window = serving_covariates(tiny_entries["covariates"]).isel(y=run.rows, x=run.cols)
    direct = predict_window(data.serving_model("wheat", "0-10cm"), window.load(),
                            tiny_entries["covariates_daily"], run.dates, run.region)
    np.testing.assert_array_equal(result["sm"], direct["sm"])
    monkeypatch.setattr(live, "LIVE_BUDGET_PIXEL_DAYS", 10)
    asyncio.run(view.run())
    assert "over the live budget of 10" in state.message
    assert state.run.run is run  # the refused run changed nothing


@pytest.mark.parametrize("region, start, end, expected", [
    ("10,10,20,20", "2018-06-01", "2018-06-02", "outside mainland China"),
    (BOX, "2018-06-05", "2018-06-01", "before the start"),
    (BOX, "1900-01-01", "1900-01-02", "outside the covariates' range"),
])
def test_bad_live_runs_show_a_message(state, region, start, end, expected):
    state.set_region(region)
    state.param.update(run_start=dt.date.fromisoformat(start), run_end=dt.date.fromisoformat(end))
    asyncio.run(RegionView(state=state).run())
    assert expected in state.message and state.run is None and not state.running


def test_empty_polygon_region_is_refused(state):
    with pytest.raises(RegionError, match="empty or not in degrees"):
        state.set_region("116,39,116,39")


def test_region_csv_rows_and_provenance(state, product):
    state.set_region(BOX)
    text = region_csv(state, "pixels").decode()
    header = [line for line in text.splitlines() if line.startswith("#")]
    assert any(line.startswith("# model_sha256: ") and len(line) > 30 for line in header)
    assert f"# region: {BOX}" in header
    table = pd.read_csv(io.StringIO(text), comment="#")
    sm = product["sm"].sel(crop="wheat", depth="0-10cm")
    assert len(table) > 0
    assert table["sm"].between(0, 0.6).all()
    cell = table.iloc[len(table) // 2]
    stored = float(sm.sel(time=cell["date"]).isel(y=int(cell["row"]), x=int(cell["col"])))
    assert cell["sm"] == pytest.approx(stored, abs=1e-9)
    means = pd.read_csv(io.BytesIO(region_csv(state, "mean")), comment="#")
    assert len(means) == sm.sizes["time"]


def test_map_geotiff_is_the_current_layer(state, product):
    x, y = product["x"].values, product["y"].values
    state.extent = (x[20], y[100], x[90], y[10])
    with rasterio.MemoryFile(map_cog(state)) as memory, memory.open() as src:
        values = src.read(1)
        assert src.crs is not None and src.tags()["crop"] == "wheat"
    expected = layer_window(state, (x[20], x[90]), (y[100], y[10]), screen_px=10**9)
    np.testing.assert_allclose(values, expected.values.astype("f4"), equal_nan=True)


def test_truth_skill_per_pixel_equals_scipy(state, product, tiny_entries):
    from scipy import stats

    state.set_region(BOX)
    found, skill = truth_skill(data.reader(state.catalog_path), state.crop, state.depth,
                               state.region, data.china())
    run = found.run
    sm = found.result["sm"]
    truth = tiny_entries["truth"]["sm"].sel(crop="wheat", depth="0-10cm", time=run.dates).isel(
        y=run.rows, x=run.cols).values
    full = np.argwhere(np.isfinite(sm).all(axis=0))
    assert len(full) > 10
    for row, col in full[:: max(1, len(full) // 5)]:
        expected = stats.pearsonr(sm[:, row, col], truth[:, row, col]).statistic
        assert skill["r"][row, col] == pytest.approx(expected, abs=1e-12)
        anomaly = (sm[:, row, col] - sm[:, row, col].mean()) - (
            truth[:, row, col] - truth[:, row, col].mean())
        assert skill["ubrmse"][row, col] == pytest.approx(np.sqrt((anomaly ** 2).mean()))
    assert np.isnan(skill["r"][skill["days"] < 5]).all()


def test_release_drops_results_without_events():
    from cropsm.app.state import RESULTS

    state = AppState()
    fired = []
    state.param.watch(lambda *events: fired.extend(e.name for e in events),
                      [*RESULTS, "region", "tapped"])
    state.param.update(**dict.fromkeys(RESULTS, object()), tapped=(1.0, 2.0))
    fired.clear()
    state.release()
    assert all(getattr(state, name) is None for name in RESULTS)
    assert state.tapped is None and state.region is None
    assert fired == []
    # every parameter holding a computed result is released
    held = {name for name, p in state.param.objects().items()
            if type(p) is param.Parameter and name not in ("region",)}
    assert held == set(RESULTS)
