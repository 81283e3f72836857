"""Counterfactual truth: a built world's truth re-simulated under a scenario's change.

The demo world can do what no real data set can: run its own physics again with
irrigation off, rain scaled or another cropping pattern, and say what the true response
of soil moisture is. A scenario's model response is then scored against it
(:func:`cropsm.analysis.scenario_skill.response_skill`).

The re-simulation reads only what a built world stores: the covariates (grid, soils,
crop calendars, pattern shares, irrigation drivers) and the weather, with the world's
seed from the covariates' attributes. Both runs, baseline and changed, go through
:func:`cropsm.demo.world.simulate_pattern` from :data:`cropsm.demo.world.SPIN_UP_YEARS`
before the first day, so the baseline is the stored truth (to float rounding, tested).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from cropsm.core import crops, patterns
from cropsm.core.grid import Grid
from cropsm.demo.world import SPIN_UP_YEARS, StoredFields, own_pattern, simulate_pattern

__all__ = ["Change", "TrueResponse", "layer_of", "true_pattern_response", "true_response"]

#: Covariates the column physics reads.
_FIELDS = ("fc", "wilting_point", "saturation", "residual", "sand", "zone", "annual_precip",
           "river_distance", "pet", "air_temperature", "sowing", "eos", "pattern_fraction")


@dataclass(frozen=True)
class Change:
    """What a scenario changes in the world.

    Attributes
    ----------
    irrigation : bool
        False switches irrigation off on every field.
    rain_factor : float
        Multiplies the daily rain (1 + the scenario's precipitation change).
    pattern : int, optional
        A cropping pattern (:data:`cropsm.core.patterns.PATTERNS`) forced on every cell;
        None keeps each cell's own.
    """

    irrigation: bool = True
    rain_factor: float = 1.0
    pattern: int | None = None


@dataclass(frozen=True)
class TrueResponse:
    """True SM of a window without and with a change (m³ m⁻³), ``(time, y, x)``.

    NaN outside the cells asked for.
    """

    baseline: np.ndarray
    changed: np.ndarray

    @property
    def difference(self) -> np.ndarray:
        """Changed minus baseline."""
        return self.changed - self.baseline


def true_response(covariates: xr.Dataset, weather: xr.Dataset, crop: str, layer: int,
                  rows: slice, cols: slice, cells: np.ndarray, dates, change: Change
                  ) -> TrueResponse:
    """The truth of ``crop``'s fields in a window, re-simulated without and with ``change``.

    Parameters
    ----------
    covariates : xarray.Dataset
        A built world's covariates (the catalog's ``covariates``; lazy is fine).
    weather : xarray.Dataset
        Its weather (``covariates_daily``), from a year before the first date.
    crop : str
        Whose fields: each cell runs the largest pattern growing the crop, as the stored
        truth does, unless ``change.pattern`` forces one.
    layer : int
        Index into :data:`cropsm.core.crops.SOIL_LAYERS` (0 = 0-10 cm).
    rows, cols : slice
        The window of the covariates' grid.
    cells : numpy.ndarray of bool
        Cells of the window to simulate, shape of the window.
    dates : array_like of datetime64
        Days returned.
    change : Change

    Returns
    -------
    TrueResponse
    """
    dates = pd.DatetimeIndex(dates)
    window = covariates[list(_FIELDS)].isel(y=rows, x=cols).load()
    fields = StoredFields(Grid.from_coords(window["x"].values, window["y"].values), window)
    seed = int(covariates.attrs["seed"])
    rr, cc = np.nonzero(cells)
    own = own_pattern(fields, crop, rr, cc)
    start = f"{dates[0].year - SPIN_UP_YEARS}-01-01"

    def run(pattern: np.ndarray, irrigation: bool, rain_factor: float) -> np.ndarray:
        out = np.full((len(dates),) + cells.shape, np.nan, "f4")
        sm = simulate_pattern(fields, weather, rr, cc, pattern, start, dates[-1], dates, seed,
                              irrigation=irrigation, rain_factor=rain_factor,
                              out_layers=layer + 1).sm[layer]
        out[:, rr, cc] = sm
        return out

    forced = own if change.pattern is None else np.full(
        rr.size, patterns.check_pattern(change.pattern), "i1")
    return TrueResponse(run(own, True, 1.0),
                        run(forced, change.irrigation, change.rain_factor))


def true_pattern_response(covariates: xr.Dataset, weather: xr.Dataset, layer: int,
                          rows: slice, cols: slice, cells: np.ndarray, dates, pattern: int
                          ) -> TrueResponse:
    """The truth of a window's cropland under its own patterns and under one pattern.

    The baseline is each cell's SM as its fields make it: the SM of each pattern present,
    weighted by the pattern's share of the cell's cropland (``pattern_fraction``, the
    partition the world's fields follow). The changed truth runs every cell under
    ``pattern``. Both are the layer's SM whatever the crop, as the network predicts it.

    Parameters are those of :func:`true_response`; ``pattern`` is a code of
    :data:`cropsm.core.patterns.PATTERNS`.
    """
    dates = pd.DatetimeIndex(dates)
    code = patterns.check_pattern(pattern)
    window = covariates[list(_FIELDS)].isel(y=rows, x=cols).load()
    fields = StoredFields(Grid.from_coords(window["x"].values, window["y"].values), window)
    seed = int(covariates.attrs["seed"])
    rr, cc = np.nonzero(cells)
    shares = window["pattern_fraction"].values[:, rr, cc]  # (pattern, cell)
    start = f"{dates[0].year - SPIN_UP_YEARS}-01-01"
    runs: dict[int, np.ndarray] = {}

    def run(k: int) -> np.ndarray:
        if k not in runs:
            runs[k] = simulate_pattern(fields, weather, rr, cc, np.full(rr.size, k, "i1"),
                                       start, dates[-1], dates, seed,
                                       out_layers=layer + 1).sm[layer]
        return runs[k]

    mixed = np.zeros((len(dates), rr.size))
    for k, p in enumerate(patterns.PATTERNS):
        if (shares[k] > 0).any():
            mixed += np.where(shares[k] > 0, run(p), 0.0) * shares[k]
    baseline = np.full((len(dates),) + cells.shape, np.nan, "f4")
    changed = baseline.copy()
    baseline[:, rr, cc] = mixed
    changed[:, rr, cc] = run(code)
    return TrueResponse(baseline, changed)


def layer_of(depth: str) -> int:
    """Index of a product depth (or soil layer) in :data:`cropsm.core.crops.SOIL_LAYERS`."""
    return crops.SOIL_LAYERS.index(depth)
