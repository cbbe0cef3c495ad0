"""geoplan.io (zip, encodings, atomic multi-file writes, aliases) and geoplan._detect (input coordinate mistakes)."""

from __future__ import annotations

import logging
import os
import stat
import sys
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from affine import Affine
from pyproj import CRS
from shapely.geometry import Point

import geoplan as gp
from geoplan import _detect, _gdal, io, province
from geoplan.crs import wgs84_to_bd09, wgs84_to_gcj02
from geoplan.errors import ConfigError, CRSError, ReadError, WriteError
from geoplan.project import prepare_layer

from .conftest import tiny_layers

NAMES = ["思明区", "湖里区", "集美区"]
AMAP_RAW = io.shipped("data/gis/sources/xiamen_districts_gcj02_amap_raw.geojson")


def _points(n: int = 3) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"NAME": NAMES[:n], "CODE": ["350203", "350206", "350211"][:n]},
                            geometry=[Point(118.08 + i / 100, 24.48) for i in range(n)], crs=4490)


def _shp(tmp: Path, encoding: str, *, cpg: bool, name: str = "p") -> Path:
    path = tmp / f"{name}.shp"
    pyogrio.write_dataframe(_points(), path, encoding=encoding)
    if not cpg:
        path.with_suffix(".cpg").unlink()
    return path


# --- encodings ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("enc,expected", [("GBK", "GB18030"), ("UTF-8", "UTF-8")])
def test_dbf_encoding_is_detected(tmp_path, enc, expected):
    shp = _shp(tmp_path, enc, cpg=False)
    assert _detect.dbf_encoding(shp.with_suffix(".dbf").read_bytes()) == expected


def test_dbf_encoding_ascii_and_cut_utf8(tmp_path):
    ascii_dbf = tmp_path / "a.shp"
    pyogrio.write_dataframe(_points().assign(NAME=["a", "b", "c"]), ascii_dbf)
    assert _detect.dbf_encoding(ascii_dbf.with_suffix(".dbf").read_bytes()) is None
    # a UTF-8 value cut inside a character at the field width is still UTF-8
    data = bytearray(_shp(tmp_path, "UTF-8", cpg=False, name="u").with_suffix(".dbf").read_bytes())
    cut = "湖".encode()[:2]
    i = data.index("湖里区".encode())
    data[i:i + 9] = "湖里".encode() + cut + b" "
    assert _detect.dbf_encoding(bytes(data)) == "UTF-8"


@pytest.mark.parametrize("enc", ["GBK", "UTF-8"])
def test_shapefile_without_cpg_reads_chinese(tmp_path, caplog, enc):
    shp = _shp(tmp_path, enc, cpg=False)
    with caplog.at_level(logging.WARNING, logger="geoplan.io"):
        gdf = io.read_vector(shp, layer="sites")
    assert gdf["NAME"].tolist() == NAMES
    assert ("GBK" in caplog.text) == (enc == "GBK")
    # an explicit encoding wins over detection
    assert io.read_vector(shp, layer="sites", encoding=enc)["NAME"].tolist() == NAMES


# --- zipped shapefiles ------------------------------------------------------------------------------

def _zip(tmp: Path, members: dict[str, bytes], name: str = "x.zip") -> Path:
    path = tmp / name
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for arc, data in members.items():
            zf.writestr(zipfile.ZipInfo(arc), data, compress_type=zipfile.ZIP_DEFLATED)
    return path


def _shp_members(tmp: Path, prefix: str, enc: str = "GBK", *, cpg: bool = False, stem: str = "p") -> dict[str, bytes]:
    shp = _shp(tmp, enc, cpg=cpg, name=stem)
    return {f"{prefix}{stem}.{e}": shp.with_suffix(f".{e}").read_bytes()
            for e in ("shp", "shx", "dbf", "prj", "cpg") if shp.with_suffix(f".{e}").exists()}


