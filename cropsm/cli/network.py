"""``cropsm network ...``: the multilayer network of Liu et al. (2021) from the command line."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from cropsm.io.catalog import DEFAULT_CATALOG

_GROUPS = ["precipitation", "air_temperature", "soil", "elevation", "cropping_pattern"]


def _fail(err: Exception) -> None:
    click.echo(f"error: {err}", err=True)
    sys.exit(2)


def _layer_tables(catalog_path: str):
    from cropsm.io.catalog import open_catalog, read_entry
    from cropsm.nn.network import layer_tables

    cat = open_catalog(catalog_path)
    inputs = {name: read_entry(name, cat) for name in
              ("covariates", "covariates_daily", "stations", "station_meta")}
    tables, dropped = layer_tables(inputs["covariates"], inputs["covariates_daily"],
                                   inputs["stations"], inputs["station_meta"])
    click.echo("rows per layer: " + ", ".join(f"{k} {len(t)}" for k, t in tables.items())
               + "; dropped for lack of 12 months of rain: "
               + ", ".join(f"{k} {n}" for k, n in dropped.items()))
    return inputs, tables, dropped


def _grid(name: str) -> dict:
    from cropsm.nn import network

    return {"paper": network.PAPER_GRID, "default": network.SEARCH_GRID,
            "single": {k: v[:1] for k, v in network.SEARCH_GRID.items()}}[name]


@click.group()
def network() -> None:
    """The multilayer neural network (five 10 cm layers, cropping patterns)."""


@network.command("train")
@click.option("--catalog", "catalog_path", default=str(DEFAULT_CATALOG), show_default=True)
@click.option("--models", "models_dir", default="models", show_default=True, type=click.Path())
@click.option("--grid", type=click.Choice(["default", "paper", "single"]), default="default",
              show_default=True, help="Hyper-parameter grid: cropsm.nn.network.SEARCH_GRID, "
              "the paper's 240 settings, or its first setting only.")
@click.option("--omit", "omit", multiple=True, type=click.Choice(_GROUPS),
              help="Also train reduced networks without this feature group (repeatable).")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--if-missing", is_flag=True, help="Skip networks whose file and card exist.")
def train(catalog_path, models_dir, grid, omit, seed, if_missing):
    """Train the chained per-layer networks on 70% of the observations (30% held out)."""
    from cropsm.core import metrics
    from cropsm.io.catalog import CatalogError
    from cropsm.io.models import network_path, save_network
    from cropsm.nn.network import fit_network, random_split

    todo = [g for g in (None, *omit) if not (
        if_missing and network_path(models_dir, g).with_suffix(".card.json").exists())]
    if not todo:
        click.echo(f"networks already trained in {models_dir}")
        return
    try:
        inputs, tables, dropped = _layer_tables(catalog_path)
        split = {layer: random_split(t, seed) for layer, t in tables.items()}
        train_rows = {layer: s[0] for layer, s in split.items()}
        params = None
        for group in todo:
            t0 = time.perf_counter()
            net = fit_network(tables, train_rows, grid=_grid(grid), params=params,
                              omit=group, seed=seed)
            if group is None:
                params = {k: n.info["params"] for k, n in net.layers.items()}
            dates = inputs["stations"]["date"]
            net.info["training_period"] = [f"{dates.min():%Y-%m-%d}", f"{dates.max():%Y-%m-%d}"]
            scores = {}
            for layer, table in tables.items():
                test = split[layer][1]
                pred = net.predict(table.iloc[test], upto=layer)[layer]
                scores[layer] = {"r2_train": net.layers[layer].info["r2_train"],
                                 "held_out": metrics.skill_table(pred,
                                                                 table["sm"].to_numpy()[test]),
                                 "dropped_short_history": dropped[layer]}
            path = save_network(net, models_dir, scores)
            name = "network" + (f" without {group}" if group else "")
            click.echo(f"{name}: " + "; ".join(
                f"{k} R2 train {s['r2_train']:.3f} test {s['held_out']['r2']:.3f}"
                for k, s in scores.items())
                + f"; {time.perf_counter() - t0:.0f} s -> {path}")
    except (CatalogError, ValueError, OSError) as err:
        _fail(err)


@network.command("compare")
@click.option("--catalog", "catalog_path", default=str(DEFAULT_CATALOG), show_default=True)
@click.option("--out", default="docs/validation", show_default=True, type=click.Path())
@click.option("--models", "models_dir", default="models", show_default=True, type=click.Path(),
              help="Where the network fitted on the random split's 70 % is saved.")
@click.option("--grid", type=click.Choice(["default", "paper", "single"]), default="default",
              show_default=True)
@click.option("--folds", default=5, show_default=True, type=int,
              help="Station folds of the station-blocked scheme.")
@click.option("--scheme", "schemes", multiple=True,
              type=click.Choice(["station_blocked", "zone_blocked"]),
              help="Blocked schemes to run after the random split [default: both].")
@click.option("--control/--no-control", default=True, show_default=True,
              help="Also run the control experiments (one reduced network per group).")
@click.option("--seed", default=0, show_default=True, type=int)
def compare(catalog_path, out, models_dir, grid, folds, schemes, control, seed):
    """RF vs NN on the same held-out rows, and the control experiments (Fig. 5).

    The report is rewritten after every stage, so an interrupted run keeps what it did.
    """
    from cropsm.analysis import method_comparison as mc
    from cropsm.core import crops
    from cropsm.io.catalog import CatalogError
    from cropsm.io.models import save_network
    from cropsm.io.store import write_json
    from cropsm.rf import model as sm_model

    out = Path(out)
    t0 = time.perf_counter()

    def save(message: str, result: dict) -> None:
        click.echo(f"  {message} ({time.perf_counter() - t0:.0f} s)", err=True)
        report = {k: v for k, v in result.items() if k != "network"}
        report["seconds"] = time.perf_counter() - t0
        out.mkdir(parents=True, exist_ok=True)
        write_json(report, out / "network_comparison.json", default=float)
        (out / "network_comparison.md").write_text(mc.markdown_report(report))

    try:
        inputs, tables, dropped = _layer_tables(catalog_path)
        forest = {(c, d): sm_model.training_table(
            inputs["covariates"], inputs["covariates_daily"], inputs["stations"],
            inputs["station_meta"], c, d) for c in crops.CROPS for d in crops.DEPTHS}
        result = {"dropped_short_history": dropped}

        def stage(message: str, partial: dict) -> None:
            result.update(partial)
            save(message, result)

        stage("started", {})
        partial = mc.compare_methods(tables, forest, seed=seed, n_folds=folds, grid=_grid(grid),
                                     schemes=schemes or mc.SCHEMES, progress=stage)
        net = partial["network"]
        dates = inputs["stations"]["date"]
        net.info["training_period"] = [f"{dates.min():%Y-%m-%d}", f"{dates.max():%Y-%m-%d}"]
        scores = {r["layer"]: {"r2_train": r["r2_train"], "held_out": {
            k: r[k] for k in ("n", "r", "r2", "bias", "rmse", "ubrmse")}}
            for r in partial["rows"] if r["scheme"] == "random_70_30" and r["crop"] == "all"}
        path = save_network(net, models_dir, scores)
        click.echo(f"network fitted on the 70 % split -> {path}", err=True)
        if control:
            ranking = mc.control_experiments(tables, partial["params"], seed=seed)
            stage("control experiments done",
                  {"control_experiments": ranking.to_dict("records")})
        click.echo((out / "network_comparison.md").read_text())
    except (CatalogError, ValueError, OSError) as err:
        _fail(err)
