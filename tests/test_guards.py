"""Guards before reading (geoplan._guards through geoplan.io): special files, sizes, memory, views, encodings."""

from __future__ import annotations

import logging
import os
import sqlite3
import time

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import rasterio
from affine import Affine
from rasterio.crs import CRS as RioCRS
from shapely.geometry import Point

import geoplan as gp
from geoplan import io
from geoplan.cli import main
from geoplan.errors import ConfigError, CRSError, ReadError

from .conftest import tiny_layers

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX only")


def _project(folder, *, sites: str = "sites.gpkg", extra: str = "") -> os.PathLike[str]:
    districts, raster, s = tiny_layers()
    io.write_vector(districts, folder / "districts.gpkg", layer="districts", overwrite=True)
    io.write_raster(raster, folder / "pop.tif", overwrite=True)
    if not (folder / sites).exists() and sites == "sites.gpkg":
        io.write_vector(s, folder / "sites.gpkg", layer="sites")
    text = (f'[project]\nname = "t"\n[layers.districts]\npath = "districts.gpkg"\n[layers.population]\n'
            f'path = "pop.tif"\n[layers.sites]\npath = "{sites}"\n{extra}')
    (folder / "geoplan.toml").write_text(text, encoding="utf-8")
    return folder / "geoplan.toml"


@pytest.mark.parametrize("kind", ["fifo", "folder", "device"])
def test_special_files_are_refused_without_opening(tmp_path, kind):
    target = {"fifo": tmp_path / "sites.gpkg", "folder": tmp_path / "sites.gpkg", "device": "/dev/zero"}[kind]
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "folder":
        os.mkdir(target)
    proj = _project(tmp_path, sites=str(target))
    t = time.monotonic()
    with pytest.raises(ReadError, match={"fifo": "named pipe", "folder": "is a folder", "device": "a device"}[kind]):
        gp.load_project(proj)
    assert time.monotonic() - t < 30  # no hang


def test_fifo_as_project_file_and_sidecar(tmp_path, capsys):
    os.mkfifo(tmp_path / "p.toml")
    with pytest.raises(SystemExit) as ei:
        main(["check", "--project", str(tmp_path / "p.toml")])
    assert ei.value.code == 5 and "named pipe" in capsys.readouterr().err
    _, _, sites = tiny_layers()
    pyogrio.write_dataframe(sites, tmp_path / "s.shp")
    (tmp_path / "s.dbf").unlink()
    os.mkfifo(tmp_path / "s.dbf")
    with pytest.raises(ReadError, match=r"s\.dbf.*named pipe"):
        io.read_vector(tmp_path / "s.shp", layer="sites")


def test_sparse_raster_of_2_5_billion_cells_is_refused_from_its_header(tmp_path):
    path = tmp_path / "huge.tif"
    with rasterio.open(path, "w", driver="GTiff", height=50_000, width=50_000, count=1, dtype="float32",
                       crs="EPSG:4548", transform=Affine(100, 0, 500_000, 0, -100, 3_000_000), tiled=True,
                       compress="deflate", SPARSE_OK=True) as dst:
        dst.write(np.ones((4, 4), dtype="float32"), 1, window=rasterio.windows.Window(0, 0, 4, 4))
    assert path.stat().st_size < 1_000_000
    with pytest.raises(ReadError, match="2,500,000,000 cells.*GEOPLAN_MAX_RASTER_CELLS"):
        io.read_raster(path)
    lim = io.current_limits({"max_raster_cells": 10**10, "raster_memory_share": 1e-6})
    with pytest.raises(ReadError, match="needs about .* GB of memory"):
        io.read_raster(path, limits=lim)


def test_raster_in_a_local_engineering_crs_is_a_crs_error(tmp_path):
    wkt = 'LOCAL_CS["site grid",LOCAL_DATUM["d",0],UNIT["metre",1],AXIS["X",EAST],AXIS["Y",NORTH]]'
    with rasterio.open(tmp_path / "pop.tif", "w", driver="GTiff", height=10, width=20, count=1, dtype="float32",
                       crs=RioCRS.from_wkt(wkt), transform=Affine(100, 0, 600_000, 0, -100, 2_701_000)) as dst:
        dst.write(np.full((10, 20), 50, dtype="float32"), 1)
    districts, _, _ = tiny_layers()
    io.write_vector(districts, tmp_path / "d.gpkg", layer="districts")
    (tmp_path / "g.toml").write_text('[layers.districts]\npath = "d.gpkg"\n[layers.population]\npath = "pop.tif"\n',
                                     encoding="utf-8")
    with pytest.raises(CRSError) as ei:
        gp.load_project(tmp_path / "g.toml")
    assert ei.value.problems[0].layer == "population" and "engineering" in ei.value.problems[0].message


