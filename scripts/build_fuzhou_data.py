"""Build the modelled 福州 test project from data/gis/sources/fujian/ into the user data folder.

    python scripts/build_fuzhou_data.py [--out FOLDER] [--rebuild]

The default folder is ``fuzhou/`` in geoplan's user data folder (``$GEOPLAN_DATA_DIR``, else
the platform's, as for the Fujian project).

Seeded, so the files come out the same; the test suite builds it on first use too. The
project is a second city run end to end (tests/test_fuzhou.py); see geoplan/fuzhou.py
for what is observed and what is modelled.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from geoplan.fuzhou import fuzhou_dir, fuzhou_project


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=None, help="output folder (default: fuzhou/ in the user data folder)")
    ap.add_argument("--rebuild", action="store_true", help="build again even when the folder is current")
    args = ap.parse_args()
    with Progress(TextColumn("[bold]building 福州"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                  TextColumn("{task.fields[msg]}"), TimeElapsedColumn()) as bar:
        task = bar.add_task("build", total=1.0, msg="")
        path = fuzhou_project(args.out or fuzhou_dir(), rebuild=args.rebuild,
                              progress=lambda f, m: bar.update(task, completed=f, msg=m))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
