"""Edge data-centre placement within a latency circle, on telecom and power-grid sites.

The plans ask for 32 edge data centres in Xiamen (300 in Fujian) "in ports,
industrial parks, hospitals, schools and transport hubs", built on telecom and
power-grid sites ("统筹整合利用电信、电力等站点资源"), and a 1 ms urban latency
circle. :mod:`geoplan.latency` turns the latency budget into a straight-line
radius; :func:`place_edge` builds the candidates and demand of a project and
chooses the sites with :func:`geoplan.placement.median_cover`: first cover the
most demand weight within the radius, then minimise the weighted mean latency
(p-median) or the worst one (p-center). Existing (and planned) data centres are
fixed sites and count toward the total. The result reports the chosen sites'
racks and kW against the plan's rack target and says whether the latency
circle binds, and what decides the placement when it does not
(:mod:`geoplan.edge_siting`).
"""

from __future__ import annotations

import dataclasses
import logging
import operator
from dataclasses import dataclass, field, replace
from time import perf_counter
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.spatial import cKDTree

from ._json import plain, records
from .edge_siting import (
    CapacitySummary,
    LatencyBinding,
    capacity_summary,
    edge_site_arrays,
    latency_binding,
    site_racks,
)
from .errors import ConfigError, InfeasibleError
from .latency import DEFAULT_LATENCY, LatencyModel
from .placement.median import METHODS, OBJECTIVES, MedianResult, median_cover
from .project import Project, points_in_districts
from .siting.constraints import constraint_set
from .targets.plans import Plan
from .targets.scope import plan_of

__all__ = [
    "OBJECTIVES",
    "METHODS",
    "CANDIDATE_MODES",
    "EdgeSummary",
    "EdgePlan",
    "EdgeSection",
    "place_edge",
    "populated_block_cells",
    "check_section",
]

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())

#: Where edge data centres may go besides existing ones: ``sites`` (the project's ``[edge_sites.*]``
#: telecom and power-grid sites), ``demand`` (demand points and populated blocks), ``all``, or ``auto``
#: (``sites`` when the project has edge-site inventories, else ``demand``).
CANDIDATE_MODES: tuple[str, ...] = ("auto", "sites", "demand", "all")


# --------------------------------------------------------------------------------------------------
# Project level
# --------------------------------------------------------------------------------------------------


def populated_block_cells(x: ArrayLike, y: ArrayLike, weights: ArrayLike, *, spacing_m: float,
                          min_weight: float = 0.0) -> NDArray[np.int64]:
    """The heaviest point of each ``spacing_m`` square block whose total weight reaches ``min_weight``.

    A grid of candidates that always sits on populated cells (never in the sea
    or on an empty hill), one per block.

    Examples
    --------
    >>> populated_block_cells([10, 20, 1500], [10, 20, 10], [1.0, 3.0, 2.0], spacing_m=1000).tolist()
    [1, 2]
    """
    xs, ys, w = (np.asarray(v, dtype=np.float64) for v in (x, y, weights))
    if not (np.isfinite(spacing_m) and spacing_m > 0):
        raise ConfigError(f"candidate spacing must be a positive number of metres, got {spacing_m!r}")
    if xs.size == 0:
        return np.zeros(0, dtype=np.int64)
    bx = np.floor((xs - xs.min()) / spacing_m).astype(np.int64)
    by = np.floor((ys - ys.min()) / spacing_m).astype(np.int64)
    block = by * (int(bx.max()) + 1) + bx
    _, inv = np.unique(block, return_inverse=True)
    sums = np.bincount(inv, weights=w)
    order = np.lexsort((-w, inv))  # by block, heaviest first
    first = order[np.r_[True, inv[order][1:] != inv[order][:-1]]]
    keep = first[sums[inv[first]] >= min_weight]
    return np.sort(keep).astype(np.int64)


