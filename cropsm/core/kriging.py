"""Ordinary kriging of daily station rain onto a regular lon/lat grid.

ChinaCropSM1km kriged its precipitation inputs from the CMA weather stations: "We also
applied the kriging interpolation method to obtain precipitation-related variables
(e.g., pre- and pre-10) from CNMSs." (Cheng et al. 2022, ChinaCropSM1 km, ESSD,
section 2.3.1). :func:`krige_daily` does the same for each day of a station table
with PyKrige: each day, :class:`pykrige.ok.OrdinaryKriging` with
``coordinates_type="geographic"`` (great-circle distances in degrees) fits the day's
variogram to that day's stations. The kriging system is then solved at every node as
``OrdinaryKriging.execute("grid", grid_lon, grid_lat)`` solves it (same matrix, same
inversion, values kept exactly on stations; the tests check the two agree to 1e-5),
except that the great-circle distances from the nodes to the stations, the same every
day, are computed once instead of every day: they were half of ``execute``'s time.
With a moving window (``n_closest_points``) ``execute`` itself is called.

Decisions, day by day:

* A station without a value that day (NaN) is left out of that day only.
* Fewer than :data:`MIN_STATIONS` (3) valid stations: the day's field and variance are
  NaN; the caller refuses the day or fills it.
* Every valid station reads the same value (typically all dry): the field is that
  constant and the variance 0, as PyKrige cannot fit a variogram to no variation.
* A day whose kriging system is singular (e.g. two stations at one place and a
  variogram without nugget) is NaN too, with a warning naming the days.
* Estimates below :data:`TRACE_MM` (0.1 mm day-1), negative ones included, are set to
  0 so that dry areas stay dry: kriging weights can be negative and smear small
  amounts over dry land. 0.1 mm is our choice: it is the resolution daily gauge totals
  are reported to (CMA daily rain is in 0.1 mm; less is recorded only as "trace").
* The variance is the ordinary-kriging variance of the day's fitted variogram, in
  (mm day-1)^2, clipped at 0 (round-off gives tiny negatives at the stations); it is
  not changed by the clipping of the estimate.

Speed, measured on the shared 2-core development machine: 1500 days of 40 stations onto a
100 x 100 grid, every day wet (kriged), take 17 s with one BLAS thread and 24 s with two
(12-16 ms a day, of which about 3 ms fit the variogram and 6 ms solve the system);
flat days are nearly free, so with 60 % of days dry it is 13 s. PyKrige's own
``execute("grid")`` per day took 28 ms a day (42 s) on the same data. The node-station
distances take 8 bytes per node and station (3 MB here); for networks of hundreds of
stations on large grids use ``n_closest_points``.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.linalg
from pykrige.core import great_circle_distance
from pykrige.ok import OrdinaryKriging

from cropsm.core.errors import InputDataError

__all__ = ["MIN_STATIONS", "TRACE_MM", "VARIOGRAM_MODELS", "krige_daily"]

#: Fewest valid stations a day needs to be kriged.
MIN_STATIONS = 3

#: Estimates below this (mm day-1) are set to 0.
TRACE_MM = 0.1

#: Variogram models PyKrige fits.
VARIOGRAM_MODELS = ("linear", "power", "gaussian", "spherical", "exponential",
                    "hole-effect")

#: Distance (degrees) under which a node is on a station, as PyKrige's cut-off.
_EPS = 1e-10


def _window_backend() -> str:
    """PyKrige's compiled moving-window loop if it is installed, else its Python loop."""
    try:
        from pykrige.lib import cok  # noqa: F401  (the compiled kriging loops)
    except ImportError:
        return "loop"
    return "C"


