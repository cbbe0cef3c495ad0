"""Guards :mod:`geoplan.io` runs before it reads a file, and the limits they apply.

Nothing here parses GIS data: each guard looks at a file's kind, size and
header and refuses, with a :class:`~geoplan.errors.ReadError` naming the limit
and how to raise it, anything that would hang or exhaust memory:

* not a regular file: a named pipe, a device or a socket is never opened (a
  read would block forever); a folder only where one is expected (FileGDB);
* files larger than ``max_file_mb`` (text files: ``max_text_mb``);
* rasters with more than ``max_raster_cells`` cells, or needing more than
  ``raster_memory_share`` of the memory available (checked from the header,
  before any cell is read);
* vector layers with more than ``max_features`` features (shapefile ``.shx``,
  GeoPackage tables and SQL views counted in SQLite with a time limit,
  ``read_timeout_s``: a small GeoPackage whose layer is a huge view is refused
  instead of hanging).

The limits (:class:`Limits`) have defaults, can be set in the project file's
``[limits]`` table and are overridden by environment variables (``GEOPLAN_MAX_FILE_MB``
...). ``docs/errors-and-limits.md`` lists them.
"""

from __future__ import annotations

import codecs
import logging
import math
import os
import sqlite3
import stat
import time
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from .errors import ConfigError, Problem, ReadError

__all__ = [
    "Limits",
    "LIMIT_ENV",
    "current_limits",
    "guard_file",
    "guard_family",
    "guard_folder",
    "decode_text",
    "available_memory",
    "check_raster_size",
    "shapefile_feature_count",
    "check_gpkg",
]

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())

_MB = 1024**2


@dataclass(frozen=True)
class Limits:
    """What geoplan agrees to read (see the module docstring).

    Attributes
    ----------
    max_file_mb : float
        Largest input file (vector or raster), MiB.
    max_text_mb : float
        Largest project, scenario or other text file, MiB.
    max_raster_cells : int
        Most cells (height × width) of a raster read into memory.
    raster_memory_share : float
        Share of the available memory one raster may take once read (float64 cells).
    max_features : int
        Most features of one vector layer.
    read_timeout_s : float
        Longest time spent counting a GeoPackage layer (a table or a SQL view) before reading it.
    max_zip_mb : float
        Largest total uncompressed size of a zip archive, MiB.
    """

    max_file_mb: float = 8192.0
    max_text_mb: float = 16.0
    max_raster_cells: int = 500_000_000
    raster_memory_share: float = 0.6
    max_features: int = 10_000_000
    read_timeout_s: float = 120.0
    max_zip_mb: float = 2048.0

    def with_overrides(self, values: Mapping[str, Any]) -> Limits:
        """A copy with ``values`` (names of the attributes) replacing the defaults."""
        return replace(self, **{k: v for k, v in values.items() if v is not None})


#: Environment variable overriding each limit.
LIMIT_ENV: dict[str, str] = {f.name: f"GEOPLAN_{f.name.upper()}" for f in fields(Limits)}


def current_limits(project: Mapping[str, Any] | None = None, *, environ: Mapping[str, str] | None = None) -> Limits:
    """The limits in force: defaults, then the project file's ``[limits]``, then ``GEOPLAN_*`` variables.

    >>> current_limits({"max_features": 100}, environ={"GEOPLAN_MAX_FILE_MB": "10"}).max_features
    100
    >>> current_limits(environ={"GEOPLAN_MAX_FILE_MB": "10"}).max_file_mb
    10.0
    """
    env = os.environ if environ is None else environ
    lim = Limits().with_overrides(project or {})
    problems: list[Problem] = []
    values: dict[str, Any] = {}
    for f in fields(Limits):
        var = LIMIT_ENV[f.name]
        text = env.get(var)
        if text is None or not text.strip():
            continue
        try:
            x = float(text)
            if not math.isfinite(x) or x <= 0 or (f.name == "raster_memory_share" and x > 1):
                raise ValueError(text)
            values[f.name] = int(x) if f.type in (int, "int") else x
        except ValueError:
            problems.append(Problem("[environment]", var, f"{text!r} is not a usable limit",
                                    "set a positive number" + (" up to 1" if f.name == "raster_memory_share" else "")
                                    + f", or unset {var}"))
    if problems:
        raise ConfigError(problems, where="the environment")
    return lim.with_overrides(values)


