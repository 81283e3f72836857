"""Unit checks and conversions at the ingest boundary (cropsm.io.ingest.units)."""

from __future__ import annotations

import dask.array
import numpy as np
import pytest
import xarray as xr

from cropsm.io.ingest.units import convert, same_units, units_of
from cropsm.io.readers import ReaderError

SRC = "rain/precipitation_2016.nc"


def conv(values, units, target, **kwargs):
    return convert(values, units, target, source=SRC, name="precipitation", **kwargs)


@pytest.mark.parametrize(("units", "target", "value", "expected"), [
    ("kg m-2 s-1", "mm day-1", 1.0, 86400.0),
    ("kg m-2 s-1", "mm day-1", 2.5e-5, 2.16),
    ("kg m-2 day-1", "mm day-1", 3.0, 3.0),
    ("kg m-2", "mm", 4.0, 4.0),
    ("mm", "kg m-2", 4.0, 4.0),
    ("m", "mm", 0.0123, 12.3),
    ("m day-1", "mm day-1", 0.0123, 12.3),
    ("mm/day", "mm day-1", 7.0, 7.0),
    ("mm d-1", "mm day-1", 7.0, 7.0),
    ("mm h-1", "mm day-1", 0.5, 12.0),
    ("%", "1", 35.0, 0.35),
    ("percent", "1", 35.0, 0.35),
    ("1", "%", 0.35, 35.0),
    ("m3 m-3", "1", 0.2, 0.2),
    ("m3 m-3", "%", 0.2, 20.0),
    ("fraction", "1", 0.2, 0.2),
    ("K", "degC", 293.15, 20.0),
    ("degC", "K", 20.0, 293.15),
    ("degC", "degC", 20.0, 20.0),
    ("0.1 mm", "mm", 123.0, 12.3),
    ("mm month-1", "mm month-1", 40.0, 40.0),
])
def test_conversions_match_hand_values(units, target, value, expected):
    out = conv(np.array([value, 2 * value]), units, target)
    if units in ("K", "degC") and target != units:  # offset units: not a scaling
        second = 2 * value + (-273.15 if units == "K" else 273.15)
    else:
        second = 2 * expected
    np.testing.assert_allclose(out, [expected, second], rtol=1e-12, atol=1e-12)
    assert out.dtype == np.float64


def test_amount_per_step_becomes_a_rate_with_the_step():
    # ERA5 daily totals: "m" per day
    np.testing.assert_allclose(conv(np.array([0.0123]), "m", "mm day-1", step="day"), [12.3])
    np.testing.assert_allclose(conv(np.array([5.0]), "kg m-2", "mm day-1", step="1 day"), [5.0])
    # a rate ignores the step
    np.testing.assert_allclose(conv(np.array([5.0]), "mm day-1", "mm day-1", step="day"), [5.0])


def test_float32_stays_float32_and_ints_become_float64():
    out = conv(np.array([1.0, 2.0], dtype="f4"), "kg m-2 s-1", "mm day-1")
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [86400.0, 172800.0])
    kelvin = conv(np.array([300.0], dtype="f4"), "K", "degC")
    assert kelvin.dtype == np.float32
    np.testing.assert_allclose(kelvin, [26.85], rtol=1e-6)
    tenths = conv(np.array([12, 0], dtype="i2"), "0.1 mm", "mm")
    assert tenths.dtype == np.float64
    np.testing.assert_allclose(tenths, [1.2, 0.0])
    same = np.array([1.0, 2.0], dtype="f4")
    assert conv(same, "mm/day", "mm day-1").dtype == np.float32


def test_dataarray_keeps_attrs_sets_units_and_drops_stale_packing():
    da = xr.DataArray(np.array([[1.0, 2.0]], dtype="f4"), dims=("time", "x"),
                      coords={"x": [10.0, 20.0]},
                      attrs={"units": "kg m-2 s-1", "long_name": "rain"})
    da.encoding = {"scale_factor": 1e-6, "dtype": "int16", "chunksizes": (1, 2)}
    out = conv(da, units_of(da, None, source=SRC, name="precipitation"), "mm day-1")
    assert isinstance(out, xr.DataArray)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.values, [[86400.0, 172800.0]])
    assert out.attrs == {"units": "mm day-1", "long_name": "rain"}
    assert out.encoding == {"chunksizes": (1, 2)}
    assert da.attrs["units"] == "kg m-2 s-1"          # the input is untouched
    np.testing.assert_array_equal(out["x"], [10.0, 20.0])


