"""Modelled siting-constraint layers for the Xiamen demo (生态保护红线, 永久基本农田, water, airport clearance, heritage).

No official constraint layer of Xiamen is available offline. These are stand-ins
built from the re-modelled land cover (``data/gis/sources/xiamen_landcover_modelled.geojson``),
the modelled population grid and a few published facts, every feature labelled
``MODELLED = 1``:

- **water** (水域): the sea inside the district outlines and the reservoirs and lakes of the land cover;
- **ecological_redline** (生态保护红线): the land cover's hills and parks plus a
  :data:`CATCHMENT_M` band around the drinking-water reservoirs (汀溪, 坂头, 石兜, 莲花) as their
  catchment protection, on land only;
- **farmland** (永久基本农田): patches of low-density land (:data:`FARMLAND_DENSITY_KM2`) in the
  four outer districts, seeded, about :data:`FARMLAND_KM2` in all (an order of magnitude, not a figure);
- **airport_clearance** (机场净空): the obstacle limitation surfaces of 高崎 airport's runway
  (:func:`clearance_limit`, ICAO Annex 14 Table 4-1 code 4 precision approach, runway from the AIP),
  stepped into zones whose ``MAX_H_M`` is the lowest limit inside each (conservative); terrain is
  taken at the aerodrome's elevation (no DEM ships with the demo);
- **heritage** (文物保护): a few protected sites (:data:`XIAMEN_HERITAGE`) as discs or ellipses at
  approximate locations read off public maps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from affine import Affine
from numpy.typing import ArrayLike, NDArray
from pyproj import Transformer
from rasterio import features
from scipy import ndimage

from ..population import Demand
from ..siting.params import default_params

__all__ = ["Runway", "clearance_limit", "clearance_zones", "modelled_constraints", "XIAMEN_HERITAGE", "GAOQI_RUNWAY",
           "CATCHMENT_M", "FARMLAND_KM2", "FARMLAND_DENSITY_KM2", "CLEARANCE_STEPS_M"]

#: Reservoir catchment band of the modelled ecological redline, metres (modelling choice).
CATCHMENT_M = 1000.0
#: Modelled permanent farmland, km² (modelling choice, an order of magnitude for the outer districts).
FARMLAND_KM2 = 80.0
#: Neighbourhood densities (persons/km²) of land taken as farmland (modelling choice: fields around villages).
FARMLAND_DENSITY_KM2 = (30.0, 600.0)
#: Lower bounds of the stepped clearance zones (m above ground); a zone's limit is its step.
CLEARANCE_STEPS_M = (0.0, 10.0, 20.0, 30.0, 45.0, 60.0, 100.0, 150.0)
@dataclass(frozen=True)
class Runway:
    """A runway from the AIP: ARP lon/lat, distance THR-ARP (m), length (m), magnetic bearing THR→ARP, variation."""

    name: str
    arp: tuple[float, float]
    arp_from_threshold_m: float
    length_m: float
    bearing_mag: float
    mag_var: float


#: 高崎 runway 05/23 (AIP_ZSAM): ARP N24°32.7' E118°07.6', 1550 m from THR 05 on 055° MAG, variation 2° W, 3400 m.
GAOQI_RUNWAY = Runway("厦门高崎国际机场 跑道05/23", (118.0 + 7.6 / 60, 24.0 + 32.7 / 60), 1550.0, 3400.0, 55.0, -2.0)
#: Protected heritage sites (name, lon, lat, semi-axes m E-W and N-S), approximate (public maps).
XIAMEN_HERITAGE: tuple[tuple[str, float, float, float, float], ...] = (
    ("鼓浪屿 Kulangsu (世界文化遗产)", 118.0665, 24.4470, 950.0, 700.0),
    ("中山路历史文化街区", 118.0810, 24.4570, 450.0, 300.0),
    ("南普陀寺", 118.0960, 24.4435, 220.0, 220.0),
    ("厦门大学早期建筑", 118.0985, 24.4375, 320.0, 250.0),
    ("胡里山炮台", 118.1085, 24.4325, 200.0, 200.0),
    ("集美学村 (集美学村和厦门大学早期建筑)", 118.1035, 24.5735, 650.0, 450.0),
    ("同安孔庙", 118.1520, 24.7325, 150.0, 150.0),
)


def _segment_distance(px: NDArray[np.float64], py: NDArray[np.float64], a: NDArray[np.float64],
                      b: NDArray[np.float64]) -> NDArray[np.float64]:
    v = b - a
    t = np.clip(((px - a[0]) * v[0] + (py - a[1]) * v[1]) / float(v @ v), 0.0, 1.0)
    return np.hypot(px - (a[0] + t * v[0]), py - (a[1] + t * v[1]))


def _approach(s: NDArray[np.float64], t: NDArray[np.float64], c: dict[str, float]) -> tuple[NDArray[np.float64], ...]:
    """Approach-surface height and half-width at distance ``s`` beyond the inner edge (NaN outside its length)."""
    half = c["approach_inner_edge_m"] / 2 + c["approach_divergence"] * s
    first = c["approach_first_slope"] * s
    h1 = c["approach_first_slope"] * c["approach_first_length_m"]
    second = h1 + c["approach_second_slope"] * (s - c["approach_first_length_m"])
    top = h1 + c["approach_second_slope"] * c["approach_second_length_m"]
    h = np.where(s <= c["approach_first_length_m"], first, np.minimum(second, top))
    ok = (s >= 0) & (s <= c["approach_total_length_m"])
    return np.where(ok, h, np.nan), np.where(ok, half, np.nan)


def clearance_limit(xy: ArrayLike, thr_a: ArrayLike, thr_b: ArrayLike, *,
                    params: dict[str, float] | None = None) -> NDArray[np.float64]:
    """Height limit (m above aerodrome elevation) of the obstacle limitation surfaces at points ``xy``.

    The lowest of the surfaces defined at each point (ICAO Annex 14 Table 4-1, code-4
    precision-approach runway): runway strip (0), transitional (14.3 % from the strip
    and approach sides), approach (2 %, 2.5 %, then flat, to 15 km), inner horizontal
    (45 m within 4 km of the runway) and conical (5 % up to 145 m). ``inf`` where no
    surface applies. Metres in a metric CRS; ``thr_a``/``thr_b`` are the thresholds.

    Examples
    --------
    >>> lim = clearance_limit([[0, 0], [0, 400], [-1060, 0], [0, 5000], [0, 9000]], [0, 0], [3400, 0])
    >>> lim.round(1).tolist()
    [0.0, 35.8, 20.0, 95.0, inf]
    """
    c = params or default_params().clearance
    p = np.asarray(xy, dtype=float).reshape(-1, 2)
    a, b = np.asarray(thr_a, dtype=float), np.asarray(thr_b, dtype=float)
    length = float(np.hypot(*(b - a)))
    u = (b - a) / length
    v = np.array([-u[1], u[0]])
    s = (p - a) @ u
    t = np.abs((p - a) @ v)
    limit = np.full(len(p), np.inf)
    beyond = c["strip_beyond_threshold_m"]
    half_strip = c["strip_half_width_m"]
    along = (s >= -beyond) & (s <= length + beyond)
    limit[along & (t <= half_strip)] = 0.0
    ih, r = c["inner_horizontal_height_m"], c["inner_horizontal_radius_m"]
    # transitional surfaces rise from the strip and the approach sides up to the inner horizontal height
    trans = np.where(along & (t > half_strip), c["transitional_slope"] * (t - half_strip), np.inf)
    for s_out in (-s - beyond, s - length - beyond):  # beyond THR A, beyond THR B
        h, half = _approach(s_out, t, c)
        inside = np.isfinite(h) & (t <= half)
        limit[inside] = np.minimum(limit[inside], h[inside])
        flank = np.isfinite(h) & (t > half)
        trans[flank] = np.minimum(trans[flank], h[flank] + c["transitional_slope"] * (t[flank] - half[flank]))
    limit = np.where(trans <= ih, np.minimum(limit, trans), limit)
    d = _segment_distance(p[:, 0], p[:, 1], a, b)
    limit[d <= r] = np.minimum(limit[d <= r], ih)
    outer = r + c["conical_height_m"] / c["conical_slope"]
    cone = (d > r) & (d <= outer)
    limit[cone] = np.minimum(limit[cone], ih + c["conical_slope"] * (d[cone] - r))
    return limit


def _runway_thresholds(metric_crs: object, rw: Runway = GAOQI_RUNWAY) -> tuple[NDArray[np.float64],
                                                                              NDArray[np.float64]]:
    tr = Transformer.from_crs(4326, metric_crs, always_xy=True)
    arp = np.array(tr.transform(*rw.arp))
    brg = math.radians(rw.bearing_mag + rw.mag_var)  # true bearing
    u = np.array([math.sin(brg), math.cos(brg)])
    a = arp - rw.arp_from_threshold_m * u
    return a, a + rw.length_m * u


def clearance_zones(metric_crs: object, land: shapely.Geometry, *, cell_m: float = 50.0) -> gpd.GeoDataFrame:
    """高崎's obstacle limitation surfaces as stepped zones (:data:`CLEARANCE_STEPS_M`), clipped to ``land``."""
    a, b = _runway_thresholds(metric_crs)
    c = default_params().clearance
    reach = c["approach_total_length_m"] + c["strip_beyond_threshold_m"]
    mid = (a + b) / 2
    half = reach + c["approach_inner_edge_m"]
    left, bottom = np.floor((mid - half) / cell_m) * cell_m
    n = int(np.ceil(2 * half / cell_m))
    transform = Affine(cell_m, 0, left, 0, -cell_m, bottom + n * cell_m)
    xs = left + (np.arange(n) + 0.5) * cell_m
    ys = bottom + n * cell_m - (np.arange(n) + 0.5) * cell_m
    gx, gy = np.meshgrid(xs, ys)
    lim = clearance_limit(np.column_stack([gx.ravel(), gy.ravel()]), a, b).reshape(n, n)
    steps = np.asarray(CLEARANCE_STEPS_M)
    band = np.searchsorted(steps, lim, side="right") - 1  # index of the step at or below the limit
    band = np.where(np.isfinite(lim) & (band < steps.size - 1), band, -1).astype(np.int32)
    rows = []
    for geom, k in features.shapes(band, mask=band >= 0, transform=transform):
        poly = shapely.intersection(shapely.geometry.shape(geom), land)
        if not poly.is_empty:
            rows.append((int(k), poly))
    gdf = gpd.GeoDataFrame({"k": [k for k, _ in rows]}, geometry=[g for _, g in rows], crs=metric_crs)
    gdf = gdf.dissolve(by="k", as_index=False)
    gdf["geometry"] = gdf.geometry.simplify(cell_m / 2)
    gdf["MAX_H_M"] = steps[gdf["k"].to_numpy()]
    gdf["NAME"] = [f"高崎机场净空保护区 限高 {h:g} m" for h in gdf["MAX_H_M"]]
    gdf["NOTE"] = ("MODELLED obstacle limitation surfaces (ICAO Annex 14 Table 4-1, code 4 precision approach) of "
                   "runway 05/23 from the AIP; terrain assumed at the aerodrome elevation; each zone's limit is the "
                   "lowest surface height inside it")
    return gdf.drop(columns="k")


