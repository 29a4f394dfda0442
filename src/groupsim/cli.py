"""The `groupsim` command line: parse, call the library, print. Nothing else lives here.

Bad input (a :class:`~groupsim.scenario.ScenarioError` or a :class:`UsageError`) becomes one
line on stderr and exit status 2, with no traceback and nothing written.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from groupsim.scenario import ScenarioError, load_scenario, parse_assignment

app = typer.Typer(
    name="groupsim",
    help="Agent-based simulation of group counseling with the home room technique.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()


class UsageError(ValueError):
    """Bad command-line input other than a scenario value (one line, exit status 2)."""


def parse_overrides(assignments: list[str] | None) -> dict[str, Any]:
    """`--set key=value` options to a dict of dotted paths."""
    return dict(parse_assignment(text) for text in assignments or [])


def check_output_folder(out: Path) -> None:
    """An output folder must be a folder (or not exist yet); refuse a file in its place."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out}: --out: is a file; give a folder to write into")


WorkersOption = Annotated[int | None, typer.Option(help="Processes to run on (default: all cores)")]

SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        help="Override a parameter: section.parameter=value (repeatable), "
        "e.g. --set counselor.warmth=0.5",
    ),
]


@app.command()
def run(
    scenario: Annotated[Path, typer.Argument(help="Scenario file (.toml)")],
    seed: Annotated[int, typer.Option(help="Random seed; same seed, same run")] = 0,
    set_: SetOption = None,
    out: Annotated[
        Path | None, typer.Option(help="Folder for the run's tables, network and scenario")
    ] = None,
) -> None:
    """Run one scenario and print a summary; with --out, write its outputs."""
    from groupsim.runner import run as run_scenario
    from groupsim.store import write_run

    if seed < 0:
        raise UsageError(f"--seed: must be a whole number >= 0 (got {seed})")
    from groupsim.resources import check_memory

    loaded = load_scenario(scenario, parse_overrides(set_))
    check_memory(loaded, record_students=True, record_ties=True, source=str(scenario))
    if out is not None:
        check_output_folder(out)
    result = run_scenario(loaded, seed=seed)
    print_summary(result)
    if out is not None:
        write_run(result, out)
        console.print(
            f"Wrote {out}/ (weekly, sessions, students, ties, faculties, questionnaire, network)"
        )


def print_summary(result: Any) -> None:
    """The few numbers a user looks at first."""
    from groupsim.measures import QUESTIONNAIRE

    q = result.questionnaire
    w = result.weekly
    sc = result.scenario
    title = f"{sc.name}: {sc.counselor.technique}, {len(q)} clients, seed {result.seed}"
    table = Table(title=title, title_justify="left")
    table.add_column("measure")
    table.add_column("pre", justify="right")
    table.add_column("post", justify="right")
    table.add_column("follow-up", justify="right")
    maximum = QUESTIONNAIRE.maximum

    def pct(value: float) -> str:
        return "-" if value != value else f"{value:.1f} ({100 * value / maximum:.0f}%)"

    table.add_row(
        f"questionnaire mean ({QUESTIONNAIRE.minimum}-{maximum})",
        pct(q["pre"].mean()),
        pct(q["post"].mean()),
        pct(q["followup"].mean()),
    )
    cal_pre = sc.program.baseline_weeks
    cal_post = cal_pre + sc.program_weeks
    last = int(w["week"].max())
    at = w.set_index("week")

    def row(name: str, column: str, fmt: str = "{:.2f}") -> None:
        values = [at.loc[k, column] for k in (cal_pre, cal_post, last)]
        table.add_row(name, *("-" if v != v else fmt.format(v) for v in values))

    row("clients' social interaction (0-1)", "clients_social_interaction")
    row("group climate (0-1)", "climate")
    row("group density (share of pairs tied)", "group_density")
    row("clients who opened up (share)", "clients_disclosed_share")
    row("campus density", "campus_density", "{:.3g}")
    console.print(table)


