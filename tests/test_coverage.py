"""Tests of geoplan.coverage on hand-made cases with exact expected matrices and shares."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from geoplan.coverage import CoverageShare, coverage_matrix, coverage_share, covered, marginal_gain
from geoplan.errors import CRSError, ValidationError

X0, Y0 = 600_000.0, 2_700_000.0  # EPSG:4548 metres near Xiamen

# Six demand points on a line at x = 0, 100, ..., 500 m and three sites at x = 0, 250, 500 m.
DEMAND = np.column_stack([X0 + np.arange(6) * 100.0, np.full(6, Y0)])
SITES = np.array([[X0, Y0], [X0 + 250.0, Y0], [X0 + 500.0, Y0]])
WEIGHTS = np.array([10.0, 20.0, 30.0, 40.0, 50.0, 60.0])  # total 210


def test_common_radius_exact_matrix():
    a = coverage_matrix(DEMAND, SITES, 120.0)
    assert isinstance(a, sp.csc_matrix) and a.dtype == bool and a.shape == (6, 3)
    expected = np.array([
        [1, 0, 0],   # x=0: site 0 (0 m)
        [1, 0, 0],   # x=100: site 0 (100 m); site 1 is 150 m away
        [0, 1, 0],   # x=200: site 1 (50 m)
        [0, 1, 0],   # x=300: site 1 (50 m)
        [0, 0, 1],   # x=400: site 2 (100 m)
        [0, 0, 1],   # x=500: site 2 (0 m)
    ], dtype=bool)
    np.testing.assert_array_equal(a.toarray(), expected)
    assert a.has_sorted_indices


def test_per_site_radius_and_boundary_inclusive():
    a = coverage_matrix(DEMAND, SITES, [100.0, 30.0, 250.0])
    expected = np.array([
        [1, 0, 0],
        [1, 0, 0],   # exactly 100 m from site 0: covered
        [0, 0, 0],   # 50 m from site 1 (radius 30), 300 m from site 2
        [0, 0, 1],   # 200 m from site 2
        [0, 0, 1],
        [0, 0, 1],
    ], dtype=bool)
    np.testing.assert_array_equal(a.toarray(), expected)
    # max_radius_m clips site 2 to 150 m: x=300 (200 m away) drops out
    b = coverage_matrix(DEMAND, SITES, [100.0, 30.0, 250.0], max_radius_m=150.0)
    expected[3, 2] = False
    np.testing.assert_array_equal(b.toarray(), expected)


def test_shares_exact():
    a = coverage_matrix(DEMAND, SITES, [100.0, 30.0, 250.0])
    r = coverage_share(a, WEIGHTS)
    assert isinstance(r, CoverageShare)
    assert r.covered_weight == 180.0 and r.total_weight == 210.0  # all but x=200 (30)
    assert r.share == pytest.approx(180 / 210)
    assert r.by_group is None
    # only site 0 and 1
    assert coverage_share(a, WEIGHTS, selected=[0, 1]).share == pytest.approx(30 / 210)
    assert coverage_share(a, WEIGHTS, selected=np.array([False, False, True])).share == pytest.approx(150 / 210)
    assert coverage_share(a, WEIGHTS, selected=np.array([], dtype=int)).share == 0.0
    # groups: districts {0,1,2} -> 0, {3,4} -> 1, {5} -> 2, plus an empty group 3
    g = np.array([0, 0, 0, 1, 1, 2])
    r = coverage_share(a, WEIGHTS, selected=[0, 2], groups=g, n_groups=4)
    np.testing.assert_allclose(r.total_by_group, [60.0, 90.0, 60.0, 0.0])
    np.testing.assert_allclose(r.covered_by_group, [30.0, 90.0, 60.0, 0.0])
    np.testing.assert_allclose(r.by_group[:3], [0.5, 1.0, 1.0])
    assert np.isnan(r.by_group[3])
    assert r.share == pytest.approx(180 / 210)


def test_covered_selection_forms_agree():
    a = coverage_matrix(DEMAND, SITES, 120.0)
    assert covered(a).tolist() == [True] * 6
    assert covered(a, [1]).tolist() == [False, False, True, True, False, False]
    assert covered(a, [2, 0]).tolist() == covered(a, np.array([True, False, True])).tolist()
    assert covered(a, [-1]).tolist() == covered(a, [2]).tolist()
    # other sparse formats and explicit zeros give the same answer
    csr = sp.csr_matrix(a.toarray().astype(np.uint8))
    csr.data[0] = 0  # explicit zero at (0, 0): must not count as coverage
    assert covered(csr, [0]).tolist() == [False, True, False, False, False, False]


def test_marginal_gain_exact():
    a = coverage_matrix(DEMAND, SITES, [150.0, 150.0, 150.0])
    # site 0 covers x=0,100; site 1 covers 100..400; site 2 covers 400,500
    already = covered(a, [0])
    gain = marginal_gain(a, WEIGHTS, already)
    np.testing.assert_allclose(gain, [0.0, 30 + 40 + 50, 50 + 60])
    np.testing.assert_allclose(marginal_gain(a, WEIGHTS, np.zeros(6, bool)), [30.0, 140.0, 110.0])


def test_random_case_matches_brute_force():
    rng = np.random.default_rng(42)
    d = rng.uniform(0, 5_000, (2_000, 2)) + [X0, Y0]
    s = rng.uniform(0, 5_000, (150, 2)) + [X0, Y0]
    r = rng.uniform(100, 800, 150)
    a = coverage_matrix(d, s, r)
    dist = np.hypot(d[:, None, 0] - s[None, :, 0], d[:, None, 1] - s[None, :, 1])
    np.testing.assert_array_equal(a.toarray(), dist <= r[None, :])
    w = rng.uniform(0, 10, 2_000)
    sel = rng.random(150) < 0.3
    truth = (dist[:, sel] <= r[sel]).any(axis=1)
    assert coverage_share(a, w, selected=sel).share == pytest.approx(w[truth].sum() / w.sum())
    np.testing.assert_allclose(marginal_gain(a, w, truth), ((dist <= r) & ~truth[:, None]).T @ w)


def test_geographic_coordinates_refused():
    lonlat = np.array([[118.08, 24.48], [118.10, 24.50]])  # Xiamen in degrees
    with pytest.raises(CRSError) as exc:
        coverage_matrix(lonlat, lonlat, 500.0)
    assert exc.value.layers == ["demand", "sites"]
    assert "EPSG:4548" in str(exc.value)
    with pytest.raises(CRSError):
        coverage_matrix(DEMAND, lonlat, 500.0)


def test_invalid_inputs_all_reported():
    with pytest.raises(ValidationError) as exc:
        coverage_matrix(DEMAND[:, :1], SITES, [100.0, -5.0, np.nan])
    fields = [p.field for p in exc.value.problems]
    assert fields == ["geometry", "radius_m"]
    with pytest.raises(ValidationError, match="radius_m has shape"):
        coverage_matrix(DEMAND, SITES, [100.0, 100.0])
    a = coverage_matrix(DEMAND, SITES, 120.0)
    with pytest.raises(ValidationError, match="negative or not finite"):
        coverage_share(a, -WEIGHTS)
    with pytest.raises(ValidationError, match="6 demand rows"):
        coverage_share(a, WEIGHTS[:5])
    with pytest.raises(ValidationError, match="n_groups"):
        coverage_share(a, WEIGHTS, groups=np.arange(6), n_groups=3)
    with pytest.raises(ValidationError, match="3 sites"):
        covered(a, [3])
    with pytest.raises(ValidationError, match="boolean"):
        marginal_gain(a, WEIGHTS, np.zeros(6))
    with pytest.raises(ValidationError, match="scipy.sparse"):
        covered(a.toarray())


def test_empty_sites_give_empty_matrix():
    a = coverage_matrix(DEMAND, np.empty((0, 2)), 100.0)
    assert a.shape == (6, 0) and a.nnz == 0
    assert coverage_share(a, WEIGHTS).share == 0.0


def test_chunked_build_is_exact_canonical_csc(monkeypatch):
    import geoplan.coverage as cov_module

    rng = np.random.default_rng(7)
    d = np.round(rng.uniform(0, 3_000, (1_500, 2)) / 50) * 50 + [X0, Y0]  # on a 50 m lattice: exact boundaries
    s = np.round(rng.uniform(0, 3_000, (90, 2)) / 50) * 50 + [X0, Y0]
    r = rng.choice([150.0, 250.0, 400.0], 90)
    whole = coverage_matrix(d, s, r)
    monkeypatch.setattr(cov_module, "_CHUNK_PAIRS", 300)  # many chunks of a few sites
    chunked = coverage_matrix(d, s, r)
    dist = np.hypot(d[:, None, 0] - s[None, :, 0], d[:, None, 1] - s[None, :, 1])
    for a in (whole, chunked):
        assert isinstance(a, sp.csc_matrix) and a.dtype == bool and a.has_canonical_format
        np.testing.assert_array_equal(a.toarray(), dist <= r[None, :])
        assert a.indices.dtype == np.int32
    assert (dist == r[None, :]).any()  # the test does reach points exactly at the radius
