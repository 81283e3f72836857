"""Figures that show a built demo world is physically honest (``cropsm demo check``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from scipy import stats

from cropsm.core import crops, landscape
from cropsm.core.grid import bilinear_sample, intermittent_sample
from cropsm.demo import climate, weather
from cropsm.demo.profiles import Profile
from cropsm.io.store import open_zarr

__all__ = ["continuity_check", "format_report", "irrigation_by_zone", "rain_check",
           "run_checks", "spring_wheat_figures", "temperature_check"]

NAMED_PLACES = {
    "Guangzhou": (113.26, 23.13), "Shanghai": (121.47, 31.23), "Zhengzhou": (113.62, 34.75),
    "Beijing": (116.28, 39.93), "Harbin": (126.53, 45.80), "Lanzhou": (103.83, 36.06),
    "Urumqi": (87.62, 43.83), "Kashgar": (75.99, 39.47),
}


def rain_check(weather_ds: xr.Dataset, ghcn_prcp: pd.Series, lon: float, lat: float,
               years: tuple[int, int], obs_years: tuple[int, int] = (1993, 2018)) -> dict:
    """Generated vs observed monthly wet-day frequency and totals at one place.

    A month passes when both are within 20 % of the observed value. Generated rain is
    taken over ``years``, observations over the complete years of the record in
    ``obs_years`` (the calibration period); the figure is only judged when at
    least ten years were generated (the ``tiny`` profile has three).
    """
    sel = weather_ds["pre"].sel(time=slice(f"{years[0]}-01-01", f"{years[1]}-12-31"))
    series = pd.Series(
        intermittent_sample(sel.values, sel["lat"].values, sel["lon"].values, lat, lon),
        index=pd.DatetimeIndex(sel["time"].values))
    gen = weather.rain_statistics(series)
    obs = weather.rain_statistics(weather.complete_years(
        ghcn_prcp[f"{obs_years[0]}":f"{obs_years[1]}"]))
    freq_err = (gen["wet_freq"] / obs["wet_freq"] - 1).abs()
    total_err = (gen["total_mm"] / obs["total_mm"] - 1).abs()
    ok = (freq_err <= 0.2) & (total_err <= 0.2)
    judged = years[1] - years[0] + 1 >= 10
    return {
        "years": list(years),
        "months_within_20pct": int(ok.sum()),
        "passed": bool(ok.sum() >= 10) if judged else None,
        "table": pd.DataFrame({
            "obs_wet_freq": obs["wet_freq"], "gen_wet_freq": gen["wet_freq"],
            "obs_total_mm": obs["total_mm"], "gen_total_mm": gen["total_mm"],
        }).round(3).reset_index().to_dict("records"),
    }


def named_place_totals(weather_ds: xr.Dataset, years: tuple[int, int]) -> dict[str, float]:
    """Mean annual precipitation (mm) at named places in the domain, over ``years``."""
    pre = weather_ds["pre"]
    year = pre["time"].dt.year.values
    counts = pd.Series(year).value_counts()
    whole = [y for y in counts.index[counts >= 365] if years[0] <= y <= years[1]]
    annual = pre.isel(time=np.nonzero(np.isin(year, whole))[0]).sum("time").values
    annual = annual / max(len(whole), 1)
    lat_ax, lon_ax = pre["lat"].values, pre["lon"].values
    out = {}
    for name, (lon, lat) in NAMED_PLACES.items():
        if lat_ax[0] <= lat <= lat_ax[-1] and lon_ax[0] <= lon <= lon_ax[-1]:
            out[name] = round(float(bilinear_sample(annual, lat_ax, lon_ax, lat, lon)), 1)
    return out


def irrigation_by_zone(truth: xr.Dataset, covariates: xr.Dataset) -> dict:
    """Mean irrigation events per cropland pixel in the map year, by crop and zone.

    Also near (< 10 km) against far (> 40 km) from a major river, and the share of
    pixels irrigated at least once.
    """
    events = truth["irrigation_events"].values.astype("f8")
    events[events < 0] = np.nan
    zone = covariates["zone"].values
    river = covariates["river_distance"].values
    out: dict = {}
    for ci, crop in enumerate(truth["crop"].values):
        e = events[ci]
        valid = np.isfinite(e)

        def mean(mask, e=e, valid=valid):
            m = mask & valid
            return round(float(e[m].mean()), 3) if m.any() else None

        out[str(crop)] = {
            "by_zone": {abbr: mean(zone == code)
                        for code, (abbr, _) in landscape.ZONES.items()
                        if (valid & (zone == code)).any()},
            "river_lt_10km": mean(river < 10), "river_gt_40km": mean(river > 40),
            "share_irrigated": round(float((e[valid] > 0).mean()), 3) if valid.any() else None,
        }
    return out


def temperature_check(weather_ds: xr.Dataset, ghcn: pd.DataFrame, lon: float, lat: float,
                      years: tuple[int, int]) -> dict:
    """Year-to-year sd of monthly temperature at a place, generated against GHCN-Daily.

    Per calendar month, the sd across years of the generated anomaly against the sd of
    GHCN-Daily's monthly means there. An sd from 26 years has a sampling error of about
    14 %, so the check passes when the root-mean-square ratio over the 12 months is
    within 15 % of 1 and at least 8 months are within 20 %; it is judged when at least
    ten years were generated.
    """
    anomaly = weather_ds["tas_anomaly"].sel(
        month_start=slice(f"{years[0]}-01-01", f"{years[1]}-12-31"))
    series = bilinear_sample(anomaly.values, anomaly["lat"].values, anomaly["lon"].values,
                             lat, lon)
    month = pd.DatetimeIndex(anomaly["month_start"].values).month
    generated = pd.Series(series).groupby(month).std().reindex(range(1, 13)).to_numpy()
    observed = climate.monthly_anomaly_sd(ghcn["tmax"], ghcn["tmin"])
    ratio = generated / observed
    within = np.abs(ratio - 1) <= 0.2
    rms = float(np.sqrt(np.mean(ratio**2)))
    judged = years[1] - years[0] + 1 >= 10
    return {"years": list(years), "months_within_20pct": int(within.sum()),
            "rms_ratio": round(rms, 3),
            "generated_sd": [round(float(v), 2) for v in generated],
            "ghcn_sd": [round(float(v), 2) for v in observed],
            "passed": bool(abs(rms - 1) <= 0.15 and within.sum() >= 8) if judged else None}


def continuity_check(statics, weather_ds: xr.Dataset, meta: pd.DataFrame, profile: Profile,
                     seed: int, truth: xr.Dataset | None = None) -> dict:
    """No seam between years, and memory of the previous autumn, at the station fields.

    Each station's field is run daily over the whole record (its own pattern, as the
    stations are). The day-to-day change of 0-10 cm SM on 1 October and 1 January is
    compared with that of the other days within 15 days of them: the stations share
    their weather, so each day is one sample (its mean change over the stations), and
    the two sets of days are compared with a Mann-Whitney U test. In the dry zones (NAS,
    LP) the mean 0-20 cm SM of 1-15 March is correlated with the rain of the previous
    September to November, over station-years. With ``truth``, the map year's 0-10 cm
    at the station pixels is compared with the truth store, whose run spins up for
    :data:`cropsm.demo.world.SPIN_UP_YEARS` only: the spin-up's residual effect.
    """
    from cropsm.demo import world

    first = f"{profile.first_year - world.SPIN_UP_YEARS}-01-01"
    days = pd.date_range(f"{profile.first_year}-01-01", f"{profile.last_year}-12-31")
    daily_change, spring, autumn, spin_up = [], [], [], []
    map_days = days.year == profile.map_year
    for crop in crops.CROPS:
        m = meta[meta["crops"] == crop]
        if m.empty:
            continue
        rows, cols = m["row"].to_numpy(), m["col"].to_numpy()
        run = world.simulate_pattern(statics, weather_ds, rows, cols, m["pattern"].to_numpy(),
                                     first, days[-1], days, seed, out_layers=2)
        daily_change.append(np.abs(np.diff(run.sm[0], axis=0)))
        if truth is not None:  # every 30th day: the store is chunked by day
            sample = np.nonzero(map_days)[0][::30]
            stored = truth["sm"].sel(crop=crop, depth=crops.DEPTHS[0]).isel(
                time=np.arange(map_days.sum())[::30], y=xr.DataArray(rows),
                x=xr.DataArray(cols)).values
            spin_up.append(np.abs(run.sm[0, sample] - stored).ravel())
        dry = m["zone"].isin([1, 2]).to_numpy()
        if not dry.any():
            continue
        rain = intermittent_sample(weather_ds["pre"].sel(time=days).values,
                                   weather_ds["lat"].values, weather_ds["lon"].values,
                                   m["lat"].to_numpy()[dry], m["lon"].to_numpy()[dry])
        root_zone = run.sm[:2, :, dry].mean(axis=0)
        for year in range(profile.first_year, profile.last_year):
            fall = (days.year == year) & days.month.isin([9, 10, 11])
            march = (days.year == year + 1) & (days.month == 3) & (days.day <= 15)
            autumn.append(rain[fall].sum(axis=0))
            spring.append(root_zone[march].mean(axis=0))
    change = np.concatenate(daily_change, axis=1).mean(axis=1)
    day = days[1:]
    seam = (day.day == 1) & day.month.isin([1, 10])
    near = np.zeros(len(day), bool)
    for seam_day in day[seam]:
        near |= np.abs((day - seam_day).days) <= 15
    test = stats.mannwhitneyu(change[seam], change[near & ~seam])
    judged = profile.last_year - profile.first_year + 1 >= 10
    out: dict = {
        "seam_days": int(seam.sum()),
        "seam_mannwhitney_pvalue": round(float(test.pvalue), 4),
        "mean_abs_change_seam": round(float(change[seam].mean()), 5),
        "mean_abs_change_other": round(float(change[near & ~seam].mean()), 5),
        "seam_passed": bool(test.pvalue > 0.01) if judged else None,
    }
    if spin_up:
        gap = np.concatenate(spin_up)
        out.update(spin_up_mean_abs_difference=round(float(np.nanmean(gap)), 5),
                   spin_up_p99_abs_difference=round(float(np.nanpercentile(gap, 99)), 5))
    if autumn:
        a, sp = np.concatenate(autumn), np.concatenate(spring)
        r = stats.pearsonr(a, sp)
        out.update(autumn_rain_vs_march_sm_r=round(float(r.statistic), 3),
                   autumn_rain_vs_march_sm_pvalue=float(r.pvalue), station_years=int(a.size),
                   memory_passed=bool(r.statistic > 0 and r.pvalue < 0.05))
    return out


def spring_wheat_figures(covariates: xr.Dataset, meta: pd.DataFrame) -> dict:
    """Spring wheat's share of the wheat area, and its stations."""
    wheat = covariates["crop_fraction"].sel(crop="wheat").values
    spring = covariates["spring_wheat"].values.astype(bool)
    area = np.nansum(wheat)
    wheat_meta = meta[meta["crops"] == "wheat"]
    return {
        "area_share": round(float(np.nansum(wheat[spring]) / area), 3) if area else None,
        "stations": int((wheat_meta["pattern"] == 3).sum()),
        "station_share": round(float((wheat_meta["pattern"] == 3).mean()), 3)
        if len(wheat_meta) else None,
    }


