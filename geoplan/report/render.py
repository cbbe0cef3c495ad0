"""Lay the report out as PDF pages (A4, CJK font embedded) or as one self-contained HTML page."""

from __future__ import annotations

import base64
import html
import io as _stdio
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from rich.cells import cell_len

from .. import io
from .content import ReportContent, ReportTable
from .figures import FIGURES

__all__ = ["Section", "sections", "render_pdf", "render_html", "font_settings"]

_A4 = (8.27, 11.69)
_ROWS_PER_PAGE = 34


@dataclass(frozen=True)
class Section:
    """One chapter: title, paragraphs, figures (keys of :data:`~.figures.FIGURES`), tables (keys of the content)."""

    title: str
    texts: tuple[str, ...] = ()
    figures: tuple[str, ...] = ()
    tables: tuple[str, ...] = ()


def sections(c: ReportContent) -> list[Section]:
    """The chapters that apply to ``c``, in order."""
    out = [Section("一、各区县5G基站密度与目标", ("左：现状站点；右：规划后。各区县每万人5G基站数与年度目标之比，绿色为达标，红、橙色为未达标。",),
                   ("choropleth",), ("density",))]
    if "planned_sites" in c.plan.layers:
        out.append(Section("二、规划新增5G基站", ("按建设年份（BUILD_YEAR）与站型统计；规划未分期时，建设年份取目标年。",),
                           ("sites_by_year",), ("per_year",)))
    if "COV_BEFORE" in c.density.columns or "coverage" in c.plan.layers:
        out.append(Section("三、5G人口覆盖（规划前后）", tuple(c.texts.get("coverage", ())),
                           tuple(k for k in ("coverage_bars", "coverage_map") if FIGURES[k][1](c))))
    if "edge_dc" in c.plan.layers:
        out.append(Section("四、边缘数据中心", ("方块为数据中心；红色细圆为时延圈（仅在其小于市域时绘出）。",),
                           ("edge_map",), ("edge",) if "edge" in c.tables else ()))
    if FIGURES["charging_map"][1](c):
        out.append(Section("五、电动汽车充电设施", (), ("charging_map",), ("charging",) if "charging" in c.tables else ()))
    if "conflicts" in c.tables:
        out.append(Section("六、选址约束冲突", (), (), ("conflicts",)))
    out.append(Section("附：假设、参数与模拟数据说明", (c.statement,), (), ("assumptions",)))
    return out


def font_settings() -> dict[str, Any]:
    """matplotlib settings for Chinese text: a CJK font (:func:`geoplan.io.cjk_font`), embedded as TrueType (42)."""
    family, _ = io.cjk_font()
    return {"font.family": [family], "pdf.fonttype": 42, "ps.fonttype": 42, "axes.unicode_minus": False,
            "svg.fonttype": "none"}


def _wrap(text: str, width: int) -> str:
    """Wrap ``text`` at ``width`` terminal cells (a Chinese character is two)."""
    lines, line = [], ""
    for ch in str(text):
        if ch == "\n" or cell_len(line + ch) > width:
            lines.append(line)
            line = "" if ch == "\n" else ch
        else:
            line += ch
    lines.append(line)
    return "\n".join(lines)


def _page(title: str | None = None) -> Figure:
    fig = Figure(figsize=_A4)
    if title:
        fig.text(0.06, 0.955, title, fontsize=15, va="top")
    return fig


def _cover(c: ReportContent) -> Figure:
    fig = _page()
    fig.text(0.5, 0.86, _wrap(c.title, 44), fontsize=20, ha="center", va="top")
    fig.text(0.5, 0.78, _wrap(c.subtitle, 80), fontsize=11, ha="center", va="top")
    fig.text(0.5, 0.745, f"生成时间：{c.created}　　geoplan {c.plan.geoplan_version or ''}", fontsize=9,
             ha="center", va="top", color="#555555")
    ax = fig.add_axes((0.15, 0.3, 0.7, 0.4))
    _draw_table(ax, pd.DataFrame(c.key_figures, columns=["指标", "数值"]), fontsize=11)
    fig.text(0.1, 0.26, _wrap("数据说明：" + c.statement, 88), fontsize=9, va="top", color="#7a0000")
    return fig


