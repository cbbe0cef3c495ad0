"""Where sites can go: candidate inventories with kind and cost, siting constraints, edge-site capacity.

- :mod:`.params` — candidate kinds (new build, 社会塔/行业塔, 智慧多功能杆, opened public
  buildings), their site costs, constraint kinds, edge capacity, airport clearance, each with a source;
- :mod:`.inputs` — the project file's ``[inventories.*]``, ``[constraints.*]`` and
  ``[edge_sites.*]`` tables and the layers they name;
- :mod:`.constraints` — which sites fall in which exclusion or suitability zone (hard or soft),
  and the ``conflicts`` table;
- :mod:`.inventory` — a project's candidate inventories as arrays (kind, site type, cost, height).
"""

from .params import FAMILIES, HARDNESS, SitingParams, default_params, load_params

__all__ = ["FAMILIES", "HARDNESS", "SitingParams", "default_params", "load_params"]
