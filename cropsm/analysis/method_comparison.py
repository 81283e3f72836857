"""The random forest and the multilayer network, scored on the same held-out rows.

Every scheme predicts the same station observations with both methods:

* ``random_70_30``: the network paper's random split, per layer; the forest of each crop
  is trained on that crop's rows of the same training set;
* ``station_blocked``: the same station folds for both methods (each station's rows are
  predicted by models that never saw the station);
* ``zone_blocked``: leave one agricultural zone out.

The forest is the ChinaCropSM1km method (:func:`cropsm.rf.model.fit_model`, CIR from its
classifier at prediction time) and exists for the product's :data:`cropsm.core.crops.DEPTHS`;
the network covers all five :data:`cropsm.core.crops.SOIL_LAYERS`. The blocked schemes reuse each
layer's hyper-parameters selected on the random split rather than searching again per
fold, which would multiply the cost by the number of folds.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import pandas as pd
from sklearn.model_selection import GroupKFold, PredefinedSplit

from cropsm.analysis.schemes import SCHEMES
from cropsm.analysis.validation import blocked_predictions
from cropsm.core import crops, metrics
from cropsm.nn.network import GROUPS, fit_network, random_split
from cropsm.rf.features import BASE_FEATURES
from cropsm.rf.model import fit_model

__all__ = ["SCHEMES", "align_forest_tables", "compare_methods", "control_experiments",
           "markdown_report", "markdown_table"]

_KEYS = ["station_id", "date"]


def align_forest_tables(network_tables: dict[str, pd.DataFrame],
                        forest_tables: dict[tuple[str, str], pd.DataFrame]
                        ) -> dict[tuple[str, str], pd.DataFrame]:
    """The forest's rows of each crop and depth, in the order of the network's table.

    Adds ``position``: the row's position in the network's table of that layer.
    """
    aligned = {}
    for (crop, depth), table in forest_tables.items():
        net = network_tables[depth]
        keys = net[_KEYS].assign(position=np.arange(len(net)))[net["crop"] == crop]
        merged = keys.merge(table.assign(date=pd.DatetimeIndex(table["date"])), on=_KEYS,
                            how="inner", validate="one_to_one")
        aligned[crop, depth] = merged.sort_values("position", ignore_index=True)
    return aligned


def _fold_splits(tables: dict[str, pd.DataFrame], n_folds: int) -> dict[str, np.ndarray]:
    """Fold of every row, by station, identical for every layer."""
    stations = np.unique(np.concatenate([t["station_id"].to_numpy() for t in tables.values()]))
    splitter = GroupKFold(min(n_folds, stations.size))
    fold_of = dict.fromkeys(stations, -1)
    for k, (_, test) in enumerate(splitter.split(stations, groups=stations)):
        for s in stations[test]:
            fold_of[s] = k
    return {layer: np.array([fold_of[s] for s in t["station_id"]]) for layer, t in tables.items()}


def _network_out_of_fold(tables, folds: dict[str, np.ndarray], params: dict, seed: int
                         ) -> dict[str, np.ndarray]:
    pred = {layer: np.full(len(t), np.nan, "f4") for layer, t in tables.items()}
    for k in np.unique(np.concatenate(list(folds.values()))):
        train = {layer: np.nonzero(f != k)[0] for layer, f in folds.items()}
        net = fit_network(tables, train, params=params, seed=seed)
        for layer, table in tables.items():
            test = np.nonzero(folds[layer] == k)[0]
            if test.size:
                pred[layer][test] = net.predict(table.iloc[test], upto=layer)[layer]
    return pred


def _forest_out_of_fold(table: pd.DataFrame, crop: str, depth: str, folds: np.ndarray,
                        seed: int) -> np.ndarray:
    # float32 like the network's predictions, so both methods are scored alike
    return blocked_predictions(table, crop, depth, PredefinedSplit(folds),
                               seed=seed).astype("f4")


def _row(method, scheme, layer, crop, pred, obs, **extra) -> dict:
    return {"method": method, "scheme": scheme, "layer": layer, "crop": crop,
            **metrics.skill_table(pred, obs), **extra}


def _score_both(rows, scheme, tables, aligned, net_pred, forest_pred) -> None:
    for layer, table in tables.items():
        obs = table["sm"].to_numpy()
        rows.append(_row("network", scheme, layer, "all", net_pred[layer], obs))
        for crop in crops.CROPS:
            mine = (table["crop"] == crop).to_numpy()
            if (crop, layer) in aligned:
                pos = aligned[crop, layer]["position"].to_numpy()
                rows.append(_row("network", scheme, layer, crop, net_pred[layer][pos],
                                 obs[pos]))
                rows.append(_row("forest", scheme, layer, crop, forest_pred[crop, layer],
                                 obs[pos]))
            elif mine.any():
                rows.append(_row("network", scheme, layer, crop, net_pred[layer][mine],
                                 obs[mine]))



def compare_methods(tables: dict[str, pd.DataFrame],
                    forest_tables: dict[tuple[str, str], pd.DataFrame],
                    seed: int = 0, n_folds: int = 5, grid: dict | None = None,
                    schemes: tuple[str, ...] = SCHEMES,
                    progress: Callable[[str, dict], None] | None = None,
                    search: str = "halving", n_jobs: int | None = None) -> dict:
    """RF vs NN per layer and crop under the three schemes.

    Parameters
    ----------
    tables : dict
        :func:`cropsm.nn.network.layer_tables` output.
    forest_tables : dict
        :func:`cropsm.rf.model.training_table` per (crop, depth) for the forest's depths.
    schemes : tuple of str
        Which of :data:`SCHEMES` to run after the random split (which always runs: it
        selects the network's settings).
    progress : callable, optional
        Called after each scheme with a message and the result so far, so a long run can
        save what it has.
    search, n_jobs
        How the network's settings are searched (:func:`cropsm.nn.network.fit_network`).

    Returns
    -------
    dict
        ``rows`` (one dict per method, scheme, layer and crop with the metrics of
        :func:`cropsm.core.metrics.skill_table` and, for the random split, ``r2_train`` and
        ``fit_seconds``), the network's selected ``params`` per layer, its search scores,
        and ``network``: the network fitted on the random split's 70 %.
    """
    unknown = set(schemes) - set(SCHEMES)
    if unknown:
        raise ValueError(f"Unknown schemes {sorted(unknown)}; choose from {', '.join(SCHEMES)}.")
    say = progress or (lambda message, result: None)
    aligned = align_forest_tables(tables, forest_tables)
    rows: list[dict] = []
    split = {layer: random_split(t, seed) for layer, t in tables.items()}
    t0 = time.perf_counter()
    net = fit_network(tables, {layer: s[0] for layer, s in split.items()}, grid=grid, seed=seed,
                      search=search, n_jobs=n_jobs)
    params = {layer: n.info["params"] for layer, n in net.layers.items()}
    result = {"rows": rows, "params": params, "n_folds": n_folds, "seed": seed,
              "search": {layer: n.info["search"] for layer, n in net.layers.items()},
              "search_seconds": time.perf_counter() - t0, "network": net}
    for layer, table in tables.items():
        train, test = split[layer]
        info = net.layers[layer].info
        pred = net.predict(table.iloc[test], upto=layer)[layer]
        obs = table["sm"].to_numpy()[test]
        rows.append(_row("network", "random_70_30", layer, "all", pred, obs,
                         r2_train=info["r2_train"], fit_seconds=info["fit_seconds"],
                         search_seconds=info["search_seconds"], n_train=len(train)))
        test_crop = table["crop"].to_numpy()[test]
        for crop in crops.CROPS:
            mine = test_crop == crop
            if not mine.any():
                continue
            if (crop, layer) in aligned:
                rows.append(_forest_random_split(aligned[crop, layer], crop, layer, train,
                                                 test, seed))
            rows.append(_row("network", "random_70_30", layer, crop, pred[mine], obs[mine]))
    say("random split scored", result)

    if "station_blocked" in schemes:
        folds = _fold_splits(tables, n_folds)
        net_pred = _network_out_of_fold(tables, folds, params, seed)
        forest_pred = {key: _forest_out_of_fold(t, *key, folds[key[1]][t["position"]], seed)
                       for key, t in aligned.items()}
        _score_both(rows, "station_blocked", tables, aligned, net_pred, forest_pred)
        say("station-blocked scored", result)

    zones = {layer: t["zone"].to_numpy() for layer, t in tables.items()}
    all_zones = np.unique(np.concatenate(list(zones.values())))
    if "zone_blocked" in schemes and all_zones.size > 1:
        zone_folds = {layer: np.searchsorted(all_zones, z) for layer, z in zones.items()}
        net_pred = _network_out_of_fold(tables, zone_folds, params, seed)
        forest_pred = {key: _forest_out_of_fold(t, *key, zone_folds[key[1]][t["position"]], seed)
                       for key, t in aligned.items()}
        _score_both(rows, "zone_blocked", tables, aligned, net_pred, forest_pred)
        say("zone-blocked scored", result)
    return result


def _forest_random_split(table, crop, layer, train, test, seed) -> dict:
    """Fit the crop's forest on its rows of the network's training set; score its test rows."""
    pos = table["position"].to_numpy()
    in_train, in_test = np.isin(pos, train), np.isin(pos, test)
    t0 = time.perf_counter()
    model = fit_model(table[in_train], crop, layer, seed=seed)
    seconds = time.perf_counter() - t0
    held = table[in_test]
    fitted = model.predict(table[in_train][list(BASE_FEATURES)])
    return _row("forest", "random_70_30", layer, crop, model.predict(held[list(BASE_FEATURES)]),
                held["sm"], r2_train=float(metrics.r2(fitted, table[in_train]["sm"])),
                fit_seconds=seconds, n_train=int(in_train.sum()))


def control_experiments(tables: dict[str, pd.DataFrame], params: dict[str, dict],
                        seed: int = 0) -> pd.DataFrame:
    """R² lost by networks without each feature group, ranked (Liu et al. Fig. 5).

    As in the paper, R² is that of the training fit of the full and the reduced
    networks (section 2c); the held-out R² on the random 30% is reported beside it.
    """
    split = {layer: random_split(t, seed) for layer, t in tables.items()}
    train = {layer: s[0] for layer, s in split.items()}

    def scores(omit):
        net = fit_network(tables, train, params=params, omit=omit, seed=seed)
        out = {}
        for layer, table in tables.items():
            test = split[layer][1]
            pred = net.predict(table.iloc[test], upto=layer)[layer]
            out[layer] = (net.layers[layer].info["r2_train"],
                          float(metrics.r2(pred, table["sm"].to_numpy()[test])))
        return out

    full = scores(None)
    rows = []
    for group in GROUPS:
        reduced = scores(group)
        for layer, (r2_train, r2_test) in reduced.items():
            rows.append({"group": group, "layer": layer, "r2_train": r2_train,
                         "r2_test": r2_test, "r2_loss": full[layer][0] - r2_train,
                         "r2_test_loss": full[layer][1] - r2_test})
    frame = pd.DataFrame(rows)
    mean = frame.groupby("group")["r2_loss"].mean().rename("mean_r2_loss")
    frame = frame.merge(mean, on="group")
    return frame.sort_values(["mean_r2_loss", "layer"], ascending=[False, True],
                             ignore_index=True)


def markdown_table(rows: list[dict], scheme: str) -> str:
    """One scheme's RF-vs-NN rows as a Markdown table."""
    frame = pd.DataFrame([r for r in rows if r["scheme"] == scheme])
    cols = ["layer", "crop", "method", "n", "r2_train", "r2", "r", "rmse", "bias", "ubrmse",
            "fit_seconds", "search_seconds"]
    frame = frame.reindex(columns=cols).sort_values(["layer", "crop", "method"])
    head = "| " + " | ".join(cols) + " |\n|" + "---|" * len(cols) + "\n"
    body = "".join("| " + " | ".join(_fmt(v) for v in row) + " |\n"
                   for row in frame.itertuples(index=False))
    return head + body


_SCHEMES = {"random_70_30": "Random 70/30 split (the network paper's scheme)",
            "station_blocked": "Station-blocked (the same station folds for both methods)",
            "zone_blocked": "Zone-blocked (leave one agricultural zone out)"}


def markdown_report(result: dict) -> str:
    """The comparison, the selected hyper-parameters and the control experiments."""
    from cropsm.nn.network import ABSENT_FEATURES

    parts = ["# Random forest vs multilayer network on the same held-out rows\n",
             "Forest: ChinaCropSM1km (Cheng et al. 2022), one per crop x depth, CIR from its "
             "classifier. Network: Liu et al. (2021), one per layer across both crops, "
             "chained (each layer takes the prediction of the layer above). `fit_seconds` "
             "is the final fit of one model; the network's grid search is timed apart.\n"]
    rows = result.get("rows", [])
    if "dropped_short_history" in result:
        parts.append("Rows per layer without 12 months of rain before them, dropped: " + ", ".join(
            f"{k} {n}" for k, n in result["dropped_short_history"].items()) + ".\n")
    if "search_seconds" in result:
        parts.append(f"Grid search and final fits of the five layers: "
                     f"{result['search_seconds']:.0f} s; whole run so far: "
                     f"{result.get('seconds', 0):.0f} s.\n")
    for scheme, title in _SCHEMES.items():
        if any(r["scheme"] == scheme for r in rows):
            parts.append(f"## {title}\n\n" + markdown_table(rows, scheme))
    parts.append("## Selected network settings per layer\n\n| layer | hidden layers | units "
                 "| batch size | learning rate |\n|---|---|---|---|---|\n" + "".join(
                     f"| {layer} | {p['n_hidden']} | {p['units']} | {p['batch_size']} | "
                     f"{p['learning_rate_init']} |\n"
                     for layer, p in result.get("params", {}).items()))
    if "control_experiments" in result:
        frame = pd.DataFrame(result["control_experiments"])
        ranking = frame.pivot_table(index="group", columns="layer", values="r2_loss")
        ranking["mean"] = ranking.mean(axis=1)
        ranking = ranking.sort_values("mean", ascending=False)
        cols = list(ranking.columns)
        parts.append("## Control experiments (Fig. 5): training R² lost without each group\n\n"
                     "| group | " + " | ".join(cols) + " |\n|---|" + "---|" * len(cols) + "\n"
                     + "".join(f"| {g} | " + " | ".join(_fmt(v) for v in row) + " |\n"
                               for g, row in ranking.iterrows()))
    parts.append("## Inputs the world cannot provide\n\n" + "".join(
        f"- {name}: {why}\n" for name, why in ABSENT_FEATURES.items()))
    return "\n".join(parts)


def _fmt(value) -> str:
    if isinstance(value, float | np.floating):
        return "" if np.isnan(value) else f"{value:.3f}"
    return str(value)
