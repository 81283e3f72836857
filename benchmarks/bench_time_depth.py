"""Time depth (issue 20): percentile layers and a province's season, as the server runs them.

Run after ``make run`` (or its ``background`` steps) has made the climate record and its
percentiles::

    .venv/bin/python benchmarks/bench_time_depth.py [--province Henan] [--repeat 4]

Each line prints *ratio* = budget / measured (> 1: within budget), the measured time, the
budget and the baseline measured in the same run: the plain soil-moisture layer for a
date switch, the GB/T grades (no climatology) for the season series, the series from
every 1 km cell for the one from the areas published with the product. Times are medians
over distinct days after one warm-up call, server side (reading, ranking, the class
shares), without the browser's drawing.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from common import median_time  # noqa: E402

from cropsm.config import settings  # noqa: E402
from cropsm.core.errors import CropSMError  # noqa: E402
from cropsm.core.regions import province_code, province_region  # noqa: E402
from cropsm.io import assets  # noqa: E402
from cropsm.pipelines.map_layer import map_layer  # noqa: E402
from cropsm.pipelines.province_shares import province_shares  # noqa: E402
from cropsm.pipelines.season import region_season  # noqa: E402
from cropsm.pipelines.sources import CatalogReader  # noqa: E402

SCREEN_PX = 900


def line(name: str, seconds: float, budget: float, baseline: float) -> None:
    print(f"{name:58s} {budget / seconds:7.2f}  {seconds <= budget!s:5s} "
          f"{seconds * 1000:8.0f} ms  budget {budget * 1000:5.0f} ms  baseline "
          f"{baseline * 1000:7.0f} ms", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalog", default=str(settings().catalog))
    parser.add_argument("--crop", default="wheat")
    parser.add_argument("--depth", default="0-10cm")
    parser.add_argument("--province", default="Henan")
    parser.add_argument("--repeat", type=int, default=4)
    args = parser.parse_args()
    print(f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores; python "
          f"{platform.python_version()}; date {time.strftime('%Y-%m-%d')}")
    reader = CatalogReader(args.catalog)
    days = list(reader.dates())
    if len(days) < 2:
        sys.exit("The product holds fewer than 2 days; run `make run` first.")
    picks = [days[i * (len(days) - 1) // args.repeat] for i in range(args.repeat + 1)]
    print(f"product: {len(days)} days ({days[0]:%Y-%m-%d}..{days[-1]:%Y-%m-%d}); "
          f"{args.crop} {args.depth}")
    print(f"{'action':58s} {'ratio':>7s}  {'ok':5s} {'measured':>11s}")

    def layer(name):
        return lambda day: map_layer(reader, args.crop, args.depth, day, name,
                                     screen_px=SCREEN_PX)

    plain = median_time(layer("sm"), picks)
    for name in ("drought", "percentile", "category", "anomaly"):
        line(f"national map, date switch, layer {name}", median_time(layer(name), picks),
             0.25, plain)

    geometry = province_region(args.province, assets.read_provinces())
    china = assets.read_boundary()

    def season(scheme):
        return lambda _: region_season(reader, args.crop, args.depth, geometry, china,
                                       scheme=scheme)

    grades = median_time(season("grade"), [None] * 3)
    seconds = median_time(season("category"), [None] * 3)
    line(f"{args.province}: season series, 1 km cells, {len(days)} days", seconds, 1.0,
         grades)
    per_day = seconds / len(days)
    print(f"  per day {per_day * 1000:.1f} ms; a 365-day season at that rate: "
          f"{per_day * 365:.1f} s (budget 1 s)")
    code = province_code(args.province, assets.read_provinces())

    def published(_):
        # a new reader each time: the first read of a session, catalog opening included
        return province_shares(CatalogReader(args.catalog), args.crop, args.depth, code,
                               days, "category")

    try:
        line(f"{args.province}: season series, published areas, {len(days)} days",
             median_time(published, [None] * 3), 1.0, seconds)
    except CropSMError as err:
        print(f"  no published province areas: {err}")
    year = days[-1].year

    def record_season(scheme):
        return lambda _: region_season(reader, args.crop, args.depth, geometry, china,
                                       f"{year}-01-01", f"{year}-12-31", scheme, "record")

    try:
        whole = median_time(record_season("category"), [None] * 3)
    except CropSMError as err:
        print(f"  no record season: {err}")
        return
    line(f"{args.province}: season series, record cells, {year} (365 days)", whole, 1.0,
         median_time(record_season("grade"), [None] * 3))


if __name__ == "__main__":
    main()
