"""Analysing a sweep folder: outcomes against parameters, heatmaps, sensitivity indices.

`analyze(folder)` reads a sweep folder (see `groupsim.sweep.store`) and writes, into
``folder/analysis/`` (atomically):

- ``effects.csv`` and ``effect_<outcome>.png``: each outcome against each varied parameter,
  mean and 95% CI over runs (sampled designs: by bins of the parameter's values);
- ``points.csv``: mean of each outcome at each design point, with run and failure counts;
- ``heatmap.csv`` and ``heatmap_<outcome>.png``: the mean outcome over the first two varied
  parameters;
- ``sobol.csv`` and ``sobol_<outcome>.png`` (design `sobol`): SALib's first-order (S1) and
  total (ST) indices with 95% CIs; ``morris.csv`` and ``morris_<outcome>.png`` (design
  `morris`): mu* with its CI, and sigma;
- ``failures.csv``: runs that failed and never finished (run id, point, replication, seed,
  error); ``README.md``: what is where, and what is missing.

Sensitivity indices use each point's mean over its replications (replications average out
the model's own noise, which is not a parameter).

Example:
    >>> import tempfile
    >>> from groupsim.sweep.spec import load_sweep
    >>> from groupsim.sweep.run import run_sweep
    >>> out = tempfile.mkdtemp() + "/quick"
    >>> _ = run_sweep(load_sweep("scenarios/sweeps/quick.toml"), out, label=None)
    >>> report = analyze(out)
    >>> report.failed, "effects.csv" in report.files
    (0, True)
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from groupsim.runs.store import atomic_folder
from groupsim.sweep.spec import SweepError
from groupsim.sweep.store import SweepStore

__all__ = ["AnalysisReport", "analyze", "effect_table", "morris_table", "sobol_table"]

#: Most bins a sampled parameter's values are cut into for the effect tables and heatmaps.
MAX_BINS = 8


@dataclass
class AnalysisReport:
    """What `analyze` wrote and found."""

    folder: Path
    files: list[str] = field(default_factory=list)
    runs: int = 0
    finished: int = 0
    failed: int = 0
    missing: int = 0
    notes: list[str] = field(default_factory=list)


def analyze(folder: str | Path, outcomes: list[str] | None = None) -> AnalysisReport:
    """Write the tables and figures of a sweep folder into ``folder/analysis/``.

    Args:
        folder: a sweep folder written by `groupsim sweep`.
        outcomes: the outcomes to analyse (default: all the sweep kept).

    Raises:
        SweepError: the folder holds no sweep, or an outcome was not kept.
    """
    folder = Path(folder)
    store = SweepStore(folder)
    if not store.exists():
        raise SweepError(f"{folder}: DIR: holds no sweep (no manifest.json)")
    manifest = store.read_manifest()
    kept = manifest["outcomes"]
    outcomes = list(outcomes or kept)
    for name in outcomes:
        if name not in kept:
            raise SweepError(f"--outcome: {name!r} was not kept by this sweep; kept: {kept}")
    design = manifest["design"]
    parameters = list(design["parameters"])
    runs = store.runs()
    points = pd.read_parquet(folder / "points.parquet")
    ok = runs[runs["status"] == "ok"] if len(runs) else runs
    failures = store.failures()
    report = AnalysisReport(
        folder / "analysis",
        runs=design["runs"],
        finished=len(ok),
        failed=len(failures),
        missing=design["runs"] - len(runs),
    )
    with atomic_folder(folder / "analysis") as tmp:
        failures.to_csv(tmp / "failures.csv", index=False)
        report.files.append("failures.csv")
        if ok.empty:
            report.notes.append("no finished runs: nothing to analyse")
        else:
            _write_tables_and_figures(tmp, report, ok, points, parameters, outcomes, manifest)
        (tmp / "README.md").write_text(_readme(manifest, report))
        report.files.append("README.md")
    return report


def _write_tables_and_figures(
    tmp: Path,
    report: AnalysisReport,
    ok: pd.DataFrame,
    points: pd.DataFrame,
    parameters: list[str],
    outcomes: list[str],
    manifest: dict[str, Any],
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    design = manifest["design"]
    sampled = design["design"] != "grid"
    means = ok.groupby("point")[outcomes].mean()
    counts = ok.groupby("point").size().rename("finished_runs")
    point_table = points[["point", *parameters]].set_index("point").join(counts).join(means)
    point_table["finished_runs"] = point_table["finished_runs"].fillna(0).astype(int)
    point_table.to_csv(tmp / "points.csv")
    report.files.append("points.csv")

    effects = effect_table(ok, parameters, outcomes, sampled)
    effects.to_csv(tmp / "effects.csv", index=False)
    report.files.append("effects.csv")
    for outcome in outcomes:
        name = f"effect_{outcome}.png"
        _plot_effects(effects[effects["outcome"] == outcome], parameters, outcome, tmp / name)
        report.files.append(name)

    if len(parameters) >= 2:
        first, second = parameters[:2]
        heat = _heatmap_table(ok, first, second, outcomes, sampled)
        heat.to_csv(tmp / "heatmap.csv", index=False)
        report.files.append("heatmap.csv")
        for outcome in outcomes:
            name = f"heatmap_{outcome}.png"
            _plot_heatmap(heat[heat["outcome"] == outcome], first, second, outcome, tmp / name)
            report.files.append(name)

    if design["design"] in ("sobol", "morris"):
        problem = {
            "num_vars": len(parameters),
            "names": parameters,
            "bounds": [
                [design["parameters"][p]["min"], design["parameters"][p]["max"]] for p in parameters
            ],
        }
        full = means.reindex(points["point"])
        complete = [o for o in outcomes if full[o].notna().all() and full[o].std() > 0]
        for o in outcomes:
            if o not in complete:
                report.notes.append(
                    f"{design['design']} indices of {o} skipped: some points have no finished "
                    "run or a missing value, or the outcome does not vary"
                )
        if design["design"] == "sobol":
            table = sobol_table(problem, full, complete, design, manifest["seed"])
        else:
            raw = points[[f"sampled[{p}]" for p in parameters]].to_numpy()
            table = morris_table(problem, raw, full, complete, design, manifest["seed"])
        kind = design["design"]
        table.to_csv(tmp / f"{kind}.csv", index=False)
        report.files.append(f"{kind}.csv")
        for outcome in complete:
            name = f"{kind}_{outcome}.png"
            _plot_indices(table[table["outcome"] == outcome], kind, outcome, tmp / name)
            report.files.append(name)


def _groups(values: pd.Series, sampled: bool) -> pd.Series:
    """The value a run is grouped under: itself, or (sampled designs) its bin's mean."""
    if not sampled or values.nunique() <= MAX_BINS:
        return values
    bins = pd.qcut(values, q=MAX_BINS, duplicates="drop")
    return values.groupby(bins, observed=True).transform("mean")


