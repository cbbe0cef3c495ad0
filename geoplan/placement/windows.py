"""Window search: re-solve one window of a plan exactly, window after window.

Swap local search changes one site at a time and a kick refills a cluster
greedily; where coverage does not saturate (large radii, a budget well short
of covering everyone) the plans they reach stay 1-3 % below the LP bound,
because a better plan needs several neighbouring sites moved *together*: a
patch of coverage discs shifted as a whole so that they overlap less.

A *window* is a chosen site and the candidates nearest it, reached through
shared demand rows (the candidates sharing rows with the window so far, those
sharing most first), up to ``size`` candidates and ``max_sites`` chosen sites.
Every chosen site outside the
window stays; HiGHS finds the best choice of as many sites inside it as the
plan has there (:func:`~geoplan.placement._mip.mclp_mip` over the window's
demand patterns, where a row the outside sites cover counts only for the room
they leave). When that covers more, the window's sites are replaced. This is
large-neighbourhood search with exact sub-problems (Shaw 1998; Pisinger &
Ropke 2010), the "MIP-based neighbourhood" of matheuristics (Fischetti &
Lodi 2003), with neighbourhoods that are patches of the map.

Seeds are the plan's free sites in a seeded random order (measured better
than visiting the sites that cover least alone first: 99.01 % against 98.80 %
of the bound on family row 3 with the same work). A pass in which no
window improves the plan doubles the window size, up to ``max_size``; when
a pass at that size finds nothing, *wide* windows (:data:`WIDE_SIZE`
candidates, :data:`WIDE_SITES` sites) take over, and the search ends when a
pass of those finds nothing, or its work budget is spent. A window already solved (the same candidates), with none of them
changed since, is not solved again (HiGHS is deterministic: it would give the
same answer).

District quotas hold throughout: a window may move sites between districts
while each district's total stays within its bounds; fixed sites never move.
Binary and fractional coverage alike.

Repeatable: HiGHS stops each window at :data:`NODE_LIMIT` branch-and-bound
nodes, never on the clock (the clock only as the work budget's safety cap),
and every window charges its work (:mod:`~geoplan.placement._work`: the matrix
entries read to build it, a fixed set-up charge, and the model's size times the
simplex iterations HiGHS spent) so the same inputs and budget give the same plan.
"""

from __future__ import annotations

import logging
from time import perf_counter

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from ._highs import solve_highs
from ._instance import Instance, column_positions, sums_by
from ._mip import mclp_mip
from ._patterns import build_patterns
from ._result import coverage_totals, covered_weight
from ._work import Work

__all__ = ["window_search", "window", "WINDOW_SIZE", "WINDOW_MAX_SIZE", "WINDOW_MAX_SITES", "NODE_LIMIT"]

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())

#: Candidates in a window at the start, and at most (the size doubles after a pass without a better plan).
WINDOW_SIZE = 48
WINDOW_MAX_SIZE = 192
#: Chosen sites in a window at most: the root LP of a window gets slow fast with them on dense instances (a
#: 1,600-cell grid, 500 m radius, p = 20: windows of 14-15 sites took HiGHS up to 6.7 s, of 10 sites 2 s, of 8
#: 0.7 s); on the family rows windows stay below it and close at the root in tens of milliseconds.
WINDOW_MAX_SITES = 10
#: Candidates and chosen sites of the *wide* windows searched once the windows above find nothing more: slower
#: (up to seconds each) but they move what the small ones cannot. Measured on family rows 3 and 4: the small windows
#: stop at 99.28 % and 98.40 % of the bound (46 s and 24 s), then wide windows reach 99.38 % and 98.75 % (61 s and
#: 59 s in all); 256 candidates / 20 sites reached 99.31 % on row 3; more seeds (every candidate, not only chosen
#: sites) at the small sizes found nothing.
WIDE_SIZE = 400
WIDE_SITES = 30
#: Branch-and-bound nodes HiGHS may spend on one window (its best plan so far is used when it stops there).
NODE_LIMIT = 200
#: Work units of a window's HiGHS run per simplex iteration and model row or column: seconds ~= 2.6e-7 it (m+n)
#: on the reference machine, fitted to 476 windows of family rows 3, 4, 6 and 11
#: (benchmarks/bench_placement_family.py) on 2026-11-28 at load average ~1.2 (every window closed at the root
#: node; the fit's total is 1.06x the measured seconds), times :data:`~geoplan.placement._work.WORK_PER_SECOND`.
ITERATION_WORK = 18.0
#: Fixed work units of one window (building it and the model in Python, HiGHS's set-up: ~7 ms).
WINDOW_WORK = 500_000
#: HiGHS options of a window: presolve and primal heuristics cost more than they save on these small models
#: (measured: the same plans in half the time on family row 3), one thread (deterministic, no oversubscription).
HIGHS_OPTIONS = {"presolve": "off", "mip_heuristic_effort": 0.0, "threads": 1}


