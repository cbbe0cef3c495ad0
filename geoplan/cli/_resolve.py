"""Which project a command runs on: ``--project FILE``, or the embedded project of ``--plan``."""

from __future__ import annotations

from pathlib import Path

from ..project import Project
from ..province import resolve_project
from ._progress import progress_bar

__all__ = ["resolve"]


def resolve(plan: str | None, project: Path | None, *, quiet: bool = False) -> Project:
    """Load ``project``; without one, the embedded project of ``plan`` (Xiamen by default).

    The Fujian project is generated the first time it is asked for, with a progress bar on stderr.
    """
    with progress_bar(f"loading {plan or 'project'}", enabled=not quiet) as hook:
        return resolve_project(plan, project, progress=hook)
