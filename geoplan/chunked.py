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
* a site's radius depends on its type, its bands and the radio environment of
  the **receiving** cell (:func:`geoplan.morphology.project_environment`: the
  class of the cell's 500 m neighbourhood, one grid for both engines); each
  task reads its cells' classes from the district's window of that grid and
  covers each class with its own radii, as **shares of each 100 m cell**
  (:func:`geoplan.coverage.coverage_matrix` with ``cell_m``): a cell's covered
  share is ``min(1, Σ a_ij)``;
* a site's own environment (the class of the populated cell nearest to it,
  :func:`site_environment`) picks its antenna product, for its capacity;
* capacity (:mod:`geoplan.capacity`) needs every site's load across borders: a
  first pass sums each site's load over the districts, a second one gives each
  cell its unserved demand.

The tasks are mapped by a *mapper* ``mapper(fn, items) -> iterable of results in
order``: the built-in :func:`map` here (placement's county tasks use a pool of
threads, :func:`threaded`); a dask.distributed client in :mod:`geoplan.distributed`;
with identical results either way.

Placement builds on these tasks: :func:`geoplan.placement.place_sites` with
``engine="chunked"`` (chosen automatically for a province) places each
district's sites in a task of its own.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from affine import Affine
from pyproj import CRS, Transformer

from . import capacity as capmod
from . import coverage as cov
from . import radio
from ._json import plain
from ._typing import Progress
from ._window_cover import WindowCells, covered_total, reach_windows, site_batches
from .errors import ConfigError
from .io import Raster
from .morphology import project_environment
from .networks import station_fields
from .population import Demand, cell_area_km2
from .project import Project
from .radio_params import RadioParams
from .targets import Plan, plan_of

