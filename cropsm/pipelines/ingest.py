"""``cropsm ingest``: real-format inputs -> the catalog contract of ``cropsm demo build``.

Three steps, so that bad input never leaves anything behind:

1. read the config and open every input, with all checks (units, CRS, coordinates,
   coverage, missing days, station columns): nothing is written yet;
2. compute the covariates on the 1 km window and the daily and monthly fields on a
   lat/lon grid (:mod:`cropsm.pipelines.ingest_fields`);
3. publish each store atomically, the catalog last.

What each input becomes is in docs/ingest.md.
"""

from __future__ import annotations

import os
import time
import tracemalloc
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
import xarray as xr
from pyproj import Transformer

from cropsm.core import crops
from cropsm.core.grid import ALBERS_CHINA, Grid, china_window
from cropsm.core.regions import province_region
from cropsm.io import assets
from cropsm.io.catalog import write_catalog
from cropsm.io.ingest.config import IngestConfig, RasterInput, read_config
from cropsm.io.ingest.rasters import LonLatGrid, open_raster
from cropsm.io.ingest.tables import read_rain_gauges, read_stations
from cropsm.io.ingest.vectors import read_vectors
from cropsm.io.readers._errors import ReaderError
from cropsm.io.store import (
    check_writable,
    tile_encoding,
    write_json,
    write_together,
)
from cropsm.pipelines import ingest_fields as fields

__all__ = ["Opened", "ingest", "open_inputs"]

#: Catalog entries an ingested catalog leaves out: real data has no ``truth``.
OMITTED_ENTRIES = ("truth",)


@dataclass
class Opened:
    """Every input opened and checked, in target units; nothing computed yet."""

    config: IngestConfig
    grid: Grid
    inside: np.ndarray
    rain_grid: LonLatGrid
    rasters: dict[str, xr.DataArray]
    gauges: pd.DataFrame | None
    rivers: list
    zones: tuple[list, np.ndarray] | None
    stations: pd.DataFrame


def _window(cfg: IngestConfig) -> tuple[Grid, np.ndarray]:
    china = assets.read_boundary()
    if cfg.province is not None:
        try:
            region = province_region(cfg.province, assets.read_provinces())
        except ValueError as err:
            raise ReaderError(cfg.source, f"`window.province`: {err}") from err
        lon0, lat0, lon1, lat1 = (float(v) for v in shapely.bounds(region))
        grid = china_window((lon0, lat0, lon1, lat1))
        return grid, grid.mask(region) & grid.mask(china)
    try:
        grid = china_window(cfg.bbox)
    except ValueError as err:
        raise ReaderError(cfg.source, f"`window.bbox` {list(cfg.bbox or ())} does not overlap "
                                      "the analysis grid over China; give a box in China, "
                                      "in degrees.") from err
    return grid, grid.mask(china)


def _centre_bounds(grid: Grid) -> tuple[float, float, float, float]:
    half = grid.resolution / 2
    xmin, ymin, xmax, ymax = grid.bounds
    return xmin + half, ymin + half, xmax - half, ymax - half


def _lonlat_bounds(grid: Grid) -> tuple[float, float, float, float]:
    """Lon/lat box (degrees) of the window's cell centres."""
    xmin, ymin, xmax, ymax = _centre_bounds(grid)
    edge = np.linspace(0.0, 1.0, 101)
    x = np.concatenate([xmin + (xmax - xmin) * edge, np.full(101, xmax),
                        xmin + (xmax - xmin) * edge, np.full(101, xmin)])
    y = np.concatenate([np.full(101, ymin), ymin + (ymax - ymin) * edge,
                        np.full(101, ymax), ymin + (ymax - ymin) * edge])
    lon, lat = Transformer.from_crs(ALBERS_CHINA, "EPSG:4326", always_xy=True).transform(x, y)
    return float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max())


def _check_rain_memory(cfg: IngestConfig, rain_grid: LonLatGrid) -> None:
    """Refuse, before reading anything, a rain grid that would not fit in memory.

    The daily rain on the rain grid is held in memory while the stores are computed
    (float32, plus one copy); more than half of this machine's memory is refused.
    """
    days = (cfg.end - cfg.start).days + 1
    need = 2 * 4 * days * rain_grid.lat.size * rain_grid.lon.size
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    if need > total / 2:
        coarser = need * (cfg.rain_resolution / 0.25) ** 2
        raise ReaderError(cfg.source, f"daily rain on a {cfg.rain_resolution:g} deg grid over "
                                      f"{days} days needs {need / 1e9:.1f} GB in memory, more "
                                      f"than half of this machine's {total / 1e9:.0f} GB; set "
                                      f"`rain_resolution: 0.25` ({coarser / 1e9:.1f} GB) or "
                                      "shorten `period`.")


#: Days of rain the features look back before an observation: the network's 12 months of
#: accumulated rain and the CropSM method's rain memory (docs/method.md).
HISTORY_DAYS = 365


def _within_period(obs: pd.DataFrame, cfg: IngestConfig) -> pd.DataFrame:
    """Observations with a year of daily inputs before them and none after the period."""
    first = cfg.start + pd.Timedelta(days=HISTORY_DAYS)
    keep = (obs["date"] >= first) & (obs["date"] <= cfg.end)
    if not keep.any():
        raise ReaderError(cfg.stations.path, f"has no observation from {first:%Y-%m-%d} (a "
                                             "year into `period`, which the features look "
                                             f"back) to {cfg.end:%Y-%m-%d}; widen `period`.")
    if not keep.all():
        warnings.warn(f"{cfg.stations.path}: {int((~keep).sum())} observation(s) outside "
                      f"{first:%Y-%m-%d}..{cfg.end:%Y-%m-%d} left out (the features need a "
                      "year of daily inputs before each); start `period` a year before "
                      "the first observation to keep them.", UserWarning, stacklevel=2)
    return obs[keep].reset_index(drop=True)


