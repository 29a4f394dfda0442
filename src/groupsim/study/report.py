"""The report of a comparison: tables, figures, `report.md` and a self-contained `report.html`.

The report is built once as a list of blocks (headings, paragraphs, tables, figures) and
rendered twice, as Markdown (figures linked) and as HTML (figures embedded as base64 PNG, so
the one file can be mailed or archived). Every number in it is computed from the runs.

Example:
    >>> from groupsim import compare
    >>> c = compare(["scenarios/no_intervention.toml", "scenarios/home_room.toml"], reps=2,
    ...             workers=1, overrides={"cohort.students_per_faculty": 6}, label=None)
    >>> summary_sentences(c)[0].startswith("home_room raised clients' post-program social")
    True
"""

from __future__ import annotations

import base64
import html
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from groupsim.runs.store import atomic_folder
from groupsim.scenario import scenario_to_toml
from groupsim.study.stats import PAIRED_G, PAIRED_TEST, Estimate, bootstrap_mean_difference

if TYPE_CHECKING:
    from groupsim.study.compare import Comparison

__all__ = [
    "FIGURES",
    "REPORT_FILES",
    "frame_to_markdown",
    "render_html",
    "render_markdown",
    "report_blocks",
    "summary_sentences",
    "treatment_difference",
    "write_report",
]

#: Files `write_report` writes, besides `NAME.png` and `NAME.svg` for every figure in `FIGURES`
#: and `scenario_LABEL.toml` for every scenario. One flat folder: `store.atomic_folder` moves
#: files, not subfolders, into an existing output folder.
REPORT_FILES = (
    "results.parquet",
    "outcomes.parquet",
    "clients.parquet",
    "summary.csv",
    "benefits.csv",
    "report.md",
    "report.html",
)

#: Figure file stems with their captions.
FIGURES = {
    "effects": "Every treatment's difference to the reference scenario in every outcome: mean "
    "paired difference over replications with its bootstrap 95% CI.",
    "timeseries": "Weekly course of clients' social interaction, group climate and group "
    "density: mean over replications with its 95% CI band; program weeks shaded. Climate is "
    "undefined without a group, so scenarios without one have no climate line.",
    "spillover": "Spill-over beyond the clients: the clients' friends (non-clients tied to a "
    "client at screening) in social interaction and campus contact, and all non-clients' social "
    "interaction, week by week (mean and 95% CI band; program weeks shaded). With many groups "
    "on one campus (scenarios/campus_rollout.toml) this is where a program would reach the "
    "wider network.",
    "questionnaire": "Clients' mean questionnaire totals (35 items scored 1-4, range 35-140) "
    "at pre-test, post-test and follow-up, as a field study would plot them; error bars are "
    "95% CIs over the simulated groups (replications), narrower than one field group's.",
    "networks": "The counseling group's network in one representative run per scenario (the "
    "replication whose post-program social interaction is closest to the scenario's median) at "
    "baseline (pre-test week), mid-program, end (post-test week) and follow-up. Nodes are "
    "clients (number = faculty), coloured by social interaction; edge width = tie strength.",
    "benefits": "Who benefits: each treatment's effect on clients' post-program social "
    "interaction (treatment minus reference, per client, paired by replication and client) by "
    "tercile of baseline anxiety and of baseline sociability; 95% CIs over replications.",
}


# ---------------------------------------------------------------- numbers in words


def _decimals(unit: str) -> int:
    return 1 if unit == "35-140" else 3


def _num(value: float, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.{digits}f}"


def _interval(low: float, high: float, digits: int) -> str:
    if math.isnan(low) or math.isnan(high):
        return "–"
    return f"{_num(low, digits)} to {_num(high, digits)}"


def _p(value: float) -> str:
    if math.isnan(value):
        return "–"
    return "p < 0.001" if value < 0.001 else f"p = {value:.3f}"


def _p_cell(value: float) -> str:
    if math.isnan(value):
        return "–"
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def _direction(low: float, high: float, up: str, down: str, none: str) -> str:
    if not math.isnan(low) and low > 0:
        return up
    if not math.isnan(high) and high < 0:
        return down
    return none


