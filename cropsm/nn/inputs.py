"""The network's inputs, feature groups and search grids: constants, cheap to import.

:mod:`cropsm.nn.network` builds and trains on them; the command line reads them for its
choices without importing scikit-learn.
"""

from __future__ import annotations

from cropsm.core import patterns

__all__ = [
    "ABSENT_FEATURES",
    "ACCUMULATION_DAYS",
    "GROUPS",
    "LIU_TABLE_2",
    "NETWORK_FEATURES",
    "PAPER_GRID",
    "PATTERN_COLUMNS",
    "SEARCH_GRID",
    "SINGLE_SETTING",
]

#: Accumulated precipitation over the previous 1-5 and 12 months (days before the date).
ACCUMULATION_DAYS: dict[str, int] = {"pre_1m": 30, "pre_2m": 61, "pre_3m": 91,
                                     "pre_4m": 122, "pre_5m": 152, "pre_12m": 365}
#: One-hot columns of the cropping pattern (:data:`cropsm.core.patterns.PATTERNS` order).
PATTERN_COLUMNS: tuple[str, ...] = tuple(f"pattern_{code}" for code in patterns.PATTERNS)

#: Inputs of every layer's network, in order (Table 1 of the paper, as far as the world
#: provides them); layers below the first add ``sm_upper``.
NETWORK_FEATURES: tuple[str, ...] = ("pre", *ACCUMULATION_DAYS, "air_temperature", "sand",
                                     "silt", "clay", "bulk_density", "elevation", "doy",
                                     *PATTERN_COLUMNS)

#: Table 1 inputs the demo world cannot honestly provide: it has no radiation, humidity,
#: wind or cloud fields and no soil chemistry. ``air_temperature`` is the year's monthly
#: mean (the climatology plus the month's ``tas_anomaly``), the temperature the world's
#: PET is computed from, not daily weather.
ABSENT_FEATURES: dict[str, str] = {
    "surface net solar radiation": "no radiation field in the world",
    "vapour pressure deficit": "no humidity or dew point in the world",
    "wind speed": "no wind field in the world",
    "total cloud cover": "no cloud field in the world",
    "soil pH": "the world's soils have texture and organic matter, no chemistry",
}

#: Feature groups of the control experiments (Fig. 5); the paper omits its seven
#: precipitation features together, and its soil features together.
GROUPS: dict[str, tuple[str, ...]] = {
    "precipitation": ("pre", *ACCUMULATION_DAYS),
    "air_temperature": ("air_temperature",),
    "soil": ("sand", "silt", "clay", "bulk_density"),
    "elevation": ("elevation",),
    "cropping_pattern": PATTERN_COLUMNS,
}

#: The paper's grid (section 2a): 240 settings per layer.
PAPER_GRID: dict[str, list] = {"batch_size": [128, 512, 1024, 2048],
                               "learning_rate_init": [0.0005, 0.001, 0.005, 0.01, 0.015],
                               "n_hidden": [1, 2, 3], "units": [16, 32, 64, 96]}
#: The settings the paper's search picked for layers 1-5 (0-10 ... 40-50 cm), its Table 2.
LIU_TABLE_2: dict[str, dict] = {
    "0-10cm": {"n_hidden": 3, "units": 32, "batch_size": 128, "learning_rate_init": 0.0005},
    "10-20cm": {"n_hidden": 2, "units": 16, "batch_size": 128, "learning_rate_init": 0.0005},
    "20-30cm": {"n_hidden": 3, "units": 16, "batch_size": 128, "learning_rate_init": 0.001},
    "30-40cm": {"n_hidden": 3, "units": 16, "batch_size": 128, "learning_rate_init": 0.0005},
    "40-50cm": {"n_hidden": 2, "units": 16, "batch_size": 128, "learning_rate_init": 0.0005},
}
#: The default search: the paper's whole grid, by successive halving
#: (:func:`cropsm.nn.network.fit_network`); under a minute per layer on the demo world's
#: 55 000 training rows on two cores (``docs/network.md``).
SEARCH_GRID: dict[str, list] = PAPER_GRID
#: One setting, no search: what ``make run`` trains in seconds (3 x 64 units, batch 512,
#: learning rate 0.001).
SINGLE_SETTING: dict[str, list] = {"batch_size": [512], "learning_rate_init": [0.001],
                                   "n_hidden": [3], "units": [64]}
