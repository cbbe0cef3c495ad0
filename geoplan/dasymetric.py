"""A population grid for a city that has none: dasymetric mapping with a random-forest density model.

The method is WorldPop's (Stevens et al. 2015, "Disaggregating census data for
population mapping using random forests with remotely-sensed and ancillary
data", PLOS ONE 10(2): e0107042) on the planner's own data, on top of the
classic class-density dasymetric model (Mennis & Hultgren 2006, "Intelligent
dasymetric mapping and its application to areal interpolation", CaGIS 33(3);
Langford 2006's three classes):

1. **Covariates per cell** of a grid (100 m by default) from the land-use layer
   (国土调查 地类图斑, classes of GB/T 21010-2017 / the 第三次全国国土调查工作分类):
   the share of each class group in the cell and in its neighbourhood
   (Gaussian, σ = 300 m and 1 km), the distance to urban housing, and, when
   given, building footprints (footprint share, floor area) and POIs (density).
2. **Class densities**: persons per km² of urban housing, rural housing, other
   inhabitable land (and building footprints), by non-negative least squares of
   the districts' census totals on their class areas (:data:`BASE_CLASSES`).
3. **A random forest of log density** (scikit-learn ``RandomForestRegressor``,
   WorldPop's settings): trained where the population is known — each
   district's log ratio of census total to what its class densities give,
   against the district's mean covariates — then predicted for every cell, as
   a correction of the class-density base.
4. **Dasymetric redistribution**: each district's census total is shared among
   its cells in proportion to the weights, and rounded to whole persons by
   largest remainders, so the grid adds up to every district's total *exactly*.
5. **Error by leaving districts out in turn**: both models are refitted without
   each district and predict its total, compared with the census — and with
   one average density (areal weighting) as the baseline. With a dozen districts
   the forest may not beat the class densities; ``model="auto"`` builds the
   grid with whichever predicted the left-out districts better, and says so.

Nobody is put on water, forest or the airport (:data:`UNINHABITED`) unless the
data say so: building footprints there count (as their own class). Districts
are burned into the grid by the cell-centre rule, as
:func:`geoplan.population.district_grid` does when the grid is loaded, so the
project sums the same totals back.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
from .errors import ConfigError, Problem, ValidationError
from .io import Raster

if TYPE_CHECKING:
    from ._project_file import ProjectFile

__all__ = [
    "LANDUSE_GROUPS",
    "GROUPS",
    "UNINHABITED",
    "RF_DEFAULTS",
    "FINE_M",
    "MODELS",
    "landuse_group",
    "PopulationModel",
    "model_population",
    "largest_remainder_cells",
    "BASE_CLASSES",
    "DENSITY_FLOOR_SHARE",
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
#: Weights of the grid: ``auto`` picks the one of the other two that predicts left-out districts better.
MODELS: tuple[str, ...] = ("auto", "forest", "classes")
#: Resolution (m) the land use is rasterised at to measure class shares within a cell ...
FINE_M = 25.0
#: ... in at most this many steps per cell side (shares to 1 %: a 1 km cell at 100 m).
MAX_SUBCELLS = 10
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
    fine = grid.transform @ Affine.scale(1.0 / sub)
    cols = (np.arange(grid.width * sub, dtype=np.int32) // sub)[None, :]
    for r0 in range(0, grid.height, _TILE_ROWS):
        h = min(_TILE_ROWS, grid.height - r0)
        t = fine @ Affine.translation(0, r0 * sub)
        box = shapely.box(t.c, t.f - h * grid.cell_m, t.c + grid.width * grid.cell_m, t.f)
        hit = np.sort(tree.query(box, predicate="intersects"))  # layer order: a later polygon wins an overlap
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
                     model: str = "auto", progress: Progress | None = None) -> PopulationModel:
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
        ``cell_m``, at most :data:`MAX_SUBCELLS` steps per side) to measure each
        class's share of a cell.
    seed : int
        Seed of the forest.
    model : {"auto", "forest", "classes"}
        The weights of the grid: class densities corrected by the forest, the
        class densities alone, or (``auto``) whichever predicts the districts left
        out better. Both errors are reported either way.

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
    if model not in MODELS:
        raise ConfigError(f"unknown model {model!r}. Fix: use {', '.join(MODELS)}")
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
    sub = min(max(int(round(cell_m / fine_m)), 1), MAX_SUBCELLS)
    shares = _class_shares(landuse.to_crs(crs), grid, sub=sub, step=step)
    rows, cols = np.nonzero(dgrid >= 0)
    X, names, footprint = _covariates(shares, grid, rows, cols,
                                      buildings_m=None if buildings is None else buildings.to_crs(crs),
                                      pois_m=None if pois is None else pois.to_crs(crs))
    shares_cells = shares[rows, cols]
    del shares
    g = dgrid[rows, cols].astype(np.int64)
    nd = len(dm)
    cells = np.bincount(g, minlength=nd)
    problems = [Problem("districts", str(dm["XZQDM"].iloc[k]), f"{dm['XZQMC'].iloc[k]} holds no cell centre of "
                        f"the {cell_m:g} m grid", "use a smaller --cell-m") for k in np.flatnonzero(cells == 0)]
    if problems:
        raise ValidationError(problems)
    step(0.45, "class densities and the random forest, on the districts")
    inputs = _ModelInputs(X=X, g=g, cls=_class_matrix(shares_cells, footprint[rows, cols], tuple(uninhabited),
                                                      with_buildings=buildings is not None),
                          pop=pop, cell_km2=grid.cell_km2)
    train = np.flatnonzero((pop > 0) & (np.bincount(g, weights=inputs.cls.sum(axis=1), minlength=nd) > 0))
    if train.size < 3:
        raise ValidationError(Problem("landuse", None, f"only {train.size} district(s) have inhabitable land and "
                                      "people", "check the land-use codes and the uninhabited groups"))
    fit = _fit(inputs, train, seed=seed, n_estimators=n_estimators)
    step(0.6, "leaving each district out in turn")
    loo = _leave_one_out(inputs, train, seed=seed, n_estimators=n_estimators, step=step)
    used = _choose(model, loo, pop, train)
    weights = fit.weight(inputs) if used == "forest" else fit.base(inputs)
    persons = largest_remainder_cells(weights, g, np.round(pop).astype(np.int64))
    values = np.full((grid.height, grid.width), -1.0, dtype=np.float32)
    values[rows, cols] = persons
    raster = Raster(values=values.astype(np.float64), transform=grid.transform, crs=crs, nodata=-1.0,
                    name="population")
    area = np.bincount(g, weights=inputs.cls.sum(axis=1), minlength=nd) * grid.cell_km2
    table = _district_table(dm, pop, persons, g, cells, area, loo)
    summary = _summary(table, grid=grid, names=names, n_train=int(train.size), n_estimators=n_estimators,
                       uninhabited=uninhabited, seed=seed, buildings=buildings is not None, pois=pois is not None,
                       runtime_s=time.perf_counter() - t0)
    summary["class_density_km2"] = {k: round(float(v), 1) for k, v in zip(fit.classes, fit.rho, strict=True)}
    summary["model"] = used
    summary["model_choice"] = ("the lower leave-one-out error of the two" if model == "auto" else "asked for")
    step(1.0, "population grid ready")
    return PopulationModel(raster=raster, districts=table, summary=summary,
                           importances=dict(zip(names, (float(v) for v in fit.forest.feature_importances_),
                                                strict=True)))


#: Classes of the class-density base (intelligent dasymetric mapping, in the three classes of Langford
#: 2006 — urban housing, rural housing, other inhabitable land): groups of :data:`GROUPS` whose persons per
#: km² the districts' census totals are regressed on. ``other`` also takes land no land-use polygon covers.
#: Few classes keep the regression well determined with a dozen districts; the forest then models what
#: the other covariates (commerce, industry, neighbourhood, buildings, POIs) add.
BASE_CLASSES: dict[str, tuple[str, ...]] = {
    "urban_housing": ("urban_housing",), "rural_housing": ("rural_housing",),
    "other": ("commercial", "public", "industrial", "cropland", "garden", "grassland", "transport", "green",
              "special", "other"),
}
#: Smallest class density, as a share of the area's mean density: a trace of people on every inhabitable
#: class, so a district whose land is all of one class the regression zeroed can still hold its census total.
DENSITY_FLOOR_SHARE = 0.01


def _class_matrix(shares: NDArray[np.float32], footprint: NDArray[np.float64], uninhabited: tuple[str, ...], *,
                  with_buildings: bool) -> NDArray[np.float64]:
    """Share of each base class in each cell; building footprints as a class of their own when given.

    The uninhabited groups count for no class (nobody lives there but in buildings);
    land no land-use polygon covers counts as ``other``. A group listed as
    uninhabited is taken out of its class.
    """
    gi = {g: k for k, g in enumerate(GROUPS)}
    cols = [shares[:, [gi[g] for g in groups if g not in uninhabited]].sum(axis=1) for groups in BASE_CLASSES.values()]
    cols[-1] = cols[-1] + np.clip(1.0 - shares.sum(axis=1), 0.0, 1.0)  # land without a land-use polygon
    if with_buildings:
        cols.append(footprint)
    return np.column_stack(cols).astype(np.float64)


@dataclass(frozen=True, eq=False)
class _ModelInputs:
    X: NDArray[np.float32]
    g: NDArray[np.int64]
    cls: NDArray[np.float64]
    pop: NDArray[np.float64]
    cell_km2: float


@dataclass(frozen=True, eq=False)
class _Fit:
    classes: tuple[str, ...]
    rho: NDArray[np.float64]
    forest: Any

    def base(self, m: _ModelInputs, rows: NDArray[np.int64] | slice = slice(None)) -> NDArray[np.float64]:
        """Persons per cell the class densities give."""
        return m.cls[rows] @ self.rho * m.cell_km2

    def weight(self, m: _ModelInputs, rows: NDArray[np.int64] | slice = slice(None)) -> NDArray[np.float64]:
        """Class-density base × the forest's correction, per cell."""
        base = self.base(m, rows)
        out = np.zeros(base.size)
        live = base > 0  # nobody where no inhabitable class is: no need to ask the forest
        out[live] = base[live] * np.exp(_predict(self.forest, m.X[rows][live]))
        return out


