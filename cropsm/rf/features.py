"""Model inputs of the ChinaCropSM1km random forest, for points and grids alike.

Stations and grids go through one function, :func:`features_at`: a station
observation is a (row, col, date) sample, and a grid window × dates is the same kind
of sample for every cropland cell and day. A station's features therefore equal the
grid's features at its pixel and date, by construction and by test.

``pet`` is the year's monthly PET: the climatological ``pet`` (month, y, x) of the
covariates times the daily covariates' ``pet_factor`` (month_start, lat, lon) of the
sample's month, interpolated bilinearly to the cell.

The feature names and their order live here (:data:`FEATURES`) and are saved with
every model.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from cropsm.core.errors import CropSMError
from cropsm.core.grid import Grid, bilinear_sample, intermittent_sample

__all__ = [
    "BASE_FEATURES",
    "FEATURE_GROUPS",
    "FEATURES",
    "FeatureError",
    "METHODS",
    "MONTHLY",
    "RAINFED_ONLY",
    "check_monthly",
    "features_at",
    "grid_samples",
    "monthly_at_pixels",
    "rain_at_pixels",
    "sample_pixels",
]

#: The regressor's inputs, in order: the paper's 11 variables (Cheng et al. 2022, 2.3.1)
#: with CIR, the classified irrigation state.
FEATURES: tuple[str, ...] = ("pre", "pre10", "doy", "CIR", "bulk_density", "river_distance",
                             "moisture_index", "pet", "lat", "lon", "fc")
#: The irrigation classifier's inputs: every feature but CIR itself.
BASE_FEATURES: tuple[str, ...] = tuple(f for f in FEATURES if f != "CIR")

#: The methods a model can follow: the paper's classifier + regressor, or CropSM's forest
#: with memory (:mod:`cropsm.rf.model`, ``docs/method.md``).
METHODS: tuple[str, ...] = ("paper", "cropsm")
#: The "omitted group" of a CropSM-method forest trained without the irrigated stations
#: (station metadata ``irrigated``): the rain-fed forest of the learned irrigation-off
#: scenario (:mod:`cropsm.serve.forest_scenarios`, ``docs/scenarios.md``).
RAINFED_ONLY = "irrigated_stations"

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


#: Monthly variables of the daily covariates (dimension ``month_start``): what each is.
MONTHLY: dict[str, str] = {
    "pet_factor": "the year's monthly PET over the climatological PET",
    "tas_anomaly": "the year's monthly air temperature minus the climatology (K)",
}


def _monthly_missing(name: str) -> str:
    return (f"{name} (daily covariates: {MONTHLY[name]}, by month_start, lat, lon; rebuild "
            "the demo world with `cropsm demo build`, or add it to your own daily "
            "covariates)")


def _distinct_months(dates: pd.DatetimeIndex) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """The distinct months of ``dates`` (month starts, in order) and each date's position.

    Linear in the number of dates (no sort): months are few, samples many.
    """
    day = dates.values.astype("datetime64[ns]").view("i8") // 86_400_000_000_000
    first = int(day.min())
    span = np.arange(first, int(day.max()) + 1).astype("datetime64[D]")
    codes = span.astype("datetime64[M]").astype("i8")[day - first]  # months since 1970-01
    low = int(codes.min())
    offset = codes - low
    present = np.bincount(offset) > 0
    months = (np.flatnonzero(present) + low).astype("datetime64[M]").astype("datetime64[ns]")
    return pd.DatetimeIndex(months), (np.cumsum(present) - 1)[offset]


def _month_index(daily: xr.Dataset, name: str, months: pd.DatetimeIndex) -> np.ndarray:
    """Positions of ``months`` on ``daily``'s ``month_start``; a FeatureError if any is absent."""
    if name not in daily:
        raise FeatureError(f"Covariates missing: {_monthly_missing(name)}.")
    if "month_start" not in daily[name].dims:
        raise FeatureError(f"Daily covariate {name} must have a month_start dimension "
                           f"(first day of each month), got dims {daily[name].dims}.")
    have = pd.DatetimeIndex(daily["month_start"].values)
    index = have.get_indexer(months)
    absent = months[index < 0]
    if len(absent):
        span = f"{have.min():%Y-%m}..{have.max():%Y-%m}" if len(have) else "no months"
        raise FeatureError(
            f"Daily covariate {name} covers {span}, but the samples need "
            f"{', '.join(f'{m:%Y-%m}' for m in absent[:6])}"
            f"{' ...' if len(absent) > 6 else ''}; rebuild the world over the samples' "
            "period or choose dates inside it.")
    return index


