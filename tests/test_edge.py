import itertools
import json

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point

import geoplan as gp
from geoplan.edge import check_section, place_edge, populated_block_cells
from geoplan.errors import ConfigError, InfeasibleError, ValidationError
from geoplan.latency import LatencyModel
from geoplan.placement import median_cover

from .conftest import tiny_layers, tiny_plan
from .test_cli import run

X0, Y0 = 600_000.0, 2_700_000.0


def line(xs_km):
    x = np.asarray(xs_km, dtype=float) * 1000
    return np.abs(x[:, None] - x[None, :])


# ---------------------------------------------------------------- array core: hand-checkable cases


@pytest.mark.parametrize("method", ["greedy", "exact"])
@pytest.mark.parametrize("objective", ["median", "center"])
def test_two_clusters_on_a_line_get_their_middles(objective, method):
    D = line([0, 1, 2, 10, 11, 12])
    res = median_cover(D, np.ones(6), p=2, radius_m=50_000, objective=objective, method=method)
    assert res.selected.tolist() == [1, 4]
    assert res.distance_m.tolist() == [1000, 0, 1000, 1000, 0, 1000]
    assert res.nearest.tolist() == [1, 1, 1, 4, 4, 4]
    assert res.max_distance_m == 1000 and res.mean_distance_m == pytest.approx(4000 / 6)
    assert res.covered_share == 1.0
    if method == "exact":
        assert res.status == "optimal" and res.gap == pytest.approx(0.0)


@pytest.mark.parametrize("method", ["greedy", "exact"])
def test_median_and_center_differ_where_they_should(method):
    # weights 10,10,10,1,1 at 0,1,2,3,10 km: the weighted median is at 1 km (cost 31),
    # the centre at 3 km (worst 7 km; 2 km gives 8, 10 km gives 10)
    D = line([0, 1, 2, 3, 10])
    w = np.array([10.0, 10, 10, 1, 1])
    med = median_cover(D, w, p=1, radius_m=100_000, objective="median", method=method)
    cen = median_cover(D, w, p=1, radius_m=100_000, objective="center", method=method)
    assert med.selected.tolist() == [1] and float(w @ med.distance_m) == 31_000
    assert cen.selected.tolist() == [3] and cen.max_distance_m == 7000


@pytest.mark.parametrize("method", ["greedy", "exact"])
def test_coverage_floor_beats_the_median(method):
    # demand at 0 km (3), 4 km (3), 10 km (5); candidates at the points and at 2 km; radius 3 km.
    # Unconstrained, the median is at 4 km (cost 42); but only the 2 km site covers 6 (0 and 4 km),
    # so the plan must stay there (cost 52) and leaves the 10 km point uncovered.
    xd = np.array([0.0, 4, 10]) * 1000
    xc = np.array([0.0, 4, 10, 2]) * 1000
    D = np.abs(xd[:, None] - xc[None, :])
    w = np.array([3.0, 3, 5])
    res = median_cover(D, w, p=1, radius_m=3000, method=method)
    assert res.selected.tolist() == [3]
    assert res.covered_weight == 6 and res.covered.tolist() == [True, True, False]
    assert res.coverage_bound == 6


def test_fixed_sites_stay_and_count_toward_p():
    D = line([0, 1, 2, 10, 11, 12])
    res = median_cover(D, np.ones(6), p=2, radius_m=50_000, fixed=[0])
    assert res.selected.tolist() == [0, 4]
    res = median_cover(D, np.ones(6), p=2, radius_m=50_000, fixed=[0], method="exact")
    assert res.selected.tolist() == [0, 4]


