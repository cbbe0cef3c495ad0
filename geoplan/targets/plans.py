"""A plan's targets: the targets file schema, its validation and the :class:`Plan` it describes.

A targets file is TOML (schema in ``docs/targets.md``). The two shipped plans,
``xiamen.toml`` and ``fujian.toml`` beside this module, are examples of it; a
planner writes one for their own city and names it in the project file
(``[project] targets = "targets.toml"``). The part geoplan acts on::

    [plan]
    key = "xiamen"               # short name
    title = "厦门市新型基础设施建设三年行动计划（2023-2025年）"
    scope = "厦门市"              # the area the plan is for, and its GB/T 2260 code
    xzqdm = "350200"

    [targets.per_10k]            # 5G base stations per 10,000 residents, by year (required)
    by_year = { 2023 = 25, 2024 = 29, 2025 = 33 }
    applies_to = "area"          # one figure for the plan's whole area, or "district": every district

    [targets.stations]           # 5G base stations in total, by year (optional)
    by_year = { 2025 = 18500 }

    [targets.edge_dc]            # edge data centres (optional), and the latency circle
    by_year = { 2025 = 32 }
    [targets.latency_ms]
    by_year = { 2025 = 1 }
    [targets.charging_share]     # share of spaces with chargers in new public car parks (optional)
    by_year = { 2025 = 0.20 }

    [[districts]]                # per-district targets (optional)
    xzqdm = "350203"
    per_10k = { 2025 = 40 }

:func:`validate_targets` is the one place the schema is checked: it returns
every :class:`~geoplan.errors.Problem` of a file at once. No target is
hard-coded in logic.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .. import io
from ..errors import ConfigError, Problem

__all__ = [
    "Indicator",
    "TextTarget",
    "YearTargets",
    "DistrictTarget",
    "Application",
    "Plan",
    "TARGET_KEYS",
    "LEVELS",
    "APPLIES_TO",
    "AREA_SYNONYMS",
    "validate_targets",
    "plan_from_dict",
    "load_plan",
    "read_targets_file",
    "plan_keys",
    "level_of",
    "config_error",
]

#: The targets geoplan acts on: key → (Chinese name, English name, unit, compatible text-target id).
TARGET_KEYS: dict[str, tuple[str, str, str, str]] = {
    "per_10k": ("每万人拥有5G基站数", "5G base stations per 10,000 residents", "个", "5g_per_10k"),
    "stations": ("5G基站总数", "5G base stations in total", "个", "5g_stations"),
    "edge_dc": ("边缘数据中心", "Edge data centres", "个", "edge_dc"),
    "latency_ms": ("城区数据中心网络时延圈", "Urban data-centre network latency circle", "ms", "latency_ms"),
    "charging_share": ("新建公共停车场新能源充电桩车位占比",
                       "Share of spaces with EV chargers in new public car parks", "share (≥)",
                       "charging_share_new_car_parks"),
}
#: Targets that are absolute counts: they belong to the plan's whole area (scaled or withheld on a part of it).
COUNT_KEYS = ("stations", "edge_dc")
#: Administrative levels of a plan's area (GB/T 2260: 省 XX0000, 市 XXXX00, 县 XXXXXX).
LEVELS = ("province", "city", "county")
#: How the density target applies: one figure for the plan's whole area (全市/全省), or to every district.
APPLIES_TO = ("area", "district")
#: Words accepted for ``"area"`` (a city's or a province's plan says 全市/全省).
AREA_SYNONYMS = ("city", "province", "whole")
_KEY_RE = re.compile(r"[A-Za-z0-9_\-]+")
_CODE_RE = re.compile(r"\d{6}")
_HEAD_KEYS = {"key", "title", "scope", "xzqdm", "level", "document", "issued", "baseline_year", "years", "parent",
              "population", "population_year", "modelled", "note"}
_TARGET_FIELDS = {"by_year", "applies_to", "baseline", "parent_value", "quote", "source", "no", "responsible", "note"}
_DISTRICT_FIELDS = {"xzqdm", "name", "per_10k", "stations", "note"}
_FIX_SCHEMA = "see docs/targets.md (geoplan/targets/xiamen.toml is a complete example)"


@dataclass(frozen=True)
class Indicator:
    """One row of a plan's annex table (recorded; geoplan acts on ``5g_per_10k`` only)."""

    id: str
    no: int
    name: str
    name_en: str
    unit: str
    baseline: float | None
    targets: dict[int, float]
    province_2025: float | None = None
    responsible: str = ""
    note: str = ""

    def target(self, year: int) -> float:
        """The target for ``year`` (a clear error for years the plan does not cover)."""
        if year not in self.targets:
            raise ConfigError(f"indicator '{self.id}' has targets for {sorted(self.targets)}, not {year}. "
                              f"Fix: use --year {max(self.targets)}")
        return self.targets[year]


