"""Liu et al. (2021) Figs. 9-10 over all cropland: each cropping pattern minus the reference.

Fig. 9 of Liu et al. maps the annual 0-10 cm SM difference between each alternative
cropping-pattern simulation (the whole cropland under one pattern) and the reference NN
SM (Eq. 1-2); Fig. 10 gives the monthly difference by region: NE, N, E, S, C, NW, SW,
HHH (:mod:`cropsm.core.liu_regions`) and China (CHN). :func:`pattern_regions` computes
both summaries for one year over all the cropland of the covariates, where
:func:`cropsm.nn.pattern_scenarios.pattern_scenario` works on a drawn box.

How
---
* **Cells: a regular lattice, as Liu's 0.25° grid.** The cropland of a national 1 km grid
  over 365 days is several hundred million pixel-days: too many for the network on a
  small machine. The covariates are sampled every ``stride``-th row and column, from the
  centre of the first block (row and column ``stride // 2``): with the default stride of
  25 on the 1 km grid, one cell every 25 km, about Liu et al.'s 0.25° grid (27.8 km of
  latitude; 25 km of longitude at 25° N, 21 km at 40° N), the grid they ran their
  network on. The grid is equal-area, so every lattice cell stands for the same area and
  a region's mean is the plain mean over its cells. A lattice cell is cropland where the
  cell's ``cropping_pattern`` is set (the cell itself, not its block; Liu et al. also
  take each 0.25° cell's own crop areas).
* **SM.** The inputs of every cell and day are :func:`cropsm.nn.network.features_at`
  (computed a month at a time); the network predicts the layer once under each pattern
  (:func:`cropsm.nn.pattern_scenarios.pattern_sm`). The reference is the sum of those
  predictions weighted by Eq. 1 (:func:`cropsm.nn.pattern_scenarios.pattern_weights`);
  the alternative ``p`` is the prediction under ``p``; the difference is ``p`` minus the
  reference, cell by cell and day by day, exactly as
  :func:`~cropsm.nn.pattern_scenarios.pattern_scenario` computes it on a box.
* **Regions.** Each cell takes the region of the province containing its centre
  (:func:`cropsm.core.liu_regions.region_of_points`). CHN is every cropland cell,
  including the few whose centre falls outside the simplified province outlines.
* **Northeast masked for double cropping.** Liu et al.'s Fig. 9 masks the northeast for
  the double-cropping pattern, "typically inhibited by the local climatic conditions":
  one growing season is too short for winter wheat and then maize. For the patterns of
  :data:`cropsm.core.patterns.DOUBLE_CROPPING` the northeast's cells are left out: its
  row is NaN with 0 cells, and CHN is the mean over the rest of China.
* **Means.** Monthly: over the region's cells and the month's days; annual: over every
  day of the year. Liu et al. use the climatological monthly SM and the median annual SM
  of 1981-2013; a single year stands in for those here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from cropsm.core import liu_regions, patterns
from cropsm.core.grid import Grid
from cropsm.core.regions import RegionError
from cropsm.nn.network import ACCUMULATION_DAYS, MultilayerNetwork, check_layer, features_at
from cropsm.nn.pattern_scenarios import WEIGHTINGS, pattern_sm, pattern_weights
from cropsm.rf.features import FeatureError

__all__ = ["DEFAULT_STRIDE", "REGIONS", "annual_table", "last_year", "monthly_table",
           "network_years", "pattern_regions", "sample_lattice", "year_dates"]

#: Rows and columns between lattice cells: 25 km on the 1 km grid, about 0.25°.
DEFAULT_STRIDE = 25

#: Region codes of the result, in the order of Liu et al.'s Fig. 10, then China.
REGIONS: tuple[str, ...] = (*liu_regions.LIU_REGIONS, liu_regions.CHINA)

# what features_at and the weights read from the covariates
_LATTICE_VARIABLES = ("air_temperature", "sand", "silt", "clay", "bulk_density", "elevation",
                      "cropping_pattern", "crop_fraction", "spring_wheat", "pattern_fraction",
                      "zone")


def sample_lattice(covariates: xr.Dataset, stride: int = DEFAULT_STRIDE) -> xr.Dataset:
    """The covariates the network needs on every ``stride``-th row and column, loaded.

    The lattice starts at row and column ``stride // 2`` (the centre of the first block).
    Its cells keep their 1 km coordinates, so :func:`cropsm.nn.network.features_at` on
    the lattice gives each cell the inputs it has on the full grid.

    Raises
    ------
    RegionError
        ``stride`` is below 1, or leaves fewer than two rows or columns of the grid.
    """
    if stride < 1:
        raise RegionError(f"Stride {stride} must be a positive number of rows and columns.")
    offset = stride // 2
    ny, nx = covariates.sizes["y"], covariates.sizes["x"]
    shape = (len(range(offset, ny, stride)), len(range(offset, nx, stride)))
    if min(shape) < 2:
        largest = (min(ny, nx) - 1) * 2 // 3
        raise RegionError(f"Stride {stride} leaves {shape[0]} x {shape[1]} cells of the "
                          f"{ny} x {nx} grid; choose a stride of at most {max(largest, 1)}.")
    names = [v for v in _LATTICE_VARIABLES if v in covariates]
    lattice = covariates[names].isel(y=slice(offset, None, stride),
                                     x=slice(offset, None, stride)).load()
    lattice.attrs = dict(covariates.attrs)
    return lattice


def network_years(daily: xr.Dataset) -> list[int]:
    """Calendar years whose every day has 12 months of daily precipitation before it."""
    have = pd.DatetimeIndex(daily["time"].values)
    if len(have) == 0:
        return []
    longest = pd.Timedelta(days=max(ACCUMULATION_DAYS.values()))
    return [year for year in range(have[0].year, have[-1].year + 1)
            if pd.Timestamp(year, 1, 1) - longest >= have[0]
            and pd.Timestamp(year, 12, 31) <= have[-1]]


def last_year(daily: xr.Dataset) -> int:
    """The last of :func:`network_years`: the default year to run (the map year of a demo world).

    Raises
    ------
    FeatureError
        The daily covariates hold no such year.
    """
    years = network_years(daily)
    if not years:
        have = pd.DatetimeIndex(daily["time"].values)
        span = f"{have[0]:%Y-%m-%d}..{have[-1]:%Y-%m-%d}" if len(have) else "no days"
        raise FeatureError(f"The daily covariates ({span}) hold no whole year with 12 months "
                           "of precipitation before it; the network cannot run a year.")
    return years[-1]


def year_dates(daily: xr.Dataset, year: int) -> pd.DatetimeIndex:
    """Every day of ``year``, checked against the daily covariates.

    Raises
    ------
    FeatureError
        The year, or the 12 months of precipitation before it, is not in ``daily``; the
        message names the years that are.
    """
    years = network_years(daily)
    if year not in years:
        have = pd.DatetimeIndex(daily["time"].values)
        span = (f"{have[0]:%Y-%m-%d}..{have[-1]:%Y-%m-%d}" if len(have) else "no days")
        choose = (f"choose a year from {years[0]} to {years[-1]}" if years
                  else "extend the daily covariates")
        raise FeatureError(f"Year {year} cannot be run: the network needs all of it and the "
                           f"12 months of precipitation before it, and the daily covariates "
                           f"cover {span}; {choose}.")
    return pd.date_range(f"{year}-01-01", f"{year}-12-31", freq="D")


def _region_weights(region: np.ndarray, keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(cells, regions)`` averaging weights (NaN for an empty region) and cell counts."""
    member = np.stack([np.ones(region.shape, bool) if code == liu_regions.CHINA
                       else region == code for code in REGIONS], axis=1) & keep[:, None]
    counts = member.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return member / counts, counts


