"""Drought spells per pixel: when a dry spell began, how long it lasts, how often.

A *drought day* is a day whose percentile category (:mod:`cropsm.analysis.percentiles`)
is at least ``min_category`` (default D1, the USDM's moderate drought: percentile ≤ 20).
Runs of drought days are counted with xclim's run-length tools
(:mod:`xclim.indices.run_length`), which work on numpy- and dask-backed arrays alike.
Missing days (out of season, NaN percentile) break a run.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from cropsm.analysis.percentiles import CATEGORY_FILL

__all__ = ["MIN_SPELL_DAYS", "drought_days", "drought_spells"]

#: Shortest run of drought days counted as a spell. Our choice: two dekads of
#: sampling (the stations' 8th/18th/28th visits) are ten days apart, so a spell shorter
#: than ten days cannot be confirmed by a station.
MIN_SPELL_DAYS = 10


def drought_days(category: xr.DataArray, min_category: int = 2) -> xr.DataArray:
    """True on days whose category code is ``min_category`` or worse (fill excluded)."""
    return (category >= min_category) & (category != CATEGORY_FILL)


def drought_spells(category: xr.DataArray, min_category: int = 2,
                   min_days: int = MIN_SPELL_DAYS) -> xr.Dataset:
    """Spells of drought days along ``time``, per pixel.

    Parameters
    ----------
    category : xarray.DataArray
        Daily category codes of :func:`cropsm.analysis.percentiles.drought_category`
        with a daily ``time`` dimension, e.g. the season so far.
    min_category : int
        Code from which a day is a drought day (2: D1).
    min_days : int
        Shortest run counted in ``spells`` and ``first_onset``.

    Returns
    -------
    xarray.Dataset
        Per pixel (the dimensions of ``category`` other than ``time``):

        ``current_days``
            length of the run of drought days that ends on the last day (0 if the last
            day is not a drought day), days;
        ``current_onset``
            its first day (NaT if none);
        ``longest_days``
            longest run of drought days, days;
        ``spells``
            number of runs of at least ``min_days`` days;
        ``first_onset``
            first day of the first such run (NaT if none).
    """
    from xclim.indices import run_length as rl

    if "time" not in category.dims:
        raise ValueError(f"drought_spells needs a 'time' dimension, got {category.dims}")
    dry = drought_days(category, min_category)
    times = pd.DatetimeIndex(category["time"].values)
    # rle(index="last") puts each run's length on its last day
    current = rl.rle(dry, dim="time", index="last").isel(time=-1).fillna(0).astype("i4")
    current = current.where(dry.isel(time=-1), 0)
    onset_index = (len(times) - current).clip(max=len(times) - 1)
    onset = xr.DataArray(times.values[onset_index.values], dims=current.dims,
                         coords=current.coords).where(current > 0)
    longest = rl.longest_run(dry, dim="time").fillna(0).astype("i4")
    spells = rl.windowed_run_events(dry, window=min_days, dim="time").fillna(0).astype("i4")
    first = rl.first_run(dry, window=min_days, dim="time")
    first_onset = xr.DataArray(
        np.where(np.isnan(first.values), np.datetime64("NaT"),
                 times.values[np.nan_to_num(first.values).astype(int)]),
        dims=first.dims, coords=first.coords)
    out = xr.Dataset({
        "current_days": current.assign_attrs(
            units="days", long_name="length of the drought spell going on at the last day"),
        "current_onset": onset.assign_attrs(long_name="first day of that spell"),
        "longest_days": longest.assign_attrs(units="days",
                                             long_name="longest drought spell"),
        "spells": spells.assign_attrs(units="1",
                                      long_name=f"drought spells of at least {min_days} days"),
        "first_onset": first_onset.assign_attrs(
            long_name=f"first day of the first spell of at least {min_days} days"),
    })
    out.attrs = {"drought_day": f"category code >= {min_category}", "min_days": min_days,
                 "period": f"{times[0]:%Y-%m-%d}/{times[-1]:%Y-%m-%d}"}
    return out.drop_vars("time", errors="ignore")