def _brute(D, w, p, radius, objective):
    best = None
    for combo in itertools.combinations(range(D.shape[1]), p):
        d = D[:, combo].min(axis=1)
        cov = float(w[d <= radius].sum())
        key = (-cov, float(w @ d)) if objective == "median" else (-cov, float(d[w > 0].max()), float(w @ d))
        if best is None or key < best[0]:
            best = (key, combo)
    return best[0]


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("objective", ["median", "center"])
def test_exact_matches_brute_force(seed, objective):
    rng = np.random.default_rng(seed)
    P = rng.uniform(0, 10_000, (14, 2))
    C = np.vstack([P[:5], rng.uniform(0, 10_000, (4, 2))])
    D = np.hypot(P[:, 0, None] - C[None, :, 0], P[:, 1, None] - C[None, :, 1])
    w = rng.integers(1, 9, 14).astype(float)
    want = _brute(D, w, 3, 3500.0, objective)
    res = median_cover(D, w, p=3, radius_m=3500.0, objective=objective, method="exact")
    d = res.distance_m
    got = (-res.covered_weight, float(w @ d)) if objective == "median" else (-res.covered_weight, res.max_distance_m)
    assert got == pytest.approx(want[: len(got)], rel=1e-9)
    heur = median_cover(D, w, p=3, radius_m=3500.0, objective=objective)
    assert heur.covered_weight >= heur.coverage_bound - 1e-9
    assert heur.covered_weight <= -want[0] + 1e-9


def test_bad_input_is_reported():
    D = line([0, 1, 2])
    with pytest.raises(ValidationError, match="weights"):
        median_cover(D, [1.0, -1.0, 1.0], p=1, radius_m=1000)
    with pytest.raises(ValidationError, match="radius_m"):
        median_cover(D, np.ones(3), p=1, radius_m=0)
    with pytest.raises(InfeasibleError, match="candidate"):
        median_cover(D, np.ones(3), p=4, radius_m=1000)
    with pytest.raises(InfeasibleError, match="fixed"):
        median_cover(D, np.ones(3), p=1, radius_m=1000, fixed=[0, 1])
    with pytest.raises(InfeasibleError, match="p >= 1"):
        median_cover(D, np.ones(3), p=0, radius_m=1000)
    with pytest.raises(ConfigError, match="objective"):
        median_cover(D, np.ones(3), p=1, radius_m=1000, objective="mean")


def test_populated_block_cells_takes_the_heaviest_per_block():
    x = [10, 20, 1500, 1600, 5000]
    y = [10, 20, 10, 30, 10]
    w = [1.0, 3.0, 2.0, 0.5, 0.1]
    assert populated_block_cells(x, y, w, spacing_m=1000).tolist() == [1, 2, 4]
    assert populated_block_cells(x, y, w, spacing_m=1000, min_weight=1.0).tolist() == [1, 2]


# ---------------------------------------------------------------- project level


def tiny_project(*, dc_status="existing", n_dc=1):
    districts, raster, _ = tiny_layers()
    crs = districts.crs
    demand = gpd.GeoDataFrame(
        {"NAME": ["港A", "院A", "校B", "园B"], "CATEGORY": ["port", "hospital", "school", "industrial_park"],
         "WEIGHT": [5.0, 2.0, 1.0, 4.0]},
        geometry=[Point(X0 + 100, Y0 + 500), Point(X0 + 900, Y0 + 500), Point(X0 + 1100, Y0 + 500),
                  Point(X0 + 1900, Y0 + 500)], crs=crs)
    dc = gpd.GeoDataFrame({"DC_ID": [f"DC-OLD{i or ''}" for i in range(n_dc)], "STATUS": [dc_status] * n_dc},
                          geometry=[Point(X0 + 100 + 10 * i, Y0 + 500) for i in range(n_dc)], crs=crs)
    return gp.project_from_layers(districts=districts, population=raster, layers={"edge_demand": demand, "edge_dc": dc},
                                  name="tiny", metric_crs="EPSG:4548", plan=tiny_plan())


