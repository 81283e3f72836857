"""Model size on disk vs held-out RMSE as ``min_samples_leaf`` grows (demo catalog).

Run: ``.venv/bin/python benchmarks/bench_model_size.py [crop] [depth]``. For each
setting the classifier and regressor are fitted on the 90 % within-zone split, saved
with skops, and scored on the 10 % with CIR predicted (the honest setting).
"""

from __future__ import annotations

import sys
import tempfile
import time

from cropsm.core import metrics
from cropsm.io.catalog import open_catalog, read_entry
from cropsm.io.models import save_model
from cropsm.rf.features import BASE_FEATURES
from cropsm.rf.model import fit_model, split_within_zones, training_table


def main(crop: str = "wheat", depth: str = "0-10cm") -> None:
    cat = open_catalog()
    table = training_table(*(read_entry(n, cat) for n in
                             ("covariates", "covariates_daily", "stations", "station_meta")),
                           crop, depth)
    train, test = split_within_zones(table)
    held = table.iloc[test]
    print(f"{crop}/{depth}: {len(train)} train, {len(test)} held out")
    print("| min_samples_leaf | model file (MB) | held-out RMSE | held-out r | fit (s) |")
    print("|---|---|---|---|---|")
    for leaf in (1, 2, 5, 10, 20):
        t0 = time.perf_counter()
        model = fit_model(table.iloc[train], crop, depth, {"min_samples_leaf": leaf})
        fit_s = time.perf_counter() - t0
        pred = model.predict(held[list(BASE_FEATURES)])
        with tempfile.TemporaryDirectory() as tmp:
            size = save_model(model, tmp).stat().st_size / 1e6
        print(f"| {leaf} | {size:.1f} | {metrics.rmse(pred, held['sm']):.4f} | "
              f"{metrics.pearson_r(pred, held['sm']):.3f} | {fit_s:.0f} |")


if __name__ == "__main__":
    main(*sys.argv[1:])
