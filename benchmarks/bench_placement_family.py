"""Placement quality and time on a family of hard instances built from the embedded Xiamen grid.

    .venv/bin/python benchmarks/bench_placement_family.py [--quick] [--exact-time-limit 60]

Each instance takes the ``cells`` 100 m demand cells nearest the most populous one (all of them
for "all"), a 300 m candidate grid over them (grid points with a demand cell within half a grid
diagonal), one coverage radius and no quotas or existing coverage, as in issue 14. Unlike the
README instance (existing sites already cover 60 %, radii ~200 m), coverage here is far from
saturated, which is where greedy falls short.

For every instance: the coverage matrix build (time), then seven solvers on the same matrix,
each timed on its own:

- ``greedy``: lazy greedy alone (``local_search=False, bound="submodular"``);
- ``greedy+ls``: greedy then swap local search (``bound="submodular", windows=False``);
- ``greedy+ls+lagrangian``: the same with the Lagrangian bound and its plans (``windows=False``: the default of
  the previous release);
- ``greedy default``: ``greedy_mclp`` as shipped: local search, Lagrangian bound and plans, then window search
  (``geoplan/placement/windows.py``) with what is left of a work budget of about 10 s on the reference machine
  (``geoplan/placement/_work.py``);
- ``greedy+kicks``: the same with ``kicks=True``: the rest of that work on kick-and-swap search;
- ``lagrangian``: ``lagrangian_mclp`` (the same work budget);
- ``exact``: ``exact_mclp`` (``--exact-time-limit`` for the Lagrangian step and HiGHS; the warm start
  comes on top).

``% of best bound`` is each objective over the smallest upper bound any solver proved for the
instance (every bound is a valid one, so this is a lower bound on the share of the optimum);
``gap`` is the solver's own reported gap. Two more rows measure the peak memory of full-scale
coverage matrix builds in a fresh process, above the process before the build (VmHWM reset
through ``/proc/self/clear_refs``, and tracemalloc; the larger one over the matrix's bytes):
the family's boolean matrix (radius 700 m) and the planning context's (per-environment radii,
float32 cell shares). ``--memory-only`` runs just those (``results/placement_memory.json``).

Writes ``benchmarks/results/placement_family.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from scipy.spatial import cKDTree

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import report  # noqa: E402

import geoplan as gp  # noqa: E402
from geoplan import coverage as cov  # noqa: E402
from geoplan.placement import exact_mclp, greedy_mclp, lagrangian_mclp  # noqa: E402

#: (demand cells or None for all, radius in metres, p)
FAMILY: list[tuple[int | None, float, int]] = [
    (5_000, 300.0, 100),
    (22_000, 300.0, 400),
    (22_000, 500.0, 150),
    (44_000, 700.0, 150),
    (44_000, 1_000.0, 100),
    (88_000, 500.0, 800),
    (88_000, 300.0, 1_500),
    (None, 700.0, 400),
    (None, 700.0, 1_500),
    (None, 300.0, 3_000),
    (None, 1_000.0, 400),
]
QUICK = FAMILY[:3]
SPACING_M = 300.0


def instance_points(demand: Any, cells: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Demand xy and weights of the instance, and its candidate grid."""
    xy, w = demand.xy, demand.pop
    if cells is not None and cells < len(w):
        centre = xy[np.argmax(w)]
        keep = np.argsort(np.hypot(*(xy - centre).T), kind="stable")[:cells]
        xy, w = xy[keep], w[keep]
    (left, bottom), (right, top) = xy.min(axis=0), xy.max(axis=0)
    gx = np.arange(left + SPACING_M / 2 - 50.0, right + 50.0, SPACING_M)
    gy = np.arange(bottom + SPACING_M / 2 - 50.0, top + 50.0, SPACING_M)
    grid = np.array(np.meshgrid(gx, gy)).reshape(2, -1).T
    dist, _ = cKDTree(xy).query(grid, distance_upper_bound=SPACING_M / np.sqrt(2) + 1.0)
    return xy, w, grid[np.isfinite(dist)]


