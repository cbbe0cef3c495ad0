"""Point layers as CSV and XLSX tables: coordinate columns, CRS declarations, encodings, BOM, value mapping."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import geoplan as gp
from geoplan import io
from geoplan.crs import wgs84_to_gcj02
from geoplan.errors import ConfigError, ReadError, ValidationError

from .conftest import TINY_TARGETS_TOML, tiny_layers


def _project(tmp_path, sites_table: str) -> None:
    districts, raster, _ = tiny_layers()
    io.write_vector(districts, tmp_path / "d.gpkg", layer="districts", driver="GPKG")
    io.write_raster(raster, tmp_path / "pop.tif")
    (tmp_path / "targets.toml").write_text(TINY_TARGETS_TOML, encoding="utf-8")
    (tmp_path / "geoplan.toml").write_text('[project]\nname = "t"\ntargets = "targets.toml"\n'
                                           '[layers.districts]\npath = "d.gpkg"\n[layers.population]\n'
                                           'path = "pop.tif"\n' + sites_table, encoding="utf-8")


def _lonlat(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` WGS84 points inside the tiny districts (EPSG:4548 box 600–602 km E, 2,700–2,701 km N)."""
    from pyproj import Transformer

    rng = np.random.default_rng(seed)
    x, y = 600_000 + rng.uniform(50, 1950, n), 2_700_000 + rng.uniform(50, 950, n)
    lon, lat = Transformer.from_crs(4548, 4326, always_xy=True).transform(x, y)
    return np.asarray(lon), np.asarray(lat)


def test_csv_sites_with_bom_chinese_types_and_operator_map(tmp_path):
    lon, lat = _lonlat(12)
    df = pd.DataFrame({"站址编号": [f"S{i}" for i in range(12)], "站型": ["宏站", "微站", "室分"] * 4,
                       "运营商": ["移动", "电信", "联通", "广电"] * 3, "经度": lon.round(7), "纬度": lat.round(7)})
    (tmp_path / "sites.csv").write_bytes(b"\xef\xbb\xbf" + df.to_csv(index=False).encode("utf-8"))
    _project(tmp_path, '[layers.sites]\npath = "sites.csv"\n'
                       'fields = { SITE_ID = "站址编号", SITE_TYPE = "站型", OPERATOR = "运营商" }\n'
                       'values = { OPERATOR = { "移动" = "中国移动", "电信" = "中国电信", "联通" = "中国联通", '
                       '"广电" = "中国广电" } }\n')
    proj = gp.load_project(tmp_path / "geoplan.toml")
    s = proj.layer("sites")
    assert s["SITE_TYPE"].tolist() == ["macro", "micro", "indoor"] * 4
    assert s["OPERATOR"].tolist() == ["中国移动", "中国电信", "中国联通", "中国广电"] * 3
    assert s.crs.to_epsg() == 4490 and np.allclose(s.geometry.x, lon, atol=1e-6)
    assert gp.targets.check(proj).total.stations == 12


def test_gbk_csv_in_gcj02_and_xlsx_in_gauss_kruger(tmp_path, caplog):
    lon, lat = _lonlat(6, seed=1)
    glon, glat = wgs84_to_gcj02(lon, lat)
    demand = pd.DataFrame({"名称": [f"医院{i}" for i in range(6)], "类别": ["医院", "学校", "港口"] * 2,
                           "权重": [2.0, 1.0, 5.0] * 2, "lng": glon, "lat": glat})
    (tmp_path / "demand.csv").write_bytes(demand.to_csv(index=False, sep=";").encode("gbk"))
    x, y = np.array([600_500.0, 601_500.0]), np.array([2_700_500.0, 2_700_200.0])
    parks = pd.DataFrame({"名称": ["甲", "乙"], "总车位": [100, 80], "已建": [10, 0], "是否新建": ["是", "否"],
                          "X坐标": x, "Y坐标": y})
    io.write_xlsx({"说明": pd.DataFrame({"a": [1]}), "停车场": parks}, tmp_path / "parks.xlsx")
    _project(tmp_path, '[layers.edge_demand]\npath = "demand.csv"\ncrs = "GCJ-02"\n'
                       'fields = { NAME = "名称", CATEGORY = "类别", WEIGHT = "权重" }\n'
                       'values = { CATEGORY = { "医院" = "hospital", "学校" = "school", "港口" = "port" } }\n'
                       '[layers.car_parks]\npath = "parks.xlsx"\nlayer = "停车场"\nx = "X坐标"\ny = "Y坐标"\n'
                       'crs = "EPSG:4548"\nfields = { NAME = "名称", SPACES = "总车位", CHG_BUILT = "已建", '
                       'IS_NEW = "是否新建" }\n')
    proj = gp.load_project(tmp_path / "geoplan.toml")
    d = proj.layer("edge_demand")
    assert d["CATEGORY"].tolist() == ["hospital", "school", "port"] * 2 and d["NAME"].iloc[0] == "医院0"
    assert np.allclose(d.geometry.x, lon, atol=1e-7) and np.allclose(d.geometry.y, lat, atol=1e-7)
    assert "not UTF-8" in caplog.text
    p = proj.metric("car_parks")
    assert p["IS_NEW"].tolist() == [1, 0] and np.allclose(p.geometry.x, x, atol=1e-3)


