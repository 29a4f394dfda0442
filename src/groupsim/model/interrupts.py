"""Ctrl-C waits for the compiled code: a signal's exception comes between two compiled calls.

CPython runs a signal's Python handler in the main thread between two bytecodes, and numba's
dispatcher runs Python code while it prepares a compiled call (typing and unboxing its
arguments, the random generators among them). A KeyboardInterrupt raised there leaves the call
returning with the exception set: a `SystemError` ("CPUDispatcher(...) returned a result with
an exception set") instead of the interrupt, which a sweep recorded as a failed run and went
on; once the process crashed (SIGSEGV). Measured, Ctrl-Cs at random 2-20 ms into default runs
in one process: 233 and 206 of 300 (two tries), 536 of 736 (a third) became a SystemError;
`tests/test_interrupts.py` sends 200 and requires 200 KeyboardInterrupts.

While the model runs (`interrupts_wait` on `HomeRoomModel.__init__` and `step`, a study's
task, `groupsim.run`), a gate in front of the SIGINT and SIGTERM handlers only notes the
signal, and the outermost such call raises it as it ends: at most a week of the model's time
later (milliseconds at the default size, about a second at 100,000 students). The gate calls
the handler it stands in front of (Python's KeyboardInterrupt, the CLI's SIGTERM), so outside
the model nothing changes. It is installed at the first such call in the main thread (signal
handlers run only there); a handler installed later replaces it, and runs without it.
"""

from __future__ import annotations

import functools
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

__all__ = ["HELD_SIGNALS", "interrupts_wait"]

#: The signals that wait for the model: Ctrl-C and the polite kill.
HELD_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class _Waiting:
    """The main thread's state: how deep in the model it is, and a signal that came meanwhile."""

    depth = 0
    pending: int | None = None
    installed = False


class _Gate:
    """A signal handler in front of `handler`: notes the signal while the model runs."""

    def __init__(self, handler: Callable[[int, FrameType | None], Any]):
        self.handler = handler

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        if _Waiting.depth:
            if _Waiting.pending is None:
                _Waiting.pending = signum
            return
        self.handler(signum, frame)


def _install_gates() -> None:
    """Put a gate in front of each held signal's Python handler (not SIG_IGN or SIG_DFL)."""
    for signum in HELD_SIGNALS:
        handler = signal.getsignal(signum)
        if callable(handler) and not isinstance(handler, _Gate):
            signal.signal(signum, _Gate(handler))
    _Waiting.installed = True


def _raise_pending() -> None:
    """Run the handler of the signal that came while the model ran (KeyboardInterrupt...)."""
    signum, _Waiting.pending = _Waiting.pending, None
    assert signum is not None
    handler = signal.getsignal(signum)
    if isinstance(handler, _Gate):
        handler = handler.handler
    if callable(handler):
        handler(signum, None)


def interrupts_wait[**P, R](func: Callable[P, R]) -> Callable[P, R]:
    """Decorate a function that runs compiled model code: held signals wait until it returns.

    Also a step that must not be cut in two (a sweep writes a finished chunk and counts it).

    Nested calls wait for the outermost one. In a thread other than the main thread it does
    nothing (signals are handled in the main thread, which it must not hold up).

    Example:
        >>> import os, signal
        >>> @interrupts_wait
        ... def week():
        ...     os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C in the middle of the week
        ...     return sum(range(1000))  # runs to the end
        >>> try:
        ...     week()
        ... except KeyboardInterrupt:
        ...     print("interrupted after the week")
        interrupted after the week
    """

    @functools.wraps(func)
    def waiting(*args: P.args, **kwargs: P.kwargs) -> R:
        if threading.get_ident() != threading.main_thread().ident:
            return func(*args, **kwargs)
        if not _Waiting.installed:
            _install_gates()
        _Waiting.depth += 1
        try:
            return func(*args, **kwargs)
        finally:
            _Waiting.depth -= 1
            if not _Waiting.depth and _Waiting.pending is not None:
                _raise_pending()

    return waiting
