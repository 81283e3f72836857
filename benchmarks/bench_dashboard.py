"""Dashboard figures (issue 5): each action timed as the app runs it, against its budget.

Run after ``make run`` has built the demo world, trained its models and precomputed its
product::

    .venv/bin/python benchmarks/bench_dashboard.py [--repeat 3]

Each line prints *ratio* = budget / measured time (> 1: within budget), the measured time
and the budget. Times are medians over ``--repeat`` distinct inputs (other dates, other
pixels), after one warm-up call, so they are what a session sees once the server has
started. The server-side render includes reading the store and datashader's rasterizing;
the browser's drawing is not included.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import holoviews.plotting.bokeh  # noqa: E402, F401
from common import median_time  # noqa: E402
from shapely.geometry import box  # noqa: E402

from cropsm.app import data  # noqa: E402
from cropsm.app.map_view import MapView  # noqa: E402
from cropsm.app.state import AppState  # noqa: E402
from cropsm.io.models import model_path  # noqa: E402
from cropsm.pipelines.series import pixel_series  # noqa: E402
from cropsm.serve import live  # noqa: E402
from cropsm.serve.forest_scenarios import SCENARIOS, run_scenario  # noqa: E402
from cropsm.serve.predict import COVARIATES, cropland, predict_window  # noqa: E402

SCREEN = (900, 900)


def line(name: str, seconds: float, budget: float) -> None:
    ok = seconds <= budget
    print(f"{name:64s} {budget / seconds:8.2f}  {ok!s:5s} {seconds * 1000:9.0f} ms  "
          f"budget {budget * 1000:.0f} ms", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-national", action="store_true",
                        help="Skip the all-China prediction of a new day (the slow one).")
    args = parser.parse_args()
    print(f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores; python "
          f"{platform.python_version()}; date {time.strftime('%Y-%m-%d')}")
    print(f"{'action':64s} {'ratio':>8s}  {'ok':5s} {'measured':>12s}  budget")
    state = AppState()
    state.set_dates(data.product_dates(state.catalog_path))
    days = state.available_dates
    if len(days) < 2:
        sys.exit("The product holds fewer than 2 days; run `make run` (or cropsm predict).")
    view = MapView(state=state)
    width, height = SCREEN

    def show(day: dt.date):
        data.map_layer.clear()  # a day not seen yet in this process: read and compute it
        state.date = day
        view._image(width=width, height=height)

    def new_session(_):
        from bokeh.document import Document

        from cropsm.app import create_app

        create_app().server_doc(Document())

    line("a new session: the page built on the server (create_app + server_doc)",
         median_time(new_session, list(range(args.repeat + 1))), 2.0)

    picks = [days[i % len(days)] for i in range(args.repeat + 1)]
    line("date switch, national view, server-side render", median_time(show, picks), 0.25)

    # zoom or pan: a 200 km view around the busiest wheat area, moved between renders
    cov = data.dataset(state.catalog_path, "covariates")
    grid = data.grid(state.catalog_path)
    cells = cropland(cov[["crop_fraction"]].load(), "wheat")
    rows, cols = np.nonzero(cells)
    row, col = int(np.median(rows)), int(np.median(cols))
    x, y = grid.rowcol_to_xy(row, col)
    offsets = [k * 20_000.0 for k in range(args.repeat + 1)]

    def pan(offset: float):
        view._image(x_range=(x - 100_000 + offset, x + 100_000 + offset),
                    y_range=(y - 100_000, y + 100_000), width=width, height=height)

    line("zoom/pan re-rasterize (200 km view at 1 km)", median_time(pan, offsets), 0.10)

    pixels = [(float(x + k * 3000), float(y)) for k in range(args.repeat + 1)]
    reader = data.reader(state.catalog_path)
    line("one-year pixel time series (series layout: sm and its band)",
         median_time(lambda p: pixel_series(reader, state.crop, state.depth, *p,
                                            with_truth=False), pixels), 0.10)
    line("  the same with the demo truth (map layout, one chunk per day)",
         median_time(lambda p: pixel_series(reader, state.crop, state.depth, *p), pixels),
         0.10)

    model = data.serving_model("wheat", "0-10cm")
    daily = data.dataset(state.catalog_path, "covariates_daily")
    lon, lat = grid.rowcol_to_lonlat(row, col)
    half = 0.5 * 100 / 111.0  # a ~100 km × 100 km box: 10,000 km²
    region = box(lon - half / np.cos(np.radians(lat)), lat - half,
                 lon + half / np.cos(np.radians(lat)), lat + half)

    def run_year(_):
        plan = live.plan_region(cov, daily, "wheat", "0-10cm", region, "2018-01-01",
                                "2018-12-31", data.china(), budget=10**12)
        out = live.run_region(model, cov, daily, plan)
        return plan, out

    plan, out = run_year(None)
    t0 = time.perf_counter()
    run_year(None)
    seconds = time.perf_counter() - t0
    line(f"live run, 10,000 km² × 365 days ({plan.cropland_cells:,} cropland cells, "
         f"{int(out['predicted'].sum()):,} in season)", seconds, 3.0)

    models = {crop: data.serving_model(crop, "0-10cm") for crop in ("wheat", "maize")}
    season = live.plan_region(cov, daily, "wheat", "0-10cm", region, "2018-03-01",
                              "2018-05-29", data.china(), budget=10**12)
    # the learned irrigation-off scenario needs the CropSM method's forests: bench_method
    names = [n for n in SCENARIOS if not n.startswith("omit_") and n != "irrigation_rainfed"]
    if model_path(data.models_dir(), "wheat", "0-10cm", "precipitation").exists():
        models["reduced"] = data.serving_model("wheat", "0-10cm", "precipitation")
        names.append("omit_precipitation")
    for name in names:
        run_scenario(name, models, cov, daily, season, factor=-0.3)  # warm-up
        t0 = time.perf_counter()
        result = run_scenario(name, models, cov, daily, season, factor=-0.3)
        seconds = time.perf_counter() - t0
        line(f"scenario {name}, 10,000 km² × 90 days "
             f"({int(result.baseline['predicted'].sum()):,} pixel-days, 2 runs)", seconds, 5.0)

    if not args.skip_national:
        static = cov[list(COVARIATES)].load()
        new_day = pd.Timestamp(days[-1]) + pd.Timedelta(days=1)
        t0 = time.perf_counter()
        out = predict_window(model, static, daily, [new_day])
        seconds = time.perf_counter() - t0
        line(f"a day not precomputed, all-China wheat ({int(out['predicted'].sum()):,} px, "
             "covariates in memory)", seconds, 1.5)


if __name__ == "__main__":
    main()
