"""Fault injection: SIGINT and SIGTERM sent to running ``geoplan export`` and ``geoplan place sites``.

A child process runs the real CLI with one step slowed down (the GDAL write, after
it has put part of the output in the staging folder, or the project load); the
test waits for that step, sends the signal and checks: exit code 130 / 143, one
line on stderr, no partial or temporary file, and every earlier file as it was.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX signals")

CHILD = r"""
import os, sys, time
marker, step = os.environ["GEOPLAN_TEST_MARKER"], os.environ["GEOPLAN_TEST_STEP"]
import pyogrio
import geoplan.project as project
from geoplan.cli import main

def stall():
    open(marker, "w").close()
    time.sleep(120)

if step == "write":
    real_write = pyogrio.write_dataframe
    def slow_write(*a, **k):
        real_write(*a, **k)  # part of the output is now in the staging folder
        stall()
    pyogrio.write_dataframe = slow_write
else:
    real_assemble = project._assemble
    def slow_assemble(**k):
        stall()
        return real_assemble(**k)
    project._assemble = slow_assemble
main(sys.argv[1:])
"""


def _tree(root: Path) -> dict[str, bytes | None]:
    return {p.relative_to(root).as_posix(): (p.read_bytes() if p.is_file() else None) for p in sorted(root.rglob("*"))}


def _wait_for(path: Path, proc: subprocess.Popen[str], timeout: float = 120) -> None:
    end = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            raise AssertionError(f"the command ended ({proc.returncode}) before the step: {proc.stderr.read()}")
        if time.monotonic() > end:
            proc.kill()
            raise AssertionError("the command never reached the step")
        time.sleep(0.02)


def _start(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(argv, cwd=cwd, env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def _interrupt(args: list[str], cwd: Path, sig: signal.Signals, *, step: str) -> tuple[int, str, str]:
    marker = cwd.parent / f"reached-{cwd.name}-{step}-{sig.name}"
    assert not marker.exists()
    proc = _start([sys.executable, "-c", CHILD, *args], cwd, {"GEOPLAN_TEST_MARKER": str(marker),
                                                              "GEOPLAN_TEST_STEP": step})
    _wait_for(marker, proc)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=120)
    return proc.returncode, out, err


@pytest.fixture()
def workdir(tiny_project_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An output folder holding a planner's files, beside the tiny project."""
    out = tmp_path_factory.mktemp("out")
    (out / "notes.txt").write_text("the planner's notes", encoding="utf-8")
    (out / "plan.gpkg").write_bytes(b"an earlier plan the planner keeps")
    return out


def _assert_clean(code: int, err: str, sig: signal.Signals, before: dict[str, bytes | None], folder: Path) -> None:
    assert code == 128 + sig.value, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Interrupted") and sig.name in lines[0], err
    assert "Traceback" not in err
    assert _tree(folder) == before  # no partial output, no staging folder, earlier files untouched


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupted_export_leaves_nothing_and_keeps_the_earlier_file(sig, tiny_project_file, workdir):
    before = _tree(workdir)
    code, out, err = _interrupt(["export", "--project", str(tiny_project_file), "--to", "plan.gpkg", "--overwrite"],
                                workdir, sig, step="write")
    _assert_clean(code, err, sig, before, workdir)
    assert out == ""


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupted_place_sites_while_writing(sig, tiny_project_file, workdir):
    before = _tree(workdir)
    code, _, err = _interrupt(["place", "sites", "--year", "2025", "--quiet", "--project", str(tiny_project_file),
                               "--out", "new_plan.shp"], workdir, sig, step="write")
    _assert_clean(code, err, sig, before, workdir)


def test_interrupted_place_sites_while_loading_in_json_mode(tiny_project_file, workdir):
    before = _tree(workdir)
    code, out, err = _interrupt(["place", "sites", "--year", "2025", "--format", "json", "--project",
                                 str(tiny_project_file), "--out", "plan.gpkg", "--overwrite"], workdir,
                                signal.SIGTERM, step="load")
    assert code == 143 and out == "" and _tree(workdir) == before
    payload = json.loads(err.strip().splitlines()[-1])
    assert payload["error"] == "Interrupted" and payload["signal"] == "SIGTERM" and payload["exit_code"] == 143


def test_interrupted_redelivery_keeps_the_earlier_delivery(tiny_project_file, workdir):
    from geoplan import export, load_project

    export.export_project(load_project(tiny_project_file), workdir / "delivery", format="shp")
    (workdir / "delivery" / "bureau.txt").write_text("received 2025-06-01", encoding="utf-8")
    before = _tree(workdir)
    code, _, err = _interrupt(["export", "--project", str(tiny_project_file), "--to", "delivery", "--format", "shp",
                               "--crs", "4548", "--overwrite"], workdir, signal.SIGINT, step="write")
    _assert_clean(code, err, signal.SIGINT, before, workdir)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_the_geoplan_command_itself(sig, tiny_project_file, workdir):
    """No injected delay: the signal goes in as soon as the staging folder appears (or at once, while starting)."""
    exe = shutil.which("geoplan", path=str(Path(sys.executable).parent))
    if exe is None:
        pytest.skip("the geoplan console script is not installed beside this Python")
    before = _tree(workdir)
    proc = _start([exe, "export", "--project", str(tiny_project_file), "--to", "fresh.gpkg"], workdir, {})
    if sig is signal.SIGINT:  # at once: while Python loads its libraries
        time.sleep(0.3)
    else:
        end = time.monotonic() + 120
        while not any(p.name.startswith(".geoplan-tmp-") for p in workdir.iterdir()) and proc.poll() is None:
            assert time.monotonic() < end
            time.sleep(0.005)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    if proc.returncode == 0:  # finished before the signal was handled: the output is whole
        assert (workdir / "fresh.gpkg").stat().st_size > 0
        return
    assert proc.returncode == 128 + sig.value, err
    assert len(err.strip().splitlines()) == 1 and "Interrupted" in err and "Traceback" not in err
    after = _tree(workdir)
    assert {k: v for k, v in after.items() if k != "fresh.gpkg"} == before
    assert not [k for k in after if k.startswith(".geoplan")]
