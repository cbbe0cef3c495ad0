"""English words left in a Chinese interface: what the app tests look for in every visible text."""

from __future__ import annotations

import re

__all__ = ["ALLOWED_LATIN", "latin_words"]

#: Latin words the Chinese interface may show: codes and units (5G, bands, GHz, Mbps, EPSG codes, CGCS2000, GCJ-02,
#: the Tianditu key's parameter tk), names of file formats and tools that Chinese planners use untranslated
#: (GeoPackage, Shapefile, GeoJSON, MBTiles, PMTiles, PNG, JPEG, WebP, PDF, CSV, TOML, MB, HiGHS, OpenStreetMap,
#: k-means), and "English", the language switch itself.
ALLOWED_LATIN = frozenset({
    "5G", "n78", "n41", "n79", "n28", "n1", "GHz", "MHz", "Mbps", "EPSG", "CGCS2000", "GCJ", "tk",
    "GeoPackage", "Shapefile", "GeoJSON", "MBTiles", "PMTiles", "PNG", "JPEG", "WebP", "PDF", "CSV", "TOML", "MB",
    "HiGHS", "OpenStreetMap", "k-means", "English",
})
#: Identifiers of sites, stations and data centres (``XM5G001167``, ``P350203000012``): codes, shown as they are.
_ID = re.compile(r"(?<![A-Za-z0-9])[A-Z][A-Z0-9]*[0-9]{4,}(?![A-Za-z0-9])")
#: Paths and file names (shown as they are).
_FILE = re.compile(r"\S*[/\\]\S*|\S+\.(?:gpkg|zip|xml|tif|pdf|png|csv|toml|json|md|mbtiles|pmtiles)\b")


def latin_words(texts: list[str], *, data: tuple[str, ...] = ()) -> list[str]:
    """Latin words of ``texts`` outside :data:`ALLOWED_LATIN`, after taking out ``data`` (the project's own names),
    code spans (commands, settings), identifiers, paths and file names."""
    found = []
    for text in texts:
        for d in data:
            text = text.replace(d, " ")
        text = _ID.sub(" ", _FILE.sub(" ", re.sub(r"`[^`]*`", " ", text)))
        found += [w for w in re.findall(r"(?<![A-Za-z0-9])[A-Za-z0-9]*[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z]+)*", text)
                  if w not in ALLOWED_LATIN]
    return sorted(set(found))
