"""Detect common coordinate and encoding mistakes in planners' input layers.

Nothing here touches disk or raises: each function looks at data already in
memory and either returns a corrected copy (saying what it changed in the log)
or a finding the caller turns into an error or a warning.

* :func:`fix_swapped_axes` — longitude and latitude stored the wrong way round.
* :func:`fix_gk_prefix` — Gauss-Krüger coordinates with / without the zone
  number prefixed to the easting, labelled with the other kind of EPSG code.
* :func:`degrees_in_projected` and :func:`crs_hint` — what a layer's numbers
  look like, for the message when its CRS is wrong or missing.
* :func:`looks_shifted` — whether a layer sits where a GCJ-02 (AMap, Tencent)
  or BD-09 (Baidu) layer would, relative to a trusted reference layer.
* :func:`dbf_encoding` — UTF-8 or GBK text in a shapefile without ``.cpg``.
* :func:`mojibake` — text that is UTF-8 decoded in another encoding (garbled names).
"""

from __future__ import annotations

import codecs
import dataclasses
import logging
import struct
from collections.abc import Callable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS, Transformer

from .crs import GEOGRAPHIC_EPSG, bd09_to_wgs84, gcj02_to_wgs84, gk_epsg
from .errors import ValidationError

__all__ = [
    "ShiftCheck",
    "axes_swapped",
    "fix_swapped_axes",
    "gk_zone",
    "fix_gk_prefix",
    "degrees_in_projected",
    "crs_hint",
    "with_crs_hint",
    "looks_shifted",
    "warn_if_shifted",
    "dbf_encoding",
    "mojibake",
]

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())

#: Latitudes of mainland China and its islands (degrees N), longitudes (degrees E).
_CHINA_LAT = (18.0, 54.0)
_CHINA_LON = (73.0, 135.0)


def _is_geographic_or_none(gdf: gpd.GeoDataFrame) -> bool:
    return gdf.crs is None or CRS.from_user_input(gdf.crs).is_geographic


def _bounds(gdf: gpd.GeoDataFrame) -> np.ndarray | None:
    geoms = gdf.geometry.to_numpy()
    present = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    if len(present) == 0:
        return None
    b = np.asarray(shapely.total_bounds(present), dtype=float)
    return b if np.isfinite(b).all() else None


def axes_swapped(gdf: gpd.GeoDataFrame) -> bool:
    """Whether a geographic (or CRS-less) layer over China has latitude in x and longitude in y.

    True when every x lies in 18–54 (China's latitudes) and every y in 73–135
    (its longitudes): no place in China has such longitude/latitude.
    """
    if not _is_geographic_or_none(gdf):
        return False
    b = _bounds(gdf)
    if b is None:
        return False
    left, bottom, right, top = b
    return bool(_CHINA_LAT[0] <= left and right <= _CHINA_LAT[1] and _CHINA_LON[0] <= bottom and top <= _CHINA_LON[1])


def fix_swapped_axes(gdf: gpd.GeoDataFrame, *, label: str = "layer") -> gpd.GeoDataFrame:
    """Swap x and y of a layer whose latitude/longitude are the wrong way round (see :func:`axes_swapped`).

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> g = gpd.GeoDataFrame(geometry=[Point(24.48, 118.09)], crs=4490)
    >>> fix_swapped_axes(g).geometry.iloc[0].coords[0]
    (118.09, 24.48)
    """
    if not axes_swapped(gdf):
        return gdf
    out = gdf.copy()
    out.geometry = shapely.transform(gdf.geometry.to_numpy(), lambda c: c[:, ::-1])
    log.warning("layer %s: its x values lie in 18-54 and y in 73-135, i.e. latitude and longitude are swapped; "
                "swapped them back (x = longitude, y = latitude)", label)
    return out


