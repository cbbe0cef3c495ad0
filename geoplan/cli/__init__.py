"""The ``geoplan`` command line: a thin shell over the library."""

from . import charging as _charging  # noqa: F401
from . import check as _check  # noqa: F401  (each import registers its commands)
from . import edge as _edge  # noqa: F401
from . import export as _export  # noqa: F401
from . import place as _place  # noqa: F401
from . import population as _population  # noqa: F401
from . import report as _report  # noqa: F401
from . import whatif as _whatif  # noqa: F401
from ._app import app, main

__all__ = ["app", "main"]
