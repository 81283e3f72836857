"""Options and helpers the commands share: choices from constants, defaults from settings."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import click

from cropsm.config import settings
from cropsm.core import crops

__all__ = ["catalog_option", "crop_depth_options", "method_option", "models_option",
           "reports_option",
           "selection", "tqdm_factory", "years_callback"]

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def catalog_option(name: str = "catalog_path") -> Decorator:
    """``--catalog``, default the settings' catalog (read when the command runs)."""
    return click.option("--catalog", name, default=lambda: str(settings().catalog),
                        show_default="$CROPSM_CATALOG, else <home>/catalogs/cropsm.yaml",
                        type=click.Path(dir_okay=False), help="The intake catalog.")


def models_option(help: str = "Folder of the skops files and model cards.") -> Decorator:
    """``--models``, default the settings' models folder."""
    return click.option("--models", "models_dir", default=lambda: str(settings().models),
                        show_default="$CROPSM_MODELS, else <home>/models",
                        type=click.Path(file_okay=False), help=help)


def reports_option(help: str) -> Decorator:
    """``--out`` for reports, default the settings' reports folder."""
    return click.option("--out", default=lambda: str(settings().reports),
                        show_default="$CROPSM_REPORTS, else <home>/reports",
                        type=click.Path(file_okay=False), help=help)


def method_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--method``: the paper's method (the default) or CropSM's (docs/method.md)."""
    from cropsm.rf.features import METHODS

    return click.option("--method", type=click.Choice(list(METHODS)), default="paper",
                        show_default=True,
                        help="paper: ChinaCropSM1km's classifier + regressor; cropsm: one "
                             "forest with rain memory, without CIR or position "
                             "(docs/method.md).")(func)


def crop_depth_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--crop`` and ``--depth``, each one of the product's (default: all)."""
    func = click.option("--depth", type=click.Choice(crops.DEPTHS), default=None,
                        help="Only this depth [default: all].")(func)
    return click.option("--crop", type=click.Choice(crops.CROPS), default=None,
                        help="Only this crop [default: all].")(func)


def selection(crop: str | None, depth: str | None) -> list[tuple[str, str]]:
    """The (crop, depth) pairs ``--crop`` and ``--depth`` select."""
    return [(c, d) for c in crops.CROPS for d in crops.DEPTHS
            if crop in (None, c) and depth in (None, d)]


def tqdm_factory(desc: str, total: int) -> Callable[[int], None]:
    """A tqdm bar on stderr, closed when full: a :data:`ProgressFactory` for the pipelines."""
    from tqdm import tqdm

    bar = tqdm(total=total, desc=desc, unit="step", leave=True, file=sys.stderr)

    def update(n: int) -> None:
        bar.update(n)
        if bar.n >= total:
            bar.close()

    return update


def years_callback(ctx: click.Context, param: click.Parameter, value: str | None
                   ) -> tuple[int, int] | None:
    """``FIRST-LAST`` years as a pair of ints, or a usage error naming the value."""
    if value is None:
        return None
    try:
        first, last = (int(part) for part in value.split("-"))
    except ValueError:
        raise click.BadParameter(f"{value!r}: write FIRST-LAST, e.g. 1993-2017.") from None
    return first, last
