"""``python -m cropsm.app [panel serve options]``: serve the installed dashboard at ``/app``.

The catalog, models and reports are the ``CROPSM_*`` settings (:mod:`cropsm.config`),
relative to the working directory by default.
"""

from __future__ import annotations

import sys
from importlib.resources import files

__all__ = ["main"]


def main(argv: list[str] | None = None) -> None:
    """Run ``panel serve`` on the packaged ``app.py`` with ``argv`` as its options.

    The caches are warmed before the first session (``--setup`` with the packaged
    ``warm.py``) unless ``argv`` has a ``--setup`` of its own.

    Parameters
    ----------
    argv : list of str, optional
        ``panel serve`` options such as ``--port 5006``; default: the command line's.
    """
    from panel.command import main as panel_main

    options = sys.argv[1:] if argv is None else list(argv)
    if not any(option.startswith("--setup") for option in options):
        options += ["--setup", str(files("cropsm.app").joinpath("warm.py"))]
    # panel's entry point parses sys.argv, whatever it is passed
    sys.argv = ["panel", "serve", str(files("cropsm.app").joinpath("app.py")), *options]
    panel_main()


if __name__ == "__main__":
    main()
