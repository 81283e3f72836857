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
