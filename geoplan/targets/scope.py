"""Which plan applies to a project, and how: its own area's plan, or a parent area's with a statement.

A plan is written for one area (``[plan] xzqdm``: 福建省 350000, 厦门市 350200 ...).
A project covers an area too: the one its project file declares
(``[project] xzqdm``), else the one its district codes share (GB/T 2260:
350203 and 350205 are both in 350200). :func:`plan_of` puts the two together:

* the plan's own area: every target applies;
* a parent area's plan (a province plan on one of its cities): the density target and
  shares apply as stated, and the statement says so; absolute counts (120,000
  stations, 300 edge data centres) belong to the whole province, so they are
  *withheld* (asking for them is a clear error), or *scaled* by the project's
  share of the plan area's census population when the project file says
  ``plan_scaling = "population"``;
* any other plan (another city's, or a city plan on a province) is refused.

A project is therefore never labelled with another area's name or code.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from ..errors import ConfigError
from .plans import COUNT_KEYS, Application, Plan, level_of, load_plan, read_targets_file, with_application

if TYPE_CHECKING:
    from ..project import Project

__all__ = ["area_of_codes", "plan_of", "apply_plan", "SCALING"]

#: What to do with a parent plan's absolute counts: withhold them (default) or scale by population share.
SCALING = ("none", "population")


def area_of_codes(codes: list[str]) -> str | None:
    """The GB/T 2260 area all ``codes`` lie in (``None`` for codes that are not GB/T 2260).

    Examples
    --------
    >>> area_of_codes(["350203", "350205"]), area_of_codes(["350102", "350203"]), area_of_codes(["350203"])
    ('350200', '350000', '350203')
    >>> area_of_codes(["A1", "A2"]) is None
    True
    """
    codes = [str(c) for c in codes]
    if not codes or any(level_of(c) is None for c in codes):
        return None
    if len(set(codes)) == 1:
        return codes[0]
    if len({c[:4] for c in codes}) == 1:
        return codes[0][:4] + "00"
    if len({c[:2] for c in codes}) == 1:
        return codes[0][:2] + "0000"
    return None


def _contains(outer: str, inner: str) -> bool:
    lvl = level_of(outer)
    if lvl == "province":
        return inner[:2] == outer[:2]
    if lvl == "city":
        return inner[:4] == outer[:4]
    return inner == outer


def apply_plan(plan: Plan, *, area_code: str | None, area_name: str, population: float,
               scaling: str = "none") -> Plan:
    """``plan`` as it applies to a project of area ``area_code`` (see the module notes).

    Parameters
    ----------
    plan : Plan
        The plan as written.
    area_code, area_name : str
        The project's area (``area_code`` ``None`` when unknown).
    population : float
        The project's census population (for ``scaling="population"``).
    scaling : {"none", "population"}
        What to do with a parent area's absolute counts.

    Raises
    ------
    ConfigError
        A plan for another area, or scaling without the plan area's population.

    Examples
    --------
    >>> fj = load_plan("fujian")
    >>> p = apply_plan(fj, area_code="350100", area_name="福州市", population=8_291_268, scaling="population")
    >>> p.application.counts, p.station_count(2025), p.density(2025)
    ('scaled', 23952, 30.0)
    >>> apply_plan(fj, area_code="350100", area_name="福州市", population=8_291_268).application.counts
    'withheld'
    """
    if scaling not in SCALING:
        raise ConfigError(f"plan_scaling {scaling!r} is unknown. Fix: use one of {', '.join(SCALING)}")
    name = f"{area_name} ({area_code})" if area_code else area_name
    if area_code is None:
        return with_application(plan, Application(
            kind="unchecked", project_code="", project_scope=area_name, counts="apply", factor=None,
            statement=f"The project's district codes are not GB/T 2260 codes, so geoplan could not check that "
                      f"plan '{plan.key}' ({plan.scope} {plan.xzqdm}) is for this area; its targets are applied "
                      "as stated."))
    if area_code == plan.xzqdm:
        return with_application(plan, Application(kind="own", project_code=area_code, project_scope=area_name,
                                                  counts="apply", factor=None,
                                                  statement=f"Plan '{plan.key}' is {plan.scope}'s own plan."))
    if not _contains(plan.xzqdm, area_code):
        inside = _contains(area_code, plan.xzqdm)
        why = (f"it covers only {plan.scope} ({plan.xzqdm}), a part of the project's area {name}" if inside else
               f"it is for {plan.scope} ({plan.xzqdm}), not for the project's area {name}")
        raise ConfigError(f"plan '{plan.key}' cannot be applied to this project: {why}. Fix: write a targets file "
                          f"for {area_name} ([project] targets = \"targets.toml\"; docs/targets.md), or set "
                          "[project] xzqdm if the district codes mislead")
    counts = [k for k in COUNT_KEYS if getattr(plan, k) is not None]
    head = (f"{plan.scope}'s plan '{plan.key}' applied to {name}, a part of it: the density target "
            f"({plan.per_10k.by_year[max(plan.per_10k.by_year)]:g}/10k in {max(plan.per_10k.by_year)}) and shares "
            "apply as stated")
    if not counts:
        return with_application(plan, Application(kind="parent", project_code=area_code, project_scope=area_name,
                                                  counts="apply", factor=None, statement=head + "."))
    listed = ", ".join(f"{int(getattr(plan, k).by_year[max(getattr(plan, k).by_year)]):,} {k.replace('_', ' ')}"
                       for k in counts)
    if scaling == "none":
        return with_application(plan, Application(
            kind="parent", project_code=area_code, project_scope=area_name, counts="withheld", factor=None,
            statement=f"{head}; its absolute counts ({listed}) are for the whole of {plan.scope} and do not "
                      f"apply to {area_name}."), withheld=tuple(counts))
    if not plan.population:
        raise ConfigError(f"plan '{plan.key}' gives no population of {plan.scope}, so its counts cannot be scaled "
                          f"to {area_name}. Fix: add population = ... to its [plan] table, or leave plan_scaling out")
    factor = float(population) / float(plan.population)
    return with_application(plan, Application(
        kind="parent", project_code=area_code, project_scope=area_name, counts="scaled", factor=factor,
        statement=f"{head}; its absolute counts ({listed}) are scaled by {area_name}'s share of "
                  f"{plan.scope}'s census population ({population:,.0f} / {plan.population:,.0f} = {factor:.2%})."),
        factor=factor)


@functools.cache
def _applied(proj: Project, key: str | None) -> Plan:
    if key is None:
        plan = proj.targets
        if plan is None:
            raise ConfigError(f"project '{proj.name}' states no targets. Fix: write a targets file for "
                              f"{proj.area_name} and name it with [project] targets = \"targets.toml\" "
                              "(docs/targets.md), or use a shipped plan with [project] plan = \"fujian\" / --plan")
    elif proj.targets is not None and key == proj.targets.key:
        plan = proj.targets
    elif key.endswith(".toml"):
        plan = read_targets_file(key)
    else:
        plan = load_plan(key)
    pop = float(proj.district_population[~proj.no_statistics].sum())
    return apply_plan(plan, area_code=proj.area_code, area_name=proj.area_name, population=pop,
                      scaling=proj.plan_scaling)


def plan_of(proj: Project, plan: str | Plan | None = None) -> Plan:
    """The plan whose targets apply to ``proj``, as applied to its area (see the module notes).

    ``plan`` overrides the project's own targets: a shipped plan's key, a targets
    file path, or a :class:`Plan`.

    Raises
    ------
    ConfigError
        The project states no targets, or the plan is for another area.

    Examples
    --------
    >>> import geoplan as gp
    >>> p = plan_of(gp.load_project())
    >>> p.key, p.application.kind, p.station_count(2025)
    ('xiamen', 'own', 18500)
    >>> plan_of(gp.load_project(), "fujian").application.counts
    'withheld'
    """
    if isinstance(plan, Plan):
        pop = float(proj.district_population[~proj.no_statistics].sum())
        return apply_plan(plan, area_code=proj.area_code, area_name=proj.area_name, population=pop,
                          scaling=proj.plan_scaling)
    return _applied(proj, plan)