def treatment_difference(
    comparison: Comparison, outcome: str, treatment: str, other: str
) -> Estimate:
    """Mean paired difference `treatment - other` in an outcome with a bootstrap 95% CI
    (for comparing two treatments with each other; seeded from the experiment's seed).
    """
    table = comparison.outcomes.pivot(index="replication", columns="scenario", values=outcome)
    key = [
        comparison.seed,
        0x7EA7,
        comparison.labels.index(treatment),
        comparison.labels.index(other),
    ]
    rng = np.random.default_rng(np.random.SeedSequence(key))
    return bootstrap_mean_difference(table[treatment].to_numpy(), table[other].to_numpy(), rng)


def summary_sentences(comparison: Comparison) -> list[str]:
    """The plain-language summary: sentences built from the effects table."""
    effects = comparison.effects.set_index(["outcome", "scenario"])
    ref = comparison.reference
    sentences = []
    for label in comparison.labels[1:]:
        post = effects.loc[("post_social_interaction", label)]
        verb = _direction(
            post["difference_low"],
            post["difference_high"],
            "raised",
            "lowered",
            "did not clearly change",
        )
        sentences.append(
            f"{label} {verb} clients' post-program social interaction (latent score 0-1) by "
            f"{_num(post['difference'])} (95% CI {
                _interval(post['difference_low'], post['difference_high'], 3)
            }; "
            f"Hedges' g = {_num(post['hedges_g'], 2)}, 95% CI "
            f"{_interval(post['g_low'], post['g_high'], 2)}; {PAIRED_TEST.split(' (')[0]} "
            f"{_p(post['p_value'])}) over {ref}: {_num(post['mean'])} against "
            f"{_num(effects.loc[('post_social_interaction', ref), 'mean'])} on average."
        )
        follow = effects.loc[("followup_social_interaction", label)]
        text = (
            f"At follow-up the difference was {_num(follow['difference'])} (95% CI "
            f"{_interval(follow['difference_low'], follow['difference_high'], 3)})"
        )
        if post["difference_low"] > 0 and post["difference"] > 0:
            share = follow["difference"] / post["difference"]
            text += f", {100 * share:.0f}% of the post-program difference"
        sentences.append(text + ".")
        parts = []
        for short in ("attitude", "resolve", "anxiety"):
            row = effects.loc[(f"post_{short}", label)]
            low, high, value = row["difference_low"], row["difference_high"], row["difference"]
            change = _direction(low, high, "higher", "lower", "not clearly different")
            parts.append(
                f"{short} was {change} (difference {_num(value)}, 95% CI {_interval(low, high, 3)})"
            )
        sentences.append(
            f"After the program, against {ref}, its clients' "
            f"{', '.join(parts[:-1])} and {parts[-1]}."
        )
        q = effects.loc[("questionnaire_post", label)]
        q_ref = effects.loc[("questionnaire_post", ref)]
        disclosed = effects.loc[("post_disclosed_share", label)]
        density = effects.loc[("post_group_density", label)]
        sentences.append(
            f"On the questionnaire (35-140) its clients' mean post-test total was "
            f"{_num(q['mean'], 1)} against {_num(q_ref['mean'], 1)}; by the end "
            f"{100 * disclosed['mean']:.0f}% of its clients had opened up and "
            f"{100 * density['mean']:.0f}% of client pairs were tied "
            f"({ref}: {100 * effects.loc[('post_disclosed_share', ref), 'mean']:.0f}% and "
            f"{100 * effects.loc[('post_group_density', ref), 'mean']:.0f}%)."
        )
        sentences.extend(_benefit_sentences(comparison, label))
    treatments = comparison.labels[1:]
    for index, first in enumerate(treatments):
        for second in treatments[index + 1 :]:
            diff = treatment_difference(comparison, "post_social_interaction", first, second)
            word = _direction(diff.low, diff.high, "above", "below", "not clearly different from")
            sentences.append(
                f"{first}'s clients ended the program {word} {second}'s in social interaction "
                f"(paired difference {_num(diff.value)}, 95% CI "
                f"{_interval(diff.low, diff.high, 3)})."
            )
    return sentences


