"""Errors shown to the analyst, and long runs started from a view.

Long runs (regions, scenarios, the network) compute off the event loop in one pool per
server process, as many at once as the machine has cores; a run submitted while the
pool is busy waits in order, and its analyst sees how many runs are ahead.

A :class:`~cropsm.core.errors.CropSMError` is a refusal whose message says what to do, so
the page shows it. Anything else is a bug: the analyst sees a short id, the log
(``cropsm.app``) the traceback under the same id.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from cropsm.app.i18n import tr
from cropsm.app.state import AppState
from cropsm.core.errors import CropSMError

__all__ = ["internal_error", "run_in_thread", "show_error"]

logger = logging.getLogger("cropsm.app")

#: Long runs computing at once, whatever the number of sessions. Each run already uses
#: every core (the forests' compiled loops), so a second one mostly overlaps the other's
#: reading; more would hold more regions in memory for no speed. The rest wait in order.
JOB_WORKERS = 2
#: How often a waiting run tells its analyst its place in the queue (s).
QUEUE_REFRESH_S = 1.0
_POOL = ThreadPoolExecutor(max_workers=JOB_WORKERS, thread_name_prefix="cropsm-run")
_QUEUE: list[object] = []  # runs submitted and not yet started, oldest first
_RUNNING = 0  # runs computing now
_LOCK = threading.Lock()


def internal_error(label: str, lang: str = "en") -> str:
    """Log the exception being handled with its traceback; the text that shows its id.

    Call it from an ``except`` block.

    Parameters
    ----------
    label : str
        What the analyst was doing, as the log line and the text name it (the log in
        English, the text in ``lang``).
    lang : str
        The page's language (:mod:`cropsm.app.i18n`).

    Returns
    -------
    str
        ``"<label>: internal error, logged as <id>"``.
    """
    ident = uuid.uuid4().hex[:8]
    logger.exception("%s: internal error %s", label, ident)
    return tr("{label}: internal error, logged as {id}", lang).format(label=tr(label, lang),
                                                                      id=ident)


def show_error(state: AppState, label: str, err: Exception, outcome: str = "refused",
               level: str = "warning") -> None:
    """Post a refusal's message, or log an internal error and post its id.

    Call it from an ``except`` block, so the log has the traceback.

    Parameters
    ----------
    state : AppState
        Where the message goes.
    label : str
        What the analyst did, e.g. ``"Run"``: English, translated with
        :func:`cropsm.app.i18n.tr` (so it needs an entry in ``ZH``).
    err : Exception
        The caught exception.
    outcome : str
        What happened to it when ``err`` is a refusal: ``"<label> <outcome>: <err>"``;
        translated as ``label`` is.
    level : str
        The level of a refusal's message; an internal error is always ``"error"``.

    The fixed words are in the state's language; the refusal's own message as raised.
    """
    lang = state.lang
    if isinstance(err, CropSMError):
        state.post(tr("{label} {outcome}: {err}", lang).format(
            label=tr(label, lang), outcome=tr(outcome, lang), err=err), level)
    else:
        state.post(internal_error(label, lang), "error")


async def run_in_thread(state: AppState, label: str,
                        prepare: Callable[[], tuple[str, tuple[Any, ...]]],
                        work: Callable[..., Any]) -> tuple[tuple[Any, ...], Any] | None:
    """Check and cost a run, then compute it off the event loop, one run per session.

    Parameters
    ----------
    state : AppState
        Its ``running`` flag guards the session and its message says what happens:
        ``"<label> refused: ..."`` (a warning), ``"<label> failed: ..."`` (an error),
        ``"<label> ...: internal error, logged as <id>"`` or the running message.
    label : str
        What the analyst started, as the messages name it (English, translated as
        :func:`show_error` does).
    prepare : callable
        Checks and costs on the event loop; returns the running message (already in the
        state's language) and the arguments of ``work``. Raising a
        :class:`~cropsm.core.errors.CropSMError` refuses the run.
    work : callable
        The heavy part, run in the shared pool with the prepared arguments.

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
    except Exception as err:  # show_error logs what is not a refusal
        show_error(state, label, err)
        return None
    state.running = True
    state.post(running_message)
    ticket = object()
    with _LOCK:
        _QUEUE.append(ticket)
    started = threading.Event()

    def task(*task_args: Any) -> Any:
        global _RUNNING
        with _LOCK:
            _QUEUE.remove(ticket)
            _RUNNING += 1
        started.set()
        try:
            return work(*task_args)
        finally:
            with _LOCK:
                _RUNNING -= 1

    try:
        future = asyncio.get_running_loop().run_in_executor(_POOL, task, *args)
        while not started.is_set() and not future.done():
            ahead = _ahead_of(ticket)
            if ahead:
                state.post(running_message + " " + tr(
                    "Waiting: {n} run(s) of other analysts ahead of this one (computing or "
                    "queued).", state.lang).format(n=ahead))
            await asyncio.wait([future], timeout=QUEUE_REFRESH_S)
        if not future.done():
            state.post(running_message)
        result = await future
    except Exception as err:  # a failed run must leave the session usable
        show_error(state, label, err, "failed", "error")
        return None
    finally:
        with _LOCK:
            if ticket in _QUEUE:  # never started (the pool refused it, or a cancel)
                _QUEUE.remove(ticket)
        state.running = False
    return args, result


def _ahead_of(ticket: object) -> int:
    """Runs computing or waiting before ``ticket`` (0 once it has started)."""
    with _LOCK:
        return _QUEUE.index(ticket) + _RUNNING if ticket in _QUEUE else 0
