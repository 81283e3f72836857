"""Liu et al. (2021) Figs. 9-10 over all cropland: month x region heatmaps and the annual table.

Reads what ``cropsm network regions`` wrote into the reports folder (``CROPSM_REPORTS``);
nothing is computed here.
"""

from __future__ import annotations

from typing import Any

import holoviews as hv
import numpy as np
import panel as pn
import param
import xarray as xr

from cropsm.app import data
from cropsm.app.i18n import tr
from cropsm.app.state import AppState
from cropsm.core.errors import CropSMError
from cropsm.nn.pattern_regions import annual_table, monthly_table

_HEIGHT = 280


def heatmap(result: xr.Dataset, pattern: int, limit: float, lang: str = "en") -> hv.HeatMap:
    """Month x region difference of one pattern, on a colour scale of ±``limit``."""
    frame = monthly_table(result)
    frame = frame[frame["pattern"] == pattern]
    name = frame["pattern_name"].iloc[0]
    return hv.HeatMap(frame, kdims=["month", "region"],
                      vdims=["difference", "reference", "cells"]).opts(
        cmap="RdBu", clim=(-limit, limit), colorbar=True, responsive=True, height=_HEIGHT,
        tools=["hover"], title=tr("{pattern} − reference (m³ m⁻³)", lang).format(
            pattern=tr(name, lang)), xlabel=tr("month", lang), ylabel=tr("region", lang),
        xticks=list(range(1, 13)), invert_yaxis=True)


class PatternRegionsView(pn.viewable.Viewer):
    """The national pattern summary of ``cropsm network regions``, as it was written."""

    state = param.ClassSelector(class_=AppState, allow_None=param.parameters.NoNone)

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self._title = pn.pane.Markdown()
        self._maps = pn.GridBox(ncols=2, sizing_mode="stretch_width")
        self._table = pn.widgets.Tabulator(disabled=True, sizing_mode="stretch_width",
                                           visible=False)
        self._reload = pn.widgets.Button(label=tr("Reload the national summary",
                                                  self.state.lang), color="light")
        self._reload.on_click(self.update)
        self.update()

    def update(self, *_: object) -> None:
        """Show the report in the reports folder, or say which command writes it."""
        lang = self.state.lang
        try:
            result = data.pattern_regions()
        except CropSMError as err:
            self._title.object = tr("**Cropping patterns over all cropland (Liu et al. 2021, "
                                    "Figs. 9-10):** not computed yet. {err}", lang).format(
                err=err)
            self._maps.objects = []
            self._table.visible = False
            return
        a = result.attrs
        finite = np.abs(result["difference"].values[np.isfinite(result["difference"].values)])
        limit = float(finite.max()) if finite.size else 0.01
        self._maps.objects = [pn.pane.HoloViews(heatmap(result, int(p), limit, lang),
                                                sizing_mode="stretch_width", height=_HEIGHT,
                                                linked_axes=False)
                              for p in result["pattern"].values]
        self._table.value = annual_table(result).round(4)
        self._table.visible = True
        self._title.object = tr(
            "**Cropping patterns over all cropland, {layer}, {year}** (Liu et al. 2021, Figs. "
            "9-10): the monthly SM of each pattern on all cropland minus the reference "
            "product, by region (NE, N, E, S, C, NW, SW, HHH) and for China (CHN); {cells} "
            "cropland cells {spacing} km apart. The northeast is masked for double cropping, "
            "as in Liu's Fig. 9. Below: the annual difference (m³ m⁻³) per pattern and "
            "region. Written by `cropsm network regions`.", lang).format(
            layer=a['layer'], year=a['year'], cells=f"{a['cropland_cells']:,}",
            spacing=f"{a['lattice_spacing_km']:.0f}")

    def __panel__(self) -> pn.Column:
        return pn.Column(pn.Row(self._title, self._reload), self._maps, self._table,
                         sizing_mode="stretch_width")
