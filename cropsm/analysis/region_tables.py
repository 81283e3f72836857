"""Tables of a regional prediction for export: one row per pixel-day, or per day.

Both functions take the dictionary :func:`cropsm.serve.predict.predict_window` returns (arrays
of shape ``(n_dates, ny, nx)``: ``sm``, ``sm_q10``, ``sm_q90``, ``aoa`` and the boolean
``predicted``) and build pandas tables; writing them is :mod:`cropsm.io.export`'s job.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd

from cropsm.core.grid import Grid, china_grid

__all__ = ["PIXEL_COLUMNS", "SERIES_COLUMNS", "mean_series_table", "pixel_table"]

#: Columns of :func:`pixel_table`, in order.
PIXEL_COLUMNS = ("date", "crop", "depth", "row", "col", "lon", "lat", "sm", "sm_q10",
                 "sm_q90", "aoa")
#: Columns of :func:`mean_series_table`, in order.
SERIES_COLUMNS = ("date", "crop", "depth", "n_pixels", "sm", "sm_q10", "sm_q90",
                  "aoa_share")
_SM = ("sm", "sm_q10", "sm_q90")


def _checked(result: Mapping[str, np.ndarray], dates) -> tuple[np.ndarray, pd.DatetimeIndex]:
    predicted = np.asarray(result["predicted"], dtype=bool)
    dates = pd.DatetimeIndex(dates)
    if predicted.ndim != 3 or predicted.shape[0] != len(dates):
        raise ValueError(f"result arrays must be (n_dates, ny, nx) with n_dates = "
                         f"{len(dates)}, got {predicted.shape}")
    for name in (*_SM, "aoa"):
        if np.shape(result[name]) != predicted.shape:
            raise ValueError(f"result[{name!r}] has shape {np.shape(result[name])}, "
                             f"expected {predicted.shape}")
    return predicted, dates.normalize()


def _label(value: str, n: int) -> pd.Categorical[str]:
    # Categorical: one crop or depth name repeated over millions of rows.
    return pd.Categorical.from_codes(np.zeros(n, "i1"), categories=pd.Index([value]))


def pixel_table(result: Mapping[str, np.ndarray], dates, grid_window: Grid, crop: str,
                depth: str, parent: Grid | None = None) -> pd.DataFrame:
    """One row per predicted pixel-day of a regional prediction.

    Parameters
    ----------
    result : mapping of str to numpy.ndarray
        The output of :func:`cropsm.serve.predict.predict_window` for ``grid_window``.
    dates : array_like of datetime64
        The ``n_dates`` days of ``result``.
    grid_window : cropsm.core.grid.Grid
        The window of the grid ``result`` covers.
    crop, depth : str
        Written in every row.
    parent : cropsm.core.grid.Grid, optional
        The grid whose indices ``row`` and ``col`` are (a window keeps no offset of its
        own; it is recovered from the transforms with :meth:`Grid.offset_in`). Default:
        the national grid at the window's resolution, so indices are stable across
        regions and match the product store.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`PIXEL_COLUMNS`: ``date`` (datetime64, midnight), ``crop`` and
        ``depth`` (categorical), ``row`` and ``col`` (int64, indices in ``parent``),
        ``lon`` and ``lat`` (cell centre, degrees WGS84), ``sm``, ``sm_q10``,
        ``sm_q90`` (float64, m³ m⁻³) and ``aoa`` (uint8, 1 inside the area of
        applicability). Rows are ordered by date, row, column; only predicted cells.
    """
    predicted, dates = _checked(result, dates)
    if predicted.shape[1:] != grid_window.shape:
        raise ValueError(f"result covers {predicted.shape[1:]} cells but the window is "
                         f"{grid_window.shape}")
    if parent is None:
        parent = china_grid(grid_window.resolution)
    r0, c0 = grid_window.offset_in(parent)
    t, rows, cols = np.nonzero(predicted)
    # Project each distinct cell once, not once per day.
    cells = predicted.any(axis=0)
    lon = np.full(grid_window.shape, np.nan)
    lat = np.full(grid_window.shape, np.nan)
    lon[cells], lat[cells] = grid_window.rowcol_to_lonlat(*np.nonzero(cells))
    n = t.size
    columns = {
        "date": dates[t],
        "crop": _label(crop, n),
        "depth": _label(depth, n),
        "row": rows.astype("i8") + r0,
        "col": cols.astype("i8") + c0,
        "lon": lon[rows, cols],
        "lat": lat[rows, cols],
    }
    for name in _SM:
        columns[name] = np.asarray(result[name], dtype="f8")[t, rows, cols]
    columns["aoa"] = np.asarray(result["aoa"], dtype=np.uint8)[t, rows, cols]
    return pd.DataFrame(columns)


def mean_series_table(result: Mapping[str, np.ndarray], dates, crop: str,
                      depth: str) -> pd.DataFrame:
    """Regional means per day of a regional prediction.

    Parameters
    ----------
    result : mapping of str to numpy.ndarray
        The output of :func:`cropsm.serve.predict.predict_window`.
    dates : array_like of datetime64
        The ``n_dates`` days of ``result``.
    crop, depth : str
        Written in every row.

    Returns
    -------
    pandas.DataFrame
        One row per date, columns :data:`SERIES_COLUMNS`: ``n_pixels`` (predicted cells),
        ``sm``, ``sm_q10``, ``sm_q90`` (means over the predicted cells of the per-pixel
        values, m³ m⁻³, named as in :func:`pixel_table` so plots take either table; the
        band is the mean of the per-pixel bands, not a band of the mean) and
        ``aoa_share`` (fraction of predicted cells inside the area of applicability).
        Days without a predicted cell have ``n_pixels`` 0 and NaN means and share.
    """
    predicted, dates = _checked(result, dates)
    n_pixels = predicted.sum(axis=(1, 2))
    columns = {"date": dates, "crop": _label(crop, len(dates)),
               "depth": _label(depth, len(dates)), "n_pixels": n_pixels.astype("i8")}
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # days without pixels give NaN
        for name in _SM:
            values = np.where(predicted, np.asarray(result[name], dtype="f8"), np.nan)
            columns[name] = np.nanmean(values, axis=(1, 2))
        inside = (predicted & (np.asarray(result["aoa"]) == 1)).sum(axis=(1, 2))
        columns["aoa_share"] = np.where(n_pixels > 0, inside / n_pixels, np.nan)
    return pd.DataFrame(columns)
