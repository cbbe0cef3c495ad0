"""Site placement: choose candidate sites to cover demand and meet district quotas.

Array entry points (rows = demand cells, columns = candidate sites):

- :func:`greedy_mclp` — lazy greedy maximal covering with district quotas (fast, no bound);
- :func:`greedy_set_cover` — greedy sites until a share of demand is covered;
- :func:`exact_mclp` — the same problem as a mixed-integer programme solved by HiGHS;
- :mod:`~geoplan.placement.candidates` — candidate sites on a grid, at weighted k-means
  centres, or at populated cells drawn by weight.

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
    "grid_candidates",
    "population_candidates",
    "weighted_kmeans_candidates",
]
