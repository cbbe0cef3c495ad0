"""geoplan.export: one-map fields, CRS, encodings and round trips through GDAL for every format."""

from __future__ import annotations

import csv
import io as stdio
import json
import zipfile

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import rasterio
from shapely.geometry import Point

import geoplan as gp
from geoplan import export, io
from geoplan.cli import main
from geoplan.io import Raster

from .conftest import TINY_TARGETS_TOML, tiny_layers, tiny_plan

X0, Y0 = 600_000.0, 2_700_000.0


@pytest.fixture(scope="module")
def proj() -> gp.Project:
    districts, raster, sites = tiny_layers()
    return gp.project_from_layers(districts=districts, population=raster, layers={"sites": sites},
                                  name="tiny", metric_crs="EPSG:4548", plan=tiny_plan())


def extra_layers() -> dict[str, gpd.GeoDataFrame | Raster]:
    """Planned sites (3 in district A), an edge DC, car parks (one outside all districts) and coverage."""
    crs = "EPSG:4548"
    planned = gpd.GeoDataFrame(
        {"SITE_ID": ["P1", "P2", "P3"], "SITE_TYPE": ["macro", "micro", "indoor"], "RANK": [1, 2, 3],
         "GAIN_POP": [1200.5, 800.0, 10.25], "SOURCE": ["greedy"] * 3},
        geometry=[Point(X0 + 100, Y0 + 100), Point(X0 + 500, Y0 + 500), Point(X0 + 900, Y0 + 900)], crs=crs)
    dc = gpd.GeoDataFrame({"DC_ID": ["DC-思明-1"], "STATUS": ["planned"], "LAT_MS": [0.8]},
                          geometry=[Point(X0 + 1500, Y0 + 500)], crs=crs)
    parks = gpd.GeoDataFrame(
        {"NAME": ["软件园二期停车场", "湖里万达 P2", "远郊停车场"], "SPACES": [300, 120, 50], "CHG_BUILT": [60, 0, 5],
         "CHG_RESV": [20, 24, 0], "IS_NEW": [1, 1, 0]},
        geometry=[Point(X0 + 300, Y0 + 700), Point(X0 + 1700, Y0 + 200), Point(X0 + 5000, Y0 + 5000)], crs=crs)
    cov = np.zeros((10, 20))
    cov[:, 5:12] = 1
    cov[:5, 12:15] = 2
    coverage = Raster(cov, tiny_layers()[1].transform, tiny_layers()[1].crs, None, "coverage")
    return {"planned_sites": planned, "edge_dc": dc, "car_parks": parks, "coverage": coverage}


def read_back(rep: export.ExportReport, key: str) -> gpd.GeoDataFrame:
    ly = rep.layer(key)
    if rep.layout in ("file", "gdb"):
        return pyogrio.read_dataframe(rep.path, layer=ly.name)
    if rep.layout == "zip":
        return pyogrio.read_dataframe(f"/vsizip/{rep.path.resolve()}/{ly.file}")
    return pyogrio.read_dataframe(rep.path / ly.file if rep.layout == "folder" else rep.path)


def sidecar(rep: export.ExportReport, name: str) -> bytes:
    if rep.layout == "zip":
        with zipfile.ZipFile(rep.path) as zf:
            return zf.read(name)
    return ((rep.path / name) if rep.layout == "folder" else rep.path.parent / name).read_bytes()


FORMATS = [
    ("gpkg", "out.gpkg", {}),
    ("gdb", "out.gdb", {}),
    ("shp-utf8-folder", "out_shp", {"format": "shp"}),
    ("shp-gbk-zip", "out.zip", {"encoding": "GBK"}),
    ("geojson-folder", "out_geojson", {"format": "geojson"}),
]


