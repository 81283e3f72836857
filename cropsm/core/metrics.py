"""Skill metrics of Cheng et al. (2022), Eq. 2-9, as numpy kernels with xarray wrappers.

Each continuous metric has a numpy kernel ``_name(pred, obs, axis, skipna)`` and a
public wrapper ``name(pred, obs, dim=None, skipna=True)`` that accepts numpy arrays or
xarray objects (dask-backed included, through :func:`xarray.apply_ufunc` with
``dask="parallelized"``), following xskillscore. All metrics share that signature;
the argument order is prediction first, observation second, and bias is
prediction minus observation.

Notes on the paper's equations:

* Eq. 3 prints R² as ``1 - SSE / (N * sum((P - mean(P))**2))``: the extra ``N`` in the
  denominator pushes R² towards 1 and the mean is the prediction's. :func:`r2`
  implements the standard coefficient of determination,
  ``1 - sum((P - O)**2) / sum((O - mean(O))**2)``, as scikit-learn's ``r2_score``.
* Eq. 7 and 8 print PA = TP / (TP + FP) and UA = TP / (TP + FN) while the text calls
  Eq. 7 UA and Eq. 8 PA. :func:`classification_scores` uses the remote-sensing
  convention the text follows: producer's accuracy = TP / (TP + FN) (recall), user's
  accuracy = TP / (TP + FP) (precision).
"""

from __future__ import annotations

import warnings

import numpy as np
import xarray as xr
from scipy import stats

__all__ = [
    "bias",
    "classification_scores",
    "pearson_r",
    "pearson_r_ci",
    "r2",
    "rmse",
    "skill_table",
    "taylor_statistics",
    "ubrmse",
]


def _prepare(pred, obs, axis, skipna):
    pred = np.asarray(pred, dtype="f8")
    obs = np.asarray(obs, dtype="f8")
    pred, obs = np.broadcast_arrays(pred, obs)
    if skipna:
        missing = np.isnan(pred) | np.isnan(obs)
        pred = np.where(missing, np.nan, pred)
        obs = np.where(missing, np.nan, obs)
    return pred, obs


def _mean(a, axis, skipna):
    if skipna and np.isnan(a).any():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices give NaN
            return np.nanmean(a, axis=axis)
    return np.mean(a, axis=axis)


def _bias(pred, obs, axis=-1, skipna=True):
    pred, obs = _prepare(pred, obs, axis, skipna)
    return _mean(pred - obs, axis, skipna)


def _rmse(pred, obs, axis=-1, skipna=True):
    pred, obs = _prepare(pred, obs, axis, skipna)
    return np.sqrt(_mean((pred - obs) ** 2, axis, skipna))


def _ubrmse(pred, obs, axis=-1, skipna=True):
    """Eq. 6: sqrt(RMSE² - bias²), the RMSE of the anomalies about each series' mean."""
    pred, obs = _prepare(pred, obs, axis, skipna)
    diff = pred - obs
    centred = diff - np.expand_dims(_mean(diff, axis, skipna), axis)
    return np.sqrt(_mean(centred**2, axis, skipna))


