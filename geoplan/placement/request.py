"""What a placement is asked to do: the target year, the budget of new sites and the district quotas.

Both engines start from one :class:`PlanRequest`, made by :func:`plan_request`
from the density check, so a total or a year means the same in each.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..errors import ConfigError
from ..project import Project
from ..targets import check, load_plan
from ._steps import allocate_quotas, new_site_budget

__all__ = ["PlanRequest", "plan_request"]


@dataclass(frozen=True, eq=False)
class PlanRequest:
    """A checked placement request.

    Attributes
    ----------
    year : int
        Target year whose density target sets the quotas.
    population_year : int or None
        Population basis (``None``: census).
    basis : dict
        Description of the population basis.
    population : ndarray of float
        District populations on that basis.
    target_per_10k : float
        The year's density target.
    existing_per_district : ndarray of int
        Existing stations per district (sites inside the district polygons).
    shortfall : ndarray of int
        New stations each district needs to meet the target.
    p : int
        New sites to place.
    quotas : ndarray of int
        Minimum new sites per district (the shortfalls, or ``p`` shared in proportion to them).
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


def plan_request(proj: Project, *, total: int | None, year: int | None,
                 population_year: int | None = None) -> PlanRequest:
    """Turn ``total`` (all stations wanted) and/or ``year`` (meet its target) into a budget and quotas.

    Without ``year`` the plan's last year sets the quotas; without ``total`` the
    budget is the sum of the district shortfalls.

    Raises
    ------
    ConfigError
        Neither ``total`` nor ``year``, or a year the plan does not cover.
    InfeasibleError
        A total below the stations that already exist.

    Examples
    --------
    >>> import geoplan as gp
    >>> req = plan_request(gp.load_project(), total=None, year=2025)
    >>> req.p == int(req.shortfall.sum()), int(req.existing_per_district.sum())
    (True, 10881)
    """
    if total is None and year is None:
        raise ConfigError("say how many stations to plan. Fix: give --total N (all stations) or --year Y "
                          "(meet that year's density target)")
    plan = load_plan(proj.plan)
    yr = plan.check_year(year) if year is not None else max(plan.years)
    rep = check(proj, year=yr, population_year=population_year)
    ok = ~proj.no_statistics
    shortfall = np.where(ok, rep.table["shortfall"].to_numpy(dtype=np.int64), 0)
    existing = rep.table["stations"].to_numpy(dtype=np.int64)
    p = new_site_budget(total, existing=int(existing[ok].sum()), shortfall=shortfall)
    return PlanRequest(year=yr, population_year=population_year, basis=rep.basis,
                       population=rep.table["population"].fillna(0.0).to_numpy(dtype=float),
                       target_per_10k=float(plan.indicator("5g_per_10k").target(yr)), existing_per_district=existing,
                       shortfall=shortfall, p=p, quotas=allocate_quotas(shortfall, p))