def _benefit_sentences(comparison: Comparison, label: str) -> list[str]:
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


# ---------------------------------------------------------------- blocks


@dataclass(frozen=True)
class Block:
    """One piece of the report: kind is h1, h2, h3, p, list, table or figure."""

    kind: str
    content: Any
    caption: str = ""


def _outcome_table(comparison: Comparison, outcome: str) -> pd.DataFrame:
    effects = comparison.effects
    rows = effects[effects["outcome"] == outcome]
    digits = _decimals(rows["unit"].iloc[0])
    table = []
    for _, row in rows.iterrows():
        reference = row["scenario"] == comparison.reference
        table.append(
            {
                "scenario": row["scenario"] + (" (reference)" if reference else ""),
                "mean": _num(row["mean"], digits),
                "95% CI": _interval(row["mean_low"], row["mean_high"], digits),
                "difference": "" if reference else _num(row["difference"], digits),
                "95% CI (bootstrap)": ""
                if reference
                else _interval(row["difference_low"], row["difference_high"], digits),
                "Hedges' g": "" if reference else _num(row["hedges_g"], 2),
                "95% CI of g": "" if reference else _interval(row["g_low"], row["g_high"], 2),
                "p (paired t)": "" if reference else _p_cell(row["p_value"]),
            }
        )
    return pd.DataFrame(table)


def _design_table(comparison: Comparison) -> pd.DataFrame:
    rows = []
    for label, scenario, source in zip(
        comparison.labels, comparison.scenarios, comparison.sources, strict=True
    ):
        rows.append(
            {
                "scenario": label,
                "file": source,
                "technique": scenario.counselor.technique,
                "clients": scenario.group.clients,
                "students": scenario.students,
                "sessions": scenario.program.sessions,
                "weeks (baseline/program/follow-up)": f"{scenario.program.baseline_weeks}/"
                f"{scenario.program_weeks}/{scenario.program.followup_weeks}",
            }
        )
    return pd.DataFrame(rows)


def _benefit_table(comparison: Comparison) -> pd.DataFrame:
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


def _command(comparison: Comparison) -> str:
    if any(source.startswith("(") or source.startswith("<") for source in comparison.sources):
        return ""
    sets = "".join(f" --set {k}={v}" for k, v in comparison.overrides.items())
    return (
        f"groupsim compare {' '.join(comparison.sources)} --reps {comparison.reps} "
        f"--seed {comparison.seed}{sets} --out OUT"
    )