@dataclass(frozen=True)
class TextTarget:
    """A target stated in a plan's body text, with its quote."""

    id: str
    year: int
    value: Any
    unit: str
    name: str
    name_en: str
    quote: str
    section: str


@dataclass(frozen=True)
class YearTargets:
    """One target geoplan acts on, by year, with where the plan states it.

    ``applies_to`` matters for the density target only (``"area"``: one figure
    for the plan's whole area, 全市/全省; ``"district"``: every district must reach it).
    """

    key: str
    by_year: dict[int, float]
    applies_to: str = "area"
    baseline: float | None = None
    parent_value: float | None = None
    quote: str = ""
    source: str = ""
    no: int | None = None
    responsible: str = ""
    note: str = ""

    @property
    def name(self) -> str:
        """Chinese name of the target."""
        return TARGET_KEYS[self.key][0]

    @property
    def name_en(self) -> str:
        """English name of the target."""
        return TARGET_KEYS[self.key][1]

    @property
    def years(self) -> tuple[int, ...]:
        """Years the target is stated for."""
        return tuple(sorted(self.by_year))

    def get(self, year: int) -> float | None:
        """The value for ``year``, or ``None`` when the plan states none for it."""
        return self.by_year.get(int(year))


@dataclass(frozen=True)
class DistrictTarget:
    """Targets a plan sets for one district (they bind whatever ``applies_to`` says)."""

    xzqdm: str
    name: str = ""
    per_10k: dict[int, float] = field(default_factory=dict)
    stations: dict[int, int] = field(default_factory=dict)
    note: str = ""


@dataclass(frozen=True)
class Application:
    """How a plan is applied to a project: to its own area, or a parent plan to a part of it.

    Attributes
    ----------
    kind : {"own", "parent", "unchecked"}
        ``own``: the plan is for the project's area; ``parent``: the plan is for
        a larger area holding it (a province plan on a city); ``unchecked``: the
        project's district codes are not GB/T 2260 codes, so it was not checked.
    project_code, project_scope : str
        The project's area.
    counts : {"apply", "scaled", "withheld"}
        What happens to the plan's absolute counts (stations, edge data centres).
    factor : float or None
        The scale factor of ``scaled`` counts (the project's share of the plan area's population).
    statement : str
        One sentence for tables and reports.
    """

    kind: str
    project_code: str
    project_scope: str
    counts: str
    factor: float | None
    statement: str


