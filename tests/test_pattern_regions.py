"""Liu et al. (2021) Figs. 9-10 over all cropland: regions, brute-force check, CLI and view."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from shapely.geometry import box

from cropsm.cli import main
from cropsm.core import liu_regions, patterns
from cropsm.core.grid import Grid
from cropsm.io.assets import read_provinces
from cropsm.nn import network
from cropsm.nn import pattern_regions as pr
from cropsm.nn import pattern_scenarios as ps
from cropsm.rf.features import FeatureError

SMALL = {"batch_size": [256], "learning_rate_init": [0.005], "n_hidden": [2], "units": [32]}
YEAR = 2018  # the tiny world's map year


@pytest.fixture(scope="module")
def net(tiny_entries):
    e = tiny_entries
    tables, _ = network.layer_tables(e["covariates"], e["covariates_daily"], e["stations"],
                                     e["station_meta"])
    return network.fit_network(tables, grid=SMALL)


@pytest.fixture(scope="module")
def models(net, tmp_path_factory):
    from cropsm.io.models import save_network

    folder = tmp_path_factory.mktemp("regions_models")
    save_network(net, folder)
    return folder


def _cropland_window(cov, size: int) -> tuple[slice, slice]:
    """The ``size`` x ``size`` window with the most cropland cells."""
    pattern = cov["cropping_pattern"].values > 0
    best, where = -1, (0, 0)
    for r in range(0, pattern.shape[0] - size, size // 2):
        for c in range(0, pattern.shape[1] - size, size // 2):
            n = pattern[r:r + size, c:c + size].sum()
            if n > best:
                best, where = n, (r, c)
    r, c = where
    return slice(r, r + size), slice(c, c + size)


def test_every_province_is_in_exactly_one_region(tiny_entries):
    provinces = read_provinces()
    listed = [name for names in liu_regions.REGION_PROVINCES.values() for name in names]
    assert sorted(listed) == sorted(provinces["name_en"])  # each geojson name exactly once
    assert set(liu_regions.province_regions().values()) == set(liu_regions.LIU_REGIONS)
    assert liu_regions.REGION_PROVINCES["HHH"] == ("Beijing", "Tianjin", "Hebei", "Shandong",
                                                   "Henan")
    # the provinces with cropland in the tiny world are mapped, and all fall in HHH
    cov = tiny_entries["covariates"]
    grid = Grid.from_coords(cov["x"].values, cov["y"].values)
    cropland = cov["cropping_pattern"].values > 0
    with_cropland = [name for name, geometry in zip(provinces["name_en"],
                                                    provinces["geometry"], strict=True)
                     if (grid.mask(geometry) & cropland).any()]
    assert with_cropland and all(liu_regions.province_regions()[n] == "HHH"
                                 for n in with_cropland)
    # points: Harbin, Beijing, Zhengzhou, Chengdu, Guangzhou, the sea
    regions = liu_regions.region_of_points([126.6, 116.4, 113.6, 104.1, 113.3, 125.0],
                                           [45.8, 39.9, 34.7, 30.7, 23.1, 30.0], provinces)
    assert regions.tolist() == ["NE", "HHH", "HHH", "SW", "S", ""]
    renamed = provinces.assign(name_en=provinces["name_en"].replace("Hebei", "Hopeh"))
    with pytest.raises(liu_regions.RegionError, match="Hopeh"):
        liu_regions.region_of_points([116.4], [39.9], renamed)


def test_monthly_means_equal_pattern_scenario_on_the_same_cells(tiny_entries, net):
    """The national function against the box reference, on a box cut out of the world."""
    e = tiny_entries
    cov, daily = e["covariates"], e["covariates_daily"]
    stride, rows, cols = 4, *_cropland_window(e["covariates"], 24)
    result = pr.pattern_regions(net, cov.isel(y=rows, x=cols), daily, read_provinces(), YEAR,
                                stride=stride, station_meta=e["station_meta"])
    # the same lattice cells as a region of the full world
    region = np.zeros((24, 24), bool)
    region[stride // 2::stride, stride // 2::stride] = True
    dates = pd.date_range(f"{YEAR}-01-01", f"{YEAR}-12-31")
    lattice_cropland = (cov["cropping_pattern"].isel(y=rows, x=cols).values > 0) & region
    assert result.attrs["cropland_cells"] == lattice_cropland.sum() > 0
    assert result.attrs["cells_outside_provinces"] == 0
    month = dates.month
    for code in result["pattern"].values:
        brute = ps.pattern_scenario(net, cov, daily, e["stations"], e["station_meta"], rows,
                                    cols, region, dates, "0-10cm", int(code))
        for name in ("reference", "scenario", "difference"):
            daily_mean = brute[name].mean(("y", "x")).to_series()
            expected = daily_mean.groupby(month).mean().to_numpy()
            for where in ("HHH", "CHN"):
                np.testing.assert_allclose(
                    result[name].sel(pattern=code, region=where).values, expected,
                    rtol=1e-5, atol=1e-6, err_msg=f"{name} {code} {where}")
        np.testing.assert_allclose(result["annual_difference"].sel(pattern=code, region="CHN"),
                                   float(brute["difference"].mean()), rtol=1e-5, atol=1e-6)
        assert int(result["cells"].sel(pattern=code, region="CHN")) == lattice_cropland.sum()
        np.testing.assert_allclose(result["pattern_flag_share"].sel(pattern=code, region="CHN"),
                                   brute["pattern_flag"].values[lattice_cropland].mean())
    assert np.isnan(result["difference"].sel(region="NE").values).all()  # no NE here
    assert result["difference"].attrs["units"] == "m3 m-3"
    table = pr.monthly_table(result)
    assert len(table) == result.sizes["pattern"] * len(pr.REGIONS) * 12
    assert list(pr.annual_table(result).columns) == list(pr.REGIONS)


def test_the_northeast_is_masked_for_double_cropping(tiny_entries, net):
    e = tiny_entries
    cov = e["covariates"]
    grid = Grid.from_coords(cov["x"].values, cov["y"].values)
    lon, _ = grid.rowcol_to_lonlat(0, cov.sizes["x"] // 2)
    # a fake map: the world's western half is in Liaoning (NE), the eastern half in Hebei
    provinces = pd.DataFrame({"name_en": ["Liaoning", "Hebei"],
                              "geometry": [box(100, 30, float(lon), 50),
                                           box(float(lon), 30, 130, 50)]})
    result = pr.pattern_regions(net, cov, e["covariates_daily"], provinces, YEAR, stride=8)
    cells = result["cells"].to_pandas()
    for code in result["pattern"].values:
        row = result["annual_difference"].sel(pattern=code)
        if code in patterns.DOUBLE_CROPPING:
            assert cells.loc[code, "NE"] == 0 and np.isnan(row.sel(region="NE"))
            assert np.isnan(result["difference"].sel(pattern=code, region="NE")).all()
            # China without the northeast: the HHH half alone
            assert cells.loc[code, "CHN"] == cells.loc[code, "HHH"]
            np.testing.assert_allclose(row.sel(region="CHN"), row.sel(region="HHH"))
        else:
            assert cells.loc[code, "NE"] > 0 and np.isfinite(row.sel(region="NE"))
            assert cells.loc[code, "CHN"] == cells.loc[code, "NE"] + cells.loc[code, "HHH"]
            share = cells.loc[code, "NE"] / cells.loc[code, "CHN"]
            np.testing.assert_allclose(row.sel(region="CHN"), share * row.sel(region="NE")
                                       + (1 - share) * row.sel(region="HHH"), rtol=1e-5)
    assert 1 in result["pattern"].values  # the tiny world has double cropping


def test_regions_command_writes_the_report_and_the_view_shows_it(tiny_world, models, tmp_path,
                                                                 monkeypatch):
    from cropsm.app.pattern_regions_view import PatternRegionsView
    from cropsm.app.state import AppState
    from cropsm.io.store import StoreError
    from cropsm.pipelines.pattern_regions import FILES, read_pattern_regions

    _, catalog, _ = tiny_world
    reports = tmp_path / "reports"
    monkeypatch.setenv("CROPSM_REPORTS", str(tmp_path / "empty"))
    view = PatternRegionsView(state=AppState())
    assert "`cropsm network regions`" in view._title.object and not view._maps.objects

    res = CliRunner().invoke(main, ["network", "regions", "--catalog", str(catalog),
                                    "--models", str(models), "--out", str(reports),
                                    "--stride", "6"])
    assert res.exit_code == 0, res.output
    assert "HHH" in res.output and "CHN" in res.output and "winter wheat + fallow" in res.output
    for name in FILES.values():
        assert (reports / name).is_file() and f"-> {reports / name}" in res.output
    result = read_pattern_regions(reports)
    assert result.attrs["year"] == YEAR and result.attrs["stride"] == 6
    monthly = pd.read_csv(reports / FILES["csv"], comment="#")
    pd.testing.assert_frame_equal(monthly, pr.monthly_table(result), check_dtype=False,
                                  check_exact=False, rtol=1e-6)
    markdown = (reports / FILES["markdown"]).read_text()
    assert "| pattern | NE | N | E | S | C | NW | SW | HHH | CHN |" in markdown
    assert "pattern flag" in markdown and "pattern_flag_share" in result

    monkeypatch.setenv("CROPSM_REPORTS", str(reports))
    view.update()
    assert len(view._maps.objects) == result.sizes["pattern"]
    pd.testing.assert_frame_equal(view._table.value, pr.annual_table(result).round(4))
    with pytest.raises(StoreError, match="cropsm network regions"):
        read_pattern_regions(tmp_path / "empty")


def test_bad_year_stride_and_models_folder_are_named(tiny_world, tiny_entries, models,
                                                     tmp_path):
    _, catalog, _ = tiny_world
    daily = tiny_entries["covariates_daily"]
    years = pr.network_years(daily)
    assert years[-1] == YEAR == pr.last_year(daily)
    with pytest.raises(FeatureError, match=f"choose a year from {years[0]} to {YEAR}"):
        pr.year_dates(daily, 2030)

    def run(*args):
        return CliRunner().invoke(main, ["network", "regions", "--catalog", str(catalog),
                                         "--out", str(tmp_path / "out"), *args])

    res = run("--models", str(models), "--year", "2030")
    assert res.exit_code == 1
    assert "Year 2030 cannot be run" in res.output and f"from {years[0]} to {YEAR}" in res.output
    res = run("--models", str(models), "--stride", "5000")
    assert res.exit_code == 1 and "Stride 5000" in res.output and "at most" in res.output
    empty = tmp_path / "no-models"
    empty.mkdir()
    res = run("--models", str(empty))
    assert res.exit_code == 1
    assert str(empty / "cropsm_network.skops") in res.output
    assert "`cropsm network train`" in res.output
    assert not (tmp_path / "out" / "pattern_regions.nc").exists()
