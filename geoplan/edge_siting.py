"""Edge data centres on telecom and power-grid sites: capacity against the rack target, and whether latency binds.

The Fujian plan builds edge data centres by "统筹整合利用电信、电力等站点资源"; the
Xiamen plan counts data-centre capacity in standard racks ("全市数据中心标准机架数达
2.5 万个", a city-wide figure for *all* data centres, of which the 32 edge data centres
are a part). This module gives :func:`geoplan.edge.place_edge`:

- :func:`edge_site_arrays` — the project's ``[edge_sites.*]`` inventories (telecom
  central offices, substations) as candidates with KIND, RACKS and KW: a site's
  racks are its RACKS, else its KW / 2.5 kW (one standard rack, MIIT), else its
  kind's default (``geoplan/siting_params.toml``, modelling choices);
- :class:`CapacitySummary` — racks, IT kW and facility kW (IT × the plan's PUE) of
  the chosen sites against the plan's rack target, said plainly;
- :func:`latency_binding` — whether the latency circle changes the plan, and what
  decides the placement when it does not.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ._json import plain
from .latency import LatencyModel
from .siting.params import SitingParams

if TYPE_CHECKING:  # pragma: no cover
    from .project import Project
    from .targets.plans import Plan

__all__ = ["EdgeSites", "edge_site_arrays", "CapacitySummary", "capacity_summary", "LatencyBinding",
           "latency_binding", "site_racks"]


@dataclass(frozen=True, eq=False)
class EdgeSites:
    """Edge-site inventory features (metric CRS): where, what kind, how much room."""

    xy: NDArray[np.float64]
    kind: NDArray[np.str_]
    source: NDArray[np.str_]
    name: NDArray[np.object_]
    racks: NDArray[np.float64]
    kw: NDArray[np.float64]
    assumed: NDArray[np.bool_]

    def __len__(self) -> int:
        return int(self.xy.shape[0])


def site_racks(kind: NDArray[Any], racks: NDArray[np.float64], kw: NDArray[np.float64],
               params: SitingParams) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]:
    """Racks and IT kW of each site: RACKS, else KW / kW-per-rack, else the kind's default (``assumed``).

    Examples
    --------
    >>> from geoplan.siting.params import default_params
    >>> r, k, a = site_racks(np.array(["substation"] * 3), np.array([12.0, np.nan, np.nan]),
    ...                      np.array([np.nan, 50.0, np.nan]), default_params())
    >>> r.tolist(), k.tolist(), a.tolist()
    ([12.0, 20.0, 20.0], [30.0, 50.0, 50.0], [False, False, True])
    """
    per = params.kw_per_rack
    default = np.array([params.edge_kinds.get(str(k), params.edge_kinds["other"]).racks for k in kind], dtype=float)
    assumed = ~np.isfinite(racks) & ~np.isfinite(kw)
    r = np.where(np.isfinite(racks), racks, np.where(np.isfinite(kw), kw / per, default))
    k = np.where(np.isfinite(kw), kw, r * per)
    return r, k, assumed


def edge_site_arrays(proj: Project) -> EdgeSites:
    """The project's edge-site inventories in its metric CRS (empty without any)."""
    frames = []
    for ly in proj.siting.group("edge_sites"):
        g = ly.frame.to_crs(proj.metric_crs)
        num = {c: pd.to_numeric(g[c], errors="coerce").to_numpy(dtype=float) if c in g.columns
               else np.full(len(g), np.nan) for c in ("RACKS", "KW")}
        names = g["NAME"].fillna("").astype(str).to_numpy(dtype=object) if "NAME" in g.columns \
            else np.full(len(g), "", dtype=object)
        frames.append((np.column_stack([g.geometry.x.to_numpy(), g.geometry.y.to_numpy()]) if len(g)
                       else np.zeros((0, 2)), g["KIND"].astype(str).to_numpy(), np.full(len(g), ly.name), names,
                       num["RACKS"], num["KW"]))
    if not frames:
        z = np.zeros(0)
        return EdgeSites(np.zeros((0, 2)), z.astype(str), z.astype(str), z.astype(object), z, z, z.astype(bool))
    xy, kind, source, name, racks, kw = (np.concatenate([f[i] for f in frames]) for i in range(6))
    r, k, assumed = site_racks(kind, racks, kw, proj.siting.params)
    return EdgeSites(xy.reshape(-1, 2), kind.astype(str), source.astype(str), name, r, k, assumed)


