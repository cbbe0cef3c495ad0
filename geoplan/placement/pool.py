"""The candidate pool of a placement: inventories and generated candidates, filtered by the constraints.

One pool per :class:`~.settings.PlanSettings`, built by :func:`candidate_pool`:

1. **inventory** candidates — every feature of the project's ``[inventories.*]``
   layers and its ``[layers.candidates]`` layer inside the districts, with its
   KIND, SITE_TYPE, COST and HEIGHT_M (:mod:`geoplan.siting.inventory`);
2. **generated** candidates — modelled ones, by the settings' generator
   (``population``, ``kmeans``, ``grid``; ``none`` for inventories only), their
   number (``n_candidates``) and spacing (``candidate_spacing_m``), enough for
   2.5 candidates per site every district's last target needs (a coarse
   population raster's cells are split into sub-points); they are new builds
   (KIND ``new``), their site type drawn by the site mix;
3. the site type, cost and height of every candidate that does not give its own
   (the kind's first site type; :meth:`~geoplan.siting.params.SitingParams.cost`;
   the site type's antenna height in ``geoplan/radio_params.toml``);
4. **constraints** — candidates in a hard zone (:mod:`geoplan.siting.constraints`)
   are removed and counted; soft zones stay with the candidate and add their
   ``extra_cost``.

Inventory candidates come first, so where two candidates tie, reuse wins.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from .. import radio
from ..chunked import site_environment
from ..errors import ConfigError
from ..project import Project, points_in_districts
from ..radio_params import RadioParams
from ..radio_params import default_params as radio_defaults
from ..siting.constraints import ConstraintSet, SiteConflicts, constraint_set
from ..siting.inventory import inventory
from ..targets import density, population_basis
from ._steps import draw_site_types
from .candidates import (
    MAX_SUBDIVISION,
    grid_candidates,
    population_candidates,
    subdivide_cells,
    thin_points,
    weighted_kmeans_candidates,
)
from .request import targets_for
from .settings import PlanSettings

__all__ = ["CandidatePool", "candidate_pool", "site_heights", "CANDIDATES_PER_NEEDED_SITE", "GENERATED"]

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())

#: Modelled candidates per site the plan's last target still needs (choice among 2.5 per needed site).
CANDIDATES_PER_NEEDED_SITE = 2.5
#: SOURCE of generated candidates.
GENERATED = "generated"


@dataclass(frozen=True, eq=False)
class CandidatePool:
    """Candidate sites after constraints, one entry per candidate (metric CRS).

    Attributes
    ----------
    xy : ndarray, shape (n, 2)
    site_type, kind, source : ndarray of str
        Site type, KIND (``new`` for generated ones) and SOURCE (inventory name or ``generated``).
    cost, height_m, density, : ndarray of float
        Site cost (万元, soft-zone extra costs included), antenna height (m), population density of the cell.
    environment : ndarray of int8
    district : ndarray of int
    modelled : ndarray of bool
    cand_id, name : ndarray of object
    conflicts : SiteConflicts
        Soft conflicts of the candidates (hard ones were removed).
    excluded : dict
        Candidates removed by hard constraints: ``{source: {constraint layer: count}}``.
    outside : dict
        Inventory features outside every district, by inventory.
    generator : str
        How the generated candidates were made (``none`` when there are none).
    """

    xy: NDArray[np.float64]
    site_type: NDArray[np.str_]
    kind: NDArray[np.str_]
    source: NDArray[np.str_]
    cost: NDArray[np.float64]
    height_m: NDArray[np.float64]
    density: NDArray[np.float64]
    environment: NDArray[np.int8]
    district: NDArray[np.int64]
    modelled: NDArray[np.bool_]
    cand_id: NDArray[np.object_]
    name: NDArray[np.object_]
    conflicts: SiteConflicts
    excluded: dict[str, dict[str, int]] = field(default_factory=dict)
    outside: dict[str, int] = field(default_factory=dict)
    generator: str = "none"

    def __len__(self) -> int:
        return int(self.xy.shape[0])

    def subset(self, keep: NDArray[np.int64]) -> CandidatePool:
        """The candidates ``keep`` (indices, in that order), e.g. those outside a planner's exclusion areas."""
        k = np.asarray(keep, dtype=np.int64)
        arrays = {f: getattr(self, f)[k] for f in ("xy", "site_type", "kind", "source", "cost", "height_m", "density",
                                                    "environment", "district", "modelled", "cand_id", "name")}
        return dataclasses.replace(self, **arrays, conflicts=self.conflicts.subset(k))

    @property
    def n_excluded(self) -> int:
        """Candidates the hard constraints removed (a candidate in two hard zones counts once per zone)."""
        return sum(sum(v.values()) for v in self.excluded.values())

    def counts(self) -> dict[str, int]:
        """Candidates by SOURCE."""
        names, n = np.unique(self.source, return_counts=True)
        return {str(k): int(v) for k, v in zip(names, n, strict=True)}

    def summary(self) -> dict[str, Any]:
        """Counts for reports: by source, by kind, excluded by constraint, outside the districts."""
        kinds, n = np.unique(self.kind, return_counts=True)
        return {"by_source": self.counts(), "by_kind": {str(k): int(v) for k, v in zip(kinds, n, strict=True)},
                "excluded_by_constraints": self.excluded, "outside_districts": self.outside,
                "generator": self.generator}


