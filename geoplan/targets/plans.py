"""The plans' targets, read from the data files shipped beside this module.

``xiamen.toml`` and ``fujian.toml`` transcribe the annex tables (10 indicators:
2022 baseline and 2023/2024/2025 targets) and the targets stated in the plans'
text (18,500 stations, 32 edge data centres, 1 ms, ≥20 % charging spaces ...),
each with the document number and a quote. No target is hard-coded in logic.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from .. import io
from ..errors import ConfigError

__all__ = ["Indicator", "TextTarget", "Plan", "load_plan", "plan_keys"]


@dataclass(frozen=True)
class Indicator:
    """One row of a plan's annex table."""

    id: str
    no: int
    name: str
    name_en: str
    unit: str
    baseline: float
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
class Plan:
    """A three-year action plan's targets."""

    key: str
    title: str
    document: str
    issued: str
    scope: str
    xzqdm: str
    baseline_year: int
    years: tuple[int, ...]
    indicators: tuple[Indicator, ...]
    text_targets: tuple[TextTarget, ...] = field(default=())
    parent: str | None = None

    def indicator(self, id: str) -> Indicator:
        """Annex indicator ``id`` (e.g. ``"5g_per_10k"``)."""
        for ind in self.indicators:
            if ind.id == id:
                return ind
        raise ConfigError(f"plan '{self.key}' has no indicator '{id}'")

    def text_target(self, id: str) -> TextTarget | None:
        """Text target ``id`` (e.g. ``"5g_stations"``), or ``None`` when the plan states none."""
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
        return f"{self.title}, {self.document}, {self.issued}"


def plan_keys() -> list[str]:
    """Keys of the shipped plans."""
    return io.list_plan_files()


@functools.cache
def load_plan(key: str) -> Plan:
    """Load plan ``key`` (``"xiamen"`` or ``"fujian"``).

    Examples
    --------
    >>> plan = load_plan("xiamen")
    >>> plan.indicator("5g_per_10k").target(2025), plan.text_target("5g_stations").value
    (33, 18500)
    """
    raw = io.read_plan_data(key)
    try:
        head = raw["plan"]
        inds = tuple(
            Indicator(id=i["id"], no=int(i["no"]), name=i["name"], name_en=i["name_en"], unit=i["unit"],
                      baseline=i["baseline"], targets={int(y): v for y, v in i["targets"].items()},
                      province_2025=i.get("province_2025"), responsible=i.get("responsible", ""),
                      note=i.get("note", ""))
            for i in raw["indicators"]
        )
        texts = tuple(TextTarget(**t) for t in raw.get("text_targets", []))
        return Plan(key=head["key"], title=head["title"], document=head["document"], issued=head["issued"],
                    scope=head["scope"], xzqdm=str(head["xzqdm"]), baseline_year=int(head["baseline_year"]),
                    years=tuple(head["years"]), indicators=inds, text_targets=texts, parent=head.get("parent"))
    except (KeyError, TypeError) as exc:
        raise ConfigError(f"plan data '{key}' is malformed ({exc}). Fix: compare it with geoplan/targets/xiamen.toml") from exc
