"""Property-based bad input (Hypothesis) for the region-run, scenario and export paths.

Every example must end in a documented, one-line error (RegionError, PredictError,
ExportError) or a valid plan: never another exception. The session's state stays usable.
"""

from __future__ import annotations

import datetime as dt
import time

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cropsm.app import data
from cropsm.app.state import AppState
from cropsm.core.regions import RegionError
from cropsm.serve import live
from cropsm.serve.forest_scenarios import check_factor
from cropsm.serve.predict import PredictError

DOCUMENTED = (RegionError, PredictError)
SLOWEST = {"seconds": 0.0}
OUTCOMES: dict[str, int] = {}

lon = st.one_of(st.floats(-200, 200), st.sampled_from([float("nan"), float("inf")]))
lat = st.one_of(st.floats(-100, 100), st.sampled_from([float("nan"), -float("inf")]))


@st.composite
def polygons(draw):
    kind = draw(st.sampled_from(["random", "bowtie", "sliver", "point", "line", "huge",
                                 "many", "empty"]))
    if kind == "empty":
        return shapely.Polygon()
    if kind == "point":
        return shapely.Point(draw(lon), draw(lat))
    if kind == "line":
        return shapely.LineString([(draw(lon), draw(lat)), (draw(lon), draw(lat))])
    if kind == "bowtie":  # self-intersecting
        x, y = draw(st.floats(100, 120)), draw(st.floats(25, 45))
        return shapely.Polygon([(x, y), (x + 1, y + 1), (x + 1, y), (x, y + 1)])
    if kind == "sliver":
        x, y = draw(st.floats(110, 120)), draw(st.floats(30, 40))
        return shapely.Polygon([(x, y), (x + 1, y), (x + 1, y + 1e-12)])
    if kind == "huge":
        return shapely.box(60, 10, 150, 60)
    if kind == "many":  # 10^5 vertices around a point in the tiny world
        angle = np.linspace(0, 2 * np.pi, 100_000)
        return shapely.Polygon(np.column_stack([116.4 + 0.3 * np.cos(angle),
                                                39.4 + 0.3 * np.sin(angle)]))
    finite = st.tuples(st.floats(-200, 200), st.floats(-100, 100))
    return shapely.Polygon(draw(st.lists(finite, min_size=3, max_size=8)))


# most dates fall in the tiny world's weather (2016-2018), so the region checks after the
# date check are exercised too; the rest are far out, or missing
dates = st.one_of(st.dates(dt.date(2016, 1, 1), dt.date(2018, 12, 31)),
                  st.dates(dt.date(2016, 1, 1), dt.date(2018, 12, 31)),
                  st.dates(dt.date(1900, 1, 1), dt.date(2100, 12, 31)), st.none())


@pytest.fixture(scope="module")
def inputs(served_catalog, tiny_models):
    path = str(served_catalog)
    return (data.dataset(path, "covariates"), data.dataset(path, "covariates_daily"),
            data.china())


@st.composite
def date_ranges(draw):
    start, end = draw(dates), draw(dates)
    if draw(st.booleans()) and start is not None and end is not None and start > end:
        start, end = end, start  # half of the ranges in order, the rest as drawn
    return start, end


@settings(max_examples=300, deadline=None, suppress_health_check=[
    HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(geometry=polygons(), period=date_ranges(),
       crop=st.sampled_from(["wheat", "maize", "wheat", "maize", "rice"]))
def test_region_runs_fail_only_with_documented_errors(inputs, geometry, period, crop):
    start, end = period
    cov, daily, china = inputs
    t0 = time.perf_counter()
    try:
        plan = live.plan_region(cov, daily, crop, "0-10cm", geometry, start, end, china)
    except DOCUMENTED as err:
        assert str(err) and "\n" not in str(err)
        OUTCOMES[type(err).__name__] = OUTCOMES.get(type(err).__name__, 0) + 1
    else:
        assert 0 < plan.pixel_days <= live.LIVE_BUDGET_PIXEL_DAYS
        OUTCOMES["valid plan"] = OUTCOMES.get("valid plan", 0) + 1
    SLOWEST["seconds"] = max(SLOWEST["seconds"], time.perf_counter() - t0)
    assert SLOWEST["seconds"] < 30


def test_region_run_figure():
    """Printed for docs/reliability.md: outcomes, slowest example, peak memory."""
    import resource

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nregion runs: {sum(OUTCOMES.values())} examples, 0 unhandled exceptions, "
          f"outcomes {OUTCOMES}, slowest {SLOWEST['seconds']:.2f} s, process peak RSS "
          f"{peak_mb:.0f} MB")


@given(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=5),
                 st.none(), st.integers(-10**6, 10**6)))
def test_precipitation_factors_are_checked(factor):
    try:
        value = check_factor(factor)
    except PredictError as err:
        assert "factor" in str(err)
    else:
        assert -0.5 <= value <= 0.5


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["crop", "depth", "date", "layer", "extent", "region",
                                        "catalog", "other"]),
                       st.text(max_size=60), max_size=6))
def test_url_arguments_never_break_the_state(args):
    state = AppState(available_dates=[dt.date(2018, 5, 1), dt.date(2018, 5, 2)],
                     date=dt.date(2018, 5, 1))
    before = state.catalog_path
    problems = state.apply_query(args)
    assert all(p.startswith("URL ") for p in problems)
    assert state.catalog_path == before  # never from the browser
    assert state.crop in ("wheat", "maize") and state.layer in state.param["layer"].objects
    assert state.date in state.available_dates


@settings(max_examples=300, deadline=None)
@given(text=st.lists(st.one_of(st.text(max_size=12), st.none()), min_size=1, max_size=20),
       numbers=st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=20),
       provenance=st.dictionaries(st.text(max_size=10), st.text(max_size=30), max_size=4))
def test_csv_export_never_writes_a_formula_cell(text, numbers, provenance):
    """OWASP: no text cell starts with = + - @ tab CR LF; numbers stay numbers."""
    import io

    import pandas as pd
    import pyarrow.csv as pacsv

    from cropsm.io.export import ExportError, csv_bytes

    n = min(len(text), len(numbers))
    table = pd.DataFrame({"label": text[:n], "value": numbers[:n]})
    try:
        data = csv_bytes(table, provenance)
    except ExportError as err:
        assert str(err) and "\n" not in str(err)
        return
    lines = data.split(b"\n")
    body = b"\n".join(line for line in lines if not line.startswith(b"#"))
    for line in lines:
        if line.startswith(b"#"):
            assert b"\r" not in line
    back = pacsv.read_csv(io.BytesIO(body), convert_options=pacsv.ConvertOptions(
        column_types={"label": "string"})).to_pandas()
    for cell in back["label"].dropna():
        assert not cell[:1] or cell[0] not in "=+-@\t\r\n"
    np.testing.assert_array_equal(back["value"].to_numpy(), np.asarray(numbers[:n]))