class _Plan:
    """The plan being improved: chosen sites, row totals and district counts."""

    def __init__(self, inst: Instance, selected: NDArray[np.int64]) -> None:
        self.inst = inst
        self.chosen = np.zeros(inst.n_cols, dtype=np.bool_)
        self.chosen[selected] = True
        self.totals = coverage_totals(inst, selected)
        self.counts = np.bincount(inst.groups[selected], minlength=inst.n_groups).astype(np.int64)
        self.fixed = np.zeros(inst.n_cols, dtype=np.bool_)
        self.fixed[inst.fixed] = True

    def value(self) -> float:
        return covered_weight(self.inst, self.totals)


def window(inst: Instance, seed: int, size: int, *, skip: NDArray[np.bool_], chosen: NDArray[np.bool_] | None = None,
           max_sites: int | None = None) -> tuple[NDArray[np.int64], int]:
    """Candidate ``seed`` and up to ``size - 1`` candidates nearest it through shared demand rows, and the work units.

    Level by level: the candidates sharing a demand row with the previous
    level, those sharing most rows first (then the lower index); ``skip``
    marks candidates never taken (fixed sites). With ``chosen`` and
    ``max_sites``, the window ends before the candidate that would put more
    than ``max_sites`` chosen sites in it. Ascending column indices.
    """
    A, by_row = inst.coverage, inst.row_major
    taken = np.zeros(inst.n_cols, dtype=np.bool_)
    taken[seed] = True
    order = [np.array([seed], dtype=np.int64)]
    count = 1
    frontier = order[0]
    units = 0
    while count < size and frontier.size:
        rows = np.unique(A.indices[column_positions(A.indptr, frontier)])
        cols = by_row.indices[column_positions(by_row.indptr, rows.astype(np.int64))]
        units += 2 * (rows.size + cols.size)
        cand, shared = np.unique(cols, return_counts=True)
        new = ~taken[cand] & ~skip[cand]
        cand, shared = cand[new], shared[new]
        frontier = cand[np.lexsort((cand, -shared))][: size - count].astype(np.int64)
        taken[frontier] = True
        order.append(frontier)
        count += frontier.size
    win = np.concatenate(order)
    if chosen is not None and max_sites is not None:
        win = win[np.cumsum(chosen[win]) <= max_sites]
    return np.sort(win), units


def _sub_instance(plan: _Plan, cols: NDArray[np.int64]) -> tuple[Instance, int]:
    """The window ``cols`` as a placement problem of its own, and the entries read.

    Rows: every row a window candidate covers; their room is what the chosen
    sites outside the window leave. ``p``: the chosen sites inside; quotas: each
    district's bounds less its chosen sites outside.
    """
    inst = plan.inst
    A = inst.coverage
    pos = column_positions(A.indptr, cols)
    rows, local = np.unique(A.indices[pos], return_inverse=True)
    lengths = (A.indptr[cols + 1] - A.indptr[cols]).astype(np.int64)
    data = A.data[pos]
    sub = sp.csc_array((data, local.astype(np.int32), np.r_[0, np.cumsum(lengths)]), shape=(rows.size, cols.size))
    sub.has_sorted_indices = True  # rows are in ascending order within each column, and ``local`` keeps that order
    inside = plan.chosen[cols]
    own = sums_by(local[np.repeat(inside, lengths)], None if inst.binary else data[np.repeat(inside, lengths)],
                  rows.size)
    outside = plan.totals[rows] - own
    room = np.where(outside > 0, 0.0, inst.room[rows]) if inst.binary else np.maximum(inst.room[rows] - outside, 0.0)
    g = inst.groups[cols]
    out_counts = plan.counts - np.bincount(g[inside], minlength=inst.n_groups)
    lower = np.maximum(inst.lower - out_counts, 0)
    upper = np.minimum(inst.upper - out_counts, np.bincount(g, minlength=inst.n_groups))
    sub_inst = Instance(coverage=sub, binary=inst.binary, weights=inst.weights[rows], room=room, covered0=room <= 0,
                        groups=g, n_groups=inst.n_groups, has_groups=inst.has_groups, lower=lower, upper=upper,
                        fixed=np.zeros(0, dtype=np.int64), p=int(inside.sum()), secondary=np.zeros(cols.size))
    return sub_inst, 4 * pos.size + 4 * rows.size


def _solve_window(plan: _Plan, cols: NDArray[np.int64], work: Work) -> NDArray[np.int64] | None:
    """The window's better choice of sites (column indices), or None."""
    sub, units = _sub_instance(plan, cols)
    work.charge(units + WINDOW_WORK)
    if sub.p == 0 or sub.p == cols.size:
        return None
    pat = build_patterns(sub)
    if pat.n_patterns == 0:
        return None
    model, free = mclp_mip(sub, pat, sub.fixed)
    x0 = plan.chosen[cols][free].astype(np.float64)
    current = pat.value(np.asarray(pat.matrix[:, free] @ x0, dtype=np.float64))
    left = work.cap - perf_counter()
    if left <= 0:
        return None
    out = solve_highs(model, time_limit_s=max(left, 0.01), mip_rel_gap=1e-9, guarded=False,
                      cutoff=current + 1e-9 * max(abs(current), 1.0), cancel=work.cancel,
                      options={"mip_max_nodes": NODE_LIMIT, **HIGHS_OPTIONS})
    work.charge(int(ITERATION_WORK * out.lp_iterations * (model.num_row + model.num_col)) + 4 * pat.matrix.nnz)
    if out.x is None or not out.objective > current + 1e-9 * max(abs(current), 1.0):
        return None
    return cols[free[out.x[: free.size] > 0.5]]


