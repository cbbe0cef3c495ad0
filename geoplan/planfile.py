"""The plan file: one GeoPackage that carries a plan from where it was made to the delivery.

``geoplan place sites|edge|charging --out plan.gpkg``, ``geoplan whatif --out``
and the map app's downloads write it; ``geoplan export --from plan.gpkg`` and
``geoplan report --from plan.gpkg`` read it (several plan files combine: sites
from one command, edge data centres from another). It holds, under geoplan's
layer keys and canonical field names:

* ``planned_sites`` (with ``BUILD_YEAR``), ``edge_dc``, ``charging_stations``
  (new stations) and ``car_parks`` (with the share-rule compliance of each car park);
* ``density``: the per-district table of the plan (stations per 10k against the
  target, coverage before/after) and, when present, ``conflicts`` (siting constraints);
* ``coverage``: the coverage grid as a tiled raster inside the GeoPackage;
* ``geoplan_plan``: one row per layer — source, whether modelled, method, parameters
  — and a ``plan`` row with the project, plan, target year, settings and the summary
  of every command that contributed (layout :data:`SCHEMA`).

Field aliases and coded-value domains are written as in a one-map GeoPackage,
so QGIS shows Chinese names and labels. Only :mod:`geoplan.io` touches the disk.

Examples
--------
>>> import geoplan as gp, tempfile, pathlib
>>> from geoplan.placement import place_sites, planning_context
>>> proj = gp.load_project()
>>> ctx = planning_context(proj)
>>> plan = sites_plan(proj, place_sites(proj, year=2025, context=ctx), context=ctx)
>>> with tempfile.TemporaryDirectory() as d:
...     _ = write_plan(plan, pathlib.Path(d) / "p.gpkg")
...     back = read_plan(pathlib.Path(d) / "p.gpkg")
>>> sorted(back.layers), back.year, int(back.layers["planned_sites"]["BUILD_YEAR"].iloc[0])
(['conflicts', 'coverage', 'density', 'planned_sites'], 2025, 2025)
>>> back.metadata["planned_sites"]["parameters"]["method"]
'greedy'
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

import geopandas as gpd
import numpy as np
import pandas as pd

from . import io
from ._json import plain
from .errors import ConfigError, ReadError
from .io import FieldDomain, OutLayer, Raster
from .layers import layer_spec
from .networks import coverage_label
from .onemap import default_onemap
from .project import Project

if TYPE_CHECKING:
    from .charging import ChargingPlan
    from .edge import EdgePlan
    from .placement import PlanningContext, PlanResult
    from .scenarios import Scenario

__all__ = ["SCHEMA", "PLAN_TABLE", "PLAN_KEYS", "PlanFile", "sites_plan", "site_layers_plan", "edge_plan",
           "charging_plan", "scenario_plan", "merge_plans", "write_plan", "read_plan", "read_plans",
           "plan_bytes", "density_table", "with_build_year"]

#: Identifier of the plan file's layout (in its ``geoplan_plan`` table).
SCHEMA = "geoplan.plan/1"
#: Name of the table describing the plan and each layer.
PLAN_TABLE = "geoplan_plan"
#: Layers and tables a plan file may hold, in order.
PLAN_KEYS: tuple[str, ...] = ("planned_sites", "edge_dc", "charging_stations", "car_parks", "coverage",
                              "density", "conflicts")

Layer: TypeAlias = gpd.GeoDataFrame | Raster | pd.DataFrame


@dataclass(frozen=True, eq=False)
class PlanFile:
    """A plan's layers and tables, how each was made, and what it achieves.

    Attributes
    ----------
    project : str
        Name of the project it was made on (``export`` and ``report`` check it).
    plan : str
        Key of the plan whose targets it answers (``xiamen``, ``fujian`` ...).
    year : int or None
        Target year (``None`` for plans without one, e.g. edge data centres alone).
    layers : dict
        Key → GeoDataFrame (EPSG:4490), :class:`~geoplan.io.Raster` (``coverage``) or
        DataFrame (``density``, ``conflicts``); keys from :data:`PLAN_KEYS`.
    metadata : dict
        Key → ``source``, ``modelled``, ``method``, ``parameters`` (dict), ``note``.
    summary : dict
        Command → its JSON summary (``place_sites``, ``edge``, ``charging``), as printed.
    created, geoplan_version : str
        When and by which geoplan it was made.
    """

    project: str
    plan: str
    year: int | None
    layers: dict[str, Layer]
    metadata: dict[str, dict[str, Any]] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    created: str = ""
    geoplan_version: str = ""

    def __post_init__(self) -> None:
        unknown = set(self.layers) - set(PLAN_KEYS)
        if unknown:
            raise ConfigError(f"a plan file holds {', '.join(PLAN_KEYS)}; not {', '.join(sorted(unknown))}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description (no geometry): project, plan, year, layers with feature counts, metadata."""
        return {"schema": SCHEMA, "project": self.project, "plan": self.plan, "year": self.year,
                "created": self.created, "geoplan_version": self.geoplan_version,
                "layers": {k: _features(v) for k, v in self.layers.items()},
                "metadata": plain(self.metadata), "summary": plain(self.summary)}

    def check_project(self, proj: Project) -> None:
        """Refuse a project other than the one the plan was made on."""
        if self.project and self.project != proj.name:
            raise ConfigError(f"the plan was made on project {self.project!r}, not {proj.name!r}. "
                              "Fix: give the same project with --project (or --plan for an embedded one)")


