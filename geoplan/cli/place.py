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
from ..networks import coverage_label
from ..placement import PlanSettings, place_sites, planning_context
from ..placement.phasing import PhasedPlan, place_phased
from ..placement.results import PlanResult
from ..placement.sites import choose_engine
from ..project import Project
from ..targets import plan_of
from ._app import (
    BandOpt,
    BasisOpt,
    CandidatesOpt,
    Format,
    Lang,
    LangOpt,
    MixOpt,
    NCandidatesOpt,
    NetworkOpt,
    OverwriteOpt,
    ProjectOpt,
    QuotasOpt,
    SpacingOpt,
    check_out,
    emit,
    parse_mix,
    place_app,
    write_out,
)
from ._progress import progress_bar
from ._resolve import resolve

__all__ = ["place_sites_cmd", "dask_client", "Meet"]


class Meet(str, Enum):
    """What a year's sites must reach."""

    density = "density"
    count = "count"  # type: ignore[assignment]  # the member shadows str.count, as intended
    both = "both"


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


def _footer(res: PlanResult, out: Path | None, *, statement: str | None = None) -> list[str]:
    s = res.summary
    gap = "" if s.gap is None else f", gap {labels.percent(s.gap)}"
    binds = "every district" if s.applies_to == "district" else "the area's total (districts for reference)"
    lines = [
        f"{s.new:,} new sites ({s.method}, status {s.status}{gap}, {s.runtime_s:.2f} s, {s.engine} engine) → "
        f"{s.stations:,} stations, {s.per_10k}/10k vs target {s.target_per_10k:g} ({s.year}, binding {binds}): "
        f"{'met' if s.meets_density else 'NOT met'}; {s.districts_meeting_target}/{s.districts} districts at it.",
    ]
    if s.stations_target is not None:
        lines.append(f"The plan's station count for {s.year}: {s.stations_target:,} — "
                     + ("met." if s.meets_count else f"not met ({s.stations_target - s.stations:,} short; "
                        "--meet count or --meet both reaches it)."))
    lines.append(f"Population basis: {s.population_basis.get('description', '')}.")
    lines.append(f"Population coverage ({coverage_label(s.network, s.band, s.users)}): {s.coverage_before:.1%} → "
                 f"{s.coverage_after:.1%}." if s.coverage_before is not None and s.coverage_after is not None else
                 "Population coverage: no populated cells.")
    c = s.capacity
    if c is not None:
        added = f"; {s.capacity_sites:,} sites added for capacity" if s.capacity_sites else ""
        lines.append(f"Busy-hour capacity {c.year} ({c.penetration:.0%} 5G users): {c.demand_mbps / 1e3:,.1f} Gbit/s "
                     f"demand, {c.unserved_mbps:,.1f} Mbit/s unserved; {c.limited_cells:,} capacity-limited cells in "
                     f"{c.limited_districts} districts ({c.overloaded_sites:,} overloaded sites){added}.")
    else:
        lines.append("Busy-hour capacity: not evaluated (the plan states no 5G user penetration, or the county-by-"
                     "county engine: `geoplan check --coverage` reports it).")
    if statement:
        lines.append(statement)
    lines += [f"[yellow]Note: {n}.[/]" for n in s.notes]
    if s.districts_without_statistics:
        lines.append(f"No population statistics (left out of totals): {', '.join(s.districts_without_statistics)}.")
    lines += _siting_lines(res)
    if s.candidates_modelled:
        lines.append(f"[yellow]Candidates are modelled ({s.candidates:,}, {s.candidate_source or 'generated'}: "
                     "generated, or from modelled inventories): add the planner's own inventories to the project "
                     "for real sites.[/]")
    if out is not None:
        lines.append(f"Planned sites written to {out}" + (" (plan file: sites, district table, coverage grid; "
                     "`geoplan export --from` and `geoplan report --from` read it)." if out.suffix.lower() == ".gpkg"
                     else "."))
    return lines


def _phased_output(ph: PhasedPlan, proj_name: str, out: Path | None, fmt: Format, statement: str | None, *,
                   lang: Lang) -> None:
    data = ph.to_dict() | {"out": str(out) if out else None}
    if fmt is not Format.table:
        frame = pd.concat([r.districts.assign(year=y)[["year", *r.districts.columns]]
                           for y, r in zip(ph.years, ph.results, strict=True)], ignore_index=True)
        emit(data, fmt, frame=frame, lang=lang)
        return
    for y, r in zip(ph.years, ph.results, strict=True):
        t = r.districts.copy()
        t.insert(4, "built_in_year", ph.batch(y)["XZQDM"].value_counts().reindex(t["XZQDM"]).fillna(0)
                 .astype(int).to_numpy())
        emit({}, fmt, frame=t, title=f"{proj_name}: {y} (target {r.summary.target_per_10k:g}/10k"
             + (f", {r.summary.stations_target:,} stations" if r.summary.stations_target else "") + ")", lang=lang)
    batches = ", ".join(f"{y}: {int((ph.sites['BUILD_YEAR'] == y).sum()):,}" for y in ph.years)
    emit({}, fmt, frame=ph.summary.astype({"year": str}), title=f"{proj_name}: phases", lang=lang,
         footer=_footer(ph.final, out, statement=statement)
         + [f"Each year's sites extend the earlier years' (nested batches); BUILD_YEAR on every site ({batches})."])


