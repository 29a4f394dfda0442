"""What a scenario needs of this machine, checked before anything is built.

A scenario too large for the memory available is refused up front with a message that says
how much it would need, instead of running for minutes and then failing.

Example:
    >>> from groupsim.scenario import Scenario
    >>> need = estimate_memory(Scenario(), record_students=True, record_ties=True)
    >>> f"{need / 1e6:.0f} MB"  # the interpreter and libraries (250 MB) and a default run
    '266 MB'
    >>> need < available_memory()
    True
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path

import psutil

from groupsim.scenario import Scenario, ScenarioError

__all__ = [
    "CONFIRM_HOURS",
    "CONFIRM_RUNS",
    "MAX_RUNS",
    "LimitError",
    "available_memory",
    "cgroup_limit",
    "check_memory",
    "check_workload",
    "duration_text",
    "estimate_memory",
    "memory_limit_override",
    "most_ties",
    "run_seconds",
    "size_text",
    "system_available_memory",
    "tie_lifetime",
]

#: Bytes per student: state arrays and baselines (~20 float64), the Mesa agent view and its
#: registration (~700 bytes measured), and one week's campus exchange temporaries.
BYTES_PER_STUDENT = 1500
#: Bytes per tie: key, strength and used flag, the two-way neighbour rows, and headroom for
#: the copies made when ties are merged.
BYTES_PER_TIE = 160
#: Bytes per recorded student-week (17 columns) and per recorded tie-week (4 columns).
BYTES_PER_STUDENT_WEEK = 17 * 8 * 2  # arrays kept, then the DataFrame built from them
BYTES_PER_TIE_WEEK = 4 * 8 * 3  # the weekly arrays, their concatenation, the DataFrame
#: The interpreter and libraries themselves.
BASE_BYTES = 250e6


def most_ties(scenario: Scenario) -> float:
    """The most ties the dynamics can hold at once, from what the parameters allow.

    Every tie alive in a week was made or used within the last `tie_lifetime` weeks (an
    unused tie of strength at most 1 falls below the floor after that), and each campus
    contact opportunity makes or uses at most one tie. So the ties alive are at most the
    starting ties, the group's pairs, and the opportunities of the last lifetime (the
    Poisson mean plus six standard deviations), and never more than all pairs of students.
    """
    n = scenario.students
    weeks = scenario.cohort.burn_in_weeks + scenario.total_weeks + 1
    lifetime = min(weeks, tie_lifetime(scenario.decay.tie_decay, scenario.decay.tie_floor))
    opportunities = n * scenario.campus.contacts_per_week * lifetime
    opportunities += 6 * math.sqrt(opportunities)
    start = n * scenario.cohort.initial_ties / 2 + 6 * math.sqrt(n * scenario.cohort.initial_ties)
    groups = scenario.program.groups * scenario.group.clients**2
    return min(n * (n - 1) / 2, start + opportunities + groups)


def tie_lifetime(decay: float, floor: float) -> float:
    """Weeks an unused tie of strength 1 lasts before it falls below the floor (inf: never).

    Example:
        >>> tie_lifetime(0.2, 0.05)
        15
        >>> tie_lifetime(0.0, 0.05)
        inf
    """
    if decay <= 0.0:
        return math.inf
    if decay >= 1.0:
        return 1
    return math.ceil(math.log(floor) / math.log(1.0 - decay)) + 1


def estimate_memory(
    scenario: Scenario,
    record_students: bool,
    record_ties: bool,
    recorded_weeks: int | None = None,
    student_weeks: int | None = None,
) -> float:
    """Peak bytes a run of `scenario` can need (an upper bound, see `most_ties`).

    The weekly records count `recorded_weeks` weeks (None: every week, week 0 included), the
    student rows `student_weeks` of them (None: all).
    """
    n = scenario.students
    ties = most_ties(scenario)
    weeks = scenario.total_weeks + 1 if recorded_weeks is None else recorded_weeks
    need = BASE_BYTES + n * BYTES_PER_STUDENT + ties * BYTES_PER_TIE
    if record_students:
        student_rows = weeks if student_weeks is None else min(weeks, student_weeks)
        need += n * student_rows * BYTES_PER_STUDENT_WEEK
    if record_ties:
        need += ties * weeks * BYTES_PER_TIE_WEEK
    return need


#: cgroup memory limits (v2, then v1): a container may allow less than the machine has.
CGROUP_LIMITS = ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes")


def available_memory() -> float:
    """Bytes this process may still use.

    The memory the system has available (psutil, on any platform), or the cgroup limit
    where that is lower (Linux containers), or `GROUPSIM_MEMORY_LIMIT` (bytes) where that
    is lower still.
    """
    available = system_available_memory()
    override = memory_limit_override()
    if override is not None:
        available = min(available, override)
    return available


#: Seconds a reading of the system's available memory is reused: a study checks every run,
#: and reading psutil and the cgroup files cost more than a default run's slowest week.
MEMORY_READING_SECONDS = 1.0
_memory_reading: tuple[float, float] | None = None  # (monotonic time, bytes)


def system_available_memory() -> float:
    """Psutil's available memory, or the cgroup limit where lower (read at most once a second)."""
    global _memory_reading
    now = time.monotonic()
    if _memory_reading is None or now - _memory_reading[0] > MEMORY_READING_SECONDS:
        available = float(psutil.virtual_memory().available)
        limit = cgroup_limit()
        if limit is not None:
            available = min(available, limit)
        _memory_reading = (now, available)
    return _memory_reading[1]


