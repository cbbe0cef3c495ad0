"""A checked placement problem: the arrays every placement solver shares, validated once.

:func:`check_problem` validates the arrays of a maximal-covering problem with
district quotas once, and proves the quotas can be met *before* any solver
runs. It reads the caller's coverage matrix without copying it when it is
already CSC with sorted, unique indices (as :func:`geoplan.coverage.coverage_matrix`
builds it); other formats are converted once.

Coverage is *binary* (bool or integer entries: a candidate covers a demand
cell or not) or *fractional* (floating entries in (0, 1]: the share of a cell
a candidate covers, e.g. a small site in a 100 m cell). A cell's covered share
is ``min(1, s0 + sum_j a_ij x_j)``, where ``s0`` is the share existing sites
already cover (``covered0``: a boolean mask, or shares in [0, 1]); binary
coverage is the special case of 0/1 entries. The weight a plan newly covers is
``sum_i w_i * min(1 - s0_i, sum_j a_ij x_j)``; :class:`Instance` keeps
``room = 1 - s0`` for it.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from ..errors import InfeasibleError, Problem, ValidationError

__all__ = ["Instance", "check_problem", "column_positions", "sums_by"]


@dataclass(frozen=True, eq=False)
class Instance:
    """A checked placement problem (internal to :mod:`geoplan.placement`).

    ``coverage`` is CSC with sorted unique indices and no explicit zeros: its
    data are ``uint8`` ones when ``binary``, else ``float64`` shares in (0, 1].
    ``room`` is ``1 - s0`` per row (0 for rows existing sites cover fully);
    ``covered0`` marks those rows. ``groups`` is all zeros and ``n_groups`` is 1
    when no groups were given; ``lower``/``upper`` are the effective per-group
    bounds on the number of chosen sites: ``max(min_per_group, fixed in group)``
    and ``min(max_per_group, candidates in group)``.
    """

    coverage: sp.csc_array
    binary: bool
    weights: NDArray[np.float64]
    room: NDArray[np.float64]
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

    @cached_property
    def live_weights(self) -> NDArray[np.float64]:
        """Weight still to win per row: ``weights`` where ``room > 0``, else 0 (binary: ``w * room``)."""
        return np.where(self.room > 0, self.weights, 0.0)

    @cached_property
    def entry_cols(self) -> NDArray[np.int32]:
        """Column of every stored entry of ``coverage`` (built on first use)."""
        A = self.coverage
        return np.repeat(np.arange(A.shape[1], dtype=np.int32), np.diff(A.indptr))

    @cached_property
    def row_major(self) -> sp.csr_array:
        """``coverage`` as CSR (built on first use, for solvers that walk rows)."""
        csr = self.coverage.tocsr()
        csr.sort_indices()
        return csr


def sums_by(ids: NDArray[Any], values: NDArray[Any] | None, n: int) -> NDArray[np.float64]:
    """``values`` summed by ``ids`` into ``n`` bins (counts without ``values``), as float64."""
    return np.asarray(np.bincount(ids, weights=values, minlength=n), dtype=np.float64)


def column_positions(indptr: NDArray[Any], cols: NDArray[np.int64]) -> NDArray[np.int64]:
    """Positions in ``indices``/``data`` of every stored entry of the columns ``cols``, column by column."""
    starts = indptr[cols].astype(np.int64)
    lengths = indptr[cols + 1].astype(np.int64) - starts
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
    return np.arange(total, dtype=np.int64) + offsets


_COVERAGE_FIX = ("pass a scipy.sparse matrix, rows = demand cells, columns = candidate sites: bool or integer "
                 "entries (covers or not) or floating shares in (0, 1]")


def _coverage(coverage: Any, problems: list[Problem]) -> tuple[sp.csc_array, bool] | None:
    """``coverage`` as CSC (the caller's arrays when already canonical CSC) and whether it is binary."""
    try:
        if sp.issparse(coverage) and coverage.format == "csc":
            mat = sp.csc_array(coverage)  # shares the caller's arrays
        else:
            mat = sp.csc_array(coverage)
            mat.sum_duplicates()
    except (TypeError, ValueError) as exc:
        problems.append(Problem("coverage", None, f"cannot be read as a sparse matrix ({exc})", _COVERAGE_FIX))
        return None
    if mat.ndim != 2:
        problems.append(Problem("coverage", None, f"must be 2-D, got {mat.ndim}-D", _COVERAGE_FIX))
        return None
    if not mat.has_canonical_format:
        mat = mat.copy()
        mat.sum_duplicates()
    data = mat.data
    kind = data.dtype.kind
    if kind not in "biuf":
        problems.append(Problem("coverage", None, f"has entries of dtype {data.dtype}", _COVERAGE_FIX))
        return None
    if kind == "f" and not np.all(np.isfinite(data)):
        problems.append(Problem("coverage", None, "has non-finite entries", _COVERAGE_FIX))
        return None
    if kind in "if" and np.any(data < 0):
        problems.append(Problem("coverage", None, "has negative entries",
                                "use 1 (or the covered share) where a candidate covers a demand cell, no entry elsewhere"))
        return None
    if kind == "f" and np.any(data > 1):
        problems.append(Problem("coverage", None, f"has shares above 1 (max {float(data.max()):.6g})",
                                "floating entries are covered shares of a cell in (0, 1]; pass bool or integer "
                                "entries for plain covers-or-not"))
        return None
    if (not data.all()) if kind == "b" else bool(np.any(data == 0)):
        mat = mat.copy()
        mat.eliminate_zeros()
        data = mat.data
    binary = kind != "f" or bool(np.all(data == 1))
    if binary:
        if kind == "b":
            values = data.view(np.uint8)
        elif data.dtype == np.uint8 and bool(np.all(data == 1)):
            values = data
        else:
            values = np.ones(data.shape[0], dtype=np.uint8)
    else:
        values = data.astype(np.float64, copy=False)
    out = sp.csc_array((values, mat.indices, mat.indptr), shape=mat.shape, copy=False)
    out.has_sorted_indices = True
    return out, binary


def _room(covered0: Any, n: int, problems: list[Problem]) -> NDArray[np.float64] | None:
    """``1 - s0`` from a boolean mask or shares in [0, 1]."""
    if covered0 is None:
        return np.ones(n)
    arr = np.asarray(covered0)
    if arr.shape != (n,):
        problems.append(Problem("demand", "covered0", f"has shape {arr.shape}, expected ({n},): one value per "
                                "demand cell (coverage row)", "pass one value per demand cell, in the coverage "
                                "matrix's order"))
        return None
    if arr.dtype == np.bool_:
        return np.where(arr, 0.0, 1.0)
    if not np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.complexfloating):
        problems.append(Problem("demand", "covered0", f"has dtype {arr.dtype}, expected bool or shares",
                                "pass a boolean mask of covered cells or the covered share of each cell in [0, 1]"))
        return None
    share = arr.astype(np.float64)
    if not np.all(np.isfinite(share)) or np.any(share < 0) or np.any(share > 1):
        problems.append(Problem("demand", "covered0", "has shares outside [0, 1] or non-finite values",
                                "pass the covered share of each cell in [0, 1] (or a boolean mask)"))
        return None
    return 1.0 - share


