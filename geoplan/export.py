"""Export a project's layers for the spatial-planning "one map" (国土空间规划"一张图") and GIS users.

Every layer is written with one-map identity and attributes:

* the layer name and alias of its spec (``layers/<key>.toml``: ``onemap_name``
  such as ``JZ5GGH``, ``onemap_alias`` such as ``5G基站（规划）``);
* the one-map fields first — ``BSM`` (标识码, unique across the delivery),
  ``YSDM`` (要素代码, from the spec), ``XZQDM`` / ``XZQMC`` (the district each
  feature lies in) — then the spec's own fields, the density-check results of
  the districts, and any further columns;
* Chinese field aliases where the format holds them (GeoPackage
  ``gpkg_data_columns``, FileGDB field aliases), and a ``<LAYER>.fields.csv``
  beside shapefiles and GeoJSON mapping short name → full name → alias → domain;
* coded values (site type, status, operator ...) with Chinese labels: coded-value
  domains in FileGDB, enum constraints in GeoPackage, a label field beside the
  code in shapefiles and GeoJSON (:mod:`geoplan.onemap`);
* polygons with their ellipsoidal area (``JSMJ``, m² on the CGCS2000 ellipsoid);
* coordinates in CGCS2000: EPSG:4490 by default, or a 3-degree Gauss-Krüger zone
  (EPSG:4548, 4527 with zone prefix, ... or ``"auto-gk"``: chosen from the data);
* how each layer was made (source by relative name, modelled or not, method,
  parameters, geoplan version, date, CRS) in a ``geoplan_metadata`` table
  (GeoPackage, FileGDB) or a ``geoplan_metadata.json`` sidecar (shapefile,
  GeoJSON), and an XML metadata sidecar (:mod:`geoplan.metadata`).

Layer names, element codes, field names and domain labels follow a bureau's
mapping file when one is given (:func:`geoplan.onemap.load_mapping`). A
coverage raster (:class:`~geoplan.io.Raster` under the key ``"coverage"``) is
written as a GeoTIFF beside the vector output and, in a GeoPackage, also inside
it as a tiled raster. Attribute tables (``density``, ``conflicts``) are tables in
GeoPackage / FileGDB and CSV files (UTF-8 with BOM) beside shapefiles and
GeoJSON. Writes are atomic: on any failure no output is left behind.

Examples
--------
>>> import geoplan as gp, tempfile, pathlib
>>> proj = gp.load_project()
>>> with tempfile.TemporaryDirectory() as d:
...     rep = write({"districts": proj.districts}, pathlib.Path(d) / "xiamen.gpkg", crs="auto-gk")
>>> rep.crs, [(ly.name, ly.alias, ly.features) for ly in rep.layers], rep.layer("districts").aliases["BSM"]
('EPSG:4548', [('XZQ', '行政区', 6)], '标识码')
"""

from __future__ import annotations

import csv
import dataclasses
import io as _stdio
import json
import logging
import os
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from affine import Affine
from pyproj import CRS, Transformer

from . import io
from ._detect import gk_zone
from ._validate import validate_vector
from .crs import GEOGRAPHIC_EPSG, gk_epsg
from .errors import ConfigError, CRSError, Problem, ValidationError
from .io import FieldDomain, OutLayer, Raster
from .layers import FieldSpec, LayerSpec, layer_spec
from .metadata import metadata_json, metadata_table, metadata_xml, relative_source, relative_text
from .onemap import AREA_FIELD, ONEMAP_FIELDS, CodedDomain, LayerNames, OneMap, default_onemap, load_mapping
from .planfile import PlanFile, with_build_year
from .project import Project, points_in_districts

__all__ = [
    "FORMATS",
    "ENCODINGS",
    "ONEMAP_FIELDS",
    "RESULT_FIELDS",
    "SCHEMA",
    "LayerReport",
    "ExportReport",
    "write",
    "export_project",
    "export_files",
    "resolve_crs",
    "infer_format",
    "check_destination",
    "shapefile_names",
    "ellipsoidal_area_m2",
    "project_mapping",
]

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())

#: Identifier of :meth:`ExportReport.to_dict`'s layout and of the metadata sidecar.
SCHEMA = "geoplan.export/1"
#: Output formats.
FORMATS: tuple[str, ...] = tuple(io.FORMAT_DRIVERS)
#: Shapefile attribute encodings offered (written to each ``.cpg``).
ENCODINGS: tuple[str, ...] = ("UTF-8", "GBK", "GB18030")

#: Density-check results joined to the districts by :func:`export_project`.
RESULT_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("STATIONS", "int", False, "5G基站数", "Existing 5G stations in the district (plus planned ones)"),
    FieldSpec("PLANNED", "int", False, "规划新增5G基站数", "Planned new stations in the district"),
    FieldSpec("PER_10K", "float", False, "每万人5G基站数", "Stations per 10,000 residents"),
    FieldSpec("TARGET", "float", False, "目标每万人5G基站数", "The plan's target, stations per 10,000 residents"),
    FieldSpec("REQUIRED", "int", False, "达标所需基站数", "Stations the target requires: ceil(TARGET x POP / 10,000)"),
    FieldSpec("SHORTFALL", "int", False, "基站缺口", "Stations still to build: max(0, REQUIRED - STATIONS)"),
)
_ONEMAP_NAMES = tuple(f.name for f in ONEMAP_FIELDS)
_RESULTS = {f.name: f for f in RESULT_FIELDS}
#: Export order of layers; others follow in the order given.
_ORDER = ("districts", "sites", "planned_sites", "candidates", "edge_demand", "edge_dc", "car_parks",
          "charging_stations", "density", "conflicts")
_META_TABLE = "geoplan_metadata"
_SHP_MAX_BYTES = 254
_RESERVED = {"gpkg": {"fid", "geom", "geometry"}, "gdb": {"objectid", "shape", "shape_length", "shape_area", "fid"},
             "shp": set(), "geojson": {"id"}}


