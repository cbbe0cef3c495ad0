"""Covered shares of sites on a window of a metric population raster, site by site.

The county-by-county engine evaluates coverage without a coverage matrix: each
site's disc falls on a small block of raster cells, so its share of every cell
is computed on that block with array arithmetic (no k-d tree, no lists of
indices) and added to the window's running total. The arithmetic is that of
:func:`geoplan.coverage.coverage_matrix` with ``cell_m`` on the same cell
centres (:func:`geoplan.population.demand_points`' formula), radii and sides,
and the totals are added site by site in the sites' order, as a CSC matrix's
columns are: a cell's covered share is bit for bit the in-memory engine's.

Only for rasters in the metric CRS (cells are then squares on the metric grid);
other rasters go through the coverage matrix.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from affine import Affine
from numpy.typing import NDArray

from .coverage import cell_shares, share_class

__all__ = ["WindowCells", "site_batches", "covered_total", "reach_windows", "STENCIL_MAX_LOG2"]

#: Blocks up to 2**STENCIL_MAX_LOG2 cells wide are cut for a whole batch of sites at once; larger ones one by one.
STENCIL_MAX_LOG2 = 5


@dataclass(frozen=True, eq=False)
class WindowCells:
    """A window of raster cells: the cells that count (``mask``), their class and side, in metric coordinates.

    ``row_off``/``col_off`` are the window's global offsets; ``transform`` is the whole raster's.
    """

    row_off: int
    col_off: int
    mask: NDArray[np.bool_]
    env: NDArray[np.int64]
    side_m: float
    transform: Affine

    @property
    def shape(self) -> tuple[int, int]:
        return int(self.mask.shape[0]), int(self.mask.shape[1])

    def centres(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """x of each window column and y of each window row (demand_points' formula, whose other terms are 0)."""
        t = self.transform
        h, w = self.shape
        cols = np.arange(self.col_off, self.col_off + w)
        rows = np.arange(self.row_off, self.row_off + h)
        x = t.c + (cols + 0.5) * t.a + (0 + 0.5) * t.b  # t.b = t.d = 0 on a north-up grid
        y = t.f + (0 + 0.5) * t.d + (rows + 0.5) * t.e
        return np.asarray(x, dtype=float), np.asarray(y, dtype=float)


def reach_windows(transform: Affine, shape: tuple[int, int], xy: NDArray[np.float64], reach: NDArray[np.float64], *,
                  row_off: int = 0, col_off: int = 0
                  ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """Rows ``r0:r1`` and columns ``c0:c1`` (window indices, clipped to ``shape``) holding every cell centre within
    ``reach`` of each site, for a window at ``row_off, col_off`` of a raster with ``transform``."""
    t = transform
    h, w = shape
    c0 = np.clip(np.floor((xy[:, 0] - reach - t.c) / t.a).astype(np.int64) - 1 - col_off, 0, w)
    c1 = np.clip(np.ceil((xy[:, 0] + reach - t.c) / t.a).astype(np.int64) + 1 - col_off, 0, w)
    r0 = np.clip(np.floor((xy[:, 1] + reach - t.f) / t.e).astype(np.int64) - 1 - row_off, 0, h)
    r1 = np.clip(np.ceil((xy[:, 1] - reach - t.f) / t.e).astype(np.int64) + 1 - row_off, 0, h)
    return r0, r1, c0, c1


def site_batches(cells: WindowCells, xy: NDArray[np.float64], radii: NDArray[np.float64], *,
                 counted: NDArray[np.bool_] | None = None, batch: int = 64
                 ) -> Iterator[tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.intp], NDArray[np.float32]]]:
    """Every share of a counted cell, ``batch`` sites at a time: ``(site, rows, cols, shares)`` arrays.

    Entries are ordered by site (then row-major), so adding them in order
    (``np.add.at``) adds each cell's shares in site order, as a CSC matrix's
    columns are. ``rows``/``cols`` are window indices, ``shares`` float32 > 0.
    ``radii`` is (n_sites, n_classes): each cell is covered with the radius of
    its class. ``counted`` (window-shaped; default ``cells.mask``) marks the cells
    to compute, read at the start of each batch (a caller may clear cells between
    batches). Sites are grouped by the size of their block, and each group's
    blocks are cut from the window at once (one stencil of offsets).
    """
    x, y = cells.centres()
    half_diag = cells.side_m * np.sqrt(0.5)
    rmax = radii.max(axis=1) if len(radii) else np.zeros(0)
    r0, r1, c0, c1 = reach_windows(cells.transform, cells.shape, xy, rmax + half_diag, row_off=cells.row_off, col_off=cells.col_off)
    todo = np.flatnonzero((c1 > c0) & (r1 > r0) & (rmax > 0))
    mask = cells.mask if counted is None else counted
    size = np.maximum(r1 - r0, c1 - c0)
    group = np.ceil(np.log2(np.maximum(size, 1))).astype(np.int64)  # blocks up to 2**group cells wide
    for start in range(0, todo.size, batch):
        sel = todo[start:start + batch]
        parts = []
        for g in np.unique(group[sel]).tolist():
            js = sel[group[sel] == g]
            if g <= STENCIL_MAX_LOG2:
                parts.append(_stencil(mask, js, g, r0, r1, c0, c1))
            else:
                parts.extend(_slices(mask, js, r0, r1, c0, c1))
        if not parts:
            continue
        site = np.concatenate([q[0] for q in parts])
        if site.size == 0:
            continue
        rr = np.concatenate([q[1] for q in parts])
        cc = np.concatenate([q[2] for q in parts])
        dx, dy = x[cc] - xy[site, 0], y[rr] - xy[site, 1]
        r = radii[site, cells.env[rr, cc]]
        lr = r + half_diag
        near = np.flatnonzero((dx * dx + dy * dy <= lr * lr) & (r > 0))
        if near.size == 0:
            continue
        site, rr, cc = site[near], rr[near], cc[near]
        a = cell_shares(dx[near], dy[near], r[near], cells.side_m)
        order = np.argsort(site, kind="stable")
        keep = order[a[order] > 0]
        yield site[keep].astype(np.intp), rr[keep].astype(np.intp), cc[keep].astype(np.intp), a[keep]


