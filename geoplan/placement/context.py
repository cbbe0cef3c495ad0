"""The planning context: a project's arrays for placement and what-ifs, built once in memory.

:func:`planning_context` gathers what the in-memory engine needs from a project:
demand cells and their radio environment, existing sites and their coverage,
candidate sites (the project's inventories and modelled candidates, hard
constraints applied: :mod:`.pool`) with their kind, cost and radii, and the
sparse coverage matrix of candidates. What-if runs, drawn sites and the
app's slider reuse one context; a province is too large for it and is placed
county by county instead (:mod:`._chunked`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from .. import coverage as cov
from .. import radio
from .._typing import Progress
from ..chunked import site_environment
from ..project import Project
from ..radio import site_radii
from ..siting.constraints import ConstraintSet, SiteConflicts
from .pool import CANDIDATES_PER_NEEDED_SITE, GENERATED, CandidatePool, candidate_pool
from .settings import PlanSettings

__all__ = ["PlanningContext", "planning_context", "CANDIDATES_PER_NEEDED_SITE"]


@dataclass(frozen=True, eq=False)
class PlanningContext:
    """Arrays shared by every placement and what-if run on one project, for one :class:`PlanSettings`.

    Attributes
    ----------
    project : Project
    settings : PlanSettings
        Band, users, mix, seed and candidate source the arrays were built for.
    demand_weights : ndarray
        Persons per demand cell.
    demand_district : ndarray of int
        District index of each cell.
    environment : ndarray of int8
        Radio environment code of each cell (:data:`geoplan.radio.ENVIRONMENT_NAMES`).
    existing_xy, existing_type, existing_radius, existing_district : ndarray
        Existing sites (metric CRS), their type, radius (m) and district (-1 outside all).
    covered0 : ndarray of bool
        Cells covered by existing sites.
    cand_xy, cand_type, cand_radius, cand_district, cand_density, cand_environment : ndarray
        Candidate sites, their type, radius, district, local population density and environment code.
    coverage : scipy.sparse.csc_array
        Cells (rows) × candidates (columns).
    existing_coverage : scipy.sparse.csc_array
        Cells × existing sites.
    candidates_modelled : bool
        True when any candidate is modelled (generated, or from a modelled inventory).
    candidate_source : str
        What the candidates are: the inventories' names and the generator, e.g. ``towers + population``.
    build_s : float
        Seconds it took to build.
    pool : CandidatePool
        The candidates' kind, cost, height, SOURCE, soft conflicts and the counts removed by hard constraints.
    zones : ConstraintSet
        The project's constraint zones (metric CRS).
    """

    project: Project
    settings: PlanSettings
    demand_weights: NDArray[np.float64]
    demand_district: NDArray[np.int64]
    environment: NDArray[np.int8]
    existing_xy: NDArray[np.float64]
    existing_type: NDArray[np.str_]
    existing_radius: NDArray[np.float64]
    existing_district: NDArray[np.int64]
    covered0: NDArray[np.bool_]
    cand_xy: NDArray[np.float64]
    cand_type: NDArray[np.str_]
    cand_radius: NDArray[np.float64]
    cand_district: NDArray[np.int64]
    cand_density: NDArray[np.float64]
    cand_environment: NDArray[np.int8]
    coverage: sp.csc_array
    existing_coverage: sp.csc_array
    candidates_modelled: bool
    candidate_source: str
    build_s: float
    pool: CandidatePool
    zones: ConstraintSet

    @property
    def cand_kind(self) -> NDArray[np.str_]:
        """KIND of each candidate (``new``, ``social_tower``, ``smart_pole`` ...)."""
        return self.pool.kind

    @property
    def cand_cost(self) -> NDArray[np.float64]:
        """Site cost of each candidate, 万元."""
        return self.pool.cost

    @property
    def cand_source(self) -> NDArray[np.str_]:
        """SOURCE of each candidate: its inventory's name, or ``generated``."""
        return self.pool.source

    @property
    def cand_conflicts(self) -> SiteConflicts:
        """Soft conflicts of the candidates."""
        return self.pool.conflicts

    def cost_weight(self, settings: PlanSettings | None = None) -> float:
        """Residents per 万元 of the objective: the settings', else the project's default."""
        w = (settings or self.settings).cost_weight
        return float(self.project.siting.params.cost_weight if w is None else w)

    def candidates_summary(self) -> dict[str, Any]:
        """Candidates by source and kind, and how many constraints removed (for reports)."""
        return self.pool.summary()

    @property
    def band(self) -> str:
        """Band of the link budget (``settings.band``)."""
        return self.settings.band

    @property
    def n_districts(self) -> int:
        return len(self.project.districts)

    @property
    def existing_per_district(self) -> NDArray[np.int64]:
        d = self.existing_district
        return np.bincount(d[d >= 0], minlength=self.n_districts)


