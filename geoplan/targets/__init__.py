"""Plan targets, how they apply to a project, and the density check.

Examples
--------
>>> import geoplan as gp
>>> gp.targets.load_plan("fujian").density(2025)
30.0
"""

from .check import (
    BASES,
    SCHEMA,
    CheckReport,
    CheckTotal,
    Density,
    check,
    count_target,
    density,
    district_targets,
    population_basis,
)
from .plans import (
    APPLIES_TO,
    TARGET_KEYS,
    Application,
    DistrictTarget,
    Indicator,
    Plan,
    TextTarget,
    YearTargets,
    load_plan,
    plan_from_dict,
    plan_keys,
    read_targets_file,
    validate_targets,
)
from .scope import apply_plan, area_of_codes, plan_of

__all__ = [
    "APPLIES_TO",
    "BASES",
    "SCHEMA",
    "TARGET_KEYS",
    "Application",
    "CheckReport",
    "CheckTotal",
    "Density",
    "DistrictTarget",
    "Indicator",
    "Plan",
    "TextTarget",
    "YearTargets",
    "apply_plan",
    "area_of_codes",
    "check",
    "count_target",
    "density",
    "district_targets",
    "load_plan",
    "plan_from_dict",
    "plan_keys",
    "plan_of",
    "population_basis",
    "read_targets_file",
    "validate_targets",
]
