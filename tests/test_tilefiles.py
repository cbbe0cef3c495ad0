"""Local tile files (MBTiles, PMTiles) as a base map: readers, checks, the tile server and the Leaflet layer.

The tile files are made here by code (:mod:`tests._tilesets`: PNG tiles drawn with
Pillow, written with sqlite3 and the ``pmtiles`` package's writer).
"""

from __future__ import annotations

import gzip
import re
import sqlite3
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geoplan import io
from geoplan.errors import ConfigError, ReadError

from ._tilesets import XIAMEN, render_tile, tile_range, write_mbtiles, write_pmtiles

folium = pytest.importorskip("folium")
from geoplan.webmap import tileserver  # noqa: E402
from geoplan.webmap.localtiles import local_tile_group, local_tiles, tile_fit  # noqa: E402
from geoplan.webmap.tileserver import TileServer  # noqa: E402

ZOOMS = (8, 9, 10)
META = {"name": "厦门测试底图", "format": "png", "bounds": ",".join(map(str, XIAMEN)), "minzoom": "8",
        "maxzoom": "10", "attribution": "<a href='https://example.org'>Test tiles</a> <script>alert(1)</script>"}


@pytest.fixture(scope="module")
def tiles() -> dict[tuple[int, int, int], bytes]:
    return {k: render_tile(*k) for k in tile_range(XIAMEN, ZOOMS)}


@pytest.fixture()
def mbtiles(tmp_path, tiles) -> Path:
    return write_mbtiles(tmp_path / "xiamen.mbtiles", tiles, metadata=META)


@pytest.fixture()
def pmtiles(tmp_path, tiles) -> Path:
    return write_pmtiles(tmp_path / "xiamen.pmtiles", tiles, metadata={"name": "厦门", "attribution": "Test"})


@pytest.fixture()
def server():
    s = TileServer()
    yield s
    s.close()


