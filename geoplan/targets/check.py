"""Where each district stands against the plan's 5G density target.

The array core, :func:`density`, works on populations and station counts; the
project-level :func:`check` builds them from a :class:`~geoplan.project.Project`
and adds the plan-consistency figures a planner needs to read the targets right.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._json import plain
from ..errors import ConfigError
from ..project import Project
from .plans import Plan, load_plan

__all__ = ["Density", "density", "CheckTotal", "CheckReport", "check", "population_basis", "SCHEMA"]

#: Identifier of the JSON layout produced by :meth:`CheckReport.to_dict` (bump on breaking change).
SCHEMA = "geoplan.check/1"


@dataclass(frozen=True)
class Density:
    """Stations per 10,000 residents against a target, per area.

    All arrays share one order (e.g. districts).
    """

    population: np.ndarray
    stations: np.ndarray
    per_10k: np.ndarray
    target_per_10k: float
    required: np.ndarray
    shortfall: np.ndarray
    meets: np.ndarray


def density(population: np.ndarray, stations: np.ndarray, *, target_per_10k: float) -> Density:
    """Stations per 10k, stations required by the target and the shortfall.

    ``required = ceil(target × population / 10,000)``; ``shortfall = max(0, required − stations)``.

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
    with np.errstate(divide="ignore", invalid="ignore"):
        per = np.where(pop > 0, st / pop * 1e4, np.nan)
    # the small epsilon keeps exact products (e.g. 33 × 10,000 / 10,000) from rounding up
    required = np.ceil(target_per_10k * pop / 1e4 - 1e-9).astype(np.int64)
    shortfall = np.maximum(required - st, 0)
    return Density(population=pop, stations=st, per_10k=per, target_per_10k=float(target_per_10k),
                   required=required, shortfall=shortfall, meets=st >= required)


def population_basis(proj: Project, population_year: int | None) -> tuple[np.ndarray, dict[str, Any]]:
    """District populations on the chosen basis, and a description of it.

    ``None`` uses the districts' census population; a year uses the census
    district shares scaled to that year's city year-end total from the project's
    ``[population_stats]`` (an assumption: districts grew alike).
    """
    base = proj.district_population
    census_year = proj.population_stats.get("census_year")
    if population_year is None:
        return base, {"kind": "census", "year": census_year, "total": float(base.sum()),
                      "description": f"district resident population, census {census_year or ''}".strip()}
    yearend = {int(k): float(v) for k, v in proj.population_stats.get("yearend", {}).items()}
    if population_year not in yearend:
        raise ConfigError(f"no year-end population for {population_year} in the project "
                          f"(have: {', '.join(map(str, sorted(yearend))) or 'none'}). "
                          "Fix: choose one of those years or add it under [population_stats] yearend")
    factor = yearend[population_year] / float(base.sum())
    return base * factor, {
        "kind": "yearend_scaled", "year": population_year, "total": yearend[population_year],
        "scale_factor": factor,
        "description": f"census district shares scaled to the {population_year} year-end city total "
                       f"({yearend[population_year]:,.0f}); assumes districts grew alike",
    }


