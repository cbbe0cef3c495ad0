"""A population grid for a city that has none: dasymetric mapping with a random-forest density model.

The method is WorldPop's (Stevens et al. 2015, "Disaggregating census data for
population mapping using random forests with remotely-sensed and ancillary
data", PLOS ONE 10(2): e0107042), on the planner's own data:

1. **Covariates per cell** of a grid (100 m by default) from the land-use layer
   (国土调查 地类图斑, classes of GB/T 21010-2017 / the 第三次全国国土调查工作分类):
   the share of each class group in the cell and in its neighbourhood
   (Gaussian, σ = 300 m and 1 km), the distance to urban housing, and, when
   given, building footprints (footprint share, floor area) and POIs (density).
2. **A random forest of log density** (scikit-learn ``RandomForestRegressor``):
   trained where the population is known — each district's census population
   over its inhabitable area, against the district's mean covariates — then
   predicted for every cell.
3. **Dasymetric redistribution**: each district's census total is shared among
   its cells in proportion to predicted density × inhabitable area, and rounded
   to whole persons by largest remainders, so the grid adds up to every
   district's total *exactly*.
4. **Error by leaving districts out in turn**: the forest is refitted without
   each district and predicts its total, which is compared with the census
   (and with the same estimate from one average density, the areal-weighting baseline).

Nobody is put on water, forest or the airport (:data:`UNINHABITED`) unless the
data say so: a cell of those classes with building footprints keeps the
footprints' share. Districts are burned into the grid by the cell-centre rule,
as :func:`geoplan.population.district_grid` does when the grid is loaded, so the
project sums the same totals back.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from affine import Affine
from numpy.typing import NDArray
from pyproj import CRS
from rasterio import features
from scipy import ndimage

from . import io
from ._typing import Progress
from .crs import gk_epsg
from .errors import ConfigError, Problem, ValidationError, WriteError
from .io import Raster

__all__ = [
    "LANDUSE_GROUPS",
    "GROUPS",
    "UNINHABITED",
    "RF_DEFAULTS",
    "FINE_M",
    "landuse_group",
    "PopulationModel",
    "model_population",
    "largest_remainder_cells",
    "model_project_population",
    "population_output",
]

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())

#: Class groups of the covariates, in order.
GROUPS: tuple[str, ...] = ("urban_housing", "rural_housing", "commercial", "industrial", "public", "green",
                           "transport", "airport", "water", "forest", "cropland", "garden", "grassland",
                           "special", "other")
#: Land-use code → class group. GB/T 21010-2017《土地利用现状分类》 first- and second-level codes, the
#: 第三次全国国土调查工作分类 additions (05H1, 08H1, 08H2, 0810A, 1001–1009 ...) and the 三调 summary codes
#: 201–205 (城市/建制镇/村庄/采矿/特殊). A code is looked up whole, then by its first four and two characters.
LANDUSE_GROUPS: dict[str, str] = {
    "01": "cropland", "02": "garden", "03": "forest", "04": "grassland", "0401": "grassland",
    "0403": "grassland", "0404": "other",
    "05": "commercial", "05H1": "commercial", "0508": "industrial",
    "06": "industrial", "0601": "industrial", "0602": "industrial", "0603": "industrial",
    "07": "urban_housing", "0701": "urban_housing", "0702": "rural_housing",
    "08": "public", "08H1": "public", "08H2": "public", "08H2A": "public", "0809": "public",
    "0810": "green", "0810A": "green",
    "09": "special",
    "10": "transport", "1007": "airport",
    "11": "water", "1109": "water",
    "12": "other", "1201": "other", "1202": "cropland", "1203": "cropland",
    "20": "urban_housing", "201": "urban_housing", "202": "urban_housing", "203": "rural_housing",
    "204": "industrial", "205": "special",
}
#: Groups where nobody lives unless building footprints say otherwise.
UNINHABITED: tuple[str, ...] = ("water", "forest", "airport")
#: Random-forest settings: WorldPop's (R randomForest: 500 trees, mtry = p/3, nodesize 5 for regression) in
#: scikit-learn's terms. With few districts, min_samples_leaf is capped by the training set's size.
RF_DEFAULTS: dict[str, Any] = {"n_estimators": 500, "max_features": 1 / 3, "min_samples_leaf": 1}
_SIGMAS_M = (300.0, 1000.0)
#: Resolution (m) the land use is rasterised at to measure class shares within a cell.
FINE_M = 25.0
_TILE_ROWS = 1024  # rows of cells per band: a band of 25 m sub-cells is ~35 M bytes at 100 m


def landuse_group(code: Any) -> str | None:
    """The class group of a land-use code (``None`` when unknown).

    Examples
    --------
    >>> landuse_group("0701"), landuse_group("0301"), landuse_group("1007"), landuse_group("08H2A")
    ('urban_housing', 'forest', 'airport', 'public')
    >>> landuse_group("9999") is None
    True
    """
    c = str(code).strip().upper()
    if not c or c in ("NAN", "NONE"):
        return None
    for key in (c, c[:5], c[:4], c[:3], c[:2]):
        if key in LANDUSE_GROUPS:
            return LANDUSE_GROUPS[key]
    return None


@dataclass(frozen=True, eq=False)
class PopulationModel:
    """A modelled population grid and what it is worth.

    Attributes
    ----------
    raster : Raster
        Persons per cell (whole numbers; no-data outside the districts).
    districts : DataFrame
        Per district: census total, grid total (equal), cells, inhabitable km², and
        the leave-one-out estimate of its total by the forest and by one average
        density, with their relative errors.
    summary : dict
        Grid, training, leave-one-out errors (mean/median absolute % error), settings.
    importances : dict
        Covariate → random-forest importance (mean decrease in impurity).
    """

    raster: Raster
    districts: pd.DataFrame
    summary: dict[str, Any]
    importances: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (layout ``geoplan.population/1``)."""
        from ._json import plain, records

        return {"schema": "geoplan.population/1", "summary": plain(self.summary, ndigits=4),
                "districts": records(self.districts, ndigits=4),
                "importances": plain(self.importances, ndigits=4)}


