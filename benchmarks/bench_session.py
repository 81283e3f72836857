"""A session's cost to the server, and the first page after a server starts (issue 21).

Run after ``make run`` has built the demo world and its product::

    .venv/bin/python benchmarks/bench_session.py [--repeat 5]

1. **Server time of a new session**, the median of ``--repeat`` sessions in this process
   after one warm-up:

   - the page (``create_app()``), side by side with the previous page, which built every
     tab's view with the page (the same call, then every tab built);
   - the page served into a new Bokeh document by :func:`cropsm.app.serve_page` (the
     document's model graph frozen), side by side with ``create_app().server_doc(doc)``
     unfrozen, as ``create_app().servable()`` served it before. This
     is the session's cost up to sending the document; the browser's first plot-size
     event then re-renders the map (``bench_dashboard.py``'s date switch).

   A profile of one session follows.
2. **First page after a server starts**: ``python -m cropsm.app`` with its cache
   warm-up (``--setup cropsm/app/warm.py``), against the same server with an empty
   setup, both in Debian's Chromium: seconds from the port opening to the map drawn.

Each line prints the measured time, the baseline, their ratio and the budget.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import platform
import pstats
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from pages import MAP_READY  # noqa: E402


def _line(name: str, seconds: float, baseline: float, budget: float) -> None:
    print(f"{name:52s} {seconds:7.2f} s  baseline {baseline:7.2f} s  ratio "
          f"{baseline / seconds:5.2f}x  budget {budget:4.1f} s  "
          f"{'met' if seconds <= budget else 'NOT met'}", flush=True)


def session_cost(repeat: int) -> None:
    import panel as pn

    from cropsm.app import create_app, serve_page

    pn.extension("tabulator")

    def lazy() -> None:
        create_app()

    def eager() -> None:
        page = create_app()
        tabs = page.main[0][-1]
        for index in range(len(tabs)):
            tabs.active = index  # builds the tab's view, as the old page did for all

    def median(fn) -> float:
        fn()
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        return statistics.median(times)

    def served(freeze: bool):
        def serve() -> None:
            from bokeh.document import Document

            if freeze:
                serve_page(Document())
            else:
                create_app().server_doc(Document())
        return serve

    _line("server time of a new session (page build)", median(lazy), median(eager), 0.5)
    _line("page served into its document (serve_page)", median(served(True)),
          median(served(False)), 0.5)
    profile = cProfile.Profile()
    profile.runcall(served(True))
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(
        r"cropsm/app", 8)
    print("  profile of one session, cropsm.app functions by cumulative time:")
    for text in out.getvalue().splitlines():
        if "cropsm/app" in text:
            print("   ", text.strip()[:120])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def first_page(setup: str, browser) -> tuple[float, float]:
    """Seconds to the port opening and from then to the map drawn."""
    port = _free_port()
    env = {"CROPSM_REPORTS": str(ROOT / "docs" / "validation"), **os.environ}
    t0 = time.perf_counter()
    server = subprocess.Popen(
        [sys.executable, "-m", "cropsm.app", "--port", str(port), "--address", "127.0.0.1",
         f"--allow-websocket-origin=127.0.0.1:{port}", "--setup", setup],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.perf_counter() - t0 > 300:
                    raise RuntimeError("the server did not start") from None
                time.sleep(0.1)
        started = time.perf_counter()
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        page.goto(f"http://127.0.0.1:{port}/app", timeout=300_000)
        page.wait_for_function(MAP_READY, arg="", timeout=300_000)
        shown = time.perf_counter()
        page.close()
        return started - t0, shown - started
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("CROPSM_REPORTS", str(ROOT / "docs" / "validation"))
    print(f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores; python "
          f"{platform.python_version()}; date {time.strftime('%Y-%m-%d')}")
    session_cost(args.repeat)

    from playwright.sync_api import sync_playwright

    with tempfile.NamedTemporaryFile("w", suffix=".py") as empty, sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                    args=["--no-sandbox", "--disable-gpu"])
        cold_start, cold = first_page(empty.name, browser)
        warm_start, warm = first_page(str(ROOT / "cropsm" / "app" / "warm.py"), browser)
        browser.close()
    _line("first page after server start (port open -> map drawn)", warm, cold, 5.0)
    print(f"  server start to port open: {warm_start:.1f} s warmed, {cold_start:.1f} s "
          "without the warm-up")


if __name__ == "__main__":
    main()
