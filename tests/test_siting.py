"""Where sites can go: inventories with kind and cost, siting constraints, the cost-aware objective (issue 13)."""

from __future__ import annotations

import dataclasses
import itertools
import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import shapely
from scipy.spatial import cKDTree

import geoplan as gp
from geoplan import io
from geoplan.errors import ConfigError, ValidationError
from geoplan.layers import layer_spec
from geoplan.placement import exact_mclp, greedy_mclp, place_sites, planning_context
from geoplan.placement.costing import cost_rows
from geoplan.project import siting_layer
from geoplan.siting.constraints import CONFLICT_FIELDS, ConstraintSet, constraint_set
from geoplan.siting.inputs import LayerConfig, SitingInputs, parse_siting_tables
from geoplan.siting.params import load_params

from .conftest import REPO_ROOT

GIS = REPO_ROOT / "data" / "gis"


@pytest.fixture(scope="module")
def ctx(xiamen):
    return planning_context(xiamen)


@pytest.fixture(scope="module")
def sharing(xiamen, ctx):
    """The 2025 plan that prefers sharing (20 residents of coverage per 万元)."""
    return place_sites(xiamen, year=2025, context=ctx, cost_weight=20)


def _hard_zones(proj: gp.Project) -> gpd.GeoDataFrame:
    """The hard constraint zones read straight from the project's layers (metric CRS)."""
    frames = [ly.frame.assign(LAYER=ly.name) for ly in proj.siting.group("constraints")
              if ly.config.hardness == "hard"]
    out = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=frames[0].crs).to_crs(proj.metric_crs)
    out["MAX_H_M"] = pd.to_numeric(out["MAX_H_M"], errors="coerce")
    return out


def _in_hard_zone(proj: gp.Project, sites: gpd.GeoDataFrame, heights: np.ndarray) -> np.ndarray:
    """Per site: inside a hard zone and taller than its limit (an independent check: geopandas sjoin)."""
    pts = sites.to_crs(proj.metric_crs).reset_index(drop=True).assign(H=heights)
    j = gpd.sjoin(pts, _hard_zones(proj)[["LAYER", "MAX_H_M", "geometry"]], predicate="within")
    bad = j["MAX_H_M"].isna() | (j["H"] > j["MAX_H_M"])
    out = np.zeros(len(pts), dtype=bool)
    out[j.index[bad.to_numpy()]] = True
    return out


# ----------------------------------------------------------------------------------------------- parameters

def test_costs_have_sources_and_the_cited_sharing_saving():
    p = load_params()
    for kind, info in p.kinds.items():
        for t in info.types:
            assert p.cost(kind, t) >= 0 and p.sources[f"costs.{kind}.{t}"], (kind, t)
    assert p.cost("new", "macro") - p.cost("social_tower", "macro") == pytest.approx(18.0)  # 中国铁塔: 1690亿 / 94万
    assert "1690亿元" in p.source("costs.new.macro")
    assert p.kw_per_rack == 2.5 and "2.5 kW" in p.source("edge.kw_per_rack")


def test_project_overrides_and_bad_keys():
    assert load_params({"costs": {"smart_pole": {"micro": 0.5}}}).cost("smart_pole", "micro") == 0.5
    with pytest.raises(ConfigError, match="unknown siting parameter 'bogus'"):
        load_params({"bogus": 1})
    with pytest.raises(ConfigError, match="costs.smart_pole.micro = 'cheap' is not a number"):
        load_params({"costs": {"smart_pole": {"micro": "cheap"}}})
    with pytest.raises(ConfigError, match="no site cost for a macro site on kind 'smart_pole'"):
        load_params().cost("smart_pole", "macro")


def test_siting_tables_report_every_problem_at_once():
    cfg = {"inventories": {"a": {"kind": "castle"}, "b": {"path": "b.csv", "colour": 1}},
           "constraints": {"c": {"path": "c.gpkg", "hardness": "medium", "extra_cost": -1}}}
    with pytest.raises(ConfigError) as err:
        parse_siting_tables(cfg, where="demo")
    msg = str(err.value)
    for part in ("[inventories.a] has no path", "kind = 'castle'", "unknown key(s) colour", "hardness = 'medium'",
                 "extra_cost = -1"):
        assert part in msg


