"""The schema of a scenario: a scenario file's tables and every :class:`~geoplan.scenarios.Scenario`.

One schema checks a scenario whichever door it comes through — a ``[[scenario]]``
table of a file, the ``whatif`` options, the app — so the same mistake gives
the same message and the same exit code (4, :class:`~geoplan.errors.ConfigError`)::

    [defaults]            # optional: settings every scenario shares
    year = 2025

    [[scenario]]          # one table per scenario (double brackets)
    name = "15k"
    total = 15000
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field
from pydantic_core import PydanticCustomError

from ._schema import Count, Flag, PositiveNumber, Section, Year, as_number, as_share, check
from .errors import ConfigError, Problem
from .placement.settings import CANDIDATE_GENERATORS, NETWORKS
from .radio import BANDS

__all__ = ["ScenarioTable", "ScenarioFile", "parse_scenario_file", "check_scenario"]


def _band(v: Any) -> Any:
    if isinstance(v, str) and v in BANDS:
        return v
    raise PydanticCustomError("geoplan_band", f"{v!r} is not a band geoplan models",
                              {"fix": f"use one of {', '.join(BANDS)}"})


def _share_triple(v: Any) -> Any:
    if not isinstance(v, list | tuple) or len(v) != 3:
        raise PydanticCustomError("geoplan_mix", "mix is not three shares",
                                  {"fix": "write mix = [0.6, 0.25, 0.15] (macro, micro, indoor; summing to 1)"})
    shares = [as_share(x) for x in v]
    if not all(isinstance(x, int | float) and 0 <= x <= 1 for x in shares) or abs(sum(shares) - 1) > 1e-6:
        raise PydanticCustomError("geoplan_mix", f"mix {list(v)!r} is not three shares from 0 to 1 summing to 1",
                                  {"fix": "write mix = [0.6, 0.25, 0.15] (macro, micro, indoor)"})
    return tuple(float(x) for x in shares)


def _lonlat(v: Any) -> Any:
    if isinstance(v, list | tuple) and len(v) == 2:
        lon, lat = as_number(v[0]), as_number(v[1])
        if isinstance(lon, int | float) and isinstance(lat, int | float) and -180 <= lon <= 180 and -90 <= lat <= 90:
            if lon == 0 and lat == 0:
                raise PydanticCustomError("geoplan_site", "a drawn site at (0, 0)",
                                          {"fix": "give the site's real longitude and latitude"})
            return (float(lon), float(lat))
    raise PydanticCustomError("geoplan_site", f"{v!r} is not a [longitude, latitude] pair",
                              {"fix": "write drawn_sites = [[118.09, 24.48], ...] in degrees (CGCS2000/WGS84)"})


Seed = Annotated[int, BeforeValidator(as_number), Field(ge=0, le=2**32 - 1)]
Method = Literal["greedy", "exact"]
Candidates = Literal[CANDIDATE_GENERATORS]  # type: ignore[valid-type]
Network = Literal[NETWORKS]  # type: ignore[valid-type]


class ScenarioTable(Section):
    """One ``[[scenario]]`` table (and ``[defaults]``): every field of a :class:`~geoplan.scenarios.Scenario`."""

    name: Annotated[str, Field(max_length=120)] | None = None
    total: Count | None = None
    year: Year | None = None
    method: Method | None = None
    band: Annotated[str, BeforeValidator(_band)] | None = None
    network: Network | None = None
    indoor: Flag | None = None
    mix: Annotated[tuple[float, float, float], BeforeValidator(_share_triple)] | None = None
    seed: Seed | None = None
    candidates: Candidates | None = None
    n_candidates: Count | None = None
    candidate_spacing_m: Annotated[float, BeforeValidator(as_number), Field(ge=10, le=100_000)] | None = None
    cost_weight: Annotated[float, BeforeValidator(as_number), Field(ge=0, le=1e9)] | None = None
    population_year: Year | None = None
    basis: Literal["census", "yearend", "projection"] | None = None
    meet: Literal["density", "count", "both"] | None = None
    quotas: Literal["plan", "area", "district", "city", "province"] | None = None
    drawn_sites: tuple[Annotated[tuple[float, float], BeforeValidator(_lonlat)], ...] | None = Field(
        default=None, max_length=100_000)
    time_limit_s: Annotated[float, BeforeValidator(as_number), Field(gt=0, le=7 * 86_400)] | None = None
    edge_count: Count | None = None
    latency_ms: Annotated[float, BeforeValidator(as_number), Field(gt=0, le=1_000)] | None = None
    charging_share: Annotated[float, BeforeValidator(as_share), Field(gt=0, le=1)] | None = None
    charging_radius_m: Annotated[PositiveNumber, Field(le=100_000)] | None = None
    capacity: Flag | None = None


def _table_list(v: Any) -> Any:
    if isinstance(v, dict):
        raise PydanticCustomError("geoplan_tables", "[scenario] is a single table",
                                  {"fix": "write [[scenario]] (double brackets) above each scenario"})
    return v


class ScenarioFile(Section):
    """A whole scenario file."""

    defaults: ScenarioTable = ScenarioTable()
    scenario: Annotated[list[ScenarioTable], BeforeValidator(_table_list), Field(
        min_length=1, max_length=1_000,
        json_schema_extra={"missing_fix": "add a [[scenario]] table for each scenario, with total = N or year = Y"})]


def _label(raw: Any) -> Any:
    tables = raw.get("scenario") if isinstance(raw, dict) else None

    def label(table: tuple[Any, ...]) -> str:
        if len(table) >= 2 and table[0] == "scenario" and isinstance(table[1], int):
            name = None
            if isinstance(tables, list) and table[1] < len(tables) and isinstance(tables[table[1]], dict):
                name = tables[table[1]].get("name")
            return f"[[scenario]] no. {table[1] + 1}" + (f" ({name!r})" if isinstance(name, str) else "")
        return "[" + ".".join(map(str, table)) + "]" if table else "[top level]"
    return label


def parse_scenario_file(raw: Any, *, where: str) -> list[dict[str, Any]]:
    """The scenarios of a parsed scenario file as dicts of the values they set, ``[defaults]`` applied.

    Raises
    ------
    ConfigError
        Every problem at once: unknown keys, wrong types, values out of range,
        ``[scenario]`` written for ``[[scenario]]``, two scenarios with one name.

    Examples
    --------
    >>> parse_scenario_file({"defaults": {"year": 2025}, "scenario": [{"name": "a", "total": "15000"}]},
    ...                     where="demo")
    [{'year': 2025, 'name': 'a', 'total': 15000}]
    """
    sf = check(ScenarioFile, raw, where=where, section=_label(raw))
    base = sf.defaults.model_dump(exclude_unset=True)
    out = [{**base, **t.model_dump(exclude_unset=True)} for t in sf.scenario]
    names = [d.get("name", "scenario") for d in out]
    dup = [n for n, c in Counter(names).items() if c > 1]
    if dup:
        raise ConfigError([Problem("[[scenario]]", "name", f"{len(dup)} name(s) used by more than one scenario "
                                   f"({', '.join(map(repr, dup[:5]))}); their results would share one column",
                                   "give every scenario its own name")], where=where)
    return out


def check_scenario(values: Mapping[str, Any], *, where: str = "scenario", label: str | None = None) -> None:
    """Check a scenario's settings (the fields of a :class:`~geoplan.scenarios.Scenario`) against the schema.

    Also checks command-line options that are scenario settings (``label="[options]"``),
    so ``--seed -1`` and ``seed = -1`` get the same message and exit code.
    """
    clean = {k: v for k, v in values.items() if v is not None and not (k == "drawn_sites" and v == ())}
    name = values.get("name")
    section = label or (f"[scenario {name!r}]" if isinstance(name, str) else "[scenario]")
    check(ScenarioTable, clean, where=where, section=lambda t: section)
