"""The irrigation module: CIR labels from Table 2 and a random-forest CIR classifier.

Eq. 1 of Cheng et al. (2022): CIR = 1 when the relative soil moisture
(sm / fc × 100) reaches the SMI threshold of the crop, phenological stage and depth
(Table 2, :data:`cropsm.core.crops.SMI_RANGE`, lower bound of the suitable range), else 0.
At prediction time, and in honest validation, CIR comes from the classifier, never from
the observation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestClassifier

from cropsm.core import crops
from cropsm.rf.features import BASE_FEATURES

__all__ = ["cir_labels", "make_classifier", "smi_threshold"]


def smi_threshold(crop: str, phenology, depth: str) -> np.ndarray:
    """SMI threshold (% of field capacity) per sample; NaN for unknown stages.

    Parameters
    ----------
    crop : str
        ``"wheat"`` or ``"maize"``.
    phenology : array_like of str
        Stage names (Table 2's names).
    depth : str
        One of :data:`cropsm.core.crops.DEPTHS`.
    """
    if depth not in crops.DEPTHS:
        raise ValueError(f"Unknown depth {depth!r}; choose one of {', '.join(crops.DEPTHS)}.")
    table = crops.smi_lower(crop)[crops.DEPTHS.index(depth)]
    lookup = dict(zip(crops.stage_names(crop), table, strict=True))
    return pd.Series(np.asarray(phenology, dtype=object)).map(lookup).to_numpy("f8")


def cir_labels(sm, fc, crop: str, phenology, depth: str) -> np.ndarray:
    """Eq. 1: 1 where ``sm / fc * 100`` reaches the SMI threshold, else 0 (int8)."""
    relative = np.asarray(sm, "f8") / np.asarray(fc, "f8") * 100.0
    threshold = smi_threshold(crop, phenology, depth)
    if np.isnan(threshold).any():
        bad = sorted(set(np.asarray(phenology, dtype=object)[np.isnan(threshold)]))
        raise ValueError(f"No Table 2 threshold for {crop} stages {bad}.")
    return (relative >= threshold).astype("i1")


def make_classifier(n_estimators: int = 50, max_features: int = 4, min_samples_leaf: int = 1,
                    max_samples: float | None = None, random_state: int = 0,
                    n_jobs: int = -1) -> RandomForestClassifier:
    """The CIR classifier: a random forest on :data:`cropsm.rf.features.BASE_FEATURES`.

    Defaults are the paper's optimum for its forests (50 trees, 4 features per split,
    leaves of one sample, full bootstrap samples).
    """
    return RandomForestClassifier(
        n_estimators=n_estimators, max_features=min(max_features, len(BASE_FEATURES)),
        min_samples_leaf=min_samples_leaf, max_samples=max_samples,
        random_state=random_state, n_jobs=n_jobs)
