"""A scenario's response checked against the demo world's counterfactual truth.

For a catalog with a ``truth`` entry (a demo world), the region's truth is re-simulated
under the scenario's change (:func:`cropsm.demo.counterfactual.true_response`) and the
model's ΔSM is scored against the true ΔSM
(:func:`cropsm.analysis.scenario_skill.response_skill`). Real data have no such truth:
the check is then None, and the dashboard says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from cropsm.analysis.scenario_skill import response_skill, verdict
from cropsm.demo.counterfactual import (
    Change,
    TrueResponse,
    layer_of,
    true_pattern_response,
    true_response,
)
from cropsm.nn import pattern_scenarios as ps
from cropsm.nn.network import MultilayerNetwork
from cropsm.pipelines.sources import CatalogReader
from cropsm.serve.forest_scenarios import ScenarioResult, run_scenario
from cropsm.serve.live import RegionRun
from cropsm.serve.predict import ServingModel

__all__ = ["NO_TRUE_COUNTERPART", "TruthCheck", "checked_scenario", "forest_scenario_change",
           "pattern_truth_check", "truth_check"]

#: Scenarios that change the model, not the world: nothing to re-simulate.
NO_TRUE_COUNTERPART = ("crop_swap", "omit_")


@dataclass(frozen=True)
class TruthCheck:
    """A scenario's true response and the model response's skill against it.

    Attributes
    ----------
    truth : TrueResponse
        True SM without and with the change, on the scenario's window and dates.
    skill : dict
        :func:`cropsm.analysis.scenario_skill.response_skill` over the pixel-days the
        model predicted.
    warning : str or None
        What the analyst must be told beside the result
        (:func:`cropsm.analysis.scenario_skill.verdict`).
    """

    truth: TrueResponse
    skill: dict[str, float]
    warning: str | None


def forest_scenario_change(result: ScenarioResult) -> Change | None:
    """The change of the world a forest scenario stands for (None: it changes the model)."""
    if result.name in ("irrigation", "irrigation_rainfed"):
        return Change(irrigation=False)
    if result.name == "precipitation":
        return Change(rain_factor=1.0 + result.factor)
    return None


def truth_check(reader: CatalogReader, result: ScenarioResult) -> TruthCheck | None:
    """Score a forest scenario's response against the re-simulated truth.

    Returns None for a catalog without a demo truth or a scenario without a physical
    counterpart (:data:`NO_TRUE_COUNTERPART`).
    """
    change = forest_scenario_change(result)
    if change is None or not reader.has_entry("truth"):
        return None
    run = result.run
    predicted = np.asarray(result.baseline["predicted"], bool)
    truth = true_response(reader.dataset("covariates"), reader.dataset("covariates_daily"),
                          run.crop, layer_of(run.depth), run.rows, run.cols,
                          np.asarray(predicted.any(axis=0)), run.dates, change)
    model = np.where(predicted, result.difference, np.nan)
    skill = response_skill(model, np.where(predicted, truth.difference, np.nan))
    return TruthCheck(truth, skill, verdict(skill))


def checked_scenario(reader: CatalogReader, name: str, models: dict[str, ServingModel],
                     run: RegionRun, factor: float = 0.0
                     ) -> tuple[ScenarioResult, TruthCheck | None]:
    """Run a forest scenario on the catalog's covariates and check it against the truth.

    The scenario is :func:`cropsm.serve.forest_scenarios.run_scenario`; the check is
    :func:`truth_check` (None without a counterfactual truth).
    """
    result = run_scenario(name, models, reader.dataset("covariates"),
                          reader.dataset("covariates_daily"), run, factor)
    return result, truth_check(reader, result)


def pattern_truth_check(reader: CatalogReader, network: MultilayerNetwork,
                        result: xr.Dataset, run: RegionRun, layer: str, pattern: int
                        ) -> TruthCheck | None:
    """Score a network pattern scenario against the demo world's re-simulated truth.

    The true response is the region under ``pattern`` minus the region as its fields make
    it (:func:`cropsm.demo.counterfactual.true_pattern_response`). The world's fields
    partition each cell's cropland, so the network's response is taken against its
    reference weighted the same way (``weighting="area"``), not Liu's Eq. 1 weights
    of ``result``: the check then measures the network, not the weighting.

    Returns None for a catalog without a demo truth.
    """
    if not reader.has_entry("truth"):
        return None
    cov, daily = reader.dataset("covariates"), reader.dataset("covariates_daily")
    cells = np.asarray(np.isfinite(result["reference"].values).any(axis=0))
    truth = true_pattern_response(cov, daily, layer_of(layer), run.rows, run.cols, cells,
                                  run.dates, pattern)
    reference = ps.reference_product(network, cov, daily, run.rows, run.cols, run.region,
                                     run.dates, layer, weighting="area")
    model = result["scenario"].values - reference.values
    skill = response_skill(model, np.where(np.isfinite(model), truth.difference, np.nan))
    return TruthCheck(truth, skill, verdict(skill))
