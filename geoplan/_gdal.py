"""GDAL's C API through ctypes, for the field aliases (alternative names) pyogrio does not expose.

Private to :mod:`geoplan.io`, which is the only caller: this module opens files,
and only ``io`` touches disk. It binds the GDAL library pyogrio runs on (its
bundled ``libgdal`` in a wheel install, else the system's), version 3.7 or later
(``OGR_Fld_SetAlternativeName``); :func:`library` is ``None`` when none is found,
and the callers fall back (a GeoPackage's ``gpkg_data_columns`` table) or say so.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from pathlib import Path
from typing import Any

import pyogrio

from .errors import ReadError, WriteError

__all__ = ["library", "write_aliases", "read_aliases"]

_ALTER_ALTERNATIVE_NAME_FLAG = 0x80
_GDAL_OF_UPDATE = 0x01
_GDAL_OF_VECTOR = 0x04
#: Oldest GDAL with field alternative names in the C API (3.7.0).
_MIN_VERSION_NUM = 3070000

_VP, _CP, _CI = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int
#: The functions geoplan calls: name → (restype, argtypes).
_SIGNATURES: dict[str, tuple[Any, list[Any]]] = {
    "GDALAllRegister": (None, []),
    "GDALOpenEx": (_VP, [_CP, ctypes.c_uint, _VP, _VP, _VP]),
    "GDALClose": (_CI, [_VP]),
    "GDALDatasetGetLayerByName": (_VP, [_VP, _CP]),
    "OGR_L_GetLayerDefn": (_VP, [_VP]),
    "OGR_L_AlterFieldDefn": (_CI, [_VP, _CI, _VP, _CI]),
    "OGR_FD_GetFieldCount": (_CI, [_VP]),
    "OGR_FD_GetFieldDefn": (_VP, [_VP, _CI]),
    "OGR_FD_GetFieldIndex": (_CI, [_VP, _CP]),
    "OGR_Fld_Create": (_VP, [_CP, _CI]),
    "OGR_Fld_Destroy": (None, [_VP]),
    "OGR_Fld_GetNameRef": (_CP, [_VP]),
    "OGR_Fld_GetType": (_CI, [_VP]),
    "OGR_Fld_GetSubType": (_CI, [_VP]),
    "OGR_Fld_SetSubType": (None, [_VP, _CI]),
    "OGR_Fld_GetAlternativeNameRef": (_CP, [_VP]),
    "OGR_Fld_SetAlternativeName": (None, [_VP, _CP]),
}


def _candidates() -> list[str]:
    """Library files to try: pyogrio's bundled GDAL first (the one it writes with), then the system's."""
    here = Path(pyogrio.__file__).resolve().parent
    bundled = sorted(here.parent.glob("pyogrio.libs/libgdal*")) + sorted(here.glob(".dylibs/libgdal*"))
    found = ctypes.util.find_library("gdal")
    return [str(c) for c in bundled] + ([found] if found else [])


def _bind(path: str) -> Any:
    """The library at ``path`` with :data:`_SIGNATURES` declared; ``None`` if too old or not GDAL."""
    try:
        lib = ctypes.CDLL(path)
        lib.GDALVersionInfo.restype = ctypes.c_char_p
        lib.GDALVersionInfo.argtypes = [ctypes.c_char_p]
        if int(lib.GDALVersionInfo(b"VERSION_NUM")) < _MIN_VERSION_NUM:
            return None
        for fn, (res, args) in _SIGNATURES.items():
            f = getattr(lib, fn)
            f.restype, f.argtypes = res, args
    except (OSError, AttributeError, ValueError):
        return None
    lib.GDALAllRegister()
    return lib


@functools.cache
def library() -> Any:
    """The GDAL library pyogrio runs on, with the few functions geoplan calls; ``None`` if not found."""
    for path in _candidates():
        lib = _bind(path)
        if lib is not None:
            return lib
    return None


def write_aliases(dest: Path, aliases: dict[str, dict[str, str]]) -> bool:
    """Set field alternative names with ``OGR_L_AlterFieldDefn``; ``False`` when GDAL is not reachable.

    Parameters
    ----------
    dest : pathlib.Path
        A dataset GDAL can update in place (a FileGDB folder).
    aliases : dict
        Layer name → {field name → alias}. Fields the layer lacks are skipped.

    Raises
    ------
    WriteError
        A layer is missing or GDAL refused an alias.
    """
    lib = library()
    if lib is None:
        return False
    ds = lib.GDALOpenEx(str(dest).encode(), _GDAL_OF_VECTOR | _GDAL_OF_UPDATE, None, None, None)
    if not ds:
        return False
    try:
        for name, fields in aliases.items():
            lyr = lib.GDALDatasetGetLayerByName(ds, name.encode())
            if not lyr:
                raise WriteError(f"layer {name} vanished from {dest.name} while writing aliases")
            for col, alias in fields.items():
                _alter_alias(lib, lyr, col, alias, layer=name)
    finally:
        lib.GDALClose(ds)
    return True


def _alter_alias(lib: Any, lyr: Any, col: str, alias: str, *, layer: str) -> None:
    defn = lib.OGR_L_GetLayerDefn(lyr)
    i = lib.OGR_FD_GetFieldIndex(defn, col.encode())
    if i < 0:
        return
    old = lib.OGR_FD_GetFieldDefn(defn, i)
    fld = lib.OGR_Fld_Create(col.encode(), lib.OGR_Fld_GetType(old))
    try:
        lib.OGR_Fld_SetSubType(fld, lib.OGR_Fld_GetSubType(old))
        lib.OGR_Fld_SetAlternativeName(fld, alias.encode())
        if lib.OGR_L_AlterFieldDefn(lyr, i, fld, _ALTER_ALTERNATIVE_NAME_FLAG) != 0:
            raise WriteError(f"GDAL refused the alias of field {col} in layer {layer}")
    finally:
        lib.OGR_Fld_Destroy(fld)


def read_aliases(path: Path, *, sublayer: str) -> dict[str, str] | None:
    """Field name → alias of layer ``sublayer`` of ``path``; ``None`` when GDAL is not reachable.

    Raises
    ------
    ReadError
        GDAL cannot open the file or it has no such layer.
    """
    lib = library()
    if lib is None:
        return None
    ds = lib.GDALOpenEx(str(path).encode(), _GDAL_OF_VECTOR, None, None, None)
    if not ds:
        raise ReadError(f"cannot open {path} to read field aliases")
    try:
        lyr = lib.GDALDatasetGetLayerByName(ds, sublayer.encode())
        if not lyr:
            raise ReadError(f"{path} has no layer {sublayer!r}")
        defn = lib.OGR_L_GetLayerDefn(lyr)
        out: dict[str, str] = {}
        for i in range(lib.OGR_FD_GetFieldCount(defn)):
            fld = lib.OGR_FD_GetFieldDefn(defn, i)
            alt = lib.OGR_Fld_GetAlternativeNameRef(fld)
            if alt:
                out[lib.OGR_Fld_GetNameRef(fld).decode()] = alt.decode()
        return out
    finally:
        lib.GDALClose(ds)
