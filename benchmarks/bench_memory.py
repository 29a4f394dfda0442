"""Measure a run's peak memory against `groupsim.runs.resources.estimate_memory`.

    python benchmarks/bench_memory.py            # the extreme in-range scenarios below
    python benchmarks/bench_memory.py --quick    # the two smallest only (a few seconds)

Each scenario runs in its own process (so one peak does not hide another), recording what
`groupsim run` records (every student-week and tie-week). The peak is the process's maximum
resident set size (`resource.getrusage`); the estimate must be at least half of it (the
issue's bar: within a factor of 2, or above). The scenarios push the parameters that make
ties: many contacts, no decay, a long burn-in, every contact with anyone (no channel reuses
a tie), at sizes that keep each run to seconds or a minute.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: No campus channel reuses a tie: every opportunity meets anyone.
ANYONE = {"along_ties": 0.0, "triadic_closure": 0.0, "same_faculty": 0.0}

#: name -> scenario overrides (dotted sections as nested tables).
SCENARIOS: dict[str, dict] = {
    "issue-13 finding 1, 60 per faculty": {
        "cohort": {"faculties": 10, "students_per_faculty": 60, "burn_in_weeks": 60},
        "campus": {"contacts_per_week": 100.0, **ANYONE},
        "decay": {"tie_decay": 0.0},
    },
    "dense campus, 400 students": {
        "cohort": {"faculties": 2, "students_per_faculty": 200, "burn_in_weeks": 20},
        "campus": {"contacts_per_week": 100.0, **ANYONE},
        "decay": {"tie_decay": 0.0},
    },
    "many starting ties, 2000 students": {
        "cohort": {
            "faculties": 10,
            "students_per_faculty": 200,
            "initial_ties": 50.0,
            "burn_in_weeks": 0,
        },
        "campus": {"contacts_per_week": 0.0},
        "decay": {"tie_decay": 0.0},
    },
    "slow decay, 1500 students": {
        "cohort": {"faculties": 10, "students_per_faculty": 150, "burn_in_weeks": 40},
        "campus": {"contacts_per_week": 20.0, **ANYONE},
        "decay": {"tie_decay": 0.01, "tie_floor": 0.001},
    },
    "large cohort, defaults otherwise": {
        "cohort": {"faculties": 200, "students_per_faculty": 250},
    },
    "long follow-up, 1000 students": {
        "cohort": {"faculties": 10, "students_per_faculty": 100, "burn_in_weeks": 0},
        "campus": {"contacts_per_week": 50.0, **ANYONE},
        "decay": {"tie_decay": 0.0},
        "program": {"followup_weeks": 104},
    },
}
QUICK = ("dense campus, 400 students", "large cohort, defaults otherwise")

# Runs in a fresh interpreter: build and run the scenario, then report the peak.
PROBE = r"""
import json, resource, sys
from groupsim.runs.resources import estimate_memory, most_ties
from groupsim.runs.runner import run
from groupsim.scenario import scenario_from_dict
scenario = scenario_from_dict(json.loads(sys.argv[1]))
result = run(scenario, seed=1)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({
    "peak": peak,
    "estimate": estimate_memory(scenario, True, True),
    "ties": int(result.weekly["campus_ties"].max()) if "campus_ties" in result.weekly else -1,
    "bound": most_ties(scenario),
    "students": scenario.students,
}))
"""


def measure(overrides: dict) -> dict:
    """Peak RSS and estimate of one scenario, measured in a fresh process."""
    env_path = str(ROOT / "src")
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(overrides)],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"},
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    """Print one line per scenario; exit 1 if an estimate is below half its peak."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the two smallest scenarios")
    args = parser.parse_args()
    names = QUICK if args.quick else tuple(SCENARIOS)
    print(f"{'scenario':40} {'students':>8} {'peak MB':>8} {'estimate MB':>11} {'ratio':>6}")
    worst = float("inf")
    for name in names:
        row = measure(SCENARIOS[name])
        ratio = row["estimate"] / row["peak"]
        worst = min(worst, ratio)
        print(
            f"{name:40} {row['students']:>8} {row['peak'] / 1e6:>8.0f} "
            f"{row['estimate'] / 1e6:>11.0f} {ratio:>6.2f}",
            flush=True,
        )
    print(f"lowest estimate/peak: {worst:.2f} (must be >= 0.5)")
    return 0 if worst >= 0.5 else 1


if __name__ == "__main__":
    raise SystemExit(main())