@pytest.mark.parametrize("name,to,kw", FORMATS, ids=[f[0] for f in FORMATS])
def test_round_trip_every_format(proj, tmp_path, name, to, kw):
    extra = extra_layers()
    rep = export.export_project(proj, tmp_path / to, extra_layers=extra, **kw)
    assert rep.crs == "EPSG:4490"
    sources = {"districts": proj.districts, "sites": proj.layer("sites"), **{k: v for k, v in extra.items()
                                                                             if k != "coverage"}}
    bsm: list[int] = []
    for key, src in sources.items():
        back = read_back(rep, key)
        ly = rep.layer(key)
        assert len(back) == len(src) == ly.features, key
        assert back.crs.to_epsg() == 4490, key
        names = ly.fields
        assert list(back.columns[:4]) == ["BSM", "YSDM", "XZQDM", "XZQMC"]
        assert (back["YSDM"] == gp_spec(key).ysdm).all()
        bsm += back["BSM"].astype(int).tolist()
        for col in src.columns:
            if col == src.geometry.name or col in ("XZQDM", "XZQMC"):
                continue
            got, want = back[names[col]], src[col].reset_index(drop=True)
            if pd.api.types.is_numeric_dtype(want):
                np.testing.assert_allclose(got.to_numpy(dtype=float), want.to_numpy(dtype=float), err_msg=col)
            else:
                assert got.tolist() == want.astype(str).tolist(), (key, col)
        want_xy = src.to_crs(4490).geometry
        if key != "districts":
            np.testing.assert_allclose(np.c_[back.geometry.x, back.geometry.y], np.c_[want_xy.x, want_xy.y],
                                       atol=1e-9)
        else:
            diff = back.to_crs(4548).geometry.symmetric_difference(src.to_crs(4548).geometry.reset_index(drop=True),
                                                                   align=False)
            assert diff.area.max() < 0.5 and back.to_crs(4548).hausdorff_distance(src.to_crs(4548).reset_index(drop=True), align=False).max() < 1e-3  # m², m
    assert sorted(bsm) == list(range(1, len(bsm) + 1))  # unique across the delivery
    d = read_back(rep, "districts")
    assert d["XZQMC"].tolist() == ["甲区", "乙区"]
    parks = read_back(rep, "car_parks")
    assert parks["XZQDM"].tolist()[:2] == ["350901", "350902"] and pd.isna(parks["XZQDM"].iloc[2])
    assert parks["NAME"].tolist() == ["软件园二期停车场", "湖里万达 P2", "远郊停车场"]
    assert any("outside every district" in w for w in rep.warnings)

    if name in ("gpkg", "gdb"):
        assert rep.aliases_in_format
        al = io.read_field_aliases(rep.path, sublayer="XZQ")
        assert al["BSM"] == "标识码" and al["XZQMC"] == "行政区名称" and al["SHORTFALL"] == "基站缺口"
        assert io.read_field_aliases(rep.path, sublayer="GGTCC")["CHG_RESV"] == "预留充电车位"
        meta = pyogrio.read_dataframe(rep.path, layer="geoplan_metadata")
        assert meta["LAYER"].tolist() == ["XZQ", "JZ5G", "JZ5GGH", "BYSJZX", "GGTCC", "FGWG"]
        row = meta.set_index("LAYER_KEY").loc["districts"]
        assert json.loads(row["PARAMETERS"])["target_per_10k"] == 33.0 and row["CRS"] == "EPSG:4490"
        assert (rep.path.parent / f"{rep.path.name}_FGWG.tif").exists()
    else:
        assert not rep.aliases_in_format
        fields = list(csv.reader(stdio.StringIO(sidecar(rep, "XZQ.fields.csv").decode("utf-8-sig"))))
        assert fields[0] == ["short_name", "full_name", "alias", "domain"] and ["BSM", "BSM", "标识码", ""] in fields
        doc = json.loads(sidecar(rep, io.EXPORT_MARKER))
        assert doc["schema"] == export.SCHEMA and [r["layer"] for r in doc["layers"]][-1] == "FGWG"
        assert doc["layers"][2]["modelled"] is True and doc["layers"][0]["modelled"] is False
    if name.startswith("shp"):
        assert sidecar(rep, "XZQ.cpg").decode() == kw.get("encoding", "UTF-8")


def gp_spec(key: str):
    from geoplan.layers import layer_spec

    return layer_spec(key)


