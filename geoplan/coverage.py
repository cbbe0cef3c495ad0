"""Coverage matrices and the population they cover: the array core.

A coverage matrix is a :class:`scipy.sparse.csc_matrix` with one row per demand
point (population cell centroid) and one column per site. Boolean: entry
``(i, j)`` is true when site ``j`` lies within its radius of point ``i``.
Fractional (float32, ``cell_m=`` given): entry ``(i, j)`` is the share of cell
``i``'s area inside site ``j``'s disc, 1.0 where the disc holds the whole cell,
so a 20 m indoor system covers its share of a 100 m cell; a cell's covered share
is ``min(1, s0 + Σ a_ij)``. Radii may depend on the demand cell's class (its
radio environment: the **receiving** cell sets the radius). Columns are stored
contiguously (CSC), so evaluating any subset of sites touches only their stored rows:

* :func:`coverage_matrix` builds it with one k-d tree per demand class;
* :func:`covered_share` gives each cell's covered share for a set of sites;
* :func:`covered` says which demand points a set of sites reaches at all;
* :func:`coverage_share` gives the population-weighted share, overall and per
  group (district);
* :func:`marginal_gain` gives, per site, the weight it would newly cover — the
  step of greedy placement (``Σ w_i min(a_ij, 1 - share_i)``).

Coordinates must be metric (metres, e.g. CGCS2000 / 3-degree Gauss-Krüger
EPSG:4548 around Xiamen); geographic coordinates are refused.
"""

from __future__ import annotations

import logging
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray
from scipy.spatial import cKDTree

from .errors import CRSError, Problem, ValidationError
from .radio import disc_square_share

__all__ = [
    "CoverageShare",
    "coverage_matrix",
    "cell_shares",
    "share_class",
    "covered",
    "covered_share",
    "coverage_share",
    "marginal_gain",
]

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())

#: Demand-site pairs gathered per chunk while building a coverage matrix (bounds its peak memory),
#: and the threads filling chunks at once.
_CHUNK_PAIRS = 16_384
_THREADS = min(os.cpu_count() or 1, 4)
#: Pairs whose cell shares are computed at once, and columns squeezed at a time when dropping zero shares.
_SHARE_BLOCK = 8_192
_ZERO_BLOCK = 1_024


@dataclass(frozen=True, eq=False)
class CoverageShare:
    """Population-weighted coverage, overall and per group.

    Attributes
    ----------
    share : float
        Covered weight / total weight (NaN when the total is 0).
    covered_weight, total_weight : float
        Sums of weights of covered and of all demand points.
    by_group : numpy.ndarray or None
        Share per group (NaN for groups without weight); ``None`` when no
        groups were given.
    covered_by_group, total_by_group : numpy.ndarray or None
        Covered and total weight per group.
    """

    share: float
    covered_weight: float
    total_weight: float
    by_group: NDArray[np.float64] | None = None
    covered_by_group: NDArray[np.float64] | None = None
    total_by_group: NDArray[np.float64] | None = None


# --------------------------------------------------------------------------- validation


def _points(xy: ArrayLike, layer: str, problems: list[Problem]) -> NDArray[np.float64]:
    a = np.asarray(xy, dtype=float)
    if a.ndim != 2 or a.shape[1] != 2:
        problems.append(Problem(layer, "geometry", f"coordinates have shape {a.shape}, expected (n, 2)",
                                "pass an (n, 2) array of x, y in metres, e.g. shapely.get_coordinates(geoms)"))
        return np.empty((0, 2))
    bad = ~np.isfinite(a).all(axis=1)
    if bad.any():
        problems.append(Problem(layer, "geometry", f"{int(bad.sum())} points have NaN or infinite "
                                f"coordinates (first row {int(np.flatnonzero(bad)[0])})",
                                "drop empty or invalid geometries before building coverage"))
    elif len(a) and (np.abs(a[:, 0]) <= 180).all() and (np.abs(a[:, 1]) <= 90).all():
        problems.append(Problem(layer, "CRS", "all coordinates lie within +-180, +-90: they look like "
                                "longitude/latitude degrees, which would read a radius in metres as degrees",
                                "project the layer to a metric CRS such as EPSG:4548 "
                                "(CGCS2000 / 3-degree Gauss-Kruger CM 117E, Xiamen) with GeoDataFrame.to_crs()"))
    return a


