"""--meet density|count|both, area or district quotas, and phased plans (nested batches with BUILD_YEAR)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import geoplan as gp
from geoplan.errors import ConfigError
from geoplan.placement import place_sites, planning_context
from geoplan.placement.phasing import place_phased

from .test_cli import run


@pytest.fixture(scope="module")
def xm_ctx(xiamen):
    return planning_context(xiamen)


def test_xiamen_2025_meet_both_reaches_the_plans_18500(xiamen, xm_ctx):
    res = place_sites(xiamen, year=2025, meet="both", context=xm_ctx)
    s = res.summary
    assert s.stations >= 18_500 and s.meets_count and s.meets_density and s.stations_target == 18_500
    density = place_sites(xiamen, year=2025, context=xm_ctx).summary  # the default: the density target alone
    assert density.stations == density.area_required == 17_580 and density.meets_count is False
    count = place_sites(xiamen, year=2025, meet="count", context=xm_ctx).summary
    assert count.stations == 18_500


def test_meet_count_needs_a_stated_count(xiamen, xm_ctx):
    with pytest.raises(ConfigError, match="no 5G station count for 2024.*--year 2025"):
        place_sites(xiamen, year=2024, meet="count", context=xm_ctx)
    with pytest.raises(ConfigError, match="--total or --meet"):
        place_sites(xiamen, year=2025, total=18_000, meet="both", context=xm_ctx)


def test_area_quotas_leave_districts_free_district_quotas_hold_each(xiamen, xm_ctx):
    area = place_sites(xiamen, year=2025, context=xm_ctx)  # the plan says 全市: the total binds
    assert area.summary.applies_to == "area" and not area.districts["binding"].any()
    assert area.summary.quotas == (0,) * 6
    district = place_sites(xiamen, year=2025, context=xm_ctx, quotas="district")
    assert district.districts["meets_target"].all() and district.summary.applies_to == "district"
    # holding every district to 33/10k costs a few more sites and covers no more people
    assert district.summary.new >= area.summary.new
    assert district.summary.covered_population_after <= area.summary.covered_population_after + 1


def test_phased_xiamen_nested_batches_each_year_meets_its_target(xiamen, xm_ctx):
    ph = place_phased(xiamen, years=[2025, 2023, 2024], meet="both", context=xm_ctx)
    assert ph.years == (2023, 2024, 2025)
    assert ph.summary["target_per_10k"].tolist() == [25.0, 29.0, 33.0]
    assert ph.summary["meets_density"].all() and ph.summary["meets_count"].tolist()[-1] is True
    assert ph.summary["stations"].tolist()[-1] >= 18_500
    # nested: each year's sites hold the earlier years' sites, in the same places
    sel = [r.placement.selected.tolist() for r in ph.results]
    assert sel[0] == sel[1][:len(sel[0])] and sel[1] == sel[2][:len(sel[1])]
    sites = ph.sites
    assert sites["BUILD_YEAR"].value_counts().sort_index().tolist() == ph.summary["built_this_year"].tolist()
    assert len(sites) == ph.summary["new_total"].iloc[-1] and sites["SITE_ID"].is_unique
    # earlier years are built first: RANK orders by BUILD_YEAR, then by gain
    assert (np.diff(sites.sort_values("RANK")["BUILD_YEAR"].to_numpy()) >= 0).all()
    for year, res in zip(ph.years, ph.results, strict=True):
        assert set(res.sites["BUILD_YEAR"]) <= set(range(2023, year + 1))
    # a single-year plan for 2023 is the first batch
    one = place_sites(xiamen, year=2023, context=xm_ctx)
    assert one.placement.selected.tolist() == sel[0]


def test_phased_with_district_quotas_meets_every_district_every_year(xiamen, xm_ctx):
    ph = place_phased(xiamen, years=[2023, 2024, 2025], quotas="district", context=xm_ctx)
    for res in ph.results:
        assert res.districts["meets_target"].all()
    assert ph.summary["districts_meeting_target"].tolist() == [6, 6, 6]


def test_phased_on_the_chunked_engine(tiny):
    ph = place_phased(tiny, years=[2023, 2025], engine="chunked", seed=1)
    t23, t25 = (r.districts for r in ph.results)
    assert t23["meets_target"].all() and t25["meets_target"].all()
    # A: 10,000 residents, 20 existing: 25/10k needs 25 (5 new) by 2023 and 33 (8 more) by 2025
    assert t23["new"].tolist() == [5, 0] and t25["new"].tolist() == [13, 0]
    assert t25["existing"].tolist() == [20, 20]
    assert ph.sites["BUILD_YEAR"].value_counts().sort_index().to_dict() == {2023: 5, 2025: 8}


def test_cli_place_sites_years_prints_a_table_per_year(capsys, tmp_path, tiny_project_file):
    out = tmp_path / "phased.geojson"
    code, text, err = run(capsys, "place", "sites", "--years", "2023", "2024", "2025", "--meet", "both", "--quiet",
                          "--out", str(out))
    assert code == 0, err
    for y in ("2023 (target 25/10k)", "2024 (target 29/10k)", "2025 (target 33/10k, 18,500 stations)", "phases"):
        assert y in text
    sites = gp.io.read_vector(out, layer="planned_sites")
    assert sorted(set(sites["BUILD_YEAR"])) == [2023, 2024, 2025] and len(sites) == 18_500 - 10_881
    tiny = ["--project", str(tiny_project_file), "--quiet"]
    code, text, _ = run(capsys, "place", "sites", "--years", "2023", "2025", "--format", "json", *tiny)
    data = json.loads(text)
    assert code == 0 and data["schema"] == "geoplan.place_phased/1"
    assert [p["year"] for p in data["phases"]] == [2023, 2025] and data["phases"][1]["new_total"] == 13
    code, _, err = run(capsys, "place", "sites", "--years", "2023", "--year", "2025", *tiny)
    assert code == 4 and "not both" in err
