"""The CropSM method against the paper's, side by side: gridded prediction and model size.

Run after ``make run`` (demo world, paper models) and ``cropsm train --method cropsm``::

    .venv/bin/python benchmarks/bench_method.py [--days 7] [--tiles 2]

Each line prints the CropSM method's figure over the paper method's, measured in the
same process on the same tiles and days: the feature rows (the paper's features; the
CropSM method adds a year of rain memory), the serving forests, the whole window, and
the size of the model files and serving forests. Times are the best of ``--repeat``.
"""

from __future__ import annotations

import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from common import best, line, model_parser  # noqa: E402

from cropsm.io.catalog import open_catalog, read_entry  # noqa: E402
from cropsm.io.models import model_path, read_card  # noqa: E402
from cropsm.serve import engine  # noqa: E402
from cropsm.serve.models import load_model  # noqa: E402
from cropsm.serve.predict import (  # noqa: E402
    COVARIATES,
    ServingModel,
    apply_model,
    cropland,
    window_rows,
)

DEPTH = "0-10cm"


def busiest_tiles(cov, crop: str, n: int) -> list[tuple[int, int, int, int]]:
    cells = cropland(cov, crop)
    tiles = list(engine._tiles(cells.shape))
    counts = [cells[t[0]:t[1], t[2]:t[3]].sum() for t in tiles]
    return [tiles[i] for i in np.argsort(counts)[::-1][:n]]


def main() -> None:
    parser = model_parser(__doc__)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--tiles", type=int, default=2)
    parser.add_argument("--crop", default="maize")
    parser.add_argument("--start", default="2018-07-01")
    args = parser.parse_args()
    print(f"# bench_method  {time.strftime('%Y-%m-%d %H:%M')}  {platform.node()}  "
          f"{platform.processor() or platform.machine()}")
    cat = open_catalog(args.catalog)
    cov = read_entry("covariates", cat)[list(COVARIATES)]
    daily = read_entry("covariates_daily", cat)
    dates = pd.date_range(args.start, periods=args.days)
    models = {}
    for method in ("paper", "cropsm"):
        path = model_path(args.models, args.crop, DEPTH, method=method)
        models[method] = (path, ServingModel.from_model(load_model(path, args.crop, DEPTH),
                                                        read_card(path)["sha256"]))
    tiles = busiest_tiles(cov, args.crop, args.tiles)
    windows = [cov.isel(y=slice(t[0], t[1]), x=slice(t[2], t[3])).load() for t in tiles]
    times: dict[str, dict[str, float]] = {}
    for method, (_, model) in models.items():
        rows_t, rows = best(lambda m=model: [window_rows(w, daily, dates, args.crop,
                                                         memory=m.memory) for w in windows],
                            args.repeat)
        apply_t, _ = best(lambda m=model, r=rows: [apply_model(m, x) for x in r], args.repeat)
        n = sum(x.t.size for x in rows)
        times[method] = {"rows": rows_t, "apply": apply_t, "pixel_days": n}
        print(f"  {method:7s} {n:,} pixel-days: rows {rows_t:.2f} s, forests + AOA "
              f"{apply_t:.2f} s, {n / (rows_t + apply_t) / 1e6:.3f} M pixel-days/s")
    paper, new = times["paper"], times["cropsm"]
    line("feature rows (CropSM / paper time)", new["rows"] / paper["rows"], "info", "-")
    line("forests + AOA (CropSM / paper time)", new["apply"] / paper["apply"], "info", "-")
    whole = (new["rows"] + new["apply"]) / (paper["rows"] + paper["apply"])
    line("whole window (CropSM / paper time)", whole, whole <= 1.5, "<= 1.5")
    size = {m: p.stat().st_size for m, (p, _) in models.items()}
    line(f"model file (CropSM {size['cropsm'] / 1e6:.1f} MB / paper "
         f"{size['paper'] / 1e6:.1f} MB)", size["cropsm"] / size["paper"], "info", "-")
    serving = {m: s.nbytes for m, (_, s) in models.items()}
    line(f"serving forests (CropSM {serving['cropsm'] / 1e6:.1f} MB / paper "
         f"{serving['paper'] / 1e6:.1f} MB)", serving["cropsm"] / serving["paper"], "info", "-")


if __name__ == "__main__":
    main()
