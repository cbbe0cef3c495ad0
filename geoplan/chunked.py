"""County by county: zonal sums, demand, coverage and placement over a province's grid.

A province at 100 m has ~12.5 million populated cells. Taken whole, the demand
points, k-d trees and coverage matrices of :mod:`geoplan.placement.sites` need
gigabytes; taken one county at a time they need the largest county's share.
This module splits the work into **per-district tasks** on plain arrays:

* each task gets its district's raster window (the bounding box of the
  district's cells, a view of the project's raster and district grid, no copy),
  and computes on the district's own cells only, with *global* row/column
  indices, so every number equals the whole-raster computation bit for bit;
* sites near a border matter to the neighbours: a task gets every site within
  the largest radius of its district's bounding box (the metric window buffered
  by the maximum radius), wherever the site stands;
* a site's radius depends on its type and on the radio environment of the
  populated cell nearest to it, found on the raster around the site
  (:func:`site_environment`), the same answer as a k-d tree over all cells.

The tasks are mapped by a *mapper* ``mapper(fn, items) -> iterable of results in
order``: the built-in :func:`map` here; a dask.distributed client in
:mod:`geoplan.distributed`, with identical results.

Placement builds on these tasks: :func:`geoplan.placement.place_sites` with
``engine="chunked"`` (chosen automatically for a province) places each
district's sites in a task of its own.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from affine import Affine
from pyproj import CRS, Transformer

from . import coverage as cov
from . import radio
from ._json import plain
from ._typing import Progress
from .errors import ConfigError
from .io import Raster
from .population import Demand, cell_area_km2
from .project import Project
from .radio import site_radii

__all__ = [
    "Mapper",
    "Window",
    "CountyChunk",
    "SiteArrays",
    "CountyCoverage",
    "CoverageTotal",
    "CoverageReport",
    "district_windows",
    "county_chunks",
    "county_demand",
    "chunk_demand",
    "zonal_sums",
    "run_tasks",
    "site_environment",
    "site_arrays",
    "coverage",
    "MAX_SEARCH_M",
]

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())

#: ``mapper(fn, items)`` returns ``fn(item)`` for every item, in order (the built-in ``map``,
#: or :func:`geoplan.distributed.dask_mapper`).
Mapper = Callable[[Callable[[Any], Any], Sequence[Any]], Iterable[Any]]
#: How far :func:`site_environment` looks for a populated cell (m); beyond this a site is rural. It
#: exceeds every radius :func:`geoplan.radio.cell_radius_m` returns (10 km), so such a site covers
#: no cell whatever its environment.
MAX_SEARCH_M = 10_000.0


@dataclass(frozen=True)
class Window:
    """A block of raster cells: ``row_off, col_off`` of its top-left cell, ``height × width``."""

    row_off: int
    col_off: int
    height: int
    width: int

    @property
    def slices(self) -> tuple[slice, slice]:
        """Row and column slices selecting the window from the whole raster."""
        return (slice(self.row_off, self.row_off + self.height), slice(self.col_off, self.col_off + self.width))

    @property
    def size(self) -> int:
        return self.height * self.width


@dataclass(frozen=True, eq=False)
class CountyChunk:
    """What a per-district task needs: the district's window of the raster and grid, as arrays.

    ``values`` and ``grid`` are views into the project's arrays (no copy in one
    process; dask ships them when workers are separate processes).
    """

    district: int
    window: Window
    values: np.ndarray
    grid: np.ndarray
    nodata: float | None
    transform: Affine
    raster_crs: str
    metric_crs: str

    def raster(self) -> Raster:
        """The window as a :class:`~geoplan.io.Raster` carrying the *whole* raster's transform."""
        return Raster(self.values, self.transform, CRS.from_wkt(self.raster_crs), self.nodata)

    def cells(self, *, populated: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Global row and column of the district's cells (with population > 0 if ``populated``), row-major."""
        v = self.values
        ok = np.isfinite(v) & (self.grid == self.district)
        if self.nodata is not None and np.isfinite(self.nodata):
            ok &= v != self.nodata
        if populated:
            ok &= v > 0
        r, c = np.nonzero(ok)
        return r + self.window.row_off, c + self.window.col_off


@dataclass(frozen=True, eq=False)
class SiteArrays:
    """Sites as arrays in the metric CRS: coordinates, radius (m), district of their raster cell (-1 outside all)."""

    xy: np.ndarray
    radius: np.ndarray
    district: np.ndarray
    site_type: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=str))
    environment: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int8))

    def __len__(self) -> int:
        return int(self.xy.shape[0])

    def within(self, box: tuple[float, float, float, float]) -> np.ndarray:
        """Indices of the sites inside ``(left, bottom, right, top)``."""
        if len(self) == 0:
            return np.zeros(0, dtype=np.int64)
        left, bottom, right, top = box
        x, y = self.xy[:, 0], self.xy[:, 1]
        return np.flatnonzero((x >= left) & (x <= right) & (y >= bottom) & (y <= top))


