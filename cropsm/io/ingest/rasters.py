"""Open, check and regrid raster and netCDF inputs of ``cropsm ingest``.

Checks, each a one-line :class:`~cropsm.io.readers.ReaderError` naming the file:

* the CRS: the file's own (GeoTIFF, CF ``grid_mapping``), else the config's ``crs``;
  latitude/longitude dimensions (``lat``/``lon``, ``latitude``/``longitude``) mean
  EPSG:4326 as in CF. A missing CRS, or a config CRS that contradicts the file's, is
  refused;
* coordinates: strictly monotonic and evenly spaced (an affine grid), longitudes in
  0-360 are wrapped to -180-180;
* coverage: the input's cell edges must contain the target window;
* units (:mod:`cropsm.io.ingest.units`).

How each variable is resampled onto the 1 km grid (``RESAMPLING``) follows what it is:
fluxes and fractions are averaged (rasterio's area-weighted ``average``), states are
interpolated (``bilinear``) and classes or dates take the ``nearest`` cell.
"""

from __future__ import annotations

import netCDF4
import numpy as np
import pandas as pd
import rioxarray  # noqa: F401  (registers the .rio accessor)
import xarray as xr
from pyproj import CRS, Transformer
from rasterio.enums import Resampling

from cropsm.core.grid import Grid
from cropsm.io.ingest.config import RasterInput
from cropsm.io.ingest.units import convert, units_of
from cropsm.io.readers._errors import ReaderError
from cropsm.io.readers.gridded import regrid

__all__ = ["DAYS_PER_READ", "PLAUSIBLE", "RESAMPLING", "LonLatGrid", "open_raster", "to_grid",
           "to_lonlat"]

#: Role -> (target units, resampling onto the 1 km grid).
RESAMPLING: dict[str, tuple[str, str]] = {
    "precipitation": ("mm day-1", "average"),  # flux
    "pet": ("mm month-1", "average"),  # flux
    "temperature": ("degC", "bilinear"),  # state
    "elevation": ("m", "bilinear"),  # state
    "field_capacity": ("m3 m-3", "bilinear"),  # state
    "field_capacity_10_20": ("m3 m-3", "bilinear"),  # state
    "bulk_density": ("kg dm-3", "bilinear"),  # state
    "sand": ("1", "average"),  # fraction
    "silt": ("1", "average"),  # fraction
    "clay": ("1", "average"),  # fraction
    "organic_matter": ("%", "average"),  # fraction
    "fraction": ("1", "average"),  # fraction
    "sowing": ("day", "nearest"),  # date
    "green_up": ("day", "nearest"),  # date
    "heading": ("day", "nearest"),  # date
    "maturity": ("day", "nearest"),  # date
}

#: Role -> plausible (low, high) in the role's units; outside is a unit or nodata mistake.
PLAUSIBLE: dict[str, tuple[float, float]] = {
    "elevation": (-500.0, 9000.0),
    "field_capacity": (0.0, 0.7), "field_capacity_10_20": (0.0, 0.7),
    "bulk_density": (0.5, 2.2),
    "sand": (0.0, 1.0), "silt": (0.0, 1.0), "clay": (0.0, 1.0),
    "organic_matter": (0.0, 60.0),
    "fraction": (0.0, 1.0),
    "sowing": (1.0, 366.0), "green_up": (1.0, 366.0), "heading": (1.0, 366.0),
    "maturity": (1.0, 366.0),
}
#: Steps of a time series read (and regridded) at once, at least: a year of days (a
#: whole number of the file's own chunks).
DAYS_PER_READ = 366
#: A total per time step (ERA5 daily ``tp`` in m, TerraClimate ``pet`` in mm) is a rate
#: over this step.
_STEP = {"precipitation": "day", "pet": "month"}
_LAT_NAMES = ("lat", "latitude")
_LON_NAMES = ("lon", "longitude")
_TIME_NAMES = ("time", "valid_time")


