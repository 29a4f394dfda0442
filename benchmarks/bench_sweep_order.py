"""A common-random-number sweep sent out by seed against the same sweep in run id order.

    python benchmarks/bench_sweep_order.py                      # the shipped sweep, 2 workers
    python benchmarks/bench_sweep_order.py --workers 1 --rounds 6

Runs the sweep file (default: scenarios/sweeps/warmth_x_sessions.toml, 30 points x 20
replications with common random numbers) into a fresh folder again and again, alternating
two orders round by round: the runs by seed (`Sweep.run_order`, this tree's) and in run id
order (a design point's replications one after another, as chunks took them before
2026-12-02; `Sweep.run_order` replaced for the round). Within a chunk both run a seed's runs
together (`chunk.sharing_order`), so the difference is how many runs a chunk holds of one
seed: how many start from a settled cohort (printed for each order). After one untimed
sweep (imports, loading the compiled code), prints each round's
wall time (the whole `run_sweep`, the local pool's start included), the per-round ratio
(run id order / by seed), their median and range, and checks that both orders give the same
rows. Exit status 1 if they differ.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from groupsim.runs.backends import make_backend  # noqa: E402
from groupsim.scenario import ScenarioError  # noqa: E402
from groupsim.sweep.estimate import _shared_runs  # noqa: E402
from groupsim.sweep.run import run_sweep  # noqa: E402
from groupsim.sweep.spec import Sweep, load_sweep  # noqa: E402
from groupsim.sweep.store import SweepStore  # noqa: E402

BY_SEED = Sweep.run_order


def run_id_order(self: Sweep, run_ids: np.ndarray) -> np.ndarray:
    """The pending runs as they come: ascending run ids (the order before by-seed chunks)."""
    return np.asarray(run_ids, dtype=np.int64)


ORDERS = {"by seed": BY_SEED, "run id order": run_id_order}


def one_sweep(sweep: Sweep, workers: int, order: str) -> tuple[float, object]:
    """Wall seconds of the whole sweep in `order`, and its rows."""
    Sweep.run_order = ORDERS[order]  # type: ignore[method-assign]
    try:
        with tempfile.TemporaryDirectory() as folder:
            started = time.perf_counter()
            run_sweep(sweep, Path(folder) / "out", make_backend(workers), label=None)
            seconds = time.perf_counter() - started
            return seconds, SweepStore(Path(folder) / "out").runs()
    finally:
        Sweep.run_order = BY_SEED  # type: ignore[method-assign]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sweep", type=Path, default=ROOT / "scenarios" / "sweeps" / "warmth_x_sessions.toml"
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=6, help="alternating rounds")
    args = parser.parse_args()
    if args.workers < 1 or args.rounds < 1:
        print("--workers and --rounds: at least 1", file=sys.stderr)
        raise SystemExit(2)
    try:
        sweep = load_sweep(args.sweep)
    except ScenarioError as error:  # a missing or invalid sweep file: its one line
        print(error, file=sys.stderr)
        raise SystemExit(2) from None
    if not sweep.settings.common_random_numbers:
        print(f"{args.sweep}: common_random_numbers: the sweep has none; give one with it",
              file=sys.stderr)  # fmt: skip
        raise SystemExit(2)
    for order in ORDERS:
        Sweep.run_order = ORDERS[order]  # type: ignore[method-assign]
        shared = _shared_runs(sweep, args.workers)
        print(f"{order}: {shared} of {sweep.runs} runs start from a settled cohort "
              f"({shared / sweep.runs:.0%}) on {args.workers} worker(s)")  # fmt: skip
    Sweep.run_order = BY_SEED  # type: ignore[method-assign]
    one_sweep(sweep, args.workers, "by seed")  # untimed: imports, the compile cache's loading
    seconds: dict[str, list[float]] = {order: [] for order in ORDERS}
    rows = {}
    for round_number in range(args.rounds):
        orders = list(ORDERS) if round_number % 2 == 0 else list(ORDERS)[::-1]
        for order in orders:
            took, table = one_sweep(sweep, args.workers, order)
            seconds[order].append(took)
            rows.setdefault(order, table)
    for order, values in seconds.items():
        print(f"{order}: " + " ".join(f"{v:.2f}" for v in values)
              + f" s; median {statistics.median(values):.2f} s")  # fmt: skip
    ratios = [a / b for a, b in zip(seconds["run id order"], seconds["by seed"], strict=True)]
    each = " ".join(f"{r:.2f}" for r in ratios)
    spread = f"{min(ratios):.2f}-{max(ratios):.2f}x"
    print(f"ratio (run id order / by seed) per round: {each}; "
          f"median {statistics.median(ratios):.2f}x ({spread})")  # fmt: skip
    same = rows["by seed"].equals(rows["run id order"])
    print(f"identical rows: {same}")
    if not same:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