@dataclass(frozen=True)
class Plan:
    """A plan's targets, as written in its targets file (and, via :attr:`application`, as applied).

    The five targets geoplan acts on are :attr:`per_10k`, :attr:`stations`,
    :attr:`edge_dc`, :attr:`latency_ms` and :attr:`charging_share` (all but
    the first optional). :attr:`indicators` and :attr:`text_targets` also list
    them under their annex/text ids (``5g_per_10k``, ``5g_stations``,
    ``edge_dc``, ``latency_ms``, ``charging_share_new_car_parks``), beside the
    other indicators the file records.
    """

    key: str
    title: str
    scope: str
    xzqdm: str
    level: str
    years: tuple[int, ...]
    per_10k: YearTargets
    stations: YearTargets | None = None
    edge_dc: YearTargets | None = None
    latency_ms: YearTargets | None = None
    charging_share: YearTargets | None = None
    districts: tuple[DistrictTarget, ...] = ()
    document: str = ""
    issued: str = ""
    baseline_year: int | None = None
    parent: str | None = None
    population: float | None = None
    population_year: int | None = None
    modelled: bool = False
    note: str = ""
    source: str = ""
    other_indicators: tuple[Indicator, ...] = ()
    other_text_targets: tuple[TextTarget, ...] = ()
    application: Application | None = None
    withheld: tuple[str, ...] = ()

    # --- the targets geoplan acts on --------------------------------------------------------------

    def target(self, key: str) -> YearTargets | None:
        """Target ``key`` (one of :data:`TARGET_KEYS`), ``None`` when the plan states none.

        A count withheld because the plan is a parent area's raises
        :class:`ConfigError` with the reason, instead of returning ``None``.
        """
        if key not in TARGET_KEYS:
            raise ConfigError(f"unknown target {key!r}; targets: {', '.join(TARGET_KEYS)}")
        if key in self.withheld:
            assert self.application is not None
            raise ConfigError(f"{self.application.statement} Fix: write a targets file for "
                              f"{self.application.project_scope} ([project] targets = \"targets.toml\", see "
                              "docs/targets.md), set [project] plan_scaling = \"population\" to scale the counts, "
                              "or give the number yourself")
        return getattr(self, key)  # type: ignore[no-any-return]

    def density(self, year: int) -> float:
        """The 5G density target (stations per 10k residents) of ``year``."""
        self.check_year(year)
        v = self.per_10k.get(year)
        if v is None:
            raise ConfigError(f"plan '{self.key}' states no 5G density target for {year} (it does for "
                              f"{', '.join(map(str, self.per_10k.years))}). Fix: choose one of those years")
        return float(v)

    def station_count(self, year: int) -> int | None:
        """The plan's total 5G stations for ``year`` (``None`` when it states none for that year)."""
        t = self.target("stations")
        v = None if t is None else t.get(year)
        return None if v is None else int(round(v))

    def district_targets(self, code: str) -> DistrictTarget | None:
        """The plan's own targets for district ``code``, if it sets any."""
        return next((d for d in self.districts if d.xzqdm == str(code)), None)

    @property
    def applies_to(self) -> str:
        """``"area"`` or ``"district"``: how the density target applies (see :class:`YearTargets`)."""
        return self.per_10k.applies_to

    # --- compatibility: annex indicators and text targets by id ----------------------------------

    @property
    def indicators(self) -> tuple[Indicator, ...]:
        """Annex indicators: the density target as ``5g_per_10k``, then the others recorded."""
        d = self.per_10k
        head = Indicator(id="5g_per_10k", no=d.no or 1, name=d.name, name_en=d.name_en, unit="个",
                         baseline=d.baseline, targets={y: v for y, v in d.by_year.items()},
                         province_2025=d.parent_value, responsible=d.responsible, note=d.note)
        return (head, *self.other_indicators)

    @property
    def text_targets(self) -> tuple[TextTarget, ...]:
        """Targets of the body text: the ones geoplan acts on (last year stated), then the others."""
        out = []
        for key in ("stations", "edge_dc", "latency_ms", "charging_share"):
            t = getattr(self, key)
            if t is None or key in self.withheld:
                continue
            year = max(t.by_year)
            name, name_en, unit, tid = TARGET_KEYS[key]
            v: Any = t.by_year[year]
            out.append(TextTarget(id=tid, year=year, value=int(v) if float(v).is_integer() and key != "charging_share"
                                  else v, unit=unit, name=name, name_en=name_en, quote=t.quote, section=t.source))
        return (*out, *self.other_text_targets)

    def indicator(self, id: str) -> Indicator:
        """Annex indicator ``id`` (e.g. ``"5g_per_10k"``)."""
        for ind in self.indicators:
            if ind.id == id:
                return ind
        raise ConfigError(f"plan '{self.key}' has no indicator '{id}'")

    def text_target(self, id: str) -> TextTarget | None:
        """Text target ``id`` (e.g. ``"5g_stations"``), or ``None`` when the plan states none (or withholds it)."""
        return next((t for t in self.text_targets if t.id == id), None)

    def check_year(self, year: int) -> int:
        """``year`` if the plan sets targets for it, else a :class:`ConfigError`."""
        if year not in self.years:
            raise ConfigError(f"plan '{self.key}' sets targets for {', '.join(map(str, self.years))}, not {year}. "
                              "Fix: choose one of those years with --year")
        return year

    @property
    def citation(self) -> str:
        """Title, document number and date."""
        return ", ".join(x for x in (self.title, self.document, self.issued) if x)

    def describe(self) -> dict[str, Any]:
        """JSON-ready summary of the plan and how it applies (for reports)."""
        out: dict[str, Any] = {"key": self.key, "title": self.title, "document": self.document,
                               "issued": self.issued, "scope": self.scope, "xzqdm": self.xzqdm,
                               "level": self.level, "modelled": self.modelled}
        if self.source:
            out["file"] = self.source
        if self.application is not None:
            a = self.application
            out["application"] = {"kind": a.kind, "project_code": a.project_code, "project_scope": a.project_scope,
                                  "counts": a.counts, "factor": a.factor, "statement": a.statement}
        return out


