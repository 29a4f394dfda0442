"""Figures of a comparison: time series, group networks, questionnaire totals, who benefits.

Every function takes a :class:`~groupsim.study.compare.Comparison` (or the runs it picked) and
returns a matplotlib `Figure` built without pyplot, so nothing depends on a display or on global
figure state; :func:`save_figure` writes it as PNG and SVG.

Example:
    >>> from groupsim import compare
    >>> from groupsim.study.figures import timeseries_figure
    >>> c = compare(["scenarios/no_intervention.toml", "scenarios/home_room.toml"], reps=2,
    ...             workers=1, overrides={"cohort.students_per_faculty": 6}, label=None)
    >>> [ax.get_title() for ax in timeseries_figure(c).axes][:1]
    ["Clients' social interaction"]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from scipy import stats as sps

from groupsim.model.measures import QUESTIONNAIRE
from groupsim.study.stats import mean_ci

if TYPE_CHECKING:
    from groupsim.runs.runner import RunResult
    from groupsim.study.compare import Comparison

__all__ = [
    "STYLE",
    "benefit_figure",
    "effects_figure",
    "network_figure",
    "questionnaire_figure",
    "save_figure",
    "scenario_colors",
    "spillover_figure",
    "timeseries_figure",
]

#: Matplotlib settings for every figure: legible at the report's width.
STYLE = {
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.labelsize": 10,
    "legend.fontsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "svg.hashsalt": "groupsim",  # stable ids: the same figure gives the same SVG
}

#: Weekly columns of the time-series figure: column -> (title, axis label).
TIMESERIES = {
    "clients_social_interaction": (
        "Clients' social interaction",
        "latent social interaction score (0-1)",
    ),
    "climate": ("Group climate", "psychological safety (0-1)"),
    "group_density": ("Group density", "share of client pairs tied (0-1)"),
}

#: Panels of the spill-over figure: the clients' friends (non-clients tied to a client at
#: screening) and everyone else, where a program's effect beyond its clients would show.
SPILLOVER = {
    "friends_social_interaction": (
        "Clients' friends: social interaction",
        "latent social interaction score (0-1)",
    ),
    "friends_contact_rate": (
        "Clients' friends: campus contact",
        "good exchanges per week (moving average)",
    ),
    "others_social_interaction": (
        "All non-clients: social interaction",
        "latent social interaction score (0-1)",
    ),
}


def scenario_colors(labels: Sequence[str]) -> dict[str, tuple]:
    """A fixed colour per scenario, in order (the reference is grey-blue `tab:blue`)."""
    palette = mpl.colormaps["tab10"].colors
    return {label: palette[index % len(palette)] for index, label in enumerate(labels)}


def _weekly_bands(results: pd.DataFrame, column: str) -> pd.DataFrame:
    """Mean and 95% t-interval over replications, per scenario and week."""
    grouped = results.groupby(["scenario", "week"], sort=False)[column]
    table = grouped.agg(["mean", "std", "count"]).reset_index()
    t = sps.t.ppf(0.975, np.maximum(table["count"] - 1, 1))
    half = t * table["std"].fillna(0.0) / np.sqrt(table["count"])
    table["low"] = table["mean"] - half
    table["high"] = table["mean"] + half
    return table


def _program_span(comparison: Comparison) -> tuple[float, float] | None:
    ref = comparison.results[comparison.results["scenario"] == comparison.reference]
    weeks = ref.loc[ref["phase"] == "program", "week"]
    if weeks.empty:
        return None
    return float(weeks.min()) - 0.5, float(weeks.max()) + 0.5


def timeseries_figure(
    comparison: Comparison,
    panels: dict[str, tuple[str, str]] | None = None,
    title: str = "Weekly course",
) -> Figure:
    """Weekly means with 95% bands, one line per scenario, program weeks shaded.

    Args:
        comparison: the runs.
        panels: weekly column -> (panel title, y label); default `TIMESERIES` (clients' social
            interaction, climate and group density). Scores in 0-1 get a 0-1 axis.
        title: the figure's title (the replication count is added).
    """
    panels = TIMESERIES if panels is None else panels
    colors = scenario_colors(comparison.labels)
    span = _program_span(comparison)
    with mpl.rc_context(STYLE):
        fig = Figure(figsize=(13, 4.2), layout="constrained")
        axes = fig.subplots(1, len(panels))
        for ax, (column, (panel_title, ylabel)) in zip(axes, panels.items(), strict=True):
            bands = _weekly_bands(comparison.results, column)
            if span is not None:
                ax.axvspan(*span, color="0.85", alpha=0.6, lw=0, zorder=0)
            for label in comparison.labels:
                part = bands[bands["scenario"] == label]
                if part["mean"].isna().all():
                    continue  # no group in this scenario (climate is undefined)
                ax.fill_between(
                    part["week"], part["low"], part["high"], color=colors[label], alpha=0.25, lw=0
                )
                ax.plot(part["week"], part["mean"], color=colors[label], lw=2, marker="o", ms=3)
            ax.set_title(panel_title)
            ax.set_xlabel("week (0 = screening)")
            ax.set_ylabel(ylabel)
            if "(0-1)" in ylabel:
                ax.set_ylim(0, 1)
            else:
                ax.set_ylim(bottom=0)
        handles = [Line2D([], [], color=colors[label], lw=2) for label in comparison.labels]
        names = list(comparison.labels)
        if span is not None:
            handles.append(Patch(color="0.85", alpha=0.6))
            names.append("program weeks")
        fig.legend(handles, names, loc="outside lower center", ncols=len(names), frameon=False)
        fig.suptitle(
            f"{title}: mean and 95% CI over {comparison.reps} replications per scenario",
            fontsize=12,
        )
    return fig


def spillover_figure(comparison: Comparison) -> Figure:
    """Beyond the clients: their friends' social interaction and campus contact, and all
    non-clients' social interaction, week by week (`SPILLOVER`).
    """
    return timeseries_figure(comparison, SPILLOVER, "Spill-over beyond the clients")


def _circle_layout(students: pd.DataFrame) -> dict[int, tuple[float, float]]:
    """Clients on a circle, ordered by faculty: the same positions in every panel of a run."""
    order = students.sort_values(["faculty", "student_id"])["student_id"].to_numpy()
    angles = np.pi / 2 - 2 * np.pi * np.arange(len(order)) / max(len(order), 1)
    return {
        int(i): (float(np.cos(a)), float(np.sin(a))) for i, a in zip(order, angles, strict=True)
    }


def network_figure(runs: Sequence[tuple[str, int, RunResult]]) -> Figure:
    """The counseling group's network in one run per scenario at baseline (the pre-test week),
    mid-program, end (the post-test week) and follow-up (`groupsim.study.compare.snapshot_weeks`).

    Args:
        runs: (scenario label, replication, run with `students` and `ties` recorded).

    Nodes are clients (number = faculty), coloured by their social interaction score; edges are
    ties between clients, wider for stronger ties.
    """
    from groupsim.study.compare import snapshot_weeks

    cmap = mpl.colormaps["viridis"]
    norm = mpl.colors.Normalize(0.0, 1.0)
    run_weeks = [snapshot_weeks(r.scenario, int(r.weekly["week"].max())) for _, _, r in runs]
    same_calendar = all(weeks == run_weeks[0] for weeks in run_weeks)
    columns = len(run_weeks[0])
    with mpl.rc_context(STYLE | {"axes.grid": False}):
        fig = Figure(figsize=(3.1 * columns + 1.2, 3.2 * len(runs) + 0.9), layout="constrained")
        axes = np.atleast_2d(fig.subplots(len(runs), columns, squeeze=False))
        for row, (label, replication, result) in enumerate(runs):
            students = result.students
            clients = students[students["client"]]
            layout = _circle_layout(clients[clients["week"] == clients["week"].min()])
            ids = set(layout)
            for col, (when, week) in enumerate(run_weeks[row].items()):
                ax = axes[row, col]
                at = clients[clients["week"] == week].set_index("student_id")
                ties = result.ties[result.ties["week"] == week]
                ties = ties[ties["source"].isin(ids) & ties["target"].isin(ids)]
                segments = [
                    [layout[int(a)], layout[int(b)]]
                    for a, b in zip(ties["source"], ties["target"], strict=True)
                ]
                ax.add_collection(
                    LineCollection(
                        segments,
                        linewidths=0.5 + 6 * ties["strength"].to_numpy(),
                        colors="0.35",
                        alpha=0.75,
                        zorder=1,
                    )
                )
                xy = np.array([layout[int(i)] for i in at.index], dtype=float).reshape(-1, 2)
                ax.scatter(
                    xy[:, 0],
                    xy[:, 1],
                    s=430,
                    c=at["social_interaction"].to_numpy(),
                    cmap=cmap,
                    norm=norm,
                    edgecolors="black",
                    linewidths=0.8,
                    zorder=2,
                )
                scores = at["social_interaction"]
                for (x, y), faculty, score in zip(xy, at["faculty"], scores, strict=True):
                    ax.text(
                        x,
                        y,
                        str(int(faculty) + 1),
                        ha="center",
                        va="center",
                        fontsize=8,
                        color="white" if norm(score) < 0.55 else "black",  # legible on viridis
                        zorder=3,
                    )
                pairs = len(at) * (len(at) - 1) / 2
                density = len(ties) / pairs if pairs else math.nan
                title = f"{when} (week {week})" if row == 0 or not same_calendar else ""
                ax.set_title(title, fontsize=10)
                ax.text(
                    0.5,
                    -0.02,
                    f"{len(ties)} ties, density {density:.2f}",
                    transform=ax.transAxes,
                    ha="center",
                    va="top",
                    fontsize=9,
                )
                ax.set_xlim(-1.3, 1.3)
                ax.set_ylim(-1.3, 1.3)
                ax.set_aspect("equal")
                ax.set_xticks([])
                ax.set_yticks([])
                for spine in ax.spines.values():
                    spine.set_visible(False)
                if col == 0:
                    ax.text(
                        -0.08,
                        0.5,
                        f"{label}\n(replication {replication})",
                        transform=ax.transAxes,
                        rotation=90,
                        ha="right",
                        va="center",
                        fontsize=10,
                        fontweight="bold",
                    )
        bar = fig.colorbar(
            mpl.cm.ScalarMappable(norm=norm, cmap=cmap), ax=axes, shrink=0.6, pad=0.02
        )
        bar.set_label("client's social interaction (latent score 0-1)")
        widths = [Line2D([], [], color="0.35", lw=0.5 + 6 * s) for s in (0.2, 0.5, 1.0)]
        fig.legend(
            widths,
            ["tie strength 0.2", "0.5", "1.0"],
            loc="outside lower center",
            ncols=3,
            frameon=False,
        )
        fig.suptitle(
            "The counseling group's network in a representative run per scenario "
            "(nodes: clients, number = faculty)",
            fontsize=12,
        )
    return fig


def questionnaire_figure(comparison: Comparison) -> Figure:
    """Clients' mean questionnaire totals at pre-test, post-test and follow-up per scenario,
    with 95% CIs over replications (as a field study's pre/post plot).
    """
    colors = scenario_colors(comparison.labels)
    points = {
        "pre-test": "questionnaire_pre",
        "post-test": "questionnaire_post",
        "follow-up": "questionnaire_followup",
    }
    with mpl.rc_context(STYLE):
        fig = Figure(figsize=(7, 4.8), layout="constrained")
        ax = fig.subplots()
        count = len(comparison.labels)
        for index, label in enumerate(comparison.labels):
            runs = comparison.outcomes[comparison.outcomes["scenario"] == label]
            estimates = [mean_ci(runs[column].to_numpy()) for column in points.values()]
            x = np.arange(len(points)) + (index - (count - 1) / 2) * 0.08
            means = np.array([e.value for e in estimates])
            lower = means - np.array([e.low for e in estimates])
            upper = np.array([e.high for e in estimates]) - means
            ax.errorbar(
                x,
                means,
                yerr=np.nan_to_num([lower, upper]),
                color=colors[label],
                marker="o",
                ms=6,
                lw=2,
                capsize=4,
                label=label,
            )
        ax.set_xticks(np.arange(len(points)), list(points))
        ax.set_ylim(QUESTIONNAIRE.minimum, QUESTIONNAIRE.maximum)
        ticks = np.linspace(QUESTIONNAIRE.minimum, QUESTIONNAIRE.maximum, 6)
        ax.set_yticks(ticks, [f"{tick:.0f}" for tick in ticks])  # the scale's ends labelled
        ax.set_ylabel(
            f"clients' mean total ({QUESTIONNAIRE.minimum}-{QUESTIONNAIRE.maximum}; "
            f"{QUESTIONNAIRE.items} items scored {QUESTIONNAIRE.lowest}-{QUESTIONNAIRE.highest})"
        )
        ax.set_xlabel("time point")
        ax.set_title(
            f"Questionnaire totals: mean and 95% CI\nover {comparison.reps} simulated groups "
            "per scenario"
        )
        ax.legend(title="scenario", frameon=False, loc="lower right")
    return fig


def benefit_figure(comparison: Comparison) -> Figure:
    """Each treatment's effect on clients' post-program social interaction by tercile of
    baseline anxiety and of baseline sociability (95% CIs over replications).
    """
    from groupsim.study.compare import MODERATORS, TERCILES

    colors = scenario_colors(comparison.labels)
    benefits = comparison.benefits
    treatments = comparison.labels[1:]
    with mpl.rc_context(STYLE):
        fig = Figure(figsize=(11, 4.6), layout="constrained")
        axes = fig.subplots(1, len(MODERATORS), sharey=True)
        width = 0.8 / max(len(treatments), 1)
        for ax, (moderator, name) in zip(axes, MODERATORS.items(), strict=True):
            part = benefits[benefits["moderator"] == moderator]
            ticks = []
            for index, tercile in enumerate(TERCILES):
                rows = part[part["tercile"] == tercile]
                if len(rows):
                    ticks.append(
                        f"{tercile}\n{rows['trait_low'].iloc[0]:.2f}-"
                        f"{rows['trait_high'].iloc[0]:.2f}"
                    )
                else:
                    ticks.append(tercile)
                for k, label in enumerate(treatments):
                    row = rows[rows["scenario"] == label]
                    if row.empty:
                        continue
                    effect = float(row["effect"].iloc[0])
                    err = [
                        [effect - row["effect_low"].iloc[0]],
                        [row["effect_high"].iloc[0] - effect],
                    ]
                    ax.bar(
                        index + (k - (len(treatments) - 1) / 2) * width,
                        effect,
                        width * 0.9,
                        color=colors[label],
                        yerr=np.nan_to_num(err),
                        capsize=4,
                        label=label if index == 0 else None,
                    )
            ax.axhline(0, color="black", lw=0.8)
            ax.set_xticks(range(len(TERCILES)), ticks)
            ax.set_xlabel(f"tercile of clients' {name} (0-1)")
            ax.set_title(f"By {name}")
        axes[0].set_ylabel(
            f"effect on post-program social interaction\n(score 0-1, minus {comparison.reference})"
        )
        handles, names = axes[0].get_legend_handles_labels()
        fig.legend(handles, names, loc="outside lower center", ncols=len(names), frameon=False)
        fig.suptitle(
            "Who benefits: the effect per client, paired by replication and client "
            "(mean and 95% CI)",
            fontsize=12,
        )
    return fig


def effects_figure(comparison: Comparison) -> Figure:
    """A forest plot: every treatment's difference to the reference in every outcome, with its
    bootstrap 95% CI; outcomes on a 0-1 scale in one panel, questionnaire totals in another.
    """
    colors = scenario_colors(comparison.labels)
    effects = comparison.effects
    effects = effects[effects["scenario"] != comparison.reference]
    treatments = comparison.labels[1:]
    panels = {
        "outcomes on a 0-1 scale": effects[effects["unit"] != "35-140"],
        "questionnaire total (35-140)": effects[effects["unit"] == "35-140"],
    }
    sizes = [max(1, panel["outcome"].nunique()) for panel in panels.values()]
    step = 0.7 / max(len(treatments), 1)
    with mpl.rc_context(STYLE):
        fig = Figure(figsize=(10, 0.45 * sum(sizes) + 2.2), layout="constrained")
        axes = fig.subplots(2, 1, height_ratios=sizes)
        for ax, (title, panel) in zip(axes, panels.items(), strict=True):
            outcomes = list(dict.fromkeys(panel["outcome"]))
            names = panel.drop_duplicates("outcome").set_index("outcome")["description"]
            for k, label in enumerate(treatments):
                rows = panel[panel["scenario"] == label].set_index("outcome").loc[outcomes]
                y = np.arange(len(outcomes)) + (k - (len(treatments) - 1) / 2) * step
                diff = rows["difference"].to_numpy()
                err = [
                    diff - rows["difference_low"].to_numpy(),
                    rows["difference_high"].to_numpy() - diff,
                ]
                ax.errorbar(
                    diff,
                    y,
                    xerr=np.nan_to_num(err),
                    fmt="o",
                    color=colors[label],
                    capsize=3,
                    label=label,
                )
            ax.axvline(0, color="black", lw=0.8)
            ax.set_yticks(np.arange(len(outcomes)), [names[o] for o in outcomes])
            ax.invert_yaxis()
            ax.set_title(title, loc="left", fontsize=10)
        axes[0].set_xlabel(f"difference to {comparison.reference} (score or share, 0-1)")
        axes[1].set_xlabel(f"difference to {comparison.reference} (questionnaire points)")
        axes[0].legend(title="scenario", frameon=False, loc="upper right")
        fig.suptitle(
            f"Effects: mean paired difference and bootstrap 95% CI over {comparison.reps} "
            "replications",
            fontsize=12,
        )
    return fig


def save_figure(fig: Figure, folder: str | Path, name: str) -> list[Path]:
    """Write `fig` as `name.png` (150 dpi) and `name.svg` into `folder`; return both paths."""
    folder = Path(folder)
    png = folder / f"{name}.png"
    svg = folder / f"{name}.svg"
    with mpl.rc_context(STYLE):  # svg.hashsalt applies when saving
        fig.savefig(png, dpi=150, metadata={"Software": None})
        fig.savefig(svg, metadata={"Date": None})
    return [png, svg]
