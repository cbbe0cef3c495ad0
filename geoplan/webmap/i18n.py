"""The map app's words in Chinese and English, and human labels for every table column.

Chinese is the default for a Chinese project (district names in Chinese
characters); English is one switch away. Column names of library tables
(``XZQMC``, ``uncovered_weight``, ``new_fitout`` ...) never reach the screen:
:func:`label_columns` renames them, and shares become percentages.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..networks import network_label

__all__ = ["LANGS", "TEXT", "COLUMNS", "PERCENT_COLUMNS", "WORDS", "MAP_WORDS", "VALUES", "VALUE_COLUMNS", "LAYERS",
           "ERROR_KINDS", "map_word", "t", "default_lang", "label_columns", "column_label", "label_values", "value_word",
           "tooltip_words", "DRAW_WORDS", "layer_name", "error_text", "progress_text", "basis_text", "percent", "money", "money_parts",
           "district_tooltip", "all_text", "coverage_refers", "network_name"]

#: Interface languages: code → name shown in the switch.
LANGS: dict[str, str] = {"zh": "中文", "en": "English"}

#: Interface text: key → (Chinese, English). ``{name}`` fields are filled by :func:`t`.
TEXT: dict[str, tuple[str, str]] = {
    "page_title": ("geoplan 新型基础设施规划", "geoplan — new infrastructure plan"),
    "whatif": ("情景推演", "What if …"),
    "language": ("界面语言", "Language"),
    "year": ("目标年份", "Target year"),
    "year_help": ("该年份的每万人基站数目标决定各区配额。", "The plan's stations-per-10k target of this year sets each district's quota."),
    "total": ("5G 基站总数（现状 + 新建）", "Total 5G stations (existing + new)"),
    "total_box": ("输入数量", "Type a number"),
    "total_help": ("现状 {existing:,} 个；规划提出 {year} 年达到 {stated:,} 个。", "{existing:,} exist; the plan states {stated:,} by {year}."),
    "network": ("运营商网络（覆盖按其用户计）", "Operator network (coverage counts its users)"),
    "network_help": ("密度目标始终按各运营商的物理基站计数。", "The density target counts every operator's physical stations either way."),
    "net_any": ("全部运营商", "all operators (any)"),
    "band": ("新建站频段（链路预算）", "Band of new sites (link budget)"),
    "band_help": ("现状基站按其承载的频段评估。", "Existing stations are evaluated on the bands they carry."),
    "cov_refers": ("覆盖口径：{net}，现状基站按其承载的频段，新建站 {band}，{users}", "Coverage refers to {net}, existing stations on the bands they carry, new sites {band}, {users}"),
    "users_indoor": ("室内用户", "indoor users"),
    "users_outdoor": ("室外用户", "outdoor users"),
    "covered_help": ("{refers}。按每个 100 米格网被覆盖的面积份额计，半径取接收格网所在环境。", "{refers}. Covered share of each 100 m cell, with the radius of the receiving cell's environment."),
    "indoor": ("覆盖室内用户", "Cover users indoors"),
    "indoor_help": ("半径含建筑穿透损耗（多数居民在室内）。", "Radii include the building-entry loss (most residents are indoors)."),
    "mix_mode": ("候选站型构成", "Site mix of candidate sites"),
    "mix_env": ("按无线环境（默认）", "by environment (default)"),
    "mix_custom": ("自定义", "custom"),
    "macro_pct": ("宏站 %", "Macro %"),
    "micro_pct": ("微站 %", "Micro %"),
    "indoor_pct": ("室分：{pct} %", "Indoor: {pct} %"),
    "candidates": ("候选站址", "Candidate sites"),
    "cand_population": ("按人口加权的人口格网", "populated cells, by weight"),
    "cand_kmeans": ("人口加权 k-means 中心", "weighted k-means centres"),
    "cand_grid": ("有人居住处的方格网", "square grid where people live"),
    "cand_none": ("不生成：只用候选资源库", "none: inventories only"),
    "cand_help": ("模拟候选站址的生成方式；项目的候选资源库（铁塔、智慧杆、开放楼宇）总是一并使用。", "How modelled candidate sites are made, beside the project's candidate inventories (towers, smart poles, opened buildings) if it has any."),
    "cost_weight": ("共享优先：每万元折合居民数", "Prefer sharing: residents per 万元"),
    "cost_weight_help": ("为节省 1 万元站址费用愿意少覆盖的居民数：0 只看覆盖；20 在覆盖相近时优先利用铁塔、智慧杆和开放楼宇（见 docs/siting.md）。", "Residents of new coverage the plan gives up to save 1万元 of site cost: 0 plans for coverage only; 20 reuses towers, smart poles and opened buildings wherever they cover nearly as well as a new tower (docs/siting.md)."),
    "site_cost": ("站址费用", "Site cost"),
    "site_cost_in": ("站址费用（{unit}）", "Site cost ({unit})"),
    "wan_yuan": ("{v} 万元", "CNY {v} M"),
    "yi_yuan": ("{v} 亿元", "CNY {v} M"),
    "savings_delta": ("省 {v}", "−{v} vs all new"),
    "reuse_caption": ("共享：{sites:,} 个新站中 {reused:,} 个利用现有设施（铁塔 {tower:,}、智慧杆 {pole:,}、开放楼宇 {rooftop:,}），比全部新建省 {savings:,.0f} 万元；{soft:,} 个位于软约束区（悬停站点可见冲突）。", "Reuse: {reused:,} of {sites:,} new sites on existing structures ({tower:,} towers, {pole:,} smart poles, {rooftop:,} opened buildings), saving {savings:,.0f} 万元 against all new; {soft:,} in soft constraint zones (hover a planned site for its conflicts)."),
    "siting_layers": ("候选资源库与选址约束", "Candidate inventories and siting constraints"),
    "siting_layers_help": ("按类型显示候选站址（社会塔、行业塔、智慧多功能杆、开放楼宇）和约束区（硬约束、软约束）。", "Layers of the candidate sites by kind (社会塔, 行业塔, 智慧多功能杆, opened buildings) and of the constraint zones (hard and soft)."),
    "edge_charging": ("边缘数据中心与充电设施", "Edge data centres & EV charging"),
    "edge_count": ("边缘数据中心数量", "Edge data centres"),
    "edge_too_many": ("{count} 个数据中心多于 {points} 个需求点：多出的不会服务任何需求。", "{count} data centres for {points} demand points: the extra ones serve no demand."),
    "latency": ("时延圈（毫秒）", "Latency circle (ms)"),
    "round_trip": ("按往返时延理解", "Read the latency as round trip"),
    "share": ("新建公共停车场充电车位比例", "Charging share of new car parks"),
    "basemap": ("底图", "Base map"),
    "tiles": ("瓦片", "Tiles"),
    "tiles_none": ("离线底图（区县轮廓，无需网络）", "offline (district outlines, no network)"),
    "tiles_custom": ("自定义瓦片地址（内网瓦片服务）", "custom tile URL (intranet tile server)"),
    "tile_url": ("瓦片地址模板", "Tile URL template"),
    "tile_crs": ("瓦片坐标系", "Tile CRS"),
    "tk": ("天地图密钥 (tk)", "Tianditu key (tk)"),
    "tiles_note": ("瓦片只在服务可达时加载；离线底图始终显示。加载失败时地图上会提示。", "Tiles load only when their server is reachable; the offline base map is always there, and the map says when tiles fail."),
    "tiles_local": ("本地瓦片文件（MBTiles / PMTiles，离线）", "local tile file (MBTiles / PMTiles, offline)"),
    "tile_file": ("瓦片文件路径（本机上的 .mbtiles / .pmtiles）", "Tile file (.mbtiles / .pmtiles on the app's computer)"),
    "tile_file_help": ("栅格瓦片（PNG/JPEG/WebP）的 MBTiles 或 PMTiles 文件；项目文件可用 `[app] tiles = \"…\"` 设为默认。", "An MBTiles or PMTiles file of raster tiles (PNG/JPEG/WebP); a project file can make one the default with `[app] tiles = \"…\"`."),
    "tile_file_none": ("请输入瓦片文件路径。", "Enter the path of a tile file."),
    "tiles_local_info": ("{name}：{kind}，{fmt}，缩放级别 {z0}～{z1}，由本机瓦片服务 {url} 提供（仅监听回环地址，供本机的网页使用；共享部署请设置 GEOPLAN_TILE_HOST / GEOPLAN_TILE_PORT / GEOPLAN_TILE_URL）。", "{name}: {kind}, {fmt}, zoom {z0}–{z1}, served by the app's tile server at {url} (it listens on the loopback interface, for a browser on this computer; for a shared app set GEOPLAN_TILE_HOST / GEOPLAN_TILE_PORT / GEOPLAN_TILE_URL)."),
    "tiles_partial": ("该文件只覆盖项目范围的 {pct}：其余部分显示离线底图。", "The file covers only {pct} of the project's extent; elsewhere the offline base map shows."),
    "tiles_coarse": ("该文件最细只到 {z} 级：城市尺度下瓦片被放大、较模糊。", "The file's finest zoom is {z}: at city scale its tiles are enlarged and blurred."),
    "tiles_zoom_in": ("该文件从 {z} 级起才有瓦片：放大到 {z} 级以上才能看到。", "The file's tiles start at zoom {z}: zoom in to level {z} or closer to see them."),
    "tiles_local_failed": ("本地瓦片文件的瓦片加载失败（{n} 次请求）：网页无法访问应用的瓦片服务（若不在应用所在的计算机上，请设置 GEOPLAN_TILE_HOST 和 GEOPLAN_TILE_URL）", "Tiles of the local tile file failed to load ({n} requests): the browser cannot reach the app's tile server (from another computer, set GEOPLAN_TILE_HOST and GEOPLAN_TILE_URL)"),
    "tiles_failed": ("底图瓦片加载失败（{n} 次请求）：显示离线底图", "Base-map tiles failed to load ({n} requests): showing the offline base map"),
    "modelled": ("**模拟图层** —— 合成数据，非实测；基于它们的数字只是方法示意：", "**Modelled layers** — synthetic, not observed data; numbers built on them are illustrations of the method:"),
    "stations": ("基站（现状 + 新建）", "Stations (existing + new)"),
    "new_delta": ("新建 +{n:,}", "+{n:,} new"),
    "per_10k": ("每万人基站数（全市）", "Stations per 10k (city)"),
    "vs_target": ("与目标差 {d:+.2f}", "{d:+.2f} vs target"),
    "meeting": ("达标区数", "Districts meeting target"),
    "covered": ("覆盖居民", "Residents covered"),
    "pts_today": ("较现状 {d:+.1f} 百分点", "{d:+.1f} pts vs today"),
    "pts_plan": ("较方案 {d:+.2f} 个百分点", "{d:+.2f} pts"),
    "per10k_vs": ("{d:+.2f}（目标 {target:g}）", "{d:+.2f} (target {target:g})"),
    "target_caption": ("{title}（{doc}）—— {year} 年目标每万人 {target:g} 个基站", "{title} ({doc}) — target {target:g} stations per 10,000 residents in {year}"),
    "mode_greedy": ("贪心方案：贪心次序的前 {n:,} 个站址（等同于优化 {total:,}：各区配额均已满足）", "Greedy plan: the first {n:,} sites of the greedy order (equal to optimising {total:,}: every district's quota is met)"),
    "mode_estimate": ("快速估算：{max:,} 的贪心次序的前 {n:,} 个站址{kept} —— 点击“优化”得到该总数的方案", "Quick estimate: the first {n:,} sites of the greedy order for {max:,}{kept} — press Optimise for the plan of exactly this total"),
    "mode_kept": ("，加 {n} 个保留的手绘站址", " plus {n} kept drawn site(s)"),
    "mode_excluded": ("（排除区内 {n:,} 个候选站址不参与）", " ({n:,} candidates in exclusion areas left out)"),
    "mode_opt": ("已优化：{method} 方法，恰好 {total:,} 个基站（状态 {status}{gap}）", "Optimised: {method} for exactly {total:,} stations (status {status}{gap})"),
    "mode_opt_kept": ("；{n} 个保留站址移到最近的候选站址（最远 {d:,.0f} 米，上限 {lim:,.0f} 米）", "; {n} kept site(s) moved onto the nearest candidates (at most {d:,.0f} m, limit {lim:,.0f} m)"),
    "optimiser": ("优化方法", "Optimiser"),
    "greedy": ("贪心", "greedy"),
    "exact": ("精确（HiGHS）", "exact (HiGHS)"),
    "time_limit": ("时间上限（秒）", "Time limit (s)"),
    "optimise": ("优化 {total:,}", "Optimise {total:,}"),
    "cancel": ("取消", "Cancel"),
    "running": ("正在优化 {total:,} 个基站（{method}）：已用 {s:,.0f} 秒 / 上限 {lim:,.0f} 秒", "Optimising {total:,} stations ({method}): {s:,.0f} s of {lim:,.0f} s"),
    "cancelling": ("正在取消，保留目前最好的方案 …", "Cancelling; keeping the best plan so far …"),
    "cancelled": ("已取消：显示取消时最好的方案。", "Cancelled: showing the best plan found before the cancel."),
    "map_caption": ("地图：放大到 {z} 级以上可逐个查看站址；城市尺度显示站址密度，悬停可查看区县数据。", "Map: zoom to level {z} or closer to see sites one by one; at city scale the sites show as a density and the districts answer on hover."),
    "drawn": ("地图上绘制的内容", "Drawn on the map"),
    "search": ("查找地点", "Find a place"),
    "search_hint": ("查找：区县名、地名或 经度, 纬度", "Find: a district, a place name, or lon, lat"),
    "search_none": ("未找到“{q}”（可查项目中的区县、地名或坐标）", "“{q}” was not found (districts, names in the project's layers, or coordinates)"),
    "line": ("测距 {i}：{km:,.2f} 千米", "Measured line {i}: {km:,.2f} km"),
    "draw_type": ("新绘站址类型", "Type of the sites you draw"),
    "area_role": ("新绘区域用途", "Use of the areas you draw"),
    "role_evaluation": ("评估区（统计人口与覆盖）", "evaluation area (population and coverage)"),
    "role_exclusion": ("排除区（区内不新建站）", "exclusion area (no new site inside)"),
    "role_candidate": ("候选区（新站只建在区内）", "candidate area (new sites only inside)"),
    "draw_hint": ("用地图左侧的标记工具放置站址，用多边形或矩形工具圈定区域，用折线工具测距；编辑工具可拖动和修改，删除工具可删除。所有内容自动保存。", "Use the marker tool (left of the map) to place sites, the polygon or rectangle tool to outline an area and the line tool to measure; the edit tool moves them, the bin deletes them. Everything is saved as you go."),
    "refused": ("未添加：{msg}", "Not added: {msg}"),
    "refused_site": ("在东经 {lon:.5f}°、北纬 {lat:.5f}° 绘制的站址不在{city}任何区县内（距{near} {km:,.1f} 千米），未添加。", "The site drawn at {lon:.5f}°E {lat:.5f}°N lies outside every district of {city} ({km:,.1f} km from {near}); it was not added."),
    "drawn_sites": ("试算站址", "Trial sites"),
    "added_covered": ("新增覆盖居民", "Added residents covered"),
    "district_per10k": ("{d}：每万人基站数", "{d}: stations per 10k"),
    "keep": ("把 {n} 个试算站址保留到方案中", "Keep {n} trial site(s) in the scenario"),
    "unkeep": ("移出方案", "Take out of the scenario"),
    "kept_list": ("方案中保留的手绘站址", "Drawn sites kept in the scenario"),
    "snap_ok": ("距最近候选站址 {d:,.0f} 米", "{d:,.0f} m from the nearest candidate"),
    "snap_far": ("距最近候选站址 {d:,.1f} 千米，超过 {lim:,.0f} 米上限：不能保留", "{d:,.1f} km from the nearest candidate, beyond the {lim:,.0f} m limit: cannot be kept"),
    "area": ("区域 {i}（{role}）", "Area {i} ({role})"),
    "area_line": ("{km2:,.2f} 平方千米，{pop:,.0f} 居民，{ex:,} 个现状站，{cand:,} 个候选站址", "{km2:,.2f} km², {pop:,.0f} residents, {ex:,} existing sites, {cand:,} candidate sites"),
    "area_cov": ("现状覆盖 {a} → 方案后 {b}", "covered today {a} → with the plan {b}"),
    "undo": ("撤销", "Undo"),
    "redo": ("重做", "Redo"),
    "tab_districts": ("区县", "Districts"),
    "tab_scenarios": ("情景比较", "Scenario comparison"),
    "tab_edge": ("边缘计算与充电", "Edge & charging"),
    "tab_downloads": ("下载", "Downloads"),
    "tab_workspace": ("工作区", "Workspace"),
    "scenario_name": ("情景名称（留空则按设置自动命名）", "Scenario name (empty: named after the settings)"),
    "add_scenario": ("加入当前设置", "Add current settings"),
    "compare": ("比较", "Compare"),
    "clear": ("清空", "Clear"),
    "scenarios_toml": ("情景文件（TOML，可用 `geoplan whatif --scenario` 重算）", "Scenarios (TOML, re-run with `geoplan whatif --scenario`)"),
    "per10k_by_district": ("各区每万人基站数", "Stations per 10k by district"),
    "no_edge": ("没有边缘数据中心方案：项目缺少 edge_demand 图层。", "No edge data-centre plan: the project needs an edge_demand layer."),
    "edge_error": ("边缘数据中心：{e}", "Edge data centres: {e}"),
    "e_dcs": ("边缘数据中心", "Edge data centres"),
    "e_new": ("新建 {n}", "{n} new"),
    "e_radius": ("时延圈半径", "Latency circle radius"),
    "e_within": ("时延圈内需求权重", "Demand weight within the circle"),
    "e_worst": ("最大单向时延", "Worst one-way latency"),
    "e_caption": ("{points} 个需求点（港口、园区、医院、学校、枢纽）；平均单向时延 {mean:.3f} 毫秒；时延模型：{model}；光纤 {fibre:,.0f} 千米。模拟图层：{modelled}。", "{points} demand points (ports, parks, hospitals, schools, hubs); mean one-way latency {mean:.3f} ms; latency model {model}, fibre {fibre:,.0f} km. Modelled: {modelled}."),
    "none_word": ("无", "none"),
    "c_compliant": ("达标的新建停车场", "New car parks compliant"),
    "c_to_add": ("需增充电车位", "Charging spaces to add"),
    "c_reserved": ("{n:,} 个利用预留车位", "{n:,} on reserved spaces"),
    "c_new": ("新建公共充电站", "New public charging stations"),
    "c_core": ("服务半径内的核心区居民", "Core residents within the radius"),
    "c_caption": ("新建公共停车场车位的 {share} 配建充电设施；服务半径 {r:,.0f} 米（{src}）。", "Share {share} of spaces in new public car parks; service radius {r:,.0f} m ({src})."),
    "no_charging": ("没有充电检查：项目缺少 car_parks 图层。", "No charging check: the project needs a car_parks layer."),
    "format": ("格式", "Format"),
    "coords": ("坐标系", "Coordinates"),
    "prepare": ("准备下载", "Prepare download"),
    "download": ("下载 {f}（{mb:,.1f} MB）", "Download {f} ({mb:,.1f} MB)"),
    "map_png": ("地图（PNG）", "Map (PNG)"),
    "layers_caption": ("图层：区县密度核查、现状站、规划站（含保留的手绘站）、边缘数据中心、停车场充电比例、新建充电站、密度表和覆盖格网，按“一张图”命名、编码、中文别名与值域；另附方案文件（…_plan.gpkg，可用 `geoplan export --from` 和 `geoplan report --from` 读取）、规划报告（PDF）和地图（PNG）。", "Layers: districts with the density check, existing sites, planned sites (with kept drawn sites), edge data centres, car parks with the charging share rule, new charging stations, the density table and the coverage grid, with one-map names, codes, Chinese aliases and domains; and the plan file (…_plan.gpkg, read by `geoplan export --from` and `geoplan report --from`), the planning report (PDF) and the map (PNG)."),
    "density_csv": ("密度表（CSV）", "Density table (CSV)"),
    "ws_current": ("当前工作区：**{name}**（每次修改自动保存到 {path}）", "Workspace: **{name}** (saved on every change to {path})"),
    "ws_save_as": ("另存为", "Save as"),
    "ws_name": ("工作区名称", "Workspace name"),
    "ws_open": ("打开工作区", "Open a workspace"),
    "ws_opened": ("已打开工作区 {name}", "Opened workspace {name}"),
    "ws_link": ("分享此视图：地址栏中的链接包含全部设置。", "Share this view: the link in the address bar carries every setting."),
    "ws_bad": ("工作区无法打开：{e}", "The workspace could not be opened: {e}"),
    "exact_less": ("精确方案覆盖 {a}，低于快速估算的 {b}：{why}", "The exact plan covers {a}, less than the quick estimate's {b}: {why}"),
    "why_time": ("求解在 {lim:,.0f} 秒时间上限停止（差距 {gap}），尚未找到更好的方案；可提高时间上限", "the solver stopped at its {lim:,.0f} s time limit (gap {gap}) before finding a better plan; raise the time limit"),
    "why_cancel": ("求解被取消（差距 {gap}）", "the solve was cancelled (gap {gap})"),
    "why_quota": ("方案恰好 {total:,} 个基站并满足各区配额，而估算是更大总数贪心次序的前缀，不受这些配额约束", "the plan has exactly {total:,} stations and meets each district's quota, while the estimate is a prefix of the greedy order for a larger total, which these quotas do not bind"),
    "province_info": ("省级规模：按县逐个布设站址（内存受控）；快速推演滑块用于城市项目。点击“优化”按年度目标布设（需要一段时间）。", "Province scale: sites are placed county by county (memory bounded); the quick what-if slider is for city projects. Press Optimise to place the sites for the year's targets (this takes a while)."),
    "static_off": ("静态文件服务未开启，地图的 Leaflet 文件无法加载。请用 `make app` 启动（在仓库根目录读取 .streamlit/config.toml），或加 `--server.enableStaticServing true`。", "Static file serving is off, so the map's Leaflet files cannot load. Start the app with `make app` (from the repository root, which reads .streamlit/config.toml) or add `--server.enableStaticServing true`."),
    "load_error": ("项目无法加载：\n\n{e}", "The project could not be loaded:\n\n{e}"),
    "km": ("{v} 千米", "{v} km"),
    "no_site": ("不可建站", "no site"),
    "ms": ("{v} 毫秒", "{v} ms"),
    "gap_part": ("，差距 {gap}", ", gap {gap}"),
    "pop_caption": ("人口口径：{basis}。现状：{stations:,} 个基站，每万人 {per_10k}；按全市合计还需 {shortfall:,} 个，逐区合计还需 {sum:,} 个。",
                    "Population basis: {basis}. Today: {stations:,} stations, {per_10k} per 10k; {shortfall:,} more needed for the city as a whole, {sum:,} district by district."),
    "basis_census": ("各区常住人口（{year} 年普查）", "district resident population, census {year}"),
    "basis_yearend": ("普查各区比例按 {year} 年末全市人口（{total:,.0f}）折算{note}；假定各区同比增长", "census district shares scaled to the {year} year-end city total{note} ({total:,.0f}); assumes districts grew alike"),
    "basis_before": ("（{year} 年之前最新）", " (the latest before {year})"),
    "basis_projection": ("规划人口预测（{year} 年）", "the planner's projection for {year}"),
    "consistency": ("规划的 {stations:,} 个基站按普查人口折合每万人 {census}{latest}。", "The plan's {stations:,} stations equal {census} per 10k at the census population{latest}."),
    "consistency_latest": ("，按最新年末人口折合 {v}", " and {v} at the latest year-end population"),
    "cost_note": ("站址费用：使站址具备安装 5G 设备条件的一次性费用（铁塔或灯杆、安装、电力、进出通道），单位万元，不含无线设备；节省额相对于全部新建（宏站新建铁塔、微站新建灯杆、室分新建室内分布系统）；费用取自 geoplan/siting_params.toml（新建铁塔与共享铁塔之差，中国铁塔）或候选站址的 `COST` 字段。",
                  "{note}"),
    "modelled_line": ("- **{name}**：模拟数据", "- **{layer}**: {note}"),
    "modelled_cands": ("- **{name}**：{how}（{n:,} 个）", "- **candidates**: {how} ({n:,})"),
    "modelled_default": ("模拟数据", "modelled"),
    "trial_line": ("{type} {lon:.5f}, {lat:.5f}：{text}", "{type} {lon:.5f}, {lat:.5f}: {text}"),
    "ws_default": ("默认", "default"),
    "fmt_gpkg": ("GeoPackage（.gpkg）", "GeoPackage (.gpkg)"),
    "fmt_shp": ("Shapefile 压缩包（.zip）", "Shapefiles (.zip)"),
    "fmt_geojson": ("GeoJSON 压缩包（.zip）", "GeoJSON (.zip)"),
    "fmt_gdb": ("文件地理数据库（.gdb.zip）", "File geodatabase (.gdb.zip)"),
    "crs_EPSG:4490": ("CGCS2000 地理坐标（EPSG:4490）", "CGCS2000 geographic (EPSG:4490)"),
    "crs_auto-gk": ("CGCS2000 高斯-克吕格，按数据所在带", "CGCS2000 Gauss-Krüger, zone from the data"),
    "crs_EPSG:4548": ("CGCS2000 3° 高斯-克吕格，中央经线东经 117°（EPSG:4548）", "CGCS2000 / 3° GK CM 117°E (EPSG:4548)"),
    "tiles_osm": ("OpenStreetMap 在线地图", "OpenStreetMap"),
    "tiles_tianditu": ("天地图（矢量）", "天地图 Tianditu (vector)"),
    "tiles_amap": ("高德地图（GCJ-02 坐标，已纠偏）", "高德 AMap (GCJ-02, shifted)"),
    "province_optimise": ("优化 {year} 年", "Optimise {year}"),
    "province_result": ("{stations:,} 个基站，每万人 {per_10k}（目标 {target:g}）；覆盖（{refers}）{a} → {b}。",
                        "{stations:,} stations, {per_10k}/10k vs target {target:g}; coverage ({refers}) {a} → {b}."),
    "error_in": ("“{control}”：{e}", "{control}: {e}"),
    "sp_load": ("正在读取并校验项目 …", "Loading and validating the project …"),
    "sp_context": ("正在建立覆盖模型（无线链路预算 × 需求格网）…", "Building the coverage model (radio link budget × demand cells) …"),
    "sp_order": ("正在按最大总数运行一次贪心优化 …", "Running the greedy optimiser once for the largest total …"),
    "sp_edge": ("正在布设边缘数据中心 …", "Placing edge data centres …"),
    "sp_charging": ("正在核查停车场与充电覆盖 …", "Checking car parks and charging coverage …"),
    "sc_same": ("相同设置的情景已在列表中：“{name}”", "The same settings are already listed as '{name}'"),
    "sc_renamed": ("名称“{name}”已用于其他设置：另存为“{saved}”", "The name '{name}' is taken by other settings: saved as '{saved}'"),
}

#: Value vocabularies of tables and map tooltips: vocabulary → raw value → (Chinese, English).
VALUES: dict[str, dict[str, tuple[str, str]]] = {
    "site_type": {"macro": ("宏站", "macro"), "micro": ("微站", "micro"), "indoor": ("室分", "indoor")},
    "status": {"optimal": ("最优", "optimal"), "time_limit": ("达到时间上限", "time limit"),
               "cancelled": ("已取消", "cancelled"), "feasible": ("可行", "feasible"), "greedy": ("贪心", "greedy"),
               "heuristic": ("启发式", "heuristic"), "existing": ("现状", "existing"), "planned": ("规划", "planned")},
    "method": {"greedy": TEXT["greedy"], "exact": TEXT["exact"]},
    "env": {"dense_urban": ("密集城区", "dense urban"), "urban": ("一般城区", "urban"), "suburban": ("郊区", "suburban"),
            "rural": ("农村", "rural")},
    "users": {"indoor": TEXT["users_indoor"], "outdoor": TEXT["users_outdoor"]},
    "candidates": {k: TEXT[f"cand_{k}"] for k in ("population", "kmeans", "grid", "none")},
    "source": {"generated": ("模拟候选站址", "modelled candidate"), "towers": ("铁塔", "towers"),
               "smart_poles": ("智慧杆", "smart poles"), "public_buildings": ("开放楼宇", "opened buildings"),
               "drawn": ("手绘", "drawn"), "car_park": ("停车场", "car park"), "cell": ("人口格网", "grid cell")},
    "kind": {"social_tower": ("社会塔", "social tower"), "industry_tower": ("行业塔", "industry tower"),
             "smart_pole": ("智慧多功能杆", "smart pole"), "public_building": ("开放公共设施", "opened building"),
             "new": ("新建站址", "new site")},
    "quotas": {"plan": ("按规划口径", "as the plan states"), "area": ("全域一个总数", "one figure for the whole area"),
               "district": ("逐区", "every district")},
    "reading": {"one-way": ("单向", "one-way"), "round-trip": ("往返", "round trip")},
    "hardness": {"hard": ("刚性", "hard"), "soft": ("弹性", "soft")},
    "district": {"(outside)": ("（区县外）", "(outside)")},
    "note": {"no statistics": ("无统计", "no statistics")},
    "bool": {"True": ("是", "yes"), "False": ("否", "no")},
}

#: Table columns whose values come from a vocabulary of :data:`VALUES`.
VALUE_COLUMNS: dict[str, str] = {
    "SITE_TYPE": "site_type", "type": "site_type", "status": "status", "STATUS": "status", "method": "method",
    "RADIO_ENV": "env", "users": "users", "candidates": "candidates", "SOURCE": "source", "KIND": "kind",
    "quotas": "quotas", "meets_target": "bool", "meets_density": "bool", "indoor": "bool", "capacity": "bool",
    "optimised": "bool", "XZQMC": "district", "network": "network", "note": "note", "binding": "bool",
    "capacity_limited": "bool",
}

#: Layers of a project (its file's keys) as a planner names them.
LAYERS: dict[str, tuple[str, str]] = {
    "districts": ("区县边界", "districts"), "population": ("人口格网", "population"), "sites": ("现状5G基站", "sites"),
    "candidates": ("候选站址", "candidates"), "edge_demand": ("边缘计算需求点", "edge demand"),
    "edge_dc": ("现状边缘数据中心", "edge data centres"), "car_parks": ("公共停车场", "car parks"),
    "inventories": ("候选资源库", "candidate inventories"), "inventories.towers": ("铁塔资源", "towers"),
    "inventories.smart_poles": ("智慧杆资源", "smart poles"),
    "inventories.public_buildings": ("开放楼宇资源", "opened public buildings"),
    "constraints": ("选址约束", "siting constraints"), "constraints.water": ("水域", "water"),
    "constraints.ecological_redline": ("生态保护红线", "ecological red line"),
    "constraints.farmland": ("永久基本农田", "permanent farmland"),
    "constraints.airport_clearance": ("机场净空", "airport clearance"),
    "constraints.heritage": ("文物保护", "heritage protection"),
    "edge_sites": ("边缘数据中心候选", "edge sites"), "edge_sites.telecom_offices": ("电信机楼", "telecom offices"),
    "edge_sites.substations": ("变电站", "substations"),
}

#: What kind of problem each error class is (the Chinese frame around the library's English detail).
ERROR_KINDS: dict[str, tuple[str, str]] = {
    "CRSError": ("坐标系有误", "Coordinate system problem"), "ValidationError": ("数据有误", "Invalid data"),
    "ConfigError": ("设置有误", "Setting problem"), "ReadError": ("无法读取", "Cannot read"),
    "WriteError": ("无法写入", "Cannot write"), "InfeasibleError": ("要求无法满足", "Cannot be met"),
    "SolverError": ("求解失败", "Solver failure"), "GeoplanError": ("出错", "Error"),
}

#: Progress messages of the library (``progress(fraction, message)``) → Chinese templates of their fields.
PROGRESS: tuple[tuple[str, str], ...] = (
    (r"exact: best plan covers (?P<best>.+?) more residents, bound (?P<bound>.+?), gap (?P<gap>.+?), "
     r"(?P<s>[\d,.]+) s of (?P<lim>[\d,.]+) s", "精确求解：当前最好方案新增覆盖 {best} 居民，上界 {bound}，差距 {gap}，已用 {s} / {lim} 秒"),
    (r"capacity: round (?P<k>\d+), (?P<n>[\d,]+) sites added", "容量：第 {k} 轮，增加 {n} 个站址"),
    (r"scenario (?P<name>.*)", "情景 {name}"),
    (r"placing sites: (?P<name>.*)", "布设站址：{name}"), (r"zonal sums: (?P<name>.*)", "分区汇总：{name}"),
    (r"site loads: (?P<name>.*)", "站址负荷：{name}"), (r"coverage: (?P<name>.*)", "覆盖计算：{name}"),
    (r"existing sites: (?P<name>.*)", "现状基站：{name}"),
    (r"density surface: tile (?P<k>\d+)/(?P<n>\d+)", "密度面：第 {k}/{n} 块"),
    (r"done", "完成"), (r"starting", "开始"),
)
_PROGRESS_WORDS = {"none yet": "暂无", "unknown": "未知"}

#: Human labels of library table columns: name → (Chinese, English).
COLUMNS: dict[str, tuple[str, str]] = {
    "XZQDM": ("区划代码", "code"), "XZQMC": ("区县", "district"), "scenario": ("情景", "scenario"),
    "population": ("人口", "population"), "existing": ("现状站", "existing"), "new": ("新建站", "new"),
    "stations": ("基站", "stations"), "per_10k": ("每万人基站", "per 10k"),
    "target_per_10k": ("目标每万人", "target per 10k"), "required": ("目标站数", "required"),
    "shortfall": ("缺口", "shortfall"), "meets_target": ("达标", "meets target"),
    "coverage_before": ("现状覆盖", "covered before"), "coverage_after": ("方案后覆盖", "covered after"),
    "total": ("基站总数", "total"), "year": ("年份", "year"), "method": ("方法", "method"),
    "band": ("频段", "band"), "indoor": ("室内", "indoor"), "users": ("用户", "users"),
    "status": ("状态", "status"), "gap": ("差距", "gap"), "runtime_s": ("耗时（秒）", "runtime (s)"),
    "districts_meeting_target": ("达标区数", "districts meeting target"),
    "edge_dcs": ("边缘数据中心", "edge data centres"), "edge_covered_share": ("时延圈内需求", "demand within latency"),
    "edge_max_latency_ms": ("最大时延（毫秒）", "worst latency (ms)"),
    "charging_new_stations": ("新建充电站", "new charging stations"), "name": ("名称", "name"),
    "dcs": ("数据中心", "data centres"), "demand_points": ("需求点", "demand points"),
    "demand_weight": ("需求权重", "demand weight"), "covered_weight": ("时延圈内权重", "weight within the circle"),
    "uncovered_weight": ("时延圈外权重", "weight outside the circle"), "covered_share": ("圈内占比", "share within"),
    "mean_latency_ms": ("平均时延（毫秒）", "mean latency (ms)"), "max_latency_ms": ("最大时延（毫秒）", "worst latency (ms)"),
    "car_parks": ("停车场", "car parks"), "new_car_parks": ("新建停车场", "new car parks"),
    "spaces": ("车位", "spaces"), "charging_built": ("已建充电车位", "charging spaces built"),
    "compliant": ("达标停车场", "compliant"), "to_add": ("需增充电车位", "to add"),
    "new_fitout": ("新建需配建", "to fit in new car parks"), "new_stations": ("新建充电站", "new stations"),
    "core_population": ("核心区人口", "core population"), "core_within_now": ("现状服务半径内", "within reach now"),
    "core_within_after": ("方案后服务半径内", "within reach after"), "share": ("比例", "share"),
    "coverage": ("覆盖率", "coverage"), "new_sites": ("新建站", "new sites"), "drawn_sites": ("手绘站址", "drawn sites"),
    "time_limit_s": ("时间上限（秒）", "time limit (s)"), "candidates": ("候选站址", "candidates"),
    "mix": ("站型构成", "site mix"), "seed": ("随机种子", "seed"), "latency_ms": ("时延（毫秒）", "latency (ms)"),
    "edge_count": ("边缘数据中心", "edge data centres"), "charging_share": ("充电比例", "charging share"),
    "charging_radius_m": ("充电服务半径（米）", "charging radius (m)"), "population_year": ("人口年份", "population year"),
    "sites": ("站点", "sites"), "uncovered_points": ("时延圈外需求点", "points outside the circle"),
    "mean_lat_ms": ("平均时延（毫秒）", "mean latency (ms)"), "max_lat_ms": ("最大时延（毫秒）", "worst latency (ms)"),
    "new_spaces": ("新建停车场车位", "spaces in new car parks"), "new_built": ("新建停车场已建充电车位", "built in new car parks"),
    "new_reserved": ("新建停车场预留车位", "reserved in new car parks"), "from_reserved": ("利用预留车位", "from reserved"),
    "existing_car_parks": ("现状停车场", "existing car parks"), "existing_spaces": ("现状停车场车位", "spaces in existing car parks"),
    "existing_built": ("现状已建充电车位", "built in existing car parks"),
    "beyond_now": ("现状服务半径外核心区人口", "core residents beyond reach now"),
    "beyond_after_compliance": ("配建达标后服务半径外", "beyond reach after compliance"),
    "beyond_after": ("方案后服务半径外", "beyond reach after the plan"),
    "no": ("序号", "no."), "type": ("站型", "type"), "lonlat": ("经度, 纬度", "lon, lat"),
    "snap_m": ("距最近候选站址（米）", "to the nearest candidate (m)"), "quotas": ("配额口径", "quotas"),
    "capacity": ("按容量加站", "capacity"), "network": ("运营商网络", "network"), "meets_density": ("密度达标", "meets density"),
    "districts": ("区县数", "districts"), "capacity_limited_cells": ("容量受限格网", "capacity-limited cells"),
    "capacity_sites": ("容量新增站", "capacity sites"), "error": ("错误", "error"), "cost_weight": ("共享优先权重", "cost weight"),
    "optimised": ("已优化", "optimised"), "settings": ("设置", "settings"),
    "binding": ("目标约束本区", "target binds"), "operator_counted": ("按运营商分别计数", "counted per operator"),
    "note": ("说明", "note"), "demand_mbps": ("忙时需求（Mbps）", "busy-hour demand (Mbps)"),
    "unserved_mbps": ("未满足需求（Mbps）", "unserved demand (Mbps)"), "limited_cells": ("容量受限格网", "capacity-limited cells"),
    "limited_population": ("容量受限人口", "population in limited cells"), "capacity_limited": ("容量受限", "capacity limited"),
    "edge_uncovered_points": ("时延圈外需求点", "demand points outside latency"),
    "charging_spaces_to_add": ("需增充电车位", "charging spaces to add"),
    "charging_core_within_after": ("方案后服务半径内核心区居民", "core residents within reach after"),
}

#: Words of map tooltips (English as the library writes them → Chinese).
WORDS: dict[str, str] = {
    "yes": "是", "no": "否", "no statistics": "无统计", "below 80 % of the target": "低于目标的 80 %",
    "80–95 % of the target": "目标的 80～95 %", "95–100 % of the target": "目标的 95～100 %",
    "meets the target": "达到目标",
}
#: The map's own words — layer control, legend, point tooltips — English (as the map functions write them) →
#: Chinese. The map functions take ``lang`` and look their words up here (:func:`map_word`).
MAP_WORDS: dict[str, str] = {
    # layer control
    "Existing 5G sites": "现有5G基站", "Districts: stations per 10k vs target": "区县：每万人基站数与目标",
    "5G coverage grid": "5G覆盖栅格", "Planned 5G sites": "规划5G基站",
    "Planned 5G sites (greedy order)": "规划5G基站（贪心顺序）", "Drawn sites kept": "保留的手绘站点",
    "Population (residents per km²)": "人口（每平方千米居民）", "Edge data centres": "边缘数据中心",
    "Latency circles": "时延圈", "Car parks (charging share)": "停车场（充电车位比例）",
    "New public charging stations": "新建公共充电站", "Candidate inventories by kind": "候选站址资源（按类型）",
    "Siting constraints": "选址约束", "layers": "个图层",
    # legend
    "Legend": "图例", "Districts: stations per 10k": "区县：每万人基站数", "5G sites": "5G基站",
    "existing": "现有", "planned": "规划", "macro": "宏站", "micro": "微站", "indoor": "室分",
    "drawn site kept in the scenario": "方案中保留的手绘站点", "Coverage grid": "覆盖栅格",
    "not covered": "未覆盖", "covered by existing sites": "现有基站覆盖", "newly covered by the plan": "规划新增覆盖",
    "Residents per km²": "每平方千米居民", "Edge computing & charging": "边缘计算与充电",
    "edge data centre": "边缘数据中心", "latency circle": "时延圈", "car park": "停车场",
    "new, compliant": "新建，达标", "new, short of the share": "新建，未达比例",
    "new public charging station": "新建公共充电站", "Modelled layers": "模拟图层",
    "synthetic data, not observations": "合成数据，非实测",
    # point tooltips
    "site": "站点", "type": "类型", "build order": "建设顺序", "newly covered residents": "新增覆盖居民",
    "district": "区县", "source": "来源", "reuses": "利用", "site cost (万元)": "站址成本（万元）",
    "siting conflicts": "选址冲突", "data centre": "数据中心", "status": "状态", "at": "位置",
    "demand points served": "服务需求点", "worst one-way latency (ms)": "最大单向时延（毫秒）",
    "km latency circle of": "千米时延圈：", "spaces": "车位", "charging spaces built": "已建充电车位",
    "reserved": "预留", "required by the share": "按比例应建", "to add": "需增建", "station": "充电站",
    "residents within reach": "服务范围内居民", "kind": "类型", "name": "名称", "inventory": "资源清单",
    "site type": "站型", "constraint": "约束", "zone": "区域", "hardness": "强度", "height limit": "限高",
    "layer": "图层", "km": "千米", "m": "米",
}


#: Leaflet's own words in Chinese: Leaflet.draw's toolbar and drawing hints (merged into ``L.drawLocal``) and the
#: zoom buttons' titles (:class:`geoplan.webmap.drawings.MapWords`).
DRAW_WORDS: dict[str, Any] = {
    "draw": {
        "toolbar": {"actions": {"title": "取消绘制", "text": "取消"}, "finish": {"title": "完成绘制", "text": "完成"},
                    "undo": {"title": "删除最后绘制的点", "text": "删除最后一点"},
                    "buttons": {"polyline": "画折线（测距）", "polygon": "画多边形（区域）", "rectangle": "画矩形（区域）",
                                "marker": "放置站址", "circle": "画圆", "circlemarker": "放置圆点"}},
        "handlers": {"marker": {"tooltip": {"start": "在地图上点击放置站址。"}},
                     "polygon": {"tooltip": {"start": "点击开始绘制区域。", "cont": "点击继续绘制。", "end": "点击第一个点闭合区域。"}},
                     "polyline": {"error": "<strong>错误：</strong>边不能相交！",
                                  "tooltip": {"start": "点击开始画线。", "cont": "点击继续画线。", "end": "点击最后一点结束画线。"}},
                     "rectangle": {"tooltip": {"start": "按住并拖动绘制矩形。"}},
                     "simpleshape": {"tooltip": {"end": "松开鼠标完成绘制。"}},
                     "circle": {"tooltip": {"start": "按住并拖动绘制圆。"}, "radius": "半径"},
                     "circlemarker": {"tooltip": {"start": "在地图上点击放置圆点。"}}},
    },
    "edit": {
        "toolbar": {"actions": {"save": {"title": "保存修改", "text": "保存"},
                                "cancel": {"title": "取消编辑，放弃所有修改", "text": "取消"},
                                "clearAll": {"title": "清除全部", "text": "全部清除"}},
                    "buttons": {"edit": "编辑", "editDisabled": "没有可编辑的内容", "remove": "删除",
                                "removeDisabled": "没有可删除的内容"}},
        "handlers": {"edit": {"tooltip": {"text": "拖动控制点或标记进行修改。", "subtext": "点击“取消”撤销修改。"}},
                     "remove": {"tooltip": {"text": "点击要删除的对象。"}}},
    },
    "zoom": {"in": "放大", "out": "缩小"}, "layers": "图层",
}


def _strings(tree: Any) -> list[str]:
    return [x for v in tree.values() for x in _strings(v)] if isinstance(tree, dict) else [str(tree)]


def map_word(text: str, lang: str = "en") -> str:
    """``text`` (one of the map's English words, :data:`MAP_WORDS`) in ``lang``.

    Examples
    --------
    >>> map_word("Existing 5G sites", "zh"), map_word("Existing 5G sites", "en"), map_word("n78", "zh")
    ('现有5G基站', 'Existing 5G sites', 'n78')
    """
    return MAP_WORDS.get(text, text) if lang == "zh" else text


#: The district tooltip's fields (:data:`geoplan.webmap.map.DISTRICT_TOOLTIP`) and the column label each takes.
_TOOLTIP_COLUMNS = ("XZQMC", "XZQDM", "population", "existing", "new", "stations", "per_10k", "target_per_10k",
                    "shortfall", "meets_target", "coverage_after", "status")

#: Columns holding shares (0–1) shown as percentages.
PERCENT_COLUMNS = frozenset({"coverage_before", "coverage_after", "edge_covered_share", "covered_share", "share",
                             "coverage", "core_within_now", "core_within_after", "gap", "charging_share",
                             "charging_core_within_after"})

_CJK = re.compile(r"[\u4e00-\u9fff]")


def t(key: str, lang: str = "zh", **fields: Any) -> str:
    """The text ``key`` in ``lang`` with ``fields`` filled in.

    Examples
    --------
    >>> t("new_delta", "zh", n=7619), t("new_delta", "en", n=7619)
    ('新建 +7,619', '+7,619 new')
    """
    zh, en = TEXT[key]
    text = zh if lang == "zh" else en
    return text.format(**fields) if fields else text


def default_lang(district_names: Iterable[str]) -> str:
    """``"zh"`` for a project whose district names are in Chinese characters, else ``"en"``.

    Examples
    --------
    >>> default_lang(["思明区", "湖里区"]), default_lang(["Fairfax"])
    ('zh', 'en')
    """
    return "zh" if any(_CJK.search(str(n)) for n in district_names) else "en"


def percent(x: Any, nd: int = 1) -> str:
    """A share as a percentage (``0.2`` → ``"20.0 %"``; missing → ``"—"``), never 100 % or 0 % unless exact.

    A share just short of full (or just above nothing) gets up to three more
    decimals, and is then cut towards the inside, so a planner never reads
    "100.0 %" for 99.98 % of the people covered.

    Examples
    --------
    >>> percent(0.2), percent(0.9998), percent(0.9999996), percent(1.0), percent(0.00001), percent(None)
    ('20.0 %', '99.98 %', '99.9999 %', '100.0 %', '0.001 %', '—')
    """
    try:
        v = float(x)
    except (TypeError, ValueError):
        return "—"
    if v != v:
        return "—"
    p = 100 * v + 0.0  # no "-0.0 %"
    for k in range(nd, nd + 4):
        text = f"{p:.{k}f}"
        if (float(text) != 100 or v == 1) and (float(text) != 0 or v == 0):
            return f"{text} %"
    q = 10 ** (nd + 3)
    inside = math.floor(p * q) / q if p > 50 else math.ceil(p * q) / q
    return f"{inside:.{nd + 3}f} %"


def money(wan_yuan: float, lang: str = "zh") -> str:
    """An amount given in 万元 as a planner reads it: 万元 below 1 亿, 亿元 from there; million CNY in English.

    Short enough for a headline box at 1280 px (``76,137 万元`` was cut to ``76,137…``).

    Examples
    --------
    >>> money(9_876.4), money(76_137.0), money(76_137.0, "en")
    ('9,876 万元', '7.61 亿元', 'CNY 761.4 M')
    """
    v = float(wan_yuan)
    if lang != "zh":
        return t("wan_yuan", lang, v=f"{v / 100:,.1f}")
    if abs(v) >= 10_000:
        return t("yi_yuan", lang, v=f"{v / 10_000:,.2f}")
    return t("wan_yuan", lang, v=f"{v:,.0f}")


def money_parts(wan_yuan: float, lang: str = "zh") -> tuple[str, str]:
    """:func:`money` as ``(number, unit)``, for a headline box whose label carries the unit.

    Examples
    --------
    >>> money_parts(76_137.0), money_parts(9_876.4), money_parts(76_137.0, "en")
    (('7.61', '亿元'), ('9,876', '万元'), ('761.4', 'CNY M'))
    """
    v = float(wan_yuan)
    if lang != "zh":
        return f"{v / 100:,.1f}", "CNY M"
    if abs(v) >= 10_000:
        return f"{v / 10_000:,.2f}", "亿元"
    return f"{v:,.0f}", "万元"


def label_columns(table: pd.DataFrame, lang: str = "zh", *, keep: Mapping[str, str] | None = None) -> pd.DataFrame:
    """``table`` with human column labels and shares as percentages (columns without a label stay as they are).

    Examples
    --------
    >>> label_columns(pd.DataFrame({"XZQMC": ["思明区"], "coverage_after": [0.876]}), "en").to_dict("records")
    [{'district': '思明区', 'covered after': '87.6 %'}]
    >>> label_columns(pd.DataFrame({"meets_target": [True], "method": ["greedy"]}), "zh").to_dict("records")
    [{'达标': '是', '方法': '贪心'}]
    """
    out = label_values(table, lang)
    for c in out.columns:
        if c in PERCENT_COLUMNS and pd.api.types.is_numeric_dtype(out[c]):
            out[c] = out[c].map(percent)
    names = {c: (keep or {}).get(c) or column_label(str(c), lang) for c in out.columns}
    return out.rename(columns=names)


def column_label(column: str, lang: str = "zh") -> str:
    """A library table column as a planner reads it (:data:`COLUMNS`; ``stations_<network>`` per operator network).

    Examples
    --------
    >>> column_label("XZQMC"), column_label("stations_cmcc"), column_label("stations_cmcc", "en"), column_label("x")
    ('区县', '中国移动基站', 'stations cmcc', 'x')
    """
    if column in COLUMNS:
        return COLUMNS[column][0 if lang == "zh" else 1]
    if column.startswith("stations_"):
        net = column.removeprefix("stations_")
        return f"{network_name(net, lang)}基站" if lang == "zh" else f"stations {net}"
    return column


def district_tooltip(lang: str = "zh") -> tuple[dict[str, str] | None, dict[str, str] | None]:
    """Labels and value words of the map's district tooltip in ``lang`` (``None``: the map's English).

    Examples
    --------
    >>> labels, words = district_tooltip("zh")
    >>> labels["per_10k"], words["yes"], district_tooltip("en")
    ('每万人基站', '是', (None, None))
    """
    if lang != "zh":
        return None, None
    return {f: COLUMNS[f][0] for f in _TOOLTIP_COLUMNS}, dict(WORDS)


def all_text() -> str:
    """Every Chinese character of the interface (for subsetting the web font)."""
    parts = ([zh for zh, _ in TEXT.values()] + [zh for zh, _ in COLUMNS.values()] + list(LANGS.values())
             + list(WORDS.values()) + list(MAP_WORDS.values()) + [zh for v in VALUES.values() for zh, _ in v.values()]
             + [zh for zh, _ in LAYERS.values()] + [zh for zh, _ in ERROR_KINDS.values()] + [zh for _, zh in PROGRESS]
             + list(_PROGRESS_WORDS.values()) + list(_ERROR_FRAME) + _strings(DRAW_WORDS))
    return "".join(sorted(set("".join(parts))))


def value_word(vocabulary: str, value: Any, lang: str = "zh") -> str:
    """``value`` of ``vocabulary`` (a key of :data:`VALUES`, or ``"network"``) as the interface shows it.

    Values outside the vocabulary (names, codes) are shown as they are.

    Examples
    --------
    >>> value_word("site_type", "macro"), value_word("site_type", "macro", "en"), value_word("status", "n78")
    ('宏站', 'macro', 'n78')
    """
    if vocabulary == "network":
        return network_name(str(value), lang)
    words = VALUES.get(vocabulary, {}).get(str(value))
    return str(value) if words is None else words[0 if lang == "zh" else 1]


def _cell(vocabulary: str | None, v: Any, lang: str) -> Any:
    if isinstance(v, Mapping):  # a site mix, quotas per district ...: "key value; ..."
        return "；".join(f"{_cell(vocabulary, k, lang)} {_cell(None, x, lang)}" for k, x in v.items())
    if isinstance(v, list | tuple):
        return "；".join(str(_cell(vocabulary, x, lang)) for x in v)
    if isinstance(v, bool | np.bool_):
        return value_word("bool", str(bool(v)), lang)
    if vocabulary is not None and isinstance(v, str):
        return value_word(vocabulary, v, lang)
    if isinstance(v, str) and v in VALUES["site_type"]:  # mix keys
        return value_word("site_type", v, lang)
    return v


def label_values(table: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    """``table`` with the values of vocabulary columns (:data:`VALUE_COLUMNS`), booleans, lists and mappings in words.

    Examples
    --------
    >>> label_values(pd.DataFrame({"SITE_TYPE": ["macro"], "indoor": [True], "mix": [{"macro": 0.5}]})).to_dict("records")
    [{'SITE_TYPE': '宏站', 'indoor': '是', 'mix': '宏站 0.5'}]
    """
    out = table.copy()
    for c in out.columns:
        col = out[c]
        vocab = VALUE_COLUMNS.get(str(c))
        if pd.api.types.is_bool_dtype(col) or vocab is not None or col.dtype == object:
            out[c] = col.map(lambda v, vocab=vocab: _cell(vocab, v, lang))
    return out


def tooltip_words(lang: str = "zh") -> dict[str, str]:
    """Raw values of map tooltips (site types, sources, kinds, statuses, environments) → words in ``lang``.

    Examples
    --------
    >>> tooltip_words("zh")["indoor"], tooltip_words("zh")["towers"], tooltip_words("en")["social_tower"]
    ('室分', '铁塔', 'social tower')
    """
    i = 0 if lang == "zh" else 1
    out: dict[str, str] = {}
    for vocab in ("status", "env", "source", "kind", "hardness", "site_type"):  # site types last: they win
        out |= {raw: words[i] for raw, words in VALUES[vocab].items()}
    return out


def layer_name(key: str, lang: str = "zh") -> str:
    """A project layer (its key in the project file) as a planner names it.

    Examples
    --------
    >>> layer_name("edge_sites.substations"), layer_name("edge_sites.substations", "en"), layer_name("my_layer")
    ('变电站', 'edge_sites.substations', 'my_layer')
    """
    return LAYERS[key][0] if lang == "zh" and key in LAYERS else key


_ERROR_FRAME = ("图层", "字段", "修改方法", "（英文原文）", "：", "，", "。")


def error_text(exc: BaseException, lang: str = "zh", *, control: str | None = None) -> str:
    """A library error as the app shows it: in Chinese, what kind of problem, which layer and field, how to fix —
    around the library's English detail (kept as it is, for support); English unchanged.

    ``control`` names the control that caused it (the message then starts with it).

    Examples
    --------
    >>> from geoplan.errors import ConfigError, Problem, ValidationError
    >>> print(error_text(ValidationError(Problem("sites", "BAND", "'n99' is not a band", "use n78"))))
    数据有误：
    - 图层“sites”，字段“BAND”：'n99' is not a band（修改方法：use n78）
    >>> error_text(ConfigError("no tile URL. Fix: enter one"), control="瓦片地址模板")
    '“瓦片地址模板”：设置有误（英文原文）：no tile URL. Fix: enter one'
    """
    if lang != "zh":
        text = str(exc)
        return t("error_in", lang, control=control, e=text) if control else text
    kind = next((ERROR_KINDS[c.__name__][0] for c in type(exc).__mro__ if c.__name__ in ERROR_KINDS), "出错")
    problems = getattr(exc, "problems", None) or []
    if problems:
        lines = [f"- 图层“{p.layer}”" + (f"，字段“{p.field}”" if p.field else "") + f"：{p.message}（修改方法：{p.fix}）"
                 for p in problems]
        text = f"{kind}：\n" + "\n".join(lines)
    else:
        text = f"{kind}（英文原文）：{exc}"
    return t("error_in", lang, control=control, e=text) if control else text


def progress_text(message: str, lang: str = "zh") -> str:
    """A library progress message (``progress(fraction, message)``) in ``lang``.

    Examples
    --------
    >>> progress_text("placing sites: 思明区"), progress_text("placing sites: 思明区", "en")
    ('布设站址：思明区', 'placing sites: 思明区')
    """
    if lang != "zh":
        return message
    for pattern, zh in PROGRESS:
        m = re.fullmatch(pattern, message)
        if m:
            return zh.format(**{k: _PROGRESS_WORDS.get(v, v) for k, v in m.groupdict().items()})
    return message


def network_name(network: str, lang: str = "zh") -> str:
    """An operator network as the interface names it: Chinese name (code) in English, the Chinese name alone in Chinese.

    Examples
    --------
    >>> network_name("cmcc"), network_name("cmcc", "en"), network_name("any")
    ('中国移动', '中国移动 (cmcc)', '全部运营商')
    """
    if network == "any":
        return t("net_any", lang)
    return network_label(network) if lang == "zh" else f"{network_label(network)} ({network})"


def basis_text(info: Mapping[str, Any], lang: str = "zh") -> str:
    """The population basis (:func:`geoplan.targets.population_basis`'s description) in ``lang``.

    Examples
    --------
    >>> basis_text({"kind": "census", "year": 2020, "description": "district resident population, census 2020"})
    '各区常住人口（2020 年普查）'
    """
    kind = info.get("kind")
    if lang != "zh" or kind not in ("census", "yearend", "projection"):
        return str(info.get("description", kind or ""))
    if kind == "yearend":
        ty = info.get("target_year")
        note = t("basis_before", lang, year=ty) if ty is not None and ty != info.get("year") else ""
        return t("basis_yearend", lang, year=info.get("year"), total=float(info.get("total") or 0), note=note)
    return t(f"basis_{kind}", lang, year=info.get("year") or "")


def coverage_refers(network: str, band: str, indoor: bool, lang: str = "zh") -> str:
    """What a coverage figure refers to: operator network, band of new sites, indoor or outdoor users.

    Examples
    --------
    >>> coverage_refers("cmcc", "n41", True, "en")
    'Coverage refers to 中国移动 (cmcc), existing stations on the bands they carry, new sites n41, indoor users'
    """
    net = network_name(network, lang)
    return t("cov_refers", lang, net=net, band=band, users=t("users_indoor" if indoor else "users_outdoor", lang))