def test_density_results_join_the_districts_with_planned_sites(proj, tmp_path):
    rep = export.export_project(proj, tmp_path / "d.gpkg", extra_layers=extra_layers(), year=2025)
    d = pyogrio.read_dataframe(tmp_path / "d.gpkg", layer="XZQ")
    # 20 + 20 existing sites; 3 planned in A; target 33 per 10k on 10,000 and 5,000 residents
    assert d["STATIONS"].tolist() == [23, 20]
    assert d["PLANNED"].tolist() == [3, 0]
    assert d["REQUIRED"].tolist() == [33, 17]
    assert d["SHORTFALL"].tolist() == [10, 0]
    assert d["PER_10K"].tolist() == [23.0, 40.0]
    assert d["TARGET"].tolist() == [33.0, 33.0]
    assert d["POP"].tolist() == [10_000.0, 5_000.0]
    assert rep.layer("districts").aliases["PLANNED"] == "规划新增5G基站数"


def test_coverage_geotiff_keeps_codes(proj, tmp_path):
    ex = extra_layers()
    cov = ex["coverage"]
    export.export_project(proj, tmp_path / "c.gpkg", extra_layers={"coverage": cov}, crs=4548)
    with rasterio.open(tmp_path / "c.gpkg_FGWG.tif") as src:
        assert src.crs.to_epsg() == 4548 and src.dtypes[0] == "uint8" and src.nodata == 255
        np.testing.assert_array_equal(src.read(1), cov.values.astype("uint8"))
        assert src.tags()["YSDM"] == "9000200400" and src.tags()["ONEMAP_ALIAS"] == "5G覆盖格网"
    export.export_project(proj, tmp_path / "g.gpkg", extra_layers={"coverage": cov})
    with rasterio.open(tmp_path / "g.gpkg_FGWG.tif") as src:
        v = src.read(1)
        assert src.crs.to_epsg() == 4490
        assert set(np.unique(v)) <= {0, 1, 2, 255} and {0, 1, 2} <= set(np.unique(v))


@pytest.mark.parametrize("fmt,to", [("gpkg", "k.gpkg"), ("shp", "k_shp"), ("gdb", "k.gdb")])
def test_gauss_kruger_output_with_and_without_zone_prefix(proj, tmp_path, fmt, to):
    rep = export.export_project(proj, tmp_path / to, format=fmt, crs="auto-gk", zone_prefix=True)
    assert rep.crs == "EPSG:4527" and not rep.warnings
    back = read_back(rep, "sites")
    assert back.crs.to_epsg() == 4527
    src = proj.layer("sites").to_crs(4548)
    np.testing.assert_allclose(back.geometry.x - 39_000_000, src.geometry.x, atol=1e-6)
    rep2 = export.export_project(proj, tmp_path / ("n_" + to), format=fmt, crs="4548")
    assert read_back(rep2, "sites").crs.to_epsg() == 4548


def test_auto_gk_across_two_zones_warns_and_explicit_wrong_zone_warns():
    crs, notes = export.resolve_crs("auto-gk", np.r_[np.full(30, 117.8), np.full(20, 119.6)])
    assert crs.to_epsg() == 4548 and "117°E to 120°E" in notes[0] and "median" in notes[0]
    crs, notes = export.resolve_crs("EPSG:4549", np.full(5, 117.2))
    assert crs.to_epsg() == 4549 and "outside the zone" in notes[0]
    crs, notes = export.resolve_crs(4326, np.full(5, 118.0))
    assert "not based on CGCS2000" in notes[0]
    with pytest.raises(gp.ConfigError, match="unknown CRS"):
        export.resolve_crs("EPSG:99999", [118.0])


def test_shapefile_names_are_short_unique_and_mapped(proj, tmp_path):
    sites = proj.layer("sites").copy()
    sites["population_2025"] = 1.0
    sites["population_2030"] = 2.0
    sites["覆盖人口每平方公里"] = 3.0
    rep = export.write({"districts": proj.districts, "sites": sites}, tmp_path / "s.zip", encoding="GBK")
    f = rep.layer("sites").fields
    assert f["population_2025"] == "population" and f["population_2030"] == "populati_1"
    assert f["覆盖人口每平方公里"] == "覆盖人口每"  # 10 bytes in GBK
    back = read_back(rep, "sites")
    assert back["populati_1"].tolist() == [2.0] * len(sites) and back["覆盖人口每"].eq(3.0).all()
    rows = list(csv.reader(stdio.StringIO(sidecar(rep, "JZ5G.fields.csv").decode("utf-8-sig"))))
    assert ["populati_1", "population_2030", "", ""] in rows
    assert export.shapefile_names(["覆盖人口每平方公里"], encoding="UTF-8") == {"覆盖人口每平方公里": "覆盖人"}


