"""Static geography of the demo world on real boundaries, rivers, DEM and crop calendars.

What is real and what is approximated:

* Boundary, provinces and rivers are the real vector data in ``cropsm/_assets/maps``.
* Elevation is the real 0.2° DEM, bilinearly interpolated to 1 km.
* Agricultural zones are the seven regions of Cheng et al. (2022, Fig. 1) approximated
  from provinces (:data:`PROVINCE_ZONE`); Anhui and Jiangsu are split at 32.5 N
  (north: Huang-Huai-Hai Plain) and Gansu at 103.5 E (west: Hexi corridor, arid north).
* Soil texture is a smooth synthetic field driven by climate and zone (sandy in the
  arid north-west, silty on the Loess Plateau, clayey and organic in the north-east
  and the humid south), with hydraulic properties from Saxton & Rawls (2006).
* Harvested-area fractions are a province-level intensity (:data:`CROP_INTENSITY`,
  rough shares from provincial sown-area statistics) modulated by elevation, aridity
  (dry land is cropped only near rivers, as oases are) and smooth noise.

Smooth random fields are drawn on a fixed national 0.25° lattice and interpolated, so a
window (the ``tiny`` profile) sees exactly the same world as the national build.
"""

from __future__ import annotations

import numpy as np
from rasterio.features import rasterize
from scipy import ndimage

from cropsm.core.crops import CROPLAND_MIN_FRACTION
from cropsm.core.grid import Grid, bilinear_sample

__all__ = [
    "CROP_INTENSITY",
    "PROVINCE_ZONE",
    "ZONES",
    "agricultural_zones",
    "crop_fraction",
    "province_raster",
    "river_distance_km",
    "smooth_noise",
    "soil_texture",
]

#: Agricultural zones of Cheng et al. (2022), code -> (abbreviation, name).
ZONES: dict[int, tuple[str, str]] = {
    1: ("NAS", "Northern arid and semiarid region"),
    2: ("LP", "Loess Plateau"),
    3: ("HP", "Huang-Huai-Hai Plain"),
    4: ("SCB", "Sichuan Basin"),
    5: ("MYP", "Middle-lower Yangtze Plain"),
    6: ("YGP", "Yunnan-Guizhou Plateau and southern China"),
    7: ("QT", "Qinghai-Tibet region"),
}

#: Province adcode -> zone code (see the module docstring for the split provinces).
PROVINCE_ZONE: dict[int, int] = {
    110000: 3, 120000: 3, 130000: 3, 140000: 2, 150000: 1, 210000: 1, 220000: 1,
    230000: 1, 310000: 5, 320000: 5, 330000: 5, 340000: 5, 350000: 6, 360000: 5,
    370000: 3, 410000: 3, 420000: 5, 430000: 5, 440000: 6, 450000: 6, 460000: 6,
    500000: 4, 510000: 4, 520000: 6, 530000: 6, 540000: 7, 610000: 2, 620000: 2,
    630000: 7, 640000: 2, 650000: 1, 710000: 6, 810000: 6, 820000: 6,
}

#: Typical harvested fraction of land, by province; 0 where the crop is negligible.
CROP_INTENSITY: dict[str, dict[int, float]] = {
    "wheat": {
        410000: 0.55, 370000: 0.45, 130000: 0.30, 340000: 0.30, 320000: 0.30,
        120000: 0.20, 110000: 0.05, 610000: 0.15, 140000: 0.08, 420000: 0.10,
        510000: 0.08, 620000: 0.04, 650000: 0.03, 640000: 0.05, 150000: 0.01,
        530000: 0.02, 520000: 0.02, 500000: 0.02, 630000: 0.01, 230000: 0.005,
        330000: 0.01, 310000: 0.05,
    },
    "maize": {
        220000: 0.30, 230000: 0.15, 210000: 0.25, 150000: 0.04, 130000: 0.25,
        370000: 0.30, 410000: 0.30, 140000: 0.12, 610000: 0.06, 640000: 0.05,
        620000: 0.02, 650000: 0.02, 110000: 0.05, 120000: 0.15, 340000: 0.12,
        320000: 0.04, 510000: 0.05, 500000: 0.05, 530000: 0.05, 520000: 0.04,
        450000: 0.03, 420000: 0.03, 430000: 0.005,
    },
}

_LATTICE_LON = np.arange(70.0, 140.01, 0.25)
_LATTICE_LAT = np.arange(15.0, 56.01, 0.25)


def smooth_noise(seed: int, name: str, lon, lat, length_deg: float = 1.0) -> np.ndarray:
    """Unit-variance smooth random field, sampled at lon/lat points.

    The field lives on a fixed national 0.25° lattice, so every window of the world
    sees the same values for the same ``seed`` and ``name``.
    """
    key = [seed] + [ord(ch) for ch in name]
    rng = np.random.default_rng(np.random.SeedSequence(key))
    white = rng.standard_normal((_LATTICE_LAT.size, _LATTICE_LON.size))
    sigma = length_deg / 0.25
    field = ndimage.gaussian_filter(white, sigma, mode="reflect")
    field = (field - field.mean()) / field.std()
    return bilinear_sample(field.astype("f4"), _LATTICE_LAT, _LATTICE_LON, lat, lon)


