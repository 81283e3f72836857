"""What the views read, opened once per process and cached with bounds (``pn.cache``).

Every path comes from the catalog the server was started with (``CROPSM_CATALOG``) or
the models folder (``CROPSM_MODELS``), never from the browser.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import panel as pn
import xarray as xr

from cropsm.analysis.report import ValidationReport
from cropsm.config import settings
from cropsm.core.errors import CropSMError
from cropsm.core.grid import Grid
from cropsm.io.assets import read_boundary, read_provinces
from cropsm.io.catalog import product_store_path
from cropsm.io.models import model_path, network_path, read_card
from cropsm.io.store import read_json, read_parquet
from cropsm.pipelines.basemap import basemap_lines as pipelines_basemap_lines
from cropsm.pipelines.basemap import outline_lonlat
from cropsm.pipelines.map_layer import map_layer as pipelines_map_layer
from cropsm.pipelines.omission import omission_table as pipelines_omission_table
from cropsm.pipelines.pattern_regions import FILES as PATTERN_REGION_FILES
from cropsm.pipelines.pattern_regions import read_pattern_regions
from cropsm.pipelines.season_status import SeasonStatus, read_season_status
from cropsm.pipelines.sources import CatalogReader
from cropsm.serve.models import load_model, load_network
from cropsm.serve.predict import ServingModel


def models_dir() -> Path:
    """The trained models' folder, set by the server's operator (``CROPSM_MODELS``)."""
    return settings().models


def reports_dir() -> Path:
    """The validation reports' folder, set by the server's operator (``CROPSM_REPORTS``)."""
    return settings().reports


@pn.cache(max_items=4)
def reader(path: str) -> CatalogReader:
    """The catalog at ``path``, its stores opened once for every session."""
    return CatalogReader(path)


def dataset(path: str, name: str) -> xr.Dataset:
    """A gridded catalog entry, lazily; a table there raises ``CatalogError``."""
    return reader(path).dataset(name)


def table(path: str, name: str) -> pd.DataFrame:
    """A tabular catalog entry; a gridded store there raises ``CatalogError``."""
    return reader(path).table(name)


def grid(path: str) -> Grid:
    """The 1 km analysis grid of the catalog's covariates."""
    return reader(path).grid


def product_dates(path: str) -> list[pd.Timestamp]:
    """Days the product holds; empty if it has not been computed."""
    try:
        return list(reader(path).dates())
    except CropSMError:  # no catalog or no product yet: the page says how to make one
        return []


def season_status(path: str) -> SeasonStatus | None:
    """The last ``cropsm predict --season`` run's progress; None without one."""
    try:
        store = product_store_path(reader(path).catalog, "soil_moisture")
    except CropSMError:
        return None
    return read_season_status(store)


@pn.cache(max_items=8)
def map_layer(path: str, crop: str, depth: str, date: dt.date | None, layer: str,
              x_range: tuple[float, float] | None, y_range: tuple[float, float] | None,
              screen_px: int) -> xr.DataArray:
    """:func:`cropsm.pipelines.map_layer.map_layer`, kept for stepping back through days."""
    return pipelines_map_layer(reader(path), crop, depth, date, layer, x_range, y_range,
                               screen_px)


def serving_model(crop: str, depth: str, omitted: str | None = None,
                  method: str = "paper") -> ServingModel:
    """The saved crop × depth model (reduced: without a group), verified, in serving form."""
    return _serving_model(str(models_dir()), crop, depth, omitted, method)


@pn.cache(max_items=12)
def _serving_model(folder: str, crop: str, depth: str, omitted: str | None,
                   method: str) -> ServingModel:
    path = model_path(folder, crop, depth, omitted, method)
    return ServingModel.from_model(load_model(path, crop, depth), read_card(path)["sha256"])


def network():
    """The saved multilayer network, verified (``cropsm network train``)."""
    return _network(str(models_dir()))


@pn.cache(max_items=2)
def _network(folder: str):
    return load_network(network_path(folder))


def _stamp(path: Path) -> int | None:
    """The file's modification time: a cache key that renews when the file is rewritten."""
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return None


def network_comparison() -> dict:
    """RF vs NN on the same held-out rows (``cropsm network compare``); ``{}`` if not run."""
    path = reports_dir() / "network_comparison.json"
    stamp = _stamp(path)
    return {} if stamp is None else _json(str(path), stamp)


