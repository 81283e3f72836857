"""Liu et al. (2021) Figs. 9-10 over all cropland, written to a reports folder.

:func:`write_pattern_regions` opens the catalog and the trained network, runs
:func:`cropsm.nn.pattern_regions.pattern_regions` for one year and writes, each file
atomically (a reader sees the old file or the new one):

``pattern_regions.nc``
    The result: monthly reference, scenario and difference by pattern and region, the
    annual means and the cell counts, with provenance in the global attributes.
``pattern_regions.csv``
    The same as a tidy table (:func:`cropsm.nn.pattern_regions.monthly_table`) after a
    ``# key: value`` provenance header.
``pattern_regions.md``
    The annual differences per pattern and region, and how they were computed.

The dashboard's Network tab reads the netCDF back (:func:`read_pattern_regions`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

import cropsm
from cropsm.core import liu_regions
from cropsm.io.assets import read_provinces
from cropsm.io.export import csv_bytes, netcdf_bytes
from cropsm.io.models import network_path, read_card
from cropsm.io.store import StoreError, check_writable, read_netcdf, write_bytes, write_text
from cropsm.nn import pattern_regions as pr
from cropsm.pipelines.sources import CatalogReader
from cropsm.serve.models import load_network

__all__ = ["COMMAND", "FILES", "PatternRegions", "markdown_report", "read_pattern_regions",
           "write_pattern_regions"]

#: The files written into the reports folder, by kind.
FILES: dict[str, str] = {"netcdf": "pattern_regions.nc", "csv": "pattern_regions.csv",
                         "markdown": "pattern_regions.md"}

#: The command that writes them.
COMMAND = "cropsm network regions"


@dataclass(frozen=True)
class PatternRegions:
    """What :func:`write_pattern_regions` computed and wrote.

    Attributes
    ----------
    result : xarray.Dataset
        :func:`cropsm.nn.pattern_regions.pattern_regions`.
    seconds : float
        Wall time from opening the catalog to the result (writing excluded).
    paths : dict of str to pathlib.Path
        The files written, by the keys of :data:`FILES`.
    """

    result: xr.Dataset
    seconds: float
    paths: dict[str, Path]

    @property
    def annual(self) -> pd.DataFrame:
        """Annual difference (m3 m-3), a row per pattern and a column per region."""
        return pr.annual_table(self.result)


def _signed(value: float) -> str:
    return "-" if not np.isfinite(value) else f"{value:+.4f}"


def markdown_report(result: xr.Dataset) -> str:
    """The annual differences as a markdown table, with how they were computed."""
    a = result.attrs
    table = pr.annual_table(result)
    regions = list(table.columns)
    lines = [
        f"# Cropping patterns minus the reference, {a['layer']}, {a['year']} "
        "(Liu et al. 2021, Figs. 9-10)",
        "",
        f"Annual mean SM difference (m³ m⁻³), each pattern on all cropland minus the "
        f"reference ({a['reference_weighting']}), by Liu et al.'s regions and China (CHN). "
        f"{a['cropland_cells']:,} cropland cells on a lattice of every {a['stride']}th row "
        f"and column, {a['lattice_spacing_km']:.0f} km apart (25 km is about Liu's 0.25° "
        f"grid), {a['pixel_days']:,} pixel-days per pattern. Masked: {a['masked']} "
        f"(its row shows '-', and CHN excludes it).",
        "",
        "| pattern | " + " | ".join(regions) + " |",
        "|---|" + "---:|" * len(regions),
    ]
    lines += [f"| {name} | " + " | ".join(_signed(v) for v in row) + " |"
              for name, row in zip(table.index, table.to_numpy(), strict=True)]
    # the reference over every cell: that of a pattern compared everywhere
    widest = int(np.argmax(result["cells"].sel(region=liu_regions.CHINA).values))
    reference = result["annual_reference"].isel(pattern=widest).to_series()
    lines += ["| reference (mean SM) | " + " | ".join(
        "-" if not np.isfinite(reference[r]) else f"{reference[r]:.4f}" for r in regions)
        + " |"]
    if "pattern_flag_share" in result:
        flags = pr.annual_table(result, "pattern_flag_share")
        lines += ["", "Share of the cells whose pattern is observed at stations of their "
                      "agricultural zone (Liu's pattern flag; 0: the network extrapolates):",
                  "", "| pattern | " + " | ".join(regions) + " |",
                  "|---|" + "---:|" * len(regions)]
        lines += [f"| {name} | " + " | ".join("-" if not np.isfinite(v) else f"{v:.0%}"
                                              for v in row) + " |"
                  for name, row in zip(flags.index, flags.to_numpy(), strict=True)]
    cells = result["cells"].max("pattern").to_series()
    lines += ["", "Cells per region: " + ", ".join(f"{r} {int(cells[r])}" for r in regions)
              + f"; outside every province outline (in CHN only): "
                f"{a['cells_outside_provinces']}.",
              "", f"Run time: {a.get('run_seconds', float('nan')):.0f} s. Written by "
                  f"`{COMMAND}`; the monthly values are in {FILES['csv']} and "
                  f"{FILES['netcdf']}.", ""]
    return "\n".join(lines)


def write_pattern_regions(catalog_path: str | Path, models_dir: str | Path, out: str | Path,
                          year: int | None = None, stride: int = pr.DEFAULT_STRIDE,
                          layer: str = "0-10cm", weighting: str = "liu") -> PatternRegions:
    """Run Liu et al.'s Figs. 9-10 on all cropland and write the report files.

    Parameters
    ----------
    catalog_path : path
        The intake catalog (``covariates`` and ``covariates_daily``).
    models_dir : path
        The folder of ``cropsm network train``'s network.
    out : path
        The reports folder (created if needed).
    year : int, optional
        The year to run; the last the daily covariates allow by default
        (:func:`cropsm.nn.pattern_regions.last_year`: the map year of a demo world).
    stride, layer, weighting
        As for :func:`cropsm.nn.pattern_regions.pattern_regions`.

    Raises
    ------
    cropsm.io.models.ModelFileError
        No network in ``models_dir``: the message says to run ``cropsm network train``.
    cropsm.rf.features.FeatureError
        The year is outside the daily covariates; the message names the years possible.
    cropsm.io.store.StoreError
        ``out`` is not writable.
    """
    folder = check_writable(out)
    t0 = time.perf_counter()
    path = network_path(models_dir)
    network = load_network(path)
    reader = CatalogReader(catalog_path)
    daily = reader.dataset("covariates_daily")
    year = pr.last_year(daily) if year is None else int(year)
    meta = reader.table("station_meta") if reader.has_entry("station_meta") else None
    result = pr.pattern_regions(network, reader.dataset("covariates"), daily,
                                read_provinces(), year, layer=layer, stride=stride,
                                weighting=weighting, station_meta=meta)
    seconds = time.perf_counter() - t0
    result.attrs["run_seconds"] = round(seconds, 1)
    provenance = {"cropsm_version": cropsm.__version__, "catalog": str(catalog_path),
                  "network_sha256": read_card(path)["sha256"],
                  "regions": "; ".join(f"{code}: {', '.join(names)}" for code, names in
                                       liu_regions.REGION_PROVINCES.items())}
    paths = {kind: folder / name for kind, name in FILES.items()}
    write_bytes(netcdf_bytes(result, provenance), paths["netcdf"])
    write_bytes(csv_bytes(pr.monthly_table(result), {
        **provenance, "layer": layer, "year": year, "stride": stride, "units": "m3 m-3",
        "masked": result.attrs["masked"]}), paths["csv"])
    write_text(markdown_report(result), paths["markdown"])
    return PatternRegions(result, seconds, paths)


def read_pattern_regions(folder: str | Path) -> xr.Dataset:
    """The result :func:`write_pattern_regions` wrote into ``folder``.

    Raises
    ------
    cropsm.io.store.StoreError
        The file is missing (the message names :data:`COMMAND`) or damaged.
    """
    path = Path(folder) / FILES["netcdf"]
    if not path.is_file():
        raise StoreError(f"No {FILES['netcdf']} in {folder}; run `{COMMAND}` to write it "
                         "(its --out must be this reports folder).")
    return read_netcdf(path)
