"""Each province's crop area in each drought class, day by day, published with the product.

A province's season from every 1 km cell means ranking every cell of every day against
the climatology: 63 ms a day, 23 s for Henan's 2018 (BENCHMARKS.md). The areas
are the same for every analyst who asks, so a run computes them once for the days it
predicted, and publishes them in the product store's ``province_shares`` group with the
days themselves (:func:`add_province_areas`). The Season tab's chart of a province then
reads a few kB (:func:`province_shares`).

The areas are those of :func:`cropsm.pipelines.season.region_season` at 1 km, except for
which cells make the province: here the covariates' ``province`` code (each cell in one
province, by its centre), there the outline's mask (:func:`cropsm.core.regions.
region_mask`). They differ on border cells only: equal to float32 precision for a
province whose border cells agree, within 0.01 of a share on the tests' tiny world.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from cropsm.analysis.bulletin import zonal_class_areas
from cropsm.analysis.drought import drought_grade, relative_sm
from cropsm.analysis.percentiles import PERCENTILES, drought_category, percentile_rank_cells
from cropsm.core import crops
from cropsm.io import assets
from cropsm.io.catalog import CatalogError
from cropsm.io.product import (
    SHARES_GROUP,
    ProductStore,
    decode_sm,
    filled_days,
    open_product,
    read_group,
)
from cropsm.pipelines.climatology import climatology_window
from cropsm.pipelines.season import SCHEMES
from cropsm.pipelines.sources import CatalogReader
from cropsm.serve.predict import cropland

__all__ = ["add_province_areas", "days_without_areas", "province_shares",
           "publish_province_areas"]

def _variable(scheme: str) -> str:
    return f"{scheme}_area"


def _empty(axis: pd.DatetimeIndex, codes: np.ndarray, names: np.ndarray) -> xr.Dataset:
    """Every product's areas on ``axis``, none computed (the root's crop and depth order)."""
    text = np.dtypes.StringDType()  # Zarr's variable-length strings, as the root's
    coords: dict[str, Any] = {"crop": np.array(crops.CROPS, dtype=text),
                              "depth": np.array(crops.DEPTHS, dtype=text), "time": axis,
                              "province": codes,
                              "province_name": ("province", np.array(names, dtype=text))}
    data = {}
    for scheme, (classes, _) in SCHEMES.items():
        coords[scheme] = np.array(classes, dtype=text)
        shape = (len(crops.CROPS), len(crops.DEPTHS), len(axis), len(codes), len(classes))
        data[_variable(scheme)] = xr.DataArray(
            np.full(shape, np.nan, "f4"), dims=("crop", "depth", "time", "province", scheme),
            attrs={"units": "km2", "long_name": f"crop area in each drought {scheme} "
                                                "(harvested fraction x cell area); NaN: "
                                                "not computed"})
    return xr.Dataset(data, coords=coords)


def _provenance(reader: CatalogReader) -> dict[str, str]:
    """The published versions the areas are computed from (cells, weights, thresholds)."""
    return {"covariates_version": reader.entry_version("covariates"),
            "climatology_version": reader.climatology_version()}


def _stale(shares: xr.Dataset, provenance: dict[str, str]) -> tuple[bool, bool]:
    """Whether all the areas, and whether the categories, come from other inputs."""
    attrs = shares.attrs
    return (attrs.get("covariates_version") != provenance["covariates_version"],
            attrs.get("climatology_version") != provenance["climatology_version"])


def _ranked(clim: xr.Dataset | None, crop: str, depth: str) -> bool:
    """Whether the climatology has the product, so its days get percentile categories."""
    return clim is not None and crop in clim["crop"].values and depth in clim["depth"].values


def _existing(store: ProductStore, axis: pd.DatetimeIndex, codes: np.ndarray,
              names: np.ndarray, provenance: dict[str, str]) -> xr.Dataset:
    """The store's areas to update, or none computed if they are on another layout."""
    old = store.read_group(SHARES_GROUP)
    if old is None or not pd.DatetimeIndex(old["time"].values).equals(axis) or \
            not np.array_equal(old["province"].values, codes) or _stale(old, provenance)[0]:
        return _empty(axis, codes, names)
    if _stale(old, provenance)[1]:
        old["category_area"][:] = np.nan  # ranked against another climatology
    return old


