"""A planner's workspace: settings, drawn sites and areas, scenarios and the optimised plan, kept on disk.

The map app saves the workspace on every change and opens it again on reload,
so no work is lost with a closed tab or a restarted server. A workspace is one
JSON file (UTF-8, written atomically through :mod:`geoplan.io`) in
:func:`geoplan.io.workspace_dir` (``$GEOPLAN_WORKSPACE_DIR``, default
``~/.local/share/geoplan/workspaces``), named ``<name>.json``::

    {"format": "geoplan-workspace", "version": 1, "name": "default",
     "project": "embedded", "saved_at": "2025-05-01T09:30:00+08:00",
     "settings": {"year": 2025, "total": 18500, "band": "n78", ...},
     "drawings": [{"id": "d1", "kind": "site", "geometry": {"type": "Point", ...},
                   "site_type": "macro", "kept": true}, ...],
     "scenarios": [{"name": "18,500 站 · 2025 · n78 室内", "total": 18500, ...}],
     "optimised": {"key": {...}, "selected": [12, 7, ...], "summary": {...}}}

Drawings are GeoJSON geometries in CGCS2000 / WGS84 degrees. A site is a
point with a site type; ``kept`` puts it in the scenario. An area is a polygon
with a role: ``evaluation`` (population and coverage inside it),
``exclusion`` (no new site inside) or ``candidate`` (new sites only inside the
candidate areas). ``version`` is the file format's: a newer file is refused
with a clear message, an older one is migrated when read.

:class:`History` gives undo and redo over workspace states (they are frozen,
so a state is a cheap reference). The map's settings also travel in the URL
(:func:`settings_to_query` / :func:`settings_from_query`) so a view can be shared.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import shapely
import shapely.geometry
from pyproj import Geod, Transformer

from . import io
from .errors import ConfigError, Problem, ValidationError
from .networks import network_label
from .project import Project
from .scenarios import Scenario

__all__ = [
    "FORMAT",
    "VERSION",
    "AREA_ROLES",
    "SETTINGS",
    "DEFAULT_NAME",
    "Drawing",
    "Workspace",
    "History",
    "Refusal",
    "DrawingUpdate",
    "workspace_from_dict",
    "workspace_path",
    "save_workspace",
    "load_workspace",
    "list_workspaces",
    "check_name",
    "settings_to_query",
    "settings_from_query",
    "scenario_name",
    "add_scenario",
    "apply_drawings",
    "outside_districts",
    "find_place",
]

#: The ``format`` tag of a workspace file.
FORMAT = "geoplan-workspace"
#: Version of the file format this geoplan writes (and the newest it reads).
VERSION = 1
#: Roles of a drawn area.
AREA_ROLES = ("evaluation", "exclusion", "candidate")
#: The workspace name used when the planner has not named one.
DEFAULT_NAME = "default"
#: Settings a workspace keeps (and the URL carries): name → type.
SETTINGS: dict[str, type] = {
    "year": int, "total": int, "network": str, "band": str, "indoor": bool, "mix_mode": str, "macro": int, "micro": int,
    "candidates": str, "edge_count": int, "latency_ms": float, "round_trip": bool, "charging_share": float,
    "basemap": str, "tile_url": str, "tile_crs": str, "tile_file": str, "lang": str, "method": str,
    "time_limit_s": float, "draw_type": str, "area_role": str, "cost_weight": float, "siting_layers": bool,
}
_NAME = re.compile(r"^[\w\-. ()\u3000-\u303f\u4e00-\u9fff]{1,60}$")


@dataclass(frozen=True)
class Drawing:
    """A site or an area the planner drew.

    Attributes
    ----------
    id : str
        Stable identifier (given by the map when it was drawn).
    kind : {"site", "area", "line"}
    geometry : dict
        GeoJSON ``Point`` (site), ``Polygon`` (area) or ``LineString`` (a measured distance),
        CGCS2000/WGS84 degrees.
    site_type : str or None
        ``macro``, ``micro`` or ``indoor`` (sites).
    role : str or None
        One of :data:`AREA_ROLES` (areas).
    kept : bool
        A site kept in the scenario (built when optimising).
    """

    id: str
    kind: str
    geometry: dict[str, Any]
    site_type: str | None = None
    role: str | None = None
    kept: bool = False

    @property
    def lonlat(self) -> tuple[float, float]:
        """Longitude and latitude of a site."""
        x, y = self.geometry["coordinates"][:2]
        return float(x), float(y)

    @property
    def ring(self) -> list[tuple[float, float]]:
        """Outer ring of an area, ``(lon, lat)`` pairs."""
        return [(float(x), float(y)) for x, y, *_ in self.geometry["coordinates"][0]]

    @property
    def length_m(self) -> float:
        """Length on the ellipsoid (CGCS2000 ≈ GRS80) of a line, metres.

        Examples
        --------
        >>> line = Drawing("m", "line", {"type": "LineString", "coordinates": [[118.0, 24.5], [118.1, 24.5]]})
        >>> round(line.length_m)
        10135
        """
        lon, lat = np.asarray(self.geometry["coordinates"], dtype=float)[:, :2].T
        return float(Geod(ellps="GRS80").line_length(lon, lat))

    def to_feature(self) -> dict[str, Any]:
        """As a GeoJSON feature (properties: id, kind, site_type, role, kept)."""
        props = {"id": self.id, "kind": self.kind, "site_type": self.site_type, "role": self.role, "kept": self.kept}
        return {"type": "Feature", "properties": props, "geometry": self.geometry}


@dataclass(frozen=True)
class Workspace:
    """Everything a planner set up and made in the app (see the module notes)."""

    name: str = DEFAULT_NAME
    project: str = "embedded"
    settings: Mapping[str, Any] = field(default_factory=dict)
    drawings: tuple[Drawing, ...] = ()
    scenarios: tuple[Scenario, ...] = ()
    optimised: Mapping[str, Any] | None = None
    saved_at: str = ""

    @property
    def sites(self) -> tuple[Drawing, ...]:
        return tuple(d for d in self.drawings if d.kind == "site")

    @property
    def kept(self) -> tuple[Drawing, ...]:
        return tuple(d for d in self.drawings if d.kind == "site" and d.kept)

    def areas(self, role: str | None = None) -> tuple[Drawing, ...]:
        """Drawn areas, all or of one ``role``."""
        return tuple(d for d in self.drawings if d.kind == "area" and (role is None or d.role == role))

    def content(self) -> tuple[Any, ...]:
        """What undo steps through: drawings, scenarios and the optimised plan (settings live in the controls)."""
        return (self.drawings, self.scenarios, self.optimised)

    def to_dict(self) -> dict[str, Any]:
        """The JSON document (see the module notes)."""
        return {"format": FORMAT, "version": VERSION, "name": self.name, "project": self.project,
                "saved_at": self.saved_at, "settings": dict(self.settings),
                "drawings": [{"id": d.id, "kind": d.kind, "geometry": d.geometry, "site_type": d.site_type,
                              "role": d.role, "kept": d.kept} for d in self.drawings],
                "scenarios": [s.to_dict() for s in self.scenarios],
                "optimised": None if self.optimised is None else dict(self.optimised)}


def _typed(key: str, value: Any, problems: list[Problem], where: str) -> Any:
    kind = SETTINGS[key]
    try:
        if kind is bool:
            if isinstance(value, str):
                if value.lower() not in ("1", "0", "true", "false"):
                    raise ValueError(value)
                return value.lower() in ("1", "true")
            return bool(value)
        if kind is int:
            return int(float(value))
        return kind(value)
    except (TypeError, ValueError):
        problems.append(Problem(where, key, f"{value!r} is not a {kind.__name__}", f"give a {kind.__name__}"))
        return None


def _check_settings(raw: Any, problems: list[Problem], where: str) -> dict[str, Any]:
    if not isinstance(raw, Mapping):
        problems.append(Problem(where, "settings", "is not a table", "give settings as a JSON object"))
        return {}
    out = {}
    for k, v in raw.items():
        if k in SETTINGS and v is not None:
            t = _typed(k, v, problems, where)
            if t is not None:
                out[k] = t
    return out


_GEOMETRY = {"site": "Point", "area": "Polygon", "line": "LineString"}


def _check_geometry(g: Any, kind: str) -> bool:
    want = _GEOMETRY.get(kind)
    if not isinstance(g, Mapping) or g.get("type") != want:
        return False
    try:
        geom = shapely.geometry.shape(g)
    except (ValueError, TypeError, AttributeError, IndexError, KeyError):
        return False
    return bool(geom.is_valid and not geom.is_empty and np.all(np.isfinite(shapely.get_coordinates(geom))))


def _check_drawing(raw: Any, k: int, problems: list[Problem], where: str) -> Drawing | None:
    if not isinstance(raw, Mapping):
        problems.append(Problem(where, f"drawings[{k}]", "is not an object", "remove it"))
        return None
    kind, site_type, role = raw.get("kind"), raw.get("site_type"), raw.get("role")
    if kind not in _GEOMETRY or not _check_geometry(raw.get("geometry"), str(kind)):
        problems.append(Problem(where, f"drawings[{k}]", f"is not a valid site (Point), area (Polygon) or line: "
                                f"kind {kind!r}", "remove it or redraw it"))
        return None
    if kind == "area" and role not in AREA_ROLES:
        problems.append(Problem(where, f"drawings[{k}].role", f"unknown area role {role!r}",
                                f"use one of {', '.join(AREA_ROLES)}"))
        return None
    return Drawing(id=str(raw.get("id") or f"d{k + 1}"), kind=str(kind), geometry=dict(raw["geometry"]),
                   site_type=None if kind == "area" else str(site_type or "macro"),
                   role=str(role) if kind == "area" else None, kept=bool(raw.get("kept", False)) and kind == "site")


def _migrate(doc: dict[str, Any]) -> dict[str, Any]:
    """Bring an older file up to :data:`VERSION` (version 1 is the first: nothing to do yet)."""
    return doc


def workspace_from_dict(doc: Any, *, where: str = "workspace") -> Workspace:
    """Validate a workspace document and build the :class:`Workspace`; every problem reported at once.

    Raises
    ------
    ValidationError
        Not a workspace, a newer format version, or malformed parts.

    Examples
    --------
    >>> ws = Workspace(settings={"total": 18500}, drawings=(Drawing("a", "site", {"type": "Point",
    ...                "coordinates": [118.1, 24.5]}, site_type="macro", kept=True),))
    >>> workspace_from_dict(ws.to_dict()) == ws
    True
    """
    if not isinstance(doc, Mapping) or doc.get("format") != FORMAT:
        raise ValidationError(Problem(where, "format", "is not a geoplan workspace file",
                                      "open a file saved by the geoplan map app"))
    version = doc.get("version")
    if not isinstance(version, int) or version < 1:
        raise ValidationError(Problem(where, "version", f"unknown format version {version!r}",
                                      "open a file saved by the geoplan map app"))
    if version > VERSION:
        raise ValidationError(Problem(where, "version", f"was saved by a newer geoplan (format {version}, this "
                                      f"geoplan reads up to {VERSION})", "update geoplan to open it"))
    doc = _migrate(dict(doc))
    problems: list[Problem] = []
    settings = _check_settings(doc.get("settings", {}), problems, where)
    raw = doc.get("drawings") or []
    drawings = [d for k, r in enumerate(raw if isinstance(raw, list) else [])
                if (d := _check_drawing(r, k, problems, where)) is not None]
    scenarios = []
    for k, s in enumerate(doc.get("scenarios") or []):
        try:
            scenarios.append(Scenario.from_dict(dict(s)))
        except (ConfigError, TypeError, ValueError) as exc:
            problems.append(Problem(where, f"scenarios[{k}]", str(exc), "remove the scenario or correct it"))
    opt = doc.get("optimised")
    if opt is not None and not (isinstance(opt, Mapping) and isinstance(opt.get("selected"), list)):
        problems.append(Problem(where, "optimised", "is not a saved plan", "remove it (optimise again)"))
    if problems:
        raise ValidationError(problems)
    return Workspace(name=str(doc.get("name") or DEFAULT_NAME), project=str(doc.get("project") or "embedded"),
                     settings=settings, drawings=tuple(drawings), scenarios=tuple(scenarios),
                     optimised=None if opt is None else dict(opt), saved_at=str(doc.get("saved_at") or ""))


def check_name(name: str) -> str:
    """A workspace name that is safe as a file name (letters, digits, Chinese, ``-_. ()``), stripped.

    Examples
    --------
    >>> check_name(" 思明区 方案 A ")
    '思明区 方案 A'
    """
    n = str(name).strip()
    if not _NAME.match(n) or n.startswith("."):
        raise ValidationError(Problem("workspace", "name", f"{name!r} cannot be a workspace name",
                                      "use up to 60 letters, digits, Chinese characters, spaces and -_.()"))
    return n


def workspace_path(name: str, *, folder: str | Path | None = None) -> Path:
    """File of workspace ``name`` in ``folder`` (default :func:`geoplan.io.workspace_dir`)."""
    return Path(folder if folder is not None else io.workspace_dir()) / f"{check_name(name)}.json"


def save_workspace(ws: Workspace, *, folder: str | Path | None = None) -> Workspace:
    """Write ``ws`` to its file atomically; returns it with ``saved_at`` set."""
    stamped = replace(ws, saved_at=_dt.datetime.now().astimezone().isoformat(timespec="seconds"))
    io.write_json(stamped.to_dict(), workspace_path(ws.name, folder=folder), what="workspace", overwrite=True)
    return stamped


def load_workspace(name: str, *, folder: str | Path | None = None) -> Workspace:
    """Read and validate workspace ``name``."""
    path = workspace_path(name, folder=folder)
    return workspace_from_dict(io.read_json(path, what="workspace"), where=f"workspace {path.name}")


def list_workspaces(*, folder: str | Path | None = None) -> list[str]:
    """Names of the saved workspaces, most recently saved first."""
    return [n for n, _ in io.list_json(folder if folder is not None else io.workspace_dir())]


class History:
    """Undo and redo over workspace states (at most ``limit`` steps back)."""

    def __init__(self, current: Workspace, *, limit: int = 50) -> None:
        self.current = current
        self._past: list[Workspace] = []
        self._future: list[Workspace] = []
        self.limit = limit

    def push(self, ws: Workspace) -> bool:
        """Make ``ws`` current; returns whether anything changed (unchanged states are not recorded)."""
        if ws.content() == self.current.content():
            self.current = ws
            return False
        self._past = (self._past + [self.current])[-self.limit:]
        self._future = []
        self.current = ws
        return True

    @property
    def can_undo(self) -> bool:
        return bool(self._past)

    @property
    def can_redo(self) -> bool:
        return bool(self._future)

    def undo(self) -> Workspace:
        if self._past:
            self._future.append(self.current)
            self.current = replace(self._past.pop(), name=self.current.name, settings=self.current.settings)
        return self.current

    def redo(self) -> Workspace:
        if self._future:
            self._past.append(self.current)
            self.current = replace(self._future.pop(), name=self.current.name, settings=self.current.settings)
        return self.current


def settings_to_query(settings: Mapping[str, Any]) -> dict[str, str]:
    """Settings as URL query parameters (booleans as 1/0).

    Examples
    --------
    >>> settings_to_query({"total": 18500, "indoor": True, "unknown": 1})
    {'total': '18500', 'indoor': '1'}
    """
    out = {}
    for k, v in settings.items():
        if k in SETTINGS and v is not None:
            out[k] = ("1" if v else "0") if isinstance(v, bool) else str(v)
    return out


def settings_from_query(query: Mapping[str, str]) -> tuple[dict[str, Any], list[Problem]]:
    """Settings read from URL query parameters, and the problems with the ones that could not be read.

    Examples
    --------
    >>> settings_from_query({"total": "18500", "indoor": "0", "year": "soon"})[0]
    {'total': 18500, 'indoor': False}
    """
    problems: list[Problem] = []
    return _check_settings({k: v for k, v in query.items() if k in SETTINGS}, problems, "URL"), problems


_BAND_WORDS = {"zh": ("站", "室内", "室外", "贪心", "精确"), "en": ("stations", "indoor", "outdoor", "greedy", "exact")}


def scenario_name(sc: Scenario, *, lang: str = "zh") -> str:
    """A name that says what the scenario is: total, year, network, band, users, optimiser, cost weight, drawn sites.

    Examples
    --------
    >>> scenario_name(Scenario(total=18500, year=2025))
    '18,500 站 · 2025 · n78 室内 · 贪心'
    >>> scenario_name(Scenario(total=15000, year=2025, method="exact"), lang="en")
    '15,000 stations · 2025 · n78 indoor · exact'
    """
    st, ind, out, gr, ex = _BAND_WORDS.get(lang, _BAND_WORDS["en"])
    s = sc.settings
    parts = [f"{sc.total:,} {st}" if sc.total is not None else f"{sc.year} targets", str(sc.year),
             f"{s.band} {ind if s.indoor else out}", ex if sc.method == "exact" else gr]
    if s.network != "any":
        parts.insert(2, network_label(s.network) if lang == "zh" else s.network)
    if s.mix is not None:
        parts.append("/".join(f"{round(100 * m)}" for m in s.mix))
    if s.candidates != "population":
        parts.append(s.candidates)
    if s.cost_weight:
        parts.append(f"λ {s.cost_weight:g}")
    if sc.drawn_sites:
        parts.append(f"+{len(sc.drawn_sites)} drawn" if lang != "zh" else f"+{len(sc.drawn_sites)} 手绘")
    return " · ".join(parts)


def _same(a: Scenario, b: Scenario) -> bool:
    return {k: v for k, v in a.to_dict().items() if k != "name"} == {k: v for k, v in b.to_dict().items()
                                                                        if k != "name"}


def add_scenario(scenarios: Sequence[Scenario], sc: Scenario) -> tuple[tuple[Scenario, ...], str | None]:
    """Add ``sc`` unless the same settings are listed already; a name is never reused for other settings.

    Returns the new list and, when nothing was added or the name had to change,
    a sentence saying why.

    Examples
    --------
    >>> a = Scenario(name="A", total=18500)
    >>> lst, note = add_scenario([a], Scenario(name="A", total=15000))
    >>> [s.name for s in lst], note
    (['A', 'A (2)'], "the name 'A' is taken by other settings: saved as 'A (2)'")
    >>> add_scenario(lst, Scenario(name="B", total=18500))[1]
    "the same settings are already listed as 'A'"
    """
    for s in scenarios:
        if _same(s, sc):
            return tuple(scenarios), f"the same settings are already listed as '{s.name}'"
    names = {s.name for s in scenarios}
    name, n = sc.name, 2
    while name in names:
        name, n = f"{sc.name} ({n})", n + 1
    note = None if name == sc.name else f"the name '{sc.name}' is taken by other settings: saved as '{name}'"
    return tuple(scenarios) + (replace(sc, name=name),), note


@dataclass(frozen=True)
class Refusal:
    """A drawn site that was not taken, and why (a sentence for the planner)."""

    id: str
    lonlat: tuple[float, float]
    message: str
    nearest: str = ""
    distance_m: float = 0.0


@dataclass(frozen=True)
class DrawingUpdate:
    """The workspace after the map's drawings were applied, and the sites refused."""

    workspace: Workspace
    refused: tuple[Refusal, ...] = ()
    changed: bool = False