def level_of(code: str) -> str | None:
    """Administrative level of a GB/T 2260 code (``None`` when it is not one).

    Examples
    --------
    >>> level_of("350000"), level_of("350200"), level_of("350203"), level_of("A1")
    ('province', 'city', 'county', None)
    """
    if not _CODE_RE.fullmatch(str(code)):
        return None
    if code[2:] == "0000":
        return "province"
    if code[4:] == "00":
        return "city"
    return "county"


# --- validation: one function, every problem at once --------------------------------------------------

def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _year(k: Any) -> int | None:
    try:
        y = int(str(k).strip())
    except ValueError:
        return None
    return y if 1949 <= y <= 2100 else None


def _by_year_problems(where: str, name: str, raw: Any, *, share: bool = False, whole: bool = False) -> list[Problem]:
    if not isinstance(raw, dict) or not raw:
        return [Problem(where, name, f"must be a table of year = value, got {raw!r}",
                        f'write e.g. {name} = {{ 2025 = {"0.2" if share else "33"} }}')]
    out = []
    for k, v in raw.items():
        if _year(k) is None:
            out.append(Problem(where, name, f"key {k!r} is not a year", 'use years as keys, e.g. { 2025 = ... }'))
        if not _is_number(v) or v <= 0:
            out.append(Problem(where, f"{name}.{k}", f"value {v!r} is not a positive number",
                               "write a plain number (no units, no quotes)"))
        elif share and v > 1:
            out.append(Problem(where, f"{name}.{k}", f"share {v!r} is above 1",
                               f"write a share from 0 to 1 (20 % is {v / 100:g})" if v <= 100 else
                               "write a share from 0 to 1"))
        elif whole and not float(v).is_integer():
            out.append(Problem(where, f"{name}.{k}", f"{v!r} is not a whole number", "write a count"))
    return out


