"""What a calibration simulates: each study arm at one parameter set, scored like the field data.

:func:`build_problem` turns a checked calibration file and its data into a :class:`Problem`:
the arms' scenarios, the instrument each arm was measured on, the targets and their observed
values. ``problem.simulate(values, seed)`` runs every arm once (common random numbers: one
seed for all arms; arms that agree on the cohort and campus life settle it once, as
`compare`'s arms do, `groupsim.model.settled`), measures its clients' latent
social-interaction scores at pre, post and follow-up on the arm's own instrument with the
graded response model (:meth:`QuestionnaireModel.from_instrument`) and returns the targets'
statistics (:func:`groupsim.calibrate.statistics.arm_statistics`), exactly as the field
data's are computed. A study of 22 clients is simulated with its scenario's clients, so the
simulated statistics carry the same sampling noise as the observed ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from groupsim.calibrate.data import OCCASIONS, load_pilot, load_summaries, summary_instrument
from groupsim.calibrate.spec import Calibration, load_calibration
from groupsim.calibrate.statistics import arm_statistics, summary_statistics
from groupsim.model.measures import QuestionnaireModel
from groupsim.model.settled import SettledCohort
from groupsim.runs.runner import build_model
from groupsim.scenario import Scenario, ScenarioError
from groupsim.scenario.files import with_overrides
from groupsim.scenario.instrument import Instrument

__all__ = ["Problem", "build_problem", "check_inputs", "parameter_key"]


def parameter_key(path: str) -> str:
    """PyABC's name of a dotted parameter path (pyABC keys hold no dots)."""
    return path.replace(".", "__")


@dataclass(frozen=True)
class Problem:
    """The arms, instruments, parameters and targets of one calibration (picklable)."""

    scenarios: dict[str, Scenario]
    instruments: dict[str, Instrument]
    parameters: tuple[str, ...]
    targets: tuple[tuple[str, str], ...]  # (arm, statistic)
    observed: tuple[float, ...]
    labels: tuple[str, ...]

    @property
    def observed_stats(self) -> dict[str, float]:
        """The observed targets as pyABC's summary statistics (keys ``t0, t1, ...``)."""
        return {f"t{i}": value for i, value in enumerate(self.observed)}

    def arm_scenario(self, arm: str, values: dict[str, float]) -> Scenario:
        """One arm's scenario with a parameter set applied (a ScenarioError if not allowed)."""
        scenario = self.scenarios[arm]
        return with_overrides(scenario, values, arm)

    def simulate(self, values: dict[str, float], seed: int) -> dict[str, float]:
        """Every target's statistic, simulated at `values` (dotted path -> value).

        The arms run with the same seed, so those that agree on the cohort and campus life
        (a treated arm and its control, usually) share its drawing and burn-in: the second
        starts from the first's settled cohort, the same run to the last bit as settling its
        own (a seed-anchor particle ~1.16x as fast, docs/performance.md).
        """
        needed = {arm for arm, _ in self.targets}
        settled_cohorts: dict[tuple[Any, ...], SettledCohort] = {}
        stats = {
            arm: self._simulate_arm(arm, index, values, seed, settled_cohorts)
            for index, arm in enumerate(self.scenarios)
            if arm in needed
        }
        return {f"t{i}": stats[arm][statistic] for i, (arm, statistic) in enumerate(self.targets)}

    def _simulate_arm(
        self,
        arm: str,
        index: int,
        values: dict[str, float],
        seed: int,
        settled_cohorts: dict[tuple[Any, ...], SettledCohort] | None = None,
    ) -> dict[str, float]:
        """One arm's statistics; `settled_cohorts` as `groupsim.run` takes it."""
        scenario = self.arm_scenario(arm, values)
        model = build_model(scenario, seed, record_students=False, record_ties=False,
                            record_weeks=(), settled_cohorts=settled_cohorts)  # fmt: skip
        model.run_model()
        questionnaire = QuestionnaireModel.from_instrument(self.instruments[arm])
        rng = np.random.default_rng(np.random.SeedSequence([seed, index]))
        totals: dict[str, np.ndarray | None] = {}
        for occasion in OCCASIONS:
            latent = model.latent.get(occasion)
            if latent is None:
                totals[occasion] = None
                continue
            drawn = questionnaire.totals(np.nan_to_num(latent), rng).astype(float)
            totals[occasion] = np.where(np.isnan(latent), np.nan, drawn)
        pre, post = totals["pre"], totals["post"]
        if pre is None or post is None:  # every calendar has a pre- and a post-test
            raise ValueError(f"arm {arm!r}: the run gave no pre- or post-test")
        return arm_statistics(pre, post, totals["followup"], self.instruments[arm])

    def __call__(self, particle: dict[str, Any]) -> dict[str, float]:
        """PyABC's model: a particle's parameters -> summary statistics.

        The run's seed comes from NumPy's global generator, which the calibration's sampler
        seeds for every particle task (`groupsim.calibrate.smc`): pyABC draws its particles
        from that global state, so seeding it there makes the whole sample reproducible.
        """
        values = {path: float(particle[parameter_key(path)]) for path in self.parameters}
        seed = int(np.random.randint(0, 2**62))  # noqa: NPY002  (seeded per task, see above)
        return self.simulate(values, seed)


