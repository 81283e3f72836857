"""The soil-moisture product store: layout, encoding, resumable region writes, publishing.

One Zarr store, CF-1.10, three kinds of groups:

* the root: ``sm``, ``sm_q10``, ``sm_q90`` (uint16, scale 1e-4 m³ m⁻³), ``cir`` and
  ``aoa`` (uint8 flags) over (crop, depth, time, y, x), chunked one day × 512 × 512
  for map reads;
* ``overview_2`` … ``overview_16``: ``sm`` averaged over 2 … 16 cells, for zoomed-out
  maps (listed in the root's ``multiscales`` attribute);
* ``series``: ``sm``, ``sm_q10``, ``sm_q90`` again, chunked a whole year × 32 × 32
  for pixel time series (see BENCHMARKS.md for the measured trade-off), the chunks of
  a map tile stored together in one shard; a store filled run by run (a season) has
  :data:`SEASON_SERIES_DAYS` days per chunk instead, so a run rewrites little of it;
* ``province_shares``: each province's crop area in each drought class day by day, a
  few hundred kB written whole when a run publishes
  (:mod:`cropsm.pipelines.province_shares`).

A run fills a *partial* store in ``.versions/`` whose name is a hash of the request, so
an interrupted run finds it again. Each finished task leaves a marker; a resumed run skips
marked tasks and rewrites the others whole, so the result is byte-identical to an
uninterrupted run. Chunk files are unlinked before they are rewritten, because a run into
an existing store starts from hard links to that store's files, which must not change.
The finished store is published with :func:`cropsm.io.store.publish_dir`.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
import zarr

from cropsm.core import crops
from cropsm.core.grid import Grid
from cropsm.io.store import StoreError, publish_dir

__all__ = [
    "FLAG_FILL",
    "MAP_TILE",
    "OVERVIEW_FACTORS",
    "SEASON_SERIES_DAYS",
    "SERIES_CHUNK",
    "SHARES_GROUP",
    "SM_FILL",
    "SM_SCALE",
    "ProductStore",
    "decode_sm",
    "encode_sm",
    "filled_days",
    "open_product",
    "read_group",
    "product_methods",
    "stored_series_days",
    "product_versions",
]

#: The child group of each province's crop area per drought class and day.
SHARES_GROUP = "province_shares"
SM_SCALE = 1e-4
SM_FILL = 65535
FLAG_FILL = 255
MAP_TILE = 512
SERIES_CHUNK = (366, 32, 32)
#: Days per series chunk of a store filled run by run (a season, a month per run): each
#: run rewrites the series chunks its days touch, a month or two rather than the whole
#: year (measured on a 512 x 512 tile: 365 days read back and written 1.3 s, 31 days
#: 0.13 s; a pixel's year is then read from 12 shards in 8.0 ms instead of 1.4 ms).
SEASON_SERIES_DAYS = 31
OVERVIEW_FACTORS = (2, 4, 8, 16)
SM_VARIABLES = ("sm", "sm_q10", "sm_q90")
FLAG_VARIABLES = ("cir", "aoa")
_PROGRESS = ".cropsm-progress"
#: zarr encodes and writes a region's chunks one at a time by default; a task writes
#: hundreds at once (measured: a tile's series shard 212 ms -> 45 ms).
_WRITE_CONFIG = {"codec_pipeline.batch_size": 256, "async.concurrency": 256}

_ATTRS: dict[str, dict[str, object]] = {
    "sm": {"long_name": "volumetric soil moisture", "units": "m3 m-3",
           "standard_name": "volume_fraction_of_condensed_water_in_soil",
           "ancillary_variables": "sm_q10 sm_q90 aoa cir"},
    "sm_q10": {"long_name": "10th percentile of the forest's per-tree soil moisture",
               "units": "m3 m-3"},
    "sm_q90": {"long_name": "90th percentile of the forest's per-tree soil moisture",
               "units": "m3 m-3"},
    "cir": {"long_name": "classified irrigation state (CIR, Cheng et al. 2022 Eq. 1)",
            "flag_values": [0, 1],
            "flag_meanings": "below_smi_threshold at_or_above_smi_threshold"},
    "aoa": {"long_name": "area of applicability (Meyer and Pebesma 2021, simplified)",
            "flag_values": [0, 1], "flag_meanings": "outside inside"},
}


def encode_sm(values: np.ndarray) -> np.ndarray:
    """Soil moisture (float, NaN missing) to the stored uint16."""
    scaled = np.round(np.asarray(values, "f8") / SM_SCALE)
    return np.where(np.isfinite(scaled), np.clip(scaled, 0, SM_FILL - 1), SM_FILL
                    ).astype("u2")


def decode_sm(stored: np.ndarray) -> np.ndarray:
    """Stored uint16 to soil moisture (float32, NaN missing)."""
    stored = np.asarray(stored)
    return np.where(stored == SM_FILL, np.nan, stored * np.float32(SM_SCALE)).astype("f4")


def _encoding(names, chunks, shards=None) -> dict:
    out = {}
    for name in names:
        if name in SM_VARIABLES:
            out[name] = {"dtype": "uint16", "scale_factor": SM_SCALE, "_FillValue": SM_FILL,
                         "fill_value": SM_FILL, "chunks": chunks}
        else:
            out[name] = {"dtype": "uint8", "_FillValue": FLAG_FILL, "fill_value": FLAG_FILL,
                         "chunks": chunks}
        if shards is not None:
            out[name]["shards"] = shards
    out["time"] = {"units": "days since 1970-01-01", "dtype": "int32"}
    return out


def _group(names, y, x, dates, grid_mapping: xr.DataArray) -> xr.Dataset:
    import dask.array as da

    shape = (len(crops.CROPS), len(crops.DEPTHS), len(dates), len(y), len(x))
    text = np.dtypes.StringDType()  # stored as Zarr's variable-length strings
    coords = {"crop": np.array(crops.CROPS, dtype=text),
              "depth": np.array(crops.DEPTHS, dtype=text),
              "time": pd.DatetimeIndex(dates), "y": y, "x": x}
    data = {}
    for name in names:
        dtype = "f4" if name in SM_VARIABLES else "u1"
        # one dask chunk: the template is written with compute=False, so only its
        # metadata is stored, and a graph of one task per Zarr chunk costs seconds to build
        data[name] = xr.DataArray(da.zeros(shape, dtype=dtype, chunks=-1),
                                  dims=("crop", "depth", "time", "y", "x"),
                                  attrs={**_ATTRS[name], "grid_mapping": "spatial_ref"})
    ds = xr.Dataset(data, coords=coords)
    ds["spatial_ref"] = xr.DataArray(np.int32(0), attrs=dict(grid_mapping.attrs))
    ds["y"].attrs.update(standard_name="projection_y_coordinate", units="m")
    ds["x"].attrs.update(standard_name="projection_x_coordinate", units="m")
    return ds


class ProductStore:
    """A partial product store being filled by a run (any process may write its tasks)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    @classmethod
    def create(cls, path: str | Path, covariates: xr.Dataset, dates, attrs: dict,
               base: str | Path | None = None, series_days: int = SERIES_CHUNK[0]
               ) -> ProductStore:
        """Create (or find, to resume) a partial store.

        Parameters
        ----------
        path : path
            The partial store; if it exists with a ``created`` marker, it is resumed.
        covariates : xarray.Dataset
            Its ``y``, ``x`` and ``spatial_ref`` define the grid.
        dates : array_like of datetime64
            The store's time axis.
        attrs : dict
            Root attributes (JSON-serialisable; no timestamps, to keep runs reproducible).
        base : path, optional
            A published store to start from (its files are hard-linked, never changed).
        series_days : int
            Days per chunk of a new store's series layout (a store from ``base`` keeps
            its own, :func:`stored_series_days`).
        """
        store = cls(path)
        if store.done("created"):
            return store
        if store.path.exists():
            shutil.rmtree(store.path)
        if base is not None:
            shutil.copytree(Path(base).resolve(), store.path, copy_function=os.link)
            shutil.rmtree(store.path / _PROGRESS, ignore_errors=True)
            store._replace_attrs(attrs)
        else:
            store._write_templates(covariates, dates, attrs, series_days)
        store.mark("created")
        return store

    def _write_templates(self, covariates: xr.Dataset, dates, attrs: dict,
                         series_days: int) -> None:
        y, x = covariates["y"].values, covariates["x"].values
        ref = covariates["spatial_ref"]
        root = _group(SM_VARIABLES + FLAG_VARIABLES, y, x, dates, ref)
        root.attrs = {**attrs, "Conventions": "CF-1.10", "multiscales": [
            {"datasets": [{"path": "."}] + [{"path": f"overview_{f}", "factor": f}
                                            for f in OVERVIEW_FACTORS],
             "type": "mean of predicted cells"}]}
        root.to_zarr(self.path, compute=False, mode="w", consolidated=False,
                     encoding=_encoding(root.data_vars, (1, 1, 1, MAP_TILE, MAP_TILE)))
        grid = Grid.from_coords(x, y)
        for factor in OVERVIEW_FACTORS:
            coarse = grid.coarsen(factor)
            cy, cx = coarse.y, coarse.x
            tile = MAP_TILE // factor
            level = _group(("sm",), cy, cx, dates, ref)
            level.attrs = {"overview_factor": factor}
            level.to_zarr(self.path, group=f"overview_{factor}", compute=False, mode="w",
                          consolidated=False,
                          encoding=_encoding(("sm",), (1, 1, 1, tile, tile)))
        chunk = (1, 1, min(series_days, len(dates)), *SERIES_CHUNK[1:])
        series = _group(SM_VARIABLES, y, x, dates, ref)
        # a series task writes a map tile's worth of series chunks: one shard file, not
        # 256 chunk files (measured on 7-day chunks: 4.7x faster to write, 0.6 ms more to read
        # a pixel's series)
        series.to_zarr(self.path, group="series", compute=False, mode="w", consolidated=False,
                       encoding=_encoding(SM_VARIABLES, chunk,
                                          shards=(*chunk[:3], MAP_TILE, MAP_TILE)))

    def _replace_attrs(self, attrs: dict) -> None:
        meta = self.path / "zarr.json"
        doc = json.loads(meta.read_text())
        doc["attributes"].update(attrs)
        meta.unlink()  # a hard link to the base store's metadata
        meta.write_text(json.dumps(doc, indent=2))

    def replace_group(self, name: str, ds: xr.Dataset) -> None:
        """Write ``ds`` as the child group ``name``, replacing the group whole.

        The old group's files are unlinked first: in a store started from a published
        one they are hard links to its files, which must not change.
        """
        staged = f"{name}_staged"
        shutil.rmtree(self.path / staged, ignore_errors=True)
        ds.to_zarr(self.path, group=staged, mode="w", consolidated=False)
        # a crash before the rename leaves the old group or none, never half a group
        shutil.rmtree(self.path / name, ignore_errors=True)
        os.replace(self.path / staged, self.path / name)

    def read_group(self, name: str) -> xr.Dataset | None:
        """The child group ``name`` of the partial store, loaded; None if none or unreadable.

        An unreadable group (a crash while it was written) is written anew by its owner.
        """
        try:
            return read_group(self.path, name)
        except StoreError:
            return None

    # -- progress markers -------------------------------------------------------------
    def done(self, task: str) -> bool:
        """Whether ``task`` finished in this partial store."""
        return (self.path / _PROGRESS / task).exists()

    def mark(self, task: str) -> None:
        """Record that ``task`` finished (after its chunks are on disk)."""
        folder = self.path / _PROGRESS
        folder.mkdir(parents=True, exist_ok=True)
        (folder / task).touch()

    # -- region I/O -------------------------------------------------------------------
    def _array(self, group: str, name: str) -> zarr.Array:
        path = self.path if group == "." else self.path / group
        return zarr.open_array(path / name, mode="r+")

    def read(self, group: str, name: str, index: tuple[slice, ...]) -> np.ndarray:
        """Stored (encoded) values of a region."""
        return np.asarray(self._array(group, name)[index])

    def write(self, group: str, name: str, index: tuple[slice, ...], values: np.ndarray
              ) -> None:
        """Write encoded values over whole chunks, replacing (never modifying) their files."""
        array = self._array(group, name)
        if values.dtype != array.dtype:
            raise TypeError(f"{group}/{name} stores {array.dtype}, got {values.dtype}")
        ranges = []
        for sl, size, chunk in zip(index, array.shape, array.shards or array.chunks,
                                   strict=True):
            start, stop = sl.start or 0, size if sl.stop is None else sl.stop
            if start % chunk or (stop % chunk and stop != size):
                raise ValueError(f"Region {index} of {group}/{name} is not chunk-aligned.")
            ranges.append(range(start // chunk, -(-stop // chunk)))
        store = array.store_path.store
        if not isinstance(store, zarr.storage.LocalStore):  # opened from a path above
            raise TypeError(f"{group}/{name} is not in a local store: {store!r}")
        folder = store.root / array.path
        for coords in np.ndindex(*(len(r) for r in ranges)):
            key = array.metadata.encode_chunk_key(tuple(r[i] for r, i in zip(ranges, coords,
                                                                              strict=True)))
            (folder / key).unlink(missing_ok=True)
        with zarr.config.set(_WRITE_CONFIG):
            array[index] = values

    def publish(self, target: str | Path) -> Path:
        """Consolidate metadata, drop the markers and publish atomically at ``target``.

        A writer killed while writing a chunk leaves zarr's temporary ``<key>.<uuid>.partial``
        file beside it (the chunk itself is rewritten by the task's rerun); those are
        removed, so a store finished after a crash holds the same files as one that never
        crashed.
        """
        shutil.rmtree(self.path / _PROGRESS, ignore_errors=True)
        for leftover in self.path.rglob("*.partial"):
            leftover.unlink(missing_ok=True)
        with warnings.catch_warnings():
            # consolidated metadata is a zarr-python extension to v3, which xarray reads
            warnings.filterwarnings("ignore", "Consolidated metadata", UserWarning)
            zarr.consolidate_metadata(str(self.path))
        return publish_dir(self.path, target)


def run_key(request: dict) -> str:
    """Name of a run's partial store: a hash of everything that determines its output."""
    text = json.dumps(request, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def product_methods(path: str | Path) -> dict[str, str]:
    """Method (``paper`` or ``cropsm``) of each ``crop/depth`` product in a published store.

    Stores written before the CropSM method record none: their products are the paper's.
    """
    path = Path(path)
    meta = path / "zarr.json"
    if not meta.exists():
        return {}
    try:
        attributes = json.loads(meta.read_text())["attributes"]
    except (ValueError, KeyError) as err:
        raise StoreError(f"Product store {path} has unreadable metadata ({err}); remove it or "
                         "run with --overwrite.") from err
    methods = dict(attributes.get("model_method", {}))
    return {product: methods.get(product, "paper") for product in
            attributes.get("model_sha256", {})}


def product_versions(path: str | Path) -> dict[str, str]:
    """Model SHA-256 of each ``crop/depth`` product in a published store ({} if none)."""
    path = Path(path)
    meta = path / "zarr.json"
    if not meta.exists():
        return {}
    try:
        return dict(json.loads(meta.read_text())["attributes"].get("model_sha256", {}))
    except (ValueError, KeyError) as err:
        raise StoreError(f"Product store {path} has unreadable metadata ({err}); remove it or "
                         "run with --overwrite.") from err


def stored_series_days(path: str | Path) -> int:
    """Days per chunk of a product store's series layout."""
    try:
        return int(zarr.open_array(Path(path) / "series" / "sm", mode="r").chunks[2])
    except (OSError, ValueError, KeyError, zarr.errors.BaseZarrError) as err:
        raise StoreError(f"Product store {path} has no readable series layout ({err}); "
                         "run `cropsm predict --overwrite` to write the store anew.") from err


def filled_days(path: str | Path) -> pd.DatetimeIndex:
    """Days a product store holds: its ``filled_days`` attribute, else its whole time axis.

    A store made for a season (``cropsm predict --season``) has the whole year on its
    time axis from its first run; the days not yet predicted are empty.
    """
    path = Path(path)
    try:
        attrs = json.loads((path / "zarr.json").read_text())["attributes"]
    except (OSError, ValueError, KeyError) as err:
        raise StoreError(f"Product store {path} has unreadable metadata ({err}); run "
                         "`cropsm predict` again.") from err
    if "filled_days" in attrs:
        return pd.DatetimeIndex(attrs["filled_days"])
    with open_product(path, dask=False) as ds:
        return pd.DatetimeIndex(ds["time"].values)


def open_product(path: str | Path, level: int | str = 0, dask: bool = True) -> xr.Dataset:
    """Open the product lazily: ``level`` 0 (1 km), an overview factor, or ``"series"``.

    With ``dask=False`` the variables are lazily indexed zarr arrays instead: a small
    selection reads just its chunks, without a task graph (what interactive views want).
    """
    path = Path(path)
    if not (path / "zarr.json").exists():
        raise StoreError(f"Product store {path} does not exist; run `cropsm predict` first.")
    group = None if level in (0, "0") else ("series" if level == "series"
                                            else f"overview_{int(level)}")
    try:
        return xr.open_zarr(path, group=group, consolidated=True,
                            chunks={} if dask else None)
    except Exception as err:  # zarr raises many types for damaged or partial stores
        raise StoreError(f"Cannot open product store {path} ({group or 'root'}): {err}") from err


def read_group(path: str | Path, name: str) -> xr.Dataset | None:
    """A small child group of a published product store, loaded; None if it has none.

    Raises
    ------
    cropsm.io.store.StoreError
        The group exists but cannot be read.
    """
    path = Path(path)
    if not (path / name / "zarr.json").exists():
        return None
    try:
        with xr.open_zarr(path, group=name, consolidated=False, chunks=None) as ds:
            return ds.load()
    except Exception as err:  # zarr raises many types for damaged stores
        raise StoreError(f"Cannot read group {name!r} of product store {path} ({err}); run "
                         "`cropsm predict` again.") from err