def _head_problems(head: Any) -> list[Problem]:
    if not isinstance(head, dict):
        return [Problem("[plan]", None, "the file has no [plan] table", f"add one: {_FIX_SCHEMA}")]
    out = [Problem("[plan]", k, "unknown key", f"use {', '.join(sorted(_HEAD_KEYS))}")
           for k in head if k not in _HEAD_KEYS]
    for k in ("key", "title", "scope", "xzqdm"):
        if not isinstance(head.get(k), str) or not head.get(k, "").strip():
            out.append(Problem("[plan]", k, "is missing or empty", f'add {k} = "..." ({_FIX_SCHEMA})'))
    if isinstance(head.get("key"), str) and head["key"] and not _KEY_RE.fullmatch(head["key"]):
        out.append(Problem("[plan]", "key", f"{head['key']!r} has characters other than letters, digits, _ and -",
                           'use a short name such as "fuzhou"'))
    code = head.get("xzqdm")
    if isinstance(code, str) and code and level_of(code) is None:
        out.append(Problem("[plan]", "xzqdm", f"{code!r} is not a 6-digit GB/T 2260 code",
                           'give the code of the plan\'s area, e.g. "350100" for 福州市'))
    lvl = head.get("level")
    if lvl is not None and lvl not in LEVELS:
        out.append(Problem("[plan]", "level", f"unknown level {lvl!r}", f"use one of {', '.join(LEVELS)}"))
    elif lvl is not None and isinstance(code, str) and level_of(code) not in (None, lvl):
        out.append(Problem("[plan]", "level", f"{lvl!r} disagrees with the code {code} ({level_of(code)})",
                           "correct the code or leave level out (it follows from the code)"))
    for k in ("baseline_year", "population_year"):
        if k in head and _year(head[k]) is None:
            out.append(Problem("[plan]", k, f"{head[k]!r} is not a year", "write a year such as 2022"))
    years = head.get("years")
    if years is not None and (not isinstance(years, list) or not years or any(_year(y) is None for y in years)):
        out.append(Problem("[plan]", "years", f"{years!r} is not a list of years", "write e.g. years = [2023, 2024, 2025]"))
    if "population" in head and (not _is_number(head["population"]) or head["population"] <= 0):
        out.append(Problem("[plan]", "population", f"{head['population']!r} is not a positive number",
                           "give the census resident population of the plan's area, persons"))
    if "modelled" in head and not isinstance(head["modelled"], bool):
        out.append(Problem("[plan]", "modelled", f"{head['modelled']!r} is not true or false", "write true or false"))
    return out


def _target_problems(targets: Any) -> list[Problem]:
    if not isinstance(targets, dict) or "per_10k" not in targets:
        return [Problem("[targets.per_10k]", None, "the file states no 5G density target",
                        "add [targets.per_10k] with by_year = { 2025 = ... } (stations per 10,000 residents)")]
    out = [Problem("[targets]", k, "unknown target", f"use {', '.join(TARGET_KEYS)}") for k in targets
           if k not in TARGET_KEYS]
    for key in TARGET_KEYS:
        t = targets.get(key)
        if t is None:
            continue
        where = f"[targets.{key}]"
        if not isinstance(t, dict):
            out.append(Problem(where, None, "must be a table", f"write [targets.{key}] with by_year = {{ ... }}"))
            continue
        out += [Problem(where, k, "unknown key", f"use {', '.join(sorted(_TARGET_FIELDS))}")
                for k in t if k not in _TARGET_FIELDS]
        out += _by_year_problems(where, "by_year", t.get("by_year"), share=key == "charging_share",
                                 whole=key in COUNT_KEYS)
        if "applies_to" in t and (key != "per_10k" or t["applies_to"] not in APPLIES_TO + AREA_SYNONYMS):
            out.append(Problem(where, "applies_to", f"{t['applies_to']!r} is not allowed here",
                               "applies_to is for [targets.per_10k] only: \"area\" (one figure for the plan's "
                               "whole area, the default) or \"district\" (every district)"))
        for k in ("baseline", "parent_value"):
            if k in t and not _is_number(t[k]):
                out.append(Problem(where, k, f"{t[k]!r} is not a number", "write a plain number"))
    return out


def _district_problems(districts: Any) -> list[Problem]:
    if districts is None:
        return []
    if not isinstance(districts, list):
        return [Problem("[[districts]]", None, "must be an array of tables", "write one [[districts]] table each")]
    out: list[Problem] = []
    seen: set[str] = set()
    for i, d in enumerate(districts, start=1):
        where = f"[[districts]] #{i}"
        if not isinstance(d, dict):
            out.append(Problem(where, None, "is not a table", "write [[districts]] with xzqdm = \"...\""))
            continue
        out += [Problem(where, k, "unknown key", f"use {', '.join(sorted(_DISTRICT_FIELDS))}")
                for k in d if k not in _DISTRICT_FIELDS]
        code = str(d.get("xzqdm", ""))
        if not code:
            out.append(Problem(where, "xzqdm", "is missing", "give the district's code as in the districts layer"))
        elif code in seen:
            out.append(Problem(where, "xzqdm", f"district {code} is listed twice", "merge the two tables"))
        seen.add(code)
        if "per_10k" not in d and "stations" not in d:
            out.append(Problem(where, None, "sets neither per_10k nor stations", "add one, or remove the table"))
        for k in ("per_10k", "stations"):
            if k in d:
                out += _by_year_problems(where, k, d[k], whole=k == "stations")
    return out


