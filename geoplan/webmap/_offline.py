"""Serve folium's JavaScript and CSS from the app's own ``static/`` folder (no internet needed).

folium and its plugins link Leaflet, jQuery, Bootstrap, Font Awesome, Leaflet.draw, ... from public
CDNs. On an intranet those requests fail, the ``st_folium`` component never creates the map and its
iframe stays at height 0. :func:`use_local_assets` points every such link at a copy vendored under
``apps/static/vendor/`` (recreated by ``scripts/vendor_web_assets.py`` from the npm registry), which
Streamlit serves at ``/app/static/...`` when ``server.enableStaticServing`` is true.

Tile layers are not assets: a map meant for the intranet uses ``tiles=None`` or an intranet tile URL.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import TypeVar

import branca.colormap
import branca.element
import folium
from folium.elements import JSCSSMixin
from folium.template import Template

from geoplan.errors import ConfigError

__all__ = [
    "STREAMLIT_STATIC_URL",
    "ST_FOLIUM_BASE_URL",
    "VENDORED_PACKAGES",
    "VendoredPackage",
    "GENERATED_FILES",
    "LOCAL_PATH_OF_URL",
    "use_local_assets",
    "asset_urls_in_html",
]

logger = logging.getLogger(__name__)

#: Where Streamlit serves ``<app dir>/static/`` with ``server.enableStaticServing = true``.
STREAMLIT_STATIC_URL = "/app/static"

#: The same folder seen from inside the ``st_folium`` iframe
#: (``<server.baseUrlPath>/component/streamlit_folium.st_folium/index.html``): relative, so it also
#: works when the app is served under a ``server.baseUrlPath`` behind a reverse proxy.
ST_FOLIUM_BASE_URL = "../../app/static"


@dataclass(frozen=True)
class VendoredPackage:
    """An npm package whose files are copied to ``apps/static/vendor/<folder>/``.

    Parameters
    ----------
    name : str
        npm package name, as given to ``npm pack``.
    version : str
        Exact version; matches the version folium's CDN links name.
    licence : str
        SPDX licence expression from the package's ``package.json``.
    files : tuple of str
        Paths inside the tarball's ``package/`` folder to copy (the files folium links plus the
        images and fonts their CSS refers to, and the licence file where the package ships one).
    """

    name: str
    version: str
    licence: str
    files: tuple[str, ...]

    @property
    def folder(self) -> str:
        """Folder under ``vendor/``: the unscoped package name and the version."""
        return f"{self.name.rsplit('/', 1)[-1]}-{self.version}"

    def local(self, path: str) -> str:
        """Path under the static folder of ``path`` (a path inside the package)."""
        return f"vendor/{self.folder}/{path}"


_LEAFLET = VendoredPackage(
    "leaflet",
    "1.9.3",
    "BSD-2-Clause",
    (
        "LICENSE",
        "dist/leaflet.js",
        "dist/leaflet.css",
        "dist/images/layers.png",
        "dist/images/layers-2x.png",
        "dist/images/marker-icon.png",
        "dist/images/marker-icon-2x.png",
        "dist/images/marker-shadow.png",
    ),
)
_JQUERY = VendoredPackage("jquery", "3.7.1", "MIT", ("LICENSE.txt", "dist/jquery.min.js"))
_BOOTSTRAP = VendoredPackage(
    "bootstrap",
    "5.2.2",
    "MIT",
    ("LICENSE", "dist/js/bootstrap.bundle.min.js", "dist/css/bootstrap.min.css"),
)
# folium links bootstrap 3.0.0's separate glyphicons sheet (folium.Icon's default prefix is
# "glyphicon"); 3.0.0 is not on npm, so the glyphicons section of 3.4.1 is cut out (see GENERATED_FILES).
_BOOTSTRAP3 = VendoredPackage(
    "bootstrap",
    "3.4.1",
    "MIT",
    (
        "LICENSE",
        "dist/fonts/glyphicons-halflings-regular.woff2",
        "dist/fonts/glyphicons-halflings-regular.woff",
    ),
)
_FONTAWESOME = VendoredPackage(
    "@fortawesome/fontawesome-free",
    "6.2.0",
    "(CC-BY-4.0 AND OFL-1.1 AND MIT)",
    (
        "LICENSE.txt",
        "css/all.min.css",
        "webfonts/fa-brands-400.woff2",
        "webfonts/fa-regular-400.woff2",
        "webfonts/fa-solid-900.woff2",
        "webfonts/fa-v4compatibility.woff2",
    ),
)
# The original Leaflet.awesome-markers 2.0.2 release (the one cdnjs serves), republished on npm
# as drmonty-leaflet-awesome-markers; npm's leaflet.awesome-markers 2.0.x is a different fork.
_AWESOME_MARKERS = VendoredPackage(
    "drmonty-leaflet-awesome-markers",
    "2.0.2",
    "MIT",
    (
        "js/leaflet.awesome-markers.js",
        "css/leaflet.awesome-markers.css",
        "css/images/markers-soft.png",
        "css/images/markers-soft@2x.png",
        "css/images/markers-shadow.png",
        "css/images/markers-shadow@2x.png",
    ),
)
_DRAW = VendoredPackage(
    "leaflet-draw",
    "1.0.2",
    "MIT",
    (
        "dist/leaflet.draw.js",
        "dist/leaflet.draw.css",
        "dist/images/spritesheet.png",
        "dist/images/spritesheet-2x.png",
        "dist/images/spritesheet.svg",
    ),
)
_CLUSTER = VendoredPackage(
    "leaflet.markercluster",
    "1.1.0",
    "MIT",
    (
        "MIT-LICENCE.txt",
        "dist/leaflet.markercluster.js",
        "dist/MarkerCluster.css",
        "dist/MarkerCluster.Default.css",
    ),
)

#: Every npm package vendored, in the order ``scripts/vendor_web_assets.py`` fetches them.
VENDORED_PACKAGES: tuple[VendoredPackage, ...] = (
    _LEAFLET,
    _JQUERY,
    _BOOTSTRAP,
    _BOOTSTRAP3,
    _FONTAWESOME,
    _AWESOME_MARKERS,
    _DRAW,
    _CLUSTER,
)

_GLYPHICONS_CSS = _BOOTSTRAP3.local("dist/css/bootstrap-glyphicons.css")
_ROTATE_CSS = "vendor/folium/leaflet.awesome.rotate.css"

#: Files written by ``scripts/vendor_web_assets.py`` rather than copied (path under static/ → how).
GENERATED_FILES: dict[str, str] = {
    _GLYPHICONS_CSS: (
        "the 'Glyphicons Halflings' @font-face and .glyphicon rules cut from bootstrap 3.4.1's "
        "dist/css/bootstrap.css"
    ),
    _ROTATE_CSS: ".fa-rotate-1 ... .fa-rotate-360 transform rules, the classes folium.Icon(angle=...) sets",
}

#: CDN URL that folium (0.20) or one of its plugins links → path of the local copy under static/.
LOCAL_PATH_OF_URL: dict[str, str] = {
    # folium.Map
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js": _LEAFLET.local("dist/leaflet.js"),
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css": _LEAFLET.local("dist/leaflet.css"),
    "https://code.jquery.com/jquery-3.7.1.min.js": _JQUERY.local("dist/jquery.min.js"),
    "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/js/bootstrap.bundle.min.js": _BOOTSTRAP.local(
        "dist/js/bootstrap.bundle.min.js"
    ),
    "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/css/bootstrap.min.css": _BOOTSTRAP.local(
        "dist/css/bootstrap.min.css"
    ),
    "https://netdna.bootstrapcdn.com/bootstrap/3.0.0/css/bootstrap-glyphicons.css": _GLYPHICONS_CSS,
    "https://cdn.jsdelivr.net/npm/@fortawesome/fontawesome-free@6.2.0/css/all.min.css": _FONTAWESOME.local(
        "css/all.min.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.js": (
        _AWESOME_MARKERS.local("js/leaflet.awesome-markers.js")
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.css": (
        _AWESOME_MARKERS.local("css/leaflet.awesome-markers.css")
    ),
    "https://cdn.jsdelivr.net/gh/python-visualization/folium/folium/templates/leaflet.awesome.rotate.min.css": (
        _ROTATE_CSS
    ),
    # folium.plugins.Draw
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.draw/1.0.2/leaflet.draw.js": _DRAW.local(
        "dist/leaflet.draw.js"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.draw/1.0.2/leaflet.draw.css": _DRAW.local(
        "dist/leaflet.draw.css"
    ),
    # folium.plugins.MarkerCluster
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/leaflet.markercluster.js": (
        _CLUSTER.local("dist/leaflet.markercluster.js")
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.css": _CLUSTER.local(
        "dist/MarkerCluster.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.Default.css": (
        _CLUSTER.local("dist/MarkerCluster.Default.css")
    ),
}

E = TypeVar("E", bound=branca.element.Element)


class _DefaultIconPath(branca.element.MacroElement):
    """Sets ``L.Icon.Default.imagePath`` before any marker is made.

    Leaflet guesses the folder of its default marker images from leaflet.css; inside ``st_folium``
    the map script runs before that CSS has loaded, and the fallback guess drops ``/images/``
    (``.../distmarker-icon.png``), so drawn markers show as broken images.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            L.Icon.Default.imagePath = {{ this.image_path|tojson }};
        {% endmacro %}
        """
    )

    def __init__(self, image_path: str) -> None:
        super().__init__()
        self._name = "DefaultIconPath"
        self.image_path = image_path


def _walk(element: branca.element.Element) -> Iterator[branca.element.Element]:
    yield element
    for child in element._children.values():
        yield from _walk(child)


def _localise(
    links: list[tuple[str, str]], *, base_url: str, element: str, unknown: list[str]
) -> list[tuple[str, str]]:
    out = []
    for name, url in links:
        if url.startswith(base_url + "/"):  # already local (use_local_assets called twice)
            out.append((name, url))
        elif url in LOCAL_PATH_OF_URL:
            out.append((name, f"{base_url}/{LOCAL_PATH_OF_URL[url]}"))
        else:
            unknown.append(f"{element}: {url}")
    return out


def use_local_assets(m: E, *, base_url: str) -> E:
    """Point every JS/CSS link of a folium map (or feature group) at the vendored copies.

    Rewrites ``default_js`` / ``default_css`` on each element of ``m``'s tree (on the instances,
    not the classes, so other maps in the same process are untouched), and on a ``folium.Map``
    sets Leaflet's default marker image folder explicitly. Call it after the last
    plugin is added; pass every ``FeatureGroup`` given to ``st_folium(feature_group_to_add=...)``
    through it too, since ``st_folium`` collects those groups' links as well.

    Parameters
    ----------
    m : folium.Map or any folium element
        The map (or feature group) whose links to rewrite, in place.
    base_url : str
        URL at which ``apps/static/`` is served, without trailing slash. For a map shown with
        ``st_folium`` (``server.enableStaticServing = true``) use :data:`ST_FOLIUM_BASE_URL`, which
        works under any ``server.baseUrlPath``; :data:`STREAMLIT_STATIC_URL` (``/app/static``) works
        only without one.

    Returns
    -------
    same type as ``m``
        ``m`` itself, for chaining.

    Raises
    ------
    ConfigError
        If an element links a URL with no vendored copy (a plugin not vendored yet, or a folium
        upgrade that moved a version), or if the map holds a branca colormap, whose d3 library
        ``st_folium`` always loads from a public CDN.

    Examples
    --------
    >>> import folium
    >>> m = use_local_assets(folium.Map(tiles=None), base_url="/app/static")
    >>> asset_urls_in_html(m.get_root().render())[0]
    '/app/static/vendor/leaflet-1.9.3/dist/leaflet.js'
    """
    base_url = base_url.rstrip("/")
    unknown: list[str] = []
    colormaps: list[str] = []
    n_rewritten = 0
    for element in _walk(m):
        if isinstance(element, branca.colormap.ColorMap):
            colormaps.append(type(element).__name__)
        if isinstance(element, JSCSSMixin):
            label = type(element).__name__
            element.default_js = _localise(
                element.default_js, base_url=base_url, element=label, unknown=unknown
            )
            element.default_css = _localise(
                element.default_css, base_url=base_url, element=label, unknown=unknown
            )
            n_rewritten += 1
    if colormaps:
        raise ConfigError(
            f"the map holds a branca colormap ({', '.join(colormaps)}); st_folium loads d3 for it "
            "from a public CDN, which an intranet cannot reach. Fix: do not add the colormap to the "
            "map; show the legend beside it (st.caption / st.image) instead."
        )
    if unknown:
        raise ConfigError(
            "no local copy of these map assets:\n- "
            + "\n- ".join(dict.fromkeys(unknown))
            + "\nFix: add the npm package and file to VENDORED_PACKAGES and the URL to "
            "LOCAL_PATH_OF_URL in geoplan/webmap/_offline.py, then run "
            "`python scripts/vendor_web_assets.py`; or leave that plugin off the map."
        )
    if isinstance(m, folium.Map) and not any(isinstance(c, _DefaultIconPath) for c in m._children.values()):
        m.add_child(_DefaultIconPath(f"{base_url}/{_LEAFLET.local('dist/images/')}"), index=0)
    logger.debug("pointed %d folium elements at %s/vendor", n_rewritten, base_url)
    return m


class _AssetLinks(HTMLParser):
    """Collects src/href of <script>, <link>, <img>, <iframe>, <source> tags (not inside scripts)."""

    _TAGS = {"script": "src", "link": "href", "img": "src", "iframe": "src", "source": "src"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = self._TAGS.get(tag)
        for key, value in attrs:
            if key == wanted and value:
                self.urls.append(value)

    handle_startendtag = handle_starttag


def asset_urls_in_html(html: str) -> list[str]:
    """URLs of the files a page loads through tags: script src, link href, img/iframe/source src.

    Tile URLs live in JavaScript strings, not tags, so they are not listed; neither is markup
    inside scripts (popup HTML).

    Parameters
    ----------
    html : str
        A rendered page, e.g. ``m.get_root().render()``.

    Returns
    -------
    list of str
        The URLs in document order, each once.

    Examples
    --------
    >>> asset_urls_in_html('<script src="/a.js"></script><link rel="stylesheet" href="https://x/b.css"/>')
    ['/a.js', 'https://x/b.css']
    """
    parser = _AssetLinks()
    parser.feed(html)
    parser.close()
    return list(dict.fromkeys(parser.urls))