def with_build_year(planned: gpd.GeoDataFrame, year: int) -> gpd.GeoDataFrame:
    """Planned sites with ``BUILD_YEAR``: the plan's phases where given, else the target ``year``.

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> p = gpd.GeoDataFrame({"BUILD_YEAR": [2024, None]}, geometry=[Point(0, 0)] * 2, crs=4490)
    >>> with_build_year(p, 2025)["BUILD_YEAR"].tolist()
    [2024, 2025]
    """
    out = planned.copy()
    given = pd.to_numeric(out["BUILD_YEAR"], errors="coerce") if "BUILD_YEAR" in out.columns else \
        pd.Series(np.nan, index=out.index)
    out["BUILD_YEAR"] = given.fillna(year).astype(np.int64)
    return out


def _features(obj: Layer) -> int:
    return int(obj.valid.sum()) if isinstance(obj, Raster) else len(obj)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _version() -> str:
    import geoplan

    return str(geoplan.__version__)


def _modelled_inputs(proj: Project, keys: Sequence[str]) -> list[str]:
    return [k for k in keys if (k in proj.layers or k == "population") and proj.is_modelled(k)]


#: Per-district plan table column → ``density`` field.
_DENSITY_FIELDS = {"XZQDM": "XZQDM", "XZQMC": "XZQMC", "population": "POP", "existing": "EXISTING", "new": "NEW",
                   "stations": "STATIONS", "per_10k": "PER_10K", "target_per_10k": "TARGET",
                   "shortfall": "SHORTFALL", "meets_target": "MEETS", "coverage_before": "COV_BEFORE",
                   "coverage_after": "COV_AFTER"}


def density_table(districts: pd.DataFrame) -> pd.DataFrame:
    """A plan's per-district table (:func:`geoplan.placement.results.district_table`) as the ``density`` table."""
    cols = [c for c in _DENSITY_FIELDS if c in districts.columns]
    out = districts[cols].rename(columns=_DENSITY_FIELDS).reset_index(drop=True)
    if "MEETS" in out.columns:
        out["MEETS"] = pd.array([None if v is None or v != v else int(bool(v)) for v in out["MEETS"]],
                                dtype="Int64")
    for c in ("POP", "PER_10K", "COV_BEFORE", "COV_AFTER"):
        if c in out.columns:
            out[c] = pd.to_numeric(out[c], errors="coerce").round(4 if c.startswith("COV") else 2)
    return out