def _stencil(mask: NDArray[np.bool_], js: NDArray[np.int64], g: int, r0: NDArray[np.int64], r1: NDArray[np.int64],
             c0: NDArray[np.int64], c1: NDArray[np.int64]) -> tuple[NDArray[Any], ...]:
    """Counted cells of the blocks of sites ``js`` (each at most ``2**g`` wide), all at once."""
    span = np.arange(2 ** g)
    rr = r0[js][:, None, None] + span[None, :, None]
    cc = c0[js][:, None, None] + span[None, None, :]
    inside = (rr < r1[js][:, None, None]) & (cc < c1[js][:, None, None])
    rr, cc = np.broadcast_arrays(rr, cc)
    site = np.broadcast_to(js[:, None, None], rr.shape)
    keep = np.flatnonzero(inside.ravel())
    rr, cc, site = rr.ravel()[keep], cc.ravel()[keep], site.ravel()[keep]
    on = mask[rr, cc]
    return site[on], rr[on], cc[on]


def _slices(mask: NDArray[np.bool_], js: NDArray[np.int64], r0: NDArray[np.int64], r1: NDArray[np.int64],
            c0: NDArray[np.int64], c1: NDArray[np.int64]) -> list[tuple[NDArray[Any], ...]]:
    """Counted cells of the blocks of sites ``js``, one block at a time (large blocks)."""
    out: list[tuple[NDArray[Any], ...]] = []
    for j in js.tolist():
        a0, b0 = int(r0[j]), int(c0[j])
        rr, cc = np.nonzero(mask[a0:int(r1[j]), b0:int(c1[j])])
        if rr.size:
            out.append((np.full(rr.size, j, dtype=np.int64), rr + a0, cc + b0))
    return out


