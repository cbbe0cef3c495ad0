"""Plausibility checks (geoplan._plausible, _validate): what is warned about, what is refused, what passes."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import shapely
from shapely.geometry import MultiPoint, Point, box

import geoplan as gp
from geoplan.crs import wgs84_to_bd09

from .conftest import tiny_layers

X0, Y0 = 600_000.0, 2_700_000.0


def _project(**kw):
    districts, raster, sites = kw.pop("layers", tiny_layers())
    return gp.project_from_layers(districts=districts, population=raster, layers={"sites": sites},
                                  metric_crs="EPSG:4548", **kw)


def test_bd09_districts_declared_as_wgs84_are_warned_about(xiamen, caplog):
    shifted = xiamen.districts.copy()
    shifted.geometry = shapely.transform(shifted.geometry.to_numpy(),
                                         lambda c: np.column_stack(wgs84_to_bd09(c[:, 0], c[:, 1])))
    shifted = shifted.set_crs(4326, allow_override=True)
    with caplog.at_level(logging.WARNING, logger="geoplan._detect"):
        gp.project_from_layers(districts=shifted, population=xiamen.population, metric_crs="EPSG:4548",
                               population_stats=xiamen.population_stats)
    assert "layer districts looks shifted by the BD-09" in caplog.text and 'crs = "BD-09"' in caplog.text


def test_single_point_multipoints_are_points_and_stacks_are_warned(caplog):
    districts, raster, sites = tiny_layers()
    sites.geometry = [MultiPoint([p]) for p in sites.geometry]
    sites.loc[:11, "geometry"] = MultiPoint([Point(X0 + 500, Y0 + 500)])  # 12 sites on one tower
    with caplog.at_level(logging.WARNING):
        proj = _project(layers=(districts, raster, sites))
    assert set(proj.layer("sites").geom_type) == {"Point"}
    assert "share points with more than 10 others" in caplog.text


def test_sliver_overlaps_warn_and_real_overlaps_refuse(caplog):
    districts, raster, sites = tiny_layers()
    districts.loc[1, "geometry"] = box(X0 + 999.5, Y0, X0 + 2000, Y0 + 1000)  # a 0.5 m sliver
    with caplog.at_level(logging.WARNING, logger="geoplan._plausible"):
        _project(layers=(districts, raster, sites))
    assert "overlap by 0.05% of the smaller one" in caplog.text
    districts.loc[1, "geometry"] = box(X0 + 900, Y0, X0 + 2000, Y0 + 1000)
    with pytest.raises(gp.ValidationError, match="overlap by 10.0%"):
        _project(layers=(districts, raster, sites))


def test_population_totals_are_checked_against_the_districts(caplog):
    with caplog.at_level(logging.WARNING, logger="geoplan._plausible"):
        _project(population_stats={"census_total": 18_000})  # districts hold 15,000: 20 % off
    assert "differs from the districts' 15,000 residents by 20%" in caplog.text
    with pytest.raises(gp.ValidationError, match=r"census_total = 1,500 is 0\.1 times"):
        _project(population_stats={"census_total": 1_500})
    with pytest.raises(gp.ValidationError, match="yearend 2023"):
        _project(population_stats={"yearend": {"2023": 2}})


def test_a_district_without_statistics_may_have_no_residents():
    districts, raster, sites = tiny_layers()
    raster.values[:, 10:] = 0.0
    with pytest.raises(gp.ValidationError, match="no residents .乙区"):
        _project(layers=(districts, raster, sites))
    districts["NO_STATS"] = [0, 1]
    proj = _project(layers=(districts, raster, sites))
    assert proj.district_population.tolist()[1] == 0.0


def test_codes_of_9_and_12_digits_pass_and_integers_read_as_text():
    districts, raster, sites = tiny_layers()
    districts["XZQDM"] = ["350203001", "350203001001"]
    assert _project(layers=(districts, raster, sites)).district_codes == ["350203001", "350203001001"]
    districts["XZQDM"] = [350901.0, 350902.0]  # a code stored as a number
    assert _project(layers=(districts, raster, sites)).district_codes == ["350901", "350902"]
