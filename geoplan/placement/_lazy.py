"""Lazy greedy (Minoux 1978): the engine behind greedy placement and the order of a plan's sites.

The covered weight is a monotone submodular function of the chosen set, so a
site's gain can only shrink as others are chosen. Lazy evaluation keeps every
site in a priority queue under its last computed gain, an upper bound of its
current gain, and recomputes only the site at the top: when the recomputed gain
still beats the next bound, no other site can do better. The answer is exactly
that of plain greedy, ties included (gain, then ``secondary`` higher first,
then lower column index), at a small fraction of the work. Binary and
fractional coverage alike: a site's gain is ``sum_i w_i min(a_ij, left_i)``,
``left_i`` the share of row ``i`` still uncovered.
"""

from __future__ import annotations

import heapq

import numpy as np
from numpy.typing import NDArray

from ._instance import Instance, sums_by

__all__ = ["LazyGreedy", "greedy_order"]


class LazyGreedy:
    """The state of one greedy run: what is left to cover, bounds on gains, choices."""

    def __init__(self, inst: Instance) -> None:
        A = inst.coverage
        self.inst = inst
        self.indptr: list[int] = A.indptr.tolist()
        self.indices = A.indices
        self.data = None if inst.binary else np.asarray(A.data, dtype=np.float64)
        self.groups: list[int] = inst.groups.tolist()
        self.neg_secondary: list[float] = (-inst.secondary).tolist()
        # binary: weight still to win per row; fractional: share of the row still to cover
        self.residual = inst.live_weights.copy() if inst.binary else inst.room.copy()
        self.order: list[int] = []
        self.chosen = np.zeros(inst.n_cols, dtype=np.bool_)
        self.counts = np.zeros(inst.n_groups, dtype=np.int64)
        self.gained = 0.0
        self.bound = np.zeros(inst.n_cols)
        self.stamp: list[int] = [-1] * inst.n_cols

    def gain(self, j: int) -> float:
        """Weight site ``j`` would newly cover."""
        lo, hi = self.indptr[j], self.indptr[j + 1]
        rows = self.indices[lo:hi]
        if self.data is None:
            return float(self.residual[rows].sum())
        return float(self.inst.weights[rows] @ np.minimum(self.data[lo:hi], self.residual[rows]))

    def take(self, j: int, gain: float) -> None:
        lo, hi = self.indptr[j], self.indptr[j + 1]
        rows = self.indices[lo:hi]
        if self.data is None:
            self.residual[rows] = 0.0
        else:
            self.residual[rows] = np.maximum(self.residual[rows] - self.data[lo:hi], 0.0)
        self.chosen[j] = True
        self.order.append(j)
        self.counts[self.groups[j]] += 1
        self.gained += gain

    def refresh_bounds(self) -> None:
        """Exact gains of every site, all at once."""
        inst, A = self.inst, self.inst.coverage
        if self.data is None:
            self.bound = np.asarray(A.T @ self.residual, dtype=np.float64)
        else:
            per = np.minimum(self.data, self.residual[A.indices]) * inst.weights[A.indices]
            self.bound = sums_by(inst.entry_cols, per, inst.n_cols)
        self.stamp = [len(self.order)] * inst.n_cols

    def pick(self, n: int, capacity: NDArray[np.int64], *, stop_weight: float = np.inf,
             allowed: NDArray[np.bool_] | None = None) -> int:
        """Take up to ``n`` sites by lazy greedy, at most ``capacity[g]`` in group ``g``.

        Only ``allowed`` sites are considered (default: all). Stops early once
        ``gained`` reaches ``stop_weight`` (or, when a ``stop_weight`` is set,
        once no site adds anything). Returns the number of sites taken.
        """
        cap: list[int] = capacity.tolist()
        mask = ~self.chosen & (capacity[self.inst.groups] > 0)
        if allowed is not None:
            mask &= allowed
        cands = np.flatnonzero(mask)
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


def greedy_order(inst: Instance, selected: NDArray[np.int64]) -> NDArray[np.int64]:
    """``selected`` with fixed sites first, then the others in greedy order of their gain within the plan.

    Each site covers the most not yet covered by the sites before it; ties go
    to the higher ``secondary``, then the lower column index.
    """
    state = LazyGreedy(inst)
    for j in inst.fixed.tolist():
        state.take(j, state.gain(j))
    allowed = np.zeros(inst.n_cols, dtype=np.bool_)
    allowed[selected] = True
    state.refresh_bounds()
    rest = int(allowed.sum()) - inst.fixed.size
    state.pick(rest, np.full(inst.n_groups, rest, dtype=np.int64), allowed=allowed)
    return np.asarray(state.order, dtype=np.int64)
