import json

import pytest

from geoplan.errors import ConfigError
from geoplan.placement import PlanSettings
from geoplan.scenarios import Scenario, load_scenarios, run_scenarios, save_scenarios


def test_scenario_toml_round_trip(tmp_path):
    scs = [Scenario(name="a", total=15_000, settings=PlanSettings(mix=(0.6, 0.25, 0.15))),
           Scenario(name="b", year=2024, method="exact", drawn_sites=((118.1, 24.5),),
                    settings=PlanSettings(indoor=False))]
    path = save_scenarios(scs, tmp_path / "s.toml")
    assert load_scenarios(path) == scs


def test_scenario_file_defaults_and_errors(tmp_path):
    (tmp_path / "s.toml").write_text('[defaults]\nyear = 2024\nband = "n41"\n[[scenario]]\nname = "x"\ntotal = 100\n',
                                     encoding="utf-8")
    (sc,) = load_scenarios(tmp_path / "s.toml")
    assert (sc.year, sc.settings.band, sc.total) == (2024, "n41", 100)
    (tmp_path / "bad.toml").write_text('[[scenario]]\nname = "x"\ntotl = 100\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown setting 'totl'.*did you mean total"):
        load_scenarios(tmp_path / "bad.toml")
    with pytest.raises(ConfigError, match="needs total or year"):
        Scenario(name="none", year=None)
    with pytest.raises(ConfigError, match="method"):
        Scenario(name="m", total=5, method="best")


def test_whatif_more_stations_never_worse(tiny):
    wi = run_scenarios(tiny, [Scenario(name=str(t), total=t) for t in (40, 45, 53, 60)])
    s = wi.summary
    assert s["total"].tolist() == [40, 45, 53, 60]
    assert s["coverage_after"].is_monotonic_increasing
    assert s["districts_meeting_target"].tolist() == [1, 1, 2, 2]  # A needs 13 new (53 in all)
    assert len(wi.districts) == 8
    data = wi.to_dict()
    json.dumps(data)  # serialisable
    assert data["schema"] == "geoplan.whatif/1"


def test_whatif_deterministic(tiny):
    a = run_scenarios(tiny, [Scenario(name="x", total=50, settings=PlanSettings(seed=1))])
    b = run_scenarios(tiny, [Scenario(name="x", total=50, settings=PlanSettings(seed=1))])
    assert a.results[0].placement.selected.tolist() == b.results[0].placement.selected.tolist()
    assert a.summary.equals(b.summary)


def test_whatif_with_edge_and_charging(xiamen):
    from geoplan.placement import planning_context

    ctx = planning_context(xiamen)
    wi = run_scenarios(xiamen, [Scenario(name="a", total=12_000, edge_count=8, charging_share=0.2),
                                Scenario(name="b", total=12_000, edge_count=32, charging_share=0.3)], context=ctx)
    s = wi.summary
    assert s["edge_dcs"].tolist() == [8, 32]
    # more edge DCs never raise the worst latency; a higher charging share needs more spaces
    assert s["edge_max_latency_ms"].iloc[1] <= s["edge_max_latency_ms"].iloc[0]
    assert s["charging_spaces_to_add"].iloc[1] > s["charging_spaces_to_add"].iloc[0]
    assert "edge_charging" in wi.to_dict()["scenarios"][0]
