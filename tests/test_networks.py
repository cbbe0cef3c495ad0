"""Operator networks, station counts, receiving-cell coverage through both engines, capacity, [radio] overrides."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import geoplan as gp
from geoplan import chunked, radio
from geoplan import coverage as cov
from geoplan.capacity import carry, demand_per_person_mbps, penetration
from geoplan.errors import ConfigError, InfeasibleError, ValidationError
from geoplan.morphology import environment_grid, project_environment
from geoplan.networks import station_counts, station_fields
from geoplan.placement import PlanSettings, evaluate_sites, place_sites, planning_context
from geoplan.targets import load_plan

from .conftest import TINY_TARGETS, tiny_layers

DENSE = ("思明区", "湖里区")


# --------------------------------------------------------------------------- settings and station fields


def test_network_settings_take_the_networks_band():
    assert PlanSettings().network == "any" and PlanSettings().band == "n78"
    assert PlanSettings(network="cmcc").band == "n41"
    assert PlanSettings(network="ctcu").band == "n78"
    assert PlanSettings(network="cbn").band == "n28"
    with pytest.raises(ConfigError, match="does not build n78"):
        PlanSettings(network="cmcc", band="n78")
    with pytest.raises(ConfigError, match="unknown network"):
        PlanSettings(network="telecom")


def test_station_fields_fill_network_from_operator_and_bands_from_band():
    f = station_fields(pd.DataFrame({"OPERATOR": ["中国电信", "中国广电", None], "NETWORK": [None, None, "cmcc"],
                                     "BANDS": ["n78;n1", "", "n41;n28"]}), band="n79")
    assert f.network.tolist() == ["ctcu", "cbn", "cmcc"]
    assert f.bands == [("n78", "n1"), ("n79",), ("n41", "n28")]
    with pytest.raises(ValidationError) as exc:
        station_fields(pd.DataFrame({"OPERATOR": ["中国铁塔"], "BANDS": ["n99"]}), band="n78")
    assert {p.field for p in exc.value.problems} == {"OPERATOR", "BANDS"}
    with pytest.raises(ValidationError, match="no NETWORK or OPERATOR"):
        station_fields(pd.DataFrame({"SITE_TYPE": ["macro"]}), band="n78", network="cmcc")


def test_shared_stations_are_counted_once_by_the_plan_and_once_per_operator(xiamen):
    rep = gp.targets.check(xiamen, year=2025)
    t = rep.total
    assert t.stations == 10_881 and t.stations_by_network == {"cmcc": 6_094, "ctcu": 4_733, "cbn": 54}
    assert t.stations_by_operator == {"中国移动": 6_094, "中国电信": 4_733, "中国联通": 4_733, "中国广电": 54}
    assert t.operator_counted == 6_094 + 2 * 4_733 + 54 == 15_614
    assert rep.table["operator_counted"].sum() == 15_614
    row = rep.to_dict()["districts"][0]
    assert sum(row["stations_by_network"].values()) == row["stations"] < row["operator_counted"]
    f = station_fields(xiamen.layer("sites"), band="n78")
    c = station_counts(f, xiamen.district_of("sites"), len(xiamen.districts))
    np.testing.assert_array_equal(c.physical, rep.table["stations"].to_numpy())


# --------------------------------------------------------------------------- receiving cell and covered shares


def test_environment_grid_does_not_depend_on_blocks(xiamen):
    whole = environment_grid(xiamen.population)
    np.testing.assert_array_equal(environment_grid(xiamen.population, block=97), whole)
    # part A's neighbourhood density of the same cells, classed
    r = xiamen.population
    dens = radio.neighbourhood_density(np.where(r.valid, r.values, np.nan), cell_m=100.0, radius_m=500.0)
    d = xiamen.demand
    np.testing.assert_array_equal(whole[d.row, d.col], radio.environment_from_density(dens[d.row, d.col]))


def test_a_site_covers_each_cell_with_the_radius_of_the_cell_served(tiny):
    """By hand: each cell's share is the disc-square area with the radius for that cell's environment."""
    ctx = planning_context(tiny)
    d = tiny.demand
    env = project_environment(tiny)[d.row, d.col]
    table = radio.radius_lookup(band="n78", indoor=True)
    j = 0
    col = ctx.existing_coverage[:, [j]].toarray().ravel()
    r = table.lookup(np.full(len(d), ctx.existing_type[j]), env)
    expected = radio.disc_square_share(d.x - ctx.existing_xy[j, 0], d.y - ctx.existing_xy[j, 1], r, side_m=100.0)
    np.testing.assert_allclose(col, expected, rtol=1e-6, atol=1e-7)
    # and a cell's covered share is min(1, Σ over the stations)
    total = np.asarray(ctx.existing_coverage.toarray(), dtype=float).sum(axis=1)
    np.testing.assert_allclose(ctx.share0, np.minimum(1.0, total), rtol=1e-6)


@pytest.fixture(scope="module")
def network_coverage(xiamen):
    return {n: chunked.coverage(xiamen, network=n, indoor=True) for n in ("any", "cmcc", "ctcu", "cbn")}


def test_existing_network_coverage_a_planner_recognises(xiamen, network_coverage):
    """Modelled existing network, indoor users, through the engine: above 85 % in the dense districts for every
    operator network, near-complete for all operators together; each network below all operators."""
    anyn = network_coverage["any"]
    assert anyn.total.coverage > 0.97
    for n, rep in network_coverage.items():
        t = rep.table.set_index("XZQMC")
        assert (t.loc[list(DENSE), "coverage"] > 0.85).all(), n
        assert (rep.total.network, rep.total.users) == (n, "indoor")
        if n != "any":
            assert (rep.table["coverage"].to_numpy() <= anyn.table["coverage"].to_numpy() + 1e-12).all()
    # the in-memory engine gives the same figure for a network
    ctx = planning_context(xiamen, network="ctcu")
    d = xiamen.demand
    np.testing.assert_array_equal(network_coverage["ctcu"].table["covered_population"].to_numpy(),
                                  np.bincount(d.district, weights=d.pop * ctx.share0, minlength=6))


def test_small_sites_keep_their_share(xiamen):
    """Indoor systems (30–50 m) in 100 m cells cover a share of their cell: none disappears."""
    s = chunked.site_arrays(xiamen, indoor=True)
    indoor = np.flatnonzero(s.site_type == "indoor")[:200]
    d = xiamen.demand
    env = project_environment(xiamen)[d.row, d.col].astype(np.int64)
    a = cov.coverage_matrix(d.xy, s.xy[indoor], s.radii[indoor], demand_class=env, cell_m=100.0)
    per_site = np.asarray(a.sum(axis=0)).ravel()
    assert (per_site > 0).all()
    assert ((per_site > 0.05) & (per_site < 1.0)).mean() > 0.5  # most cover a fraction of a cell


# --------------------------------------------------------------------------- capacity


def test_demand_per_person_from_the_plans_penetration():
    plan = load_plan("xiamen")
    assert penetration(plan, 2022) == pytest.approx(0.466)
    assert [penetration(plan, y) for y in (2023, 2024, 2025)] == [0.54, 0.64, 0.75]
    # 15.2 GB/month, 8 % in the busy hour: 15.2 × 8000 / 30 × 0.08 / 3600 Mbit/s per user
    per_user = 15.2 * 8000 / 30 * 0.08 / 3600
    assert demand_per_person_mbps(plan, 2025) == pytest.approx(0.75 * per_user)
    assert demand_per_person_mbps(plan, 2025, network="cmcc") == pytest.approx(0.75 * per_user * 0.57)


def test_carry_shares_each_cells_demand_among_its_sites_by_hand():
    # cell 0: 60 Mbit/s, site 0 whole; cell 1: 40 Mbit/s, half each by sites 0 and 1; cell 2: 10, a quarter by 1
    c = carry(np.array([0, 1, 1, 2]), np.array([0, 0, 1, 1]), np.array([1.0, 0.5, 0.5, 0.25]), n_cells=3,
              demand_mbps=np.array([60.0, 40.0, 10.0]), usable_mbps=np.array([100.0, 10.0]))
    np.testing.assert_allclose(c.covered_demand_mbps, [60.0, 40.0, 2.5])
    np.testing.assert_allclose(c.load_mbps, [80.0, 22.5])
    f1 = 10.0 / 22.5
    np.testing.assert_allclose(c.unserved_mbps, [0.0, 20 * (1 - f1), 2.5 * (1 - f1)])
    assert c.limited.tolist() == [False, True, True] and c.overloaded.tolist() == [False, True]


#: The tiny city's targets with Xiamen's 5G user penetration (46.6 % in 2022, 54/64/75 % for 2023–2025).
BUSY_TARGETS = {**TINY_TARGETS, "indicators": [
    {"id": "5g_user_penetration", "name": "5G用户普及率", "unit": "%", "baseline": 46.6,
     "targets": {"2023": 54, "2024": 64, "2025": 75}}]}


def _busy(radio_overrides):
    districts, raster, sites = tiny_layers()
    sites["NETWORK"] = "ctcu"
    sites["BANDS"] = "n78"
    sites.loc[sites.index[:5], "SITE_TYPE"] = "indoor"
    return gp.project_from_layers(districts=districts, population=raster, layers={"sites": sites},
                                  plan=gp.targets.plan_from_dict(BUSY_TARGETS, source="tests/test_networks.py"),
                                  name="busy", metric_crs="EPSG:4548", radio=radio_overrides)


def test_capacity_limited_cells_both_engines_and_a_capacity_plan():
    """With 26× the traffic per user the tiny network is capacity-limited, even after the density plan; both
    engines say where, and a capacity plan adds sites until no cell is."""
    proj = _busy({"traffic": {"dou_gb_per_month": 400.0}})
    ctx = planning_context(proj)
    ev = evaluate_sites(ctx, [], year=2025)
    cap = ev.summary.capacity
    assert cap is not None and cap.limited_cells > 0 and cap.overloaded_sites > 0
    rep = chunked.coverage(proj, indoor=True, year=2025)
    np.testing.assert_allclose(rep.table["unserved_mbps"].to_numpy(), ev.districts["unserved_mbps"].to_numpy(),
                               rtol=1e-6, atol=1e-3)
    assert rep.table["limited_cells"].tolist() == ev.districts["limited_cells"].tolist()
    plain = place_sites(proj, year=2025, context=ctx)
    more = place_sites(proj, year=2025, context=ctx, capacity=True)
    assert more.summary.capacity_sites > 0 and more.summary.new == plain.summary.new + more.summary.capacity_sites
    assert more.summary.capacity.limited_cells == 0 and more.districts["capacity_limited"].sum() == 0
    with pytest.raises(ConfigError, match="in-memory engine only"):
        place_sites(proj, year=2025, engine="chunked", capacity=True)


def test_capacity_that_no_candidate_can_carry_is_reported():
    proj = _busy({"traffic": {"dou_gb_per_month": 1e7}})
    with pytest.raises(InfeasibleError, match="capacity-limited"):
        place_sites(proj, year=2025, capacity=True)


# --------------------------------------------------------------------------- [radio] in the project file


def test_radio_overrides_in_the_project_file(tiny_project_file):
    text = tiny_project_file.read_text(encoding="utf-8")
    base = place_sites(gp.load_project(tiny_project_file), year=2025)
    tiny_project_file.write_text(text + "\n[radio.ue]\npower_class_2_dbm = 20.0\n", encoding="utf-8")
    proj = gp.load_project(tiny_project_file)
    assert proj.radio_params.ue.power_class_2_dbm == 20.0
    assert proj.radio_params.source("ue.power_class_2_dbm") == "project file override"
    res = place_sites(proj, year=2025)
    assert res.summary.radio_digest == proj.radio_params.digest != radio.default_params().digest
    assert base.summary.radio_digest == radio.default_params().digest
    assert res.summary.coverage_before < base.summary.coverage_before  # 6 dB less uplink power: smaller cells
    tiny_project_file.write_text(text + "\n[radio.bands.n78]\nbandwith_mhz = 80\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"unknown radio parameter .bands.n78.bandwith_mhz."):
        gp.load_project(tiny_project_file)


def test_check_coverage_json_says_what_it_refers_to(tiny_project_file, capsys):
    from geoplan.cli import main

    targets = tiny_project_file.parent / "targets.toml"  # the tiny targets state no 5G user penetration: add it
    targets.write_text(targets.read_text(encoding="utf-8") + '\n[[indicators]]\nid = "5g_user_penetration"\n'
                       'name = "5G用户普及率"\nunit = "%"\nbaseline = 46.6\n'
                       'targets = { 2023 = 54, 2024 = 64, 2025 = 75 }\n', encoding="utf-8")
    try:
        main(["check", "--coverage", "--network", "any", "--format", "json", "--project", str(tiny_project_file)])
    except SystemExit as exc:
        assert exc.code in (0, None)
    data = json.loads(capsys.readouterr().out)
    sec = data["sections"]["coverage"]
    assert sec["total"]["users"] == "indoor" and sec["total"]["network"] == "any"
    assert sec["refers_to"].startswith("all operators") and sec["total"]["year"] == 2025
    assert {"coverage", "demand_mbps", "capacity_limited"} <= set(sec["districts"][0])


def test_check_coverage_takes_the_penetration_of_the_plan_applied(xiamen):
    """``check --plan fujian`` on Xiamen: busy-hour demand from Fujian's 5G user penetration, not Xiamen's."""
    from geoplan import capacity
    from geoplan.plan_check import check_plan
    from geoplan.targets import plan_of

    own = check_plan(xiamen, year=2025, coverage=True).coverage
    applied = check_plan(xiamen, year=2025, plan="fujian", coverage=True).coverage
    assert own is not None and applied is not None
    ratio = (capacity.demand_per_person_mbps(plan_of(xiamen, "fujian"), 2025)
             / capacity.demand_per_person_mbps(plan_of(xiamen), 2025))  # type: ignore[operator]
    assert ratio != 1.0
    assert applied.total.demand_mbps == pytest.approx(own.total.demand_mbps * ratio, rel=1e-6)
