"""The planning map: folium layers for districts, sites, grids, edge data centres and car parks.

The map is built in two parts so that ``st_folium`` can keep the planner's
drawings and view while what-if controls change the plan:

- :func:`base_map` — what does not change with the what-if controls: base tiles
  (optional), population grid, existing sites, edge data centres and their
  latency circles, car parks and charging stations, the legend and the drawing
  tools (marker, polygon, rectangle);
- :func:`plan_layers` — feature groups that do: districts coloured by stations
  per 10k against the target, planned sites, the coverage grid and sites the
  planner kept. ``st_folium(feature_group_to_add=...)`` swaps them in place.

Many points are one :class:`folium.GeoJson` layer drawn as circle markers on a
canvas (``prefer_canvas``), coordinates rounded to 5 decimals (~1 m), coloured
in the browser by a property, with one tooltip function for the layer: 10⁴
sites cost a few hundred kB and a fraction of a second, where 10⁴ separate
``CircleMarker`` objects cost seconds of Python on every rerun.

Coordinates are CGCS2000 (EPSG:4490) degrees, used as WGS84 (they differ by
centimetres). AMap tiles are in GCJ-02; :func:`base_map` shifts them onto
CGCS2000 with :class:`GcjTileShift` (see :mod:`geoplan.crs`).
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import folium
import folium.plugins
import geopandas as gpd
import numpy as np
import pandas as pd
from branca.element import Element, MacroElement
from folium.elements import ElementAddToElement
from folium.template import Template

from geoplan.crs import wgs84_to_gcj02
from geoplan.errors import ConfigError
from geoplan.project import Project

from .i18n import map_word, percent, tooltip_words
from .overlay import COVERAGE_CLASSES, POPULATION_BREAKS_KM2, POPULATION_COLOURS, Overlay

__all__ = [
    "SITE_COLOURS",
    "DISTRICT_CLASSES",
    "BASEMAPS",
    "Basemap",
    "Legend",
    "GcjTileShift",
    "RememberShown",
    "MapReady",
    "PointData",
    "PointLayer",
    "district_class",
    "districts_geojson",
    "point_layer",
    "district_layer",
    "DISTRICT_TOOLTIP",
    "latency_circles",
    "legend_html",
    "base_map",
    "PLANNED_FIELDS",
    "planned_points",
    "plan_layers",
    "side_layers",
    "ZoomSwitch",
    "SITES_MIN_ZOOM",
]

#: Fill colour of each 5G site type (existing and planned sites alike; planned ones get a dark ring).
SITE_COLOURS: dict[str, str] = {"macro": "#1f78b4", "micro": "#6a3d9a", "indoor": "#ff7f00"}
_PLANNED_RING = "#111111"
_DRAWN_COLOUR = "#e7298a"
_EDGE_COLOUR = "#b8860b"
_CAR_PARK_COLOURS = {"new, compliant": "#1a9850", "new, short of the share": "#d73027", "existing": "#878787"}
_CHARGING_COLOUR = "#00a6a6"

#: District classes by stations per 10k as a share of the target: (lower bound of the ratio, label, colour).
DISTRICT_CLASSES: tuple[tuple[float, str, str], ...] = (
    (-math.inf, "below 80 % of the target", "#d7191c"),
    (0.80, "80–95 % of the target", "#fdae61"),
    (0.95, "95–100 % of the target", "#ffffbf"),
    (1.00, "meets the target", "#1a9641"),
)
_NO_DATA_COLOUR = "#bdbdbd"


@dataclass(frozen=True)
class Basemap:
    """A tile service for the background.

    Attributes
    ----------
    label : str
        Name in the app and the layer control.
    url : str
        XYZ tile URL template (``{s}``, ``{x}``, ``{y}``, ``{z}``, Tianditu's ``{tk}``).
    attribution : str
        Attribution shown on the map.
    subdomains : str
        Values of ``{s}``.
    gcj02 : bool
        Tiles drawn in GCJ-02 (AMap, Tencent): shifted onto CGCS2000 coordinates.
    needs_key : bool
        The URL needs a key (Tianditu's ``tk``).
    """

    label: str
    url: str
    attribution: str
    subdomains: str = "abc"
    gcj02: bool = False
    needs_key: bool = False


#: Base maps offered. None is the default: the map works with no tile server at all.
BASEMAPS: dict[str, Basemap | None] = {
    "none": None,
    "osm": Basemap("OpenStreetMap", "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                   "&copy; OpenStreetMap contributors", subdomains=""),
    "tianditu": Basemap("天地图 Tianditu (vector)",
                        "https://t{s}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
                        "&LAYER=vec&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}"
                        "&TILECOL={x}&tk={tk}", "&copy; 天地图 国家地理信息公共服务平台", subdomains="01234567",
                        needs_key=True),
    "amap": Basemap("高德 AMap (GCJ-02, shifted)",
                    "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8"
                    "&x={x}&y={y}&z={z}", "&copy; 高德地图 AutoNavi", subdomains="1234", gcj02=True),
}


class Legend(MacroElement):
    """A collapsible legend in a map corner (a Leaflet control holding ``html``)."""

    _template = Template(
        """
        {% macro header(this, kwargs) %}
        <style>
          .geoplan-legend { background: rgba(255,255,255,0.93); padding: 6px 9px; border-radius: 5px;
            box-shadow: 0 1px 4px rgba(0,0,0,0.35); font: 12px/1.35 sans-serif; max-height: 60vh;
            overflow-y: auto; }
          .geoplan-legend summary { font-weight: 600; cursor: pointer; }
          .geoplan-legend h4 { margin: 6px 0 2px; font-size: 12px; }
          .geoplan-legend .sw { display: inline-block; width: 12px; height: 12px; margin-right: 5px;
            vertical-align: -2px; border: 1px solid rgba(0,0,0,0.25); }
          .geoplan-legend .dot { border-radius: 50%; }
          .geoplan-legend .ring { border: 2px solid #111; }
          .geoplan-legend .circle { border-radius: 50%; background: transparent; }
          img.geoplan-grid { image-rendering: pixelated; }
        </style>
        {% endmacro %}
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.control({position: {{ this.position|tojson }}});
        {{ this.get_name() }}.onAdd = function (map) {
            var div = L.DomUtil.create("div", "geoplan-legend");
            div.innerHTML = {{ this.html|tojson }};
            L.DomEvent.disableClickPropagation(div);
            L.DomEvent.disableScrollPropagation(div);
            return div;
        };
        {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, html_text: str, *, position: str = "bottomright") -> None:
        super().__init__()
        self._name = "Legend"
        self.html = html_text
        self.position = position


class GcjTileShift(MacroElement):
    """Shift a GCJ-02 tile layer so its streets sit under CGCS2000/WGS84 data.

    GCJ-02 moves every point by a smooth offset of a few hundred metres that is
    nearly constant across a city. The offset at ``centre`` is converted to
    pixels at the current zoom and applied to the tile layer's container, so
    data, drawings and overlays stay in true coordinates.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var layer = {{ this.layer.get_name() }};
            function shift() {
                var map = layer._map;
                if (!map) { return; }
                var c = L.latLng({{ this.lat }}, {{ this.lon }});
                var g = L.latLng({{ this.lat }} + {{ this.dlat }}, {{ this.lon }} + {{ this.dlon }});
                var z = map.getZoom(), a = map.project(c, z), b = map.project(g, z);
                var el = layer.getContainer();
                if (el) { el.style.marginLeft = (a.x - b.x) + "px"; el.style.marginTop = (a.y - b.y) + "px"; }
            }
            layer.on("load add", function () {
                if (layer._map && !layer._geoplanShift) { layer._geoplanShift = true; layer._map.on("zoomend viewreset", shift); }
                shift();
            });
            shift();
        })();
        {% endmacro %}
        """
    )

    def __init__(self, layer: folium.TileLayer, *, lon: float, lat: float) -> None:
        super().__init__()
        self._name = "GcjTileShift"
        self.layer = layer
        glon, glat = wgs84_to_gcj02(np.array([lon]), np.array([lat]))
        self.lon, self.lat = float(lon), float(lat)
        self.dlon, self.dlat = float(glon[0] - lon), float(glat[0] - lat)


class RememberShown(MacroElement):
    """Keep a swappable feature group shown or hidden as the planner last chose.

    ``st_folium`` re-creates the groups given as ``feature_group_to_add`` on every
    rerun and adds each to the map. This element records the planner's choices
    in the layer control (``overlayadd`` / ``overlayremove`` while the control
    handles a click; ``st_folium`` exposes the control as ``window.layer_control``)
    under a stable ``key`` and, right after the group is added, removes it again
    when it should be hidden (``show`` the first time).
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent._parent.get_name() }}, group = {{ this._parent.get_name() }};
            var key = {{ this.key|tojson }};
            group.options.geoplanKey = key;
            window.geoplanShown = window.geoplanShown || {};
            if (!map._geoplanShownHooked) {
                map._geoplanShownHooked = true;
                // only the planner's clicks in the layer control count, not st_folium swapping the groups
                var clicked = function () { return !!(window.layer_control && window.layer_control._handlingClick); };
                map.on("overlayadd", function (e) {
                    if (e.layer.options.geoplanKey && clicked()) { window.geoplanShown[e.layer.options.geoplanKey] = true; }
                });
                map.on("overlayremove", function (e) {
                    if (e.layer.options.geoplanKey && clicked()) { window.geoplanShown[e.layer.options.geoplanKey] = false; }
                });
            }
            var shown = (key in window.geoplanShown) ? window.geoplanShown[key] : {{ this.show|tojson }};
            if (!shown) { setTimeout(function () { map.removeLayer(group); }, 0); }
        })();
        {% endmacro %}
        """
    )

    def __init__(self, key: str, *, show: bool = True) -> None:
        super().__init__()
        self._name = "RememberShown"
        self.key = key
        self.show = bool(show)


class MapReady(MacroElement):
    """Tell the app once the map is drawn in the browser: ``st_folium`` then returns ``map_ready: True``.

    ``st_folium`` sends a value only when the planner moves the map or draws; the app
    waits for the first map before it computes what can follow (edge and charging
    plans), so that work does not slow the map's own loading. Sent once, when the
    map is first created (the static map stays mounted across reruns).
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.whenReady(function () {
            setTimeout(function () {  // after st_folium has set up the map and its initial value
                var s = window.Streamlit, g = window.__GLOBAL_DATA__ || {};
                if (!s || typeof s.setComponentValue !== "function") { return; }
                s.setComponentValue(Object.assign({}, g.previous_data || {}, {map_ready: true}));
            }, 0);
        });
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "MapReady"


def _group(name: str, key: str, *, show: bool = True) -> folium.FeatureGroup:
    fg = folium.FeatureGroup(name=name, show=show)
    fg.add_child(RememberShown(key, show=show))
    return fg


def district_class(per_10k: float, target: float) -> tuple[str, str]:
    """Label and colour of a district's stations per 10k against the target.

    Examples
    --------
    >>> district_class(33.0, 33.0)[0], district_class(20.0, 33.0)[0]
    ('meets the target', 'below 80 % of the target')
    """
    if per_10k is None or not np.isfinite(per_10k) or not target:
        return "no statistics", _NO_DATA_COLOUR
    ratio = per_10k / target
    label, colour = DISTRICT_CLASSES[0][1], DISTRICT_CLASSES[0][2]
    for lower, lab, col in DISTRICT_CLASSES:
        if ratio >= lower - 1e-12:
            label, colour = lab, col
    return label, colour


def _plain(v: Any) -> Any:
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def districts_geojson(proj: Project, *, tolerance_m: float = 25.0, decimals: int = 5) -> dict[str, Any]:
    """District outlines (XZQDM, XZQMC) as GeoJSON, simplified by ``tolerance_m`` metres."""
    d = proj.metric("districts")
    geom = d.geometry.simplify(tolerance_m, preserve_topology=True)
    gdf = gpd.GeoDataFrame({"XZQDM": proj.district_codes, "XZQMC": proj.district_names},
                           geometry=geom.to_numpy(), crs=proj.metric_crs).to_crs(4490)
    gdf.geometry = gdf.geometry.set_precision(10.0 ** -decimals)
    return json.loads(gdf.to_json(drop_id=True))


def _js_json(obj: Any) -> str:
    """JSON safe to place inside a <script> element."""
    return (json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
            .replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


@dataclass(frozen=True)
class PointData:
    """Points and some of their properties, by column, ready to be sent to the browser.

    On the wire a layer is columns, not GeoJSON features: coordinates rounded
    to ``decimals`` (~1 m at 5), text properties coded as indices into their
    distinct values. That is about a third of the size of the same GeoJSON
    (a slider move re-sends the planned sites). The browser turns the columns
    back into GeoJSON features for one ``L.geoJSON`` layer (:class:`PointLayer`).
    :meth:`head` slices without re-encoding: the first ``n`` planned sites of
    an order.

    Attributes
    ----------
    lon, lat : ndarray
        Coordinates, degrees, rounded.
    columns : dict
        Property name → ``("codes", codes ndarray, values list)`` for text, or
        ``("values", list)`` for numbers.
    """

    lon: np.ndarray
    lat: np.ndarray
    columns: dict[str, tuple[Any, ...]]

    @classmethod
    def from_frame(cls, gdf: gpd.GeoDataFrame, fields: Sequence[str] = (), *, decimals: int = 5) -> PointData:
        """Points of ``gdf`` (EPSG:4490 or 4326 degrees; others are reprojected) with only ``fields``.

        Examples
        --------
        >>> g = gpd.GeoDataFrame({"T": ["macro", "micro", "macro"], "N": [1, 2, 3]},
        ...                      geometry=gpd.points_from_xy([118.123456789, 118.2, 118.3], [24.5] * 3), crs=4490)
        >>> PointData.from_frame(g, ["T", "N"]).head(2).to_json()
        '{"lon":[118.12346,118.2],"lat":[24.5,24.5],"cols":{"T":{"codes":[0,1],"values":["macro","micro"]},"N":[1,2]}}'
        """
        if gdf.crs is not None and not gdf.crs.is_geographic:
            gdf = gdf.to_crs(4490)
        lon = np.round(gdf.geometry.x.to_numpy(dtype=float), decimals)
        lat = np.round(gdf.geometry.y.to_numpy(dtype=float), decimals)
        columns: dict[str, tuple[Any, ...]] = {}
        for f in fields:
            col = gdf[f]
            if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
                columns[f] = ("values", [_plain(v) for v in col.tolist()])
            else:
                codes, uniques = pd.factorize(col.astype(object).where(col.notna(), None), use_na_sentinel=True)
                columns[f] = ("codes", codes.astype(np.int64), [_plain(v) for v in uniques.tolist()])
        return cls(lon, lat, columns)

    def __len__(self) -> int:
        return len(self.lon)

    def head(self, n: int) -> PointData:
        """The first ``n`` points."""
        n = max(int(n), 0)
        cols = {k: (c[0], c[1][:n], *c[2:]) for k, c in self.columns.items()}
        return PointData(self.lon[:n], self.lat[:n], cols)

    @property
    def fields(self) -> list[str]:
        """Property names."""
        return list(self.columns)

    def to_json(self) -> str:
        """The columns as JSON, safe inside a <script> element (codes of -1 decode to null)."""
        cols: dict[str, Any] = {}
        for k, c in self.columns.items():
            if c[0] == "codes":
                cols[k] = {"codes": c[1].tolist(), "values": c[2]}
            else:
                cols[k] = list(c[1])
        return _js_json({"lon": self.lon.tolist(), "lat": self.lat.tolist(), "cols": cols})

    def bounds(self) -> list[list[float | None]]:
        """``[[south, west], [north, east]]`` (``None`` when empty)."""
        if not len(self):
            return [[None, None], [None, None]]
        return [[float(self.lat.min()), float(self.lon.min())], [float(self.lat.max()), float(self.lon.max())]]


class _Script(Element):
    """Script text added to a figure as is (branca would compile it as a Jinja template)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def render(self, **kwargs: Any) -> str:
        return self.text


class PointLayer(folium.map.Layer):
    """Many points as one Leaflet GeoJSON layer of circle markers (canvas) or circles (metres).

    Each point is coloured in the browser by a property; one tooltip function
    serves the whole layer. The data goes into the page as pre-encoded text
    (:class:`PointData`), never through a template compiler, so 10⁴ points cost
    milliseconds to render; the browser makes the markers only when the layer is
    first shown (18,000 existing sites hidden at city zoom cost nothing on load).
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = (function () {
            var colours = {{ this.colours_json }}, style = {{ this.style_json }};
            var by = {{ this.colour_by_json }}, fields = {{ this.fields_json }}, labels = {{ this.labels_json }};
            var words = {{ this.words_json }};
            var d = {{ this.data_json }};
            var group = L.featureGroup(), built = false;
            group.on("add", function () {  // the markers are made once the layer stays shown (not for a
                setTimeout(function () {      // layer that ZoomSwitch takes off again in the same moment)
                    if (!built && group._map) { built = true; group.addLayer(build()); }
                }, 0);
            });
            return group;

            function build() {
                var n = d.lon.length, names = Object.keys(d.cols), feats = new Array(n);
                for (var i = 0; i < n; i++) {
                    var props = {};
                    for (var j = 0; j < names.length; j++) {
                        var c = d.cols[names[j]];
                        props[names[j]] = Array.isArray(c) ? c[i] : (c.codes[i] < 0 ? null : c.values[c.codes[i]]);
                    }
                    feats[i] = {type: "Feature", properties: props, geometry: {type: "Point", coordinates: [d.lon[i], d.lat[i]]}};
                }
                var layer = L.geoJSON({type: "FeatureCollection", features: feats}, {
                    pointToLayer: function (feature, latlng) {
                        var o = Object.assign({}, style);
                        if (by !== null && colours[feature.properties[by]] !== undefined) {
                            o.fillColor = colours[feature.properties[by]];
                            if (!o.ring) { o.color = o.fillColor; }
                        }
                        return {{ "L.circle" if this.metres else "L.circleMarker" }}(latlng, o);
                    }
                });
                if (fields.length) {
                    layer.bindTooltip(function (l) {
                        var p = l.feature.properties, rows = [];
                        for (var i = 0; i < fields.length; i++) {
                            var v = p[fields[i]];
                            if (v === null || v === undefined) { v = "—"; }
                            else if (typeof v === "number") { v = v.toLocaleString(); }
                            else if (typeof v === "string" && words[v] !== undefined) { v = words[v]; }
                            var cell = document.createElement("td"); cell.textContent = String(v);
                            rows.push("<tr><th>" + labels[i] + "</th>" + cell.outerHTML + "</tr>");
                        }
                        return "<table>" + rows.join("") + "</table>";
                    }, {sticky: false});
                }
                return layer;
            }
        })();
        {% endmacro %}
        """
    )

    def __init__(self, data: PointData, *, name: str, colour_by: str | None = None,
                 colours: Mapping[str, str] | None = None, colour: str = "#3388ff", radius: float = 3.0,
                 metres: bool = False, ring: str | None = None, ring_weight: float = 0.8, fill: bool = True,
                 dash: str | None = None, tooltip_fields: Sequence[str] = (), tooltip_aliases: Sequence[str] = (),
                 show: bool = True, value_words: Mapping[str, str] | None = None) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "PointLayer"
        self.data = data
        self.metres = metres
        style: dict[str, Any] = {"radius": radius, "fill": fill, "fillColor": colour, "fillOpacity": 0.85 if fill else 0,
                                 "color": ring or colour, "weight": ring_weight if ring or not fill else 0,
                                 "opacity": 0.9, "ring": bool(ring)}
        if dash:
            style["dashArray"] = dash
        self.data_json = data.to_json()
        self.style_json = _js_json(style)
        self.colours_json = _js_json(dict(colours or {}))
        self.colour_by_json = _js_json(colour_by)
        self.fields_json = _js_json(list(tooltip_fields))
        self.labels_json = _js_json([html.escape(a) for a in (tooltip_aliases or tooltip_fields)])
        self.words_json = _js_json(dict(value_words or {}))  # raw tooltip values (macro, towers ...) → words

    def render(self, **kwargs: Any) -> None:  # type: ignore[override]  # folium's render returns None too
        parent = self._parent
        if parent is None:
            raise ConfigError(f"the point layer '{self.layer_name}' is not on a map. Fix: add it to a map or group")
        if self.show:
            self.add_child(ElementAddToElement(element_name=self.get_name(), element_parent_name=parent.get_name()),
                           name=self.get_name() + "_add")
        figure: Any = self.get_root()
        figure.script.add_child(_Script(self._template.module.script(self, kwargs)), name=self.get_name())
        for child in self._children.values():
            child.render(**kwargs)

    def _get_self_bounds(self) -> list[list[float | None]]:
        return self.data.bounds()


