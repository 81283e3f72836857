"""``cropsm demo export``: the demo world in real-world file formats, with an ingest config.

The export is the test input of ``cropsm ingest`` (``docs/ingest.md``): every field the
demo build generated on its own grids is written the way a real product delivers it,
in another CRS and resolution, so that ingesting the export and rebuilding the stores
exercises the reading, unit checks and regridding of real data against a world whose
stores are known.

==================================  ===============================================
file                                content
==================================  ===============================================
rain/precipitation_0p05.nc          daily rain, EPSG:4326 0.05 deg (0.25 deg cells
                                    replicated), CF netCDF
rain/rain_stations.csv              daily rain at 40 random gauges
climate/pet_monthly_4km.nc          monthly PET, EPSG:4326 1/24 deg
climate/tas_monthly_4km.nc          monthly air temperature, EPSG:4326 1/24 deg
soil/*.tif                          topsoil properties, UTM 250 m
terrain/elevation.tif               elevation, EPSG:4326 0.01 deg
crops/*.tif                         crop fractions and phenology, EPSG:4326 0.01 deg
vectors/rivers.geojson              NGCC 1:4M rivers near the window
stations/agme_soil_moisture.csv     station SM in CMA AGME element names
ingest.yaml, ingest_gauges.yaml     configs for gridded rain and for the gauges
README.md                           what the files are
==================================  ===============================================
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
import xarray as xr

from cropsm.core.grid import Grid, bilinear_sample, china_window, intermittent_sample
from cropsm.demo.profiles import UnknownProfile, get_profile
from cropsm.io.assets import read_rivers
from cropsm.io.catalog import CatalogError, open_catalog
from cropsm.io.formats import (
    LONLAT,
    covering_grid,
    reproject,
    write_cf_netcdf,
    write_geojson,
    write_geotiff,
)
from cropsm.io.store import StoreError, check_writable, publish
from cropsm.pipelines._common import entry_of

__all__ = ["GAUGES", "export_world"]

#: Rain gauges written to ``rain/rain_stations.csv``.
GAUGES = 40

RAIN_NC = "rain/precipitation_0p05.nc"
RAIN_CSV = "rain/rain_stations.csv"
PET_NC = "climate/pet_monthly_4km.nc"
TAS_NC = "climate/tas_monthly_4km.nc"
PET_NORMALS_NC = "climate/pet_climatology_4km.nc"
TAS_NORMALS_NC = "climate/tas_climatology_4km.nc"
ELEVATION_TIF = "terrain/elevation.tif"
RIVERS_GEOJSON = "vectors/rivers.geojson"
STATIONS_CSV = "stations/agme_soil_moisture.csv"

_RAIN_RES = 0.05  # degrees
_CLIMATE_RES = 1 / 24  # degrees, the "4 km" of TerraClimate-like monthly products
_SOIL_RES = 250.0  # metres, SoilGrids' resolution
_MAP_RES = 0.01  # degrees
_RIVER_PAD = 3.0  # degrees around the window: rivers feeding it from outside count

#: Soil GeoTIFF name -> (covariate, scale to the file's unit, file's unit).
_SOIL = {
    "field_capacity_0-10cm": ("fc", 1.0, "m3 m-3"),
    "bulk_density": ("bulk_density", 1.0, "g cm-3"),  # kg dm-3 = g cm-3
    "sand": ("sand", 100.0, "%"),
    "silt": ("silt", 100.0, "%"),
    "clay": ("clay", 100.0, "%"),
    "organic_matter": ("organic_matter", 1.0, "%"),
}
#: Phenology file stage -> covariate (day of year).
_PHENOLOGY = {"sowing": "sowing", "green_up": "sos", "maturity": "eos"}
_PROVENANCE = {"source": "CropSM demo world (synthetic, not real data)"}


@dataclass(frozen=True)
class _World:
    """The catalog entries the export reads, with the grids and window they imply."""

    covariates: xr.Dataset
    daily: xr.Dataset
    stations: pd.DataFrame
    station_meta: pd.DataFrame
    grid: Grid  # the 1 km analysis grid of the covariates
    bbox: tuple[float, float, float, float]  # the profile's lon/lat window, degrees
    seed: int


def _read_world(catalog: str | Path | None,
                bbox: tuple[float, float, float, float] | None = None) -> _World:
    cat = open_catalog(catalog)
    cov = entry_of(cat, "covariates", xr.Dataset)
    name = cov.attrs.get("profile")
    try:
        profile = get_profile(str(name))
    except UnknownProfile:
        raise CatalogError(f"The covariates have profile {name!r}, not a demo profile; "
                           "`cropsm demo export` exports worlds built by `cropsm demo "
                           "build`.") from None
    bbox = bbox or profile.bbox
    if bbox is None:
        raise CatalogError(f"Profile {profile.name!r} covers all of mainland China, too "
                           "large for file exports; pass a window (--bbox) or export a "
                           "world built with `cropsm demo build --profile tiny`.")
    if "spatial_ref" not in cov or "crs_wkt" not in cov["spatial_ref"].attrs:
        raise CatalogError("The covariates have no spatial_ref variable with a crs_wkt; "
                           "rebuild the world with `cropsm demo build`.")
    grid = Grid.from_coords(cov["x"].values, cov["y"].values,
                            crs=cov["spatial_ref"].attrs["crs_wkt"])
    meta = entry_of(cat, "station_meta", pd.DataFrame)
    if "irrigated" not in meta:
        raise CatalogError("The station metadata has no 'irrigated' column; rebuild the "
                           "world with this version of `cropsm demo build`.")
    daily = entry_of(cat, "covariates_daily", xr.Dataset).sortby("lat").sortby("lon")
    stations = entry_of(cat, "stations", pd.DataFrame)
    window = china_window(bbox)
    if window.shape != grid.shape:
        cov, daily, grid = _windowed(cov, daily, grid, window)
        rows, cols = grid.lonlat_to_rowcol(meta["lon"].to_numpy(), meta["lat"].to_numpy())
        meta = meta[(rows >= 0) & (cols >= 0)]
        stations = stations[stations["station_id"].isin(meta["station_id"])]
    return _World(cov, daily, stations, meta, grid, bbox, int(cov.attrs.get("seed", 0)))


def _windowed(cov: xr.Dataset, daily: xr.Dataset, grid: Grid, window: Grid
              ) -> tuple[xr.Dataset, xr.Dataset, Grid]:
    """A window of a larger world: its 1 km cells and the weather cells around them."""
    row0, col0 = window.offset_in(grid)
    ny, nx = window.shape
    if row0 < 0 or col0 < 0 or row0 + ny > grid.shape[0] or col0 + nx > grid.shape[1]:
        raise CatalogError("The --bbox window reaches beyond the world; give a window "
                           "inside it.")
    cov = cov.isel(y=slice(row0, row0 + ny), x=slice(col0, col0 + nx)).load()
    lon, lat = window.lonlat()
    step = float(daily["lat"][1] - daily["lat"][0])
    daily = daily.sel(lat=slice(lat.min() - 2 * step, lat.max() + 2 * step),
                      lon=slice(lon.min() - 2 * step, lon.max() + 2 * step)).load()
    return cov, daily, window


def _lonlat_axes(grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    """Ascending ``(lat, lon)`` cell centres of a lon/lat grid."""
    return grid.y[::-1], grid.x


def _write_rain(world: _World, root: Path) -> None:
    """Daily rain at 0.05 deg (each weather cell as its sub-cells) and at 40 gauges."""
    pre = world.daily["pre"]
    lat, lon = pre["lat"].values, pre["lon"].values
    step = float(lat[1] - lat[0])
    factor = round(step / _RAIN_RES)
    if not np.isclose(factor * _RAIN_RES, step):
        raise CatalogError(f"covariates_daily 'pre' is on a {step:g} deg grid, not a "
                           f"multiple of {_RAIN_RES} deg; rebuild the world with `cropsm "
                           "demo build`.")
    # one ring of cells beyond the weather grid, as the edge cells: the 1 km window's
    # corners reach past it and the world's features clamp to the edge there
    values = np.pad(np.asarray(pre.values, "f4"), ((0, 0), (1, 1), (1, 1)), mode="edge")

    def fine(axis: np.ndarray) -> np.ndarray:
        edge = axis[0] - step / 2 - step
        return np.round(edge + (np.arange((axis.size + 2) * factor) + 0.5) * _RAIN_RES, 10)

    # nearest: every 0.05 deg sub-cell keeps its 0.25 deg cell's value, so an average
    # back to 0.25 deg gives the world's rain exactly
    rain = np.repeat(np.repeat(values, factor, axis=1), factor, axis=2)
    ds = xr.Dataset({"pre": (("time", "lat", "lon"), rain, {
        "units": "mm day-1", "standard_name": "lwe_thickness_of_precipitation_amount",
        "long_name": "Daily precipitation", "cell_methods": "time: sum"})},
        coords={"time": pre["time"].values, "lat": fine(lat), "lon": fine(lon)})
    write_cf_netcdf(ds, root / RAIN_NC, {"title": "CropSM demo world: daily precipitation "
                                                  "(0.25 deg cells at 0.05 deg)",
                                         **_PROVENANCE})

    # positions rounded as a gauge list gives them, and the rain sampled there
    rng = np.random.default_rng(world.seed)
    lon_min, lat_min, lon_max, lat_max = world.bbox
    g_lon = np.round(rng.uniform(lon_min, lon_max, GAUGES), 4)
    g_lat = np.round(rng.uniform(lat_min, lat_max, GAUGES), 4)
    at_gauges = intermittent_sample(np.asarray(pre.values, "f8"), lat, lon, g_lat, g_lon)
    days = pd.DatetimeIndex(pre["time"].values).strftime("%Y-%m-%d")
    table = pd.DataFrame({
        "station": np.repeat([f"G{i + 1:03d}" for i in range(GAUGES)], days.size),
        "lon": np.repeat(g_lon, days.size), "lat": np.repeat(g_lat, days.size),
        "date": np.tile(days, GAUGES),
        # 0.01 mm: finer than any gauge reports, and a small file
        "prcp": np.round(at_gauges.T.ravel(), 2)})
    table.to_csv(root / RAIN_CSV, index=False)


def _extended(values: np.ndarray, grid: Grid, cells: int = 4) -> tuple[np.ndarray, Grid]:
    """The world's field with ``cells`` rings of its edge values around it.

    A file written on a grid that covers the window then has values up to its edges, as
    a real product reaching beyond the window has, so the window's corner cells never
    fall on no-data when read back.
    """
    pad = [(0, 0)] * (values.ndim - 2) + [(cells, cells)] * 2
    return np.pad(values, pad, mode="edge"), grid.padded(cells)


def _write_climate(world: _World, root: Path) -> None:
    """Monthly PET and temperature at 1/24 deg: climatology (average) x or + anomaly."""
    grid = covering_grid(world.grid, LONLAT, _CLIMATE_RES)
    lat, lon = _lonlat_axes(grid)
    lon2, lat2 = np.meshgrid(lon, lat)
    months = world.daily["month_start"].values
    calendar = list(world.covariates["month"].values)
    index = [calendar.index(m) for m in pd.DatetimeIndex(months).month]
    d_lat, d_lon = world.daily["lat"].values, world.daily["lon"].values
    for path, normals_path, var, clim_name, anomaly, combine, attrs in (
            (PET_NC, PET_NORMALS_NC, "pet", "pet", "pet_factor", np.multiply,
             {"units": "mm month-1", "standard_name": "water_potential_evaporation_amount",
              "long_name": "Monthly potential evapotranspiration", "cell_methods": "time: sum"}),
            (TAS_NC, TAS_NORMALS_NC, "tas", "air_temperature", "tas_anomaly", np.add,
             {"units": "degC", "standard_name": "air_temperature",
              "long_name": "Monthly mean air temperature", "cell_methods": "time: mean"})):
        clim = reproject(*_extended(world.covariates[clim_name].values, world.grid), grid,
                         "average")
        clim = clim[:, ::-1, :]  # ascending lat
        # the world's normals, as TerraClimate or WorldClim publish beside their series
        normals = xr.Dataset({var: (("month", "lat", "lon"), clim, attrs)},
                             coords={"month": np.arange(1, 13, dtype="i4"), "lat": lat,
                                     "lon": lon})
        write_cf_netcdf(normals, root / normals_path, {
            "title": f"CropSM demo world: {attrs['long_name'].lower()}, monthly normals",
            **_PROVENANCE})
        clim = clim[index]  # one field per month_start
        change = bilinear_sample(np.asarray(world.daily[anomaly].values, "f4"), d_lat, d_lon,
                                 lat2, lon2)
        ds = xr.Dataset({var: (("time", "lat", "lon"), combine(clim, change), attrs)},
                        coords={"time": months, "lat": lat, "lon": lon})
        title = f"CropSM demo world: {attrs['long_name'].lower()}"
        write_cf_netcdf(ds, root / path, {"title": title, **_PROVENANCE})


def _write_rasters(world: _World, root: Path) -> None:
    """Soil (UTM 250 m), elevation and crop maps (0.01 deg) as GeoTIFFs."""
    cov = world.covariates
    centre = (world.bbox[0] + world.bbox[2]) / 2
    utm = f"EPSG:{32600 + int((centre + 180) // 6) + 1}"  # WGS 84 / UTM north zone
    soil_grid = covering_grid(world.grid, utm, _SOIL_RES)
    for name, (var, scale, units) in _SOIL.items():
        values = reproject(*_extended(cov[var].values, world.grid), soil_grid,
                           "nearest") * scale
        write_geotiff(values, soil_grid, root / "soil" / f"{name}.tif", units, _PROVENANCE)
    map_grid = covering_grid(world.grid, LONLAT, _MAP_RES)
    write_geotiff(reproject(*_extended(cov["elevation"].values, world.grid), map_grid,
                            "bilinear"),
                  map_grid, root / ELEVATION_TIF, "m", _PROVENANCE)
    for crop in cov["crop"].values:
        crop = str(crop)
        fraction = reproject(*_extended(cov["crop_fraction"].sel(crop=crop).values,
                                        world.grid),
                             map_grid, "average") * 100.0
        write_geotiff(fraction, map_grid, root / "crops" / f"{crop}_fraction.tif", "%",
                      _PROVENANCE)
        for stage, var in _PHENOLOGY.items():
            doy = reproject(*_extended(cov[var].sel(crop=crop).values, world.grid), map_grid,
                            "nearest")
            write_geotiff(doy, map_grid, root / "crops" / f"{crop}_{stage}_doy.tif", "day",
                          _PROVENANCE)


def _write_rivers(world: _World, root: Path) -> None:
    """The bundled NGCC rivers that come within ``_RIVER_PAD`` degrees of the window."""
    lon_min, lat_min, lon_max, lat_max = world.bbox
    near = shapely.box(lon_min - _RIVER_PAD, lat_min - _RIVER_PAD, lon_max + _RIVER_PAD,
                       lat_max + _RIVER_PAD)
    write_geojson([r for r in read_rivers() if r.intersects(near)], root / RIVERS_GEOJSON)


def _write_stations(world: _World, root: Path) -> None:
    """The station table in CMA AGME element names, plus the ``Irrigated`` extension."""
    table = world.stations
    lower = table["depth"].astype("string").str.extract(r"(\d+)cm$", expand=False)
    if lower.isna().any():
        bad = sorted(set(table.loc[lower.isna(), "depth"].astype(str)))
        raise CatalogError(f"Station depths {bad[:5]} are not '<a>-<b>cm' layers; rebuild "
                           "the world with `cropsm demo build`.")
    irrigated = table["station_id"].map(
        world.station_meta.set_index("station_id")["irrigated"])
    if irrigated.isna().any():
        raise CatalogError("Some stations are missing from station_meta; rebuild the "
                           "world with `cropsm demo build`.")
    agme = pd.DataFrame({
        "Station_Id_C": table["station_id"].astype(str),
        "Lon": table["lon"], "Lat": table["lat"],
        "Crop_Name": table["crop"].astype("string"),
        "Soil_Depth_BelS": lower.astype(int),
        "Datetime": pd.DatetimeIndex(table["date"]).strftime("%Y-%m-%d"),
        # percent by volume to 1e-5 %: the m3 m-3 values survive to 1e-7
        "SVWC": np.round(table["sm"].astype("f8") * 100.0, 5),
        "Crop_Growth_Period": table["phenology"].astype("string"),
        "Irrigated": irrigated.astype(bool).astype(int),
    })
    agme.to_csv(root / STATIONS_CSV, index=False)


def _config(world: _World, gauges: bool) -> str:
    """Text of the ingest config (``docs/ingest.md``), comments included."""
    first, last = pd.DatetimeIndex(world.daily["time"].values[[0, -1]]).strftime("%Y-%m-%d")
    bbox = ", ".join(f"{v:g}" for v in world.bbox)
    rain = (f"""  precipitation_stations:          # rain gauges kriged onto the rain grid
    path: {RAIN_CSV}
    columns: {{station: station_id, prcp: value}}
    units: mm day-1
