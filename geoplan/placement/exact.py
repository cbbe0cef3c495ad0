"""Exact site placement: maximal covering with district quotas as a MIP, solved by HiGHS.

Formulation (Church & ReVelle's MCLP, with quotas)::

    maximise    sum_k W_k y_k
    subject to  y_k <= sum_j B_kj x_j      for every demand pattern k
                sum_j x_j = p
                lower_g <= sum_{j in g} x_j <= upper_g   for every district g
                x_j in {0, 1} (x_j = 1 for fixed sites),  0 <= y_k <= 1

The demand rows are reduced before the model is built: rows already covered
(by existing sites or by a fixed site, whose weight becomes a constant), rows of
weight 0 and rows no candidate covers are dropped, and rows covered by exactly
the same set of candidates are merged into one pattern ``k`` with their weights
summed. On a raster of demand cells most neighbouring cells share their
covering set, so this shrinks the model several-fold without changing its
optimum.

HiGHS starts from the greedy answer (or ``warm_start``), so a time limit always
leaves a feasible plan; the result says whether optimality was proven.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import replace
from time import perf_counter
from typing import Any

import highspy
import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from ..errors import InfeasibleError, Problem, SolverError, ValidationError
from ._result import Instance, PlacementResult, check_problem, covered_rows, make_result
from .greedy import greedy_mclp

__all__ = ["exact_mclp"]

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())

_STOPPED_WITH_SOLUTION = {
    highspy.HighsModelStatus.kTimeLimit: "time_limit",
    highspy.HighsModelStatus.kIterationLimit: "feasible",
    highspy.HighsModelStatus.kSolutionLimit: "feasible",
    highspy.HighsModelStatus.kInterrupt: "feasible",
    highspy.HighsModelStatus.kMemoryLimit: "feasible",
    highspy.HighsModelStatus.kObjectiveBound: "feasible",
    highspy.HighsModelStatus.kObjectiveTarget: "feasible",
    highspy.HighsModelStatus.kUnknown: "feasible",
}


def _patterns(inst: Instance) -> tuple[sp.csr_array, NDArray[np.float64], float]:
    """Aggregated demand: one row per distinct covering set, its summed weight, and the constant weight.

    The constant is the weight newly covered by the fixed sites whatever else is chosen.
    """
    by_fixed = covered_rows(inst, inst.fixed) & ~inst.covered0
    offset = float(inst.weights[by_fixed].sum())
    csr = inst.coverage.tocsr()
    keep = (~inst.covered0 & ~by_fixed & (inst.weights > 0) & (np.diff(csr.indptr) > 0))
    rows = np.flatnonzero(keep)
    sub = csr[rows]
    sub.sort_indices()
    ptr, idx = sub.indptr.tolist(), sub.indices
    seen: dict[bytes, int] = {}
    inverse = np.fromiter((seen.setdefault(idx[ptr[r]:ptr[r + 1]].tobytes(), len(seen)) for r in range(rows.size)),
                          dtype=np.int64, count=rows.size)
    _, first = np.unique(inverse, return_index=True)  # first row of each pattern
    weights = np.bincount(inverse, weights=inst.weights[rows], minlength=len(seen))
    log.debug("exact: %d demand rows -> %d uncovered rows -> %d distinct patterns", inst.n_rows, rows.size, len(seen))
    return sp.csr_array(sub[first]), weights, offset


def _warm_start(inst: Instance, warm_start: PlacementResult | ArrayLike | None, kwargs: dict[str, Any]) -> NDArray[np.int64]:
    if warm_start is None:
        return greedy_mclp(**kwargs).selected
    sel = np.asarray(warm_start.selected if isinstance(warm_start, PlacementResult) else warm_start).reshape(-1)
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
        raise ValidationError([Problem("placement", "warm_start", m, "pass a feasible plan (e.g. a greedy_mclp "
                                       "result with the same inputs) or warm_start=None") for m in problems])
    return sel


def _polish(inst: Instance, selected: NDArray[np.int64]) -> NDArray[np.int64]:
    """Swap sites that cover nothing alone for unchosen sites of the same district with a higher ``secondary``.

    A chosen site is *redundant* when every demand row it covers is already
    covered (by an existing site or another chosen site) or has weight 0:
    the MIP is indifferent to where such quota sites go, the planner is not.
    One pass, lowest ``secondary`` first; each swap keeps every quota and
    cannot lower the objective. Returns the chosen set, fixed sites first,
    then ascending.
    """
    A = inst.coverage
    ptr, idx, sec, groups = A.indptr, A.indices, inst.secondary, inst.groups
    free = (inst.weights <= 0) | inst.covered0
    count = np.bincount(A[:, selected].indices, minlength=inst.n_rows)
    chosen = np.zeros(inst.n_cols, dtype=np.bool_)
    chosen[selected] = True
    unchosen = np.flatnonzero(~chosen)
    unchosen = unchosen[np.lexsort((unchosen, -sec[unchosen]))]  # best secondary first, then lowest index
    pool = {int(g): deque(unchosen[groups[unchosen] == g].tolist()) for g in np.unique(groups[selected])}
    movable = np.setdiff1d(selected, inst.fixed)
    for j in movable[np.lexsort((-movable, sec[movable]))].tolist():
        queue = pool[int(groups[j])]
        if not queue or sec[queue[0]] <= sec[j]:
            continue
        rows = idx[ptr[j]:ptr[j + 1]]
        if not np.all(free[rows] | (count[rows] >= 2)):
            continue
        new = queue.popleft()
        count[rows] -= 1
        count[idx[ptr[new]:ptr[new + 1]]] += 1
        chosen[j], chosen[new] = False, True
    return np.r_[inst.fixed, np.setdiff1d(np.flatnonzero(chosen), inst.fixed)].astype(np.int64)


def exact_mclp(coverage: Any, weights: ArrayLike, *, p: int, covered0: ArrayLike | None = None,
               groups: ArrayLike | None = None, min_per_group: ArrayLike | None = None,
               max_per_group: ArrayLike | None = None, fixed: ArrayLike | None = None,
               time_limit_s: float = 60.0, mip_rel_gap: float = 1e-4,
               warm_start: PlacementResult | ArrayLike | None = None,
               secondary: ArrayLike | None = None) -> PlacementResult:
    """Choose ``p`` sites that maximise newly covered demand, meeting district quotas, by MIP.

    Parameters
    ----------
    coverage, weights, p, covered0, groups, min_per_group, max_per_group, fixed
        As in :func:`~geoplan.placement.greedy_mclp`.
    time_limit_s : float
        Wall-clock limit of the HiGHS solve (the greedy warm start and model
        building come on top, and are reported in ``runtime_s``).
    mip_rel_gap : float
        Relative gap at which HiGHS stops and calls the plan optimal.
    warm_start : PlacementResult or array_like of int, optional
        A feasible plan to start from; by default the greedy plan.
    secondary : array_like of float, shape (n_candidates,), optional
        Where the coverage objective is indifferent (a chosen site whose demand
        is all covered anyway, e.g. a quota site in a saturated district), the
        plan is moved to unchosen sites of the same district with a higher
        ``secondary`` (e.g. population density), one pass after solving; also
        the greedy warm start's tie-break.

    Returns
    -------
    PlacementResult
        ``method="exact"``; ``status`` is ``"optimal"`` only when HiGHS proved
        optimality within ``mip_rel_gap``, ``"time_limit"`` when the limit
        struck (the best plan found, at worst the warm start, with its
        ``gap``), ``"feasible"`` when HiGHS stopped for another reason with a plan.

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
    if not (np.isfinite(time_limit_s) and time_limit_s > 0):
        raise ValidationError(Problem("placement", "time_limit_s", f"must be a positive number of seconds, "
                                      f"got {time_limit_s!r}", "pass e.g. time_limit_s=60"))
    if not (0 <= mip_rel_gap < 1):
        raise ValidationError(Problem("placement", "mip_rel_gap", f"must be in [0, 1), got {mip_rel_gap!r}",
                                      "pass e.g. mip_rel_gap=1e-4 (0.01 %)"))
    start_sel = _warm_start(inst, warm_start, kwargs)

    B, pattern_w, offset = _patterns(inst)
    n, k = inst.n_cols, B.shape[0]
    constrained = inst.has_groups and bool(np.any(inst.lower > 0) or np.any(inst.upper < np.bincount(
        inst.groups, minlength=inst.n_groups)))
    n_g = inst.n_groups if constrained else 0
    member = sp.csr_array((np.ones(n), (inst.groups, np.arange(n))), shape=(inst.n_groups, n))[:n_g]
    M = sp.vstack([
        sp.hstack([-B.astype(np.float64), sp.eye_array(k, format="csr")]),
        sp.hstack([sp.csr_array(np.ones((1, n))), sp.csr_array((1, k))]),
        sp.hstack([member, sp.csr_array((n_g, k))]),
    ]).tocsc()
    M.sort_indices()
    inf = highspy.kHighsInf
    col_lower = np.zeros(n + k)
    col_lower[inst.fixed] = 1.0
    row_lower = np.r_[np.full(k, -inf), inst.p, inst.lower[:n_g]].astype(np.float64)
    row_upper = np.r_[np.zeros(k), inst.p, inst.upper[:n_g]].astype(np.float64)
    integrality = np.r_[np.ones(n, dtype=np.int32), np.zeros(k, dtype=np.int32)]

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(time_limit_s))
    h.setOptionValue("mip_rel_gap", float(mip_rel_gap))
    status = h.passModel(n + k, k + 1 + n_g, M.nnz, int(highspy.MatrixFormat.kColwise),
                         int(highspy.ObjSense.kMaximize), offset, np.r_[np.zeros(n), pattern_w],
                         col_lower, np.ones(n + k), row_lower, row_upper,
                         M.indptr.astype(np.int32), M.indices.astype(np.int32), M.data.astype(np.float64),
                         integrality)
    if status == highspy.HighsStatus.kError:
        raise SolverError("HiGHS rejected the placement model; please report this as a bug")
    x0 = np.zeros(n)
    x0[start_sel] = 1.0
    y0 = np.minimum(B @ x0, 1.0) if k else np.zeros(0)
    start = highspy.HighsSolution()
    start.col_value = np.r_[x0, y0].tolist()
    start.value_valid = True
    if h.setSolution(start) == highspy.HighsStatus.kError:
        log.warning("HiGHS did not accept the warm start; solving from scratch")
    log.info("exact: HiGHS on %d sites x %d demand patterns (%d nonzeros), limit %.0f s", n, k, M.nnz, time_limit_s)
    h.run()

    model_status = h.getModelStatus()
    info = h.getInfo()
    text = h.modelStatusToString(model_status)
    has_plan = info.primal_solution_status == highspy.kSolutionStatusFeasible
    if model_status == highspy.HighsModelStatus.kInfeasible:
        raise InfeasibleError("HiGHS found the placement infeasible although the quota checks passed: "
                              "check min_per_group/max_per_group and fixed for conflicts")
    if model_status == highspy.HighsModelStatus.kOptimal and has_plan:
        label = "optimal"
    elif model_status in _STOPPED_WITH_SOLUTION and has_plan:
        label = _STOPPED_WITH_SOLUTION[model_status]
    else:
        raise SolverError(f"HiGHS stopped with status '{text}' and no usable plan: raise time_limit_s "
                          "or reduce the problem (fewer candidates, coarser demand grid)")

    x = np.asarray(h.getSolution().col_value[:n])
    chosen = np.flatnonzero(x > 0.5)
    if chosen.size != inst.p:
        raise SolverError(f"HiGHS returned {chosen.size} sites instead of p = {inst.p} (status '{text}')")
    order = _polish(inst, chosen) if secondary is not None else np.r_[
        inst.fixed, np.setdiff1d(chosen, inst.fixed)].astype(np.int64)
    bound = float(info.mip_dual_bound)
    if not np.isfinite(bound):
        bound = offset + float(pattern_w.sum())  # all coverable demand
    result = make_result(inst, order, method="exact", status=label, started=started, bound=bound)
    assert result.gap is not None
    if label == "optimal" and result.gap > mip_rel_gap * (1 + 1e-6) + 1e-9 and bound - result.objective > 1e-6:
        label = "feasible"  # HiGHS said optimal, but not within the gap asked for
    if abs(float(info.objective_function_value) - result.objective) > 1e-6 * max(1.0, result.objective):
        log.info("exact: HiGHS objective %.6g, after polishing %.6g", info.objective_function_value, result.objective)
    log.info("exact: HiGHS '%s', objective %.6g, gap %.3g", text, result.objective, result.gap)
    return replace(result, status=label, runtime_s=perf_counter() - started)