def province_raster(grid: Grid, provinces) -> np.ndarray:
    """Province adcode of every cell (0 outside China), from the province polygons."""
    shapes = [(grid.project(g), int(code))
              for g, code in zip(provinces["geometry"], provinces["adcode"], strict=True)]
    return rasterize(shapes, out_shape=grid.shape, transform=grid.transform, fill=0,
                     dtype="int32")


def agricultural_zones(adcode: np.ndarray, lon, lat) -> np.ndarray:
    """Zone code (see :data:`ZONES`) of every cell; 0 outside China."""
    lut = np.zeros(adcode.max() + 1 if adcode.size else 1, dtype="i1")
    for code, zone_code in PROVINCE_ZONE.items():
        if code < lut.size:
            lut[code] = zone_code
    zone = lut[adcode]
    north = lat >= 32.5
    zone = np.where(np.isin(adcode, (340000, 320000)) & north, 3, zone)
    zone = np.where((adcode == 620000) & (lon < 103.5), 1, zone)
    return zone.astype("i1")


def river_distance_km(grid: Grid, rivers, margin_cells: int = 300) -> np.ndarray:
    """Euclidean distance (km) from each cell centre to the nearest river cell.

    Rivers are burnt into a grid padded by ``margin_cells`` so that a window sees rivers
    just outside it; farther than the margin, distances are a lower bound of the
    national ones.
    """
    rows, cols = grid.shape
    padded = grid.padded(margin_cells)
    lines = [padded.project(r) for r in rivers]
    burnt = rasterize([(g, 1) for g in lines], out_shape=padded.shape,
                      transform=padded.transform, fill=0, all_touched=True, dtype="uint8")
    if not burnt.any():
        return np.full(grid.shape, np.float32(margin_cells * grid.resolution / 1000.0))
    dist = ndimage.distance_transform_edt(burnt == 0) * (grid.resolution / 1000.0)
    return dist[margin_cells:margin_cells + rows, margin_cells:margin_cells + cols].astype("f4")


def soil_texture(seed: int, lon, lat, annual_precip, zone
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sand and clay mass fractions and organic matter (%) of the topsoil."""
    wet = np.clip((np.log(np.maximum(annual_precip, 20.0)) - np.log(150.0))
                  / (np.log(1800.0) - np.log(150.0)), 0.0, 1.0)
    n1 = smooth_noise(seed, "sand", lon, lat, 1.5)
    n2 = smooth_noise(seed, "clay", lon, lat, 1.5)
    n3 = smooth_noise(seed, "organic", lon, lat, 2.0)
    sand = 0.72 - 0.50 * wet + 0.08 * n1
    clay = 0.08 + 0.22 * wet + 0.05 * n2
    loess = zone == 2
    sand = np.where(loess, sand - 0.15, sand)
    clay = np.where(loess, clay - 0.04, clay)
    northeast = (lon > 120.0) & (lat > 41.0)
    om = 0.4 + 2.0 * wet + 0.4 * n3 + np.where(northeast, 1.5, 0.0)
    sand = np.clip(sand, 0.05, 0.90).astype("f4")
    clay = np.clip(clay, 0.03, 0.55).astype("f4")
    clay = np.minimum(clay, 0.95 - sand)
    return sand, clay, np.clip(om, 0.2, 6.0).astype("f4")


def crop_fraction(seed: int, crop: str, adcode: np.ndarray, lon, lat, elevation,
                  annual_precip, river_km) -> np.ndarray:
    """Harvested-area fraction (0-1) of ``crop`` in every cell."""
    lut = np.zeros(adcode.max() + 1 if adcode.size else 1, dtype="f4")
    for code, value in CROP_INTENSITY[crop].items():
        if code < lut.size:
            lut[code] = value
    intensity = lut[adcode]
    max_elev = 3000.0 if crop == "wheat" else 2300.0
    elev_ok = np.clip((max_elev - np.nan_to_num(elevation, nan=9999.0)) / 500.0, 0.0, 1.0)
    rainfed = np.clip((annual_precip - 250.0) / 200.0, 0.0, 1.0)
    oasis = np.exp(-river_km / 12.0)
    water_ok = np.maximum(rainfed, oasis)
    noise = np.exp(0.6 * smooth_noise(seed, f"crop-{crop}", lon, lat, 0.5) - 0.18)
    frac = np.clip(intensity * elev_ok * water_ok * noise, 0.0, 0.95).astype("f4")
    return np.where(frac >= CROPLAND_MIN_FRACTION, frac, np.float32(0.0))