def _raise(problems: list[Problem]) -> None:
    if not problems:
        return
    if all(p.field == "CRS" for p in problems):
        raise CRSError(problems)
    raise ValidationError(problems)


def _as_csc(coverage: object) -> sp.csc_matrix:
    if not sp.issparse(coverage) or len(coverage.shape) != 2:  # type: ignore[attr-defined]
        raise ValidationError(Problem("coverage", None, f"expected a 2-D scipy.sparse matrix, got "
                                      f"{type(coverage).__name__}", "build it with coverage_matrix()"))
    m = coverage if isinstance(coverage, sp.csc_matrix) else sp.csc_matrix(coverage)
    if m.nnz and not m.data.all():  # explicit zeros would count as coverage below
        m = m.copy()
        m.eliminate_zeros()
    return m


def _weights(weights: ArrayLike, n: int) -> NDArray[np.float64]:
    w = np.asarray(weights, dtype=float)
    problems = []
    if w.shape != (n,):
        problems.append(Problem("demand", "weights", f"weights have shape {w.shape} but the coverage "
                                f"matrix has {n} demand rows", "pass one weight per demand point"))
    elif not np.isfinite(w).all() or (w < 0).any():
        nbad = int((~np.isfinite(w) | (w < 0)).sum())
        problems.append(Problem("demand", "weights", f"{nbad} weights are negative or not finite",
                                "use population counts >= 0; set nodata cells to 0"))
    _raise(problems)
    return w


def _columns(selected: ArrayLike | None, m: int) -> NDArray[np.intp] | None:
    if selected is None:
        return None
    s = np.asarray(selected)
    if s.dtype == bool:
        if s.shape != (m,):
            raise ValidationError(Problem("sites", "selected", f"boolean selection has shape {s.shape}, "
                                          f"the matrix has {m} site columns", "pass one flag per site"))
        return np.flatnonzero(s)
    if s.size == 0:
        return np.empty(0, dtype=np.intp)
    if s.ndim != 1 or not np.issubdtype(s.dtype, np.integer):
        raise ValidationError(Problem("sites", "selected", f"selection of dtype {s.dtype} and shape "
                                      f"{s.shape}", "pass a boolean mask or a 1-D array of column indices"))
    if s.min() < -m or s.max() >= m:
        raise ValidationError(Problem("sites", "selected", f"column indices run from {s.min()} to "
                                      f"{s.max()} but there are {m} sites", "index columns 0..m-1"))
    return np.asarray(s % m, dtype=np.intp)


# --------------------------------------------------------------------------- public


def _radii(radius_m: ArrayLike, m: int, k: int | None, problems: list[Problem]) -> NDArray[np.float64]:
    """Radii as an (m, k) array (k = 1 without demand classes), checked."""
    r = np.asarray(radius_m, dtype=float)
    want = "one radius for all sites or one per site" if k is None else \
        f"an (n_sites, {k}) array: one radius per site and demand class"
    ok_shape = (r.ndim == 0 or (r.ndim == 1 and r.shape[0] == m)) if k is None else \
        (r.ndim == 2 and r.shape == (m, k)) or r.ndim == 0 or (r.ndim == 1 and r.shape[0] == m)
    if not ok_shape:
        problems.append(Problem("sites", "radius_m", f"radius_m has shape {r.shape} but there are {m} sites",
                                f"pass {want}"))
        return np.zeros((m, k or 1))
    bad = ~np.isfinite(r) | (r < 0)
    if bad.any():
        problems.append(Problem("sites", "radius_m", f"{int(bad.sum())} radii are not finite and >= 0",
                                "give radii in metres (0 = the site serves no one), e.g. from radio.radius_lookup()"))
    if r.ndim == 2:
        return r
    return np.broadcast_to(r.reshape(-1, 1) if r.ndim == 1 else r, (m, k or 1)).astype(float)


