"""The report's maps and charts, drawn with matplotlib on a figure the renderer gives.

Maps are static and drawn in the project's metric CRS (true shapes, a scale
bar in kilometres); every label is Chinese, in the CJK font the renderer set.
"""

from __future__ import annotations

from collections.abc import Callable

import geopandas as gpd
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.figure import Figure, SubFigure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from ..coverage_grid import COVERAGE_CODES
from ..io import Raster
from ..onemap import default_onemap
from .content import ReportContent

__all__ = ["FIGURES", "choropleth", "sites_by_year", "coverage_bars", "coverage_map", "edge_map", "charging_map"]

_TYPE_COLOURS = {"macro": "#d7301f", "micro": "#fc8d59", "indoor": "#4575b4"}
_COVERAGE_COLOURS = {0: "#d73027", 1: "#abd9e9", 2: "#1a9850"}


def _districts(c: ReportContent) -> gpd.GeoDataFrame:
    return c.project.metric("districts")


def _base(ax: Axes, c: ReportContent, *, facecolor: str = "#f2f2f2") -> gpd.GeoDataFrame:
    d = _districts(c)
    d.plot(ax=ax, facecolor=facecolor, edgecolor="#555555", linewidth=0.6)
    ax.set_axis_off()
    ax.set_aspect("equal")
    _scale_bar(ax, d.total_bounds)
    return d


def _scale_bar(ax: Axes, bounds: np.ndarray) -> None:
    left, bottom, right, _ = bounds
    span = right - left
    km = max(1, int(round(span / 5000 / 5)) * 5) if span > 25_000 else max(1, int(span / 5000))
    x0, y0 = left + 0.03 * span, bottom + 0.03 * (bounds[3] - bottom)
    ax.plot([x0, x0 + km * 1000], [y0, y0], color="black", linewidth=2)
    ax.text(x0 + km * 500, y0 + 0.01 * (bounds[3] - bottom), f"{km} 公里", ha="center", va="bottom", fontsize=7)


def _metric_points(gdf: gpd.GeoDataFrame, c: ReportContent) -> gpd.GeoDataFrame:
    return gdf.to_crs(c.project.metric_crs)


#: Classes of stations per 10k / target, and their colours (red: far below, greens: met).
_RATIO_BREAKS = [0.0, 0.8, 0.9, 1.0, 1.1, 1.3, 10.0]
_RATIO_COLOURS = ["#d73027", "#fc8d59", "#fee08b", "#a6d96a", "#66bd63", "#1a9850"]
_RATIO_LABELS = ["< 80 %", "80–90 %", "90–100 %", "达标 100–110 %", "110–130 %", "≥ 130 %"]


