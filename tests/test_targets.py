import numpy as np
import pytest

import geoplan as gp
from geoplan.errors import ConfigError
from geoplan.targets import check, density, load_plan


def test_density_arithmetic_by_hand():
    # 100,000 people with 300 stations = 30/10k; target 33 needs ceil(330) = 330 -> short 30
    # 50,000 people with 200 stations = 40/10k; needs ceil(165) = 165 -> meets
    # 12,345 people with 0 stations; needs ceil(40.7385) = 41
    d = density(np.array([100_000.0, 50_000.0, 12_345.0]), np.array([300, 200, 0]), target_per_10k=33)
    assert d.per_10k.tolist() == [30.0, 40.0, 0.0]
    assert d.required.tolist() == [330, 165, 41]
    assert d.shortfall.tolist() == [30, 0, 41]
    assert d.meets.tolist() == [False, True, False]


def test_density_exact_product_does_not_round_up():
    d = density(np.array([10_000.0]), np.array([33]), target_per_10k=33)
    assert d.required.tolist() == [33] and d.meets.tolist() == [True]


def test_density_zero_population_gives_nan_not_crash():
    d = density(np.array([0.0]), np.array([3]), target_per_10k=33)
    assert np.isnan(d.per_10k[0]) and d.required[0] == 0


def test_plan_annex_tables_transcribed():
    xm = load_plan("xiamen")
    fj = load_plan("fujian")
    assert len(xm.indicators) == 10 and len(fj.indicators) == 10
    i5g = xm.indicator("5g_per_10k")
    assert (i5g.baseline, i5g.targets) == (20.5, {2023: 25, 2024: 29, 2025: 33})
    assert i5g.province_2025 == 30
    assert fj.indicator("5g_per_10k").targets == {2023: 20, 2024: 24, 2025: 30}
    assert fj.indicator("5g_per_10k").baseline == 17.1
    assert xm.indicator("computing_eflops").targets[2025] == 1.1
    assert fj.indicator("iot_terminals").baseline == 6001.8
    assert xm.text_target("5g_stations").value == 18500
    assert xm.text_target("edge_dc").value == 32
    assert xm.text_target("latency_ms").value == 1
    assert xm.text_target("charging_share_new_car_parks").value == pytest.approx(0.20)
    assert fj.text_target("5g_stations").value == 120_000
    assert fj.text_target("edge_dc").value == 300
    # every province_2025 figure in the Xiamen annex equals the Fujian plan's own 2025 target where both exist
    for ind in xm.indicators:
        try:
            fj_ind = fj.indicator(ind.id)
        except ConfigError:
            continue
        if ind.province_2025 is not None:
            assert fj_ind.targets[2025] == ind.province_2025, ind.id


def test_check_on_hand_made_project(tiny):
    # A: 10,000 people, 20 sites -> 20/10k, needs 33 -> short 13; B: 5,000 people, 20 sites -> 40/10k, meets
    rep = check(tiny, year=2025)
    t = rep.table
    assert t["stations"].tolist() == [20, 20]
    assert t["per_10k"].round(6).tolist() == [20.0, 40.0]
    assert t["required"].tolist() == [33, 17]
    assert t["shortfall"].tolist() == [13, 0]
    assert rep.total.required == 50 and rep.total.shortfall == 10
    assert rep.total.sum_of_district_shortfalls == 13
    rep23 = check(tiny, year=2023)  # target 25
    assert rep23.table["required"].tolist() == [25, 13]


def test_check_with_extra_stations(tiny):
    rep = check(tiny, year=2025, extra_stations=np.array([13, 0]))
    assert rep.table["meets_target"].tolist() == [True, True]


def test_check_refuses_years_outside_plan(tiny):
    with pytest.raises(ConfigError, match="2023, 2024, 2025"):
        check(tiny, year=2030)


def test_xiamen_check_consistency(xiamen):
    rep = gp.targets.check(xiamen, year=2025)
    assert rep.total.stations == 10_881
    # the project's basis: the year-end population, the latest published before 2025 (2023)
    assert rep.basis["kind"] == "yearend" and rep.basis["year"] == 2023
    assert rep.total.population == pytest.approx(5_327_000)
    assert gp.targets.check(xiamen, year=2025, basis="census").total.population == pytest.approx(5_163_970)
    st = rep.consistency["station_target"]
    assert st["implied_population_at_target_density"] == pytest.approx(18_500 / 33 * 1e4, abs=1)
    assert st["stations_needed_at_latest_yearend"] == 17_580  # ceil(33 * 532.7)
    assert rep.consistency["baseline"]["layer_per_10k_at_baseline_population"] == 20.5
    # scaling to the 2022 year-end population reproduces the plan's 20.5 baseline
    rep22 = gp.targets.check(xiamen, year=2025, population_year=2022)
    assert rep22.total.per_10k == 20.5
    assert {"population", "sites"} <= set(rep.modelled_layers)
    assert "districts" not in rep.modelled_layers


def test_population_year_must_exist(xiamen):
    with pytest.raises(ConfigError, match="year-end population"):
        gp.targets.check(xiamen, year=2025, population_year=1999)
