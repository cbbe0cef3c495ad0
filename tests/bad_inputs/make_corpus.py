"""Generate the corpus of bad inputs: each case a project (or an export request) that must fail cleanly.

Every case ends in one specific :class:`~geoplan.errors.GeoplanError` subclass,
naming the layer and field where it applies, and leaves no output file. The
files are generated (seeded, a few KB each) at test time::

    python -m tests.bad_inputs.make_corpus /tmp/corpus   # to look at them

``README.md`` beside this file lists every case; ``tests/test_bad_inputs.py``
checks the two agree.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pyogrio
import rasterio
import tomli_w
from affine import Affine
from rasterio.crs import CRS as RioCRS
from shapely.geometry import LineString, MultiPoint, Point, Polygon, box

__all__ = ["Case", "CASES", "build", "good_layers"]

X0, Y0 = 600_000.0, 2_700_000.0  # EPSG:4548, near Xiamen (118.0°E, 24.4°N)
GK = "EPSG:4548"


@dataclass(frozen=True)
class Case:
    """One bad input and what geoplan must answer.

    Attributes
    ----------
    name : str
        Folder of the case in the corpus.
    what : str
        What is wrong, in words.
    error : str
        Name of the exact error class expected.
    layer, field : str or None
        Expected ``Problem.layer`` / ``Problem.field`` (for validation errors).
    stage : str
        ``load`` (the project fails to load), ``export`` (the export refuses) or
        ``scenario`` (the case's ``scenarios.toml`` is refused).
    export : dict
        Keyword arguments of :func:`geoplan.export.export_project`; ``to`` is the output
        name relative to the test's empty folder (``{input}`` names the good project's
        district file), ``existing`` a file (or a list of ``(file, text)``) made there before.
    make : callable
        Writes the case's files into its folder; returns the project file's layer
        overrides (a dict) or its whole text (a str).
    extra : callable, optional
        For export cases: the extra layers to export, built from the good layers.
    """

    name: str
    what: str
    error: str
    layer: str | None
    field: str | None
    stage: str
    export: dict[str, Any]
    make: Callable[[Path, dict[str, Any]], dict[str, Any] | str]
    extra: Callable[[dict[str, Any]], dict[str, Any]] | None = None


CASES: list[Case] = []


def case(name: str, error: str, layer: str | None = None, field_: str | None = None, *, what: str,
         stage: str = "load", export: dict[str, Any] | None = None,
         extra: Callable[[dict[str, Any]], dict[str, Any]] | None = None
         ) -> Callable[[Callable[[Path, dict[str, Any]], dict[str, Any] | str]], Callable[..., Any]]:
    def deco(fn: Callable[[Path, dict[str, Any]], dict[str, Any] | str]) -> Callable[..., Any]:
        CASES.append(Case(name, what, error, layer, field_, stage, dict(export or {}), fn, extra))
        return fn
    return deco


def good_layers(seed: int = 0) -> dict[str, Any]:
    """Two 1 km districts in EPSG:4548, a 100 m population grid, 40 sites and 6 car parks."""
    rng = np.random.default_rng(seed)
    districts = gpd.GeoDataFrame(
        {"XZQDM": ["350901", "350902"], "XZQMC": ["甲区", "乙区"], "POP": [10_000.0, 5_000.0]},
        geometry=[box(X0, Y0, X0 + 1000, Y0 + 1000), box(X0 + 1000, Y0, X0 + 2000, Y0 + 1000)], crs=GK)
    values = np.zeros((10, 20))
    values[:, :10], values[:, 10:] = 100.0, 50.0
    pts = [Point(X0 + rng.uniform(50, 1950), Y0 + rng.uniform(50, 950)) for _ in range(40)]
    sites = gpd.GeoDataFrame({"SITE_ID": [f"S{i:03d}" for i in range(40)], "SITE_TYPE": ["macro"] * 40},
                             geometry=pts, crs=GK)
    parks = gpd.GeoDataFrame({"NAME": [f"停车场{i}" for i in range(6)], "SPACES": [100] * 6,
                              "CHG_BUILT": [10] * 6, "IS_NEW": [1, 0] * 3},
                             geometry=pts[:6], crs=GK)
    return {"districts": districts, "values": values, "transform": Affine(100, 0, X0, 0, -100, Y0 + 1000),
            "sites": sites, "car_parks": parks}


def _tif(path: Path, values: np.ndarray, transform: Affine, crs: str | None, nodata: float = -1.0) -> None:
    h, w = values.shape
    with rasterio.open(path, "w", driver="GTiff", height=h, width=w, count=1, dtype="float32", crs=crs,
                       transform=transform, nodata=nodata) as dst:
        dst.write(values.astype("float32"), 1)


def _base(g: Path) -> dict[str, Any]:
    # the bad inputs are about layers: the test area is declared part of 厦门市 so the Xiamen plan applies
    return {"project": {"name": "bad input", "plan": "xiamen", "xzqdm": "350200"},
            "layers": {"districts": {"path": f"{g}/districts.gpkg"}, "population": {"path": f"{g}/pop.tif"},
                       "sites": {"path": f"{g}/sites.gpkg"}}}


def build(root: str | Path) -> Path:
    """Write the good layers to ``root/good`` and every case into ``root/<case>``; return ``root``."""
    root = Path(root)
    g = good_layers()
    gdir = root / "good"
    gdir.mkdir(parents=True, exist_ok=True)
    pyogrio.write_dataframe(g["districts"], gdir / "districts.gpkg", layer="districts")
    pyogrio.write_dataframe(g["sites"], gdir / "sites.gpkg", layer="sites")
    _tif(gdir / "pop.tif", g["values"], g["transform"], GK)
    for c in CASES:
        d = root / c.name
        d.mkdir(exist_ok=True)
        with warnings.catch_warnings():  # writing layers without a CRS is the point of some cases
            warnings.simplefilter("ignore", UserWarning)
            made = c.make(d, g)
        if isinstance(made, str):
            text = made.replace("{good}", gdir.as_posix())
        else:
            cfg = _base(gdir.resolve())
            for key, section in made.items():
                if section is None:
                    cfg["layers"].pop(key, None)
                else:
                    cfg["layers"][key] = section
            text = tomli_w.dumps(cfg)
        (d / "geoplan.toml").write_text(text, encoding="utf-8")
    return root


def _gpkg(d: Path, gdf: gpd.GeoDataFrame, name: str = "layer.gpkg", **kw: Any) -> str:
    pyogrio.write_dataframe(gdf, d / name, **kw)
    return name


# --- districts ---------------------------------------------------------------------------------------

@case("districts_empty", "ValidationError", "districts", None, what="district layer with no features")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    return {"districts": {"path": _gpkg(d, g["districts"].iloc[:0], geometry_type="Polygon")}}


@case("districts_no_crs", "CRSError", "districts", "CRS", what="shapefile without .prj (no CRS)")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    pyogrio.write_dataframe(g["districts"].set_crs(None, allow_override=True), d / "districts.shp")
    return {"districts": {"path": "districts.shp"}}


@case("districts_gk_labelled_4490", "CRSError", "districts", "CRS",
      what="Gauss-Krüger metres labelled EPSG:4490 (wrong CRS: coordinates off the globe)")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    return {"districts": {"path": _gpkg(d, g["districts"].set_crs(4490, allow_override=True))}}


@case("districts_degrees_labelled_gk", "CRSError", "districts", "CRS",
      what="longitude/latitude labelled EPSG:4548 (wrong CRS: degrees read as metres)")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    return {"districts": {"path": _gpkg(d, g["districts"].to_crs(4490).set_crs(4548, allow_override=True))}}


@case("districts_web_mercator_no_crs", "CRSError", "districts", "CRS",
      what="Web Mercator metres with no CRS (the message suggests EPSG:3857)")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    return {"districts": {"path": _gpkg(d, g["districts"].to_crs(3857).set_crs(None, allow_override=True))}}


@case("districts_self_crossing", "ValidationError", "districts", "geometry",
      what="a self-crossing (bow-tie) polygon")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    bad = g["districts"].copy()
    bad.loc[0, "geometry"] = Polygon([(X0, Y0), (X0 + 1000, Y0 + 1000), (X0 + 1000, Y0), (X0, Y0 + 1000)])
    return {"districts": {"path": _gpkg(d, bad)}}


@case("districts_mixed_geometry", "ValidationError", "districts", "geometry",
      what="polygons and points mixed in one layer")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    bad = g["districts"].copy()
    bad.loc[1, "geometry"] = Point(X0 + 1500, Y0 + 500)
    return {"districts": {"path": _gpkg(d, bad, geometry_type="Unknown")}}


@case("districts_null_geometry", "ValidationError", "districts", "geometry", what="a district without geometry")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    bad = g["districts"].copy()
    bad.loc[1, "geometry"] = None
    return {"districts": {"path": _gpkg(d, bad)}}


@case("districts_lines", "ValidationError", "districts", "geometry", what="district boundaries as lines")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    bad = g["districts"].copy()
    bad.geometry = [LineString(p.exterior.coords) for p in bad.geometry]
    return {"districts": {"path": _gpkg(d, bad)}}


@case("districts_missing_code", "ValidationError", "districts", "XZQDM", what="no XZQDM field")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    return {"districts": {"path": _gpkg(d, g["districts"].drop(columns="XZQDM"))}}


@case("districts_empty_name", "ValidationError", "districts", "XZQMC", what="an empty XZQMC value")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    bad = g["districts"].copy()
    bad.loc[0, "XZQMC"] = " "
    return {"districts": {"path": _gpkg(d, bad)}}


@case("districts_pop_text", "ValidationError", "districts", "POP", what="population written as text ('1.2万')")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    bad = g["districts"].copy()
    bad["POP"] = ["1.2万", "5000"]
    return {"districts": {"path": _gpkg(d, bad)}}


@case("districts_pop_negative", "ValidationError", "districts", "POP", what="a negative population")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    bad = g["districts"].copy()
    bad["POP"] = [10_000.0, -1.0]
    return {"districts": {"path": _gpkg(d, bad)}}


@case("districts_field_map_wrong", "ValidationError", "districts", "code",
      what="the project file maps XZQDM to a column the layer does not have")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    return {"districts": {"path": _gpkg(d, g["districts"]), "fields": {"XZQDM": "code"}}}


@case("districts_declared_unknown_crs", "CRSError", "districts", "CRS", what="crs = \"EPSG:99999\" declared")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    return {"districts": {"path": _gpkg(d, g["districts"]), "crs": "EPSG:99999"}}


@case("districts_declared_gcj_on_projected", "CRSError", "districts", "CRS",
      what="crs = \"GCJ-02\" declared for a projected (metre) layer")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    return {"districts": {"path": _gpkg(d, g["districts"]), "crs": "GCJ-02"}}


# --- unreadable files -------------------------------------------------------------------------------

@case("file_garbage_gpkg", "ReadError", what="random bytes named .gpkg")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    (d / "x.gpkg").write_bytes(np.random.default_rng(1).bytes(4096))
    return {"districts": {"path": "x.gpkg"}}


@case("file_text_as_shp", "ReadError", what="a text file named .shp")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    (d / "x.shp").write_text("not a shapefile\n", encoding="utf-8")
    return {"districts": {"path": "x.shp"}}


@case("file_empty_geojson", "ReadError", what="a zero-byte .geojson")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    (d / "x.geojson").write_bytes(b"")
    return {"sites": {"path": "x.geojson"}}


@case("file_missing", "ReadError", what="the project file points at a file that does not exist")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    return {"sites": {"path": "no_such_file.gpkg"}}


@case("file_missing_shx", "ReadError", what="shapefile without its .shx")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    pyogrio.write_dataframe(g["sites"], d / "sites.shp")
    (d / "sites.shx").unlink()
    return {"sites": {"path": "sites.shp"}}


@case("file_truncated_shp", "ValidationError", "sites", "geometry",
      what="shapefile whose .shp was cut short (features lose their geometry)")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    pyogrio.write_dataframe(g["sites"], d / "sites.shp")
    data = (d / "sites.shp").read_bytes()
    (d / "sites.shp").write_bytes(data[:100 + 28 * 10])
    return {"sites": {"path": "sites.shp"}}


@case("gpkg_wrong_sublayer", "ReadError", what="layer = \"nope\" names no layer of the GeoPackage")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    return {"sites": {"path": _gpkg(d, g["sites"], layer="sites"), "layer": "nope"}}


# --- zip archives -------------------------------------------------------------------------------------

def _shp_zip(d: Path, g: dict[str, Any], arcnames: Callable[[str], str], name: str = "x.zip") -> str:
    pyogrio.write_dataframe(g["sites"], d / "sites.shp")
    with zipfile.ZipFile(d / name, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for ext in ("shp", "shx", "dbf", "prj", "cpg"):  # ZipInfo keeps the name as given, even "/..."
            zf.writestr(zipfile.ZipInfo(arcnames(ext)), (d / f"sites.{ext}").read_bytes(),
                        compress_type=zipfile.ZIP_DEFLATED)
    return name


@case("zip_slip", "ReadError", what="zip member named ../../sites.shp (zip slip)")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    return {"sites": {"path": _shp_zip(d, g, lambda e: f"../../sites.{e}")}}


@case("zip_absolute_path", "ReadError", what="zip member with an absolute path /tmp/sites.shp")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    return {"sites": {"path": _shp_zip(d, g, lambda e: f"/tmp/sites.{e}")}}


@case("zip_bomb", "ReadError", what="zip member compressed 1000 times (zip bomb)")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    name = _shp_zip(d, g, lambda e: f"sites.{e}")
    with zipfile.ZipFile(d / name, "a", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("padding.bin", b"\0" * 8_000_000)
    return {"sites": {"path": name}}


@case("zip_no_layer", "ReadError", what="zip holding no vector file")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    with zipfile.ZipFile(d / "x.zip", "w") as zf:
        zf.writestr("readme.txt", "no layer here")
    return {"sites": {"path": "x.zip"}}


@case("zip_two_layers", "ReadError", what="zip holding two shapefiles and no layer = ... to choose")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    name = _shp_zip(d, g, lambda e: f"a/sites.{e}")
    with zipfile.ZipFile(d / name, "a") as zf:
        for ext in ("shp", "shx", "dbf", "prj"):
            zf.write(d / f"sites.{ext}", f"b/sites2.{ext}")
    return {"sites": {"path": name}}


@case("zip_not_a_zip", "ReadError", what="a text file named .zip")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    (d / "x.zip").write_text("PK? no", encoding="utf-8")
    return {"sites": {"path": "x.zip"}}


# --- population raster ------------------------------------------------------------------------------

@case("raster_no_overlap", "ValidationError", "population", None, what="raster 50 km away from the districts")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    t = g["transform"]
    _tif(d / "pop.tif", g["values"], Affine(t.a, t.b, t.c + 50_000, t.d, t.e, t.f), GK)
    return {"population": {"path": "pop.tif"}}


@case("raster_no_crs", "CRSError", "population", "CRS", what="GeoTIFF without a CRS")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    _tif(d / "pop.tif", g["values"], g["transform"], None)
    return {"population": {"path": "pop.tif"}}


@case("raster_all_nodata", "ValidationError", "population", "band1", what="every cell is no-data")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    _tif(d / "pop.tif", np.full_like(g["values"], -1.0), g["transform"], GK)
    return {"population": {"path": "pop.tif"}}


@case("raster_negative", "ValidationError", "population", "band1", what="negative population counts")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    v = g["values"].copy()
    v[0, :5] = -20.0
    _tif(d / "pop.tif", v, g["transform"], GK)
    return {"population": {"path": "pop.tif"}}


@case("raster_not_a_raster", "ReadError", what="a text file named .tif")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    (d / "pop.tif").write_text("not a raster", encoding="utf-8")
    return {"population": {"path": "pop.tif"}}


@case("raster_band_out_of_range", "ValidationError", "population", "band 2", what="band = 2 of a one-band raster")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    return {"population": {"path": str((d.parent / "good" / "pop.tif").resolve()), "band": 2}}


# --- sites, car parks, edge demand ---------------------------------------------------------------

@case("sites_unknown_type", "ValidationError", "sites", "SITE_TYPE", what="SITE_TYPE 'tower' (not in the spec)")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    bad = g["sites"].copy()
    bad.loc[3, "SITE_TYPE"] = "tower"
    return {"sites": {"path": _gpkg(d, bad)}}


@case("sites_missing_id", "ValidationError", "sites", "SITE_ID", what="no SITE_ID field")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    return {"sites": {"path": _gpkg(d, g["sites"].drop(columns="SITE_ID"))}}


@case("sites_polygons", "ValidationError", "sites", "geometry", what="sites drawn as polygons")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    bad = g["sites"].copy()
    bad.geometry = bad.buffer(5)
    return {"sites": {"path": _gpkg(d, bad)}}


@case("sites_no_features", "ValidationError", "sites", None, what="a GeoJSON FeatureCollection with no features")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    (d / "s.geojson").write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    return {"sites": {"path": "s.geojson"}}


@case("sites_degrees_labelled_gk", "CRSError", "sites", "CRS", what="site longitude/latitude labelled EPSG:4548")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    return {"sites": {"path": _gpkg(d, g["sites"].to_crs(4490).set_crs(4548, allow_override=True))}}


@case("car_parks_negative_spaces", "ValidationError", "car_parks", "SPACES", what="a car park with -5 spaces")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    bad = g["car_parks"].copy()
    bad.loc[2, "SPACES"] = -5
    return {"car_parks": {"path": _gpkg(d, bad)}}


@case("car_parks_text_spaces", "ValidationError", "car_parks", "SPACES", what="spaces written as '120个'")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    bad = g["car_parks"].copy()
    bad["SPACES"] = ["120个"] + ["100"] * 5
    return {"car_parks": {"path": _gpkg(d, bad)}}


@case("car_parks_missing_is_new", "ValidationError", "car_parks", "IS_NEW", what="no IS_NEW field")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    return {"car_parks": {"path": _gpkg(d, g["car_parks"].drop(columns="IS_NEW"))}}


# --- project file -------------------------------------------------------------------------------

@case("toml_syntax", "ReadError", what="project file with a TOML syntax error")
def _(d: Path, g: dict[str, Any]) -> str:
    return "[project\nname = 'x'\n"


@case("toml_no_districts", "ConfigError", what="project file without [layers.districts]")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    return {"districts": None}


@case("toml_unknown_layer", "ConfigError", what="project file with [layers.towers] (unknown layer)")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    return {"towers": {"path": "towers.gpkg"}}


@case("toml_layer_without_path", "ConfigError", what="[layers.sites] without path")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    return {"sites": {"layer": "sites"}}


# --- export requests --------------------------------------------------------------------------------

def _parks(g: dict[str, Any]) -> gpd.GeoDataFrame:
    return g["car_parks"].copy()


def _emoji(g: dict[str, Any]) -> dict[str, Any]:
    p = _parks(g)
    p.loc[1, "NAME"] = "停车场🚗"
    return {"car_parks": p}


def _long_text(g: dict[str, Any]) -> dict[str, Any]:
    p = _parks(g)
    p.loc[0, "NAME"] = "很长的名称" * 40
    return {"car_parks": p}


def _complex_column(g: dict[str, Any]) -> dict[str, Any]:
    p = _parks(g)
    p["PHASE"] = np.array([1 + 2j] * len(p))
    return {"car_parks": p}


def _unknown_key(g: dict[str, Any]) -> dict[str, Any]:
    return {"towers": _parks(g)}


def _no_crs(g: dict[str, Any]) -> dict[str, Any]:
    return {"car_parks": _parks(g).set_crs(None, allow_override=True)}


def _dc_polygons(g: dict[str, Any]) -> dict[str, Any]:
    dc = gpd.GeoDataFrame({"DC_ID": ["DC1"], "STATUS": ["planned"]}, geometry=[box(X0, Y0, X0 + 50, Y0 + 50)],
                          crs=GK)
    return {"edge_dc": dc}


def _parks_only(g: dict[str, Any]) -> dict[str, Any]:
    return {"car_parks": _parks(g)}


@case("export_missing_folder", "WriteError", stage="export", what="--to into a folder that does not exist",
      export={"to": "no_such_folder/out.gpkg"})
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    return {}


@case("export_unknown_format", "ConfigError", stage="export", what="--format kml", export={"to": "out.kml",
                                                                                           "format": "kml"})
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    return {}


@case("export_unknown_crs", "ConfigError", stage="export", what="--crs EPSG:99999",
      export={"to": "out.gpkg", "crs": "EPSG:99999"})
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    return {}


@case("export_unknown_encoding", "ConfigError", stage="export", what="--encoding latin-1 for shapefiles",
      export={"to": "out.zip", "encoding": "latin-1"})
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    return {}


@case("export_gpkg_wrong_name", "ConfigError", stage="export", what="--format gpkg --to out.shp",
      export={"to": "out.shp", "format": "gpkg"})
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    return {}


@case("export_many_layers_one_file", "ConfigError", stage="export",
      what="several layers into one .geojson file", export={"to": "out.geojson"})
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    return {}


@case("export_gbk_unencodable", "ValidationError", "car_parks", "NAME", stage="export",
      what="a car park name with an emoji, exported as GBK shapefiles", extra=_emoji,
      export={"to": "out.zip", "encoding": "GBK"})
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    return {}


@case("export_shp_text_too_long", "ValidationError", "car_parks", "NAME", stage="export",
      what="a 200-character name in a shapefile (dBASE holds 254 bytes)", extra=_long_text,
      export={"to": "out_shp", "format": "shp"})
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    return {}


@case("export_unsupported_column", "WriteError", stage="export",
      what="a complex-number column: the write fails after other layers were written", extra=_complex_column,
      export={"to": "out.gpkg"})
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    return {}


@case("export_unknown_layer_key", "ConfigError", stage="export", what="an extra layer named 'towers'",
      extra=_unknown_key, export={"to": "out.gpkg"})
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    return {}


@case("export_layer_without_crs", "CRSError", "car_parks", "CRS", stage="export",
      what="an extra layer without CRS", extra=_no_crs, export={"to": "out.gpkg"})
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    return {}


@case("export_wrong_geometry", "ValidationError", "edge_dc", "geometry", stage="export",
      what="edge data centres as polygons", extra=_dc_polygons, export={"to": "out.gdb"})
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    return {}


@case("export_into_foreign_folder", "WriteError", stage="export",
      what="--to a folder that holds other files (never replaced)", extra=_parks_only,
      export={"to": "foreign", "format": "shp", "existing": "foreign/my_notes.txt"})
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    return {}



# --- values that pass the types but cannot be right (issue 12) --------------------------------------

def _wkt_local() -> RioCRS:
    return RioCRS.from_wkt('LOCAL_CS["site grid",LOCAL_DATUM["d",0],UNIT["metre",1],AXIS["X",EAST],AXIS["Y",NORTH]]')


@case("districts_code_malformed", "ValidationError", "districts", "XZQDM", what="an XZQDM of 5 digits ('35090')")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    bad = g["districts"].copy()
    bad.loc[0, "XZQDM"] = "35090"
    return {"districts": {"path": _gpkg(d, bad)}}


@case("districts_code_duplicate", "ValidationError", "districts", "XZQDM", what="two districts with one XZQDM")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    bad = g["districts"].copy()
    bad["XZQDM"] = ["350901", "350901"]
    return {"districts": {"path": _gpkg(d, bad)}}


@case("districts_pop_infinite", "ValidationError", "districts", "POP", what="an infinite population")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    bad = g["districts"].copy()
    bad["POP"] = [float("inf"), 5000.0]
    return {"districts": {"path": _gpkg(d, bad)}}


@case("districts_pop_zero", "ValidationError", "districts", "POP", what="a district of 0 residents (no NO_STATS flag)")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    bad = g["districts"].copy()
    bad["POP"] = [0.0, 5000.0]
    return {"districts": {"path": _gpkg(d, bad)}}


@case("districts_pop_implausible", "ValidationError", "districts", "POP",
      what="a billion residents in 1 km² (over 100,000 per km²)")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    bad = g["districts"].copy()
    bad["POP"] = [1e9, 5000.0]
    return {"districts": {"path": _gpkg(d, bad)}}


@case("districts_city_polygon_left_in", "ValidationError", "districts", "geometry",
      what="the whole city's polygon left among its districts")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    dist = g["districts"]
    city = gpd.GeoDataFrame({"XZQDM": ["350900"], "XZQMC": ["全市"], "POP": [15_000.0]},
                            geometry=[box(X0, Y0, X0 + 2000, Y0 + 1000)], crs=GK)
    return {"districts": {"path": _gpkg(d, gpd.GeoDataFrame(pd_concat([dist, city]), crs=GK))}}


@case("districts_overlap", "ValidationError", "districts", "geometry", what="two districts overlapping by 30 %")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    bad = g["districts"].copy()
    bad.loc[1, "geometry"] = box(X0 + 700, Y0, X0 + 2000, Y0 + 1000)
    return {"districts": {"path": _gpkg(d, bad)}}


@case("raster_one_cell", "ValidationError", "districts", "population",
      what="a 1 × 1 raster: one district gets no residents")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    _tif(d / "pop.tif", np.array([[15_000.0]]), Affine(2100, 0, X0, 0, -1000, Y0 + 1000), GK)
    return {"districts": {"path": _gpkg(d, g["districts"].drop(columns="POP"))}, "population": {"path": "pop.tif"}}


@case("raster_infinite", "ValidationError", "population", "band1", what="cells of infinite population")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    v = g["values"].copy()
    v[2, 3] = np.inf
    _tif(d / "pop.tif", v, g["transform"], GK)
    return {"population": {"path": "pop.tif"}}


@case("raster_engineering_crs", "CRSError", "population", "CRS", what="a raster in a local engineering CRS")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    h, w = g["values"].shape
    with rasterio.open(d / "pop.tif", "w", driver="GTiff", height=h, width=w, count=1, dtype="float32",
                       crs=_wkt_local(), transform=g["transform"]) as dst:
        dst.write(g["values"].astype("float32"), 1)
    return {"population": {"path": "pop.tif"}}


@case("raster_huge_sparse", "ReadError", what="a small sparse GeoTIFF of 50,000 × 50,000 cells")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    with rasterio.open(d / "pop.tif", "w", driver="GTiff", height=50_000, width=50_000, count=1, dtype="float32",
                       crs=GK, transform=Affine(100, 0, X0, 0, -100, Y0 + 1000), tiled=True, compress="deflate",
                       SPARSE_OK=True) as dst:
        dst.write(np.ones((4, 4), dtype="float32"), 1, window=rasterio.windows.Window(0, 0, 4, 4))
    return {"population": {"path": "pop.tif"}}


@case("file_named_pipe", "ReadError", what="the sites path is a named pipe (a read would hang)")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    if hasattr(os, "mkfifo"):
        os.mkfifo(d / "sites.gpkg")
    else:  # pragma: no cover - Windows: a folder is refused the same way
        (d / "sites.gpkg").mkdir()
    return {"sites": {"path": "sites.gpkg"}}


@case("file_is_a_folder", "ReadError", what="the sites path is a folder")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    (d / "sites.gpkg").mkdir()
    return {"sites": {"path": "sites.gpkg"}}


@case("gpkg_huge_view", "ReadError", what="a small GeoPackage whose layer is a SQL view of 10^12 rows")
def _(d: Path, g: dict[str, Any]) -> str:
    pyogrio.write_dataframe(g["sites"], d / "v.gpkg", layer="base")
    con = sqlite3.connect(d / "v.gpkg")
    with con:
        con.execute("CREATE VIEW sites AS WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE "
                    "i < 1000000000000) SELECT b.fid AS fid, b.geom AS geom, b.SITE_ID, b.SITE_TYPE FROM n, base AS b")
        con.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id) SELECT 'sites', "
                    "'features', 'sites', srs_id FROM gpkg_contents WHERE table_name = 'base'")
        con.execute("INSERT INTO gpkg_geometry_columns SELECT 'sites', column_name, geometry_type_name, srs_id, z, m "
                    "FROM gpkg_geometry_columns WHERE table_name = 'base'")
    con.close()
    return ('[layers.districts]\npath = "{good}/districts.gpkg"\n[layers.population]\npath = "{good}/pop.tif"\n'
            '[layers.sites]\npath = "v.gpkg"\nlayer = "sites"\n[limits]\nread_timeout_s = 1\n')


@case("sites_multipoint", "ValidationError", "sites", "geometry", what="sites as MultiPoints of several points")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    bad = g["sites"].copy()
    bad.geometry = [MultiPoint([p, Point(p.x + 5, p.y)]) for p in bad.geometry]
    return {"sites": {"path": _gpkg(d, bad)}}


@case("sites_at_null_island", "ValidationError", "sites", "geometry", what="sites at (0, 0)")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    bad = g["sites"].copy()
    bad.loc[:4, "geometry"] = Point(0, 0)
    return {"sites": {"path": _gpkg(d, bad)}}


@case("sites_stacked", "ValidationError", "sites", "geometry", what="every site at one point")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    bad = g["sites"].copy()
    bad.geometry = [Point(X0 + 500, Y0 + 500)] * len(bad)
    return {"sites": {"path": _gpkg(d, bad)}}


@case("sites_duplicate_id", "ValidationError", "sites", "SITE_ID", what="two sites with one SITE_ID")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    bad = g["sites"].copy()
    bad.loc[1, "SITE_ID"] = bad.loc[0, "SITE_ID"]
    return {"sites": {"path": _gpkg(d, bad)}}


@case("sites_all_outside", "ValidationError", "sites", "geometry", what="every site 50 km from the districts")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    bad = g["sites"].copy()
    bad.geometry = bad.translate(50_000, 0)
    return {"sites": {"path": _gpkg(d, bad)}}


@case("car_parks_all_zero_spaces", "ValidationError", "car_parks", "SPACES", what="every car park with 0 spaces")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    bad = g["car_parks"].copy()
    bad["SPACES"], bad["CHG_BUILT"] = 0, 0
    return {"car_parks": {"path": _gpkg(d, bad)}}


@case("car_parks_more_chargers_than_spaces", "ValidationError", "car_parks", "CHG_BUILT",
      what="a car park with more charging spaces than spaces")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    bad = g["car_parks"].copy()
    bad.loc[0, "CHG_BUILT"] = 500
    return {"car_parks": {"path": _gpkg(d, bad)}}


@case("edge_demand_all_zero_weight", "ValidationError", "edge_demand", "WEIGHT", what="every demand weight 0")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    dem = gpd.GeoDataFrame({"NAME": [f"医院{i}" for i in range(6)], "CATEGORY": ["hospital"] * 6, "WEIGHT": [0.0] * 6},
                           geometry=list(g["sites"].geometry[:6]), crs=GK)
    return {"edge_demand": {"path": _gpkg(d, dem)}}


@case("toml_census_wan", "ConfigError", "[population_stats]", "census_total", what="census_total = \"516万\"")
def _(d: Path, g: dict[str, Any]) -> str:
    return _toml_with('[population_stats]\ncensus_total = "516万"\n')


@case("toml_census_zero", "ConfigError", "[population_stats]", "census_total", what="census_total = 0")
def _(d: Path, g: dict[str, Any]) -> str:
    return _toml_with("[population_stats]\ncensus_total = 0\n")


@case("toml_yearend_in_wan", "ValidationError", "[population_stats]", "yearend",
      what="a year-end total given in 万 (2 for 20,000)")
def _(d: Path, g: dict[str, Any]) -> str:
    return _toml_with('[population_stats]\nyearend = { "2023" = 2 }\n')


@case("toml_modelled_maybe", "ConfigError", "[layers.sites]", "modelled", what="modelled = \"maybe\"")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    return {"sites": {"path": f"{d.parent.resolve() / 'good' / 'sites.gpkg'}", "modelled": "maybe"}}


@case("toml_setting_misspelt", "ConfigError", "[layers.sites]", "modeled", what="modeled = true (misspelt)")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    return {"sites": {"path": f"{d.parent.resolve() / 'good' / 'sites.gpkg'}", "modeled": True}}


@case("toml_crs_true", "ConfigError", "[layers.sites]", "crs", what="crs = true")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    return {"sites": {"path": f"{d.parent.resolve() / 'good' / 'sites.gpkg'}", "crs": True}}


@case("toml_unknown_plan", "ConfigError", "[project]", "plan", what="plan = \"xiamn\" (no such plan)")
def _(d: Path, g: dict[str, Any]) -> str:
    return _toml_with("", project='[project]\nplan = "xiamn"\n')


@case("toml_binary", "ReadError", what="the project file is binary (NUL bytes)")
def _(d: Path, g: dict[str, Any]) -> str:
    return "\x00\x01\x02 not text"


def _toml_with(extra: str, *, project: str = '[project]\nname = "bad input"\n') -> str:
    return (f'{project}[layers.districts]\npath = "{{good}}/districts.gpkg"\n[layers.population]\n'
            f'path = "{{good}}/pop.tif"\n{extra}')


# --- scenario files ---------------------------------------------------------------------------------

def _scenarios(d: Path, text: str) -> dict[str, Any]:
    (d / "scenarios.toml").write_text(text, encoding="utf-8")
    return {}


@case("scenario_single_table", "ConfigError", "[top level]", "scenario", stage="scenario",
      what="[scenario] written for [[scenario]]")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    return _scenarios(d, '[scenario]\nname = "a"\ntotal = 60\n')


@case("scenario_percent_share", "ConfigError", "[[scenario]] no. 1 ('a')", "charging_share", stage="scenario",
      what="charging_share = \"60%\"")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    return _scenarios(d, '[[scenario]]\nname = "a"\ntotal = 60\ncharging_share = "60%"\n')


@case("scenario_unit_in_number", "ConfigError", "[[scenario]] no. 1 ('a')", "latency_ms", stage="scenario",
      what="latency_ms = \"1ms\"")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    return _scenarios(d, '[[scenario]]\nname = "a"\ntotal = 60\nlatency_ms = "1ms"\n')


@case("scenario_negative_seed", "ConfigError", "[[scenario]] no. 1 ('a')", "seed", stage="scenario",
      what="seed = -1")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    return _scenarios(d, '[[scenario]]\nname = "a"\ntotal = 60\nseed = -1\n')


@case("scenario_duplicate_names", "ConfigError", "[[scenario]]", "name", stage="scenario",
      what="two scenarios with the same name")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    return _scenarios(d, '[[scenario]]\nname = "a"\ntotal = 60\n[[scenario]]\nname = "a"\ntotal = 70\n')


@case("scenario_unknown_band", "ConfigError", "[[scenario]] no. 1 ('a')", "band", stage="scenario",
      what="band = \"n99\"")
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    return _scenarios(d, '[[scenario]]\nname = "a"\ntotal = 60\nband = "n99"\n')


# --- where an export must not write -------------------------------------------------------------------

@case("export_to_project_input", "WriteError", stage="export",
      what="--to the project's own district file, with --overwrite", export={"to": "{input}", "overwrite": True})
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    return {}


@case("export_existing_file", "WriteError", stage="export", what="--to a file that exists, without --overwrite",
      export={"to": "out.gpkg", "existing": "out.gpkg"})
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    return {}


@case("export_over_a_folder", "WriteError", stage="export",
      what="--to out.gpkg where out.gpkg is a folder, with --overwrite",
      export={"to": "out.gpkg", "existing": "out.gpkg/inside.txt", "overwrite": True})
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    return {}


@case("export_into_previous_delivery", "WriteError", stage="export",
      what="--to a file inside an earlier geoplan delivery, without --overwrite",
      export={"to": "delivery/more.gpkg", "existing": [("delivery/geoplan_manifest.json", json.dumps(
          {"schema": "geoplan.manifest/1", "files": {}}))]})
def _(d: Path, g: dict[str, Any]) -> dict[str, Any]:
    return {}


def pd_concat(frames: list[gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    import pandas as pd

    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=frames[0].crs)

if __name__ == "__main__":  # pragma: no cover
    out = build(sys.argv[1] if len(sys.argv) > 1 else "bad_inputs_corpus")
    print(f"{len(CASES)} cases written to {out}")
