"""The multilayer network of Liu et al. (2021): train it, and compare it with the forest."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from cropsm.analysis import method_comparison as mc
from cropsm.core import metrics
from cropsm.io.catalog import open_catalog, training_fingerprint
from cropsm.io.models import network_path, save_network, trained_on
from cropsm.io.store import write_json, write_text
from cropsm.nn import network as nn
from cropsm.pipelines._common import (
    PRODUCTS,
    ProgressFactory,
    StationInputs,
    bar,
    read_station_inputs,
)
from cropsm.rf import model as sm_model

__all__ = ["MethodComparison", "TrainedNetwork", "compare_methods", "train_network"]


@dataclass(frozen=True)
class TrainedNetwork:
    """One network trained on 70 % of the observations and saved.

    Attributes
    ----------
    omitted : str or None
        The feature group a reduced network leaves out (:data:`cropsm.nn.network.GROUPS`).
    path : pathlib.Path
        The skops file; its card lies beside it.
    scores : dict
        Per layer: ``r2_train``, ``held_out`` skill on the 30 % and
        ``dropped_short_history``, as on the card.
    rows_per_layer : dict of str to int
        Observations per layer with 12 months of rain before them.
    seconds : float
        Time to fit, score and save.
    settings : dict
        Per layer: the ``params`` used and the ``search_seconds`` it took to pick them.
    """

    omitted: str | None
    path: Path
    scores: dict[str, dict[str, Any]]
    rows_per_layer: dict[str, int]
    seconds: float
    settings: dict[str, dict[str, Any]]

    @property
    def name(self) -> str:
        """``network``, and ``without <group>`` for a reduced one."""
        return "network" + (f" without {self.omitted}" if self.omitted else "")


@dataclass(frozen=True)
class MethodComparison:
    """What :func:`compare_methods` wrote.

    Attributes
    ----------
    report : dict
        The contents of ``network_comparison.json``.
    markdown : str
        The contents of ``network_comparison.md``.
    network_path : pathlib.Path
        The network fitted on the random split's 70 %.
    """

    report: dict[str, Any]
    markdown: str
    network_path: Path


def _layer_tables(inputs: StationInputs) -> tuple[dict[str, pd.DataFrame], dict[str, int]]:
    return nn.layer_tables(inputs.covariates, inputs.daily, inputs.stations,
                           inputs.station_meta)


def train_network(catalog_path: str | Path, models_dir: str | Path,
                  grid: Mapping[str, list[Any]] = nn.SEARCH_GRID,
                  omit: Iterable[str] = (), seed: int = 0, if_missing: bool = False,
                  progress: ProgressFactory | None = None, search: str = "halving",
                  n_jobs: int | None = None) -> list[TrainedNetwork]:
    """Train the chained per-layer networks on 70 % of the observations (30 % held out).

    Parameters
    ----------
    catalog_path : path
        Intake catalog of the station inputs.
    models_dir : path
        Folder for the skops files and cards.
    grid : dict
        Hyper-parameter values to search (:data:`cropsm.nn.network.SEARCH_GRID`,
        ``PAPER_GRID``, or one value each for no search).
    omit : iterable of str
        Also train reduced networks without each of these groups, with the full
        network's selected settings.
    seed : int
    if_missing : bool
        Skip networks whose card says they were trained on these inputs
        (:func:`cropsm.io.catalog.training_fingerprint`).
    progress : ProgressFactory, optional
        One bar, ``"networks"``, advanced after each network.
    search : {"halving", "exhaustive"}
        How ``grid`` is searched (:data:`cropsm.nn.network.SEARCHES`).
    n_jobs : int, optional
        Worker processes of the halving search.

    Returns
    -------
    list of TrainedNetwork
        The networks trained; empty when ``if_missing`` found them all.
    """
    cat = open_catalog(catalog_path)
    fingerprint = training_fingerprint(
        cat, f"grid={sorted(dict(grid).items())} search={search} seed={seed}")
    todo = [g for g in (None, *omit)
            if not (if_missing and trained_on(network_path(models_dir, g), fingerprint))]
    if not todo:
        return []
    inputs = read_station_inputs(cat)
    tables, dropped = _layer_tables(inputs)
    split = {layer: nn.random_split(t, seed) for layer, t in tables.items()}
    train_rows = {layer: s[0] for layer, s in split.items()}
    update = bar(progress, "networks", len(todo))
    params: dict[str, Any] | None = None
    trained: list[TrainedNetwork] = []
    for group in todo:
        t0 = time.perf_counter()
        net = nn.fit_network(tables, train_rows, grid=dict(grid), params=params, omit=group,
                             seed=seed, search=search, n_jobs=n_jobs)
        if group is None:
            params = {k: n.info["params"] for k, n in net.layers.items()}
        net.info["training_period"] = inputs.training_period
        net.info["training_data"] = fingerprint
        scores: dict[str, dict[str, Any]] = {}
        for layer, table in tables.items():
            test = split[layer][1]
            pred = net.predict(table.iloc[test], upto=layer)[layer]
            scores[layer] = {"r2_train": net.layers[layer].info["r2_train"],
                             "held_out": metrics.skill_table(pred,
                                                             table["sm"].to_numpy()[test]),
                             "dropped_short_history": dropped[layer]}
        path = save_network(net, models_dir, scores)
        trained.append(TrainedNetwork(
            omitted=group, path=path, scores=scores,
            rows_per_layer={k: len(t) for k, t in tables.items()},
            seconds=time.perf_counter() - t0,
            settings={k: {"params": n.info["params"], "search_seconds": n.info["search_seconds"]}
                      for k, n in net.layers.items()}))
        update(1)
    return trained


def compare_methods(catalog_path: str | Path, out: str | Path, models_dir: str | Path,
                    grid: Mapping[str, list[Any]] = nn.SEARCH_GRID, folds: int = 5,
                    schemes: Sequence[str] = mc.SCHEMES, control: bool = True, seed: int = 0,
                    progress: Callable[[str], None] | None = None, search: str = "halving",
                    n_jobs: int | None = None) -> MethodComparison:
    """RF vs NN on the same held-out rows, and the control experiments (Fig. 5).

    ``network_comparison.json`` and ``.md`` in ``out`` are rewritten after every stage,
    so an interrupted run keeps what it did.

    Parameters
    ----------
    catalog_path : path
        Intake catalog of the station inputs.
    out : path
        Folder for the report.
    models_dir : path
        Where the network fitted on the random split's 70 % is saved.
    grid : dict
        Hyper-parameter values the network's search tries, as in :func:`train_network`.
    folds : int
        Station folds of the station-blocked scheme.
    schemes : sequence of str
        Schemes of :data:`cropsm.analysis.method_comparison.SCHEMES` to run (the random
        split always runs: it selects the network's settings).
    control : bool
        Also run the control experiments (one reduced network per group).
    seed : int
    progress : callable, optional
        Called with a message after each stage.
    search, n_jobs
        How the network's settings are searched, as in :func:`train_network`.

    Returns
    -------
    MethodComparison
    """
    say = progress or (lambda message: None)
    out = Path(out)
    t0 = time.perf_counter()
    written: dict[str, Any] = {}

    def save(message: str, result: dict[str, Any]) -> None:
        report = {k: v for k, v in result.items() if k != "network"}
        report["seconds"] = time.perf_counter() - t0
        out.mkdir(parents=True, exist_ok=True)
        write_json(report, out / "network_comparison.json", default=float)
        written.update(report=report, markdown=mc.markdown_report(report))
        write_text(written["markdown"], out / "network_comparison.md")
        say(message)

    inputs = read_station_inputs(open_catalog(catalog_path))
    tables, dropped = _layer_tables(inputs)
    forest = {(c, d): sm_model.training_table(inputs.covariates, inputs.daily,
                                              inputs.stations, inputs.station_meta, c, d)
              for c, d in PRODUCTS}
    result: dict[str, Any] = {"dropped_short_history": dropped}

    def stage(message: str, partial: dict[str, Any]) -> None:
        result.update(partial)
        save(message, result)

    stage("started", {})
    partial = mc.compare_methods(tables, forest, seed=seed, n_folds=folds, grid=dict(grid),
                                 schemes=tuple(schemes), progress=stage, search=search,
                                 n_jobs=n_jobs)
    net = partial["network"]
    net.info["training_period"] = inputs.training_period
    scores = {r["layer"]: {"r2_train": r["r2_train"], "held_out": {
        k: r[k] for k in ("n", "r", "r2", "bias", "rmse", "ubrmse")}}
        for r in partial["rows"] if r["scheme"] == "random_70_30" and r["crop"] == "all"}
    path = save_network(net, models_dir, scores)
    say(f"network fitted on the 70 % split -> {path}")
    if control:
        ranking = mc.control_experiments(tables, partial["params"], seed=seed)
        stage("control experiments done", {"control_experiments": ranking.to_dict("records")})
    return MethodComparison(report=written["report"], markdown=written["markdown"],
                            network_path=path)
