"""Honest validation of the ChinaCropSM1km model, per crop × depth.

Rows of the report (:func:`validate`):

* ``paper``: random 90/10 split within zones, CIR taken from the observation at test
  time (our reading of the paper, which does not state it; optimistic: the target leaks
  into CIR);
* ``honest``: the same split, CIR predicted by the classifier;
* ``no_irrigation``: the same split, regressor without CIR (Table S5's comparison);
* ``honest_cross_fitted``: the same split, CIR predicted, the regressor trained on
  out-of-fold predicted CIR instead of observed CIR (this project's remedy);
* ``station_blocked``: grouped k-fold, whole stations held out, CIR predicted;
* ``zone_blocked``: leave one agricultural zone out, CIR predicted;
* with the memory indices in the table, the CropSM method's rows on the same splits:
  ``cropsm_honest``, ``cropsm_station_blocked``, ``cropsm_zone_blocked``
  (``docs/method.md``);
* per month: spatial r across stations (held-out samples of the random split);
* per zone: temporal r, RMSE, bias, ubRMSE of each station (station-blocked predictions);
* the classifier's confusion counts, PA, UA, overall accuracy and ROC AUC;
* permutation importance of the 11 features on held-out data;
* on the demo world, skill against the truth at every cropland pixel of a window whose
  stations were left out of training.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, SupportsInt, cast

import numpy as np
import pandas as pd
import shapely
import xarray as xr
from sklearn.inspection import permutation_importance
from sklearn.model_selection import BaseCrossValidator, GroupKFold, LeaveOneGroupOut

from cropsm.analysis.report import RegionReport, Skill, ValidationReport, ValidationTables
from cropsm.core import metrics
from cropsm.rf.features import BASE_FEATURES, FEATURES, features_at, grid_samples
from cropsm.rf.memory import MEMORY_FEATURES, memory_at
from cropsm.rf.model import (
    SoilMoistureModel,
    fit_cropsm_model,
    fit_model,
    make_regressor,
    split_within_zones,
)

__all__ = ["blocked_predictions", "insitu_markdown", "insitu_table", "markdown_summary",
           "region_report", "truth_window_report", "truth_window_skill", "validate"]


def blocked_predictions(table: pd.DataFrame, crop: str, depth: str,
                        splitter: BaseCrossValidator, groups: np.ndarray | None = None,
                        params: dict[str, Any] | None = None, seed: int = 0, n_jobs: int = -1,
                        method: str = "paper") -> np.ndarray:
    """Out-of-fold predictions of a method (the paper's: CIR from the classifier).

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`cropsm.rf.model.training_table`.
    crop, depth : str
        The forests' crop and depth.
    splitter : sklearn cross-validator
        Its ``split(table, groups=groups)`` gives the folds, e.g. ``GroupKFold`` by
        station or ``PredefinedSplit`` of given folds.
    groups : numpy.ndarray, optional
        Group of every row, for grouped splitters.
    method : {"paper", "cropsm"}
        The CropSM method needs the memory indices in ``table``.

    Returns
    -------
    numpy.ndarray of float64
        NaN for rows no fold tests.
    """
    fit = fit_cropsm_model if method == "cropsm" else fit_model
    pred = np.full(len(table), np.nan)
    for train, test in splitter.split(table, groups=groups):
        model = fit(table.iloc[train], crop, depth, params, seed, n_jobs)
        pred[test] = model.predict(table.iloc[test])
    return pred


def _irrigation_effect(rows: dict[str, Skill]) -> dict[str, float]:
    honest, without = rows["honest"], rows["no_irrigation"]
    return {"r2_change_pct": 100 * (honest["r2"] / without["r2"] - 1),
            "rmse_change_pct": 100 * (honest["rmse"] / without["rmse"] - 1)}


def _per_month_spatial_r(table: pd.DataFrame, pred: np.ndarray) -> dict[int, float]:
    frame = pd.DataFrame({"obs": table["sm"].to_numpy(), "pred": pred,
                          "station": table["station_id"].to_numpy(),
                          "month": pd.DatetimeIndex(table["date"]).month})
    means = frame.groupby(["month", "station"]).mean(numeric_only=True)
    out: dict[int, float] = {}
    for month, group in means.groupby(level="month"):
        if len(group) >= 3:
            # groupby keys are typed Hashable; a month is a number
            out[int(cast(SupportsInt, month))] = float(metrics.pearson_r(group["pred"],
                                                                         group["obs"]))
    return out


def _per_zone_temporal(table: pd.DataFrame, pred: np.ndarray) -> dict[str, dict[str, float]]:
    frame = pd.DataFrame({"obs": table["sm"].to_numpy(), "pred": pred,
                          "station": table["station_id"].to_numpy(),
                          "zone": table["zone"].to_numpy()})
    rows = []
    for (zone, _station), g in frame.groupby(["zone", "station"]):
        if len(g) >= 10:
            rows.append({"zone": int(cast(SupportsInt, zone)),
                         "r": metrics.pearson_r(g["pred"], g["obs"]),
                         "rmse": metrics.rmse(g["pred"], g["obs"]),
                         "bias": metrics.bias(g["pred"], g["obs"]),
                         "ubrmse": metrics.ubrmse(g["pred"], g["obs"])})
    stats = pd.DataFrame(rows)
    if stats.empty:
        return {}
    summary = stats.groupby("zone").agg(["median", "count"])
    out: dict[str, dict[str, float]] = {}
    for z in summary.index:
        out[str(z)] = {m: float(summary.loc[z, (m, "median")])
                       for m in ("r", "rmse", "bias", "ubrmse")}
        out[str(z)]["stations"] = int(summary.loc[z, ("r", "count")])
    return out


def validate(table: pd.DataFrame, crop: str, depth: str,
             params: dict[str, Any] | None = None, seed: int = 0, n_folds: int = 5,
             n_jobs: int = -1, progress: Callable[[int], None] | None = None
             ) -> tuple[ValidationReport, ValidationTables]:
    """All validation rows for one crop and depth (see the module docstring).

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`cropsm.rf.model.training_table`.
    progress : callable, optional
        Called with 1 after each of 5 steps.

    Returns
    -------
    report : ValidationReport
        Without ``truth_window`` and ``product_comparison``, which need the demo truth.
    tables : ValidationTables
        The per-sample predictions the report's figures come from.
    """
    step = progress or (lambda n: None)
    table = table.reset_index(drop=True)
    train, test = split_within_zones(table, seed=seed)
    obs_test = table["sm"].to_numpy()[test]
    model = fit_model(table.iloc[train], crop, depth, params, seed, n_jobs)
    base_test = table.iloc[test][list(BASE_FEATURES)]
    honest = model.predict(base_test)
    paper = model.predict(base_test, cir=table["CIR"].to_numpy()[test])
    step(1)
    no_irr = make_regressor(random_state=seed, n_jobs=n_jobs, **(params or {}))
    no_irr.set_params(max_features=min(no_irr.max_features, len(BASE_FEATURES)))
    no_irr.fit(table.iloc[train][list(BASE_FEATURES)].to_numpy("f4"),
               table["sm"].to_numpy("f4")[train])
    without = no_irr.predict(base_test.to_numpy("f4"))
    crossfit = fit_model(table.iloc[train], crop, depth, params, seed, n_jobs,
                         cir_training="cross_fitted").predict(base_test)
    step(1)
    cir_test = table["CIR"].to_numpy()[test]
    if model.classifier is None:  # fit_model is the paper method: it always has one
        raise ValueError("The paper method's model has no classifier.")
    cir_score = model.classifier.predict_proba(base_test.to_numpy("f4"))[:, -1]
    cir_predicted = model.predict_cir(base_test)
    classifier = metrics.classification_scores(cir_test, cir_predicted, cir_score)
    x_test = table.iloc[test][list(FEATURES)].copy()
    x_test["CIR"] = cir_predicted
    imp = permutation_importance(model.regressor, x_test.to_numpy("f4"), obs_test,
                                 scoring="r2", n_repeats=3, random_state=seed, n_jobs=1)
    importance = {f: {"mean": float(m), "std": float(s)} for f, m, s in
                  zip(FEATURES, imp.importances_mean, imp.importances_std, strict=True)}
    step(1)
    stations = table["station_id"].to_numpy()
    n_groups = len(np.unique(stations))
    station_pred = blocked_predictions(table, crop, depth, GroupKFold(min(n_folds, n_groups)),
                                       stations, params, seed, n_jobs)
    step(1)
    zones = table["zone"].to_numpy()
    zone_pred = (blocked_predictions(table, crop, depth, LeaveOneGroupOut(), zones, params,
                                     seed, n_jobs)
                 if len(np.unique(zones)) > 1 else np.full(len(table), np.nan))
    step(1)
    obs_all = table["sm"].to_numpy()
    cropsm = (_cropsm_rows(table, train, test, crop, depth, seed, n_jobs, n_folds)
              if set(MEMORY_FEATURES) <= set(table.columns) else None)
    rows = {
        "paper": metrics.skill_table(paper, obs_test),
        "honest": metrics.skill_table(honest, obs_test),
        "no_irrigation": metrics.skill_table(without, obs_test),
        "honest_cross_fitted": metrics.skill_table(crossfit, obs_test),
        "station_blocked": metrics.skill_table(station_pred, obs_all),
        "zone_blocked": metrics.skill_table(zone_pred, obs_all),
    }
    if cropsm is not None:
        rows["cropsm_honest"] = metrics.skill_table(cropsm["honest"], obs_test)
        for key in ("station_blocked", "zone_blocked"):
            rows[f"cropsm_{key}"] = metrics.skill_table(cropsm[key], obs_all)
    report = ValidationReport(
        crop=crop, depth=depth, n_samples=len(table), n_train=len(train), n_test=len(test),
        params=model.info["params"], rows=rows,
        irrigation_module_effect=_irrigation_effect(rows),
        per_month_spatial_r=_per_month_spatial_r(table.iloc[test], honest),
        per_zone_temporal=_per_zone_temporal(table, station_pred),
        classifier=classifier, permutation_importance_r2=importance,
        cropsm_importance_r2=None if cropsm is None else cropsm["importance"])
    extra_samples, extra_test = ({}, {}) if cropsm is None else (
        {"cropsm_station_blocked": cropsm["station_blocked"],
         "cropsm_zone_blocked": cropsm["zone_blocked"]}, {"cropsm_honest": cropsm["honest"]})
    tables = ValidationTables(
        samples=pd.DataFrame({
            "station_id": stations, "date": pd.DatetimeIndex(table["date"]),
            "zone": zones, "lon": table["lon"].to_numpy(), "lat": table["lat"].to_numpy(),
            "obs": obs_all, "station_blocked": station_pred, "zone_blocked": zone_pred,
            **extra_samples}),
        classifier=pd.DataFrame({
            "station_id": stations[test], "lon": table["lon"].to_numpy()[test],
            "lat": table["lat"].to_numpy()[test], "cir": cir_test, "score": cir_score,
            "predicted": cir_predicted}),
        test=pd.DataFrame({
            "station_id": stations[test], "date": pd.DatetimeIndex(table["date"])[test],
            "zone": zones[test], "lon": table["lon"].to_numpy()[test],
            "lat": table["lat"].to_numpy()[test], "obs": obs_test, "paper": paper,
            "honest": honest, "no_irrigation": without, "honest_cross_fitted": crossfit,
            **extra_test}))
    return report, tables


def _cropsm_rows(table: pd.DataFrame, train: np.ndarray, test: np.ndarray, crop: str,
                 depth: str, seed: int, n_jobs: int, n_folds: int) -> dict[str, Any]:
    """The CropSM method on the paper rows' splits: predictions and held-out importance."""
    model = fit_cropsm_model(table.iloc[train], crop, depth, seed=seed, n_jobs=n_jobs)
    x_test = table.iloc[test][list(model.features)].to_numpy("f4")
    obs_test = table["sm"].to_numpy()[test]
    imp = permutation_importance(model.regressor, x_test, obs_test, scoring="r2",
                                 n_repeats=3, random_state=seed, n_jobs=1)
    stations, zones = table["station_id"].to_numpy(), table["zone"].to_numpy()
    return {
        "honest": model.predict(table.iloc[test]),
        "importance": {f: {"mean": float(m), "std": float(s)} for f, m, s in
                       zip(model.features, imp.importances_mean, imp.importances_std,
                           strict=True)},
        "station_blocked": blocked_predictions(
            table, crop, depth, GroupKFold(min(n_folds, len(np.unique(stations)))), stations,
            seed=seed, n_jobs=n_jobs, method="cropsm"),
        "zone_blocked": (blocked_predictions(table, crop, depth, LeaveOneGroupOut(), zones,
                                             seed=seed, n_jobs=n_jobs, method="cropsm")
                         if len(np.unique(zones)) > 1 else np.full(len(table), np.nan)),
    }


def truth_window_skill(model: SoilMoistureModel, covariates: xr.Dataset, daily: xr.Dataset,
                       truth: xr.Dataset, rows: slice, cols: slice, dates: pd.DatetimeIndex
                       ) -> Skill:
    """Skill against the demo truth at every cropland cell of a window and dates.

    ``model`` must have been trained without the stations inside the window.
    """
    crop, depth = model.crop, model.depth
    frac = covariates["crop_fraction"].sel(crop=crop).isel(y=rows, x=cols).values
    rr, cc, dd = grid_samples(frac > 0, dates)
    rr, cc = rr + rows.start, cc + cols.start
    base = features_at(covariates, daily, rr, cc, dd)
    if model.method == "cropsm":
        base = pd.concat([base, memory_at(covariates, daily, rr, cc, dd, crop)], axis=1)
    pred = model.predict(base)
    sm = truth["sm"].sel(crop=crop, depth=depth).sel(time=pd.DatetimeIndex(dates))
    block = sm.isel(y=rows, x=cols).values  # (time, y, x)
    t_index = np.searchsorted(pd.DatetimeIndex(dates).values, dd.values)
    true = block[t_index, rr - rows.start, cc - cols.start]
    out = metrics.skill_table(pred, true)
    out.update(cells=int((frac > 0).sum()), days=len(dates))
    return out


def truth_window_report(table: pd.DataFrame, covariates: xr.Dataset, daily: xr.Dataset,
                        station_meta: pd.DataFrame, truth: xr.Dataset, crop: str, depth: str,
                        seed: int = 0, size_km: int = 100, every_days: int = 5,
                        method: str = "paper") -> Skill:
    """Score a model trained without one window's stations against that window's truth.

    ``method="cropsm"`` fits the CropSM method (``table`` with the memory indices).

    The window is ``size_km`` square around the station with the most observations; its
    dates are every ``every_days``-th day of the truth's year in the months the crop is
    observed there (its season).
    """
    counts = table["station_id"].value_counts()
    centre = station_meta.set_index("station_id").loc[counts.index[0]]
    half = size_km // 2
    ny, nx = covariates.sizes["y"], covariates.sizes["x"]
    rows = slice(max(int(centre["row"]) - half, 0), min(int(centre["row"]) + half, ny))
    cols = slice(max(int(centre["col"]) - half, 0), min(int(centre["col"]) + half, nx))
    meta = station_meta.set_index("station_id")
    inside = [s for s in table["station_id"].unique()
              if rows.start <= meta.loc[s, "row"] < rows.stop
              and cols.start <= meta.loc[s, "col"] < cols.stop]
    train = table[~table["station_id"].isin(inside)]
    fit = fit_cropsm_model if method == "cropsm" else fit_model
    model = fit(train, crop, depth, seed=seed)
    year_days = pd.DatetimeIndex(truth["time"].values)
    months = set(pd.DatetimeIndex(table.loc[table["station_id"].isin(inside), "date"]).month)
    days = year_days[year_days.month.isin(sorted(months))][::every_days]
    out = truth_window_skill(model, covariates, daily, truth, rows, cols, days)
    out.update(window_rows=[rows.start, rows.stop], window_cols=[cols.start, cols.stop],
               stations_left_out=len(inside), months=sorted(int(m) for m in months))
    return out


def markdown_summary(reports: Sequence[ValidationReport]) -> str:
    """A short Markdown summary of validation reports."""
    lines = ["| crop/depth | setting | N | r | R² | bias | RMSE | ubRMSE |",
             "|---|---|---|---|---|---|---|---|"]
    for rep in reports:
        rows = dict(rep.rows)
        if rep.truth_window is not None:
            rows["truth_window (demo)"] = rep.truth_window
        if rep.truth_window_cropsm is not None:
            rows["cropsm truth_window (demo)"] = rep.truth_window_cropsm
        for name, s in rows.items():
            lines.append(f"| {rep.crop}/{rep.depth} | {name} | {s['n']} | {s['r']:.3f} | "
                         f"{s['r2']:.3f} | {s['bias']:+.4f} | {s['rmse']:.4f} | "
                         f"{s['ubrmse']:.4f} |")
    lines += ["", "| crop/depth | irrigation module: R² change | RMSE change | classifier PA | "
              "UA | overall accuracy | ROC AUC |", "|---|---|---|---|---|---|---|"]
    for rep in reports:
        e, c = rep.irrigation_module_effect, rep.classifier
        lines.append(f"| {rep.crop}/{rep.depth} | {e['r2_change_pct']:+.1f} % | "
                     f"{e['rmse_change_pct']:+.1f} % | {c['producers_accuracy']:.3f} | "
                     f"{c['users_accuracy']:.3f} | {c['overall_accuracy']:.3f} | "
                     f"{c['roc_auc']:.3f} |")
    return "\n".join(lines) + "\n"


#: Validation settings of a report, in the order the panel shows them, with labels.
SETTINGS = {
    "paper": ("observed CIR at test time: our reading of the paper, which does not state "
              "it"),
    "honest": "honest: random split, predicted CIR",
    "honest_cross_fitted": "honest, classifier cross-fitted",
    "no_irrigation": "irrigation module off (no CIR)",
    "station_blocked": "station-blocked CV",
    "zone_blocked": "zone-blocked CV",
    "cropsm_honest": "CropSM method: random split",
    "cropsm_station_blocked": "CropSM method: station-blocked CV",
    "cropsm_zone_blocked": "CropSM method: zone-blocked CV",
}
_METRICS = ("n", "r", "r_p_value", "r_ci_low", "r_ci_high", "r2", "bias", "rmse", "ubrmse")


def metrics_table(report: ValidationReport | None) -> pd.DataFrame:
    """The report's validation settings side by side: one row per setting, the metrics.

    Without a report, the empty table (its columns only).
    """
    rows = [] if report is None else [
        # reports written before r_p_value and the CI existed lack them: left empty
        {"setting": label, **{m: report.rows[key].get(m) for m in _METRICS}}
        for key, label in SETTINGS.items() if key in report.rows]
    return pd.DataFrame(rows, columns=["setting", *_METRICS])


def month_table(report: ValidationReport) -> pd.DataFrame:
    """Spatial r per month (the paper's Fig. 6)."""
    return pd.DataFrame(sorted(report.per_month_spatial_r.items()),
                        columns=["month", "spatial_r"])


def zone_table(report: ValidationReport) -> pd.DataFrame:
    """Temporal metrics per agricultural zone (the paper's Fig. 7, as zone summaries)."""
    rows = [{"zone": int(k), **v} for k, v in report.per_zone_temporal.items()]
    return pd.DataFrame(rows).sort_values("zone") if rows else pd.DataFrame(
        columns=["zone", "r", "rmse", "bias", "ubrmse", "stations"])


def importance_table(report: ValidationReport) -> pd.DataFrame:
    """Permutation importance (R² loss) per feature, largest first (the paper's Fig. 5)."""
    rows = [{"feature": k, "r2_loss": v["mean"], "std": v["std"]}
            for k, v in report.permutation_importance_r2.items()]
    return pd.DataFrame(rows, columns=["feature", "r2_loss", "std"]).sort_values(
        "r2_loss", ascending=False, ignore_index=True)


def confusion_table(report: ValidationReport) -> pd.DataFrame:
    """The CIR classifier's confusion matrix (rows: observed, columns: predicted)."""
    c = report.classifier
    return pd.DataFrame({"predicted CIR = 1": [c["tp"], c["fp"]],
                         "predicted CIR = 0": [c["fn"], c["tn"]]},
                        index=pd.Index(["observed CIR = 1", "observed CIR = 0"], name="CIR"))


def station_skill(samples: pd.DataFrame, column: str = "station_blocked",
                  min_samples: int = 10) -> pd.DataFrame:
    """Per-station r and ubRMSE of one prediction column against ``obs``.

    Stations with fewer than ``min_samples`` observations are left out.
    """
    rows = []
    for station, group in samples.groupby("station_id", sort=True):
        if len(group) >= min_samples:
            pred, obs = group[column], group["obs"]
            rows.append({"station_id": station, "zone": group["zone"].iloc[0],
                         "lon": group["lon"].iloc[0], "lat": group["lat"].iloc[0],
                         "n": len(group), "r": float(metrics.pearson_r(pred, obs)),
                         "rmse": float(metrics.rmse(pred, obs)),
                         "bias": float(metrics.bias(pred, obs)),
                         "ubrmse": float(metrics.ubrmse(pred, obs))})
    return pd.DataFrame(rows, columns=["station_id", "zone", "lon", "lat", "n", "r", "rmse",
                                       "bias", "ubrmse"])


def samples_in_region(samples: pd.DataFrame, geometry: Any) -> pd.DataFrame:
    """The samples whose station lies inside a lon/lat geometry (all if None)."""
    if geometry is None:
        return samples
    inside = shapely.contains_xy(geometry, samples["lon"].to_numpy(), samples["lat"].to_numpy())
    return samples[inside]


def pixel_skill(pred: np.ndarray, truth: np.ndarray, min_days: int = 5
                ) -> dict[str, np.ndarray]:
    """Per-pixel temporal r and ubRMSE of predictions against the demo truth.

    Parameters
    ----------
    pred, truth : numpy.ndarray, shape (n_dates, ny, nx)
        NaN where missing; only days where both exist count.
    min_days : int
        Pixels with fewer valid days get NaN.

    Returns
    -------
    dict
        ``r``, ``ubrmse`` (m³ m⁻³) and ``days``, each (ny, nx).
    """
    days = (np.isfinite(pred) & np.isfinite(truth)).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = metrics.pearson_r(pred, truth, dim=0)
        ubrmse = metrics.ubrmse(pred, truth, dim=0)
    enough = days >= min_days
    return {"r": np.where(enough, r, np.nan), "ubrmse": np.where(enough, ubrmse, np.nan),
            "days": days}


def comparison_table(report: ValidationReport) -> pd.DataFrame:
    """The product comparison of a report, one row per product (none without one).

    See :mod:`cropsm.analysis.product_comparison`.
    """
    products = report.product_comparison or {}
    # a resolution with too few matched pixel-days has a pixel count but no metrics
    rows = [{"product": name, **{m: scores.get(m) for m in
                                 ("pixels", "n", "r", "bias", "rmse", "ubrmse")}}
            for name, scores in products.items()]
    return pd.DataFrame(rows, columns=["product", "pixels", "n", "r", "bias", "rmse", "ubrmse"])


def insitu_markdown(comparison: dict[str, dict[str, dict[str, Any]]],
                    observations: dict[str, str]) -> str:
    """Markdown of :func:`cropsm.analysis.product_comparison.compare_insitu` results on real data.

    Parameters
    ----------
    comparison : dict
        In-situ entry -> product entry -> result of ``compare_insitu``.
    observations : dict
        In-situ entry -> a one-line description (stations, days kept).
    """
    lines = ["| in situ | product | in-situ days | product days | overlap days | pairs | "
             "pixels | r | bias | RMSE | ubRMSE |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    notes: list[str] = []
    for insitu, products in comparison.items():
        for product, s in products.items():
            period = " to ".join(s["obs_period"]) or "none"
            product_period = " to ".join(s["product_period"]) or "none"
            scores = (f"{s['r']:.3f} | {s['bias']:+.4f} | {s['rmse']:.4f} | {s['ubrmse']:.4f}"
                      if "r" in s else "- | - | - | -")
            lines.append(f"| {insitu} | {product} | {period} | {product_period} | "
                         f"{s['overlap_days']} | {s['pairs']} | {s['pixels']} | {scores} |")
            if "note" in s:
                notes.append(f"- {insitu} vs {product}: {s['note']}")
    lines += ["", *[f"- {name}: {text}" for name, text in observations.items()], *notes]
    return "\n".join(lines) + "\n"


def insitu_table(comparison: dict[str, dict[str, dict[str, Any]]]) -> pd.DataFrame:
    """One row per in-situ entry × product.

    See :func:`cropsm.analysis.product_comparison.compare_insitu`.
    """
    columns = ["in situ", "product", "overlap_days", "pairs", "pixels", "r", "bias", "rmse",
               "ubrmse", "note"]
    rows = [{"in situ": insitu, "product": product, **{c: s.get(c) for c in columns[2:]}}
            for insitu, products in comparison.items() for product, s in products.items()]
    return pd.DataFrame(rows, columns=columns)


_RANDOM_SPLIT = ("paper", "honest", "no_irrigation", "honest_cross_fitted", "cropsm_honest")
_BLOCKED = ("station_blocked", "zone_blocked", "cropsm_station_blocked",
            "cropsm_zone_blocked")


def region_report(test: pd.DataFrame, samples: pd.DataFrame, classifier: pd.DataFrame,
                  geometry: Any) -> RegionReport:
    """The report's rows, per-month and per-zone figures recomputed for a region.

    Parameters
    ----------
    test, samples, classifier : pandas.DataFrame
        The per-sample tables ``cropsm validate`` writes (``test_``, ``samples_`` and
        ``classifier_<crop>_<depth>.parquet``).
    geometry : shapely geometry or None
        Lon/lat region; only stations inside it count.

    Returns
    -------
    RegionReport
        Settings are left out for regions with fewer than 3 samples.
    """
    test = samples_in_region(test, geometry)
    samples = samples_in_region(samples, geometry)
    rows: dict[str, Skill] = {}
    for key in _RANDOM_SPLIT:
        if len(test) >= 3 and key in test:
            rows[key] = metrics.skill_table(test[key], test["obs"])
    for key in _BLOCKED:
        if len(samples) >= 3 and key in samples:
            rows[key] = metrics.skill_table(samples[key], samples["obs"])
    effect = (_irrigation_effect(rows) if "honest" in rows and "no_irrigation" in rows
              else None)
    scores = None
    if "lon" in classifier:
        inside = samples_in_region(classifier, geometry)
        if len(inside):
            scores = metrics.classification_scores(inside["cir"], inside["predicted"],
                                                   inside["score"])
    return RegionReport(
        rows=rows, stations=int(samples["station_id"].nunique()),
        per_month_spatial_r=_per_month_spatial_r(test.rename(columns={"obs": "sm"}),
                                                 test["honest"].to_numpy()),
        per_zone_temporal=_per_zone_temporal(samples.rename(columns={"obs": "sm"}),
                                             samples["station_blocked"].to_numpy()),
        irrigation_module_effect=effect, classifier=scores)
