"""``geoplan export``: write a project's (or a scenario's) layers for the one-map system and GIS users."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import typer

from .. import export as gexport
from .. import io, onemap, planfile
from ..errors import ConfigError
from ..io import Raster
from ..project import Project
from ._app import Format, Lang, LangOpt, OverwriteOpt, ProjectOpt, app, emit
from ._resolve import resolve

__all__ = ["export_cmd", "scenario_layers"]


def scenario_layers(proj: Project, path: Path, *, name: str | None = None
                    ) -> tuple[dict[str, gpd.GeoDataFrame | Raster], dict[str, dict[str, Any]], int | None]:
    """Run one scenario of a scenario file; its layers, their metadata and its target year.

    Raises
    ------
    ConfigError
        When this geoplan has no scenario support, or ``name`` is not in the file.
    """
    from .. import scenarios

    found = scenarios.load_scenarios(path)
    if name is not None:
        found = [s for s in found if s.name == name]
        if not found:
            raise ConfigError(f"scenario file {path} has no scenario named {name!r}. Fix: use one of its names")
    if len(found) != 1:
        raise ConfigError(f"scenario file {path} holds {len(found)} scenarios "
                          f"({', '.join(s.name for s in found)}). Fix: choose one with --scenario-name")
    sc = found[0]
    res = scenarios.run_scenario(proj, sc)
    meta = {"planned_sites": {"source": f"scenario '{sc.name}' of {Path(path).name}", "modelled": True,
                              "method": f"geoplan placement ({sc.method})", "parameters": sc.to_dict()}}
    return {"planned_sites": res.sites}, meta, sc.year


@app.command("export")
def export_cmd(
    to: Path = typer.Option(None, "--to", "-o", help="Output: *.gpkg, *.gdb, a folder or *.zip (shp, geojson), "
                            "or *.shp / *.geojson for a single layer."),
    plan_files: list[Path] = typer.Option(None, "--from", help="Plan file(s) (*.gpkg written by place --out, "
                                          "whatif --out or the app): their layers go into the delivery. Repeat to "
                                          "combine plans (sites, edge, charging).", dir_okay=False),
    file_format: str | None = typer.Option(None, "--format", "-f",
                                    help="File format: gpkg, shp, gdb or geojson (default: from the --to "
                                    "suffix). table, json or csv set how the report is printed, as for "
                                    "every geoplan command (the same as --report)."),
    crs: str = typer.Option("4490", "--crs", help="4490 (CGCS2000 longitude/latitude, default), a Gauss-Krüger "
                            "code (4548 = 117°E, 4549 = 120°E, 4527 = zone 39 with prefix ...) or auto-gk."),
    zone_prefix: bool = typer.Option(False, "--zone-prefix",
                                     help="With --crs auto-gk: the zone-prefixed code (eastings like 39 500 000)."),
    encoding: str = typer.Option("UTF-8", "--encoding", help="Shapefile text encoding: UTF-8 or GBK."),
    year: int = typer.Option(None, "--year", "-y", help="Target year of the density results (default: the "
                             "plan file's or scenario's, else 2025)."),
    plan: str = typer.Option(None, "--plan", help="Plan whose targets apply; the project's own by default."),
    population_year: int = typer.Option(None, "--population-year",
                                        help="Population basis of the density results (default: census)."),
    scenario: Path = typer.Option(None, "--scenario", help="Scenario file (TOML): its planned sites are exported too.",
                                  dir_okay=False),
    scenario_name: str = typer.Option(None, "--scenario-name", help="Which scenario of the file to run."),
    mapping: Path = typer.Option(None, "--mapping", help="A bureau's mapping file (TOML) of layer names, element "
                                 "codes, field names and domain labels (default: the project's [onemap] mapping).",
                                 dir_okay=False),
    mapping_template: Path = typer.Option(None, "--mapping-template", help="Write every name and code geoplan "
                                          "uses as a mapping file to edit, and stop.", dir_okay=False),
    producer: str = typer.Option(None, "--producer", help="Organisation producing the delivery (metadata)."),
    report: Format = typer.Option(Format.table, "--report", "-r", help="How to print what was written: "
                                  "table, json or csv."),
    lang: Lang = LangOpt,
    overwrite: bool = OverwriteOpt,
    project: Path = ProjectOpt,
) -> None:
    """Export districts (with density results), sites, a plan's layers and tables as one-map GIS files."""
    if file_format is not None and file_format.lower() in Format.__members__:
        report, file_format = Format(file_format.lower()), None
    if mapping_template is not None:
        io.write_toml(onemap.mapping_template(onemap.load_mapping(mapping)), mapping_template, what="mapping file",
                      overwrite=overwrite)
        emit({"mapping_template": str(mapping_template)}, report if report is not Format.csv else Format.json,
             footer=[f"Mapping template written to {mapping_template}: edit names, codes and labels, then "
                     "export with --mapping."])
        return
    if to is None:
        raise ConfigError("export needs --to. Fix: e.g. --to delivery.gdb")
    if plan_files and scenario is not None:
        raise ConfigError("give --from (plan files) or --scenario, not both")
    pf = planfile.read_plans(plan_files) if plan_files else None
    if pf is not None and project is None and plan is None and pf.plan not in ("xiamen", "fujian", ""):
        raise ConfigError(f"the plan file was made on project {pf.project!r} (targets {pf.plan!r}), which has no "
                          "embedded project. Fix: pass --project with that project's geoplan.toml")
    proj = resolve(plan or (pf.plan if pf is not None and project is None else None), project, quiet=True)
    gexport.check_destination(to, format=file_format, overwrite=overwrite, protect=proj.input_files)
    extra: dict[str, gpd.GeoDataFrame | Raster] = {}
    meta: dict[str, dict[str, Any]] = {}
    sc_year = None
    if scenario is not None:
        extra, meta, sc_year = scenario_layers(proj, scenario, name=scenario_name)
    rep = gexport.export_project(proj, to, extra_layers=extra, plan_file=pf, year=year or sc_year, plan=plan,
                                 population_year=population_year, format=file_format, crs=crs,
                                 encoding=encoding, zone_prefix=zone_prefix, metadata=meta, mapping=mapping,
                                 producer=producer, overwrite=overwrite)
    frame = pd.DataFrame([{"layer": ly.name, "alias": ly.alias, "key": ly.key, "features": ly.features,
                           "geometry": ly.geometry, "file": ly.file} for ly in rep.layers])
    footer = [f"Wrote {rep.path} ({rep.format}, {rep.layout}) in {rep.crs} {rep.crs_name}"
              + (f", text encoding {rep.encoding}" if rep.format == "shp" else "") + "."]
    footer.append("Field aliases: " + ("in the file." if rep.aliases_in_format else "in the *.fields.csv sidecars.")
                  + " Coded values: " + ("domains in the file." if rep.domains_in_format else
                                         "label fields beside the codes.")
                  + f" Names and codes: {rep.mapping}.")
    footer += [f"[yellow]Note: {w}[/]" for w in rep.warnings]
    emit(rep.to_dict(), report, frame=frame, footer=footer, title="Exported layers", lang=lang)
