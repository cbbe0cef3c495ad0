"""The radio model's parameters: one frozen, TOML-loadable object with a source for every value.

The defaults ship as package data in ``geoplan/radio_params.toml`` (its header
documents the schema). :func:`load_params` reads them, merges a project's
overrides (the ``[radio]`` table of a project file, same paths) and builds a
:class:`RadioParams` of frozen dataclasses; :func:`default_params` is the cached
default. :attr:`RadioParams.sources` maps every value's dotted path to its
source, for reports.

Examples
--------
>>> p = default_params()
>>> p.bands["n78"].bandwidth_mhz, p.products["aau_64t64r"].ports
(100.0, '64T64R')
>>> load_params({"bands": {"n78": {"bandwidth_mhz": 80}}}).bands["n78"].bandwidth_mhz
80.0
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import io
from .errors import ConfigError

__all__ = [
    "UserEquipment",
    "BandParams",
    "AntennaProduct",
    "SiteType",
    "EnvironmentParams",
    "InterferenceTable",
    "McsTable",
    "Service",
    "Traffic",
    "Network",
    "RadioParams",
    "load_params",
    "default_params",
]

SCHEMA = "geoplan.radio_params/1"


@dataclass(frozen=True)
class UserEquipment:
    """Handset assumptions: gain (dBi), noise figure (dB), height (m), power of classes 2 and 3 (dBm)."""

    antenna_gain_dbi: float
    noise_figure_db: float
    height_m: float
    power_class_2_dbm: float
    power_class_3_dbm: float


@dataclass(frozen=True)
class BandParams:
    """A 5G NR band as deployed in China (carrier, duplex, frame shares, UE power class)."""

    name: str
    fc_ghz: float
    fc_ul_ghz: float
    bandwidth_mhz: float
    scs_khz: float
    duplex: str
    dl_share: float
    ul_share: float
    ue_power_class: int
    operators: tuple[str, ...]


@dataclass(frozen=True)
class AntennaProduct:
    """Radio + antenna of one kind (64T64R AAU, 4T4R RRU with a passive panel, micro unit, pRRU)."""

    name: str
    ports: str
    tx_power_dbm: float
    tx_gain_dbi: float
    rx_gain_dbi: float
    rx_combining_db: float
    feeder_loss_db: float
    noise_figure_db: float
    se_dl: float
    se_ul: float


@dataclass(frozen=True)
class SiteType:
    """A site type (宏站 / 微站 / 室分): scenario, sectors, heights and products by band and environment."""

    name: str
    scenario: str
    sectors: int
    height_m: Mapping[str, float]
    products: Mapping[str, Mapping[str, str]]
    footprint_radius_m: Mapping[str, float] | None = None
    outdoor_radius_m: float | None = None

    def product(self, band: str, environment: str) -> str:
        """Name of the antenna product this site type uses for ``band`` in ``environment``."""
        by_env = self.products.get(band)
        if by_env is None:
            raise ConfigError(f"site type {self.name!r} has no antenna product for band {band!r}. Fix: add "
                              f"[radio.sites.{self.name}.products] {band} = {{ default = \"...\" }}")
        return by_env.get(environment, by_env["default"])


@dataclass(frozen=True)
class EnvironmentParams:
    """A morphology class (密集市区 / 一般市区 / 郊区 / 农村); see radio_params.toml for each field."""

    name: str
    min_pop_per_km2: float
    macro_scenario: str
    building_height_m: float
    street_width_m: float
    high_loss_share: float
    indoor_distance_max_m: float
    load: float
    edge_probability: float


@dataclass(frozen=True)
class InterferenceTable:
    """Interference margin (dB) against cell load, per link, interpolated linearly."""

    load: tuple[float, ...]
    uplink_db: tuple[float, ...]
    downlink_db: tuple[float, ...]

    def margin_db(self, load: float, link: str) -> float:
        import numpy as np

        ys = self.uplink_db if link == "uplink" else self.downlink_db
        return float(np.interp(load, self.load, ys))


@dataclass(frozen=True)
class McsTable:
    """Spectral efficiency and 10 %-BLER SINR of each CQI entry, overheads and allocation limits."""

    spectral_efficiency: tuple[float, ...]
    sinr_db: tuple[float, ...]
    overhead_dl: float
    overhead_ul: float
    ul_max_share: float
    dl_max_share: float


@dataclass(frozen=True)
class Service:
    """A throughput target at the cell edge: uplink and downlink rates (Mbit/s) and body loss (dB)."""

    name: str
    ul_rate_mbps: float
    dl_rate_mbps: float
    body_loss_db: float


@dataclass(frozen=True)
class Traffic:
    """Busy-hour traffic assumptions: data per user per month (GB), busy-hour share, utilisation cap."""

    dou_gb_per_month: float
    busy_hour_share_of_day: float
    max_utilisation: float

    @property
    def busy_hour_mbps_per_user(self) -> float:
        """Mean busy-hour throughput per user (Mbit/s): DOU / 30 days x busy-hour share / 3600 s."""
        return self.dou_gb_per_month * 8e3 / 30.0 * self.busy_hour_share_of_day / 3600.0


@dataclass(frozen=True)
class Network:
    """An operator network: the operators it serves, its bands, and bands of other networks it uses."""

    key: str
    name: str
    operators: tuple[str, ...]
    bands: tuple[str, ...]
    uses: Mapping[str, tuple[str, ...]]


@dataclass(frozen=True, eq=False)
class RadioParams:
    """Every parameter of the radio model (frozen). Build with :func:`load_params`.

    Attributes
    ----------
    sources : dict
        Dotted path of every value (``"bands.n78.bandwidth_mhz"``) → its source text.
    references : dict
        Short source keys → full citations.
    digest : str
        Hash of the merged values: equal parameters, equal digest (radius tables are cached by it).
    """

    ue: UserEquipment
    bands: Mapping[str, BandParams]
    products: Mapping[str, AntennaProduct]
    sites: Mapping[str, SiteType]
    environments: Mapping[str, EnvironmentParams]
    interference: InterferenceTable
    mcs: McsTable
    services: Mapping[str, Service]
    los: str
    site_shadow_correlation: float
    traffic: Traffic
    networks: Mapping[str, Network]
    sources: Mapping[str, str] = field(default_factory=dict)
    references: Mapping[str, str] = field(default_factory=dict)
    digest: str = ""

    def source(self, path: str) -> str:
        """Source of the value at dotted ``path``, with short reference keys expanded."""
        text = self.sources.get(path, "")
        for key, full in self.references.items():
            if text.startswith(key):
                return full + text[len(key):]
        return text


# --------------------------------------------------------------------------- loading


def _strip(node: Any, path: str, sources: dict[str, str], inherited: str) -> Any:
    """Values without their ``{value, source}`` wrappers; record each leaf's source."""
    if isinstance(node, dict):
        if set(node) <= {"value", "source"} and "value" in node:
            sources[path] = str(node.get("source", inherited))
            return node["value"]
        own = node.get("source", inherited) if isinstance(node.get("source"), str) else inherited
        out = {}
        for k, v in node.items():
            if k == "source" and isinstance(v, str):
                continue
            out[k] = _strip(v, f"{path}.{k}" if path else k, sources, own)
        return out
    sources[path] = inherited
    return node


