"""Gridded SM products as GeoTIFF or netCDF: a file per day or per year.

This is how ChinaCropSM1km (daily GeoTIFFs, Albers ESRI:102025, int16 scaled by 0.001)
or RSSSM files are opened. A file's date comes from its name through a strftime-like
pattern (``%Y``, ``%m``, ``%d``, ``%j``), or from the time coordinate of a netCDF file.
Files are read with rioxarray (GDAL), windows of them with ``bbox``; :func:`regrid`
puts the result on a CropSM analysis grid with rioxarray's reprojection.

Missing days between the first and the last date are listed in
``attrs["missing_days"]`` and in a warning; they are never filled.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import rasterio
import rasterio.crs
import rasterio.errors
import rasterio.windows
import rioxarray  # noqa: F401  (registers the .rio accessor)
import xarray as xr
from rasterio.errors import WindowError
from rasterio.warp import transform_bounds
from rasterio.windows import Window, from_bounds

from cropsm.core.grid import Grid
from cropsm.io.readers._errors import ReaderError
from cropsm.io.readers._files import expand_paths, missing_days

__all__ = ["date_regex", "read_gridded", "regrid"]

_DIRECTIVES = {"%Y": r"(?P<Y>\d{4})", "%m": r"(?P<m>\d{2})", "%d": r"(?P<d>\d{2})",
               "%j": r"(?P<j>\d{3})"}
_SUFFIXES = (".tif", ".tiff", ".nc", ".nc4")


def date_regex(pattern: str) -> re.Pattern:
    """A regular expression for a strftime-like file-name pattern (``%Y %m %d %j``)."""
    parts = re.split(r"(%[A-Za-z])", pattern)
    unknown = [p for p in parts if p.startswith("%") and p not in _DIRECTIVES]
    if unknown:
        raise ValueError(f"Date pattern {pattern!r} uses {unknown}; only "
                         f"{', '.join(_DIRECTIVES)} are understood.")
    if "%Y" not in parts or not ({"%j"} <= set(parts) or {"%m", "%d"} <= set(parts)):
        raise ValueError(f"Date pattern {pattern!r} needs %Y and either %j or %m and %d.")
    return re.compile("".join(_DIRECTIVES.get(p, re.escape(p)) for p in parts))


def _file_date(match: re.Match) -> pd.Timestamp:
    fields = match.groupdict()
    if fields.get("j"):
        return pd.Timestamp(int(fields["Y"]), 1, 1) + pd.Timedelta(days=int(fields["j"]) - 1)
    return pd.Timestamp(int(fields["Y"]), int(fields["m"]), int(fields["d"]))


def _open_raster(path: Path, variable: str | None, chunks) -> xr.DataArray:
    try:
        ds = xr.open_dataset(path, engine="netcdf4", mask_and_scale=False,
                             decode_coords="all", chunks=chunks)
    except (OSError, ValueError) as err:
        raise ReaderError(path, f"not a netCDF file ({err}).") from err
    if variable is None or variable not in ds.data_vars:
        raise ReaderError(path, f"has no variable {variable!r}; it has "
                                f"{', '.join(map(str, ds.data_vars))}. Set `variable`.")
    da = ds[variable]
    for x, y in (("lon", "lat"), ("longitude", "latitude")):
        if x in da.dims and y in da.dims:
            da = da.rio.set_spatial_dims(x_dim=x, y_dim=y)
    return da


def _dated_files(files: list[Path], date_pattern: str | None) -> list[tuple[pd.Timestamp | None,
                                                                         Path]]:
    if date_pattern is None:
        if any(f.suffix.lower() not in (".nc", ".nc4") for f in files):
            raise ReaderError(files[0], "GeoTIFFs carry no date: give `date_pattern`, e.g. "
                                        "'%Y%j' for ChinaCropSM1km_2018123.tif.")
        return [(None, f) for f in files]
    regex = date_regex(date_pattern)
    dated = [(m, f) for f in files if (m := regex.search(f.name))]
    if not dated:
        raise ReaderError(files[0].parent, f"no file name matches the date pattern "
                                           f"{date_pattern!r} (e.g. {files[0].name}).")
    if len(dated) < len(files):
        skipped = [f.name for f in files if not regex.search(f.name)]
        warnings.warn(f"{len(skipped)} file(s) without a date matching {date_pattern!r} "
                      f"are left out, e.g. {skipped[0]}.", UserWarning, stacklevel=3)
    out: list[tuple[pd.Timestamp | None, Path]] = []
    for match, f in dated:
        try:
            out.append((_file_date(match), f))
        except ValueError as err:
            raise ReaderError(f, f"its name holds no valid date for {date_pattern!r} "
                                 f"({err}).") from err
    return out


def _tif_grid(path: Path, crs: str | None):
    """CRS, transform, shape and no-data of a GeoTIFF, from its header only."""
    try:
        with rasterio.open(path) as src:
            if src.driver != "GTiff":
                raise ReaderError(path, f"is a {src.driver} raster, not a GeoTIFF.")
            grid = (src.crs, src.transform, src.shape, src.nodata, src.dtypes[0])
    except rasterio.errors.RasterioIOError as err:
        first = str(err).strip().splitlines()[0]
        raise ReaderError(path, f"not a GeoTIFF ({first}).") from err
    if grid[0] is None:
        if crs is None:
            raise ReaderError(path, "has no CRS; pass `crs` (ChinaCropSM1km: 'ESRI:102025').")
        grid = (rasterio.crs.CRS.from_user_input(crs), *grid[1:])
    return grid


def _window(path: Path, grid, bbox) -> Window:
    """The cells of the file covering a lon/lat box (all cells without a box)."""
    full = Window(0, 0, grid[2][1], grid[2][0])
    if bbox is None:
        return full
    bounds = transform_bounds("EPSG:4326", grid[0], *bbox, densify_pts=21)
    try:
        window = from_bounds(*bounds, grid[1]).round_offsets().round_lengths()
        window = window.intersection(full)
    except WindowError as err:
        raise ReaderError(path, f"the box {tuple(bbox)} does not overlap the file.") from err
    if window.width < 1 or window.height < 1:
        raise ReaderError(path, f"the box {tuple(bbox)} does not overlap the file.")
    return window


def _read_window(path: Path, window: Window, dtype) -> np.ndarray:
    with rasterio.open(path) as src:
        return src.read(1, window=window, out_dtype=dtype)


def _physical(raw: np.ndarray, fill, scale_factor: float, add_offset: float) -> np.ndarray:
    """Stored integers -> float32 physical values, no-data -> NaN, without temporaries."""
    values = np.empty(raw.shape, "f4")
    np.multiply(raw, np.float32(scale_factor), out=values, dtype="f4", casting="unsafe")
    if add_offset:
        values += np.float32(add_offset)
    if fill is not None:
        values[raw == fill] = np.nan
    return values


def _read_tifs(dated, crs, nodata, bbox, chunks, scale_factor: float, add_offset: float
               ) -> tuple[xr.DataArray, object]:
    """Daily GeoTIFFs on one grid: one open and one windowed read per file."""
    first = dated[0][1]
    reference = _tif_grid(first, crs)
    window = _window(first, reference, bbox)
    shape = (len(dated), int(window.height), int(window.width))
    dtype = np.dtype(reference[4])
    fill = nodata if nodata is not None else reference[3]

    def check(path: Path, src) -> None:
        if (src.transform, src.shape) != reference[1:3] or (
                src.crs is not None and src.crs != reference[0]):
            raise ReaderError(path, f"is on another grid ({src.transform!r}, {src.shape}) "
                                    f"than {first.name} ({reference[1]!r}, {reference[2]}).")

    if chunks:
        import dask
        import dask.array

        for _, path in dated[1:]:  # headers only: a wrong grid fails now, not at compute
            with rasterio.open(path) as src:
                check(path, src)

        def load(path: Path) -> np.ndarray:
            return _physical(_read_window(path, window, dtype), fill, scale_factor,
                             add_offset)

        values = dask.array.stack([
            dask.array.from_delayed(dask.delayed(load)(path), shape[1:], dtype="f4")
            for _, path in dated])
        values = values.rechunk({0: 1, 1: chunks.get("y", -1), 2: chunks.get("x", -1)})
    else:
        raw = np.empty(shape, dtype)
        for i, (_, path) in enumerate(dated):
            try:
                src = rasterio.open(path)
            except rasterio.errors.RasterioIOError as err:
                raise ReaderError(path, "not a GeoTIFF "
                                        f"({str(err).strip().splitlines()[0]}).") from err
            with src:
                check(path, src)
                src.read(1, window=window, out=raw[i])
        values = _physical(raw, fill, scale_factor, add_offset)
    transform = rasterio.windows.transform(window, reference[1])
    x = transform.c + (np.arange(shape[2]) + 0.5) * transform.a
    y = transform.f + (np.arange(shape[1]) + 0.5) * transform.e
    data = xr.DataArray(values, dims=("time", "y", "x"),
                        coords={"time": [d for d, _ in dated], "y": y, "x": x})
    return data, reference[0]


def _read_netcdfs(dated, variable, crs, nodata, bbox, chunks, scale_factor: float,
                  add_offset: float) -> tuple[xr.DataArray, object]:
    """NetCDF files (per day or per year): xarray reads, rioxarray clips."""
    arrays: list[xr.DataArray] = []
    reference: tuple | None = None
    for day, path in dated:
        da = _open_raster(path, variable, chunks)
        if da.rio.crs is None:
            if crs is None:
                raise ReaderError(path, "has no CRS; pass `crs` (e.g. 'EPSG:4326').")
            da = da.rio.write_crs(crs)
        fill = nodata if nodata is not None else da.rio.nodata
        if fill is None:
            fill = da.attrs.get("_FillValue", da.encoding.get("_FillValue"))
        grid = (da.rio.crs, da.rio.transform(), da.rio.shape)
        if reference is None:
            reference = grid
        elif grid != reference:
            raise ReaderError(path, f"is on another grid ({grid[1]!r}, {grid[2]}) than "
                                    f"{dated[0][1].name} ({reference[1]!r}, {reference[2]}).")
        if bbox is not None:
            try:
                da = da.rio.clip_box(*bbox, crs="EPSG:4326")
            except Exception as err:  # rioxarray raises NoDataInBounds and others
                raise ReaderError(path, f"the box {tuple(bbox)} does not overlap the file "
                                        f"({type(err).__name__}).") from err
        if "time" not in da.dims:
            da = da.expand_dims(time=[day])
        elif day is not None and da.sizes["time"] == 1:
            da = da.assign_coords(time=[day])
        da = da.astype("f4")
        if fill is not None:
            da = da.where(da != np.float32(fill))
        arrays.append(da)
    if reference is None:
        raise ValueError("no files to read")  # callers pass at least one file
    data = xr.concat(arrays, dim="time", join="exact", combine_attrs="drop_conflicts")
    return data * np.float32(scale_factor) + np.float32(add_offset), reference[0]


def read_gridded(paths: str | Path | Sequence[str | Path], date_pattern: str | None = None, *,
                 variable: str | None = None, crs: str | None = None,
                 scale_factor: float = 1.0, add_offset: float = 0.0,
                 nodata: float | None = None, bbox: Sequence[float] | None = None,
                 start=None, end=None, chunks: dict | None = None) -> xr.DataArray:
    """Read a gridded SM product into one (time, y, x) array.

    Parameters
    ----------
    paths : str, Path or sequence
        A folder, a glob pattern or a list of ``.tif``/``.tiff``/``.nc`` files.
    date_pattern : str, optional
        Where the date is in each file name, e.g. ``"%Y%j"`` or ``"SM_%Y%m%d"``. Required
        for GeoTIFFs; netCDF files may use their own time coordinate instead.
    variable : str, optional
        The data variable of netCDF files.
    crs : str, optional
        CRS of files that carry none (e.g. ``"ESRI:102025"``); it never overrides one.
    scale_factor, add_offset : float
        Physical value = stored value × scale_factor + add_offset.
    nodata : float, optional
        Stored no-data value; by default the file's own.
    bbox : sequence of float, optional
        ``(lon_min, lat_min, lon_max, lat_max)``: read only the window covering it.
    start, end : date-like, optional
        Keep these days only.
    chunks : dict, optional
        Dask chunks (e.g. ``{"x": 512, "y": 512}``): read lazily. Eager otherwise.

    Returns
    -------
    xarray.DataArray
        float32 (time, y, x) with NaN for no-data, a CRS (``rio.crs``), and ``attrs``
        ``files`` and ``missing_days``.

    Raises
    ------
    ReaderError
        A file in another format, an unknown variable, a pattern that matches no file
        name, a file without a CRS when none is given, or files on different grids.
    """
    files = expand_paths(paths, suffixes=_SUFFIXES)
    dated = _dated_files(files, date_pattern)
    if start is not None or end is not None:
        lo = pd.Timestamp(start) if start is not None else pd.Timestamp.min
        hi = pd.Timestamp(end) if end is not None else pd.Timestamp.max
        dated = [(d, f) for d, f in dated if d is None or lo <= d <= hi]
    dated.sort(key=lambda item: (item[0] is None, item[0] or pd.Timestamp.min, item[1].name))
    if not dated:
        raise ReaderError(files[0].parent, f"no file falls between {start} and {end}.")
    if all(path.suffix.lower() in (".tif", ".tiff") for _, path in dated):
        data, reference = _read_tifs(dated, crs, nodata, bbox, chunks, scale_factor,
                                     add_offset)
    else:
        data, reference = _read_netcdfs(dated, variable, crs, nodata, bbox, chunks,
                                        scale_factor, add_offset)
    dates = pd.DatetimeIndex(data["time"].values)
    if dates.has_duplicates:
        raise ReaderError(files[0].parent, "holds two files (or steps) for the same day.")
    # in place: rioxarray otherwise copies the whole array for each attribute it sets
    data = data.astype("f4", copy=False).rename("sm")
    data.rio.write_crs(reference, inplace=True)
    data.rio.write_nodata(np.nan, inplace=True)
    gaps = missing_days(dates, start, end)
    data.attrs.update(files=[str(f) for _, f in dated],
                      missing_days=[d.strftime("%Y-%m-%d") for d in gaps])
    if gaps:
        warnings.warn(f"{len(gaps)} missing day(s) in {files[0].parent} (first: "
                      f"{gaps[0]:%Y-%m-%d}); they are left out, not filled.", UserWarning,
                      stacklevel=2)
    return data


def regrid(da: xr.DataArray, grid: Grid, resampling: str = "average") -> xr.DataArray:
    """Reproject a (time, y, x) array with a CRS onto a CropSM analysis grid (window).

    Parameters
    ----------
    da : xarray.DataArray
        Output of :func:`read_gridded` (any array with ``rio.crs`` set).
    grid : cropsm.core.grid.Grid
        Target grid; the output has its ``x``/``y`` cell centres.
    resampling : str
        A :class:`rasterio.enums.Resampling` name: ``"average"`` for coarser targets,
        ``"bilinear"`` or ``"nearest"`` for finer ones.
    """
    from rasterio.enums import Resampling

    try:
        method = Resampling[resampling]
    except KeyError as err:
        raise ValueError(f"Unknown resampling {resampling!r}; use one of "
                         f"{', '.join(r.name for r in Resampling)}.") from err
    if da.rio.crs is None:
        raise ValueError("The array has no CRS; read it with read_gridded or set rio.crs.")
    # NaN marks no-data for GDAL too, so "average" skips it instead of spreading it
    source = da.astype("f4").rio.write_nodata(np.nan)
    out = source.rio.reproject(grid.crs, transform=grid.transform, shape=grid.shape,
                               resampling=method, nodata=np.nan)
    return out.assign_coords(x=grid.x, y=grid.y).astype("f4")
