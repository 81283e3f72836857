"""Typed validation reports: what ``cropsm validate`` writes and the dashboard reads.

A :class:`ValidationReport` is the JSON document ``validation_<crop>_<depth>.json``;
:meth:`ValidationReport.to_dict` gives the document (keys in the order they were always
written, plus ``schema_version``) and :meth:`ValidationReport.from_dict` reads it back,
also from reports written before the version field existed. The per-sample tables
written beside it are a :class:`ValidationTables`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from cropsm.core.errors import CropSMError

__all__ = ["SCHEMA_VERSION", "InsituReport", "RegionReport", "ReportError", "Skill",
           "ValidationReport", "ValidationTables"]

#: Version of the report's JSON layout; raise it when a field changes meaning.
SCHEMA_VERSION = 1

#: Metrics of one sample (:func:`cropsm.core.metrics.skill_table`), possibly with extras
#: (``pixels``, ``cells``, ...).
Skill = dict[str, Any]


class ReportError(CropSMError, ValueError):
    """A validation report that cannot be read: missing fields or a newer layout."""


@dataclass(frozen=True)
class ValidationReport:
    """Validation of one crop × depth model (see :mod:`cropsm.analysis.validation`).

    Attributes
    ----------
    crop, depth : str
        The model's crop and depth.
    n_samples, n_train, n_test : int
        Station observations, and those of the random split's training and test sets.
    params : dict
        The model's hyper-parameters.
    rows : dict of str to Skill
        Skill per validation setting (``paper``, ``honest``, ``station_blocked``, ...).
    irrigation_module_effect : dict
        ``r2_change_pct`` and ``rmse_change_pct`` of the honest row over the row without CIR.
    per_month_spatial_r : dict of int to float
        Spatial r across stations per month (held-out samples of the random split).
    per_zone_temporal : dict of str to dict
        Median temporal ``r``, ``rmse``, ``bias``, ``ubrmse`` and ``stations`` per zone.
    classifier : dict
        The CIR classifier's confusion counts and scores.
    permutation_importance_r2 : dict of str to dict
        ``mean`` and ``std`` R² loss per feature.
    truth_window : Skill, optional
        Skill against the demo truth in a window left out of training (demo worlds only).
    truth_window_cropsm : Skill, optional
        The same for the CropSM method.
    cropsm_importance_r2 : dict of str to dict, optional
        Permutation importance of the CropSM method's features, as above.
    product_comparison : dict of str to Skill, optional
        Scores of CropSM and satellite-like products at matched resolution (demo worlds).
    schema_version : int
        Layout of the JSON document, :data:`SCHEMA_VERSION`.
    """

    crop: str
    depth: str
    n_samples: int
    n_train: int
    n_test: int
    params: dict[str, Any]
    rows: dict[str, Skill]
    irrigation_module_effect: dict[str, float]
    per_month_spatial_r: dict[int, float]
    per_zone_temporal: dict[str, dict[str, float]]
    classifier: dict[str, float]
    permutation_importance_r2: dict[str, dict[str, float]]
    truth_window: Skill | None = None
    product_comparison: dict[str, Skill] | None = None
    truth_window_cropsm: Skill | None = None
    cropsm_importance_r2: dict[str, dict[str, float]] | None = None
    schema_version: int = SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        """The JSON document: every field in order, the absent optional ones left out."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                if getattr(self, f.name) is not None}

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> ValidationReport:
        """A report from its JSON document; raises :class:`ReportError` if it is not one."""
        version = doc.get("schema_version", SCHEMA_VERSION)  # reports before the field: 1
        if version > SCHEMA_VERSION:
            raise ReportError(f"Validation report has schema version {version}; this CropSM "
                              f"reads up to {SCHEMA_VERSION}. Upgrade CropSM or re-run "
                              "`cropsm validate`.")
        names = {f.name for f in dataclasses.fields(cls)}
        required = {f.name for f in dataclasses.fields(cls)
                    if f.default is dataclasses.MISSING}
        if missing := sorted(required - set(doc)):
            raise ReportError(f"Validation report lacks {', '.join(missing)}; re-run "
                              "`cropsm validate`.")
        values = {k: v for k, v in doc.items() if k in names}
        # JSON object keys are strings; months are numbers
        values["per_month_spatial_r"] = {int(k): v
                                         for k, v in doc["per_month_spatial_r"].items()}
        return cls(**values)

    def restricted_to(self, region: RegionReport) -> ValidationReport:
        """The report with the figures a region recomputes replaced by the region's.

        Permutation importance, the truth window and the product comparison cannot be
        recomputed from the per-sample tables and stay those of all stations; so does
        the classifier when the region's tables lack station positions.
        """
        return dataclasses.replace(
            self, rows=region.rows, per_month_spatial_r=region.per_month_spatial_r,
            per_zone_temporal=region.per_zone_temporal,
            irrigation_module_effect=(region.irrigation_module_effect
                                      or self.irrigation_module_effect),
            classifier=region.classifier or self.classifier)


@dataclass(frozen=True)
class RegionReport:
    """The report's figures recomputed for the stations of a region.

    See :func:`cropsm.analysis.validation.region_report`.

    Attributes
    ----------
    rows, per_month_spatial_r, per_zone_temporal
        As in :class:`ValidationReport`; settings are left out with fewer than 3 samples.
    stations : int
        Stations inside the region.
    irrigation_module_effect, classifier : dict, optional
        None when the region lacks the rows (or station positions) to recompute them.
    """

    rows: dict[str, Skill]
    stations: int
    per_month_spatial_r: dict[int, float]
    per_zone_temporal: dict[str, dict[str, float]]
    irrigation_module_effect: dict[str, float] | None = None
    classifier: dict[str, float] | None = None


@dataclass(frozen=True)
class ValidationTables:
    """Per-sample tables of a validation, written beside its report as Parquet.

    Attributes
    ----------
    samples : pandas.DataFrame
        Every observation with its station-blocked and zone-blocked predictions.
    classifier : pandas.DataFrame
        The CIR classifier's held-out classes and scores.
    test : pandas.DataFrame
        The random split's test rows with each setting's prediction, so a region's rows
        can be recomputed.
    """

    samples: pd.DataFrame = field(repr=False)
    classifier: pd.DataFrame = field(repr=False)
    test: pd.DataFrame = field(repr=False)

    def frames(self) -> dict[str, pd.DataFrame]:
        """Name (the Parquet file's prefix) -> table."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


@dataclass(frozen=True)
class InsituReport:
    """Gridded products of a real-data catalog scored against its in-situ stations.

    Attributes
    ----------
    comparison : dict
        In-situ entry -> product entry ->
        :func:`cropsm.analysis.product_comparison.compare_insitu` result.
    observations : dict of str to str
        In-situ entry -> a one-line description (stations, days kept).
    """

    comparison: dict[str, dict[str, dict[str, Any]]]
    observations: dict[str, str]

    def to_dict(self) -> dict[str, Any]:
        """The JSON document ``insitu_comparison.json``."""
        return {"comparison": self.comparison, "observations": self.observations}
