"""Is the compiled kernel the same model as a git revision's? Paired seeds, main outcomes.

    python benchmarks/bench_equivalence.py --against e97e4f2            # 1,000 paired seeds
    python benchmarks/bench_equivalence.py --against e97e4f2 --seeds 60 # a quick check
    python benchmarks/bench_equivalence.py --against e97e4f2 --write-reference \
        tests/data/kernel_reference.json --seeds 8   # REF's outcomes for the tests

Runs the scenario (default: the home room) with seeds 0..N-1 in this tree and in REF (a git
revision checked out in a temporary worktree), each in its own process, and compares the
distributions of the main outcomes: the clients' mean post-test total, their mean gain, their
attendance, the share who had opened up at the post-test and the group's density at the
post-test. Passes when, for every outcome, the two-sample Kolmogorov-Smirnov test gives
p > 0.01 and the means differ by at most 2 Monte Carlo standard errors (of the difference of
the two means, sqrt(var_a / n + var_b / n)). Also prints how many seeds give exactly the same
outcome in both trees. Exit status 1 when a check fails.

`--write-reference FILE` instead writes REF's every outcome (`run_outcomes`) for seeds
0..N-1 of the three shipped arms to FILE (JSON); `tests/test_kernel.py` checks this tree
gives the same numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from scipy import stats

ROOT = Path(__file__).resolve().parent.parent
#: The outcomes compared: name in `groupsim.runs.outcomes.OUTCOMES` -> label.
OUTCOMES = {
    "questionnaire_post": "post-test total",
    "questionnaire_gain": "gain (post - pre)",
    "attendance": "attendance",
    "post_disclosed_share": "opened-up share (post)",
    "post_group_density": "group density (post)",
}
ARMS = ("home_room", "standard_group", "no_intervention")
KS_ALPHA = 0.01
MAX_SES = 2.0

PROBE = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
from groupsim import load_scenario, run
from groupsim.runs.outcomes import outcome_weeks, run_outcomes
scenario = load_scenario(sys.argv[2])
names = sys.argv[5].split(",") if sys.argv[5] else None
weeks = tuple(outcome_weeks(scenario).values())
rows = {}
for seed in range(int(sys.argv[3]), int(sys.argv[4])):
    result = run(scenario, seed=seed, record_students=False, record_ties=False,
                 record_weeks=weeks)
    outcomes = run_outcomes(result)
    for name in names or outcomes:
        rows.setdefault(name, []).append(outcomes[name])
print(json.dumps(rows))
"""


def outcomes_of(
    src: Path, scenario: Path, seeds: int, names: tuple[str, ...] = tuple(OUTCOMES)
) -> dict[str, np.ndarray]:
    """The outcomes (`names`, empty: all) of seeds 0..seeds-1 run in the tree under `src`."""
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(src), str(scenario), "0", str(seeds), ",".join(names)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    rows = json.loads(out.stdout.strip().splitlines()[-1])
    return {name: np.asarray(values, dtype=float) for name, values in rows.items()}


def compare(here: dict[str, np.ndarray], there: dict[str, np.ndarray]) -> list[dict]:
    """Per outcome: means, their difference in Monte Carlo SEs, KS p, exact-equal seeds."""
    rows = []
    for name, label in OUTCOMES.items():
        a, b = here[name], there[name]
        ok = ~np.isnan(a) & ~np.isnan(b)
        a, b = a[ok], b[ok]
        se = float(np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b)))
        gap = float(a.mean() - b.mean())
        ses = abs(gap) / se if se > 0 else 0.0
        p = float(stats.ks_2samp(a, b).pvalue)
        rows.append({
            "outcome": label, "mean_here": float(a.mean()), "mean_ref": float(b.mean()),
            "ses": ses, "ks_p": p, "equal_seeds": int((a == b).sum()), "seeds": len(a),
            "passed": p > KS_ALPHA and ses <= MAX_SES,
        })  # fmt: skip
    return rows


#: Compiles a tree's model code into its numba disk cache, where the tree has compiled code.
WARM_UP = r"""
import importlib.util, sys
sys.path.insert(0, sys.argv[1])
if importlib.util.find_spec("groupsim.model.warm_up") is not None:
    from groupsim.model.warm_up import warm_up
    warm_up()
"""