def stored_truth_bounds(truth: xr.Dataset, covariates: xr.Dataset, every: int = 30) -> dict:
    """Stored truth outside [residual, saturation], checked on every ``every``-th day.

    Stored values are rounded to 1e-4 m³ m⁻³, so half a quantum is allowed.
    """
    resid = covariates["residual"].values
    sat = covariates["saturation"].values
    below = above = n_values = 0
    for t in range(0, truth.sizes["time"], every):
        sm = truth["sm"].isel(time=t).values  # (crop, depth, y, x)
        valid = np.isfinite(sm)
        below += int((valid & (sm < resid - 5e-5)).sum())
        above += int((valid & (sm > sat + 5e-5)).sum())
        n_values += int(valid.sum())
    return {"values": n_values, "below_residual": below, "above_saturation": above,
            "days_checked": len(range(0, truth.sizes["time"], every))}


def _by_crop_depth(values: pd.Series) -> dict[str, float]:
    """``{"crop/depth": value}`` of a Series indexed by crop and depth."""
    index = values.index
    return {f"{c}/{d}": float(v) for c, d, v in zip(index.get_level_values(0),
                                                    index.get_level_values(1), values,
                                                    strict=True)}


def run_checks(statics, weather_ds: xr.Dataset, meta: pd.DataFrame, obs: pd.DataFrame,
               truth_path: Path, profile: Profile, simulated_bounds: dict,
               ghcn: pd.DataFrame, seed: int) -> dict:
    """All check figures of a build, as a JSON-friendly dict.

    ``simulated_bounds`` counts every simulated value outside [residual, saturation]
    (before storage); the stored truth is re-checked on a sample of days. ``ghcn`` is
    the daily record (``prcp`` mm, ``tmax``/``tmin`` °C) the weather was calibrated on.
    """
    figures: dict = {}
    lat_ax, lon_ax = weather_ds["lat"].values, weather_ds["lon"].values
    lon, lat = NAMED_PLACES["Beijing"]
    years = (profile.first_year, profile.last_year)
    if lat_ax[0] <= lat <= lat_ax[-1] and lon_ax[0] <= lon <= lon_ax[-1]:
        figures["rain_beijing"] = rain_check(weather_ds, ghcn["prcp"], lon, lat, years)
        figures["temperature_beijing"] = temperature_check(weather_ds, ghcn, lon, lat, years)
    figures["annual_precip_mm"] = named_place_totals(weather_ds, years)

    truth = open_zarr(truth_path)
    cov = statics.ds
    stored = stored_truth_bounds(truth, cov)
    outside = (simulated_bounds["below_residual"] + simulated_bounds["above_saturation"]
               + stored["below_residual"] + stored["above_saturation"])
    figures["truth_bounds"] = {**simulated_bounds, "stored": stored, "passed": outside == 0}
    figures["irrigation_events_per_pixel"] = irrigation_by_zone(truth, cov)
    figures["continuity"] = continuity_check(statics, weather_ds, meta, profile, seed, truth)
    figures["spring_wheat"] = spring_wheat_figures(cov, meta)

    per = obs.groupby(["crop", "depth"], observed=True)["sm"]
    figures["stations"] = {
        "count": meta.groupby("crops").size().to_dict(),
        "samples": int(len(obs)),
        "samples_by_crop_depth": {k: int(n) for k, n in _by_crop_depth(per.size()).items()},
        "sm_mean": {k: round(v, 4) for k, v in _by_crop_depth(per.mean()).items()},
        "sm_std": {k: round(v, 4) for k, v in _by_crop_depth(per.std()).items()},
        "observation_days": sorted(int(d) for d in pd.DatetimeIndex(obs["date"]).day.unique()),
        "sm_mean_all": round(float(obs["sm"].mean()), 4),
    }
    st = figures["stations"]
    st["passed"] = bool(0.15 <= st["sm_mean_all"] <= 0.30
                        and set(st["observation_days"]) <= {8, 18, 28})
    stage_ok = all(set(obs.loc[obs["crop"] == c, "phenology"].unique()) <= set(crops.STAGES[c])
                   for c in crops.CROPS)
    st["phenology_names_ok"] = bool(stage_ok)
    surface = obs[obs["depth"] == "0-10cm"].groupby("crop", observed=True)["sm"].std()
    st["sd_0_10cm_in_0.07_0.10"] = {str(c): bool(0.07 <= v <= 0.10) for c, v in surface.items()}
    winter = pd.DatetimeIndex(obs["date"]).month.isin([12, 1, 2])
    zones, counts = np.unique(obs.loc[winter & (obs["depth"] == "0-10cm"), "zone"].to_numpy(),
                              return_counts=True)
    st["winter_samples_by_zone"] = {landscape.ZONES[int(z)][0]: int(n)
                                    for z, n in zip(zones, counts, strict=True)}
    return figures


