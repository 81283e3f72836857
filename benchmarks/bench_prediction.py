"""Benchmarks of the gridded prediction engine (issue 4), each side by side in one process.

Run after ``make run`` has built the demo world and trained its models::

    .venv/bin/python benchmarks/bench_prediction.py [--rows 1000000]

Every line prints a ratio against a baseline measured on the same input: scikit-learn's
``predict(n_jobs=-1)`` for inference, inference alone for the end-to-end rate, one
worker for scaling, the time-series layout for reads. Times are the best of ``--repeat``.
"""

from __future__ import annotations

import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from common import best, line, model_parser  # noqa: E402

from cropsm.core import crops  # noqa: E402
from cropsm.io.catalog import entry_path, open_catalog, read_entry  # noqa: E402
from cropsm.io.models import model_path, read_card  # noqa: E402
from cropsm.io.product import SM_FILL, ProductStore, encode_sm  # noqa: E402
from cropsm.rf.features import BASE_FEATURES, FEATURES, features_at  # noqa: E402
from cropsm.serve import engine  # noqa: E402
from cropsm.serve.models import load_model  # noqa: E402
from cropsm.serve.predict import COVARIATES, ServingModel, cropland, predict_window  # noqa: E402
from cropsm.serve.serving_forest import ServingForest, sklearn_forest_nbytes  # noqa: E402

CROP, DEPTH = "wheat", "0-10cm"
DATES = pd.date_range("2018-05-01", periods=8)


def busiest_tiles(cov: xr.Dataset, n: int) -> list[tuple[int, int, int, int]]:
    cells = cropland(cov, CROP)
    tiles = list(engine._tiles(cells.shape))
    counts = [cells[t[0]:t[1], t[2]:t[3]].sum() for t in tiles]
    return [tiles[i] for i in np.argsort(counts)[::-1][:n]]


def forest_matrix(table: pd.DataFrame) -> np.ndarray:
    """The forest's input matrix of base-feature rows, CIR left at 0 for the classifier."""
    x = np.zeros((len(table), len(FEATURES)), np.float32)
    for name in BASE_FEATURES:
        x[:, FEATURES.index(name)] = table[name].to_numpy()
    return x


def grid_rows(cov, daily, tiles, n_rows: int) -> np.ndarray:
    """Real feature rows: cropland cells of the busiest tiles, in season, day after day."""
    rows = []
    total = 0
    for y0, y1, x0, x1 in tiles:
        window = cov.isel(y=slice(y0, y1), x=slice(x0, x1)).load()
        mask = cropland(window, CROP)
        rr, cc = np.nonzero(mask)
        for day in pd.date_range("2018-04-01", periods=30):
            rows.append(forest_matrix(features_at(window, daily, rr, cc, [day] * rr.size)))
            total += rr.size
            if total >= n_rows:
                return np.concatenate(rows)[:n_rows]
    return np.concatenate(rows)


