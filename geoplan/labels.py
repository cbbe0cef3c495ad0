"""Human labels and tidy numbers for geoplan's tables: Chinese headers, rounding, counts, shares.

The CLI's CSV and tables, the planning report and the app print the same
per-district, edge and charging tables; this module gives their columns a
Chinese header (``--lang zh``) and each number the precision a planner reads:
counts as integers, persons without decimals, densities to 0.01, shares to
0.0001 (or as percentages in a table), latencies to 0.001 ms.

Examples
--------
>>> import pandas as pd
>>> t = pd.DataFrame({"XZQMC": ["思明区"], "per_10k": [23.59046505452733], "stations": [32.0],
...                   "coverage_after": [0.8970123]})
>>> tidy(t).to_dict("records")[0]
{'XZQMC': '思明区', 'per_10k': 23.59, 'stations': 32, 'coverage_after': 0.897}
>>> headers(t.columns, lang="zh")
['行政区名称', '每万人基站数', '基站数', '规划后人口覆盖率']
>>> percent(0.002783)
'0.28 %'
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from .layers import layer_specs

__all__ = ["COLUMN_LABELS_ZH", "SHARE_COLUMNS", "headers", "tidy", "percent", "is_share"]

#: Chinese header of each column geoplan prints (layer fields fall back to their spec's alias).
COLUMN_LABELS_ZH: dict[str, str] = {
    "XZQDM": "行政区代码", "XZQMC": "行政区名称", "population": "常住人口", "stations": "基站数",
    "existing": "现状基站数", "new": "规划新增基站数", "per_10k": "每万人基站数", "target_per_10k": "目标每万人基站数",
    "required": "达标所需基站数", "shortfall": "基站缺口", "meets_target": "是否达标",
    "coverage_before": "规划前人口覆盖率", "coverage_after": "规划后人口覆盖率", "scenario": "方案",
    "total": "基站总数", "districts_meeting_target": "达标区县数", "districts": "区县数", "method": "求解方法",
    "status": "求解状态", "gap": "最优性差距", "gap_percent": "最优性差距（%）", "metric": "指标",
    "sites": "站点数", "demand_points": "需求点数", "demand_weight": "需求权重", "uncovered_points": "未覆盖需求点数",
    "uncovered_weight": "未覆盖需求权重", "mean_lat_ms": "平均单向时延（毫秒）", "max_lat_ms": "最大单向时延（毫秒）",
    "DC_ID": "数据中心编号", "DIST_KM": "距离（公里）", "LAT_MS": "单向时延（毫秒）", "RTT_MS": "往返时延（毫秒）",
    "WITHIN": "是否在时延圈内", "new_car_parks": "新建公共停车场数", "compliant": "达标数", "new_spaces": "新建停车位",
    "new_built": "新建已建充电车位", "new_reserved": "新建预留充电车位", "to_add": "需新增充电车位",
    "from_reserved": "其中利用预留车位", "new_fitout": "其中新增改造车位", "existing_car_parks": "现状公共停车场数",
    "existing_spaces": "现状停车位", "existing_built": "现状已建充电车位", "core_population": "核心区人口",
    "beyond_now": "服务半径外人口（现状）", "beyond_after_compliance": "服务半径外人口（配建达标后）",
    "beyond_after": "服务半径外人口（规划后）", "new_stations": "新增充电站数", "share_built": "已建充电车位比例",
    "rule_applies": "适用配建比例", "lon": "经度", "lat": "纬度", "layer": "图层名", "alias": "图层别名",
    "key": "图层键", "features": "要素数", "geometry": "几何类型", "file": "文件",
    "edge_dcs": "边缘数据中心数", "edge_covered_share": "时延圈内需求比例", "edge_max_latency_ms": "最大时延（毫秒）",
    "edge_uncovered_points": "时延圈外需求点数", "charging_spaces_to_add": "需新增充电车位",
    "charging_new_stations": "新增充电站数", "charging_core_within_after": "核心区服务覆盖率（规划后）",
    "year": "年份", "macro": "宏站", "micro": "微站", "indoor": "室分", "cumulative": "累计新增",
}
#: Columns holding shares in [0, 1] (printed as percentages in tables).
SHARE_COLUMNS: frozenset[str] = frozenset({
    "coverage_before", "coverage_after", "share_built", "edge_covered_share", "charging_core_within_after",
    "COV_BEFORE", "COV_AFTER", "SHARE_BLT", "gap",
})
#: Decimals of columns whose precision is not the default.
_DECIMALS: dict[str, int] = {
    "population": 0, "POP": 0, "core_population": 0, "beyond_now": 0, "beyond_after_compliance": 0,
    "beyond_after": 0, "GAIN_POP": 1, "POP_GAIN": 1, "mean_lat_ms": 3, "max_lat_ms": 3, "LAT_MS": 3,
    "RTT_MS": 3, "DIST_KM": 3, "edge_max_latency_ms": 3, "lon": 6, "lat": 6, "W_SERVED": 2, "WEIGHT": 2,
    "demand_weight": 2, "uncovered_weight": 2,
}


def is_share(column: str) -> bool:
    """Whether ``column`` holds a share in [0, 1]."""
    return column in SHARE_COLUMNS or column.endswith("_share")


def headers(columns: Iterable[object], *, lang: str = "en") -> list[str]:
    """Column headers in ``lang`` (``"en"``: the names as they are; ``"zh"``: Chinese labels)."""
    cols = [str(c) for c in columns]
    if lang != "zh":
        return cols
    aliases = {f.name: f.alias for spec in layer_specs().values() for f in spec.fields if f.alias}
    return [COLUMN_LABELS_ZH.get(c) or aliases.get(c) or c for c in cols]


def _whole(col: pd.Series) -> bool:
    v = col.dropna().to_numpy(dtype=float)
    return bool(len(v)) and bool(np.all(np.isfinite(v)) and np.all(np.mod(v, 1) == 0))


def tidy(frame: pd.DataFrame) -> pd.DataFrame:
    """Counts as integers (nullable where values are missing), other numbers rounded for reading.

    Shares keep 4 decimals, densities 2, persons 0, latencies 3 (see the module notes).
    """
    out = frame.copy()
    for c in out.columns:
        col = out[c]
        if pd.api.types.is_bool_dtype(col) or not pd.api.types.is_numeric_dtype(col):
            continue
        name = str(c)
        if pd.api.types.is_float_dtype(col) and name not in _DECIMALS and not is_share(name) and _whole(col):
            out[c] = col.round().astype("Int64")
        elif pd.api.types.is_float_dtype(col):
            places = _DECIMALS.get(name, 4 if is_share(name) else 2)
            out[c] = col.round(places).astype("Int64") if places == 0 else col.round(places)
    return out


def percent(share: float | None, *, decimals: int = 2) -> str:
    """A share as a percentage for people (``"–"`` when missing)."""
    if share is None or share != share:
        return "–"
    return f"{100 * share:.{decimals}f} %"
