"""The demo world's true soil moisture over many years, at the climate record's cells.

The stored truth holds the map year only. Percentiles need the truth's own record, so
this re-simulates the world's fields at the record cells (every Nth cell, as
``cropsm predict --years … --every N``) from the stored covariates and weather, as
:mod:`cropsm.demo.counterfactual` does for one window: the same physics, seed and spin-up,
so on the map year it is the stored truth at those cells.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from cropsm.core import crops
from cropsm.core.grid import Grid, every_nth_cell
from cropsm.demo.counterfactual import layer_of
from cropsm.demo.world import SPIN_UP_YEARS, StoredFields, own_pattern, simulate_pattern

__all__ = ["true_record"]

_FIELDS = ("fc", "wilting_point", "saturation", "residual", "sand", "zone", "annual_precip",
           "river_distance", "pet", "air_temperature", "sowing", "eos", "pattern_fraction",
           "crop_fraction")


def true_record(covariates: xr.Dataset, weather: xr.Dataset, crop: str, depth: str,
                stride: int, start, end, cells_per_run: int = 4000) -> xr.DataArray:
    """True daily SM of ``crop``'s fields at the record cells, ``start`` to ``end``.

    Parameters
    ----------
    covariates, weather : xarray.Dataset
        A built world's ``covariates`` and ``covariates_daily``; the weather must start
        :data:`cropsm.demo.world.SPIN_UP_YEARS` before ``start``.
    crop, depth : str
    stride : int
        The record's ``--every``.
    start, end : date-like
    cells_per_run : int
        Cells simulated together (memory: days × cells × 4 bytes per run).

    Returns
    -------
    xarray.DataArray
        float32 (time, cell), m³ m⁻³, over the record grid's cropland cells of ``crop``
        (harvested fraction >= :data:`cropsm.core.crops.CROPLAND_MIN_FRACTION`), with
        ``y`` and ``x`` coordinates per cell and ``row``/``col`` on the record grid.
    """
    record = every_nth_cell(covariates[list(_FIELDS)], stride).load()
    fields = StoredFields(Grid.from_coords(record["x"].values, record["y"].values), record)
    seed = int(covariates.attrs["seed"])
    fraction = record["crop_fraction"].sel(crop=crop).values
    rows, cols = np.nonzero(fraction >= crops.CROPLAND_MIN_FRACTION)
    dates = pd.date_range(start, end)
    layer = layer_of(depth)
    spin_up = f"{dates[0].year - SPIN_UP_YEARS}-01-01"
    out = np.full((len(dates), rows.size), np.nan, "f4")
    for k in range(0, rows.size, cells_per_run):
        rr, cc = rows[k:k + cells_per_run], cols[k:k + cells_per_run]
        run = simulate_pattern(fields, weather, rr, cc, own_pattern(fields, crop, rr, cc),
                               spin_up, dates[-1], dates, seed, out_layers=layer + 1)
        out[:, k:k + rr.size] = run.sm[layer]
    return xr.DataArray(
        out, dims=("time", "cell"), name="sm",
        coords={"time": dates, "row": ("cell", rows), "col": ("cell", cols),
                "y": ("cell", record["y"].values[rows]), "x": ("cell", record["x"].values[cols])},
        attrs={"units": "m3 m-3", "long_name": "true soil moisture at the record cells",
               "record_stride": stride})
