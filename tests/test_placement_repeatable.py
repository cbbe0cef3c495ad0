"""Repeatable plans: the heuristics stop on work, not on the clock, so load cannot change a plan.

A *slow clock* stands in for a loaded machine: every reading of ``perf_counter`` in the placement
modules is a quarter of a second later than the one before, so a wall-clock budget runs out after a
few dozen readings. A plan made under it must equal, bit for bit, the plan made with the real
clock. The wall-clock cap is switched off for these comparisons (it is the safety net the clock
may pull, and then the result says so: the last tests); the HiGHS runner keeps the real clock.
"""

from __future__ import annotations

import importlib
import math
import sys
import threading
import time
import types
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from scipy.spatial import cKDTree

import geoplan as gp
from geoplan.errors import ValidationError
from geoplan.placement import exact_mclp, greedy_mclp, lagrangian_mclp, local_search_mclp, place_sites
from tests.conftest import tiny_plan
from tests.test_province import synthetic_layers

#: Seconds a slow-clock reading runs ahead of the one before.
STEP_S = 0.25


class SlowClock:
    """``perf_counter`` of a machine so loaded that each reading is ``step`` seconds after the last."""

    def __init__(self, step: float) -> None:
        self.step, self.calls, self.lock, self.real = step, 0, threading.Lock(), time.perf_counter

    def __call__(self) -> float:
        with self.lock:
            self.calls += 1
            return self.real() + self.calls * self.step


def slow_down(monkeypatch: pytest.MonkeyPatch, *, step: float = STEP_S, cap: bool = False) -> SlowClock:
    """Give every placement module but the HiGHS runner the slow clock; without ``cap``, no wall-clock cap."""
    clock = SlowClock(step)
    slow_time = types.SimpleNamespace(**{k: getattr(time, k) for k in dir(time) if not k.startswith("_")})
    slow_time.perf_counter = clock
    for name, module in list(sys.modules.items()):
        if not name.startswith("geoplan.placement") or name.endswith("_highs"):
            continue
        if getattr(module, "perf_counter", None) is time.perf_counter:
            monkeypatch.setattr(module, "perf_counter", clock)
        if getattr(module, "time", None) is time:
            monkeypatch.setattr(module, "time", slow_time)
    if not cap:
        try:
            work = importlib.import_module("geoplan.placement._work")
        except ModuleNotFoundError:  # before work budgets: nothing to switch off
            return clock
        monkeypatch.setattr(work, "MIN_CAP_S", math.inf)
    return clock


def hard_instance(seed: int = 5, n: int = 900, m: int = 220, radius: float = 900.0):
    """Demand points and candidates in a 10 km square, one radius: coverage far from saturated."""
    rng = np.random.default_rng(seed)
    demand, cand = rng.uniform(0, 10_000, (n, 2)), rng.uniform(0, 10_000, (m, 2))
    pairs = cKDTree(cand).query_ball_point(demand, radius)
    rows = np.repeat(np.arange(n), [len(p) for p in pairs])
    cols = np.concatenate([np.asarray(p, dtype=np.int64) for p in pairs])
    A = sp.csc_array((np.ones(rows.size, dtype=bool), (rows, cols)), shape=(n, m))
    return A, rng.lognormal(3.0, 1.0, n)


def same(a, b) -> None:
    """The same plan, objective, bound and swaps, bit for bit."""
    assert a.selected.tolist() == b.selected.tolist()
    assert (a.objective, a.bound, a.bound_source, a.swaps) == (b.objective, b.bound, b.bound_source, b.swaps)


@pytest.mark.parametrize("options", [{}, {"kicks": True}, {"groups": np.arange(220) % 4,
                                                           "min_per_group": [5, 5, 5, 5]}])
def test_greedy_makes_the_same_plan_on_a_slow_clock(monkeypatch, options):
    A, w = hard_instance()
    normal = greedy_mclp(A, w, p=30, **options)
    assert normal.swaps > 0 and normal.bound_source == "lagrangian"
    with monkeypatch.context() as mp:
        clock = slow_down(mp)
        slow = greedy_mclp(A, w, p=30, **options)
    same(slow, normal)
    assert clock.calls * STEP_S > 10  # the slow clock ran well past the old 10 s budget
    assert slow.work == normal.work > 0 and not slow.time_capped and slow.notes == ()


def test_exact_makes_the_same_plan_on_a_slow_clock(monkeypatch):
    """Warm start, Lagrangian step and kicks stop on work; HiGHS (real clock) then proves the same way."""
    A, w = hard_instance(seed=11, n=700, m=160)
    normal = exact_mclp(A, w, p=20)
    with monkeypatch.context() as mp:
        slow_down(mp)
        slow = exact_mclp(A, w, p=20)
    same(slow, normal)
    assert slow.status == normal.status
    assert slow.work == normal.work > 0


