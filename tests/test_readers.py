"""Readers of the real formats, each checked on the bundled real sample.

Each round trip prints its figure: records read, valid values, and spot values against
the raw file read with netCDF4 or pandas (or the ``ismn`` package for ISMN files).
"""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import netCDF4
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from click.testing import CliRunner

from cropsm.analysis.product_comparison import compare_insitu
from cropsm.cli import main
from cropsm.core import metrics
from cropsm.io.assets import assets_dir
from cropsm.io.catalog import CatalogError, open_catalog, read_entry
from cropsm.io.readers import (
    AGME_COLUMNS,
    STATION_COLUMNS,
    ReaderError,
    coarse_average,
    daily_observations,
    read_esa_cci,
    read_ghcn_daily,
    read_ismn_stm,
    read_station_table,
    sample_points,
)

ROOT = Path(__file__).resolve().parents[1]
ASSETS = assets_dir()  # the bundled package data
ISMN_FILE = next((ASSETS / "insitu_sm" / "ismn_MAQU").glob("*.stm"))
CCI_DIR = ASSETS / "satellite_sm" / "esa_cci_sm_v04.2_passive"
CCI_FILES = sorted(CCI_DIR.glob("*.nc"))
GHCN_FILE = ASSETS / "meteo" / "GHCND_CHM00054511_Beijing_daily.csv"
REAL_CATALOG = ROOT / "catalogs" / "real-example.yaml"
CHINA_BBOX = (73.0, 18.0, 135.5, 54.0)


# ISMN ---------------------------------------------------------------------------------

# the ismn package (1.5.4) still passes inplace= to pandas
@pytest.mark.filterwarnings("ignore:The inplace keyword")
def test_ismn_matches_the_ismn_package_and_the_raw_lines():
    from ismn.filehandlers import DataFile

    frame = read_ismn_stm(ISMN_FILE)
    reference = DataFile(ISMN_FILE.parent, ISMN_FILE.name).read_data()
    raw_lines = ISMN_FILE.read_bytes().decode().split("\r")
    assert b"\n" not in ISMN_FILE.read_bytes()  # the sample really has CR line endings
    print(f"\nISMN {ISMN_FILE.name}: {len(frame)} records, "
          f"{int(np.isfinite(frame['sm']).sum())} valid values, flags "
          f"{frame['flag'].value_counts().head(3).to_dict()}")
    assert len(frame) == len(reference) == len([x for x in raw_lines[1:] if x.strip()]) == 15927
    np.testing.assert_array_equal(frame["sm"].to_numpy(), reference["soil_moisture"].to_numpy())
    np.testing.assert_array_equal(frame["flag"].to_numpy(),
                                  reference["soil_moisture_flag"].to_numpy())
    np.testing.assert_array_equal(frame["time"].to_numpy(), reference.index.to_numpy())
    # spot values straight from the text
    assert raw_lines[1].split()[:4] == ["2008/07/01", "00:00", "0.5000", "C03"]
    last = raw_lines[-2].split()
    assert frame["time"].iloc[-1] == pd.Timestamp(f"{last[0]} {last[1]}")
    assert frame["sm"].iloc[-1] == float(last[2])
    meta = frame.attrs
    assert (meta["network"], meta["station"], meta["lat"], meta["lon"]) == \
        ("MAQU", "CST_01", 33.8833, 102.1333)
    assert (meta["depth_from"], meta["depth_to"], meta["sensor"]) == (0.05, 0.05, "ECH20-EC-TM")


def test_ismn_daily_means_keep_only_the_chosen_flags():
    frame = read_ismn_stm(ISMN_FILE)
    assert daily_observations(frame).empty  # QA4SM's choice: no "G" record in this download
    daily = daily_observations(frame, keep_flags=("G", "U"), min_hours=12)
    kept = frame[frame["flag"].isin(["G", "U"])]
    by_day = kept.groupby(kept["time"].dt.floor("D"))["sm"].agg(["mean", "size"])
    expected = by_day[by_day["size"] >= 12]
    days = frame["time"].dt.floor("D").nunique()
    print(f"\nISMN daily (G or U, >= 12 h): {len(daily)} days of {days}")
    assert list(daily.columns[:len(STATION_COLUMNS)]) == list(STATION_COLUMNS)
    assert len(daily) == len(expected) == 397
    np.testing.assert_allclose(daily["sm"], expected["mean"])
    assert set(daily["depth"]) == {"0-10cm"}
    assert daily.attrs["dropped"]["records_by_flag"] == int((~frame["flag"].isin(["G", "U"])).sum())