#: Lowers the memory groupsim assumes it may use (bytes; for tests and shared machines).
MEMORY_LIMIT_ENV = "GROUPSIM_MEMORY_LIMIT"


def memory_limit_override() -> float | None:
    """`GROUPSIM_MEMORY_LIMIT` in bytes (None: not set), or a ScenarioError naming it.

    Example:
        >>> import os
        >>> os.environ["GROUPSIM_MEMORY_LIMIT"] = "abc"
        >>> memory_limit_override()  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        groupsim.scenario.schema.ScenarioError: GROUPSIM_MEMORY_LIMIT: ... (got 'abc')
        >>> del os.environ["GROUPSIM_MEMORY_LIMIT"]
    """
    text = os.environ.get(MEMORY_LIMIT_ENV, "").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise ScenarioError(
            MEMORY_LIMIT_ENV,
            "(environment)",
            f"must be a positive number of bytes, e.g. 2e9 (got {text!r})",
        )
    return value


def cgroup_limit(paths: tuple[str, ...] = CGROUP_LIMITS) -> float | None:
    """The lowest cgroup memory limit in bytes (None where there is none, e.g. off Linux)."""
    limits = []
    for path in paths:
        try:
            text = Path(path).read_text().strip()
        except OSError:
            continue
        if text.isdigit():  # "max" means no limit
            limits.append(float(text))
    return min(limits) if limits else None


def check_memory(
    scenario: Scenario,
    record_students: bool,
    record_ties: bool,
    source: str,
    recorded_weeks: int | None = None,
    student_weeks: int | None = None,
) -> None:
    """Refuse a scenario that would not fit in memory, saying how much it would need."""
    need = estimate_memory(scenario, record_students, record_ties, recorded_weeks, student_weeks)
    have = available_memory()
    if need > have:
        lean = estimate_memory(scenario, record_students=False, record_ties=False)
        hint = ""
        if (record_students or record_ties) and lean <= have:
            hint = (
                "; without the weekly student and tie records it would fit: "
                "groupsim.run(scenario, record_students=False, record_ties=False)"
            )
        raise ScenarioError(
            source,
            "cohort.students_per_faculty",
            f"{scenario.students:,} students over {scenario.total_weeks} weeks would need "
            f"about {need / 1e9:.1f} GB of memory; this machine has {have / 1e9:.1f} GB "
            f"available{hint}",
        )


