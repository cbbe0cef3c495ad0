"""The per-district pipeline on a dask LocalCluster gives exactly the single-machine results."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import geoplan as gp
from geoplan import chunked
from geoplan.placement import place_sites

from .conftest import tiny_plan
from .test_province import synthetic_layers


@pytest.fixture(scope="module")
def proj() -> gp.Project:
    districts, raster, sites = synthetic_layers(seed=11)
    return gp.project_from_layers(districts=districts, population=raster, layers={"sites": sites},
                                  plan=tiny_plan(), name="synthetic", metric_crs="EPSG:4548")


@pytest.fixture(scope="module")
def client():
    from geoplan.distributed import local_client

    with local_client(n_workers=2, processes=False) as c:
        yield c


def test_import_geoplan_does_not_import_dask():
    code = ("import sys, geoplan, geoplan.chunked, geoplan.province; "
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed', 'dask_geopandas')); "
            "print(bad); sys.exit(1 if bad else 0)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.dask
def test_zonal_sums_and_coverage_identical(proj, client):
    from geoplan import distributed

    np.testing.assert_array_equal(distributed.zonal_sums(proj, client=client), chunked.zonal_sums(proj))
    a = chunked.coverage(proj, return_cells=True)
    b = distributed.coverage(proj, client=client, return_cells=True)
    pd.testing.assert_frame_equal(a.table, b.table, check_exact=True)
    assert a.total == b.total
    for x, y in zip(a.counties, b.counties, strict=True):
        np.testing.assert_array_equal(x.covered, y.covered)
        np.testing.assert_array_equal(x.rows, y.rows)
    assert 0 < a.total.coverage < 1  # a real test: some cells covered, some not


@pytest.mark.dask
def test_placement_identical(proj, client):
    from geoplan import distributed

    a = place_sites(proj, engine="chunked", year=2025, seed=5)
    b = distributed.place_sites(proj, client=client, year=2025, seed=5)
    pd.testing.assert_frame_equal(a.districts, b.districts, check_exact=True)
    pd.testing.assert_frame_equal(a.sites.drop(columns="geometry"), b.sites.drop(columns="geometry"),
                                  check_exact=True)
    assert a.sites.geometry.geom_equals_exact(b.sites.geometry, tolerance=0).all()
    assert len(a.sites) > 0 and a.summary.new == b.summary.new
    for k in ("objective", "coverage_before", "coverage_after", "gap", "allocation"):
        assert getattr(a.summary, k) == getattr(b.summary, k), k


@pytest.mark.dask
def test_stations_per_district_by_dask_geopandas(proj, client):
    from geoplan import distributed

    idx = proj.district_of("sites")
    want = np.bincount(idx[idx >= 0], minlength=len(proj.districts))
    got = distributed.stations_per_district(proj, client=client, npartitions=3)
    np.testing.assert_array_equal(got, want)
    assert got[3] == 3  # the sites on the no-data cells of the fourth district


@pytest.mark.dask
def test_worker_processes_give_the_same_coverage(proj):
    from geoplan import distributed

    with distributed.local_client(n_workers=2, processes=True) as c:
        b = distributed.coverage(proj, client=c)
    a = chunked.coverage(proj)
    pd.testing.assert_frame_equal(a.table, b.table, check_exact=True)