@dataclass(frozen=True, eq=False)
class CountyCoverage:
    """Population coverage of one district's cells (persons, cells).

    ``covered`` (bool per populated cell, row-major) and ``rows``/``cols`` are
    filled only when asked for (``return_cells=True``).
    """

    district: int
    population: float
    covered_population: float
    cells: int
    covered_cells: int
    sites_considered: int
    covered: np.ndarray | None = None
    rows: np.ndarray | None = None
    cols: np.ndarray | None = None


@dataclass(frozen=True)
class CoverageTotal:
    """Totals of a :class:`CoverageReport`: persons and populated cells, covered and in all."""

    population: float
    covered_population: float
    coverage: float | None
    cells: int
    covered_cells: int
    sites: int
    max_radius_m: float
    districts: int
    band: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return plain(dataclasses.asdict(self))  # type: ignore[no-any-return]


@dataclass(frozen=True, eq=False)
class CoverageReport:
    """Coverage of every district by a set of sites.

    Attributes
    ----------
    table : DataFrame
        Per district: XZQDM, XZQMC, population (persons in populated cells),
        covered_population, coverage (share), cells, covered_cells, sites_considered.
    total : CoverageTotal
        Province totals.
    counties : list of CountyCoverage
        The per-district results, in district order.
    runtime_s : float
        Wall-clock seconds.
    """

    table: pd.DataFrame
    total: CoverageTotal
    counties: list[CountyCoverage]
    runtime_s: float


# --------------------------------------------------------------------------- windows and chunks


def _check_rectilinear(t: Affine) -> None:
    if t.b != 0 or t.d != 0 or t.a <= 0 or t.e >= 0:
        raise ConfigError(f"the population raster's transform {tuple(t)[:6]} is rotated or not north-up. "
                          "Fix: warp it to a north-up grid (gdalwarp -t_srs EPSG:4548 -tr 100 100)")


def district_windows(proj: Project) -> list[Window]:
    """The raster window holding each district's cells (its bounding box, clipped to the raster).

    Every cell whose centre falls in a district lies in that district's window
    (the districts are burned into the raster's own grid by cell centre).
    """
    r = proj.population
    t = r.transform
    _check_rectilinear(t)
    h, w = r.values.shape
    assert r.crs is not None
    same = CRS.from_user_input(r.crs) == CRS.from_user_input(proj.metric_crs)
    b = (proj.metric("districts") if same else proj.districts.to_crs(r.crs)).geometry.bounds.to_numpy()
    c0 = np.clip(np.floor((b[:, 0] - t.c) / t.a) - 1, 0, w).astype(np.int64)
    c1 = np.clip(np.ceil((b[:, 2] - t.c) / t.a) + 1, 0, w).astype(np.int64)
    r0 = np.clip(np.floor((t.f - b[:, 3]) / -t.e) - 1, 0, h).astype(np.int64)
    r1 = np.clip(np.ceil((t.f - b[:, 1]) / -t.e) + 1, 0, h).astype(np.int64)
    return [Window(int(a), int(c), int(max(bb - a, 0)), int(max(d - c, 0)))
            for a, bb, c, d in zip(r0, r1, c0, c1, strict=True)]


