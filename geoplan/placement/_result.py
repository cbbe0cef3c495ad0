"""The placement result, and the input checks every placement solver shares.

:func:`check_problem` validates the arrays of a maximal-covering problem with
district quotas once, and proves the quotas can be met *before* any solver
runs; :func:`make_result` turns a chosen set of sites into the immutable
:class:`PlacementResult` both :func:`~geoplan.placement.greedy_mclp` and
:func:`~geoplan.placement.exact_mclp` return, with the objective recomputed
the same way for both.
"""

from __future__ import annotations

import logging
import operator
from dataclasses import dataclass
from time import perf_counter
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from ..errors import InfeasibleError, Problem, ValidationError

__all__ = ["PlacementResult", "Instance", "check_problem", "covered_rows", "top_gains_bound", "relative_gap",
           "make_result"]

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())

#: Status values a :class:`PlacementResult` can carry.
STATUSES = ("optimal", "time_limit", "cancelled", "feasible", "greedy")


@dataclass(frozen=True, eq=False)
class PlacementResult:
    """Sites chosen by a placement solver.

    Attributes
    ----------
    selected : ndarray of int
        Column indices of the coverage matrix (candidate sites) chosen, in the
        order chosen: fixed sites first, then quota sites, then the rest for the
        greedy solvers; fixed sites first, then ascending for the exact solver.
    objective : float
        Demand weight (e.g. persons) newly covered: rows covered by a chosen site
        and not covered by existing sites.
    covered_share : float
        Share of the total demand weight covered after placement, existing
        coverage included (1.0 when the total weight is 0).
    method : str
        ``"greedy"``, ``"greedy_set_cover"`` or ``"exact"``.
    status : str
        ``"optimal"`` (HiGHS proved optimality within the requested gap),
        ``"time_limit"`` (best solution found when the time limit struck),
        ``"feasible"`` (a solution without proof of optimality for another
        reason) or ``"greedy"`` (a heuristic answer, no bound).
    gap : float or None
        Relative gap ``(bound - objective) / objective`` to a proven upper bound
        on the optimum (``inf`` when the objective is 0 and the bound is not).
        For ``exact`` the bound is HiGHS's dual bound, tightened by the
        submodular bound below; for ``greedy`` it is the a-posteriori
        submodular bound of Minoux (the plan's weight plus the largest gains
        still on offer), usually within a few per cent. ``None`` for
        ``greedy_set_cover``.
    runtime_s : float
        Wall-clock seconds, checks and model building included.
    per_group : ndarray of int or None
        Number of chosen sites in each group (district); ``None`` without groups.
    """

    selected: NDArray[np.int64]
    objective: float
    covered_share: float
    method: str
    status: str
    gap: float | None
    runtime_s: float
    per_group: NDArray[np.int64] | None

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {self.status!r}")
        self.selected.setflags(write=False)
        if self.per_group is not None:
            self.per_group.setflags(write=False)

    def __len__(self) -> int:
        return int(self.selected.shape[0])


@dataclass(frozen=True, eq=False)
class Instance:
    """A checked placement problem (internal to :mod:`geoplan.placement`).

    ``groups`` is all zeros and ``n_groups`` is 1 when no groups were given;
    ``lower``/``upper`` are the effective per-group bounds on the number of
    chosen sites: ``max(min_per_group, fixed in group)`` and
    ``min(max_per_group, candidates in group)``.
    """

    coverage: sp.csc_array
    weights: NDArray[np.float64]
    covered0: NDArray[np.bool_]
    groups: NDArray[np.int64]
    n_groups: int
    has_groups: bool
    lower: NDArray[np.int64]
    upper: NDArray[np.int64]
    fixed: NDArray[np.int64]
    p: int
    secondary: NDArray[np.float64]

    @property
    def n_rows(self) -> int:
        return int(self.coverage.shape[0])

    @property
    def n_cols(self) -> int:
        return int(self.coverage.shape[1])