# ---------------------------------------------------------------------------- workload

#: Above this many runs (or `CONFIRM_HOURS` of estimated time) a study asks for ``--yes``.
CONFIRM_RUNS = 100_000
CONFIRM_HOURS = 24.0
#: No study runs more than this (its task list alone would fill the memory).
MAX_RUNS = 20_000_000
#: Seconds a run takes: a fixed part (building the model, outcomes) and a part per
#: student-week (burn-in included, times `run_seconds`' campus busyness). Fitted to runs
#: recorded as a study records them on one core of a 2-core machine (2026-12-01: 13 ms for
#: 180 students, 65 ms for 1,800, 0.58 s for 18,000, 0.69 s for campus_rollout's 20,000;
#: 7.6 ms + 0.46 us a busy student-week), then taken half again as long for slower machines
#: and a study's own work. `benchmarks/bench_workload.py` prints the estimate against runs.
SECONDS_PER_RUN = 0.012
SECONDS_PER_STUDENT_WEEK = 7e-7


class LimitError(ValueError):
    """A study larger than a limit: one line with the estimate and how to go on (exit 2)."""


def run_seconds(scenario: Scenario) -> float:
    """About how long one run of `scenario` takes on one core."""
    weeks = scenario.cohort.burn_in_weeks + scenario.total_weeks + 1
    busy = 1.0 + scenario.campus.contacts_per_week / 3.0  # the default has 3 contacts a week
    return SECONDS_PER_RUN + SECONDS_PER_STUDENT_WEEK * scenario.students * weeks * busy


def check_workload(
    option: str,
    runs: int,
    scenario: Scenario,
    workers: int,
    bytes_per_run: float,
    confirmed: bool,
) -> str:
    """Refuse a study over `MAX_RUNS`; above the confirm limits, unless `confirmed`.

    Returns the estimate as text ("N runs, about T on W workers, D on disk") for the caller
    to print. `option` names what sets the size (``--reps``, ``--groups``, a sweep file).

    Example:
        >>> from groupsim.scenario import Scenario
        >>> check_workload("--reps", 200, Scenario(), 2, 1e4, confirmed=False)
        '200 runs, about 2 s on 2 workers, 2.0 MB on disk'
        >>> check_workload("--reps", 10**6, Scenario(), 2, 1e4, confirmed=False)
        ... # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        groupsim.runs.resources.LimitError: --reps: 1,000,000 runs, about 2.9 h ...--yes ...
    """
    seconds = runs * run_seconds(scenario) / max(1, workers)
    estimate = (
        f"{runs:,} runs, about {duration_text(seconds)} on {workers} workers, "
        f"{size_text(runs * bytes_per_run)} on disk"
    )
    if runs > MAX_RUNS:
        raise LimitError(f"{option}: {estimate}; at most {MAX_RUNS:,} runs: split the study")
    if not confirmed and (runs > CONFIRM_RUNS or seconds > CONFIRM_HOURS * 3600):
        raise LimitError(f"{option}: {estimate}; add --yes to start it anyway")
    return estimate


def duration_text(seconds: float) -> str:
    """Seconds as the largest fitting unit: 34 s, 12 min, 5.0 h, 2.3 days.

    Example:
        >>> [duration_text(s) for s in (34, 720, 18000, 200000)]
        ['34 s', '12 min', '5.0 h', '2.3 days']
    """
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def size_text(count: float) -> str:
    """Bytes as kB, MB or GB: a small study's few kB are not "0.0 MB".

    Example:
        >>> [size_text(b) for b in (12_345, 2_000_000, 3.4e9)]
        ['12 kB', '2.0 MB', '3.4 GB']
    """
    if count >= 1e9:
        return f"{count / 1e9:.1f} GB"
    if count >= 1e5:
        return f"{count / 1e6:.1f} MB"
    return f"{max(1.0, count / 1e3):.0f} kB"
