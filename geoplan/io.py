"""All of geoplan's disk access: reading and writing layers, rasters, tables and TOML.

Readers return validated-ready objects (GeoDataFrames, :class:`Raster`, dicts);
algorithms never take paths. Before a read, the file is guarded
(:mod:`geoplan._guards`: a regular file, within the size, cell, feature and time
:class:`Limits`). Every write goes through one write path
(:mod:`geoplan._writepath`): the destination is checked (never a project input,
never an existing file without ``overwrite``, never a folder geoplan did not
write), the output is staged in a temporary folder beside it and renamed into
place, so a failure or an interrupt never leaves a half-written output behind
and never changes anything the command did not create.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import json
import logging
import os
import pickle
import shutil
import sqlite3
import stat
import tempfile
import tomllib
import zipfile
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from importlib import resources
from io import BytesIO, StringIO
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import platformdirs
import pyogrio
import rasterio
import rasterio.windows
import tomli_w
from affine import Affine
from pyproj import CRS
from rasterio.errors import RasterioIOError

from . import _gdal, _guards, _tilefile
from ._gdal import Domain as FieldDomain
from ._guards import Limits, current_limits
from ._tilefile import TileFile, TileSetInfo
from ._writepath import (
    MANIFEST,
    atomic_path,
    check_output,
    files_under,
    input_family,
    read_manifest,
    sha256_file,
)
from .errors import ConfigError, Problem, ReadError, ValidationError, WriteError

__all__ = [
    "Limits",
    "current_limits",
    "MANIFEST",
    "check_output",
    "read_manifest",
    "input_family",
    "Raster",
    "shipped",
    "default_project_path",
    "DATA_DIR_ENV",
    "user_data_dir",
    "atomic_path",
    "file_digests",
    "read_object",
    "recording_reads",
    "write_object",
    "read_vector",
    "check_zip",
    "write_vector",
    "SUFFIX_DRIVERS",
    "vector_driver",
    "OutLayer",
    "WrittenDataset",
    "FORMAT_DRIVERS",
    "EXPORT_MARKER",
    "MAX_ZIP_BYTES",
    "dataset_layout",
    "write_dataset",
    "read_field_aliases",
    "FieldDomain",
    "read_field_domains",
    "list_layers",
    "read_table",
    "read_gpkg_raster",
    "read_raster",
    "write_raster",
    "RasterWriter",
    "raster_writer",
    "read_toml",
    "toml_text",
    "write_toml",
    "make_dir",
    "scratch_dir",
    "read_outputs",
    "read_csv",
    "TileFile",
    "TileSetInfo",
    "open_tile_file",
    "TABLE_SUFFIXES",
    "is_point_table",
    "read_point_table",
    "write_text",
    "write_bytes",
    "write_xlsx",
    "CJK_FONT_ENV",
    "cjk_font",
    "read_plan_data",
    "read_package_toml",
    "list_plan_files",
    "read_layer_specs",
    "WORKSPACE_DIR_ENV",
    "CACHE_DIR_ENV",
    "workspace_dir",
    "cache_dir",
    "read_json",
    "write_json",
    "list_json",
    "read_arrays",
    "write_arrays",
]

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())

#: The files read in the current context (thread), while :func:`recording_reads` is active.
_READS: contextvars.ContextVar[list[Path] | None] = contextvars.ContextVar("geoplan_reads", default=None)


@contextlib.contextmanager
def recording_reads() -> Iterator[list[Path]]:
    """Collect every input file the readers of this module open in the block (this thread only).

    A vector file counts with its sidecars (``x.shp`` → ``x.dbf``, ``x.prj`` …),
    a raster with the files GDAL opened beside it. :mod:`geoplan.project_store`
    keys a validated project on these files' contents.
    """
    got: list[Path] = []
    token = _READS.set(got)
    try:
        yield got
    finally:
        _READS.reset(token)


def _note_read(*paths: str | os.PathLike[str]) -> None:
    got = _READS.get()
    if got is not None:
        for p in paths:
            got.extend(sorted(input_family(p)))


def file_digests(paths: Sequence[str | os.PathLike[str]]) -> list[str]:
    """SHA-256 of each file's content (a folder: of its files' names and contents; missing: ``"missing"``)."""
    out = []
    for path in paths:
        p = Path(path)
        try:
            if p.is_dir():  # a FileGDB: every file in it, by name and content
                h = hashlib.sha256()
                for rel in files_under(p):
                    h.update(f"{rel}|{sha256_file(p / rel)}\n".encode())
                out.append(h.hexdigest())
            else:
                out.append(sha256_file(p))
        except OSError:
            out.append("missing")
    return out

#: Folders of the source tree that ship inside the package, and the package each becomes
#: (``[tool.setuptools.package-dir]`` in pyproject.toml maps them, for a wheel and an editable install).
_SHIPPED = {"layers": "geoplan._layers", "data/gis": "geoplan._data"}
#: Environment variable naming the folder for generated data (the Fujian project).
DATA_DIR_ENV = "GEOPLAN_DATA_DIR"


def shipped(path: str) -> Path:
    """Filesystem path of a file or folder that ships with geoplan, named as in the source tree.

    The layer specs (``layers/``) and the embedded data (``data/gis/``) are installed
    inside the package and found with :mod:`importlib.resources`, wherever geoplan is
    installed (a wheel, an editable checkout).

    Parameters
    ----------
    path : str
        ``"layers"``, ``"data/gis"`` or a path below either, with ``/`` separators.

    Raises
    ------
    ConfigError
        ``path`` is not under a shipped folder.
    ReadError
        The file is missing from the installation, or geoplan is installed in a zip
        archive (GDAL reads real files only).

    Examples
    --------
    >>> shipped("data/gis/geoplan.toml").name
    'geoplan.toml'
    >>> sorted(p.name for p in shipped("layers").glob("dist*.toml"))
    ['districts.toml']
    """
    head = next((h for h in _SHIPPED if path == h or path.startswith(h + "/")), None)
    if head is None:
        raise ConfigError(f"{path!r} does not ship with geoplan; shipped folders: {', '.join(_SHIPPED)}")
    package = _SHIPPED[head]
    root = resources.files(package)
    if not isinstance(root, Path):
        raise ReadError(f"geoplan's data ({package}) is inside an archive ({root}); GDAL reads only "
                        "real files. Fix: install geoplan with pip (an unpacked wheel), not as a zip")
    found = root.joinpath(*path[len(head):].split("/")[1:])
    if not found.exists():
        raise ReadError(f"{path} is missing from geoplan's installation ({found}). "
                        "Fix: reinstall geoplan (pip install --force-reinstall geoplan)")
    return found


def default_project_path() -> Path:
    """The embedded Xiamen project file (``data/gis/geoplan.toml`` of the source tree)."""
    return shipped("data/gis/geoplan.toml")


def user_data_dir() -> Path:
    """Folder for data geoplan generates (the Fujian project), never inside the installation.

    ``$GEOPLAN_DATA_DIR`` when set, else the platform's user data folder
    (:func:`platformdirs.user_data_dir`: ``$XDG_DATA_HOME/geoplan`` or
    ``~/.local/share/geoplan`` on Linux, ``%LOCALAPPDATA%\\geoplan`` on Windows,
    ``~/Library/Application Support/geoplan`` on macOS). Not created here.
    """
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("geoplan", appauthor=False))


#: Environment variable naming the folder of the map app's workspaces.
WORKSPACE_DIR_ENV = "GEOPLAN_WORKSPACE_DIR"
#: Environment variable naming geoplan's cache folder (planning contexts kept between runs).
CACHE_DIR_ENV = "GEOPLAN_CACHE_DIR"


def workspace_dir() -> Path:
    """Folder of the map app's workspaces, never inside the installation.

    ``$GEOPLAN_WORKSPACE_DIR`` when set, else ``workspaces`` in the user data folder
    (:func:`user_data_dir`). Created when first written to.
    """
    env = os.environ.get(WORKSPACE_DIR_ENV)
    return Path(env).expanduser() if env else user_data_dir() / "workspaces"


def cache_dir() -> Path:
    """geoplan's cache folder: ``$GEOPLAN_CACHE_DIR``, else the platform's user cache folder
    (:func:`platformdirs.user_cache_dir`: ``$XDG_CACHE_HOME/geoplan`` or ``~/.cache/geoplan`` on Linux).

    Everything in it can be deleted at any time; it is rebuilt on demand.
    """
    env = os.environ.get(CACHE_DIR_ENV)
    return Path(env).expanduser() if env else Path(platformdirs.user_cache_dir("geoplan", appauthor=False))


@dataclass(frozen=True)
class Raster:
    """A single-band raster in memory.

    Attributes
    ----------
    values : numpy.ndarray
        2-D float64 array; cells equal to ``nodata`` (or NaN) carry no value.
    transform : affine.Affine
        Pixel-to-CRS transform (GDAL order).
    crs : pyproj.CRS or None
        The raster's CRS; ``None`` when the file declares none (validation refuses it).
    nodata : float or None
        The no-data value, if any.
    name : str
        Logical layer name, for messages.
    """

    values: np.ndarray
    transform: Affine
    crs: CRS | None
    nodata: float | None
    name: str = "population"

    @property
    def valid(self) -> np.ndarray:
        """Boolean mask of cells holding a value."""
        v = self.values
        mask = np.isfinite(v)
        if self.nodata is not None and np.isfinite(self.nodata):
            mask &= v != self.nodata
        return mask

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(left, bottom, right, top)`` in the raster's CRS."""
        h, w = self.values.shape
        xs = [self.transform.c, self.transform.c + self.transform.a * w]
        ys = [self.transform.f, self.transform.f + self.transform.e * h]
        return (min(xs), min(ys), max(xs), max(ys))


