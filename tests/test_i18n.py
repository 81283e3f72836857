"""The dashboard in Chinese (``?lang=zh``): every text a view shows has a Chinese entry.

The checks read the source (every ``tr("...")`` of ``cropsm/app``), the ``ZH`` table
itself, and views built for a Chinese session on the tiny world.
"""

from __future__ import annotations

import ast
import asyncio
import datetime as dt
import inspect
import json
import re
import string
from pathlib import Path

import pytest

import cropsm.app
from cropsm.app.i18n import ZH, tr
from cropsm.app.state import AppState

APP = Path(cropsm.app.__file__).parent
REPORTS = Path(__file__).resolve().parents[1] / "docs" / "validation"
BOX = "116.0,39.0,116.8,39.8"  # inside the tiny world

#: Functions that translate some of their arguments (English texts) themselves, by the
#: positions and names of those arguments.
TRANSLATED_ARGUMENTS = {"show_error": ((1, "label"), (3, "outcome")),
                        "run_in_thread": ((1, "label"),),
                        "internal_error": ((0, "label"),),
                        "skill_text": ((2, "model"), (3, "mean"))}
#: Entries whose Chinese is the English: names of formats.
SAME_IN_CHINESE = {"CSV", "GeoTIFF", "netCDF"}
#: Chinese characters and full-width punctuation.
_CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


def _texts(node: ast.expr) -> list[str]:
    """The English texts an argument can be: a literal (implicitly concatenated literals
    are one constant) or either side of ``a if c else b``; none for anything else."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _texts(node.body) + _texts(node.orelse)
    return []


def _computed(node: ast.expr) -> bool:
    """An argument built before the lookup (f-string, ``%`` or ``.format``): no key matches."""
    return (isinstance(node, ast.JoinedStr)
            or isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod | ast.Add)
            or isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == "format")


def _called(call: ast.Call) -> str:
    func = call.func
    return func.id if isinstance(func, ast.Name) else (
        func.attr if isinstance(func, ast.Attribute) else "")


def _app_calls():
    for path in sorted(APP.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Call):
                yield path.name, node


def _argument(call: ast.Call, position: int, name: str) -> ast.expr | None:
    if len(call.args) > position and not any(isinstance(a, ast.Starred)
                                             for a in call.args[:position + 1]):
        return call.args[position]
    return next((k.value for k in call.keywords if k.arg == name), None)


def source_texts() -> dict[str, str]:
    """Every English text ``cropsm/app`` hands to ``tr`` (or to a function that calls it
    on an argument), with where it is."""
    found: dict[str, str] = {}
    for filename, call in _app_calls():
        name = _called(call)
        if name == "tr" and call.args:
            places = [call.args[0]]
        else:
            places = [_argument(call, position, keyword)
                      for position, keyword in TRANSLATED_ARGUMENTS.get(name, ())]
        for node in places:
            for text in _texts(node) if node is not None else []:
                found.setdefault(text, f"{filename}:{call.lineno}")
    return found


def _fields(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


def test_the_source_scan_finds_the_texts():
    """The scan itself: it sees the views' texts, implicit concatenation included."""
    texts = source_texts()
    assert len(texts) > 150
    assert "Run finished: {n} pixel-days predicted." in texts  # tr(...).format(...)
    assert ("Choose a region and dates in the sidebar, then a scenario. Nothing is written "
            "to the product store.") in texts  # two literals, one text
    assert {"not exported", "GeoTIFF", "Map", "Run", "network"} <= set(texts)  # arguments
    assert {"significant", "not significant"} <= set(texts)  # tr(a if c else b)


def test_every_text_given_to_tr_has_a_chinese_entry():
    missing = {text: where for text, where in source_texts().items() if text not in ZH}
    assert not missing, "no Chinese for:\n" + "\n".join(
        f"{where}: {text!r}" for text, where in missing.items())


def test_tr_is_never_given_a_text_built_before_the_lookup():
    built = [f"{filename}:{call.lineno}" for filename, call in _app_calls()
             if _called(call) == "tr" and call.args and _computed(call.args[0])]
    assert not built, f"tr() of an f-string or a formatted text (use a template): {built}"


