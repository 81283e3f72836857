"""Gridded prediction: features, the CIR classifier, the regressor and its spread, per block.

The product is computed in chunk-aligned blocks (one crop and depth, one tile of the
grid, a run of days). :func:`predict_window` is the pure computation of one block; the
dask graph that runs blocks on a cluster and writes them to Zarr is in
:mod:`cropsm.serve.engine`. The dashboard's live region runs call :func:`predict_window` too.

Predictions are made for cropland cells of the crop (harvested fraction at least
:data:`cropsm.core.crops.CROPLAND_MIN_FRACTION`) on days of its season (sowing to end of
season), the domain of the station data the model learned from; other cells are missing.
The season is the covariates' ``sowing`` and ``eos`` (crop, y, x), days of year.

A model of the CropSM method (``docs/method.md``) reads the memory indices too: its rows
carry :data:`SERVING_COLUMNS`, the paper's features then
:data:`cropsm.rf.memory.MEMORY_FEATURES`, and it has no irrigation classifier.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from cropsm.core import crops
from cropsm.core.errors import CropSMError
from cropsm.rf.applicability import Applicability
from cropsm.rf.features import ANTECEDENT_DAYS, BASE_FEATURES, FEATURES, FeatureError, features_at
from cropsm.rf.memory import MEMORY_FEATURES, MemoryParams, memory_at
from cropsm.serve.serving_forest import ServingForest

__all__ = ["COVARIATES", "QUANTILES", "SERVING_COLUMNS", "PredictError", "ServingModel",
           "WindowRows", "apply_model", "feature_rows",
           "coarsen_mean", "cropland", "predict_window", "serving_covariates", "valid_dates",
           "window_rows"]

#: Covariates a prediction reads (static, monthly PET, crop fraction and season).
COVARIATES = ("bulk_density", "river_distance", "moisture_index", "fc", "pet",
              "crop_fraction", "sowing", "eos")
#: Per-tree quantiles reported as the prediction's uncertainty band.
QUANTILES = (0.1, 0.9)
_CIR = FEATURES.index("CIR")
#: Columns of the rows a CropSM-method model reads: the paper's features, then memory.
SERVING_COLUMNS: tuple[str, ...] = FEATURES + MEMORY_FEATURES
#: CIR of rows a model without an irrigation classifier predicts: not estimated.
NO_CIR = 255


class PredictError(CropSMError, ValueError):
    """A prediction request cannot be served (dates, region or model); nothing was written."""


@dataclass(frozen=True)
class ServingModel:
    """A crop × depth model in serving form: classifier, regressor, area of applicability.

    The CropSM method's model has no classifier and reads :data:`SERVING_COLUMNS`; the
    paper's reads :data:`cropsm.rf.features.FEATURES`.
    """

    crop: str
    depth: str
    sha256: str
    classifier: ServingForest | None
    regressor: ServingForest
    applicability: Applicability
    method: str = "paper"
    omitted: str | None = None

    @classmethod
    def from_model(cls, model, sha256: str = "") -> ServingModel:
        """Convert a :class:`cropsm.rf.model.SoilMoistureModel` (as trained and saved)."""
        method = model.info.get("method", "paper")
        columns = SERVING_COLUMNS if method == "cropsm" else FEATURES
        if not set(model.features) <= set(columns):
            raise PredictError(f"The model uses features {list(model.features)}, this code "
                               f"{list(columns)}; retrain it with `cropsm train`.")
        reference = model.info.get("applicability")
        if reference is None:
            raise PredictError(f"The {model.crop}/{model.depth} model has no area-of-"
                               "applicability reference (trained before it existed); retrain "
                               "it with `cropsm train`.")
        classifier = None if model.classifier is None else ServingForest.from_sklearn(
            model.classifier, [FEATURES.index(f) for f in BASE_FEATURES], len(columns))
        return cls(model.crop, model.depth, sha256, classifier,
                   # a reduced model reads its columns out of the full feature rows
                   ServingForest.from_sklearn(model.regressor,
                                              [columns.index(f) for f in model.features],
                                              len(columns)),
                   Applicability(**reference), method, model.info.get("omitted_group"))

    @property
    def memory(self) -> bool:
        """Whether the model reads the memory indices (the CropSM method)."""
        return self.method == "cropsm"

    def predict_rows(self, X: np.ndarray, irrigation: bool = True) -> dict[str, np.ndarray]:
        """CIR, SM and its per-tree 10th/90th percentiles for rows of the model's columns.

        The CIR column of ``X`` is overwritten with the classifier's prediction (or with 0
        when ``irrigation`` is False), which is what the regressor then sees: the
        observation never enters. A model without a classifier reports CIR as
        :data:`NO_CIR` and refuses ``irrigation=False``, which means nothing to it.
        """
        X = np.array(X, dtype=np.float32, order="C")  # a copy: the caller's rows stay as given
        if self.classifier is None:
            if not irrigation:
                raise PredictError(f"The {self.method} method has no irrigation module to "
                                   "switch off; use the paper method for this scenario.")
            cir = np.full(len(X), NO_CIR, "u1")
        else:
            cir = (self.classifier.predict(X) if irrigation
                   else np.zeros(len(X), np.float32)).astype("u1")
            X[:, _CIR] = cir
        sm, low, high = self.regressor.predict(X, quantiles=QUANTILES)
        return {"sm": sm, "sm_q10": low, "sm_q90": high, "cir": cir}

    @property
    def nbytes(self) -> int:
        """Memory of the serving forests."""
        return self.regressor.nbytes + (0 if self.classifier is None
                                        else self.classifier.nbytes)


def valid_dates(daily: xr.Dataset, memory: bool = False) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last day the daily covariates can serve (antecedent rain included).

    With ``memory`` (the CropSM method), the first day has a year of rain before it.
    """
    time = pd.DatetimeIndex(daily["time"].values)
    reach = MemoryParams().reach_days if memory else ANTECEDENT_DAYS
    return time[0] + pd.Timedelta(days=reach), time[-1]


