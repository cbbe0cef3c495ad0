"""All of geoplan's disk access: reading and writing layers, rasters, tables and TOML.

Readers return validated-ready objects (GeoDataFrames, :class:`Raster`, dicts);
algorithms never take paths. Every write goes to a temporary file in the target
directory and is renamed into place, so a failure never leaves a half-written
output behind.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import rasterio
import tomli_w
from affine import Affine
from pyproj import CRS
from rasterio.errors import RasterioIOError

from .errors import Problem, ReadError, ValidationError, WriteError

__all__ = [
    "Raster",
    "REPO_ROOT",
    "DEFAULT_PROJECT",
    "LAYER_SPEC_DIR",
    "atomic_path",
    "read_vector",
    "write_vector",
    "read_raster",
    "write_raster",
    "read_toml",
    "write_toml",
    "read_csv",
    "write_text",
    "read_plan_data",
    "list_plan_files",
    "read_layer_specs",
]

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())

#: The checkout holding ``data/gis`` and ``layers`` (geoplan is installed editable from it).
REPO_ROOT = Path(__file__).resolve().parent.parent
#: The embedded Xiamen project.
DEFAULT_PROJECT = REPO_ROOT / "data" / "gis" / "geoplan.toml"
#: Declarative layer specs.
LAYER_SPEC_DIR = REPO_ROOT / "layers"


@dataclass(frozen=True)
class Raster:
    """A single-band raster in memory.

    Attributes
    ----------
    values : numpy.ndarray
        2-D float64 array; cells equal to ``nodata`` (or NaN) carry no value.
    transform : affine.Affine
        Pixel-to-CRS transform (GDAL order).
    crs : pyproj.CRS or None
        The raster's CRS; ``None`` when the file declares none (validation refuses it).
    nodata : float or None
        The no-data value, if any.
    name : str
        Logical layer name, for messages.
    """

    values: np.ndarray
    transform: Affine
    crs: CRS | None
    nodata: float | None
    name: str = "population"

    @property
    def valid(self) -> np.ndarray:
        """Boolean mask of cells holding a value."""
        v = self.values
        mask = np.isfinite(v)
        if self.nodata is not None and np.isfinite(self.nodata):
            mask &= v != self.nodata
        return mask

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(left, bottom, right, top)`` in the raster's CRS."""
        h, w = self.values.shape
        xs = [self.transform.c, self.transform.c + self.transform.a * w]
        ys = [self.transform.f, self.transform.f + self.transform.e * h]
        return (min(xs), min(ys), max(xs), max(ys))


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], *, layer: str = "output") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only on success.

    A temporary *directory* is used so that multi-file formats (shapefiles, FileGDB)
    can be written whole and moved as a unit.
    """
    target = Path(path)
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.exists():
        raise WriteError(f"cannot write layer '{layer}' to {target}: folder {parent} does not exist. "
                         "Fix: create the folder or choose another output path")
    tmpdir = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=parent))
    tmp = tmpdir / target.name
    try:
        yield tmp
        if not tmp.exists():
            raise WriteError(f"writing layer '{layer}' produced no file at {target}")
        if tmp.is_dir():
            if target.exists():
                shutil.rmtree(target)
            os.replace(tmp, target)
        else:
            # multi-file outputs (e.g. shapefile sidecars) move together
            for sib in tmpdir.iterdir():
                os.replace(sib, parent / sib.name)
    except WriteError:
        raise
    except Exception as exc:
        if isinstance(exc, ValidationError):
            raise
        raise WriteError(f"could not write layer '{layer}' to {target}: {exc}. "
                         "Fix: check the folder is writable and has space; nothing was written") from exc
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


def _missing(path: Path, layer: str) -> ReadError:
    return ReadError(f"layer '{layer}': file {path} does not exist. "
                     "Fix: correct the path in the project file (paths are relative to the project file)")


def read_vector(path: str | os.PathLike[str], *, layer: str, sublayer: str | None = None,
                encoding: str | None = None) -> gpd.GeoDataFrame:
    """Read a vector layer (GeoPackage, shapefile, GeoJSON, FileGDB ...) with pyogrio.

    Parameters
    ----------
    path : path-like
        The file (or FileGDB folder).
    layer : str
        Logical layer name, used in messages.
    sublayer : str, optional
        Layer inside a multi-layer container (GeoPackage, FileGDB).
    encoding : str, optional
        Attribute encoding of shapefiles without a ``.cpg`` (e.g. ``"GBK"``).
    """
    p = Path(path)
    if not p.exists():
        raise _missing(p, layer)
    try:
        gdf = gpd.read_file(p, layer=sublayer, encoding=encoding, engine="pyogrio")
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise ReadError(f"layer '{layer}': cannot read {p} as a vector layer ({exc}). "
                        "Fix: export it from your GIS as GeoPackage, shapefile or GeoJSON") from exc
    except Exception as exc:  # pyogrio raises plain errors for corrupt files
        raise ReadError(f"layer '{layer}': {p} is not a readable vector file ({type(exc).__name__}: {exc}). "
                        "Fix: re-export it from your GIS as GeoPackage") from exc
    log.info("read %d features of layer %s from %s", len(gdf), layer, p)
    return gdf


def write_vector(gdf: gpd.GeoDataFrame, path: str | os.PathLike[str], *, layer: str,
                 driver: str | None = None, sublayer: str | None = None, append_layer: bool = False,
                 **kwargs: Any) -> Path:
    """Write ``gdf`` atomically. ``append_layer`` adds a layer to an existing GeoPackage."""
    target = Path(path)
    if append_layer and target.exists():
        # add a layer to an existing container: copy, write into the copy, swap
        with atomic_path(target, layer=layer) as tmp:
            shutil.copy2(target, tmp)
            pyogrio.write_dataframe(gdf, tmp, layer=sublayer or layer, driver=driver, **kwargs)
        return target
    with atomic_path(target, layer=layer) as tmp:
        pyogrio.write_dataframe(gdf, tmp, layer=sublayer or layer, driver=driver, **kwargs)
    return target


def read_raster(path: str | os.PathLike[str], *, layer: str = "population", band: int = 1) -> Raster:
    """Read one band of a raster (GeoTIFF, WorldPop ...) into memory as float64."""
    p = Path(path)
    if not p.exists():
        raise _missing(p, layer)
    try:
        with rasterio.open(p) as src:
            if band < 1 or band > src.count:
                raise ValidationError(Problem(layer, f"band {band}", f"{p.name} has {src.count} band(s)",
                                              f"set band between 1 and {src.count} in the project file"))
            values = src.read(band).astype("float64")
            crs = CRS.from_user_input(src.crs.to_wkt()) if src.crs else None
            return Raster(values=values, transform=src.transform, crs=crs, nodata=src.nodata, name=layer)
    except RasterioIOError as exc:
        raise ReadError(f"layer '{layer}': cannot read {p} as a raster ({exc}). "
                        "Fix: provide a GeoTIFF") from exc


def write_raster(raster: Raster, path: str | os.PathLike[str], *, dtype: str = "float32",
                 tags: dict[str, str] | None = None) -> Path:
    """Write a single-band GeoTIFF atomically (deflate-compressed, tiled)."""
    h, w = raster.values.shape
    with atomic_path(path, layer=raster.name) as tmp:
        with rasterio.open(
            tmp, "w", driver="GTiff", height=h, width=w, count=1, dtype=dtype,
            crs=raster.crs.to_wkt() if raster.crs else None, transform=raster.transform,
            nodata=raster.nodata, compress="deflate", predictor=3 if dtype.startswith("float") else 2,
            tiled=True, blockxsize=256, blockysize=256,
        ) as dst:
            dst.write(raster.values.astype(dtype), 1)
            if tags:
                dst.update_tags(**tags)
    return Path(path)


def read_toml(path: str | os.PathLike[str], *, what: str = "project file") -> dict[str, Any]:
    """Read a TOML file (project, scenario, layer spec)."""
    p = Path(path)
    if not p.exists():
        raise ReadError(f"{what} {p} does not exist. Fix: check the path")
    try:
        with p.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ReadError(f"{what} {p} is not valid TOML: {exc}. Fix: correct the syntax at that line") from exc


def write_toml(data: dict[str, Any], path: str | os.PathLike[str], *, what: str = "scenario") -> Path:
    """Write ``data`` as TOML atomically."""
    text = tomli_w.dumps(data)
    return write_text(text, path, what=what)


def write_text(text: str, path: str | os.PathLike[str], *, what: str = "output") -> Path:
    """Write a UTF-8 text file atomically (CSV, JSON, TOML, Markdown)."""
    with atomic_path(path, layer=what) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def read_csv(path: str | os.PathLike[str], *, what: str = "table", **kwargs: Any) -> pd.DataFrame:
    """Read a CSV table (UTF-8)."""
    p = Path(path)
    if not p.exists():
        raise ReadError(f"{what} {p} does not exist. Fix: check the path")
    try:
        return pd.read_csv(p, **kwargs)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ReadError(f"{what} {p} is not a readable UTF-8 CSV: {exc}") from exc


def list_plan_files() -> list[str]:
    """Names (without ``.toml``) of the plan target files shipped with geoplan."""
    root = resources.files("geoplan.targets")
    return sorted(f.name[:-5] for f in root.iterdir() if f.name.endswith(".toml"))


def read_plan_data(key: str) -> dict[str, Any]:
    """Read the shipped target data of plan ``key`` (e.g. ``"xiamen"``)."""
    res = resources.files("geoplan.targets") / f"{key}.toml"
    if not res.is_file():
        from .errors import ConfigError

        raise ConfigError(f"no plan named {key!r}; shipped plans: {', '.join(list_plan_files())}. "
                          "Fix: pass --plan with one of those")
    return tomllib.loads(res.read_text(encoding="utf-8"))


def read_layer_specs(directory: str | os.PathLike[str] | None = None) -> dict[str, dict[str, Any]]:
    """Read every ``*.toml`` layer spec in ``directory`` (default: the repo's ``layers/``)."""
    d = Path(directory) if directory is not None else LAYER_SPEC_DIR
    specs: dict[str, dict[str, Any]] = {}
    for f in sorted(d.glob("*.toml")):
        spec = read_toml(f, what="layer spec")
        key = spec.get("layer", {}).get("key", f.stem)
        specs[key] = spec
    return specs