@dataclass(frozen=True)
class EdgeSummary:
    """Totals and parameters of an edge placement (the ``summary`` of ``geoplan.edge/1``).

    Latencies named ``*_latency_ms`` are one way, ``max_rtt_ms`` round trip;
    ``covered_share`` uses the budget as ``latency_model["reading"]`` says.
    ``kind`` is the distance objective (``median`` or ``center``) and
    ``objective`` its value in metres (weighted mean or worst distance).
    """

    count: int
    existing: int
    planned_kept: int
    new: int
    latency_budget_ms: float
    latency_model: dict[str, Any]
    fibre_km: float
    radius_km: float
    demand_points: int
    demand_weight: float
    covered_share: float
    uncovered_points: int
    uncovered_weight: float
    mean_latency_ms: float
    max_latency_ms: float
    max_rtt_ms: float
    latency_fields: str
    mean_distance_km: float
    max_distance_km: float
    population_within_share: float
    kind: str
    objective: float
    method: str
    status: str
    gap: float | None
    swaps: int
    candidates: int
    runtime_s: float
    modelled_layers: tuple[str, ...]
    candidates_by_kind: dict[str, int] = field(default_factory=dict)
    excluded_by_constraints: int = 0
    capacity: CapacitySummary | None = None
    latency_binding: LatencyBinding | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (``capacity``: racks and kW against the plan; ``latency_binding``: whether latency binds)."""
        d = plain(dataclasses.asdict(self))
        d["capacity"] = None if self.capacity is None else self.capacity.to_dict()
        d["latency_binding"] = None if self.latency_binding is None else self.latency_binding.to_dict()
        return d  # type: ignore[no-any-return]


@dataclass(frozen=True, eq=False)
class EdgePlan:
    """Edge data centres for a project: sites, latency per demand point, district counts.

    Attributes
    ----------
    sites : GeoDataFrame
        Chosen sites in EPSG:4490 with the ``edge_dc`` layer's fields (DC_ID,
        STATUS existing/planned, LAT_MS worst one-way latency to the demand it
        serves) and SOURCE (existing, planned, an edge-site inventory's name,
        demand_point, cell), KIND (telecom_office, substation, ..., demand_point,
        cell), RACKS and KW (capacity), NAME, XZQDM, XZQMC, N_SERVED, W_SERVED, MODELLED.
    demand : DataFrame
        One row per demand point: NAME, CATEGORY, WEIGHT, XZQDM, XZQMC, DC_ID
        (nearest site), DIST_KM, LAT_MS (one way), RTT_MS, WITHIN (inside the latency circle).
    districts : DataFrame
        Per district: sites, existing, new, demand points and weight,
        uncovered points and weight, weighted mean and worst one-way latency.
    summary : EdgeSummary
        Totals and parameters.
    cover : MedianResult
        The array-level result.
    """

    sites: gpd.GeoDataFrame
    demand: pd.DataFrame
    districts: pd.DataFrame
    summary: EdgeSummary
    cover: MedianResult
    latency: LatencyModel = field(default=DEFAULT_LATENCY)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: summary, per-district table, sites and per-demand latency."""
        sites = pd.DataFrame(self.sites.drop(columns="geometry"))
        sites["lon"] = self.sites.geometry.x.round(6)
        sites["lat"] = self.sites.geometry.y.round(6)
        return {"schema": "geoplan.edge/1", "summary": self.summary.to_dict(),
                "districts": records(self.districts), "sites": records(sites),
                "demand": records(self.demand)}


def _modelled(proj: Project, keys: tuple[str, ...]) -> tuple[str, ...]:
    """The modelled layers among ``keys``; with ``population``, also the modelled edge-site inventories."""
    out = tuple(k for k in keys if k in proj.layers and proj.is_modelled(k))
    if "population" in keys:
        out += tuple(ly.config.label for ly in proj.siting.group("edge_sites") if ly.config.modelled)
    return out


