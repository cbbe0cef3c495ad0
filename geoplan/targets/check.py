"""Where each district stands against the plan's 5G density target.

The array core, :func:`density`, works on populations and station counts; the
project-level :func:`check` builds them from a :class:`~geoplan.project.Project`
and adds the plan-consistency figures a planner needs to read the targets right.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._json import plain
from ..errors import ConfigError
from .plans import Plan

if TYPE_CHECKING:
    from ..project import Project

__all__ = ["Density", "density", "CheckTotal", "CheckReport", "check", "population_basis",
           "district_targets", "count_target", "BASES", "SCHEMA"]

#: Identifier of the JSON layout produced by :meth:`CheckReport.to_dict` (bump on breaking change).
SCHEMA = "geoplan.check/1"
#: Population bases of the density targets.
BASES = ("census", "yearend", "projection")


@dataclass(frozen=True)
class Density:
    """Stations per 10,000 residents against a target, per area.

    All arrays share one order (e.g. districts). ``target_per_10k`` is the
    target every area shares; :func:`density` also takes one target per area.
    """

    population: np.ndarray
    stations: np.ndarray
    per_10k: np.ndarray
    target_per_10k: float
    required: np.ndarray
    shortfall: np.ndarray
    meets: np.ndarray


def density(population: np.ndarray, stations: np.ndarray, *, target_per_10k: float | np.ndarray) -> Density:
    """Stations per 10k, stations required by the target and the shortfall.

    ``required = ceil(target × population / 10,000)``; ``shortfall = max(0, required − stations)``.
    ``target_per_10k`` is one figure, or one per area.

    Examples
    --------
    >>> d = density(np.array([100_000.0, 50_000.0]), np.array([300, 200]), target_per_10k=33)
    >>> d.per_10k.tolist(), d.required.tolist(), d.shortfall.tolist(), d.meets.tolist()
    ([30.0, 40.0], [330, 165], [30, 0], [False, True])
    """
    pop = np.asarray(population, dtype=float)
    st = np.asarray(stations, dtype=np.int64)
    if pop.shape != st.shape:
        raise ValueError(f"population has shape {pop.shape} but stations {st.shape}")
    if (pop < 0).any():
        raise ValueError("population cannot be negative")
    tgt = np.broadcast_to(np.asarray(target_per_10k, dtype=float), pop.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        per = np.where(pop > 0, st / pop * 1e4, np.nan)
    # the small epsilon keeps exact products (e.g. 33 × 10,000 / 10,000) from rounding up
    required = np.ceil(tgt * pop / 1e4 - 1e-9).astype(np.int64)
    shortfall = np.maximum(required - st, 0)
    head = float(tgt.flat[0]) if tgt.size else float(np.asarray(target_per_10k, dtype=float).reshape(-1)[0])
    return Density(population=pop, stations=st, per_10k=per, target_per_10k=head,
                   required=required, shortfall=shortfall, meets=st >= required)


def _year_table(raw: Any) -> dict[int, Any]:
    return {int(str(k).strip()): v for k, v in (raw or {}).items()}


def _nearest_year(series: dict[int, float], year: int | None) -> int:
    if year is None:
        return max(series)
    before = [y for y in series if y <= year]
    return max(before) if before else min(series)


def population_basis(proj: Project, population_year: int | None = None, *, basis: str | None = None,
                     year: int | None = None) -> tuple[np.ndarray, dict[str, Any]]:
    """District populations on the chosen basis for target year ``year``, and a description of it.

    Parameters
    ----------
    proj : Project
        The project; ``[population_stats]`` holds the year-end series and projections.
    population_year : int, optional
        A fixed year-end: census district shares scaled to that year's city total
        (overrides ``basis``).
    basis : {"census", "yearend", "projection"}, optional
        ``census``: the districts' census population (``POP`` or the raster sums);
        ``yearend``: census shares scaled to the city's year-end total of ``year``
        (the latest published one before it when that year has none yet);
        ``projection``: the planner's projection for ``year`` (a city total shared
        by census shares, or a figure per district). Default: the project's (``proj.basis``).
    year : int, optional
        The target year (the latest figure available without one).

    Raises
    ------
    ConfigError
        A basis without the figures it needs.

    Examples
    --------
    >>> import geoplan as gp
    >>> pop, info = population_basis(gp.load_project(), basis="yearend", year=2025)
    >>> round(pop.sum()), info["year"], info["kind"]
    (5327000, 2023, 'yearend')
    """
    base = proj.district_population
    stats = proj.population_stats
    census_year = stats.get("census_year")
    yearend = {y: float(v) for y, v in _year_table(stats.get("yearend")).items()}
    kind = basis or proj.basis
    if population_year is not None:
        if population_year not in yearend:
            raise ConfigError(f"no year-end population for {population_year} in the project "
                              f"(have: {', '.join(map(str, sorted(yearend))) or 'none'}). "
                              "Fix: choose one of those years or add it under [population_stats] yearend")
        kind, year = "yearend", population_year
    if kind not in BASES:
        raise ConfigError(f"unknown population basis {kind!r}. Fix: use one of {', '.join(BASES)}")
    if kind == "census":
        return base, {"kind": "census", "year": census_year, "total": float(base.sum()),
                      "description": f"district resident population, census {census_year or ''}".strip()}
    if kind == "yearend":
        if not yearend:
            raise ConfigError("the year-end basis needs the city's year-end population. Fix: add "
                              '[population_stats] yearend = { "2023" = ... } to the project file, or use --basis census')
        used = _nearest_year(yearend, year)
        factor = yearend[used] / float(base.sum())
        note = "" if year is None or used == year else f" (the latest before {year})"
        return base * factor, {
            "kind": "yearend", "year": used, "target_year": year, "total": yearend[used], "scale_factor": factor,
            "description": f"census district shares scaled to the {used} year-end city total{note} "
                           f"({yearend[used]:,.0f}); assumes districts grew alike"}
    return _projection(proj, base, year)


def _projection(proj: Project, base: np.ndarray, year: int | None) -> tuple[np.ndarray, dict[str, Any]]:
    proj_t = _year_table(proj.population_stats.get("projection"))
    if not proj_t:
        raise ConfigError('the projection basis needs a projection. Fix: add [population_stats] projection = '
                          '{ "2025" = ... } (persons) to the project file, or use --basis census')
    used = year if year is not None else max(proj_t)
    if used not in proj_t:
        raise ConfigError(f"the projection gives {', '.join(map(str, sorted(proj_t)))}, not {used}. Fix: add "
                          f'"{used}" = ... to [population_stats] projection, or use --basis yearend')
    v = proj_t[used]
    if isinstance(v, dict):
        codes = proj.district_codes
        missing = [c for c, x in zip(codes, proj.no_statistics, strict=True) if not x and c not in v]
        if missing:
            raise ConfigError(f"the {used} projection has no figure for district(s) {', '.join(missing[:8])}. "
                              "Fix: give every district a figure, or a city total")
        pop = np.array([0.0 if x else float(v[c]) for c, x in zip(codes, proj.no_statistics, strict=True)])
        how = "the planner's projection per district"
    else:
        pop = base * (float(v) / float(base.sum()))
        how = f"census district shares scaled to the planner's projected city total ({float(v):,.0f})"
    return pop, {"kind": "projection", "year": used, "target_year": year, "total": float(pop.sum()),
                 "description": f"{how} for {used}"}


def district_targets(plan: Plan, codes: list[str], year: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per district: density target, whether it binds, and the plan's own station minimum (0 if none).

    A district's own ``per_10k`` replaces the plan's figure and always binds;
    otherwise the plan's figure binds each district only when it applies to
    every district (``applies_to = "district"``).
    """
    base = plan.density(year)
    target = np.full(len(codes), base)
    binds = np.full(len(codes), plan.applies_to == "district")
    minimum = np.zeros(len(codes), dtype=np.int64)
    for i, c in enumerate(codes):
        d = plan.district_targets(c)
        if d is None:
            continue
        if year in d.per_10k:
            target[i], binds[i] = d.per_10k[year], True
        if year in d.stations:
            minimum[i] = d.stations[year]
    return target, binds, minimum


