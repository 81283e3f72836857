"""Long runs started from a view: checked on the event loop, computed in a worker thread."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from cropsm.app.state import AppState
from cropsm.core.regions import RegionError
from cropsm.io.catalog import CatalogError
from cropsm.serve.predict import PredictError

__all__ = ["REFUSALS", "run_in_thread"]

#: Errors of the checks before a run: the run is refused with the error's message.
REFUSALS = (RegionError, PredictError, CatalogError, OSError, ValueError)


async def run_in_thread(state: AppState, label: str, prepare: Callable[[], tuple[str, tuple]],
                        work: Callable) -> tuple[tuple, object] | None:
    """Check and cost a run, then compute it off the event loop, one run per session.

    Parameters
    ----------
    state : AppState
        Its ``running`` flag guards the session and its ``message`` says what happens:
        ``"<label> refused: ..."``, ``"<label> failed: ..."`` or the running message.
    label : str
        What the analyst started, as the messages name it.
    prepare : callable
        Checks and costs on the event loop; returns the running message and the
        arguments of ``work``. Raising one of :data:`REFUSALS` refuses the run.
    work : callable
        The heavy part, run in a thread with the prepared arguments.

    Returns
    -------
    tuple or None
        ``(arguments, result)``, or None when the run was refused, failed or a run was
        already going.
    """
    if state.running:
        return None
    try:
        running_message, args = prepare()
    except REFUSALS as err:
        state.message = f"{label} refused: {err}"
        return None
    state.running = True
    state.message = running_message
    try:
        result = await asyncio.get_running_loop().run_in_executor(None, work, *args)
    except Exception as err:  # a failed run must leave the session usable
        state.message = f"{label} failed: {err}"
        return None
    finally:
        state.running = False
    return args, result
