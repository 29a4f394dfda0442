"""Where a sweep's chunks run: in this process, a local process pool, or a Dask cluster.

Each backend maps a function over chunk tasks and yields ``(task, result)`` as chunks finish,
with at most a few chunks in flight (memory stays flat however many runs a sweep has). A chunk
whose worker died is sent again; after `MAX_ATTEMPTS` the result is the exception, and the
sweep records the chunk's runs as failed.

- `SerialBackend`: in this process (``--workers 1``).
- `LocalPoolBackend`: a `ProcessPoolExecutor` of forked processes (forked from this process
  when it has no other Python thread, else off a forkserver that has imported the model
  once, `WORKER_PRELOAD`), so a (re)started worker is ready in milliseconds and shares the
  imported modules' memory. A killed worker breaks a
  `concurrent.futures` pool and loses every pending future (`BrokenProcessPool`), so the
  backend starts a new pool and resubmits the unfinished chunks.
- `DaskBackend`: an existing Dask cluster (``--scheduler tcp://HOST:PORT``) or a LocalCluster
  on 127.0.0.1 (``--dask-local N``). Dask's nanny restarts a killed worker and the scheduler
  recomputes its tasks. Tasks are submitted with ``pure=False`` so that a repeated sweep is
  never answered from Dask's cache.

Example:
    >>> with SerialBackend() as backend:
    ...     sorted(result for _, result in backend.map(abs, [-2, 1]))
    [1, 2]
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from groupsim.runs.execute import forking_quietly
from groupsim.sweep.spec import SweepError

__all__ = ["MAX_ATTEMPTS", "WORKER_PRELOAD", "DaskBackend", "LocalPoolBackend", "SerialBackend"]

#: Attempts per chunk when workers die under it.
MAX_ATTEMPTS = 4

#: Modules the local pool's forkserver imports once, before it forks any worker.
WORKER_PRELOAD = ["groupsim.model.model", "groupsim.runs.outcomes", "groupsim.sweep.run"]


class SerialBackend:
    """Run chunks one after the other in this process."""

    workers = 1
    description = "1 process"

    def __enter__(self) -> SerialBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def map(self, func: Callable[[Any], Any], tasks: Iterable[Any]) -> Iterator[tuple[Any, Any]]:
        for task in tasks:
            yield task, func(task)


class LocalPoolBackend:
    """A pool of `workers` processes that survives the death of a worker."""

    def __init__(self, workers: int, start_method: str | None = None):
        self.workers = workers
        self.description = f"local pool of {workers} processes"
        self.restarts = 0
        self.start_method = ""
        self._method = start_method  # None: fork when safe, else forkserver (see _new_pool)
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> LocalPoolBackend:
        self._pool = self._new_pool()
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if self._pool is not None:
            # On an interrupt do not wait for running chunks; their runs are simply pending.
            self._pool.shutdown(wait=exc_type is None, cancel_futures=True)
            self._pool = None

    def _new_pool(self) -> ProcessPoolExecutor:
        import multiprocessing
        import threading

        methods = multiprocessing.get_all_start_methods()
        method = self._method
        if method is None:
            if "fork" in methods and threading.active_count() == 1:
                # No other Python thread: nothing can hold a Python-level lock (logging, I/O,
                # a progress bar) across the fork. Workers start at once with the model
                # already imported and share those pages with this process.
                method = "fork"
            elif "forkserver" in methods:
                # Other Python threads (a progress bar, Dask, an earlier pool's manager):
                # fork off a clean server that has imported the model once instead (spawned
                # workers would each import it: ~1.5 s of CPU and 150 MB a process).
                method = "forkserver"
            else:  # Windows
                method = "spawn"
        context = multiprocessing.get_context(method)
        if method == "forkserver":
            context.set_forkserver_preload(WORKER_PRELOAD)
        self.start_method = method
        pool = ProcessPoolExecutor(self.workers, mp_context=context, initializer=_worker_started)
        if method == "fork":
            # A fork pool starts all its workers at the first submit: do it now, while this
            # process has no other Python thread.
            with forking_quietly():
                pool.submit(int).result()
        return pool

    def map(self, func: Callable[[Any], Any], tasks: Iterable[Any]) -> Iterator[tuple[Any, Any]]:
        assert self._pool is not None, "use the backend as a context manager"
        source = iter(tasks)
        retry: deque[Any] = deque()
        attempts: dict[int, int] = {}
        inflight: dict[Future, Any] = {}
        capacity = 2 * self.workers
        exhausted = False
        while True:
            while len(inflight) < capacity:
                if retry:
                    task = retry.popleft()
                else:
                    task = None if exhausted else next(source, None)
                    if task is None:
                        exhausted = True
                        break
                inflight[self._pool.submit(func, task)] = task
            if not inflight:
                return
            done, _ = wait(inflight, return_when=FIRST_COMPLETED)
            broken = False
            for future in done:
                task = inflight.pop(future)
                error = future.exception()
                if isinstance(error, BrokenProcessPool):
                    broken = True
                    inflight[future] = task  # handled with the others below
                else:
                    yield task, (error if error is not None else future.result())
            if broken:
                # Every future of a broken pool is lost: keep what finished, resend the rest.
                lost = []
                for future, task in inflight.items():
                    if future.done() and future.exception() is None:
                        yield task, future.result()
                    else:
                        lost.append(task)
                inflight.clear()
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = self._new_pool()
                self.restarts += 1
                for task in lost:
                    attempts[id(task)] = attempts.get(id(task), 1) + 1
                    if attempts[id(task)] > MAX_ATTEMPTS:
                        yield (
                            task,
                            RuntimeError(
                                f"worker process died {MAX_ATTEMPTS} times running this chunk"
                            ),
                        )
                    else:
                        retry.append(task)


def _worker_started() -> None:
    """In a new worker: move the objects it inherited into the garbage collector's permanent
    generation. A collection writes into the header of every object it scans, which would
    copy the pages a forked worker shares with its parent, one by one, over a long sweep.
    """
    import gc

    gc.freeze()


class DaskBackend:
    """Chunks on a Dask cluster: an existing one (`address`) or a LocalCluster of
    `local_workers` single-threaded processes on 127.0.0.1.
    """

    def __init__(
        self,
        address: str | None = None,
        local_workers: int | None = None,
        connect_timeout: float = 10.0,
    ):
        if (address is None) == (local_workers is None):
            raise ValueError("give either a scheduler address or a number of local workers")
        self.address = address
        self.local_workers = local_workers
        self.connect_timeout = connect_timeout
        self.cluster: Any = None
        self.client: Any = None
        self.workers = local_workers or 0
        self.description = ""

    def __enter__(self) -> DaskBackend:
        from distributed import Client, LocalCluster

        if self.address is not None:
            if "://" not in self.address:
                raise SweepError(
                    f"--scheduler: {self.address}: give the scheduler's address as tcp://HOST:PORT"
                )
            try:
                self.client = Client(self.address, timeout=self.connect_timeout)
            except (OSError, TimeoutError, ValueError) as exc:
                message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                raise SweepError(
                    f"--scheduler: {self.address}: cannot reach the Dask scheduler ({message})"
                ) from None
            self.description = f"Dask scheduler {self.address}"
        else:
            self.cluster = LocalCluster(
                n_workers=self.local_workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
            self.client = Client(self.cluster)
            self.description = f"Dask LocalCluster of {self.local_workers} workers on 127.0.0.1"
        self.workers = max(1, sum(self.client.nthreads().values()))
        return self

    def __exit__(self, *exc: object) -> None:
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()

    def map(self, func: Callable[[Any], Any], tasks: Iterable[Any]) -> Iterator[tuple[Any, Any]]:
        from distributed import as_completed

        source = iter(tasks)
        inflight: dict[Any, Any] = {}
        pool = as_completed()

        def submit() -> bool:
            task = next(source, None)
            if task is None:
                return False
            # pure=False: a fresh key, so Dask never answers a chunk from its cache.
            future = self.client.submit(func, task, pure=False)
            inflight[future.key] = task
            pool.add(future)
            return True

        # Enough chunks queued to keep every worker thread busy while results come back.
        for _ in range(2 * max(self.workers, len(self.client.nthreads()) or 1)):
            if not submit():
                break
        for future in pool:
            task = inflight.pop(future.key)
            try:
                result = future.result()
            except Exception as exc:  # KilledWorker or the chunk's own error: its runs fail
                result = exc
            future.release()
            yield task, result
            submit()
