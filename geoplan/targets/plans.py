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
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field
from pydantic import ValidationError as PydanticValidationError
from pydantic_core import PydanticCustomError

from .. import io
from .._schema import (
    Flag,
    Name,
    Number,
    PositiveCount,
    PositiveNumber,
    Section,
    Text,
    Year,
    as_number,
    as_share,
    problems_of,
)
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
    "TargetsFile",
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


# --- the schema (geoplan._schema: one Section per table), and the one validation function ------------------

def _target_share(v: Any) -> Any:
    """A share from 0 to 1; a number from 1 to 100 is taken for a percentage and refused with the share."""
    v = as_share(v)
    if isinstance(v, int | float) and not isinstance(v, bool) and 1 < v <= 100:
        raise PydanticCustomError("geoplan_share", f"{v!r} is above 1", {"fix": f"write a share from 0 to 1 "
                                                                         f"({v:g} % is {v / 100:g})"})
    return v


def _gb_code(v: Any) -> Any:
    if isinstance(v, int) and not isinstance(v, bool):
        v = str(v)
    if not isinstance(v, str) or not _CODE_RE.fullmatch(v.strip()):
        raise PydanticCustomError("geoplan_code", f"{v!r} is not a 6-digit GB/T 2260 code",
                                  {"fix": 'give the area\'s code as text, e.g. "350100" for 福州市'})
    return v.strip()


def _key(v: Any) -> Any:
    if isinstance(v, str) and not _KEY_RE.fullmatch(v):
        raise PydanticCustomError("geoplan_key", f"{v!r} has characters other than letters, digits, _ and -",
                                  {"fix": 'use a short name such as "fuzhou"'})
    return v


YearKey = Annotated[int, BeforeValidator(as_number), Field(ge=1949, le=2100)]
Code = Annotated[str, BeforeValidator(_gb_code)]
Key = Annotated[Name, AfterValidator(_key)]
TargetShare = Annotated[float, BeforeValidator(_target_share), Field(gt=0, le=1)]
_BY_YEAR = Field(min_length=1, json_schema_extra={"missing_fix": "add by_year = { 2025 = ... }"})


class PlanHead(Section):
    """``[plan]``: the area the plan is for and the document."""

    key: Key
    title: Name
    scope: Name
    xzqdm: Code
    level: Literal["province", "city", "county"] | None = None
    document: Text = ""
    issued: Text = ""
    baseline_year: Year | None = None
    years: list[Year] | None = Field(default=None, min_length=1)
    parent: Name | None = None
    population: PositiveCount | None = None
    population_year: Year | None = None
    modelled: Flag = False
    note: Text = ""


class _TargetTable(Section):
    quote: Text = ""
    source: Text = ""
    no: Annotated[int, BeforeValidator(as_number)] | None = None
    responsible: Text = ""
    note: Text = ""


class DensityTarget(_TargetTable):
    """``[targets.per_10k]``: stations per 10,000 residents by year."""

    by_year: dict[YearKey, PositiveNumber] = _BY_YEAR
    applies_to: Literal["area", "district", "city", "province", "whole"] = "area"
    baseline: Number | None = None
    parent_value: Number | None = None


class CountTarget(_TargetTable):
    """``[targets.stations]`` and ``[targets.edge_dc]``: counts by year."""

    by_year: dict[YearKey, PositiveCount] = _BY_YEAR
    baseline: Number | None = None


class ValueTarget(_TargetTable):
    """``[targets.latency_ms]``: a value by year."""

    by_year: dict[YearKey, PositiveNumber] = _BY_YEAR


class ShareTarget(_TargetTable):
    """``[targets.charging_share]``: a share from 0 to 1 by year."""

    by_year: dict[YearKey, TargetShare] = _BY_YEAR


class TargetsTable(Section):
    """``[targets]``."""

    per_10k: DensityTarget = Field(json_schema_extra={
        "missing_fix": "add [targets.per_10k] with by_year = { 2025 = ... } (stations per 10,000 residents)"})
    stations: CountTarget | None = None
    edge_dc: CountTarget | None = None
    latency_ms: ValueTarget | None = None
    charging_share: ShareTarget | None = None


class DistrictTable(Section):
    """``[[districts]]``: one district's own targets."""

    xzqdm: Name
    name: Text = ""
    per_10k: dict[YearKey, PositiveNumber] = Field(default_factory=dict)
    stations: dict[YearKey, PositiveCount] = Field(default_factory=dict)
    note: Text = ""


class IndicatorTable(Section):
    """``[[indicators]]``: another annex row, recorded."""

    id: Name
    no: Annotated[int, BeforeValidator(as_number)] = 0
    name: Name
    name_en: Text = ""
    unit: Text = ""
    baseline: Number | None = None
    targets: dict[YearKey, Number]
    province_2025: Number | None = None
    responsible: Text = ""
    note: Text = ""


class TextTargetTable(Section):
    """``[[text_targets]]``: another target of the body text, recorded."""

    id: Name
    year: Year
    value: Any
    unit: Text = ""
    name: Text = ""
    name_en: Text = ""
    quote: Text = ""
    section: Text = ""


class TargetsFile(Section):
    """A whole targets file."""

    plan: PlanHead = Field(json_schema_extra={"missing_fix": f"add a [plan] table: {_FIX_SCHEMA}"})
    targets: TargetsTable = Field(json_schema_extra={"missing_fix": "add [targets.per_10k] with by_year = { ... }"})
    districts: list[DistrictTable] = Field(default_factory=list)
    indicators: list[IndicatorTable] = Field(default_factory=list)
    text_targets: list[TextTargetTable] = Field(default_factory=list)