def _class_densities(m: _ModelInputs, train: NDArray[np.int64]) -> NDArray[np.float64]:
    """Persons per km² of each base class: non-negative least squares of the districts' totals on class areas."""
    from scipy.optimize import nnls

    nd = m.pop.size
    area = np.stack([np.bincount(m.g, weights=m.cls[:, k], minlength=nd) for k in range(m.cls.shape[1])],
                    axis=1) * m.cell_km2
    # relative errors: each district counts alike, whatever its size (the leave-one-out error is relative too)
    w = 1.0 / np.maximum(m.pop[train], 1.0)
    rho, _ = nnls(area[train] * w[:, None], m.pop[train] * w)
    floor = DENSITY_FLOOR_SHARE * m.pop[train].sum() / max(float(area[train].sum()), 1e-12)
    return np.maximum(rho, floor)


def _fit(m: _ModelInputs, train: NDArray[np.int64], *, seed: int, n_estimators: int) -> _Fit:
    """Class densities, then a forest of each district's log ratio of census total to class-density base."""
    classes = tuple(BASE_CLASSES) + (("buildings",) if m.cls.shape[1] > len(BASE_CLASSES) else ())
    nd = m.pop.size
    rho = _class_densities(m, train)
    base = m.cls @ rho * m.cell_km2
    bd = np.bincount(m.g, weights=base, minlength=nd)
    Xd = np.stack([np.bincount(m.g, weights=base * m.X[:, j], minlength=nd) / np.maximum(bd, 1e-12)
                   for j in range(m.X.shape[1])], axis=1)
    y = np.log(np.maximum(m.pop, 1.0) / np.maximum(bd, 1e-12))
    return _Fit(classes, rho, _forest(Xd[train], y[train], seed=seed, n_estimators=n_estimators))