class LonLatGrid:
    """A regular lat/lon grid (EPSG:4326) whose edges are multiples of its cell size.

    Daily rain and the monthly anomalies are kept on it; features sample it at 1 km.
    """

    def __init__(self, bounds: tuple[float, float, float, float], resolution: float):
        lon0, lat0, lon1, lat1 = bounds
        r = resolution
        self.west, self.south = np.floor(lon0 / r) * r, np.floor(lat0 / r) * r
        east, north = np.ceil(lon1 / r) * r, np.ceil(lat1 / r) * r
        self.resolution = r
        self.lon = np.round(self.west + r * (np.arange(round((east - self.west) / r)) + 0.5), 9)
        self.lat = np.round(self.south + r * (np.arange(round((north - self.south) / r)) + 0.5),
                            9)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """Cell-edge bounds (lon_min, lat_min, lon_max, lat_max), degrees."""
        r = self.resolution
        return (self.west, self.south, self.west + r * self.lon.size,
                self.south + r * self.lat.size)


def _spatial_dims(da: xr.DataArray, source: str) -> tuple[str, str, bool]:
    dims = set(da.dims)
    for y, x in (("y", "x"), *zip(_LAT_NAMES, _LON_NAMES, strict=True)):
        if {y, x} <= dims:
            return y, x, y in _LAT_NAMES
    raise ReaderError(source, f"has dimensions {', '.join(map(str, da.dims))}; expected "
                              "y/x or lat/lon (latitude/longitude).")


def _check_axis(values: np.ndarray, name: str, source: str) -> None:
    step = np.diff(values.astype("f8"))
    if values.size < 2:
        raise ReaderError(source, f"has {values.size} cell along {name}; a grid needs two "
                                  "or more.")
    if not ((step > 0).all() or (step < 0).all()):
        raise ReaderError(source, f"coordinate {name} is not monotonic (it goes back at "
                                  f"index {int(np.argmax(np.sign(step) != np.sign(step[0])))+1}"
                                  "); sort the file along it (e.g. `cdo invertlat` or "
                                  "xarray's sortby) and retry.")
    if np.abs(step - step.mean()).max() > 1e-3 * abs(step.mean()):
        raise ReaderError(source, f"coordinate {name} is not evenly spaced; regrid the file "
                                  "to a regular grid first.")


def _crs(da: xr.DataArray, spec: RasterInput, geographic: bool, source: str) -> CRS:
    own = CRS.from_user_input(da.rio.crs) if da.rio.crs is not None else None
    given = CRS.from_user_input(spec.crs) if spec.crs else None
    if own is not None and given is not None and not own.equals(given,
                                                                ignore_axis_order=True):
        raise ReaderError(source, f"is in {own.to_string()} but the config says crs: "
                                  f"{spec.crs}; remove or correct `crs`.")
    crs = own or given
    if crs is None and geographic:
        crs = CRS.from_epsg(4326)  # CF: lat/lon coordinates without a grid mapping
    if crs is None:
        raise ReaderError(source, "has no CRS; add `crs: EPSG:<code>` to its config entry.")
    return crs


