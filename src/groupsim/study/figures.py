"""Figures of a comparison: time series, group networks, questionnaire totals, who benefits.

Every function takes a :class:`~groupsim.study.compare.Comparison` (or the runs it picked) and
returns a matplotlib `Figure` built without pyplot, so nothing depends on a display or on global
figure state, in the house style of :mod:`groupsim.document.figures` (whose
:func:`~groupsim.document.figures.save_figure` writes it as PNG and deterministic SVG). The
group networks are the same picture as the teaching page's
(:func:`groupsim.document.network.network_scene`), drawn with matplotlib.

Example:
    >>> from groupsim import compare
    >>> from groupsim.study.figures import timeseries_figure
    >>> c = compare(["scenarios/no_intervention.toml", "scenarios/home_room.toml"], reps=2,
    ...             workers=1, overrides={"cohort.students_per_faculty": 6}, label=None)
    >>> [ax.get_title() for ax in timeseries_figure(c).axes][:1]
    ["Clients' social interaction"]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.colors import ListedColormap, Normalize
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from scipy.special import stdtrit

from groupsim.document.figures import Figure, styled
from groupsim.document.network import (
    NetworkScene,
    faculty_layout,
    network_scene,
    pictures_from_result,
    tie_width,
)
from groupsim.document.network_draw import colour_map, draw_scene
from groupsim.model.measures import QUESTIONNAIRE
from groupsim.study.stats import mean_ci

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from groupsim.runs.runner import RunResult
    from groupsim.study.compare import Comparison

__all__ = [
    "benefit_figure",
    "effects_figure",
    "network_figure",
    "questionnaire_figure",
    "scenario_colors",
    "spillover_figure",
    "timeseries_figure",
]

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


def scenario_colors(labels: Sequence[str]) -> dict[str, Any]:
    """A fixed colour per scenario, in order (the reference is grey-blue `tab:blue`)."""
    tab10 = mpl.colormaps["tab10"]
    assert isinstance(tab10, ListedColormap), "tab10 is a list of colours"
    palette = cast("Sequence[Any]", tab10.colors)
    return {label: palette[index % len(palette)] for index, label in enumerate(labels)}


def _weekly_bands(results: pd.DataFrame, column: str) -> pd.DataFrame:
    """Mean and 95% t-interval over replications, per scenario and week."""
    series = results[["scenario", "week"]].assign(value=plotted_series(results, column))
    grouped = series.groupby(["scenario", "week"], sort=False)["value"]
    table = grouped.agg(["mean", "std", "count"]).reset_index()
    t = stdtrit(np.maximum(table["count"] - 1, 1), 0.975)  # scipy.stats.t.ppf, lighter import
    half = t * table["std"].fillna(0.0) / np.sqrt(table["count"])
    table["low"] = table["mean"] - half
    table["high"] = table["mean"] + half
    return table


#: Weekly columns that exist only while a group meets: drawn in the program weeks alone.
GROUP_ONLY = ("climate",)


def plotted_series(results: pd.DataFrame, column: str) -> pd.Series:
    """A weekly column as the figures draw it: NaN outside the program weeks if group-only.

    Group climate is the psychological safety *of a meeting group*: before the first session
    and after the last there is no group to be safe in, whatever value the model carries.
    """
    values = results[column].astype(float)
    if column in GROUP_ONLY:
        values = values.where(results["phase"] == "program")
    return values


#: Height of an arm's program-weeks bar, as a share of the panel.
SPAN_BAR = 0.035


def program_spans(comparison: Comparison) -> dict[tuple[float, float], list[str]]:
    """Each arm's program weeks as a shaded span (week edges) -> the arms with that span.

    Arms without program weeks (e.g. no follow-up and no group) have no span.
    """
    spans: dict[tuple[float, float], list[str]] = {}
    for label in comparison.labels:
        arm = comparison.results[comparison.results["scenario"] == label]
        weeks = arm.loc[arm["phase"] == "program", "week"]
        if not weeks.empty:
            span = float(weeks.min()) - 0.5, float(weeks.max()) + 0.5
            spans.setdefault(span, []).append(label)
    return spans


def _shade_programs(
    ax: Axes, spans: dict[tuple[float, float], list[str]], colors: dict[str, Any]
) -> None:
    """One grey span when every arm shares its program weeks.

    Otherwise a bar along the top in each arm's colour, with dashed edges: overlapping tints
    would mix into colours no arm has.
    """
    if len(spans) == 1:
        ax.axvspan(*next(iter(spans)), color="0.85", alpha=0.6, lw=0, zorder=0)
        return
    for index, (span, labels) in enumerate(spans.items()):
        color = colors[labels[0]]
        top = 1.0 - SPAN_BAR * index
        ax.axvspan(*span, ymin=top - SPAN_BAR * 0.8, ymax=top, color=color, alpha=0.7, lw=0)
        for edge in span:
            ax.axvline(edge, color=color, lw=1, ls="--", alpha=0.6, zorder=0)


def _span_legend(
    spans: dict[tuple[float, float], list[str]], colors: dict[str, Any]
) -> tuple[list[Artist], list[str]]:
    if len(spans) == 1:
        return [Patch(color="0.85", alpha=0.6)], ["program weeks"]
    handles: list[Artist] = [Patch(color=colors[labels[0]], alpha=0.7) for labels in spans.values()]
    names = [f"program weeks of {', '.join(labels)}" for labels in spans.values()]
    return handles, names


def timeseries_figure(
    comparison: Comparison,
    panels: dict[str, tuple[str, str]] | None = None,
    title: str = "Weekly course",
) -> Figure:
    """Weekly means with 95% bands, one line per scenario, each arm's program weeks shaded.

    Group climate is drawn only in the program weeks (`plotted_series`).

    Args:
        comparison: the runs.
        panels: weekly column -> (panel title, y label); default `TIMESERIES` (clients' social
            interaction, climate and group density). Scores in 0-1 get a 0-1 axis.
        title: the figure's title (the replication count is added).
    """
    panels = TIMESERIES if panels is None else panels
    colors = scenario_colors(comparison.labels)
    spans = program_spans(comparison)
    weeks = int(comparison.results["week"].min()), int(comparison.results["week"].max())
    with styled():
        fig = Figure(figsize=(13, 4.2), layout="constrained")
        axes = fig.subplots(1, len(panels))
        for ax, (column, (panel_title, ylabel)) in zip(axes, panels.items(), strict=True):
            bands = _weekly_bands(comparison.results, column)
            _shade_programs(ax, spans, colors)
            ax.set_xlim(weeks[0] - 0.5, weeks[1] + 0.5)  # climate's panel too
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
        handles: list[Artist] = [
            Line2D([], [], color=colors[label], lw=2) for label in comparison.labels
        ]
        names = list(comparison.labels)
        span_handles, span_names = _span_legend(spans, colors)
        handles += span_handles
        names += span_names
        fig.legend(
            handles,
            names,
            loc="outside lower center",
            ncols=len(names) if len(names) <= 4 else -(-len(names) // 2),
            frameon=False,
        )
        fig.suptitle(
            f"{title}: mean and 95% CI over {comparison.reps} replications per scenario",
        )
    return fig


def spillover_figure(comparison: Comparison) -> Figure:
    """Beyond the clients: their friends and all non-clients, week by week (`SPILLOVER`).

    Panels: the friends' social interaction and campus contact, and all non-clients' social
    interaction.
    """
    return timeseries_figure(comparison, SPILLOVER, "Spill-over beyond the clients")


#: Half the visible width and height of a network panel in layout units: the clients' ring
#: (radius 0.55) with room for the labels outside it.
NETWORK_EXTENT = (0.85, 0.85)


def _snapshot_scenes(result: RunResult, weeks: dict[str, int]) -> list[tuple[str, int, Any]]:
    """The group at each snapshot week of one run, on one layout, labelled by faculty number.

    Only the clients are drawn (no campus friends): the report compares the group itself.
    """
    first = result.students[result.students["week"] == result.students["week"].min()]
    faculty = first.sort_values("student_id")["faculty"].to_numpy()
    clients = [int(i) for i in result.questionnaire["student_id"]]
    positions = faculty_layout(faculty, clients)
    labels = {i: str(int(faculty[i]) + 1) for i in clients}
    drawn = pictures_from_result(result, context=False, weeks=weeks.values())
    pictures = {p.week: p for p in drawn}
    return [
        (when, week, network_scene(pictures[week], positions, labels))
        for when, week in weeks.items()
    ]


def _network_panel(ax: Axes, scene: NetworkScene, title: str) -> float:
    """One week of one run: the drawing, its title and its tie count; returns points per unit."""
    points = draw_scene(ax, scene, extent=NETWORK_EXTENT, font_size=8)
    ax.set_title(title, fontsize=10)
    ax.text(
        0.5,
        -0.02,
        f"{scene.group_ties} ties, density {scene.density:.2f}",
        transform=ax.transAxes,
        ha="center",
        va="top",
        fontsize=9,
    )
    return points


def _row_label(ax: Axes, label: str, replication: int) -> None:
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


def _network_legends(fig: Figure, axes: Any, points: float) -> None:
    """The colour bar (social interaction) and the tie widths, at the panels' scale."""
    bar = fig.colorbar(
        mpl.cm.ScalarMappable(norm=Normalize(0.0, 1.0), cmap=colour_map()),
        ax=axes,
        shrink=0.6,
        pad=0.02,
    )
    bar.set_label("client's social interaction (latent score 0-1)")
    widths = [
        Line2D([], [], color="#37474f", lw=tie_width(s) * points, alpha=0.85)
        for s in (0.2, 0.5, 1.0)
    ]
    fig.legend(
        widths,
        ["tie strength 0.2", "0.5", "1.0"],
        loc="outside lower center",
        ncols=3,
        frameon=False,
    )


