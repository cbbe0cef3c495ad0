"""Province scale: the Fujian project (built coarse, 1 km), 金门县, and the chunked engine."""

from __future__ import annotations

import json
import shutil

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from affine import Affine
from pyproj import CRS
from scipy.spatial import cKDTree
from shapely.geometry import Point, box

import geoplan as gp
from geoplan import chunked, province
from geoplan import coverage as cov
from geoplan.errors import ConfigError, ValidationError
from geoplan.io import Raster
from geoplan.morphology import project_environment
from geoplan.placement import place_sites

from .conftest import tiny_plan

CITY_CSV = gp.io.shipped("data/gis/sources/fujian/fujian_city_population.csv")
XM_CSV = gp.io.shipped("data/gis/sources/xiamen_district_population.csv")


@pytest.fixture(scope="session")
def fujian_dir(tmp_path_factory):
    """The Fujian project built at 1 km (the same code as the 100 m build, ~100× fewer cells)."""
    out = tmp_path_factory.mktemp("fujian1k")
    province.build_fujian_project(out, cell_m=1000.0)
    return out


@pytest.fixture(scope="session")
def fujian(fujian_dir):
    return gp.load_project(fujian_dir / "geoplan.toml")


@pytest.fixture(scope="session")
def fujian_site_district(fujian):
    return fujian.district_of("sites")


def synthetic_layers(*, seed: int = 7):
    """Four 3 km districts in a 2 × 2 block (EPSG:4548, 100 m cells); the fourth has no statistics.

    Population: a seeded lognormal field (with some empty cells); the fourth district's cells
    are no-data. Sites: 45 in the first three districts, some within 150 m of a border, and
    3 on no-data cells of the fourth district close to the first (their nearest populated
    cell is across the border).
    """
    x0, y0, s = 600_000.0, 2_700_000.0, 3_000.0
    crs = CRS.from_epsg(4548)
    geoms = [box(x0, y0 + s, x0 + s, y0 + 2 * s), box(x0 + s, y0 + s, x0 + 2 * s, y0 + 2 * s),
             box(x0, y0, x0 + s, y0 + s), box(x0 + s, y0, x0 + 2 * s, y0 + s)]
    rng = np.random.default_rng(seed)
    values = rng.lognormal(2.5, 1.0, size=(60, 60))
    values[rng.random((60, 60)) < 0.05] = 0.0
    values[30:, 30:] = -1.0  # district 4: no data
    raster = Raster(values=values, transform=Affine(100, 0, x0, 0, -100, y0 + 2 * s), crs=crs, nodata=-1.0)
    sums = [values[:30, :30].sum(), values[:30, 30:].sum(), values[30:, :30].sum()]
    districts = gpd.GeoDataFrame({"XZQDM": ["350901", "350902", "350903", "350904"],
                                  "XZQMC": ["甲区", "乙区", "丙区", "丁区"],
                                  "POP": [*np.round(sums), np.nan], "NO_STATS": [0, 0, 0, 1]},
                                 geometry=geoms, crs=crs)
    pts = [Point(x0 + rng.uniform(50, 2 * s - 50), y0 + s + rng.uniform(50, s - 50)) for _ in range(25)]
    pts += [Point(x0 + rng.uniform(50, s - 50), y0 + rng.uniform(50, s - 50)) for _ in range(14)]
    # (off the cell edges by a few metres: a point on an edge is as near to two cells)
    pts += [Point(x0 + s - 120, y0 + 1.6 * s + 7), Point(x0 + s + 90, y0 + 1.3 * s + 13),  # by the 1|2 border
            Point(x0 + 0.5 * s + 11, y0 + s - 80), Point(x0 + 1.5 * s + 9, y0 + s + 60),  # 1|3 and 2|4
            Point(x0 + 0.2 * s + 3, y0 + s + 140), Point(x0 + 2 * s - 30, y0 + 1.9 * s + 21)]
    pts += [Point(x0 + s + 130, y0 + s - 170), Point(x0 + s + 40, y0 + 0.5 * s + 17),
            Point(x0 + s + 260, y0 + 40)]
    types = rng.choice(["macro", "micro", "indoor"], size=len(pts), p=[0.6, 0.25, 0.15])
    sites = gpd.GeoDataFrame({"SITE_ID": [f"S{i}" for i in range(len(pts))], "SITE_TYPE": types},
                             geometry=pts, crs=crs)
    return districts, raster, sites


@pytest.fixture()
def synthetic() -> gp.Project:
    districts, raster, sites = synthetic_layers()
    return gp.project_from_layers(districts=districts, population=raster, layers={"sites": sites},
                                  plan=tiny_plan(), name="synthetic", metric_crs="EPSG:4548")


