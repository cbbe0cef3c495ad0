"""Coverage matrices and the population they cover: the array core.

A coverage matrix is a :class:`scipy.sparse.csc_matrix` of booleans with one
row per demand point (population cell centroid) and one column per site; entry
``(i, j)`` is true when site ``j`` covers point ``i``, i.e. lies within the
site's radius. Columns are stored contiguously (CSC), so evaluating any subset
of sites touches only their stored rows:

* :func:`coverage_matrix` builds it with a k-d tree on the demand points;
* :func:`covered` says which demand points a set of sites covers;
* :func:`coverage_share` gives the population-weighted share, overall and per
  group (district);
* :func:`marginal_gain` gives, per site, the weight it would newly cover — the
  step of greedy placement.

Coordinates must be metric (metres, e.g. CGCS2000 / 3-degree Gauss-Krüger
EPSG:4548 around Xiamen); geographic coordinates are refused.
"""

from __future__ import annotations

import logging
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray
from scipy.spatial import cKDTree

from .errors import CRSError, Problem, ValidationError

__all__ = [
    "CoverageShare",
    "coverage_matrix",
    "covered",
    "coverage_share",
    "marginal_gain",
]

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())

#: Demand-site pairs gathered per chunk while building a coverage matrix (bounds its peak memory),
#: and the threads filling chunks at once.
_CHUNK_PAIRS = 200_000
_THREADS = min(os.cpu_count() or 1, 4)


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


def coverage_matrix(demand_xy: ArrayLike, site_xy: ArrayLike, radius_m: ArrayLike, *,
                    max_radius_m: float | None = None) -> sp.csc_matrix:
    """Which sites cover which demand points.

    Parameters
    ----------
    demand_xy : array_like, shape (n, 2)
        Demand point coordinates in metres (a metric CRS such as EPSG:4548).
    site_xy : array_like, shape (m, 2)
        Site coordinates in the same CRS.
    radius_m : float or array_like, shape (m,)
        Coverage radius in metres, one for all sites or one per site (e.g. by
        site type and environment from :func:`geoplan.radio.radius_table`).
        A point at exactly the radius is covered.
    max_radius_m : float, optional
        Upper bound on any radius; larger radii are clipped to it (bounds the
        matrix size when radii come from a link budget).

    Returns
    -------
    scipy.sparse.csc_matrix of bool, shape (n, m)
        Rows demand points, columns sites, sorted row indices, no explicit zeros.

    Raises
    ------
    CRSError
        If either set of coordinates looks geographic (all |x| <= 180, |y| <= 90).
    ValidationError
        On malformed coordinates or radii, with every problem found.

    Examples
    --------
    >>> x0, y0 = 600_000.0, 2_700_000.0
    >>> demand = [[x0, y0], [x0 + 100, y0], [x0 + 300, y0]]
    >>> sites = [[x0, y0], [x0 + 300, y0]]
    >>> coverage_matrix(demand, sites, [150.0, 50.0]).toarray()
    array([[ True, False],
           [ True, False],
           [False,  True]])
    """
    problems: list[Problem] = []
    d = _points(demand_xy, "demand", problems)
    s = _points(site_xy, "sites", problems)
    r = np.asarray(radius_m, dtype=float)
    if r.ndim > 1 or (r.ndim == 1 and r.shape[0] != len(s)):
        problems.append(Problem("sites", "radius_m", f"radius_m has shape {r.shape} but there are "
                                f"{len(s)} sites", "pass one radius for all sites or one per site"))
    elif not np.isfinite(r).all() or (r <= 0).any():
        problems.append(Problem("sites", "radius_m", f"{int((~np.isfinite(r) | (r <= 0)).sum())} radii are "
                                "not finite and > 0", "give radii in metres, e.g. from radio.radius_table()"))
    if max_radius_m is not None and not (np.isfinite(max_radius_m) and max_radius_m > 0):
        problems.append(Problem("sites", "max_radius_m", f"max_radius_m={max_radius_m!r}",
                                "give a positive number of metres or None"))
    _raise(problems)
    n, m = len(d), len(s)
    r = np.broadcast_to(r, (m,))
    if max_radius_m is not None and (r > max_radius_m).any():
        log.info("clipping %d of %d site radii to max_radius_m=%g", int((r > max_radius_m).sum()), m,
                 max_radius_m)
        r = np.minimum(r, max_radius_m)
    if n == 0 or m == 0:
        return sp.csc_matrix((n, m), dtype=bool)
    out = _build_csc(d, s, r)
    log.debug("coverage matrix %d demand x %d sites, %d entries", n, m, out.nnz)
    return out


