"""Soil hydraulic properties from texture: the Saxton & Rawls (2006) pedotransfer functions.

Saxton, K. E. and Rawls, W. J. (2006): Soil water characteristic estimates by texture
and organic matter for hydrologic solutions. Soil Sci. Soc. Am. J. 70, 1569-1578,
doi:10.2136/sssaj2005.0117 (equations 1-6, no density or gravel adjustment).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["SoilHydraulics", "saxton_rawls"]


class SoilHydraulics(NamedTuple):
    """Volumetric water contents (m³ m⁻³) and bulk density (kg dm⁻³)."""

    wilting_point: np.ndarray
    field_capacity: np.ndarray
    saturation: np.ndarray
    residual: np.ndarray
    bulk_density: np.ndarray


def saxton_rawls(sand, clay, organic_matter) -> SoilHydraulics:
    """Water retention at 1500 kPa, 33 kPa and saturation, and normal bulk density.

    Parameters
    ----------
    sand, clay : array_like
        Mass fractions (0-1).
    organic_matter : array_like
        Organic matter, % by weight.

    Returns
    -------
    SoilHydraulics
        ``residual`` is the air-dry content of the evaporating layer, taken as half the
        wilting point (FAO-56, Allen et al. 1998, section 7 on soil evaporation).

    Examples
    --------
    A loam (40 % sand, 20 % clay, 2.5 % OM); Table 3 of Saxton & Rawls lists
    PWP 14 %, FC 28 % and saturation 46 %.

    >>> s = saxton_rawls(0.40, 0.20, 2.5)
    >>> [round(float(v), 2) for v in s[:3]]
    [0.14, 0.28, 0.46]
    """
    s, c, om = (np.asarray(a, dtype="f8") for a in (sand, clay, organic_matter))
    t1500 = (-0.024 * s + 0.487 * c + 0.006 * om + 0.005 * s * om - 0.013 * c * om
             + 0.068 * s * c + 0.031)
    wp = t1500 + (0.14 * t1500 - 0.02)
    t33 = (-0.251 * s + 0.195 * c + 0.011 * om + 0.006 * s * om - 0.027 * c * om
           + 0.452 * s * c + 0.299)
    fc = t33 + (1.283 * t33**2 - 0.374 * t33 - 0.015)
    ts33 = (0.278 * s + 0.034 * c + 0.022 * om - 0.018 * s * om - 0.027 * c * om
            - 0.584 * s * c + 0.078)
    s33 = ts33 + (0.636 * ts33 - 0.107)
    sat = fc + s33 - 0.097 * s + 0.043
    bulk = (1.0 - sat) * 2.65
    return SoilHydraulics(wp, fc, sat, 0.5 * wp, bulk)
