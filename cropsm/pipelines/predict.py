"""Predict daily 1 km SM into the product store (Zarr), resumably, on dask."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
import xarray as xr

from cropsm.core.grid import every_nth_cell
from cropsm.core.regions import RegionError, parse_bbox, province_region
from cropsm.demo.profiles import UnknownProfile, get_profile
from cropsm.io import assets
from cropsm.io.catalog import CatalogError, entry_path, open_catalog, product_store_path
from cropsm.io.models import model_path, read_card
from cropsm.io.product import ProductStore, filled_days, open_product, product_versions
from cropsm.pipelines._common import PRODUCTS, ProgressFactory, bar, entry_of
from cropsm.pipelines.province_shares import (
    add_province_areas,
    days_without_areas,
    publish_province_areas,
)
from cropsm.pipelines.season_status import SeasonStatus
from cropsm.pipelines.sources import CatalogReader
from cropsm.serve import engine
from cropsm.serve.models import load_model
from cropsm.serve.predict import PredictError, ServingModel

__all__ = ["PredictionRun", "predict_product"]

logger = logging.getLogger("cropsm.pipelines")


@dataclass(frozen=True)
class PredictionRun:
    """What :func:`predict_product` did.

    Attributes
    ----------
    target : pathlib.Path
        The published product store.
    products : tuple of str
        ``crop/depth`` of each product predicted (or found).
    days : int
        Days predicted; 0 when the store already held the products.
    version : str or None
        Name of the published store version; None when nothing was run.
    seconds : float
        Time the run took, from planning to publishing.
    """

    target: Path
    products: tuple[str, ...]
    days: int = 0
    version: str | None = None
    seconds: float = 0.0

    @property
    def skipped(self) -> bool:
        """True when ``if_missing`` found the products already in the store."""
        return self.version is None


def _store(cat: Any, name: str) -> str:
    path = entry_path(cat, name)
    if path is None:
        raise CatalogError(f"Catalog entry {name!r} is not a local store; predict needs one.")
    return path


def _region_mask(bbox: str | None, region: str | None, covariates: xr.Dataset
                 ) -> np.ndarray | None:
    geometry: shapely.Geometry
    if bbox:
        geometry = parse_bbox(bbox)
    elif region and Path(region).exists():
        geometry = assets.read_geojson(region)
    elif region:
        geometry = province_region(region, assets.read_provinces())
    else:
        return None
    return engine.region_of(geometry, covariates, assets.read_boundary())


def _holds_days(target: Path, start: str, end: str) -> bool:
    return bool(pd.date_range(start, end).isin(filled_days(target)).all())


def predict_product(catalog_path: str | Path, models_dir: str | Path,
                    crops_depths: Sequence[tuple[str, str]] = PRODUCTS,
                    start: str | None = None, end: str | None = None, bbox: str | None = None,
                    region: str | None = None, scheduler: str | None = None, workers: int = 2,
                    out: str | Path | None = None, overwrite: bool = False,
                    if_missing: bool = False, progress: ProgressFactory | None = None,
                    method: str = "paper", season: int | None = None,
                    years: tuple[int, int] | None = None, every: int = 1,
                    new_axis: pd.DatetimeIndex | None = None) -> PredictionRun:
    """Predict the products of ``crops_depths`` for each day from ``start`` to ``end``.

    Parameters
    ----------
    catalog_path : path
        Intake catalog with ``covariates``, ``covariates_daily`` and ``soil_moisture``.
    models_dir : path
        Folder of the trained forests.
    crops_depths : sequence of (str, str)
        Default: every crop × depth.
    start, end : str, optional
        First and last day (inclusive); default the catalog's profile's prediction period.
    bbox : str, optional
        ``lon_min,lat_min,lon_max,lat_max`` in degrees.
    region : str, optional
        A province name or adcode, or a GeoJSON file of polygons (lon/lat).
    scheduler : str, optional
        Address of a running ``dask.distributed`` scheduler.
    workers : int
        Worker processes of the local cluster (0: run in this process).
    out : path, optional
        Product store; default the catalog's ``soil_moisture`` entry.
    overwrite : bool
        Start a new store even if the existing one has other model versions or another
        period (the previous version is kept in ``.versions/``).
    if_missing : bool
        Do nothing if the store already holds these products from these models for every
        day from ``start`` to ``end``.
    progress : ProgressFactory, optional
        One bar, ``"blocks"``, over the run's tasks.
    method : {"paper", "cropsm"}
        Whose models predict (``cropsm train --method``); recorded in the store's
        ``method`` attribute.
    season : int, optional
        Fill the calendar year ``season`` (1 January to 31 December, which holds each
        crop's growing days of that year; out-of-season cell-days cost little and stay
        empty) instead of ``start``/``end``: a store with the year on its time axis,
        filled month by month, each month published as it finishes, so a server shows
        the days as they land. Days already filled are kept; a store on another axis is
        first moved onto the year's with its own days. Rerunning resumes.
    years : (int, int), optional
        First and last year of a climate record: the product from 1 January of the first
        to 31 December of the last, written by default to the catalog's
        ``soil_moisture_record`` store.
    every : int
        Predict every ``every``-th cell in each direction
        (:func:`cropsm.core.grid.every_nth_cell`); the record's reduced density.
    new_axis : pandas.DatetimeIndex, optional
        Time axis of a new store (default: the days predicted).

    Returns
    -------
    PredictionRun
    """
    if bbox and region:
        raise RegionError("Give a bounding box or a region, not both.")
    cat = open_catalog(catalog_path)
    if sum(x is not None for x in (season, years, start or end)) > 1:
        raise PredictError("Give dates (start/end), a season or a span of years, not two.")
    if season is not None:
        if every != 1:
            raise PredictError("A season is the 1 km product; --every is for a climate "
                               "record (--years).")
        return _predict_season(catalog_path, models_dir, crops_depths, season, bbox=bbox,
                               region=region, scheduler=scheduler, workers=workers, out=out,
                               overwrite=overwrite, progress=progress, method=method)
    if years is not None:
        if years[1] < years[0]:
            raise PredictError(f"The years {years[0]}-{years[1]} run backwards; write "
                               "FIRST-LAST, e.g. 1993-2017.")
        start, end = f"{years[0]}-01-01", f"{years[1]}-12-31"
        out = out or product_store_path(cat, "soil_moisture_record")
    if start is None or end is None:
        profile = cat.metadata.get("profile", "demo")
        try:
            period = get_profile(profile).prediction_period
        except UnknownProfile:
            raise UnknownProfile(f"The catalog's profile {profile!r} has no default "
                                 "prediction period (a catalog from `cropsm ingest`); give "
                                 "--start and --end.") from None
        start, end = start or period[0], end or period[1]
    target = Path(out) if out else Path(_store(cat, "soil_moisture"))
    if if_missing and (target / "zarr.json").exists():
        have = product_versions(target)
        shas = {f"{c}/{d}": read_card(model_path(models_dir, c, d, method=method)).get("sha256")
                for c, d in crops_depths}
        if all(have.get(k) == v for k, v in shas.items()) and _holds_days(target, start, end):
            return PredictionRun(target=target, products=tuple(shas))
    covariates = entry_of(cat, "covariates", xr.Dataset)
    daily = entry_of(cat, "covariates_daily", xr.Dataset)
    mask = _region_mask(bbox, region, every_nth_cell(covariates, every))
    models: dict[tuple[str, str], ServingModel] = {}
    for c, d in crops_depths:
        path = model_path(models_dir, c, d, method=method)
        sha = read_card(path).get("sha256", "")
        models[(c, d)] = ServingModel.from_model(load_model(path, c, d), sha)
    plan = engine.plan_run(covariates, daily, _store(cat, "covariates"),
                           _store(cat, "covariates_daily"), target, start, end, models, mask,
                           overwrite, stride=every, new_axis=new_axis)
    t0 = time.perf_counter()

    def add_areas(store: ProductStore) -> None:
        # derived data: a failure here must not hold back the predicted days; the next
        # `--season` run adds what is missing (days_without_areas)
        try:
            add_province_areas(store, CatalogReader(catalog_path), list(plan.models),
                               plan.dates, plan.axis, plan.region)
        except Exception:
            logger.exception("Province areas of %s not computed; the days are published "
                             "without them", target)

    published = engine.run(plan, scheduler=scheduler, workers=workers,
                           progress=bar(progress, "blocks", plan.n_tasks),
                           before_publish=add_areas if every == 1 else None)
    return PredictionRun(target=target, products=tuple(f"{c}/{d}" for c, d in plan.models),
                         days=len(plan.dates), version=published.name,
                         seconds=time.perf_counter() - t0)


def _gaps(days: pd.DatetimeIndex, filled: pd.DatetimeIndex) -> list[tuple[str, str]]:
    """Runs of ``days`` not in ``filled``, split at month ends, as (first, last)."""
    missing = days[~days.isin(filled)]
    if missing.empty:
        return []
    day_numbers = missing.values.astype("datetime64[D]").astype("i8")
    breaks = (np.diff(day_numbers) != 1) | (missing.month[1:] != missing.month[:-1])
    starts = np.r_[0, np.flatnonzero(breaks) + 1]
    ends = np.r_[starts[1:] - 1, len(missing) - 1]
    return [(f"{missing[a]:%Y-%m-%d}", f"{missing[b]:%Y-%m-%d}") for a, b in zip(starts, ends,
                                                                                  strict=True)]


def _predict_season(catalog_path, models_dir, crops_depths, season: int, *,
                    out=None, overwrite: bool = False, **kwargs) -> PredictionRun:
    """``predict_product(season=...)``: the year's missing days, a month per run."""
    cat = open_catalog(catalog_path)
    target = Path(out) if out else Path(_store(cat, "soil_moisture"))
    year = pd.date_range(f"{season}-01-01", f"{season}-12-31")
    weather_end = pd.Timestamp(entry_of(cat, "covariates_daily", xr.Dataset)["time"].values[-1])
    with_weather = year[year <= weather_end]  # a season in progress: the days so far
    filled = pd.DatetimeIndex([])
    moved: list[tuple[str, str]] = []
    fresh = overwrite
    if (target / "zarr.json").exists() and not overwrite:
        filled = filled_days(target)
        held = product_versions(target)
        if not all(f"{c}/{d}" in held for c, d in crops_depths):
            filled = pd.DatetimeIndex([])  # filled days are the store's other products'
        with open_product(target, dask=False) as ds:
            axis = pd.DatetimeIndex(ds["time"].values)
        if not year.isin(axis).all():
            other = filled[filled.year != season]
            if len(other):
                raise PredictError(
                    f"{target} holds days outside {season} ({other[0]:%Y-%m-%d}.."
                    f"{other[-1]:%Y-%m-%d}); a season store holds one year. Give --out for "
                    "the season's store, or --overwrite to replace this one.")
            # a new store on the year's axis, its first days the old store's days of the
            # year, so a server keeps showing them
            filled = filled[filled.year == season]
            moved, fresh = _gaps(filled, pd.DatetimeIndex([])), True
    runs = moved + _gaps(with_weather, filled)
    t0, days, last = time.perf_counter(), 0, None
    planned = sum(len(pd.date_range(a, b)) for a, b in runs)
    status = SeasonStatus(season=season, days_planned=planned)
    status.write(target)
    try:
        for k, (first_day, last_day) in enumerate(runs):
            last = predict_product(catalog_path, models_dir, crops_depths, start=first_day,
                                   end=last_day, out=target, overwrite=fresh and k == 0,
                                   new_axis=year, **kwargs)
            days += last.days
            status.write(target, days_done=days)
        if (target / "zarr.json").exists() and not kwargs.get("bbox") and \
                not kwargs.get("region"):
            reader = CatalogReader(catalog_path)
            stale = days_without_areas(reader, target, crops_depths)
            if len(stale):  # days published before the areas existed or the climatology
                publish_province_areas(reader, target, crops_depths, stale)
    except BaseException as err:  # KeyboardInterrupt too: the app says the run stopped
        status.write(target, state="failed", error=f"{type(err).__name__}: {err}"[:500])
        raise
    status.write(target, state="done")
    products = last.products if last else tuple(f"{c}/{d}" for c, d in crops_depths)
    return PredictionRun(target=target, products=products, days=days,
                         version=last.version if last else None,
                         seconds=time.perf_counter() - t0)