def build_problem(calibration: Calibration) -> Problem:
    """Read the calibration's data and resolve every target's observed value.

    Raises:
        ScenarioError: the data file is bad (row and column named), an arm has no row in the
            summaries, or a target's statistic is neither in the data nor given as
            ``observed`` in the calibration file.
    """
    scenarios = calibration.scenarios()
    source = calibration.source
    data_path = calibration.path(calibration.calibration.data)
    observed_by_arm: dict[str, dict[str, float]] = {}
    instruments: dict[str, Instrument] = {}
    if not calibration.calibration.data:
        instrument = calibration.instrument()
        instruments = dict.fromkeys(scenarios, instrument)
    elif calibration.calibration.data_kind == "summaries":
        table = load_summaries(data_path)
        for i, arm in enumerate(calibration.arms):
            row = _summary_row(table, arm.study, arm.data_arm, source, i)
            instruments[arm.name] = summary_instrument(row, str(data_path))
            observed_by_arm[arm.name] = summary_statistics(row)
    else:
        instrument = calibration.instrument()
        by_label = {arm.data_arm: arm.name for arm in calibration.arms}
        pilot = load_pilot(data_path, instrument, arms=by_label)
        for label, rows in pilot.groupby("arm", sort=False):
            observed_by_arm[by_label[str(label)]] = arm_statistics(
                rows["pre"], rows["post"], rows["followup"], instrument
            )
        instruments = dict.fromkeys(scenarios, instrument)
    observed = []
    for i, target in enumerate(calibration.targets):
        value = target.observed
        if value is None:
            value = observed_by_arm.get(target.arm, {}).get(target.statistic, np.nan)
        if not np.isfinite(value):
            raise ScenarioError(
                source,
                f"targets[{i}].observed",
                f"the data gives no {target.statistic} for arm {target.arm!r}; give "
                "`observed = ...` and say where it comes from in `note`",
            )
        observed.append(float(value))
    return Problem(
        scenarios=scenarios,
        instruments=instruments,
        parameters=tuple(p.path for p in calibration.parameters),
        targets=tuple((t.arm, t.statistic) for t in calibration.targets),
        observed=tuple(observed),
        labels=tuple(t.label for t in calibration.targets),
    )


def _summary_row(table: pd.DataFrame, study: str, arm: str, source: str, index: int) -> pd.Series:
    rows = table[(table["study"] == study) & (table["arm"] == arm)]
    if len(rows) != 1:
        found = "no row" if rows.empty else f"{len(rows)} rows"
        raise ScenarioError(
            source,
            f"arms[{index}].study",
            f"{found} of study {study!r}, arm {arm!r} in the data; name one row by its "
            "`study` and `arm` columns",
        )
    return rows.iloc[0]


def check_inputs(path: str | Path) -> tuple[Calibration, Problem]:
    """Read and check the calibration file and its data (nothing is written).

    Needs no pyABC: `groupsim calibrate` answers a bad file before loading it.
    """
    calibration = load_calibration(path)
    return calibration, build_problem(calibration)
