"""Modelled demand points for edge data centres, and modelled public car parks.

No licensed point data for Xiamen's ports, industrial parks, hospitals,
schools, transport hubs or public car parks is available offline. These seeded
generators make plausible stand-ins, every feature labelled ``MODELLED = 1``:

- **Named anchors** (ports, industrial parks, transport hubs): real places, at
  *approximate* locations read off public maps (a few hundred metres off is
  expected). An anchor that falls outside its own district's polygon (coastal
  terminals, reclaimed land) is moved to the nearest populated cell of that district.
- **Hospitals and schools**: drawn from the population grid, hospitals
  ∝ population^1.3 (they cluster in the cores), schools ∝ population.
- **Public car parks**: drawn ∝ population (existing) or ∝ population^0.8
  (new ones sit more in growing outer areas), with modelled total spaces and
  built / reserved charging spaces.

The category weights (:data:`CATEGORY_WEIGHTS`) are a modelling choice for
the relative demand of low-latency computing, not data. A planner's own layers
replace all of this through the project file.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from scipy.spatial import cKDTree

from ..population import Demand

__all__ = [
    "Anchor",
    "XIAMEN_ANCHORS",
    "CATEGORY_WEIGHTS",
    "modelled_edge_demand",
    "modelled_car_parks",
]

#: Modelled relative demand for low-latency computing per demand point, by category.
CATEGORY_WEIGHTS: dict[str, float] = {
    "port": 5.0,
    "industrial_park": 4.0,
    "transport_hub": 4.0,
    "hospital": 2.0,
    "school": 1.0,
}


@dataclass(frozen=True)
class Anchor:
    """A named place of edge-computing demand at an approximate WGS84 location, and its district code."""

    name: str
    category: str
    lon: float
    lat: float
    xzqdm: str


#: Xiamen's port areas, industrial parks and transport hubs; locations approximate (public maps).
XIAMEN_ANCHORS: tuple[Anchor, ...] = (
    Anchor("厦门港东渡港区 Dongdu port area", "port", 118.080, 24.495, "350206"),
    Anchor("厦门港海天码头 Haitian terminal", "port", 118.088, 24.513, "350206"),
    Anchor("厦门港嵩屿码头 Songyu terminal", "port", 118.050, 24.442, "350205"),
    Anchor("厦门港海沧港区 Haicang port area", "port", 118.000, 24.447, "350205"),
    Anchor("厦门港刘五店港区 Liuwudian port area", "port", 118.238, 24.560, "350213"),
    Anchor("火炬高新区火炬园 Torch Hi-tech Park", "industrial_park", 118.170, 24.505, "350206"),
    Anchor("厦门软件园二期 Software Park II", "industrial_park", 118.185, 24.488, "350203"),
    Anchor("厦门软件园三期 Software Park III", "industrial_park", 118.060, 24.622, "350211"),
    Anchor("火炬(翔安)产业区 Torch Xiang'an Industrial Zone", "industrial_park", 118.255, 24.600, "350213"),
    Anchor("海沧新阳工业区 Haicang Xinyang Industrial Zone", "industrial_park", 118.015, 24.505, "350205"),
    Anchor("海沧生物医药港 Haicang Biomedical Park", "industrial_park", 118.035, 24.520, "350205"),
    Anchor("杏林台商投资区 Xinglin Taiwanese Investment Zone", "industrial_park", 118.040, 24.565, "350211"),
    Anchor("集美机械工业集中区 Jimei Machinery Industrial Zone", "industrial_park", 117.995, 24.620, "350211"),
    Anchor("同安工业集中区 Tong'an Industrial Concentration Zone", "industrial_park", 118.120, 24.700, "350212"),
    Anchor("象屿保税区 Xiangyu Free Trade Zone", "industrial_park", 118.100, 24.520, "350206"),
    Anchor("厦门高崎国际机场 Gaoqi Airport", "transport_hub", 118.128, 24.544, "350206"),
    Anchor("厦门翔安国际机场(在建) Xiang'an Airport (under construction)", "transport_hub", 118.370, 24.560, "350213"),
    Anchor("厦门站 Xiamen railway station", "transport_hub", 118.117, 24.468, "350203"),
    Anchor("厦门北站 Xiamen North railway station", "transport_hub", 118.073, 24.637, "350211"),
    Anchor("厦门国际邮轮中心 Xiamen cruise terminal", "transport_hub", 118.075, 24.478, "350206"),
    Anchor("五通客运码头 Wutong ferry terminal", "transport_hub", 118.195, 24.520, "350206"),
    Anchor("地铁吕厝站(1/2号线) Lücuo metro interchange", "transport_hub", 118.127, 24.493, "350203"),
    Anchor("BRT第一码头站 BRT Diyi Matou hub", "transport_hub", 118.080, 24.463, "350203"),
    Anchor("地铁海沧湾公园站 Haicang Bay Park metro", "transport_hub", 118.040, 24.485, "350205"),
    Anchor("同安BRT枢纽 Tong'an BRT hub", "transport_hub", 118.155, 24.725, "350212"),
)


def _district_names(districts: gpd.GeoDataFrame, idx: np.ndarray) -> np.ndarray:
    names = np.array(districts["XZQMC"].astype(str).tolist() + [""], dtype=object)
    return names[idx]


def _which_district(districts: gpd.GeoDataFrame, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    out = np.full(x.size, -1, dtype=np.int64)
    for i, geom in enumerate(districts.geometry):
        shapely.prepare(geom)
        inside = (out < 0) & shapely.contains_xy(geom, x, y)
        out[inside] = i
    return out


def _draw_cells(demand: Demand, n: int, alpha: float, rng: np.random.Generator, cell_m: float,
                districts: gpd.GeoDataFrame, *, replace: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n`` populated cells ∝ pop^alpha, jittered inside the cell (back to the centre if that leaves the land)."""
    p = demand.pop ** alpha
    cells = rng.choice(len(demand), size=n, replace=replace, p=p / p.sum())
    x = demand.x[cells] + rng.uniform(-cell_m / 2, cell_m / 2, n)
    y = demand.y[cells] + rng.uniform(-cell_m / 2, cell_m / 2, n)
    out = _which_district(districts, x, y) < 0
    x[out], y[out] = demand.x[cells[out]], demand.y[cells[out]]
    return x, y, cells


