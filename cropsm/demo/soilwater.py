"""The demo world's truth: a layered daily soil-water balance with rule-based irrigation.

Per cropland pixel and crop, five 10 cm layers (0-10 ... 40-50 cm, the layers of
Liu et al. 2021) are updated each day in this order:

1. rain plus any irrigation scheduled the day before infiltrates top-down, each layer
   filling to saturation; water left over runs off;
2. each layer above field capacity drains a texture-dependent fraction of the excess
   to the layer below (the bottom layer drains out of the profile);
3. bare-soil evaporation ``PET x (1 - canopy cover) x f(theta)`` dries the top layer
   towards its air-dry residual content;
4. transpiration ``PET x Kc(stage)`` is drawn from the layers by stage-dependent root
   uptake shares, reduced linearly below half the available water (FAO-56, p = 0.5)
   and never below the wilting point;
5. if relative SM (theta / FC x 100) of the 0-20 cm root zone (mean of the 0-10 and
   10-20 cm layers) is below the Table 2 threshold for crop and stage, irrigation to
   field capacity of the whole profile is scheduled for the next day with a probability
   that rises in irrigated zones and near rivers (:func:`irrigation_probability`), at
   most once every ten days.

The random draws come from a counter-based hash of (seed, pixel, day), so a station
gets exactly the SM of its pixel whichever set of pixels is run together.

Each calendar year Y is simulated from 1 October of Y-1 (a fixed initial state at half
the plant-available water), which makes every year independent and reproducible.
"""

from __future__ import annotations

import numba
import numpy as np
import pandas as pd

from cropsm.core import crops

__all__ = ["IRRIGATION_ZONE_RATE", "irrigation_probability", "simulate_year"]

LAYER_MM = np.full(len(crops.SOIL_LAYERS), 100.0)
MIN_DAYS_BETWEEN_IRRIGATIONS = 10

#: Daily chance that a farmer irrigates a pixel in deficit, by zone code, next to a river.
IRRIGATION_ZONE_RATE = {1: 0.25, 2: 0.08, 3: 0.30, 4: 0.05, 5: 0.10, 6: 0.04, 7: 0.03}


