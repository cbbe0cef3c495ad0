"""Benchmark issue 3 on the embedded Xiamen data at full scale (100 m cells, >= 15k candidates).

    .venv/bin/python benchmarks/bench_placement.py [--exact-time-limit 120] [--quick]

Stages (median of several runs; peak memory of one run):
- coverage: build the planning context (radio environment, existing-site and candidate coverage matrices);
  baseline: the same candidate coverage by a geopandas buffer + spatial join;
- what-if re-evaluation of 18,500 sites (existing + new): density and coverage per district from the matrices;
  baseline: recomputing the coverage of those sites from the coordinates with a KD-tree;
- greedy placement for the 2025 targets (greedy, swap local search and a Lagrangian bound: the reported
  gap is proven) and exact placement (Lagrangian step, then HiGHS), with stage times;
- spopt MCLP on a smaller single-radius instance, against geoplan's greedy and exact on the very same
  instance, with model *build* and *solve* timed apart: spopt builds its PuLP model in Python (the bulk
  of its time), then CBC or HiGHS solves it; geoplan builds a sparse matrix, then solves.

See ``bench_placement_family.py`` for quality on hard instances (coverage far from saturated).
"""

from __future__ import annotations

import argparse
import sys
import time

import geopandas as gpd
import numpy as np
import scipy.sparse as sp
from scipy.spatial import cKDTree

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))
from _common import peak_mb, report, timed  # noqa: E402

import geoplan as gp  # noqa: E402
from geoplan import coverage as cov  # noqa: E402
from geoplan.placement import evaluate_sites, exact_mclp, greedy_mclp, place_sites, planning_context  # noqa: E402


def _buffer_join_coverage(ctx) -> int:
    """Baseline: candidate coverage by buffering sites and joining demand points (geopandas)."""
    demand = gpd.GeoDataFrame(geometry=gpd.points_from_xy(*ctx.project.demand.xy.T), crs=ctx.project.metric_crs)
    sites = gpd.GeoDataFrame(geometry=gpd.points_from_xy(*ctx.cand_xy.T), crs=ctx.project.metric_crs)
    sites["geometry"] = sites.buffer(ctx.cand_radius, quad_segs=8)
    j = gpd.sjoin(demand, sites, predicate="within")
    return len(j)


def _kdtree_recompute(ctx, sel) -> float:
    """Baseline what-if: recompute coverage of existing + selected sites from coordinates."""
    xy = np.vstack([ctx.existing_xy, ctx.cand_xy[sel]])
    r = np.concatenate([ctx.existing_radius, ctx.cand_radius[sel]])
    tree = cKDTree(ctx.project.demand.xy)
    hit = np.zeros(len(ctx.demand_weights), dtype=bool)
    for radius in np.unique(r):
        m = r == radius
        for rows in tree.query_ball_point(xy[m], radius):
            hit[rows] = True
    return float((ctx.demand_weights * hit).sum())


