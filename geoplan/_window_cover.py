"""Covered shares of sites on a window of a metric population raster, site by site.

The county-by-county engine evaluates coverage without a coverage matrix.
:func:`covered_total` (the covered share of every cell) marks the cells sites
hold whole by runs along raster rows, then sums the exact shares of the few
cells left (the rim of the covered area) over the sites a k-d tree finds within
reach; :func:`site_batches` (every share, for per-site figures) cuts each site's
block of cells with array arithmetic. The arithmetic is that of
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
from scipy.spatial import cKDTree

from .coverage import cell_shares, share_class

__all__ = ["WindowCells", "site_batches", "covered_total", "reach_windows", "STENCIL_MAX_LOG2", "WHOLE_MARGIN_M"]

#: Blocks up to 2**STENCIL_MAX_LOG2 cells wide are cut for a whole batch of sites at once; larger ones one by one.
STENCIL_MAX_LOG2 = 5

#: About this many (site, class, row) runs are made at once when cells held whole are marked.
RUN_BATCH = 1 << 20

#: Sites whose reach differs by less than this factor share one k-d tree query for the rim cells.
RIM_BUCKET = 1.1


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


#: Discs are shrunk by this much (m) before their cells are marked whole, so round-off never marks a cell whole
#: that the exact test (:func:`geoplan.coverage.share_class`) would not; cells in the margin take the exact path.
WHOLE_MARGIN_M = 1e-6


def covered_total(cells: WindowCells, xy: NDArray[np.float64], radii: NDArray[np.float64], *,
                  prior: NDArray[np.float64] | None = None) -> NDArray[np.float64]:
    """``Σ_j a_ij`` of every counted cell of the window (site order), as far as ``min(1, prior + Σ)`` needs.

    Two steps. First the cells some site holds whole (their centre within
    ``r - side/√2`` of the site, ``r`` the radius for the cell's class) get 1.0:
    each disc is cut into runs of cells along rows, and the runs are counted with
    one running sum per class (no per-site Python loop, no block of cells per
    site). Then the cells left (partly covered or not at all, a thin rim of the
    covered area) take every site within reach from a k-d tree, and their exact
    shares (:func:`geoplan.coverage.cell_shares`) are added in site order: a cell
    that stays below 1 has the in-memory engine's sum, bit for bit. Cells
    ``prior`` already fills are skipped.
    """
    raw = np.zeros(cells.shape)
    counted = cells.mask.copy()
    if prior is not None:
        counted &= prior < 1.0
    if not len(xy) or not counted.any():
        return raw
    half_diag = cells.side_m * np.sqrt(0.5)
    whole = _whole_cells(cells, xy, radii, half_diag) & counted
    raw[whole] = 1.0
    counted &= ~whole
    flat = np.flatnonzero(counted)
    if flat.size:
        raw.ravel()[flat] = _rim_sums(cells, flat, xy, radii, half_diag)
    return raw


def _whole_cells(cells: WindowCells, xy: NDArray[np.float64], radii: NDArray[np.float64],
                 half_diag: float) -> NDArray[np.bool_]:
    """Cells whose centre lies within ``r - side/√2`` (less :data:`WHOLE_MARGIN_M`) of a site, ``r`` for their class.

    The runs are made :data:`RUN_BATCH` at a time, so memory stays bounded by the
    window, not by sites × rows.
    """
    h, w = cells.shape
    x, y = cells.centres()
    t = cells.transform
    reach = radii - half_diag - WHOLE_MARGIN_M
    j, c = np.nonzero(reach > 0)
    out = np.zeros((h, w), dtype=bool)
    if not j.size or not h or not w:
        return out
    big_r, sx, sy = reach[j, c], xy[j, 0], xy[j, 1]
    ra, rb = _index_range(sy - big_r - y[0], sy + big_r - y[0], t.e, h)  # rows whose centre is within reach in y
    n = np.maximum(rb - ra, 0)
    ends = np.cumsum(n)
    diff = {k: np.zeros(h * (w + 1), dtype=np.int64) for k in np.unique(c).tolist()}
    start = 0
    while start < j.size:  # (site, class) pairs whose rows add up to about RUN_BATCH
        stop = max(int(np.searchsorted(ends, ends[start] - n[start] + RUN_BATCH, side="right")), start + 1)
        q = np.arange(start, stop)
        e = np.repeat(q, n[q])  # one entry per (site, class, row)
        row = ra[e] + (np.arange(e.size) - np.repeat(np.cumsum(n[q]) - n[q], n[q]))
        dy = (y[0] + row * t.e) - sy[e]
        half = np.sqrt(np.maximum(big_r[e] ** 2 - dy * dy, 0.0)) - WHOLE_MARGIN_M
        ca, cb = _index_range(sx[e] - half - x[0], sx[e] + half - x[0], t.a, w)
        ok = (half >= 0) & (cb > ca)
        cls, base = c[e[ok]], row[ok] * (w + 1)
        for k in np.unique(cls).tolist():  # runs [ca, cb) of each class, counted along rows below
            m = cls == k
            diff[k] += np.bincount(base[m] + ca[ok][m], minlength=h * (w + 1))
            diff[k] -= np.bincount(base[m] + cb[ok][m], minlength=h * (w + 1))
        start = stop
    for k, d in diff.items():
        out |= (np.cumsum(d.reshape(h, w + 1)[:, :w], axis=1) > 0) & (cells.env == k)
    return out


def _index_range(lo: NDArray[np.float64], hi: NDArray[np.float64], step: float,
                 n: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Indices ``i`` in ``[a, b)`` (clipped to ``[0, n]``) with ``lo <= i * step <= hi``."""
    a, b = lo / step, hi / step
    first, last = np.minimum(a, b), np.maximum(a, b)
    return (np.clip(np.ceil(first), 0, n).astype(np.int64),
            np.clip(np.floor(last) + 1, 0, n).astype(np.int64))


def _rim_sums(cells: WindowCells, flat: NDArray[np.intp], xy: NDArray[np.float64], radii: NDArray[np.float64],
              half_diag: float) -> NDArray[np.float64]:
    """``Σ_j a_ij`` (site order) of the window cells ``flat`` (flat indices), every site within reach from a k-d tree."""
    x, y = cells.centres()
    rr, cc = np.divmod(flat, cells.shape[1])
    env = cells.env[rr, cc]
    cx, cy = x[cc], y[rr]
    tree = cKDTree(np.column_stack([cx, cy]))
    rmax = radii.max(axis=1)
    bucket = np.ceil(np.log(np.maximum(rmax, 1e-3)) / np.log(RIM_BUCKET)).astype(np.int64)  # sites of like reach
    site_parts, cell_parts = [], []
    for b in np.unique(bucket[rmax > 0]).tolist():
        sid = np.flatnonzero((bucket == b) & (rmax > 0))
        reach = float(rmax[sid].max()) + half_diag * (1 + 1e-9) + 1e-6
        pairs = cKDTree(xy[sid]).sparse_distance_matrix(tree, max_distance=reach, output_type="ndarray")
        site_parts.append(sid[pairs["i"]])
        cell_parts.append(pairs["j"].astype(np.intp))
    acc = np.zeros(flat.size)
    if not site_parts:
        return acc
    js, ks = np.concatenate(site_parts), np.concatenate(cell_parts)
    r = radii[js, env[ks]]
    dx, dy = cx[ks] - xy[js, 0], cy[ks] - xy[js, 1]
    _, missed = share_class(dx, dy, r, cells.side_m)
    keep = np.flatnonzero(~missed & (r > 0))
    order = keep[np.argsort(js[keep], kind="stable")]  # each cell's shares added in site order
    a = cell_shares(dx[order], dy[order], r[order], cells.side_m).astype(np.float64)
    np.add.at(acc, ks[order], a)
    return acc
