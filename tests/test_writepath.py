"""The one write path (geoplan._writepath through geoplan.io): rules, faults, and a property over arbitrary trees.

The property: whatever files, folders, links and earlier deliveries sit at and
around the destination, a write never removes or changes anything geoplan did
not write itself; a failed write changes nothing at all; no staging folder is
left behind.
"""

from __future__ import annotations

import errno
import json
import os
import tempfile
from pathlib import Path

import geopandas as gpd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import Point

import geoplan as gp
from geoplan import _writepath, export, io
from geoplan.cli import main
from geoplan.errors import WriteError

from .conftest import tiny_layers


def _tree(root: Path) -> dict[str, tuple[str, bytes | str]]:
    """Every path under ``root``: kind and content (link target for links)."""
    out: dict[str, tuple[str, bytes | str]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            p = Path(dirpath) / n
            rel = p.relative_to(root).as_posix()
            if p.is_symlink():
                out[rel] = ("link", os.readlink(p))
            elif p.is_dir():
                out[rel] = ("dir", b"")
            else:
                out[rel] = ("file", p.read_bytes())
    return out


def _no_staging(root: Path) -> bool:
    return not [p for p in root.rglob(".geoplan-*")]


def _points() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"NAME": ["a", "b"]}, geometry=[Point(118.1, 24.5), Point(118.2, 24.5)], crs=4490)


# --- the rules -----------------------------------------------------------------------------------------

def test_existing_file_needs_overwrite_and_is_kept_on_failure(tmp_path):
    out = tmp_path / "plan.gpkg"
    out.write_bytes(b"the planner's own file")
    with pytest.raises(WriteError, match="already exists.*--overwrite"):
        io.write_vector(_points(), out, layer="planned_sites")
    assert out.read_bytes() == b"the planner's own file"
    with pytest.raises(WriteError):
        with io.atomic_path(out, overwrite=True) as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("disk on fire")
    assert out.read_bytes() == b"the planner's own file" and _no_staging(tmp_path)
    io.write_vector(_points(), out, layer="planned_sites", overwrite=True)
    assert len(gpd.read_file(out)) == 2 and sorted(p.name for p in tmp_path.iterdir()) == ["plan.gpkg"]


@pytest.mark.parametrize("name", ["plan.gpkg", "plan.shp", "plan.geojson"])
def test_a_folder_is_never_replaced_by_a_file(tmp_path, name):
    (tmp_path / name).mkdir()
    (tmp_path / name / "notes.txt").write_text("mine")
    before = _tree(tmp_path)
    for overwrite in (False, True):
        with pytest.raises(WriteError, match="is a folder"):
            io.write_vector(_points(), tmp_path / name, layer="planned_sites", overwrite=overwrite)
    assert _tree(tmp_path) == before


def test_shapefile_sidecars_of_someone_else_are_not_replaced(tmp_path):
    (tmp_path / "plan.dbf").write_bytes(b"somebody's table")
    with pytest.raises(WriteError, match="plan.dbf already exists"):
        io.write_vector(_points(), tmp_path / "plan.shp", layer="planned_sites")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.dbf"]
    (tmp_path / "plan.dbf").unlink()
    io.write_vector(_points(), tmp_path / "plan.shp", layer="planned_sites")
    (tmp_path / "plan.qix").write_bytes(b"QGIS spatial index of the old file")
    with pytest.raises(WriteError, match="plan.qix beside plan.shp indexes the file being replaced"):
        io.write_vector(_points(), tmp_path / "plan.shp", layer="planned_sites", overwrite=True)
    (tmp_path / "plan.qix").unlink()
    io.write_vector(_points(), tmp_path / "plan.shp", layer="planned_sites", overwrite=True)


