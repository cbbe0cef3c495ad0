"""Start the map app with its libraries already imported: ``python apps/serve.py [streamlit options]``.

``streamlit run apps/streamlit_app.py`` imports geoplan, geopandas, folium ... only when the first
browser connects, so the first page waits for them (several seconds). This launcher imports them
(not streamlit_folium: a component must be declared once the server runs, or its files answer 404)
while the server starts, then hands over to Streamlit's own command line (``streamlit run`` with the
same options). ``make app`` uses it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import folium  # noqa: F401  - imported now so the first page does not wait for it
import folium.plugins  # noqa: F401
import geopandas  # noqa: F401
from streamlit.web import cli

import geoplan.areas  # noqa: F401
import geoplan.placement.cache  # noqa: F401
import geoplan.webmap  # noqa: F401
import geoplan.workspace  # noqa: F401

APP = Path(__file__).resolve().parent / "streamlit_app.py"

if __name__ == "__main__":
    sys.argv = ["streamlit", "run", str(APP), *sys.argv[1:]]
    sys.exit(cli.main())
