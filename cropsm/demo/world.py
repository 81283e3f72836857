"""Assemble the demo world in memory: static covariates, weather, truth and stations.

The functions here compute; :mod:`cropsm.demo.build` writes the results through
:mod:`cropsm.io`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd
import xarray as xr

from cropsm.core import crops, landscape, patterns
from cropsm.core.covariates import YX, class_layers, covariates_dataset
from cropsm.core.grid import (
    Grid,
    bilinear_sample,
    bilinear_weights,
    china_grid,
    china_window,
    nearest_sample,
)
from cropsm.core.soil import saxton_rawls
from cropsm.demo import climate, geography, observation, soilwater, weather
from cropsm.demo.profiles import Profile

__all__ = ["Inputs", "Statics", "StoredFields", "WorldFields", "monthly_at_pixels",
           "own_pattern", "pixel_seasons", "profile_grid", "simulate_pattern", "stations",
           "static_covariates", "truth_tiles", "weather_dataset", "weather_start"]

COARSE_STEP = 0.25
COARSE_LON = np.arange(73.0, 135.51, COARSE_STEP) + COARSE_STEP / 2
COARSE_LAT = np.arange(17.5, 54.01, COARSE_STEP) + COARSE_STEP / 2
OBSERVATION_DAYS = (8, 18, 28)
#: Years a continuous run spins up before the first day it keeps.
SPIN_UP_YEARS = 1
BEIJING = (116.28, 39.93)  # GHCN-Daily CHM00054511, the rain calibration station


@dataclass
class Inputs:
    """The real data a build starts from (read by :mod:`cropsm.io.assets`)."""

    boundary: object
    provinces: pd.DataFrame
    rivers: list
    dem: xr.DataArray
    calendars: dict[str, tuple[xr.DataArray, xr.DataArray]]
    ghcn: pd.DataFrame


@dataclass
class Statics:
    """Static covariates of a profile's grid, plus what the truth needs."""

    grid: Grid
    ds: xr.Dataset
    rain_climate: weather.RainClimate
    temperature_climate: np.ndarray  # (12,) °C at the reference station (Beijing)
    anomaly_sd: np.ndarray  # (12,) K, sd of the monthly means across years there
    dem: xr.DataArray


class WorldFields(Protocol):
    """What the column physics reads of a world: its grid and static fields.

    :class:`Statics` while building; the stored covariates of a built world
    (:class:`StoredFields`) to re-simulate its truth later.
    """

    @property
    def grid(self) -> Grid:
        """The 1 km grid of ``ds``."""
        ...

    @property
    def ds(self) -> xr.Dataset:
        """Static fields on (y, x): soils, calendars, pattern shares, irrigation drivers."""
        ...


@dataclass(frozen=True)
class StoredFields:
    """A built world's covariates (or a window of them) as :class:`WorldFields`."""

    grid: Grid
    ds: xr.Dataset


def profile_grid(profile: Profile) -> Grid:
    """The national 1 km grid, or its window covering the profile's bounding box."""
    return china_window(profile.bbox)


def _cf(da: xr.DataArray, name: str, units: str, long_name: str,
        standard_name: str | None = None) -> xr.DataArray:
    attrs = {"units": units, "long_name": long_name, "grid_mapping": "spatial_ref"}
    if standard_name:
        attrs["standard_name"] = standard_name
    return da.rename(name).assign_attrs(attrs)


