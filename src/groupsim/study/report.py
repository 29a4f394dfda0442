"""The report of a comparison: tables, figures, `report.md` and a self-contained `report.html`.

The report is built once as a :class:`groupsim.document.Document` (headings, paragraphs,
tables, figures) and rendered twice by :mod:`groupsim.document.render`, as Markdown (figures
linked) and as HTML (figures embedded as base64 PNG, so the one file can be mailed or
archived). Every number in it is computed from the runs.

Example:
    >>> from groupsim import compare
    >>> c = compare(["scenarios/no_intervention.toml", "scenarios/home_room.toml"], reps=2,
    ...             workers=1, overrides={"cohort.students_per_faculty": 6}, label=None)
    >>> summary_sentences(c)[0].startswith("home_room raised clients' post-program social")
    True
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

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
from groupsim.document.figures import drawn_figure_bytes, figure_bytes
from groupsim.document.render import write_document
from groupsim.runs.backends import Backend, SerialBackend, opened
from groupsim.runs.execute import map_tasks
from groupsim.runs.store import file_stem, write_folder
from groupsim.scenario import scenario_to_toml
from groupsim.study.client_level import benefit_rows, benefit_sentences, client_level_blocks
from groupsim.study.posterior_effects import posterior_blocks, posterior_folder, posterior_sentences
from groupsim.study.stats import PAIRED_G, PAIRED_TEST, Estimate, bootstrap_mean_difference
from groupsim.study.wording import (
    DASH,
    _decimals,
    _direction,
    _interval,
    _num,
    _p,
    _p_cell,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from groupsim.runs.runner import RunResult
    from groupsim.study.compare import Comparison

__all__ = [
    "FIGURES",
    "REPORT_FILES",
    "report_blocks",
    "summary_sentences",
    "treatment_difference",
    "write_report",
]

#: Files `write_report` writes, besides `NAME.png` and `NAME.svg` for every figure in `FIGURES`
#: and `scenario_LABEL.toml` for every scenario (and `draws.csv` with a posterior). One flat
#: folder: `store.atomic_folder` moves files, not subfolders, into an existing output folder.
REPORT_FILES = (
    "results.parquet",
    "outcomes.parquet",
    "clients.parquet",
    "summary.csv",
    "benefits.csv",
    "client_effects.csv",
    "arms.csv",
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
    "baseline (pre-test week), mid-program, end (post-test week) and follow-up, drawn as on "
    "the teaching page. Nodes are clients (label = faculty number), coloured by social "
    "interaction and sized by self-disclosure; edge width = tie strength.",
    "benefits": "Who benefits: each treatment's effect on clients' post-program social "
    "interaction (treatment minus reference, per client, paired by replication and client) by "
    "tercile of baseline anxiety and of baseline sociability; 95% CIs over replications.",
}


# ---------------------------------------------------------------- numbers in words


def treatment_difference(
    comparison: Comparison, outcome: str, treatment: str, other: str
) -> Estimate:
    """Mean paired difference `treatment - other` in an outcome with a bootstrap 95% CI.

    For comparing two treatments with each other; seeded from the experiment's seed.
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


def _post_program_sentence(label: str, ref: str, effects: pd.DataFrame) -> str:
    """The summary's first sentence of a design: its post-program effect against `ref`."""
    post = effects.loc[("post_social_interaction", label)]
    unclear = "did not clearly change"
    verb = _direction(post["difference_low"], post["difference_high"], "raised", "lowered", unclear)
    # "lowered by 0.180", not "by -0.180": the verb carries the sign.
    amount = (
        f": difference {_num(post['difference'])}"
        if verb == unclear
        else f" by {_num(abs(post['difference']))}"
    )
    return (
        f"{label} {verb} clients' post-program social interaction (latent score 0-1)"
        f"{amount} (95% CI {_interval(post['difference_low'], post['difference_high'], 3)}; "
        f"run-level Hedges' g = {_num(post['hedges_g'], 2)}, 95% CI "
        f"{_interval(post['g_low'], post['g_high'], 2)}; {PAIRED_TEST.split(' (')[0]} "
        f"{_p(post['p_value'])}) relative to {ref}: {_num(post['mean'])} against "
        f"{_num(effects.loc[('post_social_interaction', ref), 'mean'])} on average."
    )


