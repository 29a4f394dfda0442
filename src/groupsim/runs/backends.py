"""Where runs go: this process, a local process pool, or a Dask cluster (one interface).

Every backend is a context manager (entering starts its workers, leaving stops them) whose
`map(func, tasks)` yields ``(task, result)`` as tasks finish, with at most a few tasks in
flight, so memory stays flat however many tasks there are. A task whose worker died is sent
again; after `MAX_ATTEMPTS` its result is the exception. A task that raises yields its
exception as the result: the caller decides (a sweep records its runs as failed,
`groupsim.runs.execute.map_tasks` raises it).

- `SerialBackend`: in this process (``--workers 1``).
- `LocalPoolBackend`: a `ProcessPoolExecutor` of forked processes (forked from this process
  when it has no other Python thread, else off a forkserver that has imported the model
  once, `WORKER_PRELOAD`), so a (re)started worker is ready in milliseconds and shares the
  imported modules' memory. Before forking, this process loads the model's compiled kernels
  (`groupsim.model.warm_up`), so the workers share them too instead of each loading its own
  copy from numba's disk cache (or, on an empty cache, each compiling it). Every worker
  dies with the main process, even after ``kill -9`` (`die_with`). A killed worker breaks a
  `concurrent.futures` pool and loses every pending future (`BrokenProcessPool`), so the
  backend starts a new pool and resubmits the unfinished tasks.
- `DaskBackend`: an existing Dask cluster (``--scheduler tcp://HOST:PORT``) or a LocalCluster
  on 127.0.0.1 (``--dask-local N``). Dask's nanny restarts a killed worker and the scheduler
  recomputes its tasks. Tasks are submitted with ``pure=False`` so that a repeated study is
  never answered from Dask's cache.

`make_backend` turns the command-line options into one of them. Nothing here imports Dask,
Mesa or SciPy at module level.

Example:
    >>> with SerialBackend() as backend:
    ...     sorted(result for _, result in backend.map(abs, [-2, 1]))
    [1, 2]
    >>> make_backend(workers=1).description
    '1 process'
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import sys
import threading
import warnings
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol, Self

from groupsim.runs.workers import worker_started

__all__ = [
    "MAX_ATTEMPTS",
    "WORKER_PRELOAD",
    "Backend",
    "BackendError",
    "DaskBackend",
    "LocalPoolBackend",
    "SerialBackend",
    "default_workers",
    "forking_quietly",
    "make_backend",
    "opened",
]

#: Attempts per task when workers die under it.
MAX_ATTEMPTS = 4

#: Modules the local pool's forkserver imports once, before it forks any worker.
WORKER_PRELOAD = ("groupsim.model.model", "groupsim.runs.runner", "groupsim.runs.outcomes")

_END = object()  # marks the end of a task iterator (a task may be any object, even None)


class BackendError(ValueError):
    """A backend cannot start as asked: one line naming the option (exit status 2)."""


class Backend(Protocol):
    """What every backend offers (see the module's docstring)."""

    workers: int
    description: str

    @property
    def is_open(self) -> bool:
        """Whether the backend has been entered and not yet left."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(self, exc_type: object, exc: object, traceback: object) -> None: ...

    def map(self, func: Callable[[Any], Any], tasks: Iterable[Any]) -> Iterator[tuple[Any, Any]]:
        """Yield ``(task, func(task))`` as tasks finish (an exception as the result)."""
        ...


def default_workers() -> int:
    """All cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


@contextlib.contextmanager
def forking_quietly() -> Iterator[None]:
    """Fork pool workers without Python 3.12's warning about a multi-threaded process.

    The pool forks only when this process runs no other Python thread (`LocalPoolBackend`),
    so no Python-level lock can be held across the fork; the threads the warning counts are
    native ones (OpenBLAS's, Arrow's allocator's), and those libraries re-initialise in a
    forked child. `mesa.batch_run`'s pool forks the same way.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", ".*multi-threaded, use of fork", DeprecationWarning)
        yield


@contextlib.contextmanager
def opened(backend: Backend) -> Iterator[Backend]:
    """The backend, entered for the block unless the caller already holds it open.

    So one open backend (a Dask cluster, say) can serve several studies in a row.
    """
    if backend.is_open:
        yield backend
    else:
        with backend:
            yield backend


# ---------------------------------------------------------------------------- in this process


class SerialBackend:
    """Run tasks one after the other in this process."""

    workers = 1
    description = "1 process"

    def __init__(self) -> None:
        self._open = False

    @property
    def is_open(self) -> bool:
        """Whether the backend has been entered and not yet left."""
        return self._open

    def __enter__(self) -> SerialBackend:
        _compile_elsewhere()
        self._open = True
        return self

    def __exit__(self, exc_type: object, exc: object, traceback: object) -> None:
        self._open = False

    def map(self, func: Callable[[Any], Any], tasks: Iterable[Any]) -> Iterator[tuple[Any, Any]]:
        """Yield ``(task, func(task))`` in task order; a task that raises yields its error."""
        for task in tasks:
            try:
                result = func(task)
            except Exception as exc:  # the same contract as the pools: the caller decides
                result = exc
            yield task, result


# ---------------------------------------------------------------------------- a local pool


class LocalPoolBackend:
    """A pool of `workers` processes that survives the death of a worker.

    Args:
        workers: processes.
        start_method: "fork", "forkserver" or "spawn"; None: fork when this process has no
            other Python thread, else forkserver (see `_start_method`).
        preload: modules a forkserver imports once before it forks any worker.
    """

    def __init__(
        self,
        workers: int,
        start_method: str | None = None,
        preload: Iterable[str] = WORKER_PRELOAD,
    ):
        self.workers = workers
        self.description = f"local pool of {workers} processes"
        self.restarts = 0
        self.start_method = ""
        self.preload = list(preload)
        self._method = start_method
        self._pool: ProcessPoolExecutor | None = None

    @property
    def is_open(self) -> bool:
        """Whether the backend has been entered and not yet left."""
        return self._pool is not None

    def __enter__(self) -> LocalPoolBackend:
        self._pool = self._new_pool()
        return self

    def __exit__(self, exc_type: object, exc: object, traceback: object) -> None:
        if self._pool is not None:
            # On an interrupt do not wait for running tasks; their runs are simply pending.
            self._pool.shutdown(wait=exc_type is None, cancel_futures=True)
            self._pool = None

    def _new_pool(self) -> ProcessPoolExecutor:
        method = self._method or _start_method()
        context = multiprocessing.get_context(method)
        if method == "forkserver":
            context.set_forkserver_preload(self.preload)
        self.start_method = method
        if method == "fork":
            _load_kernels()
        else:  # the workers load the kernels themselves: from the cache, compiled elsewhere
            _compile_elsewhere()
        pool = ProcessPoolExecutor(
            self.workers,
            mp_context=context,
            initializer=worker_started,
            initargs=(os.getpid(),),
        )
        if method == "fork":
            # A fork pool starts all its workers at the first submit: do it now, while this
            # process has no other Python thread (a progress bar starts only after this).
            with forking_quietly():
                pool.submit(int).result()
        return pool

    def map(self, func: Callable[[Any], Any], tasks: Iterable[Any]) -> Iterator[tuple[Any, Any]]:
        """Yield ``(task, result)`` as tasks finish, at most two per worker in flight."""
        if self._pool is None:
            raise RuntimeError("use the backend as a context manager")
        source = iter(tasks)
        retry: deque[Any] = deque()
        attempts: dict[int, int] = {}
        inflight: dict[Future[Any], Any] = {}
        while True:
            if not self._submit(func, source, retry, inflight):
                # A worker died while the caller handled the last results: the pool broke
                # between two waits and refused the next task.
                yield from self._restart(inflight, retry, attempts)
                continue
            if not inflight:
                return
            done, _ = wait(inflight, return_when=FIRST_COMPLETED)
            broken = yield from _collect(done, inflight)
            if broken:
                yield from self._restart(inflight, retry, attempts)

    def _submit(
        self,
        func: Callable[[Any], Any],
        source: Iterator[Any],
        retry: deque[Any],
        inflight: dict[Future[Any], Any],
    ) -> bool:
        """Top the pool up to two tasks per worker: tasks to resend first, then new ones.

        False when the pool is broken (a worker died since the last wait): the task it
        refused goes back to the front of `retry`, not counted as an attempt (it never ran).
        """
        assert self._pool is not None
        while len(inflight) < 2 * self.workers:
            task = retry.popleft() if retry else next(source, _END)
            if task is _END:
                return True
            try:
                inflight[self._pool.submit(func, task)] = task
            except BrokenProcessPool:
                retry.appendleft(task)
                return False
        return True

    def _restart(
        self, inflight: dict[Future[Any], Any], retry: deque[Any], attempts: dict[int, int]
    ) -> Iterator[tuple[Any, Any]]:
        """After a worker died: keep what finished, start a new pool, resend the rest.

        Every future of a broken pool is lost, so its unfinished tasks go back in the queue;
        a task that was in flight `MAX_ATTEMPTS` times yields an error instead.
        """
        lost = []
        for future, task in inflight.items():
            if future.done() and future.exception() is None:
                yield task, future.result()
            else:
                lost.append(task)
        inflight.clear()
        assert self._pool is not None
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool = self._new_pool()
        self.restarts += 1
        for task in lost:
            attempts[id(task)] = attempts.get(id(task), 1) + 1
            if attempts[id(task)] > MAX_ATTEMPTS:
                message = f"worker process died {MAX_ATTEMPTS} times running this task"
                yield task, RuntimeError(message)
            else:
                retry.append(task)


def _load_kernels() -> None:
    """Load the model's kernels here, so that workers forked from here share them.

    Each worker would otherwise load its own copy from numba's disk cache at its first run
    (~0.8 s and ~60 MB of private memory a worker), or compile it when the cache is empty
    (~80 s of CPU each). Measured once with 2 workers on a default `compare` of 300
    replications: a worker's private memory 76 against 13 MB (docs/performance.md). On an
    empty cache the kernels are compiled in a child process first (`_compile_elsewhere`):
    workers forked from a process that compiled would run its slower code.
    """
    from groupsim.model.warm_up import warm_up

    _compile_elsewhere()
    warm_up()


def _compile_elsewhere() -> None:
    """Make sure the model's code is in numba's disk cache, compiled by another process.

    A process that compiles the model usually runs it slower (1.05-1.24x) than one that loads
    it from the cache (`groupsim.model.warm_up.ensure_cached`), so a study's processes load it:
    on an empty cache (the first study after an install) a child compiles it first, saying so
    on stderr.
    """
    from groupsim.model.warm_up import ensure_cached

    ensure_cached(notify=lambda line: print(line, file=sys.stderr, flush=True))


def _start_method() -> str:
    """Fork when this process runs no other Python thread, else forkserver (spawn on Windows).

    With no other Python thread nothing can hold a Python-level lock (logging, I/O, a
    progress bar) across the fork: workers start at once with the model already imported and
    share those pages with this process. Forking a process that runs other threads (a Dask
    client, a UI server) can deadlock the child; a forkserver that has imported the model
    once is safe there (spawned workers would each import it: ~1.5 s of CPU and 150 MB each).
    """
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return "fork"
    return "forkserver" if "forkserver" in methods else "spawn"


def _collect(
    done: Iterable[Future[Any]], inflight: dict[Future[Any], Any]
) -> Generator[tuple[Any, Any], None, bool]:
    """Yield the finished tasks' results (an error as the result); True if the pool broke.

    A future lost to a broken pool stays in `inflight` for `LocalPoolBackend._restart`.
    """
    broken = False
    for future in done:
        task = inflight.pop(future)
        error = future.exception()
        if isinstance(error, BrokenProcessPool):
            broken = True
            inflight[future] = task
        else:
            yield task, (error if error is not None else future.result())
    return broken


# ---------------------------------------------------------------------------- Dask


class DaskBackend:
    """Tasks on a Dask cluster: an existing one or a LocalCluster on 127.0.0.1.

    Args:
        address: the scheduler of an existing cluster, tcp://HOST:PORT.
        local_workers: start a LocalCluster of this many single-threaded processes instead.
        connect_timeout: seconds to wait for the scheduler at `address`.
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

    @property
    def is_open(self) -> bool:
        """Whether the backend has been entered and not yet left."""
        return self.client is not None

    def __enter__(self) -> DaskBackend:
        if self.address is not None:
            self._connect(self.address)
        else:
            self._start_local_cluster()
        self.workers = max(1, sum(self.client.nthreads().values()))
        from groupsim.model.warm_up import ensure_cached

        # Each worker's machine has the model compiled in its cache before a task runs it, by a
        # child process (`_compile_elsewhere`; a machine's workers wait for one compile). A
        # worker that cannot (an error of its own machine) compiles at its first task instead.
        with contextlib.suppress(Exception):
            self.client.run(ensure_cached)
        return self

    def _connect(self, address: str) -> None:
        if "://" not in address:
            raise BackendError(
                f"--scheduler: {address}: give the scheduler's address as tcp://HOST:PORT"
            )
        client_class = _distributed("--scheduler").Client
        try:
            self.client = client_class(address, timeout=self.connect_timeout)
        except (OSError, TimeoutError, ValueError) as exc:
            message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise BackendError(
                f"--scheduler: {address}: cannot reach the Dask scheduler ({message})"
            ) from None
        self.description = f"Dask scheduler {address}"

    def _start_local_cluster(self) -> None:
        distributed = _distributed("--dask-local")
        _compile_elsewhere()  # before the workers start: they share this machine's cache
        self.cluster = distributed.LocalCluster(
            n_workers=self.local_workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            # Its HTTP server (health checks; the dashboard if bokeh is installed) on a free
            # local port: with None it still tries 8787, and a second study running at the same
            # time would print a warning that the port is taken.
            dashboard_address="127.0.0.1:0",
            silence_logs=logging.ERROR,
        )
        self.client = distributed.Client(self.cluster)
        self.description = f"Dask LocalCluster of {self.local_workers} workers on 127.0.0.1"

    def __exit__(self, exc_type: object, exc: object, traceback: object) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None
        if self.cluster is not None:
            self.cluster.close()
            self.cluster = None

    def map(self, func: Callable[[Any], Any], tasks: Iterable[Any]) -> Iterator[tuple[Any, Any]]:
        """Yield ``(task, result)`` as tasks finish, two per worker thread in flight."""
        from distributed import as_completed

        source = iter(tasks)
        inflight: dict[Any, Any] = {}
        finished = as_completed()

        def submit() -> None:
            task = next(source, _END)
            if task is not _END:
                # pure=False: a fresh key, so Dask never answers a task from its cache.
                future = self.client.submit(func, task, pure=False)
                inflight[future.key] = task
                finished.add(future)

        # Enough tasks queued to keep every worker thread busy while results come back.
        for _ in range(2 * max(self.workers, len(self.client.nthreads()) or 1)):
            submit()
        for future in finished:
            task = inflight.pop(future.key)
            try:
                result = future.result()
            except Exception as exc:  # KilledWorker or the task's own error
                result = exc
            future.release()
            yield task, result
            submit()


def _distributed(option: str) -> Any:
    """The `distributed` package, or a one-line error saying how to install it."""
    try:
        import distributed
    except ImportError:
        raise BackendError(
            f"{option}: needs Dask; install it with: pip install 'groupsim[sweep]'"
        ) from None
    return distributed


# ---------------------------------------------------------------------------- the options


def make_backend(
    workers: int | None = None,
    scheduler: str | None = None,
    dask_local: int | None = None,
    connect_timeout: float = 10.0,
) -> Backend:
    """The backend for the command-line options (default: a local pool on all cores).

    Args:
        workers: local processes (1: in this process).
        scheduler: an existing Dask scheduler, tcp://HOST:PORT.
        dask_local: a Dask LocalCluster of this many workers on 127.0.0.1.
        connect_timeout: seconds to wait for `scheduler`.

    Raises:
        BackendError: more than one of `workers`, `scheduler` and `dask_local`, or a count
            below 1.

    Example:
        >>> make_backend(workers=2, dask_local=2)
        Traceback (most recent call last):
        ...
        groupsim.runs.backends.BackendError: --workers and --dask-local: choose one of these options
    """
    given = [
        name
        for name, value in (
            ("--workers", workers),
            ("--scheduler", scheduler),
            ("--dask-local", dask_local),
        )
        if value is not None
    ]
    if len(given) > 1:
        raise BackendError(f"{' and '.join(given)}: choose one of these options")
    if scheduler is not None:
        return DaskBackend(address=scheduler, connect_timeout=connect_timeout)
    if dask_local is not None:
        if dask_local < 1:
            raise BackendError(f"--dask-local: must be at least 1 (got {dask_local})")
        return DaskBackend(local_workers=dask_local)
    workers = default_workers() if workers is None else workers
    if workers < 1:
        raise BackendError(f"--workers: must be at least 1 (got {workers})")
    return SerialBackend() if workers == 1 else LocalPoolBackend(workers)
