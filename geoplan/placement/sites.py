"""5G site placement on a project: the GeoDataFrame-level entry points.

:func:`planning_context` builds, once, everything the optimisers need from a
project: demand cells, the radio environment of each cell, existing sites and
their coverage, candidate sites (a candidate layer, or modelled candidates
drawn from populated cells) with their radii, and the sparse coverage matrix.
:func:`place_sites` then chooses new sites to meet each district's density
target for a year and/or a station budget, maximising newly covered population
with :func:`~geoplan.placement.greedy_mclp` (default) or
:func:`~geoplan.placement.exact_mclp`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.spatial import cKDTree

from .. import coverage as cov
from .. import radio
from .._typing import Progress
from ..errors import ConfigError, InfeasibleError
from ..project import Project
from ..targets import check, density, load_plan, population_basis
from ._result import PlacementResult
from .candidates import grid_candidates, population_candidates, weighted_kmeans_candidates
from .exact import exact_mclp
from .greedy import greedy_mclp

__all__ = [
    "SITE_TYPES",
    "CANDIDATE_GENERATORS",
    "PlanningContext",
    "PlanResult",
    "planning_context",
    "place_sites",
    "evaluate_sites",
    "allocate_quotas",
    "new_site_budget",
]

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())

#: Site types of the plan's "宏+微+室" (macro + micro + indoor).
SITE_TYPES: tuple[str, ...] = ("macro", "micro", "indoor")
#: How modelled candidates are made when a project has no candidate layer (see :mod:`.candidates`).
CANDIDATE_GENERATORS: tuple[str, ...] = ("population", "kmeans", "grid")
#: Default share of each type among new modelled candidates, by environment.
DEFAULT_MIX: dict[str, tuple[float, float, float]] = {
    "dense_urban": (0.45, 0.35, 0.20),
    "urban": (0.60, 0.25, 0.15),
    "suburban": (0.80, 0.12, 0.08),
    "rural": (0.95, 0.05, 0.00),
}



@dataclass(frozen=True, eq=False)
class PlanningContext:
    """Arrays shared by every placement and what-if run on one project.

    Attributes
    ----------
    demand_weights : ndarray
        Persons per demand cell.
    demand_district : ndarray of int
        District index of each cell.
    environment : ndarray of str
        Radio environment of each cell (dense_urban, urban, suburban, rural).
    existing_xy, existing_type, existing_radius, existing_district : ndarray
        Existing sites (metric CRS), their type, radius (m) and district.
    covered0 : ndarray of bool
        Cells covered by existing sites.
    cand_xy, cand_type, cand_radius, cand_district, cand_density : ndarray
        Candidate sites, their type, radius, district and local population density.
    coverage : scipy.sparse.csc_array
        Cells (rows) × candidates (columns).
    existing_coverage : scipy.sparse.csc_array
        Cells × existing sites.
    band : str
        Band whose link budget set the radii.
    candidates_modelled : bool
        True when candidates were generated (no candidate layer in the project).
    """

    project: Project
    demand_weights: np.ndarray
    demand_district: np.ndarray
    environment: np.ndarray
    existing_xy: np.ndarray
    existing_type: np.ndarray
    existing_radius: np.ndarray
    existing_district: np.ndarray
    covered0: np.ndarray
    cand_xy: np.ndarray
    cand_type: np.ndarray
    cand_radius: np.ndarray
    cand_district: np.ndarray
    cand_density: np.ndarray
    coverage: sp.csc_array
    existing_coverage: sp.csc_array
    band: str
    candidates_modelled: bool
    build_s: float
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def n_districts(self) -> int:
        return len(self.project.districts)

    @property
    def existing_per_district(self) -> np.ndarray:
        d = self.existing_district
        return np.bincount(d[d >= 0], minlength=self.n_districts)


def _radius_lookup(types: np.ndarray, envs: np.ndarray, *, band: str, indoor: bool) -> np.ndarray:
    """Cell radius (m) of each site from its type and environment (outdoor or indoor users)."""
    out = np.empty(len(types), dtype=float)
    for t in np.unique(types):
        for e in np.unique(envs):
            m = (types == t) & (envs == e)
            if m.any():
                out[m] = radio.cell_radius_m(band=band, site=str(t), environment=str(e), indoor=indoor)
    return out


def _env_at(xy: np.ndarray, tree: cKDTree, env: np.ndarray, density_km2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Environment and population density of the demand cell nearest each point."""
    if len(xy) == 0:
        return np.zeros(0, dtype=env.dtype), np.zeros(0)
    _, idx = tree.query(xy, k=1)
    return env[idx], density_km2[idx]


