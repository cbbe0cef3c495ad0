"""The siting tables of a project file and the layers they name.

A project names any number of candidate inventories, constraint layers and
edge-site inventories, one table each, because they come from different owners
(the tower company, the municipal works bureau, the natural-resources bureau,
the airport, the grid company)::

    [inventories.towers]              # layer spec: layers/candidates.toml
    path = "towers.gpkg"
    kind = "social_tower"             # KIND of features that give none
    fields = { COST = "造价万元" }

    [constraints.redline]             # layer spec: layers/constraints.toml
    path = "生态保护红线.shp"
    kind = "ecological_redline"
    hardness = "hard"                 # hard: no candidate inside; soft: listed as a conflict
    extra_cost = 0                    # 万元 added to a candidate inside (soft zones)

    [edge_sites.offices]              # layer spec: layers/edge_sites.toml
    path = "offices.csv"              # CSV points: lon/lat (or x/y with crs = "EPSG:...") columns
    kind = "telecom_office"

    [siting.costs.social_tower]       # parameter overrides (geoplan/siting_params.toml)
    macro = 2.5

Every table also takes the keys of a ``[layers.*]`` table: ``layer``,
``encoding``, ``crs``, ``fields``, ``values`` (value mapping), ``x`` / ``y``
(columns of a CSV/XLSX point table), ``modelled``, ``note``. CSV/XLSX tables are
read by :func:`geoplan.io.read_point_table`, like any point layer.
:func:`parse_siting_tables` checks them (no disk access); the project loader
reads the files and :func:`finish_layer` fills and checks KIND and SITE_TYPE.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ..errors import ConfigError, Problem
from .params import HARDNESS, SitingParams, load_params

__all__ = ["GROUPS", "LayerConfig", "SitingLayer", "SitingInputs", "parse_siting_tables", "finish_layer"]

#: Project-file groups of siting tables → the layer spec their layers follow.
GROUPS: dict[str, str] = {"inventories": "candidates", "constraints": "constraints", "edge_sites": "edge_sites"}
_COMMON = {"path", "layer", "encoding", "crs", "fields", "values", "x", "y", "modelled", "note", "kind"}
_EXTRA = {"constraints": {"hardness", "extra_cost"}}


@dataclass(frozen=True)
class LayerConfig:
    """One ``[inventories.<name>]``, ``[constraints.<name>]`` or ``[edge_sites.<name>]`` table."""

    group: str
    name: str
    path: str
    layer: str | None = None
    encoding: str | None = None
    crs: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    x: str | None = None
    y: str | None = None
    modelled: bool = False
    note: str = ""
    kind: str | None = None
    hardness: str | None = None
    extra_cost: float = 0.0

    @property
    def label(self) -> str:
        """``group.name``, as messages name the layer."""
        return f"{self.group}.{self.name}"

    @property
    def spec(self) -> str:
        """Key of the layer spec the layer follows."""
        return GROUPS[self.group]


@dataclass(frozen=True, eq=False)
class SitingLayer:
    """A siting layer as read: its table and its features (EPSG:4490, canonical fields, KIND filled)."""

    config: LayerConfig
    frame: gpd.GeoDataFrame

    @property
    def name(self) -> str:
        return self.config.name


@dataclass(frozen=True, eq=False)
class SitingInputs:
    """Every siting layer of a project and its ``[siting]`` parameter overrides."""

    layers: tuple[SitingLayer, ...] = ()
    overrides: Mapping[str, Any] = field(default_factory=dict)

    def group(self, group: str) -> tuple[SitingLayer, ...]:
        """The layers of ``group`` (``inventories``, ``constraints``, ``edge_sites``), in file order."""
        return tuple(ly for ly in self.layers if ly.config.group == group)

    @functools.cached_property
    def params(self) -> SitingParams:
        """Siting parameters with the project's overrides."""
        return load_params(self.overrides)

    def describe(self) -> list[dict[str, Any]]:
        """One row per layer: group, name, kind, hardness, features, modelled, note (for reports)."""
        return [{"group": ly.config.group, "name": ly.name, "kind": ly.config.kind, "hardness": ly.config.hardness,
                 "features": len(ly.frame), "modelled": ly.config.modelled, "note": ly.config.note}
                for ly in self.layers]


