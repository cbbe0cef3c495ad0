"""``geoplan whatif``: compare station totals (or scenario files) side by side."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import typer
from rich.markup import escape

from .. import labels, planfile
from ..errors import ConfigError
from ..placement import PlanSettings, planning_context
from ..placement.sites import choose_engine
from ..scenarios import Scenario, WhatIf, load_scenarios, run_scenarios
from ._app import (
    BasisOpt,
    CandidatesOpt,
    Format,
    Lang,
    LangOpt,
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
    seed: int = typer.Option(0, "--seed", min=0, help="Seed of modelled candidates."),
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
    out: Path = typer.Option(None, "--out", "-o", help="Write one scenario's plan as a plan file (*.gpkg) for "
                             "export --from and report --from.", dir_okay=False),
    scenario_name: str = typer.Option(None, "--scenario-name", help="Which scenario --out writes (needed when "
                                      "there are several)."),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="table, json or csv."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    lang: Lang = LangOpt,
    project: Path = ProjectOpt,
) -> None:
    """Stations per 10k per district, districts meeting target and coverage for each scenario.

    A scenario that fails is reported with its error and the others still run;
    the exit code is then that of the (first) failure.
    """
    if out is not None and out.suffix.lower() != ".gpkg":
        raise ConfigError(f"--out writes a plan file, a GeoPackage: name it *.gpkg, not {out.name}")
    scenarios = list(load_scenarios(scenario)) if scenario else []
    settings = PlanSettings(band=band, indoor=not outdoor, seed=seed, candidates=candidates, mix=parse_mix(mix),
                            n_candidates=n_candidates, candidate_spacing_m=spacing)
    scenarios += [Scenario(name=f"{t:,}", total=t, year=year, method=method, settings=settings, edge_count=edge_count,
                           latency_ms=latency_ms, charging_share=charging_share, quotas=quotas, basis=basis)
                  for t in (total or [])]
    proj = resolve(plan, project, quiet=quiet)
    chosen = _chosen(scenarios, scenario_name) if out is not None else None
    with progress_bar("what-if", enabled=not quiet and fmt is Format.table) as hook:
        wi = run_scenarios(proj, scenarios, progress=hook)
    footer = []
    if chosen is not None and out is not None and chosen in wi.scenarios:  # a failed scenario has no plan
        k = wi.scenarios.index(chosen)
        ctx = planning_context(proj, settings=chosen.settings) if choose_engine(proj) == "memory" else None
        planfile.write_plan(planfile.scenario_plan(proj, chosen, wi.results[k], context=ctx), out)
        footer.append(f"Plan of scenario {chosen.name!r} written to {out} (plan file for export --from).")
    if fmt is Format.table:
        emit({}, fmt, frame=_metrics(wi), title=f"{proj.name}: what-if scenarios", lang=lang)
        if wi.results:
            pivot = wi.districts.pivot_table(index=["XZQDM", "XZQMC"], columns="scenario", values="per_10k",
                                             sort=False).reset_index()
            s0 = wi.results[0].summary
            binds = "every district" if s0.applies_to == "district" else "the total (districts for reference)"
            footer.insert(0, f"Target {s0.target_per_10k:g}/10k ({s0.year}), binding {binds}; deterministic for "
                          f"--seed {seed}.")
            emit({}, fmt, frame=pivot, title="stations per 10k residents by district", footer=footer, lang=lang)
    else:
        emit(wi.to_dict() | {"out": str(out) if out else None}, fmt, frame=wi.districts, lang=lang)
    for f in wi.failures:
        err_console.print(f"[bold red]scenario {escape(repr(f.scenario))} failed[/] — {type(f.error).__name__}: "
                          f"{escape(str(f.error))}", highlight=False, soft_wrap=True)
    if wi.failures:
        raise typer.Exit(_exit_code(wi.failures[0].error))


def _chosen(scenarios: list[Scenario], name: str | None) -> Scenario:
    """The scenario whose plan ``--out`` writes."""
    names = ", ".join(repr(s.name) for s in scenarios)
    found = [s for s in scenarios if name is None or s.name == name]
    if name is not None and not found:
        raise ConfigError(f"no scenario is named {name!r} (scenarios: {names}). Fix: give one of those names")
    if len(found) != 1:
        raise ConfigError(f"--out writes one scenario's plan but there are {len(found)} ({names}). "
                          "Fix: choose one with --scenario-name")
    return found[0]


def _metrics(wi: WhatIf) -> pd.DataFrame:
    """One column per scenario, one row per figure; shares and the gap as percentages, counts as integers."""
    summary = labels.tidy(wi.summary)
    rows = []
    for c in summary.columns[1:]:
        vals = [labels.percent(v) if labels.is_share(str(c)) else v for v in summary[c]]
        rows.append({"metric": "gap (%)" if c == "gap" else c, **dict(zip(summary["scenario"], vals, strict=True))})
    return pd.DataFrame(rows).astype(object)
