"""The multilayer cropland neural network of Liu et al. (2021), on CropSM's grid.

One feed-forward network per 10 cm layer (0-10 ... 40-50 cm, :data:`cropsm.core.crops.SOIL_LAYERS`),
trained on the station observations of that layer across both crops:

* inputs are standardised; the cropping pattern enters one-hot (:mod:`cropsm.core.patterns`);
* the network of layer k also takes the prediction of layer k-1 (``sm_upper``): a
  chain, so a lower layer never sees an observation of the layer above;
* observations are split 70/30 at random (the paper's scheme) and the network holds 10%
  of its training rows for validation, which early stopping and the grid search use;
* the search covers batch size, learning rate, hidden layers and units per layer: by
  default the paper's whole 240-setting grid (:data:`SEARCH_GRID`, which holds every
  setting its Table 2 picked, :data:`LIU_TABLE_2`), by scikit-learn's successive halving
  (:class:`~sklearn.model_selection.HalvingGridSearchCV`) on a 10 % validation split;
  ``search="exhaustive"`` fits every setting on all the rows instead.

scikit-learn's :class:`~sklearn.neural_network.MLPRegressor` is the network: the paper's
networks are small (at most 3 x 96 units), so no heavier framework is needed.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from sklearn.compose import TransformedTargetRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.model_selection import (
    HalvingGridSearchCV,
    ParameterGrid,
    train_test_split,
)
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from cropsm.core import crops, metrics, patterns
from cropsm.core.errors import InputDataError
from cropsm.nn.inputs import (
    ABSENT_FEATURES,
    ACCUMULATION_DAYS,
    GROUPS,
    LIU_TABLE_2,
    NETWORK_FEATURES,
    PAPER_GRID,
    PATTERN_COLUMNS,
    SEARCH_GRID,
    SINGLE_SETTING,
)
from cropsm.rf.features import (
    FeatureError,
    check_monthly,
    monthly_at_pixels,
    rain_at_pixels,
    sample_pixels,
)

__all__ = [
    "ABSENT_FEATURES",
    "ACCUMULATION_DAYS",
    "NETWORK_FEATURES",
    "GROUPS",
    "LIU_TABLE_2",
    "PAPER_GRID",
    "SEARCH_GRID",
    "SEARCHES",
    "SINGLE_SETTING",
    "LayerNetwork",
    "MultilayerNetwork",
    "check_layer",
    "features_at",
    "fit_network",
    "kept_features",
    "layer_tables",
    "random_split",
]

_FIXED = {"max_iter": 200, "early_stopping": True, "validation_fraction": 0.1,
          "n_iter_no_change": 10}
#: How a layer's hyper-parameters are searched.
SEARCHES: dict[str, str] = {
    "halving": "successive halving: every setting on a small sample, the best third on "
               "three times as many rows, ..., the last on all training rows",
    "exhaustive": "every setting fitted on all training rows",
}
#: Successive halving keeps the best 1/_HALVING_FACTOR of the settings at each round.
_HALVING_FACTOR = 3
#: Rows (fit + validation) of the first round at least: a small station set would
#: otherwise leave the first round no validation rows; it then stops before one setting.
_HALVING_MIN_ROWS = 60


def check_layer(layer: str) -> str:
    """``layer`` if it is one of :data:`cropsm.core.crops.SOIL_LAYERS`, else a clear error."""
    if layer not in crops.SOIL_LAYERS:
        raise ValueError(f"Unknown layer {layer!r}; the world has {', '.join(crops.SOIL_LAYERS)}.")
    return layer


def kept_features(layer: str, omit: str | None = None) -> tuple[str, ...]:
    """The inputs of ``layer``'s network, without group ``omit``."""
    upper = ("sm_upper",) if crops.SOIL_LAYERS.index(check_layer(layer)) else ()
    names = NETWORK_FEATURES + upper
    if omit is None:
        return names
    if omit not in GROUPS:
        raise ValueError(f"Unknown feature group {omit!r}; choose one of {', '.join(GROUPS)}.")
    return tuple(n for n in names if n not in GROUPS[omit])


