"""Temperature, potential evapotranspiration and moisture index of the demo world.

Monthly mean temperature is Beijing's real monthly climatology (GHCN-Daily) moved to
other places with a seasonal latitude gradient and the standard lapse rate of
6.5 K km⁻¹. PET follows Thornthwaite (1948) with the day-length correction, and the
moisture index is Thornthwaite's ``Im = (P - PET) / PET`` (the 1955 form, as a
fraction rather than a percentage).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cropsm.demo.weather import DAYS_IN_MONTH, dates_of

__all__ = [
    "monthly_temperature",
    "moisture_index",
    "temperature_climate",
    "thornthwaite_pet",
]

_MID_MONTH_DOY = np.cumsum(DAYS_IN_MONTH) - DAYS_IN_MONTH / 2
LAPSE_RATE = 0.0065  # K m-1


def temperature_climate(tmax: pd.Series, tmin: pd.Series,
                        years: tuple[int, int] = (1993, 2018)) -> np.ndarray:
    """Monthly mean temperature (°C) of a station record, from (Tmax + Tmin) / 2."""
    tavg = ((tmax + tmin) / 2).dropna()
    year = dates_of(tavg).year
    tavg = tavg.loc[(year >= years[0]) & (year <= years[1])]
    return tavg.groupby(dates_of(tavg).month).mean().reindex(range(1, 13)).to_numpy()


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


def thornthwaite_pet(temperature: np.ndarray, lat) -> np.ndarray:
    """Monthly PET (mm month⁻¹) by Thornthwaite (1948), shape of ``temperature``.

    Parameters
    ----------
    temperature : numpy.ndarray
        Monthly mean temperature (°C), first axis the 12 months.
    lat : array_like
        Latitude (degrees), broadcastable to ``temperature.shape[1:]``.
    """
    t = np.maximum(temperature.astype("f8"), 0.0)
    heat_index = np.sum((t / 5.0) ** 1.514, axis=0)
    heat_index = np.maximum(heat_index, 1e-3)
    a = (6.75e-7 * heat_index**3 - 7.71e-5 * heat_index**2 + 1.792e-2 * heat_index + 0.49239)
    out = np.empty(temperature.shape, dtype="f4")
    for m in range(12):
        tm = t[m]
        unadjusted = np.where(tm < 26.5, 16.0 * (10.0 * tm / heat_index) ** a,
                              -415.85 + 32.24 * tm - 0.43 * tm**2)
        correction = (_day_length_hours(lat, _MID_MONTH_DOY[m]) / 12.0) * (DAYS_IN_MONTH[m] / 30.0)
        out[m] = np.where(tm > 0, unadjusted * correction, 0.0)
    return out


def moisture_index(annual_precip, annual_pet) -> np.ndarray:
    """Thornthwaite moisture index ``(P - PET) / PET`` (dimensionless, >= -1)."""
    pet = np.maximum(np.asarray(annual_pet, "f8"), 1.0)
    return ((np.asarray(annual_precip, "f8") - pet) / pet).astype("f4")
