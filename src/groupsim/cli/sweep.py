"""The `groupsim sweep` and `groupsim analyze` commands (registered on `groupsim.cli.app.app`).

They parse, call `groupsim.sweep.run.run_sweep` / `groupsim.sweep.analyze.analyze`, and print.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from groupsim.cli.app import (
    BackendErrorsAsUsage,
    ConnectTimeoutOption,
    DaskLocalOption,
    SchedulerOption,
    UsageError,
    WorkersOption,
    YesOption,
    app,
    backend_from_options,
    console,
)
from groupsim.runs.store import check_output_path

if TYPE_CHECKING:
    from groupsim.sweep.spec import Sweep

__all__ = ["analyze", "check_sweep_file", "is_sweep_file", "sweep"]


@app.command()
def sweep(
    sweep_file: Annotated[Path, typer.Argument(help="Sweep file (.toml), see docs/sweeps.md")],
    out: Annotated[
        Path | None, typer.Option(help="Folder for the sweep's results (not with --dry-run)")
    ] = None,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    dask_local: DaskLocalOption = None,
    resume: Annotated[
        bool, typer.Option(help="Continue the sweep in --out: skip finished runs, retry failed")
    ] = False,
    chunk_size: Annotated[
        int | None,
        typer.Option(help="Runs per task (default: guided, 64 down to 4 as the sweep ends)"),
    ] = None,
    connect_timeout: ConnectTimeoutOption = 10.0,
    yes: YesOption = False,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Print the run count, an estimated time and disk; run nothing"
        ),
    ] = False,
) -> None:
    """Run a scenario sweep (grid, latin_hypercube, sobol or morris) into a Parquet dataset.

    Exit status: 0 when every run finished, 1 when some failed (recorded; --resume retries
    them), 2 on bad input, 130 when interrupted (Ctrl-C; the finished runs are saved).
    """
    from groupsim.sweep.spec import SweepError, load_sweep

    if chunk_size is not None and chunk_size < 1:
        raise UsageError(f"--chunk-size: must be at least 1 (got {chunk_size})")
    loaded = load_sweep(sweep_file)
    backend = backend_from_options(workers, scheduler, dask_local, connect_timeout)
    if dry_run:
        _dry_run(loaded, backend.workers, scheduler is None)
        return
    if out is None:
        raise UsageError("--out: required: the folder for the sweep's results")
    check_output_path(out)
    _check_sweep_size(loaded, backend.workers, yes)
    resume_command = f"groupsim sweep {sweep_file} --out {out} --resume"
    from groupsim.sweep.run import SweepInterrupted, run_sweep  # once the input is good

    try:
        with BackendErrorsAsUsage():
            summary = run_sweep(loaded, out, backend, resume=resume, chunk_size=chunk_size)
    except SweepError as exc:
        raise UsageError(str(exc)) from None
    except SweepInterrupted as stop:
        saved = stop.summary.done_before + stop.summary.done_now
        console.print(
            f"Interrupted: {saved}/{stop.summary.total} runs saved in {out}/ "
            f"(status in {out}/status.json). Resume with: {resume_command}",
            markup=False,
        )
        raise SystemExit(130) from None
    if summary.done_now == 0 and summary.failed == 0:
        console.print(f"{loaded.name}: all {summary.total} runs already finished in {out}/")
        return
    rate = summary.done_now / summary.seconds if summary.seconds else 0.0
    console.print(
        f"{loaded.name}: {summary.done_before + summary.done_now}/{summary.total} runs finished "
        f"({summary.done_now} now, {rate:.1f} runs/s on {summary.backend}), "
        f"{summary.failed} failed -> {out}/"
    )
    if summary.failed:
        for run_id, point, replication, seed, error in summary.failures[:10]:
            console.print(
                f"  failed: run {run_id} (point {point}, replication {replication}, "
                f"seed {seed}): {error}",
                markup=False,
            )
        if summary.failed > 10:
            console.print(f"  ... and {summary.failed - 10} more (groupsim analyze {out})")
        console.print(f"Retry the failed runs with: {resume_command}", markup=False)
        # SystemExit, not typer.Exit: main() runs the app with standalone_mode=False, where
        # click returns an Exit's code instead of exiting with it.
        raise SystemExit(1)


def is_sweep_file(path: str | Path) -> bool:
    """Whether a file given to `groupsim check` is a sweep file (it has a [sweep] table)."""
    import tomllib

    path = Path(path)
    if path.suffix != ".toml" or not path.is_file():
        return False
    try:
        return "sweep" in tomllib.loads(path.read_text(encoding="utf-8", errors="replace"))
    except (tomllib.TOMLDecodeError, RecursionError):
        return False  # the scenario check names the syntax error (or the too-deep nesting)


def check_sweep_file(path: str | Path, set_: list[str] | None) -> None:
    """`groupsim check SWEEP.toml`: validate every design point and print the design."""
    from groupsim.sweep.spec import load_sweep

    if set_:
        raise UsageError("--set: applies to scenarios; a sweep file sets values in its [set]")
    loaded = load_sweep(path)
    console.print(
        f"{path}: valid sweep {loaded.name!r} on scenario {loaded.base.name!r}: design "
        f"{loaded.settings.design}, {loaded.points:,} points x {loaded.replications} "
        f"replications = {loaded.runs:,} runs",
        markup=False,
    )
    for name, values in loaded.describe()["parameters"].items():
        role = loaded.roles.get(name, "parameter")
        console.print(f"  {role} {name}: {values_text(values)}", markup=False)
    effects = " (with effect_X against the no-intervention twin)" if loaded.plan.effects else ""
    console.print(f"  outcomes{effects}: {', '.join(loaded.outcomes)}", markup=False)
    console.print(f"Estimate time and disk with: groupsim sweep {path} --dry-run")


def values_text(values: Any) -> str:
    """A design parameter's values as a reader writes them, from `Sweep.describe()`.

    Examples:
        >>> values_text([0.2, 0.4, "home_room"])
        '0.2, 0.4, home_room'
        >>> values_text({"min": 0.2, "max": 1.0})
        'from 0.2 to 1'
        >>> values_text({"distribution": "triangular", "min": 0.4, "max": 0.95, "mode": 0.8})
        'triangular from 0.4 to 0.95, mode 0.8'
        >>> values_text({"distribution": "normal", "mean": 0.2, "sd": 0.05, "min": 0.05})
        'normal, mean 0.2, sd 0.05, at least 0.05'
        >>> values_text({"posterior": "out/cal"})
        'drawn from the posterior out/cal'
    """
    if isinstance(values, list):
        return ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in values)
    if not isinstance(values, dict):
        return str(values)
    if "posterior" in values:
        return f"drawn from the posterior {values['posterior']}"
    low, high = values.get("min"), values.get("max")
    span = ""
    if low is not None and high is not None:
        span = f"from {low:g} to {high:g}"
    elif low is not None:
        span = f"at least {low:g}"
    elif high is not None:
        span = f"at most {high:g}"
    kind = values.get("distribution", "uniform")
    if kind == "normal":
        return ", ".join(
            part
            for part in ("normal", f"mean {values['mean']:g}", f"sd {values['sd']:g}", span)
            if part
        )
    if kind == "triangular":
        return f"triangular {span}, mode {values['mode']:g}"
    return span if "distribution" not in values else f"uniform {span}"


def _dry_run(loaded: Sweep, workers: int, local: bool) -> None:
    """Print what the sweep would do and cost; write nothing."""
    from groupsim.sweep.estimate import estimate

    console.print(
        f"{loaded.path}: valid; {loaded.points:,} design points x {loaded.replications} "
        f"replications (design {loaded.settings.design})",
        markup=False,
    )
    for line in estimate(loaded, workers, local=local).lines():
        console.print(f"  {line}", markup=False)
    console.print("Dry run: nothing was run or written.")


def _check_sweep_size(loaded: Sweep, workers: int, yes: bool) -> None:
    """The base scenario must fit in memory; a sweep above the size limits needs --yes."""
    from groupsim.runs.resources import CONFIRM_RUNS, check_memory, check_workload

    check_memory(loaded.base, False, False, source=str(loaded.path))
    weeks = loaded.base.total_weeks + 1 if loaded.settings.weekly else 0
    per_run = 8 * (6 + len(loaded.parameters) + len(loaded.outcomes) + 30 * weeks)
    option = f"{loaded.path}: sweep design x replications"
    estimate = check_workload(option, loaded.runs, loaded.base, workers, per_run, yes)
    if loaded.runs > CONFIRM_RUNS // 10:
        console.print(f"Sweep: {estimate}", markup=False)


@app.command()
def analyze(
    folder: Annotated[Path, typer.Argument(help="A sweep folder (written by groupsim sweep)")],
    outcome: Annotated[
        list[str] | None, typer.Option(help="Outcome to analyse (repeatable; default: all kept)")
    ] = None,
    discover: Annotated[
        str | None,
        typer.Option(
            help="PRIM: the boxes of parameters where a condition holds, e.g. "
            '"effect_questionnaire_post > 10"'
        ),
    ] = None,
    csv: Annotated[
        bool, typer.Option("--csv", help="Also write DIR/analysis/runs.csv (Mesa-style names)")
    ] = False,
) -> None:
    """Tables and figures of a sweep into DIR/analysis/ (--discover: PRIM boxes).

    Effects, heatmaps, Sobol/Morris, feature scores; with --discover, scenario discovery.
    """
    from groupsim.sweep.analyze import analyze as analyze_sweep
    from groupsim.sweep.spec import SweepError

    try:
        report = analyze_sweep(folder, outcome, discover=discover, csv=csv)
    except SweepError as exc:
        raise UsageError(str(exc)) from None
    console.print(
        f"{report.finished}/{report.runs} runs finished, {report.failed} failed, "
        f"{report.missing} not run yet; wrote {len(report.files)} files to {report.folder}/"
    )
    if report.failed:
        console.print(f"  failures: {report.folder}/failures.csv")
    for note in report.notes:
        console.print(f"  note: {note}", markup=False)