def modelled_edge_demand(demand: Demand, *, districts: gpd.GeoDataFrame, n_hospitals: int = 45,
                         n_schools: int = 150, anchors: tuple[Anchor, ...] = XIAMEN_ANCHORS,
                         seed: int = 2023, cell_m: float = 100.0) -> gpd.GeoDataFrame:
    """Modelled edge-computing demand points (``edge_demand`` layer) in the demand's metric CRS.

    Parameters
    ----------
    demand : Demand
        Populated cells (metric CRS) to draw hospitals and schools from.
    districts : GeoDataFrame
        District polygons in the same CRS (XZQMC used in names).
    n_hospitals, n_schools : int
        Modelled numbers of hospitals and schools with edge-computing demand.
    anchors : tuple of Anchor
        Named ports, industrial parks and transport hubs.
    seed : int
        Seed of the draws.
    cell_m : float
        Cell size of ``demand`` (for the jitter).

    Returns
    -------
    GeoDataFrame
        NAME, CATEGORY, WEIGHT, MODELLED (= 1) and NOTE, Point geometry.
    """
    rng = np.random.default_rng(seed)
    tr = Transformer.from_crs(4326, demand.crs, always_xy=True)
    ax, ay = tr.transform(np.array([a.lon for a in anchors]), np.array([a.lat for a in anchors]))
    ax, ay = np.asarray(ax, dtype=float), np.asarray(ay, dtype=float)
    codes = np.array(districts["XZQDM"].astype(str).tolist() + [""], dtype=object)
    want = np.array([a.xzqdm for a in anchors], dtype=object)
    moved = codes[_which_district(districts, ax, ay)] != want
    note = np.array(["approximate location read off public maps"] * len(anchors), dtype=object)
    cell_codes = codes[demand.district]
    for i in np.flatnonzero(moved):
        pool = np.flatnonzero(cell_codes == want[i])
        if pool.size == 0:
            raise ValueError(f"anchor {anchors[i].name}: no populated cell in district {want[i]}")
        _, k = cKDTree(demand.xy[pool]).query([ax[i], ay[i]])
        ax[i], ay[i] = demand.x[pool[k]], demand.y[pool[k]]
        note[i] = f"approximate location, moved to the nearest populated cell of district {want[i]}"
    hx, hy, _ = _draw_cells(demand, n_hospitals, 1.3, rng, cell_m, districts)
    sx, sy, _ = _draw_cells(demand, n_schools, 1.0, rng, cell_m, districts)
    hd = _district_names(districts, _which_district(districts, hx, hy))
    sd = _district_names(districts, _which_district(districts, sx, sy))
    names = [a.name for a in anchors]
    names += [f"{d}模拟医院 modelled hospital {i + 1:02d}" for i, d in enumerate(hd)]
    names += [f"{d}模拟学校 modelled school {i + 1:03d}" for i, d in enumerate(sd)]
    cats = [a.category for a in anchors] + ["hospital"] * n_hospitals + ["school"] * n_schools
    notes = note.tolist() + ["sampled from the population grid ∝ population^1.3"] * n_hospitals \
        + ["sampled from the population grid ∝ population"] * n_schools
    df = pd.DataFrame({
        "NAME": names, "CATEGORY": cats, "WEIGHT": [CATEGORY_WEIGHTS[c] for c in cats],
        "MODELLED": np.ones(len(cats), dtype=np.int64), "NOTE": notes,
    })
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(np.r_[ax, hx, sx], np.r_[ay, hy, sy]),
                            crs=demand.crs)


