"""What a calibration writes: posterior, diagnostics, predictive check, figures, report, bundle.

Every file goes into the output folder at once (`groupsim.runs.store.write_folder`):

- ``posterior.parquet``: the last generation's weighted particles, one column per dotted
  parameter path and ``weight`` (the format `groupsim.scenario.posterior` reads);
- ``diagnostics.csv``: per generation epsilon, particles, simulations, acceptance rate and
  effective sample size (Kish);
- ``predictive.csv``: per target the observed value and the posterior predictive median and
  90% interval (simulations at posterior draws, the data's own sample sizes);
- ``marginals``, ``pairs``, ``predictive`` and ``diagnostics`` figures (PNG + SVG);
- ``report.md`` / ``report.html``;
- the bundle: ``scenario_ARM.toml`` (each arm at the posterior median), ``calibration.toml``
  (the file as run) and ``history.db`` (pyABC's database, for ``--resume``).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyabc

from groupsim.calibrate.figures import (
    diagnostics_figure,
    marginals_figure,
    pairs_figure,
    predictive_figure,
)
from groupsim.calibrate.simulate import Problem, parameter_key
from groupsim.calibrate.spec import Calibration
from groupsim.document.blocks import (
    Block,
    BulletList,
    Code,
    Document,
    FigureBlock,
    Heading,
    Paragraph,
    Table,
)
from groupsim.document.render import write_document
from groupsim.runs.backends import Backend
from groupsim.runs.execute import map_tasks, replication_seeds
from groupsim.runs.store import file_stem, write_folder
from groupsim.scenario import scenario_to_toml
from groupsim.scenario.posterior import POSTERIOR_FILE, WEIGHT, Posterior

__all__ = [
    "DIAGNOSTICS_FILE",
    "PREDICTIVE_FILE",
    "Results",
    "diagnostics_table",
    "posterior_frame",
    "posterior_summary",
    "predictive_check",
    "write_results",
]

#: The predictive interval: 5% to 95%.
INTERVAL = (0.05, 0.95)
#: The folder's diagnostics (a row per generation) and predictive check (a row per target).
DIAGNOSTICS_FILE = "diagnostics.csv"
PREDICTIVE_FILE = "predictive.csv"


@dataclass(frozen=True)
class Results:
    """A finished calibration: its posterior, diagnostics and predictive check."""

    calibration: Calibration
    problem: Problem
    posterior: Posterior
    diagnostics: pd.DataFrame
    predictive: pd.DataFrame
    draws: pd.DataFrame


def posterior_frame(history: pyabc.History, problem: Problem) -> pd.DataFrame:
    """The last generation: one column per dotted path (in the file's order) and `weight`."""
    particles, weights = history.get_distribution(m=0, t=history.max_t)
    frame = pd.DataFrame(
        {path: particles[parameter_key(path)].to_numpy(float) for path in problem.parameters}
    )
    frame[WEIGHT] = np.asarray(weights, dtype=float)
    Posterior.from_frame(frame, POSTERIOR_FILE)  # the reader's checks, before anything is written
    return frame


def diagnostics_table(history: pyabc.History) -> pd.DataFrame:
    """Per generation: epsilon, particles, simulations, acceptance rate, ESS."""
    populations = history.get_all_populations()
    populations = populations[populations["t"] >= 0]
    rows = []
    for t, epsilon, samples, particles in populations[
        ["t", "epsilon", "samples", "particles"]
    ].itertuples(index=False):
        _, weights = history.get_distribution(m=0, t=int(t))
        w = np.asarray(weights, dtype=float)
        rows.append(
            {
                "generation": int(t),
                "epsilon": float(epsilon),
                "particles": int(particles),
                "simulations": int(samples),
                "acceptance_rate": float(particles) / float(samples),
                "ess": float(w.sum() ** 2 / (w**2).sum()),
            }
        )
    return pd.DataFrame(rows)


def _predict(task: tuple[Problem, dict[str, float], int]) -> dict[str, float]:
    problem, values, seed = task
    return problem.simulate(values, seed)


def predictive_check(
    problem: Problem, posterior: Posterior, draws: int, seed: int, backend: Backend
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Simulate every target at `draws` posterior draws; the summary and the draws.

    Returns:
        (summary, simulated): the summary has a row per target (observed, predictive
        median, 5% and 95% quantiles, whether the interval covers the observed value);
        `simulated` has a row per draw and a column per target.
    """
    rng = np.random.default_rng(np.random.SeedSequence([seed, 1]))
    parameter_sets = posterior.sample(draws, rng)
    seeds = replication_seeds(seed + 1, draws)
    tasks = [(problem, values, s) for values, s in zip(parameter_sets, seeds, strict=True)]
    results = map_tasks(
        _predict, tasks, label="predictive check", backend=backend, unit="posterior draws"
    )
    simulated = pd.DataFrame(
        [[r[f"t{i}"] for i in range(len(problem.labels))] for r in results],
        columns=list(problem.labels),
    )
    rows = []
    for label, observed in zip(problem.labels, problem.observed, strict=True):
        values = simulated[label].dropna().to_numpy()
        low, median, high = np.quantile(values, [INTERVAL[0], 0.5, INTERVAL[1]])
        rows.append(
            {
                "target": label,
                "observed": observed,
                "predictive_median": float(median),
                "low_5": float(low),
                "high_95": float(high),
                "covered": bool(low <= observed <= high),
            }
        )
    return pd.DataFrame(rows), simulated


def posterior_summary(posterior: Posterior) -> pd.DataFrame:
    """Per parameter: the weighted median and the 90% credible interval (`INTERVAL`).

    The report's posterior table and the command line's summary.
    """
    return pd.DataFrame(
        [
            {
                "parameter": name,
                "median": posterior.quantile(name, 0.5),
                "low_5": posterior.quantile(name, INTERVAL[0]),
                "high_95": posterior.quantile(name, INTERVAL[1]),
            }
            for name in posterior.parameters
        ]
    )


def _fmt(value: float) -> str:
    return f"{value:.3g}" if abs(value) < 1 else f"{value:.1f}"


def report_document(results: Results) -> Document:
    """The report: what was fitted, the posterior, the diagnostics and the predictive check."""
    c = results.calibration
    post = results.posterior
    diag = results.diagnostics
    pred = results.predictive
    covered = int(pred["covered"].sum())
    summary_rows = [
        (
            row.parameter,
            f"{row.median:.3g}",
            f"{row.low_5:.3g} to {row.high_95:.3g}",
            next(p.prior for p in c.parameters if p.path == row.parameter),
        )
        for row in posterior_summary(post).itertuples()
    ]
    doc = Document(f"Calibration: {c.calibration.name}")
    doc.blocks += [
        Paragraph(c.calibration.description or "A calibration of groupsim to field data."),
        Paragraph(
            f"ABC-SMC (pyABC) over {len(post.parameters)} parameters and "
            f"{len(results.problem.labels)} targets: {len(diag)} generations, "
            f"{int(diag['simulations'].sum())} simulated particles, final epsilon "
            f"{diag['epsilon'].iloc[-1]:.3g}, {len(post)} particles (ESS "
            f"{diag['ess'].iloc[-1]:.0f}). The posterior predictive 90% interval covers "
            f"{covered} of {len(pred)} targets."
        ),
        Heading("Posterior"),
        Table.from_rows(["parameter", "median", "90% credible interval", "prior"], summary_rows),
        FigureBlock(
            "marginals",
            "Marginal posteriors (bars, weighted) against the priors (lines).",
            lambda: marginals_figure(post, c.parameters),
        ),
        FigureBlock(
            "pairs", "Pairs of parameters: particles, sized by weight.", lambda: pairs_figure(post)
        ),
        Heading("Posterior predictive check"),
        Paragraph(
            "Each target simulated at "
            f"{len(results.draws)} posterior draws with the data's own sample sizes: "
            "observed value, predictive median and 90% interval."
        ),
        Table.from_rows(
            ["target", "observed", "predictive median", "90% interval", "covered"],
            [
                (
                    r.target,
                    _fmt(r.observed),
                    _fmt(r.predictive_median),
                    f"{_fmt(r.low_5)} to {_fmt(r.high_95)}",
                    "yes" if r.covered else "NO",
                )
                for r in pred.itertuples()
            ],
        ),
        FigureBlock(
            "predictive",
            "Posterior predictive 90% intervals (bars) and medians (ticks) against the "
            "observed values (dots).",
            lambda: predictive_figure(pred),
        ),
        Heading("Diagnostics"),
        Table.from_frame(diag.round(4)),
        FigureBlock(
            "diagnostics",
            "Epsilon, acceptance rate and effective sample size by generation.",
            lambda: diagnostics_figure(diag),
        ),
        Heading("Use it"),
        Code(
            "groupsim compare --posterior THIS_FOLDER ...\n"
            "groupsim run --posterior THIS_FOLDER --draw 0 ..."
        ),
        Paragraph("The scenarios `scenario_ARM.toml` hold each arm at the posterior median."),
        *_cannot_know(results),
    ]
    return doc


def _cannot_know(results: Results) -> list[Block]:
    """What the posterior cannot say, with this calibration's own numbers (docs/calibration.md)."""
    count = len(results.posterior.parameters)
    parameters = f"{count} calibrated parameter" + ("s" if count != 1 else "")
    targets = len(results.problem.labels)
    epsilon = results.diagnostics["epsilon"].iloc[-1]
    return [
        Heading("What this calibration cannot know"),
        BulletList(
            [
                f"A wrong mechanism stays wrong. The posterior says which values of the "
                f"{parameters} make this model reproduce the {targets} targets; if a "
                f"mechanism is wrong, the posterior is confidently wrong too. The "
                f"predictive check above, and studies left out of the calibration "
                f"(docs/calibration.md), are where that would show.",
                f"Uncertainty is carried by the {parameters} alone: every other parameter "
                f"keeps its scenario value, and its uncertainty is in no interval drawn from "
                f"this posterior. A parameter the targets do not inform keeps roughly its "
                f"prior (compare the marginals with the priors).",
                f"ABC is approximate: the final tolerance (epsilon {epsilon:.3g}) widens the "
                f"posterior; a larger budget (`max_simulations`) lets it fall further.",
            ]
        ),
    ]


def write_results(results: Results, out: Path, database: Path) -> Path:
    """Write every output into `out` at once (the history database is copied in last)."""
    tables = {
        POSTERIOR_FILE: posterior_frame_of(results.posterior),
        DIAGNOSTICS_FILE: results.diagnostics,
        PREDICTIVE_FILE: results.predictive,
        "predictive_draws.csv": results.draws,
    }
    median = results.posterior.median()
    document = report_document(results)

    def bundle(folder: Path) -> None:
        for arm in results.problem.scenarios:
            scenario = results.problem.arm_scenario(arm, median)
            (folder / f"scenario_{file_stem(arm)}.toml").write_text(scenario_to_toml(scenario))
        shutil.copyfile(results.calibration.source, folder / "calibration.toml")
        write_document(document, folder)
        if database.resolve() != (folder / "history.db").resolve():
            shutil.copyfile(database, folder / "history.db")

    return write_folder(out, tables, bundle)


def posterior_frame_of(posterior: Posterior) -> pd.DataFrame:
    """A Posterior as the Parquet table: its parameter columns and `weight`."""
    frame = posterior.table.copy()
    frame[WEIGHT] = posterior.weights
    return frame
