"""The one analysis grid: 1 km equal-area Albers cells over mainland China.

Every raster in CropSM lives on a :class:`Grid` (or a window of one). A grid is a
CRS, an affine transform and a shape, and it is the single source of truth for
converting between lon/lat, projected x/y and row/column indices.

The module depends only on numpy, pyproj, shapely, affine and rasterio.features;
it does not import xarray, so the geometry core stays small and dependable.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numba
import numpy as np
import shapely
from affine import Affine
from pyproj import CRS, Transformer
from rasterio.features import geometry_mask

__all__ = [
    "every_nth_cell",
    "ALBERS_CHINA",
    "Grid",
    "bilinear_sample",
    "bilinear_weights",
    "intermittent_sample",
    "china_grid",
    "china_window",
    "nearest_sample",
    "lonlat_to_xy",
    "xy_to_lonlat",
]

#: Asia North Albers Equal Area Conic, the CRS of ChinaCropPhen1km and ChinaCropSM1km.
ALBERS_CHINA = "ESRI:102025"

# Bounds of mainland China (with Hainan, without the South China Sea islands) in
# ESRI:102025, snapped outward to whole kilometres. Derived once from
# cropsm/_assets/maps/cn_national_simplified_0p01.geojson clipped to latitudes >= 17.5 N.
_CHINA_BOUNDS_M = (-1_674_000.0, -1_263_000.0, 2_764_000.0, 3_115_000.0)


@lru_cache(maxsize=16)
def _transformer(src: str, dst: str) -> Transformer:
    return Transformer.from_crs(src, dst, always_xy=True)


def lonlat_to_xy(lon, lat, crs: str = ALBERS_CHINA) -> tuple[np.ndarray, np.ndarray]:
    """Project longitude/latitude (degrees, WGS84) to x/y metres in ``crs``."""
    x, y = _transformer("EPSG:4326", crs).transform(np.asarray(lon), np.asarray(lat))
    return np.asarray(x, dtype="f8"), np.asarray(y, dtype="f8")


def xy_to_lonlat(x, y, crs: str = ALBERS_CHINA) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of :func:`lonlat_to_xy`."""
    lon, lat = _transformer(crs, "EPSG:4326").transform(np.asarray(x), np.asarray(y))
    return np.asarray(lon, dtype="f8"), np.asarray(lat, dtype="f8")


