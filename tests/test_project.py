import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, Polygon

import geoplan as gp
from geoplan import io
from geoplan.errors import ConfigError, CRSError, ReadError, ValidationError
from geoplan.io import Raster

from .conftest import TINY_TARGETS_TOML, tiny_layers

CENSUS = io.shipped("data/gis/sources/xiamen_district_population.csv")


def test_embedded_raster_sums_equal_census(xiamen):
    census = pd.read_csv(CENSUS, dtype={"XZQDM": str}).set_index("XZQDM")["pop_census2020"]
    sums = xiamen.raster_population
    for code, s in zip(xiamen.district_codes, sums, strict=True):
        assert s == pytest.approx(census[code], abs=1.0), code
    assert sums.sum() == pytest.approx(census["350200"], abs=2.0)


def test_embedded_raster_is_100m_gauss_kruger_and_labelled_modelled(xiamen):
    r = xiamen.population
    assert r.crs.to_epsg() == 4548
    assert (r.transform.a, -r.transform.e) == (100.0, 100.0)
    assert xiamen.is_modelled("population") and xiamen.is_modelled("sites")
    assert not xiamen.is_modelled("districts")


def test_embedded_districts_are_cgcs2000_and_shifted_from_gcj(xiamen):
    assert xiamen.districts.crs.to_epsg() == 4490
    raw = io.read_vector(io.shipped("data/gis/sources/xiamen_districts_gcj02_amap_raw.geojson"), layer="raw")
    c_raw = raw.to_crs(4548).geometry.union_all().centroid
    c_new = xiamen.metric("districts").geometry.union_all().centroid
    # WGS84 minus GCJ-02 near Xiamen is about (-494 m, +299 m)
    assert c_new.x - c_raw.x == pytest.approx(-494, abs=20)
    assert c_new.y - c_raw.y == pytest.approx(299, abs=20)


def test_embedded_sites_match_baseline_and_have_types(xiamen):
    sites = xiamen.layer("sites")
    assert len(sites) == 10_881
    assert set(sites["SITE_TYPE"]) == {"macro", "micro", "indoor"}
    assert sites["OPERATOR"].nunique() == 4
    assert (xiamen.district_of("sites") >= 0).all()


def test_missing_field_names_layer_field_and_fix():
    districts, raster, _ = tiny_layers()
    with pytest.raises(ValidationError) as ei:
        gp.project_from_layers(districts=districts.drop(columns="XZQMC"), population=raster)
    p = ei.value.problems[0]
    assert (p.layer, p.field) == ("districts", "XZQMC")
    assert "map an existing column" in p.fix


def test_all_problems_reported_at_once():
    districts, raster, _ = tiny_layers()
    bad = districts.drop(columns="XZQMC").set_crs(None, allow_override=True)
    bad.loc[0, "geometry"] = Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])  # bow-tie
    with pytest.raises(ValidationError) as ei:
        gp.project_from_layers(districts=bad, population=raster)
    fields = {p.field for p in ei.value.problems}
    assert {"CRS", "geometry", "XZQMC"} <= fields


def test_layer_without_crs_is_a_crs_error():
    districts, raster, _ = tiny_layers()
    with pytest.raises(CRSError, match="no coordinate reference system"):
        gp.project_from_layers(districts=districts.set_crs(None, allow_override=True), population=raster)


def test_negative_population_in_raster():
    districts, raster, _ = tiny_layers()
    v = raster.values.copy()
    v[0, 0] = -5
    with pytest.raises(ValidationError, match="negative population"):
        gp.project_from_layers(districts=districts, population=Raster(v, raster.transform, raster.crs, raster.nodata))


def test_negative_population_field():
    districts, raster, _ = tiny_layers()
    districts["POP"] = [1000.0, -3.0]
    with pytest.raises(ValidationError) as ei:
        gp.project_from_layers(districts=districts, population=raster)
    assert ei.value.problems[0].field == "POP" and "negative" in ei.value.problems[0].fix


def test_non_numeric_population_field():
    districts, raster, _ = tiny_layers()
    districts["POP"] = ["1,000", "2000"]
    with pytest.raises(ValidationError, match="non-numeric"):
        gp.project_from_layers(districts=districts, population=raster)


def test_raster_not_overlapping_districts():
    districts, raster, _ = tiny_layers()
    t = raster.transform
    moved = Raster(raster.values, t.__class__(t.a, t.b, t.c + 50_000, t.d, t.e, t.f), raster.crs, raster.nodata)
    with pytest.raises(ValidationError, match="does not overlap"):
        gp.project_from_layers(districts=districts, population=moved)