def _choose(model: str, loo: dict[str, NDArray[np.float64]], pop: NDArray[np.float64],
            train: NDArray[np.int64]) -> str:
    """``forest`` or ``classes``: the model asked for, or (``auto``) the one with the lower leave-one-out error."""
    if model != "auto":
        return model
    err = {k: float(np.mean(np.abs(loo[k][train] - pop[train]) / pop[train])) for k in MODELS[1:]}
    return "forest" if err["forest"] <= err["classes"] else "classes"


def _leave_one_out(m: _ModelInputs, train: NDArray[np.int64], *, seed: int, n_estimators: int,
                   step: Progress) -> dict[str, NDArray[np.float64]]:
    """Each district's total predicted by the model fitted without it; and by its class densities alone,
    and by the other districts' mean density (areal weighting), for comparison."""
    nd = m.pop.size
    out = {k: np.full(nd, np.nan) for k in ("forest", "classes", "baseline")}
    order = np.argsort(m.g, kind="stable")
    bounds = np.searchsorted(m.g[order], np.arange(nd + 1))
    area = np.bincount(m.g, weights=m.cls.sum(axis=1), minlength=nd) * m.cell_km2
    for i, k in enumerate(train):
        rest = train[train != k]
        fit = _fit(m, rest, seed=seed, n_estimators=n_estimators)
        mine = order[bounds[k]:bounds[k + 1]]
        out["forest"][k] = float(fit.weight(m, mine).sum())
        out["classes"][k] = float(fit.base(m, mine).sum())
        out["baseline"][k] = float(m.pop[rest].sum() / area[rest].sum() * area[k])
        step(0.6 + 0.38 * (i + 1) / train.size, f"leave-one-out: {i + 1}/{train.size}")
    return out