@dataclass(frozen=True)
class Grid:
    """A north-up raster grid.

    Parameters
    ----------
    crs : str
        Authority string of the projected CRS, e.g. ``"ESRI:102025"``.
    transform : affine.Affine
        Maps (col, row) of a cell's upper-left corner to (x, y).
        Must be north-up: ``transform.b == transform.d == 0`` and ``transform.e < 0``.
    shape : tuple of int
        ``(rows, cols)``.
    """

    crs: str
    transform: Affine
    shape: tuple[int, int]

    def __post_init__(self) -> None:
        t = self.transform
        if t.b != 0 or t.d != 0 or t.a <= 0 or t.e >= 0:
            raise ValueError(f"Grid transform must be north-up with square-ish cells, got {t!r}")
        if min(self.shape) <= 0:
            raise ValueError(f"Grid shape must be positive, got {self.shape}")

    # -- construction -------------------------------------------------------------
    @classmethod
    def from_bounds(
        cls, xmin: float, ymin: float, xmax: float, ymax: float, resolution: float,
        crs: str = ALBERS_CHINA,
    ) -> Grid:
        """Grid covering ``[xmin, xmax] x [ymin, ymax]``, snapped outward to ``resolution``."""
        x0 = np.floor(xmin / resolution) * resolution
        y1 = np.ceil(ymax / resolution) * resolution
        cols = int(np.ceil((xmax - x0) / resolution))
        rows = int(np.ceil((y1 - ymin) / resolution))
        return cls(crs, Affine(resolution, 0.0, x0, 0.0, -resolution, y1), (rows, cols))

    # -- geometry -----------------------------------------------------------------
    @property
    def resolution(self) -> float:
        """Cell size in CRS units (metres)."""
        return float(self.transform.a)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(xmin, ymin, xmax, ymax)`` of the outer cell edges."""
        t = self.transform
        rows, cols = self.shape
        return (t.c, t.f + rows * t.e, t.c + cols * t.a, t.f)

    @property
    def x(self) -> np.ndarray:
        """Cell-centre x coordinates (increasing)."""
        return self.transform.c + (np.arange(self.shape[1]) + 0.5) * self.transform.a

    @property
    def y(self) -> np.ndarray:
        """Cell-centre y coordinates (decreasing, north first)."""
        return self.transform.f + (np.arange(self.shape[0]) + 0.5) * self.transform.e

    @property
    def cell_area_km2(self) -> float:
        """Area of one cell in km² (exact on an equal-area CRS)."""
        return abs(self.transform.a * self.transform.e) / 1e6

    # -- conversions --------------------------------------------------------------
    def xy_to_rowcol(self, x, y) -> tuple[np.ndarray, np.ndarray]:
        """Row/column of the cell containing each point; points outside get -1."""
        col_f, row_f = self._fractional_colrow(x, y)
        row = np.floor(row_f).astype("i8")
        col = np.floor(col_f).astype("i8")
        outside = (row < 0) | (row >= self.shape[0]) | (col < 0) | (col >= self.shape[1])
        outside |= ~np.isfinite(row_f) | ~np.isfinite(col_f)
        return np.where(outside, -1, row), np.where(outside, -1, col)

    def rowcol_to_xy(self, row, col) -> tuple[np.ndarray, np.ndarray]:
        """Cell-centre x/y of row/column indices."""
        t = self.transform
        return (t.c + (np.asarray(col, "f8") + 0.5) * t.a,
                t.f + (np.asarray(row, "f8") + 0.5) * t.e)

    def _fractional_colrow(self, x, y) -> tuple[np.ndarray, np.ndarray]:
        t = self.transform
        return (np.asarray(x, "f8") - t.c) / t.a, (np.asarray(y, "f8") - t.f) / t.e

    def lonlat_to_rowcol(self, lon, lat) -> tuple[np.ndarray, np.ndarray]:
        """Row/column of the cell containing each lon/lat point; -1 outside."""
        return self.xy_to_rowcol(*lonlat_to_xy(lon, lat, self.crs))

    def rowcol_to_lonlat(self, row, col) -> tuple[np.ndarray, np.ndarray]:
        """Lon/lat of cell centres."""
        return xy_to_lonlat(*self.rowcol_to_xy(row, col), self.crs)

    def lonlat(self) -> tuple[np.ndarray, np.ndarray]:
        """Lon/lat of every cell centre, each shaped like the grid."""
        xx, yy = np.meshgrid(self.x, self.y)
        return xy_to_lonlat(xx, yy, self.crs)

    # -- windows ------------------------------------------------------------------
    def window(self, rows: slice, cols: slice) -> Grid:
        """Sub-grid of a row/column window (slices with step 1, clipped to the grid)."""
        r0, r1, _ = rows.indices(self.shape[0])
        c0, c1, _ = cols.indices(self.shape[1])
        if r1 <= r0 or c1 <= c0:
            raise ValueError(f"Empty window rows={rows} cols={cols} for grid shape {self.shape}")
        return self._shifted(r0, c0, (r1 - r0, c1 - c0))

    def _shifted(self, rows: int, cols: int, shape: tuple[int, int]) -> Grid:
        t = self.transform
        return Grid(self.crs, Affine(t.a, 0.0, t.c + cols * t.a, 0.0, t.e, t.f + rows * t.e),
                    shape)

    def coarsen(self, factor: int) -> Grid:
        """The grid of ``factor`` × ``factor`` blocks (the last row/column may be partial)."""
        t = self.transform
        return Grid(self.crs, Affine(t.a * factor, t.b, t.c, t.d, t.e * factor, t.f),
                    (-(-self.shape[0] // factor), -(-self.shape[1] // factor)))

    def padded(self, cells: int) -> Grid:
        """The grid grown by ``cells`` on every side."""
        rows, cols = self.shape
        return self._shifted(-cells, -cells, (rows + 2 * cells, cols + 2 * cells))

    def window_slices(self, xmin: float, ymin: float, xmax: float, ymax: float
                      ) -> tuple[slice, slice]:
        """Row/column slices of the cells that intersect a bounding box, clipped to the grid.

        Raises
        ------
        ValueError
            If the box does not overlap the grid.
        """
        c0_f, r0_f = self._fractional_colrow(xmin, ymax)
        c1_f, r1_f = self._fractional_colrow(xmax, ymin)
        r0, c0 = max(int(np.floor(r0_f)), 0), max(int(np.floor(c0_f)), 0)
        r1 = min(int(np.ceil(r1_f)), self.shape[0])
        c1 = min(int(np.ceil(c1_f)), self.shape[1])
        if r1 <= r0 or c1 <= c0:
            raise ValueError(
                f"Box ({xmin:.0f}, {ymin:.0f}, {xmax:.0f}, {ymax:.0f}) lies outside the grid "
                f"bounds {tuple(round(b) for b in self.bounds)}; choose a region inside China."
            )
        return slice(r0, r1), slice(c0, c1)

    def offset_in(self, parent: Grid) -> tuple[int, int]:
        """Row/column offset of this grid's upper-left cell inside ``parent``."""
        col, row = parent._fractional_colrow(self.transform.c, self.transform.f)
        return int(np.round(row)), int(np.round(col))

    # -- masks --------------------------------------------------------------------
    def mask(self, geometry, crs: str = "EPSG:4326", all_touched: bool = False) -> np.ndarray:
        """Boolean array, True for cells whose centre lies inside ``geometry``.

        Parameters
        ----------
        geometry : shapely geometry
            Polygon or MultiPolygon.
        crs : str
            CRS of ``geometry``; it is projected onto the grid's CRS first.
        all_touched : bool
            Select every cell the geometry touches instead of centre-inside cells.
        """
        geom = self.project(geometry, crs)
        if geom.is_empty:
            return np.zeros(self.shape, dtype=bool)
        return ~geometry_mask([geom], out_shape=self.shape, transform=self.transform,
                              all_touched=all_touched)

    def project(self, geometry, crs: str = "EPSG:4326"):
        """Return ``geometry`` in the grid's CRS (unchanged if already there)."""
        if CRS.from_user_input(crs) == CRS.from_user_input(self.crs):
            return geometry
        t = _transformer(crs, self.crs)
        return shapely.transform(geometry, lambda xy: np.column_stack(t.transform(*xy.T)))

    # -- metadata -----------------------------------------------------------------
    def cf_grid_mapping(self) -> dict[str, object]:
        """CF ``grid_mapping`` attributes (plus GDAL's GeoTransform) for the grid's CRS."""
        attrs = CRS.from_user_input(self.crs).to_cf()
        attrs["crs_wkt"] = CRS.from_user_input(self.crs).to_wkt()
        t = self.transform
        attrs["GeoTransform"] = " ".join(str(v) for v in (t.c, t.a, t.b, t.f, t.d, t.e))
        return attrs

    @classmethod
    def from_coords(cls, x: np.ndarray, y: np.ndarray, crs: str = ALBERS_CHINA) -> Grid:
        """Rebuild a grid from regularly spaced cell-centre coordinates."""
        res = float(x[1] - x[0]) if len(x) > 1 else float(y[0] - y[1])
        return cls(crs, Affine(res, 0.0, float(x[0]) - res / 2, 0.0, -res, float(y[0]) + res / 2),
                   (len(y), len(x)))


