"""Experiment (issue 14): spatial decomposition bounds for maximal covering against the LP bound.

    .venv/bin/python benchmarks/decomp_experiment.py --rows 3 --blocks 30 --iters 8 --lower 2327238.3
    .venv/bin/python benchmarks/decomp_experiment.py --rows 3 --blocks 30 --dp 2
    .venv/bin/python benchmarks/decomp_experiment.py --selftest --iters 100

A NEGATIVE RESULT kept for the record (numbers in /work/notes/issue-14-e.md); nothing here is wired into
the product. Demand cells of a family row (:mod:`bench_placement_family`) are split into spatial blocks
(k-means on the cell centres); within a block, cells with the same covering candidates are merged.

1. **Lagrangian decomposition** (``decompose``): every candidate ``j`` gets a copy ``x_j^b`` in each block
   ``b`` whose demand it covers; the copies' equality to one global ``x`` (with ``sum x = p``) is relaxed
   with prices ``u_jb``::

       L(u) = max_{sum x = p} sum_j (sum_b u_jb) x_j  +  sum_b max_{x^b, y^b} [W_b . y^b - u_b . x^b],
                                                           y^b <= B_b x^b,  0 <= y^b <= 1,  x^b binary

   is an upper bound for every real ``u`` (the first part is a top-``p`` sum, each block part a small
   prize-collecting covering MILP solved by HiGHS; its dual bound is used, so a block stopped early
   still gives a valid bound). The prices start at the LP's covering duals (``u_jb = sum_{k in b}
   lambda_k B_kj``: ``L`` then equals the LP bound with the blocks' LP relaxations, and is below it once
   each block is solved in integers) and move by Polyak subgradient steps on the copy mismatches.
2. **Budget DP** (``budget_dp_bound``): each candidate's unit budget is split over the blocks it touches,
   ``alpha_jb`` in multiples of ``1/q`` summing to 1 (by covered-weight share, largest remainder);
   ``z_b(k)`` = the best coverage of block ``b`` with ``sum_j q alpha_jb x_j <= k`` (HiGHS dual bounds,
   made monotone), beyond the levels solved at most the best single site's coverage per unit
   (submodularity); the bound is ``max sum_b z_b(k_b)`` over ``sum_b k_b = q p`` by dynamic programming.
   For an optimal plan ``x*`` the budgets ``k_b = sum_j q alpha_jb x*_j`` sum to ``q p``, so this is a
   valid upper bound. (With a whole site charged to *every* block it touches and ``sum_b p_b = p`` it is
   NOT: one site covering two blocks, ``p = 1`` -- the optimum covers both, the DP only one.)

``--selftest`` checks both against brute force on random small instances (Hypothesis), for the
LP-dual prices after subgradient steps and for random prices.

Measured on family row 3 (22,000 x 2,936, 500 m, p 150; LP 2,355,640; best plan 2,327,238, so 99.5 % needs
a bound 0.71 % below the LP): decomposition at the LP-dual start -0.08 % (60 blocks, 38 s per iteration),
-0.15 % (30 blocks, 116 s), -0.18 % (15 blocks, 261 s), no gain from the subgradient steps affordable; budget DP +11 % (60 blocks,
391 s) and +17 % (120 blocks, 73 s) above the LP. Commands and the other rows: the notes.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import highspy
import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import report  # noqa: E402
from bench_placement_family import FAMILY, instance_points  # noqa: E402

import geoplan as gp  # noqa: E402
from geoplan import coverage as cov  # noqa: E402
from geoplan.placement._highs import new_highs  # noqa: E402


def block_patterns(A: sp.csr_array, w: np.ndarray, labels: np.ndarray):
    """Per block: candidate columns, pattern matrix (patterns x local cols), pattern weights."""
    blocks = []
    for b in np.unique(labels):
        rows = np.flatnonzero(labels == b)
        sub = A[rows]
        keep = np.diff(sub.indptr) > 0
        sub, rw = sub[keep], w[rows][keep]
        if sub.shape[0] == 0:
            continue
        seen: dict[tuple[int, ...], int] = {}
        pat_w: list[float] = []
        pat_rows: list[tuple[int, ...]] = []
        for r in range(sub.shape[0]):
            key = tuple(sub.indices[sub.indptr[r]:sub.indptr[r + 1]].tolist())
            k = seen.get(key)
            if k is None:
                seen[key] = len(pat_w)
                pat_w.append(rw[r])
                pat_rows.append(key)
            else:
                pat_w[k] += rw[r]
        cols = np.unique(np.concatenate([np.array(k) for k in pat_rows]))
        ind = np.concatenate([np.searchsorted(cols, k) for k in pat_rows])
        ptr = np.r_[0, np.cumsum([len(k) for k in pat_rows])]
        B = sp.csr_array((np.ones(ind.size), ind, ptr), shape=(len(pat_rows), cols.size))
        blocks.append((cols, B, np.asarray(pat_w)))
    return blocks


def lp_bound(blocks, n: int, p: int):
    """LP relaxation over the stacked block patterns; bound and covering duals per block."""
    mats, W = [], []
    for cols, B, wb in blocks:
        Bc = B.tocoo()
        mats.append(sp.csr_array((Bc.data, (Bc.row, cols[Bc.col])), shape=(B.shape[0], n)))
        W.append(wb)
    Bg = sp.vstack(mats).tocsr()
    Wg = np.concatenate(W)
    m = Wg.size
    A_ub = sp.hstack([-Bg, sp.eye_array(m)]).tocsr()
    A_eq = sp.hstack([sp.csr_array(np.ones((1, n))), sp.csr_array((1, m))]).tocsr()
    t0 = time.perf_counter()
    res = linprog(np.r_[np.zeros(n), -Wg], A_ub=A_ub, b_ub=np.zeros(m), A_eq=A_eq, b_eq=[p],
                  bounds=(0, 1), method="highs-ipm")
    lam = -res.ineqlin.marginals
    mu = -res.eqlin.marginals[0]
    out, s = [], 0
    for _, _, wb in blocks:
        out.append(lam[s:s + wb.size])
        s += wb.size
    return -res.fun, out, mu, time.perf_counter() - t0


def covering_highs(B: sp.csr_array, W: np.ndarray, *, gap: float, time_limit: float = math.inf,
                   budget: np.ndarray | None = None) -> highspy.Highs:
    """HiGHS with ``max W y  s.t. y <= B x (, budget . x <= 0), 0 <= x, y <= 1, x binary`` (costs of x zero)."""
    n, m = B.shape[1], B.shape[0]
    rows = [sp.hstack([-B, sp.eye_array(m)])]
    if budget is not None:
        rows.append(sp.hstack([sp.csr_array(budget.reshape(1, -1).astype(float)), sp.csr_array((1, m))]))
    M = sp.vstack(rows).tocsc()
    h = new_highs()
    h.setOptionValue("mip_rel_gap", gap)
    h.setOptionValue("threads", 1)
    h.setOptionValue("time_limit", time_limit)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n + m, M.shape[0]
    lp.col_cost_ = np.r_[np.zeros(n), -W]
    lp.col_lower_ = np.zeros(n + m)
    lp.col_upper_ = np.ones(n + m)
    lp.row_lower_ = np.full(M.shape[0], -highspy.kHighsInf)
    lp.row_upper_ = np.zeros(M.shape[0])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = M.indptr
    lp.a_matrix_.index_ = M.indices
    lp.a_matrix_.value_ = M.data
    lp.integrality_ = [highspy.HighsVarType.kInteger] * n + [highspy.HighsVarType.kContinuous] * m
    h.passModel(lp)
    return h


class BlockSolver:
    """max W y - u x  s.t. y <= B x, 0 <= y <= 1, x binary; a persistent HiGHS model."""

    def __init__(self, B: sp.csr_array, W: np.ndarray, gap: float, time_limit: float = math.inf) -> None:
        self.n = B.shape[1]
        self.h = covering_highs(B, W, gap=gap, time_limit=time_limit)

    def solve(self, u: np.ndarray) -> tuple[float, np.ndarray, float]:
        h = self.h
        h.changeColsCost(self.n, np.arange(self.n, dtype=np.int32), u.astype(np.float64))
        h.run()
        info = h.getInfo()
        x = np.asarray(h.getSolution().col_value[:self.n]) > 0.5
        return -info.mip_dual_bound, x, -info.objective_function_value


def topp(s: np.ndarray, p: int) -> tuple[float, np.ndarray]:
    idx = np.argpartition(-s, p - 1)[:p]
    x = np.zeros(s.size, dtype=bool)
    x[idx] = True
    return float(s[idx].sum()), x


def decompose(blocks, lam, n, p, lower, iters, gap, log=print, step0=0.25, time_limit=math.inf):
    solvers = [BlockSolver(B, W, gap, time_limit) for _, B, W in blocks]
    # u_jb: the block's share of c_j = B^T lambda
    u = [np.asarray(B.T @ lb) for (_, B, _), lb in zip(blocks, lam, strict=True)]
    best, step, stale, hist = math.inf, step0, 0, []
    t0 = time.perf_counter()
    for it in range(iters):
        s = np.zeros(n)
        for (cols, _, _), ub in zip(blocks, u, strict=True):
            np.add.at(s, cols, ub)
        top, xg = topp(s, p)
        L, xs = top, []
        tb = time.perf_counter()
        for sol, ub in zip(solvers, u, strict=True):
            z, xb, _ = sol.solve(ub)
            L += z
            xs.append(xb)
        tb = time.perf_counter() - tb
        if L < best - 1e-9:
            best, stale = L, 0
        else:
            stale += 1
            if stale >= 5:
                step, stale = step / 2, 0
        g = [xg[cols].astype(float) - xb for (cols, _, _), xb in zip(blocks, xs, strict=True)]
        norm = sum(float((gb * gb).sum()) for gb in g)
        hist.append((it, L, best, time.perf_counter() - t0))
        log(f"  iter {it:3d}  L {L:14,.1f}  best {best:14,.1f}  |g|^2 {norm:6.0f}  step {step:.3g}  "
            f"blocks {tb:6.1f} s, {time.perf_counter() - t0:7.1f} s", flush=True)
        if norm == 0:
            break
        t = step * (L - lower) / norm
        u = [ub - t * gb for ub, gb in zip(u, g, strict=True)]
    return best, hist


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", default="3")
    ap.add_argument("--blocks", type=int, default=30)
    ap.add_argument("--iters", type=int, default=30)
    ap.add_argument("--gap", type=float, default=1e-4)
    ap.add_argument("--lower", type=float, default=None, help="best known plan value (Polyak target)")
    ap.add_argument("--selftest", action="store_true")
    ap.add_argument("--step", type=float, default=0.25, help="initial Polyak step factor")
    ap.add_argument("--block-time", type=float, default=10.0, help="time limit of one block MILP (dual bound used)")
    ap.add_argument("--dp", type=int, default=0, help="budget DP with alpha in multiples of 1/q (q given)")
    args = ap.parse_args()
    if args.selftest:
        selftest(args.iters)
        return
    from sklearn.cluster import KMeans

    demand = gp.load_project().demand
    rows: list[dict[str, object]] = []
    for r in args.rows.split(","):
        cells, radius, p = FAMILY[int(r) - 1]
        xy, w, grid = instance_points(demand, cells)
        A = sp.csr_array(cov.coverage_matrix(xy, grid, radius))
        n = A.shape[1]
        labels = KMeans(n_clusters=args.blocks, n_init=1, random_state=0).fit_predict(xy)
        t0 = time.perf_counter()
        blocks = block_patterns(A, w, labels)
        print(f"row {r}: {len(w):,} x {n:,}, blocks {len(blocks)}: cols "
              f"{[b[0].size for b in blocks][:10]}..., patterns {sum(b[1].shape[0] for b in blocks):,}, "
              f"{time.perf_counter() - t0:.1f} s", flush=True)
        if args.dp:
            dpv, dpt = budget_dp_bound(blocks, n, p, args.dp, time_limit=args.block_time)
            print(f"  budget-DP bound (q={args.dp}) {dpv:14,.1f} in {dpt:.1f} s", flush=True)
            rows.append({"row": int(r), "blocks": len(blocks), "method": f"budget DP q={args.dp}",
                         "bound": round(dpv, 1), "time_s": round(dpt, 1)})
            continue
        lpv, lam, mu, lpt = lp_bound(blocks, n, p)
        print(f"  LP bound {lpv:14,.1f} ({lpt:.1f} s), mu {mu:.1f}", flush=True)
        lower = args.lower if args.lower else lpv * 0.985
        best, hist = decompose(blocks, lam, n, p, lower, args.iters, args.gap, step0=args.step,
                               time_limit=args.block_time)
        print(f"  decomposition bound {best:14,.1f} = LP - {100 * (lpv - best) / lpv:.3f} %", flush=True)
        rows.append({"row": int(r), "blocks": len(blocks), "method": f"decomposition, {len(hist)} iterations",
                     "lp_bound": round(lpv, 1), "lp_s": round(lpt, 1), "bound": round(best, 1),
                     "below_lp_pct": round(100 * (lpv - best) / lpv, 3), "time_s": round(hist[-1][3], 1),
                     "iterations": [(it, round(L, 1), round(t, 1)) for it, L, _, t in hist]})
    tag = f"dp{args.dp}" if args.dp else "lagdec"
    report(f"decomp_experiment_{tag}_rows{args.rows.replace(',', '-')}_b{args.blocks}", rows)


def _brute(A: np.ndarray, w: np.ndarray, p: int) -> float:
    import itertools

    return max(float(w @ (A[:, list(c)].sum(axis=1) > 0)) for c in itertools.combinations(range(A.shape[1]), p))


def selftest(examples: int = 200) -> None:
    """Hypothesis: the decomposition bound is >= the brute-force optimum, for LP-dual and random prices."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    @settings(max_examples=examples, deadline=None, derandomize=True)
    @given(seed=st.integers(0, 2**32 - 1), n_rows=st.integers(4, 16), n_cols=st.integers(2, 8),
           n_blocks=st.integers(1, 4), p=st.integers(1, 4), density=st.floats(0.1, 0.6))
    def check(seed: int, n_rows: int, n_cols: int, n_blocks: int, p: int, density: float) -> None:
        rng = np.random.default_rng(seed)
        p = min(p, n_cols)
        A = rng.random((n_rows, n_cols)) < density
        w = rng.integers(0, 20, n_rows).astype(float)
        labels = rng.integers(0, n_blocks, n_rows)
        opt = _brute(A, w, p)
        if not A.any():
            return
        blocks = block_patterns(sp.csr_array(A.astype(float)), w, labels)
        lpv, lam, _, _ = lp_bound(blocks, n_cols, p)
        assert lpv >= opt - 1e-6
        best, _ = decompose(blocks, lam, n_cols, p, opt, 15, 1e-9, log=lambda *a, **k: None)
        assert opt - 1e-6 <= best <= lpv + 1e-6, (opt, best, lpv)
        # any prices give a valid bound
        solvers = [BlockSolver(B, W, 1e-9) for _, B, W in blocks]
        for _ in range(3):
            u = [rng.normal(0, 10, cols.size) for cols, _, _ in blocks]
            s = np.zeros(n_cols)
            for (cols, _, _), ub in zip(blocks, u, strict=True):
                np.add.at(s, cols, ub)
            L = topp(s, p)[0] + sum(sol.solve(ub)[0] for sol, ub in zip(solvers, u, strict=True))
            assert L >= opt - 1e-6, (L, opt)

    check()

    @settings(max_examples=examples, deadline=None, derandomize=True)
    @given(seed=st.integers(0, 2**32 - 1), n_rows=st.integers(4, 16), n_cols=st.integers(2, 8),
           n_blocks=st.integers(1, 4), p=st.integers(1, 4), density=st.floats(0.1, 0.6), q=st.integers(1, 4))
    def check_dp(seed: int, n_rows: int, n_cols: int, n_blocks: int, p: int, density: float, q: int) -> None:
        rng = np.random.default_rng(seed)
        p = min(p, n_cols)
        A = rng.random((n_rows, n_cols)) < density
        w = rng.integers(0, 20, n_rows).astype(float)
        if not A.any():
            return
        labels = rng.integers(0, n_blocks, n_rows)
        opt = _brute(A, w, p)
        dpv, _ = budget_dp_bound(block_patterns(sp.csr_array(A.astype(float)), w, labels), n_cols, p, q,
                                 gap=1e-9, log=lambda *a, **k: None)
        assert dpv >= opt - 1e-6, (dpv, opt)

    check_dp()
    # the budget DP with sum p_b = p and boundary sites available to every block is NOT a valid bound:
    # one site covering both blocks, p = 1 -> optimum 2, DP max(z_a(1) + z_b(0), z_a(0) + z_b(1)) = 1
    print(f"selftest: {examples} random instances, bound >= brute-force optimum every time")


