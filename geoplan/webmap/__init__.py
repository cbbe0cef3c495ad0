"""Map helpers for the Streamlit app; imported by the app only (``import geoplan`` skips folium)."""

from ._offline import ST_FOLIUM_BASE_URL, STREAMLIT_STATIC_URL, asset_urls_in_html, use_local_assets
from .map import BASEMAPS, PointData, base_map, districts_geojson, plan_layers, planned_points
from .overlay import Overlay, coverage_grid, coverage_overlay, population_overlay
from .siting import inventory_points, siting_layers, zones_geojson

__all__ = [
    "ST_FOLIUM_BASE_URL",
    "STREAMLIT_STATIC_URL",
    "asset_urls_in_html",
    "use_local_assets",
    "BASEMAPS",
    "base_map",
    "districts_geojson",
    "plan_layers",
    "PointData",
    "planned_points",
    "Overlay",
    "coverage_grid",
    "coverage_overlay",
    "population_overlay",
    "inventory_points",
    "siting_layers",
    "zones_geojson",
]
