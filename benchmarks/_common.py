"""Shared helpers for geoplan's benchmark scripts: medians, peak memory, table and JSON output."""

from __future__ import annotations

import json
import platform
import statistics
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def timed(fn: Callable[[], Any], *, repeat: int = 3) -> tuple[float, list[float], Any]:
    """Median wall time (s) of ``repeat`` runs, all times, and the last result."""
    times = []
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times, out


def peak_mb(fn: Callable[[], Any]) -> float:
    """Peak Python-tracked memory (MiB, numpy included) of one run of ``fn``."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def report(name: str, rows: list[dict[str, Any]], *, extra: dict[str, Any] | None = None) -> Path:
    """Print ``rows`` as a table and write them with machine info to ``results/<name>.json``."""
    cols = list(dict.fromkeys(k for r in rows for k in r))
    widths = {c: max(len(c), *(len(_fmt(r.get(c))) for r in rows)) for c in cols}
    print(" | ".join(c.ljust(widths[c]) for c in cols))
    print("-+-".join("-" * widths[c] for c in cols))
    for r in rows:
        print(" | ".join(_fmt(r.get(c)).ljust(widths[c]) for c in cols))
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{name}.json"
    payload = {"benchmark": name, "date": time.strftime("%Y-%m-%d %H:%M:%S"),
               "machine": {"python": platform.python_version(), "cpu": platform.processor() or platform.machine(),
                           "cores": __import__("os").cpu_count(),
                           "load_average": [round(x, 2) for x in __import__("os").getloadavg()]},
               "rows": rows, **(extra or {})}
    out.write_text(json.dumps(payload, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    print(f"\nwritten {out}")
    return out


def _fmt(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.4g}" if abs(v) < 1e4 else f"{v:,.0f}"
    return str(v)
