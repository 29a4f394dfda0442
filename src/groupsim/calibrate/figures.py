"""The calibration's figures: marginal and pairwise posteriors, predictive check, diagnostics."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from groupsim.document.figures import styled

if TYPE_CHECKING:
    from groupsim.calibrate.spec import Parameter
    from groupsim.scenario.posterior import Posterior

__all__ = ["diagnostics_figure", "marginals_figure", "pairs_figure", "predictive_figure"]


def marginals_figure(posterior: Posterior, parameters: tuple[Parameter, ...]) -> Figure:
    """One panel per parameter: the weighted posterior histogram and the prior density."""
    with styled():
        count = len(posterior.parameters)
        fig = Figure(figsize=(3.4 * count, 3.0), layout="constrained")
        axes = fig.subplots(1, count, squeeze=False)[0]
        for ax, parameter in zip(axes, parameters, strict=True):
            values = posterior.table[parameter.path].to_numpy()
            prior = parameter.distribution()
            low = min(values.min(), float(prior.ppf(0.005)))
            high = max(values.max(), float(prior.ppf(0.995)))
            ax.hist(values, bins=20, range=(low, high), weights=posterior.weights, density=True,
                    color="tab:blue", alpha=0.6, label="posterior")  # fmt: skip
            grid = np.linspace(low, high, 200)
            ax.plot(grid, prior.pdf(grid), color="0.3", lw=1.5, label="prior")
            ax.set_xlabel(parameter.path)
            ax.set_ylabel("density")
        axes[0].legend(loc="upper left")
        return fig


def pairs_figure(posterior: Posterior) -> Figure:
    """Every pair of parameters: the particles, sized by weight."""
    with styled():
        names = posterior.parameters
        count = max(len(names) - 1, 1)
        fig = Figure(figsize=(3.0 * count, 3.0 * count), layout="constrained")
        axes = fig.subplots(count, count, squeeze=False)
        sizes = 400 * posterior.weights / posterior.weights.max() * 0.1 + 2
        for row in range(count):
            for col in range(count):
                ax = axes[row][col]
                x, y = col, row + 1
                if len(names) < 2 or x >= y:
                    ax.set_axis_off()
                    continue
                ax.scatter(posterior.table[names[x]], posterior.table[names[y]], s=sizes,
                           alpha=0.4, color="tab:blue", edgecolors="none")  # fmt: skip
                ax.set_xlabel(names[x])
                ax.set_ylabel(names[y])
        return fig


def predictive_figure(predictive: pd.DataFrame) -> Figure:
    """Per target: the predictive 90% interval, its median and the observed value."""
    with styled():
        count = len(predictive)
        fig = Figure(figsize=(7.0, 0.9 + 0.8 * count), layout="constrained")
        axes = fig.subplots(count, 1, squeeze=False)[:, 0]
        for ax, row in zip(axes, predictive.itertuples(), strict=True):
            ax.hlines(0, row.low_5, row.high_95, color="tab:blue", lw=6, alpha=0.5)
            ax.plot([row.predictive_median], [0], "|", color="tab:blue", ms=16, mew=2)
            ax.plot([row.observed], [0], "o", color="black")
            ax.set_yticks([0], [row.target])
            ax.grid(axis="y", visible=False)
        axes[-1].set_xlabel("value (each panel on its own axis)")
        fig.suptitle("Posterior predictive 90% interval (bar), median (tick), observed (dot)")
        return fig


def diagnostics_figure(diagnostics: pd.DataFrame) -> Figure:
    """Epsilon, acceptance rate and effective sample size (beside the particles) by generation.

    Linear axes: the house style shows tick labels as plain text, never mathtext.
    """
    with styled():
        fig = Figure(figsize=(9.0, 2.8), layout="constrained")
        axes = fig.subplots(1, 3)
        t = diagnostics["generation"]
        for ax, column, label in zip(
            axes,
            ("epsilon", "acceptance_rate", "ess"),
            ("epsilon", "acceptance rate", "effective sample size"),
            strict=True,
        ):
            ax.plot(t, diagnostics[column], "o-", color="tab:blue")
            ax.set_xlabel("generation")
            ax.set_ylabel(label)
            ax.set_ylim(bottom=0)
        axes[2].plot(t, diagnostics["particles"], "--", color="0.5", label="particles")
        axes[2].set_ylim(0, 1.05 * diagnostics["particles"].max())
        axes[2].legend(loc="lower left")
        return fig
