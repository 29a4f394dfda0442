"""Cost of the model at campus scale: 1,000, 10,000 and 100,000 students over 16 weeks.

    python benchmarks/bench_scale.py            # the three sizes
    python benchmarks/bench_scale.py --sizes 1000,10000
    python benchmarks/bench_scale.py --sizes 100000 --against e97e4f2   # also REF, ratio

Each size runs in its own process (so peak memory is that size's own), after a small warm-up
run in the same process (imports and first-call costs are not charged to the size). Groups are
in proportion: one group of 9 per 400 students (50 groups among 20,000, as in
scenarios/campus_rollout.toml). 16 weeks = 4 burn-in + 1 baseline + 4 program + 7 follow-up.
Prints wall time per student-week, peak memory, and the scaling exponent b of
time ~ students^b between consecutive sizes (b = 1 is linear), plus the ratio of the cost per
student-week at the largest size to that at the one before (target: at most 1.2).

With `--against REF` each size also runs in REF (a git revision in a temporary worktree),
this tree and REF alternating size by size, and the ratios of time and peak memory
(REF / this tree) are printed: campus scale must not be slower than before.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import subprocess
import sys
from contextlib import nullcontext
from pathlib import Path

from bench_equivalence import checked_out

ROOT = Path(__file__).resolve().parent.parent

PROBE = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
from groupsim import run
from groupsim.scenario import Scenario

def scenario(students):
    return Scenario.model_validate({
        "name": f"scale_{students}",
        "cohort": {"faculties": 20, "students_per_faculty": students // 20, "burn_in_weeks": 4},
        "program": {"groups": max(1, round(students / 400)), "baseline_weeks": 1,
                    "followup_weeks": 7},
    })

run(scenario(1000), seed=0, record_students=False, record_ties=False)  # warm-up
students = int(sys.argv[2])
s = scenario(students)
weeks = s.cohort.burn_in_weeks + s.total_weeks
start = time.perf_counter()
result = run(s, seed=1, record_students=False, record_ties=False)
wall = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"students": students, "weeks": weeks, "wall": wall, "peak": peak,
                  "groups": s.program.groups}))
"""


def measure(src: Path, students: int) -> dict:
    """One size in its own process, in the tree whose sources are `src`."""
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(src), str(students)],
        check=True,
        capture_output=True,
        text=True,
    )
    row = json.loads(out.stdout.strip().splitlines()[-1])
    row["per_student_week"] = row["wall"] / (row["students"] * row["weeks"])
    return row


def describe(row: dict) -> str:
    return (
        f"{row['students']:>7,} students, {row['groups']:>3} groups, {row['weeks']} weeks: "
        f"{row['wall']:6.2f} s, {1e6 * row['per_student_week']:6.2f} us per student-week, "
        f"peak memory {row['peak'] / 1e9:.2f} GB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--against", metavar="REF", help="git revision to compare with")
    args = parser.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]
    rows = []
    with checked_out(args.against) if args.against else nullcontext() as ref_tree:
        for students in sizes:
            row = measure(ROOT / "src", students)
            rows.append(row)
            print(describe(row), flush=True)
            if ref_tree is not None:
                ref = measure(ref_tree / "src", students)
                print(f"  {args.against}: {describe(ref).strip()}", flush=True)
                time_ratio, memory_ratio = ref["wall"] / row["wall"], ref["peak"] / row["peak"]
                print(
                    f"  ratio {args.against} / this tree: time {time_ratio:.2f}x, "
                    f"peak memory {memory_ratio:.2f}x",
                    flush=True,
                )
    for before, after in itertools.pairwise(rows):
        exponent = math.log(after["wall"] / before["wall"]) / math.log(
            after["students"] / before["students"]
        )
        ratio = after["per_student_week"] / before["per_student_week"]
        print(
            f"{before['students']:,} -> {after['students']:,}: scaling exponent {exponent:.2f}, "
            f"cost per student-week ratio {ratio:.2f}"
        )


if __name__ == "__main__":
    main()
