"""ABC-SMC with pyABC, reproducible on any backend: priors, sampler, progress, resume.

pyABC (Schaelte et al. 2022) runs the sequential Monte Carlo: an adaptive population size
(`AdaptivePopulationSize`, Klinger & Hasenauer 2017), an adaptive weighted Euclidean distance
(`AdaptivePNormDistance`, Prangle 2017) whose weights follow each statistic's spread, and a
median epsilon schedule. Its own parallel samplers schedule particles dynamically, so the
sample depends on which worker finishes first. :class:`SeededMappingSampler` instead maps a
fixed list of particle tasks over groupsim's backends (`groupsim.runs.execute.map_tasks`:
this process, a local pool, a Dask cluster) in task order: task k of generation t seeds
NumPy's global generator (which pyABC draws particles from) with ``(seed, call, k)`` and
samples until it has one accepted particle. The same seed then gives the same posterior,
bit for bit, on one worker, two, or a cluster.

The history lives in pyABC's SQLite database; a run that stopped resumes from it.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cloudpickle
import numpy as np
import pyabc
from pyabc.random_variables import RVBase

from groupsim.calibrate.simulate import Problem, parameter_key
from groupsim.calibrate.spec import Calibration, Parameter
from groupsim.runs.backends import Backend, opened
from groupsim.runs.execute import map_tasks
from groupsim.scenario.files import parameter_table

__all__ = [
    "Generation",
    "SeededMappingSampler",
    "TruncatedRV",
    "priors",
    "run_abc",
    "unit_bandwidth",
]


class TruncatedRV(RVBase):
    """A SciPy distribution cut to [low, high] (the parameter's allowed range).

    Example:
        >>> from scipy import stats
        >>> rv = TruncatedRV(stats.norm(0.5, 1.0), 0.0, 1.0)
        >>> rv.pdf(1.5), round(rv.cdf(1.0), 6)
        (0.0, 1.0)
    """

    def __init__(self, distribution: Any, low: float, high: float):
        self.distribution = distribution
        self.low = low
        self.high = high
        self._bottom = float(distribution.cdf(low))
        self._mass = float(distribution.cdf(high)) - self._bottom

    def copy(self) -> TruncatedRV:
        """A copy (pyABC copies priors)."""
        return TruncatedRV(self.distribution, self.low, self.high)

    def rvs(self, *args: Any, **kwargs: Any) -> float:
        """One draw by inverse CDF, with NumPy's global generator (as pyABC draws)."""
        u = self._bottom + self._mass * np.random.uniform()  # noqa: NPY002  (as pyABC's RV)
        return float(np.clip(self.distribution.ppf(u), self.low, self.high))

    def pdf(self, x: float, *args: Any, **kwargs: Any) -> float:
        """The density, zero outside [low, high]."""
        if not self.low <= x <= self.high:
            return 0.0
        return float(self.distribution.pdf(x)) / self._mass

    def pmf(self, x: float, *args: Any, **kwargs: Any) -> float:
        """A continuous variable has no mass function."""
        raise NotImplementedError("a continuous prior has no pmf")

    def cdf(self, x: float, *args: Any, **kwargs: Any) -> float:
        """The distribution function of the truncated variable."""
        clipped = min(max(x, self.low), self.high)
        return (float(self.distribution.cdf(clipped)) - self._bottom) / self._mass


def priors(parameters: tuple[Parameter, ...]) -> pyabc.Distribution:
    """The joint prior: independent priors, each cut to its parameter's allowed range."""
    ranges = {row["path"]: (row["min"], row["max"]) for row in parameter_table()}
    rvs = {}
    for parameter in parameters:
        low, high = ranges.get(parameter.path, (None, None))
        rvs[parameter_key(parameter.path)] = TruncatedRV(
            parameter.distribution(),
            -np.inf if low is None else float(low),
            np.inf if high is None else float(high),
        )
    return pyabc.Distribution(**rvs)


def unit_bandwidth(effective_size: float, dimension: int) -> float:
    """No bandwidth shrinkage (with ``scaling=2``: twice the weighted covariance).

    The perturbation kernel's covariance is then twice the weighted covariance of the last
    generation (Beaumont et al. 2009).

    pyABC's default (Silverman's rule, about 0.2 of the covariance for 200 particles in three
    dimensions) proposes too narrowly for a posterior with a long tail: a particle accepted at
    the edge of the last generation then carries most of the weight (an effective sample size
    of 2 of 200 in the seed anchor).
    """
    return 1.0


@dataclass(frozen=True)
class Generation:
    """Progress after one generation (what the command line shows)."""

    t: int
    epsilon: float
    accepted: int
    simulations: int
    seconds: float
    eta_seconds: float


def _sample_task(factory: Any, blob: bytes, words: tuple[int, ...]) -> tuple[Any, int]:
    """One particle task: seed NumPy's and Python's global generators, sample until accepted."""
    simulate_one = cloudpickle.loads(blob)
    np.random.seed(np.asarray(words, dtype=np.uint32))  # noqa: NPY002  (pyABC draws from it)
    random.seed(int.from_bytes(np.asarray(words, dtype=np.uint32).tobytes(), "little"))
    sample = factory()
    simulations = 0
    while True:
        particle = simulate_one()
        simulations += 1
        sample.append(particle)
        if particle.accepted:
            return sample, simulations


def _run_task(task: tuple[Any, bytes, tuple[int, ...]]) -> tuple[Any, int]:
    return _sample_task(*task)


class SeededMappingSampler(pyabc.sampler.Sampler):
    """pyABC's mapping sampler with a seed per particle task and a fixed task order."""

    def __init__(
        self,
        seed: int,
        backend: Backend,
        on_generation: Callable[[int, int, int, float], None] | None = None,
    ):
        super().__init__()
        self.seed = seed
        self.backend = backend
        self.on_generation = on_generation
        self.calls = 0

    def sample_until_n_accepted(
        self,
        n: int,
        simulate_one: Callable[[], Any],
        t: int,
        *,
        max_eval: float = np.inf,
        all_accepted: bool = False,
        ana_vars: Any = None,
    ) -> Any:
        """`n` tasks of one accepted particle each, seeded by (seed, generation, task)."""
        start = time.monotonic()
        blob = cloudpickle.dumps(simulate_one)
        # The generation index (t + 1: the calibration sample is t = 0 too) and a call count
        # tell the seeds of every call apart; the same call of a resumed run reseeds alike.
        children = np.random.SeedSequence([self.seed, t + 1, int(all_accepted)]).spawn(n)
        tasks = [
            (self.sample_factory, blob, tuple(int(w) for w in child.generate_state(4)))
            for child in children
        ]
        label = "prior sample" if all_accepted else f"generation {t}"
        results = map_tasks(_run_task, tasks, label=label, backend=self.backend, unit="particles")
        sample = self._create_empty_sample()
        for part, _ in results:
            sample += part
        self.nr_evaluations_ = sum(count for _, count in results)
        self.calls += 1
        if self.on_generation is not None and not all_accepted:
            self.on_generation(t, n, self.nr_evaluations_, time.monotonic() - start)
        return sample


def run_abc(
    calibration: Calibration,
    problem: Problem,
    database: Path,
    backend: Backend,
    *,
    resume: bool = False,
    progress: Callable[[Generation], None] | None = None,
) -> pyabc.History:
    """Run (or resume) the ABC-SMC of a calibration; return pyABC's history.

    Args:
        calibration: the checked calibration file (its ``[abc]`` settings and seed).
        problem: its arms, targets and observed values (`build_problem`).
        database: pyABC's SQLite history (created, or resumed from with `resume`).
        backend: where particle tasks run; opened here unless it is already.
        resume: continue the run stored in `database` (its last generation) instead of
            starting a new one (a new run replaces the file).
        progress: called after each generation.
    """
    settings = calibration.abc
    seed = calibration.calibration.seed
    # pyABC's main process draws from NumPy's global generator (population-size bootstrap).
    np.random.seed(seed % 2**32)  # noqa: NPY002
    sampler = SeededMappingSampler(seed, backend)
    abc = pyabc.ABCSMC(
        models=problem,
        parameter_priors=priors(calibration.parameters),
        distance_function=pyabc.AdaptivePNormDistance(p=2),
        population_size=pyabc.AdaptivePopulationSize(
            settings.population,
            mean_cv=settings.population_cv,
            max_population_size=settings.max_population,
            min_population_size=settings.min_population,
            n_bootstrap=5,
        ),
        transitions=pyabc.MultivariateNormalTransition(
            scaling=2.0, bandwidth_selector=unit_bandwidth
        ),
        eps=pyabc.MedianEpsilon(),
        sampler=sampler,
    )

    def report(t: int, accepted: int, simulations: int, seconds: float) -> None:
        if progress is None:
            return
        used = abc.history.total_nr_simulations + simulations if abc.history else simulations
        left_generations = max(settings.generations - (t - first + 1), 0)
        # pyABC checks the simulation budget between generations only: while any budget is
        # left, the next generation runs whole (and costs at least what this one did).
        left_budget = max(settings.max_simulations - used, 0)
        by_budget = math.ceil(left_budget / max(simulations, 1))
        eta = min(left_generations, by_budget) * seconds
        progress(Generation(t, float(abc.eps(t)), accepted, simulations, seconds, eta))

    sampler.on_generation = report
    url = f"sqlite:///{database}"
    if resume:
        abc.load(url, abc_id=1)
        first = abc.history.max_t + 1
    else:
        database.unlink(missing_ok=True)
        abc.new(url, problem.observed_stats)
        first = 0
    np.random.seed([seed % 2**32, first])  # noqa: NPY002  (a resumed run reseeds alike)
    left = settings.generations - first
    if left <= 0:  # a finished run resumed with no more generations asked for
        return abc.history
    with opened(backend):
        return abc.run(
            max_nr_populations=left,
            minimum_epsilon=settings.min_epsilon,
            max_total_nr_simulations=settings.max_simulations,
        )
