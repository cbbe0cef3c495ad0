"""The one HiGHS runner: silence, min and max, cutoff and external bound, progress, cancel, hard stop."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest
import scipy.sparse as sp

import geoplan.placement._highs as highs_module
from geoplan.errors import SolverError
from geoplan.placement._highs import HighsModel, HighsProgress, solve_highs


def _knapsack(sense: str = "max", offset: float = 10.0) -> HighsModel:
    """max (min) x + 2y + offset with x + y <= 1.5 (>= 0.5), x, y binary: optimum 12 (11)."""
    lower, upper = (-np.inf, 1.5) if sense == "max" else (0.5, np.inf)
    return HighsModel.from_matrix(sp.csc_array(np.array([[1.0, 1.0]])), sense=sense, cost=[1.0, 2.0],
                                  col_lower=0.0, col_upper=1.0, row_lower=lower, row_upper=upper,
                                  integrality=[1, 1], offset=offset)


def _hard_mclp(n_rows: int = 3000, n_cols: int = 300, p: int = 20) -> tuple[HighsModel, np.ndarray]:
    """A maximal covering MIP HiGHS needs seconds to prove, and a feasible warm start."""
    rng = np.random.default_rng(3)
    B = sp.csc_array(sp.random_array((n_rows, n_cols), density=0.03, rng=rng, format="csc") > 0, dtype=np.float64)
    w = rng.integers(1, 100, n_rows).astype(float)
    M = sp.vstack([sp.hstack([-B, sp.eye_array(n_rows)]), sp.hstack([np.ones((1, n_cols)), sp.csr_array((1, n_rows))])])
    model = HighsModel.from_matrix(M, sense="max", cost=np.r_[np.zeros(n_cols), w], col_lower=0.0, col_upper=1.0,
                                   row_lower=np.r_[np.full(n_rows, -np.inf), p], row_upper=np.r_[np.zeros(n_rows), p],
                                   integrality=np.r_[np.ones(n_cols), np.zeros(n_rows)])
    x0 = np.zeros(n_cols)
    x0[:p] = 1.0
    return model, np.r_[x0, np.minimum(B @ x0, 1.0)]


@pytest.mark.parametrize("guarded", [False, True])
def test_max_and_min_with_offset_cutoff_and_bound(guarded):
    out = solve_highs(_knapsack("max"), guarded=guarded)
    assert out.label == "optimal" and out.objective == pytest.approx(12.0) and out.bound == pytest.approx(12.0)
    assert out.x is not None and out.x.round().tolist() == [0.0, 1.0] and out.guarded is guarded
    # a cutoff below the optimum changes nothing; above it, nothing beats it and it bounds the optimum
    assert solve_highs(_knapsack("max"), cutoff=11.5, guarded=guarded).objective == pytest.approx(12.0)
    none = solve_highs(_knapsack("max"), cutoff=12.5, guarded=guarded)
    assert none.label == "infeasible" and none.x is None and none.bound == pytest.approx(12.5)
    low = solve_highs(_knapsack("min"), guarded=guarded)
    assert low.label == "optimal" and low.objective == pytest.approx(11.0)
    assert solve_highs(_knapsack("min"), cutoff=10.5, guarded=guarded).label == "infeasible"


def test_linear_programme_reports_its_optimum_as_bound():
    model = _knapsack("max")
    lp = HighsModel(**{**model.__dict__, "integrality": None})
    out = solve_highs(lp)
    assert out.label == "optimal" and out.objective == pytest.approx(12.5) and out.bound == pytest.approx(12.5)


def test_external_bound_stops_the_search_and_tightens_the_bound():
    model, warm = _hard_mclp(600, 60, 6)
    proven = solve_highs(model, warm_start=warm, time_limit_s=60, mip_rel_gap=1e-6)
    # a bound equal to the optimum proves the first optimal incumbent at once
    out = solve_highs(model, warm_start=warm, bound=proven.objective, mip_rel_gap=1e-6, time_limit_s=60)
    assert out.label == "optimal" and out.bound == pytest.approx(proven.objective)
    assert out.objective == pytest.approx(proven.objective, rel=1e-6)


@pytest.mark.parametrize("guarded", [False, True])
def test_cancel_returns_the_incumbent_and_progress_is_reported(guarded):
    model, warm = _hard_mclp(1500, 150, 10)  # HiGHS needs over a minute to prove this one
    events: list[HighsProgress] = []
    stop = threading.Event()

    def progress(event: HighsProgress) -> None:
        events.append(event)
        if event.elapsed_s > 0.5:
            stop.set()

    out = solve_highs(model, warm_start=warm, time_limit_s=120, mip_rel_gap=0.0, guarded=guarded,
                      progress=progress, cancel=stop.is_set)
    assert out.label == "interrupted" and out.x is not None and out.elapsed_s < 60
    assert len(events) >= 1 and all(e.bound >= e.objective - 1e-6 for e in events if np.isfinite(e.objective))
    assert out.objective >= float(model.cost @ warm) - 1e-6  # never worse than the warm start


def test_guarded_run_is_killed_when_it_overruns(monkeypatch, caplog):
    model, warm = _hard_mclp(1500, 150, 10)
    monkeypatch.setattr(highs_module, "GRACE_S", -1.8)  # stop 0.2 s after HiGHS starts, as if it ignored its limit
    monkeypatch.setattr(highs_module, "GRACE_SHARE", -1.0)
    out = solve_highs(model, warm_start=warm, time_limit_s=2.0, guarded=True)
    assert out.label == "time_limit" and "overrunning" in out.text
    assert out.x is not None and out.objective >= float(model.cost @ warm) - 1e-6


def test_nothing_reaches_stdout_in_process_or_in_the_child():
    code = textwrap.dedent("""
        import numpy as np, scipy.sparse as sp
        from geoplan.placement._highs import HighsModel, solve_highs
        m = HighsModel.from_matrix(sp.csc_array(np.array([[1.0, 1.0]])), sense="max", cost=[1.0, 2.0],
                                   col_lower=0.0, col_upper=1.0, row_lower=-np.inf, row_upper=1.5,
                                   integrality=[1, 1])
        assert solve_highs(m, guarded=False).label == "optimal"
        assert solve_highs(m, guarded=True).label == "optimal"
        assert solve_highs(HighsModel(**{**m.__dict__, "integrality": None}), options={"output_flag": True}).label == "optimal"
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""


def test_malformed_model_or_warm_start_is_refused():
    model = _knapsack()
    with pytest.raises(SolverError, match="warm start has 3 values for 2 columns"):
        solve_highs(model, warm_start=[0.0, 1.0, 0.0])
    bad = HighsModel(**{**model.__dict__, "start": np.array([0, 1], dtype=np.int32)})
    with pytest.raises(SolverError, match="do not fit"):
        solve_highs(bad)
    with pytest.raises(SolverError, match="rejected option"):
        solve_highs(model, options={"no_such_option": 1})