def _daily_means(sm: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``(days, regions)`` means of ``(days, cells)`` values; NaN for an empty region."""
    out = np.asarray(sm, "f8") @ np.nan_to_num(weights)
    out[:, ~np.isfinite(weights).all(axis=0)] = np.nan
    return out


def _predict_year(network: MultilayerNetwork, lattice: xr.Dataset, daily: xr.Dataset,
                  rr: np.ndarray, cc: np.ndarray, dates: pd.DatetimeIndex, layer: str,
                  codes: list[int]) -> dict[int, np.ndarray]:
    """SM ``(day, cell)`` under each pattern; the inputs computed a month at a time."""
    sm = {code: np.empty((len(dates), rr.size), "f4") for code in codes}
    for month in range(1, 13):
        days = np.flatnonzero(dates.month == month)
        x = features_at(lattice, daily, np.tile(rr, days.size), np.tile(cc, days.size),
                        np.repeat(dates[days].values, rr.size))
        for code in codes:
            sm[code][days] = pattern_sm(network, x, layer, code).reshape(days.size, rr.size)
    return sm


def _variables(monthly: dict[str, np.ndarray], annual: dict[str, np.ndarray],
               layer: str) -> dict[str, tuple]:
    """The result's SM variables with their dimensions, units and names."""
    units = {"units": "m3 m-3"}
    data: dict[str, tuple] = {
        name: (("pattern", "region", "month"), values.astype("f4"),
               {**units, "long_name": f"mean {name} SM ({layer})"})
        for name, values in monthly.items()}
    data["difference"][2]["long_name"] = f"pattern minus reference, mean SM ({layer})"
    data.update({name: (("pattern", "region"), values.astype("f4"),
                        {**units, "long_name": name.replace("_", " ") + f" SM ({layer})"})
                 for name, values in annual.items()})
    return data


def pattern_regions(network: MultilayerNetwork, covariates: xr.Dataset, daily: xr.Dataset,
                    provinces: pd.DataFrame, year: int, layer: str = "0-10cm",
                    stride: int = DEFAULT_STRIDE, weighting: str = "liu",
                    alternatives=None, station_meta: pd.DataFrame | None = None
                    ) -> xr.Dataset:
    """Monthly and annual SM of the reference and of each pattern, by Liu region and CHN.

    Parameters
    ----------
    network : MultilayerNetwork
        The trained network (``cropsm network train``).
    covariates, daily : xarray.Dataset
        The catalog's ``covariates`` and ``covariates_daily``.
    provinces : pandas.DataFrame
        ``name_en`` and lon/lat ``geometry`` per province
        (:func:`cropsm.io.assets.read_provinces`).
    year : int
        The year to run (:func:`network_years` lists those possible).
    layer : str
        One of :data:`cropsm.core.crops.SOIL_LAYERS`; Liu et al.'s figures are 0-10 cm.
    stride : int
        Rows and columns between lattice cells (:func:`sample_lattice`).
    weighting : str
        The reference's weights, a key of
        :data:`cropsm.nn.pattern_scenarios.WEIGHTINGS` (Liu et al.'s Eq. 1 by default).
    alternatives : sequence of int or str, optional
        The patterns to put on all cropland; every pattern present by default.
    station_meta : pandas.DataFrame, optional
        The stations' ``zone`` and ``pattern``: adds ``pattern_flag_share``, the share of
        the cells compared whose pattern is observed at stations of the cell's
        agricultural zone (the ``pattern_flag`` of
        :func:`cropsm.nn.pattern_scenarios.quality_flags`, averaged).

    Returns
    -------
    xarray.Dataset
        On ``(pattern, region, month)``: ``reference``, ``scenario`` and ``difference``
        (scenario - reference), means in m3 m-3 over the cells each pattern is compared
        on; on ``(pattern, region)``: ``annual_reference``, ``annual_difference`` and
        ``cells`` (lattice cells in the mean; 0 for the masked northeast), and with
        ``station_meta`` ``pattern_flag_share``. Coordinates
        ``pattern_name`` and ``region_name``; the attributes record the year, layer,
        stride, lattice spacing, weighting and the cells outside every province.

    Raises
    ------
    FeatureError
        The year is not covered by the daily covariates (:func:`year_dates`).
    RegionError
        No cropland on the lattice, a bad stride, or a province without a region.
    ValueError
        An unknown layer, weighting or pattern.
    """
    check_layer(layer)
    if weighting not in WEIGHTINGS:
        raise ValueError(f"Unknown weighting {weighting!r}; choose one of "
                         f"{', '.join(WEIGHTINGS)}.")
    present = covariates.attrs.get("patterns_present")
    if alternatives is None:
        alternatives = patterns.PATTERNS if present is None else present
    codes = [patterns.check_pattern(p, present) for p in alternatives]
    dates = year_dates(daily, year)
    lattice = sample_lattice(covariates, stride)
    everywhere = slice(None)
    weights = pattern_weights(lattice, everywhere, everywhere, weighting)
    rr, cc = np.nonzero((lattice["cropping_pattern"].values > 0) & (weights.sum(axis=0) > 0))
    if rr.size == 0:
        raise RegionError(f"No cropland on the lattice of stride {stride}; choose a smaller "
                          "stride.")
    grid = Grid.from_coords(lattice["x"].values, lattice["y"].values)
    region = liu_regions.region_of_points(*grid.rowcol_to_lonlat(rr, cc), provinces)
    cell_weights = weights[:, rr, cc]

    needed = sorted(set(codes) | {code for k, code in enumerate(patterns.PATTERNS)
                                  if (cell_weights[k] > 0).any()})
    sm = _predict_year(network, lattice, daily, rr, cc, dates, layer, needed)
    reference = np.zeros((len(dates), rr.size), "f4")
    for k, code in enumerate(patterns.PATTERNS):
        if code in sm:
            reference += np.where(cell_weights[k] > 0, sm[code] * cell_weights[k], 0.0)

    month_of_day = dates.month.to_numpy()
    out = {name: np.full((len(codes), len(REGIONS), 12), np.nan) for name in
           ("reference", "scenario", "difference")}
    annual = {name: np.full((len(codes), len(REGIONS)), np.nan) for name in
              ("annual_reference", "annual_difference")}
    cells = np.zeros((len(codes), len(REGIONS)), "i4")
    flag_share = np.full((len(codes), len(REGIONS)), np.nan)
    if station_meta is not None:
        if "zone" not in lattice:
            raise FeatureError("The covariates have no agricultural `zone`, which the pattern "
                               "flag needs; run without the station metadata.")
        seen = set(zip(station_meta["zone"].astype(int), station_meta["pattern"].astype(int),
                       strict=True))
        zone = lattice["zone"].values[rr, cc].astype(int)
    for i, code in enumerate(codes):
        keep = (region != "NE") if code in patterns.DOUBLE_CROPPING else np.ones(rr.size, bool)
        averaging, cells[i] = _region_weights(region, keep)
        if station_meta is not None:
            observed = np.isin(zone, [z for z, p in seen if p == code])
            flag_share[i] = _daily_means(observed[None, :], averaging)[0]
        for name, values in (("reference", reference), ("scenario", sm[code]),
                             ("difference", sm[code] - reference)):
            daily_means = _daily_means(values, averaging)
            out[name][i] = pd.DataFrame(daily_means).groupby(month_of_day).mean().to_numpy().T
            if name != "scenario":
                annual[f"annual_{name}"][i] = daily_means.mean(axis=0)

    data = _variables(out, annual, layer)
    data["cells"] = (("pattern", "region"), cells,
                     {"long_name": "lattice cells in the mean (0: masked or no cropland)"})
    if station_meta is not None:
        data["pattern_flag_share"] = (("pattern", "region"), flag_share.astype("f4"), {
            "long_name": "share of the cells whose pattern is observed at stations of "
                         "their agricultural zone (pattern flag)", "units": "1"})
    spacing = grid.resolution / 1000.0  # the lattice's own grid: stride cells apart
    return xr.Dataset(data, coords={
        "pattern": np.asarray(codes, "i1"),
        "pattern_name": ("pattern", [patterns.PATTERNS[c] for c in codes]),
        "region": list(REGIONS),
        "region_name": ("region", [liu_regions.LIU_REGIONS.get(r, "China") for r in REGIONS]),
        "month": np.arange(1, 13, dtype="i1")}, attrs={
        "title": "Liu et al. (2021) Figs. 9-10: cropping patterns minus the reference",
        "method": "multilayer network (Liu et al. 2021)", "layer": layer, "year": int(year),
        "stride": int(stride), "lattice_spacing_km": float(spacing),
        "reference_weighting": WEIGHTINGS[weighting],
        "cropland_cells": int(rr.size), "pixel_days": int(rr.size * len(dates)),
        "cells_outside_provinces": int((region == "").sum()),
        "masked": "northeast (NE) for double cropping: "
                  + ", ".join(patterns.PATTERNS[c] for c in patterns.DOUBLE_CROPPING)})


def monthly_table(result: xr.Dataset) -> pd.DataFrame:
    """:func:`pattern_regions` as a tidy table: one row per pattern, region and month.

    Columns ``pattern``, ``pattern_name``, ``region``, ``month``, ``reference``,
    ``scenario``, ``difference`` (m3 m-3) and ``cells``.
    """
    frame = result[["reference", "scenario", "difference"]].to_dataframe().reset_index()
    cells = result["cells"].to_dataframe().reset_index()[["pattern", "region", "cells"]]
    frame = frame.merge(cells, on=["pattern", "region"], how="left")
    names = dict(zip(result["pattern"].values.tolist(),
                     result["pattern_name"].values.tolist(), strict=True))
    frame["pattern_name"] = frame["pattern"].map(names)
    return frame[["pattern", "pattern_name", "region", "month", "reference", "scenario",
                  "difference", "cells"]]


def annual_table(result: xr.Dataset, name: str = "annual_difference") -> pd.DataFrame:
    """A ``(pattern, region)`` variable, by default the annual difference (m3 m-3).

    A row per pattern (its name), a column per region.
    """
    return pd.DataFrame(result[name].transpose("pattern", "region").values,
                        index=pd.Index(result["pattern_name"].values.tolist(), name="pattern"),
                        columns=pd.Index(result["region"].values.tolist(), name="region"),
                        dtype="f8")