def test_a_smart_pole_cannot_host_a_macro_site(xiamen):
    gdf = gpd.GeoDataFrame({"KIND": ["smart_pole", "social_tower"], "SITE_TYPE": ["macro", "macro"]},
                           geometry=gpd.points_from_xy([118.1, 118.12], [24.48, 24.49]), crs=4490)
    with pytest.raises(ValidationError) as err:
        siting_layer(gdf, LayerConfig(group="inventories", name="poles", path=""))
    assert err.value.problems[0].layer == "inventories.poles" and err.value.problems[0].field == "SITE_TYPE"


def test_layer_specs_match_the_tables_geoplan_writes():
    assert [f.name for f in layer_spec("conflicts").fields] == list(CONFLICT_FIELDS)
    assert {"KIND", "COST", "CONFLICTS", "SOURCE"} <= {f.name for f in layer_spec("planned_sites").fields}


# ----------------------------------------------------------------------------------------------- inputs

def _project_file(tmp_path, extra: str) -> str:
    text = (GIS / "geoplan.toml").read_text(encoding="utf-8").split("# ------------------------------------------------------------------ where sites can go")[0]
    text = text.replace('path = "', f'path = "{GIS.as_posix()}/')
    p = tmp_path / "geoplan.toml"
    p.write_text(text + extra, encoding="utf-8")
    return str(p)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030"])
def test_inventory_from_a_csv_of_lon_lat_in_chinese(tmp_path, encoding):
    df = pd.DataFrame({"名称": ["厦门站楼顶", "SM城市广场"], "经度": [118.117, 118.131], "纬度": [24.468, 24.505],
                       "KIND": ["public_building", "public_building"], "SITE_TYPE": ["macro", "indoor"],
                       "造价": ["3.5", ""]})
    df.to_csv(tmp_path / "buildings.csv", index=False, encoding=encoding)
    proj = gp.load_project(_project_file(tmp_path, '[inventories.buildings]\npath = "buildings.csv"\n'
                                                   'fields = { NAME = "名称", COST = "造价" }\n'))
    inv = proj.siting.group("inventories")[0].frame
    assert inv["NAME"].tolist() == ["厦门站楼顶", "SM城市广场"] and inv.crs.to_epsg() == 4490
    ctx = planning_context(proj, candidates="none")
    assert ctx.cand_source.tolist() == ["buildings", "buildings"]
    assert ctx.cand_cost.tolist() == [3.5, load_params().cost("public_building", "indoor")]


def test_inventory_from_an_xlsx_sheet_with_chinese_kinds_and_value_mapping(tmp_path):
    """Siting layers are point tables like any other: XLSX, x/y named, spec synonyms and the project's values."""
    df = pd.DataFrame({"塔名": ["湖里1号塔", "思明杆", "翔安电力塔"], "东经": [118.117, 118.131, 118.30],
                       "北纬": [24.468, 24.505, 24.62], "资源类型": ["社会塔", "智慧杆", "电力铁塔"]})
    with pd.ExcelWriter(tmp_path / "towers.xlsx") as xw:
        df.to_excel(xw, sheet_name="铁塔", index=False)
    text = ('[inventories.towers]\npath = "towers.xlsx"\nlayer = "铁塔"\nx = "东经"\ny = "北纬"\n'
            'fields = { NAME = "塔名", KIND = "资源类型" }\n')
    with pytest.raises(ValidationError) as err:  # named x/y: declare the CRS; an unknown kind: map it
        gp.load_project(_project_file(tmp_path, text))
    assert "under [inventories.towers]" in str(err.value) and "unknown value(s) 电力铁塔" in str(err.value)
    proj = gp.load_project(_project_file(tmp_path, text + 'crs = "EPSG:4490"\n'
                                                   'values = { KIND = { "电力铁塔" = "industry_tower" } }\n'))
    inv = proj.siting.group("inventories")[0].frame
    assert inv["KIND"].tolist() == ["social_tower", "smart_pole", "industry_tower"] and inv.crs.to_epsg() == 4490
    ctx = planning_context(proj, candidates="none")
    assert sorted(ctx.cand_kind.tolist()) == ["industry_tower", "smart_pole", "social_tower"]


