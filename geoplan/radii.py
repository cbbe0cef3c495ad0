"""The cell radius of each site: its type and radio environment through one link budget.

Every engine (in memory, by county, on Dask), the what-if, drawn sites and the
coverage report take their radii from :func:`site_radii`, so a site of one
type in one environment reaches equally far wherever it is evaluated.
"""

from __future__ import annotations

import functools

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import radio
from .errors import ConfigError, Problem, ValidationError

__all__ = ["site_radii"]


@functools.lru_cache(maxsize=512)
def _radius(band: str, site_type: str, environment: str, indoor: bool) -> float:
    return float(radio.cell_radius_m(band=band, site=site_type, environment=environment, indoor=indoor))


def site_radii(site_type: ArrayLike, environment: ArrayLike, *, band: str, indoor: bool,
               layer: str = "sites") -> NDArray[np.float64]:
    """Cell radius (m) of each site from its type and environment code (link budget of ``band``).

    Parameters
    ----------
    site_type : array_like of str
        ``macro``, ``micro`` or ``indoor`` per site.
    environment : array_like of int
        Radio environment code per site (index into :data:`geoplan.radio.ENVIRONMENT_NAMES`).
    band : str
        Band of the link budget.
    indoor : bool
        Users indoors (the building-entry loss is in the budget) or outdoors.
    layer : str
        Layer named in the error for an unknown site type.

    Examples
    --------
    >>> site_radii(["macro", "micro"], [0, 0], band="n78", indoor=False).round(-1).tolist()
    [590.0, 200.0]
    """
    if band not in radio.BANDS:
        raise ConfigError(f"unknown band {band!r}. Fix: use one of {', '.join(radio.BANDS)}")
    st = np.asarray(site_type).astype(str).reshape(-1)
    env = np.asarray(environment, dtype=np.int64).reshape(-1)
    if st.shape != env.shape:
        raise ValueError(f"{st.size} site types but {env.size} environments")
    out = np.zeros(st.size, dtype=np.float64)
    for t in np.unique(st):
        if t not in radio.SITE_PROFILES:
            raise ValidationError(Problem(layer, "SITE_TYPE", f"unknown site type {t!r}",
                                          f"use one of {', '.join(radio.SITE_PROFILES)}"))
        for e in np.unique(env):
            m = (st == t) & (env == e)
            out[m] = _radius(band, str(t), radio.ENVIRONMENT_NAMES[int(e)], bool(indoor))
    return out