# --------------------------------------------------------------------------- the Fujian build


def test_county_populations_add_up_to_each_city_census(fujian):
    cities = pd.read_csv(CITY_CSV, dtype={"XZQDM": str}).set_index("XZQDM")["pop_census2020"]
    d = fujian.districts
    by_city = d.groupby("CITY_CODE")["POP"].sum()
    assert len(by_city) == 9
    for code, total in by_city.items():
        assert total == cities[code], code  # exact: integer shares, largest remainder
    assert by_city.sum() == cities["350000"] == 41_540_086
    pop = d.set_index("XZQDM")["POP"]
    assert pop["350128"] == 385_981  # 平潭, counted inside 福州's total
    xm = pd.read_csv(XM_CSV, dtype={"XZQDM": str}).set_index("XZQDM")["pop_census2020"]
    for code in ("350203", "350205", "350206", "350211", "350212", "350213"):
        assert pop[code] == xm[code]
    modelled = d["POP_SRC"].str.startswith("MODELLED")
    assert modelled.sum() == 84 - 6 - 1 - 1 and fujian.is_modelled("districts")


def test_grid_sums_equal_county_population(fujian):
    pop = fujian.districts["POP"].to_numpy(dtype=float)
    ok = ~np.isnan(pop)
    np.testing.assert_allclose(fujian.raster_population[ok], pop[ok], atol=1.0)
    r = fujian.population
    assert r.crs.to_epsg() == 4548 == fujian.metric_crs.to_epsg()
    assert r.transform.a == 1000.0


def test_jinmen_kept_in_boundaries_without_statistics(fujian, fujian_site_district):
    d = fujian.districts.set_index("XZQDM")
    assert "350527" in d.index and d.loc["350527", "XZQMC"] == "金门县"
    assert pd.isna(d.loc["350527", "POP"]) and d.loc["350527", "NO_STATS"] == 1
    assert "no statistics" in d.loc["350527", "NOTE"]
    k = fujian.district_codes.index("350527")
    assert fujian.no_statistics.tolist() == [i == k for i in range(84)]
    assert fujian.raster_population[k] == 0.0 and (fujian.grid == k).sum() > 100  # on the grid, no data
    assert (fujian.demand.district != k).all()
    assert (fujian_site_district != k).all()


def test_check_shows_jinmen_and_leaves_it_out_of_totals(fujian):
    rep = gp.targets.check(fujian, year=2025)
    row = rep.table.set_index("XZQDM").loc["350527"]
    assert row["note"] == "no statistics" and row["meets_target"] is None and np.isnan(row["population"])
    assert rep.total.districts == 83 and rep.total.districts_without_statistics == ("350527 金门县",)
    assert rep.total.population == 41_540_086
    assert rep.total.required == 124_621  # ceil(30 × 4,154.0086万)
    data = json.loads(json.dumps(rep.to_dict(), allow_nan=False, ensure_ascii=False))
    jm = next(r for r in data["districts"] if r["XZQDM"] == "350527")
    assert jm["population"] is None and jm["meets_target"] is None and jm["note"] == "no statistics"
    assert sum(1 for r in data["districts"] if "note" in r) == 1


def test_sites_at_the_plans_2022_baseline(fujian, fujian_site_district):
    sites = fujian.layer("sites")
    assert len(sites) == 71_598 == round(17.1 * 41_870_000 / 1e4)
    assert sites["SITE_ID"].is_unique and sites["SITE_ID"].iloc[0].startswith("FJ5G")
    assert (fujian_site_district >= 0).all()
    per = np.bincount(fujian_site_district, minlength=84) / np.maximum(fujian.district_population, 1) * 1e4
    dense = fujian.district_codes.index("350203")  # 思明: denser, so more sites per person (alpha > 1)
    rural = fujian.district_codes.index("350430")  # 建宁
    assert per[dense] > per[rural]


def test_metric_crs_and_far_edge_distortion():
    assert gp.crs.gk_epsg([118.25]) == 4548
    k = province.scale_distortion(120.73, 26.5)
    assert 1.0015 < k < 1.002
    assert province.scale_distortion(117.0, 26.0) == pytest.approx(1.0, abs=1e-9)


