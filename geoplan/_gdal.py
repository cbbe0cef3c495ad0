"""GDAL's C API through ctypes, for field aliases and coded-value domains, which pyogrio does not expose.

Private to :mod:`geoplan.io`, which is the only caller: this module opens files,
and only ``io`` touches disk. It binds the GDAL library pyogrio runs on (its
bundled ``libgdal`` in a wheel install, else the system's), version 3.7 or later
(``OGR_Fld_SetAlternativeName``); :func:`library` is ``None`` when none is found,
and the callers fall back (a GeoPackage's ``gpkg_data_columns`` table) or say so.
Coded-value field domains (GDAL ≥ 3.3: ``OGR_CodedFldDomain_Create``,
``GDALDatasetAddFieldDomain``, ``OGR_Fld_SetDomainName``) are written to FileGDB and
read back from FileGDB and GeoPackage as ArcGIS and QGIS see them.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyogrio

from .errors import ReadError, WriteError

__all__ = ["library", "write_aliases", "read_aliases", "Domain", "write_domains", "read_domains"]

_ALTER_DOMAIN_FLAG = 0x40
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
    "OGR_Fld_GetDomainName": (_CP, [_VP]),
    "OGR_Fld_SetDomainName": (None, [_VP, _CP]),
    "OGR_CodedFldDomain_Create": (_VP, [_CP, _CP, _CI, _CI, _VP]),
    "OGR_CodedFldDomain_GetEnumeration": (_VP, [_VP]),
    "OGR_FldDomain_Destroy": (None, [_VP]),
    "OGR_FldDomain_GetDescription": (_CP, [_VP]),
    "OGR_FldDomain_GetDomainType": (_CI, [_VP]),
    "OGR_FldDomain_GetFieldType": (_CI, [_VP]),
    "GDALDatasetAddFieldDomain": (ctypes.c_bool, [_VP, _VP, ctypes.POINTER(_CP)]),
    "GDALDatasetGetFieldDomain": (_VP, [_VP, _CP]),
    "GDALDatasetGetFieldDomainNames": (ctypes.POINTER(_CP), [_VP, _VP]),
    "CSLDestroy": (None, [ctypes.POINTER(_CP)]),
    "VSIFree": (None, [_VP]),
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
                _alter_field(lib, lyr, col, flag=_ALTER_ALTERNATIVE_NAME_FLAG, set_value="OGR_Fld_SetAlternativeName",
                             value=alias, layer=name)
    finally:
        lib.GDALClose(ds)
    return True


def _alter_field(lib: Any, lyr: Any, col: str, *, flag: int, set_value: str, value: str, layer: str) -> None:
    """Change one property of field ``col`` (its alias or its domain) with ``OGR_L_AlterFieldDefn``."""
    defn = lib.OGR_L_GetLayerDefn(lyr)
    i = lib.OGR_FD_GetFieldIndex(defn, col.encode())
    if i < 0:
        return
    old = lib.OGR_FD_GetFieldDefn(defn, i)
    fld = lib.OGR_Fld_Create(col.encode(), lib.OGR_Fld_GetType(old))
    try:
        lib.OGR_Fld_SetSubType(fld, lib.OGR_Fld_GetSubType(old))
        getattr(lib, set_value)(fld, value.encode())
        if lib.OGR_L_AlterFieldDefn(lyr, i, fld, flag) != 0:
            raise WriteError(f"GDAL refused {value!r} for field {col} of layer {layer} ({set_value})")
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
        return _field_values(lib, ds, path, sublayer, "OGR_Fld_GetAlternativeNameRef")
    finally:
        lib.GDALClose(ds)


def _field_values(lib: Any, ds: Any, path: Path, sublayer: str, getter: str) -> dict[str, str]:
    """Field name → a text property (alias, domain name) of the fields of layer ``sublayer`` that have one."""
    lyr = lib.GDALDatasetGetLayerByName(ds, sublayer.encode())
    if not lyr:
        raise ReadError(f"{path} has no layer {sublayer!r}")
    defn = lib.OGR_L_GetLayerDefn(lyr)
    out: dict[str, str] = {}
    for i in range(lib.OGR_FD_GetFieldCount(defn)):
        fld = lib.OGR_FD_GetFieldDefn(defn, i)
        value = getattr(lib, getter)(fld)
        if value:
            out[lib.OGR_Fld_GetNameRef(fld).decode()] = value.decode()
    return out


# --- coded-value field domains ----------------------------------------------------------------------

#: OGR field types of domain values: GDAL's ``OFTInteger``, ``OFTReal``, ``OFTString``.
_OFT = {"int": 0, "float": 2, "str": 4}
_OFD_CODED = 0


class _CodedValue(ctypes.Structure):
    _fields_ = [("pszCode", _CP), ("pszValue", _CP)]


@dataclass(frozen=True)
class Domain:
    """A coded-value domain as GDAL holds it.

    Attributes
    ----------
    name : str
        Domain name in the dataset.
    description : str
        What the codes mean (shown by ArcGIS beside the name).
    field_type : {"str", "int", "float"}
        Type of the fields it applies to.
    codes : dict
        Code (as text) → label, in order.
    """

    name: str
    description: str
    field_type: str
    codes: dict[str, str]


def write_domains(dest: Path, domains: Sequence[Domain], fields: Mapping[str, Mapping[str, str]]) -> bool:
    """Add coded-value ``domains`` to dataset ``dest`` and attach them to fields.

    Parameters
    ----------
    dest : pathlib.Path
        A dataset GDAL can update in place (a FileGDB folder).
    domains : sequence of Domain
    fields : mapping
        Layer name → {field name → domain name}. Fields the layer lacks are skipped.

    Returns
    -------
    bool
        ``False`` when GDAL's C library is not reachable (nothing was written).

    Raises
    ------
    WriteError
        GDAL refused a domain or an attachment.
    """
    lib = library()
    if lib is None:
        return False
    ds = lib.GDALOpenEx(str(dest).encode(), _GDAL_OF_VECTOR | _GDAL_OF_UPDATE, None, None, None)
    if not ds:
        return False
    try:
        for dom in domains:
            _add_domain(lib, ds, dom)
        for layer, cols in fields.items():
            lyr = lib.GDALDatasetGetLayerByName(ds, layer.encode())
            if not lyr:
                raise WriteError(f"layer {layer} vanished from {dest.name} while writing domains")
            for col, name in cols.items():
                _alter_field(lib, lyr, col, flag=_ALTER_DOMAIN_FLAG, set_value="OGR_Fld_SetDomainName", value=name,
                             layer=layer)
    finally:
        lib.GDALClose(ds)
    return True


def _add_domain(lib: Any, ds: Any, dom: Domain) -> None:
    items = list(dom.codes.items())
    values = (_CodedValue * (len(items) + 1))()
    for i, (code, label) in enumerate(items):
        values[i].pszCode, values[i].pszValue = code.encode(), label.encode()
    values[len(items)].pszCode = values[len(items)].pszValue = None
    h = lib.OGR_CodedFldDomain_Create(dom.name.encode(), dom.description.encode(), _OFT[dom.field_type], 0,
                                      ctypes.cast(values, _VP))
    if not h:
        raise WriteError(f"GDAL could not create the coded-value domain {dom.name}")
    reason = _CP()
    try:
        if not lib.GDALDatasetAddFieldDomain(ds, h, ctypes.byref(reason)):
            why = reason.value.decode(errors="replace") if reason.value else "no reason given"
            raise WriteError(f"GDAL refused the domain {dom.name}: {why}")
    finally:
        lib.OGR_FldDomain_Destroy(h)


def read_domains(path: Path, *, sublayer: str | None = None) -> tuple[dict[str, Domain], dict[str, str]] | None:
    """Coded-value domains of ``path`` and, with ``sublayer``, its fields' domain names.

    Returns
    -------
    (dict, dict) or None
        Domain name → :class:`Domain` (coded-value domains only), and field name →
        domain name of layer ``sublayer`` (empty without it); ``None`` when GDAL's C
        library is not reachable.

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
        raise ReadError(f"cannot open {path} to read field domains")
    try:
        domains = {}
        for name in _string_list(lib, lib.GDALDatasetGetFieldDomainNames(ds, None)):
            dom = _read_domain(lib, lib.GDALDatasetGetFieldDomain(ds, name.encode()), name)
            if dom is not None:
                domains[name] = dom
        used = {} if sublayer is None else _field_values(lib, ds, path, sublayer, "OGR_Fld_GetDomainName")
        return domains, used
    finally:
        lib.GDALClose(ds)


def _string_list(lib: Any, arr: Any) -> list[str]:
    """A GDAL string list (``char**``) as Python strings; the list is freed."""
    out: list[str] = []
    if not arr:
        return out
    i = 0
    while arr[i] is not None:
        out.append(arr[i].decode())
        i += 1
    lib.CSLDestroy(arr)
    return out


def _read_domain(lib: Any, h: Any, name: str) -> Domain | None:
    if not h or lib.OGR_FldDomain_GetDomainType(h) != _OFD_CODED:
        return None
    kinds = {v: k for k, v in _OFT.items()}
    ptr = ctypes.cast(lib.OGR_CodedFldDomain_GetEnumeration(h), ctypes.POINTER(_CodedValue))
    codes: dict[str, str] = {}
    i = 0
    while ptr and ptr[i].pszCode is not None:
        codes[ptr[i].pszCode.decode()] = ptr[i].pszValue.decode() if ptr[i].pszValue is not None else ""
        i += 1
    desc = lib.OGR_FldDomain_GetDescription(h)
    return Domain(name=name, description=desc.decode() if desc else "",
                  field_type=kinds.get(lib.OGR_FldDomain_GetFieldType(h), "str"), codes=codes)
