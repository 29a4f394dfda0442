"""The `groupsim cohort import` command: a real cohort's answers into a cohort file.

Registered on `groupsim.cli.app.app` as the `cohort` group. Bad input is one line naming the
file, row and column, exit status 2, nothing written (`groupsim.cohort.importer`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from groupsim.cli.app import UsageError, app
from groupsim.runs.store import check_output_path

__all__ = ["cohort_import"]

cohort_app = typer.Typer(
    help="Start from a real cohort: import its questionnaire answers and friendships.",
    no_args_is_help=True,
)
app.add_typer(cohort_app, name="cohort")


@cohort_app.command("import")
def cohort_import(
    responses: Annotated[Path, typer.Argument(help="Answer sheet: CSV or XLSX, a row per student")],
    instrument: Annotated[
        Path, typer.Option("--instrument", help="Instrument TOML ([instrument] table)")
    ],
    out: Annotated[Path, typer.Option("--out", help="Cohort file to write (.parquet)")],
    network: Annotated[
        Path | None,
        typer.Option("--network", help="Friendship survey CSV/XLSX: source, target[, strength]"),
    ] = None,
    id_column: Annotated[str, typer.Option("--id-column", help="The id column")] = "id",
    faculty_column: Annotated[
        str | None, typer.Option("--faculty-column", help="The faculty column, if any")
    ] = None,
    item_prefix: Annotated[
        str, typer.Option("--item-prefix", help="Item columns are PREFIX1 .. PREFIXn")
    ] = "item",
    min_answered: Annotated[
        int | None,
        typer.Option("--min-answered", help="Fewest answers to score a student (default: half)"),
    ] = None,
    keep_ids: Annotated[
        bool, typer.Option("--keep-ids", help="Keep the ids as given (default: pseudonyms)")
    ] = False,
    key_file: Annotated[
        Path,
        typer.Option("--key-file", help="Pseudonym key (created if missing; keep it private)"),
    ] = Path("~/.config/groupsim/pseudonym.key"),
) -> None:
    """Score each student's answers with the model's questionnaire and write a cohort file."""
    from groupsim.cohort.importer import import_cohort
    from groupsim.scenario.instrument import load_instrument

    check_output_path(out, "--out", folder=False)
    if min_answered is not None and min_answered < 1:
        raise UsageError(f"--min-answered: must be a whole number >= 1 (got {min_answered})")
    spec = load_instrument(instrument)
    summary = import_cohort(
        responses,
        spec,
        out,
        network=network,
        id_column=id_column,
        faculty_column=faculty_column,
        item_prefix=item_prefix,
        min_answered=min_answered,
        key_file=None if keep_ids else key_file,
    )
    for line in summary.lines():
        typer.echo(line)
    if not keep_ids:
        typer.echo(f"pseudonym key: {key_file} (keep it private; same key, same pseudonyms)")
    typer.echo(f"wrote {out}")
