"""Planning contexts and greedy orders kept on disk between runs (a cold app start in seconds).

Building a city's :class:`~.context.PlanningContext` (radio environment, radii,
coverage matrices) and its greedy order takes several seconds, every time the
map app or a script starts. Both are pure functions of the project's data, the
:class:`~.settings.PlanSettings` and geoplan's version, so they are kept as
uncompressed ``.npz`` files (no pickles) in :func:`geoplan.io.cache_dir`
(``$GEOPLAN_CACHE_DIR``, default ``~/.cache/geoplan``), named by a SHA-256 of:

- the project's content (:func:`~geoplan.project_store.project_fingerprint`: population grid values,
  transform and CRS, every layer's geometry and attributes, the plan and its
  targets, the radio parameters' digest with a project file's ``[radio]``
  overrides, every siting layer — inventories, constraints, edge sites — with
  its table, and the ``[siting]`` overrides such as site costs), so an edited
  project file or layer is a new key, whatever its file name or date;
- the settings that shape the candidates and coverage
  (:meth:`~.settings.PlanSettings.context_key`: network, band, users, mix, seed,
  candidates; the cost weight only weighs the objective, so every cost weight
  shares one context), and for an order the year, the total and the cost weight;
- ``geoplan.__version__``, so an upgrade never reads arrays an older version made.

A cache file that cannot be read is ignored and rebuilt; the folder can be
deleted at any time.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from .. import io
from ..project import Project
from ..project_store import project_fingerprint
from ..siting.constraints import SiteConflicts, constraint_set
from ._memory import sites_frame
from .context import PlanningContext, planning_context
from .pool import CandidatePool
from .settings import PlanSettings

__all__ = ["project_fingerprint", "cache_key", "cached_arrays", "cached_context", "context_arrays",
           "context_from_arrays", "cached_order"]

_SPARSE = ("coverage", "existing_coverage")
_DENSE = ("demand_weights", "demand_district", "environment", "cell_m", "existing_xy", "existing_type",
          "existing_radius", "existing_district", "existing_environment", "existing_capacity", "share0", "cand_xy",
          "cand_type", "cand_radius", "cand_district", "cand_density", "cand_environment", "cand_capacity")
#: The candidate pool's own arrays (the others are the context's ``cand_*``).
_POOL = ("kind", "source", "cost", "height_m", "modelled", "cand_id", "name")


def cache_key(proj: Project, kind: str, **parts: Any) -> str:
    """File stem of a cached result: ``kind`` and a hash of project, ``parts`` and geoplan's version."""
    from .. import __version__

    text = json.dumps({"project": project_fingerprint(proj), "version": __version__, **parts}, sort_keys=True,
                      default=str)
    return f"{kind}-{hashlib.sha256(text.encode()).hexdigest()[:32]}"


def cached_arrays(proj: Project, kind: str, build: Callable[[], dict[str, NDArray[Any]]], *,
                  folder: str | Path | None = None, **parts: Any) -> dict[str, NDArray[Any]]:
    """Arrays of ``build()``, read from the cache when an earlier run made them for the same key."""
    path = Path(folder if folder is not None else io.cache_dir()) / f"{cache_key(proj, kind, **parts)}.npz"
    found = io.read_arrays(path)
    if found is not None:
        return found
    arrays = build()
    try:
        io.write_arrays(arrays, path)
    except Exception:  # noqa: BLE001 - a cache that cannot be written only costs time
        pass
    return arrays


def context_arrays(ctx: PlanningContext) -> dict[str, NDArray[Any]]:
    """A context's arrays by name (sparse matrices as their CSC parts)."""
    out: dict[str, NDArray[Any]] = {}
    for k in _DENSE:
        v = np.asarray(getattr(ctx, k))
        out[k] = v.astype(str) if v.dtype == object else v  # text as fixed-width unicode: no pickles
    for k in _SPARSE:
        m = sp.csc_array(getattr(ctx, k))
        out[f"{k}.data"], out[f"{k}.indices"], out[f"{k}.indptr"] = m.data, m.indices, m.indptr
        out[f"{k}.shape"] = np.asarray(m.shape, dtype=np.int64)
    out["flags"] = np.asarray([ctx.candidates_modelled])
    out["source"] = np.asarray([ctx.candidate_source])
    pool = ctx.pool
    for k in _POOL:
        v = np.asarray(getattr(pool, k))
        out[f"pool.{k}"] = v.astype(str) if v.dtype == object else v
    out["pool.conflicts"] = np.stack([pool.conflicts.site, pool.conflicts.zone]).astype(np.int64)
    out["pool.counts"] = np.asarray([json.dumps({"excluded": pool.excluded, "outside": pool.outside,
                                                 "generator": pool.generator})])
    return out