""" if gauges else f"""  precipitation:                   # gridded daily rain
    path: {RAIN_NC}
    variable: pre
  # or rain gauges kriged onto the rain grid: see ingest_gauges.yaml
""")
    soil = "".join(f"    {key}: {{path: soil/{name}.tif}}\n" for name, key in (
        ("field_capacity_0-10cm", "field_capacity"), ("bulk_density", "bulk_density"),
        ("sand", "sand"), ("silt", "silt"), ("clay", "clay"),
        ("organic_matter", "organic_matter")))
    crops = "".join(
        f"    {crop}:\n      fraction: {{path: crops/{crop}_fraction.tif}}\n"
        + "".join(f"      {stage}: {{path: crops/{crop}_{stage}_doy.tif}}\n"
                  for stage in _PHENOLOGY)
        + "      # no heading: the demo world has no heading dates\n"
        for crop in map(str, world.covariates["crop"].values))
    return f"""# `cropsm ingest` config for the CropSM demo world written by `cropsm demo export`
# (synthetic data, not real; see README.md). Paths are relative to this file.
version: 1
window:
  bbox: [{bbox}]   # lon_min, lat_min, lon_max, lat_max (degrees)
period: [{first}, {last}]
output: data
catalog: catalog/cropsm.yaml
rain_resolution: 0.25
fill_missing_days: false

