"""What the analyst reads when something goes wrong: refusals, internal errors, levels."""

from __future__ import annotations

import asyncio
import logging
import re

import pytest

from cropsm.app.jobs import run_in_thread
from cropsm.app.state import AppState
from cropsm.core.regions import RegionError
from cropsm.serve.predict import PredictError

INTERNAL = re.compile(r"^(?P<label>.+): internal error, logged as (?P<id>[0-9a-f]{8})$")


def _fail(err: Exception):
    def raise_(*_):
        raise err
    return raise_


def _logged(caplog, ident: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "cropsm.app" and ident in r.getMessage()]


@pytest.mark.parametrize("where", ["prepare", "work"])
def test_an_internal_error_in_a_job_is_logged_with_an_id(caplog, where):
    state = AppState()
    bug = KeyError("a bug, not a refusal")
    prepare = _fail(bug) if where == "prepare" else (lambda: ("Running …", ()))
    work = _fail(bug) if where == "work" else (lambda: None)
    with caplog.at_level(logging.ERROR, logger="cropsm.app"):
        assert asyncio.run(run_in_thread(state, "Run", prepare, work)) is None
    found = INTERNAL.match(state.message)
    assert found, state.message
    assert found["label"] == "Run" and "a bug" not in state.message
    assert state.message_level == "error" and not state.running
    (record,) = _logged(caplog, found["id"])
    assert record.levelno == logging.ERROR and record.exc_info[1] is bug


@pytest.mark.parametrize("err", [RegionError("The region is empty; draw a polygon."),
                                 PredictError("This run is over the live budget.")])
def test_a_refusal_shows_its_message_and_logs_nothing(caplog, err):
    state = AppState()
    with caplog.at_level(logging.DEBUG, logger="cropsm.app"):
        asyncio.run(run_in_thread(state, "Run", _fail(err), lambda: None))
    assert state.message == f"Run refused: {err}"
    assert state.message_level == "warning"
    assert not [r for r in caplog.records if r.name == "cropsm.app"]


def test_a_refused_work_is_a_failure_at_error_level():
    state = AppState()
    err = PredictError("The model is maize/0-10cm, the run wheat/0-10cm.")
    asyncio.run(run_in_thread(state, "Run", lambda: ("Running …", ()), _fail(err)))
    assert (state.message, state.message_level) == (f"Run failed: {err}", "error")


def test_a_plain_value_error_is_no_longer_a_refusal(caplog):
    state = AppState()
    with caplog.at_level(logging.ERROR, logger="cropsm.app"):
        asyncio.run(run_in_thread(state, "Scenario", _fail(ValueError("shapes differ")),
                                  lambda: None))
    assert INTERNAL.match(state.message) and "shapes differ" not in state.message


def test_post_sets_text_and_level_together():
    state = AppState()
    seen = []
    state.param.watch(lambda *_: seen.append((state.message, state.message_level)),
                      ["message", "message_level"])
    state.post("Region outside China.", "warning")
    state.post("Region: Hebei")
    assert seen == [("Region outside China.", "warning"), ("Region: Hebei", "info")]
    with pytest.raises(ValueError):
        state.post("text", "fatal")


def test_the_page_shows_the_level_as_the_alert_type(served_catalog):
    import panel as pn

    from cropsm.app import create_app

    state = AppState(catalog_path=str(served_catalog))
    page = create_app(state)
    alerts = [obj for obj in page.main[0].objects if isinstance(obj, pn.pane.Alert)]
    (alert,) = alerts
    for level, alert_type in (("warning", "warning"), ("error", "danger"), ("info", "info")):
        state.post(f"a {level} message", level)
        assert (alert.object, alert.alert_type, alert.visible) == (
            f"a {level} message", alert_type, True)
    # the words of a message no longer decide its colour
    state.post("Run finished: not one pixel-day was outside the region.")
    assert alert.alert_type == "info"
    state.post("")
    assert not alert.visible


def test_a_map_bug_is_logged_and_shown_with_an_id(served_catalog, caplog, monkeypatch):
    from cropsm.app import data
    from cropsm.app.map_view import MapView

    state = AppState(catalog_path=str(served_catalog))
    state.set_dates(data.product_dates(state.catalog_path))
    view = MapView(state=state)

    def broken(*_):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(data, "map_layer", broken)
    with caplog.at_level(logging.ERROR, logger="cropsm.app"):
        view._image()
    found = INTERNAL.match(state.message)
    assert found and found["label"] == "Map" and state.message_level == "error"
    assert _logged(caplog, found["id"])
    monkeypatch.undo()
    view._image()
    assert state.message == ""  # the next good render clears the map's message