def context_from_arrays(proj: Project, settings: PlanSettings, a: dict[str, NDArray[Any]]) -> PlanningContext:
    """The context :func:`context_arrays` stored."""
    mats = {k: sp.csc_array((a[f"{k}.data"], a[f"{k}.indices"], a[f"{k}.indptr"]),
                            shape=tuple(int(v) for v in a[f"{k}.shape"])) for k in _SPARSE}
    zones = constraint_set(proj)  # rebuilt from the project: the zone indices are the same for the same content
    counts = json.loads(str(a["pool.counts"][0]))
    site, zone = a["pool.conflicts"]
    pool = CandidatePool(
        xy=a["cand_xy"], site_type=a["cand_type"], density=a["cand_density"], environment=a["cand_environment"],
        district=a["cand_district"], **{k: a[f"pool.{k}"] for k in ("kind", "source", "cost", "height_m", "modelled")},
        cand_id=a["pool.cand_id"].astype(object), name=a["pool.name"].astype(object),
        conflicts=SiteConflicts(site, zone, len(a["cand_xy"]), zones), excluded=counts["excluded"],
        outside=counts["outside"], generator=counts["generator"])
    return PlanningContext(project=proj, settings=settings, **{k: a[k] for k in _DENSE}, **mats,
                           candidates_modelled=bool(a["flags"][0]), candidate_source=str(a["source"][0]),
                           build_s=0.0, pool=pool, zones=zones)


def cached_context(proj: Project, settings: PlanSettings | None = None, *,
                   folder: str | Path | None = None) -> PlanningContext:
    """:func:`~.context.planning_context` of ``proj``, from the disk cache when it holds it.

    Examples
    --------
    >>> import geoplan as gp, tempfile
    >>> proj = gp.load_project()
    >>> with tempfile.TemporaryDirectory() as d:
    ...     a = cached_context(proj, folder=d)
    ...     b = cached_context(proj, folder=d)  # read back
    >>> (a.coverage != b.coverage).nnz, b.coverage.shape == a.coverage.shape
    (0, True)
    """
    s = (settings or PlanSettings()).context_key()
    built: list[PlanningContext] = []

    def build() -> dict[str, NDArray[Any]]:
        built.append(planning_context(proj, settings=s))
        return context_arrays(built[0])

    arrays = cached_arrays(proj, "context", build, folder=folder, settings=s.to_dict())
    return built[0] if built else context_from_arrays(proj, s, arrays)


def cached_order(ctx: PlanningContext, *, year: int, total: int, cost_weight: float | None = None,
                 folder: str | Path | None = None) -> tuple[NDArray[np.int64], gpd.GeoDataFrame]:
    """The greedy plan for ``total`` stations in ``year``: its candidate columns in greedy order, and its sites.

    The first N columns of the order are what the app's station slider shows
    (see ``apps/streamlit_app.py``); the order is read from the cache when an
    earlier run made it for the same project, settings, year, total and cost
    weight (``None``: the project's, see :meth:`~.context.PlanningContext.cost_weight`).
    """
    from .sites import place_sites

    def build() -> dict[str, NDArray[Any]]:
        res = place_sites(ctx.project, total=total, year=year, context=ctx, cost_weight=cost_weight)
        return {"selected": np.asarray(res.placement.selected, dtype=np.int64)}

    sel = cached_arrays(ctx.project, "order", build, folder=folder, settings=ctx.settings.to_dict(), year=year,
                        total=total, candidates=int(ctx.coverage.shape[1]),
                        cost_weight=ctx.cost_weight(PlanSettings(cost_weight=cost_weight)))["selected"]
    return sel, sites_frame(ctx, sel, build_year=year)
