"""What a plan of new sites achieves: typed results, per-district tables and the planned-sites layer.

Both engines end here: given where the new sites are, how many stations each
district has and how much of its population is covered before and after,
:func:`district_table` and :func:`plan_totals` build the per-district table
and the city (or province) totals, and :func:`planned_sites_frame` the
``planned_sites`` layer, with one schema whichever engine placed the sites.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from .. import radio
from .._json import plain, records
from ..project import Project
from ..siting.constraints import empty_conflicts
from ..targets import density
from ._result import PlacementResult
from ._steps import gain_rank
from .costing import SitingSummary
from .settings import PlanSettings

__all__ = ["Totals", "CapacityTotals", "DistrictCapacity", "PlanSummary", "PlanResult", "Evaluation",
           "district_table", "plan_totals", "capacity_totals", "planned_sites_frame", "PLANNED_SITE_FIELDS"]

#: Fields of the ``planned_sites`` layer every engine writes, in order.
PLANNED_SITE_FIELDS: tuple[str, ...] = ("SITE_ID", "SITE_TYPE", "RANK", "BUILD_YEAR", "GAIN_POP", "SOURCE", "KIND",
                                        "COST", "CONFLICTS", "RADIUS_M", "RADIO_ENV", "XZQDM", "XZQMC", "MODELLED")


@dataclass(frozen=True)
class CapacityTotals:
    """Busy-hour capacity of a set of stations (:mod:`geoplan.capacity`): what they carry and what they cannot.

    ``penetration`` is the plan's 5G user share of ``year``; ``demand_mbps`` the
    busy-hour downlink demand of the covered population; ``unserved_mbps`` what
    overloaded sites cannot carry; ``limited_*`` the capacity-limited cells, their
    residents and districts; ``overloaded_sites`` the sites whose load exceeds
    their usable capacity.
    """

    year: int
    penetration: float
    demand_mbps: float
    unserved_mbps: float
    limited_cells: int
    limited_population: float
    limited_districts: int
    overloaded_sites: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return plain(dataclasses.asdict(self))  # type: ignore[no-any-return]


@dataclass(frozen=True, eq=False)
class DistrictCapacity:
    """Per-district capacity figures (arrays in district order) and the totals."""

    demand_mbps: NDArray[np.float64]
    unserved_mbps: NDArray[np.float64]
    limited_cells: NDArray[np.int64]
    limited_population: NDArray[np.float64]
    totals: CapacityTotals


@dataclass(frozen=True)
class Totals:
    """City (or province) totals of a set of stations: density against the target and coverage.

    Districts without statistics (``NO_STATS``, e.g. 金门县) are left out of every total.
    Coverage is the population-weighted covered share of the demand cells;
    ``capacity`` the busy-hour capacity figures (``None`` when the plan states no
    5G user penetration).
    ``area_required`` is what the area's density target asks of its total;
    ``stations_target`` the plan's station count for the year (``None`` when it
    states none); ``meets_density`` whether the density target is met where it
    binds (the area's total, and the districts' where they bind);
    ``meets_count`` whether the station count is (``None`` without one).
    """

    year: int
    target_per_10k: float
    population: float
    population_basis: dict[str, Any]
    existing: int
    new: int
    stations: int
    per_10k: float | None
    districts_meeting_target: int
    districts: int
    districts_without_statistics: tuple[str, ...]
    coverage_before: float | None
    coverage_after: float | None
    covered_population_before: float
    covered_population_after: float
    capacity: CapacityTotals | None = field(default=None, kw_only=True)
    area_required: int = field(default=0, kw_only=True)
    stations_target: int | None = field(default=None, kw_only=True)
    applies_to: str = field(default="area", kw_only=True)
    meets_density: bool = field(default=False, kw_only=True)
    meets_count: bool | None = field(default=None, kw_only=True)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (the ``summary`` of ``geoplan.place_sites/1`` without the solver fields)."""
        return plain(dataclasses.asdict(self))  # type: ignore[no-any-return]


