"""The whole plan at a glance: 5G density per district, edge data centres and EV charging.

:func:`check_plan` gathers the sections of ``geoplan check``: the density check
(:func:`geoplan.targets.check`), and, where the plan states them and the project
has the layers, the edge data-centre and latency-circle targets
(:func:`geoplan.edge.check_section`) and the new-car-park charging share
(:func:`geoplan.charging.check_section`). It sits above all three, so each of
them imports only what lies below it. With ``coverage=True`` it adds the
population coverage and busy-hour capacity of the existing stations per district
(:func:`geoplan.chunked.coverage`, for one operator network or all, indoor or
outdoor users).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from . import charging, chunked, edge
from ._json import records
from .networks import coverage_label
from .project import Project
from .targets import CheckReport, Plan, check, plan_of

__all__ = ["PlanCheck", "check_plan"]


@dataclass(frozen=True, eq=False)
class PlanCheck:
    """Every target of the plan against the project (layout ``geoplan.check/1``).

    Attributes
    ----------
    density : CheckReport
        Stations per 10k residents per district.
    edge_dc : EdgeSection or None
        The edge data-centre and latency-circle targets (``None`` when the plan states none).
    charging : ChargingSection or None
        The charging share in new car parks (``None`` when the plan states none or the
        project has no ``car_parks`` layer).
    coverage : CoverageReport or None
        Coverage and busy-hour capacity of the existing stations (when asked for).
    """

    density: CheckReport
    edge_dc: edge.EdgeSection | None
    charging: charging.ChargingSection | None
    coverage: chunked.CoverageReport | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: the density check with its ``sections``."""
        out = self.density.to_dict()
        sections = {k: v.to_dict() for k, v in (("edge_dc", self.edge_dc), ("charging", self.charging))
                    if v is not None}
        if self.coverage is not None:
            t = self.coverage.total
            sections["coverage"] = {"refers_to": coverage_label(t.network, t.band, t.users),
                                    "total": t.to_dict(), "districts": records(self.coverage.table)}
        if sections:
            out["sections"] = sections
        return out


def check_plan(proj: Project, *, year: int = 2025, plan: str | Plan | None = None,
               population_year: int | None = None, basis: str | None = None,
               extra_stations: np.ndarray | None = None, coverage: bool = False, network: str = "any",
               indoor: bool = True, progress: Any = None) -> PlanCheck:
    """Check every target the plan states against the project (see the module notes).

    Parameters are those of :func:`geoplan.targets.check`; ``coverage=True`` adds
    the coverage and busy-hour capacity of ``year`` of the existing stations for
    ``network`` (``any`` = all operators) and indoor or outdoor users.

    Examples
    --------
    >>> import geoplan as gp
    >>> rep = check_plan(gp.load_project(), year=2025)
    >>> rep.density.total.stations, rep.edge_dc.target, rep.charging.target_share
    (10881, 32, 0.2)
    """
    density = check(proj, year=year, plan=plan, population_year=population_year, basis=basis,
                    extra_stations=extra_stations)
    p = plan_of(proj, plan)
    stated = p.text_target("edge_dc") is not None or p.text_target("latency_ms") is not None
    edge_dc = edge.check_section(proj, plan=p, year=year) if stated else None
    chg = None
    if proj.layer("car_parks") is not None and p.text_target("charging_share_new_car_parks") is not None:
        chg = charging.check_section(proj, plan=p, year=year)
    cov = None
    if coverage:
        cov = chunked.coverage(proj, network=network, indoor=indoor, year=year, progress=progress, plan=p)
    return PlanCheck(density=density, edge_dc=edge_dc, charging=chg, coverage=cov)
