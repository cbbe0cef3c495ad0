"""The county-by-county engine: a province placed one district at a time, memory bounded.

Each district gets its density shortfall plus a share of the rest of the budget
in proportion to its population still uncovered, and runs the lazy greedy
(:func:`~.greedy.greedy_mclp`) on candidates drawn from its own populated cells,
with the in-memory engine's coverage model (receiving-cell radii, covered
shares of cells, the settings' network and band), less those in hard
constraint zones (candidate inventories and a cost weight need the in-memory
engine); a final chunked coverage pass (:func:`geoplan.chunked.coverage`)
measures the plan with existing and new sites across borders. Capacity is not
planned here (in-memory engine only); ``geoplan.chunked.coverage(..., year=)``
reports it for a province. The per-district tasks are
plain-array functions run by a *mapper*: the built-in :func:`map`, or a Dask
client (:func:`geoplan.distributed.dask_mapper`), with identical results.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
from numpy.typing import NDArray

from .. import chunked, radio
from .._typing import Progress
from ..chunked import CountyChunk, Mapper, SiteArrays, chunk_demand, chunk_environment, county_chunks
from ..errors import InfeasibleError
from ..project import Project
from ..radio_params import RadioParams
from ..siting.constraints import ConstraintSet, SiteConflicts, constraint_set
from ._result import PlacementResult, relative_gap
from ._steps import draw_site_types, largest_remainder, marginal_gains
from ._work import CAPPED_NOTE, WORK_PER_SECOND, default_cap_s
from .candidates import population_candidates
from .context import own_radius
from .costing import SitingSummary, siting_summary
from .greedy import greedy_mclp
from .pool import GENERATED, site_heights
from .request import PlanRequest
from .results import PlanResult, PlanSummary, district_table, plan_totals, planned_sites_frame
from .settings import PlanSettings

__all__ = ["CountyPlan", "place_by_county", "planned_site_arrays", "stack_sites", "CANDIDATE_FACTOR", "MIN_CANDIDATES"]

#: Each district draws max(CANDIDATE_FACTOR × its new sites, MIN_CANDIDATES) candidates.
CANDIDATE_FACTOR = 3.0
MIN_CANDIDATES = 50
#: Work of local search and Lagrangian bound shared by all districts of one placement (units of
#: :mod:`~geoplan.placement._work`; each district gets its share, at least :data:`MIN_DISTRICT_WORK`): about 12 s
#: on the reference machine in all, the wall-clock budget it replaces, so a province stays within a minute of
#: solver time. Work, not seconds: the same plan on any machine at any load (and with any number of threads).
PLACEMENT_WORK = 12 * WORK_PER_SECOND
MIN_DISTRICT_WORK = WORK_PER_SECOND // 5


@dataclass(frozen=True, eq=False)
class _PlaceItem:
    chunk: CountyChunk
    covered0: NDArray[np.float64]
    p: int
    n_candidates: int
    settings: PlanSettings
    params: RadioParams
    work_budget: int
    zones: ConstraintSet


@dataclass(frozen=True, eq=False)
class CountyPlan:
    """New sites chosen in one district (metric coordinates, in the order chosen; radii per receiving environment)."""

    district: int
    xy: NDArray[np.float64]
    site_type: NDArray[np.str_]
    radius: NDArray[np.float64]
    environment: NDArray[np.int8]
    gain: NDArray[np.float64]
    candidates: int
    objective: float
    bound: float
    runtime_s: float
    time_capped: bool = False
    work: int = 0


def _candidates(item: _PlaceItem, rng: np.random.Generator, seed: int
                ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
    """Candidate points drawn ∝ population from the district's cells; on a coarse grid several per cell."""
    d = chunk_demand(item.chunk)
    per_cell = max(1, math.ceil(item.n_candidates / max(len(d), 1)))
    pxy = np.tile(d.xy, (per_cell, 1))
    if per_cell > 1:  # each cell offers its centre, then seeded points inside it
        side = np.tile(np.sqrt(d.area_km2) * 1000.0, per_cell)[:, None]
        jitter = rng.uniform(-0.45, 0.45, size=pxy.shape) * side
        jitter[: len(d)] = 0.0
        pxy = pxy + jitter
    pw = np.tile(d.pop, per_cell)
    xy, idx = population_candidates(pxy, pw, n=min(item.n_candidates, int((pw > 0).sum())), seed=seed,
                                    return_index=True)
    idx = idx % max(len(d), 1)
    return xy, d.density_km2[idx], idx


