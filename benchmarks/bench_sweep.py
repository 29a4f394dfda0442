"""Sweep engine against `mesa.batch_run`: throughput, peak memory, 2-worker speed-up.

The same runs (same scenarios, same seeds) go through `groupsim.sweep_run.run_sweep` and
through `mesa.batch_run(groupsim.HomeRoomModel, ...)`:

- workload `default`: 500 runs of scenarios/home_room.toml (5 warmth values x 100 replications);
- workload `quick`: 2,000 runs of a tiny cohort and short program (4 points x 500), where the
  engine's own per-run costs show.

Every configuration runs in a fresh process; this script samples the resident memory of that
process and all its children (proportional set size, so shared library pages count once;
every 50 ms) and reports the peak of their sum, and of the largest process. batch_run runs
with 1 and 2 processes and the better one is compared. The sweep keeps `run_outcomes` (37
outcomes per run); batch_run keeps the final week's model reporters (its only option with
``data_collection_period=-1``); both run with ``record_students=False, record_ties=False``.

With ``--memory`` it instead measures a summary-outcome sweep of 2,000 and 20,000 quick runs
(2 workers): the peak memory must stay flat as the number of runs grows.

Run:  .venv/bin/python benchmarks/bench_sweep.py [--quick] [--memory]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "scenarios" / "home_room.toml"
SEED = 2026

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
        "[set]",
        *(f'"{k}" = {json.dumps(v)}' for k, v in fixed.items()),
        "[parameters]",
        *(f'"{k}" = {json.dumps(v)}' for k, v in varied.items()),
    ]
    path = folder / f"{workload}-{replications}.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


# ---------------------------------------------------------------------------- child processes


def child_sweep(workload: str, replications: int, workers: int, check: bool = True) -> dict:
    from groupsim.sweep import load_sweep
    from groupsim.sweep_run import make_backend, run_sweep

    folder = Path(tempfile.mkdtemp())
    sweep = load_sweep(sweep_file(folder, workload, replications))
    start = time.perf_counter()
    summary = run_sweep(sweep, folder / "out", make_backend(workers=workers), label=None)
    seconds = time.perf_counter() - start
    if not check:  # memory mode: measure the sweep alone, not reading its results back
        return {"runs": summary.done_now, "seconds": seconds}
    from groupsim.sweep_store import SweepStore

    runs = SweepStore(folder / "out").runs()
    values = runs.sort_values("run_id")["followup_social_interaction"].round(12).tolist()
    return {"runs": summary.done_now, "seconds": seconds, "check": values}


def child_batch(workload: str, replications: int, processes: int) -> dict:
    import mesa

    import groupsim
    from groupsim.scenario import apply_overrides, scenario_from_dict
    from groupsim.sweep import run_seed

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
        data_collection_period=-1,
        display_progress=False,
    )
    seconds = time.perf_counter() - start
    # batch_run's run order: replication outer, points inner; the sweep's: point outer.
    points = len(rows) // replications
    ordered = sorted(rows, key=lambda row: row["RunId"])
    check = [
        round(ordered[r * points + p]["clients_social_interaction"], 12)
        for p in range(points)
        for r in range(replications)
    ]
    return {"runs": len(rows), "seconds": seconds, "check": check}


# ---------------------------------------------------------------------------- measuring


def measure(kind: str, workload: str, replications: int, workers: int) -> dict:
    """Run one configuration in a fresh process; sample its process tree's memory."""
    import psutil

    command = [sys.executable, __file__, "--child", kind, workload, str(replications), str(workers)]
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
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, _ = process.communicate()
    done.set()
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"{kind} {workload} {workers} failed")
    result = json.loads(out.strip().splitlines()[-1])
    result.update(
        peak_mb=peak["total"] / 2**20,
        largest_mb=peak["largest"] / 2**20,
        largest_rss_mb=peak["rss"] / 2**20,
    )
    result["rate"] = result["runs"] / result["seconds"]
    label = f"{kind:6s} {workload:8s} {'procs' if kind == 'batch' else 'workers'}={workers}"
    print(
        f"  {label}: {result['runs']} runs in {result['seconds']:.1f} s "
        f"({result['rate']:.1f} runs/s), peak memory {result['peak_mb']:.0f} MB "
        f"(largest process {result['largest_mb']:.0f} MB, "
        f"largest RSS {result['largest_rss_mb']:.0f} MB)",
        flush=True,
    )
    return result


def compare(workload: str, replications: int) -> None:
    print(f"workload {workload}: {replications} replications per point", flush=True)
    sweep1 = measure("sweep", workload, replications, 1)
    sweep2 = measure("sweep", workload, replications, 2)
    batch1 = measure("batch", workload, replications, 1)
    batch2 = measure("batch", workload, replications, 2)
    batch = max(batch1, batch2, key=lambda r: r["rate"])
    sweep = max(sweep1, sweep2, key=lambda r: r["rate"])
    same = sweep1["check"] == sweep2["check"] == batch1["check"]
    print(f"  same runs (identical final social interaction in every run): {same}")
    print(
        f"  => throughput ratio sweep/batch_run: {sweep['rate'] / batch['rate']:.2f} "
        f"(target >= 1.2); peak-memory ratio sweep/batch_run: "
        f"{sweep['peak_mb'] / batch['peak_mb']:.2f} (target <= 0.25); "
        f"2-worker speed-up: {sweep2['rate'] / sweep1['rate']:.2f} (target >= 1.8)",
        flush=True,
    )


def memory_scaling(counts: list[int]) -> None:
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smaller smoke version")
    parser.add_argument("--memory", action="store_true", help="memory of 2,000 vs 20,000 runs")
    parser.add_argument(
        "--workload", choices=sorted(WORKLOADS), action="append", help="only this workload"
    )
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
    if args.memory:
        memory_scaling([200, 2_000] if args.quick else [2_000, 20_000])
        return
    scale = 5 if args.quick else 1
    for workload in args.workload or ["default", "quick"]:
        compare(workload, WORKLOADS[workload][2] // scale)


if __name__ == "__main__":
    main()
