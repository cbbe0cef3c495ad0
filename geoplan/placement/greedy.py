"""Greedy site placement: maximal covering with district quotas, and set cover.

The covered weight ``Σ_i w_i min(1, s0_i + Σ_chosen a_ij)`` is a monotone
submodular function of the chosen set (also when ``a_ij`` are fractional cell
shares: ``min(1, ·)`` of a sum is concave), so a site's gain
``Σ_i w_i min(a_ij, 1 - s_i)`` can only shrink as others are chosen. Lazy evaluation (Minoux 1978)
keeps every site in a priority queue under its last computed gain, an upper
bound of its current gain, and recomputes only the site at the top: when the
recomputed gain still beats the next bound, no other site can do better. The
answer is exactly that of plain greedy, ties included (gain, then ``secondary``
higher first, then lower column index), at a small fraction of the work.

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
"""

from __future__ import annotations

import heapq
import logging
from time import perf_counter
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..errors import InfeasibleError, Problem, SolverError, ValidationError
from ._result import Instance, PlacementResult, check_problem, column_gains, covered_shares, make_result

__all__ = ["greedy_mclp", "greedy_set_cover"]

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())


class _LazyGreedy:
    """The state of one greedy run: uncovered shares, bounds, choices.

    ``rest`` is the share of each row still uncovered (``1 - s_i``). For a 0/1
    problem (:attr:`Instance.binary`) a site's gain is the sum of ``w * rest``
    over its rows; otherwise ``Σ w min(a, rest)`` over its entries.
    """

    def __init__(self, inst: Instance) -> None:
        A = inst.coverage
        self.inst = inst
        self.indptr: list[int] = A.indptr.tolist()
        self.indices = A.indices
        self.data = A.data
        self.binary = inst.binary
        self.groups: list[int] = inst.groups.tolist()
        self.neg_secondary: list[float] = (-inst.secondary).tolist()
        self.rest = 1.0 - inst.share0
        self.residual = inst.weights * self.rest  # weight still uncovered in each row
        self.order: list[int] = []
        self.chosen = np.zeros(inst.n_cols, dtype=np.bool_)
        self.counts = np.zeros(inst.n_groups, dtype=np.int64)
        self.gained = 0.0
        self.bound = np.zeros(inst.n_cols)
        self.stamp: list[int] = [-1] * inst.n_cols

    def gain(self, j: int) -> float:
        """Weight of the still uncovered shares of the rows site ``j`` covers."""
        lo, hi = self.indptr[j], self.indptr[j + 1]
        rows = self.indices[lo:hi]
        if self.binary:
            return float(self.residual[rows].sum())
        return float((np.minimum(self.data[lo:hi], self.rest[rows]) * self.inst.weights[rows]).sum())

    def take(self, j: int, gain: float) -> None:
        lo, hi = self.indptr[j], self.indptr[j + 1]
        rows = self.indices[lo:hi]
        if self.binary:
            self.rest[rows] = 0.0
        else:
            self.rest[rows] -= np.minimum(self.data[lo:hi], self.rest[rows])
        self.residual[rows] = self.inst.weights[rows] * self.rest[rows]
        self.chosen[j] = True
        self.order.append(j)
        self.counts[self.groups[j]] += 1
        self.gained += gain

    def refresh_bounds(self) -> None:
        """Exact gains of every site, all at once (one pass over the matrix)."""
        if self.binary:
            self.bound = np.asarray(self.inst.coverage.T @ self.residual, dtype=np.float64)
        else:
            self.bound = column_gains(self.inst, 1.0 - self.rest)
        self.stamp = [len(self.order)] * self.inst.n_cols

    def pick(self, n: int, capacity: NDArray[np.int64], *, stop_weight: float = np.inf) -> int:
        """Take up to ``n`` sites by lazy greedy, at most ``capacity[g]`` in group ``g``.

        Stops early once ``gained`` reaches ``stop_weight`` (or, when a
        ``stop_weight`` is set, once no site adds anything). Returns the
        number of sites taken.
        """
        cap: list[int] = capacity.tolist()
        cands = np.flatnonzero(~self.chosen & (capacity[self.inst.groups] > 0))
        heap = list(zip((-self.bound[cands]).tolist(), [self.neg_secondary[j] for j in cands.tolist()],
                        cands.tolist(), strict=True))
        heapq.heapify(heap)
        groups, stamp, bound = self.groups, self.stamp, self.bound
        picked = 0
        while picked < n and heap and self.gained < stop_weight:
            _, neg_sec, j = heapq.heappop(heap)
            if cap[groups[j]] <= 0:
                continue
            now = len(self.order)
            if stamp[j] != now:
                g = self.gain(j)
                bound[j] = g
                stamp[j] = now
                if heap and (-g, neg_sec, j) > heap[0]:
                    heapq.heappush(heap, (-g, neg_sec, j))
                    continue
            g = float(bound[j])
            if g <= 0.0 and np.isfinite(stop_weight):
                break
            self.take(j, g)
            cap[groups[j]] -= 1
            picked += 1
        return picked


