"""Base maps: an offline land layer that always draws, tile services, and a notice when tiles fail.

- :func:`land_layer` — the project's own districts as land on a water-coloured
  background, in a pane below any tiles: with no network (an intranet without a
  tile server) the map still shows where the city is, and where the sea is not
  land. It is part of the static map, so it is there whatever tiles do.
- :func:`tile_group` — a tile service (OpenStreetMap, Tianditu, AMap, or a
  custom URL such as a bureau's own tile server) in a feature group, so that
  changing the base map swaps it without rebuilding the map (the planner's
  drawings, zoom and layer choices stay).
- :class:`TileNotice` — counts failed tile requests and says so on the map.
- A local MBTiles / PMTiles file: :mod:`geoplan.webmap.localtiles` (served by
  :mod:`geoplan.webmap.tileserver`).

Leaflet draws in Web Mercator (EPSG:3857): tile services must serve Web
Mercator tiles (Tianditu's ``*_w`` sets; most bureau servers offer both).
Geographic CGCS2000 tile sets (Tianditu ``*_c``, EPSG:4490 tile matrices) are
refused with that advice rather than drawn in the wrong place.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import folium
from branca.element import MacroElement
from folium.template import Template

from geoplan.errors import ConfigError

from .map import BASEMAPS, GcjTileShift, RememberShown

__all__ = ["FONT_URL", "WATER_COLOUR", "LAND_COLOUR", "LandLayer", "TileNotice", "land_layer", "tile_group", "tiles_group",
           "custom_basemap_url"]

#: The app's Chinese web font as seen from the ``st_folium`` iframe (``apps/static/fonts/``).
FONT_URL = "../../app/static/fonts/NotoSansSC-subset.woff2"
#: Background (water and everything outside the project) and land colours of the offline base map.
WATER_COLOUR = "#c6dcea"
LAND_COLOUR = "#f4f1ea"


class LandLayer(MacroElement):
    """District polygons as land in a pane under the tiles; the map background as water."""

    _template = Template(
        """
        {% macro header(this, kwargs) %}
        <style>
          @font-face { font-family: "Noto Sans SC"; src: url({{ this.font_url|tojson }}) format("woff2");
            font-display: swap; }
          #map_div { height: 100vh !important; }
          .leaflet-container, .geoplan-legend, .leaflet-tooltip {
            font-family: "Helvetica Neue", Arial, "Noto Sans CJK SC", "Noto Sans SC", sans-serif; }
        </style>
        {% endmacro %}
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }};
            map.getContainer().style.background = {{ this.water|tojson }};
            var pane = map.createPane("geoplanLand");
            pane.style.zIndex = 150; pane.style.pointerEvents = "none";
            L.geoJSON({{ this.geojson }}, {pane: "geoplanLand", interactive: false,
                style: {fillColor: {{ this.land|tojson }}, fillOpacity: 1, color: "#8c8c8c", weight: 0.8}}
            ).addTo(map);
        })();
        {% endmacro %}
        """
    )

    def __init__(self, districts: Mapping[str, Any], *, land: str = LAND_COLOUR, water: str = WATER_COLOUR,
                 font_url: str = FONT_URL) -> None:
        super().__init__()
        self._name = "LandLayer"
        self.font_url = font_url
        self.geojson = json.dumps(districts, ensure_ascii=False).replace("<", "\\u003c")
        self.land, self.water = land, water


def land_layer(districts: Mapping[str, Any]) -> LandLayer:
    """The offline base map of :func:`~geoplan.webmap.map.districts_geojson` outlines (add it to the map)."""
    return LandLayer(districts)


class TileNotice(MacroElement):
    """A notice on the map while a tile layer's requests fail (counted; cleared when tiles load again)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent._parent.get_name() }}, tiles = {{ this.tiles.get_name() }};
            var failed = 0, loaded = 0, box = document.getElementById("geoplan-tile-notice");
            if (!box) {
                box = L.DomUtil.create("div", "geoplan-tile-notice");
                box.id = "geoplan-tile-notice";
                box.style.cssText = "position:absolute;z-index:1000;left:50%;top:8px;transform:translateX(-50%);" +
                    "background:#fff3cd;border:1px solid #d39e00;border-radius:4px;padding:4px 10px;" +
                    "font:13px/1.4 'Noto Sans SC','Noto Sans CJK SC',sans-serif;display:none;pointer-events:none";
                map.getContainer().appendChild(box);
            }
            box.style.display = "none";
            function show() {
                if (failed > 0 && loaded === 0) {
                    box.textContent = {{ this.message|tojson }}.replace("{n}", failed);
                    box.style.display = "block";
                } else { box.style.display = "none"; }
            }
            tiles.on("tileerror", function () { failed += 1; show(); });
            tiles.on("tileload", function () { loaded += 1; show(); });
            tiles.on("remove", function () { box.style.display = "none"; });
        })();
        {% endmacro %}
        """
    )

    def __init__(self, tiles: folium.TileLayer, *, message: str) -> None:
        super().__init__()
        self._name = "TileNotice"
        self.tiles = tiles
        self.message = message


def custom_basemap_url(url: str, *, crs: str = "EPSG:3857") -> str:
    """Check a custom XYZ tile URL (``{z}``, ``{x}``, ``{y}``; optional ``{s}``) and its tile CRS.

    Examples
    --------
    >>> custom_basemap_url("http://tiles.bureau.local/vec/{z}/{x}/{y}.png")
    'http://tiles.bureau.local/vec/{z}/{x}/{y}.png'
    """
    u = (url or "").strip()
    if not u.startswith(("http://", "https://", "/", "../")) or not all(k in u for k in ("{z}", "{x}", "{y}")):
        raise ConfigError(f"tile URL {url!r} is not an XYZ tile template. Fix: give e.g. "
                          "http://tiles.example/{z}/{x}/{y}.png (for Tianditu WMTS: ...&TILEMATRIX={z}&TILEROW={y}"
                          "&TILECOL={x}&tk=<key>)")
    if crs.upper() not in ("EPSG:3857", "EPSG:900913"):
        raise ConfigError(f"tiles in {crs} cannot be drawn on this map, which is in Web Mercator (EPSG:3857). "
                          "Fix: use the server's Web Mercator tile set (Tianditu: vec_w / img_w instead of "
                          "vec_c / img_c; GeoServer/ArcGIS: the EPSG:3857 or EPSG:900913 grid)")
    return u


def tile_group(*, basemap: str, tianditu_key: str | None = None, url: str | None = None, crs: str = "EPSG:3857",
               centre: tuple[float, float] | None = None, name: str = "Base map tiles",
               failed_message: str = "Base-map tiles failed to load ({n} requests): showing the offline base map"
               ) -> folium.FeatureGroup | None:
    """A feature group holding the tiles of ``basemap`` (a key of :data:`BASEMAPS`, or ``"custom"`` with ``url``).

    ``None`` for ``"none"`` (the offline base map alone). ``centre`` (lon, lat) is where
    GCJ-02 tiles are shifted onto CGCS2000 coordinates.
    """
    if basemap == "custom":
        tile_url, attribution, subdomains, gcj = custom_basemap_url(url or "", crs=crs), "custom tiles", "abc", False
    elif basemap in BASEMAPS:
        bm = BASEMAPS[basemap]
        if bm is None:
            return None
        tile_url, attribution, subdomains, gcj = bm.url, bm.attribution, bm.subdomains or "abc", bm.gcj02
        if bm.needs_key:
            if not tianditu_key:
                raise ConfigError(f"the {bm.label} base map needs a key. Fix: enter your Tianditu key (tk), "
                                  "or choose another base map")
            tile_url = tile_url.replace("{tk}", tianditu_key)
    else:
        raise ConfigError(f"unknown base map {basemap!r}. Fix: use one of {', '.join([*BASEMAPS, 'custom'])}")
    tiles = folium.TileLayer(tile_url, attr=attribution, name=name, max_zoom=19, max_native_zoom=18,
                             subdomains=subdomains, overlay=True, control=False)
    fg = tiles_group(tiles, name=name, failed_message=failed_message)
    if gcj and centre is not None:
        fg.add_child(GcjTileShift(tiles, lon=centre[0], lat=centre[1]))
    return fg


def tiles_group(tiles: folium.TileLayer, *, name: str, failed_message: str) -> folium.FeatureGroup:
    """``tiles`` in a swappable feature group, with the :class:`TileNotice` that says when they fail."""
    fg = folium.FeatureGroup(name=name, show=True, control=False)
    fg.add_child(RememberShown("tiles", show=True))
    tiles.add_to(fg)
    fg.add_child(TileNotice(tiles, message=failed_message))
    return fg
