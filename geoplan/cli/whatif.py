"""``geoplan whatif``: compare station totals (or scenario files) side by side."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from ..placement import PlanSettings
from ..scenarios import Scenario, load_scenarios, run_scenarios
from ._app import (
    BasisOpt,
    CandidatesOpt,
    Format,
    MixOpt,
    NCandidatesOpt,
    ProjectOpt,
    QuotasOpt,
    SpacingOpt,
    _exit_code,
    app,
    emit,
    err_console,
    parse_mix,
)
from ._progress import progress_bar
from ._resolve import resolve

__all__ = ["whatif_cmd"]


@app.command("whatif")
def whatif_cmd(
    total: list[int] = typer.Option(None, "--total", "-n", help="Station totals to compare (repeat or list)."),
    scenario: Path = typer.Option(None, "--scenario", "-s", help="Scenario TOML file ([[scenario]] tables)."),
    year: int = typer.Option(2025, "--year", "-y", help="Target year for the density quotas."),
    method: str = typer.Option("greedy", "--method", "-m", help="greedy or exact."),
    band: str = typer.Option("n78", "--band", help="Link-budget band."),
    outdoor: bool = typer.Option(False, "--outdoor", help="Plan for outdoor users (default: indoor)."),
    seed: int = typer.Option(0, "--seed", help="Seed of modelled candidates."),
    candidates: str = CandidatesOpt,
    n_candidates: int = NCandidatesOpt,
    spacing: float = SpacingOpt,
    mix: str = MixOpt,
    quotas: str = QuotasOpt,
    basis: str = BasisOpt,
    edge_count: int = typer.Option(None, "--edge-count", help="Also place this many edge data centres."),
    latency_ms: float = typer.Option(1.0, "--latency-ms", help="Latency budget of the edge data centres."),
    charging_share: float = typer.Option(None, "--charging-share", help="Also plan charging at this share (e.g. 0.2)."),
    plan: str = typer.Option(None, "--plan", help="Plan (xiamen, fujian)."),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="table, json or csv."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    project: Path = ProjectOpt,
) -> None:
    """Stations per 10k per district, districts meeting target and coverage for each scenario.

    A scenario that fails is reported with its error and the others still run;
    the exit code is then that of the (first) failure.
    """
    scenarios = list(load_scenarios(scenario)) if scenario else []
    settings = PlanSettings(band=band, indoor=not outdoor, seed=seed, candidates=candidates, mix=parse_mix(mix),
                            n_candidates=n_candidates, candidate_spacing_m=spacing)
    scenarios += [Scenario(name=f"{t:,}", total=t, year=year, method=method, settings=settings, edge_count=edge_count,
                           latency_ms=latency_ms, charging_share=charging_share, quotas=quotas, basis=basis)
                  for t in (total or [])]
    proj = resolve(plan, project, quiet=quiet)
    with progress_bar("what-if", enabled=not quiet and fmt is Format.table) as hook:
        wi = run_scenarios(proj, scenarios, progress=hook)
    if fmt is Format.table:
        metrics = wi.summary.set_index("scenario").T.reset_index(names="metric")
        metrics.columns = [str(c) for c in metrics.columns]
        emit({}, fmt, frame=metrics.astype(object), title=f"{proj.name}: what-if scenarios")
        if wi.results:
            pivot = wi.districts.pivot_table(index=["XZQDM", "XZQMC"], columns="scenario", values="per_10k",
                                             sort=False).reset_index()
            s0 = wi.results[0].summary
            binds = "every district" if s0.applies_to == "district" else "the total (districts for reference)"
            emit({}, fmt, frame=pivot, title="stations per 10k residents by district",
                 footer=[f"Target {s0.target_per_10k:g}/10k ({s0.year}), binding {binds}; deterministic for "
                         f"--seed {seed}."])
    else:
        emit(wi.to_dict(), fmt, frame=wi.districts)
    for f in wi.failures:
        err_console.print(f"[bold red]scenario {escape(repr(f.scenario))} failed[/] — {type(f.error).__name__}: "
                          f"{escape(str(f.error))}", highlight=False, soft_wrap=True)
    if wi.failures:
        raise typer.Exit(_exit_code(wi.failures[0].error))
