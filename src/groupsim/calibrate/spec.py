"""The calibration file: data, the scenario of each study arm, priors and targets.

A calibration file is TOML (see docs/calibration.md)::

    [calibration]
    name = "seed_anchor"
    seed = 15
    data = "../data/field_studies.csv"   # relative to this file
    data_kind = "summaries"              # or "pilot" (one row per client)
    # instrument = "scale.toml"          # pilot data: its [instrument] (default: built-in)

    [abc]                                # pyABC ABC-SMC settings (all optional)
    population = 150                     # particles of the first generation (then adaptive)
    generations = 6
    max_simulations = 5000

    [[arms]]
    name = "home_room"
    scenario = "home_room"               # a built-in name or a file relative to this one
    study = "Nur Azizah & Murtafi'ah"    # summaries: the study's row ...
    arm = "treated"                      # ... and arm (pilot: the `arm` column's value)
    set = { "program.groups" = 2 }       # overrides of this arm's scenario

    [[parameters]]
    path = "counselor.warmth"
    prior = "uniform"                    # uniform (low, high), normal (mean, sd),
    low = 0.4                            # beta (a, b on [low, high]), lognormal (mu, sigma)
    high = 1.0

    [[targets]]
    arm = "home_room"
    statistic = "post_mean"              # see groupsim.calibrate.statistics.STATISTICS
    # observed = 122.55                  # default: from the data

Every error names the file and the field (``arms[1].scenario``, ``targets[0].statistic``).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from scipy import stats as st

from groupsim.scenario import (
    Scenario,
    ScenarioError,
    load_scenario,
    parse_toml,
    read_input_file,
)
from groupsim.scenario.instrument import Instrument, load_instrument

__all__ = ["Abc", "Arm", "Calibration", "Parameter", "Target", "load_calibration"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Abc(_Strict):
    """pyABC's settings: population sizes, stopping rules, predictive draws."""

    population: int = Field(150, ge=10, le=100_000, description="first generation's particles")
    min_population: int = Field(80, ge=10, description="smallest adaptive population")
    max_population: int = Field(400, ge=10, description="largest adaptive population")
    population_cv: float = Field(0.1, gt=0, lt=1, description="adaptive population's target CV")
    generations: int = Field(6, ge=1, le=100, description="most ABC-SMC generations")
    max_simulations: int = Field(5000, ge=10, description="most simulated particles in all")
    min_epsilon: float = Field(0.0, ge=0, description="stop once epsilon is this small")
    predictive_draws: int = Field(200, ge=10, le=100_000, description="predictive simulations")


class Arm(_Strict):
    """One study arm and the scenario that simulates it."""

    name: str = Field(min_length=1)
    scenario: str = Field(min_length=1)
    study: str = ""
    arm: str = ""
    set: dict[str, Any] = Field(default_factory=dict)

    @property
    def data_arm(self) -> str:
        """The arm's label in the data (default: its name)."""
        return self.arm or self.name


class Parameter(_Strict):
    """An uncertain parameter (a dotted scenario path) and its prior."""

    path: str = Field(min_length=3, pattern=r"^[a-z_]+\.[a-z_]+$")
    prior: Literal["uniform", "normal", "beta", "lognormal"]
    low: float = 0.0
    high: float = 1.0
    mean: float = 0.0
    sd: float = Field(1.0, gt=0)
    a: float = Field(1.0, gt=0)
    b: float = Field(1.0, gt=0)
    mu: float = 0.0
    sigma: float = Field(1.0, gt=0)

    def distribution(self) -> Any:
        """The prior as a frozen SciPy distribution (what pyABC's `RV` wraps)."""
        if self.prior == "uniform":
            return st.uniform(self.low, self.high - self.low)
        if self.prior == "normal":
            return st.norm(self.mean, self.sd)
        if self.prior == "beta":
            return st.beta(self.a, self.b, loc=self.low, scale=self.high - self.low)
        return st.lognorm(self.sigma, scale=math.exp(self.mu))

    def rv_arguments(self) -> tuple[str, tuple[float, ...], dict[str, float]]:
        """PyABC's ``RV(name, *args, **kwargs)`` for this prior."""
        if self.prior == "uniform":
            return "uniform", (self.low, self.high - self.low), {}
        if self.prior == "normal":
            return "norm", (self.mean, self.sd), {}
        if self.prior == "beta":
            return "beta", (self.a, self.b), {"loc": self.low, "scale": self.high - self.low}
        return "lognorm", (self.sigma,), {"scale": math.exp(self.mu)}


