"""Daily weather of the demo world: a stochastic rain generator calibrated on GHCN-Daily.

Calibration (:func:`calibrate_rain`) takes the monthly wet-day frequency, mean wet-day
amount and gamma shape of the amounts from a real station record (Beijing,
CHM00054511, 1993-2018 by default). A wet day has at least :data:`WET_DAY_MM`.

Across China the generator keeps Beijing's shape and rescales it
(:func:`local_rain_parameters`):

* the annual total follows an interpolation of published climate normals of named
  cities (:data:`ANNUAL_PRECIP_ANCHORS`, approximate 1981-2010 CMA normals),
  which gives the south-east to north-west gradient;
* the seasonal cycle flattens towards the south and the far west, where the summer
  monsoon dominates less;
* the extra (or missing) monthly rain is split evenly, on a log scale, between
  more wet days and heavier wet days.

Rain fields are generated on a coarse lon/lat grid (0.25 degrees by default) from
two latent Gaussian fields per day, smoothed in space to give spatially coherent rain
areas; the occurrence field also persists from one day to the next (AR(1)), so wet
spells last. Each realisation is then conditioned on its climate (see
:func:`generate_rain`), so every cell's monthly wet-day frequency and mean monthly
total over the generated period are the local climate's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import ndimage, special
from scipy.interpolate import RBFInterpolator

__all__ = [
    "ANNUAL_PRECIP_ANCHORS",
    "complete_years",
    "dates_of",
    "RainClimate",
    "annual_precip_climate",
    "calibrate_rain",
    "generate_rain",
    "local_rain_parameters",
    "rain_statistics",
]

WET_DAY_MM = 1.0

#: Approximate annual precipitation normals (mm) of named places: (lon, lat, mm).
ANNUAL_PRECIP_ANCHORS: dict[str, tuple[float, float, float]] = {
    "Guangzhou": (113.26, 23.13, 1800), "Nanning": (108.32, 22.82, 1300),
    "Haikou": (110.34, 20.04, 1650), "Kunming": (102.71, 25.04, 1000),
    "Guiyang": (106.63, 26.65, 1120), "Chengdu": (104.07, 30.67, 870),
    "Chongqing": (106.55, 29.56, 1100), "Changsha": (112.94, 28.23, 1450),
    "Nanchang": (115.86, 28.68, 1600), "Fuzhou": (119.30, 26.07, 1390),
    "Hangzhou": (120.16, 30.27, 1450), "Shanghai": (121.47, 31.23, 1170),
    "Nanjing": (118.80, 32.06, 1060), "Wuhan": (114.31, 30.59, 1270),
    "Hefei": (117.23, 31.82, 1000), "Zhengzhou": (113.62, 34.75, 640),
    "Jinan": (117.00, 36.65, 690), "Xi'an": (108.94, 34.34, 560),
    "Taiyuan": (112.55, 37.87, 450), "Shijiazhuang": (114.51, 38.04, 520),
    "Tianjin": (117.20, 39.13, 560), "Shenyang": (123.43, 41.80, 690),
    "Changchun": (125.32, 43.82, 600), "Harbin": (126.53, 45.80, 530),
    "Hohhot": (111.75, 40.84, 400), "Yinchuan": (106.23, 38.49, 190),
    "Lanzhou": (103.83, 36.06, 320), "Xining": (101.78, 36.62, 400),
    "Lhasa": (91.13, 29.65, 440), "Urumqi": (87.62, 43.83, 290),
    "Kashgar": (75.99, 39.47, 65), "Hotan": (79.93, 37.11, 40),
    "Ruoqiang": (88.17, 39.02, 30), "Dunhuang": (94.66, 40.14, 40),
    "Ejina": (101.07, 41.95, 35), "Hailar": (119.77, 49.22, 360),
    "Golmud": (94.90, 36.40, 45), "Yushu": (97.0, 33.0, 480),
    "Nagqu": (92.05, 31.48, 430), "Shiquanhe": (80.10, 32.50, 70),
    "Hami": (93.51, 42.82, 40), "Altay": (88.13, 47.85, 200),
    "Qingdao": (120.38, 36.07, 660), "Dalian": (121.60, 38.91, 600),
    "Mohe": (122.52, 52.97, 460), "Xiamen": (118.09, 24.48, 1350),
    "Lijiang": (100.23, 26.87, 970), "Ya'an": (103.00, 29.98, 1700),
    "Erenhot": (111.97, 43.65, 140), "Xilinhot": (116.07, 43.95, 280),
    "Beijing": (116.28, 39.93, np.nan),  # filled from the calibration record
}


@dataclass(frozen=True)
class RainClimate:
    """Monthly rain statistics of the calibration station (index 0 = January)."""

    lon: float
    lat: float
    wet_prob: np.ndarray  # probability of a wet day
    wet_mean: np.ndarray  # mean amount on wet days, mm
    gamma_shape: np.ndarray  # shape of (amount - WET_DAY_MM) on wet days
    annual_total: float  # mm / year

    @property
    def monthly_total(self) -> np.ndarray:
        """Mean monthly totals, mm (non-leap year)."""
        return DAYS_IN_MONTH * self.wet_prob * self.wet_mean


#: Days in each month of a non-leap year.
DAYS_IN_MONTH = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype="f8")


def dates_of(series: pd.Series) -> pd.DatetimeIndex:
    """The index of a daily station series, which must be dates."""
    if not isinstance(series.index, pd.DatetimeIndex):
        raise TypeError(f"Expected a daily series indexed by date, got a "
                        f"{type(series.index).__name__}.")
    return series.index


def complete_years(prcp: pd.Series, min_days: int = 330) -> pd.Series:
    """Keep only the years with at least ``min_days`` reported days.

    The Beijing GHCN-Daily record reports only about 100 days a year in 2013-2019,
    nearly all of them wet, so those years would bias the wet-day frequency high.
    """
    prcp = prcp.dropna()
    year = dates_of(prcp).year
    counts = prcp.groupby(year).size()
    good = counts.index[counts >= min_days]
    return prcp.loc[np.isin(year, good)]


def rain_statistics(prcp: pd.Series) -> pd.DataFrame:
    """Monthly wet-day frequency and mean monthly total of a daily series (mm), NaN-aware.

    Totals are mean daily rain over the reported days times the days in the month, so
    missing days do not bias them low.
    """
    prcp = prcp.dropna()
    month = dates_of(prcp).month
    freq = (prcp >= WET_DAY_MM).groupby(month).mean()
    total = prcp.groupby(month).mean() * DAYS_IN_MONTH[freq.index - 1]
    return pd.DataFrame({"wet_freq": freq, "total_mm": total}).rename_axis("month")


def calibrate_rain(prcp: pd.Series, lon: float, lat: float,
                   years: tuple[int, int] = (1993, 2018)) -> RainClimate:
    """Fit the monthly rain parameters to a daily station record (mm).

    Only complete years (:func:`complete_years`) within ``years`` are used.
    """
    year = dates_of(prcp).year
    sel = complete_years(prcp.loc[(year >= years[0]) & (year <= years[1])])
    if len(sel) < 365 * 5:
        raise ValueError(f"Need at least five years of daily rain in {years}, got {len(sel)} days")
    month = dates_of(sel).month
    wet = sel >= WET_DAY_MM
    prob = wet.groupby(month).mean().reindex(range(1, 13)).to_numpy()
    amounts = sel[wet]
    wet_month = dates_of(amounts).month
    mean = amounts.groupby(wet_month).mean().reindex(range(1, 13)).to_numpy()
    excess = amounts - WET_DAY_MM
    m1 = excess.groupby(wet_month).mean().reindex(range(1, 13)).to_numpy()
    var = excess.groupby(wet_month).var().reindex(range(1, 13)).to_numpy()
    shape = np.clip(np.nan_to_num(m1**2 / var, nan=0.7), 0.3, 3.0)
    annual = float(np.sum(DAYS_IN_MONTH * prob * mean))
    return RainClimate(lon, lat, prob, mean, shape, annual)


def annual_precip_climate(lon, lat, climate: RainClimate) -> np.ndarray:
    """Climatological annual precipitation (mm) interpolated from the named anchors.

    Log-precipitation is interpolated with a smoothed thin-plate spline in lon/lat, so
    the field passes close to each anchor and exactly through the calibration station.
    """
    names = list(ANNUAL_PRECIP_ANCHORS)
    pts = np.array([ANNUAL_PRECIP_ANCHORS[n][:2] for n in names])
    vals = np.array([ANNUAL_PRECIP_ANCHORS[n][2] for n in names], dtype="f8")
    vals[names.index("Beijing")] = climate.annual_total
    rbf = RBFInterpolator(pts, np.log(vals), kernel="thin_plate_spline", smoothing=0.5)
    lon, lat = np.broadcast_arrays(np.asarray(lon, "f8"), np.asarray(lat, "f8"))
    field = np.exp(rbf(np.column_stack([lon.ravel(), lat.ravel()]))).reshape(lon.shape)
    at_station = np.exp(rbf([[climate.lon, climate.lat]]))[0]
    # Rescale so the calibration station's own total is reproduced exactly.
    return np.clip(field * climate.annual_total / at_station, 15.0, 2500.0)


def _seasonality_exponent(lon, lat) -> np.ndarray:
    """1 at North China's monsoon climate, lower where rain is spread over more months."""
    south = np.clip(1.0 - 0.033 * np.maximum(39.9 - lat, 0.0), 0.45, 1.0)
    west = 1.0 / (1.0 + np.exp((lon - 88.0) / 2.0))  # Xinjiang's westerly regime
    return south * (1 - west) + 0.6 * west


