"""Overview view: what the catalog holds, and the crop layer of the covariates."""

from __future__ import annotations

import holoviews as hv
import pandas as pd
import panel as pn
import param
from holoviews.operation.datashader import rasterize

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
    """Catalog status table and a datashaded map of the selected crop's fraction."""

    state = param.ClassSelector(class_=AppState)

    def __init__(self, **params):
        super().__init__(**params)
        self._table = pn.widgets.Tabulator(disabled=True, show_index=False,
                                           sizing_mode="stretch_width")
        self._map = pn.pane.HoloViews(sizing_mode="stretch_width", height=520)
        self._update()
        self.state.param.watch(lambda *_: self._update(), ["crop", "catalog_path"])

    def _update(self) -> None:
        self._table.value = _catalog_status(self.state.catalog_path)
        try:
            cov = read_entry("covariates", open_catalog(self.state.catalog_path))
        except CatalogError as err:
            self._map.object = hv.Text(0, 0, str(err))
            return
        layer = cov["crop_fraction"].sel(crop=self.state.crop)
        layer = layer.where(layer > 0)  # no crop: transparent, not the lowest colour
        image = hv.Image(layer, kdims=["x", "y"], vdims=["crop_fraction"])
        self._map.object = rasterize(image).opts(
            cmap="YlGn", colorbar=True, clabel="harvested fraction", responsive=True,
            data_aspect=1, title=f"{self.state.crop} harvested-area fraction (1 km)")

    def __panel__(self):
        return pn.Column(self._map, self._table, sizing_mode="stretch_width")
