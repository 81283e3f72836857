"""A catalog's stores, each opened on first use and kept: what a server reads from.

Opening a Zarr store or an intake catalog costs tens of milliseconds, so a dashboard that
reopened them for every map render would spend most of its time there. A
:class:`CatalogReader` opens each store once; the arrays stay lazy, so holding a reader
holds metadata, not data.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from cropsm.core.grid import Grid, lonlat_to_xy
from cropsm.io.catalog import (
    CatalogError,
    entry_path,
    open_catalog,
    product_store_path,
    read_entry,
)
from cropsm.io.product import SHARES_GROUP, filled_days, open_product, read_group

__all__ = ["STATION_COLUMNS", "CatalogReader"]

#: Columns of :meth:`CatalogReader.stations`, also when the catalog has no stations.
STATION_COLUMNS = ("station_id", "lon", "lat", "x", "y", "crops")


class CatalogReader:
    """One catalog's entries and product levels, opened once each.

    Parameters
    ----------
    path : str or pathlib.Path
        The intake catalog.

    Notes
    -----
    Safe to share between threads: two threads may open the same store at once, and
    then one of the two opened objects is kept.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._opened: dict[tuple[Any, ...], Any] = {}
        self._lock = threading.Lock()

    def _once(self, key: tuple[Any, ...], open_: Callable[[], Any]) -> Any:
        if key not in self._opened:
            value = open_()  # outside the lock: one slow store must not block the others
            with self._lock:
                self._opened.setdefault(key, value)
        return self._opened[key]

    @cached_property
    def catalog(self) -> Any:
        """The intake catalog.

        Raises
        ------
        cropsm.io.catalog.CatalogError
            The catalog is missing or not a CropSM catalog.
        """
        return open_catalog(self.path)

    def entry(self, name: str) -> xr.Dataset | pd.DataFrame:
        """A catalog entry: a lazy Dataset (Zarr) or a DataFrame (Parquet).

        Raises
        ------
        cropsm.io.catalog.CatalogError
            The catalog lacks the entry or its store.
        """
        return self._once(("entry", name), lambda: read_entry(name, self.catalog))

    def dataset(self, name: str) -> xr.Dataset:
        """A gridded (Zarr) entry, lazily.

        Raises
        ------
        cropsm.io.catalog.CatalogError
            The catalog lacks the entry or its store, or the entry is a table.
        """
        found = self.entry(name)
        if not isinstance(found, xr.Dataset):
            raise CatalogError(f"Catalog entry {name!r} is a table, not a gridded store.")
        return found

    def table(self, name: str) -> pd.DataFrame:
        """A tabular (Parquet) entry.

        Raises
        ------
        cropsm.io.catalog.CatalogError
            The catalog lacks the entry or its store, or the entry is gridded.
        """
        found = self.entry(name)
        if not isinstance(found, pd.DataFrame):
            raise CatalogError(f"Catalog entry {name!r} is a gridded store, not a table.")
        return found

    def has_entry(self, name: str) -> bool:
        """Whether the catalog has ``name`` and its store opens."""
        try:
            self.entry(name)
        except CatalogError:
            return False
        return True

    def _product_path(self) -> Path:
        store = entry_path(self.catalog, "soil_moisture")
        if store is None:
            raise CatalogError("The catalog's soil_moisture entry is not a local store.")
        # the published version behind the link: a run that publishes a new version
        # while this reader serves switches the link, and an opened version must not
        # change under its cached metadata
        return Path(store).resolve()

    def product(self, level: int | str = 0) -> xr.Dataset:
        """The SM product at an overview level (0: 1 km) or its ``"series"`` layout.

        The current published version: after a run publishes a new one, the next call
        opens it (and its new days).

        Raises
        ------
        cropsm.io.catalog.CatalogError
            The catalog's ``soil_moisture`` entry is not a local store.
        cropsm.io.store.StoreError
            The store does not exist yet (run ``cropsm predict``) or is damaged.
        """
        version = self._product_path()
        return self._once(("product", level, str(version)),
                          lambda: open_product(version, level, dask=False))

    def dates(self) -> pd.DatetimeIndex:
        """Days the product holds (of the current version)."""
        version = self._product_path()
        return self._once(("dates", str(version)), lambda: filled_days(version))

    def day(self, date: Any) -> np.datetime64:
        """``date`` as the product's time label, checked against the days it holds.

        Raises
        ------
        cropsm.io.catalog.CatalogError
            No date was given or the product lacks it; the message names its days.
        """
        dates = self.dates()
        if date is None or len(dates) == 0:
            raise CatalogError("The product has no dates yet; run `cropsm predict` first."
                               if len(dates) == 0 else "Choose a date of the product.")
        when = pd.Timestamp(date)
        if when not in dates:
            raise CatalogError(f"The product has no {when:%Y-%m-%d}; it holds "
                               f"{dates[0]:%Y-%m-%d}..{dates[-1]:%Y-%m-%d}.")
        return np.datetime64(when, "ns")

    @cached_property
    def grid(self) -> Grid:
        """The 1 km analysis grid of the catalog's covariates."""
        cov = self.dataset("covariates")
        return Grid.from_coords(cov["x"].to_numpy(), cov["y"].to_numpy())

    def field_capacity(self) -> xr.DataArray:
        """Field capacity (m³ m⁻³) on the 1 km grid, loaded: static, so read once."""
        return self._once(("fc", None), lambda: self.dataset("covariates")["fc"].load())

    def climatology(self) -> xr.Dataset:
        """The day-of-year percentiles of the climate record (``cropsm climatology``).

        Raises
        ------
        cropsm.io.catalog.CatalogError
            No climatology yet; the message gives the commands that make one.
        """
        path = product_store_path(self.catalog, "climatology")
        if not (path / "zarr.json").exists():
            raise CatalogError(
                "No climatology yet: percentiles and anomalies need a climate record "
                "and its percentiles; run `cropsm predict --years 1993-2017 --every 4` "
                "then `cropsm climatology`.")
        version = path.resolve()  # as for the product: a new version is opened anew
        return self._once(("climatology", str(version)),
                          lambda: xr.open_zarr(version, consolidated=True, chunks=None))

    def entry_version(self, name: str) -> str:
        """Name of the published version behind a local store entry ("" if none)."""
        try:
            path = entry_path(self.catalog, name)
        except CatalogError:
            return ""
        return Path(path).resolve().name if path is not None else ""

    def climatology_version(self) -> str:
        """Name of the climatology's published version ("" without one)."""
        path = product_store_path(self.catalog, "climatology")
        return path.resolve().name if (path / "zarr.json").exists() else ""

    def province_shares(self) -> xr.Dataset | None:
        """The product's published province areas per drought class and day, or None.

        See :mod:`cropsm.pipelines.province_shares`; of the current version, as
        :meth:`product`.
        """
        version = self._product_path()
        return self._once(("province_shares", str(version)),
                          lambda: read_group(version, SHARES_GROUP))

    def stations(self) -> pd.DataFrame:
        """Station metadata with grid ``x``/``y``; empty if the catalog has none."""
        def locate() -> pd.DataFrame:
            try:
                meta = self.table("station_meta").copy()
            except CatalogError:
                return pd.DataFrame(columns=list(STATION_COLUMNS))
            meta["x"], meta["y"] = lonlat_to_xy(meta["lon"].to_numpy(), meta["lat"].to_numpy())
            return meta

        return self._once(("stations", None), locate)