def _cells_to_polygons(mask: NDArray[np.bool_], transform: Affine, crs: object) -> gpd.GeoSeries:
    geoms = [shapely.geometry.shape(g) for g, v in features.shapes(mask.astype(np.uint8), mask=mask,
                                                                    transform=transform) if v == 1]
    return gpd.GeoSeries(geoms, crs=crs)


def _farmland(demand: Demand, districts: gpd.GeoDataFrame, blocked: shapely.Geometry,
              rng: np.random.Generator) -> gpd.GeoDataFrame:
    """Seeded patches of low-density land in the outer districts, about :data:`FARMLAND_KM2`."""
    outer = np.isin(districts["XZQDM"].astype(str).to_numpy(), ["350205", "350211", "350212", "350213"])
    cell = float(np.sqrt(np.median(demand.area_km2)) * 1000.0)
    r0, c0 = demand.row.min(), demand.col.min()
    grid = np.zeros((demand.row.max() - r0 + 1, demand.col.max() - c0 + 1), dtype=bool)
    lo, hi = FARMLAND_DENSITY_KM2
    pick = outer[demand.district] & (demand.density_km2 >= lo) & (demand.density_km2 < hi)
    pick &= ~shapely.contains_xy(blocked, demand.x, demand.y)
    grid[demand.row[pick] - r0, demand.col[pick] - c0] = True
    # organic patches: eligible land where a smooth seeded random field is high, about FARMLAND_KM2 in all
    field = ndimage.gaussian_filter(rng.standard_normal(grid.shape), sigma=8.0)
    cut = np.quantile(field[grid], max(0.0, 1.0 - FARMLAND_KM2 * 1e6 / (cell * cell) / max(int(grid.sum()), 1)))
    patch = ndimage.binary_opening(grid & (field >= cut), structure=np.ones((3, 3)))
    labels, n = ndimage.label(patch)
    sizes = np.bincount(labels.ravel(), minlength=n + 1)[1:]
    keep = np.flatnonzero(sizes >= 40) + 1  # >= 0.4 km²
    # the grid's transform, from any populated cell: x = left + (col - c0 + 0.5) * cell
    left = demand.x[0] - (demand.col[0] - c0 + 0.5) * cell
    top = demand.y[0] + (demand.row[0] - r0 + 0.5) * cell
    polys = _cells_to_polygons(np.isin(labels, keep), Affine(cell, 0, left, 0, -cell, top), demand.crs)
    gdf = gpd.GeoDataFrame({"NAME": [f"永久基本农田 片区 {k + 1}" for k in range(len(polys))]},
                           geometry=polys.simplify(cell / 2).to_numpy(), crs=demand.crs)
    gdf["NOTE"] = (f"MODELLED: low-density land ({lo:g}-{hi:g} residents/km² over 500 m) in 海沧, 集美, 同安, 翔安, "
                   "where a seeded smooth random field is high, patches of >= 0.4 km²")
    return gdf