def point_layer(data: PointData, *, name: str, colour_by: str | None = None,
                colours: Mapping[str, str] | None = None, colour: str = "#3388ff", radius: float = 3.0,
                ring: str | None = None, ring_weight: float = 0.8, tooltip_fields: Sequence[str] = (),
                tooltip_aliases: Sequence[str] = (), show: bool = True, lang: str | None = None) -> PointLayer:
    """Circle markers (``radius`` in pixels) of ``data``, coloured by property ``colour_by`` (see :class:`PointLayer`).

    With ``lang``, the tooltips show raw values (site types, sources, kinds, statuses) in that language
    (:func:`~.i18n.tooltip_words`); the colours still key on the raw values."""
    return PointLayer(data, name=name, colour_by=colour_by, colours=colours, colour=colour, radius=radius,
                      ring=ring, ring_weight=ring_weight, tooltip_fields=tooltip_fields,
                      tooltip_aliases=tooltip_aliases, show=show,
                      value_words=tooltip_words(lang) if lang is not None else None)


def _fmt(v: Any, nd: int = 0) -> Any:
    v = _plain(v)
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int | float):
        return f"{v:,.{nd}f}"
    return v


#: Fields of the district tooltip and their English labels (:func:`district_layer`; other languages: ``labels``).
DISTRICT_TOOLTIP: dict[str, str] = {
    "XZQMC": "district", "XZQDM": "code", "population": "population", "existing": "existing stations",
    "new": "new stations", "stations": "stations", "per_10k": "stations per 10k", "target_per_10k": "target per 10k",
    "shortfall": "shortfall", "meets_target": "meets target", "coverage_after": "population covered",
    "status": "status"}


