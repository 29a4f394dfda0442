"""`groupsim power` and `groupsim compare`: studies over many replications."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from groupsim.cli.app import (
    BackendErrorsAsUsage,
    ConnectTimeoutOption,
    DaskLocalOption,
    PosteriorOption,
    SchedulerOption,
    SetOption,
    UsageError,
    WorkersOption,
    YesOption,
    app,
    backend_from_options,
    bracket,
    check_minimums,
    check_output_folder,
    check_posterior_sets,
    console,
    console_table,
    parse_groups,
    parse_overrides,
)
from groupsim.scenario import load_scenario

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from groupsim.runs.backends import Backend
    from groupsim.scenario import Scenario
    from groupsim.study.compare import Comparison
    from groupsim.study.power import PowerAnalysis


@app.command()
def power(
    treatment: Annotated[
        Path, typer.Argument(help="Treatment scenario: a file (.toml) or a built-in name")
    ],
    control: Annotated[
        Path, typer.Argument(help="Control scenario: a file (.toml) or a built-in name")
    ],
    out: Annotated[Path, typer.Option(help="Folder for power.csv, figures and the report")],
    groups: Annotated[
        str, typer.Option(help="Designs: groups per arm (each >= 2), comma-separated")
    ] = "2,4,6,8",
    clients: Annotated[
        str | None,
        typer.Option(help="Designs: clients per group, comma-separated (default: the scenario's)"),
    ] = None,
    target: Annotated[
        float, typer.Option(help="Power the recommended design's lower 95% bound must clear")
    ] = 0.8,
    reps: Annotated[int, typer.Option(help="Simulated field studies per design")] = 100,
    alpha: Annotated[float, typer.Option(help="Significance level of the tests")] = 0.05,
    seed: Annotated[int, typer.Option(help="Analysis seed; same seed, same results")] = 0,
    workers: WorkersOption = None,
    set_: SetOption = None,
    scheduler: SchedulerOption = None,
    dask_local: DaskLocalOption = None,
    connect_timeout: ConnectTimeoutOption = 10.0,
    yes: YesOption = False,
    posterior: Annotated[
        Path | None,
        typer.Option(
            help="A `groupsim calibrate` folder: power at its posterior median, and assurance "
            "(each study under one parameter set drawn from the posterior) beside it"
        ),
    ] = None,
    icc: Annotated[
        str,
        typer.Option(
            help="ICCs to assume for the groups that meet, comma-separated, each in [0, 1): "
            "the design-effect formula's power and design at each, beside the model's own "
            "ICC (default: the range group treatments report)"
        ),
    ] = "0.02,0.06,0.12",
    effect_sizes: Annotated[
        str,
        typer.Option(
            help="Standardized effects (Cohen's d on the clients' pre-test SD) to plan for "
            "besides the model's own, comma-separated, each above 0: the groups per arm the "
            "design-effect formula needs at each (default: 0.3, what school counseling "
            "reports, and Cohen's 0.5 and 0.8)"
        ),
    ] = "0.3,0.5,0.8",
) -> None:
    """Power of simulated field studies and the bias of the one-group pre/post design.

    k groups of m clients per arm, a mixed model of post-test on pre-test with a random
    intercept per group (a cluster-level analysis below 4 groups per arm); the smallest design
    that clears --target; the groups per arm another ICC or a smaller effect would need
    (--icc, --effect-sizes); with --posterior, assurance; see docs/power.md.
    """
    design = parse_groups(groups)
    if min(design) < 2:
        raise UsageError(
            f"--groups: at least 2 groups per arm (got {groups!r}); with 1 group per arm "
            "treatment and group are confounded and no test can separate them"
        )
    sizes = _parse_clients(clients)
    assumed_iccs = _parse_numbers(
        "--icc", icc, lambda v: 0 <= v < 1, "from 0 up to (not including) 1, e.g. 0.02,0.06"
    )
    assumed_effects = _parse_numbers(
        "--effect-sizes", effect_sizes, lambda v: 0 < v < float("inf"), "above 0, e.g. 0.3,0.5"
    )
    check_minimums(reps=reps, seed=seed, workers=workers)
    if not 0.0 < alpha < 1.0:
        raise UsageError(f"--alpha: must lie strictly between 0 and 1 (got {alpha})")
    if not 0.0 < target < 1.0:
        raise UsageError(f"--target: a power strictly between 0 and 1 (got {target})")
    backend = backend_from_options(workers, scheduler, dask_local, connect_timeout)
    check_output_folder(out)
    overrides = parse_overrides(set_)  # applied to both arms
    arms = load_scenario(treatment, overrides), load_scenario(control, overrides)
    drawn_from = None
    if posterior is not None:
        from groupsim.scenario.posterior import load_posterior

        # A bad folder is a ScenarioError: one line naming the file and column, exit 2.
        drawn_from = load_posterior(posterior)
    paths = (treatment, control)
    sized = [_sized(arm, m, path) for arm, path in zip(arms, paths, strict=True) for m in sizes]
    # Each arm's pool (per group size) serves every design.
    runs = 2 * reps * max(design) * max(1, len(sizes)) * (1 if drawn_from is None else 2)
    check_study(
        sized or arms,
        [str(path) for path in paths for _ in sizes or (0,)],
        "--groups/--clients/--reps",
        runs,
        backend,
        yes,
    )
    # The study's modules (Mesa, statsmodels: seconds to import) only once the input is
    # good, so a mistyped option is answered at once.
    from groupsim.study.power import power as power_analysis

    with BackendErrorsAsUsage():
        analysis = power_analysis(
            *arms,
            design,
            reps,
            alpha,
            seed,
            label="power",
            backend=backend,
            clients=sizes or None,
            target=target,
            posterior=drawn_from,
            icc=assumed_iccs,
            effect_sizes=assumed_effects,
        )
    analysis.report(out)
    _print_power(analysis, reps, alpha)
    console.print(f"Wrote {out}/ (power.csv, figures). Report: {out / 'report.html'}")


def _parse_clients(text: str | None) -> tuple[int, ...]:
    """`--clients 6,9,12` to a tuple of group sizes (empty: the scenario's), or a UsageError."""
    if text is None:
        return ()
    tokens = [token.strip() for token in text.split(",")]
    if any(not token.isdigit() or int(token) < 2 for token in tokens):
        raise UsageError(
            f"--clients: comma-separated whole numbers >= 2, e.g. 6,9,12 (got {text!r})"
        )
    return tuple(sorted({int(token) for token in tokens}))


def _parse_numbers(
    option: str, text: str, allowed: Callable[[float], bool], what: str
) -> tuple[float, ...]:
    """`--icc 0.02,0.06` to a tuple of numbers, each `allowed`, or a UsageError saying `what`.

    The ranges restate `power_sensitivity.check_iccs` / `check_effects`, as `parse_groups`
    does `check_design`: a mistyped option is answered before the study's modules (seconds
    to import) load.
    """
    try:
        values = tuple(float(token) for token in text.split(","))
    except ValueError:
        values = ()
    if not values or not all(allowed(value) for value in values):
        raise UsageError(f"{option}: comma-separated numbers {what} (got {text!r})")
    return values


def _print_groups_needed(analysis: PowerAnalysis) -> None:
    """Groups per arm the formula needs, by effect and ICC: a table per group size."""
    from groupsim.study.power_sensitivity import MAX_GROUPS, needed_grid

    if analysis.groups_needed.empty:
        return
    iccs, grid = needed_grid(analysis.groups_needed)
    # The model's ICC and effect are its own; neither was measured in home-room groups.
    table = console_table(
        f"If the ICC or the effect is not the model's: groups per arm the design-effect "
        f"formula needs for power {analysis.target:g} (point values; see the report)",
        names=("clients\nper group", "effect"),
        numbers=("model's\nICC", *(f"ICC\n{icc:g}" for icc in iccs)),
    )
    for m, effect, first, counts in grid:
        what = f"model's, d = {first['effect_d']:.1f}" if effect == "model" else effect
        table.add_row(str(m), what, *(f">{MAX_GROUPS}" if k is None else str(k) for k in counts))
    console.print(table)


def _sized(scenario: Scenario, clients: int, path: Path) -> Scenario:
    """The scenario with `group.clients` set, or a UsageError naming the file."""
    from groupsim.scenario import with_clients

    try:
        return with_clients(scenario, clients)
    except ValueError as error:
        raise UsageError(f"{path}: --clients {clients}: {error}") from None


#: Disk per run of a study's result tables (outcomes, clients), bytes: measured, rounded up.
STUDY_BYTES_PER_RUN = 4000


def check_study(
    scenarios: Sequence[Scenario],
    sources: list[str],
    option: str,
    runs: int,
    backend: Backend,
    yes: bool,
) -> None:
    """Refuse up front a scenario too large for memory, or a study above the size limits.

    Prints the study's estimate (runs, time, disk) when it is large enough to matter.
    """
    from groupsim.runs.resources import CONFIRM_RUNS, check_memory, check_workload

    for scenario, source in zip(scenarios, sources, strict=True):
        check_memory(scenario, record_students=False, record_ties=False, source=source)
    largest = max(scenarios, key=lambda s: s.students)
    estimate = check_workload(option, runs, largest, backend.workers, STUDY_BYTES_PER_RUN, yes)
    if runs > CONFIRM_RUNS // 10:
        console.print(f"Study: {estimate}", markup=False)


def _with_ci(row: dict, name: str) -> str:
    return f"{row[name]:.2f} {bracket(row[name + '_low'], row[name + '_high'], '.2f')}"


def _print_power(analysis: PowerAnalysis, reps: int, alpha: float) -> None:
    """The answer, the power table and the seed design's gains, on the console."""
    from groupsim.study.power_sensitivity import effect_caveat

    console.print(analysis.answer(), markup=False)
    caveat = effect_caveat(analysis)
    if caveat:
        console.print(caveat, markup=False)
    assured = "assurance" in analysis.table
    table = console_table(
        f"Power at alpha {alpha:g}, {reps} simulated studies per design (95% Wilson CI)",
        numbers=(  # headers of short lines: the table keeps within 80 columns
            "groups\nper arm",
            "clients\nper group",
            "missing\npost",
            "primary\ntest",
            "power" + ("\nat median" if assured else ""),
            *(("assurance",) if assured else ()),
            "formula",
        ),
    )
    rows = analysis.table.to_dict("records")
    for row in rows:
        table.add_row(
            str(row["groups_per_arm"]),
            str(row["clients_per_group"]),
            f"{100 * row['missing_post']:.0f}%",
            row["primary_test"],
            _with_ci(row, "power_primary"),
            *((_with_ci(row, "assurance"),) if assured else ()),
            f"{row['formula_power_mixed']:.2f}",
        )
    console.print(table)
    if "null_treatment_primary" in analysis.table:
        # Below the table, not in it: a sentence says what the rates are, and the table
        # keeps within 80 columns.
        def rates(column: str) -> str:
            return ", ".join(f"{row[column]:.2f}" for row in rows)

        console.print(
            f"The treatment in both arms (T vs T; a valid test rejects about {alpha:g}), the "
            f"designs in the table's order: primary test {rates('null_treatment_primary')}; "
            f"clients as if independent (liberal) {rates('null_treatment_ancova')}",
            markup=False,
        )
    for row in analysis.clustering.to_dict("records"):
        console.print(
            f"ICC {row['arm']} ({row['clients_per_group']} per group): {row['icc']:.3f} "
            f"[{row['icc_low']:.3f}, {row['icc_high']:.3f}], design effect "
            f"{row['design_effect']:.2f}",
            markup=False,
        )
    _print_groups_needed(analysis)
    for row in analysis.seed_design.to_dict("records"):
        console.print(
            f"One group, pre/post, screening {row['screening']}: gain {row['one_group_gain']:.1f} "
            f"= true effect {row['true_effect']:.1f} + campus life {row['campus_life']:.1f} "
            f"+ regression to the mean {row['regression_to_mean']:.1f} points; "
            f"paired t-test power {row['power_paired']:.2f}"
        )


@app.command()
def compare(
    scenarios: Annotated[
        list[Path],
        typer.Argument(
            help="Two or more scenarios (files or built-in names); the first is the reference"
        ),
    ],
    reps: Annotated[int, typer.Option(help="Replications per scenario (common random numbers)")],
    out: Annotated[Path, typer.Option(help="Folder for tables, figures and the report")],
    seed: Annotated[int, typer.Option(help="Experiment seed; same seed, same results")] = 0,
    workers: WorkersOption = None,
    set_: SetOption = None,
    scheduler: SchedulerOption = None,
    dask_local: DaskLocalOption = None,
    connect_timeout: ConnectTimeoutOption = 10.0,
    yes: YesOption = False,
    control: Annotated[
        str | None,
        typer.Option(
            help="'auto': give each design a matched no-intervention control (same cohort, "
            "group size and calendar) and compare it with that"
        ),
    ] = None,
    posterior: PosteriorOption = None,
) -> None:
    """Compare scenarios over paired replications: effects with CIs, figures and a report.

    With --posterior DIR each replication runs every arm with one parameter set drawn from the
    calibration posterior, and each effect gets a posterior predictive 90% interval.
    """
    if len(scenarios) < 2:
        count = len(scenarios)
        raise UsageError(f"SCENARIOS: need at least 2 scenario files to compare (got {count})")
    check_minimums(reps=reps, seed=seed, workers=workers)
    from groupsim.study.matching import CONTROL_CHOICES

    if control is not None and control not in CONTROL_CHOICES:
        choices = ", ".join(CONTROL_CHOICES)
        raise UsageError(f"--control: must be {choices} (got {control!r})")
    backend = backend_from_options(workers, scheduler, dask_local, connect_timeout)
    check_output_folder(out)
    overrides = parse_overrides(set_)
    # Every file, its memory and the study's size checked before the first run.
    loaded = [load_scenario(path, overrides) for path in scenarios]
    calibrated = None
    if posterior is not None:
        from groupsim.scenario.posterior import load_posterior

        calibrated = load_posterior(posterior)  # a bad folder or column: one line, exit 2
        check_posterior_sets(calibrated, overrides)
    runs = len(scenarios) * reps
    if control == "auto":
        from groupsim.study.matching import missing_controls

        runs += len(missing_controls(loaded)) * reps
    check_study(loaded, [str(path) for path in scenarios], "--reps", runs, backend, yes)
    # The study's modules only once the input is good (as in `power`).
    from groupsim.runs.backends import opened
    from groupsim.study.compare import MismatchedControlWarning
    from groupsim.study.compare import compare as compare_scenarios

    with BackendErrorsAsUsage(), warnings.catch_warnings(), opened(backend):
        # Said once below, on stderr, and in the report.
        warnings.simplefilter("ignore", MismatchedControlWarning)
        comparison = compare_scenarios(
            scenarios,
            reps,
            seed=seed,
            overrides=overrides,
            backend=backend,
            control=control,
            posterior=calibrated,
        )
        for sentence in comparison.mismatches:
            typer.echo(f"Warning: {sentence}", err=True)
        # The runs' workers, warm, draw the report's figures too.
        report = comparison.report(out, backend=backend)
    _print_differences(comparison, reps)
    _print_arms(comparison)
    console.print(f"Wrote {out}/ (tables, figures). Report: {report}")


def _print_arms(comparison: Comparison) -> None:
    """How the clients of each arm changed: shares, not only means (`Comparison.arms`)."""
    from groupsim.study.wording import share

    table = console_table(
        "Clients per arm, pooled over replications: reliable change (Jacobson-Truax) of the "
        "answered post-tests, ICC of the post-test given the pre-test",
        names=("scenario",),
        # Headers of short lines: the table keeps within 80 columns.
        numbers=("improved", "no\nchange", "deteriorated", "post\nmissing", "ICC\n(post | pre)"),
    )
    for row in comparison.arms.to_dict("records"):
        table.add_row(
            row["scenario"],
            *(
                share(row[column])
                for column in ("improved", "no_change", "deteriorated", "post_missing")
            ),
            f"{row['icc_post']:.2f}",
        )
    console.print(table)


def _print_differences(comparison: Comparison, reps: int) -> None:
    """The post-program differences to the reference: one table per treatment.

    One table per treatment (not a scenario column) and the interval beside its difference
    keep a row within 80 columns.
    """
    effects = comparison.effects
    numbers = ["mean", "difference [95% CI]", "g", "p"]
    if comparison.posterior is not None:
        numbers.append("predictive 90%")
    for treatment in comparison.treatments:
        table = console_table(
            f"{treatment} against {comparison.control_of(treatment)}, post-program "
            f"({reps} paired replications)",
            names=("outcome",),
            numbers=numbers,
        )
        rows = effects[
            (effects["scenario"] == treatment) & effects["outcome"].str.startswith("post_")
        ]
        for _, row in rows.iterrows():
            cells = [
                row["outcome"].removeprefix("post_"),
                f"{row['mean']:.3f}",
                f"{row['difference']:+.3f} "
                f"{bracket(row['difference_low'], row['difference_high'], '+.3f')}",
                f"{row['hedges_g']:.1f}",
                # At most 5 characters: "8e-04", not "0.0008".
                f"{row['p_value']:.0e}" if row["p_value"] < 0.001 else f"{row['p_value']:.1g}",
            ]
            if comparison.posterior is not None:
                cells.append(bracket(row["predictive_low"], row["predictive_high"], "+.3f"))
            table.add_row(*cells)
        console.print(table)
    if comparison.posterior is not None:
        from groupsim.study.posterior_effects import posterior_folder

        console.print(
            f"Parameters drawn from {posterior_folder(comparison.posterior)} "
            f"({', '.join(comparison.posterior.parameters)}): the predictive 90% interval "
            "includes parameter uncertainty; the 95% CI shows only the simulation noise of "
            "the average effect (the report compares their widths).",
            markup=False,
        )
