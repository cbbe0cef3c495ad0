"""The planner's drawings on the map: ids given in the browser, restored from the workspace, editable.

``st_folium`` returns the drawings of Leaflet.draw's layer group
(``window.drawnItems``) as GeoJSON. Three pieces keep them durable:

- :class:`DrawIds` (static, on the map) gives each new drawing a ``properties.id``
  the moment it is drawn, so the app can tell a new drawing from an edited one;
- :class:`DrawingSync` (in a swappable feature group) puts the workspace's
  drawings into ``drawnItems`` when the map is first created (a reload, a new
  browser tab) and again whenever the app changed them (undo, delete from the
  panel, another workspace opened: ``revision`` goes up). Changes made on the
  map itself do not bump the revision, so the map is never redrawn under the
  planner's pointer;
- :func:`draw_control` — markers, polygons and rectangles, with edit (drag a
  site, move an area's vertices) and delete.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import folium.plugins
from branca.element import MacroElement
from folium.template import Template

from .i18n import DRAW_WORDS

__all__ = ["AREA_STYLES", "DrawIds", "DrawingSync", "MapWords", "draw_control"]

#: Leaflet path style of an area by role (evaluation, exclusion, candidate).
AREA_STYLES: dict[str, dict[str, Any]] = {
    "evaluation": {"color": "#2166ac", "weight": 2, "fillOpacity": 0.08},
    "exclusion": {"color": "#b2182b", "weight": 2, "fillOpacity": 0.18, "dashArray": "6 4"},
    "candidate": {"color": "#1b7837", "weight": 2, "fillOpacity": 0.12},
}


class DrawIds(MacroElement):
    """Give every new drawing an id (``properties.id``) before ``st_folium`` reads it."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.on("draw:created", function (e) {
            var f = e.layer.feature = e.layer.feature || {type: "Feature", properties: {}};
            f.properties = f.properties || {};
            if (!f.properties.id) {
                f.properties.id = "d" + Date.now().toString(36) + Math.random().toString(36).slice(2, 6);
            }
        });
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "DrawIds"


class DrawingSync(MacroElement):
    """Put ``features`` into Leaflet.draw's group when the map is new or ``revision`` changed (see module notes)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var rev = {{ this.revision|tojson }}, feats = {{ this.features }}, styles = {{ this.styles }};
            if (!window.drawnItems || typeof window.drawnItems.addLayer !== "function") { return; }
            if (window.geoplanDrawRev === rev) { return; }
            window.geoplanDrawRev = rev;
            window.drawnItems.clearLayers();
            L.geoJSON({type: "FeatureCollection", features: feats}, {
                style: function (f) { return styles[f.properties.role] || {}; },
                onEachFeature: function (f, layer) {
                    layer.feature = f;
                    var g = f.geometry.type === "Polygon" ? L.polygon(layer.getLatLngs(), layer.options) : layer;
                    g.feature = f;
                    window.drawnItems.addLayer(g);
                }
            });
        })();
        {% endmacro %}
        """
    )

    def __init__(self, features: Sequence[Mapping[str, Any]], *, revision: str) -> None:
        super().__init__()
        self._name = "DrawingSync"
        self.revision = revision
        self.features = json.dumps(list(features), ensure_ascii=False).replace("<", "\\u003c")
        self.styles = json.dumps(AREA_STYLES)


class MapWords(MacroElement):
    """The map's own controls in the interface's language: a metric scale bar, and in Chinese Leaflet.draw's
    toolbar and hints and the zoom buttons' titles (:data:`~.i18n.DRAW_WORDS`). Add it before :func:`draw_control`."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }}, words = {{ this.words }};
            L.control.scale({imperial: false}).addTo(map);
            if (!words.draw) { return; }
            (function merge(into, from) {
                for (var k in from) {
                    if (typeof from[k] === "object") { into[k] = into[k] || {}; merge(into[k], from[k]); }
                    else { into[k] = from[k]; }
                }
            })(L.drawLocal, {draw: words.draw, edit: words.edit});
            var layout = L.Control.Layers.prototype._initLayout;  // the layer control comes later (st_folium)
            L.Control.Layers.prototype._initLayout = function () {
                layout.call(this);
                this._layersLink.title = words.layers;
            };
            if (map.zoomControl) {
                map.zoomControl._zoomInButton.title = words.zoom["in"];
                map.zoomControl._zoomOutButton.title = words.zoom.out;
            }
        })();
        {% endmacro %}
        """
    )

    def __init__(self, *, lang: str = "en") -> None:
        super().__init__()
        self._name = "MapWords"
        self.words = json.dumps(DRAW_WORDS if lang == "zh" else {}, ensure_ascii=False).replace("<", "\\u003c")


def draw_control() -> folium.plugins.Draw:
    """Leaflet.draw with markers (sites), polygons and rectangles (areas), lines (measure); edit and delete."""
    return folium.plugins.Draw(
        export=False, position="topleft", show_geometry_on_click=False,
        draw_options={"polyline": {"metric": True, "feet": False, "showLength": True,
                               "shapeOptions": {"color": "#444444", "weight": 3, "dashArray": "6 6"}},
                      "circle": False, "circlemarker": False, "marker": True,
                      "polygon": {"allowIntersection": False, "showArea": True}, "rectangle": True},
        edit_options={"edit": True, "remove": True},
    )
