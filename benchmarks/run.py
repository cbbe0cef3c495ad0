"""Run every geoplan benchmark, one after the other, each in its own Python process.

    .venv/bin/python benchmarks/run.py [--quick] [--only placement edge_charging inventory fujian]

``make bench`` calls this. Each script prints its table and writes
``benchmarks/results/<name>.json``; this runner prints a one-line summary per script
(exit status and wall time). ``--quick`` passes the scripts' own quick options (fewer
repeats, the three smallest instances of the placement family, no Fujian-scale edge instance,
one Fujian run). The full placement family takes about 20 minutes.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS: dict[str, tuple[list[str], list[str]]] = {
    # name: (arguments, extra arguments with --quick)
    "placement": (["bench_placement.py"], ["--quick"]),
    "placement_family": (["bench_placement_family.py"], ["--quick"]),
    "edge_charging": (["bench_edge_charging.py"], ["--quick", "--repeat", "1"]),
    "inventory": (["bench_inventory.py"], ["--quick"]),
    "fujian": (["bench_fujian.py", "--dask"], ["--runs", "1"]),
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats, smaller instances")
    ap.add_argument("--only", nargs="+", choices=sorted(SCRIPTS), help="run only these benchmarks")
    args = ap.parse_args()
    status: list[tuple[str, int, float]] = []
    for name in args.only or list(SCRIPTS):
        script, quick = SCRIPTS[name]
        cmd = [sys.executable, str(HERE / script[0]), *script[1:], *(quick if args.quick else [])]
        print(f"\n=== {name}: {' '.join(cmd[1:])}", flush=True)
        t0 = time.perf_counter()
        rc = subprocess.call(cmd, cwd=HERE.parent)
        status.append((name, rc, time.perf_counter() - t0))
    print("\n=== summary")
    for name, rc, secs in status:
        print(f"{name:<15} {'ok' if rc == 0 else f'FAILED ({rc})':<10} {secs:8.1f} s")
    return max((rc for _, rc, _ in status), default=0)


if __name__ == "__main__":
    raise SystemExit(main())