@dataclass(frozen=True)
class CheckTotal:
    """Totals of the density check over the project's area; districts without statistics left out.

    ``districts_without_statistics`` and ``stations_in_districts_without_statistics``
    are ``None`` (left out of :meth:`to_dict`) when every district has statistics;
    ``stations_target`` and ``stations_short`` are ``None`` when the plan states no
    station count for the year (or withholds it).
    """

    population: float
    stations: int
    per_10k: float | None
    target_per_10k: float
    required: int
    shortfall: int
    sum_of_district_shortfalls: int
    districts_meeting_target: int
    districts: int
    sites_outside_districts: int
    districts_without_statistics: tuple[str, ...] | None = None
    stations_in_districts_without_statistics: int | None = None
    stations_target: int | None = None
    stations_short: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        d = plain(dataclasses.asdict(self))
        return {k: v for k, v in d.items() if v is not None or k == "per_10k"}


@dataclass(frozen=True)
class CheckReport:
    """Result of :func:`check`: per-district density table, the area's total and plan consistency.

    ``applies_to`` says how the density target binds (``area``: one figure for
    the plan's whole area, districts shown for reference; ``district``: every
    district); ``area_code`` / ``area_name`` are the project's own area, which
    labels the total (never the plan's, when a parent plan is applied).
    """

    plan: Plan
    year: int
    basis: dict[str, Any]
    table: pd.DataFrame
    total: CheckTotal
    consistency: dict[str, Any]
    modelled_layers: tuple[str, ...]
    applies_to: str = "area"
    area_code: str = ""
    area_name: str = ""

    @property
    def meets_target(self) -> bool:
        """Whether the binding targets are met: the area's total, and every district where one binds."""
        t = self.table
        binds = t["binding"].to_numpy(dtype=bool) if "binding" in t.columns else np.zeros(len(t), dtype=bool)
        ok = t["meets_target"].to_numpy()
        district_ok = all(bool(v) for v, b in zip(ok, binds, strict=True) if b and v is not None)
        return self.total.shortfall == 0 and district_ok

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (layout ``geoplan.check/1``, documented in docs/check-json.md).

        The edge data-centre and charging sections are added by
        :func:`geoplan.plan_check.check_plan`.
        """
        rows = []
        for r in self.table.itertuples(index=False):
            rows.append({
                "XZQDM": r.XZQDM, "XZQMC": r.XZQMC, "population": _num(r.population, 1),
                "stations": int(r.stations), "per_10k": _num(r.per_10k, 2),
                "target_per_10k": float(r.target_per_10k), "required": int(r.required),
                "shortfall": int(r.shortfall), "binding": bool(r.binding),
                "meets_target": None if r.meets_target is None else bool(r.meets_target),
                **({"note": r.note} if getattr(r, "note", "") else {}),
            })
        return {
            "schema": SCHEMA,
            "plan": self.plan.describe(),
            "area": {"xzqdm": self.area_code, "name": self.area_name},
            "year": self.year,
            "indicator": "5g_per_10k",
            "applies_to": self.applies_to,
            "population_basis": self.basis,
            "districts": rows,
            "total": self.total.to_dict(),
            "consistency": self.consistency,
            "modelled_layers": list(self.modelled_layers),
        }


def _num(v: float, nd: int) -> float | None:
    return None if v is None or not math.isfinite(float(v)) else round(float(v), nd)


def _stations(proj: Project) -> tuple[np.ndarray, int]:
    n = len(proj.districts)
    if proj.layer("sites") is None:
        return np.zeros(n, dtype=np.int64), 0
    idx = proj.district_of("sites")
    return np.bincount(idx[idx >= 0], minlength=n), int((idx < 0).sum())


def count_target(plan: Plan, year: int) -> tuple[int | None, str | None]:
    """The plan's station count for ``year`` and, when it is withheld, why (never raises)."""
    try:
        return plan.station_count(year), None
    except ConfigError as exc:
        return None, str(exc).split(" Fix:")[0]