def district_layer(geojson: Mapping[str, Any], table: pd.DataFrame, *, name: str = "Districts: stations per 10k",
                   show: bool = True, labels: Mapping[str, str] | None = None,
                   words: Mapping[str, str] | None = None) -> folium.GeoJson:
    """Districts coloured by stations per 10k against the target, numbers in the tooltip.

    ``table`` has one row per district in the project's order with XZQDM, per_10k and
    target_per_10k, and optionally population, existing, new, stations, required,
    shortfall, meets_target, coverage_after (e.g. ``PlanResult.districts``).
    ``labels`` (field → label) and ``words`` (English value → shown value: "yes",
    the status classes) put the tooltip in the interface's language
    (:func:`geoplan.webmap.i18n.district_tooltip`); English by default.
    """
    words = words or {}
    by_code = {str(r["XZQDM"]): r for r in table.to_dict(orient="records")}
    feats = []
    for f in geojson["features"]:
        r = by_code.get(str(f["properties"]["XZQDM"]), {})
        per, target = _plain(r.get("per_10k")), _plain(r.get("target_per_10k"))
        label, colour = district_class(per if per is not None else math.nan, target or 0.0)
        props = dict(f["properties"])
        props.update({
            "population": _fmt(r.get("population")), "existing": _fmt(r.get("existing")),
            "new": _fmt(r.get("new")), "stations": _fmt(r.get("stations")), "per_10k": _fmt(per, 2),
            "target_per_10k": _fmt(target, 1), "shortfall": _fmt(r.get("shortfall")),
            "meets_target": words.get(m := _fmt(r.get("meets_target")), m), "status": words.get(label, label),
            "_colour": colour,
            "coverage_after": percent(_plain(r.get("coverage_after"))),
        })
        feats.append({"type": "Feature", "properties": props, "geometry": f["geometry"]})
    fields = list(DISTRICT_TOOLTIP)
    aliases = [(labels or {}).get(f) or DISTRICT_TOOLTIP[f] for f in fields]
    return folium.GeoJson(
        {"type": "FeatureCollection", "features": feats}, name=name, show=show,
        style_function=lambda f: {"fillColor": f["properties"]["_colour"], "color": "#333333", "weight": 1.5,
                                  "fillOpacity": 0.35},
        highlight_function=lambda f: {"weight": 3, "fillOpacity": 0.5},
        tooltip=folium.GeoJsonTooltip(fields=fields, aliases=aliases, sticky=True),
    )


