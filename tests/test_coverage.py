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
        marginal_gain(a, WEIGHTS, np.full(6, 2.0))  # shares above 1
    with pytest.raises(ValidationError, match="boolean"):
        marginal_gain(a, WEIGHTS, np.zeros(6, dtype=np.int64))
    with pytest.raises(ValidationError, match="scipy.sparse"):
        covered(a.toarray())


def test_empty_sites_give_empty_matrix():
    a = coverage_matrix(DEMAND, np.empty((0, 2)), 100.0)
    assert a.shape == (6, 0) and a.nnz == 0
    assert coverage_share(a, WEIGHTS).share == 0.0


# --------------------------------------------------------------------------- covered shares of cells (issue 18)


def _subsampled_share(dx: float, dy: float, r: float, side: float, n: int = 1000) -> float:
    """Share of a square cell inside a disc by a fine lattice of sub-samples (an independent reference)."""
    g = (np.arange(n) + 0.5) / n - 0.5
    x, y = np.meshgrid(dx + g * side, dy + g * side)
    return float(np.mean(x * x + y * y <= r * r))


def test_small_disc_in_a_100m_cell_covers_its_area_share():
    """A 20 m indoor system at a cell's centre covers π·20²/100² of the 100 m cell (not 0 or 1)."""
    a = coverage_matrix(DEMAND[:1], SITES[:1], 20.0, cell_m=100.0)
    assert a.dtype == np.float32 and a.nnz == 1
    assert a[0, 0] == pytest.approx(np.pi * 20**2 / 100**2, rel=1e-6)
    # the whole cell inside a disc is exactly 1.0, a disc that misses the cell is no entry
    b = coverage_matrix(DEMAND[:2], SITES[:1], [71.0], cell_m=100.0)  # corner at 70.7 m: whole cell 0
    assert b[0, 0] == 1.0 and 0 < b[1, 0] < 1  # cell 1 (50..150 m) is clipped by the 71 m disc
    c = coverage_matrix(DEMAND[2:3], SITES[:1], [150.0], cell_m=100.0)  # cell 2 spans 150..250 m: touches only
    assert c.nnz == 0


@pytest.mark.parametrize(("dx", "dy", "r"), [(80.0, 0.0, 100.0), (60.0, 45.0, 90.0), (130.0, 120.0, 170.0),
                                             (0.0, 95.0, 60.0), (-140.0, 30.0, 180.0)])
def test_cell_straddling_a_disc_edge_matches_a_fine_subsample(dx, dy, r):
    a = coverage_matrix(np.array([[X0 + dx, Y0 + dy]]), np.array([[X0, Y0]]), r, cell_m=100.0)
    expected = _subsampled_share(dx, dy, r, 100.0)
    assert 0 < expected < 1
    assert float(a[0, 0]) == pytest.approx(expected, abs=2e-3)


def test_radius_of_the_receiving_cell_class():
    """Each demand class is covered with its own radius: the site's radius for the cell served."""
    d = np.array([[X0 + 100, Y0], [X0 + 100, Y0 + 0.5]])  # two cells at the same place, classes 0 and 1
    a = coverage_matrix(d, SITES[:1], [[50.0, 200.0]], demand_class=[0, 1], cell_m=100.0)
    assert a[0, 0] == pytest.approx(_subsampled_share(100.0, 0.0, 50.0, 100.0), abs=2e-3)
    assert a[1, 0] == 1.0
    # a radius of 0 for a class: the site serves no cell of it
    b = coverage_matrix(d, SITES[:1], [[0.0, 200.0]], demand_class=[0, 1], cell_m=100.0)
    assert b[:, 0].toarray().ravel().tolist() == [0.0, 1.0]
    with pytest.raises(ValidationError, match="demand_class"):
        coverage_matrix(d, SITES[:1], [[50.0, 200.0]], demand_class=[0, 2], cell_m=100.0)
    with pytest.raises(ValidationError, match="radius_m"):
        coverage_matrix(d, SITES[:1], [[50.0, 200.0, 1.0, 2.0, 3.0]][0][:1] * 3, demand_class=[0, 1])


