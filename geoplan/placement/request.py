"""What a placement is asked to do: the target year, the budget of new sites and the district quotas.

Both engines start from one :class:`PlanRequest`, made by :func:`plan_request`
from the density check, so a total or a year means the same in each.

Three choices shape a request:

``meet``
    ``density`` — the year's density target (stations per 10k residents);
    ``count`` — the plan's absolute station count for the year (e.g. 18,500);
    ``both`` — whichever needs more sites.
``quotas``
    ``area`` — the density target is one figure for the plan's whole area
    (全市/全省): only the area's total must reach it, and the new sites go where
    they cover most people; ``district`` — every district must reach it (each
    gets its shortfall as a minimum); ``plan`` (default) — what the plan states
    (``applies_to`` in its targets file). Districts the plan gives targets of
    their own always get them.
``basis``
    the population the density target is measured against (census, year-end,
    projection; :func:`geoplan.targets.population_basis`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..errors import ConfigError
from ..project import Project
from ..targets import check, district_targets, plan_of
from ..targets.plans import AREA_SYNONYMS, Plan
from ._steps import allocate_quotas, new_site_budget

__all__ = ["PlanRequest", "plan_request", "MEET", "QUOTAS", "quota_mode", "YearTargetsFor", "targets_for",
           "count_or_none"]

#: What a placement must meet.
MEET: tuple[str, ...] = ("density", "count", "both")
#: How the density target binds the districts (``plan``: as the plan states).
QUOTAS: tuple[str, ...] = ("plan", "area", "district")


@dataclass(frozen=True, eq=False)
class PlanRequest:
    """A checked placement request.

    Attributes
    ----------
    year : int
        Target year whose targets set the budget and quotas.
    population_year : int or None
        A fixed year-end population basis (``None``: the ``basis``).
    basis : dict
        Description of the population basis.
    population : ndarray of float
        District populations on that basis.
    target_per_10k : float
        The year's density target of the plan's area.
    existing_per_district : ndarray of int
        Stations per district counted as built (existing sites, and earlier
        phases' sites in a phased plan).
    shortfall : ndarray of int
        New stations each district must get: its density shortfall where the
        target binds districts, else its own minimum from the plan (usually 0).
    p : int
        New sites to place.
    quotas : ndarray of int
        Minimum new sites per district (the shortfalls, or ``p`` shared in proportion to them).
    meet : str
        ``density``, ``count``, ``both``, or ``total`` when a station total was given.
    quota_mode : str
        ``area`` or ``district`` (see the module notes).
    area_required : int
        Stations the area needs for the density target.
    stations_target : int or None
        The plan's station count for the year (``None`` when it states none).
    district_target : ndarray of float
        Density target of each district (the plan's figure, or the district's own).
    basis_kind : str or None
        The basis asked for (``None``: the project's).
    binding : ndarray of bool or None
        Whether the density target binds each district.
    """

    year: int
    population_year: int | None
    basis: dict[str, Any]
    population: NDArray[np.float64]
    target_per_10k: float
    existing_per_district: NDArray[np.int64]
    shortfall: NDArray[np.int64]
    p: int
    quotas: NDArray[np.int64]
    meet: str = "density"
    quota_mode: str = "area"
    area_required: int = 0
    stations_target: int | None = None
    district_target: NDArray[np.float64] | None = None
    basis_kind: str | None = None
    binding: NDArray[np.bool_] | None = None


def quota_mode(plan: Plan, quotas: str) -> str:
    """``area`` or ``district``: ``quotas`` resolved against what the plan states.

    Examples
    --------
    >>> from geoplan.targets import load_plan
    >>> quota_mode(load_plan("xiamen"), "plan"), quota_mode(load_plan("xiamen"), "district")
    ('area', 'district')
    """
    q = "area" if quotas in AREA_SYNONYMS else quotas
    if q not in QUOTAS:
        raise ConfigError(f"unknown quotas {quotas!r}. Fix: use area (one figure for the plan's whole area), "
                          "district (every district) or plan (as the plan states)")
    return plan.applies_to if q == "plan" else q


@dataclass(frozen=True, eq=False)
class YearTargetsFor:
    """The targets of one year as they bind a project's districts (see :func:`targets_for`)."""

    plan: Plan
    year: int
    target_per_10k: float
    district_target: NDArray[np.float64]
    binding: NDArray[np.bool_]
    minimum: NDArray[np.int64]
    quota_mode: str
    stations_target: int | None


def targets_for(proj: Project, *, year: int | None, quotas: str = "plan") -> YearTargetsFor:
    """The year's targets for ``proj``: area figure, each district's target and whether it binds.

    A district binds when the quotas are per district, or when the plan gives it
    targets of its own (``[[districts]]``).

    Examples
    --------
    >>> import geoplan as gp
    >>> t = targets_for(gp.load_project(), year=2024)
    >>> t.target_per_10k, bool(t.binding.any()), t.quota_mode, t.stations_target
    (29.0, False, 'area', None)
    """
    plan = plan_of(proj)
    yr = plan.check_year(year) if year is not None else max(plan.years)
    mode = quota_mode(plan, quotas)
    dt, _, minimum = district_targets(plan, proj.district_codes, yr)
    own = np.array([(d := plan.district_targets(c)) is not None and (yr in d.per_10k or yr in d.stations)
                    for c in proj.district_codes], dtype=bool)
    binding = own | (mode == "district")
    return YearTargetsFor(plan=plan, year=yr, target_per_10k=plan.density(yr), district_target=dt,
                          binding=binding, minimum=minimum, quota_mode=mode,
                          stations_target=count_or_none(plan, yr))


def _count(plan: Plan, year: int, meet: str) -> int | None:
    count = plan.station_count(year)  # a withheld count raises here, with the statement
    if count is None and meet in ("count", "both"):
        t = plan.target("stations")
        have = f" (it does for {', '.join(map(str, t.years))})" if t is not None else ""
        if meet == "count" or t is None:  # "both" in a year without a count: the density target alone
            raise ConfigError(f"plan '{plan.key}' states no 5G station count for {year}{have}. Fix: use "
                              "--meet density" + (f", or --year {max(t.years)}" if t is not None else
                                                 ", or add [targets.stations] to the targets file"))
    return count


def plan_request(proj: Project, *, total: int | None, year: int | None, population_year: int | None = None,
                 basis: str | None = None, meet: str | None = None, quotas: str = "plan",
                 prior: NDArray[np.int64] | None = None) -> PlanRequest:
    """Turn ``total`` (all stations wanted) and/or ``year`` (meet its targets) into a budget and quotas.

    Parameters
    ----------
    total : int, optional
        Stations wanted in total; the budget is ``total`` minus the stations built.
    year : int, optional
        Target year (the plan's last without one).
    population_year, basis
        Population basis (see :func:`geoplan.targets.population_basis`).
    meet : {"density", "count", "both"}, optional
        What the budget must reach (default ``density``; not with ``total``).
    quotas : {"plan", "area", "district"}
        How the density target binds districts (see the module notes).
    prior : ndarray of int, optional
        Sites per district already planned (earlier phases), counted as built.

    Raises
    ------
    ConfigError
        Neither ``total`` nor ``year``, ``total`` with ``meet``, a year the plan
        does not cover, a count target the plan does not state (or withholds).
    InfeasibleError
        A total below the stations that already exist.

    Examples
    --------
    >>> import geoplan as gp
    >>> req = plan_request(gp.load_project(), total=None, year=2025, meet="both")
    >>> req.p, req.p + int(req.existing_per_district.sum()), req.quota_mode
    (7619, 18500, 'area')
    """
    if total is None and year is None:
        raise ConfigError("say how many stations to plan. Fix: give --total N (all stations) or --year Y "
                          "(meet that year's targets)")
    if total is not None and meet is not None:
        raise ConfigError("--total sets the number of stations itself. Fix: give --total or --meet, not both")
    if meet is not None and meet not in MEET:
        raise ConfigError(f"unknown meet {meet!r}. Fix: use density, count or both")
    tf = targets_for(proj, year=year, quotas=quotas)
    plan, yr, mode = tf.plan, tf.year, tf.quota_mode
    rep = check(proj, year=yr, population_year=population_year, basis=basis, extra_stations=prior)
    ok = ~proj.no_statistics
    t = rep.table
    existing = t["stations"].to_numpy(dtype=np.int64)
    required = t["required"].to_numpy(dtype=np.int64)  # density (district's own target where given) and minimums
    need = np.where(tf.binding, required, tf.minimum)
    shortfall = np.where(ok, np.maximum(need - existing, 0), 0).astype(np.int64)
    built = int(existing[ok].sum())
    p_density = max(int(shortfall.sum()), rep.total.required - built)
    what = "total" if total is not None else (meet or "density")
    count = _count(plan, yr, what) if what != "total" else count_or_none(plan, yr)
    if total is not None:
        p = new_site_budget(total, existing=built, shortfall=shortfall)
    elif what == "density":
        p = p_density
    else:  # count, or both (a year without a stated count: its density target alone)
        p_count = max(count - built, 0) if count is not None else 0
        p = p_count if what == "count" else max(p_density, p_count)
    return PlanRequest(year=yr, population_year=population_year, basis=rep.basis,
                       population=t["population"].fillna(0.0).to_numpy(dtype=float),
                       target_per_10k=float(plan.density(yr)), existing_per_district=existing,
                       shortfall=shortfall, p=p, quotas=allocate_quotas(shortfall, p), meet=what, quota_mode=mode,
                       area_required=rep.total.required, stations_target=count,
                       district_target=t["target_per_10k"].to_numpy(dtype=float), basis_kind=basis,
                       binding=tf.binding)


def count_or_none(plan: Plan, year: int) -> int | None:
    """The plan's station count for ``year``; ``None`` when it states none or withholds it."""
    try:
        return plan.station_count(year)
    except ConfigError:
        return None
