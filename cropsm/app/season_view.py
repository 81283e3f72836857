"""The season of a region: classes day by day, dekads, the year, spells, the bulletin."""

from __future__ import annotations

import io

import holoviews as hv
import numpy as np
import pandas as pd
import panel as pn
import param
import xarray as xr

from cropsm.analysis.bulletin import dekad_label, period_means
from cropsm.analysis.map_layers import CATEGORY_COLOURS, GRADE_COLOURS
from cropsm.app import data
from cropsm.app.i18n import tr
from cropsm.app.jobs import internal_error
from cropsm.app.state import AppState
from cropsm.core.errors import CropSMError
from cropsm.core.regions import province_code
from cropsm.pipelines.bulletin import make_bulletin
from cropsm.pipelines.province_shares import province_shares
from cropsm.pipelines.season import (
    record_years,
    region_season,
    region_trends,
    region_years,
    season_spells,
)

_HEIGHT = 300
_SCHEMES = {"Percentile categories (D0–D4)": "category",
            "GB/T 32136 grades": "grade"}


class SeasonView(pn.viewable.Viewer):
    """The region's season so far, its year against the record, and its bulletin."""

    state = param.ClassSelector(class_=AppState, allow_None=param.parameters.NoNone)
    scheme: param.Selector[str] = param.Selector(default="category",
                                                 objects=list(_SCHEMES.values()))
    period: param.Selector[str] = param.Selector(default="dekad", objects=["dekad", "month"])
    dekad: param.Selector[str | None] = param.Selector(default=None, objects=[],
                                                       allow_None=True)
    density: param.Selector[str] = param.Selector(
        default="record", objects=["record", "1km"],
        doc="Read the season from the climate record's cells when it holds the days.")
    other: param.Selector[int | None] = param.Selector(
        default=None, objects=[None], allow_None=True,
        doc="Another year of the climate record to compare with.")

    def __init__(self, **params):
        super().__init__(**params)
        lang = self.state.lang
        self._note = pn.pane.Markdown(tr("Choose a region (sidebar) to see its season.", lang))
        self._chart = pn.Row(sizing_mode="stretch_width")
        self._table = pn.pane.DataFrame(None, sizing_mode="stretch_width", max_rows=40)
        self._years = pn.Row(sizing_mode="stretch_width")
        self._trends = pn.Row(sizing_mode="stretch_width")
        self._trend_button = pn.widgets.Button(
            label=tr("Trends of the record (Sen, Mann-Kendall)", lang), color="light",
            description=tr("Reads every year of the climate record over the region: seconds.",
                           lang))
        self._trend_button.on_click(lambda *_: self._show_trends())
        self._png = pn.widgets.FileDownload(callback=lambda: self._file("png"),
                                            filename="bulletin.png",
                                            label=tr("Bulletin map (PNG)", lang),
                                            color="primary", disabled=True)
        self._csv = pn.widgets.FileDownload(callback=lambda: self._file("csv"),
                                            filename="bulletin.csv",
                                            label=tr("Bulletin table (CSV)", lang),
                                            disabled=True)
        self._year: int | None = None
        self._shares: pd.DataFrame | None = None
        self._update()

    @param.depends("state.region", "state.crop", "state.depth", "state.available_dates",
                   "scheme", "density", watch=True)
    def _update(self, *_):
        state = self.state
        lang = state.lang
        days = [pd.Timestamp(d) for d in state.available_dates]
        dekads = sorted({dekad_label(d) for d in days})
        self.param.dekad.objects = dekads
        if dekads and self.dekad not in dekads:
            self.dekad = dekads[-1]
        enabled = state.region is not None and bool(dekads)
        self._png.disabled = self._csv.disabled = not enabled
        if state.region is None:
            self._note.object = tr("Choose a region (sidebar) to see its season.", lang)
            self._chart.objects, self._years.objects, self._shares = [], [], None
            self._trends.objects = []
            self._table.object = None
            return
        published = self._published(state.available_dates)
        try:
            # with a province's published areas the chart is a read; the per-pixel season
            # (for the spells) is then only taken where it is cheap, from the record
            season = self._season(required=published is None)
        except CropSMError as err:
            self._note.object = tr("**Season not available:** {err}", lang).format(err=err)
            self._chart.objects, self._shares = [], None
            self._table.object = None
            return
        except Exception:  # a bug: the panel says so and the log has the traceback
            self._note.object = internal_error("Season", lang)
            return
        if published is not None:
            shares = published
            cells = tr("every 1 km cell (as published with the product)", lang)
        elif season is not None:
            shares = season.shares
            cells = tr("every 1 km cell", lang) if season.codes.sizes["x"] < 2 or abs(
                float(season.codes["x"][1] - season.codes["x"][0])) <= 1000.0 else tr(
                "the climate record's cells", lang)
        self._shares = shares
        first, last = shares.index[0], shares.index[-1]
        what = dict(region=state.region_label or tr("Region", lang), crop=tr(state.crop, lang),
                    depth=state.depth, n=len(shares), first=f"{first:%Y-%m-%d}",
                    last=f"{last:%Y-%m-%d}", cells=cells)
        if season is None:
            self._note.object = tr("**{region}**, {crop} {depth}: {n} days ({first}..{last}), "
                                   "classes from {cells}.", lang).format(**what)
        else:
            self._note.object = tr("**{region}**, {crop} {depth}: {n} days ({first}..{last}), "
                                   "{area} km² of crop area; classes from {cells}.",
                                   lang).format(area=f"{season.weights.sum():,.0f}", **what)
        spells: hv.Element = (
            self._spells(season) if season is not None else
            hv.Text(0, 0, tr("Spells need each pixel's days: the climate record does not hold "
                             "them all; choose 'every 1 km cell' (tens of seconds).", lang)))
        self._chart.objects = [pn.pane.HoloViews(self._stacked(shares),
                                                 sizing_mode="stretch_width", height=_HEIGHT),
                               pn.pane.HoloViews(spells, sizing_mode="stretch_width",
                                                 height=_HEIGHT, linked_axes=False)]
        self._show_table()
        self._year = last.year
        self._trends.objects = []
        self._show_years()

    def _season(self, required: bool = True):
        """The region's season, from the record's cells if it holds the product's days.

        A province's season from the record takes about a second; from every 1 km cell,
        tens of seconds (BENCHMARKS.md), so that is computed only when ``required`` or
        asked for (density ``1km``); otherwise None.
        """
        state = self.state
        reader = data.reader(state.catalog_path)
        days = state.available_dates
        if self.density == "record" and days:
            try:
                season = region_season(reader, state.crop, state.depth, state.region,
                                       data.china(), days[0], days[-1], self.scheme,
                                       "record")
            except CropSMError:  # no record: every 1 km cell
                season = None
            if season is not None and set(pd.DatetimeIndex(season.shares.index).date) >= set(days):
                return season
            if not required:
                return None
        return region_season(reader, state.crop, state.depth, state.region, data.china(),
                             scheme=self.scheme)

    def _published(self, days) -> pd.DataFrame | None:
        """A province's shares as published with the product (every 1 km cell), if any."""
        state = self.state
        try:
            code = province_code(state.region_label, data.provinces())
            return province_shares(data.reader(state.catalog_path), state.crop, state.depth,
                                   code, days, self.scheme)
        except CropSMError:  # a box, or days published before the areas existed
            return None

    def _stacked(self, shares: pd.DataFrame) -> hv.Overlay:
        lang = self.state.lang
        colours = CATEGORY_COLOURS if self.scheme == "category" else GRADE_COLOURS
        frame = shares.fillna(0.0).reset_index()
        areas = [hv.Area(frame, "time", name, label=tr(name, lang)).opts(color=colours[name])
                 for name in shares.columns]
        return hv.Area.stack(hv.Overlay(areas)).opts(
            responsive=True, height=_HEIGHT, ylim=(0, 1), legend_position="right",
            xlabel=tr("time", lang), ylabel=tr("share of crop area", lang),
            title=tr("Drought classes day by day (bulletin chart)", lang))

    def _spells(self, season) -> hv.Image | hv.Text:
        lang = self.state.lang
        if season.scheme != "category":
            return hv.Text(0, 0, tr("Spells are counted on percentile categories.", lang))
        spells = season_spells(season)
        image = xr.DataArray(spells["current_days"].values.astype(float), dims=("y", "x"),
                             coords={"y": season.codes["y"].values,
                                     "x": season.codes["x"].values})
        image = image.where(np.asarray(season.weights) > 0)
        return hv.Image(image, kdims=["x", "y"], vdims=["days"]).opts(
            cmap="OrRd", colorbar=True, responsive=True, height=_HEIGHT, data_aspect=1,
            xaxis=None, yaxis=None, tools=["hover"], clabel=tr("days", lang),
            title=tr("Drought spell (D1 or worse) going on at the last day", lang))

    @param.depends("period", watch=True)
    def _show_table(self, *_):
        if self._shares is None:
            return
        table = period_means(self._shares, self.period)
        self._table.object = (100 * table).round(1)

    @param.depends("other", watch=True)
    def _show_years(self):
        state, year = self.state, self._year
        lang = state.lang
        if year is None or state.region is None:
            return
        if self.param.other.objects == [None]:  # read once a region is shown, not per page
            self.param.other.objects = [None, *record_years(data.reader(state.catalog_path))]
        try:
            band = region_years(data.reader(state.catalog_path), state.crop, state.depth,
                                state.region, data.china(), year, self.other)
        except CropSMError as err:
            self._years.objects = [pn.pane.Markdown(
                tr("Year against the record: {err}", lang).format(err=err))]
            return
        frame = band.reset_index()
        plot = (hv.Area(frame, "dayofyear", ["q10", "q90"], label=tr("record 10–90 %", lang))
                .opts(alpha=0.3, color="grey")
                * hv.Curve(frame, "dayofyear", "q50", label=tr("record median", lang))
                .opts(color="grey", line_dash="dashed")
                * hv.Curve(frame, "dayofyear", str(year), label=str(year))
                .opts(color="#d7301f", line_width=2))
        if self.other is not None and self.other != year:
            plot = plot * hv.Curve(frame, "dayofyear", str(self.other),
                                   label=str(self.other)).opts(color="#2c7fb8", line_width=2)
        self._years.objects = [pn.pane.HoloViews(plot.opts(
            responsive=True, height=_HEIGHT, ylabel=tr("regional mean SM (m³ m⁻³)", lang),
            xlabel=tr("day of year", lang), legend_position="top_left",
            title=tr("{year} against the climate record's other years", lang).format(
                year=year)),
            sizing_mode="stretch_width", height=_HEIGHT)]

    def _show_trends(self):
        state = self.state
        lang = state.lang
        if state.region is None:
            self._trends.objects = [pn.pane.Markdown(tr("Choose a region first.", lang))]
            return
        try:
            maps, regional = region_trends(data.reader(state.catalog_path), state.crop,
                                           state.depth, state.region, data.china())
        except CropSMError as err:
            self._trends.objects = [pn.pane.Markdown(tr("Trends: {err}", lang).format(err=err))]
            return
        per_decade = maps["slope"] * 10
        image = hv.Image(per_decade.rename("slope"), kdims=["x", "y"], vdims=["slope"]).opts(
            cmap="BrBG", symmetric=True, colorbar=True, responsive=True, height=_HEIGHT,
            data_aspect=1, xaxis=None, yaxis=None, tools=["hover"],
            clabel=tr("Sen's slope (m³ m⁻³ per decade)", lang),
            title=tr("Trend of the yearly mean {period} (record cells)", lang).format(
                period=maps.attrs['period']))
        share = float(maps["significant"].mean())
        text = tr("**Trend {years}** (Sen's slope, Mann-Kendall): regional mean {slope} m³ m⁻³ "
                  "per decade, p = {p} ({significance} at 0.05); {share} of the record cells "
                  "significant.", lang).format(
            years=regional['years'], slope=f"{10 * regional['slope']:+.4f}",
            p=f"{regional['p']:.2f}",
            significance=tr("significant" if regional['significant'] else "not significant",
                            lang),
            share=f"{share:.0%}")
        self._trends.objects = [pn.pane.Markdown(text, width=360),
                                pn.pane.HoloViews(image, sizing_mode="stretch_width",
                                                  height=_HEIGHT, linked_axes=False)]

    def _file(self, kind: str) -> io.BytesIO | None:
        state = self.state
        try:
            made = make_bulletin(data.reader(state.catalog_path), state.crop, state.depth,
                                 self.dekad, geometry=state.region, scheme=self.scheme,
                                 region_name=state.region_label or "region")
        except CropSMError as err:
            state.post(tr("Bulletin: {err}", state.lang).format(err=err), "warning")
            return None
        except Exception:  # a bug: the analyst is told, the log has the traceback
            state.post(internal_error("Bulletin", state.lang), "error")
            return None
        widget = self._png if kind == "png" else self._csv
        widget.filename = f"{made.name}.{kind}"
        return io.BytesIO(made.png if kind == "png" else made.csv)

    def __panel__(self):
        lang = self.state.lang
        controls = pn.Row(
            pn.widgets.RadioButtonGroup.from_param(
                self.param.scheme, options={tr(label, lang): value
                                            for label, value in _SCHEMES.items()},
                color="light"),
            pn.widgets.Select.from_param(self.param.dekad, name=tr("Dekad", lang), width=140),
            pn.widgets.Select.from_param(self.param.other, name=tr("Compare with year", lang),
                                         width=140),
            pn.widgets.RadioButtonGroup.from_param(
                self.param.density, options={tr("record cells (fast)", lang): "record",
                                             tr("every 1 km cell", lang): "1km"},
                color="light"),
            self._png, self._csv)
        return pn.Column(controls, self._note, self._chart,
                         pn.Row(pn.Column(
                             pn.widgets.RadioButtonGroup.from_param(
                                 self.param.period, options={tr("dekad", lang): "dekad",
                                                             tr("month", lang): "month"},
                                 color="light"),
                             self._table, width=520), self._years,
                             sizing_mode="stretch_width"),
                         self._trend_button, self._trends,
                         sizing_mode="stretch_width")
