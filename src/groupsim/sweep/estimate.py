"""A sweep's dry run: how many runs, how long, how much disk, from a few timed runs.

`estimate(sweep, workers)` runs a handful of the sweep's own runs in this process (spread
over the design, so slow and fast points both count; one untimed run first, since the first
run of a process pays for imports and compilation), and scales up:

    seconds = start-up + (fresh runs x seconds per run + shared runs x seconds per shared run
                          + twins x seconds per twin) / workers

where shared runs are those that start from the cohort the run before them in their chunk
settled (common random numbers: a seed's runs that agree on the cohort and campus life go
out together, `Sweep.run_order`, and settle it once, `groupsim.model.settled`), counted on
the sweep's own chunks; a shared run is timed by running a timed run again right after
itself. Twins are the distinct no-intervention twins the sweep runs (``effects = true``;
runs whose twins share seed and scenario share one), and start-up is the first run's extra
time (each worker pays it once, in parallel). Disk is the Parquet size of the timed rows
scaled to the sweep's chunks. Nothing is written.
"""

from __future__ import annotations

import io
import json
import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from groupsim.runs.resources import duration_text, size_text
from groupsim.sweep.chunk import ChunkTask, run_chunk
from groupsim.sweep.spec import Sweep

__all__ = ["Estimate", "estimate"]

#: Above this many design points the twins are not counted one by one (each run is assumed
#: to need its own twin: the estimate errs long).
MAX_TWIN_COUNT_POINTS = 5_000


@dataclass(frozen=True)
class Estimate:
    """A dry run's numbers.

    Attributes:
        runs: runs in the sweep.
        twins: twin runs it adds (effects; 0 without).
        shared: runs that start from the cohort the run before them settled.
        timed: runs timed (after one untimed run).
        seconds_per_run: mean wall time of a timed run (its outcomes included).
        seconds_per_shared_run: mean wall time of a run started from a settled cohort
            (`seconds_per_run` when no run shares one).
        seconds_per_twin: mean wall time of a twin (0 without effects).
        startup: the first run's extra seconds (imports, compilation).
        workers: workers asked for.
        parallel: workers the estimate assumes run at once (free cores; see
            `effective_workers`).
        seconds: the estimated wall time of the sweep.
        bytes: the estimated size of the sweep folder.
    """

    runs: int
    twins: int
    shared: int
    timed: int
    seconds_per_run: float
    seconds_per_shared_run: float
    seconds_per_twin: float
    startup: float
    workers: int
    parallel: int
    seconds: float
    bytes: int

    def lines(self) -> list[str]:
        """The dry run's report, a line each."""
        twins = f" + {self.twins:,} twin runs (effects)" if self.twins else ""
        per_twin = f", {self.seconds_per_twin:.3f} s per twin" if self.twins else ""
        busy = (
            f" (the machine is busy: about {self.parallel} free core{'s' * (self.parallel > 1)})"
            if self.parallel < self.workers
            else ""
        )
        shared = (
            f"; {self.shared:,} runs start from the cohort their seed settled: "
            f"{self.seconds_per_shared_run:.3f} s each"
            if self.shared
            else ""
        )
        return [
            f"{self.runs:,} runs{twins}",
            f"timed {self.timed} runs: {self.seconds_per_run:.3f} s per run{per_twin}{shared}",
            f"estimated time on {self.workers} worker{'s' * (self.workers > 1)}: "
            f"{duration_text(self.seconds)}{busy}",
            f"disk needed: about {size_text(self.bytes)}",
        ]


def effective_workers(workers: int) -> int:
    """Workers that will truly run at once on this machine: at most its free cores.

    Other processes' load (the 1-minute load average, less this process) takes cores away:
    on a busy machine two local workers run little faster than one.
    """
    import os

    cores = os.cpu_count() or 1
    others = max(0.0, os.getloadavg()[0] - 1.0)
    return max(1, min(workers, round(cores - others)))


