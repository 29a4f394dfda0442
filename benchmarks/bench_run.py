"""Runs per second of the default home-room scenario, by recording mode; optionally against REF.

    python benchmarks/bench_run.py                 # this working tree
    python benchmarks/bench_run.py --against REF   # also REF (a git revision) in a temporary
                                                   # worktree, alternating, and print the ratio
    python benchmarks/bench_run.py --compile       # also the first-call compile time, with an
                                                   # empty numba cache and with a warm one

A run is `groupsim.run(scenario, seed)` from start to finish (cohort, burn-in, every week, the
records), as a study calls it, in these recording modes:

- `off`: no per-student or tie tables, only the three weeks a summary reads (`record_weeks`,
  as a sweep ran until 2026-12-02; faculty rows recorded);
- `sweep`: as a sweep's run records since 2026-12-02: those three weeks without faculty rows
  (a tree whose `run` cannot skip faculty rows records them, as its sweeps did);
- `power`: nothing recorded (`record_weeks=()`), as a power study and a calibration run;
- `compare`: the per-student table every week, no tie or faculty tables (as `groupsim compare`
  runs; a tree whose `run` cannot skip faculty rows records them, as its `compare` did);
- `compare-task`: what a run costs `compare` in all, as a worker runs it
  (`groupsim.runs.execute.run_task`, where a tree has it: the garbage collector paused until
  the task ends): the run as above and its reduction to what a comparison keeps
  (`groupsim.study.compare._run_replication`: weekly rows, outcomes, clients; a DataFrame per
  run before this tree's compare built its tables once);
- `compare-arms`: the same for `make demo`'s comparison (no intervention, standard group, home
  room; the shipped files next to the scenario): one replication of the three arms as this
  tree's `compare` runs it (`_run_arms`: the arms share their settled cohort,
  `groupsim.model.settled`), or one arm after the other where a tree has no `_run_arms`; its
  time divided by three;
- `all`: every table every week.

It also prints the cost per student-week (mode `off`) of a cohort of 180, 1,800 and 18,000
students (the default scenario with 20, 200 and 2,000 students per faculty). Medians over
repeated runs. Each tree runs in its own process per size, which stays up for the whole
measurement after one warm-up run of every mode (imports, first calls and the compile cache
are not charged). Neither measuring process compiles: both trees' compiled code is put in
their disk caches first, each by a process of its own (`bench_equivalence.warm_cache`), since
a tree whose measuring process had compiled it ran slower there (against a fresh worktree of
itself a tree came out 1.18x "faster"; warmed first, 1.01x). With --against the two trees'
processes take turns batch by batch (a batch: `--repeats` runs of one mode; the order flips
every round), so the machine's drift, which moves a process's speed by 10-30% over seconds to
minutes on a shared virtual machine, hits both alike; the ratio REF / working tree is the
speed-up of this tree. Each round's ratio (of the two trees' medians in that round's batches)
is printed too, with a 95% bootstrap interval of their median (scipy.stats.bootstrap): how far
the ratio can be trusted. (Run against itself
(`--against HEAD` on a clean tree), the ratio comes out 1.00 within the rounds' spread.)
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
from contextlib import nullcontext
from pathlib import Path

from bench_equivalence import checked_out, in_tree

ROOT = Path(__file__).resolve().parent.parent
MODES = ("off", "sweep", "power", "compare", "compare-task", "compare-arms", "all")
SIZES = (20, 200, 2000)  # students per faculty: 180, 1,800 and 18,000 students

# Runs inside the tree being measured (its own `groupsim` on sys.path), as a server: after
# the warm-up it reads "MODE COUNT" lines and answers each with the CPU times of COUNT runs
# of MODE (seeds 0, 1, ... per mode, the same in both trees), as a JSON list.
PROBE = r"""
import inspect, json, sys, time
sys.path.insert(0, sys.argv[1])
import groupsim
assert groupsim.__file__.startswith(sys.argv[1]), (groupsim.__file__, sys.argv[1])
from groupsim import load_scenario, run
from groupsim.runs.outcomes import outcome_weeks
size = {"cohort.students_per_faculty": int(sys.argv[3])}
scenario = load_scenario(sys.argv[2], size)
modes = sys.argv[4].split(",")
weeks = scenario.cohort.burn_in_weeks + scenario.total_weeks
summary = (scenario.program.baseline_weeks, scenario.program.baseline_weeks
           + scenario.program_weeks, scenario.total_weeks)
