"""Client-level results of a comparison: what a field study of the questionnaire would report.

A comparison's run-level effect sizes (`Comparison.effects`) standardise by the spread of whole
groups' means across replications, which is far smaller than the spread of single clients. A
field study reports the client-level effect size: :func:`client_effects` gives Cohen's d and
Hedges' g on the questionnaire totals over the pooled client-level SD, with CIs over
replications (`groupsim.study.stats.CLIENT_LEVEL_D`); :func:`arm_summary` gives per arm the
ICC of the post-test (adjusted for the pre-test; groups = replication x group), reliable
change, missing post-tests, attendance and dropout, from `Comparison.clients`; and
:func:`benefit_table`, who benefits: the effect by tercile of a baseline trait.

Example:
    >>> from groupsim import compare
    >>> c = compare(["scenarios/no_intervention.toml", "scenarios/home_room.toml"], reps=2,
    ...             workers=1, overrides={"cohort.students_per_faculty": 6}, label=None)
    >>> list(client_effects(c)["outcome"])
    ['questionnaire_post', 'questionnaire_followup']
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from groupsim.document.blocks import Block, Heading, Paragraph, Table
from groupsim.study.stats import (
    CLIENT_LEVEL_D,
    client_level_effect,
    intraclass_correlation,
    mean_ci,
)
from groupsim.study.wording import _interval, _num, share

if TYPE_CHECKING:
    from groupsim.study.compare import Comparison

__all__ = [
    "CLIENT_OUTCOMES",
    "LITERATURE_SPREADS",
    "arm_summary",
    "benefit_rows",
    "benefit_sentences",
    "benefit_table",
    "client_effects",
    "client_level_blocks",
    "post_icc",
]

#: What the literature reports for the spreads of the arms table, to read the model's against.
#: None of these was a calibration target, and none was measured in student counseling groups.
LITERATURE_SPREADS = (
    "For comparison (orders of magnitude, not targets the model was fitted to, and from adult "
    "psychotherapy, not student counseling groups): group treatments report ICCs of 0.06 on "
    "average (169 ICCs of 37 studies, Kivlighan et al. 2020; 0.02-0.12 in two randomized "
    "trials); 5-10% of psychotherapy clients deteriorate and 30-50% show no reliable benefit "
    "(Lambert & Ogles 2004); about 20% drop out (Swift & Greenberg 2012). No field study has "
    "measured these for home-room groups."
)

#: Client-level questionnaire outcomes: clients-table column -> what it is.
CLIENT_OUTCOMES = {
    "questionnaire_post": "questionnaire total, post-test (35-140)",
    "questionnaire_followup": "questionnaire total, follow-up (35-140)",
}


def _arm(comparison: Comparison, label: str) -> pd.DataFrame:
    return comparison.clients[comparison.clients["scenario"] == label]


def client_effects(comparison: Comparison) -> pd.DataFrame:
    """A row per treatment and questionnaire outcome: its client-level effect against its control.

    Columns: `scenario`, `control`, `outcome`, `clients_treatment`, `clients_control`
    (client-runs with a value), `replications`, `mean`, `control_mean` (over client-runs),
    `difference` (mean paired difference of arm means over replications), `client_sd`
    (pooled), `cohens_d`, `d_low`, `d_high`, `hedges_g`, `g_low`, `g_high`.
    """
    rows = []
    for label in comparison.treatments:
        control = comparison.control_of(label)
        treated, reference = _arm(comparison, label), _arm(comparison, control)
        for outcome in CLIENT_OUTCOMES:
            effect = client_level_effect(treated, reference, outcome)
            rows.append(
                {
                    "scenario": label,
                    "control": control,
                    "outcome": outcome,
                    "clients_treatment": effect.n_treatment,
                    "clients_control": effect.n_control,
                    "replications": effect.replications,
                    "mean": float(treated[outcome].mean()),
                    "control_mean": float(reference[outcome].mean()),
                    "difference": effect.difference,
                    "client_sd": effect.sd,
                    "cohens_d": effect.d,
                    "d_low": effect.d_low,
                    "d_high": effect.d_high,
                    "hedges_g": effect.g,
                    "g_low": effect.g_low,
                    "g_high": effect.g_high,
                }
            )
    return pd.DataFrame(rows, columns=_EFFECT_COLUMNS)


_EFFECT_COLUMNS = [
    "scenario",
    "control",
    "outcome",
    "clients_treatment",
    "clients_control",
    "replications",
    "mean",
    "control_mean",
    "difference",
    "client_sd",
    "cohens_d",
    "d_low",
    "d_high",
    "hedges_g",
    "g_low",
    "g_high",
]


def post_icc(clients: pd.DataFrame) -> float:
    """ICC of the post-test adjusted for the pre-test, groups = replication x group.

    NaN with fewer than two groups or no spread within groups.

    Example:
        >>> frame = pd.DataFrame({"replication": [0, 0, 1, 1], "group": [0, 0, 0, 0],
        ...                       "questionnaire_pre": [60.0, 62.0, 61.0, 60.0],
        ...                       "questionnaire_post": [70.0, 71.0, 80.0, 81.0]})
        >>> round(post_icc(frame), 3)
        0.895
    """
    frame = clients.assign(
        cluster=clients["replication"].astype(np.int64) * 100_000 + clients["group"]
    )
    present = frame.dropna(subset=["questionnaire_post", "questionnaire_pre"])
    if present["cluster"].nunique() < 2 or len(present) <= present["cluster"].nunique():
        return math.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        return intraclass_correlation(present, "questionnaire_post", "cluster", "questionnaire_pre")


def arm_summary(comparison: Comparison) -> pd.DataFrame:
    """A row per arm: client-runs, ICC, reliable change, missing post-tests, attendance, dropout.

    Shares are of client-runs pooled over replications; reliable change (Jacobson-Truax) of
    those with a post-test. Columns: `scenario`, `client_runs`, `icc_post`, `improved`,
    `no_change`, `deteriorated`, `post_missing`, `attendance` (share of sessions; NaN without
    a group), `dropout`.
    """
    rows = []
    for label, scenario in zip(comparison.labels, comparison.scenarios, strict=True):
        clients = _arm(comparison, label)
        change = clients["reliable_change"]
        answered = change[change != ""]
        sessions = scenario.program.sessions if scenario.holds_group else 0

        def share(category: str, answered: pd.Series = answered) -> float:
            return float((answered == category).mean()) if len(answered) else math.nan

        rows.append(
            {
                "scenario": label,
                "client_runs": len(clients),
                "icc_post": post_icc(clients),
                "improved": share("improved"),
                "no_change": share("no reliable change"),
                "deteriorated": share("deteriorated"),
                "post_missing": float(clients["post_missing"].mean()),
                "attendance": float((clients["attended"] / sessions).mean())
                if sessions
                else math.nan,
                "dropout": float(clients["dropped_out"].mean()),
            }
        )
    return pd.DataFrame(rows)


def client_level_blocks(comparison: Comparison) -> list[Block]:
    """The report's section on client-level effects, clustering and reliable change."""
    effects = comparison.client_effects
    rows = [
        {
            "scenario": row["scenario"],
            "against": row["control"],
            "outcome": "post-test" if row["outcome"].endswith("post") else "follow-up",
            "client-runs": f"{row['clients_treatment']} / {row['clients_control']}",
            "means": f"{_num(row['mean'], 1)} vs {_num(row['control_mean'], 1)}",
            "difference": _num(row["difference"], 1),
            "client SD": _num(row["client_sd"], 1),
            "Cohen's d": _num(row["cohens_d"], 2),
            "95% CI of d": _interval(row["d_low"], row["d_high"], 2),
            "Hedges' g": _num(row["hedges_g"], 2),
            "95% CI of g": _interval(row["g_low"], row["g_high"], 2),
        }
        for _, row in effects.iterrows()
    ]
    arms = [
        {
            "scenario": row["scenario"],
            "client-runs": int(row["client_runs"]),
            "ICC (post | pre)": _num(row["icc_post"], 2),
            "improved": share(row["improved"]),
            "no reliable change": share(row["no_change"]),
            "deteriorated": share(row["deteriorated"]),
            "post-test missing": share(row["post_missing"]),
            "attendance": share(row["attendance"]),
            "dropped out": share(row["dropout"]),
        }
        for _, row in comparison.arms.iterrows()
    ]
    return [
        Heading("Client-level effects on the questionnaire"),
        Paragraph(
            "What a field study of the questionnaire would report, computed from "
            f"`clients.parquet`: {CLIENT_LEVEL_D}. Unlike the run-level Hedges' g of the "
            "tables below (standardised by the spread of whole groups' means), this d is "
            "comparable with published effect sizes of group counseling."
        ),
        Table.from_frame(pd.DataFrame(rows)),
        Heading("Clients per arm: clustering and reliable change", 3),
        Paragraph(
            "ICC: intraclass correlation of the post-test adjusted for the pre-test, groups = "
            "replication x group (one-way ANOVA estimator; near 0 or slightly negative when "
            "groups hardly differ). Reliable change (Jacobson-Truax) among the clients with a "
            "post-test; shares of client-runs pooled over replications. " + LITERATURE_SPREADS
        ),
        Table.from_frame(pd.DataFrame(arms)),
    ]


