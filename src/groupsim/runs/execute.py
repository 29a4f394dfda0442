"""Running many runs: seeds for replications, and fanning tasks out to a backend in order.

Replication r of every scenario gets the same seed (common random numbers): the seed is
spawned from the experiment's seed and r alone, never from the scenario or the order of
execution. `map_tasks` returns results in task order whatever the backend
(`groupsim.runs.backends`: this process, a local pool, a Dask cluster) and however many
workers it has, so `--workers 1`, `--workers 8` and `--dask-local 2` give identical results.

Example:
    >>> replication_seeds(0, 3) == replication_seeds(0, 3)
    True
    >>> map_tasks(abs, [-2, 1, -3], workers=1, label=None)
    [2, 1, 3]
    >>> map_tasks(abs, [-2, 1, -3], label=None, backend=SerialBackend())
    [2, 1, 3]
"""

from __future__ import annotations

import functools
import gc
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from groupsim.model.interrupts import interrupts_wait
from groupsim.runs.backends import (
    Backend,
    BackendError,
    DaskBackend,
    LocalPoolBackend,
    SerialBackend,
    default_workers,
    forking_quietly,
    make_backend,
    opened,
)

__all__ = [
    "Backend",
    "BackendError",
    "DaskBackend",
    "LocalPoolBackend",
    "Progress",
    "SerialBackend",
    "collector_waits",
    "default_workers",
    "forking_quietly",
    "make_backend",
    "map_tasks",
    "replication_seeds",
    "run_task",
]


def replication_seeds(seed: int, reps: int) -> list[int]:
    """One 63-bit seed per replication, spawned from `seed` (numpy SeedSequence)."""
    children = np.random.SeedSequence(seed).spawn(reps)
    return [int(child.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1)) for child in children]


class Progress:
    """A rich progress bar on a terminal; plain periodic lines otherwise (logs, CI)."""

    def __init__(
        self, total: int, label: str | None, every_seconds: float = 10.0, unit: str = "runs"
    ):
        self.total = total
        self.label = label
        self.unit = unit
        self.done = 0
        self.start = time.monotonic()
        self.every = every_seconds
        self.last_print = self.start
        self._bar = None
        if label is None or total == 0:
            return
        if sys.stderr.isatty():
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )
            from rich.progress import Progress as RichProgress

            self._bar = RichProgress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]}"),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                transient=False,
            )
            self._bar.start()
            self._task = self._bar.add_task(label, total=total, rate="")

    def advance(self, count: int = 1) -> None:
        """Count `count` more finished tasks (runs, or what `unit` names)."""
        self.done += count
        elapsed = time.monotonic() - self.start
        rate = self.done / elapsed if elapsed > 0 else 0.0
        if self._bar is not None:
            self._bar.update(self._task, advance=count, rate=f"{rate:.1f} {self.unit}/s")
        elif self.label is not None and (
            time.monotonic() - self.last_print >= self.every or self.done == self.total
        ):
            self.last_print = time.monotonic()
            eta = (self.total - self.done) / rate if rate > 0 else float("nan")
            print(
                f"{self.label}: {self.done}/{self.total} {self.unit}, {rate:.1f} {self.unit}/s, "
                f"ETA {eta:.0f} s",
                file=sys.stderr,
                flush=True,
            )

    def close(self) -> None:
        """Stop the bar (a terminal's bar keeps its last state on screen)."""
        if self._bar is not None:
            self._bar.stop()


def _run_chunk(func: Callable[[Any], Any], chunk: list[tuple[int, Any]]) -> list[tuple[int, Any]]:
    """Apply `func` to a chunk of (index, task) pairs (in a worker), each by `run_task`."""
    return [(index, run_task(func, task)) for index, task in chunk]


