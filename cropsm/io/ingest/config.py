"""The ``cropsm ingest`` config file: a YAML mapping of roles to files (docs/ingest.md).

:func:`read_config` checks the whole schema before anything is read, so a typo in the
last entry is reported before minutes of regridding, with the key and the fix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from cropsm.core import crops
from cropsm.io.readers._errors import ReaderError
from cropsm.io.readers._files import expand_paths

__all__ = [
    "CropInputs",
    "IngestConfig",
    "RasterInput",
    "TableInput",
    "VectorInput",
    "read_config",
]

SOIL_KEYS = ("field_capacity", "bulk_density", "sand", "silt", "clay", "organic_matter")
OPTIONAL_SOIL_KEYS = ("field_capacity_10_20",)
CROP_KEYS = ("fraction", "sowing", "maturity")
OPTIONAL_CROP_KEYS = ("green_up", "heading")
STATION_FORMATS = ("agme", "cropsm")
DEFAULT_RAIN_RESOLUTION = 0.25  # degrees: all of China for 27 years in 1.8 GB of memory


@dataclass(frozen=True)
class RasterInput:
    """One raster or netCDF input: its files and what the file may not say itself.

    ``units`` and ``crs`` fill in for a file without them; a file that has its own and
    disagrees is refused (see :mod:`cropsm.io.ingest.rasters`).
    """

    role: str
    paths: tuple[Path, ...]
    variable: str | None = None
    units: str | None = None
    crs: str | None = None


@dataclass(frozen=True)
class TableInput:
    """A CSV or Parquet table with a column mapping (source name -> schema name)."""

    role: str
    path: Path
    columns: dict[str, str] = field(default_factory=dict)
    units: str | None = None
    format: str = "cropsm"


@dataclass(frozen=True)
class VectorInput:
    """A vector file (GeoJSON, Shapefile, GeoPackage) and, for zones, its code field."""

    role: str
    path: Path
    field: str | None = None


@dataclass(frozen=True)
class CropInputs:
    """Harvested fraction and phenology rasters (day of year) of one crop."""

    fraction: RasterInput
    sowing: RasterInput
    maturity: RasterInput
    green_up: RasterInput | None = None
    heading: RasterInput | None = None


@dataclass(frozen=True)
class IngestConfig:
    """A parsed, checked ingest config; every path is absolute."""

    source: Path
    bbox: tuple[float, float, float, float] | None
    province: str | None
    start: pd.Timestamp
    end: pd.Timestamp
    output: Path
    catalog: Path
    rain_resolution: float
    fill_missing_days: bool
    precipitation: RasterInput | None
    precipitation_stations: TableInput | None
    pet: RasterInput
    temperature: RasterInput | None
    pet_climatology: RasterInput | None
    temperature_climatology: RasterInput | None
    elevation: RasterInput
    soil: dict[str, RasterInput]
    crops: dict[str, CropInputs]
    rivers: VectorInput
    zones: VectorInput | None
    stations: TableInput


class _Checker:
    """Reads typed values out of the YAML mapping; each failure names the key path."""

    def __init__(self, source: Path):
        self.source = source
        self.folder = source.parent

    def fail(self, key: str, problem: str) -> ReaderError:
        return ReaderError(self.source, f"`{key}` {problem} (see docs/ingest.md).")

    def mapping(self, value: Any, key: str) -> dict:
        if not isinstance(value, dict):
            raise self.fail(key, f"must be a mapping, got {type(value).__name__}")
        return value

    def unknown(self, value: dict, key: str, allowed: tuple[str, ...]) -> None:
        extra = sorted(set(value) - set(allowed))
        if extra:
            raise self.fail(key, f"has unknown key(s) {', '.join(map(str, extra))}; "
                                 f"allowed: {', '.join(allowed)}")

    def paths(self, value: Any, key: str) -> tuple[Path, ...]:
        if not isinstance(value, str) or not value:
            raise self.fail(key, "must be a file path (or a glob) relative to the config")
        try:
            return tuple(expand_paths(str(self.folder / value)))
        except ReaderError as err:
            raise self.fail(key, f"names {value}, which matches no file in "
                                 f"{self.folder}") from err

    def path(self, value: Any, key: str) -> Path:
        found = self.paths(value, key)
        if len(found) > 1:
            raise self.fail(key, f"matches {len(found)} files; name one file")
        return found[0]

    def raster(self, value: Any, key: str) -> RasterInput:
        """``key`` is the entry's full path in the config, e.g. ``inputs.soil.sand``."""
        spec = self.mapping(value, key)
        self.unknown(spec, key, ("path", "variable", "units", "crs"))
        if "path" not in spec:
            raise self.fail(key, "needs a `path`")
        return RasterInput(key, self.paths(spec["path"], f"{key}.path"),
                           _text(spec.get("variable")), _text(spec.get("units")),
                           _text(spec.get("crs")))

    def table(self, value: Any, key: str, formats: tuple[str, ...] = STATION_FORMATS
              ) -> TableInput:
        spec = self.mapping(value, key)
        self.unknown(spec, key, ("path", "columns", "units", "format"))
        if "path" not in spec:
            raise self.fail(key, "needs a `path`")
        fmt = str(spec.get("format", "cropsm"))
        if fmt not in formats:
            raise self.fail(f"{key}.format", f"is {fmt!r}; use one of {', '.join(formats)}")
        columns = self.mapping(spec.get("columns", {}), f"{key}.columns")
        return TableInput(key, self.path(spec["path"], f"{key}.path"),
                          {str(k): str(v) for k, v in columns.items()},
                          _text(spec.get("units")), fmt)

    def vector(self, value: Any, key: str) -> VectorInput:
        spec = self.mapping(value, key)
        self.unknown(spec, key, ("path", "field"))
        if "path" not in spec:
            raise self.fail(key, "needs a `path`")
        return VectorInput(key, self.path(spec["path"], f"{key}.path"), _text(spec.get("field")))


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def read_config(path: str | Path) -> IngestConfig:
    """Read and check an ingest config.

    Parameters
    ----------
    path : str or Path
        The YAML file; relative paths inside it are relative to its folder.

    Raises
    ------
    ReaderError
        The file is missing or not YAML, a key is missing or unknown, a file it names
        does not exist; the message names the key and the fix.
    """
    source = Path(path).resolve()
    if not source.is_file():
        raise ReaderError(source, "not found; pass the path of an ingest config "
                                  "(docs/ingest.md has one for every input kind).")
    try:
        doc = yaml.safe_load(source.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        first = str(err).strip().splitlines()[0]
        raise ReaderError(source, f"is not valid YAML ({first}).") from err
    check = _Checker(source)
    doc = check.mapping(doc, "the config")
    check.unknown(doc, "the config", ("version", "window", "period", "output", "catalog",
                                      "rain_resolution", "fill_missing_days", "inputs"))
    if doc.get("version", 1) != 1:
        raise check.fail("version", f"is {doc['version']!r}; this CropSM reads version 1")
    bbox, province = _window(check, doc.get("window"))
    start, end = _period(check, doc.get("period"))
    output = check.folder / str(doc.get("output", "data"))
    catalog = check.folder / str(doc["catalog"]) if "catalog" in doc else output / "cropsm.yaml"
    resolution = doc.get("rain_resolution", DEFAULT_RAIN_RESOLUTION)
    if not isinstance(resolution, int | float) or not 0.001 <= resolution <= 1.0:
        raise check.fail("rain_resolution", f"is {resolution!r}; give degrees between "
                                            "0.001 and 1")
    fill = doc.get("fill_missing_days", False)
    if not isinstance(fill, bool):
        raise check.fail("fill_missing_days", f"is {fill!r}; use true or false")

    inputs = check.mapping(doc.get("inputs"), "inputs")
    check.unknown(inputs, "inputs", ("precipitation", "precipitation_stations", "pet",
                                     "pet_climatology", "temperature",
                                     "temperature_climatology", "elevation", "soil", "crops",
                                     "rivers", "zones", "stations"))
    has_grid, has_gauges = "precipitation" in inputs, "precipitation_stations" in inputs
    if has_grid == has_gauges:
        raise check.fail("inputs", "needs exactly one of `precipitation` (gridded) and "
                                   "`precipitation_stations` (rain gauges)")
    for key in ("pet", "elevation", "soil", "crops", "rivers", "stations"):
        if key not in inputs:
            raise check.fail("inputs", f"lacks `{key}`")
    soil = check.mapping(inputs["soil"], "inputs.soil")
    check.unknown(soil, "inputs.soil", SOIL_KEYS + OPTIONAL_SOIL_KEYS)
    missing = [k for k in SOIL_KEYS if k not in soil]
    if missing:
        raise check.fail("inputs.soil", f"lacks {', '.join(missing)}")
    crop_specs = check.mapping(inputs["crops"], "inputs.crops")
    check.unknown(crop_specs, "inputs.crops", crops.CROPS)
    if set(crop_specs) != set(crops.CROPS):
        raise check.fail("inputs.crops", f"needs {' and '.join(crops.CROPS)}")
    return IngestConfig(
        source=source, bbox=bbox, province=province, start=start, end=end, output=output,
        catalog=catalog, rain_resolution=float(resolution), fill_missing_days=fill,
        precipitation=(check.raster(inputs["precipitation"], "inputs.precipitation")
                       if has_grid else None),
        precipitation_stations=(check.table(inputs["precipitation_stations"],
                                            "inputs.precipitation_stations",
                                            ("cropsm", "ghcn"))
                                if has_gauges else None),
        pet=check.raster(inputs["pet"], "inputs.pet"),
        temperature=(check.raster(inputs["temperature"], "inputs.temperature")
                     if "temperature" in inputs else None),
        pet_climatology=(check.raster(inputs["pet_climatology"], "inputs.pet_climatology")
                         if "pet_climatology" in inputs else None),
        temperature_climatology=(check.raster(inputs["temperature_climatology"],
                                              "inputs.temperature_climatology")
                                 if "temperature_climatology" in inputs else None),
        elevation=check.raster(inputs["elevation"], "inputs.elevation"),
        soil={k: check.raster(v, f"inputs.soil.{k}") for k, v in soil.items()},
        crops={crop: _crop(check, spec, crop) for crop, spec in crop_specs.items()},
        rivers=check.vector(inputs["rivers"], "inputs.rivers"),
        zones=(check.vector(inputs["zones"], "inputs.zones") if "zones" in inputs
               else None),
        stations=check.table(inputs["stations"], "inputs.stations"),
    )


def _crop(check: _Checker, value: Any, crop: str) -> CropInputs:
    key = f"inputs.crops.{crop}"
    spec = check.mapping(value, key)
    check.unknown(spec, key, CROP_KEYS + OPTIONAL_CROP_KEYS)
    missing = [k for k in CROP_KEYS if k not in spec]
    if missing:
        raise check.fail(key, f"lacks {', '.join(missing)}")
    rasters = {k: check.raster(v, f"{key}.{k}") for k, v in spec.items()}
    return CropInputs(**rasters)


def _window(check: _Checker, value: Any) -> tuple[tuple[float, float, float, float] | None,
                                                  str | None]:
    if value is None:
        return None, None
    spec = check.mapping(value, "window")
    check.unknown(spec, "window", ("bbox", "province"))
    if len(spec) != 1:
        raise check.fail("window", "needs one of `bbox` and `province`")
    if "province" in spec:
        return None, str(spec["province"])
    box = spec["bbox"]
    try:
        lon0, lat0, lon1, lat1 = (float(v) for v in box)
    except (TypeError, ValueError) as err:
        raise check.fail("window.bbox", f"is {box!r}; give [lon_min, lat_min, lon_max, "
                                        "lat_max] in degrees") from err
    if not (lon0 < lon1 and lat0 < lat1):
        raise check.fail("window.bbox", f"is {box!r}; the minima must be below the maxima")
    return (lon0, lat0, lon1, lat1), None


def _period(check: _Checker, value: Any) -> tuple[pd.Timestamp, pd.Timestamp]:
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise check.fail("period", f"is {value!r}; give [first_day, last_day]")
    try:
        start, end = (pd.Timestamp(str(v)).normalize() for v in value)
    except ValueError as err:
        raise check.fail("period", f"has a date that cannot be read ({err})") from err
    if end < start:
        raise check.fail("period", f"ends ({end:%Y-%m-%d}) before it starts "
                                   f"({start:%Y-%m-%d})")
    return start, end
