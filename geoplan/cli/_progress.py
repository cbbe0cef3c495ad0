"""A rich progress bar usable as geoplan's ``progress(fraction, message)`` hook."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from ._app import err_console

__all__ = ["progress_bar"]


@contextlib.contextmanager
def progress_bar(title: str, *, enabled: bool = True) -> Iterator[Callable[[float, str], None]]:
    """Yield a ``progress(fraction, message)`` callable drawing a bar on stderr (no-op when disabled)."""
    if not enabled:
        yield lambda f, m: None
        return
    with Progress(TextColumn("{task.description}", style="bold", markup=False), BarColumn(),
                  TextColumn("{task.percentage:>3.0f}%"), TextColumn("{task.fields[msg]}", markup=False),
                  TimeElapsedColumn(), console=err_console, transient=True) as bar:
        task = bar.add_task(title, total=1.0, msg="")

        def hook(fraction: float, message: str) -> None:
            bar.update(task, completed=max(0.0, min(1.0, fraction)), msg=message)

        yield hook
