"""The skill of the forest scenarios' responses against the demo world's true responses.

Reproduces the tables of ``docs/scenarios.md`` on a demo catalog with trained models of
both methods (``cropsm train`` and ``cropsm train --method cropsm``)::

    .venv/bin/python scripts/scenario_skill.py --catalog catalogs/cropsm.yaml \
        --models models --out docs/validation/scenario_skill.json

Each forest scenario runs on three 1° boxes (an irrigated plain, a rain-fed upland, a
double-cropped area) over each crop's spring or summer season of the map year, at
0-10 cm, and is scored with :func:`cropsm.pipelines.counterfactual.truth_check`. The
network's pattern scenarios (``cropsm network train``'s network) run on the same boxes
over the summer, at 0-10 and 30-40 cm, for every pattern present, and are scored with
:func:`cropsm.pipelines.counterfactual.pattern_truth_check`.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import shapely

from cropsm.analysis.scenario_skill import SIGN_THRESHOLD
from cropsm.core import patterns
from cropsm.io.catalog import open_catalog
from cropsm.io.models import model_path, network_path, read_card
from cropsm.nn import pattern_scenarios as ps
from cropsm.pipelines.counterfactual import checked_scenario, pattern_truth_check
from cropsm.pipelines.sources import CatalogReader
from cropsm.pipelines.train import rainfed_rows
from cropsm.rf.features import RAINFED_ONLY
from cropsm.rf.model import fit_cropsm_model, split_within_zones, training_table
from cropsm.serve import live
from cropsm.serve.models import load_model, load_network
from cropsm.serve.predict import PredictError, ServingModel

#: Boxes (lon0, lat0, lon1, lat1) of the three kinds of region.
REGIONS = {
    "irrigated plain (Hebei, near Shijiazhuang)": (114.5, 37.5, 115.5, 38.5),
    "rain-fed upland (Loess Plateau, southeast Shanxi)": (112.6, 35.1, 113.6, 36.1),
    "double-cropped area (Huaibei, Anhui)": (116.0, 33.0, 117.0, 34.0),
}
#: Each crop's season in the map year, as scored.
SEASONS = {"wheat": ("2018-03-15", "2018-05-31"), "maize": ("2018-06-20", "2018-09-10")}
#: Scenario, precipitation change, methods it applies to. ``irrigation_placebo`` is the
#: learned irrigation-off scenario with its rain-fed forest replaced by a forest of as many
#: stations drawn at random, irrigated or not: what two forests of different stations
#: differ by without any irrigation contrast.
SCENARIOS = (("irrigation_rainfed", 0.0, ("cropsm",)), ("irrigation_placebo", 0.0, ("cropsm",)),
             ("irrigation", 0.0, ("paper",)),
             ("precipitation", -0.3, ("paper", "cropsm")),
             ("precipitation", 0.3, ("paper", "cropsm")))
DEPTH = "0-10cm"
#: The network's pattern scenarios: season and layers.
PATTERN_SEASON = ("2018-06-20", "2018-09-10")
PATTERN_LAYERS = ("0-10cm", "30-40cm")


def _print_row(row: dict, *labels: str) -> None:
    """One markdown table row: the labels, then the response skill."""
    print("| " + " | ".join(labels) + f" | {row['n']} | {row['mean_true']:+.4f} | "
          f"{row['mean_model']:+.4f} | {row['mean_ratio']:.2f} | {row['r']:.2f} | "
          f"{row['sign_agreement']:.0%} |", flush=True)


def pattern_rows(reader: CatalogReader, network_file: str, china) -> list[dict]:
    """Every present pattern on every region and layer, scored against the truth."""
    network = load_network(network_file)
    cov, daily = reader.dataset("covariates"), reader.dataset("covariates_daily")
    stations, meta = reader.table("stations"), reader.table("station_meta")
    rows = []
    for region, box in REGIONS.items():
        plan = live.plan_region(cov, daily, "maize", DEPTH, shapely.box(*box),
                                *PATTERN_SEASON, china, budget=2**40)
        present = cov["pattern_fraction"].isel(y=plan.rows, x=plan.cols).values
        for layer in PATTERN_LAYERS:
            for k, code in enumerate(patterns.PATTERNS):
                if not (present[k][plan.region] > 0).any():
                    continue
                t0 = time.perf_counter()
                result = ps.pattern_scenario(network, cov, daily, stations, meta, plan.rows,
                                             plan.cols, plan.region, plan.dates, layer, code)
                check = pattern_truth_check(reader, network, result, plan, layer, code)
                assert check is not None
                row = {"region": region, "layer": layer, "pattern": patterns.PATTERNS[code],
                       **check.skill, "warning": check.warning,
                       "seconds": round(time.perf_counter() - t0, 1)}
                rows.append(row)
                _print_row(row, region, layer, row["pattern"])
    return rows


def _serving(folder: str, crop: str, method: str, omitted: str | None = None) -> ServingModel:
    path = model_path(folder, crop, DEPTH, omitted, method)
    return ServingModel.from_model(load_model(path, crop, DEPTH), read_card(path)["sha256"])


def _placebo(reader: CatalogReader, crop: str, seed: int = 0) -> ServingModel:
    """A CropSM forest of as many random stations as the rain-fed forest has."""
    meta = reader.table("station_meta")
    table = training_table(reader.dataset("covariates"), reader.dataset("covariates_daily"),
                           reader.table("stations"), meta, crop, DEPTH, memory=True)
    rainfed = table["station_id"].iloc[rainfed_rows(table, meta)].nunique()
    stations = np.sort(table["station_id"].astype(str).unique())
    drawn = np.random.default_rng(seed).choice(stations, size=rainfed, replace=False)
    table = table[table["station_id"].astype(str).isin(drawn)].reset_index(drop=True)
    train, _ = split_within_zones(table, seed=seed)
    forest = fit_cropsm_model(table.iloc[train], crop, DEPTH, seed=seed, omit=RAINFED_ONLY)
    # stands in for the rain-fed forest in the learned scenario's slot
    return ServingModel.from_model(forest)


def _unchanged(result, check) -> dict:
    """The model's mean ΔSM where the truth does not change (|ΔSM| below the threshold)."""
    predicted = np.asarray(result.baseline["predicted"], bool)
    still = predicted & (np.abs(check.truth.difference) < SIGN_THRESHOLD)
    return {"share_truth_unchanged": float(still.sum() / max(predicted.sum(), 1)),
            "mean_model_truth_unchanged": float(np.nanmean(result.difference[still]))
            if still.any() else float("nan")}