def irrigation_probability(zone: np.ndarray, river_km: np.ndarray) -> np.ndarray:
    """Daily probability of irrigating a pixel in deficit."""
    rate = np.zeros(8, dtype="f4")
    for code, value in IRRIGATION_ZONE_RATE.items():
        rate[code] = value
    near_water = 0.25 + 0.75 * np.exp(-np.asarray(river_km, "f4") / 25.0)
    return (rate[np.clip(zone, 0, 7)] * near_water).astype("f4")


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
def _stage(doy, sow, eos, starts):
    """Stage index of day ``doy``; -1 outside the season.

    As :func:`cropsm.core.crops.stage_index`.
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
def _kernel(rain, i0, j0, wi, wj, pet_month, month, days_in_month, doy, day_number,
            sow, eos, starts, kc, cover, roots, smi, fc, wp, sat, resid, kdrain, p_irr,
            pixel_id, seed, out_start, out, irrigations):
    n_t = rain.shape[0]
    n_px = i0.size
    n_layers = LAYER_MM.size
    for i in numba.prange(n_px):
        a, b = i0[i], j0[i]
        weights = ((1.0 - wi[i]) * (1.0 - wj[i]), (1.0 - wi[i]) * wj[i],
                   wi[i] * (1.0 - wj[i]), wi[i] * wj[i])
        theta = np.empty(n_layers)
        for layer in range(n_layers):
            theta[layer] = wp[i] + 0.5 * (fc[i] - wp[i])
        pending = 0.0
        since = MIN_DAYS_BETWEEN_IRRIGATIONS
        for t in range(n_t):
            if pending > 0.0 and t >= out_start:
                irrigations[i] += 1
            pre = _intermittent(weights, rain[t, a, b], rain[t, a, b + 1],
                                rain[t, a + 1, b], rain[t, a + 1, b + 1])
            water = pre + pending
            pending = 0.0
            for layer in range(n_layers):
                room = (sat[i] - theta[layer]) * LAYER_MM[layer]
                add = min(water, room)
                theta[layer] += add / LAYER_MM[layer]
                water -= add
            for layer in range(n_layers):
                if theta[layer] > fc[i]:
                    q = kdrain[i] * (theta[layer] - fc[i]) * LAYER_MM[layer]
                    theta[layer] -= q / LAYER_MM[layer]
                    if layer + 1 < n_layers:
                        below = layer + 1
                        take = min(q, (sat[i] - theta[below]) * LAYER_MM[below])
                        theta[below] += take / LAYER_MM[below]
            s = _stage(doy[t], sow[i], eos[i], starts)
            pet = pet_month[month[t], i] / days_in_month[t]
            shade = cover[s] if s >= 0 else 0.0
            wet = min(max((theta[0] - resid[i]) / (fc[i] - resid[i]), 0.0), 1.0)
            evap = pet * (1.0 - shade) * wet
            theta[0] = max(theta[0] - evap / LAYER_MM[0], resid[i])
            if s >= 0:
                demand = pet * kc[s]
                for layer in range(n_layers):
                    avail = theta[layer] - wp[i]
                    if avail <= 0.0:
                        continue
                    stress = min(avail / (0.5 * (fc[i] - wp[i])), 1.0)
                    uptake = min(demand * roots[s, layer] * stress, avail * LAYER_MM[layer])
                    theta[layer] -= uptake / LAYER_MM[layer]
            for layer in range(n_layers):
                theta[layer] = min(max(theta[layer], resid[i]), sat[i])
            if t >= out_start:
                for layer in range(out.shape[0]):
                    out[layer, t - out_start, i] = theta[layer]
            since += 1
            if s >= 0 and since >= MIN_DAYS_BETWEEN_IRRIGATIONS:
                relative = 0.0
                threshold = 0.0
                for layer in range(smi.shape[0]):
                    relative += theta[layer] / fc[i] * 100.0
                    threshold += smi[layer, s]
                draw = _uniform(seed, pixel_id[i], day_number[t])
                if relative < threshold and draw < p_irr[i]:
                    deficit = 0.0
                    for layer in range(n_layers):
                        deficit += max(fc[i] - theta[layer], 0.0) * LAYER_MM[layer]
                    pending = deficit + 10.0
                    since = 0


def simulate_year(crop: str, year: int, rain: np.ndarray, rain_weights: tuple,
                  dates: pd.DatetimeIndex, pet_month: np.ndarray, sos, eos, fc, wp, sat,
                  resid, sand, p_irr, pixel_id, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Daily SM of calendar ``year`` at a set of pixels.

    Parameters
    ----------
    crop : str
        ``"wheat"`` or ``"maize"``.
    year : int
        Calendar year to return.
    rain : numpy.ndarray
        Daily rain (mm) on the coarse lon/lat grid, ``(dates.size, n_lat, n_lon)``;
        ``dates`` must run from 1 October of ``year - 1`` to 31 December of ``year``.
    rain_weights : tuple
        ``(i0, j0, wi, wj)`` from :func:`cropsm.core.grid.bilinear_weights` for the pixels.
        Rain is interpolated inside the kernel as :func:`cropsm.core.grid.intermittent_sample`
        does, so no (days x pixels) array is built.
    pet_month : numpy.ndarray
        Monthly PET (mm month⁻¹), shape ``(12, n)``.
    sos, eos : numpy.ndarray
        WorldCereal start and end of season (day of year), shape ``(n,)``.
    fc, wp, sat, resid, sand : numpy.ndarray
        Soil properties per pixel (m³ m⁻³; sand as a fraction).
    p_irr : numpy.ndarray
        Daily irrigation probability when in deficit.
    pixel_id : numpy.ndarray
        Stable pixel identifiers (row x cols + col on the national grid).
    seed : int
        World seed.

    Returns
    -------
    sm : numpy.ndarray
        float32, ``(5, days of year, n)``: the layers :data:`cropsm.core.crops.SOIL_LAYERS`.
    irrigations : numpy.ndarray
        Number of irrigation events per pixel during ``year``.
    """
    expected = pd.date_range(f"{year - 1}-10-01", f"{year}-12-31")
    if len(dates) != len(expected) or dates[0] != expected[0]:
        raise ValueError(f"simulate_year({year}) needs daily dates {expected[0]:%Y-%m-%d}.."
                         f"{expected[-1]:%Y-%m-%d}")
    if rain.shape[0] != len(dates):
        raise ValueError(f"rain has {rain.shape[0]} days, dates {len(dates)}")
    i0, j0, wi, wj = rain_weights
    n = i0.size
    out_start = int(np.argmax(dates.year == year))
    out = np.zeros((LAYER_MM.size, len(dates) - out_start, n), dtype="f4")
    irrigations = np.zeros(n, dtype="i4")
    f8 = [np.ascontiguousarray(a, dtype="f8") for a in (fc, wp, sat, resid)]
    kdrain = np.clip(0.3 + 0.5 * np.asarray(sand, "f8"), 0.3, 0.8)
    # numba's Dispatcher.__call__ is typed with a fixed arity, not *args
    _kernel(  # type: ignore[call-arg]
            np.ascontiguousarray(rain, "f4"), np.asarray(i0, "i8"), np.asarray(j0, "i8"),
            np.asarray(wi, "f8"), np.asarray(wj, "f8"),
            np.ascontiguousarray(pet_month, "f4"), dates.month.to_numpy() - 1,
            dates.days_in_month.to_numpy().astype("f8"),
            np.minimum(dates.day_of_year.to_numpy(), 365).astype("f8"),
            (dates - pd.Timestamp("1970-01-01")).days.to_numpy(),
            np.asarray(crops.sowing_day(crop, sos), "f8"), np.asarray(eos, "f8"),
            np.asarray(crops.STAGE_START[crop], "f8"),
            np.asarray(crops.KC[crop], "f8"), np.asarray(crops.CANOPY_COVER[crop], "f8"),
            np.asarray(crops.ROOT_UPTAKE[crop], "f8"), crops.smi_lower(crop).astype("f8"),
            *f8, kdrain, np.asarray(p_irr, "f8"), np.asarray(pixel_id, "i8"), int(seed),
            out_start, out, irrigations)
    return out, irrigations