def report_blocks(comparison: Comparison) -> list[Block]:
    """The report's content, in order."""
    from groupsim import __version__
    from groupsim.study.compare import BOOTSTRAP_RESAMPLES, EFFECT_OUTCOMES, parameter_differences

    ref = comparison.reference
    weeks = comparison.weeks()
    blocks = [
        Block("h1", "groupsim comparison: " + " vs ".join(comparison.labels)),
        Block("h2", "Summary"),
        Block("list", summary_sentences(comparison)),
        Block(
            "p",
            f"Differences are to the first scenario, {ref} (the reference), paired by "
            f"replication over {comparison.reps} replications per scenario. Each CI is a 95% "
            "interval; no correction for the number of outcomes compared.",
        ),
        Block("h2", "Design"),
        Block(
            "p",
            f"{len(comparison.labels)} scenarios, {comparison.reps} replications each "
            f"({len(comparison.labels) * comparison.reps} runs), experiment seed "
            f"{comparison.seed}, groupsim {__version__}. Common random numbers: replication r "
            "of every scenario runs with the same seed (spawned from the experiment seed and r "
            "by numpy's SeedSequence), so it starts from the same cohort, campus network and "
            "screened clients; the scenarios differ only in the parameters below.",
        ),
        Block("table", _design_table(comparison)),
        Block("h3", "Parameters that differ between the scenarios"),
    ]
    diff = parameter_differences(comparison.scenarios, comparison.labels)
    blocks.append(
        Block("table", diff.astype(str))
        if len(diff)
        else Block("p", "None: the scenarios are identical.")
    )
    if comparison.overrides:
        applied = ", ".join(f"`{k} = {v}`" for k, v in comparison.overrides.items())
        blocks.append(Block("p", f"Overrides applied to every scenario: {applied}."))
    command = _command(comparison)
    if command:
        blocks.append(Block("p", f"Reproduce with: `{command}`"))
    blocks.extend(
        [
            Block("h3", "Methods"),
            Block(
                "list",
                [
                    f"Time points: pre-test = week {weeks['baseline']} (end of baseline), "
                    f"post-test = week {weeks['end']} (last program week), follow-up = week "
                    f"{weeks['follow-up']} (last week) of {ref}'s calendar.",
                    "Mean per scenario: mean over replications with a t-based 95% CI.",
                    "Difference to the reference: mean paired difference with a percentile "
                    f"bootstrap 95% CI ({BOOTSTRAP_RESAMPLES:,} resamples of replications, "
                    "seeded from the experiment seed).",
                    f"Effect size: {PAIRED_G}; 95% CI = g ± 1.96 SE (Hedges & Olkin 1985). The "
                    "standardizer is the spread of run-level means (a whole group's mean) "
                    "across replications, not the spread of individual clients, so g says how "
                    "reliably a design beats the reference from one simulated group to the "
                    "next and is far larger than a field study's client-level effect size.",
                    f"Test: {PAIRED_TEST} on the replications' paired values; a p-value is '–' "
                    "when every paired difference is the same (e.g. both arms constant).",
                ],
            ),
            Block("h2", "Results per outcome"),
        ]
    )
    for outcome, (description, unit) in EFFECT_OUTCOMES.items():
        blocks.append(Block("h3", f"{description} ({unit})"))
        blocks.append(Block("table", _outcome_table(comparison, outcome)))
    blocks.append(Block("h2", "Figures"))
    for name, caption in FIGURES.items():
        blocks.append(Block("figure", name, caption))
        if name == "networks":
            chosen = ", ".join(
                f"{label}: replication {comparison.representative_replication(label)}"
                for label in comparison.labels
            )
            blocks.append(Block("p", f"Representative runs: {chosen}."))
    blocks.append(Block("h3", "Who benefits (table)"))
    blocks.append(Block("table", _benefit_table(comparison)))
    blocks.append(Block("h2", "Files"))
    blocks.append(
        Block(
            "list",
            [
                "`results.parquet`: weekly rows of every run with `scenario`, `replication`, "
                "`seed`.",
                "`outcomes.parquet`: a row per run with every outcome of "
                "`groupsim.runs.outcomes.OUTCOMES`.",
                "`clients.parquet`: a row per client per run (baseline traits, social "
                "interaction at pre, post and follow-up).",
                "`summary.csv`: the effects table (a row per outcome and scenario).",
                "`benefits.csv`: the who-benefits table.",
                "`NAME.png` and `NAME.svg`: every figure; `scenario_LABEL.toml`: the resolved "
                "scenarios.",
            ],
        )
    )
    return blocks


# ---------------------------------------------------------------- rendering


def frame_to_markdown(frame: pd.DataFrame) -> str:
    """A DataFrame as a Markdown table (cells as text, pipes escaped)."""

    def cell(value: Any) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(cell(c) for c in frame.columns) + " |"]
    lines.append("| " + " | ".join("---" for _ in frame.columns) + " |")
    for row in frame.itertuples(index=False):
        lines.append("| " + " | ".join(cell(v) for v in row) + " |")
    return "\n".join(lines)


def render_markdown(blocks: list[Block]) -> str:
    """Markdown with figures linked as `NAME.png` (beside the report)."""
    out = []
    for block in blocks:
        if block.kind in ("h1", "h2", "h3"):
            out.append("#" * int(block.kind[1]) + " " + block.content)
        elif block.kind == "p":
            out.append(block.content)
        elif block.kind == "list":
            out.append("\n".join(f"- {item}" for item in block.content))
        elif block.kind == "table":
            out.append(frame_to_markdown(block.content))
        elif block.kind == "figure":
            out.append(
                f"![{block.content}]({block.content}.png)\n\n"
                f"*{block.caption}* (SVG: `{block.content}.svg`)"
            )
    return "\n\n".join(out) + "\n"