@dataclass(frozen=True)
class LayerReport:
    """One exported layer.

    Attributes
    ----------
    key : str
        geoplan's layer key (``districts``, ``sites``, ``planned_sites`` ...).
    name, alias : str
        One-map layer name (图层名) and Chinese alias.
    ysdm : str
        Element code (要素代码).
    features : int
        Features written (for a raster: cells with a value).
    geometry : str
        Geometry type written, or ``"raster"``.
    file : str
        Where it is: the layer name inside a GeoPackage / FileGDB, else the file name.
    fields : dict
        Source column → field name written (shapefile names are ≤ 10 characters).
    aliases : dict
        Field name written → Chinese alias.
    domains : dict
        Field name written → coded-value domain (in the format, or a label field beside it).
    """

    key: str
    name: str
    alias: str
    ysdm: str
    features: int
    geometry: str
    file: str
    fields: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    domains: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ExportReport:
    """What :func:`write` produced.

    Attributes
    ----------
    path : Path
        The output (``.gpkg`` file, ``.gdb`` folder, folder, ``.zip`` or single file).
    format : str
        ``gpkg``, ``shp``, ``gdb`` or ``geojson``.
    layout : str
        ``file``, ``gdb``, ``folder``, ``zip`` or ``single``.
    crs : str
        The CRS written, as ``"EPSG:4490"``.
    crs_name : str
        Its name.
    encoding : str
        Attribute encoding (shapefile ``.cpg``; UTF-8 for the other formats).
    layers : tuple of LayerReport
        In the order written.
    files : tuple of str
        Every file written.
    aliases_in_format : bool
        Whether field aliases went into the format itself.
    warnings : tuple of str
        What the planner should know (zone choice, features outside all districts ...).
    domains_in_format : bool
        Whether coded-value domains went into the format itself (GeoPackage, FileGDB).
    mapping : str
        Whose names and codes: ``"geoplan defaults"`` or the mapping file's name.
    """

    path: Path
    format: str
    layout: str
    crs: str
    crs_name: str
    encoding: str
    layers: tuple[LayerReport, ...]
    files: tuple[str, ...]
    aliases_in_format: bool
    warnings: tuple[str, ...] = ()
    domains_in_format: bool = False
    mapping: str = "geoplan defaults"

    @property
    def feature_counts(self) -> dict[str, int]:
        """Features written per layer key."""
        return {ly.key: ly.features for ly in self.layers}

    def layer(self, key: str) -> LayerReport:
        """The report of layer ``key``."""
        for ly in self.layers:
            if ly.key == key:
                return ly
        raise KeyError(f"no layer '{key}' was exported")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (layout ``geoplan.export/1``, documented in docs/export.md)."""
        return {
            "schema": SCHEMA, "path": str(self.path), "format": self.format, "layout": self.layout,
            "crs": self.crs, "crs_name": self.crs_name, "encoding": self.encoding,
            "aliases_in_format": self.aliases_in_format, "domains_in_format": self.domains_in_format,
            "mapping": self.mapping,
            "layers": [{"key": ly.key, "name": ly.name, "alias": ly.alias, "ysdm": ly.ysdm,
                        "features": ly.features, "geometry": ly.geometry, "file": ly.file,
                        "fields": ly.fields, "aliases": ly.aliases, "domains": ly.domains} for ly in self.layers],
            "files": list(self.files), "warnings": list(self.warnings),
        }


def infer_format(path: str | os.PathLike[str], format: str | None = None) -> str:
    """The output format: ``format`` when given, else from ``path``'s suffix.

    Examples
    --------
    >>> infer_format("a.gpkg"), infer_format("a.gdb"), infer_format("a.zip"), infer_format("out", "geojson")
    ('gpkg', 'gdb', 'shp', 'geojson')
    """
    if format is not None:
        f = format.lower().strip().lstrip(".")
        f = {"geopackage": "gpkg", "shapefile": "shp", "filegdb": "gdb", "json": "geojson"}.get(f, f)
        if f not in FORMATS:
            raise ConfigError(f"unknown export format {format!r}. Fix: use one of {', '.join(FORMATS)}")
        return f
    suf = Path(path).suffix.lower()
    by_suffix = {".gpkg": "gpkg", ".gdb": "gdb", ".shp": "shp", ".zip": "shp", ".geojson": "geojson",
                 ".json": "geojson"}
    if suf not in by_suffix:
        raise ConfigError(f"cannot tell the export format from {Path(path).name!r}. "
                          f"Fix: name the output *.gpkg / *.gdb / *.shp / *.zip / *.geojson, or give "
                          f"--format ({', '.join(FORMATS)})")
    return by_suffix[suf]


def _encoding(encoding: str) -> str:
    e = encoding.upper().replace("_", "-").strip()
    e = {"UTF8": "UTF-8", "CP936": "GBK", "GB2312": "GBK", "936": "GBK"}.get(e, e)
    if e not in ENCODINGS:
        raise ConfigError(f"unknown shapefile encoding {encoding!r}. Fix: use UTF-8 or GBK")
    return e


def resolve_crs(crs: int | str | CRS, lon: np.ndarray | Sequence[float], *,
                zone_prefix: bool = False) -> tuple[CRS, list[str]]:
    """The export CRS and what the planner should know about it.

    Parameters
    ----------
    crs : int, str or CRS
        An EPSG code (``4490``, ``"EPSG:4548"``, ``4527``), any CRS PROJ knows, or
        ``"auto-gk"``: the CGCS2000 3-degree Gauss-Krüger zone of the median
        longitude of ``lon``.
    lon : array_like
        Longitudes (degrees) of the features, for ``"auto-gk"`` and the zone checks.
    zone_prefix : bool
        With ``"auto-gk"``: the code with the zone number prefixed to eastings
        (EPSG:4527 rather than EPSG:4548).

    Examples
    --------
    >>> c, notes = resolve_crs("auto-gk", [117.9, 118.1, 118.3])
    >>> c.to_epsg(), notes
    (4548, [])
    >>> c, notes = resolve_crs("auto-gk", [116.5, 117.5, 118.2, 119.2, 120.1])
    >>> c.to_epsg(), "spans" in notes[0]
    (4548, True)
    """
    lons = np.asarray(lon, dtype=float)
    lons = lons[np.isfinite(lons)]
    notes: list[str] = []
    if isinstance(crs, str) and crs.strip().lower() in ("auto", "auto-gk", "gk", "auto_gk"):
        if len(lons) == 0:
            raise ConfigError("auto-gk needs features to choose a zone from. Fix: give --crs 4548 (or the zone's code)")
        try:
            code = gk_epsg(lons, zone_prefix=zone_prefix)
        except ValueError as exc:
            raise ConfigError(f"auto-gk: {exc}. Fix: give --crs with an EPSG code") from exc
        out = CRS.from_epsg(code)
        lo, hi = 3 * round(float(lons.min()) / 3), 3 * round(float(lons.max()) / 3)
        if lo != hi:
            info = gk_zone(code)
            notes.append(f"the data spans Gauss-Krüger zones with central meridians {lo}°E to {hi}°E; "
                         f"EPSG:{code} (central meridian {info[2] if info else '?'}°E) was chosen by the median "
                         f"longitude {float(np.median(lons)):.2f}°E. Features far from it carry more scale distortion; "
                         "export per zone with --crs if the receiving system requires it")
        return out, notes
    try:
        out = CRS.from_user_input(int(crs) if isinstance(crs, str) and crs.strip().isdigit() else crs)
    except Exception as exc:
        raise ConfigError(f"unknown CRS {crs!r}. Fix: use an EPSG code such as 4490 (CGCS2000 geographic), "
                          "4548 / 4549 (Gauss-Krüger 117°E / 120°E), 4527 (zone 39 with prefix), or auto-gk") from exc
    if not (out.is_geographic or out.is_projected):
        raise ConfigError(f"CRS {out.name} is neither geographic nor projected. Fix: use EPSG:4490 or a Gauss-Krüger zone")
    geod = out.geodetic_crs
    if geod is None or geod.to_epsg() != GEOGRAPHIC_EPSG:
        notes.append(f"{out.name} is not based on CGCS2000; the one-map system expects CGCS2000 "
                     "(EPSG:4490 or a Gauss-Krüger zone such as 4548)")
    info = gk_zone(out.to_epsg())
    if info is not None and len(lons):
        width, _, cm, _ = info
        med = float(np.median(lons))
        if abs(med - cm) > width / 2 + 0.5:
            notes.append(f"the data's median longitude {med:.2f}°E lies outside the zone of EPSG:{out.to_epsg()} "
                         f"(central meridian {cm}°E). Fix: --crs auto-gk chooses the zone from the data")
    return out, notes


def _truncate_bytes(name: str, limit: int, encoding: str) -> str:
    out = ""
    for ch in name:
        if len((out + ch).encode(encoding, errors="replace")) > limit:
            break
        out += ch
    return out


def shapefile_names(columns: Sequence[str], *, encoding: str = "UTF-8") -> dict[str, str]:
    """Map column names to dBASE field names (≤ 10 bytes in ``encoding``), deterministically.

    Names that fit are kept; longer ones are truncated; a name that then collides
    (case-insensitively) with one before it gets ``_1``, ``_2`` ... in its last
    characters. The same columns always map to the same names.

    Examples
    --------
    >>> shapefile_names(["BSM", "population_2025", "population_2030", "人口密度每平方公里"])
    {'BSM': 'BSM', 'population_2025': 'population', 'population_2030': 'populati_1', '人口密度每平方公里': '人口密'}
    """
    out: dict[str, str] = {}
    used: set[str] = set()
    for col in columns:
        name = _truncate_bytes(col, 10, encoding)
        k = 1
        while not name or name.casefold() in used:
            suffix = f"_{k}"
            name = _truncate_bytes(col, 10 - len(suffix), encoding) + suffix
            k += 1
        used.add(name.casefold())
        out[col] = name
    return out


def _laundered_names(columns: Sequence[str], fmt: str) -> dict[str, str]:
    """Field names a format accepts: FileGDB wants letters, digits, _ and no leading digit (≤ 64)."""
    out: dict[str, str] = {}
    used: set[str] = set()
    reserved = _RESERVED[fmt]
    for col in columns:
        name = col
        if fmt == "gdb":
            name = re.sub(r"\W", "_", col)[:64]
            if not name[:1].isalpha():
                name = ("F_" + name)[:64]
        base, k = name, 1
        while name.casefold() in used or name.casefold() in reserved:
            name = f"{base[:60]}_{k}"
            k += 1
        used.add(name.casefold())
        out[col] = name
    return out


def _field_specs(spec: LayerSpec) -> dict[str, FieldSpec]:
    out = {f.name: f for f in ONEMAP_FIELDS}
    for f in spec.fields:
        out.setdefault(f.name, f)
    for f in (*RESULT_FIELDS, AREA_FIELD):
        out.setdefault(f.name, f)
    return out


def _sorted_keys(keys: Sequence[str]) -> list[str]:
    return sorted(keys, key=lambda k: (_ORDER.index(k) if k in _ORDER else len(_ORDER), list(keys).index(k)))


def _districts_lookup(districts: gpd.GeoDataFrame | None, gdf: gpd.GeoDataFrame,
                      metric: CRS) -> tuple[np.ndarray, np.ndarray] | None:
    if districts is None or not {"XZQDM", "XZQMC"} <= set(districts.columns) or len(gdf) == 0:
        return None
    geom = gdf.geometry
    pts = gdf if bool(geom.geom_type.isin(["Point", "MultiPoint"]).all()) else \
        gdf.set_geometry(geom.representative_point())
    idx = points_in_districts(pts.to_crs(metric), districts.to_crs(metric))
    codes = districts["XZQDM"].astype(str).to_numpy(dtype=object)
    names = districts["XZQMC"].astype(str).to_numpy(dtype=object)
    out_codes = np.full(len(idx), None, dtype=object)
    out_names = np.full(len(idx), None, dtype=object)
    inside = idx >= 0
    out_codes[inside], out_names[inside] = codes[idx[inside]], names[idx[inside]]
    return out_codes, out_names


def _typed(col: pd.Series, f: FieldSpec | None) -> pd.Series:
    if pd.api.types.is_bool_dtype(col):
        return col.astype(np.int32)
    if f is None:
        return col
    if f.type == "int":
        num = pd.to_numeric(col, errors="coerce")
        return num.astype(np.int64) if len(num) and num.notna().all() else num.astype(float)
    if f.type == "float":
        return pd.to_numeric(col, errors="coerce").astype(float)
    out = col.astype(object)
    mask = col.notna().to_numpy()
    if pd.api.types.infer_dtype(out, skipna=True) not in ("string", "empty"):
        out[mask] = out[mask].astype(str)
    return out.where(mask, None)


def _text_problems(frame: pd.DataFrame, layer: str, *, encoding: str, fmt: str) -> list[Problem]:
    """Text a shapefile would silently lose: characters outside GBK, values over 254 bytes."""
    if fmt != "shp":
        return []
    problems: list[Problem] = []
    for c in frame.columns:
        if c == "geometry" or not (pd.api.types.is_object_dtype(frame[c]) or pd.api.types.is_string_dtype(frame[c])):
            continue
        vals = frame[c].dropna().astype(str)
        try:
            str(c).encode(encoding)
        except UnicodeEncodeError:
            problems.append(Problem(layer, str(c), f"the field name cannot be written in {encoding}",
                                    "export with --encoding UTF-8, or rename the column"))
        bad, long = [], []
        for v in vals.unique():
            try:
                n = len(v.encode(encoding))
            except UnicodeEncodeError:
                bad.append(v)
                continue
            if n > _SHP_MAX_BYTES:
                long.append(v)
        if bad:
            problems.append(Problem(layer, str(c), f"value(s) {', '.join(map(repr, bad[:3]))} hold characters "
                                    f"{encoding} cannot encode (a shapefile would lose them)",
                                    "export with --encoding UTF-8, or as GeoPackage"))
        if long:
            problems.append(Problem(layer, str(c), f"{len(long)} value(s) are longer than {_SHP_MAX_BYTES} bytes, "
                                    f"the dBASE limit (first: {long[0][:30]!r}...)",
                                    "export as GeoPackage or FileGDB, which keep long text"))
    return problems


def _raster_out(raster: Raster, crs: CRS) -> tuple[Raster, str]:
    """The raster in ``crs`` (nearest-neighbour: coverage codes stay codes) and the dtype to store it in."""
    import rasterio.warp

    if raster.crs is None:
        raise CRSError(Problem(raster.name, "CRS", "the raster has no CRS", "assign the CRS it was computed in"))
    vals = raster.values
    valid = raster.valid
    integral = bool(np.all(np.mod(vals[valid], 1) == 0)) and (not valid.any() or
                                                             (vals[valid].min() >= 0 and vals[valid].max() <= 254))
    dtype, out_nodata = ("uint8", 255.0) if integral else ("float32", -9999.0)
    src = np.where(valid, vals, out_nodata)
    if CRS.from_user_input(raster.crs) == crs:
        return Raster(src, raster.transform, raster.crs, out_nodata, raster.name), dtype
    h, w = vals.shape
    # square cells keeping about the source's cell count across the extent
    left, bottom, right, top = Transformer.from_crs(raster.crs, crs, always_xy=True).transform_bounds(
        *raster.bounds, densify_pts=21)
    res = max((right - left) / w, (top - bottom) / h)
    width, height = int(np.ceil((right - left) / res)), int(np.ceil((top - bottom) / res))
    transform = Affine(res, 0.0, left, 0.0, -res, top)
    dst = np.full((height, width), out_nodata, dtype=float)
    rasterio.warp.reproject(src.astype(float), dst, src_transform=raster.transform, src_crs=raster.crs.to_wkt(),
                            dst_transform=transform, dst_crs=crs.to_wkt(), src_nodata=out_nodata,
                            dst_nodata=out_nodata, resampling=rasterio.warp.Resampling.nearest)
    return Raster(dst, transform, crs, out_nodata, raster.name), dtype


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _version() -> str:
    import geoplan

    return str(geoplan.__version__)


Layers = Mapping[str, "gpd.GeoDataFrame | Raster | pd.DataFrame"]


@dataclass(frozen=True)
class _Inputs:
    """The layers of a write, sorted by kind, with their specs."""

    vectors: dict[str, gpd.GeoDataFrame]
    rasters: dict[str, Raster]
    tables: dict[str, pd.DataFrame]
    specs: dict[str, LayerSpec]


@dataclass(frozen=True)
class _Target:
    """Where and how a delivery is written: format, layout, CRS, names, districts, time."""

    path: Path
    fmt: str
    enc: str
    layout: str
    crs: CRS
    crs_label: str
    onemap: OneMap
    districts: gpd.GeoDataFrame | None
    metric: CRS
    created: str
    version: str
    root: Path | None

    @property
    def stem(self) -> str:
        """Name that files beside the output start with: ``d.gpkg`` (so ``d.gpkg`` and ``d.gdb`` in one folder
        keep their own metadata and GeoTIFFs), the stem for a single shapefile / GeoJSON (its file family)."""
        if self.layout == "single":
            return self.path.stem
        name = self.path.name
        return name[:-4] if name.lower().endswith(".zip") else name

    @property
    def labels_beside(self) -> bool:
        """Formats without domains get a label field beside each coded field."""
        return self.fmt in ("shp", "geojson")


@dataclass
class _Built:
    """What the per-layer steps produce, gathered for the one write."""

    layers: list[OutLayer] = field(default_factory=list)
    reports: list[LayerReport] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    sidecars: dict[str, bytes] = field(default_factory=dict)
    tifs: dict[str, tuple[Raster, str, dict[str, str]]] = field(default_factory=dict)
    tiles: dict[str, tuple[Raster, str, str]] = field(default_factory=dict)
    domains: dict[str, CodedDomain] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    bsm: int = 1


def _inputs(layers: Layers) -> _Inputs:
    """Sort layers into vectors, rasters and attribute tables, checking each against its spec's kind."""
    vectors: dict[str, gpd.GeoDataFrame] = {}
    rasters: dict[str, Raster] = {}
    tables: dict[str, pd.DataFrame] = {}
    specs: dict[str, LayerSpec] = {}
    for key, obj in layers.items():
        spec = layer_spec(key)
        specs[key] = spec
        kind = "raster" if spec.is_raster else "table" if spec.is_table else "vector"
        if isinstance(obj, Raster) and kind == "raster":
            rasters[key] = obj
        elif isinstance(obj, gpd.GeoDataFrame) and kind == "vector":
            vectors[key] = obj
        elif isinstance(obj, pd.DataFrame) and not isinstance(obj, gpd.GeoDataFrame) and kind == "table":
            tables[key] = obj
        else:
            want = {"raster": "a Raster", "table": "a DataFrame (attribute table)", "vector": "a GeoDataFrame"}[kind]
            raise ConfigError(f"layer '{key}' is a {spec.geometry} layer and needs {want}, "
                              f"not a {type(obj).__name__}")
    if not vectors:
        raise ConfigError("nothing to export: no vector layer was given. Fix: pass at least the districts")
    return _Inputs(vectors, rasters, tables, specs)