def _raise_hint(name: str) -> str:
    return f"raise the limit with {LIMIT_ENV[name]}=... or [limits] {name} = ... in the project file"


def _kind(mode: int) -> str | None:
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


def guard_file(path: Path, *, what: str, max_bytes: float | None = None, limit_name: str = "max_file_mb",
               allow_dir: bool = False) -> os.stat_result:
    """Refuse anything but a readable regular file (or folder, with ``allow_dir``) within ``max_bytes``.

    ``what`` names the file in messages ("layer 'sites'", "project file").
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise ReadError(f"{what}: file {path} does not exist. Fix: correct the path (paths in a project file "
                        "are relative to it)") from None
    except OSError as exc:
        raise ReadError(f"{what}: {path} cannot be opened ({exc.strerror or exc}). Fix: check the path") from None
    kind = _kind(st.st_mode)
    if kind is not None:
        raise ReadError(f"{what}: {path} is {kind}, not a regular file; it was not opened. "
                        "Fix: point at the data file itself")
    if stat.S_ISDIR(st.st_mode) and not allow_dir:
        raise ReadError(f"{what}: {path} is a folder, not a file. Fix: name the file inside it")
    if not os.access(path, os.R_OK):
        raise ReadError(f"{what}: no permission to read {path}. Fix: check the file's permissions")
    if max_bytes is not None and stat.S_ISREG(st.st_mode) and st.st_size > max_bytes:
        raise ReadError(f"{what}: {path} is {st.st_size / _MB:,.1f} MiB, above the limit of {max_bytes / _MB:,.0f} MiB; "
                        f"it was not read. Fix: check it is the right file, or {_raise_hint(limit_name)}")
    return st


def guard_family(path: Path, *, what: str) -> None:
    """Refuse when a sidecar of ``path`` (same name up to the first dot: ``.shx``, ``.dbf``, ``.aux.xml``) is not a regular file."""
    stem = path.name.split(".")[0].lower()
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return
    for e in entries:
        if e.name != path.name and e.name.split(".")[0].lower() == stem:
            try:
                kind = _kind(os.stat(e.path).st_mode)
            except OSError:
                continue
            if kind is not None:
                raise ReadError(f"{what}: {e.path}, beside {path.name}, is {kind}; it was not opened. "
                                "Fix: replace it with the real file or remove it")


def guard_folder(path: Path, *, what: str, max_bytes: float) -> None:
    """Refuse a folder layer (FileGDB) holding special files or more than ``max_bytes`` in all."""
    total = 0
    for root, _dirs, names in os.walk(path):
        for n in names:
            st = guard_file(Path(root) / n, what=what)
            total += st.st_size
    if total > max_bytes:
        raise ReadError(f"{what}: {path} holds {total / _MB:,.1f} MiB, above the limit of {max_bytes / _MB:,.0f} MiB. "
                        f"Fix: {_raise_hint('max_file_mb')}")


def decode_text(data: bytes, *, what: str, path: Path) -> str:
    """Text of a settings file: UTF-8 (with or without BOM), UTF-16 with BOM, or GBK/GB18030 with a note.

    >>> decode_text("厦门".encode("gbk"), what="project file", path=Path("x.toml"))
    '厦门'
    """
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    if b"\x00" in data:
        raise ReadError(f"{what} {path} is not a text file (it holds NUL bytes). Fix: check the path")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise ReadError(f"{what} {path} is neither UTF-8 nor GBK text (byte {exc.start}). "
                        "Fix: save it as UTF-8") from None
    log.warning("%s %s is not UTF-8; it was read as GBK/GB18030 (Chinese Windows encoding). "
                "Save it as UTF-8 to make this note go away", what, path)
    return text


def available_memory() -> int | None:
    """Bytes of memory available to this process (Linux ``MemAvailable`` and cgroup limit), or ``None``."""
    avail: int | None = None
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    avail = int(line.split()[1]) * 1024
                    break
    except (OSError, ValueError):
        pass
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        used = int(Path("/sys/fs/cgroup/memory.current").read_text().strip())
        if limit != "max":
            room = int(limit) - used
            avail = room if avail is None else min(avail, room)
    except (OSError, ValueError):
        pass
    if avail is None:
        try:
            import psutil

            avail = int(psutil.virtual_memory().available)
        except Exception:  # psutil is optional
            return None
    return max(avail, 0)


def check_raster_size(*, height: int, width: int, itemsize: int, what: str, path: Path, limits: Limits) -> None:
    """Refuse a raster too large for :class:`Limits` or for the memory available, from its header alone."""
    cells = int(height) * int(width)
    if cells > limits.max_raster_cells:
        raise ReadError(f"{what}: {path.name} is {width:,} × {height:,} = {cells:,} cells, above the limit of "
                        f"{limits.max_raster_cells:,}; it was not read. Fix: clip it to the planning area or "
                        f"resample it (100 m is enough), or {_raise_hint('max_raster_cells')}")
    need = cells * (int(itemsize) + 8 + 1)  # the band as stored, as float64, and a validity mask
    avail = available_memory()
    if avail is not None and need > limits.raster_memory_share * avail:
        raise ReadError(f"{what}: reading {path.name} ({width:,} × {height:,} cells) needs about {need / 1e9:,.1f} GB "
                        f"of memory and {avail / 1e9:,.1f} GB is available; it was not read. Fix: clip or resample "
                        f"it, or {_raise_hint('raster_memory_share')}")


def shapefile_feature_count(shp: Path) -> int | None:
    """Features of a shapefile from its ``.shx`` index size (``None`` without one)."""
    for ext in (".shx", ".SHX"):
        shx = shp.with_suffix(ext)
        if shx.is_file():
            return max(0, (shx.stat().st_size - 100) // 8)
    return None


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def check_gpkg(path: Path, *, what: str, sublayer: str | None, limits: Limits) -> None:
    """Count the features of a GeoPackage's layers in SQLite, within ``read_timeout_s``; refuse when over the limits.

    Views are counted too: a view that does not finish in time, or yields more
    than ``max_features`` rows, is refused before GDAL would evaluate it.
    Files SQLite cannot open are left to the reader (which reports them).
    """
    deadline = time.monotonic() + limits.read_timeout_s
    try:
        con = sqlite3.connect(f"file:{urllib.parse.quote(str(path))}?mode=ro", uri=True, timeout=2.0)
    except sqlite3.Error:
        return
    try:
        con.set_progress_handler(lambda: 1 if time.monotonic() > deadline else 0, 20_000)
        try:
            rows = con.execute("SELECT table_name FROM gpkg_contents WHERE data_type IN ('features', 'attributes')"
                               ).fetchall()
        except sqlite3.Error:
            return
        names = [str(r[0]) for r in rows]
        if sublayer is not None:
            names = [n for n in names if n.lower() == sublayer.lower()]
        for name in names:
            kind = con.execute("SELECT type FROM sqlite_master WHERE lower(name) = lower(?)", (name,)).fetchone()
            if kind is None:
                continue
            label = "SQL view" if kind[0] == "view" else "table"
            try:
                n = int(con.execute(f"SELECT COUNT(*) FROM {_quote(name)}").fetchone()[0])
            except sqlite3.OperationalError as exc:
                if time.monotonic() > deadline:
                    raise ReadError(f"{what}: counting the features of {label} {name!r} in {path.name} took longer "
                                    f"than {limits.read_timeout_s:g} s; it was not read. Fix: save the layer as a "
                                    f"plain table (QGIS: Export ▸ Save Features As), or {_raise_hint('read_timeout_s')}"
                                    ) from None
                log.debug("%s: could not count %s (%s)", what, name, exc)
                continue
            if n > limits.max_features:
                raise ReadError(f"{what}: {label} {name!r} in {path.name} has {n:,} features, above the limit of "
                                f"{limits.max_features:,}; it was not read. Fix: check it is the right layer, or "
                                f"{_raise_hint('max_features')}")
    finally:
        con.close()
