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
  error);
- ``README.md`` and ``report.html``: what is where and what is missing, with the figures (one
  :class:`groupsim.document.Document`; the page embeds them). Every figure is also written
  as SVG (``NAME.svg``, the house convention of :mod:`groupsim.document.figures`).

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
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from groupsim.document.blocks import (
    Block,
    BulletList,
    Document,
    FigureBlock,
    Heading,
    Paragraph,
)
from groupsim.document.figures import Figure
from groupsim.document.render import write_document
from groupsim.runs.store import atomic_folder
from groupsim.sweep.discover import Discovery, flat_names
from groupsim.sweep.figures import plot_effects, plot_heatmap, plot_sobol
from groupsim.sweep.scoring import (
    feature_scores,
    morris_table,
    noise_shares,
    plot_feature_scores,
    plot_morris,
    sobol_table,
    sobol_warnings,
)
from groupsim.sweep.spec import SweepError
from groupsim.sweep.store import POINTS, SweepStore

__all__ = ["AnalysisReport", "analyze", "effect_table"]

#: What every sweep analysis rests on, said in its README.md and report.html.
ASSUMES = (
    "Every number here is the model's response to the values the design drew. Intervals and "
    "indices are over the runs: over what the sweep varied and the replications' noise, not "
    "over anything it left fixed; parameters it does not vary keep their scenario values. "
    "Which parameters move the model's outcomes says where its mechanisms (docs/ODD.md) are "
    "sensitive, not which levers would move real groups: that needs field data."
)

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
    discovery: Discovery | None = None


def analyze(
    folder: str | Path,
    outcomes: list[str] | None = None,
    *,
    discover: str | None = None,
    csv: bool = False,
) -> AnalysisReport:
    """Write the tables and figures of a sweep folder into ``folder/analysis/``.

    Args:
        folder: a sweep folder written by `groupsim sweep`.
        outcomes: the outcomes to analyse (default: all the sweep kept).
        discover: a condition over outcomes (e.g. ``"effect_questionnaire_post > 10"``):
            PRIM finds the box of parameters where it holds (`groupsim.sweep.discover`).
        csv: also write ``runs.csv``, every run's row with Mesa-style names
            (``counselor_warmth``; the Parquet files keep the dotted names).

    Raises:
        SweepError: the folder holds no sweep, an outcome was not kept, or a file is damaged
            (`groupsim.sweep.integrity`; the message names the resume that repairs it).
    """
    folder = Path(folder)
    store = SweepStore(folder)
    manifest = _checked_manifest(store, folder)
    kept = manifest["outcomes"]
    outcomes = list(outcomes or kept)
    for name in outcomes:
        if name not in kept:
            raise SweepError(f"--outcome: {name!r} was not kept by this sweep; kept: {kept}")
    design = manifest["design"]
    parameters = list(design["parameters"])
    runs = store.runs()
    points = pd.read_parquet(folder / POINTS)
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
        figures: list[FigureBlock] = []
        if ok.empty:
            report.notes.append("no finished runs: nothing to analyse")
        else:
            sweep = _Sweep(ok, points, parameters, outcomes, manifest)
            figures += _write_points_and_effects(tmp, report, sweep)
            figures += _write_heatmaps(tmp, report, sweep)
            figures += _write_indices(tmp, report, sweep)
            figures += _write_scores(tmp, report, sweep)
            if discover is not None:
                figures += _write_discovery(tmp, report, sweep, discover)
        if csv:
            _write_csv(tmp, report, runs)
        for block in figures:
            report.files += [f"{block.name}.png", f"{block.name}.svg"]
        report.files += ["README.md", "report.html"]
        write_document(
            _analysis_document(manifest, report, figures), tmp, "README.md", "report.html"
        )
    return report


def _checked_manifest(store: SweepStore, folder: Path) -> dict[str, Any]:
    """The manifest of an undamaged sweep folder."""
    if not store.exists():
        raise SweepError(f"{folder}: DIR: holds no sweep (no manifest.json)")
    _refuse_damage(store)
    return store.read_manifest()


def _refuse_damage(store: SweepStore) -> None:
    """Refuse a sweep folder with a damaged file, naming it and the command that repairs it."""
    from groupsim.sweep.integrity import damage, manifest_damage

    found = damage(store)
    if not found:
        return
    sweep_file = "SWEEP_FILE"
    if manifest_damage(store) is None:
        sweep_file = str(store.read_manifest().get("sweep_file", sweep_file))
    more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
    raise SweepError(
        f"{found[0].path}: damaged: {found[0].reason}{more}; repair the sweep with: "
        f"groupsim sweep {sweep_file} --out {store.root} --resume"
    )


