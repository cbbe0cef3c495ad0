"""Site placement: choose candidate sites to cover demand and meet district quotas.

Array entry points (rows = demand cells, columns = candidate sites):

- :func:`greedy_mclp` — lazy greedy maximal covering with district quotas (fast, no bound);
- :func:`greedy_set_cover` — greedy sites until a share of demand is covered;
- :func:`exact_mclp` — the same problem as a mixed-integer programme solved by HiGHS;
- :mod:`~geoplan.placement.candidates` — candidate sites on a grid, at weighted k-means
  centres, or at populated cells drawn by weight.
"""

from ._result import PlacementResult
from .candidates import grid_candidates, population_candidates, weighted_kmeans_candidates
from .exact import exact_mclp
from .greedy import greedy_mclp, greedy_set_cover

__all__ = [
    "PlacementResult",
    "exact_mclp",
    "greedy_mclp",
    "greedy_set_cover",
    "grid_candidates",
    "population_candidates",
    "weighted_kmeans_candidates",
]