def share_class(dx: NDArray[np.float64], dy: NDArray[np.float64], radius_m: NDArray[np.float64],
                side_m: NDArray[np.float64] | float) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Which cells a disc holds whole and which it misses (the cheap tests of :func:`cell_shares`).

    Returns ``(whole, missed)``: the whole cell is inside (its centre within
    ``r - side/√2``, or its farthest corner within ``r``), or no part of it is (its
    nearest point at ``r`` or beyond). The rest needs the exact area.
    """
    side = np.asarray(side_m, dtype=float)
    ax, ay = np.abs(dx), np.abs(dy)
    reach = radius_m - side * np.sqrt(0.5)
    r2 = radius_m * radius_m
    h = 0.5 * side
    whole = (dx * dx + dy * dy <= np.where(reach > 0, reach * reach, -1.0)) | ((ax + h) ** 2 + (ay + h) ** 2 <= r2)
    missed = ~whole & (np.maximum(ax - h, 0.0) ** 2 + np.maximum(ay - h, 0.0) ** 2 >= r2)
    return whole, missed


def cell_shares(dx: NDArray[np.float64], dy: NDArray[np.float64], radius_m: NDArray[np.float64],
                side_m: NDArray[np.float64] | float) -> NDArray[np.float32]:
    """Share of square cells (side ``side_m``, centre offset ``dx, dy`` from a site) inside discs of ``radius_m``.

    Exactly :func:`geoplan.radio.disc_square_share` (area share), with 1.0 where the
    disc holds the whole cell and 0.0 where it misses it (:func:`share_class`), as float32.

    Examples
    --------
    >>> cell_shares(np.array([0.0, 0.0, 80.0]), np.zeros(3), np.array([20.0, 500.0, 30.0]), 100.0)
    array([0.12566371, 1.        , 0.        ], dtype=float32)
    """
    side = np.broadcast_to(np.asarray(side_m, dtype=float), np.shape(dx))
    whole, missed = share_class(dx, dy, radius_m, side)
    out = np.where(whole, 1.0, 0.0)
    part = np.flatnonzero(~whole & ~missed)
    if part.size:
        es = side[part]
        out[part] = disc_square_share(np.abs(dx[part]) / es, np.abs(dy[part]) / es, radius_m[part] / es, side_m=1.0)
    return out.astype(np.float32)


def coverage_matrix(demand_xy: ArrayLike, site_xy: ArrayLike, radius_m: ArrayLike, *,
                    demand_class: ArrayLike | None = None, cell_m: ArrayLike | None = None,
                    max_radius_m: float | None = None) -> sp.csc_matrix:
    """Which sites cover which demand points, or which share of each demand cell.

    Parameters
    ----------
    demand_xy : array_like, shape (n, 2)
        Demand point coordinates in metres (a metric CRS such as EPSG:4548).
    site_xy : array_like, shape (m, 2)
        Site coordinates in the same CRS.
    radius_m : float or array_like, shape (m,) or (m, k)
        Coverage radius in metres: one for all sites, one per site, or, with
        ``demand_class``, one per site and demand class (the radius of a site for
        receiving cells of each environment, :func:`geoplan.radio.radius_lookup`).
        0 means the site covers nothing (of that class). A point at exactly the
        radius is covered.
    demand_class : array_like of int, shape (n,), optional
        Class (``0..k-1``) of each demand point, e.g. its radio environment; each
        class is queried with its own column of radii (one k-d tree per class).
    cell_m : float or array_like, shape (n,), optional
        Side (m) of the square demand cell centred on each point. When given, the
        entries are the **share of each cell's area** inside each site's disc
        (float32, exact: :func:`cell_shares`), and cells that a disc only clips
        are included; otherwise a cell counts whole when its centre is inside
        (bool).
    max_radius_m : float, optional
        Upper bound on any radius; larger radii are clipped to it (bounds the
        matrix size when radii come from a link budget).

    Returns
    -------
    scipy.sparse.csc_matrix of bool or float32, shape (n, m)
        Rows demand points, columns sites, sorted row indices, no explicit zeros.

    Raises
    ------
    CRSError
        If either set of coordinates looks geographic (all |x| <= 180, |y| <= 90).
    ValidationError
        On malformed coordinates, classes or radii, with every problem found.

    Examples
    --------
    >>> x0, y0 = 600_000.0, 2_700_000.0
    >>> demand = [[x0, y0], [x0 + 100, y0], [x0 + 300, y0]]
    >>> sites = [[x0, y0], [x0 + 300, y0]]
    >>> coverage_matrix(demand, sites, [150.0, 50.0]).toarray()
    array([[ True, False],
           [ True, False],
           [False,  True]])

    Cells of 100 m, the second one in class 1, where site 0 reaches only 20 m:

    >>> a = coverage_matrix(demand, sites, [[150.0, 20.0], [50.0, 50.0]], demand_class=[0, 1, 0], cell_m=100.0)
    >>> a.toarray().round(4)
    array([[1.    , 0.    ],
           [0.    , 0.    ],
           [0.    , 0.7854]], dtype=float32)
    """
    problems: list[Problem] = []
    d = _points(demand_xy, "demand", problems)
    s = _points(site_xy, "sites", problems)
    n, m = len(d), len(s)
    cls = np.zeros(n, dtype=np.int64)
    k: int | None = None
    if demand_class is not None:
        c = np.asarray(demand_class)
        r_arr = np.asarray(radius_m)
        k = int(r_arr.shape[1]) if r_arr.ndim == 2 else (int(c.max()) + 1 if c.size else 1)
        if c.shape != (n,) or (c.size and (not np.issubdtype(c.dtype, np.integer) or c.min() < 0 or c.max() >= k)):
            problems.append(Problem("demand", "demand_class", f"classes of dtype {c.dtype}, shape {c.shape}",
                                    f"pass one integer class in 0..{k - 1} per demand point"))
        else:
            cls = c.astype(np.int64, copy=False)
    r = _radii(radius_m, m, k, problems)
    side: NDArray[np.float64] | None = None
    if cell_m is not None:
        side = np.broadcast_to(np.asarray(cell_m, dtype=float), (n,))
        if not (np.isfinite(side).all() and (side > 0).all()):
            problems.append(Problem("demand", "cell_m", "cell sides must be finite and > 0 metres",
                                    "pass the side of the demand cells, e.g. 100.0"))
    if max_radius_m is not None and not (np.isfinite(max_radius_m) and max_radius_m > 0):
        problems.append(Problem("sites", "max_radius_m", f"max_radius_m={max_radius_m!r}",
                                "give a positive number of metres or None"))
    _raise(problems)
    if max_radius_m is not None and (r > max_radius_m).any():
        log.info("clipping %d radii to max_radius_m=%g", int((r > max_radius_m).sum()), max_radius_m)
        r = np.minimum(r, max_radius_m)
    if n == 0 or m == 0:
        return sp.csc_matrix((n, m), dtype=bool if side is None else np.float32)
    out = _build_csc(d, s, r, None if demand_class is None else cls, side)
    log.debug("coverage matrix %d demand x %d sites, %d entries", n, m, out.nnz)
    return out


@dataclass(frozen=True, eq=False)
class _ClassPart:
    """One demand class's share of a build: its rows, the sites reaching it, their reach and counts.

    ``start[c]`` is where site ``cols[c]``'s entries for this class begin in ``indices``.
    """

    rows: NDArray[np.intp] | None  # None: every demand point
    cols: NDArray[np.intp]
    radius: NDArray[np.float64]  # the disc radius
    grow: float  # the k-d tree's reach beyond it: half a cell diagonal with shares, else 0
    tree: cKDTree
    counts: NDArray[np.int64]
    start: NDArray[np.int64]


def _class_parts(d: NDArray[np.float64], s: NDArray[np.float64], r: NDArray[np.float64],
                 cls: NDArray[np.int64] | None,
                 side: NDArray[np.float64] | None) -> tuple[list[_ClassPart], NDArray[np.int64]]:
    """The count pass: per demand class, one k-d tree and each site's number of points in reach (no lists).

    Returns the parts and ``indptr``; within a column, the classes' entries follow one another.
    """
    m = len(s)
    found = []
    total = np.zeros(m, dtype=np.int64)
    for j in range(r.shape[1]):
        rows = None if cls is None else np.flatnonzero(cls == j)
        cols = np.flatnonzero(r[:, j] > 0)
        if cols.size == 0 or (rows is not None and rows.size == 0):
            continue
        grow = 0.0 if side is None else float((side if rows is None else side[rows]).max()) * np.sqrt(0.5)
        tree = cKDTree(d if rows is None else d[rows])
        radius = r[cols, j]
        counts = np.asarray(tree.query_ball_point(s[cols], r=radius + grow, return_length=True, workers=-1),
                            dtype=np.int64)
        found.append((rows, cols, radius, grow, tree, counts, total[cols]))
        total[cols] += counts
    indptr = np.zeros(m + 1, dtype=np.int64)
    np.cumsum(total, out=indptr[1:])
    parts = [_ClassPart(rows, cols, radius, grow, tree, counts, indptr[cols] + before)
             for rows, cols, radius, grow, tree, counts, before in found]
    return parts, indptr


def _pairs(tree: cKDTree, sites: NDArray[np.float64],
           reach: NDArray[np.float64]) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """(point, site) index pairs within each site's reach, as two index arrays (a seam for tests)."""
    pairs = tree.sparse_distance_matrix(cKDTree(sites), float(reach.max()), output_type="ndarray")
    keep = pairs["v"] <= reach[pairs["j"]]
    return pairs["i"][keep], pairs["j"][keep]


