"""One way to run HiGHS: a model in column-wise arrays in, an outcome out, nothing on stdout.

Every exact solver in :mod:`geoplan.placement` builds a :class:`HighsModel`
(HiGHS's own column-wise arrays, minimise or maximise, with or without
integer columns) and calls :func:`solve_highs`, which

- never prints: HiGHS writes its banner to stdout the first time a ``Highs``
  object is made in a process, and logs to stdout while ``output_flag`` is on;
  :func:`new_highs` makes the first one with stdout pointed at ``/dev/null``
  and turns ``output_flag`` and ``log_to_console`` off in every path, the child
  process's included, so ``--format json`` stays clean;
- starts from a warm start (a feasible point, e.g. the greedy plan), takes a
  *cutoff* (a value any interesting solution must beat, e.g. a heuristic's
  objective) and an external *bound* (a proven bound on the optimum, e.g. a
  Lagrangian bound): HiGHS stops as soon as its incumbent is within
  ``mip_rel_gap`` of the better of its own dual bound and that one;
- runs large models in a child process that is killed when HiGHS overruns its
  time limit (HiGHS checks its limit between steps, and some steps of large
  models run for minutes without a check), keeping the best plan reported;
- reports progress (:class:`HighsProgress`: incumbent, dual bound, gap,
  elapsed) to a callback, and stops when a ``cancel`` callable returns true,
  returning the incumbent.

The child is a fresh interpreter fed through pipes (not :mod:`multiprocessing`),
so calling scripts need no ``if __name__ == "__main__"`` guard.
"""

from __future__ import annotations

import ctypes
import logging
import math
import os
import pickle
import queue
import struct
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from time import perf_counter
from typing import IO, Any, Literal

import highspy
import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from ..errors import SolverError

__all__ = ["HighsModel", "HighsOutcome", "HighsProgress", "new_highs", "solve_highs"]

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())

#: Models with at least this many nonzeros run in a child process that can be stopped hard
#: (``guarded=None``); smaller ones in this process, without the ~1 s start-up.
SUBPROCESS_MIN_NNZ = 100_000
#: A guarded run is stopped max(GRACE_S, GRACE_SHARE * time_limit_s) seconds after its limit.
GRACE_S = 10.0
GRACE_SHARE = 0.25
#: Seconds allowed for the child process to start (import geoplan, read the model).
STARTUP_S = 120.0
#: Seconds a cancelled child may take to hand back its incumbent before it is killed.
CANCEL_GRACE_S = 5.0
#: Least seconds between two progress reports of the dual bound.
PROGRESS_EVERY_S = 0.5
#: The child imports only this module and geoplan.errors: empty package modules stand in for
#: ``geoplan`` and ``geoplan.placement``, whose ``__init__`` would pull in geopandas and the rest
#: (seconds of start-up for nothing).
_CHILD_CODE = """\
import sys, types
for name, path in (("geoplan", sys.argv[1]), ("geoplan.placement", sys.argv[2])):
    package = types.ModuleType(name)
    package.__path__ = [path]
    sys.modules[name] = package
from geoplan.placement._highs import _child_main
_child_main()
"""

_LABELS = {
    highspy.HighsModelStatus.kOptimal: "optimal",
    highspy.HighsModelStatus.kTimeLimit: "time_limit",
    highspy.HighsModelStatus.kInterrupt: "interrupted",
    highspy.HighsModelStatus.kIterationLimit: "feasible",
    highspy.HighsModelStatus.kSolutionLimit: "feasible",
    highspy.HighsModelStatus.kMemoryLimit: "feasible",
    highspy.HighsModelStatus.kObjectiveBound: "feasible",
    highspy.HighsModelStatus.kObjectiveTarget: "feasible",
    highspy.HighsModelStatus.kUnknown: "feasible",
    highspy.HighsModelStatus.kInfeasible: "infeasible",
    highspy.HighsModelStatus.kUnbounded: "unbounded",
    highspy.HighsModelStatus.kUnboundedOrInfeasible: "unbounded",
}

_banner_lock = threading.Lock()
_banner_done = False