@pn.cache(max_items=4)
def _json(path: str, stamp: int) -> dict:
    return read_json(path)


def pattern_regions() -> xr.Dataset:
    """Liu et al.'s Figs. 9-10 over all cropland (``cropsm network regions``).

    Raises ``StoreError`` naming the command when the reports folder lacks it.
    """
    folder = reports_dir()
    return _pattern_regions(str(folder), _stamp(folder / PATTERN_REGION_FILES["netcdf"]))


@pn.cache(max_items=2)
def _pattern_regions(folder: str, stamp: int | None) -> xr.Dataset:
    return read_pattern_regions(folder)


def omission_table(crop: str, depth: str) -> pd.DataFrame:
    """R² lost without each feature group, from the reduced models in the models folder."""
    return pipelines_omission_table(models_dir(), crop, depth)


def model_card(crop: str, depth: str, method: str = "paper") -> dict:
    """The saved model's card (hash, training period, scores)."""
    return read_card(model_path(models_dir(), crop, depth, method=method))


def validation_report(crop: str, depth: str) -> ValidationReport:
    """The validation report of a crop × depth (``cropsm validate``), from ``CROPSM_REPORTS``."""
    path = reports_dir() / f"validation_{crop}_{depth}.json"
    return _report(str(path), _stamp(path))


@pn.cache(max_items=8)
def _report(path: str, stamp: int | None) -> ValidationReport:
    return ValidationReport.from_dict(read_json(path))


def insitu_comparison() -> dict:
    """Real-data comparison of ``cropsm validate --catalog <real catalog>``; ``{}`` if not run."""
    path = reports_dir() / "insitu_comparison.json"
    stamp = _stamp(path)
    return {} if stamp is None else _json(str(path), stamp)


def validation_table(name: str, crop: str, depth: str) -> pd.DataFrame:
    """A per-sample table of the validation report (``samples`` or ``classifier``)."""
    path = reports_dir() / f"{name}_{crop}_{depth}.parquet"
    return _table(str(path), _stamp(path))


@pn.cache(max_items=8)
def _table(path: str, stamp: int | None) -> pd.DataFrame:
    return read_parquet(path)


@pn.cache(max_items=1)
def china():
    """Mainland China's outline (lon/lat)."""
    return read_boundary()


@pn.cache(max_items=1)
def provinces() -> pd.DataFrame:
    """Provinces with ``name_en``, ``name_zh``, ``adcode`` and lon/lat geometry."""
    return read_provinces()


@pn.cache(max_items=1)
def china_lines() -> np.ndarray:
    """China's outline in lon/lat as one NaN-separated (n, 2) path."""
    return outline_lonlat(china())


@pn.cache(max_items=1)
def basemap_lines() -> dict[str, np.ndarray]:
    """Offline basemap in grid coordinates: boundary, provinces and major rivers."""
    return pipelines_basemap_lines()


def stations(path: str) -> pd.DataFrame:
    """Station metadata with grid ``x``/``y`` for drawing; empty if the catalog has none."""
    return reader(path).stations()


def warm_caches(path: str | None = None) -> dict[str, float | str]:
    """Fill the process's shared caches, so the first session does not pay for them.

    The catalog's stores, the basemap, provinces, outline and stations, and the map
    every new session draws first (the first crop and depth on the product's first
    day, national view). Run by ``panel serve --setup cropsm/app/warm.py``.

    Returns
    -------
    dict
        Seconds each step took, by name; a step that failed has its error's text
        instead (the server starts anyway, and the first session pays for it).
    """
    from cropsm.core import crops
    from cropsm.pipelines.map_layer import SCREEN_PX

    path = path or str(settings().catalog)
    took: dict[str, float | str] = {}

    def step(name: str, call) -> Any:
        start = time.perf_counter()
        try:
            value = call()
        except Exception as err:  # e.g. no product yet: the page says what to run
            took[name] = f"not warmed ({type(err).__name__}: {err})"[:200]
            return None
        took[name] = time.perf_counter() - start
        return value

    step("basemap", basemap_lines)
    step("outlines", lambda: (china(), china_lines(), provinces()))
    step("stations", lambda: stations(path))
    days = step("product days", lambda: product_dates(path)) or []
    if days:
        step("first map", lambda: map_layer(path, crops.CROPS[0], crops.DEPTHS[0],
                                            pd.Timestamp(days[0]).date(), "sm", None, None,
                                            SCREEN_PX))
    return took