def static_covariates(profile: Profile, inputs: Inputs, seed: int) -> Statics:
    """Static covariates (y, x), monthly PET and crop layers on the profile's grid."""
    grid = profile_grid(profile)
    lon, lat = grid.lonlat()
    lon = lon.astype("f4")
    lat = lat.astype("f4")
    inside = grid.mask(inputs.boundary)
    adcode = np.where(inside, landscape.province_raster(grid, inputs.provinces), 0)
    zone = np.where(inside, landscape.agricultural_zones(adcode, lon, lat), 0).astype("i1")
    dem = inputs.dem
    elevation = bilinear_sample(dem.values.astype("f4"), dem["lat"].values, dem["lon"].values,
                                lat, lon)
    ghcn = inputs.ghcn
    rain = weather.calibrate_rain(ghcn["prcp"], *BEIJING)
    annual_p = bilinear_sample(coarse_annual_precip(rain), COARSE_LAT, COARSE_LON, lat, lon)
    annual_p = annual_p.astype("f4")
    t_ref = climate.temperature_climate(ghcn["tmax"], ghcn["tmin"])
    temp = climate.monthly_temperature(t_ref, BEIJING[1], 55.0, lat, elevation)
    pet = climate.thornthwaite_pet(temp, lat)
    im = landscape.moisture_index(annual_p, pet.sum(axis=0))
    river_km = landscape.river_distance_km(grid, inputs.rivers)
    sand, clay, om = geography.soil_texture(seed, lon, lat, annual_p, zone)
    soil = saxton_rawls(sand, clay, om)
    fractions, sos, eos = [], [], []
    for crop in crops.CROPS:
        frac = geography.crop_fraction(seed, crop, adcode, lon, lat, elevation, annual_p,
                                       river_km)
        fractions.append(np.where(inside, frac, 0.0).astype("f4"))
        s, e = inputs.calendars[crop]
        sos.append(nearest_sample(s.values, s["lat"].values, s["lon"].values, lat, lon))
        eos.append(nearest_sample(e.values, e["lat"].values, e["lon"].values, lat, lon))

    spring = geography.spring_wheat(adcode, lon, lat, temp[0]) & inside
    spring_sow, spring_end = geography.spring_wheat_calendar(temp)
    w, m = crops.CROPS.index("wheat"), crops.CROPS.index("maize")
    sowing = [np.empty(0, "f4")] * len(crops.CROPS)
    sowing[w], eos[w] = geography.wheat_calendar(sos[w], eos[w], spring, spring_sow, spring_end)
    sowing[m] = np.asarray(sos[m], "f4")  # maize is sown at WorldCereal's SOS
    shares = patterns.pattern_fractions(fractions[w], fractions[m], spring)
    shares = np.where(inside, shares, 0.0).astype("f4")

    def masked(a):
        return np.where(inside, a, np.nan).astype("f4")

    yx = YX
    v = {
        "elevation": _cf(xr.DataArray(masked(elevation), dims=yx), "elevation", "m",
                         "Surface elevation (0.2 deg DEM, bilinear)", "surface_altitude"),
        "sand": _cf(xr.DataArray(masked(sand), dims=yx), "sand", "1", "Topsoil sand fraction"),
        "clay": _cf(xr.DataArray(masked(clay), dims=yx), "clay", "1", "Topsoil clay fraction"),
        "silt": _cf(xr.DataArray(masked(1.0 - sand - clay), dims=yx), "silt", "1",
                    "Topsoil silt fraction (1 - sand - clay)"),
        "organic_matter": _cf(xr.DataArray(masked(om), dims=yx), "organic_matter", "%",
                              "Topsoil organic matter"),
        "fc": _cf(xr.DataArray(masked(soil.field_capacity), dims=yx), "fc", "m3 m-3",
                  "Field capacity at 33 kPa (Saxton & Rawls 2006)"),
        "wilting_point": _cf(xr.DataArray(masked(soil.wilting_point), dims=yx),
                             "wilting_point", "m3 m-3",
                             "Wilting point at 1500 kPa (Saxton & Rawls 2006)"),
        "saturation": _cf(xr.DataArray(masked(soil.saturation), dims=yx), "saturation",
                          "m3 m-3", "Saturated water content (Saxton & Rawls 2006)"),
        "residual": _cf(xr.DataArray(masked(soil.residual), dims=yx), "residual", "m3 m-3",
                        "Air-dry residual water content (0.5 x wilting point, FAO-56)"),
        "bulk_density": _cf(xr.DataArray(masked(soil.bulk_density), dims=yx), "bulk_density",
                            "kg dm-3", "Topsoil bulk density (Saxton & Rawls 2006)"),
        "river_distance": _cf(xr.DataArray(masked(river_km), dims=yx), "river_distance", "km",
                              "Distance to the nearest major river (NGCC 1:4M)"),
        "annual_precip": _cf(xr.DataArray(masked(annual_p), dims=yx), "annual_precip",
                             "mm year-1", "Climatological annual precipitation of the world"),
        "moisture_index": _cf(xr.DataArray(masked(im), dims=yx), "moisture_index", "1",
                              "Thornthwaite moisture index (P - PET) / PET"),
        "pet": _cf(xr.DataArray(np.where(inside, pet, np.nan).astype("f4"),
                                dims=("month",) + yx), "pet", "mm month-1",
                   "Potential evapotranspiration (Thornthwaite 1948)",
                   "water_potential_evaporation_amount"),
        "air_temperature": _cf(xr.DataArray(np.where(inside, temp, np.nan).astype("f4"),
                                            dims=("month",) + yx), "air_temperature",
                               "degC", "Monthly climatological air temperature "
                               "(GHCN-Daily Beijing, lapse rate and latitude gradient)",
                               "air_temperature"),
        "pattern_fraction": _cf(xr.DataArray(shares, dims=("pattern",) + yx),
                                "pattern_fraction", "1",
                                "Share of the pixel's cropland under each cropping pattern"),
        "crop_fraction": _cf(xr.DataArray(np.stack(fractions), dims=("crop",) + yx),
                             "crop_fraction", "1", "Harvested-area fraction"),
        "sos": _cf(xr.DataArray(masked(np.stack(sos)), dims=("crop",) + yx), "sos", "day",
                   "Start of season, day of year (WorldCereal)"),
        "eos": _cf(xr.DataArray(masked(np.stack(eos)), dims=("crop",) + yx), "eos", "day",
                   "End of season, day of year (WorldCereal; spring wheat: sowing + 110 "
                   "days)"),
        "sowing": _cf(xr.DataArray(masked(np.stack(sowing)), dims=("crop",) + yx), "sowing",
                      "day", "Sowing day of year (maize: WorldCereal SOS; winter wheat: SOS - "
                      "115 days; spring wheat: first day at 3 degC in spring)"),
        **class_layers(zone, adcode, shares, spring, "Cheng et al. 2022, from provinces",
                       "China's wheat zoning; January below -10 degC"),
    }
    ds = covariates_dataset(v, grid, shares, title="CropSM demo world: static covariates",
                            profile=profile.name, seed=seed)
    anomaly_sd = climate.monthly_anomaly_sd(ghcn["tmax"], ghcn["tmin"])
    return Statics(grid, ds, rain, t_ref, anomaly_sd, inputs.dem)


