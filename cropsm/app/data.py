"""What the views read, opened once per process and cached with bounds (``pn.cache``).

Every path comes from the catalog the server was started with (``CROPSM_CATALOG``) or
the models folder (``CROPSM_MODELS``), never from the browser.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import panel as pn
import shapely
import xarray as xr

from cropsm.core.grid import Grid, lonlat_to_xy
from cropsm.io.assets import read_boundary, read_provinces, read_rivers
from cropsm.io.catalog import CatalogError, entry_path, open_catalog, read_entry
from cropsm.io.models import model_path, network_path, read_card
from cropsm.io.product import OVERVIEW_FACTORS, open_product
from cropsm.io.store import read_json, read_parquet
from cropsm.rf.model import FEATURE_GROUPS, omission_ranking
from cropsm.serve.models import load_model, load_network
from cropsm.serve.predict import ServingModel

DEFAULT_MODELS = Path(__file__).resolve().parents[2] / "models"
DEFAULT_REPORTS = Path(__file__).resolve().parents[2] / "docs" / "validation"


def models_dir() -> Path:
    """The trained models' folder, set by the server's operator."""
    return Path(os.environ.get("CROPSM_MODELS", DEFAULT_MODELS))


@pn.cache(max_items=4)
def catalog(path: str):
    """The intake catalog at ``path``."""
    return open_catalog(path)


@pn.cache(max_items=16)
def entry(path: str, name: str):
    """A catalog entry, lazily (xarray) or as a table (pandas)."""
    return read_entry(name, catalog(path))


def has_entry(path: str, name: str) -> bool:
    """Whether the catalog has ``name`` and its store exists."""
    try:
        entry(path, name)
    except CatalogError:
        return False
    return True


@pn.cache(max_items=16)
def product(path: str, level: int | str = 0) -> xr.Dataset:
    """The SM product at an overview level (0: 1 km) or its ``"series"`` layout."""
    store = entry_path(catalog(path), "soil_moisture")
    if store is None:
        raise CatalogError("The catalog's soil_moisture entry is not a local store.")
    return open_product(store, level, dask=False)


def product_dates(path: str) -> list[pd.Timestamp]:
    """Days the product holds; empty if it has not been computed."""
    try:
        return list(pd.DatetimeIndex(product(path)["time"].values))
    except (CatalogError, OSError, ValueError):
        return []


@pn.cache(max_items=4)
def grid(path: str) -> Grid:
    """The 1 km analysis grid of the catalog's covariates."""
    cov = entry(path, "covariates")
    return Grid.from_coords(cov["x"].values, cov["y"].values)


def level_for(view_cells: float, screen_px: int) -> int:
    """Coarsest overview factor that still has at least one cell per screen pixel."""
    usable = [f for f in OVERVIEW_FACTORS if view_cells / f >= screen_px]
    return max(usable, default=0)


@pn.cache(max_items=8)
def field_capacity(path: str, stride: int) -> xr.DataArray:
    """Field capacity (m³ m⁻³), every ``stride``-th cell; static, so cached per stride."""
    fc = entry(path, "covariates")["fc"]
    return fc.isel(x=slice(None, None, stride), y=slice(None, None, stride)).load()


def serving_model(crop: str, depth: str, omitted: str | None = None) -> ServingModel:
    """The saved crop × depth model (reduced: without a group), verified, in serving form."""
    return _serving_model(str(models_dir()), crop, depth, omitted)


@pn.cache(max_items=12)
def _serving_model(folder: str, crop: str, depth: str, omitted: str | None) -> ServingModel:
    path = model_path(folder, crop, depth, omitted)
    return ServingModel.from_model(load_model(path, crop, depth), read_card(path)["sha256"])


def network():
    """The saved multilayer network, verified (``cropsm network train``)."""
    return _network(str(models_dir()))


@pn.cache(max_items=2)
def _network(folder: str):
    return load_network(network_path(folder))


def network_comparison() -> dict:
    """RF vs NN on the same held-out rows (``cropsm network compare``), if it was run."""
    return _network_comparison(str(os.environ.get("CROPSM_REPORTS", DEFAULT_REPORTS)))


@pn.cache(max_items=1)
def _network_comparison(folder: str) -> dict:
    path = Path(folder) / "network_comparison.json"
    return read_json(path) if path.exists() else {}