def _place_task(item: _PlaceItem) -> CountyPlan:
    t0 = time.perf_counter()
    k = item.chunk.district
    s = item.settings
    n_env = len(item.params.environments)
    if item.p == 0:
        return CountyPlan(k, np.zeros((0, 2)), np.zeros(0, dtype=str), np.zeros((0, n_env)),
                          np.zeros(0, dtype=np.int8), np.zeros(0), 0, 0.0, 0.0, 0.0)
    d = chunk_demand(item.chunk)
    seed = int(s.seed) * 1_000_003 + k
    rng = np.random.default_rng(seed)
    xy, dens, cell = _candidates(item, rng, seed)
    env = chunk_environment(item.chunk, d)[cell].astype(np.int8)
    ctype = draw_site_types(env, mix=s.mix, rng=rng)
    table = radio.radius_lookup(band=s.band, indoor=s.indoor, params=item.params)
    crad = table.lookup(np.asarray(ctype)[:, None], np.arange(n_env)[None, :]) if len(xy) else np.zeros((0, n_env))
    ok = crad.max(axis=1) > 0 if len(xy) else np.zeros(0, dtype=bool)
    if len(xy):
        ok &= ~item.zones.check(xy, site_heights(ctype, env, params=item.params)).hard
    xy, ctype, crad, dens, env = xy[ok], ctype[ok], crad[ok], dens[ok], env[ok]
    # cells the existing sites fill whole can gain nothing: the matrix needs only the others' rows (same gains)
    room = np.flatnonzero(item.covered0 < 1.0)
    dr = d.take(room)
    A = chunked.county_matrix(item.chunk, dr, SiteArrays(xy, crad, np.full(len(xy), k)))
    res = greedy_mclp(A, dr.pop, p=item.p, covered0=item.covered0[room], secondary=dens, work_budget=item.work_budget,
                      time_cap_s=default_cap_s(item.work_budget))
    sel = np.asarray(res.selected, dtype=np.int64)
    gains = marginal_gains(A, dr.pop, item.covered0[room], sel)
    bound = res.objective * (1.0 + res.gap) if res.gap is not None and math.isfinite(res.gap) else res.objective
    return CountyPlan(k, xy[sel], ctype[sel], crad[sel], env[sel], gains, len(xy), float(res.objective),
                      float(bound), time.perf_counter() - t0, res.time_capped, res.work)


def _allocate(proj: Project, req: PlanRequest, before: chunked.CoverageReport) -> NDArray[np.int64]:
    """Each district's shortfall, plus the rest of the budget ∝ its population still uncovered."""
    uncovered = np.array([c.population - c.covered_population for c in before.counties])
    alloc = req.quotas + largest_remainder(np.maximum(uncovered, 0.0), req.p - int(req.quotas.sum()))
    cells = np.array([c.cells for c in before.counties], dtype=np.int64)
    empty = np.flatnonzero((alloc > 0) & (cells == 0))
    if empty.size:
        raise InfeasibleError(f"new sites allotted to districts without populated cells: "
                              f"{', '.join(proj.district_names[i] for i in empty[:5])}. Fix: check the population grid")
    return alloc


