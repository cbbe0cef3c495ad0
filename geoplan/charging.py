"""EV charging: the share rule for new public car parks, and service-radius gaps.

Two questions, one module:

1. **Compliance.** The Xiamen plan asks that at least 20 % of the spaces in
   *new* public car parks have chargers ("新建公共停车场新能源充电桩车位占比不低于
   20%"). For each car park: ``required = ceil(share × SPACES)``; only spaces
   with a charger installed (``CHG_BUILT``) count; spaces merely reserved for
   one (``CHG_RESV``: ducts and capacity, no charger) are kept apart, and are
   where the shortfall ``to_add = max(0, required − CHG_BUILT)`` is cheapest
   to fit (``from_reserved``), before new fit-outs (``new_fitout``). Existing
   car parks are not bound by the rule; their figures at the same share are
   reported for information.
2. **Service radius.** Residents of the core (urban) area should be within
   ``radius_m`` of a public charging station. Neither 2023–2025 plan states a
   service radius: the 900 m default is an **assumption from outside both
   plans**, the core-area radius (< 0.9 km) of the earlier
   厦门市电动汽车充电基础设施专项规划(2016-2020) (厦府办〔2016〕130号); every result
   says so (``radius_assumption``, ``radius_note``) unless a radius is given.
   The core area is taken as the populated cells of at least
   ``core_density_km2`` residents per km² (default 1,500: the "urban centre"
   density of the UN/EU Degree of Urbanisation); stations are the car parks
   with installed chargers, the ``charging_stations`` layer, and, once
   compliant, every new car park. New stations close the remaining gaps by
   greedy set cover (or maximal covering for a fixed number) through
   :mod:`geoplan.placement`, at existing car parks without chargers or at
   populated cells.

Array core: :func:`share_compliance`; project level: :func:`charging_compliance`,
:func:`place_charging`, and :func:`check_section` for ``geoplan check``.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import operator
from dataclasses import dataclass
from time import perf_counter
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray
from scipy.spatial import cKDTree

from ._json import plain, records
from .edge import populated_block_cells
from .errors import ConfigError, Problem, ValidationError
from .placement import PlacementResult, greedy_mclp, greedy_set_cover
from .placement._steps import marginal_gains
from .project import Project, points_in_districts
from .targets.plans import Plan
from .targets.scope import plan_of

__all__ = [
    "SERVICE_RADIUS_M",
    "SERVICE_RADIUS_SOURCE",
    "SERVICE_RADIUS_ASSUMPTION",
    "radius_basis",
    "CORE_DENSITY_KM2",
    "DEFAULT_SHARE",
    "Compliance",
    "share_compliance",
    "CarParkTotals",
    "ComplianceTotals",
    "CarParkCompliance",
    "charging_compliance",
    "ChargingSummary",
    "ChargingPlan",
    "place_charging",
    "ServiceRadius",
    "ChargingSection",
    "check_section",
]

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())

#: Core-area public charging service radius, metres (< 0.9 km): an ASSUMPTION from outside both 2023–2025 plans.
SERVICE_RADIUS_M = 900.0
#: Why the default radius is an assumption, in every result that uses it.
SERVICE_RADIUS_ASSUMPTION = ("assumption from outside both plans: neither the Xiamen nor the Fujian 2023-2025 plan "
                             "states a charging service radius; the 900 m default is the core-area radius of the "
                             "2016-2020 Xiamen charging special plan (厦府办〔2016〕130号). Give your own with "
                             "--radius-m (radius_m=)")
#: Where the service radius comes from.
SERVICE_RADIUS_SOURCE = "厦门市电动汽车充电基础设施专项规划(2016-2020), 厦府办〔2016〕130号: core-area public charging service radius < 0.9 km"
#: Residents per km² from which a populated cell counts as core (urban) area.
CORE_DENSITY_KM2 = 1500.0
#: The plan's share of charging spaces in new public car parks, used when the plan states none.
DEFAULT_SHARE = 0.20


@dataclass(frozen=True, eq=False)
class Compliance:
    """The share rule applied to car parks (arrays in the input order).

    Attributes
    ----------
    required : ndarray of int
        Spaces that must have chargers: ``ceil(share × spaces)``.
    to_add : ndarray of int
        Chargers still to install: ``max(0, required − built)``.
    from_reserved : ndarray of int
        Part of ``to_add`` that fits on reserved spaces: ``min(to_add, reserved)``.
    new_fitout : ndarray of int
        The rest of ``to_add``, on spaces with nothing prepared.
    compliant : ndarray of bool
        ``built >= required``.
    share_built : ndarray of float
        ``built / spaces`` (NaN for a car park of 0 spaces).
    share : float
        The share applied.
    """

    required: NDArray[np.int64]
    to_add: NDArray[np.int64]
    from_reserved: NDArray[np.int64]
    new_fitout: NDArray[np.int64]
    compliant: NDArray[np.bool_]
    share_built: NDArray[np.float64]
    share: float


def _counts(value: ArrayLike, n: int | None, field: str, problems: list[Problem]) -> NDArray[np.int64] | None:
    arr = np.asarray(value)
    if arr.ndim != 1 or (n is not None and arr.shape[0] != n):
        problems.append(Problem("car_parks", field, f"has shape {arr.shape}, expected one value per car park",
                                "pass one count per car park, in the same order"))
        return None
    if arr.size and not np.issubdtype(arr.dtype, np.number):
        problems.append(Problem("car_parks", field, f"has dtype {arr.dtype}, expected whole numbers",
                                "store space counts as integers"))
        return None
    f = arr.astype(np.float64)
    if not np.all(np.isfinite(f)) or np.any(f < 0) or np.any(f != np.round(f)):
        bad = np.flatnonzero(~np.isfinite(f) | (f < 0) | (f != np.round(f)))
        problems.append(Problem("car_parks", field, f"has {bad.size} values that are not whole numbers >= 0 "
                                f"(rows {bad[:5].tolist()})", "store space counts as whole numbers >= 0"))
        return None
    return f.astype(np.int64)


def _check_share(share: float) -> float:
    s = float(share)
    if not (math.isfinite(s) and 0 < s <= 1):
        raise ConfigError(f"share must be in (0, 1], got {share!r}. Fix: pass e.g. --share 0.20 for 20 %")
    return s


def share_compliance(spaces: ArrayLike, built: ArrayLike, *, share: float = DEFAULT_SHARE,
                     reserved: ArrayLike | None = None, names: list[str] | None = None) -> Compliance:
    """Apply the charging-space share rule to car parks.

    Parameters
    ----------
    spaces : array_like of int
        Total parking spaces of each car park.
    built : array_like of int
        Spaces with a charger installed.
    share : float
        Required share of equipped spaces, in (0, 1].
    reserved : array_like of int, optional
        Spaces reserved (ducted) for chargers but not equipped; they do not count as built.
    names : list of str, optional
        Car-park names, for messages.

    Raises
    ------
    ValidationError
        Counts that are not whole numbers >= 0, or more built plus reserved
        spaces than spaces, naming every such car park.

    Examples
    --------
    >>> c = share_compliance([100, 55, 7], [20, 5, 0], reserved=[0, 3, 4])
    >>> c.required.tolist(), c.to_add.tolist(), c.from_reserved.tolist(), c.new_fitout.tolist()
    ([20, 11, 2], [0, 6, 2], [0, 3, 2], [0, 3, 0])
    """
    s = _check_share(share)
    problems: list[Problem] = []
    sp_ = _counts(spaces, None, "SPACES", problems)
    n = None if sp_ is None else sp_.shape[0]
    b = _counts(built, n, "CHG_BUILT", problems)
    r = _counts(np.zeros(n or 0, dtype=np.int64) if reserved is None else reserved, n, "CHG_RESV", problems)
    if problems:
        raise ValidationError(problems)
    assert sp_ is not None and b is not None and r is not None
    over = np.flatnonzero(b + r > sp_)
    if over.size:
        label = [names[i] if names else f"row {i}" for i in over[:5]]
        detail = ", ".join(f"{lab} ({b[i]} built + {r[i]} reserved > {sp_[i]} spaces)"
                           for lab, i in zip(label, over[:5], strict=True))
        more = f" and {over.size - 5} more" if over.size > 5 else ""
        raise ValidationError(Problem("car_parks", "CHG_BUILT", f"{over.size} car parks have more charging "
                                      f"spaces than spaces: {detail}{more}",
                                      "correct SPACES, CHG_BUILT or CHG_RESV (reserved spaces are spaces "
                                      "without a charger yet, so built + reserved <= spaces)"))
    # the small epsilon keeps exact products (0.2 × 100) from rounding up
    required = np.ceil(s * sp_ - 1e-9).astype(np.int64)
    to_add = np.maximum(required - b, 0)
    from_res = np.minimum(to_add, r)
    with np.errstate(divide="ignore", invalid="ignore"):
        share_built = np.where(sp_ > 0, b / np.where(sp_ > 0, sp_, 1), np.nan)
    out = Compliance(required=required, to_add=to_add, from_reserved=from_res, new_fitout=to_add - from_res,
                     compliant=b >= required, share_built=share_built, share=s)
    for arr in (out.required, out.to_add, out.from_reserved, out.new_fitout, out.compliant, out.share_built):
        arr.setflags(write=False)
    return out


@dataclass(frozen=True)
class CarParkTotals:
    """Totals of a group of car parks (new or existing) under the share rule."""

    car_parks: int
    compliant: int
    compliance_rate: float | None
    spaces: int
    charging_spaces_built: int
    charging_spaces_reserved: int
    share_built: float | None
    with_chargers: int
    required: int
    to_add: int
    from_reserved: int
    new_fitout: int
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (``note`` only where there is one)."""
        d = plain(dataclasses.asdict(self))
        if d["note"] is None:
            d.pop("note")
        return d  # type: ignore[no-any-return]