@app.command()
def check(
    scenario: Annotated[Path, typer.Argument(help="Scenario file (.toml)")],
    set_: SetOption = None,
) -> None:
    """Validate a scenario file and print the resolved parameters."""
    from groupsim.scenario import parameter_table

    overrides = parse_overrides(set_)
    loaded = load_scenario(scenario, overrides)
    values = loaded.to_dict()
    table = Table(title=f"{scenario}: valid ({loaded.name})", title_justify="left")
    for name in ("parameter", "value", "default", "range", "unit"):
        table.add_column(name)
    for row in parameter_table():
        section, key = row["path"].split(".")
        value = values[section].get(key, "(not set)")
        default = "(not set)" if row["default"] is None else row["default"]
        span = f"{row['min']:g}..{row['max']:g}" if row["min"] is not None else ""
        mark = "" if value == default else " *"
        if row["path"] in overrides:
            mark += " (--set)"
        table.add_row(row["path"], f"{value}{mark}", str(default), span, row["unit"])
    console.print(table)
    console.print(
        f"{loaded.students} students, {loaded.group.clients} clients, "
        f"{loaded.program.sessions} sessions over {loaded.program_weeks} weeks, "
        f"{loaded.total_weeks} recorded weeks after screening "
        "(* = not the default; (--set) = set on the command line)"
    )


# Commands defined by other modules register below this line (one import each).
import groupsim.cli_sweep  # noqa: E402, F401  (sweep, analyze)
import groupsim.cli_teaching  # noqa: E402, F401  (ui, animate, replay)


def parse_groups(text: str) -> tuple[int, ...]:
    """`--groups 1,2,4,8` to a tuple of designs (groups per arm), or a UsageError."""
    tokens = [token.strip() for token in text.split(",")]
    if not tokens or any(not token.isdigit() or int(token) < 1 for token in tokens):
        raise UsageError(
            f"--groups: comma-separated whole numbers >= 1, e.g. 1,2,4,8 (got {text!r})"
        )
    return tuple(sorted({int(token) for token in tokens}))


@app.command()
def power(
    treatment: Annotated[Path, typer.Argument(help="Treatment scenario file (.toml)")],
    control: Annotated[Path, typer.Argument(help="Control scenario file (.toml)")],
    out: Annotated[Path, typer.Option(help="Folder for power.csv, figures and the report")],
    groups: Annotated[
        str, typer.Option(help="Designs to compare: groups per arm, comma-separated")
    ] = "1,2,4,8",
    reps: Annotated[int, typer.Option(help="Simulated field studies per design")] = 100,
    alpha: Annotated[float, typer.Option(help="Significance level of the tests")] = 0.05,
    seed: Annotated[int, typer.Option(help="Analysis seed; same seed, same results")] = 0,
    workers: WorkersOption = None,
    set_: SetOption = None,
) -> None:
    """Power of simulated field studies (k groups per arm; ANCOVA of post on pre) and the
    bias of the one-group pre/post design."""
    from groupsim.power import power as power_analysis

    design = parse_groups(groups)
    if reps < 1:
        raise UsageError(f"--reps: must be a whole number >= 1 (got {reps})")
    if not 0.0 < alpha < 1.0:
        raise UsageError(f"--alpha: must lie strictly between 0 and 1 (got {alpha})")
    if seed < 0:
        raise UsageError(f"--seed: must be a whole number >= 0 (got {seed})")
    if workers is not None and workers < 1:
        raise UsageError(f"--workers: must be a whole number >= 1 (got {workers})")
    check_output_folder(out)
    overrides = parse_overrides(set_)  # applied to both arms
    arms = load_scenario(treatment, overrides), load_scenario(control, overrides)
    analysis = power_analysis(*arms, design, reps, alpha, seed, workers, label="power runs")
    analysis.report(out)
    table = Table(
        title=f"Power at alpha {alpha:g}, {reps} simulated studies per design (95% Wilson CI)",
        title_justify="left",
    )
    columns = ("groups/arm", "clients/arm", "ANCOVA", "Welch on gains", "null C vs C", "T vs T")
    for name in columns:
        table.add_column(name, justify="right")
    for row in analysis.table.to_dict("records"):
        table.add_row(
            str(row["groups_per_arm"]),
            str(row["clients_per_arm"]),
            f"{row['power_ancova']:.2f} [{row['power_ancova_low']:.2f}, "
            f"{row['power_ancova_high']:.2f}]",
            f"{row['power_welch_gain']:.2f}",
            f"{row['null_ancova']:.2f}",
            f"{row['null_treatment_ancova']:.2f}",
        )
    console.print(table)
    for row in analysis.seed_design.to_dict("records"):
        console.print(
            f"One group, pre/post, screening {row['screening']}: gain {row['one_group_gain']:.1f} "
            f"= true effect {row['true_effect']:.1f} + campus life {row['campus_life']:.1f} "
            f"+ regression to the mean {row['regression_to_mean']:.1f} points; "
            f"paired t-test power {row['power_paired']:.2f}"
        )
    console.print(f"Wrote {out}/ (power.csv, figures). Report: {out / 'report.html'}")


