"""Temperature, potential evapotranspiration and moisture index of the demo world.

What is real and what is approximated:

* **Climatology.** Monthly mean temperature is Beijing's real monthly climatology
  (GHCN-Daily CHM00054511, (Tmax + Tmin) / 2, 1993-2018) moved to other places with a
  seasonal latitude gradient and the standard lapse rate of 6.5 K km⁻¹
  (:func:`monthly_temperature`): an approximation of China's climate normals.
* **Year-to-year variation.** The size of monthly anomalies is real: per calendar
  month, the standard deviation across years of Beijing's monthly mean temperature
  (:func:`monthly_anomaly_sd`, same record). Their pattern is synthetic
  (:func:`temperature_anomalies`): smooth Gaussian random fields whose correlation
  falls to 1/e at 16° (1400-1800 km), as monthly temperature anomalies are coherent
  over 1000+ km,
  and a modest month-to-month persistence (AR(1), lag-1 correlation 0.3). Every place
  gets Beijing's anomaly size; there is no trend.
* **PET.** Thornthwaite (1948) with the day-length correction
  (:func:`thornthwaite_pet`). A year's PET uses the year's temperature with the
  climatological heat index (the index is a property of the place's climate), and is
  stored as a factor on the climatological PET (:func:`pet_factor`), capped at 3 where
  the climate is just above freezing and the ratio is ill-conditioned.
* **Moisture index.** Thornthwaite's ``Im = (P - PET) / PET`` (the 1955 form, as a
  fraction rather than a percentage), from the climatology.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cropsm.core.grid import bilinear_sample
from cropsm.demo.weather import DAYS_IN_MONTH, dates_of

__all__ = [
    "heat_index",
    "monthly_anomaly_sd",
    "monthly_temperature",
    "pet_factor",
    "temperature_anomalies",
    "temperature_climate",
    "thornthwaite_pet",
]

_MID_MONTH_DOY = np.cumsum(DAYS_IN_MONTH) - DAYS_IN_MONTH / 2
LAPSE_RATE = 0.0065  # K m-1

#: Fewest valid days for a month's mean temperature to count in :func:`monthly_anomaly_sd`.
MIN_DAYS_PER_MONTH = 25
#: Lag-1 (month-to-month) correlation of the synthetic temperature anomalies.
ANOMALY_PERSISTENCE = 0.3

#: Upper bound of :func:`pet_factor` (see there why).
MAX_PET_FACTOR = 3.0

# Fixed national lattice (0.25°) the anomaly fields are made on, so that every window of
# the world sees the same values (the idea of cropsm.demo.geography.smooth_noise).
_LATTICE_LON = np.arange(70.0, 140.01, 0.25)
_LATTICE_LAT = np.arange(15.0, 56.01, 0.25)
# The white noise behind them: a fixed 1° lattice reaching 30° beyond the national one,
# so that smoothing sees noise beyond the edges (spacing << correlation length).
_NOISE_LON = np.arange(40.0, 170.01, 1.0)
_NOISE_LAT = np.arange(-15.0, 86.01, 1.0)
# AR(1) memory kept: rho**12 < 1e-6 for rho = 0.3.
_AR_MONTHS = 12
# Months smoothed at once (bounds memory: ~45 MB of float64 lattice per 120 months).
_MONTHS_PER_BLOCK = 120


def temperature_climate(tmax: pd.Series, tmin: pd.Series,
                        years: tuple[int, int] = (1993, 2018)) -> np.ndarray:
    """Monthly mean temperature (°C) of a station record, from (Tmax + Tmin) / 2."""
    tavg = ((tmax + tmin) / 2).dropna()
    year = dates_of(tavg).year
    tavg = tavg.loc[(year >= years[0]) & (year <= years[1])]
    return tavg.groupby(dates_of(tavg).month).mean().reindex(range(1, 13)).to_numpy()


def monthly_anomaly_sd(tmax: pd.Series, tmin: pd.Series,
                       years: tuple[int, int] = (1993, 2018),
                       min_days: int = MIN_DAYS_PER_MONTH) -> np.ndarray:
    """Year-to-year standard deviation (K) of each calendar month's mean temperature.

    A month's mean temperature is the mean of its daily (Tmax + Tmin) / 2; a year-month
    counts only if at least ``min_days`` of its days have both Tmax and Tmin (the Beijing
    GHCN-Daily record, CHM00054511, reports only a few days a month from 2013 on, so
    1993-2012 remain). The standard deviation is across the counted years (``ddof=1``),
    without detrending.

    Parameters
    ----------
    tmax, tmin : pandas.Series
        Daily maximum and minimum temperature (°C), indexed by date.
    years : tuple of int
        First and last year used (inclusive).
    min_days : int
        Fewest valid days of a counted year-month.

    Returns
    -------
    numpy.ndarray
        Shape ``(12,)``, January first, in K.

    Raises
    ------
    ValueError
        If a calendar month has fewer than five counted years.
    """
    tavg = ((tmax + tmin) / 2).dropna()
    year = dates_of(tavg).year
    tavg = tavg.loc[(year >= years[0]) & (year <= years[1])]
    when = dates_of(tavg)
    stats = tavg.groupby([when.year, when.month]).agg(["mean", "size"])
    means = stats.loc[stats["size"] >= min_days, "mean"].unstack().reindex(columns=range(1, 13))
    counted = means.count()
    if (counted < 5).any():
        short = [int(m) for m in counted.index[counted < 5]]
        raise ValueError(f"Months {short} have fewer than five years with >= {min_days} days "
                         f"of temperature in {years[0]}-{years[1]}.")
    return means.std(ddof=1).to_numpy("f8")


def _smoothing_rows(centres: np.ndarray, noise: np.ndarray, length_deg: float) -> np.ndarray:
    """Gaussian weights from noise points to lattice points, each row of unit norm."""
    w = np.exp(-0.5 * ((centres[:, None] - noise[None, :]) / length_deg) ** 2)
    return w / np.sqrt((w**2).sum(axis=1, keepdims=True))


def temperature_anomalies(seed: int, lon, lat, months: pd.DatetimeIndex,
                          sd_by_month: np.ndarray, length_deg: float = 8.0,
                          persistence: float = ANOMALY_PERSISTENCE) -> np.ndarray:
    """Monthly temperature anomalies (K), spatially coherent and persistent.

    Each month's field is white noise on a fixed 1° lattice smoothed by a Gaussian
    kernel of standard deviation ``length_deg`` (degrees of longitude and latitude), so
    the correlation between two points ``d`` degrees apart is ``exp(-d² / (4 L²))``: about
    0.996 at 1° (100 km) and 0.06 at 27° (3000 km) for ``L = 8``. The fields follow an
    AR(1) from month to month with lag-1 correlation ``persistence``, are standardised
    to unit variance at every point, then scaled by ``sd_by_month`` of their calendar
    month. They are evaluated on a fixed national 0.25° lattice (70-140° E, 15-56° N) and
    sampled bilinearly at ``lon``/``lat``, so a window sees the national values.

    A month's field depends only on ``seed`` and the 12 months up to it (the AR(1) is
    kept to 12 lags, whose weight ``persistence**12`` is negligible), so any period
    asked for gives the same field for the same month.

    Parameters
    ----------
    seed : int
        World seed; the noise stream is ``(seed, "tas", year, month)``.
    lon, lat : array_like
        Points (degrees), same shape.
    months : pandas.DatetimeIndex
        The months (any day of each; normally month starts).
    sd_by_month : numpy.ndarray
        Standard deviation (K) of each calendar month's anomaly, shape ``(12,)``.
    length_deg : float
        Standard deviation of the smoothing kernel (degrees).
    persistence : float
        Lag-1 correlation of consecutive months, in [0, 1).

    Returns
    -------
    numpy.ndarray of float32
        Shape ``(len(months), *lon.shape)``, in K.
    """
    lon, lat = np.broadcast_arrays(np.asarray(lon, "f8"), np.asarray(lat, "f8"))
    sd_by_month = np.asarray(sd_by_month, "f8")
    if sd_by_month.shape != (12,):
        raise ValueError(f"sd_by_month must have 12 values, got shape {sd_by_month.shape}")
    if not 0.0 <= persistence < 1.0:
        raise ValueError(f"persistence must be in [0, 1), got {persistence}")
    months = pd.DatetimeIndex(months)
    if len(months) == 0:
        return np.empty((0,) + lon.shape, dtype="f4")
    ordinal = (months.year * 12 + months.month - 1).to_numpy()
    wanted = np.unique(ordinal)
    # truncated AR(1): e_t = sqrt(1 - rho^2) * sum_k rho^k w_(t-k), rescaled to unit variance
    lags = persistence ** np.arange(_AR_MONTHS + 1)
    lags /= np.sqrt((lags**2).sum())
    # separable smoothing onto the national lattice; unit-norm rows keep unit variance
    ky = _smoothing_rows(_LATTICE_LAT, _NOISE_LAT, length_deg)
    kx_t = np.ascontiguousarray(_smoothing_rows(_LATTICE_LON, _NOISE_LON, length_deg).T)
    key = [int(seed)] + [ord(ch) for ch in "tas"]
    out = np.empty((wanted.size,) + lon.shape, dtype="f4")
    for start in range(0, wanted.size, _MONTHS_PER_BLOCK):
        block = wanted[start:start + _MONTHS_PER_BLOCK]
        first = int(block[0]) - _AR_MONTHS
        white = _white_noise(key, first, int(block[-1]))
        noise = np.zeros((block.size,) + white.shape[1:], dtype="f8")
        for k, weight in enumerate(lags):
            noise += weight * white[block - first - k]
        # two plain matrix products (lon, then lat): (month, lattice lat, lattice lon)
        along_lon = (noise.reshape(-1, _NOISE_LON.size) @ kx_t).reshape(
            block.size, _NOISE_LAT.size, _LATTICE_LON.size)
        field = (ky @ along_lon.transpose(1, 0, 2).reshape(_NOISE_LAT.size, -1)).reshape(
            _LATTICE_LAT.size, block.size, _LATTICE_LON.size).transpose(1, 0, 2)
        field *= sd_by_month[block % 12][:, None, None]
        out[start:start + block.size] = bilinear_sample(field.astype("f4"), _LATTICE_LAT,
                                                        _LATTICE_LON, lat, lon)
    return out[np.searchsorted(wanted, ordinal)]


def _white_noise(key: list[int], first: int, last: int) -> np.ndarray:
    """Unit white noise on the noise lattice for month ordinals ``first..last`` (year*12+m-1).

    Each month has its own stream ``key + [year, month]``, so a month's noise does not
    depend on the period asked for.
    """
    white = np.empty((last - first + 1, _NOISE_LAT.size, _NOISE_LON.size), dtype="f8")
    for k, n in enumerate(range(first, last + 1)):
        rng = np.random.default_rng(np.random.SeedSequence(key + [n // 12, n % 12 + 1]))
        white[k] = rng.standard_normal((_NOISE_LAT.size, _NOISE_LON.size))
    return white


def monthly_temperature(t_ref: np.ndarray, ref_lat: float, ref_elev: float,
                        lat, elevation) -> np.ndarray:
    """Monthly mean temperature (°C), shape ``(12, *lat.shape)``.

    The latitude gradient is 1.35 K per degree in January and 0.35 K per degree in
    July, close to the north-south contrasts of eastern China's climate normals.
    """
    lat, elevation = np.broadcast_arrays(np.asarray(lat, "f4"), np.asarray(elevation, "f4"))
    phase = np.cos(2 * np.pi * np.arange(12) / 12.0)
    gradient = (0.85 + 0.5 * phase).astype("f4")
    out = np.empty((12,) + lat.shape, dtype="f4")
    for m in range(12):
        out[m] = (t_ref[m] + gradient[m] * (ref_lat - lat)
                  - LAPSE_RATE * (np.nan_to_num(elevation) - ref_elev))
    return out


def _day_length_hours(lat, doy) -> np.ndarray:
    decl = 0.409 * np.sin(2 * np.pi * doy / 365.0 - 1.39)
    cos_ws = np.clip(-np.tan(np.deg2rad(lat)) * np.tan(decl), -1.0, 1.0)
    return 24.0 / np.pi * np.arccos(cos_ws)


def heat_index(temperature_climatology: np.ndarray) -> np.ndarray:
    """Thornthwaite's annual heat index ``I = sum_m (T_m / 5) ** 1.514`` (dimensionless).

    Parameters
    ----------
    temperature_climatology : numpy.ndarray
        Climatological monthly mean temperature (°C), first axis the 12 months;
        months below 0 °C count as 0.

    Returns
    -------
    numpy.ndarray of float64
        Shape ``temperature_climatology.shape[1:]``.
    """
    t = np.maximum(np.asarray(temperature_climatology).astype("f8"), 0.0)
    return np.sum((t / 5.0) ** 1.514, axis=0)


def _exponent(heat: np.ndarray) -> np.ndarray:
    return 6.75e-7 * heat**3 - 7.71e-5 * heat**2 + 1.792e-2 * heat + 0.49239


def _month_pet(tm: np.ndarray, heat: np.ndarray, a: np.ndarray, lat, m: int) -> np.ndarray:
    """Thornthwaite PET (mm month⁻¹) of calendar month ``m`` (0-11) at temperature ``tm`` >= 0."""
    unadjusted = np.where(tm < 26.5, 16.0 * (10.0 * tm / heat) ** a,
                          -415.85 + 32.24 * tm - 0.43 * tm**2)
    correction = (_day_length_hours(lat, _MID_MONTH_DOY[m]) / 12.0) * (DAYS_IN_MONTH[m] / 30.0)
    return np.where(tm > 0, unadjusted * correction, 0.0)


def thornthwaite_pet(temperature: np.ndarray, lat,
                     heat_index: np.ndarray | None = None) -> np.ndarray:
    """Monthly PET (mm month⁻¹) by Thornthwaite (1948), shape of ``temperature``.

    Parameters
    ----------
    temperature : numpy.ndarray
        Monthly mean temperature (°C), first axis the 12 months.
    lat : array_like
        Latitude (degrees), broadcastable to ``temperature.shape[1:]``.
    heat_index : numpy.ndarray, optional
        Annual heat index ``I`` (dimensionless, see :func:`heat_index`) of each cell,
        broadcastable to ``temperature.shape[1:]``; with it, ``I`` and its exponent ``a``
        come from the climate rather than from ``temperature`` (for a single year's
        temperatures). By default ``I`` is computed from ``temperature``.
    """
    t = np.maximum(temperature.astype("f8"), 0.0)
    if heat_index is None:
        heat = np.sum((t / 5.0) ** 1.514, axis=0)
    else:
        heat = np.asarray(heat_index).astype("f8")
    heat = np.maximum(heat, 1e-3)
    a = _exponent(heat)
    out = np.empty(temperature.shape, dtype="f4")
    for m in range(12):
        out[m] = _month_pet(t[m], heat, a, lat, m)
    return out


def pet_factor(t_clim: np.ndarray, anomalies: np.ndarray, months: pd.DatetimeIndex,
               lat, max_factor: float | None = MAX_PET_FACTOR) -> np.ndarray:
    """PET of each year-month over the climatological PET of its calendar month.

    The year's PET is Thornthwaite's at ``t_clim[month] + anomaly`` with the
    climatological heat index (:func:`heat_index` of ``t_clim``) and its exponent; the
    climatological PET is Thornthwaite's at ``t_clim[month]`` with the same index. The
    day-length and month-length corrections cancel. Where the climatological PET is 0
    (a frozen month) the factor is 1; where the year is frozen but the climate is not,
    it is 0.

    The factor is capped at ``max_factor``. Just above 0 °C the ratio is ill-conditioned
    (``((T + dT) / T) ** a`` grows without bound as ``T`` -> 0) while the PET itself is a
    few mm; a 1 km pixel warmer than its coarse cell would multiply its larger
    climatological PET by that ratio (up to x200 and 26 000 mm month⁻¹ without the cap
    in a test over eastern China). With the cap of 3, the coarse cell-months changed
    (about 0.3 %) all have a climatological PET below 6 mm month⁻¹, and at 1 km the
    year's PET stays within 20 mm month⁻¹ of Thornthwaite at the pixel's own
    temperature (99.9 % within 7 mm).

    Parameters
    ----------
    t_clim : numpy.ndarray
        Climatological monthly mean temperature (°C), shape ``(12, ...)``.
    anomalies : numpy.ndarray
        Temperature anomaly (K) of each year-month, shape ``(len(months), ...)``.
    months : pandas.DatetimeIndex
        The year-months of ``anomalies`` (any day of each; normally month starts).
    lat : array_like
        Latitude (degrees), broadcastable to ``t_clim.shape[1:]``.
    max_factor : float or None
        Upper bound of the factor (dimensionless); None for the plain ratio.

    Returns
    -------
    numpy.ndarray of float32
        Shape of ``anomalies``; dimensionless, in ``[0, max_factor]``.
    """
    t_clim = np.asarray(t_clim).astype("f8")
    anomalies = np.asarray(anomalies)
    months = pd.DatetimeIndex(months)
    if anomalies.shape != (len(months),) + t_clim.shape[1:]:
        raise ValueError(f"anomalies must have shape {(len(months),) + t_clim.shape[1:]}, "
                         f"got {anomalies.shape}")
    heat = np.maximum(heat_index(t_clim), 1e-3)
    a = _exponent(heat)
    month = months.month.to_numpy() - 1
    out = np.ones(anomalies.shape, dtype="f4")
    for m in np.unique(month):
        which = month == m
        clim = np.maximum(t_clim[m], 0.0)
        year = np.maximum(t_clim[m] + anomalies[which].astype("f8"), 0.0)
        pet_clim = _month_pet(clim, heat, a, lat, int(m))
        pet_year = _month_pet(year, heat, a, lat, int(m))
        frozen = ~(pet_clim > 0)
        out[which] = np.where(frozen, 1.0, pet_year / np.where(frozen, 1.0, pet_clim))
    if max_factor is not None:
        np.minimum(out, np.float32(max_factor), out=out)
    return out

