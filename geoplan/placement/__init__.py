"""Site placement: every facility-location solver of geoplan, and one engine for 5G sites.

Array entry points (rows = demand, columns = candidate sites), each returning a
:class:`PlacementResult`:

- :func:`greedy_mclp` — lazy greedy maximal covering with district quotas, then swap local
  search, with a Lagrangian upper bound (the reported gap is a proven guarantee);
- :func:`greedy_set_cover` — greedy sites until a share of demand is covered;
- :func:`local_search_mclp` — swap local search from any feasible plan;
- :func:`lagrangian_mclp` — Lagrangian relaxation: the best Lagrangian plan and its bound;
- :func:`exact_mclp` — maximal covering as a mixed-integer programme, proven by a Lagrangian
  bound and HiGHS;
- :func:`median_cover` — cover within a radius, then p-median or p-center
  (edge data centres), greedy + interchange or HiGHS;
- :mod:`~geoplan.placement.candidates` — candidate sites on a grid, at weighted
  k-means centres, or at populated cells drawn by weight.

Coverage may be binary (a site covers a cell or not) or fractional (the share of a cell a
site covers, in (0, 1]); existing coverage is a mask or a share per cell. Every result
carries a proven upper ``bound`` on the optimum and its ``gap``.

Project entry points (GeoDataFrames in and out, metric CRS inside):

- :func:`place_sites` — new 5G sites for a year's targets (density, station count or
  both; area-wide or per district) or a total, on the in-memory or the county-by-county
  engine (``engine="auto"``);
- :func:`place_phased` — nested batches year by year, each meeting its year's targets
  (``BUILD_YEAR`` on every site);
- :func:`planning_context` — the in-memory arrays of a project for one
  :class:`PlanSettings` (built once, reused by what-ifs);
- :func:`evaluate_sites` — density and coverage per district of chosen sites (what-if);
- :func:`plan_siting` — what chosen sites reuse (towers, poles, rooftops), cost and save;
- :func:`allocate_quotas` — district minimums for a total below every target.
"""

from ._memory import evaluate_sites, plan_siting
from ._result import PlacementResult
from ._steps import allocate_quotas, new_site_budget
from .candidates import grid_candidates, population_candidates, weighted_kmeans_candidates
from .context import PlanningContext, planning_context
from .costing import SitingSummary
from .exact import exact_mclp
from .greedy import greedy_mclp, greedy_set_cover
from .lagrangian import lagrangian_mclp
from .local_search import local_search_mclp
from .median import MedianResult, median_cover
from .phasing import PhasedPlan, place_phased
from .request import MEET, QUOTAS, PlanRequest, plan_request
from .results import CapacityTotals, Evaluation, PlanResult, PlanSummary, Totals
from .settings import CANDIDATE_GENERATORS, NETWORK_BANDS, NETWORKS, SITE_TYPES, PlanSettings
from .sites import ENGINES, LARGE_PROJECT_CELLS, METHODS, choose_engine, place_sites
from .snap import MAX_SNAP_M, Snap, snap_sites

__all__ = [
    "CANDIDATE_GENERATORS",
    "ENGINES",
    "LARGE_PROJECT_CELLS",
    "MAX_SNAP_M",
    "MEET",
    "METHODS",
    "NETWORKS",
    "NETWORK_BANDS",
    "QUOTAS",
    "SITE_TYPES",
    "CapacityTotals",
    "Evaluation",
    "MedianResult",
    "PhasedPlan",
    "PlacementResult",
    "PlanRequest",
    "PlanResult",
    "PlanSettings",
    "PlanSummary",
    "PlanningContext",
    "SitingSummary",
    "Snap",
    "Totals",
    "allocate_quotas",
    "choose_engine",
    "evaluate_sites",
    "exact_mclp",
    "greedy_mclp",
    "greedy_set_cover",
    "lagrangian_mclp",
    "local_search_mclp",
    "grid_candidates",
    "median_cover",
    "new_site_budget",
    "place_phased",
    "place_sites",
    "plan_request",
    "plan_siting",
    "planning_context",
    "population_candidates",
    "snap_sites",
    "weighted_kmeans_candidates",
]