def _get(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.headers["Content-Type"], r.read()
    except urllib.error.HTTPError as exc:
        exc.close()
        return exc.code, "", b""


# ------------------------------------------------------------------ readers


def test_mbtiles_info_and_tiles_in_xyz_order(mbtiles, tiles):
    with io.open_tile_file(mbtiles) as f:
        info = f.info
        assert (info.kind, info.format, info.mime, info.name) == ("MBTiles", "png", "image/png", "厦门测试底图")
        assert (info.min_zoom, info.max_zoom) == (8, 10) and info.bounds == XIAMEN
        for (z, x, y), data in tiles.items():  # stored in TMS rows, asked for in XYZ rows
            assert f.tile(z, x, y) == data
        assert f.tile(10, 0, 0) is None and f.tile(12, 3400, 1780) is None


def test_mbtiles_without_metadata_gets_zooms_bounds_and_format_from_its_tiles(tmp_path):
    keys = tile_range(XIAMEN, (9, 10))
    path = write_mbtiles(tmp_path / "bare.mbtiles", {k: render_tile(*k, fmt="JPEG") for k in keys})
    with io.open_tile_file(path) as f:
        assert (f.info.format, f.info.min_zoom, f.info.max_zoom, f.info.name) == ("jpg", 9, 10, "bare")
        left, bottom, right, top = f.info.bounds  # the extent of the zoom-9 tiles holds Xiamen
        assert left <= XIAMEN[0] and bottom <= XIAMEN[1] and right >= XIAMEN[2] and top >= XIAMEN[3]
        assert right - left < 1.5 and top - bottom < 1.5


@pytest.mark.parametrize("gzip_tiles", [False, True])
def test_pmtiles_info_and_tiles(tmp_path, tiles, gzip_tiles):
    path = write_pmtiles(tmp_path / "x.pmtiles", tiles, metadata={"name": "厦门", "attribution": "Test"},
                         gzip_tiles=gzip_tiles)
    with io.open_tile_file(path) as f:
        info = f.info
        assert (info.kind, info.format, info.name, info.attribution) == ("PMTiles", "png", "厦门", "Test")
        assert (info.min_zoom, info.max_zoom) == (8, 10)
        assert info.bounds == pytest.approx(XIAMEN, abs=1e-6)
        for (z, x, y), data in tiles.items():
            assert f.tile(z, x, y) == data
        assert f.tile(10, 0, 0) is None


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(z=st.integers(0, 18), data=st.data())
def test_one_tile_round_trips_through_both_formats(tmp_path_factory, z, data):
    x, y = data.draw(st.integers(0, 2**z - 1)), data.draw(st.integers(0, 2**z - 1))
    tile = render_tile(z, x, y)
    d = tmp_path_factory.mktemp("one")
    mb = write_mbtiles(d / "a.mbtiles", {(z, x, y): tile}, metadata={"format": "png"})
    pm = write_pmtiles(d / "a.pmtiles", {(z, x, y): tile}, bounds=(-180, -85, 180, 85))
    for path in (mb, pm):
        with io.open_tile_file(path) as f:
            assert f.tile(z, x, y) == tile
            assert (f.info.min_zoom, f.info.max_zoom) == (z, z)
            if z:
                assert f.tile(z, x, 2**z - 1 - y) is None or y == 2**z - 1 - y  # rows are not flipped twice


# ------------------------------------------------------------------ refusals at the boundary


def _sqlite(path: Path, sql: str = "CREATE TABLE t (a)") -> Path:
    with sqlite3.connect(path) as db:
        db.executescript(sql)
    db.close()
    return path


BAD_FILES = {
    "missing": (lambda d: d / "nowhere.mbtiles", "does not exist"),
    "folder": (lambda d: d, "is a folder"),
    "text": (lambda d: (d / "tiles.mbtiles").write_text("not tiles") and d / "tiles.mbtiles",
             "neither an MBTiles file (SQLite) nor a PMTiles file"),
    "sqlite without tables": (lambda d: _sqlite(d / "other.mbtiles"), "no metadata or tiles table"),
    "no tiles": (lambda d: write_mbtiles(d / "empty.mbtiles", {}, metadata=META), "holds no tiles"),
    "vector mbtiles": (lambda d: write_mbtiles(d / "v.mbtiles", {(0, 0, 0): gzip.compress(b"\x1a\x00")},
                                               metadata={"format": "pbf"}), "holds vector tiles"),
    "vector json": (lambda d: write_mbtiles(d / "j.mbtiles", {(0, 0, 0): b"\x1a\x00"},
                                            metadata={"json": '{"vector_layers": []}'}), "holds vector tiles"),
    "not images": (lambda d: write_mbtiles(d / "n.mbtiles", {(0, 0, 0): b"hello"}), "not PNG, JPEG, WebP"),
    "zoom range": (lambda d: write_mbtiles(d / "z.mbtiles", {(3, 0, 0): render_tile(3, 0, 0)},
                                           metadata={**META, "minzoom": "12", "maxzoom": "3"}), "zoom range 12–3"),
    "bounds text": (lambda d: write_mbtiles(d / "b.mbtiles", {(3, 0, 0): render_tile(3, 0, 0)},
                                            metadata={**META, "bounds": "west,south"}), "not four numbers"),
    "bounds order": (lambda d: write_mbtiles(d / "o.mbtiles", {(3, 0, 0): render_tile(3, 0, 0)},
                                             metadata={**META, "bounds": "118,25,117,24"}), "are not"),
    "vector pmtiles": (lambda d: write_pmtiles(d / "v.pmtiles", {(0, 0, 0): b"\x1a\x00"}, tile_type="MVT"),
                       "holds vector tiles"),
    "truncated pmtiles": (lambda d: (d / "t.pmtiles").write_bytes(
        write_pmtiles(d / "full.pmtiles", {(0, 0, 0): render_tile(0, 0, 0)}).read_bytes()[:140])
        and d / "t.pmtiles", "not a readable PMTiles file"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_unusable_tile_files_are_refused_with_the_file_and_the_fix(tmp_path, case):
    make, words = BAD_FILES[case]
    path = make(tmp_path)
    with pytest.raises(ReadError) as err:
        io.open_tile_file(path).close()
    msg = str(err.value)
    assert words in msg and "Fix:" in msg and str(path) in msg, msg


def test_an_empty_path_is_refused():
    with pytest.raises(ReadError, match="no tile file was given"):
        io.open_tile_file("  ")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(head=st.sampled_from([b"", b"SQLite format 3\x00", b"PMTiles\x03", b"PMTiles\x02"]),
       tail=st.binary(max_size=400))
def test_garbage_is_a_read_error_never_a_traceback(tmp_path_factory, head, tail):
    path = tmp_path_factory.mktemp("junk") / "junk.mbtiles"
    path.write_bytes(head + tail)
    with pytest.raises(ReadError, match="Fix:"):
        io.open_tile_file(path).close()


# ------------------------------------------------------------------ fit with the project


@given(box=st.tuples(st.floats(-179, 179), st.floats(-80, 80), st.floats(0.01, 50), st.floats(0.01, 40)))
def test_tile_fit_refuses_exactly_the_files_that_miss_the_project(box):
    left, bottom, w, h = box
    bounds = (left, bottom, min(left + w, 180.0), min(bottom + h, 85.0))
    overlaps = bounds[0] < XIAMEN[2] and bounds[2] > XIAMEN[0] and bounds[1] < XIAMEN[3] and bounds[3] > XIAMEN[1]
    if overlaps:
        fit = tile_fit(bounds, XIAMEN, min_zoom=5, max_zoom=12)
        assert 0 < fit.share <= 1
    else:
        with pytest.raises(ConfigError, match="does not overlap"):
            tile_fit(bounds, XIAMEN, min_zoom=5, max_zoom=12)


def test_zoom_advice():
    assert tile_fit(XIAMEN, XIAMEN, min_zoom=0, max_zoom=6).coarse
    assert tile_fit(XIAMEN, XIAMEN, min_zoom=15, max_zoom=18).zoom_in_from == 13
    assert tile_fit(XIAMEN, XIAMEN, min_zoom=8, max_zoom=16).zoom_in_from is None


def test_a_file_of_another_city_is_refused(tmp_path, xiamen, monkeypatch, server):
    monkeypatch.setattr(tileserver, "_server", server)
    beijing = (116.2, 39.8, 116.6, 40.1)
    path = write_mbtiles(tmp_path / "beijing.mbtiles", {k: render_tile(*k) for k in tile_range(beijing, (9,))},
                         metadata={"format": "png", "bounds": ",".join(map(str, beijing))})
    with pytest.raises(ConfigError, match=r"beijing.mbtiles covers .* does not overlap the districts of"):
        local_tiles(path, project_bounds=tuple(xiamen.districts.total_bounds), project=xiamen.name)
    served, fit = local_tiles(write_mbtiles(tmp_path / "x.mbtiles", {(9, 427, 223): render_tile(9, 427, 223)},
                                            metadata=META), project_bounds=tuple(xiamen.districts.total_bounds))
    assert fit.share > 0.9 and served.url.startswith(server.url)


# ------------------------------------------------------------------ the tile server


def test_server_serves_registered_files_only(server, mbtiles, pmtiles, tiles):
    assert server.url.startswith("http://127.0.0.1:")
    a, b = server.register(mbtiles), server.register(pmtiles)
    assert a.url != b.url and server.register(mbtiles).url == a.url  # one token per file version
    (z, x, y), data = next(iter(tiles.items()))
    for served in (a, b):
        status, ctype, body = _get(served.url.format(z=z, x=x, y=y))
        assert (status, ctype, body) == (200, "image/png", data)
        assert _get(served.url.format(z=10, x=0, y=0))[0] == 404  # not in the file
        assert _get(served.url.format(z=3, x=8, y=0))[0] == 404  # not a tile at all
    token = a.url.split("/")[3]
    for path in ("/", f"/{token}", "/AAAAAAAAAAAA/8/213/111", f"/{token}/../../etc/passwd", f"/{token}/a/b/c"):
        assert _get(server.url + path)[0] == 404, path


def test_a_changed_file_is_served_anew(server, tmp_path, tiles):
    path = write_mbtiles(tmp_path / "v.mbtiles", dict(list(tiles.items())[:1]), metadata=META)
    first = server.register(path)
    path.unlink()
    write_mbtiles(path, tiles, metadata={**META, "name": "v2"})
    second = server.register(path)
    assert second.url != first.url and second.info.name == "v2"
    (z, x, y) = next(iter(tiles))
    assert _get(first.url.format(z=z, x=x, y=y))[0] == 404 and _get(second.url.format(z=z, x=x, y=y))[0] == 200


def test_server_address_from_the_environment(monkeypatch):
    monkeypatch.setattr(tileserver, "_server", None)
    monkeypatch.setenv(tileserver.TILE_PORT_ENV, "http")
    with pytest.raises(ConfigError, match="GEOPLAN_TILE_PORT='http' is not a port number"):
        tileserver.tile_server()
    monkeypatch.setenv(tileserver.TILE_PORT_ENV, "0")
    monkeypatch.setenv(tileserver.TILE_URL_ENV, "http://gis.bureau.local:8765/")
    s = tileserver.tile_server()
    try:
        assert s.host == "127.0.0.1" and s.url == "http://gis.bureau.local:8765" and tileserver.tile_server() is s
    finally:
        s.close()
    with pytest.raises(ConfigError, match="cannot listen on 192.0.2.1"):
        TileServer(host="192.0.2.1")


# ------------------------------------------------------------------ the Leaflet layer


def test_layer_has_the_files_zooms_bounds_attribution_and_failure_notice(server, mbtiles):
    served = server.register(mbtiles)
    fg = local_tile_group(served, failed_message="tiles failed ({n})")
    m = folium.Map(tiles=None)
    fg.add_to(m)
    page = m.get_root().render()
    assert served.url in page
    compact = re.sub(r"\s+", "", page)
    for option in ('"maxNativeZoom":10', '"minNativeZoom":8', '"minZoom":6', '"bounds":[[24.4,117.85,],[24.95,118.45,],]',
                   "geoplan-tile-notice", "tilesfailed({n})", "Testtiles"):
        assert option in compact, option
    assert "<script>alert" not in page and "<a href" not in page  # the file's markup is not the page's


# ------------------------------------------------------------------ the project file's [app] tiles


def test_project_file_names_the_apps_default_tile_file(tmp_path):
    import geoplan as gp
    from geoplan._project_file import parse_project_file

    from .conftest import TINY_TARGETS_TOML, tiny_layers

    districts, raster, _ = tiny_layers()
    districts.to_file(tmp_path / "d.gpkg", layer="d")
    io.write_raster(raster, tmp_path / "pop.tif")
    (tmp_path / "targets.toml").write_text(TINY_TARGETS_TOML, encoding="utf-8")
    head = '[project]\nname = "t"\ntargets = "targets.toml"\n[layers.districts]\npath = "d.gpkg"\n' \
           '[layers.population]\npath = "pop.tif"\n'
    (tmp_path / "a.toml").write_text(head, encoding="utf-8")
    (tmp_path / "b.toml").write_text(head + '[app]\ntiles = "base/city.mbtiles"\n', encoding="utf-8")
    assert gp.load_project(tmp_path / "a.toml").base_tiles is None
    assert gp.load_project(tmp_path / "b.toml").base_tiles == (tmp_path / "base" / "city.mbtiles").resolve()
    with pytest.raises(ConfigError, match=r"\[app\] tile"):
        parse_project_file({"app": {"tile": "x.mbtiles"}, "layers": {"districts": {"path": "d"},
                                                                      "population": {"path": "p"}}}, where="demo")
