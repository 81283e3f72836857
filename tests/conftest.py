"""Shared fixtures: one ``tiny`` demo world per test session."""

from __future__ import annotations

import pytest

from cropsm.demo.build import build


@pytest.fixture(scope="session")
def tiny_world(tmp_path_factory):
    """Build the tiny profile once; returns ``(out_dir, catalog_path, build_result)``."""
    out = tmp_path_factory.mktemp("tiny")
    catalog = out / "catalog" / "cropsm.yaml"
    result = build("tiny", out / "data", catalog=catalog, seed=7)
    return out / "data", catalog, result
