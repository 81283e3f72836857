"""Load and soak against a real ``panel serve`` on loopback, with headless Chromium pages.

Load: concurrent sessions each open the app on a crop and region, step the date and run
the model on the region. Their latencies (p50, p95), errors and cross-session mix-ups
are measured; a mix-up is a session whose run result differs from a single-user
baseline of the same crop and region, so the goal is 0.

Soak: sessions opened and closed one after another while the server's RSS is sampled;
the figure is the RSS slope per 100 sessions over the second half of the run.

None of them is in the default run (marker ``load``). The bounded forms, 6 concurrent
sessions and a 40-session soak (about 10 minutes on 2 cores): ``pytest -m "load and not slow"
tests/test_load.py``. The issue's 20 concurrent sessions and 500-session soak are also
marked slow (an hour or so each): ``pytest -m "load and slow" tests/test_load.py``.
``docs/reliability.md`` has their figures.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
from pathlib import Path

import numpy as np
import psutil
import pytest
from servers import free_port, panel_command, serve, server_log, stop, wait_until

pytestmark = [pytest.mark.ui, pytest.mark.load]
CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[1]
BOXES = ((116.0, 39.0, 116.8, 39.8), (115.6, 38.8, 116.3, 39.4))
COMBOS = [(crop, box) for crop in ("wheat", "maize") for box in BOXES]
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run",
               "--disable-dev-shm-usage"]


@pytest.fixture(scope="module")
def server(served_catalog, tiny_models):
    port = free_port()
    # closed sessions are dropped after 2 s unused (default 15 s), so the soak sees cleanup;
    # at log level info the server logs each session's creation and destruction
    proc = serve(panel_command(port, "--unused-session-lifetime", "2000",
                               "--check-unused-sessions", "1000"), port,
                 {"CROPSM_CATALOG": str(served_catalog), "CROPSM_MODELS": str(tiny_models),
                  "PANEL_LOG_LEVEL": "info"})
    yield proc, f"http://127.0.0.1:{port}/app"
    stop(proc)


async def _session(browser, url: str, crop: str, box, timings: dict) -> str:
    """One analyst: open on a crop and region, step the date, run the region; its result."""
    region = ",".join(str(v) for v in box)
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        t0 = time.perf_counter()
        await page.goto(f"{url}?crop={crop}&region={region}&date=2018-05-01",
                        timeout=900_000)
        await page.locator(".bk-Canvas canvas").first.wait_for(timeout=900_000)
        timings.setdefault("open", []).append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        await page.locator("button.next").click()
        await page.wait_for_function("() => location.search.includes('date=2018-05-02')",
                                     timeout=900_000)
        timings.setdefault("date step", []).append(time.perf_counter() - t0)
        await page.locator(".bk-tab", has_text="Region").click()
        t0 = time.perf_counter()
        await page.get_by_role("button", name="Run the model on the region").click()
        done = page.get_by_text(re.compile("Run (finished|refused|failed)")).first
        await done.wait_for(timeout=900_000)
        timings.setdefault("region run", []).append(time.perf_counter() - t0)
        text = await done.inner_text()
        stats = await page.get_by_text(re.compile(r"km² of \w+ cropland")).first.inner_text()
        if errors:
            raise RuntimeError("; ".join(errors))
        return hashlib.sha256(f"{text}|{stats}".encode()).hexdigest()[:16]
    finally:
        await context.close()


async def _load(url: str, sessions: int):
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        baseline_timings: dict = {}
        baseline = {}
        for crop, box in COMBOS:  # one analyst at a time
            baseline[(crop, box)] = await _session(browser, url, crop, box, baseline_timings)
        timings: dict = {}
        combos = [COMBOS[i % len(COMBOS)] for i in range(sessions)]
        t0 = time.perf_counter()
        results = await asyncio.gather(*(_session(browser, url, crop, box, timings)
                                          for crop, box in combos), return_exceptions=True)
        wall = time.perf_counter() - t0
        await browser.close()
    return baseline, baseline_timings, combos, results, timings, wall


def _load_figure(server, sessions: int) -> None:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is required: apt-get install chromium")
    _, url = server
    baseline, single, combos, results, timings, wall = asyncio.run(_load(url, sessions))
    errors = [r for r in results if isinstance(r, BaseException)]
    mixups = sum(1 for combo, r in zip(combos, results, strict=True)
                 if not isinstance(r, BaseException) and r != baseline[combo])
    print(f"\nload: {sessions} concurrent sessions in {wall:.0f} s, {len(errors)} errors, "
          f"{mixups} cross-session mix-ups (of {sessions - len(errors)} compared with the "
          "single-user baseline)")
    for step, values in timings.items():
        alone = np.median(single.get(step, [np.nan]))
        print(f"  {step:10s}: p50 {np.percentile(values, 50):6.1f} s, p95 "
              f"{np.percentile(values, 95):6.1f} s (single user {alone:.1f} s)")
    assert not errors, errors[:3]
    assert mixups == 0
    assert len(set(baseline.values())) == len(COMBOS)  # the combos differ, so mix-ups show


def test_concurrent_sessions_bounded(server):
    _load_figure(server, 6)


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_20_concurrent_sessions(server):
    _load_figure(server, 20)


def _live_sessions(log: str) -> tuple[int, int]:
    """Sessions created and sessions not yet destroyed, from a server's info log."""
    created, live = 0, set()
    for session, event in re.findall(r"Session (\d+) (created|destroyed)", log):
        if event == "created":
            created += 1
            live.add(session)
        else:  # ids are id(document), which Python may reuse once one is freed
            live.discard(session)
    return created, len(live)


def _soak(server, sessions: int) -> list[tuple[int, float]]:
    from playwright.sync_api import sync_playwright

    proc, url = server
    process = psutil.Process(proc.pid)
    created_before = _live_sessions(server_log(proc))[0]
    samples = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        for i in range(1, sessions + 1):
            page = browser.new_page()
            page.goto(url, timeout=300_000)
            page.locator(".bk-Canvas canvas").first.wait_for(timeout=300_000)
            page.close()
            if i % 5 == 0:
                # the server drops closed sessions after 2 s unused: wait until it has
                def dropped(i=i):
                    created, live = _live_sessions(server_log(proc))
                    return created >= created_before + i and live == 0

                wait_until(dropped, 60, f"the server dropping {i} closed sessions")
                samples.append((i, process.memory_info().rss / 2**20))
        browser.close()
    return samples


def _soak_figure(server, sessions: int) -> None:
    samples = _soak(server, sessions)
    counts, rss = np.array(samples).T
    warm = counts >= 10  # the first sessions fill the process-wide caches
    slope = np.polyfit(counts[warm], rss[warm], 1)[0] * 100
    print(f"\nsoak: {sessions} sessions opened and closed; server RSS {rss[0]:.0f} MB after "
          f"{int(counts[0])}, {rss[-1]:.0f} MB after {sessions}; slope from session 10 on "
          f"{slope:+.1f} MB per 100 sessions")
    print("  " + ", ".join(f"{int(c)}: {r:.0f}" for c, r in samples))
    # one leaked session (its document, views and arrays) is several MB: 100 leaked
    # sessions would add hundreds of MB
    assert slope < 100, f"RSS grows {slope:.0f} MB per 100 sessions"


def test_soak_bounded(server):
    _soak_figure(server, 40)


@pytest.mark.slow
@pytest.mark.timeout(3 * 3600)  # about 4 s a session on 2 cores
def test_soak_500_sessions(server):
    _soak_figure(server, 500)
