"""How the command line reports failures.

A :class:`cropsm.core.errors.CropSMError` is an input CropSM refuses; its message says
what to do, so it is shown as a one-line error (exit status 1). Usage errors stay
click's (exit status 2). Any other exception is a bug: its traceback goes to the
``cropsm`` logger under a short id, which appends it to ``CROPSM_LOG`` (default
``cropsm.log``); the user sees the id and that file, not the traceback.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import click

from cropsm.config import settings
from cropsm.core.errors import CropSMError

__all__ = ["CropSMGroup"]

_LOG = logging.getLogger("cropsm")


class CropSMGroup(click.Group):
    """A click group whose commands' errors become :class:`click.ClickException`."""

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; turn CropSM's errors and bugs into one-line messages."""
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Abort,
                click.exceptions.Exit):
            raise  # click's own: usage errors, --help, Ctrl-C
        except CropSMError as err:
            raise click.ClickException(str(err)) from err
        except Exception as err:
            incident = uuid.uuid4().hex[:8]
            where = _log_incident(incident, err)
            raise click.ClickException(
                f"internal error {incident}; its traceback is in {where}. Please report it."
            ) from err


def _log_incident(incident: str, err: Exception) -> str:
    """Log ``err`` with its traceback to the log file; where it went, for the message."""
    path = settings().log
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.FileHandler(path, encoding="utf-8")
        where = str(path)
    except OSError:  # an unwritable log must not hide the error: fall back to stderr
        handler, where = logging.StreamHandler(), "the error output above"
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    _LOG.addHandler(handler)
    try:
        _LOG.error("internal error %s", incident, exc_info=err)
    finally:
        _LOG.removeHandler(handler)
        handler.close()
    return where
