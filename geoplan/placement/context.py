"""The planning context: a project's arrays for placement and what-ifs, built once in memory.

:func:`planning_context` gathers what the in-memory engine needs from a project:
demand cells and their radio environment, existing sites and their coverage,
candidate sites (a candidate layer, or modelled candidates) with their radii,
and the sparse coverage matrix of candidates. What-if runs, drawn sites and the
app's slider reuse one context; a province is too large for it and is placed
county by county instead (:mod:`._chunked`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import shapely
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from .. import coverage as cov
from .. import radio
from .._typing import Progress
from ..chunked import site_environment
from ..project import Project
from ..radio import site_radii
from ..targets import density, load_plan, population_basis
from ._steps import draw_site_types
from .candidates import grid_candidates, population_candidates, weighted_kmeans_candidates
from .settings import PlanSettings

__all__ = ["PlanningContext", "planning_context", "CANDIDATES_PER_NEEDED_SITE"]

#: Modelled candidates per site the plan's last target still needs (choice among 2.5 per needed site).
CANDIDATES_PER_NEEDED_SITE = 2.5


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
        True when candidates were generated (no candidate layer in the project).
    candidate_source : str
        ``layer`` or the generator (``population``, ``kmeans``, ``grid``).
    build_s : float
        Seconds it took to build.
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


def _modelled_candidates(proj: Project, generator: str, *, n: int, seed: int,
                         need: NDArray[np.int64]) -> NDArray[np.float64]:
    """About ``n`` modelled candidate sites (metres) by ``generator`` (see :func:`planning_context`).

    A grid's spacing is the finer of the one that gives ``n`` points over the
    populated area and the one that gives every district
    :data:`CANDIDATES_PER_NEEDED_SITE` points per site it ``need``-s (dense
    districts are small: an even grid would leave them too few).
    """
    demand = proj.demand
    if generator == "kmeans":
        return weighted_kmeans_candidates(demand.xy, demand.pop, n=n, seed=seed)
    if generator == "grid":
        area = shapely.union_all(proj.metric("districts").geometry.to_numpy())
        lived = demand.pop > 0
        spacing = float(np.sqrt(demand.area_km2[lived].sum() * 1e6 / n))  # about n points near people
        area_d = np.bincount(demand.district[lived], weights=demand.area_km2[lived], minlength=len(need)) * 1e6
        short = need > 0
        if short.any():
            spacing = min(spacing, float(np.sqrt(area_d[short] / (CANDIDATES_PER_NEEDED_SITE * need[short])).min()))
        pts = grid_candidates(area, spacing_m=spacing)
        near = cKDTree(demand.xy[lived]).query(pts, k=1, distance_upper_bound=spacing / 2)[0]
        return pts[np.isfinite(near)]
    return population_candidates(demand.xy, demand.pop, n=n, seed=seed)


def _existing(proj: Project) -> tuple[NDArray[np.float64], NDArray[np.str_], NDArray[np.int64]]:
    sites = proj.layer("sites")
    if sites is None or not len(sites):
        return np.zeros((0, 2)), np.zeros(0, dtype=str), np.zeros(0, dtype=np.int64)
    sm = proj.metric("sites")
    xy = np.column_stack([sm.geometry.x.to_numpy(), sm.geometry.y.to_numpy()])
    return xy, sm["SITE_TYPE"].astype(str).to_numpy(), proj.district_of("sites")


def _candidate_layer(proj: Project) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.str_] | None]:
    cm = proj.metric("candidates")
    cdist = proj.district_of("candidates")
    keep = cdist >= 0
    xy = np.column_stack([cm.geometry.x.to_numpy(), cm.geometry.y.to_numpy()])[keep]
    types = cm["SITE_TYPE"].to_numpy()[keep] if "SITE_TYPE" in cm.columns else None
    if types is not None and not bool(np.all(np.asarray([t is not None and t == t for t in types]))):
        types = None  # some rows without a type: all are drawn by the mix
    return xy, cdist[keep], None if types is None else np.asarray(types, dtype=str)


def _generated(proj: Project, settings: PlanSettings, existing_district: NDArray[np.int64]) -> NDArray[np.float64]:
    plan = load_plan(proj.plan)
    pop, _ = population_basis(proj, None)
    need = density(pop, np.bincount(existing_district[existing_district >= 0], minlength=len(proj.districts)),
                   target_per_10k=plan.indicator("5g_per_10k").target(max(plan.years))).shortfall
    n = settings.n_candidates
    if n is None:
        n = int(max(15_000, CANDIDATES_PER_NEEDED_SITE * need.sum()))
    lived = int((proj.demand.pop > 0).sum())
    return _modelled_candidates(proj, settings.candidates, n=min(n, lived), seed=settings.seed, need=need)


def _coverage(demand_xy: NDArray[np.float64], xy: NDArray[np.float64], radius: NDArray[np.float64]) -> sp.csc_array:
    if len(xy) == 0:
        return sp.csc_array((len(demand_xy), 0), dtype=np.uint8)
    return cov.coverage_matrix(demand_xy, xy, radius)


def planning_context(proj: Project, *, settings: PlanSettings | None = None, band: str | None = None,
                     indoor: bool | None = None, n_candidates: int | None = None,
                     mix: tuple[float, float, float] | None = None, seed: int | None = None,
                     candidates: str | None = None, progress: Progress | None = None) -> PlanningContext:
    """Build the arrays for placement on ``proj`` in memory.

    Parameters
    ----------
    proj : Project
        The project (districts, population, ``sites``, optional ``candidates``).
    settings : PlanSettings, optional
        All settings at once; the keywords below override single ones.
    band, indoor, n_candidates, mix, seed, candidates
        See :class:`PlanSettings` (defaults: n78, indoor users, mix by environment,
        seed 0, candidates drawn from populated cells ∝ population; ``kmeans``:
        population-weighted k-means centres; ``grid``: a square grid over the
        districts kept where people live, fine enough for ``n_candidates`` and for
        2.5 candidates per site the densest district needs).
    progress : callable, optional
        ``progress(fraction, message)`` hook for progress bars.
    """
    t0 = time.perf_counter()
    s = settings or PlanSettings()
    given = {"band": band, "indoor": indoor, "n_candidates": n_candidates, "mix": mix, "seed": seed,
             "candidates": candidates}
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

    step(0.4, "candidate sites")
    layer = proj.layer("candidates")
    if layer is not None and len(layer):
        cxy, cdist, ctype = _candidate_layer(proj)
        modelled, source = proj.is_modelled("candidates"), "layer"
    else:
        cxy = _generated(proj, s, edist)
        cdist = demand.district[cKDTree(demand.xy).query(cxy, k=1)[1]] if len(cxy) else np.zeros(0, dtype=np.int64)
        ctype, modelled, source = None, True, s.candidates
    cenv, cdens = site_environment(proj, cxy)
    if ctype is None:
        ctype = draw_site_types(cenv, mix=s.mix, rng=np.random.default_rng(s.seed))
    crad = site_radii(ctype, cenv, band=s.band, indoor=s.indoor)
    step(0.6, f"coverage matrix of {len(cxy):,} candidates")
    ccov = _coverage(demand.xy, cxy, crad)
    step(1.0, "ready")
    return PlanningContext(
        project=proj, settings=s, demand_weights=demand.pop, demand_district=demand.district, environment=env,
        existing_xy=exy, existing_type=etype, existing_radius=erad, existing_district=edist, covered0=covered0,
        cand_xy=cxy, cand_type=ctype, cand_radius=crad, cand_district=np.asarray(cdist, dtype=np.int64),
        cand_density=cdens, cand_environment=cenv, coverage=ccov, existing_coverage=ecov,
        candidates_modelled=modelled, candidate_source=source, build_s=time.perf_counter() - t0,
    )
