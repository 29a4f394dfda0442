"""Running a sweep: chunks of runs on a backend, streamed into a sweep folder, resumable.

`run_sweep` plans the pending runs (all of them, or on `resume` those without a finished
row), sends them in chunks to a backend (see `groupsim.runs.backends`) and writes each
finished chunk as one Parquet file (see `groupsim.sweep.store`). The parent process alone
writes, so a chunk a backend happened to compute twice is still written once. A run that
raises is recorded as `failed` with its error and seed; the sweep goes on and `resume`
retries it.

Example:
    >>> import tempfile
    >>> from groupsim.sweep.spec import load_sweep
    >>> out = tempfile.mkdtemp() + "/quick"
    >>> summary = run_sweep(load_sweep("scenarios/sweeps/quick.toml"), out, label=None)
    >>> summary.done_now, summary.failed
    (16, 0)
    >>> run_sweep(load_sweep("scenarios/sweeps/quick.toml"), out, resume=True).done_now
    0
"""

from __future__ import annotations

import datetime
import math
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from groupsim.model.interrupts import interrupts_wait
from groupsim.runs.backends import Backend, make_backend, opened
from groupsim.sweep.chunk import FAIL_RUNS_ENV, ID_COLUMNS, ChunkResult, ChunkTask, run_chunk
from groupsim.sweep.spec import Sweep, SweepError

if TYPE_CHECKING:
    from groupsim.sweep.store import SweepStore

__all__ = [
    "FAIL_RUNS_ENV",
    "ChunkResult",
    "ChunkTask",
    "SweepInterrupted",
    "SweepSummary",
    "chunk_sizes",
    "chunk_tasks",
    "make_backend",
    "run_chunk",
    "run_sweep",
    "seed_aligned",
    "sweep_files",
]

#: Guided chunk sizes (`chunk_sizes`) stay within these bounds: large enough that a task's
#: overhead (about a millisecond, and a file) is small against its runs, small enough that
#: a worker finishing the last chunk keeps the others waiting briefly.
MIN_CHUNK = 4
MAX_CHUNK = 64


def chunk_sizes(runs: int, workers: int, largest: int = MAX_CHUNK) -> Iterator[int]:
    """Guided chunk sizes: a small first chunk per worker, then a quarter of the rest each.

    Between `MIN_CHUNK` and `largest` runs, so early chunks are large (few tasks and files)
    and the last ones small (no worker idles long while another finishes a big chunk). The
    first `MIN_CHUNK`-run chunk of each worker gives the progress bar a rate (and an ETA)
    after the first few runs, not after the first big chunk.

    Example:
        >>> list(chunk_sizes(40, 2))
        [4, 4, 4, 4, 4, 4, 4, 4, 4, 4]
        >>> list(chunk_sizes(400, 2))[:4]
        [4, 4, 49, 43]
    """
    remaining = runs
    for _ in range(workers):
        if remaining <= 0:
            return
        size = min(remaining, MIN_CHUNK)
        yield size
        remaining -= size
    while remaining > 0:
        size = min(remaining, largest, max(MIN_CHUNK, math.ceil(remaining / (4 * workers))))
        yield size
        remaining -= size


def seed_aligned(sizes: list[int], keys: np.ndarray) -> list[int]:
    """The ends of chunks of `sizes` runs, each moved onto a seed's first run if one is near.

    `keys`: the runs' seed keys in the order they go out (`Sweep.seed_keys` of
    `Sweep.run_order`: a seed's runs together). A chunk that ends inside a seed's runs
    splits them, and each part settles the cohort anew (`chunk.sharing_order`), so an end
    moves to the nearest place where one seed's runs end and the next one's begin, if that
    is within half the chunk's size (the chunk grows or shrinks by at most half; guided
    sizes stay guided). Without common random numbers every run is a seed of its own and no
    end moves.

    Example:
        >>> keys = np.repeat([0, 1, 2, 3], 5)  # four seeds of five runs
        >>> seed_aligned([4, 4, 4, 4, 4], keys)
        [5, 10, 15, 20]
        >>> seed_aligned([2, 2, 2, 14], keys)  # 2 stays (5 is 3 away); 4 and 6 both go to 5
        [2, 5, 20]
    """
    if len(keys) == 0:
        return []
    starts = np.flatnonzero(np.diff(keys)) + 1  # where a new seed's runs begin
    ends: list[int] = []
    nominal = 0
    for size in sizes:
        nominal += size
        end = nominal
        if 0 < end < len(keys) and len(starts):
            at = int(np.searchsorted(starts, end))
            near = [int(starts[i]) for i in (at - 1, at) if 0 <= i < len(starts)]
            best = min(near, key=lambda b: (abs(b - end), b))
            if abs(best - end) <= size // 2:
                end = best
        if end > (ends[-1] if ends else 0):
            ends.append(end)
    if ends[-1] != len(keys):
        ends.append(len(keys))
    return ends


