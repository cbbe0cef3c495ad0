"""The placement result, the covered weight of a plan, and the bounds on the optimum.

:func:`make_result` turns a chosen set of sites into the immutable
:class:`PlacementResult` every maximal-covering solver returns, with the
objective recomputed from scratch the same way for all, and the gap taken to
the best upper bound on the optimum known: the tightest of

- ``"coverable"``: the weight any candidate can reach at all (all candidates built);
- ``"submodular"``: the plan's weight plus the largest single-site gains still
  on offer (Minoux 1978), valid because coverage is submodular;
- ``"lagrangian"``: a Lagrangian relaxation of the covering constraints
  (:mod:`~geoplan.placement.lagrangian`);
- ``"highs"``: HiGHS's dual bound of the mixed-integer programme (LP relaxation,
  cuts and branching; :mod:`~geoplan.placement.exact`).

Each is a proven upper bound on the optimum, so the reported gap is never
smaller than the true gap to the optimum.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from time import perf_counter

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._instance import Instance, check_problem, column_positions, sums_by
from ._work import Work

__all__ = ["PlacementResult", "Instance", "check_problem", "coverage_totals", "covered_weight", "site_gains",
           "coverable_weight", "top_gains_bound", "cheap_bound", "relative_gap", "make_result"]

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())

#: Status values a :class:`PlacementResult` can carry.
STATUSES = ("optimal", "time_limit", "feasible", "cancelled", "greedy", "heuristic")


@dataclass(frozen=True, eq=False)
class PlacementResult:
    """Sites chosen by a placement solver.

    Attributes
    ----------
    selected : ndarray of int
        Column indices of the coverage matrix (candidate sites) chosen. Greedy
        (and greedy + local search): fixed sites first, then the others in
        greedy order of their gain within the plan (each covers the most not
        yet covered by those before it), so any prefix is a sensible smaller
        plan; greedy set cover: in the order chosen; exact and Lagrangian:
        fixed sites first, then ascending.
    objective : float
        Demand weight (e.g. persons) newly covered: for each demand row its
        weight times the share the chosen sites add to what existing sites
        cover (1 or 0 for binary coverage).
    covered_share : float
        Share of the total demand weight covered after placement, existing
        coverage included (1.0 when the total weight is 0).
    method : str
        ``"greedy"`` (with local search unless switched off), ``"greedy_set_cover"``,
        ``"lagrangian"`` or ``"exact"``.
    status : str
        ``"optimal"`` (optimality proven within the requested gap),
        ``"time_limit"`` (best solution found when the time limit struck),
        ``"feasible"`` (a solution without proof for another reason),
        ``"cancelled"`` (stopped by the caller; the best solution so far),
        ``"greedy"`` or ``"heuristic"`` (a heuristic answer; see ``gap``).
    gap : float or None
        Relative gap ``(bound - objective) / objective`` to ``bound``, a proven
        upper bound on the optimum (``inf`` when the objective is 0 and the
        bound is not). Never smaller than the true gap to the optimum.
        ``None`` for ``greedy_set_cover``.
    runtime_s : float
        Wall-clock seconds, checks and model building included.
    per_group : ndarray of int or None
        Number of chosen sites in each group (district); ``None`` without groups.
    bound : float or None
        The upper bound behind ``gap``: the tightest of those the solver knew
        (see ``bound_source``). ``None`` for ``greedy_set_cover``.
    bound_source : str or None
        Where ``bound`` comes from: ``"coverable"``, ``"submodular"``,
        ``"lagrangian"`` or ``"highs"`` (see the module notes).
    swaps : int
        Improving swaps local search made from the greedy plan (0 without it).
    stages : tuple of (str, float)
        Wall-clock seconds of the solver's stages, in order: ``"check"``
        (input checks), ``"greedy"``, ``"local_search"``, ``"lagrangian"``
        (subgradient search and polishing), ``"start"`` (exact: the warm
        start), ``"model"`` (exact: patterns, reduced-cost fixing and the MIP
        arrays) and ``"highs"`` (exact: the HiGHS run); only those that ran.
    work : int
        Work units the heuristics spent (local search, Lagrangian, kicks;
        :mod:`~geoplan.placement._work`): the same for the same inputs on any
        machine, unless ``time_capped``.
    time_capped : bool
        Whether a wall-clock cap, and not the work budget, stopped a heuristic
        (or, for exact, HiGHS stopped at its time limit): the plan may then
        differ between runs and machines. ``notes`` says so in words.
    notes : tuple of str
        What a user should know about how the plan was reached (e.g. that it
        is not repeatable because the time cap stopped it).
    """

    selected: NDArray[np.int64]
    objective: float
    covered_share: float
    method: str
    status: str
    gap: float | None
    runtime_s: float
    per_group: NDArray[np.int64] | None
    bound: float | None = None
    bound_source: str | None = None
    swaps: int = 0
    stages: tuple[tuple[str, float], ...] = ()
    work: int = 0
    time_capped: bool = False
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {self.status!r}")
        self.selected.setflags(write=False)
        if self.per_group is not None:
            self.per_group.setflags(write=False)

    def __len__(self) -> int:
        return int(self.selected.shape[0])


def coverage_totals(inst: Instance, selected: ArrayLike) -> NDArray[np.float64]:
    """``sum_j a_ij`` over the ``selected`` columns, per row (a count for binary coverage)."""
    A = inst.coverage
    sel = np.asarray(selected, dtype=np.int64).reshape(-1)
    pos = column_positions(A.indptr, sel)
    rows = A.indices[pos]
    if inst.binary:
        return sums_by(rows, None, inst.n_rows)
    return sums_by(rows, A.data[pos], inst.n_rows)


def covered_weight(inst: Instance, totals: NDArray[np.float64], rows: NDArray[np.int64] | None = None) -> float:
    """Weight newly covered by a plan whose rows receive ``totals``: ``sum_i w_i min(room_i, totals_i)``.

    With ``rows``, the part of it on those rows only (``totals`` then has one value per row in ``rows``).
    """
    if rows is None:
        if inst.binary:
            return float(inst.live_weights[totals > 0].sum())
        return float(inst.weights @ np.minimum(inst.room, totals))
    if inst.binary:
        return float(inst.live_weights[rows][totals > 0].sum())
    return float(inst.weights[rows] @ np.minimum(inst.room[rows], totals))


def site_gains(inst: Instance, totals: NDArray[np.float64]) -> NDArray[np.float64]:
    """Weight each candidate would add to a plan whose rows receive ``totals``."""
    A = inst.coverage
    if inst.binary:
        return np.asarray(A.T @ np.where(totals > 0, 0.0, inst.live_weights), dtype=np.float64)
    left = np.maximum(inst.room - totals, 0.0)
    per_entry = np.minimum(A.data, left[A.indices]) * inst.weights[A.indices]
    return sums_by(inst.entry_cols, per_entry, inst.n_cols)


def coverable_weight(inst: Instance) -> float:
    """Weight newly covered if every candidate were built: a bound on any plan."""
    A = inst.coverage
    if inst.binary:
        reach = sums_by(A.indices, None, inst.n_rows)
    else:
        reach = sums_by(A.indices, A.data, inst.n_rows)
    return covered_weight(inst, reach)


def top_gains_bound(inst: Instance, totals: NDArray[np.float64], *, base: float, k: int) -> float:
    """Upper bound on the optimum from a plan of weight ``base`` whose rows receive ``totals``.

    Coverage is submodular, so any plan of ``k`` sites beyond the fixed ones
    covers at most ``base`` plus the ``k`` largest gains single sites offer
    on top of this plan (Minoux 1978).
    """
    gains = site_gains(inst, totals)
    k = min(max(k, 0), gains.size)
    return base + (float(np.sort(gains)[gains.size - k:].sum()) if k else 0.0)


def cheap_bound(inst: Instance, selected: ArrayLike) -> tuple[float, float]:
    """The objective of ``selected`` and the tighter of the coverable and submodular bounds behind it."""
    totals = coverage_totals(inst, selected)
    value = covered_weight(inst, totals)
    k = max(inst.p, np.asarray(selected).size) - inst.fixed.size
    return value, min(coverable_weight(inst), top_gains_bound(inst, totals, base=value, k=k))


def relative_gap(objective: float, bound: float) -> float:
    """``(bound - objective) / objective``, 0 when both are 0, ``inf`` when only the objective is."""
    diff = max(bound - objective, 0.0)
    if objective > 0:
        return diff / objective
    return 0.0 if diff <= 1e-9 else float("inf")


def make_result(inst: Instance, selected: ArrayLike, *, method: str, status: str, started: float,
                bounds: Mapping[str, float] | None = None, swaps: int = 0,
                stages: Mapping[str, float] | None = None, work: Work | None = None) -> PlacementResult:
    """Build the :class:`PlacementResult` of ``selected`` (objective recomputed from scratch).

    ``started`` is the :func:`time.perf_counter` value at the solver's start.
    With ``bounds`` (upper bounds on the optimum by source; may be empty), the
    gap is taken to the smallest of them, :func:`top_gains_bound` of
    ``selected`` and :func:`coverable_weight`; with ``bounds=None``, no gap.
    ``work``: the budget the heuristics ran on (units spent, and whether its
    time cap stopped them).
    """
    sel = np.asarray(selected, dtype=np.int64).reshape(-1)
    totals = coverage_totals(inst, sel)
    objective = covered_weight(inst, totals)
    total = float(inst.weights.sum())
    before = float(inst.weights @ (1.0 - inst.room))
    share = (before + objective) / total if total > 0 else 1.0
    per_group = np.bincount(inst.groups[sel], minlength=inst.n_groups).astype(np.int64) if inst.has_groups else None
    gap = bound = source = None
    if bounds is not None:
        known = {k: float(v) for k, v in bounds.items() if v is not None and not math.isnan(v)}
        after = top_gains_bound(inst, totals, base=objective, k=max(inst.p, sel.size) - inst.fixed.size)
        known["submodular"] = min(known.get("submodular", math.inf), after)
        known["coverable"] = coverable_weight(inst)
        source = min(known, key=lambda k: known[k])
        bound = max(known[source], objective)  # a bound a hair below the objective is rounding: clamp
        gap = relative_gap(objective, bound)
    runtime = perf_counter() - started
    log.info("%s: %d sites, %.0f newly covered (%.2f%% covered), status %s, gap %s (%s), %.2f s",
             method, sel.size, objective, 100 * share, status, "-" if gap is None else f"{gap:.3%}", source, runtime)
    return PlacementResult(selected=sel, objective=objective, covered_share=share, method=method, status=status,
                           gap=gap, runtime_s=runtime, per_group=per_group, bound=bound, bound_source=source,
                           swaps=swaps, stages=tuple((k, float(v)) for k, v in (stages or {}).items()),
                           work=0 if work is None else int(work.used), time_capped=work is not None and work.capped,
                           notes=() if work is None else work.notes)