def china_grid(resolution: float = 1000.0) -> Grid:
    """The national analysis grid: ESRI:102025 at ``resolution`` metres over mainland China."""
    return Grid.from_bounds(*_CHINA_BOUNDS_M, resolution=resolution)


def china_window(bbox: tuple[float, float, float, float] | None,
                 resolution: float = 1000.0) -> Grid:
    """The national grid, or its window covering a lon/lat box (degrees).

    Parameters
    ----------
    bbox : (lon_min, lat_min, lon_max, lat_max) or None
        Degrees (WGS84); ``None`` for all of mainland China.
    resolution : float
        Cell size, m.
    """
    grid = china_grid(resolution)
    if bbox is None:
        return grid
    # the box's edges, densified: a parallel bows south between two corners that
    # straddle the central meridian
    xmin, ymin, xmax, ymax = _transformer("EPSG:4326", ALBERS_CHINA).transform_bounds(
        *bbox, densify_pts=21)
    rows, cols = grid.window_slices(xmin, ymin, xmax, ymax)
    return grid.window(rows, cols)


def bilinear_sample(field: np.ndarray, lat_axis: np.ndarray, lon_axis: np.ndarray,
                    lat, lon) -> np.ndarray:
    """Bilinear interpolation of a regular lon/lat field at points.

    Parameters
    ----------
    field : numpy.ndarray
        Values on ``(..., lat_axis.size, lon_axis.size)``; both axes ascending and
        evenly spaced. Points beyond the outermost cell centres take the edge value.
    lat_axis, lon_axis : numpy.ndarray
        Cell-centre coordinates.
    lat, lon : array_like
        Points (same shape).

    Returns
    -------
    numpy.ndarray
        Shape ``field.shape[:-2] + lat.shape``.
    """
    i0, j0, wi, wj = bilinear_weights(lat_axis, lon_axis, lat, lon)
    dtype = field.dtype if field.dtype.kind == "f" else np.dtype("f8")
    wi, wj = wi.astype(dtype), wj.astype(dtype)
    f00 = field[..., i0, j0]
    f01 = field[..., i0, j0 + 1]
    f10 = field[..., i0 + 1, j0]
    f11 = field[..., i0 + 1, j0 + 1]
    return (f00 * (1 - wi) * (1 - wj) + f01 * (1 - wi) * wj
            + f10 * wi * (1 - wj) + f11 * wi * wj)


