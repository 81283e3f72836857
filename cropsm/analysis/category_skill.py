"""Agreement of two maps of drought classes, pixel-day by pixel-day.

Used on the demo world to score the product's percentile categories against the
truth's own (each ranked against its own record), with scikit-learn's confusion matrix
and Cohen's kappa. Each figure comes with its honest twin: the agreement a map that
always says "no drought" would reach, and kappa, which discounts chance agreement.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import cohen_kappa_score, confusion_matrix

__all__ = ["category_agreement"]


def category_agreement(predicted: np.ndarray, true: np.ndarray, n_classes: int,
                       drought_from: int = 2) -> dict[str, object]:
    """How often two class maps agree, over the pixel-days both classify.

    Parameters
    ----------
    predicted, true : numpy.ndarray
        Class codes ``0 … n_classes - 1`` of the same pixel-days (any shape); other codes
        (fills) leave the pixel-day out.
    n_classes : int
    drought_from : int
        Code from which a class counts as drought (2: D1) for the hit rate and false
        alarms.

    Returns
    -------
    dict
        ``pixel_days``; ``agreement`` (exact class), ``within_one`` (at most one class
        apart); ``always_none`` (the agreement of a map that always says class 0, the
        twin of ``agreement``); ``kappa`` (Cohen's); ``drought_hit_rate`` (true
        drought pixel-days also drought in ``predicted``) and ``drought_false_alarm``
        (predicted drought pixel-days not drought in ``true``), NaN without any;
        ``confusion`` (rows true, columns predicted, as lists).
    """
    p = np.asarray(predicted).ravel()
    t = np.asarray(true).ravel()
    keep = (p < n_classes) & (t < n_classes)
    p, t = p[keep].astype(int), t[keep].astype(int)
    if p.size == 0:
        raise ValueError("No pixel-day is classified in both maps.")
    labels = list(range(n_classes))
    dry_t, dry_p = t >= drought_from, p >= drought_from
    return {
        "pixel_days": int(p.size),
        "agreement": float(np.mean(p == t)),
        "within_one": float(np.mean(np.abs(p - t) <= 1)),
        "always_none": float(np.mean(t == 0)),
        "kappa": float(cohen_kappa_score(t, p, labels=labels)),
        "drought_hit_rate": float(np.mean(dry_p[dry_t])) if dry_t.any() else float("nan"),
        "drought_false_alarm": float(np.mean(~dry_t[dry_p])) if dry_p.any() else float("nan"),
        "confusion": confusion_matrix(t, p, labels=labels).tolist(),
    }
