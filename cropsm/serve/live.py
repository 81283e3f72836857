"""Live runs of the trained model on a region and a date range, with a cost guard.

The dashboard's "run the model here" and the scenario panels call :func:`run_region`: it
checks the request (dates inside the covariates, region inside China, cost inside the
budget) before any work, then predicts the region's window with
:func:`cropsm.serve.predict.predict_window`, the same computation the national engine runs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from cropsm.core import crops
from cropsm.core.grid import Grid
from cropsm.core.regions import RegionError, check_region, region_mask
from cropsm.serve.predict import (
    PredictError,
    ServingModel,
    cropland,
    predict_window,
    serving_covariates,
    valid_dates,
)

__all__ = ["LIVE_BUDGET_PIXEL_DAYS", "RegionRun", "plan_region", "run_region"]

#: Largest live run, in cropland pixel-days. The end-to-end rate measured in
#: BENCHMARKS.md is about 0.4 M pixel-days per second on 2 cores, so a run at the
#: budget takes about 20 s; anything larger belongs to ``cropsm predict``.
LIVE_BUDGET_PIXEL_DAYS = 8_000_000


@dataclass(frozen=True)
class RegionRun:
    """A region's window of the grid and a date range, checked and costed.

    Attributes
    ----------
    crop, depth : str
    rows, cols : slice
        The region's bounding window in the covariates' grid.
    grid : Grid
        The window's grid.
    region : numpy.ndarray of bool
        Cells of the window inside the region.
    dates : pandas.DatetimeIndex
    pixel_days : int
        Cropland cells of the region × days, the cost the guard checks.
    """

    crop: str
    depth: str
    rows: slice
    cols: slice
    grid: Grid
    region: np.ndarray
    dates: pd.DatetimeIndex
    pixel_days: int

    @property
    def cropland_cells(self) -> int:
        """Cropland cells of the crop inside the region."""
        return self.pixel_days // max(len(self.dates), 1)


def _dates(daily: xr.Dataset, start, end, memory: bool = False) -> pd.DatetimeIndex:
    try:
        start, end = pd.Timestamp(start), pd.Timestamp(end)
    except (ValueError, TypeError) as err:
        raise PredictError(f"Dates {start!r}..{end!r} are not dates; use YYYY-MM-DD.") from err
    if pd.isna(start) or pd.isna(end):
        raise PredictError("Give both a start and an end date (YYYY-MM-DD).")
    if end < start:
        raise PredictError(f"The end {end:%Y-%m-%d} is before the start {start:%Y-%m-%d}; "
                           "swap them.")
    first, last = valid_dates(daily, memory)
    if start < first or end > last:
        why = " for the CropSM method (a year of rain before each day)" if memory else ""
        raise PredictError(f"{start:%Y-%m-%d}..{end:%Y-%m-%d} is outside the covariates' "
                           f"range {first:%Y-%m-%d}..{last:%Y-%m-%d}{why}; choose dates "
                           "inside it.")
    return pd.date_range(start, end, freq="D")


def plan_region(covariates: xr.Dataset, daily: xr.Dataset, crop: str, depth: str, geometry,
                start, end, china, budget: int = LIVE_BUDGET_PIXEL_DAYS,
                memory: bool = False) -> RegionRun:
    """Check and cost a live run; raises before any heavy work.

    Parameters
    ----------
    covariates, daily : xarray.Dataset
        The catalog's ``covariates`` (lazy is fine) and ``covariates_daily``.
    crop, depth : str
    geometry : shapely geometry
        The region in lon/lat degrees.
    start, end : date-like
    china : shapely geometry
        Mainland China's outline (lon/lat).
    budget : int
        Largest accepted cost in cropland pixel-days.
    memory : bool
        The model reads the memory indices (the CropSM method): the dates need a year of
        rain before them.

    Raises
    ------
    cropsm.serve.predict.PredictError
        Bad dates, a crop or depth without a model, or a run over the budget.
    cropsm.core.regions.RegionError
        An empty, degenerate or outside-China region.
    """
    if crop not in crops.CROPS or depth not in crops.DEPTHS:
        raise PredictError(f"Unknown crop/depth {crop}/{depth}; choose from {crops.CROPS} "
                           f"and {crops.DEPTHS}.")
    serving_covariates(covariates)  # a store from before world v2 is refused here
    dates = _dates(daily, start, end, memory)
    grid = Grid.from_coords(covariates["x"].values, covariates["y"].values)
    inside = check_region(geometry, china)
    try:
        rows, cols = grid.window_slices(*grid.project(inside).bounds)
    except ValueError as err:
        raise RegionError("The region lies outside the data's grid; draw it inside the "
                          "area the covariates cover.") from err
    window = grid.window(rows, cols)
    region = region_mask(geometry, window, china)
    fraction = covariates[["crop_fraction"]].isel(y=rows, x=cols).load()
    cells = int((cropland(fraction, crop) & region).sum())
    pixel_days = cells * len(dates)
    if pixel_days > budget:
        raise PredictError(
            f"This run is {cells:,} cropland pixels × {len(dates)} days = {pixel_days:,} "
            f"pixel-days, over the live budget of {budget:,}; draw a smaller region or a "
            "shorter range, or run `cropsm predict` for it.")
    if cells == 0:
        raise RegionError(f"The region holds no {crop} cropland; draw it over {crop} fields.")
    return RegionRun(crop, depth, rows, cols, window, region, dates, pixel_days)


def run_region(model: ServingModel, covariates: xr.Dataset, daily: xr.Dataset,
               run: RegionRun) -> dict[str, np.ndarray]:
    """Predict a planned region run; the arrays of :func:`cropsm.serve.predict.predict_window`."""
    if (model.crop, model.depth) != (run.crop, run.depth):
        raise PredictError(f"The model is {model.crop}/{model.depth}, the run "
                           f"{run.crop}/{run.depth}.")
    window = serving_covariates(covariates).isel(y=run.rows, x=run.cols).load()
    return predict_window(model, window, daily, run.dates, run.region)
