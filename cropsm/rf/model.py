"""The soil-moisture models per crop × depth: the paper's method and CropSM's.

``method="paper"``, ChinaCropSM1km (Cheng et al. 2022, section 2.3): a random-forest
classifier predicts the irrigation state CIR from the other features; the regressor
predicts SM from the 11 features including that predicted CIR. Defaults are the
paper's tuned optimum (:data:`PAPER_PARAMS`).

``method="cropsm"`` (``docs/method.md``): one random forest on :data:`CROPSM_FEATURES`,
the paper's inputs without CIR and without latitude and longitude, plus the memory
indices of :mod:`cropsm.rf.memory`; :data:`CROPSM_PARAMS`. No classifier: CIR is
labelled from the target SM (Eq. 1), and position lets the trees learn each training
station's offset, which does not carry to other places.

Training data are split 90/10 within each agricultural zone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xarray as xr
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.model_selection import train_test_split

from cropsm.core import crops
from cropsm.core.errors import InputDataError
from cropsm.rf.applicability import DAILY_FEATURES, fit_applicability
from cropsm.rf.features import BASE_FEATURES, FEATURE_GROUPS, FEATURES, METHODS, features_at
from cropsm.rf.irrigation import cir_labels, make_classifier
from cropsm.rf.memory import MEMORY_FEATURES, memory_at

__all__ = [
    "CROPSM_FEATURES",
    "CROPSM_PARAMS",
    "FEATURE_GROUPS",
    "METHODS",
    "PAPER_PARAMS",
    "TUNING_GRID",
    "SoilMoistureModel",
    "expected_features",
    "fit_cropsm_model",
    "fit_model",
    "kept_features",
    "make_regressor",
    "omission_ranking",
    "split_within_zones",
    "training_table",
    "tune",
]

#: The paper's optimum (section 2.3.2); ``max_samples=None`` is scikit-learn's 1.0.
PAPER_PARAMS: dict[str, object] = {"n_estimators": 50, "max_features": 4,
                                   "min_samples_leaf": 1, "max_samples": None}

#: The CropSM method's inputs, in order.
CROPSM_FEATURES: tuple[str, ...] = tuple(
    f for f in BASE_FEATURES if f not in ("lat", "lon")) + MEMORY_FEATURES
#: The CropSM method's forest: the paper's size, leaves of at least 5 samples.
CROPSM_PARAMS: dict[str, object] = {**PAPER_PARAMS, "min_samples_leaf": 5}

#: The 10-fold CV grid of ``cropsm train --tune``, small enough for a 2-core machine:
#: 16 settings x 10 folds per model.
TUNING_GRID: dict[str, list] = {"n_estimators": [25, 50], "max_features": [3, 4],
                                "min_samples_leaf": [1, 5], "max_samples": [None, 0.5]}


def tune(table: pd.DataFrame, seed: int = 0, n_jobs: int = -1, folds: int = 10) -> dict:
    """10-fold CV grid search of the regressor over :data:`TUNING_GRID` (observed CIR).

    Returns the best parameters, their CV RMSE and the whole grid's scores.
    """
    from sklearn.model_selection import GridSearchCV, KFold

    search = GridSearchCV(make_regressor(random_state=seed, n_jobs=1), TUNING_GRID,
                          scoring="neg_root_mean_squared_error", n_jobs=n_jobs,
                          cv=KFold(folds, shuffle=True, random_state=seed))
    search.fit(table[list(FEATURES)].to_numpy("f4"), table["sm"].to_numpy("f4"))
    results = pd.DataFrame(search.cv_results_)
    return {
        "best_params": search.best_params_, "best_cv_rmse": float(-search.best_score_),
        "grid": TUNING_GRID, "folds": folds,
        "scores": [{"params": p, "cv_rmse": float(-s)} for p, s in
                   zip(results["params"], results["mean_test_score"], strict=True)],
    }


def make_regressor(random_state: int = 0, n_jobs: int = -1, **params) -> RandomForestRegressor:
    """A random-forest regressor with the paper's hyper-parameters unless overridden."""
    return RandomForestRegressor(**{**PAPER_PARAMS, **params}, random_state=random_state,
                                 n_jobs=n_jobs)


