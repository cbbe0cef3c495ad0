"""Sites a planner keeps, moved onto the nearest candidate sites, never farther than a stated limit.

The in-memory engine chooses among candidate sites (columns of the coverage
matrix). A site the planner drew and kept is built by fixing the candidate
nearest to it. That move is what the numbers are computed for, so it is
bounded: a kept site farther than :data:`MAX_SNAP_M` from every candidate is
refused with an error naming the site and the distance (a site drawn in the
sea, or in another city, used to be moved silently by tens of kilometres).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pyproj import Transformer
from scipy.spatial import cKDTree

from ..errors import InfeasibleError
from .context import PlanningContext

__all__ = ["MAX_SNAP_M", "Snap", "snap_sites"]

#: Farthest a kept site is moved onto a candidate site, metres. 500 m is about two dense-urban macro
#: cell radii: the moved site still serves the same blocks. The embedded Xiamen candidates lie within
#: 224 m of half of the populated cells and within 640 m of 90 % of them.
MAX_SNAP_M = 500.0


@dataclass(frozen=True)
class Snap:
    """Where kept sites go: the candidate column of each site and how far it moves.

    Attributes
    ----------
    columns : ndarray of int
        Candidate column of each site, in the order given (-1 where ``distance_m`` is over the limit).
    distance_m : ndarray of float
        Distance from each site to that candidate, metres.
    max_snap_m : float
        The limit used.
    """

    columns: NDArray[np.int64]
    distance_m: NDArray[np.float64]
    max_snap_m: float

    @property
    def too_far(self) -> NDArray[np.int64]:
        """Indices of the sites farther than the limit from every candidate."""
        return np.flatnonzero(self.distance_m > self.max_snap_m)


def snap_sites(ctx: PlanningContext, xy: ArrayLike, *, max_snap_m: float = MAX_SNAP_M,
               strict: bool = True) -> Snap:
    """Nearest candidate of each site in ``xy`` (metric coordinates of ``ctx.project``).

    Parameters
    ----------
    ctx : PlanningContext
        Candidates (``cand_xy``).
    xy : array_like, shape (n, 2)
        Sites, metres in the project's metric CRS.
    max_snap_m : float
        Farthest a site may move (:data:`MAX_SNAP_M`).
    strict : bool
        Raise :class:`~geoplan.errors.InfeasibleError` for sites beyond the limit
        (``False``: report them with column -1).

    Examples
    --------
    >>> import geoplan as gp
    >>> ctx = gp.placement.planning_context(gp.load_project())
    >>> s = snap_sites(ctx, ctx.cand_xy[:2] + 3.0)
    >>> s.columns.tolist(), s.distance_m.round(1).tolist()
    ([0, 1], [4.2, 4.2])
    """
    pts = np.asarray(xy, dtype=float).reshape(-1, 2)
    if not len(ctx.cand_xy):
        raise InfeasibleError("sites to keep were given but the project has no candidate sites to place them on. "
                              "Fix: add candidates or leave the kept sites out")
    dist, col = cKDTree(ctx.cand_xy).query(pts, k=1)
    dist = np.asarray(dist, dtype=float)
    col = np.where(dist > max_snap_m, -1, col).astype(np.int64)
    snap = Snap(col, dist, float(max_snap_m))
    if strict and len(snap.too_far):
        lon, lat = Transformer.from_crs(ctx.project.metric_crs, 4490, always_xy=True).transform(
            pts[snap.too_far, 0], pts[snap.too_far, 1])
        where = "; ".join(f"kept site {i + 1} at {x:.5f}°E {y:.5f}°N is {d / 1000:,.1f} km from the nearest "
                          "candidate site" for i, x, y, d in zip(snap.too_far.tolist(), np.atleast_1d(lon),
                                                                  np.atleast_1d(lat), dist[snap.too_far], strict=True))
        raise InfeasibleError(f"{where} (a kept site is moved at most {max_snap_m:,.0f} m onto a candidate). "
                              "Fix: move the site within the districts where candidates are, or remove it")
    return snap