@dataclass(frozen=True)
class ComplianceTotals:
    """City totals of the share rule: new car parks (bound by it) and existing ones (for information)."""

    share: float
    new: CarParkTotals
    existing: CarParkTotals

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {"share": self.share, "new": self.new.to_dict(), "existing": self.existing.to_dict()}


@dataclass(frozen=True, eq=False)
class CarParkCompliance:
    """The share rule for a project's car parks.

    Attributes
    ----------
    table : DataFrame
        One row per car park: NAME, IS_NEW, XZQDM, XZQMC, SPACES, CHG_BUILT,
        CHG_RESV, share_built, required, to_add, from_reserved, new_fitout,
        compliant, rule_applies (IS_NEW = 1). For existing car parks the
        figures are what the share would ask, for information.
    districts : DataFrame
        Per district: new car parks, compliant, spaces, built, reserved,
        required, to_add (new car parks only), and existing car parks' count,
        spaces, built.
    totals : ComplianceTotals
        City totals for new and for existing car parks.
    share : float
    """

    table: pd.DataFrame
    districts: pd.DataFrame
    totals: ComplianceTotals
    share: float


def _car_parks(proj: Project) -> gpd.GeoDataFrame:
    if proj.layer("car_parks") is None:
        raise ConfigError("the project has no 'car_parks' layer (SPACES, CHG_BUILT, CHG_RESV, IS_NEW). "
                          "Fix: add [layers.car_parks] to the project file")
    return proj.metric("car_parks")


