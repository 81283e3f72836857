"""The dashboard's words in English and Chinese (``?lang=zh``).

The English text is the key, as in gettext: a view writes ``tr("Crop", lang)``, and a
text without a Chinese entry shows in English rather than not at all. Drought grade
names come from GB/T 32136-2015 itself (:data:`cropsm.analysis.drought.DROUGHT_GRADES`)
and province names from the bundled boundaries' ``name_zh``.

A text with numbers or names in it is a template, looked up before it is filled:
``tr("Run finished: {n} pixel-days predicted.", lang).format(n=...)``, so its Chinese
keeps the same ``{placeholders}`` in its own order. Names that come from elsewhere
(scenarios, cropping patterns, feature groups) are entries of their own, passed through
``tr`` where they are shown; messages of library exceptions stay as raised.
``tests/test_i18n.py`` checks that every text given to ``tr`` has an entry.
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
    # messages of long runs and errors (jobs): labels and outcomes name what the analyst did
    "{label}: internal error, logged as {id}": "{label}：内部错误，日志编号 {id}",
    "{label} {outcome}: {err}": "{label}{outcome}：{err}",
    "Waiting: {n} run(s) of other analysts ahead of this one (computing or queued).":
        "排队中：前面还有其他分析人员的 {n} 个运行（计算中或排队中）。",
    "refused": "被拒绝",
    "failed": "失败",
    "not exported": "未导出",
    "Run": "运行",
    "Network run": "神经网络运行",
    "Control experiments": "对照实验",
    "Truth skill": "对演示真值的精度",
    "Region statistics": "区域统计",
    "Map": "地图",
    "Series": "时间序列",
    "Bulletin": "旱情公报",
    "CSV": "CSV",
    "GeoTIFF": "GeoTIFF",
    "netCDF": "netCDF",
    # the season run's progress (sidebar)
    "Filling {season} in the background: {done} of {planned} days ({fraction}), about "
    "{minutes} min left.": "后台正在补算 {season} 年：已完成 {done}/{planned} 天（{fraction}），"
                           "约剩 {minutes} 分钟。",
    "Filling {season} in the background: {done} of {planned} days ({fraction}).":
        "后台正在补算 {season} 年：已完成 {done}/{planned} 天（{fraction}）。",
    "its process ended": "其进程已结束",
    "The background run of {season} stopped after {done} of {planned} days ({why}); "
    "`cropsm predict --season {season}` resumes it.":
        "{season} 年的后台运行在完成 {done}/{planned} 天后停止（{why}）；"
        "运行 `cropsm predict --season {season}` 可继续。",
    "Product: {held} of the {total} days of {year} (a background run may be adding days).":
        "产品：{year} 年 {total} 天中已有 {held} 天（后台运行可能正在补充）。",
    "Product: {held} of the {total} days of {year}.":
        "产品：{year} 年 {total} 天中已有 {held} 天。",
    # words of several tabs: axes, legends, feature groups, cropping patterns
    "date": "日期",
    "time": "时间",
    "month": "月份",
    "dekad": "旬",
    "days": "天数",
    "zone": "分区",
    "region": "区域",
    "value": "数值",
    "sm": "土壤水分",
    "SM (m³ m⁻³)": "土壤水分 (m³ m⁻³)",
    "regional mean SM (m³ m⁻³)": "区域平均土壤水分 (m³ m⁻³)",
    "observed": "观测",
    "predicted": "预测",
    "the drawn region": "绘制的区域",
    "precipitation": "降水",
    "soil": "土壤",
    "pet_moisture": "潜在蒸散与湿润指数",
    "cir": "灌溉状态（CIR）",
    "position": "位置",
    "air_temperature": "气温",
    "elevation": "高程",
    "cropping_pattern": "种植模式",
    "winter wheat + summer maize": "冬小麦 + 夏玉米",
    "winter wheat + fallow": "冬小麦 + 休闲",
    "spring wheat + fallow": "春小麦 + 休闲",
    "fallow + maize": "休闲 + 玉米",
    # the map (colour bar units, messages)
    "% of field capacity": "% 田间持水量",
    "grade": "等级",
    "category": "类别",
    "{title}: nothing in view": "{title}：视图内无数据",
    "Polygon region drawn": "已绘制多边形区域",
    "Polygon region drawn (it crosses itself; it will be repaired before use)":
        "已绘制多边形区域（边界自相交，使用前将自动修复）",
    # the tapped series (series_view)
    "Tap the map for a pixel's series, or a station (triangle) for its observations.":
        "点击地图查看像元的时间序列，或点击站点（三角形）查看其观测。",
    "**No series here:** {err}": "**此处无时间序列：**{err}",
    "pixel row {row}, col {col}": "像元（行 {row}，列 {col}）",
    "**{label}:** no prediction here (not {crop} cropland, or out of season).":
        "**{label}：**此处无预测（非{crop}耕地，或不在生长季）。",
    "10–90 % of trees": "各树预测的 10–90 %",
    "**{label}**, {crop} {depth}": "**{label}**，{crop} {depth}",
    "truth (demo)": "真值（演示）",
    ": r = {r}, ubRMSE = {ubrmse} m³ m⁻³ against the truth":
        "：与真值相比，相关系数 r = {r}，无偏均方根误差 ubRMSE = {ubrmse} m³ m⁻³",
    "**Station {station}** has no {crop} {depth} observations.":
        "**站点 {station}** 没有{crop} {depth}的观测。",
    "**Station {station}**, {crop} {depth}: {n} observations, r = {r}, ubRMSE = {ubrmse} "
    "m³ m⁻³ (in-sample: the station trained this model; see the validation report for "
    "station-blocked scores).":
        "**站点 {station}**，{crop} {depth}：{n} 次观测，相关系数 r = {r}，"
        "ubRMSE = {ubrmse} m³ m⁻³（样本内：该站点参与了此模型的训练；"
        "按站点分块的精度见验证报告）。",
    # region run (region_view)
    "temporal r": "时间相关系数 r",
    "ubRMSE (m³ m⁻³)": "无偏均方根误差 ubRMSE (m³ m⁻³)",
    "Against the demo truth: {label} per pixel over {days} days":
        "对照演示真值：{days} 天内逐像元的{label}",
    "Running {crop} {depth} ({method} method) on {cells} cropland pixels × {days} days …":
        "正在以{method}运行{crop} {depth}：{cells} 个耕地像元 × {days} 天 …",
    "Run finished: {n} pixel-days predicted.": "运行完成：已预测 {n} 个像元日。",
    "mean SM (m³ m⁻³)": "平均土壤水分 (m³ m⁻³)",
    "Live run: mean SM {start}..{end}": "实时运行：{start}..{end} 平均土壤水分",
    "Regional mean and 10–90 % band": "区域平均值及 10–90 % 区间",
    # season (season_view)
    "Choose a region (sidebar) to see its season.": "请在侧栏选择区域以查看其季节旱情。",
    "Trends of the record (Sen, Mann-Kendall)": "历史记录趋势（Sen 斜率，Mann-Kendall 检验）",
    "Reads every year of the climate record over the region: seconds.":
        "读取该区域气候记录的每一年：需数秒。",
    "Bulletin map (PNG)": "旱情公报地图（PNG）",
    "Bulletin table (CSV)": "旱情公报表格（CSV）",
    "**Season not available:** {err}": "**季节旱情不可用：**{err}",
    "Region": "区域",
    "every 1 km cell (as published with the product)": "每个 1 km 像元（随产品发布）",
    "every 1 km cell": "每个 1 km 像元",
    "the climate record's cells": "气候记录网格",
    "**{region}**, {crop} {depth}: {n} days ({first}..{last}), classes from {cells}.":
        "**{region}**，{crop} {depth}：{n} 天（{first}..{last}），干旱分级取自{cells}。",
    "**{region}**, {crop} {depth}: {n} days ({first}..{last}), {area} km² of crop area; "
    "classes from {cells}.":
        "**{region}**，{crop} {depth}：{n} 天（{first}..{last}），作物面积 {area} km²；"
        "干旱分级取自{cells}。",
    "Spells need each pixel's days: the climate record does not hold them all; choose "
    "'every 1 km cell' (tens of seconds).":
        "干旱过程需要每个像元的逐日数据：气候记录并未全部包含；"
        "请选择“每个 1 km 像元”（需数十秒）。",
    "share of crop area": "占作物面积比例",
    "Drought classes day by day (bulletin chart)": "逐日干旱分级（旱情公报图）",
    "Spells are counted on percentile categories.": "干旱过程按百分位类别统计。",
    "Drought spell (D1 or worse) going on at the last day":
        "最后一天仍在持续的干旱过程（D1 及以上）",
    "Year against the record: {err}": "与历史记录对比的年份：{err}",
    "record 10–90 %": "历史记录 10–90 %",
    "record median": "历史记录中位数",
    "day of year": "年内日序",
    "{year} against the climate record's other years": "{year} 年与气候记录其他年份对比",
    "Choose a region first.": "请先选择区域。",
    "Trends: {err}": "趋势：{err}",
    "Sen's slope (m³ m⁻³ per decade)": "Sen 斜率（m³ m⁻³/10a）",
    "Trend of the yearly mean {period} (record cells)": "{period} 年均值趋势（气候记录网格）",
    "**Trend {years}** (Sen's slope, Mann-Kendall): regional mean {slope} m³ m⁻³ per decade, "
    "p = {p} ({significance} at 0.05); {share} of the record cells significant.":
        "**{years} 趋势**（Sen 斜率，Mann-Kendall 检验）：区域平均 {slope} m³ m⁻³/10a，"
        "p = {p}（0.05 水平下{significance}）；{share} 的气候记录网格趋势显著。",
    "significant": "显著",
    "not significant": "不显著",
    "Bulletin: {err}": "旱情公报：{err}",
    "Percentile categories (D0–D4)": "百分位类别（D0–D4）",
    "GB/T 32136 grades": "GB/T 32136 干旱等级",
    "Dekad": "旬",
    "Compare with year": "对比年份",
    "record cells (fast)": "气候记录网格（快）",
    # scenarios (scenario_view); the scenarios' names and measured skill are
    # cropsm.serve.forest_scenarios.SCENARIOS and MEASURED_SKILL
    "Scenario": "情景",
    "Precipitation change": "降水变化",
    "Run scenario on the region": "在区域上运行情景",
    "Choose a region and dates in the sidebar, then a scenario. Nothing is written to the "
    "product store.": "请在侧栏选择区域和日期，再选择情景。不会向产品库写入任何内容。",
    "Download scenario CSV": "下载情景 CSV",
    "irrigation off, learned: the CropSM forest of the rain-fed stations vs its forest of all "
    "stations": "关闭灌溉（学习得到）：雨养站点的 CropSM 随机森林与全部站点的随机森林对比",
    "irrigation module off (CIR = 0, 'below the stage threshold': drier by construction) vs on":
        "关闭灌溉模块（CIR = 0，“低于生育期阈值”：按设计必然偏干）与开启对比",
    "daily precipitation scaled by 1 + factor": "逐日降水乘以 (1 + 变化系数)",
    "the other crop's forest on the same cells and season (a model check, not Liu et al.'s "
    "pattern method: see the Network tab)":
        "在相同像元和生长季上使用另一作物的随机森林（模型检验，并非 Liu 等的种植模式方法："
        "见“神经网络”页）",
    "model without the precipitation features vs the full model":
        "去除降水特征的模型与完整模型对比",
    "model without the soil features vs the full model": "去除土壤特征的模型与完整模型对比",
    "model without the pet_moisture features vs the full model":
        "去除潜在蒸散与湿润指数特征的模型与完整模型对比",
    "model without the cir features vs the full model": "去除灌溉（CIR）特征的模型与完整模型对比",
    "model without the position features vs the full model": "去除位置特征的模型与完整模型对比",
    "right sign on 79-99 % of pixel-days, mean response 0.47-2.27 times the true one (2 of 6 "
    "region-crops flagged)":
        "79-99 % 的像元日变化符号正确，平均响应为真实响应的 0.47-2.27 倍"
        "（6 个区域-作物组合中 2 个被标记）",
    "right sign on 24-64 % of pixel-days, mean response 2.3-22.5 times the true one (6 of 6 "
    "flagged): it does not measure irrigation":
        "24-64 % 的像元日变化符号正确，平均响应为真实响应的 2.3-22.5 倍"
        "（6 个全部被标记）：它并不能衡量灌溉",
    "right sign on 76-88 % of pixel-days with the CropSM method, 29-77 % with the paper method":
        "CropSM 方法 76-88 % 的像元日变化符号正确，论文方法为 29-77 %",
    "Running scenario '{scenario}' on {cells} cells …":
        "正在 {cells} 个像元上运行情景“{scenario}” …",
    "Scenario finished: {label}.": "情景运行完成：{label}。",
    "daily precipitation {factor}": "逐日降水 {factor}",
    "model without the {group} features": "去除{group}特征的模型",
    "{other} model on {crop} cells and season": "{other}模型用于{crop}像元及其生长季",
    "CIR = 0 and the feature omissions belong to the paper method (its irrigation module and "
    "reduced models): switch the method to paper, or choose the learned irrigation-off "
    "scenario.":
        "CIR = 0 和去除特征的情景属于论文方法（其灌溉模块和简化模型）：请将方法切换为论文方法，"
        "或选择学习得到的关闭灌溉情景。",
    "No {crop} {depth} forest of the rain-fed stations; train it with `cropsm train --method "
    "cropsm --rainfed`.":
        "没有雨养站点的{crop} {depth}随机森林；"
        "请用 `cropsm train --method cropsm --rainfed` 训练。",
    "No {crop} {depth} model without the {group} features; train it with `cropsm train "
    "--omit {group}`.":
        "没有去除 {group} 特征的{crop} {depth}模型；请用 `cropsm train --omit {group}` 训练。",
    "**{label}** ({crop} {depth}, {start}..{end}): {pixel_days} pixel-days; mean SM baseline "
    "{baseline}, scenario {scenario}, difference {difference} m³ m⁻³; {drier} of pixel-days "
    "drier and {wetter} wetter by more than 0.01 m³ m⁻³; {outside} outside the scenario "
    "model's area of applicability.":
        "**{label}**（{crop} {depth}，{start}..{end}）：{pixel_days} 个像元日；平均土壤水分："
        "基准 {baseline}，情景 {scenario}，差值 {difference} m³ m⁻³；{drier} 的像元日变干、"
        "{wetter} 变湿超过 0.01 m³ m⁻³；{outside} 位于情景模型的适用域之外。",
    "scenario − baseline (m³ m⁻³)": "情景 − 基准 (m³ m⁻³)",
    "Mean difference": "平均差值",
    "baseline": "基准",
    "scenario": "情景",
    "Regional mean": "区域平均值",
    "true change (m³ m⁻³)": "真实变化 (m³ m⁻³)",
    "True mean difference (demo world)": "真实平均差值（演示世界）",
    "This scenario changes the model, not the world: it has no true response to check.":
        "此情景改变的是模型而非真实世界：没有可供检验的真实响应。",
    "No counterfactual truth to check this response against (real data have none; the demo "
    "world does).": "没有可用于检验此响应的反事实真值（真实数据没有；演示世界有）。",
    "Measured on the demo world, this scenario was {measured} (docs/scenarios.md).":
        "在演示世界上的实测：{measured}（docs/scenarios.md）。",
    "**Against the true response** (the demo world re-simulated under the same change): "
    "{skill}": "**与真实响应对比**（在相同变化下重新模拟的演示世界）：{skill}",
    "true {mean} {mean_true}, {model} {mean_model} m³ m⁻³ (ratio {ratio}); ΔSM r {r}, bias "
    "{bias}; sign right on {sign} of pixel-days.":
        "真实{mean} {mean_true}，{model} {mean_model} m³ m⁻³（比值 {ratio}）；"
        "ΔSM 相关系数 r {r}，偏差 {bias}；{sign} 的像元日变化符号正确。",
    "model": "模型",
    "mean difference": "平均差值",
    "No R² ranking: {err}": "无 R² 排序：{err}",
    "{k}. {group}: R² {r2}, loss {loss}": "{k}. {group}：R² {r2}，损失 {loss}",
    "**R² lost without each feature group** (held-out rows, classifier CIR):":
        "**去除各特征组后损失的 R²**（留出样本，分类器预测的 CIR）：",
    # network (network_view)
    "Whole region under": "全区种植模式",
    "Run the network on the region": "在区域上运行神经网络",
    "The multilayer network (Liu et al. 2021) predicts five 10 cm layers from 0 to 50 cm. "
    "Choose a region and dates in the sidebar, a layer and a cropping pattern: the run shows "
    "the pattern-weighted reference product, the region under that pattern minus the "
    "reference, and the quality flags. Nothing is written.":
        "多层神经网络（Liu 等，2021）预测 0–50 cm 的五个 10 cm 土层。请在侧栏选择区域和日期，"
        "再选择土层和种植模式：运行结果显示按种植模式加权的参考产品、全区采用该种植模式时与参考之差，"
        "以及质量标志。不会写入任何内容。",
    "Download CSV": "下载 CSV",
    "Download the grids and flags (netCDF)": "下载网格和质量标志（netCDF）",
    "Control experiments (Fig. 6)": "对照实验（图 6）",
    "Running the network ({layer}, {pattern}) on {cells} cells …":
        "正在 {cells} 个像元上运行神经网络（{layer}，{pattern}）…",
    "Network run finished: {pattern} at {layer}.": "神经网络运行完成：{layer}，{pattern}。",
    "Reference (pattern-weighted), mean": "参考（按种植模式加权），均值",
    "Pattern − reference, mean": "种植模式 − 参考，均值",
    "Pattern flag (green: observed in the zone)": "种植模式标志（绿色：该区有观测）",
    "True pattern − own fields, mean (demo world)":
        "真实种植模式 − 自身种植模式下的土壤水分场，均值（演示世界）",
    "zone {zone}": "{zone} 区",
    "pattern − reference (m³ m⁻³)": "种植模式 − 参考 (m³ m⁻³)",
    "Monthly difference by agricultural zone": "各农业区逐月差值",
    "**{pattern}** at {layer}, {start}..{end}: mean reference {reference}, pattern − "
    "reference {difference} m³ m⁻³. Time flag: {in_time} of the days lie inside the "
    "stations' period; pattern flag: {flag} of the cells have this pattern observed at "
    "stations of their zone.":
        "**{pattern}**，{layer}，{start}..{end}：参考均值 {reference}，种植模式 − 参考 "
        "{difference} m³ m⁻³。时间标志：{in_time} 的日期位于站点观测期内；种植模式标志："
        "{flag} 的像元所在农业区有站点观测到此种植模式。",
    "**Against the true response** (the demo world's fields re-simulated under the pattern, "
    "against their own patterns; the network's response taken against its reference "
    "weighted as the fields are): {skill}":
        "**与真实响应对比**（演示世界的土壤水分场在该种植模式下重新模拟，与其自身种植模式对比；"
        "神经网络的响应相对于按土壤水分场的同样方式加权的参考计算）：{skill}",
    "network": "神经网络",
    "mean": "均值",
    "forest": "随机森林",
    "Station-blocked skill at {layer} ({crop}): {text}.":
        "{layer} 按站点分块的精度（{crop}）：{text}。",
    "Running the control experiments at {layer} on {cells} cells …":
        "正在 {cells} 个像元上运行 {layer} 的对照实验 …",
    "Control experiments finished at {layer}.": "{layer} 的对照实验完成。",
    "without {group}": "去除{group}",
    "{k}. {group}: training R² {r2}, loss {loss}; mean difference {difference} m³ m⁻³":
        "{k}. {group}：训练 R² {r2}，损失 {loss}；平均差值 {difference} m³ m⁻³",
    "**Control experiments at {layer}** (Liu et al. 2021, Fig. 6), {start}..{end}: each "
    "network trained without a feature group minus the full network, mean over the days; "
    "ranked by the training R² it loses (Fig. 5).":
        "**{layer} 对照实验**（Liu 等，2021，图 6），{start}..{end}：去除某一特征组训练的"
        "神经网络减去完整神经网络，按日平均；按损失的训练 R² 排序（图 5）。",
    # cropping patterns over all cropland (pattern_regions_view)
    "{pattern} − reference (m³ m⁻³)": "{pattern} − 参考 (m³ m⁻³)",
    "Reload the national summary": "重新加载全国汇总",
    "**Cropping patterns over all cropland (Liu et al. 2021, Figs. 9-10):** not computed yet. "
    "{err}": "**全部耕地上的种植模式（Liu 等，2021，图 9-10）：**尚未计算。{err}",
    "**Cropping patterns over all cropland, {layer}, {year}** (Liu et al. 2021, Figs. 9-10): "
    "the monthly SM of each pattern on all cropland minus the reference product, by region "
    "(NE, N, E, S, C, NW, SW, HHH) and for China (CHN); {cells} cropland cells {spacing} km "
    "apart. The northeast is masked for double cropping, as in Liu's Fig. 9. Below: the "
    "annual difference (m³ m⁻³) per pattern and region. Written by `cropsm network "
    "regions`.":
        "**全部耕地上的种植模式，{layer}，{year} 年**（Liu 等，2021，图 9-10）：各种植模式在"
        "全部耕地上的逐月土壤水分减去参考产品，按区域（NE、N、E、S、C、NW、SW、HHH）及全国（CHN）"
        "统计；{cells} 个耕地网格单元，间距 {spacing} km。与 Liu 的图 9 一样，东北地区的一年两熟"
        "种植模式被掩膜。下方：各种植模式和区域的年均差值（m³ m⁻³）。由 `cropsm network regions` "
        "生成。",
    # validation (validation_view)
    "**No validation report for {crop} {depth}:** {err} Run `cropsm validate` to write it.":
        "**没有{crop} {depth}的验证报告：**{err} 请运行 `cropsm validate` 生成。",
    "**{crop} {depth}**: {n} station observations ({train} train / {test} test). {scope}Rows "
    "differ in how honest they are: *paper* uses the observed CIR at test time as the paper "
    "does; the others never see it. Irrigation module: R² {r2} %, RMSE {rmse} % without it. "
    "Classifier: overall accuracy {accuracy}, ROC AUC {auc}.":
        "**{crop} {depth}**：{n} 个站点观测（训练 {train} / 测试 {test}）。{scope}"
        "各行的严格程度不同：*paper* 行与论文一样在测试时使用观测的 CIR；其他行从不使用它。"
        "灌溉模块：去除后 R² 变化 {r2} %，RMSE 变化 {rmse} %。分类器：总体精度 {accuracy}，"
        "ROC AUC {auc}。",
    "Spatial r per month": "逐月空间相关系数 r",
    "spatial_r": "空间相关系数 r",
    "Permutation importance (R² loss)": "置换重要性（R² 损失）",
    "feature": "特征",
    "r2_loss": "R² 损失",
    "Per zone: RMSE, bias, ubRMSE (m³ m⁻³)": "分区：RMSE、偏差、ubRMSE (m³ m⁻³)",
    "variable": "指标",
    "Per zone: temporal r": "分区：时间相关系数 r",
    "r": "相关系数 r",
    "*These tables cover all stations: re-run `cropsm validate` to filter them to {where}.*":
        "*这些表格涵盖全部站点：重新运行 `cropsm validate` 可将其限定到{where}。*",
    "*No validation station lies in {where}; nothing to show.*":
        "*{where}内没有验证站点；无可显示内容。*",
    "**Filtered to {where}: {n} stations** (permutation importance covers all stations).":
        "**已限定到{where}：{n} 个站点**（置换重要性涵盖全部站点）。",
    "Run `cropsm validate --catalog catalogs/real-example.yaml` (or your own catalog of real "
    "files) to score ESA CCI and other gridded products here.":
        "运行 `cropsm validate --catalog catalogs/real-example.yaml`（或使用您自己的真实数据目录）"
        "即可在此评估 ESA CCI 及其他格网产品。",
    "**CIR classifier** (held-out rows)": "**CIR 分类器**（留出样本）",
    "**Product comparison at matched resolution** (in-situ means per coarse pixel and day; "
    "demo competitors are degraded coarse truth, see `cropsm.analysis.product_comparison`)":
        "**匹配分辨率下的产品对比**（每个粗像元每天的站点均值；演示中的对比产品为降质的"
        "粗分辨率真值，见 `cropsm.analysis.product_comparison`）",
    "**Real data: gridded products against in-situ stations** (same metrics, at each "
    "product's pixel; see `catalogs/real-example.yaml`)":
        "**真实数据：格网产品与地面站点对比**（相同指标，在各产品的像元上计算；"
        "见 `catalogs/real-example.yaml`）",
    # held-out skill (skill_view)
    "station-blocked CV": "按站点分块交叉验证",
    "zone-blocked CV": "按分区分块交叉验证",
    "observations": "观测数",
    "observed SM (m³ m⁻³)": "观测土壤水分 (m³ m⁻³)",
    "predicted SM (m³ m⁻³)": "预测土壤水分 (m³ m⁻³)",
    "{setting}: observed vs predicted": "{setting}：观测与预测对比",
    "Taylor diagram (observations: star)": "泰勒图（观测：星号）",
    "**No held-out predictions for {crop} {depth}:** {err} Run `cropsm validate` to write "
    "them.": "**没有{crop} {depth}的留出预测：**{err} 请运行 `cropsm validate` 生成。",
    "all stations": "全部站点",
    "No validation station lies in {where}.": "{where}内没有验证站点。",
    "**Held-out skill, {crop} {depth}, {where}** ({n} stations):":
        "**留出精度，{crop} {depth}，{where}**（{n} 个站点）：",
    "- {setting}: N = {n}, r = {r} [{r_low}, {r_high}], R² = {r2}, bias = {bias}, RMSE = "
    "{rmse}, ubRMSE = {ubrmse} m³ m⁻³":
        "- {setting}：N = {n}，相关系数 r = {r} [{r_low}, {r_high}]，R² = {r2}，偏差 = {bias}，"
        "RMSE = {rmse}，ubRMSE = {ubrmse} m³ m⁻³",
    "- CIR classifier (all test rows): ROC AUC = {auc}":
        "- CIR 分类器（全部测试样本）：ROC AUC = {auc}",
    "Stations by temporal r (station-blocked); tap one for its series":
        "各站点时间相关系数 r（按站点分块）；点击站点查看其序列",
    "false positive rate": "假阳性率",
    "true positive rate": "真阳性率",
    "CIR classifier ROC (AUC {auc})": "CIR 分类器 ROC（AUC {auc}）",
    "metric": "指标",
    "Per zone: station temporal metrics (station-blocked)": "分区：站点时间序列指标（按站点分块）",
    "held-out prediction": "留出预测",
    "Station {station}": "站点 {station}",
    "**Station {station}** (station-blocked, held out): N = {n}, r = {r}, ubRMSE = {ubrmse} "
    "m³ m⁻³": "**站点 {station}**（按站点分块，留出）：N = {n}，相关系数 r = {r}，"
              "ubRMSE = {ubrmse} m³ m⁻³",
    # export (export_view)
    "per pixel": "逐像元",
    "regional mean": "区域平均",
    "Download region CSV": "下载区域 CSV",
    "Download map GeoTIFF": "下载地图 GeoTIFF",
    "The view holds {cells} cells at 1 km, over the GeoTIFF limit of {limit}; zoom in and "
    "export again.": "当前视图在 1 km 分辨率下有 {cells} 个像元，超过 GeoTIFF 上限 {limit}；"
                     "请放大后重新导出。",
    # catalog (overview): the table's columns and statuses
    "entry": "条目",
    "status": "状态",
    "size": "大小",
    "ok": "正常",
    "missing": "缺失",
    **{g.name: g.label_zh for g in DROUGHT_GRADES},
}


def tr(text: str, lang: str) -> str:
    """``text`` in ``lang`` ("en" or "zh"); English when there is no translation."""
    return ZH.get(text, text) if lang == "zh" else text