def outside_districts(proj: Project, lonlat: Iterable[tuple[float, float]]) -> list[tuple[int, str, float]]:
    """Points outside every district: ``(index, nearest district name, distance in metres)``.

    Examples
    --------
    >>> import geoplan as gp
    >>> [(i, round(d, -3)) for i, _, d in outside_districts(gp.load_project(), [(118.09, 24.48), (118.3, 24.2)])]
    [(1, 30000.0)]
    """
    pts = np.asarray(list(lonlat), dtype=float).reshape(-1, 2)
    if not len(pts):
        return []
    x, y = Transformer.from_crs(4490, proj.metric_crs, always_xy=True).transform(pts[:, 0], pts[:, 1])
    geoms = proj.metric("districts").geometry.to_numpy()
    union = shapely.union_all(geoms)
    inside = shapely.contains_xy(union, np.asarray(x), np.asarray(y))
    out = []
    for i in np.flatnonzero(~inside):
        d = shapely.distance(geoms, shapely.Point(float(np.atleast_1d(x)[i]), float(np.atleast_1d(y)[i])))
        k = int(np.argmin(d))
        out.append((int(i), str(proj.district_names[k]), float(d[k])))
    return out


def _from_feature(f: Mapping[str, Any], old: Drawing | None, *, site_type: str, area_role: str) -> Drawing | None:
    g = dict((f or {}).get("geometry") or {})
    kind = {v: k for k, v in _GEOMETRY.items()}.get(str(g.get("type")))
    if kind is None or not _check_geometry(g, kind):
        return None
    props = (f or {}).get("properties") or {}
    did = str(props.get("id") or (old.id if old else ""))
    if old is not None:
        return replace(old, geometry=g)
    return Drawing(id=did, kind=kind, geometry=g, site_type=site_type if kind == "site" else None,
                   role=area_role if kind == "area" else None)