#: Modelled candidates per site the plan's last target still needs (choice among 2.5 per needed site).
_CANDIDATES_PER_NEEDED_SITE = 2.5


def _modelled_candidates(proj: Project, generator: str, *, n: int, seed: int, need: np.ndarray) -> np.ndarray:
    """About ``n`` modelled candidate sites (metres) by ``generator`` (see :func:`planning_context`).

    A grid's spacing is the finer of the one that gives ``n`` points over the
    populated area and the one that gives every district
    :data:`_CANDIDATES_PER_NEEDED_SITE` points per site it ``need``-s (dense
    districts are small: an even grid would leave them too few).
    """
    demand = proj.demand
    if generator == "kmeans":
        return weighted_kmeans_candidates(demand.xy, demand.pop, n=n, seed=seed)
    if generator == "grid":
        area = shapely.union_all(proj.metric("districts").geometry.to_numpy())
        lived = demand.pop > 0
        # spacing so that about n grid points fall near people: populated area / n
        spacing = float(np.sqrt(demand.area_km2[lived].sum() * 1e6 / n))
        area_d = np.bincount(demand.district[lived], weights=demand.area_km2[lived], minlength=len(need)) * 1e6
        short = need > 0
        if short.any():
            spacing = min(spacing, float(np.sqrt(area_d[short] / (_CANDIDATES_PER_NEEDED_SITE * need[short])).min()))
        pts = grid_candidates(area, spacing_m=spacing)
        near = cKDTree(demand.xy[lived]).query(pts, k=1, distance_upper_bound=spacing / 2)[0]
        return pts[np.isfinite(near)]
    return population_candidates(demand.xy, demand.pop, n=n, seed=seed)


