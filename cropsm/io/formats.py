"""Writers of real-world file formats: GeoTIFF, CF netCDF and GeoJSON, plus regridding.

These are the formats ``cropsm ingest`` reads (``docs/ingest.md``); ``cropsm demo
export`` writes the demo world in them. Rasters are laid out on a :class:`Grid`, the
one description of a north-up raster in CropSM, whatever its CRS (a lon/lat grid has
``crs="EPSG:4326"`` and degrees for x and y).

GeoTIFF
    float32, nodata NaN, DEFLATE with the floating-point predictor, tiled; the unit as
    the GDAL band unit and as a ``units`` metadata tag (rioxarray reads the tag into
    ``attrs["units"]``).
CF netCDF
    netCDF-4 with ascending ``lat`` and ``lon`` in degrees, a ``spatial_ref`` grid
    mapping for EPSG:4326, float32 variables compressed with zlib.
GeoJSON
    RFC 7946 FeatureCollection in lon/lat (EPSG:4326).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import rioxarray  # noqa: F401  (registers the .rio accessor)
import shapely
import xarray as xr
from pyproj import Transformer
from rasterio.enums import Resampling

from cropsm.core.grid import Grid

__all__ = ["LONLAT", "covering_grid", "reproject", "write_cf_netcdf", "write_geojson",
           "write_geotiff"]

#: CRS of lon/lat grids and vector files.
LONLAT = "EPSG:4326"

# Points per edge when projecting a grid's bounds: a straight edge in one CRS is a curve
# in another, and its extreme may lie between the corners.
_DENSIFY = 21


def covering_grid(grid: Grid, crs: str, resolution: float) -> Grid:
    """The grid of ``resolution`` in ``crs`` that covers ``grid``, aligned to whole cells.

    Parameters
    ----------
    grid : Grid
        The source grid.
    crs : str
        Target CRS, e.g. ``"EPSG:4326"`` or ``"EPSG:32650"``.
    resolution : float
        Target cell size in the target CRS's units (degrees or metres).

    Returns
    -------
    Grid
        Its cell edges fall on whole multiples of ``resolution`` (as real products'
        do), so it reaches a little beyond ``grid`` on every side.
    """
    bounds = Transformer.from_crs(grid.crs, crs, always_xy=True).transform_bounds(
        *grid.bounds, densify_pts=_DENSIFY)
    return Grid.from_bounds(*bounds, resolution=resolution, crs=crs)


def reproject(values: np.ndarray, src: Grid, dst: Grid, resampling: str) -> np.ndarray:
    """Warp a field from ``src`` onto ``dst`` with GDAL (through rioxarray).

    Parameters
    ----------
    values : numpy.ndarray
        Shape ``(..., rows, cols)`` of ``src``, at most one leading dimension; NaN is
        missing.
    src, dst : Grid
        Source and destination grids.
    resampling : str
        A :class:`rasterio.enums.Resampling` name: ``"nearest"``, ``"bilinear"``,
        ``"average"``, ...

    Returns
    -------
    numpy.ndarray
        float32, shape ``(..., *dst.shape)``; NaN where no source cell contributes.
    """
    dims = ("band", "y", "x")[-values.ndim:]
    da = xr.DataArray(np.asarray(values, "f4"), dims=dims,
                      coords={"y": src.y, "x": src.x})
    da = da.rio.write_crs(src.crs).rio.write_nodata(np.nan, encoded=False)
    out = da.rio.reproject(dst.crs, shape=dst.shape, transform=dst.transform,
                           resampling=Resampling[resampling], nodata=np.nan)
    return np.asarray(out.values, "f4")


def write_geotiff(values: np.ndarray, grid: Grid, path: str | Path, units: str,
                  tags: Mapping[str, str] | None = None) -> Path:
    """Write one band as a float32 GeoTIFF with nodata NaN and its unit.

    Parameters
    ----------
    values : numpy.ndarray
        ``grid.shape`` values, north row first; NaN is nodata.
    grid : Grid
        Where the values lie (its CRS and transform go into the file).
    path : str or Path
        Output ``.tif``; its folder must exist.
    units : str
        UDUNITS string of the values, e.g. ``"m3 m-3"``, ``"%"`` or ``"day"``.
    tags : mapping, optional
        Further dataset metadata tags (e.g. provenance).

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    path = Path(path)
    da = xr.DataArray(np.asarray(values, "f4"), dims=("y", "x"),
                      coords={"y": grid.y, "x": grid.x})
    da = (da.rio.write_crs(grid.crs).rio.write_transform(grid.transform)
          .rio.write_nodata(np.nan, encoded=False))
    da.rio.to_raster(path, tags={**(tags or {}), "units": units}, compress="DEFLATE",
                     predictor=3, tiled=True, blockxsize=256, blockysize=256)
    # GDAL's own place for a band's unit, shown by gdalinfo and QGIS; the tag above is
    # what rioxarray and other readers of metadata tags see
    with rasterio.open(path, "r+") as dst:
        dst.units = (units,)
    return path


