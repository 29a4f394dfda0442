"""The power analysis' report: tables, the power curve, the seed design's bias, md and html.

Every number comes from a :class:`~groupsim.study.power.PowerAnalysis`; nothing is typed in.
The report is one :class:`groupsim.document.Document`, written as Markdown and as one
self-contained HTML page by :func:`groupsim.document.render.write_document`; the figures
follow the house convention of :mod:`groupsim.document.figures`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from groupsim.document.blocks import Block, Document, FigureBlock, Heading, Paragraph, Table
from groupsim.document.figures import Figure, styled
from groupsim.document.render import write_document
from groupsim.model.measures import QUESTIONNAIRE
from groupsim.runs.store import write_folder

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from groupsim.scenario import Scenario
    from groupsim.study.power import PowerAnalysis

__all__ = ["REPORT_FILES", "bias_figure", "power_curve_figure", "report_document", "write_report"]

#: What `PowerAnalysis.report` (and `groupsim power --out`) writes.
REPORT_FILES = (
    "power.csv",
    "studies.csv",
    "null_studies.csv",
    "seed_design.csv",
    "power_curve.png",
    "power_curve.svg",
    "seed_design_bias.png",
    "seed_design_bias.svg",
    "report.md",
    "report.html",
)

POINTS = f"questionnaire points ({QUESTIONNAIRE.minimum}-{QUESTIONNAIRE.maximum})"


def _curve(ax: Axes, table: Any, column: str, label: str, nudge: float, **style: Any) -> None:
    """One test's power (or rejection rate) with its Wilson CI against groups per arm."""
    k = table["groups_per_arm"].to_numpy()
    y = table[column].to_numpy(dtype=float)
    errors = np.vstack([y - table[f"{column}_low"], table[f"{column}_high"] - y])
    # Nudge each test sideways a little so equal powers (often 1.0) stay visible.
    ax.errorbar(k * nudge, y, yerr=errors, capsize=4, label=label, **style)


def _power_curves(ax: Axes, table: Any) -> None:
    _curve(
        ax,
        table,
        "power_ancova",
        "ANCOVA on clients (post ~ pre + treatment)",
        1.0,
        marker="o",
        lw=2,
    )
    _curve(
        ax, table, "power_welch_gain", "Welch t-test on clients' gains", 1.04, marker="s", ls="--"
    )
    _curve(
        ax,
        table,
        "power_ancova_group_means",
        "ANCOVA on group means (k >= 2)",
        0.96,
        marker="D",
        ls="-.",
    )
    _curve(
        ax,
        table,
        "null_ancova",
        "ANCOVA on clients, control vs control (type I error)",
        1.0,
        marker="^",
        color="gray",
        ls=":",
    )
    if "null_treatment_ancova" in table:
        _curve(
            ax,
            table,
            "null_treatment_ancova",
            "ANCOVA on clients, treatment vs treatment (type I error)",
            1.04,
            marker="v",
            color="black",
            ls=":",
        )


def power_curve_figure(analysis: PowerAnalysis) -> Figure:
    """Power vs groups per arm with Wilson 95% CIs, the null rejection rate and alpha."""
    t = analysis.table
    k = t["groups_per_arm"].to_numpy()
    with styled():
        fig = Figure(figsize=(7.0, 5.2), layout="constrained")
        ax = fig.subplots()
        _power_curves(ax, t)
        ax.axhline(
            analysis.alpha, color="tab:red", lw=1, ls="--", label=f"alpha = {analysis.alpha:g}"
        )
        ax.set_xscale("log", base=2)
        ticks = [f"{g}\n({c} clients)" for g, c in zip(k, t["clients_per_arm"], strict=True)]
        ax.set_xticks(k, ticks)
        ax.minorticks_off()
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel("groups per arm (clients per arm)")
        ax.set_ylabel(f"power: share of studies with p < {analysis.alpha:g}")
        ax.set_title(
            f"{analysis.treatment.name} vs {analysis.control.name}: "
            f"{analysis.reps} simulated studies per design, 95% Wilson CIs",
            fontsize=10,
        )
        # Below the axes: inside, it would hide curves that span the whole height.
        ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=2)
    return fig


def bias_figure(analysis: PowerAnalysis) -> Figure:
    """The one-group pre/post gain and its parts, per screening option."""
    parts = (
        ("one_group_gain", "one-group pre/post gain (what the seed design reports)", "tab:purple"),
        ("true_effect", "true effect (treatment gain - control gain)", "tab:green"),
        ("campus_life", "campus life (control gain, separate screening)", "tab:blue"),
        ("regression_to_mean", "regression to the mean (extra control gain)", "tab:red"),
    )
    with styled():
        fig = Figure(figsize=(7.0, 4.2), layout="constrained")
        _bias_bars(fig.subplots(), analysis, parts)
    return fig


def _bias_bars(ax: Axes, analysis: PowerAnalysis, parts: tuple[tuple[str, str, str], ...]) -> None:
    seed = analysis.seed_design
    x = np.arange(len(seed))
    width = 0.2
    for i, (column, label, colour) in enumerate(parts):
        values = seed[column].to_numpy()
        bars = ax.bar(x + (i - 1.5) * width, values, width, label=label, color=colour)
        ax.bar_label(bars, fmt="%.1f", fontsize=8, padding=2)
    ax.axhline(0, color="black", lw=0.8)
    names = {
        "separate": "screening on a separate\nearlier questionnaire",
        "pretest": "screening on the\npre-test itself",
    }
    ax.set_xticks(x, [names.get(s, s) for s in seed["screening"]])
    ax.set_ylabel(f"mean gain, {POINTS}")
    ax.set_title(
        f"Seed design (one group of {analysis.treatment.group.clients}, pre/post, no control): "
        f"{int(seed['runs'].iloc[0])} runs",
        fontsize=10,
    )
    top = float(np.nanmax(seed[[p[0] for p in parts]].to_numpy()))
    ax.set_ylim(top=top * 1.35 if top > 0 else 1.0)
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(axis="y", alpha=0.3)