def _build_csc(d: NDArray[np.float64], s: NDArray[np.float64], r: NDArray[np.float64],
               cls: NDArray[np.int64] | None, side: NDArray[np.float64] | None) -> sp.csc_matrix:
    """The coverage matrix built straight into its final CSC arrays, a chunk of sites at a time.

    A count pass (:func:`_class_parts`) fixes ``indptr`` and the size of ``indices``
    (and of the float32 shares); a fill pass writes each chunk's entries in place
    (:func:`_fill`), on threads (the k-d trees release the GIL). With shares, cells
    a disc only grazes come out as 0 and are squeezed out in place; with several
    classes each column's runs are merged in place (``sort_indices``). Peak memory:
    the result, the k-d trees and a chunk of pairs per thread.
    """
    n, m = len(d), len(s)
    parts, indptr = _class_parts(d, s, r, cls, side)
    nnz = int(indptr[-1])
    idx_dtype = np.int32 if max(n, nnz) < np.iinfo(np.int32).max else np.int64
    indices = np.empty(nnz, dtype=idx_dtype)
    data: NDArray[Any] = np.ones(nnz, dtype=bool) if side is None else np.empty(nnz, dtype=np.float32)
    tasks = []
    for part in parts:
        order = np.argsort(part.radius, kind="stable")  # chunks of similar radii waste few pairs
        # chunks of about _CHUNK_PAIRS entries each (a site with more is a chunk of its own)
        cuts = np.searchsorted(np.cumsum(part.counts[order]), np.arange(_CHUNK_PAIRS, part.counts.sum(), _CHUNK_PAIRS))
        bounds = np.unique(np.r_[0, cuts + 1, order.size].clip(0, order.size))
        tasks += [(part, np.sort(order[lo:hi])) for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)]
    if tasks:
        with ThreadPoolExecutor(max_workers=min(_THREADS, len(tasks))) as pool:
            list(pool.map(lambda t: _fill(t[0], t[1], d, s, side, indices, data), tasks))
    if side is not None:
        nnz = _drop_zeros(indptr, indices, data)
        indices.resize(nnz, refcheck=False)  # in place (realloc), no second copy
        data.resize(nnz, refcheck=False)
    out = sp.csc_matrix((data, indices, indptr.astype(idx_dtype)), shape=(n, m))
    if len(parts) > 1:
        out.has_sorted_indices = False
        out.sort_indices()  # in place, column by column
    out.has_sorted_indices = True
    return out


