"""How the command line reports failures.

A :class:`cropsm.core.errors.CropSMError` is an input CropSM refuses; its message says
what to do, so it is shown as a one-line error (exit status 1). Usage errors stay
click's (exit status 2). Any other exception is a bug: its traceback goes to the
``cropsm`` logger under a short id, and the user sees only that id.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import click

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
            _LOG.error("internal error %s", incident, exc_info=err)
            raise click.ClickException(f"internal error, logged as {incident}") from err