def check(proj: Project, *, year: int = 2025, plan: str | Plan | None = None,
          population_year: int | None = None, basis: str | None = None,
          extra_stations: np.ndarray | None = None) -> CheckReport:
    """Check the project's 5G stations per 10k residents against the plan's target for ``year``.

    Parameters
    ----------
    proj : Project
        The project (districts, population, existing ``sites``).
    year : int
        Target year (2023, 2024 or 2025 for the shipped plans).
    plan : str or Plan, optional
        A plan other than the project's own (a shipped plan's key, a targets file, a Plan).
    population_year : int, optional
        A fixed year-end population basis (see :func:`population_basis`).
    basis : {"census", "yearend", "projection"}, optional
        Population basis; the project's by default.
    extra_stations : ndarray, optional
        Planned stations per district, added to the existing ones (what-if).

    Examples
    --------
    >>> import geoplan as gp
    >>> rep = gp.targets.check(gp.load_project(), year=2025)
    >>> rep.total.stations, rep.total.target_per_10k, rep.total.required, rep.applies_to
    (10881, 33.0, 17580, 'area')
    """
    from .scope import plan_of

    p = plan_of(proj, plan)
    p.check_year(year)
    target = p.density(year)
    pop, info = population_basis(proj, population_year, basis=basis, year=year)
    stations, outside = _stations(proj)
    if extra_stations is not None:
        stations = stations + np.asarray(extra_stations, dtype=np.int64)
    dtarget, binds, minimum = district_targets(p, proj.district_codes, year)
    d = density(pop, stations, target_per_10k=dtarget)
    required = np.maximum(d.required, minimum)
    table = pd.DataFrame({
        "XZQDM": proj.district_codes, "XZQMC": proj.district_names, "population": d.population,
        "stations": d.stations, "per_10k": d.per_10k, "target_per_10k": dtarget, "required": required,
        "shortfall": np.maximum(required - d.stations, 0), "meets_target": d.stations >= required, "binding": binds,
    })
    ok = ~proj.no_statistics  # districts without statistics (金门县) are shown but left out of every total
    if not ok.all():
        table["population"] = table["population"].where(ok)
        table["meets_target"] = table["meets_target"].astype(object).where(ok, None)
        table["note"] = np.where(ok, "", "no statistics")
    city = density(np.array([pop[ok].sum()]), np.array([stations[ok].sum()]), target_per_10k=target)
    nostats = [f"{c} {m}" for c, m, x in zip(proj.district_codes, proj.district_names, ok, strict=True) if not x]
    count, _ = count_target(p, year)
    total = CheckTotal(
        population=round(float(pop[ok].sum()), 1), stations=int(stations[ok].sum()),
        per_10k=_num(city.per_10k[0], 2), target_per_10k=target, required=int(city.required[0]),
        shortfall=int(city.shortfall[0]), sum_of_district_shortfalls=int(table["shortfall"].to_numpy()[ok].sum()),
        districts_meeting_target=int(table["meets_target"].to_numpy()[ok].astype(bool).sum()),
        districts=int(ok.sum()), sites_outside_districts=outside,
        districts_without_statistics=tuple(nostats) if nostats else None,
        stations_in_districts_without_statistics=int(stations[~ok].sum()) if nostats else None,
        stations_target=count, stations_short=None if count is None else max(count - int(stations[ok].sum()), 0))
    return CheckReport(plan=p, year=year, basis=info, table=table, total=total,
                       consistency=_consistency(proj, p, year, target, int(stations[ok].sum()), info),
                       modelled_layers=tuple(sorted(k for k in proj.provenance if proj.is_modelled(k))),
                       applies_to=p.applies_to, area_code=proj.area_code or "", area_name=proj.area_name)


