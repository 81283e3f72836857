"""``cropsm train`` and ``cropsm validate``: the forests, over :mod:`cropsm.pipelines`."""

from __future__ import annotations

import click

from cropsm.cli._options import (
    catalog_option,
    crop_depth_options,
    method_option,
    models_option,
    reports_option,
    selection,
    tqdm_factory,
)
from cropsm.rf.features import FEATURE_GROUPS, RAINFED_ONLY

__all__ = ["train", "validate"]


@click.command()
@crop_depth_options
@click.option("--tune", is_flag=True, help="10-fold CV grid search (cropsm.rf.model.TUNING_GRID).")
@catalog_option()
@models_option("Folder for the skops files and model cards.")
@click.option("--cir-training", type=click.Choice(["observed", "cross_fitted"]),
              default="observed", show_default=True,
              help="CIR the regressor learns from: observed (the paper) or out-of-fold "
                   "classifier predictions.")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--if-missing", is_flag=True, help="Skip models whose file and card exist.")
@click.option("--omit", "omit", multiple=True, type=click.Choice(list(FEATURE_GROUPS)),
              help="Also train reduced models without this feature group (repeatable), for "
                   "the feature-omission scenarios.")
@click.option("--rainfed", is_flag=True,
              help="With --method cropsm: also train its forest on the rain-fed stations "
                   "only, for the learned irrigation-off scenario (docs/scenarios.md).")
@method_option
def train(crop: str | None, depth: str | None, tune: bool, catalog_path: str, models_dir: str,
          cir_training: str, seed: int, if_missing: bool, omit: tuple[str, ...],
          rainfed: bool, method: str) -> None:
    """Train the models per crop x depth (90/10 within zones).

    The paper method: a CIR classifier and an SM regressor. The CropSM method: one forest
    on the paper's inputs plus rain memory, without CIR or position (docs/method.md).
    """
    from cropsm.pipelines.train import train_models

    if method == "cropsm" and (tune or omit or cir_training != "observed"):
        raise click.UsageError("--tune, --omit and --cir-training apply to --method paper.")
    if rainfed and method != "cropsm":
        raise click.UsageError("--rainfed trains a forest of the CropSM method; add "
                               "--method cropsm.")
    trained = train_models(catalog_path, models_dir, selection(crop, depth), tune=tune,
                           cir_training=cir_training, seed=seed, if_missing=if_missing,
                           omit=(RAINFED_ONLY,) if rainfed else omit, progress=tqdm_factory,
                           method=method)
    if not trained:
        click.echo(f"models already trained in {models_dir}")
    for m in trained:
        cropsm_method = method == "cropsm"
        s = m.scores["held_out" if cropsm_method else "held_out_cir_predicted"]
        how = "CropSM method" if cropsm_method else "CIR predicted"
        click.echo(f"{m.name}: {m.n_train} train, {m.n_test} held out; "
                   f"r {s['r']:.3f}, ubRMSE {s['ubrmse']:.4f} ({how}); "
                   f"{m.size_bytes / 1e6:.1f} MB; {m.seconds:.0f} s -> {m.path}")


@click.command()
@crop_depth_options
@catalog_option()
@reports_option("Folder for validation_<crop>_<depth>.json, the held-out predictions "
                "(samples_/classifier_/test_<crop>_<depth>.parquet) and summary.md.")
@click.option("--seed", default=0, show_default=True, type=int)
def validate(crop: str | None, depth: str | None, catalog_path: str, out: str,
             seed: int) -> None:
    """Write the validation report (JSON + Markdown) per crop x depth.

    For a catalog of real data (entries with role ``insitu``), score its gridded
    products against its stations instead.
    """
    from cropsm.pipelines.validate import validate_catalog

    run = validate_catalog(catalog_path, out, selection(crop, depth), seed=seed,
                           progress=tqdm_factory)
    click.echo(run.markdown)
