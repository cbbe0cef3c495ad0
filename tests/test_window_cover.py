"""Covered shares on a raster window (the county engine's coverage) against a cell-by-cell brute force."""

from __future__ import annotations

import numpy as np
import pytest
from affine import Affine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geoplan import radio
from geoplan._window_cover import WindowCells, covered_total
from geoplan.coverage import cell_shares

SIDE = 100.0
HALF_DIAG = SIDE * np.sqrt(0.5)


def _brute(cells: WindowCells, xy: np.ndarray, radii: np.ndarray) -> np.ndarray:
    """Σ_j a_ij of every cell, site after site, one cell at a time."""
    x, y = cells.centres()
    out = np.zeros(cells.shape)
    for r, c in zip(*np.nonzero(cells.mask), strict=True):
        for j in range(len(xy)):
            rad = radii[j, cells.env[r, c]]
            if rad > 0:
                out[r, c] += float(cell_shares(np.array([x[c] - xy[j, 0]]), np.array([y[r] - xy[j, 1]]),
                                               np.array([rad]), SIDE)[0])
    return out


@st.composite
def windows(draw: st.DrawFn) -> tuple[WindowCells, np.ndarray, np.ndarray, np.ndarray | None]:
    h, w = draw(st.integers(1, 14)), draw(st.integers(1, 14))
    row_off, col_off = draw(st.integers(0, 5)), draw(st.integers(0, 5))
    t = Affine(SIDE, 0.0, 500_000.0, 0.0, -SIDE, 2_700_000.0)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    mask = rng.random((h, w)) < draw(st.floats(0.3, 1.0))
    env = rng.integers(0, 4, size=(h, w))
    cells = WindowCells(row_off, col_off, mask, env, SIDE, t)
    n = draw(st.integers(0, 12))
    x0, y0 = t.c + col_off * SIDE, t.f - row_off * SIDE
    xy = np.column_stack([x0 + rng.uniform(-300, w * SIDE + 300, n), y0 - rng.uniform(-300, h * SIDE + 300, n)])
    if n and draw(st.booleans()):  # sites on cell centres and corners: the exact boundaries
        xy = np.round(xy / 50.0) * 50.0
    # radii around the cases that matter: 0, inside a cell, exactly r - side/√2 at whole cell steps, large
    pool = np.array([0.0, 10.0, 30.0, 50.0, HALF_DIAG, 100.0 + HALF_DIAG, 200.0 + HALF_DIAG, 150.0, 250.0,
                     np.hypot(150.0, 50.0), 300.0 + HALF_DIAG, 420.0, 700.0])
    radii = pool[rng.integers(0, pool.size, size=(n, 4))] if n else np.zeros((0, 4))
    prior = None
    if draw(st.booleans()):
        prior = np.where(rng.random((h, w)) < 0.3, 1.0, rng.random((h, w)) * 0.9)
    return cells, xy, radii, prior


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(windows())
def test_covered_total_is_the_brute_force_sum_where_it_matters(case):
    """min(1, prior + Σ) equals the brute force's; a cell left below 1 has the same sum, bit for bit."""
    cells, xy, radii, prior = case
    got = covered_total(cells, xy, radii, prior=prior)
    want = _brute(cells, xy, radii)
    p = np.zeros(cells.shape) if prior is None else prior
    m = cells.mask
    np.testing.assert_array_equal(np.minimum(1.0, p + got)[m], np.minimum(1.0, p + want)[m])
    below = m & (p + want < 1.0)
    np.testing.assert_array_equal(got[below], want[below])
    assert (got[~m] == 0).all()


def test_a_cell_held_whole_by_a_margin_of_a_micron_takes_the_exact_path():
    """Centres at exactly r - side/√2: marked whole only by the exact test, never by round-off."""
    t = Affine(SIDE, 0.0, 0.0, 0.0, -SIDE, 1000.0)
    cells = WindowCells(0, 0, np.ones((9, 9), dtype=bool), np.zeros((9, 9), dtype=np.int64), SIDE, t)
    centre = np.array([[450.0, 550.0]])  # centre of cell (4, 4)
    for r in (200.0 + HALF_DIAG, 200.0 + HALF_DIAG - 1e-9, 200.0 + HALF_DIAG + 1e-9):
        got = covered_total(cells, centre, np.full((1, 1), r))
        np.testing.assert_array_equal(np.minimum(got, 1.0), np.minimum(_brute(cells, centre, np.full((1, 1), r)), 1.0))


def test_radio_disc_share_agrees_with_the_window_sum_for_one_small_site():
    """A 20 m indoor system on a cell centre covers its area share of the cell and nothing else."""
    t = Affine(SIDE, 0.0, 0.0, 0.0, -SIDE, 500.0)
    cells = WindowCells(0, 0, np.ones((5, 5), dtype=bool), np.zeros((5, 5), dtype=np.int64), SIDE, t)
    got = covered_total(cells, np.array([[250.0, 250.0]]), np.full((1, 1), 20.0))
    assert got[2, 2] == pytest.approx(np.pi * 20.0**2 / SIDE**2) == float(np.float32(radio.disc_square_share(0.0, 0.0, 20.0, side_m=SIDE)))
    assert got.sum() == got[2, 2]


def test_runs_made_in_small_batches_mark_the_same_cells(monkeypatch):
    """Cells held whole do not depend on how many runs are made at once (memory bound)."""
    import geoplan._window_cover as wc

    rng = np.random.default_rng(5)
    t = Affine(SIDE, 0.0, 0.0, 0.0, -SIDE, 4000.0)
    cells = WindowCells(0, 0, rng.random((40, 40)) < 0.9, rng.integers(0, 4, size=(40, 40)), SIDE, t)
    xy = rng.uniform(-200, 4200, size=(60, 2))
    radii = rng.choice([0.0, 90.0, 250.0, 480.0, 900.0], size=(60, 4))
    whole = covered_total(cells, xy, radii)
    for batch in (1, 7, 100):
        monkeypatch.setattr(wc, "RUN_BATCH", batch)
        np.testing.assert_array_equal(covered_total(cells, xy, radii), whole)
    assert ((whole >= 1.0) & cells.mask).sum() > 100  # the batches had cells to mark
