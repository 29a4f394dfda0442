"""Microseconds per compiled campus week on a settled default cohort; optionally against REF.

    python benchmarks/bench_campus.py                 # this working tree
    python benchmarks/bench_campus.py --against REF   # also REF (a git revision) in a temporary
                                                      # worktree, alternating, and the ratio

The cohort is the default home room's after its burn-in (seeds 0, 1, 2: 180 students, ~650
ties). One compiled loop calls `campus.campus_week` `--weeks` times, each week on fresh copies
of the settled state (the copies, ~1 us, are charged to both trees alike), so the time is the
campus week's alone, without Python's call into compiled code. CPU time per week
(`time.process_time`: wall time on a loaded machine counts other processes' turns), medians;
each tree runs in its own process (the first call of each is not timed) and the trees
alternate round by round, so load on the machine hits both alike.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from contextlib import nullcontext
from pathlib import Path

from bench_equivalence import checked_out, in_tree

ROOT = Path(__file__).resolve().parent.parent

# Runs inside the tree being measured (its own `groupsim` on sys.path).
PROBE = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
import groupsim
assert groupsim.__file__.startswith(sys.argv[1]), (groupsim.__file__, sys.argv[1])
import numba
import numpy as np
from groupsim import load_scenario
from groupsim.model.campus import campus_week
from groupsim.model.model import HomeRoomModel

@numba.njit
def weeks(count, rng, keys, strength, used, sociability, resolve, anxiety, skill, attitude,
          contacts, faculty, faculty_start, faculty_sizes, p):
    ties = 0
    for _ in range(count):
        keys_after, _, _ = campus_week(
            rng, keys.copy(), strength.copy(), used.copy(), sociability, resolve.copy(),
            anxiety.copy(), skill.copy(), attitude.copy(), contacts.copy(), faculty,
            faculty_start, faculty_sizes, p)
        ties += len(keys_after)
    return ties

scenario = load_scenario(sys.argv[2])
count, repeats = int(sys.argv[3]), int(sys.argv[4])
times = []
for seed in range(3):
    model = HomeRoomModel(config=scenario, rng=seed, record_students=False, record_ties=False)
    s, t = model.states, model.ties
    state = (t.keys, t.strength, t.used, s.sociability, s.resolve, s.anxiety, s.skill,
             s.attitude, s.contacts_this_week, s.faculty, model.faculty_start,
             model.faculty_sizes, model.campus_parameters)
    rng = np.random.default_rng(seed)
    weeks(2, rng, *state)  # compiles the loop (the campus week comes from the disk cache)
    for _ in range(repeats):
        t0 = time.process_time()
        weeks(count, rng, *state)
        times.append((time.process_time() - t0) / count)
print(json.dumps(times))
"""


def measure(src: Path, scenario: Path, count: int, repeats: int) -> list[float]:
    """One process of the probe in the tree `src`: seconds per campus week."""
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(src), str(scenario), str(count), str(repeats)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "home_room.toml")
    parser.add_argument("--weeks", type=int, default=500, help="campus weeks per timing")
    parser.add_argument("--repeats", type=int, default=5, help="timings per seed and round")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds")
    parser.add_argument("--against", metavar="REF", help="git revision to compare with")
    args = parser.parse_args()
    scenario = args.scenario.resolve()
    # REF in a temporary worktree (`bench_equivalence.checked_out`: a bad REF is one line).
    with checked_out(args.against) if args.against else nullcontext() as ref_tree:
        trees = [("working tree", ROOT)]
        if args.against:
            trees.append((args.against, ref_tree))
        times: dict[str, list[float]] = {label: [] for label, _ in trees}
        for _ in range(args.rounds):
            for label, tree in trees:
                path = in_tree(tree, scenario)
                times[label] += measure(tree / "src", path, args.weeks, args.repeats)
    medians = [statistics.median(values) for values in times.values()]
    line = ", ".join(
        f"{label} {1e6 * m:.1f} us (min {1e6 * min(times[label]):.1f})"
        for label, m in zip(times, medians, strict=True)
    )
    ratio = f"; ratio {medians[1] / medians[0]:.2f}x" if len(medians) == 2 else ""
    print(f"campus week, {scenario.name}: {line}{ratio}")


if __name__ == "__main__":
    main()
