"""What the CropSM method was built from: each candidate scored station- and zone-blocked.

Reproduces the ablation table of ``docs/method.md`` on a catalog (the demo world)::

    .venv/bin/python scripts/method_ablation.py --catalog catalogs/cropsm.yaml \
        --out docs/validation/method_ablation.json

Every candidate is scored on the same rows and folds as ``cropsm validate``'s blocked
rows (GroupKFold(5) by station; leave one agricultural zone out), with the classifier's
CIR never used: the paper method's own blocked rows are in the validation reports.
Takes about 10 minutes for the four products on a 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import pandas as pd
import xarray as xr
from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestRegressor
from sklearn.model_selection import GroupKFold, LeaveOneGroupOut

from cropsm.core import metrics
from cropsm.io.catalog import open_catalog, read_entry
from cropsm.pipelines._common import PRODUCTS, read_station_inputs
from cropsm.rf.features import BASE_FEATURES
from cropsm.rf.memory import MEMORY_FEATURES, MemoryParams, memory_at
from cropsm.rf.model import CROPSM_FEATURES, CROPSM_PARAMS, PAPER_PARAMS, training_table

POSITION = ("lat", "lon")


def _forest(params):
    return lambda: RandomForestRegressor(**params, random_state=0, n_jobs=-1)


def _boosting():
    return HistGradientBoostingRegressor(max_iter=300, learning_rate=0.08, random_state=0)


#: name -> (feature columns, estimator factory, memory scale)
CANDIDATES = {
    "paper inputs without CIR": (BASE_FEATURES, _forest(PAPER_PARAMS), None),
    "+ memory indices": (BASE_FEATURES + MEMORY_FEATURES, _forest(CROPSM_PARAMS), 1.0),
    "+ memory, without lat/lon (CropSM method)": (CROPSM_FEATURES, _forest(CROPSM_PARAMS), 1.0),
    "CropSM inputs, gradient boosting": (CROPSM_FEATURES, _boosting, 1.0),
    "CropSM method, memory constants x 0.7": (CROPSM_FEATURES, _forest(CROPSM_PARAMS), 0.7),
    "CropSM method, memory constants x 1.3": (CROPSM_FEATURES, _forest(CROPSM_PARAMS), 1.3),
}


def _blocked(table, columns, make, splitter, groups) -> dict:
    y = table["sm"].to_numpy()
    pred = np.full(len(y), np.nan)
    x = table[list(columns)].to_numpy("f4")
    for train, test in splitter.split(x, groups=groups):
        model = make().fit(x[train], y[train])
        pred[test] = model.predict(x[test])
    skill = metrics.skill_table(pred, y)
    return {k: float(skill[k]) for k in ("n", "r", "ubrmse", "bias")}


def truth_at_stations(catalog, crop: str, depth: str) -> dict:
    """The demo truth at each station's pixel scored against its visits of the map year.

    The best any model of the pixel can do against these stations: what is left is the
    stations' own point-scale error.
    """
    inputs = read_station_inputs(catalog)
    truth = read_entry("truth", catalog)["sm"].sel(crop=crop, depth=depth)
    days = pd.DatetimeIndex(truth["time"].values)
    obs = inputs.stations[(inputs.stations["crop"] == crop) & (inputs.stations["depth"] == depth)
                          & inputs.stations["date"].isin(days)]
    obs = obs.merge(inputs.station_meta[["station_id", "row", "col"]], on="station_id")
    at = {"time": ("k", days.get_indexer(obs["date"])), "y": ("k", obs["row"].to_numpy()),
          "x": ("k", obs["col"].to_numpy())}
    true = truth.isel({k: xr.DataArray(v[1], dims="k") for k, v in at.items()}).values
    skill = metrics.skill_table(true, obs["sm"].to_numpy())
    return {"crop": crop, "depth": depth, "visits": len(obs),
            "stations": int(obs["station_id"].nunique()),
            **{k: float(skill[k]) for k in ("r", "ubrmse", "bias")}}


def main() -> None:
    """Score every candidate on every product at 0-10 and 10-20 cm; write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalog", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    inputs = read_station_inputs(open_catalog(args.catalog))
    results = []
    for crop, depth in PRODUCTS:
        if depth not in ("0-10cm", "10-20cm"):
            continue
        base = training_table(inputs.covariates, inputs.daily, inputs.stations,
                              inputs.station_meta, crop, depth)
        obs = base.merge(inputs.station_meta[["station_id", "row", "col"]], on="station_id")
        tables: dict[float, pd.DataFrame] = {}
        for name, (columns, make, scale) in CANDIDATES.items():
            if scale is not None and scale not in tables:
                memory = memory_at(inputs.covariates, inputs.daily, obs["row"], obs["col"],
                                   obs["date"], crop, MemoryParams().scaled(scale))
                tables[scale] = pd.concat([base, memory], axis=1)
            table = base if scale is None else tables[scale]
            t0 = time.perf_counter()
            row = {"crop": crop, "depth": depth, "candidate": name,
                   "station_blocked": _blocked(table, columns, make, GroupKFold(5),
                                               table["station_id"].to_numpy()),
                   "zone_blocked": _blocked(table, columns, make, LeaveOneGroupOut(),
                                            table["zone"].to_numpy()),
                   "seconds": time.perf_counter() - t0}
            results.append(row)
            print(crop, depth, name, round(row["station_blocked"]["r"], 3),
                  round(row["zone_blocked"]["r"], 3), flush=True)
    catalog = open_catalog(args.catalog)
    ceiling = ([truth_at_stations(catalog, c, d) for c, d in PRODUCTS if d in ("0-10cm",
                                                                              "10-20cm")]
               if "truth" in catalog.entries else [])
    with open(args.out, "w") as fh:
        json.dump({"rows": results, "memory_params": MemoryParams().__dict__,
                   "truth_at_stations": ceiling}, fh, indent=1)


if __name__ == "__main__":
    main()