@dataclass(frozen=True, eq=False)
class _Candidates:
    """Candidate sites: existing/planned data centres first (fixed), then edge sites, demand points, blocks."""

    xy: NDArray[np.float64]
    source: list[str]
    ids: list[str]
    names: list[str]
    n_fixed: int
    kind: NDArray[np.str_]
    racks: NDArray[np.float64]
    kw: NDArray[np.float64]
    assumed: NDArray[np.bool_]
    excluded: int = 0

    def subset(self, keep: NDArray[np.bool_]) -> _Candidates:
        k = np.flatnonzero(keep)
        return _Candidates(self.xy[k], [self.source[j] for j in k], [self.ids[j] for j in k],
                           [self.names[j] for j in k], int(keep[: self.n_fixed].sum()), self.kind[k], self.racks[k],
                           self.kw[k], self.assumed[k], self.excluded + int((~keep).sum()))


def _fixed_candidates(proj: Project, keep_planned: bool) -> tuple[NDArray[np.float64], list[str], list[str], NDArray[
        np.float64], NDArray[np.float64]]:
    if proj.layer("edge_dc") is None:
        return np.zeros((0, 2)), [], [], np.zeros(0), np.zeros(0)
    dc = proj.metric("edge_dc")
    status = dc["STATUS"].astype(str).to_numpy()
    dc = dc[(status == "existing") | ((status == "planned") & keep_planned)]
    num = {c: pd.to_numeric(dc[c], errors="coerce").to_numpy(dtype=float) if c in dc.columns
           else np.full(len(dc), np.nan) for c in ("RACKS", "KW")}
    return (np.column_stack([dc.geometry.x.to_numpy(), dc.geometry.y.to_numpy()]), dc["STATUS"].astype(str).tolist(),
            dc["DC_ID"].astype(str).tolist(), num["RACKS"], num["KW"])


def _edge_candidates(proj: Project, demand_xy: NDArray[np.float64], demand_names: list[str], *, keep_planned: bool,
                     spacing_m: float, min_block_population: float, mode: str, min_racks: float) -> _Candidates:
    """Existing DCs (fixed), then edge sites and/or demand points and populated blocks; hard zones left out."""
    params = proj.siting.params
    fxy, fsrc, fids, fr, fk = _fixed_candidates(proj, keep_planned)
    sites = edge_site_arrays(proj)
    if mode == "auto":
        mode = "sites" if len(sites) else "demand"
    if mode in ("sites", "all") and not len(sites):
        raise ConfigError(f"edge candidates '{mode}' need edge-site inventories (telecom offices, substations). Fix: "
                          "add [edge_sites.<name>] layers to the project file, or use --candidates demand")
    xy, src, names, kind = [fxy], list(fsrc), [""] * len(fsrc), [np.full(len(fsrc), "data_centre")]
    racks, kw = [fr], [fk]
    if mode in ("sites", "all"):
        xy.append(sites.xy)
        src += sites.source.tolist()
        names += [str(n) for n in sites.name]
        kind.append(sites.kind)
        racks.append(sites.racks)
        kw.append(sites.kw)
    if mode in ("demand", "all"):
        d = proj.demand
        blocks = populated_block_cells(d.x, d.y, d.pop, spacing_m=spacing_m, min_weight=min_block_population)
        n = len(demand_xy) + blocks.size
        xy += [demand_xy, np.column_stack([d.x[blocks], d.y[blocks]])]
        src += ["demand_point"] * len(demand_xy) + ["cell"] * blocks.size
        names += demand_names + [""] * blocks.size
        kind.append(np.array(["demand_point"] * len(demand_xy) + ["cell"] * blocks.size))
        racks.append(np.full(n, np.nan))
        kw.append(np.full(n, np.nan))
    k = np.concatenate(kind).astype(str)
    r, w, assumed = site_racks(np.where(np.isin(k, ["demand_point", "cell"]), "other", k), np.concatenate(racks),
                               np.concatenate(kw), params)
    cands = _Candidates(np.vstack(xy), src, fids + [""] * (len(src) - len(fids)), names, len(fsrc), k, r, w, assumed)
    free = np.arange(len(src)) >= cands.n_fixed
    hard = constraint_set(proj).check(cands.xy, np.zeros(len(src))).hard
    return cands.subset(~free | (~hard & (r >= min_racks)))