def test_csv_without_coordinates_or_with_bad_rows_is_refused_by_name(tmp_path):
    (tmp_path / "a.csv").write_text("name,x1,y1\nA,1,2\n", encoding="utf-8")
    with pytest.raises(ValidationError, match=r"no x \(longitude\) column found.*under \[inventories\.a\]"):
        io.read_vector(tmp_path / "a.csv", layer="inventories.a")  # the one point-table reader (io.read_point_table)
    (tmp_path / "b.csv").write_text("name,lon,lat\nA,118.1,24.5\nB,,24.6\n", encoding="utf-8")
    with pytest.raises(ValidationError, match=r"1 row\(s\) without numeric coordinates \(lines 3\)"):
        io.read_vector(tmp_path / "b.csv", layer="inventories.b")


# ----------------------------------------------------------------------------------------------- constraints

def test_height_limited_zones_only_stop_taller_sites():
    zones = ConstraintSet.from_arrays([shapely.box(0, 0, 100, 100)] * 2, kind=["airport_clearance", "heritage"],
                                      hard=[True, False], max_h=[20.0, -np.inf], name=["净空", "古迹"],
                                      extra_cost=[0.0, 5.0])
    c = zones.check([[50, 50], [50, 50], [500, 500]], [25.0, 10.0, 40.0])
    assert c.hard.tolist() == [True, False, False]
    assert c.extra_cost.tolist() == [5.0, 5.0, 0.0]
    assert c.labels().tolist() == ["heritage 古迹", "heritage 古迹", ""]
    table = c.table(["A", "B", "C"], [25.0, 10.0, 40.0])
    assert list(table.columns) == list(CONFLICT_FIELDS) and table["HARDNESS"].tolist() == ["hard", "soft", "soft"]


@pytest.mark.parametrize("generator", ["population", "kmeans", "grid"])
def test_no_planned_site_lies_in_a_hard_zone(xiamen, generator):
    """Whatever makes the candidates, hard zones (water, 生态保护红线, 永久基本农田, airport clearance) stay empty."""
    cx = planning_context(xiamen, candidates=generator)
    excluded = sum(sum(v.values()) for v in cx.pool.excluded.values())
    assert excluded > 0  # the constraints did remove candidates
    res = place_sites(xiamen, year=2025, context=cx)
    heights = cx.pool.height_m[res.placement.selected]
    assert not _in_hard_zone(xiamen, res.sites, heights).any()
    assert res.summary.siting.hard_conflict_sites == 0
    # and without the constraints the same generator would have put sites there
    if generator == "grid":
        bare = dataclasses.replace(xiamen, siting=SitingInputs(
            layers=tuple(ly for ly in xiamen.siting.layers if ly.config.group != "constraints")))
        cb = planning_context(bare, candidates="grid")
        assert _in_hard_zone(xiamen, gpd.GeoDataFrame(geometry=gpd.points_from_xy(*cb.cand_xy.T),
                                                      crs=xiamen.metric_crs), cb.pool.height_m).sum() > 100


def test_soft_conflicts_are_listed_per_site_and_in_the_table(xiamen, ctx):
    res = place_sites(xiamen, year=2025, context=ctx)
    t = res.conflicts
    assert len(t) > 0 and (t["HARDNESS"] == "soft").all() and (t["KIND"] == "heritage").all()
    flagged = res.sites.loc[res.sites["CONFLICTS"] != "", "SITE_ID"]
    assert set(flagged) == set(t["SITE_ID"]) and res.summary.siting.soft_conflict_sites == len(flagged)
    # each listed site lies in the zone it names (independent check)
    zones = _zones_by_name(xiamen)
    pts = res.sites.set_index("SITE_ID").to_crs(xiamen.metric_crs).geometry
    for sid, zone in zip(t["SITE_ID"], t["ZONE"], strict=True):
        assert zones[zone].contains(pts[sid])
    assert res.to_dict()["conflicts"][0]["SITE_ID"] in set(t["SITE_ID"])
    # the zone's extra cost is in the site's cost
    p = xiamen.siting.params
    row = res.sites[res.sites["CONFLICTS"] != ""].iloc[0]
    assert row["COST"] == pytest.approx(p.cost(row["KIND"], row["SITE_TYPE"]) + 5.0)