def county_chunks(proj: Project, districts: Sequence[int] | None = None) -> list[CountyChunk]:
    """One :class:`CountyChunk` per district (all districts by default), views into the project's arrays."""
    r = proj.population
    assert r.crs is not None
    wins = district_windows(proj)
    grid = proj.grid
    rcrs, mcrs = CRS.from_user_input(r.crs).to_wkt(), CRS.from_user_input(proj.metric_crs).to_wkt()
    idx = range(len(wins)) if districts is None else districts
    return [CountyChunk(int(k), wins[k], r.values[wins[k].slices], grid[wins[k].slices], r.nodata, r.transform,
                        rcrs, mcrs) for k in idx]


def chunk_demand(chunk: CountyChunk) -> Demand:
    """The district's populated cells as :class:`~geoplan.population.Demand` (same values as ``proj.demand``)."""
    rows, cols = chunk.cells(populated=True)
    t = chunk.transform
    xs = t.c + (cols + 0.5) * t.a + (rows + 0.5) * t.b
    ys = t.f + (cols + 0.5) * t.d + (rows + 0.5) * t.e
    rcrs, mcrs = CRS.from_wkt(chunk.raster_crs), CRS.from_wkt(chunk.metric_crs)
    if rcrs != mcrs and len(rows):
        xs, ys = Transformer.from_crs(rcrs, mcrs, always_xy=True).transform(xs, ys)
    lr, lc = rows - chunk.window.row_off, cols - chunk.window.col_off
    return Demand(
        x=np.asarray(xs, dtype=float), y=np.asarray(ys, dtype=float),
        pop=chunk.values[lr, lc].astype(float), district=np.full(len(rows), chunk.district, dtype=np.int64),
        area_km2=cell_area_km2(chunk.raster(), rows), row=rows.astype(np.int64), col=cols.astype(np.int64),
        crs=mcrs,
    )


def county_demand(proj: Project, district: int) -> Demand:
    """Populated cells of one district, without building the whole project's demand."""
    return chunk_demand(county_chunks(proj, [district])[0])


def _seqsum(values: np.ndarray) -> float:
    """Sum in array order, one value after the other: the order ``np.bincount`` adds in."""
    if values.size == 0:
        return 0.0
    return float(np.bincount(np.zeros(values.size, dtype=np.intp), weights=values)[0])


def _zonal_task(chunk: CountyChunk) -> tuple[float, int]:
    rows, cols = chunk.cells(populated=False)
    v = chunk.values[rows - chunk.window.row_off, cols - chunk.window.col_off]
    return _seqsum(v.astype(float)), int(rows.size)


def _serial(fn: Callable[[Any], Any], items: Sequence[Any]) -> Iterable[Any]:
    return map(fn, items)


def run_tasks(fn: Callable[[Any], Any], items: Sequence[Any], *, mapper: Mapper | None, progress: Progress | None,
         what: str, names: Sequence[str], start: float = 0.0, span: float = 1.0) -> list[Any]:
    step = progress or (lambda f, m: None)
    out = []
    n = max(len(items), 1)
    for i, res in enumerate((mapper or _serial)(fn, items)):
        out.append(res)
        step(start + span * (i + 1) / n, f"{what}: {names[i]}")
    return out


def zonal_sums(proj: Project, *, mapper: Mapper | None = None, progress: Progress | None = None) -> np.ndarray:
    """Population of each district summed from the raster, district by district.

    Equal, bit for bit, to :func:`geoplan.population.zonal_sums` (same cells, same order of addition).
    """
    chunks = county_chunks(proj)
    names = [proj.district_names[c.district] for c in chunks]
    res = run_tasks(_zonal_task, chunks, mapper=mapper, progress=progress, what="zonal sums", names=names)
    return np.array([r[0] for r in res], dtype=float)


# --------------------------------------------------------------------------- sites


