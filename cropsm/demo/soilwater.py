"""The demo world's truth: a layered daily soil-water balance of one field, run continuously.

Each cropland pixel is one soil column of five 10 cm layers (0-10 ... 40-50 cm, the layers
of Liu et al. 2021) that goes through its cropping pattern's sequence of seasons
(:data:`PATTERN_SEASONS`): winter wheat then summer maize on a double-cropped field,
one crop and a fallow elsewhere. Every day, in this order:

1. below 0 °C (daily mean) the soil is frozen: precipitation is stored as snow and
   nothing infiltrates, drains, evaporates, transpires or is irrigated; above 0 °C the
   snow melts at :data:`DEGREE_DAY_MM` mm per °C and day (a degree-day factor at the low
   end of those for snow compiled by Hock 2003, J. Hydrol. 282, 104-115);
2. rain, melt and any irrigation scheduled the day before infiltrate top-down, each
   layer filling to saturation; water left over runs off;
3. each layer above field capacity drains a texture-dependent fraction of the excess
   to the layer below (the bottom layer drains out of the profile);
4. bare-soil evaporation ``PET x (1 - canopy cover) x f(theta)`` dries the top layer
   towards its air-dry residual content; on a fallow day the cover is 0;
5. transpiration ``PET x Kc(stage)`` of the crop in season is drawn from the layers by
   stage-dependent root uptake shares, reduced linearly below half the available water
   (FAO-56, p = 0.5) and never below the wilting point; a fallow day has none;
6. on an irrigated field (:func:`irrigated_fields`), if relative SM (theta / FC x 100)
   of the 0-20 cm root zone is below the Table 2 threshold of the crop in season and
   its stage, the farmer irrigates the whole profile to field capacity the next day
   with probability :data:`RESPONSE_PROBABILITY`, at most once every
   :data:`MIN_DAYS_BETWEEN_IRRIGATIONS` days.

The random draws come from a counter-based hash of (seed, pixel, day), so a station
gets exactly the SM of its pixel whichever set of pixels is run together, and a field
is irrigated or not whatever it is simulated with.

A run starts from a given state (default: half the plant-available water, no snow) and
returns its end state, so a record is one continuous run: the world spins it up for a
year or more before the first day it keeps, and there is no seam between years.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
import pandas as pd

from cropsm.core import crops

__all__ = [
    "CROP_KINDS",
    "IRRIGATED_SHARE",
    "PATTERN_SEASONS",
    "ColumnRun",
    "KIND_CROP",
    "daily_temperature",
    "irrigated_fields",
    "irrigated_share",
    "run_months",
    "simulate_columns",
]

LAYER_MM = np.full(len(crops.SOIL_LAYERS), 100.0)
#: Shortest interval between two irrigations of a field (days). Flood irrigation comes in
#: rounds; this project's choice, which gives two to five events a season.
MIN_DAYS_BETWEEN_IRRIGATIONS = 20
#: Daily chance that the farmer of an irrigated field in deficit irrigates it.
RESPONSE_PROBABILITY = 0.3
#: Snow melt per degree above 0 °C and day: the low end of the degree-day factors for
#: snow compiled by Hock (2003).
DEGREE_DAY_MM = 3.0

#: The crops a column can carry; each has its stage table.
CROP_KINDS: tuple[str, ...] = ("winter wheat", "spring wheat", "maize")
#: The product crop of each kind.
KIND_CROP: dict[str, str] = {"winter wheat": "wheat", "spring wheat": "wheat",
                             "maize": "maize"}
#: The seasons of each cropping pattern (:data:`cropsm.core.patterns.PATTERNS`), in the
#: order they follow each other in a year.
PATTERN_SEASONS: dict[int, tuple[str, ...]] = {
    1: ("winter wheat", "maize"),
    2: ("winter wheat",),
    3: ("spring wheat",),
    4: ("maize",),
}

#: Share of the harvested area that is irrigated, by zone code (:data:`cropsm.core.
#: landscape.ZONES`) and crop. Rounded values set to reproduce the regional contrasts of
#: MIRCA2000 (Portmann, Siebert & Döll 2010, Global Biogeochem. Cycles 24, GB1011): the
#: North China Plain's wheat almost all irrigated and its summer maize about half; the
#: north-east's maize mostly rain-fed (also Yin et al. 2016, J. Agric. Sci. 154,
#: 1171-1189, cited by Cheng et al. 2022 for the lack of irrigation there); the humid
#: south and the hills of the south-west little irrigated. They are approximations, not
#: values read from MIRCA2000's grids. Zone 1's oases (annual rain below
#: :data:`OASIS_RAIN_MM`, the Hexi corridor and Xinjiang) are irrigated as in
#: :data:`OASIS_SHARE`; the rest of zone 1 is the north-east and Inner Mongolia.
IRRIGATED_SHARE: dict[str, dict[int, float]] = {
    "wheat": {1: 0.20, 2: 0.30, 3: 0.85, 4: 0.30, 5: 0.35, 6: 0.15, 7: 0.60},
    "maize": {1: 0.10, 2: 0.25, 3: 0.55, 4: 0.20, 5: 0.30, 6: 0.15, 7: 0.50},
}
OASIS_RAIN_MM = 300.0
OASIS_SHARE = 0.95


def irrigated_share(crop: str, zone: np.ndarray, annual_precip: np.ndarray,
                    river_km: np.ndarray) -> np.ndarray:
    """Chance that a field of ``crop`` is irrigated (0-1), per pixel.

    :data:`IRRIGATED_SHARE` of the zone, or :data:`OASIS_SHARE` in zone 1's oases,
    scaled by 1.3 next to a major river and 0.7 far from one (surface water is easier
    to reach), capped at 1.

    Parameters
    ----------
    crop : str
        ``"wheat"`` or ``"maize"``.
    zone : numpy.ndarray of int
        Zone codes.
    annual_precip : numpy.ndarray
        Climatological annual precipitation (mm year⁻¹).
    river_km : numpy.ndarray
        Distance to the nearest major river (km).
    """
    table = np.zeros(8, dtype="f8")
    for code, value in IRRIGATED_SHARE[crops._check_crop(crop)].items():
        table[code] = value
    zone = np.clip(np.asarray(zone, "i8"), 0, 7)
    oasis = (zone == 1) & (np.asarray(annual_precip, "f8") < OASIS_RAIN_MM)
    share = np.where(oasis, OASIS_SHARE, table[zone])
    near_water = 0.7 + 0.6 * np.exp(-np.asarray(river_km, "f8") / 25.0)
    return np.minimum(share * near_water, 1.0).astype("f4")


def irrigated_fields(share: np.ndarray, pixel_id: np.ndarray, seed: int) -> np.ndarray:
    """Whether each pixel's field is irrigated for a crop: a fixed draw per pixel.

    One draw per pixel serves every crop, so a field irrigated for the crop with the
    smaller share is irrigated for the other too (the same wells and canals).

    Parameters
    ----------
    share : numpy.ndarray
        :func:`irrigated_share` of the crop, any shape ending in the pixel axis.
    pixel_id : numpy.ndarray
        Stable pixel identifiers, ``(n,)``.
    seed : int
        World seed.
    """
    draws = _uniform_array(int(seed), np.asarray(pixel_id, "i8"), _FIELD_SALT)
    return draws < np.asarray(share, "f8")


# the "day" of the per-field draw: far from any real day number
_FIELD_SALT = 1 << 40


@numba.njit(cache=True)
def _uniform(seed, pixel, day):
    z = np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15)
    z ^= np.uint64(pixel) * np.uint64(0xBF58476D1CE4E5B9)
    z ^= np.uint64(day) * np.uint64(0x94D049BB133111EB)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return float(z >> np.uint64(11)) / 9007199254740992.0


@numba.njit(cache=True)
def _uniform_array(seed, pixel_id, day):
    out = np.empty(pixel_id.size)
    for k in range(pixel_id.size):
        out[k] = _uniform(seed, pixel_id[k], day)
    return out


@numba.njit(cache=True)
def _stage(doy, sow, eos, starts):
    """Stage index of day ``doy``; -1 outside the season.

    As :func:`cropsm.core.crops.stage_index`; ``starts`` is padded with +inf.
    """
    if not (np.isfinite(sow) and np.isfinite(eos)):
        return -1
    length = eos - sow if eos >= sow else eos + 365.0 - sow
    if length <= 0:
        return -1
    frac = ((doy - sow) % 365.0) / length
    if frac > 1.0:
        return -1
    stage = 0
    for k in range(starts.size):
        if starts[k] <= frac:
            stage = k
    return stage


@numba.njit(cache=True)
def _intermittent(weights, v00, v01, v10, v11):
    """Rain at a point from its four cells, as :func:`cropsm.core.grid.intermittent_sample`."""
    values = (v00, v01, v10, v11)
    wet_weight = 0.0
    amount = 0.0
    for k in range(4):
        if values[k] > 0.0:
            wet_weight += weights[k]
        amount += weights[k] * values[k]
    if wet_weight >= 0.5:
        return amount / wet_weight
    return 0.0


@numba.njit(parallel=True, cache=True)
def _kernel(rain, i0, j0, wi, wj, rain_factor, pet, temp, m0, m1, w1, month_days,
            doy, day_number, kind, sow, eos, starts, kc, cover, roots, smi, fc, wp, sat,
            resid, kdrain, irrigated, pixel_id, seed, out_slot, count_start, theta, snow,
            out, irrigations):
    n_t = rain.shape[0]
    n_px = i0.size
    n_layers = LAYER_MM.size
    n_seasons = kind.shape[1]
    for i in numba.prange(n_px):
        a, b = i0[i], j0[i]
        weights = ((1.0 - wi[i]) * (1.0 - wj[i]), (1.0 - wi[i]) * wj[i],
                   wi[i] * (1.0 - wj[i]), wi[i] * wj[i])
        pending = 0.0
        since = MIN_DAYS_BETWEEN_IRRIGATIONS
        for t in range(n_t):
            pre = rain_factor * _intermittent(weights, rain[t, a, b], rain[t, a, b + 1],
                                              rain[t, a + 1, b], rain[t, a + 1, b + 1])
            tday = (1.0 - w1[t]) * temp[m0[t], i] + w1[t] * temp[m1[t], i]
            frozen = tday < 0.0
            if frozen:
                pending = 0.0  # nobody irrigates frozen ground: the round is called off
            elif pending > 0.0 and t >= count_start:
                irrigations[i] += 1
            # the crop in season: a later season of the pattern takes over from an
            # earlier one (maize sown into the wheat stubble)
            c = -1
            s = -1
            active = -1
            for k in range(n_seasons):
                if kind[i, k] >= 0:
                    sk = _stage(doy[t], sow[i, k], eos[i, k], starts[kind[i, k]])
                    if sk >= 0:
                        c = kind[i, k]
                        s = sk
                        active = k
            if frozen:
                snow[i] += pre
            else:
                melt = min(snow[i], DEGREE_DAY_MM * tday)
                snow[i] -= melt
                water = pre + pending + melt
                pending = 0.0
                for layer in range(n_layers):
                    room = (sat[i] - theta[layer, i]) * LAYER_MM[layer]
                    add = min(water, room)
                    theta[layer, i] += add / LAYER_MM[layer]
                    water -= add
                for layer in range(n_layers):
                    if theta[layer, i] > fc[i]:
                        q = kdrain[i] * (theta[layer, i] - fc[i]) * LAYER_MM[layer]
                        theta[layer, i] -= q / LAYER_MM[layer]
                        if layer + 1 < n_layers:
                            below = layer + 1
                            take = min(q, (sat[i] - theta[below, i]) * LAYER_MM[below])
                            theta[below, i] += take / LAYER_MM[below]
                potential = ((1.0 - w1[t]) * pet[m0[t], i] / month_days[m0[t]]
                             + w1[t] * pet[m1[t], i] / month_days[m1[t]])
                shade = cover[c, s] if s >= 0 else 0.0
                wet = min(max((theta[0, i] - resid[i]) / (fc[i] - resid[i]), 0.0), 1.0)
                evap = potential * (1.0 - shade) * wet
                theta[0, i] = max(theta[0, i] - evap / LAYER_MM[0], resid[i])
                if s >= 0:
                    demand = potential * kc[c, s]
                    for layer in range(n_layers):
                        avail = theta[layer, i] - wp[i]
                        if avail <= 0.0:
                            continue
                        stress = min(avail / (0.5 * (fc[i] - wp[i])), 1.0)
                        uptake = min(demand * roots[c, s, layer] * stress,
                                     avail * LAYER_MM[layer])
                        theta[layer, i] -= uptake / LAYER_MM[layer]
                for layer in range(n_layers):
                    theta[layer, i] = min(max(theta[layer, i], resid[i]), sat[i])
            if out_slot[t] >= 0:
                for layer in range(out.shape[0]):
                    out[layer, out_slot[t], i] = theta[layer, i]
            since += 1
            if (s >= 0 and irrigated[i, active] and not frozen
                    and since >= MIN_DAYS_BETWEEN_IRRIGATIONS):
                relative = 0.0
                threshold = 0.0
                for layer in range(smi.shape[1]):
                    relative += theta[layer, i] / fc[i] * 100.0
                    threshold += smi[c, layer, s]
                draw = _uniform(seed, pixel_id[i], day_number[t])
                if relative < threshold and draw < RESPONSE_PROBABILITY:
                    deficit = 0.0
                    for layer in range(n_layers):
                        deficit += max(fc[i] - theta[layer, i], 0.0) * LAYER_MM[layer]
                    pending = deficit + 10.0
                    since = 0


def _stage_tables() -> tuple[np.ndarray, ...]:
    """Stage starts, Kc, cover, root shares and Table 2 thresholds of :data:`CROP_KINDS`.

    Rows are padded to the longest stage list; padded starts are +inf, so never reached.
    """
    n_stages = max(len(crops.STAGES[KIND_CROP[k]]) for k in CROP_KINDS)
    n_kinds, n_layers = len(CROP_KINDS), len(crops.SOIL_LAYERS)
    starts = np.full((n_kinds, n_stages), np.inf)
    kc = np.zeros((n_kinds, n_stages))
    cover = np.zeros((n_kinds, n_stages))
    roots = np.zeros((n_kinds, n_stages, n_layers))
    smi = np.zeros((n_kinds, len(crops.DEPTHS), n_stages))
    for k, kind in enumerate(CROP_KINDS):
        crop = KIND_CROP[kind]
        row = (crops.SPRING_WHEAT_STAGE_START if kind == "spring wheat"
               else crops.STAGE_START[crop])
        m = len(row)
        starts[k, :m] = row
        kc[k, :m] = crops.KC[crop]
        cover[k, :m] = crops.CANOPY_COVER[crop]
        roots[k, :m] = crops.ROOT_UPTAKE[crop]
        smi[k, :, :m] = crops.smi_lower(crop)
    return starts, kc, cover, roots, smi


@dataclass
class ColumnRun:
    """A continuous run's output.

    Attributes
    ----------
    sm : numpy.ndarray
        float32 ``(5, n_out_days, n)``: :data:`cropsm.core.crops.SOIL_LAYERS` on the
        days asked for (m³ m⁻³).
    irrigations : numpy.ndarray
        int32 ``(n,)``: irrigation events from ``count_from`` to the end.
    theta : numpy.ndarray
        float64 ``(5, n)``: the state at the end of the run (m³ m⁻³).
    snow : numpy.ndarray
        float64 ``(n,)``: snow water at the end of the run (mm).

    Irrigation scheduling (a round due the next day, days since the last) is not part of
    the state: a run continued from ``theta`` and ``snow`` equals the unbroken run only
    without irrigation, so the world runs each field's record in one call.
    """

    sm: np.ndarray
    irrigations: np.ndarray
    theta: np.ndarray
    snow: np.ndarray


def simulate_columns(rain: np.ndarray, rain_weights: tuple, dates: pd.DatetimeIndex,
                     pet: np.ndarray, temperature: np.ndarray, months: pd.DatetimeIndex,
                     seasons: np.ndarray, sowing: np.ndarray, end_of_season: np.ndarray,
                     fc, wp, sat, resid, sand, irrigated, pixel_id, seed: int,
                     out_dates, count_from=None, rain_factor: float = 1.0,
                     theta0: np.ndarray | None = None, snow0: np.ndarray | None = None,
                     out_layers: int = len(crops.SOIL_LAYERS)) -> ColumnRun:
    """Run each pixel's soil column through ``dates`` without a break.

    Parameters
    ----------
    rain : numpy.ndarray
        Daily rain (mm) on the coarse lon/lat grid, ``(dates.size, n_lat, n_lon)``.
    rain_weights : tuple
        ``(i0, j0, wi, wj)`` from :func:`cropsm.core.grid.bilinear_weights` for the pixels.
        Rain is interpolated inside the kernel as :func:`cropsm.core.grid.intermittent_sample`
        does, so no (days x pixels) array is built.
    dates : pandas.DatetimeIndex
        Consecutive days of the run.
    pet, temperature : numpy.ndarray
        The year-month's PET (mm month⁻¹) and mean temperature (°C) at each pixel,
        ``(months.size, n)``; the daily PET rate and temperature are interpolated
        between mid-months, so no month boundary is a step.
    months : pandas.DatetimeIndex
        First day of each month of ``pet`` and ``temperature``; they must cover ``dates``
        and should include the months either side (:func:`run_months`), or the first
        and last half-months are held at their month's value.
    seasons : numpy.ndarray of int
        ``(n, k)`` indices into :data:`CROP_KINDS` of each pixel's seasons in order, -1
        for none (see :data:`PATTERN_SEASONS`).
    sowing, end_of_season : numpy.ndarray
        ``(n, k)`` day of year of each season's sowing and end.
    fc, wp, sat, resid, sand : numpy.ndarray
        Soil properties per pixel (m³ m⁻³; sand as a fraction).
    irrigated : numpy.ndarray of bool
        ``(n, k)``: whether each season's crop is irrigated (:func:`irrigated_fields`).
    pixel_id : numpy.ndarray
        Stable pixel identifiers (row x cols + col on the national grid).
    seed : int
        World seed.
    out_dates : array_like of datetime64
        Days whose SM is returned, in order; each must be in ``dates``.
    count_from : date-like, optional
        Count irrigation events from this day (default: the first of ``out_dates``).
    rain_factor : float
        Multiplies the rain (a precipitation scenario).
    theta0, snow0 : numpy.ndarray, optional
        Start state, ``(5, n)`` m³ m⁻³ and ``(n,)`` mm; default half the plant-available
        water and no snow.
    out_layers : int
        How many layers, from the top, ``sm`` keeps.

    Returns
    -------
    ColumnRun
    """
    dates = pd.DatetimeIndex(dates)
    if len(dates) < 2 or not (np.diff(dates.values) == np.timedelta64(1, "D")).all():
        raise ValueError("simulate_columns needs consecutive daily dates")
    if rain.shape[0] != len(dates):
        raise ValueError(f"rain has {rain.shape[0]} days, dates {len(dates)}")
    out_dates = pd.DatetimeIndex(out_dates)
    slot = np.full(len(dates), -1, dtype="i8")
    where = dates.get_indexer(out_dates)
    if (where < 0).any():
        raise ValueError(f"out_dates outside the run: {out_dates[where < 0][:3].tolist()}")
    slot[where] = np.arange(len(out_dates))
    count_day = pd.Timestamp(count_from) if count_from is not None else (
        out_dates[0] if len(out_dates) else dates[-1])
    count_start = int(np.searchsorted(dates.values, np.datetime64(count_day)))
    _, m0, m1, w1 = _month_interpolation(dates, pd.DatetimeIndex(months))
    i0, j0, wi, wj = rain_weights
    n = i0.size
    fc, wp, sat, resid = (np.ascontiguousarray(a, dtype="f8") for a in (fc, wp, sat, resid))
    theta = (np.tile(wp + 0.5 * (fc - wp), (LAYER_MM.size, 1)) if theta0 is None
             else np.array(theta0, dtype="f8"))
    snow = np.zeros(n) if snow0 is None else np.array(snow0, dtype="f8")
    out = np.zeros((out_layers, len(out_dates), n), dtype="f4")
    irrigations = np.zeros(n, dtype="i4")
    kdrain = np.clip(0.3 + 0.5 * np.asarray(sand, "f8"), 0.3, 0.8)
    starts, kc, cover, roots, smi = _stage_tables()
    _kernel(
        np.ascontiguousarray(rain, "f4"), np.asarray(i0, "i8"), np.asarray(j0, "i8"),
        np.asarray(wi, "f8"), np.asarray(wj, "f8"), float(rain_factor),
        np.ascontiguousarray(pet, "f4"), np.ascontiguousarray(temperature, "f4"),
        m0, m1, w1, pd.DatetimeIndex(months).days_in_month.to_numpy().astype("f8"),
        np.minimum(dates.day_of_year.to_numpy(), 365).astype("f8"),
        (dates - pd.Timestamp("1970-01-01")).days.to_numpy(),
        np.ascontiguousarray(seasons, "i8"), np.ascontiguousarray(sowing, "f8"),
        np.ascontiguousarray(end_of_season, "f8"), starts, kc, cover, roots, smi,
        fc, wp, sat, resid, kdrain, np.ascontiguousarray(irrigated, np.bool_),
        np.asarray(pixel_id, "i8"), int(seed), slot, count_start, theta, snow, out,
        irrigations)
    return ColumnRun(out, irrigations, theta, snow)


def run_months(dates: pd.DatetimeIndex, available: pd.DatetimeIndex | None = None
               ) -> pd.DatetimeIndex:
    """Month starts a run over ``dates`` interpolates between: its months and one either side.

    With ``available`` (the month starts the monthly inputs have), the months outside it
    are left out, so a run at the start or end of the record holds its edge half-month.
    Runs over the same day then see the same daily values whatever their length.
    """
    dates = pd.DatetimeIndex(dates)
    first = dates[0].to_period("M").to_timestamp() - pd.DateOffset(months=1)
    last = dates[-1].to_period("M").to_timestamp() + pd.DateOffset(months=1)
    months = pd.date_range(first, last, freq="MS")
    if available is not None:
        months = months[months.isin(pd.DatetimeIndex(available))]
    return months


def daily_temperature(temperature: np.ndarray, months: pd.DatetimeIndex,
                      dates: pd.DatetimeIndex) -> np.ndarray:
    """Daily mean temperature (°C) from monthly means, as the columns see it.

    ``temperature`` is ``(months.size, n)``; the result is ``(dates.size, n)``.
    """
    _, m0, m1, w1 = _month_interpolation(pd.DatetimeIndex(dates), pd.DatetimeIndex(months))
    temperature = np.asarray(temperature, "f8")
    return ((1.0 - w1)[:, None] * temperature[m0] + w1[:, None] * temperature[m1]).astype("f4")


def _month_interpolation(dates: pd.DatetimeIndex, months: pd.DatetimeIndex
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each day's month index, and the two months and weight that interpolate to it.

    Monthly means are taken to hold at mid-month; a day between two mid-months gets the
    linear interpolation of the two.
    """
    first = dates.to_period("M").to_timestamp()
    month = months.get_indexer(first)
    if (month < 0).any():
        raise ValueError(f"monthly inputs cover {months[0]:%Y-%m}..{months[-1]:%Y-%m}, "
                         f"the run {dates[0]:%Y-%m-%d}..{dates[-1]:%Y-%m-%d}")
    middle = months + pd.to_timedelta(months.days_in_month / 2.0, unit="D")
    position = np.interp(dates.values.astype("datetime64[s]").astype("f8"),
                         middle.values.astype("datetime64[s]").astype("f8"),
                         np.arange(len(months), dtype="f8"))
    m0 = np.floor(position).astype("i8")
    m1 = np.minimum(m0 + 1, len(months) - 1)
    return month.astype("i8"), m0, m1, (position - m0).astype("f8")
