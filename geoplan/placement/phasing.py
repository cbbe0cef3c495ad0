"""Phased plans: year-by-year batches of new sites, each year meeting that year's targets.

``place_phased(proj, years=[2023, 2024, 2025])`` plans the first year as
:func:`~.sites.place_sites` would, then each later year *extends* the sites
chosen so far: they are fixed (the in-memory engine takes them first, the
county-by-county engine counts them as existing), and only the increment the
year's targets still need is added. The batches are nested by construction,
the greedy order makes each year's choice the one a single-year plan would
have continued with, and every planned site carries the year it is first
needed in (``BUILD_YEAR``).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from .. import radio
from .._json import plain, records
from .._typing import Progress
from ..chunked import SiteArrays
from ..errors import ConfigError
from ..project import Project
from ._chunked import place_by_county, planned_site_arrays, stack_sites
from ._memory import place_in_memory
from .context import PlanningContext, planning_context
from .request import plan_request
from .results import PlanResult, planned_sites_frame
from .settings import PlanSettings
from .sites import check_chunked, resolve_settings

__all__ = ["PhasedPlan", "place_phased", "phase_row"]


@dataclass(frozen=True, eq=False)
class PhasedPlan:
    """A plan built year by year.

    Attributes
    ----------
    years : tuple of int
        The target years, in order.
    results : tuple of PlanResult
        One per year, cumulative: the sites of that year and every earlier one,
        and what they achieve against that year's targets.
    sites : GeoDataFrame
        Every planned site (the last year's), with BUILD_YEAR.
    summary : DataFrame
        One row per year: targets, sites built that year and in all, stations,
        density, whether the targets are met, coverage.
    """

    years: tuple[int, ...]
    results: tuple[PlanResult, ...]
    sites: gpd.GeoDataFrame
    summary: pd.DataFrame

    @property
    def final(self) -> PlanResult:
        """The last year's result."""
        return self.results[-1]

    def batch(self, year: int) -> gpd.GeoDataFrame:
        """The sites first built in ``year``."""
        return self.sites[self.sites["BUILD_YEAR"] == int(year)]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (layout ``geoplan.place_phased/1``, without the sites)."""
        return {"schema": "geoplan.place_phased/1", "years": list(self.years),
                "phases": records(self.summary, ndigits=4),
                "results": [{"year": y, **r.to_dict()} for y, r in zip(self.years, self.results, strict=True)]}


def phase_row(res: PlanResult, *, built_this_year: int) -> dict[str, Any]:
    """One row of :attr:`PhasedPlan.summary` for a year's cumulative result."""
    s = res.summary
    return plain({"year": s.year, "target_per_10k": s.target_per_10k, "stations_target": s.stations_target,
                  "built_this_year": built_this_year, "new_total": s.new, "stations": s.stations,
                  "per_10k": s.per_10k, "area_required": s.area_required, "meets_density": s.meets_density,
                  "meets_count": s.meets_count, "districts_meeting_target": s.districts_meeting_target,
                  "coverage_after": s.coverage_after,
                  "reused_total": None if s.siting is None else s.siting.reused,
                  "cost_total": None if s.siting is None else s.siting.cost_total,
                  "soft_conflict_sites": None if s.siting is None else s.siting.soft_conflict_sites})


def _years(years: Any) -> tuple[int, ...]:
    ys = tuple(sorted({int(y) for y in years}))
    if not ys:
        raise ConfigError("no years to phase. Fix: give --years 2023 2024 2025")
    return ys


def _memory_phases(ctx: PlanningContext, proj: Project, years: tuple[int, ...], *, kw: dict[str, Any],
                   method: str, time_limit_s: float, mip_rel_gap: float, settings: PlanSettings,
                   step: Progress) -> list[tuple[PlanResult, int]]:
    n = len(proj.districts)
    order = np.zeros(0, dtype=np.int64)
    year_of: dict[int, int] = {}
    out: list[tuple[PlanResult, int]] = []
    for k, y in enumerate(years):
        step(k / len(years), f"{y}: choosing sites")
        prior = np.bincount(ctx.cand_district[order], minlength=n).astype(np.int64)
        req = plan_request(proj, total=None, year=y, prior=prior, **kw)
        req = dataclasses.replace(req, p=len(order) + req.p, quotas=req.quotas + prior)
        res = place_in_memory(ctx, req, method=method, fixed_xy=None, time_limit_s=time_limit_s,
                              mip_rel_gap=mip_rel_gap, progress=None, fixed_columns=order,
                              build_year=y, settings=settings)
        sel = np.asarray(res.placement.selected, dtype=np.int64)
        new = sel[~np.isin(sel, order)]
        year_of.update({int(j): y for j in new})
        order = np.concatenate([order, new])
        years_sel = np.array([year_of[int(j)] for j in sel], dtype=np.int64)
        out.append((_with_years(res, res.sites, proj, years_sel), len(new)))
    return out


def _with_years(res: PlanResult, sites: gpd.GeoDataFrame, proj: Project, years: NDArray[np.int64]) -> PlanResult:
    """``res`` with ``sites`` given BUILD_YEAR per row, RANK / SITE_ID renumbered for it (conflicts follow)."""
    xy = np.column_stack([sites.to_crs(proj.metric_crs).geometry.x, sites.to_crs(proj.metric_crs).geometry.y]) \
        if len(sites) else np.zeros((0, 2))
    codes = {c: i for i, c in enumerate(proj.district_codes)}
    dist = np.array([codes.get(c, -1) for c in sites["XZQDM"]], dtype=np.int64)
    env_code = {name: i for i, name in enumerate(radio.ENVIRONMENT_NAMES)}
    env = np.array([env_code[e] for e in sites["RADIO_ENV"]], dtype=np.int64)
    out = planned_sites_frame(proj, xy=xy, site_type=sites["SITE_TYPE"].to_numpy(dtype=str),
                              radius_m=sites["RADIUS_M"].to_numpy(dtype=float), environment=env.astype(np.int8),
                              district=dist, gains=sites["GAIN_POP"].to_numpy(dtype=float),
                              source=sites["SOURCE"].to_numpy(dtype=object),
                              modelled=sites["MODELLED"].to_numpy(dtype=bool), kind=sites["KIND"].to_numpy(dtype=object),
                              cost=sites["COST"].to_numpy(dtype=float),
                              conflicts=sites["CONFLICTS"].to_numpy(dtype=object), build_year=years)
    renamed = dict(zip(sites["SITE_ID"], out["SITE_ID"], strict=True))
    conflicts = res.conflicts.assign(SITE_ID=res.conflicts["SITE_ID"].map(renamed)) if len(res.conflicts) \
        else res.conflicts
    return dataclasses.replace(res, sites=out, conflicts=conflicts)


def _renamed(frames: list[gpd.GeoDataFrame], conflicts: list[pd.DataFrame], sites: gpd.GeoDataFrame) -> pd.DataFrame:
    """Each year's conflicts table with the SITE_IDs its sites have in ``sites`` (the years' frames, renumbered)."""
    ids = sites["SITE_ID"].to_numpy()
    parts, off = [], 0
    for f, c in zip(frames, conflicts, strict=True):
        m = dict(zip(f["SITE_ID"], ids[off:off + len(f)], strict=True))
        off += len(f)
        parts.append(c.assign(SITE_ID=c["SITE_ID"].map(m)))
    return pd.concat(parts, ignore_index=True)


def _chunked_phases(proj: Project, years: tuple[int, ...], *, settings: PlanSettings, kw: dict[str, Any],
                    mapper: Any, step: Progress) -> list[tuple[PlanResult, int]]:
    n = len(proj.districts)
    prior: SiteArrays | None = None
    frames: list[gpd.GeoDataFrame] = []
    raw: list[pd.DataFrame] = []
    out: list[tuple[PlanResult, int]] = []
    first = None
    for k, y in enumerate(years):
        step(k / len(years), f"{y}: placing county by county")
        counts = np.zeros(n, dtype=np.int64) if prior is None else \
            np.bincount(prior.district[prior.district >= 0], minlength=n).astype(np.int64)
        req = plan_request(proj, total=None, year=y, prior=counts, **kw)
        res = place_by_county(proj, settings, req, mapper=mapper, prior=prior)
        batch = planned_site_arrays(proj, settings, res.sites)
        prior = batch if prior is None else stack_sites(prior, batch)
        frames.append(res.sites)
        sites = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=res.sites.crs)
        years_all = sites["BUILD_YEAR"].to_numpy(dtype=np.int64)
        table = res.districts.copy()
        table["existing"] = table["existing"] - counts
        table["new"] = table["new"] + counts
        if first is None:
            first = res
        else:
            table["coverage_before"] = first.districts["coverage_before"].to_numpy()
        s = dataclasses.replace(res.summary, existing=int(table["existing"][~proj.no_statistics].sum()),
                                new=int(table["new"].sum()), coverage_before=first.summary.coverage_before,
                                covered_population_before=first.summary.covered_population_before)
        raw.append(res.conflicts)
        final = _with_years(dataclasses.replace(res, districts=table, summary=s, conflicts=res.conflicts.iloc[:0]),
                            sites, proj, years_all)
        out.append((dataclasses.replace(final, conflicts=_renamed(frames, raw, final.sites)), len(res.sites)))
    return out


