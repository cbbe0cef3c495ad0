"""Plausibility checks at the boundary: values that pass the schema but cannot be right.

Each check either **refuses** (a :class:`~geoplan.errors.Problem`, collected into
one :class:`~geoplan.errors.ValidationError`, exit code 3) — when going on would
give a wrong number — or **warns** (a ``logging`` warning: stderr in the CLI, the
``warnings`` list of ``--format json``) when the data is odd but the numbers
stay right. ``docs/errors-and-limits.md`` lists the thresholds.

Refused:

* districts that overlap by more than 1 % of the smaller one, or lie inside
  another (the city polygon left among its districts);
* a district with 0 residents, or more than :data:`MAX_DENSITY_KM2` per km²,
  unless flagged ``NO_STATS = 1``;
* ``[population_stats]`` totals that are not within a factor of 2 of the
  districts' sum (another area, or a figure in 万);
* a point layer with none of its features in any district; more than half of
  a layer's features (10 or more) at one point;
* edge demand whose weights are all 0; car parks that all have 0 spaces, or
  more charging spaces (built + reserved) than spaces.

Warned: small overlaps, very sparse districts, points outside every district,
points shared by more than :data:`MAX_PER_POINT` features, totals off by more
than 10 %, and districts that look shifted by a web-map offset against the
district boundaries shipped with geoplan.
"""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import shapely

from .errors import Problem

if TYPE_CHECKING:
    from .project import Project

__all__ = ["MAX_DENSITY_KM2", "WARN_DENSITY_KM2", "MAX_PER_POINT", "layer_problems", "project_problems"]

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())

#: Residents per km² above which a district is refused (the densest Chinese districts hold about 40,000).
MAX_DENSITY_KM2 = 100_000.0
#: Residents per km² above which a district is warned about.
WARN_DENSITY_KM2 = 50_000.0
#: Features at one point above which a point layer is warned about (a shared tower holds a few operators' sites).
MAX_PER_POINT = 10
_OVERLAP_REFUSE = 0.01
_OVERLAP_WARN = 1e-4
_TOTAL_REFUSE = 2.0
_TOTAL_WARN = 1.1
_POINT_KEYS = ("sites", "candidates", "edge_dc", "edge_demand", "car_parks", "charging_stations", "planned_sites")


def _names(gdf: gpd.GeoDataFrame, i: int) -> str:
    if {"XZQMC", "XZQDM"} <= set(gdf.columns):
        return f"{gdf['XZQMC'].iloc[i]} ({gdf['XZQDM'].iloc[i]})"
    return f"row {i}"


def layer_problems(gdf: gpd.GeoDataFrame, key: str, *, label: str) -> list[Problem]:
    """Checks of one prepared layer (EPSG:4490, canonical fields): duplicates of points, layer-specific sums."""
    problems: list[Problem] = []
    if key in _POINT_KEYS and len(gdf):
        problems += _stacked_points(gdf, label)
    if key == "edge_demand" and "WEIGHT" in gdf.columns and len(gdf):
        w = gdf["WEIGHT"].to_numpy(dtype=float)
        if np.nansum(w) <= 0:
            problems.append(Problem(label, "WEIGHT", f"every one of the {len(gdf)} demand points has weight 0, so "
                                    "any placement would cover '100 %' of nothing",
                                    "give the demand points their weights (e.g. expected users or traffic)"))
    if key == "car_parks" and {"SPACES", "CHG_BUILT"} <= set(gdf.columns) and len(gdf):
        spaces = gdf["SPACES"].to_numpy(dtype=float)
        if np.nansum(spaces) <= 0:
            problems.append(Problem(label, "SPACES", f"all {len(gdf)} car parks have 0 spaces",
                                    "fill in SPACES (parking spaces per car park)"))
        chg = gdf["CHG_BUILT"].to_numpy(dtype=float)
        if "CHG_RESV" in gdf.columns:
            chg = chg + np.nan_to_num(gdf["CHG_RESV"].to_numpy(dtype=float))
        over = np.flatnonzero(chg > spaces)
        if over.size:
            problems.append(Problem(label, "CHG_BUILT", f"{over.size} car park(s) have more charging spaces (built + "
                                    f"reserved) than spaces (rows {', '.join(map(str, over[:5]))})",
                                    "correct SPACES, CHG_BUILT or CHG_RESV"))
    return problems