def intermittent_sample(field: np.ndarray, lat_axis: np.ndarray, lon_axis: np.ndarray,
                        lat, lon) -> np.ndarray:
    """Interpolate an intermittent field such as daily rain, keeping its wet-day statistics.

    Plain bilinear interpolation smears rain into the dry cells next to wet ones and
    makes every point wet more often than any cell. Here a point is wet when the
    bilinear interpolation of the wet indicator (value > 0) is at least 0.5, and its
    amount is the bilinear-weighted mean of the wet neighbours, so the wet area keeps
    its size and wet-day amounts keep their distribution.

    Parameters and shapes are those of :func:`bilinear_sample`.
    """
    field = np.asarray(field)
    i0, j0, wi, wj = bilinear_weights(lat_axis, lon_axis, lat, lon)
    points = np.shape(i0)
    lead = field.shape[:-2]
    stack = field.reshape(-1, *field.shape[-2:])
    out = np.empty((stack.shape[0], i0.size), field.dtype if field.dtype.kind == "f" else "f8")
    _intermittent(stack, i0.ravel(), j0.ravel(), wi.ravel(), wj.ravel(), out)
    return out.reshape(lead + points)


@numba.njit(parallel=True, cache=True)
def _intermittent(field, i0, j0, wi, wj, out):
    """:func:`intermittent_sample` of (n, lat, lon) fields at points, in float64.

    The sums run in the order of the formula's first, numpy version (corners (i0, j0),
    (i0, j0+1), (i0+1, j0), (i0+1, j0+1)), so the values are the same bit for bit: the
    forests were trained on station rows sampled that way.
    """
    for p in numba.prange(i0.size):
        i, j, a, b = i0[p], j0[p], wi[p], wj[p]
        w00, w01, w10, w11 = (1 - a) * (1 - b), (1 - a) * b, a * (1 - b), a * b
        for t in range(field.shape[0]):
            v00 = np.float64(field[t, i, j])
            v01 = np.float64(field[t, i, j + 1])
            v10 = np.float64(field[t, i + 1, j])
            v11 = np.float64(field[t, i + 1, j + 1])
            wet = (w00 * (v00 > 0) + w01 * (v01 > 0)) + w10 * (v10 > 0) + w11 * (v11 > 0)
            amount = ((w00 * v00 + w01 * v01) + w10 * v10) + w11 * v11
            out[t, p] = amount / wet if wet >= 0.5 else 0.0


def bilinear_weights(lat_axis: np.ndarray, lon_axis: np.ndarray, lat, lon
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Lower-left cell indices and fractional offsets for bilinear interpolation.

    The value at a point is ``f[i0, j0] (1-wi)(1-wj) + f[i0, j0+1] (1-wi) wj
    + f[i0+1, j0] wi (1-wj) + f[i0+1, j0+1] wi wj``; see :func:`bilinear_sample`.
    """
    lat = np.asarray(lat, "f8")
    lon = np.asarray(lon, "f8")
    fi = np.clip((lat - lat_axis[0]) / (lat_axis[1] - lat_axis[0]), 0, lat_axis.size - 1)
    fj = np.clip((lon - lon_axis[0]) / (lon_axis[1] - lon_axis[0]), 0, lon_axis.size - 1)
    i0 = np.minimum(np.floor(fi).astype("i8"), lat_axis.size - 2)
    j0 = np.minimum(np.floor(fj).astype("i8"), lon_axis.size - 2)
    return i0, j0, fi - i0, fj - j0


def nearest_sample(field: np.ndarray, lat_axis: np.ndarray, lon_axis: np.ndarray,
                   lat, lon) -> np.ndarray:
    """Nearest-cell lookup of a regular lon/lat field (ascending axes) at points."""
    i = np.rint((np.asarray(lat, "f8") - lat_axis[0]) / (lat_axis[1] - lat_axis[0]))
    j = np.rint((np.asarray(lon, "f8") - lon_axis[0]) / (lon_axis[1] - lon_axis[0]))
    i = np.clip(i, 0, lat_axis.size - 1).astype("i8")
    j = np.clip(j, 0, lon_axis.size - 1).astype("i8")
    return field[..., i, j]


def every_nth_cell(ds, stride: int):
    """Every ``stride``-th cell of a (y, x) dataset in each direction: each block's centre.

    The climate record is predicted on these cells, not on block means, so a record
    cell's values are one 1 km cell's values.
    """
    if stride < 1:
        raise ValueError(f"stride must be >= 1, got {stride}")
    if stride == 1:
        return ds
    start = stride // 2
    return ds.isel(y=slice(start, None, stride), x=slice(start, None, stride))