def _validated(inp: _Inputs) -> dict[str, gpd.GeoDataFrame]:
    """Every vector layer checked against its spec and in EPSG:4490; all problems at once."""
    problems: list[Problem] = []
    geo: dict[str, gpd.GeoDataFrame] = {}
    for key in _sorted_keys(list(inp.vectors)):
        gdf = inp.vectors[key]
        if gdf.crs is None:
            problems.append(Problem(key, "CRS", "the layer has no CRS", "set it with GeoDataFrame.set_crs()"))
            continue
        try:
            checked = validate_vector(gdf, inp.specs[key], name=key) if len(gdf) else gdf.copy()
        except ValidationError as exc:
            problems.extend(exc.problems)
            continue
        geo[key] = checked.to_crs(GEOGRAPHIC_EPSG)
    if problems:
        raise (CRSError(problems) if all(p.field == "CRS" for p in problems) else ValidationError(problems))
    return geo


def _target(path: str | os.PathLike[str], geo: Mapping[str, gpd.GeoDataFrame], *, fmt: str, enc: str, layout: str,
            crs: int | str | CRS, zone_prefix: bool, onemap: OneMap, districts: gpd.GeoDataFrame | None,
            metric_crs: int | str | CRS | None, root: str | os.PathLike[str] | None,
            warnings: list[str]) -> _Target:
    reps = [g.geometry.representative_point() for g in geo.values() if len(g)]
    lon = np.concatenate([r.x.to_numpy() for r in reps]) if reps else np.zeros(0)
    out_crs, notes = resolve_crs(crs, lon, zone_prefix=zone_prefix)
    warnings.extend(notes)
    epsg = out_crs.to_epsg()
    dist = districts if districts is not None else geo.get("districts")
    if dist is not None and dist.crs is not None:
        dist = dist.to_crs(GEOGRAPHIC_EPSG)
    metric = CRS.from_user_input(metric_crs) if metric_crs is not None else (
        CRS.from_epsg(gk_epsg(lon)) if len(lon) else CRS.from_epsg(4548))
    return _Target(path=Path(path), fmt=fmt, enc=enc, layout=layout, crs=out_crs,
                   crs_label=f"EPSG:{epsg}" if epsg else out_crs.to_string(), onemap=onemap, districts=dist,
                   metric=metric, created=_now(), version=_version(), root=Path(root) if root is not None else None)


