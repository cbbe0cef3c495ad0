"""The candidate pool of a placement: inventories and generated candidates, filtered by the constraints.

One pool per :class:`~.settings.PlanSettings`, built by :func:`candidate_pool`:

1. **inventory** candidates — every feature of the project's ``[inventories.*]``
   layers and its ``[layers.candidates]`` layer inside the districts, with its
   KIND, SITE_TYPE, COST and HEIGHT_M (:mod:`geoplan.siting.inventory`);
2. **generated** candidates — modelled ones, by the settings' generator
   (``population``, ``kmeans``, ``grid``; ``none`` for inventories only), their
   number (``n_candidates``) and spacing (``candidate_spacing_m``); they are new
   builds (KIND ``new``), their site type drawn by the site mix;
3. the site type, cost and height of every candidate that does not give its own
   (the kind's first site type; :meth:`~geoplan.siting.params.SitingParams.cost`;
   the site type's antenna height in ``geoplan/radio_params.toml``);
4. **constraints** — candidates in a hard zone (:mod:`geoplan.siting.constraints`)
   are removed and counted; soft zones stay with the candidate and add their
   ``extra_cost``.

Inventory candidates come first, so where two candidates tie, reuse wins.
"""

from __future__ import annotations

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
from ..radio_params import default_params as radio_defaults
from ..siting.constraints import ConstraintSet, SiteConflicts, constraint_set
from ..siting.inventory import inventory
from ..targets import density, load_plan, population_basis
from ._steps import draw_site_types
from .candidates import grid_candidates, population_candidates, thin_points, weighted_kmeans_candidates
from .settings import PlanSettings

__all__ = ["CandidatePool", "candidate_pool", "site_heights", "CANDIDATES_PER_NEEDED_SITE", "GENERATED"]

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


def site_heights(site_types: NDArray[np.str_], env_codes: NDArray[np.int8]) -> NDArray[np.float64]:
    """Antenna height (m) of each site type in each radio environment (``geoplan/radio_params.toml``)."""
    p = radio_defaults()
    names = np.asarray(radio.ENVIRONMENT_NAMES)[np.asarray(env_codes, dtype=np.int64)]
    return np.array([p.sites[str(t)].height_m[str(e)] for t, e in zip(site_types, names, strict=True)], dtype=float)


def _modelled_candidates(proj: Project, generator: str, *, n: int, seed: int, need: NDArray[np.int64],
                         spacing_m: float | None) -> NDArray[np.float64]:
    """About ``n`` modelled candidate sites (metres) by ``generator``.

    A grid's spacing is ``spacing_m`` or else the finer of the one that gives ``n``
    points over the populated area and the one that gives every district
    :data:`CANDIDATES_PER_NEEDED_SITE` points per site it ``need``-s (dense
    districts are small: an even grid would leave them too few). Population and
    k-means candidates are thinned to ``spacing_m`` when it is given (three times
    ``n`` are drawn first, so the count holds where there is room).
    """
    demand = proj.demand
    lived = demand.pop > 0
    if generator == "grid":
        area = shapely.union_all(proj.metric("districts").geometry.to_numpy())
        spacing = spacing_m or float(np.sqrt(demand.area_km2[lived].sum() * 1e6 / n))
        area_d = np.bincount(demand.district[lived], weights=demand.area_km2[lived], minlength=len(need)) * 1e6
        short = need > 0
        if short.any() and spacing_m is None:
            spacing = min(spacing, float(np.sqrt(area_d[short] / (CANDIDATES_PER_NEEDED_SITE * need[short])).min()))
        pts = grid_candidates(area, spacing_m=spacing)
        near = cKDTree(demand.xy[lived]).query(pts, k=1, distance_upper_bound=spacing / 2)[0]
        return pts[np.isfinite(near)]
    if spacing_m is None:
        if generator == "kmeans":
            return weighted_kmeans_candidates(demand.xy, demand.pop, n=n, seed=seed)
        return population_candidates(demand.xy, demand.pop, n=n, seed=seed)
    draw = min(3 * n, int(lived.sum()))
    if generator == "kmeans":
        xy = weighted_kmeans_candidates(demand.xy, demand.pop, n=min(n, draw), seed=seed)
        return xy[np.sort(thin_points(xy, spacing_m))]
    xy, idx = population_candidates(demand.xy, demand.pop, n=draw, seed=seed, return_index=True)
    order = np.random.default_rng(seed).permutation(len(xy))  # a random order of preference, then thin
    keep = order[thin_points(xy[order], spacing_m)][:n]
    return xy[np.sort(keep)]


def _generated(proj: Project, settings: PlanSettings, existing_district: NDArray[np.int64]) -> NDArray[np.float64]:
    if settings.candidates == "none":
        return np.zeros((0, 2))
    plan = load_plan(proj.plan)
    pop, _ = population_basis(proj, None)
    need = density(pop, np.bincount(existing_district[existing_district >= 0], minlength=len(proj.districts)),
                   target_per_10k=plan.indicator("5g_per_10k").target(max(plan.years))).shortfall
    n = settings.n_candidates
    if n is None:
        n = int(max(15_000, CANDIDATES_PER_NEEDED_SITE * need.sum()))
    lived = int((proj.demand.pop > 0).sum())
    return _modelled_candidates(proj, settings.candidates, n=min(n, lived), seed=settings.seed, need=need,
                                spacing_m=settings.candidate_spacing_m)


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
    height = np.where(np.isfinite(height), height, site_heights(stype, env))
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