inputs:
{rain}  pet: {{path: {PET_NC}, variable: pet}}
  pet_climatology: {{path: {PET_NORMALS_NC}, variable: pet}}
  temperature: {{path: {TAS_NC}, variable: tas}}
  temperature_climatology: {{path: {TAS_NORMALS_NC}, variable: tas}}
  elevation: {{path: {ELEVATION_TIF}}}
  soil:
{soil}    # no field_capacity_10_20: the demo world has one topsoil field capacity
  crops:
{crops}  rivers: {{path: {RIVERS_GEOJSON}}}
  # no zones: the demo world's zones follow the province rule, the default
  stations:
    path: {STATIONS_CSV}
    format: agme                   # plus an Irrigated column (0/1), a CropSM extension
"""


_README = """# CropSM demo world in real-world file formats

These files are derived from the CropSM demo world (profile {profile}, seed {seed}), a
synthetic world generated by `cropsm demo build`: they are not real data and must not be
used as observations of anything. `rain/precipitation_0p05.nc` is daily rain (mm day-1,
CF netCDF, EPSG:4326 at 0.05 deg, each 0.25 deg weather cell repeated over its 5 x 5
sub-cells) and `rain/rain_stations.csv` the same rain at {gauges} random gauges (station,
lon, lat, date, prcp in mm); `climate/pet_monthly_4km.nc` and `climate/tas_monthly_4km.nc`
are monthly potential evapotranspiration (mm month-1) and mean air temperature (degC) at
1/24 deg; `soil/*.tif` are topsoil field capacity (m3 m-3), bulk density (g cm-3), sand,
silt and clay (%) and organic matter (%) on a UTM 250 m grid; `terrain/elevation.tif` is
elevation (m) and `crops/*.tif` the wheat and maize harvested-area fractions (%) and
sowing, green-up and maturity days of year, all EPSG:4326 at 0.01 deg (GeoTIFF, float32,
nodata NaN, a `units` tag in each file); `vectors/rivers.geojson` holds the major rivers
(the real NGCC 1:4M lines bundled with CropSM) near the window; and
`stations/agme_soil_moisture.csv` is the station soil moisture in CMA AGME element names
(SVWC in % by volume, Soil_Depth_BelS the layer's lower bound in cm) with an extra
`Irrigated` column (0/1), a CropSM extension of the AGME layout. `ingest.yaml` reads them
back with `cropsm ingest ingest.yaml` (gridded rain); `ingest_gauges.yaml` is the same
with the rain gauges instead.
"""


def _check_target(out: Path) -> None:
    """Refuse to replace anything at ``out`` but an earlier export or an empty folder."""
    check_writable(out.parent)
    if out.is_symlink() or not out.exists():
        return
    if not out.is_dir() or any(out.iterdir()):
        raise StoreError(f"{out} exists and is not an earlier `cropsm demo export`; choose "
                         "a new folder or remove it.")


def export_world(catalog: str | Path | None, out: str | Path,
                 bbox: tuple[float, float, float, float] | None = None) -> dict[Path, int]:
    """Write the demo world of ``catalog`` in real-world formats, with ingest configs.

    The folder is built next to ``out`` and published atomically (see
    :func:`cropsm.io.store.publish`): ``out`` becomes a link to the new export, and a
    reader sees the previous export or the new one, never a half-written folder.

    Parameters
    ----------
    catalog : str or Path, optional
        Catalog of a demo world with a window (e.g. the tiny profile); None for the
        default catalog.
    out : str or Path
        Folder to publish the export at; must not exist, be empty, or be an earlier
        export.
    bbox : (lon_min, lat_min, lon_max, lat_max), optional
        Degrees: export this window of the world (needed for the national ``demo``
        profile); default the profile's window.

    Returns
    -------
    dict
        Path of every file written (under ``out``) -> its size in bytes.

    Raises
    ------
    CatalogError
        The catalog is not a demo world with a window, or lacks what the export needs.
    StoreError
        ``out`` holds something else, or its folder is not writable.
    """
    world = _read_world(catalog, bbox)
    out = Path(out)
    _check_target(out)
    with publish(out) as tmp:
        for folder in ("rain", "climate", "soil", "terrain", "crops", "vectors", "stations"):
            (tmp / folder).mkdir(parents=True)
        _write_rain(world, tmp)
        _write_climate(world, tmp)
        _write_rasters(world, tmp)
        _write_rivers(world, tmp)
        _write_stations(world, tmp)
        (tmp / "ingest.yaml").write_text(_config(world, gauges=False), encoding="utf-8")
        (tmp / "ingest_gauges.yaml").write_text(_config(world, gauges=True),
                                                encoding="utf-8")
        (tmp / "README.md").write_text(
            _README.format(profile=world.covariates.attrs["profile"], seed=world.seed,
                           gauges=GAUGES), encoding="utf-8")
        written = sorted(p.relative_to(tmp) for p in tmp.rglob("*") if p.is_file())
    return {out / rel: (out / rel).stat().st_size for rel in written}
