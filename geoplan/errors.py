"""One error tree for geoplan.

Every error a planner can cause derives from :class:`GeoplanError`. The CLI and
the app map error *types* to messages and exit codes; they never match message
strings. Each class carries its documented exit code (:attr:`GeoplanError.exit_code`),
so a mistake gives the same code whether it comes from the command line, a
project file or a scenario file.

Each error names what went wrong and how to fix it. :class:`ValidationError`
(data) and :class:`ConfigError` (settings) collect every problem found at a
boundary, so a planner fixes a file once instead of one complaint at a time.

:class:`Interrupted` is not a :class:`GeoplanError`: it derives from
:class:`BaseException` (like :class:`KeyboardInterrupt`), so no ``except
Exception`` turns a Ctrl-C into a read or write error.
"""

from __future__ import annotations

import signal
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "GeoplanError",
    "Problem",
    "ValidationError",
    "CRSError",
    "ConfigError",
    "ReadError",
    "WriteError",
    "InfeasibleError",
    "SolverError",
    "Interrupted",
]


class GeoplanError(Exception):
    """Base class of every error geoplan raises on purpose."""

    #: Exit code of the ``geoplan`` command for this kind of error.
    exit_code: int = 1


@dataclass(frozen=True)
class Problem:
    """One problem found while validating input.

    Parameters
    ----------
    layer : str
        The layer (or file, or section of a project file such as ``[layers.sites]``)
        with the problem.
    field : str or None
        The attribute field, raster band or setting concerned; ``None`` when the
        problem is with the layer as a whole (CRS, geometry, emptiness).
    message : str
        What is wrong, naming the offending value where there is one.
    fix : str
        What the planner should do about it.
    """

    layer: str
    field: str | None
    message: str
    fix: str

    def __str__(self) -> str:
        if self.layer.startswith("["):  # a section of a settings file: "[layers.sites] crs: ..."
            where = self.layer + (f" {self.field}" if self.field else "")
        else:
            where = f"layer '{self.layer}'" + (f", field '{self.field}'" if self.field else "")
        return f"{where}: {self.message}. Fix: {self.fix}"


def _problem_list(problems: Problem | Sequence[Problem]) -> list[Problem]:
    return [problems] if isinstance(problems, Problem) else list(problems)


class ValidationError(GeoplanError, ValueError):
    """Input that cannot be used as it is; carries every :class:`Problem` found."""

    exit_code = 3

    def __init__(self, problems: list[Problem] | Problem) -> None:
        self.problems: list[Problem] = _problem_list(problems)
        if not self.problems:
            raise ValueError("ValidationError needs at least one Problem")
        lines = [str(p) for p in self.problems]
        head = "1 problem" if len(lines) == 1 else f"{len(lines)} problems"
        super().__init__(f"{head} in the input:\n- " + "\n- ".join(lines))

    @property
    def layers(self) -> list[str]:
        """Names of the layers with problems, in order of first appearance."""
        return list(dict.fromkeys(p.layer for p in self.problems))


class CRSError(ValidationError):
    """A layer's coordinate reference system is missing, wrong or unusable."""


class ConfigError(GeoplanError, ValueError):
    """A project file, scenario file or option value is not usable.

    Built from a message, or from every :class:`Problem` found in a settings file
    (then :attr:`problems` lists them and ``where`` names the file).

    Examples
    --------
    >>> err = ConfigError([Problem("[project]", "metric_crs", "'EPSG:x' is not a CRS", "write \\"EPSG:4548\\"")],
    ...                   where="project file geoplan.toml")
    >>> print(err)
    1 problem in project file geoplan.toml:
    - [project] metric_crs: 'EPSG:x' is not a CRS. Fix: write "EPSG:4548"
    """

    exit_code = 4

    def __init__(self, message: str | Problem | Sequence[Problem], *, where: str = "the settings") -> None:
        if isinstance(message, str):
            self.problems: list[Problem] = []
            super().__init__(message)
            return
        self.problems = _problem_list(message)
        if not self.problems:
            raise ValueError("ConfigError needs a message or at least one Problem")
        lines = [str(p) for p in self.problems]
        head = "1 problem" if len(lines) == 1 else f"{len(lines)} problems"
        super().__init__(f"{head} in {where}:\n- " + "\n- ".join(lines))


class ReadError(GeoplanError, OSError):
    """A file could not be read (missing, unreadable, not a GIS format, unsafe archive, over a limit)."""

    exit_code = 5


class WriteError(GeoplanError, OSError):
    """An output could not be written; no partial output is left and nothing else was changed."""

    exit_code = 5


class InfeasibleError(GeoplanError, RuntimeError):
    """A planning request cannot be met (found before solving where possible)."""

    exit_code = 6


class SolverError(GeoplanError, RuntimeError):
    """The solver failed or returned a status that gives no usable answer."""

    exit_code = 7


class Interrupted(BaseException):
    """The run was stopped by a signal (SIGINT from Ctrl-C, SIGTERM, SIGHUP).

    Raised by the handlers of :mod:`geoplan._signals`; its exit code follows the
    shell convention 128 + signal number (130 for SIGINT, 143 for SIGTERM).
    """

    def __init__(self, signum: int) -> None:
        self.signum = int(signum)
        try:
            self.signal_name = signal.Signals(self.signum).name
        except ValueError:
            self.signal_name = f"signal {self.signum}"
        self.exit_code = 128 + self.signum
        super().__init__(f"interrupted by {self.signal_name}")