def latency_circles(sites: gpd.GeoDataFrame, *, radius_m: float, name: str, show: bool = False,
                    lang: str = "en") -> PointLayer:
    """A circle of ``radius_m`` metres around each edge data centre (the latency circle)."""
    return PointLayer(PointData.from_frame(sites, ["DC_ID"]), name=name, metres=True, radius=float(radius_m),
                      colour=_EDGE_COLOUR, fill=False, ring=_EDGE_COLOUR, ring_weight=1.0, dash="4 4",
                      tooltip_fields=["DC_ID"],
                      tooltip_aliases=[f"{radius_m / 1000:,.1f} {map_word('km latency circle of', lang)}"], show=show)


def legend_html(*, modelled: Sequence[str] = (), edge_radius_km: float | None = None, lang: str = "en") -> str:
    """The legend's HTML (in ``lang``): district classes, site types, grids, edge data centres, car parks."""
    from .i18n import WORDS

    def sw(colour: str, cls: str = "", extra: str = "") -> str:
        return f'<span class="sw {cls}" style="background:{colour};{extra}"></span>'

    def w(text: str) -> str:
        return html.escape(map_word(text, lang))

    sep = "" if lang == "zh" else " "
    parts = [f"<details><summary>{w('Legend')}</summary>", f"<h4>{w('Districts: stations per 10k')}</h4>"]
    parts += [f"<div>{sw(c)}{html.escape(WORDS.get(lab, lab) if lang == 'zh' else lab)}</div>"
              for _, lab, c in DISTRICT_CLASSES]
    parts.append(f"<h4>{w('5G sites')}</h4>")
    parts += [f"<div>{sw(c, 'dot')}{w('existing')}{sep}{w(t)}</div>" for t, c in SITE_COLOURS.items()]
    parts += [f"<div>{sw(c, 'dot ring')}{w('planned')}{sep}{w(t)}</div>" for t, c in SITE_COLOURS.items()]
    parts.append(f"<div>{sw(_DRAWN_COLOUR, 'dot ring')}{w('drawn site kept in the scenario')}</div>")
    parts.append(f"<h4>{w('Coverage grid')}</h4>")
    parts += [f"<div>{sw('rgba({},{},{},{:.2f})'.format(*c[:3], c[3] / 255))}{w(lab)}</div>"
              for lab, c in COVERAGE_CLASSES.values()]
    parts.append(f"<h4>{w('Residents per km²')}</h4>")
    bounds = list(POPULATION_BREAKS_KM2) + [math.inf]
    for k, c in enumerate(POPULATION_COLOURS):
        lo, hi = bounds[k], bounds[k + 1]
        text = f"{lo:,.0f}+" if not math.isfinite(hi) else f"{lo:,.0f}–{hi:,.0f}"
        parts.append(f"<div>{sw('rgba({},{},{},{:.2f})'.format(*c[:3], c[3] / 255))}{text}</div>")
    parts.append(f"<h4>{w('Edge computing & charging')}</h4>")
    parts.append(f"<div>{sw(_EDGE_COLOUR, 'dot ring')}{w('edge data centre')}</div>")
    if edge_radius_km is not None:
        parts.append(f'<div>{sw("transparent", "circle", f"border:1px dashed {_EDGE_COLOUR}")}'
                     f"{w('latency circle')} ({edge_radius_km:,.1f} km)</div>")
    parts += [f"<div>{sw(c, 'dot')}{w('car park')}{'：' if lang == 'zh' else ': '}{w(lab)}</div>"
              for lab, c in _CAR_PARK_COLOURS.items()]
    parts.append(f"<div>{sw(_CHARGING_COLOUR, 'dot ring')}{w('new public charging station')}</div>")
    if modelled:
        parts.append(f'<h4>{w("Modelled layers")}</h4><div style="max-width:220px">{html.escape(", ".join(modelled))}'
                     f"{'：' if lang == 'zh' else ': '}{w('synthetic data, not observations')}</div>")
    parts.append("</details>")
    return "".join(parts)


