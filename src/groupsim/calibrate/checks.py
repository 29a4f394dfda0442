"""Checks of the calibration pipeline: synthetic calibrations and leave-one-target-out.

:func:`synthetic_coverage` (a simulation-based check, after Talts et al. 2018): draw true
parameters from the prior, simulate the targets at them (the "data"), calibrate to that data
with the same ABC-SMC, and record whether each parameter's 50% and 90% credible intervals
cover its true value. A calibrated pipeline covers in about 50% and 90% of cases; ABC with a
tolerance above zero errs towards wide (conservative) intervals.

:func:`posterior_of` runs ABC-SMC for a problem without writing any output folder (its
history in a temporary database).
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from groupsim.calibrate.outputs import posterior_frame
from groupsim.calibrate.simulate import Problem
from groupsim.calibrate.smc import run_abc
from groupsim.calibrate.spec import Calibration
from groupsim.runs.backends import Backend
from groupsim.runs.execute import replication_seeds
from groupsim.scenario.posterior import Posterior

__all__ = ["posterior_of", "synthetic_coverage"]

#: The credible levels whose coverage the check reports.
LEVELS = (0.5, 0.9)


def posterior_of(
    calibration: Calibration, problem: Problem, backend: Backend, seed: int | None = None
) -> Posterior:
    """The ABC-SMC posterior of `problem` (nothing written; `seed` overrides the file's)."""
    if seed is not None:
        calibration = calibration.model_copy(
            update={"calibration": calibration.calibration.model_copy(update={"seed": seed})}
        )
    with tempfile.TemporaryDirectory(prefix="groupsim-abc-") as folder:
        history = run_abc(calibration, problem, Path(folder) / "history.db", backend)
        return Posterior.from_frame(posterior_frame(history, problem), "synthetic")


def synthetic_coverage(
    calibration: Calibration,
    problem: Problem,
    reps: int,
    seed: int,
    backend: Backend,
    on_rep: Callable[[pd.DataFrame], None] | None = None,
) -> pd.DataFrame:
    """Calibrate `reps` times to data simulated at prior draws; one row per rep and parameter.

    Columns: rep, parameter, truth, median, and for each level in `LEVELS` its interval's
    bounds and whether it covers the truth (``covered_50``, ``covered_90``). `on_rep`, if
    given, gets the rows so far after each calibration (a long check can be followed).
    """
    from groupsim.calibrate.smc import priors

    prior = priors(calibration.parameters)
    rows = []
    for rep, rep_seed in enumerate(replication_seeds(seed, reps)):
        np.random.seed(rep_seed % 2**32)  # noqa: NPY002  (pyABC's priors draw from it)
        keys = prior.rvs()
        truth = {path: float(keys[path.replace(".", "__")]) for path in problem.parameters}
        simulated = problem.simulate(truth, rep_seed)
        data = dataclasses.replace(
            problem, observed=tuple(simulated[f"t{i}"] for i in range(len(problem.labels)))
        )
        posterior = posterior_of(calibration, data, backend, seed=rep_seed % 2**31)
        for path, value in truth.items():
            row: dict[str, object] = {
                "rep": rep,
                "parameter": path,
                "truth": value,
                "median": posterior.quantile(path, 0.5),
            }
            for level in LEVELS:
                tag = f"{round(level * 100)}"
                low = posterior.quantile(path, (1 - level) / 2)
                high = posterior.quantile(path, (1 + level) / 2)
                row |= {f"low_{tag}": low, f"high_{tag}": high,
                        f"covered_{tag}": bool(low <= value <= high)}  # fmt: skip
            rows.append(row)
        if on_rep is not None:
            on_rep(pd.DataFrame(rows))
    return pd.DataFrame(rows)
