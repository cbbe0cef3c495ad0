"""Fujian at province scale: time and peak memory of build, check, coverage and placement.

    python benchmarks/bench_fujian.py [--runs 3] [--dask] [--skip-build]

Each phase runs in a fresh Python process, so its peak resident memory (ru_maxrss) is its
own; times are wall-clock medians of ``--runs`` runs (the build and placement run once).
Every phase except "build" loads the project from the user data folder (``fujian/`` under
$GEOPLAN_DATA_DIR or e.g. ~/.local/share/geoplan; built first if missing), as
``geoplan check --plan fujian`` does, and the load is part of its time.

Phases:
  build            build_fujian_project at 100 m into a temporary folder
  check            load + geoplan.targets.check(year=2025)
  coverage         load + chunked coverage of the existing sites (n78 link budget)
  check+coverage   load + check + coverage in one process (targets: <= 60 s, <= 6 GB)
  coverage (dask)  load + the same coverage on a 2-worker dask LocalCluster (--dask)
  placement        load + place_sites(year=2025, engine="chunked"): every county to 30 per 10k

Results go to benchmarks/results/fujian.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import report  # noqa: E402

TARGET_S, TARGET_GB = 60.0, 6.0


def _phase(name: str) -> dict[str, object]:
    """Run one phase in this process; return its measurements."""
    t0 = time.perf_counter()
    out: dict[str, object] = {}
    if name == "build":
        from geoplan.province import build_fujian_project

        with tempfile.TemporaryDirectory() as tmp:
            build_fujian_project(tmp)
            out["files_mb"] = round(sum(f.stat().st_size for f in Path(tmp).iterdir()) / 1e6, 1)
    else:
        import geoplan as gp
        from geoplan import chunked
        from geoplan.province import resolve_project

        proj = resolve_project("fujian", None)
        out["load_s"] = round(time.perf_counter() - t0, 2)
        out["cells"] = int(proj.population.values.size)
        if name in ("check", "check+coverage"):
            rep = gp.targets.check(proj, year=2025)
            out.update(stations=rep.total.stations, per_10k=rep.total.per_10k,
                       shortfall=rep.total.shortfall)
        if name in ("coverage", "check+coverage"):
            cov = chunked.coverage(proj)
            out.update(populated_cells=cov.total.cells, coverage=cov.total.coverage)
        if name == "coverage (dask)":
            from geoplan import distributed

            with distributed.local_client(n_workers=2, processes=False) as client:
                cov = distributed.coverage(proj, client=client)
            out.update(populated_cells=cov.total.cells, coverage=cov.total.coverage)
        if name == "placement":
            res = gp.placement.place_sites(proj, year=2025, engine="chunked", quotas="district")
            s = res.summary
            out.update(new=s.new, per_10k=s.per_10k, coverage_before=s.coverage_before,
                       coverage_after=s.coverage_after, gap=round(s.gap, 4))
    out["time_s"] = round(time.perf_counter() - t0, 2)
    out["peak_rss_gb"] = round(_peak_rss_bytes() / 1e9, 3)
    return out


def _peak_rss_bytes() -> int:
    """Peak resident memory of this process, bytes.

    Linux's VmHWM belongs to the process image, so it starts afresh at exec;
    ``ru_maxrss`` survives exec and would report the parent's peak at fork.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _run(name: str) -> dict[str, object]:
    proc = subprocess.run([sys.executable, __file__, "--phase", name], capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"phase {name!r} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3, help="runs of each quick phase (median reported)")
    ap.add_argument("--dask", action="store_true", help="also time the coverage on a dask LocalCluster")
    ap.add_argument("--skip-build", action="store_true", help="do not time the build")
    ap.add_argument("--phase", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.phase:
        print(json.dumps(_phase(args.phase)))
        return

    _run("load")  # build the Fujian project once, outside the timings (in a child: this process stays small)
    phases = [("build", 1)] if not args.skip_build else []
    phases += [("check", args.runs), ("coverage", args.runs), ("check+coverage", args.runs)]
    phases += [("coverage (dask)", args.runs)] if args.dask else []
    phases += [("placement", 1)]
    rows = []
    for name, runs in phases:
        results = [_run(name) for _ in range(runs)]
        times = [float(r["time_s"]) for r in results]  # type: ignore[arg-type]
        peak = max(float(r["peak_rss_gb"]) for r in results)  # type: ignore[arg-type]
        row: dict[str, object] = {"phase": name, "runs": runs, "median_s": round(statistics.median(times), 2),
                                  "min_s": min(times), "max_s": max(times), "peak_rss_gb": peak}
        row.update({k: v for k, v in results[-1].items() if k not in ("time_s", "peak_rss_gb")})
        if name == "check+coverage":
            row["meets_target"] = row["median_s"] <= TARGET_S and peak <= TARGET_GB  # type: ignore[operator]
        rows.append(row)
        print(f"{name}: {row['median_s']} s, {peak} GB", file=sys.stderr)
    report("fujian", rows, extra={"targets": {"check+coverage": {"max_s": TARGET_S, "max_gb": TARGET_GB}},
                                  "platform": platform.platform()})


if __name__ == "__main__":
    main()