def _onemap_columns(key: str, gdf: gpd.GeoDataFrame, spec: LayerSpec, names: LayerNames, t: _Target,
                    b: _Built) -> pd.DataFrame:
    """BSM, YSDM, XZQDM, XZQMC of a layer's features."""
    n = len(gdf)
    frame = pd.DataFrame(index=gdf.index)
    frame["BSM"] = np.arange(b.bsm, b.bsm + n, dtype=np.int64)
    b.bsm += n
    frame["YSDM"] = pd.Series([names.ysdm] * n, index=gdf.index, dtype=object)
    if key == "districts":
        frame["XZQDM"], frame["XZQMC"] = gdf["XZQDM"], gdf["XZQMC"]
        return frame
    found = _districts_lookup(t.districts, gdf, t.metric)
    if found is not None:
        frame["XZQDM"], frame["XZQMC"] = found
        outside = int(pd.isna(found[0]).sum())
        if outside:
            b.warnings.append(f"{outside} feature(s) of layer {key} lie outside every district; "
                              "their XZQDM/XZQMC are empty")
    elif {"XZQDM", "XZQMC"} <= set(gdf.columns):
        frame["XZQDM"], frame["XZQMC"] = gdf["XZQDM"], gdf["XZQMC"]
    else:
        frame["XZQDM"] = frame["XZQMC"] = pd.Series([None] * n, index=gdf.index, dtype=object)
        if n:
            b.warnings.append(f"layer {key}: no districts to take XZQDM/XZQMC from; they are empty")
    return frame


