"""Sweep engine against `mesa.batch_run`: throughput, peak memory, 2-worker speed-up.

The same runs (same scenarios, same seeds) go through `groupsim.sweep.run.run_sweep` and
through `mesa.batch_run(groupsim.HomeRoomModel, ...)`:

- workload `default`: 500 runs of scenarios/home_room.toml (5 warmth values x 100 replications);
- workload `quick`: 2,000 runs of a tiny cohort and short program (4 points x 500), where the
  engine's own per-run costs show.

Fairness: both sides end with the same outcomes of every run, the weekly reporters at the
pre-test, post-test and follow-up weeks (`groupsim.runs.outcomes.TRACKED`, 39 numbers a run; the
questionnaire and session outcomes are not model reporters, so batch_run cannot give them).
The sweep keeps them through its sweep file's `outcomes` list and writes them to Parquet.
batch_run keeps them as a Mesa user would: ``data_collection_period=1`` (every week's row;
with ``-1`` it keeps only the last week, which lacks the pre and post weeks), then
`batch_outcomes` picks the three weeks of each run out of its rows. That step is timed and
its memory counted with batch_run's. batch_run holds every row of every run in one list
until it returns: that is what its users get, and the sweep's flat memory (results streamed
to disk a chunk at a time) is the point of the comparison. The script checks that both sides
give identical outcome values for every run. Both run the model with
``record_students=False, record_ties=False``. The sweep, knowing the outcomes it keeps, also
asks its model to record only the three weeks they read (``record_weeks``; recording draws no
random numbers, so the runs are the same); batch_run reads the DataCollector's row of every
collected step, so its model records every week.

Every configuration runs in a fresh process (imports before the clock starts, on both sides);
this script samples the memory of that process and all its children (proportional set size,
so shared pages, such as those a forked worker shares with its parent, count once; every
0.2 s, see `SAMPLE_SECONDS`) and reports the peak of their sum, and of the largest process.
batch_run runs with 1 and 2 processes and the better one is compared; the memory ratio is
taken between the same two configurations as the throughput ratio, and also at equal process
counts.

With ``--memory`` it instead measures a summary-outcome sweep of 2,000 and 20,000 quick runs
(2 workers): the peak memory must stay flat as the number of runs grows.

With ``--memory --with-batch`` batch_run (1 and 2 processes) runs the same 2,000 and 20,000
runs: its memory grows with the runs (every weekly row of every run, until it returns).

The memory floor: every process that runs the model imports Mesa, which imports pandas,
pyarrow, scipy and networkx (about 150 MB, `import_baselines`). The sweep's forked workers
share that image with their parent, so a sweep's whole tree needs little more than one
image; the script prints that floor as a share of batch_run's peak, the lowest ratio any
engine running this model could reach.

With ``--dry-run`` it checks `groupsim sweep --dry-run`'s estimate: for each workload the
estimate (`groupsim.sweep.estimate.estimate`, 2 workers) and the sweep's real time in a fresh
process; the ratio should lie between 0.5 and 2.

Run:  .venv/bin/python benchmarks/bench_sweep.py [--quick] [--repeat N] [--memory [--with-batch]]
      .venv/bin/python benchmarks/bench_sweep.py --dry-run [--quick]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "scenarios" / "home_room.toml"
SEED = 2026

#: Memory sampling period. Reading a process's PSS (/proc/PID/smaps) costs about 2 ms, so
#: sampling a 3-process tree every 50 ms would take a sixth of a core away from 2 workers
#: on a 2-core machine; both sides' peaks are plateaus or end-of-run maxima, which 0.2 s
#: sampling still catches.
SAMPLE_SECONDS = 0.2

QUICK_SET = {
    "cohort.faculties": 3,
    "cohort.students_per_faculty": 6,
    "cohort.burn_in_weeks": 4,
    "group.clients": 3,
    "program.sessions": 4,
    "program.baseline_weeks": 1,
    "program.followup_weeks": 1,
}
WORKLOADS = {
    # name: (fixed overrides, varied parameters, replications)
    "default": ({}, {"counselor.warmth": [0.2, 0.4, 0.6, 0.8, 1.0]}, 100),
    "quick": (
        QUICK_SET,
        {"counselor.warmth": [0.3, 0.9], "counselor.technique": ["home_room", "standard"]},
        500,
    ),
}


def sweep_file(folder: Path, workload: str, replications: int) -> Path:
    fixed, varied, _ = WORKLOADS[workload]
    lines = [
        "[sweep]",
        f'scenario = "{BASE}"',
        f"replications = {replications}",
        f"seed = {SEED}",
        "common_random_numbers = true",  # replication r: the same seed at every point
        f"outcomes = {json.dumps(kept_outcomes())}",
        "[set]",
        *(f'"{k}" = {json.dumps(v)}' for k, v in fixed.items()),
        "[parameters]",
        *(f'"{k}" = {json.dumps(v)}' for k, v in varied.items()),
    ]
    path = folder / f"{workload}-{replications}.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def kept_outcomes() -> list[str]:
    """The outcomes both sides keep: the weekly reporters at pre, post and follow-up."""
    from groupsim.runs.outcomes import TRACKED

    return [f"{when}_{short}" for when in ("pre", "post", "followup") for short in TRACKED]


def fingerprint(values: list[list[float]]) -> str:
    """A digest of every run's outcome values (exact), to compare the two sides."""
    return hashlib.sha256(json.dumps(values).encode()).hexdigest()[:16]


