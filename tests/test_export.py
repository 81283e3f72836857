import io

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from pyproj import CRS
from rasterio.io import MemoryFile

from cropsm.analysis.region_tables import (
    PIXEL_COLUMNS,
    SERIES_COLUMNS,
    mean_series_table,
    pixel_table,
)
from cropsm.core.grid import china_grid
from cropsm.io.export import MAX_CSV_ROWS, ExportError, cog_bytes, csv_bytes

DATES = pd.date_range("2018-05-01", periods=3)
WINDOW_ROWS, WINDOW_COLS = slice(2100, 2105), slice(2900, 2906)


@pytest.fixture
def window():
    return china_grid().window(WINDOW_ROWS, WINDOW_COLS)


@pytest.fixture
def result(window):
    """A synthetic predict_window result: same keys, dtypes and missing values."""
    rng = np.random.default_rng(3)
    shape = (len(DATES), *window.shape)
    predicted = rng.random(shape) < 0.6
    predicted[2] = False  # a day without any prediction
    sm = np.where(predicted, rng.uniform(0.05, 0.45, shape), np.nan)
    aoa = np.where(predicted, rng.integers(0, 2, shape), 255).astype("u1")
    return {"sm": sm, "sm_q10": sm - 0.03, "sm_q90": sm + 0.04, "aoa": aoa,
            "cir": np.where(predicted, 1, 255).astype("u1"), "predicted": predicted}


def reference_pixels(result, window) -> pd.DataFrame:
    """The same table through xarray: stack, to_dataframe, keep predicted rows."""
    r0, c0 = WINDOW_ROWS.start, WINDOW_COLS.start
    ds = xr.Dataset({k: (("date", "row", "col"), result[k])
                     for k in ("sm", "sm_q10", "sm_q90", "aoa", "predicted")},
                    coords={"date": DATES, "row": np.arange(window.shape[0]) + r0,
                            "col": np.arange(window.shape[1]) + c0})
    frame = ds.to_dataframe().reset_index()
    frame = frame[frame.pop("predicted")].reset_index(drop=True)
    lon, lat = china_grid().rowcol_to_lonlat(frame["row"], frame["col"])
    frame.insert(1, "crop", "wheat")
    frame.insert(2, "depth", "0-10cm")
    frame.insert(5, "lon", lon)
    frame.insert(6, "lat", lat)
    return frame


def test_pixel_table_matches_xarray_reference(result, window):
    table = pixel_table(result, DATES, window, "wheat", "0-10cm")
    assert tuple(table.columns) == PIXEL_COLUMNS
    assert len(table) == result["predicted"].sum()
    ref = reference_pixels(result, window)
    pd.testing.assert_frame_equal(table, ref, check_dtype=False, check_categorical=False,
                                  atol=1e-9, rtol=0)
    assert table["row"].min() >= WINDOW_ROWS.start and table["aoa"].dtype == np.uint8
    # the window's lon/lat are the national grid's at the offset indices
    lon, lat = window.rowcol_to_lonlat(table["row"] - 2100, table["col"] - 2900)
    np.testing.assert_allclose(table[["lon", "lat"]].to_numpy().T, [lon, lat])


def test_pixel_table_against_a_given_parent(result, window):
    parent = china_grid().window(slice(2000, 2200), slice(2800, 3000))
    table = pixel_table(result, DATES, window, "wheat", "0-10cm", parent=parent)
    assert table["row"].min() >= 100 and table["row"].max() < 105
    with pytest.raises(ValueError, match="window is"):
        pixel_table(result, DATES, china_grid().window(slice(0, 3), slice(0, 3)), "w", "d")
    with pytest.raises(ValueError, match="n_dates = 2"):
        pixel_table(result, DATES[:2], window, "wheat", "0-10cm")


def test_mean_series_against_pandas_groupby(result, window):
    series = mean_series_table(result, DATES, "maize", "10-20cm")
    assert tuple(series.columns) == SERIES_COLUMNS and len(series) == len(DATES)
    pixels = pixel_table(result, DATES, window, "maize", "10-20cm")
    grouped = pixels.groupby("date").agg(
        n_pixels=("sm", "size"), sm=("sm", "mean"), sm_q10=("sm_q10", "mean"),
        sm_q90=("sm_q90", "mean"), aoa_share=("aoa", lambda a: (a == 1).mean()))
    got = series.set_index("date").loc[grouped.index, list(grouped.columns)]
    pd.testing.assert_frame_equal(got, grouped, check_dtype=False)
    empty = series.iloc[2]
    assert empty["n_pixels"] == 0 and np.isnan(empty["sm"])
    assert np.isnan(empty["aoa_share"])
    assert (series["crop"] == "maize").all()


# -- CSV --------------------------------------------------------------------------------
PROVENANCE = {"product": "CropSM 0.1.0", "model_sha256": "ab12", "region": "Henan"}


def read_back(data: bytes) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(data), comment="#")


def test_csv_round_trip_of_a_pixel_table(result, window):
    table = pixel_table(result, DATES, window, "wheat", "0-10cm")
    data = csv_bytes(table, PROVENANCE)
    back = read_back(data)
    expected = table.assign(date=table["date"].dt.strftime("%Y-%m-%d"),
                            crop=table["crop"].astype(str), depth=table["depth"].astype(str))
    # floats are written in shortest round-trip form: exact equality
    pd.testing.assert_frame_equal(back, expected, check_dtype=False, check_exact=True)
    body = data.decode().splitlines()
    assert body[3].replace('"', "") == ",".join(PIXEL_COLUMNS)
    assert body[4].startswith("2018-05-01,")