def summary_sentences(comparison: Comparison) -> list[str]:
    """The plain-language summary: sentences built from the effects table."""
    effects = comparison.effects.set_index(["outcome", "scenario"])
    sentences = [f"Warning: {sentence}" for sentence in comparison.mismatches]
    client = comparison.client_effects.set_index(["outcome", "scenario"])
    for label in comparison.treatments:
        ref = comparison.control_of(label)
        post = effects.loc[("post_social_interaction", label)]
        sentences.append(_post_program_sentence(label, ref, effects))
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
        d = client.loc[("questionnaire_post", label)]
        sentences.append(
            f"As a field study would report it, the client-level effect on the post-test total "
            f"was Cohen's d = {_num(d['cohens_d'], 2)} (95% CI "
            f"{_interval(d['d_low'], d['d_high'], 2)}; Hedges' g = {_num(d['hedges_g'], 2)}), "
            f"a difference of {_num(d['difference'], 1)} points over a client-level SD of "
            f"{_num(d['client_sd'], 1)}."
        )
        sentences.extend(benefit_sentences(comparison, label))
    if comparison.posterior is not None:
        sentences.extend(posterior_sentences(comparison))
    treatments = comparison.treatments
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


# ---------------------------------------------------------------- blocks


def _outcome_table(comparison: Comparison, outcome: str) -> pd.DataFrame:
    effects = comparison.effects
    rows = effects[effects["outcome"] == outcome]
    digits = _decimals(rows["unit"].iloc[0])
    table = []
    treatments = comparison.treatments
    # A matched control (`--control auto`) is a control; the first file may be any design.
    role = " (control)" if comparison.controls else " (reference)"
    for _, row in rows.iterrows():
        reference = row["scenario"] not in treatments
        table.append(
            {
                "scenario": row["scenario"] + (role if reference else ""),
                "against": "" if reference else row["reference"],
                "mean": _num(row["mean"], digits),
                "95% CI": _interval(row["mean_low"], row["mean_high"], digits),
                "difference": "" if reference else _num(row["difference"], digits),
                "95% CI (bootstrap)": ""
                if reference
                else _interval(row["difference_low"], row["difference_high"], digits),
                "Hedges' g (run-level)": "" if reference else _num(row["hedges_g"], 2),
                "95% CI of g": "" if reference else _interval(row["g_low"], row["g_high"], 2),
                "p (paired t)": "" if reference else _p_cell(row["p_value"]),
            }
        )
        if comparison.posterior is not None:
            low, high = row["predictive_low"], row["predictive_high"]
            table[-1]["predictive 90% (posterior)"] = (
                "" if reference else _interval(low, high, digits)
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
                "technique": scenario.technique_name,
                "clients": scenario.group.clients,
                "students": scenario.students,
                "sessions": scenario.program.sessions,
                "sessions/week": scenario.program.sessions_per_week,
                "weeks (baseline/program/follow-up)": f"{scenario.program.baseline_weeks}/"
                f"{scenario.program_weeks}/{scenario.program.followup_weeks}",
            }
        )
    return pd.DataFrame(rows)


def _command(comparison: Comparison) -> str:
    given = [s for s in comparison.sources if not s.startswith("(matched")]
    if any(source.startswith("(") or source.startswith("<") for source in given):
        return ""
    sets = "".join(f" --set {k}={v}" for k, v in comparison.overrides.items())
    auto = " --control auto" if comparison.controls else ""
    if comparison.posterior is not None:
        auto += f" --posterior {posterior_folder(comparison.posterior)}"
    files = [source for source in comparison.sources if not source.startswith("(matched")]
    return (
        f"groupsim compare {' '.join(files)} --reps {comparison.reps} "
        f"--seed {comparison.seed}{sets}{auto} --out OUT"
    )


def _summary_blocks(comparison: Comparison) -> list[Block]:
    return [
        Heading("Summary"),
        BulletList(summary_sentences(comparison)),
        Paragraph(
            f"{_against(comparison)}, paired by replication over {comparison.reps} "
            "replications per scenario. Each CI is a 95% interval; no correction for the "
            "number of outcomes compared."
        ),
    ]


