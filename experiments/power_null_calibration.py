"""Does the power analysis' primary test keep its level when groups differ?

Home room against itself (default cohort, default counselor differences): null studies of 2,
3, 4 and 8 groups per arm cut from one pool of independent home-room runs (the pool
`groupsim power` builds for its treatment-vs-treatment studies), as many as the pool holds
(400 at 8 groups per arm from 6,400 runs; 1,600 at 2), each analysed by every test of
`groupsim.study.power_studies.analyse_study`. Prints the rejection rate at alpha 0.05 with
its Wilson 95% CI per test and design (`primary` is the cluster-level analysis below 4 groups
per arm and the mixed model from 4), the share of studies whose mixed model could not be
fitted, and the share of missing post-tests; writes the studies to `--out` as CSV.
`--save-pool FILE` keeps the runs (pickle) and `--pool FILE` analyses kept runs again, so a
change of the tests does not need the 6,400 runs anew. `tests/test_power.py` checks the same
at a reduced size (full size with GROUPSIM_FULL_POWER=1).

Usage:
    python experiments/power_null_calibration.py [--studies N] [--workers W] [--seed S]
        [--save-pool FILE | --pool FILE]
"""

from __future__ import annotations

import argparse
import pickle
import sys
import time
from pathlib import Path

from groupsim import load_scenario
from groupsim.runs.execute import map_tasks, replication_seeds
from groupsim.runs.store import atomic_file
from groupsim.study.power import simulate_pool
from groupsim.study.power_studies import TESTS, analyse_study, analysed, null_blocks
from groupsim.study.stats import wilson_interval

ROOT = Path(__file__).resolve().parent.parent
DESIGNS = (2, 3, 4, 8)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studies", type=int, default=400, help="null studies per design")
    parser.add_argument("--workers", type=int, default=None, help="processes (default: all)")
    parser.add_argument("--seed", type=int, default=0, help="experiment seed")
    parser.add_argument(
        "--out", type=Path, default=ROOT / "out" / "power_null_calibration.csv", help="CSV"
    )
    parser.add_argument("--save-pool", type=Path, help="keep the runs in this pickle file")
    parser.add_argument("--pool", type=Path, help="analyse the runs kept by --save-pool")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    scenario = load_scenario(ROOT / "scenarios" / "home_room.toml")
    runs = 2 * max(DESIGNS) * args.studies
    if args.pool:
        with args.pool.open("rb") as handle:
            pool = pickle.load(handle)  # a file this script wrote (--save-pool)
        runs = len(pool)
    else:
        pool = simulate_pool(scenario, replication_seeds(args.seed, runs), args.workers, "runs")
    if args.save_pool:
        with atomic_file(args.save_pool, "wb") as handle:
            pickle.dump(pool, handle)
    blocks = null_blocks(pool, DESIGNS, runs)
    results = map_tasks(analyse_study, [arms for *_, arms in blocks], args.workers, "studies")
    studies = analysed(blocks, results)
    with atomic_file(args.out) as handle:
        studies.to_csv(handle, index=False)
    print(f"{scenario.name} vs itself: {runs} runs, seed {args.seed}, alpha 0.05")
    for k, design in studies.groupby("groups"):
        parts = []
        for test in TESTS:
            valid = design[f"p_{test}"].dropna()
            hits = int((valid < 0.05).sum())
            low, high = wilson_interval(hits, len(valid))
            parts.append(f"{test} {hits / len(valid):.4f} [{low:.3f}, {high:.3f}]")
        print(
            f"k={k}: {len(design)} studies; not fitted {int(design['p_mixed'].isna().sum())}, "
            f"boundary {int((design['mixed_status'] == 'boundary').sum())}; missing post "
            f"{100 * design['missing_post'].mean():.1f}%; " + "; ".join(parts)
        )
    print(f"{time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
