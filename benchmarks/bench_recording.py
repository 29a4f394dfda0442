"""What recording costs a default home-room run, by recording mode; optionally against another tree.

    python benchmarks/bench_recording.py                        # this tree
    python benchmarks/bench_recording.py --against /work/main/src   # also that tree's src

A run is `groupsim.run(scenario, seed)` in the recording modes of `bench_run.py` (`off`,
`compare`, `all`); for each run it also sums the time spent in `HomeRoomModel.record_week`
(the week's metrics, the DataCollector, the faculty, student and tie rows). CPU time
(`time.process_time`), medians over the seeds; each tree runs in its own process, after a
warm-up run, and the trees alternate round by round so load on the machine hits both alike.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
import groupsim
assert groupsim.__file__.startswith(sys.argv[1]), (groupsim.__file__, sys.argv[1])
from groupsim import load_scenario, run
from groupsim.model.model import HomeRoomModel
scenario = load_scenario(sys.argv[2])
seeds, modes = int(sys.argv[3]), sys.argv[4].split(",")
p = scenario.program
summary = (p.baseline_weeks, p.baseline_weeks + scenario.program_weeks, scenario.total_weeks)
options = {
    "off": {"record_students": False, "record_ties": False, "record_weeks": summary},
    "compare": {"record_students": True, "record_ties": False, "record_faculties": False},
    "all": {"record_students": True, "record_ties": True},
}
spent = [0.0]
record_week = HomeRoomModel.record_week
def timed(model, week):
    t0 = time.process_time()
    record_week(model, week)
    spent[0] += time.process_time() - t0
HomeRoomModel.record_week = timed
run(scenario, seed=10_000, **options["all"])  # warm-up: imports, first calls, compile cache
out = {}
for mode in modes:
    runs, recording = [], []
    for seed in range(seeds):
        spent[0] = 0.0
        t0 = time.process_time()
        run(scenario, seed=seed, **options[mode])
        runs.append(time.process_time() - t0)
        recording.append(spent[0])
    out[mode] = {"run": runs, "record_week": recording}
print(json.dumps(out))
"""


def measure(src: Path, scenario: Path, seeds: int, modes: list[str]) -> dict:
    """One process of the probe with `src` first on the path: times by mode."""
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(src), str(scenario), str(seeds), ",".join(modes)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "home_room.toml")
    parser.add_argument("--seeds", type=int, default=40, help="runs per round and mode")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds")
    parser.add_argument("--modes", default="off,compare,all")
    parser.add_argument("--against", type=Path, help="another tree's src directory")
    args = parser.parse_args()
    modes = args.modes.split(",")
    trees = [("this tree", ROOT / "src")]
    if args.against:
        trees.append((str(args.against), args.against.resolve()))
    times: dict[str, dict[str, dict[str, list[float]]]] = {label: {} for label, _ in trees}
    for _ in range(args.rounds):
        for label, src in trees:
            for mode, result in measure(src, args.scenario.resolve(), args.seeds, modes).items():
                for part, values in result.items():
                    times[label].setdefault(mode, {}).setdefault(part, []).extend(values)
    for mode in modes:
        for part in ("run", "record_week"):
            cells = []
            medians = []
            for label, _ in trees:
                median = statistics.median(times[label][mode][part])
                medians.append(median)
                cells.append(f"{label} {1000 * median:.2f} ms")
            ratio = f", ratio {medians[1] / medians[0]:.2f}x" if len(medians) > 1 else ""
            print(f"{mode:<8} {part:<12}: " + ", ".join(cells) + ratio)


if __name__ == "__main__":
    main()