def _merge(base: dict[str, Any], over: Mapping[str, Any], path: str) -> None:
    for k, v in over.items():
        where = f"{path}.{k}" if path else k
        if k not in base:
            # new named entries (a band, product, network, ...) may be added at the second level
            if path.count(".") == 0 and path in {"bands", "products", "sites", "environments", "services",
                                                 "networks"}:
                base[k] = copy.deepcopy(v)
                continue
            raise ConfigError(f"unknown radio parameter {where!r}. Fix: use one of "
                              f"{', '.join(sorted(base)) or '(none)'} under {path or 'radio'}")
        if isinstance(base[k], dict) and isinstance(v, Mapping):
            _merge(base[k], v, where)
        else:
            base[k] = v.get("value", v) if isinstance(v, Mapping) else v


def _num(d: Mapping[str, Any], key: str, where: str, *, lo: float | None = None, hi: float | None = None) -> float:
    if key not in d:
        raise ConfigError(f"radio parameter {where}.{key} is missing. Fix: add it to the [radio] table")
    v = d[key]
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise ConfigError(f"radio parameter {where}.{key} = {v!r} is not a number. Fix: give a number")
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise ConfigError(f"radio parameter {where}.{key} = {v} is outside [{lo}, {hi}]. Fix: correct it")
    return float(v)