@dataclass(frozen=True)
class PlanSummary(Totals):
    """:class:`Totals` of a placement, with how it was made (solver, settings, budget).

    ``network``, ``band`` and ``users`` say what every coverage figure refers to
    (the operator network, the band of the new sites, indoor or outdoor users);
    ``radio_digest`` names the radio parameters (:attr:`geoplan.radio_params.RadioParams.digest`).
    """

    method: str
    status: str
    gap: float | None
    objective: float
    runtime_s: float
    band: str
    users: str
    budget_new: int
    quotas: tuple[int, ...]
    allocation: tuple[int, ...]
    candidates: int
    candidates_modelled: bool
    engine: str
    network: str = field(default="any", kw_only=True)
    radio_digest: str = field(default="", kw_only=True)
    capacity_sites: int = field(default=0, kw_only=True)
    meet: str = field(default="density", kw_only=True)
    candidate_source: str = field(default="", kw_only=True)
    siting: SitingSummary | None = field(default=None, kw_only=True)
    #: What a user should know about how the plan was reached, e.g. that a time cap stopped the heuristics, so
    #: the plan may differ between runs (:attr:`geoplan.placement.PlacementResult.notes`).
    notes: tuple[str, ...] = field(default=(), kw_only=True)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (``siting``: what the new sites reuse, cost and save; see :class:`SitingSummary`)."""
        d = plain(dataclasses.asdict(self))
        d["siting"] = None if self.siting is None else self.siting.to_dict()
        return d  # type: ignore[no-any-return]


@dataclass(frozen=True, eq=False)
class Evaluation:
    """Density and coverage per district of a set of chosen sites (a what-if)."""

    districts: pd.DataFrame
    summary: Totals


@dataclass(frozen=True, eq=False)
class PlanResult:
    """New sites chosen for a project, with what they achieve.

    Attributes
    ----------
    sites : GeoDataFrame
        Planned sites (EPSG:4490) with the fields of :data:`PLANNED_SITE_FIELDS`.
    districts : DataFrame
        Per district: population, existing, new, total stations, per 10k, target, meets, coverage before/after.
    summary : PlanSummary
        Totals, solver status and gap, settings.
    placement : PlacementResult
        The optimiser's raw result (column indices into the context's candidates; for the
        county-by-county engine, indices into ``sites``).
    settings : PlanSettings
        The settings the plan was made with.
    conflicts : DataFrame
        The ``conflicts`` table (layer spec ``layers/conflicts.toml``): one row per planned
        site and constraint zone it lies in (soft ones; hard ones only for kept drawn sites).
    """

    sites: gpd.GeoDataFrame
    districts: pd.DataFrame
    summary: PlanSummary
    placement: PlacementResult
    settings: PlanSettings
    conflicts: pd.DataFrame = field(default_factory=empty_conflicts)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (layout ``geoplan.place_sites/1``, without the sites; with the conflicts table)."""
        return {"schema": "geoplan.place_sites/1", "summary": self.summary.to_dict(),
                "districts": records(self.districts), "conflicts": records(self.conflicts)}


def district_table(proj: Project, *, population: NDArray[Any], existing: NDArray[Any], new: NDArray[Any],
                   target_per_10k: float | NDArray[Any], cell_population: NDArray[Any], covered_before: NDArray[Any],
                   covered_after: NDArray[Any], binding: NDArray[Any] | None = None,
                   capacity: DistrictCapacity | None = None) -> pd.DataFrame:
    """Per-district stations, density against the target, population coverage before/after and capacity.

    ``population`` is the basis of the density target; ``target_per_10k`` one
    figure or one per district; ``binding`` whether it binds each district (a
    plan whose density target is one figure for the whole area shows the
    districts for reference). ``cell_population`` is the persons in the
    district's demand cells, of which ``covered_before`` and ``covered_after``
    are covered (population-weighted covered shares). The capacity columns:
    busy-hour ``demand_mbps`` (of the covered population after),
    ``unserved_mbps``, ``limited_cells``, ``limited_population`` and
    ``capacity_limited`` (a cell served by an overloaded site); empty (NaN,
    None) when ``capacity`` is not given. Districts without statistics show no
    population and no verdict.
    """
    d = density(population, existing + new, target_per_10k=target_per_10k)
    with np.errstate(divide="ignore", invalid="ignore"):
        cov_b = np.where(cell_population > 0, covered_before / cell_population, np.nan)
        cov_a = np.where(cell_population > 0, covered_after / cell_population, np.nan)
    table = pd.DataFrame({
        "XZQDM": proj.district_codes, "XZQMC": proj.district_names, "population": population,
        "existing": existing, "new": new, "stations": d.stations, "per_10k": d.per_10k,
        "target_per_10k": np.broadcast_to(np.asarray(target_per_10k, dtype=float), d.stations.shape),
        "shortfall": d.shortfall, "meets_target": d.meets,
        "binding": np.zeros(len(d.stations), dtype=bool) if binding is None else np.asarray(binding, dtype=bool),
        "coverage_before": cov_b, "coverage_after": cov_a,
    })
    if capacity is not None:
        table["demand_mbps"] = np.round(capacity.demand_mbps, 1)
        table["unserved_mbps"] = np.round(capacity.unserved_mbps, 3)
        table["limited_cells"] = capacity.limited_cells
        table["limited_population"] = np.round(capacity.limited_population, 1)
        table["capacity_limited"] = capacity.limited_cells > 0
    else:  # one schema whichever engine and plan: capacity not evaluated
        for col in ("demand_mbps", "unserved_mbps", "limited_cells", "limited_population"):
            table[col] = np.nan
        table["capacity_limited"] = None
    nostats = proj.no_statistics
    if nostats.any():
        table["population"] = table["population"].where(~nostats)
        table["meets_target"] = table["meets_target"].astype(object).where(~nostats, None)
    return table