@dataclass(frozen=True, eq=False)
class HighsModel:
    """A linear or mixed-integer programme in HiGHS's column-wise arrays (picklable).

    ``sense * cost @ x + offset`` is optimised over ``col_lower <= x <= col_upper``,
    ``row_lower <= M x <= row_upper``, where column ``j`` of ``M`` holds
    ``value[start[j]:start[j+1]]`` in rows ``index[start[j]:start[j+1]]``.
    ``integrality[j]`` is 1 for an integer column, 0 for a continuous one
    (``None``: a linear programme). Use ``-inf``/``inf`` (or
    ``highspy.kHighsInf``) for absent bounds.
    """

    sense: Literal["min", "max"]
    cost: NDArray[np.float64]
    col_lower: NDArray[np.float64]
    col_upper: NDArray[np.float64]
    row_lower: NDArray[np.float64]
    row_upper: NDArray[np.float64]
    start: NDArray[np.int32]
    index: NDArray[np.int32]
    value: NDArray[np.float64]
    integrality: NDArray[np.int32] | None = None
    offset: float = 0.0

    @property
    def num_col(self) -> int:
        return int(self.cost.shape[0])

    @property
    def num_row(self) -> int:
        return int(self.row_lower.shape[0])

    @property
    def nnz(self) -> int:
        return int(self.index.shape[0])

    @classmethod
    def from_matrix(cls, matrix: Any, *, sense: Literal["min", "max"], cost: ArrayLike, col_lower: ArrayLike,
                    col_upper: ArrayLike, row_lower: ArrayLike, row_upper: ArrayLike,
                    integrality: ArrayLike | None = None, offset: float = 0.0) -> HighsModel:
        """Build a model from a scipy.sparse constraint matrix (rows = constraints)."""
        m = sp.csc_array(matrix)
        m.sum_duplicates()
        m.sort_indices()
        n = int(m.shape[1])

        def vec(v: ArrayLike, size: int) -> NDArray[np.float64]:
            return np.ascontiguousarray(np.broadcast_to(np.asarray(v, dtype=np.float64), (size,)))

        return cls(sense=sense, cost=vec(cost, n), col_lower=vec(col_lower, n), col_upper=vec(col_upper, n),
                   row_lower=vec(row_lower, m.shape[0]), row_upper=vec(row_upper, m.shape[0]),
                   start=m.indptr.astype(np.int32), index=m.indices.astype(np.int32),
                   value=m.data.astype(np.float64),
                   integrality=None if integrality is None else np.asarray(integrality, dtype=np.int32),
                   offset=float(offset))


@dataclass(frozen=True)
class HighsProgress:
    """A progress report of a running solve, in the model's own sense.

    ``objective`` is the incumbent's objective (NaN before the first one),
    ``bound`` the proven bound on the optimum (the dual bound), ``gap`` their
    relative distance (``inf`` while unknown).
    """

    elapsed_s: float
    objective: float
    bound: float
    gap: float


@dataclass(frozen=True, eq=False)
class HighsOutcome:
    """What a HiGHS run left.

    Attributes
    ----------
    label : str
        ``"optimal"`` (within ``mip_rel_gap`` of the better of HiGHS's and the
        external bound), ``"time_limit"``, ``"interrupted"`` (cancelled),
        ``"feasible"`` (stopped for another reason with a solution),
        ``"infeasible"``, ``"unbounded"`` or ``"error"`` (no usable solution).
    text : str
        HiGHS's own words for its status.
    x : ndarray or None
        Column values of the best solution, ``None`` without one.
    objective : float
        Objective of ``x`` (NaN without one).
    bound : float
        Best proven bound on the optimum (HiGHS's dual bound, tightened by the
        external ``bound``); ``inf`` (max) / ``-inf`` (min) when none is known.
    elapsed_s : float
        Wall-clock seconds of the solve (child start-up included).
    guarded : bool
        Whether the run was in a child process.
    nodes, lp_iterations : int
        Branch-and-bound nodes and simplex iterations HiGHS reported (0 when
        unknown, e.g. a child process stopped hard): a measure of the work done.
    """

    label: str
    text: str
    x: NDArray[np.float64] | None
    objective: float
    bound: float
    elapsed_s: float
    guarded: bool = False
    nodes: int = 0
    lp_iterations: int = 0


