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


@catalog.command("check")
@click.option("--catalog", "path", default=str(DEFAULT_CATALOG), show_default=True)
def catalog_check(path: str) -> None:
    """Read every chunk of every Zarr store of the catalog; name the damaged ones."""
    from cropsm.io.catalog import CatalogError, entry_path, open_catalog
    from cropsm.io.store import StoreError, verify_store

    try:
        cat = open_catalog(path)
    except CatalogError as err:
        _fail(err)
    bad = 0
    for store in sorted({p for name in cat.entries if (p := entry_path(cat, name))
                         and p.endswith(".zarr")}):
        try:
            read, damaged = verify_store(store)
        except StoreError as err:
            click.echo(f"{store}: {err}")
            bad += 1
            continue
        click.echo(f"{store}: {read} chunks read, {len(damaged)} damaged")
        for chunk in damaged:
            click.echo(f"  damaged: {chunk}")
        bad += bool(damaged)
    if bad:
        _fail(StoreError(f"{bad} store(s) damaged; rebuild them (`cropsm demo build`, "
                         "`cropsm predict --overwrite`)."))


def _load_training_inputs(catalog_path: str):
    from cropsm.io.catalog import open_catalog, read_entry

    cat = open_catalog(catalog_path)
    return {name: read_entry(name, cat) for name in
            ("covariates", "covariates_daily", "stations", "station_meta")}, cat


def _selection(crop: str | None, depth: str | None):
    from cropsm.core import crops

    return [(c, d) for c in crops.CROPS for d in crops.DEPTHS
            if (crop in (None, c)) and (depth in (None, d))]


@main.command()
@click.option("--crop", type=click.Choice(["wheat", "maize"]), default=None)
@click.option("--depth", type=click.Choice(["0-10cm", "10-20cm"]), default=None)
@click.option("--tune", is_flag=True, help="10-fold CV grid search (cropsm.rf.model.TUNING_GRID).")
@click.option("--catalog", "catalog_path", default=str(DEFAULT_CATALOG), show_default=True)
@click.option("--models", "models_dir", default="models", show_default=True,
              type=click.Path(), help="Folder for the skops files and model cards.")
@click.option("--cir-training", type=click.Choice(["observed", "cross_fitted"]),
              default="observed", show_default=True,
              help="CIR the regressor learns from: observed (the paper) or out-of-fold "
                   "classifier predictions.")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--if-missing", is_flag=True, help="Skip models whose file and card exist.")
@click.option("--omit", "omit", multiple=True,
              type=click.Choice(["precipitation", "soil", "pet_moisture", "cir", "position"]),
              help="Also train reduced models without this feature group (repeatable), for "
                   "the feature-omission scenarios.")
def train(crop, depth, tune, catalog_path, models_dir, cir_training, seed, if_missing, omit):
    """Train the CIR classifier and SM regressor per crop x depth (90/10 within zones)."""
    import time

    from tqdm import tqdm

    from cropsm.core import metrics
    from cropsm.io.catalog import CatalogError
    from cropsm.io.models import model_path, save_model
    from cropsm.rf import model as sm_model
    from cropsm.rf.features import BASE_FEATURES

    todo = [(c, d, group) for c, d in _selection(crop, depth) for group in (None, *omit)
            if not (if_missing and model_path(models_dir, c, d, group).with_suffix(
                ".card.json").exists())]
    if not todo:
        click.echo(f"models already trained in {models_dir}")
        return
    try:
        inputs, _ = _load_training_inputs(catalog_path)
        tables = {}
        for c, d, group in tqdm(todo, desc="models", file=sys.stderr):
            t0 = time.perf_counter()
            if (c, d) not in tables:
                tables[c, d] = sm_model.training_table(
                    inputs["covariates"], inputs["covariates_daily"], inputs["stations"],
                    inputs["station_meta"], c, d)
            table = tables[c, d]
            train_idx, test_idx = sm_model.split_within_zones(table, seed=seed)
            tuning = sm_model.tune(table.iloc[train_idx], seed) if tune else None
            params = tuning["best_params"] if tuning else None
            fitted = sm_model.fit_model(table.iloc[train_idx], c, d, params, seed,
                                        cir_training=cir_training, omit=group)
            held = table.iloc[test_idx]
            base = held[list(BASE_FEATURES)]
            scores = {
                "held_out_cir_predicted": metrics.skill_table(fitted.predict(base), held["sm"]),
                "held_out_cir_observed": metrics.skill_table(
                    fitted.predict(base, cir=held["CIR"]), held["sm"]),
                "tuning": tuning,
            }
            path = save_model(fitted, models_dir, cv_scores=scores)
            s = scores["held_out_cir_predicted"]
            name = f"{c}/{d}" + (f" without {group}" if group else "")
            click.echo(f"{name}: {len(train_idx)} train, {len(test_idx)} held out; "
                       f"r {s['r']:.3f}, ubRMSE {s['ubrmse']:.4f} (CIR predicted); "
                       f"{path.stat().st_size / 1e6:.1f} MB; {time.perf_counter() - t0:.0f} s "
                       f"-> {path}")
    except (CatalogError, ValueError, OSError) as err:
        _fail(err)