def _share(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


def plan_totals(proj: Project, table: pd.DataFrame, *, year: int, basis: dict[str, Any],
                cell_population: NDArray[Any], covered_before: NDArray[Any], covered_after: NDArray[Any],
                target_per_10k: float | None = None, stations_target: int | None = None,
                applies_to: str = "area", capacity: CapacityTotals | None = None) -> Totals:
    """City (or province) totals of a :func:`district_table`, districts without statistics left out.

    ``target_per_10k`` is the area's density target (the table's first row's by default).
    """
    ok = ~proj.no_statistics
    pop = table["population"].to_numpy(dtype=float)
    stations = table["stations"].to_numpy(dtype=np.int64)
    target = (float(target_per_10k) if target_per_10k is not None else
              float(table["target_per_10k"].iloc[0]) if len(table) else float("nan"))
    city = density(np.array([pop[ok].sum()]), np.array([stations[ok].sum()]), target_per_10k=target)
    per = float(city.per_10k[0])
    tot_w = float(cell_population.sum())
    binds = table["binding"].to_numpy(dtype=bool) if "binding" in table.columns else np.zeros(len(table), bool)
    meets = table["meets_target"].to_numpy()
    districts_ok = all(bool(m) for m, b, x in zip(meets, binds, ok, strict=True) if b and x)
    return Totals(
        year=int(year), target_per_10k=target, population=float(pop[ok].sum()), population_basis=dict(basis),
        existing=int(table["existing"].to_numpy()[ok].sum()), new=int(table["new"].sum()),
        stations=int(stations[ok].sum()), per_10k=round(per, 2) if np.isfinite(per) else None,
        districts_meeting_target=int(table["meets_target"].to_numpy()[ok].astype(bool).sum()),
        districts=int(ok.sum()),
        districts_without_statistics=tuple(f"{c} {n}" for c, n, x in zip(proj.district_codes, proj.district_names,
                                                                          ok, strict=True) if not x),
        coverage_before=_share(float(covered_before.sum()), tot_w),
        coverage_after=_share(float(covered_after.sum()), tot_w),
        covered_population_before=round(float(covered_before.sum()), 0),
        covered_population_after=round(float(covered_after.sum()), 0),
        area_required=int(city.required[0]), stations_target=stations_target, applies_to=applies_to,
        meets_density=bool(city.meets[0]) and districts_ok,
        meets_count=None if stations_target is None else int(stations[ok].sum()) >= stations_target,
        capacity=capacity,
    )


def capacity_totals(*, year: int, penetration: float, demand_mbps: NDArray[Any], unserved_mbps: NDArray[Any],
                    limited_cells: NDArray[Any], limited_population: NDArray[Any],
                    overloaded_sites: int) -> DistrictCapacity:
    """:class:`DistrictCapacity` of per-district arrays, with their totals."""
    lim = np.asarray(limited_cells, dtype=np.int64)
    tot = CapacityTotals(year=int(year), penetration=round(float(penetration), 4),
                         demand_mbps=round(float(np.sum(demand_mbps)), 1),
                         unserved_mbps=round(float(np.sum(unserved_mbps)), 3), limited_cells=int(lim.sum()),
                         limited_population=round(float(np.sum(limited_population)), 1),
                         limited_districts=int((lim > 0).sum()), overloaded_sites=int(overloaded_sites))
    return DistrictCapacity(np.asarray(demand_mbps, dtype=float), np.asarray(unserved_mbps, dtype=float), lim,
                            np.asarray(limited_population, dtype=float), tot)


def planned_sites_frame(proj: Project, *, xy: NDArray[np.float64], site_type: NDArray[np.str_],
                        radius_m: NDArray[np.float64], environment: NDArray[np.int8],
                        district: NDArray[np.int64], gains: NDArray[np.float64], source: str | NDArray[Any],
                        modelled: bool | NDArray[np.bool_], build_year: int | NDArray[np.int64],
                        kind: NDArray[Any] | None = None, cost: NDArray[np.float64] | None = None,
                        conflicts: NDArray[Any] | None = None) -> gpd.GeoDataFrame:
    """The ``planned_sites`` layer (EPSG:4490): one schema, one SITE_ID format, one RANK meaning.

    Rows stay in the order the optimiser chose the sites (``placement.selected``).
    BUILD_YEAR is the target year each site is built for (one year, or one per
    site in a phased plan). RANK is the build priority: earlier BUILD_YEAR
    first, then :func:`~._steps.gain_rank` (1 = the largest newly covered
    population). RADIUS_M is the site's radius for receiving cells of its own
    environment (RADIO_ENV); cells of other environments are covered with their
    own radii. SITE_ID is ``P`` + the district code + the site's number within
    its district in RANK order, e.g. ``P35020300001``. SOURCE says where each
    site came from (an inventory's name, ``generated``, ``drawn``), KIND what it
    reuses (``new`` when nothing), COST its site cost (万元), CONFLICTS its soft
    siting conflicts.
    """
    years = np.broadcast_to(np.asarray(build_year, dtype=np.int64), np.shape(gains))
    by_gain = gain_rank(gains)
    rank = np.empty(by_gain.size, dtype=np.int64)
    rank[np.lexsort((by_gain, years))] = np.arange(1, by_gain.size + 1)
    codes = np.asarray(proj.district_codes + [""], dtype=object)
    names = np.asarray(proj.district_names + [""], dtype=object)
    dist = np.where(district >= 0, district, len(proj.district_codes))
    order = np.lexsort((rank, dist))  # by district, then rank
    seq = np.empty(rank.size, dtype=np.int64)
    if rank.size:
        first = np.r_[True, dist[order][1:] != dist[order][:-1]]
        starts = np.maximum.accumulate(np.where(first, np.arange(rank.size), 0))
        seq[order] = np.arange(rank.size) - starts + 1
    env_names = np.asarray(radio.ENVIRONMENT_NAMES, dtype=object)
    gdf = gpd.GeoDataFrame({
        "SITE_ID": [f"P{c}{n:05d}" for c, n in zip(codes[dist], seq, strict=True)],
        "SITE_TYPE": np.asarray(site_type, dtype=str), "RANK": rank, "BUILD_YEAR": np.asarray(years),
        "GAIN_POP": np.round(gains, 1),
        "SOURCE": source, "KIND": "new" if kind is None else np.asarray(kind, dtype=object),
        "COST": np.nan if cost is None else np.round(np.asarray(cost, dtype=float), 2),
        "CONFLICTS": "" if conflicts is None else np.asarray(conflicts, dtype=object),
        "RADIUS_M": np.round(radius_m, 0),
        "RADIO_ENV": env_names[np.asarray(environment, dtype=np.int64)] if rank.size else np.zeros(0, dtype=object),
        "XZQDM": codes[dist], "XZQMC": names[dist], "MODELLED": np.asarray(modelled, dtype=np.int64)
        if np.ndim(modelled) else int(modelled),
    }, geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]) if len(xy) else gpd.GeoSeries([], crs=proj.metric_crs),
        crs=proj.metric_crs)
    return gdf.to_crs(4490)
