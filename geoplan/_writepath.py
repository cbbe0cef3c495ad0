"""geoplan's one write path (used through :mod:`geoplan.io`): check, stage, commit, never clobber.

Every output — ``place ... --out``, ``export``, scenario files, GeoTIFFs, the
app's downloads (staged in a scratch folder) — goes through :func:`atomic_path`:

1. **Check** the destination before anything is created (:func:`check_output`):
   the folder must exist and be writable, the name must fit the file system,
   and the destination must not be

   * one of the project's input files (never written over, even with ``overwrite``);
   * an existing file, unless ``overwrite`` is given;
   * an existing folder, unless it is an earlier geoplan delivery (it holds a
     :data:`MANIFEST`) *and* ``overwrite`` is given — then only the files that
     geoplan wrote there, unchanged since, are replaced; anything else in it is
     left alone;
   * inside an earlier delivery, unless ``overwrite`` is given.

2. **Stage**: the writer writes into a fresh hidden folder beside the destination
   (``.geoplan-tmp-<pid>-…``). Creating it is inside the error handling: a
   missing, read-only or full folder, or a name that is too long, is one
   :class:`~geoplan.errors.WriteError`.

3. **Commit**: every staged file is moved onto its destination with an atomic
   rename, sidecars first and the main output last. A file being replaced is
   kept (hard-linked aside) until all moves succeeded; on any failure the moves
   are undone and the previous files are back. The commit runs with signals held
   back (:func:`geoplan._signals.deferred_signals`), so Ctrl-C or SIGTERM never
   leaves half a delivery.

4. **Clean up**: the staging folder goes on success, failure and interrupt.
   Staging folders left by a process that was killed outright (SIGKILL, power
   loss) are removed the next time geoplan writes into that folder.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ._signals import deferred_signals
from .errors import GeoplanError, WriteError

__all__ = ["MANIFEST", "atomic_path", "check_output", "read_manifest", "input_family", "sha256_file", "files_under"]

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())

#: The file geoplan writes into every folder output (delivery folder, FileGDB) listing what it wrote.
MANIFEST = "geoplan_manifest.json"
_MANIFEST_SCHEMA = "geoplan.manifest/1"
_TMP_PREFIX = ".geoplan-tmp-"
_RESCUE_PREFIX = ".geoplan-rescued-"
_BACKUP = ".geoplan-backup"
_FIX_OVERWRITE = "pass --overwrite (overwrite=True) to replace it, or choose another name"


def _abs(path: str | os.PathLike[str]) -> Path:
    """Absolute path with the folder part resolved (symlinks too) and the last name kept as given."""
    p = Path(os.path.abspath(os.fspath(path)))
    try:
        parent = Path(os.path.realpath(p.parent))
    except (OSError, ValueError):
        parent = p.parent
    return parent / p.name


def input_family(path: str | os.PathLike[str]) -> set[Path]:
    """A file and its sidecars (``x.shp`` → ``x.shx``, ``x.dbf`` ...; ``x.tif`` → ``x.tif.aux.xml``), resolved.

    What a reader of ``path`` may open; the write path never writes over any of them.
    """
    p = Path(os.path.realpath(os.fspath(path)))
    out = {p}
    stem = p.name.split(".")[0].lower()
    try:
        with os.scandir(p.parent) as it:
            for e in it:
                if e.name.lower() == p.name.lower() or e.name.split(".")[0].lower() == stem:
                    out.add(Path(os.path.realpath(e.path)))
    except OSError:
        pass
    return out


_SIDECAR_SUFFIXES = {".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx", ".shp.xml", ".tfw", ".tifw", ".wld",
                     ".aux.xml", ".ovr", ".msk", ".rrd", ".qmd", ".qml"}


def _sidecar_of(dest: Path, source: Path) -> bool:
    """Whether a file named ``dest`` would be read as a sidecar of ``source`` (``x.cpg`` of ``x.shp``, ``x.tif.ovr``)."""
    if dest.parent != source.parent:
        return False
    d, s = dest.name.lower(), source.name.lower()
    if d.startswith(s + "."):
        return True
    stem = s.split(".")[0]
    return d.split(".")[0] == stem and "." + d.split(".", 1)[-1] in _SIDECAR_SUFFIXES and \
        s.rsplit(".", 1)[-1] in ("shp", "tif", "tiff", "img", "asc")


def _protected(dest: Path, protect: Collection[Path]) -> Path | None:
    """The protected path ``dest`` would write over (itself, inside, holding it, or a sidecar of it), if any."""
    if not protect:
        return None
    real = Path(os.path.realpath(dest)) if os.path.lexists(dest) else dest
    for p in protect:
        pr = Path(os.path.realpath(p))
        if real == pr or pr in real.parents or real in pr.parents or _sidecar_of(real, pr):
            return pr
        with contextlib.suppress(OSError):
            if os.path.exists(real) and os.path.samefile(real, pr):  # a hard link to an input
                return pr
    return None


# --- manifests ------------------------------------------------------------------------------------------

def sha256_file(path: Path) -> str:
    """SHA-256 of a file's content, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def files_under(root: Path) -> list[str]:
    """Every file (and symlink) below ``root``, as sorted POSIX paths relative to it."""
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() or p.is_symlink())


