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
from geoplan.targets import plan_from_dict

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


#: Targets of the tiny test city (two districts, codes 350901/350902 → area 350900): the Xiamen plan's figures,
#: binding every district, so the hand-made arithmetic of the tests stays the same.
TINY_TARGETS = {
    "plan": {"key": "tiny", "title": "测试市 test targets", "scope": "测试市", "xzqdm": "350900",
             "years": [2023, 2024, 2025], "baseline_year": 2022, "modelled": True, "note": "test targets"},
    "targets": {"per_10k": {"by_year": {"2023": 25, "2024": 29, "2025": 33}, "applies_to": "district",
                            "baseline": 20.5},
                "stations": {"by_year": {"2025": 60}},
                "edge_dc": {"by_year": {"2025": 32}, "quote": "test"},
                "latency_ms": {"by_year": {"2025": 1}, "quote": "test"},
                "charging_share": {"by_year": {"2025": 0.2}, "quote": "test"}},
}
TINY_TARGETS_TOML = """[plan]
key = "tiny"
title = "测试市 test targets"
scope = "测试市"
xzqdm = "350900"
years = [2023, 2024, 2025]
baseline_year = 2022
modelled = true
note = "test targets"

[targets.per_10k]
by_year = { 2023 = 25, 2024 = 29, 2025 = 33 }
applies_to = "district"
baseline = 20.5

[targets.stations]
by_year = { 2025 = 60 }

[targets.edge_dc]
by_year = { 2025 = 32 }
quote = "test"

[targets.latency_ms]
by_year = { 2025 = 1 }
quote = "test"

[targets.charging_share]
by_year = { 2025 = 0.2 }
quote = "test"
"""


def tiny_plan() -> gp.targets.Plan:
    """The tiny test city's targets (:data:`TINY_TARGETS`)."""
    return plan_from_dict(TINY_TARGETS, source="tests/conftest.py")


@pytest.fixture(scope="session", autouse=True)
def _user_folders(tmp_path_factory):
    """Workspaces and caches of the test session go to temporary folders, never the user's own."""
    import os

    saved = {k: os.environ.get(k) for k in ("GEOPLAN_WORKSPACE_DIR", "GEOPLAN_CACHE_DIR")}
    os.environ["GEOPLAN_WORKSPACE_DIR"] = str(tmp_path_factory.mktemp("workspaces"))
    os.environ["GEOPLAN_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    yield
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


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
                                  plan=tiny_plan(), name="tiny", metric_crs="EPSG:4548")


@pytest.fixture()
def tiny_project_file(tmp_path):
    """The tiny project written to disk with a geoplan.toml (for CLI tests)."""
    from geoplan import io

    districts, raster, sites = tiny_layers()
    io.write_vector(districts, tmp_path / "districts.gpkg", layer="districts", driver="GPKG")
    io.write_raster(raster, tmp_path / "pop.tif")
    io.write_vector(sites, tmp_path / "sites.gpkg", layer="sites", driver="GPKG")
    (tmp_path / "targets.toml").write_text(TINY_TARGETS_TOML, encoding="utf-8")
    (tmp_path / "geoplan.toml").write_text(
        '[project]\nname = "tiny"\ntargets = "targets.toml"\nmetric_crs = "EPSG:4548"\n'
        '[layers.districts]\npath = "districts.gpkg"\n[layers.population]\npath = "pop.tif"\n'
        '[layers.sites]\npath = "sites.gpkg"\n', encoding="utf-8")
    return tmp_path / "geoplan.toml"
