"""A modelled 100 m population grid whose district sums equal the census.

Dasymetric model: within each district, persons are spread over land cells in
proportion to a density surface made of exponential-decay kernels around
documented urban centres plus a small rural floor, then scaled so the district
sums equal the 2020 census exactly. It is a *model* for demonstration, not
observed data.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
from affine import Affine
from pyproj import CRS, Transformer
from rasterio import features

from ..io import Raster

__all__ = ["UrbanCentre", "XIAMEN_CENTRES", "modelled_population"]


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


def modelled_population(districts_metric: gpd.GeoDataFrame, census: np.ndarray, *,
                        centres: tuple[UrbanCentre, ...] = XIAMEN_CENTRES, cell_m: float = 100.0,
                        rural_floor: float = 0.015, seed: int = 20201101, nodata: float = -9999.0) -> Raster:
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
        Seed of the multiplicative noise (lognormal, sigma 0.35) that breaks the kernels' symmetry.
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
    rng = np.random.default_rng(seed)
    surface *= rng.lognormal(0.0, 0.35, size=surface.shape)
    values = np.full((h, w), nodata, dtype=float)
    for i, total in enumerate(np.asarray(census, dtype=float)):
        m = grid == i
        if not m.any():
            raise ValueError(f"district {i} covers no {cell_m:g} m cell centre")
        values[m] = surface[m] * (total / surface[m].sum())
    return Raster(values=values, transform=transform, crs=crs, nodata=nodata, name="population")
