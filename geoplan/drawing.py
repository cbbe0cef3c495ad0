"""Evaluate what a planner sketches on the map: new sites (points) and areas (polygons).

Drawn sites are not among the optimiser's candidates: their coverage is computed
on the fly from the same link budget. Coordinates come in CGCS2000/WGS84 degrees
(what a web map returns) and are projected to the project's metric CRS here.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from pyproj import Transformer

from . import coverage as cov
from ._json import plain
from .chunked import site_environment
from .errors import Problem, ValidationError
from .placement import SITE_TYPES, PlanningContext, Totals, evaluate_sites
from .placement._steps import marginal_gains
from .placement.request import targets_for
from .project import points_in_districts
from .radio import site_radii
from .targets import density, population_basis

__all__ = ["DrawnSummary", "DrawnEvaluation", "DrawnPlan", "AreaCoverage", "evaluate_drawn_sites",
           "plan_with_drawn", "area_coverage"]


@dataclass(frozen=True)
class DrawnSummary:
    """City figures of drawn sites built on top of the existing (and planned) sites."""

    drawn_sites: int
    outside_districts: int
    added_covered_population: float
    coverage_before: float | None
    coverage_after: float | None
    districts_meeting_before: int
    districts_meeting_after: int
    year: int
    target_per_10k: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return plain(dataclasses.asdict(self))  # type: ignore[no-any-return]


@dataclass(frozen=True, eq=False)
class DrawnEvaluation:
    """Effect of drawn sites on top of existing sites (and optionally a plan's selected candidates)."""

    districts: pd.DataFrame
    summary: DrawnSummary
    site_district: NDArray[np.int64]
    site_radius_m: NDArray[np.float64]
    site_gain: NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class DrawnPlan:
    """A plan's district table and totals with drawn sites kept in it (:func:`plan_with_drawn`)."""

    districts: pd.DataFrame
    summary: Totals
    drawn: int
    evaluation: DrawnEvaluation


@dataclass(frozen=True)
class AreaCoverage:
    """Population and coverage inside a drawn area (:func:`area_coverage`)."""

    area_km2: float
    population: float
    coverage_existing: float | None
    coverage_with_plan: float | None
    existing_sites: int
    candidates: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return plain(dataclasses.asdict(self))  # type: ignore[no-any-return]


def _to_metric(ctx: PlanningContext, lon: NDArray[np.float64], lat: NDArray[np.float64]) -> NDArray[np.float64]:
    x, y = Transformer.from_crs(4490, ctx.project.metric_crs, always_xy=True).transform(lon, lat)
    return np.column_stack([x, y])


def _drawn_arrays(ctx: PlanningContext, lonlat: NDArray[np.float64], site_type: str | list[str]
                  ) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.float64]]:
    """Metric coordinates, district and radius of each drawn site."""
    pts = np.asarray(lonlat, dtype=float).reshape(-1, 2)
    types = np.asarray([site_type] * len(pts) if isinstance(site_type, str) else site_type, dtype=str)
    bad = sorted(set(types) - set(SITE_TYPES))
    if bad or len(types) != len(pts):
        raise ValidationError(Problem("drawn sites", "SITE_TYPE", f"unknown or missing site type(s) {bad}",
                                      f"use one of {', '.join(SITE_TYPES)} for each drawn site"))
    if not len(pts):
        return np.zeros((0, 2)), np.zeros(0, dtype=np.int64), np.zeros(0)
    proj = ctx.project
    xy = _to_metric(ctx, pts[:, 0], pts[:, 1])
    dist = points_in_districts(gpd.GeoDataFrame(geometry=gpd.points_from_xy(*xy.T), crs=proj.metric_crs),
                               proj.metric("districts"))
    env, _ = site_environment(proj, xy)
    return xy, dist, site_radii(types, env, band=ctx.settings.band, indoor=ctx.settings.indoor)


def evaluate_drawn_sites(ctx: PlanningContext, lonlat: NDArray[np.float64], *, site_type: str | list[str] = "macro",
                         selected: NDArray[np.int64] | None = None, year: int | None = None,
                         population_year: int | None = None) -> DrawnEvaluation:
    """Added coverage and new density per district when drawn sites are built.

    Parameters
    ----------
    ctx : PlanningContext
        Arrays of the project (existing sites, demand, link budget).
    lonlat : ndarray, shape (n, 2)
        Drawn sites in degrees (longitude, latitude).
    site_type : str or list of str
        Type of each drawn site (macro, micro, indoor), or one for all.
    selected : ndarray of int, optional
        Candidate columns already planned (e.g. by the optimiser) to count as well.
    year : int, optional
        Target year (the plan's last by default).
    """
    proj = ctx.project
    xy, dist, radius = _drawn_arrays(ctx, lonlat, site_type)
    base = ctx.covered0.copy()
    n = ctx.n_districts
    planned = np.zeros(n, dtype=np.int64)
    if selected is not None and len(selected):
        sel = np.asarray(selected, dtype=np.int64)
        base |= cov.covered(ctx.coverage, selected=sel)
        planned = np.bincount(ctx.cand_district[sel], minlength=n)
    drawn_per = np.bincount(dist[dist >= 0], minlength=n)
    w, g = ctx.demand_weights, ctx.demand_district
    gains = np.zeros(len(xy))
    after = base.copy()
    if len(xy):
        A = cov.coverage_matrix(proj.demand.xy, xy, np.maximum(radius, 1.0))
        gains = marginal_gains(A, w, base, np.arange(len(xy)))
        after |= cov.covered(A)
    tf = targets_for(proj, year=year)
    yr, target = tf.year, tf.district_target
    pop, _ = population_basis(proj, population_year, year=yr)
    existing = ctx.existing_per_district
    before_d = density(pop, existing + planned, target_per_10k=target)
    after_d = density(pop, existing + planned + drawn_per, target_per_10k=target)
    tot = np.bincount(g, weights=w, minlength=n)
    with np.errstate(divide="ignore", invalid="ignore"):
        cb = np.bincount(g, weights=w * base, minlength=n) / tot
        ca = np.bincount(g, weights=w * after, minlength=n) / tot
    table = pd.DataFrame({
        "XZQDM": proj.district_codes, "XZQMC": proj.district_names, "drawn": drawn_per,
        "stations_before": before_d.stations, "stations_after": after_d.stations,
        "per_10k_before": before_d.per_10k, "per_10k_after": after_d.per_10k, "target_per_10k": target,
        "meets_before": before_d.meets, "meets_after": after_d.meets,
        "coverage_before": cb, "coverage_after": ca,
    })
    total_w = float(w.sum())
    summary = DrawnSummary(
        drawn_sites=int(len(xy)), outside_districts=int((dist < 0).sum()),
        added_covered_population=round(float(gains.sum()), 1),
        coverage_before=float((w * base).sum() / total_w) if total_w else None,
        coverage_after=float((w * after).sum() / total_w) if total_w else None,
        districts_meeting_before=int(before_d.meets.sum()), districts_meeting_after=int(after_d.meets.sum()),
        year=yr, target_per_10k=tf.target_per_10k)
    return DrawnEvaluation(districts=table, summary=summary, site_district=dist, site_radius_m=radius, site_gain=gains)


