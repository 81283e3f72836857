"""``cropsm network ...``: the multilayer network of Liu et al. (2021) from the command line."""

from __future__ import annotations

import time

import click

from cropsm.analysis.schemes import SCHEMES
from cropsm.cli._options import catalog_option, models_option, reports_option, tqdm_factory
from cropsm.core.crops import SOIL_LAYERS
from cropsm.nn.inputs import GROUPS, SEARCH_GRID, SINGLE_SETTING

_SEARCHES = ("halving", "exhaustive")  # cropsm.nn.network.SEARCHES, without scikit-learn

__all__ = ["network"]

_GRIDS = {"paper": SEARCH_GRID, "single": SINGLE_SETTING}

_GRID_HELP = ("Hyper-parameters: the paper's 240 settings (searched), or one setting, "
              "cropsm.nn.inputs.SINGLE_SETTING (no search).")


def _search_options(command):
    command = click.option("--jobs", default=1, show_default=True,
                           type=click.IntRange(min=1),
                           help="Worker processes of the halving search.")(command)
    return click.option("--search", type=click.Choice(_SEARCHES), default="halving",
                        show_default=True,
                        help="Successive halving (scikit-learn's HalvingGridSearchCV) or "
                             "every setting on all rows.")(command)


@click.group()
def network() -> None:
    """The multilayer neural network (five 10 cm layers, cropping patterns)."""


@network.command("train")
@catalog_option()
@models_option()
@click.option("--grid", type=click.Choice(list(_GRIDS)), default="paper", show_default=True,
              help=_GRID_HELP)
@click.option("--omit", "omit", multiple=True, type=click.Choice(list(GROUPS)),
              help="Also train reduced networks without this feature group (repeatable).")
@_search_options
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--if-missing", is_flag=True, help="Skip networks whose file and card exist.")
def train(catalog_path: str, models_dir: str, grid: str, omit: tuple[str, ...], search: str,
          jobs: int, seed: int, if_missing: bool) -> None:
    """Train the chained per-layer networks on 70% of the observations (30% held out)."""
    from cropsm.pipelines.network import train_network

    trained = train_network(catalog_path, models_dir, grid=_GRIDS[grid], omit=omit, seed=seed,
                            if_missing=if_missing, progress=tqdm_factory, search=search,
                            n_jobs=jobs)
    if not trained:
        click.echo(f"networks already trained in {models_dir}")
        return
    first = trained[0]
    click.echo("rows per layer: " + ", ".join(f"{k} {n}" for k, n in
                                               first.rows_per_layer.items())
               + "; dropped for lack of 12 months of rain: "
               + ", ".join(f"{k} {s['dropped_short_history']}"
                           for k, s in first.scores.items()))
    for net in trained:
        click.echo(f"{net.name}: " + "; ".join(
            f"{k} {s['params']} picked in {s['search_seconds']:.0f} s"
            for k, s in net.settings.items()))
        click.echo(f"{net.name}: " + "; ".join(
            f"{k} R2 train {s['r2_train']:.3f} test {s['held_out']['r2']:.3f}"
            for k, s in net.scores.items()) + f"; {net.seconds:.0f} s -> {net.path}")


@network.command("compare")
@catalog_option()
@reports_option("Folder for network_comparison.json and .md.")
@models_option("Where the network fitted on the random split's 70 % is saved.")
@click.option("--grid", type=click.Choice(list(_GRIDS)), default="paper", show_default=True,
              help=_GRID_HELP)
@click.option("--folds", default=5, show_default=True, type=click.IntRange(min=2),
              help="Station folds of the station-blocked scheme.")
@click.option("--scheme", "schemes", multiple=True,
              type=click.Choice([s for s in SCHEMES if s != "random_70_30"]),
              help="Blocked schemes to run after the random split [default: both].")
@click.option("--control/--no-control", default=True, show_default=True,
              help="Also run the control experiments (one reduced network per group).")
@_search_options
@click.option("--seed", default=0, show_default=True, type=int)
def compare(catalog_path: str, out: str, models_dir: str, grid: str, folds: int,
            schemes: tuple[str, ...], control: bool, search: str, jobs: int, seed: int) -> None:
    """RF vs NN on the same held-out rows, and the control experiments (Fig. 5).

    The report is rewritten after every stage, so an interrupted run keeps what it did.
    """
    from cropsm.pipelines.network import compare_methods

    t0 = time.perf_counter()

    def say(message: str) -> None:
        click.echo(f"  {message} ({time.perf_counter() - t0:.0f} s)", err=True)

    result = compare_methods(catalog_path, out, models_dir, grid=_GRIDS[grid], folds=folds,
                             schemes=schemes or SCHEMES, control=control, seed=seed,
                             progress=say, search=search, n_jobs=jobs)
    click.echo(result.markdown)


@network.command("controls")
@click.option("--bbox", required=True, help="lon_min,lat_min,lon_max,lat_max in degrees.")
@click.option("--start", required=True, help="First day, e.g. 2018-07-01.")
@click.option("--end", required=True, help="Last day (inclusive).")
@click.option("--layer", type=click.Choice(list(SOIL_LAYERS)), default="0-10cm",
              show_default=True)
@click.option("--out", required=True, type=click.Path(dir_okay=False),
              help="netCDF file of the maps (reduced minus full network per group).")
@catalog_option()
@models_option()
def controls(bbox: str, start: str, end: str, layer: str, out: str, catalog_path: str,
             models_dir: str) -> None:
    """Each reduced network minus the full one on a box (Liu et al. 2021, Fig. 6)."""
    from cropsm.pipelines.control_maps import write_control_maps

    result = write_control_maps(catalog_path, models_dir, bbox, start, end, layer, out)
    for row in result.ranking.itertuples():
        mean = float(result.maps[f"without_{row.group}"].mean())
        click.echo(f"without {row.group}: training R2 loss {row.r2_loss:+.3f}, mean "
                   f"difference {mean:+.4f} m3 m-3")
    click.echo(f"-> {out}")


@network.command("regions")
@catalog_option()
@models_option()
@reports_option("Folder for pattern_regions.nc, .csv and .md (the app reads it).")
@click.option("--year", type=int, default=None,
              help="Year to run [default: the last the daily covariates allow].")
# 25 is cropsm.nn.pattern_regions.DEFAULT_STRIDE, without importing scikit-learn
@click.option("--stride", type=click.IntRange(min=1), default=25, show_default=True,
              help="Rows and columns between sampled cells: 25 on the 1 km grid is about "
                   "Liu's 0.25°.")
@click.option("--layer", type=click.Choice(list(SOIL_LAYERS)), default="0-10cm",
              show_default=True)
def regions(catalog_path: str, models_dir: str, out: str, year: int | None, stride: int,
            layer: str) -> None:
    """Each cropping pattern minus the reference by region and month (Liu Figs. 9-10)."""
    from cropsm.pipelines.pattern_regions import write_pattern_regions

    report = write_pattern_regions(catalog_path, models_dir, out, year=year, stride=stride,
                                   layer=layer)
    attrs = report.result.attrs
    click.echo(f"annual SM difference, pattern minus reference (m3 m-3), {layer}, "
               f"{attrs['year']}; {attrs['cropland_cells']:,} cells "
               f"{attrs['lattice_spacing_km']:.0f} km apart, "
               f"{report.seconds:.0f} s; NE masked for double cropping")
    click.echo(report.annual.to_string(float_format=lambda v: f"{v:+.4f}", na_rep="-"))
    for path in report.paths.values():
        click.echo(f"-> {path}")