def bench_inference(model, X: np.ndarray, repeat: int) -> None:
    regressor, classifier = model.regressor, model.classifier
    serving = ServingForest.from_sklearn(regressor)
    base_columns = [FEATURES.index(f) for f in BASE_FEATURES]
    serving_cls = ServingForest.from_sklearn(classifier, base_columns, len(FEATURES))
    serving.predict(X[:64], quantiles=(0.1, 0.9))
    serving_cls.predict(X[:64])
    regressor.set_params(n_jobs=-1)
    classifier.set_params(n_jobs=-1)
    t_sk, ref = best(lambda: regressor.predict(X), repeat)
    t_ours, ours = best(lambda: serving.predict(X), repeat)
    diff = float(np.abs(ours - ref).max())
    line(f"regressor: inference vs sklearn predict(n_jobs=-1), {len(X):,} rows",
         t_sk / t_ours, diff == 0.0, f">= 5, max |diff| {diff:.1e} (goal 0)")
    regressor.set_params(n_jobs=1)
    serial = regressor.predict(X)
    regressor.set_params(n_jobs=-1)
    line("regressor: max |diff| vs sklearn predict(n_jobs=1) (trees summed in order)",
         "-", bool(np.array_equal(ours, serial)), f"{np.abs(ours - serial).max():.1e}")
    again = regressor.predict(X)
    line("  sklearn n_jobs=-1 vs its own n_jobs=1 (threads add trees in any order)", "-",
         "-", f"{np.abs(again - serial).max():.1e}")
    base = np.ascontiguousarray(X[:, base_columns])
    t_skc, ref_c = best(lambda: classifier.predict(base), repeat)
    t_oursc, ours_c = best(lambda: serving_cls.predict(X), repeat)
    line("classifier (CIR): inference vs sklearn predict(n_jobs=-1)", t_skc / t_oursc,
         bool(np.array_equal(ref_c, ours_c)), ">= 5, labels identical")

    def sklearn_band():
        per_tree = np.stack([tree.predict(X) for tree in regressor.estimators_])
        return np.quantile(per_tree, [0.1, 0.9], axis=0)

    t_skq, band = best(sklearn_band, 1)
    t_oq, (_, low, high) = best(lambda: serving.predict(X, quantiles=(0.1, 0.9)), repeat)
    exact = bool(np.array_equal(band[0], low) and np.array_equal(band[1], high))
    line("regressor + 10/90 % per-tree band: ours (one pass) vs sklearn per tree + "
         "np.quantile", t_skq / t_oq, exact, "identical band")
    for name, forest, ours_form in (("regressor", regressor, serving),
                                    ("classifier", classifier, serving_cls)):
        share = ours_form.nbytes / sklearn_forest_nbytes(forest)
        line(f"memory: serving form / sklearn tree arrays ({name}, "
             f"{ours_form.nbytes / 1e6:.0f} MB vs {sklearn_forest_nbytes(forest) / 1e6:.0f} MB)",
             share, share <= 0.25, "<= 0.25")


def bench_end_to_end(serving: ServingModel, cov, daily, tiles, repeat: int) -> float:
    """Pixel-days per second of a whole map task vs the model calls alone on its rows."""
    window = [cov[list(COVARIATES)].isel(y=slice(t[0], t[1]), x=slice(t[2], t[3]))
              .load() for t in tiles]
    n_cells = 0
    with tempfile.TemporaryDirectory(dir=ROOT / "data") as tmp:
        store = ProductStore.create(Path(tmp) / "p.zarr", cov, DATES, {})

        def whole_task():
            nonlocal n_cells
            n_cells = 0
            for w, (y0, y1, x0, x1) in zip(window, tiles, strict=True):
                out = predict_window(serving, w, daily, DATES)
                n_cells += int(out["predicted"].sum())
                index = (slice(0, 1), slice(0, 1), slice(0, len(DATES)), slice(y0, y1),
                         slice(x0, x1))
                for name in ("sm", "sm_q10", "sm_q90"):
                    store.write(".", name, index, encode_sm(out[name])[None, None])
                for name in ("cir", "aoa"):
                    store.write(".", name, index, out[name][None, None])
            return n_cells

        predict_window(serving, window[0].isel(y=slice(0, 20), x=slice(0, 20)), daily, DATES)
        t_all, _ = best(whole_task, repeat)
    rows = []
    for w in window:
        out = predict_window(serving, w, daily, DATES)
        t, r, c = np.nonzero(out["predicted"])
        rows.append(forest_matrix(features_at(w, daily, r, c, DATES[t])))
    X = np.concatenate(rows)
    t_inf, _ = best(lambda: serving.predict_rows(X.copy()), repeat)
    rate = n_cells / t_all
    line(f"end to end (features + CIR + SM + band + AOA + Zarr write): "
         f"{rate / 1e6:.2f} M pixel-days/s", (n_cells / t_all) / (len(X) / t_inf),
         (n_cells / t_all) / (len(X) / t_inf) >= 0.7, "share of inference alone >= 0.7")
    return rate


def bench_scaling(plan_args: dict, workers: int) -> float:
    """Wall time of one run on an already started cluster of ``workers`` processes."""
    from distributed import LocalCluster

    with tempfile.TemporaryDirectory(dir=ROOT / "data") as tmp, \
            LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                         dashboard_address=None) as cluster:
        plan = engine.plan_run(**plan_args, target=Path(tmp) / "sm.zarr")
        t0 = time.perf_counter()
        engine.run(plan, scheduler=cluster.scheduler_address)
        return time.perf_counter() - t0