def test_place_edge_on_a_tiny_project_by_hand():
    proj = tiny_project()
    # radius 300 m: budget = 0.1 ms equipment + 0.3 km × 1.5 × 5 µs/km = 0.10225 ms
    plan = place_edge(proj, count=2, latency_ms=0.10225, candidate_spacing_m=1000, min_block_population=1e9)
    s = plan.summary
    assert s.radius_km == pytest.approx(0.3)
    assert s.existing == 1 and s.new == 1 and len(plan.sites) == 2
    sites = plan.sites.to_crs(4548)
    assert plan.sites["DC_ID"].tolist()[0] == "DC-OLD"
    # the existing DC sits on 港A; the best second site is 园B (weight 4): 院A and 校B stay outside 300 m
    assert sites.geometry.x.round(3).tolist() == [X0 + 100, X0 + 1900]
    assert plan.demand["WITHIN"].tolist() == [True, False, False, True]
    assert s.uncovered_points == 2 and s.uncovered_weight == 3.0
    assert plan.demand["DIST_KM"].tolist() == pytest.approx([0.0, 0.8, 0.8, 0.0])
    assert plan.demand["LAT_MS"].tolist() == pytest.approx([0.1, 0.106, 0.106, 0.1])
    assert plan.demand["RTT_MS"].tolist() == pytest.approx([0.2, 0.212, 0.212, 0.2])
    d = plan.districts.set_index("XZQDM")
    assert d.loc["350901", "sites"] == 1 and d.loc["350902", "sites"] == 1
    assert d.loc["350901", "existing"] == 1 and d.loc["350902", "new"] == 1
    assert d.loc["350901", "uncovered_weight"] == 2.0 and d.loc["350902", "uncovered_weight"] == 1.0


def test_place_edge_refuses_too_many_fixed_sites_and_missing_layers(tiny):
    with pytest.raises(InfeasibleError, match="--count"):
        place_edge(tiny_project(n_dc=2), count=1)
    with pytest.raises(InfeasibleError, match="--no-keep-planned"):
        place_edge(tiny_project(n_dc=2, dc_status="planned"), count=1)
    plan = place_edge(tiny_project(dc_status="planned"), count=1, keep_planned=False)
    assert plan.summary.planned_kept == 0 and plan.summary.new == 1
    with pytest.raises(ConfigError, match="edge_demand"):
        place_edge(tiny, count=2)


def test_check_section_counts_dcs_and_the_circle():
    sec = check_section(tiny_project(), year=2025)
    assert sec.target == 32 and sec.existing == 1 and sec.shortfall == 31 and not sec.meets_target
    assert sec.latency.radius_km == 120.0
    assert sec.latency.demand_within_share == 1.0 and sec.latency.population_within_share == 1.0
    strict = check_section(tiny_project(), year=2025, latency=LatencyModel(equipment_ms=0.99))
    # radius 0.01 ms / 5 µs / 1.5 = 1.333 km: 园B (1.8 km away) is outside
    assert strict.latency.demand_outside_points == 1


def test_place_edge_xiamen(xiamen):
    plan = place_edge(xiamen, count=32)
    s = plan.summary
    assert len(plan.sites) == 32 and plan.districts["sites"].sum() == 32
    assert (plan.districts["sites"] > 0).all()
    assert s.uncovered_weight == 0 and s.max_latency_ms < 1.0
    assert plan.sites.crs.to_epsg() == 4490 and set(plan.sites["STATUS"]) == {"planned"}
    assert len(plan.demand) == s.demand_points == len(xiamen.layer("edge_demand"))
    # every demand point's latency is that of the distance to the site it is served by
    assert plan.demand["LAT_MS"].to_numpy() == pytest.approx(0.1 + plan.demand["DIST_KM"].to_numpy() * 1.5 * 0.005,
                                                             abs=2e-4)


def test_cli_place_edge_json_and_out(capsys, tmp_path):
    out = tmp_path / "edge.gpkg"
    code, text, _ = run(capsys, "place", "edge", "--count", "12", "--latency-ms", "0.2", "--format", "json",
                        "--out", str(out))
    assert code == 0
    data = json.loads(text)
    assert data["summary"]["count"] == 12 and len(data["sites"]) == 12
    assert data["summary"]["radius_km"] == pytest.approx(13.333, abs=1e-3)
    back = gpd.read_file(out, layer="edge_dc")  # a plan file: the layer under its key, with geoplan_plan beside
    assert len(back) == 12 and {"DC_ID", "STATUS", "LAT_MS"} <= set(back.columns)
    code, text, _ = run(capsys, "place", "edge", "--format", "csv", "--by", "site", "--count", "5")
    assert code == 0 and text.splitlines()[0].startswith("\ufeffDC_ID,STATUS,LAT_MS") and len(text.splitlines()) == 6
    code, _, err = run(capsys, "place", "edge", "--latency-ms", "0.05")
    assert code == 6 and "equipment" in err
