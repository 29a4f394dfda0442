"""Time one default home-room run and one week of it; optionally against another revision.

    python benchmarks/bench_run.py                 # this working tree
    python benchmarks/bench_run.py --against REF   # also REF (a git revision) in a temporary
                                                   # worktree, alternating, and print the ratio

Prints medians over repeated runs. A week is timed as the mean program/follow-up step (the
model stepped after construction, burn-in excluded); construction (with burn-in) is timed
apart. With --against, both trees are timed in separate processes that alternate, so load on
the machine hits both alike; the ratio REF / working tree is the speed-up of this tree.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Runs inside the tree being measured (its own `groupsim` on sys.path).
PROBE = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
import groupsim
assert groupsim.__file__.startswith(sys.argv[1]), (groupsim.__file__, sys.argv[1])
from groupsim import HomeRoomModel, load_scenario
scenario = load_scenario(sys.argv[2])
repeats = int(sys.argv[3])
runs, builds, weeks = [], [], []
for seed in range(repeats):
    t0 = time.perf_counter()
    model = HomeRoomModel(rng=seed, config=scenario, record_students=True, record_ties=True)
    t1 = time.perf_counter()
    steps = 0
    while model.running:
        model.step()
        steps += 1
    t2 = time.perf_counter()
    runs.append(t2 - t0)
    builds.append(t1 - t0)
    weeks.append((t2 - t1) / steps)
print(json.dumps({"run": runs, "build": builds, "week": weeks}))
"""


def measure(src: Path, scenario: Path, repeats: int) -> dict[str, list[float]]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(src), str(scenario), str(repeats)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "home_room.toml")
    parser.add_argument("--repeats", type=int, default=10, help="runs per round")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (--against)")
    parser.add_argument("--against", metavar="REF", help="git revision to compare with")
    args = parser.parse_args()

    if not args.against:
        result = measure(ROOT / "src", args.scenario, args.repeats)
        print(f"scenario: {args.scenario.name}, {args.repeats} runs")
        print(
            f"median run  (build + burn-in + all weeks): {statistics.median(result['run']):.3f} s"
        )
        print(
            f"median build (cohort, network, burn-in):   {statistics.median(result['build']):.3f} s"
        )
        week_ms = 1000 * statistics.median(result["week"])
        print(f"median week (one step after burn-in):      {week_ms:.2f} ms")
        return

    with tempfile.TemporaryDirectory() as tmp:
        ref_tree = Path(tmp) / "ref"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(ref_tree), args.against],
            check=True,
            capture_output=True,
        )
        try:
            here: dict[str, list[float]] = {"run": [], "week": []}
            there: dict[str, list[float]] = {"run": [], "week": []}
            # Each tree reads its own copy of the scenario file (a newer schema may have
            # parameters an older one rejects); the shipped files hold the same defaults.
            scenario = args.scenario.resolve()
            ref_scenario = scenario
            if scenario.is_relative_to(ROOT):
                ref_scenario = ref_tree / scenario.relative_to(ROOT)
            for _ in range(args.rounds):
                for tree, sink, path in (
                    (ROOT / "src", here, scenario),
                    (ref_tree / "src", there, ref_scenario),
                ):
                    result = measure(tree, path, args.repeats)
                    sink["run"] += result["run"]
                    sink["week"] += result["week"]
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(ref_tree)],
                check=False,
                capture_output=True,
            )
    run_here, run_ref = statistics.median(here["run"]), statistics.median(there["run"])
    week_here, week_ref = statistics.median(here["week"]), statistics.median(there["week"])
    print(f"scenario: {args.scenario.name}; {args.rounds} alternating rounds x {args.repeats} runs")
    print(
        f"median run:  working tree {run_here:.3f} s, {args.against} {run_ref:.3f} s, "
        f"ratio {run_ref / run_here:.2f}x"
    )
    print(
        f"median week: working tree {1000 * week_here:.2f} ms, {args.against} "
        f"{1000 * week_ref:.2f} ms, ratio {week_ref / week_here:.2f}x"
    )


if __name__ == "__main__":
    main()