def place_phased(proj: Project, *, years: Any, meet: str | None = None, quotas: str = "plan",
                 method: str = "greedy", engine: str = "auto", client: object | None = None,
                 context: PlanningContext | None = None, settings: PlanSettings | None = None,
                 basis: str | None = None, population_year: int | None = None, time_limit_s: float = 60.0,
                 mip_rel_gap: float = 1e-4, progress: Progress | None = None, **single: Any) -> PhasedPlan:
    """Plan new sites year by year, each year meeting that year's targets (see the module notes).

    Parameters
    ----------
    proj : Project
        The project.
    years : iterable of int
        Target years (e.g. 2023, 2024, 2025), each one the plan covers.
    meet, quotas, basis, population_year
        As in :func:`~.sites.place_sites`, for every year.
    method, engine, client, context, settings, time_limit_s, mip_rel_gap
        As in :func:`~.sites.place_sites`.
    **single
        Single settings (``band``, ``indoor``, ``mix``, ``seed``, ``candidates``, ``cost_weight``).

    Raises
    ------
    ConfigError
        No years, a year the plan does not cover, options an engine cannot honour.
    InfeasibleError
        A year's sites cannot be found among the candidates.

    Examples
    --------
    >>> import geoplan as gp
    >>> ph = place_phased(gp.load_project(), years=[2023, 2024, 2025])
    >>> ph.summary["target_per_10k"].tolist(), ph.summary["meets_density"].tolist()
    ([25.0, 29.0, 33.0], [True, True, True])
    >>> sorted(set(ph.sites["BUILD_YEAR"])) == [2023, 2024, 2025]
    True
    """
    t0 = time.perf_counter()
    ys = _years(years)
    step = progress or (lambda f, m: None)
    s, eng = resolve_settings(proj, context=context, settings=settings, engine=engine, client=client, **single)
    kw = dict(population_year=population_year, basis=basis, meet=meet, quotas=quotas)
    if eng == "chunked":
        if context is not None:
            raise ConfigError("a planning context is built for the in-memory engine. Fix: leave context out with "
                              "engine='chunked'")
        check_chunked(s, method=method, proj=proj, fixed=False)
        mapper = None
        if client is not None:
            from ..distributed import dask_mapper

            mapper = dask_mapper(client)  # type: ignore[arg-type]
        phases = _chunked_phases(proj, ys, settings=s, kw=kw, mapper=mapper, step=step)
    else:
        ctx = context if context is not None else planning_context(proj, settings=s)
        phases = _memory_phases(ctx, proj, ys, kw=kw, method=method, time_limit_s=time_limit_s,
                                mip_rel_gap=mip_rel_gap, settings=s, step=step)
    step(1.0, f"done in {time.perf_counter() - t0:.1f} s")
    results = tuple(r for r, _ in phases)
    summary = pd.DataFrame([phase_row(r, built_this_year=b) for r, b in phases])
    return PhasedPlan(years=ys, results=results, sites=results[-1].sites, summary=summary)
