"""How the CLI ends: exit codes, one-line internal errors, warnings in JSON, data printed as plain text."""

from __future__ import annotations

import json
import subprocess
import sys

import geopandas as gpd
import pytest
from shapely.geometry import Point

from geoplan import io
from geoplan.cli import _app, main
from geoplan.errors import (
    ConfigError,
    CRSError,
    InfeasibleError,
    ReadError,
    SolverError,
    ValidationError,
    WriteError,
)

from .conftest import tiny_layers


def run(capsys, *args):
    with pytest.raises(SystemExit) as ei:
        main(list(args))
    out = capsys.readouterr()
    return ei.value.code, out.out, out.err


def test_exit_codes_are_documented_per_error_class():
    assert {c.__name__: c.exit_code for c in (ValidationError, CRSError, ConfigError, ReadError, WriteError,
                                              InfeasibleError, SolverError)} == {
        "ValidationError": 3, "CRSError": 3, "ConfigError": 4, "ReadError": 5, "WriteError": 5,
        "InfeasibleError": 6, "SolverError": 7}
    assert _app.EXIT_CODES[ConfigError] == 4


def _bracket_project(tmp_path):
    districts, raster, sites = tiny_layers()
    districts["XZQMC"] = ["[/]甲区", "[population_stats]乙区"]
    io.write_vector(districts, tmp_path / "districts.gpkg", layer="districts")
    io.write_raster(raster, tmp_path / "pop.tif")
    io.write_vector(sites, tmp_path / "sites.gpkg", layer="sites")
    (tmp_path / "[").mkdir()  # the project file's path holds "[/]"
    (tmp_path / "[/]p.toml").write_text('[project]\nname = "[bold]x[/]"\nplan = "xiamen"\nxzqdm = "350200"\n'
                                        '[layers.districts]\npath = "../districts.gpkg"\n[layers.population]\n'
                                        'path = "../pop.tif"\n[layers.sites]\npath = "../sites.gpkg"\n',
                                        encoding="utf-8")
    return tmp_path / "[/]p.toml"


def test_names_with_rich_markup_print_as_written(capsys, tmp_path):
    proj = _bracket_project(tmp_path)
    code, out, err = run(capsys, "check", "--project", str(proj))
    assert code == 0, err
    assert "[/]甲区" in out and "[population_stats]乙区" in out, out
    code, _, err = run(capsys, "check", "--project", str(proj), "--population-year", "2031")
    assert code == 4 and "[population_stats]" in err, err  # the fix names the section
    code, _, err = run(capsys, "check", "--project", str(tmp_path / "[/]missing.toml"))
    assert code == 5 and "[/]missing.toml" in err and "Traceback" not in err
    code, _, err = run(capsys, "place", "sites", "--year", "2025", "--project", str(proj), "--out",
                       str(tmp_path / "[/]out.txt"))
    assert code == 4 and "]out.txt" in err


def test_internal_errors_are_one_line_unless_debugging(capsys, monkeypatch, tiny_project_file):
    import geoplan.cli.check as check_cmd

    def boom(*a, **k):
        raise TypeError("unsupported operand")

    monkeypatch.setattr(check_cmd, "check_plan", boom)
    code, out, err = run(capsys, "check", "--project", str(tiny_project_file))
    assert code == 1 and out == ""
    assert err.strip().count("\n") == 0 and "internal error, please report it: TypeError: unsupported operand" in err
    assert "Traceback" not in err
    code, _, err = run(capsys, "--debug", "check", "--project", str(tiny_project_file))
    assert code == 1 and "Traceback" in err
    monkeypatch.setenv("GEOPLAN_DEBUG", "1")
    code, _, err = run(capsys, "check", "--project", str(tiny_project_file), "--format", "json")
    assert code == 1 and "Traceback" in err and json.loads(err.strip().splitlines()[-1])["error"] == "InternalError"


def test_out_of_memory_is_a_message(capsys, monkeypatch, tiny_project_file):
    import geoplan.cli.check as check_cmd

    def oom(*a, **k):
        raise MemoryError()

    monkeypatch.setattr(check_cmd, "check_plan", oom)
    code, _, err = run(capsys, "check", "--project", str(tiny_project_file))
    assert code == 1 and "not enough memory" in err and "Traceback" not in err


def test_warnings_go_to_stderr_and_into_json(capsys, tmp_path):
    districts, raster, sites = tiny_layers()
    sites.loc[0, "geometry"] = Point(600_000 + 5_000, 2_700_500)
    io.write_vector(districts, tmp_path / "d.gpkg", layer="districts")
    io.write_raster(raster, tmp_path / "pop.tif")
    io.write_vector(sites, tmp_path / "s.gpkg", layer="sites")
    (tmp_path / "g.toml").write_text('[project]\nplan = "xiamen"\nxzqdm = "350200"\n'
                                     '[layers.districts]\npath = "d.gpkg"\n[layers.population]\npath = "pop.tif"\n'
                                     '[layers.sites]\npath = "s.gpkg"\n', encoding="utf-8")
    code, out, _ = run(capsys, "check", "--project", str(tmp_path / "g.toml"), "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert any("1 of 40 features lie outside every district" in w for w in data["warnings"])


def test_json_output_has_no_nan(capsys):
    _app.emit({"a": float("nan"), "b": [float("inf"), 1.5]}, _app.Format.json)
    assert json.loads(capsys.readouterr().out) == {"a": None, "b": [None, 1.5]}


def test_a_subprocess_run_reports_warnings_on_stderr_only(tmp_path):
    """stdout holds only the JSON; the GBK note goes to stderr."""
    districts, raster, _ = tiny_layers()
    io.write_vector(districts, tmp_path / "d.gpkg", layer="districts")
    io.write_raster(raster, tmp_path / "pop.tif")
    (tmp_path / "g.toml").write_bytes('[project]\nname = "厦门"\nplan = "xiamen"\nxzqdm = "350200"\n'
                                      '[layers.districts]\npath = "d.gpkg"\n'
                                      '[layers.population]\npath = "pop.tif"\n'.encode("gbk"))
    p = subprocess.run([sys.executable, "-m", "geoplan", "check", "--project", str(tmp_path / "g.toml"),
                        "--format", "json"], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["warnings"] and "read as GBK" in p.stderr


def test_modelled_written_as_text_is_read_right(tmp_path):
    import geoplan as gp

    districts, raster, sites = tiny_layers()
    io.write_vector(districts, tmp_path / "d.gpkg", layer="districts")
    io.write_raster(raster, tmp_path / "pop.tif")
    io.write_vector(sites, tmp_path / "s.gpkg", layer="sites")
    (tmp_path / "g.toml").write_text('[layers.districts]\npath = "d.gpkg"\n[layers.population]\npath = "pop.tif"\n'
                                     'modelled = "yes"\n[layers.sites]\npath = "s.gpkg"\nmodelled = "no"\n'
                                     'crs = 4548\n', encoding="utf-8")
    proj = gp.load_project(tmp_path / "g.toml")
    assert not proj.is_modelled("sites") and proj.is_modelled("population")
    assert isinstance(proj.layer("sites"), gpd.GeoDataFrame)
