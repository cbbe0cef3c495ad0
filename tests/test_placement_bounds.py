"""Every solver against brute force, binary and fractional coverage: plans, objectives, bounds, gaps.

A reported gap must never be smaller than the true gap: ``bound >= optimum`` for every solver,
with quotas, fixed sites and existing coverage (a mask or covered shares).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp

from geoplan.errors import ValidationError
from geoplan.placement import exact_mclp, greedy_mclp, lagrangian_mclp, local_search_mclp
from geoplan.placement import local_search as local_search_module
from geoplan.placement._highs import HighsModel, solve_highs
from geoplan.placement._instance import check_problem
from geoplan.placement._mip import mclp_mip
from geoplan.placement._patterns import build_patterns
from geoplan.placement._work import Work
from geoplan.placement.lagrangian import flip_bounds, lagrangian_bound
from geoplan.placement.local_search import improve, kick_search


def _value(A: np.ndarray, w: np.ndarray, share0: np.ndarray, combo) -> float:
    """Newly covered weight: sum_i w_i (min(1, s0_i + sum_j a_ij x_j) - s0_i)."""
    got = A[:, list(combo)].sum(axis=1) if len(combo) else np.zeros(A.shape[0])
    return float((w * (np.minimum(1.0, share0 + got) - share0)).sum())


def _feasible(combo, *, p, groups, lo, hi, fixed) -> bool:
    if len(combo) != p or not set(fixed) <= set(combo):
        return False
    counts = np.bincount(np.asarray(groups)[list(combo)], minlength=len(lo))
    return bool(np.all(counts >= lo) and np.all(counts <= hi))


def _optimum(A, w, share0, *, p, groups, lo, hi, fixed) -> float:
    return max(_value(A, w, share0, c) for c in itertools.combinations(range(A.shape[1]), p)
               if _feasible(c, p=p, groups=groups, lo=lo, hi=hi, fixed=fixed))


def _instance(seed: int, kind: str, n_rows: int = 36, n_cols: int = 10):
    rng = np.random.default_rng(seed)
    mask = rng.random((n_rows, n_cols)) < 0.25
    if kind == "binary":
        A = mask.astype(np.int8)
        share0 = (rng.random(n_rows) < 0.15).astype(float)
        covered0 = share0 > 0
    else:
        A = np.where(mask, rng.choice([0.2, 0.35, 0.5, 1.0], size=mask.shape), 0.0)
        share0 = np.where(rng.random(n_rows) < 0.3, rng.choice([0.25, 0.5, 1.0], size=n_rows), 0.0)
        covered0 = share0
    A[: n_rows // 6] = A[n_rows // 6: 2 * (n_rows // 6)]  # identical rows, to be merged
    w = rng.integers(0, 20, n_rows).astype(float)
    groups = rng.integers(0, 3, n_cols)
    sizes = np.bincount(groups, minlength=3)
    lo = np.minimum(sizes, [1, 1, 0])
    hi = np.maximum(lo, [3, 2, 3])
    fixed = [int(np.flatnonzero(groups == groups[0])[0])]
    return A, w, share0, covered0, dict(groups=groups, min_per_group=lo, max_per_group=hi, fixed=fixed)


SOLVERS = {
    "greedy": lambda A, w, **kw: greedy_mclp(A, w, local_search=False, bound="submodular", **kw),
    "greedy+ls": lambda A, w, **kw: greedy_mclp(A, w, bound="submodular", **kw),
    "greedy default": lambda A, w, **kw: greedy_mclp(A, w, **kw),
    "greedy+kicks": lambda A, w, **kw: greedy_mclp(A, w, kicks=True, work_budget=35_000_000, **kw),
    "lagrangian": lambda A, w, **kw: lagrangian_mclp(A, w, **kw),
    "exact": lambda A, w, **kw: exact_mclp(A, w, **kw),
}


@pytest.mark.parametrize("kind", ["binary", "fractional"])
@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("solver", sorted(SOLVERS))
def test_plans_are_feasible_objectives_exact_and_bounds_valid(solver, seed, kind):
    A, w, share0, covered0, quotas = _instance(seed, kind)
    p = 4
    opt = _optimum(A, w, share0, p=p, groups=quotas["groups"], lo=quotas["min_per_group"],
                   hi=quotas["max_per_group"], fixed=quotas["fixed"])
    res = SOLVERS[solver](sp.csc_array(A), w, p=p, covered0=covered0, **quotas)
    sel = res.selected.tolist()
    assert _feasible(sel, p=p, groups=quotas["groups"], lo=quotas["min_per_group"], hi=quotas["max_per_group"],
                     fixed=quotas["fixed"])
    assert res.objective == pytest.approx(_value(A, w, share0, sel), abs=1e-9)
    total = w.sum()
    assert res.covered_share == pytest.approx((float(w @ share0) + res.objective) / total)
    assert res.objective <= opt + 1e-9
    assert res.bound >= opt - 1e-7 * max(opt, 1.0)  # never claims more than is proven
    assert opt <= res.objective * (1 + res.gap) + 1e-7 * max(opt, 1.0)
    if solver == "exact":
        assert res.objective == pytest.approx(opt, rel=1e-4) and res.status == "optimal"


def _greedy_start(seed: int, kind: str, *, p: int):
    """A 60 x 14 instance with quotas, its checked form and greedy's plan (no local search) as a start."""
    A, w, share0, covered0, quotas = _instance(seed, kind, n_rows=60, n_cols=14)
    inst = check_problem(sp.csc_array(A), w, p=p, covered0=covered0, **quotas)
    start = greedy_mclp(sp.csc_array(A), w, p=p, covered0=covered0, local_search=False, bound="submodular",
                        **quotas).selected
    return A, w, share0, quotas, inst, start