class _PopulatedGrid:
    """The project's populated raster cells inside the districts, for nearest-cell look-ups from points."""

    def __init__(self, proj: Project) -> None:
        r = proj.population
        assert r.crs is not None
        self.raster, self.t = r, r.transform
        self.values, self.grid, self.nodata = r.values, proj.grid, r.nodata
        self.h, self.w = r.values.shape
        rcrs, mcrs = CRS.from_user_input(r.crs), CRS.from_user_input(proj.metric_crs)
        self.same = rcrs == mcrs
        self.fwd = None if self.same else Transformer.from_crs(mcrs, rcrs, always_xy=True)
        self.back = None if self.same else Transformer.from_crs(rcrs, mcrs, always_xy=True)
        t = self.t
        if rcrs.is_geographic:  # the smallest metric size of a cell, for the search radius in cells
            self.cell_m = min(abs(t.a) * 111_320.0 * math.cos(math.radians(max(abs(r.bounds[1]), abs(r.bounds[3])))),
                              abs(t.e) * 110_574.0)
        else:
            self.cell_m = min(abs(t.a), abs(t.e)) * rcrs.axis_info[0].unit_conversion_factor

    def cell_of(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Row and column of the raster cell holding each metric point (may be off the raster)."""
        rx, ry = (xy[:, 0], xy[:, 1]) if self.fwd is None else self.fwd.transform(xy[:, 0], xy[:, 1])
        t = self.t
        return (np.floor((t.f - np.asarray(ry)) / -t.e).astype(np.int64),
                np.floor((np.asarray(rx) - t.c) / t.a).astype(np.int64))

    def populated(self, rr: np.ndarray, cc: np.ndarray) -> np.ndarray:
        inside = (rr >= 0) & (rr < self.h) & (cc >= 0) & (cc < self.w)
        out = np.zeros(rr.shape, dtype=bool)
        v = self.values[rr[inside], cc[inside]]
        ok = np.isfinite(v) & (v > 0) & (self.grid[rr[inside], cc[inside]] >= 0)
        if self.nodata is not None and np.isfinite(self.nodata):
            ok &= v != self.nodata
        out[inside] = ok
        return out

    def density(self, rr: np.ndarray, cc: np.ndarray) -> np.ndarray:
        return self.values[rr, cc] / cell_area_km2(self.raster, rr)

    def nearest(self, p: np.ndarray, row: int, col: int, max_ring: int) -> tuple[float, tuple[int, int] | None]:
        """Distance to, and row/column of, the populated cell nearest ``p``, searching growing squares."""
        t = self.t
        ring = 1
        best_d, best = math.inf, None
        while ring <= max_ring:
            rr, cc = np.mgrid[row - ring:row + ring + 1, col - ring:col + ring + 1]
            rr, cc = rr.ravel(), cc.ravel()
            ok = self.populated(rr, cc)
            if not ok.any():
                ring = ring * 2 if ring < 8 else ring + 8
                continue
            rr, cc = rr[ok], cc[ok]
            cx, cy = t.c + (cc + 0.5) * t.a, t.f + (rr + 0.5) * t.e
            if self.back is not None:
                cx, cy = self.back.transform(cx, cy)
            d = np.hypot(np.asarray(cx) - p[0], np.asarray(cy) - p[1])
            j = int(np.argmin(d))
            best_d, best = float(d[j]), (int(rr[j]), int(cc[j]))
            if best_d <= (ring - 0.5) * self.cell_m:  # every cell within (ring - 0.5) cells is in this square
                break
            ring = max(ring + 1, int(math.ceil(best_d / self.cell_m)) + 1)
        return best_d, best


def site_environment(proj: Project, xy: np.ndarray, *,
                     max_search_m: float = MAX_SEARCH_M) -> tuple[np.ndarray, np.ndarray]:
    """Radio environment code and population density (persons/km²) of the populated cell nearest each site.

    Looks at the site's own cell first (on a square grid, a cell's centre is the
    nearest centre to any point inside it), then at growing squares of cells
    around it, up to ``max_search_m``; a site with no populated cell that close
    is ``rural`` with density 0. Memory is per site, not per raster.

    Parameters
    ----------
    proj : Project
        The project (raster and district grid).
    xy : ndarray, shape (n, 2)
        Site coordinates in the project's metric CRS.
    """
    _check_rectilinear(proj.population.transform)
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    env = np.full(len(xy), radio.ENVIRONMENT_NAMES.index("rural"), dtype=np.int8)
    dens = np.zeros(len(xy))
    if len(xy) == 0:
        return env, dens
    g = _PopulatedGrid(proj)
    row, col = g.cell_of(xy)
    own = g.populated(row, col)
    dens[own] = g.density(row[own], col[own])
    max_ring = int(math.ceil(max_search_m / g.cell_m)) + 1
    for i in np.flatnonzero(~own).tolist():
        best_d, best = g.nearest(xy[i], int(row[i]), int(col[i]), max_ring)
        if best is not None and best_d <= max_search_m:
            dens[i] = g.density(np.array([best[0]]), np.array([best[1]]))[0]
            own[i] = True
    env[own] = radio.environment_from_density(dens[own])
    return env, dens


def site_arrays(proj: Project, key: str = "sites", *, band: str = "n78", indoor: bool = False) -> SiteArrays:
    """A project's point layer ``key`` as :class:`SiteArrays` with link-budget radii."""
    if proj.layer(key) is None or len(proj.layer(key)) == 0:  # type: ignore[arg-type]
        return SiteArrays(np.zeros((0, 2)), np.zeros(0), np.zeros(0, dtype=np.int64))
    sm = proj.metric(key)
    xy = np.column_stack([sm.geometry.x.to_numpy(), sm.geometry.y.to_numpy()])
    st = sm["SITE_TYPE"].astype(str).to_numpy() if "SITE_TYPE" in sm.columns else np.full(len(sm), "macro")
    env, _ = site_environment(proj, xy)
    return SiteArrays(xy, site_radii(st, env, band=band, indoor=indoor), _grid_district(proj, xy), st, env)


