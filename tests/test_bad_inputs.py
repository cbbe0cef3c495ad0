"""The corpus of bad inputs: every case ends in its own clear GeoplanError and writes nothing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import geoplan as gp
from geoplan import export
from geoplan.cli import main
from geoplan.errors import GeoplanError

from .bad_inputs import make_corpus as mc

README = Path(__file__).parent / "bad_inputs" / "README.md"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return mc.build(tmp_path_factory.mktemp("bad_inputs"))


def _run(case: mc.Case, corpus: Path, out_dir: Path) -> None:
    proj = gp.load_project(corpus / case.name / "geoplan.toml")
    if case.stage == "scenario":
        from geoplan.scenarios import load_scenarios

        load_scenarios(corpus / case.name / "scenarios.toml")
        return
    kw = dict(case.export)
    name = kw.pop("to", "out.gpkg")
    to = corpus / "good" / "districts.gpkg" if name == "{input}" else out_dir / name
    kw.pop("existing", None)
    extra = case.extra(mc.good_layers()) if case.extra else None
    export.export_project(proj, to, extra_layers=extra, **kw)


def _tree(root: Path) -> list[str]:
    """Every path under ``root``, with a digest of each regular file's content."""
    import hashlib

    def digest(p: Path) -> str:
        return hashlib.sha256(p.read_bytes()).hexdigest()[:12] if p.is_file() and not p.is_symlink() else ""
    return sorted(f"{p.relative_to(root)} {digest(p)}".strip() for p in root.rglob("*"))


def test_corpus_is_large_and_names_are_unique():
    names = [c.name for c in mc.CASES]
    assert len(names) >= 30 and len(set(names)) == len(names)
    assert {c.stage for c in mc.CASES} == {"load", "export", "scenario"}


def test_readme_lists_every_case_with_its_error():
    text = README.read_text(encoding="utf-8")
    rows = {m[0]: m[1] for m in re.findall(r"^\| `([a-z0-9_]+)` \| (\w+) \|", text, flags=re.M)}
    assert rows == {c.name: c.error for c in mc.CASES}


@pytest.mark.parametrize("case", mc.CASES, ids=[c.name for c in mc.CASES])
def test_bad_input_fails_cleanly(case: mc.Case, corpus: Path, tmp_path: Path):
    existing = case.export.get("existing", [])
    for rel, text in [(existing, "a planner's own file")] if isinstance(existing, str) else existing:
        mine = tmp_path / rel
        mine.parent.mkdir(parents=True, exist_ok=True)
        mine.write_text(text, encoding="utf-8")
    before = _tree(tmp_path)
    inputs = _tree(corpus / "good")
    with pytest.raises(GeoplanError) as ei:
        _run(case, corpus, tmp_path)
    err = ei.value
    assert type(err).__name__ == case.error, str(err)
    problems = getattr(err, "problems", [])
    if case.layer is not None:
        assert (case.layer, case.field) in {(p.layer, p.field) for p in problems}, str(err)
    # every error tells how to fix it
    assert all(p.fix for p in problems) if problems else "Fix" in str(err), str(err)
    # no output, no temporary files, and nothing of the planner's touched
    assert _tree(tmp_path) == before
    assert _tree(corpus / "good") == inputs


def test_missing_crs_error_suggests_the_crs(corpus: Path):
    with pytest.raises(gp.CRSError) as ei:
        gp.load_project(corpus / "districts_no_crs" / "geoplan.toml")
    assert "without the zone prefix" in ei.value.problems[0].fix
    with pytest.raises(gp.CRSError) as ei:
        gp.load_project(corpus / "districts_web_mercator_no_crs" / "geoplan.toml")
    assert 'EPSG:3857' in ei.value.problems[0].fix


def test_failed_export_keeps_the_previous_output(corpus: Path, tmp_path: Path):
    """A failing re-export (complex column in the third layer) leaves the earlier file as it was."""
    proj = gp.load_project(corpus / "export_unsupported_column" / "geoplan.toml")
    out = tmp_path / "out.gpkg"
    export.export_project(proj, out)
    data = out.read_bytes()
    with pytest.raises(gp.WriteError, match="GGTCC.*complex"):
        export.export_project(proj, out, extra_layers=mc._complex_column(mc.good_layers()), overwrite=True)
    assert out.read_bytes() == data
    assert [t.split()[0] for t in _tree(tmp_path)] == ["out.gpkg", "out.gpkg.metadata.xml"]


@pytest.mark.parametrize("name,code", [("districts_self_crossing", 3), ("toml_no_districts", 4),
                                       ("zip_slip", 5)])
def test_cli_exit_codes_and_no_output(corpus: Path, tmp_path: Path, capsys, name: str, code: int):
    out = tmp_path / "out.gpkg"
    with pytest.raises(SystemExit) as ei:
        main(["export", "--project", str(corpus / name / "geoplan.toml"), "--to", str(out)])
    assert ei.value.code == code
    assert "Fix" in capsys.readouterr().err
    assert not out.exists() and _tree(tmp_path) == []
