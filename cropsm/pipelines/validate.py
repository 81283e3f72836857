"""Validate: the forests' validation reports, or a real catalog's products against stations.

Outputs (in ``out``):

* per crop × depth, with the paper's method's rows and the CropSM method's beside them
  (``docs/method.md``), ``validation_<crop>_<depth>.json`` (:class:`ValidationReport`) and
  the per-sample tables ``samples_``, ``classifier_`` and ``test_<crop>_<depth>.parquet``;
  ``summary.md`` over all of them;
* for a catalog with ``insitu`` entries, ``insitu_comparison.json`` and ``.md`` instead.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import xarray as xr

from cropsm.analysis import validation
from cropsm.analysis.product_comparison import compare_insitu, compare_products
from cropsm.analysis.report import InsituReport, ValidationReport
from cropsm.io.catalog import CatalogError, entries_with_role, open_catalog, read_entry
from cropsm.io.store import write_json, write_parquet_file, write_text
from cropsm.pipelines._common import (
    PRODUCTS,
    ProgressFactory,
    bar,
    entry_of,
    read_station_inputs,
)
from cropsm.rf import model as sm_model
from cropsm.rf.features import FeatureError

__all__ = ["ValidationRun", "validate_catalog", "validate_insitu", "validate_models"]


@dataclass(frozen=True)
class ValidationRun:
    """What :func:`validate_catalog` did.

    Attributes
    ----------
    markdown : str
        The summary written beside the reports (``summary.md`` or
        ``insitu_comparison.md``).
    reports : tuple of ValidationReport
        One per crop × depth; empty for a real-data catalog.
    insitu : InsituReport or None
        The real-data comparison, for a catalog with ``insitu`` entries.
    """

    markdown: str
    reports: tuple[ValidationReport, ...] = ()
    insitu: InsituReport | None = None


def validate_catalog(catalog_path: str | Path, out: str | Path,
                     crops_depths: Sequence[tuple[str, str]] = PRODUCTS, seed: int = 0,
                     progress: ProgressFactory | None = None) -> ValidationRun:
    """Validate a catalog: its products against stations, or the forests.

    :func:`validate_insitu` for a catalog with ``insitu`` entries (real data), else
    :func:`validate_models`; the parameters are those of :func:`validate_models`.
    """
    cat = open_catalog(catalog_path)
    out = Path(out)
    if entries_with_role(cat, "insitu"):
        insitu = _validate_insitu(cat, out)
        return ValidationRun(markdown=validation.insitu_markdown(insitu.comparison,
                                                                 insitu.observations),
                             insitu=insitu)
    reports = _validate_models(cat, out, crops_depths, seed, progress)
    return ValidationRun(markdown=validation.markdown_summary(reports), reports=tuple(reports))


def validate_models(catalog_path: str | Path, out: str | Path,
                    crops_depths: Sequence[tuple[str, str]] = PRODUCTS, seed: int = 0,
                    progress: ProgressFactory | None = None) -> list[ValidationReport]:
    """Validate the forest of each crop × depth and write its report and tables.

    Parameters
    ----------
    catalog_path : path
        Intake catalog of the station inputs; with a ``truth`` entry (demo worlds) the
        reports also score a left-out window against the truth and compare products.
    out : path
        Folder for the reports (see the module docstring).
    crops_depths : sequence of (str, str)
        Default: every crop × depth.
    seed : int
    progress : ProgressFactory, optional
        One bar of 6 steps per crop × depth.

    Returns
    -------
    list of ValidationReport
    """
    return _validate_models(open_catalog(catalog_path), Path(out), crops_depths, seed,
                            progress)


def _validate_models(cat: Any, out: Path, crops_depths: Sequence[tuple[str, str]], seed: int,
                     progress: ProgressFactory | None) -> list[ValidationReport]:
    inputs = read_station_inputs(cat)
    truth = entry_of(cat, "truth", xr.Dataset) if "truth" in cat.entries else None
    reports: list[ValidationReport] = []
    for c, d in crops_depths:
        try:
            table = sm_model.training_table(inputs.covariates, inputs.daily, inputs.stations,
                                            inputs.station_meta, c, d, memory=True)
        except FeatureError:  # less than a year of rain before the first visit:
            # the CropSM method's rows are left out, the paper method's still run
            table = sm_model.training_table(inputs.covariates, inputs.daily, inputs.stations,
                                            inputs.station_meta, c, d)
        update = bar(progress, f"validate {c}/{d}", 6)
        report, tables = validation.validate(table, c, d, seed=seed, progress=update)
        if truth is not None:
            report = dataclasses.replace(
                report,
                truth_window=validation.truth_window_report(
                    table, inputs.covariates, inputs.daily, inputs.station_meta, truth, c, d,
                    seed),
                truth_window_cropsm=validation.truth_window_report(
                    table, inputs.covariates, inputs.daily, inputs.station_meta, truth, c, d,
                    seed, method="cropsm"),
                product_comparison=compare_products(
                    tables.samples, inputs.station_meta,
                    truth["sm"].sel(crop=c, depth="0-10cm"), c, seed))
        update(1)
        out.mkdir(parents=True, exist_ok=True)
        for name, frame in tables.frames().items():
            write_parquet_file(frame, out / f"{name}_{c}_{d}.parquet")
        write_json(report.to_dict(), out / f"validation_{c}_{d}.json", default=float)
        reports.append(report)
    write_text(validation.markdown_summary(reports), out / "summary.md")
    return reports


def validate_insitu(catalog_path: str | Path, out: str | Path) -> InsituReport:
    """Score every ``product`` entry of a real-data catalog against every ``insitu`` one.

    Writes ``insitu_comparison.json`` and ``insitu_comparison.md`` in ``out``.
    """
    return _validate_insitu(open_catalog(catalog_path), Path(out))


def _validate_insitu(cat: Any, out: Path) -> InsituReport:
    products: dict[str, Any] = {}
    for name in entries_with_role(cat, "product"):
        data = read_entry(name, cat)
        variable = cat.entries[name].metadata.get("variable", "sm")
        products[name] = data[variable] if isinstance(data, xr.Dataset) else data
    if not products:
        raise CatalogError("The catalog has in-situ entries but no entry with metadata "
                           "role 'product' to compare them with.")
    comparison: dict[str, dict[str, dict[str, Any]]] = {}
    described: dict[str, str] = {}
    for name in entries_with_role(cat, "insitu"):
        obs = entry_of(cat, name, pd.DataFrame)
        surface = obs[obs["depth"] == "0-10cm"]
        comparison[name] = compare_insitu(surface, products)
        described[name] = (f"{obs['station_id'].nunique()} station(s), {len(surface)} daily "
                           f"0-10 cm observation(s) kept "
                           f"(quality flags kept: {', '.join(obs.attrs.get('keep_flags', []))})")
    report = InsituReport(comparison=comparison, observations=described)
    out.mkdir(parents=True, exist_ok=True)
    write_json(report.to_dict(), out / "insitu_comparison.json", default=float)
    write_text(validation.insitu_markdown(report.comparison, report.observations),
               out / "insitu_comparison.md")
    return report
