import dask
import dask.array as da
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from cropsm.analysis import drought
from cropsm.analysis.drought import (
    DROUGHT_GRADES,
    GRADE_FILL,
    drought_grade,
    grade_shares,
    region_summary,
    relative_sm,
)


def _no_compute(*args, **kwargs):
    raise AssertionError("a lazy step computed")


def as_kind(values: np.ndarray, kind: str):
    """The same values as numpy, in-memory xarray or dask-backed xarray."""
    if kind == "numpy":
        return values
    dims = ("y", "x")[-values.ndim:] if values.ndim <= 2 else None
    da_ = xr.DataArray(values, dims=dims)
    return da_.chunk({d: 2 for d in da_.dims}) if kind == "dask" else da_


def materialise(result) -> np.ndarray:
    return np.asarray(result.compute() if isinstance(result, xr.DataArray) else result)


KINDS = ("numpy", "xarray", "dask")


def test_grades_table_is_the_standard():
    assert [(g.code, g.name, g.label_zh, g.lower, g.upper) for g in DROUGHT_GRADES] == [
        (0, "none", "无旱", 60, None), (1, "light", "轻旱", 50, 60),
        (2, "moderate", "中旱", 40, 50), (3, "severe", "重旱", 30, 40),
        (4, "extreme", "特旱", None, 30)]
    for g in DROUGHT_GRADES:
        assert g.label_zh in drought.__doc__
    assert "GB/T 32136-2015" in drought.__doc__


@pytest.mark.parametrize("kind", KINDS)
def test_relative_sm(kind):
    sm = np.array([[0.30, 0.12, np.nan], [0.20, 0.25, 0.10]])
    fc = np.array([[0.40, 0.30, 0.30], [np.nan, 0.0, -0.2]])
    expected = np.array([[75.0, 40.0, np.nan], [np.nan, np.nan, np.nan]])
    with dask.config.set(scheduler=_no_compute):
        out = relative_sm(as_kind(sm, kind), as_kind(fc, kind))
    if kind != "numpy":
        assert isinstance(out, xr.DataArray)
        assert out.attrs["units"] == "%" and "field capacity" in out.attrs["long_name"]
        assert isinstance(out.data, da.Array) == (kind == "dask")
    np.testing.assert_allclose(materialise(out), expected, rtol=1e-12)


def test_relative_sm_broadcasts_static_fc_over_time():
    sm = xr.DataArray(np.full((3, 2), 0.2), dims=("time", "x")).chunk({"time": 1})
    fc = xr.DataArray([0.4, 0.25], dims="x")
    out = relative_sm(sm, fc)
    assert out.dims == ("time", "x") and isinstance(out.data, da.Array)
    np.testing.assert_allclose(out.values, [[50, 80]] * 3)
    assert relative_sm(np.float32(0.2), np.float32(0.4)).dtype == np.float32


# R, expected code: each boundary belongs to the drier side's upper bound (lower < R <= upper).
BOUNDARIES = [
    (np.inf, 0), (100.0, 0), (np.nextafter(60.0, 61.0), 0), (60.0, 1), (55.0, 1),
    (np.nextafter(50.0, 51.0), 1), (50.0, 2), (45.0, 2), (np.nextafter(40.0, 41.0), 2),
    (40.0, 3), (35.0, 3), (np.nextafter(30.0, 31.0), 3), (30.0, 4), (29.9, 4), (0.0, 4),
    (-5.0, 4), (np.nan, GRADE_FILL),
]


@pytest.mark.parametrize("kind", KINDS)
def test_drought_grade_boundaries(kind):
    relative = np.array([r for r, _ in BOUNDARIES] + [60.0, 50.0, 40.0, 30.0])
    expected = np.array([c for _, c in BOUNDARIES] + [1, 2, 3, 4], np.uint8)
    with dask.config.set(scheduler=_no_compute):
        out = drought_grade(as_kind(relative, kind))
    if kind != "numpy":
        assert out.attrs["flag_meanings"] == "none light moderate severe extreme"
        assert isinstance(out.data, da.Array) == (kind == "dask")
    values = materialise(out)
    assert values.dtype == np.uint8
    np.testing.assert_array_equal(values, expected)


