"""Small MBTiles and PMTiles files made by code for the tests (no binary test data).

Each tile is a 256 px PNG drawn with Pillow: a colour by zoom level, a dark
border and its ``z/x/y`` written in it, so a screenshot shows which tiles came.
"""

from __future__ import annotations

import io
import math
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from PIL import Image, ImageDraw

__all__ = ["XIAMEN", "tile_range", "render_tile", "write_mbtiles", "write_pmtiles"]

#: Xiamen's districts, (left, bottom, right, top) in degrees (a little wider).
XIAMEN = (117.85, 24.40, 118.45, 24.95)
_COLOURS = [(250, 228, 196), (214, 234, 200), (206, 222, 244), (244, 210, 226), (232, 232, 190)]


def tile_range(bounds: tuple[float, float, float, float], zooms: Iterable[int]) -> list[tuple[int, int, int]]:
    """XYZ tiles (z, x, y) covering ``bounds`` at each zoom."""

    def xy(lon: float, lat: float, z: int) -> tuple[int, int]:
        n = 2**z
        x = int((lon + 180) / 360 * n)
        y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
        return min(x, n - 1), min(y, n - 1)

    out = []
    for z in zooms:
        x0, y0 = xy(bounds[0], bounds[3], z)
        x1, y1 = xy(bounds[2], bounds[1], z)
        out += [(z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
    return out


def render_tile(z: int, x: int, y: int, *, fmt: str = "PNG") -> bytes:
    """One 256 px tile image labelled ``z/x/y``."""
    img = Image.new("RGB", (256, 256), _COLOURS[z % len(_COLOURS)])
    draw = ImageDraw.Draw(img)
    draw.rectangle([0, 0, 255, 255], outline=(90, 90, 90), width=2)
    draw.text((12, 12), f"{z}/{x}/{y}", fill=(40, 40, 40))
    buf = io.BytesIO()
    img.save(buf, format=fmt)
    return buf.getvalue()


def write_mbtiles(path: Path, tiles: dict[tuple[int, int, int], bytes], *,
                  metadata: dict[str, str] | None = None) -> Path:
    """An MBTiles file of ``tiles`` (XYZ keys, stored in the TMS rows MBTiles uses) and ``metadata``."""
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
        db.execute("CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB)")
        db.execute("CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row)")
        db.executemany("INSERT INTO metadata VALUES (?, ?)", list((metadata or {}).items()))
        db.executemany("INSERT INTO tiles VALUES (?, ?, ?, ?)",
                       [(z, x, (1 << z) - 1 - y, data) for (z, x, y), data in tiles.items()])
    db.close()
    return path


def write_pmtiles(path: Path, tiles: dict[tuple[int, int, int], bytes], *, tile_type: str = "PNG",
                  bounds: tuple[float, float, float, float] = XIAMEN, metadata: dict[str, str] | None = None,
                  gzip_tiles: bool = False) -> Path:
    """A PMTiles (v3) file of ``tiles`` written with the ``pmtiles`` package's writer."""
    import gzip

    from pmtiles.tile import Compression, TileType, zxy_to_tileid
    from pmtiles.writer import write

    with write(path) as w:
        for tid, data in sorted((zxy_to_tileid(*k), v) for k, v in tiles.items()):
            w.write_tile(tid, gzip.compress(data, mtime=0) if gzip_tiles else data)
        w.finalize({"tile_type": TileType[tile_type], "tile_compression": Compression.GZIP if gzip_tiles
                    else Compression.NONE,
                    "min_lon_e7": int(bounds[0] * 1e7), "min_lat_e7": int(bounds[1] * 1e7),
                    "max_lon_e7": int(bounds[2] * 1e7), "max_lat_e7": int(bounds[3] * 1e7)},
                   metadata or {})
    return path
