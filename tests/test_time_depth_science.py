"""Percentiles, categories, spells, trends and bulletin tables against reference code.

References: numpy's ``percentile(method="median_unbiased")`` (Hyndman and Fan's method
8, what xclim's ``percentile_doy`` uses) on the pooled window, a plain loop over runs,
pymannkendall and scipy's ``theilslopes``, and pandas' own grouping.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pymannkendall as mk
import pytest
import xarray as xr
from scipy import stats

from cropsm.analysis.bulletin import (
    class_areas,
    class_shares,
    climatology_band,
    dekad_bounds,
    dekad_label,
    period_means,
)
from cropsm.analysis.category_skill import category_agreement
from cropsm.analysis.percentiles import (
    CATEGORY_FILL,
    PERCENTILES,
    doy_thresholds,
    drought_category,
    percentile_rank,
    percentile_rank_at,
    percentile_rank_cells,
)
from cropsm.analysis.spells import drought_spells
from cropsm.analysis.trends import sen_mann_kendall


def _record(n_cells: int = 3, seed: int = 0, last: str = "2003-12-31") -> xr.DataArray:
    times = pd.date_range("2001-01-01", last)
    rng = np.random.default_rng(seed)
    seasonal = 0.2 + 0.05 * np.sin(2 * np.pi * times.day_of_year.to_numpy() / 365)
    values = (seasonal[:, None] + rng.normal(0, 0.03, (times.size, n_cells))).astype("f4")
    values[(times.month < 3), 0] = np.nan  # out of season in one cell
    return xr.DataArray(values, dims=("time", "cell"), coords={"time": times})


@pytest.mark.parametrize("chunked", [False, True])
def test_doy_thresholds_are_numpy_method_8_on_the_pooled_window(chunked):
    record = _record()
    window = 11
    if chunked:
        record = record.chunk({"cell": 1})
    thresholds = doy_thresholds(record, window=window)
    assert thresholds.dims == ("dayofyear", "percentiles", "cell")
    assert thresholds.dtype == np.float32 and thresholds.attrs["units"] == "m3 m-3"
    values = _record().values
    doys = pd.DatetimeIndex(record["time"].values).day_of_year.to_numpy()
    for day in (40, 150, 300):
        # the pooled sample: every value within window // 2 days of each day ``day``
        index = np.flatnonzero(doys == day)
        pooled = np.concatenate([values[max(i - window // 2, 0):i + window // 2 + 1]
                                 for i in index])
        expected = np.nanpercentile(pooled, PERCENTILES, axis=0, method="median_unbiased")
        np.testing.assert_allclose(thresholds.sel(dayofyear=day).values, expected,
                                   rtol=0, atol=1e-6)
    # the cell out of season in January and February has no thresholds there, also when
    # xclim interpolates a record with leap years onto 366 days
    assert thresholds.sel(dayofyear=20).isel(cell=0).isnull().all()
    leap = doy_thresholds(_record(last="2004-12-31"), window=window)
    assert leap.sizes["dayofyear"] == 366
    # windows of early January reach back into December, which is in season
    assert leap.sel(dayofyear=slice(6, 54)).isel(cell=0).isnull().all()
    assert leap.sel(dayofyear=slice(66, 366)).isel(cell=0).notnull().all()
    assert leap.isel(cell=1).notnull().all()


def test_percentile_rank_interpolates_and_categories_follow_the_usdm_bounds():
    per = np.asarray(PERCENTILES)
    thresholds = (per / 100.0)[:, None]  # a value v sits at percentile 100 v
    values = np.array([0.001, 0.02, 0.035, 0.10, 0.15, 0.2, 0.25, 0.3, 0.31, 0.6, 0.99, np.nan])
    rank = percentile_rank(values, thresholds)
    np.testing.assert_allclose(rank[1:-2], 100 * values[1:-2], rtol=1e-5)
    assert rank[0] == pytest.approx(1.0) and rank[-2] == pytest.approx(99.0)
    assert np.isnan(rank[-1])
    codes = drought_category(rank)
    # each upper bound belongs to its category: 2 -> D4, 5 -> D3, 10 -> D2, 20 -> D1, 30 -> D0
    assert codes.tolist() == [5, 5, 4, 3, 2, 2, 1, 1, 0, 0, 0, CATEGORY_FILL]
    # categories agree with comparing the value with the bound thresholds directly
    rng = np.random.default_rng(1)
    thr = np.sort(rng.uniform(0.05, 0.4, (len(per), 500)), axis=0)
    v = rng.uniform(0.0, 0.45, 500)
    direct = np.select([v <= thr[0], v <= thr[1], v <= thr[2], v <= thr[3], v <= thr[4]],
                       [5, 4, 3, 2, 1], 0)
    np.testing.assert_array_equal(drought_category(percentile_rank(v, thr)), direct)


def test_percentile_rank_on_dataarrays_keeps_dims():
    thresholds = xr.DataArray(np.tile((np.asarray(PERCENTILES) / 100)[:, None], (1, 2)),
                              dims=("percentiles", "x"))
    values = xr.DataArray([0.15, 0.5], dims="x")
    rank = percentile_rank(values, thresholds)
    assert rank.dims == ("x",) and rank.attrs["units"] == "%"
    np.testing.assert_allclose(rank.values, [15, 50], rtol=1e-5)
    assert drought_category(rank).attrs["flag_meanings"].startswith("none D0 D1")


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, length) of each run of True, by a plain loop."""
    runs, start = [], None
    for i, value in enumerate(list(mask) + [False]):
        if value and start is None:
            start = i
        elif not value and start is not None:
            runs.append((start, i - start))
            start = None
    return runs


