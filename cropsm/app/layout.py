"""Assemble the dashboard page: sidebar controls, map, series, region, export, catalog."""

from __future__ import annotations

import calendar
import urllib.parse
from collections.abc import Callable
from typing import Any

import panel as pn
from bokeh.document import Document

from cropsm.analysis.map_layers import MAP_LAYERS
from cropsm.app import data
from cropsm.app.export_view import ExportView
from cropsm.app.i18n import LANGUAGES, tr
from cropsm.app.map_view import MapView
from cropsm.app.network_view import NetworkView
from cropsm.app.overview import Overview
from cropsm.app.region_view import RegionView
from cropsm.app.scenario_view import ScenarioView
from cropsm.app.season_view import SeasonView
from cropsm.app.series_view import SeriesView
from cropsm.app.state import AppState
from cropsm.app.summary_view import RegionSummaryView
from cropsm.app.validation_view import ValidationView
from cropsm.core import crops
from cropsm.core.errors import CropSMError
from cropsm.core.regions import RegionError
from cropsm.pipelines.season_status import SeasonStatus
from cropsm.rf.features import METHODS

#: How often a session looks for days a background run has published (ms).
DAYS_REFRESH_MS = 20_000

#: Width of the column beside the map: the region's day and the tapped series (px).
SIDE_WIDTH = 430

#: The alert type of each message level.
ALERT_TYPES = {"info": "info", "warning": "warning", "error": "danger"}


def season_progress(days, status: SeasonStatus | None = None, lang: str = "en") -> str:
    """How much of the latest year the product holds, and the season run's progress."""
    if status is not None and status.state == "running":
        left = status.seconds_left()
        numbers = dict(season=status.season, done=status.days_done,
                       planned=status.days_planned, fraction=f"{status.fraction:.0%}")
        if left:
            return tr("Filling {season} in the background: {done} of {planned} days "
                      "({fraction}), about {minutes} min left.", lang).format(
                minutes=max(1, round(left / 60)), **numbers)
        return tr("Filling {season} in the background: {done} of {planned} days "
                  "({fraction}).", lang).format(**numbers)
    if status is not None and status.state in ("failed", "stopped"):
        why = status.error or tr("its process ended", lang)
        return tr("The background run of {season} stopped after {done} of {planned} days "
                  "({why}); `cropsm predict --season {season}` resumes it.", lang).format(
            season=status.season, done=status.days_done, planned=status.days_planned,
            why=why)
    if not days:
        return ""
    year = max(d.year for d in days)
    held = sum(d.year == year for d in days)
    total = 366 if calendar.isleap(year) else 365
    if held < total:
        return tr("Product: {held} of the {total} days of {year} (a background run may be "
                  "adding days).", lang).format(held=held, total=total, year=year)
    return tr("Product: {held} of the {total} days of {year}.", lang).format(
        held=held, total=total, year=year)


def lazy_tabs(builders: dict[str, Callable[[], Any]]) -> pn.Tabs:
    """Tabs whose views are built when first opened, not with the page.

    A view computes what it shows when it is built (the validation tab reads its reports
    and scores the stations), so building every tab with the page made each new
    session pay for tabs the analyst may never open.
    """
    names = list(builders)
    holders = [pn.Column(sizing_mode="stretch_width") for _ in names]
    tabs = pn.Tabs(*zip(names, holders, strict=True), dynamic=True,
                   sizing_mode="stretch_width")

    def build(index: int) -> None:
        if not holders[index].objects:
            holders[index].objects = [builders[names[index]]()]

    tabs.param.watch(lambda event: build(event.new), "active")
    build(tabs.active)
    return tabs


def _query_args() -> dict[str, str]:
    args = pn.state.session_args or {}
    return {key: (values[0].decode("utf-8", "replace") if values else "")
            for key, values in args.items()}