def _draw_table(ax: Axes, frame: pd.DataFrame, *, fontsize: float = 7.5, wrap: int = 60) -> None:
    """A table with wrapped cells and row heights that fit them, from the top of ``ax``."""
    ax.set_axis_off()
    if frame.empty:
        ax.text(0.5, 0.9, "（无数据）", ha="center", va="center")
        return
    cells = [[_wrap(_fmt(v), wrap) for v in row] for row in frame.itertuples(index=False)]
    heads = [_wrap(str(h), 12) for h in frame.columns]
    widths = [max(cell_len(x) for s in [h, *[r[i] for r in cells]] for x in s.split("\n")) + 2
              for i, h in enumerate(heads)]
    total = sum(widths)
    tab = ax.table(cellText=cells, colLabels=heads, colWidths=[w / total for w in widths], loc="upper center",
                   cellLoc="left")
    tab.auto_set_font_size(False)
    tab.set_fontsize(fontsize)
    lines = [max(h.count("\n") for h in heads) + 1] + [max(x.count("\n") for x in r) + 1 for r in cells]
    fig = ax.get_figure(root=True)
    height_in = ax.get_window_extent().height / (fig.dpi if isinstance(fig, Figure) else 72.0)
    line = fontsize * 1.45 / 72 / height_in  # one text line, in axes fractions
    for (row, _col), cell in tab.get_celld().items():
        cell.set_height(line * lines[row] + 0.5 * line)
        if row == 0:
            cell.set_facecolor("#e8eef4")


def _table_rows(t: ReportTable, *, fontsize: float = 7.5) -> int:
    """Text lines the table takes (its wrapped rows and the header)."""
    return 2 + sum(max(_wrap(_fmt(v), 60).count("\n") + 1 for v in row) for row in t.frame.itertuples(index=False))


