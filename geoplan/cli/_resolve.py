"""Which project a command runs on: ``--project FILE``, or the embedded project of ``--plan``."""

from __future__ import annotations

from pathlib import Path

from ..project import Project, load_project

__all__ = ["resolve"]


def resolve(plan: str | None, project: Path | None) -> Project:
    """Load ``project``; without one, the embedded project of ``plan`` (Xiamen by default)."""
    if project is not None or plan in (None, "xiamen"):
        return load_project(project)
    from ..province import resolve_project

    return resolve_project(plan, project)
