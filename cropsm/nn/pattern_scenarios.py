"""The network paper's gridded analyses on a region (Liu et al. 2021, Eq. 1-2, Figs. 9-10).

* **Reference product**: each pixel's SM is the sum over cropping patterns of the SM the
  network predicts under that pattern, weighted by Liu et al.'s Eq. 1
  (:func:`cropsm.core.patterns.liu_weights`: the harvested area of each pattern's crops)
  or, with ``weighting="area"``, by the pattern's share of the pixel's cropland
  (``pattern_fraction``, the partition the demo world's fields follow).
* **Alternative-pattern scenario**: the whole region under one pattern, minus the
  reference; summarised by month (the seasonal differences of Fig. 10). Over all
  cropland and by Liu's regions: :mod:`cropsm.nn.pattern_regions`.
* **Control-experiment maps** (Fig. 6): each reduced network minus the full network.
* **Quality flags**, stored with the output: ``time_flag`` is 1 on dates inside the
  stations' observation period; ``pattern_flag`` is 1 where the pattern predicted at a
  pixel (the scenario's, or the pixel's dominant one for the reference) is observed at
  stations of the pixel's agricultural zone.

Nothing here writes; results are xarray objects for the dashboard and the exports.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from cropsm.core import patterns
from cropsm.core.regions import RegionError
from cropsm.nn.network import NETWORK_FEATURES, MultilayerNetwork, check_layer, features_at

__all__ = ["WEIGHTINGS", "RegionInputs", "control_maps", "pattern_scenario", "pattern_sm",
           "pattern_weights", "predict_region", "quality_flags", "reference_product",
           "region_inputs", "seasonal_difference"]

#: How the reference product weights the patterns: Liu et al.'s Eq. 1, or the cropland
#: partition of ``pattern_fraction``.
WEIGHTINGS: dict[str, str] = {
    "liu": "Liu et al. (2021) Eq. 1: harvested area of each pattern's crops",
    "area": "share of the pixel's cropland (pattern_fraction)",
}


def pattern_weights(covariates: xr.Dataset, rows: slice, cols: slice,
                    weighting: str = "liu") -> np.ndarray:
    """Weights of the patterns at a window's pixels, ``(4, ny, nx)`` (see :data:`WEIGHTINGS`)."""
    if weighting not in WEIGHTINGS:
        raise ValueError(f"Unknown weighting {weighting!r}; choose one of "
                         f"{', '.join(WEIGHTINGS)}.")
    if weighting == "area":
        return np.asarray(covariates["pattern_fraction"].isel(y=rows, x=cols).values)
    window = covariates[["crop_fraction", "spring_wheat"]].isel(y=rows, x=cols)
    return patterns.liu_weights(window["crop_fraction"].sel(crop="wheat").values,
                                window["crop_fraction"].sel(crop="maize").values,
                                window["spring_wheat"].values)


def _cells(covariates: xr.Dataset, rows: slice, cols: slice, region: np.ndarray):
    pattern = covariates["cropping_pattern"].isel(y=rows, x=cols).values
    rr, cc = np.nonzero(region & (pattern > 0))
    if rr.size == 0:
        raise RegionError("The region has no cropland of the network's patterns; draw it over "
                         "wheat or maize land.")
    return rr, cc


@dataclass(frozen=True)
class RegionInputs:
    """The network's inputs on a window's cropland cells x dates, computed once."""

    x: pd.DataFrame
    cells: tuple[np.ndarray, np.ndarray]
    dates: pd.DatetimeIndex
    coords: dict


def region_inputs(covariates: xr.Dataset, daily: xr.Dataset, rows: slice, cols: slice,
                  region: np.ndarray, dates) -> RegionInputs:
    """Inputs of every cropland cell and date of a window (each cell's dominant pattern)."""
    dates = pd.DatetimeIndex(dates)
    rr, cc = _cells(covariates, rows, cols, region)
    x = features_at(covariates, daily, np.tile(rr + rows.start, len(dates)),
                    np.tile(cc + cols.start, len(dates)), np.repeat(dates.values, rr.size))
    window = covariates.isel(y=rows, x=cols)
    return RegionInputs(x, (rr, cc), dates, {"time": dates, "y": window["y"].values,
                                             "x": window["x"].values})


