"""Shared fixtures: one ``tiny`` demo world per test session."""

from __future__ import annotations

import pytest

from cropsm.demo.build import build
from cropsm.io.catalog import open_catalog, read_entry


@pytest.fixture(scope="session")
def tiny_world(tmp_path_factory):
    """Build the tiny profile once; returns ``(out_dir, catalog_path, build_result)``."""
    out = tmp_path_factory.mktemp("tiny")
    catalog = out / "catalog" / "cropsm.yaml"
    result = build("tiny", out / "data", catalog=catalog, seed=7)
    return out / "data", catalog, result


@pytest.fixture(scope="session")
def tiny_export(tiny_world, tmp_path_factory):
    """The tiny world in real file formats (``cropsm demo export``), written once.

    Tests that ingest it write their stores under their own ``output`` names, or into a
    copy; none changes its files.
    """
    from cropsm.pipelines.demo_export import export_world

    out = tmp_path_factory.mktemp("export") / "files"
    export_world(tiny_world[1], out)
    return out


@pytest.fixture(scope="session")
def tiny_entries(tiny_world):
    """The tiny world's catalog entries, opened once: name -> Dataset or DataFrame."""
    _, catalog, _ = tiny_world
    cat = open_catalog(catalog)
    return {name: read_entry(name, cat) for name in
            ("covariates", "covariates_daily", "truth", "stations", "station_meta")}


@pytest.fixture(scope="session")
def tiny_models(tiny_world, tmp_path_factory):
    """The tiny world's forests of both methods (``cropsm train [--method cropsm
    --rainfed]``) and its network with two reduced ones (without soil, without the
    cropping pattern)."""
    from cropsm.nn.network import SINGLE_SETTING
    from cropsm.pipelines.network import train_network
    from cropsm.pipelines.train import train_models
    from cropsm.rf.features import RAINFED_ONLY

    _, catalog, _ = tiny_world
    models = tmp_path_factory.mktemp("models")
    train_models(catalog, models)
    # the CropSM forests and their rain-fed twins (the learned irrigation-off scenario)
    train_models(catalog, models, method="cropsm")
    # the tiny world has 7 rain-fed maize stations and 2 rain-fed wheat ones
    train_models(catalog, models, (("maize", "0-10cm"),), method="cropsm",
                 omit=(RAINFED_ONLY,), if_missing=True)
    # one setting: no search
    train_network(catalog, models, grid=SINGLE_SETTING,
                  omit=("soil", "cropping_pattern"))
    return models


def _catalog_over_inputs(data, folder):
    """A catalog in ``folder`` over the tiny world's inputs, its product still to write."""
    from cropsm.io.catalog import ENTRIES, write_catalog

    (folder / "data").mkdir()
    for filename in {filename for filename, _, _ in ENTRIES.values()}:
        if filename != ENTRIES["soil_moisture"][0] and (data / filename).exists():
            (folder / "data" / filename).symlink_to((data / filename).resolve())
    return write_catalog(folder / "cropsm.yaml", folder / "data", "tiny")


@pytest.fixture
def product_catalog(tiny_world, tmp_path):
    """A catalog of the tiny world's inputs whose ``soil_moisture`` lives in ``tmp_path``."""
    return _catalog_over_inputs(tiny_world[0], tmp_path)


@pytest.fixture(scope="session")
def served_catalog(tiny_world, tiny_models, tmp_path_factory):
    """A tiny-world catalog with its product computed (the profile's period, 4 products)."""
    from cropsm.pipelines.predict import predict_product

    catalog = _catalog_over_inputs(tiny_world[0], tmp_path_factory.mktemp("served"))
    predict_product(catalog, tiny_models, workers=0)
    return catalog


@pytest.fixture(autouse=True)
def _fresh_settings(monkeypatch):
    """Re-read ``cropsm.config.settings()`` in every test and after each ``CROPSM_*`` change.

    The settings are read from the environment once per process, so without this a test
    that sets ``CROPSM_REPORTS`` (say) after a CLI call in the same test, or after another
    test, would still see the old value.
    """
    from cropsm.config import settings

    def clearing(change):
        def wrapper(name, *args, **kwargs):
            change(name, *args, **kwargs)
            if str(name).startswith("CROPSM_"):
                settings.cache_clear()
        return wrapper

    # this test's own monkeypatch object, so the wrappers end with the test
    monkeypatch.setenv = clearing(monkeypatch.setenv)
    monkeypatch.delenv = clearing(monkeypatch.delenv)
    settings.cache_clear()
    yield
    settings.cache_clear()


@pytest.fixture(scope="session")
def climate_catalog(tiny_world, tiny_models, tmp_path_factory):
    """A tiny-world catalog with a climate record of wheat 0-10 cm (every 4th cell,
    2017-2018), its climatology of 2017 and the 1 km product of 11-20 May 2018."""
    from cropsm.pipelines.climatology import compute_climatology
    from cropsm.pipelines.predict import predict_product

    catalog = _catalog_over_inputs(tiny_world[0], tmp_path_factory.mktemp("climate"))
    product = [("wheat", "0-10cm")]
    predict_product(catalog, tiny_models, product, years=(2017, 2018), every=4, workers=0)
    compute_climatology(catalog, product, years=(2017, 2017), min_years=1, workers=0)
    predict_product(catalog, tiny_models, product, start="2018-05-11", end="2018-05-20",
                    workers=0)
    return catalog