def local_rain_parameters(climate: RainClimate, lon, lat, annual_total
                          ) -> tuple[np.ndarray, np.ndarray]:
    """Wet-day probability and mean wet-day amount, shape ``(12, *lon.shape)``."""
    lon, lat, annual_total = np.broadcast_arrays(*(np.asarray(a, "f8")
                                                  for a in (lon, lat, annual_total)))
    share_bj = climate.monthly_total / climate.monthly_total.sum()
    alpha = _seasonality_exponent(lon, lat)
    share = share_bj.reshape((12,) + (1,) * lon.ndim) ** alpha
    share = share / share.sum(axis=0)
    monthly = annual_total * share
    ratio = monthly / climate.monthly_total.reshape(share_bj.shape + (1,) * lon.ndim)
    prob = np.clip(climate.wet_prob.reshape(ratio.shape[:1] + (1,) * lon.ndim)
                   * np.sqrt(ratio), 0.002, 0.85)
    dim = DAYS_IN_MONTH.reshape(prob.shape[:1] + (1,) * lon.ndim)
    mean = np.maximum(monthly / (dim * prob), WET_DAY_MM + 0.2)
    return prob, mean


def _unit_gamma_quantile_table(shapes: np.ndarray, n: int = 4097) -> tuple[np.ndarray, np.ndarray]:
    """Quantiles of unit-mean gamma distributions on a probability grid, per month."""
    u = (np.arange(n) + 0.5) / n
    table = np.stack([special.gammaincinv(k, u) / k for k in shapes])
    return u, table


