"""Local tile files — MBTiles (SQLite) and PMTiles — read tile by tile for a base map.

Private to :mod:`geoplan.io`, the only caller (``io.open_tile_file``): this module
opens files, and only ``io`` touches disk. A tile file is opened once, checked
(a tile set of raster images: PNG, JPEG, WebP or AVIF; vector tiles are refused
with the fix), described by a :class:`TileSetInfo` (format, bounds, zoom range,
name, attribution) and then read one tile at a time with :meth:`TileFile.tile`
in the XYZ scheme Leaflet asks for (``z/x/y``, ``y`` from the north).

- MBTiles 1.3 (https://github.com/mapbox/mbtiles-spec): ``metadata`` (name, value)
  and ``tiles`` (zoom_level, tile_column, tile_row, tile_data) in the TMS scheme
  (rows from the south: ``row = 2**z - 1 - y``). Read with :mod:`sqlite3`, read-only.
- PMTiles 3 (https://github.com/protomaps/PMTiles/blob/main/spec/v3/spec.md): a
  127-byte header (tile type, compression, zoom range, bounds in 1e-7 degrees),
  JSON metadata and Hilbert-ordered directories. Read with the ``pmtiles`` package
  over a memory map.
"""

from __future__ import annotations

import contextlib
import gzip
import math
import mmap
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote

from .errors import ReadError

__all__ = ["MIME_TYPES", "TileSetInfo", "TileFile", "MBTilesFile", "PMTilesFile", "open_tile_file", "sniff_format"]

#: Raster tile formats a browser draws, and their MIME types.
MIME_TYPES = {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp", "avif": "image/avif"}
#: Web Mercator's latitude limit (degrees).
MAX_LAT = 85.0511287798
_VECTOR = frozenset({"pbf", "mvt", "mlt", "application/x-protobuf", "application/vnd.mapbox-vector-tile"})
_SQLITE_MAGIC = b"SQLite format 3\x00"
_FIX_VECTOR = ("vector tiles need a style and a vector renderer this map does not have. Fix: use a raster tile "
               "file (PNG/JPEG/WebP tiles) — render one from the vector tiles with a tile renderer, e.g. "
               "tileserver-gl or QGIS 'Generate XYZ tiles (MBTiles)' — or serve the vector tiles as raster "
               "tiles from a tile server and give its URL as a custom tile URL")


@dataclass(frozen=True)
class TileSetInfo:
    """What a tile file holds.

    ``bounds`` are (left, bottom, right, top) in degrees (WGS84 / CGCS2000), as the
    file states them (or, when it does not, the extent of its tiles).
    """

    path: Path
    kind: str  # "MBTiles" | "PMTiles"
    format: str  # a key of MIME_TYPES
    name: str
    attribution: str
    bounds: tuple[float, float, float, float]
    min_zoom: int
    max_zoom: int

    @property
    def mime(self) -> str:
        """The tiles' MIME type."""
        return MIME_TYPES[self.format]


def sniff_format(data: bytes) -> str | None:
    """The image format of one tile from its first bytes (``None``: not a raster image).

    Examples
    --------
    >>> sniff_format(b"\\x89PNG\\r\\n\\x1a\\n..."), sniff_format(b"\\xff\\xd8\\xff\\xe0"), sniff_format(b"\\x1a\\x03")
    ('png', 'jpg', None)
    """
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[4:12] in (b"ftypavif", b"ftypavis"):
        return "avif"
    return None


def _tile_range_bounds(z: int, x0: int, x1: int, y0: int, y1: int) -> tuple[float, float, float, float]:
    """Degrees covered by XYZ tiles ``x0..x1`` × ``y0..y1`` at zoom ``z``."""
    n = 2.0**z

    def lat(y: float) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y / n))))

    return x0 / n * 360 - 180, lat(y1 + 1), (x1 + 1) / n * 360 - 180, lat(y0)


def _check_info(path: Path, kind: str, *, bounds: tuple[float, ...], min_zoom: int, max_zoom: int) -> None:
    """Refuse a zoom range or bounds no map can use."""
    if not (0 <= min_zoom <= max_zoom <= 30):
        raise ReadError(f"tile file {path}: its zoom range {min_zoom}–{max_zoom} is not usable (zoom levels run from "
                        f"0 to 30, lowest first). Fix: correct minzoom/maxzoom in the {kind} file's metadata")
    left, bottom, right, top = bounds
    if not (-180 <= left < right <= 180 and -90 <= bottom < top <= 90):
        raise ReadError(f"tile file {path}: its bounds {left:g},{bottom:g},{right:g},{top:g} are not "
                        f"left,bottom,right,top in degrees. Fix: correct the bounds in the {kind} file's metadata")