@pytest.mark.parametrize("chunked", [False, True])
def test_drought_spells_match_a_loop_over_runs(chunked):
    rng = np.random.default_rng(3)
    times = pd.date_range("2018-03-01", periods=120)
    codes = rng.choice([0, 1, 2, 3, 5], size=(120, 6), p=[0.3, 0.1, 0.3, 0.2, 0.1])
    codes = np.where(rng.random((120, 6)) < 0.02, CATEGORY_FILL, codes).astype("u1")
    codes[-15:, 0] = 3  # a spell going on at the end
    codes[:, 1] = 0  # never dry
    da = xr.DataArray(codes, dims=("time", "x"), coords={"time": times})
    out = drought_spells(da.chunk({"x": 3}) if chunked else da, min_category=2, min_days=3)
    for x in range(6):
        dry = (codes[:, x] >= 2) & (codes[:, x] != CATEGORY_FILL)
        runs = _runs(dry)
        current = runs[-1][1] if runs and runs[-1][0] + runs[-1][1] == len(times) else 0
        assert int(out["current_days"][x]) == current
        if current:
            assert pd.Timestamp(out["current_onset"].values[x]) == times[len(times) - current]
        else:
            assert pd.isna(out["current_onset"].values[x])
        assert int(out["longest_days"][x]) == max((n for _, n in runs), default=0)
        long_runs = [(s, n) for s, n in runs if n >= 3]
        assert int(out["spells"][x]) == len(long_runs)
        first = out["first_onset"].values[x]
        assert (pd.isna(first) if not long_runs else pd.Timestamp(first) == times[long_runs[0][0]])