def test_single_layer_files_and_gbk_text(tmp_path):
    parks = extra_layers()["car_parks"]
    rep = export.write({"car_parks": parks}, tmp_path / "parks.shp", encoding="GBK")
    assert rep.layout == "single" and (tmp_path / "parks.cpg").read_text() == "GBK"
    assert {"parks.shp", "parks.dbf", "parks.fields.csv", "parks.geoplan.json"} <= set(rep.files)
    raw = (tmp_path / "parks.dbf").read_bytes()
    assert "软件园二期停车场".encode("gbk") in raw  # really GBK on disk
    assert pyogrio.read_dataframe(tmp_path / "parks.shp")["NAME"].tolist()[0] == "软件园二期停车场"
    rep = export.write({"car_parks": parks}, tmp_path / "parks.geojson", overwrite=True)  # same-named sidecars
    text = (tmp_path / "parks.geojson").read_text(encoding="utf-8")
    assert "软件园二期停车场" in text and "EPSG::4490" in text
    assert rep.layer("car_parks").features == 3 and "no districts" in rep.warnings[0]


def test_empty_layer_is_written_with_its_schema(proj, tmp_path):
    empty = extra_layers()["planned_sites"].iloc[:0]
    rep = export.export_project(proj, tmp_path / "e.gdb", extra_layers={"planned_sites": empty})
    back = read_back(rep, "planned_sites")
    assert len(back) == 0 and rep.layer("planned_sites").geometry == "Point"
    assert {"BSM", "SITE_ID", "RANK", "SOURCE"} <= set(back.columns)


def test_reexport_replaces_own_outputs_only(proj, tmp_path):
    out = tmp_path / "o_shp"
    export.export_project(proj, out, format="shp", extra_layers={"edge_dc": extra_layers()["edge_dc"]})
    assert (out / "BYSJZX.shp").exists()
    export.export_project(proj, out, format="shp", overwrite=True)
    assert not (out / "BYSJZX.shp").exists() and (out / "JZ5G.shp").exists()  # stale layer gone
    gdb = tmp_path / "o.gdb"
    export.export_project(proj, gdb)
    export.export_project(proj, gdb, crs=4548, overwrite=True)
    assert pyogrio.read_info(gdb, layer="JZ5G")["crs"] == "EPSG:4548"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.gdb", "o.gdb.metadata.xml", "o_shp"]  # no temporary folders left


def test_validation_problems_of_all_layers_at_once(proj, tmp_path):
    ex = extra_layers()
    ex["planned_sites"].loc[0, "SITE_TYPE"] = "tower"
    ex["car_parks"].loc[1, "SPACES"] = -1
    with pytest.raises(gp.ValidationError) as ei:
        export.export_project(proj, tmp_path / "v.gpkg", extra_layers=ex)
    assert {(p.layer, p.field) for p in ei.value.problems} == {("planned_sites", "SITE_TYPE"), ("car_parks", "SPACES")}
    assert list(tmp_path.iterdir()) == []


def test_xiamen_delivery_matches_the_density_check(xiamen, tmp_path):
    rep = export.export_project(xiamen, tmp_path / "xm.gpkg")
    check = gp.targets.check(xiamen, year=2025)
    d = pyogrio.read_dataframe(tmp_path / "xm.gpkg", layer="XZQ")
    assert d["STATIONS"].tolist() == check.table["stations"].tolist()
    assert d["SHORTFALL"].tolist() == check.table["shortfall"].tolist()
    sites = pyogrio.read_dataframe(tmp_path / "xm.gpkg", layer="JZ5G", columns=["XZQDM"], read_geometry=False)
    per = sites["XZQDM"].value_counts().reindex(d["XZQDM"]).tolist()
    assert per == check.table["stations"].tolist()  # points are matched to districts as the check counts them
    assert rep.layer("sites").features == 10_881