def _build_csc(demand: NDArray[np.float64], sites: NDArray[np.float64], radius: NDArray[np.float64]) -> sp.csc_matrix:
    """The coverage matrix built straight into CSC arrays, a chunk of sites at a time.

    A first pass counts each site's demand points (no lists), which fixes
    ``indptr`` and the size of ``indices``; a second pass fills ``indices``
    chunk by chunk from the pairs the k-d trees find within the chunk's largest
    radius. Peak memory stays near the result's size plus one chunk's pairs.
    """
    n, m = len(demand), len(sites)
    tree = cKDTree(demand)
    counts = np.asarray(tree.query_ball_point(sites, r=radius, return_length=True, workers=-1), dtype=np.int64)
    indptr = np.zeros(m + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    nnz = int(indptr[-1])
    idx_dtype = np.int32 if max(n, nnz) < np.iinfo(np.int32).max else np.int64
    indices = np.empty(nnz, dtype=idx_dtype)
    order = np.argsort(radius, kind="stable")  # chunks of similar radii waste few pairs
    per_site = max(int(counts.mean()) if m else 1, 1)
    step = max(1, min(m, _CHUNK_PAIRS // per_site))

    def fill(lo: int) -> None:
        cols = np.sort(order[lo:lo + step])
        pairs = tree.sparse_distance_matrix(cKDTree(sites[cols]), float(radius[cols].max()), output_type="ndarray")
        keep = pairs["v"] <= radius[cols][pairs["j"]]
        rows, local = pairs["i"][keep], pairs["j"][keep]
        del pairs, keep
        by_col = np.lexsort((rows, local))
        col = cols[local[by_col]]
        # entries of each column go to indptr[col] + their rank within the column
        start = np.r_[0, np.flatnonzero(np.diff(col)) + 1]
        rank = np.arange(col.size) - np.repeat(start, np.diff(np.r_[start, col.size]))
        indices[indptr[col] + rank] = rows[by_col]

    # chunks write disjoint parts of ``indices``; the k-d tree releases the GIL, so threads help
    with ThreadPoolExecutor(max_workers=min(_THREADS, -(-m // step))) as pool:
        list(pool.map(fill, range(0, m, step)))
    out = sp.csc_matrix((np.ones(nnz, dtype=bool), indices, indptr.astype(idx_dtype)), shape=(n, m))
    out.has_sorted_indices = True
    return out


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
                   n_groups: int | None = None) -> CoverageShare:
    """Population-weighted share of demand covered by the selected sites.

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
    hit = covered(a, selected)
    cw, tw = float(w[hit].sum()), float(w.sum())
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
    cov = np.bincount(g, weights=np.where(hit, w, 0.0), minlength=k).astype(float)
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
    covered_mask : array_like of bool, shape (n,)
        Demand points already covered.

    Returns
    -------
    numpy.ndarray of float, shape (m,)
        Sum of the weights of not-yet-covered points in each column.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> a = sp.csc_matrix([[1, 0], [1, 1], [0, 1]], dtype=bool)
    >>> marginal_gain(a, [1.0, 2.0, 4.0], [False, True, False]).tolist()
    [1.0, 4.0]
    """
    a = _as_csc(coverage)
    n = a.shape[0]
    w = _weights(weights, n)
    c = np.asarray(covered_mask)
    if c.shape != (n,) or c.dtype != bool:
        raise ValidationError(Problem("demand", "covered_mask", f"mask of dtype {c.dtype}, shape {c.shape}",
                                      f"pass a boolean array of {n} demand points, e.g. from covered()"))
    return np.asarray(a.T @ np.where(c, 0.0, w), dtype=float)