def apply_drawings(ws: Workspace, features: Sequence[Mapping[str, Any]], *, proj: Project,
                   site_type: str = "macro", area_role: str = "evaluation") -> DrawingUpdate:
    """Take the map's current drawings (GeoJSON features with ``properties.id``) into the workspace.

    Known ids keep their type, role and kept flag (their geometry may have been
    edited); drawings missing from ``features`` were deleted on the map; new ones
    get ``site_type`` / ``area_role``. New sites outside every district are refused
    with a sentence naming the place and the nearest district.
    """
    known = {d.id: d for d in ws.drawings}
    seen: list[Drawing] = []
    for k, f in enumerate(features):
        fid = str(((f or {}).get("properties") or {}).get("id") or f"new{k}")
        d = _from_feature(f, known.get(fid), site_type=site_type, area_role=area_role)
        if d is not None:
            seen.append(replace(d, id=fid))
    new_sites = [d for d in seen if d.kind == "site" and d.id not in known]
    refused = []
    for i, name, dist in outside_districts(proj, [d.lonlat for d in new_sites]):
        d = new_sites[i]
        refused.append(Refusal(d.id, d.lonlat, f"the site drawn at {d.lonlat[0]:.5f}°E {d.lonlat[1]:.5f}°N lies "
                               f"outside every district of {proj.name} ({dist / 1000:,.1f} km from {name}); "
                               "it was not added", name, dist))
    gone = {r.id for r in refused}
    drawings = tuple(d for d in seen if d.id not in gone)
    changed = drawings != ws.drawings
    return DrawingUpdate(replace(ws, drawings=drawings) if changed else ws, tuple(refused), changed)


