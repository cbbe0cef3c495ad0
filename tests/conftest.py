"""Shared fixtures: the embedded Xiamen project and a tiny hand-made project.

Generated data (the Fujian project) goes to a temporary folder for the whole run
(``$GEOPLAN_DATA_DIR``, also seen by the CLI and app subprocesses), never to the
user's data folder.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from affine import Affine
from pyproj import CRS
from shapely.geometry import Point, box

import geoplan as gp
from geoplan.io import DATA_DIR_ENV, Raster

#: The checkout (for files that do not ship in the wheel: ``apps/``, ``geoplan/`` sources).
REPO_ROOT = Path(__file__).resolve().parent.parent

_saved_data_dir: list[str | None] = []


def pytest_configure(config):
    """Point ``$GEOPLAN_DATA_DIR`` at a fresh temporary folder before anything is collected or run."""
    _saved_data_dir.append(os.environ.get(DATA_DIR_ENV))
    os.environ[DATA_DIR_ENV] = tempfile.mkdtemp(prefix="geoplan-test-data-")


def pytest_unconfigure(config):
    shutil.rmtree(os.environ[DATA_DIR_ENV], ignore_errors=True)
    before = _saved_data_dir.pop() if _saved_data_dir else None
    if before is None:
        os.environ.pop(DATA_DIR_ENV, None)
    else:
        os.environ[DATA_DIR_ENV] = before


@pytest.fixture(scope="session")
def xiamen() -> gp.Project:
    """The embedded Xiamen project (loaded once per test session)."""
    return gp.load_project()


def tiny_layers(*, pop_a: float = 10_000.0, pop_b: float = 5_000.0, sites_a: int = 20, sites_b: int = 20):
    """Two 1 km × 1 km districts side by side in EPSG:4548 with a 100 m raster and point sites.

    District A (350901) holds ``pop_a`` persons spread evenly, B (350902) ``pop_b``.
    """
    x0, y0 = 600_000.0, 2_700_000.0
    crs = CRS.from_epsg(4548)
    districts = gpd.GeoDataFrame(
        {"XZQDM": ["350901", "350902"], "XZQMC": ["甲区", "乙区"]},
        geometry=[box(x0, y0, x0 + 1000, y0 + 1000), box(x0 + 1000, y0, x0 + 2000, y0 + 1000)], crs=crs)
    values = np.zeros((10, 20))
    values[:, :10] = pop_a / 100
    values[:, 10:] = pop_b / 100
    raster = Raster(values=values, transform=Affine(100, 0, x0, 0, -100, y0 + 1000), crs=crs, nodata=-1.0)
    rng = np.random.default_rng(0)
    pts = [Point(x0 + rng.uniform(50, 950), y0 + rng.uniform(50, 950)) for _ in range(sites_a)]
    pts += [Point(x0 + 1000 + rng.uniform(50, 950), y0 + rng.uniform(50, 950)) for _ in range(sites_b)]
    sites = gpd.GeoDataFrame({"SITE_ID": [f"S{i}" for i in range(len(pts))],
                              "SITE_TYPE": ["macro"] * len(pts)}, geometry=pts, crs=crs)
    return districts, raster, sites


@pytest.fixture()
def tiny() -> gp.Project:
    districts, raster, sites = tiny_layers()
    return gp.project_from_layers(districts=districts, population=raster, layers={"sites": sites},
                                  plan="xiamen", name="tiny", metric_crs="EPSG:4548")


@pytest.fixture()
def tiny_project_file(tmp_path):
    """The tiny project written to disk with a geoplan.toml (for CLI tests)."""
    from geoplan import io

    districts, raster, sites = tiny_layers()
    io.write_vector(districts, tmp_path / "districts.gpkg", layer="districts", driver="GPKG")
    io.write_raster(raster, tmp_path / "pop.tif")
    io.write_vector(sites, tmp_path / "sites.gpkg", layer="sites", driver="GPKG")
    (tmp_path / "geoplan.toml").write_text(
        '[project]\nname = "tiny"\nplan = "xiamen"\nmetric_crs = "EPSG:4548"\n'
        '[layers.districts]\npath = "districts.gpkg"\n[layers.population]\npath = "pop.tif"\n'
        '[layers.sites]\npath = "sites.gpkg"\n', encoding="utf-8")
    return tmp_path / "geoplan.toml"
