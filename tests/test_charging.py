import json

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point

import geoplan as gp
from geoplan.charging import charging_compliance, check_section, place_charging, share_compliance
from geoplan.errors import ConfigError, ValidationError

from .conftest import tiny_layers, tiny_plan
from .test_cli import run

X0, Y0 = 600_000.0, 2_700_000.0


# ---------------------------------------------------------------- the share rule by hand


def test_three_car_parks_by_hand():
    # 20 % of 100 = 20 (met); of 55 = 11 (5 built: 6 to add, 3 on reserved spaces, 3 new);
    # of 7 = 1.4 → 2 (0 built: both on the 4 reserved spaces)
    c = share_compliance([100, 55, 7], [20, 5, 0], reserved=[0, 3, 4], share=0.20)
    assert c.required.tolist() == [20, 11, 2]
    assert c.to_add.tolist() == [0, 6, 2]
    assert c.from_reserved.tolist() == [0, 3, 2]
    assert c.new_fitout.tolist() == [0, 3, 0]
    assert c.compliant.tolist() == [True, False, False]
    assert c.share_built.tolist() == pytest.approx([0.2, 5 / 55, 0.0])


def test_exact_products_do_not_round_up():
    # 0.3 × 10 is 3.0000000000000004 in floating point; the rule asks for 3, not 4
    assert share_compliance([10], [3], share=0.3).required.tolist() == [3]
    assert share_compliance([10], [3], share=0.3).compliant.tolist() == [True]


def test_reserved_spaces_do_not_count_as_equipped():
    c = share_compliance([100], [0], reserved=[50])
    assert c.to_add.tolist() == [20] and not c.compliant[0]
    assert c.from_reserved.tolist() == [20] and c.new_fitout.tolist() == [0]


def test_share_is_a_parameter():
    c = share_compliance([100, 100], [20, 30], share=0.3)
    assert c.required.tolist() == [30, 30] and c.to_add.tolist() == [10, 0]


def test_inconsistent_counts_name_the_car_park():
    with pytest.raises(ValidationError, match="停车场B") as ei:
        share_compliance([100, 10], [20, 8], reserved=[0, 5], names=["停车场A", "停车场B"])
    assert ei.value.problems[0].field == "CHG_BUILT"
    with pytest.raises(ValidationError, match="whole numbers"):
        share_compliance([100, 10], [-1, 2.5])
    with pytest.raises(ConfigError, match="share"):
        share_compliance([100], [20], share=0.0)


# ---------------------------------------------------------------- project level by hand


def tiny_project(*, with_new_in_b=True):
    """A: 10,000 residents (100/cell), B: 5,000 (50/cell); everything is core (≥ 5,000/km²).

    One existing car park with chargers at the centre of A; a new car park without chargers at
    the centre of B (optional); an existing car park without chargers in B.
    """
    districts, raster, _ = tiny_layers()
    rows = [("现状A", 200, 10, 0, 0, X0 + 500, Y0 + 500),
            ("现状B", 80, 0, 0, 0, X0 + 1800, Y0 + 200)]
    if with_new_in_b:
        rows.append(("新建B", 100, 0, 10, 1, X0 + 1500, Y0 + 500))
    rows.append(("新建A", 50, 12, 0, 1, X0 + 400, Y0 + 400))
    cp = gpd.GeoDataFrame(
        {"NAME": [r[0] for r in rows], "SPACES": [r[1] for r in rows], "CHG_BUILT": [r[2] for r in rows],
         "CHG_RESV": [r[3] for r in rows], "IS_NEW": [r[4] for r in rows]},
        geometry=[Point(r[5], r[6]) for r in rows], crs=districts.crs)
    return gp.project_from_layers(districts=districts, population=raster, layers={"car_parks": cp},
                                  name="tiny", metric_crs="EPSG:4548", plan=tiny_plan())


def test_compliance_table_and_district_totals():
    c = charging_compliance(tiny_project(), share=0.2)
    t = c.table.set_index("NAME")
    assert t.loc["新建B", ["required", "to_add", "from_reserved", "new_fitout"]].tolist() == [20, 20, 10, 10]
    assert t.loc["新建A", ["required", "to_add"]].tolist() == [10, 0] and t.loc["新建A", "compliant"]
    assert not t.loc["现状A", "rule_applies"]
    d = c.districts.set_index("XZQDM")
    assert d.loc["350902", "to_add"] == 20 and d.loc["350901", "to_add"] == 0
    assert d.loc["350901", "new_car_parks"] == 1 and d.loc["350901", "existing_car_parks"] == 1
    assert c.totals.new.to_add == 20 and c.totals.new.from_reserved == 10
    assert c.totals.new.compliant == 1 and c.totals.new.car_parks == 2