def network_figure(runs: Sequence[tuple[str, int, RunResult]]) -> Figure:
    """The counseling group's network in one run per scenario at four snapshot weeks.

    The weeks are baseline (the pre-test week), mid-program, end (the post-test week) and
    follow-up (`groupsim.study.compare.snapshot_weeks`).

    Args:
        runs: (scenario label, replication, run with `students` and `ties` recorded).

    The picture is the teaching page's (:func:`groupsim.document.network.network_scene`):
    nodes are clients (label = faculty number), coloured by their social interaction score and
    sized by self-disclosure; edges are ties between clients, wider for stronger ties.
    """
    from groupsim.study.compare import snapshot_weeks

    run_weeks = [snapshot_weeks(r.scenario, int(r.weekly["week"].max())) for _, _, r in runs]
    same_calendar = all(weeks == run_weeks[0] for weeks in run_weeks)
    columns = len(run_weeks[0])
    with styled(**{"axes.grid": False}):
        fig = Figure(figsize=(3.1 * columns + 1.2, 3.2 * len(runs) + 0.9), layout="constrained")
        axes = fig.subplots(len(runs), columns, squeeze=False)
        points = 1.0
        for row, ((label, replication, result), weeks) in enumerate(
            zip(runs, run_weeks, strict=True)
        ):
            for col, (when, week, scene) in enumerate(_snapshot_scenes(result, weeks)):
                title = f"{when} (week {week})" if row == 0 or not same_calendar else ""
                points = _network_panel(axes[row, col], scene, title)
            _row_label(axes[row, 0], label, replication)
        _network_legends(fig, axes, points)
        fig.suptitle(
            "The counseling group's network in a representative run per scenario "
            "(nodes: clients, label = faculty number, size = self-disclosure)",
        )
    return fig