def test_cli_export_json_report(tmp_path, capsys):
    districts, raster, sites = tiny_layers()
    districts.to_file(tmp_path / "d.gpkg")
    sites.to_file(tmp_path / "s.gpkg")
    io.write_raster(raster, tmp_path / "pop.tif")
    (tmp_path / "targets.toml").write_text(TINY_TARGETS_TOML, encoding="utf-8")
    (tmp_path / "geoplan.toml").write_text('[project]\nname = "t"\ntargets = "targets.toml"\n[layers.districts]\npath = '
                                           '"d.gpkg"\n[layers.population]\npath = "pop.tif"\n[layers.sites]\n'
                                           'path = "s.gpkg"\nmodelled = true\n', encoding="utf-8")
    out = tmp_path / "o.zip"
    with pytest.raises(SystemExit) as ei:
        main(["export", "--project", str(tmp_path / "geoplan.toml"), "--to", str(out), "--encoding", "GBK",
              "--crs", "auto-gk", "--report", "json"])
        raise SystemExit(0)
    assert (ei.value.code or 0) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["schema"] == "geoplan.export/1" and data["crs"] == "EPSG:4548" and data["encoding"] == "GBK"
    assert [ly["name"] for ly in data["layers"]] == ["XZQ", "JZ5G"] and data["layers"][1]["features"] == 40
    with zipfile.ZipFile(out) as zf:
        assert zf.read("JZ5G.cpg") == b"GBK" and "geoplan_metadata.json" in zf.namelist()
    with pytest.raises(SystemExit) as ei:
        main(["export", "--project", str(tmp_path / "geoplan.toml"), "--to", str(tmp_path / "t.gpkg")])
        raise SystemExit(0)
    assert (ei.value.code or 0) == 0 and "JZ5G" in capsys.readouterr().out
    # `--format json` works here as on every command: the report in JSON, the file type from the suffix
    with pytest.raises(SystemExit) as ei:
        main(["export", "--project", str(tmp_path / "geoplan.toml"), "--to", str(tmp_path / "j.gpkg"),
              "--format", "json"])
        raise SystemExit(0)
    data = json.loads(capsys.readouterr().out)
    assert (ei.value.code or 0) == 0 and data["format"] == "gpkg" and (tmp_path / "j.gpkg").is_file()


def test_scenario_planned_sites_are_exported(proj, tmp_path):
    from geoplan.cli.export import scenario_layers

    (tmp_path / "sc.toml").write_text('[[scenario]]\nname = "a"\ntotal = 50\n[[scenario]]\nname = "b"\n'
                                      'total = 45\n', encoding="utf-8")
    with pytest.raises(gp.ConfigError, match="holds 2 scenarios"):
        scenario_layers(proj, tmp_path / "sc.toml")
    layers, meta, year = scenario_layers(proj, tmp_path / "sc.toml", name="a")
    rep = export.export_project(proj, tmp_path / "s.gpkg", extra_layers=layers, metadata=meta, year=year or 2025)
    assert rep.layer("planned_sites").features == 10  # 50 stations in total, 40 exist
    d = pyogrio.read_dataframe(tmp_path / "s.gpkg", layer="XZQ")
    assert d["STATIONS"].sum() == 50 and d["PLANNED"].sum() == 10
    m = pyogrio.read_dataframe(tmp_path / "s.gpkg", layer="geoplan_metadata").set_index("LAYER_KEY")
    assert json.loads(m.loc["planned_sites", "PARAMETERS"])["total"] == 50


@pytest.mark.parametrize("fmt, names", [("gpkg", ["p.gpkg", "p.gpkg.metadata.xml", "p.gpkg_FGWG.tif"]),
                                        ("gdb", ["p.gdb.zip", "p.gdb.metadata.xml", "p.gdb_FGWG.tif"]),
                                        ("shp", ["p_shp.zip"])])
