"""The settings of a placement run that shape its coverage model and candidates.

One frozen :class:`PlanSettings` is held by the planning context, by every
scenario and by every result, so a run can be repeated and two runs compared:
the operator network planned for, the band of the new sites, indoor or outdoor
users, the site mix and the seed of modelled candidates, and how modelled
candidates are made.

Networks
--------
``network="any"`` (the default) plans for every operator's users together: a
cell is covered when any station of any operator reaches it on any band it
carries; this is the network the plan's density target counts (all operators'
physical stations). ``"cmcc"`` (中国移动), ``"ctcu"`` (中国电信/中国联通, one shared
grid) or ``"cbn"`` (中国广电, which also uses 中国移动's 700 MHz stations) plans
for one operator network: existing coverage counts only the stations and bands
that network's users can use (:func:`geoplan.radio.network_radii`), and new
sites are built on the network's band. The density check counts every physical
station whatever the network (see :func:`geoplan.targets.check`).
"""

from __future__ import annotations

import dataclasses
import math
import operator
from dataclasses import dataclass
from typing import Any

from .. import radio
from ..errors import ConfigError

__all__ = ["PlanSettings", "CANDIDATE_GENERATORS", "SITE_TYPES", "OBJECTIVE_SETTINGS", "NETWORKS", "NETWORK_BANDS",
           "settings_from"]

#: Site types of the plan's "宏+微+室" (macro + micro + indoor).
SITE_TYPES: tuple[str, ...] = ("macro", "micro", "indoor")
#: How modelled (generated) candidates are made beside the project's inventories (see :mod:`.pool`);
#: ``none``: inventories only.
CANDIDATE_GENERATORS: tuple[str, ...] = ("population", "kmeans", "grid", "none")
#: Settings that change only the objective, not the planning context's arrays.
OBJECTIVE_SETTINGS: tuple[str, ...] = ("cost_weight",)
#: Networks a plan can be made for: every operator (``any``) or one operator network.
NETWORKS: tuple[str, ...] = ("any", *radio.default_params().networks)
#: Band of new sites when none is given: n78 for all operators (the shared 3.5 GHz layer most new
#: sites carry), else the first band the network lists in radio_params.toml (中国移动 n41,
#: 中国电信/中国联通 n78, 中国广电 n28).
NETWORK_BANDS: dict[str, str] = {"any": "n78", **{k: n.bands[0] for k, n in radio.default_params().networks.items()}}