def _build(d: dict[str, Any], sources: dict[str, str], refs: dict[str, str], digest: str) -> RadioParams:
    ue_d = d["ue"]
    ue = UserEquipment(*(_num(ue_d, k, "ue") for k in (
        "antenna_gain_dbi", "noise_figure_db", "height_m", "power_class_2_dbm", "power_class_3_dbm")))
    bands = {}
    for k, b in d["bands"].items():
        w = f"bands.{k}"
        if b.get("duplex") not in ("TDD", "FDD"):
            raise ConfigError(f"radio parameter {w}.duplex = {b.get('duplex')!r}. Fix: use 'TDD' or 'FDD'")
        pc = int(_num(b, "ue_power_class", w, lo=2, hi=3))
        bands[k] = BandParams(k, _num(b, "fc_ghz", w, lo=0.4, hi=100), _num(b, "fc_ul_ghz", w, lo=0.4, hi=100),
                              _num(b, "bandwidth_mhz", w, lo=1, hi=400), _num(b, "scs_khz", w, lo=15, hi=120),
                              b["duplex"], _num(b, "dl_share", w, lo=0.01, hi=1), _num(b, "ul_share", w, lo=0.01, hi=1),
                              pc, tuple(b.get("operators", ())))
    products = {k: AntennaProduct(k, str(p.get("ports", "")), *(_num(p, f, f"products.{k}") for f in (
        "tx_power_dbm", "tx_gain_dbi", "rx_gain_dbi", "rx_combining_db", "feeder_loss_db", "noise_figure_db",
        "se_dl", "se_ul"))) for k, p in d["products"].items()}
    envs = {}
    for k, e in d["environments"].items():
        w = f"environments.{k}"
        if e.get("macro_scenario") not in ("UMa", "RMa"):
            raise ConfigError(f"radio parameter {w}.macro_scenario = {e.get('macro_scenario')!r}. Fix: 'UMa' or 'RMa'")
        envs[k] = EnvironmentParams(
            k, _num(e, "min_pop_per_km2", w, lo=0), e["macro_scenario"], _num(e, "building_height_m", w, lo=5, hi=50),
            _num(e, "street_width_m", w, lo=5, hi=50), _num(e, "high_loss_share", w, lo=0, hi=1),
            _num(e, "indoor_distance_max_m", w, lo=0, hi=100), _num(e, "load", w, lo=0, hi=0.95),
            _num(e, "edge_probability", w, lo=0.5, hi=0.999))
    sites = {}
    for k, s in d["sites"].items():
        w = f"sites.{k}"
        if s.get("scenario") not in ("UMa", "UMi", "InH"):
            raise ConfigError(f"radio parameter {w}.scenario = {s.get('scenario')!r}. Fix: 'UMa', 'UMi' or 'InH'")
        heights = {e: _num(s["height_m"], e, f"{w}.height_m", lo=1, hi=150) for e in envs}
        prods = {b: dict(v) for b, v in s["products"].items()}
        for b, v in prods.items():
            for name in v.values():
                if name not in products:
                    raise ConfigError(f"radio parameter {w}.products.{b} names unknown product {name!r}. Fix: use "
                                      f"one of {', '.join(products)}")
        fp = ({e: _num(s["footprint_radius_m"], e, f"{w}.footprint_radius_m", lo=1) for e in envs}
              if "footprint_radius_m" in s else None)
        sites[k] = SiteType(k, s["scenario"], int(_num(s, "sectors", w, lo=1, hi=12)), heights, prods, fp,
                            _num(s, "outdoor_radius_m", w, lo=0.1) if "outdoor_radius_m" in s else None)
    it = d["interference"]
    interference = InterferenceTable(tuple(map(float, it["load"])), tuple(map(float, it["uplink_db"])),
                                     tuple(map(float, it["downlink_db"])))
    m = d["mcs"]
    if len(m["spectral_efficiency"]) != len(m["sinr_db"]) or not m["sinr_db"]:
        raise ConfigError("radio parameters mcs.spectral_efficiency and mcs.sinr_db must be non-empty lists of equal "
                          "length. Fix: give one SINR per spectral efficiency")
    mcs = McsTable(tuple(map(float, m["spectral_efficiency"])), tuple(map(float, m["sinr_db"])),
                   _num(m, "overhead_dl", "mcs", lo=0, hi=0.9), _num(m, "overhead_ul", "mcs", lo=0, hi=0.9),
                   _num(m, "ul_max_share", "mcs", lo=0.001, hi=1), _num(m, "dl_max_share", "mcs", lo=0.001, hi=1))
    services = {k: Service(k, _num(s, "ul_rate_mbps", f"services.{k}", lo=1e-4),
                           _num(s, "dl_rate_mbps", f"services.{k}", lo=1e-4),
                           _num(s, "body_loss_db", f"services.{k}", lo=0)) for k, s in d["services"].items()}
    t = d["traffic"]
    traffic = Traffic(_num(t, "dou_gb_per_month", "traffic", lo=0), _num(t, "busy_hour_share_of_day", "traffic", lo=0,
                                                                            hi=1), _num(t, "max_utilisation", "traffic",
                                                                                        lo=0.05, hi=1))
    networks = {k: Network(k, str(n.get("name", k)), tuple(n["operators"]), tuple(n["bands"]),
                           {o: tuple(b) for o, b in n.get("uses", {}).items()}) for k, n in d["networks"].items()}
    for n in networks.values():
        for b in n.bands + tuple(b for bs in n.uses.values() for b in bs):
            if b not in bands:
                raise ConfigError(f"network {n.key!r} lists unknown band {b!r}. Fix: use one of {', '.join(bands)}")
    los = d["propagation"]["los"]
    if los not in ("nlos", "los", "expected"):
        raise ConfigError(f"radio parameter propagation.los = {los!r}. Fix: 'nlos', 'los' or 'expected'")
    return RadioParams(ue=ue, bands=bands, products=products, sites=sites, environments=envs,
                       interference=interference, mcs=mcs, services=services, los=los,
                       site_shadow_correlation=_num(d["propagation"], "site_shadow_correlation", "propagation", lo=0,
                                                    hi=1),
                       traffic=traffic, networks=networks, sources=sources, references=refs, digest=digest)


def load_params(overrides: Mapping[str, Any] | None = None) -> RadioParams:
    """The shipped parameters with ``overrides`` (the project file's ``[radio]`` table) merged in.

    Raises
    ------
    ConfigError
        An unknown key, a missing or non-numeric value, or a value out of range, named by its path.
    """
    raw = io.read_package_toml("geoplan", "radio_params.toml")
    if raw.get("schema") != SCHEMA:
        raise ConfigError(f"radio_params.toml has schema {raw.get('schema')!r}, expected {SCHEMA!r}. Fix: reinstall")
    refs = {k: str(v) for k, v in raw.pop("references", {}).items()}
    raw.pop("schema")
    sources: dict[str, str] = {}
    values = _strip(raw, "", sources, "")
    if overrides:
        over_sources: dict[str, str] = {}
        over = _strip(copy.deepcopy(dict(overrides)), "", over_sources, "project file")
        _merge(values, over, "")
        sources.update({k: "project file override" for k in over_sources})
    digest = hashlib.sha1(json.dumps(values, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    return _build(values, sources, refs, digest)


@functools.cache
def default_params() -> RadioParams:
    """The shipped parameters (cached)."""
    return load_params(None)