def _binary_csc(coverage: Any, problems: list[Problem]) -> sp.csc_array | None:
    """``coverage`` as a CSC 0/1 matrix with sorted, unique indices (a copy)."""
    try:
        mat = sp.csc_array(coverage, copy=True)
    except (TypeError, ValueError) as exc:
        problems.append(Problem("coverage", None, f"cannot be read as a sparse matrix ({exc})",
                                "pass a scipy.sparse matrix, rows = demand cells, columns = candidate sites"))
        return None
    if mat.ndim != 2:
        problems.append(Problem("coverage", None, f"must be 2-D, got {mat.ndim}-D",
                                "pass a matrix with rows = demand cells, columns = candidate sites"))
        return None
    mat.sum_duplicates()
    data = np.asarray(mat.data, dtype=np.float64)
    if not np.all(np.isfinite(data)) or np.any(data < 0):
        problems.append(Problem("coverage", None, "has negative or non-finite entries",
                                "use 1 where a candidate covers a demand cell and 0 (no entry) elsewhere"))
        return None
    mat.eliminate_zeros()
    mat.sort_indices()
    ones = np.ones(mat.nnz, dtype=np.int8)
    return sp.csc_array((ones, mat.indices.astype(np.int32), mat.indptr.astype(np.int64)), shape=mat.shape)


def _vector(value: Any, n: int, *, layer: str, field: str, what: str, problems: list[Problem],
            dtype: type = np.float64, nonneg: bool = False) -> NDArray[Any] | None:
    arr = np.asarray(value)
    if arr.shape != (n,):
        problems.append(Problem(layer, field, f"has shape {arr.shape}, expected ({n},): one value per {what}",
                                f"pass one value per {what}, in the coverage matrix's order"))
        return None
    if dtype is np.bool_:
        if arr.dtype != np.bool_:
            problems.append(Problem(layer, field, f"has dtype {arr.dtype}, expected bool",
                                    "pass a boolean mask"))
            return None
        return arr.astype(np.bool_)
    if dtype is np.int64:
        whole = (np.issubdtype(arr.dtype, np.floating) and bool(np.all(np.isfinite(arr)))
                 and bool(np.all(arr == np.round(arr))))
        if arr.size and not (np.issubdtype(arr.dtype, np.integer) or whole):
            problems.append(Problem(layer, field, f"has dtype {arr.dtype} with non-integer values, expected integers",
                                    "use integer codes 0..G-1 for districts (e.g. pandas.factorize) and whole "
                                    "numbers of sites for quotas (e.g. numpy.ceil of the shortfall)"))
            return None
        out_i = arr.astype(np.int64)
        if nonneg and np.any(out_i < 0):
            problems.append(Problem(layer, field, f"has negative values (min {out_i.min()})",
                                    "use integer codes and counts >= 0"))
            return None
        return out_i
    if not np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.complexfloating):
        problems.append(Problem(layer, field, f"has dtype {arr.dtype}, expected numbers", "pass real numbers"))
        return None
    out = arr.astype(np.float64)
    bad = ~np.isfinite(out)
    if bad.any():
        problems.append(Problem(layer, field, f"has {int(bad.sum())} non-finite values (first at {int(np.flatnonzero(bad)[0])})",
                                "replace NaN/inf by 0 or drop those entries"))
        return None
    if nonneg and np.any(out < 0):
        first = int(np.flatnonzero(out < 0)[0])
        problems.append(Problem(layer, field, f"has {int((out < 0).sum())} negative values (first {out[first]!r} at {first})",
                                "weights are populations or demand: use values >= 0"))
        return None
    return out