def open_inputs(config: str | Path | IngestConfig) -> Opened:
    """Read the config and open and check every input (step 1; nothing is written).

    Raises
    ------
    cropsm.io.readers.ReaderError
        The first bad input, naming its file and the fix.
    """
    cfg = config if isinstance(config, IngestConfig) else read_config(config)
    grid, inside = _window(cfg)
    if not inside.any():
        raise ReaderError(cfg.source, "the window has no cell inside China; check "
                                      "`window`.")
    lonlat = _lonlat_bounds(grid)
    rain_grid = LonLatGrid(lonlat, cfg.rain_resolution)
    _check_rain_memory(cfg, rain_grid)
    rasters: dict[str, xr.DataArray] = {}

    def add(key: str, spec: RasterInput | None, role: str, lonlat_window: bool = False):
        if spec is None:
            return
        if lonlat_window:
            rasters[key] = open_raster(spec, role, lonlat, "EPSG:4326")
        else:
            rasters[key] = open_raster(spec, role, _centre_bounds(grid), grid.crs)

    add("precipitation", cfg.precipitation, "precipitation", lonlat_window=True)
    add("pet", cfg.pet, "pet", lonlat_window=True)
    add("temperature", cfg.temperature, "temperature", lonlat_window=True)
    add("pet_climatology", cfg.pet_climatology, "pet", lonlat_window=True)
    add("temperature_climatology", cfg.temperature_climatology, "temperature",
        lonlat_window=True)
    add("elevation", cfg.elevation, "elevation")
    for key, spec in cfg.soil.items():
        add(key, spec, key)
    for crop, inputs in cfg.crops.items():
        for role in ("fraction", "sowing", "green_up", "heading", "maturity"):
            add(f"{crop}_{role}", getattr(inputs, role), role)
    gauges = (read_rain_gauges(cfg.precipitation_stations, rain_grid.bounds)
              if cfg.precipitation_stations is not None else None)
    rivers, _ = read_vectors(cfg.rivers.path)
    zones = None
    if cfg.zones is not None:
        geoms, codes = read_vectors(cfg.zones.path, cfg.zones.field or "zone")
        zones = (geoms, np.asarray(codes))
    stations = _within_period(read_stations(cfg.stations, grid, inside), cfg)
    return Opened(cfg, grid, inside, rain_grid, rasters, gauges, rivers, zones, stations)


def ingest(config: str | Path, progress: Callable[[str], None] | None = None) -> dict:
    """Ingest real-format inputs into stores and a catalog (see the module docstring).

    Parameters
    ----------
    config : str or Path
        The ingest config (docs/ingest.md).
    progress : callable, optional
        Called with the name of each step as it starts.

    Returns
    -------
    dict
        The report, also written as ``ingest_report.json`` beside the stores: the grid,
        what was filled or dropped, the regridding choices, time (s) and peak traced
        memory (MB) per step.
    """
    say = progress or (lambda step: None)
    tracemalloc.start()
    try:
        return _ingest(config, say)
    finally:
        tracemalloc.stop()


def _ingest(config: str | Path, say: Callable[[str], None]) -> dict:
    timings: dict[str, float] = {}
    started = t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        say("open and check inputs")
        opened = open_inputs(config)
        cfg = opened.config
        out = check_writable(cfg.output)
        check_writable(cfg.catalog.parent)
        timings["open_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        say("daily precipitation")
        daily = fields.daily_rain(opened)
        timings["precipitation_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        say("monthly PET and temperature")
        monthly = fields.monthly_fields(opened)
        timings["monthly_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        say("static covariates")
        covariates = fields.covariates(opened, daily, monthly)
        timings["covariates_s"] = time.perf_counter() - t0
        weather = fields.weather_dataset(daily, monthly)
        meta, observations = fields.station_tables(opened.stations, covariates, opened.grid)
        t0 = time.perf_counter()
        say("publish")
        write_together({out / "covariates.zarr": (covariates, tile_encoding(covariates)),
                        out / "weather.zarr": (weather, fields.weather_encoding(weather)),
                        out / "station_meta.parquet": (meta, None),
                        out / "stations.parquet": (observations, None)})
        write_catalog(cfg.catalog, out, "ingest", generated_by="cropsm ingest",
                      omit=OMITTED_ENTRIES)
        if (out / "soil_moisture.zarr").exists():
            warnings.warn(f"{out / 'soil_moisture.zarr'} was predicted from the inputs "
                          "before this ingest; rerun `cropsm predict --overwrite`.",
                          UserWarning, stacklevel=2)
    timings["publish_s"] = time.perf_counter() - t0
    timings["total_s"] = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    report = {
        "config": str(cfg.source), "catalog": str(cfg.catalog),
        "grid_shape": list(opened.grid.shape), "grid_bounds_m": list(opened.grid.bounds),
        "rain_grid": {"resolution_deg": cfg.rain_resolution,
                      "shape": [int(opened.rain_grid.lat.size),
                                int(opened.rain_grid.lon.size)]},
        "period": [f"{cfg.start:%Y-%m-%d}", f"{cfg.end:%Y-%m-%d}"],
        "filled_days": daily.attrs.get("filled_days", []),
        "warnings": [str(w.message) for w in caught],
        "stations": int(meta.shape[0]), "observations": int(observations.shape[0]),
        "cropland_pixels": {c: int((covariates["crop_fraction"].sel(crop=c).values > 0).sum())
                            for c in crops.CROPS},
        "timings": timings, "peak_traced_mb": peak / 2**20,
    }
    write_json(report, out / "ingest_report.json")
    return report
