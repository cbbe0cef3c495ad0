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
import os
import pickle
import queue
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from time import perf_counter
from typing import IO, Any, NamedTuple

import highspy
import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from ..errors import InfeasibleError, Problem, SolverError, ValidationError
from ._result import Instance, PlacementResult, check_problem, covered_rows, make_result
from .greedy import greedy_mclp

__all__ = ["SolverProgress", "exact_mclp"]

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())

#: Models with at least this many nonzeros are solved in a child process that can be stopped
#: hard (see :func:`_solve_guarded`); smaller ones in this process, without the ~2 s start-up.
SUBPROCESS_MIN_NNZ = 100_000
#: A guarded HiGHS run is stopped max(GRACE_S, GRACE_SHARE * time_limit_s) seconds after its limit.
GRACE_S = 10.0
GRACE_SHARE = 0.25
#: Seconds allowed for the child process to start (import geoplan, build the model).
STARTUP_S = 120.0
_CHILD_CODE = "from geoplan.placement.exact import _child_main; _child_main()"

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


@dataclass(frozen=True, eq=False)
class _Model:
    """The MIP in HiGHS's column-wise arrays, with its warm start and options (picklable)."""

    num_col: int
    num_row: int
    n_sites: int
    offset: float
    cost: NDArray[np.float64]
    col_lower: NDArray[np.float64]
    col_upper: NDArray[np.float64]
    row_lower: NDArray[np.float64]
    row_upper: NDArray[np.float64]
    start: NDArray[np.int32]
    index: NDArray[np.int32]
    value: NDArray[np.float64]
    integrality: NDArray[np.int32]
    warm: NDArray[np.float64]
    time_limit_s: float
    mip_rel_gap: float


@dataclass(frozen=True)
class SolverProgress:
    """A progress report of a running exact solve: incumbent, proven bound and their gap.

    ``objective`` is the best plan's covered weight (NaN before the first plan),
    ``bound`` the proven upper bound on the optimum (``inf`` while unknown),
    ``gap`` their relative distance (``inf`` while unknown), ``elapsed_s`` seconds since the start.
    """

    elapsed_s: float
    objective: float
    bound: float
    gap: float


#: ``progress(report)`` and ``cancel() -> bool`` hooks of :func:`exact_mclp`.
ProgressHook = Callable[[SolverProgress], None]
CancelHook = Callable[[], bool]


class _Hooks(NamedTuple):
    progress: ProgressHook | None
    cancel: CancelHook | None
    started: float

    def report(self, objective: float, bound: float) -> None:
        if self.progress is not None:
            gap = (bound - objective) / abs(bound) if np.isfinite(bound) and np.isfinite(objective) and bound else np.inf
            self.progress(SolverProgress(perf_counter() - self.started, objective, bound, max(float(gap), 0.0)))


class _Outcome(NamedTuple):
    """What a HiGHS run left: our status label, HiGHS's words, the site values and the dual bound."""

    label: str  # optimal | time_limit | cancelled | feasible | infeasible | error
    text: str
    x: NDArray[np.float64] | None
    bound: float


def _highs(model: _Model) -> highspy.Highs:
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", model.time_limit_s)
    h.setOptionValue("mip_rel_gap", model.mip_rel_gap)
    status = h.passModel(model.num_col, model.num_row, int(model.index.size), int(highspy.MatrixFormat.kColwise),
                         int(highspy.ObjSense.kMaximize), model.offset, model.cost, model.col_lower,
                         model.col_upper, model.row_lower, model.row_upper, model.start, model.index,
                         model.value, model.integrality)
    if status == highspy.HighsStatus.kError:
        raise SolverError("HiGHS rejected the placement model; please report this as a bug")
    start = highspy.HighsSolution()
    start.col_value = model.warm.tolist()
    start.value_valid = True
    if h.setSolution(start) == highspy.HighsStatus.kError:
        log.warning("HiGHS did not accept the warm start; solving from scratch")
    return h


def _outcome(h: highspy.Highs, n_sites: int) -> _Outcome:
    status = h.getModelStatus()
    info = h.getInfo()
    text = h.modelStatusToString(status)
    has_plan = info.primal_solution_status == highspy.kSolutionStatusFeasible
    x = np.asarray(h.getSolution().col_value[:n_sites], dtype=np.float64) if has_plan else None
    if status == highspy.HighsModelStatus.kInfeasible:
        label = "infeasible"
    elif status == highspy.HighsModelStatus.kOptimal and has_plan:
        label = "optimal"
    elif status in _STOPPED_WITH_SOLUTION and has_plan:
        label = _STOPPED_WITH_SOLUTION[status]
    else:
        label = "error"
    return _Outcome(label, text, x, float(info.mip_dual_bound))


