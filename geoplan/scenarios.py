"""What-if scenarios: frozen, saveable descriptions of a planning run, and their comparison.

A :class:`Scenario` holds every choice of a run (station total or target year,
method, band, site mix, seed, sites a planner drew), can be saved to TOML and
re-run to the same result. :func:`run_scenarios` evaluates several on one
:class:`~geoplan.placement.sites.PlanningContext`, so the coverage matrix is
built once.

A scenario file::

    [defaults]          # optional, applies to every scenario
    year = 2025
    band = "n78"

    [[scenario]]
    name = "15k"
    total = 15000

    [[scenario]]
    name = "plan"
    total = 18500
    method = "exact"
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pyproj import Transformer

from . import io
from .errors import ConfigError
from .placement.sites import CANDIDATE_GENERATORS, PlanningContext, PlanResult, place_sites, planning_context
from .project import Project

__all__ = ["Scenario", "load_scenarios", "save_scenarios", "scenarios_toml", "run_scenario", "run_scenarios",
           "WhatIf"]


@dataclass(frozen=True)
class Scenario:
    """One what-if run.

    Attributes
    ----------
    name : str
        Label in tables.
    total : int or None
        Total stations (existing + new).
    year : int or None
        Target year whose density target sets district quotas.
    method : str
        ``greedy`` or ``exact``.
    band : str
        5G band of the link budget.
    indoor : bool
        Plan coverage for indoor users (building-entry loss) rather than outdoor.
    mix : tuple of float or None
        Macro/micro/indoor shares of modelled candidates.
    seed : int
        Seed of modelled candidates.
    candidates : str
        How modelled candidates are made (``population``, ``kmeans``, ``grid``),
        when the project has no candidate layer.
    population_year : int or None
        Population basis (None = census).
    drawn_sites : tuple of (lon, lat)
        Sites a planner drew (CGCS2000/WGS84 degrees) that must be built.
    time_limit_s : float
        Exact solver time limit.
    edge_count : int or None
        Also place this many edge data centres (:func:`geoplan.edge.place_edge`).
    latency_ms : float
        Latency budget of the edge data centres (the plan's 1 ms circle).
    charging_share : float or None
        Also plan charging for this share of spaces in new public car parks
        (:func:`geoplan.charging.place_charging`), with service radius ``charging_radius_m``.
    """

    name: str = "scenario"
    total: int | None = None
    year: int | None = 2025
    method: str = "greedy"
    band: str = "n78"
    indoor: bool = True
    mix: tuple[float, float, float] | None = None
    seed: int = 0
    candidates: str = "population"
    population_year: int | None = None
    drawn_sites: tuple[tuple[float, float], ...] = field(default=())
    time_limit_s: float = 60.0
    edge_count: int | None = None
    latency_ms: float = 1.0
    charging_share: float | None = None
    charging_radius_m: float = 900.0

    def __post_init__(self) -> None:
        from ._scenario_file import check_scenario

        check_scenario(dataclasses.asdict(self), where=f"scenario {self.name!r}")
        if self.total is None and self.year is None:
            raise ConfigError(f"scenario '{self.name}' needs total or year. Fix: add total = N or year = Y")
        if self.method not in ("greedy", "exact"):
            raise ConfigError(f"scenario '{self.name}': unknown method {self.method!r}. Fix: greedy or exact")
        if self.candidates not in CANDIDATE_GENERATORS:
            raise ConfigError(f"scenario '{self.name}': unknown candidates {self.candidates!r}. "
                              f"Fix: one of {', '.join(CANDIDATE_GENERATORS)}")
        if self.total is not None and self.total < 0:
            raise ConfigError(f"scenario '{self.name}': total {self.total} is negative")

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for TOML (``None`` values left out)."""
        d = dataclasses.asdict(self)
        d["drawn_sites"] = [list(p) for p in self.drawn_sites]
        if self.mix is not None:
            d["mix"] = list(self.mix)
        return {k: v for k, v in d.items() if v is not None and v != []}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Scenario:
        """Build from a TOML table, with a clear error for unknown keys."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ConfigError(f"scenario '{d.get('name', '?')}': unknown key(s) {', '.join(sorted(unknown))}. "
                              f"Fix: use {', '.join(sorted(known))}")
        from ._scenario_file import check_scenario

        check_scenario(d, where=f"scenario {d.get('name', 'scenario')!r}")
        d = dict(d)
        if "mix" in d and d["mix"] is not None:
            d["mix"] = tuple(float(x) for x in d["mix"])
        if "drawn_sites" in d:
            d["drawn_sites"] = tuple((float(a), float(b)) for a, b in d["drawn_sites"])
        try:
            return cls(**d)
        except TypeError as exc:
            raise ConfigError(f"scenario '{d.get('name', '?')}': {exc}") from exc


def load_scenarios(path: str | Path) -> list[Scenario]:
    """Read scenarios from a TOML file (``[defaults]`` + ``[[scenario]]`` tables), checked against their schema."""
    from ._scenario_file import parse_scenario_file

    raw = io.read_toml(path, what="scenario file")
    return [Scenario.from_dict(d) for d in parse_scenario_file(raw, where=f"scenario file {path}")]


def scenarios_toml(scenarios: Sequence[Scenario]) -> str:
    """Scenarios as the TOML text :func:`save_scenarios` writes (for a download)."""
    return io.toml_text({"scenario": [s.to_dict() for s in scenarios]})


def save_scenarios(scenarios: Sequence[Scenario], path: str | Path, *, overwrite: bool = False) -> Path:
    """Write scenarios to TOML through the write path; :func:`load_scenarios` reads them back equal.

    An existing file is replaced only with ``overwrite``.
    """
    return io.write_text(scenarios_toml(scenarios), path, what="scenario file", overwrite=overwrite)


def _scenario_key(sc: Scenario) -> tuple[Any, ...]:
    return (sc.band, sc.indoor, sc.seed, sc.mix, sc.candidates)


def _context_key(ctx: PlanningContext) -> tuple[Any, ...]:
    p = ctx.params
    return (p.get("band"), p.get("indoor"), p.get("seed"), p.get("mix"), p.get("candidates"))


def _context(proj: Project, sc: Scenario) -> PlanningContext:
    return planning_context(proj, band=sc.band, indoor=sc.indoor, seed=sc.seed, mix=sc.mix, candidates=sc.candidates)


def run_scenario(proj: Project, scenario: Scenario, *, context: PlanningContext | None = None) -> PlanResult:
    """Run one scenario (reusing ``context`` when its band and seed match)."""
    ctx = context
    if ctx is None or _context_key(ctx) != _scenario_key(scenario):
        ctx = _context(proj, scenario)
    fixed = None
    if scenario.drawn_sites:
        lon, lat = np.asarray(scenario.drawn_sites, dtype=float).T
        x, y = Transformer.from_crs(4490, proj.metric_crs, always_xy=True).transform(lon, lat)
        fixed = np.column_stack([x, y])
    return place_sites(proj, total=scenario.total, year=scenario.year, method=scenario.method, context=ctx,
                       fixed_xy=fixed, time_limit_s=scenario.time_limit_s,
                       population_year=scenario.population_year)


def _edge_charging(proj: Project, sc: Scenario) -> dict[str, Any]:
    """Edge and charging figures of a scenario (empty when it asks for neither)."""
    out: dict[str, Any] = {}
    if sc.edge_count is not None:
        from .edge import place_edge

        e = place_edge(proj, count=sc.edge_count, latency_ms=sc.latency_ms).summary
        out.update({"edge_dcs": e["count"], "edge_covered_share": e["covered_share"],
                    "edge_max_latency_ms": e["max_latency_ms"], "edge_uncovered_points": e["uncovered_points"]})
    if sc.charging_share is not None:
        from .charging import place_charging

        c = place_charging(proj, share=sc.charging_share, radius_m=sc.charging_radius_m).summary
        out.update({"charging_spaces_to_add": c["new_car_parks"]["to_add"],
                    "charging_new_stations": c["new_stations"],
                    "charging_core_within_after": c["core_within_share_after"]})
    return out


@dataclass(frozen=True, eq=False)
class WhatIf:
    """Results of several scenarios: a per-district long table and a one-row-per-scenario summary."""

    scenarios: tuple[Scenario, ...]
    results: tuple[PlanResult, ...]
    districts: pd.DataFrame
    summary: pd.DataFrame
    extras: tuple[dict[str, Any], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (layout ``geoplan.whatif/1``)."""
        return {
            "schema": "geoplan.whatif/1",
            "scenarios": [
                {"scenario": s.to_dict(), "summary": _plain(r.summary),
                 "districts": _plain(r.districts.to_dict(orient="records")),
                 **({"edge_charging": _plain(x)} if x else {})}
                for s, r, x in zip(self.scenarios, self.results, self.extras or ({},) * len(self.results),
                                   strict=True)
            ],
        }


def _plain(o: Any) -> Any:
    if isinstance(o, dict):
        return {k: _plain(v) for k, v in o.items()}
    if isinstance(o, list | tuple):
        return [_plain(v) for v in o]
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return None if not np.isfinite(o) else round(float(o), 4)
    if isinstance(o, float):
        return None if not np.isfinite(o) else round(o, 4)
    if isinstance(o, np.bool_):
        return bool(o)
    return o


def run_scenarios(proj: Project, scenarios: Sequence[Scenario], *, context: PlanningContext | None = None,
                  progress: Any = None) -> WhatIf:
    """Run ``scenarios`` and tabulate stations per 10k per district, districts meeting target, coverage."""
    if not scenarios:
        raise ConfigError("no scenarios to run. Fix: give --total N ... or --scenario FILE")
    names = [sc.name for sc in scenarios]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ConfigError(f"{len(dup)} scenario name(s) used more than once ({', '.join(map(repr, dup[:5]))}); "
                          "their results would share one column. Fix: give every scenario its own name "
                          "(and each --total a different value)")
    results = []
    extras: list[dict[str, Any]] = []
    contexts: dict[tuple[Any, ...], PlanningContext] = {}
    if context is not None:
        contexts[_context_key(context)] = context
    for k, sc in enumerate(scenarios):
        if progress:
            progress(k / len(scenarios), f"scenario {sc.name}")
        key = _scenario_key(sc)
        if key not in contexts:
            contexts[key] = _context(proj, sc)
        results.append(run_scenario(proj, sc, context=contexts[key]))
        extras.append(_edge_charging(proj, sc))
    if progress:
        progress(1.0, "done")
    rows = []
    for sc, res in zip(scenarios, results, strict=True):
        t = res.districts.copy()
        t.insert(0, "scenario", sc.name)
        rows.append(t)
    summary = pd.DataFrame([{
        "scenario": sc.name, "total": res.summary["stations"], "new": res.summary["new"],
        "per_10k": res.summary["per_10k"], "target_per_10k": res.summary["target_per_10k"],
        "districts_meeting_target": res.summary["districts_meeting_target"],
        "districts": res.summary["districts"], "coverage_before": res.summary["coverage_before"],
        "coverage_after": res.summary["coverage_after"], "method": res.summary["method"],
        "status": res.summary["status"], "gap": res.summary["gap"], **x,
    } for sc, res, x in zip(scenarios, results, extras, strict=True)])
    return WhatIf(scenarios=tuple(scenarios), results=tuple(results),
                  districts=pd.concat(rows, ignore_index=True), summary=summary, extras=tuple(extras))
