"""A worker's share of a sweep: a chunk of runs, each with its outcomes (and its twin's).

`run_chunk` is what every backend runs (`groupsim.runs.backends`): plain data in
(`ChunkTask`), compact columns out (`ChunkResult`). With ``effects = true`` each run's
no-intervention twin (`groupsim.scenario.twin.matched_control`) runs with the run's own seed,
and the row keeps ``effect_X = X - X of the twin`` for every measured outcome; twins shared by
runs of a chunk (common random numbers over levers that leave the twin alike, such as the
technique) run once. Runs of one seed that agree on the cohort (a run and its twin, a draw's
lever combinations) draw and settle it once (`groupsim.model.settled`).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from groupsim.runs.execute import run_task
from groupsim.scenario import Scenario, apply_overrides, scenario_from_dict
from groupsim.sweep.outcomes import EFFECT_PREFIX, OutcomePlan, evaluate_expressions

__all__ = [
    "FAIL_RUNS_ENV",
    "ID_COLUMNS",
    "ChunkResult",
    "ChunkTask",
    "run_chunk",
    "settling_group",
    "sharing_order",
]

#: Test-only: comma-separated run ids that raise on purpose, to exercise failure handling
#: (read by the process that starts the sweep; never set it for real sweeps).
FAIL_RUNS_ENV = "GROUPSIM_SWEEP_FAIL_RUNS"

#: Columns every runs file starts with; the varied parameters and the outcomes follow.
ID_COLUMNS = ("run_id", "point", "replication", "seed", "status", "error")


@dataclass(frozen=True)
class ChunkTask:
    """A chunk of runs sent to a worker: plain data, so it pickles to any backend.

    Attributes:
        first: the chunk's first run id (names its file).
        runs: (run_id, point, replication, seed) per run.
        overrides: the design point's overrides by point index.
        base: the base scenario as a dict.
        source: the sweep file (for error messages).
        plan: the outcomes to keep and how (`groupsim.sweep.outcomes.OutcomePlan`).
        weekly: keep weekly rows.
        fail_runs: test-only run ids that raise (see `FAIL_RUNS_ENV`).
    """

    first: int
    runs: tuple[tuple[int, int, int, int], ...]
    overrides: dict[int, dict[str, Any]]
    base: dict[str, Any]
    source: str
    plan: OutcomePlan
    weekly: bool
    fail_runs: frozenset[int] = frozenset()


@dataclass
class ChunkResult:
    """What a worker sends back: compact columns, not a row dict per run.

    Attributes:
        columns: run_id, point, replication, seed, status, error and every kept outcome,
            a list each (a run a position), in the order of the chunk's runs.
        weekly: the finished runs' weekly rows (a DataFrame), or None.
    """

    columns: dict[str, list[Any]]
    weekly: Any = None


def run_chunk(task: ChunkTask) -> ChunkResult:
    """Run every run of a chunk; a run that raises becomes a `failed` row, the rest go on.

    Outcomes come from the model's records (`groupsim.sweep.outcomes.OutcomePlan.measure`):
    building the output tables (what `groupsim.run` does) would cost more than a small run's
    simulation, and a sweep of summary outcomes keeps none of them. Without weekly rows a run
    records only the three weeks its outcomes read (`outcome_weeks`).

    Runs with the same seed (common random numbers: the lever combinations of one draw) run
    one after another, those whose points agree on the cohort together (`sharing_order`),
    and a run starts from the cohort the one before settled when they agree on it
    (`groupsim.model.settled`), as a run's twin does; the rows stay in the chunk's order,
    and every run is the same to the last bit as one run alone.
    """
    plan = task.plan
    twins: dict[tuple[str, int], dict[str, float]] = {}
    # Kept only where another run may start from it: a copy of a large cohort is not free.
    seeds = [seed for *_, seed in task.runs]
    shared = plan.effects or len(set(seeds)) < len(seeds)
    settled_cohorts: dict[tuple[Any, ...], Any] | None = {} if shared else None
    # Runs of one seed, if any, in the order that settles each cohort once.
    scenarios, settling = _point_scenarios(task, len(set(seeds)) < len(seeds))
    measured = [name for name in plan.columns if name not in dict(plan.expressions)]
    done: dict[int, tuple[str, str, list[Any], Any]] = {}
    for i in sharing_order(task.runs, settling):
        run_id, point, _, seed = task.runs[i]
        try:
            if point not in scenarios:  # invalid: the error once more, for this run's row
                data = apply_overrides(task.base, task.overrides[point], task.source)
                scenarios[point] = scenario_from_dict(data, task.source)
            if run_id in task.fail_runs:
                raise RuntimeError(f"injected failure ({FAIL_RUNS_ENV})")
            # As every study's task runs (`run_task`: the garbage collector waits for its end).
            values, weekly_rows = run_task(
                _measured_run,
                (plan, scenarios[point], seed, run_id, task.weekly, twins, settled_cohorts),
            )
            done[i] = ("ok", "", [values[name] for name in measured], weekly_rows)
        except Exception as exc:  # a failed run is data: recorded, and the sweep goes on
            error = f"{type(exc).__name__}: {exc}"[:500]
            done[i] = ("failed", error, [math.nan] * len(measured), None)
    ids: dict[str, list[Any]] = {name: [] for name in ID_COLUMNS}
    outcomes: dict[str, list[Any]] = {name: [] for name in measured}
    weekly_frames = []
    for i, (run_id, point, replication, seed) in enumerate(task.runs):
        status, error, row, weekly_rows = done[i]
        for name, value in zip(
            ID_COLUMNS, (run_id, point, replication, seed, status, error), strict=True
        ):
            ids[name].append(value)
        for name, value in zip(measured, row, strict=True):
            outcomes[name].append(value)
        if weekly_rows is not None:
            weekly_frames.append(weekly_rows)
    evaluate_expressions(outcomes, plan)
    weekly = None
    if weekly_frames:
        import pandas as pd

        weekly = pd.concat(weekly_frames, ignore_index=True)
    return ChunkResult(ids | outcomes, weekly)


def _point_scenarios(
    task: ChunkTask, seeds_shared: bool
) -> tuple[dict[int, Scenario], dict[int, Any]]:
    """The scenario of each of the chunk's points, and each point's `settling_group`.

    A point whose overrides give no valid scenario has none (its runs fail one by one, with
    its error) and a group of its own. Without `seeds_shared` (every run its own seed) no
    two runs can share a cohort, and every point is in one group: the key is not worked out.
    """
    scenarios: dict[int, Scenario] = {}
    settling: dict[int, Any] = {}
    for point in sorted(task.overrides):
        try:
            data = apply_overrides(task.base, task.overrides[point], task.source)
            scenarios[point] = scenario_from_dict(data, task.source)
            settling[point] = settling_group(scenarios[point], point) if seeds_shared else None
        except Exception:  # its runs fail below, one by one, with this error
            settling[point] = settling_group(None, point)
    return scenarios, settling


def settling_group(scenario: Scenario | None, point: int) -> Any:
    """What settling a point's cohort depends on besides the seed (`settled.settling_key`).

    Points with the same group and seed settle the same cohort. A point whose cohort is not
    shared (a cohort from data) or whose scenario is invalid (None) is a group of its own.
    """
    from groupsim.model.settled import settling_key

    key = None if scenario is None else settling_key(scenario, 0)
    return ("alone", point) if key is None else key[1:]


def sharing_order(
    runs: tuple[tuple[int, int, int, int], ...], settling: dict[int, Any]
) -> list[int]:
    """The order a chunk runs its runs in: a seed's runs together, and among them a cohort's.

    Seeds in order of their first run; within a seed, the points' `settling` groups in order
    of their first run; then the chunk's order. A run starts from the cohort the run before
    it settled when they share seed and group (only the newest settled cohort is kept, see
    `_finished_model`), so this order settles each seed's cohort once per group.

    Example:
        >>> runs = ((0, 0, 0, 7), (1, 0, 1, 8), (2, 1, 0, 7), (3, 2, 0, 7))
        >>> sharing_order(runs, {0: "a", 1: "b", 2: "a"})
        [0, 3, 2, 1]
    """
    first: dict[Any, int] = {}
    for i, (_, point, _, seed) in enumerate(runs):
        first.setdefault(seed, i)
        first.setdefault((seed, settling[point]), i)
    return sorted(
        range(len(runs)),
        key=lambda i: (first[runs[i][3]], first[(runs[i][3], settling[runs[i][1]])], i),
    )


def _measured_run(
    args: tuple[
        OutcomePlan,
        Scenario,
        int,
        int,
        bool,
        dict[tuple[str, int], dict[str, float]],
        dict[tuple[Any, ...], Any] | None,
    ],
) -> tuple[dict[str, float], Any]:
    """One run's outcomes (and its twin's effects), and its weekly rows when asked."""
    plan, scenario, seed, run_id, weekly, twins, settled_cohorts = args
    model = _finished_model(scenario, seed, weekly, settled_cohorts, bool(plan.functions))
    values = plan.measure(_records(model))
    if plan.effects:
        values.update(_effects(plan, scenario, seed, values, twins, settled_cohorts))
    return values, _weekly_rows(model, run_id) if weekly else None


def _finished_model(
    scenario: Scenario,
    seed: int,
    weekly: bool,
    settled_cohorts: dict[tuple[Any, ...], Any] | None = None,
    faculties: bool = True,
) -> Any:
    """Build and run a model that records only what the outcomes read (unless `weekly`).

    `settled_cohorts`: as `groupsim.run` takes it; only the newest settled cohort is kept
    (the one this run started from or settled), so a chunk of a large cohort's runs holds one
    cohort's copy between runs (two while a run settles a new one). `faculties`: keep the
    faculty rows, which no built-in outcome reads but a custom function may (its `records`):
    without them a default run is ~1.08x as fast (2026-12-02, 30 alternating rounds of 40
    runs in one process; 3rd-28th rounds 0.99-1.20x).
    """
    from groupsim.runs.outcomes import outcome_weeks
    from groupsim.runs.runner import build_model

    # Summary outcomes need neither the per-student table nor the weekly edge lists,
    # and read only the pre-test, post-test and follow-up weeks' metrics.
    model = build_model(
        scenario,
        seed,
        record_students=False,
        record_ties=False,
        record_weeks=None if weekly else outcome_weeks(scenario).values(),
        record_faculties=faculties,
        settled_cohorts=settled_cohorts,
    )
    if settled_cohorts:  # a run that settled its own cohort added it last
        for older in list(settled_cohorts)[:-1]:
            del settled_cohorts[older]
    model.run_model()
    return model


def _records(model: Any) -> Any:
    from groupsim.runs.records import RunRecords

    return RunRecords.of(model)


def _effects(
    plan: OutcomePlan,
    scenario: Scenario,
    seed: int,
    values: dict[str, float],
    twins: dict[tuple[str, int], dict[str, float]],
    settled_cohorts: dict[tuple[Any, ...], Any] | None = None,
) -> dict[str, float]:
    """`effect_X` = the run's X minus its twin's (same seed); a control is its own twin."""
    from groupsim.scenario.twin import is_control, matched_control

    if is_control(scenario):
        twin_values = values
    else:
        twin = matched_control(scenario)
        key = (json.dumps(twin.to_dict(), sort_keys=True), seed)
        if key not in twins:
            twin_model = _finished_model(twin, seed, False, settled_cohorts, bool(plan.functions))
            twins[key] = plan.measure(_records(twin_model))
        twin_values = twins[key]
    return {EFFECT_PREFIX + name: values[name] - twin_values[name] for name in plan.measured}


def _weekly_rows(model: Any, run_id: int) -> Any:
    """A finished run's weekly table (the output contract's columns), led by its run id."""
    from groupsim.runs.outputs import conform

    weekly = conform("weekly", model.datacollector.get_model_vars_dataframe())
    weekly.insert(0, "run_id", run_id)
    return weekly