def _check_count(proj: Project, count: int) -> int:
    if proj.layer("edge_demand") is None:
        raise ConfigError("the project has no 'edge_demand' layer (ports, industrial parks, hospitals, schools, "
                          "transport hubs). Fix: add [layers.edge_demand] to the project file")
    try:
        count = operator.index(count)
    except TypeError:
        raise ConfigError(f"count must be a whole number of data centres, got {count!r}") from None
    if count < 1:
        raise ConfigError(f"count must be >= 1, got {count}. Fix: pass e.g. --count 32")
    return count


def _dc_ids(cands: _Candidates, sel: NDArray[np.int64]) -> tuple[list[str], int]:
    """DC_ID of each chosen site: its own for existing/planned ones, EDC001... for new ones."""
    n_new = 0
    out = []
    for j in sel.tolist():
        if cands.ids[j]:
            out.append(cands.ids[j])
        else:
            n_new += 1
            out.append(f"EDC{n_new:03d}")
    return out, n_new


def _frames(proj: Project, cands: _Candidates, res: MedianResult, weights: NDArray[np.float64],
            latency: LatencyModel) -> tuple[gpd.GeoDataFrame, pd.DataFrame, int]:
    """The chosen sites (EPSG:4490) and the per-demand-point table."""
    dm = proj.metric("edge_demand")
    one_way, rtt = replace(latency, round_trip=False), replace(latency, round_trip=True)
    sel = res.selected
    codes = np.array(proj.district_codes + [""], dtype=object)
    dnames = np.array(proj.district_names + ["(outside)"], dtype=object)
    site_pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(cands.xy[sel, 0], cands.xy[sel, 1]), crs=proj.metric_crs)
    site_dist = points_in_districts(site_pts, proj.metric("districts"))
    dem_dist = proj.district_of("edge_demand")
    lat = one_way.latency_ms(res.distance_m)
    slot = {int(j): i for i, j in enumerate(sel)}
    served = np.array([slot[int(j)] for j in res.nearest], dtype=np.int64)
    dc_ids, n_new = _dc_ids(cands, sel)
    worst = np.full(sel.size, np.nan)
    if served.size:
        np.fmax.at(worst, served, lat)
    modelled = _modelled(proj, ("edge_demand", "edge_dc", "population"))
    sites = gpd.GeoDataFrame({
        "DC_ID": dc_ids, "STATUS": ["existing" if cands.source[j] == "existing" else "planned" for j in sel],
        "LAT_MS": np.round(worst, 4), "SOURCE": [cands.source[j] for j in sel], "KIND": cands.kind[sel],
        "RACKS": np.round(cands.racks[sel], 1), "KW": np.round(cands.kw[sel], 1), "NAME": [cands.names[j] for j in sel],
        "XZQDM": codes[site_dist], "XZQMC": dnames[site_dist],
        "N_SERVED": np.bincount(served, minlength=sel.size).astype(np.int64),
        "W_SERVED": np.bincount(served, weights=weights, minlength=sel.size).round(3),
        "MODELLED": np.full(sel.size, int(bool(modelled)), dtype=np.int64),
    }, geometry=site_pts.geometry.to_numpy(), crs=proj.metric_crs).to_crs(4490)
    demand = pd.DataFrame({
        "NAME": dm["NAME"].astype(str).to_numpy(), "CATEGORY": dm["CATEGORY"].astype(str).to_numpy(),
        "WEIGHT": weights, "XZQDM": codes[dem_dist], "XZQMC": dnames[dem_dist],
        "DC_ID": np.array(dc_ids, dtype=object)[served] if served.size else np.array([], dtype=object),
        "DIST_KM": np.round(res.distance_m / 1000.0, 3), "LAT_MS": np.round(lat, 4),
        "RTT_MS": np.round(rtt.latency_ms(res.distance_m), 4), "WITHIN": res.covered,
    })
    return sites, demand, n_new


