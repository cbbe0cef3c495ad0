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
  beside shapefiles and GeoJSON mapping short name → full name → alias;
* coordinates in CGCS2000: EPSG:4490 by default, or a 3-degree Gauss-Krüger zone
  (EPSG:4548, 4527 with zone prefix, ... or ``"auto-gk"``: chosen from the data);
* how each layer was made (source, modelled or not, method, parameters, geoplan
  version, date, CRS) in a ``geoplan_metadata`` table (GeoPackage, FileGDB) or a
  ``geoplan_metadata.json`` sidecar (shapefile, GeoJSON).

A coverage raster (:class:`~geoplan.io.Raster` under the key ``"coverage"``) is
written as a GeoTIFF beside the vector output. Writes are atomic: on any failure
no output is left behind.

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
import io as _stdio
import json
import logging
import os
import re
from collections.abc import Mapping, Sequence
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
from .io import OutLayer, Raster
from .layers import FieldSpec, LayerSpec, layer_spec
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
    "shapefile_names",
]

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())

#: Identifier of :meth:`ExportReport.to_dict`'s layout and of the metadata sidecar.
SCHEMA = "geoplan.export/1"
#: Output formats.
FORMATS: tuple[str, ...] = tuple(io.FORMAT_DRIVERS)
#: Shapefile attribute encodings offered (written to each ``.cpg``).
ENCODINGS: tuple[str, ...] = ("UTF-8", "GBK", "GB18030")

#: The one-map attribute fields every exported layer starts with.
ONEMAP_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("BSM", "int", True, "标识码", "Feature identifier, unique across the delivery"),
    FieldSpec("YSDM", "str", True, "要素代码", "Element code of the layer (layers/<key>.toml ysdm)"),
    FieldSpec("XZQDM", "str", False, "行政区代码", "Code of the district the feature lies in (GB/T 2260)"),
    FieldSpec("XZQMC", "str", False, "行政区名称", "Name of the district the feature lies in"),
)
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
          "charging_stations")
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
            "aliases_in_format": self.aliases_in_format,
            "layers": [{"key": ly.key, "name": ly.name, "alias": ly.alias, "ysdm": ly.ysdm,
                        "features": ly.features, "geometry": ly.geometry, "file": ly.file,
                        "fields": ly.fields, "aliases": ly.aliases} for ly in self.layers],
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
    for f in RESULT_FIELDS:
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