def _fill(part: _ClassPart, loc: NDArray[np.intp], d: NDArray[np.float64], s: NDArray[np.float64],
          side: NDArray[np.float64] | None, indices: NDArray[Any], data: NDArray[Any]) -> None:
    """Write the entries of sites ``part.cols[loc]`` (sorted) into ``indices`` (and ``data``) in place."""
    i, j = _pairs(part.tree, s[part.cols[loc]], part.radius[loc] + part.grow)
    n_rows = part.tree.n
    key = j * n_rows + i  # by site, then by point
    del i, j
    key.sort()
    jl = key // n_rows
    il = key - jl * n_rows
    del key
    cnt = np.bincount(jl, minlength=loc.size)
    bad = cnt != part.counts[loc]  # a pair on the boundary seen differently by the two passes: redo the site
    if bad.any():
        ok = ~bad[jl]
        jl, il = jl[ok], il[ok]
        cnt[bad] = 0
    first = np.cumsum(cnt) - cnt
    pos = part.start[loc][jl] + (np.arange(jl.size) - first[jl])
    rows = il if part.rows is None else part.rows[il]
    indices[pos] = rows
    if side is not None:  # shares by blocks: cell_shares makes a dozen float64 temporaries per pair
        for lo in range(0, rows.size, _SHARE_BLOCK):
            blk = slice(lo, lo + _SHARE_BLOCK)
            rb, c = rows[blk], part.cols[loc][jl[blk]]
            data[pos[blk]] = cell_shares(d[rb, 0] - s[c, 0], d[rb, 1] - s[c, 1], part.radius[loc][jl[blk]], side[rb])
    for b in np.flatnonzero(bad):
        c = int(part.cols[loc[b]])
        reach = part.radius[loc[b]] + part.grow
        il_b = np.sort(np.asarray(part.tree.query_ball_point(s[c], r=reach), dtype=np.int64))
        rows_b = il_b if part.rows is None else part.rows[il_b]
        pos_b = part.start[loc[b]] + np.arange(rows_b.size)
        indices[pos_b] = rows_b
        if side is not None:
            data[pos_b] = cell_shares(d[rows_b, 0] - s[c, 0], d[rows_b, 1] - s[c, 1],
                                      np.full(rows_b.size, part.radius[loc[b]]), side[rows_b])