def test_wrong_geometry_type_for_sites():
    districts, raster, sites = tiny_layers()
    sites = sites.copy()
    sites.geometry = sites.buffer(10)
    with pytest.raises(ValidationError, match="expected Point"):
        gp.project_from_layers(districts=districts, population=raster, layers={"sites": sites})


def test_unknown_site_type():
    districts, raster, sites = tiny_layers()
    sites.loc[0, "SITE_TYPE"] = "tower"
    with pytest.raises(ValidationError, match="use one of macro, micro, indoor"):
        gp.project_from_layers(districts=districts, population=raster, layers={"sites": sites})


def test_project_file_with_field_map_and_gcj_declaration(tmp_path):
    districts, raster, sites = tiny_layers()
    d = districts.to_crs(4326).rename(columns={"XZQDM": "code", "XZQMC": "name"})
    d.to_file(tmp_path / "d.gpkg", layer="d")
    io.write_raster(raster, tmp_path / "pop.tif")
    sites.to_file(tmp_path / "s.gpkg")
    (tmp_path / "targets.toml").write_text(TINY_TARGETS_TOML, encoding="utf-8")
    (tmp_path / "geoplan.toml").write_text(
        '[project]\nname = "t"\ntargets = "targets.toml"\n'
        '[layers.districts]\npath = "d.gpkg"\nfields = { XZQDM = "code", XZQMC = "name" }\n'
        '[layers.population]\npath = "pop.tif"\n[layers.sites]\npath = "s.gpkg"\n', encoding="utf-8")
    proj = gp.load_project(tmp_path / "geoplan.toml")
    assert proj.district_codes == ["350901", "350902"]
    assert proj.metric_crs.to_epsg() == 4548  # chosen from the data
    rep = gp.targets.check(proj)
    assert rep.table["stations"].tolist() == [20, 20]
    # declaring GCJ-02 moves the districts by the GCJ offset (~ -490 m east, +300 m north here)
    text = (tmp_path / "geoplan.toml").read_text(encoding="utf-8").replace(
        'fields = { XZQDM', 'crs = "GCJ-02"\nfields = { XZQDM')
    (tmp_path / "g.toml").write_text(text, encoding="utf-8")
    g = gp.load_project(tmp_path / "g.toml")
    shift = g.metric("districts").geometry.iloc[0].centroid.x - proj.metric("districts").geometry.iloc[0].centroid.x
    assert -560 < shift < -420


def test_project_file_errors(tmp_path):
    with pytest.raises(ReadError, match="does not exist"):
        gp.load_project(tmp_path / "nope.toml")
    (tmp_path / "bad.toml").write_text("[project\n", encoding="utf-8")
    with pytest.raises(ReadError, match="not valid TOML"):
        gp.load_project(tmp_path / "bad.toml")
    (tmp_path / "nolayers.toml").write_text("[project]\nname='x'\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[layers.districts\]"):
        gp.load_project(tmp_path / "nolayers.toml")
    (tmp_path / "missing.toml").write_text(
        '[layers.districts]\npath = "x.gpkg"\n[layers.population]\npath = "p.tif"\n', encoding="utf-8")
    with pytest.raises(ReadError, match="layer 'districts'.*does not exist"):
        gp.load_project(tmp_path / "missing.toml")


def test_worldpop_style_geographic_raster(tmp_path):
    """A WGS84 raster (WorldPop style) over metric districts sums per district correctly."""
    districts, _, _ = tiny_layers()
    from affine import Affine
    from pyproj import CRS

    d4326 = districts.to_crs(4326)
    left, bottom, right, top = d4326.total_bounds
    res = 0.0005
    w, h = int((right - left) / res) + 4, int((top - bottom) / res) + 4
    vals = np.ones((h, w))
    r = Raster(vals, Affine(res, 0, left - 2 * res, 0, -res, top + 2 * res), CRS.from_epsg(4326), -1.0)
    proj = gp.project_from_layers(districts=districts, population=r, name="wp")
    sums = proj.raster_population
    # equal-size districts get about the same number of cells
    assert sums[0] == pytest.approx(sums[1], rel=0.1)
    assert proj.demand.area_km2.mean() == pytest.approx((res * 111.32) ** 2 * np.cos(np.deg2rad(24.4)), rel=0.02)


def test_points_on_shared_border_count_once():
    from geoplan.project import points_in_districts

    districts, _, _ = tiny_layers()
    pts = gpd.GeoDataFrame(geometry=[Point(601_000, 2_700_500), Point(600_500, 2_700_500)], crs=districts.crs)
    idx = points_in_districts(pts, districts)
    assert idx[1] == 0
    assert idx[0] in (-1, 0, 1)