def _open_one(path, spec: RasterInput) -> xr.DataArray:
    source = str(path)
    try:
        if path.suffix.lower() in (".tif", ".tiff"):
            da = rioxarray.open_rasterio(path, mask_and_scale=True)
            if not isinstance(da, xr.DataArray):
                raise ReaderError(source, "holds several GeoTIFF subdatasets; give one.")
            if "band" in da.dims:
                if da.sizes["band"] > 1:
                    raise ReaderError(source, f"has {da.sizes['band']} bands; give a "
                                              "one-band GeoTIFF per variable.")
                da = da.squeeze("band", drop=True)
            return da
        ds = xr.open_dataset(path, mask_and_scale=True, decode_coords="all")
    except (OSError, ValueError, RuntimeError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ReaderError(source, f"cannot be opened as GeoTIFF or netCDF ({first}).") from err
    names = [n for n, v in ds.data_vars.items() if v.ndim >= 2]
    if spec.variable is None and len(names) != 1:
        raise ReaderError(source, f"has variables {', '.join(map(str, names))}; name one "
                                  "with `variable:` in its config entry.")
    name = spec.variable or names[0]
    if name not in ds:
        raise ReaderError(source, f"has no variable {name!r}; it has "
                                  f"{', '.join(map(str, names))}.")
    da = ds[name]
    if "_FillValue" not in da.encoding and "missing_value" not in da.encoding:
        # netCDF: without a _FillValue attribute the type's default fill marks no data
        # (the cnmaps DEM leaves its sea as 9.97e36 this way); xarray does not mask it
        fill = netCDF4.default_fillvals.get(da.encoding.get("dtype", da.dtype).str[1:])
        if fill is not None and da.dtype.kind == "f":
            da = da.where(da != np.asarray(fill, da.dtype))
    return _lazy(da)


def _lazy(da: xr.DataArray) -> xr.DataArray:
    """A dask array whose time chunks are whole multiples of the file's own.

    A national daily record does not fit in memory; reading it a year at a time along
    the file's chunks decompresses each stored chunk once (a block that cut through
    stored chunks would decompress them again for each block).
    """
    time = next((t for t in _TIME_NAMES if t in da.dims), None)
    if time is None:
        return da
    stored = (da.encoding.get("chunksizes") or da.shape)[da.dims.index(time)]
    step = int(stored) * max(1, -(-DAYS_PER_READ // int(stored)))
    return da.chunk({time: step})


def open_raster(spec: RasterInput, role: str, window: tuple[float, float, float, float],
                window_crs: CRS | str) -> xr.DataArray:
    """Open an input, check it and return it in its role's units.

    Parameters
    ----------
    spec : RasterInput
        Files (several are concatenated along time) and config fall-backs.
    role : str
        A key of :data:`RESAMPLING`; sets the target units.
    window : (xmin, ymin, xmax, ymax)
        Bounds of the window's cell centres, in ``window_crs``; the input must cover
        them to within half of one of its own cells.
    window_crs : pyproj.CRS or str

    Returns
    -------
    xarray.DataArray
        Dimensions ``([time,] y, x)`` with ``rio`` CRS set, y descending, x ascending,
        float32, in ``RESAMPLING[role][0]`` units.
    """
    arrays = [_open_one(p, spec) for p in spec.paths]
    source = str(spec.paths[0]) if len(spec.paths) == 1 else f"{spec.paths[0].parent}/*"
    da = arrays[0]
    y, x, geographic = _spatial_dims(da, source)
    time = next((t for t in _TIME_NAMES if t in da.dims), None)
    if len(arrays) > 1:
        if time is None:
            raise ReaderError(source, "several files match but they have no time dimension; "
                                      "name one file.")
        file_units = {a.attrs.get("units") for a in arrays}
        if len(file_units) > 1:
            raise ReaderError(source, f"the files disagree on units "
                                      f"({sorted(map(str, file_units))}"
                                      "); convert them to one unit.")
        try:
            da = xr.concat(arrays, dim=time, join="exact")
        except ValueError as err:
            raise ReaderError(source, "the files are on different grids; regrid them to "
                                      "one grid first.") from err
    units = units_of(da, spec.units, source=source, name=role)
    crs = _crs(da, spec, geographic, source)
    for dim in (y, x):
        _check_axis(da[dim].values, dim, source)
    if time is not None:
        stamps = pd.DatetimeIndex(da[time].values)
        if not stamps.is_monotonic_increasing or stamps.has_duplicates:
            raise ReaderError(source, "time is not strictly increasing (duplicated or "
                                      "unsorted steps); sort the files or drop duplicates.")
        da = da.rename({time: "time"})
    da = da.rename({y: "y", x: "x"})
    if geographic and float(da["x"].max()) > 180:
        da = da.assign_coords(x=((da["x"] + 180) % 360) - 180).sortby("x")
    if float(da["y"][0]) < float(da["y"][-1]):
        da = da.isel(y=slice(None, None, -1))
    if float(da["x"][0]) > float(da["x"][-1]):
        da = da.isel(x=slice(None, None, -1))
    da = da.drop_vars([c for c in da.coords if c not in ("time", "month", "y", "x")])
    da = da.rio.set_spatial_dims(x_dim="x", y_dim="y").rio.write_crs(crs)
    box = _check_covers(da, window, window_crs, source)
    da = _clipped(da, box)
    da = convert(da.astype("f4"), units, RESAMPLING[role][0], source=source, name=role,
                 step=_STEP.get(role))
    if role in PLAUSIBLE and "time" not in da.dims:
        _check_range(da, role, source)
    return da.rio.write_crs(crs).rio.write_nodata(np.nan)


def _clipped(da: xr.DataArray, box: tuple[float, float, float, float]) -> xr.DataArray:
    """The input's cells within two cells of the window: a global file is not read whole."""
    rx, ry = (abs(r) for r in da.rio.resolution())
    xmin, ymin, xmax, ymax = box
    x, y = da["x"].values, da["y"].values
    cols = np.nonzero((x >= xmin - 2 * rx) & (x <= xmax + 2 * rx))[0]
    rows = np.nonzero((y >= ymin - 2 * ry) & (y <= ymax + 2 * ry))[0]
    return da.isel(x=slice(cols[0], cols[-1] + 1), y=slice(rows[0], rows[-1] + 1))


def _check_range(da: xr.DataArray, role: str, source: str) -> None:
    low, high = PLAUSIBLE[role]
    values = np.asarray(da.values)
    finite = values[np.isfinite(values)]
    if finite.size and (finite.min() < low or finite.max() > high):
        raise ReaderError(source, f"{role} has values {finite.min():g} to {finite.max():g} "
                                  f"{RESAMPLING[role][0]}, outside the plausible {low:g} to "
                                  f"{high:g}; check its units and its nodata value.")


def _check_covers(da: xr.DataArray, window, window_crs, source: str
                  ) -> tuple[float, float, float, float]:
    """Refuse an input that does not cover the window; the window's box in its CRS."""
    left, bottom, right, top = da.rio.bounds()
    xmin, ymin, xmax, ymax = window
    edge_x = np.concatenate([np.linspace(xmin, xmax, 50), np.full(50, xmax),
                             np.linspace(xmin, xmax, 50), np.full(50, xmin)])
    edge_y = np.concatenate([np.full(50, ymin), np.linspace(ymin, ymax, 50),
                             np.full(50, ymax), np.linspace(ymin, ymax, 50)])
    tx, ty = Transformer.from_crs(window_crs, da.rio.crs, always_xy=True).transform(edge_x,
                                                                                  edge_y)
    # a window cell centre may sit up to half an input cell beyond the input's edge
    # cells: bilinear sampling clamps to the edge cell there, as it does for the demo
    tol_x, tol_y = (abs(r) * 0.5 for r in da.rio.resolution())
    if (tx.min() < left - tol_x or tx.max() > right + tol_x or ty.min() < bottom - tol_y
            or ty.max() > top + tol_y):
        raise ReaderError(source, f"covers x {left:g}..{right:g}, y {bottom:g}..{top:g} "
                                  f"({da.rio.crs.to_string()}) but the window needs x "
                                  f"{tx.min():g}..{tx.max():g}, y {ty.min():g}..{ty.max():g}; "
                                  "give a file that covers the window or a smaller window.")
    return float(tx.min()), float(ty.min()), float(tx.max()), float(ty.max())


def to_grid(da: xr.DataArray, grid: Grid, resampling: str) -> xr.DataArray:
    """An opened input on the 1 km grid (window): ``(..., y, x)`` float32.

    Parameters
    ----------
    da : xarray.DataArray
        From :func:`open_raster` (CRS set, NaN as nodata).
    grid : cropsm.core.grid.Grid
    resampling : str
        ``RESAMPLING[role][1]``: a :class:`rasterio.enums.Resampling` name.
    """
    return regrid(da, grid, resampling)


def to_lonlat(da: xr.DataArray, target: LonLatGrid, resampling: str) -> xr.DataArray:
    """Reproject an opened input onto a :class:`LonLatGrid`, with ascending ``lat``/``lon``."""
    from affine import Affine

    r = target.resolution
    west, south, _, north = target.bounds
    transform = Affine(r, 0.0, west, 0.0, -r, north)
    out = da.rio.reproject("EPSG:4326", transform=transform,
                           shape=(target.lat.size, target.lon.size),
                           resampling=Resampling[resampling], nodata=np.nan)
    out = _extend_edges(out.isel(y=slice(None, None, -1)).rename(y="lat", x="lon"))
    return out.assign_coords(lat=target.lat, lon=target.lon).drop_vars(
        [c for c in out.coords if c not in ("time", "lat", "lon")]).astype("f4")


def _extend_edges(da: xr.DataArray) -> xr.DataArray:
    """Fill cells the input never covers (a snapped grid's rim) from the nearest cell.

    Cells missing only on some steps are left as they are: they are no-data in the
    input, which the caller reports.
    """
    from scipy import ndimage

    values = da.values
    never = np.isnan(values).reshape((-1,) + values.shape[-2:]).all(axis=0)
    if not never.any() or never.all():
        return da
    _, (ii, jj) = ndimage.distance_transform_edt(never, return_indices=True)
    return da.copy(data=values[..., ii, jj])
