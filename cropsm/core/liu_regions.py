"""The eight regions of China in Liu et al. (2021), as whole provinces.

Liu et al. (2021, section 2b6, Table 3 and Fig. 2) start from the usual division of China
into seven geographical regions, north, northeast, northwest, east, central, south and
southwest (Fu et al. 1999; Ren and Bao 1992; Zheng and Yang 1997), and separate the
Huang-Huai-Hai plain (HHH; Lei et al. 2018) from the north, east and central regions
because its environment and its cropping pattern (winter wheat + summer maize) are
uniform. Their Figs. 9-10 summarise SM by these eight regions and for China (CHN).

The seven regions are the standard ones (the provinces of each are listed in
:data:`REGION_PROVINCES`). Lei et al.'s HHH is Beijing, Tianjin, Hebei, Shandong and
Henan plus the parts of Jiangsu and Anhui north of the Huai River. CropSM's province
outlines are whole provinces, so a province goes to one region:

* **HHH = Beijing, Tianjin, Hebei, Shandong, Henan**, taken whole from the north (Beijing,
  Tianjin, Hebei), the east (Shandong) and central China (Henan);
* **Jiangsu and Anhui stay in the east**, as in the seven-region division. Only their
  parts north of the Huai River are HHH; moving the whole provinces would add their
  southern parts (the Yangtze-Huai plain, with rice-wheat and rapeseed rotations) to
  HHH. On the demo world's 25 km lattice, with 33° N standing in for the Huai, 60 of
  Jiangsu's 146 cropland cells and 45 of Anhui's 221 lie north of it, so keeping both
  in the east misplaces fewer cells than moving them. The price: the double-cropped
  Huaibei plain counts in the east.

Hong Kong and Macao (south) and Taiwan (east) are listed so that every province of the
bundled outlines has a region; the demo world has no cropland there.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from cropsm.core.regions import RegionError

__all__ = ["CHINA", "LIU_REGIONS", "REGION_PROVINCES", "province_regions", "region_of_points"]

#: Liu et al.'s regions, code -> name, in the order of their Fig. 10.
LIU_REGIONS: dict[str, str] = {
    "NE": "northeast",
    "N": "north",
    "E": "east",
    "S": "south",
    "C": "central",
    "NW": "northwest",
    "SW": "southwest",
    "HHH": "Huang-Huai-Hai",
}

#: The code of all of China (Liu et al.'s CHN): every cropland cell, in a region or not.
CHINA = "CHN"

#: The provinces (``name_en`` of the bundled outlines) of each of :data:`LIU_REGIONS`.
#: The standard seven regions, with Beijing, Tianjin, Hebei, Shandong and Henan moved
#: into HHH (see the module's notes for Jiangsu and Anhui).
REGION_PROVINCES: dict[str, tuple[str, ...]] = {
    "NE": ("Heilongjiang", "Jilin", "Liaoning"),
    "N": ("Shanxi", "Inner Mongolia"),
    "E": ("Shanghai", "Jiangsu", "Zhejiang", "Anhui", "Fujian", "Jiangxi", "Taiwan"),
    "S": ("Guangdong", "Guangxi", "Hainan", "Hong Kong", "Macao"),
    "C": ("Hubei", "Hunan"),
    "NW": ("Shaanxi", "Gansu", "Qinghai", "Ningxia", "Xinjiang"),
    "SW": ("Chongqing", "Sichuan", "Guizhou", "Yunnan", "Tibet (Xizang)"),
    "HHH": ("Beijing", "Tianjin", "Hebei", "Shandong", "Henan"),
}


def province_regions() -> dict[str, str]:
    """Province name -> region code, inverted from :data:`REGION_PROVINCES`.

    Raises
    ------
    ValueError
        A province is listed in two regions (a broken constant, not a user error).
    """
    out: dict[str, str] = {}
    for region, names in REGION_PROVINCES.items():
        for name in names:
            if name in out:
                raise ValueError(f"{name} is in both {out[name]} and {region}.")
            out[name] = region
    return out


def region_of_points(lon, lat, provinces: pd.DataFrame) -> np.ndarray:
    """Liu et al.'s region of each point, from the province whose outline contains it.

    Parameters
    ----------
    lon, lat : array_like
        Points (degrees), e.g. grid-cell centres.
    provinces : pandas.DataFrame
        ``name_en`` and lon/lat ``geometry`` of each province
        (:func:`cropsm.io.assets.read_provinces`).

    Returns
    -------
    numpy.ndarray of str
        A key of :data:`LIU_REGIONS` per point; ``""`` for points in no province (on the
        simplified coast or border). Where simplified outlines overlap, the first
        province of the table wins.

    Raises
    ------
    RegionError
        A province of the table is not in :data:`REGION_PROVINCES`; the message names it.
    """
    lon = np.asarray(lon, "f8")
    lat = np.asarray(lat, "f8")
    of = province_regions()
    unknown = sorted(set(map(str, provinces["name_en"])) - set(of))
    if unknown:
        raise RegionError(f"Provinces {', '.join(unknown)} are not in Liu et al.'s regions "
                          "(cropsm.core.liu_regions.REGION_PROVINCES); add them there or "
                          "use the bundled province outlines.")
    out = np.full(lon.shape, "", dtype=object)
    for name, geometry in zip(provinces["name_en"], provinces["geometry"], strict=True):
        inside = shapely.contains_xy(geometry, lon, lat) & (out == "")
        out[inside] = of[str(name)]
    return out.astype(str)