def plan_with_drawn(ctx: PlanningContext, selected: NDArray[np.int64], lonlat: NDArray[np.float64], *,
                    site_type: str | list[str] = "macro", year: int | None = None) -> DrawnPlan:
    """A plan's district table and totals with drawn sites kept in it.

    The table and totals of :func:`~geoplan.placement.evaluate_sites` for the
    ``selected`` candidates, with the drawn sites counted: ``new``,
    ``stations``, ``per_10k``, ``shortfall``, ``meets_target`` and
    ``coverage_after`` per district, and the city's totals.

    Parameters
    ----------
    ctx : PlanningContext
        Arrays of the project.
    selected : ndarray of int
        Planned candidate columns.
    lonlat : ndarray, shape (n, 2)
        Drawn sites kept in the plan, degrees.
    site_type : str or list of str
        Type of each drawn site, or one for all.
    year : int, optional
        Target year (the plan's last by default).
    """
    sel = np.asarray(selected, dtype=np.int64)
    ev0 = evaluate_sites(ctx, sel, year=year)
    table, totals = ev0.districts, ev0.summary
    ev = evaluate_drawn_sites(ctx, lonlat, site_type=site_type, selected=sel, year=year)
    target = float(totals.target_per_10k)
    d = density(table["population"].to_numpy(dtype=float), ev.districts["stations_after"].to_numpy(),
                target_per_10k=target)
    table = table.assign(new=table["new"].to_numpy() + ev.districts["drawn"].to_numpy(), stations=d.stations,
                         per_10k=d.per_10k, shortfall=d.shortfall, meets_target=d.meets,
                         coverage_after=ev.districts["coverage_after"].to_numpy())
    city = density(np.array([d.population.sum()]), np.array([d.stations.sum()]), target_per_10k=target)
    after = ev.summary.coverage_after
    totals = dataclasses.replace(
        totals, stations=int(d.stations.sum()), new=int(table["new"].sum()), per_10k=round(float(city.per_10k[0]), 2),
        districts_meeting_target=int(d.meets.sum()), coverage_after=None if after is None else round(after, 4),
        covered_population_after=round((after or 0.0) * float(ctx.demand_weights.sum()), 0))
    return DrawnPlan(districts=table, summary=totals, drawn=ev.summary.drawn_sites, evaluation=ev)


def area_coverage(ctx: PlanningContext, polygon_lonlat: list[tuple[float, float]] | NDArray[np.float64], *,
                  selected: NDArray[np.int64] | None = None) -> AreaCoverage:
    """Population and coverage inside a drawn area (ring of lon/lat vertices).

    Population inside, share covered by existing sites, by existing plus
    ``selected`` candidates, existing stations inside, and candidates inside.
    """
    ring = np.asarray(polygon_lonlat, dtype=float)
    if ring.ndim != 2 or ring.shape[0] < 3:
        raise ValidationError(Problem("drawn area", "geometry", "an area needs at least 3 vertices",
                                      "draw a polygon or rectangle"))
    poly = shapely.Polygon(_to_metric(ctx, ring[:, 0], ring[:, 1]))
    if not poly.is_valid:
        poly = shapely.make_valid(poly)
    d = ctx.project.demand
    inside = shapely.contains_xy(poly, d.x, d.y)
    w = ctx.demand_weights
    covered = ctx.covered0 | (cov.covered(ctx.coverage, selected=np.asarray(selected, dtype=np.int64))
                              if selected is not None and len(selected) else False)
    pop = float(w[inside].sum())
    return AreaCoverage(
        area_km2=round(poly.area / 1e6, 3), population=round(pop, 1),
        coverage_existing=float((w * ctx.covered0)[inside].sum() / pop) if pop else None,
        coverage_with_plan=float((w * covered)[inside].sum() / pop) if pop else None,
        existing_sites=int(shapely.contains_xy(poly, ctx.existing_xy[:, 0], ctx.existing_xy[:, 1]).sum())
        if len(ctx.existing_xy) else 0,
        candidates=int(shapely.contains_xy(poly, ctx.cand_xy[:, 0], ctx.cand_xy[:, 1]).sum()))