def chunk_tasks(
    sweep: Sweep, pending: np.ndarray, chunk_size: int | None, workers: int = 1
) -> Iterator[ChunkTask]:
    """Group the pending run ids into tasks of `chunk_size` runs, a seed's runs together.

    In `Sweep.run_order` (with common random numbers, a seed's runs one after another, so a
    chunk's runs share its settled cohort). The last may have fewer; `chunk_size` None:
    guided sizes for `workers` workers (`chunk_sizes`), each end moved onto a seed's first
    run when one is within half the chunk (`seed_aligned`).
    """
    pending = sweep.run_order(pending)
    base = sweep.base.to_dict()
    fail_runs = frozenset(
        int(x) for x in os.environ.get(FAIL_RUNS_ENV, "").replace(" ", "").split(",") if x
    )
    if chunk_size is None:
        ends = seed_aligned(list(chunk_sizes(len(pending), workers)), sweep.seed_keys(pending))
    else:
        ends = [*range(chunk_size, len(pending), chunk_size), len(pending)] if len(pending) else []
    start = 0
    for end in ends:
        ids = [int(r) for r in pending[start:end]]
        start = end
        runs = tuple((r, *sweep.locate(r), sweep.run_seed(r)) for r in ids)
        points = sorted({point for _, point, _, _ in runs})
        yield ChunkTask(
            first=ids[0],
            runs=runs,
            overrides={p: sweep.overrides(p) for p in points},
            base=base,
            source=str(sweep.path),
            plan=sweep.plan,
            weekly=sweep.settings.weekly,
            fail_runs=fail_runs & set(ids),
        )