def benefit_table(comparison: Comparison) -> pd.DataFrame:
    """Who benefits: each treatment's effect by tercile of a baseline trait.

    The table behind `Comparison.benefits` (see there for its columns): clients' post-program
    social interaction, treatment minus control, paired by replication and client.
    """
    from groupsim.study.compare import MODERATORS, TERCILES

    keys = ["replication", "student_id"]
    rows = []
    for moderator, label in ((m, t) for m in MODERATORS for t in comparison.treatments):
        reference = comparison.clients[
            comparison.clients["scenario"] == comparison.control_of(label)
        ]
        # Cut points from the control arm's clients; under common random numbers every
        # arm of the same size screened the same clients, with the same baseline traits.
        tercile, edges = pd.qcut(
            reference[moderator], 3, labels=list(TERCILES), retbins=True, duplicates="drop"
        )
        if len(edges) != 4:  # too little spread to split in three
            continue
        base = reference[[*keys, "post_social_interaction"]].assign(tercile=tercile.to_numpy())
        treated = comparison.clients[comparison.clients["scenario"] == label]
        pairs = base.merge(
            treated[[*keys, "post_social_interaction"]], on=keys, suffixes=("_ref", "")
        )
        pairs["effect"] = pairs["post_social_interaction"] - pairs["post_social_interaction_ref"]
        for index, name in enumerate(TERCILES):
            part = pairs[pairs["tercile"] == name]
            per_replication = part.groupby("replication")["effect"].mean()
            estimate = mean_ci(per_replication.to_numpy())
            rows.append(
                {
                    "scenario": label,
                    "moderator": moderator,
                    "tercile": name,
                    "trait_low": float(edges[index]),
                    "trait_high": float(edges[index + 1]),
                    "clients": len(part),
                    "effect": estimate.value,
                    "effect_low": estimate.low,
                    "effect_high": estimate.high,
                }
            )
    columns = ["scenario", "moderator", "tercile", "trait_low", "trait_high", "clients"]
    return pd.DataFrame(rows, columns=[*columns, "effect", "effect_low", "effect_high"])


