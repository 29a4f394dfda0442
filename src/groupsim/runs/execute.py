"""Running many runs: seeds for replications, and a process pool with a progress bar.

Replication r of every scenario gets the same seed (common random numbers): the seed is
spawned from the experiment's seed and r alone, never from the scenario or the order of
execution, so `--workers 1` and `--workers 8` give identical results.

Example:
    >>> replication_seeds(0, 3) == replication_seeds(0, 3)
    True
    >>> sorted(map_tasks(abs, [-2, 1, -3], workers=1, label=None))
    [1, 2, 3]
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any

import numpy as np

__all__ = ["Progress", "default_workers", "forking_quietly", "map_tasks", "replication_seeds"]


def replication_seeds(seed: int, reps: int) -> list[int]:
    """One 63-bit seed per replication, spawned from `seed` (numpy SeedSequence)."""
    children = np.random.SeedSequence(seed).spawn(reps)
    return [int(child.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1)) for child in children]


def default_workers() -> int:
    """All cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


class Progress:
    """A rich progress bar on a terminal; plain periodic lines otherwise (logs, CI)."""

    def __init__(self, total: int, label: str | None, every_seconds: float = 10.0):
        self.total = total
        self.label = label
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
        self.done += count
        elapsed = time.monotonic() - self.start
        rate = self.done / elapsed if elapsed > 0 else 0.0
        if self._bar is not None:
            self._bar.update(self._task, advance=count, rate=f"{rate:.1f} runs/s")
        elif self.label is not None and (
            time.monotonic() - self.last_print >= self.every or self.done == self.total
        ):
            self.last_print = time.monotonic()
            eta = (self.total - self.done) / rate if rate > 0 else float("nan")
            print(
                f"{self.label}: {self.done}/{self.total} runs, {rate:.1f} runs/s, ETA {eta:.0f} s",
                file=sys.stderr,
                flush=True,
            )

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()


def _run_chunk(func: Callable[[Any], Any], chunk: list[tuple[int, Any]]) -> list[tuple[int, Any]]:
    return [(index, func(task)) for index, task in chunk]


def map_tasks(
    func: Callable[[Any], Any],
    tasks: Sequence[Any],
    workers: int | None = None,
    label: str | None = "runs",
    chunk_size: int | None = None,
) -> list[Any]:
    """Apply `func` to every task, in order, on `workers` processes (default: all cores).

    Tasks go to the pool in chunks, so per-task overhead stays small. `func` and the tasks
    must be picklable (a module-level function). The result list is in task order whatever
    the order of completion.
    """
    workers = default_workers() if workers is None else workers
    if workers < 1:
        raise ValueError(f"workers must be at least 1 (got {workers})")
    results: list[Any] = [None] * len(tasks)
    if workers == 1 or len(tasks) <= 1:
        progress = Progress(len(tasks), label)
        try:
            for index, task in enumerate(tasks):
                results[index] = func(task)
                progress.advance()
        finally:
            progress.close()
        return results
    size = chunk_size or max(1, min(16, len(tasks) // (workers * 4)))
    indexed = list(enumerate(tasks))
    chunks = [indexed[i : i + size] for i in range(0, len(indexed), size)]
    with ProcessPoolExecutor(max_workers=workers, mp_context=_pool_context()) as pool:
        # Submitting forks the workers (a fork pool starts them all at once); the progress
        # bar, which runs a thread on a terminal, starts only after that.
        with forking_quietly():
            pending = {pool.submit(_run_chunk, func, chunk) for chunk in chunks}
        progress = Progress(len(tasks), label)
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    chunk_results = future.result()
                    for index, value in chunk_results:
                        results[index] = value
                    progress.advance(len(chunk_results))
        finally:
            progress.close()
    return results


def _pool_context() -> multiprocessing.context.BaseContext:
    """Fork when this process has a single thread, else forkserver.

    fork is cheap and works from a plain script without an `if __name__ == "__main__":`
    guard; forking a process that runs other threads (a Dask client, a UI server) can
    deadlock the child, and there forkserver is safe (it needs the guard in scripts).
    """
    if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["groupsim.model.model", "groupsim.runs.runner"])
    return context


@contextlib.contextmanager
def forking_quietly() -> Iterator[None]:
    """Fork pool workers without Python 3.12's warning about a multi-threaded process.

    The pools fork only when this process runs no other Python thread (`_pool_context`), so
    no Python-level lock can be held across the fork; the threads the warning counts are
    native ones (OpenBLAS's, Arrow's allocator's), and those libraries re-initialise in a
    forked child. `mesa.batch_run`'s pool forks the same way.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", ".*multi-threaded, use of fork", DeprecationWarning)
        yield
