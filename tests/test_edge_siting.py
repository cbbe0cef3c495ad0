"""Edge data centres on telecom and power-grid sites: racks and kW against the plan, and whether latency binds."""

from __future__ import annotations

import dataclasses
import json

import pytest

from geoplan.edge import place_edge
from geoplan.errors import ConfigError, InfeasibleError
from geoplan.latency import LatencyModel
from geoplan.siting.inputs import SitingInputs

from .test_cli import run


@pytest.fixture(scope="module")
def plan32(xiamen):
    return place_edge(xiamen, count=32)


def test_xiamen_edge_on_telecom_and_grid_sites_reports_racks_against_the_plan(xiamen, plan32):
    s = plan32.summary
    assert set(plan32.sites["KIND"]) <= {"telecom_office", "substation"}
    assert set(s.candidates_by_kind) == {"telecom_office", "substation"}
    cap = s.capacity
    assert cap.target_racks == 25_000 and "2.5 万" in cap.target_quote
    assert cap.racks == pytest.approx(plan32.sites["RACKS"].sum(), abs=0.1)
    assert cap.it_kw == pytest.approx(2.5 * cap.racks, abs=0.5)  # the MIIT standard rack
    assert cap.facility_kw == pytest.approx(1.5 * cap.it_kw, abs=0.5)  # the plan's PUE
    assert cap.share_of_target == pytest.approx(cap.racks / 25_000, abs=1e-4)
    assert "25,000 racks" in cap.statement and "every data centre of the city" in cap.statement
    assert cap.racks_assumed_sites == 0


def test_the_output_says_the_latency_circle_does_not_bind_and_what_decides(plan32):
    b = plan32.summary.latency_binding
    assert not b.binds and b.radius_km == 120.0 and b.farthest_pair_km < b.radius_km
    assert "does not bind" in b.statement and "weighted mean distance" in b.decided_by
    assert b.equipment_ms_to_bind == pytest.approx(1.0 - plan32.summary.max_latency_ms + 0.1, abs=1e-3)
    # at that equipment delay the same plan reaches the budget
    m = LatencyModel(equipment_ms=b.equipment_ms_to_bind)
    assert float(m.latency_ms(plan32.summary.max_distance_km * 1000)) == pytest.approx(1.0, abs=2e-3)


def test_a_tight_round_trip_budget_binds(xiamen):
    res = place_edge(xiamen, count=32, latency_ms=0.3, latency=LatencyModel(round_trip=True))
    b = res.summary.latency_binding
    assert b.binds and "binds" in b.statement and b.radius_km == pytest.approx(6.667, abs=1e-3)
    assert b.unconstrained_max_km > b.radius_km
    assert res.summary.max_rtt_ms == pytest.approx(2 * res.summary.max_latency_ms, abs=1e-3)


def test_candidate_modes_and_capacity_floor(xiamen, plan32):
    dem = place_edge(xiamen, count=32, candidates="demand")
    assert set(dem.sites["KIND"]) <= {"demand_point", "cell"}
    assert dem.summary.capacity.racks_assumed_sites == 32  # no capacity data: the kind's default, said so
    big = place_edge(xiamen, count=20, min_racks=40)
    assert (big.sites["RACKS"] >= 40).all() and big.summary.capacity.racks > 0
    with pytest.raises(InfeasibleError, match="only .* candidate sites"):
        place_edge(xiamen, count=32, min_racks=250)
    bare = dataclasses.replace(xiamen, siting=SitingInputs())
    assert set(place_edge(bare, count=32).sites["KIND"]) <= {"demand_point", "cell"}
    with pytest.raises(ConfigError, match="need edge-site inventories"):
        place_edge(bare, count=32, candidates="sites")


def test_cli_json_and_table_carry_capacity_and_latency(capsys):
    code, out, _ = run(capsys, "place", "edge", "--format", "json")
    data = json.loads(out)
    s = data["summary"]
    assert code == 0 and s["capacity"]["target_racks"] == 25000 and s["latency_binding"]["binds"] is False
    assert s["capacity"]["racks"] == pytest.approx(sum(r["RACKS"] for r in data["sites"]), abs=0.1)
    code, out, _ = run(capsys, "place", "edge")
    assert code == 0 and "does not bind" in out and "of the plan's 25,000 racks" in out