def benefit_sentences(comparison: Comparison, label: str) -> list[str]:
    """Sentences on which tercile of each baseline trait benefited most and least."""
    from groupsim.study.compare import MODERATORS

    benefits = comparison.benefits
    out = []
    for moderator, name in MODERATORS.items():
        rows = benefits[(benefits["scenario"] == label) & (benefits["moderator"] == moderator)]
        rows = rows.dropna(subset=["effect"])
        if len(rows) < 2:
            continue
        best = rows.loc[rows["effect"].idxmax()]
        worst = rows.loc[rows["effect"].idxmin()]
        text = (
            f"By {name}, the effect on post-program social interaction was largest in the "
            f"{best['tercile']} tercile ({_num(best['effect'])}, 95% CI "
            f"{_interval(best['effect_low'], best['effect_high'], 3)}) and smallest in the "
            f"{worst['tercile']} tercile ({_num(worst['effect'])}, 95% CI "
            f"{_interval(worst['effect_low'], worst['effect_high'], 3)})"
        )
        if best["effect_low"] <= worst["effect_high"]:
            text += "; the intervals overlap, so no tercile clearly benefits more"
        out.append(text + ".")
    return out


def benefit_rows(comparison: Comparison) -> pd.DataFrame:
    """The who-benefits table as the report shows it (numbers formatted)."""
    from groupsim.study.compare import MODERATORS

    rows = []
    for _, row in comparison.benefits.iterrows():
        rows.append(
            {
                "scenario": row["scenario"],
                "baseline trait": MODERATORS[row["moderator"]],
                "tercile": f"{row['tercile']} ({row['trait_low']:.2f}-{row['trait_high']:.2f})",
                "client-runs": int(row["clients"]),
                "effect": _num(row["effect"]),
                "95% CI": _interval(row["effect_low"], row["effect_high"], 3),
            }
        )
    return pd.DataFrame(rows)
