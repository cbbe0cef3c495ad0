import numpy as np
import pytest

from geoplan.errors import ConfigError, InfeasibleError
from geoplan.placement.sites import allocate_quotas, evaluate_sites, place_sites, planning_context


@pytest.fixture(scope="module")
def xm_ctx(request):
    xiamen = request.getfixturevalue("xiamen")
    return planning_context(xiamen)


def test_allocate_quotas_exact_and_proportional():
    assert allocate_quotas(np.array([13, 0]), 100).tolist() == [13, 0]
    assert allocate_quotas(np.array([13, 0]), 5).tolist() == [5, 0]
    q = allocate_quotas(np.array([3, 3, 3]), 7)
    assert q.sum() == 7 and q.max() - q.min() <= 1


def test_year_meets_every_district_target(tiny):
    res = place_sites(tiny, year=2025)
    t = res.districts
    # A: 10,000 residents, 20 sites, needs 33 -> 13 new; B already meets (40/10k)
    assert t["new"].tolist() == [13, 0]
    assert t["meets_target"].all()
    assert len(res.sites) == 13 and set(res.sites["XZQDM"]) == {"350901"}
    assert res.sites["RANK"].tolist() == list(range(1, 14))
    assert res.sites.crs.to_epsg() == 4490


def test_total_shares_budget_by_shortfall(tiny):
    res = place_sites(tiny, total=45)  # 40 existing -> 5 new, all to the short district
    assert res.districts["new"].tolist() == [5, 0]
    assert res.summary["stations"] == 45


def test_total_below_existing_is_infeasible(tiny):
    with pytest.raises(InfeasibleError, match="below the 40 that already exist"):
        place_sites(tiny, total=39)


def test_more_sites_than_candidates_is_infeasible(tiny):
    with pytest.raises(InfeasibleError, match="candidates"):
        place_sites(tiny, total=40 + 10_000)


def test_needs_total_or_year(tiny):
    with pytest.raises(ConfigError, match="--total"):
        place_sites(tiny)


def test_drawn_site_is_kept(tiny):
    ctx = planning_context(tiny)
    drawn = ctx.cand_xy[[7]]
    res = place_sites(tiny, year=2025, context=ctx, fixed_xy=drawn)
    assert 7 in res.placement.selected.tolist()


def test_exact_not_worse_than_greedy(tiny):
    ctx = planning_context(tiny)
    g = place_sites(tiny, total=48, context=ctx, method="greedy")
    e = place_sites(tiny, total=48, context=ctx, method="exact", time_limit_s=30)
    assert e.summary["objective"] >= g.summary["objective"] - 1e-6
    assert e.summary["status"] in ("optimal", "time_limit", "feasible")


def test_deterministic_for_seed(tiny):
    a = place_sites(tiny, total=50, seed=3)
    b = place_sites(tiny, total=50, seed=3)
    assert a.placement.selected.tolist() == b.placement.selected.tolist()


def test_xiamen_2025_all_districts_meet_and_coverage_rises(xiamen, xm_ctx):
    res = place_sites(xiamen, year=2025, context=xm_ctx)
    t = res.districts
    assert t["meets_target"].all()
    assert res.summary["new"] == 6_164  # sum of district shortfalls (geoplan check)
    assert (t["coverage_after"] >= t["coverage_before"]).all()
    assert res.summary["coverage_after"] > res.summary["coverage_before"] + 0.1
    # gains recorded per site add up to the objective
    assert res.sites["GAIN_POP"].sum() == pytest.approx(res.summary["objective"], rel=1e-6)


def test_evaluate_sites_matches_hand_count(tiny):
    ctx = planning_context(tiny)
    sel = np.flatnonzero(ctx.cand_district == 1)[:3]
    table, summary = evaluate_sites(ctx, sel, year=2025)
    assert table["new"].tolist() == [0, 3]
    assert summary["stations"] == 43