def add_province_areas(store: ProductStore, reader: CatalogReader,
                       products: Sequence[tuple[str, str]], days: pd.DatetimeIndex,
                       axis: pd.DatetimeIndex, region: np.ndarray | None = None) -> None:
    """Compute the province areas of ``days`` from a finished partial store, into it.

    Parameters
    ----------
    store : ProductStore
        The run's partial store, its days written.
    reader : CatalogReader
        The catalog: covariates and, for the percentile categories, the climatology
        (without one, only the GB/T grades are computed).
    products : sequence of (str, str)
        The run's crop and depth pairs.
    days : pandas.DatetimeIndex
        The run's days.
    axis : pandas.DatetimeIndex
        The store's time axis.
    region : numpy.ndarray, optional
        The run's cells when it predicted a region only: the days' areas are then
        cleared, since a province's cells outside the region keep older values.
    """
    provinces = assets.read_provinces().sort_values("adcode")
    codes = provinces["adcode"].to_numpy("i8")
    names = provinces["name_en"].to_numpy(str)
    provenance = _provenance(reader)
    clim = reader.climatology() if provenance["climatology_version"] else None
    shares = _existing(store, axis, codes, names, provenance)
    shares.attrs.update(provenance)
    at = axis.get_indexer(days)
    if region is not None:
        for scheme in SCHEMES:
            shares[_variable(scheme)][:, :, at] = np.nan
        store.replace_group(SHARES_GROUP, shares)
        return
    cov = reader.dataset("covariates")[["crop_fraction", "fc", "province"]].load()
    province = cov["province"].values
    x, y = cov["x"].values, cov["y"].values
    for crop, depth in products:
        cells = cropland(cov, crop) & np.isin(province, codes)
        rows, cols = np.nonzero(cells)
        zones = np.searchsorted(codes, province[rows, cols])
        area = cov["crop_fraction"].sel(crop=crop).values[rows, cols] * reader.grid.cell_area_km2
        fc = cov["fc"].values[rows, cols]
        c, d = crops.CROPS.index(crop), crops.DEPTHS.index(depth)
        for k, day in enumerate(days):
            encoded = store.read(".", "sm", (slice(c, c + 1), slice(d, d + 1),
                                             slice(at[k], at[k] + 1), slice(None), slice(None)))
            sm = decode_sm(encoded[0, 0, 0][rows, cols])
            grade = drought_grade(relative_sm(sm, fc))
            shares["grade_area"][c, d, at[k]] = zonal_class_areas(
                grade[None], zones, len(codes), len(SCHEMES["grade"][0]), area)[0]
            if clim is not None and _ranked(clim, crop, depth):
                record, iy, ix = climatology_window(clim, "sm_threshold", crop, depth, [day],
                                                    x, y)
                ranks = percentile_rank_cells(sm, record[0], iy[rows], ix[cols], PERCENTILES)
                shares["category_area"][c, d, at[k]] = zonal_class_areas(
                    drought_category(ranks)[None], zones, len(codes),
                    len(SCHEMES["category"][0]), area)[0]
    store.replace_group(SHARES_GROUP, shares)


