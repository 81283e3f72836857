"""Gridded prediction: equal to scikit-learn per cell, resumable, the same on any scheduler."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from click.testing import CliRunner
from servers import wait_until

from cropsm.cli import main
from cropsm.core import crops
from cropsm.io.catalog import open_catalog, read_entry
from cropsm.io.models import model_path, read_card
from cropsm.io.product import open_product, product_versions
from cropsm.rf.applicability import SITE_FEATURES, fit_applicability
from cropsm.rf.features import BASE_FEATURES, FEATURES, features_at
from cropsm.rf.model import fit_model, training_table
from cropsm.serve import engine
from cropsm.serve.models import load_model
from cropsm.serve.predict import PredictError, ServingModel, coarsen_mean, predict_window

START, END = "2018-05-01", "2018-05-12"


def _files(store: Path) -> dict[str, bytes]:
    store = store.resolve()
    return {str(p.relative_to(store)): p.read_bytes() for p in sorted(store.rglob("*"))
            if p.is_file() and ".cropsm-progress" not in p.parts}


def _serving(models: Path, crop="wheat", depth="0-10cm") -> ServingModel:
    path = model_path(models, crop, depth)
    return ServingModel.from_model(load_model(path, crop, depth), read_card(path)["sha256"])


def _plan(tiny_entries, catalog, models, out, selection=(("wheat", "0-10cm"),), **kw):
    cat = open_catalog(catalog)
    from cropsm.io.catalog import entry_path

    return engine.plan_run(tiny_entries["covariates"], tiny_entries["covariates_daily"],
                           entry_path(cat, "covariates"), entry_path(cat, "covariates_daily"),
                           out, kw.pop("start", START), kw.pop("end", END),
                           {s: _serving(models, *s) for s in selection}, **kw)


def test_predict_window_equals_sklearn_at_every_cell(tiny_entries, tiny_models):
    serving = _serving(tiny_models, "maize", "10-20cm")
    model = load_model(model_path(tiny_models, "maize", "10-20cm"))
    cov = tiny_entries["covariates"].isel(y=slice(40, 140), x=slice(30, 120)).load()
    dates = pd.date_range("2018-06-20", periods=5)
    out = predict_window(serving, cov, tiny_entries["covariates_daily"], dates)
    t, rows, cols = np.nonzero(out["predicted"])
    assert t.size > 1000
    table = features_at(cov, tiny_entries["covariates_daily"], rows, cols, dates[t])
    # the reference: scikit-learn's classifier, then its regressor on the predicted CIR
    cir = model.classifier.predict(table[list(BASE_FEATURES)].to_numpy("f4"))
    X = table[list(BASE_FEATURES)].copy()
    X.insert(FEATURES.index("CIR"), "CIR", cir.astype("f4"))
    X = X[list(FEATURES)].to_numpy("f4")
    np.testing.assert_array_equal(out["cir"][t, rows, cols], cir)
    np.testing.assert_array_equal(out["sm"][t, rows, cols], model.regressor.predict(X))
    per_tree = np.stack([tree.predict(X) for tree in model.regressor.estimators_])
    np.testing.assert_array_equal(out["sm_q10"][t, rows, cols], np.quantile(per_tree, 0.1, 0))
    np.testing.assert_array_equal(out["sm_q90"][t, rows, cols], np.quantile(per_tree, 0.9, 0))
    # outside cropland or outside the season nothing is predicted
    cropland = cov["crop_fraction"].sel(crop="maize").fillna(0).values >= 0.1
    assert not out["predicted"][:, ~cropland].any()
    assert np.isnan(out["sm"][~out["predicted"]]).all()
    assert set(np.unique(out["aoa"][out["predicted"]])) <= {0, 1}


def test_out_of_season_days_are_not_predicted(tiny_entries, tiny_models):
    serving = _serving(tiny_models, "maize", "0-10cm")
    cov = tiny_entries["covariates"].isel(y=slice(0, 50), x=slice(0, 50)).load()
    out = predict_window(serving, cov, tiny_entries["covariates_daily"],
                         pd.date_range("2018-01-10", periods=2))  # no maize in January
    assert not out["predicted"].any()


def test_coarsen_mean_matches_xarray():
    rng = np.random.default_rng(0)
    values = rng.random((2, 37, 45))
    values[values < 0.4] = np.nan
    ours = coarsen_mean(values, 4)
    ref = xr.DataArray(values, dims=("t", "y", "x")).coarsen(y=4, x=4, boundary="pad").mean()
    np.testing.assert_allclose(ours, ref.values, rtol=1e-12)


def test_applicability_matches_brute_force(tiny_entries):
    cat_table = training_table(tiny_entries["covariates"], tiny_entries["covariates_daily"],
                               tiny_entries["stations"], tiny_entries["station_meta"],
                               "wheat", "0-10cm")
    importances = np.linspace(1, 2, len(FEATURES))
    ref = fit_applicability(cat_table, importances)
    site = cat_table[list(SITE_FEATURES)].to_numpy("f8")
    rng = np.random.default_rng(1)
    probe = site[rng.integers(0, len(site), 50)] + rng.normal(0, 0.3, (50, len(SITE_FEATURES)))
    scaled = (probe - ref.center) * ref.scale
    brute = np.sqrt(((scaled[:, None] - ref.sites[None]) ** 2).sum(-1)).min(1)
    np.testing.assert_allclose(ref.dissimilarity(probe), brute / ref.mean_distance)
    # training sites are inside; a site far away is not
    assert ref.inside(cat_table[list(FEATURES)].to_numpy("f4")).mean() > 0.8
    far = cat_table[list(FEATURES)].to_numpy("f4")[:1].copy()
    far[0, FEATURES.index("lat")] += 15
    assert not ref.inside(far)[0]


def test_local_cluster_run_equals_in_process_run(tiny_entries, product_catalog, tiny_models,
                                                 tmp_path):
    selection = (("wheat", "0-10cm"), ("maize", "10-20cm"))
    in_process = engine.run(_plan(tiny_entries, product_catalog, tiny_models,
                                  tmp_path / "a" / "sm.zarr", selection), workers=0)
    cluster = engine.run(_plan(tiny_entries, product_catalog, tiny_models,
                               tmp_path / "b" / "sm.zarr", selection), workers=2)
    assert _files(in_process) == _files(cluster)
    ds = open_product(tmp_path / "b" / "sm.zarr")
    assert ds["sm"].sel(crop="wheat", depth="0-10cm").notnull().any()
    assert ds["sm"].sel(crop="wheat", depth="10-20cm").isnull().all()  # not requested
    series = open_product(tmp_path / "b" / "sm.zarr", "series")
    xr.testing.assert_identical(series["sm"].load(), ds["sm"].load())
    overview = open_product(tmp_path / "b" / "sm.zarr", 4)["sm"].load()
    np.testing.assert_allclose(overview.values, coarsen_mean(ds["sm"].values, 4), atol=6e-5)
    assert set(product_versions(tmp_path / "b" / "sm.zarr")) == {"wheat/0-10cm",
                                                                  "maize/10-20cm"}


def test_killed_worker_gives_the_same_store(tiny_entries, product_catalog, tiny_models,
                                            tmp_path):
    from distributed import Client, LocalCluster

    clean = engine.run(_plan(tiny_entries, product_catalog, tiny_models,
                             tmp_path / "clean" / "sm.zarr", end="2018-05-31"), workers=0)
    plan = _plan(tiny_entries, product_catalog, tiny_models, tmp_path / "chaos" / "sm.zarr",
                 end="2018-05-31")
    progress = plan.partial / ".cropsm-progress"
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        pids = client.run(os.getpid)  # worker address -> process id
        killed = {}

        def busy_worker():
            """Once a map task has finished, a worker holding another map task."""
            if not any(progress.glob("map-*")):
                return None
            return next(((address, key) for address, keys in client.processing().items()
                         for key in keys if str(key).startswith("map-")), None)

        def kill_a_busy_worker():
            try:
                address, key = wait_until(busy_worker, 120, "a worker busy with a map task "
                                          "after the first one finished", interval=0.01)
                killed.update(task=key, done=len(list(progress.glob("map-*"))))
                os.kill(pids[address], signal.SIGKILL)
            except Exception as err:  # reported by the test's thread
                killed["error"] = err

        killer = threading.Thread(target=kill_a_busy_worker)
        killer.start()
        chaos = engine.run(plan, scheduler=cluster.scheduler_address)
        killer.join()
    assert "task" in killed, killed.get("error")  # a worker died holding a map task
    assert _files(chaos) == _files(clean)
    print(f"\nworker killed holding {killed['task']} after {killed['done']} of 8 map tasks: "
          f"{len(_files(clean))} store files byte-identical to a clean run")


def test_interrupted_cli_run_resumes_byte_identical(product_catalog, tiny_models, tmp_path):
    args = ["predict", "--catalog", str(product_catalog), "--models", str(tiny_models),
            "--start", START, "--end", "2018-06-30", "--workers", "0", "--quiet"]
    clean = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "clean.zarr")])
    assert clean.exit_code == 0, clean.output
    target = product_catalog.parent / "data" / "soil_moisture.zarr"
    proc = subprocess.Popen([sys.executable, "-m", "cropsm.cli", *args],
                            start_new_session=True)
    versions = target.parent / ".versions"
    try:
        wait_until(lambda: len(list(versions.glob("*.partial-*/.cropsm-progress/map-*"))) >= 3,
                   120, "3 map tasks of the writer done", interval=0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert not target.exists()  # nothing published, so the catalog entry never opens half
    done = len(list(versions.glob("*.partial-*/.cropsm-progress/map-*")))
    assert done >= 3
    resumed = CliRunner().invoke(main, args)
    assert resumed.exit_code == 0, resumed.output
    assert _files(target) == _files(tmp_path / "clean.zarr")
    print(f"\nwriter killed after {done} map tasks, then resumed: "
          f"{len(_files(target))} store files byte-identical to a clean run; "
          "nothing was published before the run completed")
    assert not list(versions.glob("*.partial-*"))
    cat = open_catalog(product_catalog)
    sm = read_entry("soil_moisture", cat)
    assert sm["sm"].sel(crop="maize", depth="10-20cm").notnull().any()
    series = read_entry("soil_moisture_series", cat)
    assert series["sm"].chunks[2][0] >= sm.sizes["time"]  # one chunk holds the whole period
    xr.testing.assert_identical(series["sm"].load(), sm["sm"].load())


def test_region_run_into_existing_store_keeps_the_rest(tiny_entries, product_catalog,
                                                       tiny_models, tmp_path):
    target = tmp_path / "p" / "sm.zarr"
    first = engine.run(_plan(tiny_entries, product_catalog, tiny_models, target,
                             end="2018-06-25"), workers=0)
    before = _files(first)
    box = (116.0, 39.0, 116.6, 39.6)
    from shapely.geometry import box as make_box

    from cropsm.io.assets import read_boundary

    mask = engine.region_of(make_box(*box), tiny_entries["covariates"], read_boundary())
    second = engine.run(_plan(tiny_entries, product_catalog, tiny_models, target,
                              selection=(("wheat", "0-10cm"), ("maize", "0-10cm")),
                              start="2018-06-20", end="2018-06-21", region=mask), workers=0)
    assert _files(first) == before  # the published base was hard-linked, never changed
    old, new = open_product(first).load(), open_product(second).load()
    wheat_old = old["sm"].sel(crop="wheat", depth="0-10cm")
    wheat_new = new["sm"].sel(crop="wheat", depth="0-10cm")
    xr.testing.assert_identical(wheat_new.where(~mask), wheat_old.where(~mask))
    xr.testing.assert_identical(wheat_new, wheat_old)  # same model, same values
    maize = new["sm"].sel(crop="maize", depth="0-10cm")
    assert maize.sel(time="2018-06-20").where(mask).notnull().any()
    assert maize.sel(time="2018-06-20").where(~mask).isnull().all()
    assert maize.sel(time="2018-06-22").isnull().all()
    assert set(product_versions(second)) == {"wheat/0-10cm", "maize/0-10cm"}


@pytest.mark.parametrize("kw, message", [
    ({"start": "2030-01-01", "end": "2030-01-05"}, "Choose dates in that range"),
    ({"start": "2018-05-09", "end": "2018-05-01"}, "before the start"),
    ({"start": "not a date"}, "Dates must look like"),
])
def test_bad_dates_fail_before_any_work(tiny_entries, product_catalog, tiny_models, tmp_path,
                                        kw, message):
    with pytest.raises(PredictError, match=message):
        _plan(tiny_entries, product_catalog, tiny_models, tmp_path / "x.zarr", **kw)
    assert not (tmp_path / ".versions").exists()


@pytest.mark.parametrize("args, message", [
    (["--bbox", "110,30,111,31"], "covers no cell of the data"),  # in China, not in the data
    (["--bbox", "-10,40,-5,45"], "outside mainland China"),
    (["--bbox", "116,39,116,40"], "empty or not in degrees"),
    (["--region", "Atlantis"], "No province called"),
    (["--start", "2030-01-01", "--end", "2030-01-02"], "Choose dates"),
])
def test_cli_bad_requests_are_one_line_errors(product_catalog, tiny_models, args, message):
    res = CliRunner().invoke(main, ["predict", "--catalog", str(product_catalog), "--models",
                                    str(tiny_models), "--crop", "wheat", "--depth", "0-10cm",
                                    "--workers", "0", "--quiet", *args])
    assert res.exit_code == 1, res.output
    assert message in res.output and "Traceback" not in res.output
    assert not (product_catalog.parent / "data" / ".versions").exists()


def test_mismatched_model_is_refused(product_catalog, tiny_models, tmp_path):
    wrong = tmp_path / "models"
    wrong.mkdir()
    for suffix in (".skops", ".card.json"):  # a maize model under the wheat file name
        src = model_path(tiny_models, "maize", "0-10cm").with_suffix(suffix)
        (wrong / model_path(wrong, "wheat", "0-10cm").with_suffix(suffix).name).write_bytes(
            src.read_bytes())
    res = CliRunner().invoke(main, ["predict", "--catalog", str(product_catalog), "--models",
                                    str(wrong), "--crop", "wheat", "--depth", "0-10cm",
                                    "--workers", "0", "--quiet"])
    assert res.exit_code == 1 and "is for maize/0-10cm, not wheat/0-10cm" in res.output


def test_other_model_version_needs_overwrite(tiny_entries, product_catalog, tiny_models,
                                             tmp_path):
    target = tmp_path / "sm.zarr"
    engine.run(_plan(tiny_entries, product_catalog, tiny_models, target,
                     end="2018-05-02"), workers=0)
    table = training_table(tiny_entries["covariates"], tiny_entries["covariates_daily"],
                           tiny_entries["stations"], tiny_entries["station_meta"], "wheat",
                           "0-10cm")
    other = ServingModel.from_model(fit_model(table, "wheat", "0-10cm", seed=99, n_jobs=1),
                                    "0" * 64)
    cat = open_catalog(product_catalog)
    from cropsm.io.catalog import entry_path

    args = (tiny_entries["covariates"], tiny_entries["covariates_daily"],
            entry_path(cat, "covariates"), entry_path(cat, "covariates_daily"), target,
            START, "2018-05-02", {("wheat", "0-10cm"): other})
    with pytest.raises(PredictError, match="mixing versions in one store is refused"):
        engine.plan_run(*args)
    plan = engine.plan_run(*args, overwrite=True)
    engine.run(plan, workers=0)
    assert product_versions(target) == {"wheat/0-10cm": "0" * 64}
    with pytest.raises(PredictError, match="not inside it"):
        engine.plan_run(*args[:5], "2018-05-01", "2018-05-09", {("wheat", "0-10cm"): other})


def test_demo_profile_period_is_in_season(tiny_entries):
    from cropsm.demo.profiles import PROFILES

    for profile in PROFILES.values():
        dates = pd.date_range(*profile.prediction_period)
        cov = tiny_entries["covariates"]
        for crop in crops.CROPS:
            season = crops.in_season(crop, dates, cov["sowing"].sel(crop=crop).values,
                                     cov["eos"].sel(crop=crop).values)
            assert season.any()


@pytest.mark.parametrize("memory", [False, True])
def test_a_task_s_cached_daily_covariates_cover_its_days_and_their_look_back(tiny_world,
                                                                              memory):
    """Blocks anywhere on the axis, across a stored chunk's edge too, get their rain."""
    from cropsm.rf.features import ANTECEDENT_DAYS
    from cropsm.rf.memory import MemoryParams

    path = str(tiny_world[0] / "weather.zarr")
    daily = engine._open(path)
    reach = MemoryParams().reach_days if memory else ANTECEDENT_DAYS
    axis = pd.DatetimeIndex(daily["time"].values)
    length = engine._time_chunk(daily)
    assert length < len(axis)  # the store has several chunks: edges are crossed
    starts = [s for s in (axis[length - 2], axis[length + 2], axis[2 * length - 2], axis[-4])
              if s >= axis[reach]]  # earlier days are refused when the run is planned
    assert len(starts) >= 2
    for start in starts:
        dates = pd.date_range(start, min(start + pd.Timedelta(days=3), axis[-1]))
        cached = engine._daily_for(path, dates, memory)
        span = pd.DatetimeIndex(cached["time"].values)
        assert span[0] <= dates[0] - pd.Timedelta(days=reach) and span[-1] >= dates[-1]
        assert cached["pre"].dtype == np.float32
        window = daily["pre"].sel(time=slice(span[0], span[-1])).values
        assert np.array_equal(cached["pre"].values, window.astype("f4"))
