"""Modelled existing 5G sites of three operator networks, with a minimum spacing.

Each network (中国移动 ``cmcc``; 中国电信/中国联通 ``ctcu``, one shared grid; 中国广电 ``cbn``) gets its
share of the stations (:data:`NETWORK_SHARES`). Within a network, candidate positions are drawn from
populated cells with probability ∝ population^``alpha`` (dense cores get more), jittered inside
their cell, given a site type by the environment of the cell (:data:`TYPE_SHARES`, the plan's
"宏+微+室") and kept only if no site of the same network and type lies within the minimum spacing of
that type and environment (:data:`MIN_SPACING_M`). Bands follow the network, site type and
environment (:func:`_bands`). One record is one physical station: a CT/CU shared station is one
record (OPERATOR = the operator that built it, NETWORK = ``ctcu``), and so is a 中国移动 700 MHz
station that 中国广电 also uses. Everything here is a model, labelled ``MODELLED = 1``.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import radio
from ..population import Demand

__all__ = ["modelled_sites", "NETWORK_SHARES", "TYPE_SHARES", "MIN_SPACING_M", "OPERATOR_SHARES"]

#: Share of 5G stations by network: 中国移动 128.5万, 中国电信/联通 共建共享 ~99.9万 of MIIT's 231.2万 at the
#: end of 2022 (operators' 2022 annual reports, MIIT 2022 statistical bulletin); 中国广电's own stations
#: are few (its 700 MHz network is built by 中国移动).
NETWORK_SHARES: dict[str, float] = {"cmcc": 0.56, "ctcu": 0.435, "cbn": 0.005}
#: Kept for callers of the old module: operator shares of records (the builder of a station).
OPERATOR_SHARES: dict[str, float] = {"中国移动": 0.56, "中国电信": 0.2175, "中国联通": 0.2175, "中国广电": 0.005}
#: Site-type shares (macro, micro, indoor) by environment (modelling choice: denser areas more micro/indoor).
TYPE_SHARES: dict[str, tuple[float, float, float]] = {
    "dense_urban": (0.50, 0.30, 0.20),
    "urban": (0.65, 0.22, 0.13),
    "suburban": (0.80, 0.12, 0.08),
    "rural": (0.92, 0.05, 0.03),
}
#: Minimum distance (m) between two sites of the same network and type, by environment (modelling choice,
#: below the field inter-site distances of each environment so that density, not spacing, sets the count).
MIN_SPACING_M: dict[str, dict[str, float]] = {
    "macro": {"dense_urban": 150.0, "urban": 220.0, "suburban": 350.0, "rural": 600.0},
    "micro": {"dense_urban": 60.0, "urban": 80.0, "suburban": 100.0, "rural": 150.0},
    "indoor": {"dense_urban": 40.0, "urban": 50.0, "suburban": 60.0, "rural": 80.0},
}
_KINDS = ("macro", "micro", "indoor")
_OPERATOR = {"cmcc": "中国移动", "cbn": "中国广电"}


def _bands(network: str, kind: str, env: str, u: float) -> str:
    """Bands of one station (';'-joined, primary first), from a uniform draw ``u`` (modelling choice)."""
    outer = env in ("suburban", "rural")
    if network == "cmcc":
        if kind == "macro":
            if outer:
                return "n41;n28" if u < 0.5 else ("n28" if u < 0.8 else "n41")
            return "n41;n28" if u < 0.15 else "n41"
        if kind == "indoor":
            return "n79" if u < 0.3 else "n41"
        return "n41"
    if network == "ctcu":
        if kind == "macro":
            if outer:
                return "n78;n1" if u < 0.4 else ("n1" if u < 0.7 else "n78")
            return "n78;n1" if u < 0.25 else "n78"
        return "n78"
    return "n79"


def _environments(demand: Demand) -> np.ndarray:
    """Environment name of each demand cell from its 500 m neighbourhood density."""
    rows, cols = demand.row - demand.row.min(), demand.col - demand.col.min()
    grid = np.full((int(rows.max()) + 1, int(cols.max()) + 1), np.nan)
    grid[rows, cols] = demand.pop
    cell_m = float(np.sqrt(np.median(demand.area_km2)) * 1000.0)
    dens = radio.neighbourhood_density(grid, cell_m=cell_m, radius_m=500.0)[rows, cols]
    return np.asarray(radio.ENVIRONMENT_NAMES)[radio.environment_from_density(np.nan_to_num(dens))]


def _place(rng: np.random.Generator, demand: Demand, env: np.ndarray, p: np.ndarray, n: int,
           cell_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``n`` spaced sites of one network: x, y, kind, environment (sequential inhibition)."""
    xs: list[float] = []
    ys: list[float] = []
    kinds: list[str] = []
    envs: list[str] = []
    buckets: dict[tuple[str, int, int], list[int]] = {}
    relax = 1.0
    while len(xs) < n:
        batch = rng.choice(len(demand), size=max(4 * (n - len(xs)), 256), p=p)
        jit = rng.uniform(-cell_m / 2, cell_m / 2, size=(len(batch), 2))
        draw = rng.random(len(batch))
        before = len(xs)
        for c, (jx, jy), u in zip(batch, jit, draw, strict=True):
            e = str(env[c])
            shares = np.cumsum(TYPE_SHARES[e])
            kind = _KINDS[int(np.searchsorted(shares, u * shares[-1], side="right"))]
            sp = MIN_SPACING_M[kind][e] * relax
            x, y = demand.x[c] + jx, demand.y[c] + jy
            gx, gy = int(x // 600.0), int(y // 600.0)
            reach = int(np.ceil(sp / 600.0))
            ok = True
            for ix in range(gx - reach, gx + reach + 1):
                for iy in range(gy - reach, gy + reach + 1):
                    for k in buckets.get((kind, ix, iy), ()):
                        if (xs[k] - x) ** 2 + (ys[k] - y) ** 2 < sp * sp:
                            ok = False
                            break
                    if not ok:
                        break
                if not ok:
                    break
            if ok:
                buckets.setdefault((kind, gx, gy), []).append(len(xs))
                xs.append(x)
                ys.append(y)
                kinds.append(kind)
                envs.append(e)
                if len(xs) == n:
                    break
        if len(xs) - before < max(1, (n - before) // 20):
            relax *= 0.8  # the populated area is saturated at this spacing: loosen it
    return np.asarray(xs), np.asarray(ys), np.asarray(kinds), np.asarray(envs)


def modelled_sites(demand: Demand, n: int, *, alpha: float = 1.15, seed: int = 2022,
                   cell_m: float = 100.0, districts: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """Draw ``n`` modelled stations over ``demand`` (metric CRS), returned in the demand's CRS.

    With ``districts`` (same CRS), a site whose jitter carried it out of every district (coastal
    cells) is put back on its cell centre. Columns: SITE_ID, SITE_TYPE, OPERATOR, NETWORK, BAND
    (primary band), BANDS (all bands, ';'-joined), MODELLED.
    """
    rng = np.random.default_rng(seed)
    env = _environments(demand)
    w = demand.pop ** alpha
    p = w / w.sum()
    counts = np.floor(np.array(list(NETWORK_SHARES.values())) * n).astype(int)
    counts[0] += n - int(counts.sum())
    frames = []
    for net, k in zip(NETWORK_SHARES, counts, strict=True):
        if k == 0:
            continue
        x, y, kind, e = _place(rng, demand, env, p, int(k), cell_m)
        u = rng.random(len(x))
        bands = np.array([_bands(net, kk, ee, uu) for kk, ee, uu in zip(kind, e, u, strict=True)])
        if net == "ctcu":
            operator = np.where(rng.random(len(x)) < 0.5, "中国电信", "中国联通")
        else:
            operator = np.full(len(x), _OPERATOR[net])
        frames.append(pd.DataFrame({"x": x, "y": y, "SITE_TYPE": kind, "OPERATOR": operator, "NETWORK": net,
                                    "BAND": [b.split(";")[0] for b in bands], "BANDS": bands}))
    df = pd.concat(frames, ignore_index=True)
    if districts is not None:
        inside = districts.union_all()
        out = ~shapely.contains_xy(inside, df["x"].to_numpy(), df["y"].to_numpy())
        if out.any():
            _, idx = _nearest_cells(demand, df.loc[out, ["x", "y"]].to_numpy())
            df.loc[out, "x"], df.loc[out, "y"] = demand.x[idx], demand.y[idx]
    df = df.sort_values(["y", "x"], kind="stable").reset_index(drop=True)
    df.insert(0, "SITE_ID", [f"XM5G{i + 1:06d}" for i in range(len(df))])
    df["MODELLED"] = np.ones(len(df), dtype=np.int64)
    geom = gpd.points_from_xy(df.pop("x"), df.pop("y"))
    return gpd.GeoDataFrame(df, geometry=geom, crs=demand.crs)


def _nearest_cells(demand: Demand, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from scipy.spatial import cKDTree

    d, idx = cKDTree(demand.xy).query(xy, k=1)
    return d, idx
