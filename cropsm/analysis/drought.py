"""Agricultural drought from soil moisture: relative soil moisture and its grades.

Grades follow China's national standard GB/T 32136-2015 *Grades of agricultural
drought* (农业干旱等级), its grading of dryland crops by relative soil moisture
``R = 100 * SM / FC`` (percent of field capacity):

====  ========  =====  ================
code  name      label  relative SM (%)
====  ========  =====  ================
0     none      无旱   R > 60
1     light     轻旱   50 < R ≤ 60
2     moderate  中旱   40 < R ≤ 50
3     severe    重旱   30 < R ≤ 40
4     extreme   特旱   R ≤ 30
====  ========  =====  ================

Each grade's upper bound belongs to it (R = 60 is light drought, R = 30 extreme).
Grades are stored as uint8 with :data:`GRADE_FILL` (255) where R is missing. Percentile
categories against the climate record are in :mod:`cropsm.analysis.percentiles`.

The functions are pure and take numpy arrays or xarray objects; dask-backed inputs stay
lazy (numpy kernels behind :func:`xarray.apply_ufunc` with ``dask="parallelized"``).
Summaries that return numbers (:func:`grade_shares`, :func:`region_summary`) compute.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd
import xarray as xr

__all__ = [
    "DROUGHT_GRADES",
    "GRADE_FILL",
    "DroughtGrade",
    "classes_by_bounds",
    "drought_grade",
    "grade_shares",
    "region_summary",
    "relative_sm",
]


class DroughtGrade(NamedTuple):
    """One grade of GB/T 32136-2015: ``lower < R <= upper`` (``None``: unbounded)."""

    code: int
    name: str
    label_zh: str
    lower: float | None
    upper: float | None


#: The five grades of GB/T 32136-2015 for dryland crops, by relative soil moisture (%).
DROUGHT_GRADES: tuple[DroughtGrade, ...] = (
    DroughtGrade(0, "none", "无旱", 60.0, None),
    DroughtGrade(1, "light", "轻旱", 50.0, 60.0),
    DroughtGrade(2, "moderate", "中旱", 40.0, 50.0),
    DroughtGrade(3, "severe", "重旱", 30.0, 40.0),
    DroughtGrade(4, "extreme", "特旱", None, 30.0),
)

#: Grade code of cells without a relative soil moisture.
GRADE_FILL = 255

_GRADE_ATTRS = {
    "long_name": "agricultural drought grade (GB/T 32136-2015, relative soil moisture)",
    "flag_values": [g.code for g in DROUGHT_GRADES],
    "flag_meanings": " ".join(g.name for g in DROUGHT_GRADES),
    "comment": f"{GRADE_FILL}: no relative soil moisture",
}


def _is_xarray(*values) -> bool:
    return any(isinstance(v, xr.DataArray | xr.Dataset) for v in values)


# -- relative soil moisture -------------------------------------------------------------
def _relative_sm(sm: np.ndarray, fc: np.ndarray) -> np.ndarray:
    sm = np.asarray(sm)
    fc = np.asarray(fc)
    dtype = np.result_type(sm.dtype, fc.dtype, np.float32)
    sm, fc = np.broadcast_arrays(sm.astype(dtype, copy=False), fc.astype(dtype, copy=False))
    # fc > 0 is False for NaN, so missing or non-physical capacities give NaN.
    valid = fc > 0
    out = np.full(sm.shape, np.nan, dtype)
    np.divide(sm, fc, out=out, where=valid)
    return np.multiply(out, dtype.type(100), out=out)


def relative_sm(sm, fc):
    """Relative soil moisture ``100 * sm / fc``, in percent of field capacity.

    Parameters
    ----------
    sm : array_like or xarray.DataArray
        Volumetric soil moisture (m³ m⁻³).
    fc : array_like or xarray.DataArray
        Field capacity (m³ m⁻³), broadcastable against ``sm``.

    Returns
    -------
    numpy.ndarray or xarray.DataArray
        Float (at least float32), NaN where ``sm`` or ``fc`` is NaN or ``fc <= 0``.
        A DataArray result (lazy if an input is dask-backed) has ``units`` "%" and a
        ``long_name``.
    """
    if not _is_xarray(sm, fc):
        return _relative_sm(sm, fc)
    out = xr.apply_ufunc(_relative_sm, sm, fc, dask="parallelized",
                         output_dtypes=[np.result_type(_dtype(sm), _dtype(fc), np.float32)])
    out.attrs = {"units": "%",
                 "long_name": "relative soil moisture (percent of field capacity)"}
    return out.rename("relative_sm") if isinstance(out, xr.DataArray) else out


def _dtype(value) -> np.dtype:
    return value.dtype if hasattr(value, "dtype") else np.asarray(value).dtype


# -- grades -----------------------------------------------------------------------------
def classes_by_bounds(values, classes, fill: int) -> np.ndarray:
    """uint8 codes of the classes whose ``lower < value <= upper``; ``fill`` where NaN.

    ``classes`` are records with ``code``, ``lower`` and ``upper`` (None: unbounded), as
    :data:`DROUGHT_GRADES` and :data:`cropsm.analysis.percentiles.DROUGHT_CATEGORIES`.
    """
    values = np.asarray(values)
    out = np.full(values.shape, fill, np.uint8)
    finite = ~np.isnan(values)
    with np.errstate(invalid="ignore"):
        for cls in classes:
            inside = finite.copy()
            if cls.lower is not None:
                inside &= values > cls.lower
            if cls.upper is not None:
                inside &= values <= cls.upper
            out[inside] = cls.code
    return out


def _drought_grade(relative: np.ndarray) -> np.ndarray:
    return classes_by_bounds(relative, DROUGHT_GRADES, GRADE_FILL)


def drought_grade(relative):
    """Drought grade codes of GB/T 32136-2015 from relative soil moisture.

    Parameters
    ----------
    relative : array_like or xarray.DataArray
        Relative soil moisture (%), e.g. from :func:`relative_sm`.

    Returns
    -------
    numpy.ndarray or xarray.DataArray
        uint8 codes 0 (none) … 4 (extreme), :data:`GRADE_FILL` (255) where ``relative``
        is NaN. A DataArray result (lazy if the input is dask-backed) carries CF
        ``flag_values`` and ``flag_meanings``.
    """
    if not _is_xarray(relative):
        return _drought_grade(relative)
    out = xr.apply_ufunc(_drought_grade, relative, dask="parallelized",
                         output_dtypes=[np.uint8])
    out.attrs = dict(_GRADE_ATTRS)
    return out.rename("drought_grade") if isinstance(out, xr.DataArray) else out


def grade_shares(grade, weights=None) -> pd.Series:
    """Fraction of the (weighted) graded cells in each drought grade.

    Parameters
    ----------
    grade : array_like or xarray.DataArray
        Grade codes from :func:`drought_grade`; any other code (255 included) is
        ungraded and left out. Dask-backed input is computed.
    weights : array_like, optional
        Non-negative weight per cell (e.g. a crop fraction), same shape as ``grade``;
        cells with a NaN weight are left out. Default: every cell weighs 1.

    Returns
    -------
    pandas.Series
        Float shares indexed by grade name (``none`` … ``extreme``), summing to 1.
        With no graded cell (or zero total weight) every share is NaN rather than 0:
        an empty region has no drought distribution, and zeros would read as
        "no drought anywhere" in a table or chart.
    """
    codes = np.asarray(grade).ravel()
    w = (np.ones(codes.shape) if weights is None
         else np.asarray(weights, dtype="f8").ravel())
    if w.shape != codes.shape:
        raise ValueError(f"weights have {w.size} cells, grades {codes.size}")
    if np.any(w < 0):
        raise ValueError("weights must be non-negative")
    n = len(DROUGHT_GRADES)
    graded = (codes < n) & ~np.isnan(w)
    totals = np.bincount(codes[graded].astype("i8"), weights=w[graded], minlength=n)
    total = totals.sum()
    shares = totals / total if total > 0 else np.full(n, np.nan)
    return pd.Series(shares, index=pd.Index([g.name for g in DROUGHT_GRADES], name="grade"),
                     name="share")


# -- one day's region -------------------------------------------------------------------
def region_summary(sm: np.ndarray, fc: np.ndarray, cells: np.ndarray,
                   cell_area_km2: float = 1.0) -> dict[str, object]:
    """Drought summary of one day over a region's cropland.

    Parameters
    ----------
    sm : numpy.ndarray
        One day's soil moisture (m³ m⁻³), 2-D, NaN where not predicted.
    fc : numpy.ndarray
        Field capacity (m³ m⁻³), same shape.
    cells : numpy.ndarray of bool
        The region's cropland cells, same shape.
    cell_area_km2 : float
        Area of one cell (the grid is equal-area).

    Returns
    -------
    dict
        ``cropland_km2`` (area of ``cells``), ``predicted_km2`` (cells with a finite
        ``sm``), ``mean_sm`` (m³ m⁻³) and ``mean_relative_sm`` (%) over the predicted
        cells (NaN if none) and ``grade_shares`` (grade name -> fraction of predicted
        cells with a relative soil moisture; NaN shares if none, see
        :func:`grade_shares`).
    """
    sm = np.asarray(sm, dtype="f8")
    fc = np.asarray(fc, dtype="f8")
    cells = np.asarray(cells, dtype=bool)
    if not sm.ndim == 2 or sm.shape != fc.shape or sm.shape != cells.shape:
        raise ValueError(f"sm, fc and cells must be 2-D of one shape, got {sm.shape}, "
                         f"{fc.shape} and {cells.shape}")
    predicted = cells & np.isfinite(sm)
    relative = np.where(predicted, _relative_sm(sm, fc), np.nan)
    graded = np.isfinite(relative)
    shares = grade_shares(np.where(graded, _drought_grade(relative), GRADE_FILL))
    return {
        "cropland_km2": float(cells.sum() * cell_area_km2),
        "predicted_km2": float(predicted.sum() * cell_area_km2),
        "mean_sm": float(sm[predicted].mean()) if predicted.any() else float("nan"),
        "mean_relative_sm": float(relative[graded].mean()) if graded.any() else float("nan"),
        "grade_shares": {name: float(v) for name, v in shares.items()},
    }
