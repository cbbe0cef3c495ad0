"""Map layers of where sites can go: candidate inventories by kind, and the siting-constraint zones.

Both layers start hidden (the layer control shows them): the inventories as
points coloured by KIND (社会塔, 行业塔, 智慧多功能杆, opened buildings) with
their source, site type and cost on hover; the constraint zones coloured by
hardness, with kind, name and height limit on hover. Planned sites carry their
KIND, COST and soft CONFLICTS in their own tooltip (:data:`~.map.PLANNED_FIELDS`).
"""

from __future__ import annotations

from typing import Any

import folium
import geopandas as gpd
import numpy as np
import shapely

from ..placement.context import PlanningContext
from ..placement.pool import GENERATED
from .i18n import VALUES, layer_name, map_word, t, value_word
from .map import PointData, _group, point_layer

__all__ = ["KIND_COLOURS", "KIND_LABELS", "inventory_points", "zones_geojson", "siting_layers"]

#: Colour of each candidate kind on the map.
KIND_COLOURS: dict[str, str] = {"social_tower": "#8c510a", "industry_tower": "#bf812d", "smart_pole": "#35978f",
                                "public_building": "#c51b7d", "new": "#969696"}
#: Chinese labels of the kinds (the app's tooltips and legend; :data:`~.i18n.VALUES` ``["kind"]``).
KIND_LABELS: dict[str, str] = {k: zh for k, (zh, _) in VALUES["kind"].items()}
_ZONE_COLOURS = {"hard": "#d73027", "soft": "#fc8d59"}


def inventory_points(ctx: PlanningContext) -> PointData:
    """The context's inventory candidates (not the generated ones), with KIND, SOURCE, SITE_TYPE, COST, NAME."""
    inv = ctx.cand_source != GENERATED
    pool = ctx.pool
    gdf = gpd.GeoDataFrame({"KIND": [KIND_LABELS.get(k, k) for k in pool.kind[inv]], "SOURCE": pool.source[inv],
                            "SITE_TYPE": pool.site_type[inv], "COST": np.round(pool.cost[inv], 1),
                            "NAME": pool.name[inv]},
                           geometry=gpd.points_from_xy(ctx.cand_xy[inv, 0], ctx.cand_xy[inv, 1]),
                           crs=ctx.project.metric_crs)
    return PointData.from_frame(gdf, ["KIND", "SOURCE", "SITE_TYPE", "COST", "NAME"])


def zones_geojson(ctx: PlanningContext, *, tolerance_m: float = 30.0) -> dict[str, Any]:
    """The context's constraint zones as GeoJSON (EPSG:4490, simplified ``tolerance_m``) for the map."""
    z = ctx.zones
    if not len(z):
        return {"type": "FeatureCollection", "features": []}
    geoms = shapely.simplify(z.geoms, tolerance_m)
    gdf = gpd.GeoDataFrame({"layer": z.layer, "kind": z.label, "name": z.name,
                            "hardness": np.where(z.hard, "hard", "soft"),
                            "limit": [float(h) if np.isfinite(h) else None for h in z.max_h]},
                           geometry=geoms, crs=ctx.project.metric_crs).to_crs(4490)
    return gdf.__geo_interface__  # type: ignore[no-any-return]


def _zones_in(zones: dict[str, Any], lang: str) -> dict[str, Any]:
    """The zones' tooltip values in ``lang`` (hardness, height limit, layer); the raw hardness kept for the style."""
    feats = []
    for f in zones["features"]:
        p = f["properties"]
        limit = p["limit"]
        shown = t("no_site", lang) if limit is None else f"{limit:g} {map_word('m', lang)}"
        feats.append({**f, "properties": {**p, "_hardness": p["hardness"], "hardness": value_word("hardness", p["hardness"], lang),
                                          "limit": shown, "layer": layer_name(p["layer"], lang)}})
    return {**zones, "features": feats}


def siting_layers(ctx: PlanningContext | None = None, *, points: PointData | None = None,
                  zones: dict[str, Any] | None = None, n_layers: int | None = None,
                  lang: str = "en") -> list[folium.FeatureGroup]:
    """Feature groups: candidate inventories by kind, and the constraint zones (both hidden at first).

    Give the context, or the data already made from it (:func:`inventory_points`, :func:`zones_geojson`;
    a caller may cache those, never the groups: a folium element belongs to one map).
    """
    def w(text: str) -> str:
        return map_word(text, lang)

    groups = []
    if ctx is not None:
        points, zones, n_layers = inventory_points(ctx), zones_geojson(ctx), len(ctx.zones.layers)
    pts = points if points is not None else PointData(np.zeros(0), np.zeros(0), {})
    zones = zones or {"type": "FeatureCollection", "features": []}
    if len(pts):
        fg = _group(f"{w('Candidate inventories by kind')} ({len(pts):,})", "inventories", show=False)
        point_layer(pts, name="inventories", colour_by="KIND",
                    colours={KIND_LABELS[k]: c for k, c in KIND_COLOURS.items()}, radius=2.5,
                    tooltip_fields=["KIND", "NAME", "SOURCE", "SITE_TYPE", "COST"],
                    tooltip_aliases=[w(a) for a in ("kind", "name", "inventory", "site type", "site cost (万元)")],
                    lang=lang).add_to(fg)
        groups.append(fg)
    if zones["features"]:
        n = n_layers or len({f["properties"]["layer"] for f in zones["features"]})
        zones = _zones_in(zones, lang)
        fg = _group(f"{w('Siting constraints')} ({n}{'' if lang == 'zh' else ' '}{w('layers')})", "constraints",
                    show=False)
        folium.GeoJson(zones, name="constraints",
                       style_function=lambda f: {"fillColor": _ZONE_COLOURS[f["properties"]["_hardness"]],
                                                 "color": _ZONE_COLOURS[f["properties"]["_hardness"]],
                                                 "weight": 0.8, "fillOpacity": 0.25},
                       tooltip=folium.GeoJsonTooltip(fields=["kind", "name", "hardness", "limit", "layer"],
                                                     aliases=[w(a) for a in ("constraint", "zone", "hardness",
                                                                             "height limit", "layer")],
                                                     sticky=True)).add_to(fg)
        groups.append(fg)
    return groups
