"""The gridded prediction run: a dask graph of chunk-aligned blocks written to Zarr.

:func:`plan_run` checks a request completely (dates, region, models, the existing store)
before any work starts, then fixes the blocks: one crop (all its depths), one 512 × 512
tile, up to :data:`DAYS_PER_BLOCK` days. :func:`run` executes them on a ``dask.distributed`` cluster
(an existing one, a fresh ``LocalCluster`` of worker processes) or in this process:

1. map tasks compute a crop's feature rows on their block once
   (:func:`cropsm.serve.predict.window_rows`), apply the models of each of its depths
   (:func:`cropsm.serve.predict.apply_model`) and write the 1 km variables and the
   overview levels of their tile;
2. series tasks copy each tile's finished days into the time-series group.

Tasks are idempotent and leave a marker when done, so a run killed at any point resumes
where it stopped, and a worker lost mid-task only costs that task's rerun.
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

import cropsm
from cropsm.core import crops
from cropsm.core.grid import Grid, every_nth_cell
from cropsm.io.product import (
    MAP_TILE,
    OVERVIEW_FACTORS,
    SEASON_SERIES_DAYS,
    SERIES_CHUNK,
    SM_VARIABLES,
    ProductStore,
    decode_sm,
    encode_sm,
    filled_days,
    open_product,
    product_methods,
    product_versions,
    run_key,
    stored_series_days,
)
from cropsm.io.store import open_zarr
from cropsm.rf.features import ANTECEDENT_DAYS
from cropsm.rf.memory import MemoryParams
from cropsm.serve.predict import (
    PredictError,
    ServingModel,
    apply_model,
    coarsen_mean,
    cropland,
    serving_covariates,
    valid_dates,
    window_rows,
)

__all__ = ["DAYS_PER_BLOCK", "Plan", "plan_run", "run"]

DAYS_PER_BLOCK = 4  # small enough to balance uneven tiles over workers


@dataclass
class Plan:
    """Everything a run needs, checked; tasks receive only paths and small arrays."""

    covariates_path: Path
    daily_path: Path
    target: Path
    axis: pd.DatetimeIndex
    dates: pd.DatetimeIndex
    models: dict[tuple[str, str], ServingModel]
    region: np.ndarray | None
    tiles: dict[tuple[str, str], list[tuple[int, int, int, int]]]
    base: Path | None
    partial: Path
    attrs: dict
    stride: int = 1
    series_days: int = SERIES_CHUNK[0]

    @property
    def days_per_block(self) -> int:
        """Days of one map task: :data:`DAYS_PER_BLOCK`, times the stride on a record grid.

        A record tile has as many cells as a 1 km tile, so a task has ``stride`` times a
        1 km task's rows, and the per-task cost (opening stores, the rain of the
        antecedent days) is paid ``stride`` times less often.
        """
        return DAYS_PER_BLOCK * self.stride

    @property
    def n_tasks(self) -> int:
        """Series tasks: the progress unit (a tile of a product, all its days)."""
        length = self.series_days
        first = _day_index(self.axis, self.dates[0])
        chunks = (first + len(self.dates) - 1) // length - first // length + 1
        return sum(len(t) for t in self.tiles.values()) * chunks


def _day_index(axis: pd.DatetimeIndex, day) -> int:
    """Position of one day on the store's (unique, daily) time axis."""
    loc = axis.get_loc(day)
    if not isinstance(loc, int | np.integer):
        raise ValueError(f"{day} is not a single day of the time axis")
    return int(loc)


def _tiles(shape: tuple[int, int]):
    for y0 in range(0, shape[0], MAP_TILE):
        for x0 in range(0, shape[1], MAP_TILE):
            yield y0, min(y0 + MAP_TILE, shape[0]), x0, min(x0 + MAP_TILE, shape[1])