@dataclass(frozen=True, eq=False)
class _Grid:
    transform: Affine
    height: int
    width: int
    cell_m: float
    crs: CRS

    @property
    def cell_km2(self) -> float:
        return self.cell_m * self.cell_m / 1e6


def _grid(districts_m: gpd.GeoDataFrame, cell_m: float) -> _Grid:
    left, bottom, right, top = districts_m.total_bounds
    left, bottom = np.floor(left / cell_m) * cell_m, np.floor(bottom / cell_m) * cell_m
    right, top = np.ceil(right / cell_m) * cell_m, np.ceil(top / cell_m) * cell_m
    w, h = int(round((right - left) / cell_m)), int(round((top - bottom) / cell_m))
    if w * h > 60_000_000:
        raise ConfigError(f"a {cell_m:g} m grid over the districts has {w * h:,} cells. Fix: a larger --cell-m")
    return _Grid(Affine(cell_m, 0.0, float(left), 0.0, -cell_m, float(top)), h, w, cell_m,
                 CRS.from_user_input(districts_m.crs))


def _groups_of(landuse: gpd.GeoDataFrame) -> NDArray[np.int64]:
    """Group index of each land-use polygon; every unknown code reported at once."""
    codes = landuse["DLBM"].astype(str).str.strip()
    groups = [landuse_group(c) for c in codes]
    bad = sorted({c for c, g in zip(codes, groups, strict=True) if g is None})
    if bad:
        raise ValidationError(Problem("landuse", "DLBM", f"unknown land-use code(s) {', '.join(bad[:8])}"
                                      + (f" and {len(bad) - 8} more" if len(bad) > 8 else ""),
                                      "use GB/T 21010 / 三调 codes (e.g. 0701, 1101, 0301), or map yours with "
                                      "[layers.landuse.values] DLBM = { \"yours\" = \"0701\" }"))
    return np.array([GROUPS.index(g) for g in groups], dtype=np.int64)  # type: ignore[arg-type]


