"""Zarr and Parquet stores that are published atomically.

A store is built in a hidden temporary folder next to its target and only then moved
into ``<parent>/.versions/`` and exposed through a symlink that is switched with one
``os.replace``. A reader therefore sees either the previous complete store or the new
complete store, never a half-written one; an interrupted build leaves only a
temporary folder that the next build removes.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
import zarr

from cropsm.core.errors import CropSMError

__all__ = [
    "RegionWriter",
    "StoreError",
    "check_writable",
    "open_zarr",
    "publish",
    "publish_dir",
    "region_store",
    "tile_encoding",
    "read_json",
    "read_netcdf",
    "read_parquet",
    "verify_store",
    "write_bytes",
    "write_json",
    "write_parquet",
    "write_parquet_file",
    "write_text",
    "write_together",
    "write_zarr",
]


class StoreError(CropSMError, OSError):
    """A store is missing, unreadable or cannot be written."""


def check_writable(folder: str | Path) -> Path:
    """Create ``folder`` if needed and make sure files can be written there."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".write-probe-{uuid.uuid4().hex}"
        probe.touch()
        probe.unlink()
    except OSError as err:
        raise StoreError(
            f"Cannot write to {folder} ({err.strerror or err}); choose a writable --out folder."
        ) from err
    return folder


@contextlib.contextmanager
def publish(target: str | Path, keep: int = 2) -> Iterator[Path]:
    """Build a store in a temporary folder, then publish it atomically at ``target``.

    Parameters
    ----------
    target : path
        Where readers open the store (a symlink to the current version).
    keep : int
        Number of published versions kept in ``.versions/``; older ones are removed.

    Yields
    ------
    pathlib.Path
        Temporary path to write the store to.
    """
    target = Path(target)
    versions = target.parent / ".versions"
    versions.mkdir(parents=True, exist_ok=True)
    for stale in versions.glob(f"{target.name}.tmp-*"):
        shutil.rmtree(stale, ignore_errors=True) if stale.is_dir() else stale.unlink()
    tmp = versions / f"{target.name}.tmp-{uuid.uuid4().hex[:8]}"
    try:
        yield tmp
    except BaseException:
        _remove(tmp)
        raise
    publish_dir(tmp, target, keep)


def publish_dir(folder: str | Path, target: str | Path, keep: int = 2) -> Path:
    """Publish a finished store folder at ``target``: a versioned name, then one symlink switch.

    ``folder`` must be on the same file system as ``target`` (e.g. in its ``.versions``).
    """
    target = Path(target)
    versions = target.parent / ".versions"
    final = versions / f"{target.name}.v{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}"
    os.replace(folder, final)
    link = target.parent / f".{target.name}.link-{uuid.uuid4().hex[:6]}"
    os.symlink(os.path.relpath(final, target.parent), link)
    if target.exists() and not target.is_symlink():
        _remove(target)
    os.replace(link, target)
    old = sorted(versions.glob(f"{target.name}.v*"), key=lambda p: p.stat().st_mtime)
    for stale in old[:-keep]:
        if stale.resolve() != final.resolve():
            _remove(stale)
    return final


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        path.unlink()


def write_parquet(df: pd.DataFrame, target: str | Path) -> None:
    """Write a table to Parquet atomically."""
    with publish(target) as tmp:
        df.to_parquet(tmp, index=False)


def write_together(stores: dict[str | Path, tuple[xr.Dataset | pd.DataFrame, dict | None]]
                   ) -> list[Path]:
    """Write several stores and publish them only when every one is written.

    Parameters
    ----------
    stores : dict
        Target path -> (dataset for Zarr with its encoding, or table for Parquet and None).

    A failure while writing any of them removes every temporary copy and publishes none,
    so readers never see a mix of old and new stores.
    """
    with contextlib.ExitStack() as stack:
        for target, (obj, encoding) in stores.items():
            tmp = stack.enter_context(publish(target))
            if isinstance(obj, xr.Dataset):
                with warnings.catch_warnings():
                    # consolidated metadata is a zarr-python extension to v3; xarray reads it
                    warnings.filterwarnings("ignore", "Consolidated metadata", UserWarning)
                    obj.to_zarr(tmp, encoding=encoding or {}, consolidated=True)
            else:
                obj.to_parquet(tmp, index=False)
    return [Path(t) for t in stores]


def write_parquet_file(df: pd.DataFrame, target: str | Path) -> Path:
    """Write a table to one Parquet file atomically, keeping no older versions.

    For report tables that live in the repository, where :func:`write_parquet`'s
    versioned folder and symlink would not belong.
    """
    target = Path(target)
    tmp = target.with_name(f".{target.name}.tmp-{uuid.uuid4().hex[:6]}")
    df.to_parquet(tmp, index=False)
    os.replace(tmp, target)
    return target


def read_parquet(path: str | Path) -> pd.DataFrame:
    """Read a Parquet table; a missing or damaged file raises :class:`StoreError` naming it."""
    path = Path(path)
    if not path.is_file():
        raise StoreError(f"{path} does not exist; run the step that writes it first.")
    try:
        return pd.read_parquet(path)
    except Exception as err:  # pyarrow raises ArrowInvalid, OSError, ... for damaged files
        raise StoreError(f"{path} is not a readable Parquet table ({err}); "
                         "regenerate it.") from err