def coarse_annual_precip(rain: weather.RainClimate) -> np.ndarray:
    """Climatological annual precipitation (mm) on the coarse weather grid."""
    lon2, lat2 = np.meshgrid(COARSE_LON, COARSE_LAT)
    return weather.annual_precip_climate(lon2, lat2, rain)


def weather_start(profile: Profile) -> pd.Timestamp:
    """First day of the daily weather: the stations' spin-up, and the features' look-back.

    :data:`cropsm.rf.features.ANTECEDENT_DAYS` is 10 days.
    """
    return pd.Timestamp(f"{profile.first_year - SPIN_UP_YEARS}-01-01") - pd.Timedelta(days=10)


def weather_dataset(profile: Profile, statics: Statics, seed: int) -> xr.Dataset:
    """Daily rain and monthly temperature anomaly and PET factor on the coarse lon/lat grid.

    Rain is generated on the whole national 0.25° grid (so a window sees the national
    weather) and cut to the profile's box plus a margin for interpolation; 1 km values
    come from :func:`cropsm.core.grid.intermittent_sample`. The monthly fields
    (``month_start``) carry each year-month's departure from the climatology: the
    temperature anomaly (K) and PET over its climatology (Thornthwaite on that year's
    temperature, :func:`cropsm.demo.climate.pet_factor`); at a 1 km pixel the year's
    temperature and PET are the covariates' climatology plus, or times, their bilinear
    interpolation.
    """
    dates = pd.date_range(weather_start(profile), f"{profile.last_year}-12-31")
    annual = coarse_annual_precip(statics.rain_climate)
    rain = weather.generate_rain(statics.rain_climate, COARSE_LON, COARSE_LAT, annual, dates,
                                 seed)
    lat_sel = slice(None)
    lon_sel = slice(None)
    if profile.bbox is not None:
        lon0, lat0, lon1, lat1 = profile.bbox
        lat_sel = slice(max(np.searchsorted(COARSE_LAT, lat0) - 2, 0),
                        np.searchsorted(COARSE_LAT, lat1) + 2)
        lon_sel = slice(max(np.searchsorted(COARSE_LON, lon0) - 2, 0),
                        np.searchsorted(COARSE_LON, lon1) + 2)
    rain = rain[:, lat_sel, lon_sel]
    lat_axis, lon_axis = COARSE_LAT[lat_sel], COARSE_LON[lon_sel]
    months = pd.date_range(dates[0].to_period("M").to_timestamp(), dates[-1], freq="MS")
    lon2, lat2 = np.meshgrid(lon_axis, lat_axis)
    dem = statics.dem
    elevation = bilinear_sample(dem.values.astype("f4"), dem["lat"].values, dem["lon"].values,
                                lat2, lon2)
    t_clim = climate.monthly_temperature(statics.temperature_climate, BEIJING[1], 55.0, lat2,
                                         elevation)
    anomaly = climate.temperature_anomalies(seed, lon2, lat2, months, statics.anomaly_sd)
    factor = climate.pet_factor(t_clim, anomaly, months, lat2)
    coords = {
        "time": ("time", dates),
        "month_start": ("month_start", months, {"long_name": "First day of the month"}),
        "lat": ("lat", lat_axis, {"standard_name": "latitude", "units": "degrees_north"}),
        "lon": ("lon", lon_axis, {"standard_name": "longitude", "units": "degrees_east"}),
    }
    monthly = ("month_start", "lat", "lon")
    ds = xr.Dataset({
        "pre": xr.DataArray(rain, dims=("time", "lat", "lon"), attrs={
            "units": "mm day-1", "long_name": "Daily precipitation",
            "standard_name": "lwe_thickness_of_precipitation_amount",
            "interpolation": "cropsm.core.grid.intermittent_sample"}),
        "tas_anomaly": xr.DataArray(anomaly.astype("f4"), dims=monthly, attrs={
            "units": "K", "long_name": "Monthly mean air temperature minus its climatology",
            "interpolation": "cropsm.core.grid.bilinear_sample"}),
        "pet_factor": xr.DataArray(factor.astype("f4"), dims=monthly, attrs={
            "units": "1", "long_name": "Monthly PET over its climatology (Thornthwaite on "
                                       "the year-month's temperature)",
            "interpolation": "cropsm.core.grid.bilinear_sample"}),
    }, coords=coords)
    ds.attrs.update(title="CropSM demo world: daily weather and monthly anomalies (0.25 deg)",
                    profile=profile.name, seed=seed, Conventions="CF-1.10")
    return ds


