"""Exact site placement: maximal covering with district quotas as a MIP, proven by HiGHS.

Formulation (Church & ReVelle's MCLP, with quotas and covered shares)::

    maximise    offset + sum_k W_k y_k
    subject to  y_k <= sum_j B_kj x_j      for every demand pattern k
                0 <= y_k <= room_k
                sum_j x_j = p
                lower_g <= sum_{j in g} x_j <= upper_g   for every district g
                x_j in {0, 1} (x_j = 1 for fixed sites)

``B_kj`` is 1 (binary coverage) or the share of the pattern's cells site ``j``
covers; ``room_k`` is the share existing sites leave. Demand rows are reduced
first (:mod:`~geoplan.placement._patterns`): rows without room, weight or a
covering candidate go, what fixed sites cover becomes the constant ``offset``,
and rows alike are merged into one pattern.

The solve runs in three steps, each of which can finish it:

1. a plan: greedy with swap local search (or ``warm_start``); when the
   submodular or coverable bound already proves it within ``mip_rel_gap``
   (coverage saturates), that is the answer;
2. a Lagrangian relaxation (:mod:`~geoplan.placement.lagrangian`): an upper
   bound within a fraction of a per cent of the optimum on city-scale
   instances, and often a better plan, improved further by kick-and-swap
   search (:func:`~geoplan.placement.local_search.kick_search`, as much work as
   the Lagrangian step at most) and window search
   (:mod:`~geoplan.placement.windows`: windows of neighbouring candidates
   re-solved exactly, :data:`WINDOW_SHARE` of ``time_limit_s`` at most); when the gap is already within
   ``mip_rel_gap`` the answer is proven without a MIP. Otherwise its
   multipliers fix sites: a site whose best Lagrangian bound with it (without
   it) is below the best plan's value is out of (in) every better plan, which
   shrinks the MIP several-fold;
3. HiGHS on the reduced MIP (:mod:`~geoplan.placement._highs`: child process
   with a hard stop for large models, progress reports, cancel), starting from
   the best plan and stopping as soon as the better of its dual bound and the
   Lagrangian bound proves the incumbent within ``mip_rel_gap``.

The reported bound is the Lagrangian bound, or HiGHS's bound on the reduced
MIP if that is higher than the bounds behind each fixing and lower than the
Lagrangian one: a proven upper bound on the original problem either way.

Steps 1 and 2 stop on work budgets (:mod:`~geoplan.placement._work`), not on
the clock, so they reach the same plan on any machine; ``time_limit_s`` caps
them only as a safety net. HiGHS itself stops on the clock: a ``"time_limit"``
result, like one whose heuristics the cap stopped, says in ``notes`` that it
may differ between runs.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import replace
from time import perf_counter
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from ..errors import InfeasibleError, Problem, SolverError, ValidationError
from ._highs import HighsProgress, solve_highs
from ._instance import Instance, check_problem
from ._mip import mclp_mip
from ._patterns import Patterns, build_patterns
from ._result import PlacementResult, cheap_bound, coverage_totals, covered_weight, make_result
from ._work import WORK_PER_SECOND, Work
from .greedy import greedy_mclp
from .lagrangian import LagrangianBound, flip_bounds, lagrangian_bound
from .local_search import KICK_PATIENCE, check_plan, kick_search
from .windows import window_search

__all__ = ["exact_mclp"]

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())

#: Work of the Lagrangian step, in seconds on the reference machine (:data:`~geoplan.placement._work.WORK_PER_SECOND`
#: units each): :data:`LAGRANGIAN_SHARE` of ``time_limit_s``, at most :data:`LAGRANGIAN_MAX_S`, and one second per
#: :data:`NNZ_PER_SECOND` nonzeros of the demand patterns (at least one): small models go to HiGHS sooner. Its
#: polishing gets half as much again (at most :data:`POLISH_MAX_S`), the kicks after it as much as the step.
LAGRANGIAN_SHARE = 0.25
LAGRANGIAN_MAX_S = 15.0
NNZ_PER_SECOND = 100_000
POLISH_MAX_S = 5.0
#: Share of ``time_limit_s`` (as work of the reference machine) for window search after the kicks, when the
#: Lagrangian bound does not prove the plan: on the family's hard rows it gains far more than HiGHS on the whole
#: MIP in the same time (benchmarks/bench_placement_family.py), which then gets what is left.
WINDOW_SHARE = 0.75
#: What an exact result says when HiGHS stopped at its time limit.
HIGHS_LIMIT_NOTE = ("HiGHS stopped at its time limit (time_limit_s): the plan and bound may differ between runs "
                    "and machines")


def _fix_by_reduced_costs(inst: Instance, lag: LagrangianBound, free: NDArray[np.bool_], value: float,
                          incumbent: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.bool_], float]:
    """Sites in every better plan, sites in none, and the largest bound behind those fixings."""
    flip, taken = flip_bounds(inst, lag, free)
    in_plan = np.zeros(inst.n_cols, dtype=np.bool_)
    in_plan[incumbent] = True
    settle = free & (flip < value) & (taken == in_plan)  # never fix against the incumbent
    fix_in = np.flatnonzero(settle & taken)
    fix_out = settle & ~taken
    behind = float(flip[settle].max()) if settle.any() else -math.inf
    log.info("exact: Lagrangian reduced costs fix %d sites in and %d out of %d", fix_in.size, int(fix_out.sum()),
             int(free.sum()))
    return fix_in, fix_out, behind


def _polish(inst: Instance, selected: NDArray[np.int64]) -> NDArray[np.int64]:
    """Swap sites that add nothing for unchosen sites of the same district with a higher ``secondary``.

    A chosen site is *redundant* when removing it loses no weight (every row it
    covers is saturated without it, or has no weight): the MIP is indifferent
    to where such quota sites go, the planner is not. One pass, lowest
    ``secondary`` first; each swap keeps every quota and cannot lower the
    objective. Returns the chosen set, fixed sites first, then ascending.
    """
    A = inst.coverage
    ptr, idx, sec, groups = A.indptr, A.indices, inst.secondary, inst.groups
    t = coverage_totals(inst, selected)
    chosen = np.zeros(inst.n_cols, dtype=np.bool_)
    chosen[selected] = True
    unchosen = np.flatnonzero(~chosen)
    unchosen = unchosen[np.lexsort((unchosen, -sec[unchosen]))]  # best secondary first, then lowest index
    pool = {int(g): unchosen[groups[unchosen] == g].tolist()[::-1] for g in np.unique(groups[selected])}
    movable = np.setdiff1d(selected, inst.fixed)
    for j in movable[np.lexsort((-movable, sec[movable]))].tolist():
        stack = pool[int(groups[j])]
        if not stack or sec[stack[-1]] <= sec[j]:
            continue
        rows = idx[ptr[j]:ptr[j + 1]]
        a = 1.0 if inst.binary else A.data[ptr[j]:ptr[j + 1]]
        room, w = inst.room[rows], inst.weights[rows]
        if float(w @ (np.minimum(room, t[rows]) - np.minimum(room, t[rows] - a))) > 0:
            continue
        new = stack.pop()
        t[rows] -= a
        t[idx[ptr[new]:ptr[new + 1]]] += 1.0 if inst.binary else A.data[ptr[new]:ptr[new + 1]]
        chosen[j], chosen[new] = False, True
    return np.r_[inst.fixed, np.setdiff1d(np.flatnonzero(chosen), inst.fixed)].astype(np.int64)


def _check_limits(time_limit_s: float, mip_rel_gap: float) -> None:
    if not (np.isfinite(time_limit_s) and time_limit_s > 0):
        raise ValidationError(Problem("placement", "time_limit_s", f"must be a positive number of seconds, "
                                      f"got {time_limit_s!r}", "pass e.g. time_limit_s=60"))
    if not (0 <= mip_rel_gap < 1):
        raise ValidationError(Problem("placement", "mip_rel_gap", f"must be in [0, 1), got {mip_rel_gap!r}",
                                      "pass e.g. mip_rel_gap=1e-4 (0.01 %)"))


def exact_mclp(coverage: Any, weights: ArrayLike, *, p: int, covered0: ArrayLike | None = None,
               groups: ArrayLike | None = None, min_per_group: ArrayLike | None = None,
               max_per_group: ArrayLike | None = None, fixed: ArrayLike | None = None,
               time_limit_s: float = 60.0, mip_rel_gap: float = 1e-4,
               warm_start: PlacementResult | ArrayLike | None = None,
               secondary: ArrayLike | None = None,
               progress: Callable[[HighsProgress], None] | None = None,
               cancel: Callable[[], bool] | None = None) -> PlacementResult:
    """Choose ``p`` sites that maximise newly covered demand, meeting district quotas, with proof.

    Parameters
    ----------
    coverage, weights, p, covered0, groups, min_per_group, max_per_group, fixed
        As in :func:`~geoplan.placement.greedy_mclp` (binary or fractional coverage).
    time_limit_s : float
        Wall-clock limit of the Lagrangian step and the HiGHS solve together
        (the warm start and model building come on top, and are reported in
        ``runtime_s``). The Lagrangian step and kicks stop on work budgets
        scaled from it (the same plan on any machine); the limit only caps
        them; HiGHS gets what is left.
    mip_rel_gap : float
        Relative gap at which the plan is called optimal.
    warm_start : PlacementResult or array_like of int, optional
        A feasible plan to start from; by default greedy with local search.
    secondary : array_like of float, shape (n_candidates,), optional
        Where the coverage objective is indifferent (a chosen site whose demand
        is all covered anyway, e.g. a quota site in a saturated district), the
        plan is moved to unchosen sites of the same district with a higher
        ``secondary`` (e.g. population density), one pass after solving; also
        the greedy warm start's tie-break.
    progress : callable, optional
        Called with a :class:`~geoplan.placement._highs.HighsProgress`
        (incumbent, bound, gap, elapsed) after the Lagrangian step and while
        HiGHS runs.
    cancel : callable, optional
        Polled while solving (between the heuristics' passes and iterations,
        and while HiGHS runs); when it returns true the solve stops and the
        best plan so far is returned with ``status="cancelled"``.

    Returns
    -------
    PlacementResult
        ``method="exact"``; ``status`` is ``"optimal"`` only when optimality is
        proven within ``mip_rel_gap`` (by the Lagrangian bound or by HiGHS),
        ``"time_limit"`` when the limit struck (the best plan found, at worst
        the warm start, with its ``gap``), ``"cancelled"``, or ``"feasible"``
        when HiGHS stopped for another reason with a plan. ``bound_source`` is
        ``"lagrangian"`` or ``"highs"`` (or ``"submodular"``/``"coverable"`` when
        those are tighter). ``time_capped`` and ``notes`` say when the clock,
        not work, ended a step (the plan may then differ between runs).

    Raises
    ------
    ValidationError
        Malformed input, including a ``warm_start`` that breaks the constraints.
    InfeasibleError
        Budget and quotas that cannot all be met (checked before solving).
    SolverError
        HiGHS failed or stopped without a usable plan.

    Examples
    --------
    Greedy takes the big site first and ends one person short:

    >>> import numpy as np, scipy.sparse as sp
    >>> A = sp.csc_array(np.array([[0, 1, 0], [1, 1, 0], [1, 1, 0], [1, 0, 1], [1, 0, 1], [0, 0, 1]]))
    >>> res = exact_mclp(A, np.ones(6), p=2)
    >>> res.selected.tolist(), res.objective, res.status
    ([1, 2], 6.0, 'optimal')
    """
    started = perf_counter()
    kwargs: dict[str, Any] = dict(coverage=coverage, weights=weights, p=p, covered0=covered0, groups=groups,
                                  min_per_group=min_per_group, max_per_group=max_per_group, fixed=fixed,
                                  secondary=secondary)
    inst = check_problem(**kwargs)
    _check_limits(time_limit_s, mip_rel_gap)
    stages = {"check": perf_counter() - started}
    work = Work.unlimited()  # the heuristics' budgets are parts of this one; it sums their work
    if warm_start is None:
        first = greedy_mclp(**kwargs, bound="submodular", cancel=cancel)
        start, work.capped = first.selected, first.time_capped
        work.charge(first.work)
    else:
        start = check_plan(inst, warm_start.selected if isinstance(warm_start, PlacementResult) else warm_start,
                           field="warm_start")
    stages["start"] = perf_counter() - started - stages["check"]
    plan, bounds, label = _solve(inst, np.asarray(start, dtype=np.int64), time_limit_s=time_limit_s,
                                 mip_rel_gap=mip_rel_gap, progress=progress, cancel=cancel, stages=stages, work=work)
    order = _polish(inst, plan) if secondary is not None else np.r_[
        inst.fixed, np.setdiff1d(plan, inst.fixed)].astype(np.int64)
    result = make_result(inst, order, method="exact", status="feasible", started=started, bounds=bounds,
                         stages=stages, work=work)
    assert result.gap is not None
    if result.gap <= mip_rel_gap * (1 + 1e-9) + 1e-12:
        label = "optimal"
    elif label == "optimal":
        label = "feasible"  # HiGHS said optimal on its own tolerances, but not within the gap asked for
    log.info("exact: %s, objective %.6g, bound %.6g (%s), gap %.4f%%", label, result.objective, result.bound,
             result.bound_source, 100 * result.gap)
    if label == "time_limit":
        result = replace(result, time_capped=True, notes=(*result.notes, HIGHS_LIMIT_NOTE))
    return replace(result, status=label, runtime_s=perf_counter() - started)


def _solve(inst: Instance, start: NDArray[np.int64], *, time_limit_s: float, mip_rel_gap: float,
           progress: Callable[[HighsProgress], None] | None, cancel: Callable[[], bool] | None,
           stages: dict[str, float], work: Work) -> tuple[NDArray[np.int64], dict[str, float], str]:
    """Lagrangian step, then HiGHS on the reduced MIP; the plan, the bounds by source and a status label.

    ``stages`` receives the seconds of each step; the Lagrangian step's and the
    kicks' budgets are parts of ``work`` (capped at ``time_limit_s``).
    """
    if inst.p == inst.fixed.size:
        return start, {}, "optimal"
    t0 = perf_counter()
    value, cheap = cheap_bound(inst, start)
    if cheap - value <= mip_rel_gap * max(value, 1e-300):
        return start, {"submodular": cheap}, "optimal"  # the cheap bounds already prove the warm start
    pat = build_patterns(inst)
    step_s = min(LAGRANGIAN_SHARE * time_limit_s, LAGRANGIAN_MAX_S, max(1.0, pat.matrix.nnz / NNZ_PER_SECOND))
    polish_s = min(step_s / 2, POLISH_MAX_S)
    cap = t0 + time_limit_s
    lag = lagrangian_bound(inst, start=start, target_gap=mip_rel_gap, patterns=pat,
                           work=Work((step_s + polish_s) * WORK_PER_SECOND, cap=cap, parent=work, cancel=cancel),
                           polish_share=polish_s / (step_s + polish_s))
    start_value = pat.value(_free_totals(pat, inst, start))
    plan, value = (lag.plan, lag.plan_value) if lag.plan_value > start_value else (start, start_value)
    upper = lag.bound
    gap = (upper - value) / max(value, 1e-300)
    stages["lagrangian"] = perf_counter() - t0
    if gap > mip_rel_gap and inst.p - inst.fixed.size >= 2 and not (cancel is not None and cancel()):
        t_k = perf_counter()  # kick-and-swap search, as much work as the Lagrangian step: a better incumbent proves more
        better, improved, _ = kick_search(inst, plan, patience=KICK_PATIENCE,
                                          work=Work(step_s * WORK_PER_SECOND, cap=cap, parent=work, cancel=cancel))
        if improved:
            plan, value = better, pat.value(_free_totals(pat, inst, better))
            gap = (upper - value) / max(value, 1e-300)
        stages["kicks"] = perf_counter() - t_k
    if gap > mip_rel_gap and inst.p > inst.fixed.size and not (cancel is not None and cancel()):
        t_w = perf_counter()
        better, improved, _ = window_search(inst, plan, work=Work(WINDOW_SHARE * time_limit_s * WORK_PER_SECOND,
                                                                 cap=cap, parent=work, cancel=cancel))
        if improved:
            plan, value = better, pat.value(_free_totals(pat, inst, better))
            gap = (upper - value) / max(value, 1e-300)
        stages["windows"] = perf_counter() - t_w
    if progress is not None:
        progress(HighsProgress(perf_counter() - t0, value, upper, gap))
    if gap <= mip_rel_gap:
        return plan, {"lagrangian": upper}, "optimal"
    if cancel is not None and cancel():
        return plan, {"lagrangian": upper}, "cancelled"
    t1 = perf_counter()
    fix_in, fix_out, behind = _fix_by_reduced_costs(inst, lag, pat.free, value, plan)
    fixed = np.union1d(inst.fixed, fix_in)
    reduced = build_patterns(inst, fixed=fixed, excluded=fix_out)
    model, cols = mclp_mip(inst, reduced, fixed)
    if cols.size == 0:  # reduced costs settle every site: no plan can beat the incumbent (HiGHS would see an empty model)
        stages["model"] = perf_counter() - t1
        return plan, {"lagrangian": max(value, behind)}, "optimal"
    x0 = np.isin(cols, plan).astype(np.float64)
    warm = np.r_[x0, np.minimum(np.asarray(sp.csc_array(reduced.matrix[:, cols]) @ x0), reduced.room)]
    stages["model"] = perf_counter() - t1
    left = max(time_limit_s - (perf_counter() - t0), 1.0)
    log.info("exact: HiGHS on %d free sites x %d patterns (%d nonzeros), limit %.0f s", cols.size,
             reduced.n_patterns, model.nnz, left)
    out = solve_highs(model, time_limit_s=left, mip_rel_gap=mip_rel_gap, warm_start=warm, bound=upper,
                      progress=progress, cancel=cancel)
    stages["highs"] = out.elapsed_s
    if out.label == "infeasible":
        raise InfeasibleError("HiGHS found the placement infeasible although the quota checks passed: "
                              "check min_per_group/max_per_group and fixed for conflicts")
    if out.label in ("error", "unbounded") or out.x is None:
        raise SolverError(f"HiGHS stopped with status '{out.text}' and no usable plan: raise time_limit_s "
                          "or reduce the problem (fewer candidates, coarser demand grid)")
    chosen = np.r_[fixed, cols[out.x[:cols.size] > 0.5]].astype(np.int64)
    if chosen.size != inst.p:
        raise SolverError(f"HiGHS returned {chosen.size} sites instead of p = {inst.p} (status '{out.text}')")
    if covered_weight(inst, coverage_totals(inst, chosen)) < covered_weight(inst, coverage_totals(inst, plan)):
        log.info("exact: HiGHS's plan covers less than the warm start (stopped before it took it): kept the warm start")
        chosen = plan  # HiGHS may stop at the limit without having taken the warm start as its incumbent
    bound = min(upper, max(out.bound, behind))
    label = {"optimal": "optimal", "time_limit": "time_limit", "interrupted": "cancelled"}.get(out.label, "feasible")
    return chosen, {"highs" if bound < upper else "lagrangian": bound}, label


def _free_totals(pat: Patterns, inst: Instance, plan: NDArray[np.int64]) -> NDArray[np.float64]:
    x = np.zeros(inst.n_cols)
    x[np.setdiff1d(plan, inst.fixed)] = 1.0
    return np.asarray(pat.matrix @ x, dtype=np.float64)