def test_geopackage_whose_layer_is_a_huge_sql_view_is_refused_in_time(tmp_path):
    _, _, sites = tiny_layers()
    gpkg = tmp_path / "view.gpkg"
    pyogrio.write_dataframe(sites, gpkg, layer="base")
    con = sqlite3.connect(gpkg)
    with con:  # a view of 10^12 rows, registered as the GeoPackage's feature layer
        con.execute("CREATE VIEW sites AS WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                    "WHERE i < 1000000000000) SELECT b.fid AS fid, b.geom AS geom, b.SITE_ID, b.SITE_TYPE FROM n, "
                    "base AS b")
        con.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id) "
                    "SELECT 'sites', 'features', 'sites', srs_id FROM gpkg_contents WHERE table_name = 'base'")
        con.execute("INSERT INTO gpkg_geometry_columns SELECT 'sites', column_name, geometry_type_name, srs_id, z, m "
                    "FROM gpkg_geometry_columns WHERE table_name = 'base'")
    con.close()
    t = time.monotonic()
    with pytest.raises(ReadError, match="SQL view 'sites'.*longer than 1 s"):
        io.read_vector(gpkg, layer="sites", sublayer="sites", limits=io.current_limits({"read_timeout_s": 1}))
    assert time.monotonic() - t < 20
    with pytest.raises(ReadError, match="has 40 features, above the limit of 10"):
        io.read_vector(gpkg, layer="sites", sublayer="base", limits=io.current_limits({"max_features": 10}))


def test_limits_from_the_environment_and_the_project_file(tmp_path, monkeypatch):
    proj = _project(tmp_path, extra="[limits]\nmax_features = 5\n")
    with pytest.raises(ReadError, match="above the limit of 5.*max_features"):
        gp.load_project(proj)
    monkeypatch.setenv("GEOPLAN_MAX_FEATURES", "1000")
    assert len(gp.load_project(proj).layer("sites")) == 40  # the variable overrides the file
    monkeypatch.setenv("GEOPLAN_MAX_FILE_MB", "0.001")
    with pytest.raises(ReadError, match="above the limit of 0 MiB.*GEOPLAN_MAX_FILE_MB"):
        gp.load_project(proj)
    monkeypatch.setenv("GEOPLAN_MAX_FILE_MB", "lots")
    with pytest.raises(ConfigError, match="GEOPLAN_MAX_FILE_MB"):
        gp.load_project(proj)


@pytest.mark.parametrize("encoding", ["gbk", "utf-8-sig", "utf-16"])
def test_project_files_in_chinese_windows_encodings(tmp_path, caplog, encoding):
    proj = _project(tmp_path)
    text = proj.read_text(encoding="utf-8").replace('name = "t"', 'name = "厦门 规划"')
    proj.write_bytes(text.encode(encoding))
    with caplog.at_level(logging.WARNING, logger="geoplan._guards"):
        assert gp.load_project(proj).name == "厦门 规划"
    assert ("read as GBK" in caplog.text) == (encoding == "gbk")
    proj.write_bytes(b"\x00\x01binary" * 10)
    with pytest.raises(ReadError, match="not a text file"):
        gp.load_project(proj)


def test_cpg_that_contradicts_the_text_is_overruled(tmp_path, caplog):
    g = gpd.GeoDataFrame({"NAME": ["思明区", "湖里区", "厦门市集美区杏林街道"]}, geometry=[Point(118.1, 24.5)] * 3, crs=4490)
    pyogrio.write_dataframe(g, tmp_path / "u.shp", encoding="UTF-8")
    (tmp_path / "u.cpg").write_text("GBK")
    with caplog.at_level(logging.WARNING, logger="geoplan.io"):
        back = io.read_vector(tmp_path / "u.shp", layer="car_parks")
    assert back["NAME"].tolist() == g["NAME"].tolist() and "the .cpg of" in caplog.text
    pyogrio.write_dataframe(g, tmp_path / "k.shp", encoding="GBK")
    (tmp_path / "k.cpg").write_text("UTF-8")
    assert io.read_vector(tmp_path / "k.shp", layer="car_parks")["NAME"].tolist() == g["NAME"].tolist()


def test_garbled_text_in_a_geopackage_is_warned_about(tmp_path, caplog):
    districts, raster, sites = tiny_layers()
    districts["XZQMC"] = ["厦门市集美区".encode().decode("gbk"), "厦门市湖里区".encode().decode("gbk", "replace")]
    prepare = gp.project.prepare_layer
    with caplog.at_level(logging.WARNING, logger="geoplan._validate"):
        prepare(districts, "districts")
    assert "garbled" in caplog.text and "厦门市集美区" in caplog.text
