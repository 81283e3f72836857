"""A drought bulletin for a province or region and a dekad: a PNG map and a CSV table.

``cropsm bulletin --province Henan --dekad 2018-05-2`` and the dashboard's bulletin
button both call :func:`make_bulletin`. The dekad's map is the class of each cell's mean
over the dekad's days (of its percentile, or of its relative soil moisture for GB/T
grades); the table gives, for each province the region touches, the crop area in each
class of that map, and the region's daily class shares follow as a second table.
"""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cropsm.analysis.bulletin import class_areas, dekad_bounds
from cropsm.analysis.drought import drought_grade
from cropsm.analysis.map_layers import CATEGORY_COLOURS, GRADE_COLOURS
from cropsm.analysis.percentiles import drought_category
from cropsm.core.regions import RegionError, province_region
from cropsm.io import assets
from cropsm.io.export import csv_bytes
from cropsm.io.figures import class_map_png
from cropsm.pipelines.basemap import basemap_lines
from cropsm.pipelines.season import SCHEMES, RegionSeason, region_season
from cropsm.pipelines.sources import CatalogReader

__all__ = ["Bulletin", "make_bulletin"]

_LABELS = {"category": "drought category by SM percentile (USDM D0-D4)",
           "grade": "drought grade by relative SM (GB/T 32136-2015)"}


@dataclass(frozen=True)
class Bulletin:
    """A bulletin's files and tables.

    Attributes
    ----------
    png, csv : bytes
        The map and the per-province table (with a provenance header).
    table : pandas.DataFrame
        Crop area (km²) in each class per province, over the dekad's map.
    shares : pandas.DataFrame
        The region's daily class shares over the dekad.
    name : str
        A file stem, e.g. ``bulletin_Henan_wheat_0-10cm_2018-05-2_category``.
    """

    png: bytes
    csv: bytes
    table: pd.DataFrame
    shares: pd.DataFrame
    name: str

    def write(self, folder: str | Path) -> tuple[Path, Path]:
        """Write ``<name>.png`` and ``<name>.csv`` into ``folder`` (made if missing)."""
        from cropsm.io.store import write_bytes

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        return (write_bytes(self.png, folder / f"{self.name}.png"),
                write_bytes(self.csv, folder / f"{self.name}.csv"))


def _dekad_map(season: RegionSeason) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # cells without a value all dekad
        mean = np.nanmean(season.values.values, axis=0)
    codes = drought_category(mean) if season.scheme == "category" else drought_grade(mean)
    return np.asarray(codes)


def make_bulletin(catalog: CatalogReader | str | Path, crop: str, depth: str, dekad: str,
                  province: str | None = None, geometry: Any = None,
                  scheme: str = "category", region_name: str | None = None) -> Bulletin:
    """The bulletin of a province (by name or adcode) or a lon/lat region for a dekad.

    Parameters
    ----------
    catalog : CatalogReader or path
    crop, depth : str
    dekad : str
        ``YYYY-MM-D``, e.g. ``2018-05-2`` (11–20 May 2018).
    province : str, optional
        A province's English or Chinese name or adcode.
    geometry : shapely geometry, optional
        A region in lon/lat degrees, instead of ``province``.
    scheme : {"category", "grade"}
    region_name : str, optional
        Name of ``geometry`` on the map and in the file name (default "region").

    Raises
    ------
    ValueError
        A malformed dekad or unknown scheme.
    cropsm.core.regions.RegionError
        No or both of ``province``/``geometry``, an unknown province, or a region
        without the crop's cropland.
    cropsm.io.catalog.CatalogError
        The product has none of the dekad's days, or (``category``) no climatology. A
        dekad the product holds in part gives the bulletin of its days so far, and says
        so in its provenance.
    """
    if (province is None) == (geometry is None):
        raise RegionError("Give a province or a region, not both and not neither.")
    if scheme not in SCHEMES:
        raise ValueError(f"Unknown scheme {scheme!r}; choose one of {', '.join(SCHEMES)}.")
    first, last = dekad_bounds(dekad)
    provinces = assets.read_provinces()
    if province is not None:
        geometry = province_region(province, provinces)
        row = provinces[provinces["geometry"] == geometry].iloc[0]
        region_name = str(row["name_en"])
    name = region_name or "region"
    reader = catalog if isinstance(catalog, CatalogReader) else CatalogReader(catalog)
    season = region_season(reader, crop, depth, geometry, assets.read_boundary(), first, last,
                           scheme)
    days = season.codes["time"].values
    length = (last - first).days + 1
    codes = _dekad_map(season)
    names, fill = SCHEMES[scheme]
    zone_names = {int(a): str(n) for a, n in zip(provinces["adcode"], provinces["name_en"],
                                                strict=True)}
    table = class_areas(np.where(season.weights > 0, codes, fill), season.provinces,
                        zone_names, names, season.weights)
    if province is not None:
        # cells of the outline rasterised to a neighbour by the province layer
        table = table[table["zone"] == region_name].reset_index(drop=True)
    classes = CATEGORY_COLOURS if scheme == "category" else GRADE_COLOURS
    product = reader.product(0).attrs
    provenance: dict[str, object] = {
        "product": f"CropSM {crop} {depth}, {product.get('source', '')}",
        "dekad": f"{dekad} ({first:%Y-%m-%d} to {last:%Y-%m-%d}), "
                 + (f"{length} days" if len(days) == length else
                    f"the {len(days)} of its {length} days the product holds"),
        "classes": _LABELS[scheme],
        "model_sha256": str(dict(product.get("model_sha256", {})).get(f"{crop}/{depth}", ""))[:16],
        "generated": f"{dt.datetime.now(dt.UTC):%Y-%m-%dT%H:%MZ} by cropsm bulletin",
    }
    if scheme == "category":
        clim = reader.climatology().attrs
        provenance["climatology"] = (f"{clim.get('years')}, window {clim.get('window_days')} "
                                     f"days, every {clim.get('record_stride')}th cell")
    lines = basemap_lines()
    title = f"{name}: {crop} {depth}, dekad {dekad}\n{_LABELS[scheme]}"
    png = class_map_png(codes, season.codes["x"].values, season.codes["y"].values, classes,
                        title, provenance, boundaries=lines["provinces"],
                        rivers=lines["rivers"])
    stem = f"bulletin_{name.replace(' ', '_')}_{crop}_{depth}_{dekad}_{scheme}"
    csv = csv_bytes(table, {**provenance, "units": "km2 of crop area (harvested fraction "
                                                   "x cell area)"})
    return Bulletin(png, csv, table, season.shares, stem)
