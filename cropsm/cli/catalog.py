"""``cropsm catalog ...``: inspect the intake catalog and its stores."""

from __future__ import annotations

import click

from cropsm.cli._options import catalog_option

__all__ = ["catalog"]


@click.group()
def catalog() -> None:
    """Inspect the intake catalog."""


@catalog.command("show")
@catalog_option("path")
def catalog_show(path: str) -> None:
    """List the catalog's entries and whether their stores exist."""
    from cropsm.pipelines.catalog_status import catalog_status

    for row in catalog_status(path).itertuples():
        click.echo(f"{row.entry:18s} {'ok' if row.status == 'ok' else '--':4s} {row.size}")


@catalog.command("check")
@catalog_option("path")
def catalog_check(path: str) -> None:
    """Read every chunk of every Zarr store of the catalog; name the damaged ones."""
    from cropsm.io.catalog import entry_path, open_catalog
    from cropsm.io.store import StoreError, verify_store

    cat = open_catalog(path)
    bad = 0
    for store in sorted({p for name in cat.entries if (p := entry_path(cat, name))
                         and p.endswith(".zarr")}):
        try:
            read, damaged = verify_store(store)
        except StoreError as err:  # reported per store; the others are still checked
            click.echo(f"{store}: {err}")
            bad += 1
            continue
        click.echo(f"{store}: {read} chunks read, {len(damaged)} damaged")
        for chunk in damaged:
            click.echo(f"  damaged: {chunk}")
        bad += bool(damaged)
    if bad:
        raise StoreError(f"{bad} store(s) damaged; rebuild them (`cropsm demo build`, "
                         "`cropsm predict --overwrite`).")