def province_shares(reader: CatalogReader, crop: str, depth: str, province: int,
                    days: Sequence[Any], scheme: str = "category") -> pd.DataFrame:
    """A province's daily share of graded crop area in each class, as published.

    What :func:`cropsm.pipelines.season.region_season` gives at 1 km for the province
    (its ``shares``), read from the product store instead of computed.

    Parameters
    ----------
    reader : CatalogReader
    crop, depth : str
    province : int
        The province's adcode.
    days : sequence of date-like
        The days wanted.
    scheme : {"category", "grade"}

    Returns
    -------
    pandas.DataFrame
        Index ``time``, one column per class, rows summing to 1 (NaN on a day with no
        graded cell).

    Raises
    ------
    cropsm.io.catalog.CatalogError
        The store has no areas for one of the days (a store published before they
        existed, a region run, or categories ranked against another climatology):
        compute the season with ``region_season`` instead.
    """
    names, _ = SCHEMES[scheme]
    shares = reader.province_shares()
    wanted = pd.DatetimeIndex(pd.to_datetime(list(days)))
    if shares is None or crop not in shares["crop"].values or depth not in shares[
            "depth"].values or province not in shares["province"].values:
        raise CatalogError(f"The product store has no published province areas of "
                           f"{crop}/{depth} for province {province}.")
    other_covariates, other_climatology = _stale(shares, _provenance(reader))
    if other_covariates:
        raise CatalogError("The published province areas were computed on other "
                           "covariates.")
    if scheme == "category" and other_climatology:
        raise CatalogError("The published categories were ranked against another "
                           "climatology.")
    held = pd.DatetimeIndex(shares["time"].values)
    if not wanted.isin(held).all():
        raise CatalogError("The product store's time axis lacks some of the days.")
    area = shares[_variable(scheme)].sel(crop=crop, depth=depth, province=province,
                                         time=wanted).values.astype("f8")
    if np.isnan(area).any():
        raise CatalogError("The product store has no published province areas for some "
                           "of the days.")
    total = area.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(total > 0, area / total, np.nan)
    return pd.DataFrame(out, index=pd.DatetimeIndex(wanted, name="time"),
                        columns=list(names))


def days_without_areas(reader: CatalogReader, target: str | Path,
                       products: Sequence[tuple[str, str]]) -> pd.DatetimeIndex:
    """Days a published store holds whose province areas are missing or stale.

    Missing: never computed (a store published before the areas existed, or a region
    run). Stale: computed on other covariates, or percentile categories ranked against
    another climatology or computed before there was one.
    """
    filled = filled_days(target)
    shares = read_group(target, SHARES_GROUP)
    if shares is None:
        return filled
    held = pd.DatetimeIndex(shares["time"].values)
    provenance = _provenance(reader)
    other_covariates, other_climatology = _stale(shares, provenance)
    if not filled.isin(held).all() or other_covariates:
        return filled
    clim = reader.climatology() if provenance["climatology_version"] else None
    missing = np.zeros(len(filled), bool)
    for crop, depth in products:
        names = ["grade_area"]
        if _ranked(clim, crop, depth):
            if other_climatology:
                return filled
            names.append("category_area")
        for name in names:
            area = shares[name].sel(crop=crop, depth=depth, time=filled)
            missing |= area.isnull().any(("province", name.removesuffix("_area"))).values
    return filled[missing]


def publish_province_areas(reader: CatalogReader, target: str | Path,
                           products: Sequence[tuple[str, str]],
                           days: pd.DatetimeIndex) -> Path:
    """Add the province areas of ``days`` to a published store, as a new version.

    The new version is the old one's files hard-linked, plus the new group; a server
    reading the old version goes on reading it.
    """
    target = Path(target)
    published = target.resolve()
    with open_product(published, dask=False) as ds:
        axis = pd.DatetimeIndex(ds["time"].values)
    # named after its base: a partial left by a crash is resumed only onto the same
    # version, never published over newer days
    partial = target.parent / ".versions" / f"{target.name}.partial-areas-{published.name}"
    store = ProductStore.create(partial, reader.dataset("covariates"), axis, {},
                                base=published)
    add_province_areas(store, reader, products, days, axis)
    return store.publish(target)