def _table(group: str, name: str, raw: Any, params: SitingParams, problems: list[str]) -> LayerConfig | None:
    where = f"[{group}.{name}]"
    if not isinstance(raw, Mapping):
        problems.append(f"{where} must be a table with path = \"...\"")
        return None
    unknown = set(raw) - _COMMON - _EXTRA.get(group, set())
    if unknown:
        problems.append(f"{where} has unknown key(s) {', '.join(sorted(unknown))}; allowed: "
                        f"{', '.join(sorted(_COMMON | _EXTRA.get(group, set())))}")
    if not isinstance(raw.get("path"), str) or not raw.get("path"):
        problems.append(f"{where} has no path; add path = \"...\" (relative to the project file)")
    kinds = list(params.kinds) if group == "inventories" else list(params.constraint_kinds) \
        if group == "constraints" else list(params.edge_kinds)
    kind = raw.get("kind")
    if kind is not None and kind not in kinds:
        problems.append(f"{where} kind = {kind!r} is not a {group} kind; use one of {', '.join(kinds)}")
    hardness = raw.get("hardness")
    if hardness is not None and hardness not in HARDNESS:
        problems.append(f"{where} hardness = {hardness!r}; use hard or soft")
    extra = raw.get("extra_cost", 0.0)
    if isinstance(extra, bool) or not isinstance(extra, int | float) or not math.isfinite(extra) or extra < 0:
        problems.append(f"{where} extra_cost = {extra!r}; give 万元 >= 0")
        extra = 0.0
    fields_ = raw.get("fields", {})
    if not isinstance(fields_, Mapping) or not all(isinstance(v, str) for v in fields_.values()):
        problems.append(f"{where} fields must map canonical names to column names, e.g. fields = {{ KIND = \"类型\" }}")
        fields_ = {}
    values = raw.get("values", {})
    if not isinstance(values, Mapping) or not all(isinstance(v, Mapping) for v in values.values()):
        problems.append(f"{where} values must map fields to tables, e.g. values = {{ KIND = {{ \"铁塔\" = "
                        "\"social_tower\" } }")
        values = {}
    for xy in ("x", "y"):
        if raw.get(xy) is not None and not isinstance(raw.get(xy), str):
            problems.append(f"{where} {xy} must name a column")
    if group == "constraints" and hardness is None and kind in params.constraint_kinds:
        hardness = params.constraint_kinds[kind].hardness
    crs = raw.get("crs")
    return LayerConfig(group=group, name=name, path=str(raw.get("path", "")), layer=raw.get("layer"),
                       encoding=raw.get("encoding"), crs=None if crs is None else str(crs), fields=dict(fields_),
                       values={str(k): dict(v) for k, v in values.items()},
                       x=raw.get("x") if isinstance(raw.get("x"), str) else None,
                       y=raw.get("y") if isinstance(raw.get("y"), str) else None,
                       modelled=bool(raw.get("modelled", False)), note=str(raw.get("note", "")), kind=kind,
                       hardness=hardness, extra_cost=float(extra))


def parse_siting_tables(cfg: Mapping[str, Any], *, where: str) -> tuple[list[LayerConfig], dict[str, Any]]:
    """The siting tables of a parsed project file, checked, and its ``[siting]`` overrides.

    Raises
    ------
    ConfigError
        Every problem at once: a table without a path, an unknown key or kind, a bad hardness.

    Examples
    --------
    >>> cfgs, over = parse_siting_tables({"inventories": {"poles": {"path": "p.csv", "kind": "smart_pole"}},
    ...                                   "constraints": {"red": {"path": "r.gpkg", "kind": "heritage"}}},
    ...                                  where="demo")
    >>> [(c.label, c.kind, c.hardness) for c in cfgs]
    [('inventories.poles', 'smart_pole', None), ('constraints.red', 'heritage', 'soft')]
    """
    overrides = dict(cfg.get("siting", {}) or {})
    params = load_params(overrides)  # unknown [siting] keys fail here, by name
    problems: list[str] = []
    out: list[LayerConfig] = []
    for group in GROUPS:
        tables = cfg.get(group, {})
        if not isinstance(tables, Mapping):
            problems.append(f"[{group}] must hold named tables, e.g. [{group}.my_layer] with path = \"...\"")
            continue
        for name, raw in tables.items():
            c = _table(group, str(name), raw, params, problems)
            if c is not None:
                out.append(c)
    if problems:
        raise ConfigError(f"{where}: " + "; ".join(problems) + ". Fix: correct these tables (docs/siting.md)")
    return out, overrides


def finish_layer(gdf: gpd.GeoDataFrame, cfg: LayerConfig, params: SitingParams) -> tuple[gpd.GeoDataFrame,
                                                                                         list[Problem]]:
    """Fill KIND from the table's ``kind`` and check what the spec cannot: site types the kind can host.

    Inventories without a kind become ``new``; constraints ``other``; edge sites ``other``.
    """
    out = gdf.copy()
    default = cfg.kind or {"inventories": "new", "constraints": "other", "edge_sites": "other"}[cfg.group]
    kind = out["KIND"] if "KIND" in out.columns else pd.Series([None] * len(out), index=out.index)
    out["KIND"] = kind.where(kind.notna() & (kind.astype(str).str.strip() != ""), default).astype(str)
    problems: list[Problem] = []
    if cfg.group == "inventories" and "SITE_TYPE" in out.columns:
        allowed = {k: set(v.types) for k, v in params.kinds.items()}
        st = out["SITE_TYPE"]
        bad = st.notna() & ~np.array([t in allowed.get(k, set()) for k, t in zip(out["KIND"], st, strict=True)])
        if bad.any():
            rows = ", ".join(str(i) for i in out.index[bad.to_numpy()][:5])
            first = out.loc[bad].iloc[0]
            problems.append(Problem(cfg.label, "SITE_TYPE", f"{int(bad.sum())} feature(s) ask for a site type their "
                                    f"kind cannot host (rows {rows}; first: {first['SITE_TYPE']} on "
                                    f"{first['KIND']}, which hosts {', '.join(params.kinds[first['KIND']].types)})",
                                    "correct SITE_TYPE or KIND (a smart pole hosts micro sites only)"))
    return out, problems
