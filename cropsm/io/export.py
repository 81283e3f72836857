"""Downloads: tables as CSV with a provenance header, maps as Cloud-Optimized GeoTIFF.

Both functions return bytes, so the dashboard can hand them to a download button
without touching the disk.

CSV
    Provenance comes first as ``# key: value`` lines, then the table written by
    :func:`pyarrow.csv.write_csv` (several times faster than
    :meth:`pandas.DataFrame.to_csv`, see ``benchmarks/bench_export.py``). Read it back
    with ``pandas.read_csv(f, comment="#")`` (text cells in CropSM tables hold no
    ``#``) or by skipping the leading ``#`` lines. Text cells that a spreadsheet would
    run as a formula (starting with ``=``, ``+``, ``-``, ``@``, tab, CR or LF) get a
    leading single quote, following OWASP's advice on CSV injection; numeric columns
    are written as numbers, so negative values stay negative numbers.
GeoTIFF
    GDAL's COG driver: float32, tiled 512 × 512, internal overviews when the raster is
    larger than a tile, ZSTD compression (DEFLATE where GDAL lacks ZSTD) with the
    floating-point predictor, provenance as GeoTIFF metadata tags.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import rasterio
import xarray as xr
from affine import Affine
from rasterio.io import MemoryFile

from cropsm.core.errors import CropSMError
from cropsm.core.grid import Grid

__all__ = ["COG_BLOCKSIZE", "MAX_CSV_ROWS", "ExportError", "cog_bytes", "csv_bytes",
           "netcdf_bytes"]

#: Largest table :func:`csv_bytes` writes. A pixel table row is about 140 bytes of CSV
#: (``benchmarks/bench_export.py``), so the cap keeps one download near 280 MB and about
#: 3 s to write: the table, its Arrow copy and the bytes all sit in the dashboard
#: server's memory at once, and a browser download of that size still finishes. Past
#: the cap the regional-mean series (one row per day) or a smaller request is the
#: useful answer. Spreadsheets open at most 1 048 576 rows; larger files are for
#: pandas, R or GIS software.
MAX_CSV_ROWS = 2_000_000

#: Tile size of the GeoTIFF (pixels); overviews are built while the raster exceeds it.
COG_BLOCKSIZE = 512

# OWASP CSV injection: cells a spreadsheet treats as the start of a formula.
_FORMULA_START = r"^[=+\-@\t\r\n]"
# After a separator (comma, or semicolon in locales that split on it), same triggers.
_FORMULA_AFTER_SEPARATOR = re.compile(r"([,;]\s*)([=+\-@])")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\x85]+")
_NON_NUMERIC_INFERRED = ("string", "mixed", "mixed-integer", "bytes", "unknown-array",
                         "categorical", "interval", "period", "complex", "time")


class ExportError(CropSMError, ValueError):
    """An export request cannot be served as asked; the message says what to do."""


# -- CSV --------------------------------------------------------------------------------
def _header_text(text: object) -> str:
    """One provenance key or value made safe for a single ``#`` comment line."""
    text = _CONTROL.sub(" ", str(text)).strip()
    # A spreadsheet splits the comment line at separators; a later cell must not be a
    # formula either.
    return _FORMULA_AFTER_SEPARATOR.sub(r"\1'\2", text)


def _defuse(array: pa.Array) -> pa.Array:
    """Prefix text cells that start like a formula with a single quote."""
    risky = pc.match_substring_regex(array, _FORMULA_START)
    return pc.if_else(risky, pc.binary_join_element_wise("'", array, ""), array)


def _defuse_text(value: str) -> str:
    return "'" + value if re.match(_FORMULA_START, value) else value


def _arrow_column(column: pd.Series) -> pa.Array:
    dtype = column.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        categories = pa.array([_defuse_text(str(c)) for c in dtype.categories], pa.string())
        codes = np.asarray(column.cat.codes)
        indices = pa.array(codes, mask=codes < 0)
        return pa.DictionaryArray.from_arrays(indices, categories).cast(pa.string())
    if pd.api.types.is_datetime64_any_dtype(dtype):
        array = pa.array(column, from_pandas=True)
        times = column.dropna()
        if getattr(dtype, "tz", None) is None and (times == times.dt.normalize()).all():
            return array.cast(pa.date32())  # written as YYYY-MM-DD
        return array
    if pd.api.types.is_string_dtype(dtype) or (
            dtype.kind == "O" and pd.api.types.infer_dtype(column) in _NON_NUMERIC_INFERRED):
        text = column.astype("string")  # mixed objects become text, missing stays missing
        return _defuse(pa.array(text, pa.string(), from_pandas=True))
    return pa.array(column, from_pandas=True)