def _other_problems(raw: dict[str, Any]) -> list[Problem]:
    out: list[Problem] = []
    known = {"plan", "targets", "districts", "indicators", "text_targets"}
    out += [Problem(f"[{k}]", None, "unknown table", f"use {', '.join(sorted(known))}") for k in raw if k not in known]
    for i, ind in enumerate(raw.get("indicators", []) or [], start=1):
        if not isinstance(ind, dict) or not {"id", "name", "targets"} <= set(ind):
            out.append(Problem(f"[[indicators]] #{i}", None, "needs id, name and targets",
                               'write id = "...", name = "...", targets = { 2025 = ... }'))
        elif ind["id"] == "5g_per_10k":
            out.append(Problem(f"[[indicators]] #{i}", "id", "the 5G density target belongs in [targets.per_10k]",
                               "move it there (by_year = ..., baseline = ...)"))
    for i, tt in enumerate(raw.get("text_targets", []) or [], start=1):
        if not isinstance(tt, dict) or not {"id", "year", "value"} <= set(tt):
            out.append(Problem(f"[[text_targets]] #{i}", None, "needs id, year and value",
                               'write id = "...", year = 2025, value = ...'))
    return out


def validate_targets(raw: Any) -> list[Problem]:
    """Every problem of a parsed targets file (an empty list when it is valid).

    The one place the targets-file schema (``docs/targets.md``) is checked: the
    ``[plan]`` head, the ``[targets.*]`` tables, ``[[districts]]`` and the
    recorded ``[[indicators]]`` / ``[[text_targets]]``.

    Examples
    --------
    >>> [str(p) for p in validate_targets({"plan": {"key": "x", "title": "t", "scope": "s", "xzqdm": "350100"},
    ...                                    "targets": {"per_10k": {"by_year": {"2025": "30/万"}}}})]
    ["layer '[targets.per_10k]', field 'by_year.2025': value '30/万' is not a positive number. Fix: write a plain number (no units, no quotes)"]
    """
    if not isinstance(raw, dict):
        return [Problem("targets file", None, "is not a TOML table", _FIX_SCHEMA)]
    return (_head_problems(raw.get("plan")) + _target_problems(raw.get("targets")) +
            _district_problems(raw.get("districts")) + _other_problems(raw))


def config_error(problems: list[Problem], *, where: str) -> ConfigError:
    """One :class:`ConfigError` listing ``problems`` (kept on its ``problems`` attribute)."""
    head = "1 problem" if len(problems) == 1 else f"{len(problems)} problems"
    exc = ConfigError(f"{head} in {where}:\n- " + "\n- ".join(map(str, problems)))
    exc.problems = list(problems)  # type: ignore[attr-defined]
    return exc


# --- building the Plan ----------------------------------------------------------------------------------

def _years(raw: dict[Any, Any]) -> dict[int, float]:
    return {int(str(k).strip()): float(v) for k, v in raw.items()}


def _target(key: str, t: dict[str, Any] | None) -> YearTargets | None:
    if t is None:
        return None
    applies = t.get("applies_to", "area")
    return YearTargets(key=key, by_year=_years(t["by_year"]), applies_to="area" if applies in AREA_SYNONYMS else applies,
                       baseline=t.get("baseline"), parent_value=t.get("parent_value"), quote=t.get("quote", ""),
                       source=t.get("source", ""), no=t.get("no"), responsible=t.get("responsible", ""),
                       note=t.get("note", ""))


