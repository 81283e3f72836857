"""Area of applicability: whether a prediction's features resemble the training data.

A documented simplification of Meyer & Pebesma (2021, Methods Ecol. Evol. 12, 1620):

* **site part** (features fixed for a pixel: soil, river distance, climate, position).
  Features are standardised with the training mean and standard deviation and weighted
  by the regressor's importances. The dissimilarity index (DI) of a pixel is its distance
  to the nearest training site divided by the mean distance between training sites. The
  threshold is the largest leave-one-site-out DI of the training sites that is not an
  outlier (at most Q3 + 1.5 IQR), as in Meyer & Pebesma. Sites play the role of their
  cross-validation folds, because every sample of a station shares its site features.
* **daily part** (rain, antecedent rain, PET, day of year; for the CropSM method also its
  memory indices): each value must lie within the range seen in training.

A prediction is inside the area of applicability when both hold.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from cropsm.rf.features import FEATURES

__all__ = ["DAILY_FEATURES", "SITE_FEATURES", "Applicability", "fit_applicability"]

SITE_FEATURES: tuple[str, ...] = ("bulk_density", "river_distance", "moisture_index", "lat",
                                  "lon", "fc")
DAILY_FEATURES: tuple[str, ...] = ("pre", "pre10", "pet", "doy")


@dataclass(frozen=True)
class Applicability:
    """What the training data covered, and the threshold of the dissimilarity index."""

    center: np.ndarray
    scale: np.ndarray
    sites: np.ndarray  # weighted, standardised site features of the training sites
    mean_distance: float
    threshold: float
    daily_low: np.ndarray
    daily_high: np.ndarray
    daily_names: tuple[str, ...] = DAILY_FEATURES  # models saved before it: these

    def dissimilarity(self, site_rows: np.ndarray) -> np.ndarray:
        """DI of rows of :data:`SITE_FEATURES` values (n, 6)."""
        scaled = (np.asarray(site_rows, "f8") - self.center) * self.scale
        # as many threads as the forests use: one per process on a cluster's workers
        distance, _ = cKDTree(self.sites).query(scaled, k=1, workers=numba.get_num_threads())
        return np.asarray(distance / self.mean_distance)

    def inside(self, X: np.ndarray, cells: np.ndarray | None = None,
               columns: tuple[str, ...] = FEATURES) -> np.ndarray:
        """Inside the AOA (uint8 0/1), per row of ``X`` (named by ``columns``).

        ``cells`` (one id per row, e.g. the grid cell) lets the site part be computed once
        per cell rather than once per row; by default rows with equal site features share it.
        """
        X = np.asarray(X)
        columns = tuple(columns)
        site = X[:, [columns.index(f) for f in SITE_FEATURES]]
        if cells is None:
            _, first, inverse = np.unique(site, axis=0, return_index=True, return_inverse=True)
        else:
            _, first, inverse = np.unique(cells, return_index=True, return_inverse=True)
        site_ok = (self.dissimilarity(site[first]) <= self.threshold)[inverse.ravel()]
        daily = X[:, [columns.index(f) for f in self.daily_names]]
        daily_ok = ((daily >= self.daily_low) & (daily <= self.daily_high)).all(axis=1)
        return (site_ok & daily_ok).astype("u1")

    def to_dict(self) -> dict:
        """Plain arrays and floats, for saving with the model."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def fit_applicability(table: pd.DataFrame, importances,
                      daily: tuple[str, ...] = DAILY_FEATURES) -> Applicability:
    """Reference for :meth:`Applicability.inside` from a training table.

    Parameters
    ----------
    table : pandas.DataFrame
        Training samples with columns :data:`cropsm.rf.features.FEATURES`.
    importances : array_like
        The regressor's feature importances, in :data:`cropsm.rf.features.FEATURES` order.
    daily : tuple of str
        Columns whose training range bounds the daily part.
    """
    importances = np.asarray(importances, "f8")
    weights = importances[[FEATURES.index(f) for f in SITE_FEATURES]]
    site = table[list(SITE_FEATURES)].to_numpy("f8")
    center = site.mean(axis=0)
    sd = site.std(axis=0)
    scale = np.where(sd > 0, 1.0 / np.where(sd > 0, sd, 1.0), 0.0) * weights
    sites = np.unique((site - center) * scale, axis=0)
    if len(sites) < 3:
        raise ValueError(f"The training data have {len(sites)} distinct sites; the area of "
                         "applicability needs at least 3.")
    pairs = np.sqrt(((sites[:, None, :] - sites[None, :, :]) ** 2).sum(-1))
    mean_distance = pairs[np.triu_indices(len(sites), k=1)].mean()
    nearest_other = np.where(np.eye(len(sites), dtype=bool), np.inf, pairs).min(axis=1)
    train_di = nearest_other / mean_distance
    q1, q3 = np.percentile(train_di, [25, 75])
    threshold = train_di[train_di <= q3 + 1.5 * (q3 - q1)].max()
    values = table[list(daily)].to_numpy("f4")
    return Applicability(center=center, scale=scale, sites=sites,
                         mean_distance=float(mean_distance), threshold=float(threshold),
                         daily_low=values.min(axis=0), daily_high=values.max(axis=0),
                         daily_names=tuple(daily))