def _solve(model: OrdinaryKriging, between: np.ndarray, to_nodes: np.ndarray,
           on_station: np.ndarray | None, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ordinary kriging of ``z`` at the nodes with ``model``'s fitted variogram.

    The same system and arithmetic as ``OrdinaryKriging.execute(backend="vectorized")``
    (the kriging matrix inverted by :func:`scipy.linalg.inv`, a node on a station takes
    its value exactly), with the distances given instead of computed again every day.
    """
    gamma, params = model.variogram_function, model.variogram_model_parameters
    n = z.size
    a = np.zeros((n + 1, n + 1))
    a[:n, :n] = -gamma(params, between)
    np.fill_diagonal(a, 0.0)
    a[n, :] = 1.0
    a[:, n] = 1.0
    a[n, n] = 0.0
    a_inv = scipy.linalg.inv(a)
    b = np.empty((to_nodes.shape[0], n + 1))
    b[:, :n] = -gamma(params, to_nodes)
    if on_station is not None:
        b[:, :n][on_station] = 0.0
    b[:, n] = 1.0
    weights = b @ a_inv.T
    return weights[:, :n] @ z, -np.einsum("ij,ij->i", weights, b)


def _vector(x, what: str) -> np.ndarray:
    array = np.asarray(x, dtype="f8")
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{what} must be a non-empty 1-D array, got shape {array.shape}.")
    if not np.isfinite(array).all():
        raise ValueError(f"{what} has NaN or infinite coordinates.")
    return array


def krige_daily(lon, lat, values, grid_lon, grid_lat, variogram_model: str = "spherical",
                *, variogram_parameters: dict | list | None = None,
                n_closest_points: int | None = None,
                trace: float = TRACE_MM) -> tuple[np.ndarray, np.ndarray]:
    """Krige each day of station rain onto a lon/lat grid.

    Parameters
    ----------
    lon, lat : array-like, shape (n_stations,)
        Station positions in degrees east and north.
    values : array-like, shape (n_days, n_stations)
        Daily rain in mm day-1, NaN where a station has no value that day.
    grid_lon, grid_lat : array-like
        The grid's node longitudes and latitudes in degrees (1-D).
    variogram_model : str
        One of :data:`VARIOGRAM_MODELS`; its parameters are fitted day by day.
    variogram_parameters : dict or list, optional
        Fixed variogram parameters for every day instead of fitting them, in PyKrige's
        form, e.g. ``{"sill": 20.0, "range": 2.0, "nugget": 0.0}`` (sill in
        (mm day-1)^2, range in degrees of great circle).
    n_closest_points : int, optional
        Krige each node from only its nearest stations (PyKrige's moving window), for
        networks of hundreds of stations; default all valid stations.
    trace : float
        Estimates below this, in mm day-1, are set to 0 (default :data:`TRACE_MM`).

    Returns
    -------
    estimate : numpy.ndarray, shape (n_days, grid_lat.size, grid_lon.size), float32
        Kriged rain in mm day-1, >= 0; NaN on days with fewer than
        :data:`MIN_STATIONS` valid stations or a singular kriging system.
    variance : numpy.ndarray, same shape, float32
        Kriging variance in (mm day-1)^2, >= 0, NaN where ``estimate`` is; 0 on days
        when every station reads the same.

    Raises
    ------
    ValueError
        If the shapes do not fit or a coordinate is not finite, or the variogram model
        is unknown.
    cropsm.core.errors.InputDataError
        If a value is negative or infinite (missing values must be NaN, not a fill
        number such as -9999).

    Warns
    -----
    UserWarning
        Naming the days whose kriging system was singular.
    """
    lon, lat = _vector(lon, "lon"), _vector(lat, "lat")
    grid_lon, grid_lat = _vector(grid_lon, "grid_lon"), _vector(grid_lat, "grid_lat")
    if lon.size != lat.size:
        raise ValueError(f"lon and lat differ in length ({lon.size} and {lat.size}).")
    values = np.asarray(values, dtype="f8")
    if values.ndim != 2 or values.shape[1] != lon.size:
        raise ValueError(f"values must be (n_days, n_stations={lon.size}), "
                         f"got shape {values.shape}.")
    if variogram_model not in VARIOGRAM_MODELS:
        raise ValueError(f"Unknown variogram model {variogram_model!r}; use one of "
                         f"{', '.join(VARIOGRAM_MODELS)}.")
    if np.isinf(values).any() or (values < 0).any():
        bad = int(np.isinf(values).sum() + (values < 0).sum())
        raise InputDataError(f"{bad} station rain values are negative or infinite; "
                             f"rain is >= 0 mm day-1 and a missing value must be NaN.")
    if not trace >= 0:
        raise ValueError(f"trace must be >= 0 mm day-1, got {trace}.")
    if n_closest_points is not None and n_closest_points < 2:
        raise ValueError("n_closest_points must be at least 2.")

    n_days = values.shape[0]
    shape = (n_days, grid_lat.size, grid_lon.size)
    estimate = np.full(shape, np.nan, dtype="f4")
    variance = np.full(shape, np.nan, dtype="f4")
    # Great-circle distances (degrees) between stations and from every node to every
    # station, once for all days; the nodes in PyKrige's "grid" order (meshgrid, lat rows).
    node_lon = np.tile(grid_lon, grid_lat.size)
    node_lat = np.repeat(grid_lat, grid_lon.size)
    to_nodes: np.ndarray = (
        great_circle_distance(node_lon[:, None], node_lat[:, None], lon, lat)
        if n_closest_points is None else np.empty((0, lon.size)))
    on_station = np.abs(to_nodes) <= _EPS
    node_on_station = np.asarray(on_station.any(axis=0))
    between = great_circle_distance(lon[:, None], lat[:, None], lon, lat)
    singular: list[int] = []
    for day in range(n_days):
        valid = np.flatnonzero(np.isfinite(values[day]))
        z = values[day, valid]
        if z.size < MIN_STATIONS:
            continue
        if z.min() == z.max():
            estimate[day] = z[0]
            variance[day] = 0.0
            continue
        try:
            model = OrdinaryKriging(lon[valid], lat[valid], z, variogram_model=variogram_model,
                                    variogram_parameters=variogram_parameters,
                                    coordinates_type="geographic")
            if n_closest_points is not None:
                field, sigma2 = model.execute("grid", grid_lon, grid_lat,
                                              n_closest_points=min(n_closest_points, z.size),
                                              backend=_window_backend())
            else:
                every = valid.size == lon.size    # no copies on complete days
                field, sigma2 = _solve(
                    model, between if every else between[np.ix_(valid, valid)],
                    to_nodes if every else to_nodes[:, valid],
                    on_station[:, valid] if node_on_station[valid].any() else None, z)
        except np.linalg.LinAlgError:
            singular.append(day)
            continue
        estimate[day] = np.ma.getdata(field).reshape(shape[1:])
        variance[day] = np.ma.getdata(sigma2).reshape(shape[1:])
    if singular:
        warnings.warn(f"Kriging system singular on {len(singular)} day(s) (indices "
                      f"{singular[:10]}{' ...' if len(singular) > 10 else ''}); their "
                      f"rain fields are NaN.", UserWarning, stacklevel=2)
    estimate[estimate < trace] = 0.0
    np.maximum(variance, 0.0, out=variance)
    return estimate, variance
