"""Build the demo world: compute it (:mod:`cropsm.demo.world`) and publish its stores.

Every store is written to a temporary folder and published atomically
(:func:`cropsm.io.store.publish`); the catalog is written last, so an interrupted build
never leaves a catalog that points at a half-written store.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dask.array as da
import numba
import numpy as np
import pandas as pd
import xarray as xr

from cropsm.core import crops
from cropsm.demo import check, world
from cropsm.demo.profiles import Profile, get_profile
from cropsm.io import assets
from cropsm.io.catalog import write_catalog
from cropsm.io.store import (
    check_writable,
    open_zarr,
    region_store,
    tile_encoding,
    write_json,
    write_parquet,
    write_zarr,
)

__all__ = ["WORLD_VERSION", "build", "read_inputs"]

TILE = 512
#: Generation of the world (its physics and what it writes); a world of another
#: generation is rebuilt. 3: generation 2's physics, with ``station_meta.irrigated``.
WORLD_VERSION = 3
SM_SCALE = 1e-4  # truth is stored as int16 hundredths of a percent of volume
# fill_value as well as _FillValue: chunks never written (tiles without cropland) must
# read as missing, and zarr v3 returns the array's own fill_value for them.
TRUTH_ENCODING: dict[str, dict[str, Any]] = {
    "sm": {"dtype": "int16", "scale_factor": SM_SCALE, "_FillValue": -32768,
           "fill_value": -32768},
    "irrigation_events": {"_FillValue": -1, "fill_value": -1},
}


def read_inputs() -> world.Inputs:
    """Read the bundled real data the world is built on."""
    return world.Inputs(
        boundary=assets.read_boundary(),
        provinces=assets.read_provinces(),
        rivers=assets.read_rivers(),
        dem=assets.read_dem(),
        calendars={crop: assets.read_crop_calendar(crop) for crop in crops.CROPS},
        ghcn=assets.read_ghcn_daily(),
    )


def _write_truth(target: Path, statics: world.Statics, weather_ds: xr.Dataset, year: int,
                 seed: int, progress: Callable[[int], None]) -> tuple[dict[str, int], dict]:
    grid = statics.grid
    times = pd.date_range(f"{year}-01-01", f"{year}-12-31")
    full_shape = (len(crops.CROPS), len(crops.DEPTHS), len(times)) + grid.shape
    template = xr.Dataset(
        {
            "sm": (("crop", "depth", "time", "y", "x"),
                   da.full(full_shape, np.nan, dtype="f4",
                           chunks=(1, 1, 1, min(TILE, grid.shape[0]), min(TILE, grid.shape[1]))),
                   {"units": "m3 m-3", "long_name": "True volumetric soil moisture",
                    "standard_name": "volume_fraction_of_condensed_water_in_soil",
                    "grid_mapping": "spatial_ref"}),
            "irrigation_events": (("crop", "y", "x"),
                                  da.full((len(crops.CROPS),) + grid.shape, -1, dtype="i2",
                                          chunks=(1, min(TILE, grid.shape[0]),
                                                  min(TILE, grid.shape[1]))),
                                  {"units": "1", "long_name": "Irrigation events in the year",
                                   "grid_mapping": "spatial_ref"}),
        },
        coords={"crop": np.array(crops.CROPS, dtype=object),
                "depth": np.array(crops.DEPTHS, dtype=object), "time": times,
                "y": statics.ds["y"], "x": statics.ds["x"]},
    )
    template["spatial_ref"] = statics.ds["spatial_ref"]
    template.attrs.update(title="CropSM demo world: true soil moisture", Conventions="CF-1.10",
                          year=year, seed=seed)
    counts = {}
    bounds = {"values": 0, "below_residual": 0, "above_saturation": 0}
    sm_fill = TRUTH_ENCODING["sm"]["fill_value"]
    irr_fill = TRUTH_ENCODING["irrigation_events"]["fill_value"]
    with region_store(target, template, TRUTH_ENCODING) as writer:
        for ci, crop in enumerate(crops.CROPS):
            counts[crop] = 0
            for rows, cols, flat, sm, irr, tile_bounds in world.truth_tiles(
                    statics, weather_ds, crop, year, seed, TILE):
                shape = (rows.stop - rows.start, cols.stop - cols.start)
                # encode to the store's int16 ourselves: xarray's CF encoding of a whole
                # dense float tile costs more than simulating it
                packed = _pack(sm, flat, shape[0] * shape[1], SM_SCALE, sm_fill)
                events = np.full(shape[0] * shape[1], irr_fill, "i2")
                events[flat] = irr
                writer.write_encoded("sm", packed.reshape((1,) + sm.shape[:2] + shape),
                                     (slice(ci, ci + 1), slice(None), slice(None), rows, cols))
                writer.write_encoded("irrigation_events", events.reshape((1,) + shape),
                                     (slice(ci, ci + 1), rows, cols))
                counts[crop] += flat.size
                for key, value in tile_bounds.items():
                    bounds[key] += value
                progress(1)
    return counts, bounds


@numba.njit(parallel=True, cache=True)
def _pack(values, flat, n_cells, scale, fill):
    """Scatter ``values[..., k]`` to cell ``flat[k]`` of a dense int16 array, rounded."""
    n_a, n_b, n = values.shape
    out = np.empty((n_a, n_b, n_cells), dtype=np.int16)
    for ab in numba.prange(n_a * n_b):
        a, b = ab // n_b, ab % n_b
        out[a, b, :] = fill
        for k in range(n):
            out[a, b, flat[k]] = np.int16(np.rint(values[a, b, k] / scale))
    return out


def _size_bytes(paths: list[Path]) -> int:
    """Bytes on disk of the published stores (symlinks resolved, older versions excluded)."""
    total = 0
    for path in paths:
        real = path.resolve()
        files = real.rglob("*") if real.is_dir() else [real]
        total += sum(f.stat().st_size for f in files if f.is_file())
    return total


def build(profile: str | Profile = "tiny", out: str | Path = "data/demo",
          catalog: str | Path | None = None, seed: int = 42,
          progress_factory: Callable[[str, int], Callable[[int], None]] | None = None,
          ) -> dict:
    """Build the demo world and publish its stores and catalog.

    Parameters
    ----------
    profile : str or Profile
        ``"tiny"`` (tests, seconds) or ``"demo"`` (all of mainland China).
    out : path
        Folder for the stores (created; must be writable).
    catalog : path, optional
        Catalog file to write; defaults to ``<out>/cropsm.yaml``.
    seed : int
        World seed; a profile and seed always give the same world.
    progress_factory : callable, optional
        ``factory(description, total) -> update(n)``, e.g. a tqdm bar.

    Returns
    -------
    dict
        The build's figures, also saved as ``build_report.json`` (see :mod:`cropsm.demo.check`).
    """
    prof = get_profile(profile) if isinstance(profile, str) else profile
    out = check_writable(out)
    catalog = Path(catalog) if catalog is not None else out / "cropsm.yaml"
    check_writable(catalog.parent)

    def bar(desc: str, total: int) -> Callable[[int], None]:
        return progress_factory(desc, total) if progress_factory else (lambda n: None)

    started = time.perf_counter()
    timings = {}
    step = bar("static covariates", 1)
    inputs = read_inputs()
    statics = world.static_covariates(prof, inputs, seed)
    write_zarr(statics.ds, out / "covariates.zarr", tile_encoding(statics.ds, TILE))
    step(1)
    timings["covariates_s"] = time.perf_counter() - started

    t0 = time.perf_counter()
    step = bar("weather", 1)
    weather_ds = world.weather_dataset(prof, statics, seed)
    encoding = {"pre": {"chunks": (366,) + weather_ds["pre"].shape[1:], "dtype": "int16",
                        "scale_factor": 0.1, "_FillValue": -1}}
    encoding.update({v: {"chunks": weather_ds[v].shape, "dtype": "float32"}
                     for v in ("tas_anomaly", "pet_factor")})
    write_zarr(weather_ds, out / "weather.zarr", encoding)
    # Use the stored (0.1 mm) values from here on, exactly what readers will see, in the
    # float32 the features and the columns compute in (float64 would double the memory)
    weather_ds = open_zarr(out / "weather.zarr").load()
    weather_ds["pre"] = weather_ds["pre"].astype("f4")
    step(1)
    timings["weather_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    meta, obs = world.stations(prof, statics, weather_ds, seed,
                               bar("stations (crops)", len(crops.CROPS)))
    write_parquet(meta, out / "station_meta.parquet")
    write_parquet(obs, out / "stations.parquet")
    timings["stations_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    frac = statics.ds["crop_fraction"].values
    n_tiles = sum(
        int((frac[ci, r:r + TILE, c:c + TILE] > 0).any())
        for ci in range(frac.shape[0]) for r in range(0, frac.shape[1], TILE)
        for c in range(0, frac.shape[2], TILE))
    pixels, bounds = _write_truth(out / "truth.zarr", statics, weather_ds, prof.map_year, seed,
                                  bar("truth tiles", n_tiles))
    timings["truth_s"] = time.perf_counter() - t0

    write_catalog(catalog, out, prof.name)
    timings["total_s"] = time.perf_counter() - started
    result = dict(
        profile=prof.name, seed=seed, world_version=WORLD_VERSION,
        grid_shape=list(statics.grid.shape),
        cropland_pixels=pixels, timings=timings,
        size_bytes=_size_bytes([out / n for n in ("covariates.zarr", "weather.zarr",
                                                  "truth.zarr", "stations.parquet",
                                                  "station_meta.parquet")]),
        checks=check.run_checks(statics, weather_ds, meta, obs, out / "truth.zarr", prof,
                                bounds, inputs.ghcn, seed),
    )
    write_json(result, out / "build_report.json", default=_jsonable)
    return result


def _jsonable(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(type(value))
