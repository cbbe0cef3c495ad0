"""Modelled candidate inventories and edge-site inventories for the Xiamen demo.

The Xiamen plan asks for 5G sites on shared towers (“加大行业塔与社会塔资源双向共享”), on smart
multi-function poles (“以智慧多功能杆为载体的5G微基站”) and in public facilities opened to 5G
(“机关事业单位、国有企业、重点商圈、交通枢纽、产业园区、旅游景点等公共设施资源免费开放”);
the Fujian plan builds edge data centres on telecom and power-grid sites
(“统筹整合利用电信、电力等站点资源”). No such inventory of Xiamen is available offline:
these seeded generators make stand-ins, every feature ``MODELLED = 1``. Counts, spacings,
heights and capacities are modelling choices (docs/siting.md), not data.

- :func:`modelled_inventory` → ``towers`` (社会塔 of the tower company and 行业塔 of the grid and
  the road/rail operators), ``smart_poles`` (along the main road corridors and in the built-up
  cores) and ``public_buildings`` (the plan's six categories; named transport hubs and industrial
  parks from :data:`~geoplan.synthetic.pois.XIAMEN_ANCHORS`, named scenic spots from
  :data:`XIAMEN_SCENIC`; shopping districts and hubs offer a rooftop macro site and an indoor system);
- :func:`modelled_edge_sites` → ``telecom_offices`` (operators' central offices) and
  ``substations`` (110/220 kV substations, 多站融合) with RACKS and KW.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray
from pyproj import Transformer

from .. import radio
from ..placement.candidates import thin_points
from ..population import Demand
from .pois import XIAMEN_ANCHORS, _which_district
from .population import XIAMEN_CORRIDORS, _segment_distance

__all__ = ["modelled_inventory", "modelled_edge_sites", "XIAMEN_SCENIC", "INVENTORY_COUNTS", "EDGE_COUNTS"]

#: Features of each modelled inventory (modelling choice).
INVENTORY_COUNTS: dict[str, int] = {"social_tower": 3000, "industry_tower": 600, "smart_pole": 2500,
                                    "机关事业单位": 300, "国有企业": 120, "重点商圈": 40, "产业园区": 100}
#: Modelled telecom central offices per district (XZQDM) and substations in all (modelling choice).
EDGE_COUNTS: dict[str, int] = {"350203": 10, "350205": 5, "350206": 9, "350211": 6, "350212": 5, "350213": 5,
                               "substation": 80}
#: Scenic spots (旅游景点) with a public facility opened to 5G, approximate WGS84 locations (public maps).
XIAMEN_SCENIC: tuple[tuple[str, float, float], ...] = (
    ("鼓浪屿", 118.0670, 24.4465), ("曾厝垵", 118.1300, 24.4385), ("南普陀寺", 118.0965, 24.4440),
    ("胡里山炮台", 118.1090, 24.4330), ("沙坡尾", 118.0890, 24.4480), ("白城沙滩", 118.1040, 24.4350),
    ("厦门园林植物园", 118.1100, 24.4540), ("环岛路椰风寨", 118.1700, 24.4540), ("五缘湾", 118.1780, 24.5200),
    ("园博苑", 118.0650, 24.5920), ("集美学村", 118.1030, 24.5760), ("厦门方特梦幻王国", 118.2480, 24.6350),
    ("天竺山森林公园", 117.9880, 24.6280), ("中山路步行街", 118.0820, 24.4560), ("铁路文化公园", 118.0930, 24.4640),
)
_TOWER_SPACING_M = {"dense_urban": 200.0, "urban": 300.0, "suburban": 450.0, "rural": 700.0}
_TOWER_HEIGHTS_M = {"dense_urban": (20.0, 25.0, 30.0), "urban": (25.0, 30.0, 35.0), "suburban": (35.0, 40.0),
                    "rural": (40.0, 45.0)}


def _env(demand: Demand) -> NDArray[np.object_]:
    return np.asarray(radio.ENVIRONMENT_NAMES, dtype=object)[radio.environment_from_density(demand.density_km2)]


def _draw(demand: Demand, rng: np.random.Generator, weight: NDArray[np.float64], n: int, *,
          spacing: NDArray[np.float64] | None = None, cell_m: float = 100.0) -> NDArray[np.float64]:
    """``n`` points on populated cells drawn ∝ ``weight``, jittered in the cell, thinned to ``spacing``."""
    p = weight / weight.sum()
    cells = rng.choice(len(demand), size=n * (4 if spacing is not None else 1), p=p)
    xy = demand.xy[cells] + rng.uniform(-0.45 * cell_m, 0.45 * cell_m, size=(cells.size, 2))
    if spacing is not None:
        keep = thin_points(xy, spacing[cells])
        xy = xy[keep]
    return xy[:n]


def _frame(xy: NDArray[np.float64], crs: object, **cols: Any) -> gpd.GeoDataFrame:
    df = pd.DataFrame({k: (v if np.ndim(v) else [v] * len(xy)) for k, v in cols.items()})
    df["MODELLED"] = 1
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=crs)


def _towers(demand: Demand, env: NDArray[np.object_], rng: np.random.Generator) -> gpd.GeoDataFrame:
    spacing = np.array([_TOWER_SPACING_M[e] for e in env])
    xy = _draw(demand, rng, demand.pop ** 0.9, INVENTORY_COUNTS["social_tower"], spacing=spacing)
    e = env[_nearest(demand, xy)[1]]
    social = _frame(xy, demand.crs, KIND="social_tower", SITE_TYPE="macro", OWNER="中国铁塔厦门市分公司",
                    HEIGHT_M=[float(rng.choice(_TOWER_HEIGHTS_M[k])) for k in e],
                    NAME=[f"社会塔 modelled tower {i + 1:05d}" for i in range(len(xy))])
    # industry towers: power lines and road/rail masts along the corridors, outside the dense cores
    tr = Transformer.from_crs(4326, demand.crs, always_xy=True)
    w = demand.pop ** 0.3 * np.isin(env, ["suburban", "rural"])
    for _, pts, _, _ in XIAMEN_CORRIDORS:
        line = [tr.transform(lon, lat) for lon, lat in pts]
        d = np.min([_segment_distance(demand.x, demand.y, a, b) for a, b in zip(line, line[1:], strict=False)], axis=0)
        w = w * np.where(d < 600.0, 3.0, 1.0)
    ixy = _draw(demand, rng, w + 1e-9, INVENTORY_COUNTS["industry_tower"], spacing=np.full(len(demand), 350.0))
    owners = rng.choice(["国网厦门供电公司", "国网厦门供电公司", "厦门路桥建设集团", "中国铁路南昌局集团"], size=len(ixy))
    industry = _frame(ixy, demand.crs, KIND="industry_tower", SITE_TYPE="macro", OWNER=owners,
                      HEIGHT_M=rng.choice([40.0, 45.0, 50.0, 55.0], size=len(ixy)),
                      NAME=[f"行业塔 modelled industry tower {i + 1:04d}" for i in range(len(ixy))])
    out = pd.concat([social, industry], ignore_index=True)
    out.insert(0, "CAND_ID", [f"TW{i + 1:05d}" for i in range(len(out))])
    return gpd.GeoDataFrame(out, geometry="geometry", crs=demand.crs)


def _poles(demand: Demand, env: NDArray[np.object_], rng: np.random.Generator) -> gpd.GeoDataFrame:
    """Smart poles along the main road corridors (every ~120 m) and in the dense and urban cores."""
    tr = Transformer.from_crs(4326, demand.crs, always_xy=True)
    pts = []
    for _, line, _, _ in XIAMEN_CORRIDORS:
        xy = np.array([tr.transform(lon, lat) for lon, lat in line])
        for a, b in zip(xy, xy[1:], strict=False):
            n = int(np.hypot(*(b - a)) // 120.0)
            t = (np.arange(n) + rng.random(n)) / max(n, 1)
            pts.append(a + t[:, None] * (b - a) + rng.normal(0.0, 20.0, size=(n, 2)))
    road = np.vstack(pts)
    near, idx = _nearest(demand, road)
    road = road[(near < 80.0) & np.isin(env[idx], ["dense_urban", "urban", "suburban"])]
    core = np.isin(env, ["dense_urban", "urban"]).astype(float)
    rest = INVENTORY_COUNTS["smart_pole"] - len(road)
    street = _draw(demand, rng, core * demand.pop ** 0.5 + 1e-12, max(rest, 0),
                   spacing=np.full(len(demand), 150.0))
    xy = np.vstack([road, street])[: INVENTORY_COUNTS["smart_pole"]]
    return _frame(xy, demand.crs, CAND_ID=[f"SP{i + 1:05d}" for i in range(len(xy))], KIND="smart_pole",
                  SITE_TYPE="micro", OWNER="厦门市市政园林局", HEIGHT_M=rng.choice([8.0, 10.0, 12.0], size=len(xy)),
                  NAME=[f"智慧多功能杆 modelled smart pole {i + 1:05d}" for i in range(len(xy))])


def _nearest(demand: Demand, xy: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    from scipy.spatial import cKDTree

    d, i = cKDTree(demand.xy).query(xy, k=1)
    return np.asarray(d, dtype=float), np.asarray(i, dtype=np.int64)


def _named(items: list[tuple[str, float, float]], crs: object) -> NDArray[np.float64]:
    tr = Transformer.from_crs(4326, crs, always_xy=True)
    x, y = tr.transform(np.array([i[1] for i in items]), np.array([i[2] for i in items]))
    return np.column_stack([np.atleast_1d(x), np.atleast_1d(y)])


def _buildings(demand: Demand, env: NDArray[np.object_], districts: gpd.GeoDataFrame,
               rng: np.random.Generator) -> gpd.GeoDataFrame:
    """Public facilities opened to 5G, by the plan's six categories (rooftop macro; indoor where crowds are)."""
    frames = []

    def add(xy: NDArray[np.float64], category: str, names: list[str], owner: str, indoor: bool) -> None:
        keep = _which_district(districts, xy[:, 0], xy[:, 1]) >= 0
        xy, names = xy[keep], [n for n, k in zip(names, keep, strict=True) if k]
        h = rng.choice([24.0, 30.0, 36.0, 45.0, 60.0], size=len(xy))
        frames.append(_frame(xy, demand.crs, KIND="public_building", SITE_TYPE="macro", CATEGORY=category,
                             OWNER=owner, HEIGHT_M=h + 5.0, NAME=names))
        if indoor:
            frames.append(_frame(xy, demand.crs, KIND="public_building", SITE_TYPE="indoor", CATEGORY=category,
                                 OWNER=owner, HEIGHT_M=3.0, NAME=[f"{n} 室内" for n in names]))

    n = INVENTORY_COUNTS
    gov = _draw(demand, rng, demand.pop, n["机关事业单位"])
    add(gov, "机关事业单位", [f"机关事业单位 modelled {i + 1:03d}" for i in range(len(gov))], "机关事务管理局", False)
    soe = _draw(demand, rng, demand.pop ** 1.2, n["国有企业"])
    add(soe, "国有企业", [f"国有企业 modelled {i + 1:03d}" for i in range(len(soe))], "市国资委监管企业", False)
    mall = _draw(demand, rng, demand.pop ** 2.0, n["重点商圈"], spacing=np.full(len(demand), 600.0))
    add(mall, "重点商圈", [f"重点商圈 modelled {i + 1:02d}" for i in range(len(mall))], "商圈运营单位", True)
    hubs = [(a.name.split(" ")[0], a.lon, a.lat) for a in XIAMEN_ANCHORS if a.category == "transport_hub"]
    add(_named(hubs, demand.crs), "交通枢纽", [h[0] for h in hubs], "交通枢纽运营单位", True)
    parks = [a for a in XIAMEN_ANCHORS if a.category == "industrial_park"]
    pxy = _named([(a.name, a.lon, a.lat) for a in parks], demand.crs)
    k = rng.integers(0, len(parks), size=n["产业园区"])
    bxy = pxy[k] + rng.normal(0.0, 600.0, size=(k.size, 2))
    _, cell = _nearest(demand, bxy)
    add(demand.xy[cell] + rng.uniform(-45, 45, size=(k.size, 2)), "产业园区",
        [f"{parks[j].name.split(' ')[0]} 楼宇 modelled {i + 1:03d}" for i, j in enumerate(k)], "园区管委会", False)
    add(_named(list(XIAMEN_SCENIC), demand.crs), "旅游景点", [s[0] for s in XIAMEN_SCENIC], "景区管理单位", False)
    out = pd.concat(frames, ignore_index=True)
    out.insert(0, "CAND_ID", [f"PB{i + 1:04d}" for i in range(len(out))])
    return gpd.GeoDataFrame(out, geometry="geometry", crs=demand.crs)