def test_export_files_in_memory_match_a_written_delivery(proj, tmp_path, fmt, names):
    files = export.export_files(proj, stem="p", format=fmt, extra_layers=extra_layers(), year=2025)
    assert [f[0] for f in files] == names
    data = dict((n, b) for n, b, _ in files)
    if fmt == "gpkg":
        (tmp_path / "p.gpkg").write_bytes(data["p.gpkg"])
        d = pyogrio.read_dataframe(tmp_path / "p.gpkg", layer="XZQ")
        assert d["STATIONS"].tolist() == [23, 20] and d["PLANNED"].tolist() == [3, 0]
        assert files[0][2] == "application/geopackage+sqlite3" and files[2][2] == "image/tiff"
        assert files[1][2] == "application/xml"
    else:
        with zipfile.ZipFile(stdio.BytesIO(data[names[0]])) as zf:
            listed = zf.namelist()
        if fmt == "gdb":
            assert listed and all(n.startswith("p.gdb/") for n in listed)
        else:
            assert any(n.endswith("XZQ.shp") for n in listed) and any(n.endswith("XZQ.cpg") for n in listed)


# --------------------------------------------------------------------------- every plan layer, format and CRS (issue 15)


def plan_file(proj: gp.Project):
    """A plan with every plan layer: sites with BUILD_YEAR, edge DCs, stations, car-park compliance, tables, grid."""
    from geoplan import planfile

    ex = extra_layers()
    planned = ex["planned_sites"].assign(BUILD_YEAR=[2024, 2025, 2025], ENVIRONMENT=["urban", "urban", "rural"],
                                         MODELLED=[1, 1, 1])
    stations = gpd.GeoDataFrame({"STN_ID": ["CS0001", "CS0002"], "STATUS": ["planned", "existing"],
                                 "SOURCE": ["cell", "car_park"], "NAME": ["", "软件园二期停车场"], "PILES": [4, 10]},
                                geometry=[Point(X0 + 400, Y0 + 400), Point(X0 + 300, Y0 + 700)], crs="EPSG:4548")
    parks = ex["car_parks"].assign(SHARE_BLT=[0.2, 0.0, 0.1], CHG_REQ=[60, 24, 10], CHG_ADD=[0, 24, 5],
                                   ADD_RESV=[0, 24, 0], ADD_FITOUT=[0, 0, 5], COMPLIANT=[1, 0, 0])
    density = pd.DataFrame({"XZQDM": ["350901", "350902"], "XZQMC": ["甲区", "乙区"], "POP": [10_000.0, 5_000.0],
                            "EXISTING": [20, 20], "NEW": [3, 0], "STATIONS": [23, 20], "PER_10K": [23.0, 40.0],
                            "TARGET": [33.0, 33.0], "SHORTFALL": [10, 0], "MEETS": [0, 1],
                            "COV_BEFORE": [0.5, 0.6], "COV_AFTER": [0.7, 0.6]})
    conflicts = pd.DataFrame({"SITE_ID": ["P1"], "CONSTRAINT": ["生态保护红线"], "HARDNESS": ["soft"],
                              "NOTE": ["距红线 50 米"]})
    layers = {"planned_sites": planned, "edge_dc": ex["edge_dc"], "charging_stations": stations,
              "car_parks": parks, "coverage": ex["coverage"], "density": density, "conflicts": conflicts}
    meta = {k: {"source": "test", "modelled": True, "method": f"made by hand for {k}", "parameters": {"k": k}}
            for k in layers}
    return planfile.PlanFile(project=proj.name, plan="xiamen", year=2025, layers=layers, metadata=meta)


def read_table_back(rep: export.ExportReport, key: str) -> pd.DataFrame:
    ly = rep.layer(key)
    if rep.layout in ("file", "gdb"):
        return pd.DataFrame(pyogrio.read_dataframe(rep.path, layer=ly.name, read_geometry=False))
    return pd.read_csv(stdio.BytesIO(sidecar(rep, ly.file)), encoding="utf-8-sig", dtype={"XZQDM": str})


ROUND_TRIP = [(f, to, kw, crs) for f, to, kw in FORMATS for crs in (4490, 4548, 4527)]