def site_heights(site_types: NDArray[np.str_], env_codes: NDArray[np.int8], *,
                 params: RadioParams | None = None) -> NDArray[np.float64]:
    """Antenna height (m) of each site type in each radio environment (``params``, else ``geoplan/radio_params.toml``)."""
    p = params if params is not None else radio_defaults()
    names = np.asarray(radio.ENVIRONMENT_NAMES)[np.asarray(env_codes, dtype=np.int64)]
    return np.array([p.sites[str(t)].height_m[str(e)] for t, e in zip(site_types, names, strict=True)], dtype=float)


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


def _grid(proj: Project, xy: NDArray[np.float64], dist: NDArray[np.int64], side: NDArray[np.float64], *, n: int,
          need: NDArray[np.int64], spacing_m: float | None) -> NDArray[np.float64]:
    """A square grid over the districts, kept inside populated cells (see :func:`_modelled_candidates`)."""
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
    return pts[ok]


def _spaced(generator: str, xy: NDArray[np.float64], w: NDArray[np.float64], *, n: int, seed: int,
            spacing_m: float) -> NDArray[np.float64]:
    """Up to ``n`` population or k-means candidates at least ``spacing_m`` apart.

    Three times ``n`` are drawn first (∝ population, in a random order of
    preference) and thinned, so the count holds where there is room.
    """
    draw = min(3 * n, int((w > 0).sum()))
    if generator == "kmeans":
        c = weighted_kmeans_candidates(xy, w, n=min(n, draw), seed=seed)
        return c[np.sort(thin_points(c, spacing_m))]
    c = population_candidates(xy, w, n=draw, seed=seed)
    order = np.random.default_rng(seed).permutation(len(c))
    keep = order[thin_points(c[order], spacing_m)][:n]
    return c[np.sort(keep)]


def _modelled_candidates(proj: Project, generator: str, *, n: int, seed: int, need: NDArray[np.int64],
                         spacing_m: float | None = None, top_up: bool = True,
                         dense_for: int | None = None) -> NDArray[np.float64]:
    """About ``n`` modelled candidate sites (metres) by ``generator``.

    A grid's spacing is ``spacing_m``, else the finer of the one that gives
    ``n`` points over the populated area and the one that gives every district
    :data:`CANDIDATES_PER_NEEDED_SITE` points per site it ``need``-s (dense
    districts are small: an even grid would leave them too few). Population and
    k-means candidates are kept ``spacing_m`` apart when it is given. Districts
    left with fewer than 2.5 per needed site (a thin draw, or a coarse raster)
    are topped up from their own populated cells when ``top_up``.
    """
    xy, w, dist, side = _demand_points(proj, n if dense_for is None else dense_for, need)
    n = min(n, int((w > 0).sum()))
    if generator == "grid":  # a grid's spacing already gives every district its share; a top-up would break it
        return _grid(proj, xy, dist, side, n=n, need=need, spacing_m=spacing_m)
    if spacing_m is not None:
        out = _spaced(generator, xy, w, n=n, seed=seed, spacing_m=spacing_m)
    elif generator == "kmeans":
        out = weighted_kmeans_candidates(xy, w, n=n, seed=seed)
    else:
        out = population_candidates(xy, w, n=n, seed=seed)
    return _top_up(out, xy, w, dist, need=need, seed=seed) if top_up else out


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


def _generated(proj: Project, settings: PlanSettings, existing_district: NDArray[np.int64]) -> NDArray[np.float64]:
    """Modelled candidates: enough for the plan's last targets in every district, on the project's basis.

    ``n_candidates`` or ``candidate_spacing_m`` (one per spacing² of populated
    area) set the number; else 2.5 per site the last targets still need, at
    least 15,000. None for ``candidates="none"``.
    """
    if settings.candidates == "none":
        return np.zeros((0, 2))
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


def _types(kind: NDArray[np.str_], given: NDArray[np.object_], env: NDArray[np.int8], settings: PlanSettings,
           rng: np.random.Generator, proj: Project) -> NDArray[np.str_]:
    """SITE_TYPE where given; else the kind's first type; for kind ``new`` the site mix of the environment."""
    kinds = proj.siting.params.kinds
    out = np.array([g if g is not None else kinds[k].types[0] for k, g in zip(kind, given, strict=True)], dtype=object)
    draw = np.array([g is None and k == "new" for k, g in zip(kind, given, strict=True)], dtype=bool)
    if draw.any():
        out[draw] = draw_site_types(env[draw], mix=settings.mix, rng=rng)
    return out.astype(str)


