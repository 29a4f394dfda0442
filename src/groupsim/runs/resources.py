"""What a scenario needs of this machine, checked before anything is built.

A scenario too large for the memory available is refused up front with a message that says
how much it would need, instead of running for minutes and then failing.

Example:
    >>> from groupsim.scenario import Scenario
    >>> need = estimate_memory(Scenario(), record_students=True, record_ties=True)
    >>> f"{need / 1e6:.0f} MB"  # the interpreter and libraries (250 MB) and a default run
    '253 MB'
    >>> need < available_memory()
    True
"""

from __future__ import annotations

import os
from pathlib import Path

import psutil

from groupsim.scenario import Scenario, ScenarioError

__all__ = ["available_memory", "cgroup_limit", "check_memory", "estimate_memory"]

#: Bytes per student: state arrays and baselines (~20 float64), the Mesa agent view and its
#: registration (~700 bytes measured), and one week's campus exchange temporaries.
BYTES_PER_STUDENT = 1500
#: Bytes per tie: key, strength and used flag, the two-way neighbour rows, and headroom for
#: the copies made when ties are merged.
BYTES_PER_TIE = 160
#: Bytes per recorded student-week (17 columns) and per recorded tie-week (4 columns).
BYTES_PER_STUDENT_WEEK = 17 * 8 * 2  # arrays kept, then the DataFrame built from them
BYTES_PER_TIE_WEEK = 4 * 8 * 2
#: The interpreter and libraries themselves.
BASE_BYTES = 250e6


def estimate_memory(
    scenario: Scenario, record_students: bool, record_ties: bool, recorded_weeks: int | None = None
) -> float:
    """Peak bytes a run of `scenario` is expected to need (an upper estimate).

    The weekly records count `recorded_weeks` weeks (None: every week, week 0 included).
    """
    n = scenario.students
    # Ties settle near the starting degree; campus life can double it before decay bites.
    ties = n * max(scenario.cohort.initial_ties, 4.0)
    weeks = scenario.total_weeks + 1 if recorded_weeks is None else recorded_weeks
    need = BASE_BYTES + n * BYTES_PER_STUDENT + ties * BYTES_PER_TIE
    if record_students:
        need += n * weeks * BYTES_PER_STUDENT_WEEK
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
    available = float(psutil.virtual_memory().available)
    limit = cgroup_limit()
    if limit is not None:
        available = min(available, limit)
    override = os.environ.get("GROUPSIM_MEMORY_LIMIT")  # for tests and shared machines
    if override:
        available = min(available, float(override))
    return available


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
) -> None:
    """Refuse a scenario that would not fit in memory, saying how much it would need."""
    need = estimate_memory(scenario, record_students, record_ties, recorded_weeks)
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