def gk_zone(epsg: int | None) -> tuple[int, int, int, bool] | None:
    """``(zone width, zone number, central meridian, prefixed)`` of a CGCS2000 Gauss-Krüger EPSG code.

    ``None`` for any other code.

    Examples
    --------
    >>> gk_zone(4548), gk_zone(4527), gk_zone(4490)
    ((3, 39, 117, False), (3, 39, 117, True), None)
    """
    if epsg is None:
        return None
    if 4491 <= epsg <= 4501:
        zone = 13 + epsg - 4491
        return 6, zone, 6 * zone - 3, True
    if 4502 <= epsg <= 4512:
        cm = 75 + 6 * (epsg - 4502)
        return 6, (cm + 3) // 6, cm, False
    if 4513 <= epsg <= 4533:
        zone = 25 + epsg - 4513
        return 3, zone, 3 * zone, True
    if 4534 <= epsg <= 4554:
        cm = 75 + 3 * (epsg - 4534)
        return 3, cm // 3, cm, False
    return None


def _gk_code(width: int, zone: int, prefixed: bool) -> int | None:
    if width == 3 and 25 <= zone <= 45:
        return (4513 if prefixed else 4534) + zone - 25
    if width == 6 and 13 <= zone <= 23:
        return (4491 if prefixed else 4502) + zone - 13
    return None