@pytest.mark.parametrize("name,to,kw,crs", ROUND_TRIP, ids=[f"{r[0]}-{r[3]}" for r in ROUND_TRIP])
def test_every_plan_layer_round_trips_with_codes_domains_and_chinese(proj, tmp_path, name, to, kw, crs):
    from geoplan.onemap import default_onemap

    plan = plan_file(proj)
    rep = export.export_project(proj, tmp_path / to, plan_file=plan, crs=crs, **kw)
    assert rep.crs == f"EPSG:{crs}"
    om = default_onemap()
    for key, src in plan.layers.items():
        if key == "coverage":
            continue
        back = read_table_back(rep, key) if key in ("density", "conflicts") else read_back(rep, key)
        ly = rep.layer(key)
        assert len(back) == len(src) == ly.features, key
        if isinstance(back, gpd.GeoDataFrame):
            assert back.crs.to_epsg() == crs, key
            got_xy = back.to_crs(4490).geometry
            want_xy = src.to_crs(4490).geometry.reset_index(drop=True)
            np.testing.assert_allclose(np.c_[got_xy.x, got_xy.y], np.c_[want_xy.x, want_xy.y], atol=1e-7)
        for col in [c for c in src.columns if c != getattr(src, "geometry", pd.Series(name=None)).name]:
            got, want = back[ly.fields[col]], src[col].reset_index(drop=True)
            if pd.api.types.is_numeric_dtype(want):
                np.testing.assert_allclose(got.to_numpy(dtype=float), want.to_numpy(dtype=float), err_msg=col)
            else:
                assert got.fillna("").astype(str).tolist() == want.fillna("").astype(str).tolist(), (key, col)
            dom = om.domain(key, col)
            if dom is None:
                continue
            if rep.format in ("gpkg", "gdb"):
                domains, used = io.read_field_domains(rep.path, sublayer=ly.name)
                assert used[ly.fields[col]] == dom.name and domains[dom.name].codes == dom.codes, (key, col)
            elif dom.label_field:
                labels = back[ly.fields.get(dom.label_field, dom.label_field)] if dom.label_field in ly.fields \
                    else back[dom.label_field]
                assert labels.fillna("").tolist() == [dom.label(v) or "" for v in want], (key, col)
    planned = read_back(rep, "planned_sites")
    assert planned[rep.layer("planned_sites").fields["BUILD_YEAR"]].tolist() == [2024, 2025, 2025]
    if rep.format in ("shp", "geojson"):
        assert planned["ZXMC"].tolist() == ["宏站", "微站", "室分"]
    tif = sidecar(rep, rep.layer("coverage").file)
    with rasterio.MemoryFile(tif) as mem, mem.open() as src:
        assert src.crs.to_epsg() == crs and set(np.unique(src.read(1))) <= {0, 1, 2, 255}


def test_coverage_is_inside_a_geopackage_as_tiles(proj, tmp_path):
    rep = export.export_project(proj, tmp_path / "t.gpkg", plan_file=plan_file(proj))
    grid = io.read_gpkg_raster(rep.path, table="FGWG")
    tif = io.read_raster(tmp_path / "t.gpkg_FGWG.tif")
    np.testing.assert_array_equal(np.where(grid.valid, grid.values, 255), np.where(tif.valid, tif.values, 255))
    assert grid.crs.to_epsg() == 4490


def test_metadata_names_sources_relatively_and_has_an_xml_sidecar(tiny_project_file, tmp_path):
    import xml.etree.ElementTree as ET

    proj = gp.load_project(tiny_project_file)
    rep = export.export_project(proj, tmp_path / "o.gpkg", plan_file=plan_file(proj), producer="某市自然资源局")
    meta = pyogrio.read_dataframe(rep.path, layer="geoplan_metadata")
    assert meta.set_index("LAYER_KEY").loc["districts", "SOURCE"] == "districts.gpkg"
    assert not any(str(tmp_path) in str(v) for v in meta.to_numpy().ravel())  # no absolute paths
    xml = (tmp_path / "o.gpkg.metadata.xml").read_bytes()
    assert str(tmp_path).encode() not in xml
    root = ET.fromstring(xml)
    assert root.findtext("标识信息/生产单位") == "某市自然资源局"
    assert root.findtext("空间参考/坐标系统代码") == "EPSG:4490"
    assert float(root.findtext("数据范围/西边界")) > 115
    assert "JZ5GGH" in root.findtext("模拟数据声明")
    names = [e.get("名称") for e in root.iter("图层")]
    assert names[:3] == ["XZQ", "JZ5G", "JZ5GGH"] and "FGWG" in names
    codes = {e.get("名称"): {c.get("值"): c.text for c in e} for e in root.iter("代码表")}
    assert codes["ZXDM"] == {"macro": "宏站", "micro": "微站", "indoor": "室分"}