def estimate(sweep: Sweep, workers: int, timed: int = 3, local: bool = True) -> Estimate:
    """Time a few of the sweep's runs and estimate its time and disk (see the module).

    `local`: the workers are processes on this machine (their count is cut to its free
    cores, `effective_workers`); else a cluster's, taken as they are.
    """
    from groupsim.sweep.run import _rows_table, chunk_sizes, chunk_tasks

    picks = np.unique(np.linspace(0, sweep.runs - 1, timed + 1).round().astype(np.int64))
    task = next(chunk_tasks(sweep, picks, len(picks)))
    plain = replace(task, plan=replace(task.plan, effects=False, expressions=()))
    first = _timed(plain, 0)  # imports and compilation: paid once per worker
    rest = [_timed(plain, i) for i in range(1, len(picks))] or [first]
    per_run = float(np.mean(rest))
    # Each point's scenario, for both counts below (neither needs them otherwise).
    counted = sweep.settings.common_random_numbers or sweep.plan.effects
    scenarios = _design_scenarios(sweep) if counted else None
    shared = _shared_runs(sweep, workers, scenarios)
    per_shared = per_run
    if shared:  # each timed run again right after itself: it starts from its own settled cohort
        again = [_timed(plain, i, twice=True) for i in range(1, len(picks))] or [first]
        per_shared = max(0.0, float(np.mean(again)) - per_run)
    per_twin, twins = 0.0, 0
    if sweep.plan.effects:
        twins = _twin_count(sweep, scenarios)
        per_twin = max(0.0, float(np.mean([_timed(task, i) for i in range(len(picks))])) - per_run)
    startup = max(0.0, first - per_run) + (0.5 if workers > 1 else 0.0)
    parallel = effective_workers(workers) if local else workers
    seconds = (
        startup
        + ((sweep.runs - shared) * per_run + shared * per_shared + twins * per_twin) / parallel
    )
    rows = _rows_table(sweep, task, run_chunk(task))
    parts = len(list(chunk_sizes(sweep.runs, workers)))
    # A part's fixed cost (schema, footer) from the timed rows' file, plus about 9 bytes per
    # value (8-byte numbers, little compression of simulated values) per row.
    per_row = 9 * rows.num_columns
    weekly = 8 * 30 * (sweep.base.total_weeks + 1) * sweep.runs if sweep.settings.weekly else 0
    disk = parts * _parquet_bytes(rows) + per_row * (sweep.runs + sweep.points) + weekly
    return Estimate(
        sweep.runs,
        twins,
        shared,
        len(rest),
        per_run,
        per_shared,
        per_twin,
        startup,
        workers,
        parallel,
        seconds,
        int(disk),
    )


def _timed(task: ChunkTask, index: int, twice: bool = False) -> float:
    """Wall seconds of the task's run `index` alone (`twice`: then again, from its cohort)."""
    one = replace(task, runs=(task.runs[index],) * (1 + twice), first=task.runs[index][0])
    start = time.perf_counter()
    result = run_chunk(one)
    seconds = time.perf_counter() - start
    if result.columns["status"][0] != "ok":
        from groupsim.sweep.spec import SweepError

        raise SweepError(f"{task.source}: run {one.first} fails: {result.columns['error'][0]}")
    return seconds


def _design_scenarios(sweep: Sweep) -> list[Any] | None:
    """Each design point's scenario; None above `MAX_TWIN_COUNT_POINTS` points (not built)."""
    from groupsim.scenario import apply_overrides, scenario_from_dict

    if sweep.points > MAX_TWIN_COUNT_POINTS:
        return None
    base = sweep.base.to_dict()
    return [
        scenario_from_dict(apply_overrides(base, sweep.overrides(point), ""), "")
        for point in range(sweep.points)
    ]


def _shared_runs(sweep: Sweep, workers: int, scenarios: list[Any] | None = None) -> int:
    """Runs that start from the cohort the run before them in their chunk settled.

    On the chunks the sweep sends out (`chunk_tasks`), in the order a chunk runs them
    (`chunk.sharing_order`): a run shares when the run before it has its seed and its
    design point agrees with it on what settling depends on (`chunk.settling_group`: the
    cohort, campus life, the week's end). Only with common random numbers (without, every
    run has its own seed); above `MAX_TWIN_COUNT_POINTS` points none is counted (the
    estimate errs long). `scenarios`: `_design_scenarios` when the caller has them.
    """
    from groupsim.sweep.chunk import settling_group, sharing_order
    from groupsim.sweep.run import chunk_tasks

    if not sweep.settings.common_random_numbers or sweep.points > MAX_TWIN_COUNT_POINTS:
        return 0
    scenarios = _design_scenarios(sweep) if scenarios is None else scenarios
    assert scenarios is not None  # at most MAX_TWIN_COUNT_POINTS points
    settling = {point: settling_group(scenario, point) for point, scenario in enumerate(scenarios)}
    shared = 0
    all_runs = np.arange(sweep.runs, dtype=np.int64)
    for task in chunk_tasks(sweep, all_runs, sweep.settings.chunk_size, workers):
        before = None
        for i in sharing_order(task.runs, settling):
            _, point, _, seed = task.runs[i]
            shared += (seed, settling[point]) == before
            before = (seed, settling[point])
    return shared


def _twin_count(sweep: Sweep, scenarios: list[Any] | None = None) -> int:
    """Distinct (twin scenario, seed) pairs: the twin runs the sweep needs at least.

    `scenarios`: `_design_scenarios` when the caller has them.
    """
    from groupsim.scenario.twin import is_control, matched_control

    if sweep.points > MAX_TWIN_COUNT_POINTS:
        return sweep.runs
    scenarios = _design_scenarios(sweep) if scenarios is None else scenarios
    assert scenarios is not None  # at most MAX_TWIN_COUNT_POINTS points
    keys: set[tuple[str, int]] = set()
    for point, scenario in enumerate(scenarios):
        if is_control(scenario):
            continue
        twin = json.dumps(matched_control(scenario).to_dict(), sort_keys=True)
        for replication in range(sweep.replications):
            keys.add((twin, sweep.run_seed(sweep.run_id(point, replication))))
    return len(keys)


def _parquet_bytes(table: Any) -> int:
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return len(buffer.getvalue())
