"""Type aliases shared by several modules."""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["Progress"]

#: ``progress(fraction, message)``: a long computation reports how far it is (0.0–1.0) and what it does.
Progress = Callable[[float, str], None]
