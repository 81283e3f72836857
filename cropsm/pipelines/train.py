"""Train the models per crop × depth (the paper's forests or the CropSM method's), with cards."""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cropsm.core import metrics
from cropsm.core.errors import InputDataError
from cropsm.io.catalog import open_catalog, training_fingerprint
from cropsm.io.models import model_path, save_model, trained_on
from cropsm.pipelines._common import PRODUCTS, ProgressFactory, bar, read_station_inputs
from cropsm.rf import model as sm_model
from cropsm.rf.features import BASE_FEATURES, RAINFED_ONLY

__all__ = ["TooFewRainfedStations", "TrainedModel", "rainfed_rows", "train_models"]


@dataclass(frozen=True)
class TrainedModel:
    """One forest trained and saved.

    Attributes
    ----------
    crop, depth : str
    omitted : str or None
        The feature group a reduced model leaves out (:data:`cropsm.rf.model.FEATURE_GROUPS`).
    path : pathlib.Path
        The skops file; its card lies beside it.
    n_train, n_test : int
        Rows of the 90/10 split within zones.
    scores : dict
        The card's ``cv_scores``: held-out skill with CIR predicted and observed, and the
        grid search's result (None without tuning).
    seconds : float
        Time to build the table (if not shared), fit, score and save.
    size_bytes : int
        Size of the skops file.
    """

    crop: str
    depth: str
    omitted: str | None
    path: Path
    n_train: int
    n_test: int
    scores: dict[str, Any]
    seconds: float
    size_bytes: int

    @property
    def name(self) -> str:
        """``crop/depth``, and ``without <group>`` for a reduced model."""
        return f"{self.crop}/{self.depth}" + (f" without {self.omitted}" if self.omitted
                                              else "")


#: Fewest stations a forest's area of applicability can be measured on.
_MIN_RAINFED_STATIONS = 3


class TooFewRainfedStations(InputDataError):
    """A product has too few rain-fed stations for its rain-fed forest."""


def rainfed_rows(table: pd.DataFrame, station_meta: pd.DataFrame, what: str = "this crop "
                 "and depth") -> np.ndarray:
    """Positions of ``table``'s rows observed at stations whose plot is not irrigated.

    ``what`` names the product in the messages.

    Raises
    ------
    cropsm.core.errors.InputDataError
        The station metadata has no ``irrigated`` column, or (as
        :class:`TooFewRainfedStations`) fewer than three rain-fed stations observe
        ``what``.
    """
    if "irrigated" not in station_meta:
        raise InputDataError("The station metadata has no 'irrigated' column (whether each "
                             "station's plot is irrigated); add it to station_meta to train "
                             "the rain-fed forest, or rebuild the demo world.")
    rainfed = set(station_meta.loc[~station_meta["irrigated"].astype(bool), "station_id"])
    station = table["station_id"].astype(str)
    rows = np.flatnonzero(station.isin(rainfed).to_numpy())
    found = station.iloc[rows].nunique()
    if found < _MIN_RAINFED_STATIONS:
        raise TooFewRainfedStations(
            f"Only {found} rain-fed stations observe {what}; the rain-fed forest needs at "
            f"least {_MIN_RAINFED_STATIONS} (its area of applicability is measured between "
            "stations), so it is not trained: the learned irrigation-off scenario is not "
            f"available for {what}.")
    return rows


