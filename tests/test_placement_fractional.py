"""Placement with fractional coverage (covered shares of cells, issue 18): solvers against brute force.

The objective of a plan S is Σ_i w_i (min(1, s0_i + Σ_{j∈S} a_ij) − s0_i). Greedy, exact and the
marginal gains of the engine use it; these tests recompute it by hand on small instances.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp

from geoplan.placement import exact_mclp, greedy_mclp, greedy_set_cover
from geoplan.placement._steps import marginal_gains


def _value(A: np.ndarray, w: np.ndarray, s0: np.ndarray, sel) -> float:
    return float(w @ (np.minimum(1.0, s0 + A[:, list(sel)].sum(axis=1)) - s0))


def _brute(A, w, s0, p, *, groups=None, lo=None, fixed=()):
    best, arg = -1.0, None
    for sel in itertools.combinations(range(A.shape[1]), p):
        if not set(fixed) <= set(sel):
            continue
        if groups is not None and lo is not None and (np.bincount(groups[list(sel)], minlength=len(lo)) < lo).any():
            continue
        v = _value(A, w, s0, sel)
        if v > best + 1e-12:
            best, arg = v, sel
    return best, arg


def _instance(seed: int, n: int = 30, m: int = 9):
    rng = np.random.default_rng(seed)
    A = np.where(rng.random((n, m)) < 0.3, rng.choice([1.0, 0.5, 0.25, 0.8, 0.126], size=(n, m)), 0.0)
    w = rng.integers(1, 50, n).astype(float)
    s0 = np.where(rng.random(n) < 0.3, rng.choice([0.0, 0.3, 0.9, 1.0], size=n), 0.0)
    return A, w, s0


def test_two_small_sites_in_one_cell_add_their_shares():
    """Two 20 m indoor systems in one 100 m cell cover twice π·20²/100² of it; none disappears."""
    a = np.pi * 0.04
    A = sp.csc_array(np.array([[a, a]]))
    res = greedy_mclp(A, [1000.0], p=2)
    assert res.objective == pytest.approx(1000 * 2 * a)
    assert res.covered_share == pytest.approx(2 * a)
    ex = exact_mclp(A, [1000.0], p=2)
    assert ex.objective == pytest.approx(2000 * a) and ex.status == "optimal"


@pytest.mark.parametrize("seed", range(6))
def test_greedy_objective_and_gap_and_exact_optimum_against_brute_force(seed):
    A, w, s0 = _instance(seed)
    p = 3
    best, _ = _brute(A, w, s0, p)
    g = greedy_mclp(sp.csc_array(A), w, p=p, covered0=s0)
    assert g.objective == pytest.approx(_value(A, w, s0, g.selected), rel=1e-9)
    assert g.objective <= best + 1e-9
    assert g.gap is not None and g.objective * (1 + g.gap) >= best - 1e-6  # the bound holds
    e = exact_mclp(sp.csc_array(A), w, p=p, covered0=s0)
    assert e.objective == pytest.approx(best, rel=1e-9) and e.status == "optimal"
    # the engine's per-site gains, in the order chosen, add up to the objective
    gains = marginal_gains(sp.csc_array(A), w, s0, g.selected)
    assert gains.sum() == pytest.approx(g.objective, rel=1e-9)


@pytest.mark.parametrize("seed", range(3))
def test_exact_with_fixed_sites_and_quotas_against_brute_force(seed):
    A, w, s0 = _instance(seed + 10)
    groups = np.arange(A.shape[1]) % 3
    lo = np.array([1, 1, 0])
    fixed = (2,)
    best, _ = _brute(A, w, s0, 4, groups=groups, lo=lo, fixed=fixed)
    e = exact_mclp(sp.csc_array(A), w, p=4, covered0=s0, groups=groups, min_per_group=lo, fixed=list(fixed))
    assert e.objective == pytest.approx(best, rel=1e-9)
    assert 2 in e.selected.tolist()


def test_set_cover_reaches_a_fractional_target():
    A, w, s0 = _instance(7, n=40, m=12)
    reachable = _value(A, w, s0, range(12)) + float(w @ s0)
    target = 0.9 * reachable / w.sum()
    res = greedy_set_cover(sp.csc_array(A), w, target_share=target, covered0=s0)
    assert float(w @ np.minimum(1, s0 + A[:, res.selected].sum(axis=1))) >= target * w.sum() * (1 - 1e-9)