@app.command()
def compare(
    scenarios: Annotated[
        list[Path], typer.Argument(help="Two or more scenario files; the first is the reference")
    ],
    reps: Annotated[int, typer.Option(help="Replications per scenario (common random numbers)")],
    out: Annotated[Path, typer.Option(help="Folder for tables, figures and the report")],
    seed: Annotated[int, typer.Option(help="Experiment seed; same seed, same results")] = 0,
    workers: WorkersOption = None,
    set_: SetOption = None,
) -> None:
    """Compare scenarios over paired replications: effects with CIs, figures and a report."""
    from groupsim.experiment import compare as compare_scenarios

    if len(scenarios) < 2:
        count = len(scenarios)
        raise UsageError(f"SCENARIOS: need at least 2 scenario files to compare (got {count})")
    if reps < 1:
        raise UsageError(f"--reps: must be a whole number >= 1 (got {reps})")
    if seed < 0:
        raise UsageError(f"--seed: must be a whole number >= 0 (got {seed})")
    if workers is not None and workers < 1:
        raise UsageError(f"--workers: must be a whole number >= 1 (got {workers})")
    check_output_folder(out)
    overrides = parse_overrides(set_)
    for path in scenarios:  # every file checked before the first run
        load_scenario(path, overrides)
    comparison = compare_scenarios(scenarios, reps, seed=seed, workers=workers, overrides=overrides)
    report = comparison.report(out)
    effects = comparison.effects
    table = Table(
        title=f"Differences to {comparison.reference} ({reps} paired replications)",
        title_justify="left",
    )
    for name in ("post-program", "scenario", "mean", "difference", "95% CI", "g", "p"):
        table.add_column(name)
    for _, row in effects[effects["scenario"] != comparison.reference].iterrows():
        if row["outcome"].startswith("post_"):
            table.add_row(
                row["outcome"].removeprefix("post_"),
                row["scenario"],
                f"{row['mean']:.3f}",
                f"{row['difference']:+.3f}",
                f"{row['difference_low']:+.3f}..{row['difference_high']:+.3f}",
                f"{row['hedges_g']:.1f}",
                f"{row['p_value']:.1g}",
            )
    console.print(table)
    console.print(f"Wrote {out}/ (tables, figures). Report: {report}")


def main() -> None:
    """Entry point: run the app, turning bad input into one line and exit status 2."""
    try:
        # Without standalone mode, click returns the code of a `typer.Exit` instead of exiting.
        code = app(standalone_mode=False)
        if isinstance(code, int) and code != 0:
            sys.exit(code)
    except (ScenarioError, UsageError) as exc:
        typer.echo(f"groupsim: error: {exc}", err=True)
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        typer.echo("groupsim: aborted", err=True)
        sys.exit(130)
    except KeyboardInterrupt:
        typer.echo("groupsim: interrupted", err=True)
        sys.exit(130)
    except Exception as exc:
        # Usage errors of the parser (typer vendors click, so match by its interface).
        if hasattr(exc, "format_message") and hasattr(exc, "exit_code"):
            message = exc.format_message()
            if message:  # no arguments at all: the help was shown, nothing more to say
                typer.echo(f"groupsim: error: {message}", err=True)
            sys.exit(2)
        raise


if __name__ == "__main__":
    # Run as `python -m groupsim.cli`: use the imported module's app, to which the other
    # modules' commands attached themselves (this file's copy as __main__ has none of them).
    from groupsim.cli import main as imported_main

    imported_main()