@dataclass(frozen=True, eq=False)
class _Request:
    model: HighsModel
    time_limit_s: float
    mip_rel_gap: float
    warm_start: NDArray[np.float64] | None
    cutoff: float | None
    bound: float | None
    options: Mapping[str, Any]


def new_highs() -> highspy.Highs:
    """A silent ``highspy.Highs`` object: no banner, no log on stdout."""
    global _banner_done
    with _banner_lock:
        if not _banner_done:
            # the banner is printed once per process, on the first construction: send it nowhere
            sys.stdout.flush()
            saved = os.dup(1)
            devnull = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(devnull, 1)
                h = highspy.Highs()
                _flush_c_stdout()
            finally:
                os.dup2(saved, 1)
                os.close(saved)
                os.close(devnull)
            _banner_done = True
        else:
            h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("log_to_console", False)
    return h


def _flush_c_stdout() -> None:
    try:
        ctypes.CDLL(None).fflush(None)
    except (OSError, AttributeError):  # no C library handle (unusual platforms): nothing buffered to lose
        pass


def _sense_sign(model: HighsModel) -> float:
    return -1.0 if model.sense == "max" else 1.0


def _gap(objective: float, bound: float) -> float:
    if not (math.isfinite(objective) and math.isfinite(bound)):
        return math.inf
    return abs(bound - objective) / max(abs(objective), 1e-9) if bound != objective else 0.0


def _better_bound(model: HighsModel, a: float, b: float | None) -> float:
    """The tighter of two bounds on the optimum (smaller for max, larger for min)."""
    if b is None or math.isnan(b):
        return a
    return min(a, b) if model.sense == "max" else max(a, b)