@dataclass(frozen=True)
class _Sweep:
    """What the analysis reads: the finished runs, the design points and the manifest."""

    ok: pd.DataFrame
    points: pd.DataFrame
    parameters: list[str]
    outcomes: list[str]
    manifest: dict[str, Any]

    @property
    def design(self) -> dict[str, Any]:
        return self.manifest["design"]

    @property
    def sampled(self) -> bool:
        """Parameter values were sampled (not a grid): group them in bins."""
        return self.design["design"] != "grid"

    @property
    def point_means(self) -> pd.DataFrame:
        """Each outcome's mean over a point's finished replications."""
        return self.ok.groupby("point")[self.outcomes].mean()

    @property
    def cases(self) -> pd.DataFrame:
        """A row per case for discovery and feature scores.

        Each finished run; with replications, each point's parameters and mean outcomes
        (the replication noise averaged out).
        """
        if self.design["replications"] == 1:
            return self.ok.reset_index(drop=True)
        means = self.ok.groupby("point")[list(self.manifest["outcomes"])].mean()
        return self.points.set_index("point")[self.parameters].join(means, how="inner")

    @property
    def noise(self) -> pd.DataFrame | None:
        """Replication noise shares (`scoring.noise_shares`); None with one replication."""
        replications = self.design["replications"]
        if replications < 2:
            return None
        return noise_shares(self.ok, self.outcomes, replications)


def _write_points_and_effects(
    tmp: Path, report: AnalysisReport, sweep: _Sweep
) -> list[FigureBlock]:
    """`points.csv`, `effects.csv` and an effect figure per outcome."""
    counts = sweep.ok.groupby("point").size().rename("finished_runs")
    point_table = (
        sweep.points[["point", *sweep.parameters]]
        .set_index("point")
        .join(counts)
        .join(sweep.point_means)
    )
    point_table["finished_runs"] = point_table["finished_runs"].fillna(0).astype(int)
    point_table.to_csv(tmp / "points.csv")
    effects = effect_table(sweep.ok, sweep.parameters, sweep.outcomes, sweep.sampled)
    effects.to_csv(tmp / "effects.csv", index=False)
    report.files += ["points.csv", "effects.csv"]
    return [
        FigureBlock(
            f"effect_{outcome}",
            f"`{outcome}` against each varied parameter: mean and 95% CI over runs"
            + (" (sampled values in bins)" if sweep.sampled else ""),
            _drawer(
                plot_effects, effects[effects["outcome"] == outcome], sweep.parameters, outcome
            ),
        )
        for outcome in sweep.outcomes
    ]


def _write_heatmaps(tmp: Path, report: AnalysisReport, sweep: _Sweep) -> list[FigureBlock]:
    """`heatmap.csv` and a heatmap per outcome over the first two parameters (if two vary)."""
    if len(sweep.parameters) < 2:
        return []
    first, second = sweep.parameters[:2]
    heat = _heatmap_table(sweep.ok, first, second, sweep.outcomes, sweep.sampled)
    heat.to_csv(tmp / "heatmap.csv", index=False)
    report.files.append("heatmap.csv")
    return [
        FigureBlock(
            f"heatmap_{outcome}",
            f"Mean `{outcome}` over `{first}` and `{second}`",
            _drawer(plot_heatmap, heat[heat["outcome"] == outcome], first, second, outcome),
        )
        for outcome in sweep.outcomes
    ]


def _write_indices(tmp: Path, report: AnalysisReport, sweep: _Sweep) -> list[FigureBlock]:
    """`sobol.csv` or `morris.csv` and a figure per outcome (sobol and morris designs)."""
    design = sweep.design
    kind = design["design"]
    if kind not in ("sobol", "morris"):
        return []
    parameters = sweep.parameters
    problem = {
        "num_vars": len(parameters),
        "names": parameters,
        "bounds": [
            [design["parameters"][p]["min"], design["parameters"][p]["max"]] for p in parameters
        ],
    }
    full = sweep.point_means.reindex(sweep.points["point"])
    complete = [o for o in sweep.outcomes if full[o].notna().all() and full[o].std() > 0]
    for o in sweep.outcomes:
        if o not in complete:
            report.notes.append(
                f"{kind} indices of {o} skipped: some points have no finished "
                "run or a missing value, or the outcome does not vary"
            )
    seed = sweep.manifest["seed"]
    if kind == "sobol":
        table = sobol_table(problem, full, complete, design, seed)
        report.notes += sobol_warnings(table, design["samples"], sweep.noise)
    else:
        raw = sweep.points[[f"sampled[{p}]" for p in parameters]].to_numpy()
        table = morris_table(problem, raw, full, complete, design, seed)
    table.to_csv(tmp / f"{kind}.csv", index=False)
    report.files.append(f"{kind}.csv")
    what = (
        "first-order (S1) and total (ST) Sobol indices, bootstrap 95% CIs"
        if kind == "sobol"
        else ("Morris sigma against mu* (with its 95% CI)")
    )
    plot = plot_sobol if kind == "sobol" else plot_morris
    return [
        FigureBlock(
            f"{kind}_{outcome}",
            f"Sensitivity of `{outcome}`: {what}",
            _drawer(plot, table[table["outcome"] == outcome], outcome),
        )
        for outcome in complete
    ]


