"""A month added to a season store: the series layout's time chunk, a year against a month.

``cropsm predict --season`` fills a store whose time axis is the whole year, a month per
run. Each run copies its days into the series layout, whose chunks it must rewrite
whole. With a year per series chunk (stores made before 2026-12-05), every monthly run
reads the year back from the map layout and rewrites it; with
:data:`cropsm.io.product.SEASON_SERIES_DAYS` days per chunk it rewrites a month or two.

Both runs predict the same month with the same code and models, one after the other::

    .venv/bin/python benchmarks/bench_season_fill.py [--start 2018-06-01 --end 2018-06-30]

* baseline: the month into a hard-linked copy of the published season store
  (``data/demo/soil_moisture.zarr``, filled for the whole year, a year per series chunk);
* this layout: the month into a new store on the year's axis, which gets
  month-long series chunks. Its other days are empty, so the chunk shared with the
  neighbouring month reads absent map chunks there: a few seconds less than a full
  store would cost (printed with the result).

The month's map and series values of both stores are compared.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import zarr

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from common import line  # noqa: E402

from cropsm.config import settings  # noqa: E402
from cropsm.io.catalog import open_catalog, product_store_path  # noqa: E402
from cropsm.io.product import open_product, stored_series_days  # noqa: E402
from cropsm.pipelines.predict import predict_product  # noqa: E402


def same_month(a: Path, b: Path, days: slice) -> bool:
    """Whether two stores on one time axis hold the same stored values on ``days``.

    Every variable of the map layout and ``sm`` of the series layout, as stored (uint16),
    one product at a time to bound memory.
    """
    for name in ("sm", "sm_q10", "sm_q90", "series/sm"):
        left = zarr.open_array(a.resolve() / name, mode="r")
        right = zarr.open_array(b.resolve() / name, mode="r")
        for c in range(left.shape[0]):
            for d in range(left.shape[1]):
                if not np.array_equal(left[c, d, days], right[c, d, days]):
                    return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--start", default="2018-06-01")
    parser.add_argument("--end", default="2018-06-30")
    parser.add_argument("--catalog", default=str(settings().catalog.resolve()))
    parser.add_argument("--models", default=str(settings().models.resolve()))
    args = parser.parse_args()
    print(f"# bench_season_fill  {time.strftime('%Y-%m-%d %H:%M')}  {platform.node()} "
          f"{platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}")
    season = product_store_path(open_catalog(args.catalog), "soil_moisture").resolve()
    days = pd.date_range(args.start, args.end)
    year = pd.date_range(f"{days[0].year}-01-01", f"{days[0].year}-12-31")
    with open_product(season, dask=False) as ds:
        if not pd.DatetimeIndex(ds["time"].values).equals(year):
            sys.exit(f"{season} is not a season store of {days[0].year}; fill one first "
                     f"with `cropsm predict --season {days[0].year}`.")
    # beside the season store: hard links need the same file system
    with tempfile.TemporaryDirectory(prefix=".bench-season-", dir=season.parent.parent
                                     ) as tmp:
        old_store, new_store = Path(tmp) / "year" / "sm.zarr", Path(tmp) / "month" / "sm.zarr"
        old_store.parent.mkdir()
        subprocess.run(["cp", "-al", str(season), str(old_store)], check=True)
        chunks = stored_series_days(old_store)
        t0 = time.perf_counter()
        predict_product(args.catalog, args.models, start=args.start, end=args.end,
                        out=old_store, workers=2)
        old = time.perf_counter() - t0
        t0 = time.perf_counter()
        predict_product(args.catalog, args.models, start=args.start, end=args.end,
                        out=new_store, workers=2, new_axis=year)
        new = time.perf_counter() - t0
        first = year.get_loc(days[0])
        same = same_month(old_store, new_store, slice(first, first + len(days)))
        line(f"{len(days)} days x 4 products into a season store: series chunks of {chunks} "
             f"days {old:.0f} s, of {stored_series_days(new_store)} days {new:.0f} s", old / new,
             same, "values equal (maps and series)")


if __name__ == "__main__":
    main()