@main.command()
@click.option("--crop", type=click.Choice(["wheat", "maize"]), default=None)
@click.option("--depth", type=click.Choice(["0-10cm", "10-20cm"]), default=None)
@click.option("--catalog", "catalog_path", default=str(DEFAULT_CATALOG), show_default=True)
@click.option("--out", default="docs/validation", show_default=True, type=click.Path(),
              help="Folder for validation_<crop>_<depth>.json, the held-out predictions "
                   "(samples_/classifier_<crop>_<depth>.parquet) and summary.md.")
@click.option("--seed", default=0, show_default=True, type=int)
def validate(crop, depth, catalog_path, out, seed):
    """Write the validation report (JSON + Markdown) per crop x depth."""
    from tqdm import tqdm

    from cropsm.analysis import validation
    from cropsm.analysis.product_comparison import compare_products
    from cropsm.io.catalog import CatalogError, read_entry
    from cropsm.io.store import write_json, write_parquet_file
    from cropsm.rf import model as sm_model

    try:
        from cropsm.io.catalog import entries_with_role, open_catalog

        cat = open_catalog(catalog_path)
        if entries_with_role(cat, "insitu"):
            _validate_insitu(cat, Path(out))
            return
        inputs, cat = _load_training_inputs(catalog_path)
        truth = read_entry("truth", cat) if "truth" in cat.entries else None
        reports = []
        for c, d in _selection(crop, depth):
            table = sm_model.training_table(inputs["covariates"], inputs["covariates_daily"],
                                            inputs["stations"], inputs["station_meta"], c, d)
            bar = tqdm(total=6, desc=f"validate {c}/{d}", file=sys.stderr)
            report = validation.validate(table, c, d, seed=seed, progress=bar.update)
            if truth is not None:
                report["truth_window"] = validation.truth_window_report(
                    table, inputs["covariates"], inputs["covariates_daily"],
                    inputs["station_meta"], truth, c, d, seed)
                report["product_comparison"] = compare_products(
                    report["tables"]["samples"], inputs["station_meta"],
                    truth["sm"].sel(crop=c, depth="0-10cm"), c, seed)
            bar.update(1)
            bar.close()
            Path(out).mkdir(parents=True, exist_ok=True)
            for name, frame in report.pop("tables").items():
                write_parquet_file(frame, Path(out) / f"{name}_{c}_{d}.parquet")
            write_json(report, Path(out) / f"validation_{c}_{d}.json", default=float)
            reports.append(report)
        (Path(out) / "summary.md").write_text(validation.markdown_summary(reports))
        click.echo(validation.markdown_summary(reports))
    except (CatalogError, ValueError, OSError) as err:
        _fail(err)


def _validate_insitu(cat, out: Path) -> None:
    """Score every ``product`` entry of a real-data catalog against every ``insitu`` one."""
    from cropsm.analysis import validation
    from cropsm.analysis.product_comparison import compare_insitu
    from cropsm.io.catalog import entries_with_role, read_entry
    from cropsm.io.store import write_json

    products = {}
    for name in entries_with_role(cat, "product"):
        data = read_entry(name, cat)
        variable = cat.entries[name].metadata.get("variable", "sm")
        products[name] = data[variable] if hasattr(data, "data_vars") else data
    if not products:
        raise ValueError("The catalog has in-situ entries but no entry with metadata "
                         "role 'product' to compare them with.")
    comparison, described = {}, {}
    for name in entries_with_role(cat, "insitu"):
        obs = read_entry(name, cat)
        surface = obs[obs["depth"] == "0-10cm"]
        comparison[name] = compare_insitu(surface, products)
        described[name] = (f"{obs['station_id'].nunique()} station(s), {len(surface)} daily "
                           f"0-10 cm observation(s) kept "
                           f"(quality flags kept: {', '.join(obs.attrs.get('keep_flags', []))})")
    out.mkdir(parents=True, exist_ok=True)
    write_json({"comparison": comparison, "observations": described},
               out / "insitu_comparison.json", default=float)
    text = validation.insitu_markdown(comparison, described)
    (out / "insitu_comparison.md").write_text(text)
    click.echo(text)


