"""The power analysis' report: tables, the power curve, the seed design's bias, md and html.

Every number comes from a :class:`~groupsim.study.power.PowerAnalysis`; nothing is typed in.
The report is one :class:`groupsim.document.Document`, written as Markdown and as one
self-contained HTML page by :func:`groupsim.document.render.write_document`; the figures
follow the house convention of :mod:`groupsim.document.figures`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from groupsim.document.blocks import (
    Block,
    Document,
    FigureBlock,
    Heading,
    Note,
    Paragraph,
    Table,
)
from groupsim.document.render import write_document
from groupsim.model.measures import QUESTIONNAIRE
from groupsim.runs.store import write_folder
from groupsim.study.power_figures import POINTS, bias_figure, power_curve_figure

if TYPE_CHECKING:
    from groupsim.scenario import Scenario
    from groupsim.study.power import PowerAnalysis

__all__ = [
    "ASSURANCE_FILES",
    "REPORT_FILES",
    "formula_agreement",
    "rate_cell",
    "report_document",
    "write_report",
]

#: What `PowerAnalysis.report` (and `groupsim power --out`) writes.
REPORT_FILES = (
    "power.csv",
    "studies.csv",
    "null_studies.csv",
    "clustering.csv",
    "icc_sensitivity.csv",
    "groups_needed.csv",
    "seed_design.csv",
    "power_curve.png",
    "power_curve.svg",
    "seed_design_bias.png",
    "seed_design_bias.svg",
    "report.md",
    "report.html",
)
#: What it writes besides, with a posterior.
ASSURANCE_FILES = ("assurance_studies.csv",)


def _ci(value: float, low: float, high: float) -> str:
    return f"{value:.2f} [{low:.2f}, {high:.2f}]"


def rate_cell(row: dict, name: str) -> str:
    """A rate with its CI, or n/a where the test does not apply (NaN) or was not run."""
    if name not in row or row[name] != row[name]:
        return "n/a"
    return _ci(row[name], row[f"{name}_low"], row[f"{name}_high"])


def _power_rows(analysis: PowerAnalysis) -> tuple[list[str], list[list[str]]]:
    from groupsim.study.power import PRIMARY_NAMES

    header = [
        "groups per arm",
        "clients per group",
        "clients in all",
        "post-tests missing",
        "primary test",
        "power, primary test [95% CI]",
        "design-effect formula",
        "power, mixed model [95% CI] (not fitted)",
        "power, cluster-level analysis [95% CI]",
        "power, ANCOVA on group means [95% CI]",
        "power, ANCOVA on clients (liberal) [95% CI]",
        "mean adjusted effect (points)",
    ]
    rows = []
    for r in analysis.table.to_dict("records"):
        rows.append(
            [
                str(r["groups_per_arm"]),
                str(r["clients_per_group"]),
                str(r["clients_total"]),
                f"{100 * r['missing_post']:.1f}%",
                PRIMARY_NAMES[r["primary_test"]],
                rate_cell(r, "power_primary"),
                f"{r['formula_power_mixed']:.2f}",
                f"{rate_cell(r, 'power_mixed')} ({r['mixed_not_fitted']} of {r['studies']})",
                rate_cell(r, "power_cluster"),
                rate_cell(r, "power_ancova_group_means"),
                rate_cell(r, "power_ancova"),
                f"{r['mean_effect']:.1f}",
            ]
        )
    return header, rows


def _null_rows(analysis: PowerAnalysis) -> tuple[list[str], list[list[str]]]:
    header = [
        "groups per arm",
        "clients per group",
        "null studies (each arm)",
        "primary test, control vs control",
        "primary test, treatment vs treatment",
        "mixed model, treatment vs treatment",
        "cluster-level, treatment vs treatment",
        "group means, treatment vs treatment",
        "ANCOVA on clients (liberal), treatment vs treatment",
    ]
    rows = []
    for r in analysis.table.to_dict("records"):
        rows.append(
            [
                str(r["groups_per_arm"]),
                str(r["clients_per_group"]),
                str(r.get("null_studies", 0)),
                rate_cell(r, "null_primary"),
                rate_cell(r, "null_treatment_primary"),
                rate_cell(r, "null_treatment_mixed"),
                rate_cell(r, "null_treatment_cluster"),
                rate_cell(r, "null_treatment_ancova_group_means"),
                rate_cell(r, "null_treatment_ancova"),
            ]
        )
    return header, rows


def _clustering_rows(analysis: PowerAnalysis) -> tuple[list[str], list[list[str]]]:
    header = [
        "arm",
        "clients per group",
        "groups (runs)",
        "answered post-tests per group",
        "ICC given the pre-test [95% CI]",
        "design effect [95% CI]",
    ]
    rows = []
    names = {"treatment": analysis.treatment.name, "control": analysis.control.name}
    for r in analysis.clustering.to_dict("records"):
        rows.append(
            [
                names[r["arm"]],
                str(r["clients_per_group"]),
                str(r["groups"]),
                f"{r['answered_per_group']:.1f}",
                f"{r['icc']:.3f} [{r['icc_low']:.3f}, {r['icc_high']:.3f}]",
                f"{r['design_effect']:.2f} [{r['design_effect_low']:.2f}, "
                f"{r['design_effect_high']:.2f}]",
            ]
        )
    return header, rows


def _flattening_rows(analysis: PowerAnalysis) -> tuple[list[str], list[list[str]]]:
    """Per group size and arm: what n clients per group are worth, n / DE, and its ceiling."""
    header = [
        "arm",
        "clients per group",
        "answered per group n",
        "design effect 1 + (n - 1) ICC",
        "worth in independent clients, n / DE",
        "ceiling as n grows, 1 / ICC",
    ]
    rows = []
    names = {"treatment": analysis.treatment.name, "control": analysis.control.name}
    for r in analysis.clustering.to_dict("records"):
        worth = r["answered_per_group"] / r["design_effect"]
        ceiling = f"{1 / r['icc']:.1f}" if r["icc"] > 0 else "none (ICC <= 0)"
        rows.append(
            [
                names[r["arm"]],
                str(r["clients_per_group"]),
                f"{r['answered_per_group']:.1f}",
                f"{r['design_effect']:.2f}",
                f"{worth:.1f}",
                ceiling,
            ]
        )
    return header, rows


def formula_agreement(analysis: PowerAnalysis) -> str:
    """How the design-effect formula's power compares with the simulated power, in words."""
    table = analysis.table
    inside = (table["formula_power_mixed"] >= table["power_primary_low"]) & (
        table["formula_power_mixed"] <= table["power_primary_high"]
    )
    gap = (table["power_primary"] - table["formula_power_mixed"]).to_numpy(dtype=float)
    widest = int(np.nanargmax(np.abs(gap)))
    row = table.iloc[widest]
    return (
        f"The design-effect formula's power lies inside the simulated power's 95% CI at "
        f"{int(inside.sum())} of {len(table)} designs; simulated minus formula averages "
        f"{np.nanmean(gap):+.2f} (largest {gap[widest]:+.2f}, at {int(row.groups_per_arm)} "
        f"groups of {int(row.clients_per_group)})."
    )


