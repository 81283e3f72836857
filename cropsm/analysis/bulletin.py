"""Regional drought summaries over time: class shares day by day, dekads, months, bands.

The numbers of a drought bulletin: for a region, the share of its graded cropland in
each drought class day by day (the bulletin chart), aggregated to dekads (the 1st–10th,
11th–20th and 21st–last day of a month, the agrometeorological services' ten-day period)
or months, and a year's regional mean against the band of the other years.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr

__all__ = ["class_shares", "class_areas", "climatology_band", "dekad_bounds", "dekad_label",
           "period_means", "zonal_class_areas"]

_DEKAD = re.compile(r"^(\d{4})-(\d{2})-([123])$")


def dekad_label(day) -> str:
    """``YYYY-MM-D`` of the dekad a day falls in (D = 1, 2 or 3)."""
    day = pd.Timestamp(day)
    return f"{day:%Y-%m}-{min(3, (day.day - 1) // 10 + 1)}"


def dekad_bounds(label: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last day of a dekad written ``YYYY-MM-D``, e.g. ``2018-05-2``.

    Raises
    ------
    ValueError
        If ``label`` is not of that form, naming it and the form expected.
    """
    match = _DEKAD.match(str(label).strip())
    if not match:
        raise ValueError(f"{label!r} is not a dekad; write YYYY-MM-D with D = 1 (days 1-10), "
                         "2 (11-20) or 3 (21-end), e.g. 2018-05-2.")
    year, month, part = (int(g) for g in match.groups())
    if not 1 <= month <= 12:
        raise ValueError(f"{label!r}: month {month} is not 01-12.")
    first = pd.Timestamp(year, month, 1 + 10 * (part - 1))
    last = (first + pd.Timedelta(days=9) if part < 3
            else first + pd.offsets.MonthEnd(0))
    return first, last


def class_shares(codes: xr.DataArray, names: Sequence[str], weights=None) -> pd.DataFrame:
    """Share of the graded cells in each class, for each step of ``time``.

    Parameters
    ----------
    codes : xarray.DataArray
        Class codes ``0 … len(names) - 1`` with a ``time`` dimension (any other code,
        e.g. a fill, is ungraded); dask-backed input is computed.
    names : sequence of str
        Class names, by code.
    weights : array_like, optional
        Weight of each cell (e.g. its crop fraction), broadcast against one time step.

    Returns
    -------
    pandas.DataFrame
        Index ``time``, one column per class; rows sum to 1, or are NaN on days with no
        graded cell (an empty day has no distribution, and zeros would read as "no
        drought").
    """
    spatial = [d for d in codes.dims if d != "time"]
    values = np.asarray(codes.transpose("time", *spatial).values).reshape(codes.sizes["time"], -1)
    w = (np.ones(values.shape[1]) if weights is None
         else np.broadcast_to(np.asarray(weights, "f8"), codes.isel(time=0).shape).ravel())
    n = len(names)
    out = np.full((values.shape[0], n), np.nan)
    for t, row in enumerate(values):
        graded = row < n
        totals = np.bincount(row[graded].astype("i8"), weights=w[graded], minlength=n)
        if totals.sum() > 0:
            out[t] = totals / totals.sum()
    return pd.DataFrame(out, index=pd.DatetimeIndex(codes["time"].values, name="time"),
                        columns=list(names))