def test_bad_tables_fail_with_layer_field_and_fix(tmp_path):
    (tmp_path / "a.csv").write_text("名称,x\n甲,118.1\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="no y \\(latitude\\) column found.*y = "):
        io.read_point_table(tmp_path / "a.csv", layer="sites")
    (tmp_path / "b.csv").write_text("经度,纬度\n118.1,24.5\n118°05′,24.5\n,\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="1 row\\(s\\) without numeric coordinates \\(lines 3\\)"):
        io.read_point_table(tmp_path / "b.csv", layer="sites")
    (tmp_path / "c.csv").write_text("lon,lat,x\n1,2,3\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="several x \\(longitude\\) columns"):
        io.read_point_table(tmp_path / "c.csv", layer="sites")
    with pytest.raises(ValidationError, match="names column '东'"):
        io.read_point_table(tmp_path / "c.csv", layer="sites", x="东", y="lat")
    (tmp_path / "d.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(ReadError, match="save it as .xlsx"):
        io.read_point_table(tmp_path / "d.xls", layer="sites")
    io.write_xlsx({"a": pd.DataFrame({"x": [1]}), "b": pd.DataFrame({"x": [2]})}, tmp_path / "e.xlsx")
    with pytest.raises(ReadError, match="2 sheets \\(a, b\\)"):
        io.read_point_table(tmp_path / "e.xlsx", layer="sites")
    # x/y without a declared CRS: the project refuses it and says how to declare one
    (tmp_path / "f.csv").write_text("SITE_ID,SITE_TYPE,x,y\nS1,macro,600500,2700500\n", encoding="utf-8")
    _project(tmp_path, '[layers.sites]\npath = "f.csv"\n')
    with pytest.raises(ValidationError, match="no coordinate reference system.*crs = "):
        gp.load_project(tmp_path / "geoplan.toml")


def test_unknown_values_name_the_mapping_to_add(tmp_path):
    lon, lat = _lonlat(2)
    pd.DataFrame({"SITE_ID": ["a", "b"], "SITE_TYPE": ["宏站", "塔"], "lon": lon, "lat": lat}).to_csv(
        tmp_path / "s.csv", index=False)
    _project(tmp_path, '[layers.sites]\npath = "s.csv"\nvalues = { SITE_KIND = { "塔" = "macro" } }\n')
    with pytest.raises(ConfigError, match="values\\] SITE_KIND: sites has no field 'SITE_KIND'"):
        gp.load_project(tmp_path / "geoplan.toml")
    text = (tmp_path / "geoplan.toml").read_text(encoding="utf-8").replace("SITE_KIND", "SITE_TYPE")
    (tmp_path / "geoplan.toml").write_text(text, encoding="utf-8")
    assert gp.load_project(tmp_path / "geoplan.toml").layer("sites")["SITE_TYPE"].tolist() == ["macro", "macro"]


_TEXT = st.text(alphabet=st.characters(codec="gbk", exclude_characters=",;\t|\"\r\n\x00"), min_size=1, max_size=8)


@settings(max_examples=40, deadline=None)
@given(names=st.lists(_TEXT, min_size=1, max_size=6),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "gbk", "utf-16"]),
       sep=st.sampled_from([",", ";", "\t"]))
def test_csv_round_trip_whatever_the_encoding_and_separator(tmp_path_factory, names, encoding, sep):
    rng = np.random.default_rng(len(names))
    lon, lat = rng.uniform(117.9, 118.4, len(names)), rng.uniform(24.4, 24.8, len(names))
    df = pd.DataFrame({"名称": names, "经度": lon, "纬度": lat})
    path = tmp_path_factory.mktemp("csv") / "p.csv"
    path.write_bytes(df.to_csv(index=False, sep=sep).encode(encoding))
    got = io.read_point_table(path, layer="pois")
    assert got["名称"].tolist() == [n.strip() for n in names] or got["名称"].tolist() == names
    assert np.allclose(got.geometry.x, lon) and np.allclose(got.geometry.y, lat)
    assert got.attrs["lonlat"] and got.crs is None
