"""The package as a user gets it: build the sdist and the wheel, install the wheel in a fresh venv, run it.

One test, in steps (~1 min, most of it pip installing the dependencies from its cache and the 100 m
Fujian build): the sdist and wheel are built from a copy of the source tree with ``python -m build``
(the wheel from the unpacked sdist, as PyPA tools do); every module, layer spec and data file of the
source tree must be in the wheel; the wheel goes into a new venv (with its dependencies, from pip's
index and cache); the commands run from an empty folder outside the checkout with ``$HOME`` and
``$GEOPLAN_DATA_DIR`` in temporary folders and the bytecode cache elsewhere
(``PYTHONPYCACHEPREFIX``), so the installation must stay byte for byte as pip left it:
``geoplan check`` and ``geoplan place sites`` give the same numbers and the same planned sites as the
checkout, and ``geoplan check --plan fujian`` builds the province project in ``$GEOPLAN_DATA_DIR``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pyogrio
import pytest
from geopandas.testing import assert_geodataframe_equal
from pandas.testing import assert_frame_equal

from .conftest import REPO_ROOT
from .test_cli import run

pytestmark = pytest.mark.slow

#: Source-tree folders that ship, and where they land in the wheel (pyproject's package-dir).
SHIPPED = {"layers": "geoplan/_layers", "data/gis": "geoplan/_data", "geoplan": "geoplan"}
#: Not copied for the build: tool state, build output, generated data, the browser's vendored assets.
_SKIP_TOP = {".git", ".venv", "build", "dist", ".pytest_cache", ".mypy_cache", ".ruff_cache", "apps",
             "benchmarks", "tests"}
_SKIP_ANY = {"__pycache__", "geoplan.egg-info"}
#: Keys whose values differ between two runs of the same plan (wall time, output path).
_VOLATILE = {"runtime_s", "out"}


def _ignore(src: str, names: list[str]) -> set[str]:
    here = Path(src).resolve()
    skip = {n for n in names if n in _SKIP_ANY}
    if here == REPO_ROOT:
        skip |= {n for n in names if n in _SKIP_TOP}
    if here == REPO_ROOT / "data":
        skip |= {n for n in names if n != "gis"}  # data/fujian/ of an older checkout is generated
    return skip


def _shipped_files(root: Path) -> set[str]:
    """Wheel paths the files of the source tree's shipped folders must have."""
    out = set()
    for src, dest in SHIPPED.items():
        for f in (root / src).rglob("*"):
            if f.is_file() and "__pycache__" not in f.parts:
                out.add(f"{dest}/{f.relative_to(root / src).as_posix()}")
    return out


def _snapshot(venv: Path) -> dict[str, tuple[int, int]]:
    """Size and modification time of every file in the venv."""
    return {str(p.relative_to(venv)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in venv.rglob("*") if p.is_file() and not p.is_symlink()}


def _digest(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(folder)).encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


def _strip(x: object) -> object:
    if isinstance(x, dict):
        return {k: _strip(v) for k, v in x.items() if k not in _VOLATILE}
    if isinstance(x, list):
        return [_strip(v) for v in x]
    return x


def _sh(cmd: list[str | Path], *, cwd: Path, env: dict[str, str] | None = None, timeout: float = 600) -> str:
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))} exited {proc.returncode}:\n{proc.stderr[-4000:]}"
    return proc.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel, built from the sdist of a copy of the source tree."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    shutil.copytree(REPO_ROOT, src, ignore=_ignore)
    _sh([sys.executable, "-m", "build", "--outdir", tmp / "dist", src], cwd=tmp)
    wheels = sorted((tmp / "dist").glob("geoplan-*.whl"))
    assert len(wheels) == 1 and len(list((tmp / "dist").glob("geoplan-*.tar.gz"))) == 1
    names = set(zipfile.ZipFile(wheels[0]).namelist())
    missing = _shipped_files(src) - names
    assert not missing, f"not in the wheel (add them to pyproject's packages / package-data): {sorted(missing)}"
    assert not any(n.startswith(("layers/", "data/", "tests/")) for n in names)  # nothing top-level but geoplan
    return wheels[0]


def test_the_wheel_installs_and_runs_outside_the_checkout(wheel, tmp_path, capsys):
    venv, work, home, data = (tmp_path / d for d in ("venv", "work", "home", "data"))
    for d in (work, home):
        d.mkdir()
    _sh([sys.executable, "-m", "venv", venv], cwd=tmp_path)
    _sh([venv / "bin" / "python", "-m", "pip", "install", "--quiet", "--no-compile", wheel], cwd=tmp_path)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env.update(HOME=str(home), GEOPLAN_DATA_DIR=str(data), PYTHONPYCACHEPREFIX=str(tmp_path / "pycache"))
    site = Path(_sh([venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                    cwd=work, env=env).strip())
    before, digest = _snapshot(venv), _digest(site / "geoplan")

    where = _sh([venv / "bin" / "python", "-c", "import geoplan, geoplan.io as io; "
                 "print(geoplan.__file__); print(io.shipped('data/gis')); print(io.shipped('layers'))"],
                cwd=work, env=env).split()
    assert all(Path(p).is_relative_to(site / "geoplan") for p in where), where

    geoplan = venv / "bin" / "geoplan"
    check = json.loads(_sh([geoplan, "check", "--format", "json"], cwd=work, env=env))
    _, ref, _ = run(capsys, "check", "--format", "json")
    assert check["schema"] == "geoplan.check/1" and check == json.loads(ref)

    place = json.loads(_sh([geoplan, "place", "sites", "--year", "2025", "-q", "--out", "plan.gpkg",
                            "--format", "json"], cwd=work, env=env))
    _, ref, _ = run(capsys, "place", "sites", "--year", "2025", "-q", "--out", str(tmp_path / "ref.gpkg"),
                    "--format", "json")
    assert place["summary"]["new"] > 0 and _strip(place) == _strip(json.loads(ref))
    for layer in ("planned_sites", "density"):  # the plan file's layers (its geoplan_plan table has dates)
        got, ref_df = (pyogrio.read_dataframe(f, layer=layer) for f in (work / "plan.gpkg", tmp_path / "ref.gpkg"))
        (assert_geodataframe_equal if layer == "planned_sites" else assert_frame_equal)(got, ref_df)

    fujian = json.loads(_sh([geoplan, "check", "--plan", "fujian", "--format", "json"], cwd=work, env=env))
    assert fujian["plan"]["key"] == "fujian" and len(fujian["districts"]) == 84
    assert {p.name for p in (data / "fujian").iterdir()} >= {"geoplan.toml", "fujian_counties.gpkg",
                                                           "fujian_5g_sites.gpkg", "fujian_population_100m.tif"}

    assert _snapshot(venv) == before and _digest(site / "geoplan") == digest  # the installation is untouched
    assert sorted(p.name for p in work.iterdir()) == ["plan.gpkg"]
    assert not (home / ".local" / "share" / "geoplan").exists()
