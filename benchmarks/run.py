"""Run every geoplan benchmark, one after the other, each in its own Python process.

    .venv/bin/python benchmarks/run.py [--quick] [--only placement edge_charging inventory fujian] [--before REF]

``make bench`` calls this. Each script prints its table and writes
``benchmarks/results/<name>.json``; this runner prints a one-line summary per script
(exit status and wall time). ``--quick`` passes the scripts' own quick options (fewer
repeats, the three smallest instances of the placement family, no Fujian-scale edge instance,
one Fujian run). The full placement family takes about 20 minutes.

``--before REF`` (``make bench`` passes the Makefile's ``BEFORE``: cf6a83a, geoplan 0.1.0 before issues
11–18, so one run shows the whole round's effect) first runs the same benchmarks
on the code of git revision ``REF`` (exported with ``git archive`` into a temporary
folder, its own benchmark scripts, same machine, same session), then on the working
tree, and prints the headline figures side by side with their targets
(``benchmarks/results/before_after.json``). The machine is shared: each run records
its load average.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SCRIPTS: dict[str, tuple[list[str], list[str]]] = {
    # name: (arguments, extra arguments with --quick)
    "placement": (["bench_placement.py"], ["--quick"]),
    "placement_family": (["bench_placement_family.py"], ["--quick"]),
    "edge_charging": (["bench_edge_charging.py"], ["--quick", "--repeat", "1"]),
    "inventory": (["bench_inventory.py"], ["--quick"]),
    "fujian": (["bench_fujian.py", "--dask"], ["--runs", "1"]),
}
#: Headline figures compared before/after: (benchmark, row key, row value, column, target, label).
HEADLINES: list[tuple[str, str, str, str, float | None, str]] = [
    ("placement", "stage", "what-if re-evaluation of 18,500 sites", "median_s", 0.3, "what-if, 18,500 sites (s)"),
    ("placement", "stage", "greedy placement (2025 targets)", "median_s", 10.0, "greedy, 2025 targets (s)"),
    ("placement", "stage", "coverage: full context build", "median_s", None, "planning context (s)"),
    ("fujian", "phase", "check+coverage", "median_s", 60.0, "Fujian check + coverage (s)"),
    ("fujian", "phase", "check+coverage", "peak_rss_gb", 6.0, "Fujian check + coverage (GB)"),
    ("fujian", "phase", "placement", "median_s", 60.0, "Fujian placement (s)"),
]


def _run(names: list[str], *, quick: bool, tree: Path, env: dict[str, str]) -> list[tuple[str, int, float]]:
    status = []
    for name in names:
        script, extra = SCRIPTS[name]
        if not (tree / "benchmarks" / script[0]).exists():  # a benchmark newer than the revision compared with
            print(f"\n=== {name} ({tree}): {script[0]} is not in this revision, skipped", flush=True)
            continue
        cmd = [sys.executable, str(tree / "benchmarks" / script[0]), *script[1:], *(extra if quick else [])]
        print(f"\n=== {name} ({tree}): {' '.join(cmd[1:])}  [load {os.getloadavg()[0]:.1f}]", flush=True)
        t0 = time.perf_counter()
        rc = subprocess.call(cmd, cwd=tree, env=env)
        status.append((name, rc, time.perf_counter() - t0))
    return status


def _export(ref: str, into: Path) -> Path:
    """The files of git revision ``ref`` in ``into`` (``git archive``), importable from there.

    Subpackages that pyproject maps to other folders (``geoplan._data`` = data/gis, ...) become links,
    as an editable install maps them. Generated data (Fujian) is not shared: since geoplan builds it in the
    user data folder, a revision that still builds into its own data/fujian/ builds it there.
    """
    archive = subprocess.run(["git", "archive", ref], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    pyproject = tomllib.loads((into / "pyproject.toml").read_text(encoding="utf-8"))
    for package, folder in pyproject.get("tool", {}).get("setuptools", {}).get("package-dir", {}).items():
        link = into.joinpath(*package.split("."))
        if package and not link.exists() and (into / folder).is_dir():
            link.symlink_to((into / folder).resolve(), target_is_directory=True)
    return into


def _figures(results: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for bench, key, value, col, _, label in HEADLINES:
        f = results / f"{bench}.json"
        if not f.exists():
            continue
        data = json.loads(f.read_text(encoding="utf-8"))
        for row in data.get("rows", []):
            if row.get(key) == value and col in row:
                out[label] = row[col]
        out[f"load average ({bench})"] = data.get("load_average")
    return out


def _fmt(v: Any) -> str:
    return "" if v is None else f"{v:.3g}"


def _compare(ref: str, before: dict[str, Any], after: dict[str, Any]) -> None:
    print(f"\n=== before ({ref}) / after (working tree), same machine, same session")
    print(f"{'figure':<34} {'before':>10} {'after':>10} {'target':>8}")
    for _, _, _, _, target, label in HEADLINES:
        b, a = before.get(label), after.get(label)
        print(f"{label:<34} {_fmt(b):>10} {_fmt(a):>10} {'' if target is None else f'<= {target:g}':>8}")
    for k in sorted(set(before) | set(after)):
        if k.startswith("load average"):
            print(f"{k:<34} {str(before.get(k)):>10} {str(after.get(k)):>10}")
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "before_after.json").write_text(json.dumps(
        {"before": {"revision": ref, **before}, "after": {"revision": "working tree", **after},
         "targets": {label: t for *_, t, label in HEADLINES}, "date": time.strftime("%Y-%m-%d %H:%M:%S")},
        ensure_ascii=False, indent=2, default=str), encoding="utf-8")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats, smaller instances")
    ap.add_argument("--only", nargs="+", choices=sorted(SCRIPTS), help="run only these benchmarks")
    ap.add_argument("--before", metavar="REF", help="also run the benchmarks of git revision REF first, and compare")
    args = ap.parse_args()
    names = args.only or list(SCRIPTS)
    status: list[tuple[str, int, float]] = []
    before: dict[str, Any] = {}
    if args.before:
        with tempfile.TemporaryDirectory(prefix="geoplan-before-") as tmp:
            tree = _export(args.before, Path(tmp))
            env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(tree), os.environ.get("PYTHONPATH")]))}
            status += [(f"{n} (before)", rc, s) for n, rc, s in _run(names, quick=args.quick, tree=tree, env=env)]
            before = _figures(tree / "benchmarks" / "results")
    status += _run(names, quick=args.quick, tree=ROOT, env=dict(os.environ))
    print("\n=== summary")
    for name, rc, secs in status:
        print(f"{name:<24} {'ok' if rc == 0 else f'FAILED ({rc})':<10} {secs:8.1f} s")
    if args.before:
        _compare(args.before, before, _figures(HERE / "results"))
    return max((rc for _, rc, _ in status), default=0)


if __name__ == "__main__":
    raise SystemExit(main())
