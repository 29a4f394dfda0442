"""`groupsim run`, `groupsim check`, `groupsim scenarios` and `groupsim warm-up`.

One scenario run or validated, the built-in scenarios listed, the model's kernels compiled.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from groupsim.cli.app import (
    PosteriorOption,
    ScenarioArgument,
    SetOption,
    UsageError,
    app,
    check_minimums,
    check_output_folder,
    check_posterior_sets,
    console,
    console_table,
    parse_overrides,
)
from groupsim.scenario import Scenario, builtin_scenarios, load_scenario


@app.command()
def run(
    scenario: ScenarioArgument,
    seed: Annotated[int, typer.Option(help="Random seed; same seed, same run")] = 0,
    set_: SetOption = None,
    out: Annotated[
        Path | None, typer.Option(help="Folder for the run's tables, network and scenario")
    ] = None,
    posterior: PosteriorOption = None,
    draw: Annotated[
        int | None,
        typer.Option(help="With --posterior: the particle to run (0-based row of the posterior)"),
    ] = None,
) -> None:
    """Run one scenario (file or built-in) and print a summary; with --out, write its outputs.

    With --posterior DIR --draw K the scenario runs with posterior particle K's values (after
    any --set); the written scenario.toml holds them.
    """
    from groupsim.runs.resources import check_memory

    check_minimums(seed=seed)

    overrides = parse_overrides(set_)
    loaded = load_scenario(scenario, overrides)
    if posterior is not None or draw is not None:
        loaded = with_posterior_draw(loaded, posterior, draw, overrides)
    check_memory(loaded, record_students=True, record_ties=True, source=str(scenario))
    if out is not None:
        check_output_folder(out)
    # The model's modules (Mesa, the compiled kernels) only once the input is good.
    from groupsim.runs.runner import run as run_scenario
    from groupsim.runs.store import write_run

    result = run_scenario(loaded, seed=seed)
    print_summary(result)
    if out is not None:
        write_run(result, out)
        console.print(
            f"Wrote {out}/ (weekly, sessions, students, ties, faculties, questionnaire, network)"
        )


def with_posterior_draw(
    loaded: Scenario, folder: Path | None, draw: int | None, overrides: dict[str, Any]
) -> Scenario:
    """The scenario with particle `draw` of the posterior in `folder` applied.

    Its description names the posterior and the particle, so the written scenario.toml says
    where its values came from. A missing option, folder or particle: a one-line error.
    """
    from groupsim.scenario.posterior import load_posterior

    if folder is None or draw is None:
        raise UsageError("--posterior DIR and --draw K go together: give both or neither")
    posterior = load_posterior(folder)
    check_posterior_sets(posterior, overrides)
    values = posterior.draw(draw)
    applied = posterior.apply(loaded, values)
    shown = ", ".join(f"{name} = {value:.6g}" for name, value in values.items())
    note = f"posterior draw {draw} of {folder}: {shown}"
    console.print(f"Running {note}", markup=False)
    description = f"{applied.description} ({note})" if applied.description else note
    return applied.model_copy(update={"description": description})


def print_summary(result: Any) -> None:
    """The few numbers a user looks at first."""
    from groupsim.model.measures import QUESTIONNAIRE

    q = result.questionnaire
    w = result.weekly
    sc = result.scenario
    title = f"{sc.name}: {sc.technique_name}, {len(q)} clients, seed {result.seed}"
    table = console_table(title, text=("measure",), numbers=("pre", "post", "follow-up"))
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
    row("  without the group's own ties (transfer)", "clients_transfer_interaction")
    row("group climate (0-1)", "climate")
    row("group density (share of pairs tied)", "group_density")
    row("clients who opened up (share)", "clients_disclosed_share")
    row("campus density", "campus_density", "{:.3g}")
    console.print(table)
    console.print(client_line(q, sc))


def client_line(q: Any, scenario: Scenario) -> str:
    """Attendance, dropout, missing post-tests and reliable change of the run's clients."""
    from groupsim.model.measures import CHANGE_CATEGORIES

    parts = []
    if scenario.holds_group:
        attended = q["attended"].mean() / scenario.program.sessions
        parts.append(
            f"attended {attended:.0%} of sessions, {int(q['dropped_out'].sum())} dropped out"
        )
    parts.append(f"{int(q['post_missing'].sum())} post-test(s) missing")
    changes = q.loc[~q["post_missing"], "reliable_change"].value_counts()
    parts.append(
        "reliable change: "
        + ", ".join(f"{changes.get(name, 0)} {name}" for name in CHANGE_CATEGORIES)
    )
    return "Clients: " + "; ".join(parts)


@app.command()
def check(
    scenario: ScenarioArgument,
    set_: SetOption = None,
) -> None:
    """Validate a scenario or a sweep file and print the resolved parameters (or design)."""
    from groupsim.cli.sweep import check_sweep_file, is_sweep_file
    from groupsim.scenario import parameter_table

    if is_sweep_file(scenario):
        check_sweep_file(scenario, set_)
        return
    overrides = parse_overrides(set_)
    loaded = load_scenario(scenario, overrides)
    values = loaded.to_dict()
    table = console_table(
        f"{scenario}: valid ({loaded.name})",
        names=("parameter",),
        text=("value", "default", "range", "unit"),
    )
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
    print_practices(loaded)
    console.print(
        f"{loaded.students} students, {loaded.group.clients} clients, "
        f"{loaded.program.sessions} sessions over {loaded.program_weeks} weeks, "
        f"{loaded.total_weeks} recorded weeks after screening "
        "(* = not the default; (--set) = set on the command line)"
    )


def print_practices(loaded: Scenario) -> None:
    """The practices the scenario's technique uses: its preset's, or the scenario's own."""
    from groupsim.scenario import technique_presets

    preset = technique_presets()[loaded.counselor.technique]
    sessions = "holds group sessions" if loaded.holds_group else "holds no group sessions"
    table = console_table(
        f"Technique {loaded.technique_name!r} ({sessions}): its practices (0 = not used)",
        names=("practice",),
        text=("value", "from"),
    )
    for practice, value in loaded.practices.items():
        own = getattr(loaded.technique, practice) is not None
        source = "scenario's \\[technique]" if own else f"{loaded.counselor.technique!r} preset"
        mark = " *" if own and value != preset[practice] else ""
        table.add_row(practice, f"{value:g}{mark}", source)
    console.print(table)


@app.command()
def scenarios() -> None:
    """List the built-in scenarios: name, technique, what it is and where its file is."""
    table = console_table(
        "Built-in scenarios (use the name wherever a scenario file is asked for)",
        names=("name",),
        text=("technique", "description", "file"),
    )
    for builtin in builtin_scenarios():
        table.add_row(builtin.name, builtin.technique, builtin.summary, builtin.location)
    console.print(table)


@app.command("warm-up")
def warm_up() -> None:
    """Compile the model's kernels once, so processes started after it load them from disk.

    The first run after an install or an upgrade compiles for about 80 s of CPU; processes
    that start together (a pool's workers, a machine's Dask workers) would each compile.
    """
    from groupsim.model.warm_up import warm_up as compile_model

    typer.echo(compile_model().summary())