__all__ = [
    "Mapper",
    "local_threads",
    "threaded",
    "THREADS_ENV",
    "Window",
    "CountyChunk",
    "SiteArrays",
    "concat_sites",
    "CountyCoverage",
    "CoverageTotal",
    "CoverageReport",
    "district_windows",
    "county_chunks",
    "county_demand",
    "chunk_demand",
    "chunk_environment",
    "cell_side_m",
    "zonal_sums",
    "run_tasks",
    "site_environment",
    "site_arrays",
    "coverage",
    "MAX_SEARCH_M",
    "STATION_BANDS",
    "county_matrix",
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
#: Band label of coverage evaluated on the bands each station carries (its BANDS field).
STATION_BANDS = "station bands"


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

    ``values``, ``grid`` and ``environment`` (the radio environment of each cell,
    when asked for) are views into the project's arrays (no copy in one process;
    dask ships them when workers are separate processes).
    """

    district: int
    window: Window
    values: np.ndarray
    grid: np.ndarray
    nodata: float | None
    transform: Affine
    raster_crs: str
    metric_crs: str
    environment: np.ndarray | None = None

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
    """Sites as arrays in the metric CRS.

    Attributes
    ----------
    xy : ndarray, shape (n, 2)
        Coordinates (metric CRS).
    radius : ndarray, shape (n, k) or (n,)
        Radius (m) of each site for receiving cells of each environment class
        (columns in :data:`geoplan.radio.ENVIRONMENT_NAMES` order; 0 where the site
        does not serve the network); a 1-D array is one radius for every class.
    district : ndarray of int
        District of the site's raster cell (-1 outside all).
    site_type, environment : ndarray
        Type and own environment code (the populated cell nearest the site).
    capacity_mbps : ndarray
        Busy-hour downlink capacity for the network evaluated (0 where unknown or not serving).
    """

    xy: np.ndarray
    radius: np.ndarray
    district: np.ndarray
    site_type: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=str))
    environment: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int8))
    capacity_mbps: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def __len__(self) -> int:
        return int(self.xy.shape[0])

    @property
    def radii(self) -> np.ndarray:
        """Radii as an (n, k) array, one column per environment class."""
        r = np.asarray(self.radius, dtype=float)
        return r if r.ndim == 2 else np.repeat(r.reshape(-1, 1), len(radio.ENVIRONMENT_NAMES), axis=1)

    @property
    def own_radius(self) -> np.ndarray:
        """Radius of each site for cells of its own environment (what a map circle shows)."""
        r = self.radii
        if len(self) == 0 or len(self.environment) != len(self):
            return r.max(axis=1) if len(self) else np.zeros(0)
        return r[np.arange(len(self)), np.asarray(self.environment, dtype=np.int64)]

    def take(self, idx: np.ndarray) -> SiteArrays:
        """The sites ``idx`` (fields that are filled, in that order)."""
        def pick(a: np.ndarray) -> np.ndarray:
            return a[idx] if len(a) == len(self) else a
        return SiteArrays(self.xy[idx], self.radius[idx], self.district[idx], pick(self.site_type),
                          pick(self.environment), pick(self.capacity_mbps))

    def within(self, box: tuple[float, float, float, float]) -> np.ndarray:
        """Indices of the sites inside ``(left, bottom, right, top)``."""
        if len(self) == 0:
            return np.zeros(0, dtype=np.int64)
        left, bottom, right, top = box
        x, y = self.xy[:, 0], self.xy[:, 1]
        return np.flatnonzero((x >= left) & (x <= right) & (y >= bottom) & (y <= top))


def concat_sites(parts: Sequence[SiteArrays]) -> SiteArrays:
    """One :class:`SiteArrays` of several, in order (radii widened to (n, k))."""
    parts = [q for q in parts if len(q)]
    if not parts:
        return SiteArrays(np.zeros((0, 2)), np.zeros((0, len(radio.ENVIRONMENT_NAMES))), np.zeros(0, dtype=np.int64))
    cap = [q.capacity_mbps if len(q.capacity_mbps) == len(q) else np.zeros(len(q)) for q in parts]
    return SiteArrays(np.concatenate([q.xy for q in parts]), np.concatenate([q.radii for q in parts]),
                      np.concatenate([q.district for q in parts]),
                      np.concatenate([q.site_type for q in parts]).astype(str),
                      np.concatenate([q.environment for q in parts]).astype(np.int8), np.concatenate(cap))


@dataclass(frozen=True, eq=False)
class CountyCoverage:
    """Population coverage of one district's cells (persons, cells), and its busy-hour capacity.

    ``covered_population`` is ``Σ persons × covered share``; ``covered_cells`` is
    ``Σ covered share`` (a cell half covered counts half). ``share`` (float per
    populated cell, row-major) and ``rows``/``cols`` are filled only when asked
    for (``return_cells=True``). The capacity figures (Mbit/s, :mod:`geoplan.capacity`)
    are ``None`` unless capacity was evaluated.
    """

    district: int
    population: float
    covered_population: float
    cells: int
    covered_cells: float
    sites_considered: int
    share: np.ndarray | None = None
    rows: np.ndarray | None = None
    cols: np.ndarray | None = None
    demand_mbps: float | None = None
    unserved_mbps: float | None = None
    limited_cells: int | None = None
    limited_population: float | None = None


@dataclass(frozen=True)
class CoverageTotal:
    """Totals of a :class:`CoverageReport`: persons and populated cells, covered and in all.

    ``network``, ``band`` and ``users`` say what the coverage refers to: the operator
    network (``any`` = all operators), the band of the sites' radii
    (:data:`STATION_BANDS` when each station is evaluated on the bands it carries)
    and indoor or outdoor users.
    The capacity totals are ``None`` unless capacity was evaluated (``year``).
    """

    population: float
    covered_population: float
    coverage: float | None
    cells: int
    covered_cells: float
    sites: int
    max_radius_m: float
    districts: int
    band: str
    network: str = "any"
    users: str = "outdoor"
    year: int | None = None
    demand_mbps: float | None = None
    unserved_mbps: float | None = None
    limited_cells: int | None = None
    limited_population: float | None = None
    limited_districts: int | None = None
    radio_digest: str = ""

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
        covered_population, coverage (share), cells, covered_cells, sites_considered,
        and with capacity busy-hour demand_mbps, unserved_mbps, limited_cells,
        limited_population, capacity_limited.
    total : CoverageTotal
        Province totals, with what the coverage refers to (network, band, users).
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


def county_chunks(proj: Project, districts: Sequence[int] | None = None, *, environment: bool = False,
                  params: RadioParams | None = None) -> list[CountyChunk]:
    """One :class:`CountyChunk` per district (all districts by default), views into the project's arrays.

    ``environment=True`` adds each window of the project's radio-environment grid
    (:func:`geoplan.morphology.project_environment`, for ``params`` or the project's).
    """
    r = proj.population
    assert r.crs is not None
    wins = district_windows(proj)
    grid = proj.grid
    env = project_environment(proj, params=params) if environment else None
    rcrs, mcrs = CRS.from_user_input(r.crs).to_wkt(), CRS.from_user_input(proj.metric_crs).to_wkt()
    idx = range(len(wins)) if districts is None else districts
    return [CountyChunk(int(k), wins[k], r.values[wins[k].slices], grid[wins[k].slices], r.nodata, r.transform,
                        rcrs, mcrs, None if env is None else env[wins[k].slices]) for k in idx]


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


def chunk_environment(chunk: CountyChunk, d: Demand) -> np.ndarray:
    """Radio environment code of each demand cell ``d`` of the chunk (its class in the project's grid)."""
    if chunk.environment is None:
        raise ConfigError("the county chunk carries no environment grid. Fix: county_chunks(..., environment=True)")
    return np.asarray(chunk.environment[d.row - chunk.window.row_off, d.col - chunk.window.col_off], dtype=np.int64)


def cell_side_m(d: Demand) -> np.ndarray:
    """Side (m) of each demand cell taken as a square of its area (100.0 on a 100 m grid)."""
    return np.sqrt(d.area_km2 * 1e6)


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


#: Environment variable with the number of threads county tasks run on in one process.
THREADS_ENV = "GEOPLAN_THREADS"
#: At most this many threads by default (memory grows with the counties in flight).
MAX_DEFAULT_THREADS = 4


def local_threads() -> int:
    """Threads for county tasks in this process: ``$GEOPLAN_THREADS``, else the cores (at most 4).

    Raises
    ------
    ConfigError
        ``GEOPLAN_THREADS`` is not a whole number >= 1.
    """
    raw = os.environ.get(THREADS_ENV, "").strip()
    if not raw:
        return max(1, min(os.cpu_count() or 1, MAX_DEFAULT_THREADS))
    try:
        n = int(raw)
    except ValueError:
        n = 0
    if n < 1:
        raise ConfigError(f"{THREADS_ENV}={raw!r} is not a number of threads. Fix: set it to a whole number >= 1 "
                          f"(1 runs county tasks one after the other), or unset it")
    return n


def threaded(fn: Callable[[Any], Any], items: Sequence[Any]) -> Iterator[Any]:
    """A mapper: ``fn(item)`` for every item, in order, on :func:`local_threads` threads.

    For tasks that spend their time in NumPy/SciPy and own their arrays (placement's
    county tasks: greedy, local search, the Lagrangian bound). The coverage tasks
    stay on one thread: their window loops hold the GIL, and threads made them slower.
    """
    n = local_threads()
    if n <= 1 or len(items) <= 1:
        yield from map(fn, items)
        return
    with ThreadPoolExecutor(max_workers=n, thread_name_prefix="geoplan-county") as ex:
        yield from ex.map(fn, items)


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


def site_environment(proj: Project, xy: np.ndarray, *, max_search_m: float = MAX_SEARCH_M,
                     params: RadioParams | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Radio environment code and population density (persons/km²) of the populated cell nearest each site.

    Looks at the site's own cell first (on a square grid, a cell's centre is the
    nearest centre to any point inside it), then at growing squares of cells
    around it, up to ``max_search_m``; a site with no populated cell that close
    is ``rural`` with density 0. The environment is that cell's class in the
    project's environment grid (:func:`geoplan.morphology.project_environment`:
    its 500 m neighbourhood), the density that of the cell itself. Memory is per
    site, not per raster.

    Parameters
    ----------
    proj : Project
        The project (raster and district grid).
    xy : ndarray, shape (n, 2)
        Site coordinates in the project's metric CRS.
    params : RadioParams, optional
        Radio parameters of the environment classes (the project's by default).
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
    max_ring = int(math.ceil(max_search_m / g.cell_m)) + 1
    for i in np.flatnonzero(~own).tolist():
        best_d, best = g.nearest(xy[i], int(row[i]), int(col[i]), max_ring)
        if best is not None and best_d <= max_search_m:
            row[i], col[i] = best
            own[i] = True
    dens[own] = g.density(row[own], col[own])
    env[own] = project_environment(proj, params=params)[row[own], col[own]]
    return env, dens


def site_arrays(proj: Project, key: str = "sites", *, band: str = "n78", indoor: bool = False, network: str = "any",
                params: RadioParams | None = None) -> SiteArrays:
    """A project's point layer ``key`` as :class:`SiteArrays` with receiving-cell radii and capacity.

    Each station serves ``network`` on the bands it carries that the network uses
    (:func:`geoplan.radio.network_radii`; stations without BANDS/BAND carry
    ``band``), with radii for ``indoor`` or outdoor users by receiving environment,
    and the capacity of those bands (:func:`geoplan.radio.network_capacity_mbps`).
    """
    p = params if params is not None else proj.radio_params
    k = len(p.environments)
    if proj.layer(key) is None or len(proj.layer(key)) == 0:  # type: ignore[arg-type]
        return SiteArrays(np.zeros((0, 2)), np.zeros((0, k)), np.zeros(0, dtype=np.int64))
    sm = proj.metric(key)
    xy = np.column_stack([sm.geometry.x.to_numpy(), sm.geometry.y.to_numpy()])
    st = sm["SITE_TYPE"].astype(str).to_numpy() if "SITE_TYPE" in sm.columns else np.full(len(sm), "macro")
    env, _ = site_environment(proj, xy, params=p)
    f = station_fields(sm, band=band, network=network, params=p, layer=key)
    radius = radio.network_radii(st, f.network, f.bands, network=network, indoor=indoor, params=p)
    capacity = radio.network_capacity_mbps(st, f.network, f.bands, env, network=network, params=p)
    return SiteArrays(xy, radius, _grid_district(proj, xy), st, env, capacity)


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
    sites: SiteArrays
    index: np.ndarray
    return_cells: bool
    prior: np.ndarray | None = None
    demand_per_person: float | None = None
    carried: np.ndarray | None = None
    suspect: np.ndarray | None = None


def county_matrix(chunk: CountyChunk, d: Demand, sites: SiteArrays) -> Any:
    """Fractional coverage (cells × sites) of a district's demand cells, each class with its radii."""
    return cov.coverage_matrix(d.xy, sites.xy, sites.radii, demand_class=chunk_environment(chunk, d),
                               cell_m=cell_side_m(d))


def _window_cells(chunk: CountyChunk, d: Demand) -> tuple[WindowCells, np.ndarray] | None:
    """The district's window as :class:`~geoplan._window_cover.WindowCells` and its demand-index grid.

    ``None`` when the raster is not in the metric CRS (its cells are not squares
    on the metric grid): coverage then goes through the coverage matrix.
    """
    if not len(d) or CRS.from_wkt(chunk.raster_crs) != CRS.from_wkt(chunk.metric_crs):
        return None
    win = chunk.window
    index = np.full((win.height, win.width), -1, dtype=np.int64)
    index[d.row - win.row_off, d.col - win.col_off] = np.arange(len(d))
    assert chunk.environment is not None
    cells = WindowCells(win.row_off, win.col_off, index >= 0, np.asarray(chunk.environment, dtype=np.int64),
                        float(cell_side_m(d)[0]), chunk.transform)
    return cells, index


def _blocks(chunk: CountyChunk, d: Demand, sites: SiteArrays) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """``(sites, demand rows, shares)`` entries of the sites' shares of the district's cells, in site order.

    On a raster in the metric CRS, straight from each site's block of cells
    (:mod:`geoplan._window_cover`, a batch of sites at a time); otherwise from
    the county's coverage matrix (one batch).
    """
    if not len(d) or not len(sites):
        return
    wc = _window_cells(chunk, d)
    if wc is not None:
        cells, index = wc
        for j, rr, cc, a in site_batches(cells, sites.xy, sites.radii):
            yield j, index[rr, cc], a
        return
    A = county_matrix(chunk, d, sites)
    yield np.repeat(np.arange(A.shape[1]), np.diff(A.indptr)), A.indices, A.data


def _raw_shares(chunk: CountyChunk, d: Demand, sites: SiteArrays, *, prior: np.ndarray | None,
                complete: bool) -> np.ndarray:
    """``Σ_j a_ij`` of each demand cell in site order; unless ``complete``, only as far as ``min(1, prior + Σ)`` needs."""
    raw = np.zeros(len(d))
    if not len(d) or not len(sites):
        return raw
    wc = None if complete else _window_cells(chunk, d)
    if wc is not None:
        cells, _ = wc
        local = (d.row - chunk.window.row_off, d.col - chunk.window.col_off)
        pw = None
        if prior is not None:
            pw = np.zeros(cells.shape)
            pw[local] = prior
        return covered_total(cells, sites.xy, sites.radii, prior=pw)[local]
    for _, rows, a in _blocks(chunk, d, sites):
        np.add.at(raw, rows, a.astype(np.float64))
    return raw


def _near_sites(chunk: CountyChunk, d: Demand, sites: SiteArrays, which: np.ndarray) -> np.ndarray | None:
    """Window mask of the cells within reach of the sites ``which`` (``None``: every cell, no raster windows)."""
    wc = _window_cells(chunk, d)
    if wc is None:
        return None
    cells, _ = wc
    mask = np.zeros(cells.shape, dtype=bool)
    xy, radii = sites.xy[which], sites.radii[which]
    r0, r1, c0, c1 = reach_windows(cells.transform, cells.shape, xy, radii.max(axis=1) + cells.side_m * np.sqrt(0.5),
                                   row_off=cells.row_off, col_off=cells.col_off)
    for a0, a1, b0, b1 in zip(r0.tolist(), r1.tolist(), c0.tolist(), c1.tolist(), strict=True):
        mask[a0:a1, b0:b1] = True
    return mask


def _entries_of(chunk: CountyChunk, d: Demand, sites: SiteArrays, which: np.ndarray,
                mask: np.ndarray | None) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """``(sites, demand rows, shares)`` of the sites ``which`` (indices into ``sites``) on the cells of ``mask``."""
    if not len(d) or not which.size:
        return
    wc = _window_cells(chunk, d)
    if wc is None or mask is None:
        for j, rows, a in _blocks(chunk, d, sites):
            keep = np.isin(j, which)
            yield j[keep], rows[keep], a[keep]
        return
    cells, index = wc
    for j, rr, cc, a in site_batches(cells, sites.xy[which], sites.radii[which], counted=cells.mask & mask):
        yield which[j], index[rr, cc], a


def _capacity_figures(item: _CoverItem, d: Demand, share: np.ndarray) -> dict[str, Any] | tuple[np.ndarray, ...]:
    """The capacity passes of one district (see :func:`coverage`).

    Only sites whose demand within reach could exceed their usable capacity
    (``item.suspect``) are loaded exactly, on the cells within their reach; the
    unserved demand is computed on the cells within reach of the overloaded ones.
    """
    assert item.demand_per_person is not None
    s = item.sites
    demand = d.pop * item.demand_per_person
    covered = demand * share
    everyone = np.arange(len(s))
    if item.carried is None:  # first pass: exact loads of the suspects
        sus = np.flatnonzero(item.suspect) if item.suspect is not None else everyone
        load = np.zeros(len(s))
        if sus.size:
            mask = _near_sites(item.chunk, d, s, sus)
            per_share = _per_share(item.chunk, d, s, mask, demand)
            for j, rows, a in _entries_of(item.chunk, d, s, sus, mask):
                load += np.bincount(j, weights=per_share[rows] * a, minlength=len(s))
        return item.index[sus], load[sus]
    over = np.flatnonzero(item.carried < 1.0)
    unserved = np.zeros(len(d))
    if over.size:
        mask = _near_sites(item.chunk, d, s, over)
        per_share = _per_share(item.chunk, d, s, mask, demand)
        for j, rows, a in _entries_of(item.chunk, d, s, over, mask):
            np.add.at(unserved, rows, per_share[rows] * a * (1.0 - item.carried[j]))
    limited = unserved > capmod.LIMIT_TOLERANCE * np.maximum(covered, 1e-12)
    return dict(demand_mbps=_seqsum(covered), unserved_mbps=_seqsum(unserved), limited_cells=int(limited.sum()),
                limited_population=_seqsum(d.pop * limited))


def _per_share(chunk: CountyChunk, d: Demand, sites: SiteArrays, mask: np.ndarray | None,
               demand: np.ndarray) -> np.ndarray:
    """Covered demand per unit of share, ``demand × min(1, Σ a) / Σ a``, exact on the cells of ``mask``."""
    raw = np.zeros(len(d))
    for _, rows, a in _entries_of(chunk, d, sites, np.arange(len(sites)), mask):
        np.add.at(raw, rows, a.astype(np.float64))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(raw > 0, demand * np.minimum(raw, 1.0) / np.where(raw > 0, raw, 1.0), 0.0)


def _cover_task(item: _CoverItem) -> CountyCoverage | tuple[np.ndarray, ...]:
    """One district: cell shares and, with capacity, unserved demand.

    A cell's covered share is ``min(1, prior + Σ a_ij)`` (the sum in site order,
    as the in-memory engine adds a matrix's columns). First capacity pass
    (``demand_per_person`` without ``carried``): the district's part of the load
    of each suspect site, ``(site index, load)``.
    """
    d = chunk_demand(item.chunk)
    s = item.sites
    if item.demand_per_person is not None and item.carried is None:
        out = _capacity_figures(item, d, np.zeros(len(d)))
        assert isinstance(out, tuple)
        return out
    raw = _raw_shares(item.chunk, d, s, prior=item.prior, complete=False)
    share = np.minimum(raw if item.prior is None else item.prior + raw, 1.0)
    extra: dict[str, Any] = {}
    if item.demand_per_person is not None:
        figures = _capacity_figures(item, d, share)
        assert isinstance(figures, dict)
        extra = figures
    return CountyCoverage(
        district=item.chunk.district, population=_seqsum(d.pop), covered_population=_seqsum(d.pop * share),
        cells=len(d), covered_cells=_seqsum(share), sites_considered=len(s),
        share=share if item.return_cells else None, rows=d.row if item.return_cells else None,
        cols=d.col if item.return_cells else None, **extra)


def load_bound(proj: Project, sites: SiteArrays, demand_per_person: float) -> np.ndarray:
    """An upper bound of each site's busy-hour load (Mbit/s): all demand in the block of cells it reaches.

    A site carries at most the demand of the cells it covers (their covered
    demand is shared among their sites), so a site whose bound is below its
    usable capacity cannot be overloaded. One summed-area table of the demand
    raster; ``inf`` when the raster is not in the metric CRS.
    """
    r = proj.population
    t = r.transform
    assert r.crs is not None
    if not len(sites) or CRS.from_user_input(r.crs) != CRS.from_user_input(proj.metric_crs):
        return np.full(len(sites), np.inf)
    v = np.where(r.valid & (proj.grid >= 0) & (r.values > 0), r.values, 0.0)
    sat = np.zeros((v.shape[0] + 1, v.shape[1] + 1))
    np.cumsum(v, axis=0, out=sat[1:, 1:])
    np.cumsum(sat[1:, 1:], axis=1, out=sat[1:, 1:])
    del v
    side = float(np.sqrt(cell_area_km2(r, np.array([0]))[0] * 1e6))
    r0, r1, c0, c1 = reach_windows(t, r.values.shape, sites.xy, sites.radii.max(axis=1) + side * np.sqrt(0.5))
    total = sat[r1, c1] - sat[r0, c1] - sat[r1, c0] + sat[r0, c0]
    return np.maximum(total, 0.0) * demand_per_person * (1.0 + 1e-9) + 1e-9


def _loads(items: list[_CoverItem], n_sites: int, *, mapper: Mapper | None, progress: Progress | None,
           names: Sequence[str]) -> np.ndarray:
    """Each site's busy-hour load summed over the districts it serves (first capacity pass)."""
    load = np.zeros(n_sites)
    parts = run_tasks(_cover_task, items, mapper=mapper, progress=progress, what="site loads", names=names,
                      start=0.05, span=0.45)
    for idx, part in parts:
        np.add.at(load, idx, part)
    return load


def coverage(proj: Project, *, sites: SiteArrays | None = None, band: str = "n78", indoor: bool = False,
             network: str = "any", year: int | None = None, params: RadioParams | None = None,
             mapper: Mapper | None = None, progress: Progress | None = None, return_cells: bool = False,
             prior: CoverageReport | None = None, plan: str | Plan | None = None) -> CoverageReport:
    """Population covered by ``sites`` (the project's existing sites by default), district by district.

    Coverage is evaluated at the receiving cell (each cell's environment sets the
    radii) as covered shares of each cell (see the module notes); with ``year``,
    busy-hour capacity too (:mod:`geoplan.capacity`: the plan's 5G user
    penetration of that year, two passes over the districts).

    Parameters
    ----------
    proj : Project
        The project.
    sites : SiteArrays, optional
        Sites with radii (:func:`site_arrays`); the project's ``sites`` layer by default.
    band : str
        Band of stations whose layer gives none (and the label of given ``sites``).
    indoor : bool
        Radii of the default sites for users indoors (building-entry loss); outdoor by default.
    network : str
        ``"any"`` (all operators, default) or one network (``cmcc``, ``ctcu``, ``cbn``):
        the stations and bands whose users are counted.
    year : int, optional
        Evaluate capacity for this year's 5G user penetration (when the plan states one).
    params : RadioParams, optional
        Radio parameters (the project's by default).
    mapper : callable, optional
        How to run the per-district tasks (default: one after the other here).
    progress : callable, optional
        ``progress(fraction, message)``.
    return_cells : bool
        Keep the covered share of every populated cell (``CountyCoverage.share``).
    prior : CoverageReport, optional
        Coverage already there (computed with ``return_cells=True``): its shares
        add to the new sites', so adding sites needs only the new ones (not with ``year``).
    plan : str or Plan, optional
        The plan whose 5G user penetration sets the busy-hour demand (with ``year``):
        the project's own by default (:func:`geoplan.targets.plan_of`).

    Examples
    --------
    >>> import geoplan as gp
    >>> rep = coverage(gp.load_project())
    >>> 0.9 < rep.total.coverage <= 1.0, rep.total.districts, rep.total.network, rep.total.users
    (True, 6, 'any', 'outdoor')
    """
    t0 = time.perf_counter()
    step = progress or (lambda f, m: None)
    p = params if params is not None else proj.radio_params
    step(0.0, "site environments and radii")
    s = sites if sites is not None else site_arrays(proj, band=band, indoor=indoor, network=network, params=p)
    rmax = float(s.radii.max()) if len(s) else 0.0
    boxes = _boxes(proj, rmax)
    chunks = county_chunks(proj, environment=True, params=p)
    if prior is not None and any(c.share is None for c in prior.counties):
        raise ConfigError("the prior coverage has no per-cell shares. Fix: compute it with return_cells=True")
    per_person = None
    if year is not None:
        if prior is not None:
            raise ConfigError("capacity needs every site at once, not a prior coverage. Fix: pass all sites, or "
                              "leave year out")
        per_person = capmod.demand_per_person_mbps(plan_of(proj, plan), year, network=network, params=p)
    items = []
    for c in chunks:
        idx = s.within(tuple(boxes[c.district]))
        items.append(_CoverItem(c, s.take(idx), idx, return_cells,
                                None if prior is None else prior.counties[c.district].share, per_person))
    names = [proj.district_names[c.district] for c in chunks]
    start = 0.05
    if per_person is not None:
        usable = (s.capacity_mbps if len(s.capacity_mbps) == len(s) else np.zeros(len(s))) * p.traffic.max_utilisation
        suspect = load_bound(proj, s, per_person) > usable
        load = np.zeros(len(s))
        if suspect.any():
            items = [dataclasses.replace(it, suspect=suspect[it.index]) for it in items]
            load = _loads(items, len(s), mapper=mapper, progress=progress, names=names)
        frac = capmod.carried_fraction(np.where(suspect, load, 0.0), usable)
        items = [dataclasses.replace(it, carried=frac[it.index]) for it in items]
        start = 0.5
    res = run_tasks(_cover_task, items, mapper=mapper, progress=progress, what="coverage", names=names,
                    start=start, span=1.0 - start)
    layer = proj.layer("sites")
    if sites is None and layer is not None and ("BANDS" in layer.columns or "BAND" in layer.columns):
        band = STATION_BANDS
    return _report(proj, res, s, rmax, band=band, network=network, indoor=indoor, year=year if per_person else None,
                   digest=p.digest, started=t0)


def _report(proj: Project, res: list[CountyCoverage], s: SiteArrays, rmax: float, *, band: str, network: str,
            indoor: bool, year: int | None, digest: str, started: float) -> CoverageReport:
    table = pd.DataFrame({
        "XZQDM": proj.district_codes, "XZQMC": proj.district_names,
        "population": [r.population for r in res], "covered_population": [r.covered_population for r in res],
        "cells": [r.cells for r in res], "covered_cells": [r.covered_cells for r in res],
        "sites_considered": [r.sites_considered for r in res],
    })
    with np.errstate(invalid="ignore", divide="ignore"):
        table.insert(4, "coverage", table["covered_population"] / table["population"].where(table["population"] > 0))
    cap: dict[str, Any] = {}
    if year is not None:
        table["demand_mbps"] = [r.demand_mbps for r in res]
        table["unserved_mbps"] = [r.unserved_mbps for r in res]
        table["limited_cells"] = [r.limited_cells for r in res]
        table["limited_population"] = [r.limited_population for r in res]
        table["capacity_limited"] = table["limited_cells"] > 0
        cap = dict(year=year, demand_mbps=round(float(table["demand_mbps"].sum()), 1),
                   unserved_mbps=round(float(table["unserved_mbps"].sum()), 3),
                   limited_cells=int(table["limited_cells"].sum()),
                   limited_population=round(float(table["limited_population"].sum()), 1),
                   limited_districts=int(table["capacity_limited"].sum()))
    pop, covp = float(table["population"].sum()), float(table["covered_population"].sum())
    total = CoverageTotal(population=round(pop, 1), covered_population=round(covp, 1),
                          coverage=round(covp / pop, 6) if pop > 0 else None, cells=int(table["cells"].sum()),
                          covered_cells=round(float(table["covered_cells"].sum()), 2), sites=len(s),
                          max_radius_m=round(rmax, 1), districts=len(table), band=band, network=network,
                          users="indoor" if indoor else "outdoor", radio_digest=digest, **cap)
    return CoverageReport(table=table, total=total, counties=res, runtime_s=time.perf_counter() - started)