def planning_context(proj: Project, *, band: str = "n78", indoor: bool = True, n_candidates: int | None = None,
                     mix: tuple[float, float, float] | None = None, seed: int = 0, candidates: str = "population",
                     progress: Progress | None = None) -> PlanningContext:
    """Build the arrays for placement on ``proj``.

    Parameters
    ----------
    proj : Project
        The project (districts, population, ``sites``, optional ``candidates``).
    band : str
        5G band whose link budget sets the radii (``n78`` 3.5 GHz, ``n41`` 2.6 GHz,
        ``n28`` 700 MHz, ``n79`` 4.9 GHz).
    indoor : bool, default True
        Cover users indoors (radii include the 38.901 building-entry loss). Most
        residents of a Chinese city are indoors, and outdoor coverage of the
        existing Xiamen network is already ~99 %; ``False`` plans for outdoor users.
    n_candidates : int, optional
        Number of modelled candidates when the project has no candidate layer
        (default: max(15,000, 2.5 × the 2025 city shortfall)).
    mix : (float, float, float), optional
        Shares of macro, micro and indoor among modelled candidates; by default
        they depend on the environment (:data:`DEFAULT_MIX`).
    seed : int
        Seed for modelled candidates.
    candidates : {"population", "kmeans", "grid"}
        How modelled candidates are made when the project has no candidate layer:
        populated cells drawn ∝ population (default: instant, always where people
        are), population-weighted k-means centres (seconds; fewer sites cover
        more), or a square grid over the districts, kept where people live
        (even spacing, fine enough for ``n_candidates`` and for 2.5 candidates per
        site the densest district needs; neutral about where in a district people are).
    progress : callable, optional
        ``progress(fraction, message)`` hook for progress bars.
    """
    t0 = time.perf_counter()
    if band not in radio.BANDS:
        raise ConfigError(f"unknown band {band!r}. Fix: use one of {', '.join(radio.BANDS)}")
    if candidates not in CANDIDATE_GENERATORS:
        raise ConfigError(f"unknown candidate generator {candidates!r}. Fix: use one of "
                          f"{', '.join(CANDIDATE_GENERATORS)}")
    if mix is not None:
        mix_arr = np.asarray(mix, dtype=float)
        if mix_arr.shape != (3,) or (mix_arr < 0).any() or not np.isclose(mix_arr.sum(), 1.0):
            raise ConfigError(f"site mix {mix} must be three shares (macro, micro, indoor) >= 0 summing to 1. "
                              "Fix: e.g. --mix 0.6,0.25,0.15")
    step = progress or (lambda f, m: None)
    demand = proj.demand
    step(0.05, "radio environment of each cell")
    env = np.asarray(radio.ENVIRONMENT_NAMES)[radio.environment_from_density(demand.density_km2)]
    tree = cKDTree(demand.xy)

    sites = proj.layer("sites")
    if sites is not None and len(sites):
        sm = proj.metric("sites")
        exy = np.column_stack([sm.geometry.x.to_numpy(), sm.geometry.y.to_numpy()])
        etype = sm["SITE_TYPE"].astype(str).to_numpy()
        edist = proj.district_of("sites")
    else:
        exy, etype, edist = np.zeros((0, 2)), np.zeros(0, dtype=str), np.zeros(0, dtype=np.int64)
    eenv, _ = _env_at(exy, tree, env, demand.density_km2)
    erad = _radius_lookup(etype, eenv, band=band, indoor=indoor)
    step(0.2, f"coverage of {len(exy):,} existing sites")
    ecov = cov.coverage_matrix(demand.xy, exy, erad) if len(exy) else sp.csc_array((len(demand), 0), dtype=np.uint8)
    covered0 = cov.covered(ecov) if len(exy) else np.zeros(len(demand), dtype=bool)

    step(0.4, "candidate sites")
    cands = proj.layer("candidates")
    rng = np.random.default_rng(seed)
    if cands is not None and len(cands):
        cm = proj.metric("candidates")
        cxy = np.column_stack([cm.geometry.x.to_numpy(), cm.geometry.y.to_numpy()])
        cdist = proj.district_of("candidates")
        keep = cdist >= 0
        cxy, cdist = cxy[keep], cdist[keep]
        ctype_col = cm["SITE_TYPE"].to_numpy()[keep] if "SITE_TYPE" in cm.columns else None
        modelled = proj.is_modelled("candidates")
        source = "layer"
    else:
        plan = load_plan(proj.plan)
        pop, _ = population_basis(proj, None)
        need = density(pop, np.bincount(edist[edist >= 0], minlength=len(proj.districts)),
                       target_per_10k=plan.indicator("5g_per_10k").target(max(plan.years))).shortfall
        if n_candidates is None:
            n_candidates = int(max(15_000, _CANDIDATES_PER_NEEDED_SITE * need.sum()))
        cxy = _modelled_candidates(proj, candidates, n=min(n_candidates, int((demand.pop > 0).sum())), seed=seed,
                                   need=need)
        cidx = tree.query(cxy, k=1)[1]
        cdist = demand.district[cidx]
        ctype_col = None
        modelled = True
        source = candidates
    cenv, cdens = _env_at(cxy, tree, env, demand.density_km2)
    if ctype_col is not None and pd.notna(ctype_col).all():
        ctype = np.asarray(ctype_col, dtype=str)
    else:
        ctype = np.empty(len(cxy), dtype=object)
        for e in np.unique(cenv):
            m = cenv == e
            shares = np.asarray(mix if mix is not None else DEFAULT_MIX.get(str(e), DEFAULT_MIX["urban"]), dtype=float)
            ctype[m] = rng.choice(np.array(SITE_TYPES), size=int(m.sum()), p=shares / shares.sum())
        ctype = ctype.astype(str)
    crad = _radius_lookup(ctype, cenv, band=band, indoor=indoor)
    step(0.6, f"coverage matrix of {len(cxy):,} candidates")
    ccov = cov.coverage_matrix(demand.xy, cxy, crad)
    step(1.0, "ready")
    return PlanningContext(
        project=proj, demand_weights=demand.pop, demand_district=demand.district, environment=env,
        existing_xy=exy, existing_type=etype, existing_radius=erad, existing_district=edist,
        covered0=covered0, cand_xy=cxy, cand_type=ctype, cand_radius=crad, cand_district=cdist.astype(np.int64),
        cand_density=cdens, coverage=ccov, existing_coverage=ecov, band=band, candidates_modelled=modelled,
        build_s=time.perf_counter() - t0,
        params={"band": band, "indoor": indoor, "n_candidates": len(cxy), "mix": mix, "seed": seed,
                "candidates": source},
    )


