"""Exact maximal covering (HiGHS): optimum against brute force, statuses, checks before solving."""

from __future__ import annotations

import itertools
import logging

import numpy as np
import pytest
import scipy.sparse as sp

import geoplan.placement._highs as highs_module
import geoplan.placement.exact as exact_module
from geoplan.errors import InfeasibleError, ValidationError
from geoplan.placement import exact_mclp, greedy_mclp

# Greedy takes c0 (4 cells) and then one of c1/c2 (1 more cell): 5. c1 + c2 cover all 6.
TRAP = np.array([
    [0, 1, 0],
    [1, 1, 0],
    [1, 1, 0],
    [1, 0, 1],
    [1, 0, 1],
    [0, 0, 1],
])


def _brute_force(A, w, p, *, covered0=None, groups=None, lo=None, hi=None, fixed=()):
    """Best newly covered weight over every feasible set of ``p`` columns."""
    n_cols = A.shape[1]
    covered0 = np.zeros(A.shape[0], bool) if covered0 is None else covered0
    best, best_set = -1.0, None
    for combo in itertools.combinations(range(n_cols), p):
        if not set(fixed) <= set(combo):
            continue
        if groups is not None:
            counts = np.bincount(np.asarray(groups)[list(combo)], minlength=len(lo))
            if np.any(counts < lo) or np.any(counts > hi):
                continue
        value = w[(A[:, list(combo)] > 0).any(axis=1) & ~covered0].sum()
        if value > best:
            best, best_set = value, combo
    return best, best_set


