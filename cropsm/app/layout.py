"""Assemble the dashboard page."""

from __future__ import annotations

import panel as pn

from cropsm.app.overview import Overview
from cropsm.app.state import AppState


def create_app(state: AppState | None = None) -> pn.template.FastListTemplate:
    """Build the CropSM page for one session."""
    state = state or AppState()
    sidebar = [pn.widgets.Select.from_param(state.param.crop),
               pn.widgets.Select.from_param(state.param.depth),
               pn.pane.Markdown("The full dashboard (SM maps, region runs, validation) "
                                "reads this same catalog.")]
    return pn.template.FastListTemplate(title="CropSM", sidebar=sidebar,
                                        main=[Overview(state=state)])