class Target(_Strict):
    """A summary statistic of one arm to match."""

    arm: str
    statistic: str
    observed: float | None = None
    note: str = ""

    @property
    def label(self) -> str:
        """``arm: statistic`` (the target's name in tables and figures)."""
        return f"{self.arm}: {self.statistic}"


class _File(_Strict):
    name: str = "calibration"
    description: str = ""
    seed: int = Field(0, ge=0)
    data: str = ""
    data_kind: Literal["summaries", "pilot"] = "summaries"
    instrument: str = ""


class Calibration(_Strict):
    """A checked calibration file, with its arms' scenarios loaded and resolved."""

    source: str
    folder: str
    calibration: _File
    abc: Abc = Field(default_factory=Abc)
    arms: tuple[Arm, ...]
    parameters: tuple[Parameter, ...]
    targets: tuple[Target, ...]

    def path(self, relative: str) -> Path:
        """A path of the file, relative to the calibration file's folder."""
        return Path(self.folder) / relative

    def scenarios(self) -> dict[str, Scenario]:
        """Each arm's scenario with its overrides (validated)."""
        return {arm.name: _arm_scenario(self, i, arm) for i, arm in enumerate(self.arms)}

    def instrument(self) -> Instrument:
        """The pilot data's instrument (its file, or the built-in default)."""
        name = self.calibration.instrument
        return load_instrument(self.path(name) if name else None)


def _arm_scenario(calibration: Calibration, index: int, arm: Arm) -> Scenario:
    field = f"arms[{index}].scenario"
    candidate = calibration.path(arm.scenario)
    target = str(candidate) if candidate.suffix == ".toml" else arm.scenario
    try:
        return load_scenario(target, arm.set)
    except ScenarioError as error:
        raise ScenarioError(calibration.source, field, str(error)) from None


def load_calibration(path: str | Path) -> Calibration:
    """Read and check a calibration file (arms, priors and targets; not yet the data).

    Raises:
        ScenarioError: the file is missing or not TOML, a field is unknown or not allowed,
            a target names an unknown arm or statistic, an arm's scenario does not load, or
            a bounded prior reaches outside its parameter's allowed range.
    """
    from groupsim.calibrate.statistics import STATISTICS

    source = str(path)
    data = parse_toml(read_input_file(Path(path), "calibration"), source)
    for key in ("arms", "parameters", "targets"):
        if not data.get(key):
            raise ScenarioError(source, key, f"give at least one [[{key}]] table")
    try:
        calibration = Calibration.model_validate(
            {**data, "source": source, "folder": str(Path(path).parent)}
        )
    except ValidationError as error:
        first = error.errors()[0]
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first["loc"])
        raise ScenarioError(source, where.lstrip(".") or "(file)", first["msg"]) from None
    names = [arm.name for arm in calibration.arms]
    if len(set(names)) != len(names):
        raise ScenarioError(source, "arms", "every arm needs its own name")
    for i, target in enumerate(calibration.targets):
        if target.arm not in names:
            raise ScenarioError(source, f"targets[{i}].arm", f"one of the arms: {names}")
        if target.statistic not in STATISTICS:
            raise ScenarioError(source, f"targets[{i}].statistic", f"one of {list(STATISTICS)}")
    paths = [p.path for p in calibration.parameters]
    if len(set(paths)) != len(paths):
        raise ScenarioError(source, "parameters", "a parameter path is listed twice")
    scenarios = calibration.scenarios()
    _check_priors(calibration, scenarios)
    return calibration


def _check_priors(calibration: Calibration, scenarios: dict[str, Scenario]) -> None:
    """A bounded prior's central 99.8%, an unbounded one's median, must be allowed values.

    Every prior is cut to the parameter's allowed range when the calibration runs
    (`groupsim.calibrate.smc.priors`), so its far tails may reach beyond it.
    """
    from groupsim.scenario.files import with_overrides

    for i, parameter in enumerate(calibration.parameters):
        if parameter.prior in ("uniform", "beta") and parameter.high <= parameter.low:
            raise ScenarioError(calibration.source, f"parameters[{i}].high", "must be above low")
        distribution = parameter.distribution()
        bounded = parameter.prior in ("uniform", "beta")
        for q in (0.001, 0.5, 0.999) if bounded else (0.5,):
            value = float(distribution.ppf(q))
            for name, scenario in scenarios.items():
                try:
                    overrides = {parameter.path: value}
                    with_overrides(scenario, overrides, name)
                except ScenarioError as error:
                    raise ScenarioError(
                        calibration.source,
                        f"parameters[{i}]",
                        f"the prior's {q:.1%} quantile {value:.4g} is not allowed in arm "
                        f"{name!r}: {error.field}: {error.allowed}",
                    ) from None