@pytest.mark.parametrize("chunked", [False, True])
def test_sen_mann_kendall_matches_pymannkendall_and_scipy(chunked):
    rng = np.random.default_rng(0)
    years = np.arange(1993, 2018)
    values = np.round(rng.normal(size=(40, years.size))
                      + np.linspace(0, 1, years.size) * rng.normal(size=(40, 1)), 1)
    values[3, [2, 9]] = np.nan
    values[4, 5:] = np.nan  # too short for a trend
    da = xr.DataArray(values, dims=("cell", "year"), coords={"year": years},
                      attrs={"units": "m3 m-3"})
    out = sen_mann_kendall(da.chunk({"cell": 10}) if chunked else da).compute()
    for k in (0, 1, 2, 7):  # rounded values: ties, so the tie correction is tested
        ref = mk.original_test(values[k])
        assert out["slope"][k] == pytest.approx(ref.slope)
        assert out["s"][k] == ref.s
        assert out["z"][k] == pytest.approx(ref.z)
        assert out["p"][k] == pytest.approx(ref.p)
        assert bool(out["significant"][k]) == (ref.p < 0.05)
    ok = ~np.isnan(values[3])
    assert out["slope"][3] == pytest.approx(stats.theilslopes(values[3][ok], years[ok])[0])
    assert np.isnan(out["slope"][4]) and np.isnan(out["p"][4])
    assert out["slope"].attrs["units"] == "m3 m-3 per year"


def test_dekads():
    assert dekad_bounds("2018-05-2") == (pd.Timestamp("2018-05-11"), pd.Timestamp("2018-05-20"))
    assert dekad_bounds("2016-02-3") == (pd.Timestamp("2016-02-21"), pd.Timestamp("2016-02-29"))
    assert [dekad_label(d) for d in ("2018-05-01", "2018-05-10", "2018-05-11", "2018-05-31")] \
        == ["2018-05-1", "2018-05-1", "2018-05-2", "2018-05-3"]
    for bad in ("2018-05-4", "2018-13-1", "May 2018", "2018-5-1"):
        with pytest.raises(ValueError, match="dekad|month"):
            dekad_bounds(bad)


def test_class_shares_areas_and_period_means_against_pandas():
    rng = np.random.default_rng(5)
    times = pd.date_range("2018-05-01", "2018-06-30")
    codes = rng.integers(0, 4, (times.size, 4, 5)).astype("u1")
    codes[:, 0, 0] = 255
    weights = rng.random((4, 5))
    da = xr.DataArray(codes, dims=("time", "y", "x"), coords={"time": times})
    shares = class_shares(da, ["a", "b", "c"], weights)
    day = codes[7].ravel()
    w = weights.ravel()
    graded = day < 3
    expected = [w[graded & (day == k)].sum() / w[graded].sum() for k in range(3)]
    np.testing.assert_allclose(shares.iloc[7].to_numpy(), expected)
    np.testing.assert_allclose(shares.sum(axis=1), 1.0)
    monthly = period_means(shares, "month")
    np.testing.assert_allclose(monthly.to_numpy(),
                               shares.resample("MS").mean().to_numpy())
    dekads = period_means(shares, "dekad")
    assert list(dekads.index) == [f"2018-0{m}-{d}" for m in (5, 6) for d in (1, 2, 3)]
    np.testing.assert_allclose(dekads.loc["2018-05-3"].to_numpy(),
                               shares.loc["2018-05-21":"2018-05-31"].mean().to_numpy())
    zones = np.array([[1] * 5, [1] * 5, [2] * 5, [3] * 5])
    areas = class_areas(codes[0], zones, {1: "one", 2: "two"}, ["a", "b", "c"], weights)
    assert list(areas["zone"]) == ["one", "two"]
    inside = (zones == 2) & (codes[0] == 1)
    assert areas.loc[1, "b_km2"] == pytest.approx(weights[inside].sum())


def test_climatology_band_leaves_the_year_out():
    times = pd.date_range("2010-01-01", "2014-12-31")
    values = pd.Series(times.year.to_numpy() - 2010.0, index=times)
    band = climatology_band(values, exclude_year=2014)
    assert band.loc[100, "q50"] == pytest.approx(1.5)
    assert band.loc[100, "years"] == 4


