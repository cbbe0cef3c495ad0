"""Cost in the placement objective, and what a plan costs and saves.

**How cost enters the plan.** The number of new sites is fixed by the density
target (or the total asked for); what is left to choose is *which* candidates.
With a cost weight λ (residents per 万元), the plan maximises ::

    newly covered residents − λ × site cost (万元)

so a new tower is preferred over sharing an existing one only when it covers at
least λ × (its extra cost) more residents; sites a quota needs where everyone is
already covered go to the cheapest candidate. λ = 0 is pure coverage. With
``p`` sites to place this is exactly a maximal-covering problem with one extra
demand row per candidate, covered by that candidate alone, of weight
``λ × (C_max − c_j)`` (``C_max`` the dearest candidate): every plan of ``p``
sites then scores ``covered − λ Σ c_j + p λ C_max``, a constant away. So the
greedy, exact and any other maximal-covering solver take cost into account
unchanged (:func:`cost_rows`).

:func:`siting_summary` reports a plan's sites by kind, how many reuse a tower,
pole or rooftop, its total site cost, and its savings against building every
site new (a new tower for each macro site, a new pole for each micro site, a new
indoor system for each indoor site, at the costs of ``geoplan/siting_params.toml``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from .._json import plain

__all__ = ["cost_rows", "SitingSummary", "siting_summary", "COST_NOTE"]

#: What the costs are, for every report that shows them.
COST_NOTE = ("site cost = one-off cost of making the site ready for 5G equipment (tower or pole, mounting, power, "
             "access), 万元, radio equipment excluded; savings against building every site new (a new tower per macro "
             "site, a new pole per micro site, a new indoor system per indoor site); costs from geoplan/siting_params.toml "
             "(new-tower minus shared-tower = 18.0万元, 中国铁塔) or the candidate's COST field")


def cost_rows(coverage: sp.csc_array, weights: NDArray[np.float64], covered0: NDArray[Any], cost: ArrayLike,
              *, weight: float) -> tuple[sp.csc_array, NDArray[np.float64], NDArray[Any]]:
    """The coverage problem with one private row per candidate that pays back ``weight × (C_max − cost)``.

    ``covered0`` is a mask or the covered share of each cell (existing sites); the
    private rows start uncovered.

    Examples
    --------
    Two candidates cover the same 10 residents; the second costs 4万元 less. At
    λ = 1 resident per 万元 the cheaper one wins:

    >>> from geoplan.placement import greedy_mclp
    >>> A = sp.csc_array(np.array([[1, 1]], dtype=np.uint8))
    >>> A2, w2, c2 = cost_rows(A, np.array([10.0]), np.zeros(1, dtype=bool), [5.0, 1.0], weight=1.0)
    >>> w2.tolist(), greedy_mclp(A2, w2, p=1, covered0=c2).selected.tolist()
    ([10.0, 0.0, 4.0], [1])
    """
    c = np.asarray(cost, dtype=float).reshape(-1)
    n_rows, n_cols = coverage.shape
    if c.size != n_cols:
        raise ValueError(f"cost has {c.size} entries for {n_cols} candidates")
    rebate = weight * (float(c.max()) - c) if c.size else c
    eye = sp.csc_array((np.ones(n_cols, dtype=coverage.dtype), (np.arange(n_cols), np.arange(n_cols))),
                       shape=(n_cols, n_cols))
    aug = sp.vstack([coverage, eye], format="csc")
    return (sp.csc_array(aug), np.r_[weights, rebate].astype(np.float64),
            np.r_[covered0, np.zeros(n_cols, dtype=np.asarray(covered0).dtype)])


@dataclass(frozen=True)
class SitingSummary:
    """What a plan's new sites reuse, cost and save, and how its candidates were made (``summary.siting``).

    Attributes
    ----------
    cost_weight : float
        Residents of new coverage given up to save 1万元 (the objective's λ).
    sites : int
        New sites.
    by_kind : dict
        New sites by KIND (``new``, ``social_tower``, ``industry_tower``, ``smart_pole``, ``public_building``).
    by_source : dict
        New sites by SOURCE (inventory name or ``generated``).
    reused : int
        New sites on an existing structure (every kind but ``new``).
    reused_by_family : dict
        Those by family: ``tower`` (社会塔/行业塔), ``pole`` (智慧多功能杆), ``rooftop`` (opened public buildings).
    cost_total, cost_all_new, savings : float
        Site cost of the plan, of the same sites all built new, and the difference, 万元.
    savings_share : float or None
        ``savings / cost_all_new``.
    net_score : float
        The objective's value: newly covered residents − λ × cost_total.
    coverage_only_gain : float or None
        With λ > 0: residents the coverage-only greedy plan of as many sites newly covers;
        ``coverage_given_up`` is how many fewer this plan covers (what the savings cost).
    soft_conflict_sites, soft_conflicts : int
        New sites with soft constraint conflicts, and those conflicts (rows of the ``conflicts`` table).
    hard_conflict_sites : int
        New sites in hard zones (only drawn sites kept by a planner can be; candidates in hard zones are removed).
    candidates : dict
        The candidate pool: by source and kind, removed by constraints, inventory features outside the districts.
    cost_unit, cost_note : str
    """

    cost_weight: float
    sites: int
    by_kind: dict[str, int]
    by_source: dict[str, int]
    reused: int
    reused_by_family: dict[str, int]
    cost_total: float
    cost_all_new: float
    savings: float
    savings_share: float | None
    net_score: float
    soft_conflict_sites: int
    soft_conflicts: int
    hard_conflict_sites: int
    coverage_only_gain: float | None = None
    coverage_given_up: float | None = None
    candidates: dict[str, Any] = field(default_factory=dict)
    cost_unit: str = "万元"
    cost_note: str = COST_NOTE

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return plain(dataclasses.asdict(self))  # type: ignore[no-any-return]


def _counts(values: NDArray[Any]) -> dict[str, int]:
    keys, n = np.unique(np.asarray(values, dtype=str), return_counts=True)
    return {str(k): int(v) for k, v in zip(keys, n, strict=True)}


def siting_summary(*, kind: NDArray[np.str_], source: NDArray[np.str_], cost: NDArray[np.float64],
                   new_cost: NDArray[np.float64], families: dict[str, str], cost_weight: float, objective: float,
                   soft_sites: int, soft_conflicts: int, hard_sites: int, candidates: dict[str, Any],
                   coverage_only: float | None = None) -> SitingSummary:
    """Summarise the new sites of a plan (arrays over the chosen sites; ``new_cost``: each as a new build)."""
    fam = np.array([families.get(str(k), "new") for k in kind], dtype=object)
    reused = fam != "new"
    total, all_new = float(np.sum(cost)), float(np.sum(new_cost))
    return SitingSummary(
        cost_weight=float(cost_weight), sites=int(kind.size), by_kind=_counts(kind), by_source=_counts(source),
        reused=int(reused.sum()), reused_by_family={f: int((fam == f).sum()) for f in ("tower", "pole", "rooftop")},
        cost_total=round(total, 1), cost_all_new=round(all_new, 1), savings=round(all_new - total, 1),
        savings_share=round((all_new - total) / all_new, 4) if all_new > 0 else None,
        net_score=round(objective - cost_weight * total, 1), soft_conflict_sites=int(soft_sites),
        soft_conflicts=int(soft_conflicts), hard_conflict_sites=int(hard_sites),
        coverage_only_gain=None if coverage_only is None else round(coverage_only, 0),
        coverage_given_up=None if coverage_only is None else round(max(coverage_only - objective, 0.0), 0),
        candidates=candidates)