def _write_csv(tmp: Path, report: AnalysisReport, runs: pd.DataFrame) -> None:
    """`runs.csv`: every run's row, with Mesa-style names (dots as underscores)."""
    runs.rename(columns=flat_names(list(runs.columns))).to_csv(tmp / "runs.csv", index=False)
    report.files.append("runs.csv")


def _write_scores(tmp: Path, report: AnalysisReport, sweep: _Sweep) -> list[FigureBlock]:
    """`feature_scores.csv` and its figure; `noise.csv` with replications."""
    noise = sweep.noise
    if noise is not None:
        noise.to_csv(tmp / "noise.csv", index=False)
        report.files.append("noise.csv")
        for row in noise.itertuples():
            report.notes.append(
                f"{row.outcome}: replication noise is {row.noise_share:.0%} of the variance "
                f"between runs and {row.noise_in_means:.0%} of the variance of point means"
            )
    # Over runs, not point means: the forest copes with noise, and needs the cases.
    scores = feature_scores(sweep.ok, sweep.parameters, sweep.outcomes, sweep.manifest["seed"])
    if scores.empty:
        report.notes.append("feature scores skipped: fewer than 10 cases, or nothing varies")
        return []
    scores.to_csv(tmp / "feature_scores.csv", index=False)
    report.files.append("feature_scores.csv")
    return [
        FigureBlock(
            "feature_scores",
            "Extra-trees feature scores: each parameter's share of the variance reduction in "
            "predicting each outcome (sum 1 per outcome)",
            _drawer(plot_feature_scores, scores),
        )
    ]


def _write_discovery(
    tmp: Path, report: AnalysisReport, sweep: _Sweep, condition: str
) -> list[FigureBlock]:
    """PRIM's trajectory and box for `condition` (`prim_trajectory.csv`, `prim_box.csv`)."""
    from groupsim.sweep.discover import discover, plot_trajectory

    found = discover(sweep.cases, sweep.parameters, condition)
    found.trajectory.to_csv(tmp / "prim_trajectory.csv", index_label="step")
    found.limits.to_csv(tmp / "prim_box.csv")
    report.files += ["prim_trajectory.csv", "prim_box.csv"]
    report.discovery = found
    report.notes.append("PRIM: " + found.sentence())
    return [
        FigureBlock(
            "prim_trajectory",
            f"PRIM peeling trajectory for `{condition}`: coverage against density of each "
            "step's box; the circled box is reported (largest harmonic mean of the two)",
            _drawer(plot_trajectory, found),
        )
    ]


def _drawer(plot: Callable[..., Figure], *args: Any) -> Callable[[], Figure]:
    """`plot(*args)`, called when the document is written."""
    return lambda: plot(*args)


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


# ---------------------------------------------------------------------------- document


def _analysis_document(
    manifest: dict[str, Any], report: AnalysisReport, figures: list[FigureBlock]
) -> Document:
    """README.md and report.html: the design, what finished, the figures, the files, notes."""
    design = manifest["design"]
    blocks: list[Block] = [
        Paragraph(
            f"Design `{design['design']}`: {design['points']} points x {design['replications']} "
            f"replications = {report.runs} runs; {report.finished} finished, {report.failed} "
            f"failed (see `failures.csv`), {report.missing} not run yet."
        )
    ]
    if report.notes:
        blocks += [Heading("Notes"), BulletList(report.notes)]
    if figures:
        blocks += [Heading("Figures"), *figures]
    blocks += [
        Heading("What this analysis assumes"),
        Paragraph(ASSUMES),
        Heading("Files"),
        BulletList(f"`{name}`" for name in report.files),
    ]
    return Document(f"Analysis of sweep `{manifest['name']}`", blocks)
