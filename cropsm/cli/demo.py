"""``cropsm demo ...``: build, check and export the embedded demo world."""

from __future__ import annotations

from pathlib import Path

import click

from cropsm.cli._options import tqdm_factory
from cropsm.config import settings
from cropsm.demo.profiles import PROFILES

__all__ = ["demo"]


@click.group()
def demo() -> None:
    """Build, check and export the embedded demo world."""


@demo.command("build")
@click.option("--profile", type=click.Choice(list(PROFILES)), default="demo",
              show_default=True, help="tiny (a window, seconds) or demo (all of mainland China).")
@click.option("--seed", default=42, show_default=True, type=int)
@click.option("--out", default=lambda: str(settings().demo_data),
              show_default="$CROPSM_DATA/demo, else <home>/data/demo", type=click.Path(),
              help="Folder for the generated stores.")
@click.option("--catalog", default=None, type=click.Path(dir_okay=False),
              help="Catalog to write [default: $CROPSM_CATALOG (else "
                   "<home>/catalogs/cropsm.yaml) for the default --out, else "
                   "<out>/cropsm.yaml].")
@click.option("--if-missing", is_flag=True,
              help="Do nothing if this profile and seed were built here by this world "
                   "generation.")
@click.option("--quiet", is_flag=True, help="No progress bars.")
def demo_build(profile: str, seed: int, out: str, catalog: str | None, if_missing: bool,
               quiet: bool) -> None:
    """Build the demo world, publish its stores and write the catalog."""
    from cropsm.demo.build import WORLD_VERSION, build
    from cropsm.demo.check import format_report
    from cropsm.io.store import read_json

    out_path = Path(out)
    if catalog is None and out_path.resolve() == settings().demo_data.resolve():
        # the default world feeds the default catalog; a world elsewhere gets its own
        catalog = str(settings().catalog)
    report = out_path / "build_report.json"
    if if_missing and report.exists():
        done = read_json(report)
        if (done.get("profile"), done.get("seed"), done.get("world_version")) == (
                profile, seed, WORLD_VERSION):
            click.echo(f"demo world ({profile}, seed {seed}) already built in {out_path}")
            return
    result = build(profile, out_path, catalog=catalog, seed=seed,
                   progress_factory=None if quiet else tqdm_factory)
    click.echo(format_report(result))


@demo.command("check")
@click.option("--out", default=lambda: str(settings().demo_data),
              show_default="$CROPSM_DATA/demo, else <home>/data/demo", type=click.Path())
def demo_check(out: str) -> None:
    """Print the check report of a built demo world."""
    from cropsm.demo.check import format_report
    from cropsm.io.store import read_json

    path = Path(out) / "build_report.json"
    if not path.exists():
        raise click.ClickException(f"No build report in {out}; run `cropsm demo build` first.")
    click.echo(format_report(read_json(path)))


@demo.command("export")
@click.argument("out", type=click.Path(file_okay=False))
@click.option("--catalog", default=lambda: str(settings().catalog),
              show_default="$CROPSM_CATALOG, else <home>/catalogs/cropsm.yaml",
              type=click.Path(dir_okay=False), help="Catalog of a demo world.")
@click.option("--bbox", default=None,
              help="lon_min,lat_min,lon_max,lat_max in degrees: a window of the world "
                   "[default: the profile's; required for the national world].")
def demo_export(out: str, catalog: str, bbox: str | None) -> None:
    """Write the demo world in real-world file formats, with `cropsm ingest` configs, to OUT."""
    import shapely

    from cropsm.core.regions import parse_bbox
    from cropsm.pipelines.demo_export import export_world

    window = None
    if bbox is not None:
        lon0, lat0, lon1, lat1 = (float(v) for v in shapely.bounds(parse_bbox(bbox)))
        window = (lon0, lat0, lon1, lat1)
    written = export_world(catalog, out, window)
    for path, size in written.items():
        click.echo(f"{size / 1e6:8.2f} MB  {path}")
    click.echo(f"{len(written)} files, {sum(written.values()) / 1e6:.1f} MB in {out}; "
               f"read them back with `cropsm ingest {Path(out) / 'ingest.yaml'}`.")
