"""What-if scenarios: frozen, saveable descriptions of a planning run, and their comparison.

A :class:`Scenario` holds every choice of a run (station total or target year,
method, band, site mix, seed, sites a planner drew), can be saved to TOML and
re-run to the same result. :func:`run_scenarios` evaluates several on one
:class:`~geoplan.placement.sites.PlanningContext`, so the coverage matrix is
built once.

A scenario file::

    [defaults]          # optional, applies to every scenario
    year = 2025
    network = "any"     # any (all operators), cmcc, ctcu or cbn
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
from ._json import plain, records
from .errors import ConfigError, GeoplanError
from .placement import METHODS, PlanningContext, PlanResult, PlanSettings, place_sites, planning_context
from .placement.sites import choose_engine
from .project import Project

__all__ = ["Scenario", "EdgeChargingFigures", "load_scenarios", "save_scenarios", "scenarios_toml", "run_scenario",
           "run_scenarios", "WhatIf", "ScenarioFailure"]

#: Keys of a scenario table that belong to its :class:`~geoplan.placement.PlanSettings`.
_SETTING_KEYS = tuple(f.name for f in dataclasses.fields(PlanSettings))


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
    settings : PlanSettings
        Band, indoor/outdoor users, site mix, seed and candidate source (in a
        scenario file these are flat keys: ``band = "n41"``, ``indoor = false``...).
    population_year : int or None
        A fixed year-end population basis.
    basis : str or None
        Population basis (census, yearend, projection; the project's by default).
    meet : str or None
        With ``year`` and no ``total``: density (default), count or both.
    quotas : str
        plan (as the plan states), area or district: whether the density target
        binds every district (see :mod:`geoplan.placement.request`).
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
    capacity : bool
        Also add sites until the year's busy-hour traffic is carried (see
        :func:`geoplan.placement.place_sites`).
    """

    name: str = "scenario"
    total: int | None = None
    year: int | None = 2025
    method: str = "greedy"
    settings: PlanSettings = field(default_factory=PlanSettings)
    population_year: int | None = None
    basis: str | None = None
    meet: str | None = None
    quotas: str = "plan"
    drawn_sites: tuple[tuple[float, float], ...] = field(default=())
    time_limit_s: float = 60.0
    edge_count: int | None = None
    latency_ms: float = 1.0
    charging_share: float | None = None
    charging_radius_m: float = 900.0
    capacity: bool = False

    def __post_init__(self) -> None:
        from ._scenario_file import check_scenario

        flat = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "settings"}
        check_scenario({**flat, **self.settings.to_dict()}, where=f"scenario {self.name!r}")
        if self.total is None and self.year is None:
            raise ConfigError(f"scenario '{self.name}' needs total or year. Fix: add total = N or year = Y")
        if self.method not in METHODS:
            raise ConfigError(f"scenario '{self.name}': unknown method {self.method!r}. Fix: greedy or exact")
        if self.total is not None and self.total < 0:
            raise ConfigError(f"scenario '{self.name}': total {self.total} is negative")

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for TOML: the settings as flat keys, ``None`` values left out."""
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "settings"}
        d.update(self.settings.to_dict())
        d["drawn_sites"] = [list(p) for p in self.drawn_sites]
        return {k: v for k, v in plain(d).items() if v is not None and v != []}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Scenario:
        """Build from a TOML table (settings as flat keys), with a clear error for unknown keys."""
        known = {f.name for f in dataclasses.fields(cls)} - {"settings"} | set(_SETTING_KEYS)
        unknown = set(d) - known
        if unknown:
            raise ConfigError(f"scenario '{d.get('name', '?')}': unknown key(s) {', '.join(sorted(unknown))}. "
                              f"Fix: use {', '.join(sorted(known))}")
        from ._scenario_file import check_scenario

        check_scenario(d, where=f"scenario {d.get('name', 'scenario')!r}")
        d = dict(d)
        st = {k: d.pop(k) for k in _SETTING_KEYS if k in d}
        if st.get("mix") is not None:
            st["mix"] = tuple(float(x) for x in st["mix"])
        if "drawn_sites" in d:
            d["drawn_sites"] = tuple((float(a), float(b)) for a, b in d["drawn_sites"])
        try:
            return cls(settings=PlanSettings(**st), **d)
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


def run_scenario(proj: Project, scenario: Scenario, *, context: PlanningContext | None = None) -> PlanResult:
    """Run one scenario (reusing ``context`` when it was built for the scenario's settings)."""
    ctx = context if context is not None and (context.settings.context_key()
                                              == scenario.settings.context_key()) else None
    fixed = None
    if scenario.drawn_sites:
        lon, lat = np.asarray(scenario.drawn_sites, dtype=float).T
        x, y = Transformer.from_crs(4490, proj.metric_crs, always_xy=True).transform(lon, lat)
        fixed = np.column_stack([x, y])
    return place_sites(proj, total=scenario.total, year=scenario.year, method=scenario.method, context=ctx,
                       settings=scenario.settings, fixed_xy=fixed,
                       time_limit_s=scenario.time_limit_s, population_year=scenario.population_year,
                       basis=scenario.basis, meet=scenario.meet if scenario.total is None else None,
                       quotas=scenario.quotas, capacity=scenario.capacity)


@dataclass(frozen=True)
class EdgeChargingFigures:
    """Edge and charging figures of a scenario that asks for them (``None`` where it does not)."""

    edge_dcs: int | None = None
    edge_covered_share: float | None = None
    edge_max_latency_ms: float | None = None
    edge_uncovered_points: int | None = None
    charging_spaces_to_add: int | None = None
    charging_new_stations: int | None = None
    charging_core_within_after: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """The figures that apply (an empty dict when the scenario asks for neither)."""
        return {k: v for k, v in plain(dataclasses.asdict(self), ndigits=4).items() if v is not None}


def _edge_charging(proj: Project, sc: Scenario) -> EdgeChargingFigures:
    """Edge and charging figures of a scenario (all ``None`` when it asks for neither)."""
    out = EdgeChargingFigures()
    if sc.edge_count is not None:
        from .edge import place_edge

        e = place_edge(proj, count=sc.edge_count, latency_ms=sc.latency_ms).summary
        out = dataclasses.replace(out, edge_dcs=e.count, edge_covered_share=e.covered_share,
                                  edge_max_latency_ms=e.max_latency_ms, edge_uncovered_points=e.uncovered_points)
    if sc.charging_share is not None:
        from .charging import place_charging

        c = place_charging(proj, share=sc.charging_share, radius_m=sc.charging_radius_m).summary
        out = dataclasses.replace(out, charging_spaces_to_add=c.new_car_parks.to_add,
                                  charging_new_stations=c.new_stations,
                                  charging_core_within_after=c.core_within_share_after)
    return out


@dataclass(frozen=True, eq=False)
class ScenarioFailure:
    """A scenario that could not run: its name and the error (whose message says how to fix it)."""

    scenario: str
    error: GeoplanError

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: scenario, error type, message, and the problems when the error lists them."""
        out: dict[str, Any] = {"scenario": self.scenario, "error": type(self.error).__name__,
                               "message": str(self.error)}
        problems = getattr(self.error, "problems", None)
        if problems:
            out["problems"] = [vars(p) for p in problems]
        return out


@dataclass(frozen=True, eq=False)
class WhatIf:
    """Results of several scenarios: a per-district long table and a one-row-per-scenario summary.

    ``scenarios``, ``results`` and ``extras`` hold the scenarios that ran; those
    that failed are in ``failures`` (and in ``summary`` with their error), so
    one bad scenario does not hide the others.
    """

    scenarios: tuple[Scenario, ...]
    results: tuple[PlanResult, ...]
    districts: pd.DataFrame
    summary: pd.DataFrame
    extras: tuple[EdgeChargingFigures, ...] = ()
    failures: tuple[ScenarioFailure, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (layout ``geoplan.whatif/1``; floats rounded to 4 digits)."""
        extras = self.extras or (EdgeChargingFigures(),) * len(self.results)
        out = []
        for s, r, x in zip(self.scenarios, self.results, extras, strict=True):
            item = {"scenario": s.to_dict(), "summary": plain(r.summary.to_dict(), ndigits=4),
                    "districts": records(r.districts, ndigits=4)}
            if x.to_dict():
                item["edge_charging"] = x.to_dict()
            out.append(item)
        d: dict[str, Any] = {"schema": "geoplan.whatif/1", "scenarios": out}
        if self.failures:
            d["failures"] = [f.to_dict() for f in self.failures]
        return d


def _summary_row(sc: Scenario, res: PlanResult, x: EdgeChargingFigures) -> dict[str, Any]:
    s = res.summary
    return {"scenario": sc.name, "total": s.stations, "new": s.new, "per_10k": s.per_10k,
            "target_per_10k": s.target_per_10k, "meets_density": s.meets_density, "quotas": s.applies_to,
            "districts_meeting_target": s.districts_meeting_target,
            "districts": s.districts, "coverage_before": s.coverage_before, "coverage_after": s.coverage_after,
            "network": s.network, "band": s.band, "users": s.users,
            "capacity_limited_cells": None if s.capacity is None else s.capacity.limited_cells,
            "capacity_sites": s.capacity_sites,
            "method": s.method, "status": s.status, "gap": s.gap, **x.to_dict()}


def run_scenarios(proj: Project, scenarios: Sequence[Scenario], *, context: PlanningContext | None = None,
                  progress: Any = None) -> WhatIf:
    """Run ``scenarios`` and tabulate stations per 10k per district, districts meeting target, coverage.

    On the in-memory engine, scenarios with the same settings share one planning
    context (the coverage matrix is built once per settings).
    """
    if not scenarios:
        raise ConfigError("no scenarios to run. Fix: give --total N ... or --scenario FILE")
    names = [sc.name for sc in scenarios]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ConfigError(f"{len(dup)} scenario name(s) used more than once ({', '.join(map(repr, dup[:5]))}); "
                          "their results would share one column. Fix: give every scenario its own name "
                          "(and each --total a different value)")
    in_memory = context is not None or choose_engine(proj) == "memory"
    contexts: dict[PlanSettings, PlanningContext] = {} if context is None else {
        context.settings.context_key(): context}
    ran: list[tuple[Scenario, PlanResult, EdgeChargingFigures]] = []
    failures: list[ScenarioFailure] = []
    rows_summary: list[dict[str, Any]] = []
    for k, sc in enumerate(scenarios):
        if progress:
            progress(k / len(scenarios), f"scenario {sc.name}")
        try:
            ctx = None
            if in_memory:
                key = sc.settings.context_key()  # scenarios that differ only in the cost weight share a context
                if key not in contexts:
                    contexts[key] = planning_context(proj, settings=key)
                ctx = contexts[key]
            res = run_scenario(proj, sc, context=ctx)
            x = _edge_charging(proj, sc)
        except GeoplanError as exc:  # one scenario's error is reported with it, the others still run
            failures.append(ScenarioFailure(sc.name, exc))
            rows_summary.append({"scenario": sc.name, "error": f"{type(exc).__name__}: {str(exc).splitlines()[0]}"})
            continue
        ran.append((sc, res, x))
        rows_summary.append(_summary_row(sc, res, x))
    if progress:
        progress(1.0, "done")
    rows = [res.districts.assign(scenario=sc.name)[["scenario", *res.districts.columns]] for sc, res, _ in ran]
    return WhatIf(scenarios=tuple(sc for sc, _, _ in ran), results=tuple(r for _, r, _ in ran),
                  districts=pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=["scenario"]),
                  summary=pd.DataFrame(rows_summary), extras=tuple(x for _, _, x in ran), failures=tuple(failures))

