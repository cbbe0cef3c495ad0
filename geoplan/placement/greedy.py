"""Greedy site placement: maximal covering with district quotas (then local search), and set cover.

Greedy is lazy greedy (:mod:`~geoplan.placement._lazy`, Minoux 1978): exactly
plain greedy's answer, ties included (gain, then ``secondary`` higher first,
then lower column index), at a small fraction of the work.

Quotas are met by construction, in three phases:

1. ``fixed`` sites are taken first (in the order given);
2. *quota phase*: while some district is below its minimum, the best site by
   gain among districts still below their minimums is taken;
3. *fill phase*: the rest of ``p`` goes to the best sites overall, skipping
   districts at their maximum.

Phase 2 can always finish (each minimum is at most the district's candidates,
checked before solving) and phase 3 too (``p`` is at most the sum of the
districts' maximums, checked too). Sites whose gain is 0 (their demand is
already covered) are still placed when a quota or ``p`` asks for them: they
still add to stations per 10k people. Among them ``secondary`` decides.

Greedy alone ends 2-6 % below the best bound on hard instances (radii of
several candidate spacings, budgets far from saturating coverage; see
``benchmarks/bench_placement_family.py``), and within 0.1 % where coverage
saturates. By default a swap local search (:mod:`~geoplan.placement.local_search`)
then exchanges sites while that covers more, keeping quotas and fixed sites, and
a Lagrangian relaxation (:mod:`~geoplan.placement.lagrangian`) bounds the
optimum and offers its own plans, polished by the same swaps; the best plan is
returned. When that plan is not yet proven within :data:`BOUND_TARGET`, the rest
of the work budget goes to window search (:mod:`~geoplan.placement.windows`:
HiGHS re-solves a window of neighbouring candidates exactly, window after
window), worth 0.3-0.7 % more coverage on hard instances in the default budget.
With ``kicks=True`` part of it goes to kick-and-swap search instead
(:func:`~geoplan.placement.local_search.kick_search`). The budget counts work, not seconds
(:mod:`~geoplan.placement._work`), so the same inputs give the same plan on any
machine at any load; a wall-clock cap only guards against a pathologically slow
machine, and the result says when it struck (``time_capped``, ``notes``). The reported gap is a proven guarantee: a fraction of a per cent
where coverage nearly saturates, a few per cent on hard instances, where the
LP relaxation itself is 0.9-2.3 % above the best plans known (family rows 3-6, 8, 11).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from time import perf_counter
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..errors import InfeasibleError, Problem, SolverError, ValidationError
from ._instance import Instance, check_problem
from ._lazy import LazyGreedy, greedy_order
from ._result import (
    PlacementResult,
    cheap_bound,
    coverable_weight,
    coverage_totals,
    covered_weight,
    make_result,
)
from ._work import WORK_PER_SECOND, Work, check_budget
from .lagrangian import POLISH_SHARE, lagrangian_bound
from .local_search import KICK_PATIENCE, improve, kick_search
from .windows import window_search

__all__ = ["greedy_mclp", "greedy_set_cover"]

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())

#: Relative gap to the cheap bounds below which greedy skips local search and the Lagrangian bound.
GOOD_ENOUGH = 1e-3
#: Relative gap at which the Lagrangian bound stops: the plan is proven this close to the optimum.
BOUND_TARGET = 5e-3
#: Share of the work budget local search may use before the Lagrangian bound (which gets the rest).
LOCAL_SEARCH_SHARE = 0.7
#: Share of the work left for window search when kicks follow it.
WINDOW_SHARE = 0.5
#: Default work budget of local search, the Lagrangian bound and kicks together (units of
#: :mod:`~geoplan.placement._work`): about 10 s on the reference machine, the wall-clock budget it replaces.
GREEDY_WORK = 10 * WORK_PER_SECOND


def greedy_mclp(coverage: Any, weights: ArrayLike, *, p: int, covered0: ArrayLike | None = None,
                groups: ArrayLike | None = None, min_per_group: ArrayLike | None = None,
                max_per_group: ArrayLike | None = None, fixed: ArrayLike | None = None,
                secondary: ArrayLike | None = None, local_search: bool = True,
                bound: Literal["lagrangian", "submodular"] = "lagrangian", work_budget: int | None = None,
                time_cap_s: float | None = None, windows: bool = True, kicks: bool = False,
                cancel: Callable[[], bool] | None = None, time_budget_s: float | None = None) -> PlacementResult:
    """Choose ``p`` sites that greedily maximise newly covered demand, meeting district quotas.

    Parameters
    ----------
    coverage : scipy.sparse matrix, shape (n_demand, n_candidates)
        Where a candidate site (column) covers a demand cell (row): bool or
        integer entries (nonzero: covers), or floating shares in (0, 1] (the
        share of the cell the site covers).
    weights : array_like of float, shape (n_demand,)
        Demand weight of each cell (persons); must be >= 0.
    p : int
        Total number of new sites, fixed ones included.
    covered0 : array_like of bool or float, shape (n_demand,), optional
        Cells already covered by existing sites (a boolean mask), or the share
        of each cell they cover, in [0, 1]; covered demand adds nothing.
    groups : array_like of int, shape (n_candidates,), optional
        District code (0..G-1) of each candidate site.
    min_per_group, max_per_group : array_like of int, shape (G,), optional
        Minimum and maximum number of new sites per district (fixed sites count).
    fixed : array_like of int, optional
        Column indices of sites that must be chosen (e.g. drawn by a planner).
    secondary : array_like of float, shape (n_candidates,), optional
        Tie-break between sites of equal gain, higher first (e.g. local
        population density); then the lower column index wins.
    local_search : bool
        After greedy, exchange sites while that covers more (Teitz-Bart swaps,
        :mod:`~geoplan.placement.local_search`), keeping quotas and fixed sites.
    bound : {"lagrangian", "submodular"}
        The upper bound behind ``gap``: a Lagrangian relaxation (tight, a few
        seconds at city scale; its plans, polished by local search, replace
        the greedy plan when they cover more) or only the submodular and
        coverable bounds (instant, loose: often 10-30 % above the optimum).
    work_budget : int, optional
        Work units (:mod:`~geoplan.placement._work`: matrix entries and vector
        elements touched) of local search, the Lagrangian bound and kicks
        together (greedy itself runs to the end); by default
        :data:`GREEDY_WORK`, about 10 s on the reference machine. Local search
        stops earlier when no swap helps, the bound when it proves the plan
        within :data:`BOUND_TARGET` (0.5 %), and both are skipped when the
        cheap bounds already prove :data:`GOOD_ENOUGH` (0.1 %). The same
        inputs and budget give the same plan on any machine at any load.
    time_cap_s : float, optional
        Wall-clock safety cap in seconds on that work (default ten times the
        budget's reference seconds, at least 5 s; ``math.inf``: none). When it
        stops a heuristic before the work budget, the result says so
        (``time_capped``, ``notes``): that plan may differ between runs.
    windows : bool
        With ``local_search``: when the plan is not proven within
        :data:`BOUND_TARGET` after the Lagrangian bound, spend what is left of
        ``work_budget`` on window search (:func:`~geoplan.placement.windows.window_search`:
        HiGHS re-solves windows of neighbouring candidates exactly and keeps
        what covers more). It stops earlier when a pass over the plan at the
        largest window size finds nothing.
    kicks : bool
        Spend what is left of ``work_budget`` on kick-and-swap search
        (:func:`~geoplan.placement.local_search.kick_search`: drop a cluster of
        sites, refill greedily, swap, keep if better) unless the plan is proven
        within :data:`BOUND_TARGET`, stopping after ``KICK_PATIENCE`` (10) kicks
        in a row without a better plan. Off by default so that a call takes no
        longer than its phases need (the county-by-county engine calls this per
        county); on, hard instances gain 0.3-1 % of coverage in a few seconds.
    cancel : callable, optional
        Polled between the heuristics' passes and iterations (greedy itself
        runs to the end); when it returns true they stop and the plan so far is
        returned, with a note that it may differ between runs.
    time_budget_s : float, optional
        Deprecated: read as ``work_budget`` of that many seconds on the
        reference machine (``time_budget_s * WORK_PER_SECOND`` units), with a
        ``DeprecationWarning``; pass ``work_budget`` and ``time_cap_s`` instead.

    Returns
    -------
    PlacementResult
        ``method="greedy"``, ``status="greedy"``. ``selected``: with local
        search, fixed sites first, then in greedy order within the plan;
        without, in the order chosen (see the module notes for the three
        phases). ``gap`` to ``bound``, the tightest upper bound known
        (``bound_source``); ``swaps`` made by local search; ``work`` units
        spent; ``time_capped`` and ``notes`` when the time cap struck.

    Raises
    ------
    ValidationError
        Malformed input, e.g. negative weights, mismatched lengths, a negative
        ``work_budget`` or a ``time_cap_s`` that is not a positive number.
    InfeasibleError
        Budget and quotas that cannot all be met (checked before any work).

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> A = sp.csc_array(np.array([[1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 0, 1]]))
    >>> res = greedy_mclp(A, [10.0, 5.0, 5.0, 1.0], p=2)
    >>> res.selected.tolist(), res.objective, res.gap
    ([0, 1], 20.0, 0.0)
    """
    started = perf_counter()
    inst = check_problem(coverage, weights, p=p, covered0=covered0, groups=groups, min_per_group=min_per_group,
                         max_per_group=max_per_group, fixed=fixed, secondary=secondary)
    if bound not in ("lagrangian", "submodular"):
        raise ValidationError(Problem("placement", "bound", f"must be 'lagrangian' or 'submodular', got {bound!r}",
                                      "pass bound='lagrangian' (tight) or bound='submodular' (instant)"))
    units, cap_s = check_budget(work_budget, time_cap_s, default_units=GREEDY_WORK, time_budget_s=time_budget_s,
                                solver="greedy_mclp")
    stages = {"check": perf_counter() - started}
    order, start_bound = _greedy(inst)
    stages["greedy"] = perf_counter() - started - sum(stages.values())
    work = Work(units, cap=perf_counter() + cap_s, cancel=cancel)
    swaps = 0
    bounds = {"submodular": start_bound}
    if _proven(inst, order, bounds):  # already within GOOD_ENOUGH of a cheap bound: nothing to gain
        local_search, bound = False, "submodular"
    if local_search:
        better, swaps = improve(inst, order, work=work.part(LOCAL_SEARCH_SHARE if bound == "lagrangian" else 1.0))
        order = greedy_order(inst, better) if swaps else order
        stages["local_search"] = perf_counter() - started - sum(stages.values())
    if bound == "lagrangian" and inst.p > inst.fixed.size and not _proven(inst, order, bounds):
        lag = lagrangian_bound(inst, start=order, work=work, target_gap=BOUND_TARGET,
                               polish_share=POLISH_SHARE if local_search else 0.0)
        bounds["lagrangian"] = lag.bound
        if lag.plan_value > covered_weight(inst, coverage_totals(inst, order)) * (1 + 1e-12):
            order = greedy_order(inst, lag.plan)  # a Lagrangian plan, polished by the same swaps, covers more
        stages["lagrangian"] = perf_counter() - started - sum(stages.values())
    if windows and local_search and inst.p > inst.fixed.size and not work.spent() and not _proven(
            inst, order, bounds, BOUND_TARGET):
        better, improved, _ = window_search(inst, order, work=work.part(WINDOW_SHARE) if kicks else work)
        order = greedy_order(inst, better) if improved else order
        stages["windows"] = perf_counter() - started - sum(stages.values())
    if kicks and local_search and inst.p - inst.fixed.size >= 2 and not work.spent():
        value = covered_weight(inst, coverage_totals(inst, order))
        if min(bounds.values()) - value > BOUND_TARGET * max(value, 1e-300):
            better, improved, _ = kick_search(inst, order, work=work, patience=KICK_PATIENCE)
            order = greedy_order(inst, better) if improved else order
            stages["kicks"] = perf_counter() - started - sum(stages.values())
    return make_result(inst, order, method="greedy", status="greedy", started=started, bounds=bounds, swaps=swaps,
                       stages=stages, work=work)



def _proven(inst: Instance, order: NDArray[np.int64], bounds: dict[str, float], target: float = GOOD_ENOUGH) -> bool:
    """Whether the cheap bounds (submodular, coverable) or those in ``bounds`` put ``order`` within ``target``."""
    value, cheap = cheap_bound(inst, order)
    return min(cheap, *bounds.values()) - value <= target * max(value, 1e-300)


def _greedy(inst: Instance) -> tuple[NDArray[np.int64], float]:
    """Lazy greedy in three phases (fixed, quotas, fill); the plan in order, and Minoux's bound at the start."""
    state = LazyGreedy(inst)
    for j in inst.fixed.tolist():
        state.take(j, state.gain(j))
    state.refresh_bounds()
    free = inst.p - len(state.order)
    start_bound = state.gained + float(np.sort(state.bound)[inst.n_cols - free:].sum()) if free else state.gained
    need = np.maximum(inst.lower - state.counts, 0)
    if need.sum() > 0:
        state.pick(int(need.sum()), need)
    rest = inst.p - len(state.order)
    state.pick(rest, inst.upper - state.counts)
    if len(state.order) != inst.p:  # cannot happen after check_problem; guard against a silent short plan
        raise SolverError(f"greedy placed {len(state.order)} of {inst.p} sites; please report this as a bug")
    return np.asarray(state.order, dtype=np.int64), start_bound


