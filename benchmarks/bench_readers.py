"""Benchmark of the gridded reader: a year of daily 1 km GeoTIFFs over a province window.

Writes 365 daily GeoTIFFs like ChinaCropSM1km's (int16, scale 0.001, nodata -9999, tiled
256 x 256, DEFLATE, Albers ESRI:102025) over North and Central China, then reads the
Henan window (110.3-116.7 E, 31.4-36.4 N) with ``read_gridded(..., bbox=...)`` and with a
plain rasterio loop (windowed ``read`` per file, nodata and scale applied, ``np.stack``)::

    .venv/bin/python benchmarks/bench_readers.py [--days 365] [--repeat 2] [--keep DIR]

The ratio is the rasterio loop's time over ours; both must give equal arrays. The files
are written once per run into a temporary folder (or ``--keep DIR``, reused if present).
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import rasterio
from rasterio.windows import from_bounds

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from common import best, line  # noqa: E402

from cropsm.core.grid import ALBERS_CHINA, Grid, lonlat_to_xy  # noqa: E402
from cropsm.io.readers.gridded import read_gridded  # noqa: E402

HENAN = (110.3, 31.4, 116.7, 36.4)
MOSAIC = (105.0, 28.0, 122.0, 42.0)  # lon/lat box the files cover
NODATA, SCALE = -9999, 0.001


def mosaic_grid() -> Grid:
    lon = np.linspace(MOSAIC[0], MOSAIC[2], 50)
    lat = np.linspace(MOSAIC[1], MOSAIC[3], 50)
    x, y = lonlat_to_xy(*np.meshgrid(lon, lat))
    return Grid.from_bounds(x.min(), y.min(), x.max(), y.max(), resolution=1000.0)


def write_year(folder: Path, grid: Grid, days: int) -> list[Path]:
    """Smooth fields with pixel noise: they compress like real SM maps, not like constants."""
    rows, cols = grid.shape
    yy, xx = np.mgrid[0:rows, 0:cols].astype("f4")
    base = 200 + 80 * np.sin(xx / 97.0) * np.cos(yy / 131.0)
    profile = dict(driver="GTiff", width=cols, height=rows, count=1, dtype="int16",
                   nodata=NODATA, crs=ALBERS_CHINA, transform=grid.transform, tiled=True,
                   blockxsize=256, blockysize=256, compress="deflate")
    paths = []
    rng = np.random.default_rng(0)
    for day, date in enumerate(pd.date_range("2018-01-01", periods=days)):
        path = folder / f"ChinaCropSM1km_wheat_0-10cm_{date:%Y%j}.tif"
        paths.append(path)
        if path.exists():
            continue
        values = (base + 40 * np.sin(day / 29.0 + xx / 400.0)
                  + rng.integers(-4, 5, base.shape)).astype("i2")
        values[:50] = NODATA  # a no-data band along the north edge
        with rasterio.open(path, "w", **profile) as dst:
            dst.write(values, 1)
    return paths


def rasterio_loop(paths: list[Path], bounds: tuple[float, float, float, float]
                  ) -> np.ndarray:
    """The baseline: per file, open, read the window of ``bounds`` (cell edges), mask, scale."""
    days = []
    for path in paths:
        with rasterio.open(path) as src:
            window = from_bounds(*bounds, src.transform).round_offsets().round_lengths()
            raw = src.read(1, window=window)
        days.append(np.where(raw == NODATA, np.nan, raw.astype("f4") * np.float32(SCALE)))
    return np.stack(days)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--keep", type=Path, default=None)
    args = parser.parse_args()
    print(f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores; python "
          f"{platform.python_version()}; rasterio {rasterio.__version__}, GDAL "
          f"{rasterio.__gdal_version__}; date {time.strftime('%Y-%m-%d')}")
    print(f"{'benchmark':78s} {'ratio':>8s}  {'ok':5s} target")
    grid = mosaic_grid()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        paths = write_year(folder, grid, args.days)
        written = time.perf_counter() - t0
        size = sum(p.stat().st_size for p in paths) / 1e6
        print(f"# {len(paths)} files of {grid.shape[0]} x {grid.shape[1]} cells, {size:.0f} MB "
              f"on disk, written in {written:.0f} s")
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        t_ours, ours = best(lambda: read_gridded(folder, "%Y%j", scale_factor=SCALE,
                                                 bbox=HENAN), args.repeat)
        # the baseline reads exactly the cells read_gridded chose for the box
        half = grid.resolution / 2
        bounds = (float(ours["x"].min()) - half, float(ours["y"].min()) - half,
                  float(ours["x"].max()) + half, float(ours["y"].max()) + half)
        t_loop, loop = best(lambda: rasterio_loop(paths, bounds), args.repeat)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        equal = ours.shape == loop.shape and np.array_equal(ours.to_numpy(), loop,
                                                            equal_nan=True)
        cells = ours.shape[1] * ours.shape[2]
        mb = ours.size * 2 / 1e6  # int16 read from disk
        line(f"read_gridded vs rasterio loop: {args.days} days x {ours.shape[1]}x"
             f"{ours.shape[2]} cells (Henan window)", t_loop / t_ours,
             equal and t_ours < 10, f">= 0.8 and < 10 s; {t_ours:.2f} s vs {t_loop:.2f} s, "
             f"{mb / t_ours:.0f} MB/s of int16, {cells * args.days / t_ours / 1e6:.0f} M "
             f"cell-days/s")
        print(f"# peak RSS {peak:.0f} MB (before the reads {before:.0f} MB); result "
              f"{ours.nbytes / 1e6:.0f} MB float32; values equal: {equal}")


if __name__ == "__main__":
    main()
