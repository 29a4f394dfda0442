"""The power analysis' report: tables, the power curve, the seed design's bias, md and html.

Every number comes from a :class:`~groupsim.study.power.PowerAnalysis`; nothing is typed in.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")  # files only; no display needed (CI, servers)
import matplotlib.pyplot as plt
import numpy as np

from groupsim.model.measures import QUESTIONNAIRE
from groupsim.runs.store import atomic_folder

if TYPE_CHECKING:
    from groupsim.study.power import PowerAnalysis

__all__ = ["REPORT_FILES", "bias_figure", "power_curve_figure", "write_report"]

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


def power_curve_figure(analysis: PowerAnalysis) -> plt.Figure:
    """Power vs groups per arm with Wilson 95% CIs, the null rejection rate and alpha."""
    t = analysis.table
    k = t["groups_per_arm"].to_numpy()
    fig, ax = plt.subplots(figsize=(7.0, 5.2), layout="constrained")

    def curve(column: str, label: str, nudge: float, **style) -> None:
        y = t[column].to_numpy(dtype=float)
        errors = np.vstack([y - t[f"{column}_low"], t[f"{column}_high"] - y])
        # Nudge each test sideways a little so equal powers (often 1.0) stay visible.
        ax.errorbar(k * nudge, y, yerr=errors, capsize=4, label=label, **style)

    curve("power_ancova", "ANCOVA on clients (post ~ pre + treatment)", 1.0, marker="o", lw=2)
    curve("power_welch_gain", "Welch t-test on clients' gains", 1.04, marker="s", ls="--")
    curve("power_ancova_group_means", "ANCOVA on group means (k >= 2)", 0.96, marker="D", ls="-.")
    curve(
        "null_ancova",
        "ANCOVA on clients, control vs control (type I error)",
        1.0,
        marker="^",
        color="gray",
        ls=":",
    )
    if "null_treatment_ancova" in t:
        curve(
            "null_treatment_ancova",
            "ANCOVA on clients, treatment vs treatment (type I error)",
            1.04,
            marker="v",
            color="black",
            ls=":",
        )
    ax.axhline(analysis.alpha, color="tab:red", lw=1, ls="--", label=f"alpha = {analysis.alpha:g}")
    ax.set_xscale("log", base=2)
    ax.set_xticks(k, [f"{g}\n({c} clients)" for g, c in zip(k, t["clients_per_arm"], strict=True)])
    ax.minorticks_off()
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("groups per arm (clients per arm)")
    ax.set_ylabel(f"power: share of studies with p < {analysis.alpha:g}")
    ax.set_title(
        f"{analysis.treatment.name} vs {analysis.control.name}: "
        f"{analysis.reps} simulated studies per design, 95% Wilson CIs",
        fontsize=10,
    )
    ax.grid(alpha=0.3)
    # Below the axes: inside, it would hide curves that span the whole height.
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=2)
    return fig


def bias_figure(analysis: PowerAnalysis) -> plt.Figure:
    """The one-group pre/post gain and its parts, per screening option."""
    seed = analysis.seed_design
    parts = (
        ("one_group_gain", "one-group pre/post gain (what the seed design reports)", "tab:purple"),
        ("true_effect", "true effect (treatment gain - control gain)", "tab:green"),
        ("campus_life", "campus life (control gain, separate screening)", "tab:blue"),
        ("regression_to_mean", "regression to the mean (extra control gain)", "tab:red"),
    )
    fig, ax = plt.subplots(figsize=(7.0, 4.2), layout="constrained")
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
    return fig


def _save(fig: plt.Figure, folder: Path, stem: str) -> None:
    fig.savefig(folder / f"{stem}.png", dpi=150)
    fig.savefig(folder / f"{stem}.svg")
    plt.close(fig)


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


def _markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _html_table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _describe(scenario) -> str:
    """The parameters a reader needs to tell the arms apart."""
    c = scenario
    return (
        f"{c.name} (counselor.technique = {c.counselor.technique}, warmth "
        f"{c.counselor.warmth:g}; program.sessions = {c.program.sessions}, baseline weeks "
        f"{c.program.baseline_weeks}; {c.cohort.faculties} faculties x "
        f"{c.cohort.students_per_faculty} students; group.screening = {c.group.screening})"
    )


def _sections(analysis: PowerAnalysis) -> list[tuple[str, object]]:
    """The report as (kind, content) blocks: 'h1'/'h2'/'p' text, 'table' or 'figure'."""
    from groupsim.study.power import GAIN_TEST, GROUP_MEANS_TEST, PRIMARY_TEST, SEED_TEST

    t, s = analysis.treatment, analysis.control
    seed = analysis.seed_design.set_index("screening")
    sep, pre = seed.loc["separate"], seed.loc["pretest"]
    largest = analysis.table.iloc[-1]
    return [
        ("h1", f"Power analysis: {t.name} vs {s.name}"),
        (
            "p",
            f"{analysis.reps} simulated field studies per design (seed {analysis.seed}, "
            f"{analysis.runs} simulated groups in all). A study has k groups of "
            f"{t.group.clients} clients in each arm, every group a separate run with its own "
            f"cohort; the clients' questionnaire totals ({QUESTIONNAIRE.minimum}-"
            f"{QUESTIONNAIRE.maximum} points, with the questionnaire's item-level measurement "
            f"noise) are pooled per arm. Study i of the design with k "
            f"groups per arm uses runs [i*k, (i+1)*k) of each arm's pool of independent runs.",
        ),
        ("p", f"Treatment arm: {_describe(t)}. Control arm: {_describe(s)}."),
        ("h2", "Tests"),
        (
            "p",
            f"Primary test: {PRIMARY_TEST}, on the clients' totals, two-sided, alpha = "
            f"{analysis.alpha:g}. Also shown: {GAIN_TEST}; and {GROUP_MEANS_TEST}. Power is the "
            f"share of studies with p < alpha, with a Wilson 95% confidence interval. The type I "
            f"error columns analyse control-vs-control and treatment-vs-treatment studies cut "
            f"from one arm's pool (no difference to find; disjoint pairs of blocks, so fewer "
            f"studies for large k): a calibrated test rejects in about alpha of them. Clients "
            f"of one group share its climate and cohort, which the client-level tests ignore "
            f"(they then reject too often); the group-means test does not.",
        ),
        ("h2", "Power by design"),
        ("table", _power_rows(analysis)),
        ("figure", ("power_curve", "Power curve: power vs groups per arm (95% Wilson CIs)")),
        (
            "p",
            f"With {int(largest.groups_per_arm)} groups per arm "
            f"({int(largest.clients_per_arm)} clients per arm) the ANCOVA detects the effect in "
            f"{100 * largest.power_ancova:.0f}% of studies; read the curve for the fewest groups "
            f"whose lower CI bound clears the power you need (often 0.8).",
        ),
        ("h2", "The seed's own design: one group, pre/post, no control"),
        (
            "p",
            f"Test: {SEED_TEST}, on one group's {t.group.clients} clients, "
            f"{int(sep.runs)} runs per screening option; treatment and control runs of the same "
            f"seed share cohort and clients (common random numbers), so treatment gain - "
            f"control gain is the program's true effect. Campus life is what the control "
            f"clients gain with no program under separate screening; regression to the mean is "
            f"the extra control gain when the lowest scorers on the pre-test itself are chosen "
            f'(group.screening = "pretest"). Gains in {POINTS}.',
        ),
        ("table", _seed_rows(analysis)),
        ("figure", ("seed_design_bias", "The one-group gain and its parts, per screening option")),
        (
            "p",
            f"With screening on a separate earlier measure the one-group gain "
            f"({sep.one_group_gain:.1f}) overstates the true effect ({sep.true_effect:.1f}) by "
            f"{sep.overstatement:.1f} points ({100 * sep.overstatement_share:+.0f}%), all of it "
            f"campus life. With screening on the pre-test itself it overstates it by "
            f"{pre.overstatement:.1f} points ({100 * pre.overstatement_share:+.0f}%): campus life "
            f"{pre.campus_life:.1f} plus regression to the mean {pre.regression_to_mean:.1f}, "
            f"of which {pre.rtm_selection_on_noise:.1f} is selection on measurement noise (the "
            f"chosen clients' screening totals lie that far below their noise-free expected "
            f"totals) and {pre.rtm_baseline_change:.1f} the real change over the "
            f"{analysis.treatment.program.baseline_weeks} baseline weeks that a pre-test given "
            f"at screening no longer waits for (the rest is item noise). "
            f"With no program at all the paired t-test is significant in "
            f"{100 * sep.no_program_rejection:.0f}% (separate) and "
            f"{100 * pre.no_program_rejection:.0f}% (pretest) of one-group studies.",
        ),
        (
            "p",
            "Files: power.csv (this table), studies.csv (every study's effect and p-values), "
            "null_studies.csv, seed_design.csv, power_curve.png/.svg, seed_design_bias.png/.svg.",
        ),
    ]


def _markdown(analysis: PowerAnalysis) -> str:
    out = []
    for kind, content in _sections(analysis):
        if kind == "h1":
            out.append(f"# {content}")
        elif kind == "h2":
            out.append(f"## {content}")
        elif kind == "p":
            out.append(str(content))
        elif kind == "table":
            out.append(_markdown_table(*content))
        else:
            stem, caption = content
            out.append(f"![{caption}]({stem}.png)\n\n*{caption}* ([SVG]({stem}.svg))")
    return "\n\n".join(out) + "\n"


def _html(analysis: PowerAnalysis, folder: Path) -> str:
    body = []
    for kind, content in _sections(analysis):
        if kind in ("h1", "h2"):
            body.append(f"<{kind}>{html.escape(str(content))}</{kind}>")
        elif kind == "p":
            body.append(f"<p>{html.escape(str(content))}</p>")
        elif kind == "table":
            body.append(_html_table(*content))
        else:
            stem, caption = content
            data = base64.b64encode((folder / f"{stem}.png").read_bytes()).decode("ascii")
            body.append(
                f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(caption)}">'
                f"<figcaption>{html.escape(caption)}</figcaption></figure>"
            )
    style = (
        "body{font-family:sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;"
        "line-height:1.45}table{border-collapse:collapse;margin:1rem 0;font-size:.9rem}"
        "td,th{border:1px solid #bbb;padding:.25rem .5rem;text-align:right}"
        "th{background:#eee}img{max-width:100%}figcaption{font-style:italic}"
    )
    title = html.escape(f"groupsim power: {analysis.treatment.name} vs {analysis.control.name}")
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f"<style>{style}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )


def write_report(analysis: PowerAnalysis, out_dir: str | Path) -> Path:
    """Write the analysis into `out_dir` atomically (see `REPORT_FILES`)."""
    out_dir = Path(out_dir)
    with atomic_folder(out_dir) as tmp:
        analysis.table.to_csv(tmp / "power.csv", index=False)
        analysis.studies.to_csv(tmp / "studies.csv", index=False)
        analysis.nulls.to_csv(tmp / "null_studies.csv", index=False)
        analysis.seed_design.to_csv(tmp / "seed_design.csv", index=False)
        _save(power_curve_figure(analysis), tmp, "power_curve")
        _save(bias_figure(analysis), tmp, "seed_design_bias")
        (tmp / "report.md").write_text(_markdown(analysis), encoding="utf-8")
        (tmp / "report.html").write_text(_html(analysis, tmp), encoding="utf-8")
    return out_dir