def write(layers: Mapping[str, gpd.GeoDataFrame | Raster], path: str | os.PathLike[str], *,
          format: str | None = None, crs: int | str | CRS = GEOGRAPHIC_EPSG, encoding: str = "UTF-8",
          zone_prefix: bool = False, metadata: Mapping[str, Mapping[str, Any]] | None = None,
          districts: gpd.GeoDataFrame | None = None, metric_crs: int | str | CRS | None = None) -> ExportReport:
    """Write layers as a one-map delivery (GeoPackage, shapefiles, FileGDB or GeoJSON), atomically.

    Parameters
    ----------
    layers : mapping
        Layer key (a spec in ``layers/``: ``districts``, ``sites``, ``planned_sites``,
        ``edge_dc``, ``car_parks`` ...) → GeoDataFrame; ``coverage`` → :class:`~geoplan.io.Raster`.
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
        (anything JSON-serialisable), recorded in the metadata table / sidecar.
    districts : GeoDataFrame, optional
        Districts for XZQDM/XZQMC of other layers' features (default: ``layers["districts"]``).
    metric_crs : CRS, optional
        CRS in which features are matched to districts (default: their Gauss-Krüger zone).

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
    vectors: dict[str, gpd.GeoDataFrame] = {}
    rasters: dict[str, Raster] = {}
    specs: dict[str, LayerSpec] = {}
    for key, obj in layers.items():
        spec = layer_spec(key)
        specs[key] = spec
        if isinstance(obj, Raster):
            if not spec.is_raster:
                raise ConfigError(f"layer '{key}' is a {spec.geometry} layer but a raster was given")
            rasters[key] = obj
        elif isinstance(obj, gpd.GeoDataFrame):
            if spec.is_raster:
                raise ConfigError(f"layer '{key}' is a raster layer but a GeoDataFrame was given")
            vectors[key] = obj
        else:
            raise ConfigError(f"layer '{key}' is a {type(obj).__name__}; export needs a GeoDataFrame "
                              "(or a Raster for coverage)")
    if not vectors:
        raise ConfigError("nothing to export: no vector layer was given. Fix: pass at least the districts")
    layout = io.dataset_layout(path, fmt, n_layers=len(vectors))
    if layout == "single" and rasters:
        raise ConfigError(f"{Path(path).name} holds one file but a raster is to be written too. "
                          "Fix: give a folder or a .zip")

    # validate every layer against its spec, collecting every problem
    problems: list[Problem] = []
    geo: dict[str, gpd.GeoDataFrame] = {}
    for key in _sorted_keys(list(vectors)):
        gdf = vectors[key]
        if gdf.crs is None:
            problems.append(Problem(key, "CRS", "the layer has no CRS", "set it with GeoDataFrame.set_crs()"))
            continue
        try:
            checked = validate_vector(gdf, specs[key], name=key) if len(gdf) else gdf.copy()
        except ValidationError as exc:
            problems.extend(exc.problems)
            continue
        geo[key] = checked.to_crs(GEOGRAPHIC_EPSG)
    if problems:
        raise (CRSError(problems) if all(p.field == "CRS" for p in problems) else ValidationError(problems))

    reps = [g.geometry.representative_point() for g in geo.values() if len(g)]
    lon = np.concatenate([r.x.to_numpy() for r in reps]) if reps else np.zeros(0)
    out_crs, warnings = resolve_crs(crs, lon, zone_prefix=zone_prefix)
    epsg = out_crs.to_epsg()
    crs_label = f"EPSG:{epsg}" if epsg else out_crs.to_string()
    dist = districts if districts is not None else geo.get("districts")
    if dist is not None and dist.crs is not None:
        dist = dist.to_crs(GEOGRAPHIC_EPSG)
    metric = CRS.from_user_input(metric_crs) if metric_crs is not None else (
        CRS.from_epsg(gk_epsg(lon)) if len(lon) else CRS.from_epsg(4548))

    created, version = _now(), _version()
    out_layers: list[OutLayer] = []
    reports: list[LayerReport] = []
    records: list[dict[str, Any]] = []
    sidecars: dict[str, bytes] = {}
    stem = Path(path).stem
    bsm = 1
    for key, gdf in geo.items():
        spec = specs[key]
        fspecs = _field_specs(spec)
        n = len(gdf)
        frame = pd.DataFrame(index=gdf.index)
        frame["BSM"] = np.arange(bsm, bsm + n, dtype=np.int64)
        bsm += n
        frame["YSDM"] = pd.Series([spec.ysdm] * n, index=gdf.index, dtype=object)
        if key == "districts":
            frame["XZQDM"], frame["XZQMC"] = gdf["XZQDM"], gdf["XZQMC"]
        else:
            found = _districts_lookup(dist, gdf, metric)
            if found is not None:
                frame["XZQDM"], frame["XZQMC"] = found
                outside = int(pd.isna(found[0]).sum())
                if outside:
                    warnings.append(f"{outside} feature(s) of layer {key} lie outside every district; "
                                    "their XZQDM/XZQMC are empty")
            elif {"XZQDM", "XZQMC"} <= set(gdf.columns):
                frame["XZQDM"], frame["XZQMC"] = gdf["XZQDM"], gdf["XZQMC"]
            else:
                frame["XZQDM"] = frame["XZQMC"] = pd.Series([None] * n, index=gdf.index, dtype=object)
                if n:
                    warnings.append(f"layer {key}: no districts to take XZQDM/XZQMC from; they are empty")
        for f in spec.fields:
            if f.name in _ONEMAP_NAMES:
                continue
            if f.name in gdf.columns:
                frame[f.name] = gdf[f.name]
            else:  # the one-map schema is the same in every delivery: absent optional fields are empty
                frame[f.name] = pd.Series([None] * n, index=gdf.index, dtype=object) if f.type == "str" \
                    else np.full(n, np.nan)
        geom_name = gdf.geometry.name
        for c in gdf.columns:
            if c == geom_name or c in frame.columns or c in _ONEMAP_NAMES:
                continue
            frame[str(c)] = gdf[c]
        for c in frame.columns:
            frame[c] = _typed(frame[c], fspecs.get(c))
        frame = frame.reset_index(drop=True)
        out_gdf = gpd.GeoDataFrame(frame, geometry=gdf.geometry.reset_index(drop=True).to_numpy(),
                                   crs=GEOGRAPHIC_EPSG).to_crs(out_crs)
        if np.isfinite(out_gdf.total_bounds).sum() < 4 and n:
            raise CRSError(Problem(key, "CRS", f"the layer cannot be expressed in {crs_label} "
                                   "(coordinates become infinite)", "choose a CRS that covers the data"))
        problems.extend(_text_problems(out_gdf, key, encoding=enc, fmt=fmt))

        cols = [c for c in frame.columns]
        names = shapefile_names(cols, encoding=enc) if fmt == "shp" else _laundered_names(cols, fmt)
        out_gdf = out_gdf.rename(columns=names)
        aliases = {names[c]: fspecs[c].alias for c in cols if c in fspecs and fspecs[c].alias}
        comments = {names[c]: fspecs[c].description for c in cols if c in fspecs and fspecs[c].description}
        types = set(out_gdf.geom_type.dropna()) if n else set()
        gtype = ("MultiPolygon" if spec.geometry == "Polygon" else
                 "MultiPoint" if "MultiPoint" in types else spec.geometry)
        m = meta_in.get(key, {})
        rec = {
            "layer": spec.onemap_name, "key": key, "alias": spec.onemap_alias, "ysdm": spec.ysdm,
            "title": spec.title, "features": n, "geometry": gtype, "crs": crs_label,
            "source": m.get("source", ""), "modelled": _modelled(m),
            "method": m.get("method", "input layer" if spec.kind != "output" else ""),
            "parameters": m.get("parameters", {}), "note": m.get("note", ""),
            "geoplan_version": version, "created": created,
            "fields": [{"name": names[c], "full_name": c, "alias": fspecs[c].alias if c in fspecs else ""}
                       for c in cols],
        }
        records.append(rec)
        lmeta = {k: (json.dumps(v, ensure_ascii=False, default=str) if not isinstance(v, str) else v)
                 for k, v in rec.items() if k != "fields"}
        out_layers.append(OutLayer(name=spec.onemap_name, frame=out_gdf, title=spec.onemap_alias,
                                   description=spec.title, aliases=aliases, comments=comments,
                                   metadata=lmeta if fmt == "gpkg" else {}, geometry_type=gtype))
        file = spec.onemap_name if layout in ("file", "gdb") else (
            Path(path).name if layout == "single" else f"{spec.onemap_name}{'.shp' if fmt == 'shp' else '.geojson'}")
        reports.append(LayerReport(key=key, name=spec.onemap_name, alias=spec.onemap_alias, ysdm=spec.ysdm,
                                   features=n, geometry=gtype, file=file, fields={c: names[c] for c in cols},
                                   aliases=aliases))
        if fmt in ("shp", "geojson"):
            sidecars[f"{stem if layout == 'single' else spec.onemap_name}.fields.csv"] = _fields_csv(rec)
    if problems:
        raise ValidationError(problems)

    tifs: dict[str, tuple[Raster, str, dict[str, str]]] = {}
    for key, raster in rasters.items():
        spec = specs[key]
        r_out, dtype = _raster_out(raster, out_crs)
        name = f"{spec.onemap_name}.tif" if layout in ("folder", "zip") else f"{stem}_{spec.onemap_name}.tif"
        m = meta_in.get(key, {})
        band = spec.fields[0] if spec.fields else None
        rec = {"layer": spec.onemap_name, "key": key, "alias": spec.onemap_alias, "ysdm": spec.ysdm,
               "title": spec.title, "features": int(r_out.valid.sum()), "geometry": "raster", "crs": crs_label,
               "source": m.get("source", ""), "modelled": _modelled(m),
               "method": m.get("method", ""), "parameters": m.get("parameters", {}), "note": m.get("note", ""),
               "geoplan_version": version, "created": created, "file": name,
               "fields": [{"name": "band1", "full_name": band.name if band else "band1",
                           "alias": band.alias if band else "", "description": band.description if band else ""}]}
        records.append(rec)
        tags = {"ONEMAP_NAME": spec.onemap_name, "ONEMAP_ALIAS": spec.onemap_alias, "YSDM": spec.ysdm,
                "BAND1_ALIAS": band.alias if band else "", "BAND1_DESCRIPTION": band.description if band else "",
                "MODELLED": {True: "1", False: "0"}.get(rec["modelled"], "unknown"), "METHOD": str(rec["method"]),
                "PARAMETERS": json.dumps(rec["parameters"], ensure_ascii=False, default=str),
                "GEOPLAN_VERSION": version, "CREATED": created}
        tifs[name] = (r_out, dtype, tags)
        reports.append(LayerReport(key=key, name=spec.onemap_name, alias=spec.onemap_alias, ysdm=spec.ysdm,
                                   features=rec["features"], geometry="raster", file=name))

    doc = {"schema": SCHEMA, "crs": crs_label, "encoding": enc, "format": fmt, "created": created,
           "geoplan_version": version, "layers": records}
    if fmt in ("gpkg", "gdb"):
        out_layers.append(OutLayer(name=_META_TABLE, frame=_metadata_table(records),
                                   description="How each layer of this delivery was made (geoplan)"))
    else:
        name = io.EXPORT_MARKER if layout in ("folder", "zip") else f"{stem}.geoplan.json"
        sidecars[name] = json.dumps(doc, ensure_ascii=False, indent=2, default=str).encode("utf-8")
    written = io.write_dataset(path, out_layers, fmt=fmt, encoding=enc, sidecars=sidecars, rasters=tifs)
    warnings.extend(written.warnings)
    for w in warnings:
        log.warning("export: %s", w)
    return ExportReport(path=Path(path), format=fmt, layout=written.layout, crs=crs_label, crs_name=out_crs.name,
                        encoding=enc, layers=tuple(reports), files=written.files,
                        aliases_in_format=written.aliases_written, warnings=tuple(warnings))


def _modelled(m: Mapping[str, Any]) -> bool | None:
    """Whether the caller says the layer is modelled; ``None`` when not stated."""
    v = m.get("modelled")
    return None if v is None else bool(v)


def _fields_csv(rec: dict[str, Any]) -> bytes:
    buf = _stdio.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["short_name", "full_name", "alias"])
    for f in rec["fields"]:
        w.writerow([f["name"], f["full_name"], f["alias"]])
    return buf.getvalue().encode("utf-8-sig")  # the BOM lets Excel show the Chinese aliases


def _metadata_table(records: list[dict[str, Any]]) -> pd.DataFrame:
    def js(v: Any) -> str:
        return json.dumps(v, ensure_ascii=False, default=str)

    return pd.DataFrame({
        "LAYER": [r["layer"] for r in records], "LAYER_KEY": [r["key"] for r in records],
        "ALIAS": [r["alias"] for r in records], "YSDM": [r["ysdm"] for r in records],
        "TITLE": [r["title"] for r in records],
        "FEATURES": np.array([r["features"] for r in records], dtype=np.int32),
        "GEOMETRY": [r["geometry"] for r in records], "CRS": [r["crs"] for r in records],
        "SOURCE": [str(r["source"]) for r in records],
        "MODELLED": np.array([{True: 1, False: 0}.get(r["modelled"], -1) for r in records], dtype=np.int32),
        "METHOD": [str(r["method"]) for r in records], "PARAMETERS": [js(r["parameters"]) for r in records],
        "NOTE": [str(r["note"]) for r in records], "FIELDS": [js(r["fields"]) for r in records],
        "VERSION": [r["geoplan_version"] for r in records], "CREATED": [r["created"] for r in records],
    })


def export_project(proj: Project, path: str | os.PathLike[str], *,
                   extra_layers: Mapping[str, gpd.GeoDataFrame | Raster] | None = None, year: int = 2025,
                   plan: str | None = None, population_year: int | None = None, format: str | None = None,
                   crs: int | str | CRS = GEOGRAPHIC_EPSG, encoding: str = "UTF-8", zone_prefix: bool = False,
                   metadata: Mapping[str, Mapping[str, Any]] | None = None) -> ExportReport:
    """Export a project: districts with their density-check results, its layers and ``extra_layers``.

    The districts carry ``POP`` and the result of :func:`geoplan.targets.check`
    for ``year``: ``STATIONS``, ``PER_10K``, ``TARGET``, ``REQUIRED``,
    ``SHORTFALL``. When ``extra_layers`` holds ``planned_sites``, the planned
    stations count in (``PLANNED`` per district, ``STATIONS`` = existing + planned).

    Parameters
    ----------
    proj : Project
        The project.
    path : path-like
        Output (see :func:`write`).
    extra_layers : mapping, optional
        Further layers by key (``planned_sites``, ``edge_dc``, ``car_parks``,
        ``coverage`` as a Raster ...); they replace project layers of the same key.
    year, plan, population_year
        Passed to :func:`geoplan.targets.check`.
    format, crs, encoding, zone_prefix
        Passed to :func:`write`.
    metadata : mapping, optional
        Per layer key, how it was made (merged over what the project records).
    """
    from . import targets

    extra = dict(extra_layers or {})
    planned = extra.get("planned_sites")
    per_district = None
    if isinstance(planned, gpd.GeoDataFrame) and len(planned):
        if planned.crs is None:
            raise CRSError(Problem("planned_sites", "CRS", "the layer has no CRS", "set it with set_crs()"))
        idx = points_in_districts(planned.to_crs(proj.metric_crs), proj.metric("districts"))
        per_district = np.bincount(idx[idx >= 0], minlength=len(proj.districts))
    if plan is None and proj.targets is None:  # a project without targets: its layers, without density results
        rep = None
        d = proj.districts.copy()
    else:
        rep = targets.check(proj, year=year, plan=plan, population_year=population_year,
                            extra_stations=per_district)
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
    layers: dict[str, gpd.GeoDataFrame | Raster] = {"districts": d, **proj.layers, **extra}

    meta: dict[str, dict[str, Any]] = {}
    for key in layers:
        prov = proj.provenance.get(key, {})
        if key in extra:
            meta[key] = {"source": "computed by geoplan" if key != "coverage" else "geoplan coverage model",
                         "modelled": True, "method": "supplied by the caller"}
        else:
            meta[key] = {"source": prov.get("path", ""), "modelled": bool(prov.get("modelled", False)),
                         "method": "input layer", "note": prov.get("note", "")}
    if rep is not None:
        meta["districts"].update({
            "method": "district layer + geoplan.targets.check (stations per 10k residents vs the plan's target)",
            "parameters": {"plan": rep.plan.key, "document": rep.plan.document, "year": year,
                           "target_per_10k": float(rep.total.target_per_10k), "population_basis": rep.basis,
                           "planned_sites_counted": per_district is not None},
        })
    else:
        meta["districts"]["note"] = "the project states no targets: no density results"
    for key, m in (metadata or {}).items():
        meta.setdefault(key, {}).update(m)
    return write(layers, path, format=format, crs=crs, encoding=encoding, zone_prefix=zone_prefix,
                 metadata=meta, districts=proj.districts, metric_crs=proj.metric_crs)


_MIME = {".gpkg": "application/geopackage+sqlite3", ".zip": "application/zip", ".tif": "image/tiff",
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