def _attribute_frame(key: str, src: pd.DataFrame, spec: LayerSpec, frame: pd.DataFrame,
                     t: _Target) -> pd.DataFrame:
    """The spec's fields (absent optional ones empty), the polygon area, any other column; typed; labels beside."""
    n = len(src)
    fspecs = _field_specs(spec)
    for f in spec.fields:
        if f.name in frame.columns:
            continue
        if f.name in src.columns:
            frame[f.name] = src[f.name]
        else:  # the one-map schema is the same in every delivery: absent optional fields are empty
            frame[f.name] = pd.Series([None] * n, index=src.index, dtype=object) if f.type == "str" \
                else np.full(n, np.nan)
    if spec.geometry == "Polygon" and isinstance(src, gpd.GeoDataFrame):
        frame[AREA_FIELD.name] = ellipsoidal_area_m2(src.geometry)
    geom = src.geometry.name if isinstance(src, gpd.GeoDataFrame) else None
    for c in src.columns:
        if c != geom and c not in frame.columns and c not in _ONEMAP_NAMES:
            frame[str(c)] = src[c]
    for c in frame.columns:
        frame[c] = _typed(frame[c], fspecs.get(c))
    if t.labels_beside:
        frame = _with_labels(key, frame, t.onemap)
    return frame.reset_index(drop=True)


def _with_labels(key: str, frame: pd.DataFrame, onemap: OneMap) -> pd.DataFrame:
    """A label column beside each coded column (shapefiles and GeoJSON have no domains)."""
    cols: dict[str, pd.Series] = {}
    for c in frame.columns:
        cols[c] = frame[c]
        dom = onemap.domain(key, str(c))
        if dom is not None and dom.label_field and dom.label_field not in frame.columns:
            cols[dom.label_field] = pd.Series([dom.label(v) for v in frame[c]], index=frame.index, dtype=object)
    return pd.DataFrame(cols, index=frame.index)


def ellipsoidal_area_m2(geometry: gpd.GeoSeries) -> np.ndarray:
    """Area of each polygon on the CGCS2000 ellipsoid, m² (rounded to 0.01), whatever CRS it is in.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> a = ellipsoidal_area_m2(gpd.GeoSeries([box(118.0, 24.0, 118.01, 24.01)], crs=4490))
    >>> bool(1_000_000 < a[0] < 1_150_000)  # about 1.02 km x 1.11 km
    True
    """
    geod = CRS.from_epsg(GEOGRAPHIC_EPSG).get_geod()
    if geod is None:  # pragma: no cover - EPSG:4490 always has an ellipsoid
        raise CRSError(Problem("geometry", "CRS", "EPSG:4490 has no ellipsoid in this PROJ database",
                               "reinstall pyproj"))
    g = geometry.to_crs(GEOGRAPHIC_EPSG)
    out = np.array([abs(geod.geometry_area_perimeter(x)[0]) if x is not None and not x.is_empty else np.nan
                    for x in g], dtype=float)
    return np.round(out, 2)


def _field_record(key: str, cols: list[str], fspecs: dict[str, FieldSpec], written: dict[str, str],
                  t: _Target) -> list[dict[str, str]]:
    out = []
    for c in cols:
        item = {"name": written[c], "full_name": c, "alias": fspecs[c].alias if c in fspecs else ""}
        dom = t.onemap.domain(key, c)
        if dom is not None:
            item["domain"] = dom.name
        out.append(item)
    return out


def _layer_record(key: str, spec: LayerSpec, names: LayerNames, *, features: int, geometry: str, t: _Target,
                  meta: Mapping[str, Any]) -> dict[str, Any]:
    """How a layer was made, with relative names only."""
    return {
        "layer": names.name, "key": key, "alias": names.alias, "ysdm": names.ysdm, "title": spec.title,
        "features": features, "geometry": geometry, "crs": t.crs_label,
        "source": relative_text(str(meta.get("source", "")), root=t.root), "modelled": _modelled(meta),
        "method": meta.get("method", "input layer" if spec.kind != "output" else ""),
        "parameters": meta.get("parameters", {}), "note": meta.get("note", ""),
        "geoplan_version": t.version, "created": t.created,
    }


def _write_names(cols: list[str], names: LayerNames, t: _Target) -> dict[str, str]:
    """Column → field name written: the mapping's rename, then what the format accepts."""
    mapped = [names.field_name(c) for c in cols]
    fmt_names = shapefile_names(mapped, encoding=t.enc) if t.fmt == "shp" else _laundered_names(mapped, t.fmt)
    return {c: fmt_names[m] for c, m in zip(cols, mapped, strict=True)}


def _domains_of(key: str, cols: list[str], written: dict[str, str], t: _Target, b: _Built) -> dict[str, str]:
    """Written field → domain name, for formats that hold domains; remembers the domains used."""
    if t.fmt not in ("gpkg", "gdb"):
        return {}
    out: dict[str, str] = {}
    for c in cols:
        dom = t.onemap.domain(key, c)
        if dom is not None:
            out[written[c]] = dom.name
            b.domains[dom.name] = dom
    return out


def _vector_layer(key: str, gdf: gpd.GeoDataFrame, spec: LayerSpec, meta: Mapping[str, Any], t: _Target,
                  b: _Built) -> None:
    """One vector layer: one-map fields, spec fields, labels, names, CRS; its OutLayer, report and record."""
    names = t.onemap.layer(key)
    frame = _attribute_frame(key, gdf, spec, _onemap_columns(key, gdf, spec, names, t, b), t)
    out_gdf = gpd.GeoDataFrame(frame, geometry=gdf.geometry.reset_index(drop=True).to_numpy(),
                               crs=GEOGRAPHIC_EPSG).to_crs(t.crs)
    if np.isfinite(out_gdf.total_bounds).sum() < 4 and len(gdf):
        raise CRSError(Problem(key, "CRS", f"the layer cannot be expressed in {t.crs_label} "
                               "(coordinates become infinite)", "choose a CRS that covers the data"))
    b.problems.extend(_text_problems(out_gdf, key, encoding=t.enc, fmt=t.fmt))
    types = set(out_gdf.geom_type.dropna()) if len(gdf) else set()
    gtype = ("MultiPolygon" if spec.geometry == "Polygon" else
             "MultiPoint" if "MultiPoint" in types else spec.geometry)
    _add_layer(key, out_gdf, spec, names, meta, t, b, geometry=gtype)


def _table_layer(key: str, table: pd.DataFrame, spec: LayerSpec, meta: Mapping[str, Any], t: _Target,
                 b: _Built) -> None:
    """An attribute table (density, conflicts): a table in GeoPackage / FileGDB, else a CSV sidecar."""
    names = t.onemap.layer(key)
    n = len(table)
    head = pd.DataFrame({"BSM": np.arange(b.bsm, b.bsm + n, dtype=np.int64),
                         "YSDM": pd.Series([names.ysdm] * n, dtype=object)}, index=table.index)
    b.bsm += n
    frame = _attribute_frame(key, table, spec, head, t)
    b.problems.extend(_text_problems(frame, key, encoding=t.enc, fmt=t.fmt))
    _add_layer(key, frame, spec, names, meta, t, b, geometry="table")


