"""Lagrangian relaxation of maximal covering: an upper bound on the optimum, and plans from it.

Relaxing the covering constraints ``y_k <= sum_j B_kj x_j`` of the MIP (see
:mod:`~geoplan.placement.exact`) with multipliers ``0 <= lambda_k <= W_k``
leaves a problem that falls apart and solves by sorting:

    L(lambda) = sum_k room_k max(0, W_k - lambda_k)  +  max { c @ x : x meets p and the quotas },
    c = B^T lambda,

where the second part takes the ``lower_g`` best sites by ``c`` in each group,
then the best of the rest up to ``p`` within the maxima. Every ``L(lambda)`` is
an upper bound on the optimum; subgradient steps (Held, Wolfe & Crowder 1974,
Polyak step towards the best plan found) drive it down to the LP bound. Each
``x(lambda)`` is itself a feasible plan (it meets ``p`` and the quotas), the
*Lagrangian heuristic*; the best, polished by swap local search, is returned
with the bound.

The same multipliers fix sites before a MIP (reduced-cost fixing, see
:func:`flip_bounds`): the feasible plans are the bases of a matroid, so the
best plan of the relaxation that contains site ``j`` (or leaves it out) is one
exchange away from ``x(lambda)``; when even that bound is below a known plan's
value, ``j`` is out (or in) of every better plan.

Works for binary and fractional coverage alike.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, replace
from time import perf_counter
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from ._instance import Instance, check_problem, column_positions, sums_by
from ._lazy import greedy_order
from ._patterns import Patterns, build_patterns
from ._result import PlacementResult, make_result
from ._work import WORK_PER_SECOND, Work, check_budget
from .local_search import improve

__all__ = ["LagrangianBound", "lagrangian_bound", "lagrangian_mclp", "flip_bounds"]

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())

#: Subgradient iterations without a better bound before the step factor is halved.
PATIENCE = 15
#: Smallest step factor; below it the bound has converged as far as subgradients go.
MIN_STEP = 1e-3
#: Stop when the bound improves by less than this share of the plan's value in this many iterations.
STALL_SHARE = 1e-4
STALL_ITERATIONS = 100
#: Share of a Lagrangian budget for polishing its plans by swap local search (the subgradient search has the rest).
POLISH_SHARE = 0.3
#: Default work budget of :func:`lagrangian_mclp` (units of :mod:`~geoplan.placement._work`): about 10 s on the
#: reference machine.
LAGRANGIAN_WORK = 10 * WORK_PER_SECOND


@dataclass(frozen=True, eq=False)
class LagrangianBound:
    """The outcome of the subgradient search.

    Attributes
    ----------
    bound : float
        Best upper bound on the optimum found (fixed sites' weight included).
    plan : ndarray of int
        Best feasible plan found (fixed sites included, ascending).
    plan_value : float
        Its objective.
    costs : ndarray
        ``c = B^T lambda`` per candidate at the best multipliers (0 off the free sites).
    base : float
        ``offset + sum_k room_k max(0, W_k - lambda_k)`` at the best multipliers.
    iterations : int
        Subgradient iterations run.
    """

    bound: float
    plan: NDArray[np.int64]
    plan_value: float
    costs: NDArray[np.float64]
    base: float
    iterations: int


class _Knapsack:
    """``max c @ x`` over the free sites: ``p`` of them, within the group quotas (fixed sites counted)."""

    def __init__(self, inst: Instance, free: NDArray[np.bool_], fixed: NDArray[np.int64]) -> None:
        self.inst = inst
        self.cols = np.flatnonzero(free)
        self.g = inst.groups[self.cols]
        in_fixed = np.bincount(inst.groups[fixed], minlength=inst.n_groups)
        self.lower = np.maximum(inst.lower - in_fixed, 0)
        self.upper = np.maximum(inst.upper - in_fixed, 0)
        self.k = inst.p - fixed.size
        sizes = np.bincount(self.g, minlength=inst.n_groups)
        self.plain = not inst.has_groups or bool(np.all(self.lower == 0) and np.all(self.upper >= sizes))

    def solve(self, c: NDArray[np.float64]) -> NDArray[np.int64]:
        """Positions (in ``cols``) of the chosen free sites."""
        k, v = self.k, c[self.cols]
        if k <= 0:
            return np.zeros(0, dtype=np.int64)
        if self.plain:
            return np.argpartition(-v, k - 1)[:k] if k < v.size else np.arange(v.size)
        order = np.lexsort((-v, self.g))  # by group, best first
        starts = np.searchsorted(self.g[order], np.arange(self.inst.n_groups))
        rank = np.empty(v.size, dtype=np.int64)
        rank[order] = np.arange(v.size) - starts[self.g[order]]
        must = rank < self.lower[self.g]
        may = ~must & (rank < self.upper[self.g])
        extra = k - int(must.sum())
        chosen = np.flatnonzero(must)
        if extra > 0:
            opt = np.flatnonzero(may)
            chosen = np.r_[chosen, opt[np.argpartition(-v[opt], extra - 1)[:extra]]] if extra < opt.size else \
                np.r_[chosen, opt]
        return chosen


def _initial_multipliers(pat: Patterns, totals: NDArray[np.float64]) -> NDArray[np.float64]:
    """Multipliers from a plan: full weight where it leaves room, none where it covers twice over."""
    lam = pat.weights.copy()
    over = totals >= pat.room + 1.0 - 1e-12
    lam[over] = 0.0
    return lam


def lagrangian_bound(inst: Instance, *, start: NDArray[np.int64], work: Work | None = None,
                     target_gap: float = 1e-4, max_iter: int = 3000, patterns: Patterns | None = None,
                     polish_share: float = POLISH_SHARE) -> LagrangianBound:
    """Minimise the Lagrangian dual from a feasible plan ``start``; the best bound and plan found.

    Steps follow the volume algorithm's averaged primal (Barahona & Anbil
    2000): the direction is the subgradient at a running average of the
    relaxation's solutions, which avoids the zig-zag of plain subgradients
    and converges to within a few hundredths of a per cent of the LP bound
    in a few hundred iterations; the step length is Polyak's, towards the
    best plan's value, halved after :data:`PATIENCE` iterations without a
    better bound. Stops when the bound is within ``target_gap`` of the best
    plan, after ``max_iter`` iterations, when the step has shrunk below
    :data:`MIN_STEP`, or when ``1 - polish_share`` of ``work`` is spent (each
    iteration is charged the pattern matrix's entries and the vectors it
    sweeps; ``None``: no budget). Then (with ``polish_share`` of ``work``,
    and what the iterations left) swap local search polishes two Lagrangian
    plans: the best ``x(lambda)`` seen and the averaged solution rounded to
    ``p`` sites; ``polish_share=0`` skips that.
    """
    t0 = perf_counter()
    work = work if work is not None else Work.unlimited()
    polish = Work(polish_share * work.left, cap=work.cap, parent=work)
    subgradient = work.part(1.0 - polish_share)
    pat = patterns if patterns is not None else build_patterns(inst)
    B = pat.matrix
    BT = sp.csr_array(B.T)
    Bc = BT.T  # CSC view of B for column sums
    # B^T as CSC with 32-bit indices for c = B^T lambda: a scatter into n_cols sums (several times faster
    # than BT's gather from the long lambda), half the index bandwidth
    small = max(B.nnz, B.shape[1]) < np.iinfo(np.int32).max
    Bt = sp.csc_array((B.data, B.indices.astype(np.int32 if small else np.int64),
                       B.indptr.astype(np.int32 if small else np.int64)), shape=(B.shape[1], B.shape[0]))
    knap = _Knapsack(inst, pat.free, inst.fixed)
    cols = knap.cols

    def totals_of(chosen_cols: NDArray[np.int64]) -> NDArray[np.float64]:
        pos = column_positions(Bc.indptr, chosen_cols)
        return sums_by(Bc.indices[pos], Bc.data[pos], pat.n_patterns)

    start_free = np.setdiff1d(start, inst.fixed)
    best_plan, best_value = np.sort(start), pat.value(totals_of(start_free))
    W, room = pat.weights, pat.room
    lam = _initial_multipliers(pat, totals_of(start_free))
    best_bound, best_costs, best_base = math.inf, np.zeros(inst.n_cols), 0.0
    iterate, iterate_value = best_plan, -math.inf
    x_avg = y_avg = cover_avg = None
    step, stale, it, mark = 1.0, 0, 0, math.inf
    # B^T lambda, the knapsack, the vector updates: an entry here costs about a quarter of one in local search
    # (vectorised scatter and sweeps; benchmarks/calibrate_work.py), hence the division
    per_iteration = (B.nnz + 20 * pat.n_patterns + 8 * inst.n_cols) // 4
    while it < max_iter and not subgradient.spent():
        it += 1
        c = np.asarray(Bt @ lam, dtype=np.float64)  # 0 off the free sites: their columns are empty
        pick = cols[knap.solve(c)]
        subgradient.charge(per_iteration + int(Bc.indptr[pick + 1].sum() - Bc.indptr[pick].sum()) // 4)
        base = pat.offset + float((room * np.maximum(W - lam, 0.0)).sum())
        L = base + float(c[pick].sum())
        tot = totals_of(pick)
        value = pat.offset + float((W * np.minimum(room, tot)).sum())
        if value > iterate_value:
            iterate, iterate_value = np.r_[inst.fixed, pick], value
        if L < best_bound - 1e-12 * max(abs(L), 1.0):
            best_bound, best_costs, best_base, stale = L, c, base, 0
        else:
            stale += 1
            if stale >= PATIENCE:
                step, stale = step / 2, 0
        if best_bound - max(best_value, iterate_value) <= target_gap * max(best_value, 1e-300) or step < MIN_STEP:
            break
        if it % STALL_ITERATIONS == 0:
            if mark - best_bound <= STALL_SHARE * max(best_value, 1e-300):
                break  # converged as far as it goes
            mark = best_bound
        y = np.where(W > lam, room, 0.0)
        x = np.zeros(inst.n_cols)
        x[pick] = 1.0
        if x_avg is None or y_avg is None or cover_avg is None:
            x_avg, y_avg, cover_avg = x, y, tot
        else:
            x_avg = 0.1 * x + 0.9 * x_avg
            y_avg = 0.1 * y + 0.9 * y_avg
            cover_avg = 0.1 * tot + 0.9 * cover_avg
        grad = cover_avg - y_avg
        norm = float((grad * grad).sum())
        if norm <= 0:
            break  # the averaged solution covers exactly what y wants: lambda is optimal
        lam = np.clip(lam - step * (L - max(best_value, iterate_value)) / norm * grad, 0.0, W)
        if it % 50 == 0:
            log.debug("lagrangian: iteration %d, bound %.6g, plan %.6g, step %.3g, %.2f s", it, best_bound,
                      max(best_value, iterate_value), step, perf_counter() - t0)
    if iterate_value > best_value:
        best_value, best_plan = iterate_value, np.sort(iterate)
    log.info("lagrangian: %d iterations, bound %.6g, best plan %.6g (gap %.3f%%), %.2f s", it, best_bound,
             best_value, 100 * (best_bound - best_value) / max(best_value, 1e-300), perf_counter() - t0)
    if polish_share > 0 and best_bound - best_value > target_gap * max(best_value, 1e-300):
        tries = [iterate] + ([np.r_[inst.fixed, cols[knap.solve(x_avg)]]] if x_avg is not None else [])
        for k, plan in enumerate(tries):
            polished, _ = improve(inst, plan, work=polish.part(1.0 / (len(tries) - k)))
            v = pat.value(totals_of(np.setdiff1d(polished, inst.fixed)))
            if v > best_value:
                best_value, best_plan = v, np.sort(polished)
    return LagrangianBound(bound=best_bound, plan=best_plan, plan_value=best_value, costs=best_costs,
                           base=best_base, iterations=it)


def flip_bounds(inst: Instance, lag: LagrangianBound, free: NDArray[np.bool_]) -> tuple[NDArray[np.float64],
                                                                                        NDArray[np.bool_]]:
    """Lagrangian bound on the best plan with each free site flipped, and which sites ``x(lambda)`` takes.

    For a site the relaxation takes, the bound on every plan without it; for
    one it leaves out, on every plan with it: one matroid exchange away from
    ``x(lambda)`` at the best multipliers. ``-inf`` where no exchange is
    feasible (the flip is impossible under the quotas).
    """
    c = lag.costs
    knap = _Knapsack(inst, free, inst.fixed)
    cols = knap.cols
    pick = cols[knap.solve(c)]
    chosen = np.zeros(inst.n_cols, dtype=np.bool_)
    chosen[pick] = True
    L = lag.base + float(c[pick].sum())
    g = inst.groups
    in_fixed = np.bincount(g[inst.fixed], minlength=inst.n_groups)
    counts = np.bincount(g[pick], minlength=inst.n_groups) + in_fixed
    out = np.full(inst.n_cols, -np.inf)
    # chosen j forced out: best unchosen e of the same group, or of a group with room while j's is above its minimum
    uncho = cols[~chosen[cols]]
    best_in_group = _group_extreme(c[uncho], g[uncho], inst.n_groups, np.max, -np.inf)
    has_room = counts < inst.upper
    cross_in = c[uncho][has_room[g[uncho]]].max(initial=-np.inf)
    j = pick
    alt = np.maximum(best_in_group[g[j]], np.where(counts[g[j]] > inst.lower[g[j]], cross_in, -np.inf))
    out[j] = L - c[j] + alt
    # unchosen j forced in: drop the worst chosen of its group, or of a group above its minimum while j's has room
    worst_in_group = _group_extreme(c[pick], g[pick], inst.n_groups, np.min, np.inf)
    above_min = counts > inst.lower
    cross_out = c[pick][above_min[g[pick]]].min(initial=np.inf)
    alt_out = np.minimum(worst_in_group[g[uncho]], np.where(has_room[g[uncho]], cross_out, np.inf))
    out[uncho] = L + c[uncho] - alt_out
    return out, chosen


def _group_extreme(values: NDArray[np.float64], groups: NDArray[np.int64], n: int, fn: Any,
                   empty: float) -> NDArray[np.float64]:
    out = np.full(n, empty)
    if values.size:
        (np.maximum if fn is np.max else np.minimum).at(out, groups, values)
    return out


def lagrangian_mclp(coverage: Any, weights: ArrayLike, *, p: int, covered0: ArrayLike | None = None,
                    groups: ArrayLike | None = None, min_per_group: ArrayLike | None = None,
                    max_per_group: ArrayLike | None = None, fixed: ArrayLike | None = None,
                    secondary: ArrayLike | None = None, start: PlacementResult | ArrayLike | None = None,
                    work_budget: int | None = None, time_cap_s: float | None = None,
                    target_gap: float = 1e-4, time_budget_s: float | None = None) -> PlacementResult:
    """Choose ``p`` sites by Lagrangian relaxation: the best Lagrangian plan, with its proven bound.

    Parameters
    ----------
    coverage, weights, p, covered0, groups, min_per_group, max_per_group, fixed, secondary
        As in :func:`~geoplan.placement.greedy_mclp`.
    start : PlacementResult or array_like of int, optional
        A feasible plan to start from; by default greedy with local search.
    work_budget : int, optional
        Work units (:mod:`~geoplan.placement._work`) of the default start (half)
        and the subgradient search and its local search (the rest); by default
        :data:`LAGRANGIAN_WORK`, about 10 s on the reference machine. The same
        inputs and budget give the same plan and bound on any machine.
    time_cap_s : float, optional
        Wall-clock safety cap in seconds (default ten times the budget's
        reference seconds); when it stops the search first, the result says
        so (``time_capped``, ``notes``): the plan may then differ between runs.
    target_gap : float
        Stop once the bound is within this relative gap of the best plan.
    time_budget_s : float, optional
        Deprecated: read as ``work_budget`` of that many seconds on the
        reference machine, with a ``DeprecationWarning``.

    Returns
    -------
    PlacementResult
        ``method="lagrangian"``, ``status="heuristic"`` (``"optimal"`` when the
        gap to the bound is within ``target_gap``), ``bound`` the best of the
        Lagrangian, submodular and coverable bounds.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> A = sp.csc_array(np.array([[0, 1, 0], [1, 1, 0], [1, 1, 0], [1, 0, 1], [1, 0, 1], [0, 0, 1]]))
    >>> res = lagrangian_mclp(A, np.ones(6), p=2)
    >>> res.selected.tolist(), res.objective, res.gap
    ([1, 2], 6.0, 0.0)
    """
    from .greedy import greedy_mclp  # greedy uses this module for its bound
    from .local_search import check_plan

    started = perf_counter()
    kwargs: dict[str, Any] = dict(coverage=coverage, weights=weights, p=p, covered0=covered0, groups=groups,
                                  min_per_group=min_per_group, max_per_group=max_per_group, fixed=fixed,
                                  secondary=secondary)
    inst = check_problem(**kwargs)
    units, cap_s = check_budget(work_budget, time_cap_s, default_units=LAGRANGIAN_WORK, time_budget_s=time_budget_s,
                                solver="lagrangian_mclp")
    work = Work(units, cap=started + cap_s)
    stages = {"check": perf_counter() - started}
    if start is None:
        greedy = greedy_mclp(**kwargs, work_budget=int(units // 2), time_cap_s=cap_s, bound="submodular")
        first = greedy.selected
        work.charge(greedy.work)
        work.capped = greedy.time_capped
    else:
        first = check_plan(inst, start.selected if isinstance(start, PlacementResult) else start, field="start")
    stages["start"] = perf_counter() - started - stages["check"]
    lag = lagrangian_bound(inst, start=np.asarray(first, dtype=np.int64), work=work, target_gap=target_gap)
    stages["lagrangian"] = perf_counter() - started - sum(stages.values())
    result = make_result(inst, greedy_order(inst, lag.plan), method="lagrangian", status="heuristic",
                         started=started, bounds={"lagrangian": lag.bound}, stages=stages, work=work)
    if result.gap is not None and result.gap <= target_gap:
        result = replace(result, status="optimal")
    return result