def site_layers_plan(proj: Project, sites: gpd.GeoDataFrame, districts: pd.DataFrame, *, year: int,
                     method: str, parameters: Mapping[str, Any], summary: Mapping[str, Any] | None = None,
                     coverage: Raster | None = None, modelled: bool = True, note: str = "",
                     conflicts: pd.DataFrame | None = None) -> PlanFile:
    """A plan file of planned sites, their district table and coverage grid, from any caller (CLI, app).

    Parameters
    ----------
    proj : Project
    sites : GeoDataFrame
        Planned sites with the ``planned_sites`` fields (``BUILD_YEAR`` is filled with ``year`` where absent).
    districts : DataFrame
        Per-district table of the plan (XZQDM, XZQMC, population, existing, new, stations, per_10k ...).
    year : int
        Target year.
    method : str
        How the sites were chosen, in words (e.g. ``"geoplan.placement.place_sites, greedy"``).
    parameters : mapping
        Every setting that made them (total, year, method, band, indoor, mix, seed, candidates ...).
    summary : mapping, optional
        The plan's totals (JSON), kept under ``summary["place_sites"]``.
    coverage : Raster, optional
        The coverage grid (:func:`geoplan.coverage_grid.coverage_grid`).
    modelled : bool
        Whether the sites rest on modelled (synthetic) data.
    note : str
        Anything the receiver should know.
    conflicts : DataFrame, optional
        The plan's siting-constraint conflicts (``PlanResult.conflicts``, spec ``layers/conflicts.toml``);
        written when it has rows.
    """
    layers: dict[str, Layer] = {"planned_sites": with_build_year(sites.to_crs(4490).reset_index(drop=True), year),
                                "density": density_table(districts)}
    how = {"source": f"geoplan placement on project {proj.name}", "modelled": bool(modelled), "method": method,
           "parameters": plain(dict(parameters)), "note": note}
    meta = {"planned_sites": how, "density": {**how, "method": f"{method}; stations per 10k residents by district"}}
    if coverage is not None:
        layers["coverage"] = coverage
        meta["coverage"] = {**how, "method": f"{method}; coverage of populated cells (0 none, 1 existing, 2 new)"}
    if conflicts is not None and len(conflicts):
        layers["conflicts"] = conflicts.reset_index(drop=True)
        meta["conflicts"] = {**how, "method": f"{method}; planned sites in siting-constraint zones (one row per "
                             "site and zone)"}
    return PlanFile(project=proj.name, plan=proj.plan, year=int(year), layers=layers, metadata=meta,
                    summary={"place_sites": plain(dict(summary or {}))}, created=_now(), geoplan_version=_version())


def sites_plan(proj: Project, res: PlanResult, *, context: PlanningContext | None = None,
               total: int | None = None, time_limit_s: float | None = None) -> PlanFile:
    """The plan file of :func:`geoplan.placement.place_sites`' result.

    With the planning ``context`` it was made on (in-memory engine), the coverage
    grid goes in too; the county-by-county engine has none.
    """
    s = res.summary
    params: dict[str, Any] = {"total": total, "year": s.year, "method": s.method, "engine": s.engine,
                              **res.settings.to_dict(), "time_limit_s": time_limit_s, "status": s.status,
                              "gap": s.gap, "candidate_sites": s.candidates, "candidates_modelled": s.candidates_modelled,
                              "users": s.users, "budget_new": s.budget_new}
    grid = None
    note = ""
    if context is not None:
        from .coverage_grid import coverage_grid

        grid = coverage_grid(context, res.placement.selected)
    else:
        note = "no coverage grid: the sites were placed county by county"
    modelled = s.candidates_modelled or bool(_modelled_inputs(proj, ("population", "sites", "candidates")))
    how = (f"geoplan.placement.place_sites ({s.method}, {s.engine} engine; coverage of "
           f"{coverage_label(s.network, s.band, s.users)})")
    return site_layers_plan(proj, res.sites, res.districts, year=s.year, method=how,
                            parameters={k: v for k, v in params.items() if v is not None},
                            summary=s.to_dict(), coverage=grid, modelled=modelled, note=note,
                            conflicts=res.conflicts)


def edge_plan(proj: Project, res: EdgePlan) -> PlanFile:
    """The plan file of :func:`geoplan.edge.place_edge`' result (the chosen edge data centres)."""
    s = res.summary
    params = {"count": s.count, "latency_budget_ms": s.latency_budget_ms, "latency_model": s.latency_model,
              "objective": s.kind, "method": s.method, "status": s.status, "gap": s.gap,
              "candidates": s.candidates, "radius_km": s.radius_km}
    meta = {"edge_dc": {"source": f"geoplan edge placement on project {proj.name}",
                        "modelled": bool(s.modelled_layers), "method": f"geoplan.edge.place_edge (p-{s.kind}, "
                        f"{s.method})", "parameters": plain(params),
                        "note": f"modelled inputs: {', '.join(s.modelled_layers)}" if s.modelled_layers else ""}}
    return PlanFile(project=proj.name, plan=proj.plan, year=None,
                    layers={"edge_dc": res.sites.to_crs(4490).reset_index(drop=True)}, metadata=meta,
                    summary={"edge": s.to_dict()}, created=_now(), geoplan_version=_version())


