"""Product comparison at matched resolution, as in section 3.5 of ChinaCropSM1km.

Coarse products are judged against in-situ data averaged within each coarse pixel: for
every coarse pixel and day with observations, the mean of the stations' observations is
the reference, and every product (CropSM's held-out predictions averaged over the same
stations, and each coarse product's value at that pixel) is scored with the same
:mod:`cropsm.core.metrics`.

On the demo world the competitors are *satellite-like* products derived from the truth
with documented degradations (:data:`DEGRADATIONS`):

* footprint: the mean of the 1 km truth over the coarse pixel (cropland cells only, the
  only cells the demo truth has), at 0.25° (25 km) or 0.1° (10 km);
* sensing depth: always the 0-10 cm truth, also when compared at 10-20 cm, as a
  satellite senses the top few centimetres;
* calibration: a gain and a bias, as a retrieval calibrated elsewhere;
* noise: Gaussian retrieval noise with a fixed seed.

The truth's irrigation signal is kept (the demo cannot separate it), so these
competitors are kinder than real ones there.

On real data, :func:`compare_insitu` does the same for any gridded product on a
regular lat/lon grid (ESA CCI through :mod:`cropsm.io.readers.esa_cci`): stations are
averaged within each product pixel and day, and the product's value there is scored.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from cropsm.core import metrics
from cropsm.core.latlon import sample_points

__all__ = [
    "DEGRADATIONS",
    "Degradation",
    "coarse_matchups",
    "compare_insitu",
    "compare_products",
    "insitu_matchups",
]


@dataclass(frozen=True)
class Degradation:
    """How a satellite-like product is derived from the truth."""

    factor: int  # coarse pixel, in 1 km cells
    gain: float
    bias: float  # m³ m⁻³
    noise: float  # standard deviation, m³ m⁻³


DEGRADATIONS: dict[str, Degradation] = {
    "passive-like 0.25°": Degradation(25, 0.8, 0.03, 0.04),
    "active-like 0.1°": Degradation(10, 1.1, -0.02, 0.05),
}


def coarse_matchups(samples: pd.DataFrame, station_meta: pd.DataFrame, truth: xr.DataArray,
                    crop: str, factor: int, degradation: Degradation | None = None,
                    prediction: str = "station_blocked", seed: int = 0) -> pd.DataFrame:
    """Per coarse pixel and day: mean observation, mean CropSM prediction, coarse product.

    Parameters
    ----------
    samples : pandas.DataFrame
        Held-out predictions of ``cropsm validate``: station_id, date, obs, ``prediction``.
    station_meta : pandas.DataFrame
        station_id, row, col on the truth's grid.
    truth : xarray.DataArray
        Demo truth at 0-10 cm for ``crop``, (time, y, x).
    factor : int
        Coarse pixel size in cells.
    degradation : Degradation, optional
        Applied to the coarse truth (None: the plain coarse truth).
    """
    days = pd.DatetimeIndex(truth["time"].values)
    frame = samples[pd.DatetimeIndex(samples["date"]).isin(days)].merge(
        station_meta[["station_id", "row", "col"]], on="station_id", how="left")
    frame["cy"], frame["cx"] = frame["row"] // factor, frame["col"] // factor
    cells = frame.groupby(["cy", "cx", "date"], as_index=False).agg(
        obs=("obs", "mean"), cropsm=(prediction, "mean"), stations=("station_id", "nunique"))
    coarse = np.full(len(cells), np.nan)
    time_index = pd.Series(np.arange(len(days)), index=days)
    # one read per coarse pixel, all its days at once: reads dominate the cost
    for _, group in cells.groupby(["cy", "cx"]):
        cy, cx = (int(v) for v in group[["cy", "cx"]].to_numpy()[0])
        block = truth.isel(time=time_index[pd.DatetimeIndex(group["date"])].to_numpy(),
                           y=slice(cy * factor, (cy + 1) * factor),
                           x=slice(cx * factor, (cx + 1) * factor)).values
        count = np.isfinite(block).sum(axis=(1, 2))
        means = np.nansum(block, axis=(1, 2)) / np.maximum(count, 1)
        coarse[group.index.to_numpy()] = np.where(count > 0, means, np.nan)
    if degradation is not None:
        noise = np.random.default_rng(seed).normal(0.0, degradation.noise, len(coarse))
        coarse = np.clip(degradation.gain * coarse + degradation.bias + noise, 0.0, 0.6)
    cells["coarse"] = coarse
    return cells


def compare_products(samples: pd.DataFrame, station_meta: pd.DataFrame, truth: xr.DataArray,
                     crop: str, seed: int = 0) -> dict[str, dict]:
    """Scores of CropSM and each satellite-like product at each matched resolution.

    Returns
    -------
    dict
        ``"<resolution>: <product>"`` -> :func:`cropsm.core.metrics.skill_table` plus the number
        of coarse pixels, all on the same pixel-days where every product has a value.
    """
    out = {}
    for name, degradation in DEGRADATIONS.items():
        cells = coarse_matchups(samples, station_meta, truth, crop, degradation.factor,
                                degradation, seed=seed)
        both = cells[np.isfinite(cells["coarse"]) & np.isfinite(cells["cropsm"])]
        resolution = name.split()[-1]
        n_pixels = int(both[["cy", "cx"]].drop_duplicates().shape[0])
        for product, column in (("CropSM (station-blocked)", "cropsm"), (name, "coarse")):
            skill = metrics.skill_table(both[column], both["obs"]) if len(both) > 2 else {}
            out[f"{resolution}: {product}"] = {**skill, "pixels": n_pixels}
    return out


def insitu_matchups(observations: pd.DataFrame, product: xr.DataArray) -> pd.DataFrame:
    """In-situ daily observations averaged per product pixel and day, beside the product.

    Parameters
    ----------
    observations : pandas.DataFrame
        Station observation table rows: station_id, lon, lat, date, sm.
    product : xarray.DataArray
        Gridded SM on a regular grid, dims (time, lat, lon), NaN where missing.

    Returns
    -------
    pandas.DataFrame
        pixel_lon, pixel_lat, date, obs (mean over stations), stations (count) and
        product; only days the product covers and stations inside its grid.
    """
    stations = observations.drop_duplicates("station_id")[["station_id", "lon", "lat"]]
    pixels = sample_points(product.isel(time=[0]).to_dataset(name="sm"), stations["lon"],
                           stations["lat"])[["point", "pixel_lon", "pixel_lat"]]
    pixels["station_id"] = stations["station_id"].to_numpy()[pixels["point"].to_numpy()]
    days = pd.DatetimeIndex(product["time"].values).normalize()
    obs = observations[pd.DatetimeIndex(observations["date"]).normalize().isin(days)]
    obs = obs.merge(pixels[["station_id", "pixel_lon", "pixel_lat"]], on="station_id")
    cells = obs.groupby(["pixel_lon", "pixel_lat", "date"], as_index=False).agg(
        obs=("sm", "mean"), stations=("station_id", "nunique"))
    if cells.empty:
        return cells.assign(product=pd.Series(dtype="f8"))
    picked = product.sel(lon=xr.DataArray(cells["pixel_lon"].to_numpy(), dims="cell"),
                         lat=xr.DataArray(cells["pixel_lat"].to_numpy(), dims="cell"),
                         time=xr.DataArray(pd.DatetimeIndex(cells["date"]).to_numpy(),
                                           dims="cell"), method="nearest")
    cells["product"] = picked.to_numpy().astype("f8")
    return cells


def compare_insitu(observations: pd.DataFrame, products: dict[str, xr.DataArray],
                   min_pairs: int = 3) -> dict[str, dict]:
    """Scores of each gridded product against in-situ data at its own resolution.

    Parameters
    ----------
    observations : pandas.DataFrame
        Station observation table rows (station_id, lon, lat, date, sm).
    products : dict
        Name -> (time, lat, lon) DataArray.
    min_pairs : int
        Fewer matched pixel-days give counts but no metrics.

    Returns
    -------
    dict
        Per product: :func:`cropsm.core.metrics.skill_table` (when there are enough pairs)
        plus ``pairs``, ``pixels``, ``overlap_days`` (days both have, before the
        product's own gaps), ``obs_period`` and ``product_period``, and ``note`` when the
        metrics are left out.
    """
    out = {}
    obs_days = pd.DatetimeIndex(observations["date"]).normalize()
    for name, product in products.items():
        cells = insitu_matchups(observations, product)
        both = cells[np.isfinite(cells["product"]) & np.isfinite(cells["obs"])]
        product_days = pd.DatetimeIndex(product["time"].values).normalize()
        entry = {
            "pairs": len(both),
            "pixels": int(both[["pixel_lon", "pixel_lat"]].drop_duplicates().shape[0]),
            "overlap_days": int(obs_days.unique().isin(product_days).sum()),
            "obs_period": _period(obs_days), "product_period": _period(product_days),
        }
        if len(both) >= min_pairs:
            entry.update(metrics.skill_table(both["product"], both["obs"]))
        else:
            entry["note"] = (f"{len(both)} matched pixel-day(s), fewer than {min_pairs}: "
                             "no metrics. The in-situ and product periods must overlap.")
        out[name] = entry
    return out


def _period(days: pd.DatetimeIndex) -> list[str]:
    return [f"{days.min():%Y-%m-%d}", f"{days.max():%Y-%m-%d}"] if len(days) else []
