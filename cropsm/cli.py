"""The ``cropsm`` command line: a thin layer over :mod:`cropsm` functions."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from cropsm.io.catalog import DEFAULT_CATALOG


def _fail(err: Exception) -> None:
    click.echo(f"error: {err}", err=True)
    sys.exit(2)


def _tqdm_factory(desc: str, total: int):
    from tqdm import tqdm

    bar = tqdm(total=total, desc=desc, unit="step", leave=True, file=sys.stderr)

    def update(n: int) -> None:
        bar.update(n)
        if bar.n >= bar.total:
            bar.close()

    return update


@click.group()
@click.version_option(package_name="cropsm")
def main() -> None:
    """CropSM: daily 1 km soil moisture for China's dryland wheat and maize."""


@main.group()
def demo() -> None:
    """Build and check the embedded demo world."""


@demo.command("build")
@click.option("--profile", default="demo", show_default=True,
              help="tiny (a window, seconds) or demo (all of mainland China).")
@click.option("--seed", default=42, show_default=True, type=int)
@click.option("--out", default="data/demo", show_default=True, type=click.Path(),
              help="Folder for the generated stores.")
@click.option("--catalog", default=None, type=click.Path(),
              help=f"Catalog to write [default: {DEFAULT_CATALOG} for --out data/demo, "
                   "else <out>/cropsm.yaml].")
@click.option("--if-missing", is_flag=True, help="Do nothing if the catalog's stores exist.")
@click.option("--quiet", is_flag=True, help="No progress bars.")
def demo_build(profile: str, seed: int, out: str, catalog: str | None, if_missing: bool,
               quiet: bool) -> None:
    """Build the demo world, publish its stores and write the catalog."""
    from cropsm.demo.build import build
    from cropsm.demo.check import format_report
    from cropsm.demo.profiles import get_profile

    try:
        get_profile(profile)
    except ValueError as err:
        _fail(err)
    out_path = Path(out)
    if catalog is None:
        default_out = DEFAULT_CATALOG.parent.parent / "data" / "demo"
        catalog = DEFAULT_CATALOG if out_path.resolve() == default_out.resolve() else None
    report = out_path / "build_report.json"
    if if_missing and report.exists():
        done = json.loads(report.read_text())
        if done.get("profile") == profile and done.get("seed") == seed:
            click.echo(f"demo world ({profile}, seed {seed}) already built in {out_path}")
            return
    try:
        result = build(profile, out_path, catalog=catalog, seed=seed,
                       progress_factory=None if quiet else _tqdm_factory)
    except (OSError, ValueError) as err:
        _fail(err)
    click.echo(format_report(result))


@demo.command("check")
@click.option("--out", default="data/demo", show_default=True, type=click.Path())
def demo_check(out: str) -> None:
    """Print the check report of a built demo world."""
    from cropsm.demo.check import format_report

    path = Path(out) / "build_report.json"
    if not path.exists():
        _fail(FileNotFoundError(f"No build report in {out}; run `cropsm demo build` first."))
    click.echo(format_report(json.loads(path.read_text())))


@main.group()
def catalog() -> None:
    """Inspect the intake catalog."""


@catalog.command("show")
@click.option("--catalog", "path", default=str(DEFAULT_CATALOG), show_default=True)
def catalog_show(path: str) -> None:
    """List the catalog's entries and whether their stores exist."""
    from cropsm.io.catalog import CatalogError, open_catalog, read_entry

    try:
        cat = open_catalog(path)
    except CatalogError as err:
        _fail(err)
    for name in sorted(cat.entries):
        try:
            obj = read_entry(name, cat)
            size = dict(obj.sizes) if hasattr(obj, "sizes") else f"{len(obj)} rows"
            click.echo(f"{name:18s} ok   {size}")
        except CatalogError as err:
            click.echo(f"{name:18s} --   {err}")


if __name__ == "__main__":
    main()
