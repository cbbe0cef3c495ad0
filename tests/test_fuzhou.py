"""福州市 end to end: a second city with its own targets, inputs as a planner brings them, modelled population.

The project is built once by :func:`geoplan.fuzhou.fuzhou_project` (seeded; cached in ``data/fuzhou/``)
and run through check, phased placement, what-if, edge, charging and export, on a 100 m and a 500 m grid.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import geoplan as gp
from geoplan.errors import ConfigError, InfeasibleError
from geoplan.fuzhou import fuzhou_project
from geoplan.placement import PlanSettings, place_sites, planning_context
from geoplan.placement.phasing import place_phased
from geoplan.scenarios import Scenario, run_scenarios

from .test_cli import run

CENSUS = 8_291_268  # 福州市 incl. 平潭, census 2020 (shared/data/fujian_city_population.csv)
YEAREND_2021 = 8_420_000


@pytest.fixture(scope="session")
def fz_path():
    return fuzhou_project()


@pytest.fixture(scope="module")
def fz(fz_path) -> gp.Project:
    return gp.load_project(fz_path)


@pytest.fixture(scope="module")
def fz_ctx(fz):
    return planning_context(fz)


def test_every_input_is_read_and_mapped(fz):
    assert fz.area_code == "350100" and fz.area_name == "福州市" and fz.metric_crs.to_epsg() == 4549
    assert len(fz.districts) == 13 and fz.district_population.sum() == CENSUS
    assert fz.targets is not None and fz.targets.modelled and fz.targets.application is None
    s = fz.layer("sites")  # CSV with BOM, 站型 宏站/微站/室分, 运营商 移动/电信 … mapped by the project file
    assert set(s["SITE_TYPE"]) == {"macro", "micro", "indoor"}
    assert set(s["OPERATOR"]) <= {"中国移动", "中国电信", "中国联通", "中国广电"}
    e = fz.layer("edge_demand")  # GBK CSV in GCJ-02, categories in Chinese
    assert set(e["CATEGORY"]) == {"port", "industrial_park", "transport_hub", "hospital", "school"}
    assert e["NAME"].str.contains("福州港").any()
    p = fz.layer("car_parks")  # XLSX in Gauss-Krüger, 是否新建 是/否
    assert len(p) == 80 and sorted(p["IS_NEW"].unique()) == [0, 1] and (p["IS_NEW"] == 1).sum() == 20
    # the population grid adds up to every county's POP, exactly
    assert fz.raster_population.tolist() == fz.district_population.tolist()
    assert {"population", "sites", "landuse", "districts"} <= {k for k in fz.provenance if fz.is_modelled(k)}


def test_check_is_fuzhou_own_and_labelled(capsys, fz_path):
    code, out, err = run(capsys, "check", "--project", str(fz_path), "--format", "json")
    assert code == 0, err
    d = json.loads(out)
    assert d["area"] == {"xzqdm": "350100", "name": "福州市"} and d["plan"]["key"] == "fuzhou-test"
    assert d["population_basis"]["kind"] == "yearend" and d["population_basis"]["year"] == 2021
    assert d["total"]["population"] == YEAREND_2021 and d["total"]["target_per_10k"] == 30
    assert d["total"]["stations_target"] == round(120_000 * CENSUS / 41_540_086)
    assert "厦门" not in out and "350200" not in out
    assert d["sections"]["edge_dc"]["target"] == 60 and "charging" not in d.get("sections", {})
    code, out, _ = run(capsys, "check", "--project", str(fz_path))
    assert code == 0 and "350100 │ 福州市 (total)" in out and "labelled modelled" in out


def test_phased_plan_meets_every_year(fz, fz_ctx):
    ph = place_phased(fz, years=[2023, 2024, 2025], meet="both", context=fz_ctx)
    assert ph.summary["target_per_10k"].tolist() == [20.0, 24.0, 30.0]
    assert ph.summary["meets_density"].all() and ph.summary["meets_count"].iloc[-1]
    final = ph.final.summary
    assert final.stations >= 23_952 and final.stations >= final.area_required
    counts = ph.sites["BUILD_YEAR"].value_counts().sort_index()
    assert counts.index.tolist() == [2023, 2024, 2025] and counts.sum() == final.new
    assert ph.sites["SITE_ID"].str.fullmatch(r"P3501\d{7}").all()
    # the plan goes into the one-map delivery with its build years
    out = gp.io.scratch_dir
    with out("fz-") as tmp:
        rep = gp.export.export_project(fz, tmp / "fz.gpkg", extra_layers={"planned_sites": ph.sites}, year=2025)
        back = gp.io.read_vector(rep.path, layer="planned", sublayer=rep.layer("planned_sites").name)
        assert sorted(set(back[rep.layer("planned_sites").fields["BUILD_YEAR"]])) == [2023, 2024, 2025]
        districts = gp.io.read_vector(rep.path, layer="d", sublayer=rep.layer("districts").name)
        assert districts[rep.layer("districts").fields["PLANNED"]].sum() == final.new


def test_whatif_reports_the_failing_scenario_and_runs_the_others(fz, fz_ctx, capsys, fz_path):
    wi = run_scenarios(fz, [Scenario(name="too few", total=10_000), Scenario(name="count", total=24_000),
                            Scenario(name="every county", total=26_000, quotas="district")], context=fz_ctx)
    assert [s.name for s in wi.scenarios] == ["count", "every county"]
    assert [f.scenario for f in wi.failures] == ["too few"] and isinstance(wi.failures[0].error, InfeasibleError)
    assert wi.summary["scenario"].tolist() == ["too few", "count", "every county"]
    area, county = (r.summary for r in wi.results)
    assert area.applies_to == "area" and county.applies_to == "district"
    assert county.districts_meeting_target == 13  # --quotas district holds every county to 30/10k
    assert "failures" in wi.to_dict()


def test_edge_and_charging_follow_the_plan(capsys, fz_path, tmp_path):
    code, out, err = run(capsys, "place", "edge", "--project", str(fz_path), "--format", "json")
    assert code == 0, err
    s = json.loads(out)["summary"]
    assert s["count"] == 60 and s["latency_budget_ms"] == 1 and s["demand_points"] == 174
    code, _, err = run(capsys, "place", "charging", "--project", str(fz_path))
    assert code == 4 and "states no share" in err and "--share" in err  # the Fujian plan sets none
    code, out, err = run(capsys, "place", "charging", "--project", str(fz_path), "--share", "0.2", "--format", "json")
    assert code == 0, err
    assert json.loads(out)["summary"]["new_car_parks"]["car_parks"] == 20


def test_the_fujian_plan_on_fuzhou_withholds_or_scales_its_counts(fz):
    rep = gp.targets.check(fz, plan="fujian")
    assert rep.area_name == "福州市" and rep.total.stations_target is None
    assert "whole of 福建省" in rep.consistency["application"]
    scaled = gp.targets.apply_plan(gp.targets.load_plan("fujian"), area_code="350100", area_name="福州市",
                                   population=CENSUS, scaling="population")
    assert scaled.station_count(2025) == fz.targets.station_count(2025)


def test_coarse_500m_grid_plans_and_explains_a_shortage(fz_path):
    proj = gp.load_project(fz_path.parent / "geoplan_500m.toml")
    assert abs(proj.population.transform.a) == 500 and proj.raster_population.sum() == CENSUS
    res = place_sites(proj, year=2025, quotas="district")
    assert res.districts["meets_target"].all()
    # more candidates than populated cells in the dense districts: several per 500 m cell
    gl = proj.district_names.index("鼓楼区")
    assert res.districts["new"].iloc[gl] > (proj.demand.district == gl).sum()
    with pytest.raises(InfeasibleError) as ei:
        place_sites(proj, year=2025, quotas="district", settings=PlanSettings(n_candidates=2_000))
    msg = str(ei.value)
    assert "鼓楼区 (350102) needs at least" in msg and "missing" in msg and "--n-candidates" in msg
    assert "group 0" not in msg and {p.layer for p in ei.value.problems} == {"candidates"}  # type: ignore[attr-defined]


def test_population_model_reproduces_totals_and_reports_its_error(capsys, fz_path, tmp_path):
    out = tmp_path / "pop_1km.tif"
    code, text, err = run(capsys, "population", "--project", str(fz_path), "--out", str(out), "--cell-m", "1000",
                          "--trees", "50", "--quiet", "--format", "json")
    assert code == 0, err
    d = json.loads(text)
    s = d["summary"]
    assert s["totals_exact"] and s["population"] == CENSUS and s["trained_on"] == 13
    assert [r["census"] for r in d["districts"]] == [r["grid_total"] for r in d["districts"]]
    # the class densities predict left-out counties far better than one average density
    assert s["loo_mape_classes"] < s["loo_mape_baseline"] / 2
    assert s["model"] in ("forest", "classes")
    grid = gp.io.read_raster(out)
    proj = gp.project_from_layers(districts=gp.load_project(fz_path).districts, population=grid, name="t")
    assert proj.raster_population.tolist() == proj.district_population.tolist()


def test_nothing_is_planned_without_targets(fz):
    proj = gp.project_from_layers(districts=fz.districts, population=fz.population, name="福州 without targets")
    with pytest.raises(ConfigError, match="states no targets"):
        place_sites(proj, year=2025)
    assert np.isclose(proj.raster_population.sum(), CENSUS)