def training_table(covariates: xr.Dataset, daily: xr.Dataset, stations: pd.DataFrame,
                   station_meta: pd.DataFrame, crop: str, depth: str,
                   memory: bool = False) -> pd.DataFrame:
    """Features, observed CIR and target SM of every observation of one crop and depth.

    Parameters
    ----------
    memory : bool
        Add the memory indices (:data:`cropsm.rf.memory.MEMORY_FEATURES`) that the
        CropSM method needs; they read a year of rain before each observation.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`cropsm.rf.features.FEATURES` (CIR from the observation, Eq. 1),
        then ``sm``, ``station_id``, ``zone``, ``date``, ``phenology``, then the memory
        indices if asked for.
    """
    obs = stations[(stations["crop"] == crop) & (stations["depth"] == depth)]
    if obs.empty:
        have = sorted({f"{c}/{d}" for c, d in zip(stations["crop"], stations["depth"],
                                                  strict=True)})
        raise InputDataError(f"No station observations for {crop} at {depth}; the catalog "
                             f"has {', '.join(have) or 'none'}.")
    obs = obs.merge(station_meta[["station_id", "row", "col"]], on="station_id",
                    how="left", validate="many_to_one")
    if obs["row"].isna().any():
        missing = sorted(obs.loc[obs["row"].isna(), "station_id"].unique())[:5]
        raise InputDataError(f"Stations without metadata (row/col): {missing}; add them to "
                             "the station_meta table.")
    table = features_at(covariates, daily, obs["row"], obs["col"], obs["date"])
    cir = cir_labels(obs["sm"], table["fc"], crop, obs["phenology"].astype(str), depth)
    table.insert(FEATURES.index("CIR"), "CIR", cir.astype("f4"))
    table["sm"] = obs["sm"].to_numpy("f4")
    for col in ("station_id", "zone", "date", "phenology"):
        table[col] = obs[col].to_numpy()
    if memory:
        indices = memory_at(covariates, daily, obs["row"], obs["col"], obs["date"], crop)
        for name in MEMORY_FEATURES:
            table[name] = indices[name].to_numpy()
    return table


