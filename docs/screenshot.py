"""Take the README's screenshot: serve the app, open a view in Chromium, save a PNG.

    .venv/bin/python docs/screenshot.py [--out docs/img/dashboard.png] [--query "..."]

Run it from the repository root, like ``make run``: the server is the installed package's
app (``python -m cropsm.app``) with the ``CROPSM_*`` settings of the environment, by
default the demo world under the working directory and the reports in
``docs/validation``. The browser is Debian's chromium.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

QUERY = "crop=wheat&depth=0-10cm&layer=sm&date=2018-05-05&region=Henan"


def main() -> None:
    """Serve, open, screenshot, stop."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="docs/img/dashboard.png")
    parser.add_argument("--query", default=QUERY)
    args = parser.parse_args()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "cropsm.app", "--port", str(port), "--address", "127.0.0.1",
         f"--allow-websocket-origin=127.0.0.1:{port}"],
        env={"CROPSM_REPORTS": "docs/validation", **os.environ},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.5)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                        args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.goto(f"http://127.0.0.1:{port}/app?{args.query}", timeout=180_000)
            page.locator(".bk-Canvas canvas").first.wait_for(timeout=180_000)
            page.wait_for_timeout(5000)
            Path(args.out).parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=args.out)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(args.out)


if __name__ == "__main__":
    main()
