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

Compiled in a process of its own, then loaded: a process that compiles the model's code
usually runs it slower than one that loads the same code from the disk cache, for as long as
it lives (measured on the third machine, 2026-12-02, two processes of one tree taking turns,
10 batches of 30 default runs each: the one that had compiled 1.24x, 1.22x and 1.05x slower
in three pairs, `benchmarks/bench_compile_penalty.py`; docs/performance.md). `ensure_cached`
compiles, when the cache lacks this version of the model, in a child process, one at a time
per cache (a lock), and leaves a marker (`cache_marker`) that later processes check in a
millisecond; the backends that run studies (`groupsim.runs.backends`) call it before their
processes run the model, so a first study after an install no longer runs in processes that
compiled, and `HomeRoomModel` calls it before a process's first model
(`before_first_model`), so neither does a script's, a notebook's or `mesa.batch_run`'s.

Example (the second time, everything the run calls is loaded already):
    >>> from groupsim.model.warm_up import warm_up
    >>> _ = warm_up()
    >>> warm_up().compiled
    0
    >>> ensure_cached()  # the marker is there: nothing to compile
    False
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numba
from numba.core import event

from groupsim.model.compiling import SOURCES_STAMP

__all__ = ["WarmUp", "before_first_model", "cache_marker", "ensure_cached", "warm_up"]


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
    """Run a small home-room cohort through every week, compiling what is not cached yet.

    Then marks the cache as holding this version of the model (`cache_marker`).
    """
    from groupsim.model.model import HomeRoomModel  # the model imports numba's loops

    _checked()  # this process compiles here: its model must not wait for a child to
    counter = _CompileCount()
    started = time.perf_counter()
    with event.install_listener("numba:compile", counter):
        HomeRoomModel(rng=0, cohort_students_per_faculty=6).run_model()
    if not _jit_off():  # with the JIT off nothing is compiled or cached
        with contextlib.suppress(OSError):  # a cache numba cannot write to keeps nothing either
            cache_marker().touch()
    return WarmUp(counter.count, time.perf_counter() - started)


@functools.cache  # what it hashes is fixed for a process's life
def cache_marker() -> Path:
    """The file that says numba's disk cache holds this version of the model's compiled code.

    In the directory numba caches the model's code in (`groupsim.model.compiling`: the
    model's `__pycache__`, or `NUMBA_CACHE_DIR`), so it goes when the cache goes. Its name
    hashes what makes a cached function valid: the model's sources (`SOURCES_STAMP`), numba's
    and Python's versions, and the CPU the code is compiled for (a cache shared by machines
    of different CPUs holds a version for each).
    """
    from numba.core.registry import cpu_target

    from groupsim.model.week_kernel import run_weeks

    cpu = cpu_target.target_context.codegen().magic_tuple()
    version = f"{SOURCES_STAMP} {numba.__version__} {sys.version} {cpu}"
    directory = Path(run_weeks._cache._cache_path)  # numba keeps its cache directory there
    return directory / f"groupsim-compiled-{hashlib.sha256(version.encode()).hexdigest()[:16]}"


def _jit_off() -> bool:
    """Whether numba's JIT is off (`NUMBA_DISABLE_JIT`): the model runs as plain Python."""
    return bool(getattr(numba.config, "DISABLE_JIT", False))  # set at numba's import


#: Compiles the model in a child process (`ensure_cached`).
_COMPILE = "from groupsim.model.warm_up import warm_up; warm_up()"

#: Set once this process found the cache cannot keep the marker: it does not try again.
_UNCACHEABLE: list[bool] = []

#: Set once this process's first model checked the cache (`before_first_model`), or when it
#: warms the cache up itself (`warm_up`): its models do not check again.
_CHECKED: list[bool] = []


def _checked() -> None:
    if not _CHECKED:
        _CHECKED.append(True)


def before_first_model() -> None:
    """`ensure_cached` before this process's first model, unless it checked already.

    `HomeRoomModel` calls it: a script's, a notebook's or `mesa.batch_run`'s first model
    after an install then runs on code compiled in a child process and loaded, as a study's
    backend has it, not in a process that compiled it (which runs it slower for as long as
    it lives). Later models cost a list's check.
    """
    if not _CHECKED:
        ensure_cached()
        _checked()  # not before: a check a Ctrl-C cut short is made again


def ensure_cached(notify: Callable[[str], None] | None = None) -> bool:
    """Compile the model into numba's disk cache in a child process, unless it is there.

    Returns whether it compiled there. Processes that call it at once (a machine's Dask workers)
    compile one at a time: the others wait for the first and find its marker. `notify`
    gets one line before a compile (about a minute and a half of CPU). When the cache cannot
    be written (no marker after the child), this process does not try again; its runs
    compile in it, as numba does without a cache. A child a signal stopped (a Ctrl-C that
    reached it alone) says nothing about the cache: the next call asks a child again. With
    numba's JIT off (`NUMBA_DISABLE_JIT`)
    there is nothing to compile.
    """
    if _jit_off() or _UNCACHEABLE:  # nothing to compile, or cannot keep it
        return False
    marker = cache_marker()
    if marker.exists():
        return False
    with _locked(marker.parent):
        if marker.exists():
            return False
        if notify is not None:
            notify("Compiling the model's code once (about 80 s of CPU; cached for later runs)")
        compiled = subprocess.run([sys.executable, "-c", _COMPILE], capture_output=True)
    # Could not compile there, or not keep it: compile here from now on. Not for a child a
    # signal stopped (a Ctrl-C that reached it alone): the next model asks a child again.
    if not marker.exists() and compiled.returncode >= 0:
        _UNCACHEABLE.append(True)
    return compiled.returncode == 0


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """An exclusive lock on `directory`'s lock file (none where there is no `fcntl`)."""
    try:
        import fcntl
    except ImportError:  # not POSIX: processes may compile side by side, as without the lock
        yield
        return
    try:
        directory.mkdir(parents=True, exist_ok=True)
        handle = open(directory / "groupsim-compiling.lock", "a")  # noqa: SIM115
    except OSError:  # a cache that cannot be written: nothing to keep apart
        yield
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
