"""Static geography of the demo world on real boundaries, rivers, DEM and crop calendars.

What is real and what is approximated:

* Boundary, provinces and rivers are the real vector data in ``cropsm/_assets/maps``.
* Elevation is the real 0.2° DEM, bilinearly interpolated to 1 km.
* Agricultural zones, provinces and river distance come from :mod:`cropsm.core.landscape`,
  shared with ``cropsm ingest``.
* Soil texture is a smooth synthetic field driven by climate and zone (sandy in the
  arid north-west, silty on the Loess Plateau, clayey and organic in the north-east
  and the humid south), with hydraulic properties from Saxton & Rawls (2006).
* Harvested-area fractions are a province-level intensity (:data:`CROP_INTENSITY`,
  rough shares from provincial sown-area statistics) modulated by elevation, aridity
  (dry land is cropped only near rivers, as oases are) and smooth noise.
* Wheat is winter or spring wheat by China's wheat zoning and a winter-survival rule
  (:func:`spring_wheat`). Winter wheat follows the WorldCereal winter-cereal calendar
  (:func:`winter_wheat_sowing`); spring wheat a temperature-driven calendar
  (:func:`spring_wheat_calendar`). :func:`wheat_calendar` merges the two into the
  ``sowing`` and ``eos`` covariates.

Smooth random fields are drawn on a fixed national 0.25° lattice and interpolated, so a
window (the ``tiny`` profile) sees exactly the same world as the national build.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from cropsm.core.crops import CROPLAND_MIN_FRACTION
from cropsm.core.grid import bilinear_sample
from cropsm.core.landscape import GANSU, HEXI_CORRIDOR_LON
from cropsm.demo.weather import DAYS_IN_MONTH

__all__ = [
    "CROP_INTENSITY",
    "SPRING_SOWING_TEMPERATURE",
    "SPRING_SOWING_WINDOW",
    "SPRING_WHEAT_JANUARY_MAX",
    "SPRING_WHEAT_PROVINCES",
    "SPRING_WHEAT_SEASON_DAYS",
    "WHEAT_SOWING_BEFORE_SOS",
    "crop_fraction",
    "smooth_noise",
    "soil_texture",
    "spring_wheat",
    "spring_wheat_calendar",
    "wheat_calendar",
    "winter_wheat_sowing",
]

#: Typical harvested fraction of land, by province; 0 where the crop is negligible.
#: The spring-wheat provinces Heilongjiang (0.04), Inner Mongolia (0.09) and Ningxia (0.20,
#: the irrigated Yellow River plain: the aridity modulation leaves little of it) are set so
#: that spring wheat (:func:`spring_wheat`) is roughly a tenth of China's wheat area in the
#: national world, as in national statistics (about 10 % with the default seed).
CROP_INTENSITY: dict[str, dict[int, float]] = {
    "wheat": {
        410000: 0.55, 370000: 0.45, 130000: 0.30, 340000: 0.30, 320000: 0.30,
        120000: 0.20, 110000: 0.05, 610000: 0.15, 140000: 0.08, 420000: 0.10,
        510000: 0.08, 620000: 0.04, 650000: 0.03, 640000: 0.20, 150000: 0.09,
        530000: 0.02, 520000: 0.02, 500000: 0.02, 630000: 0.01, 230000: 0.04,
        330000: 0.01, 310000: 0.05,
    },
    "maize": {
        220000: 0.30, 230000: 0.15, 210000: 0.25, 150000: 0.04, 130000: 0.25,
        370000: 0.30, 410000: 0.30, 140000: 0.12, 610000: 0.06, 640000: 0.05,
        620000: 0.02, 650000: 0.02, 110000: 0.05, 120000: 0.15, 340000: 0.12,
        320000: 0.04, 510000: 0.05, 500000: 0.05, 530000: 0.05, 520000: 0.04,
        450000: 0.03, 420000: 0.03, 430000: 0.005,
    },
}

_LATTICE_LON = np.arange(70.0, 140.01, 0.25)
_LATTICE_LAT = np.arange(15.0, 56.01, 0.25)


def smooth_noise(seed: int, name: str, lon, lat, length_deg: float = 1.0) -> np.ndarray:
    """Unit-variance smooth random field, sampled at lon/lat points.

    The field lives on a fixed national 0.25° lattice, so every window of the world
    sees the same values for the same ``seed`` and ``name``.
    """
    key = [seed] + [ord(ch) for ch in name]
    rng = np.random.default_rng(np.random.SeedSequence(key))
    white = rng.standard_normal((_LATTICE_LAT.size, _LATTICE_LON.size))
    sigma = length_deg / 0.25
    field = ndimage.gaussian_filter(white, sigma, mode="reflect")
    field = (field - field.mean()) / field.std()
    return bilinear_sample(field.astype("f4"), _LATTICE_LAT, _LATTICE_LON, lat, lon)


def soil_texture(seed: int, lon, lat, annual_precip, zone
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sand and clay mass fractions and organic matter (%) of the topsoil."""
    wet = np.clip((np.log(np.maximum(annual_precip, 20.0)) - np.log(150.0))
                  / (np.log(1800.0) - np.log(150.0)), 0.0, 1.0)
    n1 = smooth_noise(seed, "sand", lon, lat, 1.5)
    n2 = smooth_noise(seed, "clay", lon, lat, 1.5)
    n3 = smooth_noise(seed, "organic", lon, lat, 2.0)
    sand = 0.72 - 0.50 * wet + 0.08 * n1
    clay = 0.08 + 0.22 * wet + 0.05 * n2
    loess = zone == 2
    sand = np.where(loess, sand - 0.15, sand)
    clay = np.where(loess, clay - 0.04, clay)
    northeast = (lon > 120.0) & (lat > 41.0)
    om = 0.4 + 2.0 * wet + 0.4 * n3 + np.where(northeast, 1.5, 0.0)
    sand = np.clip(sand, 0.05, 0.90).astype("f4")
    clay = np.clip(clay, 0.03, 0.55).astype("f4")
    clay = np.minimum(clay, 0.95 - sand)
    return sand, clay, np.clip(om, 0.2, 6.0).astype("f4")