def _mean_ci(values: pd.Series) -> tuple[int, float, float, float]:
    """n, mean and the t-based 95% CI of the mean."""
    from scipy import stats

    values = values.dropna()
    n = len(values)
    mean = float(values.mean()) if n else math.nan
    if n < 2:
        return n, mean, math.nan, math.nan
    half = float(stats.t.ppf(0.975, n - 1) * values.std(ddof=1) / math.sqrt(n))
    return n, mean, mean - half, mean + half


def effect_table(
    runs: pd.DataFrame, parameters: list[str], outcomes: list[str], sampled: bool = False
) -> pd.DataFrame:
    """Long table: parameter, value, outcome, n, mean, ci_low, ci_high (over runs)."""
    rows = []
    for parameter in parameters:
        key = _groups(runs[parameter], sampled)
        for value, group in runs.groupby(key, sort=True):
            for outcome in outcomes:
                n, mean, low, high = _mean_ci(group[outcome])
                rows.append((parameter, value, outcome, n, mean, low, high))
    columns = ["parameter", "value", "outcome", "n", "mean", "ci_low", "ci_high"]
    return pd.DataFrame(rows, columns=columns)


def _heatmap_table(
    runs: pd.DataFrame, first: str, second: str, outcomes: list[str], sampled: bool
) -> pd.DataFrame:
    keys = [
        _groups(runs[first], sampled).rename(first),
        _groups(runs[second], sampled).rename(second),
    ]
    table = runs.groupby(keys)[outcomes].mean().reset_index()
    return table.melt(id_vars=[first, second], var_name="outcome", value_name="mean")


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


