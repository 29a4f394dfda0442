"""Which parameters matter: feature scores, replication noise, and the sensitivity figures.

- `feature_scores`: extra-trees importance of each parameter for each outcome (Geurts et al.
  2006; the feature scoring of the EMA Workbench, Kwakkel 2017): a forest of randomised
  trees predicts the outcome from the parameters, and a parameter's score is its share of
  the forest's reduction in variance. Categorical parameters are coded by their values'
  order; scores sum to 1 per outcome. Unlike Sobol or Morris it needs no special design.
- `noise_shares`: the share of an outcome's variance that is replication noise (variance
  between replications of one design point against all variance), and the share of the
  point means' variance that noise still makes up (noise / replications). Sensitivity
  indices computed from noisy point means attribute that share to the parameters
  (spuriously, mostly to interactions): a warning names it.
- `sobol_table`, `morris_table`: SALib's indices per outcome and parameter (Sobol's with
  bootstrap 95% CIs).
- `sobol_warnings`: too few samples (SALib's bootstrap CIs wide, indices outside [0, 1]).
- `plot_morris`: the usual Morris figure, sigma against mu* (Campolongo et al. 2007), with
  the lines sigma = mu* (above: nonlinear or interacting) and sigma = 0.1 mu*.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "MIN_SOBOL_SAMPLES",
    "feature_scores",
    "morris_table",
    "noise_shares",
    "plot_feature_scores",
    "plot_morris",
    "sobol_table",
    "sobol_warnings",
]

#: Below this base sample size (SALib's N) Sobol indices get a warning whatever their CIs.
MIN_SOBOL_SAMPLES = 256
#: A bootstrap 95% CI half-width above this makes an index too uncertain to rank by.
MAX_SOBOL_CONF = 0.1
#: Replication noise above this share of the point means' variance gets a warning.
MAX_NOISE_SHARE = 0.1


def feature_scores(
    cases: pd.DataFrame, parameters: list[str], outcomes: list[str], seed: int
) -> pd.DataFrame:
    """Extra-trees importances: outcome, parameter, score (summing to 1 per outcome)."""
    from sklearn.ensemble import ExtraTreesRegressor

    x = np.column_stack([_coded(cases[name]) for name in parameters])
    rows = []
    for outcome in outcomes:
        y = cases[outcome].to_numpy(dtype=float)
        keep = np.isfinite(y)
        if keep.sum() < 10 or np.nanstd(y) == 0:
            continue
        forest = ExtraTreesRegressor(
            n_estimators=100, min_samples_leaf=2, random_state=seed, n_jobs=1
        )
        forest.fit(x[keep], y[keep])
        for name, score in zip(parameters, forest.feature_importances_, strict=True):
            rows.append((outcome, name, float(score)))
    return pd.DataFrame(rows, columns=["outcome", "parameter", "score"])


def _coded(values: pd.Series) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(values) and values.dtype != bool:
        return values.to_numpy(dtype=float)
    order = {value: code for code, value in enumerate(sorted(values.astype(str).unique()))}
    return values.astype(str).map(order).to_numpy(dtype=float)


def noise_shares(runs: pd.DataFrame, outcomes: list[str], replications: int) -> pd.DataFrame:
    """Per outcome: replication noise as a share of all variance and of the point means'.

    Needs at least two finished replications at some points (else NaN).
    """
    rows = []
    for outcome in outcomes:
        groups = runs.groupby("point")[outcome]
        within = float(groups.var(ddof=1).mean())
        total = float(runs[outcome].var(ddof=1))
        means = float(groups.mean().var(ddof=1))
        share = within / total if total > 0 else np.nan
        in_means = min(1.0, within / replications / means) if means > 0 else np.nan
        rows.append((outcome, within, total, share, in_means))
    columns = ["outcome", "noise_variance", "total_variance", "noise_share", "noise_in_means"]
    return pd.DataFrame(rows, columns=columns)


def sobol_warnings(table: pd.DataFrame, samples: int, noise: pd.DataFrame | None) -> list[str]:
    """Warnings on Sobol indices: small N, wide CIs, indices outside [0, 1], noisy means."""
    notes = []
    for outcome, rows in table.groupby("outcome", sort=False):
        reasons = []
        if samples < MIN_SOBOL_SAMPLES:
            reasons.append(f"N = {samples} base samples (below {MIN_SOBOL_SAMPLES})")
        widest = float(np.nanmax(rows[["S1_conf", "ST_conf"]].to_numpy()))
        if widest > MAX_SOBOL_CONF:
            reasons.append(f"95% CIs up to +/-{widest:.2f}")
        values = rows[["S1", "ST"]].to_numpy()
        if (values < -0.05).any() or (values > 1.05).any():
            reasons.append(f"indices from {np.nanmin(values):.2f} to {np.nanmax(values):.2f}")
        if noise is not None:
            share = noise.set_index("outcome")["noise_in_means"].get(outcome, np.nan)
            if share == share and share > MAX_NOISE_SHARE:
                reasons.append(
                    f"replication noise is {share:.0%} of the point means' variance "
                    "(more replications would shrink it)"
                )
        if reasons:
            notes.append(
                f"Sobol indices of {outcome} are unreliable: {'; '.join(reasons)}. "
                "Raise samples (and replications) before reading them."
            )
    return notes


def _salib_table(
    problem: dict[str, Any],
    point_means: pd.DataFrame,
    outcomes: list[str],
    analyze_outcome: Any,
    indices: tuple[str, ...],
) -> pd.DataFrame:
    """A row per outcome and parameter with the SALib indices named in `indices`."""
    rows = []
    for outcome in outcomes:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = analyze_outcome(point_means[outcome].to_numpy())
        for i, name in enumerate(problem["names"]):
            rows.append((outcome, name, *(result[index][i] for index in indices)))
    return pd.DataFrame(rows, columns=["outcome", "parameter", *indices])


def sobol_table(
    problem: dict[str, Any],
    point_means: pd.DataFrame,
    outcomes: list[str],
    design: dict[str, Any],
    seed: int,
) -> pd.DataFrame:
    """SALib Sobol indices (S1, ST with 95% CIs) per outcome and parameter."""
    from SALib.analyze import sobol

    def analyze_outcome(values: np.ndarray) -> Any:
        return sobol.analyze(problem, values, calc_second_order=design["second_order"], seed=seed)

    return _salib_table(
        problem, point_means, outcomes, analyze_outcome, ("S1", "S1_conf", "ST", "ST_conf")
    )


def morris_table(
    problem: dict[str, Any],
    sample: np.ndarray,
    point_means: pd.DataFrame,
    outcomes: list[str],
    design: dict[str, Any],
    seed: int,
) -> pd.DataFrame:
    """SALib Morris screening (mu, mu*, its 95% CI, sigma) per outcome and parameter."""
    from SALib.analyze import morris

    def analyze_outcome(values: np.ndarray) -> Any:
        return morris.analyze(problem, sample, values, num_levels=design["levels"], seed=seed)

    return _salib_table(
        problem, point_means, outcomes, analyze_outcome, ("mu", "mu_star", "mu_star_conf", "sigma")
    )


def plot_morris(table: pd.DataFrame, outcome: str) -> Any:
    """Sigma against mu* per parameter, mu* with its 95% CI."""
    from groupsim.document.figures import Figure, styled

    with styled():
        fig = Figure(figsize=(5.6, 4.2), layout="constrained")
        ax = fig.subplots()
        ax.errorbar(
            table["mu_star"], table["sigma"], xerr=table["mu_star_conf"], fmt="o", capsize=3
        )
        for _, row in table.iterrows():
            ax.annotate(
                row["parameter"],
                (row["mu_star"], row["sigma"]),
                fontsize=7,
                xytext=(4, 4),
                textcoords="offset points",
            )
        reach = np.concatenate([table["mu_star"] + table["mu_star_conf"], table["sigma"]])
        top = float(np.nanmax(reach)) * 1.25 or 1.0  # room for the CIs and the labels
        line = np.array([0.0, top])
        ax.plot(line, line, color="0.5", ls="--", lw=0.8, label="sigma = mu*")
        ax.plot(line, 0.1 * line, color="0.5", ls=":", lw=0.8, label="sigma = 0.1 mu*")
        ax.set_xlim(0, top)
        ax.set_ylim(0, top)
        ax.set_xlabel("mu* (mean absolute elementary effect, 95% CI)")
        ax.set_ylabel("sigma (spread of elementary effects)")
        ax.legend(loc="upper left")
        ax.set_title(f"Morris screening: {outcome}")
    return fig


def plot_feature_scores(scores: pd.DataFrame) -> Any:
    """A heatmap of extra-trees scores: parameters by outcomes."""
    from groupsim.document.figures import Figure, styled

    grid = scores.pivot(index="parameter", columns="outcome", values="score")
    size = (max(5.0, 2.5 + 0.7 * grid.shape[1]), max(3.0, 1.2 + 0.45 * grid.shape[0]))
    with styled(**{"axes.grid": False}):
        fig = Figure(figsize=size, layout="constrained")
        ax = fig.subplots()
        image = ax.imshow(grid.to_numpy(), aspect="auto", cmap="viridis", vmin=0, vmax=1)
        ax.set_xticks(range(grid.shape[1]), list(grid.columns), rotation=40, ha="right")
        ax.set_yticks(range(grid.shape[0]), list(grid.index))
        for (i, j), value in np.ndenumerate(grid.to_numpy()):
            ax.text(
                j,
                i,
                f"{value:.2f}",
                ha="center",
                va="center",
                fontsize=7,
                color="w" if value < 0.6 else "k",
            )
        fig.colorbar(image, ax=ax, label="importance")
        ax.set_title("Feature scores (extra trees)")
    return fig