_VERDICT = {True: "PASS", False: "FAIL", None: "too few years to judge"}


def format_report(result: dict) -> str:
    """Human-readable summary of a build's figures."""
    c = result["checks"]
    lines = [f"CropSM demo world: profile={result['profile']} seed={result['seed']} "
             f"grid={result['grid_shape'][0]}x{result['grid_shape'][1]} (1 km)"]
    lines.append(f"  cropland pixels: {result['cropland_pixels']}")
    t = result["timings"]
    lines.append(f"  build time: {t['total_s']:.1f} s "
                 f"(covariates {t['covariates_s']:.1f}, weather {t['weather_s']:.1f}, "
                 f"stations {t['stations_s']:.1f}, truth {t['truth_s']:.1f}); "
                 f"size on disk {result['size_bytes'] / 1e6:.1f} MB")
    if "rain_beijing" in c:
        r = c["rain_beijing"]
        lines.append(f"  rain at Beijing {r['years'][0]}-{r['years'][1]}: "
                     f"{r['months_within_20pct']}/12 months within 20% of GHCN-Daily "
                     f"({_VERDICT[r['passed']]})")
        for row in r["table"]:
            lines.append("    month {month:2d}: wet-day freq obs {obs_wet_freq:.3f} gen "
                         "{gen_wet_freq:.3f} | total obs {obs_total_mm:6.1f} gen "
                         "{gen_total_mm:6.1f} mm".format(**row))
    lines.append(f"  annual precipitation (mm): {c['annual_precip_mm']}")
    b = c["truth_bounds"]
    s = b["stored"]
    lines.append(f"  truth within [residual, saturation]: {b['values']} simulated values, "
                 f"{b['below_residual']} below, {b['above_saturation']} above; stored "
                 f"({s['days_checked']} days): {s['below_residual']} below, "
                 f"{s['above_saturation']} above ({_VERDICT[b['passed']]})")
    if "temperature_beijing" in c:
        tb = c["temperature_beijing"]
        lines.append(f"  temperature anomaly sd at Beijing: {tb['months_within_20pct']}/12 "
                     f"months within 20% of GHCN-Daily, rms ratio {tb['rms_ratio']} "
                     f"({_VERDICT[tb['passed']]}); generated "
                     f"{tb['generated_sd']}, GHCN {tb['ghcn_sd']} K")
    lines.append(f"  irrigation events per pixel in the map year: "
                 f"{c['irrigation_events_per_pixel']}")
    if "continuity" in c:
        k = c["continuity"]
        lines.append(f"  continuity: |dSM| on 1 Oct/1 Jan {k['mean_abs_change_seam']} vs the "
                     f"fortnight around {k['mean_abs_change_other']} ({k['seam_days']} days; "
                     f"Mann-Whitney p {k['seam_mannwhitney_pvalue']}, "
                     f"{_VERDICT[k['seam_passed']]})")
        if "spin_up_mean_abs_difference" in k:
            lines.append(f"  spin-up: map-year 0-10 cm at station pixels, the stations' run vs "
                         f"one year of spin-up: mean |diff| "
                         f"{k['spin_up_mean_abs_difference']}, 99th "
                         f"percentile {k['spin_up_p99_abs_difference']} m3 m-3")
        if "autumn_rain_vs_march_sm_r" in k:
            lines.append(f"  memory: r(Sep-Nov rain, early-March SM) in NAS/LP = "
                         f"{k['autumn_rain_vs_march_sm_r']} over {k['station_years']} "
                         f"station-years ({_VERDICT[k['memory_passed']]})")
    if "spring_wheat" in c:
        sw = c["spring_wheat"]
        lines.append(f"  spring wheat: {sw['area_share']} of the wheat area, "
                     f"{sw['stations']} stations")
    s = c["stations"]
    lines.append(f"  stations: {s['count']}, samples {s['samples']} "
                 f"{s['samples_by_crop_depth']}")
    lines.append(f"  station SM mean {s['sm_mean_all']} (by crop/depth {s['sm_mean']}, "
                 f"sd {s['sm_std']}); observation days {s['observation_days']} "
                 f"({_VERDICT[s['passed']]})")
    return "\n".join(lines)