def _seed_rows(analysis: PowerAnalysis) -> tuple[list[str], list[list[str]]]:
    header = [
        "screening",
        "one-group gain",
        "true effect (± SE)",
        "campus life",
        "regression to the mean",
        "overstatement",
        "power, paired t [95% CI]",
        "significant with no program [95% CI]",
    ]
    rows = []
    for r in analysis.seed_design.itertuples():
        rows.append(
            [
                r.screening,
                f"{r.one_group_gain:.1f}",
                f"{r.true_effect:.1f} ± {r.true_effect_se:.1f}",
                f"{r.campus_life:.1f}",
                f"{r.regression_to_mean:.1f}" if r.screening == "pretest" else "0 (by definition)",
                f"{r.overstatement:.1f} ({100 * r.overstatement_share:+.0f}%)",
                _ci(r.power_paired, r.power_ci_low, r.power_ci_high),
                _ci(r.no_program_rejection, r.no_program_ci_low, r.no_program_ci_high),
            ]
        )
    return header, rows


def _describe(scenario: Scenario) -> str:
    """The parameters a reader needs to tell the arms apart."""
    c = scenario
    return (
        f"{c.name} (technique {c.technique_name!r}, warmth "
        f"{c.counselor.warmth:g}; program.sessions = {c.program.sessions}, baseline weeks "
        f"{c.program.baseline_weeks}; {c.cohort.faculties} faculties x "
        f"{c.cohort.students_per_faculty} students; group.screening = {c.group.screening})"
    )


def _introduction(analysis: PowerAnalysis) -> list[Block]:
    from groupsim.study.power_sensitivity import effect_caveat

    caveat = effect_caveat(analysis)
    return [*((Note(caveat),) if caveat else ()), *_design_text(analysis)]


