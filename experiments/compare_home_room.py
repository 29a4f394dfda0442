"""Does home room beat no intervention, by how much, for whom, and how sure are we?

Home room vs a standard group vs no intervention, over paired replications with common random
numbers, into `out/compare_home_room/` (tables, figures, report.md and a self-contained
report.html). The first scenario, no intervention, is the reference: every effect is a
difference to it, and the report also compares home room with the standard group directly.

Usage:
    python experiments/compare_home_room.py [--reps N] [--workers W] [--seed S] [--out DIR]

`make demo` runs it with the default 700 replications per scenario: 2,100 runs (its time,
against an earlier revision: benchmarks/bench_demo.py). One pool of worker processes serves
the runs and then draws most of the report's figures, while this process computes the
effects and draws the rest.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from groupsim import compare
from groupsim.runs.execute import make_backend, opened

ROOT = Path(__file__).resolve().parent.parent
#: Reference first: the control arm.
SCENARIOS = [
    ROOT / "scenarios" / "no_intervention.toml",
    ROOT / "scenarios" / "standard_group.toml",
    ROOT / "scenarios" / "home_room.toml",
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=700, help="replications per scenario")
    parser.add_argument("--workers", type=int, default=None, help="processes (default: all)")
    parser.add_argument("--seed", type=int, default=0, help="experiment seed")
    parser.add_argument(
        "--out", type=Path, default=ROOT / "out" / "compare_home_room", help="output folder"
    )
    args = parser.parse_args(argv)
    if args.reps < 1:
        parser.error(f"--reps: must be at least 1 (got {args.reps})")
    if args.workers is not None and args.workers < 1:
        parser.error(f"--workers: must be at least 1 (got {args.workers})")
    if args.out.exists() and not args.out.is_dir():
        parser.error(f"--out: {args.out} is a file; give a folder")

    # Paths relative to where we run, so the report's "reproduce" command is portable.
    here = Path.cwd()
    files = [path.relative_to(here) if path.is_relative_to(here) else path for path in SCENARIOS]
    start = time.monotonic()
    backend = make_backend(workers=args.workers)
    with opened(backend):  # the runs' workers, warm, draw the report's figures too
        comparison = compare(files, args.reps, seed=args.seed, backend=backend)
        report = comparison.report(args.out, backend=backend)
    elapsed = time.monotonic() - start

    runs = len(SCENARIOS) * args.reps
    print(f"{runs} runs ({args.reps} replications x {len(SCENARIOS)} scenarios) in {elapsed:.0f} s")
    effects = comparison.effects.set_index(["outcome", "scenario"])
    for label in comparison.labels[1:]:
        row = effects.loc[("post_social_interaction", label)]
        print(
            f"  {label}: post-program social interaction {row['difference']:+.3f} "
            f"(95% CI {row['difference_low']:+.3f} to {row['difference_high']:+.3f}) "
            f"vs {comparison.reference}"
        )
    print("Clients, pooled over replications (reliable change among the answered post-tests):")
    for arm in comparison.arms.to_dict("records"):
        print(
            f"  {arm['scenario']}: {arm['improved']:.0%} improved, "
            f"{arm['no_change']:.0%} no reliable change, {arm['deteriorated']:.0%} deteriorated"
        )
    print(f"Report: {report}")
    print(f"        {report.with_suffix('.md')} (figures beside it as PNG and SVG)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