def collector_waits[**P, R](func: Callable[P, R]) -> Callable[P, R]:
    """Decorator: Python's cyclic garbage collector paused until `func` returns.

    A run makes thousands of small objects (agents, rows, records), and the collector's
    passes over them while it goes cost ~10% of an 18,000-student run (interleaved batches,
    2026-12-01: 516 against 467 ms a run; nothing measurable in a default run of 180, whose
    objects are now few). A run's cycles (its Mesa model and agents) are garbage only when
    it ends, so the collector waits for the end, then collects the young generations: the
    run's own objects (the same peak memory at campus scale). A caller that paused the
    collector itself (a task around its run) keeps it paused; the outermost collects.
    Results do not depend on it.
    """

    @functools.wraps(func)
    def waiting(*args: P.args, **kwargs: P.kwargs) -> R:
        if not gc.isenabled():
            return func(*args, **kwargs)
        gc.disable()
        try:
            return func(*args, **kwargs)
        finally:
            gc.enable()
            gc.collect(1)

    return waiting


@interrupts_wait
@collector_waits
def run_task(func: Callable[[Any], Any], task: Any) -> Any:
    """`func(task)` with the garbage collector paused until the task ends (`collector_waits`).

    Every task of a study (`compare`, `power`, sweeps, calibration) runs through here on any
    backend: its run and its reduction to what the study keeps, as one pause.
    """
    return func(task)


def map_tasks(
    func: Callable[[Any], Any],
    tasks: Sequence[Any],
    workers: int | None = None,
    label: str | None = "runs",
    chunk_size: int | None = None,
    *,
    backend: Backend | None = None,
    unit: str = "runs",
) -> list[Any]:
    """Apply `func` to every task on a backend; the results in task order.

    Tasks go to the backend in chunks, so per-task overhead stays small. `func` and the
    tasks must be picklable (a module-level function). A task that raises raises here.

    Args:
        func: a module-level function of one task.
        tasks: the tasks.
        workers: local processes (default: all cores; 1: in this process); not with `backend`.
        label: the progress bar's label (None: no progress output).
        chunk_size: tasks per chunk (default: up to 16, four chunks per worker at least).
        backend: where to run (`groupsim.runs.backends`); entered here unless already open.
        unit: what the progress output counts a task as (a compare task: "replications").

    Raises:
        ValueError: `workers` < 1, or both `workers` and `backend`.
        BackendError: the backend cannot start (e.g. an unreachable Dask scheduler).
    """
    if backend is not None and workers is not None:
        raise ValueError("workers and backend: give one of them")
    if workers is not None and workers < 1:
        raise ValueError(f"workers must be at least 1 (got {workers})")
    if backend is None:
        backend = _local_backend(len(tasks), workers)
    results: list[Any] = [None] * len(tasks)
    with opened(backend):
        # The progress bar (a thread on a terminal) starts only after the backend: a fork
        # pool forks its workers on entering, while this process has no other thread.
        progress = Progress(len(tasks), label, unit=unit)
        try:
            for chunk, done in backend.map(
                functools.partial(_run_chunk, func), _chunks(tasks, backend.workers, chunk_size)
            ):
                if isinstance(done, BaseException):
                    raise done
                for index, value in done:
                    results[index] = value
                progress.advance(len(chunk))
        finally:
            progress.close()
    return results


def _local_backend(tasks: int, workers: int | None) -> Backend:
    """This process for one worker or one task, else a local pool (default: all cores)."""
    workers = default_workers() if workers is None else workers
    return SerialBackend() if workers == 1 or tasks <= 1 else LocalPoolBackend(workers)


def _chunks(
    tasks: Sequence[Any], workers: int, chunk_size: int | None
) -> list[list[tuple[int, Any]]]:
    """(index, task) pairs in chunks: one task each for a single worker, else up to 16."""
    if chunk_size is None:
        chunk_size = 1 if workers == 1 else max(1, min(16, len(tasks) // (workers * 4)))
    indexed = list(enumerate(tasks))
    return [indexed[i : i + chunk_size] for i in range(0, len(indexed), chunk_size)]