def _solve(model: _Model, hooks: _Hooks) -> _Outcome:
    """Run HiGHS in this process (progress reported and cancel checked from its MIP callbacks)."""
    h = _highs(model)
    cancelled = [False]
    if hooks.progress is not None or hooks.cancel is not None:
        def interrupt(event: Any) -> None:
            data = event.data_out
            hooks.report(float(data.mip_primal_bound), float(data.mip_dual_bound))
            if hooks.cancel is not None and hooks.cancel():
                cancelled[0] = True
                event.data_in.user_interrupt = True

        def stop_lp(event: Any) -> None:
            if hooks.cancel is not None and hooks.cancel():
                cancelled[0] = True
                event.data_in.user_interrupt = True

        h.cbMipInterrupt.subscribe(interrupt)
        h.cbSimplexInterrupt.subscribe(stop_lp)
        h.cbIpmInterrupt.subscribe(stop_lp)
    h.run()
    out = _outcome(h, model.n_sites)
    return out._replace(label="cancelled") if cancelled[0] and out.x is not None else out


def _child_main() -> None:
    """Entry point of the HiGHS child process: model in on stdin, messages out on stdout (pickled)."""
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything else printed (C libraries included) goes to stderr, not into the messages

    def send(message: tuple[Any, ...]) -> None:
        pickle.dump(message, out)
        out.flush()

    model: _Model = pickle.load(sys.stdin.buffer)
    h = _highs(model)

    def improving(event: Any) -> None:
        data = event.data_out
        send(("plan", np.asarray(data.mip_solution[:model.n_sites], dtype=np.float64), float(data.mip_dual_bound),
              float(data.objective_function_value)))

    last = [0.0, float("inf")]  # time and value of the last dual bound sent

    def progress(event: Any) -> None:
        bound, now = float(event.data_out.mip_dual_bound), perf_counter()
        if bound < last[1] and now - last[0] > 1.0:
            last[:] = [now, bound]
            send(("bound", bound))

    h.cbMipImprovingSolution.subscribe(improving)
    h.cbMipInterrupt.subscribe(progress)
    send(("started",))
    h.run()
    send(("done", _outcome(h, model.n_sites)))


def _pump(stream: IO[bytes], inbox: queue.Queue[tuple[Any, ...]]) -> None:
    """Move pickled messages from the child's stdout to ``inbox`` until it closes."""
    try:
        while True:
            inbox.put(pickle.load(stream))
    except (EOFError, OSError, pickle.UnpicklingError):
        inbox.put(("eof",))