def _missing(path: Path, layer: str) -> ReadError:
    return ReadError(f"layer '{layer}': file {path} does not exist. "
                     "Fix: correct the path in the project file (paths are relative to the project file)")


#: Formats that only point at other files (GDAL virtual formats): refused as inputs.
_VIRTUAL_SUFFIXES = (".vrt", ".ovf", ".xml")


def _guard_vector(p: Path, *, layer: str, sublayer: str | None, lim: Limits) -> None:
    what = f"layer '{layer}'"
    suffix = p.suffix.lower()
    if suffix in _VIRTUAL_SUFFIXES:
        raise ReadError(f"{what}: {p.name} is a GDAL virtual file that points at other files; it was not opened. "
                        "Fix: export the layer itself as GeoPackage or shapefile")
    st = _guards.guard_file(p, what=what, max_bytes=lim.max_file_mb * 1024**2, allow_dir=suffix == ".gdb")
    if stat.S_ISDIR(st.st_mode):
        _guards.guard_folder(p, what=what, max_bytes=lim.max_file_mb * 1024**2)
        return
    _guards.guard_family(p, what=what)
    n: int | None = None
    if suffix == ".shp":
        n = _guards.shapefile_feature_count(p)
    elif suffix == ".gpkg":
        _guards.check_gpkg(p, what=what, sublayer=sublayer, limits=lim)
    if n is not None and n > lim.max_features:
        raise ReadError(f"{what}: {p.name} has {n:,} features, above the limit of {lim.max_features:,}; it was not "
                        f"read. Fix: check it is the right file, or raise the limit with "
                        f"{_guards.LIMIT_ENV['max_features']}=... or [limits] max_features = ...")


def read_vector(path: str | os.PathLike[str], *, layer: str, sublayer: str | None = None,
                encoding: str | None = None, max_zip_bytes: int | None = None,
                limits: Limits | None = None) -> gpd.GeoDataFrame:
    """Read a vector layer (GeoPackage, shapefile, GeoJSON, FileGDB, zipped shapefile) with pyogrio.

    A CSV/XLSX point table goes to :func:`read_point_table` (``sublayer`` names
    the sheet); longitude/latitude columns give CGCS2000 points, x/y columns
    points without a CRS (the caller declares it).

    Parameters
    ----------
    path : path-like
        The file, a FileGDB folder, or a ``.zip`` holding a shapefile (or another
        single-file format).
    layer : str
        Logical layer name, used in messages.
    sublayer : str, optional
        Layer inside a multi-layer container (GeoPackage, FileGDB), or the name of
        the shapefile inside a zip that holds several.
    encoding : str, optional
        Attribute encoding of shapefiles (e.g. ``"GBK"``). When omitted, a
        shapefile's ``.cpg`` is used, checked against its ``.dbf`` text: a ``.cpg``
        that says GBK on UTF-8 text (or the reverse) is overruled, with a warning;
        without ``.cpg``, valid UTF-8 is read as UTF-8 and anything else as
        GB18030 (the superset of GBK), with a warning.
    max_zip_bytes : int, optional
        Largest total uncompressed size accepted for a zip (default from ``limits``).
    limits : Limits, optional
        What may be read (default: :func:`current_limits`).

    Raises
    ------
    ReadError
        Missing, unreadable, special or non-GIS file; unsafe or oversized zip
        archive; a file over the limits.
    """
    lim = limits or current_limits()
    p = Path(path)
    if not os.path.lexists(p):
        raise _missing(p, layer)
    if is_point_table(p):  # CSV/XLSX: the one table reader; lon/lat columns are taken as CGCS2000
        table = read_point_table(p, layer=layer, sheet=sublayer, encoding=encoding, limits=lim)
        return table.set_crs(4490) if table.attrs.get("lonlat") else table
    _note_read(p)
    _guard_vector(p, layer=layer, sublayer=sublayer, lim=lim)
    src: str | Path = p
    if p.suffix.lower() == ".zip":
        zip_limit = int(lim.max_zip_mb * 1024**2) if max_zip_bytes is None else max_zip_bytes
        src, encoding, sublayer = _zip_source(p, layer=layer, sublayer=sublayer, encoding=encoding,
                                              max_bytes=zip_limit)
    elif p.suffix.lower() == ".shp":
        dbf = _sibling(p, ".dbf")
        if dbf is not None:
            cpg = _sibling(p, ".cpg")
            encoding = _shapefile_encoding(_read_head(dbf), cpg=cpg.read_bytes()[:64] if cpg else None,
                                           given=encoding, where=str(p), layer=layer)
    try:
        gdf = gpd.read_file(src, layer=sublayer, encoding=encoding, engine="pyogrio")
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise ReadError(f"layer '{layer}': cannot read {p} as a vector layer ({exc}). "
                        "Fix: export it from your GIS as GeoPackage, shapefile or GeoJSON") from exc
    except MemoryError:
        raise ReadError(f"layer '{layer}': {p} does not fit in memory. Fix: clip it to the planning area") from None
    except Exception as exc:  # pyogrio raises plain errors for corrupt files
        raise ReadError(f"layer '{layer}': {p} is not a readable vector file ({type(exc).__name__}: {exc}). "
                        "Fix: re-export it from your GIS as GeoPackage") from exc
    if len(gdf) > lim.max_features:
        raise ReadError(f"layer '{layer}': {p} has {len(gdf):,} features, above the limit of {lim.max_features:,}. "
                        f"Fix: check it is the right file, or raise {_guards.LIMIT_ENV['max_features']}")
    log.info("read %d features of layer %s from %s", len(gdf), layer, p)
    return gdf


#: Largest total uncompressed size of a zip archive :func:`read_vector` opens (bytes).
MAX_ZIP_BYTES = 2 * 1024**3
#: Largest compression ratio of one zip member (a higher one is a "zip bomb").
MAX_ZIP_RATIO = 200.0
#: Most members a zip archive may hold.
MAX_ZIP_MEMBERS = 10_000
_VECTOR_SUFFIXES = (".shp", ".gpkg", ".geojson", ".json", ".fgb", ".kml", ".gml")
_DBF_SAMPLE_BYTES = 4 * 1024 * 1024


def _sibling(p: Path, ext: str) -> Path | None:
    """The file beside ``p`` with extension ``ext`` in either case, if any."""
    for cand in (p.with_suffix(ext), p.with_suffix(ext.upper())):
        if cand.exists():
            return cand
    return None


def _read_head(p: Path, n: int = _DBF_SAMPLE_BYTES) -> bytes:
    with p.open("rb") as fh:
        return fh.read(n)


def _guess_dbf_encoding(head: bytes, *, where: str, layer: str) -> str | None:
    return _shapefile_encoding(head, cpg=None, given=None, where=where, layer=layer)


_GBK_NAMES = {"GBK", "GB2312", "GB18030", "CP936", "936", "ANSI 936", "MS936", "EUC-CN"}
_UTF8_NAMES = {"UTF-8", "UTF8", "65001", "UTF-8-SIG"}


def _family(name: str | None) -> str | None:
    """``"gbk"``, ``"utf-8"`` or ``None`` for an encoding name (a ``.cpg`` text or a setting)."""
    if not name:
        return None
    n = name.strip().upper().replace("_", "-")
    return "gbk" if n in _GBK_NAMES else "utf-8" if n in _UTF8_NAMES else None


def _shapefile_encoding(head: bytes, *, cpg: bytes | None, given: str | None, where: str, layer: str) -> str | None:
    """The encoding to read a shapefile's text with: ``given``, else the ``.cpg`` unless the bytes contradict it.

    A ``.cpg`` saying GBK on text that is valid UTF-8 (or UTF-8 on text that is
    not) would turn every Chinese name into mojibake: the bytes win, with a warning.
    """
    from ._detect import dbf_encoding

    found = dbf_encoding(head)
    fam = {"UTF-8": "utf-8", "GB18030": "gbk"}.get(found or "")
    declared = cpg.decode("ascii", "replace").strip() if cpg is not None else None
    if given is not None:
        if fam is not None and _family(given) not in (None, fam):
            log.warning("layer %s: encoding = %r is set for %s but its text reads as %s; names may come out "
                        "garbled. If they do, set encoding = \"%s\" for the layer", layer, given, where, found, found)
        return given
    if declared is not None:
        if fam is not None and _family(declared) not in (None, fam):
            log.warning("layer %s: the .cpg of %s says %s but its text is %s; read it as %s. Correct the .cpg "
                        "(or set encoding = \"...\" for the layer) if that is wrong", layer, where, declared, found,
                        found)
            return found
        return None  # GDAL reads the .cpg
    if found == "GB18030":
        log.warning("layer %s: %s has no .cpg and its text is not UTF-8; reading it as GBK/GB18030. "
                    "If the names look wrong, set encoding = \"...\" for the layer", layer, where)
    elif found is not None:
        log.info("layer %s: %s has no .cpg; its text is valid %s", layer, where, found)
    return found


