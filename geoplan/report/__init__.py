"""The planning report a bureau hands to its leaders, as PDF or HTML, from a plan file and its project.

It shows the district choropleth against the target, planned sites by year and
type, population coverage before and after (saying which operator, band and
indoor/outdoor setting it refers to), edge data centres and charging maps, the
per-district and per-year tables, every assumption and parameter, and every
modelled (synthetic) layer by name. Drawn with matplotlib (static maps), Chinese
text in Noto Sans CJK embedded in the PDF (TrueType, ``pdf.fonttype`` 42), so it
reads on machines without the font; made offline.

Examples
--------
>>> import geoplan as gp
>>> from geoplan import planfile
>>> from geoplan.placement import place_sites
>>> proj = gp.load_project()
>>> pdf = report_bytes(proj, planfile.sites_plan(proj, place_sites(proj, year=2025)))
>>> pdf[:5]
b'%PDF-'
"""

from __future__ import annotations

import os
from pathlib import Path

from .. import io
from ..errors import ConfigError
from ..planfile import PlanFile
from ..project import Project
from .content import ReportContent, report_content
from .render import render_html, render_pdf

__all__ = ["REPORT_FORMATS", "ReportContent", "report_content", "report_bytes", "write_report", "report_format"]

#: Report formats, by file suffix.
REPORT_FORMATS: dict[str, str] = {".pdf": "pdf", ".html": "html", ".htm": "html"}


def report_format(path: str | os.PathLike[str]) -> str:
    """``"pdf"`` or ``"html"`` from ``path``'s suffix.

    >>> report_format("report.pdf"), report_format("report.HTML")
    ('pdf', 'html')
    """
    fmt = REPORT_FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise ConfigError(f"cannot tell the report format from {Path(path).name!r}. Fix: name it *.pdf or *.html")
    return fmt


def report_bytes(proj: Project, plan: PlanFile, *, format: str = "pdf", title: str | None = None) -> bytes:
    """The planning report of ``plan`` on ``proj`` as bytes (for the app's download button).

    Parameters
    ----------
    proj : Project
        The project the plan was made on.
    plan : PlanFile
        The plan (:func:`geoplan.planfile.read_plan`, :func:`geoplan.planfile.sites_plan`,
        :func:`geoplan.planfile.site_layers_plan`, several merged by
        :func:`geoplan.planfile.merge_plans`).
    format : {"pdf", "html"}
        PDF (A4, fonts embedded) or one self-contained HTML page.
    title : str, optional
        Title (default: the project's name and the target year).

    Raises
    ------
    ConfigError
        An unknown format, a plan of another project, or no font with Chinese glyphs.
    """
    if format not in ("pdf", "html"):
        raise ConfigError(f"unknown report format {format!r}. Fix: pdf or html")
    content = report_content(proj, plan, title=title)
    return render_pdf(content) if format == "pdf" else render_html(content)


def write_report(proj: Project, plan: PlanFile, path: str | os.PathLike[str], *, title: str | None = None) -> Path:
    """Write the report to ``path`` (``*.pdf`` or ``*.html``, by suffix), atomically."""
    data = report_bytes(proj, plan, format=report_format(path), title=title)
    return io.write_bytes(data, path, what="report")