def serving_covariates(covariates: xr.Dataset) -> xr.Dataset:
    """The :data:`COVARIATES` of a covariates store (lazy stays lazy), or a FeatureError.

    A store written before world v2 has no ``sowing``; the error says to rebuild it.
    """
    _check_season(covariates)
    missing = [name for name in COVARIATES if name not in covariates]
    if missing:
        raise FeatureError(f"Covariates missing for prediction: {', '.join(missing)}.")
    return covariates[list(COVARIATES)]


def _check_season(covariates: xr.Dataset) -> None:
    if "sowing" not in covariates:
        raise FeatureError(
            "The covariates have no `sowing` (sowing day by crop), which the season test "
            "needs: the store predates world v2; rebuild it with `cropsm demo build`.")


def cropland(covariates: xr.Dataset, crop: str) -> np.ndarray:
    """Cells that are cropland of ``crop`` (harvested fraction >= the cropland minimum)."""
    fraction = covariates["crop_fraction"].sel(crop=crop).values
    return fraction >= crops.CROPLAND_MIN_FRACTION  # NaN compares False: not cropland


@dataclass(frozen=True)
class WindowRows:
    """The feature rows of a window: cropland cells of a crop on the days of its season.

    Attributes
    ----------
    shape : tuple of int
        (n_dates, ny, nx) of the window.
    t, rows, cols : numpy.ndarray of int
        Date index and cell of each row, date-major then row-major (the grid's order).
    X : numpy.ndarray of float32, shape (n_rows, len(FEATURES)) or (n_rows, len(SERVING_COLUMNS))
        The features (and memory indices); the CIR column is 0 until a classifier fills it.
    """

    shape: tuple[int, int, int]
    t: np.ndarray
    rows: np.ndarray
    cols: np.ndarray
    X: np.ndarray


def window_rows(covariates: xr.Dataset, daily: xr.Dataset, dates, crop: str,
                region: np.ndarray | None = None, memory: bool = False) -> WindowRows:
    """Feature rows of ``crop``'s cropland cells in season over a window (see predict_window).

    With ``memory`` the rows also carry the memory indices (:data:`SERVING_COLUMNS`).

    The cropland and season are ``crop``'s, whichever model is applied afterwards. The
    season is ``sowing`` to ``eos``; covariates without ``sowing`` (built before world v2)
    raise a :class:`~cropsm.rf.features.FeatureError`.
    """
    _check_season(covariates)
    dates = pd.DatetimeIndex(dates)
    shape = (len(dates), covariates.sizes["y"], covariates.sizes["x"])
    cells = cropland(covariates, crop)
    if region is not None:
        cells &= region
    # the season test runs on cropland cells only: over a whole national grid it would
    # cost more than the forests
    crop_rows, crop_cols = np.nonzero(cells)
    season = crops.in_season(
        crop, dates, covariates["sowing"].sel(crop=crop).values[crop_rows, crop_cols],
        covariates["eos"].sel(crop=crop).values[crop_rows, crop_cols])
    t, k = np.nonzero(season)  # date-major, then row-major cells: the order of the grid
    rows, cols = crop_rows[k], crop_cols[k]
    return WindowRows(shape, t, rows, cols,
                      feature_rows(covariates, daily, rows, cols, dates[t], crop, memory))


