"""A local MBTiles / PMTiles file as the base map: checked against the project, drawn as a Leaflet layer.

- :func:`local_tiles` — serve the file (:func:`~geoplan.webmap.tileserver.serve_tile_file`)
  and check it against the project: raster tiles, a usable zoom range and bounds
  (:func:`geoplan.io.open_tile_file`), and bounds that overlap the project's
  districts (:func:`tile_fit`; a file of another city is refused).
- :func:`local_tile_group` — the file's tiles as a swappable feature group, with
  the zoom range (``minZoom``, ``minNativeZoom``, ``maxNativeZoom``), bounds and
  attribution of its metadata, and the notice that says when tiles fail to load
  (e.g. a browser on another machine that cannot reach the loopback server).
"""

from __future__ import annotations

import html
import os
import re
from dataclasses import dataclass

import folium

from geoplan.errors import ConfigError

from .basemaps import tiles_group
from .tileserver import ServedTiles, serve_tile_file

__all__ = ["CITY_ZOOM", "TileFit", "tile_fit", "local_tiles", "local_tile_group"]

#: Zoom at which a city fills the map (the app opens Xiamen at about 10): a file whose finest zoom is
#: below it shows blurred, upscaled tiles; one whose coarsest zoom is far above it shows only when zoomed in.
CITY_ZOOM = 10
_MAX_LAT = 85.0511287798
_TAG = re.compile(r"<[^>]*>")


@dataclass(frozen=True)
class TileFit:
    """How a tile file fits the project: the share of the districts' bounding box it covers, its zoom range."""

    share: float
    min_zoom: int
    max_zoom: int

    @property
    def coarse(self) -> bool:
        """Whether the file's finest tiles are coarser than a city view (they are upscaled, blurred)."""
        return self.max_zoom < CITY_ZOOM

    @property
    def zoom_in_from(self) -> int | None:
        """The zoom the planner must reach to see the tiles, when the file starts well above a city view."""
        return self.min_zoom - 2 if self.min_zoom - 2 > CITY_ZOOM else None


def tile_fit(bounds: tuple[float, float, float, float], project_bounds: tuple[float, float, float, float], *,
             min_zoom: int, max_zoom: int, name: str = "the tile file", project: str = "the project") -> TileFit:
    """Check a tile file's ``bounds`` (degrees) against the project's; refuse a file that does not overlap it.

    Raises
    ------
    ConfigError
        The file's bounds and the project's districts do not overlap.

    Examples
    --------
    >>> f = tile_fit((117.0, 24.0, 118.5, 25.0), (117.8, 24.4, 118.4, 24.9), min_zoom=8, max_zoom=14)
    >>> round(f.share, 2), f.coarse, f.zoom_in_from
    (1.0, False, None)
    """
    l0, b0, r0, t0 = bounds
    l1, b1, r1, t1 = project_bounds
    w, h = min(r0, r1) - max(l0, l1), min(t0, t1) - max(b0, b1)
    if w <= 0 or h <= 0:
        raise ConfigError(f"{name} covers {l0:.3f}–{r0:.3f}°E, {b0:.3f}–{t0:.3f}°N, which does not overlap "
                          f"{project} ({l1:.3f}–{r1:.3f}°E, {b1:.3f}–{t1:.3f}°N): its tiles would never show. "
                          "Fix: give a tile file of the project's area (or correct the file's bounds metadata)")
    area = max((r1 - l1) * (t1 - b1), 1e-12)
    return TileFit(share=min(1.0, w * h / area), min_zoom=min_zoom, max_zoom=max_zoom)


def local_tiles(path: str | os.PathLike[str], *, project_bounds: tuple[float, float, float, float],
                project: str = "the project") -> tuple[ServedTiles, TileFit]:
    """Serve a local MBTiles / PMTiles file and check it fits the project (its URL, info and fit).

    Raises :class:`~geoplan.errors.ReadError` (missing, not a tile file, vector tiles,
    bad zoom range or bounds) or :class:`~geoplan.errors.ConfigError` (no overlap with
    the project, or the tile server cannot start), each naming the file and the fix.
    """
    served = serve_tile_file(path)
    info = served.info
    fit = tile_fit(info.bounds, project_bounds, min_zoom=info.min_zoom, max_zoom=info.max_zoom,
                   name=f"tile file {info.path}", project=f"the districts of {project}")
    return served, fit


def local_tile_group(served: ServedTiles, *, name: str = "Base map tiles",
                     failed_message: str = "Tiles of the local tile file failed to load ({n} requests)"
                     ) -> folium.FeatureGroup:
    """The served file's tiles as a feature group (swapped like any base map; a notice when they fail)."""
    info = served.info
    left, bottom, right, top = info.bounds
    bottom, top = max(bottom, -_MAX_LAT), min(top, _MAX_LAT)
    # the file's attribution is HTML by the MBTiles spec: keep its text only (a file must not inject markup)
    attribution = html.escape(_TAG.sub("", info.attribution).strip()) or html.escape(f"{info.name} ({info.kind})")
    tiles = folium.TileLayer(served.url, attr=attribution, name=name, overlay=True, control=False,
                             min_zoom=max(0, info.min_zoom - 2), max_zoom=max(19, info.max_zoom),
                             max_native_zoom=info.max_zoom, min_native_zoom=info.min_zoom,
                             bounds=[[bottom, left], [top, right]])
    return tiles_group(tiles, name=name, failed_message=failed_message)
