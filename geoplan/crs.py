"""Coordinate reference systems: Chinese web-map offsets and the metric CRS.

Chinese web maps publish coordinates in two obfuscated systems that are *not*
datums PROJ knows:

* **GCJ-02** ("Mars coordinates"), used by AMap (高德), Tencent and Google China;
* **BD-09**, used by Baidu, which is GCJ-02 with a further offset.

Both are WGS84 plus a non-linear shift of a few hundred metres. This module
implements the published forward formulas vectorised in numpy and inverts them
by fixed-point iteration to better than 1e-9 degree (about 0.1 mm), far inside
the 0.01 m round-trip budget.

Inside algorithms geoplan works in CGCS2000 / 3-degree Gauss-Krüger (metres);
:func:`gk_epsg` chooses the zone from the data. At the edges it accepts WGS84,
CGCS2000 geographic (EPSG:4490, which PROJ treats as identical to WGS84 at the
centimetre level), GCJ-02 and BD-09.
"""

from __future__ import annotations

import logging
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "WEB_OFFSETS",
    "gcj02_to_wgs84",
    "wgs84_to_gcj02",
    "bd09_to_gcj02",
    "gcj02_to_bd09",
    "bd09_to_wgs84",
    "wgs84_to_bd09",
    "to_wgs84",
    "in_china",
    "gk_central_meridian",
    "gk_epsg",
    "GEOGRAPHIC_EPSG",
]

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())

WebOffset = Literal["GCJ-02", "BD-09"]
#: Declared coordinate systems that are offsets of WGS84 rather than PROJ datums.
WEB_OFFSETS: tuple[str, ...] = ("GCJ-02", "BD-09")
#: CGCS2000 geographic 2D, the national datum of 国土空间规划 data.
GEOGRAPHIC_EPSG = 4490

# Krasovsky 1940 ellipsoid, as used by the GCJ-02 algorithm.
_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = np.pi * 3000.0 / 180.0
_TOL_DEG = 1e-10
_MAX_ITER = 30


def in_china(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """Whether points fall in the rough box where the GCJ-02 shift applies.

    Outside it, the GCJ-02 algorithm leaves coordinates unchanged.
    """
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    return (lon >= 72.004) & (lon <= 137.8347) & (lat >= 0.8293) & (lat <= 55.8271)


def _shift(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """GCJ-02 minus WGS84, in degrees, evaluated at WGS84 ``lon, lat``."""
    x = lon - 105.0
    y = lat - 35.0
    sx = np.sqrt(np.abs(x))
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    tlat = (
        -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sx + common
        + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
        + (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    )
    tlon = (
        300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sx + common
        + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
        + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    )
    radlat = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (tlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (tlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    inside = in_china(lon, lat)
    return np.where(inside, dlon, 0.0), np.where(inside, dlat, 0.0)


def _as_float(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    a, b = np.broadcast_arrays(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return a.astype(float, copy=True), b.astype(float, copy=True)


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Forward GCJ-02 transform (WGS84 → GCJ-02), in degrees.

    Examples
    --------
    >>> lon, lat = wgs84_to_gcj02(118.09, 24.48)
    >>> round(float(lon) - 118.09, 5), round(float(lat) - 24.48, 5)
    (0.00498, -0.00265)
    """
    lon_, lat_ = _as_float(lon, lat)
    dlon, dlat = _shift(lon_, lat_)
    return lon_ + dlon, lat_ + dlat


def _invert(forward, lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:  # type: ignore[no-untyped-def]
    """Invert ``forward`` by fixed-point iteration: x ← x − (f(x) − target)."""
    tlon, tlat = _as_float(lon, lat)
    x, y = tlon.copy(), tlat.copy()
    for _ in range(_MAX_ITER):
        fx, fy = forward(x, y)
        ex, ey = fx - tlon, fy - tlat
        x -= ex
        y -= ey
        if np.all(np.abs(ex) < _TOL_DEG) and np.all(np.abs(ey) < _TOL_DEG):
            break
    return x, y


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Inverse GCJ-02 transform (GCJ-02 → WGS84) by iteration, error < 1e-9 degree.

    Examples
    --------
    >>> lon, lat = gcj02_to_wgs84(123.0, 45.0)
    >>> round(float(lon), 6), round(float(lat), 6)
    (122.993956, 44.998041)
    """
    return _invert(wgs84_to_gcj02, lon, lat)


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """GCJ-02 → BD-09 (Baidu), in degrees."""
    x, y = _as_float(lon, lat)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """BD-09 → GCJ-02 by iterating the forward transform, error < 1e-9 degree."""
    return _invert(gcj02_to_bd09, lon, lat)


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """WGS84 → BD-09."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """BD-09 → WGS84."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def to_wgs84(lon: ArrayLike, lat: ArrayLike, *, offset: str) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Convert coordinates declared in ``offset`` ("GCJ-02" or "BD-09") to WGS84."""
    key = offset.upper().replace("_", "-").replace("GCJ02", "GCJ-02").replace("BD09", "BD-09")
    if key == "GCJ-02":
        return gcj02_to_wgs84(lon, lat)
    if key == "BD-09":
        return bd09_to_wgs84(lon, lat)
    raise ValueError(f"unknown web-map offset {offset!r}; use one of {WEB_OFFSETS}")


def gk_central_meridian(lon: ArrayLike) -> int:
    """Central meridian (degrees E) of the 3-degree Gauss-Krüger zone holding most of ``lon``.

    Zones are centred on multiples of 3 degrees. With data straddling two zones
    (Fujian spans 117°E and 120°E), the zone of the median longitude is chosen.
    """
    med = float(np.nanmedian(np.asarray(lon, dtype=float)))
    return int(3 * round(med / 3.0))


def gk_epsg(lon: ArrayLike, *, zone_prefix: bool = False) -> int:
    """EPSG code of CGCS2000 / 3-degree Gauss-Krüger for the data's longitudes.

    Parameters
    ----------
    lon : array_like
        Longitudes in degrees (WGS84 / CGCS2000).
    zone_prefix : bool, default False
        ``False`` gives the "CM" codes (false easting 500 000 m, e.g. EPSG:4548 for
        117°E); ``True`` the codes with the zone number prefixed to the easting
        (e.g. EPSG:4527, zone 39), as many surveying deliverables expect.

    Examples
    --------
    >>> gk_epsg([118.09]), gk_epsg([118.09], zone_prefix=True), gk_epsg([119.3])
    (4548, 4527, 4549)
    """
    cm = gk_central_meridian(lon)
    if not 75 <= cm <= 135:
        raise ValueError(f"central meridian {cm}E is outside China's CGCS2000 3-degree zones (75E-135E)")
    zone = cm // 3
    # EPSG:4534..4554 are CM 75E..135E without prefix; 4513..4533 are zones 25..45 with prefix.
    return 4513 + (zone - 25) if zone_prefix else 4534 + (zone - 25)