def _compliance_layer(proj: Project, res: ChargingPlan) -> gpd.GeoDataFrame:
    """The project's car parks with the share-rule figures of each (same row order)."""
    cp = proj.layers["car_parks"].reset_index(drop=True)
    t = res.compliance.table.reset_index(drop=True)
    out = cp.copy()
    out["SHARE_BLT"] = t["share_built"].to_numpy(dtype=float).round(4)
    for src, dst in (("required", "CHG_REQ"), ("to_add", "CHG_ADD"), ("from_reserved", "ADD_RESV"),
                     ("new_fitout", "ADD_FITOUT")):
        out[dst] = t[src].to_numpy(dtype=np.int64)
    out["COMPLIANT"] = t["compliant"].to_numpy().astype(np.int64)
    return out.to_crs(4490)


def charging_plan(proj: Project, res: ChargingPlan) -> PlanFile:
    """The plan file of :func:`geoplan.charging.place_charging`' result: new stations, car-park compliance."""
    s = res.summary
    params = {"share": s.share, "radius_m": s.radius_m, "radius_source": s.radius_source,
              "core_density_km2": s.core_density_km2, "target_share": s.target_share,
              "placement_method": s.placement_method, "candidates": s.candidates}
    how = {"source": f"geoplan charging plan on project {proj.name}", "modelled": bool(s.modelled_layers),
           "parameters": plain(params),
           "note": f"modelled inputs: {', '.join(s.modelled_layers)}" if s.modelled_layers else ""}
    meta = {"charging_stations": {**how, "method": f"geoplan.charging.place_charging (service-radius gaps, "
                                  f"{s.placement_method})"},
            "car_parks": {**how, "method": f"geoplan.charging share rule: {s.share:.0%} of spaces in new public "
                          "car parks equipped"}}
    layers: dict[str, Layer] = {"charging_stations": res.stations.to_crs(4490).reset_index(drop=True),
                                "car_parks": _compliance_layer(proj, res)}
    return PlanFile(project=proj.name, plan=proj.plan, year=None, layers=layers, metadata=meta,
                    summary={"charging": s.to_dict()}, created=_now(), geoplan_version=_version())


def scenario_plan(proj: Project, scenario: Scenario, res: PlanResult, *,
                  context: PlanningContext | None = None) -> PlanFile:
    """The plan file of one what-if scenario: its sites and, when it asks for them, edge and charging plans."""
    plan = sites_plan(proj, res, context=context, total=scenario.total, time_limit_s=scenario.time_limit_s)
    meta = dict(plan.metadata)
    meta["planned_sites"] = {**meta["planned_sites"], "source": f"scenario {scenario.name!r} on project {proj.name}",
                             "parameters": {**meta["planned_sites"]["parameters"], **plain(scenario.to_dict())}}
    parts = [dataclasses.replace(plan, metadata=meta)]
    if scenario.edge_count is not None:
        from .edge import place_edge

        parts.append(edge_plan(proj, place_edge(proj, count=scenario.edge_count, latency_ms=scenario.latency_ms)))
    if scenario.charging_share is not None:
        from .charging import place_charging

        parts.append(charging_plan(proj, place_charging(proj, share=scenario.charging_share,
                                                        radius_m=scenario.charging_radius_m)))
    return merge_plans(parts)