@pytest.mark.parametrize("content, expected", [
    (b"\x89PNG\r\n\x1a\n\x00\x00", "not a text file"),
    (b"STATION,DATE\nX,2020-01-01\n", "not an ISMN header"),
    (b"MAQU MAQU CST_01 33.8 102.1 3431 0.05 0.05 ECH20\n2008/07/01 0.5 G M\n", "line 2"),
    (b"", "is empty"),
])
def test_ismn_bad_files_name_the_file(tmp_path, content, expected):
    path = tmp_path / "NET_NET_ST_sm_0.050000_0.050000_X_20070101_20131231.stm"
    path.write_bytes(content)
    with pytest.raises(ReaderError, match=expected) as err:
        read_ismn_stm(path)
    assert path.name in str(err.value)


# ESA CCI ------------------------------------------------------------------------------

def test_esa_cci_matches_netcdf4_on_the_real_files():
    ds = read_esa_cci(CCI_DIR, bbox=CHINA_BBOX)
    valid = int(ds["sm"].count())
    print(f"\nESA CCI: {ds.sizes['time']} days, {ds.sizes['lat']}x{ds.sizes['lon']} pixels in "
          f"the China bbox, {valid} valid values, {ds.attrs['flagged']} removed by flag")
    expected_valid = 0
    for day, path in enumerate(CCI_FILES):
        with netCDF4.Dataset(path) as nc:
            lat, lon = nc["lat"][:], nc["lon"][:]
            rows = np.flatnonzero((lat >= 18.0) & (lat <= 54.0))
            cols = np.flatnonzero((lon >= 73.0) & (lon <= 135.5))
            sm = nc["sm"][0, rows, cols]  # masked where _FillValue
            flag = nc["flag"][0, rows, cols]
            keep = ~np.ma.getmaskarray(sm) & (np.ma.filled(flag, 127) == 0)
            expected_valid += int(keep.sum())
            # spot values: the first three valid pixels of the day
            r, c = np.nonzero(keep)
            for i in range(3):
                ours = ds["sm"].isel(time=day).sel(lat=lat[rows[r[i]]], lon=lon[cols[c[i]]])
                assert float(ours) == pytest.approx(float(sm[r[i], c[i]]), abs=1e-7)
    assert valid == expected_valid
    assert ds["lat"].to_numpy()[0] < ds["lat"].to_numpy()[-1]
    assert ds.attrs["product"] == "PASSIVE" and ds.attrs["version"] == "04.2"
    assert ds.attrs["missing_days"] == []


def test_esa_cci_applies_flags_and_reports_missing_days(tmp_path):
    for path in CCI_FILES:
        if "20161229" not in path.name:
            shutil.copy(path, tmp_path / path.name)
    target = tmp_path / CCI_FILES[0].name
    with netCDF4.Dataset(target, "r+") as nc:
        sm = nc["sm"][0]
        r, c = (int(v[0]) for v in np.nonzero(~np.ma.getmaskarray(sm)))
        nc["flag"][0, r, c] = 2  # dense vegetation
        lat, lon = float(nc["lat"][r]), float(nc["lon"][c])
    with pytest.warns(UserWarning, match="1 missing day"):
        ds = read_esa_cci(tmp_path)
    assert ds.attrs["missing_days"] == ["2016-12-29"]
    assert ds.sizes["time"] == 3  # the gap is not filled
    assert ds.attrs["flagged"] == 1
    assert np.isnan(float(ds["sm"].isel(time=0).sel(lat=lat, lon=lon)))
    assert int(ds["flag"].isel(time=0).sel(lat=lat, lon=lon)) == 2


def test_esa_cci_bad_files_name_the_file(tmp_path):
    name = "ESACCI-SOILMOISTURE-L3S-SSMV-PASSIVE-20200101000000-fv04.2.nc"
    (tmp_path / name).write_text("not a netCDF file")
    with pytest.raises(ReaderError, match="not a netCDF file") as err:
        read_esa_cci(tmp_path / name)
    assert name in str(err.value)
    other = tmp_path / "other"
    other.mkdir()
    xr.Dataset({"soil_moisture": (("time", "lat", "lon"), np.zeros((1, 2, 2)))},
               coords={"time": [np.datetime64("2020-01-01")], "lat": [0.0, 0.25],
                       "lon": [0.0, 0.25]}).to_netcdf(other / name)
    with pytest.raises(ReaderError, match="expected ESA CCI SM variables sm") as err:
        read_esa_cci(other)
    assert name in str(err.value) and "soil_moisture" in str(err.value)
    renamed = tmp_path / "cci_2016-12-27.nc"
    shutil.copy(CCI_FILES[0], renamed)
    with pytest.raises(ReaderError, match="does not follow the ESA CCI pattern"):
        read_esa_cci([renamed])
    with pytest.raises(ReaderError, match="matches no files"):
        read_esa_cci(str(tmp_path / "nothing-*.nc"))