def _zones_by_name(proj: gp.Project) -> dict[str, shapely.Geometry]:
    cs = constraint_set(proj)
    out: dict[str, shapely.Geometry] = {}
    for name in set(cs.name.tolist()):
        out[name] = shapely.union_all(cs.geoms[cs.name == name])
    return out


# ----------------------------------------------------------------------------------------------- cost

def test_cost_rows_give_the_cost_aware_optimum_by_brute_force():
    rng = np.random.default_rng(7)
    for trial in range(25):
        n_rows, n_cols, p = 12, 6, int(rng.integers(1, 4))
        A = sp.csc_array((rng.random((n_rows, n_cols)) < 0.3).astype(np.uint8))
        w = rng.integers(0, 20, n_rows).astype(float)
        cost = rng.choice([1.0, 2.0, 5.0, 20.0], n_cols)
        lam = float(rng.choice([0.5, 2.0, 10.0]))
        best = max(float(w[np.asarray(A[:, list(s)].sum(axis=1)).ravel() > 0].sum()) - lam * cost[list(s)].sum()
                   for s in itertools.combinations(range(n_cols), p))
        A2, w2, c2 = cost_rows(A, w, np.zeros(n_rows, dtype=bool), cost, weight=lam)
        sel = exact_mclp(A2, w2, p=p, covered0=c2).selected
        got = float(w[np.asarray(A[:, sel].sum(axis=1)).ravel() > 0].sum()) - lam * cost[sel].sum()
        assert got == pytest.approx(best), trial
        g = greedy_mclp(A2, w2, p=p, covered0=c2)
        assert g.gap is not None and g.objective * (1 + g.gap) >= best + lam * p * cost.max() - 1e-6


def test_a_plan_that_prefers_sharing_reports_reuse_and_savings(xiamen, ctx, sharing):
    plain = place_sites(xiamen, year=2025, context=ctx)
    si, s0 = sharing.summary.siting, plain.summary.siting
    assert sharing.summary.new == plain.summary.new and sharing.summary.meets_density  # the city-wide figure
    assert si.reused > 0.85 * si.sites > s0.reused  # sharing, when asked for
    fam = si.reused_by_family
    assert fam["tower"] > 0 and fam["pole"] > 0 and fam["rooftop"] > 0
    assert si.savings > s0.savings > 0 and si.cost_total < s0.cost_total
    assert si.cost_total == pytest.approx(sharing.sites["COST"].sum(), abs=1)
    assert si.by_kind == sharing.sites["KIND"].value_counts().to_dict()
    assert si.coverage_given_up == pytest.approx(si.coverage_only_gain - sharing.summary.objective, abs=1)
    # what it gives up: a little coverage, never the density target
    assert plain.summary.coverage_after - 0.01 < sharing.summary.coverage_after <= plain.summary.coverage_after
    assert 0 <= sharing.summary.gap < 0.05


def test_the_context_answers_for_any_cost_weight(xiamen, ctx, sharing):
    assert sharing.settings.cost_weight == 20 and ctx.settings.cost_weight is None
    with pytest.raises(ConfigError, match="band"):
        place_sites(xiamen, year=2025, context=ctx, band="n41")


# ----------------------------------------------------------------------------------------------- mixing