def _stacked_points(gdf: gpd.GeoDataFrame, label: str) -> list[Problem]:
    geoms = gdf.geometry.to_numpy()
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if ok.sum() < 2:
        return []
    xy = np.round(shapely.get_coordinates(shapely.centroid(geoms[ok])), 7)
    points, counts = np.unique(xy, axis=0, return_counts=True)
    k = int(np.argmax(counts))
    top = int(counts[k])
    n = int(ok.sum())
    if top >= 10 and top > n / 2:
        x, y = points[k]
        return [Problem(label, "geometry", f"{top:,} of its {n:,} features lie at one point ({x:.6f}, {y:.6f}): "
                        "the coordinates were lost or all geocoded to one address",
                        "give each feature its own location")]
    if top > MAX_PER_POINT:
        stacked = int(counts[counts > MAX_PER_POINT].sum())
        log.warning("layer %s: %d features share points with more than %d others (up to %d at one point); "
                    "check for duplicated features", label, stacked, MAX_PER_POINT, top)
    return []


def project_problems(proj: Project) -> list[Problem]:
    """Checks across the layers of a project (districts, population, point layers, population totals)."""
    problems = _district_overlaps(proj)
    if problems:  # densities and totals are meaningless on overlapping districts
        return problems
    problems += _district_populations(proj)
    problems += _totals(proj)
    for key in proj.layers:
        if key in _POINT_KEYS:
            problems += _outside(proj, key)
    _shift_against_reference(proj)
    return problems


def _district_overlaps(proj: Project) -> list[Problem]:
    d = proj.metric("districts")
    geoms = shapely.make_valid(shapely.simplify(d.geometry.to_numpy(), 5.0, preserve_topology=True))
    area = shapely.area(geoms)
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    keep = left < right
    problems: list[Problem] = []
    for i, j in zip(left[keep], right[keep], strict=True):
        inter = float(shapely.area(shapely.intersection(geoms[i], geoms[j])))
        small = min(area[i], area[j])
        share = inter / small if small > 0 else 0.0
        if share > 0.95:
            inner, outer = (i, j) if area[i] <= area[j] else (j, i)
            problems.append(Problem("districts", "geometry", f"{_names(d, inner)} lies inside {_names(d, outer)}: "
                                    "its residents and sites would count twice",
                                    "remove the enclosing polygon (e.g. the whole city left among its districts)"))
        elif share > _OVERLAP_REFUSE:
            problems.append(Problem("districts", "geometry", f"{_names(d, i)} and {_names(d, j)} overlap by "
                                    f"{share:.1%} of the smaller one: sites and residents there would be counted "
                                    "in one of them only", "correct the boundaries so that districts do not overlap"))
        elif share > _OVERLAP_WARN:
            log.warning("layer districts: %s and %s overlap by %.2f%% of the smaller one (sliver)", _names(d, i),
                        _names(d, j), 100 * share)
    return problems


