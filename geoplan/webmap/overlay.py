"""Grids on the web map as PNG image overlays: population density and 5G coverage.

A 100 m population grid of a city has ~10⁵ populated cells; as vector cells it
would be tens of megabytes of GeoJSON that a browser takes minutes to draw. As
an image it is ~0.1 MB. The grid is classified in its own CRS, warped to Web
Mercator (EPSG:3857, the CRS Leaflet draws in) with nearest-neighbour
resampling so class codes stay codes, coloured, and encoded as PNG in memory;
Leaflet stretches it over its latitude/longitude bounds.

The coverage grid (:func:`geoplan.coverage_grid.coverage_grid`, re-exported here) has one code per populated cell:
0 not covered, 1 covered by existing sites, 2 newly covered by the plan (and
by sites a planner drew), 255 no population. It is also the ``coverage``
layer of an export.
"""

from __future__ import annotations

import base64
import functools
import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import folium
import numpy as np
import rasterio.warp
from affine import Affine
from numpy.typing import ArrayLike, NDArray
from pyproj import CRS, Transformer
from rasterio.errors import NotGeoreferencedWarning
from rasterio.io import MemoryFile

from geoplan.coverage_grid import coverage_grid
from geoplan.errors import CRSError, Problem, ValidationError
from geoplan.io import Raster
from geoplan.population import cell_area_km2

__all__ = [
    "NODATA",
    "POPULATION_BREAKS_KM2",
    "POPULATION_COLOURS",
    "COVERAGE_CLASSES",
    "Overlay",
    "classify",
    "rgba_image",
    "png_bytes",
    "warp_to_web_mercator",
    "population_overlay",
    "coverage_grid",
    "coverage_overlay",
    "SITE_DENSITY_BREAKS_KM2",
    "SITE_DENSITY_COLOURS",
    "site_density_overlay",
]

log = logging.getLogger(__name__)

#: Class code of cells drawn transparent (no population, outside the districts).
NODATA = 255
#: Lower bounds of the population density classes, residents per km².
POPULATION_BREAKS_KM2: tuple[float, ...] = (1.0, 500.0, 1_500.0, 5_000.0, 10_000.0, 20_000.0, 40_000.0)
#: RGBA of each population class (yellow → dark red, ColorBrewer YlOrRd).
POPULATION_COLOURS: tuple[tuple[int, int, int, int], ...] = (
    (255, 255, 178, 150),
    (254, 217, 118, 165),
    (254, 178, 76, 180),
    (253, 141, 60, 190),
    (240, 59, 32, 200),
    (189, 0, 38, 210),
    (128, 0, 38, 220),
)
#: Coverage code → (label, RGBA).
COVERAGE_CLASSES: dict[int, tuple[str, tuple[int, int, int, int]]] = {
    0: ("not covered", (215, 48, 39, 190)),
    1: ("covered by existing sites", (116, 173, 209, 110)),
    2: ("newly covered by the plan", (26, 152, 80, 210)),
}
_WEB_MERCATOR = CRS.from_epsg(3857)


@dataclass(frozen=True)
class Overlay:
    """A PNG image and where it goes on the map.

    Attributes
    ----------
    png : bytes
        The image, RGBA, rows north to south, pixels square in Web Mercator.
    bounds : ((float, float), (float, float))
        ``((south, west), (north, east))`` in degrees, Leaflet's order.
    """

    png: bytes
    bounds: tuple[tuple[float, float], tuple[float, float]]

    @property
    def data_url(self) -> str:
        """The PNG as a ``data:`` URL (no file or server needed)."""
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")

    def to_folium(self, *, name: str, opacity: float = 1.0, show: bool = True) -> folium.raster_layers.ImageOverlay:
        """A Leaflet image overlay of this image (pixelated: cells stay crisp when zoomed in)."""
        return folium.raster_layers.ImageOverlay(self.data_url, bounds=[list(b) for b in self.bounds], name=name,
                                                 opacity=opacity, show=show, interactive=False,
                                                 cross_origin=False, zindex=1, className="geoplan-grid")


