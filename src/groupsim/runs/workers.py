"""Pool workers that die with their parent: a killed main process leaves no worker behind.

`worker_started` is every local pool worker's initializer (`groupsim.runs.backends`): it
restores SIGTERM's default, asks the kernel to end the worker with its parent
(`die_with`) and freezes the objects the worker inherited.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time

__all__ = ["PR_SET_PDEATHSIG", "die_with", "worker_started"]


def worker_started(parent: int) -> None:
    """In a new worker: die with the main process, and freeze inherited objects.

    A collection writes into the header of every object it scans, which would copy the
    pages a forked worker shares with its parent, one by one, over a long sweep.
    """
    import gc

    # The pool ends its workers with SIGTERM: let it end them, whatever handler the main
    # process installed (the CLI turns SIGTERM into an orderly stop, see `groupsim.cli`).
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    die_with(parent)
    gc.freeze()


#: prctl(2) option: the signal this process gets when its parent (thread) dies.
PR_SET_PDEATHSIG = 1


def die_with(parent: int) -> None:
    """End this worker when the process `parent` ends, however it ends (even `kill -9`).

    A pool worker waits on a pipe for its next task; if the main process is killed it
    would wait forever (reparented to init). On Linux the kernel sends this process SIGKILL
    when its parent dies (``prctl(PR_SET_PDEATHSIG)``; the parent is the main process, or
    the forkserver, which itself exits when the main process goes). Elsewhere a daemon
    thread checks once a second that `parent` still lives. A parent that died before this
    ran is caught by the check that follows.
    """
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    else:
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    if not _alive(parent):
        os._exit(1)


def _watch_parent(parent: int, every_seconds: float = 1.0) -> None:
    """Exit this process as soon as `parent` has ended (off Linux, see `die_with`)."""
    while _alive(parent):
        time.sleep(every_seconds)
    os._exit(1)


def _alive(pid: int) -> bool:
    """Whether the process `pid` still exists (and has not been reparented away from us)."""
    if os.getppid() == 1:  # our parent died and init adopted us
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True
