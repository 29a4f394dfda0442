"""The `groupsim` command (and `python -m groupsim ...`): the CLI, loaded with Ctrl-C caught.

Loading the CLI imports pandas and the scenario layer (about a second); a Ctrl-C then ends the
command with one line and status 130, as it does once the CLI runs (`groupsim.cli.main`).
"""

import sys


def main() -> None:
    """Load the CLI and run it."""
    try:
        from groupsim.cli import main as run_cli
    except KeyboardInterrupt:
        sys.stderr.write("groupsim: interrupted\n")
        raise SystemExit(130) from None
    run_cli()


if __name__ == "__main__":  # not when imported (e.g. by pytest --doctest-modules)
    main()