def check_zip(path: str | os.PathLike[str], *, layer: str = "input", max_bytes: int | None = None,
              max_ratio: float = MAX_ZIP_RATIO, max_members: int = MAX_ZIP_MEMBERS) -> list[str]:
    """Refuse unsafe zip archives; return the names of their members.

    Refused: member paths that are absolute or climb out of the archive ("zip
    slip", e.g. ``../../etc/x``), symbolic links, encrypted members, more than
    ``max_members`` members, a total uncompressed size above ``max_bytes`` and a
    member compressed more than ``max_ratio`` times (a "zip bomb").

    Raises
    ------
    ReadError
        Naming the first offending member and the limit it breaks.
    """
    p = Path(path)
    limit = MAX_ZIP_BYTES if max_bytes is None else max_bytes
    try:
        zf = zipfile.ZipFile(p)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ReadError(f"layer '{layer}': {p} is not a readable zip archive ({exc}). "
                        "Fix: zip the shapefile's files again (.shp, .shx, .dbf, .prj, .cpg)") from exc
    with zf:
        infos = zf.infolist()
    if len(infos) > max_members:
        raise ReadError(f"layer '{layer}': {p} holds {len(infos):,} members (limit {max_members:,}). "
                        "Fix: zip only the layer's own files")
    total = 0
    for info in infos:
        name = info.filename
        parts = name.replace("\\", "/").split("/")
        if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":") or ".." in parts:
            raise ReadError(f"layer '{layer}': {p} holds a member with an unsafe path {name!r} "
                            "(absolute or climbing out of the archive: 'zip slip'); it was not opened. "
                            "Fix: zip the files again from inside their folder")
        if (info.external_attr >> 16) & 0o170000 == 0o120000:
            raise ReadError(f"layer '{layer}': {p} holds a symbolic link {name!r}; it was not opened. "
                            "Fix: zip the real files, not links")
        if info.flag_bits & 0x1:
            raise ReadError(f"layer '{layer}': {p} member {name!r} is encrypted. Fix: zip it without a password")
        total += info.file_size
        if total > limit:
            raise ReadError(f"layer '{layer}': {p} unpacks to more than {limit / 1e6:,.0f} MB; it was not opened. "
                            "Fix: split the layer, or convert it to GeoPackage")
        if info.file_size > 1_000_000 and info.file_size > max_ratio * max(info.compress_size, 1):
            raise ReadError(f"layer '{layer}': {p} member {name!r} is compressed "
                            f"{info.file_size / max(info.compress_size, 1):,.0f} times (limit {max_ratio:g}): "
                            "a zip bomb or a damaged archive; it was not opened. Fix: zip the real layer files")
    return [i.filename for i in infos if not i.is_dir()]


def _zip_source(p: Path, *, layer: str, sublayer: str | None, encoding: str | None,
                max_bytes: int) -> tuple[str, str | None, str | None]:
    """The GDAL ``/vsizip/`` path of the layer inside zip ``p``, its encoding and remaining sub-layer."""
    names = check_zip(p, layer=layer, max_bytes=max_bytes)
    vec = [n for n in names if n.lower().endswith(_VECTOR_SUFFIXES) and not n.split("/")[-1].startswith(".")]
    shps = [n for n in vec if n.lower().endswith(".shp")]
    cands = shps or vec
    if sublayer is not None and len(cands) > 1:
        cands = [n for n in cands if Path(n).stem == sublayer] or cands
    if not cands:
        raise ReadError(f"layer '{layer}': {p} holds no shapefile or other vector file "
                        f"(members: {', '.join(names[:8]) or 'none'}). Fix: zip the layer's .shp, .shx, .dbf and .prj")
    if len(cands) > 1:
        raise ReadError(f"layer '{layer}': {p} holds {len(cands)} layers ({', '.join(Path(n).stem for n in cands[:8])}). "
                        "Fix: name the one to use with layer = \"<name>\" in the project file")
    member = cands[0]
    # a shapefile holds one layer; in a zipped GeoPackage ``sublayer`` may name a layer inside it
    rest = None if member.lower().endswith(".shp") or sublayer == Path(member).stem else sublayer
    if member.lower().endswith(".shp"):
        stem = member[:-4]
        lower = {n.lower(): n for n in names}
        dbf, cpg = lower.get((stem + ".dbf").lower()), lower.get((stem + ".cpg").lower())
        if dbf is not None:
            with zipfile.ZipFile(p) as zf:
                with zf.open(dbf) as fh:
                    head = fh.read(_DBF_SAMPLE_BYTES)
                cpg_text = zf.read(cpg)[:64] if cpg is not None else None
            encoding = _shapefile_encoding(head, cpg=cpg_text, given=encoding, where=f"{p}:{member}", layer=layer)
    return f"/vsizip/{p.resolve()}/{member}", encoding, rest


#: Vector driver of each output file suffix (``write_vector`` without ``driver``).
SUFFIX_DRIVERS = {".gpkg": "GPKG", ".geojson": "GeoJSON", ".json": "GeoJSON", ".shp": "ESRI Shapefile"}


def vector_driver(path: str | os.PathLike[str], *, layer: str) -> str:
    """The vector driver for ``path``'s suffix (:data:`SUFFIX_DRIVERS`); check an output before the work.

    >>> vector_driver("plan.gpkg", layer="planned_sites")
    'GPKG'
    """
    driver = SUFFIX_DRIVERS.get(Path(path).suffix.lower())
    if driver is None:
        raise ConfigError(f"cannot tell the file type of {Path(path).name} for layer '{layer}'. "
                          f"Fix: name it *{', *'.join(SUFFIX_DRIVERS)}")
    return driver


def write_vector(gdf: gpd.GeoDataFrame, path: str | os.PathLike[str], *, layer: str,
                 driver: str | None = None, sublayer: str | None = None, append_layer: bool = False,
                 overwrite: bool = False, protect: Collection[str | os.PathLike[str]] = (),
                 **kwargs: Any) -> Path:
    """Write ``gdf`` through the write path. ``append_layer`` adds a layer to an existing GeoPackage.

    Without ``driver``, the file suffix chooses it (:data:`SUFFIX_DRIVERS`).
    ``overwrite`` allows replacing an existing file (appending needs it too);
    ``protect`` lists files never to write over (:attr:`geoplan.Project.input_files`).
    """
    target = Path(path)
    driver = driver or vector_driver(target, layer=layer)
    if append_layer and target.exists():
        # add a layer to an existing container: copy, write into the copy, swap
        with atomic_path(target, layer=layer, overwrite=overwrite, protect=protect) as tmp:
            shutil.copy2(target, tmp)
            pyogrio.write_dataframe(gdf, tmp, layer=sublayer or layer, driver=driver, **kwargs)
        return target
    with atomic_path(target, layer=layer, overwrite=overwrite, protect=protect,
                     folder=driver == "OpenFileGDB") as tmp:
        pyogrio.write_dataframe(gdf, tmp, layer=sublayer or layer, driver=driver, **kwargs)
    return target


def read_raster(path: str | os.PathLike[str], *, layer: str = "population", band: int = 1,
                limits: Limits | None = None) -> Raster:
    """Read one band of a raster (GeoTIFF, WorldPop ...) into memory as float64.

    The file is guarded first, and the raster's size is checked from its header
    against ``limits`` and the memory available before any cell is read.
    """
    lim = limits or current_limits()
    p = Path(path)
    what = f"layer '{layer}'"
    if not os.path.lexists(p):
        raise _missing(p, layer)
    if p.suffix.lower() in _VIRTUAL_SUFFIXES:
        raise ReadError(f"{what}: {p.name} is a GDAL virtual file that points at other files; it was not opened. "
                        "Fix: give the GeoTIFF itself (gdal_translate in.vrt out.tif)")
    _guards.guard_file(p, what=what, max_bytes=lim.max_file_mb * 1024**2)
    _guards.guard_family(p, what=what)
    _note_read(p)
    try:
        with rasterio.open(p) as src:
            for f in src.files[1:]:  # sidecars GDAL found (.aux.xml, .ovr ...)
                _guards.guard_file(Path(f), what=what)
            if band < 1 or band > src.count:
                raise ValidationError(Problem(layer, f"band {band}", f"{p.name} has {src.count} band(s)",
                                              f"set band between 1 and {src.count} in the project file"))
            _guards.check_raster_size(height=src.height, width=src.width,
                                      itemsize=np.dtype(src.dtypes[band - 1]).itemsize, what=what, path=p, limits=lim)
            values = src.read(band).astype("float64")
            crs = _raster_crs(src.crs, layer=layer, path=p)
            return Raster(values=values, transform=src.transform, crs=crs, nodata=src.nodata, name=layer)
    except RasterioIOError as exc:
        raise ReadError(f"layer '{layer}': cannot read {p} as a raster ({exc}). "
                        "Fix: provide a GeoTIFF") from exc
    except MemoryError:
        raise ReadError(f"{what}: {p.name} does not fit in memory. Fix: clip or resample it") from None
    except rasterio.errors.RasterioError as exc:
        raise ReadError(f"{what}: {p.name} is not a readable raster ({exc}). Fix: provide a GeoTIFF") from exc


def _raster_crs(crs: Any, *, layer: str, path: Path) -> CRS | None:
    """The raster's CRS as pyproj reads it; ``None`` without one; a CRSError when PROJ cannot use it."""
    from .errors import CRSError

    if not crs:
        return None
    try:
        return CRS.from_user_input(crs.to_wkt())
    except Exception as exc:  # pyproj.exceptions.CRSError and PROJ's own errors
        raise CRSError(Problem(layer, "CRS", f"{path.name} declares a CRS PROJ cannot use ({exc})",
                               'assign a real one (gdal_edit.py -a_srs EPSG:4548 file.tif) or declare crs = '
                               '"EPSG:...." for the layer in the project file')) from None


def write_raster(raster: Raster, path: str | os.PathLike[str], *, dtype: str = "float32",
                 tags: dict[str, str] | None = None, overwrite: bool = False,
                 protect: Collection[str | os.PathLike[str]] = ()) -> Path:
    """Write a single-band GeoTIFF through the write path (deflate-compressed, tiled)."""
    with atomic_path(path, layer=raster.name, overwrite=overwrite, protect=protect) as tmp:
        _write_geotiff(raster, tmp, dtype=dtype, tags=tags)
    return Path(path)