def _against(comparison: Comparison) -> str:
    if not comparison.controls:
        return f"Differences are to the first scenario, {comparison.reference} (the reference)"
    pairs = ", ".join(f"{t} against {comparison.control_of(t)}" for t in comparison.treatments)
    return (
        "Each design is compared with its matched no-intervention control (the same cohort, "
        f"group size and calendar, no technique; `--control auto`): {pairs}"
    )


def _design_blocks(comparison: Comparison) -> list[Block]:
    from groupsim._version import __version__
    from groupsim.study.compare import parameter_differences

    blocks: list[Block] = [
        Heading("Design"),
        Paragraph(
            f"{len(comparison.labels)} scenarios, {comparison.reps} replications each "
            f"({len(comparison.labels) * comparison.reps} runs), experiment seed "
            f"{comparison.seed}, groupsim {__version__}. Common random numbers: replication r "
            "of every scenario runs with the same seed (spawned from the experiment seed and r "
            "by numpy's SeedSequence), so it starts from the same cohort, campus network and "
            "screened clients; the scenarios differ only in the parameters below."
        ),
        Table.from_frame(_design_table(comparison)),
        Heading("Parameters that differ between the scenarios", 3),
    ]
    diff = parameter_differences(comparison.scenarios, comparison.labels)
    blocks.append(
        Table.from_frame(diff.astype(str))
        if len(diff)
        else Paragraph("None: the scenarios are identical.")
    )
    if comparison.overrides:
        applied = ", ".join(f"`{k} = {v}`" for k, v in comparison.overrides.items())
        blocks.append(Paragraph(f"Overrides applied to every scenario: {applied}."))
    command = _command(comparison)
    if command:
        blocks += [Paragraph("Reproduce with:"), Code(command, "sh")]
    return blocks


def _methods_blocks(comparison: Comparison) -> list[Block]:
    from groupsim.study.compare import BOOTSTRAP_RESAMPLES

    return [
        Heading("Methods", 3),
        BulletList(
            [
                _time_points(comparison),
                "Mean per scenario: mean over replications with a t-based 95% CI.",
                "Difference to the reference: mean paired difference with a percentile "
                f"bootstrap 95% CI ({BOOTSTRAP_RESAMPLES:,} resamples of replications, "
                "seeded from the experiment seed).",
                f"Run-level effect size: {PAIRED_G}; 95% CI = g ± 1.96 SE (Hedges & Olkin "
                "1985). The standardizer is the spread of run-level means (a whole group's mean) "
                "across replications, not the spread of individual clients, so g says how "
                "reliably a design beats the reference from one simulated group to the "
                "next and is far larger than a field study's client-level effect size.",
                f"Test: {PAIRED_TEST} on the replications' paired values; a p-value is "
                f"'{DASH}' when every paired difference is the same (e.g. both arms constant). "
                "A simulation's p-value shrinks with the replications it is given: with common "
                "random numbers and many replications almost any difference is significant, "
                "so read the size of a difference and its interval, not its p-value.",
            ]
        ),
    ]


def _assumption_blocks(comparison: Comparison) -> list[Block]:
    """What the results rest on and cannot know, said plainly (ODD, calibration, intervals)."""
    if comparison.posterior is None:
        uncertainty = (
            "Every interval above is over the model's replications at fixed parameters: it "
            "says how sure the simulation is of what the model implies, not how sure anyone "
            "can be of the model's parameters. `groupsim calibrate` and `compare --posterior` "
            "add that uncertainty."
        )
    else:
        uncertainty = (
            "Every interval above is over replications whose parameters were drawn from the "
            f"posterior in {posterior_folder(comparison.posterior)}: it holds what the "
            "calibration could not pin down, within the model; it cannot hold what the model "
            "leaves out."
        )
    return [
        Heading("What these results assume and cannot know"),
        BulletList(
            [
                uncertainty,
                "The size of the model's effect is tied to one field study of 22 clients "
                "whose home-room group gained about 27 points (Nur Azizah & Murtafi'ah 2021); "
                "three group-guidance studies left out of the calibration report one-group "
                "gains the calibrated model does not reach (one-group designs, which "
                "overstate; docs/calibration.md), and school-counseling interventions report "
                "about g = 0.3 on average (Lemberger-Truelove et al. 2024). Read differences "
                "as what the model's mechanisms imply, not as a forecast of a field study's "
                "effect; `groupsim power` shows how many groups a smaller effect would need.",
                "How trust, disclosure, ties and a group's climate grow are the model's "
                "assumptions (docs/ODD.md), set to reproduce means and spreads the literature "
                "reports for group treatments, not measured in home-room groups; so are the "
                "counselor differences, dropout and missing answers behind the spreads.",
            ]
        ),
    ]