#: Budget levels solved per block: up to this multiple of the block's share of the demand (then the tail bound).
KMAX_FACTOR = 2.0


def split_units(blocks, n: int, q: int) -> list[np.ndarray]:
    """alpha_jb in multiples of 1/q, summing to 1 over the blocks site j touches, by covered-weight share."""
    eps = 1e-6 * (max(float(W.mean()) for _, _, W in blocks) + 1.0)  # sites without weight: split by rows
    share = [np.asarray(B.T @ (W + eps)) for _, B, W in blocks]
    total = np.zeros(n)
    for (cols, _, _), s in zip(blocks, share, strict=True):
        np.add.at(total, cols, s)
    # largest remainder per site: q units split by share
    ent_j = np.concatenate([cols for cols, _, _ in blocks])
    ent_s = np.concatenate(share) / np.maximum(total[ent_j], 1e-300) * q
    base = np.floor(ent_s).astype(np.int64)
    rem = ent_s - base
    left = q - np.bincount(ent_j, weights=base, minlength=n).astype(np.int64)
    order = np.lexsort((-rem, ent_j))
    first = np.searchsorted(ent_j[order], np.arange(n))
    rank = np.arange(order.size) - first[ent_j[order]]
    add = np.zeros(order.size, dtype=np.int64)
    add[order] = rank < left[ent_j[order]]
    units = base + add
    out, s = [], 0
    for cols, _, _ in blocks:
        out.append(units[s:s + cols.size])
        s += cols.size
    assert np.all(np.bincount(ent_j, weights=units, minlength=n)[np.unique(ent_j)] == q)
    return out