def _drop_zeros(indptr: NDArray[np.int64], indices: NDArray[Any], data: NDArray[Any]) -> int:
    """Squeeze zero entries out of CSC arrays in place, a block of columns at a time; the new nnz."""
    m = indptr.size - 1
    w, a = 0, 0
    for c0 in range(0, m, _ZERO_BLOCK):
        c1 = min(m, c0 + _ZERO_BLOCK)
        b = int(indptr[c1])  # read before the block's pointers are rewritten
        nz = data[a:b] != 0
        cum = np.zeros(b - a + 1, dtype=np.int64)
        np.cumsum(nz, out=cum[1:])
        indptr[c0 + 1:c1 + 1] = w + cum[indptr[c0 + 1:c1 + 1] - a]
        k = int(cum[-1])
        indices[w:w + k] = indices[a:b][nz]  # w <= a: the copy on the right is taken first
        data[w:w + k] = data[a:b][nz]
        w, a = w + k, b
    return w


def covered_share(coverage: sp.spmatrix | sp.sparray, selected: ArrayLike | None = None, *,
                  base: ArrayLike | None = None) -> NDArray[np.float64]:
    """Covered share of each demand cell: ``min(1, base + Σ_selected a_ij)``.

    Parameters
    ----------
    coverage : scipy.sparse matrix, shape (n, m)
        Coverage matrix; boolean entries count as whole cells (1.0).
    selected : array_like, optional
        Boolean mask of length m or integer column indices; default all sites.
    base : array_like of float, shape (n,), optional
        Share already covered (e.g. by existing sites); default 0.

    Returns
    -------
    numpy.ndarray of float64, shape (n,), in [0, 1]

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> a = sp.csc_matrix([[0.5, 0.75], [0.25, 0.0], [0.0, 0.0]], dtype=np.float32)
    >>> covered_share(a).tolist(), covered_share(a, [1], base=[0.0, 0.5, 0.0]).tolist()
    ([1.0, 0.25, 0.0], [0.75, 0.5, 0.0])
    """
    a = _as_csc(coverage)
    n, m = a.shape
    cols = _columns(selected, m)
    idx, data = _entries(a, cols)
    total = np.bincount(idx, weights=data, minlength=n) if idx.size else np.zeros(n)
    if base is not None:
        b = np.asarray(base, dtype=float)
        if b.shape != (n,):
            raise ValidationError(Problem("demand", "base", f"base shares have shape {b.shape}",
                                          f"pass one share per demand cell ({n})"))
        total = b + total
    return np.minimum(total, 1.0)