@place_app.command("sites")
def place_sites_cmd(
    total: int = typer.Option(None, "--total", "-n", help="Total stations wanted (existing + new)."),
    year: int = typer.Option(None, "--year", "-y", help="Meet the plan's targets of this year (see --meet)."),
    years: list[int] = typer.Option(None, "--years", help="Phase the plan: nested batches for these years, each "
                                    "meeting its year's targets (e.g. --years 2023 2024 2025)."),
    meet: Meet = typer.Option(None, "--meet", help="What a year's sites must reach: density (stations per 10k, "
                              "default), count (the plan's station count, e.g. 18,500) or both."),
    quotas: str = QuotasOpt,
    basis: str = BasisOpt,
    population_year: int = typer.Option(None, "--population-year", help="A fixed year-end population basis."),
    method: str = typer.Option("greedy", "--method", "-m", help="greedy (lazy, fast) or exact (HiGHS MILP)."),
    band: str = BandOpt,
    network: str = NetworkOpt,
    outdoor: bool = typer.Option(False, "--outdoor", help="Plan for outdoor users (default: indoor, with building-entry loss)."),
    capacity: bool = typer.Option(False, "--capacity", help="Also carry the year's busy-hour traffic: add sites until "
                                  "no cell is capacity-limited (in-memory engine)."),
    time_limit: float = typer.Option(60.0, "--time-limit", help="Exact solver time limit, seconds."),
    seed: int = typer.Option(0, "--seed", min=0, help="Seed of modelled candidates."),
    candidates: str = CandidatesOpt,
    n_candidates: int = NCandidatesOpt,
    spacing: float = SpacingOpt,
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
    """Choose new sites: meet the plan's density target (and/or station count) and cover the most population, on
    inventory and generated candidates outside hard constraint zones, weighing site cost when asked."""
    check_scenario({"total": total, "year": year, "method": method, "band": band, "network": network, "seed": seed,
                    "time_limit_s": time_limit, "candidates": candidates, "n_candidates": n_candidates,
                    "candidate_spacing_m": spacing, "cost_weight": cost_weight}, where="the options",
                   label="[options]")
    check_out(out, layer="planned_sites", overwrite=overwrite)  # a bad output fails now, not after the work
    if years and (year is not None or total is not None):
        raise ConfigError("--years plans several years at once. Fix: give --years, or --year/--total, not both")
    if years and capacity:
        raise ConfigError("--capacity adds sites for one year's traffic, not for phases. Fix: leave out --capacity "
                          "with --years, or plan the last year with --year and --capacity")
    settings = PlanSettings(band=band, network=network, indoor=not outdoor, seed=seed, candidates=candidates,
                            mix=parse_mix(mix), n_candidates=n_candidates, candidate_spacing_m=spacing,
                            cost_weight=cost_weight)
    proj = resolve(plan, project, quiet=quiet)
    check_out(out, layer="planned_sites", overwrite=overwrite, protect=proj.input_files)
    statement = _statement(proj)
    kw: dict[str, Any] = dict(method=method, engine=engine, settings=settings, time_limit_s=time_limit,
                              basis=basis, population_year=population_year, meet=meet.value if meet else None,
                              quotas=quotas)
    with dask_client(scheduler) as client, progress_bar("placing sites", enabled=not quiet) as hook:
        ctx = _context(proj, settings, engine=engine, client=client,
                       wanted=out is not None and out.suffix.lower() == ".gpkg")
        if years:  # the context is built for settings.context_key(): the cost weight goes with settings
            ph = place_phased(proj, years=years, client=client, context=ctx, progress=hook, **kw)
        else:
            r1 = place_sites(proj, total=total, year=year, client=client, context=ctx, progress=hook,
                             capacity=capacity, **kw)
    res = ph.final if years else r1
    write_out(planfile.sites_plan(proj, res, context=ctx, total=total, time_limit_s=time_limit), out,
              layer="planned_sites", overwrite=overwrite, protect=proj.input_files)
    if years:
        _phased_output(ph, proj.name, out, fmt, statement, lang=lang)
        return
    data = res.to_dict() | {"out": str(out) if out else None}
    frame = {By.district: res.districts, By.kind: _by_kind(res), By.conflict: res.conflicts,
             By.site: pd.DataFrame(res.sites.drop(columns="geometry")).assign(
                 lon=res.sites.geometry.x.round(6), lat=res.sites.geometry.y.round(6))}[by]
    emit(data, fmt, frame=frame, footer=_footer(res, out, statement=statement),
         title=f"{proj.name}: planned 5G sites by {by.value}", lang=lang)


def _statement(proj: Project) -> str | None:
    """How the plan applies, when it is not the project's own."""
    p = plan_of(proj)
    a = p.application
    return None if a is None or a.kind == "own" else a.statement


def _context(proj: Project, settings: PlanSettings, *, engine: str, client: Any, wanted: bool) -> Any:
    """The planning context (in-memory engine only), built here when a plan file wants the coverage grid."""
    if not wanted or client is not None or choose_engine(proj, engine) != "memory":
        return None
    return planning_context(proj, settings=settings.context_key())
