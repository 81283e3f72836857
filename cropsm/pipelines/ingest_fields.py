"""What ``cropsm ingest`` computes from its opened inputs (:mod:`cropsm.pipelines.ingest`).

* Daily rain on a regular lat/lon grid (``rain_resolution``): gridded inputs are
  averaged onto it; gauges are kriged onto it (:func:`cropsm.core.kriging.krige_daily`),
  as ChinaCropSM1km interpolates its rain; features then sample it at 1 km with
  :func:`cropsm.core.grid.intermittent_sample`, as for the demo world.
* Monthly PET and temperature series become a climatology on the 1 km grid (``pet``,
  ``air_temperature``) and, on the rain grid, each year-month's PET over (``pet_factor``)
  and temperature minus (``tas_anomaly``) that climatology: the demo's contract.
* Static covariates: the inputs regridded (:data:`cropsm.io.ingest.rasters.RESAMPLING`),
  wilting point, saturation and residual water from texture (Saxton & Rawls 2006),
  the cropping patterns from the crop fractions and wheat's sowing date.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import xarray as xr
from rasterio.features import rasterize
from scipy import ndimage

from cropsm.core import crops, landscape, patterns
from cropsm.core.covariates import YX, class_layers, covariates_dataset
from cropsm.core.grid import bilinear_sample
from cropsm.core.kriging import krige_daily
from cropsm.core.soil import saxton_rawls
from cropsm.io import assets
from cropsm.io.ingest.rasters import RESAMPLING, to_grid, to_lonlat
from cropsm.io.readers._errors import ReaderError

if TYPE_CHECKING:
    from cropsm.core.grid import Grid
    from cropsm.io.ingest.config import IngestConfig
    from cropsm.io.ingest.rasters import LonLatGrid
    from cropsm.pipelines.ingest import Opened

__all__ = ["SPRING_SOWING_DOY", "annual_precipitation", "covariates", "daily_rain",
           "monthly_fields", "station_tables", "weather_dataset", "weather_encoding"]

#: Wheat sown from 1 February to 30 June (days of year 32-181) is spring wheat; winter
#: wheat is sown in September-November (China's wheat zoning, Jin 1996).
SPRING_SOWING_DOY = (32, 181)


def _days(cfg: IngestConfig) -> pd.DatetimeIndex:
    return pd.date_range(cfg.start, cfg.end, freq="D")


def daily_rain(opened: Opened) -> xr.Dataset:
    """Daily rain ``pre`` (time, lat, lon), mm day-1, on the rain grid for the period.

    Gridded input: averaged onto the rain grid. Gauges: kriged (the kriging variance is
    kept as ``pre_kriging_variance``); a day with fewer than three gauges is filled by
    inverse-distance weighting of those it has. Missing days are refused unless
    ``fill_missing_days`` (then they are dry, and listed in ``attrs["filled_days"]``).
    """
    cfg, target = opened.config, opened.rain_grid
    days = _days(cfg)
    if opened.gauges is not None and cfg.precipitation_stations is not None:
        ds, have = _kriged(opened.gauges, target, days)
        source = str(cfg.precipitation_stations.path)
    else:
        assert cfg.precipitation is not None  # the config has exactly one rain input
        da = opened.rasters["precipitation"]
        source = str(cfg.precipitation.paths[0].parent)
        if "time" not in da.dims:
            raise ReaderError(source, "precipitation has no time dimension; give daily "
                                      "rain (a time step per day).")
        stamps = pd.DatetimeIndex(da["time"].values).floor("D")
        if stamps.has_duplicates:
            raise ReaderError(source, "has several steps on one day (sub-daily data); "
                                      "aggregate it to daily totals first.")
        # slices, not label lists: dask indexes a slice without a task per step
        da = da.assign_coords(time=stamps).sel(time=slice(days[0], days[-1]))
        have = pd.DatetimeIndex(da["time"].values)
        edges = np.cumsum((0,) + (da.chunks[0] if da.chunks else (have.size,)))
        blocks = [to_lonlat(da.isel(time=slice(a, b)), target, "average")
                  for a, b in zip(edges[:-1], edges[1:], strict=True) if b > a]
        pre = xr.concat(blocks, dim="time") if blocks else None
        ds = xr.Dataset({"pre": pre}) if pre is not None else xr.Dataset()
    if "pre" in ds:
        # a day that is no-data everywhere is a missing day, not a dry one
        empty = ds["pre"].isnull().all(("lat", "lon")).values
        have = have.difference(pd.DatetimeIndex(ds["time"].values[empty]))
        ds = ds.sel(time=have)
    gaps = days.difference(have)
    if gaps.size and not cfg.fill_missing_days:
        shown = ", ".join(f"{d:%Y-%m-%d}" for d in gaps[:5])
        raise ReaderError(source, f"lacks {gaps.size} day(s) of the period ({shown}"
                                  f"{', ...' if gaps.size > 5 else ''}); add them, shorten "
                                  "`period`, or set `fill_missing_days: true` to treat them "
                                  "as dry.")
    ds = ds.reindex(time=days, fill_value=np.float32(0.0)) if "pre" in ds else xr.Dataset(
        {"pre": (("time", "lat", "lon"), np.zeros((days.size, target.lat.size,
                                                    target.lon.size), "f4"))},
        coords={"time": days, "lat": target.lat, "lon": target.lon})
    nodata = int(np.isnan(ds["pre"].values).sum())
    if nodata:
        warnings.warn(f"{source}: {nodata} rain-grid cell-day(s) are no-data in the input "
                      "and are treated as dry.", UserWarning, stacklevel=2)
        ds["pre"] = ds["pre"].fillna(0.0)
    ds["pre"].attrs.update(units="mm day-1", long_name="Daily precipitation",
                           standard_name="lwe_precipitation_rate")
    ds.attrs["filled_days"] = [f"{d:%Y-%m-%d}" for d in gaps]
    return ds


def _kriged(gauges: pd.DataFrame, target: LonLatGrid, days: pd.DatetimeIndex
            ) -> tuple[xr.Dataset, pd.DatetimeIndex]:
    table = gauges.pivot_table(index="date", columns="station_id", values="prcp",
                               aggfunc="mean").reindex(days)
    have = pd.DatetimeIndex(table.index[table.notna().any(axis=1)])
    positions = gauges.groupby("station_id")[["lon", "lat"]].first().loc[table.columns]
    lon, lat = positions["lon"].to_numpy("f8"), positions["lat"].to_numpy("f8")
    values = table.loc[have].to_numpy("f8")
    estimate, variance = krige_daily(lon, lat, values, target.lon, target.lat)
    few = np.isnan(estimate).all(axis=(1, 2))
    if few.any():
        estimate[few] = _inverse_distance(lon, lat, values[few], target.lon, target.lat)
        variance[few] = np.nan
    coords = {"time": have, "lat": target.lat, "lon": target.lon}
    dims = ("time", "lat", "lon")
    return xr.Dataset({
        "pre": (dims, estimate.astype("f4")),
        "pre_kriging_variance": (dims, variance.astype("f4"), {
            "units": "mm2 day-2", "long_name": "Ordinary-kriging variance of daily "
            "precipitation (NaN: fewer than 3 gauges, inverse-distance weighting)"}),
    }, coords=coords), have


def _inverse_distance(lon, lat, values, grid_lon, grid_lat) -> np.ndarray:
    """Inverse-squared-distance weights of the gauges reporting each day."""
    glon, glat = np.meshgrid(grid_lon, grid_lat)
    coslat = np.cos(np.deg2rad(glat))[..., None]
    d2 = ((glon[..., None] - lon) * coslat) ** 2 + (glat[..., None] - lat) ** 2
    weight = 1.0 / np.maximum(d2, 1e-9)
    out = np.empty((values.shape[0],) + glon.shape)
    for k, day in enumerate(values):
        ok = np.isfinite(day)
        w = weight[..., ok]
        out[k] = (w * day[ok]).sum(axis=-1) / w.sum(axis=-1)
    return out


def _month_series(opened, key: str) -> tuple[xr.DataArray, xr.DataArray, pd.DatetimeIndex]:
    """A monthly input's series (months of the period) and its climatology (12 months)."""
    cfg = opened.config
    spec = cfg.pet if key == "pet" else cfg.temperature
    source = str(spec.paths[0])
    da = opened.rasters[key]
    if "time" not in da.dims:
        raise ReaderError(source, f"{key} has no time dimension; give a monthly series.")
    months = pd.DatetimeIndex(da["time"].values).to_period("M").to_timestamp()
    if months.has_duplicates:
        raise ReaderError(source, f"{key} has several steps in one month; give monthly "
                                  "values.")
    da = da.assign_coords(time=months)
    want = pd.date_range(cfg.start.to_period("M").start_time, cfg.end, freq="MS")
    gaps = want.difference(months)
    if gaps.size:
        raise ReaderError(source, f"{key} lacks {gaps.size} month(s) of the period (first: "
                                  f"{gaps[0]:%Y-%m}); give the whole period.")
    if f"{key}_climatology" in opened.rasters:
        clim = _climatology(opened.rasters[f"{key}_climatology"],
                            str(getattr(cfg, f"{key}_climatology").paths[0]))
    elif set(months.month) == set(range(1, 13)):
        clim = da.groupby("time.month").mean().rio.write_crs(da.rio.crs)
    else:
        raise ReaderError(source, f"{key} covers only months {sorted(set(months.month))}; a "
                                  f"climatology needs all twelve (or give {key}_climatology).")
    return da.sel(time=want), clim, want


