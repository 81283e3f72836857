"""Real ``panel serve`` processes on loopback, for the browser, load and server tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import psutil

ROOT = Path(__file__).resolve().parents[1]
T = TypeVar("T")


def wait_until(condition: Callable[[], T], timeout: float, what: str,
               interval: float = 0.05) -> T:
    """Poll ``condition`` until it returns something true; that value, or TimeoutError.

    For conditions outside a browser page (files, ports, server logs); in a page, wait
    with Playwright (``expect``, ``wait_for_function``, ``wait_for``) instead.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout} s")
        time.sleep(interval)


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def panel_command(port: int, *extra: str) -> list[str]:
    """``panel serve app.py`` on loopback, accepting websockets from its own origin only."""
    return [sys.executable, "-m", "panel", "serve", str(ROOT / "app.py"), "--port", str(port),
            "--address", "127.0.0.1", f"--allow-websocket-origin=127.0.0.1:{port}", *extra]


def serve(command: list[str], port: int, env: dict[str, str] | None = None,
          timeout: float = 90) -> subprocess.Popen:
    """Start a server and return once its port accepts connections."""
    # a file, not a pipe: a long run logs more than a pipe holds, and a full pipe blocks
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **(env or {})},
                            stdout=log, stderr=subprocess.STDOUT)
    proc.log_file = log  # read with server_log

    def listening() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(server_log(proc))
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except OSError:
            return False
        return True

    try:
        wait_until(listening, timeout, f"{' '.join(command)} listening on port {port}",
                   interval=0.2)
    except TimeoutError:
        stop(proc)
        raise
    return proc


def server_log(proc: subprocess.Popen) -> str:
    """What a server started by :func:`serve` has logged so far."""
    fd = proc.log_file.fileno()
    # pread: the server writes through the same file offset, so never move it
    return os.pread(fd, os.fstat(fd).st_size, 0).decode(errors="replace")


def stop(proc: subprocess.Popen) -> None:
    """Terminate a server, and the processes ``--num-procs`` forked from it, and wait."""
    try:
        forked = psutil.Process(proc.pid).children(recursive=True)
    except psutil.NoSuchProcess:  # ended already; its children, if any, are orphans
        forked = []
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=30)
    for child in forked:  # tornado's children outlive a terminated parent
        try:
            child.terminate()
        except psutil.NoSuchProcess:
            continue
    _, alive = psutil.wait_procs(forked, timeout=30)
    for child in alive:
        child.kill()
    proc.log_file.close()
