"""A region of the stored product: its window, statistics on a day, its days, its skill.

Each function reads through a :class:`~cropsm.pipelines.sources.CatalogReader` and returns
what the dashboard's region panel and exports show; the live runs themselves are
:mod:`cropsm.serve.live`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cropsm.analysis.drought import region_summary
from cropsm.analysis.validation import pixel_skill
from cropsm.core.regions import RegionError
from cropsm.io.catalog import CatalogError
from cropsm.pipelines.sources import CatalogReader
from cropsm.serve import live
from cropsm.serve.predict import cropland

__all__ = ["RegionData", "plan_live_run", "product_region", "region_statistics",
           "region_window", "truth_skill"]

#: Days a pixel needs for its skill against the truth.
_SKILL_DAYS = 5


@dataclass(frozen=True)
class RegionData:
    """A region's predictions over dates, from a live run or from the product store.

    Attributes
    ----------
    run : cropsm.serve.live.RegionRun
        The region's window, mask and dates.
    result : dict of numpy.ndarray
        (date, y, x) arrays as :func:`cropsm.serve.live.run_region` returns them.
    source : str
        ``"live run"`` or ``"product store"``.
    method : str
        Whose models made it (``paper`` or ``cropsm``): a live run's, or the stored
        product's.
    """

    run: live.RegionRun
    result: dict[str, np.ndarray]
    source: str
    method: str = "paper"


def region_window(reader: CatalogReader, crop: str, depth: str, geometry: Any,
            china: Any) -> live.RegionRun:
    """The region's window and mask over the product's days (no cost guard: a read)."""
    if geometry is None:
        raise RegionError("Choose a region first: draw a box or polygon, type a box, or pick "
                          "a province.")
    dates = reader.dates()
    if len(dates) == 0:
        raise CatalogError("The product has no dates yet; run `cropsm predict` first.")
    return plan_live_run(reader, crop, depth, geometry, dates[0], dates[-1], china,
                         budget=2**62)


def plan_live_run(reader: CatalogReader, crop: str, depth: str, geometry: Any, start: Any,
                  end: Any, china: Any, budget: int | None = None, memory: bool = False
                  ) -> live.RegionRun:
    """Check and cost a run on the catalog's covariates: :func:`cropsm.serve.live.plan_region`.

    ``budget`` is in pixel-days, by default :data:`cropsm.serve.live.LIVE_BUDGET_PIXEL_DAYS`
    read at call time; a scenario that runs the chain ``k`` times passes that divided by
    ``k``. ``memory``: the model follows the CropSM method (a year of rain before each day).
    """
    if budget is None:
        budget = live.LIVE_BUDGET_PIXEL_DAYS
    return live.plan_region(reader.dataset("covariates"), reader.dataset("covariates_daily"),
                            crop, depth, geometry, start, end, china, budget=budget,
                            memory=memory)


def product_region(reader: CatalogReader, crop: str, depth: str, geometry: Any,
                   china: Any) -> RegionData:
    """The stored product over a region and all its days, in live-run form.

    Parameters
    ----------
    reader : CatalogReader
        The catalog.
    crop, depth : str
        The product's crop and depth.
    geometry : shapely geometry
        The region in lon/lat degrees.
    china : shapely geometry
        Mainland China's outline (lon/lat).

    Raises
    ------
    cropsm.core.regions.RegionError
        No region, or one outside China, the grid or the crop's cropland.
    cropsm.io.catalog.CatalogError, cropsm.io.store.StoreError
        No product, or one without days.
    """
    run = region_window(reader, crop, depth, geometry, china)
    ds = reader.product(0)
    result = {name: ds[name].sel(crop=crop, depth=depth).isel(
        y=run.rows, x=run.cols).values for name in ("sm", "sm_q10", "sm_q90", "aoa")}
    predicted = np.isfinite(result["sm"]) & run.region[None]
    for name in ("sm", "sm_q10", "sm_q90"):
        result[name] = np.where(predicted, result[name], np.nan)
    result["aoa"] = np.where(predicted, result["aoa"], 255).astype("u1")
    result["predicted"] = predicted
    method = dict(ds.attrs.get("model_method", {})).get(f"{crop}/{depth}", "paper")
    return RegionData(live.RegionRun(run.crop, run.depth, run.rows, run.cols, run.grid,
                                     run.region, reader.dates(), int(predicted.sum())),
                      result, "product store", str(method))


def truth_skill(reader: CatalogReader, crop: str, depth: str, geometry: Any,
                china: Any) -> tuple[RegionData, dict[str, np.ndarray]] | None:
    """Per-pixel skill of the stored product against the demo truth over their common days.

    Returns
    -------
    tuple or None
        The region's :class:`RegionData` and :func:`cropsm.analysis.validation.pixel_skill`
        maps; None when the catalog has no truth or it shares no day with the product.
    """
    if not reader.has_entry("truth"):
        return None
    region = product_region(reader, crop, depth, geometry, china)
    run = region.run
    truth = reader.dataset("truth")["sm"].sel(crop=crop, depth=depth)
    days = pd.DatetimeIndex(truth["time"].values).intersection(run.dates)
    if len(days) == 0:
        return None
    keep = run.dates.isin(days)
    values = truth.sel(time=days).isel(y=run.rows, x=run.cols).values
    return region, pixel_skill(region.result["sm"][keep], values,
                               min_days=min(_SKILL_DAYS, len(days)))


def region_statistics(reader: CatalogReader, crop: str, depth: str, geometry: Any,
                      date: dt.date | str | pd.Timestamp | None, china: Any
                      ) -> dict[str, Any]:
    """Cropland area, mean SM, drought-grade shares and weekly change of a region's day.

    Returns
    -------
    dict
        :func:`cropsm.analysis.drought.region_summary` of the day's SM on the crop's
        cropland inside the region, and ``change_7d``: the mean change of SM since 7
        days before (m³ m⁻³) over the cells predicted on both days, NaN when the
        product lacks that day or no cell has both.

    Raises
    ------
    cropsm.core.regions.RegionError
        No region, or one outside China, the grid or the crop's cropland.
    cropsm.io.catalog.CatalogError, cropsm.io.store.StoreError
        No product, or one without the day.
    """
    run = region_window(reader, crop, depth, geometry, china)
    when = reader.day(date)
    cov = reader.dataset("covariates")[["crop_fraction", "fc"]].isel(y=run.rows,
                                                                    x=run.cols).load()
    cells = cropland(cov, crop) & run.region
    product = reader.product(0)["sm"].sel(crop=crop, depth=depth)
    sm = product.sel(time=when).isel(y=run.rows, x=run.cols).values
    stats = region_summary(sm, cov["fc"].values, cells, run.grid.cell_area_km2)
    before = pd.Timestamp(when) - pd.Timedelta(days=7)
    stats["change_7d"] = float("nan")
    if before in reader.dates():
        earlier = product.sel(time=before).isel(y=run.rows, x=run.cols).values
        both = cells & np.isfinite(sm) & np.isfinite(earlier)
        if both.any():
            stats["change_7d"] = float(np.mean(sm[both].astype("f8") - earlier[both]))
    return stats
