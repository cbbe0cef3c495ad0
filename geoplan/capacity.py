"""Busy-hour capacity: demand per cell, load per site, and the cells a network cannot carry.

The plan pairs its station count with a 5G user penetration (厦门: 46.6 % in
2022, 54/64/75 % for 2023/2024/2025), so a plan's stations must carry its users'
traffic as well as reach them. The model, every input from
:class:`~geoplan.radio_params.RadioParams` (cited defaults, overridable):

* **demand** of cell ``i`` (Mbit/s, downlink busy hour) = persons × penetration
  of the year × busy-hour Mbit/s per user (:func:`geoplan.radio.busy_hour_demand_mbps`)
  × the network's ``user_share`` (1 for all operators);
* **usable capacity** of site ``j`` = Σ over the bands it serves the network on
  of bandwidth × spectral efficiency × downlink share × sectors
  (:func:`geoplan.radio.network_capacity_mbps`) × ``traffic.max_utilisation``;
* **assignment**: the covered part of a cell's demand, ``demand_i × s_i`` with
  ``s_i = min(1, Σ_j a_ij)`` its covered share, is shared among the sites
  covering it in proportion to their shares ``a_ij`` of the cell
  (``x_ij = demand_i s_i a_ij / Σ_k a_ik``); the **load** of a site is
  ``Σ_i x_ij``;
* a site whose load exceeds its usable capacity carries the fraction
  ``f_j = usable_j / load_j`` of it; the rest, ``Σ_j x_ij (1 - f_j)``, is the
  cell's **unserved** demand. A cell is **capacity-limited** when it has
  unserved demand (a site serving it is overloaded), a district when one of its
  cells is.

Uncovered demand is a coverage gap, not a capacity one: it is left out of the
loads. :func:`carry` is the array core both engines call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from . import radio
from .errors import ConfigError
from .radio_params import RadioParams
from .targets.plans import Plan

__all__ = ["Carried", "carry", "carry_blocks", "assign", "carried_fraction", "penetration", "demand_per_person_mbps",
           "LIMIT_TOLERANCE"]

#: Unserved demand below this share of a cell's covered demand is rounding, not a limit.
LIMIT_TOLERANCE = 1e-9


@dataclass(frozen=True, eq=False)
class Carried:
    """Loads of sites and unserved demand of cells (Mbit/s), from :func:`carry`."""

    load_mbps: NDArray[np.float64]
    usable_mbps: NDArray[np.float64]
    carried_fraction: NDArray[np.float64]
    unserved_mbps: NDArray[np.float64]
    covered_demand_mbps: NDArray[np.float64]

    @property
    def limited(self) -> NDArray[np.bool_]:
        """Capacity-limited cells: unserved demand beyond :data:`LIMIT_TOLERANCE` of their covered demand."""
        return np.asarray(self.unserved_mbps > LIMIT_TOLERANCE * np.maximum(self.covered_demand_mbps, 1e-12))

    @property
    def overloaded(self) -> NDArray[np.bool_]:
        """Sites whose load exceeds their usable capacity."""
        return np.asarray(self.carried_fraction < 1.0)


def penetration(plan: Plan, year: int) -> float | None:
    """5G user penetration (share 0–1) the plan states for ``year`` (its baseline for the baseline year).

    ``None`` when the plan states no ``5g_user_penetration`` indicator.

    Examples
    --------
    >>> from geoplan.targets import load_plan
    >>> penetration(load_plan("xiamen"), 2025), penetration(load_plan("xiamen"), 2022)
    (0.75, 0.466)
    """
    try:
        ind = plan.indicator("5g_user_penetration")
    except ConfigError:
        return None
    if year in ind.targets:
        return float(ind.target(year)) / 100.0
    if year == plan.baseline_year and ind.baseline is not None:
        return float(ind.baseline) / 100.0
    raise ConfigError(f"plan '{plan.key}' states 5G user penetration for {sorted(ind.targets)} (baseline "
                      f"{plan.baseline_year}), not {year}. Fix: choose one of those years")


def demand_per_person_mbps(plan: Plan, year: int, *, network: str = "any",
                           params: RadioParams | None = None) -> float | None:
    """Busy-hour Mbit/s per resident for ``network`` in ``year`` (``None`` without a penetration target).

    Examples
    --------
    >>> from geoplan.targets import load_plan
    >>> round(demand_per_person_mbps(load_plan("xiamen"), 2025), 4)
    0.0676
    """
    pen = penetration(plan, year)
    if pen is None:
        return None
    p = params if params is not None else radio.default_params()
    share = 1.0 if network == "any" else p.networks[network].user_share
    return float(radio.busy_hour_demand_mbps(np.array([1.0]), penetration=pen, params=p)[0]) * share


def carry(rows: NDArray[np.intp], cols: NDArray[np.intp], shares: NDArray[np.floating], *, n_cells: int,
          demand_mbps: NDArray[np.float64], usable_mbps: NDArray[np.float64]) -> Carried:
    """Loads, carried fractions and unserved demand of built sites (see the module notes).

    Parameters
    ----------
    rows, cols, shares : ndarray
        Every covering entry ``(cell, site, a_ij)`` of the built sites (existing and new).
    n_cells : int
        Number of demand cells.
    demand_mbps : ndarray, shape (n_cells,)
        Busy-hour demand of each cell.
    usable_mbps : ndarray, shape (n_sites,)
        Usable capacity of each site (capacity × maximum utilisation).

    Examples
    --------
    Two cells of 60 and 40 Mbit/s; site 0 covers cell 0 whole and half of cell 1, site 1 the other
    half of cell 1; site 0 can carry 50 Mbit/s:

    >>> c = carry(np.array([0, 1, 1]), np.array([0, 0, 1]), np.array([1.0, 0.5, 0.5]), n_cells=2,
    ...           demand_mbps=np.array([60.0, 40.0]), usable_mbps=np.array([50.0, 100.0]))
    >>> c.load_mbps.tolist(), c.unserved_mbps.round(2).tolist(), c.limited.tolist()
    ([80.0, 20.0], [22.5, 7.5], [True, True])
    """
    x, covered = assign(rows, shares, n_cells=n_cells, demand_mbps=demand_mbps)
    load = np.asarray(np.bincount(cols, weights=x, minlength=len(usable_mbps)), dtype=np.float64)
    frac = carried_fraction(load, usable_mbps)
    unserved = np.asarray(np.bincount(rows, weights=x * (1.0 - frac[cols]), minlength=n_cells), dtype=np.float64)
    return Carried(load, np.asarray(usable_mbps, dtype=float), frac, unserved, covered)


def carry_blocks(blocks: list[Any], *, demand_mbps: NDArray[np.float64], usable_mbps: list[NDArray[np.float64]],
                 raw: NDArray[np.float64] | None = None) -> Carried:
    """:func:`carry` on coverage matrices (cells × sites, one per group of sites), by sparse products.

    ``usable_mbps`` holds one array per block; the result's site arrays run
    through the blocks in order. ``raw`` (``Σ_j a_ij`` over all blocks) may be
    given when known.
    """
    if raw is None:
        raw = np.zeros(len(demand_mbps))
        for b in blocks:
            raw += np.asarray(b @ np.ones(b.shape[1]), dtype=np.float64)
    covered = demand_mbps * np.minimum(raw, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_share = np.where(raw > 0, covered / np.where(raw > 0, raw, 1.0), 0.0)
    loads = [np.asarray(b.T @ per_share, dtype=np.float64) for b in blocks]
    fracs = [carried_fraction(ld, u) for ld, u in zip(loads, usable_mbps, strict=True)]
    short = np.zeros(len(demand_mbps))
    for b, f in zip(blocks, fracs, strict=True):
        if (f < 1.0).any():
            short += np.asarray(b @ (1.0 - f), dtype=np.float64)
    return Carried(np.concatenate(loads) if loads else np.zeros(0),
                   np.concatenate([np.asarray(u, dtype=float) for u in usable_mbps]) if usable_mbps else np.zeros(0),
                   np.concatenate(fracs) if fracs else np.zeros(0), per_share * short, covered)


def assign(rows: NDArray[np.intp], shares: NDArray[np.floating], *, n_cells: int,
           demand_mbps: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Demand each covering entry carries (``x_ij``), and each cell's covered demand (see the module notes)."""
    a = shares.astype(np.float64)
    raw = np.bincount(rows, weights=a, minlength=n_cells)
    covered = demand_mbps * np.minimum(raw, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_share = np.where(raw > 0, covered / np.where(raw > 0, raw, 1.0), 0.0)
    return per_share[rows] * a, covered


def carried_fraction(load_mbps: NDArray[np.float64], usable_mbps: NDArray[np.float64]) -> NDArray[np.float64]:
    """Share of its load each site carries: 1, or usable / load when overloaded."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(load_mbps > usable_mbps, usable_mbps / np.where(load_mbps > 0, load_mbps, 1.0), 1.0)