def monthly_at_pixels(statics: WorldFields, weather_ds: xr.Dataset, rows: np.ndarray,
                      cols: np.ndarray, months: pd.DatetimeIndex
                      ) -> tuple[np.ndarray, np.ndarray]:
    """The year-month's PET (mm month⁻¹) and temperature (°C) at grid cells.

    Returns two ``(months.size, n)`` float32 arrays: the covariates' climatology times
    (PET) or plus (temperature) the bilinear monthly anomaly, as the features read them.
    """
    lon, lat = statics.grid.rowcol_to_lonlat(rows, cols)
    index = pd.DatetimeIndex(weather_ds["month_start"].values).get_indexer(months)
    if (index < 0).any():
        raise ValueError(f"the weather's months do not cover {months[index < 0][:3].tolist()}")
    lat_axis, lon_axis = weather_ds["lat"].values, weather_ds["lon"].values
    factor = bilinear_sample(weather_ds["pet_factor"].values[index], lat_axis, lon_axis, lat, lon)
    anomaly = bilinear_sample(weather_ds["tas_anomaly"].values[index], lat_axis, lon_axis,
                              lat, lon)
    calendar = months.month.to_numpy() - 1
    pet = statics.ds["pet"].values[:, rows, cols][calendar] * factor
    temperature = statics.ds["air_temperature"].values[:, rows, cols][calendar] + anomaly
    return pet.astype("f4"), temperature.astype("f4")


