"""The power analysis' figures: the power curve (with type I error) and the seed design's bias.

Drawn from a :class:`~groupsim.study.power.PowerAnalysis` in the house style of
:mod:`groupsim.document.figures`; :mod:`groupsim.study.power_report` puts them in the report.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from groupsim.document.figures import Figure, styled
from groupsim.model.measures import QUESTIONNAIRE

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from groupsim.study.power import PowerAnalysis

__all__ = ["bias_figure", "power_curve_figure"]

POINTS = f"questionnaire points ({QUESTIONNAIRE.minimum}-{QUESTIONNAIRE.maximum})"


def _curve(ax: Axes, table: Any, column: str, label: str, nudge: float, **style: Any) -> None:
    """One test's power (or rejection rate) with its Wilson CI against groups per arm."""
    k = table["groups_per_arm"].to_numpy()
    y = table[column].to_numpy(dtype=float)
    errors = np.vstack([y - table[f"{column}_low"], table[f"{column}_high"] - y])
    # Nudge each line sideways a little so equal powers (often 1.0) stay visible.
    ax.errorbar(k * nudge, y, yerr=errors, capsize=3, label=label, **style)


def _power_panel(ax: Axes, analysis: PowerAnalysis) -> None:
    """Left: the primary test's power per group size, the formula's, and assurance if any."""
    sizes = analysis.clients
    colours = ("tab:blue", "tab:orange", "tab:green", "tab:purple", "tab:brown", "tab:pink")
    assured = "assurance" in analysis.table
    for i, m in enumerate(sizes):
        rows = analysis.table[analysis.table["clients_per_group"] == m]
        colour = colours[i % len(colours)]
        nudge = 1.0 + 0.03 * (i - (len(sizes) - 1) / 2)
        where = " at the posterior median" if assured else ""
        label = f"{m} clients per group{where}"
        _curve(ax, rows, "power_primary", label, nudge, marker="o", color=colour)
        ax.plot(
            rows["groups_per_arm"] * nudge,
            rows["formula_power_mixed"],
            ls=":",
            color=colour,
            label=f"{m} per group, design-effect formula",
        )
        _icc_band(ax, analysis, m, nudge, colour)
        if assured:
            label = f"{m} per group, assurance over the posterior"
            style = {"marker": "s", "ls": "--", "color": colour, "mfc": "white"}
            _curve(ax, rows, "assurance", label, nudge * 1.02, **style)
    ax.axhline(analysis.target, color="tab:red", lw=1, ls="--", label=f"target {analysis.target:g}")
    ax.set_ylabel("power of the primary test (share of studies with p < alpha)")
    ax.set_title("Power by design (95% Wilson CIs)", fontsize=10)


def _icc_band(ax: Axes, analysis: PowerAnalysis, m: int, nudge: float, colour: str) -> None:
    """The formula's power from the largest assumed ICC to the smallest, shaded (`--icc`)."""
    sensitivity = analysis.icc_sensitivity
    if sensitivity.empty:
        return
    rows = sensitivity[sensitivity["clients_per_group"] == m]
    by_icc = rows.pivot(index="groups_per_arm", columns="assumed_icc", values="formula_power")
    low, high = by_icc.min(axis=1), by_icc.max(axis=1)
    iccs = by_icc.columns
    span = f"{iccs.min():g}-{iccs.max():g}" if len(iccs) > 1 else f"{iccs[0]:g}"
    ax.fill_between(
        by_icc.index * nudge,
        low,
        high,
        color=colour,
        alpha=0.12,
        lw=0,
        label=f"{m} per group, formula at ICC {span}",
    )


def _null_panel(ax: Axes, analysis: PowerAnalysis) -> None:
    """Right: type I error, home room vs itself, per test (the largest group size)."""
    m = max(analysis.clients)
    rows = analysis.table[analysis.table["clients_per_group"] == m]
    tests = (
        ("null_treatment_primary", "primary test", "o", "tab:blue"),
        ("null_treatment_mixed", "mixed model (Satterthwaite)", "v", "tab:purple"),
        ("null_treatment_cluster", "cluster-level analysis", "D", "tab:green"),
        ("null_treatment_ancova", "ANCOVA on clients (liberal)", "^", "tab:gray"),
    )
    for i, (column, label, marker, colour) in enumerate(tests):
        if column in rows:
            nudge = 1.0 + 0.03 * (i - 1.5)
            _curve(ax, rows, column, label, nudge, marker=marker, color=colour, mfc="white")
    ax.axhline(analysis.alpha, color="tab:red", lw=1, ls="--", label=f"alpha = {analysis.alpha:g}")
    ax.set_ylabel("type I error (share of null studies with p < alpha)")
    ax.set_title(f"{analysis.treatment.name} vs itself, {m} clients per group", fontsize=10)


def power_curve_figure(analysis: PowerAnalysis) -> Figure:
    """Power vs groups per arm per group size (with the formula), and the type I error."""
    k = analysis.table["groups_per_arm"].drop_duplicates().sort_values().to_numpy()
    with styled():
        fig = Figure(figsize=(11.0, 5.0), layout="constrained")
        power_ax, null_ax = fig.subplots(1, 2)
        _power_panel(power_ax, analysis)
        _null_panel(null_ax, analysis)
        power_ax.set_ylim(-0.02, 1.02)
        for ax in (power_ax, null_ax):
            ax.set_xscale("log", base=2)
            ax.set_xticks(k, [str(g) for g in k])
            ax.minorticks_off()
            ax.set_xlabel("groups per arm")
            # Below the axes: inside, it would hide curves that span the whole height.
            ax.legend(fontsize=7.5, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2)
        fig.suptitle(
            f"{analysis.treatment.name} vs {analysis.control.name}: "
            f"{analysis.reps} simulated studies per design",
            fontsize=11,
        )
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