def test_ten_drawn_candidates_join_the_generated_ones(xiamen):
    """Measured at cf6a83a: '10,075 new sites requested but only 10 candidates exist'."""
    d = xiamen.demand
    top = np.argsort(-d.pop)[:10]
    layer = gpd.GeoDataFrame({"CAND_ID": [f"D{i}" for i in range(10)]},
                             geometry=gpd.points_from_xy(d.x[top], d.y[top]), crs=xiamen.metric_crs).to_crs(4490)
    proj = dataclasses.replace(xiamen, layers={**xiamen.layers, "candidates": layer}, siting=SitingInputs())
    res = place_sites(proj, total=18_500)
    assert res.summary.new == 18_500 - 10_881
    cx = planning_context(proj)
    assert cx.pool.counts()["candidates"] == 10 and cx.pool.counts()["generated"] > 15_000
    with pytest.raises(ConfigError, match="inventories only"):
        planning_context(dataclasses.replace(xiamen, siting=SitingInputs()), candidates="none")


def test_number_and_spacing_of_generated_candidates(xiamen):
    bare = dataclasses.replace(xiamen, siting=SitingInputs())
    cx = planning_context(bare, n_candidates=9000, settings=gp.placement.PlanSettings(candidate_spacing_m=150.0))
    gen = cx.cand_xy[cx.cand_source == "generated"]
    assert 8000 < len(gen) <= 9000
    d, _ = cKDTree(gen).query(gen, k=2)
    assert d[:, 1].min() >= 150.0
    grid = planning_context(bare, settings=gp.placement.PlanSettings(candidates="grid", candidate_spacing_m=400.0))
    x = np.unique(np.round(grid.cand_xy[:, 0], 3))
    assert np.allclose(np.diff(x) % 400.0, 0.0, atol=1e-6) or np.allclose(np.diff(x) % 400.0, 400.0, atol=1e-6)


def test_the_county_engine_says_what_it_does_not_support(xiamen):
    with pytest.raises(ConfigError, match=r"candidate inventories \(towers, smart_poles, public_buildings\)"):
        place_sites(xiamen, year=2025, engine="chunked")
    cons = dataclasses.replace(xiamen, siting=SitingInputs(layers=xiamen.siting.group("constraints")))
    with pytest.raises(ConfigError, match="cost weight"):
        place_sites(cons, year=2025, engine="chunked", cost_weight=5)


@pytest.mark.slow
def test_the_county_engine_keeps_out_of_hard_zones(xiamen):
    cons = dataclasses.replace(xiamen, siting=SitingInputs(layers=xiamen.siting.group("constraints")))
    res = place_sites(cons, year=2025, engine="chunked")
    from geoplan.placement.pool import site_heights
    from geoplan.radio import ENVIRONMENT_NAMES

    env = np.array([ENVIRONMENT_NAMES.index(e) for e in res.sites["RADIO_ENV"]], dtype=np.int8)
    assert not _in_hard_zone(xiamen, res.sites, site_heights(res.sites["SITE_TYPE"].to_numpy(), env)).any()
    assert (res.sites["SOURCE"] == "generated").all() and res.summary.siting.sites == len(res.sites)


# ----------------------------------------------------------------------------------------------- outputs

def test_cli_reports_reuse_savings_and_conflicts(capsys):
    from .test_cli import run

    code, out, _ = run(capsys, "place", "sites", "--year", "2025", "--cost-weight", "20", "--format", "json", "-q")
    si = json.loads(out)["summary"]["siting"]
    assert code == 0 and si["cost_weight"] == 20 and si["reused"] > 0 and si["savings"] > 0
    assert si["cost_unit"] == "万元" and "radio equipment excluded" in si["cost_note"]
    code, out, _ = run(capsys, "place", "sites", "--year", "2025", "--by", "conflict", "--format", "csv", "-q")
    lines = out.lstrip("\ufeff").strip().splitlines()  # CSV with a BOM for Excel
    assert code == 0 and lines[0] == ",".join(CONFLICT_FIELDS) and len(lines) > 1
    code, out, _ = run(capsys, "place", "sites", "--year", "2025", "--cost-weight", "20", "-q")
    assert code == 0 and "Reuse:" in out and "against building every site new" in out


