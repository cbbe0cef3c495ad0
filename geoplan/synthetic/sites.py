"""Modelled existing 5G sites consistent with a plan's baseline density.

Sites are drawn from populated cells with probability ∝ population^``alpha``
(``alpha`` > 1 concentrates sites in dense cores, as real networks are), jittered
inside their cell. Site type follows local density (dense cells get more micro
and indoor sites: the plan's "宏+微+室"); operator and band follow modelled
national shares. Everything here is a model, labelled ``MODELLED = 1``.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from ..population import Demand

__all__ = ["modelled_sites", "OPERATOR_SHARES", "TYPE_SHARES"]

#: Modelled operator shares of 5G sites and each operator's main 5G band in China.
OPERATOR_SHARES: dict[str, tuple[float, str]] = {
    "中国移动": (0.48, "n41"),
    "中国电信": (0.24, "n78"),
    "中国联通": (0.22, "n78"),
    "中国广电": (0.06, "n28"),
}
#: Modelled site-type shares (macro, micro, indoor) by density class of the cell (persons/km²).
TYPE_SHARES: tuple[tuple[float, tuple[float, float, float]], ...] = (
    (10_000.0, (0.50, 0.30, 0.20)),
    (3_000.0, (0.65, 0.22, 0.13)),
    (500.0, (0.80, 0.12, 0.08)),
    (0.0, (0.92, 0.05, 0.03)),
)


def modelled_sites(demand: Demand, n: int, *, alpha: float = 1.15, seed: int = 2022,
                   cell_m: float = 100.0, districts: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """Draw ``n`` modelled sites over ``demand`` (metric CRS), returned in the demand's CRS.

    With ``districts`` (same CRS), a site whose jitter carried it out of every district
    (coastal cells) is put back on its cell centre.
    """
    rng = np.random.default_rng(seed)
    p = demand.pop ** alpha
    p = p / p.sum()
    cells = rng.choice(len(demand), size=n, replace=True, p=p)
    x = demand.x[cells] + rng.uniform(-cell_m / 2, cell_m / 2, n)
    y = demand.y[cells] + rng.uniform(-cell_m / 2, cell_m / 2, n)
    if districts is not None:
        inside = districts.union_all()
        import shapely

        out = ~shapely.contains_xy(inside, x, y)
        x[out], y[out] = demand.x[cells[out]], demand.y[cells[out]]
    dens = demand.density_km2[cells]
    kinds = np.array(["macro", "micro", "indoor"])
    site_type = np.empty(n, dtype=object)
    assigned = np.zeros(n, dtype=bool)
    for threshold, shares in TYPE_SHARES:
        m = (~assigned) & (dens >= threshold)
        site_type[m] = rng.choice(kinds, size=int(m.sum()), p=shares)
        assigned |= m
    ops = list(OPERATOR_SHARES)
    op_p = np.array([OPERATOR_SHARES[o][0] for o in ops])
    operator = rng.choice(ops, size=n, p=op_p / op_p.sum())
    band = np.array([OPERATOR_SHARES[o][1] for o in operator])
    # China Mobile also runs n79 on part of its indoor systems
    n79 = (operator == "中国移动") & (site_type == "indoor") & (rng.random(n) < 0.3)
    band[n79] = "n79"
    order = np.lexsort((x, y))
    df = pd.DataFrame({
        "SITE_ID": [f"XM5G{i + 1:06d}" for i in range(n)],
        "SITE_TYPE": site_type[order], "OPERATOR": operator[order], "BAND": band[order],
        "MODELLED": np.ones(n, dtype=np.int64),
    })
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(x[order], y[order]), crs=demand.crs)