def write_cf_netcdf(ds: xr.Dataset, path: str | Path,
                    attrs: Mapping[str, str] | None = None) -> Path:
    """Write lon/lat fields as a CF-1.10 netCDF-4 file.

    Parameters
    ----------
    ds : xarray.Dataset
        Variables on ``(time, lat, lon)`` or ``(month, lat, lon)`` (monthly normals,
        months 1-12) with ascending, evenly spaced ``lat`` and ``lon`` (degrees, WGS84)
        and a datetime ``time``; each variable's ``units`` attribute must be set.
    path : str or Path
        Output ``.nc``; its folder must exist.
    attrs : mapping, optional
        Global attributes (``title``, ``source``, ...).

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ValueError
        A variable without units, or descending coordinates.
    """
    path = Path(path)
    for name, var in ds.data_vars.items():
        if "units" not in var.attrs:
            raise ValueError(f"variable {name!r} has no units attribute")
    for axis in ("lat", "lon"):
        if ds.sizes[axis] > 1 and not bool((np.diff(ds[axis].values) > 0).all()):
            raise ValueError(f"coordinate {axis!r} must be ascending")
    out = ds.copy()
    out["lat"].attrs = {"standard_name": "latitude", "long_name": "latitude",
                        "units": "degrees_north", "axis": "Y"}
    out["lon"].attrs = {"standard_name": "longitude", "long_name": "longitude",
                        "units": "degrees_east", "axis": "X"}
    if "time" in out.coords:
        out["time"].attrs = {"standard_name": "time", "axis": "T"}
    else:
        out["month"].attrs = {"long_name": "month of the year", "units": "1"}
    out = out.rio.set_spatial_dims(x_dim="lon", y_dim="lat").rio.write_crs(LONLAT)
    for name in out.data_vars:
        # rioxarray keeps the link in .encoding, which the encoding below replaces
        out[name].attrs["grid_mapping"] = "spatial_ref"
    out.attrs = {"Conventions": "CF-1.10", **(attrs or {})}
    encoding: dict[str, dict[str, Any]] = {
        name: {"dtype": "f4", "zlib": True, "complevel": 4, "shuffle": True,
               "_FillValue": np.float32(np.nan)}
        for name in out.data_vars}
    if "time" in out.coords:
        first = np.datetime64(out["time"].values[0], "D")
        encoding["time"] = {"units": f"days since {first}", "calendar": "standard",
                            "dtype": "i4", "_FillValue": None}
    # CF: coordinate variables have no missing values, so no fill value either
    encoding["lat"] = encoding["lon"] = {"_FillValue": None}
    out.to_netcdf(path, engine="netcdf4", format="NETCDF4", encoding=encoding)
    return path


def write_geojson(geometries: Iterable[Any], path: str | Path,
                  properties: Iterable[Mapping[str, Any]] | None = None) -> Path:
    """Write shapely geometries in lon/lat as a GeoJSON FeatureCollection.

    Parameters
    ----------
    geometries : iterable of shapely geometry
        In lon/lat degrees (WGS84), as RFC 7946 requires.
    path : str or Path
        Output ``.geojson``; its folder must exist.
    properties : iterable of mapping, optional
        One JSON-serialisable mapping per geometry.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    geoms = list(geometries)
    props = list(properties) if properties is not None else [{} for _ in geoms]
    features = [{"type": "Feature", "properties": dict(p),
                 "geometry": json.loads(shapely.to_geojson(g))}
                for g, p in zip(geoms, props, strict=True)]
    path = Path(path)
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}),
                    encoding="utf-8")
    return path