def batch_outcomes(rows: list[dict]) -> dict[int, dict[str, float]]:
    """Each batch_run run's outcomes from its weekly rows (`run_outcomes`' weekly part), at
    the pre-test, post-test and follow-up weeks of its scenario (`outcome_weeks`)."""
    from groupsim.model.model import WEEKLY_REPORTERS, scenario_from_flat
    from groupsim.runs.outcomes import TRACKED, outcome_weeks
    from groupsim.scenario import flat_parameter_names

    parameters = set(flat_parameter_names()) - set(WEEKLY_REPORTERS)
    by_run: dict[int, dict[int, dict]] = {}
    for row in rows:
        by_run.setdefault(row["RunId"], {})[row["week"]] = row
    weeks_of: dict[tuple, dict[str, int]] = {}
    outcomes = {}
    for run_id, weeks in by_run.items():
        any_row = next(iter(weeks.values()))
        flat = {key: value for key, value in any_row.items() if key in parameters}
        key = tuple(sorted(flat.items()))
        if key not in weeks_of:
            weeks_of[key] = outcome_weeks(scenario_from_flat(flat))
        outcomes[run_id] = {
            f"{when}_{short}": float(weeks[week][column])
            for when, week in weeks_of[key].items()
            for short, column in TRACKED.items()
        }
    return outcomes


# ---------------------------------------------------------------------------- child processes


def child_sweep(workload: str, replications: int, workers: int, check: bool = True) -> dict:
    from groupsim.sweep.run import make_backend, run_sweep
    from groupsim.sweep.spec import load_sweep

    folder = Path(tempfile.mkdtemp())
    sweep = load_sweep(sweep_file(folder, workload, replications))
    start = time.perf_counter()
    summary = run_sweep(sweep, folder / "out", make_backend(workers=workers), label=None)
    seconds = time.perf_counter() - start
    if not check:  # memory mode: measure the sweep alone, not reading its results back
        return {"runs": summary.done_now, "seconds": seconds}
    from groupsim.sweep.store import SweepStore

    runs = SweepStore(folder / "out").runs().sort_values("run_id")
    values = runs[kept_outcomes()].to_numpy().tolist()
    return {"runs": summary.done_now, "seconds": seconds, "check": fingerprint(values)}