def _district_table(dm: gpd.GeoDataFrame, pop: NDArray[Any], persons: NDArray[np.int64], g: NDArray[np.int64],
                    cells: NDArray[Any], area: NDArray[Any], loo: dict[str, NDArray[np.float64]]) -> pd.DataFrame:
    with np.errstate(divide="ignore", invalid="ignore"):
        out = pd.DataFrame({
            "XZQDM": dm["XZQDM"].astype(str).to_numpy(), "XZQMC": dm["XZQMC"].astype(str).to_numpy(),
            "census": np.round(pop).astype(np.int64),
            "grid_total": np.bincount(g, weights=persons, minlength=len(pop)).astype(np.int64),
            "cells": cells.astype(np.int64), "inhabitable_km2": np.round(area, 2),
            "density_km2": np.round(pop / area, 1),
        })
        for key in ("forest", "classes", "baseline"):
            out[f"loo_{key}"] = np.round(loo[key], 0)
            out[f"loo_{key}_error"] = (loo[key] - pop) / pop
    return out


def _summary(table: pd.DataFrame, *, grid: _Grid, names: list[str], n_train: int, n_estimators: int,
             uninhabited: tuple[str, ...], seed: int, buildings: bool, pois: bool, runtime_s: float) -> dict[str, Any]:
    out: dict[str, Any] = {
        "method": "dasymetric redistribution of district census totals: class densities (intelligent dasymetric "
                  "mapping; Mennis & Hultgren 2006) corrected by a random forest of log density (WorldPop; "
                  "Stevens et al. 2015)",
        "modelled": True, "cell_m": grid.cell_m, "crs": f"EPSG:{grid.crs.to_epsg()}" if grid.crs.to_epsg()
        else grid.crs.name, "height": grid.height, "width": grid.width,
        "districts": int(len(table)), "trained_on": n_train, "covariates": names, "trees": n_estimators,
        "uninhabited": list(uninhabited), "buildings": buildings, "pois": pois, "seed": seed,
        "totals_exact": bool((table["census"] == table["grid_total"]).all()),
        "population": int(table["grid_total"].sum()),
    }
    for key in ("forest", "classes", "baseline"):
        e = table[f"loo_{key}_error"].abs().dropna()
        out[f"loo_mape_{key}"] = float(e.mean()) if len(e) else None
        out[f"loo_median_ape_{key}"] = float(e.median()) if len(e) else None
    out["runtime_s"] = round(runtime_s, 2)
    return out