def _grid_district(proj: Project, xy: np.ndarray) -> np.ndarray:
    """District of the raster cell holding each point (-1 off the grid or outside all districts)."""
    r = proj.population
    t = r.transform
    assert r.crs is not None
    rx, ry = xy[:, 0], xy[:, 1]
    if CRS.from_user_input(r.crs) != CRS.from_user_input(proj.metric_crs):
        rx, ry = Transformer.from_crs(proj.metric_crs, r.crs, always_xy=True).transform(rx, ry)
    row = np.floor((t.f - np.asarray(ry)) / -t.e).astype(np.int64)
    col = np.floor((np.asarray(rx) - t.c) / t.a).astype(np.int64)
    h, w = r.values.shape
    inside = (row >= 0) & (row < h) & (col >= 0) & (col < w)
    out = np.full(len(xy), -1, dtype=np.int64)
    out[inside] = proj.grid[row[inside], col[inside]]
    return out


def _boxes(proj: Project, buffer_m: float) -> np.ndarray:
    """Metric bounding box of each district, buffered by ``buffer_m`` plus one cell diagonal."""
    b = proj.metric("districts").geometry.bounds.to_numpy().copy()
    t = proj.population.transform
    pad = buffer_m + math.hypot(t.a, t.e) * (1.0 if not CRS.from_user_input(proj.population.crs).is_geographic
                                              else 111_320.0)
    b[:, 0] -= pad
    b[:, 1] -= pad
    b[:, 2] += pad
    b[:, 3] += pad
    return b


# --------------------------------------------------------------------------- coverage


@dataclass(frozen=True, eq=False)
class _CoverItem:
    chunk: CountyChunk
    site_xy: np.ndarray
    site_radius: np.ndarray
    return_cells: bool
    prior: np.ndarray | None = None


def _covered_mask(d: Demand, xy: np.ndarray, radius: np.ndarray) -> np.ndarray:
    keep = radius > 0
    if len(d) == 0 or not keep.any():
        return np.zeros(len(d), dtype=bool)
    return cov.covered(cov.coverage_matrix(d.xy, xy[keep], radius[keep]))


