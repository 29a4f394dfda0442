"""Predictions that carry the posterior: one calibrated parameter set per replication.

`compare(..., posterior=DIR)` (`groupsim compare --posterior DIR`) draws, for every
replication, one particle of a calibration's weighted posterior (`groupsim.scenario.posterior`)
and applies its values to *every* arm of that replication, so the paired arms (a design and
its control twin) share their parameters as they share their seed: the paired difference
compares designs under one possible state of the world, and the spread of those differences
over replications carries what the calibration left uncertain.

Each replication's draw comes from its own generator, seeded by the replication's seed and a
fixed stream key, so replication r gets the same particle whatever the number of workers, the
backend or the number of replications (a longer study extends a shorter one).

Two intervals are reported per effect:

- the Monte Carlo 95% CI of the mean paired difference (the bootstrap CI of
  `Comparison.effects`): how precisely the replications pin down the *average* effect over the
  posterior; more replications shrink it towards zero width;
- the posterior predictive 90% interval (`predictive_low`, `predictive_high`): the 5th to 95th
  percentile of the per-replication paired differences, each under its own posterior draw.
  It says where the effect of one more group would fall, given both the parameter uncertainty
  and group-to-group chance; more replications do not shrink it.

Example:
    >>> import pandas as pd
    >>> from groupsim.scenario.posterior import Posterior
    >>> table = pd.DataFrame({"counselor.warmth": [0.4, 0.9], "weight": [0.5, 0.5]})
    >>> draws = posterior_draws(Posterior.from_frame(table, "example"), [11, 12, 13])
    >>> list(draws.columns)
    ['replication', 'seed', 'particle', 'counselor.warmth']
    >>> posterior_draws(Posterior.from_frame(table, "example"), [11, 12]).equals(draws.head(2))
    True
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from groupsim.document.blocks import Block, FigureBlock, Heading, Paragraph, Table
from groupsim.document.figures import styled
from groupsim.runs.outputs import POSTERIOR_DRAWS
from groupsim.scenario.posterior import POSTERIOR_FILE, Posterior, load_posterior
from groupsim.study.wording import _decimals, _interval, _num

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from groupsim.scenario import Scenario
    from groupsim.study.compare import Comparison

__all__ = [
    "DRAW_STREAM",
    "PREDICTIVE_LEVEL",
    "posterior_blocks",
    "posterior_draws",
    "posterior_figure",
    "posterior_folder",
    "posterior_overrides",
    "predictive_interval",
    "resolve_posterior",
    "with_draw",
]

#: Key mixed into each replication's seed for its posterior draw: a stream of its own, apart
#: from the run's (which uses the seed alone).
DRAW_STREAM = 0xD2A3
#: Coverage of the posterior predictive interval (5th to 95th percentile).
PREDICTIVE_LEVEL = 0.90


def resolve_posterior(posterior: Posterior | str | Path | None) -> Posterior | None:
    """A posterior as given, or read from a `groupsim calibrate` folder (ScenarioError if bad)."""
    if posterior is None or isinstance(posterior, Posterior):
        return posterior
    return load_posterior(posterior)


def posterior_folder(posterior: Posterior) -> str:
    """The folder a posterior was read from (its source, if not read from a folder)."""
    source = Path(posterior.source)
    return str(source.parent) if source.name == POSTERIOR_FILE else posterior.source


def posterior_overrides(posterior: Posterior, overrides: dict[str, object]) -> list[str]:
    """The overridden parameters the posterior also sets: a contradiction the caller refuses."""
    return [name for name in overrides if name in posterior.parameters]


def posterior_draws(posterior: Posterior, seeds: list[int]) -> pd.DataFrame:
    """One particle per replication, drawn by weight from the replication's own seed.

    Columns: `replication`, `seed`, `particle` (0-based: `groupsim run --posterior DIR --draw
    K` runs it alone) and one column per posterior parameter (its dotted path) with the value
    the replication's arms ran with (`groupsim.runs.outputs.POSTERIOR_DRAWS`).
    """
    rows = []
    for replication, seed in enumerate(seeds):
        rng = np.random.default_rng(np.random.SeedSequence([seed, DRAW_STREAM]))
        (particle,) = posterior.sample_particles(1, rng)
        ids = {"replication": replication, "seed": seed, "particle": particle}
        rows.append(ids | posterior.draw(particle))
    columns = [*POSTERIOR_DRAWS, *posterior.parameters]
    return pd.DataFrame(rows, columns=columns).astype(
        {name: dtype for name, (dtype, _) in POSTERIOR_DRAWS.items()}
    )


def with_draw(
    scenario: Scenario, posterior: Posterior | None, draws: pd.DataFrame, replication: int
) -> Scenario:
    """The scenario with replication `replication`'s posterior draw applied (if a posterior).

    Every parameter of the draw is set, in every arm: a parameter of a section the arm does
    not use (the counselor's warmth in an arm without a group) changes nothing in its runs.
    """
    if posterior is None:
        return scenario
    row = draws.iloc[replication]
    return posterior.apply(scenario, {name: float(row[name]) for name in posterior.parameters})


def predictive_interval(differences: np.ndarray) -> tuple[float, float]:
    """The central `PREDICTIVE_LEVEL` range of per-replication differences (NaN if < 2)."""
    present = differences[~np.isnan(differences)]
    if len(present) < 2:
        return float("nan"), float("nan")
    tail = 100 * (1 - PREDICTIVE_LEVEL) / 2
    low, high = np.percentile(present, [tail, 100 - tail])
    return float(low), float(high)


# ---------------------------------------------------------------- report


def _parameter_table(comparison: Comparison) -> pd.DataFrame:
    """Each varied parameter: the posterior's median and 90% range, and the draws used."""
    posterior, draws = comparison.posterior, comparison.draws
    assert posterior is not None
    rows = []
    for name in posterior.parameters:
        used = draws[name].to_numpy()
        rows.append(
            {
                "parameter": f"`{name}`",
                "posterior median": _num(posterior.quantile(name, 0.5)),
                "posterior 90% range": _interval(
                    posterior.quantile(name, 0.05), posterior.quantile(name, 0.95), 3
                ),
                "drawn: min-max": _interval(float(used.min()), float(used.max()), 3),
            }
        )
    return pd.DataFrame(rows)


def _interval_table(comparison: Comparison) -> pd.DataFrame:
    """Post-program effects: Monte Carlo CI beside the posterior predictive interval."""
    effects = comparison.effects
    rows = effects[
        effects["scenario"].isin(comparison.treatments)
        & effects["outcome"].isin(["post_social_interaction", "questionnaire_post"])
    ]
    table = []
    for _, row in rows.iterrows():
        digits = _decimals(row["unit"])
        monte_carlo = row["difference_high"] - row["difference_low"]
        predictive = row["predictive_high"] - row["predictive_low"]
        table.append(
            {
                "outcome": row["description"],
                "scenario": f"{row['scenario']} vs {row['reference']}",
                "difference": _num(row["difference"], digits),
                "Monte Carlo 95% CI": _interval(
                    row["difference_low"], row["difference_high"], digits
                ),
                "predictive 90% interval": _interval(
                    row["predictive_low"], row["predictive_high"], digits
                ),
                "width ratio": f"{predictive / monte_carlo:.1f}" if monte_carlo > 0 else "-",
            }
        )
    return pd.DataFrame(table)


def technique_note(comparison: Comparison) -> str | None:
    """A warning when a posterior sets a practice in arms of different techniques, else None.

    A `technique.*` column sets that practice in every arm: harmless in an arm without a group,
    but in two designs of different techniques it makes them alike in that practice.
    """
    posterior = comparison.posterior
    assert posterior is not None
    practices = [name for name in posterior.parameters if name.startswith("technique.")]
    designs = {
        label: scenario.counselor.technique
        for label, scenario in zip(comparison.labels, comparison.scenarios, strict=True)
        if scenario.holds_group
    }
    if not practices or len(set(designs.values())) < 2:
        return None
    return (
        f"Note: the posterior sets {', '.join(f'`{p}`' for p in practices)} in every arm, so "
        f"the designs {', '.join(designs)}, of different techniques, share that practice's "
        "value in each replication; calibrate a practice of one technique only for "
        "comparisons of that technique with controls."
    )


def posterior_sentences(comparison: Comparison) -> list[str]:
    """What the predictive intervals say, in words, for the report's summary."""
    effects = comparison.effects.set_index(["outcome", "scenario"])
    sentences = []
    for label in comparison.treatments:
        row = effects.loc[("post_social_interaction", label)]
        monte_carlo = row["difference_high"] - row["difference_low"]
        predictive = row["predictive_high"] - row["predictive_low"]
        ratio = predictive / monte_carlo if monte_carlo > 0 else float("inf")
        wider = "wider" if predictive > monte_carlo else "not wider"
        predicted = _interval(row["predictive_low"], row["predictive_high"], 3)
        sentences.append(
            f"Under parameter uncertainty, {label}'s effect on post-program social interaction "
            f"in one more group would fall in {predicted} "
            f"(posterior predictive 90% interval), {ratio:.1f} times as wide as its Monte Carlo "
            f"95% CI {_interval(row['difference_low'], row['difference_high'], 3)}: the "
            f"predictive interval is {wider}, as it includes what the calibration left "
            "uncertain, while the Monte Carlo CI shows only simulation noise in the average."
        )
    return sentences


#: Parameters drawn as panels of the posterior figure (the posterior's first ones).
FIGURE_PARAMETERS = 4
#: Caption of `posterior.png`.
FIGURE_CAPTION = (
    "Each replication's paired effect on clients' post-program social interaction against the "
    "value its posterior draw gave each parameter (one panel per parameter, at most "
    f"{FIGURE_PARAMETERS}). Wide pale band: the posterior predictive 90% interval; narrow dark "
    "band: the Monte Carlo 95% CI of the mean effect. A slope shows the parameter driving the "
    "effect's uncertainty."
)


def posterior_figure(comparison: Comparison) -> Figure:
    """Per-replication effects against the drawn parameter values, with both intervals."""
    from matplotlib.figure import Figure

    from groupsim.study.figures import scenario_colors

    assert comparison.posterior is not None
    outcome = "post_social_interaction"
    names = list(comparison.posterior.parameters[:FIGURE_PARAMETERS])
    colors = scenario_colors(comparison.labels)
    table = comparison.outcomes.pivot(index="replication", columns="scenario", values=outcome)
    effects = comparison.effects.set_index(["outcome", "scenario"])
    draws = comparison.draws.set_index("replication")
    with styled():
        fig = Figure(figsize=(max(6.5, 3.6 * len(names) + 1.0), 4.0), layout="constrained")
        axes = fig.subplots(1, len(names), sharey=True, squeeze=False)[0]
        for ax, name in zip(axes, names, strict=True):
            for label in comparison.treatments:
                paired = table[label] - table[comparison.control_of(label)]
                row = effects.loc[(outcome, label)]
                color = colors[label]
                ax.axhspan(row["predictive_low"], row["predictive_high"], color=color, alpha=0.12)
                ax.axhspan(row["difference_low"], row["difference_high"], color=color, alpha=0.4)
                ax.scatter(draws.loc[paired.index, name], paired, s=14, color=color, label=label)
            ax.axhline(0, color="black", lw=0.8)
            ax.set_xlabel(name)
        axes[0].set_ylabel("paired effect, one replication (0-1)")
        axes[0].legend(title="scenario", frameon=False, fontsize=8, loc="best")
        fig.suptitle(
            f"Effect under parameter uncertainty ({comparison.reps} replications, "
            "one posterior draw each)"
        )
    return fig


def posterior_blocks(comparison: Comparison) -> list[Block]:
    """The report section on the posterior: where from, what varied, what it does to effects."""
    posterior = comparison.posterior
    if posterior is None:
        return []
    count = comparison.draws["particle"].nunique()
    return [
        Heading("Parameter uncertainty (posterior)"),
        Paragraph(
            f"Parameters drawn from the calibration posterior in `{posterior_folder(posterior)}` "
            f"({len(posterior)} weighted particles): each replication drew one particle by "
            f"weight ({count} distinct particles over {comparison.reps} replications) and ran "
            "every arm with its values, so paired arms share their parameters as they share "
            "their seed. Parameters of a section an arm does not use (e.g. the counselor's in "
            "an arm without a group) change nothing in that arm. `draws.csv` lists each "
            "replication's particle and values; `groupsim run SCENARIO --posterior DIR --draw "
            "K` runs particle K alone."
        ),
        Table.from_frame(_parameter_table(comparison)),
        *([Paragraph(note)] if (note := technique_note(comparison)) else []),
        Paragraph(
            "Two intervals per effect. The Monte Carlo 95% CI (bootstrap over replications) "
            "shows only simulation noise: how precisely these replications estimate the "
            "average effect over the posterior; it shrinks as replications grow. The posterior "
            f"predictive {PREDICTIVE_LEVEL:.0%} interval is the 5th to 95th percentile of the "
            "replications' paired effects, each under its own parameter draw: it includes the "
            "parameter uncertainty (and group-to-group chance) and so is wider; it does not "
            "shrink with more replications. It is as trustworthy as the calibration: a "
            "mechanism the model lacks is not in it."
        ),
        Table.from_frame(_interval_table(comparison)),
        FigureBlock("posterior", FIGURE_CAPTION, lambda: posterior_figure(comparison)),
    ]