def plan_from_dict(raw: Any, *, source: str = "targets file") -> Plan:
    """Validate a parsed targets file and build its :class:`Plan`.

    Raises
    ------
    ConfigError
        Listing every problem found by :func:`validate_targets`.
    """
    problems = validate_targets(raw)
    if problems:
        raise config_error(problems, where=source)
    head, tg = raw["plan"], raw["targets"]
    per = _target("per_10k", tg["per_10k"])
    assert per is not None
    others = tuple(
        Indicator(id=i["id"], no=int(i.get("no", 0)), name=i["name"], name_en=i.get("name_en", ""),
                  unit=i.get("unit", ""), baseline=i.get("baseline"), targets=_years(i["targets"]),
                  province_2025=i.get("province_2025"), responsible=i.get("responsible", ""), note=i.get("note", ""))
        for i in raw.get("indicators", []) or [])
    texts = tuple(TextTarget(id=t["id"], year=int(t["year"]), value=t["value"], unit=t.get("unit", ""),
                             name=t.get("name", ""), name_en=t.get("name_en", ""), quote=t.get("quote", ""),
                             section=t.get("section", "")) for t in raw.get("text_targets", []) or [])
    districts = tuple(DistrictTarget(xzqdm=str(d["xzqdm"]), name=d.get("name", ""),
                                     per_10k=_years(d.get("per_10k", {})),
                                     stations={y: int(v) for y, v in _years(d.get("stations", {})).items()},
                                     note=d.get("note", "")) for d in raw.get("districts", []) or [])
    code = str(head["xzqdm"])
    years = tuple(sorted(int(y) for y in head.get("years", per.by_year)))
    return Plan(key=head["key"], title=head["title"], scope=head["scope"], xzqdm=code,
                level=head.get("level") or level_of(code) or "city", years=years, per_10k=per,
                stations=_target("stations", tg.get("stations")), edge_dc=_target("edge_dc", tg.get("edge_dc")),
                latency_ms=_target("latency_ms", tg.get("latency_ms")),
                charging_share=_target("charging_share", tg.get("charging_share")), districts=districts,
                document=head.get("document", ""), issued=str(head.get("issued", "")),
                baseline_year=head.get("baseline_year"), parent=head.get("parent"),
                population=head.get("population"), population_year=head.get("population_year"),
                modelled=bool(head.get("modelled", False)), note=head.get("note", ""), source=source,
                other_indicators=others, other_text_targets=texts)


def plan_keys() -> list[str]:
    """Keys of the shipped plans."""
    return io.list_plan_files()


@functools.cache
def load_plan(key: str) -> Plan:
    """Load shipped plan ``key`` (``"xiamen"`` or ``"fujian"``).

    Examples
    --------
    >>> plan = load_plan("xiamen")
    >>> plan.density(2025), plan.station_count(2025), plan.applies_to
    (33.0, 18500, 'area')
    """
    return plan_from_dict(io.read_plan_data(key), source=f"geoplan/targets/{key}.toml")


def read_targets_file(path: str | Path) -> Plan:
    """Read and validate a planner's targets file."""
    return plan_from_dict(io.read_toml(path, what="targets file"), source=str(path))


def with_application(plan: Plan, application: Application, *, withheld: tuple[str, ...] = (),
                     factor: float | None = None) -> Plan:
    """``plan`` as applied to a project: counts scaled by ``factor``, or ``withheld``."""
    changes: dict[str, Any] = {"application": application, "withheld": withheld}
    if factor is not None:
        for key in COUNT_KEYS:
            t = getattr(plan, key)
            if t is not None:
                scaled = {y: float(math.floor(v * factor + 0.5)) for y, v in t.by_year.items()}
                note = (f"{plan.scope}'s {', '.join(f'{int(v):,}' for v in t.by_year.values())} scaled to "
                        f"{application.project_scope} by population share {factor:.2%}")
                changes[key] = replace(t, by_year=scaled, note=note, quote=f"{t.quote} [{note}]")
    return replace(plan, **changes)