def check_problem(coverage: Any, weights: ArrayLike, *, p: int | None,
                  covered0: ArrayLike | None = None, groups: ArrayLike | None = None,
                  min_per_group: ArrayLike | None = None, max_per_group: ArrayLike | None = None,
                  fixed: ArrayLike | None = None, secondary: ArrayLike | None = None) -> Instance:
    """Validate a placement problem and prove its quotas can be met, before solving.

    Parameters are those of :func:`~geoplan.placement.greedy_mclp`; ``p=None``
    skips the budget checks (set cover decides its own number of sites).

    Returns
    -------
    Instance

    Raises
    ------
    ValidationError
        Malformed input (shapes, dtypes, negative weights, indices out of range),
        every problem at once.
    InfeasibleError
        Well-formed input whose budget and quotas cannot all be met, every
        conflict at once, each with a fix.
    """
    problems: list[Problem] = []
    mat = _binary_csc(coverage, problems)
    if mat is None:
        raise ValidationError(problems)
    n_rows, n_cols = (int(s) for s in mat.shape)

    w = _vector(weights, n_rows, layer="demand", field="weights", what="demand cell (coverage row)",
                problems=problems, nonneg=True)
    c0 = (np.zeros(n_rows, dtype=np.bool_) if covered0 is None else
          _vector(covered0, n_rows, layer="demand", field="covered0", what="demand cell (coverage row)",
                  problems=problems, dtype=np.bool_))
    sec = (np.zeros(n_cols) if secondary is None else
           _vector(secondary, n_cols, layer="candidates", field="secondary", what="candidate site (coverage column)",
                   problems=problems))

    p_int: int | None = None
    if p is not None:
        try:
            p_int = operator.index(p)
        except TypeError:
            problems.append(Problem("placement", "p", f"must be an integer number of sites, got {p!r}",
                                    "pass a whole number, e.g. p=7000"))
        else:
            if p_int < 0:
                problems.append(Problem("placement", "p", f"must be >= 0, got {p_int}", "pass a number of sites >= 0"))
                p_int = None

    fx = np.zeros(0, dtype=np.int64)
    if fixed is not None:
        arr = np.asarray(fixed).reshape(-1)
        if arr.size and not np.issubdtype(arr.dtype, np.integer):
            problems.append(Problem("candidates", "fixed", f"has dtype {arr.dtype}, expected column indices",
                                    "pass integer column indices of the coverage matrix"))
        else:
            fx = arr.astype(np.int64)
            out = fx[(fx < 0) | (fx >= n_cols)]
            if out.size:
                problems.append(Problem("candidates", "fixed", f"indices {out[:5].tolist()} are outside 0..{n_cols - 1}",
                                        "pass column indices of the coverage matrix"))
            elif np.unique(fx).size != fx.size:
                vals, cnt = np.unique(fx, return_counts=True)
                problems.append(Problem("candidates", "fixed", f"repeats indices {vals[cnt > 1][:5].tolist()}",
                                        "list each fixed site once"))

    g: NDArray[np.int64] | None = np.zeros(n_cols, dtype=np.int64)
    has_groups = groups is not None
    n_groups = 1
    if groups is not None:
        g = _vector(groups, n_cols, layer="candidates", field="groups", what="candidate site (coverage column)",
                    problems=problems, dtype=np.int64, nonneg=True)
        sizes = [len(np.asarray(q).reshape(-1)) for q in (min_per_group, max_per_group) if q is not None]
        if len(set(sizes)) > 1:
            problems.append(Problem("placement", "max_per_group",
                                    f"has {sizes[1]} entries but min_per_group has {sizes[0]}",
                                    "give both one entry per group (district) code"))
        n_groups = sizes[0] if sizes else (int(g.max()) + 1 if g is not None and g.size else 1)
        if g is not None and g.size and int(g.max()) >= n_groups:
            problems.append(Problem("candidates", "groups", f"has code {int(g.max())} but quotas cover only "
                                    f"codes 0..{n_groups - 1}", "give min_per_group/max_per_group one entry per code"))
    elif min_per_group is not None or max_per_group is not None:
        problems.append(Problem("placement", "min_per_group", "quotas given without groups",
                                "pass groups= (the district code of each candidate site) with the quotas"))

    lo = np.zeros(n_groups, dtype=np.int64)
    hi = np.full(n_groups, np.iinfo(np.int64).max // 4, dtype=np.int64)
    if has_groups and min_per_group is not None:
        q = _vector(np.asarray(min_per_group).reshape(-1), n_groups, layer="placement", field="min_per_group",
                    what="group (district) code", problems=problems, dtype=np.int64, nonneg=True)
        lo = q if q is not None else lo
    if has_groups and max_per_group is not None:
        q = _vector(np.asarray(max_per_group).reshape(-1), n_groups, layer="placement", field="max_per_group",
                    what="group (district) code", problems=problems, dtype=np.int64, nonneg=True)
        hi = q if q is not None else hi
    if lo.shape == hi.shape and np.any(lo > hi):
        bad = np.flatnonzero(lo > hi)
        problems.append(Problem("placement", "max_per_group", f"is below min_per_group for groups {bad[:5].tolist()}",
                                "make every maximum >= its minimum"))

    if problems:
        raise ValidationError(problems)
    assert w is not None and c0 is not None and sec is not None and g is not None

    # Feasibility: the groups partition the candidates, so any count between
    # each group's lower and upper bound is reachable; p must lie between their sums.
    n_in = np.bincount(g, minlength=n_groups).astype(np.int64)
    f_in = np.bincount(g[fx], minlength=n_groups).astype(np.int64)
    conflicts: list[str] = []
    for k in np.flatnonzero(lo > n_in):
        conflicts.append(f"group {k} needs at least {lo[k]} new sites but has only {n_in[k]} candidate sites: "
                         "add candidates there (denser grid, more k-means centres) or lower its minimum")
    for k in np.flatnonzero(f_in > hi):
        conflicts.append(f"group {k} has {f_in[k]} fixed sites, more than its maximum {hi[k]}: "
                         "unfix some or raise its maximum")
    lower = np.maximum(lo, f_in)
    upper = np.minimum(hi, n_in)
    if p_int is not None:
        if p_int > n_cols:
            conflicts.append(f"p = {p_int} new sites but there are only {n_cols} candidate sites: "
                             "generate more candidates or lower p")
        if p_int < fx.size:
            conflicts.append(f"p = {p_int} is below the {fx.size} fixed sites: raise p or unfix sites")
        if p_int < int(lower.sum()) and int(lower.sum()) > fx.size:
            conflicts.append(f"p = {p_int} is below the {int(lower.sum())} sites the group minimums (and fixed "
                             "sites) need: raise p or lower the minimums")
        if p_int > int(upper.sum()) and p_int <= n_cols:
            conflicts.append(f"p = {p_int} exceeds the {int(upper.sum())} sites the group maximums allow: "
                             "raise the maximums or lower p")
    if conflicts:
        raise InfeasibleError("The placement cannot be met:\n- " + "\n- ".join(conflicts))

    return Instance(coverage=mat, weights=w, covered0=c0, groups=g, n_groups=n_groups, has_groups=has_groups,
                    lower=lower, upper=upper, fixed=fx, p=p_int if p_int is not None else -1, secondary=sec)


def covered_rows(inst: Instance, selected: NDArray[np.int64]) -> NDArray[np.bool_]:
    """Rows covered by any of the ``selected`` columns."""
    mask = np.zeros(inst.n_rows, dtype=np.bool_)
    if selected.size:
        mask[inst.coverage[:, selected].indices] = True
    return mask


def top_gains_bound(inst: Instance, covered: NDArray[np.bool_], *, base: float, k: int) -> float:
    """Upper bound on the best objective of any plan that contains the sites behind ``covered``.

    Coverage is submodular, so the optimum is at most the weight ``base``
    already won plus the ``k`` largest gains any single site still offers
    (Minoux 1978); ``k`` is the number of sites the plan may still choose.
    """
    residual = np.where(covered | inst.covered0, 0.0, inst.weights)
    gains = np.asarray(inst.coverage.T @ residual, dtype=np.float64)
    k = min(max(k, 0), gains.size)
    return base + (float(np.sort(gains)[gains.size - k:].sum()) if k else 0.0)


def relative_gap(objective: float, bound: float) -> float:
    """``(bound - objective) / objective``, 0 when both are 0, ``inf`` when only the objective is."""
    diff = max(bound - objective, 0.0)
    if objective > 0:
        return diff / objective
    return 0.0 if diff <= 1e-9 else float("inf")


def make_result(inst: Instance, selected: ArrayLike, *, method: str, status: str, started: float,
                bound: float | None = None) -> PlacementResult:
    """Build the :class:`PlacementResult` of ``selected`` (objective recomputed from scratch).

    ``started`` is the :func:`time.perf_counter` value at the solver's start.
    With an upper ``bound`` on the optimum, the gap is reported against the
    smaller of it and :func:`top_gains_bound` of ``selected``; without, no gap.
    """
    sel = np.asarray(selected, dtype=np.int64).reshape(-1)
    covered = covered_rows(inst, sel)
    new = covered & ~inst.covered0
    objective = float(inst.weights[new].sum())
    total = float(inst.weights.sum())
    share = float(inst.weights[new | inst.covered0].sum()) / total if total > 0 else 1.0
    per_group = np.bincount(inst.groups[sel], minlength=inst.n_groups).astype(np.int64) if inst.has_groups else None
    gap = None
    if bound is not None:
        bound = min(bound, top_gains_bound(inst, covered, base=objective, k=sel.size - inst.fixed.size))
        gap = relative_gap(objective, bound)
    runtime = perf_counter() - started
    log.info("%s: %d sites, %.0f newly covered (%.2f%% covered), status %s, %.2f s",
             method, sel.size, objective, 100 * share, status, runtime)
    return PlacementResult(selected=sel, objective=objective, covered_share=share, method=method, status=status,
                           gap=gap, runtime_s=runtime, per_group=per_group)
