"""Liu's Figs. 9-10 on a demo world, against the world's own physics.

Reproduces the truth comparison of ``docs/scenarios.md`` (section "Liu Figs. 9-10 over
all cropland") on a demo catalog with a trained network::

    .venv/bin/python scripts/pattern_regions_truth.py --catalog catalogs/cropsm.yaml \
        --models models --out docs/validation/pattern_regions_truth.json

On the lattice cells of :func:`cropsm.nn.pattern_regions.pattern_regions` (stride 25),
for the last year the daily covariates allow, it computes per pattern and region the
annual 0-10 cm difference

* of the network, pattern minus its reference weighted by Liu's Eq. 1 (what
  ``cropsm network regions`` reports) and by the fields' cropland shares (``area``);
* of the demo world's truth: every cell's soil column re-simulated under the pattern
  minus the same columns under their own patterns, weighted by the cropland shares
  (:func:`cropsm.demo.counterfactual.true_pattern_response`).

The truth's reference is the fields' partition, so the like-for-like comparison is the
network's ``area`` column against the truth.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import pandas as pd

from cropsm.core import liu_regions, patterns
from cropsm.core.grid import Grid
from cropsm.demo.counterfactual import layer_of, true_pattern_response
from cropsm.io.assets import read_provinces
from cropsm.io.models import network_path
from cropsm.nn import pattern_regions as pr
from cropsm.pipelines.sources import CatalogReader
from cropsm.serve.models import load_network

LAYER = "0-10cm"


def true_table(cov, daily, year: int, stride: int, codes: list[int]) -> pd.DataFrame:
    """Annual true difference (pattern minus own fields) per pattern and region."""
    offset = stride // 2
    lattice = cov.isel(y=slice(offset, None, stride), x=slice(offset, None, stride))
    rr, cc = np.nonzero(lattice["cropping_pattern"].values > 0)
    cells = np.zeros(lattice["cropping_pattern"].shape, bool)
    cells[rr, cc] = True
    grid = Grid.from_coords(lattice["x"].values, lattice["y"].values)
    region = liu_regions.region_of_points(*grid.rowcol_to_lonlat(rr, cc), read_provinces())
    dates = pd.date_range(f"{year}-01-01", f"{year}-12-31")
    rows = {}
    for code in codes:
        truth = true_pattern_response(lattice, daily, layer_of(LAYER), slice(None), slice(None),
                                      cells, dates, code)
        annual = np.nanmean(truth.difference[:, rr, cc], axis=0)  # per cell
        keep = (region != "NE") if code in patterns.DOUBLE_CROPPING else np.ones(rr.size, bool)
        rows[patterns.PATTERNS[code]] = {
            r: (float(annual[keep].mean()) if r == liu_regions.CHINA
                else float(annual[keep & (region == r)].mean())
                if (keep & (region == r)).any() else np.nan)
            for r in pr.REGIONS}
    return pd.DataFrame(rows).T


def main() -> None:
    """Print the three tables and write them to ``--out``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalog", required=True)
    parser.add_argument("--models", required=True)
    parser.add_argument("--out", required=True, help="JSON file of the three tables")
    parser.add_argument("--stride", type=int, default=pr.DEFAULT_STRIDE)
    args = parser.parse_args()
    reader = CatalogReader(args.catalog)
    cov, daily = reader.dataset("covariates"), reader.dataset("covariates_daily")
    network = load_network(network_path(args.models))
    year = pr.last_year(daily)
    tables, seconds = {}, {}
    for weighting in ("liu", "area"):
        t0 = time.perf_counter()
        result = pr.pattern_regions(network, cov, daily, read_provinces(), year, LAYER,
                                    args.stride, weighting)
        seconds[f"network_{weighting}"] = time.perf_counter() - t0
        tables[f"network_{weighting}"] = pr.annual_table(result)
    t0 = time.perf_counter()
    codes = [int(c) for c in result["pattern"].values]
    tables["truth"] = true_table(cov, daily, year, args.stride, codes)
    seconds["truth"] = time.perf_counter() - t0
    for name, table in tables.items():
        print(f"\n{name} ({seconds[name]:.0f} s)")
        print(table.to_string(float_format=lambda v: f"{v:+.4f}", na_rep="-"))
    with open(args.out, "w", encoding="utf-8") as fh:
        json.dump({"year": year, "layer": LAYER, "stride": args.stride, "seconds": seconds,
                   "tables": {k: json.loads(t.to_json(orient="index"))
                              for k, t in tables.items()}}, fh, indent=2)


if __name__ == "__main__":
    main()