def train_models(catalog_path: str | Path, models_dir: str | Path,
                 crops_depths: Sequence[tuple[str, str]] = PRODUCTS, tune: bool = False,
                 cir_training: str = "observed", seed: int = 0, if_missing: bool = False,
                 omit: Iterable[str] = (), progress: ProgressFactory | None = None,
                 method: str = "paper") -> list[TrainedModel]:
    """Train and save the forest of each crop × depth (90/10 split within zones).

    Parameters
    ----------
    catalog_path : path
        Intake catalog with ``covariates``, ``covariates_daily``, ``stations`` and
        ``station_meta``.
    models_dir : path
        Folder for the skops files and model cards.
    crops_depths : sequence of (str, str)
        Which models; default all of :data:`cropsm.core.crops.CROPS` × ``DEPTHS``.
    tune : bool
        Select hyper-parameters by 10-fold CV (:data:`cropsm.rf.model.TUNING_GRID`).
    cir_training : {"observed", "cross_fitted"}
        CIR the regressor learns from (see :func:`cropsm.rf.model.fit_model`).
    seed : int
    if_missing : bool
        Skip models whose card says they were trained on these inputs
        (:func:`cropsm.io.catalog.training_fingerprint`).
    omit : iterable of str
        Also train reduced models without each of these feature groups (paper method),
        or, for the CropSM method, :data:`~cropsm.rf.features.RAINFED_ONLY`: its forest
        trained on the rain-fed stations only, for the learned irrigation-off scenario.
    progress : ProgressFactory, optional
        One bar, ``"models"``, advanced after each model.
    method : {"paper", "cropsm"}
        The paper's classifier + regressor, or the CropSM method's forest
        (``docs/method.md``; ``tune``, ``cir_training`` and ``omit`` are the paper's).

    Returns
    -------
    list of TrainedModel
        The models trained, in order; empty when ``if_missing`` found them all.
    """
    if method not in sm_model.METHODS:
        raise ValueError(f"Unknown method {method!r}; choose one of "
                         f"{', '.join(sm_model.METHODS)}.")
    cropsm_method = method == "cropsm"
    if cropsm_method and (tune or set(omit) - {RAINFED_ONLY} or cir_training != "observed"):
        raise ValueError("--tune, --omit and --cir-training apply to the paper method only.")
    if not cropsm_method and RAINFED_ONLY in omit:
        raise ValueError("The rain-fed stations' forest belongs to the CropSM method; train "
                         "it with --method cropsm.")
    cat = open_catalog(catalog_path)
    fingerprint = training_fingerprint(cat, f"cir_training={cir_training} seed={seed} "
                                            f"tune={tune} method={method}")
    todo = [(c, d, group) for c, d in crops_depths for group in (None, *omit)
            if not (if_missing and trained_on(model_path(models_dir, c, d, group, method),
                                              fingerprint))]
    if not todo:
        return []
    inputs = read_station_inputs(cat)
    update = bar(progress, "models", len(todo))
    tables: dict[tuple[str, str], pd.DataFrame] = {}
    trained: list[TrainedModel] = []
    for c, d, group in todo:
        t0 = time.perf_counter()
        if (c, d) not in tables:
            tables[c, d] = sm_model.training_table(inputs.covariates, inputs.daily,
                                                   inputs.stations, inputs.station_meta, c, d,
                                                   memory=cropsm_method)
        table = tables[c, d]
        if group == RAINFED_ONLY:
            try:
                rows = rainfed_rows(table, inputs.station_meta, f"{c} at {d}")
            except TooFewRainfedStations as err:
                # a small world lacks them for some products; the others still train
                warnings.warn(str(err), UserWarning, stacklevel=2)
                update(1)
                continue
            table = table.iloc[rows].reset_index(drop=True)
        train_idx, test_idx = sm_model.split_within_zones(table, seed=seed)
        held = table.iloc[test_idx]
        if cropsm_method:
            fitted = sm_model.fit_cropsm_model(table.iloc[train_idx], c, d, seed=seed,
                                               omit=group)
            scores: dict[str, Any] = {"held_out": metrics.skill_table(fitted.predict(held),
                                                                      held["sm"]),
                                      "tuning": None}
        else:
            tuning = sm_model.tune(table.iloc[train_idx], seed) if tune else None
            params = tuning["best_params"] if tuning else None
            fitted = sm_model.fit_model(table.iloc[train_idx], c, d, params, seed,
                                        cir_training=cir_training, omit=group)
            base = held[list(BASE_FEATURES)]
            scores = {
                "held_out_cir_predicted": metrics.skill_table(fitted.predict(base), held["sm"]),
                "held_out_cir_observed": metrics.skill_table(
                    fitted.predict(base, cir=held["CIR"]), held["sm"]),
                "tuning": tuning,
            }
        fitted.info["training_data"] = fingerprint
        path = save_model(fitted, models_dir, cv_scores=scores)
        trained.append(TrainedModel(
            crop=c, depth=d, omitted=group, path=path, n_train=len(train_idx),
            n_test=len(test_idx), scores=scores, seconds=time.perf_counter() - t0,
            size_bytes=path.stat().st_size))
        update(1)
    return trained
