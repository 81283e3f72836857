"""Model files as the serving code reads them: integrity checks plus this code's inputs.

:mod:`cropsm.io.models` checks a file against its card (SHA-256, pinned types); these
wrappers add the check that the file was trained on the inputs, in the order, that this
version of :mod:`cropsm.rf` and :mod:`cropsm.nn` computes.
"""

from __future__ import annotations

from pathlib import Path

from cropsm.io import models as model_files
from cropsm.nn import network
from cropsm.rf import model

__all__ = ["load_model", "load_network"]


def load_model(path: str | Path, crop: str | None = None, depth: str | None = None
               ) -> model.SoilMoistureModel:
    """A forest file, checked against its card and :func:`cropsm.rf.model.expected_features`."""
    return model_files.load_model(path, crop, depth, expected_features=model.expected_features)


def load_network(path: str | Path) -> network.MultilayerNetwork:
    """A network file, checked against its card and :func:`cropsm.nn.network.kept_features`."""
    return model_files.load_network(path, expected_features=network.kept_features)
