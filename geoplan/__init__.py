"""geoplan: plan a city's or province's new infrastructure on a map."""

import logging
import sys as _sys

if _sys.argv and _sys.argv[0].replace("\\", "/").rsplit("/", 1)[-1] in ("geoplan", "geoplan.exe"):
    # the geoplan command: a Ctrl-C while the libraries load ends it cleanly (see geoplan._signals)
    from ._signals import exit_on_signals_while_starting

    exit_on_signals_while_starting()

from . import targets
from .errors import (
    ConfigError,
    CRSError,
    GeoplanError,
    InfeasibleError,
    Problem,
    ReadError,
    SolverError,
    ValidationError,
    WriteError,
)
from .project import Project, load_project, project_from_layers

__version__ = "0.1.0"

#: Submodules loaded on first use (``gp.placement.place_sites``), so ``import geoplan`` stays light.
_LAZY = ("charging", "coverage", "drawing", "edge", "export", "latency", "placement", "radio", "scenarios")


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'geoplan' has no attribute {name!r}")

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "ConfigError",
    "CRSError",
    "GeoplanError",
    "InfeasibleError",
    "Problem",
    "Project",
    "ReadError",
    "SolverError",
    "ValidationError",
    "WriteError",
    "load_project",
    "targets",
    "project_from_layers",
    *_LAZY,
    "__version__",
]
