"""Swap local search for maximal covering: improve a plan one exchange at a time.

Teitz & Bart's (1968) interchange, on the sparse coverage matrix: replace a
chosen site ``r`` by an unchosen site ``a`` whenever that covers more. The
change of an exchange splits into three parts that are cheap to keep for every
site at once:

- ``gain[a]``: what ``a`` adds to the plan (one sparse product);
- ``loss[r]``: what the plan loses without ``r`` (the weight only ``r`` covers);
- ``C[a, r] >= 0``: what ``a`` wins back of ``r``'s loss, summed over the rows
  both cover where it matters (for binary coverage: rows ``r`` alone covers);
  a sparse matrix, since only sites within two radii of each other share rows.

so ``delta(a, r) = gain[a] - loss[r] + C[a, r]``; for each ``a`` the best ``r``
is either the one with the smallest loss (``C`` only helps) or one of the
few ``C`` touches. A pass prices every exchange this way, then makes the
improving ones best first, each only if its rows are untouched by those made
before it in the pass (so its price is still exact), and only if the group
quotas still hold. Passes repeat until no exchange improves or the work
budget is spent (:mod:`~geoplan.placement._work`: each pass counts the matrix
entries it reads, so the same budget stops at the same pass on any machine).
Fixed sites never leave.

Works for binary and fractional coverage alike (a row's covered share is
``min(1, s0 + sum_j a_ij x_j)``): for fractional entries ``C`` is priced row
by row from the same formula, which reduces to the binary rule for 0/1 entries.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from time import perf_counter
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from ..errors import Problem, ValidationError
from ._instance import Instance, check_problem, column_positions, sums_by
from ._lazy import LazyGreedy, greedy_order
from ._result import PlacementResult, coverage_totals, covered_weight, make_result
from ._work import WORK_PER_SECOND, Work, check_budget

__all__ = ["local_search_mclp", "improve", "kick_search"]

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())

#: Largest number of exchanges tried (best first) in one pass.
MAX_MOVES_PER_PASS = 20_000
#: Sites with the smallest loss kept as fall-back partners, and how many a move tries.
SPARE_PARTNERS = 256
FALLBACK_TRIES = 8
#: Moves kept per designated partner in a pass (the best ones).
MOVES_PER_PARTNER = 8
#: Share of the free chosen sites a kick of :func:`kick_search` drops, and the kicks in a row without a better
#: plan after which greedy and exact stop kicking.
KICK_SHARE = 0.1
KICK_PATIENCE = 10
#: Default work budget of :func:`local_search_mclp` (units of :mod:`~geoplan.placement._work`): about 10 s on the
#: reference machine.
LOCAL_SEARCH_WORK = 10 * WORK_PER_SECOND
#: Work units charged for a swap pass beyond the entries it touches, and for a kick's refill per chosen site
#: (fixed Python costs; measured with benchmarks/calibrate_work.py).
PASS_WORK = 50_000
KICK_WORK_PER_SITE = 500
#: Share of a kick search's budget for the kicks; the rest is kept for full swap passes after them.
KICK_WORK_SHARE = 0.85


#: (row, chosen site, share) triples where removing the site from the plan costs weight.
_Pairs = tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]


class _Swaps:
    """The state of one swap search: chosen sites, row totals, group counts."""

    def __init__(self, inst: Instance, selected: NDArray[np.int64], work: Work) -> None:
        self.inst = inst
        self.work = work
        self.chosen = np.zeros(inst.n_cols, dtype=np.bool_)
        self.chosen[selected] = True
        self.is_fixed = np.zeros(inst.n_cols, dtype=np.bool_)
        self.is_fixed[inst.fixed] = True
        self.counts = np.bincount(inst.groups[selected], minlength=inst.n_groups).astype(np.int64)
        self.tol = 1e-9 * max(float(inst.live_weights.sum()), 1e-300) / max(selected.size, 1)
        self.swaps = 0
        self.touch_v = np.full(inst.n_cols, -np.inf)  # best C[a, r] - loss[r] over touched partners r
        self.touch_r = np.full(inst.n_cols, -1, dtype=np.int64)
        self.spare = np.zeros(0, dtype=np.int64)
        self.loss = np.zeros(inst.n_cols)
        self.gain = np.zeros(inst.n_cols)  # what each site adds to the plan (kept for unchanged neighbourhoods)

    def _update_gains(self, t: NDArray[np.float64], dirty: NDArray[np.bool_]) -> None:
        inst = self.inst
        A = inst.coverage
        cols = np.flatnonzero(dirty)
        pos = column_positions(A.indptr, cols)
        rows = A.indices[pos]
        if inst.binary:
            per = np.where(t[rows] > 0, 0.0, inst.live_weights[rows])
        else:
            per = np.minimum(A.data[pos], np.maximum(inst.room[rows] - t[rows], 0.0)) * inst.weights[rows]
        owner = np.repeat(np.arange(cols.size), np.diff(A.indptr)[cols])
        self.gain[cols] = sums_by(owner, per, cols.size)
        self.work.charge(3 * pos.size + inst.n_cols)

    # ------------------------------------------------------------------ pricing
    def _loss_and_pairs(self, t: NDArray[np.float64]) -> tuple[NDArray[np.float64], _Pairs]:
        """``loss`` per column (chosen ones), and the (row, chosen site, entry) pairs where removal costs."""
        inst = self.inst
        A = inst.coverage
        sel = np.flatnonzero(self.chosen)
        pos = column_positions(A.indptr, sel)
        rows = A.indices[pos]
        val = np.ones(pos.size) if inst.binary else A.data[pos].astype(np.float64)
        room, w = inst.room[rows], inst.weights[rows]
        before = np.minimum(room, t[rows])
        drop = w * (before - np.minimum(room, t[rows] - val))
        loss = sums_by(inst.entry_cols[pos], drop, inst.n_cols)
        hit = drop > 0
        self.work.charge(4 * pos.size + inst.n_cols)
        return loss, (rows[hit].astype(np.int64), inst.entry_cols[pos[hit]].astype(np.int64), val[hit])

    def _recapture(self, t: NDArray[np.float64], cand: NDArray[np.bool_],
                   pairs: _Pairs) -> sp.csr_array:
        """``C[a, r]``: weight ``a`` wins back of ``r``'s loss, for candidates ``cand``, as CSR (a x r).

        ``pairs`` are the (row, chosen site, entry) triples where removing the site costs something.
        """
        inst = self.inst
        A = inst.coverage
        loss_rows, loss_cols, loss_vals = pairs
        n_pairs = np.bincount(loss_rows, minlength=inst.n_rows)
        ent = column_positions(A.indptr, np.flatnonzero(cand))
        rows = A.indices[ent]
        on = n_pairs[rows] > 0
        if not inst.binary:
            on &= t[rows] + A.data[ent] > inst.room[rows]
        ent, rows = ent[on], rows[on]
        reps = n_pairs[rows]
        total = int(reps.sum())
        shape = (inst.n_cols, inst.n_cols)
        self.work.charge(2 * on.size + 6 * total + 2 * loss_rows.size + inst.n_rows)
        if total == 0:
            return sp.csr_array(shape)
        order = np.argsort(loss_rows, kind="stable")
        first = np.cumsum(n_pairs) - n_pairs
        q = np.repeat(np.arange(ent.size), reps)
        k = order[first[rows[q]] + (np.arange(total) - np.repeat(np.cumsum(reps) - reps, reps))]
        r_rows = rows[q]
        if inst.binary:
            value = inst.live_weights[r_rows]
        else:
            t_i, room, ar = t[r_rows], inst.room[r_rows], loss_vals[k]
            aa = A.data[ent][q]

            def f(x: NDArray[np.float64]) -> NDArray[np.float64]:
                return np.minimum(room, x)

            value = inst.weights[r_rows] * (f(t_i - ar + aa) - f(t_i + aa) - f(t_i - ar) + f(t_i))
        C = sp.coo_array((value, (inst.entry_cols[ent][q], loss_cols[k])), shape=shape).tocsr()
        C.sum_duplicates()
        return C

    def _touched(self, t: NDArray[np.float64], loss: NDArray[np.float64], pairs: _Pairs, dirty: NDArray[np.bool_],
                 allowed: Callable[[NDArray[np.int64], NDArray[np.int64]], NDArray[np.bool_]]) -> None:
        """Re-price, for the ``dirty`` candidates, the best partner ``C`` touches (``C[a, r] - loss[r]``)."""
        self.touch_v[dirty] = -np.inf
        self.touch_r[dirty] = -1
        C = self._recapture(t, dirty, pairs)
        self.work.charge(4 * C.nnz)
        if not C.nnz:
            return
        a = np.repeat(np.arange(self.inst.n_cols), np.diff(C.indptr))
        r = C.indices.astype(np.int64)
        ok = np.flatnonzero(allowed(a, r))
        if not ok.size:
            return
        value = C.data[ok] - loss[r[ok]]
        # best touched partner per a: sort by (a, -value, r) and take the first of each a
        o = np.lexsort((r[ok], -value, a[ok]))
        heads, at = np.unique(a[ok][o], return_index=True)
        self.touch_v[heads] = value[o[at]]
        self.touch_r[heads] = r[ok][o[at]]

    def _best_moves(self, t: NDArray[np.float64], dirty: NDArray[np.bool_]) -> tuple[
            NDArray[np.int64], NDArray[np.int64]]:
        """For every unchosen site, its best exchange partner, if that improves; best first."""
        inst = self.inst
        self._update_gains(t, dirty)
        self.work.charge(10 * inst.n_cols)  # the sweeps and sorts over all sites below
        gain = self.gain
        loss, pairs = self._loss_and_pairs(t)
        removable = self.chosen & ~self.is_fixed
        cand = ~self.chosen & (gain > self.tol)
        if not cand.any() or not removable.any():
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        g, counts = inst.groups, self.counts
        can_drop = removable & (counts[g] > inst.lower[g])
        room_in = counts < inst.upper

        def allowed(a: NDArray[np.int64], r: NDArray[np.int64]) -> NDArray[np.bool_]:
            """Exchanges the quotas allow: same group, or ``r``'s above its minimum and ``a``'s below its maximum."""
            return removable[r] & ((g[r] == g[a]) | (can_drop[r] & room_in[g[a]]))

        # the best partner ignoring C: the smallest loss in the same group, or anywhere the quotas allow
        same_loss = np.full(inst.n_groups, np.inf)
        same_arg = np.full(inst.n_groups, -1, dtype=np.int64)
        rem = np.flatnonzero(removable)
        order = rem[np.lexsort((rem, loss[rem]))]
        heads, at = np.unique(g[order], return_index=True)
        same_loss[heads], same_arg[heads] = loss[order[at]], order[at]
        drop_idx = np.flatnonzero(can_drop)
        cross_r = int(drop_idx[np.lexsort((drop_idx, loss[drop_idx]))[0]]) if drop_idx.size else -1
        cross_loss = loss[cross_r] if cross_r >= 0 else np.inf
        a_idx = np.flatnonzero(cand)
        ga = g[a_idx]
        use_cross = room_in[ga] & (cross_loss < same_loss[ga])
        best_r = np.where(use_cross, cross_r, same_arg[ga])
        best_v = -np.where(use_cross, cross_loss, same_loss[ga])
        # partners C touches (cached for candidates whose neighbourhood did not change)
        self._touched(t, loss, pairs, dirty & cand, allowed)
        tr = self.touch_r[a_idx]
        tv = np.where(tr >= 0, self.touch_v[a_idx], -np.inf)
        still = tr >= 0
        still[still] = allowed(a_idx[still], tr[still])
        better = still & (tv > best_v)
        best_v[better], best_r[better] = tv[better], tr[better]
        delta = gain[a_idx] + best_v
        good = (best_r >= 0) & (delta > self.tol)
        a_idx, best_r, delta = a_idx[good], best_r[good], delta[good]
        order = np.lexsort((a_idx, -delta))
        # a partner leaves at most once a pass: keep the few best moves for each
        rank = np.empty(order.size, dtype=np.int64)
        by_r = order[np.argsort(best_r[order], kind="stable")]
        starts = np.r_[0, np.flatnonzero(np.diff(best_r[by_r])) + 1]
        rank[by_r] = np.arange(by_r.size) - np.repeat(starts, np.diff(np.r_[starts, by_r.size]))
        order = order[rank[order] < MOVES_PER_PARTNER][:MAX_MOVES_PER_PASS]
        self.spare = rem[np.lexsort((rem, loss[rem]))][:SPARE_PARTNERS]  # fall-back partners, smallest loss first
        self.loss = loss
        return a_idx[order], best_r[order].astype(np.int64)

    # ------------------------------------------------------------------ moving
    def _apply(self, adds: NDArray[np.int64], drops: NDArray[np.int64]) -> NDArray[np.bool_]:
        """Make the exchanges whose rows no earlier one touched and whose quotas hold; the rows they changed.

        When a move's partner is taken (or clashes), the next untouched site
        with the smallest loss is tried instead if ``gain[a] - loss[s]``, a
        lower bound of that exchange's change (``C >= 0``), still improves.
        """
        inst = self.inst
        A = inst.coverage
        ptr, idx, g = A.indptr, A.indices, inst.groups
        touched = np.zeros(inst.n_rows, dtype=np.bool_)
        used = np.zeros(inst.n_cols, dtype=np.bool_)
        lower, upper, counts = inst.lower, inst.upper, self.counts
        spare = self.spare.tolist()
        gain, loss = self.gain, self.loss
        self.work.charge(20 * adds.size + int(np.diff(ptr)[adds].sum()) + int(np.diff(ptr)[drops].sum()))

        def fits(a: int, r: int) -> bool:
            if used[r] or touched[idx[ptr[r]:ptr[r + 1]]].any():
                return False
            ga, gr = g[a], g[r]
            return ga == gr or (counts[gr] - 1 >= lower[gr] and counts[ga] + 1 <= upper[ga])

        for a, r in zip(adds.tolist(), drops.tolist(), strict=True):
            if used[a] or touched[idx[ptr[a]:ptr[a + 1]]].any():
                continue
            if not fits(a, r):
                r = next((s for s in spare[:FALLBACK_TRIES] if fits(a, s) and gain[a] - loss[s] > self.tol), -1)
                if r < 0:
                    continue
            touched[idx[ptr[a]:ptr[a + 1]]] = True
            touched[idx[ptr[r]:ptr[r + 1]]] = True
            used[a] = used[r] = True
            counts[g[a]] += 1
            counts[g[r]] -= 1
            self.chosen[a], self.chosen[r] = True, False
            self.swaps += 1
            if r in spare:
                spare.remove(r)
            while spare and used[spare[0]]:
                spare.pop(0)
        return touched

    def _neighbourhood(self, changed: NDArray[np.bool_]) -> NDArray[np.bool_]:
        """Candidates whose best exchange may have changed with the rows ``changed``.

        Those covering a changed row (their gain and recapture changed), and
        those covering a row of a chosen site that covers a changed row (that
        site's loss changed).
        """
        inst = self.inst
        A, by_row = inst.coverage, inst.row_major
        changed_rows = np.flatnonzero(changed)
        near = by_row.indices[column_positions(by_row.indptr, changed_rows)]
        hit = np.unique(near[self.chosen[near]])
        rows = np.union1d(changed_rows, A.indices[column_positions(A.indptr, hit)])
        out = np.zeros(inst.n_cols, dtype=np.bool_)
        spread = column_positions(by_row.indptr, rows)
        out[by_row.indices[spread]] = True
        self.work.charge(near.size + 2 * spread.size + inst.n_rows + inst.n_cols)
        return out & ~self.chosen

    def run(self, *, changed: NDArray[np.bool_] | None = None, confirm: bool = True) -> NDArray[np.int64]:
        """Swap until no exchange improves or the work budget is spent (or its time cap passed).

        After the first pass only the candidates near the last exchanges are
        re-priced; when none of them improves, one full pass confirms the
        local optimum (or finds more), unless ``confirm`` is false. With
        ``changed`` (demand rows whose cover changed since the plan was a local
        optimum), the first pass too prices only the candidates near them.
        """
        passes = 0
        full = changed is None
        dirty = np.ones(self.inst.n_cols, dtype=np.bool_) if changed is None else self._neighbourhood(changed)
        A = self.inst.coverage
        while not self.work.spent():
            chosen = np.flatnonzero(self.chosen)
            t = coverage_totals(self.inst, chosen)
            # the plan's row totals, and a pass's fixed cost (Python calls, small arrays)
            self.work.charge(int(A.indptr[chosen + 1].sum() - A.indptr[chosen].sum()) + self.inst.n_rows + PASS_WORK)
            adds, drops = self._best_moves(t, dirty)
            passes += 1
            if adds.size == 0:
                if full or not confirm:
                    break
                dirty, full = np.ones(self.inst.n_cols, dtype=np.bool_), True
                continue
            before = self.swaps
            dirty, full = self._neighbourhood(self._apply(adds, drops)), False
            log.debug("local search pass %d: %d improving, %d made, %d to re-price", passes, adds.size,
                      self.swaps - before, int(dirty.sum()))
        else:
            log.info("local search: %s after %d passes, %d swaps", "time cap passed" if self.work.capped else
                     "work budget spent", passes, self.swaps)
        log.debug("local search: %d passes, %d swaps", passes, self.swaps)
        return np.flatnonzero(self.chosen).astype(np.int64)


def improve(inst: Instance, selected: NDArray[np.int64], *, work: Work,
            changed: NDArray[np.bool_] | None = None, confirm: bool = True) -> tuple[NDArray[np.int64], int]:
    """Swap local search from a feasible plan; returns the improved plan (ascending) and the swaps made.

    Stops when no swap improves or ``work`` is spent (it is charged for every
    pass). ``changed`` and ``confirm``: see :meth:`_Swaps.run` (a search near
    a few changed rows).
    """
    search = _Swaps(inst, np.asarray(selected, dtype=np.int64), work)
    before = covered_weight(inst, coverage_totals(inst, selected))
    out = search.run(changed=changed, confirm=confirm)
    log.info("local search: %d swaps, %.6g -> %.6g", search.swaps, before,
             covered_weight(inst, coverage_totals(inst, out)))
    return out, search.swaps


def local_search_mclp(coverage: Any, weights: ArrayLike, *, start: ArrayLike, covered0: ArrayLike | None = None,
                      groups: ArrayLike | None = None, min_per_group: ArrayLike | None = None,
                      max_per_group: ArrayLike | None = None, fixed: ArrayLike | None = None,
                      secondary: ArrayLike | None = None, work_budget: int | None = None,
                      time_cap_s: float | None = None, time_budget_s: float | None = None) -> PlacementResult:
    """Improve a feasible plan by swapping sites (Teitz-Bart interchange) until no swap helps.

    Parameters
    ----------
    coverage, weights, covered0, groups, min_per_group, max_per_group, fixed, secondary
        As in :func:`~geoplan.placement.greedy_mclp`; ``p`` is the size of ``start``.
    start : array_like of int
        A feasible plan: column indices, fixed sites included, quotas met.
    work_budget : int, optional
        Work units (:mod:`~geoplan.placement._work`: matrix entries touched)
        after which the best plan so far is returned; by default
        :data:`LOCAL_SEARCH_WORK`, about 10 s on the reference machine. The
        same inputs and budget give the same plan on any machine.
    time_cap_s : float, optional
        Wall-clock safety cap in seconds (default ten times the budget's
        reference seconds); when it stops the search first, the result says
        so (``time_capped``, ``notes``): the plan may then differ between runs.
    time_budget_s : float, optional
        Deprecated: read as ``work_budget`` of that many seconds on the
        reference machine, with a ``DeprecationWarning``.

    Returns
    -------
    PlacementResult
        ``method="local_search"``, ``status="heuristic"``, ``swaps`` made;
        ``selected`` fixed sites first, then in greedy order within the plan;
        gap to the submodular bound of the result; ``work`` units spent.

    Examples
    --------
    Greedy's trap: c0 first, then one of c1/c2 covers 5 of 6; swapping c0 out covers all:

    >>> import numpy as np, scipy.sparse as sp
    >>> A = sp.csc_array(np.array([[0, 1, 0], [1, 1, 0], [1, 1, 0], [1, 0, 1], [1, 0, 1], [0, 0, 1]]))
    >>> res = local_search_mclp(A, np.ones(6), start=[0, 1])
    >>> sorted(res.selected.tolist()), res.objective, res.swaps
    ([1, 2], 6.0, 1)
    """
    started = perf_counter()
    sel = np.asarray(start).reshape(-1)
    inst = check_problem(coverage, weights, p=int(sel.size), covered0=covered0, groups=groups,
                         min_per_group=min_per_group, max_per_group=max_per_group, fixed=fixed, secondary=secondary)
    sel = check_plan(inst, sel, field="start")
    units, cap_s = check_budget(work_budget, time_cap_s, default_units=LOCAL_SEARCH_WORK, time_budget_s=time_budget_s,
                                solver="local_search_mclp")
    work = Work(units, cap=started + cap_s)
    out, swaps = improve(inst, sel, work=work)
    return make_result(inst, greedy_order(inst, out), method="local_search", status="heuristic", started=started,
                       bounds={}, swaps=swaps, work=work)


def check_plan(inst: Instance, selected: Any, *, field: str) -> NDArray[np.int64]:
    """``selected`` as column indices after checking it is a feasible plan of ``inst.p`` sites."""
    sel = np.asarray(selected).reshape(-1)
    problems: list[str] = []
    if sel.size and not np.issubdtype(sel.dtype, np.integer):
        problems.append(f"has dtype {sel.dtype}, expected column indices")
    else:
        sel = sel.astype(np.int64)
        counts = np.bincount(inst.groups[np.clip(sel, 0, inst.n_cols - 1)], minlength=inst.n_groups)
        if sel.size != inst.p:
            problems.append(f"has {sel.size} sites, expected p = {inst.p}")
        if np.any((sel < 0) | (sel >= inst.n_cols)) or np.unique(sel).size != sel.size:
            problems.append(f"has repeated indices or indices outside 0..{inst.n_cols - 1}")
        if not np.isin(inst.fixed, sel).all():
            problems.append("leaves out fixed sites")
        if np.any(counts < inst.lower) or np.any(counts > inst.upper):
            problems.append("breaks the district quotas")
    if problems:
        raise ValidationError([Problem("placement", field, m, "pass a feasible plan (e.g. a greedy_mclp result "
                                       "with the same inputs)") for m in problems])
    return sel


def kick_search(inst: Instance, selected: NDArray[np.int64], *, work: Work, seed: int = 0,
                share: float = KICK_SHARE, patience: int | None = None,
                max_kicks: int | None = None) -> tuple[NDArray[np.int64], int, int]:
    """Iterated local search from a local optimum: drop a cluster of sites, refill greedily, swap; keep if better.

    Each *kick* removes about ``share`` of the free chosen sites (at least 2): a
    random one and the chosen sites nearest it (those sharing demand rows with
    it, then with those), refills the plan by lazy greedy among the other
    candidates within the quotas, and runs the swap search (:func:`improve`) to
    a local optimum; the result replaces the plan when it covers more (a
    kick-and-swap search in the style of iterated local search, Lourenço,
    Martin & Stützle 2003). Repeats until :data:`KICK_WORK_SHARE` of ``work``
    is spent (the rest goes to full swap passes once a kick improved the
    plan), ``max_kicks`` kicks, or ``patience`` kicks in a row without a
    better plan. Quotas and fixed sites hold throughout. Returns the best plan
    (ascending), the kicks that improved it, and the kicks made.
    """
    rng = np.random.default_rng(seed)
    best = np.sort(np.asarray(selected, dtype=np.int64))
    best_value = covered_weight(inst, coverage_totals(inst, best))
    A = inst.coverage
    free_n = best.size - inst.fixed.size
    q = max(2, int(round(share * free_n)))
    if free_n < 2:
        return best, 0, 0
    kicks = better = 0
    tol = 1e-12 * max(best_value, 1.0)
    since = 0
    kicking = work.part(KICK_WORK_SHARE)  # the rest is kept for full passes
    while not kicking.spent() and (max_kicks is None or kicks < max_kicks) and (
            patience is None or since < patience):
        refill = _kick(inst, best, q, rng)
        moved = np.setxor1d(refill, best)
        changed = np.zeros(inst.n_rows, dtype=np.bool_)
        changed[A.indices[column_positions(A.indptr, moved)]] = True
        # the refill: lazy greedy's gains of every site, and the kept sites taken one by one
        kicking.charge(A.nnz + inst.n_rows + 8 * inst.n_cols + KICK_WORK_PER_SITE * best.size)
        # swaps near the kick only: far from it the plan was a local optimum already
        plan, _ = improve(inst, refill, work=kicking, changed=changed, confirm=False)
        kicks += 1
        value = covered_weight(inst, coverage_totals(inst, plan))
        if value > best_value + tol:
            best, best_value, better, since = np.sort(plan), value, better + 1, 0
        else:
            since += 1
    if better:  # full passes in the work kept back: a local optimum for swaps anywhere
        best, _ = improve(inst, best, work=work)
        best_value = covered_weight(inst, coverage_totals(inst, best))
    log.info("kick search: %d kicks, %d improved, %.6g", kicks, better, best_value)
    return best, better, kicks


def _kick(inst: Instance, best: NDArray[np.int64], q: int, rng: np.random.Generator) -> NDArray[np.int64]:
    """``best`` less a cluster of ``q`` free sites, refilled by lazy greedy among other sites within the quotas.

    The cluster: a random free chosen site, then the chosen sites sharing demand
    rows with the cluster, then random ones if the neighbourhood runs dry.
    """
    A, by_row = inst.coverage, inst.row_major
    chosen = np.zeros(inst.n_cols, dtype=np.bool_)
    chosen[best] = True
    movable = np.setdiff1d(best, inst.fixed)
    drop = [int(rng.choice(movable))]
    frontier = np.array(drop)
    while len(drop) < q and frontier.size:  # grow the cluster through shared demand rows
        rows = A.indices[column_positions(A.indptr, frontier)]
        near = np.unique(by_row.indices[column_positions(by_row.indptr, np.unique(rows))])
        near = near[chosen[near] & ~np.isin(near, drop) & ~np.isin(near, inst.fixed)]
        frontier = near[: q - len(drop)]
        drop += frontier.tolist()
    if len(drop) < q:
        rest = np.setdiff1d(movable, drop)
        drop += rng.choice(rest, size=min(q - len(drop), rest.size), replace=False).tolist()
    state = LazyGreedy(inst)
    for j in np.r_[inst.fixed, np.setdiff1d(np.setdiff1d(best, drop), inst.fixed)].tolist():
        state.take(j, state.gain(j))
    state.refresh_bounds()
    allowed = np.ones(inst.n_cols, dtype=np.bool_)
    allowed[drop] = False
    need = np.maximum(inst.lower - state.counts, 0)
    if need.sum() > 0:
        state.pick(int(need.sum()), need)
    state.pick(inst.p - len(state.order), inst.upper - state.counts, allowed=allowed)
    if len(state.order) < inst.p:  # the quotas leave no other way: refill among the dropped sites too
        state.pick(inst.p - len(state.order), inst.upper - state.counts)
    return np.asarray(state.order, dtype=np.int64)
