"""Model files: ``skops.io`` archives with a JSON model card beside each.

Never pickle or joblib. A card records the features and their order, the training
period, hyper-parameters, CV scores, library versions, the file size and the file's
SHA-256; loading checks the hash and the feature list before trusting the archive.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import uuid
from collections.abc import Callable
from pathlib import Path

import skops.io as sio

from cropsm.core.errors import CropSMError

__all__ = ["TRUSTED_TYPES", "ModelFileError", "load_model", "load_network", "model_path",
           "network_path", "read_card", "save_model", "save_network", "trained_on"]

_LIBRARIES = ("cropsm", "scikit-learn", "numpy", "skops", "xarray", "pandas")
#: The only types beyond skops' own safe set that a CropSM model archive may hold; an
#: archive with any other type is refused before anything in it is constructed.
TRUSTED_TYPES: frozenset[str] = frozenset({"cropsm.rf.model.SoilMoistureModel",
                                           "cropsm.nn.network.LayerNetwork",
                                           "cropsm.nn.network.MultilayerNetwork",
                                           "sklearn.tree._tree.Tree"})


class ModelFileError(CropSMError, OSError):
    """A model file is missing, changed since it was written, or does not match the code."""


def model_path(folder: str | Path, crop: str, depth: str, omitted: str | None = None,
               method: str = "paper") -> Path:
    """Where the model of ``crop`` and ``depth`` lives.

    A reduced model (without feature group ``omitted``) and a model of the CropSM method
    (``method="cropsm"``) have their own files beside the paper method's.
    """
    suffix = f"_without-{omitted}" if omitted else ""
    if method != "paper":
        suffix += f"_{method}-method"
    return Path(folder) / f"cropsm_{crop}_{depth}{suffix}.skops"


def network_path(folder: str | Path, omitted: str | None = None) -> Path:
    """Where the multilayer network (reduced: without group ``omitted``) lives."""
    suffix = f"_without-{omitted}" if omitted else ""
    return Path(folder) / f"cropsm_network{suffix}.skops"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for lib in _LIBRARIES:
        try:
            versions[lib] = importlib.metadata.version(lib)
        except importlib.metadata.PackageNotFoundError:
            versions[lib] = None
    return versions


def _dump_with_card(obj, path: Path, card: dict) -> Path:
    """Write ``obj`` with skops and its card, each to a temporary name, then rename."""
    tmp = path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex[:6]}")
    sio.dump(obj, tmp)
    card = {**card, "library_versions": _versions(), "file": path.name,
            "file_size_bytes": tmp.stat().st_size, "sha256": _sha256(tmp)}
    card_path = path.with_suffix(".card.json")
    card_tmp = card_path.with_name(f".{card_path.name}.tmp")
    card_tmp.write_text(json.dumps(card, indent=2, default=float))
    os.replace(tmp, path)
    os.replace(card_tmp, card_path)
    return path


def save_model(model, folder: str | Path, cv_scores: dict | None = None) -> Path:
    """Write a :class:`cropsm.rf.model.SoilMoistureModel` and its card (atomically)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    method = model.info.get("method", "paper")
    path = model_path(folder, model.crop, model.depth, model.info.get("omitted_group"), method)
    return _dump_with_card(model, path, {
        "crop": model.crop, "depth": model.depth, "method": method,
        "features": list(model.features),
        "training_period": model.info.get("training_period"),
        "n_samples": model.info.get("n_samples"),
        "hyper_parameters": model.info.get("params"), "cv_scores": cv_scores or {},
        "cir_training": model.info.get("cir_training"),
        "omitted_group": model.info.get("omitted_group"),
        "training_data": model.info.get("training_data"),
    })