def _costs(kind: NDArray[np.str_], stype: NDArray[np.str_], given: NDArray[np.float64], proj: Project) -> NDArray[
        np.float64]:
    params = proj.siting.params
    table = {(k, t): params.cost(k, t) for k, t in set(zip(kind.tolist(), stype.tolist(), strict=True))}
    default = np.array([table[(k, t)] for k, t in zip(kind.tolist(), stype.tolist(), strict=True)], dtype=float)
    return np.where(np.isfinite(given), given, default)


def _excluded(source: NDArray[np.str_], conflicts: SiteConflicts) -> dict[str, dict[str, int]]:
    zones = conflicts.zones
    hard = zones.hard[conflicts.zone]
    pairs = {(str(source[i]), str(zones.layer[z])) for i, z in zip(conflicts.site[hard], conflicts.zone[hard],
                                                                    strict=True)}
    out: dict[str, dict[str, int]] = {}
    for s, layer in sorted(pairs):
        out.setdefault(s, {})[layer] = 0
    for i, z in zip(conflicts.site[hard].tolist(), conflicts.zone[hard].tolist(), strict=True):
        out[str(source[i])][str(zones.layer[z])] += 1  # a candidate in two zones of one layer counts twice
    return out


def candidate_pool(proj: Project, settings: PlanSettings, existing_district: NDArray[np.int64], *,
                   zones: ConstraintSet | None = None) -> CandidatePool:
    """Inventory and generated candidates of ``proj`` for ``settings``, hard constraints applied.

    Raises
    ------
    ConfigError
        ``candidates="none"`` on a project without inventories.
    """
    inv = inventory(proj)
    inside = points_in_districts(_points(proj, inv.xy), proj.metric("districts")) if len(inv) else np.zeros(
        0, dtype=np.int64)
    outside = {str(k): int(v) for k, v in zip(*np.unique(inv.source[inside < 0], return_counts=True), strict=True)}
    keep = inside >= 0
    gxy = _generated(proj, settings, existing_district)
    if settings.candidates == "none" and not keep.any():
        raise ConfigError("candidates='none' uses inventories only, and the project has none inside its districts. "
                          "Fix: add [inventories.<name>] layers to the project file, or choose a generator "
                          "(--candidates population)")
    demand = proj.demand
    gdist = demand.district[cKDTree(demand.xy).query(gxy, k=1)[1]] if len(gxy) else np.zeros(0, dtype=np.int64)
    n_inv, n_gen = int(keep.sum()), len(gxy)
    xy = np.vstack([inv.xy[keep], gxy]) if n_inv else gxy
    env, dens = site_environment(proj, xy)
    rng = np.random.default_rng(settings.seed)
    # generated types first, with the seed's first draws: a project without inventories plans as before
    gtype = draw_site_types(env[n_inv:], mix=settings.mix, rng=rng)
    itype = _types(inv.kind[keep], inv.site_type[keep], env[:n_inv], settings, rng, proj)
    kind = np.r_[inv.kind[keep], np.full(n_gen, "new")].astype(str)
    stype = np.r_[itype, gtype].astype(str)
    height = np.r_[inv.height_m[keep], np.full(n_gen, np.nan)]
    height = np.where(np.isfinite(height), height, site_heights(stype, env, params=proj.radio_params))
    cost = _costs(kind, stype, np.r_[inv.cost[keep], np.full(n_gen, np.nan)], proj)
    source = np.r_[inv.source[keep], np.full(n_gen, GENERATED)].astype(str)
    zones = zones if zones is not None else constraint_set(proj)
    checked = zones.check(xy, height)
    ok = ~checked.hard
    kept = np.flatnonzero(ok)
    soft = checked.subset(kept)
    return CandidatePool(
        xy=xy[ok], site_type=stype[ok], kind=kind[ok], source=source[ok], cost=(cost + checked.extra_cost)[ok],
        height_m=height[ok], density=dens[ok], environment=env[ok],
        district=np.r_[inside[keep], gdist].astype(np.int64)[ok],
        modelled=np.r_[inv.modelled[keep], np.ones(n_gen, dtype=bool)][ok],
        cand_id=np.r_[inv.cand_id[keep], np.full(n_gen, "", dtype=object)][ok],
        name=np.r_[inv.name[keep], np.full(n_gen, "", dtype=object)][ok], conflicts=soft,
        excluded=_excluded(source, checked), outside=outside,
        generator=settings.candidates if n_gen or settings.candidates == "none" else settings.candidates)


def _points(proj: Project, xy: NDArray[np.float64]) -> Any:
    import geopandas as gpd

    return gpd.GeoDataFrame(geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=proj.metric_crs)