@pytest.mark.parametrize("kind", ["binary", "fractional"])
@pytest.mark.parametrize("seed", range(3))
def test_local_search_ends_where_no_single_swap_improves(seed, kind):
    A, w, share0, quotas, inst, start = _greedy_start(seed, kind, p=5)
    p = 5
    out, _ = improve(inst, start, work=Work.unlimited())
    best = _value(A, w, share0, out)
    assert best >= _value(A, w, share0, start) - 1e-9
    groups, lo, hi, fixed = (quotas[k] for k in ("groups", "min_per_group", "max_per_group", "fixed"))
    for r in set(out.tolist()) - set(fixed):
        for a in set(range(A.shape[1])) - set(out.tolist()):
            swapped = [j for j in out.tolist() if j != r] + [a]
            if _feasible(swapped, p=p, groups=groups, lo=lo, hi=hi, fixed=fixed):
                assert _value(A, w, share0, swapped) <= best + 1e-9


@pytest.mark.parametrize("kind", ["binary", "fractional"])
@pytest.mark.parametrize("seed", range(4))
def test_kick_search_keeps_quotas_and_fixed_sites_and_never_loses(seed, kind):
    """Every kick's plan is feasible; the plan returned is the best seen, at least the start, and repeatable."""
    A, w, share0, quotas, inst, start = _greedy_start(seed, kind, p=6)
    p = 6
    seen = []
    real = local_search_module.improve

    def spy(inst_, plan, **kw):
        out, swaps = real(inst_, plan, **kw)
        if kw.get("changed") is not None:  # a kick's search (not the final full pass)
            seen.append(out)
        return out, swaps

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(local_search_module, "improve", spy)
        out, better, kicks = kick_search(inst, start, work=Work.unlimited(), seed=seed, share=0.4, max_kicks=12)
    assert kicks == 12 == len(seen) and 0 <= better <= kicks
    groups, lo, hi, fixed = (quotas[k] for k in ("groups", "min_per_group", "max_per_group", "fixed"))
    for plan in [*seen, out]:
        assert _feasible(plan.tolist(), p=p, groups=groups, lo=lo, hi=hi, fixed=fixed)
    best = _value(A, w, share0, out)
    assert best >= _value(A, w, share0, start) - 1e-9
    assert better == 0 or best >= max(_value(A, w, share0, plan) for plan in seen) - 1e-9  # + a final full pass
    again, _, _ = kick_search(inst, start, work=Work.unlimited(), seed=seed, share=0.4, max_kicks=12)
    np.testing.assert_array_equal(out, again)


