"""Settings: the ``CROPSM_*`` environment variables, read once.

Every default path is relative to the working directory, or to ``CROPSM_HOME`` when that
is set; none is relative to the source tree, so an installed package writes where its
user works.

==================  ===================================  ==============================
variable            meaning                              default
==================  ===================================  ==============================
``CROPSM_HOME``     folder the other defaults live in    the working directory
``CROPSM_DATA``     generated stores                     ``<home>/data``
``CROPSM_MODELS``   skops model files and cards          ``<home>/models``
``CROPSM_CATALOG``  the intake catalog                   ``<home>/catalogs/cropsm.yaml``
``CROPSM_REPORTS``  validation reports                   ``<home>/reports``
``CROPSM_ASSETS``   real data the demo is built on       the package's bundled assets
``CROPSM_LOG``      tracebacks of the CLI's internal     ``<home>/cropsm.log``
                    errors
==================  ===================================  ==============================
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

__all__ = ["Settings", "settings"]


@dataclass(frozen=True)
class Settings:
    """Where CropSM reads and writes by default.

    Attributes
    ----------
    home : pathlib.Path
        Folder the defaults below are relative to.
    data, models, catalog, reports : pathlib.Path
        Generated stores, model files, the intake catalog, validation reports.
    assets : pathlib.Path or None
        Real data the demo world is built on; None means the bundled package data.
    log : pathlib.Path
        File the command line appends the traceback of an internal error to.
    """

    home: Path
    data: Path
    models: Path
    catalog: Path
    reports: Path
    assets: Path | None
    log: Path

    @property
    def demo_data(self) -> Path:
        """Folder of the demo world's stores."""
        return self.data / "demo"

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Settings from ``environ`` (default: :data:`os.environ`), as described above."""
        env = os.environ if environ is None else environ
        home = Path(env.get("CROPSM_HOME", "."))

        def path(name: str, default: Path) -> Path:
            return Path(env[name]) if env.get(name) else default

        assets = env.get("CROPSM_ASSETS")
        return cls(home=home,
                   data=path("CROPSM_DATA", home / "data"),
                   models=path("CROPSM_MODELS", home / "models"),
                   catalog=path("CROPSM_CATALOG", home / "catalogs" / "cropsm.yaml"),
                   reports=path("CROPSM_REPORTS", home / "reports"),
                   assets=Path(assets) if assets else None,
                   log=path("CROPSM_LOG", home / "cropsm.log"))


@lru_cache(maxsize=1)
def settings() -> Settings:
    """The process's settings, read from the environment on first use."""
    return Settings.from_environ()
