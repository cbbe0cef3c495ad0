"""Signals as exceptions, and short sections a signal must not cut in two.

:func:`raising_signals` makes SIGINT (Ctrl-C), SIGTERM and SIGHUP raise
:class:`~geoplan.errors.Interrupted` in the main thread, so every ``finally``
and ``with`` block on the way out runs: temporary files are removed and a
previous output is kept. The ``geoplan`` command runs every subcommand inside it.

:func:`deferred_signals` marks a short section (moving finished outputs into
place, removing temporary files) that a signal must not interrupt half-way: a
signal arriving inside it is raised when the section ends. A second and third
signal while the first is being handled are ignored, so clean-up can finish; a
fourth ends the process at once.

Outside the main thread, or when the handlers are not installed (a library
caller, the app), both are no-ops and Python's own behaviour applies
(:class:`KeyboardInterrupt`, which the ``finally`` blocks also survive).
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from types import FrameType

from .errors import Interrupted

__all__ = ["HANDLED_SIGNALS", "raising_signals", "deferred_signals", "exit_on_signals_while_starting"]

#: Signals turned into :class:`~geoplan.errors.Interrupted` by :func:`raising_signals`.
HANDLED_SIGNALS: tuple[signal.Signals, ...] = tuple(
    s for s in (getattr(signal, n, None) for n in ("SIGINT", "SIGTERM", "SIGHUP")) if s is not None)

_FORCE_AFTER = 4  # signals received in one run before the process ends without clean-up


class _State:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.installed = False
        self.depth = 0  # nesting of deferred_signals sections
        self.pending: int | None = None
        self.raised = False
        self.count = 0


_state = _State()


def _handler(signum: int, frame: FrameType | None) -> None:
    st = _state
    st.count += 1
    if st.count >= _FORCE_AFTER:
        os._exit(128 + signum)
    if st.raised:  # already unwinding: let the clean-up finish
        return
    if st.depth > 0:
        if st.pending is None:
            st.pending = signum
        return
    st.raised = True
    raise Interrupted(signum)


@contextlib.contextmanager
def raising_signals() -> Iterator[None]:
    """Turn SIGINT/SIGTERM/SIGHUP into :class:`~geoplan.errors.Interrupted` inside the block.

    The previous handlers come back when the block ends. A signal that is ignored
    when the block starts (``nohup``, a background job) stays ignored. A no-op
    outside the main thread.
    """
    if threading.current_thread() is not threading.main_thread() or _state.installed:
        yield
        return
    # a signal ignored by whoever started us (nohup, a background job) stays ignored
    previous = {s: h for s in HANDLED_SIGNALS if (h := signal.getsignal(s)) is not signal.SIG_IGN}
    _state.reset()
    _state.installed = True
    try:
        for s in previous:
            signal.signal(s, _handler)
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
        _state.reset()


@contextlib.contextmanager
def deferred_signals() -> Iterator[None]:
    """Hold back :class:`~geoplan.errors.Interrupted` until the block ends (see the module docstring)."""
    st = _state
    if not st.installed or threading.current_thread() is not threading.main_thread():
        yield
        return
    st.depth += 1
    try:
        yield
    finally:
        st.depth -= 1
        if st.depth == 0 and st.pending is not None and not st.raised:
            signum, st.pending = st.pending, None
            st.raised = True
            raise Interrupted(signum)


def _exit_now(signum: int, frame: FrameType | None) -> None:
    name = signal.Signals(signum).name
    try:
        os.write(2, f"Interrupted: stopped by {name} while starting; nothing was written\n".encode())
    finally:
        os._exit(128 + signum)


def exit_on_signals_while_starting() -> None:
    """End the process at once, with a one-line message and exit code 128 + signal, on a signal during start-up.

    For the ``geoplan`` command while Python loads its libraries (a second or
    more, before :func:`raising_signals` takes over): nothing has been written
    yet, so there is nothing to clean up. Signals that are ignored stay ignored.
    """
    if threading.current_thread() is not threading.main_thread():
        return
    for s in HANDLED_SIGNALS:
        if signal.getsignal(s) is not signal.SIG_IGN:
            signal.signal(s, _exit_now)