def pattern_sm(network: MultilayerNetwork, x: pd.DataFrame, layer: str,
               pattern: int | None) -> np.ndarray:
    """The network's SM of ``layer`` for input rows ``x``, every row under ``pattern``.

    ``x`` holds :data:`cropsm.nn.network.NETWORK_FEATURES` (:func:`features_at`); only
    its one-hot pattern columns change. None keeps the rows' own patterns.
    """
    if pattern is not None:
        x = x.assign(**{f"pattern_{c}": np.float32(c == pattern) for c in patterns.PATTERNS})
    return network.predict(x[list(NETWORK_FEATURES)], upto=layer)[layer]


def _predict(network: MultilayerNetwork, inputs: RegionInputs, shape: tuple[int, int],
             layer: str, pattern: int | None) -> xr.DataArray:
    rr, cc = inputs.cells
    sm = pattern_sm(network, inputs.x, layer, pattern)
    out = np.full((len(inputs.dates),) + shape, np.nan, "f4")
    out[:, rr, cc] = sm.reshape(len(inputs.dates), rr.size)
    return xr.DataArray(out, dims=("time", "y", "x"), coords=inputs.coords, name="sm",
                        attrs={"units": "m3 m-3", "layer": layer,
                               "pattern": "dominant" if pattern is None
                               else patterns.PATTERNS[pattern]})


def predict_region(network: MultilayerNetwork, covariates: xr.Dataset, daily: xr.Dataset,
                   rows: slice, cols: slice, region: np.ndarray, dates, layer: str,
                   pattern: int | None = None, inputs: RegionInputs | None = None
                   ) -> xr.DataArray:
    """Network SM of ``layer`` on a window's cropland cells, ``(time, y, x)``.

    ``pattern`` forces one cropping pattern on every cell; None uses each pixel's
    dominant pattern. ``inputs`` (:func:`region_inputs` of the same window and dates)
    saves recomputing them.
    """
    check_layer(layer)
    if pattern is not None:
        pattern = patterns.check_pattern(pattern, covariates.attrs.get("patterns_present"))
    inputs = inputs or region_inputs(covariates, daily, rows, cols, region, dates)
    return _predict(network, inputs, region.shape, layer, pattern)


def reference_product(network: MultilayerNetwork, covariates: xr.Dataset, daily: xr.Dataset,
                      rows: slice, cols: slice, region: np.ndarray, dates, layer: str,
                      inputs: RegionInputs | None = None, weighting: str = "liu"
                      ) -> xr.DataArray:
    """Pattern-weighted SM (Eq. 1-2): ``sum_p weight_p * SM_p`` on the region's cropland.

    ``weighting`` is a key of :data:`WEIGHTINGS`: Liu et al.'s Eq. 1 by default.
    """
    check_layer(layer)
    weights = pattern_weights(covariates, rows, cols, weighting)
    inputs = inputs or region_inputs(covariates, daily, rows, cols, region, dates)
    total = None
    for k, code in enumerate(patterns.PATTERNS):
        weight = np.where(region, weights[k], 0.0)
        if not (weight > 0).any():
            continue
        sm = _predict(network, inputs, region.shape, layer, code)
        part = np.where(weight > 0, sm.values * weight, 0.0)
        total = part if total is None else total + part
        template = sm
    if total is None:
        raise RegionError("The region has no cropland of the network's patterns; draw it over "
                         "wheat or maize land.")
    cropland = region & (weights.sum(axis=0) > 0)
    out = template.copy(data=np.where(cropland, total, np.nan).astype("f4"))
    out.attrs["pattern"] = f"reference (weighted: {WEIGHTINGS[weighting]})"
    return out


def quality_flags(covariates: xr.Dataset, stations: pd.DataFrame, station_meta: pd.DataFrame,
                  rows: slice, cols: slice, dates, pattern: int | None = None) -> xr.Dataset:
    """``time_flag`` (time) and ``pattern_flag`` (y, x) of an output, 1 = supported.

    ``pattern`` is the pattern the output assumes everywhere; None: each pixel's own.
    """
    dates = pd.DatetimeIndex(dates)
    observed = pd.DatetimeIndex(stations["date"])
    time_flag = (dates >= observed.min()) & (dates <= observed.max())
    window = covariates[["zone", "cropping_pattern"]].isel(y=rows, x=cols)
    zone = window["zone"].values
    assumed = (window["cropping_pattern"].values if pattern is None
               else np.full(zone.shape, patterns.check_pattern(pattern), "i1"))
    seen = set(zip(station_meta["zone"].astype(int), station_meta["pattern"].astype(int),
                   strict=True))
    flag = np.zeros(zone.shape, "i1")
    for z, p in seen:
        flag[(zone == z) & (assumed == p)] = 1
    return xr.Dataset(
        {"time_flag": ("time", time_flag.astype("i1"),
                       {"long_name": "Date inside the stations' observation period",
                        "flag_values": [0, 1]}),
         "pattern_flag": (("y", "x"), flag,
                          {"long_name": "Pattern observed at stations of the pixel's zone",
                           "flag_values": [0, 1]})},
        coords={"time": dates, "y": window["y"].values, "x": window["x"].values})