def _time_points(comparison: Comparison) -> str:
    """Each arm's pre-test, post-test and follow-up weeks: every arm is scored on its own."""
    from groupsim.runs.outcomes import outcome_weeks

    weeks = {label: outcome_weeks(comparison.scenario(label)) for label in comparison.labels}
    text = "Time points, each arm at its own calendar's weeks: "
    if all(w == weeks[comparison.reference] for w in weeks.values()):
        w = weeks[comparison.reference]
        return (
            f"{text}pre-test = week {w['pre']}, post-test = week {w['post']} (last program "
            f"week), follow-up = week {w['followup']} (last week) in every scenario."
        )
    parts = [
        f"{label}: weeks {w['pre']}, {w['post']} and {w['followup']}" for label, w in weeks.items()
    ]
    return f"{text}pre-test, post-test (last program week) and follow-up (last week): " + (
        "; ".join(parts) + "."
    )


def _results_blocks(comparison: Comparison) -> list[Block]:
    from groupsim.study.compare import EFFECT_OUTCOMES

    blocks: list[Block] = [Heading("Results per outcome")]
    for outcome, (description, unit) in EFFECT_OUTCOMES.items():
        blocks.append(Heading(f"{description} ({unit})", 3))
        blocks.append(Table.from_frame(_outcome_table(comparison, outcome)))
    return blocks


def _representative_runs(comparison: Comparison) -> list[tuple[str, int, RunResult]]:
    """Each scenario's representative replication, run again with its students and ties."""
    runs = []
    for label in comparison.labels:
        replication = comparison.representative_replication(label)
        runs.append((label, replication, comparison.rerun(label, replication)))
    return runs


def _draw_figure(comparison: Comparison, name: str) -> Figure:
    """The report's figure `name` (module level, so a worker process can draw it)."""
    from groupsim.study import figures as plots

    if name == "networks":
        return plots.network_figure(_representative_runs(comparison))
    function = {"benefits": "benefit_figure"}.get(name, f"{name}_figure")
    return getattr(plots, function)(comparison)


def _figure_drawer(comparison: Comparison, name: str) -> Callable[[], Figure]:
    """The function that draws figure `name` (looked up when called, so tests can swap it).

    A partial of a module-level function: it pickles, so a backend's worker can draw it.
    """
    return functools.partial(_draw_figure, comparison, name)


def _figure_blocks(comparison: Comparison) -> list[Block]:
    blocks: list[Block] = [Heading("Figures")]
    for name, caption in FIGURES.items():
        blocks.append(FigureBlock(name, caption, _figure_drawer(comparison, name)))
        if name == "networks":
            chosen = ", ".join(
                f"{label}: replication {comparison.representative_replication(label)}"
                for label in comparison.labels
            )
            blocks.append(Paragraph(f"Representative runs: {chosen}."))
    blocks.append(Heading("Who benefits (table)", 3))
    blocks.append(Table.from_frame(benefit_rows(comparison)))
    return blocks


_FILES = BulletList(
    [
        "`results.parquet`: weekly rows of every run with `scenario`, `replication`, `seed`.",
        "`outcomes.parquet`: a row per run with every outcome of "
        "`groupsim.runs.outcomes.OUTCOMES`.",
        "`clients.parquet`: a row per client per run (baseline traits, social "
        "interaction at pre, post and follow-up; questionnaire totals at screening, pre, "
        "post and follow-up, missing flags, reliable change, group, attendance, dropout).",
        "`client_effects.csv`: the client-level effects; `arms.csv`: ICC, reliable change, "
        "attendance and dropout per arm.",
        "`summary.csv`: the effects table (a row per outcome and scenario).",
        "`benefits.csv`: the who-benefits table.",
        "`NAME.png` and `NAME.svg`: every figure; `scenario_LABEL.toml`: the resolved scenarios.",
        "With `--posterior`: `draws.csv`, each replication's particle and parameter values, "
        "and the figure `posterior.png` / `posterior.svg`.",
    ]
)


