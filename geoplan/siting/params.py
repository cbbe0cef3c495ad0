"""Siting parameters: candidate kinds and costs, constraint kinds, edge capacity, airport clearance.

The defaults ship as package data in ``geoplan/siting_params.toml`` (its header
documents the schema and every source). :func:`load_params` reads them and
merges a project's overrides (the ``[siting]`` table of a project file, same
paths); :func:`default_params` is the cached default.

Examples
--------
>>> p = default_params()
>>> p.cost("social_tower", "macro"), p.cost("new", "macro"), p.kinds["smart_pole"].types
(2.0, 20.0, ('micro',))
>>> load_params({"costs": {"new": {"macro": 25}}}).cost("new", "macro")
25.0
"""

from __future__ import annotations

import copy
import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .. import io
from ..errors import ConfigError

__all__ = ["KindInfo", "ConstraintKind", "EdgeKind", "SitingParams", "load_params", "default_params", "FAMILIES",
           "HARDNESS"]

SCHEMA = "geoplan.siting_params/1"
#: Families of candidate kinds: a new build, or the reuse of a tower, a pole or a rooftop/building.
FAMILIES: tuple[str, ...] = ("new", "tower", "pole", "rooftop")
#: Constraint hardness: ``hard`` removes candidates, ``soft`` lists the conflict (and may add cost).
HARDNESS: tuple[str, ...] = ("hard", "soft")


@dataclass(frozen=True)
class KindInfo:
    """A kind of candidate site: Chinese label, family, site types it can host (the first is the default)."""

    key: str
    label: str
    family: str
    types: tuple[str, ...]


@dataclass(frozen=True)
class ConstraintKind:
    """A kind of siting constraint: Chinese label and default hardness."""

    key: str
    label: str
    hardness: str


@dataclass(frozen=True)
class EdgeKind:
    """A kind of edge data-centre site (telecom office, substation ...): label and default racks."""

    key: str
    label: str
    racks: float


@dataclass(frozen=True)
class SitingParams:
    """All siting parameters, with the source of every value.

    Attributes
    ----------
    kinds : dict
        Candidate kinds (:class:`KindInfo`) by key.
    costs : dict
        ``{kind: {site_type: 万元}}``: one-off site cost, radio equipment excluded.
    cost_weight : float
        Default residents of new coverage given up to save 1万元 (see docs/siting.md).
    constraint_kinds : dict
        :class:`ConstraintKind` by key.
    edge_kinds : dict
        :class:`EdgeKind` by key.
    kw_per_rack, pue : float
        IT power of one standard rack (kW) and the power usage effectiveness of the plan.
    clearance : dict
        Obstacle-limitation-surface dimensions of a code-4 precision runway (metres, slopes).
    sources : dict
        Dotted path of every value → its source; short keys expand through ``references``.
    references : dict
        Full citations.
    """

    kinds: dict[str, KindInfo]
    costs: dict[str, dict[str, float]]
    cost_weight: float
    constraint_kinds: dict[str, ConstraintKind]
    edge_kinds: dict[str, EdgeKind]
    kw_per_rack: float
    pue: float
    clearance: dict[str, float]
    sources: dict[str, str]
    references: dict[str, str]

    def cost(self, kind: str, site_type: str) -> float:
        """Site cost (万元) of a ``site_type`` site on a ``kind`` structure.

        Raises
        ------
        ConfigError
            A kind without a cost for that site type (the structure cannot host it).
        """
        try:
            return self.costs[kind][site_type]
        except KeyError:
            raise ConfigError(f"no site cost for a {site_type} site on kind {kind!r}. Fix: give it in the project "
                              f"file, [siting.costs.{kind}] {site_type} = <万元>") from None

    def source(self, path: str) -> str:
        """The full source of the value at dotted ``path`` (short keys expanded)."""
        raw = self.sources.get(path, "")
        key = raw.split(":")[0].split(" ")[0]
        return raw.replace(key, self.references[key], 1) if key in self.references else raw


def _value(v: Any, where: str, sources: dict[str, str], *, lo: float = 0.0) -> float:
    src = ""
    if isinstance(v, Mapping):
        src = str(v.get("source", ""))
        v = v.get("value")
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v < lo:
        raise ConfigError(f"siting parameter {where} = {v!r} is not a number >= {lo:g}. Fix: correct it in the "
                          "[siting] table of the project file")
    sources.setdefault(where, src)
    return float(v)


