"""A placement run in the background: live progress, a cancel, and what its result means.

The map app starts an optimisation (greedy, or exact with HiGHS) without
freezing: :class:`Run` executes it in a thread, records each
``progress(fraction, message)`` report (the exact solver reports its best plan,
bound and gap as it goes) and passes a ``cancel()`` the solver polls. When an
exact plan covers fewer residents than the quick estimate,
:func:`why_less_than_estimate` says why in the planner's words.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from ._typing import Progress

__all__ = ["Run", "why_less_than_estimate"]


class Run:
    """``work(progress, cancel)`` running in a daemon thread.

    Examples
    --------
    >>> r = Run(lambda progress, cancel: (progress(0.5, "half"), 42)[1]).start()
    >>> r.wait(5).result, r.message, r.fraction
    (42, 'done', 1.0)
    """

    def __init__(self, work: Callable[[Progress, Callable[[], bool]], Any]) -> None:
        self._work = work
        self._cancel = threading.Event()
        self._done = threading.Event()
        self._lock = threading.Lock()
        self.fraction, self.message = 0.0, "starting"
        self.result: Any = None
        self.error: BaseException | None = None
        self.started = time.monotonic()
        self.finished: float | None = None

    def _progress(self, fraction: float, message: str) -> None:
        with self._lock:
            self.fraction, self.message = min(max(float(fraction), 0.0), 1.0), str(message)

    def _run(self) -> None:
        try:
            self.result = self._work(self._progress, self._cancel.is_set)
            self._progress(1.0, "done")
        except BaseException as exc:  # noqa: BLE001 - handed to the caller, who reports it
            self.error = exc
        finally:
            self.finished = time.monotonic()
            self._done.set()

    def start(self) -> Run:
        threading.Thread(target=self._run, daemon=True, name="geoplan-run").start()
        return self

    def cancel(self) -> None:
        """Ask the work to stop (the exact solver keeps its best plan so far)."""
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    @property
    def done(self) -> bool:
        return self._done.is_set()

    @property
    def elapsed_s(self) -> float:
        return (self.finished or time.monotonic()) - self.started

    def wait(self, timeout_s: float | None = None) -> Run:
        self._done.wait(timeout_s)
        return self


def why_less_than_estimate(*, status: str, gap: float | None, time_limit_s: float, total: int,
                           covered: float, estimate_covered: float, estimate_is_plan: bool) -> str | None:
    """Why an optimised plan covers less than the quick estimate (``None`` when it does not).

    ``estimate_is_plan`` is true when the estimate was itself the greedy plan for
    this total (every district quota met), false when it was a prefix of the order
    for a larger total.

    Examples
    --------
    >>> why_less_than_estimate(status="time_limit", gap=0.012, time_limit_s=30, total=15000, covered=0.875,
    ...                        estimate_covered=0.876, estimate_is_plan=False)
    'time_limit'
    """
    if covered >= estimate_covered - 1e-9:
        return None
    if status == "cancelled":
        return "cancelled"
    if status == "time_limit":
        return "time_limit"
    return "quotas" if not estimate_is_plan else "time_limit"
