"""Greedy maximal covering with quotas: hand-checked answers, equivalence to plain greedy, checks."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp

from geoplan.errors import InfeasibleError, ValidationError
from geoplan.placement import PlacementResult, greedy_mclp, greedy_set_cover

# 5 demand cells x 4 candidate sites.
#        c0 c1 c2 c3
HAND = np.array([
    [1, 0, 0, 0],   # r0 w=10
    [1, 1, 0, 0],   # r1 w=4
    [0, 1, 1, 0],   # r2 w=3
    [0, 0, 1, 1],   # r3 w=2
    [0, 0, 0, 1],   # r4 w=6
])
HAND_W = np.array([10.0, 4.0, 3.0, 2.0, 6.0])


def _plain_greedy(A: np.ndarray, w: np.ndarray, *, p: int, covered0=None, groups=None, lo=None, hi=None,
                  fixed=(), secondary=None) -> list[int]:
    """Textbook greedy with the same phases and tie-breaks, recomputing every gain every step."""
    n_rows, n_cols = A.shape
    covered = np.zeros(n_rows, bool) if covered0 is None else covered0.copy()
    groups = np.zeros(n_cols, int) if groups is None else np.asarray(groups)
    n_g = groups.max() + 1
    lo = np.zeros(n_g, int) if lo is None else np.asarray(lo)
    sizes = np.bincount(groups, minlength=n_g)
    hi = sizes if hi is None else np.minimum(hi, sizes)
    sec = np.zeros(n_cols) if secondary is None else np.asarray(secondary)
    order: list[int] = []
    counts = np.zeros(n_g, int)

    def take(j: int) -> None:
        covered[A[:, j] > 0] = True
        order.append(j)
        counts[groups[j]] += 1

    def best(allowed: np.ndarray) -> int:
        gains = (A > 0).T.astype(float) @ np.where(covered, 0.0, w)
        keys = [(gains[j], sec[j], -j) for j in np.flatnonzero(allowed)]
        return -max(keys)[2]

    for j in fixed:
        take(int(j))
    chosen = np.zeros(n_cols, bool)
    chosen[list(order)] = True
    while np.any(counts < lo):
        j = best(~chosen & (counts[groups] < lo[groups]))
        take(j)
        chosen[j] = True
    while len(order) < p:
        j = best(~chosen & (counts[groups] < hi[groups]))
        take(j)
        chosen[j] = True
    return order


def _brute_force(A: np.ndarray, w: np.ndarray, p: int) -> float:
    return max(w[(A[:, list(c)] > 0).any(axis=1)].sum() for c in itertools.combinations(range(A.shape[1]), p))


def _random_instance(seed: int, n_rows: int = 60, n_cols: int = 25, density: float = 0.12):
    rng = np.random.default_rng(seed)
    A = (rng.random((n_rows, n_cols)) < density).astype(np.int8)
    w = rng.integers(0, 20, n_rows).astype(float)  # integers: sums are exact, ties are real
    return A, w, rng


def test_hand_instance_picks_the_known_sites():
    res = greedy_mclp(sp.csc_array(HAND), HAND_W, p=2)
    # c0 gains 14 (r0+r1); then c3 gains 8 (r3+r4) over c1 (3) and c2 (5).
    assert res.selected.tolist() == [0, 3]
    assert res.objective == 22.0
    assert res.covered_share == pytest.approx(22.0 / 25.0)
    assert res.method == "greedy" and res.status == "greedy"
    assert res.per_group is None


def test_existing_coverage_adds_nothing():
    covered0 = np.array([True, True, False, False, False])
    res = greedy_mclp(sp.csc_array(HAND), HAND_W, p=1, covered0=covered0)
    assert res.selected.tolist() == [3]  # c0 and c1 lose r0, r1; c3 gains 8
    assert res.objective == 8.0
    assert res.covered_share == pytest.approx((14.0 + 8.0) / 25.0)


def test_minimum_quota_is_met_first_within_its_district():
    # c2 is alone in district 1 and must be taken although c3 gains more after c0.
    res = greedy_mclp(sp.csc_array(HAND), HAND_W, p=2, groups=[0, 0, 1, 0], min_per_group=[0, 1])
    assert res.selected.tolist() == [2, 0]
    assert res.per_group.tolist() == [1, 1]
    assert res.objective == 10 + 4 + 3 + 2


def test_maximum_quota_is_respected():
    res = greedy_mclp(sp.csc_array(HAND), HAND_W, p=2, groups=[0, 1, 1, 1], max_per_group=[2, 1])
    assert res.selected.tolist() == [0, 3]
    res = greedy_mclp(sp.csc_array(HAND), HAND_W, p=2, groups=[0, 0, 1, 1], max_per_group=[1, 2])
    assert res.selected.tolist() == [0, 3]
    res = greedy_mclp(sp.csc_array(HAND), HAND_W, p=3, groups=[0, 0, 1, 1], max_per_group=[1, 2])
    assert res.per_group.tolist() == [1, 2] and res.selected.tolist() == [0, 3, 2]


def test_fixed_sites_are_kept_and_come_first():
    res = greedy_mclp(sp.csc_array(HAND), HAND_W, p=2, fixed=[2])
    assert res.selected.tolist() == [2, 0]  # after c2 (r2, r3): c0 gains 14, c3 only 6
    assert res.objective == 3 + 2 + 10 + 4
    res = greedy_mclp(sp.csc_array(HAND), HAND_W, p=3, fixed=[3, 2])
    assert res.selected.tolist() == [3, 2, 0]


def test_zero_gain_sites_are_still_placed_by_secondary_then_index():
    covered0 = np.ones(5, dtype=bool)
    res = greedy_mclp(sp.csc_array(HAND), HAND_W, p=3, covered0=covered0, secondary=[0.1, 0.9, 0.5, 0.9])
    assert res.selected.tolist() == [1, 3, 2]
    assert res.objective == 0.0
    res = greedy_mclp(sp.csc_array(HAND), HAND_W, p=2, covered0=covered0)
    assert res.selected.tolist() == [0, 1]


def test_quota_sites_beyond_coverage_count_toward_the_quota():
    A = sp.csc_array(np.array([[1, 1, 1, 0], [0, 0, 0, 1]]))
    res = greedy_mclp(A, [5.0, 1.0], p=3, groups=[0, 0, 0, 1], min_per_group=[3, 0], secondary=[0, 2, 1, 0])
    assert sorted(res.selected.tolist()) == [0, 1, 2]
    assert res.selected.tolist()[0] == 1  # equal gains: higher secondary first
    assert res.per_group.tolist() == [3, 0]


@pytest.mark.parametrize("seed", range(6))
def test_lazy_greedy_equals_plain_greedy(seed):
    A, w, rng = _random_instance(seed)
    n_cols = A.shape[1]
    groups = rng.integers(0, 3, n_cols)
    sizes = np.bincount(groups, minlength=3)
    lo = np.minimum(sizes, [3, 1, 4])
    hi = np.maximum(lo, [6, 10, 5])
    covered0 = rng.random(A.shape[0]) < 0.2
    fixed = [int(np.flatnonzero(groups == 0)[0])]
    secondary = rng.integers(0, 3, n_cols).astype(float)
    p = 12
    res = greedy_mclp(sp.csc_array(A), w, p=p, covered0=covered0, groups=groups, min_per_group=lo,
                      max_per_group=hi, fixed=fixed, secondary=secondary, local_search=False, bound="submodular")
    ref = _plain_greedy(A, w, p=p, covered0=covered0, groups=groups, lo=lo, hi=hi, fixed=fixed,
                        secondary=secondary)
    assert res.selected.tolist() == ref
    counts = np.bincount(groups[res.selected], minlength=3)
    assert np.all(counts >= lo) and np.all(counts <= hi)
    assert res.per_group.tolist() == counts.tolist()
    newly = (A[:, res.selected] > 0).any(axis=1) & ~covered0
    assert res.objective == w[newly].sum()


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("options", [dict(local_search=False, bound="submodular"), dict(bound="submodular"), {}])
def test_greedy_gap_bounds_the_true_optimum(seed, options):
    A, w, _ = _random_instance(seed, n_rows=40, n_cols=12, density=0.2)
    res = greedy_mclp(sp.csc_array(A), w, p=3, **options)
    best = _brute_force(A, w, 3)
    assert res.objective <= best
    assert best <= res.objective * (1 + res.gap) + 1e-9 and best <= res.bound + 1e-9
    assert res.objective >= (1 - 1 / np.e) * best
    assert res.bound_source in ("coverable", "submodular", "lagrangian")


def test_local_search_only_improves_and_orders_sites_greedily():
    A, w, _ = _random_instance(4, n_rows=300, n_cols=60, density=0.06)
    plain = greedy_mclp(sp.csc_array(A), w, p=8, local_search=False, bound="submodular")
    res = greedy_mclp(sp.csc_array(A), w, p=8, bound="submodular")
    assert res.swaps == 3 and res.objective == 1641.0 > plain.objective == 1614.0
    assert res.objective == w[(A[:, res.selected] > 0).any(axis=1)].sum()
    # each site covers at least as much not yet covered as any site after it
    covered = np.zeros(A.shape[0], bool)
    sel = res.selected.tolist()
    for k, j in enumerate(sel):
        gains = [w[(A[:, i] > 0) & ~covered].sum() for i in sel[k:]]
        assert gains[0] == max(gains)
        covered |= A[:, j] > 0


def test_gap_is_capped_at_the_coverable_weight():
    # one row nobody covers: coverable weight is 10 of 11; every bound is capped there
    A = sp.csc_array(np.array([[1, 0], [0, 1], [0, 0]]))
    res = greedy_mclp(A, [5.0, 5.0, 1.0], p=2, bound="submodular")
    assert res.objective == 10.0 and res.gap == 0.0 and res.bound == 10.0


def test_same_input_same_selection_and_input_untouched():
    A, w, rng = _random_instance(7, n_rows=300, n_cols=80)
    csc = sp.csc_array(A)
    csc.data[:5] = 0  # explicit zeros must read as "does not cover" and stay in the caller's matrix
    before = csc.copy()
    sec = rng.random(80)
    a = greedy_mclp(csc, w, p=20, secondary=sec)
    b = greedy_mclp(csc, w, p=20, secondary=sec)
    assert a.selected.tolist() == b.selected.tolist()
    assert (csc != before).nnz == 0 and csc.nnz == before.nnz
    assert greedy_mclp(csc.tocsr(), w, p=20, secondary=sec).selected.tolist() == a.selected.tolist()


def test_result_is_immutable():
    res = greedy_mclp(sp.csc_array(HAND), HAND_W, p=2)
    assert isinstance(res, PlacementResult) and len(res) == 2
    with pytest.raises(AttributeError):
        res.objective = 0.0  # type: ignore[misc]
    with pytest.raises(ValueError):
        res.selected[0] = 3


@pytest.mark.parametrize(("kwargs", "needle"), [
    (dict(p=5), "only 4 candidate sites"),
    (dict(p=1, fixed=[0, 1]), "below the 2 fixed sites"),
    (dict(p=2, groups=[0, 0, 1, 1], min_per_group=[2, 1]), "below the 3 sites"),
    (dict(p=2, groups=[0, 0, 0, 1], min_per_group=[0, 2]), "group 1 needs at least 2"),
    (dict(p=3, groups=[0, 0, 1, 1], max_per_group=[1, 1]), "exceeds the 2 sites"),
    (dict(p=2, groups=[0, 0, 1, 1], max_per_group=[1, 1], fixed=[0, 1]), "group 0 has 2 fixed sites"),
])
def test_infeasible_requests_raise_with_a_fix(kwargs, needle):
    with pytest.raises(InfeasibleError, match=needle):
        greedy_mclp(sp.csc_array(HAND), HAND_W, **kwargs)


def test_malformed_input_reports_every_problem():
    with pytest.raises(ValidationError) as err:
        greedy_mclp(sp.csc_array(HAND), [1.0, -2.0, 3.0, 4.0, 5.0], p=2, fixed=[9], groups=[0, 1, 2])
    fields = [pr.field for pr in err.value.problems]
    assert fields == ["weights", "fixed", "groups"]
    with pytest.raises(ValidationError, match="integer number of sites"):
        greedy_mclp(sp.csc_array(HAND), HAND_W, p=2.5)
    with pytest.raises(ValidationError, match="quotas given without groups"):
        greedy_mclp(sp.csc_array(HAND), HAND_W, p=2, min_per_group=[1])
    with pytest.raises(ValidationError, match="non-finite"):
        greedy_mclp(sp.csc_array(HAND), [np.nan, 1, 1, 1, 1], p=2)


def test_set_cover_stops_at_the_target():
    res = greedy_set_cover(sp.csc_array(HAND), HAND_W, target_share=0.85)
    assert res.selected.tolist() == [0, 3]  # 22/25 = 0.88 >= 0.85 after two sites
    assert res.covered_share >= 0.85 and res.method == "greedy_set_cover" and res.gap is None
    res = greedy_set_cover(sp.csc_array(HAND), HAND_W, target_share=1.0)
    assert res.covered_share == 1.0 and len(res) == 3
    res = greedy_set_cover(sp.csc_array(HAND), HAND_W, target_share=0.3, covered0=np.array([1, 0, 0, 0, 0], bool))
    assert len(res) == 0


def test_set_cover_unreachable_target_raises():
    A = sp.csc_array(np.array([[1, 0], [0, 1], [0, 0]]))
    with pytest.raises(InfeasibleError, match="cover only 66.6667%"):
        greedy_set_cover(A, [1.0, 1.0, 1.0], target_share=0.9)
    with pytest.raises(ValidationError, match="target_share"):
        greedy_set_cover(A, [1.0, 1.0, 1.0], target_share=1.5)