def _write_manifest(root: Path) -> None:
    files = {rel: {"bytes": (root / rel).stat().st_size, "sha256": sha256_file(root / rel)}
             for rel in files_under(root) if rel != MANIFEST}
    import geoplan

    doc = {"schema": _MANIFEST_SCHEMA, "written_by": f"geoplan {geoplan.__version__}",
           "created": datetime.now(UTC).isoformat(timespec="seconds"),
           "note": "Files geoplan wrote into this folder. geoplan replaces only these (and only with "
                   "--overwrite) and leaves every other file here alone.",
           "files": files}
    (root / MANIFEST).write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")


def read_manifest(folder: str | os.PathLike[str]) -> dict[str, dict[str, Any]] | None:
    """The files (relative name → ``{"bytes", "sha256"}``) a geoplan manifest in ``folder`` lists; ``None`` without one."""
    m = Path(folder) / MANIFEST
    try:
        if not m.is_file() or m.stat().st_size > 64 * 1024**2:
            return None
        doc = json.loads(m.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or doc.get("schema") != _MANIFEST_SCHEMA or not isinstance(doc.get("files"), dict):
        return None
    files = {str(k): v for k, v in doc["files"].items() if isinstance(v, dict)}
    return {k: v for k, v in files.items() if not Path(k).is_absolute() and ".." not in Path(k).parts}


def _unchanged(root: Path, rel: str, entry: dict[str, Any]) -> bool:
    p = root / rel
    try:
        if p.is_symlink() or not p.is_file():
            return False
        return p.stat().st_size == entry.get("bytes") and sha256_file(p) == entry.get("sha256")
    except OSError:
        return False


def _enclosing_delivery(folder: Path) -> Path | None:
    """The nearest folder at or above ``folder`` holding a geoplan manifest."""
    for d in (folder, *folder.parents):
        if (d / MANIFEST).is_file() and read_manifest(d) is not None:
            return d
    return None


# --- checks ---------------------------------------------------------------------------------------------

def _name_max(folder: Path) -> int:
    try:
        return int(os.pathconf(folder, "PC_NAME_MAX"))
    except (OSError, ValueError, AttributeError):
        return 255


def _check_parent(target: Path, layer: str) -> None:
    parent = target.parent
    if len(os.fsencode(str(target))) >= 4000:
        raise WriteError(f"cannot write {layer} to {target}: the path is {len(os.fsencode(str(target))):,} bytes long "
                         "(the limit is about 4,000). Fix: choose a shorter path; nothing was written")
    first = parent
    while not os.path.lexists(first) and first != first.parent:
        first = first.parent
    if first != parent or not os.path.isdir(parent):
        if os.path.lexists(first) and not os.path.isdir(first):
            raise WriteError(f"cannot write {layer} to {target}: {first} is a file, not a folder. "
                             "Fix: choose an output path in an existing folder; nothing was written")
        raise WriteError(f"cannot write {layer} to {target}: folder {parent} does not exist. "
                         "Fix: create the folder or choose another output path; nothing was written")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise WriteError(f"cannot write {layer} to {target}: folder {parent} is not writable (read-only or no "
                         "permission). Fix: choose a folder you can write to; nothing was written")
    n = len(os.fsencode(target.name))
    if n > _name_max(parent):
        raise WriteError(f"cannot write {layer} to {target.name[:40]}…: the file name is {n} bytes long and the file "
                         f"system allows {_name_max(parent)}. Fix: choose a shorter name; nothing was written")


def _check_dest(dest: Path, *, layer: str, overwrite: bool, protect: Collection[Path], folder: bool,
                replacing: Path | None = None) -> None:
    """Refuse writing ``dest`` (a file, or a folder when ``folder``) under the rules of the module docstring."""
    hit = _protected(dest, protect)
    if hit is not None:
        what = "is" if hit == Path(os.path.realpath(dest)) else "would write over"
        raise WriteError(f"{dest} {what} an input of the project ({hit.name}); geoplan never writes over the "
                         "project's own files, even with --overwrite. Fix: choose another output name")
    delivery = _enclosing_delivery(dest.parent)
    if delivery is not None and delivery != replacing:
        if not overwrite:
            raise WriteError(f"{dest} is inside {delivery}, an earlier geoplan delivery. Fix: pass --overwrite to "
                             "write into it, or choose a path outside it")
        manifest = read_manifest(delivery) or {}
        rel = dest.relative_to(delivery).as_posix()
        if os.path.lexists(dest) and not (rel in manifest and _unchanged(delivery, rel, manifest[rel])):
            raise WriteError(f"{dest} (in the delivery {delivery.name}) was not written by geoplan, or was changed "
                             "since; it was left untouched. Fix: choose another name")
    if not os.path.lexists(dest):
        return
    is_dir = dest.is_dir() and not dest.is_symlink()
    if not folder:
        if is_dir:
            raise WriteError(f"{dest} is a folder; geoplan never replaces a folder with a file. "
                             "Fix: choose another output name")
        if not overwrite:
            raise WriteError(f"{dest} already exists. Fix: {_FIX_OVERWRITE}")
        return
    if not is_dir:
        raise WriteError(f"{dest} exists and is a file, not a folder. Fix: choose another output name")
    found = read_manifest(dest)
    if found is None:
        if not any(dest.iterdir()):
            return  # an empty folder: nothing to lose
        raise WriteError(f"folder {dest} exists and is not an earlier geoplan delivery (it has no {MANIFEST}); "
                         "it was left untouched. Fix: choose a new folder name")
    if not overwrite:
        raise WriteError(f"{dest} is an earlier geoplan delivery. Fix: {_FIX_OVERWRITE} (only the files geoplan "
                         "wrote there are replaced)")
    changed = [rel for rel, e in found.items() if os.path.lexists(dest / rel) and not _unchanged(dest, rel, e)]
    if changed:
        raise WriteError(f"{len(changed)} file(s) geoplan wrote in {dest} were changed since "
                         f"({', '.join(changed[:5])}); the delivery was left untouched. "
                         "Fix: move your changes elsewhere, or choose a new folder name")


def check_output(path: str | os.PathLike[str], *, layer: str = "output", overwrite: bool = False,
                 protect: Collection[str | os.PathLike[str]] = (), folder: bool = False) -> Path:
    """Refuse an output before any work is done; return its absolute path.

    Parameters
    ----------
    path : path-like
        The file (or, with ``folder=True``, the folder) to write.
    layer : str
        What is written, for messages.
    overwrite : bool
        Allow replacing an existing file, or the files of an earlier geoplan delivery.
    protect : collection of path-like
        Files never to write over (a project's inputs: :attr:`geoplan.Project.input_files`).
    folder : bool
        The output is a folder (a FileGDB, or shapefiles / GeoJSON in a folder).

    Raises
    ------
    WriteError
        Naming the rule broken and the fix.
    """
    target = _abs(path)
    if not target.name or target.name in (".", ".."):
        raise WriteError(f"cannot write {layer} to {path!s}: it names a folder, not an output. Fix: add a file name")
    _check_parent(target, layer)
    _check_dest(target, layer=layer, overwrite=overwrite, protect=_paths(protect), folder=folder)
    return target


def _paths(protect: Collection[str | os.PathLike[str]]) -> list[Path]:
    return [Path(os.path.realpath(os.fspath(p))) for p in protect]


# --- stage and commit -----------------------------------------------------------------------------------

def _alive(pid: int) -> bool:
    if os.name != "posix":  # os.kill(pid, 0) would send a signal elsewhere: never sweep there
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def _sweep_stale(folder: Path) -> None:
    """Remove staging folders of geoplan processes that no longer exist."""
    try:
        entries = [e for e in os.scandir(folder) if e.name.startswith(_TMP_PREFIX) and e.is_dir(follow_symlinks=False)]
    except OSError:
        return
    for e in entries:
        try:
            pid = int(e.name[len(_TMP_PREFIX):].split("-")[0])
        except ValueError:
            continue
        if pid != os.getpid() and not _alive(pid) and (Path(e.path) / ".geoplan-staging").is_file():
            shutil.rmtree(e.path, ignore_errors=True)
            log.info("removed %s, left by an interrupted geoplan run", e.path)


def _os_error(target: Path, layer: str, exc: OSError) -> WriteError:
    reasons = {
        errno.EACCES: "no permission to write there", errno.EPERM: "no permission to write there",
        errno.EROFS: "the folder is on a read-only file system", errno.ENOSPC: "the disk is full",
        errno.EDQUOT: "the disk quota is used up", errno.ENAMETOOLONG: "the name or path is too long",
        errno.ENOTDIR: "a part of the path is a file, not a folder", errno.ENOENT: "the folder disappeared",
        errno.EISDIR: "a folder is in the way",
    }
    why = reasons.get(exc.errno or 0, exc.strerror or str(exc))
    return WriteError(f"could not write {layer} to {target}: {why}. Fix: choose another folder or free space; "
                      "nothing was written and existing files are unchanged")


@dataclass
class _Commit:
    """Moves of staged files onto their destinations, undoable until done."""

    backup: Path
    done: list[tuple[Path, Path | None]] = field(default_factory=list)
    made_dirs: list[Path] = field(default_factory=list)

    def move(self, src: Path, dst: Path) -> None:
        saved = None
        if os.path.lexists(dst):
            self.backup.mkdir(exist_ok=True)
            saved = self.backup / str(len(self.done))
            try:  # keep the old file under a second name; dst itself stays until replaced atomically
                os.link(dst, saved, follow_symlinks=False)
            except OSError:
                os.replace(dst, saved)
        if not dst.parent.exists():
            missing = [d for d in (dst.parent, *dst.parent.parents) if not d.exists()]
            dst.parent.mkdir(parents=True)
            self.made_dirs.extend(reversed(missing))
        os.replace(src, dst)
        self.done.append((dst, saved))

    def retire(self, old: Path) -> None:
        """Move a file geoplan wrote earlier and no longer writes out of the delivery."""
        self.backup.mkdir(exist_ok=True)
        saved = self.backup / str(len(self.done))
        os.replace(old, saved)
        self.done.append((old, saved))

    def undo(self) -> bool:
        ok = True
        for dst, saved in reversed(self.done):
            try:
                if saved is not None and not os.path.lexists(dst):
                    os.replace(saved, dst)
                elif saved is not None:
                    os.replace(saved, dst)
                elif dst.is_dir() and not dst.is_symlink():
                    shutil.rmtree(dst)
                else:
                    dst.unlink()
            except OSError as exc:
                log.error("could not restore %s: %s", dst, exc)
                ok = False
        for d in reversed(self.made_dirs):
            with contextlib.suppress(OSError):
                d.rmdir()
        return ok


def _plan(tmpdir: Path, tmp: Path, target: Path) -> tuple[list[tuple[Path, Path]], list[Path], bool]:
    """``(moves, retired, folder)``: staged file → destination, earlier delivery files to retire."""
    parent = target.parent
    moves: list[tuple[Path, Path]] = []
    for sib in sorted(tmpdir.iterdir()):
        if sib.name in (target.name, _BACKUP, ".geoplan-staging"):
            continue
        if sib.is_dir() and not sib.is_symlink():
            moves += [(sib / rel, parent / sib.name / rel) for rel in files_under(sib)]
        else:
            moves.append((sib, parent / sib.name))
    folder = tmp.is_dir() and not tmp.is_symlink()
    retired: list[Path] = []
    if not folder:
        moves.append((tmp, target))
    elif not os.path.lexists(target) or (target.is_dir() and not any(target.iterdir())):
        _write_manifest(tmp)
        moves.append((tmp, target))  # rename(2) replaces an empty folder
    else:  # merge into an earlier delivery: its own files are replaced or retired, nothing else is touched
        _write_manifest(tmp)
        new = files_under(tmp)
        old = read_manifest(target) or {}
        retired = [target / rel for rel in old if rel not in new and os.path.lexists(target / rel)]
        moves += [(tmp / rel, target / rel) for rel in new if rel != MANIFEST]
        moves.append((tmp / MANIFEST, target / MANIFEST))
    return moves, retired, folder


#: Companions of a shapefile or raster that describe its old content (indexes, overviews, statistics).
_STALE_COMPANIONS = (".sbn", ".sbx", ".qix", ".ovr", ".aux.xml", ".msk")


def _stale_companions(dst: Path, incoming: set[Path]) -> list[Path]:
    """Index/overview files of the file ``dst`` replaces that the new output does not replace: they would lie."""
    if dst.suffix.lower() not in (".shp", ".tif", ".tiff") or not os.path.lexists(dst):
        return []
    names = [dst.with_suffix(ext) for ext in _STALE_COMPANIONS] + [dst.with_name(dst.name + ext)
                                                                     for ext in _STALE_COMPANIONS]
    return [p for p in names if os.path.lexists(p) and p not in incoming]


def _check_moves(moves: list[tuple[Path, Path]], target: Path, folder: bool, *, layer: str, overwrite: bool,
                 protect: list[Path]) -> None:
    if folder:
        _check_dest(target, layer=layer, overwrite=overwrite, protect=protect, folder=True)
        old = read_manifest(target) or {}
    for _src, dst in moves:
        if folder and target in dst.parents:
            rel = dst.relative_to(target).as_posix()
            if os.path.lexists(dst) and rel not in old and rel != MANIFEST:
                raise WriteError(f"{dst} is in the way: geoplan did not write it, so it was left untouched and "
                                 "nothing was written. Fix: move it away or choose a new folder name")
            continue
        if dst == target and folder:
            continue
        _check_dest(dst, layer=layer, overwrite=overwrite, protect=protect, folder=False)
        stale = _stale_companions(dst, {d for _, d in moves})
        if stale:
            raise WriteError(f"{stale[0].name} beside {dst.name} indexes the file being replaced and would no longer "
                             "match it; nothing was written. Fix: delete it (your GIS rebuilds it) or choose another "
                             "name")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], *, layer: str = "output", overwrite: bool = False,
                protect: Collection[str | os.PathLike[str]] = (), folder: bool = False) -> Iterator[Path]:
    """Yield a staging path for ``path``; move what was written there into place only on success.

    The writer writes ``path``'s file (or folder) at the yielded path and may put
    sidecars beside it (shapefile parts, a GeoTIFF beside a GeoPackage); all of
    them are moved beside ``path`` when the block succeeds, ``path`` itself last.
    A folder output (``folder=True``: a FileGDB, a delivery folder) gets a
    :data:`MANIFEST`. See the module docstring for the rules; ``overwrite`` and
    ``protect`` are those of :func:`check_output`.

    Raises
    ------
    WriteError
        The destination is refused, cannot be written, or the writer failed
        (other :class:`~geoplan.errors.GeoplanError` of the writer pass through).
    """
    target = _abs(path)
    prot = _paths(protect)
    if not target.name or target.name in (".", ".."):
        raise WriteError(f"cannot write {layer} to {path!s}: it names a folder, not an output. Fix: add a file name")
    _check_parent(target, layer)
    _check_dest(target, layer=layer, overwrite=overwrite, protect=prot, folder=folder)
    parent = target.parent
    try:
        _sweep_stale(parent)
        tmpdir = Path(tempfile.mkdtemp(prefix=f"{_TMP_PREFIX}{os.getpid()}-", dir=parent))
    except OSError as exc:
        raise _os_error(target, layer, exc) from None
    keep = False
    try:
        (tmpdir / ".geoplan-staging").write_bytes(b"")
        tmp = tmpdir / target.name
        yield tmp
        if not os.path.lexists(tmp):
            raise WriteError(f"writing {layer} produced no file at {target}; nothing was written")
        moves, retired, staged_folder = _plan(tmpdir, tmp, target)
        _check_moves(moves, target, staged_folder, layer=layer, overwrite=overwrite, protect=prot)
        commit = _Commit(tmpdir / _BACKUP)
        with deferred_signals():
            try:
                for src, dst in moves:
                    commit.move(src, dst)
                for old in retired:
                    commit.retire(old)
            except BaseException:
                keep = not commit.undo()
                raise
    except GeoplanError:
        raise
    except OSError as exc:
        raise _os_error(target, layer, exc) from exc
    except Exception as exc:
        raise WriteError(f"could not write {layer} to {target}: {type(exc).__name__}: {exc}. "
                         "Fix: check the data and the folder; nothing was written") from exc
    finally:
        with deferred_signals():
            if keep:
                rescue = parent / f"{_RESCUE_PREFIX}{tmpdir.name[len(_TMP_PREFIX):]}"
                with contextlib.suppress(OSError):
                    tmpdir.rename(rescue)
                log.error("some earlier files could not be put back; they are kept in %s", rescue)
            else:
                shutil.rmtree(tmpdir, ignore_errors=True)