def _random_instance(seed, n_rows=40, n_cols=10, density=0.2):
    rng = np.random.default_rng(seed)
    A = (rng.random((n_rows, n_cols)) < density).astype(np.int8)
    A[: n_rows // 4] = A[n_rows // 4: 2 * (n_rows // 4)]  # identical rows, to be merged into patterns
    w = rng.integers(0, 30, n_rows).astype(float)
    return A, w, rng


def test_exact_beats_greedy_where_greedy_is_trapped():
    w = np.ones(6)
    greedy = greedy_mclp(sp.csc_array(TRAP), w, p=2, local_search=False, bound="submodular")
    exact = exact_mclp(sp.csc_array(TRAP), w, p=2)
    best, best_set = _brute_force(TRAP, w, 2)
    assert greedy.objective == 5.0
    assert greedy_mclp(sp.csc_array(TRAP), w, p=2).objective == 6.0  # local search swaps out of the trap
    assert exact.objective == best == 6.0 > greedy.objective
    assert exact.selected.tolist() == list(best_set) == [1, 2]
    assert exact.status == "optimal" and exact.gap == pytest.approx(0.0, abs=1e-9)
    assert exact.method == "exact" and exact.covered_share == 1.0


@pytest.mark.parametrize("seed", range(5))
def test_exact_equals_brute_force_with_quotas_fixed_and_existing_coverage(seed):
    A, w, rng = _random_instance(seed)
    groups = rng.integers(0, 3, A.shape[1])
    sizes = np.bincount(groups, minlength=3)
    lo = np.minimum(sizes, [1, 1, 0])
    hi = np.maximum(lo, [3, 2, 2])
    covered0 = rng.random(A.shape[0]) < 0.15
    fixed = [int(np.flatnonzero(groups == groups[0])[0])]
    p = 4
    best, _ = _brute_force(A, w, p, covered0=covered0, groups=groups, lo=lo, hi=hi, fixed=fixed)
    res = exact_mclp(sp.csc_array(A), w, p=p, covered0=covered0, groups=groups, min_per_group=lo,
                     max_per_group=hi, fixed=fixed)
    assert res.status == "optimal"
    assert res.objective == pytest.approx(best, rel=1e-4)
    assert res.selected[0] == fixed[0] and len(res) == p
    counts = np.bincount(groups[res.selected], minlength=3)
    assert np.all(counts >= lo) and np.all(counts <= hi) and res.per_group.tolist() == counts.tolist()
    greedy = greedy_mclp(sp.csc_array(A), w, p=p, covered0=covered0, groups=groups, min_per_group=lo,
                         max_per_group=hi, fixed=fixed)
    assert greedy.objective <= res.objective + 1e-9


def _no_lagrangian(inst, *, start, patterns=None, **kwargs):
    """A Lagrangian step that proves nothing (so HiGHS must run): the coverable weight as bound."""
    from geoplan.placement._result import coverable_weight, coverage_totals, covered_weight
    from geoplan.placement.lagrangian import LagrangianBound

    return LagrangianBound(bound=coverable_weight(inst), plan=np.sort(start),
                           plan_value=covered_weight(inst, coverage_totals(inst, start)),
                           costs=np.zeros(inst.n_cols), base=coverable_weight(inst), iterations=0)


def test_time_limit_reports_no_optimality_and_keeps_the_warm_start(monkeypatch):
    A, w = _medium_instance()
    greedy = greedy_mclp(A, w, p=20)
    monkeypatch.setattr(exact_module, "lagrangian_bound", _no_lagrangian)
    res = exact_mclp(A, w, p=20, time_limit_s=0.05)
    assert res.status == "time_limit"
    assert res.gap is not None and res.gap > 1e-4
    assert len(res) == 20 and res.objective >= greedy.objective


def test_a_highs_plan_worse_than_the_warm_start_is_not_returned(monkeypatch):
    """HiGHS can stop at its limit on its own worse incumbent: exact keeps the better warm start."""
    from dataclasses import replace

    A, w = _medium_instance()
    greedy = greedy_mclp(A, w, p=20)
    real = exact_module.solve_highs

    def worse(model, **kw):  # HiGHS's answer with the first p free sites instead of its own
        out = real(model, **kw)
        x = np.zeros_like(out.x)
        x[:20] = 1.0
        return replace(out, x=x, label="time_limit")

    monkeypatch.setattr(exact_module, "lagrangian_bound", _no_lagrangian)
    monkeypatch.setattr(exact_module, "kick_search", lambda inst, plan, **kw: (plan, 0, 0))
    monkeypatch.setattr(exact_module, "window_search", lambda inst, plan, **kw: (plan, 0, 0))
    monkeypatch.setattr(exact_module, "solve_highs", worse)
    res = exact_mclp(A, w, p=20, warm_start=greedy.selected, time_limit_s=5)
    first = exact_mclp(A, w, p=20, warm_start=np.arange(20), time_limit_s=5)
    assert res.objective == pytest.approx(greedy.objective) and res.status == "time_limit"
    assert first.selected.tolist() == list(range(20))  # the guard compares, it does not invent plans
    assert sorted(res.selected.tolist()) == sorted(greedy.selected.tolist())


def test_same_input_same_selection():
    A, w, _ = _random_instance(11, n_rows=200, n_cols=40, density=0.08)
    a = exact_mclp(sp.csc_array(A), w, p=6)
    b = exact_mclp(sp.csc_array(A), w, p=6)
    assert a.selected.tolist() == b.selected.tolist() and a.objective == b.objective


def test_quota_sites_without_coverage_go_to_the_highest_secondary():
    # All demand already covered: the MIP is indifferent, the planner wants dense cells.
    A = sp.csc_array(np.eye(6, dtype=np.int8))
    res = exact_mclp(A, np.ones(6), p=3, covered0=np.ones(6, bool), groups=[0, 0, 0, 1, 1, 1],
                     min_per_group=[1, 2], secondary=[0.1, 0.9, 0.2, 0.8, 0.3, 0.7])
    assert res.selected.tolist() == [1, 3, 5]
    assert res.objective == 0.0 and res.status == "optimal"


def test_warm_start_is_checked_and_used():
    w = np.ones(6)
    res = exact_mclp(sp.csc_array(TRAP), w, p=2, warm_start=np.array([1, 2]))
    assert res.selected.tolist() == [1, 2]
    with pytest.raises(ValidationError, match="expected p = 2"):
        exact_mclp(sp.csc_array(TRAP), w, p=2, warm_start=[0])
    with pytest.raises(ValidationError, match="breaks the district quotas"):
        exact_mclp(sp.csc_array(TRAP), w, p=2, groups=[0, 0, 1], min_per_group=[0, 1], warm_start=[0, 1])


@pytest.mark.parametrize(("kwargs", "error", "needle"), [
    (dict(p=4), InfeasibleError, "only 3 candidate sites"),
    (dict(p=2, groups=[0, 0, 1], min_per_group=[2, 1]), InfeasibleError, "below the 3 sites"),
    (dict(p=2, groups=[0, 0, 1], min_per_group=[0, 2]), InfeasibleError, "group 1 needs at least 2"),
    (dict(p=1, fixed=[0, 2]), InfeasibleError, "below the 2 fixed sites"),
    (dict(p=2, weights=-np.ones(6)), ValidationError, "negative"),
    (dict(p=2, time_limit_s=0.0), ValidationError, "time_limit_s"),
])
def test_bad_requests_raise_before_solving(monkeypatch, kwargs, error, needle):
    def boom(*args, **kw):
        raise AssertionError("the solver must not run")

    monkeypatch.setattr(highs_module.highspy, "Highs", boom)
    monkeypatch.setattr(exact_module, "greedy_mclp", boom)
    monkeypatch.setattr(exact_module, "lagrangian_bound", boom)
    weights = kwargs.pop("weights", np.ones(6))
    with pytest.raises(error, match=needle):
        exact_mclp(sp.csc_array(TRAP), weights, **kwargs)


def _medium_instance():
    rng = np.random.default_rng(3)
    A = sp.random_array((3000, 300), density=0.03, rng=rng, format="csc") > 0  # binary: covers or not
    return sp.csc_array(A), rng.integers(1, 100, 3000).astype(float)


def test_guarded_child_process_gives_the_in_process_answer(monkeypatch, caplog):
    A, w, _ = _random_instance(5, n_rows=120, n_cols=20, density=0.12)
    monkeypatch.setattr(exact_module, "lagrangian_bound", _no_lagrangian)
    here = exact_mclp(sp.csc_array(A), w, p=5)
    monkeypatch.undo()
    monkeypatch.setattr(highs_module, "SUBPROCESS_MIN_NNZ", 0)
    monkeypatch.setattr(exact_module, "lagrangian_bound", _no_lagrangian)
    with caplog.at_level(logging.INFO, logger="geoplan.placement._highs"):
        child = exact_mclp(sp.csc_array(A), w, p=5)
    assert "child process" in caplog.text and "overran" not in caplog.text
    assert child.status == here.status == "optimal"
    assert child.selected.tolist() == here.selected.tolist() and child.objective == here.objective


def test_guarded_run_is_stopped_hard_when_highs_overruns(monkeypatch, caplog):
    A, w = _medium_instance()
    greedy = greedy_mclp(A, w, p=20)
    # A deadline 0.2 s after HiGHS starts: far sooner than it can finish, as if it ignored its limit.
    monkeypatch.setattr(highs_module, "SUBPROCESS_MIN_NNZ", 0)
    monkeypatch.setattr(highs_module, "GRACE_S", -1.8)
    monkeypatch.setattr(highs_module, "GRACE_SHARE", -1.0)
    monkeypatch.setattr(exact_module, "lagrangian_bound", _no_lagrangian)
    # no kicks: they stop on work, not on the clock, and on a busy machine could leave HiGHS less than its 2 s
    monkeypatch.setattr(exact_module, "kick_search", lambda inst, plan, **kw: (plan, 0, 0))
    with caplog.at_level(logging.INFO, logger="geoplan.placement._highs"):
        res = exact_mclp(A, w, p=20, time_limit_s=2.0)
    assert "overran its 2 s time limit" in caplog.text
    assert res.status == "time_limit" and res.gap is not None and res.gap > 0
    assert len(res) == 20 and res.objective >= greedy.objective
