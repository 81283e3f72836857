"""Catalog view: what the catalog holds."""

from __future__ import annotations

import pandas as pd
import panel as pn
import param

from cropsm.app.i18n import tr
from cropsm.app.state import AppState
from cropsm.io.catalog import CatalogError
from cropsm.pipelines.catalog_status import catalog_status


@pn.cache(max_items=4)
def _catalog_status(path: str) -> pd.DataFrame:
    try:
        return catalog_status(path)
    except CatalogError as err:
        return pd.DataFrame([{"entry": "catalog", "status": "missing", "size": str(err)}])


class Overview(pn.viewable.Viewer):
    """What the catalog holds: each entry, whether it opens, and its size."""

    state = param.ClassSelector(class_=AppState, allow_None=param.parameters.NoNone)

    def __init__(self, **params):
        super().__init__(**params)
        lang = self.state.lang
        table = _catalog_status(self.state.catalog_path)
        if lang != "en":  # the cached table stays English; its words shown in the language
            table = table.assign(status=[tr(value, lang) for value in table["status"]])
        self._table = pn.widgets.Tabulator(table, disabled=True, show_index=False,
                                           titles={column: tr(column, lang)
                                                   for column in table.columns},
                                           sizing_mode="stretch_width")

    def __panel__(self):
        return self._table