def classify(values: ArrayLike, breaks: Sequence[float], *, valid: ArrayLike | None = None) -> NDArray[np.uint8]:
    """Class index of each value: ``k`` for ``breaks[k] <= v < breaks[k+1]``, :data:`NODATA` below ``breaks[0]``.

    Examples
    --------
    >>> classify(np.array([0.0, 1.0, 600.0, 1e6]), (1.0, 500.0)).tolist()
    [255, 0, 1, 1]
    """
    v = np.asarray(values, dtype=float)
    ok = np.isfinite(v) & (v >= breaks[0])
    if valid is not None:
        ok &= np.asarray(valid, dtype=bool)
    k = np.searchsorted(np.asarray(breaks, dtype=float), np.where(ok, v, breaks[0]), side="right") - 1
    return np.where(ok, k, NODATA).astype(np.uint8)


def rgba_image(classes: NDArray[np.uint8], palette: dict[int, tuple[int, int, int, int]]) -> NDArray[np.uint8]:
    """``(h, w, 4)`` RGBA image of a class grid; classes without a colour are transparent."""
    lut = np.zeros((256, 4), dtype=np.uint8)
    for k, rgba in palette.items():
        lut[k] = rgba
    return lut[classes]


def png_bytes(rgba: NDArray[np.uint8]) -> bytes:
    """Encode an ``(h, w, 4)`` uint8 image as PNG, in memory (GDAL's PNG driver)."""
    img = np.asarray(rgba, dtype=np.uint8)
    if img.ndim != 3 or img.shape[2] != 4:
        raise ValueError(f"an RGBA image has shape (h, w, 4), not {img.shape}")
    h, w, _ = img.shape
    with warnings.catch_warnings(), MemoryFile() as mem:
        warnings.simplefilter("ignore", NotGeoreferencedWarning)  # a PNG for the browser needs no georeference
        with mem.open(driver="PNG", width=w, height=h, count=4, dtype="uint8") as dst:
            dst.write(np.moveaxis(img, 2, 0))
        return bytes(mem.read())


@functools.lru_cache(maxsize=16)
def _web_mercator_grid(src_wkt: str, transform: tuple[float, ...], h: int, w: int) -> tuple[Affine, int, int]:
    """Web Mercator grid covering a source grid (the same for every overlay of one project: cached)."""
    t = Affine(*transform)
    xs = [t.c, t.c + t.a * w]
    ys = [t.f, t.f + t.e * h]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Use `@` matmul", category=PendingDeprecationWarning)
        dst, width, height = rasterio.warp.calculate_default_transform(
            src_wkt, _WEB_MERCATOR.to_wkt(), w, h, left=min(xs), bottom=min(ys), right=max(xs), top=max(ys))
    return dst, int(width), int(height)


def warp_to_web_mercator(classes: NDArray[np.uint8], raster: Raster) -> tuple[NDArray[np.uint8],
                                                                              tuple[tuple[float, float],
                                                                                    tuple[float, float]]]:
    """Warp a class grid on ``raster``'s grid to Web Mercator (nearest neighbour).

    Returns the warped grid (:data:`NODATA` where nothing falls) and its bounds
    ``((south, west), (north, east))`` in degrees.
    """
    if raster.crs is None:
        raise CRSError(Problem(raster.name, "CRS", "the raster has no CRS", "assign the CRS of its grid"))
    if classes.shape != raster.values.shape:
        raise ValidationError(Problem(raster.name, None, f"class grid {classes.shape} does not match the raster "
                                      f"{raster.values.shape}", "classify the raster's own values"))
    h, w = classes.shape
    src_crs = raster.crs.to_wkt()
    dst_crs = _WEB_MERCATOR.to_wkt()
    transform, width, height = _web_mercator_grid(src_crs, tuple(raster.transform)[:6], h, w)
    with warnings.catch_warnings():
        # rasterio 1.4 multiplies Affine objects with `*`, which affine 2.4+ flags as pending deprecation
        warnings.filterwarnings("ignore", message="Use `@` matmul", category=PendingDeprecationWarning)
        out = np.full((height, width), NODATA, dtype=np.uint8)
        rasterio.warp.reproject(classes, out, src_transform=raster.transform, src_crs=src_crs, src_nodata=NODATA,
                                dst_transform=transform, dst_crs=dst_crs, dst_nodata=NODATA,
                                resampling=rasterio.warp.Resampling.nearest)
    x0, y0 = transform.c, transform.f
    x1, y1 = x0 + transform.a * width, y0 + transform.e * height
    lon, lat = Transformer.from_crs(_WEB_MERCATOR, 4326, always_xy=True).transform([x0, x1], [y1, y0])
    return out, ((float(lat[0]), float(lon[0])), (float(lat[1]), float(lon[1])))


