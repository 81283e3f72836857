"""Real ``panel serve`` processes on loopback, for the browser, load and server tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


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
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc
        except OSError as err:
            if proc.poll() is not None:
                log.seek(0)
                raise RuntimeError(log.read().decode()) from err
            time.sleep(0.5)
    proc.terminate()
    raise RuntimeError(f"{' '.join(command)} did not listen on port {port} in {timeout} s")


def stop(proc: subprocess.Popen) -> None:
    """Terminate a server and wait for it."""
    proc.terminate()
    proc.wait(timeout=30)
