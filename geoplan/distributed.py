"""The per-district pipeline on dask.distributed, for provinces (or a country) beyond one machine.

:mod:`geoplan.chunked` cuts the work into per-district tasks on plain arrays
and runs them through a *mapper*. This module supplies a mapper that submits
the tasks to a :class:`dask.distributed.Client` (a ``LocalCluster`` on one
machine, or a real cluster), so every result is computed by the very same task
functions and is identical to the single-machine run:

>>> with local_client(n_workers=2) as client:             # doctest: +SKIP
...     report = coverage(proj, client=client)              # same as chunked.coverage(proj)

Tasks are submitted with ``pure=False`` (no hashing of large arrays) and
gathered in district order, one at a time, so the client holds one district's
result beyond those already returned. With ``processes=True`` each task ships
its district's raster window (a few MB) to a worker. Sites are assigned to
districts with dask-geopandas (:func:`stations_per_district`), partition by
partition.

``import geoplan`` does not import dask; importing this module does.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from . import chunked
from .project import Project

if TYPE_CHECKING:
    from dask.distributed import Client

    from .placement.results import PlanResult

__all__ = [
    "dask_mapper",
    "local_client",
    "zonal_sums",
    "coverage",
    "place_sites",
    "stations_per_district",
]

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())


def dask_mapper(client: Client) -> chunked.Mapper:
    """A :data:`geoplan.chunked.Mapper` running each task on ``client``'s workers, results in order."""

    def mapper(fn: Callable[[Any], Any], items: Sequence[Any]) -> Iterable[Any]:
        futures: list[Any] = client.map(fn, list(items), pure=False)

        def gather() -> Iterator[Any]:
            for i, fut in enumerate(futures):
                yield fut.result()
                futures[i] = None  # release the worker's copy as soon as the result is here
        return gather()

    return mapper


@contextlib.contextmanager
def local_client(*, n_workers: int = 2, processes: bool = False, threads_per_worker: int = 1,
                 memory_limit: str | int = "auto") -> Iterator[Client]:
    """A client on a new :class:`~dask.distributed.LocalCluster`, both closed when the ``with`` block ends.

    ``processes=False`` keeps the workers in this process as threads: no data
    is copied, which suits one machine; ``True`` isolates them as processes.
    The scheduler's HTTP server takes a free port, so clusters can run side by side.
    """
    from dask.distributed import Client, LocalCluster

    with LocalCluster(n_workers=n_workers, processes=processes, threads_per_worker=threads_per_worker,
                      memory_limit=memory_limit, dashboard_address=":0") as cluster, \
            Client(cluster, set_as_default=False) as client:
        yield client


def zonal_sums(proj: Project, *, client: Client, progress: chunked.Progress | None = None) -> np.ndarray:
    """:func:`geoplan.chunked.zonal_sums` with the districts computed on ``client``."""
    return chunked.zonal_sums(proj, mapper=dask_mapper(client), progress=progress)


def coverage(proj: Project, *, client: Client, **kwargs: Any) -> chunked.CoverageReport:
    """:func:`geoplan.chunked.coverage` with the districts computed on ``client`` (same keywords)."""
    return chunked.coverage(proj, mapper=dask_mapper(client), **kwargs)


def place_sites(proj: Project, *, client: Client, **kwargs: Any) -> PlanResult:
    """:func:`geoplan.placement.place_sites` with the county tasks computed on ``client`` (same keywords)."""
    from .placement import place_sites as _place

    return _place(proj, client=client, **kwargs)


def stations_per_district(proj: Project, *, client: Client, key: str = "sites",
                          npartitions: int | None = None) -> np.ndarray:
    """Sites of layer ``key`` in each district, by a dask-geopandas spatial join.

    A site on a shared border counts once, in the first district (as
    :meth:`geoplan.project.Project.district_of`); sites outside every district
    are not counted.
    """
    import dask_geopandas

    n = len(proj.districts)
    layer = proj.layer(key)
    if layer is None or len(layer) == 0:
        return np.zeros(n, dtype=np.int64)
    pts = proj.metric(key)[["geometry"]].reset_index(drop=True)
    pts["site"] = np.arange(len(pts))
    districts = proj.metric("districts")[["geometry"]].reset_index(drop=True)
    districts["district"] = np.arange(n)
    parts = npartitions or max(1, min(len(client.scheduler_info()["workers"]) * 2, len(pts) // 5_000 + 1))
    dpts = dask_geopandas.from_geopandas(pts, npartitions=parts)
    joined = dpts.sjoin(districts, predicate="within")[["site", "district"]]
    df = client.compute(joined).result()
    first = df.groupby("site")["district"].min()
    return np.bincount(first.to_numpy(dtype=np.int64), minlength=n).astype(np.int64)
