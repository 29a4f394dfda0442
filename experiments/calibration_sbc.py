"""Does the calibration pipeline recover known parameters? A simulation-based check.

Draws true parameters from the priors of the seed-anchor calibration
(calibrations/seed_anchor.toml: counselor warmth, psychoeducation rate, cohort attitude),
simulates its home-room targets at them (pre- and post-test means) as if they were field
data, calibrates to that data with the same ABC-SMC and records whether each parameter's 50%
and 90% credible intervals cover the truth (Talts et al. 2018). A calibrated
pipeline covers in about 50% and 90% of cases; ABC with a tolerance above zero errs towards
wide intervals (over-coverage).

To fit 20+ calibrations into minutes, the home-room arm runs a smaller cohort (6 faculties of
8, 6 burn-in weeks, two groups of 6 clients) and a smaller ABC budget than `make calibrate`,
and the control arm (whose gain hardly depends on these parameters) is left out; the priors,
statistics, measurement model and ABC-SMC are the shipped ones.

Writes out/calibration_sbc/: coverage.csv (one row per calibration and parameter),
coverage.png and sbc.md (the table docs/calibration.md quotes).

Usage:
    python experiments/calibration_sbc.py [--reps 20] [--workers 2] [--seed 15] [--out DIR]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy import stats

from groupsim.calibrate.checks import synthetic_coverage
from groupsim.calibrate.simulate import build_problem
from groupsim.calibrate.spec import Abc, Calibration, load_calibration
from groupsim.document.blocks import Table
from groupsim.document.figures import save_figure, styled
from groupsim.document.render import markdown_table
from groupsim.runs.backends import make_backend
from groupsim.runs.store import atomic_file

ROOT = Path(__file__).resolve().parent.parent
#: The smaller cohort and calendar of the check's arms.
SMALL = {
    "cohort.faculties": 6,
    "cohort.students_per_faculty": 8,
    "cohort.burn_in_weeks": 6,
    "program.groups": 2,
    "group.clients": 6,
    "program.followup_weeks": 0,
}
#: The smaller ABC budget.
BUDGET = Abc(population=20, min_population=20, max_population=30, generations=3,
             max_simulations=150, predictive_draws=20)  # fmt: skip


def reduced_calibration() -> Calibration:
    """The seed-anchor calibration with the treated arm alone, a smaller cohort and budget.

    The control arm's gain hardly depends on the three parameters (no group meets), so it is
    left out of the check, which halves its cost.
    """
    shipped = load_calibration(ROOT / "calibrations" / "seed_anchor.toml")
    treated = shipped.arms[0].model_copy(update={"set": SMALL})
    return shipped.model_copy(
        update={
            "abc": BUDGET,
            "arms": (treated,),
            "targets": tuple(t for t in shipped.targets if t.arm == treated.name),
        }
    )


def wilson(hits: int, n: int) -> tuple[float, float]:
    """Wilson's 95% interval of a proportion."""
    result = stats.binomtest(hits, n).proportion_ci(confidence_level=0.95, method="wilson")
    return float(result.low), float(result.high)


def summary(coverage: pd.DataFrame) -> pd.DataFrame:
    """Coverage per parameter and overall, with Wilson 95% intervals."""
    rows = []
    groups = [*coverage.groupby("parameter", sort=False), ("all parameters", coverage)]
    for name, part in groups:
        row: dict[str, object] = {"parameter": name, "calibrations": part["rep"].nunique()}
        for level in ("50", "90"):
            hits, n = int(part[f"covered_{level}"].sum()), len(part)
            low, high = wilson(hits, n)
            row[f"{level}% interval covers"] = f"{hits}/{n} = {hits / n:.0%} ({low:.0%}-{high:.0%})"
        row["median abs. error"] = f"{(part['median'] - part['truth']).abs().median():.3f}"
        rows.append(row)
    return pd.DataFrame(rows)


def coverage_figure(coverage: pd.DataFrame) -> Figure:
    """Per parameter: true value against the posterior median with its 90% interval."""
    with styled():
        names = list(dict.fromkeys(coverage["parameter"]))
        fig = Figure(figsize=(3.6 * len(names), 3.4), layout="constrained")
        axes = fig.subplots(1, len(names), squeeze=False)[0]
        for ax, name in zip(axes, names, strict=True):
            part = coverage[coverage["parameter"] == name]
            colors = np.where(part["covered_90"], "tab:blue", "tab:red")
            ax.vlines(part["truth"], part["low_90"], part["high_90"], colors=colors, alpha=0.6)
            ax.scatter(part["truth"], part["median"], c=colors, s=14, zorder=3)
            low = min(part["low_90"].min(), part["truth"].min())
            high = max(part["high_90"].max(), part["truth"].max())
            ax.plot([low, high], [low, high], color="0.5", lw=1, ls="--")
            ax.set_xlabel(f"true {name}")
            ax.set_ylabel("posterior median, 90% interval")
        fig.suptitle("Synthetic calibrations: red = 90% interval misses the truth")
        return fig


def main() -> None:
    """Run the synthetic calibrations and write the coverage table and figure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "calibration_sbc")
    parser.add_argument(
        "--report-only", action="store_true", help="summarise an earlier coverage.csv in --out"
    )
    args = parser.parse_args()
    if args.report_only:
        write_summary(pd.read_csv(args.out / "coverage.csv"), args.out, "(summarised)")
        return
    import logging

    logging.getLogger("ABC").setLevel(logging.WARNING)
    start = time.monotonic()

    def save(rows: pd.DataFrame) -> None:  # after every calibration: a long check can be read
        with atomic_file(args.out / "coverage.csv") as handle:
            rows.to_csv(handle, index=False)
        print(f"{rows['rep'].nunique()} of {args.reps} calibrations done", flush=True)

    calibration = reduced_calibration()
    problem = build_problem(calibration)
    coverage = synthetic_coverage(
        calibration, problem, args.reps, args.seed, make_backend(args.workers), on_rep=save
    )
    minutes = (time.monotonic() - start) / 60
    write_summary(coverage, args.out, f"seed {args.seed}, {minutes:.1f} min")


def write_summary(coverage: pd.DataFrame, out: Path, note: str) -> None:
    """The coverage figure and sbc.md (the table docs/calibration.md quotes)."""
    save_figure(coverage_figure(coverage), out, "coverage")
    table = markdown_table(Table.from_frame(summary(coverage)))
    text = f"{coverage['rep'].nunique()} synthetic calibrations ({note})\n\n{table}\n"
    with atomic_file(out / "sbc.md") as handle:
        handle.write(text)
    print(text)


if __name__ == "__main__":
    main()
