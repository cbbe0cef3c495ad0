"""The planning context: a project's arrays for placement and what-ifs, built once in memory.

:func:`planning_context` gathers what the in-memory engine needs from a project:
demand cells and their radio environment, existing sites and their coverage,
candidate sites (a candidate layer, or modelled candidates) with their radii,
and the sparse coverage matrix of candidates. What-if runs, drawn sites and the
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
import logging
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
from ..chunked import cell_side_m, site_arrays, site_environment
from ..errors import ConfigError
from ..morphology import project_environment
from ..project import Project
from ..radio_params import RadioParams
from ..targets import density, population_basis
from ._steps import draw_site_types
from .candidates import (
    MAX_SUBDIVISION,
    grid_candidates,
    population_candidates,
    subdivide_cells,
    weighted_kmeans_candidates,
)
from .request import targets_for
from .settings import PlanSettings

__all__ = ["PlanningContext", "planning_context", "site_coverage", "own_radius", "CANDIDATES_PER_NEEDED_SITE"]

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())

#: Modelled candidates per site the plan's last target still needs (choice among 2.5 per needed site).
CANDIDATES_PER_NEEDED_SITE = 2.5


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


def _demand_points(proj: Project, n: int, need: NDArray[np.int64]
                   ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64], NDArray[np.float64]]:
    """Populated cells as points for the generators, split into sub-points on a coarse raster.

    A district needs :data:`CANDIDATES_PER_NEEDED_SITE` candidates per site it
    ``need``-s, and the whole project ``n`` (the number asked for, or what the
    needs add up to); when the populated cells are fewer (500 m – 1 km rasters),
    every cell is split into ``f × f`` points (:func:`~.candidates.subdivide_cells`),
    ``f`` the smallest factor that offers enough. Returns points, weights, their
    district and the side of the cell each came from.
    """
    d = proj.demand
    lived = d.pop > 0
    xy, w, dist = d.xy[lived], d.pop[lived], d.district[lived]
    side = np.sqrt(d.area_km2[lived]) * 1000.0
    cells = np.bincount(dist, minlength=len(need)).astype(float)
    want = max(n / max(len(w), 1), float(np.max(np.where(cells > 0, CANDIDATES_PER_NEEDED_SITE * need / np.maximum(
        cells, 1), 0.0), initial=0.0)))
    f = int(min(np.ceil(np.sqrt(want)), MAX_SUBDIVISION)) if want > 1 else 1
    if f == 1:
        return xy, w, dist, side
    log.info("population raster coarser than the candidates needed: %d sub-points per cell (%.0f m apart)",
             f * f, float(np.median(side)) / f)
    sxy, sw, cell = subdivide_cells(xy, w, side_m=side, factor=f)
    return sxy, sw, dist[cell], side[cell] / f


def _modelled_candidates(proj: Project, generator: str, *, n: int, seed: int, need: NDArray[np.int64],
                         spacing_m: float | None = None, top_up: bool = True,
                         dense_for: int | None = None) -> NDArray[np.float64]:
    """About ``n`` modelled candidate sites (metres) by ``generator`` (see :func:`planning_context`).

    A grid's spacing is ``spacing_m``, else the finer of the one that gives
    ``n`` points over the populated area and the one that gives every district
    :data:`CANDIDATES_PER_NEEDED_SITE` points per site it ``need``-s (dense
    districts are small: an even grid would leave them too few). Districts left
    with fewer than that (a thin draw, or a coarse raster) are topped up from
    their own populated cells.
    """
    xy, w, dist, side = _demand_points(proj, n if dense_for is None else dense_for, need)
    n = min(n, int((w > 0).sum()))
    if generator == "kmeans":
        out = weighted_kmeans_candidates(xy, w, n=n, seed=seed)
    elif generator == "grid":
        area = shapely.union_all(proj.metric("districts").geometry.to_numpy())
        spacing = spacing_m or float(np.sqrt((side ** 2).sum() / n))  # about n points near people
        area_d = np.bincount(dist, weights=side ** 2, minlength=len(need))
        short = need > 0
        if short.any() and spacing_m is None:
            spacing = min(spacing, float(np.sqrt(area_d[short] / (CANDIDATES_PER_NEEDED_SITE * need[short])).min()))
        pts = grid_candidates(area, spacing_m=spacing)
        # keep the points inside a populated cell (Chebyshev distance to its centre within half its side)
        near, idx = cKDTree(xy).query(pts, k=1, p=np.inf, distance_upper_bound=float(side.max()) / 2 + 1e-6)
        ok = np.isfinite(near)
        ok[ok] = near[ok] <= side[idx[ok]] / 2 + 1e-6
        out = pts[ok]
    else:
        out = population_candidates(xy, w, n=n, seed=seed)
    # a grid's spacing already gives every district its share; a top-up would break the lattice
    return _top_up(out, xy, w, dist, need=need, seed=seed) if top_up and generator != "grid" else out


def _top_up(cand: NDArray[np.float64], xy: NDArray[np.float64], w: NDArray[np.float64], dist: NDArray[np.int64],
            *, need: NDArray[np.int64], seed: int) -> NDArray[np.float64]:
    """Add candidates drawn ∝ population in districts with fewer than 2.5 per site they need."""
    if not len(cand):
        return cand
    cdist = dist[cKDTree(xy).query(cand, k=1)[1]]
    have = np.bincount(cdist, minlength=len(need))
    extra = []
    for k in np.flatnonzero(have < np.ceil(CANDIDATES_PER_NEEDED_SITE * need)):
        mine = np.flatnonzero((dist == k) & (w > 0))
        want = int(min(np.ceil(CANDIDATES_PER_NEEDED_SITE * need[k]), mine.size)) - int(have[k])
        if want > 0:
            extra.append(population_candidates(xy[mine], w[mine], n=min(mine.size, want + int(have[k])),
                                               seed=seed + 7919 * (int(k) + 1)))
    if not extra:
        return cand
    return np.unique(np.concatenate([cand, *extra]), axis=0)


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
    """Modelled candidates: enough for the plan's last targets in every district, on the project's basis."""
    n_d = len(proj.districts)
    existing = np.bincount(existing_district[existing_district >= 0], minlength=n_d)
    need = np.zeros(n_d, dtype=np.int64)
    budget = 0
    try:
        tf = targets_for(proj, year=None)
        pop, _ = population_basis(proj, year=tf.year)
        need = density(pop, existing, target_per_10k=tf.district_target).shortfall
        need = np.where(proj.no_statistics, 0, need)
        if tf.stations_target is not None:
            budget = tf.stations_target - int(existing.sum())
    except ConfigError:  # a project without targets: the default number of candidates
        pass
    n = settings.n_candidates
    if n is None and settings.candidate_spacing_m is not None:
        n = max(int(sum(float(a) for a in proj.demand.area_km2[proj.demand.pop > 0]) * 1e6
                    / settings.candidate_spacing_m ** 2), 1)
    chosen = n is not None
    needed = int(CANDIDATES_PER_NEEDED_SITE * max(int(need.sum()), budget))
    return _modelled_candidates(proj, settings.candidates, n=n if n is not None else max(15_000, needed),
                                seed=settings.seed, need=need, spacing_m=settings.candidate_spacing_m,
                                top_up=not chosen, dense_for=n if n is not None else needed)


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
        mix by environment, seed 0, candidates drawn from populated cells ∝ population;
        ``kmeans``: population-weighted k-means centres; ``grid``: a square grid over the
        districts kept where people live, fine enough for ``n_candidates`` and for
        2.5 candidates per site the densest district needs). On a population raster
        coarser than the candidates needed, cells are split into sub-points so a
        district always gets 2.5 candidates per site its last target needs.
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

    step(0.4, "candidate sites")
    layer = proj.layer("candidates")
    if layer is not None and len(layer):
        cxy, cdist, ctype = _candidate_layer(proj)
        modelled, source = proj.is_modelled("candidates"), "layer"
    else:
        cxy = _generated(proj, s, edist)
        cdist = demand.district[cKDTree(demand.xy).query(cxy, k=1)[1]] if len(cxy) else np.zeros(0, dtype=np.int64)
        ctype, modelled, source = None, True, s.candidates
    cenv, cdens = site_environment(proj, cxy, params=params)
    if ctype is None:
        ctype = draw_site_types(cenv, mix=s.mix, rng=np.random.default_rng(s.seed))
    crad = radio.radius_lookup(band=s.band, indoor=s.indoor, params=params).lookup(
        np.asarray(ctype)[:, None], np.arange(len(params.environments))[None, :]) if len(cxy) else \
        np.zeros((0, len(params.environments)))
    ccap = radio.site_capacity_mbps(ctype, [(s.band,)] * len(cxy), cenv, params=params)
    step(0.6, f"coverage matrix of {len(cxy):,} candidates")
    ccov = site_coverage(cells, cxy, crad)
    step(1.0, "ready")
    return PlanningContext(
        project=proj, settings=s, demand_weights=demand.pop, demand_district=demand.district, environment=env,
        cell_m=side, existing_xy=ex.xy, existing_type=np.asarray(ex.site_type, dtype=str), existing_radius=ex.radii,
        existing_district=edist, existing_environment=np.asarray(ex.environment, dtype=np.int8),
        existing_capacity=ex.capacity_mbps if len(ex.capacity_mbps) == len(ex) else np.zeros(len(ex)), share0=share0,
        cand_xy=cxy, cand_type=np.asarray(ctype, dtype=str), cand_radius=crad,
        cand_district=np.asarray(cdist, dtype=np.int64), cand_density=cdens, cand_environment=cenv,
        cand_capacity=ccap, coverage=ccov, existing_coverage=ecov, candidates_modelled=modelled,
        candidate_source=source, build_s=time.perf_counter() - t0,
    )