def _edge_summary(proj: Project, cands: _Candidates, res: MedianResult, weights: NDArray[np.float64], *,
                  count: int, n_new: int, latency_ms: float, latency: LatencyModel, radius: float,
                  started: float) -> EdgeSummary:
    one_way, rtt = replace(latency, round_trip=False), replace(latency, round_trip=True)
    sel = res.selected
    return EdgeSummary(
        count=count, existing=int(sum(cands.source[j] == "existing" for j in sel)),
        planned_kept=int(sum(cands.source[j] == "planned" for j in sel)), new=n_new,
        latency_budget_ms=float(latency_ms), latency_model=latency.to_dict(),
        fibre_km=round(latency.fibre_km(latency_ms), 3), radius_km=round(radius / 1000.0, 3),
        demand_points=len(weights), demand_weight=round(float(weights.sum()), 3),
        covered_share=round(res.covered_share, 6), uncovered_points=int((~res.covered).sum()),
        uncovered_weight=round(float(weights[~res.covered].sum()), 3),
        mean_latency_ms=round(float(one_way.latency_ms(res.mean_distance_m)), 4),
        max_latency_ms=round(float(one_way.latency_ms(res.max_distance_m)), 4),
        max_rtt_ms=round(float(rtt.latency_ms(res.max_distance_m)), 4),
        latency_fields="LAT_MS, mean_latency_ms, max_latency_ms, mean_lat_ms, max_lat_ms are one way; RTT_MS and "
                       "max_rtt_ms round trip; WITHIN uses the budget as latency_model.reading says",
        mean_distance_km=round(res.mean_distance_m / 1000.0, 3), max_distance_km=round(res.max_distance_m / 1000.0, 3),
        population_within_share=round(_population_within(proj, cands.xy[sel], radius), 6),
        kind=res.kind, objective=round(float(res.objective), 3), method=res.method, status=res.status,
        gap=None if res.gap is None else round(float(res.gap), 6), swaps=res.swaps, candidates=int(cands.xy.shape[0]),
        runtime_s=round(perf_counter() - started, 3),
        modelled_layers=_modelled(proj, ("edge_demand", "edge_dc", "population")))


