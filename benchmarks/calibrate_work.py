"""Work units per second of each placement heuristic (the calibration behind ``WORK_PER_SECOND``).

    .venv/bin/python benchmarks/calibrate_work.py [--rows 1,2,3,4,6]

The heuristics stop on work budgets (``geoplan/placement/_work.py``): units counted from the
sizes of the arrays each step touches. A budget means "about that many seconds" only if a unit
costs about the same time in every heuristic and ``WORK_PER_SECOND`` matches the machine. For
each instance of the placement family (``bench_placement_family.py``) this runs, without a
budget, swap local search from the greedy plan, 300 subgradient iterations of the Lagrangian
(no polishing) and 20 kicks of kick-and-swap search, and prints units, seconds and units per
second of each; the JSON records the load average before and after. Compare the rates with
``WORK_PER_SECOND`` (the same order of magnitude on every row and heuristic is the aim; the
charges are coarse on purpose).

Writes ``benchmarks/results/work_calibration.json``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import report  # noqa: E402
from bench_placement_family import FAMILY, instance_points  # noqa: E402

import geoplan as gp  # noqa: E402
from geoplan import coverage as cov  # noqa: E402
from geoplan.placement import greedy_mclp  # noqa: E402
from geoplan.placement._instance import check_problem  # noqa: E402
from geoplan.placement._work import WORK_PER_SECOND, Work  # noqa: E402
from geoplan.placement.lagrangian import lagrangian_bound  # noqa: E402
from geoplan.placement.local_search import improve, kick_search  # noqa: E402


def measure(name: str, fn: Any) -> dict[str, Any]:
    """Run ``fn(work)`` with an unlimited budget; units, seconds and units per second."""
    work = Work.unlimited()
    t0 = time.perf_counter()
    fn(work)
    secs = time.perf_counter() - t0
    return {"heuristic": name, "units": int(work.used), "seconds": round(secs, 3),
            "units_per_s": round(work.used / max(secs, 1e-9)), "vs_constant": round(work.used / max(secs, 1e-9)
                                                                                     / WORK_PER_SECOND, 2)}


def calibrate_instance(demand: Any, cells: int | None, radius: float, p: int) -> list[dict[str, Any]]:
    """The three heuristics' rates on one family instance."""
    xy, w, grid = instance_points(demand, cells)
    A = cov.coverage_matrix(xy, grid, radius)
    inst = check_problem(A, w, p=p)
    start = greedy_mclp(A, w, p=p, local_search=False, bound="submodular").selected
    local, _ = improve(inst, start, work=Work.unlimited())
    name = f"{len(w):,} x {len(grid):,}, r {radius:.0f} m, p {p:,}"
    rows = [measure("local search", lambda work: improve(inst, start, work=work)),
            measure("lagrangian", lambda work: lagrangian_bound(inst, start=local, work=work, max_iter=300,
                                                                target_gap=0.0, polish_share=0.0)),
            measure("kicks", lambda work: kick_search(inst, local, work=work, max_kicks=20))]
    return [{"instance": name, "nnz": int(A.nnz), **row} for row in rows]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", default="1,2,3,4,6", help="comma-separated row numbers of the family (1-based)")
    args = ap.parse_args()
    demand = gp.load_project().demand
    load_before = os.getloadavg()
    rows: list[dict[str, Any]] = []
    for k in args.rows.split(","):
        rows += calibrate_instance(demand, *FAMILY[int(k) - 1])
        print(*rows[-3:], sep="\n", flush=True)
    rates = np.array([r["units_per_s"] for r in rows], dtype=float)
    print(f"\nmedian {np.median(rates):,.0f} units/s, range {rates.min():,.0f}-{rates.max():,.0f}; "
          f"WORK_PER_SECOND = {WORK_PER_SECOND:,}")
    report("work_calibration", rows, extra={"load_before": load_before, "load_after": os.getloadavg(),
                                            "work_per_second": WORK_PER_SECOND})


if __name__ == "__main__":
    main()
