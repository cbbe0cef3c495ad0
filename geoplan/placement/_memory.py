"""The in-memory engine: every demand cell and candidate in one coverage matrix.

Used for cities (up to a few million populated cells). Greedy or exact
(HiGHS) maximal covering with district quotas on the arrays of a
:class:`~.context.PlanningContext`.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from .. import coverage as cov
from .._typing import Progress
from ..errors import InfeasibleError
from ..targets import load_plan, population_basis
from ._result import PlacementResult, relative_gap
from ._steps import marginal_gains
from .context import PlanningContext
from .costing import SitingSummary, cost_rows, siting_summary
from .exact import exact_mclp
from .greedy import greedy_mclp
from .request import PlanRequest
from .results import Evaluation, PlanResult, PlanSummary, district_table, plan_totals, planned_sites_frame
from .settings import PlanSettings

__all__ = ["evaluate_sites", "place_in_memory", "sites_frame", "plan_siting"]


def evaluate_sites(ctx: PlanningContext, selected: NDArray[np.int64] | list[int], *, year: int | None = None,
                   population_year: int | None = None) -> Evaluation:
    """Density and population coverage per district when candidates ``selected`` are built.

    Parameters
    ----------
    ctx : PlanningContext
        The project's arrays.
    selected : array_like of int
        Candidate columns built (e.g. the first N of a greedy order).
    year : int, optional
        Target year (the plan's last by default).
    population_year : int, optional
        Population basis (``None``: census).

    Examples
    --------
    >>> import geoplan as gp
    >>> ctx = gp.placement.planning_context(gp.load_project())
    >>> ev = evaluate_sites(ctx, [], year=2025)
    >>> ev.summary.stations, ev.summary.target_per_10k
    (10881, 33.0)
    """
    proj = ctx.project
    sel = np.asarray(selected, dtype=np.int64)
    after = ctx.covered0 | cov.covered(ctx.coverage, selected=sel)
    w, g, n = ctx.demand_weights, ctx.demand_district, ctx.n_districts
    plan = load_plan(proj.plan)
    yr = plan.check_year(year) if year is not None else max(plan.years)
    pop, basis = population_basis(proj, population_year)
    cells = np.bincount(g, weights=w, minlength=n)
    before_d = np.bincount(g, weights=w * ctx.covered0, minlength=n)
    after_d = np.bincount(g, weights=w * after, minlength=n)
    table = district_table(proj, population=pop, existing=ctx.existing_per_district,
                           new=np.bincount(ctx.cand_district[sel], minlength=n),
                           target_per_10k=float(plan.indicator("5g_per_10k").target(yr)),
                           cell_population=cells, covered_before=before_d, covered_after=after_d)
    totals = plan_totals(proj, table, year=yr, basis=basis, cell_population=cells, covered_before=before_d,
                         covered_after=after_d)
    return Evaluation(districts=table, summary=totals)


def _fixed_columns(ctx: PlanningContext, fixed_xy: NDArray[np.float64] | None) -> NDArray[np.int64] | None:
    if fixed_xy is None or not len(fixed_xy):
        return None
    if not len(ctx.cand_xy):
        raise InfeasibleError("sites to keep were given but the project has no candidate sites to snap them to. "
                              "Fix: add candidates or leave the fixed sites out")
    return np.unique(cKDTree(ctx.cand_xy).query(np.asarray(fixed_xy, dtype=float), k=1)[1]).astype(np.int64)


def _solve(ctx: PlanningContext, req: PlanRequest, *, method: str, fixed: NDArray[np.int64] | None,
           time_limit_s: float, mip_rel_gap: float, cost_weight: float) -> tuple[PlacementResult, float | None]:
    """Greedy (or exact) maximal covering; with a cost weight, on the problem with cost rows (:mod:`.costing`).

    Returns the result and, with a cost weight, the newly covered residents of the
    coverage-only greedy plan (the coverage the cost weight gives up is measured
    against it). The result's ``objective`` and ``covered_share`` are the coverage
    of the real demand; with a cost weight its ``gap`` is that of the cost-aware
    score, against the coverage-only bound plus the ``p`` largest cost rows.
    """
    if req.p > ctx.coverage.shape[1]:
        raise InfeasibleError(f"{req.p:,} new sites requested but only {ctx.coverage.shape[1]:,} candidates exist. "
                              "Fix: add candidates (a candidate inventory, more modelled candidates with "
                              "--n-candidates, or another generator) or plan fewer sites")
    kw: dict[str, Any] = dict(p=req.p, groups=ctx.cand_district, min_per_group=req.quotas, fixed=fixed,
                              secondary=ctx.cand_density)
    plain = greedy_mclp(ctx.coverage, ctx.demand_weights, covered0=ctx.covered0, **kw)
    if cost_weight <= 0:
        if method == "exact":
            return exact_mclp(ctx.coverage, ctx.demand_weights, covered0=ctx.covered0, time_limit_s=time_limit_s,
                              mip_rel_gap=mip_rel_gap, warm_start=plain.selected, **kw), None
        return plain, None
    A, w, c0 = cost_rows(ctx.coverage, ctx.demand_weights, ctx.covered0, ctx.cand_cost, weight=cost_weight)
    res = greedy_mclp(A, w, covered0=c0, **kw)
    if method == "exact":
        res = exact_mclp(A, w, covered0=c0, time_limit_s=time_limit_s, mip_rel_gap=mip_rel_gap,
                         warm_start=res.selected, **kw)
    rebates = w[ctx.coverage.shape[0]:]
    bound = plain.objective * (1.0 + (plain.gap or 0.0)) + float(np.sort(rebates)[rebates.size - req.p:].sum())
    gap = None if res.gap is None else min(res.gap, relative_gap(res.objective, bound))
    sel = np.asarray(res.selected, dtype=np.int64)
    after = ctx.covered0 | cov.covered(ctx.coverage, selected=sel)
    total = float(ctx.demand_weights.sum())
    res = dataclasses.replace(res, objective=float(ctx.demand_weights[after & ~ctx.covered0].sum()), gap=gap,
                              covered_share=float(ctx.demand_weights[after].sum()) / total if total else 1.0)
    return res, plain.objective


def sites_frame(ctx: PlanningContext, selected: NDArray[np.int64]) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """The ``planned_sites`` layer of candidate columns ``selected`` (in order chosen), and their conflicts table."""
    sel = np.asarray(selected, dtype=np.int64)
    soft = ctx.cand_conflicts.subset(sel)
    sites = planned_sites_frame(ctx.project, xy=ctx.cand_xy[sel], site_type=ctx.cand_type[sel],
                                radius_m=ctx.cand_radius[sel], environment=ctx.cand_environment[sel],
                                district=ctx.cand_district[sel],
                                gains=marginal_gains(ctx.coverage, ctx.demand_weights, ctx.covered0, sel),
                                source=ctx.cand_source[sel], modelled=ctx.pool.modelled[sel],
                                kind=ctx.cand_kind[sel], cost=ctx.cand_cost[sel], conflicts=soft.labels())
    return sites, soft.table(sites["SITE_ID"].to_numpy(), ctx.pool.height_m[sel])


def plan_siting(ctx: PlanningContext, selected: NDArray[np.int64], *, cost_weight: float = 0.0,
                objective: float = 0.0, coverage_only: float | None = None) -> SitingSummary:
    """What the chosen candidates reuse, cost and save (:class:`~.costing.SitingSummary`).

    ``objective`` (newly covered residents) only enters ``net_score``.

    Examples
    --------
    >>> import geoplan as gp
    >>> ctx = gp.placement.planning_context(gp.load_project())
    >>> si = plan_siting(ctx, [0, 1, 2])
    >>> si.sites, si.cost_total <= si.cost_all_new
    (3, True)
    """
    sel = np.asarray(selected, dtype=np.int64)
    params = ctx.project.siting.params
    soft = ctx.cand_conflicts.subset(sel)
    kind, stype, cost = ctx.cand_kind[sel], ctx.cand_type[sel], ctx.cand_cost[sel]
    # the same site built new: a new tower / pole / indoor system, in the same soft zones (a new build is itself)
    as_new = np.array([params.cost("new", str(t)) for t in stype]) + soft.extra_cost
    new_cost = np.where(kind == "new", cost, as_new)
    sites_with = np.unique(soft.site[~soft.zones.hard[soft.zone]]).size if soft.site.size else 0
    return siting_summary(kind=kind, source=ctx.cand_source[sel], cost=ctx.cand_cost[sel], new_cost=new_cost,
                          families={k: v.family for k, v in params.kinds.items()}, cost_weight=cost_weight,
                          objective=objective, soft_sites=sites_with, soft_conflicts=int(soft.site.size),
                          hard_sites=int(soft.hard.sum()), candidates=ctx.candidates_summary(),
                          coverage_only=coverage_only)


def place_in_memory(ctx: PlanningContext, req: PlanRequest, *, method: str, fixed_xy: NDArray[np.float64] | None,
                    time_limit_s: float, mip_rel_gap: float, progress: Progress | None,
                    settings: PlanSettings | None = None) -> PlanResult:
    """Choose ``req.p`` new sites among the context's candidates (see :func:`geoplan.placement.place_sites`).

    ``settings`` may differ from the context's in objective-only settings (the cost weight).
    """
    t0 = time.perf_counter()
    s = settings or ctx.settings
    weight = ctx.cost_weight(s)
    step = progress or (lambda f, m: None)
    step(0.0, f"{method}: choosing {req.p:,} sites" + (f" (cost weight {weight:g} residents per 万元)"
                                                        if weight else ""))
    res, coverage_only = _solve(ctx, req, method=method, fixed=_fixed_columns(ctx, fixed_xy),
                                time_limit_s=time_limit_s, mip_rel_gap=mip_rel_gap, cost_weight=weight)
    sel = np.asarray(res.selected, dtype=np.int64)
    ev = evaluate_sites(ctx, sel, year=req.year, population_year=req.population_year)
    sites, conflicts = sites_frame(ctx, sel)
    summary = PlanSummary(
        **vars(ev.summary), method=res.method, status=res.status, gap=res.gap, objective=res.objective,
        runtime_s=round(time.perf_counter() - t0, 3), band=s.band, users=s.users,
        budget_new=req.p, quotas=tuple(int(q) for q in req.quotas), allocation=tuple(int(q) for q in req.quotas),
        candidates=int(ctx.coverage.shape[1]), candidates_modelled=ctx.candidates_modelled, engine="memory",
        siting=plan_siting(ctx, sel, cost_weight=weight, objective=res.objective, coverage_only=coverage_only))
    step(1.0, "done")
    return PlanResult(sites=sites, districts=ev.districts, summary=summary, placement=res, settings=s,
                      conflicts=conflicts)
