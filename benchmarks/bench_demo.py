"""`make demo` end to end (experiments/compare_home_room.py), this tree against a git revision.

    python benchmarks/bench_demo.py --against e97e4f2 [--reps 700] [--rounds 1] [--workers 1]

Runs the demo's script in this tree and in REF (a temporary git worktree), alternating round by
round, each writing to a temporary folder, and prints the wall time and the CPU time of each
(the process and its workers) and the ratio REF / this tree. CPU time is the fairer measure on
a shared machine: it counts the work done, not the waiting for a core.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_equivalence import checked_out

ROOT = Path(__file__).resolve().parent.parent


def demo_once(tree: Path, reps: int, workers: int) -> tuple[float, float]:
    """One demo in `tree`: (wall seconds, CPU seconds of the process and its children)."""
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        subprocess.run(
            [sys.executable, str(tree / "experiments" / "compare_home_room.py"), "--reps",
             str(reps), "--workers", str(workers), "--out", out],
            check=True, capture_output=True, text=True, env=env,
        )  # fmt: skip
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", required=True, metavar="REF")
    parser.add_argument("--reps", type=int, default=700, help="replications per scenario")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    times: dict[str, list[tuple[float, float]]] = {"this tree": [], args.against: []}
    with checked_out(args.against) as ref_tree:
        for _ in range(args.rounds):
            times["this tree"].append(demo_once(ROOT, args.reps, args.workers))
            times[args.against].append(demo_once(ref_tree, args.reps, args.workers))
    print(f"compare_home_room.py --reps {args.reps} --workers {args.workers}, {args.rounds} "
          f"round(s); load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")  # fmt: skip
    medians = {
        label: (statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs))
        for label, runs in times.items()
    }
    for label, (wall, cpu) in medians.items():
        print(f"{label:>10}: wall {wall:7.1f} s, CPU {cpu:7.1f} s")
    (wall_here, cpu_here), (wall_ref, cpu_ref) = medians.values()
    print(f"ratio {args.against} / this tree: wall {wall_ref / wall_here:.2f}x, "
          f"CPU {cpu_ref / cpu_here:.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
