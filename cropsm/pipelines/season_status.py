"""How far a ``cropsm predict --season`` run has got, for the dashboard to show.

The run writes a small JSON document beside the product store after each month it
publishes (``<store>.season.json``); a server reads it to say "filling 2018: 120 of 300
days, about 25 min left" rather than only counting the days the store holds.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from cropsm.io.store import StoreError, read_json, write_json

__all__ = ["SeasonStatus", "read_season_status", "season_status_path"]


def season_status_path(store: str | Path) -> Path:
    """Where the season run of product store ``store`` writes its status."""
    store = Path(store)
    return store.parent / f"{store.name}.season.json"


@dataclass
class SeasonStatus:
    """A season run's progress.

    Attributes
    ----------
    season : int
        The year being filled.
    days_planned : int
        Days the run set out to predict (those missing when it started).
    days_done : int
        Days predicted and published so far.
    state : {"running", "done", "failed", "stopped"}
        ``stopped``: the status says running but its process is gone (killed).
    started, updated : float
        Unix times of the start and of the last update.
    error : str
        Why a failed run stopped.
    pid : int
    host : str
    """

    season: int
    days_planned: int
    days_done: int = 0
    state: str = "running"
    started: float = field(default_factory=time.time)
    updated: float = field(default_factory=time.time)
    error: str = ""
    pid: int = field(default_factory=os.getpid)
    host: str = field(default_factory=socket.gethostname)

    def write(self, store: str | Path, **changes) -> None:
        """Apply ``changes``, stamp the time and write the status atomically."""
        for name, value in changes.items():
            setattr(self, name, value)
        self.updated = time.time()
        path = season_status_path(store)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_json(asdict(self), path)

    @property
    def fraction(self) -> float:
        """Share of the planned days done (1 when none were planned)."""
        return self.days_done / self.days_planned if self.days_planned else 1.0

    def seconds_left(self) -> float | None:
        """Time to the end at the rate so far; None before the first month lands."""
        if self.state != "running" or self.days_done == 0:
            return None
        rate = (self.updated - self.started) / self.days_done
        return rate * (self.days_planned - self.days_done)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: it exists
        return True
    return True


def read_season_status(store: str | Path) -> SeasonStatus | None:
    """The status of the last season run of ``store``; None if it never had one.

    A status left ``running`` by a process of this machine that no longer exists reads
    as ``stopped``. An unreadable status reads as None: it is advice, not data.
    """
    path = season_status_path(store)
    if not path.exists():
        return None
    try:
        status = SeasonStatus(**read_json(path))
    except (StoreError, TypeError):
        return None
    if status.state == "running" and status.host == socket.gethostname() and \
            not _alive(status.pid):
        status.state = "stopped"
    return status