def save_network(network, folder: str | Path, scores: dict | None = None) -> Path:
    """Write a :class:`cropsm.nn.network.MultilayerNetwork` and its card (atomically)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    layers = {name: {"features": list(net.features), "hyper_parameters": net.info["params"],
                     "n_samples": net.info["n_samples"], "epochs": net.info["epochs"],
                     "r2_train": net.info["r2_train"],
                     "fit_seconds": round(net.info["fit_seconds"], 2),
                     "search_seconds": round(net.info.get("search_seconds", 0.0), 2)}
              for name, net in network.layers.items()}
    return _dump_with_card(network, network_path(folder, network.omitted_group), {
        "method": "multilayer network (Liu et al. 2021)", "layers": layers,
        "omitted_group": network.omitted_group,
        "training_period": network.info.get("training_period"),
        "training_data": network.info.get("training_data"),
        "split": "random 70/30; 10% of the training rows for validation",
        "scores": scores or {},
    })


def read_card(path: str | Path) -> dict:
    """The model card beside a model file."""
    path = Path(path)
    card_path = path.with_suffix(".card.json")
    if not path.is_file():
        command = ("cropsm network train" if path.name.startswith("cropsm_network")
                   else "cropsm train --method cropsm" if "_cropsm-method" in path.name
                   else "cropsm train")
        raise ModelFileError(f"Model file {path} not found; train it with `{command}` "
                             "(`make run` does so in the background: see "
                             "data/background.log).")
    if not card_path.is_file():
        raise ModelFileError(f"Model card {card_path} not found; retrain with `cropsm train`.")
    try:
        card = json.loads(card_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ModelFileError(f"Model card {card_path} is not valid JSON ({err}); "
                             "retrain with `cropsm train`.") from err
    if not isinstance(card, dict):
        raise ModelFileError(f"Model card {card_path} holds a JSON {type(card).__name__}, "
                             "not an object; retrain with `cropsm train`.")
    return card


def trained_on(path: str | Path, fingerprint: str) -> bool:
    """Whether the model at ``path`` has a card saying it was trained on ``fingerprint``.

    A missing or unreadable card is False: the model is (re)trained.
    """
    try:
        return read_card(path).get("training_data") == fingerprint
    except ModelFileError:
        return False


def load_model(path: str | Path, crop: str | None = None, depth: str | None = None, *,
               expected_features: Callable[[str | None, str], tuple[str, ...]] | None = None):
    """Load a forest after checking its card: SHA-256, crop and depth, feature order.

    Parameters
    ----------
    path : str or pathlib.Path
        The ``.skops`` file; its card sits beside it.
    crop, depth : str, optional
        What the file must be for.
    expected_features : callable, optional
        Maps the card's omitted feature group and method to the feature order the
        calling code uses (:func:`cropsm.rf.model.expected_features`); a different order
        is refused.
        :func:`cropsm.serve.models.load_model` passes it.
    """
    path = Path(path)
    card = read_card(path)
    if (crop, depth) != (None, None) and (card.get("crop"), card.get("depth")) != (crop, depth):
        raise ModelFileError(
            f"Model file {path} is for {card.get('crop')}/{card.get('depth')}, not "
            f"{crop}/{depth}; retrain with `cropsm train --crop {crop} --depth {depth}`.")
    _check_archive(path, card, "cropsm train")
    if expected_features is not None:
        try:
            expected = expected_features(card.get("omitted_group"),
                                         card.get("method", "paper"))
        except ValueError as err:
            raise ModelFileError(f"Model card of {path}: {err}") from err
        if tuple(card.get("features", ())) != expected:
            raise ModelFileError(
                f"Model file {path} was trained on features {card.get('features')}, but "
                f"this code uses {list(expected)}; retrain with `cropsm train"
                f"{'' if card.get('method', 'paper') == 'paper' else ' --method cropsm'}`."
            )
    return _load_archive(path)


def _check_archive(path: Path, card: dict, retrain: str) -> None:
    digest = _sha256(path)
    if digest != card.get("sha256"):
        raise ModelFileError(
            f"Model file {path} does not match its card (SHA-256 {digest[:12]}… vs "
            f"{str(card.get('sha256'))[:12]}…): it changed since it was written; "
            f"retrain with `{retrain}`.")
    untrusted = sorted(set(sio.get_untrusted_types(file=path)) - TRUSTED_TYPES)
    if untrusted:
        raise ModelFileError(f"Model file {path} contains types outside the pinned list "
                             f"{sorted(TRUSTED_TYPES)}: {untrusted}; it was not loaded.")


def _load_archive(path: Path):
    try:
        return sio.load(path, trusted=sorted(TRUSTED_TYPES))
    except Exception as err:  # skops raises many types for damaged archives
        raise ModelFileError(f"Cannot load model file {path}: {err}") from err


def load_network(path: str | Path, *,
                 expected_features: Callable[[str, str | None], tuple[str, ...]] | None = None):
    """Load a multilayer network after checking its card: SHA-256, types, inputs.

    ``expected_features(layer, omitted_group)`` gives the input order the calling code
    uses per layer (:func:`cropsm.nn.network.kept_features`); a different order is refused.
    """
    path = Path(path)
    card = read_card(path)
    _check_archive(path, card, "cropsm network train")
    if expected_features is not None:
        for layer, entry in card.get("layers", {}).items():
            try:
                expected = expected_features(layer, card.get("omitted_group"))
            except ValueError as err:
                raise ModelFileError(f"Model card of {path}: {err}") from err
            if tuple(entry.get("features", ())) != expected:
                raise ModelFileError(
                    f"Network {path} was trained for {layer} on {entry.get('features')}, "
                    f"but this code uses {list(expected)}; retrain with "
                    "`cropsm network train`.")
    return _load_archive(path)