def window_search(inst: Instance, selected: NDArray[np.int64], *, work: Work, seed: int = 0,
                  size: int = WINDOW_SIZE, max_size: int = WINDOW_MAX_SIZE,
                  max_sites: int = WINDOW_MAX_SITES,
                  wide: tuple[int, int] | None = (WIDE_SIZE, WIDE_SITES)) -> tuple[NDArray[np.int64], int, int]:
    """Improve a plan by re-solving windows of it exactly (see the module notes).

    Parameters
    ----------
    inst : Instance
        The checked problem.
    selected : ndarray of int
        A feasible plan (``inst.p`` sites, fixed ones and quotas kept).
    work : Work
        The budget; the search stops when it is spent (or capped, or cancelled).
    seed : int
        Seed of the order in which windows are visited.
    size, max_size : int
        Candidates per window at the start and at most.
    max_sites : int
        Chosen sites per window at most (a window's MIP grows hard with them).
    wide : (int, int) or None
        Candidates and chosen sites of the wide windows searched, at that one
        size, once a pass at ``max_size`` finds nothing; ``None``: stop there.

    Returns
    -------
    plan : ndarray of int
        The best plan (ascending), never worse than ``selected``.
    improved : int
        Windows that improved the plan.
    solved : int
        Windows solved.
    """
    if inst.p - inst.fixed.size < 1:
        return np.sort(np.asarray(selected, dtype=np.int64)), 0, 0
    rng = np.random.default_rng(seed)
    plan = _Plan(inst, np.asarray(selected, dtype=np.int64))
    start_value = plan.value()
    changed_at = np.zeros(inst.n_cols, dtype=np.int64)  # window count at each candidate's last change
    solved_at: dict[bytes, int] = {}  # window (its candidates) -> window count when solved without a better plan
    improved = solved = 0
    size = max(2, min(size, inst.n_cols))
    max_size = max(size, min(max_size, inst.n_cols))
    tol = 1e-12 * max(start_value, 1.0)
    widened = False
    while not work.spent():
        better_in_pass = 0
        for s in rng.permutation(np.flatnonzero(plan.chosen & ~plan.fixed)).tolist():
            if work.spent():
                break
            if not plan.chosen[s]:
                continue
            cols, units = window(inst, s, size, skip=plan.fixed, chosen=plan.chosen, max_sites=max_sites)
            work.charge(units)
            key = cols.tobytes()  # the same window from another seed is the same sub-problem
            if key in solved_at and changed_at[cols].max() < solved_at[key]:
                continue
            choice = _solve_window(plan, cols, work)
            solved += 1
            if choice is not None and _accept(plan, cols, choice, tol):
                improved += 1
                better_in_pass += 1
                changed_at[cols] = solved
                solved_at.pop(key, None)
            else:  # HiGHS is deterministic: the same window, unchanged, gives the same answer again
                solved_at[key] = solved
        if better_in_pass == 0:
            if size >= max_size:
                if wide is None or widened:
                    break
                widened = True
                size = max_size = max(wide[0], max_size)
                max_sites = wide[1]
                continue
            size = min(2 * size, max_size)
    log.info("window search: %d windows solved, %d improved, %.6g -> %.6g", solved, improved, start_value,
             plan.value())
    return np.flatnonzero(plan.chosen).astype(np.int64), improved, solved


def _accept(plan: _Plan, cols: NDArray[np.int64], choice: NDArray[np.int64], tol: float) -> bool:
    """Put ``choice`` in place of the window's chosen sites if that covers more (checked on the full problem)."""
    inst = plan.inst
    A = inst.coverage
    old = cols[plan.chosen[cols]]
    if choice.size != old.size or not np.all(plan.chosen[choice] | ~plan.fixed[choice]):
        return False
    out_pos, in_pos = column_positions(A.indptr, old), column_positions(A.indptr, choice)
    rows = np.unique(np.r_[A.indices[out_pos], A.indices[in_pos]]).astype(np.int64)
    totals = plan.totals.copy()
    if inst.binary:
        np.subtract.at(totals, A.indices[out_pos], 1.0)
        np.add.at(totals, A.indices[in_pos], 1.0)
    else:
        np.subtract.at(totals, A.indices[out_pos], A.data[out_pos])
        np.add.at(totals, A.indices[in_pos], A.data[in_pos])
    gain = covered_weight(inst, totals[rows], rows) - covered_weight(inst, plan.totals[rows], rows)
    counts = plan.counts - np.bincount(inst.groups[old], minlength=inst.n_groups) + np.bincount(
        inst.groups[choice], minlength=inst.n_groups)
    if gain <= tol or np.any(counts < inst.lower) or np.any(counts > inst.upper):
        return False
    plan.chosen[old] = False
    plan.chosen[choice] = True
    plan.totals = totals
    plan.counts = counts
    return True