def main() -> None:
    """Run every scenario on every region and crop; print a table and write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalog", required=True)
    parser.add_argument("--models", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--patterns-only", action="store_true",
                        help="Only the network's pattern scenarios.")
    parser.add_argument("--only", nargs="+", choices=sorted({s[0] for s in SCENARIOS}),
                        help="Only these forest scenarios; their rows replace those in --out.")
    args = parser.parse_args()
    open_catalog(args.catalog)  # a clear error for a wrong path before any work
    reader = CatalogReader(args.catalog)
    cov, daily = reader.dataset("covariates"), reader.dataset("covariates_daily")
    china = shapely.box(70, 15, 140, 55)
    rows = []
    placebos: dict[str, ServingModel] = {}
    for region, box in ({} if args.patterns_only else REGIONS).items():
        for crop, (start, end) in SEASONS.items():
            for name, factor, methods in SCENARIOS:
                if args.only and name not in args.only:
                    continue
                for method in methods:
                    model = _serving(args.models, crop, method)
                    models = {crop: model}
                    if name == "irrigation_rainfed":
                        models["rainfed"] = _serving(args.models, crop, method, RAINFED_ONLY)
                    if name == "irrigation_placebo":
                        if crop not in placebos:
                            placebos[crop] = _placebo(reader, crop)
                        models["rainfed"] = placebos[crop]
                    t0 = time.perf_counter()
                    try:
                        plan = live.plan_region(cov, daily, crop, DEPTH, shapely.box(*box),
                                                start, end, china, budget=2**40,
                                                memory=model.memory)
                        result, check = checked_scenario(
                            reader, "irrigation_rainfed" if name == "irrigation_placebo"
                            else name, models, plan, factor)
                    except (PredictError, ValueError) as err:
                        print(region, crop, name, factor, method, "skipped:", err)
                        continue
                    assert check is not None
                    row = {"region": region, "crop": crop, "scenario": name,
                           "factor": factor, "method": method, **check.skill,
                           **_unchanged(result, check),
                           "warning": check.warning,
                           "seconds": round(time.perf_counter() - t0, 1)}
                    rows.append(row)
                    _print_row(row, region, crop, f"{name} {factor:+.0%}", method)
    if args.only:
        with open(args.out) as fh:
            report = json.load(fh)
        report["rows"] = [r for r in report["rows"] if r["scenario"] not in args.only] + rows
    else:
        network = network_path(args.models)
        pattern = pattern_rows(reader, str(network), china) if network.is_file() else []
        report = {"depth": DEPTH, "seasons": SEASONS, "regions": REGIONS, "rows": rows,
                  "pattern_season": PATTERN_SEASON, "pattern_rows": pattern}
    with open(args.out, "w") as fh:
        json.dump(report, fh, indent=1, default=float)


if __name__ == "__main__":
    main()
