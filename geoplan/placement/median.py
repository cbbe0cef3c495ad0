"""p-median and p-center with a coverage floor: cover the most demand within a radius, then cut distance.

The array core of edge data-centre placement (:mod:`geoplan.edge`), in two stages:

1. **Coverage** — maximal covering (MCLP) of the weighted demand points within
   the radius, by :func:`~.greedy.greedy_mclp` (``method="greedy"``) or
   :func:`~.exact.exact_mclp` (``method="exact"``). Fixed sites (existing data
   centres) count toward ``p``.
2. **Distance** — among plans that cover at least as much demand weight,
   minimise the demand-weighted mean distance (p-median, ``objective="median"``)
   or the worst distance (p-center, ``objective="center"``, ties broken by the
   mean). The greedy method is vertex substitution (Teitz & Bart 1968) with
   best-improvement swaps, evaluated for all candidate pairs at once from each
   demand point's nearest and second-nearest site (Whitaker 1983); fixed sites
   are never swapped out. ``method="exact"`` solves the p-median as a MIP with
   HiGHS (assignment formulation), or the p-center by bisection over the
   candidate distances with a covering MIP at each step, then polishes the mean
   by swaps that keep the worst distance.

:func:`median_cover` takes a dense distance matrix (rows = demand, columns =
candidate sites) and returns a :class:`MedianResult`, a
:class:`~._result.PlacementResult` with the assignment of every demand point.
"""

from __future__ import annotations

import logging
import operator
import warnings
from dataclasses import dataclass
from time import perf_counter
from typing import Any

import highspy
import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from ..errors import ConfigError, InfeasibleError, Problem, SolverError, ValidationError
from ._result import PlacementResult
from .exact import exact_mclp
from .greedy import greedy_mclp

__all__ = ["OBJECTIVES", "METHODS", "MedianResult", "median_cover"]

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())

#: Objectives of the distance stage.
OBJECTIVES = ("median", "center")
#: Solution methods.
METHODS = ("greedy", "exact")
#: Largest ``rows × candidates`` the exact p-median MIP is built for.
MAX_EXACT_PAIRS = 250_000
_TOL = 1e-9


#: Deprecated name of ``method="greedy"`` (geoplan 0.1).
_METHOD_ALIASES = {"heuristic": "greedy"}


@dataclass(frozen=True, eq=False, kw_only=True)
class MedianResult(PlacementResult):
    """Sites chosen by :func:`median_cover`: a :class:`~._result.PlacementResult` with the assignment.

    ``objective`` is the value of the distance stage in metres: the
    demand-weighted mean distance (``kind="median"``) or the worst distance
    (``kind="center"``); smaller is better. ``selected`` lists fixed sites
    first, then ascending; ``gap`` is the relative gap of the distance stage for
    ``method="exact"`` (``None`` for greedy); ``status`` is ``"optimal"``
    (proved by HiGHS), ``"time_limit"``, ``"feasible"`` or ``"greedy"``.

    Attributes
    ----------
    kind : {"median", "center"}
        The distance objective.
    nearest : ndarray of int
        For each demand row, the column index of its nearest chosen site.
    distance_m : ndarray of float
        Distance from each demand row to its nearest chosen site, metres.
    covered : ndarray of bool
        Rows within ``radius_m`` of a chosen site.
    covered_weight : float
        Demand weight within the radius (``covered_share`` is its share of the total, 1.0 for a zero total).
    coverage_bound : float
        Weight the coverage stage reached; the distance stage never goes below it.
    mean_distance_m : float
        Demand-weighted mean of ``distance_m`` (0 for a zero total weight).
    max_distance_m : float
        Largest ``distance_m`` over rows of positive weight.
    swaps : int
        Improving swaps made by the interchange.
    """

    kind: str
    nearest: NDArray[np.int64]
    distance_m: NDArray[np.float64]
    covered: NDArray[np.bool_]
    covered_weight: float
    coverage_bound: float
    mean_distance_m: float
    max_distance_m: float
    swaps: int


