"""``geoplan check``: per-district density against the plan, plus plan consistency."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import typer

from ..chunked import CoverageReport
from ..networks import COUNTING_RULE, coverage_label
from ..plan_check import PlanCheck, check_plan
from ..targets.check import CheckReport
from ._app import BasisOpt, Format, Lang, LangOpt, NetworkOpt, ProjectOpt, app, emit
from ._progress import progress_bar
from ._resolve import resolve

__all__ = ["check_cmd"]


@app.command("check")
def check_cmd(
    year: int = typer.Option(2025, "--year", "-y", help="Target year of the plan (2023, 2024, 2025)."),
    plan: str = typer.Option(None, "--plan", help="Plan whose targets apply (xiamen, fujian); the project's own by default."),
    population_year: int = typer.Option(None, "--population-year",
                                        help="Scale district census shares to this year's year-end total."),
    coverage: bool = typer.Option(False, "--coverage", help="Also the population coverage and busy-hour capacity "
                                  "(the year's 5G users) of the existing stations per district."),
    network: str = NetworkOpt,
    outdoor: bool = typer.Option(False, "--outdoor", help="Coverage of outdoor users (default: indoor)."),
    basis: str = BasisOpt,
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="table, json or csv."),
    lang: Lang = LangOpt,
    project: Path = ProjectOpt,
) -> None:
    """Stations per 10k residents per district vs the plan's target, the shortfall, and the city total."""
    proj = resolve(plan, project, quiet=fmt is not Format.table)
    with progress_bar("coverage", enabled=coverage and fmt is Format.table) as hook:
        full = check_plan(proj, year=year, plan=plan, population_year=population_year, basis=basis,
                          coverage=coverage, network=network, indoor=not outdoor, progress=hook)
    rep = full.density
    data = full.to_dict()
    title = (f"{rep.area_name}: 5G stations per 10k residents vs {rep.year} target "
             f"({rep.plan.document or rep.plan.title})")
    emit(data, fmt, frame=_density_frame(rep), footer=_footer(full), title=title, lang=lang)
    if full.coverage is not None and fmt is Format.table:
        _coverage_table(full.coverage, fmt, lang)


def _density_frame(rep: CheckReport) -> pd.DataFrame:
    """The district table with the area's total as its last row."""
    tot = rep.total
    frame = rep.table.copy()
    total_row = {"XZQDM": rep.area_code or "", "XZQMC": f"{rep.area_name} (total)", "population": tot.population,
                 "stations": tot.stations, "per_10k": tot.per_10k, "target_per_10k": tot.target_per_10k,
                 "required": tot.required, "shortfall": tot.shortfall, "meets_target": tot.shortfall == 0,
                 "binding": True}
    for k, v in (tot.stations_by_network or {}).items():
        total_row[f"stations_{k}"] = v
    if tot.operator_counted is not None:
        total_row["operator_counted"] = tot.operator_counted
    frame.loc[len(frame)] = total_row
    return frame


