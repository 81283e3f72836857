"""Liu et al. (2021) Fig. 6 on a region: each reduced network minus the full network.

The reduced networks are those ``cropsm network train --omit GROUP`` saved beside the full
one; their ranking is the training R² each loses against the full network at the layer,
from the model cards, as the paper ranks its control experiments (Fig. 5).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import xarray as xr

import cropsm
from cropsm.core.regions import parse_bbox
from cropsm.io.assets import read_boundary
from cropsm.io.export import netcdf_bytes
from cropsm.io.models import network_path, read_card
from cropsm.io.store import write_bytes
from cropsm.nn import pattern_scenarios as ps
from cropsm.nn.inputs import GROUPS
from cropsm.pipelines.sources import CatalogReader
from cropsm.serve import live
from cropsm.serve.live import RegionRun
from cropsm.serve.models import load_network

__all__ = ["ControlMaps", "control_experiment_maps", "write_control_maps"]


@dataclass(frozen=True)
class ControlMaps:
    """The maps and their ranking.

    Attributes
    ----------
    maps : xarray.Dataset
        :func:`cropsm.nn.pattern_scenarios.control_maps` on the region and dates.
    ranking : pandas.DataFrame
        ``group``, ``r2_train`` of the reduced network and ``r2_loss`` against the full
        one at the layer, largest loss first.
    """

    maps: xr.Dataset
    ranking: pd.DataFrame


def control_experiment_maps(reader: CatalogReader, models_dir: str | Path, run: RegionRun,
                            layer: str) -> ControlMaps:
    """Every saved reduced network minus the full network on a planned region run.

    Raises
    ------
    cropsm.io.models.ModelFileError
        No full network in ``models_dir``.
    cropsm.core.regions.RegionError
        No reduced network beside it, or no cropland in the region.
    """
    full_path = network_path(models_dir)
    full_card = read_card(full_path)
    full_r2 = full_card["layers"][layer]["r2_train"]
    reduced, rows = {}, []
    for group in GROUPS:
        path = network_path(models_dir, group)
        if not path.is_file():
            continue
        reduced[group] = load_network(path)
        r2 = read_card(path)["layers"][layer]["r2_train"]
        rows.append({"group": group, "r2_train": r2, "r2_loss": full_r2 - r2})
    maps = ps.control_maps(load_network(full_path), reduced, reader.dataset("covariates"),
                           reader.dataset("covariates_daily"), run.rows, run.cols, run.region,
                           run.dates, layer)
    ranking = pd.DataFrame(rows, columns=["group", "r2_train", "r2_loss"]).sort_values(
        "r2_loss", ascending=False, ignore_index=True)
    return ControlMaps(maps, ranking)


def write_control_maps(catalog_path: str | Path, models_dir: str | Path, bbox: str,
                       start: str, end: str, layer: str, out: str | Path,
                       crop: str = "wheat") -> ControlMaps:
    """:func:`control_experiment_maps` on a box and dates, written as netCDF to ``out``.

    The ranking goes into the file's attributes. ``crop`` chooses whose cropland the box
    covers, as the dashboard's crop does.
    """
    reader = CatalogReader(catalog_path)
    geometry = parse_bbox(bbox)
    run = live.plan_region(reader.dataset("covariates"), reader.dataset("covariates_daily"),
                           crop, "0-10cm", geometry, start, end, read_boundary(),
                           budget=2**40)
    controls = control_experiment_maps(reader, models_dir, run, layer)
    ranking = "; ".join(f"{r.group}: R2 loss {r.r2_loss:+.3f}"
                        for r in controls.ranking.itertuples())
    write_bytes(netcdf_bytes(controls.maps, {
        "cropsm_version": cropsm.__version__, "bbox": bbox, "dates": f"{start}..{end}",
        "ranking_by_training_r2_loss": ranking}), out)
    return controls