@dataclass
class SweepSummary:
    """What one call of `run_sweep` did.

    Attributes:
        total: runs in the sweep.
        done_before: runs already finished when it started (resume).
        done_now: runs finished by this call.
        failed: runs of this call that failed (recorded; `resume` retries them).
        failures: (run_id, point, replication, seed, error) of those runs.
        seconds: wall time of this call.
        backend: where the runs went.
        repaired: damaged files resume removed (their runs were run again) or wrote again,
            as (path, reason).
    """

    total: int
    done_before: int
    done_now: int = 0
    failed: int = 0
    failures: list[tuple[int, int, int, int, str]] = field(default_factory=list)
    seconds: float = 0.0
    backend: str = ""
    repaired: list[tuple[str, str]] = field(default_factory=list)
    interrupted: bool = False


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped a sweep: its finished chunks are saved, `summary` counts them.

    A KeyboardInterrupt, so code that does not expect it still stops; `groupsim sweep`
    catches it to say how many runs are saved and how to resume.
    """

    def __init__(self, summary: SweepSummary):
        super().__init__(f"{summary.done_before + summary.done_now} runs saved")
        self.summary = summary


def run_sweep(
    sweep: Sweep,
    out: str | Path,
    backend: Backend | None = None,
    *,
    resume: bool = False,
    chunk_size: int | None = None,
    label: str | None = "sweep",
) -> SweepSummary:
    """Run (or resume) a sweep into the folder `out`.

    Args:
        sweep: a loaded sweep (`groupsim.sweep.spec.load_sweep`).
        out: the sweep folder; new (or empty) unless `resume`.
        backend: from `make_backend` (default: a local pool on all cores).
        resume: continue the sweep in `out`: skip finished runs, retry failed ones (a
            folder without a sweep: start it). Damaged files are repaired first (see
            `groupsim.sweep.integrity.repair`), each named on stderr unless `label` is None.
        chunk_size: runs per task (default: the sweep file's, else guided sizes from 64
            runs down to 4, see `chunk_sizes`).
        label: the progress bar's label (None: no progress output).

    Raises:
        SweepError: `out` holds another sweep or is not a folder for one.
        BackendError: the backend cannot start (`groupsim.runs.backends`).
        ScenarioError: resuming with a sweep file that changed since the sweep started.
    """
    from groupsim.sweep.store import SweepStore

    out = Path(out)
    backend = make_backend() if backend is None else backend
    store = SweepStore(out)
    started = time.monotonic()
    _check_out(out, store, resume)
    summary = SweepSummary(total=sweep.runs, done_before=0)
    if store.exists():
        summary.repaired = _repair(sweep, store, label)
    finished = store.finished_runs() if store.exists() else np.empty(0, dtype=np.int64)
    pending = np.setdiff1d(np.arange(sweep.runs, dtype=np.int64), finished)
    summary.done_before = len(finished)
    if len(pending) == 0:
        return summary  # a finished sweep: nothing to do, nothing written

    with opened(backend):  # a backend that cannot start raises here, before anything is written
        summary.backend = backend.description
        if not store.exists():
            store.create(*sweep_files(sweep))
        with store.locked() as locked:
            if not locked:
                raise SweepError(f"{out}: --out: another groupsim sweep is writing this folder")
            store.clean_partial()
            tasks = chunk_tasks(
                sweep, pending, chunk_size or sweep.settings.chunk_size, backend.workers
            )
            try:
                _write_chunks(sweep, store, backend.map(run_chunk, tasks), summary, label)
            except KeyboardInterrupt:
                summary.interrupted = True
                raise SweepInterrupted(summary) from None
            finally:
                summary.seconds = time.monotonic() - started
                store.write_status(
                    {
                        "runs": sweep.runs,
                        "finished": summary.done_before + summary.done_now,
                        "failed": len(store.failures()) if summary.failed else 0,
                        "interrupted": summary.interrupted,
                        "updated": _now(),
                    }
                )
    return summary


def _repair(sweep: Sweep, store: SweepStore, label: str | None) -> list[tuple[str, str]]:
    """Repair a resumed folder's damaged files under its lock, naming each on stderr."""
    from groupsim.sweep.integrity import repair

    with store.locked() as locked:
        if not locked:
            raise SweepError(f"{store.root}: --out: another groupsim sweep is writing this folder")
        repaired = [(str(item.path), item.reason) for item in repair(store, sweep)]
    for path, reason in repaired if label is not None else []:
        what = (
            "its runs are run again"
            if Path(path).parent.name in ("runs", "weekly")
            else (f"written again from {sweep.path}")
        )
        print(f"{path}: damaged: {reason}; {what}", file=sys.stderr)
    return repaired


def _check_out(out: Path, store: SweepStore, resume: bool) -> None:
    """Refuse an `out` that is a file, holds another sweep, or holds other things.

    `resume` on a folder without a sweep starts it: the same command line is safe to repeat
    (a sweep killed before its folder was created has nothing to resume).
    """
    if out.exists() and not out.is_dir():
        raise SweepError(f"{out}: --out: is a file; give a folder for the sweep")
    if store.exists():
        if not resume:
            raise SweepError(
                f"{out}: --out: already holds a sweep; add --resume to continue it "
                "or choose another folder"
            )
    elif out.exists() and any(out.iterdir()):
        raise SweepError(f"{out}: --out: folder is not empty and holds no sweep")


def _write_chunks(
    sweep: Sweep,
    store: SweepStore,
    finished: Iterator[tuple[ChunkTask, Any]],
    summary: SweepSummary,
    label: str | None,
) -> None:
    """Write each chunk as it finishes (this process alone writes) and count its runs."""
    from groupsim.runs.execute import Progress

    progress = Progress(summary.total - summary.done_before, label)
    try:
        for task, result in finished:
            progress.advance(_save_chunk(sweep, store, task, result, summary))
    finally:
        progress.close()


