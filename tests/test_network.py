"""The multilayer network (Liu et al. 2021): features, chain, search, files, comparison."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from sklearn.model_selection import GridSearchCV, PredefinedSplit, train_test_split

from cropsm.core import crops, patterns
from cropsm.core.grid import intermittent_sample
from cropsm.io.models import ModelFileError, network_path, save_network
from cropsm.nn import network
from cropsm.rf.features import FeatureError
from cropsm.serve.models import load_network

SMALL = {"batch_size": [256], "learning_rate_init": [0.005], "n_hidden": [2], "units": [32]}


@pytest.fixture(scope="module")
def tables(tiny_entries):
    e = tiny_entries
    return network.layer_tables(e["covariates"], e["covariates_daily"], e["stations"],
                                e["station_meta"])


@pytest.fixture(scope="module")
def fitted(tables):
    tables, _ = tables
    train = {layer: network.random_split(t)[0] for layer, t in tables.items()}
    return network.fit_network(tables, train, grid=SMALL), train


def test_world_has_five_layers_patterns_and_the_papers_covariates(tiny_entries):
    stations, meta, cov = (tiny_entries[k] for k in ("stations", "station_meta", "covariates"))
    assert sorted(stations["depth"].astype(str).unique()) == sorted(crops.SOIL_LAYERS)
    assert list(tiny_entries["truth"]["depth"].values) == list(crops.DEPTHS)
    for crop, codes in patterns.CROP_PATTERNS.items():
        assert set(meta.loc[meta["crops"] == crop, "pattern"]) <= set(codes)
    silt = cov["silt"].values
    ok = np.isfinite(silt)
    np.testing.assert_allclose(silt[ok], 1 - cov["sand"].values[ok] - cov["clay"].values[ok],
                               atol=1e-6)
    shares = cov["pattern_fraction"].values
    cropland = shares.sum(axis=0) > 0
    np.testing.assert_allclose(shares.sum(axis=0)[cropland], 1, atol=1e-5)
    assert ((cov["cropping_pattern"].values > 0) == cropland).all()
    assert cov.attrs["patterns_present"] == [c for c in patterns.PATTERNS
                                             if (shares[c - 1] > 0).any()]


def test_pattern_rules():
    share = patterns.pattern_fractions([0.4, 0.3, 0.0], [0.2, 0.0, 0.5], [0, 1, 0])
    # winter wheat + maize: 0.2 double cropped, 0.2 wheat only -> halves
    np.testing.assert_allclose(share[:, 0], [0.5, 0.5, 0.0, 0.0])
    # a pixel flagged spring wheat: all its wheat is pattern 3
    np.testing.assert_allclose(share[:, 1], [0.0, 0.0, 1.0, 0.0])
    np.testing.assert_allclose(share[:, 2], [0.0, 0.0, 0.0, 1.0])
    assert patterns.dominant_pattern(np.zeros((4, 2))).tolist() == [0, 0]
    with pytest.raises(ValueError, match="this world has: 1 = winter wheat"):
        patterns.check_pattern(3, present=[1, 4])
    assert patterns.check_pattern("fallow + maize") == 4


def test_liu_eq_1_weights_each_pattern_by_its_crops_harvested_area():
    # the example of issue 18: winter wheat 0.3 and maize 0.3 on one pixel
    weights = patterns.liu_weights([0.3], [0.3], [0])[:, 0]
    np.testing.assert_allclose(weights, [0.5, 0.25, 0.0, 0.25])
    np.testing.assert_allclose(patterns.pattern_fractions([0.3], [0.3], [0])[:, 0],
                               [1.0, 0.0, 0.0, 0.0])  # the world's partition of the land
    # by hand from Eq. 1: wheat 0.4 and maize 0.1 -> areas 0.5, 0.4, 0, 0.1 over 1.0
    np.testing.assert_allclose(patterns.liu_weights([0.4], [0.1], [0])[:, 0],
                               [0.5, 0.4, 0.0, 0.1])
    # spring wheat 0.2 and maize 0.6: spring wheat + fallow and fallow + maize only
    np.testing.assert_allclose(patterns.liu_weights([0.2], [0.6], [1])[:, 0],
                               [0.0, 0.0, 0.25, 0.75])
    assert patterns.liu_weights([0.0], [np.nan], [0]).sum() == 0  # no cropland


def test_accumulations_match_a_direct_sum(tiny_entries, tables):
    cov, daily = tiny_entries["covariates"], tiny_entries["covariates_daily"]
    tables, dropped = tables
    table = tables["0-10cm"].iloc[:40]
    meta = tiny_entries["station_meta"].set_index("station_id")
    rows = meta.loc[table["station_id"], "row"].to_numpy()
    cols = meta.loc[table["station_id"], "col"].to_numpy()
    lon, lat = table_lonlat(cov, rows, cols)
    for k in range(len(table)):
        date = pd.Timestamp(table["date"].iloc[k])
        span = daily["pre"].sel(time=slice(date - pd.Timedelta(days=365), date))
        rain = intermittent_sample(span.values.astype("f4"), daily["lat"].values,
                                   daily["lon"].values, lat[k:k + 1], lon[k:k + 1])[:, 0]
        # the previous N days, the date itself excluded (as pre10 of the forest)
        assert table["pre_12m"].iloc[k] == pytest.approx(rain[:-1].sum(), rel=1e-4)
        assert table["pre_1m"].iloc[k] == pytest.approx(rain[-31:-1].sum(), rel=1e-4, abs=1e-3)
        assert table["pre"].iloc[k] == pytest.approx(rain[-1], rel=1e-5, abs=1e-6)
    # the weather starts with the stations' spin-up year: every visit has 12 months of rain
    assert all(n == 0 for n in dropped.values())


def table_lonlat(cov, rows, cols):
    from cropsm.core.grid import Grid

    return Grid.from_coords(cov["x"].values, cov["y"].values).rowcol_to_lonlat(rows, cols)


def test_short_history_is_refused_with_the_period_needed(tiny_entries):
    cov, daily = tiny_entries["covariates"], tiny_entries["covariates_daily"]
    first = pd.Timestamp(daily["time"].values[0])
    with pytest.raises(FeatureError, match="12 months of accumulated precipitation"):
        network.features_at(cov, daily, [0], [0], [first + pd.Timedelta(days=30)])


def test_chain_feeds_predictions_never_observations(tables, fitted):
    tables, _ = tables
    net, _ = fitted
    assert "sm_upper" not in net.layers["0-10cm"].features
    for layer in crops.SOIL_LAYERS[1:]:
        assert net.layers[layer].features[-1] == "sm_upper"
    assert all("sm" not in n.features for n in net.layers.values())
    x = tables["20-30cm"].iloc[:100]
    chained = net.predict(x)
    # an observation slipped into the frame as sm_upper is overwritten by the chain
    leaked = net.predict(x.assign(sm_upper=x["sm"]))
    for layer in crops.SOIL_LAYERS:
        np.testing.assert_array_equal(chained[layer], leaked[layer])
    upper = chained["10-20cm"]
    direct = net.layers["20-30cm"].pipeline.predict(
        x.assign(sm_upper=upper)[list(net.layers["20-30cm"].features)].to_numpy("f4"))
    np.testing.assert_allclose(chained["20-30cm"], direct, rtol=1e-6)
    with pytest.raises(ValueError, match="Unknown layer '60-70cm'; the world has 0-10cm"):
        net.predict(x, upto="60-70cm")


def test_search_picks_what_scikit_learn_grid_search_picks(tables):
    tables, _ = tables
    table = tables["0-10cm"]
    x = table[list(network.NETWORK_FEATURES)].to_numpy("f4")
    y = table["sm"].to_numpy("f4")
    grid = {"batch_size": [64, 256], "learning_rate_init": [0.001, 0.01], "n_hidden": [1],
            "units": [16]}
    best, scores = network._search(x, y, grid, seed=0)
    fit_idx, val_idx = train_test_split(np.arange(len(y)), test_size=0.1, random_state=0)
    fold = np.full(len(y), -1)
    fold[val_idx] = 0
    reference = GridSearchCV(network._make(best, 0), {
        "regressor__mlpregressor__batch_size": grid["batch_size"],
        "regressor__mlpregressor__learning_rate_init": grid["learning_rate_init"]},
        scoring="neg_mean_squared_error", cv=PredefinedSplit(fold), refit=False).fit(x, y)
    chosen = reference.best_params_
    assert best["batch_size"] == chosen["regressor__mlpregressor__batch_size"]
    assert best["learning_rate_init"] == chosen["regressor__mlpregressor__learning_rate_init"]
    ours = sorted(s["validation_mse"] for s in scores)
    np.testing.assert_allclose(ours, sorted(-reference.cv_results_["mean_test_score"]),
                               rtol=1e-5)


def test_network_file_round_trip_and_refusals(tables, fitted, tmp_path):
    tables, _ = tables
    net, _ = fitted
    path = save_network(net, tmp_path, {"note": "test"})
    back = load_network(path)
    x = tables["40-50cm"].iloc[:50]
    for layer, values in net.predict(x).items():
        np.testing.assert_array_equal(values, back.predict(x)[layer])
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(ModelFileError, match="does not match its card"):
        load_network(path)
    with pytest.raises(ModelFileError, match="cropsm network train"):
        load_network(network_path(tmp_path / "none"))


def test_comparison_scores_both_methods_on_the_same_rows(tables, tiny_entries):
    from cropsm.analysis import method_comparison as mc
    from cropsm.rf import model

    tables, _ = tables
    e = tiny_entries
    forest = {("wheat", "0-10cm"): model.training_table(
        e["covariates"], e["covariates_daily"], e["stations"], e["station_meta"], "wheat",
        "0-10cm")}
    result = mc.compare_methods(tables, forest, n_folds=2, grid=SMALL)
    rows = pd.DataFrame(result["rows"])
    for scheme in ("random_70_30", "station_blocked"):
        pair = rows[(rows["scheme"] == scheme) & (rows["layer"] == "0-10cm")
                    & (rows["crop"] == "wheat")].set_index("method")
        assert set(pair.index) == {"forest", "network"}
        assert pair.loc["forest", "n"] == pair.loc["network", "n"] > 0
    assert set(rows.loc[rows["method"] == "network", "layer"]) == set(crops.SOIL_LAYERS)
    text = mc.markdown_report(result)
    assert "Station-blocked" in text and "soil pH" in text


def test_control_experiments_rank_every_group(tables, fitted):
    from cropsm.analysis.method_comparison import control_experiments

    tables, _ = tables
    net, _ = fitted
    params = {k: n.info["params"] for k, n in net.layers.items()}
    ranking = control_experiments(tables, params)
    assert set(ranking["group"]) == set(network.GROUPS)
    means = ranking.groupby("group", sort=False)["mean_r2_loss"].first().to_numpy()
    assert (np.diff(means) <= 0).all()
    reduced = network.kept_features("20-30cm", "soil")
    assert "sand" not in reduced and "sm_upper" in reduced


def _window(tiny_entries, size=12):
    cov = tiny_entries["covariates"]
    pattern = cov["cropping_pattern"].values
    counts = [(pattern[r:r + size, c:c + size] > 0).sum()
              for r in range(0, pattern.shape[0] - size, size)
              for c in range(0, pattern.shape[1] - size, size)]
    k = int(np.argmax(counts))
    per_row = len(range(0, pattern.shape[1] - size, size))
    r, c = (k // per_row) * size, (k % per_row) * size
    return slice(r, r + size), slice(c, c + size), np.ones((size, size), bool)


def test_reference_is_the_share_weighted_sum_and_scenarios_carry_flags(tiny_entries, fitted,
                                                                       tmp_path):
    from cropsm.nn import pattern_scenarios as ps

    net, _ = fitted
    e = tiny_entries
    cov, daily = e["covariates"], e["covariates_daily"]
    rows, cols, region = _window(tiny_entries)
    dates = pd.date_range("2018-06-01", periods=5)
    window = cov.isel(y=rows, x=cols)
    liu = patterns.liu_weights(window["crop_fraction"].sel(crop="wheat").values,
                               window["crop_fraction"].sel(crop="maize").values,
                               window["spring_wheat"].values)
    for weighting, shares in (("liu", liu), ("area", window["pattern_fraction"].values)):
        reference = ps.reference_product(net, cov, daily, rows, cols, region, dates, "20-30cm",
                                         weighting=weighting)
        expected = np.zeros(reference.shape)
        for k, code in enumerate(patterns.PATTERNS):
            if (shares[k] > 0).any():
                sm = ps.predict_region(net, cov, daily, rows, cols, region, dates, "20-30cm",
                                       code)
                expected += np.nan_to_num(sm.values) * shares[k]
        cropland = shares.sum(axis=0) > 0
        np.testing.assert_allclose(reference.values[:, cropland], expected[:, cropland],
                                   rtol=1e-5)
        assert np.isnan(reference.values[:, ~cropland]).all()
    assert not np.allclose(liu, window["pattern_fraction"].values)  # the two differ here

    code = cov.attrs["patterns_present"][0]
    result = ps.pattern_scenario(net, cov, daily, e["stations"], e["station_meta"], rows, cols,
                                 region, dates, "20-30cm", code)
    np.testing.assert_allclose(result["difference"], result["scenario"] - result["reference"])
    assert result["time_flag"].values.tolist() == [1] * 5
    seen = set(zip(e["station_meta"]["zone"], e["station_meta"]["pattern"], strict=True))
    zone = cov["zone"].isel(y=rows, x=cols).values
    flag = result["pattern_flag"].values
    assert ((flag == 1) == np.isin(zone, [z for z, p in seen if p == code])).all()
    from cropsm.io.export import netcdf_bytes

    (tmp_path / "grids.nc").write_bytes(netcdf_bytes(result, {"model sha256": "abc"}))
    back = xr.open_dataset(tmp_path / "grids.nc").load()
    np.testing.assert_array_equal(back["pattern_flag"], result["pattern_flag"])
    np.testing.assert_allclose(back["difference"], result["difference"])
    assert back.attrs["model_sha256"] == "abc" and "crs_wkt" in back["spatial_ref"].attrs
    monthly = ps.seasonal_difference(result)
    assert monthly["month"].tolist() == [6]
    late = ps.quality_flags(cov, e["stations"], e["station_meta"], rows, cols,
                            pd.date_range("2030-01-01", periods=2))
    assert late["time_flag"].values.tolist() == [0, 0]


def test_absent_pattern_and_empty_region_are_named(tiny_entries, fitted):
    from cropsm.nn import pattern_scenarios as ps

    net, _ = fitted
    cov, daily = tiny_entries["covariates"], tiny_entries["covariates_daily"]
    rows, cols, region = _window(tiny_entries)
    absent = [c for c in patterns.PATTERNS if c not in cov.attrs["patterns_present"]]
    dates = pd.date_range("2018-06-01", periods=2)
    for code in absent:
        with pytest.raises(ValueError, match="this world has"):
            ps.predict_region(net, cov, daily, rows, cols, region, dates, "0-10cm", code)
    with pytest.raises(ValueError, match="no cropland"):
        ps.predict_region(net, cov, daily, rows, cols, np.zeros_like(region), dates, "0-10cm")


SINGLE = network.SINGLE_SETTING


def test_train_network_pipeline_trains_networks_and_reduced_ones(tiny_world, tmp_path):
    from cropsm.io.models import read_card
    from cropsm.pipelines.network import TrainedNetwork, train_network

    _, catalog, _ = tiny_world
    trained = train_network(catalog, tmp_path, grid=SINGLE, omit=["soil"])
    assert [type(n) for n in trained] == [TrainedNetwork, TrainedNetwork]
    assert [n.name for n in trained] == ["network", "network without soil"]
    assert trained[0].path == network_path(tmp_path)
    assert list(trained[0].rows_per_layer) == list(crops.SOIL_LAYERS)
    card = read_card(network_path(tmp_path))
    assert list(card["layers"]) == list(crops.SOIL_LAYERS)
    assert set(card["scores"]["0-10cm"]) >= {"r2_train", "held_out"}
    assert card["scores"]["0-10cm"]["held_out"] == pytest.approx(
        trained[0].scores["0-10cm"]["held_out"], nan_ok=True)
    reduced = load_network(network_path(tmp_path, "soil"))
    assert "sand" not in reduced.layers["0-10cm"].features
    # the same inputs and settings: nothing to do (another grid would retrain)
    assert train_network(catalog, tmp_path, grid=SINGLE, if_missing=True) == []


def test_compare_pipeline_writes_the_report_and_saves_the_split_network(tiny_world, tmp_path):
    import json

    from cropsm.pipelines.network import MethodComparison, compare_methods

    _, catalog, _ = tiny_world
    stages = []
    result = compare_methods(catalog, tmp_path / "report", tmp_path / "models", grid=SINGLE,
                             folds=2, schemes=["station_blocked"], control=False,
                             progress=stages.append)
    assert isinstance(result, MethodComparison)
    assert stages[0] == "started" and "station-blocked scored" in stages
    report = json.loads((tmp_path / "report" / "network_comparison.json").read_text())
    assert list(report) == list(result.report) and report["rows"][0] == pytest.approx(
        result.report["rows"][0], nan_ok=True)
    assert {r["scheme"] for r in report["rows"]} == {"random_70_30", "station_blocked"}
    assert "control_experiments" not in report and report["seconds"] > 0
    text = (tmp_path / "report" / "network_comparison.md").read_text()
    assert text == result.markdown
    assert "Station-blocked" in text and "Zone-blocked" not in text
    net = load_network(network_path(tmp_path / "models"))
    assert list(net.layers) == list(crops.SOIL_LAYERS)


def test_halving_search_is_scikit_learns_successive_halving(tables):
    from sklearn.experimental import enable_halving_search_cv  # noqa: F401
    from sklearn.model_selection import HalvingGridSearchCV
    from sklearn.neural_network import MLPRegressor

    tables, _ = tables
    table = tables["0-10cm"]
    x = table[list(network.NETWORK_FEATURES)].to_numpy("f4")
    y = table["sm"].to_numpy("f4")
    grid = {"batch_size": [64, 256, 1024], "learning_rate_init": [0.001, 0.01, 0.05],
            "n_hidden": [1], "units": [8]}
    best, scores = network._halving_search(x, y, grid, seed=0, n_jobs=None)
    rounds = pd.DataFrame([{**s["params"], **s} for s in scores])
    # 9 settings, then the best 3, then the best one, on three times the rows each round
    assert rounds.groupby("round").size().tolist() == [9, 3, 1]
    rows = rounds.groupby("round")["fit_rows"].first().to_numpy()
    np.testing.assert_allclose(rows[1:] / rows[:-1], 3, rtol=0.01)
    fit_idx, val_idx = network._split(len(y), 0)
    assert 0.98 * fit_idx.size < rows[-1] <= fit_idx.size  # all but the rounding of 1/9
    last = rounds[rounds["round"] == 2].iloc[0]
    assert best == {k: last[k] for k in ("batch_size", "learning_rate_init", "n_hidden",
                                         "units")}
    # the same search written directly against scikit-learn, on the same rows
    order = np.concatenate([fit_idx, val_idx])
    reference = HalvingGridSearchCV(
        network._make(best, 0).set_params(regressor__mlpregressor=MLPRegressor(
            random_state=0, **network._FIXED)),
        {"regressor__mlpregressor__batch_size": grid["batch_size"],
         "regressor__mlpregressor__learning_rate_init": grid["learning_rate_init"],
         "regressor__mlpregressor__hidden_layer_sizes": [(8,)]},
        factor=3, cv=[(np.arange(fit_idx.size), np.arange(fit_idx.size, len(y)))],
        scoring="neg_mean_squared_error", refit=False, random_state=0,
    ).fit(x[order], y[order])
    chosen = reference.best_params_
    assert best["batch_size"] == chosen["regressor__mlpregressor__batch_size"]
    assert best["learning_rate_init"] == chosen["regressor__mlpregressor__learning_rate_init"]
    np.testing.assert_allclose(sorted(s["validation_mse"] for s in scores),
                               sorted(-reference.cv_results_["mean_test_score"]), rtol=1e-5)


def test_default_grid_holds_every_setting_of_liu_table_2():
    from sklearn.model_selection import ParameterGrid

    grid = list(ParameterGrid(network.SEARCH_GRID))
    assert len(grid) == 240
    for layer, picked in network.LIU_TABLE_2.items():
        assert picked in grid, layer


def test_a_single_setting_is_not_searched_and_unknown_search_is_refused(tables):
    tables, _ = tables
    net = network.fit_network({"0-10cm": tables["0-10cm"]}, grid=SMALL)
    info = net.layers["0-10cm"].info
    assert info["search"] == [] and info["search_method"] == "none"
    assert info["params"] == {k: v[0] for k, v in SMALL.items()}
    with pytest.raises(ValueError, match="Unknown search 'random'; choose one of halving"):
        network.fit_network(tables, grid=SMALL, search="random")


def test_the_command_lines_constants_equal_the_librarys():
    # the CLI keeps copies so that --help starts without scikit-learn
    from cropsm.cli.network import _SEARCHES, regions
    from cropsm.nn.pattern_regions import DEFAULT_STRIDE

    assert set(_SEARCHES) == set(network.SEARCHES)
    stride = next(p for p in regions.params if p.name == "stride")
    assert stride.default == DEFAULT_STRIDE
