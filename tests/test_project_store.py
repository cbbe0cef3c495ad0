"""A validated project kept on disk: reused only while every file it was made from is unchanged."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

import geoplan.project_store as store
from geoplan import io
from geoplan.errors import GeoplanError
from geoplan.project_store import load_project_cached, project_fingerprint


@pytest.fixture()
def loads(monkeypatch) -> list[Path]:
    """Every real (uncached) project load, by path."""
    seen: list[Path] = []
    real = store.load_project

    def counting(path):
        seen.append(Path(path))
        return real(path)

    monkeypatch.setattr(store, "load_project", counting)
    return seen


def _entry(folder: Path) -> dict:
    (f,) = folder.glob("project-*.pickle")
    entry = io.read_object(f)
    assert isinstance(entry, dict)
    return entry


def test_the_embedded_project_is_validated_once(tmp_path, loads, xiamen):
    a = load_project_cached(folder=tmp_path)
    b = load_project_cached(folder=tmp_path)
    assert len(loads) == 1
    assert project_fingerprint(b) == project_fingerprint(a) == project_fingerprint(xiamen)
    assert b.districts.equals(xiamen.districts) and (b.population.values == xiamen.population.values).all()
    assert [ly.config.label for ly in b.siting.layers] == [ly.config.label for ly in xiamen.siting.layers]
    (f,) = tmp_path.glob("project-*.pickle")
    assert f.stat().st_mode & 0o777 == 0o600  # private to the user
    files = _entry(tmp_path)["files"]
    assert any(f.endswith(".tif") for f in files) and any(f.endswith("geoplan.toml") for f in files)


def test_every_file_the_load_read_is_part_of_the_key(tmp_path, tiny_project_file, loads):
    """Change any one input file (same size and date or not): the project is read again, never reused."""
    cache = tmp_path / "cache"
    load_project_cached(tiny_project_file, folder=cache)
    files = [Path(f) for f in _entry(cache)["files"] if Path(f).is_relative_to(tiny_project_file.parent)]
    assert {f.name for f in files} >= {"geoplan.toml", "targets.toml", "districts.gpkg", "pop.tif", "sites.gpkg"}
    for f in files:
        n = len(loads)
        data = f.read_bytes()
        st = f.stat()
        f.write_bytes(data[:-1] + bytes([data[-1] ^ 0x20]))  # one byte changed, same size ...
        os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))  # ... and the same date
        try:
            load_project_cached(tiny_project_file, folder=cache)
        except GeoplanError:
            pass  # a file the change broke: reported, not hidden behind the old project
        assert len(loads) == n + 1, f"{f.name} changed, the kept project was reused"
        f.write_bytes(data)
        os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
        load_project_cached(tiny_project_file, folder=cache)


def test_an_edited_project_gives_the_edited_numbers(tmp_path, tiny_project_file):
    cache = tmp_path / "cache"
    before = load_project_cached(tiny_project_file, folder=cache)
    text = tiny_project_file.read_text(encoding="utf-8").replace('name = "tiny"', 'name = "tiny2"')
    tiny_project_file.write_text(text, encoding="utf-8")
    after = load_project_cached(tiny_project_file, folder=cache)
    assert (before.name, after.name) == ("tiny", "tiny2")
    assert project_fingerprint(before) != project_fingerprint(after)


@pytest.mark.parametrize("spoil", ["corrupt", "not private", "folder"])
def test_a_bad_cache_file_is_ignored_and_rebuilt(tmp_path, tiny_project_file, loads, spoil):
    cache = tmp_path / "cache"
    load_project_cached(tiny_project_file, folder=cache)
    (f,) = cache.glob("project-*.pickle")
    if spoil == "corrupt":
        f.write_bytes(b"\x80\x05not a pickle")
    elif spoil == "not private":
        f.chmod(0o666)
    else:
        f.unlink()
        f.mkdir()
    proj = load_project_cached(tiny_project_file, folder=cache)
    assert proj.name == "tiny" and len(loads) == 2


def test_a_cache_that_cannot_be_written_only_costs_time(tmp_path, tiny_project_file, loads):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    assert load_project_cached(tiny_project_file, folder=blocker / "cache").name == "tiny"
    assert load_project_cached(tiny_project_file, folder=blocker / "cache").name == "tiny"
    assert len(loads) == 2 and blocker.read_text() == "x"


def test_a_project_that_fails_validation_is_never_kept(tmp_path, tiny_project_file):
    cache = tmp_path / "cache"
    (tiny_project_file.parent / "sites.gpkg").unlink()
    with pytest.raises(GeoplanError, match="sites"):
        load_project_cached(tiny_project_file, folder=cache)
    assert not list(cache.glob("project-*")) if cache.exists() else True


def test_the_load_warnings_are_logged_again_when_the_project_is_reused(tmp_path, tiny_project_file, caplog):
    sites = io.read_vector(tiny_project_file.parent / "sites.gpkg", layer="sites")
    rows = ["SITE_ID,SITE_TYPE,NAME,x,y"] + [f"{r.SITE_ID},macro,站点{i},{r.geometry.x},{r.geometry.y}"
                                            for i, r in enumerate(sites.itertuples())]
    (tiny_project_file.parent / "sites.csv").write_bytes("\n".join(rows).encode("gbk"))  # not UTF-8: a warning
    text = tiny_project_file.read_text(encoding="utf-8").replace(
        '[layers.sites]\npath = "sites.gpkg"\n', '[layers.sites]\npath = "sites.csv"\ncrs = "EPSG:4548"\n')
    tiny_project_file.write_text(text, encoding="utf-8")
    cache = tmp_path / "cache"
    with caplog.at_level(logging.WARNING, logger="geoplan"):
        load_project_cached(tiny_project_file, folder=cache)
    first = [r.getMessage() for r in caplog.records if "GBK" in r.getMessage()]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="geoplan"):
        load_project_cached(tiny_project_file, folder=cache)
    again = [r.getMessage() for r in caplog.records if "GBK" in r.getMessage()]
    assert first and again == first


def test_file_digests_cover_folders_and_missing_files(tmp_path):
    """A folder input (a FileGDB) is digested by its files' names and contents; a missing file says so."""
    gdb = tmp_path / "layers.gdb"
    gdb.mkdir()
    (gdb / "a00000001.gdbtable").write_bytes(b"one")
    one = tmp_path / "one.toml"
    one.write_bytes(b"one")
    first = io.file_digests([gdb, one, tmp_path / "gone.gpkg"])
    assert first[2] == "missing" and first[0] != first[1]
    (gdb / "a00000001.gdbtable").write_bytes(b"two")
    changed = io.file_digests([gdb])[0]
    assert changed != first[0]  # content
    (gdb / "a00000001.gdbtable").rename(gdb / "a00000002.gdbtable")
    assert io.file_digests([gdb])[0] != changed  # name, same content
