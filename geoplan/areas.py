"""Areas a planner draws that steer placement: exclusion areas and candidate areas.

An *exclusion area* keeps new sites out (a park, a protected shore, an
airport approach the planner knows about); a set of *candidate areas* keeps new
sites in (an industrial park the bureau wants served first). Both act on the
candidate sites of a :class:`~geoplan.placement.PlanningContext`:
:func:`candidate_mask` says which candidates may be built and
:func:`restrict_context` gives the context of only those, with the map from its
columns back to the full context's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import Transformer

from .placement import PlanningContext

__all__ = ["candidate_mask", "restrict_context"]

Ring = Sequence[tuple[float, float]]


def _metric_union(ctx: PlanningContext, rings: Sequence[Ring]) -> shapely.Geometry | None:
    if not rings:
        return None
    tr = Transformer.from_crs(4490, ctx.project.metric_crs, always_xy=True)
    polys = []
    for ring in rings:
        lon, lat = np.asarray(ring, dtype=float).T
        x, y = tr.transform(lon, lat)
        polys.append(shapely.make_valid(shapely.Polygon(np.column_stack([x, y]))))
    return shapely.union_all(polys)


def candidate_mask(ctx: PlanningContext, *, exclusion: Sequence[Ring] = (),
                   candidate: Sequence[Ring] = ()) -> NDArray[np.bool_]:
    """Candidates that may be built: outside every exclusion area and, when candidate areas are given, inside one.

    Rings are ``(lon, lat)`` pairs in CGCS2000 / WGS84 degrees.

    Examples
    --------
    >>> import geoplan as gp
    >>> ctx = gp.placement.planning_context(gp.load_project())
    >>> box = [(118.08, 24.45), (118.12, 24.45), (118.12, 24.48), (118.08, 24.48)]
    >>> m_out, m_in = candidate_mask(ctx, exclusion=[box]), candidate_mask(ctx, candidate=[box])
    >>> bool((m_out ^ m_in).all()), int((~m_out).sum()) > 0
    (True, True)
    """
    x, y = ctx.cand_xy[:, 0], ctx.cand_xy[:, 1]
    keep = np.ones(len(ctx.cand_xy), dtype=bool)
    out = _metric_union(ctx, exclusion)
    if out is not None:
        keep &= ~shapely.contains_xy(out, x, y)
    inside = _metric_union(ctx, candidate)
    if inside is not None:
        keep &= shapely.contains_xy(inside, x, y)
    return keep


def restrict_context(ctx: PlanningContext, mask: NDArray[np.bool_]) -> tuple[PlanningContext, NDArray[np.int64]]:
    """The context with only the candidates in ``mask``, and each of its columns' column in ``ctx``."""
    cols = np.flatnonzero(mask).astype(np.int64)
    if len(cols) == len(mask):
        return ctx, cols
    return replace(ctx, cand_xy=ctx.cand_xy[cols], cand_type=ctx.cand_type[cols], cand_radius=ctx.cand_radius[cols],
                   cand_district=ctx.cand_district[cols], cand_density=ctx.cand_density[cols],
                   cand_environment=ctx.cand_environment[cols], cand_capacity=ctx.cand_capacity[cols],
                   coverage=ctx.coverage[:, cols], pool=ctx.pool.subset(cols)), cols