def population_overlay(raster: Raster, *, breaks: Sequence[float] = POPULATION_BREAKS_KM2,
                       colours: Sequence[tuple[int, int, int, int]] = POPULATION_COLOURS) -> Overlay:
    """The population grid as residents per km², classed by ``breaks``, as a PNG overlay.

    Examples
    --------
    >>> from affine import Affine
    >>> r = Raster(np.array([[0.0, 10.0], [100.0, 500.0]]), Affine(100, 0, 600_000, 0, -100, 2_700_200),
    ...            CRS.from_epsg(4548), -1.0)
    >>> ov = population_overlay(r)
    >>> ov.png[:4], round(ov.bounds[0][0], 2)
    (b'\\x89PNG', 24.4)
    """
    if len(breaks) != len(colours):
        raise ValueError(f"{len(breaks)} breaks but {len(colours)} colours")
    rows = np.broadcast_to(np.arange(raster.values.shape[0])[:, None], raster.values.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        density = raster.values / cell_area_km2(raster, rows)
    classes = classify(density, breaks, valid=raster.valid)
    warped, bounds = warp_to_web_mercator(classes, raster)
    return Overlay(png_bytes(rgba_image(warped, dict(enumerate(colours)))), bounds)


def coverage_overlay(grid: Raster) -> Overlay:
    """A coverage grid (:func:`coverage_grid`) as a PNG overlay coloured by :data:`COVERAGE_CLASSES`."""
    classes = np.where(grid.valid, grid.values, NODATA).astype(np.uint8)
    warped, bounds = warp_to_web_mercator(classes, grid)
    return Overlay(png_bytes(rgba_image(warped, {k: c for k, (_, c) in COVERAGE_CLASSES.items()})), bounds)


#: Lower bounds of the site density classes (sites per km²) drawn at city zoom instead of the points.
SITE_DENSITY_BREAKS_KM2: tuple[float, ...] = (0.5, 2.0, 5.0, 10.0, 20.0)
#: RGBA of each site density class (ColorBrewer Purples).
SITE_DENSITY_COLOURS: tuple[tuple[int, int, int, int], ...] = (
    (218, 218, 235, 120), (188, 189, 220, 150), (158, 154, 200, 175), (117, 107, 177, 195), (84, 39, 143, 215))


def site_density_overlay(raster: Raster, xy: ArrayLike, *, cell_m: float = 500.0) -> Overlay:
    """Sites per km² on a ``cell_m`` grid aligned with ``raster`` (metric CRS), as a PNG overlay.

    At city zoom thousands of site markers hide the district map underneath;
    this image shows where the sites are without catching the pointer.

    Examples
    --------
    >>> from affine import Affine
    >>> r = Raster(np.zeros((20, 20)), Affine(100, 0, 600_000, 0, -100, 2_702_000), CRS.from_epsg(4548), -1.0)
    >>> site_density_overlay(r, [[600_050.0, 2_701_950.0]] * 3).png[:4]
    b'\x89PNG'
    """
    t = raster.transform
    k = max(1, int(round(cell_m / abs(t.a))))
    h, w = -(-raster.values.shape[0] // k), -(-raster.values.shape[1] // k)
    pts = np.asarray(xy, dtype=float).reshape(-1, 2)
    col = np.floor((pts[:, 0] - t.c) / (t.a * k)).astype(np.int64)
    row = np.floor((pts[:, 1] - t.f) / (t.e * k)).astype(np.int64)
    ok = (row >= 0) & (row < h) & (col >= 0) & (col < w)
    counts = np.bincount(row[ok] * w + col[ok], minlength=h * w).reshape(h, w).astype(float)
    coarse = Raster(counts, Affine(t.a * k, t.b, t.c, t.d, t.e * k, t.f), raster.crs, None, "site density")
    area_km2 = abs(t.a * t.e) * k * k / 1e6
    classes = classify(counts / area_km2, SITE_DENSITY_BREAKS_KM2, valid=counts > 0)
    warped, bounds = warp_to_web_mercator(classes, coarse)
    return Overlay(png_bytes(rgba_image(warped, dict(enumerate(SITE_DENSITY_COLOURS)))), bounds)
