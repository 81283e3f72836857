"""What the train, validate, network and predict pipelines share: inputs and progress."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
import xarray as xr

from cropsm.core import crops
from cropsm.io.catalog import CatalogError, read_entry

__all__ = ["PRODUCTS", "ProgressFactory", "StationInputs", "bar", "entry_of",
           "read_station_inputs"]

#: ``factory(description, total) -> update(n)``: a progress bar per stage (e.g. tqdm's);
#: ``update`` is called with the number of steps done since its last call.
ProgressFactory = Callable[[str, int], Callable[[int], None]]

#: Every (crop, depth) the forest is trained for.
PRODUCTS: tuple[tuple[str, str], ...] = tuple((c, d) for c in crops.CROPS for d in crops.DEPTHS)


def _ignore(n: int) -> None:
    """An update that shows nothing."""


def bar(progress: ProgressFactory | None, description: str, total: int
        ) -> Callable[[int], None]:
    """The update function of a new progress bar, or one that does nothing."""
    return progress(description, total) if progress else _ignore


@dataclass(frozen=True)
class StationInputs:
    """The catalog entries the models learn from.

    Attributes
    ----------
    covariates, daily : xarray.Dataset
        The ``covariates`` and ``covariates_daily`` entries (lazy).
    stations, station_meta : pandas.DataFrame
        Station observations and the stations' grid cells, zones and patterns.
    """

    covariates: xr.Dataset
    daily: xr.Dataset
    stations: pd.DataFrame
    station_meta: pd.DataFrame

    @property
    def training_period(self) -> list[str]:
        """First and last day of the station observations, ``YYYY-MM-DD``."""
        dates = self.stations["date"]
        return [f"{dates.min():%Y-%m-%d}", f"{dates.max():%Y-%m-%d}"]


def entry_of(cat: Any, name: str, kind: type[Any]) -> Any:
    """Catalog entry ``name`` read, refused unless it is a ``kind`` (Dataset or DataFrame)."""
    obj = read_entry(name, cat)
    if not isinstance(obj, kind):
        raise CatalogError(f"Catalog entry {name!r} is a {type(obj).__name__}, not a "
                           f"{kind.__name__}.")
    return obj


def read_station_inputs(cat: Any) -> StationInputs:
    """The opened intake catalog's covariates and station tables."""
    return StationInputs(covariates=entry_of(cat, "covariates", xr.Dataset),
                         daily=entry_of(cat, "covariates_daily", xr.Dataset),
                         stations=entry_of(cat, "stations", pd.DataFrame),
                         station_meta=entry_of(cat, "station_meta", pd.DataFrame))
