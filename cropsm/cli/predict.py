"""``cropsm predict``: the daily product, over :func:`cropsm.pipelines.predict.predict_product`."""

from __future__ import annotations

import click

from cropsm.cli._options import (
    catalog_option,
    crop_depth_options,
    method_option,
    models_option,
    selection,
    tqdm_factory,
    years_callback,
)

__all__ = ["predict"]


@click.command()
@click.option("--start", default=None, help="First day, e.g. 2018-05-01 [default: the demo "
              "profile's prediction period].")
@click.option("--end", default=None, help="Last day (inclusive).")
@click.option("--season", default=None, type=int,
              help="A whole calendar year, e.g. 2018, instead of --start/--end.")
@click.option("--years", default=None, callback=years_callback,
              help="A climate record, FIRST-LAST, e.g. 1993-2017; written to the catalog's "
                   "soil_moisture_record store unless --out is given.")
@click.option("--every", default=1, show_default=True, type=click.IntRange(min=1),
              help="Predict every Nth cell in each direction (the record's density; 4 "
                   "for a climate record).")
@crop_depth_options
@click.option("--bbox", default=None, help="lon_min,lat_min,lon_max,lat_max in degrees.")
@click.option("--region", default=None,
              help="A province name or adcode, or a GeoJSON file of polygons (lon/lat).")
@click.option("--scheduler", default=None,
              help="Address of a running dask.distributed scheduler, e.g. tcp://host:8786.")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(min=0),
              help="Worker processes of the local cluster (0: run in this process).")
@catalog_option()
@models_option()
@click.option("--out", default=None, type=click.Path(),
              help="Product store [default: the catalog's soil_moisture entry].")
@click.option("--overwrite", is_flag=True,
              help="Start a new store even if the existing one has other model versions or "
                   "another period (the previous version is kept in .versions/).")
@click.option("--if-missing", is_flag=True,
              help="Do nothing if the store already holds these products, from these "
                   "models, for every day of the period.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@method_option
def predict(start: str | None, end: str | None, crop: str | None, depth: str | None,
            bbox: str | None, region: str | None, scheduler: str | None, workers: int,
            catalog_path: str, models_dir: str, out: str | None, overwrite: bool,
            if_missing: bool, quiet: bool, method: str, season: int | None,
            years: tuple[int, int] | None, every: int) -> None:
    """Predict daily 1 km SM into the product store (Zarr), resumably, on dask."""
    from cropsm.pipelines.predict import predict_product

    if bbox and region:
        raise click.UsageError("Give --bbox or --region, not both.")
    run = predict_product(catalog_path, models_dir, selection(crop, depth), start=start,
                          end=end, bbox=bbox, region=region, scheduler=scheduler,
                          workers=workers, out=out, overwrite=overwrite,
                          if_missing=if_missing, progress=None if quiet else tqdm_factory,
                          method=method, season=season, years=years, every=every)
    if run.skipped:
        click.echo(f"{run.target} already holds {', '.join(run.products)}")
    else:
        click.echo(f"{run.days} days x {len(run.products)} products in {run.seconds:.0f} s "
                   f"-> {run.target} ({run.version})")
