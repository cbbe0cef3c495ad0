"""A validated project kept on disk between runs, and a project's content fingerprint.

Reading and validating a city project (ten or more layers, each checked field by
field) takes about a second — most of the map app's start once its planning
context comes from the disk cache. :func:`load_project_cached` keeps the
validated :class:`~geoplan.project.Project` in :func:`geoplan.io.cache_dir`
(``$GEOPLAN_CACHE_DIR``, default ``~/.cache/geoplan``) and uses it again only
when nothing it was made from has changed:

- the **content** (SHA-256) of every file the load read — the project file, its
  targets file, every layer with its sidecars (``.dbf``, ``.prj`` …), the
  population raster, CSV/XLSX tables, mapping files — recorded by
  :func:`geoplan.io.recording_reads` while the project was loaded, so an edited
  layer or project file is a reload whatever its date;
- the project file's path, the read limits in force (``[limits]`` and
  ``GEOPLAN_MAX_*``), ``geoplan.__version__`` and a stamp of geoplan's own files
  (name, size, date of every module and shipped spec), so an upgrade or an
  edited layer spec never reuses a project validated by other code.

The warnings the load logged (a declared CRS overriding a file's, …) are kept
with it and logged again when it is reused. A project whose population raster
is larger than :data:`MAX_CACHED_RASTER_BYTES` is not kept (a province: copying
its grid would cost more than reading it). The cache file is a pickle, private
to the user (mode 600); a file that is not the user's own, or cannot be read, is
ignored and rebuilt, and the folder can be deleted at any time.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import weakref
from pathlib import Path

import numpy as np
import pandas as pd

from . import io
from .project import Project, load_project

__all__ = ["load_project_cached", "project_fingerprint", "MAX_CACHED_RASTER_BYTES"]

log = logging.getLogger(__name__)

#: A project whose population grid holds more bytes than this is loaded from its files every time.
MAX_CACHED_RASTER_BYTES = 128 * 1024**2
_FORMAT = 1
_KNOWN: weakref.WeakKeyDictionary[Project, str] = weakref.WeakKeyDictionary()


def project_fingerprint(proj: Project) -> str:
    """SHA-256 of a project's content; computed once per project object.

    Covers the population grid's values, transform and CRS, the plan and its
    targets, the radio parameters' digest (a project file's ``[radio]``
    overrides), every layer's geometry and attributes, every siting layer
    (inventories, constraints, edge sites) with its table, and the ``[siting]``
    overrides such as site costs — so an edited project file or layer gives a
    new fingerprint, whatever its file name or date.

    Examples
    --------
    >>> import geoplan as gp
    >>> len(project_fingerprint(gp.load_project()))
    64
    """
    known = _KNOWN.get(proj)
    if known is not None:
        return known
    h = hashlib.sha256()
    r = proj.population
    h.update(np.ascontiguousarray(r.values).tobytes())
    h.update(repr((tuple(r.transform)[:6], r.crs.to_wkt() if r.crs else None, r.nodata)).encode())
    h.update(f"{proj.name}|{proj.plan}|{proj.metric_crs.to_wkt()}".encode())
    # the radio parameters (a project file's [radio] overrides) set every radius, share and capacity; the targets
    # (a targets file of the project's own) set how many modelled candidates are drawn
    h.update(f"{proj.radio_params.digest}|{proj.targets!r}|{proj.plan_scaling}|{proj.area_code}".encode())
    siting = [(ly.config.label, ly.frame) for ly in proj.siting.layers]
    for key, gdf in [("districts", proj.districts), *sorted(proj.layers.items(), key=lambda kv: kv[0]), *siting]:
        h.update(key.encode())
        h.update(b"".join(gdf.geometry.to_wkb()))
        attrs = gdf.drop(columns=gdf.geometry.name)
        h.update(",".join(map(str, attrs.columns)).encode())
        h.update(pd.util.hash_pandas_object(attrs.astype(str), index=False).to_numpy().tobytes())
    h.update(json.dumps([repr(ly.config) for ly in proj.siting.layers]).encode())
    h.update(json.dumps(proj.siting.overrides, sort_keys=True, default=str).encode())
    _KNOWN[proj] = fp = h.hexdigest()
    return fp


@functools.lru_cache(maxsize=1)
def _code_stamp() -> str:
    """Name, size and modification time of every file of the installed geoplan package (not its caches)."""
    from . import __version__

    root = Path(__file__).resolve().parent
    h = hashlib.sha256(__version__.encode())
    for f in sorted(root.rglob("*")):
        if "__pycache__" in f.parts or not f.is_file():
            continue
        st = f.stat()
        h.update(f"{f.relative_to(root)}|{st.st_size}|{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def _entry_path(path: Path, folder: str | os.PathLike[str] | None) -> Path:
    text = json.dumps({"project": str(path), "code": _code_stamp(), "limits": repr(io.current_limits()),
                       "format": _FORMAT})
    name = f"project-{hashlib.sha256(text.encode()).hexdigest()[:32]}.pickle"
    return Path(folder if folder is not None else io.cache_dir()) / name


class _Warnings(logging.Handler):
    """The WARNING records geoplan logs while a project loads (kept to be logged again when it is reused)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[tuple[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((record.name, record.getMessage()))


def load_project_cached(path: str | os.PathLike[str] | None = None, *,
                        folder: str | os.PathLike[str] | None = None) -> Project:
    """:func:`~geoplan.project.load_project`, reusing the project validated by an earlier run when nothing changed.

    See the module notes for what "nothing changed" covers. Errors are those of
    :func:`~geoplan.project.load_project` (a project that fails validation is
    never kept); a cache that cannot be written only costs time.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     a = load_project_cached(folder=d)
    ...     b = load_project_cached(folder=d)
    >>> a is b, project_fingerprint(a) == project_fingerprint(b), len(b.districts)
    (False, True, 6)
    """
    p = Path(os.path.abspath(path if path is not None else io.default_project_path()))
    where = _entry_path(p, folder)
    entry = io.read_object(where)
    if isinstance(entry, dict) and entry.get("format") == _FORMAT and isinstance(entry.get("project"), Project):
        if io.file_digests(entry["files"]) == entry["digests"]:
            proj: Project = entry["project"]
            _KNOWN[proj] = entry["fingerprint"]
            for name, message in entry["warnings"]:
                logging.getLogger(name).warning("%s", message)
            return proj
    catcher = _Warnings()
    geoplan_log = logging.getLogger("geoplan")
    geoplan_log.addHandler(catcher)
    try:
        with io.recording_reads() as reads:
            proj = load_project(p)
    finally:
        geoplan_log.removeHandler(catcher)
    if proj.population.values.nbytes > MAX_CACHED_RASTER_BYTES:
        return proj
    files = sorted(set(reads))
    entry = {"format": _FORMAT, "files": [str(f) for f in files], "digests": io.file_digests(files),
             "project": proj, "fingerprint": project_fingerprint(proj), "warnings": catcher.records}
    try:
        io.write_object(entry, where)
    except Exception as exc:  # noqa: BLE001 - a cache that cannot be written only costs time
        log.info("project cache not written (%s)", exc)
    return proj
