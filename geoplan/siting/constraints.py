"""Which sites fall in which exclusion or suitability zone, and the ``conflicts`` table.

A project's constraint layers (``[constraints.<name>]``, spec ``layers/constraints.toml``)
are polygons of one kind each (生态保护红线, 永久基本农田, water, airport clearance,
heritage ...), ``hard`` or ``soft`` as the project file says. A site *conflicts*
with a zone when it lies inside it and, for a zone with a height limit
(``MAX_H_M``, e.g. airport clearance), when the site is taller than the limit.

- hard conflicts remove a candidate before placement (generated and inventory
  candidates alike), so no planned site lies in a hard zone;
- soft conflicts are listed per planned site (``CONFLICTS`` field) and in the
  ``conflicts`` table, and a zone's ``extra_cost`` is added to the site's cost.

Everything runs in the project's metric CRS on arrays of points: one STRtree
query for all sites.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike, NDArray

from .inputs import SitingLayer

if TYPE_CHECKING:  # pragma: no cover
    from ..project import Project

__all__ = ["ConstraintSet", "SiteConflicts", "constraint_set", "CONFLICT_FIELDS", "empty_conflicts"]

#: Columns of the ``conflicts`` table (layer spec ``layers/conflicts.toml``), in order.
CONFLICT_FIELDS: tuple[str, ...] = ("SITE_ID", "CONSTRAINT", "KIND", "ZONE", "HARDNESS", "MAX_H_M", "SITE_H_M",
                                    "EXTRA_COST", "NOTE")


def empty_conflicts() -> pd.DataFrame:
    """A ``conflicts`` table with no rows (and its columns)."""
    return pd.DataFrame({c: pd.Series(dtype=float if c in ("MAX_H_M", "SITE_H_M", "EXTRA_COST") else object)
                         for c in CONFLICT_FIELDS})


@dataclass(frozen=True, eq=False)
class SiteConflicts:
    """The conflicts of ``n_sites`` sites: one (site, zone) pair per conflict.

    Attributes
    ----------
    site, zone : ndarray of int
        Site index and zone index (into the :class:`ConstraintSet`) of each conflict.
    n_sites : int
        Number of sites checked.
    """

    site: NDArray[np.int64]
    zone: NDArray[np.int64]
    n_sites: int
    zones: ConstraintSet

    @property
    def hard(self) -> NDArray[np.bool_]:
        """Per site: lies in a hard zone (and is too tall for it)."""
        out = np.zeros(self.n_sites, dtype=bool)
        out[self.site[self.zones.hard[self.zone]]] = True
        return out

    @property
    def extra_cost(self) -> NDArray[np.float64]:
        """Per site: 万元 its soft zones add."""
        soft = ~self.zones.hard[self.zone]
        return np.bincount(self.site[soft], weights=self.zones.extra_cost[self.zone[soft]],
                           minlength=self.n_sites).astype(np.float64)

    def subset(self, keep: ArrayLike) -> SiteConflicts:
        """The conflicts of sites ``keep`` (indices, in that order), renumbered 0..len(keep)-1."""
        k = np.asarray(keep, dtype=np.int64).reshape(-1)
        new = np.full(self.n_sites, -1, dtype=np.int64)
        new[k] = np.arange(k.size)
        m = new[self.site] >= 0
        order = np.lexsort((self.zone[m], new[self.site[m]]))
        return SiteConflicts(new[self.site[m]][order], self.zone[m][order], int(k.size), self.zones)

    def labels(self, *, hardness: str | None = "soft") -> NDArray[np.object_]:
        """Per site: its conflicts as ``'kind name'`` joined by ``'; '`` (empty string when none)."""
        out = np.full(self.n_sites, "", dtype=object)
        m = np.ones(self.site.size, dtype=bool) if hardness is None else (
            self.zones.hard[self.zone] == (hardness == "hard"))
        for i, z in zip(self.site[m].tolist(), self.zone[m].tolist(), strict=True):
            text = f"{self.zones.label[z]} {self.zones.name[z]}".strip()
            out[i] = text if not out[i] else f"{out[i]}; {text}"
        return out

    def table(self, site_ids: ArrayLike, heights: ArrayLike) -> pd.DataFrame:
        """The ``conflicts`` table (:data:`CONFLICT_FIELDS`) of these sites."""
        if not self.site.size:
            return empty_conflicts()
        ids = np.asarray(site_ids, dtype=object)
        h = np.asarray(heights, dtype=float)
        z = self.zone
        zs = self.zones
        return pd.DataFrame({
            "SITE_ID": ids[self.site], "CONSTRAINT": zs.layer[z], "KIND": zs.kind[z], "ZONE": zs.name[z],
            "HARDNESS": np.where(zs.hard[z], "hard", "soft"),
            "MAX_H_M": np.where(np.isfinite(zs.max_h[z]), zs.max_h[z], np.nan), "SITE_H_M": np.round(h[self.site], 1),
            "EXTRA_COST": np.where(zs.hard[z], 0.0, zs.extra_cost[z]), "NOTE": zs.note[z],
        }, columns=list(CONFLICT_FIELDS))


@dataclass(frozen=True, eq=False)
class ConstraintSet:
    """Every zone of a project's constraint layers, in the metric CRS (one row per polygon part).

    Attributes
    ----------
    geoms : ndarray of shapely geometries
        The zones' polygons (multi-part features split into parts).
    layer, kind, label, name, note : ndarray of str
        Constraint layer (project-file name), KIND, the kind's Chinese label, NAME and NOTE of each zone.
    hard : ndarray of bool
        Zone of a hard layer.
    max_h : ndarray of float
        Height limit (m above ground): sites taller conflict; ``-inf`` where every site inside conflicts.
    extra_cost : ndarray of float
        万元 a soft zone adds to a site inside it.
    """

    geoms: NDArray[np.object_]
    layer: NDArray[np.object_]
    kind: NDArray[np.object_]
    label: NDArray[np.object_]
    name: NDArray[np.object_]
    note: NDArray[np.object_]
    hard: NDArray[np.bool_]
    max_h: NDArray[np.float64]
    extra_cost: NDArray[np.float64]

    def __len__(self) -> int:
        return int(self.geoms.size)

    @property
    def layers(self) -> list[str]:
        """Names of the constraint layers, in order."""
        return list(dict.fromkeys(self.layer.tolist()))

    def check(self, xy: ArrayLike, heights_m: ArrayLike) -> SiteConflicts:
        """The conflicts of sites at ``xy`` (metres) of heights ``heights_m`` (m above ground).

        Examples
        --------
        >>> zones = ConstraintSet.from_arrays([shapely.box(0, 0, 10, 10), shapely.box(20, 0, 30, 10)],
        ...                                   kind=["water", "airport_clearance"], hard=[True, True],
        ...                                   max_h=[-np.inf, 15.0])
        >>> c = zones.check([[5, 5], [25, 5], [25, 6], [50, 5]], [3.0, 10.0, 25.0, 30.0])
        >>> c.hard.tolist()
        [True, False, True, False]
        """
        pts = np.asarray(xy, dtype=float).reshape(-1, 2)
        h = np.asarray(heights_m, dtype=float).reshape(-1)
        n = pts.shape[0]
        if not len(self) or not n:
            return SiteConflicts(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), n, self)
        sites, zones = [], []
        bounds = shapely.bounds(self.geoms)
        for z, (geom, (x0, y0, x1, y1)) in enumerate(zip(self.geoms, bounds, strict=True)):
            near = np.flatnonzero((pts[:, 0] >= x0) & (pts[:, 0] <= x1) & (pts[:, 1] >= y0) & (pts[:, 1] <= y1)
                                  & (h > self.max_h[z]))
            if near.size:
                shapely.prepare(geom)
                inside = near[shapely.intersects_xy(geom, pts[near, 0], pts[near, 1])]  # the edge is in the zone
                sites.append(inside)
                zones.append(np.full(inside.size, z, dtype=np.int64))
        site = np.concatenate(sites).astype(np.int64) if sites else np.zeros(0, dtype=np.int64)
        zone = np.concatenate(zones) if zones else np.zeros(0, dtype=np.int64)
        order = np.lexsort((zone, site))
        return SiteConflicts(site[order], zone[order], n, self)

    @classmethod
    def from_arrays(cls, geoms: ArrayLike, *, kind: ArrayLike, hard: ArrayLike, max_h: ArrayLike | None = None,
                    layer: ArrayLike | None = None, name: ArrayLike | None = None, label: ArrayLike | None = None,
                    note: ArrayLike | None = None, extra_cost: ArrayLike | None = None) -> ConstraintSet:
        """Zones from arrays (metric geometries), for tests and callers without a project."""
        g = np.asarray(geoms, dtype=object).reshape(-1)
        n = g.size

        def text(v: ArrayLike | None, default: str) -> NDArray[np.object_]:
            return np.full(n, default, dtype=object) if v is None else np.asarray(v, dtype=object).reshape(-1)

        kinds = text(kind, "other")
        return cls(geoms=g, layer=text(layer, "constraints"), kind=kinds, label=text(label, "") if label is not None
                   else kinds.copy(), name=text(name, ""), note=text(note, ""),
                   hard=np.asarray(hard, dtype=bool).reshape(-1),
                   max_h=np.full(n, -np.inf) if max_h is None else np.asarray(max_h, dtype=float).reshape(-1),
                   extra_cost=np.zeros(n) if extra_cost is None else np.asarray(extra_cost, dtype=float).reshape(-1))


def _layer_rows(ly: SitingLayer, metric_crs: object, labels: dict[str, str]) -> pd.DataFrame:
    gdf = ly.frame.to_crs(metric_crs).explode(index_parts=False)
    n = len(gdf)

    def col(name: str) -> NDArray[np.object_]:
        if name not in gdf.columns:
            return np.full(n, "", dtype=object)
        return gdf[name].fillna("").astype(str).to_numpy(dtype=object)

    maxh = pd.to_numeric(gdf["MAX_H_M"], errors="coerce").to_numpy(dtype=float) if "MAX_H_M" in gdf.columns \
        else np.full(n, np.nan)
    kinds = col("KIND")
    return pd.DataFrame({
        "geom": gdf.geometry.to_numpy(), "layer": ly.name, "kind": kinds,
        "label": [labels.get(k, k) for k in kinds], "name": col("NAME"), "note": col("NOTE"),
        "hard": ly.config.hardness == "hard", "max_h": np.where(np.isfinite(maxh), maxh, -np.inf),
        "extra_cost": ly.config.extra_cost,
    })


def constraint_set(proj: Project) -> ConstraintSet:
    """The zones of every constraint layer of ``proj``, in its metric CRS (empty without any).

    Examples
    --------
    >>> import geoplan as gp
    >>> len(constraint_set(gp.load_project())) > 0
    True
    """
    layers = proj.siting.group("constraints")
    labels = {k: v.label for k, v in proj.siting.params.constraint_kinds.items()}
    if not layers:
        return ConstraintSet.from_arrays([], kind=[], hard=[])
    rows = pd.concat([_layer_rows(ly, proj.metric_crs, labels) for ly in layers], ignore_index=True)
    rows = rows[~shapely.is_empty(rows["geom"].to_numpy())]
    return ConstraintSet(geoms=rows["geom"].to_numpy(dtype=object),
                         **{k: rows[k].to_numpy(dtype=object) for k in ("layer", "kind", "label", "name", "note")},
                         hard=rows["hard"].to_numpy(dtype=bool), max_h=rows["max_h"].to_numpy(dtype=float),
                         extra_cost=rows["extra_cost"].to_numpy(dtype=float))