def feature_rows(covariates: xr.Dataset, daily: xr.Dataset, rows: np.ndarray,
                 cols: np.ndarray, dates: pd.DatetimeIndex, crop: str, memory: bool = False
                 ) -> np.ndarray:
    """The rows a serving model reads for samples at cells and dates.

    Returns
    -------
    numpy.ndarray of float32, shape (n, len(FEATURES)) or (n, len(SERVING_COLUMNS))
        Columns :data:`cropsm.rf.features.FEATURES` (CIR 0, for the classifier to fill),
        then with ``memory`` the memory indices of ``crop``'s season.
    """
    columns = SERVING_COLUMNS if memory else FEATURES
    X = np.zeros((len(dates), len(columns)), np.float32)  # CIR is predicted, never observed
    if len(dates):
        tables = [features_at(covariates, daily, rows, cols, dates)]
        if memory:
            tables.append(memory_at(covariates, daily, rows, cols, dates, crop))
        for table in tables:
            for name in table.columns:
                X[:, columns.index(name)] = table[name].to_numpy()
    return X


def apply_model(model: ServingModel, window: WindowRows, irrigation: bool = True
                ) -> dict[str, np.ndarray]:
    """Gridded outputs of ``model`` on a window's rows (the arrays of :func:`predict_window`).

    With ``irrigation=False`` the CIR feature is forced to 0 (the irrigation module off)
    instead of taken from the classifier. Rows with the memory indices
    (:data:`SERVING_COLUMNS`) serve a paper model too.
    """
    shape, t, rows, cols = window.shape, window.t, window.rows, window.cols
    out = {name: np.full(shape, np.nan) for name in ("sm", "sm_q10", "sm_q90")}
    out.update({name: np.full(shape, 255, "u1") for name in ("cir", "aoa")})
    out["predicted"] = np.zeros(shape, bool)
    if t.size == 0:
        return out
    out["predicted"][t, rows, cols] = True
    columns = SERVING_COLUMNS if model.memory else FEATURES
    # rows made for the CropSM method also serve a paper model: its columns come first
    X = window.X[:, :len(columns)]
    for name, values in model.predict_rows(X, irrigation=irrigation).items():
        out[name][t, rows, cols] = values
    out["aoa"][t, rows, cols] = model.applicability.inside(
        X, cells=rows * shape[2] + cols, columns=columns)
    return out


def predict_window(model: ServingModel, covariates: xr.Dataset, daily: xr.Dataset, dates,
                   region: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Predict one crop × depth over a window of the grid and a run of days.

    Parameters
    ----------
    model : ServingModel
    covariates : xarray.Dataset
        Static covariates of the window (``y``, ``x``), with ``crop_fraction``,
        ``sowing`` and ``eos`` by ``crop``.
    daily : xarray.Dataset
        Daily ``pre`` covering ``dates`` and the 10 days before.
    dates : array_like of datetime64
    region : numpy.ndarray of bool, optional
        Cells of the window to predict (default: all).

    Returns
    -------
    dict of numpy.ndarray, each of shape (n_dates, ny, nx)
        ``sm``, ``sm_q10``, ``sm_q90`` (float64, NaN where not predicted), ``cir`` and
        ``aoa`` (uint8, 255 where not predicted), and ``predicted`` (bool).
    """
    return apply_model(model, window_rows(covariates, daily, dates, model.crop, region,
                                          memory=model.memory))


def coarsen_mean(values: np.ndarray, factor: int) -> np.ndarray:
    """Mean of the non-missing cells of each ``factor`` × ``factor`` block (last 2 dims).

    Edges that do not fill a whole block are averaged over the cells they have; a block
    with no value is NaN.
    """
    *lead, ny, nx = values.shape
    py, px = -ny % factor, -nx % factor
    padded = np.pad(values, [(0, 0)] * len(lead) + [(0, py), (0, px)],
                    constant_values=np.nan)
    blocks = padded.reshape(*lead, (ny + py) // factor, factor, (nx + px) // factor, factor)
    count = np.isfinite(blocks).sum(axis=(-3, -1))
    total = np.nansum(blocks, axis=(-3, -1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / count, np.nan)