@dataclass(frozen=True)
class CheckTotal:
    """City (or province) totals of the density check; districts without statistics left out.

    ``districts_without_statistics`` and ``stations_in_districts_without_statistics``
    are ``None`` (left out of :meth:`to_dict`) when every district has statistics.
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

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        d = plain(dataclasses.asdict(self))
        return {k: v for k, v in d.items() if v is not None or k == "per_10k"}


@dataclass(frozen=True)
class CheckReport:
    """Result of :func:`check`: per-district density table, city total and plan consistency."""

    plan: Plan
    year: int
    basis: dict[str, Any]
    table: pd.DataFrame
    total: CheckTotal
    consistency: dict[str, Any]
    modelled_layers: tuple[str, ...]

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
                "shortfall": int(r.shortfall),
                "meets_target": None if r.meets_target is None else bool(r.meets_target),
                **({"note": r.note} if getattr(r, "note", "") else {}),
            })
        return {
            "schema": SCHEMA,
            "plan": {"key": self.plan.key, "title": self.plan.title, "document": self.plan.document,
                     "issued": self.plan.issued},
            "year": self.year,
            "indicator": "5g_per_10k",
            "population_basis": self.basis,
            "districts": rows,
            "total": self.total.to_dict(),
            "consistency": self.consistency,
            "modelled_layers": list(self.modelled_layers),
        }


def _num(v: float, nd: int) -> float | None:
    return None if v is None or not math.isfinite(float(v)) else round(float(v), nd)


def check(proj: Project, *, year: int = 2025, plan: str | None = None,
          population_year: int | None = None, extra_stations: np.ndarray | None = None) -> CheckReport:
    """Check each district's 5G stations per 10k residents against the plan's target for ``year``.

    Parameters
    ----------
    proj : Project
        The project (districts, population, existing ``sites``).
    year : int
        Target year (2023, 2024 or 2025 for the shipped plans).
    plan : str, optional
        Plan key; the project's own plan by default.
    population_year : int, optional
        Population basis: ``None`` for the census, or a year with a year-end city total.
    extra_stations : ndarray, optional
        Planned stations per district, added to the existing ones (what-if).

    Examples
    --------
    >>> import geoplan as gp
    >>> rep = gp.targets.check(gp.load_project(), year=2025)
    >>> rep.total.stations, rep.total.target_per_10k
    (10881, 33.0)
    """
    p = load_plan(plan or proj.plan)
    p.check_year(year)
    ind = p.indicator("5g_per_10k")
    target = float(ind.target(year))
    pop, basis = population_basis(proj, population_year)
    n = len(proj.districts)
    if proj.layer("sites") is not None:
        idx = proj.district_of("sites")
        stations = np.bincount(idx[idx >= 0], minlength=n)
        outside = int((idx < 0).sum())
    else:
        stations, outside = np.zeros(n, dtype=np.int64), 0
    if extra_stations is not None:
        stations = stations + np.asarray(extra_stations, dtype=np.int64)
    d = density(pop, stations, target_per_10k=target)
    table = pd.DataFrame({
        "XZQDM": proj.district_codes, "XZQMC": proj.district_names, "population": d.population,
        "stations": d.stations, "per_10k": d.per_10k, "target_per_10k": target, "required": d.required,
        "shortfall": d.shortfall, "meets_target": d.meets,
    })
    ok = ~proj.no_statistics  # districts without statistics (金门县) are shown but left out of every total
    if not ok.all():
        table["population"] = table["population"].where(ok)
        table["meets_target"] = table["meets_target"].astype(object).where(ok, None)
        table["note"] = np.where(ok, "", "no statistics")
    city = density(np.array([pop[ok].sum()]), np.array([stations[ok].sum()]), target_per_10k=target)
    nostats = [f"{c} {m}" for c, m, x in zip(proj.district_codes, proj.district_names, ok, strict=True) if not x]
    total = CheckTotal(
        population=round(float(pop[ok].sum()), 1), stations=int(stations[ok].sum()),
        per_10k=_num(city.per_10k[0], 2), target_per_10k=target, required=int(city.required[0]),
        shortfall=int(city.shortfall[0]), sum_of_district_shortfalls=int(d.shortfall[ok].sum()),
        districts_meeting_target=int(d.meets[ok].sum()), districts=int(ok.sum()), sites_outside_districts=outside,
        districts_without_statistics=tuple(nostats) if nostats else None,
        stations_in_districts_without_statistics=int(stations[~ok].sum()) if nostats else None)
    return CheckReport(plan=p, year=year, basis=basis, table=table, total=total,
                       consistency=_consistency(proj, p, year, target, int(stations[ok].sum())),
                       modelled_layers=tuple(sorted(k for k in proj.provenance if proj.is_modelled(k))))


def _consistency(proj: Project, plan: Plan, year: int, target: float, stations: int) -> dict[str, Any]:
    """How the plan's own numbers fit together and fit the population figures."""
    stats = proj.population_stats
    census = float(stats.get("census_total", proj.district_population.sum()))
    yearend = {int(k): float(v) for k, v in stats.get("yearend", {}).items()}
    out: dict[str, Any] = {"census_population": census}
    latest = max(yearend) if yearend else None
    if latest is not None:
        out["latest_yearend"] = {"year": latest, "population": yearend[latest]}
    st = plan.text_target("5g_stations")
    if st is not None and int(st.year) == year:
        implied = float(st.value) / target * 1e4
        out["station_target"] = {
            "stations": int(st.value), "quote": st.quote,
            "implied_population_at_target_density": round(implied, 0),
            "implied_vs_census": round(implied / census, 4),
            "per_10k_at_census": round(float(st.value) / census * 1e4, 2),
        }
        if latest is not None:
            pop_l = yearend[latest]
            out["station_target"].update({
                "implied_vs_latest_yearend": round(implied / pop_l, 4),
                "per_10k_at_latest_yearend": round(float(st.value) / pop_l * 1e4, 2),
                "stations_needed_at_latest_yearend": math.ceil(target * pop_l / 1e4 - 1e-9),
            })
        out["station_target"]["to_build_from_current"] = max(int(st.value) - stations, 0)
    ind = plan.indicator("5g_per_10k")
    by = plan.baseline_year
    if by in yearend:
        out["baseline"] = {
            "year": by, "plan_per_10k": ind.baseline, "yearend_population": yearend[by],
            "implied_stations": round(ind.baseline * yearend[by] / 1e4),
            "layer_stations": stations,
            "layer_per_10k_at_baseline_population": round(stations / yearend[by] * 1e4, 2),
        }
    return out