def modelled_inventory(demand: Demand, *, districts: gpd.GeoDataFrame, seed: int = 2023) -> dict[str, gpd.GeoDataFrame]:
    """The demo's candidate inventories in the demand's metric CRS: ``towers``, ``smart_poles``, ``public_buildings``."""
    rng = np.random.default_rng(seed)
    env = _env(demand)
    return {"towers": _towers(demand, env, rng), "smart_poles": _poles(demand, env, rng),
            "public_buildings": _buildings(demand, env, districts, rng)}


def modelled_edge_sites(demand: Demand, *, districts: gpd.GeoDataFrame,
                        seed: int = 2024) -> dict[str, gpd.GeoDataFrame]:
    """The demo's edge-site inventories: ``telecom_offices`` and ``substations``, with RACKS and KW (2.5 kW/rack)."""
    rng = np.random.default_rng(seed)
    codes = districts["XZQDM"].astype(str).to_numpy()
    offices = []
    for i, code in enumerate(codes):
        m = demand.district == i
        w = np.where(m, demand.pop ** 1.5, 0.0)
        offices.append(_draw(demand, rng, w, EDGE_COUNTS.get(code, 3), spacing=np.full(len(demand), 1500.0)))
    oxy = np.vstack(offices)
    racks = np.clip(np.round(40 * rng.lognormal(0.0, 0.6, len(oxy))), 10, 300)
    ops = np.array(["中国电信", "中国移动", "中国联通"])[np.arange(len(oxy)) % 3]
    tel = _frame(oxy, demand.crs, NAME=[f"{o}通信局所 modelled {i + 1:02d}" for i, o in enumerate(ops)],
                 KIND="telecom_office", OWNER=ops, RACKS=racks, KW=racks * 2.5)
    sxy = _draw(demand, rng, demand.pop ** 0.6, EDGE_COUNTS["substation"], spacing=np.full(len(demand), 2000.0))
    sr = rng.choice([10.0, 16.0, 20.0, 24.0, 30.0], size=len(sxy))
    sub = _frame(sxy, demand.crs, NAME=[f"变电站 modelled {i + 1:02d}" for i in range(len(sxy))], KIND="substation",
                 OWNER="国网厦门供电公司", RACKS=sr, KW=sr * 2.5)
    return {"telecom_offices": tel, "substations": sub}
