"""Readers for the real data bundled with the package (``cropsm/_assets``).

The files are package data, so an installed wheel carries them; ``CROPSM_ASSETS``
(:func:`cropsm.config.settings`) points the readers at another copy. Sources and licences
are in ``cropsm/_assets/ATTRIBUTION.md``.
"""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

import numpy as np
import pandas as pd
import rasterio
import shapely
import xarray as xr
from shapely.geometry import shape

from cropsm.config import settings
from cropsm.core.errors import CropSMError

__all__ = [
    "AssetError",
    "assets_dir",
    "read_boundary",
    "read_crop_calendar",
    "read_dem",
    "read_geojson",
    "read_ghcn_daily",
    "read_provinces",
    "read_rivers",
]

# Worldcereal file prefixes: winter wheat and the main maize season.
_CALENDAR_PREFIX = {"wheat": "WW", "maize": "M1"}


def assets_dir() -> Path:
    """Folder of the real data the demo world is built on.

    Returns
    -------
    pathlib.Path
        ``CROPSM_ASSETS`` if set, else the package's bundled ``_assets`` folder.

    Raises
    ------
    AssetError
        The folder does not exist, or the package is not installed as plain files.
    """
    override = settings().assets
    if override is not None:
        if not override.is_dir():
            raise AssetError(f"Asset folder {override} (CROPSM_ASSETS) not found; "
                                    "unset CROPSM_ASSETS to use the bundled data.")
        return override
    bundled = files("cropsm").joinpath("_assets")
    # rasterio and netCDF4 open paths, not streams: the package must be plain files on
    # disk (a wheel install or a checkout), not a zip
    if not isinstance(bundled, Path) or not bundled.is_dir():
        raise AssetError(f"Bundled asset folder {bundled} not found; reinstall "
                                "cropsm from a wheel or set CROPSM_ASSETS.")
    return bundled


class AssetError(CropSMError, OSError):
    """A bundled or user-given map file (GeoJSON, raster) that cannot be read."""


def _features(path: Path) -> list[dict]:
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)["features"]
    except (OSError, ValueError, KeyError) as err:
        raise AssetError(f"Cannot read GeoJSON {path}: {err}") from err


def read_geojson(path: str | Path):
    """Union of the polygons of a GeoJSON file (FeatureCollection, Feature or geometry)."""
    try:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
    except (OSError, ValueError) as err:
        raise AssetError(f"Cannot read region file {path}: {err}") from err
    if not isinstance(doc, dict):
        raise AssetError(f"Region file {path} holds a JSON {type(doc).__name__}, not a "
                         "GeoJSON object; export the region as GeoJSON.")
    try:
        if doc.get("type") == "FeatureCollection":
            geoms = [f.get("geometry") for f in doc.get("features", [])]
        elif doc.get("type") == "Feature":
            geoms = [doc.get("geometry")]
        else:
            geoms = [doc]
        return shapely.union_all([shape(g) for g in geoms if g])
    except (ValueError, TypeError, AttributeError, KeyError,
            shapely.errors.GEOSException) as err:
        raise AssetError(f"Region file {path} holds no valid GeoJSON geometry ({err}); "
                         "export the region as GeoJSON polygons.") from err


def read_boundary() -> shapely.MultiPolygon | shapely.Polygon:
    """China's national boundary (lon/lat, WGS84), including islands."""
    feats = _features(assets_dir() / "maps" / "cn_national_simplified_0p01.geojson")
    boundary = shapely.union_all([shape(f["geometry"]) for f in feats])
    if not isinstance(boundary, shapely.MultiPolygon | shapely.Polygon):
        raise AssetError(f"China's boundary file holds a {boundary.geom_type}, not polygons.")
    return boundary


def read_provinces() -> pd.DataFrame:
    """Provinces as a table with ``adcode``, ``name_en``, ``name_zh`` and ``geometry`` (lon/lat)."""
    feats = _features(assets_dir() / "maps" / "cn_provinces_simplified_0p01.geojson")
    rows = [{**f["properties"], "geometry": shape(f["geometry"])} for f in feats]
    out = pd.DataFrame(rows)
    out["adcode"] = out["adcode"].astype(int)
    return out


def read_rivers(levels: tuple[int, ...] | None = None) -> list:
    """Major river lines (NGCC 1:4M) as shapely geometries in lon/lat."""
    feats = _features(assets_dir() / "maps" / "cn_rivers_ngcc_1to4m.geojson")
    return [shape(f["geometry"]) for f in feats
            if levels is None or f["properties"].get("LEVEL_RIVE") in levels]


def read_dem() -> xr.DataArray:
    """0.2° elevation (m) over 15-60 N, 70-140 E, with ascending ``lat`` and ``lon``."""
    path = assets_dir() / "covariates" / "cnmaps_china-dem_0.2deg.nc"
    with xr.open_dataset(path) as ds:
        dem = ds["dem"].load()
    return dem.sortby("lat").sortby("lon")


def read_crop_calendar(crop: str) -> tuple[xr.DataArray, xr.DataArray]:
    """WorldCereal start and end of season (day of year) for ``crop``, 0.5° lon/lat grids."""
    out = []
    for edge in ("SOS", "EOS"):
        path = assets_dir() / "covariates" / f"{_CALENDAR_PREFIX[crop]}_{edge}_WGS84.tif"
        with rasterio.open(path) as src:
            data = src.read(1).astype("f4")
            if src.nodata is not None:
                data[data == src.nodata] = np.nan
            t = src.transform
            lon = t.c + (np.arange(src.width) + 0.5) * t.a
            lat = t.f + (np.arange(src.height) + 0.5) * t.e
        data[(data <= 0) | (data > 366)] = np.nan
        da = xr.DataArray(data, coords={"lat": lat, "lon": lon}, dims=("lat", "lon"))
        out.append(da.sortby("lat"))
    return out[0], out[1]


def read_ghcn_daily(path: str | Path | None = None) -> pd.DataFrame:
    """A GHCN-Daily CSV (NCEI access format): daily ``prcp`` (mm), ``tmax``, ``tmin`` (°C).

    Defaults to the bundled Beijing record (CHM00054511). Values that failed GHCN's
    quality checks are NaN; see :func:`cropsm.io.readers.ghcn.read_ghcn_daily`.
    """
    from cropsm.io.readers.ghcn import read_ghcn_daily as read_record

    path = Path(path) if path else assets_dir() / "meteo" / "GHCND_CHM00054511_Beijing_daily.csv"
    return read_record(path)[["prcp", "tmax", "tmin"]]