def plan_run(covariates: xr.Dataset, daily: xr.Dataset, covariates_path, daily_path,
             target, start, end, models: dict[tuple[str, str], ServingModel],
             region: np.ndarray | None = None, overwrite: bool = False,
             stride: int = 1, new_axis: pd.DatetimeIndex | None = None) -> Plan:
    """Check a prediction request and fix its blocks; raises :class:`PredictError`.

    Parameters
    ----------
    covariates, daily : xarray.Dataset
        The catalog's ``covariates`` and ``covariates_daily`` (opened lazily).
    covariates_path, daily_path : path
        Their stores, which the tasks open themselves.
    target : path
        The published product store (the catalog's ``soil_moisture``).
    start, end : date-like
        First and last day to predict.
    models : dict
        ``(crop, depth)`` to :class:`cropsm.serve.predict.ServingModel`.
    region : numpy.ndarray of bool, optional
        Cells of the covariates' grid to predict (default: all).
    overwrite : bool
        Start a new store even if the existing one holds other model versions or another
        period.
    stride : int
        Predict every ``stride``-th cell only (:func:`cropsm.core.grid.every_nth_cell`);
        ``region`` is then a mask of that grid.
    new_axis : pandas.DatetimeIndex, optional
        Time axis of a new store (default: the days predicted), so later runs can fill
        the rest of it; the store's ``filled_days`` attribute lists the days done.
    """
    if stride < 1:
        raise PredictError(f"The stride must be a whole number of cells >= 1, got {stride}.")
    covariates = every_nth_cell(covariates, stride)
    serving_covariates(covariates)  # a store from before world v2 is refused here
    try:
        start, end = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    except (ValueError, TypeError) as err:
        raise PredictError(f"Dates must look like 2018-05-01 ({err}).") from err
    if end < start:
        raise PredictError(f"The end date {end:%Y-%m-%d} is before the start {start:%Y-%m-%d}.")
    memory = any(model.memory for model in models.values())
    first, last = valid_dates(daily, memory)
    if start < first or end > last:
        reach = "a year" if memory else f"the {ANTECEDENT_DAYS} days"
        raise PredictError(
            f"The covariates serve {first:%Y-%m-%d} to {last:%Y-%m-%d} (rain of "
            f"{reach} before each day is a feature); {start:%Y-%m-%d} to "
            f"{end:%Y-%m-%d} is outside. Choose dates in that range.")
    if not models:
        raise PredictError("No crop × depth selected.")
    dates = pd.date_range(start, end)
    shape = (covariates.sizes["y"], covariates.sizes["x"])
    if region is not None and region.shape != shape:
        raise PredictError(f"The region mask has shape {region.shape}, the grid {shape}.")

    tiles: dict[tuple[str, str], list] = {}
    for crop, depth in models:
        cells = cropland(covariates, crop)
        if region is not None:
            cells &= region
        tiles[(crop, depth)] = [t for t in _tiles(shape) if cells[t[0]:t[1], t[2]:t[3]].any()]
        if not tiles[(crop, depth)]:
            raise PredictError(f"The region has no {crop} cropland (harvested fraction >= "
                               f"{crops.CROPLAND_MIN_FRACTION:.0%}); choose another region "
                               "or crop.")

    target = Path(target)
    base, axis = _existing(target, dates, models, covariates, overwrite)
    if base is None and new_axis is not None:
        if dates[0] < new_axis[0] or dates[-1] > new_axis[-1]:
            raise PredictError(f"The days {start:%Y-%m-%d}..{end:%Y-%m-%d} are not on the "
                               "requested time axis.")
        axis = new_axis
    filled = pd.DatetimeIndex(dates)
    if base is not None:
        filled = filled.union(filled_days(base))
        series_chunk = stored_series_days(base)
    else:  # a store filled run by run rewrites only the series chunks of a run's days
        series_chunk = SEASON_SERIES_DAYS if len(axis) > len(dates) else SERIES_CHUNK[0]
    series_chunk = min(series_chunk, len(axis))
    shas = {f"{c}/{d}": m.sha256 for (c, d), m in models.items()}
    by_product = {f"{c}/{d}": m.method for (c, d), m in models.items()}
    if base is not None:
        shas = {**product_versions(base), **shas}
        by_product = {**product_methods(base), **by_product}
    methods = sorted(set(by_product.values()))
    attrs: dict[str, Any] = {
        "title": "CropSM daily 1 km soil moisture of dryland wheat and maize",
        "source": ("cropsm (ChinaCropSM1km random forest with irrigation module)"
                   if methods == ["paper"] else
                   f"cropsm ({' and '.join(methods)} method; docs/method.md)"),
        "method": ",".join(methods),
        "model_method": by_product,
        "cropsm_version": cropsm.__version__,
        "model_sha256": shas,
        # days any product of the store was predicted on (a season fills its axis by runs)
        "filled_days": [f"{d:%Y-%m-%d}" for d in filled]}
    key = run_key({"axis": [str(axis[0]), len(axis)], "dates": [str(start), str(end)],
                   "models": shas, "base": str(base.resolve()) if base else None,
                   "stride": stride, "series_days": series_chunk,
                   "region": None if region is None else
                   hashlib.sha256(np.packbits(region).tobytes()).hexdigest(),
                   "grid": [float(covariates["x"][0]), float(covariates["y"][0]), *shape]})
    partial = target.parent / ".versions" / f"{target.name}.partial-{key}"
    if stride > 1:
        attrs["title"] = ("CropSM climate record: daily soil moisture of dryland wheat and "
                          f"maize at every {stride}th 1 km cell")
        attrs["record_stride"] = stride
    return Plan(Path(covariates_path), Path(daily_path), target, axis, dates, dict(models),
                region, tiles, base, partial, attrs, stride, series_chunk)


