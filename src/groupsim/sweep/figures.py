"""Figures of a sweep's analysis: outcomes against parameters, heatmaps, Sobol indices.

Drawn by `groupsim.sweep.analyze` (the Morris, feature-score and PRIM figures are beside
their computations, in `groupsim.sweep.scoring` and `groupsim.sweep.discover`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from groupsim.document.figures import Figure, styled

__all__ = ["plot_effects", "plot_heatmap", "plot_sobol"]


def plot_effects(table: pd.DataFrame, parameters: list[str], outcome: str) -> Figure:
    """An outcome against each varied parameter: mean and 95% CI over runs."""
    with styled():
        fig = Figure(figsize=(3.6 * len(parameters), 3.4), layout="constrained")
        axes = fig.subplots(1, len(parameters), squeeze=False, sharey=True)
        for ax, parameter in zip(axes[0], parameters, strict=True):
            rows = table[table["parameter"] == parameter]
            categorical = rows["value"].map(lambda v: isinstance(v, str)).any()
            x = np.arange(len(rows)) if categorical else rows["value"].astype(float).to_numpy()
            low = (rows["mean"] - rows["ci_low"]).to_numpy()
            high = (rows["ci_high"] - rows["mean"]).to_numpy()
            ax.errorbar(x, rows["mean"], yerr=[low, high], marker="o", capsize=3)
            if categorical:
                ax.set_xticks(x, rows["value"].astype(str))
            ax.set_xlabel(parameter)
        axes[0][0].set_ylabel(outcome)
        fig.suptitle(f"{outcome}: mean and 95% CI over runs")
    return fig


def plot_heatmap(table: pd.DataFrame, first: str, second: str, outcome: str) -> Figure:
    """The mean outcome over the first two varied parameters."""
    grid = table.pivot(index=second, columns=first, values="mean").sort_index(ascending=False)
    size = (max(5.0, 2.0 + 0.8 * grid.shape[1]), max(3.5, 1.5 + 0.6 * grid.shape[0]))
    values = grid.to_numpy(dtype=float)
    with styled(**{"axes.grid": False}):
        fig = Figure(figsize=size, layout="constrained")
        ax = fig.subplots()
        image = ax.imshow(values, aspect="auto", cmap="viridis")
        ax.set_xticks(range(grid.shape[1]), [_label(v) for v in grid.columns], rotation=45)
        ax.set_yticks(range(grid.shape[0]), [_label(v) for v in grid.index])
        ax.set_xlabel(first)
        ax.set_ylabel(second)
        if grid.size <= 100:
            for (i, j), value in np.ndenumerate(values):
                if value == value:
                    ax.text(j, i, f"{value:.2g}", ha="center", va="center", color="w", fontsize=7)
        fig.colorbar(image, ax=ax, label=outcome)
        ax.set_title(f"mean {outcome}")
    return fig


def _label(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def plot_sobol(table: pd.DataFrame, outcome: str) -> Figure:
    """First-order (S1) and total (ST) indices per parameter, with SALib's bootstrap 95% CIs."""
    names = table["parameter"].tolist()
    x = np.arange(len(names))
    with styled():
        fig = Figure(figsize=(1.5 + 1.0 * len(names), 3.6), layout="constrained")
        ax = fig.subplots()
        ax.bar(x - 0.2, table["S1"], 0.4, yerr=table["S1_conf"], capsize=3, label="S1")
        ax.bar(x + 0.2, table["ST"], 0.4, yerr=table["ST_conf"], capsize=3, label="ST")
        ax.axhline(0, color="0.5", lw=0.8)
        ax.set_ylabel("Sobol index (bootstrap 95% CI)")
        ax.set_xticks(x, names, rotation=30, ha="right")
        ax.legend()
        ax.set_title(outcome)
    return fig