def pixel_seasons(statics: WorldFields, rows: np.ndarray, cols: np.ndarray, pattern: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The seasons a field of ``pattern`` goes through, with their calendars.

    Returns ``kinds``, ``sowing``, ``end`` and ``crop`` as ``(n, 2)`` arrays: indices into
    :data:`cropsm.demo.soilwater.CROP_KINDS` (-1 for no season), day of year of sowing and
    end of season, and the index of the season's product crop in
    :data:`cropsm.core.crops.CROPS` (-1 for none).
    """
    pattern = np.asarray(pattern)
    n = pattern.size
    kinds = np.full((n, 2), -1, "i8")
    crop_of = np.full((n, 2), -1, "i8")
    sowing = np.full((n, 2), np.nan)
    end = np.full((n, 2), np.nan)
    calendar = {crop: (statics.ds["sowing"].sel(crop=crop).values[rows, cols],
                       statics.ds["eos"].sel(crop=crop).values[rows, cols])
                for crop in crops.CROPS}
    for code, seasons in soilwater.PATTERN_SEASONS.items():
        here = pattern == code
        for k, kind in enumerate(seasons):
            crop = soilwater.KIND_CROP[kind]
            kinds[here, k] = soilwater.CROP_KINDS.index(kind)
            crop_of[here, k] = crops.CROPS.index(crop)
            sowing[here, k] = calendar[crop][0][here]
            end[here, k] = calendar[crop][1][here]
    return kinds, sowing, end, crop_of


def simulate_pattern(statics: WorldFields, weather_ds: xr.Dataset, rows: np.ndarray,
                     cols: np.ndarray, pattern: np.ndarray, start, end, out_dates, seed: int,
                     *, irrigation: bool = True, rain_factor: float = 1.0,
                     count_from=None, out_layers: int = len(crops.SOIL_LAYERS)
                     ) -> soilwater.ColumnRun:
    """Truth SM of grid cells whose fields follow ``pattern``, from ``start`` to ``end``.

    The world's own physics under a choice of cropping pattern, irrigation and rain: the
    truth of the map and of the stations is this with the pixels' own patterns, and a
    scenario re-simulates it with another pattern, ``irrigation=False`` or a
    ``rain_factor``.

    Parameters
    ----------
    statics, weather_ds : Statics, xarray.Dataset
        The world (:func:`static_covariates`, :func:`weather_dataset`).
    rows, cols : numpy.ndarray of int
        Cells of the profile's grid.
    pattern : numpy.ndarray of int
        A :data:`cropsm.core.patterns.PATTERNS` code per cell.
    start, end : date-like
        The run; start it a year or more before the first day that matters (spin-up).
    out_dates : array_like of datetime64
        Days whose SM is returned.
    seed : int
        World seed.
    irrigation : bool
        False switches irrigation off everywhere.
    rain_factor : float
        Multiplies the daily rain.
    count_from : date-like, optional
        Count irrigation events from this day (default the first of ``out_dates``).
    out_layers : int
        Layers kept, from the top.
    """
    rows = np.asarray(rows, "i8")
    cols = np.asarray(cols, "i8")
    dates = pd.date_range(start, end)
    grid = statics.grid
    lon, lat = grid.rowcol_to_lonlat(rows, cols)
    rain = weather_ds["pre"].sel(time=dates).values
    weights = bilinear_weights(weather_ds["lat"].values, weather_ds["lon"].values, lat, lon)
    pixel_id = _pixel_ids(grid, rows, cols)
    months = soilwater.run_months(dates, pd.DatetimeIndex(weather_ds["month_start"].values))
    pet, temperature = monthly_at_pixels(statics, weather_ds, rows, cols, months)
    kinds, sowing, season_end, crop_of = pixel_seasons(statics, rows, cols, pattern)
    ds = statics.ds
    soil = {k: ds[k].values[rows, cols] for k in ("fc", "wilting_point", "saturation",
                                                  "residual", "sand")}
    irrigated = np.zeros(kinds.shape, bool)
    if irrigation:
        fields = irrigated_by_crop(statics, rows, cols, seed)
        for ci, crop in enumerate(crops.CROPS):
            irrigated |= (crop_of == ci) & fields[crop][:, None]
    return soilwater.simulate_columns(
        rain, weights, dates, pet, temperature, months, kinds, sowing, season_end,
        soil["fc"], soil["wilting_point"], soil["saturation"], soil["residual"], soil["sand"],
        irrigated, pixel_id, seed, out_dates, count_from=count_from, rain_factor=rain_factor,
        out_layers=out_layers)


def _pixel_ids(grid: Grid, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Stable identifiers of cells: their flat index on the national grid."""
    national = china_grid()
    r0, c0 = grid.offset_in(national)
    return (rows + r0) * national.shape[1] + (cols + c0)


def irrigated_by_crop(statics: WorldFields, rows: np.ndarray, cols: np.ndarray, seed: int
                      ) -> dict[str, np.ndarray]:
    """Whether each cell's field is irrigated, per crop (:func:`soilwater.irrigated_fields`)."""
    rows = np.asarray(rows, "i8")
    cols = np.asarray(cols, "i8")
    pixel_id = _pixel_ids(statics.grid, rows, cols)
    ds = statics.ds
    zone = ds["zone"].values[rows, cols]
    annual = ds["annual_precip"].values[rows, cols]
    river = ds["river_distance"].values[rows, cols]
    return {crop: soilwater.irrigated_fields(
        soilwater.irrigated_share(crop, zone, annual, river), pixel_id, seed)
        for crop in crops.CROPS}


def station_irrigated(statics: WorldFields, rows: np.ndarray, cols: np.ndarray,
                      pattern: np.ndarray, seed: int) -> np.ndarray:
    """Whether a station's plot is irrigated for any crop of its pattern.

    Station networks record irrigation at the plot (Cheng et al. 2022, section 5, work
    with "the AMS irrigation records" of the CMA's agrometeorological stations), so this
    is metadata a real network has, not knowledge of the truth.
    """
    fields = irrigated_by_crop(statics, rows, cols, seed)
    grows = {crop: np.isin(pattern, codes) for crop, codes in patterns.CROP_PATTERNS.items()}
    return np.logical_or.reduce([fields[c] & grows[c] for c in crops.CROPS])


def own_pattern(statics: WorldFields, crop: str, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """The pattern a cell's ``crop`` grows in: its largest pattern with that crop."""
    return patterns.crop_pattern(statics.ds["pattern_fraction"].values[:, rows, cols], crop)


def truth_tiles(statics: Statics, weather_ds: xr.Dataset, crop: str, year: int, seed: int,
                tile: int = 512) -> Iterator[tuple[slice, slice, np.ndarray, np.ndarray,
                                                   np.ndarray, dict]]:
    """Daily truth of ``year``, tile by tile, at the tile's cropland cells.

    Each cell's field runs continuously from 1 January of ``year - 1``
    (:data:`SPIN_UP_YEARS` of spin-up) through its pattern's seasons.

    Yields ``(rows, cols, flat, sm, irrigations, bounds)`` for tiles with cropland:
    ``flat`` indexes the cropland cells in the flattened tile, ``sm`` is
    ``(depth, time, cell)`` over the product's :data:`cropsm.core.crops.DEPTHS` and ``bounds``
    counts simulated values below the residual or above the saturated water content.
    """
    frac = statics.ds["crop_fraction"].sel(crop=crop).values
    resid = statics.ds["residual"].values
    sat = statics.ds["saturation"].values
    days = pd.date_range(f"{year}-01-01", f"{year}-12-31")
    for r in range(0, frac.shape[0], tile):
        for c in range(0, frac.shape[1], tile):
            block = frac[r:r + tile, c:c + tile]
            rr, cc = np.nonzero(block > 0)
            if rr.size == 0:
                continue
            rows, cols = rr + r, cc + c
            run = simulate_pattern(statics, weather_ds, rows, cols,
                                   own_pattern(statics, crop, rows, cols),
                                   f"{year - SPIN_UP_YEARS}-01-01", days[-1], days, seed,
                                   out_layers=len(crops.DEPTHS))
            sm = run.sm
            bounds = {
                "values": int(sm.size),
                "below_residual": int((sm < resid[rows, cols].astype("f4")).sum()),
                "above_saturation": int((sm > sat[rows, cols].astype("f4")).sum()),
            }
            yield (slice(r, r + block.shape[0]), slice(c, c + block.shape[1]),
                   rr * block.shape[1] + cc, sm, run.irrigations, bounds)


def stations(profile: Profile, statics: Statics, weather_ds: xr.Dataset, seed: int,
             progress=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """AMS-like stations and their observations on the 8th, 18th and 28th.

    Each visit samples the five :data:`cropsm.core.crops.SOIL_LAYERS`, as CMA's
    agrometeorological stations do. A station's field runs continuously from
    :data:`SPIN_UP_YEARS` before the first year; it carries its pixel's pattern for its
    crop. What is observed is the field at point scale (:mod:`cropsm.demo.observation`):
    the pixel's truth plus a persistent offset, a temporally correlated error and
    sampling noise; a missed visit misses every layer, and frozen days (daily mean below
    0 °C) are not sampled.
    """
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x53544E]))
    grid, ds = statics.grid, statics.ds
    days = pd.date_range(f"{profile.first_year}-01-01", f"{profile.last_year}-12-31")
    visits = days[np.isin(days.day, OBSERVATION_DAYS)]
    doy = np.minimum(visits.day_of_year.to_numpy(), 365)
    meta, obs = [], []
    for crop in crops.CROPS:
        frac = ds["crop_fraction"].sel(crop=crop).values
        rr, cc = np.nonzero(frac > 0)
        n = min(profile.n_stations[crop], rr.size)
        if n == 0:
            continue
        weights = frac[rr, cc].astype("f8")
        pick = rng.choice(rr.size, size=n, replace=False, p=weights / weights.sum())
        rows, cols = rr[pick], cc[pick]
        lon, lat = grid.rowcol_to_lonlat(rows, cols)
        lo, hi = profile.record_years
        length = rng.integers(lo, hi + 1, size=n)
        span = profile.last_year - profile.first_year + 1
        length = np.minimum(length, span)
        first = profile.first_year + rng.integers(0, span - length + 1)
        ids = np.array([f"{crop[0].upper()}{k:03d}" for k in range(n)])
        zone = ds["zone"].values[rows, cols]
        pattern = own_pattern(statics, crop, rows, cols)
        meta.append(pd.DataFrame({
            "station_id": ids, "lon": lon, "lat": lat, "crops": crop, "zone": zone,
            "province": ds["province"].values[rows, cols], "row": rows, "col": cols,
            "pattern": pattern, "first_year": first, "last_year": first + length - 1,
            "irrigated": station_irrigated(statics, rows, cols, pattern, seed)}))
        run = simulate_pattern(statics, weather_ds, rows, cols, pattern,
                               f"{profile.first_year - SPIN_UP_YEARS}-01-01", days[-1],
                               visits, seed)
        months = soilwater.run_months(visits, pd.DatetimeIndex(weather_ds["month_start"].values))
        _, temperature = monthly_at_pixels(statics, weather_ds, rows, cols, months)
        thawed = observation.observable(
            soilwater.daily_temperature(temperature, months, visits))
        spring = ds["spring_wheat"].values[rows, cols].astype(bool) if crop == "wheat" \
            else np.zeros(n, bool)
        stage = crops.stage_index(crop, doy[:, None],
                                  ds["sowing"].sel(crop=crop).values[rows, cols][None, :],
                                  ds["eos"].sel(crop=crop).values[rows, cols][None, :],
                                  spring=spring[None, :])
        year = visits.year.to_numpy()[:, None]
        active = (year >= first[None, :]) & (year <= (first + length - 1)[None, :])
        missed = observation.missed_visits(seed, ids, visits)
        kept = (stage >= 0) & active & thawed & ~missed
        n_layers = len(crops.SOIL_LAYERS)
        observed = observation.observe(
            run.sm, observation.station_offsets(seed, ids, n_layers),
            observation.representativeness_errors(seed, ids, visits, n_layers),
            ds["residual"].values[rows, cols], ds["saturation"].values[rows, cols],
            noise=observation.sampling_noise(seed, ids, visits, n_layers), bounds="soft")
        t_i, s_i = np.nonzero(kept)
        stage_names = np.array(crops.stage_names(crop))
        for d, depth in enumerate(crops.SOIL_LAYERS):
            obs.append(pd.DataFrame({
                "station_id": ids[s_i], "lon": lon[s_i], "lat": lat[s_i],
                "crop": crop, "depth": depth, "date": visits[t_i],
                "sm": observed[d, t_i, s_i].astype("f4"),
                "phenology": stage_names[stage[t_i, s_i]], "zone": zone[s_i],
            }))
        if progress is not None:
            progress(1)
    obs_df = pd.concat(obs, ignore_index=True).sort_values(
        ["crop", "station_id", "depth", "date"], ignore_index=True)
    for col in ("crop", "depth", "phenology"):
        obs_df[col] = obs_df[col].astype("category")
    return pd.concat(meta, ignore_index=True), obs_df