def _inline(text: str) -> str:
    """Escape HTML and turn `code` spans into <code>."""
    escaped = html.escape(text, quote=False)
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", escaped)


_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 1100px;
       margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }
table { border-collapse: collapse; margin: 0.5em 0 1.2em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; }
th { background: #f2f2f2; }
figure { margin: 1.5em 0; } figure img { max-width: 100%; }
figcaption { font-size: 0.9em; color: #444; }
code { background: #f4f4f4; padding: 0 0.2em; }
"""


def render_html(blocks: list[Block], figures: dict[str, bytes]) -> str:
    """A self-contained HTML page: `figures` maps figure names to PNG bytes (embedded)."""
    title = next((b.content for b in blocks if b.kind == "h1"), "groupsim report")
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
    ]
    for block in blocks:
        if block.kind in ("h1", "h2", "h3"):
            out.append(f"<{block.kind}>{_inline(block.content)}</{block.kind}>")
        elif block.kind == "p":
            out.append(f"<p>{_inline(block.content)}</p>")
        elif block.kind == "list":
            items = "".join(f"<li>{_inline(item)}</li>" for item in block.content)
            out.append(f"<ul>{items}</ul>")
        elif block.kind == "table":
            frame = block.content
            head = "".join(f"<th>{_inline(str(c))}</th>" for c in frame.columns)
            body = "".join(
                "<tr>" + "".join(f"<td>{_inline(str(v))}</td>" for v in row) + "</tr>"
                for row in frame.itertuples(index=False)
            )
            out.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        elif block.kind == "figure":
            data = base64.b64encode(figures[block.content]).decode("ascii")
            out.append(
                f'<figure><img alt="{html.escape(block.caption)}" '
                f'src="data:image/png;base64,{data}"><figcaption>{_inline(block.caption)}'
                "</figcaption></figure>"
            )
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def write_report(comparison: Comparison, out_dir: str | Path) -> Path:
    """Write everything of a comparison into `out_dir` atomically; return `report.html`'s path.

    Writes `REPORT_FILES`, `NAME.png` and `NAME.svg` for every name in `FIGURES`, and
    `scenario_LABEL.toml` (the resolved scenarios).
    """
    from groupsim.study import figures as plots

    out_dir = Path(out_dir)
    runs = []
    for label in comparison.labels:
        replication = comparison.representative_replication(label)
        runs.append((label, replication, comparison.rerun(label, replication)))
    builders = {
        "effects": lambda: plots.effects_figure(comparison),
        "timeseries": lambda: plots.timeseries_figure(comparison),
        "spillover": lambda: plots.spillover_figure(comparison),
        "questionnaire": lambda: plots.questionnaire_figure(comparison),
        "networks": lambda: plots.network_figure(runs),
        "benefits": lambda: plots.benefit_figure(comparison),
    }
    blocks = report_blocks(comparison)
    with atomic_folder(out_dir) as tmp:
        comparison.results.to_parquet(tmp / "results.parquet", index=False)
        comparison.outcomes.to_parquet(tmp / "outcomes.parquet", index=False)
        comparison.clients.to_parquet(tmp / "clients.parquet", index=False)
        comparison.effects.to_csv(tmp / "summary.csv", index=False)
        comparison.benefits.to_csv(tmp / "benefits.csv", index=False)
        pngs = {}
        for name in FIGURES:
            png, _ = plots.save_figure(builders[name](), tmp, name)
            pngs[name] = png.read_bytes()
        for label, scenario in zip(comparison.labels, comparison.scenarios, strict=True):
            (tmp / f"scenario_{label}.toml").write_text(scenario_to_toml(scenario))
        (tmp / "report.md").write_text(render_markdown(blocks), encoding="utf-8")
        (tmp / "report.html").write_text(render_html(blocks, pngs), encoding="utf-8")
    return out_dir / "report.html"
