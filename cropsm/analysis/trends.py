"""Trends over the record: Sen's slope with the Mann–Kendall test, per pixel or region.

Liu et al. (2021, Figs. 2–3) map the trend of cropland soil moisture as Sen's slope
(Sen 1968, J. Amer. Statist. Assoc. 63, 1379–1389) with the significance of the
Mann–Kendall test (Mann 1945; Kendall 1975), which is what :func:`sen_mann_kendall`
computes. It is vectorised over pixels: ``pymannkendall.original_test`` gives the same
numbers one series at a time, in Python, which is too slow for a national map, and the
tests compare the two.

Missing years are skipped as pymannkendall does, with one difference: slopes use the
actual time step between the two years (as :func:`scipy.stats.theilslopes` does), not
the position after dropping the gaps.
"""

from __future__ import annotations

import warnings

import numpy as np
import xarray as xr
from scipy.special import ndtr

__all__ = ["MIN_YEARS", "sen_mann_kendall"]

#: Fewest valid years a pixel needs for a trend.
MIN_YEARS = 8


def _sen_mk(values: np.ndarray, steps: np.ndarray, min_years: int) -> tuple[np.ndarray, ...]:
    """Sen's slope, Kendall's S, z and two-sided p of ``values`` (..., year)."""
    x = np.asarray(values, dtype="f8")
    n_valid = np.sum(~np.isnan(x), axis=-1)
    i, j = np.triu_indices(x.shape[-1], k=1)
    diff = x[..., j] - x[..., i]
    pair = ~np.isnan(diff)
    s = np.sum(np.sign(np.where(pair, diff, 0.0)), axis=-1)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN cells: no slope
        slope = np.nanmedian(np.where(pair, diff / (steps[j] - steps[i]), np.nan), axis=-1)
    # tie correction: each value tied with c values (itself included) adds (c-1)(2c+5);
    # summed over a tie group of size t this is t(t-1)(2t+5)
    ties = np.sum(x[..., :, None] == x[..., None, :], axis=-1)
    tie_term = np.sum(np.where(np.isnan(x), 0, (ties - 1) * (2 * ties + 5)), axis=-1)
    n = n_valid.astype("f8")
    var = (n * (n - 1) * (2 * n + 5) - tie_term) / 18.0
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(s > 0, (s - 1) / np.sqrt(var), np.where(s < 0, (s + 1) / np.sqrt(var), 0.0))
    p = 2 * (1 - ndtr(np.abs(z)))
    short = n_valid < min_years
    return tuple(np.where(short, np.nan, a) for a in (slope, s, z, p))


def sen_mann_kendall(series: xr.DataArray, dim: str = "year", min_years: int = MIN_YEARS,
                     alpha: float = 0.05) -> xr.Dataset:
    """Sen's slope and the Mann–Kendall test along ``dim``, for every other coordinate.

    Parameters
    ----------
    series : xarray.DataArray
        One value per step of ``dim`` (e.g. the season-mean soil moisture of each year,
        m³ m⁻³); NaN for a missing year. ``dim`` must have a numeric coordinate (the
        years); dask-backed input is computed block by block.
    dim : str
        The time dimension.
    min_years : int
        Fewest valid steps for a trend; pixels with fewer get NaN.
    alpha : float
        Significance level of ``significant``.

    Returns
    -------
    xarray.Dataset
        ``slope`` (units of ``series`` per unit of ``dim``), ``s`` (Kendall's S), ``z``,
        ``p`` (two-sided, normal approximation with tie correction and continuity
        correction, as pymannkendall) and ``significant`` (``p < alpha``).
    """
    if dim not in series.dims:
        raise ValueError(f"sen_mann_kendall needs a {dim!r} dimension, got {series.dims}")
    steps = np.asarray(series[dim].values, dtype="f8")
    if np.any(np.diff(steps) <= 0):
        raise ValueError(f"the {dim!r} coordinate must increase")
    series = series.chunk({dim: -1}) if series.chunks else series
    slope, s, z, p = xr.apply_ufunc(
        _sen_mk, series, kwargs={"steps": steps, "min_years": min_years},
        input_core_dims=[[dim]], output_core_dims=[[], [], [], []], dask="parallelized",
        output_dtypes=[np.float64] * 4)
    units = series.attrs.get("units", "")
    out = xr.Dataset({
        "slope": slope.assign_attrs(units=f"{units} per {dim}".strip(),
                                    long_name="Sen's slope"),
        "s": s.assign_attrs(long_name="Mann-Kendall S"),
        "z": z.assign_attrs(long_name="Mann-Kendall z"),
        "p": p.assign_attrs(long_name="Mann-Kendall two-sided p-value"),
    })
    out["significant"] = (out["p"] < alpha).where(out["p"].notnull())
    out["significant"].attrs = {"long_name": f"trend significant at p < {alpha}"}
    out.attrs = {"period": f"{int(steps[0])}-{int(steps[-1])}", "min_years": min_years}
    return out
