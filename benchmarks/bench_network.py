"""Benchmarks of the multilayer network (issue 9), side by side with the forest's engine.

Run after ``make run`` and ``cropsm network train`` on the demo world::

    .venv/bin/python benchmarks/bench_network.py [--rows 1000000]

* inference on the same 1 M real grid rows (cropland cells of the busiest wheat tiles,
  April 2018): the network's top layer, its five-layer chain, and the forest's fast
  engine (:class:`cropsm.serve.serving_forest.ServingForest`) and scikit-learn's ``predict``;
* a pattern scenario (reference product over every pattern + one pattern) on a
  100 x 100 km region x 90 days.

Ratios are baseline time / measured time (> 1: faster than the baseline).
"""

from __future__ import annotations

import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_prediction import busiest_tiles, forest_matrix  # noqa: E402
from common import best, line, model_parser  # noqa: E402

from cropsm.io.catalog import open_catalog, read_entry  # noqa: E402
from cropsm.io.models import model_path, network_path  # noqa: E402
from cropsm.nn import network  # noqa: E402
from cropsm.nn import pattern_scenarios as ps  # noqa: E402
from cropsm.rf.features import features_at as forest_features_at  # noqa: E402
from cropsm.serve.models import load_model, load_network  # noqa: E402
from cropsm.serve.predict import cropland  # noqa: E402
from cropsm.serve.serving_forest import ServingForest  # noqa: E402

DAYS = pd.date_range("2018-04-01", periods=30)


def real_rows(cov, daily, n_rows: int) -> tuple[pd.DataFrame, np.ndarray]:
    """The same (cell, day) samples as network inputs and as forest inputs."""
    nets, forests, total = [], [], 0
    for y0, y1, x0, x1 in busiest_tiles(cov, 6):
        window = cov.isel(y=slice(y0, y1), x=slice(x0, x1)).load()
        rr, cc = np.nonzero(cropland(window, "wheat"))
        for day in DAYS:
            nets.append(network.features_at(window, daily, rr, cc, [day] * rr.size))
            forests.append(forest_matrix(forest_features_at(window, daily, rr, cc,
                                                            [day] * rr.size)))
            total += rr.size
            if total >= n_rows:
                return (pd.concat(nets, ignore_index=True).iloc[:n_rows],
                        np.concatenate(forests)[:n_rows])
    return pd.concat(nets, ignore_index=True), np.concatenate(forests)


def bench_inference(net, forest_model, x_net: pd.DataFrame, x_forest: np.ndarray,
                    repeat: int) -> None:
    regressor = forest_model.regressor
    serving = ServingForest.from_sklearn(regressor)
    serving.predict(x_forest[:64])
    regressor.set_params(n_jobs=-1)
    t_engine, _ = best(lambda: serving.predict(x_forest), repeat)
    t_sklearn, _ = best(lambda: regressor.predict(x_forest), repeat)
    t_top, _ = best(lambda: net.predict(x_net, upto="0-10cm"), repeat)
    t_chain, _ = best(lambda: net.predict(x_net), repeat)
    n = len(x_net)
    line(f"network 0-10cm vs forest fast engine, {n:,} rows ({t_top:.2f} s vs "
         f"{t_engine:.2f} s)", t_engine / t_top, "-", "engine s / network s")
    line(f"network 0-10cm vs sklearn forest predict(n_jobs=-1) ({t_sklearn:.2f} s)",
         t_sklearn / t_top, "-", "sklearn s / network s")
    line(f"network five-layer chain vs forest fast engine at one depth ({t_chain:.2f} s)",
         t_engine / t_chain, "-", "engine s / chain s")
    line(f"network rows/s: top layer {n / t_top / 1e6:.2f} M, chain {n / t_chain / 1e6:.2f} M;"
         f" forest engine {n / t_engine / 1e6:.2f} M", "-", "-", "")


def bench_scenario(net, cov, daily, stations, meta, repeat: int) -> None:
    y0, y1, x0, x1 = busiest_tiles(cov, 1)[0]
    rows = slice(y0, y0 + 100)
    cols = slice(x0, x0 + 100)
    region = np.ones((100, 100), bool)
    dates = pd.date_range("2018-05-01", periods=90)
    window_cov = cov.isel(y=slice(0, None))  # lazy; the functions load what they need
    code = cov.attrs["patterns_present"][0]

    def run():
        return ps.pattern_scenario(net, window_cov, daily, stations, meta, rows, cols, region,
                                   dates, "20-30cm", code)

    t, result = best(run, repeat)
    cells = int(np.isfinite(result["reference"].isel(time=0)).sum())
    line(f"pattern scenario, 10,000 km2 x 90 days ({cells:,} cropland cells, 20-30cm): "
         f"{t:.1f} s", 5.0 / t, t <= 5.0, "<= 5 s (budget / measured)")


def main() -> None:
    parser = model_parser(__doc__)
    args = parser.parse_args()
    print(f"# {time.strftime('%Y-%m-%d')}, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}")
    cat = open_catalog(args.catalog)
    cov, daily = read_entry("covariates", cat), read_entry("covariates_daily", cat)
    net = load_network(network_path(args.models))
    forest = load_model(model_path(args.models, "wheat", "0-10cm"), "wheat", "0-10cm")
    x_net, x_forest = real_rows(cov, daily, args.rows)
    bench_inference(net, forest, x_net, x_forest, args.repeat)
    bench_scenario(net, cov, daily, read_entry("stations", cat), read_entry("station_meta", cat),
                   args.repeat)


if __name__ == "__main__":
    main()