def child_batch(workload: str, replications: int, processes: int) -> dict:
    import mesa

    import groupsim
    from groupsim.scenario import apply_overrides, scenario_from_dict
    from groupsim.sweep.spec import run_seed

    fixed, varied, _ = WORKLOADS[workload]
    base = groupsim.load_scenario(BASE)
    scenario = scenario_from_dict(apply_overrides(base.to_dict(), fixed, "bench"), "bench")
    parameters: dict = {}
    for section, values in scenario.to_dict().items():
        if not isinstance(values, dict):
            continue
        for key, value in values.items():
            if not isinstance(value, list):  # batch_run would iterate a list (faculty_names)
                parameters[f"{section}_{key}"] = value
    for path, values in varied.items():
        name = path.replace(".", "_", 1)
        parameters.pop(name, None)  # varied last, in the sweep's order: the same point order
        parameters[name] = values
    parameters.update(record_students=False, record_ties=False)
    seeds = [run_seed(SEED, r) for r in range(replications)]
    start = time.perf_counter()
    rows = mesa.batch_run(
        groupsim.HomeRoomModel,
        parameters=parameters,
        rng=seeds,
        max_steps=10_000,
        number_processes=processes,
        data_collection_period=1,  # every week: the outcomes need pre, post and follow-up
        display_progress=False,
    )
    outcomes = batch_outcomes(rows)
    seconds = time.perf_counter() - start
    # batch_run's run order: replication outer, points inner; the sweep's: point outer.
    points = len(outcomes) // replications
    names = kept_outcomes()
    values = [
        [outcomes[r * points + p][name] for name in names]
        for p in range(points)
        for r in range(replications)
    ]
    return {"runs": len(outcomes), "seconds": seconds, "check": fingerprint(values)}


# ---------------------------------------------------------------------------- measuring


def measure(kind: str, workload: str, replications: int, workers: int) -> dict:
    """Run one configuration in a fresh process; sample its process tree's memory."""
    import resource

    import psutil

    command = [sys.executable, __file__, "--child", kind, workload, str(replications), str(workers)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    load = os.getloadavg()[0]  # other jobs on the machine skew wall times: show it
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    peak = {"total": 0, "largest": 0, "rss": 0}
    done = threading.Event()

    def sample() -> None:
        root = psutil.Process(process.pid)
        while not done.is_set():
            try:
                tree = [root, *root.children(recursive=True)]
                sizes, rss = [], []
                for proc in tree:
                    try:  # PSS: shared library pages counted once across the processes
                        info = proc.memory_full_info()
                    except psutil.Error:
                        continue
                    sizes.append(info.pss)
                    rss.append(info.rss)
                peak["total"] = max(peak["total"], sum(sizes))
                peak["largest"] = max(peak["largest"], max(sizes, default=0))
                peak["rss"] = max(peak["rss"], max(rss, default=0))
            except psutil.Error:
                pass
            time.sleep(SAMPLE_SECONDS)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, _ = process.communicate()
    done.set()
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"{kind} {workload} {workers} failed")
    # CPU time of the whole tree (workers are waited for), imports included: unlike wall
    # time, it hardly moves when other jobs share the machine.
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    result = json.loads(out.strip().splitlines()[-1])
    result.update(
        peak_mb=peak["total"] / 2**20,
        largest_mb=peak["largest"] / 2**20,
        largest_rss_mb=peak["rss"] / 2**20,
    )
    result["rate"] = result["runs"] / result["seconds"]
    result["cpu_s"] = cpu
    label = f"{kind:6s} {workload:8s} {'procs' if kind == 'batch' else 'workers'}={workers}"
    print(
        f"  {label}: {result['runs']} runs in {result['seconds']:.1f} s "
        f"({result['rate']:.1f} runs/s; CPU {cpu:.1f} s), peak memory {result['peak_mb']:.0f} MB "
        f"(largest process {result['largest_mb']:.0f} MB, "
        f"largest RSS {result['largest_rss_mb']:.0f} MB) [load before {load:.1f}]",
        flush=True,
    )
    return result