def crop_fraction(seed: int, crop: str, adcode: np.ndarray, lon, lat, elevation,
                  annual_precip, river_km) -> np.ndarray:
    """Harvested-area fraction (0-1) of ``crop`` in every cell."""
    lut = np.zeros(adcode.max() + 1 if adcode.size else 1, dtype="f4")
    for code, value in CROP_INTENSITY[crop].items():
        if code < lut.size:
            lut[code] = value
    intensity = lut[adcode]
    max_elev = 3000.0 if crop == "wheat" else 2300.0
    elev_ok = np.clip((max_elev - np.nan_to_num(elevation, nan=9999.0)) / 500.0, 0.0, 1.0)
    rainfed = np.clip((annual_precip - 250.0) / 200.0, 0.0, 1.0)
    oasis = np.exp(-river_km / 12.0)
    water_ok = np.maximum(rainfed, oasis)
    noise = np.exp(0.6 * smooth_noise(seed, f"crop-{crop}", lon, lat, 0.5) - 0.18)
    frac = np.clip(intensity * elev_ok * water_ok * noise, 0.0, 0.95).astype("f4")
    return np.where(frac >= CROPLAND_MIN_FRACTION, frac, np.float32(0.0))


# --- Wheat: winter or spring, and its calendar ------------------------------------------

#: Winter wheat: WorldCereal's winter-cereal SOS marks spring green-up in North China;
#: sowing is placed this many days earlier (early October for a green-up in early February).
WHEAT_SOWING_BEFORE_SOS = 115

#: Provinces whose wheat is spring wheat in China's wheat zoning (Jin Shanbao (ed.), 1996,
#: *Chinese Wheat Science* (中国小麦学), China Agriculture Press): the north-east spring
#: wheat region (Heilongjiang, Jilin), the northern one (Inner Mongolia) and the north-west
#: one (Ningxia, Qinghai). The Hexi corridor of Gansu and northern Xinjiang are added by
#: :func:`spring_wheat`.
SPRING_WHEAT_PROVINCES: tuple[int, ...] = (230000, 220000, 150000, 640000, 630000)
#: Xinjiang north of this latitude (north of the Tianshan) is taken as spring wheat.
XINJIANG = 650000
NORTHERN_XINJIANG_LAT = 43.0
#: Mean January temperature (°C) below which winter wheat does not survive the winter and
#: wheat is spring wheat: the rule used here, a common approximation of the northern
#: limit of winter wheat.
SPRING_WHEAT_JANUARY_MAX = -10.0

#: Daily mean temperature (°C) whose first crossing in spring sets the spring-wheat sowing
#: day: a few degrees above freezing, roughly when the topsoil has thawed to sowing
#: depth (this project's choice inside the 2-5 °C range of that thaw).
SPRING_SOWING_TEMPERATURE = 3.0
#: Spring wheat is sown in March-April: the sowing day is clamped to these days of year.
SPRING_SOWING_WINDOW = (60.0, 120.0)
#: Sowing to harvest of spring wheat (days): spring wheat in China matures in 100-120
#: days, which puts the harvest in July-August.
SPRING_WHEAT_SEASON_DAYS = 110.0

_MID_MONTH_DOY = np.cumsum(DAYS_IN_MONTH) - DAYS_IN_MONTH / 2


