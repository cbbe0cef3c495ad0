"""Validation at the boundary: every problem of a layer, collected at once.

Readers in :mod:`geoplan.io` return raw data; :func:`validate_vector` and
:func:`validate_raster` check them against the layer specs and raise one
:class:`~geoplan.errors.ValidationError` listing everything that is wrong.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .errors import CRSError, Problem, ValidationError
from .io import Raster
from .layers import LayerSpec

__all__ = ["validate_vector", "validate_raster", "raise_if"]

_GEOM_FAMILY = {
    "Point": {"Point", "MultiPoint"},
    "Polygon": {"Polygon", "MultiPolygon"},
    "LineString": {"LineString", "MultiLineString"},
}
_MAX_LISTED = 5


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
        wrong geometry type, missing/non-numeric/out-of-range fields.
    """
    layer = name or spec.key
    problems: list[Problem] = []
    fmap = dict(field_map or {})
    for canon, col in fmap.items():
        if col not in gdf.columns:
            problems.append(Problem(layer, col, f"the project file maps field {canon} to column '{col}', "
                                    f"which the layer does not have (columns: {', '.join(map(str, gdf.columns[:12]))})",
                                    f"set [layers.{spec.key}.fields] {canon} to an existing column"))
    gdf = gdf.rename(columns={v: k for k, v in fmap.items() if v in gdf.columns and v != k})

    if len(gdf) == 0:
        problems.append(Problem(layer, None, "the layer has no features",
                                "check the file and the sub-layer name; export the features again"))
        raise_if(problems)
    if gdf.crs is None:
        problems.append(Problem(layer, "CRS", "the layer has no coordinate reference system",
                                "set one in your GIS (e.g. EPSG:4490 or EPSG:4548), or declare it with "
                                f"crs = \"EPSG:....\" under [layers.{spec.key}] in the project file"))

    geom = gdf.geometry
    missing = geom.isna() | geom.is_empty
    if missing.any():
        problems.append(Problem(layer, "geometry", f"{int(missing.sum())} feature(s) have no geometry "
                                f"(rows {_rows(gdf.index[missing.to_numpy()])})",
                                "delete those features or draw their geometry"))
    present = geom[~missing]
    allowed = _GEOM_FAMILY.get(spec.geometry)
    if allowed is not None and len(present):
        types = present.geom_type
        wrong = ~types.isin(list(allowed))
        if wrong.any():
            found = ", ".join(sorted(set(types[wrong])))
            problems.append(Problem(layer, "geometry", f"expected {spec.geometry} features but found {found} "
                                    f"(rows {_rows(present.index[wrong.to_numpy()])})",
                                    f"keep only {spec.geometry} features in this layer (split mixed layers by type)"))
    if len(present):
        valid = shapely.is_valid(present.to_numpy())
        if not valid.all():
            bad = present[~valid]
            reason = shapely.is_valid_reason(bad.iloc[0])
            problems.append(Problem(layer, "geometry", f"{int((~valid).sum())} invalid geometr"
                                    f"{'y' if (~valid).sum() == 1 else 'ies'} (rows {_rows(bad.index)}; first: {reason})",
                                    "repair them (QGIS: Fix geometries; shapely.make_valid) and load again"))

    for f in spec.fields:
        if f.name not in gdf.columns:
            if f.required or f.name in require:
                problems.append(Problem(layer, f.name, "required field is missing",
                                        f"add the field, or map an existing column to it with "
                                        f"[layers.{spec.key}.fields] {f.name} = \"<column>\""))
            continue
        col = gdf[f.name]
        if f.type in ("int", "float"):
            num = pd.to_numeric(col, errors="coerce")
            bad = num.isna() & col.notna()
            if bad.any():
                problems.append(Problem(layer, f.name, f"non-numeric value(s) {_rows(pd.Index(col[bad].astype(str)))} "
                                        f"(rows {_rows(gdf.index[bad.to_numpy()])})",
                                        "store numbers only (no units or thousands separators)"))
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
                gdf[f.name] = num.astype("int64") if f.type == "int" and not num.isna().any() else num
        else:
            if f.required and (col.isna() | (col.astype(str).str.strip() == "")).any():
                empty = col.isna() | (col.astype(str).str.strip() == "")
                problems.append(Problem(layer, f.name, f"{int(empty.sum())} empty value(s) "
                                        f"(rows {_rows(gdf.index[empty.to_numpy()])})", "fill them in"))
            gdf[f.name] = col.where(col.isna(), col.astype(str))
        if f.choices is not None and f.name in gdf.columns:
            vals = gdf[f.name].dropna()
            off = ~vals.isin(list(f.choices))
            if off.any():
                problems.append(Problem(layer, f.name, f"unknown value(s) {_rows(pd.Index(sorted(set(vals[off].astype(str)))))}",
                                        f"use one of {', '.join(map(str, f.choices))}"))
    raise_if(problems)
    return gdf


def validate_raster(raster: Raster) -> None:
    """Check a population raster: CRS present, some data, no negative counts."""
    layer = raster.name
    problems: list[Problem] = []
    if raster.crs is None:
        problems.append(Problem(layer, "CRS", "the raster has no coordinate reference system",
                                "assign one (gdal_edit.py -a_srs EPSG:4548 file.tif) or declare crs in the project file"))
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
