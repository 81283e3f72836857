"""Product comparison at matched resolution, against direct numpy averages of the truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cropsm.analysis.product_comparison import DEGRADATIONS, coarse_matchups, compare_products
from cropsm.core import metrics


@pytest.fixture(scope="module")
def samples(tiny_entries):
    obs = tiny_entries["stations"]
    obs = obs[(obs["crop"] == "maize") & (obs["depth"] == "0-10cm")]
    obs = obs[pd.DatetimeIndex(obs["date"]).year == 2018]
    assert len(obs) > 5
    rng = np.random.default_rng(0)
    return pd.DataFrame({"station_id": obs["station_id"].to_numpy(),
                         "date": pd.DatetimeIndex(obs["date"]), "obs": obs["sm"].to_numpy(),
                         "station_blocked": obs["sm"].to_numpy() + rng.normal(0, 0.02,
                                                                              len(obs))})


def test_matchups_average_stations_and_truth_per_coarse_pixel(samples, tiny_entries):
    truth = tiny_entries["truth"]["sm"].sel(crop="maize", depth="0-10cm")
    meta = tiny_entries["station_meta"]
    cells = coarse_matchups(samples, meta, truth, "maize", factor=10)
    merged = samples.merge(meta[["station_id", "row", "col"]], on="station_id")
    first = cells.iloc[0]
    inside = merged[(merged["row"] // 10 == first["cy"]) & (merged["col"] // 10 == first["cx"])
                    & (merged["date"] == first["date"])]
    assert first["obs"] == pytest.approx(inside["obs"].mean())
    assert first["stations"] == inside["station_id"].nunique()
    block = truth.sel(time=first["date"]).values[int(first["cy"]) * 10:(int(first["cy"]) + 1) * 10,
                                                 int(first["cx"]) * 10:(int(first["cx"]) + 1) * 10]
    assert first["coarse"] == pytest.approx(np.nanmean(block))
    degraded = coarse_matchups(samples, meta, truth, "maize", 10, DEGRADATIONS[
        "active-like 0.1°"], seed=3)
    d = DEGRADATIONS["active-like 0.1°"]
    noise = np.random.default_rng(3).normal(0, d.noise, len(cells))
    np.testing.assert_allclose(degraded["coarse"],
                               np.clip(d.gain * cells["coarse"] + d.bias + noise, 0, 0.6))


def test_compare_products_scores_every_product_on_the_same_pixel_days(samples, tiny_entries):
    truth = tiny_entries["truth"]["sm"].sel(crop="maize", depth="0-10cm")
    meta = tiny_entries["station_meta"]
    out = compare_products(samples, meta, truth, "maize", seed=1)
    assert set(out) == {"0.25°: CropSM (station-blocked)", "0.25°: passive-like 0.25°",
                        "0.1°: CropSM (station-blocked)", "0.1°: active-like 0.1°"}
    cells = coarse_matchups(samples, meta, truth, "maize", 25, DEGRADATIONS[
        "passive-like 0.25°"], seed=1)
    both = cells[np.isfinite(cells["coarse"]) & np.isfinite(cells["cropsm"])]
    expected = metrics.skill_table(both["coarse"], both["obs"])
    assert out["0.25°: passive-like 0.25°"]["r"] == pytest.approx(expected["r"])
    assert out["0.25°: passive-like 0.25°"]["n"] == out["0.25°: CropSM (station-blocked)"]["n"]
