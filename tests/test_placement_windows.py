"""Window search: windows of a plan re-solved exactly never break it, and find what swaps cannot."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.spatial import cKDTree

from geoplan.placement import exact_mclp, greedy_mclp
from geoplan.placement._instance import check_problem
from geoplan.placement._result import coverage_totals, covered_weight
from geoplan.placement._work import WORK_PER_SECOND, Work
from geoplan.placement.local_search import check_plan
from geoplan.placement.windows import _Plan, _sub_instance, window, window_search
from tests.test_placement_repeatable import same, slow_down


def _value(inst, plan) -> float:
    return covered_weight(inst, coverage_totals(inst, plan))


@st.composite
def problems(draw):
    """Small covering problems: binary or fractional, with covered shares, districts with quotas, fixed sites."""
    n, m = draw(st.integers(3, 14)), draw(st.integers(3, 9))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    dense = rng.random((n, m)) < draw(st.floats(0.15, 0.6))
    dense[0, :] = True  # one row every site covers: every window can reach every candidate
    fractional = draw(st.booleans())
    values = np.where(dense, rng.choice([0.25, 0.5, 1.0], size=(n, m)) if fractional else 1.0, 0.0)
    A = sp.csc_array(values if fractional else dense)
    w = rng.integers(0, 20, n).astype(float)
    covered0 = rng.choice([0.0, 0.5, 1.0], size=n) if fractional else rng.random(n) < 0.2
    p = draw(st.integers(1, m - 1))
    kw = {"covered0": covered0}
    if draw(st.booleans()):
        groups = rng.integers(0, 2, m)
        sizes = np.bincount(groups, minlength=2)
        lo = np.minimum(sizes, [draw(st.integers(0, 2)), 0])
        hi = np.maximum(lo, [m, draw(st.integers(1, m))])
        if lo.sum() <= p <= np.minimum(hi, sizes).sum():
            kw.update(groups=groups, min_per_group=lo, max_per_group=hi)
    if draw(st.booleans()):
        kw["fixed"] = [int(rng.integers(0, m))]
    return A, w, p, kw


def _brute_force(inst) -> float:
    free = np.setdiff1d(np.arange(inst.n_cols), inst.fixed)
    best = -np.inf
    for combo in itertools.combinations(free.tolist(), inst.p - inst.fixed.size):
        plan = np.r_[inst.fixed, combo].astype(np.int64)
        counts = np.bincount(inst.groups[plan], minlength=inst.n_groups)
        if np.all(counts >= inst.lower) and np.all(counts <= inst.upper):
            best = max(best, _value(inst, plan))
    return best


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(), st.integers(2, 10))
def test_window_search_keeps_the_plan_feasible_and_never_worse(problem, size):
    A, w, p, kw = problem
    try:
        inst = check_problem(A, w, p=p, **kw)
    except Exception:  # quotas and fixed sites drawn in conflict: not a window-search case
        return
    start = greedy_mclp(A, w, p=p, local_search=False, bound="submodular", **kw).selected
    plan, improved, solved = window_search(inst, start, work=Work.unlimited(), size=size, max_size=size)
    check_plan(inst, plan, field="plan")  # p sites, fixed ones kept, quotas met
    assert _value(inst, plan) >= _value(inst, start) - 1e-9
    assert improved <= solved
    # one window holding every candidate is the whole problem: window search is then exact
    whole, _, _ = window_search(inst, start, work=Work.unlimited(), size=inst.n_cols, max_size=inst.n_cols)
    assert _value(inst, whole) == pytest.approx(_brute_force(inst), rel=1e-9, abs=1e-9)


def grid_instance(k: int = 40, radius: float = 500.0, seed: int = 0):
    """Demand on a k x k grid of 100 m cells (a few smooth population peaks), candidates on a 300 m grid."""
    rng = np.random.default_rng(seed)
    g = (np.arange(k) + 0.5) * 100.0
    xy = np.array(np.meshgrid(g, g)).reshape(2, -1).T
    w = 1.0 + sum(rng.uniform(50, 200) * np.exp(-((xy - c) ** 2).sum(1) / (2 * rng.uniform(400, 1200) ** 2))
                  for c in rng.uniform(0, k * 100, (6, 2)))
    c = np.arange(150.0, k * 100, 300.0)
    cand = np.array(np.meshgrid(c, c)).reshape(2, -1).T
    pairs = cKDTree(cand).query_ball_point(xy, radius)
    rows = np.repeat(np.arange(len(xy)), [len(p) for p in pairs])
    cols = np.concatenate([np.asarray(p, dtype=np.int64) for p in pairs])
    return sp.csc_array((np.ones(rows.size, dtype=bool), (rows, cols)), shape=(len(xy), len(cand))), w


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(), st.integers(1, 9), st.integers(0, 2**32 - 1))
def test_a_window_is_the_same_problem_as_the_plan_around_it(problem, size, seed):
    """Any choice inside a window scores, on the window's own problem, the full plan's value less a constant,
    and meets the window's quotas exactly when the full plan meets the full quotas."""
    A, w, p, kw = problem
    try:
        inst = check_problem(A, w, p=p, **kw)
    except Exception:
        return
    rng = np.random.default_rng(seed)
    start = greedy_mclp(A, w, p=p, local_search=False, bound="submodular", **kw).selected
    plan = _Plan(inst, start)
    free = np.setdiff1d(start, inst.fixed)
    if free.size == 0:
        return
    cols, _ = window(inst, int(rng.choice(free)), size, skip=plan.fixed, chosen=plan.chosen, max_sites=5)
    sub, _ = _sub_instance(plan, cols)
    outside = np.setdiff1d(start, cols)
    offsets = set()
    for _ in range(12):
        pick = np.sort(rng.choice(cols.size, size=sub.p, replace=False)) if sub.p else np.zeros(0, dtype=np.int64)
        full = np.r_[outside, cols[pick]].astype(np.int64)
        counts = np.bincount(inst.groups[full], minlength=inst.n_groups)
        sub_counts = np.bincount(sub.groups[pick], minlength=sub.n_groups)
        assert (np.all(counts >= inst.lower) and np.all(counts <= inst.upper)) == (
            np.all(sub_counts >= sub.lower) and np.all(sub_counts <= sub.upper))
        offsets.add(round(_value(inst, full) - _value(sub, pick), 9))
    assert len(offsets) == 1