def test_dataarray_temperature_and_identity():
    da = xr.DataArray(np.array([273.15, 283.15]), dims="time", attrs={"units": "K"})
    out = conv(da, "K", "degC")
    np.testing.assert_allclose(out.values, [0.0, 10.0], atol=1e-12)
    assert out.attrs["units"] == "degC"
    same = conv(xr.DataArray([1.0], dims="t", attrs={"units": "mm/day"}), "mm/day", "mm day-1")
    assert same.attrs["units"] == "mm day-1"
    np.testing.assert_array_equal(same.values, [1.0])


def test_dask_backed_dataarray_stays_lazy():
    da = xr.DataArray(dask.array.ones((4, 3), chunks=2, dtype="f4"), dims=("t", "x"),
                      attrs={"units": "m"})
    out = conv(da, "m", "mm")
    assert isinstance(out.data, dask.array.Array)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.values, 1000.0)


def test_same_units():
    assert same_units("mm/day", "mm day-1")
    assert same_units("mm d-1", "millimeter / day")
    assert same_units("m3 m-3", "1")
    assert same_units("degC", "celsius")
    assert not same_units("%", "1")
    assert not same_units("kg m-2", "mm")           # equal only through water density
    assert not same_units("K", "degC")
    assert not same_units("mm", "nonsense")


def test_units_of_prefers_file_then_config():
    with_units = xr.DataArray([1.0], dims="t", attrs={"units": "mm/day"})
    bare = xr.DataArray([1.0], dims="t")
    assert units_of(with_units, None, source=SRC, name="precipitation") == "mm/day"
    assert units_of(with_units, "mm day-1", source=SRC, name="precipitation") == "mm/day"
    assert units_of(bare, "mm day-1", source=SRC, name="precipitation") == "mm day-1"
    blank = xr.DataArray([1.0], dims="t", attrs={"units": "  "})
    assert units_of(blank, "mm day-1", source=SRC, name="precipitation") == "mm day-1"


def test_units_of_uses_config_when_file_unit_is_unreadable():
    da = xr.DataArray([1.0], dims="t", attrs={"units": "mm daily"})
    with pytest.warns(UserWarning, match="mm daily"):
        assert units_of(da, "mm day-1", source=SRC, name="precipitation") == "mm day-1"


def _one_line_naming_source(err: pytest.ExceptionInfo) -> str:
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(SRC + ": ")
    assert err.value.path == SRC
    return message


@pytest.mark.parametrize("missing", [None, "", "   "])
def test_missing_units_is_an_error(missing):
    with pytest.raises(ReaderError) as err:
        conv(np.array([1.0]), missing, "mm day-1")
    message = _one_line_naming_source(err)
    assert message == (f"{SRC}: precipitation has no units attribute; add `units: <...>` to "
                       "its config entry (expected mm day-1 or a convertible unit).")


def test_units_of_without_any_unit_is_an_error():
    with pytest.raises(ReaderError) as err:
        units_of(xr.DataArray([1.0], dims="t"), None, source=SRC, name="precipitation",
                 target="mm day-1")
    assert "has no units attribute" in _one_line_naming_source(err)
    assert "mm day-1" in str(err.value)


@pytest.mark.parametrize("bad", ["mm daily", "pluviometer units", "mm)", "m**", "$", "mm/24h"])
def test_unparseable_unit_is_an_error(bad):
    with pytest.raises(ReaderError) as err:
        conv(np.array([1.0]), bad, "mm day-1")
    message = _one_line_naming_source(err)
    assert repr(bad) in message and "'mm day-1'" in message and "units" in message


@pytest.mark.parametrize(("bad", "target"), [
    ("K", "mm day-1"), ("mm day-1", "degC"), ("%", "mm"), ("kg m-3", "mm"),
    ("mm", "mm day-1"), ("m", "mm day-1"),
])
def test_inconvertible_unit_is_an_error(bad, target):
    with pytest.raises(ReaderError) as err:
        conv(np.array([1.0]), bad, target)
    message = _one_line_naming_source(err)
    assert repr(bad) in message and repr(target) in message
    assert "cannot be converted" in message


def test_total_without_step_says_so():
    with pytest.raises(ReaderError, match="total per time step") as err:
        conv(np.array([1.0]), "m", "mm day-1")
    _one_line_naming_source(err)


def test_file_and_config_disagreeing_is_an_error():
    da = xr.DataArray([1.0], dims="t", attrs={"units": "kg m-2 s-1"})
    with pytest.raises(ReaderError) as err:
        units_of(da, "mm day-1", source=SRC, name="precipitation")
    message = _one_line_naming_source(err)
    assert "'kg m-2 s-1'" in message and "'mm day-1'" in message and "remove one" in message


def test_unreadable_config_unit_is_an_error():
    with pytest.raises(ReaderError) as err:
        units_of(xr.DataArray([1.0], dims="t"), "mm daily", source=SRC,
                 name="precipitation", target="mm day-1")
    message = _one_line_naming_source(err)
    assert "'mm daily'" in message and "config" in message
