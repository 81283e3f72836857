"""The served app in a real Chromium (Debian's), driven by Playwright."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.ui
CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[1]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served_app(tiny_world):
    _, catalog, _ = tiny_world
    port = _free_port()
    env = {**os.environ, "CROPSM_CATALOG": str(catalog)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "panel", "serve", str(ROOT / "app.py"), "--port", str(port),
         "--address", "127.0.0.1", f"--allow-websocket-origin=127.0.0.1:{port}"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=ROOT)
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError as err:
            if proc.poll() is not None:
                raise RuntimeError(proc.stdout.read().decode()) from err
            time.sleep(0.5)
    from cropsm.io.catalog import read_entry

    yield f"http://127.0.0.1:{port}/app", len(read_entry("stations", catalog))
    proc.terminate()
    proc.wait(timeout=20)


def test_app_page_renders_catalog_status_and_map(served_app, tmp_path):
    url, n_observations = served_app
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is required for UI tests: apt-get install chromium")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url, timeout=90_000)
        page.get_by_text("covariates_daily").first.wait_for(timeout=90_000)
        # the datashaded map is drawn on bokeh canvases inside the plot's shadow DOM
        page.locator(".bk-Figure canvas, .bk-Canvas canvas").first.wait_for(timeout=60_000)
        assert page.get_by_text("CropSM").first.is_visible()
        assert page.get_by_text(f"{n_observations} rows").first.is_visible()
        assert page.get_by_text("missing").first.is_visible()  # soil_moisture not built yet
        # choosing another crop redraws through the state object without errors
        page.get_by_role("combobox").first.select_option("maize")
        page.wait_for_timeout(2000)
        page.screenshot(path=str(tmp_path / "app.png"))
        browser.close()
    assert not errors, errors
