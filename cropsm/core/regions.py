"""Regions of interest: bounding boxes, provinces and polygons, checked against China.

A region is a shapely geometry in lon/lat. :func:`region_mask` turns it into the cells of
a grid window and refuses, with a message that says what to do, regions that are
invalid, empty, outside mainland China or without any cell of the grid.
"""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import box

from cropsm.core.errors import CropSMError
from cropsm.core.grid import Grid

__all__ = ["RegionError", "check_region", "parse_bbox", "province_code", "province_region",
           "region_mask"]


class RegionError(CropSMError, ValueError):
    """A region cannot be used: malformed, empty, or outside China."""


def parse_bbox(text: str) -> shapely.Polygon:
    """``"lon_min,lat_min,lon_max,lat_max"`` (degrees) to a polygon."""
    try:
        lon0, lat0, lon1, lat1 = (float(v) for v in text.split(","))
    except ValueError as err:
        raise RegionError(f"Bounding box {text!r} must be four numbers "
                          "lon_min,lat_min,lon_max,lat_max, e.g. 114,36,118,40.") from err
    if not (-180 <= lon0 < lon1 <= 180 and -90 <= lat0 < lat1 <= 90):
        raise RegionError(f"Bounding box {text!r} is empty or not in degrees; give "
                          "lon_min < lon_max and lat_min < lat_max, e.g. 114,36,118,40.")
    return box(lon0, lat0, lon1, lat1)


def _province_row(name: str, provinces):
    key = name.strip().lower()
    for _, row in provinces.iterrows():
        if key in (str(row["name_en"]).lower(), str(row["name_zh"]).lower(), str(row["adcode"])):
            return row
    # the Chinese name without 省, 市 or 自治区, as it is usually written: 河北, 内蒙古
    short = [row for _, row in provinces.iterrows()
             if len(key) >= 2 and str(row["name_zh"]).startswith(key)]
    if len(short) == 1:
        return short[0]
    names = ", ".join(sorted(str(n) for n in provinces["name_en"]))
    raise RegionError(f"No province called {name!r}; choose one of: {names}.")


def province_region(name: str, provinces) -> shapely.Geometry:
    """A province's outline by English or Chinese name, or adcode (case-insensitive)."""
    return _province_row(name, provinces)["geometry"]


def province_code(name: str, provinces) -> int:
    """A province's adcode by English or Chinese name, or adcode (case-insensitive)."""
    return int(_province_row(name, provinces)["adcode"])


def check_region(geometry, china) -> shapely.Geometry:
    """The part of ``geometry`` inside China, after checking that it is a usable region.

    Parameters
    ----------
    geometry : shapely geometry
        The region, lon/lat degrees; a self-intersecting polygon is repaired.
    china : shapely geometry
        Mainland China's outline, lon/lat degrees.

    Raises
    ------
    RegionError
        Empty, not a polygon, without area, not in degrees, or outside China.
    """
    if geometry is None or geometry.is_empty:
        raise RegionError("The region is empty; draw or pass a polygon with an area.")
    if geometry.geom_type not in ("Polygon", "MultiPolygon", "GeometryCollection"):
        raise RegionError(f"A region must be a polygon, not a {geometry.geom_type}.")
    if not geometry.is_valid:
        geometry = shapely.make_valid(geometry)
    if geometry.area == 0:
        raise RegionError("The region has no area (a line or a point); draw a polygon.")
    minx, miny, maxx, maxy = geometry.bounds
    if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        raise RegionError(f"The region's bounds {geometry.bounds} are not lon/lat degrees; "
                          "give coordinates in EPSG:4326.")
    inside = geometry.intersection(china)
    if inside.is_empty or inside.area == 0:
        raise RegionError(
            f"The region (lon {minx:.2f}..{maxx:.2f}, lat {miny:.2f}..{maxy:.2f}) is outside "
            "mainland China; CropSM covers China's mainland only.")
    return inside


def region_mask(geometry, grid: Grid, china) -> np.ndarray:
    """Cells of ``grid`` inside ``geometry`` ∩ China.

    Parameters
    ----------
    geometry : shapely geometry
        The region, lon/lat degrees.
    grid : Grid
        The analysis grid (or a window of it).
    china : shapely geometry
        Mainland China's outline, lon/lat degrees.
    """
    inside = check_region(geometry, china)
    mask = grid.mask(inside)
    if not mask.any():
        mask = grid.mask(inside, all_touched=True)
    if not mask.any():
        raise RegionError("The region covers no cell of the data's grid; draw a larger region "
                          "or one inside the data's extent.")
    return mask