@pytest.mark.parametrize("kind", ["missing", "file", "name_too_long", "path_too_long"])
def test_bad_destinations_are_one_write_error_and_leave_nothing(tmp_path, kind):
    (tmp_path / "afile").write_text("x")
    target = {"missing": tmp_path / "no" / "such" / "p.gpkg", "file": tmp_path / "afile" / "p.gpkg",
              "name_too_long": tmp_path / ("x" * 300 + ".gpkg"),
              "path_too_long": tmp_path / "/".join(["d" * 200] * 25) / "p.gpkg"}[kind]
    with pytest.raises(WriteError, match="Fix"):
        io.check_output(target, layer="planned_sites")
    with pytest.raises(WriteError, match="Fix"):
        io.write_vector(_points(), target, layer="planned_sites")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_folder_is_a_write_error(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        with pytest.raises(WriteError, match="not writable"):
            io.write_vector(_points(), ro / "p.gpkg", layer="planned_sites")
    finally:
        ro.chmod(0o755)


@pytest.mark.parametrize("err", [errno.EROFS, errno.ENOSPC, errno.EACCES, errno.ENAMETOOLONG])
def test_os_errors_while_staging_or_moving_are_write_errors(tmp_path, monkeypatch, err):
    """Fault injection: the staging folder cannot be made, or the final rename fails half-way."""
    keep = tmp_path / "p.gpkg"
    keep.write_bytes(b"old")

    def fail(*a, **k):
        raise OSError(err, os.strerror(err))

    with monkeypatch.context() as m:
        m.setattr(_writepath.tempfile, "mkdtemp", fail)
        with pytest.raises(WriteError, match="nothing was written"):
            io.write_vector(_points(), keep, layer="planned_sites", overwrite=True)
    real = os.replace
    calls = {"n": 0}

    def flaky(src, dst):  # the second rename of the commit fails: the first must be undone
        calls["n"] += 1
        if calls["n"] == 2:
            fail()
        return real(src, dst)

    with monkeypatch.context() as m:
        m.setattr(_writepath.os, "replace", flaky)
        with pytest.raises(WriteError):
            io.write_vector(_points(), tmp_path / "p.shp", layer="planned_sites")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.gpkg"] and keep.read_bytes() == b"old"


def test_project_inputs_are_never_written_over(tmp_path, tiny_project_file):
    proj = gp.load_project(tiny_project_file)
    assert {p.name for p in proj.input_files} == {"geoplan.toml", "districts.gpkg", "pop.tif", "sites.gpkg"}
    os.link(tiny_project_file.parent / "sites.gpkg", tmp_path / "hardlink.gpkg")
    before = _tree(tiny_project_file.parent)
    for name in ("sites.gpkg", "districts.gpkg"):
        with pytest.raises(WriteError, match="input of the project"):
            export.export_project(proj, tiny_project_file.parent / name, overwrite=True)
    with pytest.raises(WriteError, match="input of the project"):
        io.write_text("x", tiny_project_file, overwrite=True, protect=proj.input_files)
    with pytest.raises(WriteError, match="input of the project"):  # a folder holding the inputs
        export.export_project(proj, tiny_project_file.parent, format="shp", overwrite=True)
    for sidecar in ("pop.tif.aux.xml", "pop.tfw"):  # a new file GDAL would read with an input
        with pytest.raises(WriteError, match="input of the project"):
            io.write_text("x", tiny_project_file.parent / sidecar, protect=proj.input_files)
    with pytest.raises(WriteError, match="input of the project"):
        export.export_project(proj, tmp_path / "hardlink.gpkg", overwrite=True)
    assert _tree(tiny_project_file.parent) == before


def test_cli_refuses_project_inputs_and_existing_outputs(capsys, tiny_project_file):
    folder = tiny_project_file.parent
    before = _tree(folder)
    for args in (["place", "sites", "--year", "2025", "--out", str(folder / "sites.gpkg"), "--overwrite"],
                 ["export", "--to", str(folder / "districts.gpkg"), "--overwrite"],
                 ["place", "sites", "--year", "2025", "--out", str(folder / "pop.tif")]):
        with pytest.raises(SystemExit) as ei:
            main([*args, "--project", str(tiny_project_file)])
        err = capsys.readouterr().err
        assert ei.value.code in (4, 5) and "Traceback" not in err, err
    assert _tree(folder) == before


def test_deliveries_replace_only_geoplan_files(tmp_path, tiny_project_file):
    proj = gp.load_project(tiny_project_file)
    out = tmp_path / "delivery"
    rep = export.export_project(proj, out, format="shp")
    assert io.MANIFEST in rep.files and io.read_manifest(out)
    (out / "README_bureau.txt").write_text("the bureau's note")
    inside = out / "extra.gpkg"
    with pytest.raises(WriteError, match="inside .*earlier geoplan delivery"):
        io.write_vector(_points(), inside, layer="x")
    with pytest.raises(WriteError, match="earlier geoplan delivery.*--overwrite"):
        export.export_project(proj, out, format="shp")
    export.export_project(proj, out, format="shp", overwrite=True)
    assert (out / "README_bureau.txt").read_text() == "the bureau's note"
    # a file geoplan wrote but the planner changed since: the whole delivery is left alone
    xzq = out / "XZQ.dbf"
    xzq.write_bytes(xzq.read_bytes() + b" ")
    snap = _tree(tmp_path)
    with pytest.raises(WriteError, match="changed since"):
        export.export_project(proj, out, format="shp", overwrite=True)
    assert _tree(tmp_path) == snap and _no_staging(tmp_path)
    # FileGDB: the same rules, the manifest inside the .gdb folder
    gdb = tmp_path / "d.gdb"
    export.export_project(proj, gdb)
    (gdb / "mine.txt").write_text("x")
    export.export_project(proj, gdb, overwrite=True, crs=4548)
    assert (gdb / "mine.txt").read_text() == "x" and gpd.read_file(gdb, layer="XZQ").crs.to_epsg() == 4548


def test_scenario_saves_go_through_the_write_path(tmp_path):
    from geoplan.scenarios import Scenario, load_scenarios, save_scenarios

    sc = [Scenario(name="a", total=100)]
    save_scenarios(sc, tmp_path / "s.toml")
    with pytest.raises(WriteError, match="already exists"):
        save_scenarios(sc, tmp_path / "s.toml")
    save_scenarios(sc + [Scenario(name="b", total=200)], tmp_path / "s.toml", overwrite=True)
    assert [s.name for s in load_scenarios(tmp_path / "s.toml")] == ["a", "b"]


def test_stale_staging_folders_of_dead_processes_are_swept(tmp_path):
    stale = tmp_path / ".geoplan-tmp-999999999-abc"
    stale.mkdir()
    (stale / ".geoplan-staging").write_bytes(b"")
    (stale / "half.gpkg").write_bytes(b"x")
    foreign = tmp_path / ".geoplan-tmp-1-notours"  # no staging marker: not ours to remove
    foreign.mkdir()
    io.write_text("x", tmp_path / "a.txt")
    assert not stale.exists() and foreign.exists()


# --- the property ----------------------------------------------------------------------------------------

_names = st.sampled_from(["out.gpkg", "out.tif", "out.dbf", "notes.txt", "out.gdb", "x", io.MANIFEST])
_content = st.binary(min_size=0, max_size=8)


@st.composite
def _existing(draw: st.DrawFn) -> list[tuple[str, str, bytes]]:
    """Paths to create before the write: ``(relative path, kind, content)``; kind file, dir, link or manifest."""
    items = draw(st.lists(st.tuples(st.sampled_from(["", "out.gdb/", "deliv/"]), _names,
                                    st.sampled_from(["file", "dir", "link", "manifest"]), _content),
                          max_size=6, unique_by=lambda t: t[0] + t[1]))
    return [(d + n, kind, c) for d, n, kind, c in items]


def _make(root: Path, items: list[tuple[str, str, bytes]]) -> None:
    (root / "elsewhere.txt").write_bytes(b"pointee")
    for rel, kind, content in items:
        p = root / rel
        if os.path.lexists(p) or not p.parent.is_dir() and os.path.lexists(p.parent):
            continue
        p.parent.mkdir(parents=True, exist_ok=True)
        if kind == "dir":
            p.mkdir(exist_ok=True)
        elif kind == "link":
            p.symlink_to(root / "elsewhere.txt")
        elif kind == "manifest" and p.parent != root and not os.path.lexists(p.with_name(io.MANIFEST)):
            # an earlier delivery, maybe with the files it lists
            files = {n.name: {"bytes": n.stat().st_size, "sha256": _writepath.sha256_file(n)}
                     for n in p.parent.iterdir() if n.is_file() and n.name != io.MANIFEST}
            if content[:1] == b"\x00":
                files["ghost.bin"] = {"bytes": 1, "sha256": "0" * 64}
            p.with_name(io.MANIFEST).write_text(json.dumps({"schema": "geoplan.manifest/1", "files": files}))
        else:
            p.write_bytes(content)


def _owned(before: dict[str, tuple[str, bytes | str]], root: Path, target: str) -> set[str]:
    """What geoplan may replace: the target itself and, in a delivery, the files its manifest lists."""
    owned = {target, "out.tif"}
    folder = root / target
    manifest = _writepath.read_manifest(folder) if target in ("out.gdb", "deliv") else None
    if manifest is not None:
        owned |= {f"{target}/{rel}" for rel in manifest} | {f"{target}/{io.MANIFEST}"}
    return owned


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(items=_existing(), target=st.sampled_from(["out.gpkg", "out.gdb", "deliv"]), overwrite=st.booleans(),
       fail=st.booleans(), sidecar=st.booleans())
def test_property_nothing_not_written_by_geoplan_is_changed(items, target, overwrite, fail, sidecar):
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        _make(root, items)
        before = _tree(root)
        owned = _owned(before, root, target)
        folder = target != "out.gpkg"
        raised = False
        try:
            with io.atomic_path(root / target, overwrite=overwrite, folder=folder) as tmp:
                if folder:
                    tmp.mkdir()
                    (tmp / "a.bin").write_bytes(b"new")
                else:
                    tmp.write_bytes(b"new")
                if sidecar:
                    (tmp.parent / "out.tif").write_bytes(b"new tif")
                if fail:
                    raise RuntimeError("writer failed")
        except WriteError:
            raised = True
        after = _tree(root)
        assert _no_staging(root)
        assert raised or not fail
        if raised:
            assert after == before
            return
        for rel, (kind, content) in before.items():
            if rel in owned and not (folder and rel == target):
                continue
            assert after.get(rel) == (kind, content) or (folder and rel == target and after[rel][0] == "dir"), rel
        if not overwrite:  # without --overwrite nothing that existed changes at all
            for rel, val in before.items():
                if not (folder and rel == target):
                    assert after.get(rel) == val, rel
        assert (root / "elsewhere.txt").read_bytes() == b"pointee"
        new = root / target / "a.bin" if folder else root / target
        assert new.read_bytes() == b"new"


def test_cli_export_over_its_own_project_folder_keeps_everything(tmp_path, capsys):
    districts, raster, sites = tiny_layers()
    io.write_vector(districts, tmp_path / "districts.gpkg", layer="districts")
    io.write_raster(raster, tmp_path / "pop.tif")
    (tmp_path / "geoplan.toml").write_text('[layers.districts]\npath = "districts.gpkg"\n'
                                           '[layers.population]\npath = "pop.tif"\n', encoding="utf-8")
    before = _tree(tmp_path)
    with pytest.raises(SystemExit) as ei:
        main(["export", "--project", str(tmp_path / "geoplan.toml"), "--to", str(tmp_path), "--format", "shp",
              "--overwrite"])
    assert ei.value.code == 5 and "Traceback" not in capsys.readouterr().err
    assert _tree(tmp_path) == before