def test_covered_share_caps_the_sum_at_one_and_gains_count_only_the_rest():
    """A cell's covered share is min(1, s0 + Σ a_ij); a site adds Σ w min(a_ij, 1 - s_i)."""
    import scipy.sparse as sp

    from geoplan.coverage import covered_share

    a = sp.csc_matrix(np.array([[0.6, 0.7, 0.0], [0.2, 0.0, 0.1], [0.0, 0.0, 0.0]], dtype=np.float32))
    np.testing.assert_allclose(covered_share(a), [1.0, 0.3, 0.0], rtol=1e-6)
    np.testing.assert_allclose(covered_share(a, [1], base=np.array([0.5, 0.5, 0.25])), [1.0, 0.5, 0.25], rtol=1e-6)
    w = np.array([10.0, 100.0, 7.0])
    share = covered_share(a, [0])
    # after site 0 cell 0 is 0.6 covered (0.4 left), cell 1 0.2 (0.8 left): site 0 again would add its own shares
    np.testing.assert_allclose(marginal_gain(a, w, share), [10 * 0.4 + 100 * 0.2, 10 * 0.4, 100 * 0.1], rtol=1e-6)
    r = coverage_share(a, w, selected=[0, 2])
    assert r.covered_weight == pytest.approx(10 * 0.6 + 100 * 0.3, rel=1e-6)


def test_fractional_matrix_random_case_matches_subsampling():
    rng = np.random.default_rng(3)
    cells = np.stack(np.meshgrid(np.arange(30) * 100.0, np.arange(30) * 100.0), axis=-1).reshape(-1, 2) + [X0, Y0]
    s = rng.uniform(0, 2_900, (12, 2)) + [X0, Y0]
    r = rng.uniform(15, 400, 12)
    a = coverage_matrix(cells, s, r, cell_m=100.0).toarray()
    for j in range(12):
        near = np.flatnonzero(np.hypot(*(cells - s[j]).T) < r[j] + 80)
        for i in near[::7]:
            dx, dy = cells[i] - s[j]
            assert a[i, j] == pytest.approx(_subsampled_share(dx, dy, r[j], 100.0, n=400), abs=5e-3)


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


def _dense_reference(d, s, r, cls, side):
    """Every cell × site share by :func:`cell_shares` on the full dense grid of pairs (no k-d tree, no chunks)."""
    from geoplan.coverage import cell_shares

    ii, jj = np.meshgrid(np.arange(len(d)), np.arange(len(s)), indexing="ij")
    ii, jj = ii.ravel(), jj.ravel()
    shares = cell_shares(d[ii, 0] - s[jj, 0], d[ii, 1] - s[jj, 1], r[jj, cls[ii]], side[ii])
    return np.where(r[jj, cls[ii]] > 0, shares, 0.0).reshape(len(d), len(s))


@pytest.mark.parametrize("broken_pairs", [False, True])
def test_per_class_share_build_in_place_matches_dense_reference(monkeypatch, broken_pairs):
    """Classes, shares, chunks, squeezing zeros in blocks and redoing sites whose two passes disagree: exact."""
    import geoplan.coverage as cov_module

    rng = np.random.default_rng(11)
    d = np.round(rng.uniform(0, 2_000, (900, 2)) / 50) * 50 + [X0, Y0]
    s = np.round(rng.uniform(0, 2_000, (70, 2)) / 50) * 50 + [X0, Y0]
    cls = rng.integers(0, 3, len(d))
    r = rng.choice([0.0, 20.0, 150.0, 250.0, 400.0], (70, 3))
    side = rng.choice([50.0, 100.0], len(d))
    expected = _dense_reference(d, s, r, cls, side)
    monkeypatch.setattr(cov_module, "_CHUNK_PAIRS", 300)
    monkeypatch.setattr(cov_module, "_ZERO_BLOCK", 7)
    if broken_pairs:  # a pass that misses every 5th pair: those sites must be rebuilt from their own query
        real = cov_module._pairs
        monkeypatch.setattr(cov_module, "_pairs", lambda *a: tuple(x[np.arange(x.size) % 5 != 0] for x in real(*a)))
    a = coverage_matrix(d, s, r, demand_class=cls, cell_m=side)
    assert isinstance(a, sp.csc_matrix) and a.dtype == np.float32 and a.has_canonical_format
    assert a.indices.dtype == np.int32 and a.data.all()  # no explicit zeros
    np.testing.assert_array_equal(a.toarray(), expected.astype(np.float32))
    assert ((expected > 0) & (expected < 1)).any() and (expected == 1).any()
    # booleans with classes: the centre within the class's radius
    b = coverage_matrix(d, s, r, demand_class=cls)
    dist = np.hypot(d[:, None, 0] - s[None, :, 0], d[:, None, 1] - s[None, :, 1])
    rad = r[:, cls].T
    assert b.dtype == bool and b.has_canonical_format
    np.testing.assert_array_equal(b.toarray(), (dist <= rad) & (rad > 0))