def _design_text(analysis: PowerAnalysis) -> list[Block]:
    t, s = analysis.treatment, analysis.control
    sizes = ", ".join(str(m) for m in analysis.clients)
    groups = ", ".join(str(k) for k in analysis.groups)
    return [
        Paragraph(
            f"{analysis.reps} simulated field studies per design (seed {analysis.seed}, "
            f"{analysis.runs} simulated groups in all): {groups} groups per arm x {sizes} "
            f"clients per group (`group.clients` of both arms). A study has k groups of m "
            f"clients in each arm, every group a separate run with its own cohort and "
            f"counselor; the clients' questionnaire totals ({QUESTIONNAIRE.minimum}-"
            f"{QUESTIONNAIRE.maximum} points, with the questionnaire's item-level measurement "
            f"noise) at pre-test and post-test are analysed. Study i of the design with k "
            f"groups per arm uses runs `[i*k, (i+1)*k)` of each arm's pool of independent runs "
            f"(one pool per group size). Attrition is the model's own: clients who drop out "
            f"or do not answer leave the post-test missing (column 'post-tests missing')."
        ),
        Paragraph(f"Treatment arm: {_describe(t)}. Control arm: {_describe(s)}."),
    ]


def _tests(analysis: PowerAnalysis) -> list[Block]:
    from groupsim.study.power import (
        CLIENT_TEST,
        GAIN_TEST,
        GROUP_MEANS_TEST,
        MISSING_POST,
        PRIMARY_TEST,
    )

    return [
        Heading("Tests"),
        Paragraph(
            f"Primary test: {PRIMARY_TEST}; two-sided, alpha = {analysis.alpha:g}. Fast check: "
            f"{GROUP_MEANS_TEST}. For comparison only: {CLIENT_TEST}; {GAIN_TEST}. Missing "
            f"post-tests: {MISSING_POST}. Where the mixed model cannot be fitted (singular, not "
            f"converged) the study has no p-value for it (column `mixed_status` of "
            f"`studies.csv`; 'mixed model not fitted' below) and its power is over the rest. "
            f"Power is the share of studies with p < alpha, with a Wilson 95% confidence "
            f"interval. One group per arm is not offered: treatment and group would be "
            f"confounded."
        ),
    ]


def _power_by_design(analysis: PowerAnalysis) -> list[Block]:
    return [
        Heading("Power by design"),
        Table.from_rows(*_power_rows(analysis)),
        Paragraph(
            "'Design-effect formula': the power a t-test on 2k - 2 degrees of freedom has "
            "when each arm's adjusted mean has variance sigma^2 (1 + (n - 1) ICC) / (k n), "
            "with the mean effect of the design's studies and each arm's residual variance, "
            "ICC and answered clients per group n from the runs (table below)."
        ),
        FigureBlock(
            "power_curve",
            "Power of the primary test by design, with the design-effect formula (dotted) "
            "and its range over the assumed ICCs (shaded; see 'If the groups' ICC or the "
            "effect is not the model's') (left); type I error of the tests (right)",
            lambda: power_curve_figure(analysis),
        ),
        Heading("Type I error"),
        Paragraph(
            "Studies of one arm against itself, cut from that arm's pool (disjoint pairs of "
            "blocks, so fewer studies for large k): no difference to find, so a calibrated "
            "test rejects in about alpha of them. The client-level ANCOVA ignores that the "
            "clients of one group share its counselor and climate, and rejects too often."
        ),
        Table.from_rows(*_null_rows(analysis)),
        Heading("Clustering: ICC and design effect"),
        Paragraph(
            "ICC(1) of the post-test given the pre-test (one-way ANOVA estimator on the "
            "residuals of post on pre, `groupsim.study.stats.intraclass_correlation`) over "
            "each pool's runs, a run being a group; 95% percentile bootstrap CIs over groups "
            "(400 resamples). Design effect 1 + (n - 1) ICC with n the answered clients per "
            "group: how many times the variance of an arm's mean exceeds that of the same "
            "number of independent clients."
        ),
        Table.from_rows(*_clustering_rows(analysis)),
        Heading("Groups or clients? The design effect against the simulation"),
        Paragraph(
            "With an ICC above 0, each extra client of a group is worth less than an "
            "independent one: n clients per group count as n / DE = n / (1 + (n - 1) ICC) "
            "independent clients (Donner & Klar 2000, ch. 5; Murray 1998), which rises with n "
            "but never past 1 / ICC. So power rises without limit in the number of groups and "
            "flattens in clients per group, the sooner the larger the ICC. "
            + formula_agreement(analysis)
        ),
        Table.from_rows(*_flattening_rows(analysis)),
    ]