def _smoother(sigma: float) -> tuple[float, int]:
    impulse = np.zeros((int(8 * sigma) + 1,) * 2)
    impulse[impulse.shape[0] // 2, impulse.shape[1] // 2] = 1.0
    kernel = ndimage.gaussian_filter(impulse, sigma, mode="constant")
    return float(np.sqrt((kernel**2).sum())), int(4 * sigma)


def generate_rain(climate: RainClimate, lon: np.ndarray, lat: np.ndarray,
                  annual_total: np.ndarray, dates: pd.DatetimeIndex, seed: int,
                  length_cells: float = 3.0, persistence: float = 0.45,
                  chunk_days: int = 366) -> np.ndarray:
    """Daily rain (mm) on a regular lon/lat grid.

    The realisation is conditioned on its climate: at every cell and for every calendar
    month, the wet-day frequency over the generated period equals the local wet-day
    probability (the threshold on the latent field is that month's empirical quantile
    rather than the theoretical one), and the mean monthly total equals the local
    climatological total (wet-day excess amounts are rescaled). Day-to-day sequences,
    spatial patterns and year-to-year variability stay random. Without the conditioning,
    26 years hold too few winter wet days (about 15 in January at Beijing) for a
    realisation to reproduce its own climate within 20 %.

    Parameters
    ----------
    climate : RainClimate
        Calibration from :func:`calibrate_rain`.
    lon, lat : numpy.ndarray
        1-D axes of the coarse grid (degrees).
    annual_total : numpy.ndarray
        Climatological annual precipitation (mm), shape ``(lat.size, lon.size)``.
    dates : pandas.DatetimeIndex
        Consecutive days to generate.
    seed : int
        Random seed; the same seed, grid and dates give the same rain.
    length_cells : float
        Standard deviation of the Gaussian smoothing of the latent fields, in cells.
    persistence : float
        Lag-1 autocorrelation of the latent occurrence field.

    Returns
    -------
    numpy.ndarray
        float32, shape ``(dates.size, lat.size, lon.size)``.
    """
    lon2, lat2 = np.meshgrid(lon, lat)
    prob, mean = local_rain_parameters(climate, lon2, lat2, annual_total)
    occurrence, amount_u = _latent_fields(lon2.shape, len(dates), seed, length_cells,
                                          persistence, chunk_days)
    u_grid, table = _unit_gamma_quantile_table(climate.gamma_shape)
    months = dates.month.to_numpy() - 1
    out = np.zeros(occurrence.shape, dtype="f4")
    for m in range(12):
        days = np.nonzero(months == m)[0]
        if days.size == 0:
            continue
        latent = occurrence[days]
        n_dry = np.clip(np.rint((1.0 - prob[m]) * days.size).astype("i8"), 0, days.size - 1)
        threshold = np.take_along_axis(np.sort(latent, axis=0), n_dry[None], axis=0)
        wet = latent >= threshold
        excess = (mean[m] - WET_DAY_MM)[None] * np.interp(amount_u[days], u_grid, table[m])
        excess = np.where(wet, excess, 0.0)
        target = days.size * prob[m] * (mean[m] - WET_DAY_MM)
        got = excess.sum(axis=0)
        scale = np.where(got > 0, target / np.where(got > 0, got, 1.0), 1.0)
        out[days] = np.where(wet, WET_DAY_MM + excess * scale[None], 0.0)
    return out


def _latent_fields(shape: tuple[int, int], n_days: int, seed: int, length_cells: float,
                   persistence: float, chunk_days: int) -> tuple[np.ndarray, np.ndarray]:
    """Spatially smooth unit-variance latent fields: AR(1) occurrence and uniform amounts."""
    norm, pad = _smoother(length_cells)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x7261696E]))
    occurrence = np.empty((n_days,) + shape, dtype="f4")
    amount_u = np.empty((n_days,) + shape, dtype="f4")
    innov = np.sqrt(1.0 - persistence**2)
    state = None
    for start in range(0, n_days, chunk_days):
        stop = min(start + chunk_days, n_days)
        noise = rng.standard_normal((2, stop - start, shape[0] + 2 * pad, shape[1] + 2 * pad))
        fields = ndimage.gaussian_filter(noise, (0, 0, length_cells, length_cells),
                                         mode="wrap")[:, :, pad:pad + shape[0], pad:pad + shape[1]]
        fields /= norm
        amount_u[start:stop] = special.ndtr(fields[1])
        for i in range(stop - start):
            state = fields[0, i] if state is None else persistence * state + innov * fields[0, i]
            occurrence[start + i] = state
    return occurrence, amount_u