def _write_geotiff(raster: Raster, path: Path, *, dtype: str = "float32",
                   tags: dict[str, str] | None = None) -> None:
    h, w = raster.values.shape
    with rasterio.open(
        path, "w", driver="GTiff", height=h, width=w, count=1, dtype=dtype,
        crs=raster.crs.to_wkt() if raster.crs else None, transform=raster.transform,
        nodata=raster.nodata, compress="deflate", predictor=3 if dtype.startswith("float") else 2,
        tiled=True, blockxsize=256, blockysize=256,
    ) as dst:
        dst.write(raster.values.astype(dtype), 1)
        if tags:
            dst.update_tags(**tags)


class RasterWriter:
    """Writes windows of a single-band GeoTIFF opened by :func:`raster_writer`."""

    def __init__(self, dataset: Any, dtype: str) -> None:
        self._dst = dataset
        self._dtype = dtype

    @property
    def shape(self) -> tuple[int, int]:
        """``(height, width)`` of the whole raster."""
        return int(self._dst.height), int(self._dst.width)

    def write(self, values: np.ndarray, *, row_off: int, col_off: int) -> None:
        """Write ``values`` (2-D) with its top-left cell at ``(row_off, col_off)``."""
        h, w = values.shape
        window = rasterio.windows.Window(col_off, row_off, w, h)
        self._dst.write(values.astype(self._dtype, copy=False), 1, window=window)


@contextlib.contextmanager
def raster_writer(path: str | os.PathLike[str], *, height: int, width: int, transform: Affine, crs: CRS,
                  nodata: float | None, dtype: str = "float32", name: str = "population",
                  tags: dict[str, str] | None = None, overwrite: bool = False,
                  protect: Collection[str | os.PathLike[str]] = ()) -> Iterator[RasterWriter]:
    """Open a single-band GeoTIFF for writing window by window, atomically.

    For rasters too large to hold in memory at once (a province at 100 m): the
    caller writes each window once with :meth:`RasterWriter.write`; the file
    appears at ``path`` only when the ``with`` block ends without error.
    Windows never written hold ``nodata``.
    """
    with atomic_path(path, layer=name, overwrite=overwrite, protect=protect) as tmp:
        with rasterio.open(
            tmp, "w", driver="GTiff", height=height, width=width, count=1, dtype=dtype,
            crs=crs.to_wkt() if crs is not None else None, transform=transform, nodata=nodata,
            compress="deflate", predictor=3 if dtype.startswith("float") else 2,
            tiled=True, blockxsize=256, blockysize=256,
        ) as dst:
            if tags:
                dst.update_tags(**tags)
            yield RasterWriter(dst, dtype)


#: Output formats of :func:`write_dataset` and their GDAL drivers.
FORMAT_DRIVERS: dict[str, str] = {"gpkg": "GPKG", "shp": "ESRI Shapefile", "gdb": "OpenFileGDB",
                                  "geojson": "GeoJSON"}
_FORMAT_SUFFIX = {"gpkg": ".gpkg", "shp": ".shp", "gdb": ".gdb", "geojson": ".geojson"}
#: Name of the metadata sidecar of a folder export (what replaces a folder is decided by :data:`MANIFEST`).
EXPORT_MARKER = "geoplan_metadata.json"


@dataclass(frozen=True)
class OutLayer:
    """One layer or attribute table to write with :func:`write_dataset`.

    Attributes
    ----------
    name : str
        Layer (table) name; for shapefiles and GeoJSON the file stem.
    frame : pandas.DataFrame
        A GeoDataFrame for a spatial layer, a plain DataFrame for an attribute table.
    title : str
        Layer alias (GeoPackage ``identifier``, FileGDB layer alias).
    description : str
        Layer description (GeoPackage ``description``).
    aliases : dict
        Field name → alias (GeoPackage ``gpkg_data_columns``, FileGDB field alias).
    comments : dict
        Field name → description (GeoPackage ``gpkg_data_columns.description``).
    metadata : dict
        Layer metadata items (GeoPackage ``gpkg_metadata``).
    geometry_type : str, optional
        Geometry type to declare (needed for empty layers), e.g. ``"Point"``.
    domains : dict
        Field name → name of a coded-value domain given to :func:`write_dataset`
        (GeoPackage constraint, FileGDB domain).
    """

    name: str
    frame: pd.DataFrame
    title: str = ""
    description: str = ""
    aliases: dict[str, str] = field(default_factory=dict)
    comments: dict[str, str] = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)
    geometry_type: str | None = None
    domains: dict[str, str] = field(default_factory=dict)

    @property
    def is_spatial(self) -> bool:
        """Whether the layer has geometry."""
        return isinstance(self.frame, gpd.GeoDataFrame)

    @property
    def columns(self) -> list[str]:
        """Attribute columns, in order (no geometry)."""
        geom = self.frame.geometry.name if self.is_spatial else None  # type: ignore[attr-defined]
        return [str(c) for c in self.frame.columns if c != geom]


@dataclass(frozen=True)
class WrittenDataset:
    """What :func:`write_dataset` wrote.

    Attributes
    ----------
    path : Path
        The output (file, ``.gdb`` folder, folder or zip).
    layout : str
        ``"file"`` (one container file), ``"gdb"``, ``"folder"``, ``"zip"`` or ``"single"``
        (one shapefile / GeoJSON file).
    files : tuple of str
        Every file written, relative to the output's folder (inside the folder or zip
        for those layouts).
    aliases_written : bool
        Whether field aliases went into the format itself.
    warnings : tuple of str
        Things a planner should know (e.g. aliases a format cannot hold).
    domains_written : bool
        Whether coded-value domains went into the format itself.
    """

    path: Path
    layout: str
    files: tuple[str, ...]
    aliases_written: bool
    warnings: tuple[str, ...]
    domains_written: bool = False


def dataset_layout(path: str | os.PathLike[str], fmt: str, *, n_layers: int) -> str:
    """How format ``fmt`` is laid out at ``path``: file, gdb, folder, zip or single.

    GeoPackage is one ``.gpkg`` file, FileGDB one ``.gdb`` folder; shapefiles and
    GeoJSON go one file per layer into a folder or a ``.zip``, or into a single
    ``.shp`` / ``.geojson`` file when there is exactly one layer.
    """
    p = Path(path)
    suf = p.suffix.lower()
    if fmt not in FORMAT_DRIVERS:
        raise ConfigError(f"unknown output format {fmt!r}. Fix: use one of {', '.join(FORMAT_DRIVERS)}")
    if fmt == "gpkg":
        if suf != ".gpkg":
            raise ConfigError(f"a GeoPackage must be named *.gpkg, not {p.name}. Fix: use --to {p.stem}.gpkg")
        return "file"
    if fmt == "gdb":
        if suf != ".gdb":
            raise ConfigError(f"a File Geodatabase must be a folder named *.gdb, not {p.name}. "
                              f"Fix: use --to {p.stem}.gdb")
        return "gdb"
    if suf == ".zip":
        return "zip"
    if suf in (_FORMAT_SUFFIX[fmt], ".json" if fmt == "geojson" else _FORMAT_SUFFIX[fmt]):
        if n_layers != 1:
            raise ConfigError(f"{p.name} can hold one layer but {n_layers} are to be written. "
                              f"Fix: give a folder name (e.g. --to {p.stem}) or a .zip (--to {p.stem}.zip)")
        return "single"
    if suf in (".gpkg", ".gdb", ".shp", ".geojson", ".json", ".tif"):
        raise ConfigError(f"{p.name} does not fit format {fmt}. Fix: name a folder or a .zip for {fmt} output")
    return "folder"