def bench_chunking(repeat: int) -> None:
    """Map reads and pixel series reads from the two layouts of the store."""
    import zarr

    size, days = 1024, 365
    rng = np.random.default_rng(0)
    field = np.cumsum(np.cumsum(rng.normal(size=(size, size)), 0), 1)
    field = 0.15 + 0.1 * (field - field.min()) / np.ptp(field)
    with tempfile.TemporaryDirectory(dir=ROOT / "data") as tmp:
        layouts = {"map (1 x 512 x 512)": (1, 512, 512), "series (365 x 32 x 32)": (365, 32, 32)}
        arrays = {}
        for name, chunks in layouts.items():
            arrays[name] = zarr.create_array(f"{tmp}/{chunks[0]}.zarr", shape=(days, size, size),
                                             chunks=chunks, dtype="u2", fill_value=SM_FILL)
        for t0 in range(0, days, 73):
            seasonal = 0.05 * np.sin(np.arange(t0, t0 + 73) / 58.0)[:, None, None]
            noise = rng.normal(0, 0.005, (73, size, size))
            block = encode_sm(field[None] + seasonal + noise)
            for arr in arrays.values():
                arr[t0:t0 + 73] = block
        for name, arr in arrays.items():
            t_map, _ = best(lambda arr=arr: arr[200], repeat)
            t_series, _ = best(lambda arr=arr: arr[:, 517, 301], repeat)
            line(f"read one day {size}x{size} / one pixel-year, {name}: "
                 f"{t_map * 1e3:.0f} ms / {t_series * 1e3:.1f} ms", t_map / t_series, "-",
                 "map ms / series ms")


def main() -> None:
    parser = model_parser(__doc__)
    parser.add_argument("--only", nargs="*", default=["inference", "scaling", "chunking"],
                        help="Parts to run besides end to end and cost.")
    args = parser.parse_args()
    print(f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores; python "
          f"{platform.python_version()}; date {time.strftime('%Y-%m-%d')}")
    print(f"{'benchmark':78s} {'ratio':>8s}  {'ok':5s} target")
    cat = open_catalog(args.catalog)
    cov, daily = read_entry("covariates", cat), read_entry("covariates_daily", cat)
    path = model_path(args.models, CROP, DEPTH)
    model = load_model(path, CROP, DEPTH)
    tiles = busiest_tiles(cov, 6)
    serving = ServingModel.from_model(model, read_card(path)["sha256"])
    if "inference" in args.only:
        bench_inference(model, grid_rows(cov, daily, tiles, args.rows), args.repeat)
    rate = bench_end_to_end(serving, cov, daily, tiles[:2], max(1, args.repeat - 1))

    plan_args = dict(covariates=cov, daily=daily, covariates_path=entry_path(cat, "covariates"),
                     daily_path=entry_path(cat, "covariates_daily"), start=DATES[0],
                     end=DATES[0] + pd.Timedelta(days=15), models={(CROP, DEPTH): serving},
                     overwrite=True)
    if "scaling" in args.only:
        one = bench_scaling(plan_args, 1)
        two = bench_scaling(plan_args, 2)
        n_tiles = len(engine.plan_run(**plan_args, target=ROOT / "data" / "unused.zarr").tiles[
            (CROP, DEPTH)])
        line(f"scaling: national {CROP}/{DEPTH}, 16 days ({n_tiles} tiles): 1 worker "
             f"{one:.0f} s, 2 workers {two:.0f} s", one / two, one / two >= 1.8, ">= 1.8")

    cells = cropland(cov, CROP)
    days = pd.date_range("2018-01-01", "2018-12-31")
    season = 0
    for y0, y1, x0, x1 in engine._tiles(cells.shape):
        tile = cells[y0:y1, x0:x1]
        if tile.any():
            in_season = crops.in_season(CROP, days,
                                        cov["sowing"].sel(crop=CROP).values[y0:y1, x0:x1],
                                        cov["eos"].sel(crop=CROP).values[y0:y1, x0:x1])
            season += int((in_season & tile).sum())
    seconds = season / rate
    line(f"cost: one product-year ({CROP}/{DEPTH}, {cells.sum() / 1e6:.2f} M cells, "
         f"{season / 1e6:.0f} M in-season pixel-days): {seconds / 3600:.2f} h on 2 cores "
         f"(~{seconds * os.cpu_count() / 3600:.2f} h per 1-core worker)", "-", "-",
         "estimate from the end-to-end rate")
    if "chunking" in args.only:
        bench_chunking(args.repeat)


if __name__ == "__main__":
    main()
