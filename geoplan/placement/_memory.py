"""The in-memory engine: every demand cell and candidate in one coverage matrix.

Used for cities (up to a few million populated cells). Greedy or exact
(HiGHS) maximal covering with district quotas on the arrays of a
:class:`~.context.PlanningContext`: the matrix holds each candidate's share of
each cell, so the objective is the population of the newly covered shares,
``Σ w_i (min(1, s0_i + Σ_j a_ij x_j) - s0_i)``.

With ``capacity=True`` a plan must also carry the busy-hour traffic of the year
(:mod:`geoplan.capacity`): after the coverage plan, sites are added where
overloaded sites leave demand unserved (greedy on the unserved demand, in
rounds) until no cell is capacity-limited.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from .. import capacity as capmod
from .. import coverage as cov
from .._typing import Progress
from ..errors import InfeasibleError
from ..targets import Plan, plan_of, population_basis
from ._result import PlacementResult, check_problem, make_result, relative_gap
from ._steps import marginal_gains
from .context import PlanningContext
from .costing import SitingSummary, cost_rows, siting_summary
from .exact import exact_mclp
from .feasibility import check_candidates
from .greedy import greedy_mclp
from .request import PlanRequest, targets_for
from .results import (
    DistrictCapacity,
    Evaluation,
    PlanResult,
    PlanSummary,
    capacity_totals,
    district_table,
    plan_totals,
    planned_sites_frame,
)
from .settings import PlanSettings
from .snap import MAX_SNAP_M, snap_sites

__all__ = ["evaluate_sites", "place_in_memory", "sites_frame", "site_conflicts", "plan_siting", "site_capacity",
           "CAPACITY_ROUNDS"]

#: Rounds of added sites a capacity plan may take before it gives up.
CAPACITY_ROUNDS = 30


def site_capacity(ctx: PlanningContext, selected: NDArray[np.int64] | list[int], *, year: int,
                  plan: Plan | None = None) -> tuple[capmod.Carried, float] | None:
    """Busy-hour loads of the existing and ``selected`` sites and unserved demand of every cell (year ``year``).

    ``None`` when the plan (the project's, :func:`geoplan.targets.plan_of`, unless
    given) states no 5G user penetration. Returns the
    :class:`~geoplan.capacity.Carried` figures (sites: existing first, then
    ``selected`` in order) and the penetration.
    """
    plan = plan_of(ctx.project) if plan is None else plan
    per_person = capmod.demand_per_person_mbps(plan, year, network=ctx.settings.network, params=ctx.params)
    pen = capmod.penetration(plan, year)
    if per_person is None or pen is None:
        return None
    sel = np.asarray(selected, dtype=np.int64)
    chosen = ctx.coverage[:, sel]
    util = ctx.params.traffic.max_utilisation
    raw = ctx.existing_raw + np.asarray(chosen @ np.ones(sel.size), dtype=np.float64)
    carried = capmod.carry_blocks([ctx.existing_coverage, chosen], demand_mbps=ctx.demand_weights * per_person,
                                  usable_mbps=[ctx.existing_capacity * util, ctx.cand_capacity[sel] * util], raw=raw)
    return carried, pen


def _district_capacity(ctx: PlanningContext, sel: NDArray[np.int64], year: int,
                       plan: Plan) -> DistrictCapacity | None:
    res = site_capacity(ctx, sel, year=year, plan=plan)
    if res is None:
        return None
    c, pen = res
    g, n, w = ctx.demand_district, ctx.n_districts, ctx.demand_weights
    lim = c.limited
    return capacity_totals(year=year, penetration=pen,
                           demand_mbps=np.bincount(g, weights=c.covered_demand_mbps, minlength=n),
                           unserved_mbps=np.bincount(g, weights=c.unserved_mbps, minlength=n),
                           limited_cells=np.bincount(g[lim], minlength=n),
                           limited_population=np.bincount(g, weights=w * lim, minlength=n),
                           overloaded_sites=int(c.overloaded.sum()))


def evaluate_sites(ctx: PlanningContext, selected: NDArray[np.int64] | list[int], *, year: int | None = None,
                   population_year: int | None = None, basis: str | None = None,
                   quotas: str = "plan") -> Evaluation:
    """Density, population coverage and capacity per district when candidates ``selected`` are built.

    Coverage is the population-weighted covered share of each cell,
    ``min(1, s0 + Σ_selected a_ij)``, for the context's network, band and users;
    capacity that of the plan's 5G user penetration in ``year`` (:mod:`geoplan.capacity`).

    Parameters
    ----------
    ctx : PlanningContext
        The project's arrays.
    selected : array_like of int
        Candidate columns built (e.g. the first N of a greedy order).
    year : int, optional
        Target year (the plan's last by default).
    population_year : int, optional
        A fixed year-end population basis.
    basis : {"census", "yearend", "projection"}, optional
        Population basis (the project's by default).
    quotas : {"plan", "area", "district"}
        Which districts the density target binds (for the verdicts).

    Examples
    --------
    >>> import geoplan as gp
    >>> ctx = gp.placement.planning_context(gp.load_project())
    >>> ev = evaluate_sites(ctx, [], year=2025)
    >>> ev.summary.stations, ev.summary.target_per_10k, ev.summary.capacity.penetration
    (10881, 33.0, 0.75)
    """
    proj = ctx.project
    sel = np.asarray(selected, dtype=np.int64)
    after = cov.covered_share(ctx.coverage, sel, base=ctx.share0)
    w, g, n = ctx.demand_weights, ctx.demand_district, ctx.n_districts
    tf = targets_for(proj, year=year, quotas=quotas)
    pop, info = population_basis(proj, population_year, basis=basis, year=tf.year)
    cells = np.bincount(g, weights=w, minlength=n)
    before_d = np.bincount(g, weights=w * ctx.share0, minlength=n)
    after_d = np.bincount(g, weights=w * after, minlength=n)
    cap = _district_capacity(ctx, sel, tf.year, tf.plan)
    table = district_table(proj, population=pop, existing=ctx.existing_per_district,
                           new=np.bincount(ctx.cand_district[sel], minlength=n), target_per_10k=tf.district_target,
                           cell_population=cells, covered_before=before_d, covered_after=after_d,
                           binding=tf.binding, capacity=cap)
    totals = plan_totals(proj, table, year=tf.year, basis=info, cell_population=cells, covered_before=before_d,
                         covered_after=after_d, target_per_10k=tf.target_per_10k,
                         stations_target=tf.stations_target, applies_to=tf.quota_mode,
                         capacity=None if cap is None else cap.totals)
    return Evaluation(districts=table, summary=totals)


def sites_frame(ctx: PlanningContext, selected: NDArray[np.int64], *,
                build_year: int | NDArray[np.int64]) -> gpd.GeoDataFrame:
    """The ``planned_sites`` layer of candidate columns ``selected`` (in build-decision order).

    SOURCE, KIND, COST and CONFLICTS come from the candidate pool (:mod:`.pool`).
    """
    sel = np.asarray(selected, dtype=np.int64)
    return planned_sites_frame(ctx.project, xy=ctx.cand_xy[sel], site_type=ctx.cand_type[sel],
                               radius_m=ctx.cand_own_radius[sel], environment=ctx.cand_environment[sel],
                               district=ctx.cand_district[sel],
                               gains=marginal_gains(ctx.coverage, ctx.demand_weights, ctx.share0, sel),
                               source=ctx.cand_source[sel], modelled=ctx.pool.modelled[sel],
                               kind=ctx.cand_kind[sel], cost=ctx.cand_cost[sel],
                               conflicts=ctx.cand_conflicts.subset(sel).labels(), build_year=build_year)


def site_conflicts(ctx: PlanningContext, selected: NDArray[np.int64], sites: gpd.GeoDataFrame) -> pd.DataFrame:
    """The conflicts table of candidate columns ``selected``, whose ``planned_sites`` rows are ``sites``."""
    sel = np.asarray(selected, dtype=np.int64)
    return ctx.cand_conflicts.subset(sel).table(sites["SITE_ID"].to_numpy(), ctx.pool.height_m[sel])


def _fixed_columns(ctx: PlanningContext, fixed_xy: NDArray[np.float64] | None, *,
                   max_snap_m: float = MAX_SNAP_M) -> NDArray[np.int64] | None:
    """Candidate columns of the kept sites (each moved at most ``max_snap_m``, see :mod:`.snap`)."""
    if fixed_xy is None or not len(fixed_xy):
        return None
    return np.unique(snap_sites(ctx, fixed_xy, max_snap_m=max_snap_m).columns).astype(np.int64)


def _exact_hooks(progress: Progress | None, time_limit_s: float) -> Callable[[Any], None] | None:
    """Turn the solver's reports (incumbent, bound, gap) into ``progress(fraction, message)``."""
    if progress is None:
        return None

    def report(p: Any) -> None:
        gap = f"{100 * p.gap:.2f} %" if np.isfinite(p.gap) else "unknown"
        best = f"{p.objective:,.0f}" if np.isfinite(p.objective) else "none yet"
        bound = f"{p.bound:,.0f}" if np.isfinite(p.bound) else "unknown"
        progress(min(p.elapsed_s / time_limit_s, 0.99),
                 f"exact: best plan covers {best} more residents, bound {bound}, gap {gap}, "
                 f"{p.elapsed_s:,.0f} s of {time_limit_s:,.0f} s")
    return report


def _solve(ctx: PlanningContext, req: PlanRequest, *, method: str, fixed: NDArray[np.int64] | None,
           time_limit_s: float, mip_rel_gap: float, cost_weight: float, progress: Progress | None = None,
           cancel: Callable[[], bool] | None = None) -> tuple[PlacementResult, float | None]:
    """Greedy (or exact) maximal covering; with a cost weight, on the problem with cost rows (:mod:`.costing`).

    Returns the result and, with a cost weight, the newly covered residents of the
    coverage-only greedy plan (the coverage the cost weight gives up is measured
    against it). The result's ``objective`` and ``covered_share`` are the coverage
    of the real demand; with a cost weight its ``gap`` is that of the cost-aware
    score, against the coverage-only bound plus the ``p`` largest cost rows.
    """
    st = ctx.settings
    check_candidates(ctx.project, p=req.p, quotas=req.quotas, cand_district=ctx.cand_district,
                     modelled=ctx.candidates_modelled, source=ctx.candidate_source,
                     chosen=st.n_candidates is not None or st.candidate_spacing_m is not None,
                     excluded=ctx.pool.n_excluded)
    kw: dict[str, Any] = dict(p=req.p, groups=ctx.cand_district, min_per_group=req.quotas, fixed=fixed,
                              secondary=ctx.cand_density)
    hooks: dict[str, Any] = dict(time_limit_s=time_limit_s, mip_rel_gap=mip_rel_gap,
                                 progress=_exact_hooks(progress, time_limit_s),
                                 cancel=cancel)
    plain = greedy_mclp(ctx.coverage, ctx.demand_weights, covered0=ctx.share0, cancel=cancel, **kw)
    if cost_weight <= 0:
        if method == "exact":
            return exact_mclp(ctx.coverage, ctx.demand_weights, covered0=ctx.share0, warm_start=plain.selected,
                              **hooks, **kw), None
        return plain, None
    A, w, c0 = cost_rows(ctx.coverage, ctx.demand_weights, ctx.share0, ctx.cand_cost, weight=cost_weight)
    res = greedy_mclp(A, w, covered0=c0, cancel=cancel, **kw)
    if method == "exact":
        res = exact_mclp(A, w, covered0=c0, warm_start=res.selected, **hooks, **kw)
    rebates = w[ctx.coverage.shape[0]:]
    bound = plain.objective * (1.0 + (plain.gap or 0.0)) + float(np.sort(rebates)[rebates.size - req.p:].sum())
    gap = None if res.gap is None else min(res.gap, relative_gap(res.objective, bound))
    sel = np.asarray(res.selected, dtype=np.int64)
    after = cov.covered_share(ctx.coverage, sel, base=ctx.share0)
    w = ctx.demand_weights
    total = float(w.sum())
    res = dataclasses.replace(res, objective=float(w @ (after - ctx.share0)), gap=gap,
                              covered_share=float(w @ after) / total if total else 1.0)
    return res, plain.objective


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


def _add_for_capacity(ctx: PlanningContext, res: PlacementResult, *, year: int,
                      progress: Progress) -> tuple[PlacementResult, int]:
    """Add candidates until no cell is capacity-limited (see the module notes); the result and the sites added."""
    started = time.perf_counter()
    plan = plan_of(ctx.project)
    per_person = capmod.demand_per_person_mbps(plan, year, network=ctx.settings.network, params=ctx.params)
    if per_person is None:
        raise InfeasibleError(f"plan '{plan.key}' states no 5G user penetration, so capacity cannot be planned. "
                              "Fix: leave capacity out, or use a plan with the 5g_user_penetration indicator")
    sel = [int(j) for j in res.selected]
    for k in range(CAPACITY_ROUNDS):
        out = site_capacity(ctx, sel, year=year, plan=plan)
        assert out is not None
        c = out[0]
        if not c.limited.any():
            break
        chosen = np.zeros(ctx.coverage.shape[1], dtype=bool)
        chosen[sel] = True
        avail = np.flatnonzero(~chosen)
        weights = c.unserved_mbps / per_person  # persons whose traffic is not carried
        gain = cov.marginal_gain(ctx.coverage[:, avail], weights, np.zeros(len(weights)))
        useful = avail[gain > 0]
        if useful.size == 0:
            raise InfeasibleError(f"{int(c.limited.sum()):,} cells stay capacity-limited and no candidate left covers "
                                  "them. Fix: add candidates there (a candidate layer), or lower the traffic "
                                  "parameters ([radio.traffic]) if they do not fit the city")
        more = greedy_mclp(ctx.coverage[:, useful], weights, p=min(max(1, int(c.overloaded.sum())), useful.size))
        sel.extend(int(j) for j in useful[more.selected])
        progress(0.8, f"capacity: round {k + 1}, {len(sel) - len(res.selected):,} sites added")
    else:
        raise InfeasibleError(f"cells are still capacity-limited after {CAPACITY_ROUNDS} rounds of added sites. "
                              "Fix: plan more sites (--total), add candidates, or check the traffic parameters")
    added = len(sel) - len(res.selected)
    if added == 0:
        return res, 0
    inst = check_problem(ctx.coverage, ctx.demand_weights, p=len(sel), covered0=ctx.share0)
    full = make_result(inst, sel, method=res.method, status=res.status, started=started)
    return replace(full, runtime_s=res.runtime_s + full.runtime_s), added


def place_in_memory(ctx: PlanningContext, req: PlanRequest, *, method: str, fixed_xy: NDArray[np.float64] | None,
                    time_limit_s: float, mip_rel_gap: float, progress: Progress | None,
                    settings: PlanSettings | None = None, max_snap_m: float = MAX_SNAP_M,
                    cancel: Callable[[], bool] | None = None, fixed_columns: NDArray[np.int64] | None = None,
                    build_year: int | NDArray[np.int64] | None = None, capacity: bool = False) -> PlanResult:
    """Choose ``req.p`` new sites among the context's candidates (see :func:`geoplan.placement.place_sites`).

    ``settings`` may differ from the context's in objective-only settings (the
    cost weight). ``fixed_columns`` are candidate columns that must be built
    first (an earlier phase), in their order; ``build_year`` the BUILD_YEAR of
    each site chosen (``req.year`` by default); ``capacity`` adds sites until no
    cell is capacity-limited in ``req.year`` (see the module notes).
    """
    t0 = time.perf_counter()
    s = settings or ctx.settings
    weight = ctx.cost_weight(s)
    step = progress or (lambda f, m: None)
    step(0.0, f"{method}: choosing {req.p:,} sites" + (f" (cost weight {weight:g} residents per 万元)"
                                                        if weight else ""))
    fixed = _fixed_columns(ctx, fixed_xy, max_snap_m=max_snap_m)
    if fixed_columns is not None and len(fixed_columns):
        fixed = np.asarray(fixed_columns, dtype=np.int64) if fixed is None else \
            np.concatenate([fixed_columns, fixed[~np.isin(fixed, fixed_columns)]]).astype(np.int64)
    res, coverage_only = _solve(ctx, req, method=method, fixed=fixed, time_limit_s=time_limit_s,
                                mip_rel_gap=mip_rel_gap, cost_weight=weight, progress=progress, cancel=cancel)
    added = 0
    if capacity:
        res, added = _add_for_capacity(ctx, res, year=req.year, progress=step)
    sel = np.asarray(res.selected, dtype=np.int64)
    ev = evaluate_sites(ctx, sel, year=req.year, population_year=req.population_year, basis=req.basis_kind,
                        quotas=req.quota_mode)
    sites = sites_frame(ctx, sel, build_year=req.year if build_year is None else build_year)
    conflicts = site_conflicts(ctx, sel, sites)
    summary = PlanSummary(
        **vars(ev.summary), method=res.method, status=res.status, gap=res.gap, objective=res.objective,
        runtime_s=round(time.perf_counter() - t0, 3), band=s.band, users=s.users,
        budget_new=req.p, quotas=tuple(int(q) for q in req.quotas), allocation=tuple(int(q) for q in req.quotas),
        candidates=int(ctx.coverage.shape[1]), candidates_modelled=ctx.candidates_modelled, engine="memory",
        meet=req.meet, candidate_source=ctx.candidate_source, network=s.network, radio_digest=ctx.params.digest,
        capacity_sites=added, notes=res.notes,
        siting=plan_siting(ctx, sel, cost_weight=weight, objective=res.objective, coverage_only=coverage_only))
    step(1.0, "done")
    return PlanResult(sites=sites, districts=ev.districts, summary=summary, placement=res, settings=s,
                      conflicts=conflicts)
