"""The studies' time estimate (`groupsim.runs.resources.run_seconds`) against timed runs.

    python benchmarks/bench_workload.py [--repeats 3]

`compare`, `power` and `sweep` print "N runs, about T on W workers" for a large study and ask
for ``--yes`` above `CONFIRM_HOURS` of it; `run_seconds` is that estimate for one run. This
script times runs recorded as a study records them (no student or tie tables, the outcome
weeks only) at four sizes, the shipped home room at 180, 1,800 and 18,000 students and
scenarios/campus_rollout.toml (20,000), and a busier campus (6 contacts a week), and prints
each run's CPU time, the estimate and their ratio. The estimate should err long, by less than
about 2 on the development machine (the constants take the fit half again as long, for
slower machines and a study's own work).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from groupsim import load_scenario, run
from groupsim.runs.outcomes import outcome_weeks
from groupsim.runs.resources import run_seconds

ROOT = Path(__file__).resolve().parent.parent

#: (scenario file, overrides, runs timed per repeat)
CASES = (
    ("home_room.toml", {}, 40),
    ("home_room.toml", {"cohort.students_per_faculty": 200}, 8),
    ("home_room.toml", {"cohort.students_per_faculty": 200, "campus.contacts_per_week": 6.0}, 8),
    ("home_room.toml", {"cohort.students_per_faculty": 2000}, 2),
    ("campus_rollout.toml", {}, 2),
)


def timed(path: Path, overrides: dict, runs: int, repeats: int) -> tuple[float, float, int]:
    """Median CPU seconds of a run, the estimate, and the number of students."""
    scenario = load_scenario(path, overrides)
    lean = {
        "record_students": False,
        "record_ties": False,
        "record_weeks": outcome_weeks(scenario).values(),
    }
    run(scenario, seed=0, **lean)  # first calls, compile cache
    times = []
    for repeat in range(repeats):
        start = time.process_time()
        for seed in range(runs):
            run(scenario, seed=1 + repeat * runs + seed, **lean)
        times.append((time.process_time() - start) / runs)
    return statistics.median(times), run_seconds(scenario), scenario.students


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"{'scenario':<76} {'students':>8} {'run':>9} {'estimate':>9} {'ratio':>6}")
    for name, overrides, runs in CASES:
        real, estimate, students = timed(ROOT / "scenarios" / name, overrides, runs, args.repeats)
        label = name + "".join(f" {k}={v}" for k, v in overrides.items())
        print(
            f"{label:<76} {students:>8,} {real * 1e3:>7.1f}ms {estimate * 1e3:>7.1f}ms "
            f"{estimate / real:>5.2f}x"
        )


if __name__ == "__main__":
    main()