def test_the_export_carries_kind_cost_and_conflicts(xiamen, ctx, tmp_path):
    from geoplan.export import export_project

    res = place_sites(xiamen, year=2025, context=ctx)
    export_project(xiamen, tmp_path / "d.gpkg", extra_layers={"planned_sites": res.sites})
    back = gpd.read_file(tmp_path / "d.gpkg", layer=layer_spec("planned_sites").onemap_name)
    assert {"KIND", "COST", "CONFLICTS"} <= set(back.columns)
    assert set(back.loc[back["CONFLICTS"].fillna("") != "", "SITE_ID"]) == set(res.conflicts["SITE_ID"])


def test_the_plan_file_and_the_delivery_carry_the_conflicts_table(xiamen, ctx, tmp_path):
    import pyogrio

    from geoplan import planfile
    from geoplan.export import export_project

    res = place_sites(xiamen, year=2025, context=ctx)
    planfile.write_plan(planfile.sites_plan(xiamen, res, context=ctx), tmp_path / "p.gpkg")
    back = planfile.read_plan(tmp_path / "p.gpkg")
    assert back.layers["conflicts"]["SITE_ID"].tolist() == res.conflicts["SITE_ID"].tolist()
    export_project(xiamen, tmp_path / "d.gpkg", plan_file=back)
    table = pyogrio.read_dataframe(tmp_path / "d.gpkg", layer=layer_spec("conflicts").onemap_name)
    assert set(table["SITE_ID"]) == set(res.conflicts["SITE_ID"]) and (table["HARDNESS"] == "soft").all()


# ----------------------------------------------------------------------------------------------- with issues 11, 16

def test_the_disk_cache_keeps_the_candidate_pool(xiamen, ctx, tmp_path):
    from geoplan.placement.cache import cache_key, cached_context

    a = cached_context(xiamen, ctx.settings, folder=tmp_path)
    b = cached_context(xiamen, dataclasses.replace(ctx.settings, cost_weight=20.0), folder=tmp_path)  # read back
    assert b.build_s == 0.0 and b.settings.cost_weight is None  # one context for every cost weight
    for k in ("kind", "source", "cost", "height_m", "modelled", "cand_id", "name"):
        assert np.array_equal(np.asarray(getattr(a.pool, k)), np.asarray(getattr(b.pool, k))), k
    assert np.array_equal(a.cand_conflicts.site, b.cand_conflicts.site) and a.pool.excluded == b.pool.excluded
    assert b.cand_conflicts.labels().tolist() == a.cand_conflicts.labels().tolist()
    r = place_sites(xiamen, year=2025, context=b, cost_weight=20)
    assert r.summary.siting == place_sites(xiamen, year=2025, context=a, cost_weight=20).summary.siting
    # a site cost changed in the project file is another key
    other = dataclasses.replace(xiamen, siting=dataclasses.replace(
        xiamen.siting, overrides={"costs": {"social_tower": {"macro": 9.0}}}))
    assert cache_key(other, "context") != cache_key(xiamen, "context")


def test_phased_sites_carry_kind_cost_and_conflicts(xiamen, ctx):
    from geoplan.placement import place_phased

    ph = place_phased(xiamen, years=[2024, 2025], context=ctx, cost_weight=20)
    sites = ph.sites
    assert {"KIND", "COST", "CONFLICTS", "BUILD_YEAR"} <= set(sites.columns)
    assert (sites["KIND"] != "new").mean() > 0.8  # the cost weight holds in every year
    assert set(ph.final.conflicts["SITE_ID"]) == set(sites.loc[sites["CONFLICTS"] != "", "SITE_ID"])
    assert ph.summary["cost_total"].is_monotonic_increasing and ph.summary["reused_total"].iloc[-1] > 0


def test_the_shortage_message_counts_the_candidates_left_by_the_constraints(xiamen, ctx):
    from geoplan.errors import InfeasibleError

    n = ctx.coverage.shape[1]
    removed = ctx.pool.n_excluded
    with pytest.raises(InfeasibleError, match=rf"after hard siting constraints removed {removed:,} candidates") as err:
        place_sites(xiamen, total=int(ctx.existing_per_district.sum()) + n + 1, context=ctx)
    assert f"only {n:,} candidate sites exist (1 missing)" in str(err.value)
