"""A common-random-number sweep as it runs now against the two ways it ran before 2026-12-02.

    python benchmarks/bench_sweep_order.py                      # the shipped sweep, 2 workers
    python benchmarks/bench_sweep_order.py --workers 1 --rounds 6

Runs the sweep file (default: scenarios/sweeps/warmth_x_sessions.toml, 30 points x 20
replications with common random numbers) into a fresh folder again and again, alternating
four variants round by round (the order rotates):

- `now`: the runs sent out by seed (`Sweep.run_order`) and no faculty rows recorded (no
  built-in outcome reads them; `chunk._finished_model`);
- `run id order`: the same, but the runs in run id order (a design point's replications one
  after another, as chunks took them before), `Sweep.run_order` replaced for the round;
- `faculty rows`: by seed, but every run records its faculty rows, as before
  (`chunk._finished_model`'s `faculties` forced on; the pool's workers are forked after);
- `before`: both, in run id order with faculty rows: the sweep as it ran before.

Within a chunk all four run a seed's runs together (`chunk.sharing_order`). Prints how many
runs start from a settled cohort in each order, then, after one untimed sweep (imports,
loading the compiled code), each round's wall time (the whole `run_sweep`, the local pool's
start included), each variant's per-round ratio to `now`, their median and range, and
checks that all four give the same rows. Exit status 1 if they differ.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from groupsim.runs.backends import make_backend  # noqa: E402
from groupsim.scenario import ScenarioError  # noqa: E402
from groupsim.sweep import chunk  # noqa: E402
from groupsim.sweep.estimate import _shared_runs  # noqa: E402
from groupsim.sweep.run import run_sweep  # noqa: E402
from groupsim.sweep.spec import Sweep, load_sweep  # noqa: E402
from groupsim.sweep.store import SweepStore  # noqa: E402

BY_SEED = Sweep.run_order
FINISHED = chunk._finished_model
VARIANTS = ("now", "run id order", "faculty rows", "before")


def run_id_order(self: Sweep, run_ids: np.ndarray) -> np.ndarray:
    """The pending runs as they come: ascending run ids (the order before by-seed chunks)."""
    return np.asarray(run_ids, dtype=np.int64)


def with_faculty_rows(*args: Any, **kwargs: Any) -> Any:
    """`chunk._finished_model` recording the faculty rows, as every sweep run did before."""
    kwargs.pop("faculties", None)
    return FINISHED(*args[:4], faculties=True, **kwargs)


def use(variant: str) -> None:
    """Put the variant's order and recording in place (`now`: this tree's own)."""
    in_id_order = variant in ("run id order", "before")
    Sweep.run_order = run_id_order if in_id_order else BY_SEED  # type: ignore[method-assign]
    rows = variant in ("faculty rows", "before")
    chunk._finished_model = with_faculty_rows if rows else FINISHED


def one_sweep(sweep: Sweep, workers: int, variant: str) -> tuple[float, Any]:
    """Wall seconds of the whole sweep as `variant` runs it, and its rows."""
    use(variant)
    try:
        with tempfile.TemporaryDirectory() as folder:
            started = time.perf_counter()
            run_sweep(sweep, Path(folder) / "out", make_backend(workers), label=None)
            seconds = time.perf_counter() - started
            return seconds, SweepStore(Path(folder) / "out").runs()
    finally:
        use("now")


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
    for variant in VARIANTS[:2]:
        use(variant)
        shared = _shared_runs(sweep, args.workers)
        print(f"{variant}: {shared} of {sweep.runs} runs start from a settled cohort "
              f"({shared / sweep.runs:.0%}) on {args.workers} worker(s)")  # fmt: skip
    use("now")
    one_sweep(sweep, args.workers, "now")  # untimed: imports, the compile cache's loading
    seconds: dict[str, list[float]] = {variant: [] for variant in VARIANTS}
    rows = {}
    for round_number in range(args.rounds):
        shift = round_number % len(VARIANTS)
        for variant in VARIANTS[shift:] + VARIANTS[:shift]:
            took, table = one_sweep(sweep, args.workers, variant)
            seconds[variant].append(took)
            rows.setdefault(variant, table)
    for variant, values in seconds.items():
        print(f"{variant}: " + " ".join(f"{v:.2f}" for v in values)
              + f" s; median {statistics.median(values):.2f} s")  # fmt: skip
    for variant in VARIANTS[1:]:
        ratios = [a / b for a, b in zip(seconds[variant], seconds["now"], strict=True)]
        each = " ".join(f"{r:.2f}" for r in ratios)
        spread = f"{min(ratios):.2f}-{max(ratios):.2f}x"
        print(f"ratio ({variant} / now) per round: {each}; "
              f"median {statistics.median(ratios):.2f}x ({spread})")  # fmt: skip
    same = all(rows["now"].equals(rows[variant]) for variant in VARIANTS[1:])
    print(f"identical rows: {same}")
    if not same:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