# As `compare` runs in this tree: without faculty rows, and with the student rows of the
# outcome weeks only, where `run` can skip the others.
parameters = inspect.signature(run).parameters
lean = {"record_faculties": False} if "record_faculties" in parameters else {}
if "student_weeks" in parameters:
    lean["student_weeks"] = outcome_weeks(scenario).values()
options = {
    "off": {"record_students": False, "record_ties": False, "record_weeks": summary},
    "sweep": {"record_students": False, "record_ties": False, "record_weeks": summary,
              **({"record_faculties": False} if "record_faculties" in parameters else {})},
    "power": {"record_students": False, "record_ties": False, "record_weeks": ()},
    "compare": {"record_students": True, "record_ties": False, **lean},
    "all": {"record_students": True, "record_ties": True},
}
import groupsim.study.compare as compare
from pathlib import Path
_run_replication = compare._run_replication
folder = Path(sys.argv[2]).parent
arms = tuple(load_scenario(folder / f"{name}.toml", size)
             for name in ("no_intervention", "standard_group", "home_room"))
from groupsim.runs import execute
# As a study's worker runs a task (`execute.run_task`, where a tree has it).
run_task = getattr(execute, "run_task", lambda func, task: func(task))
def one_run(mode, seed):
    t0 = time.process_time()
    if mode == "compare-task":
        run_task(_run_replication, (scenario, seed))
    elif mode == "compare-arms":
        if hasattr(compare, "_run_arms"):
            run_task(compare._run_arms, (arms, seed))
        else:
            for arm in arms:
                run_task(_run_replication, (arm, seed))
        return (time.process_time() - t0) / len(arms)
    else:
        run(scenario, seed=seed, **options[mode])
    return time.process_time() - t0
# Warm-up: first calls, compile cache. Wall time: a tree that compiles in a child process
# (`ensure_cached`) spends the compile's CPU there, not in this process.
started = time.perf_counter()
one_run(modes[0], 10_000)
first = time.perf_counter() - started
for mode in modes:
    one_run(mode, 10_001)
print(json.dumps({"first": first, "weeks": weeks,
                  "students": scenario.cohort.faculties * scenario.cohort.students_per_faculty}),
      flush=True)
seeds = dict.fromkeys(modes, 0)
for line in sys.stdin:
    mode, count = line.split()
    times = [one_run(mode, seed) for seed in range(seeds[mode], seeds[mode] + int(count))]
    seeds[mode] += int(count)
    print(json.dumps(times), flush=True)
"""


class Probe:
    """A probe process in one tree: a cohort size, its modes, up until `close`."""

    def __init__(
        self,
        src: Path,
        scenario: Path,
        per_faculty: int,
        modes: tuple[str, ...],
        env: dict[str, str] | None = None,
    ):
        self.process = subprocess.Popen(
            [sys.executable, "-c", PROBE, str(src), str(scenario), str(per_faculty),
             ",".join(modes)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )  # fmt: skip
        self.info = json.loads(self.answer())

    def answer(self) -> str:
        line = self.process.stdout.readline() if self.process.stdout else ""
        if not line:
            raise RuntimeError(f"the probe stopped (exit status {self.process.wait()})")
        return line

    def times(self, mode: str, count: int) -> list[float]:
        """CPU seconds of each of `count` runs of `mode` (the next seeds)."""
        assert self.process.stdin is not None
        self.process.stdin.write(f"{mode} {count}\n")
        self.process.stdin.flush()
        return json.loads(self.answer())

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        self.process.wait()


def compile_times(scenario: Path) -> tuple[float, float]:
    """First run's time in a fresh process with an empty numba cache, then with the cache."""
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        times = []
        for _ in range(2):
            probe = Probe(ROOT / "src", scenario, SIZES[0], ("off",), env)
            probe.close()
            times.append(probe.info["first"])
    return times[0], times[1]


#: Run times by tree label, mode, then round (a list of times per round).
Times = dict[str, dict[str, list[list[float]]]]


