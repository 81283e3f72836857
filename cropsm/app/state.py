"""The dashboard's single state object."""

from __future__ import annotations

import os

import param

from cropsm import crops
from cropsm.io.catalog import DEFAULT_CATALOG


class AppState(param.Parameterized):
    """What the analyst has chosen; views read it and call :mod:`cropsm` functions."""

    catalog_path = param.String(default=os.environ.get("CROPSM_CATALOG", str(DEFAULT_CATALOG)),
                                doc="Intake catalog the app reads.")
    crop = param.Selector(default=crops.CROPS[0], objects=list(crops.CROPS))
    depth = param.Selector(default=crops.DEPTHS[0], objects=list(crops.DEPTHS))