def test_local_search_mclp_starts_from_a_plan_and_checks_it():
    A, w, share0, covered0, quotas = _instance(1, "fractional", n_rows=60, n_cols=14)
    start = greedy_mclp(sp.csc_array(A), w, p=5, covered0=covered0, local_search=False, bound="submodular",
                        **quotas)
    res = local_search_mclp(sp.csc_array(A), w, start=start.selected, covered0=covered0, **quotas)
    assert res.method == "local_search" and res.objective >= start.objective - 1e-9
    without_fixed = [j for j in range(A.shape[1]) if j not in quotas["fixed"]][:5]
    with pytest.raises(ValidationError, match="leaves out fixed sites"):
        local_search_mclp(sp.csc_array(A), w, start=without_fixed, covered0=covered0, **quotas)


@pytest.mark.parametrize("kind", ["binary", "fractional"])
@pytest.mark.parametrize("seed", range(3))
def test_lagrangian_bound_is_at_least_the_lp_bound_and_close_to_it(seed, kind):
    A, w, share0, covered0, quotas = _instance(seed, kind, n_rows=200, n_cols=30)
    inst = check_problem(sp.csc_array(A), w, p=6, covered0=covered0, **quotas)
    pat = build_patterns(inst)
    model, _ = mclp_mip(inst, pat, inst.fixed)
    lp = solve_highs(HighsModel(**{**model.__dict__, "integrality": None}))
    start = greedy_mclp(sp.csc_array(A), w, p=6, covered0=covered0, bound="submodular", **quotas).selected
    lag = lagrangian_bound(inst, start=start, target_gap=0.0, max_iter=3000, patterns=pat)
    assert lag.bound >= lp.objective - 1e-6 * lp.objective  # weak duality
    assert lag.bound <= lp.objective * 1.01  # and it converges close to it
    assert lag.plan_value <= lag.bound


@pytest.mark.parametrize("kind", ["binary", "fractional"])
@pytest.mark.parametrize("seed", range(3))
def test_flip_bounds_bound_every_plan_with_the_site_flipped(seed, kind):
    A, w, share0, covered0, quotas = _instance(seed, kind)
    p = 4
    inst = check_problem(sp.csc_array(A), w, p=p, covered0=covered0, **quotas)
    pat = build_patterns(inst)
    start = greedy_mclp(sp.csc_array(A), w, p=p, covered0=covered0, bound="submodular", **quotas).selected
    lag = lagrangian_bound(inst, start=start, max_iter=200, patterns=pat)
    flip, taken = flip_bounds(inst, lag, pat.free)
    groups, lo, hi, fixed = (quotas[k] for k in ("groups", "min_per_group", "max_per_group", "fixed"))
    plans = [c for c in itertools.combinations(range(A.shape[1]), p)
             if _feasible(c, p=p, groups=groups, lo=lo, hi=hi, fixed=fixed)]
    for j in np.flatnonzero(pat.free):
        other = [_value(A, w, share0, c) for c in plans if (j in c) != bool(taken[j])]
        if other:
            assert max(other) <= flip[j] + 1e-7 * max(flip[j], 1.0)