def test_windows_find_plans_swaps_cannot():
    """Where swaps and the Lagrangian plans stop 0.7 % short, window search closes most of it, by default."""
    A, w = grid_instance()
    swaps = greedy_mclp(A, w, p=12, windows=False)
    default = greedy_mclp(A, w, p=12)  # window search ends by itself: a pass at the largest windows finds nothing
    assert dict(default.stages).get("windows", 0) > 0
    assert default.objective > swaps.objective * (1 + 1e-4)
    assert default.bound == swaps.bound and swaps.gap > 0.006 and default.gap < 0.002
    exact = exact_mclp(A, w, p=12, time_limit_s=30)
    assert default.objective <= exact.bound * (1 + 1e-9)


def test_windows_keep_quotas_and_fixed_sites_on_a_hard_instance():
    A, w = grid_instance(seed=1)
    groups = np.arange(A.shape[1]) % 5
    kw = dict(groups=groups, min_per_group=[3, 3, 0, 0, 0], max_per_group=[4, 4, 4, 4, 4], fixed=[3, 17])
    res = greedy_mclp(A, w, p=14, **kw)
    assert dict(res.stages).get("windows", 0) > 0
    counts = np.bincount(groups[res.selected], minlength=5)
    assert np.all(counts >= [3, 3, 0, 0, 0]) and np.all(counts <= 4) and {3, 17} <= set(res.selected.tolist())
    assert res.objective >= greedy_mclp(A, w, p=14, windows=False, **kw).objective


def test_window_grows_nearest_first_through_shared_rows():
    # a path of candidates: 0-1-2-3-4 (neighbours share rows), 5 shares nothing
    A = sp.csc_array(np.array([[1, 1, 0, 0, 0, 0], [0, 1, 1, 0, 0, 0], [0, 0, 1, 1, 0, 0], [0, 0, 0, 1, 1, 0],
                               [0, 0, 0, 0, 0, 1]], dtype=bool))
    inst = check_problem(A, np.ones(5), p=2)
    skip = np.zeros(6, dtype=bool)
    assert window(inst, 2, 3, skip=skip)[0].tolist() == [1, 2, 3]
    assert window(inst, 0, 4, skip=skip)[0].tolist() == [0, 1, 2, 3]
    assert window(inst, 0, 10, skip=skip)[0].tolist() == [0, 1, 2, 3, 4]  # 5 is never reached
    skip[1] = True
    assert window(inst, 0, 4, skip=skip)[0].tolist() == [0]  # a fixed site is not taken, nor passed through


def test_window_search_is_repeatable_on_a_slow_clock_and_stops_on_cancel(monkeypatch):
    A, w = grid_instance()
    budget = 2 * WORK_PER_SECOND  # part of the way: the budget, not convergence, ends the search
    normal = greedy_mclp(A, w, p=12, work_budget=budget)
    assert dict(normal.stages).get("windows", 0) > 0
    with monkeypatch.context() as mp:
        slow_down(mp)
        slow = greedy_mclp(A, w, p=12, work_budget=budget)
    same(slow, normal)
    assert slow.work == normal.work
    inst = check_problem(A, w, p=12)
    start = greedy_mclp(A, w, p=12, windows=False).selected
    plan, improved, solved = window_search(inst, start, work=Work(float("inf"), cancel=lambda: True))
    assert (improved, solved) == (0, 0) and plan.tolist() == sorted(start.tolist())
    plan, improved, solved = window_search(inst, start, work=Work(0))
    assert solved == 0 and plan.tolist() == sorted(start.tolist())