def _population_project(path: str | Path, out: str | Path | None) -> tuple[Path, ProjectFile]:
    """The checked project file of a population run (a ``[layers.population]`` table is optional with ``out``)."""
    from ._project_file import parse_project_file

    p = Path(path)
    cfg = io.read_toml(p, what="project file")
    layers = cfg.get("layers") if isinstance(cfg, dict) else None
    if out is not None and isinstance(layers, dict) and "population" not in layers:
        cfg = {**cfg, "layers": {**layers, "population": {"path": str(out)}}}  # not read: the grid to write
    if isinstance(layers, dict) and "landuse" not in layers:
        raise ConfigError(f"project file {p} has no [layers.landuse]. Fix: add your 地类图斑 layer (DLBM codes) "
                          "with path = \"...\" (docs/population.md)")
    return p, parse_project_file(cfg, where=f"project file {p}")


def population_output(path: str | Path, *, out: str | Path | None = None, overwrite: bool = False) -> Path:
    """Where ``geoplan population`` writes for project file ``path``: ``out``, else its population layer's path.

    Checked before any work: never over one of the project's inputs (its districts,
    land use ...), and over an existing file only with ``overwrite``.

    Raises
    ------
    ConfigError
        A project file without ``[layers.landuse]`` (or with other problems).
    WriteError
        A destination the write path refuses (:func:`geoplan.io.check_output`).
    """
    p, pf = _population_project(path, out)
    target = Path(out) if out is not None else (p.parent / pf.population.path).resolve()
    protect = set(io.input_family(p))
    for key, table in pf.layer_tables().items():
        if key != "population":
            protect |= io.input_family(p.parent / table.path)
    return io.check_output(target, layer="population", overwrite=overwrite, protect=protect)


def model_project_population(path: str | Path, *, out: str | Path | None = None, cell_m: float = 100.0,
                             n_estimators: int = RF_DEFAULTS["n_estimators"], seed: int = 0,
                             uninhabited: tuple[str, ...] = UNINHABITED, fine_m: float = 25.0,
                             model: str = "auto", overwrite: bool = False,
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
    from ._validate import raise_if
    from .project import read_layers

    target = population_output(path, out=out, overwrite=overwrite)
    p, pf = _population_project(path, out)
    layers, _, problems = read_layers(pf, p.parent, keys=("districts", "landuse", "buildings", "pois"))
    raise_if(problems)
    d = layers["districts"]
    if "POP" not in d.columns:
        raise ValidationError(Problem("districts", "POP", "no census total per district",
                                      "add the census resident population of each district (map your column with "
                                      "[layers.districts.fields] POP = \"...\")"))
    metric = pf.project.metric_crs or f"EPSG:{gk_epsg(d.geometry.representative_point().x)}"
    result = model_population(d, layers["landuse"], population=d["POP"].to_numpy(dtype=float), metric_crs=metric,
                              cell_m=cell_m, buildings=layers.get("buildings"), pois=layers.get("pois"),
                              uninhabited=uninhabited, n_estimators=n_estimators, fine_m=fine_m, seed=seed,
                              model=model, progress=progress)
    s = result.summary
    tags = {"MODELLED": "1", "UNITS": f"persons per {cell_m:g} m cell",
            "METHOD": f"{s['method']}; weights: {s['model']} ({s['model_choice']})",
            "SOURCE": f"geoplan population on {p.name}: landuse" + (" + buildings" if s["buildings"] else "")
            + (" + pois" if s["pois"] else ""),
            "LOO_MAPE_FOREST": f"{s['loo_mape_forest']:.4f}" if s["loo_mape_forest"] is not None else "",
            "LOO_MAPE_CLASSES": f"{s['loo_mape_classes']:.4f}" if s["loo_mape_classes"] is not None else "",
            "LOO_MAPE_BASELINE": f"{s['loo_mape_baseline']:.4f}" if s["loo_mape_baseline"] is not None else ""}
    io.write_raster(result.raster, target, dtype="float32", tags=tags, overwrite=overwrite,
                    protect=io.input_family(p))
    return result, target
