"""How close do the default scenarios come to the field studies' numbers, means and spread?

Runs the three shipped arms over paired replications (common random numbers) and sets the
clients' questionnaire totals (35 items scored 1-4, totals 35-140) beside the anchors of
MODEL.md: home room 68% -> 88% of the maximum (Nur Azizah & Murtafi'ah 2021), an unchanged
control, and a standard group in between (Sriyono et al. 2017). Then the spread: the clients'
SD at pre and post, reliable change (Jacobson & Truax 1991) against the psychotherapy
literature (Lambert & Ogles 2004: 5-10% deteriorate), attendance and dropout (Swift &
Greenberg 2012: 19.7%), the ICC of post-test totals adjusted for the pre-test (Kivlighan et al.
2020: mean 0.06), with and without counselor differences, and the correlation of a group's
climate with its clients' gains (Burlingame et al. 2011: cohesion-outcome r = 0.25). Writes
out/calibration/calibration.md and prints it.

Usage:
    python experiments/calibration.py [--reps N] [--workers W] [--seed S] [--out DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from groupsim import load_scenario, run
from groupsim.document.blocks import Table
from groupsim.document.render import markdown_table
from groupsim.model.measures import QUESTIONNAIRE, reliable_change_threshold
from groupsim.runs.execute import map_tasks, replication_seeds
from groupsim.runs.store import atomic_file
from groupsim.study.stats import intraclass_correlation

ROOT = Path(__file__).resolve().parent.parent
ARMS = ["home_room", "standard_group", "no_intervention"]
ANCHORS = {
    "home_room": "68% -> 88% (Nur Azizah & Murtafi'ah 2021, n = 22)",
    "standard_group": "rises, by less than home room (Sriyono et al. 2017)",
    "no_intervention": "unchanged (control groups of both studies)",
}
#: Counselors alike: the same arm without counselor differences, for the ICC's comparison.
ALIKE = {"counselor.warmth_sd": 0.0, "counselor.facilitation_sd": 0.0}


def clients_of_run(task: tuple[str, dict, int]) -> pd.DataFrame:
    """Every client of one run, with the run's seed and its groups' mean climate."""
    name, overrides, seed = task
    result = run(
        load_scenario(name, overrides), seed=seed, record_students=False, record_ties=False
    )
    sessions = result.sessions
    climate = sessions.groupby("group")["climate"].mean() if len(sessions) else pd.Series()
    q = result.questionnaire.assign(seed=seed)
    q["climate"] = q["group"].map(climate)
    return q


def simulate(name: str, overrides: dict, seeds: list[int], workers: int | None) -> pd.DataFrame:
    """The clients of every replication of one arm."""
    tasks = [(name, overrides, seed) for seed in seeds]
    return pd.concat(map_tasks(clients_of_run, tasks, workers, label=name), ignore_index=True)


def _mean_ci(values: pd.Series) -> str:
    half = 1.96 * values.std(ddof=1) / np.sqrt(len(values))
    return f"{values.mean():.1f} ({100 * values.mean() / QUESTIONNAIRE.maximum:.1f}%) ± {half:.1f}"


def means_table(arms: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per arm: run-mean questionnaire totals (% of the maximum, 95% CI over runs)."""
    rows = []
    for arm, q in arms.items():
        by_run = q.groupby("seed")[["pre", "post", "followup"]].mean()
        row = {"scenario": arm, "runs": len(by_run)}
        row.update({when: _mean_ci(by_run[when]) for when in ("pre", "post", "followup")})
        row["field anchor"] = ANCHORS[arm]
        rows.append(row)
    return pd.DataFrame(rows)


def spread_table(arms: dict[str, pd.DataFrame], alike: pd.DataFrame) -> pd.DataFrame:
    """Per arm: client SDs, reliable change, attendance, dropout, missing, ICC, climate-gain r."""
    rows = []
    sessions = load_scenario("home_room").program.sessions
    for arm, q in arms.items():
        answered = q[~q["post_missing"]]
        change = answered["reliable_change"].value_counts(normalize=True)
        gain = (q["post"] - q["pre"]).groupby(q["seed"]).mean()
        climate = q.groupby("seed")["climate"].first()
        has_group = climate.notna().any()
        row = {
            "scenario": arm,
            "clients": len(q),
            "SD pre / post": f"{q['pre'].std():.1f} / {q['post'].std():.1f}",
            "improved": f"{change.get('improved', 0):.1%}",
            "no reliable change": f"{change.get('no reliable change', 0):.1%}",
            "deteriorated": f"{change.get('deteriorated', 0):.1%}",
            "attendance": f"{q['attended'].mean() / sessions:.0%}" if has_group else "-",
            "dropout": f"{q['dropped_out'].mean():.1%}",
            "post missing": f"{q['post_missing'].mean():.1%}",
            "ICC (post | pre)": f"{intraclass_correlation(q, 'post', 'seed', 'pre'):.3f}",
            "r(climate, gain)": f"{climate.corr(gain):.2f}" if has_group else "-",
        }
        rows.append(row)
    icc_alike = intraclass_correlation(alike, "post", "seed", "pre")
    rows.append(
        {
            "scenario": "home_room, counselors alike",
            "clients": len(alike),
            "ICC (post | pre)": f"{icc_alike:.3f}",
        }
    )
    return pd.DataFrame(rows).fillna("")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=100)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "calibration")
    args = parser.parse_args(argv)
    if args.reps < 2:
        parser.error(f"--reps: must be at least 2 (got {args.reps})")
    seeds = replication_seeds(args.seed, args.reps)
    arms = {arm: simulate(arm, {}, seeds, args.workers) for arm in ARMS}
    alike = simulate("home_room", ALIKE, seeds, args.workers)
    text = (
        f"# Calibration: questionnaire totals (35-140), mean over {args.reps} paired "
        "replications, ± half-width of the 95% CI\n\n"
        + markdown_table(Table.from_frame(means_table(arms)))
        + "\n\n## Spread: clients and groups differ\n\n"
        f"Reliable change: |post - pre| > {reliable_change_threshold():.1f} points "
        "(Jacobson-Truax, the questionnaire's SE at a total of 95.4), among clients who "
        "answered the post-test. ICC: one-way ANOVA estimator on post-test totals adjusted "
        "for the pre-test, a group per replication.\n\n"
        + markdown_table(Table.from_frame(spread_table(arms, alike)))
        + "\n"
    )
    with atomic_file(args.out / "calibration.md") as handle:
        handle.write(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
