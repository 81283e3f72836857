"""Model inputs of the ChinaCropSM1km random forest, for points and grids alike.

Stations and grids go through one function, :func:`features_at`: a station
observation is a (row, col, date) sample, and a grid window × dates is the same kind
of sample for every cropland cell and day. A station's features therefore equal the
grid's features at its pixel and date, by construction and by test.

The feature names and their order live here (:data:`FEATURES`) and are saved with
every model.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from cropsm.core.errors import CropSMError
from cropsm.core.grid import Grid, intermittent_sample

__all__ = [
    "BASE_FEATURES",
    "FEATURE_GROUPS",
    "FEATURES",
    "FeatureError",
    "features_at",
    "grid_samples",
    "rain_at_pixels",
    "sample_pixels",
]

#: The regressor's inputs, in order: the paper's 11 variables (Cheng et al. 2022, 2.3.1)
#: with CIR, the classified irrigation state.
FEATURES: tuple[str, ...] = ("pre", "pre10", "doy", "CIR", "bulk_density", "river_distance",
                             "moisture_index", "pet", "lat", "lon", "fc")
#: The irrigation classifier's inputs: every feature but CIR itself.
BASE_FEATURES: tuple[str, ...] = tuple(f for f in FEATURES if f != "CIR")

_STATIC = ("bulk_density", "river_distance", "moisture_index", "fc")
ANTECEDENT_DAYS = 10


#: Feature groups a reduced model can leave out (control experiments as in Liu et al. 2021,
#: Fig. 5): the R² a model loses without a group ranks the group's importance.
FEATURE_GROUPS: dict[str, tuple[str, ...]] = {
    "precipitation": ("pre", "pre10"),
    "soil": ("bulk_density", "fc"),
    "pet_moisture": ("pet", "moisture_index"),
    "cir": ("CIR",),
    "position": ("lat", "lon", "river_distance"),
}

class FeatureError(CropSMError, ValueError):
    """A covariate needed for the features is missing or does not cover the samples."""


def _check(covariates: xr.Dataset, daily: xr.Dataset, dates: pd.DatetimeIndex) -> None:
    missing = [v for v in (*_STATIC, "pet") if v not in covariates]
    if "pre" not in daily:
        missing.append("pre (daily covariates)")
    if missing:
        raise FeatureError(f"Covariates missing for the features: {', '.join(missing)}.")
    first = dates.min() - pd.Timedelta(days=ANTECEDENT_DAYS)
    have = pd.DatetimeIndex(daily["time"].values)
    if first < have[0] or dates.max() > have[-1]:
        raise FeatureError(
            f"Daily covariates cover {have[0]:%Y-%m-%d}..{have[-1]:%Y-%m-%d}, but the samples "
            f"need {first:%Y-%m-%d}..{dates.max():%Y-%m-%d} (pre10 looks back "
            f"{ANTECEDENT_DAYS} days)."
        )


def features_at(covariates: xr.Dataset, daily: xr.Dataset, rows, cols, dates,
                cir=None) -> pd.DataFrame:
    """Features of samples at grid cells and dates.

    Parameters
    ----------
    covariates : xarray.Dataset
        Static covariates on the grid (``y``, ``x``; ``pet`` by ``month``).
    daily : xarray.Dataset
        Daily ``pre`` on its coarse lon/lat grid.
    rows, cols : array_like of int
        Cell indices of each sample in ``covariates``' grid.
    dates : array_like of datetime64
        Date of each sample.
    cir : array_like, optional
        CIR of each sample (observed labels or classifier output); left out if None.

    Returns
    -------
    pandas.DataFrame
        One row per sample, columns :data:`FEATURES` (or :data:`BASE_FEATURES`).
    """
    rows = np.asarray(rows, dtype="i8")
    cols = np.asarray(cols, dtype="i8")
    dates = pd.DatetimeIndex(dates).normalize()
    if not (rows.shape == cols.shape == (len(dates),)):
        raise ValueError("rows, cols and dates must have one value per sample")
    if len(dates) == 0:
        return pd.DataFrame({f: np.array([], "f4") for f in
                             (FEATURES if cir is not None else BASE_FEATURES)})
    _check(covariates, daily, dates)
    at, inverse, lon, lat = sample_pixels(covariates, rows, cols)
    static = covariates[list(_STATIC)].isel(at).compute()
    pet = covariates["pet"].isel(at).compute().values  # (month, pixel)

    first = dates.min() - pd.Timedelta(days=ANTECEDENT_DAYS)
    rain, csum = rain_at_pixels(daily, lat, lon, first, dates.max())
    day = (dates - first).days.to_numpy()
    pre10 = csum[day, inverse] - csum[day - ANTECEDENT_DAYS, inverse]

    out = {
        "pre": rain[day, inverse],
        "pre10": pre10,
        "doy": dates.day_of_year.to_numpy(),
        "bulk_density": static["bulk_density"].values[inverse],
        "river_distance": static["river_distance"].values[inverse],
        "moisture_index": static["moisture_index"].values[inverse],
        "pet": pet[dates.month.to_numpy() - 1, inverse],
        "lat": lat[inverse],
        "lon": lon[inverse],
        "fc": static["fc"].values[inverse],
    }
    if cir is not None:
        out["CIR"] = np.asarray(cir)
    names = FEATURES if cir is not None else BASE_FEATURES
    return pd.DataFrame({name: np.asarray(out[name], dtype="f4") for name in names})


def sample_pixels(covariates: xr.Dataset, rows: np.ndarray, cols: np.ndarray):
    """The distinct grid cells of samples, for reading each covariate once per cell.

    Returns
    -------
    at : dict
        ``isel`` indexers of the distinct cells (dimension ``pixel``).
    inverse : numpy.ndarray
        Position of each sample's cell among them.
    lon, lat : numpy.ndarray
        Cell-centre coordinates of the distinct cells.
    """
    grid = Grid.from_coords(covariates["x"].values, covariates["y"].values)
    if rows.min() < 0 or cols.min() < 0 or rows.max() >= grid.shape[0] \
            or cols.max() >= grid.shape[1]:
        raise FeatureError(f"Samples fall outside the covariate grid of shape {grid.shape}.")
    pixel, inverse = np.unique(rows * grid.shape[1] + cols, return_inverse=True)
    prow, pcol = pixel // grid.shape[1], pixel % grid.shape[1]
    lon, lat = grid.rowcol_to_lonlat(prow, pcol)
    at = {"y": xr.DataArray(prow, dims="pixel"), "x": xr.DataArray(pcol, dims="pixel")}
    return at, inverse, lon, lat


def rain_at_pixels(daily: xr.Dataset, lat, lon, start, end) -> tuple[np.ndarray, np.ndarray]:
    """Daily rain at cells from ``start`` to ``end``, and its running sums.

    Returns ``rain`` (day, cell) and ``csum`` (day + 1, cell), with ``csum[k]`` the rain
    of the days before day ``k``, so ``csum[d] - csum[d - n]`` is the n days before day d.
    """
    span = daily["pre"].sel(time=slice(start, end))
    rain = intermittent_sample(np.asarray(span.values, dtype="f4"), daily["lat"].values,
                               daily["lon"].values, lat, lon)
    csum = np.concatenate([np.zeros((1, rain.shape[1])), np.cumsum(rain, axis=0, dtype="f8")])
    return rain, csum


def grid_samples(mask: np.ndarray, dates) -> tuple[np.ndarray, np.ndarray, pd.DatetimeIndex]:
    """Rows, columns and dates of every (cell, day) of a masked window, day-major."""
    rr, cc = np.nonzero(mask)
    dates = pd.DatetimeIndex(dates)
    return (np.tile(rr, len(dates)), np.tile(cc, len(dates)),
            pd.DatetimeIndex(np.repeat(dates.values, rr.size)))