def test_zipped_gbk_shapefile_in_a_folder(tmp_path):
    z = _zip(tmp_path, _shp_members(tmp_path, "数据/站址/"))
    gdf = io.read_vector(z, layer="sites")
    assert gdf["NAME"].tolist() == NAMES and gdf.crs.to_epsg() == 4490


def test_zip_with_two_shapefiles_needs_a_name(tmp_path):
    members = {**_shp_members(tmp_path, "a/", stem="one"), **_shp_members(tmp_path, "b/", "UTF-8", stem="two")}
    z = _zip(tmp_path, members)
    with pytest.raises(ReadError, match="2 layers.*one, two"):
        io.read_vector(z, layer="sites")
    assert io.read_vector(z, layer="sites", sublayer="two")["NAME"].tolist() == NAMES


def test_zipped_shapefile_through_a_project_file(tmp_path):
    districts, raster, sites = tiny_layers()
    districts.to_file(tmp_path / "d.gpkg")
    io.write_raster(raster, tmp_path / "pop.tif")
    types = ["宏站"] * (len(sites) - 1) + ["塔站"]
    pyogrio.write_dataframe(sites.assign(SITE_TYPE=types), tmp_path / "s.shp", encoding="GBK")
    with zipfile.ZipFile(tmp_path / "s.zip", "w") as zf:
        for e in ("shp", "shx", "dbf", "prj"):  # no .cpg, as many Chinese GIS exports
            zf.write(tmp_path / f"s.{e}", f"s.{e}")
    (tmp_path / "geoplan.toml").write_text(
        '[layers.districts]\npath = "d.gpkg"\n[layers.population]\npath = "pop.tif"\n'
        '[layers.sites]\npath = "s.zip"\nencoding = "GBK"\n', encoding="utf-8")
    with pytest.raises(gp.ValidationError, match="塔站"):  # read right; 宏站 is a known synonym, 塔站 is not
        gp.load_project(tmp_path / "geoplan.toml")
    text = (tmp_path / "geoplan.toml").read_text(encoding="utf-8")
    (tmp_path / "geoplan.toml").write_text(text + 'values = { SITE_TYPE = { "塔站" = "macro" } }\n', encoding="utf-8")
    assert set(gp.load_project(tmp_path / "geoplan.toml").layer("sites")["SITE_TYPE"]) == {"macro"}


@pytest.mark.parametrize("arc,match", [("../../evil.shp", "zip slip"), ("/etc/evil.shp", "zip slip"),
                                       ("C:/evil.shp", "zip slip"), ("a/../../evil.shp", "zip slip")])
def test_zip_slip_is_refused(tmp_path, arc, match):
    z = _zip(tmp_path, {**_shp_members(tmp_path, ""), arc: b"x"})
    with pytest.raises(ReadError, match=match):
        io.read_vector(z, layer="sites")


def test_zip_symlink_bomb_size_and_count_are_refused(tmp_path):
    link = zipfile.ZipInfo("link.shp")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    z = tmp_path / "l.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr(link, "/etc/passwd")
    with pytest.raises(ReadError, match="symbolic link"):
        io.read_vector(z, layer="sites")
    bomb = _zip(tmp_path, {**_shp_members(tmp_path, ""), "pad.bin": b"\0" * 5_000_000}, "b.zip")
    with pytest.raises(ReadError, match="zip bomb"):
        io.read_vector(bomb, layer="sites")
    ok = _zip(tmp_path, _shp_members(tmp_path, ""), "ok.zip")
    with pytest.raises(ReadError, match="unpacks to more than"):
        io.read_vector(ok, layer="sites", max_zip_bytes=1000)
    with pytest.raises(ReadError, match="members"):
        io.check_zip(ok, max_members=3)
    assert io.check_zip(ok) == ["p.shp", "p.shx", "p.dbf", "p.prj"]


# --- atomic writes ------------------------------------------------------------------------------------

