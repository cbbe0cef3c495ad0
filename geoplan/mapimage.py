"""The plan as a static map image (PNG): districts against the target, planned and kept sites.

Drawn with matplotlib (Agg, no display, no network), in the project's metric
CRS so distances look right, with Chinese labels in Noto Sans CJK when the
machine has it (Debian ``fonts-noto-cjk``, or ``$GEOPLAN_CJK_FONT``) — otherwise the
characters would be boxes, and :func:`cjk_font` says so by returning ``None``.
"""

from __future__ import annotations

import io as _io
import math
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from . import io
from .errors import ConfigError
from .project import Project

__all__ = ["CLASS_COLOURS", "cjk_font", "plan_map_png"]

#: Districts by stations per 10k as a share of the target: (lower bound of the ratio, label, colour).
CLASS_COLOURS: tuple[tuple[float, str, str], ...] = (
    (-math.inf, "< 80 %", "#d7191c"), (0.80, "80–95 %", "#fdae61"), (0.95, "95–100 %", "#ffffbf"),
    (1.00, "≥ 100 %", "#1a9641"))
_SITE_COLOURS = {"macro": "#1f78b4", "micro": "#6a3d9a", "indoor": "#ff7f00"}


def cjk_font() -> str | None:
    """Family name of a font with Chinese glyphs registered with matplotlib (:func:`geoplan.io.cjk_font`), or ``None``."""
    try:
        return io.cjk_font()[0]
    except ConfigError:
        return None


def _class_colour(per: float, target: float) -> str:
    if not target or not np.isfinite(per):
        return "#bdbdbd"
    colour = CLASS_COLOURS[0][2]
    for lower, _, c in CLASS_COLOURS:
        if per / target >= lower - 1e-12:
            colour = c
    return colour


def _points(ax: Any, gdf: gpd.GeoDataFrame | None, crs: Any, **kw: Any) -> None:
    if gdf is None or not len(gdf):
        return
    g = gdf.to_crs(crs)
    colours = [_SITE_COLOURS.get(str(v), "#333333") for v in g.get("SITE_TYPE", pd.Series(["macro"] * len(g)))]
    ax.scatter(g.geometry.x, g.geometry.y, c=kw.pop("color", colours), **kw)


def plan_map_png(proj: Project, *, district_table: pd.DataFrame, planned: gpd.GeoDataFrame | None = None,
                 kept: gpd.GeoDataFrame | None = None, title: str = "", dpi: int = 150,
                 size_in: Sequence[float] = (10.0, 8.0)) -> bytes:
    """A PNG of the districts coloured by stations per 10k against the target, with the planned sites.

    Parameters
    ----------
    proj : Project
    district_table : DataFrame
        One row per district with XZQDM, per_10k, target_per_10k (a plan's ``districts``).
    planned, kept : GeoDataFrame, optional
        Planned sites (SITE_TYPE colours them) and the planner's kept sites (drawn larger).
    title : str
        Title above the map (Chinese is fine when :func:`cjk_font` finds a font).

    Examples
    --------
    >>> import geoplan as gp
    >>> proj = gp.load_project()
    >>> ev = gp.placement.evaluate_sites(gp.placement.planning_context(proj), [], year=2025)
    >>> plan_map_png(proj, district_table=ev.districts, title="厦门市")[:4]
    b'\\x89PNG'
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    font = cjk_font()
    rc: dict[str, Any] = {"font.family": [font, "DejaVu Sans"]} if font else {}
    d = proj.metric("districts")
    by_code = {str(r["XZQDM"]): r for r in district_table.to_dict(orient="records")}
    colours = [_class_colour(float(by_code.get(str(c), {}).get("per_10k", np.nan)),
                             float(by_code.get(str(c), {}).get("target_per_10k", 0.0) or 0.0))
               for c in proj.district_codes]
    with plt.rc_context(rc):  # type: ignore[arg-type]
        fig, ax = plt.subplots(figsize=tuple(size_in), dpi=dpi)
        try:
            gpd.GeoSeries(d.geometry.to_numpy(), crs=proj.metric_crs).plot(ax=ax, color=colours, edgecolor="#333333",
                                                                           linewidth=0.8, alpha=0.55)
            for geom, name in zip(d.geometry, proj.district_names, strict=True):
                p = geom.representative_point()
                ax.annotate(str(name), (p.x, p.y), ha="center", fontsize=10, weight="bold")
            _points(ax, planned, proj.metric_crs, s=2, linewidths=0)
            _points(ax, kept, proj.metric_crs, s=40, color="#e7298a", edgecolors="#111111", linewidths=0.8)
            ax.legend(handles=[Patch(color=c, label=f"{lab} of the target") for _, lab, c in CLASS_COLOURS],
                      loc="lower right", fontsize=8, title="stations per 10k", title_fontsize=8)
            ax.set_title(title, fontsize=13)
            ax.set_axis_off()
            ax.set_aspect("equal")
            buf = _io.BytesIO()
            fig.savefig(buf, format="png", bbox_inches="tight")
        finally:
            plt.close(fig)
    return buf.getvalue()
