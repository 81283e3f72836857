"""Predict daily 1 km SM into the product store (Zarr), resumably, on dask."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
import xarray as xr

from cropsm.core.regions import RegionError, parse_bbox, province_region
from cropsm.demo.profiles import UnknownProfile, get_profile
from cropsm.io import assets
from cropsm.io.catalog import CatalogError, entry_path, open_catalog
from cropsm.io.models import model_path, read_card
from cropsm.io.product import open_product, product_versions
from cropsm.pipelines._common import PRODUCTS, ProgressFactory, bar, entry_of
from cropsm.serve import engine
from cropsm.serve.models import load_model
from cropsm.serve.predict import ServingModel

__all__ = ["PredictionRun", "predict_product"]


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
    days = open_product(target, dask=False)["time"].values
    wanted = np.arange(np.datetime64(start, "D"), np.datetime64(end, "D") + 1)
    return bool(np.isin(wanted, days.astype("datetime64[D]")).all())


def predict_product(catalog_path: str | Path, models_dir: str | Path,
                    crops_depths: Sequence[tuple[str, str]] = PRODUCTS,
                    start: str | None = None, end: str | None = None, bbox: str | None = None,
                    region: str | None = None, scheduler: str | None = None, workers: int = 2,
                    out: str | Path | None = None, overwrite: bool = False,
                    if_missing: bool = False, progress: ProgressFactory | None = None,
                    method: str = "paper") -> PredictionRun:
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

    Returns
    -------
    PredictionRun
    """
    if bbox and region:
        raise RegionError("Give a bounding box or a region, not both.")
    cat = open_catalog(catalog_path)
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
    mask = _region_mask(bbox, region, covariates)
    models: dict[tuple[str, str], ServingModel] = {}
    for c, d in crops_depths:
        path = model_path(models_dir, c, d, method=method)
        sha = read_card(path).get("sha256", "")
        models[(c, d)] = ServingModel.from_model(load_model(path, c, d), sha)
    plan = engine.plan_run(covariates, daily, _store(cat, "covariates"),
                           _store(cat, "covariates_daily"), target, start, end, models, mask,
                           overwrite)
    t0 = time.perf_counter()
    published = engine.run(plan, scheduler=scheduler, workers=workers,
                           progress=bar(progress, "blocks", plan.n_tasks))
    return PredictionRun(target=target, products=tuple(f"{c}/{d}" for c, d in plan.models),
                         days=len(plan.dates), version=published.name,
                         seconds=time.perf_counter() - t0)