def _controls(state: AppState, region: RegionView) -> list:
    date_picker = pn.widgets.DatePicker.from_param(
        state.param.date, label=tr("Date", state.lang),
        enabled_dates=state.available_dates or None)
    player = pn.widgets.DiscretePlayer(label=tr("Step through days", state.lang),
                                       options=state.available_dates,
                                       value=state.date, loop_policy="once", interval=1500,
                                       show_loop_controls=False, width=290,
                                       visible=len(state.available_dates) > 1)
    player.link(state, value="date")

    def new_days(event) -> None:
        player.param.update(options=event.new, visible=len(event.new) > 1)
        date_picker.enabled_dates = event.new or None

    state.param.watch(new_days, "available_dates")
    state.param.watch(lambda e: setattr(player, "value", e.new), "date")
    lang = state.lang
    region_text = pn.widgets.TextInput(label=tr("Region: box lon0,lat0,lon1,lat1 or province",
                                                lang),
                                       placeholder="114,36,118,40  or  Hebei",
                                       value=state.region_label)
    try:
        table = data.provinces()
        # Chinese names in the official (adcode) order, English ones alphabetically
        names = [""] + (list(table.sort_values("adcode")["name_zh"]) if lang == "zh"
                        else sorted(table["name_en"]))
    except CropSMError:  # the bundled provinces file is unreadable: typing a box still works
        names = [""]
    province = pn.widgets.Select(label=tr("or pick a province", lang), options=names)

    def use_region(text: str) -> None:
        try:
            state.set_region(text, data.provinces())
        except RegionError as err:
            state.post(str(err), "warning")
            return
        state.post(tr("Region: {text}", lang).format(text=text) if text
                   else tr("Region cleared.", lang))

    region_text.param.watch(lambda e: use_region(e.new), "value")
    province.param.watch(lambda e: setattr(region_text, "value", e.new), "value")
    state.param.watch(lambda e: setattr(region_text, "value", e.new), "region_label")
    run_button = pn.widgets.Button(label=tr("Run the model on the region", lang),
                                   color="success")
    run_button.on_click(region.run)
    progress = pn.indicators.Progress(active=True, visible=False, sizing_mode="stretch_width")
    state.param.watch(lambda e: setattr(progress, "visible", e.new), "running")
    state.param.watch(lambda e: setattr(run_button, "disabled", e.new), "running")
    return [pn.widgets.Select.from_param(state.param.crop, label=tr("Crop", lang),
                                         **_labelled(crops.CROPS, lang)),
            pn.widgets.Select.from_param(state.param.depth, label=tr("Depth", lang)),
            pn.widgets.Select.from_param(
                state.param.layer, label=tr("Layer", lang),
                **_labelled(MAP_LAYERS, lang, lambda key: MAP_LAYERS[key].label)),
            date_picker, player, pn.layout.Divider(), region_text, province,
            pn.widgets.DatePicker.from_param(state.param.run_start, label=tr("Run from", lang)),
            pn.widgets.DatePicker.from_param(state.param.run_end, label=tr("Run to", lang)),
            pn.widgets.RadioButtonGroup.from_param(state.param.method, button_type="light",
                                                   **_labelled(METHODS, lang)),
            run_button, progress]


def _labelled(values, lang: str, english=lambda value: value) -> dict:
    """Widget options showing each value in ``lang``; the values themselves in English."""
    if lang == "en":
        return {}
    return {"options": {tr(english(value), lang): value for value in values}}


def _language_switch(state: AppState) -> pn.widgets.RadioButtonGroup:
    """中文 / English: reloads the page in the other language, the view kept in the URL."""
    switch = pn.widgets.RadioButtonGroup(options={v: k for k, v in LANGUAGES.items()},
                                         value=state.lang, button_type="light", width=140)

    def reload(event) -> None:
        state.lang = event.new
        location = pn.state.location
        if location is not None:
            location.reload = True
            # the whole query, not an update: English drops the lang key
            location.search = "?" + urllib.parse.urlencode(state.query())

    switch.param.watch(reload, "value")
    return switch


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
        state.post(tr("The product has not been computed yet: run `cropsm predict` (the "
                      "README's run command does it); the catalog tab shows what exists.",
                      state.lang), "warning")
    season_note = pn.pane.Markdown("", sizing_mode="stretch_width")

    def refresh_days() -> None:
        # a background `cropsm predict --season` publishes month by month
        days = data.product_dates(state.catalog_path)
        if len(days) != len(state.available_dates):
            state.set_dates(days)
        season_note.object = season_progress(days, data.season_status(state.catalog_path),
                                             state.lang)

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
    views: dict[str, Callable[[], Any]] = {
        "Region run": lambda: region, "Season": lambda: SeasonView(state=state),
        "Scenarios": lambda: ScenarioView(state=state),
        "Network (0-50 cm)": lambda: NetworkView(state=state),
        "Validation": lambda: ValidationView(state=state),
        "Export": lambda: ExportView(state=state), "Catalog": lambda: Overview(state=state)}
    tabs = lazy_tabs({tr(name, state.lang): build for name, build in views.items()})
    return pn.template.FastListTemplate(
        title=tr("CropSM: daily 1 km soil moisture for China's dryland wheat and maize",
                 state.lang),
        header=[_language_switch(state)],
        sidebar=[*_controls(state, region), season_note],
        # the analyst's loop on one screen (1440 x 900): the map, and beside it the
        # region's day and the tapped series; the sidebar holds the date player
        main=[pn.Column(message,
                        pn.Row(map_view, pn.Column(RegionSummaryView(state=state), series,
                                                   width=SIDE_WIDTH),
                               sizing_mode="stretch_width"),
                        tabs, sizing_mode="stretch_width")],
        sidebar_width=330)


def serve_page(doc: Document | None = None) -> pn.template.FastListTemplate:
    """Build a session's page and serve it into ``doc`` (by default the session's).

    The template adds about 20 roots to the document, and each root added recomputes the
    document's whole model graph: a plain Panel object's ``server_doc`` freezes the graph
    while it adds its root, the template's does not. Frozen here, the graph is computed
    once (about 0.25 s of the server's time a session, ``benchmarks/bench_session.py``).
    """
    page = create_app()
    if doc is not None:
        with doc.models.freeze():
            page.server_doc(doc)
        return page
    served = pn.state.curdoc
    if served is None:  # not in a served session: servable() only marks the page
        return page.servable()
    with served.models.freeze():
        return page.servable()
