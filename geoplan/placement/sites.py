"""5G site placement on a project: one entry point, two engines.

:func:`place_sites` chooses new sites to meet each district's density target
for a year and/or a station total, maximising newly covered population. It runs
on one of two engines, with the same request (:func:`~.request.plan_request`),
the same settings (:class:`~.settings.PlanSettings`) and the same result
(:class:`~.results.PlanResult`):

``memory``
    every demand cell and candidate in one coverage matrix
    (:class:`~.context.PlanningContext`); greedy or exact (HiGHS); for cities.
``chunked``
    district by district on the population raster's windows, memory bounded,
    greedy; for provinces; on a Dask cluster with ``client=``.

``engine="auto"`` picks ``chunked`` above :data:`LARGE_PROJECT_CELLS` populated
cells, counted on the raster without building the demand arrays.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._typing import Progress
from ..errors import ConfigError
from ..project import Project
from ._chunked import place_by_county
from ._memory import place_in_memory
from .context import PlanningContext, planning_context
from .request import plan_request
from .results import PlanResult
from .settings import PlanSettings, settings_from
from .snap import MAX_SNAP_M

__all__ = ["ENGINES", "METHODS", "LARGE_PROJECT_CELLS", "populated_cells", "choose_engine", "place_sites",
           "resolve_settings", "check_chunked"]

#: Placement engines: ``auto`` chooses by the project's size.
ENGINES: tuple[str, ...] = ("auto", "memory", "chunked")
#: Solution methods of :func:`place_sites`.
METHODS: tuple[str, ...] = ("greedy", "exact")
#: Projects with more populated cells than this are placed county by county.
LARGE_PROJECT_CELLS = 2_000_000


def populated_cells(proj: Project) -> int:
    """Populated cells of the project's raster (a count, without building the demand arrays).

    Examples
    --------
    >>> import geoplan as gp
    >>> populated_cells(gp.load_project()) > 100_000
    True
    """
    r = proj.population
    v = r.values
    ok = np.isfinite(v) & (v > 0)
    if r.nodata is not None and np.isfinite(r.nodata):
        ok &= v != r.nodata
    return int(np.count_nonzero(ok))


def choose_engine(proj: Project, engine: str = "auto", *, client: object | None = None) -> str:
    """``memory`` or ``chunked``: the engine ``engine`` names, or the one the project's size calls for.

    A Dask ``client`` runs the county tasks on its workers, so it implies ``chunked``.

    Examples
    --------
    >>> import geoplan as gp
    >>> choose_engine(gp.load_project())
    'memory'
    """
    if engine not in ENGINES:
        raise ConfigError(f"unknown engine {engine!r}. Fix: use one of {', '.join(ENGINES)}")
    if client is not None:
        if engine == "memory":
            raise ConfigError("a Dask client runs the county-by-county engine. Fix: use engine='chunked' (or 'auto') "
                              "with a client, or leave the client out")
        return "chunked"
    if engine != "auto":
        return engine
    return "chunked" if populated_cells(proj) > LARGE_PROJECT_CELLS else "memory"


def check_chunked(settings: PlanSettings, *, method: str, proj: Project, fixed: bool, capacity: bool = False) -> None:
    problems = []
    if capacity:
        problems.append("sites are added for capacity by the in-memory engine only (engine='memory'; "
                        "geoplan.chunked.coverage(..., year=) reports a province's capacity)")
    if method != "greedy":
        problems.append("the exact solver needs the whole coverage matrix in memory (use method='greedy', or "
                        "engine='memory' on a machine with enough memory)")
    if settings.candidates != "population":
        problems.append(f"candidates are drawn per district from populated cells, not by '{settings.candidates}' "
                        "(leave out --candidates)")
    if proj.layer("candidates") is not None or proj.siting.group("inventories"):
        names = [ly.name for ly in proj.siting.group("inventories")] + (
            ["candidates"] if proj.layer("candidates") is not None else [])
        problems.append(f"candidate inventories ({', '.join(names)}) are only used by the in-memory engine "
                        "(engine='memory'); the county-by-county engine places new builds on generated candidates, "
                        "hard constraints applied")
    weight = settings.cost_weight if settings.cost_weight is not None else proj.siting.params.cost_weight
    if weight:
        problems.append(f"a cost weight ({weight:g} residents per 万元) needs the in-memory engine (leave out "
                        "--cost-weight, or use engine='memory')")
    if settings.n_candidates is not None or settings.candidate_spacing_m is not None:
        problems.append("the number and spacing of candidates are set per district by the county-by-county engine "
                        "(leave out --n-candidates and --candidate-spacing-m)")
    if fixed:
        problems.append("sites to keep (drawn sites) are only taken by the in-memory engine (engine='memory')")
    if problems:
        raise ConfigError(f"{proj.name} is placed county by county: " + "; ".join(problems))


def resolve_settings(proj: Project, *, context: PlanningContext | None, settings: PlanSettings | None,
                     engine: str, client: object | None, **given: Any) -> tuple[PlanSettings, str]:
    """The settings of a run and its engine: ``settings`` (or the context's) with the single ``given`` ones.

    A ``network`` given without a ``band`` takes the network's band (:data:`~.settings.NETWORK_BANDS`).
    """
    given = {k: v for k, v in given.items() if v is not None}
    asked = {**(settings.to_dict() if settings is not None else {}), **given}
    network = given.get("network")
    if network is not None and "band" not in given and (settings is None or settings.network != network):
        asked["band"] = None  # the network's own band
    s = settings_from(context.settings, **asked) if context is not None else PlanSettings(**asked)
    if context is not None and context.project is not proj:
        raise ConfigError("the planning context belongs to another project. Fix: build it with "
                          "planning_context(proj) for this project")
    eng = "memory" if context is not None and engine == "auto" else choose_engine(proj, engine, client=client)
    return s, eng


def place_sites(proj: Project, *, total: int | None = None, year: int | None = None, method: str = "greedy",
                engine: str = "auto", client: object | None = None, context: PlanningContext | None = None,
                settings: PlanSettings | None = None, band: str | None = None, indoor: bool | None = None,
                mix: tuple[float, float, float] | None = None, seed: int | None = None,
                candidates: str | None = None, network: str | None = None, cost_weight: float | None = None,
                fixed_xy: NDArray[np.float64] | None = None, time_limit_s: float = 60.0, mip_rel_gap: float = 1e-4,
                population_year: int | None = None, basis: str | None = None, meet: str | None = None,
                quotas: str = "plan", capacity: bool = False, progress: Progress | None = None,
                max_snap_m: float = MAX_SNAP_M, cancel: Callable[[], bool] | None = None) -> PlanResult:
    """Choose new 5G sites for ``proj``.

    Parameters
    ----------
    proj : Project
        The project.
    total : int, optional
        Total stations wanted (existing + new): the budget of new sites is
        ``total − existing``. Without ``year``, the density target of the plan's
        last year sets the district quotas, shared in proportion to the
        shortfalls when the budget cannot meet them all (:func:`~._steps.allocate_quotas`).
    year : int, optional
        Meet the plan's targets for ``year`` (see ``meet``); with ``total``, the
        budget is ``total`` and the year sets the quotas.
    method : {"greedy", "exact"}
        Lazy greedy (fast, default) or HiGHS MILP (real status and gap; in-memory engine only).
    engine : {"auto", "memory", "chunked"}
        Where the work runs (see the module notes).
    client : dask.distributed.Client, optional
        Run the county tasks on this Dask cluster (implies ``chunked``).
    context : PlanningContext, optional
        Reuse arrays built by :func:`~.context.planning_context` (what-if runs).
        Settings given below must then agree with the context's.
    settings : PlanSettings, optional
        Network, band, users, mix, seed and candidate source at once.
    band, indoor, mix, seed, candidates, network, cost_weight
        Single settings (see :class:`~.settings.PlanSettings`), overriding ``settings``;
        ``network`` (``any``, ``cmcc``, ``ctcu``, ``cbn``) is whose users the coverage counts
        (the density target always counts every operator's stations); ``cost_weight``
        (residents per 万元) weighs site cost against coverage (:mod:`~.costing`) and may
        differ from a ``context``'s.
    fixed_xy : ndarray, optional
        Metric coordinates of sites that must be built (e.g. drawn by a planner);
        each is moved onto the nearest candidate (in-memory engine), at most ``max_snap_m``.
    max_snap_m : float
        Farthest a fixed site is moved onto a candidate (:data:`~.snap.MAX_SNAP_M`, 500 m);
        a site farther from every candidate raises :class:`~geoplan.errors.InfeasibleError`.
    time_limit_s, mip_rel_gap : float
        Exact solver limits.
    population_year : int, optional
        A fixed year-end population basis of the density target.
    basis : {"census", "yearend", "projection"}, optional
        Population basis of the density target (the project's by default;
        :func:`geoplan.targets.population_basis`).
    meet : {"density", "count", "both"}, optional
        With ``year``: reach its density target (default), the plan's station
        count for it (e.g. 18,500), or both.
    quotas : {"plan", "area", "district"}
        Whether the density target binds the area's total only or every district
        (``plan``: as the plan states; see :mod:`~.request`).
    capacity : bool
        Also carry the busy-hour traffic of the year's 5G users: add sites until no
        cell is capacity-limited (:mod:`geoplan.capacity`; in-memory engine). The
        summary's ``capacity`` reports the figures either way.
    progress : callable, optional
        ``progress(fraction, message)``; the exact solver reports its best plan, bound and gap.
    cancel : callable, optional
        Polled by the exact solver; when it returns true the solve stops and the best plan so
        far is returned with status ``cancelled``.

    Raises
    ------
    ConfigError
        Neither ``total`` nor ``year``, an unknown method or engine, settings that
        disagree with ``context``, or options the chosen engine cannot honour.
    InfeasibleError
        A total below the existing stations, or more new sites than candidates.

    Examples
    --------
    >>> import geoplan as gp
    >>> res = place_sites(gp.load_project(), year=2025, meet="both")
    >>> res.summary.stations, res.summary.meets_density, res.summary.meets_count, res.summary.engine
    (18500, True, True, 'memory')
    """
    if method not in METHODS:
        raise ConfigError(f"unknown method {method!r}. Fix: use greedy or exact")
    s, eng = resolve_settings(proj, context=context, settings=settings, engine=engine, client=client, band=band,
                              indoor=indoor, mix=mix, seed=seed, candidates=candidates, network=network,
                              cost_weight=cost_weight)
    req = plan_request(proj, total=total, year=year, population_year=population_year, basis=basis, meet=meet,
                       quotas=quotas)
    if eng == "chunked":
        if context is not None:
            raise ConfigError("a planning context is built for the in-memory engine. Fix: leave context out with "
                              "engine='chunked'")
        check_chunked(s, method=method, proj=proj, fixed=fixed_xy is not None and len(fixed_xy) > 0,
                      capacity=capacity)
        mapper = None
        if client is not None:
            from ..distributed import dask_mapper

            mapper = dask_mapper(client)  # type: ignore[arg-type]
        return place_by_county(proj, s, req, mapper=mapper, progress=progress)
    if context is not None:
        return place_in_memory(context, req, method=method, fixed_xy=fixed_xy, time_limit_s=time_limit_s,
                               mip_rel_gap=mip_rel_gap, progress=progress, settings=s, max_snap_m=max_snap_m,
                               cancel=cancel, capacity=capacity)
    step = progress or (lambda f, m: None)
    ctx = planning_context(proj, settings=s, progress=lambda f, m: step(0.6 * f, m))
    return place_in_memory(ctx, req, method=method, fixed_xy=fixed_xy, time_limit_s=time_limit_s,
                           mip_rel_gap=mip_rel_gap, progress=lambda f, m: step(0.6 + 0.4 * f, m),
                           max_snap_m=max_snap_m, cancel=cancel, capacity=capacity)