def open_zarr(path: str | Path, **kwargs) -> xr.Dataset:
    """Open a published Zarr store lazily, with a clear error when it is absent."""
    path = Path(path)
    if not path.exists():
        raise StoreError(
            f"Zarr store {path} does not exist; build it first (e.g. `cropsm demo build`)."
        )
    try:
        return xr.open_zarr(path, **kwargs)
    except Exception as err:  # zarr raises many types for damaged stores
        raise StoreError(f"Cannot open Zarr store {path}: {err}") from err


def tile_encoding(ds: xr.Dataset, tile: int = 512) -> dict[str, dict]:
    """Zarr chunks of one ``tile`` x ``tile`` block per other index, for every variable."""
    enc = {}
    for name, var in ds.data_vars.items():
        if var.ndim == 0:
            continue
        enc[str(name)] = {"chunks": tuple(min(tile, n) if d in ("y", "x") else 1
                                          for d, n in zip(var.dims, var.shape, strict=True))}
    return enc


def write_zarr(ds: xr.Dataset, target: str | Path, encoding: dict | None = None) -> Path:
    """Write a dataset to a Zarr store and publish it atomically at ``target``."""
    target = Path(target)
    with publish(target) as tmp:
        ds.to_zarr(tmp, encoding=encoding or {}, consolidated=True)
    return target


class RegionWriter:
    """Fills a Zarr store, created from a lazy template, one region at a time."""

    def __init__(self, path: Path):
        self.path = path

    def write_encoded(self, name: str, values: np.ndarray, index: tuple[slice, ...]) -> None:
        """Write values already in the variable's stored dtype (CF-encoded) at ``index``."""
        array = zarr.open_array(self.path / name, mode="r+")
        if values.dtype != array.dtype:
            raise TypeError(f"{name} stores {array.dtype}, got {values.dtype}")
        array[index] = values


@contextlib.contextmanager
def region_store(target: str | Path, template: xr.Dataset,
                 encoding: dict | None = None) -> Iterator[RegionWriter]:
    """Create a store from a lazy ``template``, fill it by regions, then publish it atomically."""
    with publish(target) as tmp:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Consolidated metadata", UserWarning)
            template.to_zarr(tmp, compute=False, encoding=encoding or {}, mode="w",
                             consolidated=True)
        yield RegionWriter(tmp)


def write_text(text: str, target: str | Path) -> Path:
    """Write a UTF-8 text file atomically: a reader sees the old file or the new one."""
    target = Path(target)
    tmp = target.with_name(f".{target.name}.tmp-{uuid.uuid4().hex[:6]}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, target)
    return target


def write_bytes(data: bytes, target: str | Path) -> Path:
    """Write a binary file atomically: a reader sees the old file or the new one."""
    target = Path(target)
    tmp = target.with_name(f".{target.name}.tmp-{uuid.uuid4().hex[:6]}")
    tmp.write_bytes(data)
    os.replace(tmp, target)
    return target


def write_json(obj: dict, target: str | Path, default=None) -> Path:
    """Write a JSON document atomically."""
    return write_text(json.dumps(obj, indent=2, default=default), target)


def read_json(path: str | Path) -> dict:
    """Read a JSON document; a missing or malformed file raises :class:`StoreError` naming it."""
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise StoreError(f"{path} does not exist; run the step that writes it first.") from err
    except (OSError, ValueError) as err:  # UnicodeDecodeError is a ValueError
        raise StoreError(f"{path} is not valid JSON ({err}); regenerate it.") from err


def read_netcdf(path: str | Path) -> xr.Dataset:
    """Read a small netCDF file (a report) into memory and close it.

    A missing or damaged file raises :class:`StoreError` naming it.
    """
    path = Path(path)
    if not path.is_file():
        raise StoreError(f"{path} does not exist; run the step that writes it first.")
    try:
        with xr.open_dataset(path, engine="netcdf4") as ds:
            return ds.load()
    except Exception as err:  # netCDF4 and h5py raise OSError, ValueError, ... when damaged
        raise StoreError(f"{path} is not a readable netCDF file ({err}); "
                         "regenerate it.") from err


def verify_store(path: str | Path) -> tuple[int, list[str]]:
    """Read every stored chunk of every array of a Zarr store.

    Chunks never written read as the fill value and count as sound; chunks that cannot
    be decoded (truncated, overwritten) are returned by file path, so the user knows
    which store to rebuild.

    Returns
    -------
    tuple
        ``(chunks read, damaged chunk paths)``.
    """
    import itertools

    import zarr

    path = Path(path)
    try:
        root = zarr.open_group(path.resolve(), mode="r")
    except Exception as err:  # zarr raises many types for damaged metadata
        raise StoreError(f"Cannot open Zarr store {path}: {err}") from err
    read, damaged = 0, []

    def visit(group, prefix: str) -> None:
        nonlocal read
        for name, array in group.arrays():
            encoding = array.metadata.chunk_key_encoding
            for coords in itertools.product(*(range(n) for n in array.cdata_shape)):
                read += 1
                try:
                    array.get_block_selection(coords)
                except Exception:  # codecs raise RuntimeError, ValueError, ...
                    key = encoding.encode_chunk_key(coords)
                    damaged.append(str(path / prefix / name / key))
        for name, child in group.groups():
            visit(child, f"{prefix}{name}/")

    visit(root, "")
    return read, damaged