def write_dataset(path: str | os.PathLike[str], layers: list[OutLayer], *, fmt: str = "gpkg",
                  encoding: str = "UTF-8", sidecars: dict[str, bytes] | None = None,
                  rasters: dict[str, tuple[Raster, str, dict[str, str]]] | None = None,
                  domains: Sequence[FieldDomain] = (),
                  tiles: dict[str, tuple[Raster, str, str]] | None = None, overwrite: bool = False,
                  protect: Collection[str | os.PathLike[str]] = ()) -> WrittenDataset:
    """Write several layers, tables, sidecar files and GeoTIFFs as one atomic unit.

    Parameters
    ----------
    path : path-like
        ``*.gpkg`` file, ``*.gdb`` folder, or (shapefile, GeoJSON) a folder, a
        ``.zip`` or, for one layer, a ``.shp`` / ``.geojson`` file.
    layers : list of OutLayer
        Spatial layers and attribute tables (tables only for GeoPackage and FileGDB).
    fmt : {"gpkg", "shp", "gdb", "geojson"}
        Output format.
    encoding : str
        Shapefile attribute encoding, written to each ``.cpg`` ("UTF-8" or "GBK").
    sidecars : dict, optional
        File name → bytes, written inside the folder / zip, or beside the file.
    rasters : dict, optional
        File name → ``(raster, dtype, tags)``, GeoTIFFs placed like sidecars.
    domains : sequence of FieldDomain
        Coded-value domains the layers' ``domains`` refer to: GeoPackage enum
        constraints (``gpkg_data_column_constraints``), FileGDB coded-value domains.
        Other formats have none (the caller writes label fields instead).
    tiles : dict, optional
        GeoPackage only: raster table name → ``(raster, identifier, description)``,
        written inside the GeoPackage as a tiled raster (GDAL's GPKG raster driver:
        PNG tiles for bytes, the tiled gridded coverage extension otherwise).
    overwrite : bool
        Replace an existing output: a file, or the files geoplan wrote in an
        earlier delivery folder / FileGDB (listed in its :data:`MANIFEST`; other
        files there are left alone).
    protect : collection of path-like
        Files never to write over (a project's inputs).

    Returns
    -------
    WrittenDataset

    Raises
    ------
    WriteError
        Anything failed or the destination is refused; nothing is left at ``path``
        (a previous output there is kept).
    """
    target = Path(path)
    driver = FORMAT_DRIVERS.get(fmt)
    layout = dataset_layout(target, fmt, n_layers=len(layers))
    if driver is None:  # pragma: no cover - dataset_layout refused it
        raise WriteError(f"unknown format {fmt}")
    tables = [ly for ly in layers if not ly.is_spatial]
    if tables and fmt not in ("gpkg", "gdb"):
        raise WriteError(f"{fmt} cannot hold attribute tables ({', '.join(t.name for t in tables)}); "
                         "write them as sidecar files")
    is_folder = layout in ("folder", "gdb")
    check_output(target, layer=layers[0].name if layers else "output", overwrite=overwrite, protect=protect,
                 folder=is_folder)
    warnings_: list[str] = []
    files: list[str] = []
    if tiles and fmt != "gpkg":
        raise WriteError(f"rasters inside the file need a GeoPackage, not {fmt}; write them as GeoTIFFs")
    with atomic_path(target, layer=layers[0].name if layers else "output", overwrite=overwrite, protect=protect,
                     folder=is_folder) as tmp, _fast_sqlite(fmt == "gpkg"):
        stage = tmp.parent / ".stage" if layout == "zip" else tmp
        if layout in ("folder", "zip"):
            stage.mkdir()
        for i, ly in enumerate(layers):
            dest = _layer_dest(stage, ly.name, fmt, layout)
            _write_one(ly, dest, driver=driver, encoding=encoding, first=i == 0)
            if layout in ("folder", "zip"):
                files.extend(sorted(f.name for f in stage.iterdir() if f.stem == ly.name and f.name not in files))
        aliases_written, domains_written = _container_extras(stage, fmt, layers, domains, tiles, warnings_)
        for ly in layers:  # a shapefile or GeoJSON file holds one layer, named after the file
            _verify_layer(_layer_dest(stage, ly.name, fmt, layout), ly, fmt=fmt,
                          sublayer=ly.name if layout in ("file", "gdb") else None)
        if layout in ("file", "gdb", "single"):
            files.insert(0, target.name)
            base = tmp.parent
        else:
            base = stage
        for name, data in (sidecars or {}).items():
            (base / name).write_bytes(data)
            files.append(name)
        for name, (raster, dtype, tags) in (rasters or {}).items():
            _write_geotiff(raster, base / name, dtype=dtype, tags=tags)
            files.append(name)
        if layout == "single":
            files = [target.name] + sorted(f.name for f in tmp.parent.iterdir()
                                           if f.name != target.name and f.name not in (sidecars or {})
                                           and f.name not in (rasters or {})) + files[1:]
        if layout == "zip":
            with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
                for f in sorted(stage.iterdir()):
                    zf.write(f, f.name)
            shutil.rmtree(stage)
    if is_folder:
        files.append(MANIFEST)
    log.info("wrote %d layer(s) as %s to %s", len(layers), fmt, target)
    return WrittenDataset(path=target, layout=layout, files=tuple(dict.fromkeys(files)),
                          aliases_written=aliases_written, warnings=tuple(warnings_), domains_written=domains_written)


def _container_extras(stage: Path, fmt: str, layers: list[OutLayer], domains: Sequence[FieldDomain],
                      tiles: dict[str, tuple[Raster, str, str]] | None, warnings_: list[str]) -> tuple[bool, bool]:
    """Aliases, domains and (GeoPackage) raster tiles of a written container; whether aliases/domains went in."""
    used = {name for ly in layers for name in ly.domains.values()}
    missing = used - {d.name for d in domains}
    if missing:
        raise WriteError(f"layers refer to domain(s) {', '.join(sorted(missing))} that were not given")
    wanted = [d for d in domains if d.name in used]
    if fmt == "gpkg":
        _gpkg_write_data_columns(stage, layers, wanted)
        for table, (raster, identifier, description) in (tiles or {}).items():
            _write_gpkg_tiles(raster, stage, table=table, identifier=identifier, description=description)
        with stage.open("rb+") as fh:  # written without per-transaction syncs: sync once, whole
            os.fsync(fh.fileno())
        return True, bool(wanted)
    if fmt != "gdb":
        return False, False
    aliases = _gdal.write_aliases(stage, {ly.name: ly.aliases for ly in layers})
    if not aliases and any(ly.aliases for ly in layers):
        warnings_.append("field aliases could not be written into the FileGDB (GDAL's C library was "
                         "not found); they are listed in the geoplan_metadata table")
    doms = bool(wanted) and _gdal.write_domains(stage, wanted, {ly.name: ly.domains for ly in layers if ly.domains})
    if wanted and not doms:
        warnings_.append("coded-value domains could not be written into the FileGDB (GDAL's C library was not "
                         "found); the codes and labels are listed in docs/onemap.md and the metadata")
    return aliases, doms


def _write_gpkg_tiles(raster: Raster, gpkg: Path, *, table: str, identifier: str, description: str) -> None:
    """Add ``raster`` to GeoPackage ``gpkg`` as tiled raster table ``table`` (GDAL's GPKG raster driver)."""
    vals = raster.values
    byte = raster.nodata is not None and 0 <= raster.nodata <= 255 and bool(
        np.all(np.mod(vals[np.isfinite(vals)], 1) == 0)) and np.nanmin(vals) >= 0 and np.nanmax(vals) <= 255
    dtype = "uint8" if byte else "float32"
    h, w = vals.shape
    try:
        with rasterio.open(gpkg, "w", driver="GPKG", height=h, width=w, count=1, dtype=dtype,
                           crs=raster.crs.to_wkt() if raster.crs else None, transform=raster.transform,
                           nodata=raster.nodata, RASTER_TABLE=table, APPEND_SUBDATASET="YES",
                           RASTER_IDENTIFIER=identifier, RASTER_DESCRIPTION=description,
                           TILE_FORMAT="PNG" if byte else "AUTO") as dst:
            dst.write(np.nan_to_num(vals, nan=raster.nodata if raster.nodata is not None else 0).astype(dtype), 1)
    except rasterio.errors.RasterioError as exc:
        raise WriteError(f"raster {table}: GDAL cannot store it inside the GeoPackage ({exc})") from exc


@contextlib.contextmanager
def _fast_sqlite(on: bool) -> Iterator[None]:
    """Let GDAL write a GeoPackage without syncing every transaction (it is a temporary file until renamed)."""
    if not on:
        yield
        return
    key = "OGR_SQLITE_SYNCHRONOUS"
    before = pyogrio.get_gdal_config_option(key)
    pyogrio.set_gdal_config_options({key: "OFF"})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({key: before})


def _layer_dest(stage: Path, name: str, fmt: str, layout: str) -> Path:
    if layout in ("folder", "zip"):
        return stage / f"{name}{_FORMAT_SUFFIX[fmt]}"
    return stage


def _write_one(ly: OutLayer, dest: Path, *, driver: str, encoding: str, first: bool) -> None:
    frame = ly.frame
    kwargs: dict[str, Any] = {}
    if driver == "ESRI Shapefile":
        kwargs["encoding"] = encoding
    if driver == "OpenFileGDB":
        frame = _gdb_compatible(frame)
    if ly.is_spatial:
        if ly.geometry_type:
            kwargs["geometry_type"] = ly.geometry_type
        if ly.geometry_type and ly.geometry_type.startswith("Multi"):
            kwargs["promote_to_multi"] = True
    opts: dict[str, str] = {}
    if driver == "GPKG":
        if ly.title:
            opts["IDENTIFIER"] = ly.title
        if ly.description:
            opts["DESCRIPTION"] = ly.description
        if ly.metadata:
            kwargs["layer_metadata"] = dict(ly.metadata)
    elif driver == "OpenFileGDB" and ly.title and ly.is_spatial:
        opts["LAYER_ALIAS"] = ly.title
    elif driver == "ESRI Shapefile":
        opts["RESIZE"] = "YES"  # text fields as wide as their longest value (in bytes), not GDAL's 80
    try:
        pyogrio.write_dataframe(frame, dest, layer=ly.name, driver=driver, layer_options=opts or None, **kwargs)
    except (NotImplementedError, TypeError, ValueError, pyogrio.errors.FieldError,
            pyogrio.errors.GeometryError) as exc:
        raise WriteError(f"layer {ly.name}: GDAL cannot write it as {driver} ({exc}). Fix: convert or drop "
                         "columns of unusual types (complex numbers, lists, mixed objects); nothing was written") \
            from exc


def _gdb_compatible(frame: pd.DataFrame) -> pd.DataFrame:
    """FileGDB for ArcGIS < 3.2 has no 64-bit integers: narrow those that fit."""
    out = frame
    for c in frame.columns:
        if frame[c].dtype == np.int64:
            v = frame[c]
            if len(v) == 0 or (v.min() >= np.iinfo(np.int32).min and v.max() <= np.iinfo(np.int32).max):
                out = out.copy() if out is frame else out
                out[c] = v.astype(np.int32)
            else:
                raise WriteError(f"field {c} holds integers beyond ±2,147,483,647, which FileGDB (ArcGIS 10/Pro < 3.2) "
                                 "cannot store. Fix: export as GeoPackage")
    return out