def test_relative_then_grade_at_exact_field_values():
    # 0.24 / 0.40 is 60 % up to rounding: the chain must not flip the grade.
    fc = np.full(4, 0.40)
    sm = np.array([0.24, 0.20, 0.16, 0.12])
    np.testing.assert_allclose(relative_sm(sm, fc), [60, 50, 40, 30])
    codes = drought_grade(np.round(relative_sm(sm, fc), 9))
    np.testing.assert_array_equal(codes, [1, 2, 3, 4])


def test_grade_shares_against_value_counts():
    rng = np.random.default_rng(1)
    codes = rng.choice([0, 1, 2, 3, 4, GRADE_FILL], size=(40, 30)).astype(np.uint8)
    shares = grade_shares(codes)
    names = [g.name for g in DROUGHT_GRADES]
    assert list(shares.index) == names
    ref = pd.Series(codes[codes != GRADE_FILL]).value_counts(normalize=True)
    ref = ref.reindex(range(5), fill_value=0.0).set_axis(names)
    np.testing.assert_allclose(shares.to_numpy(), ref.to_numpy())
    assert shares.sum() == pytest.approx(1.0)
    # xarray input (dask included) is computed to the same numbers
    lazy = xr.DataArray(codes, dims=("y", "x")).chunk(10)
    pd.testing.assert_series_equal(grade_shares(lazy), shares)


def test_grade_shares_weighted_and_empty():
    codes = np.array([0, 0, 1, 4, GRADE_FILL], np.uint8)
    np.testing.assert_allclose(grade_shares(codes), [0.5, 0.25, 0, 0, 0.25])
    weights = np.array([1.0, 1.0, 2.0, np.nan, 100.0])
    np.testing.assert_allclose(grade_shares(codes, weights), [0.5, 0.5, 0, 0, 0])
    empty = grade_shares(np.full(3, GRADE_FILL, np.uint8))
    assert empty.isna().all() and len(empty) == 5
    assert grade_shares(np.array([], np.uint8)).isna().all()
    with pytest.raises(ValueError, match="non-negative"):
        grade_shares(codes, -np.ones(5))


def test_region_summary_by_hand():
    sm = np.array([[0.30, 0.20, np.nan], [0.10, 0.25, 0.33], [0.5, 0.5, 0.5]])
    fc = np.array([[0.40, 0.40, 0.40], [0.40, np.nan, 0.30], [0.5, 0.5, 0.5]])
    cells = np.array([[1, 1, 1], [1, 1, 0], [0, 0, 0]], bool)
    out = region_summary(sm, fc, cells, cell_area_km2=2.0)
    # cropland 5 cells; predicted 4 (one NaN sm); relative 75, 50, 25 (fc NaN: ungraded)
    assert out["cropland_km2"] == 10.0
    assert out["predicted_km2"] == 8.0
    assert out["mean_sm"] == pytest.approx((0.30 + 0.20 + 0.10 + 0.25) / 4)
    assert out["mean_relative_sm"] == pytest.approx((75 + 50 + 25) / 3)
    assert out["grade_shares"] == pytest.approx(
        {"none": 1 / 3, "light": 0.0, "moderate": 1 / 3, "severe": 0.0, "extreme": 1 / 3})


def test_region_summary_without_predictions():
    sm = np.full((2, 2), np.nan)
    out = region_summary(sm, np.full((2, 2), 0.3), np.ones((2, 2), bool))
    assert out["cropland_km2"] == 4.0 and out["predicted_km2"] == 0.0
    assert np.isnan(out["mean_sm"]) and np.isnan(out["mean_relative_sm"])
    assert all(np.isnan(v) for v in out["grade_shares"].values())
    with pytest.raises(ValueError, match="one shape"):
        region_summary(sm, np.ones((2, 3)), np.ones((2, 2), bool))