def split_within_zones(table: pd.DataFrame, test_size: float = 0.1, seed: int = 0
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Random 90/10 split of the samples within each agricultural zone (positions)."""
    idx = np.arange(len(table))
    zone = table["zone"].to_numpy()
    counts = pd.Series(zone).value_counts()
    # zones with one sample cannot be stratified; they go to training
    lone = np.isin(zone, counts.index[counts < 2])
    train, test = train_test_split(idx[~lone], test_size=test_size, random_state=seed,
                                   stratify=zone[~lone])
    return np.sort(np.concatenate([train, idx[lone]])), np.sort(test)


def kept_features(omit: str | None = None) -> tuple[str, ...]:
    """The regressor's features without group ``omit`` (all of them for None)."""
    if omit is None:
        return FEATURES
    if omit not in FEATURE_GROUPS:
        raise ValueError(f"Unknown feature group {omit!r}; choose one of "
                         f"{', '.join(FEATURE_GROUPS)}.")
    return tuple(f for f in FEATURES if f not in FEATURE_GROUPS[omit])


def expected_features(omit: str | None = None, method: str = "paper") -> tuple[str, ...]:
    """The feature order this code gives a model of ``method`` (reduced: without ``omit``)."""
    if method not in METHODS:
        raise ValueError(f"Unknown method {method!r}; choose one of {', '.join(METHODS)}.")
    return CROPSM_FEATURES if method == "cropsm" else kept_features(omit)


def omission_ranking(full: dict, reduced: dict[str, dict]) -> pd.DataFrame:
    """R² lost by each reduced model against the full one, largest loss first.

    Parameters
    ----------
    full : dict
        Held-out skill of the full model (:func:`cropsm.core.metrics.skill_table`).
    reduced : dict of str to dict
        Held-out skill of each reduced model, by omitted group, on the same split.
    """
    rows = [{"group": group, "r2": skill["r2"], "r2_loss": full["r2"] - skill["r2"],
             "rmse_change": skill["rmse"] - full["rmse"]} for group, skill in reduced.items()]
    return pd.DataFrame(rows, columns=["group", "r2", "r2_loss", "rmse_change"]).sort_values(
        "r2_loss", ascending=False, ignore_index=True)


@dataclass
class SoilMoistureModel:
    """A fitted model for one crop and depth.

    The paper's method has a classifier and a regressor; the CropSM method has only its
    forest (``classifier`` None).
    """

    crop: str
    depth: str
    classifier: RandomForestClassifier | None
    regressor: RandomForestRegressor
    features: tuple[str, ...] = FEATURES
    info: dict = field(default_factory=dict)

    @property
    def method(self) -> str:
        """``"paper"`` or ``"cropsm"`` (models saved before the choice existed: paper)."""
        return str(self.info.get("method", "paper"))

    def predict_cir(self, base: pd.DataFrame) -> np.ndarray:
        """CIR predicted from the base features (never from an observation)."""
        if self.classifier is None:
            raise ValueError(f"The {self.method} method has no irrigation classifier.")
        return self.classifier.predict(base[list(BASE_FEATURES)].to_numpy("f4"))

    def predict(self, base: pd.DataFrame, cir=None) -> np.ndarray:
        """SM (m³ m⁻³) from the inputs of the model's method.

        ``base`` holds :data:`BASE_FEATURES` (paper) or :data:`CROPSM_FEATURES`
        (cropsm); the paper's CIR comes from the classifier unless given.
        """
        if self.method == "cropsm":
            return self.regressor.predict(base[list(self.features)].to_numpy("f4"))
        cir = self.predict_cir(base) if cir is None else np.asarray(cir)
        x = base[list(BASE_FEATURES)].copy()
        x.insert(FEATURES.index("CIR"), "CIR", np.asarray(cir, "f4"))
        return self.regressor.predict(x[list(self.features)].to_numpy("f4"))


def fit_cropsm_model(table: pd.DataFrame, crop: str, depth: str,
                     params: dict | None = None, seed: int = 0, n_jobs: int = -1,
                     omit: str | None = None) -> SoilMoistureModel:
    """Fit the CropSM method's forest (:data:`CROPSM_FEATURES` -> SM).

    ``table`` is a :func:`training_table` with ``memory=True``; ``params`` override
    :data:`CROPSM_PARAMS`. ``omit`` names what the table left out, for the card and the
    file name: :data:`~cropsm.rf.features.RAINFED_ONLY` for the rain-fed stations' forest.
    """
    if crop not in crops.CROPS or depth not in crops.DEPTHS:
        raise ValueError(f"Unknown crop/depth {crop}/{depth}.")
    missing = [f for f in CROPSM_FEATURES if f not in table]
    if missing:
        raise InputDataError(f"The training table lacks {', '.join(missing)}: build it "
                             "with training_table(..., memory=True).")
    params = {**CROPSM_PARAMS, **(params or {})}
    regressor = make_regressor(random_state=seed, n_jobs=n_jobs, **params)
    regressor.fit(table[list(CROPSM_FEATURES)].to_numpy("f4"), table["sm"].to_numpy("f4"))
    dates = pd.DatetimeIndex(table["date"])
    importances = pd.Series(regressor.feature_importances_, index=list(CROPSM_FEATURES))
    applicability = fit_applicability(
        table, importances.reindex(list(FEATURES), fill_value=0.0).to_numpy(),
        daily=DAILY_FEATURES + MEMORY_FEATURES)
    return SoilMoistureModel(crop, depth, None, regressor, CROPSM_FEATURES, info={
        "method": "cropsm", "omitted_group": omit,
        "applicability": applicability.to_dict(),
        "params": dict(params), "n_samples": len(table), "cir_training": None,
        "training_period": [f"{dates.min():%Y-%m-%d}", f"{dates.max():%Y-%m-%d}"],
    })


def fit_model(table: pd.DataFrame, crop: str, depth: str, params: dict | None = None,
              seed: int = 0, n_jobs: int = -1, cir_training: str = "observed",
              omit: str | None = None) -> SoilMoistureModel:
    """Fit the classifier (base features -> observed CIR) and the regressor (11 -> SM).

    Parameters
    ----------
    cir_training : {"observed", "cross_fitted"}
        CIR the regressor is trained on. ``"observed"`` is the paper's method: the
        regressor learns from CIR labelled from the very SM it predicts, then receives
        the classifier's CIR at prediction time. ``"cross_fitted"`` trains it on
        out-of-fold classifier predictions (5-fold), so it learns how far predicted
        CIR can be trusted, the same CIR it will see when predicting.
    omit : str, optional
        A key of :data:`FEATURE_GROUPS`: fit a reduced regressor without that group.
    """
    if crop not in crops.CROPS or depth not in crops.DEPTHS:
        raise ValueError(f"Unknown crop/depth {crop}/{depth}.")
    if cir_training not in ("observed", "cross_fitted"):
        raise ValueError(f"cir_training must be 'observed' or 'cross_fitted', not "
                         f"{cir_training!r}")
    params = {**PAPER_PARAMS, **(params or {})}
    base = table[list(BASE_FEATURES)].to_numpy("f4")
    labels = table["CIR"].to_numpy("i1")
    classifier = make_classifier(**params, random_state=seed, n_jobs=n_jobs)
    classifier.fit(base, labels)
    x = table[list(FEATURES)].copy()
    if cir_training == "cross_fitted":
        from sklearn.model_selection import KFold, cross_val_predict

        x["CIR"] = cross_val_predict(make_classifier(**params, random_state=seed,
                                                     n_jobs=n_jobs), base, labels,
                                     cv=KFold(5, shuffle=True, random_state=seed))
    features = kept_features(omit)
    regressor = make_regressor(random_state=seed, n_jobs=n_jobs, **params)
    if isinstance(regressor.max_features, int):
        regressor.set_params(max_features=min(regressor.max_features, len(features)))
    regressor.fit(x[list(features)].to_numpy("f4"), table["sm"].to_numpy("f4"))
    dates = pd.DatetimeIndex(table["date"])
    importances = pd.Series(regressor.feature_importances_, index=list(features)).reindex(
        list(FEATURES), fill_value=0.0)  # an omitted feature weighs nothing in the AOA
    applicability = fit_applicability(table, importances.to_numpy())
    return SoilMoistureModel(crop, depth, classifier, regressor, features, info={
        "method": "paper", "omitted_group": omit,
        "applicability": applicability.to_dict(),
        "params": {k: v for k, v in params.items()}, "n_samples": len(table),
        "cir_training": cir_training,
        "training_period": [f"{dates.min():%Y-%m-%d}", f"{dates.max():%Y-%m-%d}"],
    })