def pattern_scenario(network: MultilayerNetwork, covariates: xr.Dataset, daily: xr.Dataset,
                     stations: pd.DataFrame, station_meta: pd.DataFrame, rows: slice,
                     cols: slice, region: np.ndarray, dates, layer: str, pattern: int | str,
                     weighting: str = "liu") -> xr.Dataset:
    """The region under one cropping pattern, against the reference product.

    ``weighting`` is the reference product's (:data:`WEIGHTINGS`).

    Returns
    -------
    xarray.Dataset
        ``reference``, ``scenario`` and ``difference`` (scenario - reference) SM on
        ``(time, y, x)``, with ``time_flag`` and ``pattern_flag`` (of the scenario).
    """
    code = patterns.check_pattern(pattern, covariates.attrs.get("patterns_present"))
    inputs = region_inputs(covariates, daily, rows, cols, region, dates)
    reference = reference_product(network, covariates, daily, rows, cols, region, dates, layer,
                                  inputs, weighting)
    scenario = _predict(network, inputs, region.shape, layer, code)
    scenario = scenario.where(np.isfinite(reference))
    out = xr.Dataset({"reference": reference, "scenario": scenario,
                      "difference": scenario - reference})
    out = out.merge(quality_flags(covariates, stations, station_meta, rows, cols, dates, code))
    if "spatial_ref" in covariates:
        out["spatial_ref"] = covariates["spatial_ref"]
        for name in ("reference", "scenario", "difference", "pattern_flag"):
            out[name].attrs["grid_mapping"] = "spatial_ref"
    out.attrs.update(layer=layer, pattern=patterns.PATTERNS[code],
                     method="multilayer network (Liu et al. 2021)",
                     reference_weighting=WEIGHTINGS[weighting])
    return out


def seasonal_difference(result: xr.Dataset, zones: xr.DataArray | None = None) -> pd.DataFrame:
    """Mean scenario - reference difference per month (and zone, if given)."""
    diff = result["difference"]
    month = pd.DatetimeIndex(diff["time"].values).month
    if zones is None:
        frame = diff.mean(("y", "x")).to_series().rename("difference").to_frame()
        return frame.groupby(month).mean().rename_axis("month").reset_index()
    rows = []
    for zone in np.unique(zones.values[zones.values > 0]):
        series = diff.where(zones == zone).mean(("y", "x")).to_series()
        means = series.groupby(month).mean()
        for m, value in zip(means.index, means, strict=True):
            rows.append({"zone": int(zone), "month": int(m), "difference": float(value)})
    return pd.DataFrame(rows, columns=["zone", "month", "difference"])



def control_maps(full: MultilayerNetwork, reduced: dict[str, MultilayerNetwork],
                 covariates: xr.Dataset, daily: xr.Dataset, rows: slice, cols: slice,
                 region: np.ndarray, dates, layer: str) -> xr.Dataset:
    """Each reduced network minus the full one on a region (Liu et al. 2021, Fig. 6).

    Parameters
    ----------
    full : MultilayerNetwork
        The network with every input.
    reduced : dict of str to MultilayerNetwork
        Networks trained without a feature group (``cropsm network train --omit``), by
        group.
    rows, cols, region, dates, layer
        As for :func:`predict_region`; each cell runs under its dominant pattern.

    Returns
    -------
    xarray.Dataset
        ``full`` SM and one ``without_<group>`` difference (reduced - full, m³ m⁻³) per
        group, on ``(time, y, x)``, NaN off the region's cropland.
    """
    if not reduced:
        raise RegionError("No reduced networks to compare: train them with "
                          "`cropsm network train --omit GROUP`.")
    inputs = region_inputs(covariates, daily, rows, cols, region, dates)
    base = _predict(full, inputs, region.shape, layer, None)
    out = {"full": base}
    for group, network in reduced.items():
        sm = _predict(network, inputs, region.shape, layer, None)
        out[f"without_{group}"] = (sm - base).assign_attrs(
            units="m3 m-3", long_name=f"network without {group} minus the full network")
    return xr.Dataset(out, attrs={"layer": layer,
                                  "method": "multilayer network (Liu et al. 2021), Fig. 6"})
