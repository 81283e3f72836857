import numpy as np
import pandas as pd
import pytest

from cropsm.core.grid import china_grid, intermittent_sample
from cropsm.demo import weather
from cropsm.io.assets import read_ghcn_daily

BEIJING = (116.28, 39.93)


@pytest.fixture(scope="module")
def climate_and_record():
    ghcn = read_ghcn_daily()
    return weather.calibrate_rain(ghcn["prcp"], *BEIJING), ghcn["prcp"]


@pytest.fixture(scope="module")
def beijing_series(climate_and_record):
    """26 years of generated rain at the Beijing 1 km pixel (a small domain around it)."""
    clim, _ = climate_and_record
    lon = np.arange(114.0, 119.0, 0.25) + 0.125
    lat = np.arange(37.5, 42.5, 0.25) + 0.125
    lon2, lat2 = np.meshgrid(lon, lat)
    annual = weather.annual_precip_climate(lon2, lat2, clim)
    dates = pd.date_range("1993-01-01", "2018-12-31")
    rain = weather.generate_rain(clim, lon, lat, annual, dates, seed=3)
    grid = china_grid()
    plon, plat = grid.rowcol_to_lonlat(*grid.lonlat_to_rowcol(*BEIJING))
    at_pixel = intermittent_sample(rain, lat, lon, plat, plon)
    return pd.Series(at_pixel, index=dates), rain


def test_calibration_uses_complete_years_only(climate_and_record):
    _, prcp = climate_and_record
    kept = weather.complete_years(prcp["1993":"2018"])
    years = set(kept.index.year)
    assert 2012 in years and 2015 not in years  # 2013-2019 report only ~100 days a year


def test_generated_rain_matches_ghcn_in_10_of_12_months(climate_and_record, beijing_series):
    _, prcp = climate_and_record
    series, _ = beijing_series
    obs = weather.rain_statistics(weather.complete_years(prcp["1993":"2018"]))
    gen = weather.rain_statistics(series)
    table = obs.join(gen.add_suffix("_gen"))
    ok = ((table["wet_freq_gen"] / table["wet_freq"] - 1).abs() <= 0.2) & (
        (table["total_mm_gen"] / table["total_mm"] - 1).abs() <= 0.2)
    print("\nBeijing rain, GHCN-Daily complete years 1993-2018 vs generated 1993-2018:")
    print(table.round(3).to_string())
    print(f"months within 20%: {int(ok.sum())}/12")
    assert ok.sum() >= 10


def test_rain_is_spatially_correlated_and_deterministic(climate_and_record, beijing_series):
    _, rain = beijing_series
    a, b, far = rain[:, 10, 10], rain[:, 10, 11], rain[:, 0, 19]
    near_r = np.corrcoef(a, b)[0, 1]
    far_r = np.corrcoef(a, far)[0, 1]
    assert near_r > 0.7 and far_r < near_r
    clim, _ = climate_and_record
    lon = np.arange(114.0, 115.0, 0.25)
    lat = np.arange(38.0, 39.0, 0.25)
    ann = np.full((4, 4), 500.0)
    dates = pd.date_range("2000-01-01", periods=60)
    r1 = weather.generate_rain(clim, lon, lat, ann, dates, seed=5)
    r2 = weather.generate_rain(clim, lon, lat, ann, dates, seed=5)
    r3 = weather.generate_rain(clim, lon, lat, ann, dates, seed=6)
    np.testing.assert_array_equal(r1, r2)
    assert not np.array_equal(r1, r3)
    assert r1.min() == 0 and (r1[r1 > 0] >= weather.WET_DAY_MM).all()


def test_annual_precipitation_decreases_from_southeast_to_northwest(climate_and_record):
    clim, _ = climate_and_record
    places = {"Guangzhou": (113.26, 23.13), "Wuhan": (114.31, 30.59),
              "Zhengzhou": (113.62, 34.75), "Lanzhou": (103.83, 36.06),
              "Urumqi": (87.62, 43.83), "Kashgar": (75.99, 39.47)}
    lon, lat = np.array(list(places.values())).T
    totals = weather.annual_precip_climate(lon, lat, clim)
    print("\nannual precipitation (mm):", dict(zip(places, totals.round(), strict=True)))
    assert np.all(np.diff(totals) < 0)
    # along a straight south-east to north-west transect as well
    t = np.linspace(0, 1, 20)
    transect = weather.annual_precip_climate(120 - 40 * t, 25 + 17 * t, clim)
    assert np.polyfit(t, transect, 1)[0] < 0
    assert transect[0] > 3 * transect[-1]
