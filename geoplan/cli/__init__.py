"""The ``geoplan`` command line: a thin shell over the library."""

from . import check as _check  # noqa: F401  (registers the command)
from ._app import app, main

__all__ = ["app", "main"]
