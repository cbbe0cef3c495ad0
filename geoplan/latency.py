"""Network latency budget ↔ fibre distance ↔ straight-line radius.

A latency target such as the plans' "城区 1 毫秒时延圈" (1 ms latency circle in
the urban area) becomes a planning radius around each data centre:

1. equipment delay is taken off the budget (the transport nodes on the path);
2. what is left is propagation time in fibre, ``fibre_us_per_km`` per km;
3. fibre routes follow roads, ducts and rings, so a fibre path is
   ``route_factor`` times longer than the straight line between its ends.

One way (default)::

    budget = equipment_ms + route_factor × distance_km × fibre_us_per_km / 1000

Round trip (``round_trip=True``) doubles both terms. All four parameters live
in a frozen :class:`LatencyModel` with documented defaults:

``fibre_us_per_km = 5.0``
    The ITU-T G.114 (05/2003) planning value for optical-fibre transmission
    systems, 5 µs/km. Physically light in silica fibre of group index ≈ 1.468
    travels at c / 1.468 ≈ 204,000 km/s, i.e. 4.9 µs/km; 5.0 keeps a small
    margin and is the figure network planners quote.
``route_factor = 1.5``
    Fibre path length over straight-line distance. A typical planning
    assumption for metro fibre (routes run along streets and rings, and detour
    around water and hills); measured values of about 1.2–2 are reported for
    terrestrial routes. Xiamen Island's links to the mainland cross on a few
    bridges and tunnels, so 1.5 is not pessimistic there.
``equipment_ms = 0.1``
    One-way delay of the transport equipment on the path (OTN/ROADM nodes,
    transponders, framing/FEC): a handful of nodes at 10–20 µs each. The
    MIIT's 2025 "毫秒用算" action counts the urban 1 ms circle at the optical
    layer (光层), so routers and access networks are not in this budget; raise
    ``equipment_ms`` to model IP-layer latency.
``round_trip = False``
    The budget is read as one-way. MIIT's notice on the urban "毫秒用算"
    action (2025) states the urban circle as "光层单向互连时延小于1毫秒"
    (optical-layer one-way latency under 1 ms), and the national hub-node
    documents state their 20 ms circle as one-way end-to-end latency too.
    ``round_trip=True`` gives the stricter reading (1 ms ping).

With the defaults, 1 ms one way leaves 0.9 ms of propagation: 180 km of
fibre, a 120 km straight-line radius. Round trip leaves 0.4 ms each way:
80 km of fibre, 53.3 km straight. Either radius spans most of Xiamen from a
central site, so the *propagation* budget of the 1 ms circle binds only
where the equipment budget is large; placement then minimises latency.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .errors import ConfigError, InfeasibleError

__all__ = ["LatencyModel", "DEFAULT_LATENCY", "latency_radius_m", "latency_ms"]

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())


@dataclass(frozen=True)
class LatencyModel:
    """How network latency grows with straight-line distance (see the module notes for the defaults).

    Parameters
    ----------
    fibre_us_per_km : float
        One-way propagation delay in fibre, microseconds per km of fibre.
    route_factor : float
        Fibre route length over straight-line distance (>= 1).
    equipment_ms : float
        One-way delay of transport equipment on the path, milliseconds.
    round_trip : bool
        Read latency budgets and results as round trip rather than one way.

    Examples
    --------
    >>> m = LatencyModel()
    >>> m.fibre_km(1.0), round(m.radius_m(1.0), 6)
    (180.0, 120000.0)
    >>> round(float(m.latency_ms(120_000.0)), 9)
    1.0
    """

    fibre_us_per_km: float = 5.0
    route_factor: float = 1.5
    equipment_ms: float = 0.1
    round_trip: bool = False

    def __post_init__(self) -> None:
        bad: list[str] = []
        if not (math.isfinite(self.fibre_us_per_km) and self.fibre_us_per_km > 0):
            bad.append(f"fibre_us_per_km must be > 0 µs/km, got {self.fibre_us_per_km!r} (use 5.0, ITU-T G.114)")
        if not (math.isfinite(self.route_factor) and self.route_factor >= 1):
            bad.append(f"route_factor must be >= 1 (a fibre route is never shorter than the straight line), "
                       f"got {self.route_factor!r} (use 1.5)")
        if not (math.isfinite(self.equipment_ms) and self.equipment_ms >= 0):
            bad.append(f"equipment_ms must be >= 0 ms, got {self.equipment_ms!r} (use 0.1)")
        if bad:
            raise ConfigError("invalid latency model: " + "; ".join(bad))

    @property
    def legs(self) -> int:
        """Number of times the path is travelled: 1 one way, 2 round trip."""
        return 2 if self.round_trip else 1

    @property
    def reading(self) -> str:
        """``"one-way"`` or ``"round-trip"``."""
        return "round-trip" if self.round_trip else "one-way"

    def fibre_km(self, budget_ms: float) -> float:
        """Fibre length (km, one way) a latency budget allows after equipment delay.

        Raises
        ------
        InfeasibleError
            When equipment delay alone uses up the budget.
        """
        b = float(budget_ms)
        if not (math.isfinite(b) and b > 0):
            raise ConfigError(f"latency budget must be a positive number of ms, got {budget_ms!r}. "
                              "Fix: pass e.g. --latency-ms 1")
        equip = self.legs * self.equipment_ms
        if b <= equip:
            raise InfeasibleError(
                f"a {self.reading} latency budget of {b:g} ms is used up by equipment delay "
                f"({self.legs} × {self.equipment_ms:g} ms): no distance fits. "
                "Fix: raise the budget or lower equipment_ms")
        return (b - equip) / self.legs * 1000.0 / self.fibre_us_per_km

    def radius_m(self, budget_ms: float) -> float:
        """Straight-line radius (metres) within which latency stays within ``budget_ms``."""
        return self.fibre_km(budget_ms) / self.route_factor * 1000.0

    def latency_ms(self, distance_m: ArrayLike) -> NDArray[np.float64]:
        """Latency (ms, one way or round trip as the model reads) over straight-line ``distance_m``."""
        d = np.asarray(distance_m, dtype=np.float64)
        prop = d / 1000.0 * self.route_factor * self.fibre_us_per_km / 1000.0
        return self.legs * (self.equipment_ms + prop)

    def to_dict(self) -> dict[str, float | bool | str]:
        """The parameters, JSON-ready, with the reading spelled out."""
        return {"fibre_us_per_km": self.fibre_us_per_km, "route_factor": self.route_factor,
                "equipment_ms": self.equipment_ms, "round_trip": self.round_trip, "reading": self.reading}


#: The documented default model: 5 µs/km, route factor 1.5, 0.1 ms equipment, one way.
DEFAULT_LATENCY = LatencyModel()


def latency_radius_m(budget_ms: float, *, model: LatencyModel = DEFAULT_LATENCY) -> float:
    """Straight-line radius (metres) of a latency circle of ``budget_ms``.

    Examples
    --------
    >>> latency_radius_m(1.0, model=LatencyModel(round_trip=True))  # doctest: +ELLIPSIS
    53333.33...
    """
    return model.radius_m(budget_ms)


def latency_ms(distance_m: ArrayLike, *, model: LatencyModel = DEFAULT_LATENCY) -> NDArray[np.float64]:
    """Latency (ms) over straight-line distances ``distance_m`` (metres).

    Examples
    --------
    >>> latency_ms([0.0, 12_000.0]).round(6).tolist()
    [0.1, 0.19]
    """
    return model.latency_ms(distance_m)