def per_student_week(sink: dict[str, list[list[float]]], info: dict, times: list[float]) -> None:
    """Add a batch of `off` run times per student-week to `sink` under `off@STUDENTS`."""
    cost = info["students"] * info["weeks"]
    sink.setdefault(f"off@{info['students']}", []).append([t / cost for t in times])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "home_room.toml")
    parser.add_argument("--repeats", type=int, default=10, help="runs per round and mode")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds")
    parser.add_argument("--against", metavar="REF", help="git revision to compare with")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="students/faculty")
    parser.add_argument("--compile", action="store_true", help="also time the first compile")
    args = parser.parse_args()
    scenario = args.scenario.resolve()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    # REF in a temporary worktree (`bench_equivalence.checked_out`: a bad REF is one line).
    with checked_out(args.against) if args.against else nullcontext() as ref_tree:
        found = [("working tree", ROOT)]
        if args.against:
            found.append((args.against, ref_tree))
        runs: Times = {label: {} for label, _ in found}
        batches: list[tuple[int, tuple[str, ...], int]] = [(SIZES[0], MODES, args.repeats)]
        batches += [(size, ("off",), max(1, args.repeats // 10)) for size in sizes[1:]]
        for per_faculty, modes, repeats in batches:
            probes = {}
            try:
                for label, tree in found:
                    # Each tree reads its own copy of the scenario file (a newer schema may
                    # have parameters an older one rejects); shipped files hold the defaults.
                    probes[label] = Probe(tree / "src", in_tree(tree, scenario), per_faculty, modes)
                for round_number in range(args.rounds):
                    order = found if round_number % 2 == 0 else found[::-1]
                    for mode in modes:
                        for label, _ in order:
                            times = probes[label].times(mode, repeats)
                            if per_faculty == SIZES[0]:
                                runs[label].setdefault(mode, []).append(times)
                            if mode == "off":
                                per_student_week(runs[label], probes[label].info, times)
            finally:
                for probe in probes.values():
                    probe.close()
    report(runs, args)
    if args.compile:
        cold, warm = compile_times(scenario)
        print(f"first run in a new process: {cold:.1f} s with an empty numba cache "
              f"(compiling), {warm:.2f} s with the cache on disk")  # fmt: skip


def round_ratios(ref: list[list[float]], tree: list[list[float]]) -> list[float]:
    """Each round's ratio of REF's median time to the tree's (rounds alternate the trees)."""
    return [statistics.median(r) / statistics.median(t) for r, t in zip(ref, tree, strict=True)]


def ratio_interval(ratios: list[float]) -> tuple[float, float]:
    """A 95% percentile-bootstrap interval of the rounds' median ratio (scipy.stats.bootstrap)."""
    if len(set(ratios)) < 2:
        return ratios[0], ratios[0]
    from scipy.stats import bootstrap

    with warnings.catch_warnings():  # a few rounds: scipy warns that the interval is rough
        warnings.simplefilter("ignore")
        found = bootstrap(
            (ratios,), statistics.median, method="percentile", n_resamples=10_000, random_state=0
        )
    return found.confidence_interval.low, found.confidence_interval.high


def report(runs: Times, args: argparse.Namespace) -> None:
    """Medians, runs per second and (with --against) the ratios, round by round."""
    labels = list(runs)
    print(f"scenario: {args.scenario.name}; {args.rounds} rounds x {args.repeats} runs per mode; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")  # fmt: skip
    measured = runs[labels[0]]
    for mode in [m for m in MODES if m in measured] + [m for m in measured if m not in MODES]:
        medians = [
            statistics.median(t for times in runs[label][mode] for t in times) for label in labels
        ]
        if mode.startswith("off@"):
            cells = [f"{label} {1e6 * m:.2f} us" for label, m in zip(labels, medians, strict=True)]
            line = f"per student-week, {mode[4:]:>6} students: " + ", ".join(cells)
        else:
            cells = [
                f"{label} {1000 * m:.1f} ms ({1 / m:.0f} runs/s)"
                for label, m in zip(labels, medians, strict=True)
            ]
            line = f"run, recording {mode:<12}: " + ", ".join(cells)
        if len(labels) == 2:
            line += f"; ratio {medians[1] / medians[0]:.2f}x"
            ratios = round_ratios(runs[labels[1]][mode], runs[labels[0]][mode])
            low, high = ratio_interval(ratios)
            line += (
                f" (rounds {', '.join(f'{r:.2f}' for r in ratios)}; their median "
                f"{statistics.median(ratios):.2f}x, 95% interval {low:.2f}-{high:.2f}x)"
            )
        print(line)


if __name__ == "__main__":
    main()