def _label(table: tuple[Any, ...]) -> str:
    if table and table[0] in ("districts", "indicators", "text_targets") and len(table) > 1:
        return f"[[{table[0]}]] #{int(table[1]) + 1}"
    return "[" + ".".join(map(str, table)) + "]" if table else "[top level]"


def _semantic_problems(tf: TargetsFile) -> list[Problem]:
    """What the schema alone cannot say: level against code, duplicate or empty district tables."""
    out: list[Problem] = []
    head = tf.plan
    if head.level is not None and level_of(head.xzqdm) != head.level:
        out.append(Problem("[plan]", "level", f"{head.level!r} disagrees with the code {head.xzqdm} "
                           f"({level_of(head.xzqdm)})", "correct the code or leave level out (it follows from the code)"))
    seen: set[str] = set()
    for i, d in enumerate(tf.districts, start=1):
        where = f"[[districts]] #{i}"
        if d.xzqdm in seen:
            out.append(Problem(where, "xzqdm", f"district {d.xzqdm} is listed twice", "merge the two tables"))
        seen.add(d.xzqdm)
        if not d.per_10k and not d.stations:
            out.append(Problem(where, None, "sets neither per_10k nor stations", "add one, or remove the table"))
    for i, ind in enumerate(tf.indicators, start=1):
        if ind.id == "5g_per_10k":
            out.append(Problem(f"[[indicators]] #{i}", "id", "the 5G density target belongs in [targets.per_10k]",
                               "move it there (by_year = ..., baseline = ...)"))
    return out


def validate_targets(raw: Any) -> list[Problem]:
    """Every problem of a parsed targets file (an empty list when it is valid).

    The one place the targets-file schema (``docs/targets.md``) is checked,
    with geoplan's settings-file mechanism (:mod:`geoplan._schema`): the
    ``[plan]`` head, the ``[targets.*]`` tables, ``[[districts]]`` and the
    recorded ``[[indicators]]`` / ``[[text_targets]]``.

    Examples
    --------
    >>> [str(p) for p in validate_targets({"plan": {"key": "x", "title": "t", "scope": "s", "xzqdm": "350100"},
    ...                                    "targets": {"per_10k": {"by_year": {"2025": "30/万"}}}})]
    ["[targets.per_10k.by_year] 2025: '30/万' carries the unit '/万'. Fix: write 2025 = 30 (a plain number without quotes) (the setting's name or description gives its unit)"]
    """
    try:
        tf = TargetsFile.model_validate(raw)
    except PydanticValidationError as exc:
        return problems_of(exc, TargetsFile, section=_label)
    return _semantic_problems(tf)


def config_error(problems: list[Problem], *, where: str) -> ConfigError:
    """One :class:`ConfigError` listing ``problems``."""
    return ConfigError(problems, where=where)


# --- building the Plan ----------------------------------------------------------------------------------

def _target(key: str, t: _TargetTable | None) -> YearTargets | None:
    if t is None:
        return None
    applies = getattr(t, "applies_to", "area")
    return YearTargets(key=key, by_year={int(y): float(v) for y, v in t.by_year.items()},  # type: ignore[attr-defined]
                       applies_to="area" if applies in AREA_SYNONYMS else applies,
                       baseline=getattr(t, "baseline", None), parent_value=getattr(t, "parent_value", None),
                       quote=t.quote, source=t.source, no=t.no, responsible=t.responsible, note=t.note)


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
    tf = TargetsFile.model_validate(raw)
    head, tg = tf.plan, tf.targets
    per = _target("per_10k", tg.per_10k)
    assert per is not None
    others = tuple(Indicator(id=i.id, no=i.no, name=i.name, name_en=i.name_en, unit=i.unit, baseline=i.baseline,
                             targets={int(y): v for y, v in i.targets.items()}, province_2025=i.province_2025,
                             responsible=i.responsible, note=i.note) for i in tf.indicators)
    texts = tuple(TextTarget(id=t.id, year=t.year, value=t.value, unit=t.unit, name=t.name, name_en=t.name_en,
                             quote=t.quote, section=t.section) for t in tf.text_targets)
    districts = tuple(DistrictTarget(xzqdm=d.xzqdm, name=d.name, per_10k={int(y): v for y, v in d.per_10k.items()},
                                     stations={int(y): int(v) for y, v in d.stations.items()}, note=d.note)
                      for d in tf.districts)
    years = tuple(sorted(set(head.years) if head.years else set(per.by_year)))
    return Plan(key=head.key, title=head.title, scope=head.scope, xzqdm=head.xzqdm,
                level=head.level or level_of(head.xzqdm) or "city", years=years, per_10k=per,
                stations=_target("stations", tg.stations), edge_dc=_target("edge_dc", tg.edge_dc),
                latency_ms=_target("latency_ms", tg.latency_ms),
                charging_share=_target("charging_share", tg.charging_share), districts=districts,
                document=head.document, issued=head.issued, baseline_year=head.baseline_year, parent=head.parent,
                population=head.population, population_year=head.population_year, modelled=head.modelled,
                note=head.note, source=source, other_indicators=others, other_text_targets=texts)


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