def test_csv_header_lines_and_newline_injection():
    table = pd.DataFrame({"a": [1, 2]})
    data = csv_bytes(table, {"source": "line one\nlast: x\r\n# fake", "bad\nkey": "v",
                             "note": "a, =HYPERLINK(1); +2"})
    lines = data.decode().splitlines()
    assert lines[:3] == ["# source: line one last: x # fake", "# bad key: v",
                         "# note: a, '=HYPERLINK(1); '+2"]
    assert lines[3:] == ['"a"', "1", "2"]
    assert read_back(data)["a"].tolist() == [1, 2]


def test_csv_injection_is_defused_but_numbers_stay_numeric():
    text = ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tx", "\rx", "\nx", "plain", "a=b", None]
    expected = ["'=1+1", "'+SUM(A1)", "'-2+3", "'@cmd", "'\tx", "'\rx", "'\nx", "plain",
                "a=b", np.nan]
    n = len(text)
    table = pd.DataFrame({
        "text": text,
        "object_text": np.array(text, dtype=object),
        "category": pd.Categorical(["=x", "-y", "z"] * 3 + [None]),
        "negative": np.linspace(-1.5, 3.0, n),
        "integer": np.arange(-5, n - 5),
        "date": pd.date_range("2018-05-01", periods=n),
    })
    data = csv_bytes(table, {})
    back = read_back(data)
    assert back["text"].tolist()[:-1] == expected[:-1] and pd.isna(back["text"].iloc[-1])
    assert back["object_text"].tolist()[:-1] == expected[:-1]
    assert back["category"].tolist()[:3] == ["'=x", "'-y", "z"]
    assert back["negative"].dtype == np.float64
    np.testing.assert_array_equal(back["negative"], table["negative"])
    np.testing.assert_array_equal(back["integer"], table["integer"])
    first = data.decode().splitlines()[1].split(",")
    assert first[3] == "-1.5" and first[4] == "-5"  # unquoted, no prefix
    assert first[5] == "2018-05-01"
    assert "00:00" not in data.decode()


def test_csv_defuses_column_names_and_keeps_timestamps():
    table = pd.DataFrame({"=evil": ["a"], "t": pd.to_datetime(["2018-05-01 06:30"])})
    back = read_back(csv_bytes(table, {}))
    assert list(back.columns) == ["'=evil", "t"]
    assert pd.Timestamp(back["t"].iloc[0]) == pd.Timestamp("2018-05-01 06:30")


def test_csv_refuses_tables_over_the_cap():
    assert MAX_CSV_ROWS == 2_000_000
    table = pd.DataFrame({"a": np.arange(11)})
    with pytest.raises(ExportError) as info:
        csv_bytes(table, {}, max_rows=10)
    message = str(info.value)
    assert "11 rows" in message and "10" in message
    assert "smaller region" in message and "regional-mean" in message
    assert isinstance(info.value, ValueError)
    assert read_back(csv_bytes(table, {}, max_rows=11))["a"].tolist() == list(range(11))


# -- GeoTIFF ----------------------------------------------------------------------------
def open_cog(data: bytes):
    memfile = MemoryFile(data)
    return memfile, memfile.open()


def test_cog_small_round_trip():
    grid = china_grid().window(slice(1000, 1040), slice(2000, 2030))
    values = np.random.default_rng(4).uniform(0.05, 0.45, grid.shape)
    values[5, 7] = np.nan
    data = cog_bytes(values, grid, {"product": "CropSM", "model sha256": "ab12",
                                    "note": "multi\nline"})
    memfile, src = open_cog(data)
    with memfile, src:
        assert CRS.from_user_input(src.crs.to_wkt()).equals(CRS.from_user_input("ESRI:102025"))
        assert src.transform == grid.transform
        assert (src.height, src.width) == grid.shape and src.dtypes == ("float32",)
        back = src.read(1)
        np.testing.assert_array_equal(back, values.astype(np.float32))
        assert np.isnan(src.nodata)
        tags = src.tags()
        assert tags["product"] == "CropSM" and tags["model_sha256"] == "ab12"
        assert tags["note"] == "multi\nline"
        structure = src.tags(ns="IMAGE_STRUCTURE")
        assert structure["LAYOUT"] == "COG"
        assert structure["COMPRESSION"] in ("ZSTD", "DEFLATE")


def test_cog_large_is_tiled_with_overviews():
    grid = china_grid().window(slice(0, 1100), slice(0, 1300))
    yy, xx = np.mgrid[0:1100, 0:1300]
    values = 0.2 + 0.1 * np.sin(yy / 50.0) * np.cos(xx / 70.0)
    values[:100, :100] = np.nan
    data = cog_bytes(values, grid, {"product": "CropSM"})
    assert len(data) < values.size * 4  # compressed
    memfile, src = open_cog(data)
    with memfile, src:
        assert src.profile["tiled"] and src.block_shapes[0] == (512, 512)
        assert src.overviews(1) == [2, 4]
        np.testing.assert_array_equal(src.read(1), values.astype(np.float32))
        overview = src.read(1, out_shape=(275, 325))
        assert overview.shape == (275, 325)


def test_cog_numeric_nodata_and_shape_check():
    grid = china_grid().window(slice(0, 4), slice(0, 5))
    values = np.ones(grid.shape)
    values[0, 0] = np.nan
    memfile, src = open_cog(cog_bytes(values, grid, {}, nodata=-9999.0))
    with memfile, src:
        assert src.nodata == -9999.0 and src.read(1)[0, 0] == -9999.0
    with pytest.raises(ExportError, match="shape"):
        cog_bytes(np.ones((5, 4)), grid, {})