def place_edge(proj: Project, *, count: int = 32, latency_ms: float = 1.0,
               latency: LatencyModel = DEFAULT_LATENCY, objective: str = "median", method: str = "greedy",
               candidate_spacing_m: float = 2000.0, min_block_population: float = 1000.0,
               keep_planned: bool = True, time_limit_s: float = 60.0, candidates: str = "auto",
               min_racks: float = 0.0) -> EdgePlan:
    """Place ``count`` edge data centres for the project's ``edge_demand`` points.

    Candidates are the project's ``edge_dc`` sites (``existing`` ones always
    fixed, ``planned`` ones fixed when ``keep_planned``; fixed sites count toward
    ``count``, the plans' 32 being data centres built by 2025) and, by
    ``candidates``: its ``[edge_sites.*]`` telecom and power-grid sites
    (``sites``), or the demand points themselves and the most populous cell of
    each ``candidate_spacing_m`` block with at least ``min_block_population``
    residents (``demand``), or both (``all``); ``auto`` takes the sites when the
    project has any. Candidates in hard constraint zones, and sites with fewer
    than ``min_racks`` standard racks, are left out.

    Parameters
    ----------
    proj : Project
        Needs an ``edge_demand`` layer (NAME, CATEGORY, WEIGHT).
    count : int
        Edge data centres in total, existing included.
    latency_ms : float
        Latency budget of the circle, read one way or round trip as ``latency`` says.
    latency : LatencyModel
        Fibre delay, route factor, equipment delay and reading.
    objective, method, time_limit_s
        See :func:`geoplan.placement.median_cover`.
    candidate_spacing_m, min_block_population : float
        Block size and population floor of the cell candidates.
    keep_planned : bool
        Keep ``planned`` sites of the ``edge_dc`` layer as fixed sites.
    candidates : {"auto", "sites", "demand", "all"}
        Where new data centres may go (:data:`CANDIDATE_MODES`).
    min_racks : float
        Leave out candidate sites with room for fewer standard racks.

    Returns
    -------
    EdgePlan
        With ``summary.capacity`` (racks and kW against the plan's rack target) and
        ``summary.latency_binding`` (whether the latency circle changes the plan).

    Raises
    ------
    ConfigError
        No ``edge_demand`` layer.
    InfeasibleError
        More fixed sites than ``count``, or a budget used up by equipment delay.

    Examples
    --------
    >>> import geoplan as gp
    >>> plan = place_edge(gp.load_project(), count=32)
    >>> len(plan.sites), plan.summary.uncovered_weight, plan.summary.radius_km, plan.summary.latency_binding.binds
    (32, 0.0, 120.0, False)
    """
    started = perf_counter()
    count = _check_count(proj, count)
    radius = latency.radius_m(latency_ms)
    dm = proj.metric("edge_demand")
    dxy = np.column_stack([dm.geometry.x.to_numpy(), dm.geometry.y.to_numpy()])
    weights = dm["WEIGHT"].to_numpy(dtype=float)
    if candidates not in CANDIDATE_MODES:
        raise ConfigError(f"unknown edge candidates {candidates!r}. Fix: use one of {', '.join(CANDIDATE_MODES)}")
    cands = _edge_candidates(proj, dxy, dm["NAME"].astype(str).tolist(), keep_planned=keep_planned,
                             spacing_m=candidate_spacing_m, min_block_population=min_block_population,
                             mode=candidates, min_racks=min_racks)
    if cands.n_fixed > count:
        raise InfeasibleError(f"the project's edge_dc layer has {cands.n_fixed} existing"
                              f"{' and planned' if keep_planned else ''} data centres, more than count = {count}. "
                              "Fix: raise --count" + (" or do not keep planned ones (--no-keep-planned)"
                                                      if keep_planned else ""))
    if count > len(cands.source):
        raise InfeasibleError(f"{count} edge data centres asked for but only {len(cands.source)} candidate sites "
                              f"({', '.join(f'{k} {v}' for k, v in _kind_counts(cands.kind).items())}) remain "
                              "after the constraints and --min-racks. Fix: lower --count or --min-racks, or add "
                              "candidates (--candidates all, more edge-site inventories)")
    D = np.hypot(dxy[:, 0, None] - cands.xy[None, :, 0], dxy[:, 1, None] - cands.xy[None, :, 1])
    fixed = np.arange(cands.n_fixed, dtype=np.int64)
    res = median_cover(D, weights, p=count, radius_m=radius, objective=objective, method=method,
                       fixed=fixed, time_limit_s=time_limit_s)
    free = res if radius >= float(D.max(initial=0.0)) else median_cover(
        D, weights, p=count, radius_m=float(D.max(initial=0.0)), objective=objective, method=method, fixed=fixed,
        time_limit_s=time_limit_s)
    sites, demand, n_new = _frames(proj, cands, res, weights, latency)
    summary = _edge_summary(proj, cands, res, weights, count=count, n_new=n_new, latency_ms=latency_ms,
                            latency=latency, radius=radius, started=started)
    sel = res.selected
    kinds = ", ".join(f"{k} ({n})" for k, n in _kind_counts(cands.kind).items())
    summary = replace(
        summary, candidates_by_kind=_kind_counts(cands.kind), excluded_by_constraints=cands.excluded,
        capacity=capacity_summary(cands.kind[sel], cands.racks[sel], cands.kw[sel], cands.assumed[sel],
                                  plan=_own_plan(proj), params=proj.siting.params),
        latency_binding=latency_binding(
            budget_ms=float(latency_ms), latency=latency, radius_m=radius, farthest_pair_m=float(D.max(initial=0.0)),
            unconstrained_max_m=free.max_distance_m, plan_max_m=res.max_distance_m, objective=objective,
            candidates_note=f"{len(cands.source)} candidate sites: {kinds}", inside_share=float(res.covered_share),
            outside_points=int((~res.covered).sum())))
    return EdgePlan(sites=sites, demand=demand, districts=_edge_districts(proj, sites, demand), summary=summary,
                    cover=res, latency=latency)


