"""geoplan.planfile: one GeoPackage carries a plan from placement to export and report."""

from __future__ import annotations

import numpy as np
import pytest

import geoplan as gp
from geoplan import io, planfile
from geoplan.charging import place_charging
from geoplan.placement import place_sites, planning_context


def test_sites_plan_round_trips_layers_tables_grid_and_metadata(tiny, tmp_path):
    ctx = planning_context(tiny)
    res = place_sites(tiny, year=2025, context=ctx)
    plan = planfile.sites_plan(tiny, res, context=ctx)
    planfile.write_plan(plan, tmp_path / "p.gpkg")
    back = planfile.read_plan(tmp_path / "p.gpkg")
    assert (back.project, back.plan, back.year) == ("tiny", "tiny", 2025)
    sites = back.layers["planned_sites"]
    assert len(sites) == len(res.sites) and (sites["BUILD_YEAR"] == 2025).all()
    assert sites["SITE_ID"].tolist() == res.sites["SITE_ID"].tolist()
    np.testing.assert_allclose(sites.geometry.x, res.sites.geometry.x)
    dens = back.layers["density"]
    assert dens["XZQMC"].tolist() == ["甲区", "乙区"] and dens["STATIONS"].tolist() == res.districts["stations"].tolist()
    grid = back.layers["coverage"]
    np.testing.assert_array_equal(grid.values, plan.layers["coverage"].values)
    assert set(np.unique(grid.values)) <= {0, 1, 2, 255}
    m = back.metadata["planned_sites"]
    assert m["modelled"] is True and m["parameters"]["band"] == "n78" and m["parameters"]["method"] == "greedy"
    assert back.summary["place_sites"]["new"] == res.summary.new
    assert io.read_field_aliases(tmp_path / "p.gpkg", sublayer="planned_sites")["BUILD_YEAR"] == "建设年份"
    assert io.read_field_domains(tmp_path / "p.gpkg", sublayer="planned_sites")[1]["SITE_TYPE"] == "ZXDM"


def test_plans_merge_and_refuse_clashes(xiamen, tiny, tmp_path):
    sites = planfile.sites_plan(xiamen, place_sites(xiamen, year=2025))
    chg = planfile.charging_plan(xiamen, place_charging(xiamen))
    both = planfile.merge_plans([sites, chg])
    # the embedded project's soft constraint zones (heritage) give the sites plan a conflicts table
    assert set(both.layers) == {"planned_sites", "density", "conflicts", "charging_stations", "car_parks"}
    assert both.year == 2025
    cp = both.layers["car_parks"]
    assert {"CHG_REQ", "CHG_ADD", "COMPLIANT"} <= set(cp.columns) and len(cp) == len(xiamen.layers["car_parks"])
    with pytest.raises(gp.ConfigError, match="two plans hold the layer"):
        planfile.merge_plans([sites, sites])
    with pytest.raises(gp.ConfigError, match="different projects"):
        planfile.merge_plans([sites, planfile.sites_plan(tiny, place_sites(tiny, year=2025))])
    planfile.write_plan(sites, tmp_path / "s.gpkg")
    planfile.write_plan(chg, tmp_path / "c.gpkg")
    assert set(planfile.read_plans([tmp_path / "s.gpkg", tmp_path / "c.gpkg"]).layers) == set(both.layers)


def test_not_a_plan_file_is_a_clear_error(tiny, tmp_path):
    io.write_vector(tiny.districts, tmp_path / "d.gpkg", layer="districts")
    with pytest.raises(gp.ReadError, match="not a geoplan plan file.*place sites --out"):
        planfile.read_plan(tmp_path / "d.gpkg")
    with pytest.raises(gp.ReadError, match="does not exist"):
        planfile.read_plan(tmp_path / "none.gpkg")
    with pytest.raises(gp.ConfigError, match="name it \\*.gpkg"):
        planfile.write_plan(planfile.sites_plan(tiny, place_sites(tiny, year=2025)), tmp_path / "p.geojson")
    assert not (tmp_path / "p.geojson").exists()


def test_plan_bytes_for_a_download(tiny):
    data = planfile.plan_bytes(planfile.sites_plan(tiny, place_sites(tiny, year=2025)))
    assert data[:15] == b"SQLite format 3"
