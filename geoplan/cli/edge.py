"""``geoplan place edge``: edge data centres within the plan's latency circle."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer

from .. import labels, planfile
from ..edge import place_edge
from ..errors import ConfigError
from ..latency import LatencyModel
from ..targets import plan_of
from ._app import Format, Lang, LangOpt, OverwriteOpt, ProjectOpt, check_out, emit, place_app, write_out
from ._resolve import resolve

__all__ = ["place_edge_cmd"]



class By(str, Enum):
    """Rows of the printed table."""

    district = "district"
    site = "site"
    demand = "demand"


@place_app.command("edge")
def place_edge_cmd(
    count: int = typer.Option(None, "--count", "-n", help="Edge data centres in total, existing included "
                              "(default: the plan's target, e.g. 32 for Xiamen)."),
    latency_ms: float = typer.Option(None, "--latency-ms", help="Latency budget of the circle, ms "
                                     "(default: the plan's, 1 ms)."),
    round_trip: bool = typer.Option(False, "--round-trip", help="Read the budget as round trip (default: one way, "
                                    "as MIIT's optical-layer 1 ms circle)."),
    route_factor: float = typer.Option(1.5, "--route-factor", help="Fibre route length / straight-line distance."),
    equipment_ms: float = typer.Option(0.1, "--equipment-ms", help="One-way equipment delay on the path, ms."),
    fibre_us_per_km: float = typer.Option(5.0, "--fibre-us-per-km", help="Fibre delay, µs/km (ITU-T G.114: 5)."),
    objective: str = typer.Option("median", "--objective", help="median (weighted mean latency) or center (worst)."),
    method: str = typer.Option("greedy", "--method", "-m", help="greedy (greedy + swaps) or exact (HiGHS); "
                               "'heuristic' is the old name of greedy."),
    candidates: str = typer.Option("auto", "--candidates", help="Where new data centres may go: sites (the project's "
                                   "[edge_sites] telecom offices and substations), demand (demand points and populated "
                                   "blocks), all, or auto (sites when the project has any)."),
    min_racks: float = typer.Option(0.0, "--min-racks", help="Leave out candidate sites with room for fewer standard "
                                    "racks (2.5 kW each)."),
    spacing: float = typer.Option(2000.0, "--candidate-spacing-m", help="Block size of populated-cell candidates, m."),
    keep_planned: bool = typer.Option(True, "--keep-planned/--no-keep-planned",
                                      help="Keep planned sites of the edge_dc layer as fixed."),
    time_limit: float = typer.Option(60.0, "--time-limit", help="Exact solver time limit, seconds."),
    by: By = typer.Option(By.district, "--by", help="Table rows: district, site or demand (latency per point)."),
    out: Path = typer.Option(None, "--out", "-o", help="Write the chosen sites: *.gpkg is a plan file for export "
                             "--from and report --from; *.geojson / *.shp the sites alone."),
    overwrite: bool = OverwriteOpt,
    plan: str = typer.Option(None, "--plan", help="Plan (xiamen, fujian): without --project, its embedded project."),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="table, json or csv."),
    lang: Lang = LangOpt,
    project: Path = ProjectOpt,
) -> None:
    """Place edge data centres on telecom and power-grid sites: cover the demand points within the latency circle,
    then minimise latency; report racks and kW against the plan and whether the latency circle binds."""
    check_out(out, layer="edge_dc", overwrite=overwrite)  # a bad output fails now, not after the work
    proj = resolve(plan, project)
    check_out(out, layer="edge_dc", overwrite=overwrite, protect=proj.input_files)
    p = plan_of(proj, plan)
    if count is None:
        t = p.target("edge_dc")  # a parent plan's withheld count raises with its statement
        if t is None:
            raise ConfigError(f"plan '{p.key}' states no number of edge data centres. Fix: give --count N")
        count = int(t.by_year[max(t.by_year)])
    if latency_ms is None:
        lt = p.target("latency_ms")
        if lt is None:
            raise ConfigError(f"plan '{p.key}' states no latency circle. Fix: give --latency-ms (e.g. 1)")
        latency_ms = float(lt.by_year[max(lt.by_year)])
    method = {"heuristic": "greedy"}.get(method, method)
    model = LatencyModel(fibre_us_per_km=fibre_us_per_km, route_factor=route_factor, equipment_ms=equipment_ms,
                         round_trip=round_trip)
    res = place_edge(proj, count=count, latency_ms=latency_ms, latency=model, objective=objective, method=method,
                     candidate_spacing_m=spacing, keep_planned=keep_planned, time_limit_s=time_limit,
                     candidates=candidates, min_racks=min_racks)
    write_out(planfile.edge_plan(proj, res), out, layer="edge_dc", overwrite=overwrite, protect=proj.input_files)
    s = res.summary
    data = res.to_dict() | {"out": str(out) if out else None}
    frame = {By.district: res.districts, By.demand: res.demand,
             By.site: res.sites.drop(columns="geometry").assign(lon=res.sites.geometry.x.round(6),
                                                                lat=res.sites.geometry.y.round(6))}[by]
    gap = "" if s.gap is None else f", gap {labels.percent(s.gap)}"
    footer = [
        f"{s.count} edge data centres ({s.existing} existing, {s.planned_kept} planned kept, {s.new} new; "
        f"{s.kind} objective, {s.method}, status {s.status}{gap}, {s.runtime_s:.2f} s).",
        f"Latency circle: {s.latency_budget_ms:g} ms {s.latency_model['reading']} → {s.fibre_km:g} km of "
        f"fibre → {s.radius_km:g} km straight-line radius (route factor {route_factor:g}, equipment "
        f"{equipment_ms:g} ms, {fibre_us_per_km:g} µs/km).",
        f"Demand within the circle: {s.covered_share:.2%} of weight; uncovered: {s.uncovered_points} points, "
        f"weight {s.uncovered_weight:g}. One-way latency mean {s.mean_latency_ms:.3f} ms, worst "
        f"{s.max_latency_ms:.3f} ms (round trip {s.max_rtt_ms:.3f} ms); residents within the circle "
        f"{s.population_within_share:.2%}.",
    ]
    if s.latency_binding is not None:
        footer.append(s.latency_binding.statement)
    if s.capacity is not None:
        footer.append(f"Capacity: {s.capacity.statement}.")
    if s.modelled_layers:
        footer.append(f"[yellow]Modelled (synthetic) layers in use: {', '.join(s.modelled_layers)}.[/]")
    if out is not None:
        footer.append(f"Sites written to {out}.")
    emit(data, fmt, frame=frame, footer=footer, title=f"{proj.name}: edge data centres by {by.value}", lang=lang)
