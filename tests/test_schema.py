"""Settings-file schemas (project file, scenario file): examples, and properties over arbitrary TOML values.

The property: whatever values a TOML file holds, in whatever place, validation
ends in a result or a ConfigError whose every problem names a section, a setting
and a fix — never another exception.
"""

from __future__ import annotations

import datetime as dt
import math

import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import geoplan as gp
from geoplan import _schema
from geoplan._project_file import parse_project_file
from geoplan._scenario_file import parse_scenario_file
from geoplan.cli import main
from geoplan.errors import ConfigError, GeoplanError
from geoplan.scenarios import Scenario, load_scenarios

# --- values a TOML file can hold -----------------------------------------------------------------------

_scalars = st.one_of(
    st.booleans(), st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30),
    st.sampled_from(["516万", "60%", "1ms", "5,160,000", "EPSG:4548", "GCJ-02", "no", "是", "", " ", "[/]",
                     "n78", "greedy", "exact", "kmeans", "2023", "1e999", "-0", "0x10", "nan", "GBK"]),
    st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2100, 1, 1)), st.dates(),
)
_keys = st.one_of(st.sampled_from(["path", "name", "plan", "crs", "total", "seed", "year", "mix", "yearend",
                                   "2023", "census_total", "modelled", "fields", "band", "layer", "encoding",
                                   "drawn_sites", "max_features", "scenario", "defaults", "layers", "districts",
                                   "population", "sites", "project", "limits", "population_stats"]),
                  st.text(max_size=12))
_values = st.recursive(_scalars, lambda children: st.one_of(st.lists(children, max_size=4),
                                                            st.dictionaries(_keys, children, max_size=4)),
                       max_leaves=20)

_GOOD_PROJECT = {
    "project": {"name": "x", "plan": "xiamen", "metric_crs": "EPSG:4548"},
    "population_stats": {"census_year": 2020, "census_total": 15000, "yearend": {"2023": 15100}},
    "layers": {"districts": {"path": "d.gpkg", "fields": {"XZQDM": "code"}}, "population": {"path": "p.tif"},
               "sites": {"path": "s.gpkg", "crs": 4490, "modelled": True}},
    "limits": {"max_features": 1000},
}
_GOOD_SCENARIOS = {"defaults": {"year": 2025}, "scenario": [{"name": "a", "total": 100, "seed": 1},
                                                            {"name": "b", "total": 200, "mix": [0.6, 0.25, 0.15]}]}