def _pearson_r(pred, obs, axis=-1, skipna=True):
    pred, obs = _prepare(pred, obs, axis, skipna)
    pa = pred - np.expand_dims(_mean(pred, axis, skipna), axis)
    oa = obs - np.expand_dims(_mean(obs, axis, skipna), axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        num = _mean(pa * oa, axis, skipna)
        den = np.sqrt(_mean(pa**2, axis, skipna) * _mean(oa**2, axis, skipna))
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def _r2(pred, obs, axis=-1, skipna=True):
    pred, obs = _prepare(pred, obs, axis, skipna)
    oa = obs - np.expand_dims(_mean(obs, axis, skipna), axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        sse = _mean((pred - obs) ** 2, axis, skipna)
        sst = _mean(oa**2, axis, skipna)
        return np.where(sst > 0, 1.0 - sse / np.where(sst > 0, sst, 1.0), np.nan)


def _wrap(kernel, pred, obs, dim, skipna):
    if not isinstance(pred, xr.DataArray | xr.Dataset) and not isinstance(obs, xr.DataArray):
        pred_a = np.asarray(pred)
        if dim is None:
            out = kernel(np.ravel(pred_a), np.ravel(np.asarray(obs)), axis=-1, skipna=skipna)
            return float(out)
        return kernel(pred_a, np.asarray(obs), axis=dim, skipna=skipna)
    dims = list(pred.dims) if dim is None else [dim] if isinstance(dim, str) else list(dim)
    if len(dims) > 1:
        pred = pred.stack(_sample=dims)
        obs = obs.stack(_sample=dims)
        dims = ["_sample"]
    return xr.apply_ufunc(kernel, pred, obs, input_core_dims=[dims, dims],
                          kwargs={"axis": -1, "skipna": skipna}, dask="parallelized",
                          output_dtypes=[float],
                          # reducing over a chunked dimension needs it whole in one block
                          dask_gufunc_kwargs={"allow_rechunk": True})


def bias(pred, obs, dim=None, skipna=True):
    """Eq. 4: mean of prediction minus observation (m³ m⁻³ for SM).

    Parameters
    ----------
    pred, obs : array_like or xarray.DataArray
        Prediction and observation.
    dim : str or list of str or int, optional
        Dimension(s) to reduce (axis for numpy input); all by default.
    skipna : bool
        Ignore pairs where either value is NaN.
    """
    return _wrap(_bias, pred, obs, dim, skipna)


def rmse(pred, obs, dim=None, skipna=True):
    """Eq. 5: root-mean-square error."""
    return _wrap(_rmse, pred, obs, dim, skipna)


def ubrmse(pred, obs, dim=None, skipna=True):
    """Eq. 6: unbiased RMSE, ``sqrt(RMSE² - bias²)``."""
    return _wrap(_ubrmse, pred, obs, dim, skipna)


def pearson_r(pred, obs, dim=None, skipna=True):
    """Eq. 2: Pearson correlation coefficient; NaN for a constant series."""
    return _wrap(_pearson_r, pred, obs, dim, skipna)


def r2(pred, obs, dim=None, skipna=True):
    """Coefficient of determination ``1 - SSE / SST`` (see the module notes on Eq. 3)."""
    return _wrap(_r2, pred, obs, dim, skipna)


def pearson_r_ci(pred, obs, alpha: float = 0.05) -> tuple[float, float, float, float]:
    """Pearson r with its two-sided p-value and Fisher-z confidence interval.

    Returns
    -------
    r, p_value, lower, upper : float
        NaN where fewer than four valid pairs or a constant series.
    """
    pred, obs = _prepare(np.ravel(pred), np.ravel(obs), -1, True)
    keep = ~np.isnan(pred)
    pred, obs = pred[keep], obs[keep]
    if pred.size < 4 or np.ptp(pred) == 0 or np.ptp(obs) == 0:
        return (np.nan,) * 4
    res = stats.pearsonr(pred, obs)
    ci = res.confidence_interval(confidence_level=1 - alpha)
    return float(res.statistic), float(res.pvalue), float(ci.low), float(ci.high)


def skill_table(pred, obs) -> dict[str, float]:
    """All continuous metrics of one sample as a dict (N counts valid pairs)."""
    pred = np.ravel(np.asarray(pred, "f8"))
    obs = np.ravel(np.asarray(obs, "f8"))
    r, p, lo, hi = pearson_r_ci(pred, obs)
    return {
        "n": int((~np.isnan(pred) & ~np.isnan(obs)).sum()), "r": r, "r_p_value": p,
        "r_ci_low": lo, "r_ci_high": hi, "r2": r2(pred, obs), "bias": bias(pred, obs),
        "rmse": rmse(pred, obs), "ubrmse": ubrmse(pred, obs),
    }


def taylor_statistics(pred, obs) -> dict[str, float]:
    """The three numbers of a Taylor diagram (Taylor 2001), over valid pairs.

    Returns
    -------
    dict
        ``std_ratio`` (σ_pred / σ_obs), ``r``, and ``crmsd`` (centred RMS difference, i.e.
        ubRMSE, divided by σ_obs). They satisfy crmsd² = std_ratio² + 1 − 2·std_ratio·r.
    """
    pred = np.ravel(np.asarray(pred, "f8"))
    obs = np.ravel(np.asarray(obs, "f8"))
    valid = np.isfinite(pred) & np.isfinite(obs)
    pred, obs = pred[valid], obs[valid]
    sigma_obs = obs.std()
    return {"std_ratio": float(pred.std() / sigma_obs), "r": float(pearson_r(pred, obs)),
            "crmsd": float(ubrmse(pred, obs) / sigma_obs)}


def classification_scores(y_true, y_pred, y_score=None) -> dict[str, float]:
    """Eq. 7-9 and ROC AUC for a binary classifier (positive class 1).

    Parameters
    ----------
    y_true, y_pred : array_like of {0, 1}
        Observed and predicted classes.
    y_score : array_like, optional
        Score or probability of class 1, for the ROC AUC.

    Returns
    -------
    dict
        ``tp, fp, tn, fn``, ``producers_accuracy`` (TP / (TP + FN)),
        ``users_accuracy`` (TP / (TP + FP)), ``overall_accuracy`` and ``roc_auc``.
    """
    from sklearn.metrics import roc_auc_score

    t = np.asarray(y_true).astype(bool)
    p = np.asarray(y_pred).astype(bool)
    tp = int((t & p).sum())
    fp = int((~t & p).sum())
    tn = int((~t & ~p).sum())
    fn = int((t & ~p).sum())

    def ratio(a, b):
        return a / b if b else float("nan")

    auc = float("nan")
    if y_score is not None and 0 < t.sum() < t.size:
        auc = float(roc_auc_score(t, np.asarray(y_score)))
    return {"tp": tp, "fp": fp, "tn": tn, "fn": fn,
            "producers_accuracy": ratio(tp, tp + fn), "users_accuracy": ratio(tp, tp + fp),
            "overall_accuracy": ratio(tp + tn, t.size), "roc_auc": auc}
