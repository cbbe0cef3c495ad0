"""The map loads every JS/CSS/image/font from apps/static (no internet on the intranet)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urljoin

import numpy as np
import pytest

folium = pytest.importorskip("folium")
from branca.colormap import LinearColormap  # noqa: E402
from folium import plugins  # noqa: E402

from geoplan.errors import ConfigError  # noqa: E402
from geoplan.webmap import ST_FOLIUM_BASE_URL, asset_urls_in_html, use_local_assets  # noqa: E402
from geoplan.webmap._offline import (  # noqa: E402
    GENERATED_FILES,
    LOCAL_PATH_OF_URL,
    VENDORED_PACKAGES,
)

from .conftest import REPO_ROOT  # noqa: E402

STATIC = REPO_ROOT / "apps" / "static"
BASE = "/app/static"
FONT_FACE = re.compile(r"@font-face\s*{([^}]*)}")
CSS_URL = re.compile(r"url\(\s*['\"]?([^'\")]+)['\"]?\s*\)")


def _map_with_plugins(seed: int = 0) -> folium.Map:
    """A map with every element the app uses: Draw, MarkerCluster, GeoJson, ImageOverlay, LayerControl."""
    rng = np.random.default_rng(seed)
    m = folium.Map(location=[24.48, 118.1], zoom_start=11, tiles=None, maxZoom=18)
    plugins.Draw(export=False).add_to(m)
    cluster = plugins.MarkerCluster(name="sites").add_to(m)
    for lat, lon in zip(24.4 + 0.2 * rng.random(5), 118.0 + 0.2 * rng.random(5), strict=True):
        folium.Marker([lat, lon], icon=folium.Icon(icon="signal", prefix="fa", angle=30)).add_to(cluster)
    folium.Marker([24.5, 118.1]).add_to(m)  # Leaflet's default icon
    polygon = [[118.0, 24.4], [118.2, 24.4], [118.2, 24.6], [118.0, 24.6], [118.0, 24.4]]
    feature = {
        "type": "Feature",
        "properties": {"name": "思明区"},
        "geometry": {"type": "Polygon", "coordinates": [polygon]},
    }
    folium.GeoJson(
        {"type": "FeatureCollection", "features": [feature]},
        name="districts",
        tooltip=folium.GeoJsonTooltip(["name"]),
    ).add_to(m)
    image = rng.integers(0, 255, size=(8, 8, 4), dtype=np.uint8)
    bounds = [[24.4, 118.0], [24.6, 118.2]]
    folium.raster_layers.ImageOverlay(image, bounds=bounds, name="population").add_to(m)
    folium.LayerControl().add_to(m)
    return m


def _static_file(url: str, *, base_url: str = BASE) -> Path:
    assert url.startswith(base_url + "/"), url
    return STATIC / url[len(base_url) + 1 :]


def test_folium_links_cdns_before_rewrite():
    urls = asset_urls_in_html(_map_with_plugins().get_root().render())
    assert all(u.startswith("https://") for u in urls)
    assert set(urls) == set(LOCAL_PATH_OF_URL), "folium's links changed: update LOCAL_PATH_OF_URL"


def test_no_external_asset_remains_and_every_file_exists():
    m = use_local_assets(_map_with_plugins(), base_url=BASE)
    urls = asset_urls_in_html(m.get_root().render())
    assert len(urls) == len(LOCAL_PATH_OF_URL) == 15
    assert [u for u in urls if not u.startswith(BASE + "/vendor/")] == []
    missing = [u for u in urls if not _static_file(u).is_file()]
    assert missing == [], "run `python scripts/vendor_web_assets.py`"


def test_other_maps_keep_folium_defaults():
    use_local_assets(_map_with_plugins(), base_url=BASE)
    assert folium.Map.default_js[0][1].startswith("https://")
    assert plugins.Draw.default_js[0][1].startswith("https://")


def test_idempotent_and_sets_leaflet_icon_path_before_markers():
    m = use_local_assets(use_local_assets(_map_with_plugins(), base_url=BASE + "/"), base_url=BASE)
    html = m.get_root().render()
    paths = re.findall(r'L\.Icon\.Default\.imagePath = "([^"]+)"', html)
    assert paths == [BASE + "/vendor/leaflet-1.9.3/dist/images/"]
    assert html.index("L.Icon.Default.imagePath") < html.index("L.marker(")
    assert (_static_file(paths[0]) / "marker-icon.png").is_file()
    assert all(u.startswith(BASE + "/vendor/") for u in asset_urls_in_html(html))


def test_css_references_resolve():
    m = use_local_assets(_map_with_plugins(), base_url=BASE)
    css_files = [_static_file(u) for u in asset_urls_in_html(m.get_root().render()) if u.endswith(".css")]
    assert len(css_files) == 9
    n_refs = 0
    for css in css_files:
        text = css.read_text(encoding="utf-8")
        for face in FONT_FACE.findall(text):  # a browser needs one loadable source per font
            sources = [(css.parent / u.split("?")[0].split("#")[0]).resolve() for u in CSS_URL.findall(face)]
            assert any(p.is_file() for p in sources), f"{css}: no font file of {sources}"
        rest = FONT_FACE.sub("", text)
        for ref in CSS_URL.findall(rest):
            if ref.startswith(("data:", "#")):
                continue
            n_refs += 1
            assert (css.parent / ref).is_file(), f"{css} refers to missing {ref}"
    assert n_refs >= 10  # leaflet, draw and awesome-markers images


def test_st_folium_sends_only_local_links(monkeypatch):
    st_folium_module = pytest.importorskip("streamlit_folium")
    sent: dict = {}
    monkeypatch.setattr(st_folium_module, "_component_func", lambda **kw: sent.update(kw))
    m = use_local_assets(_map_with_plugins(), base_url=ST_FOLIUM_BASE_URL)
    group = folium.FeatureGroup(name="planned")
    plugins.MarkerCluster().add_to(group)
    use_local_assets(group, base_url=ST_FOLIUM_BASE_URL)
    st_folium_module.st_folium(m, key="map", feature_group_to_add=group, returned_objects=["all_drawings"])
    links = sent["js_links"] + sent["css_links"]
    assert len(links) == 15
    iframe = "http://intranet.example/geo/component/streamlit_folium.st_folium/index.html"
    for link in links:  # resolved as the browser does, from the component iframe
        absolute = urljoin(iframe, link)
        assert absolute.startswith("http://intranet.example/geo/app/static/vendor/"), link
        assert _static_file(absolute, base_url="http://intranet.example/geo/app/static").is_file()
    assert 'L.Icon.Default.imagePath = "../../app/static/vendor/leaflet-1.9.3/dist/images/"' in sent["script"]


def test_unvendored_plugin_is_refused_with_its_url():
    m = _map_with_plugins()
    plugins.Fullscreen().add_to(m)
    with pytest.raises(ConfigError, match=r"Fullscreen: https://cdn\.jsdelivr\.net/npm/leaflet\.fullscreen"):
        use_local_assets(m, base_url=BASE)


def test_colormap_is_refused():
    m = _map_with_plugins()
    LinearColormap(["white", "red"], vmin=0, vmax=1).add_to(m)
    with pytest.raises(ConfigError, match="colormap"):
        use_local_assets(m, base_url=BASE)


def test_asset_urls_in_html_reads_tags_not_scripts():
    html = (
        '<link rel="stylesheet" href="/a.css"/><script src="/b.js"></script>'
        '<script>L.tileLayer("https://tile.example/{z}/{x}/{y}.png"); var s = "<img src=\'https://x/y.png\'>";</script>'
        '<img src="https://cdn.example/c.png"><script src="/b.js"></script>'
    )
    assert asset_urls_in_html(html) == ["/a.css", "/b.js", "https://cdn.example/c.png"]


def test_vendored_tree_matches_declaration():
    declared = {pkg.local(f) for pkg in VENDORED_PACKAGES for f in pkg.files} | set(GENERATED_FILES)
    present = {p.relative_to(STATIC).as_posix() for p in (STATIC / "vendor").rglob("*") if p.is_file()}
    assert present == declared
    assert set(LOCAL_PATH_OF_URL.values()) <= declared
    assert sum((STATIC / f).stat().st_size for f in present) < 2_000_000


def test_import_geoplan_does_not_import_folium():
    code = "import sys, geoplan; sys.exit(int(any(m in sys.modules for m in ('folium', 'streamlit'))))"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