def _district_populations(proj: Project) -> list[Problem]:
    d = proj.metric("districts")
    pop = np.asarray(proj.district_population, dtype=float)
    nostats = proj.no_statistics
    area = shapely.area(d.geometry.to_numpy()) / 1e6
    field = "POP" if "POP" in proj.districts.columns and proj.districts["POP"].notna().all() else "population"
    problems: list[Problem] = []
    zero = np.flatnonzero(~nostats & ~(pop > 0))
    if zero.size:
        problems.append(Problem("districts", field, f"{zero.size} district(s) have no residents "
                                f"({', '.join(_names(d, i) for i in zero[:5])}); their targets would be met by zero "
                                "stations", "give POP for them, check that the population raster covers them at a "
                                "fine enough resolution, or set NO_STATS = 1 for a district without statistics"))
    with np.errstate(divide="ignore", invalid="ignore"):
        dens = np.where(area > 0, pop / area, np.inf)
    dense = np.flatnonzero(~nostats & (pop > 0) & (dens > MAX_DENSITY_KM2))
    if dense.size:
        problems.append(Problem("districts", field, f"{dense.size} district(s) hold more than "
                                f"{MAX_DENSITY_KM2:,.0f} residents per km² ({', '.join(f'{_names(d, i)}: {dens[i]:,.0f}/km²' for i in dense[:3])}); "
                                "no Chinese district comes close", "check the population figures and units (persons, "
                                "not 万) and the district boundaries"))
    warn = np.flatnonzero(~nostats & (dens > WARN_DENSITY_KM2) & (dens <= MAX_DENSITY_KM2))
    for i in warn[:5]:
        log.warning("district %s: %.0f residents per km², more than any Chinese district; check the figures",
                    _names(d, i), dens[i])
    sparse = np.flatnonzero(~nostats & (pop > 0) & (dens < 1.0))
    for i in sparse[:5]:
        log.warning("district %s: %.2f residents per km², very sparse; check the figures", _names(d, i), dens[i])
    return problems


def _totals(proj: Project) -> list[Problem]:
    stats = proj.population_stats
    total = float(np.sum(np.asarray(proj.district_population, dtype=float)[~proj.no_statistics]))
    if total <= 0:
        return []
    figures: list[tuple[str, float]] = []
    if stats.get("census_total"):
        figures.append(("census_total", float(stats["census_total"])))
    figures += [(f"yearend {y}", float(v)) for y, v in dict(stats.get("yearend", {})).items()]
    problems: list[Problem] = []
    for name, value in figures:
        ratio = value / total
        if not (1 / _TOTAL_REFUSE <= ratio <= _TOTAL_REFUSE):
            problems.append(Problem("[population_stats]", name.split()[0], f"{name} = {value:,.0f} is {ratio:,.3g} "
                                    f"times the districts' {total:,.0f} residents",
                                    "give totals for the area the districts cover, in persons (5160000, not 516 "
                                    "for 516万), or remove the figure"))
        elif not (1 / _TOTAL_WARN <= ratio <= _TOTAL_WARN):
            log.warning("[population_stats] %s = %s differs from the districts' %s residents by %.0f%%", name,
                        f"{value:,.0f}", f"{total:,.0f}", 100 * (ratio - 1))
    return problems


def _outside(proj: Project, key: str) -> list[Problem]:
    idx = proj.district_of(key)
    n = len(idx)
    out = int((idx < 0).sum())
    if n and out == n:
        return [Problem(key, "geometry", f"none of its {n:,} features lies in any district",
                        "check the layer's CRS (declare crs = ... for it) and that it covers the project's area")]
    if out:
        log.warning("layer %s: %d of %d features lie outside every district; they are left out of per-district "
                    "figures", key, out, n)
    return []


@functools.cache
def _reference_districts() -> gpd.GeoDataFrame | None:
    """District boundaries shipped with geoplan (CGCS2000), to test a project's districts for web-map offsets."""
    from . import io

    try:
        return io.read_vector(io.shipped("data/gis/xiamen_districts.gpkg"), layer="reference districts",
                              sublayer="districts")
    except Exception as exc:  # the reference is a help, never a reason to fail
        log.debug("no reference districts (%s)", exc)
        return None


def _shift_against_reference(proj: Project) -> None:
    from ._detect import warn_if_shifted

    ref = _reference_districts()
    if ref is None or ref.crs is None:
        return
    ref = ref.to_crs(proj.districts.crs)
    a, b = proj.districts.total_bounds, ref.total_bounds
    if a[0] > b[2] or b[0] > a[2] or a[1] > b[3] or b[1] > a[3]:
        return
    if proj.source is not None and proj.provenance.get("districts", {}).get("path") == str(
            (proj.source.parent / "xiamen_districts.gpkg").resolve()):
        return
    warn_if_shifted(proj.districts, ref, label="districts", reference_label="geoplan's own Xiamen district")
