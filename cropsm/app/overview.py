"""Catalog view: what the catalog holds."""

from __future__ import annotations

import pandas as pd
import panel as pn
import param

from cropsm.app.state import AppState
from cropsm.io.catalog import ENTRIES, CatalogError, open_catalog, read_entry


@pn.cache(max_items=4)
def _catalog_status(path: str) -> pd.DataFrame:
    rows = []
    try:
        cat = open_catalog(path)
    except CatalogError as err:
        return pd.DataFrame([{"entry": "catalog", "status": str(err)}])
    for name in ENTRIES:
        try:
            obj = read_entry(name, cat)
            size = (", ".join(f"{k}={v}" for k, v in obj.sizes.items())
                    if hasattr(obj, "sizes") else f"{len(obj)} rows")
            rows.append({"entry": name, "status": "ok", "size": size})
        except CatalogError as err:
            rows.append({"entry": name, "status": "missing", "size": str(err)})
    return pd.DataFrame(rows)


class Overview(pn.viewable.Viewer):
    """What the catalog holds: each entry, whether it opens, and its size."""

    state = param.ClassSelector(class_=AppState, allow_None=param.parameters.NoNone)

    def __init__(self, **params):
        super().__init__(**params)
        self._table = pn.widgets.Tabulator(_catalog_status(self.state.catalog_path),
                                           disabled=True, show_index=False,
                                           sizing_mode="stretch_width")

    def __panel__(self):
        return self._table