def features_at(covariates: xr.Dataset, daily: xr.Dataset, rows, cols, dates,
                pattern=None, short_history: str = "raise") -> pd.DataFrame:
    """The network's inputs (:data:`NETWORK_FEATURES`) at grid cells and dates.

    Parameters
    ----------
    covariates, daily : xarray.Dataset
        Static covariates on the grid (with the climatological ``air_temperature`` by
        ``month``), and daily ``pre`` with monthly ``tas_anomaly`` (month_start, lat,
        lon) on their coarse grid, as for :func:`cropsm.rf.features.features_at`.
        ``air_temperature`` is the climatology of the sample's calendar month plus
        ``tas_anomaly`` of its year-month, interpolated bilinearly to the cell.
    rows, cols, dates : array_like
        One grid cell and date per sample.
    pattern : int or array_like of int, optional
        Cropping pattern code of each sample; the pixel's dominant pattern if None.
    short_history : {"raise", "nan"}
        What to do with samples whose 12 months of precipitation are not all in
        ``daily``: raise a :class:`~cropsm.rf.features.FeatureError`, or give them NaN
        accumulations (training drops those rows and counts them).
    """
    rows = np.asarray(rows, dtype="i8")
    cols = np.asarray(cols, dtype="i8")
    dates = pd.DatetimeIndex(dates).normalize()
    if not (rows.shape == cols.shape == (len(dates),)):
        raise ValueError("rows, cols and dates must have one value per sample")
    needed = ["air_temperature", "sand", "silt", "clay", "bulk_density", "elevation",
              "cropping_pattern"]
    missing = [v for v in needed if v not in covariates] + [
        f"{v} (daily covariates)" for v in ("pre", "tas_anomaly") if v not in daily]
    if missing:
        raise FeatureError(f"Covariates missing for the network: {', '.join(missing)}; "
                           "rebuild the demo world (`cropsm demo build`).")
    if len(dates) == 0:
        return pd.DataFrame({f: np.array([], "f4") for f in NETWORK_FEATURES})
    at, inverse, lon, lat = sample_pixels(covariates, rows, cols)
    static = covariates[needed].isel(at).compute()

    longest = max(ACCUMULATION_DAYS.values())
    have = pd.DatetimeIndex(daily["time"].values)
    first = dates.min() - pd.Timedelta(days=longest)
    short = first < have[0] and short_history == "raise"
    if short or dates.min() < have[0] or dates.max() > have[-1]:
        raise FeatureError(
            f"Daily precipitation covers {have[0]:%Y-%m-%d}..{have[-1]:%Y-%m-%d}; the network "
            f"needs {first:%Y-%m-%d}..{dates.max():%Y-%m-%d} (12 months of accumulated "
            "precipitation before each date).")
    check_monthly(daily, "tas_anomaly", dates)
    start = max(first, have[0])
    rain, csum = rain_at_pixels(daily, lat, lon, start, dates.max())
    day = (dates - start).days.to_numpy()
    out: dict[str, np.ndarray] = {"pre": rain[day, inverse]}
    for name, length in ACCUMULATION_DAYS.items():
        back = day - length
        out[name] = np.where(back >= 0, csum[day, inverse] - csum[np.maximum(back, 0), inverse],
                             np.nan)
    month = dates.month.to_numpy() - 1
    anomaly, month_of = monthly_at_pixels(daily, "tas_anomaly", lat, lon, dates)
    climate = np.asarray(static["air_temperature"].values, "f4")
    out["air_temperature"] = climate[month, inverse] + anomaly[month_of, inverse]
    for name in ("sand", "silt", "clay", "bulk_density", "elevation"):
        out[name] = static[name].values[inverse]
    out["doy"] = dates.day_of_year.to_numpy()
    code = (static["cropping_pattern"].values[inverse] if pattern is None
            else np.broadcast_to(np.asarray(pattern), (len(dates),)))
    for column, c in zip(PATTERN_COLUMNS, patterns.PATTERNS, strict=True):
        out[column] = code == c
    return pd.DataFrame({name: np.asarray(out[name], dtype="f4") for name in NETWORK_FEATURES})