def _solve_guarded(model: _Model, hooks: _Hooks) -> _Outcome:
    """Run HiGHS in a child process and stop it hard if it overruns its time limit.

    HiGHS checks its time limit between steps, and some steps of large models
    (root cut separation) run for minutes without a check: a 60 s limit was seen
    to end after 550 s. The child is killed :data:`GRACE_S` (or :data:`GRACE_SHARE`
    of the limit, whichever is more) after the limit; the best plan it reported
    is kept, at worst the warm start. The child is a fresh interpreter fed
    through pipes (not :mod:`multiprocessing`), so calling scripts need no
    ``if __name__ == "__main__"`` guard.
    """
    root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
    proc = subprocess.Popen([sys.executable, "-c", _CHILD_CODE], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env)
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    log.info("exact: HiGHS runs in child process %d, stopped hard if it overruns", proc.pid)
    inbox: queue.Queue[tuple[Any, ...]] = queue.Queue()
    errors: list[bytes] = []
    threading.Thread(target=_pump, args=(proc.stdout, inbox), daemon=True).start()
    threading.Thread(target=lambda: errors.append(proc.stderr.read()), daemon=True).start()  # type: ignore[union-attr]
    best_x, bound, objective = model.warm[:model.n_sites].copy(), float("inf"), float("nan")
    try:
        try:
            proc.stdin.write(pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL))
            proc.stdin.close()
        except BrokenPipeError:
            pass  # the child died at start; its stderr tells why (below)
        deadline = perf_counter() + STARTUP_S
        while True:
            if hooks.cancel is not None and hooks.cancel():
                log.info("exact: cancelled; keeping the best plan so far")
                return _Outcome("cancelled", "cancelled by the user", best_x, bound)
            wait = max(deadline - perf_counter(), 0.0)
            try:
                message = inbox.get(timeout=min(wait, 0.25) if hooks.cancel is not None else wait)
            except queue.Empty:
                if perf_counter() < deadline:
                    continue
                break
            if message[0] in ("plan", "bound"):
                if message[0] == "plan":
                    best_x, objective = message[1], message[3]
                bound = min(bound, message[2] if message[0] == "plan" else message[1])
                hooks.report(objective, bound)
            elif message[0] == "started":
                deadline = perf_counter() + model.time_limit_s + max(GRACE_S, GRACE_SHARE * model.time_limit_s)
            elif message[0] == "done":
                return message[1]  # type: ignore[no-any-return]
            else:
                proc.wait(timeout=10)
                tail = b"".join(errors).decode(errors="replace").strip().splitlines()[-3:]
                raise SolverError(f"the HiGHS process ended without an answer (exit code {proc.returncode}: "
                                  f"{' / '.join(tail) or 'no message'}); if it ran out of memory, reduce the "
                                  "problem (fewer candidates, coarser demand grid)")
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
    log.warning("exact: HiGHS overran its %.0f s time limit and was stopped; keeping its best plan so far",
                model.time_limit_s)
    return _Outcome("time_limit", "stopped after overrunning the time limit", best_x, bound)


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
    weights = np.bincount(inverse, weights=inst.weights[rows], minlength=len(seen)).astype(np.float64)
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
               secondary: ArrayLike | None = None, progress: ProgressHook | None = None,
               cancel: CancelHook | None = None) -> PlacementResult:
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
    progress : callable, optional
        Called with a :class:`SolverProgress` (incumbent, bound, gap) as HiGHS finds
        better plans and bounds.
    cancel : callable, optional
        Polled while HiGHS runs (about four times a second); when it returns true the
        solve stops and the best plan so far is returned with ``status="cancelled"``.

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

    x0 = np.zeros(n)
    x0[start_sel] = 1.0
    y0 = np.minimum(B @ x0, 1.0) if k else np.zeros(0)
    model = _Model(num_col=n + k, num_row=k + 1 + n_g, n_sites=n, offset=offset,
                   cost=np.r_[np.zeros(n), pattern_w], col_lower=col_lower, col_upper=np.ones(n + k),
                   row_lower=row_lower, row_upper=row_upper, start=M.indptr.astype(np.int32),
                   index=M.indices.astype(np.int32), value=M.data.astype(np.float64), integrality=integrality,
                   warm=np.r_[x0, y0], time_limit_s=float(time_limit_s), mip_rel_gap=float(mip_rel_gap))
    log.info("exact: HiGHS on %d sites x %d demand patterns (%d nonzeros), limit %.0f s", n, k, M.nnz, time_limit_s)
    hooks = _Hooks(progress, cancel, perf_counter())
    hooks.report(float(pattern_w @ y0) + offset, np.inf)  # the warm start is the first incumbent
    # a run that can be cancelled goes to a child process too: killing it stops any HiGHS step at once
    guarded = M.nnz >= SUBPROCESS_MIN_NNZ or cancel is not None
    out = _solve_guarded(model, hooks) if guarded else _solve(model, hooks)

    if out.label == "infeasible":
        raise InfeasibleError("HiGHS found the placement infeasible although the quota checks passed: "
                              "check min_per_group/max_per_group and fixed for conflicts")
    if out.label == "error" or out.x is None:
        raise SolverError(f"HiGHS stopped with status '{out.text}' and no usable plan: raise time_limit_s "
                          "or reduce the problem (fewer candidates, coarser demand grid)")
    chosen = np.flatnonzero(out.x > 0.5)
    if chosen.size != inst.p:
        raise SolverError(f"HiGHS returned {chosen.size} sites instead of p = {inst.p} (status '{out.text}')")
    order = _polish(inst, chosen) if secondary is not None else np.r_[
        inst.fixed, np.setdiff1d(chosen, inst.fixed)].astype(np.int64)
    bound = out.bound if np.isfinite(out.bound) else offset + float(pattern_w.sum())  # all coverable demand
    result = make_result(inst, order, method="exact", status=out.label, started=started, bound=bound)
    assert result.gap is not None
    label = out.label
    if label == "optimal" and result.gap > mip_rel_gap * (1 + 1e-6) + 1e-9 and bound - result.objective > 1e-6:
        label = "feasible"  # HiGHS said optimal, but not within the gap asked for
    log.info("exact: HiGHS '%s', objective %.6g, gap %.3g", out.text, result.objective, result.gap)
    return replace(result, status=label, runtime_s=perf_counter() - started)
