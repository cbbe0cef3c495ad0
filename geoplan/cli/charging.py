"""``geoplan place charging``: the charging-space share in new car parks, and service-radius gaps."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer

from .. import planfile
from ..charging import CORE_DENSITY_KM2, SERVICE_RADIUS_M, place_charging
from ..errors import ConfigError
from ..targets import plan_of
from ._app import Format, Lang, LangOpt, OverwriteOpt, ProjectOpt, check_out, emit, place_app, write_out
from ._resolve import resolve

__all__ = ["place_charging_cmd"]


class By(str, Enum):
    """Rows of the printed table."""

    district = "district"
    car_park = "car_park"
    station = "station"


@place_app.command("charging")
def place_charging_cmd(
    share: float = typer.Option(None, "--share", help="Required share of spaces with chargers in new public car "
                                "parks (default: the plan's, e.g. 0.20 in Xiamen)."),
    radius_m: float = typer.Option(SERVICE_RADIUS_M, "--radius-m", help="Public charging service radius, m. The "
                                   "900 m default is an ASSUMPTION from outside both 2023-2025 plans (the 2016-2020 "
                                   "厦门 charging special plan: core area < 900 m)."),
    core_density: float = typer.Option(CORE_DENSITY_KM2, "--core-density", help="Residents per km² from which a "
                                       "cell is core area (0: all populated cells)."),
    new_stations: int = typer.Option(None, "--new-stations", min=0, help="Place exactly this many new stations "
                                     "(default: as few as reach --target-share)."),
    target_share: float = typer.Option(1.0, "--target-share", help="Share of core residents to bring within the radius."),
    include_planned: bool = typer.Option(False, "--include-planned", help="Count planned stations as existing."),
    by: By = typer.Option(By.district, "--by", help="Table rows: district, car_park or station."),
    out: Path = typer.Option(None, "--out", "-o", help="Write the plan: *.gpkg is a plan file (new stations and the "
                             "car parks' compliance) for export --from and report --from; *.geojson / *.shp the "
                             "new stations alone."),
    overwrite: bool = OverwriteOpt,
    plan: str = typer.Option(None, "--plan", help="Plan (xiamen, fujian): without --project, its embedded project."),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="table, json or csv."),
    lang: Lang = LangOpt,
    project: Path = ProjectOpt,
) -> None:
    """Per car park: spaces to equip for the share rule; where new public stations close service-radius gaps."""
    check_out(out, layer="charging_stations", overwrite=overwrite)  # a bad output fails now, not after the work
    proj = resolve(plan, project)
    check_out(out, layer="charging_stations", overwrite=overwrite, protect=proj.input_files)
    if share is None:
        p = plan_of(proj, plan)
        t = p.target("charging_share")
        if t is None:
            raise ConfigError(f"plan '{p.key}' states no share of charging spaces in new public car parks. "
                              "Fix: give --share (e.g. 0.2)")
        share = float(t.by_year[max(t.by_year)])
    res = place_charging(proj, share=share, radius_m=radius_m, core_density_km2=core_density,
                         new_stations=new_stations, target_share=target_share, include_planned=include_planned)
    write_out(planfile.charging_plan(proj, res), out, layer="charging_stations", overwrite=overwrite,
              protect=proj.input_files)
    s = res.summary
    n = s.new_car_parks
    data = res.to_dict() | {"out": str(out) if out else None}
    frame = {By.district: res.districts, By.car_park: res.compliance.table,
             By.station: res.stations.drop(columns="geometry").assign(lon=res.stations.geometry.x.round(6),
                                                                      lat=res.stations.geometry.y.round(6))}[by]
    built = "–" if n.share_built is None else f"{n.share_built:.1%}"
    footer = [
        f"New public car parks: {n.compliant}/{n.car_parks} meet the {share:.0%} rule; "
        f"{n.to_add:,} charging spaces to add ({n.from_reserved:,} on reserved spaces, "
        f"{n.new_fitout:,} new fit-outs); built share {built} of {n.spaces:,} spaces.",
        f"Core residents (≥ {s.core_density_km2:g}/km²) beyond {s.radius_m:g} m of a public station: "
        f"{s.core_beyond_now:,.0f} now, {s.core_beyond_after_compliance:,.0f} after compliance, "
        f"{s.core_beyond_after:,.0f} with {s.new_stations:,} new stations "
        f"({s.new_stations_at_car_parks:,} at existing car parks).",
    ]
    if s.radius_assumption:
        footer.append(f"[yellow]Service radius: {s.radius_note}.[/]")
    if s.modelled_layers:
        footer.append(f"[yellow]Modelled (synthetic) layers in use: {', '.join(s.modelled_layers)}.[/]")
    if out is not None:
        footer.append(f"New stations written to {out}.")
    emit(data, fmt, frame=frame, footer=footer, title=f"{proj.name}: EV charging by {by.value}", lang=lang)
