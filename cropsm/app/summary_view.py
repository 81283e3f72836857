"""The region's day at a glance, beside the map: area, mean SM, drought classes, the week."""

from __future__ import annotations

import math

import panel as pn
import param

from cropsm.analysis.map_layers import GRADE_COLOURS
from cropsm.app import data
from cropsm.app.i18n import tr
from cropsm.app.jobs import internal_error
from cropsm.app.state import AppState
from cropsm.core.errors import CropSMError
from cropsm.pipelines.region import region_statistics

_PROMPT = ("**Region:** draw a box (shift-drag with the box tool) or a polygon, type a "
           "box, or pick a province.")


def _bar(shares: dict[str, float], lang: str) -> str:
    """The grade shares as one stacked HTML bar, each class in its map colour."""
    parts = "".join(
        f'<div title="{name} {share:.0%}" style="width:{100 * share:.1f}%;'
        f'background:{GRADE_COLOURS[name]}"></div>'
        for name, share in shares.items() if share > 0)
    return (f'<div style="display:flex;height:14px;border:1px solid #999">{parts}</div>'
            '<div style="font-size:85%">' + " · ".join(
                f'<span style="color:{GRADE_COLOURS[name]}">■</span> {tr(name, lang)} '
                f'{share:.0%}'
                for name, share in shares.items()) + "</div>")


class RegionSummaryView(pn.viewable.Viewer):
    """What :func:`cropsm.pipelines.region.region_statistics` gives for the day shown."""

    state = param.ClassSelector(class_=AppState, allow_None=param.parameters.NoNone)

    def __init__(self, **params):
        super().__init__(**params)
        self._text = pn.pane.Markdown(_PROMPT, sizing_mode="stretch_width", margin=(0, 10))
        self._bar = pn.pane.HTML("", sizing_mode="stretch_width", margin=(0, 10))
        self._update()

    @param.depends("state.region", "state.date", "state.crop", "state.depth", watch=True)
    def _update(self, *_):
        state = self.state
        lang = state.lang
        if state.region is None:
            self._text.object, self._bar.object = tr(_PROMPT, lang), ""
            return
        try:
            stats = region_statistics(data.reader(state.catalog_path), state.crop,
                                      state.depth, state.region, state.date, data.china())
        except CropSMError as err:
            self._text.object = f"**{tr('Region not usable', lang)}:** {err}"
            self._bar.object = ""
            return
        except Exception:  # a bug: the panel says so and the log has the traceback
            self._text.object, self._bar.object = internal_error("Region statistics", lang), ""
            state.post(self._text.object, "error")
            return
        change = stats["change_7d"]
        week = (tr("no product 7 days before", lang) if math.isnan(change)
                else tr("{change} m³ m⁻³ against 7 days before", lang).format(
                    change=f"{change:+.3f}"))
        crop = tr(state.crop, lang)
        self._text.object = tr(
            "{region}, {crop} {depth}, {date}: {cropland} km² of {crop} cropland, {predicted} "
            "km² predicted. Mean SM **{sm} m³ m⁻³** ({week}), relative SM {relative} %. "
            "Drought grades (GB/T 32136-2015, share of predicted area):", lang).format(
            region=f"**{state.region_label or tr('Drawn region', lang)}**", crop=crop,
            depth=state.depth, date=state.date, cropland=f"{stats['cropland_km2']:,.0f}",
            predicted=f"{stats['predicted_km2']:,.0f}", sm=f"{stats['mean_sm']:.3f}", week=week,
            relative=f"{stats['mean_relative_sm']:.0f}")
        self._bar.object = _bar(stats["grade_shares"], lang)

    def __panel__(self):
        return pn.Column(self._text, self._bar, sizing_mode="stretch_width")
