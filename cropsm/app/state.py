"""The dashboard's single state object, and its URL form."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import param
import shapely

from cropsm.analysis.map_layers import MAP_LAYERS
from cropsm.config import settings
from cropsm.core import crops
from cropsm.core.errors import CropSMError
from cropsm.core.regions import RegionError, parse_bbox, province_region
from cropsm.rf.features import METHODS

#: State the URL carries (``?crop=maize&date=2018-05-03&...``).
URL_KEYS = ("crop", "depth", "date", "layer", "extent", "region", "method", "lang")
_MAX_URL_VALUE = 200
#: Days a live run covers by default: the product's last ones.
DEFAULT_RUN_DAYS = 10
#: The session's computed results: what :meth:`AppState.release` drops.
RESULTS = ("run", "scenario", "scenario_check", "network", "network_check")
#: How much a message matters, least first: the page shows each in its own colour.
MESSAGE_LEVELS = ("info", "warning", "error")


class QueryError(CropSMError, ValueError):
    """A URL argument outside its allowed values."""


class AppState(param.Parameterized):
    """What the analyst has chosen; views read it and call :mod:`cropsm` functions.

    Views never change the catalog or models folder: both are the server's, set from
    ``CROPSM_CATALOG`` and ``CROPSM_MODELS``.
    """

    catalog_path = param.String(default="", constant=True,
                                doc="Intake catalog the app reads; the server's "
                                    "CROPSM_CATALOG unless given at creation.")
    crop: param.Selector[str] = param.Selector(default=crops.CROPS[0], objects=list(crops.CROPS))
    depth: param.Selector[str] = param.Selector(default=crops.DEPTHS[0], objects=list(crops.DEPTHS))
    date = param.CalendarDate(default=None, allow_None=True, doc="Day shown on the map.")
    available_dates = param.List(default=[], item_type=dt.date,
                                 doc="Days the product holds.")
    layer: param.Selector[str] = param.Selector(default="sm", objects=list(MAP_LAYERS))
    method: param.Selector[str] = param.Selector(
        default=METHODS[0], objects=list(METHODS),
        doc="Whose models the live runs use: the paper's or CropSM's (docs/method.md).")
    lang: param.Selector[str] = param.Selector(
        default="en", objects=["en", "zh"],
        doc="The page's language (cropsm.app.i18n); set from the URL when the page opens.")
    extent = param.NumericTuple(default=None, length=4, allow_None=True,
                                doc="Visible map extent x0, y0, x1, y1 (grid metres).")
    region = param.Parameter(default=None, doc="Region of interest, shapely lon/lat.")
    region_label = param.String(default="", doc="How the region was chosen, for the URL.")
    run_start = param.CalendarDate(default=None, allow_None=True)
    run_end = param.CalendarDate(default=None, allow_None=True)
    run = param.Parameter(default=None, doc="The last live run, a RegionData "
                          "(cropsm.pipelines.region).")
    scenario = param.Parameter(default=None, doc="The last scenario run, a "
                               "ScenarioResult (cropsm.serve.forest_scenarios).")
    scenario_check = param.Parameter(default=None, doc="Its check against the demo "
                                     "world's counterfactual truth, a TruthCheck, or None.")
    network = param.Parameter(default=None, doc="The last network run on the region, an "
                              "xarray.Dataset (cropsm.pipelines.network).")
    network_check = param.Parameter(default=None, doc="Its check against the truth, a "
                                    "TruthCheck, or None.")
    running = param.Boolean(default=False)
    tapped = param.Tuple(default=None, allow_None=True, length=2,
                         doc="Last tap on the map, grid metres x, y.")
    message = param.String(default="", doc="What the analyst should know now.")
    message_level: param.Selector[str] = param.Selector(
        default="info", objects=list(MESSAGE_LEVELS),
        doc="How much the message matters; set with it by post.")

    def __init__(self, **params) -> None:
        # read when the session starts, not when the module is imported, so a server
        # started with CROPSM_CATALOG set after import still uses it
        params.setdefault("catalog_path", str(settings().catalog))
        super().__init__(**params)

    def post(self, text: str, level: str = "info") -> None:
        """Show ``text`` at ``level`` (one of :data:`MESSAGE_LEVELS`).

        Both change in one update, so a watcher of either sees the pair that belongs
        together.
        """
        self.param.update(message=text, message_level=level)

    def release(self) -> None:
        """Drop the session's large results when its browser tab is gone, without events."""
        with param.parameterized.discard_events(self):
            for name in RESULTS:
                setattr(self, name, None)
            self.region = None
            self.tapped = None

    def set_dates(self, dates) -> None:
        """Take the product's days; keep the chosen date if the product has it."""
        days = [pd.Timestamp(d).date() for d in dates]
        self.available_dates = days
        if days and self.date not in days:
            self.date = days[0]
        if days and self.run_start is None:
            # the last dekad: a season's whole year on a province is far over a live
            # run's budget
            self.run_start, self.run_end = days[max(0, len(days) - DEFAULT_RUN_DAYS)], days[-1]

    def set_region(self, text: str, provinces=None) -> None:
        """A region from a bounding box ``lon0,lat0,lon1,lat1`` or a province name.

        Raises
        ------
        cropsm.core.regions.RegionError
            The text is neither; the state is unchanged.
        """
        text = text.strip()
        if not text:
            self.param.update(region=None, region_label="")
            return
        geometry: shapely.Geometry
        if any(ch.isdigit() for ch in text.split(",")[0]) and "," in text:
            geometry = parse_bbox(text)
        elif provinces is not None:
            geometry = province_region(text, provinces)
        else:
            raise RegionError(f"Region {text!r} is not a box lon0,lat0,lon1,lat1.")
        self.param.update(region=geometry, region_label=text)

    def query(self) -> dict[str, str]:
        """The URL form of the shareable state."""
        out = {"crop": self.crop, "depth": self.depth, "layer": self.layer}
        if self.method != METHODS[0]:
            out["method"] = self.method
        if self.lang != "en":
            out["lang"] = self.lang
        if self.date is not None:
            out["date"] = self.date.isoformat()
        if self.extent is not None:
            out["extent"] = ",".join(f"{v:.0f}" for v in self.extent)
        if self.region_label:
            out["region"] = self.region_label
        return out

    def apply_query(self, args: dict[str, str], provinces=None) -> list[str]:
        """Set state from URL arguments, each checked against its allowed values.

        Unknown keys are ignored; a bad value leaves that part of the state unchanged.

        Returns
        -------
        list of str
            One message per rejected value.
        """
        problems = []
        for key, value in args.items():
            if key not in URL_KEYS:
                continue
            value = str(value)[:_MAX_URL_VALUE]
            try:
                self._apply(key, value, provinces)
            except (ValueError, TypeError) as err:
                # QueryError and RegionError are ValueErrors; param and the date and number
                # parsers raise ValueError or TypeError for a malformed value
                problems.append(f"URL {key}={value!r} ignored: {str(err).splitlines()[0]}")
        return problems

    def _apply(self, key: str, value: str, provinces) -> None:
        if key in ("crop", "depth", "layer", "method", "lang"):
            allowed = self.param[key].objects
            if value not in allowed:
                raise QueryError(f"choose one of {', '.join(allowed)}")
            setattr(self, key, value)
        elif key == "date":
            day = dt.date.fromisoformat(value)
            if self.available_dates and day not in self.available_dates:
                raise QueryError(f"the product has no {day}; it holds "
                                 f"{self.available_dates[0]}..{self.available_dates[-1]}")
            self.date = day
        elif key == "extent":
            x0, y0, x1, y1 = (float(v) for v in value.split(","))
            if not (x0 < x1 and y0 < y1) or max(map(abs, (x0, y0, x1, y1))) > 1e7:
                raise QueryError("an extent is x0,y0,x1,y1 in grid metres with x0<x1, y0<y1")
            self.extent = (x0, y0, x1, y1)
        elif key == "region":
            self.set_region(value, provinces)
