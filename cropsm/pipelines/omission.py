"""What each feature group is worth: held-out R² lost by the models trained without it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cropsm.io.models import ModelFileError, model_path, read_card
from cropsm.rf.model import FEATURE_GROUPS, omission_ranking

__all__ = ["omission_table"]


def omission_table(folder: str | Path, crop: str, depth: str) -> pd.DataFrame:
    """R² lost without each feature group, from the cards of the reduced models in ``folder``.

    Groups without a reduced model (``cropsm train --omit <group>``) are left out.

    Returns
    -------
    pandas.DataFrame
        :func:`cropsm.rf.model.omission_ranking` of the held-out scores with the
        classifier's CIR.

    Raises
    ------
    cropsm.io.models.ModelFileError
        The full model's card is missing or unreadable, or a card lacks the held-out
        scores.
    """
    full = _held_out_scores(model_path(folder, crop, depth))
    reduced = {}
    for group in FEATURE_GROUPS:
        path = model_path(folder, crop, depth, group)
        if path.with_suffix(".card.json").is_file():
            reduced[group] = _held_out_scores(path)
    return omission_ranking(full, reduced)


def _held_out_scores(path: Path) -> dict:
    try:
        return read_card(path)["cv_scores"]["held_out_cir_predicted"]
    except (KeyError, TypeError) as err:
        raise ModelFileError(f"Model card of {path} has no held-out scores; retrain with "
                             "`cropsm train`, which records them.") from err
