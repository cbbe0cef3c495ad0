"""Targets files of a city's own: schema, validation, how a plan applies to a project, population bases."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import geoplan as gp
from geoplan.errors import ConfigError
from geoplan.targets import (
    apply_plan,
    area_of_codes,
    check,
    load_plan,
    plan_from_dict,
    plan_of,
    population_basis,
    read_targets_file,
    validate_targets,
)

from .conftest import TINY_TARGETS, TINY_TARGETS_TOML, tiny_layers, tiny_plan


def test_shipped_plans_are_two_examples_of_the_schema():
    for key in ("xiamen", "fujian"):
        assert validate_targets(gp.io.read_plan_data(key)) == []
    xm, fj = load_plan("xiamen"), load_plan("fujian")
    assert (xm.density(2025), xm.station_count(2025), xm.applies_to, xm.level) == (33.0, 18_500, "area", "city")
    assert (fj.density(2023), fj.station_count(2025), fj.level, fj.population) == (20.0, 120_000, "province",
                                                                                  41_540_086)
    assert xm.target("charging_share").by_year == {2025: 0.2} and fj.target("charging_share") is None
    # the annex ids stay readable for code that used them
    assert xm.indicator("5g_per_10k").targets == {2023: 25, 2024: 29, 2025: 33}
    assert xm.text_target("edge_dc").value == 32 and xm.text_target("latency_ms").value == 1


def test_every_problem_of_a_targets_file_at_once():
    raw = copy.deepcopy(TINY_TARGETS)
    raw["plan"]["xzqdm"] = "3509"
    raw["plan"]["colour"] = "red"
    raw["targets"]["per_10k"]["by_year"] = {"2025": "33/万", "twenty": 30}
    raw["targets"]["per_10k"]["applies_to"] = "everywhere"
    raw["targets"]["charging_share"]["by_year"] = {"2025": 20}
    raw["targets"]["stations"]["by_year"] = {"2025": 60.5}
    problems = validate_targets(raw)
    where = {(p.layer, p.field) for p in problems}
    assert where >= {("[plan]", "xzqdm"), ("[plan]", "colour"), ("[targets.per_10k.by_year]", "2025"),
                     ("[targets.per_10k.by_year]", "twenty"), ("[targets.per_10k]", "applies_to"),
                     ("[targets.charging_share.by_year]", "2025"), ("[targets.stations.by_year]", "2025")}
    with pytest.raises(ConfigError, match="problems in test") as ei:
        plan_from_dict(raw, source="test")
    assert len(ei.value.problems) == len(problems)
    share = next(p for p in ei.value.problems if p.layer == "[targets.charging_share.by_year]")
    assert "0.2" in share.fix  # 20 % is 0.2
    # what the schema alone cannot say comes once the tables are well formed
    raw = copy.deepcopy(TINY_TARGETS)
    raw["plan"]["level"] = "province"
    raw["districts"] = [{"xzqdm": "350901"}, {"xzqdm": "350902", "per_10k": {"2025": 40}},
                        {"xzqdm": "350902", "per_10k": {"2025": 40}}]
    assert {(p.layer, p.field) for p in validate_targets(raw)} == {
        ("[plan]", "level"), ("[[districts]] #1", None), ("[[districts]] #3", "xzqdm")}


def test_a_plan_without_a_density_target_is_refused():
    raw = {"plan": dict(TINY_TARGETS["plan"]), "targets": {"stations": {"by_year": {"2025": 60}}}}
    assert [(p.layer, p.field) for p in validate_targets(raw)] == [("[targets]", "per_10k")]


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.sampled_from(["2023", "2024", "2025", 2026, "x"]),
                       st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-5, 80),
                                 st.text(max_size=4), st.booleans()), max_size=4))
def test_validation_never_raises_and_valid_values_build_a_plan(by_year):
    raw = copy.deepcopy(TINY_TARGETS)
    raw["targets"]["per_10k"]["by_year"] = by_year
    problems = validate_targets(raw)  # a list, whatever the input
    if problems:
        with pytest.raises(ConfigError):
            plan_from_dict(raw)
    else:
        p = plan_from_dict(raw)
        assert set(p.per_10k.by_year) == {int(k) for k in by_year}


def test_area_of_codes_and_scope_of_plans():
    assert area_of_codes(["350102", "350181"]) == "350100" and area_of_codes(["350102", "350203"]) == "350000"
    xm = load_plan("xiamen")
    with pytest.raises(ConfigError, match="厦门市 \\(350200\\), not for the project's area 福州市"):
        apply_plan(xm, area_code="350100", area_name="福州市", population=8e6)
    with pytest.raises(ConfigError, match="covers only 厦门市"):
        apply_plan(xm, area_code="350000", area_name="福建省", population=4e7)
    unchecked = apply_plan(xm, area_code=None, area_name="my town", population=1e5)
    assert unchecked.application.kind == "unchecked" and "could not check" in unchecked.application.statement


def test_a_province_plan_on_a_city_withholds_or_scales_its_counts():
    fj = load_plan("fujian")
    held = apply_plan(fj, area_code="350100", area_name="福州市", population=8_291_268)
    assert held.application.counts == "withheld" and held.density(2025) == 30.0
    assert "120,000 stations" in held.application.statement and held.text_target("5g_stations") is None
    with pytest.raises(ConfigError, match="whole of 福建省.*plan_scaling"):
        held.station_count(2025)
    scaled = apply_plan(fj, area_code="350100", area_name="福州市", population=8_291_268, scaling="population")
    assert scaled.station_count(2025) == round(120_000 * 8_291_268 / 41_540_086)
    assert scaled.target("edge_dc").by_year[2025] == round(300 * 8_291_268 / 41_540_086) == 60
    assert "19.96%" in scaled.application.statement


def test_xiamen_checked_against_the_fujian_plan_is_labelled_xiamen(xiamen):
    rep = check(xiamen, year=2025, plan="fujian")
    assert rep.area_code == "350200" and rep.area_name == "厦门市" and rep.plan.key == "fujian"
    assert rep.total.target_per_10k == 30 and rep.total.stations_target is None
    assert "station_target_withheld" in rep.consistency
    d = rep.to_dict()
    assert d["area"] == {"xzqdm": "350200", "name": "厦门市"} and d["plan"]["application"]["counts"] == "withheld"
    with pytest.raises(ConfigError, match="do not apply to 厦门市"):
        plan_of(xiamen, "fujian").station_count(2025)


def test_a_project_without_targets_gets_none_silently(tmp_path):
    districts, raster, sites = tiny_layers()
    proj = gp.project_from_layers(districts=districts, population=raster, layers={"sites": sites}, name="t")
    assert proj.targets is None and proj.plan == "" and proj.area_code == "350900" and proj.area_name == "t"
    with pytest.raises(ConfigError, match="states no targets"):
        check(proj, year=2025)
    with pytest.raises(ConfigError, match="states no targets"):
        gp.placement.place_sites(proj, year=2025)


def test_targets_file_in_a_project_file(tmp_path):
    districts, raster, sites = tiny_layers()
    gp.io.write_vector(districts, tmp_path / "d.gpkg", layer="districts", driver="GPKG")
    gp.io.write_raster(raster, tmp_path / "pop.tif")
    (tmp_path / "targets.toml").write_text(TINY_TARGETS_TOML, encoding="utf-8")
    (tmp_path / "geoplan.toml").write_text('[project]\nname = "t"\ntargets = "targets.toml"\nscope = "甲乙市"\n'
                                           '[layers.districts]\npath = "d.gpkg"\n[layers.population]\n'
                                           'path = "pop.tif"\n', encoding="utf-8")
    proj = gp.load_project(tmp_path / "geoplan.toml")
    assert proj.targets == read_targets_file(tmp_path / "targets.toml") and proj.area_name == "甲乙市"
    (tmp_path / "bad.toml").write_text('[project]\nname = "t"\ntargets = "targets.toml"\nplan = "xiamen"\n'
                                       'xzqdm = 3509\nplan_scaling = "guess"\n[population_stats]\nbasis = "dream"\n'
                                       '[layers.districts]\npath = "d.gpkg"\n[layers.population]\npath = "pop.tif"\n',
                                       encoding="utf-8")
    with pytest.raises(ConfigError) as ei:
        gp.load_project(tmp_path / "bad.toml")
    assert {(p.layer, p.field) for p in ei.value.problems} == {("[project]", "plan_scaling"), ("[project]", "xzqdm"),
                                                               ("[population_stats]", "basis")}
    (tmp_path / "bad.toml").write_text('[project]\nname = "t"\ntargets = "targets.toml"\nplan = "xiamen"\n'
                                       'xzqdm = "3509"\n[population_stats]\nbasis = "yearend"\n'
                                       '[layers.districts]\npath = "d.gpkg"\n[layers.population]\npath = "pop.tif"\n',
                                       encoding="utf-8")
    with pytest.raises(ConfigError) as ei:
        gp.load_project(tmp_path / "bad.toml")
    assert {(p.layer, p.field) for p in ei.value.problems} == {
        ("[project]", "targets"), ("[project]", "xzqdm"), ("[population_stats]", "yearend")}


def test_district_targets_bind_whatever_the_area_figure_says():
    raw = copy.deepcopy(TINY_TARGETS)
    raw["targets"]["per_10k"]["applies_to"] = "area"
    raw["districts"] = [{"xzqdm": "350902", "per_10k": {"2025": 50}}]
    districts, raster, sites = tiny_layers()
    proj = gp.project_from_layers(districts=districts, population=raster, layers={"sites": sites},
                                  plan=plan_from_dict(raw), name="t")
    rep = check(proj, year=2025)
    # B: 5,000 residents at 50/10k need 25 (has 20); A has no target of its own: reference only
    assert rep.table["binding"].tolist() == [False, True] and rep.table["required"].tolist()[1] == 25
    res = gp.placement.place_sites(proj, year=2025)
    assert res.districts["new"].iloc[1] >= 5 and res.summary.meets_density


# --------------------------------------------------------------------------- population bases

def _basis_project(**stats):
    districts, raster, sites = tiny_layers()
    return gp.project_from_layers(districts=districts, population=raster, layers={"sites": sites},
                                  plan=tiny_plan(), name="t", population_stats=stats)


def test_population_bases_by_hand():
    proj = _basis_project(census_year=2020, yearend={"2021": 16_000, "2023": 18_000},
                          projection={"2025": 21_000, "2024": {"350901": 12_000, "350902": 7_000}})
    pop, info = population_basis(proj, basis="census", year=2025)
    assert pop.tolist() == [10_000, 5_000] and info["kind"] == "census"
    pop, info = population_basis(proj, basis="yearend", year=2022)  # the latest before 2022: 2021
    assert pop.tolist() == pytest.approx([16_000 * 2 / 3, 16_000 / 3]) and info["year"] == 2021
    pop, info = population_basis(proj, basis="projection", year=2025)
    assert pop.sum() == pytest.approx(21_000) and pop[0] / pop[1] == pytest.approx(2.0)
    pop, _ = population_basis(proj, basis="projection", year=2024)
    assert pop.tolist() == [12_000, 7_000]
    with pytest.raises(ConfigError, match="not 2023"):
        population_basis(proj, basis="projection", year=2023)
    # the check and the placement follow one basis: 33/10k of 21,000 = 70 stations (40 exist)
    assert check(proj, year=2025, basis="projection").total.required == 70
    assert gp.placement.place_sites(proj, year=2025, basis="projection", quotas="area").summary.stations == 70


def test_basis_without_its_figures_is_a_clear_error():
    from geoplan._project_file import parse_project_file

    with pytest.raises(ConfigError, match="yearend"):
        population_basis(_basis_project(), basis="yearend", year=2025)
    layers = {"districts": {"path": "d.gpkg"}, "population": {"path": "p.tif"}}
    with pytest.raises(ConfigError) as ei:
        parse_project_file({"population_stats": {"projection": {"2025": "5.6M"}}, "layers": layers}, where="t")
    assert [(p.layer, p.field) for p in ei.value.problems] == [("[population_stats.projection]", "2025")]
    assert "plain number" in ei.value.problems[0].fix


def test_xiamen_basis_is_consistent_between_baseline_check_and_placement(xiamen):
    rep = check(xiamen, year=2025)
    assert rep.basis["kind"] == "yearend" and rep.basis["year"] == 2023
    base = rep.consistency["baseline"]
    # the modelled 10,881 stations are the plan's 2022 baseline of 20.5/10k on the same (year-end) basis
    assert base["population_year"] == 2022 and base["layer_per_10k_at_baseline_population"] == 20.5
    req = gp.placement.plan_request(xiamen, total=None, year=2025)
    assert req.basis == rep.basis and req.p == rep.total.required - rep.total.stations
    assert np.isclose(req.population.sum(), rep.total.population)
