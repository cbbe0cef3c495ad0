"""Candidate site generators: grid, population draw, weighted k-means."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from geoplan.errors import ConfigError, CRSError, ValidationError
from geoplan.placement import grid_candidates, population_candidates, weighted_kmeans_candidates

X0, Y0 = 500_000.0, 2_700_000.0  # EPSG:4548 metres around Xiamen


def _clusters(seed=0):
    rng = np.random.default_rng(seed)
    a = rng.normal([X0, Y0], 200, (300, 2))
    b = rng.normal([X0 + 20_000, Y0 + 5_000], 200, (300, 2))
    xy = np.vstack([a, b])
    w = np.r_[np.full(300, 1.0), np.full(300, 3.0)]
    return xy, w


def test_grid_over_a_box_is_even_and_centred():
    xy = grid_candidates((X0, Y0, X0 + 2_000, Y0 + 1_000), spacing_m=500)
    assert xy.shape == (8, 2)
    assert sorted(set(xy[:, 0] - X0)) == [250, 750, 1250, 1750]
    assert sorted(set(xy[:, 1] - Y0)) == [250, 750]


def test_grid_inside_a_polygon_keeps_only_inside_points():
    circle = shapely.Point(X0, Y0).buffer(1_000, quad_segs=64)
    xy = grid_candidates(circle, spacing_m=100)
    assert np.all(np.hypot(xy[:, 0] - X0, xy[:, 1] - Y0) < 1_000)
    assert len(xy) == pytest.approx(np.pi * 100, rel=0.05)  # area / spacing²


def test_grid_refuses_degrees_and_bad_spacing():
    with pytest.raises(CRSError, match="degrees"):
        grid_candidates((117.9, 24.4, 118.3, 24.6), spacing_m=500)
    with pytest.raises(ConfigError, match="spacing_m"):
        grid_candidates((X0, Y0, X0 + 1_000, Y0 + 1_000), spacing_m=0)
    with pytest.raises(ConfigError, match="larger spacing_m"):
        grid_candidates((X0, Y0, X0 + 100_000, Y0 + 100_000), spacing_m=10)
    with pytest.raises(ValidationError, match="empty or inverted"):
        grid_candidates((X0, Y0, X0 - 1, Y0 + 1), spacing_m=10)


def test_population_candidates_are_distinct_populated_and_seeded():
    rng = np.random.default_rng(1)
    xy = np.column_stack([X0 + rng.random(1000) * 5_000, Y0 + rng.random(1000) * 5_000])
    w = rng.random(1000) * 50
    w[::3] = 0.0
    pts, idx = population_candidates(xy, w, n=200, seed=4, return_index=True)
    assert pts.shape == (200, 2) and np.unique(idx).size == 200
    assert np.all(w[idx] > 0) and np.array_equal(pts, xy[idx]) and np.all(np.diff(idx) > 0)
    assert np.array_equal(population_candidates(xy, w, n=200, seed=4), pts)
    assert not np.array_equal(population_candidates(xy, w, n=200, seed=5), pts)


def test_population_candidates_draw_in_proportion_to_weight():
    xy = np.array([[X0, Y0], [X0 + 100, Y0]])
    hits = sum(int(population_candidates(xy, [1.0, 9.0], n=1, seed=s, return_index=True)[1][0]) for s in range(4000))
    assert hits / 4000 == pytest.approx(0.9, abs=0.02)


def test_population_candidates_checks():
    xy = np.array([[X0, Y0], [X0 + 100, Y0], [X0 + 200, Y0]])
    with pytest.raises(ConfigError, match="only 2 points have weight > 0"):
        population_candidates(xy, [1.0, 0.0, 2.0], n=3, seed=0)
    with pytest.raises(CRSError):
        population_candidates([[118.1, 24.5], [118.2, 24.6]], [1.0, 1.0], n=1, seed=0)
    with pytest.raises(ValidationError, match="negative"):
        population_candidates(xy, [1.0, -1.0, 2.0], n=1, seed=0)


def test_weighted_kmeans_finds_the_weighted_centres():
    xy, w = _clusters()
    centres = weighted_kmeans_candidates(xy, w, n=2, seed=0)
    centres = centres[np.argsort(centres[:, 0])]
    expected = np.array([xy[:300].mean(axis=0), xy[300:].mean(axis=0)])
    assert np.allclose(centres, expected, atol=25.0)
    again = weighted_kmeans_candidates(xy, w, n=2, seed=0)
    assert np.array_equal(again[np.argsort(again[:, 0])], centres)


def test_weighted_kmeans_puts_more_centres_where_weight_is():
    xy, w = _clusters(2)
    centres = weighted_kmeans_candidates(xy, w, n=20, seed=1)
    heavy = np.count_nonzero(centres[:, 0] > X0 + 10_000)
    assert heavy > 10  # weight 3:1, centres follow (k-means density ∝ weight^(1/3) per area)
