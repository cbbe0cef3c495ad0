"""The planning context: a project's arrays for placement and what-ifs, built once in memory.

:func:`planning_context` gathers what the in-memory engine needs from a project:
demand cells and their radio environment, existing sites and their coverage,
candidate sites (the project's inventories and modelled candidates, hard
constraints applied: :mod:`.pool`) with their kind, cost and radii, and the
sparse coverage matrix of candidates. What-if runs, drawn sites and the
app's slider reuse one context; a province is too large for it and is placed
county by county instead (:mod:`._chunked`).

The coverage model is the county-by-county engine's, on the same arrays:

* the **receiving** cell's environment sets a site's radius: each demand cell
  has the class of its 500 m neighbourhood
  (:func:`geoplan.morphology.project_environment`) and every site a radius per
  class (:func:`geoplan.radio.radius_lookup`, :func:`geoplan.radio.network_radii`);
* matrices hold the **share of each cell** a site covers (exact disc-square
  area, float32), so a cell's covered share is ``min(1, s0 + Σ a_ij)`` with
  ``s0`` its share covered by existing sites (:attr:`PlanningContext.share0`);
* existing stations serve ``settings.network`` on the bands they carry, new
  candidates on ``settings.band``;
* sites have a busy-hour capacity for that network (:mod:`geoplan.capacity`).
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from .. import coverage as cov
from .. import radio
from .._typing import Progress
from ..chunked import cell_side_m, site_arrays
from ..morphology import project_environment
from ..project import Project
from ..radio_params import RadioParams
from ..siting.constraints import ConstraintSet, SiteConflicts
from .pool import CANDIDATES_PER_NEEDED_SITE, GENERATED, CandidatePool, candidate_pool
from .settings import PlanSettings

__all__ = ["PlanningContext", "planning_context", "site_coverage", "own_radius", "CANDIDATES_PER_NEEDED_SITE"]


@dataclass(frozen=True, eq=False)
class PlanningContext:
    """Arrays shared by every placement and what-if run on one project, for one :class:`PlanSettings`.

    Attributes
    ----------
    project : Project
    settings : PlanSettings
        Network, band, users, mix, seed and candidate source the arrays were built for.
    demand_weights : ndarray
        Persons per demand cell.
    demand_district : ndarray of int
        District index of each cell.
    environment : ndarray of int8
        Radio environment code of each cell (:data:`geoplan.radio.ENVIRONMENT_NAMES`): the class
        of its neighbourhood, which sets the radius at which any site covers it.
    cell_m : ndarray
        Side (m) of each demand cell (its square of the cell's area).
    existing_xy, existing_type, existing_radius, existing_district, existing_capacity : ndarray
        Existing sites (metric CRS), their type, radius (m) for receiving cells of each
        environment (n × 4; 0 where the station does not serve the network), district
        (-1 outside all) and busy-hour capacity (Mbit/s) for the network.
    existing_environment : ndarray of int8
        Environment of each existing site's own location.
    share0 : ndarray of float
        Share of each cell covered by existing sites, ``min(1, Σ a_ij)``.
    cand_xy, cand_type, cand_radius, cand_district, cand_density, cand_environment, cand_capacity : ndarray
        Candidate sites, their type, radius per receiving environment (n × 4), district,
        local population density, own environment code and capacity (Mbit/s).
    coverage : scipy.sparse.csc_matrix of float32
        Cells (rows) × candidates (columns): the share of each cell a candidate covers.
    existing_coverage : scipy.sparse.csc_matrix of float32
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
    cell_m: NDArray[np.float64]
    existing_xy: NDArray[np.float64]
    existing_type: NDArray[np.str_]
    existing_radius: NDArray[np.float64]
    existing_district: NDArray[np.int64]
    existing_environment: NDArray[np.int8]
    existing_capacity: NDArray[np.float64]
    share0: NDArray[np.float64]
    cand_xy: NDArray[np.float64]
    cand_type: NDArray[np.str_]
    cand_radius: NDArray[np.float64]
    cand_district: NDArray[np.int64]
    cand_density: NDArray[np.float64]
    cand_environment: NDArray[np.int8]
    cand_capacity: NDArray[np.float64]
    coverage: sp.csc_matrix
    existing_coverage: sp.csc_matrix
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
        """Band of the new sites' link budget (``settings.band``)."""
        return self.settings.band

    @property
    def params(self) -> RadioParams:
        """The radio parameters the arrays were built with (the project's; ``params.digest`` names them)."""
        return self.project.radio_params

    @property
    def n_districts(self) -> int:
        return len(self.project.districts)

    @property
    def existing_per_district(self) -> NDArray[np.int64]:
        d = self.existing_district
        return np.bincount(d[d >= 0], minlength=self.n_districts)

    @functools.cached_property
    def existing_raw(self) -> NDArray[np.float64]:
        """``Σ_j a_ij`` of the existing sites for each cell (not capped at 1; for loads)."""
        E = self.existing_coverage
        return np.asarray(E @ np.ones(E.shape[1]), dtype=np.float64)

    @property
    def cand_own_radius(self) -> NDArray[np.float64]:
        """Radius of each candidate for cells of its own environment (the RADIUS_M of planned sites)."""
        return own_radius(self.cand_radius, self.cand_environment)


def own_radius(radius: NDArray[np.float64], environment: NDArray[np.int8]) -> NDArray[np.float64]:
    """Each site's radius (row of an n × k array) for receiving cells of its own environment."""
    if not len(radius):
        return np.zeros(0)
    return np.asarray(radius[np.arange(len(radius)), np.asarray(environment, dtype=np.int64)], dtype=float)


def site_coverage(ctx_or_demand: PlanningContext | tuple[NDArray[np.float64], NDArray[np.int8], NDArray[np.float64]],
                  xy: NDArray[np.float64], radius: NDArray[np.float64]) -> sp.csc_matrix:
    """Cells × sites share matrix of sites ``xy`` with per-environment radii (n × k), on a context's demand."""
    if isinstance(ctx_or_demand, PlanningContext):
        dxy, env, side = ctx_or_demand.project.demand.xy, ctx_or_demand.environment, ctx_or_demand.cell_m
    else:
        dxy, env, side = ctx_or_demand
    if len(xy) == 0:
        return sp.csc_matrix((len(dxy), 0), dtype=np.float32)
    return cov.coverage_matrix(dxy, xy, radius, demand_class=env.astype(np.int64), cell_m=side)




def planning_context(proj: Project, *, settings: PlanSettings | None = None, band: str | None = None,
                     indoor: bool | None = None, n_candidates: int | None = None,
                     mix: tuple[float, float, float] | None = None, seed: int | None = None,
                     candidates: str | None = None, network: str | None = None,
                     candidate_spacing_m: float | None = None, progress: Progress | None = None) -> PlanningContext:
    """Build the arrays for placement on ``proj`` in memory.

    Parameters
    ----------
    proj : Project
        The project (districts, population, ``sites``, optional ``candidates``); its
        radio parameters (:attr:`~geoplan.project.Project.radio_params`) set every radius.
    settings : PlanSettings, optional
        All settings at once; the keywords below override single ones.
    band, indoor, n_candidates, mix, seed, candidates, network, candidate_spacing_m
        See :class:`PlanSettings` (defaults: all operators, n78 new sites, indoor users,
        mix by environment, seed 0, the project's inventories plus candidates drawn from
        populated cells ∝ population; ``kmeans``: population-weighted k-means centres;
        ``grid``: a square grid over the districts kept where people live, fine enough
        for ``n_candidates`` and for 2.5 candidates per site the densest district needs;
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
             "candidates": candidates, "network": network, "candidate_spacing_m": candidate_spacing_m}
    merged = {**s.to_dict(), **{k: v for k, v in given.items() if v is not None}}
    if network is not None and band is None and network != s.network:
        merged["band"] = None  # a new network without a band takes the network's band
    s = PlanSettings(**merged)
    params = proj.radio_params
    step = progress or (lambda f, m: None)
    demand = proj.demand
    step(0.05, "radio environment of each cell")
    env = project_environment(proj)[demand.row, demand.col]
    side = cell_side_m(demand)
    cells = (demand.xy, env, side)

    ex = site_arrays(proj, band=s.band, indoor=s.indoor, network=s.network, params=params)
    edist = proj.district_of("sites") if len(ex) else np.zeros(0, dtype=np.int64)  # as the density check counts
    step(0.2, f"coverage of {len(ex):,} existing sites")
    ecov = site_coverage(cells, ex.xy, ex.radii)
    share0 = cov.covered_share(ecov)

    step(0.4, "candidate sites: inventories, generated, constraints")
    pool = candidate_pool(proj, s, edist)
    n_env = len(params.environments)
    crad = radio.radius_lookup(band=s.band, indoor=s.indoor, params=params).lookup(
        np.asarray(pool.site_type)[:, None], np.arange(n_env)[None, :]) if len(pool) else np.zeros((0, n_env))
    ccap = radio.site_capacity_mbps(pool.site_type, [(s.band,)] * len(pool), pool.environment, params=params)
    step(0.6, f"coverage matrix of {len(pool):,} candidates")
    ccov = site_coverage(cells, pool.xy, crad)
    step(1.0, "ready")
    sources = [k for k in pool.counts() if k != GENERATED] + ([s.candidates] if GENERATED in pool.counts() else [])
    return PlanningContext(
        project=proj, settings=s, demand_weights=demand.pop, demand_district=demand.district, environment=env,
        cell_m=side, existing_xy=ex.xy, existing_type=np.asarray(ex.site_type, dtype=str), existing_radius=ex.radii,
        existing_district=edist, existing_environment=np.asarray(ex.environment, dtype=np.int8),
        existing_capacity=ex.capacity_mbps if len(ex.capacity_mbps) == len(ex) else np.zeros(len(ex)), share0=share0,
        cand_xy=pool.xy, cand_type=pool.site_type, cand_radius=crad, cand_district=pool.district,
        cand_density=pool.density, cand_environment=pool.environment, cand_capacity=ccap, coverage=ccov,
        existing_coverage=ecov, candidates_modelled=bool(pool.modelled.any()),
        candidate_source=" + ".join(sources) or "none", build_s=time.perf_counter() - t0, pool=pool,
        zones=pool.conflicts.zones,
    )
