"""The dashboard's words in English and Chinese (``?lang=zh``).

The English text is the key, as in gettext: a view writes ``tr("Crop", lang)``, and a
text without a Chinese entry shows in English rather than not at all. Drought grade
names come from GB/T 32136-2015 itself (:data:`cropsm.analysis.drought.DROUGHT_GRADES`)
and province names from the bundled boundaries' ``name_zh``.
"""

from __future__ import annotations

from cropsm.analysis.drought import DROUGHT_GRADES

__all__ = ["LANGUAGES", "ZH", "tr"]

#: The page's languages, by URL value, in their own words.
LANGUAGES: dict[str, str] = {"en": "English", "zh": "中文"}

#: Chinese for each English text of the page.
ZH: dict[str, str] = {
    # header and sidebar
    "CropSM: daily 1 km soil moisture for China's dryland wheat and maize":
        "CropSM：中国旱作小麦和玉米逐日 1 公里土壤水分",
    "Crop": "作物",
    "Depth": "深度",
    "Layer": "图层",
    "Date": "日期",
    "Step through days": "逐日播放",
    "Region: box lon0,lat0,lon1,lat1 or province": "区域：经纬度框 lon0,lat0,lon1,lat1 或省份",
    "or pick a province": "或选择省份",
    "Run from": "运行起始日",
    "Run to": "运行结束日",
    "Run the model on the region": "在区域上运行模型",
    "Language": "语言",
    # crops and methods
    "wheat": "小麦",
    "maize": "玉米",
    "paper": "论文方法",
    "cropsm": "CropSM 方法",
    # map layers
    "Soil moisture": "土壤水分",
    "Uncertainty (10–90 % tree spread)": "不确定性（随机森林各树预测的 10–90 % 分位区间）",
    "Area of applicability (1 inside)": "适用域 AOA（1 为域内）",
    "Relative soil moisture": "土壤相对湿度",
    "Drought grade (GB/T 32136-2015)": "干旱等级（GB/T 32136-2015）",
    "Percentile vs the record": "相对历史记录的百分位",
    "Drought category (percentile, D0–D4)": "干旱类别（百分位，D0–D4）",
    "Anomaly vs the record's day-of-year mean": "相对历史同日均值的距平",
    "Prediction − truth (demo)": "预测 − 真值（演示）",
    # tabs
    "Region run": "区域模拟",
    "Season": "季节旱情",
    "Scenarios": "情景",
    "Network (0-50 cm)": "神经网络（0-50 cm）",
    "Validation": "验证",
    "Export": "导出",
    "Catalog": "数据目录",
    # the region's day
    "**Region:** draw a box (shift-drag with the box tool) or a polygon, type a box, or "
    "pick a province.": "**区域：**在地图上画框（框选工具按住 Shift 拖动）或多边形，输入经纬度框，"
                        "或选择省份。",
    "Drawn region": "绘制的区域",
    "Region not usable": "区域不可用",
    "{region}, {crop} {depth}, {date}: {cropland} km² of {crop} cropland, {predicted} km² "
    "predicted. Mean SM **{sm} m³ m⁻³** ({week}), relative SM {relative} %. Drought "
    "grades (GB/T 32136-2015, share of predicted area):":
        "{region}，{crop} {depth}，{date}：{crop}种植区 {cropland} km²，已预测 {predicted} km²。"
        "平均土壤水分 **{sm} m³ m⁻³**（{week}），土壤相对湿度 {relative} %。"
        "干旱等级（GB/T 32136-2015，占已预测面积）：",
    "{change} m³ m⁻³ against 7 days before": "较 7 天前 {change} m³ m⁻³",
    "no product 7 days before": "7 天前无产品",
    # messages
    "The product has not been computed yet: run `cropsm predict` (the README's run command "
    "does it); the catalog tab shows what exists.":
        "产品尚未计算：请运行 `cropsm predict`（README 的运行命令会执行）；"
        "数据目录页显示已有内容。",
    "Region cleared.": "已清除区域。",
    "Region: {text}": "区域：{text}",
    **{g.name: g.label_zh for g in DROUGHT_GRADES},
}


def tr(text: str, lang: str) -> str:
    """``text`` in ``lang`` ("en" or "zh"); English when there is no translation."""
    return ZH.get(text, text) if lang == "zh" else text
