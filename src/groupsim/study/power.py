"""Power analysis by simulated field studies (`groupsim power`, `groupsim.study.power`).

A simulated field study puts k groups of m clients in the treatment arm and k groups of m
clients in the control arm. Every group is a separate run (its own cohort, its own seed);
the clients' questionnaire totals at pre-test and post-test, which already carry the
questionnaire's item-level noise, are analysed as a field researcher would. Clients of one
group share its counselor and climate, so the primary test is a linear mixed model with a
random intercept per group (REML, Satterthwaite's t-test) from 4 groups per arm, and with
fewer groups the covariate-adjusted cluster-level analysis, which keeps its level where the
mixed model's t-test does not; the ANCOVA on group means is the fast check; the client-level
ANCOVA and Welch's test on gains are shown as the liberal comparison they are (see
:mod:`groupsim.study.power_studies`). Power is the share of studies with p < alpha; the
recommended design is the smallest whose power's lower 95% bound clears a target. With a
calibrated posterior (`posterior=`), power is computed at the posterior median and each
design's *assurance* beside it (:mod:`groupsim.study.power_assurance`); the recommendation
then rests on assurance.

Runs are expensive, so each arm's pool of runs (per group size m) is simulated once and the
studies of every design are cut from disjoint blocks of it: study i of the design with k
groups per arm uses runs `[i*k, (i+1)*k)` of each pool. Runs are independent and identically
distributed, so every study is a valid draw; studies of different designs share runs, which
makes the power curve smoother, not biased.

The seed's own design (one group, pre/post, no control, paired t-test) is analysed too: its
power and how far its gain overstates the true effect, split into campus life and regression
to the mean (see :func:`seed_design_bias`). A controlled design with one group per arm is
refused: treatment and group are confounded, no test can tell them apart.

Example:
    >>> from groupsim import load_scenario
    >>> small = {"cohort.students_per_faculty": 5, "cohort.burn_in_weeks": 8}
    >>> arms = load_scenario("home_room", small), load_scenario("no_intervention", small)
    >>> analysis = power(*arms, groups=(2,), reps=4, workers=1)
    >>> list(analysis.table["groups_per_arm"])
    [2]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from groupsim.runs.execute import map_tasks, replication_seeds
from groupsim.runs.runner import build_model
from groupsim.scenario import Scenario, load_scenario, with_clients, with_overrides
from groupsim.study.power_assurance import as_posterior, assurance_studies, assurance_table
from groupsim.study.power_seed import SCREENING_OPTIONS, seed_design_bias
from groupsim.study.power_sensitivity import (
    LITERATURE_EFFECTS,
    LITERATURE_ICCS,
    check_effects,
    check_iccs,
    groups_needed_table,
    icc_sensitivity,
)
from groupsim.study.power_studies import (
    MIXED_MIN_GROUPS,
    TESTS,
    analyse_pools,
    clustering_table,
    field_studies,
    null_studies,
    power_table,
    recommend,
    with_formula_power,
)

if TYPE_CHECKING:
    from groupsim.model.settled import SettledCohort
    from groupsim.runs.backends import Backend
    from groupsim.scenario.posterior import Posterior

__all__ = [
    "CLIENT_TEST",
    "CLUSTER_TEST",
    "GAIN_TEST",
    "GROUP_MEANS_TEST",
    "MISSING_POST",
    "MIXED_TEST",
    "PRIMARY_NAMES",
    "PRIMARY_TEST",
    "SEED_TEST",
    "TESTS",
    "PowerAnalysis",
    "field_studies",
    "group_totals",
    "null_studies",
    "power",
    "power_table",
    "seed_design_bias",
    "seed_group_totals",
    "simulate_pool",
]

#: The names of the tests, as the report gives them.
MIXED_TEST = (
    "linear mixed model post ~ pre + treatment + (1 | group), REML (statsmodels MixedLM), "
    "t-test of treatment on Satterthwaite's degrees of freedom"
)
CLUSTER_TEST = (
    "covariate-adjusted cluster-level analysis: residuals of post on pre over all clients, "
    "then Student's t-test on the groups' mean residuals, groups - 2 degrees of freedom"
)
PRIMARY_TEST = (
    f"the {MIXED_TEST} from {MIXED_MIN_GROUPS} groups per arm; with fewer groups per arm the "
    f"{CLUSTER_TEST} (the mixed model's t-test rejects a true null too often there)"
)
#: The primary test of a design, by its `primary_test` value, in a few words.
PRIMARY_NAMES = {"mixed": "the mixed model", "cluster": "the cluster-level analysis"}
GROUP_MEANS_TEST = "ANCOVA on group means (groups as the unit, 2k - 3 degrees of freedom)"
CLIENT_TEST = (
    "ANCOVA on clients, post ~ pre + treatment by OLS (ignores the groups: liberal, for "
    "comparison only)"
)
GAIN_TEST = "Welch's t-test on clients' gain scores (post - pre; ignores the groups: liberal)"
SEED_TEST = "paired t-test of post-test vs pre-test (one group, no control)"
MISSING_POST = (
    "available-case analysis: a client without a post-test is left out of every test; the "
    "mixed model uses every answered post-test of every group (valid if missingness depends "
    "only on the pre-test and the group, missing at random)"
)


# ---------------------------------------------------------------------------- the runs


def group_totals(
    task: tuple[Scenario, int],
    settled_cohorts: dict[tuple[Any, ...], SettledCohort] | None = None,
) -> dict[str, np.ndarray]:
    """Run one group (scenario, seed) and keep what a power analysis needs of its clients.

    Returns the questionnaire totals `screening`, `pre` and `post`, and the noise-free
    expected totals of the clients' latent scores at screening and at the pre-test
    (`expected_screening`, `expected_pre`): they split the bias of screening on the pre-test
    into selection on measurement noise and real change during the baseline weeks. Runs
    the model exactly as `groupsim.run` does (same seed, same results); the model itself
    keeps the expected totals (`HomeRoomModel.expected_totals`). Module-level so process
    pools can pickle it. `settled_cohorts`: as `groupsim.run` takes it.
    """
    scenario, seed = task
    # Only questionnaire totals are kept: no weekly metrics (recording draws no random
    # numbers, so the run is the same as `groupsim.run`'s).
    model = build_model(
        scenario,
        seed,
        record_students=False,
        record_ties=False,
        record_weeks=(),
        settled_cohorts=settled_cohorts,
    )
    model.run_model()
    q = model.questionnaire
    expected = model.expected_totals  # computed when read: once
    return {
        "screening": np.asarray(q["screening"], dtype=float),
        "pre": np.asarray(q["pre"], dtype=float),
        "post": np.asarray(q["post"], dtype=float),
        "expected_screening": expected["screening"],
        "expected_pre": expected["pre"],
    }


def seed_group_totals(task: tuple[tuple[Scenario, ...], int]) -> list[dict[str, np.ndarray]]:
    """`group_totals` of several scenarios with one seed (module level, for worker processes).

    Group sizes and screening options of one arm, and the seed design's arms, run with the
    same seed: they settle their shared cohort once (`groupsim.model.settled`), the same runs.
    """
    scenarios, seed = task
    settled_cohorts: dict[tuple[Any, ...], SettledCohort] = {}
    return [group_totals((scenario, seed), settled_cohorts) for scenario in scenarios]


def with_screening(scenario: Scenario, screening: str) -> Scenario:
    """The scenario with `group.screening` set (validated like any override)."""
    source = f"{scenario.name} (group.screening={screening})"
    return with_overrides(scenario, {"group.screening": screening}, source)


def simulate_pool(
    scenario: Scenario,
    seeds: Sequence[int],
    workers: int | None = None,
    label: str | None = None,
    *,
    backend: Backend | None = None,
) -> list[dict[str, np.ndarray]]:
    """One run per seed: a pool of independent groups of one arm."""
    tasks = [(scenario, int(s)) for s in seeds]
    return map_tasks(group_totals, tasks, workers, label, backend=backend)


# ---------------------------------------------------------------------------- the analysis


@dataclass
class PowerAnalysis:
    """A power analysis: the designs' power, the studies behind it, the seed design's bias.

    Attributes:
        treatment: the treatment scenario.
        control: the control scenario.
        groups: designs, as groups per arm.
        reps: simulated studies per design.
        alpha: significance level.
        seed: the analysis' seed.
        table: a row per design (see `power_table`) with `formula_power_mixed`, the power the
            design-effect formula predicts.
        studies: a row per simulated study with its effect and p-values.
        nulls: control-vs-control and treatment-vs-treatment studies (column `arm`): the
            tests' type I error at each design.
        seed_design: a row per screening option (see `seed_design_bias`).
        clients: designs, as clients per group.
        target: the power the recommended design must clear with its lower 95% bound.
        clustering: ICC and design effect per arm and group size (see `clustering_table`).
        recommended: the recommended design's row of `table`, None if none clears `target`.
        posterior: the posterior's source (its Parquet file) when power was computed at its
            median and assurance beside it; None at fixed parameters.
        assurance_studies: with a posterior, a row per study under its own draw (see
            `groupsim.study.power_assurance.assurance_studies`); `table` then has
            `assurance`, `assurance_low`, `assurance_high`.
        icc_sensitivity: the design-effect formula's power at every design if the groups'
            ICC were each of the assumed ICCs (see `groupsim.study.power_sensitivity`).
        groups_needed: the groups per arm the formula needs to clear `target`, by group
            size, effect (the model's and each assumed standardized effect) and ICC (see
            `power_sensitivity.groups_needed_table`).
    """

    treatment: Scenario
    control: Scenario
    groups: tuple[int, ...]
    reps: int
    alpha: float
    seed: int
    table: pd.DataFrame
    studies: pd.DataFrame
    nulls: pd.DataFrame
    seed_design: pd.DataFrame
    runs: int = field(default=0)
    clients: tuple[int, ...] = ()
    target: float = 0.8
    clustering: pd.DataFrame = field(default_factory=pd.DataFrame)
    recommended: dict[str, Any] | None = None
    posterior: str | None = None
    assurance_studies: pd.DataFrame | None = None
    icc_sensitivity: pd.DataFrame = field(default_factory=pd.DataFrame)
    groups_needed: pd.DataFrame = field(default_factory=pd.DataFrame)

    def answer(self) -> str:
        """The recommended design in one sentence (the report's first line)."""
        measure, what = (
            ("assurance", f"assurance over the posterior ({self.posterior})")
            if self.posterior
            else ("power_primary", "power with the primary test")
        )
        if self.recommended is None:
            best = self.best_design()
            return (
                f"No design clears {self.target:g} ({what}, lower 95% bound): the best, "
                f"{int(best['groups_per_arm'])} groups of {int(best['clients_per_group'])} clients "
                f"per arm, has {_rate(best, measure)}; try more groups per arm (or more --reps "
                f"if the CI is wide)."
            )
        r = self.recommended
        sentence = (
            f"Recommended design: {r['groups_per_arm']} groups of {r['clients_per_group']} "
            f"clients per arm ({r['clients_total']} clients in all), the smallest whose {what}, "
            f"{_rate(r, measure)}, clears {self.target:g} with its lower 95% bound (primary "
            f"test: {PRIMARY_NAMES[r['primary_test']]}"
        )
        if self.posterior:
            sentence += f"; power at the posterior median {_rate(r, 'power_primary')}"
        return sentence + ")."

    def best_design(self) -> dict[str, Any]:
        """The design with the highest power (assurance, with a posterior), the largest of ties.

        What `answer` names when no design clears the target.
        """
        measure = "assurance" if self.posterior else "power_primary"
        return self.table.sort_values([measure, "clients_total"]).iloc[-1].to_dict()

    def report(self, out_dir: str | Path) -> Path:
        """Write power.csv, studies.csv, seed_design.csv, figures, report.md and report.html."""
        from groupsim.study.power_report import write_report

        return write_report(self, out_dir)


def _rate(row: Any, name: str) -> str:
    """A rate with its 95% CI, from a table row (dict or named tuple)."""
    get = row.get if isinstance(row, dict) else lambda key: getattr(row, key)
    return f"{get(name):.2f} [{get(name + '_low'):.2f}, {get(name + '_high'):.2f}]"


def _scenario(value: Scenario | str | Path) -> Scenario:
    return value if isinstance(value, Scenario) else load_scenario(value)


def check_design(groups: Sequence[int], reps: int, alpha: float) -> tuple[int, ...]:
    """Validate designs, study count and alpha; raise ValueError naming the bad one.

    One group per arm is refused: treatment and group are confounded (the group's own
    counselor and climate cannot be told from the program), so no test of it is valid.
    """
    design = tuple(groups)
    if not design or any(isinstance(k, bool) or not isinstance(k, int) or k < 1 for k in design):
        raise ValueError(f"groups: whole numbers >= 2 (got {list(design)})")
    if min(design) < 2:
        raise ValueError(
            "groups: at least 2 groups per arm; with 1 group per arm treatment and group are "
            f"confounded and no test can separate them (got {list(design)})"
        )
    if isinstance(reps, bool) or not isinstance(reps, int) or reps < 1:
        raise ValueError(f"reps: a whole number >= 1 (got {reps})")
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha: strictly between 0 and 1 (got {alpha})")
    return tuple(sorted(set(design)))


def check_clients(clients: Sequence[int] | None, target: float) -> tuple[int, ...] | None:
    """Validate clients per group (whole numbers >= 2) and the target power in (0, 1)."""
    if not 0.0 < target < 1.0:
        raise ValueError(f"target: a power strictly between 0 and 1 (got {target})")
    if clients is None:
        return None
    sizes = tuple(clients)
    if not sizes or any(isinstance(m, bool) or not isinstance(m, int) or m < 2 for m in sizes):
        raise ValueError(f"clients: whole numbers >= 2 (got {list(sizes)})")
    return tuple(sorted(set(sizes)))


def power(
    treatment: Scenario | str | Path,
    control: Scenario | str | Path,
    groups: Sequence[int] = (2, 4, 6, 8),
    reps: int = 100,
    alpha: float = 0.05,
    seed: int = 0,
    workers: int | None = None,
    label: str | None = None,
    *,
    backend: Backend | None = None,
    clients: Sequence[int] | None = None,
    target: float = 0.8,
    posterior: Posterior | str | Path | None = None,
    icc: Sequence[float] | float = LITERATURE_ICCS,
    effect_sizes: Sequence[float] | float = LITERATURE_EFFECTS,
) -> PowerAnalysis:
    """Power of field studies with k groups of m clients per arm, and the seed design's bias.

    Simulates `max(groups) * reps` runs per arm and group size once (treatment runs take the
    even replication seeds of `seed`, control runs the odd ones, so results do not depend on
    `workers` or the backend), plus the seed design's runs (the treatment scenario's own
    group size) under both screening options on the first `reps` even seeds (treatment and
    control alike: common random numbers). The studies' tests run on the same backend.

    Args:
        treatment: scenario (or path) of the treatment arm.
        control: scenario (or path) of the control arm.
        groups: designs to evaluate, as groups per arm (each >= 2).
        reps: simulated studies per design (and one-group studies of the seed design).
        alpha: significance level of the tests.
        seed: the analysis' seed.
        workers: processes (default: all cores).
        label: progress label on stderr (None: quiet).
        backend: where the runs go instead of `workers` processes: a backend of
            `groupsim.runs.backends` (e.g. `DaskBackend(local_workers=2)`).
        clients: designs as clients per group (`group.clients` of both arms; default: the
            treatment scenario's own group size).
        target: the power the recommended design's lower 95% Wilson bound must clear.
        posterior: a calibrated posterior (`groupsim.scenario.posterior.Posterior`, or the
            folder `groupsim calibrate` wrote): both arms take its median for the power
            analysis, and every design gets its assurance beside it, each simulated study
            under one parameter set drawn from the posterior (twice the runs); the
            recommendation then rests on assurance.
        icc: ICCs to assume for the arms whose groups meet (one or several), each in [0, 1): the
            design-effect formula's power at each (`PowerAnalysis.icc_sensitivity`), beside
            the model's own ICC, which no field study of home-room groups has measured
            (default: the range reported for group treatments, `LITERATURE_ICCS`).
        effect_sizes: standardized effects (Cohen's d on the clients' pre-test SD, each above
            0) to plan for besides the model's own, whose size rests on one field study: the
            groups per arm the formula needs at each, and at each ICC
            (`PowerAnalysis.groups_needed`; default `LITERATURE_EFFECTS`, 0.3, 0.5, 0.8).

    Raises:
        ValueError: a bad design (one group per arm among them), `reps`, `alpha`, `clients`,
            `target`, `icc` or `effect_sizes`, or both `workers` and `backend`.
        ScenarioError: a bad posterior folder, or a draw outside a parameter's range.
        BackendError: the backend cannot start (e.g. an unreachable Dask scheduler).

    Example:
        >>> tiny = {"cohort.students_per_faculty": 4, "cohort.burn_in_weeks": 2,
        ...         "program.followup_weeks": 0}
        >>> a = power(load_scenario("scenarios/home_room.toml", tiny),
        ...           load_scenario("scenarios/no_intervention.toml", tiny),
        ...           groups=(2, 3), reps=2, workers=1, clients=(4, 6))
        >>> list(zip(a.table["groups_per_arm"], a.table["clients_per_group"]))
        [(2, 4), (3, 4), (2, 6), (3, 6)]
    """
    design = check_design(groups, reps, alpha)
    assumed_iccs = check_iccs(icc)
    assumed_effects = check_effects(effect_sizes)
    arms = {"treatment": _scenario(treatment), "control": _scenario(control)}
    drawn_from = None if posterior is None else as_posterior(posterior)
    before_draws = dict(arms)
    if drawn_from is not None:
        centre = drawn_from.median()
        arms = {arm: drawn_from.apply(scenario, centre) for arm, scenario in arms.items()}
    sizes = check_clients(clients, target) or (arms["treatment"].group.clients,)
    seeds = replication_seeds(seed, 2 * max(design) * reps)
    arm_seeds = {"treatment": seeds[0::2], "control": seeds[1::2]}
    jobs = _plan_runs(arms, arm_seeds, reps, sizes)
    # A task per seed: its runs share their settled cohort (`seed_group_totals`).
    by_seed: dict[int, list[tuple[str, int, str, int]]] = {}
    for key in jobs:
        by_seed.setdefault(key[3], []).append(key)
    tasks = [(tuple(jobs[key] for key in keys), s) for s, keys in by_seed.items()]
    # The progress counts tasks, a seed's cohort each, and says how many runs they hold.
    outputs = map_tasks(
        seed_group_totals,
        tasks,
        workers,
        label and f"{label}, {len(jobs):,} runs",
        backend=backend,
        unit="cohorts",
    )
    done = {
        key: totals
        for keys, runs in zip(by_seed.values(), outputs, strict=True)
        for key, totals in zip(keys, runs, strict=True)
    }
    pools = {
        (arm, m): [done[(arm, m, scenario.group.screening, s)] for s in arm_seeds[arm]]
        for arm, scenario in arms.items()
        for m in sizes
    }
    studies, nulls = analyse_pools(pools, design, reps, sizes, workers, backend)
    clustering = clustering_table(pools, seed=seed)
    table = with_formula_power(power_table(studies, alpha, nulls), clustering, alpha)
    meeting = [arm for arm, scenario in arms.items() if scenario.holds_group]
    sensitivity = icc_sensitivity(table, clustering, assumed_iccs, meeting, alpha)
    needed = groups_needed_table(
        table, clustering, assumed_iccs, assumed_effects, meeting, alpha, target
    )
    assurance = None
    if drawn_from is not None:
        assurance = assurance_studies(
            before_draws,
            drawn_from,
            design,
            reps,
            sizes,
            arm_seeds,
            seed,
            workers=workers,
            label=label and f"{label} (posterior draws)",
            backend=backend,
        )
        table = assurance_table(table, assurance, alpha)
    own = arms["treatment"].group.clients
    seed_runs = {
        arm: {
            sc: [done[(arm, own, sc, s)] for s in arm_seeds["treatment"][:reps]]
            for sc in SCREENING_OPTIONS
        }
        for arm in arms
    }
    return PowerAnalysis(
        treatment=arms["treatment"],
        control=arms["control"],
        groups=design,
        reps=reps,
        alpha=alpha,
        seed=seed,
        table=table,
        studies=studies,
        nulls=nulls,
        seed_design=seed_design_bias(seed_runs["treatment"], seed_runs["control"], alpha),
        runs=len(jobs),
        clients=sizes,
        target=target,
        clustering=clustering,
        recommended=recommend(table, target, "power_primary" if assurance is None else "assurance"),
        posterior=None if drawn_from is None else drawn_from.source,
        assurance_studies=assurance,
        icc_sensitivity=sensitivity,
        groups_needed=needed,
    )


def _plan_runs(
    arms: dict[str, Scenario],
    arm_seeds: dict[str, list[int]],
    reps: int,
    sizes: tuple[int, ...],
) -> dict[tuple[str, int, str, int], Scenario]:
    """Every run as (arm, clients per group, screening, seed) -> scenario, each once.

    The pools first: each arm's scenario, per group size, on its own seeds. Then the seed
    design: both arms (their own group size) under both screening options on the first
    `reps` treatment seeds (common random numbers), reusing a pool run where they coincide.
    """
    jobs: dict[tuple[str, int, str, int], Scenario] = {}
    for arm, scenario in arms.items():
        for m in sizes:
            sized = with_clients(scenario, m)
            for s in arm_seeds[arm]:
                jobs[(arm, m, scenario.group.screening, s)] = sized
    own = arms["treatment"].group.clients
    screened = {
        (arm, sc): with_screening(with_clients(arms[arm], own), sc)
        for arm in arms
        for sc in SCREENING_OPTIONS
    }
    for s in arm_seeds["treatment"][:reps]:
        for (arm, sc), scenario in screened.items():
            jobs.setdefault((arm, own, sc, s), scenario)
    return jobs
