"""Build the modelled Fujian project from data/gis/sources/fujian/ into the user data folder.

    python scripts/build_fujian_data.py [--cell-m 100] [--seed 20201101] [--out FOLDER]

The default folder is ``fujian/`` in geoplan's user data folder ($GEOPLAN_DATA_DIR when set,
else e.g. ~/.local/share/geoplan), where ``--plan fujian`` looks for it.

Seeded, so the files come out the same. ``geoplan check --plan fujian`` builds it
on first use too; see geoplan/province.py for the model.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from geoplan.province import build_fujian_project, fujian_dir


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=None, help=f"output folder (default {fujian_dir()})")
    ap.add_argument("--cell-m", type=float, default=100.0, help="cell size in metres (default 100)")
    ap.add_argument("--seed", type=int, default=20201101, help="seed of the model (default 20201101)")
    args = ap.parse_args()
    with Progress(TextColumn("[bold]building Fujian"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                  TextColumn("{task.fields[msg]}"), TimeElapsedColumn()) as bar:
        task = bar.add_task("build", total=1.0, msg="")
        path = build_fujian_project(args.out, seed=args.seed, cell_m=args.cell_m,
                                    progress=lambda f, m: bar.update(task, completed=f, msg=m))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