def test_county_population_shares_and_errors():
    city = np.array(["A", "A", "A", "B", "B"])
    w = np.array([1.0, 2.0, 5.0, 1.0, 1.0])
    out = county_pop = province.county_population(city, w, {"A": 101, "B": 7}, known={2: 50},
                                                  excluded=np.array([False, False, False, False, True]))
    assert county_pop[:4].tolist() == [17.0, 34.0, 50.0, 7.0] and np.isnan(out[4])
    with pytest.raises(ValidationError, match="more than the city's census"):
        province.county_population(city, w, {"A": 10, "B": 7}, known={2: 50}, excluded=np.zeros(5, dtype=bool))


def test_resolve_project_picks_and_builds_once(fujian_dir, monkeypatch, tmp_path):
    loaded = []
    monkeypatch.setattr(province, "load_project", lambda p: loaded.append(p) or p)
    province.resolve_project(None, None)
    province.resolve_project("xiamen", None)
    province.resolve_project("fujian", fujian_dir / "geoplan.toml")  # a project file wins over the plan
    assert loaded == [None, None, fujian_dir / "geoplan.toml"]
    with pytest.raises(ConfigError, match="no embedded project"):
        province.resolve_project("beijing", None)
    built = []

    def fake_build(out, **kwargs):
        built.append(out)
        shutil.copytree(fujian_dir, out, dirs_exist_ok=True)
        return out / "geoplan.toml"

    monkeypatch.setenv("GEOPLAN_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(province, "build_fujian_project", fake_build)
    assert province.resolve_project("fujian", None) == tmp_path / "fujian" / "geoplan.toml"
    assert province.resolve_project("Fujian", None) == tmp_path / "fujian" / "geoplan.toml"
    assert built == [tmp_path / "fujian"]  # built once, then reused
    (tmp_path / "fujian" / "geoplan.toml").write_text("[build]\nformat = 0\n", encoding="utf-8")
    province.resolve_project("fujian", None)  # a stale build is rebuilt
    assert built == [tmp_path / "fujian"] * 2


# --------------------------------------------------------------------------- chunked == whole


def test_chunked_zonal_sums_and_demand_equal_the_whole_raster(synthetic, xiamen):
    for proj in (synthetic, xiamen):
        np.testing.assert_array_equal(chunked.zonal_sums(proj), proj.raster_population)
        parts = [chunked.county_demand(proj, k) for k in range(len(proj.districts))]
        rows = np.concatenate([p.row for p in parts])
        cols = np.concatenate([p.col for p in parts])
        order = np.lexsort((cols, rows))
        whole = proj.demand
        for f in ("x", "y", "pop", "district", "area_km2", "row", "col"):
            np.testing.assert_array_equal(np.concatenate([getattr(p, f) for p in parts])[order], getattr(whole, f))


def test_site_environment_is_the_nearest_populated_cell(synthetic, xiamen):
    for proj in (synthetic, xiamen):
        d = proj.demand
        xy = np.column_stack([proj.metric("sites").geometry.x, proj.metric("sites").geometry.y])
        env, dens = chunked.site_environment(proj, xy)
        _, nn = cKDTree(d.xy).query(xy, k=1)
        # the class of that cell's neighbourhood (one grid for both engines), the density of the cell itself
        np.testing.assert_array_equal(env, project_environment(proj)[d.row[nn], d.col[nn]])
        np.testing.assert_allclose(dens, d.density_km2[nn], rtol=1e-12)
    # the three sites on no-data cells of the fourth district took a neighbour's cell
    k = synthetic.district_of("sites")
    assert (k == 3).sum() == 3


@pytest.mark.parametrize("indoor", [False, True])
def test_chunked_coverage_equals_whole_including_across_borders(synthetic, xiamen, indoor):
    """Covered shares of cells, district by district (site blocks on the raster), equal the whole matrix's, bit for bit."""
    for proj in (synthetic, xiamen):
        rep = chunked.coverage(proj, return_cells=True, indoor=indoor)
        s = chunked.site_arrays(proj, indoor=indoor)
        d = proj.demand
        env = project_environment(proj)[d.row, d.col].astype(np.int64)
        share = cov.covered_share(cov.coverage_matrix(d.xy, s.xy, s.radii, demand_class=env, cell_m=100.0))
        assert (share > 0).any() and (not indoor or ((share > 0) & (share < 1)).any())  # indoor: partly covered cells
        n = len(proj.districts)
        np.testing.assert_array_equal(rep.table["covered_population"].to_numpy(),
                                      np.bincount(d.district, weights=d.pop * share, minlength=n))
        np.testing.assert_array_equal(rep.table["population"].to_numpy(),
                                      np.bincount(d.district, weights=d.pop, minlength=n))
        rows = np.concatenate([c.rows for c in rep.counties])
        cols = np.concatenate([c.cols for c in rep.counties])
        order = np.lexsort((cols, rows))
        np.testing.assert_array_equal(np.concatenate([c.share for c in rep.counties])[order], share)
    # a site of district 1 covers cells of district 2: drop it and district 2 loses coverage
    s = chunked.site_arrays(synthetic)
    one = np.flatnonzero(np.hypot(s.xy[:, 0] - 602_880.0, s.xy[:, 1] - 2_704_807.0) < 1e-6)
    assert one.size == 1 and s.district[one[0]] == 0
    alone = chunked.SiteArrays(s.xy[one], s.radius[one], s.district[one])
    rep1 = chunked.coverage(synthetic, sites=alone)
    assert rep1.table["covered_cells"].iloc[1] > 0 and rep1.table["covered_cells"].iloc[2] == 0


def test_chunked_placement_meets_targets_and_skips_districts_without_statistics(synthetic):
    rep = gp.targets.check(synthetic, year=2025)
    assert rep.total.districts == 3 and rep.table["note"].tolist() == ["", "", "", "no statistics"]
    res = place_sites(synthetic, engine="chunked", year=2025, seed=3)
    t = res.districts
    assert t["new"].tolist()[:3] == rep.table["shortfall"].tolist()[:3] and t["new"].iloc[3] == 0
    assert t["meets_target"].tolist() == [True, True, True, None]
    assert res.summary.new == len(res.sites) == rep.total.sum_of_district_shortfalls
    assert res.summary.coverage_after >= res.summary.coverage_before
    got = gp.project.points_in_districts(res.sites.to_crs(4548), synthetic.metric("districts"))
    np.testing.assert_array_equal(got, np.repeat([0, 1, 2], t["new"].to_numpy()[:3]))
    # with a total, the rest of the budget goes where population is still uncovered
    existing = int(rep.total.stations)
    more = place_sites(synthetic, engine="chunked", total=existing + res.summary.new + 30, seed=3)
    assert more.summary.new == res.summary.new + 30
    assert (more.districts["new"].to_numpy()[:3] >= t["new"].to_numpy()[:3]).all()
    assert more.districts["new"].iloc[3] == 0
    assert more.summary.coverage_after >= res.summary.coverage_after


def test_chunked_indoor_coverage_matches_the_city_engine(xiamen):
    """Indoor users (the city default): the county-by-county coverage equals planning_context's."""
    from geoplan.placement import planning_context

    ctx = planning_context(xiamen, indoor=True)
    rep = chunked.coverage(xiamen, indoor=True)
    outdoor = chunked.coverage(xiamen)
    d = xiamen.demand
    covered = np.bincount(d.district, weights=d.pop * ctx.share0, minlength=len(xiamen.districts))
    np.testing.assert_array_equal(rep.table["covered_population"].to_numpy(), covered)
    assert rep.total.coverage == pytest.approx(covered.sum() / d.pop.sum(), abs=1e-6)  # rounded to 6 places
    assert rep.total.coverage < outdoor.total.coverage  # walls cost coverage
    assert (rep.total.network, rep.total.users, rep.total.band) == ("any", "indoor", chunked.STATION_BANDS)
    # macro and micro radii shrink with the building-entry loss; an indoor system serves its own building
    # (30–50 m) and leaks only 10 m outside it (issue 18)
    s_in, s_out = chunked.site_arrays(xiamen, indoor=True), chunked.site_arrays(xiamen)
    outside = s_in.site_type != "indoor"
    assert (s_in.radius[outside] < s_out.radius[outside]).all()
    assert (s_out.radius[~outside] == 10.0).all() and (s_in.radius[~outside] >= 30.0).all()


def test_county_tasks_on_threads_give_the_same_plan_as_one_after_the_other(synthetic, monkeypatch):
    monkeypatch.setenv(chunked.THREADS_ENV, "1")
    assert chunked.local_threads() == 1
    one = place_sites(synthetic, engine="chunked", year=2025, seed=3)
    monkeypatch.setenv(chunked.THREADS_ENV, "3")
    assert chunked.local_threads() == 3
    three = place_sites(synthetic, engine="chunked", year=2025, seed=3)
    pd.testing.assert_frame_equal(one.sites, three.sites)
    pd.testing.assert_frame_equal(one.districts, three.districts)
    assert one.summary.coverage_after == three.summary.coverage_after
    for bad in ("0", "-2", "two", "1.5"):
        monkeypatch.setenv(chunked.THREADS_ENV, bad)
        with pytest.raises(gp.errors.ConfigError, match="GEOPLAN_THREADS.*Fix: set it to a whole number"):
            chunked.local_threads()
