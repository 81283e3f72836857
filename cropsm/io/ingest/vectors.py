"""Vector inputs of ``cropsm ingest`` (rivers, zones) through pyogrio, in lon/lat.

GeoJSON, ESRI Shapefile and GeoPackage (any format GDAL's OGR reads) are accepted;
geometries are transformed to EPSG:4326, which :mod:`cropsm.core.landscape` expects.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyogrio.raw
import shapely
from pyproj import CRS, Transformer

from cropsm.io.readers._errors import ReaderError

__all__ = ["read_vectors"]


def read_vectors(path: Path, field: str | None = None
                 ) -> tuple[list[shapely.Geometry], np.ndarray | None]:
    """Geometries of a vector file in lon/lat, and the values of one attribute field.

    Parameters
    ----------
    path : Path
        GeoJSON, Shapefile or GeoPackage.
    field : str, optional
        Attribute to return beside the geometries (e.g. a zone code).

    Raises
    ------
    ReaderError
        The file cannot be read, has no CRS, no features or lacks ``field``.
    """
    try:
        meta, _, wkb, field_data = pyogrio.raw.read(path)
    except Exception as err:  # pyogrio raises DataSourceError, DataLayerError, ...
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ReaderError(path, f"cannot be read as a vector file ({first}); give GeoJSON, "
                                "a Shapefile or a GeoPackage.") from err
    if wkb is None or len(wkb) == 0:
        raise ReaderError(path, "has no features.")
    if meta["crs"] is None:
        raise ReaderError(path, "has no CRS (a Shapefile without .prj?); write it with one, "
                                "e.g. `ogr2ogr -a_srs EPSG:4326`.")
    geoms = list(shapely.from_wkb(wkb))
    crs = CRS.from_user_input(meta["crs"])
    if crs != CRS.from_epsg(4326):
        to_lonlat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
        def to_degrees(xy: np.ndarray) -> np.ndarray:
            return np.column_stack(to_lonlat.transform(xy[:, 0], xy[:, 1]))

        geoms = list(shapely.transform(np.asarray(geoms, dtype=object), to_degrees))
    values = None
    if field is not None:
        fields = list(meta["fields"])
        if field not in fields:
            raise ReaderError(path, f"has no field {field!r}; it has {', '.join(fields)}.")
        values = np.asarray(field_data[fields.index(field)])
    return geoms, values
