"""What the planning report says: key figures, tables, assumptions and modelled layers, from a plan and its project.

Pure data (no drawing): :func:`report_content` gathers everything the PDF and
HTML renderers lay out, in Chinese, so both formats say the same.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ..labels import percent
from ..onemap import default_onemap
from ..planfile import PlanFile
from ..project import Project, points_in_districts
from ..targets import load_plan

__all__ = ["ReportTable", "ReportContent", "report_content", "per_year_table", "density_frame", "network_text"]

_TYPES = ("macro", "micro", "indoor")


@dataclass(frozen=True)
class ReportTable:
    """A table of the report: Chinese headers, values as they are to be printed."""

    title: str
    frame: pd.DataFrame
    note: str = ""


@dataclass(frozen=True, eq=False)
class ReportContent:
    """Everything the report shows, except the drawings (which :mod:`.figures` makes from the same data)."""

    title: str
    subtitle: str
    created: str
    key_figures: list[tuple[str, str]]
    statement: str
    density: pd.DataFrame
    tables: dict[str, ReportTable]
    texts: dict[str, list[str]]
    assumptions: ReportTable
    modelled: list[str]
    plan: PlanFile
    project: Project
    extra: dict[str, Any] = field(default_factory=dict)


def density_frame(proj: Project, plan: PlanFile) -> pd.DataFrame:
    """The plan's ``density`` table, or (a plan without sites) the density check of the existing stations."""
    if "density" in plan.layers:
        d = pd.DataFrame(plan.layers["density"]).copy()
        return d.reset_index(drop=True)
    from ..targets import check

    t = check(proj, year=plan.year or 2025).table
    return pd.DataFrame({"XZQDM": t["XZQDM"], "XZQMC": t["XZQMC"], "POP": t["population"],
                         "EXISTING": t["stations"], "NEW": 0, "STATIONS": t["stations"], "PER_10K": t["per_10k"],
                         "TARGET": t["target_per_10k"], "SHORTFALL": t["shortfall"],
                         "MEETS": [None if v is None else int(bool(v)) for v in t["meets_target"]]})


def per_year_table(planned: gpd.GeoDataFrame | None, *, existing: int, year: int | None) -> pd.DataFrame:
    """Planned sites by build year and type, with cumulative new sites and stations."""
    if planned is None or not len(planned):
        return pd.DataFrame(columns=["年份", "宏站", "微站", "室分", "合计", "累计新增", "累计基站总数"])
    years = pd.to_numeric(planned.get("BUILD_YEAR"), errors="coerce") if "BUILD_YEAR" in planned.columns else \
        pd.Series(np.nan, index=planned.index)
    years = years.fillna(year if year is not None else 0).astype(int)
    counts = pd.crosstab(years, planned["SITE_TYPE"].astype(str)).reindex(columns=list(_TYPES), fill_value=0)
    labels = default_onemap().domain("planned_sites", "SITE_TYPE")
    out = pd.DataFrame({"年份": counts.index.astype(int)})
    for t in _TYPES:
        out[labels.codes[t] if labels else t] = counts[t].to_numpy(dtype=int)
    out["合计"] = counts.sum(axis=1).to_numpy(dtype=int)
    out["累计新增"] = out["合计"].cumsum()
    out["累计基站总数"] = existing + out["累计新增"]
    return out


def _density_table(d: pd.DataFrame) -> ReportTable:
    def num(c: str) -> pd.Series:
        return pd.to_numeric(d[c], errors="coerce") if c in d.columns else pd.Series(np.nan, index=d.index)

    meets = ["–" if v is None or v != v else ("是" if int(v) else "否") for v in d.get("MEETS", [None] * len(d))]
    f = pd.DataFrame({
        "行政区": d["XZQMC"], "常住人口（万人）": (num("POP") / 1e4).round(2), "现状基站": num("EXISTING"),
        "规划新增": num("NEW"), "基站合计": num("STATIONS"), "每万人基站数": num("PER_10K").round(2),
        "目标": num("TARGET"), "缺口": num("SHORTFALL"), "达标": meets,
    })
    if "COV_BEFORE" in d.columns:
        f["覆盖率（规划前）"] = [percent(v, decimals=1) for v in num("COV_BEFORE")]
        f["覆盖率（规划后）"] = [percent(v, decimals=1) for v in num("COV_AFTER")]
    return ReportTable("分区县5G基站密度与覆盖", f, "每万人基站数 = 基站合计 / 常住人口 × 10,000；目标为规划文件的年度指标。")


def network_text(plan: PlanFile) -> str:
    """Which operator, band and indoor/outdoor setting the coverage figures refer to."""
    p = plan.metadata.get("planned_sites", {}).get("parameters", {})
    band = p.get("band", "n78")
    users = "室内用户（含建筑物穿透损耗）" if p.get("indoor", True) else "室外用户"
    return (f"覆盖率为全网合计（各运营商站点合并计算，不分运营商），频段 {band}，{users}；"
            "按规划人口格网计算，被任一站点覆盖半径内的人口占比。")


