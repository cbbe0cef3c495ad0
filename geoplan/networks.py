"""Operator networks of a project's stations: which network and bands each serves, and how they count.

A sites layer may carry ``NETWORK`` (``cmcc``, ``ctcu``, ``cbn``: see the
``[networks]`` of ``geoplan/radio_params.toml``), ``OPERATOR`` (中国移动, 中国电信,
中国联通, 中国广电) and ``BANDS`` (every band a station carries, ``;``-separated) or
``BAND`` (its primary band). :func:`station_fields` reads them into arrays for
the engines, filling what a layer leaves out: the network from the operator,
the bands from ``BAND``, else the planning band.

Counting stations (:data:`COUNTING_RULE`)
-----------------------------------------
The plan's density target counts **physical stations**: one record is one
station, counted once whichever operators use it. 中国电信 and 中国联通 run one
shared grid (共建共享), so a ``ctcu`` station serves both; counted once per
operator that uses it, those stations count twice. :func:`station_counts` gives
both counts per district (and per network and operator) so a table can show
where they differ. 中国广电's use of 中国移动's 700 MHz carriers does not make
those stations 中国广电's: they are built, owned and counted by 中国移动.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from . import radio
from .errors import ConfigError, Problem, ValidationError
from .radio_params import RadioParams

__all__ = ["COUNTING_RULE", "StationFields", "StationCounts", "station_fields", "station_counts", "network_label",
           "coverage_label"]

#: How stations are counted, in one sentence for reports.
COUNTING_RULE = ("The density counts physical stations (one record = one station, counted once whichever operators "
                 "use it); per operator, a station counts for every operator of its network, so each 中国电信/中国联通 "
                 "shared station counts for both.")


@dataclass(frozen=True, eq=False)
class StationFields:
    """Network and bands of each station (arrays in the layer's row order).

    ``network`` is ``""`` where the layer says nothing about it (only ``network="any"``
    can use such stations); ``bands_given`` is False when neither BANDS nor BAND was
    in the layer and every station was taken to carry the planning band.
    """

    network: NDArray[np.str_]
    bands: list[tuple[str, ...]]
    bands_given: bool


@dataclass(frozen=True, eq=False)
class StationCounts:
    """Stations per district: physical (the plan's count), per network, per operator and operator-counted.

    ``by_network`` and ``by_operator`` are frames with one row per district and
    one column per network (operator); ``operator_counted`` sums ``by_operator``
    across operators (a shared station counts once per operator).
    """

    physical: NDArray[np.int64]
    by_network: pd.DataFrame
    by_operator: pd.DataFrame
    operator_counted: NDArray[np.int64]


def _column(frame: pd.DataFrame, name: str) -> NDArray[np.str_] | None:
    if name not in frame.columns:
        return None
    v = frame[name]
    return np.asarray(v.where(v.notna(), "").astype(str).str.strip().to_numpy(), dtype=str)


def station_fields(frame: pd.DataFrame, *, band: str, network: str = "any",
                   params: RadioParams | None = None, layer: str = "sites") -> StationFields:
    """NETWORK and BANDS of every station of ``frame`` (a sites layer), checked.

    Parameters
    ----------
    frame : DataFrame
        The stations (SITE_TYPE, and NETWORK/OPERATOR, BANDS/BAND where known).
    band : str
        Band taken for stations without BANDS or BAND.
    network : str
        The network to be evaluated: a named network needs every station's
        network (from NETWORK or OPERATOR).

    Raises
    ------
    ValidationError
        Unknown networks, operators or bands, or stations without a network when
        ``network`` names one.

    Examples
    --------
    >>> f = station_fields(pd.DataFrame({"OPERATOR": ["中国联通", "中国移动"], "BAND": ["n78", "n41"]}), band="n78")
    >>> f.network.tolist(), f.bands
    (['ctcu', 'cmcc'], [('n78',), ('n41',)])
    """
    p = params if params is not None else radio.default_params()
    n = len(frame)
    problems: list[Problem] = []
    net = _column(frame, "NETWORK")
    op = _column(frame, "OPERATOR")
    of_operator = {o: k for k, nw in p.networks.items() for o in nw.operators}
    nets = np.full(n, "", dtype=object)
    if op is not None:
        bad = sorted(set(op[(op != "") & ~np.isin(op, list(of_operator))].tolist()))
        if bad:
            problems.append(Problem(layer, "OPERATOR", f"unknown operator(s) {bad}",
                                    f"use one of {', '.join(of_operator)}"))
        nets[:] = [of_operator.get(o, "") for o in op.tolist()]
    if net is not None:
        bad = sorted(set(net[(net != "") & ~np.isin(net, list(p.networks))].tolist()))
        if bad:
            problems.append(Problem(layer, "NETWORK", f"unknown network(s) {bad}", f"use one of {', '.join(p.networks)}"))
        nets = np.where(net != "", net, nets)
    missing = int((nets == "").sum())
    if network != "any" and missing:
        problems.append(Problem(layer, "NETWORK", f"{missing} of {n} stations have no NETWORK or OPERATOR, so their "
                                f"network is unknown", "add NETWORK (cmcc, ctcu, cbn) or OPERATOR to the sites layer, "
                                "or evaluate all operators together (network any)"))
    raw = frame["BANDS"] if "BANDS" in frame.columns else frame["BAND"] if "BAND" in frame.columns else None
    bands: list[tuple[str, ...]] = [(band,)] * n
    if raw is not None:
        try:
            parsed = radio.parse_bands(raw.tolist(), params=p)
        except ValidationError as exc:
            problems.extend(Problem(layer, str(raw.name), q.message, q.fix) for q in exc.problems)
        else:
            bands = [b if b else (band,) for b in parsed]
    if problems:
        raise ValidationError(problems)
    return StationFields(np.asarray(nets, dtype=str), bands, raw is not None)


def station_counts(fields: StationFields, district: NDArray[np.int64], n_districts: int, *,
                   params: RadioParams | None = None) -> StationCounts:
    """Stations per district counted both ways (see the module notes); ``district`` is -1 outside all.

    Examples
    --------
    >>> f = station_fields(pd.DataFrame({"NETWORK": ["ctcu", "cmcc", "ctcu"]}), band="n78")
    >>> c = station_counts(f, np.array([0, 0, 1]), 2)
    >>> c.physical.tolist(), c.operator_counted.tolist(), c.by_operator["中国联通"].tolist()
    ([2, 1], [3, 2], [1, 1])
    """
    p = params if params is not None else radio.default_params()
    d = np.asarray(district, dtype=np.int64)
    inside = d >= 0
    physical = np.bincount(d[inside], minlength=n_districts).astype(np.int64)
    by_net = {k: np.bincount(d[inside & (fields.network == k)], minlength=n_districts).astype(np.int64)
              for k in p.networks}
    by_op: dict[str, NDArray[np.int64]] = {}
    for k, nw in p.networks.items():
        for o in nw.operators:
            by_op[o] = by_op.get(o, np.zeros(n_districts, dtype=np.int64)) + by_net[k]
    unknown = np.bincount(d[inside & (fields.network == "")], minlength=n_districts).astype(np.int64)
    if unknown.any():
        by_net[""] = unknown
    frame_net = pd.DataFrame(by_net)
    frame_op = pd.DataFrame(by_op)
    counted = frame_op.sum(axis=1).to_numpy(dtype=np.int64) + unknown
    return StationCounts(physical, frame_net, frame_op, counted)


def network_label(network: str, *, params: RadioParams | None = None) -> str:
    """``"all operators"`` or the network's name, e.g. ``"中国移动"``."""
    p = params if params is not None else radio.default_params()
    if network == "any":
        return "all operators"
    if network not in p.networks:
        raise ConfigError(f"unknown network {network!r}. Fix: use any, {', '.join(p.networks)}")
    return p.networks[network].name


def coverage_label(network: str, band: str, users: str, *, params: RadioParams | None = None) -> str:
    """What a coverage figure refers to, in one phrase, e.g. ``"all operators, n78 new sites, indoor users"``.

    Existing stations are always evaluated on the bands they carry that the network uses.

    Examples
    --------
    >>> print(coverage_label("cmcc", "n41", "indoor"))
    中国移动 (cmcc) on its stations' bands, new sites n41, indoor users
    """
    who = "all operators" if network == "any" else f"{network_label(network, params=params)} ({network})"
    stations = "every station's bands" if network == "any" else "its stations' bands"
    new = f", new sites {band}" if band and not band.startswith("station") else ""
    return f"{who} on {stations}{new}, {users} users"