def _verify_layer(dest: Path, ly: OutLayer, *, fmt: str, sublayer: str | None) -> None:
    """Read back what GDAL wrote: every feature and every field under its own name."""
    info = pyogrio.read_info(dest, layer=sublayer)
    if int(info["features"]) != len(ly.frame):
        raise WriteError(f"layer {ly.name}: {len(ly.frame)} features were given but {info['features']} written")
    got = [str(f) for f in info["fields"]]
    if got != ly.columns:
        raise WriteError(f"layer {ly.name}: GDAL wrote fields {got} instead of {ly.columns} ({fmt} renamed "
                         "or dropped some). Fix: shorten or simplify those column names")


_GPKG_DATA_COLUMNS_SQL = (
    "CREATE TABLE IF NOT EXISTS gpkg_data_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL, "
    "name TEXT, title TEXT, description TEXT, mime_type TEXT, constraint_name TEXT, "
    "CONSTRAINT pk_gdc PRIMARY KEY (table_name, column_name), CONSTRAINT gdc_tn UNIQUE (table_name, name))",
    "CREATE TABLE IF NOT EXISTS gpkg_data_column_constraints (constraint_name TEXT NOT NULL, "
    "constraint_type TEXT NOT NULL, value TEXT, min NUMERIC, min_is_inclusive BOOLEAN, max NUMERIC, "
    "max_is_inclusive BOOLEAN, description TEXT, "
    "CONSTRAINT gdcc_ntv UNIQUE (constraint_name, constraint_type, value))",
)
_GPKG_SCHEMA_EXT = "http://www.geopackage.org/spec121/#extension_schema"


def _gpkg_write_data_columns(gpkg: Path, layers: list[OutLayer], domains: Sequence[FieldDomain] = ()) -> None:
    """Field aliases and coded-value domains into the GeoPackage schema extension.

    Aliases go to ``gpkg_data_columns`` (GDAL ≥ 3.7 reads ``name`` as the field's
    alternative name and ``description`` as its comment; QGIS shows the alias);
    each domain becomes ``enum`` rows of ``gpkg_data_column_constraints`` (value =
    code, description = label), named by the column's ``constraint_name`` — GDAL
    and QGIS read them as coded-value field domains.
    """
    cols = {(ly.name, c) for ly in layers for c in [*ly.aliases, *ly.domains] if c in ly.columns}
    rows = [(t, c, next(ly.aliases.get(c) for ly in layers if ly.name == t) or None,
             next(ly.comments.get(c) for ly in layers if ly.name == t) or None,
             next(ly.domains.get(c) for ly in layers if ly.name == t)) for t, c in sorted(cols)]
    enums = [(d.name, code, label) for d in domains for code, label in d.codes.items()]
    if not rows:
        return
    con = sqlite3.connect(gpkg)
    try:
        with con:
            for sql in _GPKG_DATA_COLUMNS_SQL:
                con.execute(sql)
            for table in ("gpkg_data_columns", "gpkg_data_column_constraints"):
                con.execute(
                    "INSERT INTO gpkg_extensions (table_name, column_name, extension_name, definition, scope) "
                    "SELECT ?, NULL, 'gpkg_schema', ?, 'read-write' WHERE NOT EXISTS (SELECT 1 FROM gpkg_extensions "
                    "WHERE table_name = ? AND extension_name = 'gpkg_schema')", (table, _GPKG_SCHEMA_EXT, table))
            con.executemany("INSERT OR REPLACE INTO gpkg_data_columns (table_name, column_name, name, title, "
                            "description, constraint_name) VALUES (?, ?, ?, NULL, ?, ?)", rows)
            con.executemany("INSERT OR REPLACE INTO gpkg_data_column_constraints (constraint_name, constraint_type, "
                            "value, description) VALUES (?, 'enum', ?, ?)", enums)
    finally:
        con.close()


def read_field_aliases(path: str | os.PathLike[str], *, sublayer: str) -> dict[str, str]:
    """Field aliases (GDAL alternative names) of layer ``sublayer`` of a GeoPackage or FileGDB.

    Read through GDAL (:mod:`geoplan._gdal`), as QGIS and ArcGIS see them; a GeoPackage
    is read from its ``gpkg_data_columns`` table directly when GDAL's C library is not
    reachable. Fields without an alias are left out.
    """
    p = Path(path)
    if not p.exists():
        raise _missing(p, sublayer)
    aliases = _gdal.read_aliases(p, sublayer=sublayer)
    if aliases is not None:
        return aliases
    if p.suffix.lower() != ".gpkg":
        raise ReadError(f"cannot read field aliases of {p}: GDAL's C library was not found")
    con = sqlite3.connect(p)
    try:
        return {c: n for c, n in con.execute("SELECT column_name, name FROM gpkg_data_columns "
                                             "WHERE table_name = ? AND name IS NOT NULL", (sublayer,))}
    finally:
        con.close()


def make_dir(path: str | os.PathLike[str], *, what: str = "output folder",
             fix: str = "choose a writable folder") -> Path:
    """Create folder ``path`` (and its parents) unless it exists; return it.

    Raises
    ------
    WriteError
        It cannot be created (read-only or full disk, a file in the way); says ``fix``.
    """
    p = Path(path)
    try:
        p.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WriteError(f"cannot create the {what} {p}: {exc.strerror or exc}. Fix: {fix}") from exc
    return p


def read_field_domains(path: str | os.PathLike[str], *,
                       sublayer: str) -> tuple[dict[str, FieldDomain], dict[str, str]]:
    """Coded-value domains of a GeoPackage or FileGDB and the fields of ``sublayer`` that use them.

    Read through GDAL, as ArcGIS and QGIS see them. Returns domain name →
    :class:`FieldDomain` and field name → domain name.

    Raises
    ------
    ReadError
        A missing file or layer, or GDAL's C library not found.
    """
    p = Path(path)
    if not p.exists():
        raise _missing(p, sublayer)
    found = _gdal.read_domains(p, sublayer=sublayer)
    if found is None:
        raise ReadError(f"cannot read field domains of {p}: GDAL's C library was not found")
    return found


def list_layers(path: str | os.PathLike[str], *, what: str = "file") -> dict[str, str | None]:
    """Layer (table) name → geometry type (``None`` for attribute tables) of a vector file."""
    p = Path(path)
    if not p.exists():
        raise ReadError(f"{what} {p} does not exist. Fix: check the path")
    try:
        found = pyogrio.list_layers(p)
    except Exception as exc:  # pyogrio raises plain errors for non-GIS files
        raise ReadError(f"{what} {p} is not a readable GeoPackage ({type(exc).__name__}: {exc}). "
                        "Fix: give a .gpkg written by geoplan") from exc
    return {str(name): (None if gtype is None else str(gtype)) for name, gtype in found}


def read_table(path: str | os.PathLike[str], *, sublayer: str) -> pd.DataFrame:
    """An attribute table (no geometry) of a GeoPackage or FileGDB."""
    try:
        return pd.DataFrame(pyogrio.read_dataframe(path, layer=sublayer, read_geometry=False))
    except Exception as exc:
        raise ReadError(f"cannot read table {sublayer!r} of {path}: {exc}") from exc


def read_gpkg_raster(path: str | os.PathLike[str], *, table: str, name: str | None = None) -> Raster:
    """Band 1 of tiled raster table ``table`` inside a GeoPackage, as float64 with its nodata."""
    try:
        with rasterio.open(path, table=table) as src:
            values = src.read(1).astype("float64")
            crs = CRS.from_user_input(src.crs.to_wkt()) if src.crs else None
            return Raster(values=values, transform=src.transform, crs=crs, nodata=src.nodata, name=name or table)
    except RasterioIOError as exc:
        raise ReadError(f"cannot read raster table {table!r} of {path}: {exc}") from exc