def test_patterns_merge_rows_with_the_same_sites_and_shares_only():
    A = np.array([[1.0, 0.5, 0.0],
                  [1.0, 0.5, 0.0],   # same sites, same shares: merged with row 0
                  [1.0, 0.25, 0.0],  # same sites, other shares: kept apart
                  [0.0, 0.5, 1.0],
                  [0.0, 0.0, 0.0]])  # covered by nothing: dropped
    inst = check_problem(sp.csc_array(A), np.array([1.0, 2.0, 4.0, 8.0, 16.0]), p=1)
    pat = build_patterns(inst)
    rows = {tuple(r): wt for r, wt in zip(pat.matrix.toarray().tolist(), pat.weights.tolist(), strict=True)}
    assert rows == {(1.0, 0.5, 0.0): 3.0, (1.0, 0.25, 0.0): 4.0, (0.0, 0.5, 1.0): 8.0}
    shares = check_problem(sp.csc_array(A), np.ones(5), p=1, covered0=np.array([0.5, 0.0, 0.0, 0.0, 0.0]))
    assert build_patterns(shares).n_patterns == 3 + 1  # rows 0 and 1 differ in room now


def test_check_problem_reads_a_csc_matrix_without_copying_it():
    A = sp.csc_array(sp.random_array((200, 40), density=0.1, rng=0, format="csc") > 0)
    inst = check_problem(A, np.ones(200), p=3)
    assert inst.binary and np.shares_memory(inst.coverage.indices, A.indices)
    assert np.shares_memory(inst.coverage.indptr, A.indptr) and np.shares_memory(inst.coverage.data, A.data)
    frac = sp.csc_array(A * 0.5)
    inst = check_problem(frac, np.ones(200), p=3)
    assert not inst.binary and np.shares_memory(inst.coverage.data, frac.data)
    ones = sp.csc_array(A.astype(np.float64))
    assert check_problem(ones, np.ones(200), p=3).binary  # floating ones are binary coverage


@pytest.mark.parametrize(("matrix", "covered0", "needle"), [
    (np.array([[1.5, 0.0], [0.0, 1.0]]), None, "shares above 1"),
    (np.array([[-1.0, 0.0], [0.0, 1.0]]), None, "negative entries"),
    (np.array([[1, 0], [0, 1]]), np.array([0.5, 1.5]), "shares outside"),
    (np.array([[1, 0], [0, 1]]), np.array(["a", "b"]), "expected bool or shares"),
])
def test_bad_shares_are_refused(matrix, covered0, needle):
    with pytest.raises(ValidationError, match=needle):
        greedy_mclp(sp.csc_array(matrix), [1.0, 1.0], p=1, covered0=covered0)


@pytest.mark.parametrize("kind", ["binary", "fractional"])
@pytest.mark.parametrize("seed", range(4))
def test_each_bound_on_its_own_is_above_the_optimum(seed, kind):
    from geoplan.placement._result import coverable_weight, coverage_totals, covered_weight, top_gains_bound

    A, w, share0, covered0, _ = _instance(seed, kind)
    p = 3
    opt = _optimum(A, w, share0, p=p, groups=np.zeros(A.shape[1], int), lo=[0], hi=[p], fixed=[])
    inst = check_problem(sp.csc_array(A), w, p=p, covered0=covered0)
    assert coverable_weight(inst) >= opt - 1e-9
    rng = np.random.default_rng(seed)
    for size in (0, 1, 2, 3, 3, 3):  # the submodular bound from any plan, good or bad, empty or full
        plan = rng.choice(A.shape[1], size=size, replace=False)
        totals = coverage_totals(inst, plan)
        base = covered_weight(inst, totals)
        assert base == pytest.approx(_value(A, w, share0, plan))
        assert top_gains_bound(inst, totals, base=base, k=p) >= opt - 1e-9
    for iters in (1, 5, 50):  # any multipliers bound the optimum, converged or not
        lag = lagrangian_bound(inst, start=np.arange(p), max_iter=iters, polish_share=0)
        assert lag.bound >= opt - 1e-9
