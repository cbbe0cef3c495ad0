"""Feasibility of a placement before solving, in planner words: which districts lack candidates, and the fix.

The solvers check their instances too (``group 3 needs at least …``); this
check runs first, on the project, so the planner reads district names, how many
candidate sites are missing where, and the option that fixes it.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ..errors import InfeasibleError, Problem
from ..project import Project

__all__ = ["check_candidates", "candidate_fix"]


def candidate_fix(*, modelled: bool, source: str, have: int, chosen: bool = False) -> str:
    """The options that give a placement more candidate sites (for messages).

    ``chosen``: the planner set the number or spacing of modelled candidates.
    """
    if modelled and chosen:
        return (f"leave out --n-candidates / --candidate-spacing-m (now {have:,} candidates, drawn by '{source}'): "
                "geoplan then draws 2.5 candidates per site each district needs, several per cell on a coarse "
                "population raster; or ask for more. Or --quotas area when the plan's density target is one figure "
                "for the whole area (then no district needs a minimum)")
    if modelled:
        return (f"more modelled candidates: --n-candidates N (now {have:,}, drawn by '{source}') or a finer "
                "--candidate-spacing-m; a coarse population raster gets several candidates per cell when asked for "
                "more than its cells. Or --quotas area when the plan's density target is one figure for the whole "
                "area (then no district needs a minimum)")
    return ("add candidate sites in those districts to the project's candidate inventories ([inventories.<name>] "
            "or [layers.candidates]), or plan with modelled candidates beside them (--candidates population, "
            "--n-candidates, --candidate-spacing-m); or --quotas area when the plan's density target is one figure "
            "for the whole area")


def check_candidates(proj: Project, *, p: int, quotas: NDArray[np.int64], cand_district: NDArray[np.int64],
                     modelled: bool, source: str, chosen: bool = False, excluded: int = 0) -> None:
    """Raise :class:`InfeasibleError` naming the districts whose minimum exceeds their candidate sites.

    Parameters
    ----------
    proj : Project
        For the district names.
    p : int
        New sites to place in all.
    quotas : ndarray of int
        Minimum new sites per district.
    cand_district : ndarray of int
        District of each candidate site.
    modelled, source, chosen
        Whether the candidates are modelled, how they were made and whether the
        planner chose their number (for the fix).
    excluded : int
        Candidates the hard siting constraints removed before (said in the message).

    Examples
    --------
    >>> import geoplan as gp
    >>> proj = gp.load_project()
    >>> try:
    ...     check_candidates(proj, p=5, quotas=np.array([5, 0, 0, 0, 0, 0]), cand_district=np.array([0, 0, 1]),
    ...                      modelled=True, source="population")
    ... except InfeasibleError as exc:
    ...     print(str(exc).splitlines()[1])
    - 思明区 (350203) needs at least 5 new sites but has 2 candidate sites (3 missing)
    """
    n = len(proj.districts)
    have = np.bincount(cand_district[cand_district >= 0], minlength=n)
    q = np.asarray(quotas, dtype=np.int64)
    short = np.flatnonzero(q > have)
    total = int(len(cand_district))
    fix = candidate_fix(modelled=modelled, source=source, have=total, chosen=chosen)
    problems = [Problem("candidates", f"{proj.district_codes[k]} {proj.district_names[k]}",
                        f"{proj.district_names[k]} ({proj.district_codes[k]}) needs at least {int(q[k]):,} new sites "
                        f"but has {int(have[k]):,} candidate sites ({int(q[k] - have[k]):,} missing)", fix)
                for k in short[np.argsort(-(q[short] - have[short]), kind="stable")]]
    if p > total:
        problems.append(Problem("candidates", None, f"{p:,} new sites requested but only {total:,} candidate sites "
                                f"exist ({p - total:,} missing)", fix + "; or plan fewer sites"))
    if not problems:
        return
    lines = [pr.message for pr in problems]
    removed = f" (after hard siting constraints removed {excluded:,} candidates)" if excluded else ""
    exc = InfeasibleError(f"not enough candidate sites for {p:,} new sites{removed}:\n- " + "\n- ".join(lines) +
                          f"\nFix: {fix}")
    exc.problems = problems  # type: ignore[attr-defined]
    raise exc