def _county_plans(proj: Project, settings: PlanSettings, alloc: NDArray[np.int64], before: chunked.CoverageReport,
                  *, mapper: Mapper | None, progress: Progress | None, zones: ConstraintSet) -> list[CountyPlan]:
    params = proj.radio_params
    chunks = county_chunks(proj, environment=True, params=params)
    budget = max(PLACEMENT_WORK // max(int((alloc > 0).sum()), 1), MIN_DISTRICT_WORK)
    items = [_PlaceItem(c, before.counties[c.district].share, int(alloc[c.district]),  # type: ignore[arg-type]
                        int(max(math.ceil(CANDIDATE_FACTOR * alloc[c.district]), MIN_CANDIDATES)), settings, params,
                        budget, zones)
             for c in chunks]
    names = [proj.district_names[c.district] for c in chunks]
    return chunked.run_tasks(_place_task, items, mapper=mapper or chunked.threaded, progress=progress,
                             what="placing sites", names=names, start=0.35, span=0.4)


def stack_sites(a: SiteArrays, b: SiteArrays | None) -> SiteArrays:
    """Sites ``a`` followed by ``b`` (radii per receiving environment and capacities kept)."""
    if b is None or not len(b):
        return a
    if not len(a):
        return b
    cap = np.concatenate([a.capacity_mbps, b.capacity_mbps]) \
        if len(a.capacity_mbps) == len(a) and len(b.capacity_mbps) == len(b) else np.zeros(0)
    return SiteArrays(np.concatenate([a.xy.reshape(-1, 2), b.xy]), np.concatenate([a.radii, b.radii]),
                      np.concatenate([a.district, b.district]).astype(np.int64),
                      np.concatenate([a.site_type.astype(str), b.site_type.astype(str)]),
                      np.concatenate([a.environment.astype(np.int8), b.environment.astype(np.int8)]), cap)


def planned_site_arrays(proj: Project, settings: PlanSettings, sites: gpd.GeoDataFrame) -> SiteArrays:
    """A ``planned_sites`` frame of a plan made with ``settings`` as :class:`SiteArrays`.

    The radii per receiving environment and the capacity follow from each site's
    type and own environment (RADIO_ENV) on ``settings.band``, as when the site
    was chosen (RADIUS_M holds only the radius for its own environment).
    """
    params = proj.radio_params
    k = len(params.environments)
    if not len(sites):
        return SiteArrays(np.zeros((0, 2)), np.zeros((0, k)), np.zeros(0, dtype=np.int64))
    sm = sites.to_crs(proj.metric_crs)
    codes = {c: i for i, c in enumerate(proj.district_codes)}
    env_code = {name: i for i, name in enumerate(radio.ENVIRONMENT_NAMES)}
    stype = sm["SITE_TYPE"].to_numpy(dtype=str)
    env = np.array([env_code[e] for e in sm["RADIO_ENV"]], dtype=np.int8)
    radii = radio.radius_lookup(band=settings.band, indoor=settings.indoor, params=params).lookup(
        stype[:, None], np.arange(k)[None, :])
    return SiteArrays(np.column_stack([sm.geometry.x.to_numpy(), sm.geometry.y.to_numpy()]), radii,
                      np.array([codes.get(c, -1) for c in sm["XZQDM"]], dtype=np.int64), stype, env,
                      radio.site_capacity_mbps(stype, [(settings.band,)] * len(sm), env, params=params))


def place_by_county(proj: Project, settings: PlanSettings, req: PlanRequest, *, mapper: Mapper | None = None,
                    progress: Progress | None = None, prior: SiteArrays | None = None) -> PlanResult:
    """Choose ``req.p`` new sites district by district (see :func:`geoplan.placement.place_sites`).

    ``prior`` are sites planned before (an earlier phase): they count as existing.
    """
    t0 = time.perf_counter()
    step = progress or (lambda f, m: None)
    step(0.0, "existing sites: environments and radii")
    existing = stack_sites(chunked.site_arrays(proj, band=settings.band, indoor=settings.indoor, network=settings.network),
                     prior)
    before = chunked.coverage(proj, sites=existing, mapper=mapper, return_cells=True, band=settings.band,
                              indoor=settings.indoor, network=settings.network,
                              progress=lambda f, m: step(0.02 + 0.33 * f, m))
    alloc = _allocate(proj, req, before)
    zones = constraint_set(proj)
    plans = _county_plans(proj, settings, alloc, before, mapper=mapper, progress=progress, zones=zones)
    xy = np.concatenate([q.xy for q in plans]) if plans else np.zeros((0, 2))
    stype = np.concatenate([q.site_type for q in plans]).astype(str)
    srad = np.concatenate([q.radius for q in plans]) if plans else np.zeros((0, len(proj.radio_params.environments)))
    senv = np.concatenate([q.environment for q in plans]).astype(np.int8)
    gains = np.concatenate([q.gain for q in plans])
    dist = np.concatenate([np.full(len(q.xy), q.district, dtype=np.int64) for q in plans])
    after = chunked.coverage(proj, sites=SiteArrays(xy, srad, dist, stype, senv), mapper=mapper, prior=before,
                             band=settings.band, indoor=settings.indoor, network=settings.network,
                             progress=lambda f, m: step(0.75 + 0.24 * f, m))

    n = len(proj.districts)
    cells = before.table["population"].to_numpy(dtype=float)
    cb = before.table["covered_population"].to_numpy(dtype=float)
    ca = after.table["covered_population"].to_numpy(dtype=float)
    binding = req.binding if req.binding is not None else np.full(n, req.quota_mode == "district")
    table = district_table(proj, population=req.population, existing=req.existing_per_district,
                           new=np.bincount(dist, minlength=n).astype(np.int64),
                           target_per_10k=req.district_target if req.district_target is not None else
                           req.target_per_10k, cell_population=cells, covered_before=cb, covered_after=ca,
                           binding=binding)
    totals = plan_totals(proj, table, year=req.year, basis=req.basis, cell_population=cells, covered_before=cb,
                         covered_after=ca, target_per_10k=req.target_per_10k, stations_target=req.stations_target,
                         applies_to=req.quota_mode)
    capped = [proj.district_names[q.district] for q in plans if q.time_capped]
    notes = (f"{CAPPED_NOTE}; districts: {', '.join(capped)}",) if capped else ()
    objective = float(sum(q.objective for q in plans))
    gap = relative_gap(objective, float(sum(q.bound for q in plans)))
    runtime = time.perf_counter() - t0
    heights = site_heights(stype, senv, params=proj.radio_params)
    soft = zones.check(xy, heights)
    params = proj.siting.params
    cost = np.array([params.cost("new", str(t)) for t in stype]) + soft.extra_cost
    summary = PlanSummary(
        **vars(totals), method="greedy", status="greedy", gap=gap, objective=objective, runtime_s=round(runtime, 3),
        band=settings.band, users=settings.users, budget_new=req.p, quotas=tuple(int(q) for q in req.quotas),
        allocation=tuple(int(a) for a in alloc), candidates=int(sum(q.candidates for q in plans)),
        candidates_modelled=True, engine="chunked" if mapper is None else "chunked (mapper)", meet=req.meet,
        candidate_source="population", network=settings.network, radio_digest=proj.radio_params.digest,
        notes=notes, siting=_siting(proj, stype, cost, soft, objective))
    sites = planned_sites_frame(proj, xy=xy, site_type=stype, radius_m=own_radius(srad, senv), environment=senv,
                                district=dist, gains=gains, source=GENERATED, modelled=True,
                                kind=np.full(len(xy), "new"), cost=cost, conflicts=soft.labels(), build_year=req.year)
    tot_w = float(cells.sum()) or 1.0
    placement = PlacementResult(selected=np.arange(len(xy), dtype=np.int64), objective=objective,
                                covered_share=float(ca.sum()) / tot_w, method="greedy", status="greedy", gap=gap,
                                runtime_s=runtime, per_group=np.bincount(dist, minlength=n).astype(np.int64),
                                work=sum(q.work for q in plans), time_capped=bool(capped), notes=notes)
    step(1.0, "done")
    return PlanResult(sites=sites, districts=table, summary=summary, placement=placement, settings=settings,
                      conflicts=soft.table(sites["SITE_ID"].to_numpy(), heights))


def _siting(proj: Project, stype: NDArray[np.str_], cost: NDArray[np.float64], soft: SiteConflicts,
            objective: float) -> SitingSummary:
    """The siting summary of county-by-county sites: all new builds on generated candidates."""
    n = stype.size
    return siting_summary(kind=np.full(n, "new"), source=np.full(n, GENERATED), cost=cost, new_cost=cost,
                          families={k: v.family for k, v in proj.siting.params.kinds.items()}, cost_weight=0.0,
                          objective=objective, soft_sites=int(np.unique(soft.site).size),
                          soft_conflicts=int(soft.site.size), hard_sites=0,
                          candidates={"generator": "population (per district)"})