def check_monthly(daily: xr.Dataset, name: str, dates: pd.DatetimeIndex) -> None:
    """Raise a :class:`FeatureError` unless ``daily[name]`` covers the months of ``dates``.

    ``name`` is one of :data:`MONTHLY`; a missing variable is a FeatureError naming it.
    """
    if len(dates):
        _month_index(daily, name, _distinct_months(pd.DatetimeIndex(dates))[0])
    elif name not in daily:
        raise FeatureError(f"Covariates missing: {_monthly_missing(name)}.")


def monthly_at_pixels(daily: xr.Dataset, name: str, lat, lon, dates: pd.DatetimeIndex
                      ) -> tuple[np.ndarray, np.ndarray]:
    """A monthly variable of the daily covariates at cells, for the months of samples.

    The field of each distinct month is read once and interpolated bilinearly
    (:func:`cropsm.core.grid.bilinear_sample`) at every cell once.

    Parameters
    ----------
    daily : xarray.Dataset
        Daily covariates holding ``name`` (month_start, lat, lon), lat and lon ascending.
    name : str
        One of :data:`MONTHLY`.
    lat, lon : numpy.ndarray
        Cells (degrees), e.g. the distinct cells of :func:`sample_pixels`.
    dates : pandas.DatetimeIndex
        Date of each sample (at least one).

    Returns
    -------
    values : numpy.ndarray of float32
        Shape ``(n_months, n_cells)``: the distinct months of ``dates``, in time order.
    month : numpy.ndarray of int
        Position of each sample's month on the first axis of ``values``.

    Raises
    ------
    FeatureError
        If ``name`` is missing or does not cover every month of ``dates``.
    """
    months, position = _distinct_months(pd.DatetimeIndex(dates))
    index = _month_index(daily, name, months)
    field = np.asarray(daily[name].transpose("month_start", "lat", "lon")
                       .isel(month_start=index).values, dtype="f4")
    values = bilinear_sample(field, daily["lat"].values, daily["lon"].values, lat, lon)
    return values.astype("f4", copy=False), position


def _check(covariates: xr.Dataset, daily: xr.Dataset, dates: pd.DatetimeIndex) -> None:
    missing = [v for v in (*_STATIC, "pet") if v not in covariates]
    if "pre" not in daily:
        missing.append("pre (daily covariates)")
    if "pet_factor" not in daily:
        missing.append(_monthly_missing("pet_factor"))
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
    check_monthly(daily, "pet_factor", dates)


def features_at(covariates: xr.Dataset, daily: xr.Dataset, rows, cols, dates,
                cir=None) -> pd.DataFrame:
    """Features of samples at grid cells and dates.

    Parameters
    ----------
    covariates : xarray.Dataset
        Static covariates on the grid (``y``, ``x``; climatological ``pet`` by ``month``).
    daily : xarray.Dataset
        Daily ``pre`` (time, lat, lon) and monthly ``pet_factor`` (month_start, lat,
        lon) on their coarse lon/lat grid; ``pet`` is the climatological PET of the
        sample's calendar month times ``pet_factor`` of its year-month.
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
    pet = np.asarray(covariates["pet"].isel(at).compute().values, "f4")  # (month, pixel)
    factor, month_of = monthly_at_pixels(daily, "pet_factor", lat, lon, dates)

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
        "pet": pet[dates.month.to_numpy() - 1, inverse] * factor[month_of, inverse],
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
