"""The intake catalog: every input and output of CropSM by name.

The catalog is an intake 2 YAML file (tested with intake 2.0.9). Its paths are relative
to the catalog's own folder through intake's ``{CATALOG_DIR}``. The demo build renders
it with :func:`render_catalog`; ``catalogs/cropsm.yaml`` in the repository is that
rendering for the default ``demo`` build and is checked by the tests.

The default catalog is ``CROPSM_CATALOG`` (:func:`cropsm.config.settings`, by default
``./catalogs/cropsm.yaml`` under the working directory), never a file of the source tree.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
from pathlib import Path

import intake
import pandas as pd
import xarray as xr
import yaml

from cropsm.config import settings
from cropsm.core.errors import CropSMError

__all__ = [
    "ENTRIES",
    "CatalogError",
    "default_catalog",
    "entry_path",
    "open_catalog",
    "entries_with_role",
    "product_store_path",
    "read_entry",
    "render_catalog",
    "training_fingerprint",
    "write_catalog",
]

#: The entries a model is trained from; :func:`training_fingerprint` hashes them.
TRAINING_ENTRIES = ("stations", "station_meta", "covariates", "covariates_daily")


def default_catalog() -> Path:
    """The catalog used when none is given: ``CROPSM_CATALOG`` or ``./catalogs/cropsm.yaml``."""
    return settings().catalog


#: Entry name -> (file name in the data folder, kind, description).
ENTRIES: dict[str, tuple[str, str, str]] = {
    "covariates": ("covariates.zarr", "zarr",
                   "Static covariates on the 1 km grid (y, x), monthly PET (month, y, x), "
                   "crop fractions and season dates (crop, y, x)."),
    "covariates_daily": ("weather.zarr", "zarr",
                         "Daily precipitation `pre` (time, lat, lon) at 0.25 deg; sample it "
                         "at 1 km with cropsm.core.grid.intermittent_sample. Monthly "
                         "`pet_factor` (1) and `tas_anomaly` (K) (month_start, lat, lon): "
                         "the year-month's PET over, and temperature minus, the "
                         "climatology; sample them with cropsm.core.grid.bilinear_sample."),
    "stations": ("stations.parquet", "parquet",
                 "Station SM observations, one row per observation: station_id, lon, lat, "
                 "crop, depth, date, sm (m3 m-3), phenology, zone."),
    "station_meta": ("station_meta.parquet", "parquet",
                     "Station metadata: station_id, lon, lat, crops, zone, province, row, col, "
                     "first_year, last_year."),
    "truth": ("truth.zarr", "zarr",
              "Demo only: true daily SM (crop, depth, time, y, x) of the map year and "
              "irrigation events (crop, y, x)."),
    "soil_moisture": ("soil_moisture.zarr", "zarr",
                      "Predicted SM product (crop, depth, time, y, x); written by the "
                      "gridded prediction engine."),
    "soil_moisture_record": ("soil_moisture_record.zarr", "zarr",
                             "Climate record: the product on every Nth cell (attribute "
                             "`record_stride`) over many years, for percentiles and trends; "
                             "written by `cropsm predict --years`."),
    "climatology": ("climatology.zarr", "zarr",
                    "Day-of-year percentiles of the record (crop, depth, dayofyear, "
                    "percentiles, y, x) and its day-of-year mean; written by "
                    "`cropsm climatology`."),
    "soil_moisture_series": ("soil_moisture.zarr", "zarr",
                             "The same product laid out for time-series reads: group "
                             "`series`, chunks of 366 days x 32 x 32 cells."),
}

#: Extra reader arguments of an entry.
_ENTRY_KWARGS: dict[str, dict] = {"soil_moisture_series": {"group": "series"}}

_READERS = {
    "zarr": ("intake.readers.datatypes:Zarr", "intake.readers.readers:XArrayDatasetReader",
             "xarray:Dataset"),
    "parquet": ("intake.readers.datatypes:Parquet", "intake.readers.readers:PandasParquet",
                "pandas:DataFrame"),
}

_STATION_UNITS = {"sm": "m3 m-3", "lon": "degrees_east", "lat": "degrees_north",
                  "date": "day", "zone": "1"}


#: Columns the tables must have for training, validation and the app.
_REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "stations": ("station_id", "lon", "lat", "crop", "depth", "date", "sm", "zone"),
    "station_meta": ("station_id", "lon", "lat", "crops", "zone", "row", "col"),
}

_BUILD = "build it with `cropsm demo build`."
_MISSING_HINT = {
    "soil_moisture_record": "the climate record is written by `cropsm predict --years "
                            "1993-2017 --every 4`, which has not run yet.",
    "climatology": "the percentiles are written by `cropsm climatology`, which has not run "
                   "yet.",
    "soil_moisture": "the SM product is written by gridded prediction, which has not run yet.",
    "soil_moisture_series": "the SM product is written by gridded prediction, which has not "
                            "run yet.",
}


def entry_path(cat, name: str) -> str | None:
    """Local path of an entry's store, with ``{CATALOG_DIR}`` filled in, if it has one."""
    try:
        reader = cat.entries[name]
        ref = reader.kwargs["args"][0]
        key = ref[len("{data("):-len(")}")]
        url = cat.data[key].kwargs["url"]
    except (KeyError, IndexError, TypeError, AttributeError):
        return None
    catalog_dir = cat.metadata.get("catalog_dir") if hasattr(cat, "metadata") else None
    if "{CATALOG_DIR}" in url and catalog_dir:
        url = url.replace("{CATALOG_DIR}", catalog_dir)
    return None if "{" in url or "://" in url else url


