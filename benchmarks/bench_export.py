"""Benchmark of the CSV export: pyarrow's writer in ``csv_bytes`` vs pandas ``to_csv``.

Needs no demo world; the table is a synthetic pixel table built by
:func:`cropsm.analysis.region_tables.pixel_table` (8 days over a 1 km window, float64 predictions as
:func:`cropsm.serve.predict.predict_window` returns them)::

    .venv/bin/python benchmarks/bench_export.py [--rows 3000000] [--repeat 1]

The ratio is pandas' time over ours on the same table; both outputs must parse back
(``pandas.read_csv(comment="#")``) to equal frames. Times are the best of ``--repeat``.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from common import best, line  # noqa: E402

from cropsm.analysis.region_tables import pixel_table  # noqa: E402
from cropsm.core.grid import china_grid  # noqa: E402
from cropsm.io.export import csv_bytes  # noqa: E402

DAYS = 8
PROVENANCE = {"product": "CropSM benchmark", "crop": "wheat", "depth": "0-10cm"}


def pixel_frame(n_rows: int) -> pd.DataFrame:
    """A pixel table of about ``n_rows`` rows: 80 % of a square window predicted, 8 days."""
    side = int(np.ceil(np.sqrt(n_rows / DAYS / 0.8)))
    window = china_grid().window(slice(1800, 1800 + side), slice(2600, 2600 + side))
    rng = np.random.default_rng(0)
    shape = (DAYS, side, side)
    predicted = np.broadcast_to(rng.random(window.shape) < 0.8, shape).copy()
    sm = np.where(predicted, rng.uniform(0.05, 0.45, shape), np.nan)
    spread = rng.uniform(0.01, 0.05, shape)
    result = {"sm": sm, "sm_q10": sm - spread, "sm_q90": sm + spread,
              "aoa": np.where(predicted, rng.random(shape) < 0.9, 255).astype("u1"),
              "predicted": predicted}
    dates = pd.date_range("2018-05-01", periods=DAYS)
    return pixel_table(result, dates, window, "wheat", "0-10cm").iloc[:n_rows]


def pandas_csv(table: pd.DataFrame) -> bytes:
    header = "".join(f"# {k}: {v}\n" for k, v in PROVENANCE.items())
    return (header + table.to_csv(index=False, date_format="%Y-%m-%d")).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=3_000_000)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    print(f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores; python "
          f"{platform.python_version()}; pandas {pd.__version__}; "
          f"date {time.strftime('%Y-%m-%d')}")
    print(f"{'benchmark':78s} {'ratio':>8s}  {'ok':5s} target")
    table = pixel_frame(args.rows)
    t_ours, ours = best(lambda: csv_bytes(table, PROVENANCE, max_rows=len(table)),
                        args.repeat)
    t_pandas, theirs = best(lambda: pandas_csv(table), args.repeat)
    back_ours = pd.read_csv(io.BytesIO(ours), comment="#")
    back_pandas = pd.read_csv(io.BytesIO(theirs), comment="#")
    try:
        pd.testing.assert_frame_equal(back_ours, back_pandas, check_exact=True)
        equal = True
    except AssertionError:
        equal = False
    line(f"csv: csv_bytes (pyarrow) vs pandas to_csv, {len(table):,} rows x "
         f"{table.shape[1]} columns", t_pandas / t_ours, equal,
         f">= 3, parse back equal; {t_ours:.2f} s vs {t_pandas:.2f} s, "
         f"{len(ours) / 1e6:.0f} MB ({len(ours) / len(table):.0f} B/row)")


if __name__ == "__main__":
    main()
