"""The tiny demo world: structure, physics and the figures of the build report."""

import numpy as np
import pandas as pd
import pytest

from cropsm.core import crops
from cropsm.demo import world
from cropsm.demo.build import read_inputs
from cropsm.demo.profiles import get_profile


@pytest.fixture(scope="module")
def entries(tiny_entries):
    return tiny_entries


def test_build_report_figures(tiny_world):
    _, _, result = tiny_world
    checks = result["checks"]
    print("\ntiny build:", {k: round(v, 1) for k, v in result["timings"].items()},
          f"{result['size_bytes'] / 1e6:.1f} MB")
    assert checks["truth_bounds"]["passed"]
    assert checks["stations"]["passed"]
    assert checks["stations"]["phenology_names_ok"]
    assert result["world_version"] == 3
    # the tiny world has three years: the long-record checks are reported, not judged
    assert checks["continuity"]["seam_passed"] is None
    assert checks["temperature_beijing"]["passed"] is None
    # one year of spin-up leaves the map year within a few thousandths of a 26-year run
    assert checks["continuity"]["spin_up_mean_abs_difference"] < 0.005
    assert set(checks["irrigation_events_per_pixel"]["wheat"]["by_zone"]) == {"HP"}
    assert 0.0 <= checks["spring_wheat"]["area_share"] < 0.05  # the Hebei plain: winter wheat


def test_truth_within_residual_and_saturation(entries):
    cov, truth = entries["covariates"], entries["truth"]
    sm = truth["sm"].values
    valid = np.isfinite(sm)
    assert valid.any()
    resid = np.broadcast_to(cov["residual"].values, sm.shape)
    sat = np.broadcast_to(cov["saturation"].values, sm.shape)
    assert np.all(sm[valid] >= resid[valid] - 5e-5)
    assert np.all(sm[valid] <= sat[valid] + 5e-5)


def test_truth_only_on_cropland(entries):
    cov, truth = entries["covariates"], entries["truth"]
    for crop in crops.CROPS:
        has_sm = np.isfinite(truth["sm"].sel(crop=crop).isel(depth=0, time=180).values)
        cropland = cov["crop_fraction"].sel(crop=crop).values > 0
        np.testing.assert_array_equal(has_sm, cropland)


def test_stations_observe_on_8_18_28_in_season(entries):
    obs, meta = entries["stations"], entries["station_meta"]
    assert set(pd.DatetimeIndex(obs["date"]).day) <= {8, 18, 28}
    assert set(obs["depth"].unique()) == set(crops.SOIL_LAYERS)
    assert meta["station_id"].is_unique
    assert set(obs["station_id"]) <= set(meta["station_id"])
    for crop in crops.CROPS:
        assert set(obs.loc[obs.crop == crop, "phenology"].unique()) <= set(crops.STAGES[crop])
    years = pd.DatetimeIndex(obs["date"]).year
    prof = get_profile("tiny")
    assert years.min() >= prof.first_year and years.max() <= prof.last_year


def test_station_sm_mean_and_spread_are_realistic(entries):
    obs = entries["stations"]
    mean = obs["sm"].mean()
    by = obs.groupby(["crop", "depth"], observed=True)["sm"].agg(["mean", "std", "size"])
    print("\nstation SM by crop x depth:\n", by.round(4).to_string())
    assert 0.15 <= mean <= 0.30
    assert (by["std"] > 0.02).all() and (by["std"] < 0.12).all()


def test_station_covariates_are_the_grid_covariates_at_its_pixel(entries, tiny_world):
    cov, meta = entries["covariates"], entries["station_meta"]
    grid = world.profile_grid(get_profile("tiny"))
    rows, cols = grid.lonlat_to_rowcol(meta["lon"].to_numpy(), meta["lat"].to_numpy())
    np.testing.assert_array_equal(rows, meta["row"])
    np.testing.assert_array_equal(cols, meta["col"])
    zone = cov["zone"].values[rows, cols]
    np.testing.assert_array_equal(zone, meta["zone"])


def test_station_observations_are_the_pixel_truth_at_point_scale(entries):
    """Observation = pixel truth + a persistent offset + a correlated error + noise.

    The map's truth spins up from 2017, the stations' fields from 2015; after a year of
    spin-up the two agree, so the difference is the point-scale error of
    :mod:`cropsm.demo.observation` (offset sd 0.03, error sd 0.02, noise sd 0.01, with
    bounds that shrink deviations near the residual).
    """
    obs, meta, truth = entries["stations"], entries["station_meta"], entries["truth"]
    year = get_profile("tiny").map_year
    # the truth store holds the product's depths; stations observe all five layers
    sel = obs[(pd.DatetimeIndex(obs["date"]).year == year)
              & obs["depth"].isin(crops.DEPTHS)].merge(
        meta[["station_id", "row", "col"]], on="station_id")
    sm_truth = truth["sm"].load()
    t = sm_truth.sel(crop=xr_index(sel["crop"]), depth=xr_index(sel["depth"]),
                     time=xr_index(pd.DatetimeIndex(sel["date"]))).isel(
        y=xr_index(sel["row"]), x=xr_index(sel["col"])).values
    diff = pd.Series(sel["sm"].to_numpy() - t)
    key = sel["station_id"].astype(str) + sel["depth"].astype(str)
    offset = diff.groupby(key.to_numpy()).transform("mean")
    print(f"\nobs - truth at station pixels: mean {diff.mean():.4f}, sd {diff.std():.4f}; "
          f"station offsets sd {offset.std():.4f}, within-station sd "
          f"{(diff - offset).std():.4f}")
    assert abs(diff.mean()) < 0.02
    assert 0.01 < offset.std() < 0.06
    assert 0.01 < (diff - offset).std() < 0.035
    assert np.corrcoef(sel["sm"], t)[0, 1] > 0.7


def xr_index(values):
    import xarray as xr

    return xr.DataArray(np.asarray(values), dims="obs")


def test_world_is_deterministic_for_a_seed():
    prof = get_profile("tiny")
    inputs = read_inputs()
    a = world.static_covariates(prof, inputs, seed=7).ds
    b = world.static_covariates(prof, inputs, seed=7).ds
    c = world.static_covariates(prof, inputs, seed=8).ds
    assert a.identical(b)
    assert not np.array_equal(a["sand"].values, c["sand"].values, equal_nan=True)


def test_irrigation_events_more_frequent_near_rivers(tiny_world):
    _, _, result = tiny_world
    for crop, figures in result["checks"]["irrigation_events_per_pixel"].items():
        assert figures["river_lt_10km"] > figures["river_gt_40km"], crop


def test_tiny_world_is_a_window_of_the_national_grid(entries):
    from cropsm.core.grid import Grid, china_grid

    cov = entries["covariates"]
    grid = Grid.from_coords(cov["x"].values, cov["y"].values)
    r0, c0 = grid.offset_in(china_grid())
    assert china_grid().window(slice(r0, r0 + grid.shape[0]),
                               slice(c0, c0 + grid.shape[1])) == grid