def _existing(target: Path, dates: pd.DatetimeIndex, models, covariates, overwrite: bool):
    """The published store to build on (or None) and the time axis of the new store."""
    if overwrite or not (target / "zarr.json").exists():
        return None, dates
    versions = product_versions(target)
    clash = [f"{c}/{d}" for (c, d), m in models.items()
             if versions.get(f"{c}/{d}") not in (None, m.sha256)]
    if clash:
        raise PredictError(
            f"{target} holds {', '.join(clash)} from other model versions; mixing versions in "
            "one store is refused. Pass --overwrite to start a new store, or predict with the "
            "models that made it.")
    with open_product(target) as ds:
        axis = pd.DatetimeIndex(ds["time"].values)
        same_grid = (ds.sizes["y"] == covariates.sizes["y"]
                     and ds.sizes["x"] == covariates.sizes["x"]
                     and np.allclose(ds["x"].values[[0, -1]], covariates["x"].values[[0, -1]]))
    if not same_grid:
        raise PredictError(f"{target} was made on another grid; pass --overwrite to replace it.")
    if dates[0] < axis[0] or dates[-1] > axis[-1]:
        raise PredictError(
            f"{target} covers {axis[0]:%Y-%m-%d} to {axis[-1]:%Y-%m-%d}; "
            f"{dates[0]:%Y-%m-%d} to {dates[-1]:%Y-%m-%d} is not inside it. Pass --overwrite "
            "to start a new store for these dates.")
    return target, axis


# -- tasks (run on workers; arguments are paths, models and small arrays) -------------
@dataclass(frozen=True)
class _Context:
    """What every task needs, small enough to send with each task."""

    partial: Path
    covariates_path: Path
    daily_path: Path
    axis: pd.DatetimeIndex
    keep_outside_region: bool
    stride: int = 1
    series_days: int = SERIES_CHUNK[0]


@functools.lru_cache(maxsize=4)
def _open(path: str, stride: int = 1) -> xr.Dataset:
    # lazily indexed, not dask: a task's reads run in its own thread, whereas a dask
    # computation inside a task on a cluster is sent back to the scheduler and waits
    # for a free worker (measured: a 7-day national run's map tasks spent 3/4 of
    # their time waiting so)
    return every_nth_cell(open_zarr(path, consolidated=True, chunks=None), stride)


@functools.lru_cache(maxsize=2)
def _daily_chunks(path: str, first: int, last: int) -> xr.Dataset:
    """The forest's daily covariates (rain, PET factor) over time chunks ``first..last``.

    A map task reads a few days, but the rain is stored a year per chunk and the monthly
    variables in one chunk: decoding them once per worker process rather than once per
    task saves about 0.2 s a task. Rain is cast to float32 here as the features do, so
    the rows are unchanged.
    """
    daily = _open(path)
    length = _time_chunk(daily)
    # an absent variable is left to the features' check, whose message names it
    present = [name for name in ("pre", "pet_factor") if name in daily]
    days = daily[present].isel(time=slice(first * length, (last + 1) * length))
    return (days.assign(pre=days["pre"].astype("f4")) if "pre" in days else days).load()