def test_service_radius_gaps_by_hand():
    # stations now: 现状A (600500, 2700500) and 新建A (600400, 2700400). With a 640 m radius all of A is
    # within reach, and in B only the 6 cells of the column x = 601050 with |dy| <= 327 m (50 persons each):
    # 5,000 - 300 = 4,700 beyond. Once compliant, 新建B at B's centre reaches all of B (corners at 636 m).
    plan = place_charging(tiny_project(), radius_m=640.0, core_density_km2=1500)
    s = plan.summary
    assert s.core_population == pytest.approx(15_000)
    assert s.core_beyond_now == pytest.approx(4_700)
    assert s.core_beyond_after_compliance == pytest.approx(0)
    assert s.new_stations == 0 and len(plan.stations) == 0
    assert s.stations_now == 2 and s.stations_after_compliance == 3
    d = plan.districts.set_index("XZQDM")
    assert d.loc["350902", "beyond_now"] == pytest.approx(4_700) and d.loc["350901", "beyond_now"] == 0


def test_new_stations_close_the_gap():
    plan = place_charging(tiny_project(with_new_in_b=False), radius_m=640.0)
    s = plan.summary
    assert s.core_beyond_after_compliance == pytest.approx(4_700)
    assert s.core_beyond_after == pytest.approx(0) and s.new_stations >= 1
    assert set(plan.stations["XZQDM"]) == {"350902"}
    assert plan.stations["POP_GAIN"].sum() == pytest.approx(4_700)
    one = place_charging(tiny_project(with_new_in_b=False), radius_m=640.0, new_stations=1)
    assert len(one.stations) == 1
    assert one.summary.core_beyond_after == pytest.approx(4_700 - one.stations["POP_GAIN"].iloc[0])
    # core density above B's 5,000/km²: only A is core, and A has no gap
    a_only = place_charging(tiny_project(with_new_in_b=False), radius_m=640.0, core_density_km2=6000)
    assert a_only.summary.core_population == pytest.approx(10_000) and a_only.summary.new_stations == 0


def test_bad_options_are_config_errors(tiny):
    with pytest.raises(ConfigError, match="radius"):
        place_charging(tiny_project(), radius_m=-1)
    with pytest.raises(ConfigError, match="cell_spacing_m"):
        place_charging(tiny_project(), radius_m=300, cell_spacing_m=300)
    with pytest.raises(ConfigError, match="car_parks"):
        charging_compliance(tiny)


def test_check_section_by_hand(tiny):
    sec = check_section(tiny_project(), year=2025, radius_m=640.0)
    assert sec.target_share == 0.2 and sec.new_car_parks == 2 and sec.compliant == 1
    assert not sec.meets_target
    # together: 12 of 150 spaces built = 8 % < 20 %
    assert sec.share_built == pytest.approx(0.08) and not sec.meets_target_aggregate
    assert sec.service_radius.core_beyond == pytest.approx(4_700)
    bare = check_section(tiny, year=2025)
    assert bare.note is not None and "note" in bare.to_dict() and bare.service_radius.core_within_share == 0.0
    assert "new_car_parks" not in bare.to_dict()


# ---------------------------------------------------------------- Xiamen and the CLI


def test_xiamen_compliance_adds_up(xiamen):
    c = charging_compliance(xiamen)
    t = c.table[c.table["rule_applies"]]
    assert (t["to_add"] == np.maximum(t["required"] - t["CHG_BUILT"], 0)).all()
    assert (t["required"] == np.ceil(0.2 * t["SPACES"] - 1e-9)).all()
    assert c.districts["to_add"].sum() == c.totals.new.to_add
    assert c.totals.new.car_parks + c.totals.existing.car_parks == len(xiamen.layer("car_parks"))


def test_cli_place_charging(capsys, tmp_path):
    out = tmp_path / "stations.geojson"
    code, text, _ = run(capsys, "place", "charging", "--share", "0.25", "--new-stations", "20", "--format", "json",
                        "--out", str(out))
    assert code == 0
    data = json.loads(text)
    assert data["summary"]["share"] == 0.25 and data["summary"]["new_stations"] == 20
    assert len(gpd.read_file(out)) == 20
    code, text, _ = run(capsys, "place", "charging", "--format", "csv", "--by", "car_park")
    lines = text.splitlines()
    assert code == 0 and lines[0].startswith("\ufeffNAME,IS_NEW,XZQDM") and len(lines) == 1 + 720  # BOM: Excel
    code, _, err = run(capsys, "place", "charging", "--share", "1.5")
    assert code == 4 and "share" in err


def test_the_900_m_radius_is_labelled_an_assumption_from_outside_both_plans(xiamen, capsys):
    from geoplan.charging import SERVICE_RADIUS_ASSUMPTION

    res = place_charging(xiamen, new_stations=5)
    assert res.summary.radius_assumption and "outside both plans" in res.summary.radius_note
    assert res.to_dict()["summary"]["radius_assumption"] is True
    own = place_charging(xiamen, radius_m=600.0, new_stations=5)
    assert not own.summary.radius_assumption and own.summary.radius_source == "given by the planner"
    sec = check_section(xiamen)
    assert sec.service_radius.assumption and sec.to_dict()["service_radius"]["note"].endswith(
        SERVICE_RADIUS_ASSUMPTION)
    code, out, _ = run(capsys, "place", "charging", "--help")
    assert code == 0 and "ASSUMPTION from outside both" in " ".join(out.replace("│", " ").split())
    code, out, _ = run(capsys, "place", "charging", "--new-stations", "3")
    assert code == 0 and "assumption from outside both plans" in " ".join(out.split())
