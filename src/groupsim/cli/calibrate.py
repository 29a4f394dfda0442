"""`groupsim calibrate`: ABC-SMC calibration of uncertain parameters to field data."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from groupsim.cli.app import (
    BackendErrorsAsUsage,
    ConnectTimeoutOption,
    DaskLocalOption,
    SchedulerOption,
    WorkersOption,
    app,
    backend_from_options,
    bracket,
    check_minimums,
    check_output_folder,
    console,
    console_table,
)

if TYPE_CHECKING:
    from groupsim.calibrate.smc import Generation


def _minutes(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"


def show_generation(generation: Generation) -> None:
    """One line per ABC-SMC generation: epsilon, acceptance rate, simulations, ETA."""
    g = generation
    console.print(
        f"generation {g.t}: epsilon {g.epsilon:.4g}, acceptance rate "
        f"{g.accepted / g.simulations:.1%} ({g.accepted} of {g.simulations}), "
        f"{_minutes(g.seconds)}; ETA {_minutes(g.eta_seconds)}",
        markup=False,
        soft_wrap=True,  # one line per generation, also in a log file
    )


@app.command()
def calibrate(
    calibration: Annotated[
        Path, typer.Argument(help="Calibration file (.toml): data, arms, priors, targets")
    ],
    out: Annotated[
        Path, typer.Option(help="Folder for the posterior, diagnostics, figures and report")
    ],
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue from pyABC's history database")
    ] = False,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    dask_local: DaskLocalOption = None,
    connect_timeout: ConnectTimeoutOption = 10.0,
) -> None:
    """Calibrate uncertain parameters to field data with ABC-SMC (pyABC); see docs/calibration.md.

    Same calibration file and seed: the same posterior on any number of workers.
    """
    check_minimums(workers=workers)
    from groupsim.calibrate.simulate import check_inputs

    check_inputs(calibration)  # a bad file or data: one line, before anything is written
    check_output_folder(out)
    backend = backend_from_options(workers, scheduler, dask_local, connect_timeout)
    from groupsim.calibrate.run import calibrate as run_calibration  # pyABC: once input is good

    logging.getLogger("ABC").setLevel(logging.WARNING)  # pyABC's own log: the lines below say it
    with BackendErrorsAsUsage():
        folder = run_calibration(calibration, out, backend, resume=resume, progress=show_generation)
    show_results(folder)
    console.print(f"Wrote {folder}/ (posterior.parquet, diagnostics, predictive check, report)")


def show_results(folder: Path) -> None:
    """The posterior and the predictive check, as the report's first tables say them."""
    import pandas as pd

    from groupsim.calibrate.outputs import DIAGNOSTICS_FILE, PREDICTIVE_FILE, posterior_summary
    from groupsim.scenario.posterior import load_posterior

    posterior = load_posterior(folder)
    ess = pd.read_csv(folder / DIAGNOSTICS_FILE)["ess"].iloc[-1]
    table = console_table(
        f"Posterior ({len(posterior)} particles, effective sample size {ess:.0f}): weighted "
        "median and 90% credible interval",
        names=("parameter",),
        numbers=("median", "90% interval"),
    )
    for row in posterior_summary(posterior).itertuples():
        table.add_row(row.parameter, f"{row.median:.3g}", bracket(row.low_5, row.high_95, ".3g"))
    console.print(table)
    check = pd.read_csv(folder / PREDICTIVE_FILE)
    missed = check.loc[~check["covered"], "target"].tolist()
    console.print(
        f"Posterior predictive check: the 90% interval covers {len(check) - len(missed)} of "
        f"{len(check)} targets" + (f"; not {', '.join(missed)}" if missed else ""),
        markup=False,
    )
