"""Site placement: choose candidate sites to cover demand and meet district quotas.

Array entry points (rows = demand cells, columns = candidate sites):

- :func:`greedy_mclp` — lazy greedy maximal covering with district quotas, then swap local
  search, with a Lagrangian upper bound (the reported gap is a proven guarantee);
- :func:`greedy_set_cover` — greedy sites until a share of demand is covered;
- :func:`local_search_mclp` — swap local search from any feasible plan;
- :func:`lagrangian_mclp` — Lagrangian relaxation: the best Lagrangian plan and its bound;
- :func:`exact_mclp` — the same problem as a mixed-integer programme, proven by a Lagrangian
  bound and HiGHS;
- :mod:`~geoplan.placement.candidates` — candidate sites on a grid, at weighted k-means
  centres, or at populated cells drawn by weight.

Coverage may be binary (a site covers a cell or not) or fractional (the share of a cell a
site covers, in (0, 1]); existing coverage is a mask or a share per cell. Every result
carries a proven upper ``bound`` on the optimum and its ``gap``.

Project entry points (GeoDataFrames in and out, metric CRS inside):

- :func:`planning_context` — the arrays of a project for one link budget (built once);
- :func:`place_sites` — new sites for a year's district targets or a total, greedy or exact;
- :func:`evaluate_sites` — density and coverage per district of chosen sites (what-if);
- :func:`allocate_quotas` — district minimums for a total below every target.
"""

from ._result import PlacementResult
from .candidates import grid_candidates, population_candidates, weighted_kmeans_candidates
from .exact import exact_mclp
from .greedy import greedy_mclp, greedy_set_cover
from .lagrangian import lagrangian_mclp
from .local_search import local_search_mclp
from .sites import (
    SITE_TYPES,
    PlanningContext,
    PlanResult,
    allocate_quotas,
    evaluate_sites,
    place_sites,
    planning_context,
)

__all__ = [
    "SITE_TYPES",
    "PlacementResult",
    "PlanningContext",
    "PlanResult",
    "allocate_quotas",
    "evaluate_sites",
    "place_sites",
    "planning_context",
    "exact_mclp",
    "greedy_mclp",
    "greedy_set_cover",
    "lagrangian_mclp",
    "local_search_mclp",
    "grid_candidates",
    "population_candidates",
    "weighted_kmeans_candidates",
]