def merge_plans(plans: Sequence[PlanFile]) -> PlanFile:
    """One plan of several (sites from one command, edge data centres from another ...).

    Raises
    ------
    ConfigError
        Plans of different projects or target years, or two plans holding the same layer.
    """
    if not plans:
        raise ConfigError("no plan to merge. Fix: give at least one plan file")
    first = plans[0]
    layers: dict[str, Layer] = {}
    meta: dict[str, dict[str, Any]] = {}
    summary: dict[str, Any] = {}
    years = {p.year for p in plans if p.year is not None}
    for p in plans:
        if p.project != first.project:
            raise ConfigError(f"the plans were made on different projects ({first.project!r}, {p.project!r}). "
                              "Fix: combine plans of one project")
        both = set(p.layers) & set(layers)
        if both:
            raise ConfigError(f"two plans hold the layer(s) {', '.join(sorted(both))}. Fix: give each layer once")
        layers.update(p.layers)
        meta.update(p.metadata)
        summary.update(p.summary)
    if len(years) > 1:
        raise ConfigError(f"the plans answer different target years ({', '.join(map(str, sorted(years)))}). "
                          "Fix: combine plans made for one year")
    return PlanFile(project=first.project, plan=first.plan, year=next(iter(years), None),
                    layers={k: layers[k] for k in PLAN_KEYS if k in layers}, metadata=meta, summary=summary,
                    created=max(p.created for p in plans), geoplan_version=first.geoplan_version)


# --- the GeoPackage -------------------------------------------------------------------------------


def _plan_table(plan: PlanFile) -> pd.DataFrame:
    rows = [{"KEY": "plan", "KIND": "plan", "FEATURES": 0, "SOURCE": "", "MODELLED": -1, "METHOD": "",
             "PARAMETERS": json.dumps({"schema": SCHEMA, "project": plan.project, "plan": plan.plan,
                                       "year": plan.year, "created": plan.created,
                                       "geoplan_version": plan.geoplan_version, "summary": plain(plan.summary)},
                                      ensure_ascii=False), "NOTE": ""}]
    for key, obj in plan.layers.items():
        m = plan.metadata.get(key, {})
        kind = "raster" if isinstance(obj, Raster) else "layer" if isinstance(obj, gpd.GeoDataFrame) else "table"
        rows.append({"KEY": key, "KIND": kind, "FEATURES": _features(obj), "SOURCE": str(m.get("source", "")),
                     "MODELLED": -1 if m.get("modelled") is None else int(bool(m["modelled"])),
                     "METHOD": str(m.get("method", "")),
                     "PARAMETERS": json.dumps(plain(m.get("parameters", {})), ensure_ascii=False, default=str),
                     "NOTE": str(m.get("note", ""))})
    out = pd.DataFrame(rows)
    out["FEATURES"] = out["FEATURES"].astype(np.int64)
    out["MODELLED"] = out["MODELLED"].astype(np.int64)
    return out


def _out_layer(key: str, obj: gpd.GeoDataFrame | pd.DataFrame, used: dict[str, FieldDomain]) -> OutLayer:
    spec = layer_spec(key)
    om = default_onemap()
    cols = [str(c) for c in obj.columns if not (isinstance(obj, gpd.GeoDataFrame) and c == obj.geometry.name)]
    fields = {f.name: f for f in spec.fields}
    domains = {}
    for c in cols:
        dom = om.domain(key, c)
        if dom is not None:
            domains[c] = dom.name
            used[dom.name] = FieldDomain(dom.name, dom.description, dom.type, dom.codes)
    gtype = None
    if isinstance(obj, gpd.GeoDataFrame):
        gtype = "MultiPoint" if "MultiPoint" in set(obj.geom_type.dropna()) else spec.geometry
    return OutLayer(name=key, frame=obj, title=spec.onemap_alias, description=spec.title,
                    aliases={c: fields[c].alias for c in cols if c in fields and fields[c].alias},
                    comments={c: fields[c].description for c in cols if c in fields and fields[c].description},
                    geometry_type=gtype, domains=domains)


