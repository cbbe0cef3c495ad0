"""The maximal-covering MIP of a placement problem over its demand patterns, as one HiGHS model.

Shared by :func:`~geoplan.placement.exact_mclp` (the whole problem, reduced by
Lagrangian fixing) and :mod:`~geoplan.placement.windows` (one window of a plan).
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from ._highs import HighsModel
from ._instance import Instance
from ._patterns import Patterns

__all__ = ["mclp_mip"]


def mclp_mip(inst: Instance, pat: Patterns, fixed: NDArray[np.int64]) -> tuple[HighsModel, NDArray[np.int64]]:
    """The maximal-covering MIP over the free sites of ``pat``, and those sites' column indices.

    Columns: ``x`` (binary, one per free site of ``pat``) then ``y`` (one per
    pattern, in ``[0, room_k]``); rows: ``y_k - sum_j B_kj x_j <= 0`` per
    pattern, ``sum_j x_j = p - len(fixed)``, and one row per district whose
    quota binds (bounds less its ``fixed`` sites). Objective: maximise
    ``offset + sum_k W_k y_k``.
    """
    cols = np.flatnonzero(pat.free)
    n, k = cols.size, pat.n_patterns
    B = sp.csc_array(pat.matrix[:, cols])
    g = inst.groups[cols]
    in_fixed = np.bincount(inst.groups[fixed], minlength=inst.n_groups)
    lower = np.maximum(inst.lower - in_fixed, 0)
    upper = np.maximum(inst.upper - in_fixed, 0)
    sizes = np.bincount(g, minlength=inst.n_groups)
    quota = np.flatnonzero((lower > 0) | (upper < sizes)) if inst.has_groups else np.zeros(0, dtype=np.int64)
    keep = np.isin(g, quota)
    member = sp.csr_array((np.ones(int(keep.sum())), (np.searchsorted(quota, g[keep]), np.flatnonzero(keep))),
                          shape=(quota.size, n))
    M = sp.vstack([
        sp.hstack([-B, sp.eye_array(k, format="csc")]),
        sp.hstack([sp.csr_array(np.ones((1, n))), sp.csr_array((1, k))]),
        sp.hstack([member, sp.csr_array((quota.size, k))]),
    ])
    p_free = inst.p - fixed.size
    inf = math.inf
    model = HighsModel.from_matrix(
        M, sense="max", cost=np.r_[np.zeros(n), pat.weights], col_lower=0.0,
        col_upper=np.r_[np.ones(n), pat.room], row_lower=np.r_[np.full(k, -inf), p_free, lower[quota]],
        row_upper=np.r_[np.zeros(k), p_free, upper[quota]],
        integrality=np.r_[np.ones(n, dtype=np.int32), np.zeros(k, dtype=np.int32)], offset=pat.offset)
    return model, cols
