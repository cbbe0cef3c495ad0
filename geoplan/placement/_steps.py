"""Steps every placement engine shares: site types, budgets and quotas, gains, ranks.

The in-memory engine (:mod:`._memory`) and the county-by-county engine
(:mod:`._chunked`) differ in how they hold the arrays; everything they decide
the same way lives here, once.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from .. import radio
from ..errors import InfeasibleError
from .settings import SITE_TYPES

__all__ = [
    "DEFAULT_MIX",
    "draw_site_types",
    "new_site_budget",
    "allocate_quotas",
    "largest_remainder",
    "marginal_gains",
    "gain_rank",
]

#: Default share of (macro, micro, indoor) among new modelled candidates, by environment.
DEFAULT_MIX: dict[str, tuple[float, float, float]] = {
    "dense_urban": (0.45, 0.35, 0.20),
    "urban": (0.60, 0.25, 0.15),
    "suburban": (0.80, 0.12, 0.08),
    "rural": (0.95, 0.05, 0.00),
}


def draw_site_types(environment: ArrayLike, *, mix: tuple[float, float, float] | None,
                    rng: np.random.Generator) -> NDArray[np.str_]:
    """A site type for each modelled candidate, drawn by the mix of its environment.

    Environments are visited in the alphabetical order of their names, each
    drawing ``rng.choice`` once for all its candidates, so the same seed gives
    the same types in every engine.

    Parameters
    ----------
    environment : array_like of int
        Environment code of each candidate (see :data:`geoplan.radio.ENVIRONMENT_NAMES`).
    mix : (float, float, float) or None
        Shares of macro, micro and indoor for every environment; ``None`` uses :data:`DEFAULT_MIX`.
    rng : numpy.random.Generator
        Source of randomness.

    Examples
    --------
    >>> draw_site_types([0, 0, 3], mix=(1.0, 0.0, 0.0), rng=np.random.default_rng(0)).tolist()
    ['macro', 'macro', 'macro']
    """
    env = np.asarray(environment, dtype=np.int64).reshape(-1)
    out = np.empty(env.size, dtype=object)
    names = np.asarray(radio.ENVIRONMENT_NAMES, dtype=object)[env] if env.size else np.zeros(0, dtype=object)
    for name in sorted(set(names.tolist())):
        m = names == name
        shares = np.asarray(mix if mix is not None else DEFAULT_MIX[str(name)], dtype=float)
        out[m] = rng.choice(np.array(SITE_TYPES), size=int(m.sum()), p=shares / shares.sum())
    return out.astype(str)


def new_site_budget(total: int | None, *, existing: int, shortfall: ArrayLike) -> int:
    """New sites to place: ``total`` minus the existing ones, or the sum of the districts' shortfalls.

    Raises
    ------
    InfeasibleError
        ``total`` below the stations that already exist.

    Examples
    --------
    >>> new_site_budget(18_500, existing=10_881, shortfall=np.array([3, 4]))
    7619
    >>> new_site_budget(None, existing=10_881, shortfall=np.array([3, 4]))
    7
    """
    if total is None:
        return int(np.asarray(shortfall).sum())
    if total < existing:
        raise InfeasibleError(f"a total of {total:,} stations is below the {existing:,} that already exist. "
                              f"Fix: give a total of at least {existing:,}")
    return int(total - existing)


def largest_remainder(weights: ArrayLike, total: int) -> NDArray[np.int64]:
    """Share ``total`` whole units in proportion to ``weights`` (Hamilton's largest-remainder rounding).

    The parts sum exactly to ``total``; ties in the remainders go to the first.
    Zero weights (or a zero total) get nothing.

    Examples
    --------
    >>> largest_remainder([1.0, 1.0, 2.0], 5).tolist()
    [1, 1, 3]
    >>> largest_remainder([0.0, 0.0], 3).tolist()
    [0, 0]
    """
    w = np.asarray(weights, dtype=float).reshape(-1)
    if total <= 0 or w.sum() <= 0:
        return np.zeros(w.size, dtype=np.int64)
    exact = total * w / w.sum()
    q = np.floor(exact).astype(np.int64)
    q[np.argsort(-(exact - q), kind="stable")[: total - int(q.sum())]] += 1
    return q


def allocate_quotas(shortfall: ArrayLike, p: int) -> NDArray[np.int64]:
    """Per-district minimum of new sites within a budget of ``p``.

    When the budget covers every district's shortfall, the shortfalls are the
    quotas. Otherwise the budget is shared in proportion to the shortfalls
    (:func:`largest_remainder`, so the quotas sum exactly to ``p``).

    Examples
    --------
    >>> allocate_quotas(np.array([10, 30, 0]), 100).tolist()
    [10, 30, 0]
    >>> allocate_quotas(np.array([10, 30, 0]), 20).tolist()
    [5, 15, 0]
    """
    s = np.asarray(shortfall, dtype=np.int64)
    if s.sum() <= p:
        return s.copy()
    return largest_remainder(s.astype(float), p)


def marginal_gains(coverage: sp.csc_array, weights: NDArray[np.float64], covered0: NDArray[np.bool_],
                   selected: ArrayLike) -> NDArray[np.float64]:
    """Demand weight newly covered by each selected column, taken in the order given.

    Each cell counts once, for the first selected site that covers it and not at
    all when ``covered0`` (existing sites) already covers it; the gains add up to
    the plan's objective.

    Examples
    --------
    >>> A = sp.csc_array(np.array([[1, 1], [1, 0], [0, 1]], dtype=np.uint8))
    >>> marginal_gains(A, np.array([5.0, 2.0, 1.0]), np.zeros(3, dtype=bool), [1, 0]).tolist()
    [6.0, 2.0]
    """
    covered = np.asarray(covered0, dtype=bool).copy()
    sel = np.asarray(selected, dtype=np.int64).reshape(-1)
    gains = np.empty(sel.size)
    indptr, indices = coverage.indptr, coverage.indices
    for k, j in enumerate(sel.tolist()):
        rows = indices[indptr[j]:indptr[j + 1]]
        new = rows[~covered[rows]]
        gains[k] = float(np.bincount(np.zeros(new.size, dtype=np.intp), weights=weights[new], minlength=1)[0])
        covered[new] = True
    return gains


def gain_rank(gains: ArrayLike) -> NDArray[np.int64]:
    """Build priority of each planned site: 1 for the largest gain, ties in the order chosen.

    The gain is what a site adds in the order the optimiser chose the sites
    (:func:`marginal_gains`), so the first sites of the ranking are the ones that
    buy the most coverage first.

    Examples
    --------
    >>> gain_rank([5.0, 9.0, 5.0]).tolist()
    [2, 1, 3]
    """
    g = np.asarray(gains, dtype=float).reshape(-1)
    order = np.argsort(-g, kind="stable")
    rank = np.empty(g.size, dtype=np.int64)
    rank[order] = np.arange(1, g.size + 1)
    return rank
