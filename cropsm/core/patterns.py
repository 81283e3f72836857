"""Cropping patterns: which crops a field carries through the year (Liu et al. 2021).

Liu et al. treat the year-round cropping pattern as a categorical input of their
network and build a reference product as the weighted sum of the SM simulated under
each pattern (their Eq. 1-2; the weights are :func:`liu_weights`). CropSM derives the
patterns from the crops the world (or a user's crop maps) puts at a pixel, and the
world's fields partition each pixel's cropland among them (:func:`pattern_fractions`):

=====  ==============================  ==============================================
code   pattern                         where
=====  ==============================  ==============================================
1      winter wheat + summer maize     winter wheat and maize share the pixel: the
                                       double-cropped part, ``min(f_wheat, f_maize)``
2      winter wheat + fallow           the rest of the pixel's winter wheat
3      spring wheat + fallow           all the wheat of a spring-wheat pixel (sown in
                                       spring, harvested in summer; no maize after it)
4      fallow + maize                  the rest of the pixel's maize
=====  ==============================  ==============================================

Whether a pixel's wheat is spring or winter wheat is the data contract's
``spring_wheat`` flag (y, x): in the demo world, China's wheat zoning plus a
winter-survival rule (:func:`cropsm.demo.geography.spring_wheat`); in a user's data, their
crop map. The paper's rapeseed and soybean patterns are absent because the world has only
wheat and maize.
"""

from __future__ import annotations

import numpy as np

from cropsm.core import crops

__all__ = ["CROP_PATTERNS", "DOUBLE_CROPPING", "PATTERNS", "check_pattern", "crop_pattern",
           "dominant_pattern", "liu_weights", "pattern_fractions", "winter_wheat"]

#: Pattern code -> name. Code 0 marks pixels without cropland.
PATTERNS: dict[int, str] = {
    1: "winter wheat + summer maize",
    2: "winter wheat + fallow",
    3: "spring wheat + fallow",
    4: "fallow + maize",
}

#: Patterns with two crops a year. Liu et al. (2021, Fig. 9) mask the northeast for them:
#: its climate does not allow two harvests.
DOUBLE_CROPPING: tuple[int, ...] = (1,)

#: The patterns in which each crop is grown.
CROP_PATTERNS: dict[str, tuple[int, ...]] = {"wheat": (1, 2, 3), "maize": (1, 4)}


def check_pattern(pattern: int | str, present=None) -> int:
    """The code of a pattern given by code or name, with a clear error naming what exists.

    Parameters
    ----------
    pattern : int or str
        A key or a value of :data:`PATTERNS`.
    present : iterable of int, optional
        Codes that occur in the data at hand; asking for another is an error too.
    """
    by_name = {name: code for code, name in PATTERNS.items()}
    code = by_name.get(pattern, pattern) if isinstance(pattern, str) else pattern
    available = sorted(PATTERNS if present is None else set(present) & set(PATTERNS))
    if code not in available:
        listed = "; ".join(f"{c} = {PATTERNS[c]}" for c in available) or "none"
        raise ValueError(f"Unknown or absent cropping pattern {pattern!r}; this world has: "
                         f"{listed}.")
    return int(code)


def winter_wheat(spring_wheat) -> np.ndarray:
    """Whether a pixel's wheat is winter wheat: not flagged spring wheat (bool array).

    ``spring_wheat`` is the 0/1 (or boolean) flag; NaN counts as not spring.
    """
    spring = np.asarray(spring_wheat)
    if spring.dtype != bool:
        spring = np.nan_to_num(spring.astype("f4")) > 0
    return np.asarray(~spring)


def pattern_fractions(wheat_fraction, maize_fraction, spring_wheat) -> np.ndarray:
    """Area share of each pattern in each pixel's cropland, shape ``(4, *pixels)``.

    Parameters
    ----------
    wheat_fraction, maize_fraction : array_like
        Harvested-area fraction of each crop (0-1).
    spring_wheat : array_like
        Spring-wheat flag (0/1 or bool) of each pixel: its wheat is pattern 3, else
        patterns 1 and 2.

    Returns
    -------
    numpy.ndarray of float32
        Shares in the order of :data:`PATTERNS`; they sum to 1 on cropland and are 0
        elsewhere.
    """
    fw = np.nan_to_num(np.asarray(wheat_fraction, "f4"))
    fm = np.nan_to_num(np.asarray(maize_fraction, "f4"))
    winter = winter_wheat(spring_wheat)
    double = np.where(winter, np.minimum(fw, fm), 0.0)
    area = np.stack([double,
                     np.where(winter, fw - double, 0.0),
                     np.where(winter, 0.0, fw),
                     fm - double])
    total = area.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, area / total, 0.0).astype("f4")


def liu_weights(wheat_fraction, maize_fraction, spring_wheat) -> np.ndarray:
    """Pattern weights of Liu et al. (2021), Eq. 1, shape ``(4, *pixels)``.

    ``weight_i = sum_j area_j / area_total``: the harvested area of the crops of pattern
    ``i``, over the sum of that quantity over the patterns considered at the pixel. A
    fallow season adds no area of its own (Liu et al. count it with the crop it rotates
    with). The patterns considered are those of the pixel's wheat type: winter wheat +
    maize, winter wheat + fallow and fallow + maize where wheat is winter wheat; spring
    wheat + fallow and fallow + maize where it is spring wheat. With winter wheat 0.3 and
    maize 0.3 the weights are 0.5, 0.25, 0 and 0.25, where :func:`pattern_fractions`,
    which partitions the cropland, gives 1, 0, 0 and 0.

    Parameters
    ----------
    wheat_fraction, maize_fraction : array_like
        Harvested-area fraction of each crop (0-1).
    spring_wheat : array_like
        Spring-wheat flag (0/1 or bool) of each pixel.

    Returns
    -------
    numpy.ndarray of float32
        Weights in the order of :data:`PATTERNS`, summing to 1 where there is wheat or
        maize and 0 elsewhere.
    """
    fw = np.nan_to_num(np.asarray(wheat_fraction, "f8"))
    fm = np.nan_to_num(np.asarray(maize_fraction, "f8"))
    winter = winter_wheat(spring_wheat)
    area = np.stack([np.where(winter, fw + fm, 0.0),
                     np.where(winter, fw, 0.0),
                     np.where(winter, 0.0, fw),
                     fm])
    total = area.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, area / total, 0.0).astype("f4")


def dominant_pattern(fractions: np.ndarray) -> np.ndarray:
    """The code of each pixel's largest pattern (0 without cropland), int8."""
    code = np.argmax(fractions, axis=0) + 1
    return np.where(fractions.sum(axis=0) > 0, code, 0).astype("i1")


def crop_pattern(fractions: np.ndarray, crop: str) -> np.ndarray:
    """The largest pattern growing ``crop`` at each pixel: a station's pattern (int8)."""
    codes = np.asarray(CROP_PATTERNS[crops._check_crop(crop)])
    return codes[np.argmax(np.asarray(fractions)[codes - 1], axis=0)].astype("i1")
