"""Map helpers for the Streamlit app; imported by the app only (``import geoplan`` skips folium)."""

from ._offline import ST_FOLIUM_BASE_URL, STREAMLIT_STATIC_URL, asset_urls_in_html, use_local_assets
from .basemaps import custom_basemap_url, land_layer, tile_group
from .drawings import DrawIds, DrawingSync, draw_control
from .map import BASEMAPS, PointData, base_map, districts_geojson, plan_layers, planned_points, side_layers
from .overlay import Overlay, coverage_grid, coverage_overlay, population_overlay, site_density_overlay
from .siting import inventory_points, siting_layers, zones_geojson

__all__ = [
    "ST_FOLIUM_BASE_URL",
    "STREAMLIT_STATIC_URL",
    "asset_urls_in_html",
    "use_local_assets",
    "custom_basemap_url",
    "land_layer",
    "tile_group",
    "DrawIds",
    "DrawingSync",
    "draw_control",
    "BASEMAPS",
    "base_map",
    "districts_geojson",
    "plan_layers",
    "side_layers",
    "PointData",
    "planned_points",
    "Overlay",
    "coverage_grid",
    "coverage_overlay",
    "population_overlay",
    "site_density_overlay",
    "inventory_points",
    "siting_layers",
    "zones_geojson",
]
