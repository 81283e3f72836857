"""What-if scenarios on a region: the trained model run twice, baseline and changed.

Five kinds of scenario, each a pure function of the region's window:

* ``irrigation_rainfed``: irrigation off, learned from the stations. The CropSM method's
  forest trained on the rain-fed stations only (``cropsm train --method cropsm
  --rainfed``) against its forest of all stations, on the same inputs. Where a share s
  of the fields is irrigated, the forest of all stations learns about
  ``s * SM_irrigated + (1 - s) * SM_rainfed`` and the rain-fed forest ``SM_rainfed``, so
  their difference estimates the expected change of switching irrigation off at a
  field with those inputs: a regional effect, not a map of which fields are irrigated;
* ``irrigation``: the paper method's irrigation module off (CIR forced to 0). CIR = 0 means
  "SM below the stage threshold" (Eq. 1 of Cheng et al. 2022), so the scenario is drier
  by construction: the difference measures how much the regressor leans on the label,
  not how much water irrigation adds;
* ``precipitation``: daily rain scaled by ``1 + factor`` (``factor`` in [-0.5, 0.5])
  before the features, so ``pre`` and ``pre10`` (the 10-day sum) change consistently;
* ``crop_swap``: the same cells and season under the other crop's forest, a sensitivity
  check of the models. It is not Liu et al.'s cropping-pattern method, which re-runs one
  network under another pattern (the Network tab, :mod:`cropsm.nn.pattern_scenarios`);
* ``omit_<group>``: a reduced model trained without a feature group
  (``cropsm train --omit GROUP``) against the full model, the map side of Liu et al.'s
  control experiments (their Fig. 6).

Baseline and scenario share the feature rows where the scenario does not change them,
so a scenario costs one feature pass and two forest passes. Nothing is written: the
published product store is never touched.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from cropsm.core import crops
from cropsm.rf.features import RAINFED_ONLY
from cropsm.rf.model import FEATURE_GROUPS
from cropsm.serve.live import RegionRun
from cropsm.serve.predict import (
    PredictError,
    ServingModel,
    apply_model,
    serving_covariates,
    window_rows,
)

__all__ = ["MEASURED_SKILL", "PRECIPITATION_RANGE", "SCENARIOS", "ScenarioResult", "run_scenario",
           "scenario_summary"]

#: Scenario names and what they change.
SCENARIOS = {
    "irrigation_rainfed": ("irrigation off, learned: the CropSM forest of the rain-fed "
                           "stations vs its forest of all stations"),
    "irrigation": ("irrigation module off (CIR = 0, 'below the stage threshold': drier by "
                   "construction) vs on"),
    "precipitation": "daily precipitation scaled by 1 + factor",
    "crop_swap": ("the other crop's forest on the same cells and season (a model check, not "
                  "Liu et al.'s pattern method: see the Network tab)"),
    **{f"omit_{group}": f"model without the {group} features vs the full model"
       for group in FEATURE_GROUPS},
}

#: Each scenario's response skill against the demo world's counterfactual truth, as
#: measured on three regions x two crops at 0-10 cm (``docs/scenarios.md``): what the
#: dashboard tells an analyst whose data have no truth to check a run against.
MEASURED_SKILL: dict[str, str] = {
    "irrigation_rainfed": ("right sign on 79-99 % of pixel-days, mean response 0.47-2.27 "
                           "times the true one (2 of 6 region-crops flagged)"),
    "irrigation": ("right sign on 24-64 % of pixel-days, mean response 2.3-22.5 times the "
                   "true one (6 of 6 flagged): it does not measure irrigation"),
    "precipitation": ("right sign on 76-88 % of pixel-days with the CropSM method, 29-77 % "
                      "with the paper method"),
}

#: Allowed precipitation factors (relative change of daily rain).
PRECIPITATION_RANGE = (-0.5, 0.5)


@dataclass(frozen=True)
class ScenarioResult:
    """Baseline and scenario outputs on the same cells and dates.

    Attributes
    ----------
    name : str
    label : str
        What the scenario changed, for display and provenance.
    run : RegionRun
    baseline, scenario : dict of numpy.ndarray
        Arrays of :func:`cropsm.serve.predict.predict_window`.
    factor : float
        The precipitation change of ``precipitation`` (0 for the others).
    """

    name: str
    label: str
    run: RegionRun
    baseline: dict
    scenario: dict
    factor: float = 0.0

    @property
    def difference(self) -> np.ndarray:
        """Scenario − baseline SM (m³ m⁻³) per date and cell; NaN where either is missing."""
        return self.scenario["sm"] - self.baseline["sm"]

    def mean_difference(self) -> np.ndarray:
        """Per-cell mean of scenario − baseline over the dates; NaN where never predicted."""
        difference = self.difference
        count = np.isfinite(difference).sum(axis=0)
        return np.where(count > 0, np.nansum(difference, axis=0) / np.maximum(count, 1),
                        np.nan)

    def mean_series(self) -> pd.DataFrame:
        """Regional mean SM of both runs and their difference, per date."""
        with np.errstate(invalid="ignore"):
            rows = {
                "date": self.run.dates,
                "baseline_sm": _mean(self.baseline["sm"]),
                "scenario_sm": _mean(self.scenario["sm"]),
                "difference": _mean(self.difference),
            }
        return pd.DataFrame(rows)


def _mean(values: np.ndarray) -> np.ndarray:
    count = np.isfinite(values).sum(axis=(1, 2))
    total = np.nansum(values, axis=(1, 2))
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def check_factor(factor: float) -> float:
    """A precipitation factor inside :data:`PRECIPITATION_RANGE`, else PredictError."""
    low, high = PRECIPITATION_RANGE
    try:
        factor = float(factor)
    except (TypeError, ValueError) as err:
        raise PredictError(f"The precipitation factor {factor!r} is not a number.") from err
    if not low <= factor <= high:  # also refuses NaN
        raise PredictError(f"The precipitation factor {factor} is outside {low:+.0%}..{high:+.0%}"
                           "; choose a change of rain within that range.")
    return factor


def run_scenario(name: str, models: dict[str, ServingModel], covariates: xr.Dataset,
                 daily: xr.Dataset, run: RegionRun, factor: float = 0.0) -> ScenarioResult:
    """Run a scenario on a planned region run.

    Parameters
    ----------
    name : str
        A key of :data:`SCENARIOS`.
    models : dict of str to ServingModel
        By crop, at the run's depth; ``crop_swap`` needs both crops, ``omit_<group>`` the
        reduced model under the key ``"reduced"``, ``irrigation_rainfed`` the CropSM
        method's forests of all stations (by crop) and of the rain-fed ones (``"rainfed"``).
    covariates, daily : xarray.Dataset
        The catalog's covariates (lazy is fine) and daily precipitation.
    run : RegionRun
        From :func:`cropsm.serve.live.plan_region`; plan it with half the live budget, since a
        scenario runs the forests twice.
    factor : float
        The precipitation change for ``precipitation``.
    """
    if name not in SCENARIOS:
        raise PredictError(f"Unknown scenario {name!r}; choose one of {', '.join(SCENARIOS)}.")
    model = models[run.crop]
    window = serving_covariates(covariates).isel(y=run.rows, x=run.cols).load()
    rows = window_rows(window, daily, run.dates, run.crop, run.region, memory=model.memory)
    baseline = apply_model(model, rows)
    if name == "irrigation":
        label = SCENARIOS[name]
        scenario = apply_model(model, rows, irrigation=False)
    elif name == "precipitation":
        factor = check_factor(factor)
        label = f"daily precipitation {factor:+.0%}"
        wetter = daily.assign(pre=daily["pre"] * np.float32(1 + factor))
        scenario = apply_model(model, window_rows(window, wetter, run.dates, run.crop,
                                                  run.region, memory=model.memory))
    elif name == "irrigation_rainfed":
        rainfed = models.get("rainfed")
        if (rainfed is None or model.method != "cropsm" or rainfed.method != "cropsm"
                or rainfed.omitted != RAINFED_ONLY
                or (rainfed.crop, rainfed.depth) != (model.crop, model.depth)):
            raise PredictError("The learned irrigation-off scenario compares the CropSM "
                               "method's forests of all and of the rain-fed stations; train "
                               "them with `cropsm train --method cropsm --rainfed`.")
        label = SCENARIOS[name]
        scenario = apply_model(rainfed, rows)
    elif name.startswith("omit_"):
        if "reduced" not in models:
            raise PredictError(f"No model without the {name[5:]} features; train it with "
                               f"`cropsm train --omit {name[5:]}`.")
        label = f"model without the {name[5:]} features"
        scenario = apply_model(models["reduced"], rows)
    else:
        other = next(c for c in crops.CROPS if c != run.crop)
        if other not in models:
            raise PredictError(f"No {other} model at {run.depth}; train it with `cropsm train`.")
        label = f"{other} model on {run.crop} cells and season"
        swapped = models[other]
        scenario = apply_model(swapped, rows if swapped.memory == model.memory else window_rows(
            window, daily, run.dates, run.crop, run.region, memory=swapped.memory))
    return ScenarioResult(name, label, run, baseline, scenario,
                          factor if name == "precipitation" else 0.0)


def scenario_summary(result: ScenarioResult) -> dict[str, float]:
    """Headline numbers of a scenario.

    Mean SM of both runs, their difference, the share of pixel-days the scenario
    makes drier or wetter by more than 0.01 m³ m⁻³, and the share of the scenario's
    pixel-days outside its model's area of applicability (a rain-fed forest, say, on
    irrigated plains unlike its stations').
    """
    difference = result.difference
    valid = np.isfinite(difference)
    n = int(valid.sum())
    with np.errstate(invalid="ignore"):
        return {
            "pixel_days": n,
            "baseline_mean_sm": float(np.nanmean(result.baseline["sm"])) if n else np.nan,
            "scenario_mean_sm": float(np.nanmean(result.scenario["sm"])) if n else np.nan,
            "mean_difference": float(np.nanmean(difference)) if n else np.nan,
            "drier_share": float((difference[valid] < -0.01).mean()) if n else np.nan,
            "wetter_share": float((difference[valid] > 0.01).mean()) if n else np.nan,
            "outside_aoa_share": float((result.scenario["aoa"][valid] == 0).mean())
            if n else np.nan,
        }