@dataclass(frozen=True)
class CapacitySummary:
    """Capacity of the chosen edge data centres against the plan's rack target (``summary.capacity``).

    ``racks`` are standard racks (``kw_per_rack`` kW of IT power each); ``facility_kw``
    is IT power × ``pue``. ``racks_assumed_sites`` sites had no RACKS or KW and got
    their kind's default. ``target_racks`` is the plan's city-wide figure for all data
    centres (``None`` when the plan states none); ``share_of_target`` the edge share of it.
    """

    racks: float
    it_kw: float
    facility_kw: float
    kw_per_rack: float
    pue: float
    by_kind: dict[str, int]
    racks_by_kind: dict[str, float]
    racks_assumed_sites: int
    target_racks: float | None
    target_quote: str | None
    share_of_target: float | None
    statement: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return plain(dataclasses.asdict(self))  # type: ignore[no-any-return]


def capacity_summary(kind: NDArray[Any], racks: NDArray[np.float64], kw: NDArray[np.float64],
                     assumed: NDArray[np.bool_], *, plan: Plan | None, params: SitingParams) -> CapacitySummary:
    """Racks and kW of the chosen sites, and a plain statement against the plan's rack target (``None``: no plan)."""
    k = np.asarray(kind, dtype=str)
    kinds = sorted(set(k.tolist()))
    total, it = float(np.sum(racks)), float(np.sum(kw))
    tgt = None if plan is None else plan.text_target("racks")
    target = None if tgt is None else float(tgt.value)
    share = None if not target else total / target
    n = k.size
    if target:
        statement = (f"{n} edge data centres hold {total:,.0f} standard racks ({it:,.0f} kW IT, "
                     f"{it * params.pue:,.0f} kW at PUE {params.pue:g}): {share:.1%} of the plan's {target:,.0f} racks, "
                     "a figure that counts every data centre of the city; the rest is in large data centres, "
                     "not placed here")
    else:
        statement = (f"{n} edge data centres hold {total:,.0f} standard racks ({it:,.0f} kW IT); the plan states no "
                     "rack target")
    if assumed.any():
        statement += (f"; {int(assumed.sum())} site(s) had no RACKS or KW and were given their kind's default "
                      "(geoplan/siting_params.toml)")
    return CapacitySummary(
        racks=round(total, 1), it_kw=round(it, 1), facility_kw=round(it * params.pue, 1),
        kw_per_rack=params.kw_per_rack, pue=params.pue, by_kind={c: int((k == c).sum()) for c in kinds},
        racks_by_kind={c: round(float(racks[k == c].sum()), 1) for c in kinds},
        racks_assumed_sites=int(assumed.sum()), target_racks=target,
        target_quote=None if tgt is None else tgt.quote, share_of_target=None if share is None else round(share, 4),
        statement=statement)


@dataclass(frozen=True)
class LatencyBinding:
    """Whether the latency circle changes the edge plan (``summary.latency_binding``).

    Attributes
    ----------
    binds : bool
        The circle changes the plan: the plan that ignores latency leaves demand outside it.
    radius_km : float
        Straight-line radius of the circle.
    farthest_pair_km : float
        Largest distance between any demand point and any candidate site.
    unconstrained_max_km : float
        Worst distance to the nearest site in the plan that ignores latency.
    equipment_ms_to_bind, route_factor_to_bind : float or None
        One-way equipment delay, and route factor, at which the chosen plan's worst
        demand point would reach the budget (``None`` when it already does).
    decided_by : str
        What decides the placement.
    statement : str
        The above in one plain sentence.
    """

    binds: bool
    radius_km: float
    farthest_pair_km: float
    unconstrained_max_km: float
    equipment_ms_to_bind: float | None
    route_factor_to_bind: float | None
    decided_by: str
    statement: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return plain(dataclasses.asdict(self))  # type: ignore[no-any-return]


