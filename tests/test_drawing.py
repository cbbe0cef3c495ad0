import numpy as np
import pytest
from pyproj import Transformer

from geoplan import radio
from geoplan.drawing import area_coverage, evaluate_drawn_sites
from geoplan.errors import ValidationError
from geoplan.placement import planning_context

from .conftest import tiny_layers


def _lonlat(x, y):
    lon, lat = Transformer.from_crs(4548, 4490, always_xy=True).transform(x, y)
    return np.column_stack([np.atleast_1d(lon), np.atleast_1d(lat)])


def _added_by_brute_force(x: float, y: float, *, site_type: str) -> float:
    """Persons a site drawn at metric ``(x, y)`` of the tiny project newly covers, cell by cell.

    Straight from the layers and the link budget: every 100 m cell centre of the raster,
    its environment from its density, each existing site's radius from the environment of
    the cell it stands in, and the cells within the drawn site's radius that no existing
    site reaches.
    """
    _, raster, sites = tiny_layers()
    rows, cols = np.indices(raster.values.shape)
    t = raster.transform
    cx, cy = t.c + t.a * (cols.ravel() + 0.5), t.f + t.e * (rows.ravel() + 0.5)
    pop = raster.values.ravel()
    env = np.asarray(radio.ENVIRONMENT_NAMES)[radio.environment_from_density(pop / 0.01)]

    def reach(px, py, kind):
        near = np.argmin(np.hypot(cx - px, cy - py))
        r = radio.cell_radius_m(band="n78", site=kind, environment=str(env[near]), indoor=True)
        return np.hypot(cx - px, cy - py) <= r

    covered = np.zeros(pop.shape, dtype=bool)
    for pt, kind in zip(sites.geometry, sites["SITE_TYPE"], strict=True):
        covered |= reach(pt.x, pt.y, kind)
    return float(pop[reach(x, y, site_type) & ~covered].sum())


def test_drawn_site_counts_in_its_district_and_adds_coverage(tiny):
    ctx = planning_context(tiny)
    # a cell corner in district A (100 persons a cell) where existing sites already reach most of the
    # cells the drawn site reaches (8 of 10 with the n78 indoor macro radius of 180 m at the time of writing)
    x, y = 600_100.0, 2_700_700.0
    ev = evaluate_drawn_sites(ctx, _lonlat(x, y), site_type="macro")
    t = ev.districts
    assert t["drawn"].tolist() == [1, 0]
    assert t["stations_after"].tolist() == [21, 20]
    assert t["per_10k_after"].round(6).tolist() == [21.0, 40.0]
    added = _added_by_brute_force(x, y, site_type="macro")
    assert added > 0 and added % 100 == 0
    assert ev.summary.added_covered_population == pytest.approx(added, abs=1e-6)
    assert ev.summary.coverage_after - ev.summary.coverage_before == pytest.approx(added / 15_000)
    # an area over district A holds its 10,000 residents
    ring = _lonlat(np.array([600_000.0, 601_000, 601_000, 600_000]), np.array([2_700_000.0, 2_700_000, 2_701_000, 2_701_000]))
    a = area_coverage(ctx, ring)
    assert a.population == pytest.approx(10_000, rel=1e-9)
    assert a.existing_sites == 20
    assert a.area_km2 == pytest.approx(1.0, rel=1e-6)


def test_drawn_outside_and_bad_type(tiny):
    ctx = planning_context(tiny)
    ev = evaluate_drawn_sites(ctx, _lonlat(650_000.0, 2_750_000.0))
    assert ev.summary.outside_districts == 1 and ev.districts["drawn"].sum() == 0
    with pytest.raises(ValidationError, match="site type"):
        evaluate_drawn_sites(ctx, _lonlat(600_500.0, 2_700_500.0), site_type="tower")


def test_plan_with_drawn_counts_kept_sites_in_the_plan(tiny):
    from geoplan.drawing import plan_with_drawn
    from geoplan.placement import evaluate_sites

    ctx = planning_context(tiny)
    sel = np.array([0, 1], dtype=np.int64)
    ev0 = evaluate_sites(ctx, sel, year=2025)
    base, base_summary = ev0.districts, ev0.summary
    dp = plan_with_drawn(ctx, sel, _lonlat(600_500.0, 2_700_500.0), site_type="macro", year=2025)
    table, summary, ev = dp.districts, dp.summary, dp.evaluation
    # one drawn site in district A (10,000 residents): one more station there, nothing else moves
    assert (table["stations"] - base["stations"]).tolist() == [1, 0]
    assert (table["new"] - base["new"]).tolist() == [1, 0]
    assert table["per_10k"].iloc[0] == pytest.approx(base["per_10k"].iloc[0] + 1.0)
    assert table["per_10k"].iloc[1] == base["per_10k"].iloc[1]
    assert summary.stations == base_summary.stations + 1 and dp.drawn == 1
    assert summary.coverage_after >= base_summary.coverage_after
    assert table["coverage_after"].tolist() == ev.districts["coverage_after"].tolist()