def _heritage(metric_crs: object) -> gpd.GeoDataFrame:
    tr = Transformer.from_crs(4326, metric_crs, always_xy=True)
    geoms = []
    for _, lon, lat, ax, ay in XIAMEN_HERITAGE:
        x, y = tr.transform(lon, lat)
        geoms.append(shapely.affinity.scale(shapely.Point(x, y).buffer(1.0, quad_segs=16), ax, ay))
    return gpd.GeoDataFrame({"NAME": [h[0] for h in XIAMEN_HERITAGE],
                             "NOTE": "MODELLED: protected site and its construction-control zone as an ellipse at an "
                                     "approximate location (public maps)"}, geometry=geoms, crs=metric_crs)


def modelled_constraints(districts_metric: gpd.GeoDataFrame, landcover: gpd.GeoDataFrame, demand: Demand, *,
                         seed: int = 20230928) -> dict[str, gpd.GeoDataFrame]:
    """The five modelled constraint layers of the demo, by kind, in the districts' metric CRS."""
    crs = districts_metric.crs
    lc = landcover.to_crs(crs)
    area = shapely.union_all(districts_metric.geometry.to_numpy())
    sea = shapely.union_all(lc.loc[lc["KIND"] == "sea"].geometry.to_numpy())
    land = shapely.difference(area, sea)
    water = lc.loc[lc["KIND"].isin(["sea", "water"]), ["NAME", "geometry"]].copy()
    water["NAME"] = water["NAME"].str.split(" ").str[0]
    water["NOTE"] = "MODELLED from the land cover (sea: GSHHG shoreline; reservoirs and lakes: approximate outlines)"
    hills = lc.loc[lc["KIND"] == "park", ["NAME", "geometry"]].copy()
    hills["NAME"] = "生态保护红线 " + hills["NAME"].str.split(" ").str[0]
    res = lc.loc[lc["NAME"].str.contains("汀溪|坂头|石兜|莲花")]
    band = res.geometry.buffer(CATCHMENT_M).difference(res.geometry, align=False).intersection(land)
    catch = gpd.GeoDataFrame({"NAME": "生态保护红线 " + res["NAME"].str.split(" ").str[0] + " 水源保护区"},
                             geometry=band.to_numpy(), crs=crs)
    red = gpd.GeoDataFrame(
        {"NAME": list(hills["NAME"]) + list(catch["NAME"])},
        geometry=list(hills.geometry.intersection(land)) + list(catch.geometry), crs=crs)
    red["NOTE"] = (f"MODELLED: the land cover's hills and parks and a {CATCHMENT_M:g} m band around the drinking-water "
                   "reservoirs, on land")
    airport = lc.loc[lc["KIND"] == "airport"].geometry.to_numpy()
    blocked = shapely.union_all([*red.geometry.to_numpy(), *water.geometry.to_numpy(), *airport])
    clear = clearance_zones(crs, land)
    strip = gpd.GeoDataFrame({"NAME": [n.split(" ")[0] + " 飞行区" for n in lc.loc[lc["KIND"] == "airport", "NAME"]],
                              "MAX_H_M": 0.0, "NOTE": "MODELLED: airport land from the land cover (no site)"},
                             geometry=airport, crs=crs)
    return {
        "water": water.reset_index(drop=True),
        "ecological_redline": red,
        "farmland": _farmland(demand, districts_metric, blocked, np.random.default_rng(seed)),
        "airport_clearance": gpd.GeoDataFrame(
            gpd.pd.concat([strip, clear[["NAME", "MAX_H_M", "NOTE", "geometry"]]], ignore_index=True), crs=crs),
        "heritage": _heritage(crs),
    }
