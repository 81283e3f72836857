"""Figures that show a built demo world is physically honest (``cropsm demo check``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from cropsm.core import crops
from cropsm.core.grid import bilinear_sample, intermittent_sample
from cropsm.demo import weather
from cropsm.demo.profiles import Profile
from cropsm.io.store import open_zarr

__all__ = ["format_report", "irrigation_contrast", "rain_check", "run_checks"]

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


def named_place_totals(weather_ds: xr.Dataset) -> dict[str, float]:
    """Mean annual precipitation (mm) of the generated weather at named places in the domain."""
    pre = weather_ds["pre"]
    year = pre["time"].dt.year.values
    counts = pd.Series(year).value_counts()
    whole = counts.index[counts >= 365]  # the spin-up autumn is not a whole year
    annual = pre.isel(time=np.nonzero(np.isin(year, whole))[0]).sum("time").values
    annual = annual / max(len(whole), 1)
    lat_ax, lon_ax = pre["lat"].values, pre["lon"].values
    out = {}
    for name, (lon, lat) in NAMED_PLACES.items():
        if lat_ax[0] <= lat <= lat_ax[-1] and lon_ax[0] <= lon <= lon_ax[-1]:
            out[name] = round(float(bilinear_sample(annual, lat_ax, lon_ax, lat, lon)), 1)
    return out


def irrigation_contrast(truth: xr.Dataset, covariates: xr.Dataset) -> dict:
    """Mean irrigation events per cropland pixel: irrigated vs other zones, near vs far rivers."""
    events = truth["irrigation_events"].values.astype("f8")
    events[events < 0] = np.nan
    zone = covariates["zone"].values
    river = covariates["river_distance"].values
    irrigated_zone = np.isin(zone, (1, 3))  # NAS and HP, China's most irrigated croplands
    out = {}
    for ci, crop in enumerate(truth["crop"].values):
        e = events[ci]
        valid = np.isfinite(e)

        def mean(mask, e=e, valid=valid):
            m = mask & valid
            return round(float(e[m].mean()), 3) if m.any() else None

        out[str(crop)] = {
            "irrigated_zones": mean(irrigated_zone), "other_zones": mean(~irrigated_zone),
            "river_lt_10km": mean(river < 10), "river_gt_40km": mean(river > 40),
        }
    return out


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
               ghcn: pd.Series) -> dict:
    """All check figures of a build, as a JSON-friendly dict.

    ``simulated_bounds`` counts every simulated value outside [residual, saturation]
    (before storage); the stored truth is re-checked on a sample of days. ``ghcn`` is
    the daily rain record (mm) the weather was calibrated on.
    """
    figures: dict = {}
    lat_ax, lon_ax = weather_ds["lat"].values, weather_ds["lon"].values
    lon, lat = NAMED_PLACES["Beijing"]
    if lat_ax[0] <= lat <= lat_ax[-1] and lon_ax[0] <= lon <= lon_ax[-1]:
        figures["rain_beijing"] = rain_check(weather_ds, ghcn, lon, lat,
                                             (profile.first_year, profile.last_year))
    figures["annual_precip_mm"] = named_place_totals(weather_ds)

    truth = open_zarr(truth_path)
    cov = statics.ds
    stored = stored_truth_bounds(truth, cov)
    outside = (simulated_bounds["below_residual"] + simulated_bounds["above_saturation"]
               + stored["below_residual"] + stored["above_saturation"])
    figures["truth_bounds"] = {**simulated_bounds, "stored": stored, "passed": outside == 0}
    figures["irrigation_events_per_pixel"] = irrigation_contrast(truth, cov)

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
    lines.append(f"  irrigation events per pixel in the map year: "
                 f"{c['irrigation_events_per_pixel']}")
    s = c["stations"]
    lines.append(f"  stations: {s['count']}, samples {s['samples']} "
                 f"{s['samples_by_crop_depth']}")
    lines.append(f"  station SM mean {s['sm_mean_all']} (by crop/depth {s['sm_mean']}, "
                 f"sd {s['sm_std']}); observation days {s['observation_days']} "
                 f"({_VERDICT[s['passed']]})")
    return "\n".join(lines)
