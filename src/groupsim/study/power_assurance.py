"""Assurance: the power of a design integrated over a calibrated posterior (`power --posterior`).

Power at fixed parameters answers "how often would my study succeed if the model's parameters
were exactly these?". A calibration (`groupsim calibrate`) says how uncertain the parameters
are; *assurance* (O'Hagan, Stevens & Campbell 2005, Pharm Stat 4:187) is the probability the
study succeeds once that uncertainty is integrated over: every simulated study draws ONE
parameter set from the posterior, applies it to both arms (one world per study: the treatment
and the control groups of a study share it), and is analysed like any other study. Where
power at the posterior median is high, spreading the parameters over the posterior mostly
lowers it (power is concave there), so assurance lies below it; a design chosen on assurance
is robust to what the calibration could not pin down.

Layout: study i draws its parameter set with its own generator, spawned from the analysis'
seed (`study_draws`), so the draws do not depend on workers or backend. Each arm gets, per
group size, a slot of `max(groups)` runs per study, on the same run seeds as the pools of the
power analysis at the posterior median (common random numbers: the two differ only in the
parameters); study i of the design with k groups per arm uses the first k runs of slot i of
each arm, so a study's groups all share study i's draw.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from groupsim.document.blocks import Block, Heading, Paragraph, Table
from groupsim.runs.execute import map_tasks
from groupsim.scenario import Scenario
from groupsim.scenario.posterior import Posterior, load_posterior
from groupsim.study.power_studies import analyse_study, rejection_rate

if TYPE_CHECKING:
    from groupsim.runs.backends import Backend
    from groupsim.study.power import PowerAnalysis

__all__ = [
    "ASSURANCE_KEY",
    "DRAW_PREFIX",
    "as_posterior",
    "assurance_blocks",
    "assurance_studies",
    "assurance_table",
    "study_draws",
]

#: The spawn key of the draws' generators (`numpy.random.SeedSequence(seed, spawn_key=...)`),
#: apart from the runs' seeds.
ASSURANCE_KEY = 15
#: Prefix of the draw's parameters in the assurance studies' table (`draw:counselor.warmth`).
DRAW_PREFIX = "draw:"


def as_posterior(posterior: Posterior | str | Path) -> Posterior:
    """A `Posterior`, or one read from a calibration folder (ScenarioError if it is bad)."""
    return posterior if isinstance(posterior, Posterior) else load_posterior(posterior)


def study_draws(posterior: Posterior, reps: int, seed: int) -> list[dict[str, float]]:
    """One parameter set per study: study i samples by weight with its own generator.

    The generator of study i is spawned from `seed` with key (ASSURANCE_KEY, i), so study i
    draws the same parameter set whatever the number of studies, workers or backend.
    """
    draws = []
    for i in range(reps):
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(ASSURANCE_KEY, i)))
        draws.append(posterior.sample(1, rng)[0])
    return draws


def assurance_studies(
    arms: dict[str, Scenario],
    posterior: Posterior,
    design: tuple[int, ...],
    reps: int,
    sizes: tuple[int, ...],
    arm_seeds: dict[str, list[int]],
    seed: int,
    *,
    workers: int | None = None,
    label: str | None = None,
    backend: Backend | None = None,
) -> pd.DataFrame:
    """A row per study of every design, each under its own posterior draw (see the module).

    `arms` are the scenarios before any draw ("treatment", "control"); `arm_seeds[arm]` holds
    at least `max(design) * reps` run seeds. Columns: `clients_per_group`, `groups`, `study`,
    the draw (`draw:<dotted path>`) and everything `analyse_study` returns.
    """
    from groupsim.scenario import with_clients
    from groupsim.study.power import group_totals

    draws = study_draws(posterior, reps, seed)
    slot = max(design)
    keys = [(arm, m, i) for arm in arms for m in sizes for i in range(reps)]
    tasks = []
    for arm, m, i in keys:
        scenario = posterior.apply(with_clients(arms[arm], m), draws[i])
        tasks += [(scenario, s) for s in arm_seeds[arm][i * slot : (i + 1) * slot]]
    runs = iter(map_tasks(group_totals, tasks, workers, label, backend=backend))
    slots = {key: [next(runs) for _ in range(slot)] for key in keys}
    studies = [(m, k, i) for m in sizes for k in design for i in range(reps)]
    pairs = [(slots[("treatment", m, i)][:k], slots[("control", m, i)][:k]) for m, k, i in studies]
    results = map_tasks(analyse_study, pairs, workers, None, backend=backend)
    rows = []
    for (m, k, i), result in zip(studies, results, strict=True):
        drawn = {f"{DRAW_PREFIX}{name}": value for name, value in draws[i].items()}
        rows.append({"clients_per_group": m, "groups": k, "study": i, **drawn, **result})
    return pd.DataFrame(rows)


def assurance_table(table: pd.DataFrame, studies: pd.DataFrame, alpha: float) -> pd.DataFrame:
    """`table` (a row per design) with the primary test's assurance and its Wilson 95% CI.

    Adds `assurance`, `assurance_low`, `assurance_high` (share of the posterior studies with
    p < alpha), `assurance_studies` and `assurance_mean_effect` (the mixed model's mean
    adjusted difference over the draws, points).
    """
    rows: list[dict[str, Any]] = []
    for (m, k), design in studies.groupby(["clients_per_group", "groups"], sort=True):
        rows.append(
            {
                "clients_per_group": int(m),
                "groups_per_arm": int(k),
                "assurance_studies": len(design),
                "assurance_mean_effect": float(design["effect"].mean()),
                **rejection_rate(design["p_primary"], alpha, "assurance"),
            }
        )
    extra = pd.DataFrame(rows)
    return table.merge(extra, on=["clients_per_group", "groups_per_arm"], how="left")


def draw_columns(studies: pd.DataFrame) -> Sequence[str]:
    """The assurance studies' columns that hold the draw's parameters."""
    return [c for c in studies.columns if c.startswith(DRAW_PREFIX)]


# ---------------------------------------------------------------------------- the report


def _assurance_rows(analysis: PowerAnalysis) -> tuple[list[str], list[list[str]]]:
    from groupsim.study.power_report import rate_cell

    header = [
        "groups per arm",
        "clients per group",
        "power at the posterior median [95% CI]",
        "assurance over the posterior [95% CI]",
        "assurance - power",
        "mean adjusted effect, median / over the draws (points)",
    ]
    rows = []
    for r in analysis.table.to_dict("records"):
        rows.append(
            [
                str(r["groups_per_arm"]),
                str(r["clients_per_group"]),
                rate_cell(r, "power_primary"),
                rate_cell(r, "assurance"),
                f"{r['assurance'] - r['power_primary']:+.2f}",
                f"{r['mean_effect']:.1f} / {r['assurance_mean_effect']:.1f}",
            ]
        )
    return header, rows


def assurance_blocks(analysis: PowerAnalysis) -> list[Block]:
    """With a posterior: assurance beside power at the posterior median."""
    if analysis.assurance_studies is None:
        return []
    studies = analysis.assurance_studies
    spread = "; ".join(
        f"{c.removeprefix(DRAW_PREFIX)} {studies[c].quantile(0.05):.3g} to "
        f"{studies[c].quantile(0.95):.3g}"
        for c in draw_columns(studies)
    )
    return [
        Heading("Assurance: power over what the calibration could not pin down"),
        Paragraph(
            f"Posterior: {analysis.posterior}. Every design above was simulated with both arms "
            f"at the posterior's weighted marginal medians (power at the posterior median). "
            f"Assurance (O'Hagan, Stevens & Campbell 2005) is the share of studies that "
            f"succeed with the primary test when each study draws ONE parameter set from the "
            f"posterior (by weight, with replacement), applied to both arms; "
            f"{int(studies.groupby(['clients_per_group', 'groups']).size().iloc[0])} studies "
            f"per design, the draws' 5-95% range: {spread}. Study i's draw comes from its own "
            f"generator spawned from the seed, and its runs use the same seeds as the "
            f"median's (common random numbers), so the difference is the parameters' doing. "
            f"Where power at the median is high, parameter uncertainty mostly lowers it: "
            f"assurance is the number to plan on. The recommendation above rests on it."
        ),
        Table.from_rows(*_assurance_rows(analysis)),
    ]