def _entries(a: sp.csc_matrix, cols: NDArray[np.intp] | None) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
    """Row indices and values (float64) of every stored entry of columns ``cols`` (all when ``None``)."""
    if cols is None:
        return a.indices, a.data.astype(np.float64)
    starts, ends = a.indptr[cols], a.indptr[cols + 1]
    lengths = ends - starts
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.intp), np.zeros(0)
    pos = np.arange(total) + np.repeat(starts - np.cumsum(lengths) + lengths, lengths)
    return a.indices[pos], a.data[pos].astype(np.float64)


def covered(coverage: sp.spmatrix | sp.sparray, selected: ArrayLike | None = None) -> NDArray[np.bool_]:
    """Demand points covered by at least one selected site.

    Parameters
    ----------
    coverage : scipy.sparse matrix, shape (n, m)
        Coverage matrix (CSC is used as is, other formats are converted).
    selected : array_like, optional
        Boolean mask of length m or integer column indices; default all sites.

    Returns
    -------
    numpy.ndarray of bool, shape (n,)

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> a = sp.csc_matrix([[1, 0], [1, 1], [0, 0]], dtype=bool)
    >>> covered(a, [1]).tolist()
    [False, True, False]
    """
    a = _as_csc(coverage)
    n, m = a.shape
    cols = _columns(selected, m)
    mask = np.zeros(n, dtype=bool)
    if cols is None:
        mask[a.indices] = True
        return mask
    starts, ends = a.indptr[cols], a.indptr[cols + 1]
    lengths = ends - starts
    total = int(lengths.sum())
    if total == 0:
        return mask
    # positions of every stored entry of the selected columns, without a Python loop
    offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths)
    mask[a.indices[np.arange(total) + offsets]] = True
    return mask