def _climatology(da: xr.DataArray, source: str) -> xr.DataArray:
    """Twelve monthly normals, from a ``month`` (1-12) or a 12-step ``time`` dimension."""
    dim = "month" if "month" in da.dims else "time" if "time" in da.dims else None
    if dim is None or da.sizes[dim] != 12:
        raise ReaderError(source, "a climatology needs 12 monthly steps along `month` or "
                                  "`time`.")
    if dim == "time":
        da = da.assign_coords(time=pd.DatetimeIndex(da["time"].values).month).rename(
            time="month")
    if sorted(int(m) for m in da["month"].values) != list(range(1, 13)):
        raise ReaderError(source, "the climatology's months are not January to December.")
    return da.sortby("month")


def monthly_fields(opened: Opened) -> dict[str, xr.DataArray]:
    """The monthly fields of the contract, from the PET and temperature series.

    ``pet`` and ``air_temperature`` are (month, y, x) climatologies; ``pet_factor`` and
    ``tas_anomaly`` are (month_start, lat, lon). Temperature fields are absent without a
    temperature input.
    """
    grid, target = opened.grid, opened.rain_grid
    out: dict[str, xr.DataArray] = {}
    series, clim, months = _month_series(opened, "pet")
    out["pet"] = to_grid(clim, grid, "average")
    coarse = to_lonlat(series, target, "average").values
    coarse_clim = to_lonlat(clim, target, "average").values[months.month - 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        # a month without evaporative demand (frozen) keeps its climatology
        factor = np.where(coarse_clim > 1.0, coarse / coarse_clim, 1.0)
    out["pet_factor"] = _monthly(np.nan_to_num(factor, nan=1.0), months, target)
    if "temperature" in opened.rasters:
        series, clim, months = _month_series(opened, "temperature")
        out["air_temperature"] = to_grid(clim, grid, "bilinear")
        anomaly = (to_lonlat(series, target, "bilinear").values
                   - to_lonlat(clim, target, "bilinear").values[months.month - 1])
        out["tas_anomaly"] = _monthly(np.nan_to_num(anomaly), months, target)
    return out


def _monthly(values: np.ndarray, months: pd.DatetimeIndex, target: LonLatGrid
             ) -> xr.DataArray:
    return xr.DataArray(values.astype("f4"), dims=("month_start", "lat", "lon"),
                        coords={"month_start": months, "lat": target.lat,
                                "lon": target.lon})


def weather_dataset(daily: xr.Dataset, monthly: dict[str, xr.DataArray]) -> xr.Dataset:
    """The ``covariates_daily`` store: daily rain and the monthly anomalies."""
    ds = daily.copy()
    ds["pet_factor"] = monthly["pet_factor"].assign_attrs(
        units="1", long_name="PET of the year-month over its climatology")
    if "tas_anomaly" in monthly:
        ds["tas_anomaly"] = monthly["tas_anomaly"].assign_attrs(
            units="K", long_name="Temperature of the year-month minus its climatology")
    ds.attrs = {"title": "CropSM ingest: daily precipitation and monthly anomalies",
                "Conventions": "CF-1.10", "filled_days": daily.attrs.get("filled_days", [])}
    return ds


def weather_encoding(ds: xr.Dataset) -> dict[str, dict]:
    """Chunks of a year of days for the daily variables, one chunk for the monthly ones."""
    enc = {}
    for name, var in ds.data_vars.items():
        first = min(366, var.shape[0]) if var.dims[0] == "time" else var.shape[0]
        enc[str(name)] = {"chunks": (first,) + var.shape[1:], "dtype": "float32"}
    return enc


def _cf(values: np.ndarray, dims: tuple[str, ...], units: str, long_name: str,
        **attrs) -> xr.DataArray:
    return xr.DataArray(values, dims=dims).assign_attrs(
        units=units, long_name=long_name, grid_mapping="spatial_ref", **attrs)


def _zones(opened, adcode: np.ndarray, lon, lat) -> np.ndarray:
    if opened.zones is None:
        return landscape.agricultural_zones(adcode, lon, lat)
    grid = opened.grid
    geoms, codes = opened.zones
    source = str(opened.config.zones.path) if opened.config.zones else "zones"
    try:
        numbers = np.asarray(codes).astype("i4")
    except ValueError as err:
        raise ReaderError(source, "zone codes must be integers 1-7 "
                                  "(cropsm.core.landscape.ZONES).") from err
    if not np.isin(numbers, list(landscape.ZONES)).all():
        raise ReaderError(source, f"has zone codes {sorted(set(numbers.tolist()))}; use "
                                  f"1-7 ({', '.join(a for a, _ in landscape.ZONES.values())}).")
    shapes = [(grid.project(g), int(c)) for g, c in zip(geoms, numbers, strict=True)]
    return rasterize(shapes, out_shape=grid.shape, transform=grid.transform, fill=0,
                     dtype="int16").astype("i1")


def annual_precipitation(pre: xr.DataArray) -> np.ndarray:
    """Mean annual rain total on the rain grid, mm year-1.

    The mean over the period's whole calendar years, else the daily mean times 365.25.
    """
    days = pd.DatetimeIndex(pre["time"].values)
    counts = pd.Series(1, index=days).groupby(days.year).sum()
    whole = counts.index[counts >= 365].to_numpy()
    if whole.size:
        totals = pre.sel(time=np.isin(days.year, whole)).groupby("time.year").sum()
        return totals.mean("year").values
    return pre.mean("time").values * 365.25


def covariates(opened: Opened, daily: xr.Dataset, monthly: dict[str, xr.DataArray]
               ) -> xr.Dataset:
    """The ``covariates`` store: the demo build's variables, from the inputs."""
    grid, inside, r = opened.grid, opened.inside, opened.rasters
    lon, lat = grid.lonlat()
    yx, cyx = YX, ("crop", "y", "x")

    def on_grid(key: str, role: str | None = None) -> np.ndarray:
        method = RESAMPLING[role or key][1]
        values = to_grid(r[key], grid, method).values
        return np.where(inside, values, np.nan).astype("f4")

    def filled(key: str) -> np.ndarray:
        """A field every cell needs: no-data cells take the nearest cell's value."""
        values = on_grid(key)
        holes = inside & np.isnan(values)
        if holes.any() and (inside & ~holes).any():
            warnings.warn(f"{key}: {int(holes.sum())} cell(s) of the window are no-data in "
                          "the input and take the nearest cell's value.", UserWarning,
                          stacklevel=2)
            _, (ii, jj) = ndimage.distance_transform_edt(holes | ~inside,
                                                         return_indices=True)
            near = values[ii, jj]
            values = np.where(holes, near, values)
        return values

    adcode = np.where(inside, landscape.province_raster(grid, assets.read_provinces()), 0)
    zone = np.where(inside, _zones(opened, adcode, lon, lat), 0).astype("i1")
    rain = opened.rain_grid
    annual = bilinear_sample(annual_precipitation(daily["pre"]).astype("f4"), rain.lat,
                             rain.lon, lat, lon)
    annual = np.where(inside, annual, np.nan).astype("f4")
    pet = np.where(inside, monthly["pet"].values, np.nan).astype("f4")
    soil = {k: filled(k) for k in ("field_capacity", "bulk_density", "sand",
                                                  "silt", "clay", "organic_matter")}
    hydraulics = saxton_rawls(soil["sand"], soil["clay"], soil["organic_matter"])
    fraction, sowing, green_up, maturity, heading = [], [], [], [], []
    for crop in crops.CROPS:
        frac = to_grid(r[f"{crop}_fraction"], grid, RESAMPLING["fraction"][1]).values
        fraction.append(np.where(inside, np.clip(np.nan_to_num(frac), 0, 1), 0).astype("f4"))
        sowing.append(on_grid(f"{crop}_sowing", "sowing"))
        green_up.append(on_grid(f"{crop}_green_up", "green_up") if f"{crop}_green_up" in r
                        else sowing[-1])
        maturity.append(on_grid(f"{crop}_maturity", "maturity"))
        heading.append(on_grid(f"{crop}_heading", "heading") if f"{crop}_heading" in r
                       else np.full(grid.shape, np.nan, "f4"))
    w, m = crops.CROPS.index("wheat"), crops.CROPS.index("maize")
    lo, hi = SPRING_SOWING_DOY
    with np.errstate(invalid="ignore"):
        spring = inside & (fraction[w] > 0) & (sowing[w] >= lo) & (sowing[w] <= hi)
    shares = np.where(inside, patterns.pattern_fractions(fraction[w], fraction[m], spring),
                      0.0).astype("f4")
    v = {
        "elevation": _cf(filled("elevation"), yx, "m", "Surface elevation",
                         standard_name="surface_altitude"),
        "sand": _cf(soil["sand"], yx, "1", "Topsoil sand fraction"),
        "silt": _cf(soil["silt"], yx, "1", "Topsoil silt fraction"),
        "clay": _cf(soil["clay"], yx, "1", "Topsoil clay fraction"),
        "organic_matter": _cf(soil["organic_matter"], yx, "%", "Topsoil organic matter"),
        "fc": _cf(soil["field_capacity"], yx, "m3 m-3", "Field capacity, 0-10 cm"),
        "wilting_point": _cf(hydraulics.wilting_point.astype("f4"), yx, "m3 m-3",
                             "Wilting point at 1500 kPa (Saxton & Rawls 2006)"),
        "saturation": _cf(hydraulics.saturation.astype("f4"), yx, "m3 m-3",
                          "Saturated water content (Saxton & Rawls 2006)"),
        "residual": _cf(hydraulics.residual.astype("f4"), yx, "m3 m-3",
                        "Air-dry residual water content (0.5 x wilting point, FAO-56)"),
        "bulk_density": _cf(soil["bulk_density"], yx, "kg dm-3", "Topsoil bulk density"),
        "river_distance": _cf(np.where(inside, landscape.river_distance_km(
            grid, opened.rivers), np.nan).astype("f4"), yx, "km",
            "Distance to the nearest river of the rivers input"),
        "annual_precip": _cf(annual, yx, "mm year-1", "Mean annual precipitation of the "
                             "period's whole years"),
        "moisture_index": _cf(np.where(inside, landscape.moisture_index(
            annual, pet.sum(axis=0)), np.nan).astype("f4"), yx, "1",
            "Thornthwaite moisture index (P - PET) / PET"),
        "pet": _cf(pet, ("month",) + yx, "mm month-1", "Potential evapotranspiration, "
                   "monthly climatology of the PET input",
                   standard_name="water_potential_evaporation_amount"),
        "pattern_fraction": _cf(shares, ("pattern",) + yx, "1",
                                "Share of the pixel's cropland under each cropping pattern"),
        "crop_fraction": _cf(np.stack(fraction), cyx, "1", "Harvested-area fraction"),
        "sowing": _cf(np.stack(sowing), cyx, "day", "Sowing day of year"),
        "sos": _cf(np.stack(green_up), cyx, "day", "Start of season (green-up; maize: "
                   "sowing unless given), day of year"),
        "eos": _cf(np.stack(maturity), cyx, "day", "End of season (maturity), day of year"),
        "heading": _cf(np.stack(heading), cyx, "day", "Heading day of year (NaN if not "
                       "given; a diagnostic, the stages follow Table 2)"),
        **class_layers(zone, adcode, shares, spring, "zones input" if opened.zones
                       else "province rule", f"sown on days {lo}-{hi}"),
    }
    if "field_capacity_10_20" in r:
        v["fc_10_20"] = _cf(on_grid("field_capacity_10_20"), yx, "m3 m-3",
                            "Field capacity, 10-20 cm")
    if "air_temperature" in monthly:
        v["air_temperature"] = _cf(np.where(inside, monthly["air_temperature"].values,
                                            np.nan).astype("f4"), ("month",) + yx, "degC",
                                   "Monthly climatological air temperature of the "
                                   "temperature input", standard_name="air_temperature")
    return covariates_dataset(v, grid, shares, title="CropSM ingest: static covariates",
                              profile="ingest", source=str(opened.config.source))

def station_tables(obs: pd.DataFrame, cov: xr.Dataset, grid: Grid
                   ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``station_meta`` and ``stations`` in the demo build's layout.

    A missing zone is the station cell's; a missing phenological stage is the stage the
    cell's calendar gives that day (Table 2, :func:`cropsm.core.crops.stage_index`).
    """
    rows, cols = obs["row"].to_numpy(), obs["col"].to_numpy()
    zone = cov["zone"].values[rows, cols]
    obs = obs.assign(zone=obs["zone"].fillna(pd.Series(zone, index=obs.index)).astype("i1"))
    stage = obs["phenology"].astype("object")
    for crop in crops.CROPS:
        pick = (obs["crop"] == crop).to_numpy() & stage.isna().to_numpy()
        if not pick.any():
            continue
        r, c = rows[pick], cols[pick]
        index = crops.stage_index(crop, obs.loc[pick, "date"].dt.dayofyear.to_numpy(),
                                  cov["sowing"].sel(crop=crop).values[r, c],
                                  cov["eos"].sel(crop=crop).values[r, c],
                                  spring=cov["spring_wheat"].values[r, c].astype(bool))
        names = np.array(crops.stage_names(crop) + (None,), dtype=object)
        stage[pick] = names[index]
    observations = pd.DataFrame({
        "station_id": obs["station_id"].astype(str), "lon": obs["lon"], "lat": obs["lat"],
        "crop": obs["crop"].astype("category"), "depth": obs["depth"].astype("category"),
        "date": obs["date"], "sm": obs["sm"].astype("f4"),
        "phenology": stage.astype("category"), "zone": obs["zone"],
    }).sort_values(["crop", "station_id", "depth", "date"], ignore_index=True)
    shares = cov["pattern_fraction"].values
    meta = []
    for sid, g in obs.groupby("station_id", sort=True):
        crop_list = sorted(set(g["crop"].astype(str)))
        row, col = int(g["row"].iloc[0]), int(g["col"].iloc[0])
        meta.append({
            "station_id": str(sid), "lon": float(g["lon"].iloc[0]),
            "lat": float(g["lat"].iloc[0]), "crops": ",".join(crop_list),
            "zone": np.int8(g["zone"].iloc[0]), "province": int(cov["province"].values[row, col]),
            "row": row, "col": col,
            "pattern": np.int8(patterns.crop_pattern(shares[:, row, col], crop_list[0])),
            "first_year": int(g["date"].dt.year.min()),
            "last_year": int(g["date"].dt.year.max()),
            "irrigated": bool(g["irrigated"].any()),
        })
    table = pd.DataFrame(meta)
    table["zone"] = table["zone"].astype("i1")
    table["pattern"] = table["pattern"].astype("i1")
    table["province"] = table["province"].astype("i4")
    return table, observations
