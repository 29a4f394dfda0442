"""Runs per second of the default home-room scenario, by recording mode; optionally against REF.

    python benchmarks/bench_run.py                 # this working tree
    python benchmarks/bench_run.py --against REF   # also REF (a git revision) in a temporary
                                                   # worktree, alternating, and print the ratio
    python benchmarks/bench_run.py --compile       # also the first-call compile time, with an
                                                   # empty numba cache and with a warm one

A run is `groupsim.run(scenario, seed)` from start to finish (cohort, burn-in, every week, the
records), as a study calls it, in three recording modes:

- `off`: no per-student or tie tables, only the three weeks a summary reads (`record_weeks`,
  as a power study or a sweep runs);
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
repeated runs; each tree runs in its own processes, one process per round and size, after one
warm-up run (imports, first calls and the compile cache are not charged). With --against the
two trees alternate round by round, so load on the machine hits both alike; the ratio
REF / working tree is the speed-up of this tree. As the machine's speed drifts between
processes, each round's ratio (of the two trees' medians in that round) is printed too, with
their range and a 95% bootstrap interval of their median (scipy.stats.bootstrap): how far one
ratio can be trusted.
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

ROOT = Path(__file__).resolve().parent.parent
MODES = ("off", "compare", "compare-task", "compare-arms", "all")
SIZES = (20, 200, 2000)  # students per faculty: 180, 1,800 and 18,000 students

# Runs inside the tree being measured (its own `groupsim` on sys.path).
PROBE = r"""
import inspect, json, sys, time
sys.path.insert(0, sys.argv[1])
import groupsim
assert groupsim.__file__.startswith(sys.argv[1]), (groupsim.__file__, sys.argv[1])
from groupsim import load_scenario, run
scenario = load_scenario(sys.argv[2], {"cohort.students_per_faculty": int(sys.argv[4])})
repeats, modes = int(sys.argv[3]), sys.argv[5].split(",")
weeks = scenario.cohort.burn_in_weeks + scenario.total_weeks
summary = (scenario.program.baseline_weeks, scenario.program.baseline_weeks
           + scenario.program_weeks, scenario.total_weeks)
# As `compare` runs in this tree: without faculty rows where `run` can skip them.
lean = {"record_faculties": False}
if "record_faculties" not in inspect.signature(run).parameters:
    lean = {}
options = {
    "off": {"record_students": False, "record_ties": False, "record_weeks": summary},
    "compare": {"record_students": True, "record_ties": False, **lean},
    "all": {"record_students": True, "record_ties": True},
}
t0 = time.process_time()
run(scenario, seed=10_000, **options[modes[0]])  # warm-up: first calls, compile cache
first = time.process_time() - t0
out = {"first": first, "students": scenario.cohort.faculties * scenario.cohort.students_per_faculty,
       "weeks": weeks}
import groupsim.study.compare as compare
from pathlib import Path
_run_replication = compare._run_replication
folder = Path(sys.argv[2]).parent
size = {"cohort.students_per_faculty": int(sys.argv[4])}
arms = tuple(load_scenario(folder / f"{name}.toml", size)
             for name in ("no_intervention", "standard_group", "home_room"))
from groupsim.runs import execute
# As a study's worker runs a task (`execute.run_task`, where a tree has it).
run_task = getattr(execute, "run_task", lambda func, task: func(task))
def run_arms(seed):
    if hasattr(compare, "_run_arms"):
        run_task(compare._run_arms, (arms, seed))
    else:
        for arm in arms:
            run_task(_run_replication, (arm, seed))
for mode in modes:
    times = []
    for seed in range(repeats):
        t0 = time.process_time()
        if mode == "compare-task":
            run_task(_run_replication, (scenario, seed))
        elif mode == "compare-arms":
            run_arms(seed)
            times.append((time.process_time() - t0) / len(arms))
            continue
        else:
            run(scenario, seed=seed, **options[mode])
        times.append(time.process_time() - t0)
    out[mode] = times
print(json.dumps(out))
"""


def measure(
    src: Path, scenario: Path, repeats: int, per_faculty: int, modes: tuple[str, ...]
) -> dict:
    """One process of the probe in the tree `src`: run times by mode."""
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(src), str(scenario), str(repeats), str(per_faculty),
         ",".join(modes)],
        check=True,
        capture_output=True,
        text=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def compile_times(scenario: Path) -> tuple[float, float]:
    """First run's time in a fresh process with an empty numba cache, then with the cache."""
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        times = []
        for _ in range(2):
            out = subprocess.run(
                [sys.executable, "-c", PROBE, str(ROOT / "src"), str(scenario), "0", "20", "off"],
                check=True, capture_output=True, text=True, env=env,
            )  # fmt: skip
            times.append(json.loads(out.stdout.strip().splitlines()[-1])["first"])
    return times[0], times[1]


def trees(against: str | None, tmp: str) -> list[tuple[str, Path]]:
    """The trees to time: this one, and REF checked out in a temporary worktree."""
    found = [("working tree", ROOT)]
    if against:
        ref_tree = Path(tmp) / "ref"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(ref_tree), against],
            check=True,
            capture_output=True,
        )
        found.append((against, ref_tree))
    return found


#: Run times by tree label, mode, then round (a list of times per round).
Times = dict[str, dict[str, list[list[float]]]]


def per_student_week(sink: dict[str, list[list[float]]], result: dict) -> None:
    """Add a probe's `off` run times per student-week to `sink` under `off@STUDENTS` (a round)."""
    cost = result["students"] * result["weeks"]
    sink.setdefault(f"off@{result['students']}", []).append([t / cost for t in result["off"]])


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
    with tempfile.TemporaryDirectory() as tmp:
        found = trees(args.against, tmp)
        runs: Times = {label: {} for label, _ in found}
        try:
            for _ in range(args.rounds):
                for label, tree in found:
                    # Each tree reads its own copy of the scenario file (a newer schema may
                    # have parameters an older one rejects); shipped files hold the defaults.
                    path = scenario
                    if scenario.is_relative_to(ROOT):
                        path = tree / scenario.relative_to(ROOT)
                    result = measure(tree / "src", path, args.repeats, SIZES[0], MODES)
                    for mode in MODES:
                        runs[label].setdefault(mode, []).append(result[mode])
                    per_student_week(runs[label], result)
                    for per_faculty in sizes[1:]:
                        repeats = max(1, args.repeats // 10)
                        big = measure(tree / "src", path, repeats, per_faculty, ("off",))
                        per_student_week(runs[label], big)
        finally:
            if args.against:
                remove = ["worktree", "remove", "--force", str(Path(tmp) / "ref")]
                subprocess.run(["git", "-C", str(ROOT), *remove], check=False, capture_output=True)
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
    for mode in runs[labels[0]]:
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