def _add_layer(key: str, frame: pd.DataFrame, spec: LayerSpec, names: LayerNames, meta: Mapping[str, Any],
               t: _Target, b: _Built, *, geometry: str) -> None:
    fspecs = _field_specs(spec)
    geom = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
    cols = [str(c) for c in frame.columns if c != geom]
    written = _write_names(cols, names, t)
    out = frame.rename(columns=written)
    aliases = {written[c]: fspecs[c].alias for c in cols if c in fspecs and fspecs[c].alias}
    comments = {written[c]: fspecs[c].description for c in cols if c in fspecs and fspecs[c].description}
    rec = _layer_record(key, spec, names, features=len(frame), geometry=geometry, t=t, meta=meta)
    rec["fields"] = _field_record(key, cols, fspecs, written, t)
    table_as_csv = geometry == "table" and t.fmt not in ("gpkg", "gdb")
    file = _layer_file(names.name, t, csv=table_as_csv)
    if table_as_csv:
        rec["file"] = file
        b.sidecars[file] = out.to_csv(index=False).encode("utf-8-sig")
    else:
        lmeta = {k: (json.dumps(v, ensure_ascii=False, default=str) if not isinstance(v, str) else v)
                 for k, v in rec.items() if k != "fields"}
        b.layers.append(OutLayer(name=names.name, frame=out, title=names.alias, description=spec.title,
                                 aliases=aliases, comments=comments, metadata=lmeta if t.fmt == "gpkg" else {},
                                 geometry_type=None if geometry == "table" else geometry,
                                 domains=_domains_of(key, cols, written, t, b)))
    b.records.append(rec)
    b.reports.append(LayerReport(key=key, name=names.name, alias=names.alias, ysdm=names.ysdm,
                                 features=len(frame), geometry=geometry, file=file,
                                 fields=dict(written), aliases=aliases,
                                 domains={written[c]: d.name for c in cols
                                          if (d := t.onemap.domain(key, c)) is not None}))
    if t.fmt in ("shp", "geojson"):
        side = t.stem if t.layout == "single" and geometry != "table" else names.name
        b.sidecars[f"{side}.fields.csv"] = _fields_csv(rec)


def _layer_file(name: str, t: _Target, *, csv: bool = False) -> str:
    if csv:
        return f"{name}.csv" if t.layout in ("folder", "zip") else f"{t.stem}_{name}.csv"
    if t.layout in ("file", "gdb"):
        return name
    if t.layout == "single":
        return t.path.name
    return f"{name}{'.shp' if t.fmt == 'shp' else '.geojson'}"


def _raster_layer(key: str, raster: Raster, spec: LayerSpec, meta: Mapping[str, Any], t: _Target,
                  b: _Built) -> None:
    """A raster: a GeoTIFF beside (inside a folder or zip), and in a GeoPackage also as a tiled raster table."""
    names = t.onemap.layer(key)
    r_out, dtype = _raster_out(raster, t.crs)
    name = f"{names.name}.tif" if t.layout in ("folder", "zip") else f"{t.stem}_{names.name}.tif"
    band = spec.fields[0] if spec.fields else None
    rec = _layer_record(key, spec, names, features=int(r_out.valid.sum()), geometry="raster", t=t, meta=meta)
    rec["file"] = name + (f" ({names.name} in {t.path.name})" if t.fmt == "gpkg" else "")
    rec["fields"] = [{"name": "band1", "full_name": band.name if band else "band1",
                      "alias": band.alias if band else "", "description": band.description if band else ""}]
    b.records.append(rec)
    tags = {"ONEMAP_NAME": names.name, "ONEMAP_ALIAS": names.alias, "YSDM": names.ysdm,
            "BAND1_ALIAS": band.alias if band else "", "BAND1_DESCRIPTION": band.description if band else "",
            "MODELLED": {True: "1", False: "0"}.get(rec["modelled"], "unknown"), "METHOD": str(rec["method"]),
            "PARAMETERS": json.dumps(rec["parameters"], ensure_ascii=False, default=str),
            "GEOPLAN_VERSION": t.version, "CREATED": t.created}
    b.tifs[name] = (r_out, dtype, tags)
    if t.fmt == "gpkg":
        b.tiles[names.name] = (r_out, names.alias, f"{spec.title}: {band.description if band else ''}")
    b.reports.append(LayerReport(key=key, name=names.name, alias=names.alias, ysdm=names.ysdm,
                                 features=rec["features"], geometry="raster", file=name))


def _metadata_outputs(t: _Target, b: _Built, *, title: str, plan: Mapping[str, Any] | None,
                      bounds: tuple[float, float, float, float] | None) -> None:
    """The metadata table (GeoPackage, FileGDB) or JSON sidecar, and the XML sidecar."""
    doms = [{"name": d.name, "description": d.description, "codes": d.codes} for d in b.domains.values()]
    if t.fmt in ("gpkg", "gdb"):
        b.layers.append(OutLayer(name=_META_TABLE, frame=metadata_table(b.records),
                                 description="How each layer of this delivery was made (geoplan)"))
    else:
        doc = {"schema": SCHEMA, "crs": t.crs_label, "encoding": t.enc, "format": t.fmt, "created": t.created,
               "geoplan_version": t.version, "mapping": t.onemap.source, "layers": b.records}
        b.sidecars[io.EXPORT_MARKER if t.layout in ("folder", "zip") else f"{t.stem}.geoplan.json"] = \
            metadata_json(doc)
    xml_name = "geoplan_metadata.xml" if t.layout in ("folder", "zip") else f"{t.stem}.metadata.xml"
    b.sidecars[xml_name] = metadata_xml(title=title, producer=t.onemap.producer, created=t.created,
                                        version=t.version, crs=t.crs, crs_label=t.crs_label, bounds_lonlat=bounds,
                                        records=b.records, domains=doms, plan=plan)


