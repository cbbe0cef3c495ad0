"""Recreate apps/static/vendor/ (the map's JS/CSS/images/fonts) from the npm registry.

    .venv/bin/python scripts/vendor_web_assets.py           # write apps/static/vendor/
    .venv/bin/python scripts/vendor_web_assets.py --check   # exit 1 if the committed copy differs

What is fetched is declared in geoplan/webmap/_offline.py (VENDORED_PACKAGES, GENERATED_FILES):
each package is fetched with ``npm pack <name>@<version>`` (npm must be on PATH), only the listed
files are copied, and two small CSS files are generated. See apps/static/README.md.
"""

from __future__ import annotations

import argparse
import filecmp
import logging
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from geoplan.webmap._offline import GENERATED_FILES, VENDORED_PACKAGES, VendoredPackage

__all__ = ["main", "glyphicons_css", "rotate_css"]

logger = logging.getLogger("vendor_web_assets")

STATIC = Path(__file__).resolve().parents[1] / "apps" / "static"
_GLYPHICONS_START = '@font-face {\n  font-family: "Glyphicons Halflings";'
_GLYPHICONS_LAST = '.glyphicon-menu-up:before {\n  content: "\\e260";\n}\n'


def _unpack(pkg: VendoredPackage, workdir: Path) -> Path:
    """``npm pack`` one package into ``workdir`` and return its extracted ``package/`` folder."""
    spec = f"{pkg.name}@{pkg.version}"
    out = subprocess.run(
        ["npm", "pack", spec, "--silent", "--pack-destination", str(workdir)],
        check=True,
        capture_output=True,
        text=True,
    )
    tgz = workdir / out.stdout.strip().splitlines()[-1]
    dest = workdir / pkg.folder
    with tarfile.open(tgz) as tar:
        tar.extractall(dest, filter="data")
    return dest / "package"


def glyphicons_css(bootstrap3_css: str) -> str:
    """The glyphicons rules of bootstrap 3's ``dist/css/bootstrap.css`` (fonts under ``../fonts/``)."""
    start = bootstrap3_css.find(_GLYPHICONS_START)
    end = bootstrap3_css.find(_GLYPHICONS_LAST)
    if start < 0 or end < start:
        raise SystemExit("bootstrap.css has no 'Glyphicons Halflings' section where expected")
    head = "/*! Glyphicons section of Bootstrap v3.4.1 dist/css/bootstrap.css | MIT License */\n"
    return head + bootstrap3_css[start : end + len(_GLYPHICONS_LAST)]


def rotate_css() -> str:
    """Rules for the ``fa-rotate-<deg>`` classes that ``folium.Icon(angle=deg)`` puts on icons."""
    rules = (
        f".fa-rotate-{d}{{-ms-transform:rotate({d}deg);-webkit-transform:rotate({d}deg);"
        f"transform:rotate({d}deg)}}"
        for d in range(1, 361)
    )
    return "/* folium.Icon(angle=...) rotations */\n" + "\n".join(rules) + "\n"


def _build(dest: Path, workdir: Path) -> None:
    for pkg in VENDORED_PACKAGES:
        src = _unpack(pkg, workdir)
        for rel in pkg.files:
            target = dest / pkg.local(rel)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src / rel, target)
        if pkg.name == "bootstrap" and pkg.version.startswith("3."):
            css = (src / "dist/css/bootstrap.css").read_text(encoding="utf-8")
            glyph = dest / pkg.local("dist/css/bootstrap-glyphicons.css")
            glyph.parent.mkdir(parents=True, exist_ok=True)
            glyph.write_text(glyphicons_css(css), encoding="utf-8")
        logger.info("%s@%s: %d files", pkg.name, pkg.version, len(pkg.files))
    rotate = dest / "vendor/folium/leaflet.awesome.rotate.css"
    rotate.parent.mkdir(parents=True, exist_ok=True)
    rotate.write_text(rotate_css(), encoding="utf-8")
    expected = {pkg.local(rel) for pkg in VENDORED_PACKAGES for rel in pkg.files} | set(GENERATED_FILES)
    written = {p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()}
    if written != expected:
        raise SystemExit(f"built files differ from the declared ones: {sorted(written ^ expected)}")


def _differences(a: Path, b: Path) -> list[str]:
    files_a = {p.relative_to(a).as_posix() for p in a.rglob("*") if p.is_file()}
    files_b = {p.relative_to(b).as_posix() for p in b.rglob("*") if p.is_file()}
    diff = sorted(files_a ^ files_b)
    diff += [f for f in sorted(files_a & files_b) if not filecmp.cmp(a / f, b / f, shallow=False)]
    return diff


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with apps/static/vendor, write nothing")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    with tempfile.TemporaryDirectory() as tmp:
        build = Path(tmp) / "static"
        work = Path(tmp) / "npm"
        work.mkdir()
        _build(build, work)
        if args.check:
            diff = _differences(build / "vendor", STATIC / "vendor")
            for f in diff:
                logger.error("differs: vendor/%s", f)
            logger.info("apps/static/vendor %s", "differs from npm" if diff else "matches npm")
            return 1 if diff else 0
        shutil.rmtree(STATIC / "vendor", ignore_errors=True)
        shutil.copytree(build / "vendor", STATIC / "vendor")
    size = sum(p.stat().st_size for p in (STATIC / "vendor").rglob("*") if p.is_file())
    logger.info("wrote %s (%.2f MB)", STATIC / "vendor", size / 1e6)
    return 0


if __name__ == "__main__":
    sys.exit(main())