def side_layers(*, edge_sites: gpd.GeoDataFrame | None = None, edge_radius_m: float | None = None,
                car_parks: gpd.GeoDataFrame | None = None,
                charging_stations: gpd.GeoDataFrame | None = None, lang: str = "en") -> list[folium.FeatureGroup]:
    """Edge data centres (with latency circles), car parks and new charging stations, each in a feature group.

    They follow the edge and charging controls, so they are swapped in place
    (``st_folium(feature_group_to_add=...)``) rather than rebuilding the map.
    """
    def w(text: str) -> str:
        return map_word(text, lang)

    groups = []
    if edge_sites is not None and len(edge_sites):
        fields = [f for f in ("DC_ID", "STATUS", "NAME", "XZQMC", "N_SERVED", "LAT_MS") if f in edge_sites.columns]
        aliases = {"DC_ID": "data centre", "STATUS": "status", "NAME": "at", "XZQMC": "district",
                   "N_SERVED": "demand points served", "LAT_MS": "worst one-way latency (ms)"}
        fg = _group(w("Edge data centres"), "edge", show=False)
        point_layer(PointData.from_frame(edge_sites, fields), name="edge", colour=_EDGE_COLOUR, radius=7,
                    ring="#111111", ring_weight=1.5, tooltip_fields=fields,
                    tooltip_aliases=[w(aliases[f]) for f in fields], lang=lang).add_to(fg)
        groups.append(fg)
        if edge_radius_m:
            fg = _group(f"{w('Latency circles')} ({edge_radius_m / 1000:,.1f} {w('km')})", "latency", show=False)
            latency_circles(edge_sites, radius_m=edge_radius_m, name="latency", lang=lang).add_to(fg)
            groups.append(fg)
    if car_parks is not None and len(car_parks):
        cp = car_parks.copy()
        cp["class"] = np.where(cp["IS_NEW"].astype(int) == 1,
                               np.where(cp["compliant"].astype(bool), w("new, compliant"), w("new, short of the share")),
                               w("existing"))
        fields = ["NAME", "class", "SPACES", "CHG_BUILT", "CHG_RESV", "required", "to_add"]
        fg = _group(w("Car parks (charging share)"), "car_parks", show=False)
        point_layer(PointData.from_frame(cp, fields), name="car parks", colour_by="class",
                    colours={w(k): c for k, c in _CAR_PARK_COLOURS.items()}, radius=4, tooltip_fields=fields,
                    tooltip_aliases=[w(a) for a in ("car park", "status", "spaces", "charging spaces built", "reserved",
                                                    "required by the share", "to add")], lang=lang).add_to(fg)
        groups.append(fg)
    if charging_stations is not None and len(charging_stations):
        fields = [f for f in ("STN_ID", "SOURCE", "XZQMC", "POP_GAIN") if f in charging_stations.columns]
        fg = _group(w("New public charging stations"), "charging", show=False)
        point_layer(PointData.from_frame(charging_stations, fields), name="charging", colour=_CHARGING_COLOUR,
                    radius=4, ring=_PLANNED_RING, tooltip_fields=fields,
                    tooltip_aliases=[w(a) for a in ("station", "source", "district", "residents within reach")
                                     ][:len(fields)], lang=lang).add_to(fg)
        groups.append(fg)
    return groups