def test_category_agreement_and_its_twins():
    true = np.array([0, 0, 0, 2, 3, 5, 255])
    predicted = np.array([0, 0, 1, 2, 0, 4, 0])
    out = category_agreement(predicted, true, 6)
    assert out["pixel_days"] == 6
    assert out["agreement"] == pytest.approx(3 / 6)
    assert out["always_none"] == pytest.approx(3 / 6)
    assert out["within_one"] == pytest.approx(5 / 6)
    assert out["drought_hit_rate"] == pytest.approx(2 / 3)
    assert out["drought_false_alarm"] == pytest.approx(0.0)
    assert np.asarray(out["confusion"]).sum() == 6
    with pytest.raises(ValueError, match="No pixel-day"):
        category_agreement(np.array([255]), np.array([0]), 6)


def test_regional_drought_share_of_identical_and_shifted_maps():
    from cropsm.pipelines.percentile_skill import regional_drought_share

    rng = np.random.default_rng(2)
    true = rng.choice([0, 1, 2, 3], size=(60, 400)).astype("u1")
    zones = np.repeat([11, 12, 13, 14], 100)
    same = regional_drought_share(true, true, zones)
    assert same["r"] == pytest.approx(1.0) and same["mae"] == 0
    assert same["zones"] == 4 and same["zone_days"] == 240
    wetter = np.where(true >= 2, 0, true).astype("u1")
    assert regional_drought_share(wetter, true, zones)["mae"] == pytest.approx(
        float(np.mean(true >= 2)), abs=1e-9)


def test_compiled_lookup_rank_equals_the_numpy_rank_on_gathered_thresholds():
    rng = np.random.default_rng(4)
    record = np.sort(rng.uniform(0.05, 0.4, (len(PERCENTILES), 6, 7)), axis=0).astype("f4")
    record[:, 2, 3] = np.nan  # a record cell without the crop
    record[4:7, 1, 1] = 0.2  # tied thresholds
    values = rng.uniform(0.0, 0.45, (20, 25)).astype("f4")
    values[::5, ::4] = np.nan
    values[3, 3] = record[0, 1, 1]  # exactly the lowest threshold
    iy = np.minimum(np.arange(20) // 4, 5)
    ix = np.minimum(np.arange(25) // 4, 6)
    fast = percentile_rank_at(values, record, iy, ix)
    gathered = record[:, iy[:, None], ix[None, :]]
    np.testing.assert_allclose(fast, percentile_rank(values, gathered), rtol=1e-6,
                               equal_nan=True)
    assert np.isnan(fast[iy == 2][:, ix == 3]).all()
    rows, cols = np.nonzero(np.ones_like(values, dtype=bool))
    cells = percentile_rank_cells(values[rows, cols], record, iy[rows], ix[cols])
    np.testing.assert_array_equal(cells, fast[rows, cols])  # the same compiled rank


def test_season_gaps_are_runs_of_missing_days_split_at_month_ends():
    from cropsm.pipelines.predict import _gaps

    year = pd.date_range("2018-01-01", "2018-12-31")
    filled = pd.date_range("2018-05-01", "2018-05-07").union(
        pd.DatetimeIndex(["2018-07-04"]))
    gaps = _gaps(year, filled)
    assert len(gaps) == 13
    assert gaps[3:7] == [("2018-04-01", "2018-04-30"), ("2018-05-08", "2018-05-31"),
                         ("2018-06-01", "2018-06-30"), ("2018-07-01", "2018-07-03")]
    assert gaps[7] == ("2018-07-05", "2018-07-31")
    assert _gaps(year, year) == []


def test_zonal_class_areas_are_class_areas_per_zone():
    from cropsm.analysis.bulletin import class_areas, zonal_class_areas

    rng = np.random.default_rng(3)
    codes = rng.integers(0, 7, (3, 500)).astype("u1")  # 6: a fill, not counted
    zones = rng.integers(0, 4, 500)
    area = rng.uniform(0.1, 1.0, 500)
    names = ["a", "b", "c", "d", "e", "f"]
    out = zonal_class_areas(codes, zones, 4, 6, area)
    for day in range(3):
        expected = class_areas(codes[day], zones, {k: str(k) for k in range(4)}, names, area)
        np.testing.assert_allclose(out[day], expected[[f"{n}_km2" for n in names]].values,
                                   rtol=1e-12)
