"""The `groupsim` command line: parse, call the library, print. Nothing else lives here.

Bad input (a :class:`~groupsim.scenario.ScenarioError` or a :class:`UsageError`) becomes one
line on stderr and exit status 2, with no traceback and nothing written. The commands live in
`run` (run, check), `sweep` (sweep, analyze), `teach` (ui, animate, replay), `study` (power,
compare) and `calibrate` (calibrate), each registering itself on the one `app` of
`groupsim.cli.app`.
"""

from __future__ import annotations

import signal
import sys
from typing import NoReturn

import typer

from groupsim.cli import (  # noqa: F401  (each registers its commands)
    calibrate,
    cohort,
    run,
    study,
    sweep,
    teach,
)
from groupsim.cli.app import UsageError, app
from groupsim.runs.resources import LimitError
from groupsim.runs.store import OutputError
from groupsim.scenario import ScenarioError

__all__ = ["app", "main"]


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that a run stops as cleanly (workers, temporary folders)."""


#: Set when SIGTERM came: typer turns any KeyboardInterrupt inside a command into exit 130.
_TERMINATED: list[bool] = []


def _raise_terminated(signum: int, frame: object) -> None:
    _TERMINATED.append(True)
    raise Terminated


def _stopped() -> NoReturn:
    """Say how the command was stopped and exit: 143 after SIGTERM, 130 after Ctrl-C."""
    if _TERMINATED:
        typer.echo("groupsim: terminated", err=True)
        sys.exit(143)
    typer.echo("groupsim: interrupted", err=True)
    sys.exit(130)


def one_line(message: str) -> str:
    r"""An error message on one line: a user's input may hold line breaks (shown as \n).

    Example:
        >>> print(one_line("--set: a\nb: expected key=value"))
        --set: a\nb: expected key=value
    """
    return message.replace("\r", "\\r").replace("\n", "\\n")


def check_arguments(args: list[str]) -> None:
    r"""A UsageError for an argument holding a NUL byte, which no path or value may hold.

    A shell cannot pass one (a program's arguments are C strings), but a program calling
    `main` can, and the parser's path checks would fail on it with a traceback.

    Example:
        >>> check_arguments(["run", "home_room"])
        >>> check_arguments(["run", "--out", "a\x00b"])
        Traceback (most recent call last):
        ...
        groupsim.cli.app.UsageError: argument 3 ('a\x00b') holds a NUL byte (no path or value may)
    """
    for position, argument in enumerate(args, 1):
        if "\x00" in argument:
            raise UsageError(
                f"argument {position} ({argument!r}) holds a NUL byte (no path or value may)"
            )


def main() -> None:
    """Entry point: run the app, turning bad input into one line and exit status 2."""
    signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        check_arguments(sys.argv[1:])
        # Without standalone mode, click returns the code of a `typer.Exit` instead of exiting.
        code = app(standalone_mode=False)
    except (ScenarioError, UsageError, LimitError, OutputError) as exc:
        typer.echo(f"groupsim: error: {one_line(str(exc))}", err=True)
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):  # click wraps Ctrl-C at a prompt in an Abort
        _stopped()
    except Exception as exc:
        # Usage errors of the parser (typer vendors click, so match by its interface).
        if hasattr(exc, "format_message") and hasattr(exc, "exit_code"):
            message = exc.format_message()
            if message:  # no arguments at all: the help was shown, nothing more to say
                typer.echo(f"groupsim: error: {one_line(message)}", err=True)
            sys.exit(2)
        raise
    if code == 130:  # typer's exit for a KeyboardInterrupt (Ctrl-C or SIGTERM) in a command
        _stopped()
    if isinstance(code, int) and code != 0:
        sys.exit(code)
