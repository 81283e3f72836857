"""The landscape of China every CropSM grid shares: zones, provinces, rivers, aridity.

Used by the demo world and by ``cropsm ingest`` alike, so a window ingested from real
files and the demo build classify the same cell the same way.

Agricultural zones are the seven regions of Cheng et al. (2022, Fig. 1) approximated
from provinces (:data:`PROVINCE_ZONE`); Anhui and Jiangsu are split at 32.5 N (north:
Huang-Huai-Hai Plain) and Gansu at 103.5 E (west: Hexi corridor, arid north).
"""

from __future__ import annotations

import numpy as np
from rasterio.features import rasterize
from scipy import ndimage

from cropsm.core.grid import Grid

__all__ = [
    "GANSU",
    "HEXI_CORRIDOR_LON",
    "PROVINCE_ZONE",
    "ZONES",
    "agricultural_zones",
    "moisture_index",
    "province_raster",
    "river_distance_km",
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

GANSU = 620000
#: Gansu west of this longitude is the Hexi corridor (arid north, spring wheat).
HEXI_CORRIDOR_LON = 103.5


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
    zone = np.where((adcode == GANSU) & (lon < HEXI_CORRIDOR_LON), 1, zone)
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


def moisture_index(annual_precip, annual_pet) -> np.ndarray:
    """Thornthwaite moisture index ``(P - PET) / PET`` (dimensionless, >= -1)."""
    pet = np.maximum(np.asarray(annual_pet, "f8"), 1.0)
    return ((np.asarray(annual_precip, "f8") - pet) / pet).astype("f4")