def spring_wheat(adcode, lon, lat, january_temperature) -> np.ndarray:
    """Whether the wheat of each cell is spring wheat (bool array).

    Two rules, either of which makes wheat spring wheat:

    * China's wheat zoning (Jin 1996, see :data:`SPRING_WHEAT_PROVINCES`): Heilongjiang,
      Jilin, Inner Mongolia, Ningxia and Qinghai; Gansu west of
      :data:`HEXI_CORRIDOR_LON` (the Hexi corridor, the split :func:`agricultural_zones`
      uses); Xinjiang north of :data:`NORTHERN_XINJIANG_LAT`.
    * Winter survival: where the mean January temperature is below
      :data:`SPRING_WHEAT_JANUARY_MAX`, winter wheat does not survive the winter.

    Cells outside China (adcode 0) are False; a NaN temperature leaves only the zoning.

    Parameters
    ----------
    adcode : array_like of int
        Province adcode (0 outside China).
    lon, lat : array_like
        Cell centres (degrees), broadcastable to ``adcode``.
    january_temperature : array_like
        Climatological mean January temperature (°C).
    """
    adcode = np.asarray(adcode)
    lon, lat = np.asarray(lon), np.asarray(lat)
    zoned = (np.isin(adcode, SPRING_WHEAT_PROVINCES)
             | ((adcode == GANSU) & (lon < HEXI_CORRIDOR_LON))
             | ((adcode == XINJIANG) & (lat >= NORTHERN_XINJIANG_LAT)))
    with np.errstate(invalid="ignore"):
        cold = np.asarray(january_temperature) < SPRING_WHEAT_JANUARY_MAX
    return np.asarray((zoned | cold) & (adcode > 0))


def spring_wheat_calendar(monthly_temperature) -> tuple[np.ndarray, np.ndarray]:
    """Spring-wheat sowing day and end of season (days of year, float32).

    Sowing is the first day of the year on which the daily mean temperature, interpolated
    linearly between the mid-month values of the climatology, reaches
    :data:`SPRING_SOWING_TEMPERATURE`, rounded to a whole day and clamped to
    :data:`SPRING_SOWING_WINDOW` (March-April); a cell warmer than that by mid-January is
    sown on the window's first day, one still colder by mid-April on its last. The end of
    season is :data:`SPRING_WHEAT_SEASON_DAYS` later. Cells with a NaN month are NaN.

    Parameters
    ----------
    monthly_temperature : array_like
        Monthly mean temperature (°C), shape ``(12, ...)``, as
        :func:`cropsm.demo.climate.monthly_temperature` gives.

    Returns
    -------
    sowing, end_of_season : numpy.ndarray of float32, shape ``monthly_temperature.shape[1:]``
    """
    t = np.asarray(monthly_temperature, "f4")
    if t.shape[:1] != (12,):
        raise ValueError(f"monthly_temperature must have 12 months first, got shape {t.shape}")
    threshold = np.float32(SPRING_SOWING_TEMPERATURE)
    first, last = SPRING_SOWING_WINDOW
    done = t[0] >= threshold
    day = np.where(done, np.float32(_MID_MONTH_DOY[0]), np.float32(last))
    # segments mid-January .. mid-May cover every crossing inside the window
    for k in range(4):
        t0, t1 = t[k], t[k + 1]
        cross = ~done & (t1 >= threshold)
        rise = np.where(t1 > t0, t1 - t0, np.float32(1.0))
        step = np.float32(_MID_MONTH_DOY[k + 1] - _MID_MONTH_DOY[k])
        day = np.where(cross, np.float32(_MID_MONTH_DOY[k]) + (threshold - t0) / rise * step, day)
        done |= cross
    sowing = np.clip(np.round(day), first, last).astype("f4")
    sowing = np.where(np.isfinite(t).all(axis=0), sowing, np.float32(np.nan))
    return sowing, (sowing + np.float32(SPRING_WHEAT_SEASON_DAYS)).astype("f4")


def winter_wheat_sowing(sos) -> np.ndarray:
    """Winter-wheat sowing day of year from the WorldCereal winter-cereal SOS (float32).

    WorldCereal's start of season marks spring green-up; sowing is
    :data:`WHEAT_SOWING_BEFORE_SOS` days earlier, in the previous autumn.
    """
    sos = np.asarray(sos, "f4")
    return (np.mod(sos - WHEAT_SOWING_BEFORE_SOS - 1, 365) + 1).astype("f4")


def wheat_calendar(ww_sos, ww_eos, spring_mask, spring_sow, spring_eos
                   ) -> tuple[np.ndarray, np.ndarray]:
    """The world's wheat sowing day and end of season (days of year, float32).

    Parameters
    ----------
    ww_sos, ww_eos : array_like
        WorldCereal winter-cereal start and end of season (day of year).
    spring_mask : array_like of bool
        Spring-wheat cells (:func:`spring_wheat`).
    spring_sow, spring_eos : array_like
        The spring-wheat calendar (:func:`spring_wheat_calendar`).

    Returns
    -------
    sowing, eos : numpy.ndarray of float32
        Spring cells take the spring calendar, the others the winter-wheat sowing
        (:func:`winter_wheat_sowing`) and WorldCereal's end of season.
    """
    spring = np.asarray(spring_mask, bool)
    sowing = np.where(spring, np.asarray(spring_sow, "f4"), winter_wheat_sowing(ww_sos))
    eos = np.where(spring, np.asarray(spring_eos, "f4"), np.asarray(ww_eos, "f4"))
    return sowing.astype("f4"), eos.astype("f4")
