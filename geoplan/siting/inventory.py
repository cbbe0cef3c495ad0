"""A project's candidate inventories as arrays: where, what kind, which site type, what cost, how tall.

Inventories come from the project file's ``[inventories.<name>]`` tables and,
for compatibility, its ``[layers.candidates]`` layer (named ``candidates``);
every feature carries KIND (filled from the table's ``kind``, else ``new``)
and optionally SITE_TYPE, COST and HEIGHT_M. What a feature leaves empty is
filled later, once the site's radio environment is known: the site type by
the kind (or the site mix, for kind ``new``), the cost by
:meth:`~geoplan.siting.params.SitingParams.cost`, the height by the site type
(``geoplan/radio_params.toml``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray

if TYPE_CHECKING:  # pragma: no cover
    from ..project import Project

__all__ = ["Inventory", "inventory", "LEGACY_LAYER"]

#: Name under which a project's ``[layers.candidates]`` layer joins the inventories.
LEGACY_LAYER = "candidates"


@dataclass(frozen=True, eq=False)
class Inventory:
    """Candidate sites of a project's inventories (metric CRS), one row per feature.

    Attributes
    ----------
    xy : ndarray, shape (n, 2)
        Metric coordinates.
    kind : ndarray of str
        KIND (``new``, ``social_tower``, ``industry_tower``, ``smart_pole``, ``public_building``).
    site_type : ndarray of object
        SITE_TYPE, or ``None`` where the feature gives none.
    cost, height_m : ndarray of float
        COST (万元) and HEIGHT_M, NaN where the feature gives none.
    source : ndarray of str
        The inventory's name (``candidates`` for ``[layers.candidates]``).
    cand_id, name : ndarray of str
        CAND_ID and NAME ('' where absent).
    modelled : ndarray of bool
        The feature is modelled (its MODELLED field, else its layer's ``modelled``).
    """

    xy: NDArray[np.float64]
    kind: NDArray[np.str_]
    site_type: NDArray[np.object_]
    cost: NDArray[np.float64]
    height_m: NDArray[np.float64]
    source: NDArray[np.str_]
    cand_id: NDArray[np.object_]
    name: NDArray[np.object_]
    modelled: NDArray[np.bool_]

    def __len__(self) -> int:
        return int(self.xy.shape[0])

    def counts(self) -> dict[str, int]:
        """Features per inventory."""
        names, n = np.unique(self.source, return_counts=True)
        return {str(k): int(v) for k, v in zip(names, n, strict=True)}


def _frame_arrays(gdf: gpd.GeoDataFrame, *, source: str, modelled: bool, default_kind: str) -> dict[str, np.ndarray]:
    n = len(gdf)

    def col(name: str, default: object) -> pd.Series:
        return gdf[name] if name in gdf.columns else pd.Series([default] * n, index=gdf.index)

    def num(name: str) -> NDArray[np.float64]:
        return pd.to_numeric(col(name, np.nan), errors="coerce").to_numpy(dtype=float)

    kind = col("KIND", None)
    kind = kind.where(kind.notna() & (kind.astype(str).str.strip() != ""), default_kind)
    st = col("SITE_TYPE", None)
    mod = pd.to_numeric(col("MODELLED", np.nan), errors="coerce")
    return {
        "xy": np.column_stack([gdf.geometry.x.to_numpy(), gdf.geometry.y.to_numpy()]) if n else np.zeros((0, 2)),
        "kind": kind.astype(str).to_numpy(dtype=str), "site_type": st.where(st.notna(), None).to_numpy(dtype=object),
        "cost": num("COST"), "height_m": num("HEIGHT_M"), "source": np.full(n, source, dtype=object),
        "cand_id": col("CAND_ID", "").fillna("").astype(str).to_numpy(dtype=object),
        "name": col("NAME", "").fillna("").astype(str).to_numpy(dtype=object),
        "modelled": np.where(mod.notna(), mod.fillna(0).to_numpy() == 1, modelled),
    }


def inventory(proj: Project) -> Inventory:
    """The candidate inventories of ``proj`` in its metric CRS (all of them, in file order).

    Examples
    --------
    >>> import geoplan as gp
    >>> inv = inventory(gp.load_project())
    >>> sorted(inv.counts())
    ['public_buildings', 'smart_poles', 'towers']
    """
    parts = [_frame_arrays(ly.frame.to_crs(proj.metric_crs), source=ly.name, modelled=ly.config.modelled,
                           default_kind=ly.config.kind or "new") for ly in proj.siting.group("inventories")]
    legacy = proj.layer("candidates")
    if legacy is not None and len(legacy):
        parts.append(_frame_arrays(proj.metric("candidates"), source=LEGACY_LAYER,
                                   modelled=proj.is_modelled("candidates"), default_kind="new"))
    keys = ("xy", "kind", "site_type", "cost", "height_m", "source", "cand_id", "name", "modelled")
    if not parts:
        return Inventory(np.zeros((0, 2)), np.zeros(0, dtype=str), np.zeros(0, dtype=object), np.zeros(0),
                         np.zeros(0), np.zeros(0, dtype=str), np.zeros(0, dtype=object), np.zeros(0, dtype=object),
                         np.zeros(0, dtype=bool))
    arrays = {k: np.concatenate([p[k] for p in parts]) for k in keys}
    arrays["source"] = arrays["source"].astype(str)
    arrays["modelled"] = arrays["modelled"].astype(bool)
    return Inventory(**arrays)
