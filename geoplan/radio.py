"""Radio model: 3GPP TR 38.901 path loss, link budgets and cell radii.

This module turns a band, a site type and an environment into the radius a
site covers, which :mod:`geoplan.coverage` turns into a sparse coverage matrix.

Path loss
    Table 7.4.1-1 of 3GPP TR 38.901 (v16.1.0 / v17.0.0, unchanged between them):
    :func:`pathloss_uma`, :func:`pathloss_umi` (street canyon),
    :func:`pathloss_rma` and :func:`pathloss_inh` (office), vectorised in numpy.
    Every function takes the **horizontal (2D) distance** ``d_m`` and forms the
    3D distance ``d3D = sqrt(d_m**2 + (h_bs - h_ut)**2)`` from the antenna
    heights, as the table does. This is the reading that reproduces the values
    quoted in geoplan issue 3 for UMa NLOS at 3.5 GHz with h_UT = 1.5 m: 103.0 dB
    at 100 m and 129.9 dB at 500 m. (Taking ``d_m`` itself as d3D would give
    102.6 dB at 100 m.) NLOS is ``max(PL_LOS, PL'_NLOS)`` as in the table; the
    LOS breakpoint of UMa/UMi is ``d'_BP = 4 h'_BS h'_UT f_c / c`` with effective
    heights ``h' = h - 1 m`` (h_E = 1 m, the value for h_UT < 13 m), that of RMa
    ``d_BP = 2 pi h_BS h_UT f_c / c``; c = 3.0e8 m/s. Distances below the table's
    lower limit (10 m, InH 1 m) are evaluated at that limit; beyond the upper
    limit the formulas are extrapolated (:func:`cell_radius_m` caps radii there).
    LOS probabilities are Table 7.4.2-1 (:func:`los_probability`).

Link budget
    :func:`link_budget` / :func:`max_allowable_path_loss` compute the maximum
    allowable path loss (MAPL) of the uplink (default: 5G coverage is uplink
    limited, the UE sends 23-26 dBm against a 53 dBm AAU) or the downlink:
    EIRP + receive gain - (thermal noise + noise figure + required SINR)
    - shadow-fading margin - interference margin - building entry loss.
    The required SINR comes from a cell-edge rate through the attenuated Shannon
    bound of 3GPP TR 36.942 Annex A.2. Building entry loss is 38.901 §7.4.3.1.
    Which defaults come from a standard and which are typical engineering values
    is stated next to each one.

Cell radius
    :func:`cell_radius_m` solves ``PL(d) = MAPL`` by vectorised bisection and
    :func:`radius_table` tabulates band x site type x environment.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Literal, TypeVar

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtri

from .errors import ConfigError, Problem, ValidationError

__all__ = [
    "Band",
    "BANDS",
    "SiteProfile",
    "SITE_PROFILES",
    "Environment",
    "ENVIRONMENTS",
    "ENVIRONMENT_NAMES",
    "LinkBudget",
    "LinkBudgetResult",
    "pathloss_uma",
    "pathloss_umi",
    "pathloss_rma",
    "pathloss_inh",
    "pathloss",
    "los_probability",
    "shadow_fading_sigma_db",
    "building_entry_loss_db",
    "required_sinr_db",
    "environment_from_density",
    "link_budget",
    "max_allowable_path_loss",
    "cell_radius_m",
    "radius_table",
]

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())

Scenario = Literal["UMa", "UMi", "RMa", "InH"]
LosState = bool | Literal["expected"]
T = TypeVar("T")

#: Speed of light used by TR 38.901 in the breakpoint distances (m/s).
C_M_PER_S = 3.0e8
#: Thermal noise power spectral density at 290 K (dBm/Hz).
THERMAL_NOISE_DBM_PER_HZ = -174.0
_H_E = 1.0  # effective environment height h_E for h_UT < 13 m (38.901 Table 7.4.1-1 note 1)

# Validity of Table 7.4.1-1 in horizontal distance (m): (lower, upper LOS, upper NLOS).
_RANGE_M: dict[str, tuple[float, float, float]] = {
    "UMa": (10.0, 5_000.0, 5_000.0),
    "UMi": (10.0, 5_000.0, 5_000.0),
    "RMa": (10.0, 10_000.0, 5_000.0),
    "InH": (1.0, 150.0, 150.0),
}
_FC_RANGE_GHZ: dict[str, tuple[float, float]] = {
    "UMa": (0.5, 100.0), "UMi": (0.5, 100.0), "RMa": (0.5, 30.0), "InH": (0.5, 100.0),
}
# Shadow fading sigma (dB), Table 7.4.1-1: (LOS, NLOS). RMa LOS is 4 dB before and
# 6 dB after the breakpoint; the margin uses 6 dB, the value at a rural cell edge.
_SF_SIGMA_DB: dict[str, tuple[float, float]] = {
    "UMa": (4.0, 6.0), "UMi": (4.0, 7.82), "RMa": (6.0, 8.0), "InH": (3.0, 8.03),
}


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Band:
    """A 5G NR band as deployed in China.

    Parameters
    ----------
    name : str
        3GPP band name, e.g. ``"n78"``.
    fc_ghz : float
        Nominal carrier frequency used in the path-loss formulas (GHz).
    bandwidth_mhz : float
        Carrier bandwidth (MHz): the downlink noise bandwidth.
    operators : tuple of str
        Chinese operators holding the band.
    duplex : {"TDD", "FDD"}
        Duplex mode; a TDD carrier sends uplink only part of the time.
    ue_power_dbm : float
        UE maximum output power (TS 38.101-1 §6.2.1): 26 dBm for power class 2,
        which Chinese handsets support on n41/n78/n79; 23 dBm (class 3) elsewhere.
    """

    name: str
    fc_ghz: float
    bandwidth_mhz: float
    operators: tuple[str, ...]
    duplex: Literal["TDD", "FDD"] = "FDD"
    ue_power_dbm: float = 23.0


#: Bands of China's 5G networks (MIIT licences of 2018-2020).
BANDS: dict[str, Band] = {
    # China Telecom 3400-3500 MHz and China Unicom 3500-3600 MHz, built and shared jointly.
    "n78": Band("n78", 3.5, 100.0, ("China Telecom", "China Unicom"), "TDD", 26.0),
    # China Mobile 2515-2675 MHz; a 100 MHz NR carrier (the rest carries LTE or a second carrier).
    "n41": Band("n41", 2.6, 100.0, ("China Mobile",), "TDD", 26.0),
    # China Broadcast Network with China Mobile, 703-733 / 758-788 MHz, 2 x 30 MHz.
    "n28": Band("n28", 0.7, 30.0, ("China Broadcast Network", "China Mobile"), "FDD", 23.0),
    # China Mobile 4800-4900 MHz (CBN holds 4900-4960 MHz); nominal 4.9 GHz.
    "n79": Band("n79", 4.9, 100.0, ("China Mobile",), "TDD", 26.0),
}


@dataclass(frozen=True)
class SiteProfile:
    """A type of base station (宏站 / 微站 / 室分).

    Parameters
    ----------
    name : str
        ``"macro"``, ``"micro"`` or ``"indoor"``.
    tx_power_dbm : float
        Total transmit power over the carrier (dBm), used by the downlink.
    antenna_gain_dbi : float
        Antenna gain including beamforming gain (dBi), used in both links.
    height_m : float
        Antenna height above ground (m).
    scenario : {"UMa", "UMi", "InH"}
        The 38.901 scenario the site type follows. Macro sites switch to RMa in
        environments whose :attr:`Environment.macro_scenario` is ``"RMa"``.
    noise_figure_db : float
        Base-station receiver noise figure (dB), used by the uplink.
    feeder_loss_db : float
        Cable and connector loss between radio and antenna (dB); 0 for active
        antenna units.
    """

    name: str
    tx_power_dbm: float
    antenna_gain_dbi: float
    height_m: float
    scenario: Literal["UMa", "UMi", "InH"]
    noise_figure_db: float = 5.0
    feeder_loss_db: float = 0.0


#: Site types. Heights are the 38.901 defaults of each scenario (UMa 25 m, UMi 10 m,
#: InH 3 m); noise figure 5 dB is the ITU-R M.2412-0 evaluation value for
#: base stations below 6 GHz. Powers and gains are *typical* equipment values, not
#: standards: macro = 64T64R AAU, 200 W, ~25 dBi with beamforming; micro = 4T4R
#: street unit, 4 x 5 W, ~10 dBi; indoor = pico remote radio unit (pRRU),
#: 4 x 250 mW, ~3 dBi omni.
SITE_PROFILES: dict[str, SiteProfile] = {
    "macro": SiteProfile("macro", 53.0, 25.0, 25.0, "UMa"),
    "micro": SiteProfile("micro", 43.0, 10.0, 10.0, "UMi"),
    "indoor": SiteProfile("indoor", 30.0, 3.0, 3.0, "InH"),
}


@dataclass(frozen=True)
class Environment:
    """A morphology class (密集市区 / 一般市区 / 郊区 / 农村).

    Parameters
    ----------
    name : str
        ``"dense_urban"``, ``"urban"``, ``"suburban"`` or ``"rural"``.
    min_pop_per_km2 : float
        Lower density bound of the class, see :func:`environment_from_density`.
    macro_scenario : {"UMa", "RMa"}
        38.901 scenario used for macro sites here.
    building_height_m, street_width_m : float
        Average building height h and street width W of the RMa NLOS formula
        (38.901 defaults: 5 m and 20 m); unused for UMa.
    o2i_model : {"low", "high"}
        38.901 §7.4.3.1 building-entry-loss model for indoor users: "high" for
        modern buildings with metal-coated (IRR) glass.
    interference_margin_db : float
        Rise of interference over thermal noise at the cell edge (dB).
    edge_probability : float
        Required probability of coverage at the cell edge; sets the shadow-fading
        margin ``ndtri(p) * sigma``.
    """

    name: str
    min_pop_per_km2: float
    macro_scenario: Literal["UMa", "RMa"]
    building_height_m: float
    street_width_m: float
    o2i_model: Literal["low", "high"]
    interference_margin_db: float
    edge_probability: float


#: Environments, densest first. Modelled, not standardised: the density thresholds
#: (see :func:`environment_from_density`), RMa with 10 m buildings standing in for
#: suburbs (38.901 has no suburban model; its RMa NLOS formula is the ITU-R M.2135
#: macro formula with building height and street width as parameters), the high-loss
#: O2I model for dense urban cores, and the margins: interference margins of 4/3/2/1 dB
#: and edge probabilities of 0.90/0.90/0.85/0.80 are typical of operators' 5G link
#: budgets (denser networks are more loaded and are planned to a higher reliability).
ENVIRONMENTS: dict[str, Environment] = {
    "dense_urban": Environment("dense_urban", 10_000.0, "UMa", 5.0, 20.0, "high", 4.0, 0.90),
    "urban": Environment("urban", 3_000.0, "UMa", 5.0, 20.0, "low", 3.0, 0.90),
    "suburban": Environment("suburban", 500.0, "RMa", 10.0, 20.0, "low", 2.0, 0.85),
    "rural": Environment("rural", 0.0, "RMa", 5.0, 20.0, "low", 1.0, 0.80),
}
#: Environment names in code order: :func:`environment_from_density` returns indices into this.
ENVIRONMENT_NAMES: tuple[str, ...] = tuple(ENVIRONMENTS)


@dataclass(frozen=True)
class LinkBudget:
    """Assumptions of a link budget that do not depend on band, site or environment.

    Parameters
    ----------
    link : {"uplink", "downlink"}
        Which link to dimension. Uplink by default: it limits 5G coverage.
    dl_edge_rate_mbps, ul_edge_rate_mbps : float
        Cell-edge throughput targets; 10 and 1 Mbit/s are the values Chinese
        operators quote for early 5G planning (typical, not a standard).
    ul_allocation_mhz : float
        Bandwidth a cell-edge UE transmits on (about 13 resource blocks at
        30 kHz); the uplink noise bandwidth. Typical.
    tdd_dl_share, tdd_ul_share : float
        Time shares of a TDD carrier. Defaults are the DDDSU frame with a 10:2:2
        special slot, the common 3GPP/ITU-R evaluation pattern (DL 0.743, UL 0.229).
        Chinese operators' frames differ slightly (China Telecom/Unicom n78:
        2.5 ms double period; China Mobile n41/n79: 5 ms).
    ue_antenna_gain_dbi : float
        Handset antenna gain, 0 dBi (typical).
    ue_noise_figure_db : float
        UE noise figure, 7 dB (ITU-R M.2412-0, below 6 GHz).
    body_loss_db : float
        Loss from the user's body and hand, 3 dB (typical, handheld).
    ue_height_m : float
        UE antenna height, 1.5 m (38.901 outdoor default).
    indoor_distance_m : float or None
        Distance from the wall to an indoor user, the ``d_2D-in`` of 38.901
        §7.4.3.1. ``None`` uses its mean: min of two U(0, 25 m) draws, 25/3 m,
        for UMa/UMi, and min of two U(0, 10 m), 10/3 m, for RMa.
    required_sinr_db : float or None
        Override the SINR derived from the edge rate.
    """

    link: Literal["uplink", "downlink"] = "uplink"
    dl_edge_rate_mbps: float = 10.0
    ul_edge_rate_mbps: float = 1.0
    ul_allocation_mhz: float = 5.0
    tdd_dl_share: float = (3 + 10 / 14) / 5
    tdd_ul_share: float = (1 + 2 / 14) / 5
    ue_antenna_gain_dbi: float = 0.0
    ue_noise_figure_db: float = 7.0
    body_loss_db: float = 3.0
    ue_height_m: float = 1.5
    indoor_distance_m: float | None = None
    required_sinr_db: float | None = None


@dataclass(frozen=True)
class LinkBudgetResult:
    """The terms of one link budget (dB / dBm). ``mapl_db`` is

    ``eirp_dbm + rx_gain_db - sensitivity_dbm - shadow_margin_db
    - interference_margin_db - building_entry_loss_db``.
    """

    band: str
    site: str
    environment: str
    scenario: str
    link: str
    indoor: bool
    eirp_dbm: float
    rx_gain_db: float
    noise_dbm: float
    required_sinr_db: float
    sensitivity_dbm: float
    shadow_sigma_db: float
    shadow_margin_db: float
    interference_margin_db: float
    building_entry_loss_db: float
    mapl_db: float


# --------------------------------------------------------------------------- path loss


def _check_fc(fc_ghz: float, scenario: str) -> None:
    lo, hi = _FC_RANGE_GHZ[scenario]
    if not (np.isfinite(fc_ghz) and lo <= fc_ghz <= hi):
        raise ConfigError(f"fc_ghz={fc_ghz!r} is outside the {lo}-{hi} GHz range of the 38.901 "
                          f"{scenario} path-loss model; give the carrier frequency in GHz (3.5 for n78)")


def _distances(d_m: ArrayLike, h_bs: float, h_ut: float, scenario: str) -> tuple[NDArray[np.float64],
                                                                                   NDArray[np.float64]]:
    d = np.asarray(d_m, dtype=float)
    if np.any(~np.isfinite(d)) or np.any(d < 0):
        raise ValidationError(Problem("distances", "d_m", "distances must be finite and >= 0 metres",
                                      "pass horizontal distances in metres"))
    if h_bs <= 0 or h_ut <= 0:
        raise ConfigError(f"antenna heights must be positive, got h_bs={h_bs}, h_ut={h_ut} (metres)")
    d2 = np.maximum(d, _RANGE_M[scenario][0])
    d3 = np.hypot(d2, h_bs - h_ut)
    return d2, d3


def _two_slope_los(d2: NDArray[np.float64], d3: NDArray[np.float64], *, fc_ghz: float, h_bs: float, h_ut: float,
                   a: float, b: float, c: float) -> NDArray[np.float64]:
    """The LOS path loss of UMa and UMi (38.901 Table 7.4.1-1): two slopes split at the breakpoint.

    ``PL1 = a + b log10(d3D) + 20 log10(fc)`` up to the breakpoint distance
    ``d'BP = 4 h'BS h'UT fc / c`` (effective heights above 1 m), then
    ``PL2 = a + 40 log10(d3D) + 20 log10(fc) - c log10(d'BP² + (hBS - hUT)²)``.
    """
    d_bp = 4.0 * (h_bs - _H_E) * (h_ut - _H_E) * fc_ghz * 1e9 / C_M_PER_S
    lf = 20.0 * np.log10(fc_ghz)
    pl1 = a + b * np.log10(d3) + lf
    pl2 = a + 40.0 * np.log10(d3) + lf - c * np.log10(d_bp**2 + (h_bs - h_ut) ** 2)
    return np.where(d2 <= d_bp, pl1, pl2)


def pathloss_uma(d_m: ArrayLike, *, fc_ghz: float, h_bs: float = 25.0, h_ut: float = 1.5,
                 los: bool) -> NDArray[np.float64]:
    """Urban macro (UMa) path loss of 38.901 Table 7.4.1-1 (dB).

    Parameters
    ----------
    d_m : array_like
        Horizontal (2D) distance in metres; below 10 m evaluated at 10 m.
    fc_ghz : float
        Carrier frequency in GHz (0.5-100).
    h_bs, h_ut : float
        Base-station and UE antenna heights in metres (38.901: 25 m, 1.5-22.5 m).
    los : bool
        Line of sight. NLOS is ``max(PL_LOS, 13.54 + 39.08 log10(d3D)
        + 20 log10(fc) - 0.6 (h_UT - 1.5))``.

    Returns
    -------
    numpy.ndarray
        Path loss in dB, shaped like ``d_m``.

    Examples
    --------
    >>> pathloss_uma([100.0, 500.0], fc_ghz=3.5, los=False).round(1)
    array([103. , 129.9])
    """
    _check_fc(fc_ghz, "UMa")
    d2, d3 = _distances(d_m, h_bs, h_ut, "UMa")
    pl_los = _two_slope_los(d2, d3, fc_ghz=fc_ghz, h_bs=h_bs, h_ut=h_ut, a=28.0, b=22.0, c=9.0)
    if los:
        return pl_los
    pl_nlos = 13.54 + 39.08 * np.log10(d3) + 20.0 * np.log10(fc_ghz) - 0.6 * (h_ut - 1.5)
    return np.maximum(pl_los, pl_nlos)


def pathloss_umi(d_m: ArrayLike, *, fc_ghz: float, h_bs: float = 10.0, h_ut: float = 1.5,
                 los: bool) -> NDArray[np.float64]:
    """Urban micro street-canyon (UMi) path loss of 38.901 Table 7.4.1-1 (dB).

    Parameters
    ----------
    d_m : array_like
        Horizontal (2D) distance in metres; below 10 m evaluated at 10 m.
    fc_ghz : float
        Carrier frequency in GHz (0.5-100).
    h_bs, h_ut : float
        Antenna heights in metres (38.901: 10 m, 1.5-22.5 m).
    los : bool
        Line of sight. NLOS is ``max(PL_LOS, 35.3 log10(d3D) + 22.4
        + 21.3 log10(fc) - 0.3 (h_UT - 1.5))``.

    Returns
    -------
    numpy.ndarray
        Path loss in dB, shaped like ``d_m``.

    Examples
    --------
    >>> pathloss_umi([50.0, 200.0], fc_ghz=3.5, los=False).round(2)
    array([ 94.18, 115.23])
    """
    _check_fc(fc_ghz, "UMi")
    d2, d3 = _distances(d_m, h_bs, h_ut, "UMi")
    pl_los = _two_slope_los(d2, d3, fc_ghz=fc_ghz, h_bs=h_bs, h_ut=h_ut, a=32.4, b=21.0, c=9.5)
    if los:
        return pl_los
    pl_nlos = 35.3 * np.log10(d3) + 22.4 + 21.3 * np.log10(fc_ghz) - 0.3 * (h_ut - 1.5)
    return np.maximum(pl_los, pl_nlos)


def pathloss_rma(d_m: ArrayLike, *, fc_ghz: float, h_bs: float = 35.0, h_ut: float = 1.5, los: bool,
                 building_height_m: float = 5.0, street_width_m: float = 20.0) -> NDArray[np.float64]:
    """Rural macro (RMa) path loss of 38.901 Table 7.4.1-1 (dB).

    Parameters
    ----------
    d_m : array_like
        Horizontal (2D) distance in metres; below 10 m evaluated at 10 m.
    fc_ghz : float
        Carrier frequency in GHz (0.5-30; validated by measurements to 7 GHz).
    h_bs, h_ut : float
        Antenna heights in metres (38.901: 35 m, 1.5 m; valid 10-150 m, 1-10 m).
    los : bool
        Line of sight; NLOS is ``max(PL_LOS, PL'_NLOS)``.
    building_height_m, street_width_m : float
        Average building height h and street width W (38.901: 5 m, 20 m;
        valid 5-50 m each).

    Returns
    -------
    numpy.ndarray
        Path loss in dB, shaped like ``d_m``.

    Examples
    --------
    >>> pathloss_rma([1000.0, 5000.0], fc_ghz=0.7, los=False).round(2)
    array([116.44, 143.44])
    """
    _check_fc(fc_ghz, "RMa")
    d2, d3 = _distances(d_m, h_bs, h_ut, "RMa")
    h, w = building_height_m, street_width_m
    if h <= 0 or w <= 0:
        raise ConfigError(f"building_height_m={h} and street_width_m={w} must be positive metres")
    d_bp = 2.0 * np.pi * h_bs * h_ut * fc_ghz * 1e9 / C_M_PER_S

    def pl1(d: NDArray[np.float64] | float) -> NDArray[np.float64]:
        return np.asarray(20.0 * np.log10(40.0 * np.pi * d * fc_ghz / 3.0)
                          + min(0.03 * h**1.72, 10.0) * np.log10(d)
                          - min(0.044 * h**1.72, 14.77) + 0.002 * np.log10(h) * d)

    pl_los = np.where(d2 <= d_bp, pl1(d3), pl1(d_bp) + 40.0 * np.log10(d3 / d_bp))
    if los:
        return pl_los
    pl_nlos = (161.04 - 7.1 * np.log10(w) + 7.5 * np.log10(h)
               - (24.37 - 3.7 * (h / h_bs) ** 2) * np.log10(h_bs)
               + (43.42 - 3.1 * np.log10(h_bs)) * (np.log10(d3) - 3.0)
               + 20.0 * np.log10(fc_ghz) - (3.2 * np.log10(11.75 * h_ut) ** 2 - 4.97))
    return np.maximum(pl_los, pl_nlos)


def pathloss_inh(d_m: ArrayLike, *, fc_ghz: float, h_bs: float = 3.0, h_ut: float = 1.0,
                 los: bool) -> NDArray[np.float64]:
    """Indoor hotspot, office (InH) path loss of 38.901 Table 7.4.1-1 (dB).

    Parameters
    ----------
    d_m : array_like
        Horizontal (2D) distance in metres; below 1 m evaluated at 1 m.
    fc_ghz : float
        Carrier frequency in GHz (0.5-100).
    h_bs, h_ut : float
        Antenna heights in metres (38.901: 3 m ceiling, 1 m).
    los : bool
        Line of sight; NLOS is ``max(PL_LOS, 38.3 log10(d3D) + 17.30
        + 24.9 log10(fc))``.

    Returns
    -------
    numpy.ndarray
        Path loss in dB, shaped like ``d_m``.

    Examples
    --------
    >>> pathloss_inh([10.0, 50.0], fc_ghz=3.5, los=True).round(2)
    array([60.73, 72.68])
    """
    _check_fc(fc_ghz, "InH")
    _, d3 = _distances(d_m, h_bs, h_ut, "InH")
    pl_los = 32.4 + 17.3 * np.log10(d3) + 20.0 * np.log10(fc_ghz)
    if los:
        return pl_los
    return np.maximum(pl_los, 38.3 * np.log10(d3) + 17.30 + 24.9 * np.log10(fc_ghz))


def los_probability(d_m: ArrayLike, *, scenario: Scenario, h_ut: float = 1.5) -> NDArray[np.float64]:
    """Probability of line of sight, 38.901 Table 7.4.2-1.

    Parameters
    ----------
    d_m : array_like
        Horizontal (2D) outdoor distance in metres.
    scenario : {"UMa", "UMi", "RMa", "InH"}
        InH uses the mixed-office formula.
    h_ut : float
        UE height in metres (UMa only: raises the probability above 13 m).

    Returns
    -------
    numpy.ndarray
        Probability in [0, 1], shaped like ``d_m``.

    Examples
    --------
    >>> los_probability([10.0, 100.0], scenario="UMa").round(4)
    array([1.    , 0.3477])
    """
    d = np.maximum(np.asarray(d_m, dtype=float), 1e-9)
    if scenario == "UMa":
        c = 0.0 if h_ut <= 13.0 else ((h_ut - 13.0) / 10.0) ** 1.5
        p = (18.0 / d + np.exp(-d / 63.0) * (1.0 - 18.0 / d)) * (
            1.0 + c * 1.25 * (d / 100.0) ** 3 * np.exp(-d / 150.0))
        return np.where(d <= 18.0, 1.0, p)
    if scenario == "UMi":
        return np.where(d <= 18.0, 1.0, 18.0 / d + np.exp(-d / 36.0) * (1.0 - 18.0 / d))
    if scenario == "RMa":
        return np.where(d <= 10.0, 1.0, np.exp(-(d - 10.0) / 1000.0))
    if scenario == "InH":
        return np.where(d <= 1.2, 1.0, np.where(d < 6.5, np.exp(-(d - 1.2) / 4.7),
                                                np.exp(-(d - 6.5) / 32.6) * 0.32))
    raise ConfigError(f"unknown scenario {scenario!r}; use one of UMa, UMi, RMa, InH")


def pathloss(d_m: ArrayLike, *, scenario: Scenario, fc_ghz: float, los: LosState = False,
             h_bs: float | None = None, h_ut: float = 1.5, building_height_m: float = 5.0,
             street_width_m: float = 20.0) -> NDArray[np.float64]:
    """Path loss of any 38.901 scenario, optionally LOS-probability weighted.

    Parameters
    ----------
    d_m : array_like
        Horizontal (2D) distance in metres.
    scenario : {"UMa", "UMi", "RMa", "InH"}
    fc_ghz : float
        Carrier frequency in GHz.
    los : bool or "expected"
        ``True``/``False`` for LOS/NLOS; ``"expected"`` averages received power
        over the LOS probability: ``-10 log10(p 10^(-PL_LOS/10) + (1 - p)
        10^(-PL_NLOS/10))``.
    h_bs : float, optional
        Base-station height (m); default the scenario's 38.901 value
        (UMa 25, UMi 10, RMa 35, InH 3).
    h_ut : float
        UE height (m).
    building_height_m, street_width_m : float
        RMa only.

    Returns
    -------
    numpy.ndarray
        Path loss in dB.

    Examples
    --------
    >>> round(float(pathloss(100.0, scenario="UMa", fc_ghz=3.5)), 2)
    103.04
    """
    fns: dict[str, Callable[..., NDArray[np.float64]]] = {
        "UMa": pathloss_uma, "UMi": pathloss_umi, "RMa": pathloss_rma, "InH": pathloss_inh}
    if scenario not in fns:
        raise ConfigError(f"unknown scenario {scenario!r}; use one of UMa, UMi, RMa, InH")
    kw: dict[str, float] = {"fc_ghz": fc_ghz, "h_ut": h_ut}
    if h_bs is not None:
        kw["h_bs"] = h_bs
    if scenario == "RMa":
        kw.update(building_height_m=building_height_m, street_width_m=street_width_m)
    fn = fns[scenario]
    if los == "expected":
        p = los_probability(d_m, scenario=scenario, h_ut=h_ut)
        pl_l, pl_n = fn(d_m, los=True, **kw), fn(d_m, los=False, **kw)
        return np.asarray(-10.0 * np.log10(p * 10 ** (-pl_l / 10) + (1 - p) * 10 ** (-pl_n / 10)))
    if not isinstance(los, bool | np.bool_):
        raise ConfigError(f"los={los!r}: use True, False or 'expected'")
    return fn(d_m, los=bool(los), **kw)


def shadow_fading_sigma_db(scenario: Scenario, *, los: LosState = False) -> float:
    """Shadow-fading standard deviation of 38.901 Table 7.4.1-1 (dB).

    ``los="expected"`` uses the NLOS value (the larger one). RMa LOS returns
    6 dB, its value beyond the breakpoint.

    Examples
    --------
    >>> shadow_fading_sigma_db("UMi")
    7.82
    """
    if scenario not in _SF_SIGMA_DB:
        raise ConfigError(f"unknown scenario {scenario!r}; use one of UMa, UMi, RMa, InH")
    return _SF_SIGMA_DB[scenario][0 if los is True else 1]


def building_entry_loss_db(fc_ghz: float, *, model: Literal["low", "high"] = "low",
                           indoor_distance_m: float = 25.0 / 3.0) -> tuple[float, float]:
    """Mean outdoor-to-indoor loss and its sigma, 38.901 §7.4.3.1 (dB).

    ``PL_tw + PL_in`` with, for the low-loss model,
    ``PL_tw = 5 - 10 log10(0.3 * 10^(-L_glass/10) + 0.7 * 10^(-L_concrete/10))``,
    ``L_glass = 2 + 0.2 fc``, ``L_concrete = 5 + 4 fc`` (sigma 4.4 dB), and for the
    high-loss model 0.7 IRR glass (``L = 23 + 0.3 fc``) + 0.3 concrete (sigma
    6.5 dB); ``PL_in = 0.5 d_in``.

    Parameters
    ----------
    fc_ghz : float
        Carrier frequency in GHz.
    model : {"low", "high"}
    indoor_distance_m : float
        Distance from the outer wall to the user (m).

    Returns
    -------
    (float, float)
        Mean loss (dB) and the standard deviation sigma_P (dB).

    Examples
    --------
    >>> [round(v, 2) for v in building_entry_loss_db(3.5, indoor_distance_m=0.0)]
    [12.7, 4.4]
    """
    if indoor_distance_m < 0:
        raise ConfigError(f"indoor_distance_m={indoor_distance_m} must be >= 0 metres")
    l_concrete = 5.0 + 4.0 * fc_ghz
    if model == "low":
        l_glass = 2.0 + 0.2 * fc_ghz
        tw = 5.0 - 10.0 * np.log10(0.3 * 10 ** (-l_glass / 10) + 0.7 * 10 ** (-l_concrete / 10))
        sigma = 4.4
    elif model == "high":
        l_irr = 23.0 + 0.3 * fc_ghz
        tw = 5.0 - 10.0 * np.log10(0.7 * 10 ** (-l_irr / 10) + 0.3 * 10 ** (-l_concrete / 10))
        sigma = 6.5
    else:
        raise ConfigError(f"o2i model {model!r}: use 'low' or 'high'")
    return float(tw + 0.5 * indoor_distance_m), sigma


# --------------------------------------------------------------------------- link budget

# Attenuated Shannon bound, 3GPP TR 36.942 Annex A.2: (alpha, SINR_min dB, Thr_max bit/s/Hz).
_SHANNON = {"downlink": (0.6, -10.0, 4.4), "uplink": (0.4, -10.0, 2.0)}


def required_sinr_db(rate_mbps: float, bandwidth_mhz: float, *,
                     link: Literal["uplink", "downlink"] = "uplink", time_share: float = 1.0) -> float:
    """SINR needed for ``rate_mbps`` on ``bandwidth_mhz``, by the attenuated Shannon bound.

    ``SE = rate / (bandwidth * time_share)`` and ``SINR = 2^(SE/alpha) - 1`` with
    alpha = 0.6 (downlink) or 0.4 (uplink), floored at -10 dB (3GPP TR 36.942
    Annex A.2).

    Raises
    ------
    ConfigError
        If the rate needs more than the bound's maximum spectral efficiency
        (4.4 bit/s/Hz downlink, 2.0 uplink).

    Examples
    --------
    >>> round(required_sinr_db(1.0, 5.0, link="uplink", time_share=0.5), 2)
    0.0
    """
    alpha, sinr_min, se_max = _SHANNON[link]
    if rate_mbps <= 0 or bandwidth_mhz <= 0 or not 0 < time_share <= 1:
        raise ConfigError(f"rate_mbps={rate_mbps}, bandwidth_mhz={bandwidth_mhz} must be > 0 and "
                          f"time_share={time_share} in (0, 1]")
    se = rate_mbps / (bandwidth_mhz * time_share)
    if se > se_max:
        raise ConfigError(f"a {link} edge rate of {rate_mbps} Mbit/s on {bandwidth_mhz} MHz "
                          f"(time share {time_share:.2f}) needs {se:.2f} bit/s/Hz, above the {se_max} "
                          "bit/s/Hz the link can carry; lower the edge rate or widen the allocation")
    return float(max(10.0 * np.log10(2.0 ** (se / alpha) - 1.0), sinr_min))


def _lookup(kind: str, value: T | str, table: Mapping[str, T]) -> T:
    if isinstance(value, str):
        if value not in table:
            raise ConfigError(f"unknown {kind} {value!r}; use one of {', '.join(table)}")
        return table[value]
    return value


def _resolve(band: Band | str, site: SiteProfile | str,
             environment: Environment | str) -> tuple[Band, SiteProfile, Environment]:
    return (_lookup("band", band, BANDS), _lookup("site type", site, SITE_PROFILES),
            _lookup("environment", environment, ENVIRONMENTS))


def _scenario_for(site: SiteProfile, env: Environment) -> Scenario:
    if site.scenario == "UMa" and env.macro_scenario == "RMa":
        return "RMa"
    return site.scenario


def link_budget(*, band: Band | str, site: SiteProfile | str, environment: Environment | str,
                indoor: bool = False, los: LosState = False,
                budget: LinkBudget | None = None) -> LinkBudgetResult:
    """Link budget of one band, site type and environment.

    Parameters
    ----------
    band : Band or str
        A :class:`Band` or a key of :data:`BANDS` (``"n78"``).
    site : SiteProfile or str
        A :class:`SiteProfile` or a key of :data:`SITE_PROFILES`.
    environment : Environment or str
        An :class:`Environment` or a key of :data:`ENVIRONMENTS`.
    indoor : bool
        Users inside buildings: adds the 38.901 building entry loss (mean
        plus its sigma combined with shadow fading). Indoor (InH) sites serve
        users in their own building, so no entry loss applies to them.
    los : bool or "expected"
        Selects the shadow-fading sigma (``"expected"`` uses NLOS).
    budget : LinkBudget, optional
        Other assumptions; default ``LinkBudget()``.

    Returns
    -------
    LinkBudgetResult

    Examples
    --------
    >>> r = link_budget(band="n78", site="macro", environment="urban")
    >>> round(r.mapl_db, 1)
    133.8
    """
    b = budget or LinkBudget()
    bd, st, env = _resolve(band, site, environment)
    if b.link not in ("uplink", "downlink"):
        raise ConfigError(f"link={b.link!r}: use 'uplink' or 'downlink'")
    if not 0.5 <= env.edge_probability < 1.0:
        raise ConfigError(f"edge_probability={env.edge_probability} of environment {env.name} "
                          "must be in [0.5, 1)")
    scenario = _scenario_for(st, env)
    tdd = bd.duplex == "TDD"
    if b.link == "downlink":
        eirp = st.tx_power_dbm + st.antenna_gain_dbi - st.feeder_loss_db
        rx_gain = b.ue_antenna_gain_dbi - b.body_loss_db
        noise_bw, nf = bd.bandwidth_mhz, b.ue_noise_figure_db
        rate, share = b.dl_edge_rate_mbps, (b.tdd_dl_share if tdd else 1.0)
    else:
        eirp = bd.ue_power_dbm + b.ue_antenna_gain_dbi - b.body_loss_db
        rx_gain = st.antenna_gain_dbi - st.feeder_loss_db
        noise_bw, nf = min(b.ul_allocation_mhz, bd.bandwidth_mhz), st.noise_figure_db
        rate, share = b.ul_edge_rate_mbps, (b.tdd_ul_share if tdd else 1.0)
    noise = THERMAL_NOISE_DBM_PER_HZ + 10.0 * np.log10(noise_bw * 1e6) + nf
    sinr = b.required_sinr_db if b.required_sinr_db is not None else required_sinr_db(
        rate, noise_bw, link=b.link, time_share=share)
    sensitivity = noise + sinr
    sigma = shadow_fading_sigma_db(scenario, los=los)
    bel = 0.0
    if indoor and scenario != "InH":
        d_in = b.indoor_distance_m if b.indoor_distance_m is not None else (
            10.0 / 3.0 if scenario == "RMa" else 25.0 / 3.0)
        bel, sigma_p = building_entry_loss_db(bd.fc_ghz, model=env.o2i_model, indoor_distance_m=d_in)
        sigma = float(np.hypot(sigma, sigma_p))
    margin = float(ndtri(env.edge_probability)) * sigma
    mapl = eirp + rx_gain - sensitivity - margin - env.interference_margin_db - bel
    return LinkBudgetResult(
        band=bd.name, site=st.name, environment=env.name, scenario=scenario, link=b.link,
        indoor=bool(indoor), eirp_dbm=float(eirp), rx_gain_db=float(rx_gain), noise_dbm=float(noise),
        required_sinr_db=float(sinr), sensitivity_dbm=float(sensitivity), shadow_sigma_db=float(sigma),
        shadow_margin_db=margin, interference_margin_db=env.interference_margin_db,
        building_entry_loss_db=float(bel), mapl_db=float(mapl))


def max_allowable_path_loss(*, band: Band | str, site: SiteProfile | str, environment: Environment | str,
                            indoor: bool = False, los: LosState = False,
                            budget: LinkBudget | None = None) -> float:
    """Maximum allowable path loss (dB): ``link_budget(...).mapl_db``.

    See :func:`link_budget` for the parameters.

    Examples
    --------
    >>> round(max_allowable_path_loss(band="n28", site="macro", environment="rural"), 1)
    143.1
    """
    return link_budget(band=band, site=site, environment=environment, indoor=indoor, los=los,
                       budget=budget).mapl_db


# --------------------------------------------------------------------------- radius


def _invert(fn: Callable[[NDArray[np.float64]], NDArray[np.float64]], target: NDArray[np.float64],
            lo: float, hi: float, *, iters: int = 60) -> NDArray[np.float64]:
    """Vectorised bisection in log-distance for ``fn(d) = target`` with ``fn`` increasing."""
    a = np.full(target.shape, np.log(lo))
    b = np.full(target.shape, np.log(hi))
    for _ in range(iters):
        mid = 0.5 * (a + b)
        below = fn(np.exp(mid)) < target
        a = np.where(below, mid, a)
        b = np.where(below, b, mid)
    return np.exp(0.5 * (a + b))


def cell_radius_m(*, band: Band | str, site: SiteProfile | str, environment: Environment | str,
                  indoor: bool = False, los: LosState = False, budget: LinkBudget | None = None) -> float:
    """Cell radius (m): the horizontal distance at which path loss equals the MAPL.

    Solved by bisection on the 38.901 path loss of the site's scenario (macro
    sites use RMa in suburban and rural environments). The result is capped to
    the model's validity range (UMa/UMi 5 km, RMa 10 km LOS / 5 km NLOS, InH
    150 m); it is 0 when even the minimum distance exceeds the MAPL.

    Parameters
    ----------
    band, site, environment, indoor, los, budget
        As in :func:`link_budget`.

    Returns
    -------
    float
        Radius in metres.

    Examples
    --------
    >>> round(cell_radius_m(band="n78", site="macro", environment="dense_urban"))
    593
    """
    res = link_budget(band=band, site=site, environment=environment, indoor=indoor, los=los, budget=budget)
    bd, st, env = _resolve(band, site, environment)
    b = budget or LinkBudget()
    scenario = _scenario_for(st, env)
    lo, hi_los, hi_nlos = _RANGE_M[scenario]
    hi = hi_los if los is True else hi_nlos

    def fn(d: NDArray[np.float64]) -> NDArray[np.float64]:
        return pathloss(d, scenario=scenario, fc_ghz=bd.fc_ghz, los=los, h_bs=st.height_m,
                        h_ut=b.ue_height_m, building_height_m=env.building_height_m,
                        street_width_m=env.street_width_m)

    target = res.mapl_db
    if target <= float(fn(np.asarray(lo))):
        log.info("%s %s in %s: MAPL %.1f dB is below the path loss at %.0f m; radius 0",
                 bd.name, st.name, env.name, target, lo)
        return 0.0
    if target >= float(fn(np.asarray(hi))):
        log.info("%s %s in %s: MAPL %.1f dB reaches beyond the %s model's %.0f m range; radius capped",
                 bd.name, st.name, env.name, target, scenario, hi)
        return hi
    return float(_invert(fn, np.asarray([target]), lo, hi)[0])


def radius_table(*, bands: Iterable[str] | None = None, sites: Iterable[str] | None = None,
                 environments: Iterable[str] | None = None, los: LosState = False,
                 budget: LinkBudget | None = None) -> pd.DataFrame:
    """Cell radii of every band x site type x environment, outdoor and indoor.

    Parameters
    ----------
    bands, sites, environments : iterable of str, optional
        Keys of :data:`BANDS`, :data:`SITE_PROFILES`, :data:`ENVIRONMENTS`
        (default: all).
    los, budget
        As in :func:`link_budget`.

    Returns
    -------
    pandas.DataFrame
        Indexed by (band, site, environment) with columns ``fc_ghz``,
        ``scenario``, ``mapl_outdoor_db``, ``radius_outdoor_m``,
        ``mapl_indoor_db``, ``radius_indoor_m``.

    Examples
    --------
    >>> t = radius_table(bands=["n78"], sites=["macro"])
    >>> t["radius_outdoor_m"].round(-1).tolist()
    [590.0, 630.0, 850.0, 1170.0]
    """
    rows = []
    for bn in bands if bands is not None else BANDS:
        for sn in sites if sites is not None else SITE_PROFILES:
            for en in environments if environments is not None else ENVIRONMENTS:
                row: dict[str, object] = {"band": bn, "site": sn, "environment": en,
                                          "fc_ghz": _lookup("band", bn, BANDS).fc_ghz}
                for where, ind in (("outdoor", False), ("indoor", True)):
                    res = link_budget(band=bn, site=sn, environment=en, indoor=ind, los=los, budget=budget)
                    row["scenario"] = res.scenario
                    row[f"mapl_{where}_db"] = res.mapl_db
                    row[f"radius_{where}_m"] = cell_radius_m(band=bn, site=sn, environment=en, indoor=ind,
                                                             los=los, budget=budget)
                rows.append(row)
    cols = ["band", "site", "environment", "fc_ghz", "scenario", "mapl_outdoor_db", "radius_outdoor_m",
            "mapl_indoor_db", "radius_indoor_m"]
    return pd.DataFrame(rows, columns=cols).set_index(["band", "site", "environment"])


# --------------------------------------------------------------------------- environments


def environment_from_density(pop_per_km2: ArrayLike) -> NDArray[np.int8]:
    """Environment code of each population density.

    Thresholds (:attr:`Environment.min_pop_per_km2`): dense urban >= 10,000
    persons/km², urban >= 3,000, suburban >= 500, rural below. They are
    modelled for Chinese cities, whose cores exceed 10,000/km²; for comparison
    the UN/Eurostat Degree of Urbanisation (GHSL) calls 1 km² cells of
    >= 1,500/km² urban centres and >= 300/km² urban clusters.

    Parameters
    ----------
    pop_per_km2 : array_like
        Population density, persons per km², finite and >= 0.

    Returns
    -------
    numpy.ndarray of int8
        Indices into :data:`ENVIRONMENT_NAMES` (0 dense urban ... 3 rural).

    Raises
    ------
    ValidationError
        On negative or non-finite densities.

    Examples
    --------
    >>> environment_from_density([25_000, 3_000, 499.9, 0])
    array([0, 1, 3, 3], dtype=int8)
    """
    d = np.asarray(pop_per_km2, dtype=float)
    bad = ~np.isfinite(d) | (d < 0)
    if bad.any():
        raise ValidationError(Problem("population", "pop_per_km2",
                                      f"{int(bad.sum())} densities are negative or not finite "
                                      f"(first: {d[bad].ravel()[0]!r})",
                                      "compute density from a population raster without nodata cells"))
    # thresholds descending; code = number of thresholds the density falls below
    thresholds = np.array([e.min_pop_per_km2 for e in ENVIRONMENTS.values()])
    codes = np.sum(d[..., None] < thresholds[:-1], axis=-1)
    return np.asarray(codes, dtype=np.int8)