@dataclass(frozen=True)
class PlanSettings:
    """What a placement's coverage model and candidates depend on.

    Attributes
    ----------
    band : str
        5G band of the new sites, whose link budget sets their radii (``n78``
        3.5 GHz, ``n41`` 2.6 GHz, ``n28`` 700 MHz, ``n79`` 4.9 GHz, ``n1`` 2.1 GHz);
        by default the network's band (:data:`NETWORK_BANDS`). Existing sites are
        evaluated on the bands they carry.
    network : str
        ``"any"`` (every operator; default), ``"cmcc"``, ``"ctcu"`` or ``"cbn"``:
        whose users the coverage refers to (see the module notes).
    indoor : bool
        Cover users indoors (radii include the building-entry loss); ``False``
        plans for outdoor users.
    mix : (float, float, float) or None
        Shares of macro, micro and indoor sites among modelled candidates; by
        default they depend on the radio environment.
    seed : int
        Seed of modelled candidates (>= 0).
    candidates : {"population", "kmeans", "grid", "none"}
        How modelled candidates are made beside the project's candidate inventories
        (``none``: inventories only).
    n_candidates : int or None
        Number of modelled candidates (default: chosen from the plan's shortfall).
    candidate_spacing_m : float or None
        Spacing of modelled candidates, metres: the grid's spacing; for population and
        k-means candidates the least distance between two of them and, when
        ``n_candidates`` is not given, a number of one per ``spacing²`` of populated area.
    cost_weight : float or None
        Residents of new coverage the plan gives up to save 1万元 of site cost
        (0: cost ignored; ``None``: the project's ``[siting.objective] cost_weight``,
        0 by default). See :mod:`.costing` and docs/siting.md.

    Examples
    --------
    >>> PlanSettings(band="n41", indoor=False).differences(PlanSettings())
    ['band: n41 here, n78 there', 'indoor: False here, True there']
    >>> PlanSettings(network="cmcc").band
    'n41'
    """

    band: str = None  # type: ignore[assignment]  # resolved to the network's band in __post_init__
    network: str = "any"
    indoor: bool = True
    mix: tuple[float, float, float] | None = None
    seed: int = 0
    candidates: str = "population"
    n_candidates: int | None = None
    candidate_spacing_m: float | None = None
    cost_weight: float | None = None

    def __post_init__(self) -> None:
        if self.network not in NETWORKS:
            raise ConfigError(f"unknown network {self.network!r}. Fix: use one of {', '.join(NETWORKS)} "
                              "(any = every operator)")
        if self.band is None:
            object.__setattr__(self, "band", NETWORK_BANDS[self.network])
        if self.band not in radio.BANDS:
            raise ConfigError(f"unknown band {self.band!r}. Fix: use one of {', '.join(radio.BANDS)}")
        if self.network != "any":
            net = radio.default_params().networks[self.network]
            if self.band not in net.bands:
                raise ConfigError(f"{net.name} ({self.network}) does not build {self.band} sites. Fix: use one of "
                                  f"{', '.join(net.bands)}, or leave the band out (default {NETWORK_BANDS[self.network]})")
        if not isinstance(self.indoor, bool):
            raise ConfigError(f"indoor must be true or false, got {self.indoor!r}")
        if self.candidates not in CANDIDATE_GENERATORS:
            raise ConfigError(f"unknown candidate generator {self.candidates!r}. Fix: use one of "
                              f"{', '.join(CANDIDATE_GENERATORS)}")
        try:
            seed = operator.index(self.seed)
        except TypeError:
            raise ConfigError(f"seed must be a whole number >= 0, got {self.seed!r}") from None
        if seed < 0:
            raise ConfigError(f"seed must be >= 0, got {seed}. Fix: e.g. --seed 0")
        if self.n_candidates is not None:
            try:
                n = operator.index(self.n_candidates)
            except TypeError:
                raise ConfigError(f"n_candidates must be a whole number, got {self.n_candidates!r}") from None
            if n < 1:
                raise ConfigError(f"n_candidates must be >= 1, got {n}")
        sp = self.candidate_spacing_m
        if sp is not None:
            if isinstance(sp, bool) or not isinstance(sp, int | float) or not math.isfinite(sp) \
                    or not 10 <= sp <= 100_000:
                raise ConfigError(f"candidate_spacing_m must be a number of metres from 10 to 100,000, got {sp!r}. "
                                  "Fix: e.g. --candidate-spacing-m 150")
            object.__setattr__(self, "candidate_spacing_m", float(sp))
        w = self.cost_weight
        if w is not None:
            if isinstance(w, bool) or not isinstance(w, int | float) or not math.isfinite(w) or w < 0:
                raise ConfigError(f"cost_weight must be residents per 万元 >= 0, got {w!r}. Fix: e.g. --cost-weight 50")
            object.__setattr__(self, "cost_weight", float(w))
        if self.mix is not None:
            mix = tuple(self.mix)
            ok = len(mix) == 3 and all(isinstance(v, int | float) and math.isfinite(v) and v >= 0 for v in mix)
            if not ok or not math.isclose(sum(mix), 1.0, abs_tol=1e-6):
                raise ConfigError(f"site mix {self.mix} must be three shares (macro, micro, indoor) >= 0 summing "
                                  "to 1. Fix: e.g. --mix 0.6,0.25,0.15")
            object.__setattr__(self, "mix", (float(mix[0]), float(mix[1]), float(mix[2])))

    def context_key(self) -> PlanSettings:
        """These settings without the objective-only ones (:data:`OBJECTIVE_SETTINGS`): what a context is built for."""
        return dataclasses.replace(self, cost_weight=None)

    @property
    def users(self) -> str:
        """``"indoor"`` or ``"outdoor"``: whom the link budget serves."""
        return "indoor" if self.indoor else "outdoor"

    @property
    def label(self) -> str:
        """What every coverage figure of these settings refers to, e.g. ``"all operators, new sites n78, indoor users"``."""
        net = "all operators" if self.network == "any" else radio.default_params().networks[self.network].name
        return f"{net} ({self.network}), new sites {self.band}, {self.users} users"

    def differences(self, other: PlanSettings) -> list[str]:
        """Each setting that differs from ``other``'s, as ``"name: this here, that there"``."""
        out = []
        for f in dataclasses.fields(self):
            a, b = getattr(self, f.name), getattr(other, f.name)
            if a != b:
                out.append(f"{f.name}: {a} here, {b} there")
        return out

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON/TOML-ready; ``mix`` as a list, ``None`` values kept)."""
        d = dataclasses.asdict(self)
        d["mix"] = None if self.mix is None else list(self.mix)
        return d


def settings_from(base: PlanSettings | None, **given: Any) -> PlanSettings:
    """``base`` (or the defaults) with every setting in ``given`` that is not ``None``.

    With a ``base`` (a planning context's settings), a setting given explicitly
    that differs from it is an error naming the setting: a context answers for
    its own settings only (objective-only settings such as ``cost_weight`` may differ).

    Examples
    --------
    >>> settings_from(None, band="n41", indoor=None).band
    'n41'
    >>> settings_from(PlanSettings(), band="n41")
    Traceback (most recent call last):
    ...
    geoplan.errors.ConfigError: the planning context was built for other settings (band: n78 in the context, n41 asked). Fix: leave these options out, or build a context with them (planning_context(..., band=...))
    """
    given = {k: v for k, v in given.items() if v is not None}
    if base is None:
        return PlanSettings(**given)
    asked = dataclasses.replace(base, **given)
    differ = [k for k in given if getattr(base, k) != getattr(asked, k) and k not in OBJECTIVE_SETTINGS]
    if differ:
        diff = [f"{k}: {getattr(base, k)} in the context, {getattr(asked, k)} asked" for k in differ]
        names = ", ".join(f"{k}=..." for k in differ)
        raise ConfigError(f"the planning context was built for other settings ({'; '.join(diff)}). Fix: leave these "
                          f"options out, or build a context with them (planning_context(..., {names}))")
    return asked