def coverage_share(coverage: sp.spmatrix | sp.sparray, weights: ArrayLike, *,
                   selected: ArrayLike | None = None, groups: ArrayLike | None = None,
                   n_groups: int | None = None, base: ArrayLike | None = None) -> CoverageShare:
    """Population-weighted share of demand covered by the selected sites.

    A cell's covered share is :func:`covered_share` (``min(1, base + Σ a_ij)``):
    whole cells for a boolean matrix, area shares for a fractional one.

    Parameters
    ----------
    coverage : scipy.sparse matrix, shape (n, m)
    weights : array_like, shape (n,)
        Weight (population) of each demand point, >= 0.
    selected : array_like, optional
        Boolean mask or column indices of the sites in service; default all.
    groups : array_like of int, shape (n,), optional
        Group (e.g. district index) of each demand point, in ``0..n_groups-1``.
    n_groups : int, optional
        Number of groups; default ``groups.max() + 1``.
    base : array_like of float, shape (n,), optional
        Share of each cell covered already (e.g. by existing sites).

    Returns
    -------
    CoverageShare

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> a = sp.csc_matrix([[1, 0], [0, 1], [0, 0]], dtype=bool)
    >>> r = coverage_share(a, [10.0, 30.0, 60.0], selected=[1], groups=[0, 0, 1])
    >>> r.share, r.by_group.tolist()
    (0.3, [0.75, 0.0])
    """
    a = _as_csc(coverage)
    n = a.shape[0]
    w = _weights(weights, n)
    hit = covered_share(a, selected, base=base)
    cw, tw = float(w @ hit), float(w.sum())
    share = cw / tw if tw > 0 else float("nan")
    if groups is None:
        return CoverageShare(share, cw, tw)
    g = np.asarray(groups)
    if g.shape != (n,) or not np.issubdtype(g.dtype, np.integer) or (n and g.min() < 0):
        raise ValidationError(Problem("demand", "groups", f"groups of dtype {g.dtype}, shape {g.shape}",
                                      f"pass {n} non-negative integer group indices (e.g. pd.factorize)"))
    k = int(n_groups) if n_groups is not None else (int(g.max()) + 1 if n else 0)
    if n and g.max() >= k:
        raise ValidationError(Problem("demand", "groups", f"group index {int(g.max())} >= n_groups={k}",
                                      "raise n_groups or re-index the groups"))
    tot = np.bincount(g, weights=w, minlength=k).astype(float)
    cov = np.bincount(g, weights=w * hit, minlength=k).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        by = np.where(tot > 0, cov / np.where(tot > 0, tot, 1.0), np.nan)
    return CoverageShare(share, cw, tw, by, cov, tot)


def marginal_gain(coverage: sp.spmatrix | sp.sparray, weights: ArrayLike,
                  covered_mask: ArrayLike) -> NDArray[np.float64]:
    """Weight each site would newly cover, given what is already covered.

    Parameters
    ----------
    coverage : scipy.sparse matrix, shape (n, m)
    weights : array_like, shape (n,)
        Weight of each demand point, >= 0.
    covered_mask : array_like of bool or float, shape (n,)
        Demand points already covered (bool), or the share of each already
        covered (floats in [0, 1], e.g. from :func:`covered_share`).

    Returns
    -------
    numpy.ndarray of float, shape (m,)
        ``Σ_i w_i min(a_ij, 1 - share_i)`` for each column: the weight of the
        still uncovered share of each cell the site reaches.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> a = sp.csc_matrix([[1, 0], [1, 1], [0, 1]], dtype=bool)
    >>> marginal_gain(a, [1.0, 2.0, 4.0], [False, True, False]).tolist()
    [1.0, 4.0]
    >>> marginal_gain(a, [1.0, 2.0, 4.0], [0.5, 0.0, 0.75]).tolist()
    [2.5, 3.0]
    """
    a = _as_csc(coverage)
    n, m = a.shape
    w = _weights(weights, n)
    c = np.asarray(covered_mask)
    ok = c.shape == (n,) and (c.dtype == bool or (np.issubdtype(c.dtype, np.floating) and bool(
        np.all((c >= 0) & (c <= 1)))))
    if not ok:
        raise ValidationError(Problem("demand", "covered_mask", f"mask of dtype {c.dtype}, shape {c.shape}",
                                      f"pass a boolean array or shares in [0, 1] of {n} demand points, e.g. from "
                                      "covered() or covered_share()"))
    rest = 1.0 - c.astype(float)
    gain = np.minimum(a.data.astype(float), rest[a.indices]) * w[a.indices]
    col = np.repeat(np.arange(m), np.diff(a.indptr))
    return np.bincount(col, weights=gain, minlength=m).astype(float)