def _city(d: pd.DataFrame) -> dict[str, float]:
    pop = pd.to_numeric(d["POP"], errors="coerce")
    ok = pop.notna() & (pop > 0)
    st = pd.to_numeric(d["STATIONS"], errors="coerce")
    return {"pop": float(pop[ok].sum()), "stations": float(st[ok].sum()),
            "existing": float(pd.to_numeric(d.get("EXISTING", st), errors="coerce")[ok].sum()),
            "new": float(pd.to_numeric(d.get("NEW", 0 * st), errors="coerce")[ok].sum()),
            "per": float(st[ok].sum() / pop[ok].sum() * 1e4) if pop[ok].sum() else float("nan"),
            "target": float(pd.to_numeric(d["TARGET"], errors="coerce").max()),
            "meets": int((pd.to_numeric(d.get("MEETS"), errors="coerce") == 1).sum()), "districts": int(ok.sum())}


def _key_figures(plan: PlanFile, d: pd.DataFrame) -> list[tuple[str, str]]:
    c = _city(d)
    out = [("现状5G基站", f"{c['existing']:,.0f} 个"), ("规划新增5G基站", f"{c['new']:,.0f} 个"),
           ("规划后5G基站合计", f"{c['stations']:,.0f} 个"),
           ("每万人5G基站数", f"{c['per']:.2f}（目标 {c['target']:g}）"),
           ("达到目标的区县", f"{c['meets']} / {c['districts']}")]
    s = plan.summary.get("place_sites", {})
    if s.get("coverage_before") is not None:
        out.append(("人口覆盖率", f"{percent(s['coverage_before'], decimals=1)} → "
                                  f"{percent(s.get('coverage_after'), decimals=1)}"))
    e = plan.summary.get("edge")
    if e:
        out.append(("边缘数据中心", f"{e['count']} 个（现状 {e['existing']}，新增 {e['new']}）"))
    ch = plan.summary.get("charging")
    if ch:
        n = ch["new_car_parks"]
        out.append(("新建公共停车场充电车位达标", f"{n['compliant']} / {n['car_parks']}，需新增 {n['to_add']:,} 个"))
        out.append(("新增公共充电站", f"{ch['new_stations']:,} 个"))
    return out


def _edge_table(plan: PlanFile) -> ReportTable | None:
    dc = plan.layers.get("edge_dc")
    if not isinstance(dc, gpd.GeoDataFrame):
        return None
    status = dc["STATUS"].astype(str).map({"existing": "现状", "planned": "规划"}).fillna(dc["STATUS"].astype(str))
    t = pd.crosstab(dc["XZQMC"].fillna("（区外）"), status)
    t["合计"] = t.sum(axis=1)
    frame = t.reset_index().rename(columns={"XZQMC": "行政区"})
    frame.columns.name = None
    return ReportTable("边缘数据中心（按区县）", frame)


def _district_names(proj: Project, gdf: gpd.GeoDataFrame) -> pd.Series:
    """The name of the district each point lies in (``（区外）`` outside all)."""
    idx = points_in_districts(gdf.to_crs(proj.metric_crs), proj.metric("districts"))
    names = np.asarray([*proj.district_names, "（区外）"], dtype=object)
    return pd.Series(names[np.where(idx >= 0, idx, len(proj.district_names))], index=gdf.index)


def _charging_table(proj: Project, plan: PlanFile) -> ReportTable | None:
    cp = plan.layers.get("car_parks")
    st = plan.layers.get("charging_stations")
    if not isinstance(cp, gpd.GeoDataFrame) or "COMPLIANT" not in cp.columns:
        return None
    new = cp[pd.to_numeric(cp["IS_NEW"], errors="coerce") == 1]
    by = new.groupby(_district_names(proj, new))
    frame = pd.DataFrame({"新建公共停车场": by.size(), "达标": by["COMPLIANT"].sum(),
                          "需新增充电车位": by["CHG_ADD"].sum(), "其中利用预留车位": by["ADD_RESV"].sum()})
    if isinstance(st, gpd.GeoDataFrame) and len(st):
        frame["新增公共充电站"] = st.groupby(_district_names(proj, st)).size().reindex(frame.index).fillna(0)
    frame = frame.fillna(0).astype(int).reset_index(names="行政区")
    return ReportTable("电动汽车充电设施（按区县）", frame, "新建公共停车场按规划比例配建充电车位；现状停车场仅作参考。")


def _flat(params: Mapping[str, Any]) -> str:
    parts = []
    for k, v in params.items():
        if isinstance(v, dict):
            v = json.dumps(v, ensure_ascii=False, default=str)
        parts.append(f"{k}={v}")
    return "; ".join(parts)


