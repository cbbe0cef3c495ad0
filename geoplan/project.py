"""A planning project: the layers of one city or province, validated and projected.

A project is described by a TOML file (``geoplan.toml``) that points at the
planner's district layer, population raster and site layers. The embedded
Xiamen project (``data/gis/geoplan.toml``) is the default::

    [project]
    name = "My city"
    targets = "targets.toml"   # the plan's targets, a file of yours (docs/targets.md) ...
    # plan = "fujian"          # ... or a plan shipped with geoplan (geoplan/targets/<plan>.toml)
    # plan_scaling = "population"  # a parent area's plan: scale its counts by population share
    xzqdm = "350100"           # optional: the area's GB/T 2260 code (default: from the district codes)
    scope = "福州市"            # optional: the area's name (default: the plan's, or the project name)
    metric_crs = "EPSG:4549"   # optional: chosen from the data when absent

    [population_stats]         # optional: city totals; the population basis of targets
    census_year = 2020
    census_total = 8291268
    yearend = { "2021" = 8420000 }
    projection = { "2025" = 8600000 }   # a projection of yours (city total, or a table per district)
    basis = "yearend"          # census | yearend | projection (see geoplan.targets.population_basis)

    [layers.districts]
    path = "districts.shp"
    encoding = "GBK"           # optional, shapefiles and CSV without a BOM
    crs = "GCJ-02"             # optional: declare coordinates that are GCJ-02/BD-09 or lack a CRS
    fields = { XZQDM = "code", XZQMC = "name", POP = "pop2020" }

    [layers.population]
    path = "worldpop_2020.tif"

    [layers.sites]
    path = "sites.csv"         # CSV or XLSX point tables too: lon/lat or x/y columns
    x = "经度"                  # optional: the coordinate columns (found by name when absent)
    y = "纬度"
    crs = "GCJ-02"
    fields = { SITE_TYPE = "类型" }
    values = { SITE_TYPE = { "宏站" = "macro", "微站" = "micro", "室分" = "indoor" } }

    [radio.traffic]            # optional: override any radio parameter (geoplan/radio_params.toml)
    dou_gb_per_month = 20.0

Paths are relative to the project file. The file is checked against its
schema (:mod:`geoplan._project_file`) before any layer is read; every layer is
then guarded (:mod:`geoplan._guards`), validated against its spec and checked
for plausibility (:mod:`geoplan._plausible`), each problem reported with its
layer, field and fix. The ``[radio]`` table is merged into the shipped radio
parameters (:func:`geoplan.radio_params.load_params`); every coverage and
capacity figure of the project uses them (:attr:`Project.radio_params`).

Candidate inventories, constraint layers and edge-site inventories come in
tables of their own (any number of each; see :mod:`geoplan.siting.inputs`)::

    [inventories.towers]
    path = "towers.csv"
    kind = "social_tower"
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

from . import _detect, _plausible, io
from ._project_file import VECTOR_LAYERS, ProjectFile, VectorLayer, parse_project_file
from ._validate import raise_if, validate_raster, validate_vector
from .crs import GEOGRAPHIC_EPSG, WEB_OFFSETS, gk_epsg, to_wgs84
from .errors import ConfigError, CRSError, Problem, ValidationError
from .io import Raster
from .layers import layer_spec
from .population import Demand, demand_points, district_grid, zonal_sums
from .radio_params import RadioParams, default_params, load_params
from .siting.inputs import LayerConfig, SitingInputs, SitingLayer, finish_layer, parse_siting_tables
from .targets.plans import Plan, load_plan, read_targets_file
from .targets.scope import SCALING, area_of_codes

__all__ = ["Project", "load_project", "project_from_layers", "prepare_layer", "map_values", "read_layers",
           "siting_layer", "KNOWN_LAYERS"]

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())

#: Vector layers a project may name besides districts and population (``landuse``, ``buildings`` and ``pois``
#: feed ``geoplan population``).
KNOWN_LAYERS = VECTOR_LAYERS[1:]


@dataclass(frozen=True)
class Project:
    """The validated layers of one planning area.

    Vector layers are held in CGCS2000 geographic coordinates (EPSG:4490) with
    canonical field names; algorithms use the ``*_metric`` views in
    :attr:`metric_crs`.
    """

    name: str
    plan: str
    districts: gpd.GeoDataFrame
    population: Raster
    metric_crs: CRS
    layers: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    population_stats: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, dict[str, Any]] = field(default_factory=dict)
    source: Path | None = None
    radio_params: RadioParams = field(default_factory=default_params)
    targets: Plan | None = None
    area_code: str | None = None
    area_name: str = ""
    plan_scaling: str = "none"
    #: ``[app] tiles``: a local MBTiles / PMTiles file, the map app's default base map (absolute path).
    base_tiles: Path | None = None
    siting: SitingInputs = field(default_factory=SitingInputs)

    def __hash__(self) -> int:  # identity: projects are not compared by content
        return id(self)

    def __eq__(self, other: object) -> bool:
        return self is other

    def layer(self, key: str) -> gpd.GeoDataFrame | None:
        """Vector layer ``key`` (EPSG:4490), or ``None`` when the project has none."""
        return self.layers.get(key)

    def metric(self, key: str) -> gpd.GeoDataFrame:
        """Vector layer ``key`` (or ``"districts"``) in the metric CRS."""
        return self._metric(key)

    @functools.cache  # noqa: B019 - a project is immutable and lives as long as its caches
    def _metric(self, key: str) -> gpd.GeoDataFrame:
        gdf = self.districts if key == "districts" else self.layers.get(key)
        if gdf is None:
            raise ConfigError(f"the project has no '{key}' layer. Fix: add [layers.{key}] to the project file")
        return gdf.to_crs(self.metric_crs)

    @functools.cached_property
    def grid(self) -> np.ndarray:
        """District index of each population cell (-1 outside)."""
        return district_grid(self.population, self.districts)

    @functools.cached_property
    def raster_population(self) -> np.ndarray:
        """Population of each district summed from the raster (persons)."""
        return zonal_sums(self.population, self.districts, grid=self.grid)

    @functools.cached_property
    def district_population(self) -> np.ndarray:
        """Resident population of each district: the POP field where given, else the raster sums.

        Districts without statistics (:attr:`no_statistics`) count 0.
        """
        nostats = self.no_statistics
        if "POP" in self.districts.columns and (self.districts["POP"].notna().to_numpy() | nostats).all():
            return np.where(nostats, 0.0, self.districts["POP"].to_numpy(dtype=float))
        return np.where(nostats, 0.0, self.raster_population)

    @functools.cached_property
    def no_statistics(self) -> np.ndarray:
        """Districts flagged ``NO_STATS = 1``: no population statistics (e.g. 金门县), left out of targets and totals."""
        if "NO_STATS" not in self.districts.columns:
            return np.zeros(len(self.districts), dtype=bool)
        return pd.to_numeric(self.districts["NO_STATS"], errors="coerce").fillna(0).to_numpy() == 1

    @functools.cached_property
    def demand(self) -> Demand:
        """Populated cells as demand points in the metric CRS."""
        return demand_points(self.population, self.districts, metric_crs=self.metric_crs, grid=self.grid)

    def district_of(self, key: str) -> np.ndarray:
        """District index (-1 outside all) of each feature of point layer ``key``."""
        return self._district_of(key).copy()

    @functools.cache  # noqa: B019 - a project is immutable and lives as long as its caches
    def _district_of(self, key: str) -> np.ndarray:
        return points_in_districts(self.metric(key), self.metric("districts"))

    @property
    def district_codes(self) -> list[str]:
        """XZQDM of each district, in order."""
        return self.districts["XZQDM"].astype(str).tolist()

    @property
    def district_names(self) -> list[str]:
        """XZQMC of each district, in order."""
        return self.districts["XZQMC"].astype(str).tolist()

    def is_modelled(self, key: str) -> bool:
        """Whether layer ``key`` is modelled (synthetic) rather than observed data."""
        return bool(self.provenance.get(key, {}).get("modelled", False))

    @property
    def basis(self) -> str:
        """The population basis of the targets the project file states (``census`` by default)."""
        return str(self.population_stats.get("basis", "census"))

    @functools.cached_property
    def input_files(self) -> frozenset[Path]:
        """Every file the project reads: its project file, each layer and the layer's sidecars (resolved).

        Outputs never write over these (pass them as ``protect`` to the writers of :mod:`geoplan.io`).
        """
        paths: set[Path] = set()
        if self.source is not None:
            paths |= io.input_family(self.source)
        for prov in self.provenance.values():
            if prov.get("path"):
                paths |= io.input_family(prov["path"])
        return frozenset(paths)


def points_in_districts(points: gpd.GeoDataFrame, districts: gpd.GeoDataFrame) -> np.ndarray:
    """Index of the district holding each point (-1 when outside all); both in one CRS."""
    if len(points) == 0:
        return np.zeros(0, dtype=np.int64)
    pt_idx, dist_idx = districts.sindex.query(points.geometry.to_numpy(), predicate="within")
    out = np.full(len(points), -1, dtype=np.int64)
    if len(pt_idx) == 0:
        return out
    # a point on a shared border goes to the first district, deterministically
    order = np.lexsort((dist_idx, pt_idx))
    pt, dist = pt_idx[order], dist_idx[order]
    first = np.r_[True, pt[1:] != pt[:-1]]
    out[pt[first]] = dist[first]
    return out


def prepare_layer(gdf: gpd.GeoDataFrame, key: str, *, declared_crs: str | None = None,
                  field_map: dict[str, str] | None = None, name: str | None = None,
                  reference: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """Validate a vector layer against its spec and bring it to EPSG:4490.

    ``declared_crs`` is what the planner says the coordinates are: ``"GCJ-02"`` or
    ``"BD-09"`` (converted to WGS84/CGCS2000 with geoplan's own inverse), or an
    EPSG code for a layer that has no CRS or a wrong one.

    Swapped latitude/longitude are swapped back and Gauss-Krüger layers labelled
    with the wrong zone-prefix convention relabelled (both with a warning; see
    :mod:`geoplan._detect`). With a ``reference`` layer (the districts), a layer
    that looks GCJ-02/BD-09-shifted against it, and was not declared so, is
    warned about.
    """
    label = name or key
    gdf = _detect.fix_swapped_axes(gdf, label=label)
    web_offset = False
    if isinstance(declared_crs, int) and not isinstance(declared_crs, bool):
        declared_crs = f"EPSG:{declared_crs}"
    if declared_crs:
        decl = str(declared_crs).upper().replace("_", "-")
        decl = {"GCJ02": "GCJ-02", "BD09": "BD-09"}.get(decl, decl)
        if decl in WEB_OFFSETS:
            if gdf.crs is not None and not CRS.from_user_input(gdf.crs).is_geographic:
                raise CRSError(Problem(label, "CRS", f"declared {decl} but the file is in projected {gdf.crs}",
                                       f"{decl} coordinates are longitude/latitude; remove the crs declaration"))
            gdf = _convert_offset(gdf, decl).set_crs(GEOGRAPHIC_EPSG, allow_override=True)
            web_offset = True
            log.info("layer %s: converted %s coordinates to CGCS2000 (EPSG:4490)", label, decl)
        else:
            try:
                crs = CRS.from_user_input(declared_crs)
            except Exception as exc:
                raise CRSError(Problem(label, "CRS", f"declared crs {declared_crs!r} is not a CRS PROJ knows",
                                       "use an EPSG code like \"EPSG:4548\", or \"GCJ-02\" / \"BD-09\"")) from exc
            if gdf.crs is not None and CRS.from_user_input(gdf.crs) != crs:
                log.warning("layer %s: file says %s, project file declares %s; using the declaration",
                            label, gdf.crs, crs)
            gdf = gdf.set_crs(crs, allow_override=True)
    gdf = _detect.fix_gk_prefix(gdf, label=label)
    try:
        gdf = validate_vector(gdf, layer_spec(key), name=label, field_map=field_map)
    except ValidationError as exc:
        raise _detect.with_crs_hint(exc, gdf) from None
    if _detect.degrees_in_projected(gdf):
        raise CRSError(Problem(label, "CRS", f"the layer says projected {CRS.from_user_input(gdf.crs).name} but its "
                               f"coordinates ({', '.join(f'{b:.3f}' for b in gdf.total_bounds)}) are degrees",
                               'declare crs = "EPSG:4490" for it (or "GCJ-02" / "BD-09" for web-map data)'))
    crs = CRS.from_user_input(gdf.crs)
    if not crs.is_geographic and not crs.is_projected:
        raise CRSError(Problem(label, "CRS", f"{crs.name} is neither geographic nor projected",
                               "re-project the layer to EPSG:4490 or a CGCS2000 Gauss-Krüger zone"))
    out = gdf.to_crs(GEOGRAPHIC_EPSG)
    _check_lonlat(out, label)
    raise_if(_plausible.layer_problems(out, key, label=label))
    if reference is not None and not web_offset:
        _detect.warn_if_shifted(out, reference, label=label)
    return out.reset_index(drop=True)


def _convert_offset(gdf: gpd.GeoDataFrame, offset: str) -> gpd.GeoDataFrame:
    import shapely

    def fn(coords: np.ndarray) -> np.ndarray:
        lon, lat = to_wgs84(coords[:, 0], coords[:, 1], offset=offset)
        return np.column_stack([lon, lat])

    out = gdf.copy()
    out.geometry = shapely.transform(gdf.geometry.to_numpy(), fn)
    return out


def _check_lonlat(gdf: gpd.GeoDataFrame, label: str) -> None:
    left, bottom, right, top = gdf.total_bounds
    if not (-180 <= left <= 180 and -90 <= bottom <= 90 and -180 <= right <= 180 and -90 <= top <= 90) \
            or not np.isfinite([left, bottom, right, top]).all():
        raise CRSError(Problem(label, "CRS", f"coordinates fall outside the globe after re-projection "
                               f"(bounds {left:.3f}, {bottom:.3f}, {right:.3f}, {top:.3f})",
                               "the layer's declared CRS is wrong: declare the real one with crs = ... "
                               "(a Gauss-Krüger layer with the zone prefix is EPSG:4527, without it EPSG:4548)"))


def project_from_layers(*, districts: gpd.GeoDataFrame, population: Raster, plan: str | Plan | None = None,
                        name: str = "project", layers: dict[str, gpd.GeoDataFrame] | None = None,
                        metric_crs: str | int | CRS | None = None,
                        population_stats: dict[str, Any] | None = None,
                        provenance: dict[str, dict[str, Any]] | None = None,
                        source: Path | None = None, area_code: str | None = None, area_name: str | None = None,
                        plan_scaling: str = "none", radio: RadioParams | dict[str, Any] | None = None,
                        siting: SitingInputs | None = None) -> Project:
    """Build a :class:`Project` from in-memory layers (validated, in EPSG:4490).

    Vector layers that are not yet prepared are validated with :func:`prepare_layer`.

    Parameters
    ----------
    plan : str or Plan, optional
        The targets: a shipped plan's key, or a :class:`~geoplan.targets.Plan`
        (e.g. from :func:`~geoplan.targets.read_targets_file`). ``None``: the
        project states no targets (checks and placement by year ask for some).
    area_code, area_name : str, optional
        The project's area (GB/T 2260 code and name); by default the area the
        district codes share, named after the plan when it is the plan's own area.
    plan_scaling : {"none", "population"}
        What to do with a parent area's absolute counts (see :mod:`geoplan.targets.scope`).
    radio : RadioParams or dict, optional
        Radio parameters, or the overrides of a project file's ``[radio]`` table
        (the shipped defaults when ``None``).
    siting : SitingInputs, optional
        Candidate inventories, constraint layers and edge-site inventories
        (:func:`siting_layer` prepares one from a GeoDataFrame).
    """
    params = radio if isinstance(radio, RadioParams) else load_params(radio) if radio else default_params()
    districts = prepare_layer(districts, "districts")
    validate_raster(population)
    others: dict[str, gpd.GeoDataFrame] = {}
    problems: list[Problem] = []
    for k, v in (layers or {}).items():
        try:
            others[k] = prepare_layer(v, k, reference=districts)
        except ValidationError as exc:
            problems.extend(exc.problems)
    raise_if(problems)
    return _assemble(districts=districts, population=population, plan=plan, name=name, layers=others,
                     metric_crs=metric_crs, population_stats=population_stats, provenance=provenance, source=source,
                     area_code=area_code, area_name=area_name, plan_scaling=plan_scaling, params=params,
                     siting=siting)


def _assemble(*, districts: gpd.GeoDataFrame, population: Raster, plan: str | Plan | None, name: str,
              layers: dict[str, gpd.GeoDataFrame], metric_crs: str | int | CRS | None,
              population_stats: dict[str, Any] | None, provenance: dict[str, dict[str, Any]] | None,
              source: Path | None, area_code: str | None = None, area_name: str | None = None,
              plan_scaling: str = "none", params: RadioParams | None = None, base_tiles: Path | None = None,
              siting: SitingInputs | None = None) -> Project:
    """A :class:`Project` of prepared layers, checked across layers (:func:`geoplan._plausible.project_problems`)."""
    metric = _metric_crs(metric_crs, districts)
    if plan_scaling not in SCALING:
        raise ConfigError(f"plan_scaling {plan_scaling!r} is unknown. Fix: use one of {', '.join(SCALING)}")
    targets = load_plan(plan) if isinstance(plan, str) else plan
    code = area_code or area_of_codes(districts["XZQDM"].astype(str).tolist())
    scope = area_name or (targets.scope if targets is not None and code == targets.xzqdm else name)
    proj = Project(name=name, plan=targets.key if targets is not None else "", districts=districts,
                   population=population, metric_crs=metric, layers=layers,
                   population_stats=dict(population_stats or {}), provenance=dict(provenance or {}), source=source,
                   targets=targets, area_code=code, area_name=scope, plan_scaling=plan_scaling,
                   radio_params=params if params is not None else default_params(),
                   base_tiles=base_tiles, siting=siting or SitingInputs())
    _ = proj.raster_population  # fail now, at the boundary, when the raster misses the districts
    raise_if(_plausible.project_problems(proj))
    return proj


def _metric_crs(metric_crs: str | int | CRS | None, districts: gpd.GeoDataFrame) -> CRS:
    if metric_crs is None:
        cen = districts.geometry.union_all().centroid
        return CRS.from_epsg(gk_epsg([cen.x]))
    try:
        metric = CRS.from_user_input(metric_crs)
    except Exception:  # pyproj.exceptions.CRSError and PROJ's own errors
        raise CRSError(Problem("[project]", "metric_crs", f"{metric_crs!r} is not a CRS PROJ knows",
                               'use a CGCS2000 Gauss-Krüger zone such as "EPSG:4548", or leave it out')) from None
    if not metric.is_projected:
        raise CRSError(Problem("[project]", "metric_crs", f"{metric.name} is not projected",
                               "use a CGCS2000 Gauss-Krüger zone such as EPSG:4548"))
    return metric


def map_values(gdf: gpd.GeoDataFrame, key: str, *, values: dict[str, dict[str, Any]] | None = None,
               field_map: dict[str, str] | None = None, name: str | None = None) -> gpd.GeoDataFrame:
    """Translate a layer's coded values to geoplan's: the spec's synonyms, then the project file's own map.

    The layer spec lists the usual Chinese words (``宏站`` → ``macro``, ``现状`` →
    ``existing`` ...); ``values`` (``[layers.<key>.values]`` in the project file)
    maps anything else, e.g. operator names to codes. Values found in neither are
    left as they are, for the validation to report.

    Examples
    --------
    >>> import geopandas as gpd
    >>> g = gpd.GeoDataFrame({"类型": ["宏站", "皮站", "室分"]}, geometry=gpd.points_from_xy([0, 1, 2], [0, 0, 0]))
    >>> map_values(g, "sites", values={"SITE_TYPE": {"皮站": "micro"}},
    ...            field_map={"SITE_TYPE": "类型"})["类型"].tolist()
    ['macro', 'micro', 'indoor']
    """
    label = name or key
    spec = layer_spec(key)
    fmap = dict(field_map or {})
    known = {f.name for f in spec.fields}
    where = f"[{label}]" if "." in label else f"[layers.{key}]"
    problems = [Problem(label, canon, f"{where} values maps values of {canon!r}, which {key} has no field of",
                        f"map values of one of {', '.join(sorted(known))}") for canon in (values or {})
                if canon not in known]
    for canon, table in (values or {}).items():
        if canon in known and not isinstance(table, dict):
            problems.append(Problem(label, canon, f"{where} values: {canon} is not a table",
                                    f'write {canon} = {{ "your value" = "geoplan value" }}'))
    raise_if(problems)
    out = gdf
    for f in spec.fields:
        col = fmap.get(f.name, f.name)
        table = {**(f.synonyms or {}), **{str(k).strip(): v for k, v in (values or {}).get(f.name, {}).items()}}
        if col not in gdf.columns or not table:
            continue
        if out is gdf:
            out = gdf.copy()
        out[col] = [table.get(str(v).strip(), v) if isinstance(v, str) or (v == v and v is not None) else v
                    for v in gdf[col].tolist()]
    return out


def _targets(pf: ProjectFile, root: Path) -> Plan | None:
    if pf.project.targets is not None:
        return read_targets_file((root / pf.project.targets).resolve())
    if pf.project.plan is not None:
        return load_plan(pf.project.plan.lower())
    return None


def _read_raw(fpath: Path, key: str, lc: VectorLayer | LayerConfig, *, name: str | None = None,
              limits: io.Limits | None) -> tuple[gpd.GeoDataFrame, str | None]:
    """Read a vector layer (a GIS file or a CSV/XLSX point table), values mapped; and the CRS to declare.

    ``key`` is the layer spec, ``name`` how messages name the layer (``key`` by default).
    """
    label = name or key
    declared = lc.crs
    if io.is_point_table(fpath):
        raw = io.read_point_table(fpath, layer=label, x=lc.x, y=lc.y, sheet=lc.layer, encoding=lc.encoding,
                                  limits=limits)
        if declared is None and raw.attrs.get("lonlat"):
            log.info("layer %s: columns %s are longitude/latitude; taken as CGCS2000 (EPSG:4490) since the "
                     "project file declares no crs", label, "/".join(raw.attrs["xy_columns"]))
            declared = f"EPSG:{GEOGRAPHIC_EPSG}"
    else:
        raw = io.read_vector(fpath, layer=label, sublayer=lc.layer, encoding=lc.encoding, limits=limits)
    raw = map_values(raw, key, values={k: dict(v) for k, v in lc.values.items()}, field_map=dict(lc.fields),
                     name=label)
    return raw, declared


def _read_layer(fpath: Path, key: str, lc: VectorLayer, *, reference: gpd.GeoDataFrame | None,
                limits: io.Limits) -> gpd.GeoDataFrame:
    """One vector layer of a project file: read, values mapped, prepared."""
    raw, declared = _read_raw(fpath, key, lc, limits=limits)
    return prepare_layer(raw, key, declared_crs=declared, field_map=dict(lc.fields), reference=reference)


def read_layers(pf: ProjectFile, root: Path, *, keys: tuple[str, ...] | None = None,
                limits: io.Limits | None = None
                ) -> tuple[dict[str, gpd.GeoDataFrame], dict[str, dict[str, Any]], list[Problem]]:
    """Read and prepare the vector layers a checked project file names (``keys`` only, when given).

    Returns the layers (EPSG:4490, canonical fields), their provenance (path,
    modelled, note) and every layer's problems, for the caller to report together.
    """
    lim = limits or io.current_limits(pf.limits_set())
    problems: list[Problem] = []
    vectors: dict[str, gpd.GeoDataFrame] = {}
    provenance: dict[str, dict[str, Any]] = {}
    for key, lc in pf.layer_tables().items():  # districts first: the reference of the others
        fpath = (root / lc.path).resolve()
        provenance[key] = {"path": str(fpath), "modelled": lc.modelled, "note": lc.note}
        if not isinstance(lc, VectorLayer) or (keys is not None and key not in keys):
            continue
        try:
            vectors[key] = _read_layer(fpath, key, lc, reference=vectors.get("districts"), limits=lim)
        except ValidationError as exc:
            problems.extend(exc.problems)
    return vectors, provenance, problems


def load_project(path: str | Path | None = None) -> Project:
    """Load and validate a project file; the embedded Xiamen project by default.

    The file is checked against its schema first (a :class:`ConfigError` listing
    every problem; the targets file it names too); then every layer is read,
    checked and converted before anything is computed, and all the problems
    found are reported together in one :class:`ValidationError`.

    Examples
    --------
    >>> proj = load_project()
    >>> proj.plan, proj.metric_crs.to_epsg(), len(proj.districts), proj.area_code, proj.basis
    ('xiamen', 4548, 6, '350200', 'yearend')
    """
    p = Path(path) if path is not None else io.default_project_path()
    cfg = io.read_toml(p, what="project file")
    pf = parse_project_file(cfg, where=f"project file {p}")
    limits = io.current_limits(pf.limits_set())
    root = p.parent
    targets = _targets(pf, root)
    vectors, provenance, problems = read_layers(pf, root, limits=limits)
    pc = pf.population
    raster = io.read_raster((root / pc.path).resolve(), layer="population", band=pc.band, limits=limits)
    if pc.crs:
        try:
            crs = CRS.from_user_input(pc.crs)
        except Exception:  # pyproj.exceptions.CRSError
            raise CRSError(Problem("population", "CRS", f"declared crs {pc.crs!r} is not a CRS PROJ knows",
                                   'use an EPSG code like "EPSG:4548"')) from None
        if raster.crs is not None and raster.crs != crs:
            log.warning("layer population: file says %s, project file declares %s; using the declaration",
                        raster.crs.name, crs.name)
        raster = Raster(raster.values, raster.transform, crs, raster.nodata, raster.name)
    try:
        validate_raster(raster)
    except ValidationError as exc:
        problems.extend(exc.problems)
    siting = _read_siting(cfg, root, where=f"project file {p}", reference=vectors.get("districts"),
                          problems=problems, provenance=provenance, limits=limits)
    raise_if(problems)  # a CRSError when every problem is about CRS
    if "districts" not in vectors:  # pragma: no cover - the schema requires it
        raise ConfigError(f"project file {p} has no [layers.districts]. Fix: add it with path = \"...\"")
    districts = vectors.pop("districts")
    return _assemble(districts=districts, population=raster, plan=targets, name=pf.project.name or p.stem,
                     layers=vectors, metric_crs=pf.project.metric_crs, population_stats=pf.stats_dict(),
                     provenance=provenance, source=p, area_code=pf.project.xzqdm, area_name=pf.project.scope,
                     plan_scaling=pf.project.plan_scaling, siting=siting,
                     params=load_params(pf.radio) if pf.radio else None,
                     base_tiles=(root / pf.app.tiles).resolve() if pf.app.tiles else None)


def siting_layer(gdf: gpd.GeoDataFrame, cfg: LayerConfig, *, reference: gpd.GeoDataFrame | None = None,
                 inputs: SitingInputs | None = None) -> SitingLayer:
    """Validate one inventory, constraint or edge-site layer (``cfg.group``) and fill its KIND.

    Raises
    ------
    ValidationError
        Every problem of the layer, named ``group.name`` (e.g. ``inventories.towers``).
    """
    out = prepare_layer(gdf, cfg.spec, declared_crs=cfg.crs, field_map=cfg.fields, name=cfg.label,
                        reference=reference)
    out, problems = finish_layer(out, cfg, (inputs or SitingInputs()).params)
    raise_if(problems)
    return SitingLayer(cfg, out)


def _read_siting(cfg: dict[str, Any], root: Path, *, where: str, reference: gpd.GeoDataFrame | None,
                 problems: list[Problem], provenance: dict[str, dict[str, Any]],
                 limits: io.Limits | None = None) -> SitingInputs:
    """Read the project's siting layers (GIS files or CSV/XLSX point tables, values mapped); problems join ``problems``."""
    configs, overrides = parse_siting_tables(cfg, where=where)
    empty = SitingInputs(overrides=overrides)
    layers: list[SitingLayer] = []
    for c in configs:
        fpath = (root / c.path).resolve()
        provenance[c.label] = {"path": str(fpath), "modelled": c.modelled, "note": c.note}
        try:
            raw, declared = _read_raw(fpath, c.spec, c, name=c.label, limits=limits)
            c = dataclasses.replace(c, crs=declared)
            # the shift check compares points with the district outlines: points only
            layers.append(siting_layer(raw, c, reference=reference if c.group != "constraints" else None,
                                       inputs=empty))
        except ValidationError as exc:
            problems.extend(exc.problems)
    return SitingInputs(layers=tuple(layers), overrides=overrides)


def district_table(proj: Project) -> pd.DataFrame:
    """Districts' codes, names and population as a plain table."""
    return pd.DataFrame({"XZQDM": proj.district_codes, "XZQMC": proj.district_names,
                         "population": proj.district_population})