def test_lagrangian_and_local_search_make_the_same_plans_on_a_slow_clock(monkeypatch):
    A, w = hard_instance(seed=3)
    start = greedy_mclp(A, w, p=25, local_search=False, bound="submodular").selected
    normal = (lagrangian_mclp(A, w, p=25), local_search_mclp(A, w, start=start))
    with monkeypatch.context() as mp:
        slow_down(mp)
        slow = (lagrangian_mclp(A, w, p=25), local_search_mclp(A, w, start=start))
    for a, b in zip(slow, normal, strict=True):
        assert a.selected.tolist() == b.selected.tolist() and a.objective == b.objective
        assert a.work == b.work > 0


def synthetic_project() -> gp.Project:
    districts, raster, sites = synthetic_layers()
    return gp.project_from_layers(districts=districts, population=raster, layers={"sites": sites},
                                  plan=tiny_plan(), name="synthetic", metric_crs="EPSG:4548")


def test_county_engine_makes_the_same_plan_on_a_slow_clock(monkeypatch):
    proj = synthetic_project()  # 60 stations: 12 new ones, far from saturating coverage, so every district searches
    normal = place_sites(proj, engine="chunked", total=60, seed=3)
    assert normal.summary.gap > 0
    with monkeypatch.context() as mp:
        slow_down(mp)
        slow = place_sites(proj, engine="chunked", total=60, seed=3)
    pd.testing.assert_frame_equal(slow.sites, normal.sites)
    pd.testing.assert_frame_equal(slow.districts, normal.districts)
    assert (slow.summary.objective, slow.summary.gap) == (normal.summary.objective, normal.summary.gap)
    assert slow.placement.work == normal.placement.work > 0
    assert slow.summary.notes == normal.summary.notes == ()


def test_a_time_cap_that_strikes_is_reported(monkeypatch):
    A, w = hard_instance()
    res = greedy_mclp(A, w, p=30, time_cap_s=1e-9)
    assert res.time_capped and "time cap" in res.notes[0] and "differ between runs" in res.notes[0]
    assert not greedy_mclp(A, w, p=30).time_capped
    with monkeypatch.context() as mp:  # the default cap on a clock 5 s a reading: even the county engine says so
        slow_down(mp, step=5.0, cap=True)
        plan = place_sites(synthetic_project(), engine="chunked", total=60, seed=3)
    assert plan.placement.time_capped
    assert plan.summary.notes and "may differ between runs" in plan.summary.notes[0] and "districts:" in \
        plan.summary.notes[0]


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"work_budget": -1}, "work_budget"), ({"work_budget": 2.5}, "work_budget"),
    ({"work_budget": True}, "work_budget"), ({"time_cap_s": 0}, "time_cap_s"),
    ({"time_cap_s": float("nan")}, "time_cap_s"), ({"time_cap_s": "10"}, "time_cap_s"),
])
def test_bad_budgets_are_refused_with_a_fix(kwargs, field):
    A, w = hard_instance()
    for solve in (greedy_mclp, lagrangian_mclp):
        with pytest.raises(ValidationError) as err:
            solve(A, w, p=5, **kwargs)
        assert err.value.problems[0].field == field and err.value.problems[0].fix


def test_time_budget_s_is_deprecated_and_read_as_reference_seconds():
    A, w = hard_instance()
    from geoplan.placement._work import WORK_PER_SECOND

    with pytest.warns(DeprecationWarning, match="work_budget"):
        old = greedy_mclp(A, w, p=30, time_budget_s=0.01)
    new = greedy_mclp(A, w, p=30, work_budget=int(0.01 * WORK_PER_SECOND))
    same(old, new)
    with warnings.catch_warnings(), pytest.raises(ValidationError, match="time_budget_s"):
        warnings.simplefilter("ignore", DeprecationWarning)
        greedy_mclp(A, w, p=30, time_budget_s=1.0, work_budget=10)
    start = plain_start = greedy_mclp(A, w, p=30, local_search=False, bound="submodular").selected
    with pytest.warns(DeprecationWarning, match="local_search_mclp.*work_budget"):
        old_ls = local_search_mclp(A, w, start=start, time_budget_s=0.01)
    assert old_ls.work == local_search_mclp(A, w, start=plain_start, work_budget=int(0.01 * WORK_PER_SECOND)).work
    with pytest.warns(DeprecationWarning, match="lagrangian_mclp"):
        lagrangian_mclp(A, w, p=30, time_budget_s=0.01)


def test_cancel_stops_the_heuristics_and_says_so():
    """A cancel ends work-bound steps at once (they no longer end on the clock): greedy and exact."""
    A, w = hard_instance()
    res = greedy_mclp(A, w, p=30, cancel=lambda: True)
    plain = greedy_mclp(A, w, p=30, local_search=False, bound="submodular")
    assert res.selected.tolist() == plain.selected.tolist() and res.work == 0
    assert not res.time_capped and "cancelled" in res.notes[0]
    ex = exact_mclp(A, w, p=30, cancel=lambda: True)
    assert ex.status == "cancelled" and len(ex) == 30 and ex.gap is not None and math.isfinite(ex.gap)