def base_map(proj: Project, *, basemap: str = "none", tianditu_key: str | None = None,
             population: Overlay | None = None, existing_sites: PointData | None = None,
             edge_sites: gpd.GeoDataFrame | None = None, edge_radius_m: float | None = None,
             car_parks: gpd.GeoDataFrame | None = None, charging_stations: gpd.GeoDataFrame | None = None,
             modelled: Sequence[str] = (), height: int | str = 620,
             districts: Mapping[str, Any] | None = None, existing_density: Overlay | None = None,
             lang: str = "en") -> folium.Map:
    """The static part of the planning map (see the module notes).

    Parameters
    ----------
    proj : Project
        Its districts set the initial view and draw the offline base map (land on water).
    basemap : str
        A key of :data:`BASEMAPS` (``"none"``: the offline base map alone). The app
        passes tiles as a feature group instead (:func:`~.basemaps.tile_group`).
    tianditu_key : str, optional
        Tianditu ``tk`` key, required for ``basemap="tianditu"``.
    population : Overlay, optional
        Population grid image (:func:`~geoplan.webmap.overlay.population_overlay`).
    existing_sites : PointData, optional
        Existing 5G sites (:meth:`PointData.from_frame` with SITE_ID, SITE_TYPE).
    edge_sites, edge_radius_m, car_parks, charging_stations
        See :func:`side_layers` (added to this map; the app swaps them in feature groups).
    modelled : sequence of str
        Modelled layers, named in the legend.
    height : int or str
        Map height (pixels, or a CSS length such as ``"100%"``).
    districts : dict, optional
        District outlines (:func:`districts_geojson`; computed when not given).
    existing_density : Overlay, optional
        The existing sites as a density image, shown instead of the points below zoom
        :data:`SITES_MIN_ZOOM` (:func:`~geoplan.webmap.overlay.site_density_overlay`).

    Returns
    -------
    folium.Map
        Without a layer control: pass one to ``st_folium(layer_control=...)`` so it lists
        the plan layers too (or add one for a standalone map).
    """
    from .basemaps import land_layer, tile_group
    from .drawings import DrawIds, MapWords, draw_control

    left, bottom, right, top = proj.districts.total_bounds
    m = folium.Map(location=[(bottom + top) / 2, (left + right) / 2], zoom_start=10, tiles=None, max_zoom=19,
                   min_zoom=5, prefer_canvas=True, height=height)  # scale bar: MapWords (metric only)
    m.fit_bounds([[bottom, left], [top, right]])
    m.add_child(land_layer(districts if districts is not None else districts_geojson(proj)))
    tiles = tile_group(basemap=basemap, tianditu_key=tianditu_key, centre=((left + right) / 2, (bottom + top) / 2))
    if tiles is not None:
        tiles.add_to(m)
    if population is not None:
        population.to_folium(name=map_word("Population (residents per km²)", lang), opacity=0.8,
                             show=False).add_to(m)
    if existing_sites is not None:
        fg = folium.FeatureGroup(name=map_word("Existing 5G sites", lang), show=True).add_to(m)
        pts = point_layer(existing_sites, name="existing", colour_by="SITE_TYPE", colours=SITE_COLOURS, radius=2.0,
                          tooltip_fields=("SITE_ID", "SITE_TYPE"),
                          tooltip_aliases=(map_word("site", lang), map_word("type", lang)), lang=lang)
        pts.add_to(fg)
        if existing_density is not None:
            img = existing_density.to_folium(name="existing density", opacity=0.9)
            img.add_to(fg)
            fg.add_child(ZoomSwitch(pts, img, key="existing", min_zoom=SITES_MIN_ZOOM))
    for g in side_layers(edge_sites=edge_sites, edge_radius_m=edge_radius_m, car_parks=car_parks,
                         charging_stations=charging_stations, lang=lang):
        g.add_to(m)
    m.add_child(Legend(legend_html(modelled=modelled, lang=lang,
                                   edge_radius_km=None if edge_radius_m is None else edge_radius_m / 1000)))
    m.add_child(DrawIds())
    m.add_child(MapWords(lang=lang))
    draw_control().add_to(m)
    return m