def csv_bytes(table: pd.DataFrame, provenance: Mapping[str, object],
              max_rows: int = MAX_CSV_ROWS) -> bytes:
    """A table as UTF-8 CSV bytes after a ``# key: value`` provenance header.

    Parameters
    ----------
    table : pandas.DataFrame
        Written without its index (reset it first if it holds data). Datetime columns
        whose values are all midnight are written as ``YYYY-MM-DD``; missing values as
        empty cells.
    provenance : mapping of str to str
        One header line per item, in order; control characters (newlines included)
        become spaces, so no item can end the header or add a line.
    max_rows : int
        Largest accepted table (default :data:`MAX_CSV_ROWS`).

    Returns
    -------
    bytes

    Raises
    ------
    ExportError
        If the table has more than ``max_rows`` rows.
    """
    if len(table) > max_rows:
        raise ExportError(
            f"The table has {len(table):,} rows, over the CSV limit of {max_rows:,}; "
            "choose a smaller region or a shorter date range, or download the "
            "regional-mean series (one row per day) instead."
        )
    header = "".join(f"# {_header_text(k)}: {_header_text(v)}\n"
                     for k, v in provenance.items())
    arrays = [_arrow_column(table.iloc[:, i]) for i in range(table.shape[1])]
    names = [_defuse_text(str(name)) for name in table.columns]
    sink = pa.BufferOutputStream()
    sink.write(header.encode("utf-8"))
    pacsv.write_csv(pa.Table.from_arrays(arrays, names=names), sink)
    return sink.getvalue().to_pybytes()


# -- GeoTIFF ----------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _cog_compression() -> str:
    """ZSTD if this GDAL build writes it, else DEFLATE (checked once on a 1 x 1 raster)."""
    try:
        with MemoryFile() as memfile:
            with memfile.open(driver="COG", width=1, height=1, count=1, dtype="float32",
                              transform=Affine(1.0, 0.0, 0.0, 0.0, -1.0, 1.0),
                              compress="ZSTD") as dst:
                dst.write(np.zeros((1, 1, 1), "f4"))
            with memfile.open() as src:
                if (src.compression and src.compression.name.upper()) == "ZSTD":
                    return "ZSTD"
    except rasterio.errors.RasterioError:
        pass
    return "DEFLATE"


def _tag_key(key: object) -> str:
    # GDAL stores metadata as KEY=VALUE; keep keys to a safe identifier.
    return re.sub(r"[^A-Za-z0-9_.-]", "_", str(key)) or "_"


def cog_bytes(values: np.ndarray, grid: Grid, provenance: Mapping[str, object],
              nodata: float = np.nan) -> bytes:
    """A 2-D map as Cloud-Optimized GeoTIFF bytes on ``grid``.

    Parameters
    ----------
    values : numpy.ndarray
        Shape ``grid.shape``, written as float32; NaN cells are missing.
    grid : cropsm.core.grid.Grid
        Gives the CRS (e.g. ESRI:102025) and the affine transform.
    provenance : mapping of str to str
        Written as GeoTIFF metadata tags (keys reduced to letters, digits, ``_.-``).
    nodata : float
        The nodata value; NaN cells are written as it.

    Returns
    -------
    bytes

    Raises
    ------
    ExportError
        If ``values`` is not 2-D of the grid's shape.
    """
    values = np.asarray(values)
    if values.shape != grid.shape:
        raise ExportError(f"The map has shape {values.shape} but its grid {grid.shape}.")
    data = values.astype(np.float32)
    if not np.isnan(nodata):
        data[np.isnan(data)] = nodata
    profile = {
        "driver": "COG", "width": grid.shape[1], "height": grid.shape[0], "count": 1,
        "dtype": "float32", "crs": grid.crs, "transform": grid.transform,
        "nodata": nodata, "compress": _cog_compression(), "predictor": 3,
        "blocksize": COG_BLOCKSIZE, "overview_resampling": "average",
    }
    with MemoryFile() as memfile:
        with memfile.open(**profile) as dst:
            dst.write(data, 1)
            dst.update_tags(**{_tag_key(k): str(v) for k, v in provenance.items()})
        return memfile.read()


def netcdf_bytes(ds: xr.Dataset, provenance: Mapping[str, object]) -> bytes:
    """A gridded result as compressed netCDF-4 bytes, provenance in its global attributes.

    Keeps every variable together, so quality flags travel with the values they qualify.
    """
    out = ds.copy()
    out.attrs = {**{k: v for k, v in ds.attrs.items() if isinstance(v, str | int | float)},
                 **{_tag_key(k): _header_text(v) for k, v in provenance.items()}}
    encoding = {name: {"zlib": True, "complevel": 4} for name in out.data_vars}
    return bytes(out.to_netcdf(engine="netcdf4", encoding=encoding))