def choropleth(fig: Figure | SubFigure, c: ReportContent) -> None:
    """Districts coloured by stations per 10k against the target: now (existing) and after the plan."""
    d = _districts(c).reset_index(drop=True)
    dens = c.density.set_index(c.density["XZQDM"].astype(str))
    codes = d["XZQDM"].astype(str)

    def col(name: str) -> np.ndarray:
        return pd.to_numeric(dens[name], errors="coerce").reindex(codes).to_numpy(dtype=float) \
            if name in dens.columns else np.full(len(d), np.nan)

    pop, target = col("POP"), col("TARGET")
    with np.errstate(divide="ignore", invalid="ignore"):
        now = col("EXISTING") / pop * 1e4
    after = col("PER_10K")
    cmap = ListedColormap(_RATIO_COLOURS)
    norm = BoundaryNorm(_RATIO_BREAKS, cmap.N)
    for i, (per, label) in enumerate(((now, "现状"), (after, "规划后"))):
        ax = fig.add_subplot(1, 2, i + 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            g = d.assign(ratio=per / target)
        g.plot(ax=ax, column="ratio", cmap=cmap, norm=norm, edgecolor="#333333", linewidth=0.5,
               missing_kwds={"color": "#dddddd"})
        for (_, row), p in zip(g.iterrows(), per, strict=True):
            pt = row.geometry.representative_point()
            txt = f"{row['XZQMC']}\n{p:.1f}" if np.isfinite(p) else str(row["XZQMC"])
            ax.annotate(txt, (pt.x, pt.y), ha="center", va="center", fontsize=6.5,
                        bbox={"boxstyle": "round,pad=0.15", "fc": "white", "alpha": 0.75, "lw": 0})
        ax.set_axis_off()
        ax.set_aspect("equal")
        _scale_bar(ax, d.total_bounds)
        t = np.nanmax(target) if np.isfinite(target).any() else float("nan")
        ax.set_title(f"{label}：每万人5G基站数（目标 {t:g}）", fontsize=10)
    fig.legend(handles=[Patch(color=c_, label=l_) for c_, l_ in zip(_RATIO_COLOURS, _RATIO_LABELS, strict=True)],
               loc="lower center", ncol=6, fontsize=7, title="每万人基站数 / 目标", title_fontsize=7)


def sites_by_year(fig: Figure | SubFigure, c: ReportContent) -> None:
    """Stacked bars of planned sites by build year and type, and a map of them by type."""
    t = c.tables["per_year"].frame
    labels = default_onemap().domain("planned_sites", "SITE_TYPE")
    names = {k: (labels.codes[k] if labels else k) for k in _TYPE_COLOURS}
    ax1 = fig.add_subplot(2, 1, 1)
    bottom = np.zeros(len(t))
    years = t["年份"].astype(str).tolist()
    for k, colour in _TYPE_COLOURS.items():
        vals = t[names[k]].to_numpy(dtype=float) if names[k] in t.columns else np.zeros(len(t))
        ax1.bar(years, vals, bottom=bottom, color=colour, label=names[k])
        bottom += vals
    for x, v in zip(years, bottom, strict=True):
        ax1.text(x, v, f"{v:,.0f}", ha="center", va="bottom", fontsize=8)
    ax1.set_ylabel("新增站点数")
    ax1.set_title("规划新增5G基站（按建设年份与站型）", fontsize=11)
    ax1.legend(fontsize=8)
    ax2 = fig.add_subplot(2, 1, 2)
    _base(ax2, c)
    planned = c.plan.layers.get("planned_sites")
    if isinstance(planned, gpd.GeoDataFrame) and len(planned):
        pts = _metric_points(planned, c)
        for k, colour in _TYPE_COLOURS.items():
            sel = pts[pts["SITE_TYPE"].astype(str) == k]
            ax2.scatter(sel.geometry.x, sel.geometry.y, s=1.5, color=colour, label=f"{names[k]}（{len(sel):,}）",
                        linewidths=0)
        ax2.legend(fontsize=7, markerscale=5, loc="upper right")
    ax2.set_title("规划新增站址分布", fontsize=10)


def coverage_bars(fig: Figure | SubFigure, c: ReportContent) -> None:
    """Population coverage before and after the plan, per district (the network the text names)."""
    d = c.density
    ax = fig.add_subplot(1, 1, 1)
    if "COV_BEFORE" not in d.columns:
        ax.text(0.5, 0.5, "本规划未包含5G站址，无覆盖率对比。", ha="center", va="center")
        ax.set_axis_off()
        return
    x = np.arange(len(d))
    before = pd.to_numeric(d["COV_BEFORE"], errors="coerce").to_numpy(dtype=float) * 100
    after = pd.to_numeric(d["COV_AFTER"], errors="coerce").to_numpy(dtype=float) * 100
    ax.bar(x - 0.2, before, width=0.4, color="#abd9e9", label="规划前")
    ax.bar(x + 0.2, after, width=0.4, color="#1a9850", label="规划后")
    ax.set_xticks(x, d["XZQMC"].astype(str).tolist(), rotation=45 if len(d) > 8 else 0, fontsize=8)
    ax.set_ylabel("人口覆盖率（%）")
    ax.set_ylim(0, 105)
    ax.legend(fontsize=8)
    ax.set_title("各区县5G人口覆盖率：规划前后", fontsize=11)


def coverage_map(fig: Figure | SubFigure, c: ReportContent) -> None:
    """The coverage grid: not covered, covered by existing sites, newly covered by the plan."""
    grid = c.plan.layers.get("coverage")
    ax = fig.add_subplot(1, 1, 1)
    if not isinstance(grid, Raster) or grid.crs is None:
        ax.text(0.5, 0.5, "计划文件不含覆盖格网（省级分县计算不生成格网）。", ha="center", va="center")
        ax.set_axis_off()
        return
    d = _districts(c).to_crs(grid.crs)
    vals = np.where(grid.valid, grid.values, np.nan)
    left, bottom, right, top = grid.bounds
    cmap = ListedColormap([_COVERAGE_COLOURS[k] for k in (0, 1, 2)])
    ax.imshow(vals, extent=(left, right, bottom, top), cmap=cmap, norm=BoundaryNorm([-0.5, 0.5, 1.5, 2.5], 3),
              interpolation="nearest")
    d.plot(ax=ax, facecolor="none", edgecolor="#333333", linewidth=0.6)
    ax.set_axis_off()
    ax.set_aspect("equal")
    _scale_bar(ax, d.total_bounds)
    ax.legend(handles=[Patch(color=_COVERAGE_COLOURS[k], label=COVERAGE_CODES[k][0]) for k in (0, 1, 2)],
              fontsize=8, loc="upper right")
    ax.set_title("5G人口覆盖格网（有人口的格网）", fontsize=11)


def edge_map(fig: Figure | SubFigure, c: ReportContent) -> None:
    """Edge data centres (existing, planned), the demand points, and the latency circle where it binds."""
    ax = fig.add_subplot(1, 1, 1)
    _base(ax, c)
    demand = c.project.layer("edge_demand")
    if demand is not None and len(demand):
        pts = _metric_points(demand, c)
        ax.scatter(pts.geometry.x, pts.geometry.y, s=4, color="#7f7f7f", label="边缘算力需求点", linewidths=0)
    dc = c.plan.layers.get("edge_dc")
    handles = [Line2D([], [], marker="o", ls="", color="#7f7f7f", markersize=3, label="边缘算力需求点")]
    if isinstance(dc, gpd.GeoDataFrame) and len(dc):
        pts = _metric_points(dc, c)
        for status, colour, label in (("existing", "#2166ac", "现状数据中心"), ("planned", "#b2182b", "规划数据中心")):
            sel = pts[pts["STATUS"].astype(str) == status]
            ax.scatter(sel.geometry.x, sel.geometry.y, s=40, marker="s", color=colour, edgecolor="white")
            handles.append(Line2D([], [], marker="s", ls="", color=colour, markersize=6,
                                  label=f"{label}（{len(sel)}）"))
        radius = c.plan.metadata.get("edge_dc", {}).get("parameters", {}).get("radius_km")
        span = float(np.ptp(_districts(c).total_bounds[[0, 2]]))
        if radius and radius * 1000 < span / 2:
            for geom in pts.geometry:
                ax.add_patch(_circle(geom.x, geom.y, radius * 1000))
    ax.legend(handles=handles, fontsize=7, loc="upper right")
    ax.set_title("边缘数据中心布局", fontsize=11)


def _circle(x: float, y: float, r: float) -> Patch:
    from matplotlib.patches import Circle

    return Circle((x, y), r, fill=False, edgecolor="#b2182b", linewidth=0.4, alpha=0.5)


def charging_map(fig: Figure | SubFigure, c: ReportContent) -> None:
    """New public car parks by compliance, existing car parks, and new public charging stations."""
    ax = fig.add_subplot(1, 1, 1)
    _base(ax, c)
    handles = []
    cp = c.plan.layers.get("car_parks")
    if isinstance(cp, gpd.GeoDataFrame) and len(cp):
        pts = _metric_points(cp, c)
        is_new = pd.to_numeric(pts["IS_NEW"], errors="coerce") == 1
        ok = pd.to_numeric(pts.get("COMPLIANT", pd.Series(0, index=pts.index)), errors="coerce") == 1
        for sel, colour, size, label in ((~is_new, "#bdbdbd", 3, "现状公共停车场"),
                                         (is_new & ok, "#1a9850", 14, "新建停车场（配建达标）"),
                                         (is_new & ~ok, "#d73027", 14, "新建停车场（需补建）")):
            part = pts[sel.to_numpy()]
            ax.scatter(part.geometry.x, part.geometry.y, s=size, color=colour, linewidths=0)
            handles.append(Line2D([], [], marker="o", ls="", color=colour, markersize=4,
                                  label=f"{label}（{len(part)}）"))
    st = c.plan.layers.get("charging_stations")
    if isinstance(st, gpd.GeoDataFrame) and len(st):
        pts = _metric_points(st, c)
        ax.scatter(pts.geometry.x, pts.geometry.y, s=22, marker="^", color="#2166ac", edgecolor="white")
        handles.append(Line2D([], [], marker="^", ls="", color="#2166ac", markersize=6,
                              label=f"新增公共充电站（{len(pts)}）"))
    if handles:
        ax.legend(handles=handles, fontsize=7, loc="upper right")
    ax.set_title("电动汽车充电设施", fontsize=11)


#: Figure key → (drawing function, whether it applies to a report's content).
FIGURES: dict[str, tuple[Callable[[Figure | SubFigure, ReportContent], None], Callable[[ReportContent], bool]]] = {
    "choropleth": (choropleth, lambda c: True),
    "sites_by_year": (sites_by_year, lambda c: "planned_sites" in c.plan.layers),
    "coverage_bars": (coverage_bars, lambda c: "COV_BEFORE" in c.density.columns),
    "coverage_map": (coverage_map, lambda c: "coverage" in c.plan.layers),
    "edge_map": (edge_map, lambda c: "edge_dc" in c.plan.layers),
    "charging_map": (charging_map, lambda c: "car_parks" in c.plan.layers or "charging_stations" in c.plan.layers),
}
