"""Held-out field studies: does the seed-anchor posterior predict the studies it did not see?

Leave-one-study-out needs several studies that each report enough to calibrate on. The field
data (data/field_studies.csv) has one study with means on a known scale (Nur Azizah &
Murtafi'ah 2021, the seed anchor) and three one-group pre/post studies of group guidance that
report only a t statistic, from which d_z = t / sqrt(n) is derived (Nisa et al. 2015,
Ningsih et al. 2015, Fitriani et al. 2022). Without the seed anchor nothing constrains the
parameters on the questionnaire's scale, so it cannot be the one left out; what the data
allows is the other direction: every group-guidance study is left out of the seed-anchor
calibration, and is predicted from its posterior. For each, the standard group is simulated
at posterior draws with the study's own number of clients (groups of about 10), its d_z
computed as the study's, and the observed d_z placed in that predictive distribution.

Writes out/calibration_loso/: loso.csv, loso.png, loso.md.

Usage:
    python experiments/calibration_loso.py [--posterior out/calibration_seed_anchor]
        [--draws 100] [--workers 2] [--seed 15] [--out DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from groupsim.calibrate.data import load_summaries
from groupsim.calibrate.statistics import arm_statistics
from groupsim.document.blocks import Table
from groupsim.document.figures import save_figure, styled
from groupsim.document.render import markdown_table
from groupsim.model.measures import QUESTIONNAIRE
from groupsim.runs.execute import map_tasks, replication_seeds
from groupsim.runs.runner import build_model
from groupsim.runs.store import atomic_file
from groupsim.scenario import load_scenario
from groupsim.scenario.instrument import default_instrument
from groupsim.scenario.posterior import load_posterior

ROOT = Path(__file__).resolve().parent.parent
HELD_OUT = ("Nisa et al.", "Ningsih et al.", "Fitriani et al.")


def design(n: int) -> dict[str, int]:
    """Groups of about 10 clients adding up to the study's n."""
    groups = max(1, round(n / 10))
    return {"program.groups": groups, "group.clients": round(n / groups),
            "program.followup_weeks": 0}  # fmt: skip


def simulate_dz(task: tuple[dict[str, float], int, int]) -> float:
    """The d_z of one simulated group-guidance study (standard group, n clients)."""
    values, n, seed = task
    scenario = load_scenario("standard_group", design(n) | values)
    model = build_model(scenario, seed, record_students=False, record_ties=False,
                        record_weeks=())  # fmt: skip
    model.run_model()
    rng = np.random.default_rng(seed)
    totals = {o: QUESTIONNAIRE.totals(np.nan_to_num(model.latent[o]), rng).astype(float)
              for o in ("pre", "post")}  # fmt: skip
    post = np.where(np.isnan(model.latent["post"]), np.nan, totals["post"])
    return arm_statistics(totals["pre"], post, None, default_instrument())["effect_size"]


def loso_figure(table: pd.DataFrame, draws: dict[str, np.ndarray]) -> Figure:
    """Each held-out study: its predictive distribution of d_z and the observed d_z."""
    with styled():
        fig = Figure(figsize=(7.5, 1.0 + 1.1 * len(table)), layout="constrained")
        ax = fig.subplots()
        for k, row in enumerate(table.itertuples()):
            values = draws[row.study]
            parts = ax.violinplot(
                [values], positions=[k], orientation="horizontal", showextrema=False
            )
            for body in parts["bodies"]:
                body.set_alpha(0.4)
            low, high = np.quantile(values, [0.05, 0.95])
            ax.hlines(k, low, high, color="tab:blue", lw=3)
            ax.plot([row.observed_dz], [k], "o", color="black")
        ax.set_yticks(range(len(table)), [f"{r.study} (n={r.n})" for r in table.itertuples()])
        ax.set_xlabel("d_z, pre to post (group guidance)")
        ax.set_title("Held-out studies: predicted d_z (90% interval) and observed (dot)")
        return fig


def main() -> None:
    """Predict each held-out study from the seed-anchor posterior."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posterior", type=Path, default=ROOT / "out" / "calibration_seed_anchor")
    parser.add_argument("--draws", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "calibration_loso")
    args = parser.parse_args()
    posterior = load_posterior(args.posterior)
    studies = load_summaries(ROOT / "data" / "field_studies.csv")
    rows, draws = [], {}
    for index, study in enumerate(HELD_OUT):
        row = studies[studies["study"] == study].iloc[0]
        n = int(row["n"])
        values = posterior.sample(args.draws, np.random.default_rng([args.seed, index]))
        seeds = replication_seeds(args.seed + index, args.draws)
        tasks = [(v, n, s) for v, s in zip(values, seeds, strict=True)]
        simulated = np.asarray(map_tasks(simulate_dz, tasks, workers=args.workers, label=study))
        simulated = simulated[np.isfinite(simulated)]
        draws[study] = simulated
        low, median, high = np.quantile(simulated, [0.05, 0.5, 0.95])
        observed = float(row["effect_size"])
        rows.append(
            {
                "study": study,
                "n": n,
                "observed_dz": observed,
                "predictive_median": round(float(median), 2),
                "low_5": round(float(low), 2),
                "high_95": round(float(high), 2),
                "percentile_of_observed": round(float((simulated < observed).mean() * 100), 1),
            }
        )
    table = pd.DataFrame(rows)
    with atomic_file(args.out / "loso.csv") as handle:
        table.to_csv(handle, index=False)
    save_figure(loso_figure(table, draws), args.out, "loso")
    text = f"{args.draws} posterior draws per study\n\n{markdown_table(Table.from_frame(table))}\n"
    with atomic_file(args.out / "loso.md") as handle:
        handle.write(text)
    print(text)


if __name__ == "__main__":
    main()