def _own_plan(proj: Project) -> Plan | None:
    """The project's targets when they are its own area's (a parent area's rack figure is not the city's)."""
    t = proj.targets
    return t if t is not None and t.xzqdm == proj.area_code else None


def _kind_counts(kind: NDArray[np.str_]) -> dict[str, int]:
    keys, n = np.unique(np.asarray(kind, dtype=str), return_counts=True)
    return {str(k): int(v) for k, v in zip(keys, n, strict=True)}


def _population_within(proj: Project, site_xy: NDArray[np.float64], radius_m: float) -> float:
    """Share of the residents within ``radius_m`` of any site."""
    d = proj.demand
    if site_xy.shape[0] == 0 or d.pop.sum() <= 0:
        return 0.0
    dist, _ = cKDTree(site_xy).query(d.xy, k=1, distance_upper_bound=radius_m * (1 + 1e-12))
    return float(d.pop[np.isfinite(dist)].sum() / d.pop.sum())


def _edge_districts(proj: Project, sites: gpd.GeoDataFrame, demand: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for code, name in zip(proj.district_codes + [""], proj.district_names + ["(outside)"], strict=True):
        s = sites[sites["XZQDM"] == code]
        q = demand[demand["XZQDM"] == code]
        if code == "" and s.empty and q.empty:
            continue
        w = q["WEIGHT"].to_numpy()
        rows.append({
            "XZQDM": code, "XZQMC": name, "sites": len(s), "existing": int((s["SOURCE"] == "existing").sum()),
            "new": int((~s["SOURCE"].isin(["existing", "planned"])).sum()),
            "demand_points": len(q), "demand_weight": round(float(w.sum()), 3),
            "uncovered_points": int((~q["WITHIN"]).sum()),
            "uncovered_weight": round(float(w[~q["WITHIN"].to_numpy()].sum()), 3),
            "mean_lat_ms": round(float(w @ q["LAT_MS"].to_numpy() / w.sum()), 4) if w.sum() > 0 else float("nan"),
            "max_lat_ms": float(q["LAT_MS"].max()) if len(q) else float("nan"),
        })
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class LatencyCircle:
    """The plan's latency circle around the project's data centres (part of :class:`EdgeSection`).

    Optional figures are ``None`` where they do not apply and left out of :meth:`to_dict`.
    """

    target_ms: float | None
    quote: str | None
    model: dict[str, Any]
    radius_km: float | None = None
    population_within_share: float | None = None
    demand_within_share: float | None = None
    demand_outside_points: int | None = None
    note: str | None = None
    extent_km: float | None = None
    can_bind: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; figures that do not apply are left out."""
        d = plain(dataclasses.asdict(self))
        return {k: v for k, v in d.items() if v is not None or k in ("target_ms", "quote")}


@dataclass(frozen=True)
class EdgeSection:
    """The edge data-centre target against the project's ``edge_dc`` layer (``geoplan check``).

    ``shortfall`` and ``meets_target`` are ``None`` (and left out of :meth:`to_dict`)
    when the plan states no count.
    """

    indicator: str
    plan: str
    target: int | None
    target_year: int | None
    quote: str | None
    existing: int
    planned: int
    total: int
    shortfall: int | None
    meets_target: bool | None
    latency: LatencyCircle
    modelled_layers: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (the ``edge_dc`` section of ``geoplan.check/1``)."""
        d: dict[str, Any] = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        if self.target is None:
            d.pop("shortfall")
            d.pop("meets_target")
        d["latency"] = self.latency.to_dict()
        return plain(d)  # type: ignore[no-any-return]


def _latency_circle(proj: Project, plan: Plan, xy: NDArray[np.float64], latency: LatencyModel) -> LatencyCircle:
    lat_t = plan.text_target("latency_ms")
    base = LatencyCircle(target_ms=None if lat_t is None else float(lat_t.value),
                         quote=None if lat_t is None else lat_t.quote, model=latency.to_dict())
    if lat_t is None:
        return base
    radius = latency.radius_m(float(lat_t.value))
    d = proj.demand
    extent = float(np.hypot(*(d.xy.max(axis=0) - d.xy.min(axis=0)))) if len(d.xy) else 0.0
    reach = (f"the {radius / 1000:,.0f} km radius spans the project's populated area ({extent / 1000:,.0f} km "
             "corner to corner): it cannot decide where data centres go; distance to demand does"
             if radius >= extent else None)
    base = replace(base, extent_km=round(extent / 1000, 3), can_bind=radius < extent, note=reach)
    if not xy.shape[0]:
        none = "no edge data centres in the project (no edge_dc layer): nothing is inside the circle yet"
        return replace(base, radius_km=round(radius / 1000.0, 3), population_within_share=0.0,
                       note=none if reach is None else f"{none}; {reach}")
    out = replace(base, radius_km=round(radius / 1000.0, 3),
                  population_within_share=round(_population_within(proj, xy, radius), 6))
    if proj.layer("edge_demand") is not None:
        dm = proj.metric("edge_demand")
        w = dm["WEIGHT"].to_numpy(dtype=float)
        dist, _ = cKDTree(xy).query(np.column_stack([dm.geometry.x, dm.geometry.y]), k=1)
        inside = dist <= radius
        out = replace(out, demand_within_share=round(float(w[inside].sum() / w.sum()), 6) if w.sum() > 0 else 1.0,
                      demand_outside_points=int((~inside).sum()))
    return out


def check_section(proj: Project, *, plan: Plan | str | None = None, year: int = 2025,
                  latency: LatencyModel = DEFAULT_LATENCY) -> EdgeSection:
    """The edge data-centre and latency-circle targets against the project's ``edge_dc`` layer.

    For ``geoplan check``: the plan's edge-DC count (a 2025 target) against
    existing and planned sites, and the share of ``edge_demand`` weight and of
    residents inside the plan's latency circle around them.

    Examples
    --------
    >>> import geoplan as gp
    >>> sec = check_section(gp.load_project(), plan="xiamen", year=2025)
    >>> sec.target, sec.latency.target_ms, sec.latency.radius_km
    (32, 1.0, 120.0)
    """
    p = plan_of(proj, plan)
    p.check_year(year)
    tgt = p.text_target("edge_dc")
    existing = planned = 0
    xy = np.zeros((0, 2))
    if proj.layer("edge_dc") is not None:
        dc = proj.metric("edge_dc")
        st = dc["STATUS"].astype(str)
        existing, planned = int((st == "existing").sum()), int((st == "planned").sum())
        xy = np.column_stack([dc.geometry.x.to_numpy(), dc.geometry.y.to_numpy()])
    target = None if tgt is None else int(tgt.value)
    return EdgeSection(
        indicator="edge_dc", plan=p.key, target=target, target_year=None if tgt is None else int(tgt.year),
        quote=None if tgt is None else tgt.quote, existing=existing, planned=planned, total=existing + planned,
        shortfall=None if target is None else max(target - existing - planned, 0),
        meets_target=None if target is None else existing + planned >= target,
        latency=_latency_circle(proj, p, xy, latency), modelled_layers=_modelled(proj, ("edge_demand", "edge_dc")))