def test_esa_cci_points_and_coarse_pixels():
    ds = read_esa_cci(CCI_DIR, bbox=CHINA_BBOX)
    # MAQU CST-01 and Beijing; a point far outside the window is dropped
    points = sample_points(ds, [102.1333, 116.28, 10.0], [33.8833, 39.93, 0.0])
    assert set(points["point"]) == {0, 1}
    first = points[points["point"] == 0].iloc[0]
    assert (first["pixel_lon"], first["pixel_lat"]) == (102.125, 33.875)
    maqu = points[points["point"] == 0].set_index("date")["sm"]
    assert maqu.notna().sum() == 1 and maqu["2016-12-29"] == pytest.approx(0.21, abs=1e-6)
    coarse = coarse_average(ds, 2)
    block = ds["sm"].isel(time=2, lat=slice(0, 2 * (ds.sizes["lat"] // 2)),
                          lon=slice(0, 2 * (ds.sizes["lon"] // 2))).to_numpy()
    blocks = block.reshape(block.shape[0] // 2, 2, block.shape[1] // 2, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = np.nanmean(blocks, axis=(1, 3))
    np.testing.assert_allclose(coarse.isel(time=2).to_numpy(), expected, rtol=1e-6)


# GHCN-Daily ---------------------------------------------------------------------------

def test_ghcn_matches_pandas_on_the_real_file():
    record = read_ghcn_daily(GHCN_FILE)
    raw = pd.read_csv(GHCN_FILE)
    print(f"\nGHCN-Daily {record.attrs['station']}: {len(record)} days, "
          f"{int(record['prcp'].notna().sum())} precipitation values, "
          f"{int((record['prcp_mflag'] == 'T').sum())} trace days, "
          f"failed QC {record.attrs['failed_qc']}")
    assert len(record) == len(raw) == 27756
    assert int(record["prcp"].notna().sum()) == int(raw["PRCP"].notna().sum()) == 25440
    np.testing.assert_allclose(record["prcp"], raw["PRCP"] / 10)
    np.testing.assert_allclose(record["tmax"], raw["TMAX"] / 10)
    np.testing.assert_allclose(record["tavg"], raw["TAVG"] / 10)
    assert record.loc["1945-10-31", "tavg"] == pytest.approx(9.6)
    assert int((record["prcp_mflag"] == "T").sum()) == 2198
    assert record.attrs["units"]["prcp"] == "mm" and record.attrs["units"]["tmax"] == "degC"
    assert (record.attrs["lat"], record.attrs["lon"]) == (39.933, 116.283)


def test_ghcn_failed_quality_checks_become_nan(tmp_path):
    lines = GHCN_FILE.read_text().splitlines()
    header = lines[0].split(",")
    row = next(i for i, line in enumerate(lines) if '"1990-07-01"' in line)
    cells = lines[row].split('","')
    attrs = header.index('"PRCP_ATTRIBUTES"')
    value = float(cells[header.index('"PRCP"')].strip('" ')) / 10
    cells[attrs] = ",I,S" if cells[attrs] in (",,S", ",,s") else cells[attrs].replace(",,", ",I,")
    lines[row] = '","'.join(cells)
    path = tmp_path / "flagged.csv"
    path.write_text("\n".join(lines) + "\n")
    record = read_ghcn_daily(path)
    assert np.isnan(record.loc["1990-07-01", "prcp"])
    assert record.loc["1990-07-01", "prcp_qflag"] == "I"
    assert record.attrs["failed_qc"]["prcp"] == 1
    assert read_ghcn_daily(path, drop_failed_qc=False).loc["1990-07-01", "prcp"] == value


def test_ghcn_wrong_format_names_the_file():
    with pytest.raises(ReaderError, match="GHCN-Daily access CSV") as err:
        read_ghcn_daily(ISMN_FILE)
    assert ISMN_FILE.name in str(err.value)

def test_ghcn_table_without_its_columns_is_refused(tmp_path):
    path = tmp_path / "weather.csv"
    pd.DataFrame({"date": ["2020-01-01"], "rain": [1.0]}).to_csv(path, index=False)
    with pytest.raises(ReaderError, match="not a GHCN-Daily access CSV") as err:
        read_ghcn_daily(path)
    assert "weather.csv" in str(err.value) and "rain" in str(err.value)


# station tables -----------------------------------------------------------------------

def _agme_table() -> pd.DataFrame:
    return pd.DataFrame({
        "Station_Id_C": ["53798", "53798", "57083", "57083"],
        "Lon": [114.5, 114.5, 113.7, 113.7], "Lat": [37.1, 37.1, 34.7, 34.7],
        "Crop_Name": ["冬小麦", "冬小麦", "夏玉米", "夏玉米"],
        "Soil_Depth_BelS": [10, 20, 10, 20],
        "Datetime": ["2018-04-08", "2018-04-08", "2018-07-18", "2018-07-18"],
        "SVWC": [21.5, 24.0, 30.1, 28.7], "SRHU": [65.0, 72.0, 88.0, 85.0],
        "Crop_Growth_Period": ["jointing", "jointing", "seedling", "seedling"],
    })


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_agme_style_table_maps_to_the_schema(tmp_path, suffix):
    path = tmp_path / f"agme{suffix}"
    table = _agme_table()
    table.to_csv(path, index=False) if suffix == ".csv" else table.to_parquet(path)
    frame = read_station_table(path, columns=AGME_COLUMNS)
    assert list(frame.columns) == [*STATION_COLUMNS, "rsm"]
    assert list(frame["crop"]) == ["wheat", "wheat", "maize", "maize"]
    assert list(frame["depth"]) == ["0-10cm", "10-20cm", "0-10cm", "10-20cm"]
    np.testing.assert_allclose(frame["sm"], [0.215, 0.24, 0.301, 0.287])
    assert frame["station_id"].iloc[0] == "53798"  # leading digits kept as text
    assert frame["date"].iloc[2] == pd.Timestamp("2018-07-18")


def test_station_table_errors_name_the_file_and_the_columns(tmp_path):
    path = tmp_path / "agme.csv"
    _agme_table().to_csv(path, index=False)
    with pytest.raises(ReaderError, match="missing column") as err:
        read_station_table(path)
    assert "agme.csv" in str(err.value) and "Station_Id_C" in str(err.value)
    bad = _agme_table().assign(SVWC=[21.5, 240.0, 30.1, 28.7])
    bad.to_csv(path, index=False)
    with pytest.raises(ReaderError, match="outside 0-0.8"):
        read_station_table(path, columns=AGME_COLUMNS)
    (tmp_path / "agme.xlsx").write_text("x")
    with pytest.raises(ReaderError, match="expected a .csv or .parquet"):
        read_station_table(tmp_path / "agme.xlsx")


# the real-data catalog and its validation ---------------------------------------------

def test_real_catalog_opens_every_entry_through_intake():
    cat = open_catalog(REAL_CATALOG)
    insitu = read_entry("ismn_maqu", cat)
    cci = read_entry("esa_cci_passive", cat)
    weather = read_entry("ghcn_beijing", cat)
    assert len(insitu) == 397 and insitu["station_id"].iloc[0] == "MAQU:CST_01"
    assert dict(cci.sizes) == {"time": 4, "lat": 144, "lon": 250}
    assert len(weather) == 27756


def test_real_catalog_validation_reports_the_overlap_honestly(tmp_path):
    result = CliRunner().invoke(main, ["validate", "--catalog", str(REAL_CATALOG),
                                       "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    print("\n" + result.output)
    assert "| ismn_maqu | esa_cci_passive | 2008-07-03 to 2010-07-31 | " \
           "2016-12-27 to 2016-12-30 | 0 | 0 | 0 |" in result.output
    assert "no metrics" in result.output
    assert (tmp_path / "insitu_comparison.json").exists()


def test_insitu_comparison_scores_real_cci_pixels():
    """Stations placed on valid CCI pixels, observing the product minus 0.02: bias +0.02, r 1."""
    cci = read_esa_cci(CCI_DIR, bbox=CHINA_BBOX)["sm"]
    day = cci.isel(time=2)
    lat_idx, lon_idx = np.nonzero(np.isfinite(day.to_numpy()))
    pick = np.arange(0, len(lat_idx), max(1, len(lat_idx) // 40))[:40]
    lat = day["lat"].to_numpy()[lat_idx[pick]] + 0.05  # inside the pixel, off its centre
    lon = day["lon"].to_numpy()[lon_idx[pick]] - 0.05
    values = day.to_numpy()[lat_idx[pick], lon_idx[pick]]
    obs = pd.DataFrame({"station_id": [f"S{i}" for i in range(len(pick))], "lon": lon,
                        "lat": lat, "date": pd.Timestamp("2016-12-29"), "sm": values - 0.02})
    result = compare_insitu(obs, {"cci": cci})["cci"]
    assert result["pairs"] == result["pixels"] == len(pick)
    assert result["overlap_days"] == 1
    assert result["bias"] == pytest.approx(0.02, abs=1e-6)
    assert result["r"] == pytest.approx(1.0)
    assert result["ubrmse"] == pytest.approx(metrics.ubrmse(values, values - 0.02), abs=1e-7)


def test_real_catalog_missing_file_is_a_clear_error(tmp_path):
    text = REAL_CATALOG.read_text().replace("ismn_MAQU", "no_such_folder")
    path = tmp_path / "catalogs" / "real.yaml"
    path.parent.mkdir()
    path.write_text(text)
    with pytest.raises(CatalogError, match="no_such_folder: does not exist"):
        read_entry("ismn_maqu", open_catalog(path))