def _spopt_instance(ctx, *, n_demand: int, n_cand: int, radius: float, p: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    d = ctx.project.demand
    # one compact area: the demand cells nearest the densest cell
    centre = d.xy[np.argmax(d.pop)]
    di = np.argsort(np.hypot(*(d.xy - centre).T))[:n_demand]
    dxy, w = d.xy[di], d.pop[di]
    cxy = dxy[rng.choice(len(dxy), size=n_cand, replace=False)] + rng.uniform(-50, 50, (n_cand, 2))
    dist = np.hypot(dxy[:, None, 0] - cxy[None, :, 0], dxy[:, None, 1] - cxy[None, :, 1])
    A = sp.csc_array((dist <= radius).astype(np.uint8))
    return dist, A, w, p


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--exact-time-limit", type=float, default=60.0)
    ap.add_argument("--quick", action="store_true", help="fewer repeats")
    args = ap.parse_args()
    rep = 1 if args.quick else 3
    rows: list[dict] = []
    t_load, _, proj = timed(gp.load_project, repeat=rep)
    rows.append({"stage": "load project", "median_s": t_load, "note": f"{len(proj.demand):,} demand cells"})

    t_ctx, _, ctx = timed(lambda: planning_context(proj), repeat=rep)
    mem_ctx = peak_mb(lambda: planning_context(proj))
    n_c = ctx.coverage.shape[1]
    rows.append({"stage": "coverage: full context build", "median_s": t_ctx, "peak_mb": mem_ctx,
                 "note": f"environments + {len(ctx.existing_xy):,} existing + {n_c:,} candidates"})
    t_m, _, _ = timed(lambda: cov.coverage_matrix(proj.demand.xy, ctx.cand_xy, ctx.cand_radius), repeat=rep)
    t_base, _, _ = timed(lambda: _buffer_join_coverage(ctx), repeat=1)
    rows.append({"stage": "coverage: candidate matrix (cKDTree)", "median_s": t_m,
                 "baseline": "geopandas buffer+sjoin", "baseline_s": t_base, "speedup": t_base / t_m,
                 "note": f"{len(proj.demand):,} x {n_c:,}, nnz {ctx.coverage.nnz:,}"})

    t_g, _, res_g = timed(lambda: place_sites(proj, year=2025, context=ctx, quotas="district"), repeat=rep)
    mem_g = peak_mb(lambda: place_sites(proj, year=2025, context=ctx, quotas="district"))
    pg = res_g.placement
    rows.append({"stage": "greedy placement (2025 targets)", "median_s": t_g, "peak_mb": mem_g,
                 "note": f"p={res_g.summary.new:,}, objective {pg.objective:,.0f} persons, proven gap "
                         f"{100 * pg.gap:.3f} % ({pg.bound_source}), {pg.swaps} swaps; stages {_stages(pg)}"})

    # what-if: 18,500 stations = existing + (18,500 - existing) new
    res_t = place_sites(proj, total=18_500, context=ctx)
    sel = res_t.placement.selected
    t_w, _, _ = timed(lambda: evaluate_sites(ctx, sel, year=2025), repeat=max(7, rep))
    t_wb, _, _ = timed(lambda: _kdtree_recompute(ctx, sel), repeat=rep)
    rows.append({"stage": "what-if re-evaluation of 18,500 sites", "median_s": t_w, "target_s": 0.3,
                 "baseline": "KD-tree recompute from coordinates", "baseline_s": t_wb, "speedup": t_wb / t_w})

    t0 = time.perf_counter()
    res_e = place_sites(proj, year=2025, context=ctx, method="exact", time_limit_s=args.exact_time_limit,
                        quotas="district")
    t_e = time.perf_counter() - t0
    pe = res_e.placement
    best = max(pe.objective, pg.objective)
    rows.append({"stage": "exact placement (2025 targets)", "median_s": t_e,
                 "note": f"status {pe.status}, gap {100 * pe.gap:.4f} % ({pe.bound_source}), objective "
                         f"{pe.objective:,.0f}; stages {_stages(pe)}",
                 "greedy/best": pg.objective / best if best else 1.0})
    rows.extend(_spopt_rows(ctx, rep))
    report("placement", rows)


def _stages(res) -> str:
    return ", ".join(f"{k} {v:.2f} s" for k, v in res.stages)


def _spopt_rows(ctx, rep: int) -> list[dict]:
    """spopt MCLP against geoplan on one single-radius instance: build and solve timed apart."""
    radius, p = 250.0, 60
    dist, A, w, p = _spopt_instance(ctx, n_demand=3000, n_cand=600, radius=radius, p=p)
    rows: list[dict] = []
    t_a, _, A2 = timed(lambda: sp.csc_array(dist <= radius), repeat=rep)
    t_gs, _, rg = timed(lambda: greedy_mclp(A2, w, p=p), repeat=rep)
    t_es, _, re_ = timed(lambda: exact_mclp(A2, w, p=p, time_limit_s=120), repeat=1)
    stage = dict(re_.stages)
    solve_e = stage.get("lagrangian", 0.0) + stage.get("highs", 0.0)
    rows.append({"stage": "geoplan: build coverage matrix 3,000 x 600 (from the distance matrix)", "median_s": t_a})
    rows.append({"stage": "geoplan greedy (+ local search, Lagrangian bound), same instance", "median_s": t_gs,
                 "note": f"objective {rg.objective:,.0f}, proven gap {100 * rg.gap:.3f} %"})
    rows.append({"stage": "geoplan exact, same instance: build (patterns, model)", "median_s": stage.get("model", 0.0),
                 "note": f"warm start {stage.get('start', 0.0):.2f} s (greedy)"})
    rows.append({"stage": "geoplan exact, same instance: solve (Lagrangian + HiGHS)", "median_s": solve_e,
                 "note": f"objective {re_.objective:,.0f}, status {re_.status}, gap {100 * re_.gap:.4f} %; total "
                         f"{t_es:.2f} s"})
    try:
        import pulp
        from spopt.locate import MCLP
    except ImportError as exc:  # spopt missing: say so, do not hide it
        return rows + [{"stage": "spopt MCLP", "note": f"spopt could not run: {exc}"}]
    solvers = {"CBC": lambda: pulp.PULP_CBC_CMD(msg=False, timeLimit=300)}
    if "HiGHS" in pulp.listSolvers(onlyAvailable=True):
        solvers["HiGHS"] = lambda: pulp.HiGHS(msg=False, timeLimit=300)
    for name, solver in solvers.items():
        t_b, _, m = timed(lambda: MCLP.from_cost_matrix(dist, w, service_radius=radius, p_facilities=p), repeat=1)
        t_s, _, m = timed(lambda m=m, solver=solver: m.solve(solver()), repeat=1)
        chosen = [j for j, v in enumerate(m.fac_vars) if v.value() and v.value() > 0.5]
        obj = float(w[np.asarray(A[:, chosen].sum(axis=1)).ravel() > 0].sum())
        rows.append({"stage": "spopt MCLP: build (PuLP model in Python)", "median_s": t_b, "note": name})
        rows.append({"stage": f"spopt MCLP: solve ({name} via PuLP)", "median_s": t_s,
                     "note": f"objective {obj:,.0f}; geoplan exact solve {solve_e:.2f} s "
                             f"({t_s / max(solve_e, 1e-9):.1f}x faster), geoplan exact/spopt {re_.objective / obj:.4f}, "
                             f"greedy/spopt {rg.objective / obj:.4f}"})
    return rows


if __name__ == "__main__":
    main()
