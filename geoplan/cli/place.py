"""``geoplan place sites``: choose new 5G sites for a density target or a station total."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from enum import Enum
from pathlib import Path
from typing import Any

import pandas as pd
import typer

from .. import labels, planfile
from .._scenario_file import check_scenario
from ..errors import ConfigError
from ..placement import PlanSettings, place_sites, planning_context
from ..placement.results import PlanResult
from ..placement.sites import choose_engine
from ..project import Project
from ._app import (
    CandidatesOpt,
    Format,
    Lang,
    LangOpt,
    MixOpt,
    OverwriteOpt,
    ProjectOpt,
    check_out,
    emit,
    parse_mix,
    place_app,
    write_out,
)
from ._progress import progress_bar
from ._resolve import resolve

__all__ = ["place_sites_cmd", "dask_client"]


@contextlib.contextmanager
def dask_client(address: str | None) -> Iterator[Any]:
    """A Dask client connected to the scheduler at ``address`` (``None``: no client)."""
    if address is None:
        yield None
        return
    try:
        from dask.distributed import Client
    except ImportError:
        raise ConfigError("--scheduler needs Dask. Fix: pip install 'geoplan[dask]'") from None
    try:
        client = Client(address, timeout="10s", set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise ConfigError(f"cannot reach the Dask scheduler at {address!r} ({exc}). Fix: start one with "
                          "`dask scheduler` and workers with `dask worker ADDRESS`, or leave out --scheduler") from None
    try:
        yield client
    finally:
        client.close()


class By(str, Enum):
    """Rows of the printed table (and of --format csv)."""

    district = "district"
    kind = "kind"
    site = "site"
    conflict = "conflict"


def _by_kind(res: PlanResult) -> pd.DataFrame:
    """New sites by KIND and SOURCE with their site cost (万元)."""
    sites = pd.DataFrame(res.sites.drop(columns="geometry"))
    if sites.empty:
        return pd.DataFrame(columns=["KIND", "SOURCE", "sites", "cost", "soft_conflicts"])
    g = sites.groupby(["KIND", "SOURCE"], as_index=False)
    return g.agg(sites=("SITE_ID", "size"), cost=("COST", "sum"),
                 soft_conflicts=("CONFLICTS", lambda c: int((c.astype(str) != "").sum())))


def _siting_lines(res: PlanResult) -> list[str]:
    si = res.summary.siting
    if si is None:
        return []
    fam = si.reused_by_family
    lines = [f"Reuse: {si.reused:,} of {si.sites:,} new sites on existing structures ({fam['tower']:,} towers, "
             f"{fam['pole']:,} smart poles, {fam['rooftop']:,} opened buildings); site cost {si.cost_total:,.0f}万元, "
             f"saving {si.savings:,.0f}万元 against building every site new ({si.cost_all_new:,.0f}万元)."]
    if si.cost_weight:
        given = "" if si.coverage_given_up is None else (
            f"; it covers {si.coverage_given_up:,.0f} fewer residents than the coverage-only plan")
        lines.append(f"Cost weight {si.cost_weight:g} residents per 万元 (gap is that of the cost-aware score){given}.")
    cand = si.candidates
    excl = sum(sum(v.values()) for v in cand.get("excluded_by_constraints", {}).values())
    lines.append("Candidates: " + ", ".join(f"{k} {v:,}" for k, v in cand.get("by_source", {}).items())
                 + (f"; {excl:,} left out by hard constraints" if excl else "") + ".")
    if si.soft_conflict_sites or si.hard_conflict_sites:
        lines.append(f"Siting conflicts: {si.soft_conflict_sites:,} new sites in soft constraint zones "
                     f"({si.soft_conflicts:,} conflicts; --by conflict lists them)"
                     + (f"; {si.hard_conflict_sites:,} kept drawn sites in hard zones" if si.hard_conflict_sites
                        else "") + ".")
    return lines


def _footer(res: PlanResult, out: Path | None) -> list[str]:
    s = res.summary
    gap = "" if s.gap is None else f", gap {labels.percent(s.gap)}"
    lines = [
        f"{s.new:,} new sites ({s.method}, status {s.status}{gap}, {s.runtime_s:.2f} s, {s.engine} engine) → "
        f"{s.stations:,} stations, {s.per_10k}/10k vs target {s.target_per_10k:g} ({s.year}); "
        f"{s.districts_meeting_target}/{s.districts} districts meet it.",
        f"Population coverage ({s.band} link budget, {s.users} users): {s.coverage_before:.1%} → "
        f"{s.coverage_after:.1%}." if s.coverage_before is not None and s.coverage_after is not None else
        "Population coverage: no populated cells.",
    ]
    if s.districts_without_statistics:
        lines.append(f"No population statistics (left out of totals): {', '.join(s.districts_without_statistics)}.")
    lines += _siting_lines(res)
    if s.candidates_modelled:
        lines.append(f"[yellow]Candidates are modelled (generated, or from modelled inventories; {s.candidates:,} "
                     "in all): add the planner's own inventories to the project for real sites.[/]")
    if out is not None:
        lines.append(f"Planned sites written to {out}" + (" (plan file: sites, district table, coverage grid; "
                     "`geoplan export --from` and `geoplan report --from` read it)." if out.suffix.lower() == ".gpkg"
                     else "."))
    return lines


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
    n_candidates: int = typer.Option(None, "--n-candidates", help="Number of generated candidates (default: "
                                     "max(15,000, 2.5 x the sites the last target needs))."),
    spacing: float = typer.Option(None, "--candidate-spacing", help="Spacing of generated candidates, m: the grid's "
                                  "spacing, or the least distance between population / k-means candidates."),
    cost_weight: float = typer.Option(None, "--cost-weight", help="Residents of new coverage the plan gives up to "
                                      "save 1万元 of site cost: > 0 prefers sharing towers, poles and rooftops "
                                      "(default: the project's, 0 = coverage only; see docs/siting.md)."),
    mix: str = MixOpt,
    engine: str = typer.Option("auto", "--engine", help="auto (by project size), memory (one coverage matrix) or "
                               "chunked (county by county, memory bounded)."),
    scheduler: str = typer.Option(None, "--scheduler", help="Address of a running Dask scheduler (e.g. "
                                  "tcp://10.0.0.5:8786): the county tasks run on its workers."),
    out: Path = typer.Option(None, "--out", "-o", help="Write the plan: *.gpkg is a plan file (sites, district table, "
                             "coverage grid) for export --from and report --from; *.geojson / *.shp the sites alone."),
    by: By = typer.Option(By.district, "--by", help="Table rows: district, kind (new sites by kind and source, "
                          "with cost), site or conflict (the siting-conflicts table)."),
    overwrite: bool = OverwriteOpt,
    plan: str = typer.Option(None, "--plan", help="Plan (xiamen, fujian): without --project, its embedded project."),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="table, json or csv."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    lang: Lang = LangOpt,
    project: Path = ProjectOpt,
) -> None:
    """Choose new sites: meet each district's density target and cover the most population, on inventory and
    generated candidates outside hard constraint zones, weighing site cost when asked."""
    check_scenario({"total": total, "year": year, "method": method, "band": band, "seed": seed,
                    "time_limit_s": time_limit, "candidates": candidates, "n_candidates": n_candidates,
                    "candidate_spacing_m": spacing, "cost_weight": cost_weight}, where="the options",
                   label="[options]")
    check_out(out, layer="planned_sites", overwrite=overwrite)  # a bad output fails now, not after the work
    settings = PlanSettings(band=band, indoor=not outdoor, seed=seed, candidates=candidates, mix=parse_mix(mix),
                            n_candidates=n_candidates, candidate_spacing_m=spacing, cost_weight=cost_weight)
    proj = resolve(plan, project, quiet=quiet)
    check_out(out, layer="planned_sites", overwrite=overwrite, protect=proj.input_files)
    with dask_client(scheduler) as client, progress_bar("placing sites", enabled=not quiet) as hook:
        ctx = _context(proj, settings, engine=engine, client=client,
                       wanted=out is not None and out.suffix.lower() == ".gpkg")
        res = place_sites(proj, total=total, year=year, method=method, engine=engine, client=client,
                          context=ctx, settings=settings, time_limit_s=time_limit, progress=hook)
    write_out(planfile.sites_plan(proj, res, context=ctx, total=total, time_limit_s=time_limit), out,
              layer="planned_sites", overwrite=overwrite, protect=proj.input_files)
    data = res.to_dict() | {"out": str(out) if out else None}
    frame = {By.district: res.districts, By.kind: _by_kind(res), By.conflict: res.conflicts,
             By.site: pd.DataFrame(res.sites.drop(columns="geometry")).assign(
                 lon=res.sites.geometry.x.round(6), lat=res.sites.geometry.y.round(6))}[by]
    emit(data, fmt, frame=frame, footer=_footer(res, out), title=f"{proj.name}: planned 5G sites by {by.value}",
         lang=lang)


def _context(proj: Project, settings: PlanSettings, *, engine: str, client: Any, wanted: bool) -> Any:
    """The planning context (in-memory engine only), built here when a plan file wants the coverage grid."""
    if not wanted or client is not None or choose_engine(proj, engine) != "memory":
        return None
    return planning_context(proj, settings=settings.context_key())
