"""``geoplan place sites``: choose new 5G sites for a density target or a station total."""

from __future__ import annotations

from pathlib import Path

import typer

from .. import io
from .._scenario_file import check_scenario
from ..chunked import place_sites_chunked
from ..errors import ConfigError
from ..placement.sites import place_sites, planning_context
from ._app import (
    CandidatesOpt,
    Format,
    MixOpt,
    OverwriteOpt,
    ProjectOpt,
    check_out,
    emit,
    parse_mix,
    place_app,
)
from ._progress import progress_bar
from ._resolve import LARGE_PROJECT_CELLS, resolve

__all__ = ["place_sites_cmd"]


@place_app.command("sites")
def place_sites_cmd(
    total: int = typer.Option(None, "--total", "-n", help="Total stations wanted (existing + new)."),
    year: int = typer.Option(None, "--year", "-y", help="Meet every district's density target of this year."),
    method: str = typer.Option("greedy", "--method", "-m", help="greedy (lazy, fast) or exact (HiGHS MILP)."),
    band: str = typer.Option("n78", "--band", help="Link-budget band: n78, n41, n28, n79."),
    outdoor: bool = typer.Option(False, "--outdoor", help="Plan for outdoor users (default: indoor, with building-entry loss)."),
    time_limit: float = typer.Option(60.0, "--time-limit", help="Exact solver time limit, seconds."),
    seed: int = typer.Option(0, "--seed", min=0, help="Seed of modelled candidates."),
    candidates: str = CandidatesOpt,
    mix: str = MixOpt,
    out: Path = typer.Option(None, "--out", "-o", help="Write planned sites (GeoPackage/GeoJSON/shapefile by extension)."),
    overwrite: bool = OverwriteOpt,
    plan: str = typer.Option(None, "--plan", help="Plan (xiamen, fujian): without --project, its embedded project."),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="table, json or csv."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    project: Path = ProjectOpt,
) -> None:
    """Choose new sites: meet each district's density target and cover the most population."""
    check_scenario({"total": total, "year": year, "method": method, "band": band, "seed": seed,
                    "time_limit_s": time_limit, "candidates": candidates}, where="the options", label="[options]")
    check_out(out, layer="planned_sites", overwrite=overwrite)  # a bad output fails now, not after the work
    proj = resolve(plan, project, quiet=quiet)
    check_out(out, layer="planned_sites", overwrite=overwrite, protect=proj.input_files)
    large = len(proj.demand) > LARGE_PROJECT_CELLS
    if large and candidates != "population":
        raise ConfigError(f"{proj.name} is placed county by county, from populated cells drawn by weight. "
                          "Fix: leave out --candidates (or give a candidate layer in the project file)")
    if large and method != "greedy":
        raise ConfigError(f"{proj.name} has {len(proj.demand):,} populated cells: the exact solver is only offered "
                          "below 2 million cells. Fix: use --method greedy (run county by county)")
    with progress_bar("placing sites", enabled=not quiet) as hook:
        if large:  # province scale: county by county, memory bounded
            res = place_sites_chunked(proj, total=total, year=year, band=band, indoor=not outdoor, seed=seed,
                                      mix=parse_mix(mix), progress=hook)
        else:
            ctx = planning_context(proj, band=band, indoor=not outdoor, seed=seed, candidates=candidates,
                                   mix=parse_mix(mix), progress=lambda f, m: hook(0.6 * f, m))
            res = place_sites(proj, total=total, year=year, method=method, context=ctx, time_limit_s=time_limit,
                              progress=lambda f, m: hook(0.6 + 0.4 * f, m))
    if out is not None:
        io.write_vector(res.sites, out, layer="planned_sites", overwrite=overwrite, protect=proj.input_files)
    s = res.summary
    data = {"schema": "geoplan.place_sites/1", "summary": s,
            "districts": res.districts.to_dict(orient="records"), "out": str(out) if out else None}
    gap = "" if s["gap"] is None else f", gap {s['gap']:.4%}"
    footer = [
        f"{s['new']:,} new sites ({s['method']}, status {s['status']}{gap}, {s['runtime_s']:.2f} s) → "
        f"{s['stations']:,} stations, {s['per_10k']}/10k vs target {s['target_per_10k']:g} ({s['year']}); "
        f"{s['districts_meeting_target']}/{s['districts']} districts meet it.",
        f"Population coverage ({s['band']} link budget): {s['coverage_before']:.1%} → {s['coverage_after']:.1%}.",
    ]
    if large:
        footer.append("Province scale: placed county by county (geoplan.chunked) with outdoor link budgets.")
    if s.get("candidates_modelled"):
        footer.append(f"[yellow]Candidates are modelled ({s['candidates']:,} drawn from populated cells): "
                      "add a candidates layer to the project for real sites.[/]")
    if out is not None:
        footer.append(f"Planned sites written to {out}.")
    emit(data, fmt, frame=res.districts, footer=footer, title=f"{proj.name}: planned 5G sites")