def _prefix_zone(x: float) -> tuple[int, int] | None:
    """``(width, zone)`` read from an easting that carries its zone number, if it does."""
    z = int(x // 1_000_000)
    if 25 <= z <= 45:
        return 3, z
    if 13 <= z <= 23:
        return 6, z
    return None


def fix_gk_prefix(gdf: gpd.GeoDataFrame, *, label: str = "layer") -> gpd.GeoDataFrame:
    """Relabel a Gauss-Krüger layer whose eastings do not match its EPSG code's zone-prefix convention.

    CGCS2000 Gauss-Krüger coordinates come in two kinds: with the zone number in
    front of the easting (zone 39: x ≈ 39 500 000, EPSG:4527) and without
    (x ≈ 500 000, EPSG:4548). Files are often labelled with the other kind's code.
    The prefix, when present, names the zone, so the right code is unambiguous:
    the layer is relabelled (coordinates unchanged) and a warning says so.
    """
    if gdf.crs is None:
        return gdf
    crs = CRS.from_user_input(gdf.crs)
    info = gk_zone(crs.to_epsg())
    b = _bounds(gdf)
    if info is None or b is None:
        return gdf
    width, zone, _, prefixed = info
    xmid = float((b[0] + b[2]) / 2)
    code: int | None = None
    if prefixed and 0 < xmid < 1_000_000:
        code = _gk_code(width, zone, False)
        why = "have no zone prefix"
    elif not prefixed and xmid >= 10_000_000:
        pz = _prefix_zone(xmid)
        if pz is None:
            return gdf
        code = _gk_code(pz[0], pz[1], True)
        why = f"carry the zone prefix {pz[1]}"
    if code is None or code == crs.to_epsg():
        return gdf
    log.warning("layer %s: labelled EPSG:%s but its eastings (about %.0f m) %s; relabelled EPSG:%s "
                "(coordinates unchanged)", label, crs.to_epsg(), xmid, why, code)
    return gdf.set_crs(code, allow_override=True)


def degrees_in_projected(gdf: gpd.GeoDataFrame) -> bool:
    """Whether a layer labelled with a projected CRS holds numbers that look like degrees.

    A projected layer whose whole extent fits in ±180 × ±90 *metres* around the
    false origin is, in practice, longitude/latitude labelled with the wrong CRS.
    """
    if gdf.crs is None or not CRS.from_user_input(gdf.crs).is_projected:
        return False
    b = _bounds(gdf)
    if b is None:
        return False
    return bool(-180 <= b[0] <= 180 and -180 <= b[2] <= 180 and -90 <= b[1] <= 90 and -90 <= b[3] <= 90)


def crs_hint(gdf: gpd.GeoDataFrame) -> str | None:
    """What CRS a layer's numbers look like, as advice for the planner (``None`` if unclear).

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> crs_hint(gpd.GeoDataFrame(geometry=[Point(39_512_000, 2_710_000)]))
    'the coordinates look like CGCS2000 Gauss-Krüger zone 39 with the zone prefix: declare crs = "EPSG:4527"'
    """
    b = _bounds(gdf)
    if b is None:
        return None
    left, bottom, right, top = b
    xmid, ymid = (left + right) / 2, (bottom + top) / 2
    if _CHINA_LON[0] <= xmid <= _CHINA_LON[1] and 3 <= ymid <= _CHINA_LAT[1]:
        return ('the coordinates look like longitude/latitude degrees: declare crs = "EPSG:4490" '
                '(or "GCJ-02" for AMap/Tencent data, "BD-09" for Baidu data)')
    if _CHINA_LAT[0] <= xmid <= _CHINA_LAT[1] and _CHINA_LON[0] <= ymid <= _CHINA_LON[1]:
        return 'the coordinates look like latitude/longitude degrees (swapped): declare crs = "EPSG:4490"'
    pz = _prefix_zone(xmid)
    if pz is not None and pz[0] == 3 and 1e6 <= ymid <= 6.2e6:
        return (f"the coordinates look like CGCS2000 Gauss-Krüger zone {pz[1]} with the zone prefix: "
                f'declare crs = "EPSG:{_gk_code(3, pz[1], True)}"')
    if 100_000 <= xmid <= 900_000 and 1e6 <= ymid <= 6.2e6:
        return ("the coordinates look like Gauss-Krüger metres without the zone prefix: declare the zone's code, "
                'e.g. crs = "EPSG:4548" (central meridian 117°E) or "EPSG:4549" (120°E)')
    if 8.0e6 <= xmid <= 1.51e7 and 1.8e6 <= ymid <= 7.3e6:
        return 'the coordinates look like Web Mercator metres: declare crs = "EPSG:3857"'
    if pz is not None:
        return (f"the coordinates look like 6-degree Gauss-Krüger zone {pz[1]} with the zone prefix: "
                f'declare crs = "EPSG:{_gk_code(6, pz[1], True)}"')
    return None


def with_crs_hint(exc: ValidationError, gdf: gpd.GeoDataFrame) -> ValidationError:
    """``exc`` with :func:`crs_hint`'s advice added to its "no coordinate reference system" problem.

    Returns ``exc`` itself when there is no such problem or no advice.
    """
    hint = crs_hint(gdf) if gdf.crs is None else None
    if hint is None:
        return exc
    problems = [dataclasses.replace(p, fix=f"{hint}; {p.fix}")
                if p.field == "CRS" and "no coordinate reference system" in p.message else p
                for p in exc.problems]
    if problems == exc.problems:
        return exc
    return type(exc)(problems)


@dataclass(frozen=True)
class ShiftCheck:
    """Result of :func:`looks_shifted`.

    Attributes
    ----------
    shifted : bool
        Whether undoing a web-map offset fits the layer to the reference clearly better.
    offset : str or None
        ``"GCJ-02"`` or ``"BD-09"``: the offset whose inverse fits best (when shifted).
    before_m, after_m : float
        Misfit (metres) of the layer as it is and after the best inverse. For point
        layers the mean distance of the points to the reference area (0 inside);
        for lines and polygons the first quartile of vertex distances to the
        reference boundaries.
    n : int
        Vertices compared.
    """

    shifted: bool
    offset: str | None
    before_m: float
    after_m: float
    n: int


_INVERSES: dict[str, Callable[..., tuple[np.ndarray, np.ndarray]]] = {
    "GCJ-02": gcj02_to_wgs84, "BD-09": bd09_to_wgs84}


def _boundary_segments(geoms: np.ndarray) -> np.ndarray:
    lines = shapely.get_parts(shapely.boundary(geoms))
    lines = lines[~shapely.is_empty(lines)]
    coords, idx = shapely.get_coordinates(lines, return_index=True)
    same = idx[1:] == idx[:-1]
    a, b = coords[:-1][same], coords[1:][same]
    return shapely.linestrings(np.stack([a, b], axis=1))


def looks_shifted(layer: gpd.GeoDataFrame, reference: gpd.GeoDataFrame, *, sample: int = 2000,
                  seed: int = 0, ratio: float = 0.5, min_misfit_m: float = 1.0) -> ShiftCheck:
    """Test whether ``layer`` sits where GCJ-02/BD-09 coordinates would, relative to ``reference``.

    Layer vertices (a seeded sample of at most ``sample``) are compared with the
    reference polygons (e.g. a planner's district layer in CGCS2000) as they are
    and after geoplan's GCJ-02 → WGS84 and BD-09 → WGS84 inverses. When the best
    inverse reduces the misfit below ``ratio`` times the misfit as-is (and the
    misfit as-is is at least ``min_misfit_m``), the layer looks shifted: a POI
    layer from AMap or Baidu that was not declared as such.

    Parameters
    ----------
    layer : GeoDataFrame
        The layer to test (any CRS PROJ knows).
    reference : GeoDataFrame
        Trusted polygons (any CRS) covering the same area.

    Examples
    --------
    >>> import geoplan as gp
    >>> from geoplan import io
    >>> raw = io.read_vector(io.shipped("data/gis/sources/xiamen_districts_gcj02_amap_raw.geojson"), layer="raw")
    >>> chk = looks_shifted(raw, gp.load_project().districts)
    >>> chk.shifted, chk.offset, chk.before_m > 100, chk.after_m < 5
    (True, 'GCJ-02', True, True)
    """
    if layer.crs is None or reference.crs is None:
        raise ValueError("both layers need a CRS to compare them")
    ref = reference.to_crs(GEOGRAPHIC_EPSG)
    ref_geoms = ref.geometry.to_numpy()
    ref_geoms = ref_geoms[~(shapely.is_missing(ref_geoms) | shapely.is_empty(ref_geoms))]
    if not np.isin(shapely.get_type_id(ref_geoms), [3, 6]).all():
        raise ValueError("the reference layer must hold polygons (e.g. districts)")
    lay = layer.to_crs(GEOGRAPHIC_EPSG)
    geoms = lay.geometry.to_numpy()
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    xy = shapely.get_coordinates(geoms)
    if len(xy) < 10 or len(ref_geoms) == 0:
        return ShiftCheck(False, None, float("nan"), float("nan"), int(len(xy)))
    if len(xy) > sample:
        xy = xy[np.sort(np.random.default_rng(seed).choice(len(xy), size=sample, replace=False))]
    points = bool(np.isin(shapely.get_type_id(geoms), [0, 4]).all())
    metric = CRS.from_epsg(gk_epsg(shapely.get_coordinates(ref_geoms)[:, 0]))
    to_m = Transformer.from_crs(GEOGRAPHIC_EPSG, metric, always_xy=True)
    ref_m = shapely.transform(ref_geoms, lambda c: np.column_stack(to_m.transform(c[:, 0], c[:, 1])))
    area = shapely.union_all(ref_m)
    shapely.prepare(area)
    tree = shapely.STRtree(_boundary_segments(ref_m))

    def misfit(lon: np.ndarray, lat: np.ndarray) -> float:
        x, y = to_m.transform(lon, lat)
        if points:  # distance to the reference area: 0 inside, so only points outside are measured
            out = ~shapely.contains_xy(area, x, y)
            dist = np.zeros(len(x))
            if out.any():
                dist[out] = tree.query_nearest(shapely.points(x[out], y[out]), return_distance=True,
                                               all_matches=False)[1]
            return float(dist.mean())
        _, dist = tree.query_nearest(shapely.points(x, y), return_distance=True, all_matches=False)
        return float(np.quantile(dist, 0.25))

    before = misfit(xy[:, 0], xy[:, 1])
    afters = {k: misfit(*inv(xy[:, 0], xy[:, 1])) for k, inv in _INVERSES.items()}
    best = min(afters, key=lambda k: afters[k])
    after = afters[best]
    shifted = before >= min_misfit_m and after < ratio * before
    return ShiftCheck(shifted, best if shifted else None, before, after, int(len(xy)))


def warn_if_shifted(layer: gpd.GeoDataFrame, reference: gpd.GeoDataFrame, *, label: str = "layer",
                    reference_label: str = "districts") -> ShiftCheck | None:
    """Run :func:`looks_shifted` and log a warning naming the fix when the layer looks shifted."""
    try:
        chk = looks_shifted(layer, reference)
    except ValueError as exc:
        log.debug("layer %s: shift check skipped (%s)", label, exc)
        return None
    if chk.shifted:
        log.warning("layer %s looks shifted by the %s web-map offset: against the %s layer it misfits by %.0f m, "
                    "and by %.0f m after undoing %s. If it comes from %s, declare crs = \"%s\" for it",
                    label, chk.offset, reference_label, chk.before_m, chk.after_m, chk.offset,
                    "AMap/Tencent" if chk.offset == "GCJ-02" else "Baidu", chk.offset)
    return chk


def dbf_encoding(head: bytes) -> str | None:
    """Guess the text encoding of a ``.dbf`` (its first bytes suffice).

    Returns ``None`` when all text is ASCII (any reader gets it right),
    ``"UTF-8"`` when the text is valid UTF-8, ``"GB18030"`` (the superset of
    GBK/GB2312) when it decodes as that, else ``None``.

    A value cut in the middle of a character at the field's width still counts.

    Examples
    --------
    >>> dbf_encoding(b"") is None  # too short to tell
    True
    """
    if len(head) < 32:
        return None
    nrec, hlen, rlen = struct.unpack("<IHH", head[4:12])
    values: list[bytes] = []
    spans: list[tuple[int, int]] = []
    off = 32
    pos = 1  # after the deletion flag
    while off + 32 <= min(hlen, len(head)) and head[off] != 0x0D:
        desc = head[off:off + 32]
        values.append(desc[:11].split(b"\x00")[0])
        ftype, flen = chr(desc[11]), desc[16]
        if ftype == "C":
            spans.append((pos, flen))
        pos += flen
        off += 32
    if rlen > 0:
        records = head[hlen:]
        for r in range(min(nrec, len(records) // rlen)):
            rec = records[r * rlen:(r + 1) * rlen]
            values.extend(rec[start:start + n].rstrip(b" ") for start, n in spans)
    if all(b < 0x80 for v in values for b in v):
        return None
    for enc, name in (("utf-8", "UTF-8"), ("gb18030", "GB18030")):
        try:
            for v in values:
                codecs.getincrementaldecoder(enc)().decode(v, final=False)
        except UnicodeDecodeError:
            continue
        return name
    return None


def _as_utf8(text: str, encoding: str) -> str | None:
    """``text`` re-read as UTF-8 after encoding it back with ``encoding`` (a trailing cut character dropped)."""
    try:
        raw = text.encode(encoding)
    except UnicodeEncodeError:
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.reason == "unexpected end of data" and exc.start > 0:
            try:
                return raw[:exc.start].decode("utf-8")
            except UnicodeDecodeError:
                return None
        return None


def _plain(text: str) -> bool:
    return any("\u4e00" <= c <= "\u9fff" for c in text) and all(
        c.isascii() or "\u4e00" <= c <= "\u9fff" or "\u3000" <= c <= "\u303f" or "\uff00" <= c <= "\uffef"
        for c in text)


def mojibake(values: list[str]) -> tuple[str, str, str] | None:
    """``(garbled, readable, wrong encoding)`` when most non-ASCII values are UTF-8 read in another encoding.

    A ``.cpg`` that says GBK on UTF-8 data turns 厦门 into 鍘﹂棬; re-encoding
    the garbled text as GBK and reading it as UTF-8 gives plain Chinese back,
    which real Chinese text practically never does.

    Examples
    --------
    >>> mojibake(["厦门市集美区".encode("utf-8").decode("gbk")])
    ('鍘﹂棬甯傞泦缇庡尯', '厦门市集美区', 'GBK')
    >>> mojibake(["厦门市集美区", "思明区"]) is None
    True
    """
    candidates = [v for v in values if not v.isascii()][:200]
    if not candidates:
        return None
    for enc, label in (("gb18030", "GBK"), ("cp1252", "Windows-1252"), ("latin-1", "Latin-1")):
        hits = [(v, r) for v in candidates if (r := _as_utf8(v, enc)) is not None and r != v and _plain(r)
                and len(r) < len(v)]
        if hits and len(hits) * 2 >= len(candidates):
            return hits[0][0], hits[0][1], label
    bad = [v for v in candidates if "\ufffd" in v]
    if bad and len(bad) * 2 >= len(candidates):
        return bad[0], "?", "an unknown encoding"
    return None