def test_polygons_carry_their_ellipsoidal_area(proj, tmp_path):
    d4490 = export.export_project(proj, tmp_path / "a.gpkg")
    d4548 = export.export_project(proj, tmp_path / "b.gpkg", crs=4548)
    a = pyogrio.read_dataframe(d4490.path, layer="XZQ")
    b = pyogrio.read_dataframe(d4548.path, layer="XZQ")
    np.testing.assert_allclose(a["JSMJ"], b["JSMJ"])  # the same area whatever the output CRS
    planar = proj.districts.to_crs(4548).area.to_numpy()
    np.testing.assert_allclose(a["JSMJ"], planar, rtol=2e-3)  # close to the Gauss-Krüger area near the meridian


def test_shapefile_text_fields_are_as_wide_as_their_data(proj, tmp_path):
    rep = export.export_project(proj, tmp_path / "s", format="shp", plan_file=plan_file(proj))
    info = pyogrio.read_info(rep.path / "JZ5GGH.shp")
    widths = dict(zip(info["fields"], [None] * len(info["fields"]), strict=True))
    import struct

    raw = (rep.path / "JZ5GGH.dbf").read_bytes()
    n = (struct.unpack("<H", raw[8:10])[0] - 33) // 32
    for i in range(n):
        desc = raw[32 + 32 * i: 64 + 32 * i]
        name = desc[:11].split(b"\0")[0].decode()
        widths[name] = desc[16]
    assert widths["SITE_TYPE"] == len("indoor") and widths["ZXMC"] == len("室分".encode())
    assert max(w for w in widths.values() if w) < 80


def test_a_bureau_mapping_renames_layers_fields_and_labels(proj, tmp_path):
    from geoplan import onemap

    (tmp_path / "m.toml").write_text(
        '[delivery]\nproducer = "测试局"\n[layers.planned_sites]\nname = "WXJZGH"\nysdm = "2090010200"\n'
        '[layers.planned_sites.fields]\nSITE_TYPE = "ZXLX"\nBUILD_YEAR = "JSND"\n'
        '[domains.site_type]\nname = "ZXLXDM"\ncodes = { micro = "微站（含智慧杆）" }\n', encoding="utf-8")
    rep = export.export_project(proj, tmp_path / "m.gdb", plan_file=plan_file(proj), mapping=tmp_path / "m.toml")
    ly = rep.layer("planned_sites")
    assert ly.name == "WXJZGH" and ly.ysdm == "2090010200" and rep.mapping == "m.toml"
    back = pyogrio.read_dataframe(rep.path, layer="WXJZGH")
    assert {"ZXLX", "JSND"} <= set(back.columns) and (back["YSDM"] == "2090010200").all()
    domains, used = io.read_field_domains(rep.path, sublayer="WXJZGH")
    assert used["ZXLX"] == "ZXLXDM" and domains["ZXLXDM"].codes["micro"] == "微站（含智慧杆）"
    (tmp_path / "bad.toml").write_text('[domains.site_type]\ncodes = { tower = "铁塔" }\n', encoding="utf-8")
    with pytest.raises(gp.ConfigError, match="no code 'tower'.*relabel geoplan's codes only"):
        onemap.load_mapping(tmp_path / "bad.toml")
    (tmp_path / "bad2.toml").write_text('[layers.planned_sites.fields]\nSITE_TYPE = "站 型"\n', encoding="utf-8")
    with pytest.raises(gp.ConfigError, match="not a name every GIS format holds"):
        onemap.load_mapping(tmp_path / "bad2.toml")
    template = onemap.mapping_template()
    io.write_toml(template, tmp_path / "t.toml")
    assert onemap.load_mapping(tmp_path / "t.toml").layer("planned_sites").name == "JZ5GGH"  # the template reads back
