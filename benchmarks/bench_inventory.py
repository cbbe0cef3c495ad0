"""Benchmark issue 13 on the embedded Xiamen data at full scale: inventories, constraints and cost in placement.

    .venv/bin/python benchmarks/bench_inventory.py [--repeat 3] [--quick]

Rows (median wall time of ``--repeat`` runs; the baseline is measured in the same run):
- baseline: the project without siting layers (generated candidates only, as before issue 13):
  planning context and greedy placement for the 2025 targets;
- the embedded demo (three modelled inventories, five constraint layers): context, greedy at cost
  weight 0 and 20 residents per 万元 (the plan that prefers sharing);
- 20,000 inventory candidates (seeded: towers, smart poles, public buildings on populated cells)
  plus the ~15,000 generated ones and the constraints: context, greedy at cost weight 0 and 20,
  exact at cost weight 20 (time limit ``--exact-time-limit``).
Target (issue 13): greedy <= 10 s at full scale with 20,000 inventory candidates.

Writes ``benchmarks/results/inventory.json``.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys

import geopandas as gpd
import numpy as np

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))
from _common import report, timed  # noqa: E402

import geoplan as gp  # noqa: E402
from geoplan.placement import place_sites, planning_context  # noqa: E402
from geoplan.project import siting_layer  # noqa: E402
from geoplan.siting.inputs import LayerConfig, SitingInputs  # noqa: E402

#: Kinds and site types of the synthetic 20,000-feature inventory.
MIX = (("social_tower", "macro", 8000), ("industry_tower", "macro", 2000), ("smart_pole", "micro", 8000),
       ("public_building", "macro", 1500), ("public_building", "indoor", 500))


def big_inventory(proj: gp.Project, *, seed: int = 13) -> gpd.GeoDataFrame:
    """20,000 inventory candidates on populated cells (∝ population^0.8), jittered in the cell."""
    rng = np.random.default_rng(seed)
    d = proj.demand
    p = d.pop ** 0.8
    n = sum(k for *_, k in MIX)
    cells = rng.choice(len(d), size=n, p=p / p.sum())
    xy = d.xy[cells] + rng.uniform(-45, 45, size=(n, 2))
    kind = np.concatenate([[k] * c for k, _, c in MIX])
    stype = np.concatenate([[t] * c for _, t, c in MIX])
    gdf = gpd.GeoDataFrame({"KIND": kind, "SITE_TYPE": stype, "MODELLED": 1},
                           geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=proj.metric_crs)
    return gdf.to_crs(4490)


def _row(stage: str, t: float, res: object = None, **extra: object) -> dict:
    row: dict = {"stage": stage, "median_s": t}
    if res is not None:
        s = res.summary  # type: ignore[attr-defined]
        si = s.siting
        row.update({"candidates": s.candidates, "coverage_after": s.coverage_after,
                    "reused": None if si is None else si.reused, "savings_wan": None if si is None else si.savings})
    row.update(extra)
    return row


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="one repeat, no exact run")
    ap.add_argument("--exact-time-limit", type=float, default=60.0)
    args = ap.parse_args()
    rep = 1 if args.quick else args.repeat
    demo = gp.load_project()
    bare = dataclasses.replace(demo, siting=SitingInputs())
    cons = demo.siting.group("constraints")
    inv = siting_layer(big_inventory(demo), LayerConfig(group="inventories", name="synthetic_20k", path="",
                                                        modelled=True))
    big = dataclasses.replace(demo, siting=SitingInputs(layers=(inv, *cons)))
    rows = []

    t, _, ctx0 = timed(lambda: planning_context(bare), repeat=rep)
    rows.append(_row("baseline: context, generated candidates only", t, note=f"{ctx0.coverage.shape[1]:,} candidates"))
    t_base, _, r0 = timed(lambda: place_sites(bare, year=2025, context=ctx0), repeat=rep)
    rows.append(_row("baseline: greedy, 2025 targets", t_base, r0))

    t, _, ctx1 = timed(lambda: planning_context(demo), repeat=rep)
    rows.append(_row("demo: context, 3 inventories + generated + 5 constraint layers", t,
                     note=f"{ctx1.coverage.shape[1]:,} candidates"))
    for w in (0.0, 20.0):
        t, _, r = timed(lambda w=w: place_sites(demo, year=2025, context=ctx1, cost_weight=w), repeat=rep)
        rows.append(_row(f"demo: greedy, cost weight {w:g}", t, r, vs_baseline=t / t_base))

    t, _, ctx2 = timed(lambda: planning_context(big), repeat=rep)
    rows.append(_row("20k inventory: context (+ generated, constraints)", t, note=f"{ctx2.coverage.shape[1]:,} "
                     f"candidates, nnz {ctx2.coverage.nnz:,}"))
    for w in (0.0, 20.0):
        t, _, r = timed(lambda w=w: place_sites(big, year=2025, context=ctx2, cost_weight=w), repeat=rep)
        rows.append(_row(f"20k inventory: greedy, cost weight {w:g}", t, r, target_s=10.0, vs_baseline=t / t_base,
                         gap=r.summary.gap))
    if not args.quick:
        t, _, r = timed(lambda: place_sites(big, year=2025, context=ctx2, cost_weight=20.0, method="exact",
                                            time_limit_s=args.exact_time_limit), repeat=1)
        rows.append(_row("20k inventory: exact (HiGHS), cost weight 20", t, r, status=r.summary.status,
                         gap=r.summary.gap))
    report("inventory", rows)


if __name__ == "__main__":
    main()
