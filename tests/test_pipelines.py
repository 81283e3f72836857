"""The library pipelines return typed results, report progress and never print."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cropsm.io.catalog import entry_path, open_catalog

ROOT = Path(__file__).resolve().parents[1]


class Recorder:
    """A progress factory that records its bars and their updates."""

    def __init__(self):
        self.bars: dict[str, list] = {}

    def __call__(self, description, total):
        steps = self.bars.setdefault(description, [total])
        return steps.append


def test_predict_product_returns_a_typed_run_and_skips_what_is_done(product_catalog,
                                                                    tiny_models, capsys):
    from cropsm.pipelines.predict import PredictionRun, predict_product
    from cropsm.serve.predict import PredictError

    progress = Recorder()
    run = predict_product(product_catalog, tiny_models, [("wheat", "0-10cm")],
                          start="2018-05-01", end="2018-05-02", workers=0, progress=progress)
    assert isinstance(run, PredictionRun) and not run.skipped
    assert run.products == ("wheat/0-10cm",) and run.days == 2 and run.version
    assert run.target == Path(entry_path(open_catalog(product_catalog), "soil_moisture"))
    total, *steps = progress.bars["blocks"]
    assert sum(steps) == total > 0
    again = predict_product(product_catalog, tiny_models, [("wheat", "0-10cm")],
                            start="2018-05-01", end="2018-05-02", if_missing=True)
    assert again.skipped and again.products == ("wheat/0-10cm",) and again.days == 0
    # a day the store lacks is not skipped: the store's period cannot take it
    with pytest.raises(PredictError, match="2018-05-03 is not inside it.*--overwrite"):
        predict_product(product_catalog, tiny_models, [("wheat", "0-10cm")],
                        start="2018-05-01", end="2018-05-03", if_missing=True, workers=0)
    assert capsys.readouterr().out == ""


def test_predict_product_refuses_a_box_and_a_region_together(tmp_path):
    from cropsm.core.errors import CropSMError
    from cropsm.pipelines.predict import predict_product

    with pytest.raises(CropSMError, match="not both"):
        predict_product(tmp_path / "none.yaml", tmp_path, bbox="1,2,3,4", region="Hebei")


def test_train_models_reports_progress_and_skips_existing_models(tiny_world, tiny_models):
    from cropsm.pipelines.train import train_models

    progress = Recorder()
    assert train_models(tiny_world[1], tiny_models, if_missing=True, progress=progress) == []
    assert progress.bars == {}  # nothing to do, no bar


def test_validate_insitu_returns_the_real_data_comparison(tmp_path):
    from cropsm.analysis.report import InsituReport
    from cropsm.pipelines.validate import validate_catalog, validate_insitu

    report = validate_insitu(ROOT / "catalogs" / "real-example.yaml", tmp_path)
    assert isinstance(report, InsituReport)
    assert (tmp_path / "insitu_comparison.json").read_text() == json.dumps(
        report.to_dict(), indent=2, default=float)
    assert report.comparison["ismn_maqu"]["esa_cci_passive"]["pairs"] == 0
    run = validate_catalog(ROOT / "catalogs" / "real-example.yaml", tmp_path / "again")
    assert run.reports == () and run.insitu is not None
    assert json.dumps(run.insitu.to_dict(), default=float) == json.dumps(report.to_dict(),
                                                                          default=float)
    assert run.markdown == (tmp_path / "again" / "insitu_comparison.md").read_text()


def test_catalog_status_lists_each_entry_with_its_size(tiny_world, tiny_entries, tmp_path):
    from cropsm.io.catalog import CatalogError
    from cropsm.pipelines.catalog_status import catalog_status

    _, catalog, _ = tiny_world
    status = catalog_status(catalog).set_index("entry")
    assert list(status.index) == sorted(open_catalog(catalog).entries)
    assert status.loc["soil_moisture", "status"] == "missing"  # not predicted yet
    assert status.loc["stations", "size"] == f"{len(tiny_entries['stations'])} rows"
    sizes = tiny_entries["covariates"].sizes
    assert status.loc["covariates", "size"] == ", ".join(f"{k}={v}" for k, v in sizes.items())
    with pytest.raises(CatalogError, match="none.yaml"):
        catalog_status(tmp_path / "none.yaml")