def _existing(proj: Project) -> tuple[NDArray[np.float64], NDArray[np.str_], NDArray[np.int64]]:
    sites = proj.layer("sites")
    if sites is None or not len(sites):
        return np.zeros((0, 2)), np.zeros(0, dtype=str), np.zeros(0, dtype=np.int64)
    sm = proj.metric("sites")
    xy = np.column_stack([sm.geometry.x.to_numpy(), sm.geometry.y.to_numpy()])
    return xy, sm["SITE_TYPE"].astype(str).to_numpy(), proj.district_of("sites")


def _coverage(demand_xy: NDArray[np.float64], xy: NDArray[np.float64], radius: NDArray[np.float64]) -> sp.csc_array:
    if len(xy) == 0:
        return sp.csc_array((len(demand_xy), 0), dtype=np.uint8)
    return cov.coverage_matrix(demand_xy, xy, radius)


def planning_context(proj: Project, *, settings: PlanSettings | None = None, band: str | None = None,
                     indoor: bool | None = None, n_candidates: int | None = None,
                     mix: tuple[float, float, float] | None = None, seed: int | None = None,
                     candidates: str | None = None, candidate_spacing_m: float | None = None,
                     progress: Progress | None = None) -> PlanningContext:
    """Build the arrays for placement on ``proj`` in memory.

    Parameters
    ----------
    proj : Project
        The project (districts, population, ``sites``, optional ``candidates``).
    settings : PlanSettings, optional
        All settings at once; the keywords below override single ones.
    band, indoor, n_candidates, mix, seed, candidates, candidate_spacing_m
        See :class:`PlanSettings` (defaults: n78, indoor users, mix by environment,
        seed 0, the project's inventories plus candidates drawn from populated cells
        ∝ population; ``kmeans``: population-weighted k-means centres; ``grid``: a
        square grid over the districts kept where people live, fine enough for
        ``n_candidates`` and for 2.5 candidates per site the densest district needs;
        ``none``: inventories only). On a population raster coarser than the
        candidates needed, cells are split into sub-points so a district always gets
        2.5 candidates per site its last target needs. Candidates in hard constraint
        zones are left out.
    progress : callable, optional
        ``progress(fraction, message)`` hook for progress bars.
    """
    t0 = time.perf_counter()
    s = settings or PlanSettings()
    given = {"band": band, "indoor": indoor, "n_candidates": n_candidates, "mix": mix, "seed": seed,
             "candidates": candidates, "candidate_spacing_m": candidate_spacing_m}
    s = PlanSettings(**{**s.to_dict(), **{k: v for k, v in given.items() if v is not None}})
    step = progress or (lambda f, m: None)
    demand = proj.demand
    step(0.05, "radio environment of each cell")
    env = radio.environment_from_density(demand.density_km2)

    exy, etype, edist = _existing(proj)
    eenv, _ = site_environment(proj, exy)
    erad = site_radii(etype, eenv, band=s.band, indoor=s.indoor)
    step(0.2, f"coverage of {len(exy):,} existing sites")
    ecov = _coverage(demand.xy, exy, erad)
    covered0 = cov.covered(ecov) if len(exy) else np.zeros(len(demand), dtype=bool)

    step(0.4, "candidate sites: inventories, generated, constraints")
    pool = candidate_pool(proj, s, edist)
    crad = site_radii(pool.site_type, pool.environment, band=s.band, indoor=s.indoor)
    step(0.6, f"coverage matrix of {len(pool):,} candidates")
    ccov = _coverage(demand.xy, pool.xy, crad)
    step(1.0, "ready")
    sources = [k for k in pool.counts() if k != GENERATED] + ([s.candidates] if GENERATED in pool.counts() else [])
    return PlanningContext(
        project=proj, settings=s, demand_weights=demand.pop, demand_district=demand.district, environment=env,
        existing_xy=exy, existing_type=etype, existing_radius=erad, existing_district=edist, covered0=covered0,
        cand_xy=pool.xy, cand_type=pool.site_type, cand_radius=crad, cand_district=pool.district,
        cand_density=pool.density, cand_environment=pool.environment, coverage=ccov, existing_coverage=ecov,
        candidates_modelled=bool(pool.modelled.any()), candidate_source=" + ".join(sources) or "none",
        build_s=time.perf_counter() - t0, pool=pool, zones=pool.conflicts.zones,
    )
