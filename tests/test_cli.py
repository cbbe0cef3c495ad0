import json

import pytest

from geoplan.cli import main


def run(capsys, *args):
    with pytest.raises(SystemExit) as ei:
        main(list(args))
        raise SystemExit(0)
    out = capsys.readouterr()
    return ei.value.code or 0, out.out, out.err


def test_check_json_schema(capsys):
    code, out, _ = run(capsys, "check", "--year", "2025", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["schema"] == "geoplan.check/1"
    assert set(data) >= {"schema", "plan", "year", "indicator", "population_basis", "districts", "total",
                         "consistency", "modelled_layers"}
    assert data["plan"]["document"] == "厦府办〔2023〕58号"
    assert len(data["districts"]) == 6
    row_keys = {"XZQDM", "XZQMC", "population", "stations", "per_10k", "target_per_10k", "required", "shortfall",
                "meets_target", "binding"}
    for row in data["districts"]:
        assert set(row) == row_keys
        assert row["shortfall"] == max(0, row["required"] - row["stations"])
    assert sum(r["stations"] for r in data["districts"]) == data["total"]["stations"] == 10_881
    assert data["total"]["target_per_10k"] == 33
    assert data["consistency"]["station_target"]["stations"] == 18_500


def test_check_csv_has_total_row(capsys):
    code, out, _ = run(capsys, "check", "--format", "csv", "--year", "2023")
    lines = out.strip().splitlines()
    assert code == 0 and lines[0].startswith("\ufeffXZQDM,XZQMC,population,stations,per_10k")  # BOM for Excel
    assert len(lines) == 8 and "(total)" in lines[-1]
    assert ",25," in lines[1]  # 2023 target


def test_check_table(capsys):
    code, out, _ = run(capsys, "check")
    assert code == 0 and "思明区" in out and "Modelled" in out


def test_bad_year_is_a_clean_error(capsys):
    code, out, err = run(capsys, "check", "--year", "2030", "--format", "json")
    assert code == 4
    payload = json.loads(err)
    assert payload["error"] == "ConfigError" and "2025" in payload["message"]
    assert "Traceback" not in err


def test_missing_project_is_a_clean_error(capsys, tmp_path):
    code, _, err = run(capsys, "check", "--project", str(tmp_path / "none.toml"))
    assert code == 5 and "does not exist" in err and "Traceback" not in err


def test_place_sites_json_and_out(capsys, tiny_project_file, tmp_path):
    out = tmp_path / "planned.gpkg"
    code, stdout, _ = run(capsys, "place", "sites", "--year", "2025", "--format", "json",
                          "--project", str(tiny_project_file), "--out", str(out))
    assert code == 0
    data = json.loads(stdout)
    assert data["schema"] == "geoplan.place_sites/1"
    assert data["summary"]["new"] == 13 and data["summary"]["districts_meeting_target"] == 2
    import geopandas as gpd

    planned = gpd.read_file(out, layer="planned_sites")
    assert len(planned) == 13 and planned.crs.to_epsg() == 4490
    assert {"SITE_ID", "SITE_TYPE", "RANK", "GAIN_POP", "SOURCE"} <= set(planned.columns)


def test_place_sites_infeasible_is_clean(capsys, tiny_project_file):
    code, _, err = run(capsys, "place", "sites", "--total", "10", "--project", str(tiny_project_file))
    assert code == 6 and "below the 40 that already exist" in err and "Traceback" not in err


def test_whatif_json(capsys, tiny_project_file):
    code, stdout, _ = run(capsys, "whatif", "--total", "45", "--total", "60", "--format", "json",
                          "--project", str(tiny_project_file))
    assert code == 0
    data = json.loads(stdout)
    assert [s["summary"]["stations"] for s in data["scenarios"]] == [45, 60]
    assert data["scenarios"][1]["summary"]["districts_meeting_target"] == 2


def test_whatif_takes_several_totals_after_one_flag(capsys, tiny_project_file):
    code, stdout, _ = run(capsys, "whatif", "--total", "45", "50", "60", "--format", "json",
                          "--project", str(tiny_project_file))
    assert code == 0
    assert [s["summary"]["stations"] for s in json.loads(stdout)["scenarios"]] == [45, 50, 60]


def test_usage_errors_are_a_message_not_a_traceback(capsys):
    code, out, err = run(capsys, "check", "--no-such-option")
    assert code == 2 and "No such option: --no-such-option" in err and "Traceback" not in err + out
    code, out, err = run(capsys, "place", "sites", "--total", "many")
    assert code == 4 and "Invalid value for '--total'" in err and "Traceback" not in err + out


def test_place_sites_candidates_and_mix_options(capsys, tiny_project_file):
    code, stdout, _ = run(capsys, "place", "sites", "--year", "2025", "--candidates", "kmeans", "--mix",
                          "0.5,0.5,0", "--format", "json", "--quiet", "--project", str(tiny_project_file))
    assert code == 0
    data = json.loads(stdout)
    assert data["summary"]["districts_meeting_target"] == 2
    code, _, err = run(capsys, "place", "sites", "--year", "2025", "--mix", "0.5,0.5", "--project",
                       str(tiny_project_file))
    assert code == 4 and "three numbers" in err


@pytest.mark.parametrize("command", [["place", "sites", "--year", "2025"], ["place", "edge"], ["place", "charging"]])
def test_unknown_output_type_fails_before_any_work(capsys, tmp_path, command):
    out = tmp_path / "result.txt"
    code, _, err = run(capsys, *command, "--out", str(out))
    assert code == 4 and "cannot tell the file type of result.txt" in err and "*.gpkg" in err
    assert not out.exists() and list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- output hygiene (issue 15)


def test_exact_json_piped_into_json_tool_is_clean(tmp_path):
    """HiGHS prints its banner on the C-level stdout at Highs(): the CLI sends it to stderr."""
    import shlex
    import subprocess
    import sys

    geoplan = [sys.executable, "-c", "from geoplan.cli import main; main()"]
    cmd = (" ".join(shlex.quote(a) for a in geoplan) + " place sites --total 18500 --method exact --time-limit 5"
           f" --format json --quiet | {shlex.quote(sys.executable)} -m json.tool > {tmp_path / 'out.json'}")
    done = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    data = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    assert data["summary"]["method"] == "exact" and data["summary"]["stations"] == 18_500
    assert "HiGHS" not in (tmp_path / "out.json").read_text(encoding="utf-8")


def test_c_level_output_goes_to_stderr():
    """Whatever C code writes to file descriptor 1 during a command (a solver banner) lands on stderr."""
    import subprocess
    import sys

    code = ("import os, sys\n"
            "from geoplan.cli._app import stdout_for_output_only\n"
            "with stdout_for_output_only():\n"
            "    os.write(1, b'Running HiGHS (a C-level banner)\\n')\n"
            "    sys.stdout.write('{\"ok\": true}\\n')\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"ok": True}
    assert "Running HiGHS" in done.stderr


def test_csv_in_chinese_opens_in_a_spreadsheet(capsys, tiny_project_file):
    import csv
    import io as stdio

    code, out, _ = run(capsys, "place", "sites", "--year", "2025", "--format", "csv", "--lang", "zh", "--quiet",
                       "--project", str(tiny_project_file))
    assert code == 0 and out.startswith("\ufeff")
    rows = list(csv.reader(stdio.StringIO(out.lstrip("\ufeff"))))
    assert rows[0][:4] == ["行政区代码", "行政区名称", "常住人口", "现状基站数"] and rows[1][1] == "甲区"
    head = rows[0]
    assert rows[1][head.index("现状基站数")] == "20" and rows[1][head.index("是否达标")] == "是"  # counts as integers
    cov = rows[1][head.index("规划后人口覆盖率")]
    assert len(cov.split(".")[-1]) <= 4  # rounded, not 0.8970123456789


def test_gap_is_a_percentage_and_counts_are_integers(capsys, tiny_project_file):
    code, out, _ = run(capsys, "place", "sites", "--year", "2025", "--method", "exact", "--quiet",
                       "--project", str(tiny_project_file))
    assert code == 0 and "gap " in out and " %" in out.split("gap ")[1].split(",")[0]
    code, out, _ = run(capsys, "whatif", "--total", "45", "--method", "exact", "--quiet", "--project",
                       str(tiny_project_file))
    gap_row = next(line for line in out.splitlines() if "gap (%)" in line)
    assert "%" in gap_row.split("gap (%)")[1]
    new_row = next(line for line in out.splitlines() if line.strip("│ ").startswith("new "))
    assert ".00" not in new_row


def test_wide_tables_choose_the_columns_that_fit(capsys, monkeypatch):
    from geoplan.cli import _app

    monkeypatch.setattr(_app.console, "width", 80)
    code, out, _ = run(capsys, "place", "charging", "--by", "car_park")
    assert code == 0
    from rich.cells import cell_len

    table = [line for line in out.splitlines() if line[:1] in "┏┃┡│└"]
    assert table and max(cell_len(line) for line in table) <= 80
    assert "more column(s) do not fit 80 columns" in out and "--format csv" in out


def test_plan_file_from_place_to_export_and_report(capsys, tiny_project_file, tmp_path):
    """The issue's 'done when': place sites --out p.gpkg, then export --from p.gpkg into each format."""
    from geoplan import io, planfile

    proj = ["--project", str(tiny_project_file)]
    p = tmp_path / "p.gpkg"
    assert run(capsys, "place", "sites", "--year", "2025", "--out", str(p), "--quiet", *proj)[0] == 0
    plan = planfile.read_plan(p)
    assert plan.year == 2025 and {"planned_sites", "density", "coverage"} <= set(plan.layers)
    assert plan.metadata["planned_sites"]["parameters"]["method"] == "greedy"
    for to, extra in (("d.gdb", []), ("d.gpkg", []), ("d_gbk.zip", ["--encoding", "GBK"]), ("d_utf8.zip", [])):
        code, out, err = run(capsys, "export", "--from", str(p), "--to", str(tmp_path / to), "--report", "json",
                             *extra, *proj)
        assert code == 0, err
        rep = json.loads(out)
        ly = next(x for x in rep["layers"] if x["key"] == "planned_sites")
        assert rep["crs"] == "EPSG:4490" and ly["features"] == 13
        assert {"BSM", "YSDM", "XZQDM", "XZQMC", "BUILD_YEAR"} <= set(ly["fields"].values())
        assert ly["domains"]["SITE_TYPE"] == "ZXDM"
        if to.endswith((".gdb", ".gpkg")):
            domains, used = io.read_field_domains(tmp_path / to, sublayer="JZ5GGH")
            assert used["SITE_TYPE"] == "ZXDM" and domains["ZXDM"].codes["macro"] == "宏站"
    code, _, err = run(capsys, "report", "--from", str(p), "--to", str(tmp_path / "r.html"), *proj)
    assert code == 0, err
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "每万人5G基站数" in page and "甲区" in page and "data:image/png;base64," in page


def test_plan_files_of_another_project_are_refused(capsys, tiny_project_file, tmp_path):
    p = tmp_path / "p.gpkg"
    assert run(capsys, "place", "sites", "--year", "2025", "--out", str(p), "--quiet", "--project",
               str(tiny_project_file))[0] == 0
    code, _, err = run(capsys, "export", "--from", str(p), "--to", str(tmp_path / "x.gpkg"))
    assert code == 4 and "was made on project" in err and "--project" in err
    assert not (tmp_path / "x.gpkg").exists()


def test_whatif_out_writes_one_scenarios_plan(capsys, tiny_project_file, tmp_path):
    from geoplan import planfile

    args = ["whatif", "--total", "45", "60", "--project", str(tiny_project_file), "--quiet"]
    code, _, err = run(capsys, *args, "--out", str(tmp_path / "w.gpkg"))
    assert code == 4 and "--scenario-name" in err
    code, _, err = run(capsys, *args, "--out", str(tmp_path / "w.gpkg"), "--scenario-name", "60")
    assert code == 0, err
    plan = planfile.read_plan(tmp_path / "w.gpkg")
    assert len(plan.layers["planned_sites"]) == 20 and plan.metadata["planned_sites"]["parameters"]["total"] == 60
    assert "coverage" in plan.layers
