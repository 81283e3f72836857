"""The paper's 240-setting network search by successive halving, timed, against Table 2.

Reproduces the search table of ``docs/network.md`` on a catalog (the demo world)::

    .venv/bin/python scripts/network_search.py --catalog catalogs/cropsm.yaml \
        --out docs/validation/network_search.json --jobs 2

The chain is fitted as ``cropsm network train --grid paper`` fits it: the paper's random
70 % of each layer's observations, layer by layer from the top, each layer's settings
picked by :class:`~sklearn.model_selection.HalvingGridSearchCV` on a 10 % validation
split of those rows. The report is rewritten after every layer, with the layer's search
time, its rounds, the settings picked beside Liu et al.'s Table 2, and the held-out R²
(the 30 %), so an interrupted run keeps what it did. The chain is then refitted with
Table 2's settings and with ``SINGLE_SETTING`` (``make run``'s), for their held-out R²
on the same rows.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pandas as pd

from cropsm.core import metrics
from cropsm.io.catalog import open_catalog
from cropsm.nn import network as nn
from cropsm.pipelines._common import read_station_inputs

_KEYS = ("n_hidden", "units", "batch_size", "learning_rate_init")


def _markdown(report: dict) -> str:
    lines = ["| layer | search (min) | rounds: settings x fit rows | picked: layers x units, "
             "batch, learning rate | Liu Table 2 | held-out R²: picked / Table 2's / single "
             "(Liu's R²_test) |",
             "|---|---|---|---|---|---|"]
    others = report.get("held_out_r2", {})
    liu_r2 = dict(zip(nn.LIU_TABLE_2, (0.64, 0.66, 0.67, 0.69, 0.69), strict=True))
    for layer, row in report["layers"].items():
        p, t = row["params"], nn.LIU_TABLE_2[layer]
        lines.append(
            f"| {layer} | {row['search_seconds'] / 60:.1f} | "
            + ", ".join(f"{n}x{r}" for n, r in row["rounds"])
            + f" | {p['n_hidden']}x{p['units']}, {p['batch_size']}, {p['learning_rate_init']}"
            + f" | {t['n_hidden']}x{t['units']}, {t['batch_size']}, {t['learning_rate_init']}"
            + f" | {row['held_out_r2']:.3f} / "
            + " / ".join(f"{others[k][layer]:.3f}" if layer in others.get(k, {}) else "…"
                         for k in ("liu_table_2", "single"))
            + f" ({liu_r2[layer]:.2f}) |")
    return "\n".join(lines) + "\n"


def main() -> None:
    """Run the search on the catalog and write the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalog", default="catalogs/cropsm.yaml")
    parser.add_argument("--out", default="docs/validation/network_search.json")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    out = Path(args.out)
    t0 = time.perf_counter()
    inputs = read_station_inputs(open_catalog(args.catalog))
    tables, _ = nn.layer_tables(inputs.covariates, inputs.daily, inputs.stations,
                                inputs.station_meta)
    split = {layer: nn.random_split(t, args.seed) for layer, t in tables.items()}
    report: dict = {"grid": nn.PAPER_GRID, "search": "halving", "jobs": args.jobs,
                    "seed": args.seed, "layers": {}}
    fitted: dict[str, nn.LayerNetwork] = {}

    def record(layer: nn.LayerNetwork) -> None:
        fitted[layer.layer] = layer
        chain = nn.MultilayerNetwork(dict(fitted))
        test = split[layer.layer][1]
        table = tables[layer.layer].iloc[test]
        pred = chain.predict(table, upto=layer.layer)[layer.layer]
        rounds = pd.DataFrame(layer.info["search"]).groupby("round").agg(
            settings=("validation_mse", "size"), rows=("fit_rows", "first"))
        report["layers"][layer.layer] = {
            "params": {k: layer.info["params"][k] for k in _KEYS},
            "liu_table_2": nn.LIU_TABLE_2[layer.layer],
            "search_seconds": layer.info["search_seconds"],
            "fit_seconds": layer.info["fit_seconds"],
            "rounds": rounds[["settings", "rows"]].to_numpy().tolist(),
            "n_train": layer.info["n_samples"],
            "r2_train": layer.info["r2_train"],
            "held_out_r2": float(metrics.r2(pred, table["sm"].to_numpy())),
            "search": layer.info["search"]}
        report["seconds"] = time.perf_counter() - t0
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=1, default=float))
        out.with_suffix(".md").write_text(_markdown(report))
        print(f"{layer.layer}: {report['layers'][layer.layer]['params']} in "
              f"{layer.info['search_seconds'] / 60:.1f} min", flush=True)

    train_rows = {k: s[0] for k, s in split.items()}
    nn.fit_network(tables, train_rows, grid=nn.PAPER_GRID, seed=args.seed, search="halving",
                   n_jobs=args.jobs, on_layer=record)
    fixed = {"liu_table_2": nn.LIU_TABLE_2,
             "single": {layer: {k: v[0] for k, v in nn.SINGLE_SETTING.items()}
                        for layer in tables}}
    report["held_out_r2"] = {}
    for name, params in fixed.items():
        t1 = time.perf_counter()
        chain = nn.fit_network(tables, train_rows, params=params, seed=args.seed)
        report["held_out_r2"][name] = {
            layer: float(metrics.r2(chain.predict(tables[layer].iloc[split[layer][1]],
                                                  upto=layer)[layer],
                                    tables[layer]["sm"].to_numpy()[split[layer][1]]))
            for layer in tables}
        report[f"{name}_fit_seconds"] = time.perf_counter() - t1
        report["seconds"] = time.perf_counter() - t0
        out.write_text(json.dumps(report, indent=1, default=float))
        out.with_suffix(".md").write_text(_markdown(report))
        print(f"{name}: fitted in {report[f'{name}_fit_seconds'] / 60:.1f} min", flush=True)
    print(_markdown(report))


if __name__ == "__main__":
    main()