def test_atomic_path_moves_sidecars_and_cleans_up(tmp_path):
    with io.atomic_path(tmp_path / "a.shp") as tmp:
        tmp.write_text("main")
        (tmp.parent / "a.dbf").write_text("side")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.dbf", "a.shp"]
    with pytest.raises(WriteError, match="nothing was written"):
        with io.atomic_path(tmp_path / "b.shp") as tmp:
            tmp.write_text("main")
            (tmp.parent / "b.dbf").write_text("side")
            raise OSError("disk full")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.dbf", "a.shp"]


def test_atomic_path_replaces_only_its_own_files_in_a_folder_output(tmp_path):
    def deliver(**kw):
        with io.atomic_path(tmp_path / "o.gdb", folder=True, **kw) as tmp:
            tmp.mkdir()
            (tmp / "new").write_text("new")
            (tmp.parent / "o_FGWG.tif").write_text("raster")

    (tmp_path / "o.gdb").mkdir()
    (tmp_path / "o.gdb" / "stale").write_text("old")  # a folder geoplan did not write: never touched
    with pytest.raises(WriteError, match="not an earlier geoplan delivery"):
        deliver(overwrite=True)
    (tmp_path / "o.gdb" / "stale").unlink()
    deliver()  # an empty folder holds nothing to lose
    assert sorted(p.name for p in (tmp_path / "o.gdb").iterdir()) == [io.MANIFEST, "new"]
    (tmp_path / "o.gdb" / "mine.txt").write_text("planner's note")
    with pytest.raises(WriteError, match="--overwrite"):
        deliver()
    deliver(overwrite=True)
    assert sorted(p.name for p in (tmp_path / "o.gdb").iterdir()) == [io.MANIFEST, "mine.txt", "new"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.gdb", "o_FGWG.tif"]


def test_write_dataset_refuses_foreign_folders_and_checks_layers(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.docx").write_text("precious")
    layer = io.OutLayer(name="L", frame=_points(), aliases={"NAME": "名称"})
    with pytest.raises(WriteError, match="not an earlier geoplan delivery"):
        io.write_dataset(mine, [layer], fmt="shp")
    assert (mine / "thesis.docx").read_text() == "precious"
    out = io.write_dataset(tmp_path / "t.gpkg", [layer], fmt="gpkg")
    assert out.aliases_written and io.read_field_aliases(out.path, sublayer="L") == {"NAME": "名称"}
    with pytest.raises(WriteError, match="cannot hold attribute tables"):
        io.write_dataset(tmp_path / "x", [io.OutLayer("T", pd.DataFrame({"a": [1]}))], fmt="geojson")


def test_field_aliases_fallback_reads_gpkg_data_columns(tmp_path, monkeypatch):
    layer = io.OutLayer(name="L", frame=_points(), aliases={"NAME": "名称", "CODE": "代码"})
    io.write_dataset(tmp_path / "t.gpkg", [layer], fmt="gpkg")
    monkeypatch.setattr(_gdal, "library", lambda: None)
    assert io.read_field_aliases(tmp_path / "t.gpkg", sublayer="L") == {"NAME": "名称", "CODE": "代码"}
    gdb = io.write_dataset(tmp_path / "t.gdb", [layer], fmt="gdb")
    assert not gdb.aliases_written and "aliases could not be written" in gdb.warnings[0]


def test_raster_writer_writes_blocks_atomically(tmp_path):
    with io.raster_writer(tmp_path / "r.tif", height=4, width=6, transform=Affine(100, 0, 6e5, 0, -100, 2.7e6),
                          crs=CRS.from_epsg(4548), nodata=-1.0, tags={"MODELLED": "1"}) as dst:
        dst.write(np.ones((2, 6)), row_off=0, col_off=0)
        dst.write(np.full((2, 6), 2.0), row_off=2, col_off=0)
    r = io.read_raster(tmp_path / "r.tif")
    assert r.values[:, 0].tolist() == [1, 1, 2, 2] and r.crs.to_epsg() == 4548
    with pytest.raises(WriteError):
        with io.raster_writer(tmp_path / "s.tif", height=2, width=2, transform=Affine.identity(), crs=None,
                              nodata=None):
            raise RuntimeError("boom")
    assert not (tmp_path / "s.tif").exists()


# --- coordinate mistakes ----------------------------------------------------------------------------

def _sites_4490() -> gpd.GeoDataFrame:
    return tiny_layers()[2].to_crs(4490)


def test_swapped_lat_lon_is_swapped_back(caplog):
    sites = _sites_4490()
    swapped = sites.copy()
    swapped.geometry = shapely.transform(sites.geometry.to_numpy(), lambda c: c[:, ::-1])
    assert _detect.axes_swapped(swapped) and not _detect.axes_swapped(sites)
    with caplog.at_level(logging.WARNING, logger="geoplan._detect"):
        out = prepare_layer(swapped, "sites")
    assert "swapped" in caplog.text
    np.testing.assert_allclose(out.geometry.x, sites.geometry.x)
    # lat/lon swapped and without CRS: swapped back, then the CRS is still required
    with pytest.raises(CRSError, match="longitude/latitude degrees"):
        prepare_layer(swapped.set_crs(None, allow_override=True), "sites")


@pytest.mark.parametrize("labelled,data_epsg,relabel", [(4548, 4527, 4527), (4527, 4548, 4548), (4549, 4527, 4527)])
def test_gauss_kruger_zone_prefix_mismatch_is_relabelled(caplog, labelled, data_epsg, relabel):
    sites = tiny_layers()[2].to_crs(data_epsg)
    with caplog.at_level(logging.WARNING, logger="geoplan._detect"):
        out = prepare_layer(sites.set_crs(labelled, allow_override=True), "sites")
    assert f"relabelled EPSG:{relabel}" in caplog.text
    np.testing.assert_allclose(out.geometry.x, _sites_4490().geometry.x, atol=1e-9)


def test_degrees_labelled_projected_and_crs_hints():
    sites = _sites_4490()
    with pytest.raises(CRSError, match="are degrees") as ei:
        prepare_layer(sites.set_crs(4548, allow_override=True), "sites")
    assert 'EPSG:4490' in ei.value.problems[0].fix
    prefixed = tiny_layers()[2].to_crs(4527).set_crs(None, allow_override=True)
    with pytest.raises(CRSError) as ei:
        prepare_layer(prefixed, "sites")
    assert 'zone 39 with the zone prefix: declare crs = "EPSG:4527"' in ei.value.problems[0].fix
    assert "longitude/latitude degrees" in _detect.crs_hint(sites)
    assert "Web Mercator" in _detect.crs_hint(sites.to_crs(3857))
    assert _detect.crs_hint(gpd.GeoDataFrame(geometry=[Point(0.5, 0.5)])) is None


def test_amap_districts_look_gcj_shifted_against_the_cgcs2000_ones(xiamen):
    raw = io.read_vector(AMAP_RAW, layer="raw")
    chk = _detect.looks_shifted(raw, xiamen.districts)
    assert chk.shifted and chk.offset == "GCJ-02" and chk.after_m < 1 and chk.before_m > 100
    assert not _detect.looks_shifted(xiamen.districts, xiamen.districts).shifted


@pytest.mark.parametrize("offset,forward", [("GCJ-02", wgs84_to_gcj02), ("BD-09", wgs84_to_bd09)])
def test_shifted_points_are_detected(xiamen, offset, forward):
    # the stations nearest the district outlines (coast and borders), where a ~500 m shift shows
    sites = xiamen.layer("sites")
    edge = shapely.distance(xiamen.metric("sites").geometry.to_numpy(),
                            xiamen.metric("districts").geometry.union_all().boundary)
    sites = sites.iloc[np.argsort(edge)[:1000]]
    shifted = sites.copy()
    shifted.geometry = shapely.transform(sites.geometry.to_numpy(), lambda c: np.column_stack(forward(c[:, 0], c[:, 1])))
    chk = _detect.looks_shifted(shifted, xiamen.districts)
    assert chk.shifted and chk.offset == offset
    assert not _detect.looks_shifted(sites, xiamen.districts).shifted


def test_load_project_warns_about_an_undeclared_gcj_layer(tmp_path, caplog):
    districts, raster, sites = tiny_layers()
    districts.to_file(tmp_path / "d.gpkg")
    io.write_raster(raster, tmp_path / "pop.tif")
    s = sites.to_crs(4326)
    s.geometry = shapely.transform(s.geometry.to_numpy(), lambda c: np.column_stack(wgs84_to_gcj02(c[:, 0], c[:, 1])))
    s.to_file(tmp_path / "amap_sites.gpkg")
    text = ('[layers.sites]\npath = "amap_sites.gpkg"\n{decl}[layers.districts]\npath = "d.gpkg"\n'
            '[layers.population]\npath = "pop.tif"\n')  # sites before districts: districts are read first
    (tmp_path / "a.toml").write_text(text.format(decl=""), encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="geoplan._detect"):
        proj = gp.load_project(tmp_path / "a.toml")
    assert "looks shifted by the GCJ-02" in caplog.text and 'crs = "GCJ-02"' in caplog.text
    assert (proj.district_of("sites") >= 0).sum() < 40
    caplog.clear()
    (tmp_path / "b.toml").write_text(text.format(decl='crs = "GCJ-02"\n'), encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="geoplan._detect"):
        proj = gp.load_project(tmp_path / "b.toml")
    assert "looks shifted" not in caplog.text
    assert (proj.district_of("sites") >= 0).sum() == 40


# --------------------------------------------------------------------------- shipped and generated data


def test_shipped_finds_the_package_data_and_refuses_other_paths():
    specs = io.shipped("layers")
    assert (specs / "districts.toml").is_file() and specs == io.shipped("layers/")
    assert io.default_project_path() == io.shipped("data/gis") / "geoplan.toml"
    assert io.shipped("data/gis/sources/fujian/fujian_city_population.csv").is_file()
    assert set(io.read_layer_specs()) >= {"districts", "population", "sites"}
    with pytest.raises(ConfigError, match="does not ship with geoplan"):
        io.shipped("apps/streamlit_app.py")
    with pytest.raises(ConfigError, match="does not ship"):
        io.shipped("layersX/a.toml")
    with pytest.raises(ReadError, match="missing from geoplan's installation.*reinstall"):
        io.shipped("data/gis/nothing_here.gpkg")


def test_user_data_dir_honours_the_environment_then_the_platform(monkeypatch, tmp_path):
    monkeypatch.setenv(io.DATA_DIR_ENV, str(tmp_path / "mine"))
    assert io.user_data_dir() == tmp_path / "mine"
    assert province.fujian_project_path() == tmp_path / "mine" / "fujian" / "geoplan.toml"
    monkeypatch.delenv(io.DATA_DIR_ENV)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    if os.name == "posix" and sys.platform != "darwin":
        assert io.user_data_dir() == tmp_path / "xdg" / "geoplan"
    assert io.shipped("data/gis") not in io.user_data_dir().parents  # never the installation


def test_an_unwritable_data_folder_is_a_clear_error(monkeypatch, tmp_path):
    (tmp_path / "file").write_text("in the way")
    monkeypatch.setenv(io.DATA_DIR_ENV, str(tmp_path / "file"))
    with pytest.raises(WriteError, match="cannot create the data folder .*Fix: set GEOPLAN_DATA_DIR"):
        province.build_fujian_project()
    with pytest.raises(WriteError, match="cannot create the output folder"):
        io.make_dir(tmp_path / "file" / "sub")