def _paths(d: object, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(d, dict):
        for k, v in d.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(d, list):
        for i, v in enumerate(d):
            out += _paths(v, (*prefix, i))
    return out


def _replaced(d: object, path: tuple, value: object) -> object:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(d, dict):
        return {**d, head: _replaced(d[head], rest, value)}
    assert isinstance(d, list)
    return [(_replaced(v, rest, value) if i == head else v) for i, v in enumerate(d)]


def _assert_clean(fn, data) -> None:
    try:
        fn(data)
    except ConfigError as exc:
        assert exc.problems or "Fix" in str(exc)
        for p in exc.problems:
            assert p.layer.startswith("[") and p.message and p.fix, p
        str(exc)  # the message renders


_SETTINGS = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(data=_values)
def test_any_toml_value_as_a_project_file_is_a_config_error_or_valid(data):
    _assert_clean(lambda d: parse_project_file(d, where="project file"), data)


@_SETTINGS
@given(data=st.data())
def test_any_value_anywhere_in_a_good_project_file(data):
    path = data.draw(st.sampled_from(_paths(_GOOD_PROJECT)[1:]))
    value = data.draw(_values)
    _assert_clean(lambda d: parse_project_file(d, where="project file"), _replaced(_GOOD_PROJECT, path, value))


@_SETTINGS
@given(data=st.data())
def test_any_value_anywhere_in_a_good_scenario_file(data):
    path = data.draw(st.sampled_from(_paths(_GOOD_SCENARIOS)[1:]))
    value = data.draw(_values)
    raw = _replaced(_GOOD_SCENARIOS, path, value)

    def load(d):
        for sc in parse_scenario_file(d, where="scenario file"):
            Scenario.from_dict(sc)  # the dataclass agrees with the schema

    _assert_clean(load, raw)


@settings(max_examples=300, deadline=None)
@given(v=_scalars)
def test_number_parsing_never_guesses(v):
    try:
        x = _schema.as_number(v)
    except Exception as exc:  # only pydantic's own error type, turned into a Problem by check()
        assert type(exc).__name__ == "PydanticCustomError"
        return
    if isinstance(v, str):  # text accepted only when it is a plain finite number
        assert isinstance(x, int | float) and math.isfinite(x) and float(v.strip()) == x


@pytest.mark.parametrize("text,fix", [("516万", "5160000"), ("1.2亿", "120000000"), ("5,160,000", "5160000"),
                                      ("1ms", "latency_ms = 1"), ("900 m", "= 900")])
def test_numbers_with_units_say_what_to_write(text, fix):
    with pytest.raises(ConfigError) as ei:
        parse_scenario_file({"scenario": [{"name": "a", "total": 1, "latency_ms": text}]}, where="s.toml")
    assert fix in ei.value.problems[0].fix or fix.split()[-1] in ei.value.problems[0].fix


def test_project_file_examples_of_the_issue():
    with pytest.raises(ConfigError) as ei:
        parse_project_file({"population_stats": {"census_total": "516万", "yearend": {"2023": 0}},
                            "layers": {"districts": {"path": "d", "modelled": "maybe"}, "population": {"path": "p"},
                                       "towers": {"path": "t"}}, "project": {"plan": "xiamn"}}, where="g.toml")
    got = {(p.layer, p.field) for p in ei.value.problems}
    assert got == {("[population_stats]", "census_total"), ("[population_stats.yearend]", "2023"),
                   ("[layers.districts]", "modelled"), ("[layers]", "towers")}
    assert "5160000" in str(ei.value) and "[population_stats]" in str(ei.value)
    pf = parse_project_file({"layers": {"districts": {"path": "d", "crs": 4490, "modelled": "no"},
                                        "population": {"path": "p", "band": "2"}}}, where="g.toml")
    assert pf.layers.districts.crs == "EPSG:4490" and pf.layers.districts.modelled is False and pf.population.band == 2
    with pytest.raises(ConfigError, match="no plan named 'xiamn'.*xiamen"):
        parse_project_file({"project": {"plan": "xiamn"}, "layers": {"districts": {"path": "d"},
                                                                      "population": {"path": "p"}}}, where="g.toml")


def test_scenario_file_examples_of_the_issue(tmp_path):
    (tmp_path / "one.toml").write_text('[scenario]\nname = "a"\ntotal = 100\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"write \[\[scenario\]\]"):
        load_scenarios(tmp_path / "one.toml")
    (tmp_path / "dup.toml").write_text('[[scenario]]\nname = "a"\ntotal = 1\n[[scenario]]\nname = "a"\ntotal = 2\n',
                                       encoding="utf-8")
    with pytest.raises(ConfigError, match="more than one scenario"):
        load_scenarios(tmp_path / "dup.toml")
    (tmp_path / "bad.toml").write_text('[[scenario]]\nname = "a"\ntotal = 100\ncharging_share = "60%"\n'
                                       'latency_ms = "1ms"\nseed = -1\n', encoding="utf-8")
    with pytest.raises(ConfigError) as ei:
        load_scenarios(tmp_path / "bad.toml")
    assert {p.field for p in ei.value.problems} == {"charging_share", "latency_ms", "seed"}
    assert "charging_share = 0.6" in str(ei.value)


def test_same_mistake_same_exit_code_from_the_command_line_and_a_file(capsys, tmp_path, tiny_project_file):
    def code(*args):
        with pytest.raises(SystemExit) as ei:
            main([*args, "--project", str(tiny_project_file)])
        err = capsys.readouterr().err
        assert "Traceback" not in err
        return ei.value.code

    for flag, key, value in [("--seed", "seed", "-1"), ("--method", "method", "fast"), ("--band", "band", "n99"),
                             ("--total", "total", "many"), ("--latency-ms", "latency_ms", "1ms")]:
        (tmp_path / "s.toml").write_text(tomli_w.dumps({"scenario": [{"name": "a", "total": 45, key: value}]}),
                                         encoding="utf-8")
        assert code("whatif", "--total", "45", flag, value) == 4, flag
        assert code("whatif", "--scenario", str(tmp_path / "s.toml")) == 4, key
    assert code("place", "sites", "--year", "2025", "--seed", "-1") == 4
    assert code("whatif", "--total", "45", "45") == 4  # two scenarios named "45"


def test_scenario_objects_are_checked_by_the_same_schema():
    from geoplan.placement import PlanSettings

    with pytest.raises(ConfigError, match="seed"):
        Scenario.from_dict({"name": "a", "total": 10, "seed": -1})
    with pytest.raises(ConfigError, match="band"):
        Scenario.from_dict({"name": "a", "total": 10, "band": "n99"})
    with pytest.raises(ConfigError, match="seed"):
        Scenario(name="a", total=10, settings=PlanSettings(seed=-1))
    with pytest.raises(ConfigError, match="total"):
        Scenario(name="a", total=-10)
    sc = Scenario.from_dict({"name": "a", "total": 10, "mix": [0.5, 0.5, 0.0]})
    assert sc.settings.mix == (0.5, 0.5, 0.0)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_loading_a_project_file_with_any_value_is_a_geoplan_error_or_a_project(data, tiny_project_file):
    """End to end through load_project: the file is written as TOML and read back."""
    good = {"project": {"name": "tiny", "plan": "xiamen", "metric_crs": "EPSG:4548"},
            "layers": {"districts": {"path": "districts.gpkg"}, "population": {"path": "pop.tif"},
                       "sites": {"path": "sites.gpkg"}}}
    path = data.draw(st.sampled_from(_paths(good)[1:]))
    raw = _replaced(good, path, data.draw(_values))
    try:
        text = tomli_w.dumps(raw)
    except (TypeError, ValueError):
        return  # not writable as TOML (e.g. NaN keys): nothing a planner could save
    f = tiny_project_file.parent / "any.toml"
    f.write_text(text, encoding="utf-8")
    try:
        gp.load_project(f)
    except GeoplanError:
        pass
