"""Crop knowledge as data: crops, depths, phenological stages and irrigation thresholds.

The stage names and the SMI (relative soil moisture) thresholds come from Table 2 of
Cheng et al. (2022, ChinaCropSM1km), who take them from the Ministry of Water
Resources of China (2012). Table 2 gives the suitable range of relative soil moisture
per crop and stage; its lower bound is the level below which irrigation is applied.
Merged cells of the printed table are filled from their left neighbour. The printed
table does not separate the two depths, so both depths carry the same thresholds;
the depth axis is kept so that layer-specific thresholds can be dropped in.

Stage boundaries as fractions of the season (sowing to harvest) are this project's
approximation, set from typical calendars of North China winter wheat and summer maize,
and for spring wheat (:data:`SPRING_WHEAT_STAGE_START`) from a season of about 110 days
without winter dormancy. Crop coefficients follow FAO-56 (Allen et al., 1998, Table 12).

The season of a pixel is given by its sowing day and end of season (days of year): the
data contract's ``sowing`` and ``eos`` covariates (crop, y, x). Whether wheat is winter or
spring wheat is the ``spring_wheat`` covariate (y, x).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "CROPLAND_MIN_FRACTION",
    "CROPS",
    "DEPTHS",
    "SOIL_LAYERS",
    "STAGES",
    "SMI_RANGE",
    "SPRING_WHEAT_STAGE_START",
    "STAGE_START",
    "smi_lower",
    "in_season",
    "stage_index",
    "stage_names",
    "stage_starts",
]

CROPS: tuple[str, ...] = ("wheat", "maize")
#: Depths of the ChinaCropSM1km random forest and of the gridded product.
DEPTHS: tuple[str, ...] = ("0-10cm", "10-20cm")
#: The five 10 cm layers of the multilayer network (Liu et al. 2021), observed at the
#: demo world's stations; the first ones are :data:`DEPTHS`.
SOIL_LAYERS: tuple[str, ...] = ("0-10cm", "10-20cm", "20-30cm", "30-40cm", "40-50cm")

#: Stage names of Table 2, in season order.
STAGES: dict[str, tuple[str, ...]] = {
    "wheat": ("seeding", "seedling", "tillering", "greening", "jointing", "booting",
              "grouting", "mature"),
    "maize": ("seeding", "seedling", "jointing", "booting", "tasseling", "grouting", "mature"),
}

#: Suitable relative soil moisture (% of field capacity), Table 2, per crop and stage.
SMI_RANGE: dict[str, dict[str, tuple[float, float]]] = {
    "wheat": {
        "seeding": (70, 90), "seedling": (75, 95), "tillering": (75, 95),
        "greening": (75, 95), "jointing": (80, 95), "booting": (80, 95),
        "grouting": (55, 60), "mature": (55, 60),
    },
    "maize": {
        "seeding": (75, 85), "seedling": (65, 75), "jointing": (70, 80),
        "booting": (75, 85), "tasseling": (75, 85), "grouting": (65, 75),
        "mature": (65, 75),
    },
}

#: Pixels with a smaller harvested fraction of the crop are not cropland of that crop.
CROPLAND_MIN_FRACTION = 0.10

#: Start of each stage as a fraction of the season (sowing = 0, harvest = 1); wheat is
#: winter wheat here (spring wheat: :data:`SPRING_WHEAT_STAGE_START`).
STAGE_START: dict[str, tuple[float, ...]] = {
    # Winter wheat spends the winter in tillering (dormancy), hence the long stage.
    "wheat": (0.00, 0.04, 0.12, 0.50, 0.62, 0.74, 0.82, 0.95),
    "maize": (0.00, 0.06, 0.20, 0.45, 0.55, 0.65, 0.90),
}

#: Stage starts of spring wheat, over the stages of ``STAGES["wheat"]``. Sown in spring
#: and harvested about 110 days later, it has no winter dormancy: tillering is short and
#: "greening" (return to green after winter) does not occur, so it has zero length
#: (it starts where jointing starts) and :func:`stage_index` never returns it.
SPRING_WHEAT_STAGE_START: tuple[float, ...] = (0.00, 0.12, 0.25, 0.40, 0.40, 0.55, 0.65, 0.92)

#: FAO-56 crop coefficient per stage (initial, development, mid, late).
KC: dict[str, tuple[float, ...]] = {
    "wheat": (0.4, 0.5, 0.6, 0.8, 1.1, 1.15, 0.9, 0.4),
    "maize": (0.3, 0.5, 0.9, 1.2, 1.2, 1.0, 0.6),
}

#: Fraction of the ground shaded by the canopy per stage (limits soil evaporation).
CANOPY_COVER: dict[str, tuple[float, ...]] = {
    "wheat": (0.05, 0.15, 0.3, 0.4, 0.6, 0.8, 0.8, 0.5),
    "maize": (0.05, 0.2, 0.5, 0.8, 0.85, 0.8, 0.5),
}

#: Fraction of transpiration drawn from 0-10, 10-20 and 20-50 cm, per stage.
_ROOT_UPTAKE_3: dict[str, tuple[tuple[float, float, float], ...]] = {
    "wheat": ((0.7, 0.3, 0.0), (0.6, 0.3, 0.1), (0.5, 0.3, 0.2), (0.4, 0.3, 0.3),
              (0.35, 0.3, 0.35), (0.3, 0.3, 0.4), (0.3, 0.3, 0.4), (0.3, 0.3, 0.4)),
    "maize": ((0.7, 0.3, 0.0), (0.6, 0.3, 0.1), (0.45, 0.3, 0.25), (0.35, 0.3, 0.35),
              (0.3, 0.3, 0.4), (0.3, 0.3, 0.4), (0.3, 0.3, 0.4)),
}
# root density falls with depth, so the 20-50 cm share is split 45/33/22 over its layers
_DEEP_SPLIT = (0.45, 0.33, 0.22)

#: Fraction of transpiration drawn from each of the five :data:`SOIL_LAYERS`, per stage.
ROOT_UPTAKE: dict[str, tuple[tuple[float, ...], ...]] = {
    crop: tuple((top, second, *(deep * k for k in _DEEP_SPLIT))
                for top, second, deep in shares)
    for crop, shares in _ROOT_UPTAKE_3.items()
}


def stage_names(crop: str) -> tuple[str, ...]:
    """Stage names of ``crop`` in season order."""
    return STAGES[_check_crop(crop)]


def smi_lower(crop: str, n_depths: int = len(DEPTHS)) -> np.ndarray:
    """Irrigation thresholds (% of field capacity), shape ``(n_depths, n_stages)``."""
    lower = [SMI_RANGE[crop][s][0] for s in stage_names(crop)]
    return np.tile(np.asarray(lower, dtype="f4"), (n_depths, 1))


def stage_starts(crop: str, spring=None) -> np.ndarray:
    """Stage starts (fractions of the season) as an array, for vectorised kernels.

    Parameters
    ----------
    crop : str
        ``"wheat"`` or ``"maize"``.
    spring : array_like of bool, optional
        Spring-wheat flag per pixel (any shape); ignored for maize, so the ``spring_wheat``
        covariate can be passed for either crop.

    Returns
    -------
    numpy.ndarray of float64
        ``(n_stages,)`` of :data:`STAGE_START` without ``spring``; with it, shape
        ``(*spring.shape, n_stages)``, each pixel's row that of spring wheat
        (:data:`SPRING_WHEAT_STAGE_START`) where ``spring`` is true.
    """
    starts = np.asarray(STAGE_START[_check_crop(crop)], "f8")
    if spring is None:
        return starts
    spring = np.asarray(spring, bool)
    if crop != "wheat":
        return np.broadcast_to(starts, spring.shape + starts.shape).copy()
    return np.where(spring[..., None], np.asarray(SPRING_WHEAT_STAGE_START, "f8"), starts)


def _stage_of(starts, frac, ok) -> np.ndarray:
    idx = np.searchsorted(np.asarray(starts), frac, side="right") - 1
    return np.where(ok, idx, -1)


def stage_index(crop: str, doy, sowing, eos, spring=None) -> np.ndarray:
    """Phenological stage index for day of year ``doy``; -1 outside the season.

    Parameters
    ----------
    crop : str
        ``"wheat"`` or ``"maize"``.
    doy, sowing, eos : array_like
        Day of year, sowing day and end of season (days of year, 1-366), broadcast
        together. Seasons that cross the new year (``eos < sowing``, as for winter wheat)
        are handled.
    spring : array_like of bool, optional
        Spring-wheat flag (broadcast with the others): where true, wheat stages follow
        :data:`SPRING_WHEAT_STAGE_START` (no "greening"); elsewhere :data:`STAGE_START`.
        Ignored for maize.

    Returns
    -------
    numpy.ndarray of int8
    """
    doy, sowing, eos = (np.asarray(a, dtype="f8") for a in (doy, sowing, eos))
    length = np.where(eos >= sowing, eos - sowing, eos + 365 - sowing)
    since = np.mod(doy - sowing, 365)
    valid = np.isfinite(sowing) & np.isfinite(eos) & (length > 0)
    frac = np.where(valid, since / np.where(valid, length, 1), np.inf)
    ok = valid & (frac <= 1.0)
    idx = _stage_of(STAGE_START[_check_crop(crop)], frac, ok)
    if spring is not None and crop == "wheat":
        spring = np.asarray(spring, bool)
        idx = np.where(spring, _stage_of(SPRING_WHEAT_STAGE_START, frac, ok), idx)
    return np.asarray(idx).astype("i1")


def in_season(crop: str, dates, sowing, eos) -> np.ndarray:
    """Whether each date falls in the crop's season, sowing to end of season.

    Parameters
    ----------
    crop : str
        ``"wheat"`` or ``"maize"``.
    dates : array_like of datetime64, shape (n_dates,)
    sowing, eos : numpy.ndarray
        Sowing day and end of season (day of year) per cell, any shape: the ``sowing``
        and ``eos`` covariates.

    Returns
    -------
    numpy.ndarray of bool, shape (n_dates, *sowing.shape)
    """
    doy = np.minimum(pd.DatetimeIndex(dates).day_of_year.to_numpy(), 365)
    doy = doy.reshape((-1,) + (1,) * np.ndim(sowing))
    return stage_index(crop, doy, np.asarray(sowing)[None], np.asarray(eos)[None]) >= 0


def _check_crop(crop: str) -> str:
    if crop not in STAGES:
        raise ValueError(f"Unknown crop {crop!r}; choose one of {', '.join(CROPS)}.")
    return crop