def _footer(full: PlanCheck) -> list[str]:
    """The lines under the density table: basis, plan statements, counts, edge, charging, modelled layers."""
    rep = full.density
    tot = rep.total
    footer = [f"Population basis: {rep.basis['description']}."]
    if rep.applies_to == "area":
        footer.append(f"The plan states one density figure for the whole of {rep.plan.scope}: the total binds, "
                      "districts are shown for reference (binding = no; --quotas district in place sites to "
                      "hold every district to it).")
    if rep.plan.application is not None and rep.plan.application.kind != "own":
        footer.append(f"[yellow]{rep.plan.application.statement}[/]")
    if rep.plan.modelled:
        footer.append(f"[yellow]The targets ({rep.plan.source}) are labelled modelled: {rep.plan.note}[/]")
    if tot.stations_target is not None:
        footer.append(f"Station count for {rep.year}: {tot.stations:,} of {tot.stations_target:,} "
                      f"({tot.stations_short:,} to build).")
    if tot.operator_counted is not None and tot.operator_counted != tot.stations:
        footer.append(f"Stations: {tot.stations:,} physical stations (the plan's count); counted once per operator "
                      f"that uses them {tot.operator_counted:,} (operator_counted). {COUNTING_RULE}")
    st = rep.consistency.get("station_target")
    if st:
        footer.append(
            f"Plan consistency: {st['stations']:,} stations at {tot.target_per_10k:g}/10k imply "
            f"{st['implied_population_at_target_density']:,.0f} residents "
            f"({st['implied_vs_census']:.1%} of the census"
            + (f", {st['implied_vs_latest_yearend']:.1%} of the latest year-end)" if "implied_vs_latest_yearend" in st else ")")
            + f"; {st['to_build_from_current']:,} stations still to build to reach {st['stations']:,}.")
    base = rep.consistency.get("baseline")
    if base:
        footer.append(f"Baseline {base['year']}: plan {base['plan_per_10k']}/10k; this sites layer gives "
                      f"{base['layer_per_10k_at_baseline_population']}/10k on the same basis ({base['basis']}).")
    edge = full.edge_dc
    if edge is not None and edge.latency.radius_km is not None:
        lat = edge.latency
        footer.append(f"Edge data centres: {edge.total} of {edge.target} ({edge.target_year}); "
                      f"{lat.target_ms:g} ms {lat.model['reading']} circle = {lat.radius_km:g} km radius, "
                      f"{(lat.population_within_share or 0.0):.1%} of residents inside. `geoplan place edge` plans the rest."
                      + (f" The circle does not bind here: the {lat.radius_km:g} km radius spans the whole populated "
                         f"area ({lat.extent_km:g} km corner to corner)." if lat.can_bind is False else ""))
    chg = full.charging
    if chg is not None and chg.new_car_parks is not None:
        footer.append(f"Charging: {chg.compliant}/{chg.new_car_parks} new public car parks reach "
                      f"{chg.target_share:.0%} charging spaces ({(chg.share_built or 0.0):.1%} overall); "
                      f"{chg.to_add:,} spaces to add ({chg.from_reserved:,} on reserved spaces). "
                      f"`geoplan place charging` plans them.")
    if chg is not None and chg.service_radius is not None and chg.service_radius.assumption:
        sr = chg.service_radius
        footer.append(f"Charging service radius: {sr.core_within_share:.1%} of core residents within {sr.radius_m:g} m "
                      f"of a public station — [yellow]the {sr.radius_m:g} m radius is an assumption from outside both "
                      "plans[/] (2016-2020 厦门 charging special plan).")
    if tot.districts_without_statistics:
        footer.append(f"No population statistics (left out of totals and targets): "
                      f"{', '.join(map(str, tot.districts_without_statistics))}.")
    if rep.modelled_layers:
        footer.append(f"[yellow]Modelled (synthetic) layers in use: {', '.join(rep.modelled_layers)}.[/]")
    return footer


def _coverage_table(cov: CoverageReport, fmt: Format, lang: Lang) -> None:
    """The coverage and capacity table of the existing stations, with what its figures refer to."""
    t = cov.total
    cols = [c for c in ("XZQDM", "XZQMC", "coverage", "covered_population", "demand_mbps", "unserved_mbps",
                        "limited_cells", "capacity_limited") if c in cov.table.columns]
    lines = [f"Coverage refers to {coverage_label(t.network, t.band, t.users)}: {t.coverage or 0.0:.1%} of "
             f"{t.population:,.0f} residents (covered shares of 100 m cells, radius of the receiving cell)."]
    if t.year is not None:
        lines.append(f"Busy-hour capacity {t.year}: {(t.demand_mbps or 0.0) / 1e3:,.1f} Gbit/s demand, "
                     f"{t.unserved_mbps or 0.0:,.1f} Mbit/s unserved, {t.limited_cells or 0:,} capacity-limited "
                     f"cells in {t.limited_districts or 0} districts.")
    emit({}, fmt, frame=cov.table[cols], footer=lines, title="coverage and capacity of the existing stations",
         lang=lang)
