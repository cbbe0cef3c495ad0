"""Population grids and the demand points placement works on.

A population raster may come in any CRS (the embedded Xiamen grid is 100 m in
EPSG:4548; WorldPop rasters are in WGS84 degrees). Districts are burned into
the raster's own grid, so zonal sums need no resampling, and the populated cells
become demand points in the project's metric CRS.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
from pyproj import CRS, Transformer
from rasterio import features

from .errors import Problem, ValidationError
from .io import Raster

__all__ = ["Demand", "district_grid", "zonal_sums", "demand_points", "cell_area_km2"]

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())


@dataclass(frozen=True)
class Demand:
    """Populated raster cells as demand points.

    Attributes
    ----------
    x, y : ndarray
        Cell centres in ``crs`` (metres).
    pop : ndarray
        Persons in each cell.
    district : ndarray of int
        Index (0-based, in the districts' order) of the district holding the cell.
    area_km2 : ndarray
        Cell area, for densities.
    row, col : ndarray of int
        Position of the cell in the raster, to map results back to a grid.
    crs : pyproj.CRS
        The metric CRS of ``x, y``.
    """

    x: np.ndarray
    y: np.ndarray
    pop: np.ndarray
    district: np.ndarray
    area_km2: np.ndarray
    row: np.ndarray
    col: np.ndarray
    crs: CRS

    def __len__(self) -> int:
        return int(self.pop.shape[0])

    @property
    def xy(self) -> np.ndarray:
        """``(n, 2)`` array of cell centres."""
        return np.column_stack([self.x, self.y])

    def take(self, index: np.ndarray) -> Demand:
        """The cells ``index`` (positions or a boolean mask), in that order."""
        return dataclasses.replace(self, **{f.name: getattr(self, f.name)[index] for f in dataclasses.fields(self)
                                           if f.name != "crs"})

    @property
    def density_km2(self) -> np.ndarray:
        """Persons per km² of each cell."""
        return self.pop / self.area_km2


def district_grid(raster: Raster, districts: gpd.GeoDataFrame) -> np.ndarray:
    """Index of the district whose polygon holds each cell centre (-1 outside all).

    Districts are reprojected to the raster's CRS and burned with
    ``rasterio.features.rasterize`` (cell-centre rule), so every cell counts in at
    most one district and zonal sums add up exactly.
    """
    if raster.crs is None:
        raise ValidationError(Problem(raster.name, "CRS", "the raster has no CRS", "assign one"))
    shapes = districts.to_crs(raster.crs).geometry.to_numpy()
    return features.rasterize(
        ((g, i) for i, g in enumerate(shapes)),
        out_shape=raster.values.shape, transform=raster.transform, fill=-1, dtype="int32",
    )


def cell_area_km2(raster: Raster, rows: np.ndarray) -> np.ndarray:
    """Area of cells in ``rows`` in km² (exact on a projected grid, per-row on a geographic one)."""
    t = raster.transform
    crs = raster.crs
    if crs is not None and crs.is_geographic:
        lat = t.f + (rows + 0.5) * t.e
        r_earth = 6_371_008.8
        dy = np.deg2rad(abs(t.e)) * r_earth
        dx = np.deg2rad(abs(t.a)) * r_earth * np.cos(np.deg2rad(lat))
        return dx * dy / 1e6
    unit = crs.axis_info[0].unit_conversion_factor if crs is not None else 1.0
    return np.full(rows.shape, abs(t.a * t.e) * unit * unit / 1e6)


def zonal_sums(raster: Raster, districts: gpd.GeoDataFrame, *, grid: np.ndarray | None = None) -> np.ndarray:
    """Population of each district (persons), summed from the raster.

    Raises
    ------
    ValidationError
        When no populated cell falls inside any district (wrong CRS, wrong area).
    """
    g = district_grid(raster, districts) if grid is None else grid
    ok = raster.valid & (g >= 0)
    sums = np.bincount(g[ok], weights=raster.values[ok], minlength=len(districts))
    if not ok.any() or sums.sum() <= 0:
        raise ValidationError(Problem(
            raster.name, None,
            f"the raster (bounds {tuple(round(b, 3) for b in raster.bounds)}) does not overlap the districts "
            f"(bounds {tuple(round(b, 3) for b in districts.to_crs(raster.crs).total_bounds)} in the raster's CRS)",
            "check both layers' CRS (a raster without its real CRS lands in the wrong place) and that they cover the same area"))
    return sums


def demand_points(raster: Raster, districts: gpd.GeoDataFrame, *, metric_crs: CRS,
                  grid: np.ndarray | None = None) -> Demand:
    """Populated cells inside the districts as :class:`Demand` in ``metric_crs``."""
    g = district_grid(raster, districts) if grid is None else grid
    ok = raster.valid & (g >= 0) & (raster.values > 0)
    rows, cols = np.nonzero(ok)
    t = raster.transform
    xs = t.c + (cols + 0.5) * t.a + (rows + 0.5) * t.b
    ys = t.f + (cols + 0.5) * t.d + (rows + 0.5) * t.e
    assert raster.crs is not None
    if CRS.from_user_input(raster.crs) != CRS.from_user_input(metric_crs):
        tr = Transformer.from_crs(raster.crs, metric_crs, always_xy=True)
        xs, ys = tr.transform(xs, ys)
    return Demand(
        x=np.asarray(xs, dtype=float), y=np.asarray(ys, dtype=float),
        pop=raster.values[rows, cols].astype(float), district=g[rows, cols].astype(np.int64),
        area_km2=cell_area_km2(raster, rows), row=rows.astype(np.int64), col=cols.astype(np.int64),
        crs=CRS.from_user_input(metric_crs),
    )
