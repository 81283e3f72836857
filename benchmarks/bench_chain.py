"""The prediction chain end to end (issue 17): this tree against a baseline revision.

Both run ``cropsm predict`` as a user does (a fresh process: models loaded and converted,
a local cluster of worker processes started, the store written and published), on the
same catalog, models and days, one after the other, so the ratio comes from one run on
one machine::

    .venv/bin/python benchmarks/bench_chain.py [--baseline e6bfb3d] [--start 2018-05-01]
        [--end 2018-05-07]

The baseline is checked out with ``git worktree`` into a temporary folder and imported
ahead of the installed package (``PYTHONPATH``); it reads the same stores. Lines:

* the run, baseline vs this tree (*ratio* = baseline time / this tree's time), and
  whether the two stores hold the same values (decoded, every variable and the series
  layout: the series layout's files differ, since it is now sharded);
* the rate in in-season pixel-days per second, and the product-year it implies (all four
  products, the year's in-season pixel-days at that rate; an extrapolation, said so);
* this tree with 1 worker vs 2 workers, every thread pool pinned to one thread per
  process (``OMP``/``NUMBA``/``OPENBLAS`` = 1), so the 1-worker run really is one core
  (``--no-scaling`` leaves these two runs out, for a long window).

The 60-second budget is for 7 days; a longer window reports its rate and extrapolation.

Times are of the whole command (interpreter start, imports, model loading and the
cluster's start included); each run's own line ("... in N s") is printed above them.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from common import line  # noqa: E402

from cropsm.config import settings  # noqa: E402
from cropsm.core import crops  # noqa: E402
from cropsm.io.catalog import entry_path, open_catalog  # noqa: E402
from cropsm.serve.predict import cropland  # noqa: E402

PINNED = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
          "NUMBA_NUM_THREADS": "1"}


def predict(source: Path, out: Path, args, workers: int, env: dict | None = None,
            extra: tuple[str, ...] = ()) -> float:
    """Wall time of one ``cropsm predict`` run of the package at ``source``."""
    shutil.rmtree(out.parent, ignore_errors=True)  # the store and its .versions
    command = [sys.executable, "-m", "cropsm.cli", "predict", "--catalog", args.catalog,
               "--models", args.models, "--start", args.start, "--end", args.end,
               "--workers", str(workers), "--out", str(out), "--quiet", *extra]
    environment = {**os.environ, **(env or {}), "PYTHONPATH": str(source)}
    t0 = time.perf_counter()
    done = subprocess.run(command, env=environment, check=True, cwd=source,
                          capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    print(done.stdout.strip(), flush=True)
    return seconds


def same_values(a: Path, b: Path) -> bool:
    """Whether two product stores hold the same stored values, map and series layouts."""
    for group in (None, "series"):
        with xr.open_zarr(a, group=group, mask_and_scale=False, chunks=None) as left, \
                xr.open_zarr(b, group=group, mask_and_scale=False, chunks=None) as right:
            for name in [n for n in left.data_vars if "crop" in left[n].dims]:
                for crop in left["crop"].values:  # one product at a time: bounded memory
                    for depth in left["depth"].values:
                        here = {"crop": crop, "depth": depth}
                        if not np.array_equal(left[name].sel(here).values,
                                              right[name].sel(here).values):
                            return False
    return True


def in_season_pixel_days(catalog: str, dates: pd.DatetimeIndex) -> int:
    """Rows the four products predict over ``dates`` (both depths of each crop)."""
    cov = xr.open_zarr(entry_path(open_catalog(catalog), "covariates"))
    total = 0
    for crop in crops.CROPS:
        rows, cols = np.nonzero(cropland(cov, crop))
        season = crops.in_season(crop, dates, cov["sowing"].sel(crop=crop).values[rows, cols],
                                 cov["eos"].sel(crop=crop).values[rows, cols])
        total += len(crops.DEPTHS) * int(season.sum())
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="e6bfb3d")
    parser.add_argument("--start", default="2018-05-01")
    parser.add_argument("--end", default="2018-05-07")
    parser.add_argument("--year", type=int, default=2018)
    parser.add_argument("--catalog", default=str(settings().catalog.resolve()))
    parser.add_argument("--models", default=str(settings().models.resolve()))
    parser.add_argument("--no-scaling", action="store_true",
                        help="skip the pinned 1- and 2-worker runs")
    args = parser.parse_args()
    print(f"# bench_chain  {time.strftime('%Y-%m-%d %H:%M')}  {platform.node()} "
          f"{platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}")
    days = pd.date_range(args.start, args.end)
    rows = in_season_pixel_days(args.catalog, days)
    year_rows = in_season_pixel_days(args.catalog, pd.date_range(f"{args.year}-01-01",
                                                                 f"{args.year}-12-31"))
    label = f"national {len(days)} days x 4 products ({rows / 1e6:.1f} M pixel-days)"
    with tempfile.TemporaryDirectory(prefix="bench-chain-") as tmp:
        folder = Path(tmp)
        baseline = folder / "baseline"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q",
                        str(baseline), args.baseline], check=True)
        try:
            for source in (baseline, ROOT):  # numba compiles into each tree's cache first
                predict(source, folder / "warm" / "sm.zarr", args, 0,
                        extra=("--bbox", "113,34,113.5,34.5", "--end", args.start))
            old = predict(baseline, folder / "old" / "sm.zarr", args, 2)
            new = predict(ROOT, folder / "new" / "sm.zarr", args, 2)
            same = same_values(folder / "old" / "sm.zarr", folder / "new" / "sm.zarr")
            short = len(days) <= 7
            line(f"{label}: {args.baseline} {old:.0f} s, this tree {new:.0f} s", old / new,
                 same, "values equal" + ("; 7 days x 4 products <= 60 s" if short else ""))
            line(f"  rate: {rows / old / 1e6:.3f} -> {rows / new / 1e6:.3f} M pixel-days/s", "-",
                 new <= 60 if short else "-", "")
            year_minutes = year_rows / (rows / new) / 60
            line(f"  product-year at that rate, extrapolated ({year_rows / 1e6:.0f} M "
                 f"pixel-days): {year_rows / (rows / old) / 60:.0f} -> {year_minutes:.0f} min",
                 old / new, year_minutes <= 10, "<= 10 min, >= 4x")
            if args.no_scaling:
                return
            one = predict(ROOT, folder / "one" / "sm.zarr", args, 1, PINNED)
            two = predict(ROOT, folder / "two" / "sm.zarr", args, 2, PINNED)
            line(f"scaling, threads pinned: 1 worker {one:.0f} s, 2 workers {two:.0f} s "
                 "(whole command)", one / two, one / two >= 1.8, ">= 1.8")
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                            str(baseline)], check=False)


if __name__ == "__main__":
    main()