def test_the_library_words_the_views_translate_have_entries():
    """Names the views pass through ``tr`` from variables: crops, methods, layers, units,
    classes, scenarios, patterns, feature groups, validation settings, table words."""
    from cropsm.analysis.drought import DROUGHT_GRADES
    from cropsm.analysis.map_layers import MAP_LAYERS
    from cropsm.analysis.percentiles import DROUGHT_CATEGORIES
    from cropsm.analysis.scenario_skill import NO_TRUTH
    from cropsm.app.jobs import show_error
    from cropsm.app.season_view import _SCHEMES
    from cropsm.app.skill_view import SETTINGS
    from cropsm.core import crops
    from cropsm.core.patterns import PATTERNS
    from cropsm.nn.inputs import GROUPS
    from cropsm.rf.features import FEATURE_GROUPS, METHODS
    from cropsm.serve.forest_scenarios import MEASURED_SKILL, SCENARIOS

    symbols = {"m³ m⁻³", "%", "1"}
    comparison = json.loads((REPORTS / "network_comparison.json").read_text())
    texts = [*crops.CROPS, *METHODS, *(layer.label for layer in MAP_LAYERS.values()),
             *(layer.units for layer in MAP_LAYERS.values() if layer.units not in symbols),
             *(grade.name for grade in DROUGHT_GRADES),
             *(c.name for c in DROUGHT_CATEGORIES if not re.fullmatch(r"D\d", c.name)),
             *SCENARIOS.values(), *MEASURED_SKILL.values(), NO_TRUTH, *PATTERNS.values(),
             *FEATURE_GROUPS, *GROUPS, *SETTINGS.values(), *_SCHEMES,
             *{row["method"] for row in comparison["rows"]},
             inspect.signature(show_error).parameters["outcome"].default,
             "entry", "status", "size", "ok", "missing"]  # the catalog table's
    assert not [text for text in texts if text not in ZH]


def test_placeholders_agree_and_every_entry_is_chinese():
    differ = {key: (sorted(_fields(key)), sorted(_fields(value)))
              for key, value in ZH.items() if _fields(key) != _fields(value)}
    assert not differ, differ
    untranslated = [key for key, value in ZH.items()
                    if (value == key or not _CJK.search(value)) and key not in SAME_IN_CHINESE]
    assert not untranslated, untranslated


def test_no_entry_is_written_twice():
    """A second entry for the same English would silently replace the first."""
    tree = ast.parse((APP / "i18n.py").read_text(encoding="utf-8"))
    (table,) = [node.value for node in ast.walk(tree) if isinstance(node, ast.AnnAssign)
                and isinstance(node.target, ast.Name) and node.target.id == "ZH"]
    assert isinstance(table, ast.Dict)
    keys = [k.value for k in table.keys if isinstance(k, ast.Constant)]
    assert len(keys) == len(set(keys)), sorted(k for k in set(keys) if keys.count(k) > 1)


def test_english_is_unchanged_and_chinese_is_formatted():
    from cropsm.app.layout import season_progress

    assert tr("Run finished: {n} pixel-days predicted.", "en") == (
        "Run finished: {n} pixel-days predicted.")
    days = [dt.date(2018, 5, 1)]
    assert season_progress(days) == ("Product: 1 of the 365 days of 2018 (a background run "
                                     "may be adding days).")
    assert season_progress(days, lang="zh") == ("产品：2018 年 365 天中已有 1 天"
                                                "（后台运行可能正在补充）。")


def test_the_skill_sentence_template_is_the_library_sentence():
    """``skill_text`` translates :data:`SKILL_SENTENCE`: with the template as its own
    translation, both give the library's sentence."""
    from cropsm.analysis.scenario_skill import SKILL_SENTENCE, skill_sentence
    from cropsm.app.scenario_view import skill_text

    assert SKILL_SENTENCE in ZH
    skill = {"mean_true": 0.012, "mean_model": -0.0031, "mean_ratio": -0.26, "r": 0.41,
             "bias": 0.0017, "sign_agreement": 0.38}
    identity = {SKILL_SENTENCE: SKILL_SENTENCE, "network": "network", "mean": "mean"}
    with pytest.MonkeyPatch.context() as patch:
        for english, chinese in identity.items():
            patch.setitem(ZH, english, chinese)
        assert skill_text(skill, "zh", "network", "mean") == skill_sentence(skill, "network",
                                                                             "mean")
    assert skill_text(skill, "en") == skill_sentence(skill)
    chinese = skill_text(skill, "zh", "network", "mean")
    assert chinese.startswith("真实均值 +0.0120，神经网络 -0.0031") and "38%" in chinese


def test_run_messages_in_chinese():
    from cropsm.app.jobs import internal_error, run_in_thread
    from cropsm.serve.predict import PredictError

    state = AppState(lang="zh")
    err = PredictError("This run is over the live budget.")

    def refuse():
        raise err

    asyncio.run(run_in_thread(state, "Run", refuse, lambda: None))
    assert state.message == f"运行被拒绝：{err}"  # the library's words stay as raised
    try:
        raise KeyError("a bug")
    except KeyError:
        text = internal_error("Map", "zh")
    assert re.fullmatch(r"地图：内部错误，日志编号 [0-9a-f]{8}", text)