def _vector(value: Any, n: int, *, layer: str, field: str, what: str, problems: list[Problem],
            dtype: type = np.float64, nonneg: bool = False) -> NDArray[Any] | None:
    arr = np.asarray(value)
    if arr.shape != (n,):
        problems.append(Problem(layer, field, f"has shape {arr.shape}, expected ({n},): one value per {what}",
                                f"pass one value per {what}, in the coverage matrix's order"))
        return None
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
    read = _coverage(coverage, problems)
    if read is None:
        raise ValidationError(problems)
    mat, binary = read
    n_rows, n_cols = (int(s) for s in mat.shape)

    w = _vector(weights, n_rows, layer="demand", field="weights", what="demand cell (coverage row)",
                problems=problems, nonneg=True)
    room = _room(covered0, n_rows, problems)
    sec = (np.zeros(n_cols) if secondary is None else
           _vector(secondary, n_cols, layer="candidates", field="secondary", what="candidate site (coverage column)",
                   problems=problems))
    p_int = _budget(p, problems)
    fx = _fixed(fixed, n_cols, problems)
    g, has_groups, n_groups, lo, hi = _group_bounds(groups, min_per_group, max_per_group, n_cols, problems)
    if problems:
        raise ValidationError(problems)
    assert w is not None and room is not None and sec is not None and g is not None

    lower, upper, conflicts = _feasibility(g, fx, lo, hi, n_groups=n_groups, n_cols=n_cols, p=p_int)
    if conflicts:
        raise InfeasibleError("The placement cannot be met:\n- " + "\n- ".join(conflicts))

    return Instance(coverage=mat, binary=binary, weights=w, room=room, covered0=room <= 0, groups=g,
                    n_groups=n_groups, has_groups=has_groups, lower=lower, upper=upper, fixed=fx,
                    p=p_int if p_int is not None else -1, secondary=sec)


