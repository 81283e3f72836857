"""Export the region's data (CSV) and the current map (Cloud-Optimized GeoTIFF)."""

from __future__ import annotations

import datetime as dt
import io

import panel as pn
import param

import cropsm
from cropsm.analysis.region_tables import mean_series_table, pixel_table
from cropsm.app import data
from cropsm.app.i18n import tr
from cropsm.app.jobs import show_error
from cropsm.app.state import AppState
from cropsm.core.errors import CropSMError
from cropsm.core.grid import Grid
from cropsm.io.export import ExportError, cog_bytes, csv_bytes
from cropsm.io.models import ModelFileError
from cropsm.pipelines.map_layer import map_layer
from cropsm.pipelines.region import RegionData, product_region

#: Largest map exported as GeoTIFF, in cells (a 4000 × 4000 km view at 1 km).
MAX_COG_CELLS = 16_000_000


def provenance(state: AppState, region: RegionData | None = None,
               live: bool = False) -> dict[str, str]:
    """What an export was made from: model card hash, method, crop, depth, dates, region.

    The method is the region's, or the state's for another ``live`` result (a scenario),
    or else the stored product's.
    """
    if region is not None:
        method = region.method
    elif live:
        method = state.method
    else:  # a map of the stored product: the store says which method made it
        method = state.method
        try:
            stored = data.reader(state.catalog_path).product().attrs.get("model_method", {})
            method = str(dict(stored).get(f"{state.crop}/{state.depth}", "paper"))
        except CropSMError:
            pass  # no product yet: the export is of a live result
    try:
        sha = data.model_card(state.crop, state.depth, method).get(
            "sha256", "unknown (card has none)")
    except ModelFileError:
        sha = "unknown (no model card)"
    out = {"product": "CropSM daily 1 km soil moisture", "cropsm_version": cropsm.__version__,
           "model_sha256": sha, "method": method, "crop": state.crop,
           "depth": state.depth,
           "exported_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
    if region is not None:
        out.update(dates=f"{region.run.dates[0]:%Y-%m-%d}..{region.run.dates[-1]:%Y-%m-%d}",
                   source=region.source)
    else:
        out["dates"] = str(state.date)
    if state.region is not None:
        out["region"] = state.region_label or f"polygon bounds {state.region.bounds}"
    return out


def region_data(state: AppState) -> RegionData:
    """The last live run if it matches the state, else the product over the region."""
    run = state.run
    if run is not None and (run.run.crop, run.run.depth, run.method) == (
            state.crop, state.depth, state.method):
        return run
    return product_region(data.reader(state.catalog_path), state.crop, state.depth,
                          state.region, data.china())


def region_csv(state: AppState, kind: str) -> bytes:
    """CSV of the region: ``"pixels"`` (one row per pixel and day) or ``"mean"``."""
    region = region_data(state)
    run = region.run
    if kind == "pixels":
        # row and col index the catalog's grid, the one every store of the catalog uses
        table = pixel_table(region.result, run.dates, run.grid, run.crop, run.depth,
                            parent=data.grid(state.catalog_path))
    else:
        table = mean_series_table(region.result, run.dates, run.crop, run.depth)
    return csv_bytes(table, provenance(state, region))


def map_cog(state: AppState) -> bytes:
    """The current layer over the visible extent at 1 km, as a Cloud-Optimized GeoTIFF."""
    extent = state.extent
    ranges = {} if extent is None else {"x_range": (extent[0], extent[2]),
                                        "y_range": (extent[1], extent[3])}
    full = data.grid(state.catalog_path)
    if extent is not None:
        cells = (extent[2] - extent[0]) * (extent[3] - extent[1]) / full.resolution ** 2
    else:
        cells = full.shape[0] * full.shape[1]
    if cells > MAX_COG_CELLS:
        raise ExportError(tr("The view holds {cells} cells at 1 km, over the GeoTIFF limit of "
                             "{limit}; zoom in and export again.", state.lang).format(
            cells=f"{cells:,.0f}", limit=f"{MAX_COG_CELLS:,}"))
    # uncached: a 1 km export is up to 16 M cells; 10**9 screen pixels: always 1 km
    values = map_layer(data.reader(state.catalog_path), state.crop, state.depth, state.date,
                       state.layer, screen_px=10**9, **ranges)
    grid = Grid.from_coords(values["x"].values, values["y"].values)
    meta = provenance(state)
    meta["layer"] = state.layer
    return cog_bytes(values.values, grid, meta)


class ExportView(pn.viewable.Viewer):
    """Download buttons; each builds its file when clicked."""

    state = param.ClassSelector(class_=AppState, allow_None=param.parameters.NoNone)

    def __init__(self, **params):
        super().__init__(**params)
        lang = self.state.lang
        self._kind = pn.widgets.RadioButtonGroup(options={tr("per pixel", lang): "pixels",
                                                          tr("regional mean", lang): "mean"},
                                                 value="mean")
        self._csv = pn.widgets.FileDownload(callback=self._csv_file, filename="cropsm.csv",
                                            label=tr("Download region CSV", lang),
                                            color="primary")
        self._cog = pn.widgets.FileDownload(callback=self._cog_file, filename="cropsm.tif",
                                            label=tr("Download map GeoTIFF", lang))
        self._names()

    @param.depends("state.crop", "state.depth", "state.date", "state.layer", watch=True)
    def _names(self, *_):
        stem = f"cropsm_{self.state.crop}_{self.state.depth}"
        self._csv.filename = f"{stem}_region.csv"
        self._cog.filename = f"{stem}_{self.state.layer}_{self.state.date}.tif"

    def _csv_file(self):
        try:
            return io.BytesIO(region_csv(self.state, self._kind.value))
        except Exception as err:  # show_error logs what is not a refusal
            show_error(self.state, "CSV", err, "not exported")
            return None

    def _cog_file(self):
        try:
            return io.BytesIO(map_cog(self.state))
        except Exception as err:  # show_error logs what is not a refusal
            show_error(self.state, "GeoTIFF", err, "not exported")
            return None

    def __panel__(self):
        return pn.Column(self._kind, self._csv, self._cog, sizing_mode="stretch_width")