def covered_total(cells: WindowCells, xy: NDArray[np.float64], radii: NDArray[np.float64], *,
                  prior: NDArray[np.float64] | None = None, chunk: int = 256) -> NDArray[np.float64]:
    """``Σ_j a_ij`` of every counted cell of the window (site order), as far as ``min(1, prior + Σ)`` needs.

    A cell a site holds whole gets 1.0 at once and takes no further shares: its
    ``min(1, ·)`` is 1 whatever follows. Partial shares are computed ``chunk``
    sites at a time (one call of the exact area formula) and added in site
    order, so every cell that stays below 1 has the in-memory engine's sum, bit
    for bit; cells whose total reaches 1 are retired after each chunk.
    """
    x, y = cells.centres()
    half_diag = cells.side_m * np.sqrt(0.5)
    rmax = radii.max(axis=1) if len(radii) else np.zeros(0)
    r0, r1, c0, c1 = reach_windows(cells.transform, cells.shape, xy, rmax + half_diag, row_off=cells.row_off, col_off=cells.col_off)
    todo = np.flatnonzero((c1 > c0) & (r1 > r0) & (rmax > 0))
    group = np.ceil(np.log2(np.maximum(np.maximum(r1 - r0, c1 - c0), 1))).astype(np.int64)
    raw = np.zeros(cells.shape)
    counted = cells.mask.copy()
    if prior is not None:
        counted &= prior < 1.0
    for start in range(0, todo.size, chunk):
        sel = todo[start:start + chunk]
        small = sel[group[sel] <= STENCIL_MAX_LOG2]
        blocks = [_stencil(counted, small[group[small] == g], g, r0, r1, c0, c1)
                  for g in np.unique(group[small]).tolist()]
        deferred = [_take_whole(cells, x, y, xy, radii, raw, counted, b) for b in blocks]
        for j in sel[group[sel] > STENCIL_MAX_LOG2].tolist():
            a0, b0 = int(r0[j]), int(c0[j])
            rr, cc = np.nonzero(counted[a0:int(r1[j]), b0:int(c1[j])])
            if rr.size:
                block = (np.full(rr.size, j, dtype=np.int64), rr + a0, cc + b0)
                deferred.append(_take_whole(cells, x, y, xy, radii, raw, counted, block))
        _add_partial(cells, raw, counted, prior, [d for d in deferred if d[0].size])
    return raw


def _take_whole(cells: WindowCells, x: NDArray[np.float64], y: NDArray[np.float64], xy: NDArray[np.float64],
                radii: NDArray[np.float64], raw: NDArray[np.float64], counted: NDArray[np.bool_],
                block: tuple[NDArray[Any], ...]) -> tuple[NDArray[Any], ...]:
    """Add 1.0 for the cells of ``block`` a site holds whole (and retire them); return the partly covered ones."""
    site, rr, cc = block
    dx, dy = x[cc] - xy[site, 0], y[rr] - xy[site, 1]
    r = radii[site, cells.env[rr, cc]]
    whole, missed = share_class(dx, dy, r, cells.side_m)
    whole &= r > 0
    if whole.any():
        raw[rr[whole], cc[whole]] += 1.0  # a cell may take 1.0 more than once: it is full either way
        counted[rr[whole], cc[whole]] = False
    part = ~whole & ~missed & (r > 0)
    return site[part], rr[part], cc[part], dx[part], dy[part], r[part]


def _add_partial(cells: WindowCells, raw: NDArray[np.float64], counted: NDArray[np.bool_],
                 prior: NDArray[np.float64] | None, deferred: list[tuple[NDArray[Any], ...]]) -> None:
    """Add the partial shares of a chunk of sites in site order, then retire the cells that reached 1."""
    if not deferred:
        return
    site, rr, cc, dx, dy, r = (np.concatenate([d[k] for d in deferred]) for k in range(6))
    a = cell_shares(dx, dy, r, cells.side_m).astype(np.float64)
    order = np.argsort(site, kind="stable")
    rr, cc = rr[order], cc[order]
    np.add.at(raw, (rr, cc), a[order])
    level = raw[rr, cc] if prior is None else prior[rr, cc] + raw[rr, cc]
    full = level >= 1.0
    counted[rr[full], cc[full]] = False
