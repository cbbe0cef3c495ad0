"""Work budgets: the placement heuristics stop after a counted amount of work, not on the clock.

A bureau must get the same plan from the same inputs on any machine at any
load, so no decision of a heuristic may depend on how long something took.
Swap local search, kick-and-swap search and the Lagrangian relaxation
therefore *charge* work units for what they do and stop when their budget is
spent. A unit is one stored entry of a sparse matrix read or written (the
coverage matrix, the Lagrangian's demand patterns, the recapture matrix of
local search) or one element of a per-site or per-row vector swept; each
heuristic counts the entries its steps touch, from the sizes of the arrays
involved, so the same inputs and budget give the same count at the same
points, hence the same plan, bit for bit.

The units are scaled so that one unit costs about the same time in each
heuristic, and :data:`WORK_PER_SECOND` is how many units one second buys on
the reference machine (the project's 2-core build machine, see its
calibration comment), so a budget can be read as "about that many seconds
there". A slower or busier machine takes longer for the same plan.

A wall-clock *cap* stays as a safety net against a pathologically slow
machine: when it, and not the work budget, stops a heuristic, the
:class:`Work` records it (``capped``) and the result says so
(:data:`CAPPED_NOTE`): that plan may differ between runs.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from time import perf_counter

from ..errors import Problem, ValidationError

__all__ = ["Work", "WORK_PER_SECOND", "CAP_FACTOR", "MIN_CAP_S", "CAPPED_NOTE", "CANCELLED_NOTE", "seconds_of_work",
           "check_budget", "default_cap_s", "deprecated_time_budget"]

#: Work units one second buys on the reference machine: measured 2026-11-28 01:32 on the 2-core build machine
#: (load average 2.1-2.3 from other jobs) with benchmarks/calibrate_work.py on family rows 1-4 and 6, two runs:
#: 44-119 M units/s over all rows and heuristics, medians 78 M and 63 M; local search 46-93 M, the Lagrangian
#: 44-119 M, kick search 45-83 M. Unloaded the machine is at the upper end, so a budget of
#: ``s * WORK_PER_SECOND`` costs about ``s`` seconds there, more under load.
WORK_PER_SECOND = 70_000_000
#: The default wall-clock cap is this many times the seconds the work budget takes on the reference machine
#: (at least :data:`MIN_CAP_S`): a machine ten times slower than that one still gets a repeatable plan.
CAP_FACTOR = 10.0
MIN_CAP_S = 5.0
#: What a result says when the wall-clock cap, not the work budget, stopped a heuristic.
CAPPED_NOTE = ("stopped by the time cap before its work budget was spent: the plan may differ between runs "
               "(a larger time cap, or a smaller work budget, gives a repeatable plan)")
#: What a result says when the caller cancelled the heuristics.
CANCELLED_NOTE = "cancelled before its work budget was spent: the plan so far, which may differ between runs"


class Work:
    """A work budget (units, see the module notes) with a wall-clock cap; parts of it for sub-steps.

    Parameters
    ----------
    limit : float
        Work units allowed (``math.inf``: no limit but the cap and the heuristic's own stopping rules).
    cap : float
        A :func:`time.perf_counter` value after which work stops anyway (``math.inf``: no cap).
    parent : Work, optional
        The budget this one is a part of: units charged here count there too,
        and this part ends when the parent's budget is spent.
    cancel : callable, optional
        Polled with the clock: when it returns true the work stops (``cancelled``).
        Parts inherit it.
    """

    def __init__(self, limit: float, *, cap: float = math.inf, parent: Work | None = None,
                 cancel: Callable[[], bool] | None = None) -> None:
        self.limit = float(limit)
        self.cap = float(cap)
        self.parent = parent
        self.cancel: Callable[[], bool] | None = cancel if cancel is not None or parent is None else parent.cancel
        self.used = 0
        self.capped = False
        self.cancelled = False

    @classmethod
    def unlimited(cls) -> Work:
        """No budget and no cap: the heuristic runs until its own stopping rule."""
        return cls(math.inf)

    def charge(self, units: int) -> None:
        """Count ``units`` of work here and in every budget this is a part of."""
        w: Work | None = self
        while w is not None:
            w.used += int(units)
            w = w.parent

    @property
    def left(self) -> float:
        """Units left: the least left here and in the budgets this is a part of."""
        left = math.inf
        w: Work | None = self
        while w is not None:
            left = min(left, w.limit - w.used)
            w = w.parent
        return max(left, 0.0)

    def spent(self) -> bool:
        """Whether to stop: the work budget is spent, or the clock passed the cap (then ``capped`` is set)
        or the caller cancelled (``cancelled``)."""
        if self.left <= 0:
            return True
        capped = perf_counter() >= self.cap
        cancelled = not capped and self.cancel is not None and self.cancel()
        w: Work | None = self
        while (capped or cancelled) and w is not None:
            w.capped |= capped
            w.cancelled |= cancelled
            w = w.parent
        return capped or cancelled

    def part(self, share: float) -> Work:
        """A budget of ``share`` of the units left here, with the same cap (and cancel)."""
        return Work(share * self.left, cap=self.cap, parent=self)

    @property
    def notes(self) -> tuple[str, ...]:
        """:data:`CAPPED_NOTE` when the cap stopped some work, :data:`CANCELLED_NOTE` when the caller did."""
        return ((CAPPED_NOTE,) if self.capped else ()) + ((CANCELLED_NOTE,) if self.cancelled else ())


def seconds_of_work(units: float) -> float:
    """Seconds ``units`` of work take on the reference machine, unloaded."""
    return float(units) / WORK_PER_SECOND


def default_cap_s(units: float) -> float:
    """The default wall-clock cap of a work budget: :data:`CAP_FACTOR` times its reference seconds."""
    return max(CAP_FACTOR * seconds_of_work(units), MIN_CAP_S)


def check_budget(work_budget: object, time_cap_s: object, *, default_units: float, time_budget_s: object = None,
                 solver: str = "placement") -> tuple[float, float]:
    """``(units, cap seconds)`` after checking ``work_budget`` and ``time_cap_s`` (``None``: the defaults).

    A deprecated ``time_budget_s`` of ``solver`` stands for ``work_budget`` (:func:`deprecated_time_budget`).

    Raises
    ------
    ValidationError
        A budget that is not a whole number >= 0, or a cap that is not a number of seconds > 0; a bad or doubled
        ``time_budget_s``.
    """
    work_budget = deprecated_time_budget(time_budget_s, work_budget, solver=solver, stacklevel=4)
    problems = []
    units: float = default_units
    if work_budget is not None:
        if isinstance(work_budget, bool) or not isinstance(work_budget, int) or work_budget < 0:
            problems.append(Problem("placement", "work_budget", f"must be a whole number of work units >= 0, got "
                                    f"{work_budget!r}", f"pass e.g. work_budget={int(default_units):_} (about "
                                    f"{seconds_of_work(default_units):g} s on the reference machine) or leave it out"))
        else:
            units = float(work_budget)
    cap: float = default_cap_s(units)
    if time_cap_s is not None:
        if isinstance(time_cap_s, bool) or not isinstance(time_cap_s, int | float) or math.isnan(time_cap_s) \
                or time_cap_s <= 0:
            problems.append(Problem("placement", "time_cap_s", f"must be a number of seconds > 0 (math.inf: no "
                                    f"cap), got {time_cap_s!r}", "pass e.g. time_cap_s=120, or leave it out"))
        else:
            cap = float(time_cap_s)
    if problems:
        raise ValidationError(problems)
    return units, cap


def deprecated_time_budget(time_budget_s: object, work_budget: object, *, solver: str,
                           stacklevel: int = 3) -> object:
    """``work_budget``, or a deprecated ``time_budget_s`` read as seconds on the reference machine (with a warning).

    Raises
    ------
    ValidationError
        A ``time_budget_s`` that is not a number of seconds >= 0, or one given together with ``work_budget``.
    """
    if time_budget_s is None:
        return work_budget
    warnings.warn(f"{solver}(time_budget_s=) is deprecated: the heuristics now stop on a work budget so that a plan "
                  f"does not depend on the machine's load; pass work_budget= (units, about {WORK_PER_SECOND:_} a "
                  "second on the reference machine) and time_cap_s= (a wall-clock safety cap)", DeprecationWarning,
                  stacklevel=stacklevel)
    if isinstance(time_budget_s, bool) or not isinstance(time_budget_s, int | float) or not time_budget_s >= 0 \
            or not math.isfinite(time_budget_s):
        raise ValidationError(Problem("placement", "time_budget_s", f"must be a number of seconds >= 0, got "
                                      f"{time_budget_s!r}", "pass work_budget= instead (time_budget_s is deprecated)"))
    if work_budget is not None:
        raise ValidationError(Problem("placement", "time_budget_s", "given together with work_budget",
                                      "pass only work_budget (time_budget_s is deprecated)"))
    return int(round(time_budget_s * WORK_PER_SECOND))