def _budget(p: int | None, problems: list[Problem]) -> int | None:
    """The number of new sites as an int, or None (no budget, or a bad one reported in ``problems``)."""
    if p is None:
        return None
    try:
        p_int = operator.index(p)
    except TypeError:
        problems.append(Problem("placement", "p", f"must be an integer number of sites, got {p!r}",
                                "pass a whole number, e.g. p=7000"))
        return None
    if p_int < 0:
        problems.append(Problem("placement", "p", f"must be >= 0, got {p_int}", "pass a number of sites >= 0"))
        return None
    return p_int


def _fixed(fixed: ArrayLike | None, n_cols: int, problems: list[Problem]) -> NDArray[np.int64]:
    """Column indices of the sites fixed into the plan (checked for type, range and repeats)."""
    fx = np.zeros(0, dtype=np.int64)
    if fixed is None:
        return fx
    arr = np.asarray(fixed).reshape(-1)
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        problems.append(Problem("candidates", "fixed", f"has dtype {arr.dtype}, expected column indices",
                                "pass integer column indices of the coverage matrix"))
        return fx
    fx = arr.astype(np.int64)
    out = fx[(fx < 0) | (fx >= n_cols)]
    if out.size:
        problems.append(Problem("candidates", "fixed", f"indices {out[:5].tolist()} are outside 0..{n_cols - 1}",
                                "pass column indices of the coverage matrix"))
    elif np.unique(fx).size != fx.size:
        vals, cnt = np.unique(fx, return_counts=True)
        problems.append(Problem("candidates", "fixed", f"repeats indices {vals[cnt > 1][:5].tolist()}",
                                "list each fixed site once"))
    return fx


def _group_bounds(groups: ArrayLike | None, min_per_group: ArrayLike | None, max_per_group: ArrayLike | None,
                  n_cols: int, problems: list[Problem],
                  ) -> tuple[NDArray[np.int64] | None, bool, int, NDArray[np.int64], NDArray[np.int64]]:
    """Group code of every column, whether groups were given, their number and the per-group quotas."""
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
    return g, has_groups, n_groups, lo, hi


def _feasibility(g: NDArray[np.int64], fx: NDArray[np.int64], lo: NDArray[np.int64], hi: NDArray[np.int64], *,
                 n_groups: int, n_cols: int, p: int | None,
                 ) -> tuple[NDArray[np.int64], NDArray[np.int64], list[str]]:
    """Effective per-group bounds and every conflict between the budget, the quotas and the fixed sites.

    The groups partition the candidates, so any count between each group's lower and
    upper bound is reachable; ``p`` must lie between their sums.
    """
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
    if p is not None:
        if p > n_cols:
            conflicts.append(f"p = {p} new sites but there are only {n_cols} candidate sites: "
                             "generate more candidates or lower p")
        if p < fx.size:
            conflicts.append(f"p = {p} is below the {fx.size} fixed sites: raise p or unfix sites")
        if p < int(lower.sum()) and int(lower.sum()) > fx.size:
            conflicts.append(f"p = {p} is below the {int(lower.sum())} sites the group minimums (and fixed "
                             "sites) need: raise p or lower the minimums")
        if p > int(upper.sum()) and p <= n_cols:
            conflicts.append(f"p = {p} exceeds the {int(upper.sum())} sites the group maximums allow: "
                             "raise the maximums or lower p")
    return lower, upper, conflicts