class BudgetSolver:
    """z_b(k) = max W y  s.t. y <= B x, sum_j a_j x_j <= k, x binary; upper bound (HiGHS dual bound)."""

    def __init__(self, B: sp.csr_array, W: np.ndarray, a: np.ndarray, gap: float, time_limit: float) -> None:
        self.n, self.m = B.shape[1], B.shape[0]
        h = covering_highs(B, W, gap=gap, time_limit=time_limit, budget=a)
        self.h, self.total = h, float(W.sum())

    def z(self, k: int) -> float:
        self.h.changeRowBounds(self.m, -highspy.kHighsInf, float(k))
        self.h.run()
        return min(-self.h.getInfo().mip_dual_bound, self.total)


def budget_dp_bound(blocks, n: int, p: int, q: int, gap: float = 1e-4, time_limit: float = 30.0,
                    log=print) -> tuple[float, float]:
    """max over sum_b k_b = q p of sum_b z_b(k_b / q): a valid upper bound (alpha in multiples of 1/q)."""
    units = split_units(blocks, n, q)
    t0 = time.perf_counter()
    cap = q * p
    grand = sum(float(W.sum()) for _, _, W in blocks)
    best = np.zeros(cap + 1)  # DP over blocks: best[t] = max sum of z with t units used
    milps = done = 0
    for (_, B, W), a in zip(blocks, units, strict=True):
        sol = BudgetSolver(B, W, a, gap, time_limit)
        kmax = min(cap, int(math.ceil(KMAX_FACTOR * cap * W.sum() / grand)) + 2 * q)
        zs = [sol.z(0)]
        while zs[-1] < sol.total - 1e-9 and len(zs) <= kmax:
            zs.append(sol.z(len(zs)))
        milps += len(zs)
        z = np.minimum.accumulate(np.asarray(zs)[::-1])[::-1]  # z(k) <= z_ub(k') for k' >= k
        # beyond the last level: each unit adds at most the best single site's coverage per unit (submodularity)
        single = np.asarray(B.T @ W)
        rate = float((single[a > 0] / a[a > 0]).max(initial=0.0))
        extra = np.arange(1, cap + 2 - z.size) * rate
        zfull = np.minimum(np.r_[z, z[-1] + extra], sol.total)[:cap + 1]
        new = np.full(cap + 1, -np.inf)
        for k in range(cap + 1):
            if zfull[k] == zfull[k - 1] and k > 0:
                continue  # more units for the same value never helps (the DP takes <= units)
            new[k:] = np.maximum(new[k:], best[:cap + 1 - k] + zfull[k])
        best = np.maximum.accumulate(new)
        done += 1
        log(f"    block {done}: {B.shape[1]} candidates, {B.shape[0]} patterns, levels 0..{len(zs) - 1}, "
            f"z {z[0]:,.0f}..{z[-1]:,.0f} of {sol.total:,.0f}; {milps} MILPs, {time.perf_counter() - t0:6.1f} s",
            flush=True)
    log(f"    {len(blocks)} blocks, {milps} MILPs, {time.perf_counter() - t0:6.1f} s", flush=True)
    return float(best.max()), time.perf_counter() - t0


if __name__ == "__main__":
    main()
