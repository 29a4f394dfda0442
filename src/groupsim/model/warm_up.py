"""Compile the model's code before its first run: ``groupsim warm-up``.

The model's weekly process is compiled by numba and cached on disk (`groupsim.model.compiling`,
docs/performance.md): the first run after an install or a change to `groupsim/model` compiles
for about 80 s of CPU, every later process loads the cache in under a second. Processes that
start together on an empty cache each compile all of it: the two processes of `make test`,
the workers of a `--workers` pool, every Dask worker of a node. Run this once before them and
they load the cache instead. `make test` runs it beside the lint (which uses one core); on a
cluster, run it once per machine (or once for all, with a shared `NUMBA_CACHE_DIR`) before
the workers start.

A small home-room run with every table recorded goes through every compiled loop a run of any
recording calls (campus life, burn-in, sessions, decay, measurement, the records); compiled
code does not depend on the cohort's size, so the small cohort compiles what a default run
needs.

Example (the second time, everything the run calls is loaded already):
    >>> from groupsim.model.warm_up import warm_up
    >>> _ = warm_up()
    >>> warm_up().compiled
    0
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from numba.core import event

__all__ = ["WarmUp", "warm_up"]


@dataclass(frozen=True)
class WarmUp:
    """What `warm_up` did: numba's compilations (0: all loaded from the cache) and seconds.

    A compiled loop's callees and numba's own overloads it uses count as compilations of
    their own.
    """

    compiled: int
    seconds: float

    def summary(self) -> str:
        """One line for the console."""
        if self.compiled == 0:
            return f"The model's kernels were compiled already ({self.seconds:.1f} s)."
        return (
            f"Compiled the model's kernels in {self.seconds:.0f} s ({self.compiled} "
            "compilations); they are cached now."
        )


class _CompileCount(event.Listener):
    """Counts numba's compilations (a function loaded from the disk cache is not one)."""

    def __init__(self) -> None:
        self.count = 0

    def on_start(self, event: Any) -> None:
        self.count += 1

    def on_end(self, event: Any) -> None:
        pass


def warm_up() -> WarmUp:
    """Run a small home-room cohort through every week, compiling what is not cached yet."""
    from groupsim.model.model import HomeRoomModel  # the model imports numba's loops

    counter = _CompileCount()
    started = time.perf_counter()
    with event.install_listener("numba:compile", counter):
        HomeRoomModel(rng=0, cohort_students_per_faculty=6).run_model()
    return WarmUp(counter.count, time.perf_counter() - started)
