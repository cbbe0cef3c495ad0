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
    assert code == 0 and lines[0].startswith("XZQDM,XZQMC,population,stations,per_10k")
    assert len(lines) == 8 and "(total)" in lines[-1]
    assert ",25.0," in lines[1]  # 2023 target


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

    planned = gpd.read_file(out)
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
    assert code == 2 and "Invalid value for '--total'" in err and "Traceback" not in err + out


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
