"""The offline basemap as drawable lines: China's outline, provinces and major rivers.

Lines come as one (n, 2) array with NaN breaks: one NaN-separated path draws as fast as
one line, while thousands of separate paths make HoloViews build a dataset per path (tens
of seconds per session).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import shapely

from cropsm.core.grid import lonlat_to_xy
from cropsm.io.assets import read_boundary, read_provinces, read_rivers

__all__ = ["basemap_lines", "outline_lonlat", "project_lines"]

#: Simplification of the basemap, in degrees: finer than a screen pixel of the China map.
BASEMAP_TOLERANCE = 0.02


def project_lines(geoms: Iterable[Any], tolerance: float = 0.0) -> np.ndarray:
    """All lines of lon/lat ``geoms`` in grid coordinates, as one (n, 2) NaN-broken array.

    Parameters
    ----------
    geoms : iterable of shapely geometry
        Polygons (their boundaries are drawn) or lines, in lon/lat degrees.
    tolerance : float
        Simplification in degrees before projecting.
    """
    parts = []
    for geom in geoms:
        simple = shapely.simplify(geom, tolerance)
        lines = shapely.boundary(simple) if simple.geom_type.endswith("Polygon") else simple
        for part in shapely.get_parts(shapely.get_parts(lines)):
            lon, lat = np.asarray(part.coords).T[:2]
            x, y = lonlat_to_xy(lon, lat)
            parts.extend([np.column_stack([x, y]), np.full((1, 2), np.nan)])
    return np.concatenate(parts) if parts else np.empty((0, 2))


def outline_lonlat(geometry: Any, tolerance: float = 0.05) -> np.ndarray:
    """A polygon's outline in lon/lat as one NaN-separated (n, 2) path."""
    parts = []
    for part in shapely.get_parts(shapely.boundary(shapely.simplify(geometry, tolerance))):
        for line in shapely.get_parts(part):
            parts.extend([np.asarray(line.coords)[:, :2], np.full((1, 2), np.nan)])
    return np.concatenate(parts) if parts else np.empty((0, 2))


def basemap_lines() -> dict[str, np.ndarray]:
    """The basemap in grid coordinates: ``boundary``, ``provinces`` and ``rivers``."""
    return {"boundary": project_lines([read_boundary()], BASEMAP_TOLERANCE),
            "provinces": project_lines(list(read_provinces()["geometry"]), BASEMAP_TOLERANCE),
            "rivers": project_lines(read_rivers(), BASEMAP_TOLERANCE)}
