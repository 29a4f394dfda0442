"""Runs that share a seed and settle their cohort once: a calibration and a sweep, against REF.

    python benchmarks/bench_shared_cohort.py --against 319272c [--rounds 3]

Two workloads where several runs share a seed and agree on the cohort and campus life, so
the runs after the first can start from its settled cohort (`groupsim.model.settled`):

- `calibration`: 200 particles of the seed-anchor calibration (calibrations/seed_anchor.toml:
  a home-room arm and its control, one seed each), `Problem.simulate` at fixed parameters;
- `sweep`: a factorial design with common random numbers and effects (2 x 2 levers, 48 draws
  of the campus climate, each run with its no-intervention twin), run serially.

Each workload runs in a fresh process per tree (this tree, then REF in a temporary git
worktree, alternating round by round), after imports and one warm-up call; the process's CPU
time of the workload is reported. Both trees must give the same numbers (a digest of every
particle's statistics, of every sweep row): sharing the cohort changes no run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from bench_equivalence import checked_out

ROOT = Path(__file__).resolve().parent.parent

SWEEP = """
[sweep]
scenario = "{scenario}"
design = "factorial"
samples = 48
replications = 1
seed = 2026
effects = true
common_random_numbers = true
outcomes = ["questionnaire_post", "post_social_interaction"]

[levers]
"counselor.technique" = ["home_room", "standard"]
"program.sessions" = [4, 8]

[uncertainties]
"climate.campus" = {{ min = 0.2, max = 0.5 }}
"""

CHILD = r"""
import hashlib, json, sys, tempfile, time
from pathlib import Path
tree, workload = Path(sys.argv[1]), sys.argv[2]
sys.path.insert(0, str(tree / "src"))
import groupsim
assert groupsim.__file__.startswith(str(tree)), groupsim.__file__
if workload == "calibration":
    from groupsim.calibrate.simulate import build_problem
    from groupsim.calibrate.spec import load_calibration
    problem = build_problem(load_calibration(tree / "calibrations" / "seed_anchor.toml"))
    values = {path: 0.5 for path in problem.parameters}
    problem.simulate(values, 10_000)  # warm-up: first calls, compile cache
    start = time.process_time()
    stats = [problem.simulate(values, seed) for seed in range(200)]
    cpu = time.process_time() - start
    digest = hashlib.sha256(json.dumps(stats, sort_keys=True).encode()).hexdigest()
else:
    from groupsim import load_scenario, run
    from groupsim.runs.backends import SerialBackend
    from groupsim.sweep.run import run_sweep
    from groupsim.sweep.spec import load_sweep
    from groupsim.sweep.store import SweepStore
    scenario = tree / "scenarios" / "home_room.toml"
    run(load_scenario(scenario), seed=1)  # warm-up
    folder = Path(tempfile.mkdtemp())
    (folder / "sweep.toml").write_text(sys.argv[3].format(scenario=scenario))
    sweep = load_sweep(folder / "sweep.toml")
    start = time.process_time()
    run_sweep(sweep, folder / "out", SerialBackend(), label=None)
    cpu = time.process_time() - start
    rows = SweepStore(folder / "out").runs().drop(columns=["error"])
    digest = hashlib.sha256(rows.to_csv(index=False).encode()).hexdigest()
print(json.dumps({"cpu": cpu, "digest": digest}))
"""


def once(tree: Path, workload: str) -> dict:
    """The workload in a fresh process of `tree`: its CPU seconds and the digest of its numbers."""
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(tree), workload, SWEEP],
        check=True, capture_output=True, text=True, env=env,
    )  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", required=True, metavar="REF")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    workloads = ("calibration", "sweep")
    results: dict[str, dict[str, list[dict]]] = {w: {"here": [], "ref": []} for w in workloads}
    with checked_out(args.against) as ref_tree:
        for _ in range(args.rounds):
            for workload in workloads:
                results[workload]["here"].append(once(ROOT, workload))
                results[workload]["ref"].append(once(ref_tree, workload))
    print(f"{args.rounds} round(s), alternating; load average {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} cores")  # fmt: skip
    for workload, sides in results.items():
        here = [r["cpu"] for r in sides["here"]]
        ref = [r["cpu"] for r in sides["ref"]]
        ratios = [r / h for r, h in zip(ref, here, strict=True)]
        same = {r["digest"] for r in sides["here"] + sides["ref"]}
        print(f"{workload:>11}: this tree {statistics.median(here):6.2f} s, {args.against} "
              f"{statistics.median(ref):6.2f} s CPU (medians); ratio "
              f"{statistics.median(ratios):.2f}x (rounds {', '.join(f'{x:.2f}' for x in ratios)}); "
              f"same numbers: {'yes' if len(same) == 1 else 'NO'}")  # fmt: skip


if __name__ == "__main__":
    main()
