"""Plan targets and the density check.

Examples
--------
>>> import geoplan as gp
>>> gp.targets.load_plan("fujian").indicator("5g_per_10k").target(2025)
30
"""

from .check import SCHEMA, CheckReport, Density, check, density, population_basis
from .plans import Indicator, Plan, TextTarget, load_plan, plan_keys

__all__ = [
    "SCHEMA",
    "CheckReport",
    "Density",
    "Indicator",
    "Plan",
    "TextTarget",
    "check",
    "density",
    "load_plan",
    "plan_keys",
    "population_basis",
]