def new_site_budget(total: int | None, *, existing: int, shortfall: np.ndarray) -> int:
    """New sites to place: ``total`` minus the existing ones, or the sum of the districts' shortfalls.

    Raises
    ------
    InfeasibleError
        ``total`` below the stations that already exist.

    Examples
    --------
    >>> new_site_budget(18_500, existing=10_881, shortfall=np.array([3, 4]))
    7619
    >>> new_site_budget(None, existing=10_881, shortfall=np.array([3, 4]))
    7
    """
    if total is None:
        return int(np.asarray(shortfall).sum())
    if total < existing:
        raise InfeasibleError(f"a total of {total:,} stations is below the {existing:,} that already exist. "
                              f"Fix: give a total of at least {existing:,}")
    return int(total - existing)


def allocate_quotas(shortfall: np.ndarray, p: int) -> np.ndarray:
    """Per-district minimum of new sites within a budget of ``p``.

    When the budget covers every district's shortfall, the shortfalls are the
    quotas. Otherwise the budget is shared in proportion to the shortfalls
    (largest-remainder rounding, so the quotas sum exactly to ``p``).

    Examples
    --------
    >>> allocate_quotas(np.array([10, 30, 0]), 100).tolist()
    [10, 30, 0]
    >>> allocate_quotas(np.array([10, 30, 0]), 20).tolist()
    [5, 15, 0]
    """
    s = np.asarray(shortfall, dtype=np.int64)
    if s.sum() <= p:
        return s.copy()
    exact = s * (p / s.sum())
    q = np.floor(exact).astype(np.int64)
    rem = p - int(q.sum())
    order = np.argsort(-(exact - q), kind="stable")
    q[order[:rem]] += 1
    return q


@dataclass(frozen=True, eq=False)
class PlanResult:
    """New sites chosen for a project, with what they achieve.

    Attributes
    ----------
    sites : GeoDataFrame
        Planned sites (EPSG:4490) with SITE_ID, SITE_TYPE, RANK, GAIN_POP, SOURCE, XZQDM, XZQMC.
    districts : DataFrame
        Per district: population, existing, new, total stations, per 10k, target, meets, coverage before/after.
    summary : dict
        City totals, objective, solver status and gap, parameters.
    placement : PlacementResult
        The optimiser's raw result (column indices into the context's candidates).
    """

    sites: gpd.GeoDataFrame
    districts: pd.DataFrame
    summary: dict[str, Any]
    placement: PlacementResult