def product_store_path(cat, name: str) -> Path:
    """Path of a store the product pipelines write (``soil_moisture_record``, ``climatology``).

    The catalog's entry if it has one; a catalog written before the entry existed gets
    the entry's file beside the ``soil_moisture`` store, so older worlds need no rebuild.
    """
    path = entry_path(cat, name)
    if path is not None:
        return Path(path)
    product = entry_path(cat, "soil_moisture")
    if product is None:
        raise CatalogError(f"The catalog has no local {name!r} or 'soil_moisture' store.")
    return Path(product).parent / ENTRIES[name][0]


def training_fingerprint(cat, settings: str = "") -> str:
    """SHA-256 of what a model is trained from, and how (``settings``, any text).

    It covers the station tables' bytes and the covariate stores' root metadata
    (``zarr.json``: variables, shapes, attributes). A rebuilt world or a new ingest
    changes it, so ``--if-missing`` retrains; chunk contents rewritten under unchanged
    metadata do not (hashing them would read every store). Entries that are not local
    files are hashed by name.
    """
    digest = hashlib.sha256(settings.encode())
    for name in TRAINING_ENTRIES:
        digest.update(name.encode())
        path = entry_path(cat, name)
        if path is None:
            continue
        target = Path(path) / "zarr.json" if Path(path).is_dir() else Path(path)
        if target.is_file():
            with open(target, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(block)
    return digest.hexdigest()


class CatalogError(CropSMError, ValueError):
    """The catalog file is missing or malformed, or an entry cannot be opened."""


def render_catalog(data_dir: str, profile: str, generated_by: str = "cropsm demo build",
                   omit: tuple[str, ...] = ()) -> str:
    """YAML text of a catalog whose stores live in ``data_dir`` (relative to the catalog).

    ``omit`` leaves entries out, e.g. ``("truth",)`` for real data, which has none.
    """
    data, entries = {}, {}
    for name, (filename, kind, description) in ENTRIES.items():
        if name in omit:
            continue
        datatype, reader, output = _READERS[kind]
        url = "{CATALOG_DIR}/" + posixpath.normpath(f"{data_dir}/{filename}")
        data_kwargs = {"url": url, "storage_options": None}
        if kind == "zarr":
            data_kwargs["root"] = ""
        # data keys must differ from entry names, or intake resolves the reference to the
        # entry itself and recurses
        data[f"{name}_file"] = {"datatype": datatype, "kwargs": data_kwargs, "metadata": {},
                                "user_parameters": {}}
        kwargs: dict = {"args": ["{data(" + name + "_file)}"]}
        if kind == "zarr":
            kwargs.update(engine="zarr", chunks={})
        kwargs.update(_ENTRY_KWARGS.get(name, {}))
        metadata: dict[str, object] = {"description": description}
        if name in ("stations", "station_meta"):
            metadata["units"] = _STATION_UNITS
        entries[name] = {"kwargs": kwargs, "metadata": metadata, "output_instance": output,
                         "reader": reader, "user_parameters": {}}
    doc = {"aliases": {}, "data": data, "entries": entries,
           "metadata": {"title": "CropSM catalog", "profile": profile,
                        "generated_by": generated_by},
           "user_parameters": {}, "version": 2}
    header = (f"# CropSM intake catalog (intake >= 2.0.9). Generated by `{generated_by}`;\n"
              "# paths are relative to this file's folder.\n")
    return header + yaml.safe_dump(doc, sort_keys=True, width=100)


def write_catalog(catalog_path: str | Path, data_dir: str | Path, profile: str,
                  generated_by: str = "cropsm demo build", omit: tuple[str, ...] = ()) -> Path:
    """Write a catalog at ``catalog_path`` pointing at the stores in ``data_dir``.

    ``generated_by`` and ``omit`` are passed to :func:`render_catalog`.
    """
    catalog_path = Path(catalog_path)
    catalog_path.parent.mkdir(parents=True, exist_ok=True)
    rel = os.path.relpath(Path(data_dir).resolve(), catalog_path.parent.resolve())
    tmp = catalog_path.with_suffix(".yaml.tmp")
    tmp.write_text(render_catalog(Path(rel).as_posix(), profile, generated_by, omit),
                   encoding="utf-8")
    os.replace(tmp, catalog_path)
    return catalog_path


def open_catalog(path: str | Path | None = None) -> intake.entry.Catalog:
    """Open an intake catalog, turning every failure into a one-line :class:`CatalogError`."""
    path = Path(path) if path is not None else default_catalog()
    if not path.is_file():
        raise CatalogError(
            f"Catalog {path} not found; build the demo data with `cropsm demo build` "
            "or pass the path of an existing catalog."
        )
    try:
        cat = intake.from_yaml_file(str(path))
    except Exception as err:  # yaml, intake and import errors all mean a bad file
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        fix = ("rebuild it with `cropsm demo build`" if path.resolve() ==
               default_catalog().resolve()
               else "fix it (intake 2 YAML, see catalogs/real-example.yaml) or pass another")
        raise CatalogError(f"Catalog {path} is not a valid intake catalog ({first}); "
                           f"{fix}.") from err
    if not isinstance(getattr(cat, "entries", None), dict):
        raise CatalogError(f"Catalog {path} has no entries; it is not a CropSM catalog.")
    cat.metadata["catalog_dir"] = str(path.resolve().parent)
    return cat


def read_entry(name: str, catalog=None) -> xr.Dataset | pd.DataFrame:
    """Open one catalog entry lazily (xarray) or as a table (pandas).

    Parameters
    ----------
    name : str
        Entry name, e.g. ``"covariates"`` or ``"stations"``.
    catalog : intake catalog or path, optional
        Defaults to :func:`default_catalog`.
    """
    cat = catalog if hasattr(catalog, "entries") else open_catalog(catalog)
    if name not in cat.entries:
        raise CatalogError(
            f"Catalog has no entry {name!r}; available: {', '.join(sorted(cat.entries))}."
        )
    url = entry_path(cat, name)
    if url is not None and not os.path.exists(url):
        hint = _MISSING_HINT.get(name, _BUILD)
        raise CatalogError(f"Entry {name!r}: {os.path.normpath(url)} does not exist; {hint}")
    try:
        obj = cat[name].read()
    except Exception as err:  # zarr, pyarrow and intake raise many types for bad stores
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CatalogError(f"Cannot open catalog entry {name!r} ({url}): {first}") from err
    required = _REQUIRED_COLUMNS.get(name, ())
    if isinstance(obj, pd.DataFrame) and (missing := [c for c in required if c not in obj]):
        raise CatalogError(f"Entry {name!r} ({url}) lacks column(s) {', '.join(missing)}; "
                           f"it has {', '.join(map(str, obj.columns))}. Station tables follow "
                           "the schema in cropsm.io.readers.stations; convert other tables "
                           "with cropsm.io.readers.read_station_table.")
    units = cat.entries[name].metadata.get("units")
    if units and isinstance(obj, pd.DataFrame):
        obj.attrs["units"] = dict(units)
    return obj


def entries_with_role(cat, role: str) -> list[str]:
    """Names of the entries whose metadata ``role`` is ``role`` (real-data catalogs)."""
    return [name for name, entry in cat.entries.items()
            if (getattr(entry, "metadata", None) or {}).get("role") == role]
