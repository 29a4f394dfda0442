"""Does a process that compiled the model run it slower than one that loaded it from the cache?

    python benchmarks/bench_compile_penalty.py [--rounds 10] [--repeats 30]

Two long-lived processes of this tree run default home-room runs with `compare`'s recording,
taking turns batch by batch (the order flips every round), as `bench_run.py` does: one
compiled the model's code itself (its own empty `NUMBA_CACHE_DIR`), the other loaded the same
code from a cache that a third process filled first (`groupsim.model.warm_up.warm_up`).
Prints each round's ratio of the two processes' median CPU time a run (compiled / loaded), the
median of the rounds' ratios and its 95% bootstrap interval (scipy.stats.bootstrap).

Why it matters: a study's processes should load the model, never compile it
(`groupsim.model.warm_up.ensure_cached`), and a benchmark against a revision should compare
two processes that both loaded it (`bench_equivalence.warm_cache`). Measured on the third
machine, 2026-12-02, 10 rounds of 30 runs: the process that compiled ran 1.24x slower in a
first script's pair (every round 1.10-1.44x), then 1.05x (0.88-1.19x) and 1.22x (1.14-1.34x)
with this one: usually slower, not always; 1.18x (every round 1.12-1.28x) in a fourth pair,
2026-12-02, where a third process that froze its objects after compiling (`gc.freeze`) was
1.12x and one that returned the C heap's free memory (`malloc_trim`) 1.17x. The compile takes
~80-110 s of CPU; the script takes ~4 minutes. Both processes start with `warm_up` (the one
with the empty cache compiles there, in itself: a model alone would have it compiled in a
child process since `warm_up.before_first_model`).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import bench_run
from bench_equivalence import warm_cache

ROOT = Path(__file__).resolve().parent.parent

# A process of this tree: the first run (compiling or loading), then "COUNT" lines, each
# answered with the CPU times of COUNT runs (the next seeds) as a JSON list.
PROBE = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
from groupsim import load_scenario, run
from groupsim.runs.outcomes import outcome_weeks
scenario = load_scenario(sys.argv[2])
lean = {"record_students": True, "record_ties": False, "record_faculties": False,
        "student_weeks": outcome_weeks(scenario).values()}
started = time.perf_counter()
# Compiles here, on an empty cache (a model would have it compiled in a child process,
# `warm_up.before_first_model`), or loads.
from groupsim.model.warm_up import warm_up
warm_up()
run(scenario, seed=10_000, **lean)
print(json.dumps(time.perf_counter() - started), flush=True)
seed = 0
for line in sys.stdin:
    times = []
    for _ in range(int(line)):
        t0 = time.process_time()
        run(scenario, seed=seed, **lean)
        times.append(time.process_time() - t0)
        seed += 1
    print(json.dumps(times), flush=True)
"""


class Probe(bench_run.Probe):
    """A probe process with its own numba cache directory (`bench_run.Probe`'s pipe)."""

    def __init__(self, cache: str, scenario: Path):
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        self.process = subprocess.Popen(
            [sys.executable, "-c", PROBE, str(ROOT / "src"), str(scenario)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env,
        )  # fmt: skip
        self.first = json.loads(self.answer())

    def median_time(self, count: int) -> float:
        """The median CPU seconds of the next `count` runs."""
        assert self.process.stdin is not None
        self.process.stdin.write(f"{count}\n")
        self.process.stdin.flush()
        return statistics.median(json.loads(self.answer()))


def interval(ratios: list[float]) -> tuple[float, float]:
    """A 95% percentile-bootstrap interval of the rounds' median ratio."""
    from scipy.stats import bootstrap

    with warnings.catch_warnings():  # a few rounds: scipy warns that the interval is rough
        warnings.simplefilter("ignore")
        found = bootstrap(
            (ratios,), statistics.median, method="percentile", n_resamples=10_000, random_state=0
        )
    return found.confidence_interval.low, found.confidence_interval.high


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10, help="alternating rounds")
    parser.add_argument("--repeats", type=int, default=30, help="runs per process and round")
    args = parser.parse_args()
    if args.rounds < 1 or args.repeats < 1:
        parser.error("--rounds and --repeats: give whole numbers >= 1")
    scenario = ROOT / "scenarios" / "home_room.toml"
    with tempfile.TemporaryDirectory() as warm, tempfile.TemporaryDirectory() as empty:
        warm_cache(ROOT / "src", warm)
        probes = {"loaded": Probe(warm, scenario), "compiled": Probe(empty, scenario)}
        print(f"first run: {probes['loaded'].first:.1f} s loading, "
              f"{probes['compiled'].first:.1f} s compiling")  # fmt: skip
        ratios = []
        try:
            for number in range(args.rounds):
                order = list(probes) if number % 2 == 0 else list(probes)[::-1]
                medians = {name: probes[name].median_time(args.repeats) for name in order}
                ratios.append(medians["compiled"] / medians["loaded"])
                print(f"round {number + 1}: loaded {medians['loaded'] * 1e3:.2f} ms, compiled "
                      f"{medians['compiled'] * 1e3:.2f} ms, ratio {ratios[-1]:.2f}")  # fmt: skip
        finally:
            for probe in probes.values():
                probe.close()
    low, high = interval(ratios)
    print(f"compiled / loaded: median of {args.rounds} rounds' ratios "
          f"{statistics.median(ratios):.2f}x (95% interval {low:.2f}-{high:.2f}x)")  # fmt: skip


if __name__ == "__main__":
    main()