# ---------------------------------------------------------------------------- figures


def _plot_effects(table: pd.DataFrame, parameters: list[str], outcome: str, path: Path) -> None:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(
        1, len(parameters), figsize=(3.6 * len(parameters), 3.2), squeeze=False, sharey=True
    )
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
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _plot_heatmap(table: pd.DataFrame, first: str, second: str, outcome: str, path: Path) -> None:
    import matplotlib.pyplot as plt

    grid = table.pivot(index=second, columns=first, values="mean").sort_index(ascending=False)
    size = (max(5.0, 2.0 + 0.8 * grid.shape[1]), max(3.5, 1.5 + 0.6 * grid.shape[0]))
    fig, ax = plt.subplots(figsize=size)
    image = ax.imshow(grid.to_numpy(dtype=float), aspect="auto", cmap="viridis")
    ax.set_xticks(range(grid.shape[1]), [_label(v) for v in grid.columns], rotation=45)
    ax.set_yticks(range(grid.shape[0]), [_label(v) for v in grid.index])
    ax.set_xlabel(first)
    ax.set_ylabel(second)
    if grid.size <= 100:
        for (i, j), value in np.ndenumerate(grid.to_numpy(dtype=float)):
            if value == value:
                ax.text(j, i, f"{value:.2g}", ha="center", va="center", color="w", fontsize=7)
    fig.colorbar(image, ax=ax, label=outcome)
    ax.set_title(f"mean {outcome}")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _label(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def _plot_indices(table: pd.DataFrame, kind: str, outcome: str, path: Path) -> None:
    import matplotlib.pyplot as plt

    names = table["parameter"].tolist()
    x = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(1.5 + 1.0 * len(names), 3.6))
    if kind == "sobol":
        ax.bar(x - 0.2, table["S1"], 0.4, yerr=table["S1_conf"], capsize=3, label="S1")
        ax.bar(x + 0.2, table["ST"], 0.4, yerr=table["ST_conf"], capsize=3, label="ST")
        ax.set_ylabel("Sobol index (95% CI)")
    else:
        ax.bar(x - 0.2, table["mu_star"], 0.4, yerr=table["mu_star_conf"], capsize=3, label="mu*")
        ax.bar(x + 0.2, table["sigma"], 0.4, label="sigma")
        ax.set_ylabel("Morris elementary effects")
    ax.set_xticks(x, names, rotation=30, ha="right")
    ax.legend()
    ax.set_title(outcome)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _readme(manifest: dict[str, Any], report: AnalysisReport) -> str:
    design = manifest["design"]
    lines = [
        f"# Analysis of sweep `{manifest['name']}`",
        "",
        f"Design `{design['design']}`: {design['points']} points x {design['replications']} "
        f"replications = {report.runs} runs; {report.finished} finished, {report.failed} "
        f"failed (see failures.csv), {report.missing} not run yet.",
        "",
        "Files:",
        "",
        *[f"- `{name}`" for name in report.files],
    ]
    if report.notes:
        lines += ["", "Notes:", "", *[f"- {note}" for note in report.notes]]
    return "\n".join(lines) + "\n"
