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
def tiny_entries(tiny_world):
    """The tiny world's catalog entries, opened once: name -> Dataset or DataFrame."""
    _, catalog, _ = tiny_world
    cat = open_catalog(catalog)
    return {name: read_entry(name, cat) for name in
            ("covariates", "covariates_daily", "truth", "stations", "station_meta")}


@pytest.fixture(scope="session")
def tiny_models(tiny_world, tmp_path_factory):
    """The tiny world's four forests (``cropsm train``) and its network, in one folder."""
    from click.testing import CliRunner

    from cropsm.cli import main

    _, catalog, _ = tiny_world
    models = tmp_path_factory.mktemp("models")
    result = CliRunner().invoke(main, ["train", "--catalog", str(catalog), "--models",
                                       str(models)])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(main, ["network", "train", "--catalog", str(catalog),
                                       "--models", str(models), "--grid", "single"])
    assert result.exit_code == 0, result.output
    return models


def _catalog_over_inputs(data, folder):
    """A catalog in ``folder`` over the tiny world's inputs, its product still to write."""
    from cropsm.io.catalog import ENTRIES, write_catalog

    (folder / "data").mkdir()
    for filename in {filename for filename, _, _ in ENTRIES.values()}:
        if filename != ENTRIES["soil_moisture"][0]:
            (folder / "data" / filename).symlink_to((data / filename).resolve())
    return write_catalog(folder / "cropsm.yaml", folder / "data", "tiny")


@pytest.fixture
def product_catalog(tiny_world, tmp_path):
    """A catalog of the tiny world's inputs whose ``soil_moisture`` lives in ``tmp_path``."""
    return _catalog_over_inputs(tiny_world[0], tmp_path)


@pytest.fixture(scope="session")
def served_catalog(tiny_world, tiny_models, tmp_path_factory):
    """A tiny-world catalog with its product computed (the profile's period, 4 products)."""
    from click.testing import CliRunner

    from cropsm.cli import main

    catalog = _catalog_over_inputs(tiny_world[0], tmp_path_factory.mktemp("served"))
    result = CliRunner().invoke(main, ["predict", "--catalog", str(catalog), "--models",
                                       str(tiny_models), "--workers", "0", "--quiet"])
    assert result.exit_code == 0, result.output
    return catalog
