"""``cropsm climatology``: day-of-year percentiles of the climate record, per cell.

The record (``cropsm predict --years … --every N``) holds the product on every Nth cell
over many years. For each product and each record cell with cropland, the thresholds of
:data:`cropsm.analysis.percentiles.PERCENTILES` on each day of year are computed with
xclim (:func:`cropsm.analysis.percentiles.doy_thresholds`), with the day-of-year mean for
the anomaly layer, in blocks of cells on dask worker processes, and published as one
store (``climatology.zarr``, the catalog's ``climatology`` entry):

``sm_threshold`` (crop, depth, dayofyear, percentiles, y, x)
    uint16, scale 1e-4 m³ m⁻³, like the product;
``sm_mean`` (crop, depth, dayofyear, y, x)
    the mean over the same window of days.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from cropsm.analysis.percentiles import PERCENTILES, WINDOW_DAYS, doy_thresholds
from cropsm.core import crops
from cropsm.core.errors import CropSMError
from cropsm.io.catalog import open_catalog, product_store_path
from cropsm.io.product import SM_FILL, SM_SCALE, encode_sm, open_product, product_versions
from cropsm.io.store import region_store
from cropsm.pipelines._common import PRODUCTS, ProgressFactory, bar

__all__ = ["BLOCK", "REACH_RECORD_CELLS", "ClimatologyError", "ClimatologyRun",
           "climatology_at", "climatology_window", "compute_climatology",
           "open_climatology"]

#: Record cells per task along y and x (a multiple of the series chunk, 32).
BLOCK = 64
_DOY = 366


class ClimatologyError(CropSMError, ValueError):
    """The record cannot give a climatology (missing, too short, wrong years)."""


@dataclass(frozen=True)
class ClimatologyRun:
    """What :func:`compute_climatology` wrote: store, years, products, cells, seconds."""

    target: Path
    years: tuple[int, int]
    products: tuple[str, ...]
    cells: int
    seconds: float


def _template(record: xr.Dataset, products: Sequence[tuple[str, str]], per: Sequence[float],
              attrs: dict) -> tuple[xr.Dataset, dict]:
    import dask.array as da

    ny, nx = record.sizes["y"], record.sizes["x"]
    crop_names = sorted({c for c, _ in products}, key=crops.CROPS.index)
    depth_names = sorted({d for _, d in products}, key=crops.DEPTHS.index)
    shape = (len(crop_names), len(depth_names), _DOY)
    tile = (1, 1, 16)
    # one task writes whole chunks: tasks sharing a chunk would overwrite each other
    space = (min(BLOCK, ny), min(BLOCK, nx))
    threshold = da.full(shape + (len(per), ny, nx), np.nan, dtype="f4",
                        chunks=tile + (len(per),) + space)
    mean = da.full(shape + (ny, nx), np.nan, dtype="f4", chunks=tile + space)
    sm_attrs = {"units": "m3 m-3", "grid_mapping": "spatial_ref"}
    ds = xr.Dataset(
        {"sm_threshold": (("crop", "depth", "dayofyear", "percentiles", "y", "x"), threshold,
                          {**sm_attrs, "long_name": "soil moisture at each day-of-year "
                                                    "percentile of the record"}),
         "sm_mean": (("crop", "depth", "dayofyear", "y", "x"), mean,
                     {**sm_attrs, "long_name": "day-of-year mean of the record"})},
        coords={"crop": np.array(crop_names, dtype=object),
                "depth": np.array(depth_names, dtype=object),
                "dayofyear": np.arange(1, _DOY + 1),
                "percentiles": np.asarray(per, dtype="f4"),
                "y": record["y"], "x": record["x"]})
    if "spatial_ref" in record:
        ds["spatial_ref"] = record["spatial_ref"]
    ds.attrs = attrs
    # zarr's own fill too: chunks no task writes (no cropland) must read as missing
    encoding = {name: {"dtype": "u2", "scale_factor": SM_SCALE, "_FillValue": SM_FILL,
                       "fill_value": SM_FILL, "chunks": ds[name].data.chunksize}
                for name in ("sm_threshold", "sm_mean")}
    return ds, encoding


def _block_task(record_path: str, target: str, c: int, d: int, crop: str, depth: str,
                y0: int, y1: int, x0: int, x1: int, first: str, last: str,
                per: tuple[float, ...], window: int) -> int:
    """Thresholds and mean of one block of record cells; writes them, returns the cells."""
    import zarr

    series = open_product(record_path, "series", dask=False)
    sm = series["sm"].sel(crop=crop, depth=depth, time=slice(first, last)).isel(
        y=slice(y0, y1), x=slice(x0, x1)).values.astype("f4")
    has = np.isfinite(sm).any(axis=0)
    if not has.any():
        return 0
    times = pd.DatetimeIndex(series["time"].sel(time=slice(first, last)).values)
    rows, cols = np.nonzero(has)
    values = xr.DataArray(sm[:, rows, cols], dims=("time", "cell"), coords={"time": times})
    thresholds = doy_thresholds(values, per=per, window=window).values  # (doy, P, cell)
    mean = (values.rolling(time=window, center=True, min_periods=1).mean()
            .groupby("time.dayofyear").mean()
            .reindex(dayofyear=np.arange(1, _DOY + 1), method="nearest").values)
    out_t = np.full((_DOY, len(per), y1 - y0, x1 - x0), SM_FILL, "u2")
    out_m = np.full((_DOY, y1 - y0, x1 - x0), SM_FILL, "u2")
    out_t[:, :, rows, cols] = encode_sm(thresholds)
    out_m[:, rows, cols] = encode_sm(mean)
    root = Path(target)
    zarr.open_array(root / "sm_threshold", mode="r+")[c, d, :, :, y0:y1, x0:x1] = out_t
    zarr.open_array(root / "sm_mean", mode="r+")[c, d, :, y0:y1, x0:x1] = out_m
    return int(rows.size)


def compute_climatology(catalog_path: str | Path,
                        crops_depths: Sequence[tuple[str, str]] = PRODUCTS,
                        years: tuple[int, int] | None = None, window: int = WINDOW_DAYS,
                        per: Sequence[float] = PERCENTILES, workers: int = 2,
                        min_years: int = 3, if_missing: bool = False,
                        progress: ProgressFactory | None = None) -> ClimatologyRun:
    """Compute and publish the day-of-year percentiles of the catalog's climate record.

    Parameters
    ----------
    catalog_path : path
        Catalog whose ``soil_moisture_record`` store holds the record.
    crops_depths : sequence of (str, str)
        Products; each must be in the record.
    years : (int, int), optional
        First and last year of the climatology; default the record's whole years. Keep
        the year you will rank out of it for an independent comparison.
    window : int
        Days pooled around each day of year.
    per : sequence of float
        Percentiles kept.
    workers : int
        Worker processes (dask's ``processes`` scheduler; 0: this process).
    min_years : int
        Fewest years the climatology must span.
    if_missing : bool
        Do nothing if the store already holds these products and years, from this record.
    progress : ProgressFactory, optional
        One bar, ``"blocks"``.

    Returns
    -------
    ClimatologyRun
    """
    import dask

    cat = open_catalog(catalog_path)
    record_path = product_store_path(cat, "soil_moisture_record")
    target = product_store_path(cat, "climatology")
    record = open_product(record_path, dask=False)
    times = pd.DatetimeIndex(record["time"].values)
    counts = np.bincount(times.year - times.year.min()) if len(times) else np.array([], int)
    whole = [int(times.year.min()) + k for k, n in enumerate(counts)
             if n == pd.Timestamp(int(times.year.min()) + k, 12, 31).day_of_year]
    if years is not None:
        first, last = years
    elif whole:
        first, last = whole[0], whole[-1]
    else:
        first, last = 0, -1
    if not whole or last - first + 1 < min_years or not set(range(first, last + 1)) <= set(
            whole):
        asked = f" of {first}-{last}" if years is not None else ""
        raise ClimatologyError(
            f"The record {record_path} holds the whole years {_span(whole)}; a climatology"
            f"{asked} needs at least {min_years} whole years inside it. Extend the record "
            "with `cropsm predict --years FIRST-LAST --every N`.")
    held = product_versions(record_path)
    missing = [f"{c}/{d}" for c, d in crops_depths if f"{c}/{d}" not in held]
    if missing:
        raise ClimatologyError(f"The record holds no {', '.join(missing)}; predict them with "
                               "`cropsm predict --years … --crop … --depth …`.")
    t0 = time.perf_counter()
    if if_missing and (target / "zarr.json").exists():
        with open_climatology(target) as have:
            same = (have.attrs.get("years") == f"{first}-{last}"
                    and have.attrs.get("window_days") == window
                    and have.attrs.get("record_model_sha256") == record.attrs.get("model_sha256")
                    and {f"{c}/{d}" for c in have["crop"].values for d in have["depth"].values}
                    >= {f"{c}/{d}" for c, d in crops_depths})
        if same:
            return ClimatologyRun(target, (first, last),
                                  tuple(f"{c}/{d}" for c, d in crops_depths), 0, 0.0)
    attrs = {"title": "CropSM day-of-year soil-moisture percentiles",
             "years": f"{first}-{last}", "window_days": window,
             "record_stride": int(record.attrs.get("record_stride", 1)),
             "method": "xclim.core.calendar.percentile_doy (Hyndman and Fan method 8)",
             "record_model_sha256": record.attrs.get("model_sha256", {})}
    template, encoding = _template(record, crops_depths, per, attrs)
    ny, nx = record.sizes["y"], record.sizes["x"]
    blocks = [(y0, min(y0 + BLOCK, ny), x0, min(x0 + BLOCK, nx))
              for y0 in range(0, ny, BLOCK) for x0 in range(0, nx, BLOCK)]
    update = bar(progress, "blocks", len(blocks) * len(crops_depths))
    cells = 0
    with region_store(target, template, encoding) as writer:
        tasks = [dask.delayed(_block_task)(
            str(record_path), str(writer.path),
            list(template["crop"].values).index(crop), list(template["depth"].values).index(depth),
            crop, depth, *block, f"{first}-01-01", f"{last}-12-31", tuple(per), window)
            for crop, depth in crops_depths for block in blocks]
        scheduler = "sync" if workers == 0 else "processes"
        for start in range(0, len(tasks), 16):
            done = dask.compute(*tasks[start:start + 16], scheduler=scheduler,
                                num_workers=max(workers, 1))
            cells += sum(done)
            update(len(done))
    return ClimatologyRun(target, (first, last), tuple(f"{c}/{d}" for c, d in crops_depths),
                          cells, time.perf_counter() - t0)


def _span(years: Sequence[int]) -> str:
    return f"{years[0]}-{years[-1]}" if years else "(none)"


def open_climatology(path: str | Path) -> xr.Dataset:
    """The climatology store, lazily (thresholds decoded to m³ m⁻³ by xarray)."""
    from cropsm.io.store import open_zarr

    if not (Path(path) / "zarr.json").exists():
        raise ClimatologyError(f"No climatology at {path}; run `cropsm climatology` after "
                               "`cropsm predict --years … --every N`.")
    return open_zarr(path, consolidated=True)


#: Record cells a 1 km cell may reach for its climatology when its nearest record cell
#: has none (not that crop's cropland): 2 cells, i.e. 8 km at ``--every 4``.
REACH_RECORD_CELLS = 2


def _nearest(record_axis: np.ndarray, values: np.ndarray) -> np.ndarray:
    step = record_axis[1] - record_axis[0] if record_axis.size > 1 else 1.0
    # floor(x + 0.5), not rint: a 1 km cell half-way between two record cells (even
    # strides) always goes to the next one, so every block is stride cells wide
    index = np.floor((np.asarray(values) - record_axis[0]) / step + 0.5).astype(int)
    return np.clip(index, 0, record_axis.size - 1)


def climatology_window(clim: xr.Dataset, name: str, crop: str, depth: str, days,
                       x: np.ndarray, y: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A climatology variable on the record cells around a 1 km window, with its lookup.

    Each 1 km cell takes the value of its nearest record cell; where that cell has
    none (not the crop's cropland), of the nearest record cell with one within
    :data:`REACH_RECORD_CELLS`.

    Parameters
    ----------
    clim : xarray.Dataset
        The climatology store (:func:`open_climatology`).
    name : {"sm_threshold", "sm_mean"}
    crop, depth : str
    days : sequence of date-like
        The days whose day of year is read.
    x, y : numpy.ndarray
        The window's 1 km cell centres (grid metres), 1-D.

    Returns
    -------
    values : numpy.ndarray
        ``(day, percentiles, ry, rx)`` (``sm_threshold``) or ``(day, ry, rx)``
        (``sm_mean``) on the record cells, m³ m⁻³, NaN out of reach.
    iy, ix : numpy.ndarray
        For each 1 km row and column, its record row and column in ``values``:
        ``values[d][..., iy[:, None], ix[None, :]]`` is day ``d`` on the 1 km window.
    """
    from scipy.ndimage import distance_transform_edt

    ix = _nearest(clim["x"].values, x)
    iy = _nearest(clim["y"].values, y)
    reach = REACH_RECORD_CELLS
    x0, x1 = max(int(ix.min()) - reach, 0), int(ix.max()) + reach + 1
    y0, y1 = max(int(iy.min()) - reach, 0), int(iy.max()) + reach + 1
    if crop not in clim["crop"].values or depth not in clim["depth"].values:
        raise ClimatologyError(f"The climatology has no {crop}/{depth}; make it with "
                               f"`cropsm climatology --crop {crop} --depth {depth}` (it "
                               "replaces the store: give every product you need).")
    doys = pd.DatetimeIndex(pd.to_datetime(list(days))).day_of_year.to_numpy()
    unique, back = np.unique(doys, return_inverse=True)
    values = np.asarray(clim[name].sel(crop=crop, depth=depth).isel(
        dayofyear=unique - 1, y=slice(y0, y1), x=slice(x0, x1)).values, dtype="f4")[back]
    missing = np.isnan(values).reshape(-1, *values.shape[-2:]).all(axis=0)
    if missing.any() and not missing.all():
        distance, (near_y, near_x) = distance_transform_edt(missing, return_indices=True)
        values = values[..., near_y, near_x]
        values[..., distance > reach] = np.nan
    return values, iy - y0, ix - x0


def climatology_at(clim: xr.Dataset, name: str, crop: str, depth: str, day,
                   x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """A climatology variable of ``day`` on a 1 km window (see :func:`climatology_window`).

    Returns
    -------
    numpy.ndarray
        ``(percentiles, y, x)`` for ``sm_threshold``, ``(y, x)`` for ``sm_mean``.
    """
    values, iy, ix = climatology_window(clim, name, crop, depth, [day], x, y)
    return values[0][..., iy[:, None], ix[None, :]]
