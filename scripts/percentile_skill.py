"""Score the demo product's percentile categories against the truth's own; write the report.

Needs the national demo world with its climate record and climatology (``make run`` and
its background steps)::

    .venv/bin/python scripts/percentile_skill.py [--year 2018] [--out docs/validation]

Writes ``percentile_skill.json``: for each 0-10 cm product, the agreement of the
product's categories with the truth's (:func:`cropsm.pipelines.percentile_skill.
percentile_skill`) and the cost of the record's reduced density
(:func:`cropsm.pipelines.percentile_skill.borrowing_error`).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from cropsm.config import settings
from cropsm.pipelines.percentile_skill import borrowing_error, percentile_skill


def main() -> None:
    """Score both 0-10 cm products and write the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalog", default=str(settings().catalog))
    parser.add_argument("--year", type=int, default=2018)
    parser.add_argument("--stride", type=int, default=8)
    parser.add_argument("--out", default="docs/validation")
    args = parser.parse_args()
    report = {}
    for crop in ("wheat", "maize"):
        t0 = time.perf_counter()
        skill = percentile_skill(args.catalog, crop, "0-10cm", args.year)
        borrowed = {
            stride: borrowing_error(args.catalog, crop, "0-10cm", stride)
            for stride in sorted({2, 4, args.stride})}
        report[f"{crop}/0-10cm"] = {"product_vs_truth": skill,
                                    "reduced_density": {str(k): v for k, v in borrowed.items()},
                                    "seconds": round(time.perf_counter() - t0, 1)}
        print(crop, {k: v for k, v in skill.items() if k != "confusion"}, flush=True)
        for stride, figures in borrowed.items():
            print(f"  every {stride}: agreement {figures['agreement']:.3f} kappa "
                  f"{figures['kappa']:.3f}", flush=True)
    path = Path(args.out) / "percentile_skill.json"
    path.write_text(json.dumps(report, indent=1) + "\n")
    print(f"-> {path}")


if __name__ == "__main__":
    main()