SOLVERS = {
    "greedy": lambda A, w, p, limit: greedy_mclp(A, w, p=p, local_search=False, bound="submodular"),
    "greedy+ls": lambda A, w, p, limit: greedy_mclp(A, w, p=p, bound="submodular", windows=False),
    "greedy+ls+lagrangian": lambda A, w, p, limit: greedy_mclp(A, w, p=p, windows=False),
    "greedy default": lambda A, w, p, limit: greedy_mclp(A, w, p=p),
    "greedy+kicks": lambda A, w, p, limit: greedy_mclp(A, w, p=p, kicks=True),
    "lagrangian": lambda A, w, p, limit: lagrangian_mclp(A, w, p=p),
    "exact": lambda A, w, p, limit: exact_mclp(A, w, p=p, time_limit_s=limit),
}


def run_instance(demand: Any, cells: int | None, radius: float, p: int, limit: float, *,
                 solvers: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    xy, w, grid = instance_points(demand, cells)
    t0 = time.perf_counter()
    A = cov.coverage_matrix(xy, grid, radius)
    build_s = time.perf_counter() - t0
    name = f"{len(w):,} x {len(grid):,}, r {radius:.0f} m, p {p:,}"
    print(f"\n--- {name}: matrix {A.nnz:,} entries, built in {build_s:.2f} s", flush=True)
    results = {}
    for method, solve in (solvers or SOLVERS).items():
        t0 = time.perf_counter()
        res = solve(A, w, p, limit)
        results[method] = (time.perf_counter() - t0, res)
        print(f"{method:15s} {results[method][0]:7.2f} s  objective {res.objective:14,.1f}  bound "
              f"{res.bound:14,.1f} ({res.bound_source})", flush=True)
    best = min(r.bound for _, r in results.values())
    source = min(results.values(), key=lambda tr: tr[1].bound)[1].bound_source
    rows = []
    for method, (secs, res) in results.items():
        rows.append({"instance": name, "cells": len(w), "candidates": len(grid), "radius_m": radius, "p": p,
                     "nnz": int(A.nnz), "build_s": round(build_s, 2), "method": method, "time_s": round(secs, 2),
                     "objective": round(res.objective, 1), "pct_of_best_bound": round(100 * res.objective / best, 3),
                     "gap_pct": round(100 * res.gap, 3), "bound_source": res.bound_source, "status": res.status,
                     "best_bound": round(best, 1), "best_bound_source": source, "swaps": res.swaps,
                     "stages_s": {k: round(v, 2) for k, v in res.stages}, "work": res.work,
                     "time_capped": res.time_capped})
    return rows


def _memory_child(kind: str) -> None:
    """In a fresh process: peak memory of one full-scale coverage matrix build above the loaded inputs.

    ``kind`` is a radius in metres (the family's boolean matrix, one radius) or ``"context"`` (the
    planning context's matrix: per-environment radii, cell shares as float32, as ``place sites``
    builds it). The kernel's peak RSS is reset just before the build (``/proc/self/clear_refs``), so
    VmHWM after it minus VmRSS before it is the build's own peak; tracemalloc sees numpy's allocations
    but not C++ ones (k-d trees, pair buffers), hence both.
    """
    import tracemalloc

    proj = gp.load_project()
    if kind == "context":
        from geoplan.placement.context import planning_context, site_coverage

        ctx = planning_context(proj)

        def build() -> Any:
            return site_coverage(ctx, ctx.cand_xy, ctx.cand_radius)
    else:
        xy, _, grid = instance_points(proj.demand, None)

        def build() -> Any:
            return cov.coverage_matrix(xy, grid, float(kind))
    import ctypes
    import gc

    gc.collect()
    ctypes.CDLL("libc.so.6").malloc_trim(0)  # free heap pages back to the kernel: the build cannot reuse them
    Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
    before = _status_kb("VmRSS")
    tracemalloc.start()
    t0 = time.perf_counter()
    A = build()
    secs = time.perf_counter() - t0
    traced = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    size = A.data.nbytes + A.indices.nbytes + A.indptr.nbytes
    print(json.dumps({"shape": list(A.shape), "nnz": int(A.nnz), "dtype": str(A.dtype), "matrix_mb": size / 2**20,
                      "tracemalloc_peak_mb": traced / 2**20, "vmhwm_above_baseline_mb": (_status_kb("VmHWM") - before) / 1024,
                      "build_s_traced": secs}))


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def memory_row(kind: str = "700") -> dict[str, Any]:
    """Peak memory of a full-scale matrix build (see :func:`_memory_child`), over the matrix's own size."""
    if not Path("/proc/self/clear_refs").exists():
        return {"instance": "coverage matrix memory", "note": "needs /proc/self/clear_refs (Linux)"}
    # every allocation of 64 KiB or more is its own mapping, returned to the kernel when freed: freed
    # memory cannot be reused unseen by VmHWM (glibc's dynamic threshold would otherwise hide it)
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "65536", "MALLOC_TRIM_THRESHOLD_": "131072"}
    out = subprocess.run([sys.executable, __file__, "--memory-child", kind], capture_output=True, text=True,
                         check=True, env=env)
    m = json.loads(out.stdout.strip().splitlines()[-1])
    what = ("planning context matrix (per-environment radii, cell shares)" if kind == "context"
            else f"all cells, one radius {float(kind):.0f} m")
    peak = max(m["tracemalloc_peak_mb"], m["vmhwm_above_baseline_mb"])
    return {"instance": f"coverage matrix build, {what}", "shape": m["shape"], "nnz": m["nnz"], "dtype": m["dtype"],
            "matrix_mb": round(m["matrix_mb"], 1), "tracemalloc_peak_mb": round(m["tracemalloc_peak_mb"], 1),
            "vmhwm_above_baseline_mb": round(m["vmhwm_above_baseline_mb"], 1),
            "peak_over_matrix": round(peak / m["matrix_mb"], 2), "build_s": round(m["build_s_traced"], 2),
            "target": "<= 3x"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="only the three smallest instances, exact limited to 20 s")
    ap.add_argument("--exact-time-limit", type=float, default=None)
    ap.add_argument("--memory-child", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--memory-only", action="store_true", help="only the two matrix-memory rows")
    ap.add_argument("--rows", default=None, help="comma-separated row numbers of the family (1-based), e.g. 4,8")
    ap.add_argument("--methods", default=None, help="comma-separated solvers to run (default all), e.g. "
                    "'greedy default,greedy+kicks'; %% of best bound is then over those solvers' bounds")
    args = ap.parse_args()
    if args.memory_child is not None:
        _memory_child(args.memory_child)
        return
    if args.memory_only:
        mem = [memory_row("700"), memory_row("context")]
        report("placement_memory", mem)
        return
    limit = args.exact_time_limit or (20.0 if args.quick else 60.0)
    demand = gp.load_project().demand
    rows: list[dict[str, Any]] = []
    family = QUICK if args.quick else FAMILY
    if args.rows:
        family = [FAMILY[int(k) - 1] for k in args.rows.split(",")]
    solvers = SOLVERS if args.methods is None else {k: SOLVERS[k] for k in args.methods.split(",")}
    for cells, radius, p in family:
        rows.extend(run_instance(demand, cells, radius, p, limit, solvers=solvers))
    print("\n=== summary: % of the best proven bound (time s)")
    table = []
    for name in dict.fromkeys(r["instance"] for r in rows):
        mine = [r for r in rows if r["instance"] == name]
        line: dict[str, Any] = {"instance": name, "build_s": mine[0]["build_s"]}
        for r in mine:
            line[r["method"]] = f"{r['pct_of_best_bound']:.2f} % ({r['time_s']:.1f})"
        line["best bound"] = f"{mine[0]['best_bound']:,.0f} ({mine[0]['best_bound_source']})"
        table.append(line)
    mem = [memory_row("700"), memory_row("context")]
    report("placement_family", table, extra={"runs": rows, "memory": mem, "exact_time_limit_s": limit,
                                              "quick": args.quick})
    report("placement_memory", mem)


if __name__ == "__main__":
    main()