def _build(req: _Request) -> highspy.Highs:
    m = req.model
    h = new_highs()
    opts: dict[str, Any] = {"time_limit": float(req.time_limit_s) if math.isfinite(req.time_limit_s) else
                            highspy.kHighsInf, "mip_rel_gap": float(req.mip_rel_gap), **dict(req.options)}
    for key, value in opts.items():
        if key in ("output_flag", "log_to_console"):
            continue  # silence is not negotiable: stdout belongs to the caller
        if h.setOptionValue(key, value) == highspy.HighsStatus.kError:
            raise SolverError(f"HiGHS rejected option {key}={value!r}; please report this as a bug")
    if req.cutoff is not None and math.isfinite(req.cutoff) and m.integrality is not None:
        # objective_bound is HiGHS's cutoff in its internal minimisation sense
        h.setOptionValue("objective_bound", float(_sense_sign(m) * req.cutoff))
    sense = highspy.ObjSense.kMaximize if m.sense == "max" else highspy.ObjSense.kMinimize
    inf = highspy.kHighsInf

    def clip(v: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.clip(v, -inf, inf)

    integrality = np.zeros(m.num_col, dtype=np.int32) if m.integrality is None else m.integrality
    status = h.passModel(m.num_col, m.num_row, m.nnz, int(highspy.MatrixFormat.kColwise), int(sense), m.offset,
                         m.cost, clip(m.col_lower), clip(m.col_upper), clip(m.row_lower), clip(m.row_upper),
                         m.start, m.index, m.value, integrality)
    if status == highspy.HighsStatus.kError:
        raise SolverError("HiGHS rejected the model; please report this as a bug")
    if req.warm_start is not None:
        start = highspy.HighsSolution()
        start.col_value = np.asarray(req.warm_start, dtype=np.float64).tolist()
        start.value_valid = True
        if h.setSolution(start) == highspy.HighsStatus.kError:
            log.warning("HiGHS did not accept the warm start; solving from scratch")
    return h


def _outcome(h: highspy.Highs, req: _Request, started: float, *, cancelled: bool, guarded: bool) -> HighsOutcome:
    m = req.model
    status = h.getModelStatus()
    info = h.getInfo()
    text = h.modelStatusToString(status)
    has_x = info.primal_solution_status == highspy.kSolutionStatusFeasible
    x = np.asarray(h.getSolution().col_value, dtype=np.float64) if has_x else None
    objective = float(info.objective_function_value) if has_x else math.nan
    if m.integrality is None:
        bound = objective if status == highspy.HighsModelStatus.kOptimal else -_sense_sign(m) * math.inf
    else:
        bound = float(info.mip_dual_bound)
        if not math.isfinite(bound):
            bound = -_sense_sign(m) * math.inf
    bound = _better_bound(m, bound, req.bound)
    label = _LABELS.get(status, "error")
    if label == "infeasible" and req.cutoff is not None and math.isfinite(req.cutoff):
        bound = _better_bound(m, bound, req.cutoff)  # nothing beats the cutoff: it bounds the optimum
    if label == "interrupted" and not cancelled and has_x and _gap(objective, bound) <= req.mip_rel_gap + 1e-12:
        label = "optimal"  # stopped by us because the external bound proves the incumbent
    if label in ("time_limit", "interrupted", "feasible") and not has_x:
        label = "error"
    if label == "optimal" and not has_x:
        label = "error"
    return HighsOutcome(label, text, x, objective, bound, perf_counter() - started, guarded,
                        nodes=max(int(info.mip_node_count), 0), lp_iterations=max(int(info.simplex_iteration_count), 0))


def _watch(h: highspy.Highs, req: _Request, started: float, *, stop: Callable[[], bool],
           send: Callable[[HighsProgress, NDArray[np.float64] | None], None] | None) -> None:
    """Subscribe the callbacks that report progress and stop the run (cancel, external bound)."""
    m = req.model
    last = [-math.inf]

    def interrupt(event: Any) -> None:
        if stop():
            event.interrupt()
            return
        if m.integrality is None or event.callback_type != highspy.cb.HighsCallbackType.kCallbackMipInterrupt:
            return
        data = event.data_out
        obj = float(data.mip_primal_bound)
        bound = _better_bound(m, float(data.mip_dual_bound), req.bound)
        if req.bound is not None and math.isfinite(obj) and _gap(obj, bound) <= req.mip_rel_gap:
            event.interrupt()  # the external bound already proves the incumbent
        now = perf_counter()
        if send is not None and now - last[0] >= PROGRESS_EVERY_S:
            last[0] = now
            send(HighsProgress(now - started, obj if math.isfinite(obj) else math.nan, bound, _gap(obj, bound)), None)

    def improving(event: Any) -> None:
        if send is None:
            return
        data = event.data_out
        obj = float(data.objective_function_value)
        bound = _better_bound(m, float(data.mip_dual_bound), req.bound)
        send(HighsProgress(perf_counter() - started, obj, bound, _gap(obj, bound)),
             np.asarray(data.mip_solution, dtype=np.float64).copy())

    h.cbSimplexInterrupt.subscribe(interrupt)
    h.cbIpmInterrupt.subscribe(interrupt)
    if m.integrality is not None:
        h.cbMipInterrupt.subscribe(interrupt)
        h.cbMipImprovingSolution.subscribe(improving)


def _solve_here(req: _Request, *, progress: Callable[[HighsProgress], None] | None,
                cancel: Callable[[], bool] | None) -> HighsOutcome:
    started = perf_counter()
    h = _build(req)
    cancelled = [False]

    def stop() -> bool:
        if cancel is not None and not cancelled[0] and cancel():
            cancelled[0] = True
        return cancelled[0]

    send = None if progress is None else (lambda p, _x: progress(p))
    if progress is not None or cancel is not None or req.bound is not None:
        _watch(h, req, started, stop=stop, send=send)
    h.run()
    return _outcome(h, req, started, cancelled=cancelled[0], guarded=False)


def _child_main() -> None:
    """Entry point of the HiGHS child process: request in on stdin, pickled messages out on stdout."""
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything else printed (C libraries included) goes to stderr, not into the messages
    lock = threading.Lock()

    def send(message: tuple[Any, ...]) -> None:
        with lock:
            pickle.dump(message, out, protocol=pickle.HIGHEST_PROTOCOL)
            out.flush()

    stdin = sys.stdin.buffer
    (size,) = struct.unpack("<Q", stdin.read(8))
    req: _Request = pickle.loads(stdin.read(size))
    stop_flag = threading.Event()

    def listen() -> None:  # a byte from the parent, or the parent gone: stop
        stdin.read(1)
        stop_flag.set()

    threading.Thread(target=listen, daemon=True).start()
    started = perf_counter()
    h = _build(req)
    _watch(h, req, started, stop=stop_flag.is_set,
           send=lambda p, x: send(("progress", p, x)))
    send(("started",))
    h.run()
    send(("done", _outcome(h, req, started, cancelled=stop_flag.is_set(), guarded=True)))


def _pump(stream: IO[bytes], inbox: queue.Queue[tuple[Any, ...]]) -> None:
    """Move pickled messages from the child's stdout to ``inbox`` until it closes."""
    try:
        while True:
            inbox.put(pickle.load(stream))
    except (EOFError, OSError, pickle.UnpicklingError):
        inbox.put(("eof",))


def _solve_guarded(req: _Request, *, progress: Callable[[HighsProgress], None] | None,
                   cancel: Callable[[], bool] | None) -> HighsOutcome:
    started = perf_counter()
    here = Path(__file__).resolve().parent
    proc = subprocess.Popen([sys.executable, "-c", _CHILD_CODE, str(here.parent), str(here)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    log.info("HiGHS runs in child process %d, stopped hard if it overruns", proc.pid)
    inbox: queue.Queue[tuple[Any, ...]] = queue.Queue()
    errors: list[bytes] = []
    threading.Thread(target=_pump, args=(proc.stdout, inbox), daemon=True).start()
    threading.Thread(target=lambda: errors.append(proc.stderr.read()), daemon=True).start()  # type: ignore[union-attr]
    m = req.model
    best_x = req.warm_start
    best_obj = math.nan if best_x is None else float(m.cost @ best_x + m.offset)
    bound = _better_bound(m, -_sense_sign(m) * math.inf, req.bound)
    cancelled = False
    try:
        try:
            payload = pickle.dumps(req, protocol=pickle.HIGHEST_PROTOCOL)
            proc.stdin.write(struct.pack("<Q", len(payload)) + payload)
            proc.stdin.flush()
        except BrokenPipeError:
            pass  # the child died at start; its stderr tells why (below)
        deadline = perf_counter() + STARTUP_S
        while perf_counter() < deadline:
            if cancel is not None and not cancelled and cancel():
                cancelled = True
                deadline = min(deadline, perf_counter() + CANCEL_GRACE_S)
                _tell_child_to_stop(proc)
            try:
                message = inbox.get(timeout=min(0.1, max(deadline - perf_counter(), 0.0)))
            except queue.Empty:
                continue
            if message[0] == "started":
                if not cancelled:
                    deadline = perf_counter() + req.time_limit_s + max(GRACE_S, GRACE_SHARE * req.time_limit_s)
            elif message[0] == "progress":
                report: HighsProgress = message[1]
                bound = _better_bound(m, report.bound, bound)
                if message[2] is not None:
                    best_x, best_obj = message[2], report.objective
                if progress is not None:
                    progress(report)
            elif message[0] == "done":
                outcome: HighsOutcome = message[1]
                return replace(outcome, elapsed_s=perf_counter() - started)
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
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            try:
                stream.close()
            except OSError:
                pass
    if cancelled:
        log.warning("HiGHS did not stop within %.0f s of the cancel and was killed; keeping its best plan",
                    CANCEL_GRACE_S)
        label, text = "interrupted", "cancelled, stopped hard"
    else:
        log.warning("HiGHS overran its %.0f s time limit and was stopped; keeping its best plan so far",
                    req.time_limit_s)
        label, text = "time_limit", "stopped after overrunning the time limit"
    if best_x is None:
        label = "error"
    return HighsOutcome(label, text, best_x, best_obj, bound, perf_counter() - started, True)


def _tell_child_to_stop(proc: subprocess.Popen[bytes]) -> None:
    try:
        assert proc.stdin is not None
        proc.stdin.write(b"C")
        proc.stdin.flush()
    except (BrokenPipeError, OSError):
        pass


def solve_highs(model: HighsModel, *, time_limit_s: float = math.inf, mip_rel_gap: float = 1e-4,
                warm_start: ArrayLike | None = None, cutoff: float | None = None, bound: float | None = None,
                options: Mapping[str, Any] | None = None, guarded: bool | None = None,
                progress: Callable[[HighsProgress], None] | None = None,
                cancel: Callable[[], bool] | None = None) -> HighsOutcome:
    """Solve ``model`` with HiGHS, silently, with a hard stop, progress reports and a cancel.

    Parameters
    ----------
    model : HighsModel
        The programme (linear when ``model.integrality`` is ``None``).
    time_limit_s : float
        HiGHS's wall-clock limit. A guarded run is killed
        ``max(GRACE_S, GRACE_SHARE * time_limit_s)`` seconds after it.
    mip_rel_gap : float
        Relative gap at which a MIP is called optimal.
    warm_start : array_like of float, shape (num_col,), optional
        A feasible point to start from (its objective becomes the first incumbent).
    cutoff : float, optional
        Only solutions better than this value are wanted (a known plan's objective):
        HiGHS prunes every node that cannot beat it. If no better solution exists
        the run ends ``"infeasible"`` or with the warm start.
    bound : float, optional
        A proven bound on the optimum from elsewhere (e.g. a Lagrangian bound):
        the run stops as soon as the incumbent is within ``mip_rel_gap`` of the
        better of it and HiGHS's dual bound, and the outcome's ``bound`` is that
        better one.
    options : mapping, optional
        Further HiGHS options (``output_flag``/``log_to_console`` are always off).
    guarded : bool, optional
        Run in a child process with the hard stop; default: when the model has
        at least :data:`SUBPROCESS_MIN_NNZ` nonzeros.
    progress : callable, optional
        Called with a :class:`HighsProgress` at every improving solution and
        every :data:`PROGRESS_EVERY_S` seconds or so, in the calling thread for
        guarded runs and in HiGHS's for in-process ones.
    cancel : callable, optional
        Polled during the run; when it returns true the run stops and the
        incumbent is returned with label ``"interrupted"`` (e.g. pass
        ``threading.Event().is_set``).

    Returns
    -------
    HighsOutcome

    Raises
    ------
    SolverError
        HiGHS rejected the model or an option, or the child process died.

    Examples
    --------
    Maximise ``x + 2y`` with ``x + y <= 1.5``, ``x, y`` binary:

    >>> import numpy as np, scipy.sparse as sp
    >>> m = HighsModel.from_matrix(sp.csc_array(np.array([[1.0, 1.0]])), sense="max", cost=[1.0, 2.0],
    ...                            col_lower=0.0, col_upper=1.0, row_lower=-np.inf, row_upper=1.5,
    ...                            integrality=[1, 1])
    >>> out = solve_highs(m)
    >>> out.label, out.objective, out.x.round().tolist()
    ('optimal', 2.0, [0.0, 1.0])
    """
    if model.start.shape != (model.num_col + 1,) or model.value.shape != model.index.shape:
        raise SolverError("the HiGHS model's column arrays do not fit together; please report this as a bug")
    warm = None if warm_start is None else np.asarray(warm_start, dtype=np.float64).reshape(-1)
    if warm is not None and warm.shape != (model.num_col,):
        raise SolverError(f"the warm start has {warm.shape[0]} values for {model.num_col} columns; "
                          "please report this as a bug")
    req = _Request(model, float(time_limit_s), float(mip_rel_gap), warm, cutoff, bound, dict(options or {}))
    use_child = model.nnz >= SUBPROCESS_MIN_NNZ if guarded is None else guarded
    out = (_solve_guarded if use_child else _solve_here)(req, progress=progress, cancel=cancel)
    log.info("HiGHS: %s (%s), objective %.6g, bound %.6g, %.2f s%s", out.label, out.text, out.objective, out.bound,
             out.elapsed_s, " (child process)" if out.guarded else "")
    return out