def greedy_mclp(coverage: Any, weights: ArrayLike, *, p: int, covered0: ArrayLike | None = None,
                groups: ArrayLike | None = None, min_per_group: ArrayLike | None = None,
                max_per_group: ArrayLike | None = None, fixed: ArrayLike | None = None,
                secondary: ArrayLike | None = None) -> PlacementResult:
    """Choose ``p`` sites that greedily maximise newly covered demand, meeting district quotas.

    Parameters
    ----------
    coverage : scipy.sparse matrix, shape (n_demand, n_candidates)
        Nonzero where a candidate site (column) covers a demand cell (row): 1
        (or True) for the whole cell, or the share of the cell it covers
        (fractional coverage, :func:`geoplan.coverage.coverage_matrix` with
        ``cell_m``); values above 1 count as 1.
    weights : array_like of float, shape (n_demand,)
        Demand weight of each cell (persons); must be >= 0.
    p : int
        Total number of new sites, fixed ones included.
    covered0 : array_like of bool or float, shape (n_demand,), optional
        Cells already covered by existing sites (bool), or the share of each
        already covered (floats in [0, 1]); covered shares add nothing.
    groups : array_like of int, shape (n_candidates,), optional
        District code (0..G-1) of each candidate site.
    min_per_group, max_per_group : array_like of int, shape (G,), optional
        Minimum and maximum number of new sites per district (fixed sites count).
    fixed : array_like of int, optional
        Column indices of sites that must be chosen (e.g. drawn by a planner).
    secondary : array_like of float, shape (n_candidates,), optional
        Tie-break between sites of equal gain, higher first (e.g. local
        population density); then the lower column index wins.

    Returns
    -------
    PlacementResult
        ``method="greedy"``, ``status="greedy"``; ``selected`` in the order
        chosen (see the module notes for the three phases); ``gap`` to the
        submodular upper bound of Minoux (1978), the smaller of the one before
        and the one after choosing.

    Raises
    ------
    ValidationError
        Malformed input, e.g. negative weights or mismatched lengths.
    InfeasibleError
        Budget and quotas that cannot all be met (checked before any work).

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> A = sp.csc_array(np.array([[1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 0, 1]]))
    >>> res = greedy_mclp(A, [10.0, 5.0, 5.0, 1.0], p=2)
    >>> res.selected.tolist(), res.objective
    ([0, 1], 20.0)
    """
    started = perf_counter()
    inst = check_problem(coverage, weights, p=p, covered0=covered0, groups=groups, min_per_group=min_per_group,
                         max_per_group=max_per_group, fixed=fixed, secondary=secondary)
    state = _LazyGreedy(inst)
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
    return make_result(inst, state.order, method="greedy", status="greedy", started=started, bound=start_bound)


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
    reachable = float(inst.weights @ covered_shares(inst, np.arange(inst.n_cols)))
    target = share * total * (1.0 - 1e-12)
    if reachable < target:
        raise InfeasibleError(f"Even all {inst.n_cols} candidate sites cover only {reachable / total:.4%} of the "
                              f"demand weight, below target_share {share:.4%}: add candidates near uncovered "
                              "demand or lower target_share")
    state = _LazyGreedy(inst)
    for j in inst.fixed.tolist():
        state.take(j, state.gain(j))
    state.refresh_bounds()
    already = float(inst.weights @ inst.share0)
    state.pick(inst.n_cols, np.array([inst.n_cols], dtype=np.int64), stop_weight=target - already)
    return make_result(inst, state.order, method="greedy_set_cover", status="greedy", started=started)