#: Properties of planned sites shown on the map (:func:`planned_points`), and their labels.
PLANNED_FIELDS: dict[str, str] = {"SITE_ID": "site", "SITE_TYPE": "type", "RANK": "build order",
                                  "GAIN_POP": "newly covered residents", "XZQMC": "district", "SOURCE": "source",
                                  "KIND": "reuses", "COST": "site cost (万元)", "CONFLICTS": "siting conflicts"}


def planned_points(sites: gpd.GeoDataFrame) -> PointData:
    """Planned (or kept drawn) sites as map points with the :data:`PLANNED_FIELDS` they have."""
    return PointData.from_frame(sites, [f for f in PLANNED_FIELDS if f in sites.columns])


def _labels(data: PointData, lang: str = "en") -> tuple[list[str], list[str]]:
    fields = [f for f in PLANNED_FIELDS if f in data.columns]
    return fields, [map_word(PLANNED_FIELDS[f], lang) for f in fields]


class ZoomSwitch(MacroElement):
    """Show ``points`` from zoom ``min_zoom`` on and the density ``image`` below it (in one feature group)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var group = {{ this._parent.get_name() }}, map = {{ this._parent._parent.get_name() }};
            var pts = {{ this.points.get_name() }}, img = {{ this.image.get_name() }}, minz = {{ this.min_zoom }};
            function sw() {
                if (!map.hasLayer(group)) { return; }
                var close = map.getZoom() >= minz;
                if (close && !group.hasLayer(pts)) { group.addLayer(pts); }
                if (!close && group.hasLayer(pts)) { group.removeLayer(pts); }
                if (close && group.hasLayer(img)) { group.removeLayer(img); }
                if (!close && !group.hasLayer(img)) { group.addLayer(img); }
            }
            window.geoplanZoomSwitch = window.geoplanZoomSwitch || {};
            var key = {{ this.key|tojson }};
            if (window.geoplanZoomSwitch[key]) { map.off("zoomend", window.geoplanZoomSwitch[key]); }
            window.geoplanZoomSwitch[key] = sw;
            map.on("zoomend", sw);
            group.on("add", sw);
            sw();
        })();
        {% endmacro %}
        """
    )

    def __init__(self, points: folium.map.Layer, image: folium.map.Layer, *, key: str, min_zoom: int) -> None:
        super().__init__()
        self._name = "ZoomSwitch"
        self.points, self.image, self.key, self.min_zoom = points, image, key, int(min_zoom)


