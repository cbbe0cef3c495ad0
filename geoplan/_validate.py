"""Validation at the boundary: every problem of a layer, collected at once.

Readers in :mod:`geoplan.io` return raw data; :func:`validate_vector` and
:func:`validate_raster` check them against the layer specs and raise one
:class:`~geoplan.errors.ValidationError` listing everything that is wrong.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .errors import CRSError, Problem, ValidationError
from .io import Raster
from .layers import FieldSpec, LayerSpec

__all__ = ["validate_vector", "validate_raster", "raise_if"]

_GEOM_FAMILY = {
    "Point": {"Point", "MultiPoint"},
    "Polygon": {"Polygon", "MultiPolygon"},
    "LineString": {"LineString", "MultiLineString"},
}
_MAX_LISTED = 5

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())


def raise_if(problems: list[Problem]) -> None:
    """Raise the right error for ``problems`` (a :class:`CRSError` when all are about CRS)."""
    if not problems:
        return
    if all(p.field == "CRS" for p in problems):
        raise CRSError(problems)
    raise ValidationError(problems)


def _rows(idx: pd.Index | np.ndarray) -> str:
    vals = list(idx[:_MAX_LISTED])
    more = f" and {len(idx) - _MAX_LISTED} more" if len(idx) > _MAX_LISTED else ""
    return ", ".join(str(v) for v in vals) + more


def validate_vector(gdf: gpd.GeoDataFrame, spec: LayerSpec, *, name: str | None = None,
                    field_map: dict[str, str] | None = None, require: tuple[str, ...] = ()) -> gpd.GeoDataFrame:
    """Check a vector layer against its spec and return it with canonical field names.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        The layer as read.
    spec : LayerSpec
        Its spec.
    name : str, optional
        The layer's name in messages (default: the spec key).
    field_map : dict, optional
        Canonical field name → the column that holds it in ``gdf``.
    require : tuple of str
        Fields required in this use beyond the spec's own required fields.

    Raises
    ------
    ValidationError
        Listing every problem: empty layer, no CRS, null/empty/invalid geometry,
        wrong geometry type, features at (0, 0), missing/non-numeric/infinite/
        out-of-range fields, duplicated identifiers, malformed codes.
    """
    layer = name or spec.key
    table = f"[{layer}]" if "." in layer else f"[layers.{spec.key}]"  # siting layers: [inventories.<name>] ...
    problems: list[Problem] = []
    fmap = dict(field_map or {})
    for canon, col in fmap.items():
        if col not in gdf.columns:
            problems.append(Problem(layer, col, f"the project file maps field {canon} to column '{col}', "
                                    f"which the layer does not have (columns: {', '.join(map(str, gdf.columns[:12]))})",
                                    f"set fields = {{ {canon} = \"<column>\" }} under {table} to an existing column"))
    gdf = gdf.rename(columns={v: k for k, v in fmap.items() if v in gdf.columns and v != k})

    if len(gdf) == 0:
        problems.append(Problem(layer, None, "the layer has no features",
                                "check the file and the sub-layer name; export the features again"))
        raise_if(problems)
    if gdf.crs is None:
        problems.append(Problem(layer, "CRS", "the layer has no coordinate reference system",
                                "set one in your GIS (e.g. EPSG:4490 or EPSG:4548), or declare it with "
                                f"crs = \"EPSG:....\" under {table} in the project file"))
    gdf = _single_part_points(gdf, spec, layer)
    problems += _geometry_problems(gdf, spec, layer)
    for f in spec.fields:
        if f.name not in gdf.columns:
            if f.required or f.name in require:
                problems.append(Problem(layer, f.name, "required field is missing",
                                        f"add the field, or map an existing column to it with "
                                        f"fields = {{ {f.name} = \"<column>\" }} under {table}"))
            continue
        gdf = _check_field(gdf, f, layer, problems)
    raise_if(problems)
    return gdf


def _single_part_points(gdf: gpd.GeoDataFrame, spec: LayerSpec, layer: str) -> gpd.GeoDataFrame:
    """MultiPoints of one point each (common in shapefile exports) as Points, in a Point layer."""
    if spec.geometry != "Point" or not len(gdf):
        return gdf
    geoms = gdf.geometry.to_numpy()
    multi = shapely.get_type_id(geoms) == 4
    if not multi.any():
        return gdf
    single = multi & (shapely.get_num_geometries(geoms) == 1)
    if not single.any():
        return gdf
    out = gdf.copy()
    fixed = geoms.copy()
    fixed[single] = shapely.get_geometry(geoms[single], 0)
    out.geometry = gpd.GeoSeries(fixed, index=gdf.index, crs=gdf.crs)
    log.info("layer %s: %d single-point MultiPoint features read as Points", layer, int(single.sum()))
    return out


def _geometry_problems(gdf: gpd.GeoDataFrame, spec: LayerSpec, layer: str) -> list[Problem]:
    problems: list[Problem] = []
    geom = gdf.geometry
    missing = geom.isna() | geom.is_empty
    if missing.any():
        problems.append(Problem(layer, "geometry", f"{int(missing.sum())} feature(s) have no geometry "
                                f"(rows {_rows(gdf.index[missing.to_numpy()])})",
                                "delete those features or draw their geometry"))
    present = geom[~missing]
    if not len(present):
        return problems
    arr = present.to_numpy()
    allowed = _GEOM_FAMILY.get(spec.geometry)
    types = present.geom_type
    if allowed is not None:
        wrong = ~types.isin(list(allowed))
        if wrong.any():
            found = ", ".join(sorted(set(types[wrong])))
            problems.append(Problem(layer, "geometry", f"expected {spec.geometry} features but found {found} "
                                    f"(rows {_rows(present.index[wrong.to_numpy()])})",
                                    f"keep only {spec.geometry} features in this layer (split mixed layers by type)"))
    if spec.geometry == "Point":
        multi = (types == "MultiPoint").to_numpy()
        if multi.any():
            problems.append(Problem(layer, "geometry", f"{int(multi.sum())} MultiPoint feature(s) hold several "
                                    f"points each (rows {_rows(present.index[multi])}): which one is the site?",
                                    "split them into single points (QGIS: Multipart to Singleparts)"))
    valid = shapely.is_valid(arr)
    if not valid.all():
        bad = present[~valid]
        reason = shapely.is_valid_reason(bad.iloc[0])
        problems.append(Problem(layer, "geometry", f"{int((~valid).sum())} invalid geometr"
                                f"{'y' if (~valid).sum() == 1 else 'ies'} (rows {_rows(bad.index)}; first: {reason})",
                                "repair them (QGIS: Fix geometries; shapely.make_valid) and load again"))
    xy = shapely.get_coordinates(arr)
    if len(xy) and not np.isfinite(xy).all():
        problems.append(Problem(layer, "geometry", "some coordinates are infinite or NaN",
                                "repair the geometries in your GIS and export again"))
    if spec.geometry == "Point":
        pts = shapely.get_coordinates(shapely.centroid(arr))
        null = (np.abs(pts) < 1e-9).all(axis=1) if len(pts) == len(arr) else np.zeros(len(arr), bool)
        if null.any():
            problems.append(Problem(layer, "geometry", f"{int(null.sum())} feature(s) lie at (0, 0) "
                                    f"(rows {_rows(present.index[null])}): their coordinates are missing",
                                    "fill in their real coordinates or delete them"))
    return problems


def _integral_text(col: pd.Series) -> pd.Series:
    """Codes stored as floats (350203.0) as their integer text ("350203")."""
    if pd.api.types.is_float_dtype(col):
        vals = col.dropna()
        if len(vals) and np.isfinite(vals).all() and (vals == np.round(vals)).all():
            return col.where(col.isna(), col.round().astype("Int64").astype(str))
    return col.where(col.isna(), col.astype(str))


def _check_field(gdf: gpd.GeoDataFrame, f: FieldSpec, layer: str, problems: list[Problem]) -> gpd.GeoDataFrame:
    col = gdf[f.name]
    if f.type in ("int", "float"):
        num = pd.to_numeric(col, errors="coerce")
        bad = num.isna() & col.notna()
        if bad.any():
            problems.append(Problem(layer, f.name, f"non-numeric value(s) {_rows(pd.Index(col[bad].astype(str)))} "
                                    f"(rows {_rows(gdf.index[bad.to_numpy()])})",
                                    "store numbers only (no units, 万 or thousands separators)"))
        inf = np.isinf(num.to_numpy(dtype=float, na_value=np.nan))
        if inf.any():
            problems.append(Problem(layer, f.name, f"{int(inf.sum())} infinite value(s) "
                                    f"(rows {_rows(gdf.index[inf])})", "store finite numbers"))
        if f.required and col.isna().any():
            problems.append(Problem(layer, f.name, f"{int(col.isna().sum())} empty value(s) "
                                    f"(rows {_rows(gdf.index[col.isna().to_numpy()])})", "fill them in"))
        if f.min is not None and (num < f.min).any():
            low = num < f.min
            problems.append(Problem(layer, f.name, f"value(s) below {f.min}: {_rows(pd.Index(num[low]))} "
                                    f"(rows {_rows(gdf.index[low.to_numpy()])})",
                                    f"correct them; {f.name} cannot be negative" if f.min == 0 else "correct them"))
        if f.max is not None and (num > f.max).any():
            problems.append(Problem(layer, f.name, f"value(s) above {f.max}", "correct them"))
        if not bad.any():
            gdf[f.name] = num.astype("int64") if f.type == "int" and not num.isna().any() and not inf.any() else num
    else:
        empty = col.isna() | (col.astype(str).str.strip() == "")
        if f.required and empty.any():
            problems.append(Problem(layer, f.name, f"{int(empty.sum())} empty value(s) "
                                    f"(rows {_rows(gdf.index[empty.to_numpy()])})", "fill them in"))
        gdf[f.name] = _integral_text(col)
        _warn_mojibake(gdf[f.name], layer, f.name)
    vals = gdf[f.name].dropna()
    if f.choices is not None:
        off = ~vals.isin(list(f.choices))
        if off.any():
            problems.append(Problem(layer, f.name, f"unknown value(s) {_rows(pd.Index(sorted(set(vals[off].astype(str)))))}",
                                    f"use one of {', '.join(map(str, f.choices))}"))
    if f.unique:
        dup = vals[vals.duplicated(keep=False)]
        if len(dup):
            problems.append(Problem(layer, f.name, f"{dup.nunique()} value(s) used by more than one feature "
                                    f"({_rows(pd.Index(sorted(set(dup.astype(str)))))}; rows {_rows(dup.index)})",
                                    f"give every feature its own {f.name}"))
    if f.pattern is not None and len(vals):
        ok = vals.astype(str).str.fullmatch(f.pattern)
        if not ok.all():
            problems.append(Problem(layer, f.name, f"malformed value(s) {_rows(pd.Index(vals[~ok].astype(str)))} "
                                    f"(rows {_rows(vals.index[~ok.to_numpy()])})",
                                    f"write {f.name} as {f.pattern_description or f.pattern}"))
    return gdf


def _warn_mojibake(col: pd.Series, layer: str, field: str) -> None:
    from ._detect import mojibake

    found = mojibake(col.dropna().astype(str).head(2000).tolist())
    if found is not None:
        garbled, readable, enc = found
        log.warning("layer %s, field %s: text looks garbled (%r reads as %r when decoded as UTF-8 instead of %s): "
                    "the layer's encoding is wrong. Set encoding = \"UTF-8\" for the layer (or correct its .cpg)",
                    layer, field, garbled, readable, enc)


def validate_raster(raster: Raster) -> None:
    """Check a population raster: a usable CRS and grid, some data, no negative or infinite counts."""
    layer = raster.name
    problems: list[Problem] = []
    if raster.crs is None:
        problems.append(Problem(layer, "CRS", "the raster has no coordinate reference system",
                                "assign one (gdal_edit.py -a_srs EPSG:4548 file.tif) or declare crs in the project file"))
    elif not (raster.crs.is_geographic or raster.crs.is_projected):
        problems.append(Problem(layer, "CRS", f"the raster's CRS ({raster.crs.name}) is a local or engineering "
                                "system that cannot be placed on the globe",
                                "re-project it to EPSG:4490 or a CGCS2000 Gauss-Krüger zone (e.g. EPSG:4548)"))
    t = raster.transform
    if not (np.isfinite([t.a, t.b, t.c, t.d, t.e, t.f]).all() and t.a != 0 and t.e != 0):
        problems.append(Problem(layer, "geotransform", f"the raster has no usable cell size ({tuple(t)[:6]})",
                                "georeference it again in your GIS"))
    values = raster.values
    infinite = np.isinf(values)
    if raster.nodata is not None and np.isinf(raster.nodata):
        infinite &= values != raster.nodata
    if infinite.any():
        problems.append(Problem(layer, "band1", f"{int(infinite.sum())} cell(s) hold an infinite population",
                                "set those cells to the no-data value or to real counts"))
    valid = raster.valid
    if not valid.any():
        problems.append(Problem(layer, "band1", "the raster holds no data (every cell is no-data)",
                                "check the no-data value and the band number"))
    else:
        neg = valid & (raster.values < 0)
        if neg.any():
            problems.append(Problem(layer, "band1", f"{int(neg.sum())} cell(s) with negative population "
                                    f"(min {raster.values[neg].min():g})",
                                    "set the raster's no-data value to the fill value used, or clip counts at 0"))
    raise_if(problems)