class TileFile:
    """An open tile file: :attr:`info` and :meth:`tile`; close it with :meth:`close` (or ``with``)."""

    info: TileSetInfo

    def tile(self, z: int, x: int, y: int) -> bytes | None:  # pragma: no cover - abstract
        """Tile ``z/x/y`` (XYZ: ``y`` counts from the north) as image bytes; ``None`` when the file lacks it."""
        raise NotImplementedError

    def close(self) -> None:  # pragma: no cover - abstract
        """Release the file."""
        raise NotImplementedError

    def __enter__(self) -> TileFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class MBTilesFile(TileFile):
    """An MBTiles file, read-only through one SQLite connection shared by threads (a lock around each read)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True, check_same_thread=False)
            self.info = self._describe()
        except sqlite3.Error as exc:
            with contextlib.suppress(Exception):
                self._db.close()
            raise ReadError(f"tile file {path} is not a readable MBTiles file ({exc}). Fix: check it is a complete "
                            "MBTiles file (an SQLite database with metadata and tiles tables)") from None
        except ReadError:
            self._db.close()
            raise

    def _describe(self) -> TileSetInfo:
        tables = {r[0] for r in self._db.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}
        missing = [t for t in ("metadata", "tiles") if t not in tables]
        if missing:
            raise ReadError(f"tile file {self.path} is an SQLite database but not an MBTiles file: it has no "
                            f"{' or '.join(missing)} table. Fix: give an MBTiles file (QGIS 'Generate XYZ tiles "
                            "(MBTiles)', gdal_translate -of MBTiles, or your tile server's export)")
        meta = {str(k).lower(): str(v) for k, v in self._db.execute("SELECT name, value FROM metadata") if k}
        first = self._db.execute("SELECT tile_data FROM tiles LIMIT 1").fetchone()
        if first is None:
            raise ReadError(f"tile file {self.path} holds no tiles. Fix: give the MBTiles file the tiles were "
                            "written to (an export may have stopped before writing them)")
        declared = meta.get("format", "").strip().lower()
        if declared in _VECTOR or (declared == "" and '"vector_layers"' in meta.get("json", "")):
            raise ReadError(f"tile file {self.path} holds vector tiles (format {declared or 'pbf'}): {_FIX_VECTOR}")
        fmt = {"jpeg": "jpg"}.get(declared, declared)
        if fmt not in MIME_TYPES:
            fmt = sniff_format(bytes(first[0])) or ""
        if fmt not in MIME_TYPES:
            raise ReadError(f"tile file {self.path}: its tiles are not PNG, JPEG, WebP or AVIF images (format "
                            f"{declared or 'not stated'}). Fix: {_FIX_VECTOR}")
        try:
            lo, hi = int(float(meta["minzoom"])), int(float(meta["maxzoom"]))
        except (KeyError, ValueError):
            lo, hi = self._db.execute("SELECT MIN(zoom_level), MAX(zoom_level) FROM tiles").fetchone()
        bounds = self._bounds(meta)
        _check_info(self.path, "MBTiles", bounds=bounds, min_zoom=int(lo), max_zoom=int(hi))
        return TileSetInfo(path=self.path, kind="MBTiles", format=fmt, name=meta.get("name") or self.path.stem,
                           attribution=meta.get("attribution", ""), bounds=bounds, min_zoom=int(lo), max_zoom=int(hi))

    def _bounds(self, meta: dict[str, str]) -> tuple[float, float, float, float]:
        text = meta.get("bounds", "")
        try:
            left, bottom, right, top = (float(v) for v in text.split(","))
            return left, bottom, right, top
        except ValueError:
            if text.strip():
                raise ReadError(f"tile file {self.path}: its bounds {text!r} are not four numbers "
                                "left,bottom,right,top in degrees. Fix: correct the MBTiles metadata "
                                "'bounds'") from None
        z = self._db.execute("SELECT MIN(zoom_level) FROM tiles").fetchone()[0]
        x0, x1, r0, r1 = self._db.execute("SELECT MIN(tile_column), MAX(tile_column), MIN(tile_row), MAX(tile_row) "
                                          "FROM tiles WHERE zoom_level = ?", (z,)).fetchone()
        n = 2**z - 1
        return _tile_range_bounds(int(z), int(x0), int(x1), n - int(r1), n - int(r0))

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        with self._lock:
            row = self._db.execute("SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? AND "
                                   "tile_row = ?", (z, x, (1 << z) - 1 - y)).fetchone()
        return None if row is None else bytes(row[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()


class PMTilesFile(TileFile):
    """A PMTiles (version 3) file over a read-only memory map."""

    def __init__(self, path: Path) -> None:
        try:
            from pmtiles.reader import Reader
            from pmtiles.tile import Compression, MagicNumberNotFound, SpecVersionUnsupported, TileType
        except ImportError:
            raise ReadError(f"tile file {path} is a PMTiles file, and reading one needs the pmtiles package. Fix: "
                            "pip install 'geoplan[app]' (or pip install pmtiles)") from None
        self.path = path
        self._file: BinaryIO = open(path, "rb")  # noqa: SIM115 - kept open for the memory map
        try:
            self._map = mmap.mmap(self._file.fileno(), 0, access=mmap.ACCESS_READ)
            self._reader = Reader(lambda offset, length: self._map[offset:offset + length])
            header = self._reader.header()
            meta = self._reader.metadata() if header["metadata_length"] else {}
        except (MagicNumberNotFound, SpecVersionUnsupported, ValueError, OSError, EOFError, IndexError) as exc:
            with contextlib.suppress(AttributeError):
                self._map.close()
            self._file.close()
            version = "" if not isinstance(exc, SpecVersionUnsupported) else " (not version 3)"
            raise ReadError(f"tile file {path} is not a readable PMTiles file{version}. Fix: give a PMTiles "
                            "version 3 file (convert older ones with `pmtiles convert`)") from None
        kinds = {TileType.PNG: "png", TileType.JPEG: "jpg", TileType.WEBP: "webp", TileType.AVIF: "avif"}
        self._gzip = header["tile_compression"] == Compression.GZIP
        try:
            if header["tile_type"] not in kinds:
                what = header["tile_type"].name.lower()
                raise ReadError(f"tile file {path} holds {'vector' if what in ('mvt', 'mlt') else what} tiles "
                                f"(tile type {header['tile_type'].name}): {_FIX_VECTOR}")
            if header["tile_compression"] not in (Compression.NONE, Compression.UNKNOWN, Compression.GZIP):
                raise ReadError(f"tile file {path}: its tiles are {header['tile_compression'].name}-compressed, "
                                "which geoplan does not unpack. Fix: re-pack it without tile compression "
                                "(raster tiles are compressed images already)")
            bounds = tuple(header[k] / 1e7 for k in ("min_lon_e7", "min_lat_e7", "max_lon_e7", "max_lat_e7"))
            _check_info(path, "PMTiles", bounds=bounds, min_zoom=header["min_zoom"], max_zoom=header["max_zoom"])
        except ReadError:
            self.close()
            raise
        meta = meta if isinstance(meta, dict) else {}
        self.info = TileSetInfo(path=path, kind="PMTiles", format=kinds[header["tile_type"]],
                                name=str(meta.get("name") or path.stem), attribution=str(meta.get("attribution", "")),
                                bounds=(bounds[0], bounds[1], bounds[2], bounds[3]),
                                min_zoom=int(header["min_zoom"]), max_zoom=int(header["max_zoom"]))

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        data: Any = self._reader.get(z, x, y)
        if not data:
            return None
        return gzip.decompress(data) if self._gzip else bytes(data)

    def close(self) -> None:
        self._map.close()
        self._file.close()


def open_tile_file(path: Path) -> TileFile:
    """Open ``path`` (an existing regular file) as MBTiles or PMTiles, by its first bytes, not its name."""
    with open(path, "rb") as f:
        head = f.read(16)
    if head.startswith(_SQLITE_MAGIC):
        return MBTilesFile(path)
    if head.startswith(b"PMTiles"):
        return PMTilesFile(path)
    raise ReadError(f"tile file {path} is neither an MBTiles file (SQLite) nor a PMTiles file. Fix: give a "
                    ".mbtiles or .pmtiles file of raster tiles (a folder of z/x/y images can be packed with "
                    "`pmtiles convert` or mb-util)")


