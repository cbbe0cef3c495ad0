"""3GPP TR 38.901 path loss, LOS probability, shadow fading and building entry loss (arrays in, dB out).

Table 7.4.1-1 of 3GPP TR 38.901 (v16.1.0 / v17.0.0, unchanged between them):
:func:`pathloss_uma`, :func:`pathloss_umi` (street canyon), :func:`pathloss_rma`
and :func:`pathloss_inh` (office), vectorised in numpy. Every function takes the
**horizontal (2D) distance** ``d_m`` and forms the 3D distance
``d3D = sqrt(d_m**2 + (h_bs - h_ut)**2)`` from the antenna heights, as the table
does. This is the reading that reproduces the values quoted in geoplan issue 3
for UMa NLOS at 3.5 GHz with h_UT = 1.5 m: 103.0 dB at 100 m and 129.9 dB at
500 m. NLOS is ``max(PL_LOS, PL'_NLOS)`` as in the table; the LOS breakpoint of
UMa/UMi is ``d'_BP = 4 h'_BS h'_UT f_c / c`` with effective heights
``h' = h - 1 m`` (h_E = 1 m, the value for h_UT < 13 m), that of RMa
``d_BP = 2 pi h_BS h_UT f_c / c``; c = 3.0e8 m/s. Distances below the table's
lower limit (10 m, InH 1 m) are evaluated at that limit; beyond the upper limit
the formulas are extrapolated (:mod:`geoplan.radio` caps radii there). LOS
probabilities are Table 7.4.2-1 (:func:`los_probability`); building entry loss
§7.4.3 (:func:`building_entry_loss_db`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .errors import ConfigError, Problem, ValidationError

__all__ = [
    "Scenario",
    "LosState",
    "RANGE_M",
    "pathloss_uma",
    "pathloss_umi",
    "pathloss_rma",
    "pathloss_inh",
    "pathloss",
    "los_probability",
    "shadow_fading_sigma_db",
    "building_entry_loss_db",
]

Scenario = Literal["UMa", "UMi", "RMa", "InH"]
LosState = bool | Literal["expected"]

#: Speed of light used by TR 38.901 in the breakpoint distances (m/s).
C_M_PER_S = 3.0e8
_H_E = 1.0  # effective environment height h_E for h_UT < 13 m (38.901 Table 7.4.1-1 note 1)

#: Validity of Table 7.4.1-1 in horizontal distance (m): (lower, upper LOS, upper NLOS).
RANGE_M: dict[str, tuple[float, float, float]] = {
    "UMa": (10.0, 5_000.0, 5_000.0),
    "UMi": (10.0, 5_000.0, 5_000.0),
    "RMa": (10.0, 10_000.0, 5_000.0),
    "InH": (1.0, 150.0, 150.0),
}
_RANGE_M = RANGE_M
_FC_RANGE_GHZ: dict[str, tuple[float, float]] = {
    "UMa": (0.5, 100.0), "UMi": (0.5, 100.0), "RMa": (0.5, 30.0), "InH": (0.5, 100.0),
}
# Shadow fading sigma (dB), Table 7.4.1-1: (LOS, NLOS). RMa LOS is 4 dB before and
# 6 dB after the breakpoint; the margin uses 6 dB, the value at a rural cell edge.
_SF_SIGMA_DB: dict[str, tuple[float, float]] = {
    "UMa": (4.0, 6.0), "UMi": (4.0, 7.82), "RMa": (6.0, 8.0), "InH": (3.0, 8.03),
}

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