def greedy_set_cover(coverage: Any, weights: ArrayLike, *, target_share: float,
                     covered0: ArrayLike | None = None, fixed: ArrayLike | None = None,
                     secondary: ArrayLike | None = None) -> PlacementResult:
    """Greedily add sites until ``target_share`` of the demand weight is covered.

    The classic greedy for weighted partial set cover (within a factor
    ln(n) + 1 of the fewest sites). Existing coverage (``covered0``) and
    ``fixed`` sites count toward the target.

    Parameters
    ----------
    coverage, weights, covered0, fixed, secondary
        As in :func:`greedy_mclp`.
    target_share : float
        Share of the total demand weight to cover, in (0, 1].

    Returns
    -------
    PlacementResult
        ``method="greedy_set_cover"``, ``status="greedy"``.

    Raises
    ------
    InfeasibleError
        When even all candidate sites cannot reach ``target_share``.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> A = sp.csc_array(np.array([[1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 0, 1]]))
    >>> greedy_set_cover(A, [10.0, 5.0, 5.0, 1.0], target_share=0.9).selected.tolist()
    [0, 1]
    """
    started = perf_counter()
    inst = check_problem(coverage, weights, p=None, covered0=covered0, fixed=fixed, secondary=secondary)
    share = float(target_share)
    if not 0.0 < share <= 1.0:
        raise ValidationError(Problem("placement", "target_share", f"must be in (0, 1], got {target_share!r}",
                                      "give a share such as 0.95 for 95 %"))
    total = float(inst.weights.sum())
    already = float(inst.weights @ (1.0 - inst.room))
    reachable = already + coverable_weight(inst)
    target = share * total * (1.0 - 1e-12)
    if reachable < target:
        raise InfeasibleError(f"Even all {inst.n_cols} candidate sites cover only {reachable / total:.4%} of the "
                              f"demand weight, below target_share {share:.4%}: add candidates near uncovered "
                              "demand or lower target_share")
    state = LazyGreedy(inst)
    for j in inst.fixed.tolist():
        state.take(j, state.gain(j))
    state.refresh_bounds()
    state.pick(inst.n_cols, np.array([inst.n_cols], dtype=np.int64), stop_weight=target - already)
    return make_result(inst, state.order, method="greedy_set_cover", status="greedy", started=started)