def _fmt(v: object) -> str:
    if v is None or v is pd.NA or (isinstance(v, float) and v != v):
        return "–"
    if isinstance(v, float):
        return f"{v:,.2f}" if abs(v) < 1000 else f"{v:,.0f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def _table_pages(t: ReportTable, section: str) -> Iterator[Figure]:
    n = max(1, -(-len(t.frame) // _ROWS_PER_PAGE))
    for k in range(n):
        part = t.frame.iloc[k * _ROWS_PER_PAGE:(k + 1) * _ROWS_PER_PAGE]
        fig = _page(section)
        fig.text(0.06, 0.915, t.title + (f"（续 {k + 1}/{n}）" if n > 1 else ""), fontsize=11, va="top")
        ax = fig.add_axes((0.05, 0.08, 0.9, 0.82))
        _draw_table(ax, part)
        if t.note and k == n - 1:
            fig.text(0.06, 0.05, _wrap("注：" + t.note, 100), fontsize=8, va="top", color="#555555")
        yield fig


def _figure_page(key: str, c: ReportContent, section: Section, table: ReportTable | None) -> Figure:
    """A figure, the section's text and (when it fits) a table below the figure."""
    fig = _page(section.title)
    if table is None:
        fig.subplots_adjust(left=0.07, right=0.93, top=0.9, bottom=0.16)
        FIGURES[key][0](fig, c)
        if section.texts:
            fig.text(0.07, 0.12, _wrap("\n".join(section.texts), 96), fontsize=8.5, va="top")
        return fig
    top, bottom = np.asarray(fig.subfigures(2, 1, height_ratios=[0.58, 0.42])).ravel()
    top.subplots_adjust(left=0.07, right=0.93, top=0.86, bottom=0.06)
    FIGURES[key][0](top, c)
    y = 0.97
    if section.texts:
        bottom.text(0.07, y, _wrap("\n".join(section.texts), 96), fontsize=8.5, va="top")
        y -= 0.09
    bottom.text(0.06, y, table.title, fontsize=10, va="top")
    ax = bottom.add_axes((0.05, 0.08, 0.9, y - 0.12))
    _draw_table(ax, table.frame)
    if table.note:
        bottom.text(0.06, 0.04, _wrap("注：" + table.note, 100), fontsize=7.5, va="top", color="#555555")
    return fig


def _pages(c: ReportContent) -> Iterator[Figure]:
    yield _cover(c)
    for s in sections(c):
        tables = [c.assumptions if key == "assumptions" else c.tables[key] for key in s.tables]
        below = tables[0] if s.figures and tables and _table_rows(tables[0]) <= 16 else None
        for i, key in enumerate(s.figures):
            yield _figure_page(key, c, s, below if i == len(s.figures) - 1 else None)
        for t in tables:
            if t is not below:
                yield from _table_pages(t, s.title)
        if not s.figures and not s.tables and s.texts:
            fig = _page(s.title)
            fig.text(0.07, 0.9, _wrap("\n".join(s.texts), 96), fontsize=9, va="top")
            yield fig


def render_pdf(c: ReportContent) -> bytes:
    """The report as a PDF (A4 pages, the CJK font embedded as TrueType)."""
    buf = _stdio.BytesIO()
    meta = {"Title": c.title, "Creator": "geoplan", "Subject": c.subtitle}
    with matplotlib.rc_context(font_settings()), PdfPages(buf, metadata=meta) as pdf:  # type: ignore[arg-type]
        for fig in _pages(c):
            pdf.savefig(fig)
    return buf.getvalue()


def _png(fig: Figure) -> str:
    buf = _stdio.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")


_CSS = ("body{font-family:'Noto Sans CJK SC','Source Han Sans SC','Microsoft YaHei','PingFang SC',sans-serif;"
        "max-width:960px;margin:2em auto;color:#222;line-height:1.55}table{border-collapse:collapse;margin:1em 0;"
        "font-size:13px}th,td{border:1px solid #bbb;padding:3px 8px;text-align:left}th{background:#e8eef4}"
        "img{max-width:100%}.note{color:#555;font-size:12px}.statement{color:#7a0000}")


def render_html(c: ReportContent) -> bytes:
    """The report as one self-contained HTML page (figures inline as PNG, tables as HTML, UTF-8)."""
    e = html.escape
    parts = [f"<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'><title>{e(c.title)}</title>"
             f"<style>{_CSS}</style></head><body>", f"<h1>{e(c.title)}</h1><p>{e(c.subtitle)}</p>",
             f"<p class='note'>生成时间：{e(c.created)}</p>",
             pd.DataFrame(c.key_figures, columns=["指标", "数值"]).to_html(index=False),
             f"<p class='statement'>数据说明：{e(c.statement)}</p>"]
    with matplotlib.rc_context(font_settings()):  # type: ignore[arg-type]
        for s in sections(c):
            parts.append(f"<h2>{e(s.title)}</h2>")
            parts += [f"<p>{e(t)}</p>" for t in s.texts]
            for key in s.figures:
                fig = Figure(figsize=(8.27, 7.5))
                FIGURES[key][0](fig, c)
                parts.append(f"<img alt='{e(key)}' src='data:image/png;base64,{_png(fig)}'>")
            for key in s.tables:
                t = c.assumptions if key == "assumptions" else c.tables[key]
                parts.append(f"<h3>{e(t.title)}</h3>" + t.frame.to_html(index=False, na_rep="–")
                             + (f"<p class='note'>注：{e(t.note)}</p>" if t.note else ""))
    parts.append("</body></html>")
    return "\n".join(parts).encode("utf-8")