@main.command()
@click.option("--start", default=None, help="First day, e.g. 2018-05-01 [default: the demo "
              "profile's prediction period].")
@click.option("--end", default=None, help="Last day (inclusive).")
@click.option("--crop", type=click.Choice(["wheat", "maize"]), default=None)
@click.option("--depth", type=click.Choice(["0-10cm", "10-20cm"]), default=None)
@click.option("--bbox", default=None, help="lon_min,lat_min,lon_max,lat_max in degrees.")
@click.option("--region", default=None,
              help="A province name or adcode, or a GeoJSON file of polygons (lon/lat).")
@click.option("--scheduler", default=None,
              help="Address of a running dask.distributed scheduler, e.g. tcp://host:8786.")
@click.option("--workers", default=2, show_default=True, type=int,
              help="Worker processes of the local cluster (0: run in this process).")
@click.option("--catalog", "catalog_path", default=str(DEFAULT_CATALOG), show_default=True)
@click.option("--models", "models_dir", default="models", show_default=True, type=click.Path())
@click.option("--out", default=None, type=click.Path(),
              help="Product store [default: the catalog's soil_moisture entry].")
@click.option("--overwrite", is_flag=True,
              help="Start a new store even if the existing one has other model versions or "
                   "another period (the previous version is kept in .versions/).")
@click.option("--if-missing", is_flag=True,
              help="Do nothing if the store already holds these products and dates.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def predict(start, end, crop, depth, bbox, region, scheduler, workers, catalog_path,
            models_dir, out, overwrite, if_missing, quiet):
    """Predict daily 1 km SM into the product store (Zarr), resumably, on dask."""
    import time

    from cropsm.core.regions import RegionError, parse_bbox, province_region
    from cropsm.demo.profiles import get_profile
    from cropsm.io import assets
    from cropsm.io.catalog import CatalogError, entry_path, open_catalog, read_entry
    from cropsm.io.models import ModelFileError, model_path, read_card
    from cropsm.io.product import product_versions
    from cropsm.serve import engine
    from cropsm.serve.models import load_model
    from cropsm.serve.predict import PredictError, ServingModel

    if bbox and region:
        _fail(ValueError("Give --bbox or --region, not both."))
    try:
        cat = open_catalog(catalog_path)
        if start is None or end is None:
            period = get_profile(cat.metadata.get("profile", "demo")).prediction_period
            start, end = start or period[0], end or period[1]
        target = Path(out) if out else Path(entry_path(cat, "soil_moisture"))
        selection = _selection(crop, depth)
        if if_missing and (target / "zarr.json").exists():
            have = product_versions(target)
            shas = {f"{c}/{d}": read_card(model_path(models_dir, c, d)).get("sha256")
                    for c, d in selection}
            if all(have.get(k) == v for k, v in shas.items()):
                click.echo(f"{target} already holds {', '.join(shas)}")
                return
        covariates = read_entry("covariates", cat)
        daily = read_entry("covariates_daily", cat)
        mask = None
        if bbox or region:
            if bbox:
                geometry = parse_bbox(bbox)
            elif Path(region).exists():
                geometry = assets.read_geojson(region)
            else:
                geometry = province_region(region, assets.read_provinces())
            mask = engine.region_of(geometry, covariates, assets.read_boundary())
        models = {}
        for c, d in selection:
            path = model_path(models_dir, c, d)
            sha = read_card(path).get("sha256", "")
            models[(c, d)] = ServingModel.from_model(load_model(path, c, d), sha)
        plan = engine.plan_run(covariates, daily, entry_path(cat, "covariates"),
                               entry_path(cat, "covariates_daily"), target, start, end,
                               models, mask, overwrite)
        t0 = time.perf_counter()
        bar = None if quiet else _tqdm_factory("blocks", plan.n_tasks)
        published = engine.run(plan, scheduler=scheduler, workers=workers, progress=bar)
    except (CatalogError, ModelFileError, PredictError, RegionError, OSError) as err:
        _fail(err)
    click.echo(f"{len(plan.dates)} days x {len(plan.models)} products in "
               f"{time.perf_counter() - t0:.0f} s -> {target} ({published.name})")


from cropsm.cli.network import network  # noqa: E402  (registered after main is defined)

main.add_command(network)

