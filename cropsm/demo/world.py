"""Assemble the demo world in memory: static covariates, weather, truth and stations.

The functions here compute; :mod:`cropsm.demo.build` writes the results through
:mod:`cropsm.io`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from cropsm.core import crops, patterns
from cropsm.core.grid import (
    Grid,
    bilinear_sample,
    bilinear_weights,
    china_grid,
    lonlat_to_xy,
    nearest_sample,
)
from cropsm.demo import climate, geography, soilwater, weather
from cropsm.demo.profiles import Profile
from cropsm.demo.soil import saxton_rawls

__all__ = ["Inputs", "Statics", "profile_grid", "stations", "static_covariates",
           "truth_tiles", "weather_dataset"]

COARSE_STEP = 0.25
COARSE_LON = np.arange(73.0, 135.51, COARSE_STEP) + COARSE_STEP / 2
COARSE_LAT = np.arange(17.5, 54.01, COARSE_STEP) + COARSE_STEP / 2
SAMPLING_NOISE_SD = 0.02  # gravimetric sampling and representativeness, m3 m-3
OBSERVATION_DAYS = (8, 18, 28)
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


def profile_grid(profile: Profile) -> Grid:
    """The national 1 km grid, or its window covering the profile's bounding box."""
    grid = china_grid()
    if profile.bbox is None:
        return grid
    lon0, lat0, lon1, lat1 = profile.bbox
    lon = np.array([lon0, lon1, lon0, lon1])
    lat = np.array([lat0, lat0, lat1, lat1])
    x, y = lonlat_to_xy(lon, lat)
    rows, cols = grid.window_slices(x.min(), y.min(), x.max(), y.max())
    return grid.window(rows, cols)


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
    adcode = np.where(inside, geography.province_raster(grid, inputs.provinces), 0)
    zone = np.where(inside, geography.agricultural_zones(adcode, lon, lat), 0).astype("i1")
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
    im = climate.moisture_index(annual_p, pet.sum(axis=0))
    river_km = geography.river_distance_km(grid, inputs.rivers)
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

    shares = patterns.pattern_fractions(fractions[0], fractions[1], sos[0], eos[0])
    shares = np.where(inside, shares, 0.0).astype("f4")

    def masked(a):
        return np.where(inside, a, np.nan).astype("f4")

    yx = ("y", "x")
    coords = {
        "y": ("y", grid.y, {"standard_name": "projection_y_coordinate", "units": "m",
                            "axis": "Y"}),
        "x": ("x", grid.x, {"standard_name": "projection_x_coordinate", "units": "m",
                            "axis": "X"}),
        "crop": ("crop", np.array(crops.CROPS, dtype=object)),
        "month": ("month", np.arange(1, 13, dtype="i1")),
        "pattern": ("pattern", np.array(list(patterns.PATTERNS), dtype="i1")),
    }
    v = {
        "elevation": _cf(xr.DataArray(masked(elevation), dims=yx), "elevation", "m",
                         "Surface elevation (0.2 deg DEM, bilinear)", "surface_altitude"),
        "zone": xr.DataArray(zone, dims=yx).assign_attrs(
            long_name="Agricultural zone (Cheng et al. 2022, from provinces)", units="1",
            flag_values=list(geography.ZONES), grid_mapping="spatial_ref",
            flag_meanings=" ".join(a for a, _ in geography.ZONES.values())),
        "province": xr.DataArray(adcode.astype("i4"), dims=yx).assign_attrs(
            long_name="Province adcode", units="1", grid_mapping="spatial_ref"),
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
        "cropping_pattern": xr.DataArray(patterns.dominant_pattern(shares),
                                         dims=yx).assign_attrs(
            long_name="Dominant cropping pattern", units="1",
            flag_values=list(patterns.PATTERNS), grid_mapping="spatial_ref",
            flag_meanings=" ".join(n.replace(" + ", "_plus_").replace(" ", "_")
                                   for n in patterns.PATTERNS.values())),
        "crop_fraction": _cf(xr.DataArray(np.stack(fractions), dims=("crop",) + yx),
                             "crop_fraction", "1", "Harvested-area fraction"),
        "sos": _cf(xr.DataArray(masked(np.stack(sos)), dims=("crop",) + yx), "sos", "day",
                   "Start of season, day of year (WorldCereal)"),
        "eos": _cf(xr.DataArray(masked(np.stack(eos)), dims=("crop",) + yx), "eos", "day",
                   "End of season, day of year (WorldCereal)"),
    }
    ds = xr.Dataset(v, coords=coords)
    ds["spatial_ref"] = xr.DataArray(np.int32(0), attrs=grid.cf_grid_mapping())
    ds.attrs.update(title="CropSM demo world: static covariates", profile=profile.name,
                    seed=seed, Conventions="CF-1.10",
                    patterns_present=[int(c) for c in patterns.PATTERNS
                                      if (shares[c - 1] > 0).any()])
    return Statics(grid, ds, rain)


