"""A small tile server for local MBTiles / PMTiles files, started once per process.

Streamlit has no routes of its own, and its static route serves only files
inside ``apps/static`` (no symlinks out of it), so a tile file elsewhere on disk
cannot reach the browser through it. This module runs an HTTP server in a daemon
thread (:class:`http.server.ThreadingHTTPServer`) that answers
``GET /<token>/<z>/<x>/<y>`` with one tile of a registered file (read by
:func:`geoplan.io.open_tile_file`), 404 for a tile the file lacks, and nothing
else: the token of each registered file is random, so the server hands out no
file it was not given.

Where it listens
----------------
By default on the loopback interface, ``127.0.0.1``, on a free port: the tiles
reach a browser on the same machine as the app (a planner's own computer). For an
app shared on an intranet, set

- ``GEOPLAN_TILE_HOST`` — the address to listen on (``0.0.0.0`` for every interface),
- ``GEOPLAN_TILE_PORT`` — a fixed port (open it in the firewall), and
- ``GEOPLAN_TILE_URL`` — the base URL browsers use to reach it, e.g.
  ``http://gis-server.bureau.local:8765`` (default ``http://<host>:<port>``).
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import socket
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from geoplan import io
from geoplan.errors import ConfigError

__all__ = ["TILE_HOST_ENV", "TILE_PORT_ENV", "TILE_URL_ENV", "ServedTiles", "TileServer", "tile_server",
           "serve_tile_file"]

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())

TILE_HOST_ENV = "GEOPLAN_TILE_HOST"
TILE_PORT_ENV = "GEOPLAN_TILE_PORT"
TILE_URL_ENV = "GEOPLAN_TILE_URL"
_PATH = re.compile(r"^/([A-Za-z0-9_-]{8,64})/(\d{1,2})/(\d{1,10})/(\d{1,10})(?:\.\w{3,4})?$")


@dataclass(frozen=True)
class ServedTiles:
    """A tile file being served: what it holds, the URL template Leaflet asks (``{z}/{x}/{y}``), the server's URL."""

    info: io.TileSetInfo
    url: str
    server: str


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer

    def do_GET(self) -> None:  # noqa: N802 - the http.server name
        m = _PATH.match(self.path.split("?", 1)[0])
        source = self.server.owner.source(m.group(1)) if m else None
        if m is None or source is None:
            self.send_error(404, "no such tile file")
            return
        z, x, y = (int(v) for v in m.groups()[1:])
        if z > 30 or x >= 1 << z or y >= 1 << z:
            self.send_error(404, "no such tile")
            return
        try:
            data = source.tile(z, x, y)
        except Exception as exc:  # a file replaced or closed under a request: the tile is missing, not the server
            log.warning("tile %s/%s/%s of %s could not be read: %s", z, x, y, source.info.path, exc)
            data = None
        if data is None:
            self.send_error(404, "tile not in the file")
            return
        self.send_response(200)
        self.send_header("Content-Type", source.info.mime)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "private, max-age=3600")
        self.send_header("Access-Control-Allow-Origin", "*")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the http.server signature
        log.debug("tile server: " + format, *args)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    owner: TileServer


class TileServer:
    """Serve registered tile files over HTTP from a daemon thread.

    Parameters
    ----------
    host : str
        Address to listen on (``127.0.0.1``: this machine only).
    port : int
        Port; 0 picks a free one.
    public_url : str, optional
        Base URL browsers reach the server at (default ``http://<host>:<port>``).
    """

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, public_url: str | None = None) -> None:
        server_cls = type("_Server6", (_HTTPServer,), {"address_family": socket.AF_INET6}) if ":" in host \
            else _HTTPServer
        try:
            self._httpd = server_cls((host, port), _Handler)
        except OSError as exc:
            raise ConfigError(f"the tile server cannot listen on {host}:{port} ({exc.strerror or exc}). Fix: set "
                              f"{TILE_HOST_ENV} to an address of this machine and {TILE_PORT_ENV} to a free port "
                              "(or leave it unset for any free port)") from None
        self._httpd.owner = self
        self.host = host
        self.port = int(self._httpd.server_address[1])
        shown = socket.gethostname() if host in ("0.0.0.0", "::", "") else host
        self.url = (public_url or f"http://{f'[{shown}]' if ':' in shown else shown}:{self.port}").rstrip("/")
        self._files: dict[str, io.TileFile] = {}
        self._tokens: dict[tuple[str, int, int], str] = {}
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="geoplan-tile-server", daemon=True)
        self._thread.start()

    def source(self, token: str) -> io.TileFile | None:
        """The file registered under ``token``."""
        with self._lock:
            return self._files.get(token)

    def register(self, path: str | os.PathLike[str]) -> ServedTiles:
        """Open ``path`` (once per version of the file) and serve it; its info and URL template.

        Raises :class:`~geoplan.errors.ReadError` when the file cannot be used (see
        :func:`geoplan.io.open_tile_file`).
        """
        p = Path(path).expanduser().resolve()
        try:
            st = p.stat()
            key = (str(p), st.st_mtime_ns, st.st_size)
        except OSError:
            key = (str(p), -1, -1)
        with self._lock:
            token = self._tokens.get(key)
            if token is not None:
                return ServedTiles(self._files[token].info, f"{self.url}/{token}/{{z}}/{{x}}/{{y}}", self.url)
        tiles = io.open_tile_file(p)  # outside the lock: a slow disk does not stall the tiles of other files
        with self._lock:
            for old_key, old in list(self._tokens.items()):
                if old_key[0] == key[0]:  # the file changed on disk: serve the new version only
                    self._files.pop(old).close()
                    del self._tokens[old_key]
            token = secrets.token_urlsafe(12)
            self._files[token], self._tokens[key] = tiles, token
        return ServedTiles(tiles.info, f"{self.url}/{token}/{{z}}/{{x}}/{{y}}", self.url)

    def close(self) -> None:
        """Stop serving and close every file."""
        self._httpd.shutdown()
        self._httpd.server_close()
        with self._lock:
            for f in self._files.values():
                f.close()
            self._files.clear()
            self._tokens.clear()


_server: TileServer | None = None
_server_lock = threading.Lock()


def tile_server() -> TileServer:
    """The process's tile server, started on first use (``GEOPLAN_TILE_HOST/PORT/URL`` as above).

    One per process: Streamlit serves every browser session from threads of one process.
    """
    global _server
    with _server_lock:
        if _server is None:
            port_text = os.environ.get(TILE_PORT_ENV, "0").strip() or "0"
            if not port_text.isdigit() or int(port_text) > 65_535:
                raise ConfigError(f"{TILE_PORT_ENV}={port_text!r} is not a port number. Fix: set a number "
                                  "between 1 and 65535, or unset it for any free port")
            _server = TileServer(host=os.environ.get(TILE_HOST_ENV, "").strip() or "127.0.0.1",
                                 port=int(port_text), public_url=os.environ.get(TILE_URL_ENV) or None)
        return _server


def serve_tile_file(path: str | os.PathLike[str]) -> ServedTiles:
    """Serve a local MBTiles / PMTiles file from the process's tile server; its info and URL template."""
    return tile_server().register(path)