def questionnaire_figure(comparison: Comparison) -> Figure:
    """Clients' mean questionnaire totals at pre-test, post-test and follow-up per scenario.

    With 95% CIs over replications, as a field study's pre/post plot.
    """
    colors = scenario_colors(comparison.labels)
    points = {
        "pre-test": "questionnaire_pre",
        "post-test": "questionnaire_post",
        "follow-up": "questionnaire_followup",
    }
    with styled():
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
    """Each treatment's effect on clients' post-program social interaction, by tercile.

    Terciles of baseline anxiety and of baseline sociability; 95% CIs over replications.
    """
    from groupsim.study.compare import MODERATORS, TERCILES

    colors = scenario_colors(comparison.labels)
    benefits = comparison.benefits
    treatments = comparison.treatments
    with styled():
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
            f"effect on post-program social interaction\n(score 0-1, minus {_against(comparison)})"
        )
        handles, names = axes[0].get_legend_handles_labels()
        fig.legend(handles, names, loc="outside lower center", ncols=len(names), frameon=False)
        fig.suptitle(
            "Who benefits: the effect per client, paired by replication and client "
            "(mean and 95% CI)",
        )
    return fig


def effects_figure(comparison: Comparison) -> Figure:
    """A forest plot: every treatment's difference to the reference in every outcome.

    Each with its bootstrap 95% CI; outcomes on a 0-1 scale in one panel, questionnaire totals
    in another.
    """
    colors = scenario_colors(comparison.labels)
    effects = comparison.effects
    treatments = comparison.treatments
    effects = effects[effects["scenario"].isin(treatments)]
    panels = {
        "outcomes on a 0-1 scale": effects[effects["unit"] != "35-140"],
        "questionnaire total (35-140)": effects[effects["unit"] == "35-140"],
    }
    sizes = [max(1, panel["outcome"].nunique()) for panel in panels.values()]
    step = 0.7 / max(len(treatments), 1)
    with styled():
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
        axes[0].set_xlabel(f"difference to {_against(comparison)} (score or share, 0-1)")
        axes[1].set_xlabel(f"difference to {_against(comparison)} (questionnaire points)")
        axes[0].legend(title="scenario", frameon=False, loc="upper right")
        fig.suptitle(
            f"Effects: mean paired difference and bootstrap 95% CI over {comparison.reps} "
            "replications",
        )
    return fig


def _against(comparison: Comparison) -> str:
    """What the effects are differences to: the reference, or each design's matched control."""
    return "its matched control" if comparison.controls else comparison.reference
