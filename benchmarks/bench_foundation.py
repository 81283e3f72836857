"""Foundation benchmarks: grid sampling, masks, the soil-water kernel and the tiny build.

Run: ``.venv/bin/python benchmarks/bench_foundation.py``. Each line compares CropSM's
implementation with a reference run side by side on the same inputs and prints the
speed ratio (reference time / CropSM time; > 1 means CropSM is faster) and whether the
results agree. Targets are printed next to each figure.
"""

from __future__ import annotations

import platform
import resource
import tempfile
import time

import numba
import numpy as np
import pandas as pd
import shapely
from scipy.interpolate import RegularGridInterpolator

from cropsm.core.grid import bilinear_sample, bilinear_weights, china_grid
from cropsm.core.soil import saxton_rawls
from cropsm.demo import soilwater
from cropsm.demo.build import build
from cropsm.io.assets import read_provinces


def best_of(fn, repeat=3):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def bench_bilinear():
    rng = np.random.default_rng(0)
    lat = np.arange(17.625, 54.0, 0.25)
    lon = np.arange(73.125, 135.5, 0.25)
    field = rng.random((30, lat.size, lon.size)).astype("f4")
    plat = rng.uniform(18, 53, 200_000)
    plon = rng.uniform(74, 135, 200_000)
    ours, a = best_of(lambda: bilinear_sample(field, lat, lon, plat, plon))

    def reference():
        interp = RegularGridInterpolator((lat, lon), np.moveaxis(field, 0, -1))
        return np.moveaxis(interp(np.column_stack([plat, plon])), -1, 0)

    ref, b = best_of(reference)
    agree = np.allclose(a, b, atol=1e-5)
    return ("bilinear_sample vs scipy RegularGridInterpolator (30 days x 200k px)",
            ref / ours, agree, ">= 1")


def bench_mask():
    grid = china_grid()
    win = grid.window(slice(2500, 3500), slice(2800, 3800))
    henan = read_provinces().set_index("name_en").loc["Henan", "geometry"]
    ours, a = best_of(lambda: win.mask(henan))

    def reference():
        lon, lat = win.lonlat()
        return shapely.contains_xy(henan, lon, lat)

    ref, b = best_of(reference)
    agree = (a != b).mean()
    return ("Grid.mask (rasterio) vs shapely.contains_xy at cell centres (1000x1000)",
            ref / ours, agree < 1e-3, ">= 1")


def bench_soilwater():
    n = 100_000
    rng = np.random.default_rng(1)
    sand = rng.uniform(0.1, 0.8, n)
    soil = saxton_rawls(sand, np.minimum(rng.uniform(0.05, 0.4, n), 0.95 - sand), 1.5)
    dates = pd.date_range("2017-01-01", "2018-12-31")
    months = pd.date_range(dates[0], dates[-1], freq="MS")
    lat = np.arange(30.0, 40.0, 0.25)
    lon = np.arange(110.0, 120.0, 0.25)
    rain = ((rng.random((len(dates), lat.size, lon.size)) < 0.2)
            * rng.gamma(0.7, 12, (len(dates), lat.size, lon.size))).astype("f4")
    weights = bilinear_weights(lat, lon, rng.uniform(30, 39.7, n), rng.uniform(110, 119.7, n))
    month = months.month.to_numpy() - 1
    pet = np.tile(np.linspace(10, 160, 12, dtype="f4")[month][:, None], (1, n))
    temperature = np.tile(np.linspace(-5, 27, 12, dtype="f4")[month][:, None], (1, n))
    maize = soilwater.CROP_KINDS.index("maize")
    kw = dict(rain=rain, rain_weights=weights, dates=dates, pet=pet, temperature=temperature,
              months=months, seasons=np.tile([[maize, -1]], (n, 1)),
              sowing=np.tile([[120.0, np.nan]], (n, 1)),
              end_of_season=np.tile([[265.0, np.nan]], (n, 1)), fc=soil.field_capacity,
              wp=soil.wilting_point, sat=soil.saturation, resid=soil.residual, sand=sand,
              irrigated=np.tile([[True, False]], (n, 1)), pixel_id=np.arange(n), seed=1,
              out_dates=dates[365:], out_layers=2)
    soilwater.simulate_columns(**kw)  # compile
    threads = numba.get_num_threads()
    t, a = best_of(lambda: soilwater.simulate_columns(**kw).sm, repeat=2)
    numba.set_num_threads(1)
    try:
        t1, b = best_of(lambda: soilwater.simulate_columns(**kw).sm, repeat=2)
    finally:
        numba.set_num_threads(threads)
    rate = n * len(dates) / t / 1e6
    return (f"soil-water kernel, {threads} threads vs 1 thread: {rate:.1f} M pixel-days/s",
            t1 / t, np.array_equal(a[0], b[0]), ">= 1.6 on 2 cores")


def bench_tiny_build():
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        result = build("tiny", tmp, seed=1)
        wall = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    return (f"tiny build: {wall:.1f} s, {result['size_bytes'] / 1e6:.0f} MB, "
            f"peak RSS {rss:.2f} GB", None, wall < 60, "< 60 s")


def main():
    print(f"machine: {platform.node()} {platform.machine()} {platform.processor() or ''} "
          f"python {platform.python_version()}; date {time.strftime('%Y-%m-%d')}")
    print(f"{'benchmark':<80} {'ratio':>7}  ok    target")
    for bench in (bench_bilinear, bench_mask, bench_soilwater, bench_tiny_build):
        name, ratio, ok, target = bench()
        r = f"{ratio:7.2f}" if ratio is not None else "      -"
        print(f"{name:<80} {r}  {str(bool(ok)):5} {target}")


if __name__ == "__main__":
    main()