def _cover_task(item: _CoverItem) -> CountyCoverage:
    d = chunk_demand(item.chunk)
    hit = _covered_mask(d, item.site_xy, item.site_radius)
    if item.prior is not None:
        hit |= item.prior
    return CountyCoverage(
        district=item.chunk.district, population=_seqsum(d.pop), covered_population=_seqsum(d.pop * hit),
        cells=len(d), covered_cells=int(hit.sum()), sites_considered=len(item.site_xy),
        covered=hit if item.return_cells else None, rows=d.row if item.return_cells else None,
        cols=d.col if item.return_cells else None)


def coverage(proj: Project, *, sites: SiteArrays | None = None, band: str = "n78", indoor: bool = False,
             mapper: Mapper | None = None,
             progress: Progress | None = None, return_cells: bool = False,
             prior: CoverageReport | None = None) -> CoverageReport:
    """Population covered by ``sites`` (the project's existing sites by default), district by district.

    Parameters
    ----------
    proj : Project
        The project.
    sites : SiteArrays, optional
        Sites with radii (:func:`site_arrays`); the project's ``sites`` layer by default.
    band : str
        Band of the link budget for the default sites' radii.
    indoor : bool
        Radii of the default sites for users indoors (building-entry loss); outdoor by default.
    mapper : callable, optional
        How to run the per-district tasks (default: one after the other here).
    progress : callable, optional
        ``progress(fraction, message)``.
    return_cells : bool
        Keep the covered flag of every populated cell (``CountyCoverage.covered``).
    prior : CoverageReport, optional
        Coverage already there (computed with ``return_cells=True``): cells it
        covers count as covered, so adding sites needs only the new ones.

    Examples
    --------
    >>> import geoplan as gp
    >>> rep = coverage(gp.load_project())
    >>> 0.9 < rep.total.coverage <= 1.0, rep.total.districts
    (True, 6)
    """
    t0 = time.perf_counter()
    step = progress or (lambda f, m: None)
    step(0.0, "site environments and radii")
    s = sites if sites is not None else site_arrays(proj, band=band, indoor=indoor)
    rmax = float(s.radius.max()) if len(s) else 0.0
    boxes = _boxes(proj, rmax)
    chunks = county_chunks(proj)
    if prior is not None and any(c.covered is None for c in prior.counties):
        raise ConfigError("the prior coverage has no per-cell flags. Fix: compute it with return_cells=True")
    items = []
    for c in chunks:
        idx = s.within(tuple(boxes[c.district]))
        items.append(_CoverItem(c, s.xy[idx], s.radius[idx], return_cells,
                                None if prior is None else prior.counties[c.district].covered))
    names = [proj.district_names[c.district] for c in chunks]
    res = run_tasks(_cover_task, items, mapper=mapper, progress=progress, what="coverage", names=names,
               start=0.05, span=0.95)
    table = pd.DataFrame({
        "XZQDM": proj.district_codes, "XZQMC": proj.district_names,
        "population": [r.population for r in res], "covered_population": [r.covered_population for r in res],
        "cells": [r.cells for r in res], "covered_cells": [r.covered_cells for r in res],
        "sites_considered": [r.sites_considered for r in res],
    })
    with np.errstate(invalid="ignore", divide="ignore"):
        table.insert(4, "coverage", table["covered_population"] / table["population"].where(table["population"] > 0))
    pop, covp = float(table["population"].sum()), float(table["covered_population"].sum())
    total = CoverageTotal(population=round(pop, 1), covered_population=round(covp, 1),
                          coverage=round(covp / pop, 6) if pop > 0 else None, cells=int(table["cells"].sum()),
                          covered_cells=int(table["covered_cells"].sum()), sites=len(s), max_radius_m=round(rmax, 1),
                          districts=len(table), band=band)
    return CoverageReport(table=table, total=total, counties=res, runtime_s=time.perf_counter() - t0)