def _check_arrays(dist_m: Any, weights: ArrayLike, radius_m: float) -> tuple[NDArray[np.float64],
                                                                             NDArray[np.float64]]:
    problems: list[Problem] = []
    D = np.asarray(dist_m, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    if D.ndim != 2:
        raise ValidationError(Problem("edge", "dist_m", f"must be 2-D (demand × candidates), got {D.ndim}-D",
                                      "pass a dense distance matrix in metres, rows = demand, columns = sites"))
    if D.shape[1] == 0:
        problems.append(Problem("edge", "dist_m", "has no candidate columns", "add candidate sites"))
    if not np.all(np.isfinite(D)) or (D.size and D.min() < 0):
        problems.append(Problem("edge", "dist_m", "has negative or non-finite distances",
                                "pass straight-line distances in metres, >= 0"))
    if w.shape != (D.shape[0],):
        problems.append(Problem("edge", "weights", f"has shape {w.shape}, expected ({D.shape[0]},): one per row",
                                "pass one demand weight per row of dist_m"))
    elif not np.all(np.isfinite(w)) or np.any(w < 0):
        problems.append(Problem("edge", "weights", "has negative or non-finite values",
                                "demand weights must be >= 0"))
    if not (np.isfinite(radius_m) and radius_m > 0):
        problems.append(Problem("edge", "radius_m", f"must be a positive number of metres, got {radius_m!r}",
                                "derive it from a latency budget with LatencyModel.radius_m"))
    if problems:
        raise ValidationError(problems)
    return D, w


def _assign(D: NDArray[np.float64], sel: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Nearest chosen column of every row and the distance to it."""
    sub = D[:, sel]
    pos = np.argmin(sub, axis=1)
    return sel[pos], sub[np.arange(D.shape[0]), pos]


def _key(d: NDArray[np.float64], w: NDArray[np.float64], objective: str) -> tuple[float, float]:
    """Lexicographic objective (primary, secondary) of nearest distances ``d``: smaller is better."""
    total = float(w @ d)
    if objective == "median":
        return (total, 0.0)
    return (float(d[w > 0].max()) if np.any(w > 0) else 0.0, total)


def _greedy_start(D: NDArray[np.float64], w: NDArray[np.float64], order: NDArray[np.int64], *,
                  fixed: NDArray[np.int64], radius_m: float, p: int) -> NDArray[np.int64]:
    """Start of the interchange: the coverage sites that add coverage, then greedy p-median additions.

    Keeps the fixed sites and every site of the coverage stage (in its order) that
    still covers new demand, so the covered weight stays that of the coverage
    stage; the remaining sites are added one at a time, each the one that cuts
    the weighted distance most (rather than the zero-gain fill of the coverage stage).
    """
    n = D.shape[0]
    covered = np.zeros(n, dtype=np.bool_)
    keep: list[int] = []
    is_fixed = set(fixed.tolist())
    for j in order.tolist():
        hit = D[:, j] <= radius_m
        if j in is_fixed or (hit & ~covered).any():
            keep.append(j)
            covered |= hit
    chosen = np.zeros(D.shape[1], dtype=np.bool_)
    chosen[keep] = True
    d1 = D[:, keep].min(axis=1) if keep else np.full(n, np.inf)
    while len(keep) < p:
        cand = np.flatnonzero(~chosen)
        cost = w @ np.minimum(d1[:, None], D[:, cand]) if n else np.zeros(cand.size)
        j = int(cand[int(np.argmin(cost))])
        keep.append(j)
        chosen[j] = True
        d1 = np.minimum(d1, D[:, j])
    return np.asarray(keep, dtype=np.int64)


def _nearest_two(DS: NDArray[np.float64], rows: NDArray[np.int64]
                 ) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    """Position of each row's nearest chosen site, and the nearest and second-nearest distances."""
    if DS.shape[1] > 1:
        two = np.argpartition(DS, 1, axis=1)[:, :2]
        a, b = DS[rows, two[:, 0]], DS[rows, two[:, 1]]
        return np.where(a <= b, two[:, 0], two[:, 1]), np.minimum(a, b), np.maximum(a, b)
    return np.zeros(DS.shape[0], dtype=np.int64), DS[:, 0], np.full(DS.shape[0], np.inf)


def _center_score(base: NDArray[np.float64], alt: NDArray[np.float64], total: NDArray[np.float64],
                  ok: NDArray[np.bool_], groups: NDArray[np.int64], starts: NDArray[np.int64],
                  cur: tuple[float, float], tol: float) -> NDArray[np.float64]:
    """p-center swap scores: the smallest worst distance, then the smallest weighted sum (inf: not better)."""
    n_cand, s = total.shape
    mb = np.full((n_cand, s), -np.inf)
    ma = np.full((n_cand, s), -np.inf)
    mb[:, groups] = np.maximum.reduceat(base, starts, axis=1)
    ma[:, groups] = np.maximum.reduceat(alt, starts, axis=1)
    # worst distance outside group j: the largest group maximum, or the second largest for j itself
    ar = np.arange(n_cand)
    top = np.argmax(mb, axis=1)
    top1 = mb[ar, top]
    mb[ar, top] = -np.inf
    top2 = mb.max(axis=1)
    excl = np.where(np.arange(s)[None, :] == top[:, None], top2[:, None], top1[:, None])
    newmax = np.maximum(excl, ma)
    dtol = 1e-9 * max(1.0, cur[0])
    better = ok & ((newmax < cur[0] - dtol) | ((newmax <= cur[0] + dtol) & (total < cur[1] - tol)))
    nm = np.where(better, newmax, np.inf)
    tie = better & (newmax <= nm.min() + dtol)
    return np.where(tie, total, np.inf)


def _interchange(D: NDArray[np.float64], w: NDArray[np.float64], sel: NDArray[np.int64], *,
                 fixed: NDArray[np.int64], radius_m: float, min_cover: float, objective: str,
                 max_swaps: int) -> tuple[NDArray[np.int64], int]:
    """Best-improvement vertex substitution keeping covered weight >= ``min_cover``.

    Only rows of positive weight are passed in. Every (in, out) pair is
    evaluated at once: after removing site ``j`` and adding ``k``, a row keeps
    ``min(d1, d_k)`` unless ``j`` was its nearest site, in which case it gets
    ``min(d2, d_k)`` (``d1``, ``d2``: nearest and second-nearest chosen
    distance). Work arrays are candidates × demand with the demand sorted by
    nearest site, so per-site sums and maxima are one ``reduceat`` each.
    """
    n, m = D.shape
    DT = np.ascontiguousarray(D.T)
    in_s = np.zeros(m, dtype=np.bool_)
    in_s[sel] = True
    is_fixed = np.zeros(m, dtype=np.bool_)
    is_fixed[fixed] = True
    # the coverage floor can only bind when some candidate is out of some row's reach
    floor = min_cover > 0 and not bool((D <= radius_m).all())
    swaps = 0
    rows = np.arange(n)
    while swaps < max_swaps:
        S = np.flatnonzero(in_s)
        cand = np.flatnonzero(~in_s)
        s = S.size
        if cand.size == 0 or n == 0 or s == 0 or is_fixed[S].all():
            break
        near_pos, d1, d2 = _nearest_two(D[:, S], rows)
        cur = _key(d1, w, objective)
        perm = np.argsort(near_pos, kind="stable")
        g = near_pos[perm]
        starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
        groups = g[starts]
        d1p, d2p, wp = d1[perm], d2[perm], w[perm]
        Dk = DT[np.ix_(cand, perm)]  # candidates × demand (sorted by nearest site)
        base = np.minimum(Dk, d1p)
        alt = np.minimum(Dk, d2p)
        total = np.zeros((cand.size, s))
        total[:, groups] = np.add.reduceat((alt - base) * wp, starts, axis=1)
        total += (base @ wp)[:, None]
        ok = np.ones((cand.size, s), dtype=np.bool_)
        if floor:
            cb = base <= radius_m
            covw = np.zeros((cand.size, s))
            covw[:, groups] = np.add.reduceat(((alt <= radius_m).astype(np.float64) - cb) * wp, starts, axis=1)
            covw += (cb @ wp)[:, None]
            ok = covw >= min_cover - 1e-9 * max(1.0, min_cover)
        ok[:, is_fixed[S]] = False
        tol = 1e-9 * max(1.0, cur[0] if objective == "median" else cur[1])
        if objective == "median":
            better = ok & (total < cur[0] - tol)
            score = np.where(better, total, np.inf)
        else:
            score = _center_score(base, alt, total, ok, groups, starts, cur, tol)
        if not np.isfinite(score).any():
            break
        k_pos, j_pos = np.unravel_index(int(np.argmin(score)), score.shape)
        in_s[S[j_pos]] = False
        in_s[cand[k_pos]] = True
        swaps += 1
    rest = np.flatnonzero(in_s & ~is_fixed)
    return np.r_[fixed, rest].astype(np.int64), swaps


def _highs(time_limit_s: float, mip_rel_gap: float) -> highspy.Highs:
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(time_limit_s))
    h.setOptionValue("mip_rel_gap", float(mip_rel_gap))
    return h


def _pass(h: highspy.Highs, A: sp.csc_array, cost: NDArray[np.float64], col_lower: NDArray[np.float64],
          col_upper: NDArray[np.float64], row_lower: NDArray[np.float64], row_upper: NDArray[np.float64],
          integrality: NDArray[np.int32]) -> None:
    A = sp.csc_array(A)
    A.sort_indices()
    status = h.passModel(A.shape[1], A.shape[0], A.nnz, int(highspy.MatrixFormat.kColwise),
                         int(highspy.ObjSense.kMinimize), 0.0, cost, col_lower, col_upper, row_lower, row_upper,
                         A.indptr.astype(np.int32), A.indices.astype(np.int32), A.data.astype(np.float64),
                         integrality)
    if status == highspy.HighsStatus.kError:
        raise SolverError("HiGHS rejected the edge placement model; please report this as a bug")


def _exact_median(D: NDArray[np.float64], w: NDArray[np.float64], *, p: int, fixed: NDArray[np.int64],
                  radius_m: float, min_cover: float, start: NDArray[np.int64], time_limit_s: float,
                  mip_rel_gap: float) -> tuple[NDArray[np.int64], str, float]:
    """p-median with a coverage floor, assignment formulation; returns (chosen, status, gap)."""
    n, m = D.shape
    if n * m > MAX_EXACT_PAIRS:
        raise ConfigError(f"the exact p-median needs {n:,} demand points × {m:,} candidates = {n * m:,} "
                          f"assignment variables, more than {MAX_EXACT_PAIRS:,}. Fix: use method='greedy', "
                          "or fewer candidates (a larger candidate spacing)")
    ones_m = sp.csr_array(np.ones((1, m)))
    assign = sp.kron(sp.eye_array(n, format="csr"), ones_m, format="csr")
    link = sp.hstack([-sp.kron(sp.csr_array(np.ones((n, 1))), sp.eye_array(m, format="csr")),
                      sp.eye_array(n * m, format="csr")])
    cover = (w[:, None] * (D <= radius_m)).reshape(1, -1)
    A = sp.vstack([
        sp.hstack([sp.csr_array((n, m)), assign]),
        link,
        sp.hstack([ones_m, sp.csr_array((1, n * m))]),
        sp.hstack([sp.csr_array((1, m)), sp.csr_array(cover)]),
    ]).tocsc()
    inf = highspy.kHighsInf
    cost = np.r_[np.zeros(m), (w[:, None] * D / 1000.0).ravel()]
    col_lower = np.zeros(m + n * m)
    col_lower[fixed] = 1.0
    slack = 1e-7 * max(1.0, min_cover)
    row_lower = np.r_[np.ones(n), np.full(n * m, -inf), p, min_cover - slack]
    row_upper = np.r_[np.ones(n), np.zeros(n * m), p, inf]
    integrality = np.r_[np.ones(m, dtype=np.int32), np.zeros(n * m, dtype=np.int32)]
    h = _highs(time_limit_s, mip_rel_gap)
    _pass(h, A, cost, col_lower, np.ones(m + n * m), row_lower, row_upper, integrality)
    y0 = np.zeros(m)
    y0[start] = 1.0
    near, _ = _assign(D, start)
    x0 = np.zeros((n, m))
    x0[np.arange(n), near] = 1.0
    sol = highspy.HighsSolution()
    sol.col_value = np.r_[y0, x0.ravel()].tolist()
    sol.value_valid = True
    if h.setSolution(sol) == highspy.HighsStatus.kError:
        log.warning("HiGHS did not accept the warm start; solving from scratch")
    log.info("edge exact p-median: %d demand × %d candidates, limit %.0f s", n, m, time_limit_s)
    h.run()
    status, chosen = _read(h, m, p)
    info = h.getInfo()
    obj = float(info.objective_function_value)
    bound = float(info.mip_dual_bound)
    gap = max(obj - bound, 0.0) / abs(obj) if obj > 0 else 0.0
    return chosen, status, gap


def _read(h: highspy.Highs, m: int, p: int) -> tuple[str, NDArray[np.int64]]:
    ms = h.getModelStatus()
    info = h.getInfo()
    has_plan = info.primal_solution_status == highspy.kSolutionStatusFeasible
    if ms == highspy.HighsModelStatus.kInfeasible:
        return "infeasible", np.zeros(0, dtype=np.int64)
    if ms == highspy.HighsModelStatus.kOptimal and has_plan:
        label = "optimal"
    elif has_plan:
        label = "time_limit" if ms == highspy.HighsModelStatus.kTimeLimit else "feasible"
    else:
        return "unknown", np.zeros(0, dtype=np.int64)
    y = np.asarray(h.getSolution().col_value[:m])
    chosen = np.flatnonzero(y > 0.5).astype(np.int64)
    if chosen.size != p:
        raise SolverError(f"HiGHS returned {chosen.size} sites instead of {p} (status "
                          f"'{h.modelStatusToString(ms)}'); please report this as a bug")
    return label, chosen


def _center_feasible(D: NDArray[np.float64], w: NDArray[np.float64], R: float, *, p: int,
                     fixed: NDArray[np.int64], radius_m: float, min_cover: float,
                     time_limit_s: float) -> tuple[str, NDArray[np.int64]]:
    """Is there a plan of ``p`` sites with every row within ``R`` and coverage >= ``min_cover``?"""
    n, m = D.shape
    within_R = sp.csr_array((D <= R + _TOL).astype(np.float64))
    within_r = sp.csr_array((D <= radius_m).astype(np.float64))
    # columns: y (m binaries), c (n coverage indicators in [0, 1])
    A = sp.vstack([
        sp.hstack([within_R, sp.csr_array((n, n))]),
        sp.hstack([-within_r, sp.eye_array(n, format="csr")]),
        sp.hstack([sp.csr_array(np.ones((1, m))), sp.csr_array((1, n))]),
        sp.hstack([sp.csr_array((1, m)), sp.csr_array(w[None, :])]),
    ]).tocsc()
    inf = highspy.kHighsInf
    col_lower = np.zeros(m + n)
    col_lower[fixed] = 1.0
    slack = 1e-7 * max(1.0, min_cover)
    row_lower = np.r_[np.ones(n), np.full(n, -inf), p, min_cover - slack]
    row_upper = np.r_[np.full(n, inf), np.zeros(n), p, inf]
    integrality = np.r_[np.ones(m, dtype=np.int32), np.zeros(n, dtype=np.int32)]
    h = _highs(time_limit_s, 0.0)
    _pass(h, A, np.zeros(m + n), col_lower, np.ones(m + n), row_lower, row_upper, integrality)
    h.run()
    return _read(h, m, p)


def _exact_center(D: NDArray[np.float64], w: NDArray[np.float64], *, p: int, fixed: NDArray[np.int64],
                  radius_m: float, min_cover: float, start: NDArray[np.int64],
                  time_limit_s: float) -> tuple[NDArray[np.int64], str, float]:
    """p-center with a coverage floor by bisection over candidate distances; returns (chosen, status, gap)."""
    _, d0 = _assign(D, start)
    best, best_R = start, float(d0.max())
    values = np.unique(D)
    lo, hi = 0, int(np.searchsorted(values, best_R - _TOL * max(1.0, best_R)))  # values[hi] ~ best_R
    bound = 0  # every radius below values[bound] is proven infeasible
    started = perf_counter()
    while lo < hi:
        left = time_limit_s - (perf_counter() - started)
        if left <= 0:
            break
        mid = (lo + hi) // 2
        status, chosen = _center_feasible(D, w, float(values[mid]), p=p, fixed=fixed, radius_m=radius_m,
                                          min_cover=min_cover, time_limit_s=left)
        if chosen.size:
            best, best_R, hi = chosen, float(values[mid]), mid
        else:
            lo = mid + 1
            if status == "infeasible":  # no plan within values[mid], so none within anything smaller
                bound = max(bound, lo)
    timed_out = lo < hi
    lower = float(values[min(bound, values.size - 1)])
    gap = 0.0 if best_R <= 0 else max(best_R - lower, 0.0) / best_R
    status = "optimal" if gap <= 1e-12 else "time_limit" if timed_out else "feasible"
    return best, status, gap


def _check_options(p: int, objective: str, method: str, max_swaps: int) -> tuple[str, int]:
    if objective not in OBJECTIVES:
        raise ConfigError(f"objective must be one of {', '.join(OBJECTIVES)}, got {objective!r}")
    if method in _METHOD_ALIASES:
        warnings.warn(f"method={method!r} is deprecated; use method={_METHOD_ALIASES[method]!r}",
                      DeprecationWarning, stacklevel=3)
        method = _METHOD_ALIASES[method]
    if method not in METHODS:
        raise ConfigError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    try:
        max_swaps = operator.index(max_swaps)
    except TypeError:
        raise ConfigError(f"max_swaps must be a whole number, got {max_swaps!r}") from None
    if isinstance(p, int | np.integer) and p == 0:
        raise InfeasibleError("p = 0 edge data centres: nothing to place. Fix: pass p >= 1")
    return method, max_swaps


def _exact_stage(D: NDArray[np.float64], w: NDArray[np.float64], sel: NDArray[np.int64], *, p: int,
                 fixed: NDArray[np.int64], radius_m: float, min_cover: float, objective: str, time_limit_s: float,
                 mip_rel_gap: float, max_swaps: int) -> tuple[NDArray[np.int64], str, float | None]:
    """The distance stage by HiGHS, started from the interchange's ``sel``; keeps the better of the two."""
    if objective == "median":
        chosen, status, gap = _exact_median(D, w, p=p, fixed=fixed, radius_m=radius_m, min_cover=min_cover,
                                            start=sel, time_limit_s=time_limit_s, mip_rel_gap=mip_rel_gap)
    else:
        chosen, status, gap = _exact_center(D, w, p=p, fixed=fixed, radius_m=radius_m, min_cover=min_cover,
                                            start=sel, time_limit_s=time_limit_s)
        chosen, _ = _interchange(D, w, chosen, fixed=fixed, radius_m=radius_m, min_cover=min_cover,
                                 objective="center", max_swaps=max_swaps)
    if _key(_assign(D, chosen)[1], w, objective) <= _key(_assign(D, sel)[1], w, objective):
        sel = np.r_[fixed, np.setdiff1d(chosen, fixed)].astype(np.int64)
    return sel, status, gap


def _result(D: NDArray[np.float64], w: NDArray[np.float64], sel: NDArray[np.int64], *, radius_m: float,
            objective: str, method: str, status: str, gap: float | None, min_cover: float, swaps: int,
            started: float) -> MedianResult:
    near, dist = _assign(D, sel)
    covered = dist <= radius_m
    total = float(w.sum())
    cw = float(w[covered].sum())
    pos = w > 0
    mean_d = float(w @ dist) / total if total > 0 else 0.0
    max_d = float(dist[pos].max()) if pos.any() else 0.0
    res = MedianResult(
        selected=sel, objective=mean_d if objective == "median" else max_d,
        covered_share=cw / total if total > 0 else 1.0, method=method, status=status, gap=gap,
        runtime_s=perf_counter() - started, per_group=None, kind=objective, nearest=near, distance_m=dist,
        covered=covered, covered_weight=cw, coverage_bound=min_cover, mean_distance_m=mean_d, max_distance_m=max_d,
        swaps=swaps)
    for arr in (res.selected, res.nearest, res.distance_m, res.covered):
        arr.setflags(write=False)
    return res


def median_cover(dist_m: Any, weights: ArrayLike, *, p: int, radius_m: float, objective: str = "median",
                 method: str = "greedy", fixed: ArrayLike | None = None, time_limit_s: float = 60.0,
                 mip_rel_gap: float = 1e-4, max_swaps: int = 10_000) -> MedianResult:
    """Choose ``p`` sites: cover the most demand within ``radius_m``, then minimise distance.

    Parameters
    ----------
    dist_m : array_like, shape (n_demand, n_candidates)
        Straight-line distance from each demand point (row) to each candidate site (column), metres.
    weights : array_like, shape (n_demand,)
        Demand weight of each point, >= 0.
    p : int
        Number of sites, fixed ones included.
    radius_m : float
        Radius of the latency circle (see :meth:`geoplan.latency.LatencyModel.radius_m`).
    objective : {"median", "center"}
        Second-stage objective: weighted mean distance, or worst distance (then the mean).
    method : {"greedy", "exact"}
        Greedy coverage + swaps, or HiGHS MIPs for both stages (``"heuristic"``
        is the deprecated name of ``"greedy"``).
    fixed : array_like of int, optional
        Columns that must be chosen (existing data centres).
    time_limit_s, mip_rel_gap : float
        Limits of each HiGHS stage (``method="exact"``).
    max_swaps : int
        Cap on improving swaps of the interchange.

    Returns
    -------
    MedianResult

    Raises
    ------
    ValidationError
        Malformed arrays (shapes, negative distances or weights).
    InfeasibleError
        ``p`` below the fixed sites or above the candidates.
    ConfigError
        Unknown objective or method, or an exact model too large to build.

    Examples
    --------
    Six points on a line, two clusters; the obvious two centres are the middle of each:

    >>> import numpy as np
    >>> x = np.array([0.0, 1.0, 2.0, 10.0, 11.0, 12.0]) * 1000
    >>> D = np.abs(x[:, None] - x[None, :])
    >>> res = median_cover(D, np.ones(6), p=2, radius_m=50_000)
    >>> res.selected.tolist(), res.mean_distance_m, res.max_distance_m
    ([1, 4], 666.6666666666666, 1000.0)
    """
    started = perf_counter()
    D, w = _check_arrays(dist_m, weights, radius_m)
    method, max_swaps = _check_options(p, objective, method, max_swaps)
    coverage = sp.csc_array(D <= radius_m)
    stage1 = greedy_mclp(coverage, w, p=p, fixed=fixed)
    if method == "exact":
        stage1 = exact_mclp(coverage, w, p=p, fixed=fixed, time_limit_s=time_limit_s,
                            mip_rel_gap=mip_rel_gap, warm_start=stage1)
    fx = np.asarray(fixed if fixed is not None else [], dtype=np.int64).reshape(-1)
    min_cover = float(stage1.objective)
    pos = w > 0
    Dp, wp = D[pos], w[pos]
    start = _greedy_start(Dp, wp, stage1.selected, fixed=fx, radius_m=radius_m, p=p)
    sel, swaps = _interchange(Dp, wp, start, fixed=fx, radius_m=radius_m, min_cover=min_cover,
                              objective=objective, max_swaps=max_swaps)
    status, gap = "greedy", None
    if method == "exact" and Dp.shape[0]:
        sel, status, gap = _exact_stage(Dp, wp, sel, p=p, fixed=fx, radius_m=radius_m, min_cover=min_cover,
                                        objective=objective, time_limit_s=time_limit_s, mip_rel_gap=mip_rel_gap,
                                        max_swaps=max_swaps)
        if stage1.status != "optimal" and status == "optimal":
            status = "feasible"  # the latency stage is optimal only for the coverage floor it was given
    elif method == "exact":
        status, gap = "optimal", 0.0
    sel = np.r_[sel[: fx.size], np.sort(sel[fx.size:])].astype(np.int64)
    res = _result(D, w, sel, radius_m=radius_m, objective=objective, method=method, status=status, gap=gap,
                  min_cover=min_cover, swaps=swaps, started=started)
    log.info("median_cover: %d sites, %.2f%% of weight within %.0f m, mean %.0f m, max %.0f m, %d swaps, %s",
             len(sel), 100 * res.covered_share, radius_m, res.mean_distance_m, res.max_distance_m, swaps, status)
    return res


