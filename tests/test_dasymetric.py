"""geoplan population: random-forest dasymetric grid, exact district totals, leave-one-out error, CLI."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import box

import geoplan as gp
from geoplan import io
from geoplan.dasymetric import landuse_group, largest_remainder_cells, model_population
from geoplan.errors import ValidationError

from .test_cli import run

X0, Y0 = 600_000.0, 2_700_000.0
CRS = "EPSG:4548"
#: Five 2 km × 2 km districts side by side; the housing block of each grows from west to east.
HOUSING_KM = (0.4, 0.7, 1.0, 1.3, 1.6)


def _layers():
    districts, landuse = [], []
    for i, h in enumerate(HOUSING_KM):
        x = X0 + 2000 * i
        districts.append(box(x, Y0, x + 2000, Y0 + 2000))
        landuse += [(box(x, Y0 + 1000, x + 2000, Y0 + 2000), "0301"),            # forest in the north
                    (box(x, Y0, x + 2000, Y0 + 1000), "0101"),                   # paddy fields in the south
                    (box(x + 200, Y0 + 200, x + 200 + h * 1000, Y0 + 800), "0701" if i % 2 else "0702")]
    landuse.append((box(X0, Y0 + 900, X0 + 10_000, Y0 + 1000), "1101"))  # a river across all
    landuse.append((box(X0 + 8200, Y0 + 100, X0 + 9800, Y0 + 400), "1007"))  # an airfield in the last one
    d = gpd.GeoDataFrame({"XZQDM": [f"35090{i + 1}" for i in range(5)], "XZQMC": list("甲乙丙丁戊")},
                         geometry=districts, crs=CRS)
    lu = gpd.GeoDataFrame({"DLBM": [c for _, c in landuse]}, geometry=[g for g, _ in landuse], crs=CRS)
    pop = np.array([4_000, 9_000, 15_000, 21_000, 30_000])
    return d, lu, pop


@pytest.fixture(scope="module")
def model():
    d, lu, pop = _layers()
    return model_population(d, lu, population=pop, metric_crs=CRS, cell_m=100.0, n_estimators=60, seed=3)


def _cells(raster, geom):
    from rasterio import features

    return features.rasterize([(geom, 1)], out_shape=raster.values.shape, transform=raster.transform,
                              fill=0, dtype="uint8").astype(bool)


def test_district_totals_are_kept_exactly_in_whole_persons(model):
    d, _, pop = _layers()
    v = model.raster.values
    assert np.array_equal(v[v >= 0], np.round(v[v >= 0]))
    assert model.districts["grid_total"].tolist() == pop.tolist() == model.districts["census"].tolist()
    assert model.summary["totals_exact"] and model.summary["population"] == pop.sum()
    # the project reads the same totals back (same cell-centre rule)
    proj = gp.project_from_layers(districts=d, population=model.raster, name="t", metric_crs=CRS)
    assert proj.raster_population.tolist() == pop.tolist()


def test_nobody_on_forest_water_or_the_airfield_and_most_in_housing(model):
    r = model.raster
    forest = _cells(r, box(X0, Y0 + 1000, X0 + 10_000, Y0 + 2000))
    airfield = _cells(r, box(X0 + 8200, Y0 + 100, X0 + 9800, Y0 + 400))
    assert r.values[forest].sum() == 0 and r.values[airfield].sum() == 0
    housing = np.zeros_like(forest)
    for i, h in enumerate(HOUSING_KM):
        housing |= _cells(r, box(X0 + 2000 * i + 200, Y0 + 200, X0 + 2000 * i + 200 + h * 1000, Y0 + 800))
    assert r.values[housing].sum() > 0.6 * r.values[r.values > 0].sum()


def test_leave_one_out_error_is_reported_against_one_average_density(model):
    t = model.districts
    assert np.isfinite(t["loo_forest"]).all() and np.isfinite(t["loo_baseline"]).all()
    s = model.summary
    assert s["trained_on"] == 5 and 0 <= s["loo_median_ape_forest"] <= s["loo_mape_forest"] * 5
    assert s["loo_mape_baseline"] > 0 and set(model.importances) == set(s["covariates"])
    assert abs(sum(model.importances.values()) - 1.0) < 1e-6
    # the grid's weights are those of the model that predicts left-out districts better
    better = "forest" if s["loo_mape_forest"] <= s["loo_mape_classes"] else "classes"
    assert s["model"] == better and s["loo_mape_classes"] < s["loo_mape_baseline"]
    assert s["class_density_km2"]["urban_housing"] > s["class_density_km2"]["other"]


def test_buildings_let_people_live_where_land_use_says_forest():
    d, lu, pop = _layers()
    houses, floors = [], []
    for i, h in enumerate(HOUSING_KM):  # footprints over every housing block ...
        for x in np.arange(X0 + 2000 * i + 220, X0 + 2000 * i + 200 + h * 1000 - 30, 50.0):
            for y in np.arange(Y0 + 220, Y0 + 780, 50.0):
                houses.append(box(x, y, x + 30, y + 30))
                floors.append(6.0 if i % 2 else 2.0)
    village = [box(X0 + 505 + 40 * k, Y0 + 1505, X0 + 535 + 40 * k, Y0 + 1535) for k in range(4)]
    b = gpd.GeoDataFrame({"FLOORS": floors + [2.0] * 4}, geometry=houses + village, crs=CRS)  # ... and a village
    m = model_population(d, lu, population=pop, metric_crs=CRS, cell_m=100.0, buildings=b, n_estimators=40, seed=3)
    assert m.raster.values[_cells(m.raster, box(X0 + 500, Y0 + 1500, X0 + 700, Y0 + 1600))].sum() > 0
    assert "building_share" in m.summary["covariates"] and m.summary["class_density_km2"]["buildings"] > 0
    forest = _cells(m.raster, box(X0 + 2000, Y0 + 1000, X0 + 10_000, Y0 + 2000))  # no buildings there
    assert m.raster.values[forest].sum() == 0
    assert m.districts["grid_total"].tolist() == pop.tolist()


def test_bad_inputs_are_reported_with_layer_and_fix():
    d, lu, pop = _layers()
    bad = lu.copy()
    bad.loc[0, "DLBM"] = "9999"
    bad.loc[1, "DLBM"] = "XX"
    with pytest.raises(ValidationError, match="unknown land-use code\\(s\\) 9999, XX.*values"):
        model_population(d, bad, population=pop, metric_crs=CRS)
    with pytest.raises(ValidationError, match="no census total for 350902"):
        model_population(d, lu, population=np.array([1.0, np.nan, 1, 1, 1]), metric_crs=CRS)
    with pytest.raises(ValidationError, match="too few"):
        model_population(d.iloc[:2], lu, population=pop[:2], metric_crs=CRS)
    assert landuse_group("1104") == "water" and landuse_group("203") == "rural_housing"


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.floats(0, 1e3)), min_size=1, max_size=60),
       st.lists(st.integers(0, 10_000), min_size=4, max_size=4))
def test_largest_remainder_cells_adds_up_exactly(cells, totals):
    g = np.array([c for c, _ in cells])
    w = np.array([x for _, x in cells])
    tot = np.array(totals)
    tot[np.bincount(g, minlength=4) == 0] = 0  # a group without cells can hold nobody
    out = largest_remainder_cells(w, g, tot)
    assert (out >= 0).all() and np.bincount(g, weights=out, minlength=4).astype(int).tolist() == tot.tolist()


def test_cli_population_writes_once_and_reports(capsys, tmp_path):
    d, lu, pop = _layers()
    io.write_vector(d.assign(POP=pop), tmp_path / "d.gpkg", layer="districts", driver="GPKG")
    io.write_vector(lu.to_crs(4490), tmp_path / "lu.gpkg", layer="landuse", driver="GPKG")
    (tmp_path / "geoplan.toml").write_text('[project]\nname = "t"\nmetric_crs = "EPSG:4548"\n'
                                           '[layers.districts]\npath = "d.gpkg"\n[layers.landuse]\npath = "lu.gpkg"\n'
                                           '[layers.population]\npath = "pop_100m.tif"\n', encoding="utf-8")
    args = ["population", "--project", str(tmp_path / "geoplan.toml"), "--trees", "30", "--quiet"]
    code, out, err = run(capsys, *args, "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["schema"] == "geoplan.population/1" and data["summary"]["totals_exact"]
    assert data["out"] == str((tmp_path / "pop_100m.tif").resolve())
    raster = io.read_raster(tmp_path / "pop_100m.tif")
    assert raster.values[raster.valid].sum() == pop.sum()
    code, _, err = run(capsys, *args)
    assert code == 5 and "already exists" in err and "--overwrite" in err  # never replaced unless asked
    code, _, err = run(capsys, *args, "--out", str(tmp_path / "lu.gpkg"), "--overwrite")
    assert code == 5 and "input of the project" in err  # the project's own files: never
    code, out, _ = run(capsys, *args, "--out", str(tmp_path / "p2.tif"), "--cell-m", "200")
    assert code == 0 and "Leave-one-district-out error" in out and "[layers.population]" in out
    code, _, err = run(capsys, "population", "--quiet")
    assert code == 4 and "--project" in err