def _ci(value: float, low: float, high: float) -> str:
    return f"{value:.2f} [{low:.2f}, {high:.2f}]"


def _power_rows(analysis: PowerAnalysis) -> tuple[list[str], list[list[str]]]:
    header = [
        "groups per arm",
        "clients per arm",
        "studies",
        "mean adjusted effect (points)",
        "power, ANCOVA [95% CI]",
        "power, Welch on gains [95% CI]",
        "power, ANCOVA on group means [95% CI]",
        "null studies (each arm)",
        "type I error, ANCOVA, control vs control [95% CI]",
        "type I error, ANCOVA on group means, control vs control [95% CI]",
        "type I error, ANCOVA, treatment vs treatment [95% CI]",
        "type I error, ANCOVA on group means, treatment vs treatment [95% CI]",
    ]
    rows = []
    for r in analysis.table.to_dict("records"):

        def ci(name: str, r: dict = r) -> str:
            if r[name] != r[name]:  # NaN: the test does not apply to this design
                return "n/a"
            return _ci(r[name], r[f"{name}_low"], r[f"{name}_high"])

        rows.append(
            [
                str(r["groups_per_arm"]),
                str(r["clients_per_arm"]),
                str(r["studies"]),
                f"{r['mean_effect']:.1f}",
                ci("power_ancova"),
                ci("power_welch_gain"),
                ci("power_ancova_group_means"),
                str(r["null_studies"]),
                ci("null_ancova"),
                ci("null_ancova_group_means"),
                ci("null_treatment_ancova"),
                ci("null_treatment_ancova_group_means"),
            ]
        )
    return header, rows


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
    t, s = analysis.treatment, analysis.control
    return [
        Paragraph(
            f"{analysis.reps} simulated field studies per design (seed {analysis.seed}, "
            f"{analysis.runs} simulated groups in all). A study has k groups of "
            f"{t.group.clients} clients in each arm, every group a separate run with its own "
            f"cohort; the clients' questionnaire totals ({QUESTIONNAIRE.minimum}-"
            f"{QUESTIONNAIRE.maximum} points, with the questionnaire's item-level measurement "
            f"noise) are pooled per arm. Study i of the design with k groups per arm uses runs "
            f"`[i*k, (i+1)*k)` of each arm's pool of independent runs."
        ),
        Paragraph(f"Treatment arm: {_describe(t)}. Control arm: {_describe(s)}."),
    ]


def _tests(analysis: PowerAnalysis) -> list[Block]:
    from groupsim.study.power import GAIN_TEST, GROUP_MEANS_TEST, PRIMARY_TEST

    return [
        Heading("Tests"),
        Paragraph(
            f"Primary test: {PRIMARY_TEST}, on the clients' totals, two-sided, alpha = "
            f"{analysis.alpha:g}. Also shown: {GAIN_TEST}; and {GROUP_MEANS_TEST}. Power is the "
            f"share of studies with p < alpha, with a Wilson 95% confidence interval. The type I "
            f"error columns analyse control-vs-control and treatment-vs-treatment studies cut "
            f"from one arm's pool (no difference to find; disjoint pairs of blocks, so fewer "
            f"studies for large k): a calibrated test rejects in about alpha of them. Clients "
            f"of one group share its climate and cohort, which the client-level tests ignore "
            f"(they then reject too often); the group-means test does not."
        ),
    ]


def _power_by_design(analysis: PowerAnalysis) -> list[Block]:
    largest = analysis.table.iloc[-1]
    return [
        Heading("Power by design"),
        Table.from_rows(*_power_rows(analysis)),
        FigureBlock(
            "power_curve",
            "Power curve: power vs groups per arm (95% Wilson CIs)",
            lambda: power_curve_figure(analysis),
        ),
        Paragraph(
            f"With {int(largest.groups_per_arm)} groups per arm "
            f"({int(largest.clients_per_arm)} clients per arm) the ANCOVA detects the effect in "
            f"{100 * largest.power_ancova:.0f}% of studies; read the curve for the fewest groups "
            f"whose lower CI bound clears the power you need (often 0.8)."
        ),
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
    """The power report, in order: design, tests, power by design, the seed's design, files."""
    return Document(
        f"Power analysis: {analysis.treatment.name} vs {analysis.control.name}",
        [
            *_introduction(analysis),
            *_tests(analysis),
            *_power_by_design(analysis),
            *_seed_design(analysis),
            Paragraph(
                "Files: `power.csv` (this table), `studies.csv` (every study's effect and "
                "p-values), `null_studies.csv`, `seed_design.csv`, `power_curve.png`/`.svg`, "
                "`seed_design_bias.png`/`.svg`."
            ),
        ],
    )


def write_report(analysis: PowerAnalysis, out_dir: str | Path) -> Path:
    """Write the analysis into `out_dir` atomically (see `REPORT_FILES`)."""
    tables = {
        "power.csv": analysis.table,
        "studies.csv": analysis.studies,
        "null_studies.csv": analysis.nulls,
        "seed_design.csv": analysis.seed_design,
    }
    document = report_document(analysis)
    return write_folder(out_dir, tables, lambda folder: write_document(document, folder))
