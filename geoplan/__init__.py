"""geoplan: plan a city's or province's new infrastructure on a map."""

import logging

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
    "__version__",
]