#: Zoom from which planned sites are drawn one by one (below it: a density image that lets the districts' tooltips through).
SITES_MIN_ZOOM = 13


def plan_layers(*, districts: Mapping[str, Any], district_table: pd.DataFrame, planned_sites: PointData | None,
                coverage: Overlay | None = None, kept_sites: PointData | None = None,
                plan_label: str = "Planned 5G sites", site_density: Overlay | None = None,
                drawings: Sequence[Mapping[str, Any]] | None = None,
                drawings_revision: str = "0", district_labels: Mapping[str, str] | None = None,
                district_words: Mapping[str, str] | None = None, lang: str = "en") -> list[folium.FeatureGroup]:
    """The layers that follow the what-if controls, each in its own feature group.

    Parameters
    ----------
    districts : dict
        District outlines (:func:`districts_geojson`).
    district_table : DataFrame
        Per-district numbers of the current scenario (see :func:`district_layer`).
    planned_sites : PointData, optional
        Planned sites (:func:`planned_points` of ``PlanResult.sites``).
    coverage : Overlay, optional
        Coverage grid image (:func:`~geoplan.webmap.overlay.coverage_overlay`).
    kept_sites : PointData, optional
        Sites drawn by the planner and kept in the scenario (:func:`planned_points`).
    plan_label : str
        Name of the planned sites in the layer control (their number is appended).
    site_density : Overlay, optional
        The planned sites as a density image (:func:`~geoplan.webmap.overlay.site_density_overlay`),
        shown instead of the points below zoom :data:`SITES_MIN_ZOOM`.
    drawings, drawings_revision
        The workspace's drawings as GeoJSON features and their revision (:class:`~.drawings.DrawingSync`).
    district_labels, district_words
        The district tooltip's labels and value words in the interface's language (see :func:`district_layer`).
    lang : str
        Language of the layer names and point tooltips (``"zh"``: Chinese, :data:`~.i18n.MAP_WORDS`; else English).
    """
    from .drawings import DrawingSync

    groups = []
    fg = _group(map_word("Districts: stations per 10k vs target", lang), "districts")
    district_layer(districts, district_table, name="districts", labels=district_labels,
                   words=district_words).add_to(fg)
    groups.append(fg)
    if coverage is not None:
        fg = _group(map_word("5G coverage grid", lang), "coverage", show=False)
        coverage.to_folium(name="coverage", opacity=0.85).add_to(fg)
        groups.append(fg)
    if planned_sites is not None and len(planned_sites):
        fields, aliases = _labels(planned_sites, lang)
        fg = _group(f"{map_word(plan_label, lang)} ({len(planned_sites):,})", "planned")
        pts = point_layer(planned_sites, name="planned", colour_by="SITE_TYPE", colours=SITE_COLOURS, radius=3.0,
                          ring=_PLANNED_RING, ring_weight=0.6, tooltip_fields=fields, tooltip_aliases=aliases,
                          lang=lang)
        pts.add_to(fg)
        if site_density is not None:
            img = site_density.to_folium(name="planned density", opacity=0.9)
            img.add_to(fg)
            fg.add_child(ZoomSwitch(pts, img, key="planned", min_zoom=SITES_MIN_ZOOM))
        groups.append(fg)
    if kept_sites is not None and len(kept_sites):
        fields, aliases = _labels(kept_sites, lang)
        fg = _group(f"{map_word('Drawn sites kept', lang)} ({len(kept_sites)})", "kept")
        point_layer(kept_sites, name="kept", colour=_DRAWN_COLOUR, radius=7, ring=_PLANNED_RING, ring_weight=1.5,
                    tooltip_fields=fields, tooltip_aliases=aliases, lang=lang).add_to(fg)
        groups.append(fg)
    if drawings is not None:
        fg = folium.FeatureGroup(name="drawings", control=False)
        fg.add_child(DrawingSync(drawings, revision=drawings_revision))
        groups.append(fg)
    return groups