def _class_shares(landuse_m: gpd.GeoDataFrame, grid: _Grid, *, sub: int, step: Progress) -> NDArray[np.float32]:
    """Share of each group in each cell, from a raster ``sub`` times finer, row band by row band."""
    gidx = _groups_of(landuse_m)
    geoms = landuse_m.geometry.to_numpy()
    tree = shapely.STRtree(geoms)
    ng = len(GROUPS) + 1  # 0: no land-use polygon
    shares = np.zeros((grid.height, grid.width, len(GROUPS)), dtype=np.float32)
    fine = grid.transform * Affine.scale(1.0 / sub)
    cols = (np.arange(grid.width * sub, dtype=np.int32) // sub)[None, :]
    for r0 in range(0, grid.height, _TILE_ROWS):
        h = min(_TILE_ROWS, grid.height - r0)
        t = fine * Affine.translation(0, r0 * sub)
        box = shapely.box(t.c, t.f - h * grid.cell_m, t.c + grid.width * grid.cell_m, t.f)
        hit = tree.query(box, predicate="intersects")
        if hit.size:
            burned = features.rasterize(((geoms[i], int(gidx[i]) + 1) for i in hit),
                                        out_shape=(h * sub, grid.width * sub), transform=t, fill=0, dtype="uint8")
            cell = (np.arange(h * sub, dtype=np.int32) // sub)[:, None] * grid.width + cols
            counts = np.bincount((cell * ng + burned).ravel(), minlength=h * grid.width * ng)
            shares[r0:r0 + h] = (counts.reshape(h, grid.width, ng)[..., 1:] / float(sub * sub)).astype(np.float32)
        step(0.05 + 0.35 * (r0 + h) / grid.height, f"land use: rows {r0 + h:,}/{grid.height:,}")
    return shares


def _points_to_cells(xy: NDArray[np.float64], values: NDArray[np.float64], grid: _Grid) -> NDArray[np.float64]:
    out = np.zeros((grid.height, grid.width))
    col = np.floor((xy[:, 0] - grid.transform.c) / grid.cell_m).astype(np.int64)
    row = np.floor((grid.transform.f - xy[:, 1]) / grid.cell_m).astype(np.int64)
    ok = (row >= 0) & (row < grid.height) & (col >= 0) & (col < grid.width)
    np.add.at(out, (row[ok], col[ok]), values[ok])
    return out


def _covariates(shares: NDArray[np.float32], grid: _Grid, rows: NDArray[np.int64], cols: NDArray[np.int64], *,
                buildings_m: gpd.GeoDataFrame | None, pois_m: gpd.GeoDataFrame | None
                ) -> tuple[NDArray[np.float32], list[str], NDArray[np.float64]]:
    """Covariates of the cells at ``rows, cols`` (cells × features), their names, the footprint share per cell.

    Each covariate is computed as a whole grid (the neighbourhood filters need
    it) and only the cells asked for are kept, so memory holds one grid at a time.
    """
    names: list[str] = []
    cols_out: list[NDArray[np.float32]] = []

    def keep(name: str, layer: NDArray[Any]) -> None:
        names.append(name)
        cols_out.append(np.asarray(layer[rows, cols], dtype=np.float32))

    gi = {g: k for k, g in enumerate(GROUPS)}
    for g, k in gi.items():
        keep(f"share_{g}", shares[..., k])
    housing = shares[..., gi["urban_housing"]] + shares[..., gi["rural_housing"]]
    built = housing + shares[..., gi["commercial"]] + shares[..., gi["public"]] + shares[..., gi["industrial"]]
    for sigma in _SIGMAS_M:
        s = sigma / grid.cell_m
        keep(f"housing_within_{sigma:g}m", ndimage.gaussian_filter(housing, s, mode="constant", truncate=3.0))
        keep(f"built_within_{sigma:g}m", ndimage.gaussian_filter(built, s, mode="constant", truncate=3.0))
    urban = shares[..., gi["urban_housing"]] > 0.25
    dist = ndimage.distance_transform_edt(~urban) * grid.cell_m / 1000.0 if urban.any() else \
        np.full(housing.shape, 50.0)
    keep("log_km_to_urban_housing", np.log1p(dist))
    footprint = np.zeros(housing.shape)
    if buildings_m is not None and len(buildings_m):
        area = buildings_m.geometry.area.to_numpy()
        floors = buildings_m["FLOORS"].fillna(1.0).clip(lower=1.0).to_numpy(dtype=float) \
            if "FLOORS" in buildings_m.columns else np.ones(len(area))
        cen = shapely.get_coordinates(buildings_m.geometry.centroid.to_numpy())
        footprint = np.minimum(_points_to_cells(cen, area, grid) / (grid.cell_m ** 2), 1.0)
        floor_area = np.log1p(_points_to_cells(cen, area * floors, grid))
        keep("building_share", footprint)
        keep("log_floor_area_m2", floor_area)
        keep("log_floor_area_within_300m", ndimage.gaussian_filter(floor_area, _SIGMAS_M[0] / grid.cell_m))
    if pois_m is not None and len(pois_m):
        cnt = _points_to_cells(shapely.get_coordinates(pois_m.geometry.to_numpy()), np.ones(len(pois_m)), grid)
        keep("log_poi_density", np.log1p(ndimage.gaussian_filter(cnt, _SIGMAS_M[0] / grid.cell_m) * 100.0))
    return np.column_stack(cols_out), names, footprint


def _inhabitable(shares: NDArray[np.float32], footprint: NDArray[np.float64], uninhabited: tuple[str, ...]
                 ) -> NDArray[np.float64]:
    """Share of each cell people may live on: not on the uninhabited groups, unless buildings stand there."""
    bad = [GROUPS.index(g) for g in uninhabited]
    closed = shares[..., bad].sum(axis=-1) if bad else np.zeros(shares.shape[:2])
    return np.clip(np.maximum(1.0 - closed, footprint), 0.0, 1.0)


def largest_remainder_cells(weights: NDArray[np.float64], group: NDArray[np.int64], totals: NDArray[Any]
                            ) -> NDArray[np.int64]:
    """Whole persons per cell: each group's total shared ∝ ``weights``, rounded by largest remainders.

    Every group's cells add up exactly to its total. A group whose cells all
    have zero weight shares its total evenly.

    Examples
    --------
    >>> largest_remainder_cells(np.array([1.0, 1.0, 2.0, 5.0]), np.array([0, 0, 0, 1]), np.array([7, 3])).tolist()
    [2, 2, 3, 3]
    """
    w = np.asarray(weights, dtype=float)
    g = np.asarray(group, dtype=np.int64)
    tot = np.asarray(totals).astype(np.int64)
    sums = np.bincount(g, weights=w, minlength=tot.size)
    empty = sums[g] <= 0
    w = np.where(empty, 1.0, w)
    sums = np.bincount(g, weights=w, minlength=tot.size)
    exact = tot[g] * w / sums[g]
    out = np.floor(exact).astype(np.int64)
    left = tot - np.bincount(g, weights=out, minlength=tot.size).astype(np.int64)
    frac = exact - out
    order = np.lexsort((-frac, g))  # by group, largest remainder first
    gs = g[order]
    first = np.r_[0, np.flatnonzero(gs[1:] != gs[:-1]) + 1]
    rank = np.arange(gs.size) - np.repeat(first, np.diff(np.r_[first, gs.size]))
    take = order[rank < left[gs]]
    out[take] += 1
    return out


def _forest(X: NDArray[Any], y: NDArray[Any], *, seed: int, n_estimators: int) -> Any:
    from sklearn.ensemble import RandomForestRegressor

    leaf = int(min(RF_DEFAULTS["min_samples_leaf"], max(len(y) // 4, 1)))
    rf = RandomForestRegressor(n_estimators=n_estimators, max_features=RF_DEFAULTS["max_features"],
                               min_samples_leaf=leaf, random_state=seed, n_jobs=1)
    return rf.fit(X, y)


def _predict(rf: Any, X: NDArray[np.float32]) -> NDArray[np.float64]:
    out = np.empty(X.shape[0])
    for i in range(0, X.shape[0], 200_000):  # bounded memory for the trees' outputs
        out[i:i + 200_000] = rf.predict(X[i:i + 200_000])
    return out


def _check_inputs(districts_m: gpd.GeoDataFrame, population: NDArray[np.float64], *, cell_m: float) -> None:
    problems = []
    if population.shape != (len(districts_m),):
        problems.append(Problem("districts", "POP", f"{population.size} totals for {len(districts_m)} districts",
                                "give one census total per district"))
    elif not (np.isfinite(population) & (population >= 0)).all():
        bad = [str(c) for c, v in zip(districts_m["XZQDM"], population, strict=True) if not (np.isfinite(v) and v >= 0)]
        problems.append(Problem("districts", "POP", f"no census total for {', '.join(bad[:8])}",
                                "fill in POP (persons) for every district, e.g. from the 七普 bulletins"))
    if not 10 <= cell_m <= 5000:
        problems.append(Problem("population", "cell_m", f"{cell_m:g} m is not a cell size from 10 m to 5 km",
                                "use e.g. --cell-m 100"))
    if len(districts_m) < 3:
        problems.append(Problem("districts", None, f"{len(districts_m)} district(s): too few to train a density model "
                                "and leave one out", "use at least 3 districts (county units) with census totals"))
    if problems:
        raise ValidationError(problems)


def model_population(districts: gpd.GeoDataFrame, landuse: gpd.GeoDataFrame, *, population: Any,
                     metric_crs: Any, cell_m: float = 100.0, buildings: gpd.GeoDataFrame | None = None,
                     pois: gpd.GeoDataFrame | None = None, uninhabited: tuple[str, ...] = UNINHABITED,
                     n_estimators: int = RF_DEFAULTS["n_estimators"], fine_m: float = FINE_M, seed: int = 0,
                     progress: Progress | None = None) -> PopulationModel:
    """Model a population grid from land use (see the module notes).

    Parameters
    ----------
    districts : GeoDataFrame
        District polygons with ``XZQDM`` and ``XZQMC`` (any CRS).
    landuse : GeoDataFrame
        Land-use polygons with ``DLBM`` (GB/T 21010 / 三调 codes).
    population : array_like
        Census total of each district, persons (e.g. the districts' ``POP``).
    metric_crs : CRS-like
        The metric CRS of the grid (e.g. EPSG:4549 for 福州).
    cell_m : float
        Cell size, metres.
    buildings, pois : GeoDataFrame, optional
        Building footprints (``FLOORS`` optional) and points of interest.
    uninhabited : tuple of str
        Groups (of :data:`GROUPS`) nobody lives on without buildings.
    n_estimators : int
        Trees of the forest.
    fine_m : float
        The land use is rasterised at about this resolution (a whole fraction of
        ``cell_m``) to measure each class's share of a cell.
    seed : int
        Seed of the forest.

    Raises
    ------
    ValidationError
        Unknown land-use codes, missing district totals, too few districts.
    ConfigError
        Bad options.
    """
    t0 = time.perf_counter()
    step = progress or (lambda f, m: None)
    crs = CRS.from_user_input(metric_crs)
    if not crs.is_projected:
        raise ConfigError(f"metric_crs {crs.name} is not projected. Fix: use a Gauss-Krüger zone (EPSG:4548/4549)")
    bad = sorted(set(uninhabited) - set(GROUPS))
    if bad:
        raise ConfigError(f"unknown land-use group(s) {', '.join(bad)}. Fix: use {', '.join(GROUPS)}")
    dm = districts.to_crs(crs).reset_index(drop=True)
    pop = np.asarray(population, dtype=float).reshape(-1)
    _check_inputs(dm, pop, cell_m=cell_m)
    grid = _grid(dm, cell_m)
    step(0.02, f"grid of {grid.height:,} × {grid.width:,} cells of {cell_m:g} m")
    dgrid = features.rasterize(((g, i) for i, g in enumerate(dm.geometry.to_numpy())),
                               out_shape=(grid.height, grid.width), transform=grid.transform, fill=-1, dtype="int32")
    shares = _class_shares(landuse.to_crs(crs), grid, sub=max(int(round(cell_m / fine_m)), 1), step=step)
    rows, cols = np.nonzero(dgrid >= 0)
    X, names, footprint = _covariates(shares, grid, rows, cols,
                                      buildings_m=None if buildings is None else buildings.to_crs(crs),
                                      pois_m=None if pois is None else pois.to_crs(crs))
    h = _inhabitable(shares, footprint, tuple(uninhabited))[rows, cols]
    del shares
    g = dgrid[rows, cols].astype(np.int64)
    nd = len(dm)
    area = np.bincount(g, weights=h, minlength=nd) * grid.cell_km2
    cells = np.bincount(g, minlength=nd)
    problems = [Problem("districts", str(dm["XZQDM"].iloc[k]), f"{dm['XZQMC'].iloc[k]} holds no cell centre of "
                        f"the {cell_m:g} m grid", "use a smaller --cell-m") for k in np.flatnonzero(cells == 0)]
    if problems:
        raise ValidationError(problems)
    step(0.45, "training the random forest on the districts")
    wsum = np.bincount(g, weights=h, minlength=nd)
    Xd = np.stack([np.bincount(g, weights=h * X[:, j], minlength=nd) / np.maximum(wsum, 1e-12)
                   for j in range(X.shape[1])], axis=1)
    lived = (area > 0) & (pop > 0)
    y = np.log(np.where(lived, pop / np.maximum(area, 1e-12), 1.0))
    train = np.flatnonzero(lived)
    if train.size < 3:
        raise ValidationError(Problem("landuse", None, f"only {train.size} district(s) have inhabitable land and "
                                      "people", "check the land-use codes and the uninhabited groups"))
    rf = _forest(Xd[train], y[train], seed=seed, n_estimators=n_estimators)
    weight = np.zeros(h.size)
    lives = h > 0  # nobody on uninhabitable cells: no need to predict their density
    weight[lives] = np.exp(_predict(rf, X[lives])) * h[lives]
    persons = largest_remainder_cells(weight, g, np.round(pop).astype(np.int64))
    step(0.6, "leaving each district out in turn")
    loo, base = _leave_one_out(Xd, y, pop, area, X, g, h, train, seed=seed, n_estimators=n_estimators,
                               cell_km2=grid.cell_km2, step=step)
    values = np.full((grid.height, grid.width), -1.0, dtype=np.float32)
    values[rows, cols] = persons
    raster = Raster(values=values.astype(np.float64), transform=grid.transform, crs=crs, nodata=-1.0,
                    name="population")
    table = _district_table(dm, pop, persons, g, cells, area, loo, base)
    summary = _summary(table, grid=grid, names=names, n_train=int(train.size), n_estimators=n_estimators,
                       uninhabited=uninhabited, seed=seed, buildings=buildings is not None, pois=pois is not None,
                       runtime_s=time.perf_counter() - t0)
    step(1.0, "population grid ready")
    return PopulationModel(raster=raster, districts=table, summary=summary,
                           importances=dict(zip(names, (float(v) for v in rf.feature_importances_), strict=True)))


def _leave_one_out(Xd: NDArray[Any], y: NDArray[Any], pop: NDArray[Any], area: NDArray[Any], X: NDArray[Any],
                   g: NDArray[np.int64], h: NDArray[Any], train: NDArray[np.int64], *, seed: int, n_estimators: int,
                   cell_km2: float, step: Progress) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Each district's total predicted by a forest fitted without it, and by the others' mean density."""
    nd = len(pop)
    loo = np.full(nd, np.nan)
    base = np.full(nd, np.nan)
    order = np.argsort(g, kind="stable")
    bounds = np.searchsorted(g[order], np.arange(nd + 1))
    for i, k in enumerate(train):
        rest = train[train != k]
        rf = _forest(Xd[rest], y[rest], seed=seed, n_estimators=n_estimators)
        mine = order[bounds[k]:bounds[k + 1]]
        mine = mine[h[mine] > 0]
        loo[k] = float((np.exp(_predict(rf, X[mine])) * h[mine]).sum() * cell_km2)
        base[k] = float(pop[rest].sum() / area[rest].sum() * area[k])
        step(0.6 + 0.38 * (i + 1) / train.size, f"leave-one-out: {i + 1}/{train.size}")
    return loo, base


def _district_table(dm: gpd.GeoDataFrame, pop: NDArray[Any], persons: NDArray[np.int64], g: NDArray[np.int64],
                    cells: NDArray[Any], area: NDArray[Any], loo: NDArray[Any], base: NDArray[Any]) -> pd.DataFrame:
    with np.errstate(divide="ignore", invalid="ignore"):
        return pd.DataFrame({
            "XZQDM": dm["XZQDM"].astype(str).to_numpy(), "XZQMC": dm["XZQMC"].astype(str).to_numpy(),
            "census": np.round(pop).astype(np.int64),
            "grid_total": np.bincount(g, weights=persons, minlength=len(pop)).astype(np.int64),
            "cells": cells.astype(np.int64), "inhabitable_km2": np.round(area, 2),
            "density_km2": np.round(pop / area, 1),
            "loo_forest": np.round(loo, 0), "loo_forest_error": (loo - pop) / pop,
            "loo_baseline": np.round(base, 0), "loo_baseline_error": (base - pop) / pop,
        })


def _summary(table: pd.DataFrame, *, grid: _Grid, names: list[str], n_train: int, n_estimators: int,
             uninhabited: tuple[str, ...], seed: int, buildings: bool, pois: bool, runtime_s: float) -> dict[str, Any]:
    ef = table["loo_forest_error"].abs().dropna()
    eb = table["loo_baseline_error"].abs().dropna()
    return {
        "method": "dasymetric redistribution of district census totals by random-forest density (WorldPop; "
                  "Stevens et al. 2015)",
        "modelled": True, "cell_m": grid.cell_m, "crs": f"EPSG:{grid.crs.to_epsg()}" if grid.crs.to_epsg()
        else grid.crs.name, "height": grid.height, "width": grid.width,
        "districts": int(len(table)), "trained_on": n_train, "covariates": names, "trees": n_estimators,
        "uninhabited": list(uninhabited), "buildings": buildings, "pois": pois, "seed": seed,
        "totals_exact": bool((table["census"] == table["grid_total"]).all()),
        "population": int(table["grid_total"].sum()),
        "loo_mape_forest": float(ef.mean()) if len(ef) else None,
        "loo_median_ape_forest": float(ef.median()) if len(ef) else None,
        "loo_mape_baseline": float(eb.mean()) if len(eb) else None,
        "loo_median_ape_baseline": float(eb.median()) if len(eb) else None,
        "runtime_s": round(runtime_s, 2),
    }


def population_output(path: str | Path, *, out: str | Path | None = None) -> Path:
    """Where ``geoplan population`` writes for project file ``path``: ``out``, else its population layer's path.

    Raises
    ------
    ConfigError
        Neither ``out`` nor a ``[layers.population]`` path.
    WriteError
        The file exists already: geoplan never replaces a file it did not create in this run.
    """
    p = Path(path)
    cfg = io.read_toml(p)
    if out is not None:
        target = Path(out)
    else:
        pc = cfg.get("layers", {}).get("population", {})
        if "path" not in pc:
            raise ConfigError(f"project file {p} names no [layers.population] path to write the grid to. "
                              "Fix: give --out pop_100m.tif, or add [layers.population] path = \"...\"")
        target = (p.parent / pc["path"]).resolve()
    if target.exists():
        raise WriteError(f"{target} exists already; geoplan population does not replace it. Fix: delete or move "
                         "it, or write elsewhere with --out")
    return target


def model_project_population(path: str | Path, *, out: str | Path | None = None, cell_m: float = 100.0,
                             n_estimators: int = RF_DEFAULTS["n_estimators"], seed: int = 0,
                             uninhabited: tuple[str, ...] = UNINHABITED, fine_m: float = 25.0,
                             progress: Progress | None = None) -> tuple[PopulationModel, Path]:
    """Build a project's population grid from its layers and write it (``geoplan population``).

    Reads ``[layers.districts]`` (census totals in ``POP``), ``[layers.landuse]``
    and, when named, ``[layers.buildings]`` and ``[layers.pois]`` of project file
    ``path``; writes the grid to :func:`population_output` (a GeoTIFF tagged
    ``MODELLED=1`` with the method and its leave-one-out error).

    Examples
    --------
    See ``docs/population.md`` and ``tests/test_dasymetric.py``.
    """
    from .project import read_layers

    p = Path(path)
    target = population_output(p, out=out)
    cfg = io.read_toml(p)
    lcfg = cfg.get("layers", {})
    if "landuse" not in lcfg:
        raise ConfigError(f"project file {p} has no [layers.landuse]. Fix: add your 地类图斑 layer (DLBM codes) "
                          "with path = \"...\" (docs/population.md)")
    layers, _ = read_layers(cfg, p.parent, keys=("districts", "landuse", "buildings", "pois"),
                            where=f"project file {p}")
    d = layers["districts"]
    if "POP" not in d.columns:
        raise ValidationError(Problem("districts", "POP", "no census total per district",
                                      "add the census resident population of each district (map your column with "
                                      "[layers.districts.fields] POP = \"...\")"))
    metric = cfg.get("project", {}).get("metric_crs") or f"EPSG:{gk_epsg(d.geometry.representative_point().x)}"
    model = model_population(d, layers["landuse"], population=d["POP"].to_numpy(dtype=float), metric_crs=metric,
                             cell_m=cell_m, buildings=layers.get("buildings"), pois=layers.get("pois"),
                             uninhabited=uninhabited, n_estimators=n_estimators, fine_m=fine_m, seed=seed,
                             progress=progress)
    s = model.summary
    tags = {"MODELLED": "1", "UNITS": f"persons per {cell_m:g} m cell",
            "METHOD": s["method"], "SOURCE": f"geoplan population on {p.name}: landuse"
            + (" + buildings" if s["buildings"] else "") + (" + pois" if s["pois"] else ""),
            "LOO_MAPE_FOREST": f"{s['loo_mape_forest']:.4f}" if s["loo_mape_forest"] is not None else "",
            "LOO_MAPE_BASELINE": f"{s['loo_mape_baseline']:.4f}" if s["loo_mape_baseline"] is not None else ""}
    io.write_raster(model.raster, target, dtype="float32", tags=tags)
    return model, target
