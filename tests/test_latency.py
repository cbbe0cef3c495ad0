import math

import numpy as np
import pytest

from geoplan.errors import ConfigError, InfeasibleError
from geoplan.latency import DEFAULT_LATENCY, LatencyModel, latency_ms, latency_radius_m


def test_default_one_ms_one_way_is_180_km_fibre_and_120_km_radius():
    # (1 - 0.1) ms / 5 µs/km = 180 km of fibre; / route factor 1.5 = 120 km straight
    assert DEFAULT_LATENCY.fibre_km(1.0) == pytest.approx(180.0, abs=1e-9)
    assert latency_radius_m(1.0) == pytest.approx(120_000.0, abs=1e-6)
    assert DEFAULT_LATENCY.reading == "one-way"


def test_round_trip_halves_the_propagation_after_both_equipment_legs():
    # (1 - 2 × 0.1) / 2 = 0.4 ms each way → 80 km fibre → 53.333 km straight
    m = LatencyModel(round_trip=True)
    assert m.fibre_km(1.0) == pytest.approx(80.0, abs=1e-9)
    assert m.radius_m(1.0) == pytest.approx(80_000.0 / 1.5, abs=1e-6)
    assert m.latency_ms(0.0) == pytest.approx(0.2)


def test_physical_fibre_speed_and_straight_route():
    # 4.9 µs/km, no detour, no equipment: 1 ms = 204.08 km
    m = LatencyModel(fibre_us_per_km=4.9, route_factor=1.0, equipment_ms=0.0)
    assert m.radius_m(1.0) == pytest.approx(1000.0 / 4.9 * 1000.0, rel=1e-12)


@pytest.mark.parametrize("round_trip", [False, True])
@pytest.mark.parametrize("budget", [0.25, 1.0, 5.0])
def test_latency_is_the_inverse_of_the_radius(budget, round_trip):
    m = LatencyModel(route_factor=1.3, equipment_ms=0.05, round_trip=round_trip)
    assert float(m.latency_ms(m.radius_m(budget))) == pytest.approx(budget, rel=1e-12)


def test_latency_grows_linearly_with_distance():
    # 12 km straight × 1.5 = 18 km fibre × 5 µs = 0.09 ms + 0.1 ms equipment
    assert latency_ms(np.array([0.0, 12_000.0, 24_000.0])).tolist() == pytest.approx([0.1, 0.19, 0.28])


def test_budget_used_up_by_equipment_is_infeasible():
    with pytest.raises(InfeasibleError, match="equipment"):
        LatencyModel(equipment_ms=0.1).radius_m(0.1)
    with pytest.raises(InfeasibleError):
        LatencyModel(equipment_ms=0.1, round_trip=True).radius_m(0.2)
    assert LatencyModel(equipment_ms=0.1, round_trip=True).radius_m(0.21) > 0


@pytest.mark.parametrize("kwargs", [dict(route_factor=0.9), dict(equipment_ms=-0.1), dict(fibre_us_per_km=0.0),
                                    dict(fibre_us_per_km=math.nan)])
def test_bad_parameters_are_config_errors(kwargs):
    with pytest.raises(ConfigError):
        LatencyModel(**kwargs)


@pytest.mark.parametrize("budget", [0.0, -1.0, math.inf])
def test_bad_budget_is_a_config_error(budget):
    with pytest.raises(ConfigError, match="latency-ms"):
        DEFAULT_LATENCY.radius_m(budget)


def test_to_dict_names_the_reading():
    assert LatencyModel(round_trip=True).to_dict()["reading"] == "round-trip"
