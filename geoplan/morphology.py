"""The radio environment (morphology class) of every cell of a population raster.

A demand cell's environment sets the radius at which a site covers it (the
**receiving** cell's environment: building mix, entry loss, clutter), so both
placement engines must read the same class for the same cell. It is the class of
the cell's *neighbourhood*, not of the 100 m cell alone: persons per km² of land
(valid raster cells) within ``params.neighbourhood_radius_m`` (500 m by default)
of the cell (:func:`geoplan.radio.neighbourhood_density`), classed by the
environments' ``min_pop_per_km2`` bounds (:func:`geoplan.radio.environment_from_density`).
Morphology is a property of an area; the smoothed density changes class
gradually across a city instead of flickering from cell to cell.

:func:`environment_grid` computes the classes of a whole raster block by block
(each block padded by the kernel's reach, so memory stays bounded at province
scale); :func:`project_environment` caches the grid of a project for its radio
parameters. Both engines index this one grid: the in-memory engine with the
demand cells' rows and columns, the county-by-county engine with each county's
window, so the same cell always gets the same class.
"""

from __future__ import annotations

import math
import weakref

import numpy as np
from numpy.typing import NDArray

from . import radio
from .io import Raster
from .population import cell_area_km2
from .project import Project
from .radio_params import RadioParams, default_params

__all__ = ["BLOCK_CELLS", "environment_grid", "project_environment", "raster_cell_m"]

#: Rows and columns of one block of :func:`environment_grid` (before padding).
BLOCK_CELLS = 2048

_CACHE: weakref.WeakKeyDictionary[Project, dict[str, NDArray[np.int8]]] = weakref.WeakKeyDictionary()


def raster_cell_m(raster: Raster) -> float:
    """Side (m) of a raster cell: exact on a projected grid, at the raster's middle row on a geographic one."""
    mid = np.array([raster.values.shape[0] // 2])
    return float(math.sqrt(float(cell_area_km2(raster, mid)[0]) * 1e6))


def environment_grid(raster: Raster, *, params: RadioParams | None = None,
                     block: int = BLOCK_CELLS) -> NDArray[np.int8]:
    """Environment code (index into :data:`geoplan.radio.ENVIRONMENT_NAMES`) of every raster cell.

    The neighbourhood density of each valid cell over valid cells (see the module
    notes), rounded to 10⁻⁶ persons/km² (so the FFT's round-off cannot move a
    density across a class bound), classed; cells without a value are ``rural``. Computed in blocks of
    ``block`` × ``block`` cells, each padded by the kernel radius, so a cell's
    class does not depend on the block it falls in.

    Examples
    --------
    >>> import geoplan as gp
    >>> g = environment_grid(gp.load_project().population)
    >>> g.dtype.name, sorted(set(g.ravel().tolist()))
    ('int8', [0, 1, 2, 3])
    """
    p = params if params is not None else default_params()
    values, valid = raster.values, raster.valid
    h, w = values.shape
    cell_m = raster_cell_m(raster)
    k = int(math.ceil(p.neighbourhood_radius_m / cell_m))
    rural = len(p.environments) - 1
    out = np.full((h, w), rural, dtype=np.int8)
    for r0 in range(0, h, block):
        for c0 in range(0, w, block):
            r1, c1 = min(r0 + block, h), min(c0 + block, w)
            if not valid[r0:r1, c0:c1].any():
                continue  # sea or outside the data: rural, as cells without a value are
            pr0, pc0, pr1, pc1 = max(r0 - k, 0), max(c0 - k, 0), min(r1 + k, h), min(c1 + k, w)
            v = np.where(valid[pr0:pr1, pc0:pc1], values[pr0:pr1, pc0:pc1], np.nan)
            dens = radio.neighbourhood_density(v, cell_m=cell_m, radius_m=p.neighbourhood_radius_m)
            inner = np.round(dens[r0 - pr0:r1 - pr0, c0 - pc0:c1 - pc0], 6)  # FFT round-off must not flip a class
            out[r0:r1, c0:c1] = radio.environment_from_density(np.nan_to_num(inner, nan=0.0), params=p)
    return out


def project_environment(proj: Project, *, params: RadioParams | None = None) -> NDArray[np.int8]:
    """:func:`environment_grid` of the project's population raster, cached per project and parameter set.

    ``params`` defaults to the project's own (:attr:`~geoplan.project.Project.radio_params`).
    The returned array is read-only: it is shared.
    """
    p = params if params is not None else proj.radio_params
    grids = _CACHE.setdefault(proj, {})
    if p.digest not in grids:
        g = environment_grid(proj.population, params=p)
        g.setflags(write=False)
        grids[p.digest] = g
    return grids[p.digest]