def class_areas(codes: np.ndarray, zones: np.ndarray, zone_names: dict[int, str],
                names: Sequence[str], area_km2: np.ndarray | float = 1.0) -> pd.DataFrame:
    """Area (km²) in each class per zone (province or prefecture) for one map.

    Parameters
    ----------
    codes : numpy.ndarray
        Class codes of one day or one dekad, 2-D.
    zones : numpy.ndarray
        Zone code of each cell, same shape; codes not in ``zone_names`` are left out.
    zone_names : dict
        Zone code to name.
    names : sequence of str
        Class names, by code.
    area_km2 : numpy.ndarray or float
        Area each cell counts for (e.g. its crop area), broadcast against ``codes``.

    Returns
    -------
    pandas.DataFrame
        One row per zone with graded cells: ``zone``, one ``<class>_km2`` column per class
        and ``graded_km2``.
    """
    area = np.broadcast_to(np.asarray(area_km2, "f8"), np.shape(codes)).ravel()
    codes = np.asarray(codes).ravel()
    zones = np.asarray(zones).ravel()
    n = len(names)
    rows = []
    for code, name in zone_names.items():
        inside = (zones == code) & (codes < n)
        if not inside.any():
            continue
        counts = np.bincount(codes[inside].astype("i8"), weights=area[inside], minlength=n)
        rows.append({"zone": name, **{f"{c}_km2": float(v) for c, v in zip(names, counts,
                                                                            strict=True)},
                     "graded_km2": float(counts.sum())})
    return pd.DataFrame(rows, columns=["zone", *[f"{c}_km2" for c in names], "graded_km2"])


def period_means(series: pd.DataFrame | pd.Series, period: str) -> pd.DataFrame | pd.Series:
    """Means of a daily series over dekads (``"dekad"``) or calendar months (``"month"``).

    The index of the result is the label of the period (``2018-05-2`` or ``2018-05``).
    """
    index = pd.DatetimeIndex(series.index)
    if period == "dekad":
        labels = [dekad_label(d) for d in index]
    elif period == "month":
        labels = list(index.strftime("%Y-%m"))
    else:
        raise ValueError(f"period must be 'dekad' or 'month', got {period!r}")
    return series.groupby(pd.Index(labels, name=period), sort=True).mean()


def climatology_band(regional: pd.Series, quantiles: Sequence[float] = (0.1, 0.5, 0.9),
                     exclude_year: int | None = None) -> pd.DataFrame:
    """Band of a regional daily series over the years, by day of year.

    Parameters
    ----------
    regional : pandas.Series
        A regional mean with a daily DatetimeIndex over several years.
    quantiles : sequence of float
        Quantiles across years for each day of year.
    exclude_year : int, optional
        A year left out of the band (the year it is compared with).

    Returns
    -------
    pandas.DataFrame
        Index ``dayofyear``, one column per quantile (``q10``, ``q50``, ``q90``), and
        ``years``, the number of years with a value.
    """
    index = pd.DatetimeIndex(regional.index)
    keep = index.year != exclude_year if exclude_year is not None else np.ones(len(index), bool)
    frame = pd.DataFrame({"value": regional.to_numpy()[keep],
                          "dayofyear": index[keep].day_of_year})
    grouped = frame.groupby("dayofyear")["value"]
    out = pd.DataFrame({f"q{round(q * 100):02d}": grouped.quantile(q) for q in quantiles})
    out["years"] = grouped.count()
    return out


def zonal_class_areas(codes: np.ndarray, zones: np.ndarray, n_zones: int, n_classes: int,
                      area: np.ndarray) -> np.ndarray:
    """Area in each class of each zone, for a stack of days.

    Parameters
    ----------
    codes : numpy.ndarray
        (day, cell) class codes; codes ``>= n_classes`` (fills) are not counted.
    zones : numpy.ndarray
        (cell,) zone index ``0 … n_zones - 1`` of each cell.
    n_zones, n_classes : int
    area : numpy.ndarray
        (cell,) area each cell counts for (km²).

    Returns
    -------
    numpy.ndarray
        (day, zone, class) float64 area, km².
    """
    codes = np.asarray(codes)
    out = np.zeros((codes.shape[0], n_zones, n_classes))
    for day, row in enumerate(codes):
        graded = row < n_classes
        bins = zones[graded].astype("i8") * n_classes + row[graded]
        out[day] = np.bincount(bins, weights=area[graded],
                               minlength=n_zones * n_classes).reshape(n_zones, n_classes)
    return out