_LONLAT = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*[,，\s]\s*(-?\d+(?:\.\d+)?)\s*$")


def find_place(proj: Project, text: str) -> tuple[float, float, int, str] | None:
    """Where a search points: ``(lon, lat, zoom, what was found)``, or ``None``.

    Coordinates (``118.09, 24.47``, either order for this part of the world) or a
    name: a district, or a named feature of the project's layers (edge-demand
    points, car parks ...), matched by substring. Offline: only the project's data.

    Examples
    --------
    >>> import geoplan as gp
    >>> proj = gp.load_project()
    >>> find_place(proj, "思明")[2:], find_place(proj, "24.47, 118.09")[:3]
    ((12, '思明区'), (118.09, 24.47, 15))
    """
    q = str(text or "").strip()
    if not q:
        return None
    m = _LONLAT.match(q)
    if m:
        a, b = float(m.group(1)), float(m.group(2))
        lon, lat = (a, b) if abs(a) > abs(b) else (b, a)
        return (lon, lat, 15, f"{lon:.5f}, {lat:.5f}") if -180 <= lon <= 180 and -90 <= lat <= 90 else None
    for geom, name in zip(proj.districts.geometry, proj.district_names, strict=True):
        if q in str(name):
            p = geom.representative_point()
            return float(p.x), float(p.y), 12, str(name)
    for key, gdf in proj.layers.items():
        if "NAME" in gdf.columns and gdf.geom_type.eq("Point").all():
            hit = gdf[gdf["NAME"].astype(str).str.contains(q, regex=False)]
            if len(hit):
                g = hit.geometry.iloc[0]
                return float(g.x), float(g.y), 16, f"{hit['NAME'].iloc[0]} ({key})"
    return None
