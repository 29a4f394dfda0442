"""How close do the default scenarios come to the field studies' numbers?

Runs the three shipped arms over paired replications and sets the clients' questionnaire
totals (35 items scored 1-4, totals 35-140) beside the anchors of MODEL.md:
home room 68% -> 88% of the maximum (Nur Azizah & Murtafi'ah 2021), an unchanged control, and a
standard group in between (Sriyono et al. 2017). Writes out/calibration/calibration.md and
prints the table.

Usage:
    python experiments/calibration.py [--reps N] [--workers W] [--seed S] [--out DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from groupsim import compare
from groupsim.document import Table
from groupsim.document.render import markdown_table
from groupsim.model.measures import QUESTIONNAIRE
from groupsim.runs.store import atomic_file

ROOT = Path(__file__).resolve().parent.parent
ARMS = ["home_room", "standard_group", "no_intervention"]
ANCHORS = {
    "home_room": "68% -> 88% (Nur Azizah & Murtafi'ah 2021, n = 22)",
    "standard_group": "rises, by less than home room (Sriyono et al. 2017)",
    "no_intervention": "unchanged (control groups of both studies)",
}


def calibration_table(outcomes: pd.DataFrame) -> pd.DataFrame:
    """Per arm: mean questionnaire totals and % of the maximum at pre, post and follow-up."""
    rows = []
    maximum = QUESTIONNAIRE.maximum
    for arm in ARMS:
        o = outcomes[outcomes["scenario"] == arm]
        row = {"scenario": arm, "runs": len(o)}
        for when in ("pre", "post", "followup"):
            values = o[f"questionnaire_{when}"]
            half = 1.96 * values.std(ddof=1) / np.sqrt(len(values))
            row[when] = f"{values.mean():.1f} ({100 * values.mean() / maximum:.1f}%) ± {half:.1f}"
        row["field anchor"] = ANCHORS[arm]
        rows.append(row)
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=100)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "calibration")
    args = parser.parse_args(argv)
    if args.reps < 2:
        parser.error(f"--reps: must be at least 2 (got {args.reps})")
    files = [ROOT / "scenarios" / f"{arm}.toml" for arm in ARMS]
    comparison = compare(files, args.reps, seed=args.seed, workers=args.workers)
    table = calibration_table(comparison.outcomes)
    text = (
        f"# Calibration: questionnaire totals (35-140), mean over {args.reps} paired "
        "replications, ± half-width of the 95% CI\n\n"
        + markdown_table(Table.from_frame(table))
        + "\n"
    )
    with atomic_file(args.out / "calibration.md") as handle:
        handle.write(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