def _assumptions(proj: Project, plan: PlanFile) -> ReportTable:
    rows = []
    s = plan.summary.get("place_sites", {})
    if s:
        basis = s.get("population_basis", {})
        rows.append(("人口基数", str(basis.get("description", "")), "规划文件与统计数据"))
        rows.append(("密度目标", f"{s.get('target_per_10k')} 个/万人（{s.get('year')}年）", proj.plan))
    names = {"planned_sites": "规划5G站址", "density": "分区县密度", "coverage": "覆盖格网", "edge_dc": "边缘数据中心",
             "charging_stations": "公共充电站", "car_parks": "停车场配建", "conflicts": "选址约束冲突"}
    seen: dict[str, str] = {}
    for key, m in plan.metadata.items():
        rows.append((names.get(key, key) + "：方法", str(m.get("method", "")), str(m.get("source", ""))))
        flat = _flat(m.get("parameters", {}))
        if not flat:
            continue
        if flat in seen:
            rows.append((names.get(key, key) + "：参数", f"同“{seen[flat]}”", ""))
        else:
            seen[flat] = names.get(key, key)
            rows.append((names.get(key, key) + "：参数", flat, "geoplan 默认值或命令参数"))
    for key, prov in proj.provenance.items():
        rows.append((f"输入图层 {key}", ("模拟数据（非实测）：" if prov.get("modelled") else "") +
                     str(prov.get("note", "")), "项目文件"))
    return ReportTable("全部假设、参数与数据来源", pd.DataFrame(rows, columns=["项目", "取值", "来源"]),
                       "参数默认值及其出处见 geoplan 文档（docs/）；可在项目文件中改写。")


_LAYER_NAMES_ZH = {"population": "人口格网", "sites": "现状5G基站", "candidates": "候选站址", "edge_demand": "边缘算力需求点",
                   "edge_dc": "边缘数据中心", "car_parks": "公共停车场", "charging_stations": "公共充电站",
                   "planned_sites": "规划5G站址", "density": "分区县密度表", "coverage": "覆盖格网"}


def _modelled(proj: Project, plan: PlanFile) -> list[str]:
    """Every modelled layer by name: the project's inputs and the plan's layers resting on them."""
    keys = [k for k, prov in proj.provenance.items() if prov.get("modelled")]
    keys += [k for k, m in plan.metadata.items() if m.get("modelled") and k not in keys]
    return [f"{k}（{_LAYER_NAMES_ZH.get(k, k)}）" for k in keys]


def _subtitle(key: str, proj: Project | None = None) -> str:
    try:
        p = proj.targets if proj is not None and proj.targets is not None and proj.targets.key == key \
            else load_plan(key)
    except Exception:  # a plan key without shipped targets: name it as given
        return f"5G基站 · 边缘数据中心 · 电动汽车充电设施 — 规划：{key}"
    assert p is not None
    return f"5G基站 · 边缘数据中心 · 电动汽车充电设施 — 依据《{p.title}》" + (f"（{p.document}）" if p.document else "")


def report_content(proj: Project, plan: PlanFile, *, title: str | None = None) -> ReportContent:
    """Gather the report's figures, tables and texts for ``plan`` on ``proj``."""
    plan.check_project(proj)
    d = density_frame(proj, plan)
    planned = plan.layers.get("planned_sites")
    city = _city(d)
    year = plan.year
    tables: dict[str, ReportTable] = {"density": _density_table(d)}
    tables["per_year"] = ReportTable("规划新增5G基站（按建设年份与站型）",
                                     per_year_table(planned if isinstance(planned, gpd.GeoDataFrame) else None,
                                                    existing=int(city["existing"]), year=year))
    for key, t in (("edge", _edge_table(plan)), ("charging", _charging_table(proj, plan))):
        if t is not None:
            tables[key] = t
    if isinstance(plan.layers.get("conflicts"), pd.DataFrame):
        tables["conflicts"] = ReportTable("选址约束冲突", pd.DataFrame(plan.layers["conflicts"]))
    modelled = _modelled(proj, plan)
    statement = ("以下图层为模拟数据（非实测）或基于模拟数据计算：" + "、".join(modelled) +
                 "。结果用于方法演示与方案比较，不代表实际站址；各图层来源见附录。" if modelled else "本报告未使用模拟数据。")
    texts = {"coverage": [network_text(plan)]}
    return ReportContent(
        title=title or f"{proj.name} 新型基础设施规划报告" + (f"（{year}年）" if year else ""),
        subtitle=_subtitle(plan.plan or proj.plan, proj),
        created=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), key_figures=_key_figures(plan, d),
        statement=statement, density=d, tables=tables, texts=texts, assumptions=_assumptions(proj, plan),
        modelled=modelled, plan=plan, project=proj)