def write(layers: Layers, path: str | os.PathLike[str], *, format: str | None = None,
          crs: int | str | CRS = GEOGRAPHIC_EPSG, encoding: str = "UTF-8", zone_prefix: bool = False,
          metadata: Mapping[str, Mapping[str, Any]] | None = None, districts: gpd.GeoDataFrame | None = None,
          metric_crs: int | str | CRS | None = None, onemap: OneMap | None = None, title: str | None = None,
          plan: Mapping[str, Any] | None = None, root: str | os.PathLike[str] | None = None,
          overwrite: bool = False, protect: Collection[str | os.PathLike[str]] = ()) -> ExportReport:
    """Write layers as a one-map delivery (GeoPackage, shapefiles, FileGDB or GeoJSON), atomically.

    Parameters
    ----------
    layers : mapping
        Layer key (a spec in ``layers/``: ``districts``, ``sites``, ``planned_sites``,
        ``edge_dc``, ``car_parks`` ...) → GeoDataFrame; ``coverage`` → :class:`~geoplan.io.Raster`;
        ``density``, ``conflicts`` → DataFrame (attribute tables).
    path : path-like
        ``*.gpkg``; ``*.gdb``; for shapefiles / GeoJSON a folder, a ``.zip`` or (one
        layer) a ``.shp`` / ``.geojson``.
    format : {"gpkg", "shp", "gdb", "geojson"}, optional
        Default: from ``path``'s suffix.
    crs : int, str or CRS
        Output CRS: ``4490`` (default), a Gauss-Krüger code such as ``4548`` or
        ``4527``, or ``"auto-gk"`` (see :func:`resolve_crs`).
    encoding : {"UTF-8", "GBK"}
        Shapefile attribute encoding, written to each ``.cpg``.
    zone_prefix : bool
        With ``crs="auto-gk"``: use the zone-prefixed code.
    metadata : mapping, optional
        Per layer key: ``source``, ``modelled``, ``method``, ``parameters``, ``note``
        (anything JSON-serialisable), recorded in the metadata table / sidecars. An
        absolute path in ``source`` is reduced to a relative name (see ``root``).
    districts : GeoDataFrame, optional
        Districts for XZQDM/XZQMC of other layers' features (default: ``layers["districts"]``).
    metric_crs : CRS, optional
        CRS in which features are matched to districts (default: their Gauss-Krüger zone).
    onemap : OneMap, optional
        Layer names, element codes, field names and domains (default:
        :func:`geoplan.onemap.default_onemap`; a bureau's via :func:`geoplan.onemap.load_mapping`).
    title : str, optional
        Name of the dataset in the XML metadata (default: the output's file name).
    plan : mapping, optional
        The plan the delivery carries (``document``, ``scope``, ``year``, ``xzqdm``), for the XML metadata.
    root : path-like, optional
        Folder that sources are named relative to (the project folder).
    overwrite : bool
        Replace an earlier output at ``path``: a file, or the files geoplan wrote in
        an earlier delivery folder / FileGDB (others there are left alone).
    protect : collection of path-like
        Files never to write over (a project's inputs).

    Returns
    -------
    ExportReport

    Raises
    ------
    ConfigError
        Unknown layer key, format, encoding or CRS; a path that does not fit the format.
    ValidationError
        A layer that breaks its spec, or text a shapefile would lose (every problem at once).
    WriteError
        The write failed; nothing was left at ``path``.
    """
    fmt = infer_format(path, format)
    enc = _encoding(encoding) if fmt == "shp" else "UTF-8"
    meta_in = {k: dict(v) for k, v in (metadata or {}).items()}
    inp = _inputs(layers)
    layout = io.dataset_layout(path, fmt, n_layers=len(inp.vectors))
    if layout == "single" and (inp.rasters or inp.tables):
        raise ConfigError(f"{Path(path).name} holds one file but a raster or table is to be written too. "
                          "Fix: give a folder or a .zip")
    io.check_output(path, layer="export", overwrite=overwrite, protect=protect, folder=layout in ("folder", "gdb"))
    geo = _validated(inp)
    warnings: list[str] = []
    t = _target(path, geo, fmt=fmt, enc=enc, layout=layout, crs=crs, zone_prefix=zone_prefix,
                onemap=onemap or default_onemap(), districts=districts, metric_crs=metric_crs, root=root,
                warnings=warnings)
    b = _Built(warnings=warnings)
    for key, gdf in geo.items():
        _vector_layer(key, gdf, inp.specs[key], meta_in.get(key, {}), t, b)
    for key in _sorted_keys(list(inp.tables)):
        _table_layer(key, inp.tables[key], inp.specs[key], meta_in.get(key, {}), t, b)
    if b.problems:
        raise ValidationError(b.problems)
    for key, raster in inp.rasters.items():
        _raster_layer(key, raster, inp.specs[key], meta_in.get(key, {}), t, b)
    _metadata_outputs(t, b, title=title or Path(path).name, plan=plan, bounds=_bounds(geo))
    written = io.write_dataset(path, b.layers, fmt=fmt, encoding=enc, sidecars=b.sidecars, rasters=b.tifs,
                               domains=[FieldDomain(d.name, d.description, d.type, d.codes)
                                        for d in b.domains.values()], tiles=b.tiles or None,
                               overwrite=overwrite, protect=protect)
    b.warnings.extend(written.warnings)
    for w in b.warnings:
        log.warning("export: %s", w)
    return ExportReport(path=Path(path), format=fmt, layout=written.layout, crs=t.crs_label, crs_name=t.crs.name,
                        encoding=enc, layers=tuple(b.reports), files=written.files,
                        aliases_in_format=written.aliases_written, warnings=tuple(b.warnings),
                        domains_in_format=written.domains_written, mapping=t.onemap.source)


def _bounds(geo: Mapping[str, gpd.GeoDataFrame]) -> tuple[float, float, float, float] | None:
    boxes = [g.total_bounds for g in geo.values() if len(g)]
    if not boxes:
        return None
    arr = np.vstack(boxes)
    return (float(arr[:, 0].min()), float(arr[:, 1].min()), float(arr[:, 2].max()), float(arr[:, 3].max()))


def _modelled(m: Mapping[str, Any]) -> bool | None:
    """Whether the caller says the layer is modelled; ``None`` when not stated."""
    v = m.get("modelled")
    return None if v is None else bool(v)


def _fields_csv(rec: dict[str, Any]) -> bytes:
    buf = _stdio.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["short_name", "full_name", "alias", "domain"])
    for f in rec["fields"]:
        w.writerow([f["name"], f["full_name"], f["alias"], f.get("domain", "")])
    return buf.getvalue().encode("utf-8-sig")  # the BOM lets Excel show the Chinese aliases


def _district_results(proj: Project, planned: Any, *, year: int, plan: str | None,
                      population_year: int | None) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    """The districts with ``POP`` and the density check of ``year`` (planned sites counted), and how."""
    from . import targets

    per_district = None
    if isinstance(planned, gpd.GeoDataFrame) and len(planned):
        if planned.crs is None:
            raise CRSError(Problem("planned_sites", "CRS", "the layer has no CRS", "set it with set_crs()"))
        idx = points_in_districts(planned.to_crs(proj.metric_crs), proj.metric("districts"))
        per_district = np.bincount(idx[idx >= 0], minlength=len(proj.districts))
    if plan is None and proj.targets is None:  # a project without targets: its layers, without density results
        return proj.districts.copy(), {"note": "the project states no targets: no density results", "_plan": None}
    rep = targets.check(proj, year=year, plan=plan, population_year=population_year, extra_stations=per_district)
    t = rep.table
    d = proj.districts.copy()
    d["POP"] = np.round(t["population"].to_numpy(dtype=float), 1)
    d["STATIONS"] = t["stations"].to_numpy(dtype=np.int64)
    if per_district is not None:
        d["PLANNED"] = per_district.astype(np.int64)
    d["PER_10K"] = np.round(t["per_10k"].to_numpy(dtype=float), 2)
    d["TARGET"] = t["target_per_10k"].to_numpy(dtype=float)
    d["REQUIRED"] = t["required"].to_numpy(dtype=np.int64)
    d["SHORTFALL"] = t["shortfall"].to_numpy(dtype=np.int64)
    how = {"method": "district layer + geoplan.targets.check (stations per 10k residents vs the plan's target)",
           "parameters": {"plan": rep.plan.key, "document": rep.plan.document, "year": year,
                          "target_per_10k": float(rep.total.target_per_10k), "population_basis": rep.basis,
                          "planned_sites_counted": per_district is not None},
           "_plan": {"document": rep.plan.document, "scope": rep.area_name, "year": year,
                     "xzqdm": rep.area_code}}
    return d, how


def project_mapping(proj: Project) -> Path | None:
    """The mapping file a project names (``[onemap] mapping = "..."``, relative to the project file), if any."""
    if proj.source is None:
        return None
    raw = io.read_toml(proj.source).get("onemap", {})
    name = raw.get("mapping") if isinstance(raw, dict) else None
    return None if not name else Path(proj.source).parent / str(name)


