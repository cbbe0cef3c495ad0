"""The coverage grid: which populated cells a plan's sites cover, on the population raster's grid.

One code per populated cell — 0 not covered, 1 covered by existing sites, 2
newly covered by the planned (or drawn) sites, 255 no population — so a map,
a report and a one-map delivery (layer ``coverage``, FGWG) show the same thing.
It is the grid of the plan's band and indoor/outdoor setting (the planning
context's :class:`~geoplan.placement.PlanSettings`).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from pyproj import Transformer

from . import coverage as cov
from .io import Raster
from .placement import PlanningContext

__all__ = ["NODATA", "COVERAGE_CODES", "coverage_grid"]

#: Code of cells without population (no data).
NODATA = 255
#: Coverage code → label (Chinese, English).
COVERAGE_CODES: dict[int, tuple[str, str]] = {
    0: ("未覆盖", "not covered"),
    1: ("现状站点覆盖", "covered by existing sites"),
    2: ("规划站点新增覆盖", "newly covered by the plan"),
}


def coverage_grid(ctx: PlanningContext, selected: ArrayLike | None = None, *,
                  drawn_lonlat: ArrayLike | None = None, drawn_radius_m: ArrayLike | None = None) -> Raster:
    """5G coverage of each populated cell on the population grid.

    Parameters
    ----------
    ctx : PlanningContext
        Demand cells, existing coverage (``covered0``) and the candidate coverage matrix.
    selected : array_like of int, optional
        Candidate columns planned (e.g. a :class:`~geoplan.placement.PlanResult`'s
        ``placement.selected``).
    drawn_lonlat : array_like, shape (n, 2), optional
        Further planned sites (sites a planner drew), CGCS2000/WGS84 longitude and latitude.
    drawn_radius_m : array_like, shape (n,), optional
        Their cell radii, metres (e.g. ``DrawnEvaluation.site_radius_m``).

    Returns
    -------
    Raster
        uint8 codes on the population raster's grid (:data:`COVERAGE_CODES`); 255
        (nodata) where nobody lives.
    """
    proj = ctx.project
    d = proj.demand
    after = ctx.covered0.copy()
    if selected is not None and len(np.atleast_1d(selected)):
        after |= cov.covered(ctx.coverage, selected=np.asarray(selected, dtype=np.int64))
    if drawn_lonlat is not None and len(np.atleast_1d(drawn_lonlat)):
        lonlat = np.asarray(drawn_lonlat, dtype=float).reshape(-1, 2)
        if drawn_radius_m is None:
            raise ValueError("drawn_lonlat needs drawn_radius_m (one radius per drawn site)")
        x, y = Transformer.from_crs(4490, proj.metric_crs, always_xy=True).transform(lonlat[:, 0], lonlat[:, 1])
        xy = np.column_stack([x, y])
        radius = np.broadcast_to(np.asarray(drawn_radius_m, dtype=float), (len(xy),))
        after |= cov.covered(cov.coverage_matrix(d.xy, xy, np.maximum(radius, 1.0)))
    codes = np.where(ctx.covered0, 1, np.where(after, 2, 0)).astype(np.uint8)
    grid = np.full(proj.population.values.shape, NODATA, dtype=np.uint8)
    grid[d.row, d.col] = codes
    return Raster(grid.astype(float), proj.population.transform, proj.population.crs, float(NODATA), "coverage")