def _seed_design(analysis: PowerAnalysis) -> list[Block]:
    from groupsim.study.power import SEED_TEST

    t = analysis.treatment
    seed = analysis.seed_design.set_index("screening")
    sep, pre = seed.loc["separate"], seed.loc["pretest"]
    return [
        Heading("The seed's own design: one group, pre/post, no control"),
        Paragraph(
            f"Test: {SEED_TEST}, on one group's {t.group.clients} clients, "
            f"{int(sep.runs)} runs per screening option; treatment and control runs of the same "
            f"seed share cohort and clients (common random numbers), so treatment gain - "
            f"control gain is the program's true effect. Campus life is what the control "
            f"clients gain with no program under separate screening; regression to the mean is "
            f"the extra control gain when the lowest scorers on the pre-test itself are chosen "
            f'(group.screening = "pretest"). Gains in {POINTS}.'
        ),
        Table.from_rows(*_seed_rows(analysis)),
        FigureBlock(
            "seed_design_bias",
            "The one-group gain and its parts, per screening option",
            lambda: bias_figure(analysis),
        ),
        Paragraph(
            f"With screening on a separate earlier measure the one-group gain "
            f"({sep.one_group_gain:.1f}) overstates the true effect ({sep.true_effect:.1f}) by "
            f"{sep.overstatement:.1f} points ({100 * sep.overstatement_share:+.0f}%), all of it "
            f"campus life. With screening on the pre-test itself it overstates it by "
            f"{pre.overstatement:.1f} points ({100 * pre.overstatement_share:+.0f}%): campus life "
            f"{pre.campus_life:.1f} plus regression to the mean {pre.regression_to_mean:.1f}, "
            f"of which {pre.rtm_selection_on_noise:.1f} is selection on measurement noise (the "
            f"chosen clients' screening totals lie that far below their noise-free expected "
            f"totals) and {pre.rtm_baseline_change:.1f} the real change over the "
            f"{t.program.baseline_weeks} baseline weeks that a pre-test given "
            f"at screening no longer waits for (the rest is item noise). "
            f"With no program at all the paired t-test is significant in "
            f"{100 * sep.no_program_rejection:.0f}% (separate) and "
            f"{100 * pre.no_program_rejection:.0f}% (pretest) of one-group studies."
        ),
    ]


def report_document(analysis: PowerAnalysis) -> Document:
    """The power report: the answer first, then design, tests, power, clustering, seed design."""
    from groupsim.study.power_assurance import assurance_blocks
    from groupsim.study.power_sensitivity import sensitivity_blocks

    return Document(
        # The answer is the report's first line.
        f"{analysis.answer()} (Power analysis: {analysis.treatment.name} vs "
        f"{analysis.control.name})",
        [
            *_introduction(analysis),
            *_tests(analysis),
            *_power_by_design(analysis),
            *sensitivity_blocks(analysis),
            *assurance_blocks(analysis),
            *_seed_design(analysis),
            Paragraph(
                "Files: `power.csv` (a row per design), `studies.csv` (every study's effect, "
                "mixed-model status and p-values), `null_studies.csv`, `clustering.csv`, "
                "`icc_sensitivity.csv` (the formula's power at each assumed ICC), "
                "`groups_needed.csv` (groups per arm the formula needs, by effect and ICC), "
                "`seed_design.csv`, `power_curve.png`/`.svg`, `seed_design_bias.png`/`.svg`"
                + (
                    "; `assurance_studies.csv` (every posterior study: its draw and p-values)."
                    if analysis.assurance_studies is not None
                    else "."
                )
            ),
        ],
    )


def write_report(analysis: PowerAnalysis, out_dir: str | Path) -> Path:
    """Write the analysis into `out_dir` atomically (see `REPORT_FILES`)."""
    tables = {
        "power.csv": analysis.table,
        "studies.csv": analysis.studies,
        "null_studies.csv": analysis.nulls,
        "clustering.csv": analysis.clustering,
        "icc_sensitivity.csv": analysis.icc_sensitivity,
        "groups_needed.csv": analysis.groups_needed,
        "seed_design.csv": analysis.seed_design,
    }
    if analysis.assurance_studies is not None:
        tables["assurance_studies.csv"] = analysis.assurance_studies
    document = report_document(analysis)
    return write_folder(out_dir, tables, lambda folder: write_document(document, folder))