def _time_chunk(daily: xr.Dataset) -> int:
    """Days per stored chunk of the daily rain (its whole axis if it has none)."""
    encoding = daily["pre"].encoding if "pre" in daily else {}
    chunks = encoding.get("chunks") or encoding.get("preferred_chunks", {}).get("time")
    return int(chunks[0] if isinstance(chunks, tuple) else chunks or daily.sizes["time"])


def _daily_for(path: str, dates: pd.DatetimeIndex, memory: bool) -> xr.Dataset:
    """The daily covariates a block of ``dates`` reads, from the process's cache."""
    daily = _open(path)
    reach = MemoryParams().reach_days if memory else ANTECEDENT_DAYS
    have = pd.DatetimeIndex(daily["time"].values)
    length = _time_chunk(daily)
    first = max(int(have.searchsorted(dates[0] - pd.Timedelta(days=reach))), 0)
    last = min(int(have.searchsorted(dates[-1])), len(have) - 1)
    return _daily_chunks(path, first // length, last // length)


def _set_threads(threads: int | None) -> None:
    if threads:
        import numba

        # numba.config sets its NUMBA_* attributes at run time, from the environment
        numba.set_num_threads(min(threads,
                                  numba.config.NUMBA_NUM_THREADS))  # type: ignore[attr-defined]


def _map_task(plan: _Context, models: list[ServingModel], tile, t0: int, t1: int,
              region: np.ndarray | None, threads: int | None = None) -> str:
    """Predict one block of a crop's products and write their 1 km and overview chunks.

    The feature rows depend on the crop only, so they are computed once for all its
    depths (and the daily covariates come from the process's cache).
    """
    crop = models[0].crop
    task = f"map-{crop}-{tile[0]}-{tile[2]}-{t0}"
    store = ProductStore(plan.partial)
    if store.done(task):
        return task
    _set_threads(threads)
    y0, y1, x0, x1 = tile
    window = serving_covariates(_open(str(plan.covariates_path), plan.stride)).isel(
        y=slice(y0, y1), x=slice(x0, x1)).load()
    dates = plan.axis[t0:t1]
    memory = any(model.memory for model in models)
    rows = window_rows(window, _daily_for(str(plan.daily_path), dates, memory), dates, crop,
                       region, memory=memory)
    for model in models:
        _write_block(store, plan, model.crop, model.depth, tile, t0, t1, region,
                     apply_model(model, rows))
    store.mark(task)
    return task


def _write_block(store: ProductStore, plan: _Context, crop: str, depth: str, tile,
                 t0: int, t1: int, region: np.ndarray | None, out: dict[str, np.ndarray]
                 ) -> None:
    y0, y1, x0, x1 = tile
    c, d = crops.CROPS.index(crop), crops.DEPTHS.index(depth)
    index = (slice(c, c + 1), slice(d, d + 1), slice(t0, t1), slice(y0, y1), slice(x0, x1))
    keep_old = plan.keep_outside_region
    encoded = {name: (encode_sm(out[name]) if name in SM_VARIABLES else out[name])[None, None]
               for name in (*SM_VARIABLES, "cir", "aoa")}
    for name, values in encoded.items():
        if keep_old and region is not None:
            values = np.where(region, values, store.read(".", name, index))
        store.write(".", name, index, values)
    sm = decode_sm(encoded["sm"][0, 0])
    for factor in OVERVIEW_FACTORS:
        coarse = encode_sm(coarsen_mean(sm, factor))[None, None]
        cy0, cx0 = y0 // factor, x0 // factor
        store.write(f"overview_{factor}", "sm",
                    index[:3] + (slice(cy0, cy0 + coarse.shape[3]),
                                 slice(cx0, cx0 + coarse.shape[4])), coarse)


def _series_task(plan: _Context, crop: str, depth: str, tile, chunk_index: int,
                 *map_tasks: str) -> str:
    """Copy one tile's days of one series time chunk from the map layout."""
    task = f"series-{crop}-{depth}-{tile[0]}-{tile[2]}-{chunk_index}"
    store = ProductStore(plan.partial)
    if store.done(task):
        return task
    length = plan.series_days
    t0, t1 = chunk_index * length, min((chunk_index + 1) * length, len(plan.axis))
    c, d = crops.CROPS.index(crop), crops.DEPTHS.index(depth)
    y0, y1, x0, x1 = tile
    index = (slice(c, c + 1), slice(d, d + 1), slice(t0, t1), slice(y0, y1), slice(x0, x1))
    for name in SM_VARIABLES:
        store.write("series", name, index, store.read(".", name, index))
    store.mark(task)
    return task


def _graph(plan: Plan, threads: int | None):
    """Delayed series tasks (each depending on its map tasks) of a plan.

    Each model is one node of the graph, not embedded in every task. On a cluster it is
    a task like any other, so a worker lost with the only copy costs a recomputation;
    models scattered to the workers instead are lost for good with them (dask cannot
    recover scattered data), which failed the run.
    """
    import dask

    finals = []
    context = _Context(plan.partial, plan.covariates_path, plan.daily_path, plan.axis,
                       plan.base is not None and plan.region is not None, plan.stride,
                       plan.series_days)
    length = plan.series_days
    first = _day_index(plan.axis, plan.dates[0])
    last = first + len(plan.dates)
    for crop in dict.fromkeys(c for c, _ in plan.models):
        products = [(d, m) for (c, d), m in plan.models.items() if c == crop]
        model_nodes = [dask.delayed(m, pure=True, traverse=False) for _, m in products]
        # the crop's cropland (and the region) fix the tiles, whatever the depth
        for tile in plan.tiles[(crop, products[0][0])]:
            y0, y1, x0, x1 = tile
            region = None if plan.region is None else plan.region[y0:y1, x0:x1]
            maps = [dask.delayed(_map_task, pure=False)(context, model_nodes, tile, t0,
                                                        min(t0 + plan.days_per_block, last),
                                                        region, threads,
                                                        dask_key_name=f"map-{crop}-"
                                                        f"{y0}-{x0}-{t0}")
                    for t0 in range(first, last, plan.days_per_block)]
            for depth, _ in products:
                for chunk in range(first // length, (last - 1) // length + 1):
                    finals.append(dask.delayed(_series_task, pure=False)(
                        context, crop, depth, tile, chunk, *maps,
                        dask_key_name=f"series-{crop}-{depth}-{y0}-{x0}-{chunk}"))
    return finals


def run(plan: Plan, scheduler: str | None = None, workers: int = 2,
        progress: Callable[[int], None] | None = None,
        before_publish: Callable[[ProductStore], None] | None = None) -> Path:
    """Execute a plan and publish the store; returns the published path.

    Parameters
    ----------
    plan : Plan
    scheduler : str, optional
        Address of a running ``dask.distributed`` scheduler. If None, a ``LocalCluster``
        of ``workers`` single-threaded worker processes is started (``workers=0``: run
        in this process, numba using every core).
    progress : callable, optional
        Called with the number of tasks finished since the last call.
    before_publish : callable, optional
        Called with the finished partial store, before it is published: what it adds
        (e.g. summaries of the new days) is published with the days, or not at all.
    """
    store = ProductStore.create(plan.partial, _open(str(plan.covariates_path), plan.stride),
                                plan.axis, plan.attrs, base=plan.base,
                                series_days=plan.series_days)
    if workers == 0 and scheduler is None:
        import dask

        finals = _graph(plan, threads=None)
        for final in finals:
            dask.compute(final, scheduler="sync")
            if progress:
                progress(1)
    else:
        _run_distributed(plan, scheduler, workers, progress)
    if before_publish is not None:
        before_publish(store)
    return store.publish(plan.target)


def _run_distributed(plan: Plan, scheduler: str | None, workers: int,
                     progress: Callable[[int], None] | None) -> None:
    from distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler is None:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None,
                               memory_limit=f"{max(2, _memory_gb() // max(workers, 1))}GB")
    try:
        with Client(cluster if cluster is not None else scheduler) as client:
            futures = client.compute(_graph(plan, threads=1))
            for future in as_completed(futures):
                future.result()
                if progress:
                    progress(1)
    finally:
        if cluster is not None:
            cluster.close()


def _memory_gb() -> int:
    return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9)


def region_of(geometry, covariates: xr.Dataset, china) -> np.ndarray:
    """Cells of the covariates' grid inside a lon/lat region (see :mod:`cropsm.core.regions`)."""
    from cropsm.core.regions import region_mask

    return region_mask(geometry, Grid.from_coords(covariates["x"].values,
                                                  covariates["y"].values), china)
