"""``cropsm climatology`` and ``cropsm bulletin``: percentiles of the record, bulletins."""

from __future__ import annotations

import click

from cropsm.cli._options import (
    catalog_option,
    crop_depth_options,
    selection,
    tqdm_factory,
    years_callback,
)

__all__ = ["bulletin", "climatology", "trends"]


def _dekad(ctx: click.Context, param: click.Parameter, value: str) -> str:
    from cropsm.analysis.bulletin import dekad_bounds

    try:
        dekad_bounds(value)
    except ValueError as err:
        raise click.BadParameter(str(err)) from None
    return value


@click.command()
@crop_depth_options
@click.option("--years", default=None, callback=years_callback,
              help="FIRST-LAST years of the record to use [default: all its whole years].")
@click.option("--window", default=None, type=click.IntRange(min=1),
              help="Days pooled around each day of year (odd) [default: 31].")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(min=0),
              help="Worker processes (0: this process).")
@catalog_option()
@click.option("--if-missing", is_flag=True,
              help="Do nothing if the store already holds these products and years, from "
                   "this record.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def climatology(crop: str | None, depth: str | None, years: tuple[int, int] | None,
                window: int | None, workers: int, catalog_path: str, if_missing: bool,
                quiet: bool) -> None:
    """Day-of-year SM percentiles per cell from the climate record (xclim)."""
    from cropsm.analysis.percentiles import WINDOW_DAYS
    from cropsm.pipelines.climatology import compute_climatology

    run = compute_climatology(catalog_path, selection(crop, depth), years=years,
                              window=window or WINDOW_DAYS, workers=workers,
                              if_missing=if_missing, progress=None if quiet else tqdm_factory)
    if run.seconds == 0:
        click.echo(f"{run.target} already holds {run.years[0]}-{run.years[1]} percentiles of "
                   f"{', '.join(run.products)}")
        return
    click.echo(f"{run.years[0]}-{run.years[1]} percentiles of {', '.join(run.products)} at "
               f"{run.cells} record cells in {run.seconds:.0f} s -> {run.target}")


@click.command()
@click.option("--province", default=None, help="Province name (English or Chinese) or adcode.")
@click.option("--region", default=None, type=click.Path(exists=True, dir_okay=False),
              help="A GeoJSON file of polygons (lon/lat), instead of --province.")
@click.option("--dekad", required=True, callback=_dekad,
              help="YYYY-MM-D with D = 1, 2 or 3, e.g. 2018-05-2 (11-20 May).")
@click.option("--crop", type=click.Choice(["wheat", "maize"]), default="wheat",
              show_default=True)
@click.option("--depth", default="0-10cm", show_default=True,
              type=click.Choice(["0-10cm", "10-20cm"]))
@click.option("--scheme", type=click.Choice(["category", "grade"]), default="category",
              show_default=True,
              help="category: percentile categories D0-D4 against the climatology; grade: "
                   "GB/T 32136 grades of relative soil moisture.")
@click.option("--out", default=".", show_default=True, type=click.Path(file_okay=False),
              help="Folder the PNG and CSV are written to.")
@catalog_option()
def bulletin(province: str | None, region: str | None, dekad: str, crop: str, depth: str,
             scheme: str, out: str, catalog_path: str) -> None:
    """A dekad's drought bulletin for a province or region: PNG map and CSV table."""
    from pathlib import Path

    from cropsm.io import assets
    from cropsm.pipelines.bulletin import make_bulletin

    if bool(province) == bool(region):
        raise click.UsageError("Give --province or --region (one of them).")
    geometry = assets.read_geojson(region) if region else None
    made = make_bulletin(catalog_path, crop, depth, dekad, province=province,
                         geometry=geometry, scheme=scheme,
                         region_name=Path(region).stem if region else None)
    png, csv = made.write(out)
    click.echo(f"{png}\n{csv}")


@click.command()
@click.option("--crop", type=click.Choice(["wheat", "maize"]), default="wheat",
              show_default=True)
@click.option("--depth", default="0-10cm", show_default=True,
              type=click.Choice(["0-10cm", "10-20cm"]))
@click.option("--months", default=None,
              help="Months of each year to average, e.g. 3,4,5 [default: every day "
                   "predicted].")
@click.option("--out", required=True, type=click.Path(dir_okay=False),
              help="netCDF file of the trend maps (slope, z, p, significant).")
@catalog_option()
def trends(crop: str, depth: str, months: str | None, out: str, catalog_path: str) -> None:
    """Sen's slope and Mann-Kendall per record cell (Liu et al. Figs. 2-3) to netCDF."""
    from cropsm.io.export import netcdf_bytes
    from cropsm.io.store import write_bytes
    from cropsm.pipelines.trends import record_trends

    try:
        chosen = [int(m) for m in months.split(",")] if months else None
    except ValueError:
        raise click.BadParameter(f"{months!r}: months are numbers, e.g. 3,4,5.") from None
    maps = record_trends(catalog_path, crop, depth, chosen)
    write_bytes(netcdf_bytes(maps, {"product": f"CropSM {crop} {depth} climate record",
                                    "period": maps.attrs["period"]}), out)
    share = float(maps["significant"].mean())
    click.echo(f"{maps.attrs['period']}: {int(maps['slope'].notnull().sum())} cells with a "
               f"trend, {share:.0%} significant at p < 0.05 -> {out}")