@pytest.fixture
def served_state(served_catalog, tiny_models, monkeypatch):
    from cropsm.app import data

    monkeypatch.setenv("CROPSM_MODELS", str(tiny_models))
    state = AppState(catalog_path=str(served_catalog))
    state.set_dates(data.product_dates(state.catalog_path))
    return state


def test_a_tap_outside_the_grid_is_refused_in_the_series_panel(served_state):
    from cropsm.app.series_view import SeriesView

    view = SeriesView(state=served_state)
    served_state.tapped = (-9.0e6, -9.0e6)
    assert view._summary.object.startswith("**No series here:** The point")
    assert "outside the data's grid" in view._summary.object


def test_network_run_and_exports_post_info_messages(served_state):
    import datetime as dt

    from cropsm.app.network_view import NetworkView

    served_state.set_region("116.0,39.0,116.8,39.8")
    served_state.param.update(run_start=dt.date(2018, 5, 1), run_end=dt.date(2018, 5, 3))
    view = NetworkView(state=served_state)
    asyncio.run(view.run())
    assert served_state.message.startswith("Network run finished"), served_state.message
    # a response the demo world's truth contradicts is posted as a warning
    flagged = (served_state.network_check is not None
               and served_state.network_check.warning is not None)
    assert served_state.message_level == ("warning" if flagged else "info")
    assert b"pattern_flag_share" in view._csv_file().getvalue()
    assert view._netcdf_file().getvalue()[:3] in (b"CDF", b"\x89HD")


def test_the_sidebar_says_how_far_the_season_run_has_got(tmp_path):
    import datetime as dt
    import subprocess
    import sys

    from cropsm.app.layout import season_progress
    from cropsm.pipelines.season_status import SeasonStatus, read_season_status

    store = tmp_path / "soil_moisture.zarr"
    assert read_season_status(store) is None
    status = SeasonStatus(season=2018, days_planned=300, started=0.0)
    status.write(store, days_done=120)
    status.started = status.updated - 1200.0  # 120 days in 20 min: 30 min for the rest
    status.write(store)
    read = read_season_status(store)
    assert read is not None and read.state == "running" and read.days_done == 120
    assert season_progress([], read) == ("Filling 2018 in the background: 120 of 300 days "
                                         "(40%), about 30 min left.")
    # a run killed without a word: its process is gone
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    status.write(store, pid=int(dead.stdout))
    stopped = read_season_status(store)
    assert stopped is not None and stopped.state == "stopped"
    assert "stopped after 120 of 300 days (its process ended); `cropsm predict --season " \
           "2018` resumes it" in season_progress([], stopped)
    status.write(store, state="failed", error="PredictError: no weather")
    assert "(PredictError: no weather)" in season_progress([], read_season_status(store))
    (tmp_path / "soil_moisture.zarr.season.json").write_text("{not json")
    assert read_season_status(store) is None  # advice, not data: the page goes on
    days = [dt.date(2018, 5, 1), dt.date(2018, 5, 2)]
    assert season_progress(days) == ("Product: 2 of the 365 days of 2018 (a background run "
                                     "may be adding days).")


def test_runs_wait_in_a_bounded_pool_and_say_their_place(monkeypatch):
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from cropsm.app import jobs

    monkeypatch.setattr(jobs, "_POOL", ThreadPoolExecutor(max_workers=1))
    monkeypatch.setattr(jobs, "QUEUE_REFRESH_S", 0.05)
    first_running, release = threading.Event(), threading.Event()

    def slow():
        first_running.set()
        release.wait(30)
        return "first"

    first, second = AppState(), AppState()
    seen: list[str] = []
    second.param.watch(lambda e: seen.append(e.new), "message")

    async def both():
        one = asyncio.create_task(run_in_thread(first, "Run", lambda: ("Running …", ()), slow))
        while not first_running.is_set():
            await asyncio.sleep(0.01)
        two = asyncio.create_task(run_in_thread(second, "Run", lambda: ("Running …", ()),
                                                lambda: "second"))
        while not any("Waiting" in m for m in seen):
            await asyncio.sleep(0.01)
        release.set()
        return await one, await two

    one, two = asyncio.run(asyncio.wait_for(both(), 60))
    assert one[1] == "first" and two[1] == "second"
    assert ("Running … Waiting: 1 run(s) of other analysts ahead of this one (computing or "
            "queued).") in seen
    assert jobs._QUEUE == []
