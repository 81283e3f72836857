"""Assemble the dashboard page: sidebar controls, map, series, region, export, catalog."""

from __future__ import annotations

import calendar

import panel as pn

from cropsm.app import data
from cropsm.app.export_view import ExportView
from cropsm.app.map_view import MapView
from cropsm.app.network_view import NetworkView
from cropsm.app.overview import Overview
from cropsm.app.region_view import RegionView
from cropsm.app.scenario_view import ScenarioView
from cropsm.app.season_view import SeasonView
from cropsm.app.series_view import SeriesView
from cropsm.app.state import AppState
from cropsm.app.validation_view import ValidationView
from cropsm.core.errors import CropSMError
from cropsm.core.regions import RegionError
from cropsm.pipelines.season_status import SeasonStatus

#: How often a session looks for days a background run has published (ms).
DAYS_REFRESH_MS = 20_000

#: The alert type of each message level.
ALERT_TYPES = {"info": "info", "warning": "warning", "error": "danger"}


def season_progress(days, status: SeasonStatus | None = None) -> str:
    """How much of the latest year the product holds, and the season run's progress."""
    if status is not None and status.state == "running":
        left = status.seconds_left()
        return (f"Filling {status.season} in the background: {status.days_done} of "
                f"{status.days_planned} days ({status.fraction:.0%})"
                + (f", about {max(1, round(left / 60))} min left." if left else "."))
    if status is not None and status.state in ("failed", "stopped"):
        why = status.error or "its process ended"
        return (f"The background run of {status.season} stopped after {status.days_done} "
                f"of {status.days_planned} days ({why}); `cropsm predict --season "
                f"{status.season}` resumes it.")
    if not days:
        return ""
    year = max(d.year for d in days)
    held = sum(d.year == year for d in days)
    total = 366 if calendar.isleap(year) else 365
    return (f"Product: {held} of the {total} days of {year}"
            + (" (a background run may be adding days)." if held < total else "."))


def _query_args() -> dict[str, str]:
    args = pn.state.session_args or {}
    return {key: (values[0].decode("utf-8", "replace") if values else "")
            for key, values in args.items()}


def _controls(state: AppState, region: RegionView) -> list:
    date_picker = pn.widgets.DatePicker.from_param(
        state.param.date, label="Date", enabled_dates=state.available_dates or None)
    player = pn.widgets.DiscretePlayer(label="Step through days", options=state.available_dates,
                                       value=state.date, loop_policy="once", interval=1500,
                                       show_loop_controls=False, width=290,
                                       visible=len(state.available_dates) > 1)
    player.link(state, value="date")

    def new_days(event) -> None:
        player.param.update(options=event.new, visible=len(event.new) > 1)
        date_picker.enabled_dates = event.new or None

    state.param.watch(new_days, "available_dates")
    state.param.watch(lambda e: setattr(player, "value", e.new), "date")
    region_text = pn.widgets.TextInput(label="Region: box lon0,lat0,lon1,lat1 or province",
                                       placeholder="114,36,118,40  or  Hebei",
                                       value=state.region_label)
    try:
        names = [""] + sorted(data.provinces()["name_en"])
    except CropSMError:  # the bundled provinces file is unreadable: typing a box still works
        names = [""]
    province = pn.widgets.Select(label="or pick a province", options=names)

    def use_region(text: str) -> None:
        try:
            state.set_region(text, data.provinces())
        except RegionError as err:
            state.post(str(err), "warning")
            return
        state.post(f"Region: {text}" if text else "Region cleared.")

    region_text.param.watch(lambda e: use_region(e.new), "value")
    province.param.watch(lambda e: setattr(region_text, "value", e.new), "value")
    state.param.watch(lambda e: setattr(region_text, "value", e.new), "region_label")
    run_button = pn.widgets.Button(label="Run the model on the region", color="success")
    run_button.on_click(region.run)
    progress = pn.indicators.Progress(active=True, visible=False, sizing_mode="stretch_width")
    state.param.watch(lambda e: setattr(progress, "visible", e.new), "running")
    state.param.watch(lambda e: setattr(run_button, "disabled", e.new), "running")
    return [pn.widgets.Select.from_param(state.param.crop),
            pn.widgets.Select.from_param(state.param.depth),
            pn.widgets.Select.from_param(state.param.layer, label="Layer"),
            date_picker, player, pn.layout.Divider(), region_text, province,
            pn.widgets.DatePicker.from_param(state.param.run_start, label="Run from"),
            pn.widgets.DatePicker.from_param(state.param.run_end, label="Run to"),
            pn.widgets.RadioButtonGroup.from_param(state.param.method, button_type="light"),
            run_button, progress]


def create_app(state: AppState | None = None) -> pn.template.FastListTemplate:
    """Build the CropSM page for one session."""
    state = state or AppState()
    state.set_dates(data.product_dates(state.catalog_path))
    problems = state.apply_query(_query_args(), data.provinces())
    message = pn.pane.Alert("", alert_type="info", visible=False,
                            sizing_mode="stretch_width")

    def show(*_) -> None:
        message.param.update(object=state.message, visible=bool(state.message),
                             alert_type=ALERT_TYPES[state.message_level])

    state.param.watch(show, ["message", "message_level"])
    if problems:
        state.post(" ".join(problems), "warning")
    if not state.available_dates:
        state.post("The product has not been computed yet: run `cropsm predict` (the "
                   "README's run command does it); the catalog tab shows what exists.",
                   "warning")
    season_note = pn.pane.Markdown("", sizing_mode="stretch_width")

    def refresh_days() -> None:
        # a background `cropsm predict --season` publishes month by month
        days = data.product_dates(state.catalog_path)
        if len(days) != len(state.available_dates):
            state.set_dates(days)
        season_note.object = season_progress(days, data.season_status(state.catalog_path))

    refresh_days()
    if pn.state.curdoc is not None and pn.state.curdoc.session_context is not None:
        pn.state.add_periodic_callback(refresh_days, period=DAYS_REFRESH_MS)
    region, series = RegionView(state=state), SeriesView(state=state)
    map_view = MapView(state=state)
    if pn.state.curdoc is not None and pn.state.curdoc.session_context is not None:
        # a served session: its arrays go with it, not when the GC gets to the views
        pn.state.on_session_destroyed(lambda _context: state.release())
    if pn.state.location is not None:
        def sync_url(*_):
            location = pn.state.location
            if location is None:  # narrowed above, but mypy cannot see it in the closure
                return
            # panel types each **kwargs value as a Mapping; the values are query strings
            location.update_query(**state.query())  # type: ignore[arg-type]
        state.param.watch(sync_url, ["crop", "depth", "date", "layer", "extent", "method",
                                     "region_label"])
    tabs = pn.Tabs(("Series", series), ("Region", region), ("Season", SeasonView(state=state)),
                   ("Scenarios", ScenarioView(state=state)),
                   ("Network (0-50 cm)", NetworkView(state=state)),
                   ("Validation", ValidationView(state=state)),
                   ("Export", ExportView(state=state)), ("Catalog", Overview(state=state)),
                   dynamic=True,
                   sizing_mode="stretch_width")
    return pn.template.FastListTemplate(
        title="CropSM: daily 1 km soil moisture for China's dryland wheat and maize",
        sidebar=[*_controls(state, region), season_note],
        main=[pn.Column(message, map_view, tabs, sizing_mode="stretch_width")],
        sidebar_width=330)