def latency_binding(*, budget_ms: float, latency: LatencyModel, radius_m: float, farthest_pair_m: float,
                    unconstrained_max_m: float, plan_max_m: float, objective: str, candidates_note: str,
                    inside_share: float = 1.0, outside_points: int = 0) -> LatencyBinding:
    """Say whether the latency circle binds, and what decides the placement.

    ``unconstrained_max_m`` is the worst demand distance of the plan made without the
    circle; the circle binds when that plan leaves demand outside it. ``inside_share``
    and ``outside_points`` describe the chosen plan (demand weight inside the circle,
    demand points outside it).

    Examples
    --------
    >>> b = latency_binding(budget_ms=1.0, latency=LatencyModel(), radius_m=120_000.0, farthest_pair_m=60_000.0,
    ...                     unconstrained_max_m=9_000.0, plan_max_m=9_000.0, objective="median",
    ...                     candidates_note="telecom offices and substations")
    >>> b.binds, b.equipment_ms_to_bind, round(b.route_factor_to_bind, 1)
    (False, 0.9325, 20.0)
    """
    one_way, rtt = replace(latency, round_trip=False), replace(latency, round_trip=True)
    binds = unconstrained_max_m > radius_m * (1 + 1e-9)
    per_leg = budget_ms / latency.legs
    prop_ms = plan_max_m / 1000.0 * latency.route_factor * latency.fibre_us_per_km / 1000.0
    eq = per_leg - prop_ms
    rf = (per_leg - latency.equipment_ms) / (plan_max_m / 1000.0 * latency.fibre_us_per_km / 1000.0) \
        if plan_max_m > 0 else None
    goal = "the weighted mean distance to the demand points (p-median)" if objective == "median" else \
        "the worst distance to a demand point (p-center), then the mean"
    worst = (f"worst demand point {plan_max_m / 1000:,.1f} km from its data centre: "
             f"{float(one_way.latency_ms(plan_max_m)):.3f} ms one way, {float(rtt.latency_ms(plan_max_m)):.3f} ms "
             "round trip")
    circle = (f"the {budget_ms:g} ms {latency.reading} circle ({radius_m / 1000:,.1f} km straight-line radius after "
              f"{latency.equipment_ms:g} ms equipment delay each way, route factor {latency.route_factor:g})")
    if binds:
        decided = f"the latency circle first (cover the most demand within it), then {goal}"
        left = ("every demand point is inside it" if not outside_points else
                f"{outside_points} demand point(s) stay outside it ({inside_share:.1%} of the demand weight inside)")
        statement = (f"The latency circle binds: without it the best plan leaves demand "
                     f"{unconstrained_max_m / 1000:,.1f} km away, beyond {circle}; the placement therefore covers the "
                     f"most demand within the circle first, then {goal}: {left}; {worst}.")
    else:
        decided = f"{goal}, among {candidates_note}"
        never = farthest_pair_m <= radius_m
        why = (f"every candidate site is within {farthest_pair_m / 1000:,.1f} km of every demand point, so any "
               "placement meets it" if never else
               f"the plan made without it already keeps every demand point within {unconstrained_max_m / 1000:,.1f} km")
        statement = (f"The latency circle does not bind: {circle} — {why}; {worst}. What decides the placement is "
                     f"{decided}." + (f" It would bind only with more than {eq:.2f} ms of equipment delay each way or "
                                      f"a route factor above {rf:.1f}." if eq > 0 and rf is not None else ""))
    return LatencyBinding(binds=bool(binds), radius_km=round(radius_m / 1000, 3),
                          farthest_pair_km=round(farthest_pair_m / 1000, 3),
                          unconstrained_max_km=round(unconstrained_max_m / 1000, 3),
                          equipment_ms_to_bind=round(eq, 4) if eq > 0 else None,
                          route_factor_to_bind=round(rf, 2) if rf is not None and eq > 0 else None,
                          decided_by=decided, statement=statement)