#: English the Chinese views must not show: phrases of their fixed texts.
ENGLISH = ("Choose a region", "Nothing is written", "Download", "Bulletin", "Trends of",
           "Tap the map", "No series here", "Reload the national summary", "station observations",
           "Rows differ", "CIR classifier", "Product comparison", "Real data", "Held-out skill",
           "Cropping patterns over all cropland", "Whole region under", "Precipitation change",
           "Run scenario", "Run the network", "Control experiments", "per pixel",
           "regional mean", "Dekad", "Compare with year", "record cells", "every 1 km cell",
           "classes from", "Filtered to", "Season not available", "m³ m⁻³ per decade")


def _shown(obj, seen=None) -> list[str]:
    """The texts of a Panel layout: Markdown and HTML panes, widget labels and options."""
    import panel as pn

    seen = set() if seen is None else seen
    if id(obj) in seen:
        return []
    seen.add(id(obj))
    if isinstance(obj, pn.viewable.Viewer):
        return _shown(obj.__panel__(), seen)
    out: list[str] = []
    if isinstance(obj, pn.pane.Markdown | pn.pane.HTML) and isinstance(obj.object, str):
        out.append(obj.object)  # not a DataFrame pane's table
    if isinstance(obj, pn.widgets.Widget) and not isinstance(obj, pn.widgets.RadioButtonGroup):
        # a button group shows no title, only its options
        out += [str(getattr(obj, "label", "") or ""), str(obj.name or "")]
        options = getattr(obj, "options", None)
        if isinstance(options, dict):
            out += [str(k) for k in options]
        if isinstance(obj, pn.widgets.Tabulator):
            out += [str(v) for v in (obj.titles or {}).values()]
    for child in getattr(obj, "objects", None) or []:
        out += _shown(child, seen)
    return out


@pytest.fixture
def chinese_state(served_catalog, tiny_models, monkeypatch):
    from cropsm.app import data

    monkeypatch.setenv("CROPSM_MODELS", str(tiny_models))
    monkeypatch.setenv("CROPSM_REPORTS", str(REPORTS))
    state = AppState(catalog_path=str(served_catalog), lang="zh")
    state.set_dates(data.product_dates(state.catalog_path))
    state.set_region(BOX)
    return state


def test_the_tabs_built_for_a_chinese_session_show_no_english_text(chinese_state):
    from cropsm.app.export_view import ExportView
    from cropsm.app.network_view import NetworkView
    from cropsm.app.overview import Overview
    from cropsm.app.region_view import RegionView
    from cropsm.app.scenario_view import ScenarioView
    from cropsm.app.season_view import SeasonView
    from cropsm.app.series_view import SeriesView
    from cropsm.app.validation_view import ValidationView

    # GB/T grades: the tiny world's product has no climatology for the percentile classes
    views = [SeasonView(state=chinese_state, scheme="grade"),
             ScenarioView(state=chinese_state), NetworkView(state=chinese_state),
             ValidationView(state=chinese_state),
             ExportView(state=chinese_state), Overview(state=chinese_state),
             RegionView(state=chinese_state), SeriesView(state=chinese_state)]
    chinese_state.tapped = (-9.0e6, -9.0e6)  # outside the grid: the series panel refuses
    texts = [text for view in views for text in _shown(view)]
    shown = "\n".join(texts)
    # what was built: the season's note, the validation title filtered to the box, the
    # pattern summary (the reports folder has it), the series panel's refusal
    for chinese in ("干旱分级取自", "个站点观测", "已限定到", "全部耕地上的种植模式",
                    "此处无时间序列", "旬", "对比年份", "在区域上运行情景", "下载区域 CSV", "条目"):
        assert chinese in shown, chinese
    left = {phrase: [t for t in texts if phrase in t] for phrase in ENGLISH}
    assert not {phrase: found for phrase, found in left.items() if found}


def test_the_map_in_chinese(chinese_state):
    from cropsm.app.map_view import MapView

    chinese_state.layer = "relative_sm"
    image = MapView(state=chinese_state)._image()
    import holoviews as hv

    options = hv.Store.lookup_options("bokeh", image, "plot").kwargs
    assert options["clabel"] == "土壤相对湿度 (% 田间持水量)"
    assert options["title"].startswith("土壤相对湿度: 小麦 0-10cm")
