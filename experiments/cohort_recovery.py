"""Does cohort import recover known latent scores? Simulated answers, scored back.

Students with known latent scores (uniform 0.1-0.9) answer the model's questionnaire; some
answers are then deleted at random; `groupsim.cohort.scoring.eap_scores` estimates each
score back with the model's fixed item parameters. Reported per condition (instrument x
missing share): the correlation of estimate and truth, the RMSE, the mean posterior SD, and
the mean difference between a fresh simulated total at the estimate and the real total
(complete answer sheets), each with a 95% interval over the students. Writes
out/cohort_recovery/recovery.md and recovery.png/.svg, and copies the figure to docs/img/ with
--docs.

Usage:
    python experiments/cohort_recovery.py [--students N] [--seed S] [--docs]
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from groupsim.cohort.scoring import eap_scores
from groupsim.document.blocks import Table
from groupsim.document.figures import Figure, save_figure, styled
from groupsim.document.render import markdown_table
from groupsim.model.measures import QuestionnaireModel
from groupsim.runs.store import atomic_file
from groupsim.scenario.instrument import Instrument

ROOT = Path(__file__).resolve().parent.parent
INSTRUMENTS = {
    "35 items, 1-4 (the model's)": Instrument(),
    "20 items, 1-5": Instrument(items=20, lowest=1, highest=5),
    "10 items, 1-4": Instrument(items=10),
}
MISSING = (0.0, 0.1, 0.3)


def condition(
    instrument: Instrument, missing: float, students: int, rng: np.random.Generator
) -> tuple[dict, np.ndarray, np.ndarray]:
    """One condition's numbers, and its true and estimated scores."""
    model = QuestionnaireModel.from_instrument(instrument)
    truth = rng.uniform(0.1, 0.9, size=students)
    answers = model.responses(truth, rng).astype(float)
    real_totals = answers.sum(axis=1)
    answers[rng.random(answers.shape) < missing] = np.nan
    estimate, sd = eap_scores(answers, model)
    difference = model.totals(estimate, rng) - real_totals
    correlation = float(np.corrcoef(estimate, truth)[0, 1])
    z = np.arctanh(correlation)
    half = 1.96 / np.sqrt(students - 3)
    se = difference.std(ddof=1) / np.sqrt(students)
    row = {
        "instrument": next(k for k, v in INSTRUMENTS.items() if v == instrument),
        "missing": f"{missing:.0%}",
        "r": f"{correlation:.3f} ({np.tanh(z - half):.3f}-{np.tanh(z + half):.3f})",
        "RMSE": f"{np.sqrt(np.mean((estimate - truth) ** 2)):.3f}",
        "posterior SD": f"{sd.mean():.3f}",
        "simulated - real total": f"{difference.mean():+.2f} ± {1.96 * se:.2f}",
    }
    return row, truth, estimate


def figure(pairs: dict[str, tuple[np.ndarray, np.ndarray]]) -> Figure:
    """Estimate against truth, one panel per instrument (no answers missing)."""
    with styled():
        fig = Figure(figsize=(10, 3.6), layout="constrained")
        axes = fig.subplots(1, len(pairs), sharey=True)
        for ax, (name, (truth, estimate)) in zip(axes, pairs.items(), strict=True):
            ax.scatter(truth, estimate, s=6, alpha=0.4)
            ax.plot([0, 1], [0, 1], color="black", linewidth=1)
            r = np.corrcoef(truth, estimate)[0, 1]
            ax.set_title(f"{name}\nr = {r:.3f}", fontsize=11)
            ax.set_xlabel("true latent score")
        axes[0].set_ylabel("estimated (EAP)")
        fig.suptitle("Scoring simulated answers back with the model's item parameters")
    return fig


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "cohort_recovery")
    parser.add_argument("--docs", action="store_true", help="copy the figure to docs/img/")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    rows, pairs = [], {}
    for name, instrument in INSTRUMENTS.items():
        for missing in MISSING:
            row, truth, estimate = condition(instrument, missing, args.students, rng)
            rows.append(row)
            if missing == 0.0:
                pairs[name] = (truth, estimate)
    table = Table.from_frame(pd.DataFrame(rows))
    args.out.mkdir(parents=True, exist_ok=True)
    with atomic_file(args.out / "recovery.md") as handle:
        handle.write(f"# Cohort import: recovery ({args.students} students, seed {args.seed})\n\n")
        handle.write(markdown_table(table) + "\n")
    paths = save_figure(figure(pairs), args.out, "recovery")
    print(markdown_table(table))
    if args.docs:
        shutil.copy(paths[0], ROOT / "docs" / "img" / "cohort_recovery.png")


if __name__ == "__main__":
    main()
