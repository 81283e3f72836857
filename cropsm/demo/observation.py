"""What a station measures: a point in a 1 km pixel, sampled by hand.

The demo world's truth is the soil moisture (SM) of a 1 km pixel. An AMS station augers
one spot of one field, so it does not measure the pixel mean. Following the in-situ
literature, a station's reading of layer ``l`` on day ``t`` is

``obs = clip(truth + offset + error(t) + noise(t), residual, saturation)``

with three independent parts (all in m³ m⁻³):

``offset`` (:func:`station_offsets`)
    a persistent difference between the station's spot and its pixel's mean: the
    "temporal stability" of the rank of a point within its field (Vachaud et al. 1985,
    Soil Sci. Soc. Am. J. 49, 822-828), the time-stable part of the point-to-footprint
    representativeness error (Crow et al. 2012, Rev. Geophys. 50, RG2002,
    doi:10.1029/2011RG000372). One draw per station and layer, sd :data:`OFFSET_SD`.
``error(t)`` (:func:`representativeness_errors`)
    the time-varying part of that representativeness error (Crow et al. 2012): a spot
    wets and dries a little differently from its pixel after each rain, and the
    difference fades. An AR(1) process in daily time, sd :data:`REPRESENTATIVENESS_SD`
    and e-folding time :data:`E_FOLDING_DAYS`, so two visits 10 days apart keep a
    correlation of ``exp(-10 / 20) = 0.61``.
``noise(t)`` (:func:`sampling_noise`)
    gravimetric sampling: a new core at a slightly different place each visit, weighing,
    and the bulk density that converts it to a volume fraction. White, sd
    :data:`SAMPLING_SD`.

Offsets and errors are correlated across layers (the soil of one spot differs from the
pixel mean in a similar way at adjacent depths): the correlation of layers ``i`` and
``j`` is ``LAYER_CORRELATION ** |i - j|``. The noise is independent between layers.

The sum is kept within the soil's bounds by :func:`observe`, either by clipping (the
default, as the world did before) or, with ``bounds="soft"``, by shrinking a deviation
towards a bound by the room left (an assumption of this demo: a point cannot be much
drier than an air-dry pixel nor much wetter than a saturated one). Clipping piles
readings up at the residual where the topsoil is near air-dry: in one synthetic run of
:mod:`cropsm.demo.soilwater` (600 made-up columns, 200-900 mm of rain a year; an
indication, not a property of the world) 12 % of the thawed 0-10 cm readings and 2 % of
the deeper ones were clipped at the residual and 0.05 % at saturation; soft bounds leave
only the 2 % whose truth itself sits at the residual.

A visit is missed, all five layers together, with probability :data:`P_MISS`
(:func:`missed_visits`), and no sample is taken on a day whose mean temperature is
below 0 °C (:func:`observable`): frozen soil is not augered.

The constants are chosen, not read from a table. Famiglietti et al. (2008, Water
Resour. Res. 44, W01423, doi:10.1029/2006WR005804) report within-footprint spatial sds
of SM of roughly 0.02-0.05 m³ m⁻³ at extents of about 1 km; the spread of a point
around its pixel mean on a given day here is ``sqrt(0.03² + 0.02²) = 0.036``, inside
that range. The split between a persistent part (69 % of that variance) and a
transient part follows the qualitative finding of Vachaud et al. (1985) that points
keep their rank within a field; the share itself is a choice. The e-folding time of 20
days, the sampling sd of 0.01 and the layer correlation of 0.7 are assumptions of this
demo, not published values. :data:`P_MISS` is the demo world's earlier rate.

Why the station SM spread rises
-------------------------------
The sd of station SM (over stations and visits) is the truth's sd plus the point-scale
variance: ``sqrt(sd_truth² + OFFSET_SD² + REPRESENTATIVENESS_SD² + SAMPLING_SD²)``.
The offsets' variance *is* their between-station spread (one draw per station, mean
0), so it enters once. With the truth's 0-10 cm sd of about 0.055 that gives
``sqrt(0.055² + 0.0014) = 0.067``; the point-scale error alone is
``sqrt(0.0014) = 0.037``. ChinaCropSM1km's r of 0.93 with an ubRMSE of 0.033 implies a
station sd of about 0.09 (``0.033 / sqrt(1 - 0.93²)``, if the stations are the product
plus an independent error), so the rest of the rise (a truth sd of about
``sqrt(0.09² - 0.0014) = 0.082``) has to come from the truth itself. Near the bounds
the rise is smaller than the sum of variances: clipping (or soft bounds) removes part
of the deviations there.

Determinism
-----------
Every draw comes from a generator seeded by ``(seed, "OBS", part, station, year)``,
where ``station`` is a 64-bit BLAKE2b hash of the station id and ``year`` a calendar
year block of daily draws. A station therefore gets the same offsets, errors, noise
and missed visits whichever other stations are simulated with it, in whatever order,
and whichever window of dates is asked for (a request for 2016 alone returns exactly
the 2016 values of a request for 2015-2016): the lead can simulate year by year
without a seam. The AR(1) error is a moving sum of daily innovations truncated after
``ceil(E_FOLDING_DAYS x ln 10⁶)`` days (where ``rho ** K < 10⁻⁶``), which makes it a
function of the date alone; its autocorrelation differs from ``rho ** lag`` by less
than 10⁻¹¹ at lags up to 40 days and less than 10⁻⁶ at any lag, and its sd is exact.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

__all__ = [
    "E_FOLDING_DAYS",
    "LAYER_CORRELATION",
    "OFFSET_SD",
    "P_MISS",
    "REPRESENTATIVENESS_SD",
    "SAMPLING_SD",
    "StationIds",
    "clipped_fraction",
    "missed_visits",
    "observable",
    "observe",
    "representativeness_errors",
    "sampling_noise",
    "station_key",
    "station_observations",
    "station_offsets",
]

#: sd of a station's persistent offset from its pixel mean (m³ m⁻³); with the
#: representativeness error, a within-pixel spread inside Famiglietti et al.'s 0.02-0.05.
OFFSET_SD = 0.03
#: sd of the time-varying representativeness error (m³ m⁻³).
REPRESENTATIVENESS_SD = 0.02
#: e-folding time of the representativeness error (days): AR(1) rho = exp(-1 / 20).
E_FOLDING_DAYS = 20.0
#: sd of the gravimetric sampling noise of one visit and layer (m³ m⁻³).
SAMPLING_SD = 0.01
#: Correlation of offsets (and errors) of adjacent 10 cm layers; ``r ** |i - j|`` apart.
LAYER_CORRELATION = 0.7
#: Chance that a visit (all layers) is missed.
P_MISS = 0.08

#: Station identifiers: a list of str or a numpy array of str.
StationIds = Sequence[str] | np.ndarray

_TAG = 0x4F4253  # "OBS"
_OFFSET, _ERROR, _NOISE, _MISS = 1, 2, 3, 4
_BLOCK = 366  # daily draws per calendar-year block, indexed by day of year - 1
_TRUNCATION = math.log(1e6)  # the AR(1) moving sum stops where rho ** k < 1e-6


def station_key(station_id: str) -> int:
    """A stable 64-bit integer for a station id (BLAKE2b, not Python's salted ``hash``).

    Parameters
    ----------
    station_id : str
        Station identifier, e.g. ``"W012"``.

    Returns
    -------
    int
        In ``[0, 2**64)``; the same on every platform and run.
    """
    digest = hashlib.blake2b(str(station_id).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def _generator(seed: int, part: int, key: int, block: int = 0) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([int(seed), _TAG, part, key, block]))


def _check_correlation(r: float) -> float:
    if not -1.0 < r < 1.0:
        raise ValueError(f"layer_correlation must be in (-1, 1), got {r}")
    return float(r)


def _layer_mix(z: np.ndarray, r: float) -> np.ndarray:
    """Correlate independent standard normals along axis 0 (layers): corr ``r ** |i - j|``.

    A first-order recursion down the profile, which is the Cholesky factor of that
    correlation matrix: layer ``i`` depends on the draws of layers ``0..i`` only, so the
    top layers are the same whatever ``n_layers`` is.
    """
    out = np.empty_like(z)
    if z.shape[0] == 0:
        return out
    out[0] = z[0]
    scale = math.sqrt(1.0 - r * r)
    for i in range(1, z.shape[0]):
        out[i] = r * out[i - 1] + scale * z[i]
    return out


def _day_numbers(dates: pd.DatetimeIndex) -> np.ndarray:
    days = pd.DatetimeIndex(dates)
    if days.tz is not None:
        raise ValueError("dates must be time-zone naive")
    return days.normalize().values.astype("datetime64[D]").astype("i8")


def _daily_draws(seed: int, part: int, key: int, first_day: int, last_day: int,
                 n_rows: int, kind: str) -> np.ndarray:
    """Daily draws of one station from ``first_day`` to ``last_day`` (days since 1970).

    Returns ``(n_rows, last_day - first_day + 1)``. Each calendar year is one block of
    :data:`_BLOCK` days drawn from its own generator, so a day's value does not depend
    on the window asked for.
    """
    first = np.datetime64(first_day, "D")
    last = np.datetime64(last_day, "D")
    y0 = first.astype("datetime64[Y]").astype(int) + 1970
    y1 = last.astype("datetime64[Y]").astype(int) + 1970
    pieces = []
    for year in range(y0, y1 + 1):
        rng = _generator(seed, part, key, year)
        block = (rng.standard_normal((n_rows, _BLOCK)) if kind == "normal"
                 else rng.random((n_rows, _BLOCK)))
        start = np.datetime64(f"{year:04d}-01-01", "D").astype("i8")
        n_days = 366 if (year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)) else 365
        lo = max(first_day, start) - start
        hi = min(last_day, start + n_days - 1) - start
        pieces.append(block[:, lo:hi + 1])
    return np.concatenate(pieces, axis=1)


def station_offsets(seed: int, station_ids: StationIds, n_layers: int,
                    sd: float = OFFSET_SD,
                    layer_correlation: float = LAYER_CORRELATION) -> np.ndarray:
    """Persistent offset of each station's point from its pixel mean, per layer.

    Parameters
    ----------
    seed : int
        World seed.
    station_ids : sequence of str or numpy.ndarray of str
        Station identifiers; each station's draw depends on its id only.
    n_layers : int
        Number of soil layers, top first.
    sd : float
        Standard deviation of the offsets (m³ m⁻³); default :data:`OFFSET_SD`.
    layer_correlation : float
        Correlation of adjacent layers; layers ``k`` apart are correlated
        ``layer_correlation ** k``.

    Returns
    -------
    numpy.ndarray
        float64 ``(n_stations, n_layers)``, mean 0 (m³ m⁻³).
    """
    r = _check_correlation(layer_correlation)
    out = np.empty((len(station_ids), n_layers))
    for s, sid in enumerate(station_ids):
        z = _generator(seed, _OFFSET, station_key(sid)).standard_normal(n_layers)
        out[s] = sd * _layer_mix(z, r)
    return out


def representativeness_errors(seed: int, station_ids: StationIds, dates: pd.DatetimeIndex,
                              n_layers: int, sd: float = REPRESENTATIVENESS_SD,
                              e_folding_days: float = E_FOLDING_DAYS,
                              layer_correlation: float = LAYER_CORRELATION) -> np.ndarray:
    """Time-varying point-minus-pixel error: an AR(1) process in daily time.

    The process runs on every day; only ``dates`` are returned, so two requested dates
    ``g`` days apart are correlated ``exp(-g / e_folding_days)`` whatever lies between.

    Parameters
    ----------
    seed : int
        World seed.
    station_ids : sequence of str or numpy.ndarray of str
        Station identifiers; each station's series depends on its id only.
    dates : pandas.DatetimeIndex
        Days the errors are needed on (any order, e.g. the visit days only).
    n_layers : int
        Number of soil layers, top first.
    sd : float
        Stationary standard deviation (m³ m⁻³); default :data:`REPRESENTATIVENESS_SD`.
    e_folding_days : float
        Days over which the autocorrelation falls to 1/e; daily ``rho = exp(-1 / e_folding_days)``.
    layer_correlation : float
        Correlation of adjacent layers at the same day (``** k`` for layers ``k`` apart).

    Returns
    -------
    numpy.ndarray
        float64 ``(n_layers, n_dates, n_stations)`` (m³ m⁻³).
    """
    if not e_folding_days > 0:
        raise ValueError(f"e_folding_days must be positive, got {e_folding_days}")
    r = _check_correlation(layer_correlation)
    day = _day_numbers(dates)
    out = np.empty((n_layers, day.size, len(station_ids)))
    if day.size == 0 or n_layers == 0:
        return out
    rho = math.exp(-1.0 / e_folding_days)
    k = math.ceil(e_folding_days * _TRUNCATION)
    taps = rho ** np.arange(k + 1)
    taps *= sd / math.sqrt(float(np.sum(taps**2)))
    first, last = int(day.min()) - k, int(day.max())
    # the window of innovations ending on each requested day, newest first
    lags = (day - first)[:, None] - np.arange(k + 1)[None, :]
    for s, sid in enumerate(station_ids):
        z = _daily_draws(seed, _ERROR, station_key(sid), first, last, n_layers, "normal")
        z = _layer_mix(z, r)
        out[:, :, s] = z[:, lags] @ taps
    return out


def sampling_noise(seed: int, station_ids: StationIds, dates: pd.DatetimeIndex,
                   n_layers: int, sd: float = SAMPLING_SD) -> np.ndarray:
    """White gravimetric sampling noise of each visit and layer.

    Parameters
    ----------
    seed : int
        World seed.
    station_ids : sequence of str or numpy.ndarray of str
        Station identifiers; each station's draws depend on its id and the day only.
    dates : pandas.DatetimeIndex
        Visit days.
    n_layers : int
        Number of soil layers.
    sd : float
        Standard deviation (m³ m⁻³); default :data:`SAMPLING_SD`.

    Returns
    -------
    numpy.ndarray
        float64 ``(n_layers, n_dates, n_stations)`` (m³ m⁻³), independent between layers.
    """
    day = _day_numbers(dates)
    out = np.empty((n_layers, day.size, len(station_ids)))
    if day.size == 0 or n_layers == 0:
        return out
    first, last = int(day.min()), int(day.max())
    for s, sid in enumerate(station_ids):
        z = _daily_draws(seed, _NOISE, station_key(sid), first, last, n_layers, "normal")
        out[:, :, s] = sd * z[:, day - first]
    return out


def missed_visits(seed: int, station_ids: StationIds, dates: pd.DatetimeIndex,
                  p_miss: float = P_MISS) -> np.ndarray:
    """Whether each visit is missed; a missed visit misses every layer.

    Parameters
    ----------
    seed : int
        World seed.
    station_ids : sequence of str or numpy.ndarray of str
        Station identifiers; each station's draws depend on its id and the day only.
    dates : pandas.DatetimeIndex
        Visit days.
    p_miss : float
        Chance that a visit is missed (0-1); default :data:`P_MISS`.

    Returns
    -------
    numpy.ndarray
        bool ``(n_dates, n_stations)``: True where the visit is missed. There is no
        layer axis: broadcast it over the layers.
    """
    day = _day_numbers(dates)
    out = np.zeros((day.size, len(station_ids)), dtype=bool)
    if day.size == 0:
        return out
    first, last = int(day.min()), int(day.max())
    for s, sid in enumerate(station_ids):
        u = _daily_draws(seed, _MISS, station_key(sid), first, last, 1, "uniform")[0]
        out[:, s] = u[day - first] < p_miss
    return out


def observable(daily_temperature_c: np.ndarray) -> np.ndarray:
    """Whether the soil can be sampled: daily mean temperature at or above 0 °C.

    Parameters
    ----------
    daily_temperature_c : array_like
        Daily mean air temperature (°C), any shape, e.g. ``(n_dates, n_stations)``.

    Returns
    -------
    numpy.ndarray
        bool, same shape; False below 0 °C (frozen soil is not augered) and where the
        temperature is NaN.
    """
    t = np.asarray(daily_temperature_c, dtype="f8")
    return t >= 0.0


def observe(truth: np.ndarray, offsets: np.ndarray, errors: np.ndarray,
            residual: np.ndarray | float, saturation: np.ndarray | float, *,
            noise: np.ndarray | None = None,
            bounds: Literal["clip", "soft"] = "clip") -> np.ndarray:
    """A station's reading: truth plus the point-scale errors, kept physical.

    Parameters
    ----------
    truth : numpy.ndarray
        Pixel SM, ``(n_layers, n_dates, n_stations)`` (m³ m⁻³).
    offsets : numpy.ndarray
        :func:`station_offsets`, ``(n_stations, n_layers)`` (m³ m⁻³).
    errors : numpy.ndarray
        :func:`representativeness_errors`, shaped as ``truth`` (m³ m⁻³).
    residual, saturation : numpy.ndarray or float
        Lower and upper bounds (m³ m⁻³), broadcastable to ``truth``: ``(n_stations,)``
        for one value per station, ``(n_layers, 1, n_stations)`` per layer.
    noise : numpy.ndarray, optional
        Sampling noise shaped as ``truth`` (m³ m⁻³): :func:`sampling_noise`, which is
        deterministic per station and day. None adds no sampling noise.
    bounds : {"clip", "soft"}
        ``"clip"``: ``clip(truth + d, residual, saturation)`` with ``d`` the sum of the
        point-scale parts; readings equal to a bound were clipped, and they pile up there
        when the truth is near a bound (the dry topsoil). ``"soft"``: a deviation towards a
        bound is shrunk by the room left, ``truth - room * (1 - exp(d / room))`` for
        ``d < 0`` with ``room = truth - residual`` (and its mirror towards
        ``saturation``), which is ``truth + d`` for ``|d| << room``, never crosses the
        bound and makes the point-to-pixel spread shrink at the dry and wet ends.

    Returns
    -------
    numpy.ndarray
        float64, shaped as ``truth`` (m³ m⁻³), within ``[residual, saturation]``.
    """
    truth = np.asarray(truth, dtype="f8")
    offsets = np.asarray(offsets, dtype="f8")
    if truth.ndim != 3 or offsets.shape != (truth.shape[2], truth.shape[0]):
        raise ValueError(f"offsets {offsets.shape} do not match truth {truth.shape}: "
                         "expected (n_stations, n_layers) and (n_layers, n_dates, n_stations)")
    if bounds not in ("clip", "soft"):
        raise ValueError(f"bounds must be 'clip' or 'soft', got {bounds!r}")
    d = offsets.T[:, None, :] + np.asarray(errors, "f8")
    if noise is not None:
        d = d + np.asarray(noise, "f8")
    if bounds == "soft":
        d = _soft_deviation(truth, d, residual, saturation)
    return np.clip(truth + d, residual, saturation)


def _soft_deviation(truth: np.ndarray, d: np.ndarray, residual: np.ndarray | float,
                    saturation: np.ndarray | float) -> np.ndarray:
    """Shrink a deviation towards a bound by the room left: ``room * (1 - exp(-|d| / room))``."""
    room = np.where(d < 0, truth - np.asarray(residual, "f8"),
                    np.asarray(saturation, "f8") - truth)
    room = np.maximum(room, 0.0)
    safe = np.where(room > 0, room, 1.0)
    return np.sign(d) * room * -np.expm1(-np.abs(d) / safe)


def clipped_fraction(observed: np.ndarray, residual: np.ndarray | float,
                     saturation: np.ndarray | float) -> tuple[float, float]:
    """Share of readings at the lower and at the upper bound (NaN readings left out).

    Parameters
    ----------
    observed : numpy.ndarray
        :func:`observe` output (m³ m⁻³).
    residual, saturation : numpy.ndarray or float
        The bounds passed to :func:`observe`.

    Returns
    -------
    tuple of float
        ``(at_residual, at_saturation)``, fractions (0-1) of the finite readings.
    """
    observed = np.asarray(observed, "f8")
    finite = np.isfinite(observed)
    n = max(int(finite.sum()), 1)
    low = finite & (observed <= np.broadcast_to(residual, observed.shape))
    high = finite & (observed >= np.broadcast_to(saturation, observed.shape))
    return float(low.sum()) / n, float(high.sum()) / n


def station_observations(seed: int, station_ids: StationIds, dates: pd.DatetimeIndex,
                         truth: np.ndarray, residual: np.ndarray | float,
                         saturation: np.ndarray | float,
                         daily_temperature_c: np.ndarray | None = None,
                         p_miss: float = P_MISS,
                         bounds: Literal["clip", "soft"] = "clip") -> np.ndarray:
    """All of the above: the stations' readings, NaN where no sample was taken.

    Parameters
    ----------
    seed : int
        World seed.
    station_ids : sequence of str or numpy.ndarray of str
        Station identifiers, one per column of ``truth``.
    dates : pandas.DatetimeIndex
        Visit days, one per row of ``truth``.
    truth : numpy.ndarray
        Pixel SM, ``(n_layers, n_dates, n_stations)`` (m³ m⁻³).
    residual, saturation : numpy.ndarray or float
        Bounds (m³ m⁻³), broadcastable to ``truth`` (e.g. ``(n_stations,)``).
    daily_temperature_c : numpy.ndarray, optional
        Daily mean temperature (°C) at the stations, ``(n_dates, n_stations)``; visits
        below 0 °C are not taken. None: no frost rule.
    p_miss : float
        Chance that a visit is missed.
    bounds : {"clip", "soft"}
        How readings are kept within the bounds (see :func:`observe`).

    Returns
    -------
    numpy.ndarray
        float64 ``(n_layers, n_dates, n_stations)`` (m³ m⁻³); NaN on missed or frozen
        visits, all layers together.
    """
    truth = np.asarray(truth, dtype="f8")
    n_layers = truth.shape[0]
    if truth.shape[1:] != (len(dates), len(station_ids)):
        raise ValueError(f"truth {truth.shape} does not match {len(dates)} dates and "
                         f"{len(station_ids)} stations")
    obs = observe(truth, station_offsets(seed, station_ids, n_layers),
                  representativeness_errors(seed, station_ids, dates, n_layers),
                  residual, saturation, noise=sampling_noise(seed, station_ids, dates, n_layers),
                  bounds=bounds)
    taken = ~missed_visits(seed, station_ids, dates, p_miss)
    if daily_temperature_c is not None:
        taken &= observable(daily_temperature_c)
    return np.where(taken[None, :, :], obs, np.nan)
