"""The layout of the ``covariates`` store, shared by ``cropsm demo build`` and ``cropsm ingest``.

Both write the same coordinates, the same flag variables (zone, province, cropping
pattern, spring wheat) and the same grid mapping, so readers cannot tell them apart
by layout; only the values and their ``long_name`` differ.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import xarray as xr

from cropsm.core import crops, landscape, patterns
from cropsm.core.grid import Grid

__all__ = ["YX", "class_layers", "covariates_dataset"]

YX = ("y", "x")


def class_layers(zone: np.ndarray, adcode: np.ndarray, shares: np.ndarray,
                 spring: np.ndarray, zone_source: str, spring_rule: str
                 ) -> dict[str, xr.DataArray]:
    """The flag layers of the store, with CF flag attributes.

    Parameters
    ----------
    zone, adcode : numpy.ndarray
        Zone code (:data:`cropsm.core.landscape.ZONES`, 0 outside) and province adcode of
        each cell.
    shares : numpy.ndarray
        ``(pattern, y, x)`` share of each cropping pattern; the dominant one is stored.
    spring : numpy.ndarray of bool
        Wheat is spring wheat.
    zone_source, spring_rule : str
        How zones and spring wheat were decided, for their ``long_name``.
    """
    def flags(values, long_name: str, codes, meanings) -> xr.DataArray:
        return xr.DataArray(values, dims=YX).assign_attrs(
            long_name=long_name, units="1", flag_values=list(codes),
            flag_meanings=" ".join(meanings), grid_mapping="spatial_ref")

    return {
        "zone": flags(zone.astype("i1"), f"Agricultural zone ({zone_source})",
                      landscape.ZONES, (a for a, _ in landscape.ZONES.values())),
        "province": xr.DataArray(adcode.astype("i4"), dims=YX).assign_attrs(
            long_name="Province adcode", units="1", grid_mapping="spatial_ref"),
        "cropping_pattern": flags(patterns.dominant_pattern(shares),
                                  "Dominant cropping pattern", patterns.PATTERNS,
                                  (n.replace(" + ", "_plus_").replace(" ", "_")
                                   for n in patterns.PATTERNS.values())),
        "spring_wheat": flags(spring.astype("i1"), f"Wheat is spring wheat ({spring_rule})",
                              (0, 1), ("winter_wheat", "spring_wheat")),
    }


def covariates_dataset(variables: Mapping[str, xr.DataArray], grid: Grid,
                       shares: np.ndarray, **attrs) -> xr.Dataset:
    """The store's dataset: coordinates, grid mapping and global attributes.

    Parameters
    ----------
    variables : mapping
        Name -> variable on ``(y, x)``, ``(month, y, x)``, ``(crop, y, x)`` or
        ``(pattern, y, x)``.
    grid : Grid
        The 1 km grid (window) the variables are on.
    shares : numpy.ndarray
        ``(pattern, y, x)`` pattern shares: ``patterns_present`` lists those above 0.
    **attrs
        Global attributes (``title``, ``profile``, ...); ``Conventions`` is set.
    """
    coords = {
        "y": ("y", grid.y, {"standard_name": "projection_y_coordinate", "units": "m",
                            "axis": "Y"}),
        "x": ("x", grid.x, {"standard_name": "projection_x_coordinate", "units": "m",
                            "axis": "X"}),
        "crop": ("crop", np.array(crops.CROPS, dtype=object)),
        "month": ("month", np.arange(1, 13, dtype="i1")),
        "pattern": ("pattern", np.array(list(patterns.PATTERNS), dtype="i1")),
    }
    ds = xr.Dataset(dict(variables), coords=coords)
    ds["spatial_ref"] = xr.DataArray(np.int32(0), attrs=grid.cf_grid_mapping())
    ds.attrs.update(Conventions="CF-1.10", **attrs,
                    patterns_present=[int(c) for c in patterns.PATTERNS
                                      if (shares[c - 1] > 0).any()])
    return ds
