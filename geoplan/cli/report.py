"""``geoplan report``: the planning report (PDF or HTML) of a plan file, to hand to a bureau's leaders."""

from __future__ import annotations

from pathlib import Path

import typer

from .. import planfile
from ..report import report_format, write_report
from ._app import Format, ProjectOpt, app, emit
from ._resolve import resolve

__all__ = ["report_cmd"]


@app.command("report")
def report_cmd(
    to: Path = typer.Option(..., "--to", "-o", help="Output: *.pdf (A4, fonts embedded) or *.html (one page).",
                            dir_okay=False),
    plan_files: list[Path] = typer.Option(..., "--from", help="Plan file(s) (*.gpkg from place --out, whatif --out "
                                          "or the app). Repeat to combine sites, edge and charging plans.",
                                          dir_okay=False),
    title: str = typer.Option(None, "--title", help="Title of the report (default: project and target year)."),
    plan: str = typer.Option(None, "--plan", help="Plan (xiamen, fujian): without --project, its embedded project."),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="How to print what was written: table or json."),
    project: Path = ProjectOpt,
) -> None:
    """Write the planning report: maps, charts and tables of a plan, every assumption and modelled layer named."""
    report_format(to)  # a bad file name fails now, not after the work
    pf = planfile.read_plans(plan_files)
    proj = resolve(plan or (pf.plan if project is None else None), project, quiet=True)
    path = write_report(proj, pf, to, title=title)
    size = path.stat().st_size
    data = {"schema": "geoplan.report/1", "path": str(path), "format": report_format(path), "project": proj.name,
            "year": pf.year, "layers": sorted(pf.layers), "bytes": size}
    emit(data, Format.json if fmt is Format.csv else fmt,
         footer=[f"Report written to {path} ({report_format(path)}, {size / 1e6:,.1f} MB) from "
                 f"{', '.join(p.name for p in plan_files)}."])
