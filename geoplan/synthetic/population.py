"""A modelled 100 m population grid whose district sums equal the census.

Dasymetric model: within each district, persons are spread over land cells in
proportion to a density surface, then scaled so the district sums equal the 2020
census exactly. The surface is the sum of

* exponential-decay kernels around documented urban centres (:data:`XIAMEN_CENTRES`),
* road corridors: density decaying with the distance to the main roads
  (:data:`XIAMEN_CORRIDORS`, polylines read off general maps),
* urban villages (城中村): small, very dense kernels at named villages
  (:data:`XIAMEN_VILLAGES`) plus seeded ones drawn where the surface is already dense,
* a small rural floor, times seeded lognormal noise,

and is **zero** on excluded land (sea inside the district outlines, reservoirs and
lakes, the airports, large parks and hills: ``data/gis/sources/xiamen_landcover_modelled.geojson``).
It is a *model* for demonstration, not observed data.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
from affine import Affine
from pyproj import CRS, Transformer
from rasterio import features

from ..io import Raster

__all__ = ["UrbanCentre", "XIAMEN_CENTRES", "XIAMEN_CORRIDORS", "XIAMEN_VILLAGES", "modelled_population"]


@dataclass(frozen=True)
class UrbanCentre:
    """A centre of the density model: location (WGS84), decay length and relative weight."""

    name: str
    lon: float
    lat: float
    scale_m: float
    weight: float


#: Urban centres of Xiamen used by the model (locations read off public maps of the
#: districts' built-up cores; decay lengths and weights are modelling choices).
XIAMEN_CENTRES: tuple[UrbanCentre, ...] = (
    UrbanCentre("思明 中山路—鹭江道 old town", 118.083, 24.456, 1500, 1.0),
    UrbanCentre("思明 莲前—会展 east Siming", 118.160, 24.475, 2200, 0.8),
    UrbanCentre("湖里 江头—SM", 118.130, 24.505, 1800, 1.0),
    UrbanCentre("湖里 五缘湾—高崎", 118.170, 24.520, 2000, 0.7),
    UrbanCentre("湖里 东渡—湖里老城", 118.095, 24.500, 1500, 0.8),
    UrbanCentre("集美 学村—集美新城", 118.105, 24.585, 2200, 0.8),
    UrbanCentre("集美 杏林", 118.045, 24.575, 2000, 0.7),
    UrbanCentre("集美 灌口", 117.990, 24.610, 2500, 0.35),
    UrbanCentre("海沧 新阳—海沧中心", 118.035, 24.490, 2200, 0.8),
    UrbanCentre("海沧 东孚", 117.975, 24.560, 2500, 0.3),
    UrbanCentre("同安 城区", 118.155, 24.730, 2500, 0.9),
    UrbanCentre("同安 西柯—祥平", 118.130, 24.675, 2500, 0.5),
    UrbanCentre("翔安 新店—翔安新城", 118.245, 24.615, 2500, 0.6),
    UrbanCentre("翔安 马巷", 118.250, 24.665, 2200, 0.6),
    UrbanCentre("翔安 内厝", 118.295, 24.685, 2500, 0.3),
)


#: Main road corridors of Xiamen (WGS84 polylines, approximate to ~0.5 km, read off general maps):
#: name, vertices, decay length (m), weight. Weights and lengths are modelling choices.
XIAMEN_CORRIDORS: tuple[tuple[str, tuple[tuple[float, float], ...], float, float], ...] = (
    ("嘉禾路 (island N-S spine)", ((118.098, 24.470), (118.110, 24.500), (118.115, 24.525)), 500.0, 0.5),
    ("厦禾路—湖滨", ((118.085, 24.462), (118.120, 24.475)), 400.0, 0.5),
    ("仙岳路", ((118.085, 24.507), (118.180, 24.507)), 400.0, 0.4),
    ("成功大道", ((118.100, 24.460), (118.130, 24.530)), 400.0, 0.3),
    ("环岛东路—会展", ((118.150, 24.452), (118.195, 24.500)), 400.0, 0.25),
    ("集美大道", ((118.030, 24.600), (118.120, 24.610)), 500.0, 0.35),
    ("海沧大道", ((118.000, 24.450), (118.070, 24.500)), 500.0, 0.3),
    ("同集路", ((118.100, 24.600), (118.140, 24.690), (118.160, 24.730)), 500.0, 0.3),
    ("324国道 同安—翔安", ((118.160, 24.700), (118.250, 24.660), (118.300, 24.680)), 500.0, 0.25),
    ("翔安南路—新店", ((118.230, 24.600), (118.260, 24.670)), 500.0, 0.25),
)
#: Named urban villages (城中村), WGS84, approximate; each a kernel of 250 m decay, weight 1.2 (modelling choice).
XIAMEN_VILLAGES: tuple[tuple[str, float, float], ...] = (
    ("曾厝垵", 118.130, 24.438), ("何厝", 118.185, 24.487), ("前埔", 118.170, 24.478), ("殿前", 118.105, 24.532),
    ("高林", 118.180, 24.522), ("后埔", 118.150, 24.505), ("枋湖", 118.135, 24.515), ("马垅", 118.118, 24.524),
    ("县后", 118.150, 24.495), ("杏林村", 118.050, 24.578), ("后溪", 118.050, 24.632), ("新垵", 118.020, 24.512),
    ("西柯", 118.140, 24.662), ("新店", 118.245, 24.615), ("马巷", 118.252, 24.668),
)
_VILLAGE_SCALE_M, _VILLAGE_WEIGHT, _RANDOM_VILLAGES = 250.0, 1.2, 60


def _segment_distance(X: np.ndarray, Y: np.ndarray, a: tuple[float, float], b: tuple[float, float]) -> np.ndarray:
    ax, ay = a
    bx, by = b
    vx, vy = bx - ax, by - ay
    t = np.clip(((X - ax) * vx + (Y - ay) * vy) / max(vx * vx + vy * vy, 1e-9), 0.0, 1.0)
    return np.hypot(X - (ax + t * vx), Y - (ay + t * vy))


def modelled_population(districts_metric: gpd.GeoDataFrame, census: np.ndarray, *,
                        centres: tuple[UrbanCentre, ...] = XIAMEN_CENTRES, cell_m: float = 100.0,
                        rural_floor: float = 0.015, seed: int = 20201101, nodata: float = -9999.0,
                        excluded: gpd.GeoDataFrame | None = None, corridors: tuple = XIAMEN_CORRIDORS,
                        villages: tuple = XIAMEN_VILLAGES) -> Raster:
    """Model a population grid over ``districts_metric`` whose district sums equal ``census``.

    Parameters
    ----------
    districts_metric : GeoDataFrame
        District polygons in a metric CRS (cells are burned by the cell-centre rule).
    census : ndarray
        Persons per district, in the same order.
    centres : tuple of UrbanCentre
        Centres of the density surface.
    cell_m : float
        Cell size in metres.
    rural_floor : float
        Density floor relative to a centre's peak, so every land cell holds someone.
    seed : int
        Seed of the multiplicative noise (lognormal, sigma 0.35) and of the random urban villages.
    excluded : GeoDataFrame, optional
        Polygons (any CRS) where nobody lives: water, airports, parks and hills. Cells whose centre
        falls in one get 0 persons.
    corridors, villages : tuple
        Road corridors and named urban villages (see :data:`XIAMEN_CORRIDORS`, :data:`XIAMEN_VILLAGES`).
    """
    crs = CRS.from_user_input(districts_metric.crs)
    left, bottom, right, top = districts_metric.total_bounds
    left, bottom = np.floor(left / cell_m) * cell_m, np.floor(bottom / cell_m) * cell_m
    right, top = np.ceil(right / cell_m) * cell_m, np.ceil(top / cell_m) * cell_m
    w, h = int(round((right - left) / cell_m)), int(round((top - bottom) / cell_m))
    transform = Affine(cell_m, 0, left, 0, -cell_m, top)
    grid = features.rasterize(((g, i) for i, g in enumerate(districts_metric.geometry)),
                              out_shape=(h, w), transform=transform, fill=-1, dtype="int32")
    xs = left + (np.arange(w) + 0.5) * cell_m
    ys = top - (np.arange(h) + 0.5) * cell_m
    X, Y = np.meshgrid(xs, ys)
    tr = Transformer.from_crs(4326, crs, always_xy=True)
    surface = np.full((h, w), rural_floor)
    for c in centres:
        cx, cy = tr.transform(c.lon, c.lat)
        d = np.hypot(X - cx, Y - cy)
        surface += c.weight * np.exp(-d / c.scale_m)
    for _, pts, scale, weight in corridors:
        xy = [tr.transform(lon, lat) for lon, lat in pts]
        d = np.min([_segment_distance(X, Y, a, b) for a, b in zip(xy, xy[1:], strict=False)], axis=0)
        surface += weight * np.exp(-d / scale)
    rng = np.random.default_rng(seed)
    vill = [tr.transform(lon, lat) for _, lon, lat in villages]
    inside = np.flatnonzero((grid >= 0).ravel())
    wv = surface.ravel()[inside] ** 2
    pick = inside[rng.choice(len(inside), size=_RANDOM_VILLAGES, replace=False, p=wv / wv.sum())]
    vill += list(zip(X.ravel()[pick], Y.ravel()[pick], strict=True))
    for vx, vy in vill:
        surface += _VILLAGE_WEIGHT * np.exp(-np.hypot(X - vx, Y - vy) / _VILLAGE_SCALE_M)
    surface *= rng.lognormal(0.0, 0.35, size=surface.shape)
    if excluded is not None and len(excluded):
        mask = features.rasterize(((g, 1) for g in excluded.to_crs(crs).geometry), out_shape=(h, w),
                                  transform=transform, fill=0, dtype="uint8")
        surface[mask == 1] = 0.0
    values = np.full((h, w), nodata, dtype=float)
    for i, total in enumerate(np.asarray(census, dtype=float)):
        m = grid == i
        if not m.any() or surface[m].sum() <= 0:
            raise ValueError(f"district {i} covers no inhabitable {cell_m:g} m cell centre")
        values[m] = surface[m] * (total / surface[m].sum())
    return Raster(values=values, transform=transform, crs=crs, nodata=nodata, name="population")
