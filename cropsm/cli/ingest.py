"""``cropsm ingest CONFIG``: real-format inputs -> stores and a catalog."""

from __future__ import annotations

import click

__all__ = ["ingest"]


@click.command("ingest")
@click.argument("config", type=click.Path(dir_okay=False))
@click.option("--quiet", is_flag=True, help="Do not print the steps.")
def ingest(config: str, quiet: bool) -> None:
    """Read, check and regrid the inputs CONFIG names (docs/ingest.md) into a catalog.

    Then run `cropsm train`, `validate` and `predict` with `--catalog` set to the
    catalog it prints, and serve it with CROPSM_CATALOG=<catalog> panel serve app.py.
    """
    from cropsm.pipelines.ingest import ingest as run

    report = run(config, progress=None if quiet else (lambda step: click.echo(f"- {step}")))
    for warning in report["warnings"]:
        click.echo(f"warning: {warning}", err=True)
    t = report["timings"]
    click.echo(f"{report['stations']} stations, {report['observations']} observations, "
               f"grid {report['grid_shape'][0]} x {report['grid_shape'][1]} km, "
               f"{t['total_s']:.1f} s, peak {report['peak_traced_mb']:.0f} MB traced")
    click.echo(f"catalog: {report['catalog']}")