def warm_cache(src: Path, cache: str | None = None) -> None:
    """Compile the tree under `src` into its disk cache (or `cache`), in a process of its own.

    A process that compiles numba code runs that code slower than one that loads it from the
    cache: measured here on 2026-12-02, a tree against a fresh worktree of itself (which
    compiled in its measuring process) came out 1.18x "faster" (8 rounds, 95% interval
    1.13-1.45x). Compiled in a process of its own first, every measuring process loads both
    trees' code from disk. A tree without compiled code (before `groupsim.model.warm_up`)
    has nothing to warm.
    """
    env = {**os.environ, "NUMBA_CACHE_DIR": cache} if cache is not None else None
    subprocess.run(
        [sys.executable, "-c", WARM_UP, str(src)], check=True, capture_output=True, env=env
    )


@contextmanager
def checked_out(ref: str) -> Iterator[Path]:
    """REF checked out in a temporary git worktree (removed afterwards).

    Both REF's and this tree's compiled code are in their disk caches before it is given out
    (`warm_cache`): the measuring processes load them, neither compiles.
    """
    with tempfile.TemporaryDirectory() as tmp:
        ref_tree = Path(tmp) / "ref"
        git = ["git", "-C", str(ROOT)]
        added = subprocess.run([*git, "worktree", "add", "--detach", str(ref_tree), ref],
                               capture_output=True, text=True)  # fmt: skip
        if added.returncode != 0:  # a bad --against: one line, exit status 2
            reason = (added.stderr.strip().splitlines() or ["git worktree add failed"])[-1]
            print(f"--against {ref}: cannot check it out ({reason})", file=sys.stderr)
            raise SystemExit(2)
        try:
            for tree in (ROOT, ref_tree):
                warm_cache(tree / "src")
            yield ref_tree
        finally:
            subprocess.run([*git, "worktree", "remove", "--force", str(ref_tree)], check=False,
                           capture_output=True)  # fmt: skip


def in_tree(tree: Path, scenario: Path) -> Path:
    """The tree's own copy of a shipped scenario file (a newer schema may differ)."""
    return tree / scenario.relative_to(ROOT) if scenario.is_relative_to(ROOT) else scenario


def run_against(ref: str, scenario: Path, seeds: int) -> list[dict]:
    """Run this tree and REF (a temporary worktree) and compare them (`compare`)."""
    with checked_out(ref) as ref_tree:
        there = outcomes_of(ref_tree / "src", in_tree(ref_tree, scenario), seeds)
    return compare(outcomes_of(ROOT / "src", scenario, seeds), there)


def write_reference(ref: str, seeds: int, path: Path) -> None:
    """REF's every outcome for seeds 0..seeds-1 of the three shipped arms, as JSON."""
    reference: dict[str, dict] = {"revision": ref, "seeds": seeds, "arms": {}}
    with checked_out(ref) as ref_tree:
        for arm in ARMS:
            scenario = in_tree(ref_tree, ROOT / "scenarios" / f"{arm}.toml")
            rows = outcomes_of(ref_tree / "src", scenario, seeds, names=())
            reference["arms"][arm] = {name: values.tolist() for name, values in rows.items()}
    path.write_text(json.dumps(reference, indent=1) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", required=True, metavar="REF", help="git revision")
    parser.add_argument("--seeds", type=int, default=1000)
    parser.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "home_room.toml")
    parser.add_argument("--write-reference", type=Path, metavar="FILE")
    args = parser.parse_args()
    if args.write_reference:
        write_reference(args.against, args.seeds, args.write_reference)
        return
    rows = run_against(args.against, args.scenario.resolve(), args.seeds)
    print(f"{args.scenario.name}: seeds 0..{args.seeds - 1}, this tree vs {args.against}")
    print(f"{'outcome':<24} {'this tree':>10} {args.against:>10} {'|diff|/SE':>9} "
          f"{'KS p':>7} {'same seeds':>11}  check")  # fmt: skip
    for r in rows:
        print(f"{r['outcome']:<24} {r['mean_here']:>10.4f} {r['mean_ref']:>10.4f} "
              f"{r['ses']:>9.2f} {r['ks_p']:>7.3f} {r['equal_seeds']:>5}/{r['seeds']:<5}  "
              f"{'pass' if r['passed'] else 'FAIL'}")  # fmt: skip
    if not all(r["passed"] for r in rows):
        sys.exit(1)


if __name__ == "__main__":
    main()
