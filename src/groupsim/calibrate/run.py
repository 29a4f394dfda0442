"""`calibrate`: read a calibration file and its data, run ABC-SMC, write every output.

Example (checking the shipped seed anchor; `make calibrate` runs it):
    >>> calibration, problem = check_inputs("calibrations/seed_anchor.toml")
    >>> problem.labels
    ('home_room: pre_mean', 'home_room: post_mean', 'control: gain')
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from groupsim.calibrate.outputs import (
    Results,
    diagnostics_table,
    posterior_frame,
    predictive_check,
    write_results,
)
from groupsim.calibrate.simulate import check_inputs
from groupsim.calibrate.smc import Generation, run_abc
from groupsim.runs.backends import Backend, SerialBackend, opened
from groupsim.scenario import ScenarioError
from groupsim.scenario.posterior import Posterior

__all__ = ["HISTORY", "calibrate", "history_path"]

#: pyABC's history database inside a finished calibration's folder.
HISTORY = "history.db"


def history_path(out: Path) -> Path:
    """Where a running calibration keeps pyABC's database: beside `out`, until it is done."""
    return out.parent / f".{out.name}.history.db"


def calibrate(
    path: str | Path,
    out: str | Path,
    backend: Backend | None = None,
    *,
    resume: bool = False,
    progress: Callable[[Generation], None] | None = None,
) -> Path:
    """Calibrate groupsim to the data a calibration file names; write `out`; return it.

    Args:
        path: the calibration file (TOML, see `groupsim.calibrate.spec`).
        out: the output folder (replaced whole when the calibration is done).
        backend: where simulations run (default: this process).
        resume: continue from pyABC's database of an interrupted run (kept beside `out`) or
            of a finished one (``out/history.db``), up to the file's `generations`.
        progress: called after each ABC-SMC generation.

    Raises:
        ScenarioError: a bad calibration file or data file (file, field, row and column
            named), or `resume` without a database to resume from.
    """
    out = Path(out)
    calibration, problem = check_inputs(path)
    database = history_path(out)
    if resume and not database.exists():
        finished = out / HISTORY
        if not finished.exists():
            raise ScenarioError(str(out), "--resume", f"no {HISTORY} to resume from here")
        database.write_bytes(finished.read_bytes())
    backend = backend or SerialBackend()
    with opened(backend):
        history = run_abc(calibration, problem, database, backend, resume=resume, progress=progress)
        posterior = Posterior.from_frame(posterior_frame(history, problem), str(out))
        predictive, draws = predictive_check(
            problem,
            posterior,
            calibration.abc.predictive_draws,
            calibration.calibration.seed,
            backend,
        )
    results = Results(
        calibration=calibration,
        problem=problem,
        posterior=posterior,
        diagnostics=diagnostics_table(history),
        predictive=predictive,
        draws=draws,
    )
    write_results(results, out, database)
    database.unlink(missing_ok=True)
    return out