def compare(workload: str, replications: int, repeat: int = 1, floor_mb: float = 0.0) -> dict:
    """Measure the four configurations `repeat` times (interleaved); report medians.
    `floor_mb`: the memory of one process that imported the model (`import_baselines`)."""
    print(f"workload {workload}: {replications} replications per point", flush=True)
    configs = [("sweep", 1), ("sweep", 2), ("batch", 1), ("batch", 2)]
    trials: dict[tuple[str, int], list[dict]] = {config: [] for config in configs}
    for _ in range(repeat):
        for kind, workers in configs:
            trials[kind, workers].append(measure(kind, workload, replications, workers))
    median = {
        config: {
            "rate": statistics.median(r["rate"] for r in results),
            "peak_mb": statistics.median(r["peak_mb"] for r in results),
            "checks": {r["check"] for r in results},
        }
        for config, results in trials.items()
    }
    same = len(set().union(*(m["checks"] for m in median.values()))) == 1
    best_batch = max([("batch", 1), ("batch", 2)], key=lambda c: median[c]["rate"])
    best_sweep = max([("sweep", 1), ("sweep", 2)], key=lambda c: median[c]["rate"])
    sweep, batch = median[best_sweep], median[best_batch]
    table = {
        "throughput": sweep["rate"] / batch["rate"],
        "memory": sweep["peak_mb"] / batch["peak_mb"],
        "memory_1": median["sweep", 1]["peak_mb"] / median["batch", 1]["peak_mb"],
        "memory_2": median["sweep", 2]["peak_mb"] / median["batch", 2]["peak_mb"],
        "speedup": median["sweep", 2]["rate"] / median["sweep", 1]["rate"],
    }
    print(
        f"  medians of {repeat}: sweep {median['sweep', 1]['rate']:.1f} / "
        f"{median['sweep', 2]['rate']:.1f} runs/s (1 / 2 workers), batch_run "
        f"{median['batch', 1]['rate']:.1f} / {median['batch', 2]['rate']:.1f} runs/s "
        f"(1 / 2 processes); same outcomes in every run on both sides: {same}"
    )
    print(
        f"  => throughput ratio sweep ({best_sweep[1]} workers) / batch_run "
        f"({best_batch[1]} processes): {table['throughput']:.2f} (target >= 1.2); "
        f"peak-memory ratio: {table['memory']:.2f} (target <= 0.25; at 1 process each "
        f"{table['memory_1']:.2f}, at 2 each {table['memory_2']:.2f}); "
        f"2-worker speed-up: {table['speedup']:.2f} (target >= 1.8)",
        flush=True,
    )
    if floor_mb:
        table["floor"] = floor_mb / batch["peak_mb"]
        print(
            f"  => memory floor: one process that imported Mesa and the model ({floor_mb:.0f} "
            f"MB) is {table['floor']:.2f} of batch_run's peak; sweep above that floor: "
            f"{sweep['peak_mb'] - floor_mb:.0f} MB, batch_run: "
            f"{batch['peak_mb'] - floor_mb:.0f} MB",
            flush=True,
        )
    return table


def import_baselines() -> float:
    """Memory of a process that has only imported what each side needs; returns the PSS
    (MB) of one that imported Mesa and the model: the floor of any process tree that runs
    the model."""
    import psutil

    for label, code in (
        ("python", "pass"),
        ("mesa (pandas, pyarrow, scipy, networkx)", "import mesa"),
        ("sweep (groupsim.sweep.run)", "import groupsim.sweep.run"),
        ("model (groupsim.model.model)", "import groupsim.model.model"),
        ("batch_run (mesa, groupsim.model.model)", "import mesa, groupsim.model.model"),
    ):
        process = subprocess.Popen(
            [sys.executable, "-c", f"{code}; input()"], stdin=subprocess.PIPE
        )
        time.sleep(0.2)
        while True:  # wait until the imports are done (memory stops growing)
            before = psutil.Process(process.pid).memory_full_info().pss
            time.sleep(0.3)
            info = psutil.Process(process.pid).memory_full_info()
            if info.pss == before:
                break
        process.communicate(b"\n")
        print(
            f"  import baseline {label}: PSS {info.pss / 2**20:.0f} MB, "
            f"RSS {info.rss / 2**20:.0f} MB"
        )
    return info.pss / 2**20