def layer_tables(covariates: xr.Dataset, daily: xr.Dataset, stations: pd.DataFrame,
                 station_meta: pd.DataFrame) -> tuple[dict[str, pd.DataFrame], dict]:
    """Features and target of every station observation, per layer.

    Rows whose 12-month precipitation starts before the daily covariates are dropped
    and counted (the first months of the record).

    Returns
    -------
    tables : dict of str to pandas.DataFrame
        Per layer: :data:`NETWORK_FEATURES`, then ``sm``, ``station_id``, ``crop``, ``zone``,
        ``pattern``, ``date``.
    dropped : dict of str to int
        Rows dropped per layer for lack of precipitation history.
    """
    missing = [c for c in ("station_id", "row", "col", "pattern") if c not in station_meta]
    if missing:
        raise InputDataError(f"The station metadata lacks {', '.join(missing)}; the network needs "
                             "each station's grid cell and cropping pattern "
                             "(cropsm.core.patterns codes).")
    meta = station_meta[["station_id", "row", "col", "pattern"]]
    tables, dropped = {}, {}
    present = set(stations["depth"].astype(str).unique())
    if not present & set(crops.SOIL_LAYERS):
        raise InputDataError(f"No station observations at the network's layers "
                             f"{crops.SOIL_LAYERS}; the stations have {sorted(present)}.")
    depth = stations["depth"].astype(str)
    observed = stations[depth.isin(crops.SOIL_LAYERS)].assign(depth=depth)
    # every layer of a visit shares its inputs: compute them once per station and date
    visits = observed[["station_id", "date"]].drop_duplicates(ignore_index=True).merge(
        meta, on="station_id", how="left", validate="many_to_one")
    inputs = features_at(covariates, daily, visits["row"], visits["col"], visits["date"],
                         pattern=visits["pattern"].to_numpy(), short_history="nan")
    inputs[["station_id", "date", "pattern"]] = visits[["station_id", "date", "pattern"]]
    for layer in crops.SOIL_LAYERS:
        obs = observed[observed["depth"] == layer]
        if obs.empty:
            continue
        table = obs[["station_id", "date", "sm", "crop", "zone"]].merge(
            inputs, on=["station_id", "date"], how="left", validate="one_to_one")
        table = table[[*NETWORK_FEATURES, "sm", "station_id", "crop", "zone", "pattern", "date"]]
        table["crop"] = table["crop"].astype(str)
        complete = table[list(NETWORK_FEATURES)].notna().all(axis=1).to_numpy()
        dropped[layer] = int((~complete).sum())
        tables[layer] = table[complete].reset_index(drop=True)
    return tables, dropped


def random_split(table: pd.DataFrame, seed: int = 0, test_size: float = 0.3
                 ) -> tuple[np.ndarray, np.ndarray]:
    """The paper's random 70/30 split of one layer's observations (positions)."""
    idx = np.arange(len(table))
    train, test = train_test_split(idx, test_size=test_size, random_state=seed)
    return np.sort(train), np.sort(test)


def _make(params: dict, seed: int, n_rows: int | None = None) -> TransformedTargetRegressor:
    hidden = (int(params["units"]),) * int(params["n_hidden"])
    batch = int(params["batch_size"])
    # the grid's batches are for the national station set; a small set trains in one batch
    if n_rows:
        batch = min(batch, int(n_rows * (1 - _FIXED["validation_fraction"])))
    mlp = MLPRegressor(hidden_layer_sizes=hidden, batch_size=batch,
                       learning_rate_init=float(params["learning_rate_init"]),
                       random_state=seed, **_FIXED)
    # standardised SM as the target too: the output layer then starts near the mean
    return TransformedTargetRegressor(make_pipeline(StandardScaler(), mlp),
                                      transformer=StandardScaler())


@dataclass
class LayerNetwork:
    """A fitted network of one layer: standardised inputs and target, MLP, its inputs."""

    layer: str
    pipeline: TransformedTargetRegressor
    features: tuple[str, ...]
    info: dict = field(default_factory=dict)

    def predict(self, x: pd.DataFrame) -> np.ndarray:
        """SM (m³ m⁻³) from a frame holding this layer's inputs."""
        return self.pipeline.predict(x[list(self.features)].to_numpy("f4")).astype("f4")