def modelled_car_parks(demand: Demand, *, districts: gpd.GeoDataFrame, n_existing: int = 600,
                       n_new: int = 120, seed: int = 2025, cell_m: float = 100.0) -> gpd.GeoDataFrame:
    """Modelled public car parks (``car_parks`` layer) in the demand's metric CRS.

    The model (all parameters are modelling choices, not data):

    - ``SPACES``: lognormal, median 150, sigma 0.8, clipped to 20–3,000 spaces;
    - existing car parks: 45 % have chargers, on a share of spaces ~ Beta(2, 18)
      (mean 10 %); 15 % have reserved (ducted) spaces, share ~ Beta(2, 30);
    - new car parks: 55 % are modelled at or above the 20 % rule (built share
      uniform in 20–35 %), the rest below it (uniform in 0–20 %); reserved
      spaces uniform in 0–25 % of what is left; ``CHG_BUILT + CHG_RESV <= SPACES``.

    Returns
    -------
    GeoDataFrame
        NAME, SPACES, CHG_BUILT, CHG_RESV, IS_NEW, MODELLED (= 1), Point geometry.
    """
    rng = np.random.default_rng(seed)
    ex, ey, _ = _draw_cells(demand, n_existing, 1.0, rng, cell_m, districts)
    nx, ny, _ = _draw_cells(demand, n_new, 0.8, rng, cell_m, districts)
    n = n_existing + n_new
    spaces = np.clip(np.round(150 * rng.lognormal(0.0, 0.8, n)), 20, 3000).astype(np.int64)
    is_new = np.r_[np.zeros(n_existing, dtype=np.int64), np.ones(n_new, dtype=np.int64)]
    share = np.zeros(n)
    has = rng.random(n_existing) < 0.45
    share[:n_existing] = np.where(has, rng.beta(2, 18, n_existing), 0.0)
    ok = rng.random(n_new) < 0.55
    share[n_existing:] = np.where(ok, rng.uniform(0.20, 0.35, n_new), rng.uniform(0.0, 0.20, n_new))
    built = np.floor(share * spaces).astype(np.int64)
    # a car park modelled as meeting the rule does meet it after rounding
    need = np.ceil(0.20 * spaces - 1e-9).astype(np.int64)
    fix = (is_new == 1) & np.r_[np.zeros(n_existing, bool), ok] & (built < need)
    built[fix] = need[fix]
    resv_share = np.r_[np.where(rng.random(n_existing) < 0.15, rng.beta(2, 30, n_existing), 0.0),
                       rng.uniform(0.0, 0.25, n_new)]
    resv = np.floor(resv_share * (spaces - built)).astype(np.int64)
    dist = _district_names(districts, _which_district(districts, np.r_[ex, nx], np.r_[ey, ny]))
    names = [f"{d}模拟{'新建' if new else '现状'}公共停车场 modelled {'new' if new else 'existing'} car park "
             f"{i + 1:03d}" for i, (d, new) in enumerate(zip(dist, is_new, strict=True))]
    df = pd.DataFrame({"NAME": names, "SPACES": spaces, "CHG_BUILT": built, "CHG_RESV": resv, "IS_NEW": is_new,
                       "MODELLED": np.ones(n, dtype=np.int64)})
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(np.r_[ex, nx], np.r_[ey, ny]), crs=demand.crs)