@contextlib.contextmanager
def scratch_dir(prefix: str = "geoplan-") -> Iterator[Path]:
    """A temporary folder, removed with everything in it when the block ends."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        yield Path(tmp)


def read_outputs(root: str | os.PathLike[str]) -> list[tuple[str, bytes]]:
    """Name and bytes of every file and folder directly under ``root``, for a download.

    A folder (a ``.gdb``) comes back zipped, as ``<name>.zip`` with the folder inside.
    """
    base = Path(root)
    out: list[tuple[str, bytes]] = []
    for p in sorted(base.iterdir()):
        if p.is_dir():
            buf = BytesIO()
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
                for f in sorted(p.rglob("*")):
                    if f.is_file():
                        zf.write(f, f.relative_to(base))
            out.append((f"{p.name}.zip", buf.getvalue()))
        else:
            out.append((p.name, p.read_bytes()))
    return out


def read_toml(path: str | os.PathLike[str], *, what: str = "project file",
              limits: Limits | None = None) -> dict[str, Any]:
    """Read a TOML file (project, scenario, layer spec): guarded, UTF-8 or GBK, within ``max_text_mb``."""
    lim = limits or current_limits()
    p = Path(path)
    if not os.path.lexists(p):
        raise ReadError(f"{what} {p} does not exist. Fix: check the path")
    _guards.guard_file(p, what=what, max_bytes=lim.max_text_mb * 1024**2, limit_name="max_text_mb")
    _note_read(p)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise ReadError(f"{what} {p} cannot be read ({exc.strerror or exc}). Fix: check the path") from None
    text = _guards.decode_text(data, what=what, path=p)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ReadError(f"{what} {p} is not valid TOML: {exc}. Fix: correct the syntax at that line") from exc
    except RecursionError:
        raise ReadError(f"{what} {p} nests tables or arrays too deeply. Fix: simplify it") from None


def toml_text(data: dict[str, Any]) -> str:
    """``data`` as TOML text (what :func:`write_toml` writes; for in-memory downloads)."""
    return tomli_w.dumps(data)


def write_toml(data: dict[str, Any], path: str | os.PathLike[str], *, what: str = "scenario",
               overwrite: bool = False, protect: Collection[str | os.PathLike[str]] = ()) -> Path:
    """Write ``data`` as TOML through the write path."""
    return write_text(toml_text(data), path, what=what, overwrite=overwrite, protect=protect)


def write_text(text: str, path: str | os.PathLike[str], *, what: str = "output", overwrite: bool = False,
               protect: Collection[str | os.PathLike[str]] = ()) -> Path:
    """Write a UTF-8 text file (CSV, JSON, TOML, Markdown) through the write path."""
    with atomic_path(path, layer=what, overwrite=overwrite, protect=protect) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_bytes(data: bytes, path: str | os.PathLike[str], *, what: str = "output", overwrite: bool = False,
                protect: Collection[str | os.PathLike[str]] = ()) -> Path:
    """Write a binary file (a PDF report, text in an encoding other than UTF-8 ...) through the one write path."""
    with atomic_path(path, layer=what, overwrite=overwrite, protect=protect) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_xlsx(sheets: dict[str, pd.DataFrame], path: str | os.PathLike[str], *, what: str = "workbook",
               overwrite: bool = False, protect: Collection[str | os.PathLike[str]] = ()) -> Path:
    """Write tables as the sheets of an Excel workbook (openpyxl) through the one write path."""
    with atomic_path(path, layer=what, overwrite=overwrite, protect=protect) as tmp:
        with pd.ExcelWriter(tmp, engine="openpyxl") as xw:
            for name, frame in sheets.items():
                frame.to_excel(xw, sheet_name=name, index=False)
    return Path(path)


#: Environment variable naming a CJK font file for the report (``.ttc``, ``.otf``, ``.ttf``).
CJK_FONT_ENV = "GEOPLAN_CJK_FONT"
#: Where CJK fonts usually are: Debian/Ubuntu fonts-noto-cjk, Fedora/Arch, macOS, Windows.
_CJK_FONT_FILES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "C:/Windows/Fonts/msyh.ttc",
    "C:/Windows/Fonts/simhei.ttf",
)


def cjk_font() -> tuple[str, Path]:
    """Register a font with Chinese glyphs with matplotlib; its family name and file.

    ``$GEOPLAN_CJK_FONT`` when set, else Noto Sans CJK (Debian's ``fonts-noto-cjk``)
    or another usual CJK font of the system.

    Raises
    ------
    ConfigError
        No CJK font was found (charts would show boxes instead of Chinese).
    """
    from matplotlib import font_manager

    env = os.environ.get(CJK_FONT_ENV)
    cands = [Path(env)] if env else [Path(p) for p in _CJK_FONT_FILES]
    for path in cands:
        if path.is_file():
            if path not in {Path(f.fname) for f in font_manager.fontManager.ttflist}:
                font_manager.fontManager.addfont(str(path))
            added = [f for f in font_manager.fontManager.ttflist if Path(f.fname) == path]
            names = sorted({f.name for f in added}, key=lambda n: (not n.endswith(" SC"), "Mono" in n, n))
            if names:
                return names[0], path
    where = f"{CJK_FONT_ENV}={env}" if env else ", ".join(_CJK_FONT_FILES[:2])
    raise ConfigError(f"no font with Chinese glyphs was found ({where}); the report's Chinese text would show as "
                      "boxes. Fix: install Noto Sans CJK (Debian/Ubuntu: apt-get install fonts-noto-cjk) or set "
                      f"{CJK_FONT_ENV} to a .ttc/.otf/.ttf file with Chinese glyphs")


def open_tile_file(path: str | os.PathLike[str]) -> TileFile:
    """Open a local MBTiles or PMTiles file of raster tiles (a base map) for reading tile by tile.

    The file is recognised by its first bytes (SQLite or ``PMTiles``), not by its
    name, and checked before it is used: a tile set of PNG, JPEG, WebP or AVIF
    images with a usable zoom range and bounds (:mod:`geoplan._tilefile`). Tiles
    are read on demand (``TileFile.tile(z, x, y)``), so a file of any size opens
    at once. Close it with ``close()``.

    Raises
    ------
    ReadError
        The file is missing or not a regular file, is neither MBTiles nor PMTiles,
        holds vector tiles or no tiles, or states an unusable zoom range or bounds;
        the message names the file and the fix.
    """
    p = Path(path).expanduser()
    if not str(path).strip():
        raise ReadError("no tile file was given. Fix: give the path of an .mbtiles or .pmtiles file")
    _guards.guard_file(p, what="tile file")
    try:
        return _tilefile.open_tile_file(p)
    except OSError as exc:
        if isinstance(exc, ReadError):
            raise
        raise ReadError(f"tile file {p} cannot be read ({exc.strerror or exc}). Fix: check the file") from None


def read_csv(path: str | os.PathLike[str], *, what: str = "table", limits: Limits | None = None,
             **kwargs: Any) -> pd.DataFrame:
    """Read a CSV table (UTF-8), guarded like every input."""
    lim = limits or current_limits()
    p = Path(path)
    if not os.path.lexists(p):
        raise ReadError(f"{what} {p} does not exist. Fix: check the path")
    _guards.guard_file(p, what=what, max_bytes=lim.max_file_mb * 1024**2)
    _note_read(p)
    try:
        return pd.read_csv(p, **kwargs)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ReadError(f"{what} {p} is not a readable UTF-8 CSV: {exc}") from exc


# --- point layers as tables (CSV, XLSX) ------------------------------------------------------------------

#: Suffixes read as point tables by :func:`read_point_table`.
TABLE_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm")
_X_NAMES = ("lon", "lng", "long", "longitude", "经度", "x", "easting", "point_x", "东坐标", "横坐标", "x坐标", "坐标x")
_Y_NAMES = ("lat", "latitude", "纬度", "y", "northing", "point_y", "北坐标", "纵坐标", "y坐标", "坐标y")
_LONLAT = ("lon", "lng", "long", "longitude", "经度", "lat", "latitude", "纬度")


def is_point_table(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a table of points (CSV/TXT/TSV or an Excel workbook) rather than a GIS file."""
    return Path(path).suffix.lower() in TABLE_SUFFIXES + (".xls",)


def _decode(raw: bytes, *, encoding: str | None, where: str, layer: str) -> str:
    """Text of a CSV file: its BOM first, then the declared encoding, then UTF-8, then GB18030 (with a warning)."""
    for bom, enc in ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if raw.startswith(bom):
            return raw[len(bom):].decode(enc, errors="strict")
    if encoding:
        try:
            return raw.decode(encoding)
        except (LookupError, UnicodeDecodeError) as exc:
            raise ReadError(f"layer '{layer}': {where} cannot be read as {encoding} ({exc}). "
                            "Fix: correct encoding = ... for the layer (UTF-8 or GBK)") from exc
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        log.warning("layer %s: %s is not UTF-8; reading it as GBK/GB18030. If the names look wrong, set "
                    "encoding = \"...\" for the layer", layer, where)
        try:
            return raw.decode("gb18030")
        except UnicodeDecodeError as exc:
            raise ReadError(f"layer '{layer}': {where} is neither UTF-8 nor GBK text ({exc}). "
                            "Fix: save it as CSV UTF-8 (Excel: Save As → CSV UTF-8)") from exc


def _read_table(p: Path, *, layer: str, sheet: str | None, encoding: str | None) -> pd.DataFrame:
    suffix = p.suffix.lower()
    if suffix == ".xls":
        raise ReadError(f"layer '{layer}': {p} is an old Excel 97 workbook (.xls). Fix: save it as .xlsx or CSV")
    if suffix in (".xlsx", ".xlsm"):
        try:
            book = pd.read_excel(p, sheet_name=None if sheet is None else sheet, dtype=str, engine="openpyxl",
                                 keep_default_na=False, na_values=[""])  # "NA", "null" are values, not gaps
        except ValueError as exc:  # a sheet name that is not there
            raise ReadError(f"layer '{layer}': {p}: {exc}. Fix: name an existing sheet with layer = \"...\"") from exc
        except Exception as exc:  # openpyxl raises plain errors for damaged files
            raise ReadError(f"layer '{layer}': {p} is not a readable Excel workbook ({type(exc).__name__}: {exc}). "
                            "Fix: save it again as .xlsx or CSV") from exc
        if isinstance(book, dict):
            if len(book) > 1:
                raise ReadError(f"layer '{layer}': {p} has {len(book)} sheets ({', '.join(list(book)[:8])}). "
                                "Fix: name the one to use with layer = \"<sheet>\" in the project file")
            return next(iter(book.values()))
        return book
    text = _decode(p.read_bytes(), encoding=encoding, where=str(p), layer=layer)
    head = text.split("\n", 1)[0]
    sep = max(("\t", ",", ";", "|"), key=head.count) if head else ","
    try:
        # only empty cells are missing: a name or code written "NA", "null" or "None" stays what it is
        return pd.read_csv(StringIO(text), sep=sep, dtype=str, skipinitialspace=True, keep_default_na=False,
                           na_values=[""])
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ReadError(f"layer '{layer}': {p} is not a readable CSV table ({exc}). "
                        "Fix: export it again as CSV with one header row") from exc


def _find_column(columns: list[str], wanted: str | None, names: tuple[str, ...], *, layer: str, what: str) -> str:
    if wanted is not None:
        if wanted not in columns:
            raise ValidationError(Problem(layer, wanted, f"the project file names column {wanted!r} for {what}, "
                                          f"which the table does not have (columns: {', '.join(columns[:12])})",
                                          f"set {what[0]} = \"<column>\" under the layer to an existing column"))
        return wanted
    found = [c for c in columns if str(c).strip().lower() in names]
    if len(found) != 1:
        raise ValidationError(Problem(layer, what, (f"no {what} column found" if not found else
                                                    f"several {what} columns: {', '.join(found)}") +
                                      f" (columns: {', '.join(map(str, columns[:12]))})",
                                      f"name it with {what[0]} = \"<column>\" under "
                                      f"[{layer if '.' in layer else 'layers.' + layer}] in the project file"))
    return found[0]


def read_point_table(path: str | os.PathLike[str], *, layer: str, x: str | None = None, y: str | None = None,
                     sheet: str | None = None, encoding: str | None = None,
                     limits: Limits | None = None) -> gpd.GeoDataFrame:
    """Read a CSV or XLSX table of points (one row per feature) as a GeoDataFrame without a CRS.

    The coordinate columns are ``x`` and ``y`` when given, else found by name
    (lon/lng/longitude/经度/x and lat/latitude/纬度/y, any case). A BOM decides
    the encoding of a CSV, else ``encoding``, else UTF-8, else GBK/GB18030 with a
    warning; the separator (comma, tab, semicolon, bar) is taken from the header
    line. Every value is read as text: the layer's validation converts numbers
    (codes such as ``350102`` keep their leading digits). ``attrs["xy_columns"]``
    names the columns used and ``attrs["lonlat"]`` says whether they are called
    longitude/latitude. The CRS is the caller's to declare.

    Raises
    ------
    ReadError
        Missing, unreadable or special file, over the limits (``limits``, default
        :func:`current_limits`), an ``.xls`` workbook, several sheets without ``sheet``.
    ValidationError
        No (or several) coordinate columns, or rows without numeric coordinates.
    """
    lim = limits or current_limits()
    p = Path(path)
    if not os.path.lexists(p):
        raise _missing(p, layer)
    _guards.guard_file(p, what=f"layer '{layer}'", max_bytes=lim.max_file_mb * 1024**2)
    _note_read(p)
    df = _read_table(p, layer=layer, sheet=sheet, encoding=encoding)
    if len(df) > lim.max_features:
        raise ReadError(f"layer '{layer}': {p} has {len(df):,} rows, above the limit of {lim.max_features:,}. "
                        f"Fix: check it is the right file, or raise {_guards.LIMIT_ENV['max_features']}")
    df.columns = [str(c).strip() for c in df.columns]
    cols = list(df.columns)
    xcol = _find_column(cols, x, _X_NAMES, layer=layer, what="x (longitude)")
    ycol = _find_column(cols, y, _Y_NAMES, layer=layer, what="y (latitude)")
    df = df.dropna(how="all")
    xs = pd.to_numeric(df[xcol].astype(str).str.strip(), errors="coerce")
    ys = pd.to_numeric(df[ycol].astype(str).str.strip(), errors="coerce")
    bad = (xs.isna() | ys.isna()).to_numpy()
    if bad.any():
        lines = [str(int(i) + 2) for i in np.flatnonzero(bad)[:5]]  # +2: header line, 1-based
        more = f" and {int(bad.sum()) - 5} more" if bad.sum() > 5 else ""
        raise ValidationError(Problem(layer, f"{xcol}/{ycol}", f"{int(bad.sum())} row(s) without numeric "
                                      f"coordinates (lines {', '.join(lines)}{more})",
                                      "fill them in as plain decimal numbers (118.0894, not 118°05′) or delete the rows"))
    gdf = gpd.GeoDataFrame(df.drop(columns=[xcol, ycol]).reset_index(drop=True),
                           geometry=gpd.points_from_xy(xs.to_numpy(), ys.to_numpy()), crs=None)
    gdf.attrs["xy_columns"] = (xcol, ycol)
    gdf.attrs["lonlat"] = xcol.strip().lower() in _LONLAT and ycol.strip().lower() in _LONLAT
    log.info("read %d points of layer %s from %s (columns %s, %s)", len(gdf), layer, p, xcol, ycol)
    return gdf


def list_plan_files() -> list[str]:
    """Names (without ``.toml``) of the plan target files shipped with geoplan."""
    root = resources.files("geoplan.targets")
    return sorted(f.name[:-5] for f in root.iterdir() if f.name.endswith(".toml"))


def read_plan_data(key: str) -> dict[str, Any]:
    """Read the shipped target data of plan ``key`` (e.g. ``"xiamen"``)."""
    res = resources.files("geoplan.targets") / f"{key}.toml"
    if not res.is_file():
        raise ConfigError(f"no plan named {key!r}; shipped plans: {', '.join(list_plan_files())}. "
                          "Fix: pass --plan with one of those")
    return tomllib.loads(res.read_text(encoding="utf-8"))


def read_package_toml(package: str, name: str) -> dict[str, Any]:
    """Read a TOML file shipped inside ``package`` (e.g. ``("geoplan", "radio_params.toml")``)."""
    res = resources.files(package) / name
    if not res.is_file():
        raise ConfigError(f"{name} is missing from the installed package {package}. Fix: reinstall geoplan")
    try:
        return tomllib.loads(res.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{package}/{name} is not valid TOML: {exc}. Fix: correct the syntax at that line") from exc


def read_layer_specs(directory: str | os.PathLike[str] | None = None) -> dict[str, dict[str, Any]]:
    """Read every ``*.toml`` layer spec in ``directory`` (default: the shipped ``layers/``)."""
    d = Path(directory) if directory is not None else shipped("layers")
    specs: dict[str, dict[str, Any]] = {}
    for f in sorted(d.glob("*.toml")):
        spec = read_toml(f, what="layer spec")
        key = spec.get("layer", {}).get("key", f.stem)
        specs[key] = spec
    return specs


def _ensure_dir(folder: Path, what: str) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WriteError(f"cannot create the {what} folder {folder}: {exc}. Fix: set a writable folder "
                         f"in ${WORKSPACE_DIR_ENV} / ${CACHE_DIR_ENV}") from exc


def read_json(path: str | os.PathLike[str], *, what: str = "JSON file") -> Any:
    """Read a UTF-8 JSON file."""
    p = Path(path)
    if not p.is_file():
        raise ReadError(f"{what} {p} does not exist. Fix: check the name or the folder")
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ReadError(f"{what} {p} is not valid UTF-8 JSON: {exc}. Fix: restore it from a copy or delete it") from exc


def write_json(data: Any, path: str | os.PathLike[str], *, what: str = "JSON file", overwrite: bool = False) -> Path:
    """Write ``data`` as UTF-8 JSON atomically, creating the folder if needed (``overwrite``: replace a file of the
    same name, e.g. the app's own workspace file)."""
    p = Path(path)
    _ensure_dir(p.parent, what)
    return write_text(json.dumps(data, ensure_ascii=False, indent=1, allow_nan=False), p, what=what,
                      overwrite=overwrite)


def list_json(folder: str | os.PathLike[str], *, suffix: str = ".json") -> list[tuple[str, float]]:
    """``(name without suffix, modification time)`` of the files ending in ``suffix`` in ``folder``, newest first."""
    root = Path(folder)
    if not root.is_dir():
        return []
    found = [(p.name[: -len(suffix)], p.stat().st_mtime) for p in root.iterdir()
             if p.is_file() and p.name.endswith(suffix) and not p.name.startswith(".")]
    return sorted(found, key=lambda t: -t[1])


def read_arrays(path: str | os.PathLike[str]) -> dict[str, np.ndarray] | None:
    """Arrays of an ``.npz`` file (no pickles), or ``None`` when it is missing or unreadable (a cache miss)."""
    p = Path(path)
    if not p.is_file():
        return None
    try:
        with np.load(p, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        log.warning("ignoring unreadable cache file %s: %s", p, exc)
        return None


def read_object(path: str | os.PathLike[str]) -> Any | None:
    """An object :func:`write_object` kept, or ``None`` (missing, unreadable, or not a private file of this user).

    Only a regular file owned by the current user and writable by no one else is
    unpickled (a cache file another user could have written is ignored).
    """
    p = Path(path)
    try:
        st = p.lstat()
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode) or (hasattr(os, "getuid") and (st.st_uid != os.getuid() or st.st_mode & 0o022)):
        log.warning("ignoring cache file %s: not a private file of this user", p)
        return None
    try:
        with p.open("rb") as fh:
            return pickle.load(fh)  # noqa: S301 - the user's own private cache file (checked above)
    except Exception as exc:  # noqa: BLE001 - a cache that cannot be read is rebuilt
        log.warning("ignoring unreadable cache file %s: %s", p, exc)
        return None


def write_object(obj: Any, path: str | os.PathLike[str], *, what: str = "cache") -> Path:
    """Keep ``obj`` in a private (mode 600) pickle file, written atomically; :func:`read_object` reads it."""
    p = Path(path)
    _ensure_dir(p.parent, what)
    with atomic_path(p, layer=what, overwrite=True) as tmp:  # a cache file is geoplan's own, rebuilt at will
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(obj, fh, protocol=pickle.HIGHEST_PROTOCOL)
    return p


def write_arrays(arrays: dict[str, np.ndarray], path: str | os.PathLike[str], *, what: str = "cache") -> Path:
    """Write named arrays to an ``.npz`` file atomically (uncompressed: loading is a copy)."""
    p = Path(path)
    _ensure_dir(p.parent, what)
    with atomic_path(p, layer=what, overwrite=True) as tmp:  # a cache file is geoplan's own, rebuilt at will
        with tmp.open("wb") as fh:
            np.savez(fh, **arrays)  # type: ignore[arg-type]
    return p
