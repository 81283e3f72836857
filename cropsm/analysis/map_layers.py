"""Map layers derived from the product: what each shows, its units, and how it is computed.

Every layer is a pure function of product arrays (and static covariates or the demo's
truth), so the dashboard, the CLI and a notebook compute the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cropsm.analysis.drought import DROUGHT_GRADES, drought_grade, relative_sm
from cropsm.analysis.percentiles import CATEGORY_FILL, DROUGHT_CATEGORIES, drought_category

__all__ = ["CATEGORY_COLOURS", "GRADE_COLOURS", "MAP_LAYERS", "Layer", "layer_values"]


@dataclass(frozen=True)
class Layer:
    """A map layer.

    Attributes
    ----------
    label : str
        Name shown to the user.
    units : str
        Units of the colour bar.
    variables : tuple of str
        Product variables the layer needs.
    extra : str or None
        ``"fc"`` (field capacity from the covariates), ``"truth"`` (demo only),
        ``"mean"`` (the climatology's day-of-year mean), ``"rank"`` (the SM's percentile
        against the climatology, :func:`cropsm.analysis.percentiles.percentile_rank_at`)
        or None.
    cmap : str
    clim : tuple of float or None
        Fixed colour range, so maps of different days compare.
    classes : dict of str to str
        Class name to colour, by code, for layers of class codes; empty otherwise.
    """

    label: str
    units: str
    variables: tuple[str, ...]
    extra: str | None
    cmap: str
    clim: tuple[float, float] | None
    classes: dict[str, str] | None = None


_GRADE_COLOURS = ("#d9f0d3", "#fee08b", "#fdae61", "#f46d43", "#a50026")
#: Colours of the drought grades, none to extreme.
GRADE_COLOURS = dict(zip((g.name for g in DROUGHT_GRADES), _GRADE_COLOURS, strict=True))
#: The U.S. Drought Monitor's colours of D0-D4, after a pale "none".
CATEGORY_COLOURS = dict(zip((c.name for c in DROUGHT_CATEGORIES),
                            ("#e8f1e4", "#ffff00", "#fcd37f", "#ffaa00", "#e60000", "#730000"),
                            strict=True))

MAP_LAYERS: dict[str, Layer] = {
    "sm": Layer("Soil moisture", "m³ m⁻³", ("sm",), None, "viridis_r", (0.0, 0.45)),
    "uncertainty": Layer("Uncertainty (10–90 % tree spread)", "m³ m⁻³", ("sm_q10", "sm_q90"),
                         None, "magma_r", (0.0, 0.15)),
    "aoa": Layer("Area of applicability (1 inside)", "1", ("aoa",), None, "RdYlBu", (0, 1)),
    "relative_sm": Layer("Relative soil moisture", "% of field capacity", ("sm",), "fc",
                         "RdYlBu", (0.0, 120.0)),
    "drought": Layer("Drought grade (GB/T 32136-2015)", "grade", ("sm",), "fc",
                     "drought", (-0.5, 4.5), GRADE_COLOURS),
    "percentile": Layer("Percentile vs the record", "%", ("sm",), "rank", "BrBG",
                        (0.0, 100.0)),
    "category": Layer("Drought category (percentile, D0–D4)", "category", ("sm",),
                      "rank", "category", (-0.5, 5.5), CATEGORY_COLOURS),
    "anomaly": Layer("Anomaly vs the record's day-of-year mean", "m³ m⁻³", ("sm",), "mean",
                     "RdBu", (-0.1, 0.1)),
    "error": Layer("Prediction − truth (demo)", "m³ m⁻³", ("sm",), "truth", "RdBu_r",
                   (-0.1, 0.1)),
}


def layer_values(name: str, product: dict[str, np.ndarray], extra: np.ndarray | None = None
                 ) -> np.ndarray:
    """The values of layer ``name`` on a window.

    Parameters
    ----------
    name : str
        A key of :data:`MAP_LAYERS`.
    product : dict of numpy.ndarray
        The layer's product variables on the window, SM in m³ m⁻³ (NaN where missing),
        ``aoa`` as stored (255 where missing).
    extra : numpy.ndarray, optional
        Field capacity for ``relative_sm`` and ``drought``; the truth for ``error``; the
        day-of-year mean for ``anomaly``; the SM's percentile (%) for ``percentile`` and
        ``category``.

    Returns
    -------
    numpy.ndarray of float
        NaN where the layer has no value.
    """
    if name == "sm":
        return product["sm"]
    if name == "uncertainty":
        return product["sm_q90"] - product["sm_q10"]
    if name == "aoa":
        return np.where(product["aoa"] == 255, np.nan, product["aoa"]).astype(float)
    if name == "relative_sm":
        return relative_sm(product["sm"], extra)
    if name == "drought":
        grade = drought_grade(relative_sm(product["sm"], extra))
        return np.where(grade == 255, np.nan, grade).astype(float)
    if name in ("error", "anomaly"):
        return product["sm"] - extra
    if name == "percentile":
        return np.asarray(extra, dtype=float)
    if name == "category":
        category = drought_category(extra)
        return np.where(category == CATEGORY_FILL, np.nan, category).astype(float)
    raise ValueError(f"Unknown layer {name!r}; choose one of {', '.join(MAP_LAYERS)}.")
