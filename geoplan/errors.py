"""One error tree for geoplan.

Every error a planner can cause derives from :class:`GeoplanError`. The CLI and
the app map error *types* to messages and exit codes; they never match message
strings.

Each error names what went wrong and how to fix it. :class:`ValidationError`
collects every problem found at a boundary, so a planner fixes a layer once
instead of one complaint at a time.
"""

from __future__ import annotations

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
]


class GeoplanError(Exception):
    """Base class of every error geoplan raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One problem found while validating input.

    Parameters
    ----------
    layer : str
        The layer (or file, or section of a project file) with the problem.
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
        where = f"layer '{self.layer}'" + (f", field '{self.field}'" if self.field else "")
        return f"{where}: {self.message}. Fix: {self.fix}"


class ValidationError(GeoplanError, ValueError):
    """Input that cannot be used as it is; carries every :class:`Problem` found."""

    def __init__(self, problems: list[Problem] | Problem) -> None:
        self.problems: list[Problem] = [problems] if isinstance(problems, Problem) else list(problems)
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
    """A project file, scenario file or option value is not usable."""


class ReadError(GeoplanError, OSError):
    """A file could not be read (missing, unreadable, not a GIS format, unsafe archive)."""


class WriteError(GeoplanError, OSError):
    """An output could not be written; no partial output is left behind."""


class InfeasibleError(GeoplanError, RuntimeError):
    """A planning request cannot be met (found before solving where possible)."""


class SolverError(GeoplanError, RuntimeError):
    """The solver failed or returned a status that gives no usable answer."""