def _totals(t: pd.DataFrame, note: str | None = None) -> CarParkTotals:
    spaces, built = int(t["SPACES"].sum()), int(t["CHG_BUILT"].sum())
    return CarParkTotals(
        car_parks=len(t), compliant=int(t["compliant"].sum()),
        compliance_rate=round(float(t["compliant"].mean()), 6) if len(t) else None,
        spaces=spaces, charging_spaces_built=built, charging_spaces_reserved=int(t["CHG_RESV"].sum()),
        share_built=round(built / spaces, 6) if spaces else None, with_chargers=int((t["CHG_BUILT"] > 0).sum()),
        required=int(t["required"].sum()), to_add=int(t["to_add"].sum()),
        from_reserved=int(t["from_reserved"].sum()), new_fitout=int(t["new_fitout"].sum()), note=note)


def _district_compliance(proj: Project, table: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for code, name in zip(proj.district_codes + [""], proj.district_names + ["(outside)"], strict=True):
        t = table[table["XZQDM"] == code]
        if code == "" and t.empty:
            continue
        n_, e_ = t[t["rule_applies"]], t[~t["rule_applies"]]
        rows.append({
            "XZQDM": code, "XZQMC": name, "new_car_parks": len(n_), "compliant": int(n_["compliant"].sum()),
            "new_spaces": int(n_["SPACES"].sum()), "new_built": int(n_["CHG_BUILT"].sum()),
            "new_reserved": int(n_["CHG_RESV"].sum()), "required": int(n_["required"].sum()),
            "to_add": int(n_["to_add"].sum()), "from_reserved": int(n_["from_reserved"].sum()),
            "new_fitout": int(n_["new_fitout"].sum()),
            "existing_car_parks": len(e_), "existing_spaces": int(e_["SPACES"].sum()),
            "existing_built": int(e_["CHG_BUILT"].sum()),
        })
    return pd.DataFrame(rows)


def charging_compliance(proj: Project, *, share: float = DEFAULT_SHARE) -> CarParkCompliance:
    """Apply the share rule to the project's ``car_parks`` layer (what-if: vary ``share``).

    Examples
    --------
    >>> import geoplan as gp
    >>> c = charging_compliance(gp.load_project(), share=0.20)
    >>> new = c.totals.new
    >>> new.to_add == new.from_reserved + new.new_fitout, new.car_parks
    (True, 120)
    """
    cp = _car_parks(proj)
    names = cp["NAME"].astype(str).tolist()
    resv = cp["CHG_RESV"].fillna(0).to_numpy() if "CHG_RESV" in cp.columns else None
    c = share_compliance(cp["SPACES"].to_numpy(), cp["CHG_BUILT"].to_numpy(), share=share, reserved=resv,
                         names=names)
    dist = proj.district_of("car_parks")
    codes = np.array(proj.district_codes + [""], dtype=object)
    dnames = np.array(proj.district_names + ["(outside)"], dtype=object)
    is_new = cp["IS_NEW"].to_numpy(dtype=np.int64) == 1
    table = pd.DataFrame({
        "NAME": names, "IS_NEW": is_new.astype(np.int64), "XZQDM": codes[dist], "XZQMC": dnames[dist],
        "SPACES": cp["SPACES"].to_numpy(dtype=np.int64), "CHG_BUILT": cp["CHG_BUILT"].to_numpy(dtype=np.int64),
        "CHG_RESV": np.zeros(len(cp), dtype=np.int64) if resv is None else resv.astype(np.int64),
        "share_built": np.round(c.share_built, 6), "required": c.required, "to_add": c.to_add,
        "from_reserved": c.from_reserved, "new_fitout": c.new_fitout, "compliant": c.compliant,
        "rule_applies": is_new,
    })
    totals = ComplianceTotals(
        share=c.share, new=_totals(table[table["rule_applies"]]),
        existing=_totals(table[~table["rule_applies"]],
                         note="existing car parks are not bound by the rule; required/to_add show the same share"))
    return CarParkCompliance(table=table, districts=_district_compliance(proj, table), totals=totals, share=c.share)


# --------------------------------------------------------------------------------------------------
# Service radius
# --------------------------------------------------------------------------------------------------


def _xy(gdf: gpd.GeoDataFrame) -> NDArray[np.float64]:
    return np.column_stack([gdf.geometry.x.to_numpy(), gdf.geometry.y.to_numpy()]).reshape(-1, 2)


def _within(points: NDArray[np.float64], stations: NDArray[np.float64], radius_m: float) -> NDArray[np.bool_]:
    if stations.shape[0] == 0 or points.shape[0] == 0:
        return np.zeros(points.shape[0], dtype=np.bool_)
    d, _ = cKDTree(stations).query(points, k=1, distance_upper_bound=radius_m * (1 + 1e-12))
    return np.isfinite(d)


def _stations(proj: Project, *, include_planned: bool) -> tuple[NDArray[np.float64], int, int]:
    """Public charging stations now: car parks with chargers and the charging_stations layer."""
    parts = [np.zeros((0, 2))]
    n_cp = n_st = 0
    if proj.layer("car_parks") is not None:
        cp = proj.metric("car_parks")
        has = cp["CHG_BUILT"].to_numpy() > 0
        parts.append(_xy(cp[has]))
        n_cp = int(has.sum())
    if proj.layer("charging_stations") is not None:
        st = proj.metric("charging_stations")
        status = st["STATUS"].astype(str)
        keep = (status == "existing") | ((status == "planned") & include_planned)
        parts.append(_xy(st[keep.to_numpy()]))
        n_st = int(keep.sum())
    return np.vstack(parts), n_cp, n_st


def _core(proj: Project, core_density_km2: float) -> NDArray[np.bool_]:
    if not (math.isfinite(core_density_km2) and core_density_km2 >= 0):
        raise ConfigError(f"core_density_km2 must be >= 0 residents per km², got {core_density_km2!r}")
    return proj.demand.density_km2 >= core_density_km2


def radius_basis(radius_m: float) -> tuple[str, bool, str]:
    """Source of a service radius, whether it is the outside-the-plans assumption, and the note to show.

    Examples
    --------
    >>> radius_basis(900.0)[1], radius_basis(500.0)[:2]
    (True, ('given by the planner', False))
    """
    if float(radius_m) == SERVICE_RADIUS_M:
        return SERVICE_RADIUS_SOURCE, True, f"{SERVICE_RADIUS_M:g} m service radius: {SERVICE_RADIUS_ASSUMPTION}"
    return "given by the planner", False, f"{float(radius_m):g} m service radius given by the planner"


def _check_radius(radius_m: float) -> float:
    r = float(radius_m)
    if not (math.isfinite(r) and r > 0):
        raise ConfigError(f"radius_m must be a positive number of metres, got {radius_m!r}. Fix: pass e.g. "
                          "--radius-m 900")
    return r


@dataclass(frozen=True)
class ChargingSummary:
    """Totals and parameters of a charging plan (the ``summary`` of ``geoplan.charging/1``)."""

    share: float
    radius_m: float
    radius_source: str
    core_density_km2: float
    target_share: float
    new_car_parks: CarParkTotals
    existing_car_parks: CarParkTotals
    stations_now: int
    stations_now_car_parks: int
    stations_now_layer: int
    stations_after_compliance: int
    new_stations: int
    new_stations_at_car_parks: int
    core_population: float
    core_beyond_now: float
    core_beyond_after_compliance: float
    core_beyond_after: float
    core_within_share_now: float
    core_within_share_after: float
    placement_method: str
    candidates: int
    runtime_s: float
    modelled_layers: tuple[str, ...]
    radius_assumption: bool = False
    radius_note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        d = plain({f.name: getattr(self, f.name) for f in dataclasses.fields(self)})
        d["new_car_parks"] = self.new_car_parks.to_dict()
        d["existing_car_parks"] = self.existing_car_parks.to_dict()
        return d  # type: ignore[no-any-return]


@dataclass(frozen=True, eq=False)
class ChargingPlan:
    """Car-park compliance, service-radius gaps and new public charging stations.

    Attributes
    ----------
    compliance : CarParkCompliance
    stations : GeoDataFrame
        New public charging stations in EPSG:4490 with the ``charging_stations``
        layer's fields (STN_ID, STATUS = planned) and SOURCE (car_park: an
        existing car park without chargers; cell: a populated cell), NAME,
        XZQDM, XZQMC, POP_GAIN (core residents newly within the radius), MODELLED.
    districts : DataFrame
        Per district: the compliance figures, core population, residents beyond
        the radius now / after compliance / after the new stations, new stations.
    summary : ChargingSummary
        Totals and parameters.
    placement : PlacementResult
        The array-level result of the station placement.
    """

    compliance: CarParkCompliance
    stations: gpd.GeoDataFrame
    districts: pd.DataFrame
    summary: ChargingSummary
    placement: PlacementResult

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: summary, districts, car parks and new stations."""
        st = pd.DataFrame(self.stations.drop(columns="geometry"))
        st["lon"] = self.stations.geometry.x.round(6)
        st["lat"] = self.stations.geometry.y.round(6)
        return {"schema": "geoplan.charging/1", "summary": self.summary.to_dict(),
                "districts": records(self.districts), "car_parks": records(self.compliance.table),
                "stations": records(st)}


def _modelled(proj: Project, keys: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(k for k in keys if k in proj.provenance and proj.is_modelled(k))


def _check_options(radius_m: float, cell_spacing_m: float, new_stations: int | None,
                   target_share: float) -> tuple[float, int | None]:
    r = _check_radius(radius_m)
    if not (math.isfinite(cell_spacing_m) and 0 < cell_spacing_m <= r / math.sqrt(2) + 1e-9):
        raise ConfigError(f"cell_spacing_m must be in (0, radius_m / √2 = {r / math.sqrt(2):.0f}] m so that every "
                          f"core cell has a candidate within the radius, got {cell_spacing_m!r}")
    if new_stations is not None:
        try:
            new_stations = operator.index(new_stations)
        except TypeError:
            raise ConfigError(f"new_stations must be a whole number, got {new_stations!r}") from None
    elif not (math.isfinite(target_share) and 0 < target_share <= 1):
        raise ConfigError(f"target_share must be in (0, 1], got {target_share!r}")
    return r, new_stations


@dataclass(frozen=True, eq=False)
class _Gaps:
    """The station-placement instance: core rows, candidate columns, coverage already there."""

    cxy: NDArray[np.float64]
    n_car_park_candidates: int
    car_park_rows: NDArray[np.int64]
    A: sp.csc_array
    weights: NDArray[np.float64]
    covered0: NDArray[np.bool_]


def _gap_instance(proj: Project, cp: gpd.GeoDataFrame, core: NDArray[np.bool_], within_comp: NDArray[np.bool_],
                  r: float, cell_spacing_m: float) -> _Gaps:
    """Candidates: existing car parks without chargers, then the heaviest cell of each block of uncovered core."""
    d = proj.demand
    bare = (cp["IS_NEW"].to_numpy() == 0) & (cp["CHG_BUILT"].to_numpy() == 0)
    cand_cp = np.flatnonzero(bare)
    gap = np.flatnonzero(core & ~within_comp)
    blocks = gap[populated_block_cells(d.x[gap], d.y[gap], d.pop[gap], spacing_m=cell_spacing_m)]
    cxy = np.vstack([_xy(cp.iloc[cand_cp]), d.xy[blocks]])
    rows = np.flatnonzero(core)
    row_of = np.full(len(d), -1, dtype=np.int64)
    row_of[rows] = np.arange(rows.size)
    if gap.size and cxy.shape[0]:
        pairs = cKDTree(d.xy[gap]).sparse_distance_matrix(cKDTree(cxy), r * (1 + 1e-12), output_type="ndarray")
        ri = row_of[gap[pairs["i"]]]
        cj = pairs["j"]
    else:
        ri = cj = np.zeros(0, dtype=np.int64)
    A = sp.csc_array((np.ones(ri.size, dtype=np.int8), (ri, cj)), shape=(rows.size, cxy.shape[0]))
    return _Gaps(cxy, cand_cp.size, cand_cp, A, d.pop[rows], within_comp[rows])


def _solve_gaps(g: _Gaps, *, new_stations: int | None, target_share: float) -> PlacementResult:
    secondary = np.r_[np.ones(g.n_car_park_candidates), np.zeros(g.cxy.shape[0] - g.n_car_park_candidates)]
    if new_stations is not None:
        return greedy_mclp(g.A, g.weights, p=new_stations, covered0=g.covered0, secondary=secondary)
    w = g.weights
    already = float(w[g.covered0].sum()) / float(w.sum()) if w.sum() > 0 else 1.0
    if already >= target_share or g.cxy.shape[0] == 0:
        return greedy_mclp(g.A, w, p=0, covered0=g.covered0, secondary=secondary)
    return greedy_set_cover(g.A, w, target_share=target_share, covered0=g.covered0, secondary=secondary)


def _stations_frame(proj: Project, cp: gpd.GeoDataFrame, g: _Gaps, res: PlacementResult) -> gpd.GeoDataFrame:
    sel = res.selected
    new_xy = g.cxy[sel]
    # newly covered core residents credited to the station that covered them first (greedy order)
    gain = marginal_gains(sp.csc_array(g.A), g.weights, g.covered0, sel)
    is_cp = sel < g.n_car_park_candidates
    st_names = np.array(cp["NAME"].astype(str).tolist(), dtype=object)
    names = [st_names[g.car_park_rows[j]] if j < g.n_car_park_candidates else "" for j in sel.tolist()]
    st_pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(new_xy[:, 0], new_xy[:, 1]), crs=proj.metric_crs)
    sd = points_in_districts(st_pts, proj.metric("districts"))
    codes = np.array(proj.district_codes + [""], dtype=object)
    dnames = np.array(proj.district_names + ["(outside)"], dtype=object)
    modelled = _modelled(proj, ("car_parks", "charging_stations", "population"))
    return gpd.GeoDataFrame({
        "STN_ID": [f"CS{i + 1:04d}" for i in range(sel.size)], "STATUS": ["planned"] * sel.size,
        "SOURCE": np.where(is_cp, "car_park", "cell"), "NAME": names,
        "XZQDM": codes[sd], "XZQMC": dnames[sd], "POP_GAIN": np.round(gain, 1),
        "MODELLED": np.full(sel.size, int(bool(modelled)), dtype=np.int64),
    }, geometry=st_pts.geometry.to_numpy(), crs=proj.metric_crs).to_crs(4490)


def place_charging(proj: Project, *, share: float = DEFAULT_SHARE, radius_m: float = SERVICE_RADIUS_M,
                   core_density_km2: float = CORE_DENSITY_KM2, new_stations: int | None = None,
                   target_share: float = 1.0, include_planned: bool = False,
                   cell_spacing_m: float = 300.0) -> ChargingPlan:
    """Car-park compliance with the share rule, and new stations that close the service-radius gaps.

    Parameters
    ----------
    proj : Project
        Needs a ``car_parks`` layer; a ``charging_stations`` layer is used when present.
    share : float
        Required share of equipped spaces in new public car parks.
    radius_m : float
        Service radius, metres (default 900 m: an assumption from outside both 2023–2025 plans,
        :data:`SERVICE_RADIUS_SOURCE`; the result says so in ``summary.radius_note``).
    core_density_km2 : float
        Residents per km² from which a cell is core area (0: every populated cell).
    new_stations : int, optional
        Place exactly this many new stations (maximal covering); by default as
        few as greedy set cover needs to reach ``target_share``.
    target_share : float
        Share of core residents to bring within the radius (set cover), in (0, 1].
    include_planned : bool
        Count ``planned`` stations of the ``charging_stations`` layer as existing.
    cell_spacing_m : float
        Spacing of the populated-cell candidates; at most ``radius_m / √2`` so
        every core cell has a candidate within the radius.

    Returns
    -------
    ChargingPlan

    Examples
    --------
    >>> import geoplan as gp
    >>> plan = place_charging(gp.load_project(), share=0.20)
    >>> s = plan.summary
    >>> s.core_beyond_after, len(plan.stations) == s.new_stations
    (0.0, True)
    """
    started = perf_counter()
    r, new_stations = _check_options(radius_m, cell_spacing_m, new_stations, target_share)
    comp = charging_compliance(proj, share=share)
    cp = proj.metric("car_parks")
    d = proj.demand
    core = _core(proj, core_density_km2)
    now_xy, n_cp, n_st = _stations(proj, include_planned=include_planned)
    within_now = _within(d.xy, now_xy, r)
    new_cp = (cp["IS_NEW"].to_numpy() == 1) & (comp.table["required"].to_numpy() > 0) \
        & (cp["CHG_BUILT"].to_numpy() == 0)
    within_comp = within_now | _within(d.xy, _xy(cp[new_cp]), r)
    g = _gap_instance(proj, cp, core, within_comp, r, cell_spacing_m)
    res = _solve_gaps(g, new_stations=new_stations, target_share=target_share)
    stations = _stations_frame(proj, cp, g, res)
    within_after = within_comp | _within(d.xy, g.cxy[res.selected], r)

    n_d = len(proj.districts)

    def by_d(mask: NDArray[np.bool_]) -> NDArray[np.float64]:
        return np.bincount(d.district[mask], weights=d.pop[mask], minlength=n_d).astype(np.float64)

    core_pop = by_d(core)
    b_now, b_comp, b_after = by_d(core & ~within_now), by_d(core & ~within_comp), by_d(core & ~within_after)
    sd = np.asarray(proj.district_codes + [""], dtype=object)
    per_d_st = stations["XZQDM"].value_counts().reindex(sd[:-1], fill_value=0).to_numpy(dtype=np.int64)
    extra = pd.DataFrame({
        "XZQDM": proj.district_codes, "core_population": core_pop.round(1),
        "beyond_now": b_now.round(1), "beyond_after_compliance": b_comp.round(1),
        "beyond_after": b_after.round(1), "new_stations": per_d_st,
    })
    districts = comp.districts.copy().merge(extra, on="XZQDM", how="left")
    core_total = float(core_pop.sum())
    summary = ChargingSummary(
        share=comp.share, radius_m=r, radius_source=radius_basis(r)[0], radius_assumption=radius_basis(r)[1],
        radius_note=radius_basis(r)[2], core_density_km2=float(core_density_km2),
        target_share=float(target_share), new_car_parks=comp.totals.new, existing_car_parks=comp.totals.existing,
        stations_now=int(now_xy.shape[0]), stations_now_car_parks=n_cp, stations_now_layer=n_st,
        stations_after_compliance=int(now_xy.shape[0] + new_cp.sum()), new_stations=int(res.selected.size),
        new_stations_at_car_parks=int((res.selected < g.n_car_park_candidates).sum()),
        core_population=round(core_total, 1), core_beyond_now=round(float(b_now.sum()), 1),
        core_beyond_after_compliance=round(float(b_comp.sum()), 1), core_beyond_after=round(float(b_after.sum()), 1),
        core_within_share_now=round(1 - float(b_now.sum()) / core_total, 6) if core_total else 1.0,
        core_within_share_after=round(1 - float(b_after.sum()) / core_total, 6) if core_total else 1.0,
        placement_method=res.method, candidates=int(g.cxy.shape[0]), runtime_s=round(perf_counter() - started, 3),
        modelled_layers=_modelled(proj, ("car_parks", "charging_stations", "population")))
    log.info("place_charging: %d new car parks, %d to add; %d new stations, core beyond %.0f -> %.0f",
             comp.totals.new.car_parks, comp.totals.new.to_add, res.selected.size, b_now.sum(), b_after.sum())
    return ChargingPlan(compliance=comp, stations=stations, districts=districts, summary=summary, placement=res)


@dataclass(frozen=True)
class ServiceRadius:
    """Core residents within the service radius of today's public stations (part of :class:`ChargingSection`)."""

    radius_m: float
    source: str
    core_density_km2: float
    stations: int
    stations_car_parks: int
    stations_layer: int
    core_population: float
    core_within: float
    core_beyond: float
    core_within_share: float
    assumption: bool = False
    note: str = ""


@dataclass(frozen=True)
class ChargingSection:
    """The new-car-park charging share and the service radius (``geoplan check``).

    The compliance figures are ``None`` (and left out of :meth:`to_dict`) when
    the project has no ``car_parks`` layer; ``note`` says so.
    """

    indicator: str
    plan: str
    target_share: float
    target_year: int | None
    quote: str | None
    target_source: str
    service_radius: ServiceRadius
    modelled_layers: tuple[str, ...]
    note: str | None = None
    new_car_parks: int | None = None
    compliant: int | None = None
    compliance_rate: float | None = None
    spaces: int | None = None
    charging_spaces_built: int | None = None
    charging_spaces_reserved: int | None = None
    share_built: float | None = None
    required: int | None = None
    to_add: int | None = None
    from_reserved: int | None = None
    new_fitout: int | None = None
    meets_target: bool | None = None
    meets_target_aggregate: bool | None = None
    existing_car_parks: CarParkTotals | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (the ``charging`` section of ``geoplan.check/1``)."""
        keep = ("target_year", "quote", "compliance_rate", "share_built")
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        d = {k: v for k, v in d.items() if v is not None or (k in keep and self.new_car_parks is not None)
             or k in ("target_year", "quote")}
        if self.existing_car_parks is not None:
            d["existing_car_parks"] = self.existing_car_parks.to_dict()
        d["service_radius"] = dataclasses.asdict(self.service_radius)
        return plain(d)  # type: ignore[no-any-return]


def _compliance_fields(comp: CarParkCompliance, share: float) -> dict[str, Any]:
    new = comp.totals.new
    return dict(
        new_car_parks=new.car_parks, compliant=new.compliant, compliance_rate=new.compliance_rate, spaces=new.spaces,
        charging_spaces_built=new.charging_spaces_built, charging_spaces_reserved=new.charging_spaces_reserved,
        share_built=new.share_built, required=new.required, to_add=new.to_add, from_reserved=new.from_reserved,
        new_fitout=new.new_fitout, meets_target=new.car_parks > 0 and new.compliant == new.car_parks,
        meets_target_aggregate=new.share_built is not None and new.share_built >= share - 1e-12,
        existing_car_parks=comp.totals.existing)


def _service_radius(proj: Project, r: float, core_density_km2: float) -> ServiceRadius:
    d = proj.demand
    core = _core(proj, core_density_km2)
    st_xy, n_cp, n_st = _stations(proj, include_planned=False)
    within = _within(d.xy, st_xy, r)
    core_pop = float(d.pop[core].sum())
    inside = float(d.pop[core & within].sum())
    return ServiceRadius(
        radius_m=r, source=radius_basis(r)[0], assumption=radius_basis(r)[1], note=radius_basis(r)[2],
        core_density_km2=float(core_density_km2), stations=int(st_xy.shape[0]), stations_car_parks=n_cp, stations_layer=n_st,
        core_population=round(core_pop, 1), core_within=round(inside, 1), core_beyond=round(core_pop - inside, 1),
        core_within_share=round(inside / core_pop, 6) if core_pop else 1.0)


def check_section(proj: Project, *, plan: Plan | str | None = None, year: int = 2025,
                  radius_m: float = SERVICE_RADIUS_M, core_density_km2: float = CORE_DENSITY_KM2) -> ChargingSection:
    """The new-car-park charging share and the service radius against the project's layers.

    For ``geoplan check``. The share target is the plan's (a 2025 target);
    ``meets_target`` holds when every new car park meets it,
    ``meets_target_aggregate`` when all new car parks together do.

    Examples
    --------
    >>> import geoplan as gp
    >>> sec = check_section(gp.load_project(), plan="xiamen", year=2025)
    >>> sec.target_share, sec.new_car_parks, sec.service_radius.radius_m
    (0.2, 120, 900.0)
    """
    p = plan_of(proj, plan)
    p.check_year(year)
    tgt = p.text_target("charging_share_new_car_parks")
    share = float(tgt.value) if tgt is not None else DEFAULT_SHARE
    fields: dict[str, Any] = {}
    note = None
    if proj.layer("car_parks") is None:
        note = "the project has no car_parks layer: add [layers.car_parks] to check the share rule"
    else:
        fields = _compliance_fields(charging_compliance(proj, share=share), share)
    return ChargingSection(
        indicator="charging_share_new_car_parks", plan=p.key, target_share=share,
        target_year=None if tgt is None else int(tgt.year), quote=None if tgt is None else tgt.quote,
        target_source="plan" if tgt is not None else f"geoplan default {DEFAULT_SHARE} (the plan states none)",
        service_radius=_service_radius(proj, _check_radius(radius_m), core_density_km2),
        modelled_layers=_modelled(proj, ("car_parks", "charging_stations")), note=note, **fields)