def write_plan(plan: PlanFile, path: str | os.PathLike[str], *, overwrite: bool = False,
               protect: Collection[str | os.PathLike[str]] = ()) -> Path:
    """Write ``plan`` as a GeoPackage plan file at ``path`` (``*.gpkg``), atomically.

    ``overwrite`` replaces an existing file; files in ``protect`` (a project's
    inputs) are never written over (see :func:`geoplan.io.write_dataset`).

    Raises
    ------
    ConfigError
        ``path`` is not a ``.gpkg``.
    WriteError
        The write failed; nothing was left at ``path``.
    """
    if Path(path).suffix.lower() != ".gpkg":
        raise ConfigError(f"a plan file is a GeoPackage: name it *.gpkg, not {Path(path).name}")
    used: dict[str, FieldDomain] = {}
    layers = [_out_layer(k, v, used) for k, v in plan.layers.items() if not isinstance(v, Raster)]
    layers.append(OutLayer(name=PLAN_TABLE, frame=_plan_table(plan),
                           description=f"geoplan plan file ({SCHEMA}): the plan and how each layer was made"))
    tiles = {k: (v, layer_spec(k).onemap_alias, layer_spec(k).title) for k, v in plan.layers.items()
             if isinstance(v, Raster)}
    io.write_dataset(path, layers, fmt="gpkg", domains=list(used.values()), tiles=tiles or None,
                     overwrite=overwrite, protect=protect)
    return Path(path)


def plan_bytes(plan: PlanFile, *, name: str = "plan.gpkg") -> bytes:
    """The plan file as bytes, for a download button (written in a temporary folder, then read)."""
    with io.scratch_dir(prefix="geoplan-plan-") as root:
        write_plan(plan, root / name)
        files = dict(io.read_outputs(root))
    return files[name]


def _read_meta(path: Path, names: Mapping[str, str | None]) -> tuple[dict[str, Any], dict[str, dict[str, Any]],
                                                                   dict[str, str]]:
    """The plan row, per-key metadata and per-key kind of a plan file's ``geoplan_plan`` table."""
    if PLAN_TABLE not in names:
        if not set(names) & set(PLAN_KEYS):
            raise ReadError(f"{path} is not a geoplan plan file (no {PLAN_TABLE} table and none of the layers "
                            f"{', '.join(PLAN_KEYS)}). Fix: write it with geoplan place sites --out {path.name}")
        return {}, {}, {k: "layer" if names[k] else "table" for k in names if k in PLAN_KEYS}
    table = io.read_table(path, sublayer=PLAN_TABLE)
    info: dict[str, Any] = {}
    meta: dict[str, dict[str, Any]] = {}
    kinds: dict[str, str] = {}
    for row in table.to_dict("records"):
        params = json.loads(row.get("PARAMETERS") or "{}")
        if row["KIND"] == "plan":
            info = params
            continue
        kinds[str(row["KEY"])] = str(row["KIND"])
        meta[str(row["KEY"])] = {"source": row.get("SOURCE", ""), "method": row.get("METHOD", ""),
                                 "modelled": None if int(row.get("MODELLED", -1)) < 0 else bool(row["MODELLED"]),
                                 "parameters": params, "note": row.get("NOTE", "") or ""}
    if info.get("schema") != SCHEMA:
        raise ReadError(f"{path} is a plan file of layout {info.get('schema')!r}; this geoplan reads {SCHEMA}. "
                        "Fix: write it again with this geoplan")
    return info, meta, kinds


def read_plan(path: str | os.PathLike[str]) -> PlanFile:
    """Read a plan file written by :func:`write_plan` (or a GeoPackage with plan layers under their keys).

    Raises
    ------
    ReadError
        A missing file, not a GeoPackage, or not a plan file.
    """
    p = Path(path)
    names = io.list_layers(p, what="plan file")
    info, meta, kinds = _read_meta(p, names)
    layers: dict[str, Layer] = {}
    for key in PLAN_KEYS:
        kind = kinds.get(key)
        if kind == "raster":
            layers[key] = io.read_gpkg_raster(p, table=key, name=key)
        elif kind == "layer" and key in names:
            layers[key] = io.read_vector(p, layer=key, sublayer=key).to_crs(4490)
        elif kind == "table" and key in names:
            layers[key] = io.read_table(p, sublayer=key)
    year = info.get("year")
    return PlanFile(project=str(info.get("project", "")), plan=str(info.get("plan", "")),
                    year=None if year is None else int(year), layers=layers, metadata=meta,
                    summary=dict(info.get("summary", {})), created=str(info.get("created", "")),
                    geoplan_version=str(info.get("geoplan_version", "")))


def read_plans(paths: Sequence[str | os.PathLike[str]]) -> PlanFile:
    """Read and combine several plan files (:func:`merge_plans`)."""
    return merge_plans([read_plan(p) for p in paths])