def _source_metadata(proj: Project, layers: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    root = Path(proj.source).parent if proj.source is not None else None
    meta: dict[str, dict[str, Any]] = {}
    for key in layers:
        prov = proj.provenance.get(key, {})
        if key in extra:
            meta[key] = {"source": "computed by geoplan", "modelled": True, "method": "",
                         "note": "how this layer was made was not recorded by the caller"}
        else:
            src = prov.get("path", "")
            meta[key] = {"source": relative_source(src, root=root) if src else "",
                         "modelled": bool(prov.get("modelled", False)), "method": "input layer",
                         "note": prov.get("note", "")}
    return meta


def export_project(proj: Project, path: str | os.PathLike[str], *,
                   extra_layers: Mapping[str, gpd.GeoDataFrame | Raster | pd.DataFrame] | None = None,
                   plan_file: PlanFile | None = None, year: int | None = None, plan: str | None = None,
                   population_year: int | None = None,
                   format: str | None = None, crs: int | str | CRS = GEOGRAPHIC_EPSG, encoding: str = "UTF-8",
                   zone_prefix: bool = False, metadata: Mapping[str, Mapping[str, Any]] | None = None,
                   mapping: str | os.PathLike[str] | OneMap | None = None, producer: str | None = None,
                   title: str | None = None, overwrite: bool = False) -> ExportReport:
    """Export a project: districts with their density-check results, its layers and ``extra_layers``.

    The districts carry ``POP`` and the result of :func:`geoplan.targets.check`
    for ``year``: ``STATIONS``, ``PER_10K``, ``TARGET``, ``REQUIRED``,
    ``SHORTFALL``. When ``extra_layers`` holds ``planned_sites``, the planned
    stations count in (``PLANNED`` per district, ``STATIONS`` = existing + planned)
    and each carries ``BUILD_YEAR`` (``year`` where the plan gives none).

    Parameters
    ----------
    proj : Project
        The project.
    path : path-like
        Output (see :func:`write`).
    extra_layers : mapping, optional
        Further layers by key (``planned_sites``, ``edge_dc``, ``car_parks``,
        ``coverage`` as a Raster, ``density`` as a DataFrame ...); they replace project
        layers of the same key.
    plan_file : PlanFile, optional
        A plan (:func:`geoplan.planfile.read_plan`): its layers and how they were made go
        in (``extra_layers`` and ``metadata`` given here win); it must have been made on ``proj``.
    year : int, optional
        Target year of the density results (default: the plan file's, else 2025).
    plan, population_year
        Passed to :func:`geoplan.targets.check`.
    format, crs, encoding, zone_prefix
        Passed to :func:`write`.
    metadata : mapping, optional
        Per layer key, how it was made (merged over what the project records).
    mapping : path-like or OneMap, optional
        A bureau's mapping file (:func:`geoplan.onemap.load_mapping`); default: the one the
        project file names under ``[onemap] mapping``, else geoplan's own names.
    producer : str, optional
        Organisation producing the delivery, for the metadata (overrides the mapping's).
    title : str, optional
        Name of the dataset in the metadata (default: project name and year).
    overwrite : bool
        Replace an earlier output (see :func:`write`); the project's own input
        files are never written over.
    """
    check_destination(path, format=format, overwrite=overwrite, protect=proj.input_files)
    extra: dict[str, Any] = {}
    given_meta: dict[str, dict[str, Any]] = {}
    if plan_file is not None:
        plan_file.check_project(proj)
        extra.update(plan_file.layers)
        given_meta.update({k: dict(v) for k, v in plan_file.metadata.items()})
        year = year if year is not None else plan_file.year
    year = year if year is not None else 2025
    extra.update(extra_layers or {})
    if isinstance(extra.get("planned_sites"), gpd.GeoDataFrame):
        extra["planned_sites"] = with_build_year(extra["planned_sites"], year)
    d, how = _district_results(proj, extra.get("planned_sites"), year=year, plan=plan,
                               population_year=population_year)
    layers: dict[str, Any] = {"districts": d, **proj.layers, **extra}
    meta = _source_metadata(proj, layers, extra)
    plan_info = how.pop("_plan")
    meta["districts"].update(how)
    for key, m in [*given_meta.items(), *(metadata or {}).items()]:
        meta.setdefault(key, {}).update(m)
    om = mapping if isinstance(mapping, OneMap) else load_mapping(mapping if mapping is not None
                                                                  else project_mapping(proj))
    if producer:
        om = dataclasses.replace(om, producer=producer)
    return write(layers, path, format=format, crs=crs, encoding=encoding, zone_prefix=zone_prefix,
                 metadata=meta, districts=proj.districts, metric_crs=proj.metric_crs, onemap=om,
                 title=title or f"{proj.name} {year}", plan=plan_info,
                 root=Path(proj.source).parent if proj.source is not None else None, overwrite=overwrite,
                 protect=proj.input_files)


def check_destination(path: str | os.PathLike[str], *, format: str | None = None, overwrite: bool = False,
                      protect: Collection[str | os.PathLike[str]] = ()) -> None:
    """Refuse an export destination before any work (format, name, and the write path's rules).

    Raises
    ------
    ConfigError
        The path does not fit the format.
    WriteError
        The destination is refused (exists without ``overwrite``, is a project input, a foreign folder ...).
    """
    fmt = infer_format(path, format)
    suffix = Path(path).suffix.lower()
    single = suffix in (".shp", ".geojson", ".json") and fmt in ("shp", "geojson")
    layout = io.dataset_layout(path, fmt, n_layers=1 if single else 2)
    io.check_output(path, layer="export", overwrite=overwrite, protect=protect, folder=layout in ("folder", "gdb"))


_MIME = {".gpkg": "application/geopackage+sqlite3", ".zip": "application/zip", ".tif": "image/tiff", ".xml": "application/xml",
         ".json": "application/json", ".geojson": "application/geo+json"}


def export_files(proj: Project, *, stem: str, format: str = "gpkg", **kwargs: Any) -> list[tuple[str, bytes, str]]:
    """Export a project as in-memory files, for a download button.

    Writes with :func:`export_project` into a temporary folder and returns what
    was written: ``<stem>.gpkg`` (with the coverage GeoTIFF beside it),
    ``<stem>.gdb.zip``, or ``<stem>_<format>.zip`` for shapefiles and GeoJSON.

    Parameters
    ----------
    proj : Project
        The project.
    stem : str
        File name without suffix.
    format : {"gpkg", "shp", "gdb", "geojson"}
        Output format.
    **kwargs
        Passed to :func:`export_project` (``extra_layers``, ``year``, ``crs`` ...).

    Returns
    -------
    list of (file name, bytes, MIME type)
    """
    fmt = infer_format(f"{stem}.{format}", format)
    name = {"gpkg": f"{stem}.gpkg", "gdb": f"{stem}.gdb"}.get(fmt, f"{stem}_{fmt}.zip")
    with io.scratch_dir(prefix="geoplan-export-") as root:
        export_project(proj, root / name, format=fmt, **kwargs)
        files = io.read_outputs(root)
    return [(n, data, _MIME.get(Path(n).suffix, "application/octet-stream")) for n, data in files]
