"""Map helpers for the Streamlit app; imported by the app only (``import geoplan`` skips folium)."""

from ._offline import STREAMLIT_STATIC_URL, asset_urls_in_html, use_local_assets

__all__ = ["STREAMLIT_STATIC_URL", "asset_urls_in_html", "use_local_assets"]