def report_blocks(comparison: Comparison) -> Document:
    """The report's content, in order: summary, design, methods, results, figures, files.

    Figures are drawn only when the document is written (their blocks carry the drawing
    function), so building the blocks is cheap.
    """
    return Document(
        "groupsim comparison: " + " vs ".join(comparison.labels),
        [
            *_summary_blocks(comparison),
            *_design_blocks(comparison),
            *_methods_blocks(comparison),
            *posterior_blocks(comparison),
            *client_level_blocks(comparison),
            *_results_blocks(comparison),
            *_figure_blocks(comparison),
            *_assumption_blocks(comparison),
            Heading("Files"),
            _FILES,
        ],
    )


#: Figures that do not need the bootstrap, slowest first: with a backend, its workers draw
#: them while this process computes the effects table and draws the rest.
DRAWN_ASIDE = ("networks", "timeseries", "spillover", "benefits", "questionnaire")


def _draw_aside(comparison: Comparison, backend: Backend) -> dict[str, tuple[bytes, bytes]]:
    """The `DRAWN_ASIDE` figures drawn by the backend's workers: name -> PNG and SVG bytes."""
    draws = [_figure_drawer(comparison, name) for name in DRAWN_ASIDE]
    files = map_tasks(drawn_figure_bytes, draws, label=None, backend=backend)
    return dict(zip(DRAWN_ASIDE, files, strict=True))


def write_report(
    comparison: Comparison, out_dir: str | Path, backend: Backend | None = None
) -> Path:
    """Write everything of a comparison into `out_dir` atomically; return `report.html`'s path.

    Writes `REPORT_FILES`, `NAME.png` and `NAME.svg` for every name in `FIGURES`, and
    `scenario_LABEL.toml` (the resolved scenarios).

    With a `backend` of worker processes (`groupsim.runs.backends`; not `SerialBackend`) its
    workers draw the `DRAWN_ASIDE` figures meanwhile; one still open from the comparison's
    runs has them warm (the representative runs are run again there without loading the
    compiled model). The files are the same either way.
    """
    benefits = comparison.benefits  # before the copy below, so the workers get it
    drawing = ThreadPoolExecutor(1)  # only waits on the workers (matplotlib stays here)
    aside = None
    with ExitStack() as backend_open, drawing:
        if backend is not None and not isinstance(backend, SerialBackend):
            # Opened here, before the drawing thread starts: a local pool forks its workers
            # on entering, which must not happen while this process has another thread.
            backend_open.enter_context(opened(backend))
            # A copy: this thread caches the effects on the comparison while it is sent.
            aside = drawing.submit(_draw_aside, copy.copy(comparison), backend)
        tables = {
            "results.parquet": comparison.results,
            "outcomes.parquet": comparison.outcomes,
            "clients.parquet": comparison.clients,
            "summary.csv": comparison.effects,
            "benefits.csv": benefits,
            "client_effects.csv": comparison.client_effects,
            "arms.csv": comparison.arms,
        }
        if comparison.posterior is not None:
            tables["draws.csv"] = comparison.draws
        document = report_blocks(comparison)
        drawn: dict[str, tuple[bytes, bytes]] = {}
        if aside is not None:
            # The other figures here, while the workers draw theirs.
            drawn = {
                block.name: figure_bytes(block.draw())
                for block in document.figures
                if block.name not in DRAWN_ASIDE and block.draw is not None
            }
            drawn |= aside.result()

    def scenarios_and_report(folder: Path) -> None:
        for label, scenario in zip(comparison.labels, comparison.scenarios, strict=True):
            (folder / f"scenario_{file_stem(label)}.toml").write_text(scenario_to_toml(scenario))
        write_document(document, folder, drawn=drawn)

    return write_folder(out_dir, tables, scenarios_and_report) / "report.html"