def coarse_annual_precip(rain: weather.RainClimate) -> np.ndarray:
    """Climatological annual precipitation (mm) on the coarse weather grid."""
    lon2, lat2 = np.meshgrid(COARSE_LON, COARSE_LAT)
    return weather.annual_precip_climate(lon2, lat2, rain)


def weather_dataset(profile: Profile, statics: Statics, seed: int) -> xr.Dataset:
    """Daily rain on the coarse lon/lat grid (1 km values: :func:`intermittent_sample`).

    Rain is generated on the whole national 0.25° grid (so a window sees the national
    weather) and cut to the profile's box plus a margin for interpolation.
    """
    start = pd.Timestamp(f"{profile.first_year - 1}-10-01") - pd.Timedelta(days=10)
    dates = pd.date_range(start, f"{profile.last_year}-12-31")
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
    coords = {
        "time": ("time", dates),
        "lat": ("lat", COARSE_LAT[lat_sel], {"standard_name": "latitude",
                                             "units": "degrees_north"}),
        "lon": ("lon", COARSE_LON[lon_sel], {"standard_name": "longitude",
                                             "units": "degrees_east"}),
    }
    dims = ("time", "lat", "lon")
    ds = xr.Dataset({
        "pre": xr.DataArray(rain, dims=dims, attrs={
            "units": "mm day-1", "long_name": "Daily precipitation",
            "standard_name": "lwe_thickness_of_precipitation_amount",
            "interpolation": "cropsm.core.grid.intermittent_sample"}),
    }, coords=coords)
    ds.attrs.update(title="CropSM demo world: daily weather (0.25 deg)",
                    profile=profile.name, seed=seed, Conventions="CF-1.10")
    return ds


def _pixel_inputs(ds: xr.Dataset, crop: str, rows, cols) -> dict[str, np.ndarray]:
    sel = {"y": xr.DataArray(rows), "x": xr.DataArray(cols)}
    needed = ["fc", "wilting_point", "saturation", "residual", "sand", "pet", "sos", "eos",
              "zone", "river_distance"]
    pick = ds[needed].isel(sel)
    soil = {k: pick[k].values for k in ("fc", "wilting_point", "saturation", "residual", "sand")}
    return {
        "pet": pick["pet"].values, "sos": pick["sos"].sel(crop=crop).values,
        "eos": pick["eos"].sel(crop=crop).values, **soil,
        "p_irr": soilwater.irrigation_probability(pick["zone"].values,
                                                  pick["river_distance"].values),
    }