def _merge(base: dict[str, Any], over: Mapping[str, Any], path: str) -> None:
    for k, v in over.items():
        where = f"{path}.{k}" if path else k
        if k not in base:
            if path in ("costs",) or path.startswith("costs.") and path.count(".") == 1:
                base[k] = copy.deepcopy(v)  # a new kind's costs, or a site type of a kind
                continue
            raise ConfigError(f"unknown siting parameter {where!r}. Fix: use one of {', '.join(sorted(base))} "
                              f"under [siting{'.' + path if path else ''}]")
        if isinstance(base[k], dict) and "value" in base[k]:
            base[k] = {"value": v.get("value", v) if isinstance(v, Mapping) else v, "source": "project file"}
        elif isinstance(base[k], dict) and isinstance(v, Mapping):
            _merge(base[k], v, where)
        else:
            base[k] = v


def _build(raw: dict[str, Any], refs: dict[str, str]) -> SitingParams:
    sources: dict[str, str] = {}
    kinds = {}
    for k, d in raw["kinds"].items():
        types = tuple(str(t) for t in d.get("types", ()))
        if d.get("family") not in FAMILIES or not types:
            raise ConfigError(f"siting kind {k!r} needs a family ({', '.join(FAMILIES)}) and site types")
        kinds[k] = KindInfo(k, str(d.get("label", k)), str(d["family"]), types)
        sources[f"kinds.{k}"] = str(d.get("source", ""))
    costs = {k: {t: _value(v, f"costs.{k}.{t}", sources) for t, v in d.items()} for k, d in raw["costs"].items()}
    for k, info in kinds.items():
        missing = [t for t in info.types if t not in costs.get(k, {})]
        if missing:
            raise ConfigError(f"siting kind {k!r} has no cost for {', '.join(missing)}. Fix: add [siting.costs.{k}]")
    ck = {}
    for k, d in raw["constraint_kinds"].items():
        if d.get("hardness") not in HARDNESS:
            raise ConfigError(f"constraint kind {k!r}: hardness must be hard or soft, got {d.get('hardness')!r}")
        ck[k] = ConstraintKind(k, str(d.get("label", k)), str(d["hardness"]))
        sources[f"constraint_kinds.{k}"] = str(d.get("source", ""))
    ek = {k: EdgeKind(k, str(d.get("label", k)), _value(d["racks"], f"edge_kinds.{k}.racks", sources))
          for k, d in raw["edge_kinds"].items()}
    edge = raw["edge"]
    clearance = {k: _value(v, f"clearance.{k}", sources) for k, v in raw["clearance"].items() if k != "source"}
    for k in clearance:
        sources[f"clearance.{k}"] = sources[f"clearance.{k}"] or str(raw["clearance"].get("source", ""))
    return SitingParams(kinds=kinds, costs=costs,
                        cost_weight=_value(raw["objective"]["cost_weight"], "objective.cost_weight", sources),
                        constraint_kinds=ck, edge_kinds=ek,
                        kw_per_rack=_value(edge["kw_per_rack"], "edge.kw_per_rack", sources, lo=1e-6),
                        pue=_value(edge["pue"], "edge.pue", sources, lo=1.0), clearance=clearance,
                        sources=sources, references=refs)


def load_params(overrides: Mapping[str, Any] | None = None) -> SitingParams:
    """The shipped siting parameters with ``overrides`` (a project file's ``[siting]`` table) merged in.

    Raises
    ------
    ConfigError
        An unknown key, or a value that is not a number >= 0, named by its path.
    """
    raw = io.read_package_toml("geoplan", "siting_params.toml")
    if raw.get("schema") != SCHEMA:
        raise ConfigError(f"siting_params.toml has schema {raw.get('schema')!r}, expected {SCHEMA!r}. "
                          "Fix: reinstall geoplan")
    refs = {k: str(v) for k, v in raw.pop("references", {}).items()}
    raw.pop("schema")
    if overrides:
        _merge(raw, overrides, "")
    return _build(raw, refs)


@functools.cache
def default_params() -> SitingParams:
    """The shipped siting parameters (cached)."""
    return load_params(None)
