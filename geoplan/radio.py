"""Radio model: link budgets, cell radii, covered shares, networks and capacity.

Every parameter comes from :class:`~geoplan.radio_params.RadioParams` (defaults with a cited source
in ``geoplan/radio_params.toml``; a project overrides any of them, see :func:`load_params`). The
38.901 formulas live in :mod:`geoplan.pathloss`. Coverage figures always refer to a **band**, a
**service** (edge throughput target), **indoor or outdoor users** and the **environment of the
receiving cell**; say which when you print one.

API for the engine (arrays in, arrays out)
------------------------------------------
``environment_from_density(pop_per_km2)``
    Environment code (index into :data:`ENVIRONMENT_NAMES`: 0 dense urban ... 3 rural) of each
    density. Feed it the *neighbourhood* density of :func:`neighbourhood_density` (persons/km² within
    ``radius_m``, default 500 m, over land cells), not the 100 m cell's own density: morphology is a
    property of an area, and the smoothed density changes class gradually instead of flickering.
``radius_lookup(band=, indoor=, service="data", params=None) -> RadiusTable``
    The radius (m) of every site type × **receiving-cell** environment, cached per parameter set;
    ``table.lookup(site_types, env_codes)`` is vectorised. Coverage of cell ``i`` by site ``j`` is then
    ``dist(i, j) <= table.lookup(type_j, env_i)``: evaluate each environment class of demand cells with
    its own radius (group the cells by class and query a k-d tree once per class and site type).
``disc_square_share(dx, dy, r, side_m=)``
    Exact area share of a square cell (side ``side_m``, centre offset ``dx, dy`` from the site)
    inside a disc of radius ``r``: the fractional coverage ``a_ij``; a cell's covered share is
    ``min(1, s0 + Σ a_ij)`` (or ``1 - Π(1 - a_ij)``).
``network_radii(site_types, site_networks, site_bands, env_codes=None, network=, indoor=, ...)``
    For one operator network (``cmcc``, ``ctcu``, ``cbn``, or ``"any"``), the radius of each site for
    each receiving environment (``n_sites × n_env``; 0 where the site does not serve that network):
    the largest radius of the bands the site carries that the network uses (its own bands, plus
    e.g. 中国广电 on 中国移动's 700 MHz).
``site_capacity_mbps(site_types, site_bands, env_codes)`` / ``busy_hour_demand_mbps(pop, penetration=)``
    Downlink busy-hour capacity of each site (Σ over its bands of bandwidth × spectral efficiency ×
    downlink time share × sectors) and demand of each cell (persons × 5G penetration of the year ×
    busy-hour Mbit/s per user). Penetration comes from the plan (indicator ``5g_user_penetration``:
    Xiamen 46.6 % in 2022, 54/64/75 % for 2023/2024/2025).

Link budget and radius
----------------------
:func:`link_budget` gives the maximum allowable path loss without fading margin or entry loss
(``mapl_db``) of one link: EIRP + receive gain + combining gain − feeder loss − (thermal noise +
noise figure + required SINR) − interference margin (by the environment's load) − body loss. The
required SINR comes from the MCS/BLER table (CQI spectral efficiencies of TS 38.214 with their 10 %
BLER SINR): the scheduler picks the entry and bandwidth that carry the edge rate with the least
received power. :func:`cell_radius_m` then finds the distance at which the probability of coverage
equals the environment's edge probability, over shadow fading (38.901 sigma) and, for indoor users,
over the 38.901 §7.4.3 mix of low- and high-loss buildings and the indoor distance ``d_2D-in`` =
min of two uniform draws (integrated, not set to its mean). A service needs both links: the radius
is the smaller one. Indoor systems serve the building they are in (radius ``min(InH radius,
footprint)``) and no outdoor users beyond the 10 m leakage distance.

Calibration
-----------
:func:`hex_grid_coverage` computes the area coverage of a hexagonal grid by Monte-Carlo (best server
over two rings, shadowing correlated 0.5 between sites, entry loss drawn per user), and
:func:`calibration_isd` the inter-site distance at which a target is met. ``scripts/radio_calibration.py``
writes ``docs/radio-calibration.md`` from them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtr, ndtri

from .errors import ConfigError, Problem, ValidationError
from .pathloss import (
    RANGE_M,
    LosState,
    Scenario,
    building_entry_loss_db,
    los_probability,
    pathloss,
    pathloss_inh,
    pathloss_rma,
    pathloss_uma,
    pathloss_umi,
    shadow_fading_sigma_db,
)
from .radio_params import (
    AntennaProduct,
    BandParams,
    EnvironmentParams,
    RadioParams,
    SiteType,
    default_params,
    load_params,
)

__all__ = [
    "BANDS",
    "SITE_PROFILES",
    "SITE_TYPES",
    "ENVIRONMENTS",
    "ENVIRONMENT_NAMES",
    "SERVICES",
    "LinkBudget",
    "LinkBudgetResult",
    "RadiusTable",
    "RadioParams",
    "load_params",
    "default_params",
    "pathloss_uma",
    "pathloss_umi",
    "pathloss_rma",
    "pathloss_inh",
    "pathloss",
    "los_probability",
    "shadow_fading_sigma_db",
    "building_entry_loss_db",
    "required_sinr_db",
    "link_budget",
    "max_allowable_path_loss",
    "coverage_probability",
    "cell_radius_m",
    "radius_table",
    "radius_lookup",
    "site_radii",
    "parse_bands",
    "network_radii",
    "network_bands",
    "network_capacity_mbps",
    "disc_square_share",
    "site_capacity_mbps",
    "busy_hour_demand_mbps",
    "environment_from_density",
    "neighbourhood_density",
    "hex_grid_coverage",
    "calibration_isd",
    "disc_grid_coverage",
    "disc_grid_isd",
]

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())

#: Thermal noise power spectral density at 290 K (dBm/Hz).
THERMAL_NOISE_DBM_PER_HZ = -174.0

_DEFAULT = default_params()
#: Bands of the shipped parameters (n78, n41, n79, n28, n1).
BANDS: Mapping[str, BandParams] = _DEFAULT.bands
#: Site types of the shipped parameters (macro, micro, indoor).
SITE_PROFILES: Mapping[str, SiteType] = _DEFAULT.sites
SITE_TYPES: tuple[str, ...] = tuple(_DEFAULT.sites)
#: Environments, densest first.
ENVIRONMENTS: Mapping[str, EnvironmentParams] = _DEFAULT.environments
#: Environment names in code order: :func:`environment_from_density` returns indices into this.
ENVIRONMENT_NAMES: tuple[str, ...] = tuple(_DEFAULT.environments)
#: Services (edge throughput targets): data, voice, video.
SERVICES: tuple[str, ...] = tuple(_DEFAULT.services)

Link = Literal["uplink", "downlink"]


@dataclass(frozen=True)
class LinkBudget:
    """Per-call choices and overrides of a link budget (the parameters themselves are in RadioParams).

    Parameters
    ----------
    link : {"both", "uplink", "downlink"}
        Which link sets the radius; ``"both"`` (default) takes the smaller radius, as a service needs both.
    service : str
        Key of ``params.services`` (``"data"``: 1 Mbit/s up, 10 Mbit/s down at the edge).
    required_sinr_db : float, optional
        Fixed SINR instead of the MCS table.
    indoor_distance_m : float, optional
        Fixed indoor distance instead of the 38.901 distribution.
    """

    link: Literal["both", "uplink", "downlink"] = "both"
    service: str = "data"
    required_sinr_db: float | None = None
    indoor_distance_m: float | None = None


@dataclass(frozen=True)
class LinkBudgetResult:
    """The terms of one link budget (dB, dBm, MHz).

    ``mapl_db = eirp_dbm + rx_gain_db - sensitivity_dbm - interference_margin_db``, where
    ``sensitivity_dbm = noise_dbm + required_sinr_db`` over ``allocation_mhz``. No shadow margin and
    no entry loss: :func:`cell_radius_m` applies them as probabilities.
    """

    band: str
    site: str
    environment: str
    scenario: str
    link: str
    service: str
    product: str
    fc_ghz: float
    eirp_dbm: float
    rx_gain_db: float
    allocation_mhz: float
    noise_dbm: float
    required_sinr_db: float
    sensitivity_dbm: float
    interference_margin_db: float
    mapl_db: float


# --------------------------------------------------------------------------- link budget


def _params(params: RadioParams | None) -> RadioParams:
    return params if params is not None else _DEFAULT


def _get(kind: str, key: str, table: Mapping[str, Any]) -> Any:
    if key not in table:
        raise ConfigError(f"unknown {kind} {key!r}. Fix: use one of {', '.join(table)}")
    return table[key]


def required_sinr_db(rate_mbps: float, *, time_share: float, overhead: float, max_bandwidth_mhz: float,
                     noise_figure_db: float, params: RadioParams | None = None) -> tuple[float, float, float]:
    """SINR, bandwidth and sensitivity of the least-power MCS entry carrying ``rate_mbps``.

    Each entry k of the MCS table needs ``B_k = rate / (time_share (1 - overhead) SE_k)`` MHz; among
    those with ``B_k <= max_bandwidth_mhz`` the one with the lowest sensitivity
    ``-174 + 10 log10(B_k) + NF + SINR_k`` is chosen.

    Returns
    -------
    (float, float, float)
        Required SINR (dB), allocated bandwidth (MHz), sensitivity (dBm).

    Raises
    ------
    ConfigError
        If no entry carries the rate within the bandwidth.

    Examples
    --------
    >>> sinr, bw, sens = required_sinr_db(1.0, time_share=1.0, overhead=0.0, max_bandwidth_mhz=10.0,
    ...                                   noise_figure_db=0.0)
    >>> round(sinr, 1), round(bw, 3)
    (-4.7, 4.266)
    """
    p = _params(params)
    if rate_mbps <= 0 or not 0 < time_share <= 1 or max_bandwidth_mhz <= 0:
        raise ConfigError(f"rate_mbps={rate_mbps}, time_share={time_share}, max_bandwidth_mhz={max_bandwidth_mhz} "
                          "must be > 0 (time share at most 1)")
    se = np.asarray(p.mcs.spectral_efficiency)
    sinr = np.asarray(p.mcs.sinr_db)
    bw = rate_mbps / (time_share * (1.0 - overhead) * se)
    ok = bw <= max_bandwidth_mhz * (1 + 1e-12)
    if not ok.any():
        raise ConfigError(f"an edge rate of {rate_mbps} Mbit/s needs more than {max_bandwidth_mhz:.1f} MHz even at the "
                          f"highest MCS. Fix: lower the service's rate or raise mcs.*_max_share")
    sens = THERMAL_NOISE_DBM_PER_HZ + 10 * np.log10(bw * 1e6) + noise_figure_db + sinr
    k = int(np.argmin(np.where(ok, sens, np.inf)))
    return float(sinr[k]), float(bw[k]), float(sens[k])


def _scenario(site: SiteType, env: EnvironmentParams) -> Scenario:
    if site.scenario == "UMa" and env.macro_scenario == "RMa":
        return "RMa"
    return site.scenario  # type: ignore[return-value]


def link_budget(*, band: str, site: str, environment: str, link: Link = "uplink", service: str = "data",
                params: RadioParams | None = None, budget: LinkBudget | None = None) -> LinkBudgetResult:
    """Link budget of one band, site type, receiving environment, link and service.

    Examples
    --------
    >>> r = link_budget(band="n78", site="macro", environment="dense_urban", link="uplink")
    >>> r.product, round(r.eirp_dbm, 1), round(r.mapl_db, 1)
    ('aau_64t64r', 26.0, 151.7)
    """
    p = _params(params)
    b = budget or LinkBudget(service=service)
    bd: BandParams = _get("band", band, p.bands)
    st: SiteType = _get("site type", site, p.sites)
    env: EnvironmentParams = _get("environment", environment, p.environments)
    svc = _get("service", b.service if budget is not None else service, p.services)
    prod: AntennaProduct = p.products[st.product(band, environment)]
    ue_power = p.ue.power_class_2_dbm if bd.ue_power_class == 2 else p.ue.power_class_3_dbm
    if link == "uplink":
        eirp = ue_power + p.ue.antenna_gain_dbi - svc.body_loss_db
        rx_gain = prod.rx_gain_dbi + prod.rx_combining_db - prod.feeder_loss_db
        nf, rate, share, oh = prod.noise_figure_db, svc.ul_rate_mbps, bd.ul_share, p.mcs.overhead_ul
        max_bw, fc = bd.bandwidth_mhz * p.mcs.ul_max_share, bd.fc_ul_ghz
    elif link == "downlink":
        eirp = prod.tx_power_dbm + prod.tx_gain_dbi - prod.feeder_loss_db
        rx_gain = p.ue.antenna_gain_dbi - svc.body_loss_db
        nf, rate, share, oh = p.ue.noise_figure_db, svc.dl_rate_mbps, bd.dl_share, p.mcs.overhead_dl
        max_bw, fc = bd.bandwidth_mhz * p.mcs.dl_max_share, bd.fc_ghz
    else:
        raise ConfigError(f"link={link!r}. Fix: use 'uplink' or 'downlink'")
    if b.required_sinr_db is not None:
        sinr, alloc = float(b.required_sinr_db), max_bw
        sens = THERMAL_NOISE_DBM_PER_HZ + 10 * np.log10(alloc * 1e6) + nf + sinr
    else:
        sinr, alloc, sens = required_sinr_db(rate, time_share=share, overhead=oh, max_bandwidth_mhz=max_bw,
                                             noise_figure_db=nf, params=p)
    if link == "downlink":
        # the transmit power is spread over the whole carrier: only the allocated share reaches the UE
        eirp += 10 * np.log10(alloc / bd.bandwidth_mhz)
    noise = THERMAL_NOISE_DBM_PER_HZ + 10 * np.log10(alloc * 1e6) + nf
    im = p.interference.margin_db(env.load, link)
    mapl = eirp + rx_gain - sens - im
    return LinkBudgetResult(band=band, site=site, environment=environment, scenario=_scenario(st, env), link=link,
                            service=svc.name, product=prod.name, fc_ghz=fc, eirp_dbm=float(eirp),
                            rx_gain_db=float(rx_gain), allocation_mhz=float(alloc), noise_dbm=float(noise),
                            required_sinr_db=float(sinr), sensitivity_dbm=float(sens), interference_margin_db=im,
                            mapl_db=float(mapl))


def max_allowable_path_loss(*, band: str, site: str, environment: str, link: Link = "uplink",
                            service: str = "data", params: RadioParams | None = None) -> float:
    """``link_budget(...).mapl_db``: MAPL without fading margin or entry loss (dB).

    Examples
    --------
    >>> round(max_allowable_path_loss(band="n28", site="macro", environment="rural"), 1)
    152.5
    """
    return link_budget(band=band, site=site, environment=environment, link=link, service=service,
                       params=params).mapl_db


# --------------------------------------------------------------------------- coverage probability

# 8-point Gauss-Legendre nodes on [0, 1] for the indoor-distance integral
_GL_X, _GL_W = np.polynomial.legendre.leggauss(8)
_GL_X = 0.5 * (_GL_X + 1.0)
_GL_W = 0.5 * _GL_W


def _entry_terms(fc_ghz: float, env: EnvironmentParams, scenario: str,
                 fixed_d_in: float | None) -> list[tuple[float, float, float]]:
    """(weight, mean loss dB, sigma dB) of each building type x indoor-distance node."""
    low, s_low = building_entry_loss_db(fc_ghz, model="low", indoor_distance_m=0.0)
    high, s_high = building_entry_loss_db(fc_ghz, model="high", indoor_distance_m=0.0)
    if fixed_d_in is not None:
        nodes = [(1.0, 0.5 * fixed_d_in)]
    else:
        dmax = env.indoor_distance_max_m if scenario != "RMa" else min(env.indoor_distance_max_m, 10.0)
        # d_in = dmax * min(U1, U2): density 2 (1 - u) on [0, 1]
        nodes = [(float(w * 2 * (1 - x)), float(0.5 * dmax * x)) for x, w in zip(_GL_X, _GL_W, strict=True)]
    out: list[tuple[float, float, float]] = []
    for share, mean, sig in ((1 - env.high_loss_share, low, s_low), (env.high_loss_share, high, s_high)):
        if share > 0:
            out.extend((share * w, mean + din, sig) for w, din in nodes)
    return out


def coverage_probability(margin_db: ArrayLike, *, sigma_sf_db: float,
                         entry: Sequence[tuple[float, float, float]] | None = None) -> NDArray[np.float64]:
    """Probability that a user is covered when the link has ``margin_db`` over the mean path loss.

    Outdoor: ``Phi(margin / sigma_sf)``. Indoor: ``Σ_k w_k Phi((margin - L_k) / sqrt(sigma_sf² + sigma_k²))``
    over the building types and indoor distances of ``entry`` (weights, mean losses, sigmas).

    Examples
    --------
    >>> float(coverage_probability(0.0, sigma_sf_db=6.0))
    0.5
    """
    m = np.asarray(margin_db, dtype=float)
    if not entry:
        return np.asarray(ndtr(m / sigma_sf_db))
    out = np.zeros_like(m)
    for w, mean, sig in entry:
        out += w * ndtr((m - mean) / np.hypot(sigma_sf_db, sig))
    return out


def _margin_for(p: float, sigma: float, entry: Sequence[tuple[float, float, float]] | None) -> float:
    """Margin over the mean path loss at which the coverage probability is ``p`` (bisection)."""
    if not entry:
        return float(ndtri(p) * sigma)
    lo, hi = -60.0, 150.0
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        if float(coverage_probability(mid, sigma_sf_db=sigma, entry=entry)) < p:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


# --------------------------------------------------------------------------- radius


def _invert(fn: Any, target: float, lo: float, hi: float) -> float:
    a, b = np.log(lo), np.log(hi)
    for _ in range(60):
        mid = 0.5 * (a + b)
        if float(fn(np.exp(mid))) < target:
            a = mid
        else:
            b = mid
    return float(np.exp(0.5 * (a + b)))


def _los(los: LosState | None, p: RadioParams) -> LosState:
    if los is not None:
        return los
    table: dict[str, LosState] = {"nlos": False, "los": True, "expected": "expected"}
    return table[p.los]


def _link_radius(p: RadioParams, band: str, site: str, environment: str, *, link: Link, indoor: bool,
                 los: LosState, budget: LinkBudget) -> tuple[float, float]:
    """(radius m, path loss at the radius dB) of one link."""
    res = link_budget(band=band, site=site, environment=environment, link=link, params=p, budget=budget)
    st, env = p.sites[site], p.environments[environment]
    scenario = _scenario(st, env)
    sigma = shadow_fading_sigma_db(scenario, los=los)
    entry = _entry_terms(res.fc_ghz, env, scenario, budget.indoor_distance_m) if indoor and scenario != "InH" else None
    margin = _margin_for(env.edge_probability, sigma, entry)
    target = res.mapl_db - margin
    lo, hi_los, hi_nlos = RANGE_M[scenario]
    hi = hi_los if los is True else hi_nlos

    def fn(d: Any) -> NDArray[np.float64]:
        return pathloss(d, scenario=scenario, fc_ghz=res.fc_ghz, los=los, h_bs=st.height_m[environment],
                        h_ut=p.ue.height_m, building_height_m=env.building_height_m,
                        street_width_m=env.street_width_m)

    if target <= float(fn(lo)):
        return 0.0, target
    if target >= float(fn(hi)):
        return hi, target
    return _invert(fn, target, lo, hi), target


def cell_radius_m(*, band: str, site: str, environment: str, indoor: bool = False, los: LosState | None = None,
                  budget: LinkBudget | None = None, service: str = "data", params: RadioParams | None = None) -> float:
    """Radius (m) within which users in ``environment`` are covered with the environment's edge probability.

    ``environment`` is that of the **receiving** cell. Macro/micro sites: the distance at which
    the probability of coverage (shadow fading, and for indoor users the 38.901 building mix and
    indoor distance) equals ``edge_probability``, for both links of the service (the smaller
    radius). Capped to the path-loss model's validity range; 0 when no link closes. Indoor
    systems: ``min(InH radius, footprint)`` for indoor users, the 10 m leakage distance for
    outdoor users.

    Examples
    --------
    >>> round(cell_radius_m(band="n78", site="macro", environment="dense_urban", indoor=True))
    180
    """
    p = _params(params)
    b = budget or LinkBudget(service=service)
    st: SiteType = _get("site type", site, p.sites)
    _get("band", band, p.bands)
    _get("environment", environment, p.environments)
    if st.scenario == "InH" and not indoor:
        return float(st.outdoor_radius_m or 0.0)
    links: tuple[Link, ...] = ("uplink", "downlink") if b.link == "both" else (b.link,)
    r = min(_link_radius(p, band, site, environment, link=lk, indoor=indoor, los=_los(los, p), budget=b)[0]
            for lk in links)
    if st.scenario == "InH" and st.footprint_radius_m is not None:
        r = min(r, st.footprint_radius_m[environment])
    return float(r)


def radius_table(*, bands: Iterable[str] | None = None, sites: Iterable[str] | None = None,
                 environments: Iterable[str] | None = None, service: str = "data",
                 params: RadioParams | None = None) -> pd.DataFrame:
    """Radii of every band × site type × receiving environment, outdoor and indoor users.

    Returns
    -------
    pandas.DataFrame
        Indexed by (band, site, environment); columns ``scenario``, ``product``, ``height_m``,
        ``mapl_ul_db``, ``mapl_dl_db`` (no margins), ``radius_outdoor_m``, ``radius_indoor_m``,
        ``limit_outdoor``, ``limit_indoor`` (the link that sets each radius).

    Examples
    --------
    >>> t = radius_table(bands=["n78"], sites=["macro"])
    >>> t["radius_indoor_m"].round(-1).tolist()
    [180.0, 270.0, 690.0, 1010.0]
    """
    p = _params(params)
    rows = []
    for bn in bands if bands is not None else p.bands:
        for sn in sites if sites is not None else p.sites:
            for en in environments if environments is not None else p.environments:
                st, env = p.sites[sn], p.environments[en]
                row: dict[str, Any] = {"band": bn, "site": sn, "environment": en, "scenario": _scenario(st, env),
                                       "product": st.product(bn, en), "height_m": st.height_m[en]}
                links: tuple[tuple[Link, str], ...] = (("uplink", "mapl_ul_db"), ("downlink", "mapl_dl_db"))
                for lk, col in links:
                    row[col] = link_budget(band=bn, site=sn, environment=en, link=lk, service=service,
                                           params=p).mapl_db
                for where, ind in (("outdoor", False), ("indoor", True)):
                    row[f"radius_{where}_m"] = cell_radius_m(band=bn, site=sn, environment=en, indoor=ind,
                                                             service=service, params=p)
                    if st.scenario == "InH":
                        row[f"limit_{where}"] = "footprint" if ind else "leakage"
                        continue
                    ul = cell_radius_m(band=bn, site=sn, environment=en, indoor=ind, params=p,
                                       budget=LinkBudget(link="uplink", service=service))
                    row[f"limit_{where}"] = "uplink" if ul <= row[f"radius_{where}_m"] + 1e-9 else "downlink"
                rows.append(row)
    cols = ["band", "site", "environment", "scenario", "product", "height_m", "mapl_ul_db", "mapl_dl_db",
            "radius_outdoor_m", "radius_indoor_m", "limit_outdoor", "limit_indoor"]
    return pd.DataFrame(rows, columns=cols).set_index(["band", "site", "environment"])


@dataclass(frozen=True, eq=False)
class RadiusTable:
    """Radii (m) of every site type (rows) × receiving environment (columns) for one band and setting."""

    band: str
    indoor: bool
    service: str
    site_types: tuple[str, ...]
    environments: tuple[str, ...]
    radius_m: NDArray[np.float64]

    def lookup(self, site_types: ArrayLike, env_codes: ArrayLike) -> NDArray[np.float64]:
        """Radius of each (site type, environment code) pair, broadcasting the two arrays.

        Raises
        ------
        ValidationError
            Unknown site types or environment codes outside ``0..n-1``.
        """
        t = np.asarray(site_types).astype(str)
        e = np.asarray(env_codes, dtype=np.int64)
        idx = {s: i for i, s in enumerate(self.site_types)}
        ti = np.fromiter((idx.get(s, -1) for s in t.ravel()), dtype=np.int64, count=t.size).reshape(t.shape)
        problems = []
        if (ti < 0).any():
            problems.append(Problem("sites", "SITE_TYPE", f"unknown site type(s) {sorted(set(t[ti < 0].tolist()))}",
                                    f"use one of {', '.join(self.site_types)}"))
        if ((e < 0) | (e >= len(self.environments))).any():
            problems.append(Problem("demand", "environment", "environment codes outside 0.."
                                    f"{len(self.environments) - 1}", "use codes of environment_from_density"))
        if problems:
            raise ValidationError(problems)
        return np.asarray(self.radius_m[ti, e], dtype=float)


_TABLES: dict[tuple[str, str, bool, str, str], RadiusTable] = {}


def radius_lookup(*, band: str, indoor: bool, service: str = "data", params: RadioParams | None = None,
                  los: LosState | None = None) -> RadiusTable:
    """The cached :class:`RadiusTable` of ``band`` for indoor or outdoor users and ``service``.

    Examples
    --------
    >>> t = radius_lookup(band="n78", indoor=True)
    >>> t.lookup(["macro", "indoor"], [0, 0]).round()
    array([180.,  50.])
    """
    p = _params(params)
    key = (p.digest, band, bool(indoor), service, str(_los(los, p)))
    if key not in _TABLES:
        r = np.array([[cell_radius_m(band=band, site=s, environment=e, indoor=indoor, service=service, params=p,
                                     los=los) for e in p.environments] for s in p.sites])
        _TABLES[key] = RadiusTable(band, bool(indoor), service, tuple(p.sites), tuple(p.environments), r)
    return _TABLES[key]


def site_radii(site_types: ArrayLike, env_codes: ArrayLike, *, band: str, indoor: bool, service: str = "data",
               params: RadioParams | None = None) -> NDArray[np.float64]:
    """Radius of each site for the receiving environment ``env_codes`` (broadcast): ``radius_lookup(...).lookup``."""
    return radius_lookup(band=band, indoor=indoor, service=service, params=params).lookup(site_types, env_codes)


# --------------------------------------------------------------------------- networks


def parse_bands(values: Iterable[Any], *, params: RadioParams | None = None) -> list[tuple[str, ...]]:
    """Bands of each site from a BANDS field (``"n78;n1"``; ``,``/``/``/spaces also separate).

    Raises
    ------
    ValidationError
        Unknown band names, with the valid ones.

    Examples
    --------
    >>> parse_bands(["n78;n1", "n41"])
    [('n78', 'n1'), ('n41',)]
    """
    p = _params(params)
    out: list[tuple[str, ...]] = []
    bad: set[str] = set()
    for v in values:
        text = "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)
        parts = tuple(b for b in text.replace(",", ";").replace("/", ";").replace(" ", ";").split(";") if b)
        bad |= {b for b in parts if b not in p.bands}
        out.append(parts)
    if bad:
        raise ValidationError(Problem("sites", "BANDS", f"unknown band(s) {sorted(bad)}",
                                      f"use {', '.join(p.bands)} separated by ';'"))
    return out


def network_radii(site_types: ArrayLike, site_networks: ArrayLike, site_bands: Sequence[tuple[str, ...]], *,
                  network: str, indoor: bool, service: str = "data",
                  params: RadioParams | None = None) -> NDArray[np.float64]:
    """Radius (m) of each site (rows) for each receiving environment (columns) in one network.

    A site serves network ``network`` on the bands it carries that the network uses: its own bands
    if the site belongs to it, plus bands of other networks' sites listed in ``uses`` (中国广电 on
    中国移动's n28). ``network="any"`` takes every band of every site. The radius is the largest over
    those bands; 0 where the site does not serve the network.

    Examples
    --------
    >>> r = network_radii(["macro", "macro"], ["cmcc", "ctcu"], [("n41", "n28"), ("n78",)], network="cbn",
    ...                   indoor=False)
    >>> bool(r[0, 0] > 0), bool(r[1, 0] == 0)
    (True, True)
    """
    p = _params(params)
    types = np.asarray(site_types).astype(str)
    usable = network_bands(site_networks, site_bands, network=network, params=p)
    if len(types) != len(usable):
        raise ValidationError(Problem("sites", None, "site types, networks and bands differ in length",
                                      "pass one entry per site"))
    out = np.zeros((len(types), len(p.environments)))
    tables = {b: radius_lookup(band=b, indoor=indoor, service=service, params=p) for b in p.bands}
    rows = {t: i for i, t in enumerate(tables[next(iter(p.bands))].site_types)}
    keys = pd.Series([(t, u) for t, u in zip(types.tolist(), usable, strict=True)], dtype=object)
    codes, uniq = pd.factorize(keys)
    for k, (t, bands) in enumerate(uniq):
        if t not in rows:
            raise ValidationError(Problem("sites", "SITE_TYPE", f"unknown site type {t!r}",
                                          f"use one of {', '.join(rows)}"))
        r = np.zeros(len(p.environments))
        for b in bands:
            r = np.maximum(r, tables[b].radius_m[rows[t]])
        out[codes == k] = r
    return out


def network_bands(site_networks: ArrayLike, site_bands: Sequence[tuple[str, ...]], *, network: str,
                  params: RadioParams | None = None) -> list[tuple[str, ...]]:
    """The bands on which each site serves the users of ``network``.

    Its own bands when the site belongs to ``network``; the bands of another
    network's sites that ``network`` uses (``uses``: 中国广电 on 中国移动's n28); every
    band of every site for ``"any"``; ``()`` where the site does not serve the network.

    Examples
    --------
    >>> network_bands(["cmcc", "cmcc", "ctcu"], [("n41", "n28"), ("n41",), ("n78", "n1")], network="cbn")
    [('n28',), (), ()]
    """
    p = _params(params)
    nets = np.asarray(site_networks).astype(str)
    if len(nets) != len(site_bands):
        raise ValidationError(Problem("sites", None, "site networks and bands differ in length",
                                      "pass one entry per site"))
    if network == "any":
        return [tuple(b) for b in site_bands]
    net: Any = _get("network", network, p.networks)
    memo: dict[tuple[str, tuple[str, ...]], tuple[str, ...]] = {}
    out = []
    for n, bands in zip(nets.tolist(), site_bands, strict=True):
        k = (n, tuple(bands))
        if k not in memo:
            allowed = net.bands if n == network else net.uses.get(n, ())
            memo[k] = tuple(b for b in bands if b in allowed)
        out.append(memo[k])
    return out


def network_capacity_mbps(site_types: ArrayLike, site_networks: ArrayLike, site_bands: Sequence[tuple[str, ...]],
                          env_codes: ArrayLike, *, network: str, params: RadioParams | None = None
                          ) -> NDArray[np.float64]:
    """Downlink busy-hour capacity (Mbit/s) of each site for ``network``: :func:`site_capacity_mbps` over
    the bands on which it serves the network (:func:`network_bands`).

    A carrier two networks share (中国移动's n28, used by 中国广电) counts whole for each network
    evaluated alone; ``"any"`` counts every carrier once.

    Examples
    --------
    >>> network_capacity_mbps(["macro", "macro"], ["cmcc", "ctcu"], [("n41", "n28"), ("n78",)], [0, 0],
    ...                       network="cbn").round(1)
    array([297.,   0.])
    """
    usable = network_bands(site_networks, site_bands, network=network, params=params)
    return site_capacity_mbps(site_types, usable, env_codes, params=params)


# --------------------------------------------------------------------------- covered share


def _corner(a: NDArray[np.float64], b: NDArray[np.float64], r: NDArray[np.float64]) -> NDArray[np.float64]:
    """Area of the disc (radius r, centre 0) in the quadrant {x > a, y > b}, for a, b >= 0."""
    inside = a * a + b * b < r * r
    x0 = np.sqrt(np.maximum(r * r - b * b, 0.0))
    aa = np.minimum(a, x0)

    def prim(x: NDArray[np.float64]) -> NDArray[np.float64]:  # ∫ sqrt(r² - x²) dx
        return 0.5 * (x * np.sqrt(np.maximum(r * r - x * x, 0.0)) + r * r * np.arcsin(np.clip(x / r, -1, 1)))

    return np.where(inside, prim(x0) - prim(aa) - b * (x0 - aa), 0.0)


def _half(a: NDArray[np.float64], r: NDArray[np.float64]) -> NDArray[np.float64]:
    """Area of the disc in {x > a}."""
    c = np.clip(a / r, -1.0, 1.0)
    return r * r * np.arccos(c) - a * np.sqrt(np.maximum(r * r - a * a, 0.0))


def _quadrant(a: NDArray[np.float64], b: NDArray[np.float64], r: NDArray[np.float64]) -> NDArray[np.float64]:
    """Area of the disc in {x > a, y > b}, any signs (reflections of :func:`_corner`)."""
    pa, pb = np.abs(a), np.abs(b)
    c = _corner(pa, pb, r)
    ha, hb = _half(pa, r), _half(pb, r)  # areas beyond |a| and |b|
    full = np.pi * r * r
    both_neg = full - ha - hb + c  # {x > -|a|, y > -|b|}
    a_neg = hb - c  # {x > -|a|, y > |b|} = {y > |b|} - {x > |a|, y > |b|}
    b_neg = ha - c
    return np.where(a >= 0, np.where(b >= 0, c, b_neg), np.where(b >= 0, a_neg, both_neg))


def disc_square_share(dx: ArrayLike, dy: ArrayLike, r: ArrayLike, *, side_m: float) -> NDArray[np.float64]:
    """Share of a square cell (side ``side_m``, centre at ``dx, dy`` from the disc centre) inside the disc.

    Exact: the rectangle's area in the disc by inclusion-exclusion of quadrant areas, each a closed
    form of ``∫ sqrt(r² - x²) dx``. Vectorised; ``r = 0`` gives 0.

    Examples
    --------
    >>> disc_square_share([0.0, 0.0, 500.0], [0.0, 0.0, 0.0], [1000.0, 20.0, 50.0], side_m=100.0).round(4)
    array([1.    , 0.1257, 0.    ])
    """
    x, y, rr = np.broadcast_arrays(np.asarray(dx, float), np.asarray(dy, float), np.asarray(r, float))
    if side_m <= 0 or (rr < 0).any():
        raise ConfigError("side_m must be > 0 and radii >= 0 metres")
    h = side_m / 2.0
    rs = np.where(rr > 0, rr, 1.0)
    x1, x2, y1, y2 = x - h, x + h, y - h, y + h
    area = (_quadrant(x1, y1, rs) - _quadrant(x2, y1, rs) - _quadrant(x1, y2, rs) + _quadrant(x2, y2, rs))
    return np.where(rr > 0, np.clip(area / (side_m * side_m), 0.0, 1.0), 0.0)


# --------------------------------------------------------------------------- capacity


def site_capacity_mbps(site_types: ArrayLike, site_bands: Sequence[tuple[str, ...]], env_codes: ArrayLike, *,
                       params: RadioParams | None = None) -> NDArray[np.float64]:
    """Downlink capacity of each site (Mbit/s): Σ over its bands of bandwidth × SE × DL share × sectors.

    SE is the product's average spectral efficiency per cell (ITU-R M.2410 by test environment);
    ``env_codes`` is the environment of the site (it picks the product, 64T64R or 32T32R).

    Examples
    --------
    >>> site_capacity_mbps(["macro"], [("n78",)], [0]).round(1)  # 100 MHz x 7.8 x 0.643 x 3
    array([1504.6])
    """
    p = _params(params)
    types = np.asarray(site_types).astype(str)
    envs = np.broadcast_to(np.asarray(env_codes, dtype=np.int64), types.shape)
    if len(site_bands) != len(types):
        raise ValidationError(Problem("sites", None, "site types and bands differ in length", "pass one entry per site"))
    names = tuple(p.environments)
    out = np.zeros(len(types))
    keys = pd.Series([(t, tuple(b), int(e)) for t, b, e in zip(types.tolist(), site_bands, envs.tolist(),
                                                                strict=True)], dtype=object)
    codes, uniq = pd.factorize(keys)
    for k, (t, bands, e) in enumerate(uniq):
        st = _get("site type", t, p.sites)
        cap = 0.0
        for b in bands:
            bd = _get("band", b, p.bands)
            prod = p.products[st.product(b, names[e])]
            cap += bd.bandwidth_mhz * prod.se_dl * bd.dl_share * st.sectors
        out[codes == k] = cap
    return out


def busy_hour_demand_mbps(pop: ArrayLike, *, penetration: float, params: RadioParams | None = None) -> NDArray[np.float64]:
    """Busy-hour downlink demand of each cell (Mbit/s): persons × penetration × busy-hour Mbit/s per user.

    ``penetration`` is the 5G user share of the year (0-1; the plan's ``5g_user_penetration`` / 100).

    Examples
    --------
    >>> busy_hour_demand_mbps([10_000.0], penetration=0.75).round(1)  # 15.2 GB/month, 8 % in the busy hour
    array([675.6])
    """
    if not 0 <= penetration <= 1:
        raise ConfigError(f"penetration={penetration} must be a share in [0, 1] (75 % is 0.75)")
    p = _params(params)
    return np.asarray(pop, dtype=float) * penetration * p.traffic.busy_hour_mbps_per_user


# --------------------------------------------------------------------------- environments


def environment_from_density(pop_per_km2: ArrayLike, *, params: RadioParams | None = None) -> NDArray[np.int8]:
    """Environment code of each population density (index into :data:`ENVIRONMENT_NAMES`).

    Thresholds are ``min_pop_per_km2`` of the environments (10,000 / 3,000 / 500 persons/km²).
    Give it neighbourhood densities (:func:`neighbourhood_density`), not single 100 m cells.

    Raises
    ------
    ValidationError
        On negative or non-finite densities.

    Examples
    --------
    >>> environment_from_density([25_000, 3_000, 499.9, 0])
    array([0, 1, 3, 3], dtype=int8)
    """
    p = _params(params)
    d = np.asarray(pop_per_km2, dtype=float)
    bad = ~np.isfinite(d) | (d < 0)
    if bad.any():
        raise ValidationError(Problem("population", "pop_per_km2",
                                      f"{int(bad.sum())} densities are negative or not finite "
                                      f"(first: {d[bad].ravel()[0]!r})",
                                      "compute density from a population raster without nodata cells"))
    codes = np.zeros(d.shape, dtype=np.int8)
    for e in list(p.environments.values())[:-1]:  # one pass per bound, no (..., k) temporary
        codes += d < e.min_pop_per_km2
    return codes


def neighbourhood_density(values: ArrayLike, *, cell_m: float, radius_m: float = 500.0,
                          valid: ArrayLike | None = None) -> NDArray[np.float64]:
    """Persons per km² within ``radius_m`` of each cell of a population grid, over valid (land) cells.

    A disc kernel convolved by FFT; the sum of persons is divided by the valid area inside the disc,
    so coastal cells are not diluted by the sea. Invalid cells get NaN.

    Examples
    --------
    >>> g = np.zeros((21, 21)); g[10, 10] = 100.0
    >>> round(float(neighbourhood_density(g, cell_m=100.0, radius_m=100.0)[10, 10]), 1)
    2000.0
    """
    v = np.asarray(values, dtype=float)
    ok = np.isfinite(v) if valid is None else np.asarray(valid, dtype=bool) & np.isfinite(v)
    k = int(np.ceil(radius_m / cell_m))
    yy, xx = np.mgrid[-k:k + 1, -k:k + 1]
    kern = (xx * cell_m) ** 2 + (yy * cell_m) ** 2 <= radius_m**2
    half = [(int(row.sum()) - 1) // 2 for row in kern]  # kernel row j: columns -half[j] .. half[j]
    persons = _disc_sum(np.where(ok, v, 0.0), half)
    cells = _disc_sum(ok.astype(np.int64), half)
    area_km2 = np.maximum(cells, 1) * (cell_m / 1000.0) ** 2
    return np.where(ok, np.maximum(persons, 0.0) / area_km2, np.nan)


def _disc_sum(a: NDArray[Any], half: list[int]) -> NDArray[Any]:
    """Sum of ``a`` over a disc around every cell (zeros outside the array), row segment by row segment.

    ``half[j]`` is the half-width of the disc's row ``j - k`` (``k = len(half) // 2``).
    Each distinct half-width is a running-sum difference along rows, then the rows
    are shifted and added: about ``len(half)`` passes over the array instead of a
    2-D FFT (several times faster on a province raster), and exact for integers.
    """
    h, w = a.shape
    k = len(half) // 2
    q = np.zeros((h, w + 2 * k + 1), dtype=a.dtype)
    np.cumsum(a, axis=1, out=q[:, k + 1:k + 1 + w])
    q[:, k + 1 + w:] = q[:, k + w:k + 1 + w]  # the running sum stays flat past the last column
    rows: dict[int, NDArray[Any]] = {}
    for b in set(half):
        if b >= 0:
            rows[b] = q[:, k + b + 1:k + b + 1 + w] - q[:, k - b:k - b + w]
    out = np.zeros_like(a)
    for j, b in enumerate(half):
        if b < 0:
            continue
        d = j - k  # the disc's row d: cell (r, .) takes row r + d
        if d >= 0:
            out[:h - d] += rows[b][d:]
        else:
            out[-d:] += rows[b][:h + d]
    return out


# --------------------------------------------------------------------------- calibration


def _hex_sites(rings: int) -> NDArray[np.float64]:
    """Unit-spacing hexagonal lattice points within ``rings`` rings of the origin."""
    pts = [(i + 0.5 * j, j * np.sqrt(3) / 2) for i in range(-rings, rings + 1) for j in range(-rings, rings + 1)
           if abs(i) <= rings and abs(j) <= rings and abs(i + j) <= rings]
    return np.asarray(pts)


def _hex_points(n: int, rng: np.random.Generator) -> NDArray[np.float64]:
    """Uniform points in the unit-spacing Voronoi hexagon of the origin."""
    out: list[NDArray[np.float64]] = []
    s = 1 / np.sqrt(3)  # circumradius
    while sum(len(o) for o in out) < n:
        q = rng.uniform(-s, s, size=(2 * n, 2))
        x, y = np.abs(q[:, 0]), np.abs(q[:, 1])
        keep = (x <= 0.5) & (y <= s) & (x * 0.5 + y * np.sqrt(3) / 2 <= 0.5)
        out.append(q[keep])
    return np.concatenate(out)[:n]


def hex_grid_coverage(isd_m: float, *, band: str, site: str, environment: str, indoor: bool,
                      service: str = "data", n: int = 20_000, seed: int = 0,
                      params: RadioParams | None = None) -> float:
    """Area coverage of a hexagonal grid of ``site`` at inter-site distance ``isd_m``, by Monte-Carlo.

    Users uniform in the central hexagon; each gets the best of the 37 sites of three rings, with
    path loss (38.901, the parameters' LOS setting), shadow fading correlated ``site_shadow_correlation``
    between sites, and for indoor users one entry loss drawn from the environment's building mix and
    indoor distance. Covered when both links of the service close (MAPL without margins). Seeded:
    the same users at every distance (common random numbers).
    """
    p = _params(params)
    st, env = p.sites[site], p.environments[environment]
    scenario = _scenario(st, env)
    los = _los(None, p)
    rng = np.random.default_rng(seed)
    users = _hex_points(n, rng) * isd_m
    sites = _hex_sites(3) * isd_m
    d = np.hypot(users[:, None, 0] - sites[None, :, 0], users[:, None, 1] - sites[None, :, 1])
    sigma = shadow_fading_sigma_db(scenario, los=los)
    rho = p.site_shadow_correlation
    z = np.sqrt(rho) * rng.standard_normal((n, 1)) + np.sqrt(1 - rho) * rng.standard_normal((n, len(sites)))
    u = rng.random((n, 4))
    covered = np.ones(n, dtype=bool)
    for link in ("uplink", "downlink"):
        res = link_budget(band=band, site=site, environment=environment, link=link, service=service, params=p)  # type: ignore[arg-type]
        pl = pathloss(d, scenario=scenario, fc_ghz=res.fc_ghz, los=los, h_bs=st.height_m[environment],
                      h_ut=p.ue.height_m, building_height_m=env.building_height_m, street_width_m=env.street_width_m)
        best = np.min(pl + sigma * z, axis=1)
        if indoor:
            low, s_low = building_entry_loss_db(res.fc_ghz, model="low", indoor_distance_m=0.0)
            high, s_high = building_entry_loss_db(res.fc_ghz, model="high", indoor_distance_m=0.0)
            is_high = u[:, 0] < env.high_loss_share
            dmax = env.indoor_distance_max_m if scenario != "RMa" else min(env.indoor_distance_max_m, 10.0)
            d_in = dmax * np.minimum(u[:, 1], u[:, 2])
            zb = ndtri(np.clip(u[:, 3], 1e-12, 1 - 1e-12))
            best = best + np.where(is_high, high + s_high * zb, low + s_low * zb) + 0.5 * d_in
        covered &= best <= res.mapl_db
    return float(covered.mean())


def calibration_isd(target: float, *, band: str, site: str, environment: str, indoor: bool,
                    service: str = "data", n: int = 20_000, seed: int = 0,
                    params: RadioParams | None = None) -> float:
    """The largest inter-site distance (m, to 1 m) at which :func:`hex_grid_coverage` reaches ``target``."""
    lo, hi = 20.0, 20_000.0
    for _ in range(40):
        mid = np.sqrt(lo * hi)
        if hex_grid_coverage(mid, band=band, site=site, environment=environment, indoor=indoor, service=service,
                             n=n, seed=seed, params=params) >= target:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1.0:
            break
    return float(lo)


def disc_grid_coverage(isd_m: float, radius_m: float) -> float:
    """Area share of a hexagonal grid (inter-site distance ``isd_m``) within ``radius_m`` of a site.

    The deterministic disc model the engine uses: a point is covered when a site lies within the
    radius. In the central site's hexagon the nearest site is the centre, so the share is
    ``area(hexagon ∩ disc) / area(hexagon)``, integrated on a fine lattice of points.

    Examples
    --------
    >>> round(disc_grid_coverage(1000.0, 1000.0), 3), round(disc_grid_coverage(1000.0, 300.0), 3)
    (1.0, 0.327)
    """
    if isd_m <= 0 or radius_m < 0:
        raise ConfigError("isd_m must be > 0 and radius_m >= 0 metres")
    u = _HEX_LATTICE * isd_m
    return float(np.mean(np.hypot(u[:, 0], u[:, 1]) <= radius_m))


def disc_grid_isd(target: float, radius_m: float) -> float:
    """The largest inter-site distance (m) at which :func:`disc_grid_coverage` reaches ``target``.

    Examples
    --------
    >>> round(disc_grid_isd(0.8, 182.0))
    388
    """
    lo, hi = 1.0, 100.0 * max(radius_m, 1.0)
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if disc_grid_coverage(mid, radius_m) >= target:
            lo = mid
        else:
            hi = mid
    return float(lo)


def _hex_lattice(k: int = 400) -> NDArray[np.float64]:
    """Points of a fine square lattice inside the unit-spacing hexagon (cell centres, deterministic)."""
    s = 1 / np.sqrt(3)
    g = (np.arange(k) + 0.5) / k
    x, y = np.meshgrid(g - 0.5, (g - 0.5) * 2 * s)
    x, y = x.ravel(), y.ravel()
    keep = (np.abs(x) <= 0.5) & (np.abs(x) * 0.5 + np.abs(y) * np.sqrt(3) / 2 <= 0.5)
    return np.column_stack([x[keep], y[keep]])


_HEX_LATTICE = _hex_lattice()