def simulate_pixels(statics: Statics, weather_ds: xr.Dataset, crop: str, year: int,
                    rows: np.ndarray, cols: np.ndarray, seed: int
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Truth SM of ``year`` at grid cells (window row/col) and irrigations.

    SM has shape ``(layer, day, cell)`` over :data:`cropsm.core.crops.SOIL_LAYERS`.
    """
    grid = statics.grid
    p = _pixel_inputs(statics.ds, crop, rows, cols)
    dates = pd.date_range(f"{year - 1}-10-01", f"{year}-12-31")
    lon, lat = grid.rowcol_to_lonlat(rows, cols)
    rain = weather_ds["pre"].sel(time=dates).values
    weights = bilinear_weights(weather_ds["lat"].values, weather_ds["lon"].values, lat, lon)
    national = china_grid()
    r0, c0 = grid.offset_in(national)
    pixel_id = (rows + r0).astype("i8") * national.shape[1] + (cols + c0)
    return soilwater.simulate_year(crop, year, rain, weights, dates, p["pet"], p["sos"], p["eos"],
                                   p["fc"], p["wilting_point"], p["saturation"],
                                   p["residual"], p["sand"], p["p_irr"], pixel_id, seed)


def truth_tiles(statics: Statics, weather_ds: xr.Dataset, crop: str, year: int, seed: int,
                tile: int = 512) -> Iterator[tuple[slice, slice, np.ndarray, np.ndarray,
                                                   np.ndarray, dict]]:
    """Daily truth of ``year``, tile by tile, at the tile's cropland cells.

    Yields ``(rows, cols, flat, sm, irrigations, bounds)`` for tiles with cropland:
    ``flat`` indexes the cropland cells in the flattened tile, ``sm`` is
    ``(depth, time, cell)`` over the product's :data:`cropsm.core.crops.DEPTHS` and ``bounds``
    counts simulated values below the residual or above the saturated water content.
    """
    frac = statics.ds["crop_fraction"].sel(crop=crop).values
    resid = statics.ds["residual"].values
    sat = statics.ds["saturation"].values
    for r in range(0, frac.shape[0], tile):
        for c in range(0, frac.shape[1], tile):
            block = frac[r:r + tile, c:c + tile]
            rr, cc = np.nonzero(block > 0)
            if rr.size == 0:
                continue
            sm, irr = simulate_pixels(statics, weather_ds, crop, year, rr + r, cc + c, seed)
            sm = sm[:len(crops.DEPTHS)]
            bounds = {
                "values": int(sm.size),
                "below_residual": int((sm < resid[rr + r, cc + c].astype("f4")).sum()),
                "above_saturation": int((sm > sat[rr + r, cc + c].astype("f4")).sum()),
            }
            yield (slice(r, r + block.shape[0]), slice(c, c + block.shape[1]),
                   rr * block.shape[1] + cc, sm, irr, bounds)


def stations(profile: Profile, statics: Statics, weather_ds: xr.Dataset, seed: int,
             progress=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """AMS-like stations and their observations on the 8th, 18th and 28th.

    Each visit samples the five :data:`cropsm.core.crops.SOIL_LAYERS`, as CMA's agrometeorological
    stations do; each station carries its pixel's dominant cropping pattern.
    """
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x53544E]))
    grid, ds = statics.grid, statics.ds
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
        ids = [f"{crop[0].upper()}{k:03d}" for k in range(n)]
        zone = ds["zone"].values[rows, cols]
        meta.append(pd.DataFrame({
            "station_id": ids, "lon": lon, "lat": lat, "crops": crop, "zone": zone,
            "province": ds["province"].values[rows, cols], "row": rows, "col": cols,
            "pattern": patterns.crop_pattern(
                ds["pattern_fraction"].values[:, rows, cols], crop),
            "first_year": first, "last_year": first + length - 1}))
        stage_names = np.array(crops.stage_names(crop))
        sos = ds["sos"].sel(crop=crop).values[rows, cols]
        eos = ds["eos"].sel(crop=crop).values[rows, cols]
        resid = ds["residual"].values[rows, cols]
        sat = ds["saturation"].values[rows, cols]
        for year in range(profile.first_year, profile.last_year + 1):
            active = (first <= year) & (first + length - 1 >= year)
            if not active.any():
                continue
            idx = np.nonzero(active)[0]
            sm, _ = simulate_pixels(statics, weather_ds, crop, year, rows[idx], cols[idx], seed)
            dates = pd.date_range(f"{year}-01-01", f"{year}-12-31")
            day_sel = np.nonzero(np.isin(dates.day, OBSERVATION_DAYS))[0]
            doy = np.minimum(dates.day_of_year.to_numpy()[day_sel], 365)
            stage = crops.stage_index(crop, doy[:, None],
                                      crops.sowing_day(crop, sos[idx])[None, :],
                                      eos[idx][None, :])
            t_i, s_i = np.nonzero(stage >= 0)
            for d, depth in enumerate(crops.SOIL_LAYERS):
                truth = sm[d, day_sel[t_i], s_i]
                noisy = truth + rng.normal(0.0, SAMPLING_NOISE_SD, truth.size)
                noisy = np.clip(noisy, resid[idx][s_i], sat[idx][s_i])
                keep = rng.random(truth.size) > 0.08  # missed visits
                obs.append(pd.DataFrame({
                    "station_id": np.array(ids)[idx][s_i][keep],
                    "lon": lon[idx][s_i][keep], "lat": lat[idx][s_i][keep],
                    "crop": crop, "depth": depth,
                    "date": dates[day_sel[t_i]][keep],
                    "sm": noisy[keep].astype("f4"),
                    "phenology": stage_names[stage[t_i, s_i]][keep],
                    "zone": zone[idx][s_i][keep],
                }))
            if progress is not None:
                progress(1)
    obs_df = pd.concat(obs, ignore_index=True).sort_values(
        ["crop", "station_id", "depth", "date"], ignore_index=True)
    for col in ("crop", "depth", "phenology"):
        obs_df[col] = obs_df[col].astype("category")
    return pd.concat(meta, ignore_index=True), obs_df
