"""The command line's shared parts: the typer app, the console, options and the usage error.

Every command module (`run`, `study`, `sweep`, `teach`) registers its commands on :data:`app`;
`groupsim.cli` imports them all and holds :func:`~groupsim.cli.main`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from groupsim.scenario import parse_assignment

app = typer.Typer(
    name="groupsim",
    help="Agent-based simulation of group counseling with the home room technique.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Markdown reflows a docstring's paragraphs to the terminal; typer's "rich" markup keeps
    # the source's line breaks, which an 80-column terminal showed as ragged lines.
    rich_markup_mode="markdown",
)
console = Console()


def console_table(
    title: str,
    *,
    names: Sequence[str] = (),
    text: Sequence[str] = (),
    numbers: Sequence[str] = (),
) -> Table:
    """A table for the console whose cells are never cut short: its columns in this order.

    rich shortens a cell that does not fit to "…" by default, and an 80-column terminal (or
    a pipe, which rich gives 80 columns) lost parameter names and confidence bounds that
    way. Here `names` (what a user types: a parameter, an outcome) are kept on one line while
    any other column can give way; a `text` or `numbers` cell that does not fit wraps at its
    spaces, and a word longer than its column folds onto the next line: every character is
    shown. `numbers` are right-aligned.
    """
    table = Table(title=title, title_justify="left")
    for name in names:
        table.add_column(name, no_wrap=True, overflow="fold")
    for name in text:
        table.add_column(name, overflow="fold")
    for name in numbers:
        table.add_column(name, justify="right", overflow="fold")
    return table


def bracket(low: float, high: float, spec: str) -> str:
    """An interval as "[low, high]" in format `spec`: a narrow console wraps it at its space.

    Example:
        >>> bracket(-0.1873, -0.1421, "+.3f")
        '[-0.187, -0.142]'
    """
    return f"[{low:{spec}}, {high:{spec}}]"


def _print_version(asked: bool) -> None:
    if asked:
        from groupsim._version import __version__

        typer.echo(f"groupsim {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit"
        ),
    ] = False,
) -> None:
    """Agent-based simulation of group counseling with the home room technique."""


class UsageError(ValueError):
    """Bad command-line input other than a scenario value (one line, exit status 2)."""


def parse_overrides(assignments: list[str] | None) -> dict[str, Any]:
    """`--set key=value` options to a dict of dotted paths."""
    return dict(parse_assignment(text) for text in assignments or [])


#: The smallest value of each whole-number option.
MINIMUM = {"reps": 1, "seed": 0, "workers": 1}


def check_minimums(**options: int | None) -> None:
    """Refuse a whole-number option below its minimum (None: not given), naming the option.

    Example:
        >>> check_minimums(reps=10, seed=0, workers=None)
        >>> check_minimums(reps=0)
        Traceback (most recent call last):
        ...
        groupsim.cli.app.UsageError: --reps: must be a whole number >= 1 (got 0)
    """
    for name, value in options.items():
        if value is not None and value < MINIMUM[name]:
            raise UsageError(f"--{name}: must be a whole number >= {MINIMUM[name]} (got {value})")


def check_output_folder(out: Path) -> None:
    """Check before any run that `out` can be written (`groupsim.runs.store.check_output_path`).

    A folder already at `out` is replaced whole when the results are written.
    """
    from groupsim.runs.store import check_output_path

    check_output_path(out)


YesOption = Annotated[
    bool,
    typer.Option(
        "--yes",
        help="Start a study above the size limits (100,000 runs or a day of estimated time)",
    ),
]


#: Help for a scenario argument: a file, or the name of a built-in (`groupsim scenarios`).
SCENARIO_HELP = (
    "Scenario file (.toml) or the name of a built-in scenario, e.g. home_room "
    "(`groupsim scenarios` lists them)"
)

#: A scenario argument: a path or a built-in's name, passed to `load_scenario` as typed.
ScenarioArgument = Annotated[
    str, typer.Argument(help=SCENARIO_HELP, metavar="SCENARIO", show_default=False)
]

WorkersOption = Annotated[int | None, typer.Option(help="Processes to run on (default: all cores)")]

SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        help="Override a parameter: section.parameter=value (repeatable), "
        "e.g. --set counselor.warmth=0.5",
    ),
]

#: A calibration's output folder (`groupsim calibrate --out DIR`, holding posterior.parquet).
PosteriorOption = Annotated[
    Path | None,
    typer.Option(
        help="Draw parameters from this calibration posterior (a `groupsim calibrate` folder)"
    ),
]


def check_posterior_sets(posterior: Any, overrides: dict[str, Any]) -> None:
    """Refuse a --set of a parameter the posterior also varies (which value would hold?)."""
    from groupsim.study.posterior_effects import posterior_overrides

    both = posterior_overrides(posterior, overrides)
    if both:
        raise UsageError(
            f"--set {both[0]}: the posterior varies this parameter; drop the --set or "
            "calibrate without it"
        )


def parse_groups(text: str) -> tuple[int, ...]:
    """`--groups 2,4,6,8` to a tuple of designs (groups per arm), or a UsageError.

    One group per arm passes here: `power` refuses it with its reason (confounding).
    """
    tokens = [token.strip() for token in text.split(",")]
    if not tokens or any(not token.isdigit() or int(token) < 1 for token in tokens):
        raise UsageError(
            f"--groups: comma-separated whole numbers >= 2, e.g. 2,4,6,8 (got {text!r})"
        )
    return tuple(sorted({int(token) for token in tokens}))


# ---------------------------------------------------------------------------- backends
# Where the runs go, the same options for `compare`, `power` and `sweep`.

SchedulerOption = Annotated[
    str | None, typer.Option(help="Run on a Dask cluster: its scheduler, tcp://HOST:PORT")
]
DaskLocalOption = Annotated[
    int | None, typer.Option(help="Run on a Dask LocalCluster of N workers on 127.0.0.1")
]
ConnectTimeoutOption = Annotated[float, typer.Option(help="Seconds to wait for the --scheduler")]


def check_connect_timeout(seconds: float) -> None:
    """`--connect-timeout` must be a finite number of seconds above 0."""
    if not (math.isfinite(seconds) and seconds > 0):
        raise UsageError(f"--connect-timeout: must be a number of seconds above 0 (got {seconds})")


def backend_from_options(
    workers: int | None,
    scheduler: str | None,
    dask_local: int | None,
    connect_timeout: float = 10.0,
) -> Any:
    """The backend for `--workers`, `--scheduler`, `--dask-local` and `--connect-timeout`.

    At most one of the first three; none: a local pool on all cores. Bad combinations and
    counts below 1 raise a UsageError (one line, exit status 2). Returns a backend of
    `groupsim.runs.backends`, not yet started: a scheduler that cannot be reached raises
    its `BackendError` when the runs start (see `BackendErrorsAsUsage`).
    """
    from groupsim.runs.backends import BackendError, make_backend

    check_connect_timeout(connect_timeout)
    try:
        return make_backend(workers, scheduler, dask_local, connect_timeout)
    except BackendError as exc:
        raise UsageError(str(exc)) from None


class BackendErrorsAsUsage:
    """A block in which a backend that cannot start (`BackendError`) is a UsageError.

    Example:
        >>> from groupsim.runs.backends import BackendError
        >>> with BackendErrorsAsUsage():
        ...     raise BackendError("--scheduler: tcp://x:1: cannot reach the Dask scheduler")
        Traceback (most recent call last):
        ...
        groupsim.cli.app.UsageError: --scheduler: tcp://x:1: cannot reach the Dask scheduler
    """

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: object, exc: BaseException | None, traceback: object) -> None:
        from groupsim.runs.backends import BackendError

        if isinstance(exc, BackendError):
            raise UsageError(str(exc)) from None