def omission_table(crop: str, depth: str) -> pd.DataFrame:
    """R² lost without each feature group, from the cards of the reduced models found."""
    folder = models_dir()
    full = read_card(model_path(folder, crop, depth))["cv_scores"]["held_out_cir_predicted"]
    reduced = {}
    for group in FEATURE_GROUPS:
        path = model_path(folder, crop, depth, group)
        if path.with_suffix(".card.json").is_file():
            reduced[group] = read_card(path)["cv_scores"]["held_out_cir_predicted"]
    return omission_ranking(full, reduced)


def model_card(crop: str, depth: str) -> dict:
    """The saved model's card (hash, training period, scores)."""
    return read_card(model_path(models_dir(), crop, depth))


def validation_report(crop: str, depth: str) -> dict:
    """The validation report of a crop × depth (``cropsm validate``), from ``CROPSM_REPORTS``."""
    return _report(str(os.environ.get("CROPSM_REPORTS", DEFAULT_REPORTS)), crop, depth)


@pn.cache(max_items=8)
def _report(folder: str, crop: str, depth: str) -> dict:
    return read_json(Path(folder) / f"validation_{crop}_{depth}.json")


def insitu_comparison() -> dict:
    """Real-data comparison of ``cropsm validate --catalog <real catalog>``, if it was run."""
    return _insitu(str(os.environ.get("CROPSM_REPORTS", DEFAULT_REPORTS)))


@pn.cache(max_items=1)
def _insitu(folder: str) -> dict:
    path = Path(folder) / "insitu_comparison.json"
    return read_json(path) if path.exists() else {}


def validation_table(name: str, crop: str, depth: str) -> pd.DataFrame:
    """A per-sample table of the validation report (``samples`` or ``classifier``)."""
    return _table(str(os.environ.get("CROPSM_REPORTS", DEFAULT_REPORTS)), name, crop, depth)


@pn.cache(max_items=8)
def _table(folder: str, name: str, crop: str, depth: str) -> pd.DataFrame:
    return read_parquet(Path(folder) / f"{name}_{crop}_{depth}.parquet")


@pn.cache(max_items=1)
def china():
    """Mainland China's outline (lon/lat)."""
    return read_boundary()


@pn.cache(max_items=1)
def provinces() -> pd.DataFrame:
    """Provinces with ``name_en``, ``name_zh``, ``adcode`` and lon/lat geometry."""
    return read_provinces()


def project_lines(geoms, tolerance: float = 0.0) -> np.ndarray:
    """All lines of ``geoms`` in grid coordinates, as one (n, 2) array with NaN breaks.

    One NaN-separated path draws as fast as one line; thousands of separate paths make
    HoloViews build a dataset per path (tens of seconds per session).
    """
    parts = []
    for geom in geoms:
        simple = shapely.simplify(geom, tolerance)
        lines = shapely.boundary(simple) if simple.geom_type.endswith("Polygon") else simple
        for part in shapely.get_parts(shapely.get_parts(lines)):
            lon, lat = np.asarray(part.coords).T[:2]
            x, y = lonlat_to_xy(lon, lat)
            parts.extend([np.column_stack([x, y]), np.full((1, 2), np.nan)])
    return np.concatenate(parts) if parts else np.empty((0, 2))


@pn.cache(max_items=1)
def china_lines() -> np.ndarray:
    """China's outline in lon/lat as one NaN-separated (n, 2) path."""
    parts = []
    for part in shapely.get_parts(shapely.boundary(shapely.simplify(china(), 0.05))):
        for line in shapely.get_parts(part):
            parts.extend([np.asarray(line.coords)[:, :2], np.full((1, 2), np.nan)])
    return np.concatenate(parts)


@pn.cache(max_items=1)
def basemap_lines() -> dict[str, np.ndarray]:
    """Offline basemap in grid coordinates: boundary, provinces and major rivers."""
    return {"boundary": project_lines([china()], 0.02),
            "provinces": project_lines(list(provinces()["geometry"]), 0.02),
            "rivers": project_lines(read_rivers(), 0.02)}


@pn.cache(max_items=4)
def stations(path: str) -> pd.DataFrame:
    """Station metadata with grid ``x``/``y`` for drawing; empty if the catalog has none."""
    try:
        meta = entry(path, "station_meta").copy()
    except CatalogError:
        return pd.DataFrame(columns=["station_id", "lon", "lat", "x", "y", "crops"])
    meta["x"], meta["y"] = lonlat_to_xy(meta["lon"].to_numpy(), meta["lat"].to_numpy())
    return meta