@dataclass
class MultilayerNetwork:
    """The chain of layer networks, top layer first."""

    layers: dict[str, LayerNetwork]
    omitted_group: str | None = None
    info: dict = field(default_factory=dict)

    def predict(self, x: pd.DataFrame, upto: str | None = None) -> dict[str, np.ndarray]:
        """SM of every layer down to ``upto`` (all by default), each fed the one above.

        ``x`` holds :data:`NETWORK_FEATURES`; ``sm_upper`` always comes from the chain itself.
        """
        last = crops.SOIL_LAYERS.index(check_layer(upto)) if upto else len(self.layers) - 1
        wanted = crops.SOIL_LAYERS[:last + 1]
        gaps = [layer for layer in wanted if layer not in self.layers]
        if gaps:
            raise InputDataError(f"The network has no model for {', '.join(gaps)}; it has "
                             f"{', '.join(self.layers)}. Train it with `cropsm network "
                             "train`.")
        frame = x.copy()
        out = {}
        for layer in wanted:
            out[layer] = self.layers[layer].predict(frame)
            frame["sm_upper"] = out[layer]
        return out


def _split(n_rows: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The 90/10 fit/validation positions every search scores its settings on."""
    fit_idx, val_idx = train_test_split(np.arange(n_rows), test_size=0.1, random_state=seed)
    return np.sort(fit_idx), np.sort(val_idx)


def _search(x: np.ndarray, y: np.ndarray, grid: dict, seed: int) -> tuple[dict, list]:
    """Pick the setting with the lowest MSE on a 10% validation split of the training rows."""
    fit_idx, val_idx = _split(len(y), seed)
    scores = []
    for params in ParameterGrid(grid):
        pipe = _make(params, seed, fit_idx.size).fit(x[fit_idx], y[fit_idx])
        mse = float(np.mean((pipe.predict(x[val_idx]) - y[val_idx]) ** 2))
        scores.append({"params": params, "validation_mse": mse})
    best = min(scores, key=lambda s: s["validation_mse"])
    return dict(best["params"]), scores


class _SearchMLP(MLPRegressor):
    """The search's network: quiet about clipping its batch to a small sample.

    Successive halving's first rounds fit a few hundred rows, fewer than the grid's
    largest batches; scikit-learn then trains in one batch, as :func:`_make` does, and
    warns on every fit. Unconverged early rounds are what halving expects.
    """

    def fit(self, X, y):  # noqa: N803 (scikit-learn's signature)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Got `batch_size` less than 1 or larger")
            warnings.filterwarnings("ignore", category=ConvergenceWarning)
            return super().fit(X, y)


def _halving_search(x: np.ndarray, y: np.ndarray, grid: dict, seed: int,
                    n_jobs: int | None) -> tuple[dict, list]:
    """Successive halving over ``grid``, on the fit and validation rows of :func:`_search`.

    Round k fits the best third of round k-1's settings on a random fraction
    ``3**k * f0`` of the fit rows and scores them on the same fraction of the validation
    rows (scikit-learn subsamples both); the last round uses all of both (less the
    remainder of dividing by ``3**k``), and picks.
    """
    fit_idx, val_idx = _split(len(y), seed)
    order = np.concatenate([fit_idx, val_idx])
    x, y = x[order], y[order]
    cv = [(np.arange(fit_idx.size), np.arange(fit_idx.size, len(y)))]
    hidden = [(int(u),) * int(h) for h in grid["n_hidden"] for u in grid["units"]]
    estimator = TransformedTargetRegressor(
        Pipeline([("standardscaler", StandardScaler()),
                  ("mlpregressor", _SearchMLP(random_state=seed, **_FIXED))]),
        transformer=StandardScaler())
    prefix = "regressor__mlpregressor__"
    rounds = 1
    while _HALVING_FACTOR ** rounds <= len(ParameterGrid(grid)):
        rounds += 1
    first = min(len(y), max(len(y) // _HALVING_FACTOR ** (rounds - 1), _HALVING_MIN_ROWS))
    search = HalvingGridSearchCV(
        estimator,
        {f"{prefix}hidden_layer_sizes": hidden,
         f"{prefix}batch_size": [int(b) for b in grid["batch_size"]],
         f"{prefix}learning_rate_init": [float(r) for r in grid["learning_rate_init"]]},
        factor=_HALVING_FACTOR, resource="n_samples", min_resources=first, cv=cv,
        scoring="neg_mean_squared_error", refit=False, random_state=seed, n_jobs=n_jobs,
        error_score="raise")
    search.fit(x, y)
    results = search.cv_results_
    scores: list[dict[str, Any]] = []
    for i, setting in enumerate(results["params"]):
        layers = setting[f"{prefix}hidden_layer_sizes"]
        scores.append({
            "params": {"batch_size": setting[f"{prefix}batch_size"],
                       "learning_rate_init": setting[f"{prefix}learning_rate_init"],
                       "n_hidden": len(layers), "units": layers[0]},
            "validation_mse": float(-results["mean_test_score"][i]),
            "round": int(results["iter"][i]),
            "fit_rows": int(results["n_resources"][i] / len(y) * fit_idx.size)})
    best = scores[int(search.best_index_)]
    return dict(best["params"]), scores


def fit_network(tables: dict[str, pd.DataFrame], train_rows: dict[str, np.ndarray] | None = None,
                grid: dict | None = None, params: dict[str, dict] | None = None,
                omit: str | None = None, seed: int = 0, search: str = "halving",
                n_jobs: int | None = None,
                on_layer: Callable[[LayerNetwork], None] | None = None) -> MultilayerNetwork:
    """Fit the chain, layer by layer from the top.

    Parameters
    ----------
    tables : dict of str to pandas.DataFrame
        :func:`layer_tables` output.
    train_rows : dict of str to numpy.ndarray, optional
        Training positions per layer (all rows if None).
    grid : dict, optional
        Grid to search per layer (:data:`SEARCH_GRID` if neither ``grid`` nor
        ``params`` is given).
    params : dict of str to dict, optional
        Fixed settings per layer (e.g. those a full model selected), skipping the search.
    omit : str, optional
        A key of :data:`GROUPS`: a reduced network for the control experiments.
    seed : int
    search : {"halving", "exhaustive"}
        How the grid is searched (:data:`SEARCHES`). A grid of one setting is not searched.
    n_jobs : int, optional
        Worker processes of the halving search (joblib's convention; one if None).
    on_layer : callable, optional
        Called with each layer's network once it is fitted, so a long search can report.
    """
    if search not in SEARCHES:
        raise ValueError(f"Unknown search {search!r}; choose one of {', '.join(SEARCHES)}.")
    grid = grid or SEARCH_GRID
    layers: dict[str, LayerNetwork] = {}
    for layer in crops.SOIL_LAYERS:
        if layer not in tables:
            break
        table = tables[layer]
        rows = np.arange(len(table)) if train_rows is None else train_rows[layer]
        frame = table.iloc[rows]
        if layers:
            upper = MultilayerNetwork(dict(layers)).predict(frame)
            frame = frame.assign(sm_upper=upper[crops.SOIL_LAYERS[len(layers) - 1]])
        names = kept_features(layer, omit)
        x = frame[list(names)].to_numpy("f4")
        y = frame["sm"].to_numpy("f4")
        t0 = time.perf_counter()
        scores: list
        if params and layer in params:
            best, scores = dict(params[layer]), []
        elif len(ParameterGrid(grid)) == 1:
            best, scores = dict(next(iter(ParameterGrid(grid)))), []
        elif search == "halving":
            best, scores = _halving_search(x, y, grid, seed, n_jobs)
        else:
            best, scores = _search(x, y, grid, seed)
        t1 = time.perf_counter()
        pipe = _make(best, seed, len(y)).fit(x, y)
        # the saved network predicts and is never trained further: dropping Adam's state
        # keeps the archive to types the model loader trusts
        del pipe.regressor_[-1]._optimizer
        fitted = pipe.predict(x)
        layers[layer] = LayerNetwork(layer, pipe, names, info={
            "params": best, "search": scores, "n_samples": int(len(y)),
            "epochs": int(pipe.regressor_[-1].n_iter_), "fit_seconds": time.perf_counter() - t1,
            "search_seconds": t1 - t0, "search_method": search if scores else "none",
            "r2_train": float(metrics.r2(fitted, y)),
        })
        if on_layer is not None:
            on_layer(layers[layer])
    if not layers:
        raise InputDataError("No layer tables to train on; expected "
                             f"{', '.join(crops.SOIL_LAYERS)}.")
    return MultilayerNetwork(layers, omit, info={"seed": seed})