def evaluate_sites(ctx: PlanningContext, selected: np.ndarray, *, year: int | None = None,
                   population_year: int | None = None) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Density and population coverage per district when candidates ``selected`` are built."""
    proj = ctx.project
    sel = np.asarray(selected, dtype=np.int64)
    covered_after = ctx.covered0 | cov.covered(ctx.coverage, selected=sel)
    w, g, n = ctx.demand_weights, ctx.demand_district, ctx.n_districts
    tot_w = np.bincount(g, weights=w, minlength=n)
    before = np.bincount(g, weights=w * ctx.covered0, minlength=n)
    after = np.bincount(g, weights=w * covered_after, minlength=n)
    new_per = np.bincount(ctx.cand_district[sel], minlength=n)
    existing = ctx.existing_per_district
    plan = load_plan(proj.plan)
    yr = year if year is not None else max(plan.years)
    target = float(plan.indicator("5g_per_10k").target(yr))
    pop, basis = population_basis(proj, population_year)
    d = density(pop, existing + new_per, target_per_10k=target)
    with np.errstate(divide="ignore", invalid="ignore"):
        cov_b = np.where(tot_w > 0, before / tot_w, np.nan)
        cov_a = np.where(tot_w > 0, after / tot_w, np.nan)
    table = pd.DataFrame({
        "XZQDM": proj.district_codes, "XZQMC": proj.district_names, "population": pop,
        "existing": existing, "new": new_per, "stations": d.stations, "per_10k": d.per_10k,
        "target_per_10k": target, "shortfall": d.shortfall, "meets_target": d.meets,
        "coverage_before": cov_b, "coverage_after": cov_a,
    })
    city = density(np.array([pop.sum()]), np.array([d.stations.sum()]), target_per_10k=target)
    summary = {
        "year": yr, "target_per_10k": target, "population": float(pop.sum()), "population_basis": basis,
        "existing": int(existing.sum()), "new": int(len(sel)), "stations": int(d.stations.sum()),
        "per_10k": round(float(city.per_10k[0]), 2), "districts_meeting_target": int(d.meets.sum()),
        "districts": n,
        "coverage_before": round(float(before.sum() / tot_w.sum()), 4) if tot_w.sum() else None,
        "coverage_after": round(float(after.sum() / tot_w.sum()), 4) if tot_w.sum() else None,
        "covered_population_before": round(float(before.sum()), 0),
        "covered_population_after": round(float(after.sum()), 0),
    }
    return table, summary


def place_sites(proj: Project, *, total: int | None = None, year: int | None = None, method: str = "greedy",
                context: PlanningContext | None = None, band: str = "n78", indoor: bool = True, fixed_xy: np.ndarray | None = None,
                time_limit_s: float = 60.0, mip_rel_gap: float = 1e-4, population_year: int | None = None,
                seed: int = 0, progress: Progress | None = None) -> PlanResult:
    """Choose new 5G sites for ``proj``.

    Parameters
    ----------
    proj : Project
        The project.
    total : int, optional
        Total stations wanted (existing + new): the budget of new sites is
        ``total − existing``. Without ``year``, the density target of the plan's
        last year sets the district quotas, shared in proportion to the
        shortfalls when the budget cannot meet them all (:func:`allocate_quotas`).
    year : int, optional
        Meet every district's density target for ``year``. Alone, the budget is
        the sum of district shortfalls; with ``total``, the budget is ``total``.
    method : {"greedy", "exact"}
        Lazy greedy (fast, default) or HiGHS MILP (real status and gap).
    context : PlanningContext, optional
        Reuse arrays built by :func:`planning_context` (what-if runs).
    band : str
        Band for the link budget when ``context`` is not given.
    fixed_xy : ndarray, optional
        Metric coordinates of sites that must be built (e.g. drawn by a planner);
        each is snapped to the nearest candidate.
    time_limit_s, mip_rel_gap : float
        Exact solver limits.
    population_year : int, optional
        Population basis of the density target (see :func:`geoplan.targets.check`).
    seed : int
        Seed of modelled candidates.
    progress : callable, optional
        ``progress(fraction, message)``.

    Raises
    ------
    ConfigError
        Neither ``total`` nor ``year``, or an unknown method.
    InfeasibleError
        A total below the existing stations, or more new sites than candidates.
    """
    if total is None and year is None:
        raise ConfigError("say how many stations to plan. Fix: give --total N (all stations) or --year Y "
                          "(meet that year's density target)")
    if method not in ("greedy", "exact"):
        raise ConfigError(f"unknown method {method!r}. Fix: use greedy or exact")
    ctx = context or planning_context(proj, band=band, indoor=indoor, seed=seed, progress=progress)
    plan = load_plan(proj.plan)
    yr = plan.check_year(year) if year is not None else max(plan.years)
    rep = check(proj, year=yr, population_year=population_year)
    shortfall = rep.table["shortfall"].to_numpy(dtype=np.int64)
    p = new_site_budget(total, existing=int(ctx.existing_per_district.sum()), shortfall=shortfall)
    if p > ctx.coverage.shape[1]:
        raise InfeasibleError(f"{p:,} new sites requested but only {ctx.coverage.shape[1]:,} candidates exist. "
                              "Fix: add candidates (a larger candidate layer or more modelled candidates) or plan fewer sites")
    quotas = allocate_quotas(shortfall, p)
    fixed = None
    if fixed_xy is not None and len(fixed_xy):
        fixed = np.unique(cKDTree(ctx.cand_xy).query(np.asarray(fixed_xy, dtype=float), k=1)[1])
    if progress:
        progress(0.0, f"{method}: choosing {p:,} sites")
    kw: dict[str, Any] = dict(p=p, covered0=ctx.covered0, groups=ctx.cand_district, min_per_group=quotas,
                              fixed=fixed, secondary=ctx.cand_density)
    if method == "greedy":
        res = greedy_mclp(ctx.coverage, ctx.demand_weights, **kw)
    else:
        warm = greedy_mclp(ctx.coverage, ctx.demand_weights, **kw)
        res = exact_mclp(ctx.coverage, ctx.demand_weights, time_limit_s=time_limit_s, mip_rel_gap=mip_rel_gap,
                         warm_start=warm.selected, **kw)
    sel = np.asarray(res.selected, dtype=np.int64)
    gains = _marginal_gains(ctx, sel)
    table, summary = evaluate_sites(ctx, sel, year=yr, population_year=population_year)
    summary.update({"method": res.method, "status": res.status, "gap": res.gap, "objective": res.objective,
                    "runtime_s": round(res.runtime_s, 3), "band": ctx.band, "budget_new": p,
                    "quotas": quotas.tolist(), "candidates": int(ctx.coverage.shape[1]),
                    "candidates_modelled": ctx.candidates_modelled})
    sites = _sites_frame(ctx, sel, gains, source=res.method)
    if progress:
        progress(1.0, "done")
    return PlanResult(sites=sites, districts=table, summary=summary, placement=res)


def _marginal_gains(ctx: PlanningContext, sel: np.ndarray) -> np.ndarray:
    """Population newly covered by each selected site, in selection order."""
    covered = ctx.covered0.copy()
    A = ctx.coverage
    w = ctx.demand_weights
    gains = np.empty(len(sel))
    for k, j in enumerate(sel.tolist()):
        rows = A.indices[A.indptr[j]:A.indptr[j + 1]]
        new = rows[~covered[rows]]
        gains[k] = w[new].sum()
        covered[new] = True
    return gains


def _sites_frame(ctx: PlanningContext, sel: np.ndarray, gains: np.ndarray, *, source: str) -> gpd.GeoDataFrame:
    proj = ctx.project
    codes = np.asarray(proj.district_codes)
    names = np.asarray(proj.district_names)
    d = ctx.cand_district[sel]
    gdf = gpd.GeoDataFrame({
        "SITE_ID": [f"P{proj.districts['XZQDM'].iloc[0][:4]}{k + 1:06d}" for k in range(len(sel))],
        "SITE_TYPE": ctx.cand_type[sel], "RANK": np.arange(1, len(sel) + 1, dtype=np.int64),
        "GAIN_POP": np.round(gains, 1), "SOURCE": source, "RADIUS_M": np.round(ctx.cand_radius[sel], 0),
        "XZQDM": codes[d], "XZQMC": names[d], "MODELLED": int(ctx.candidates_modelled),
    }, geometry=gpd.points_from_xy(ctx.cand_xy[sel, 0], ctx.cand_xy[sel, 1]), crs=proj.metric_crs)
    return gdf.to_crs(4490)