def memory_scaling(counts: list[int], with_batch: bool = False) -> None:
    """Peak memory of a summary-outcome sweep (quick scenario, 2 workers) as runs grow;
    with `with_batch`, batch_run's (1 and 2 processes) on the same runs beside it."""
    print("memory of a summary-outcome sweep (quick scenario, 2 workers)", flush=True)
    points = 4
    results = [measure("sweep-only", "quick", n // points, 2) for n in counts]
    ratio = results[-1]["peak_mb"] / results[0]["peak_mb"]
    print(
        f"  => peak memory {counts[-1]} vs {counts[0]} runs: {ratio:.2f}x "
        f"(flat is 1.0; limit 500 MB: max {max(r['peak_mb'] for r in results):.0f} MB); "
        f"seconds per 1,000 runs: "
        + ", ".join(f"{1000 * r['seconds'] / r['runs']:.1f}" for r in results)
    )
    if with_batch:
        for processes in (1, 2):
            batch = [measure("batch", "quick", n // points, processes) for n in counts]
            print(
                f"  => peak-memory ratio sweep (2 workers) / batch_run ({processes} "
                f"process{'es' if processes > 1 else ''}): "
                + ", ".join(
                    f"{n} runs {s['peak_mb'] / b['peak_mb']:.2f}"
                    for n, s, b in zip(counts, results, batch, strict=True)
                ),
                flush=True,
            )


def dry_run_accuracy(workloads: list[str], scale: int, workers: int = 2) -> None:
    """The dry run's estimate against the real time of the same sweep (fresh process)."""
    from groupsim.sweep.estimate import estimate
    from groupsim.sweep.spec import load_sweep

    for workload in workloads:
        replications = WORKLOADS[workload][2] // scale
        sweep = load_sweep(sweep_file(Path(tempfile.mkdtemp()), workload, replications))
        guess = estimate(sweep, workers)
        real = measure("sweep", workload, replications, workers)["seconds"]
        print(
            f"{workload}: {sweep.runs} runs on {workers} workers: estimated {guess.seconds:.1f} s "
            f"(assuming {guess.parallel} at once), real {real:.1f} s, ratio real/estimate "
            f"{real / guess.seconds:.2f}",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smaller smoke version")
    parser.add_argument("--memory", action="store_true", help="memory of 2,000 vs 20,000 runs")
    parser.add_argument(
        "--workload", choices=sorted(WORKLOADS), action="append", help="only this workload"
    )
    parser.add_argument("--repeat", type=int, default=1, help="repeat and report medians")
    parser.add_argument(
        "--with-batch", action="store_true", help="--memory: batch_run's memory beside it"
    )
    parser.add_argument("--dry-run", action="store_true", help="the dry run's estimate vs real")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, workload, replications, workers = args.child
        if kind == "batch":
            result = child_batch(workload, int(replications), int(workers))
        else:
            result = child_sweep(workload, int(replications), int(workers), kind == "sweep")
        print(json.dumps(result))
        return
    if args.dry_run:
        dry_run_accuracy(args.workload or ["default", "quick"], 5 if args.quick else 1)
        return
    if args.memory:
        memory_scaling([200, 2_000] if args.quick else [2_000, 20_000], args.with_batch)
        return
    scale = 5 if args.quick else 1
    floor_mb = import_baselines()
    for workload in args.workload or ["default", "quick"]:
        compare(workload, WORKLOADS[workload][2] // scale, args.repeat, floor_mb)


if __name__ == "__main__":
    main()