def _consistency(proj: Project, plan: Plan, year: int, target: float, stations: int,
                 basis: dict[str, Any]) -> dict[str, Any]:
    """How the plan's own numbers fit together and fit the population figures (on the chosen basis)."""
    stats = proj.population_stats
    census = float(stats.get("census_total", proj.district_population[~proj.no_statistics].sum()))
    yearend = {y: float(v) for y, v in _year_table(stats.get("yearend")).items()}
    out: dict[str, Any] = {"census_population": census, "basis_population": basis["total"]}
    if plan.application is not None:
        out["application"] = plan.application.statement
    latest = max(yearend) if yearend else None
    if latest is not None:
        out["latest_yearend"] = {"year": latest, "population": yearend[latest]}
    count, withheld = count_target(plan, year)
    if withheld:
        out["station_target_withheld"] = withheld
    if count is not None:
        implied = float(count) / target * 1e4
        st = plan.target("stations")
        out["station_target"] = {
            "stations": count, "quote": st.quote if st is not None else "",
            "implied_population_at_target_density": round(implied, 0),
            "implied_vs_census": round(implied / census, 4),
            "implied_vs_basis": round(implied / basis["total"], 4),
            "per_10k_at_census": round(float(count) / census * 1e4, 2),
            "per_10k_at_basis": round(float(count) / basis["total"] * 1e4, 2),
            "to_build_from_current": max(count - stations, 0),
        }
        if latest is not None:
            pop_l = yearend[latest]
            out["station_target"].update({
                "implied_vs_latest_yearend": round(implied / pop_l, 4),
                "per_10k_at_latest_yearend": round(float(count) / pop_l * 1e4, 2),
                "stations_needed_at_latest_yearend": math.ceil(target * pop_l / 1e4 - 1e-9),
            })
    by = plan.baseline_year
    if by is not None and plan.per_10k.baseline is not None and plan.application is not None \
            and plan.application.kind == "own":
        try:
            pop_b, info_b = population_basis(proj, basis=basis["kind"] if basis["kind"] != "projection" else "census",
                                             year=by)
        except ConfigError:
            return out
        total_b = float(pop_b[~proj.no_statistics].sum())
        out["baseline"] = {
            "year": by, "plan_per_10k": plan.per_10k.baseline, "basis": info_b["description"],
            "basis_population": total_b, "implied_stations": round(plan.per_10k.baseline * total_b / 1e4),
            "layer_stations": stations, "layer_per_10k_at_baseline_population": round(stations / total_b * 1e4, 2),
        }
        if "year" in info_b:
            out["baseline"]["population_year"] = info_b["year"]
        if by in yearend:
            out["baseline"]["yearend_population"] = yearend[by]
    return out