@interrupts_wait
def _save_chunk(
    sweep: Sweep, store: SweepStore, task: ChunkTask, result: Any, summary: SweepSummary
) -> int:
    """Write a finished chunk and count its runs in `summary`; returns how many runs it held.

    One step that Ctrl-C waits for: interrupted between the two, the sweep's status counted a
    chunk fewer than its folder held (a test caught it: a saved part, `finished` 0).
    """
    rows = _rows_table(sweep, task, result)
    weekly = result.weekly if isinstance(result, ChunkResult) else None
    store.write_chunk(task.first, rows, weekly)
    failed = _failed_runs(rows)
    summary.done_now += rows.num_rows - len(failed)
    summary.failed += len(failed)
    summary.failures.extend(failed)
    return int(rows.num_rows)


def _failed_runs(rows: Any) -> list[tuple[int, int, int, int, str]]:
    """(run_id, point, replication, seed, error) of a chunk's failed runs."""
    table = rows.select([*ID_COLUMNS[:4], "status", "error"]).to_pydict()
    return [
        (
            table["run_id"][i],
            table["point"][i],
            table["replication"][i],
            table["seed"][i],
            table["error"][i],
        )
        for i, status in enumerate(table["status"])
        if status == "failed"
    ]


def _rows_table(sweep: Sweep, task: ChunkTask, result: Any) -> Any:
    """A chunk's rows as an Arrow table in the fixed column order.

    Ids, status, error, the varied parameters, the outcomes; a chunk that raised fails all
    its runs.
    """
    import pyarrow as pa

    if isinstance(result, ChunkResult):
        columns = result.columns
    else:
        error = f"{type(result).__name__}: {result}"[:500]
        columns = {name: [run[i] for run in task.runs] for i, name in enumerate(ID_COLUMNS[:4])}
        columns.update(status=["failed"] * len(task.runs), error=[error] * len(task.runs))
        columns.update({name: [math.nan] * len(task.runs) for name in sweep.outcomes})
    arrays = [pa.array(columns[name], type=pa.int64()) for name in ID_COLUMNS[:4]]
    arrays += [pa.array(columns[name], type=pa.string()) for name in ID_COLUMNS[4:]]
    names = list(ID_COLUMNS)
    for index, name in enumerate(sweep.parameters):
        arrays.append(pa.array([sweep.design[p][index] for p in columns["point"]]))
        names.append(name)
    for name in sweep.outcomes:
        arrays.append(pa.array(columns[name], type=pa.float64()))
        names.append(name)
    return pa.Table.from_arrays(arrays, names=names)


def sweep_files(sweep: Sweep) -> tuple[dict[str, Any], dict[str, bytes], Any]:
    """What a new sweep folder holds: its manifest, the copies, the design points table."""
    return _manifest(sweep), _copies(sweep), _points_table(sweep)


def _points_table(sweep: Sweep) -> Any:
    import pandas as pd

    table = pd.DataFrame(sweep.design, columns=list(sweep.parameters))
    table.insert(0, "point", np.arange(sweep.points, dtype=np.int64))
    if sweep.sample is not None:
        for index, name in enumerate(sweep.parameters):
            table[f"sampled[{name}]"] = sweep.sample[:, index]
    return table


def _copies(sweep: Sweep) -> dict[str, bytes]:
    from groupsim.scenario import scenario_to_toml

    return {
        "sweep.toml": sweep.path.read_bytes(),
        "scenario.toml": scenario_to_toml(sweep.base).encode(),
    }


def _manifest(sweep: Sweep) -> dict[str, Any]:
    from groupsim._version import __version__

    s = sweep.settings
    return {
        "format": "groupsim-sweep/1",
        "name": sweep.name,
        "sweep_file": str(sweep.path),
        "sweep_hash": sweep.digest,
        "groupsim_version": __version__,
        "created": _now(),
        "base_scenario": sweep.base.name,
        "design": sweep.describe(),
        "seed": s.seed,
        "seeds": (
            "run seed = SeedSequence(seed, spawn_key=(replication,)) (common random numbers)"
            if s.common_random_numbers
            else "run seed = SeedSequence(seed, spawn_key=(run_id,))"
        )
        + ", first 64-bit word >> 1; every run's seed is in its row",
        "common_random_numbers": s.common_random_numbers,
        "run_id": "point * replications + replication",
        "outcomes": list(sweep.outcomes),
        "weekly": s.weekly,
    }


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
