"""Power analysis by simulated field studies (`groupsim power`, `groupsim.study.power`).

A simulated field study puts k groups in the treatment arm and k groups in the control arm.
Every group is a separate run (its own cohort, its own seed); the clients' questionnaire
totals at pre-test and post-test, which already carry the questionnaire's item-level noise,
are pooled per arm and analysed as a field researcher would: an ANCOVA of post on pre with
treatment as factor (`post ~ 1 + pre + treatment`, t-test on the treatment coefficient), and,
beside it, Welch's t-test on gain scores. Power is the share of studies with p < alpha.

Runs are expensive, so each arm's pool of runs is simulated once and the studies of every
design are cut from disjoint blocks of it: study i of the design with k groups per arm uses
runs `[i*k, (i+1)*k)` of each pool. Runs are independent and identically distributed, so
every study is a valid draw; studies of different designs share runs, which makes the power
curve smoother, not biased.

The seed's own design (one group, pre/post, no control, paired t-test) is analysed too: its
power and how far its gain overstates the true effect, split into campus life and regression
to the mean (see :func:`seed_design_bias`).

The analyses of each study are in :mod:`groupsim.study.analyses`.

Example:
    >>> from groupsim import load_scenario
    >>> small = {"cohort.students_per_faculty": 5, "cohort.burn_in_weeks": 8}
    >>> arms = load_scenario("home_room", small), load_scenario("no_intervention", small)
    >>> analysis = power(*arms, groups=(2,), reps=4, workers=1)
    >>> list(analysis.table["groups_per_arm"])
    [2]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from groupsim.runs.execute import map_tasks, replication_seeds
from groupsim.runs.runner import build_model
from groupsim.scenario import Scenario, apply_overrides, load_scenario, scenario_from_dict
from groupsim.study.analyses import ancova_treatment_test, paired_gain_test, welch_gain_test
from groupsim.study.stats import wilson_interval

if TYPE_CHECKING:
    from groupsim.runs.backends import Backend

__all__ = [
    "GAIN_TEST",
    "GROUP_MEANS_TEST",
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
    "simulate_pool",
]

#: The names of the tests, as the report gives them.
PRIMARY_TEST = "ANCOVA of post-test on pre-test with treatment as factor (OLS t-test)"
GAIN_TEST = "Welch's t-test on gain scores (post - pre)"
SEED_TEST = "paired t-test of post-test vs pre-test (one group, no control)"

GROUP_MEANS_TEST = "the same ANCOVA on group means (groups as the unit; needs k >= 2)"

#: Short names of the field-study tests (columns `p_<name>`, `power_<name>`, `null_<name>`).
TESTS = ("ancova", "welch_gain", "ancova_group_means")

SCREENING_OPTIONS = ("separate", "pretest")


# ---------------------------------------------------------------------------- the runs


def group_totals(task: tuple[Scenario, int]) -> dict[str, np.ndarray]:
    """Run one group (scenario, seed) and keep what a power analysis needs of its clients.

    Returns the questionnaire totals `screening`, `pre` and `post`, and the noise-free
    expected totals of the clients' latent scores at screening and at the pre-test
    (`expected_screening`, `expected_pre`): they split the bias of screening on the pre-test
    into selection on measurement noise and real change during the baseline weeks. Runs
    the model exactly as `groupsim.run` does (same seed, same results); the model itself
    keeps the expected totals (`HomeRoomModel.expected_totals`). Module-level so process
    pools can pickle it.
    """
    scenario, seed = task
    # Only questionnaire totals are kept: no weekly metrics (recording draws no random
    # numbers, so the run is the same as `groupsim.run`'s).
    model = build_model(scenario, seed, record_students=False, record_ties=False, record_weeks=())
    model.run_model()
    q = model.questionnaire
    return {
        "screening": np.asarray(q["screening"], dtype=float),
        "pre": np.asarray(q["pre"], dtype=float),
        "post": np.asarray(q["post"], dtype=float),
        "expected_screening": model.expected_totals["screening"],
        "expected_pre": model.expected_totals["pre"],
    }


def with_screening(scenario: Scenario, screening: str) -> Scenario:
    """The scenario with `group.screening` set (validated like any override)."""
    source = f"{scenario.name} (group.screening={screening})"
    data = apply_overrides(scenario.to_dict(), {"group.screening": screening}, source)
    return scenario_from_dict(data, source)


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


# ---------------------------------------------------------------------------- the studies


def _analyse(treatment_runs: Sequence[dict], control_runs: Sequence[dict]) -> dict[str, float]:
    pre_t = np.concatenate([r["pre"] for r in treatment_runs])
    post_t = np.concatenate([r["post"] for r in treatment_runs])
    pre_c = np.concatenate([r["pre"] for r in control_runs])
    post_c = np.concatenate([r["post"] for r in control_runs])
    pre = np.concatenate([pre_t, pre_c])
    post = np.concatenate([post_t, post_c])
    treated = np.concatenate([np.ones(len(pre_t), bool), np.zeros(len(pre_c), bool)])
    # Available cases: a client without a post-test (not answered, often after dropping out)
    # is left out of the analysis, as a field study's complete-case analysis would.
    answered = ~np.isnan(post)
    pre, post, treated = pre[answered], post[answered], treated[answered]
    ancova = ancova_treatment_test(pre, post, treated)
    # The same ANCOVA on group means: clients of one group share its climate and cohort, so
    # they are not independent; with groups as the unit the test keeps its level (k >= 2).
    runs = [*treatment_runs, *control_runs]
    if len(runs) >= 4:
        kept = [~np.isnan(r["post"]) for r in runs]
        by_group = ancova_treatment_test(
            [r["pre"][k].mean() for r, k in zip(runs, kept, strict=True)],
            [r["post"][k].mean() for r, k in zip(runs, kept, strict=True)],
            [True] * len(treatment_runs) + [False] * len(control_runs),
        ).p
    else:
        by_group = float("nan")
    return {
        "clients_per_arm": len(pre_t),
        "effect": ancova.effect,
        "p_ancova": ancova.p,
        "p_welch_gain": welch_gain_test(pre, post, treated),
        "p_ancova_group_means": by_group,
    }


def _answered(run: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """A run's pre- and post-test totals of the clients who answered the post-test."""
    kept = ~np.isnan(run["post"])
    return run["pre"][kept], run["post"][kept]


def _mean_gain(pre: np.ndarray, post: np.ndarray) -> float:
    """Mean post - pre (NaN when no client answered)."""
    return float((post - pre).mean()) if len(pre) else float("nan")


def field_studies(
    treatment_pool: Sequence[dict],
    control_pool: Sequence[dict],
    groups: Sequence[int],
    reps: int,
) -> pd.DataFrame:
    """A row per simulated study: study i of design k uses runs [i*k, (i+1)*k) of each pool."""
    rows = []
    for k in groups:
        if k * reps > min(len(treatment_pool), len(control_pool)):
            raise ValueError(f"pools too small for {reps} studies of {k} groups per arm")
        for i in range(reps):
            block = slice(i * k, (i + 1) * k)
            rows.append(
                {"groups": k, "study": i, **_analyse(treatment_pool[block], control_pool[block])}
            )
    return pd.DataFrame(rows)


def null_studies(control_pool: Sequence[dict], groups: Sequence[int], reps: int) -> pd.DataFrame:
    """Control-vs-control studies from one pool (no extra runs): the test's real type I error.

    Study i of design k compares runs [2ik, 2ik+k) with [2ik+k, 2ik+2k); as many studies as
    the pool holds, at most `reps`.
    """
    rows = []
    for k in groups:
        for i in range(min(reps, len(control_pool) // (2 * k))):
            first = control_pool[2 * i * k : 2 * i * k + k]
            second = control_pool[2 * i * k + k : 2 * (i + 1) * k]
            rows.append({"groups": k, "study": i, **_analyse(first, second)})
    return pd.DataFrame(rows)


def _rejection(p_values: pd.Series, alpha: float, name: str) -> dict[str, float]:
    """Share of p < alpha with its Wilson CI; NaN where the test does not apply (NaN p)."""
    valid = p_values.dropna()
    if valid.empty:
        return {name: float("nan"), f"{name}_low": float("nan"), f"{name}_high": float("nan")}
    hits = int((valid < alpha).sum())
    low, high = wilson_interval(hits, len(valid))
    return {name: hits / len(valid), f"{name}_low": low, f"{name}_high": high}


def power_table(studies: pd.DataFrame, alpha: float, nulls: pd.DataFrame | None = None):
    """Power (share of studies with p < alpha) with Wilson 95% CIs, a row per design.

    Columns: `groups_per_arm`, `clients_per_arm`, `studies`, `mean_effect` (ANCOVA's adjusted
    difference, points), and for each test in `TESTS`: `power_<test>` with `_low`/`_high`
    CI bounds; with `nulls` also `null_studies` and `null_<test>` (+ `_low`/`_high`) from
    control-vs-control studies, and `null_treatment_...` from treatment-vs-treatment studies
    (rows of `nulls` with `arm` == "treatment").
    """
    rows = []
    for k, design in studies.groupby("groups", sort=True):
        n = len(design)
        row: dict[str, Any] = {
            "groups_per_arm": int(k),
            "clients_per_arm": int(design["clients_per_arm"].iloc[0]),
            "studies": n,
            "mean_effect": float(design["effect"].mean()),
        }
        for test in TESTS:
            row.update(_rejection(design[f"p_{test}"], alpha, f"power_{test}"))
        if nulls is not None:
            arms = nulls["arm"] if "arm" in nulls else pd.Series("control", index=nulls.index)
            for arm, prefix in (("control", "null"), ("treatment", "null_treatment")):
                null = nulls[(nulls["groups"] == k) & (arms == arm)]
                if null.empty:
                    continue
                row[f"{prefix}_studies"] = len(null)
                for test in TESTS:
                    row.update(_rejection(null[f"p_{test}"], alpha, f"{prefix}_{test}"))
        rows.append(row)
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------- the seed's design


def seed_design_bias(
    treatment_runs: Mapping[str, Sequence[dict]],
    control_runs: Mapping[str, Sequence[dict]],
    alpha: float,
) -> pd.DataFrame:
    """The one-group pre/post design's power and bias, a row per screening option.

    `treatment_runs[s][j]` and `control_runs[s][j]` are runs with the same seed (the same
    cohort and clients, common random numbers) under `group.screening = s`. Gains are mean
    post - pre totals (questionnaire points), averaged over runs:

    - one-group gain = the treatment group's gain, what the seed's design reports;
    - true effect = treatment gain - control gain (the program's own contribution);
    - campus life = the control gain under separate screening;
    - regression to the mean = control gain under pretest screening - under separate; of it,
      `rtm_selection_on_noise` (expected minus observed screening totals of the chosen
      clients) and `rtm_baseline_change` (real change of their expected totals over the
      baseline weeks, which the pre-test then no longer waits for); the rest is item noise.

    Runs need `expected_screening` and `expected_pre` (see `group_totals`) for the split.

    So one-group gain = true effect + campus life (+ regression to the mean under `pretest`).
    """

    def gains(runs: Sequence[dict]) -> np.ndarray:
        # Paired over the clients who answered the post-test (available cases).
        return np.array([_mean_gain(*_answered(r)) for r in runs])

    def rejections(runs: Sequence[dict]) -> int:
        return sum(paired_gain_test(*_answered(r)) < alpha for r in runs)

    campus_life = float(gains(control_runs["separate"]).mean())
    # Screening on the pre-test moves the pre-test from the end of the baseline weeks to
    # screening: its extra gain is selection on item noise (the screened clients' observed
    # totals lie below their expected totals) plus the real change over the baseline weeks.
    pretest_controls = control_runs["pretest"]
    selection_on_noise = float(
        np.mean([np.mean(r["expected_screening"] - r["screening"]) for r in pretest_controls])
    )
    baseline_change = float(
        np.mean([np.mean(r["expected_pre"] - r["expected_screening"]) for r in pretest_controls])
    )
    rows = []
    for screening in SCREENING_OPTIONS:
        treated = gains(treatment_runs[screening])
        control = gains(control_runs[screening])
        n = len(treated)
        hits = rejections(treatment_runs[screening])
        false_hits = rejections(control_runs[screening])
        low, high = wilson_interval(hits, n)
        false_low, false_high = wilson_interval(false_hits, n)
        true_effect = float((treated - control).mean())
        one_group = float(treated.mean())
        rows.append(
            {
                "screening": screening,
                "runs": n,
                "one_group_gain": one_group,
                "true_effect": true_effect,
                "true_effect_se": float((treated - control).std(ddof=1) / np.sqrt(n))
                if n > 1
                else float("nan"),
                "campus_life": campus_life,
                "regression_to_mean": float(control.mean()) - campus_life,
                "rtm_selection_on_noise": selection_on_noise if screening == "pretest" else 0.0,
                "rtm_baseline_change": baseline_change if screening == "pretest" else 0.0,
                "overstatement": one_group - true_effect,
                "overstatement_share": (one_group - true_effect) / true_effect
                if true_effect
                else float("nan"),
                "power_paired": hits / n,
                "power_ci_low": low,
                "power_ci_high": high,
                "no_program_rejection": false_hits / n,
                "no_program_ci_low": false_low,
                "no_program_ci_high": false_high,
            }
        )
    return pd.DataFrame(rows)


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
        table: a row per design (see `power_table`).
        studies: a row per simulated study with its effect and p-values.
        nulls: control-vs-control and treatment-vs-treatment studies (column `arm`): the
            tests' type I error at each design.
        seed_design: a row per screening option (see `seed_design_bias`).
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

    def report(self, out_dir: str | Path) -> Path:
        """Write power.csv, studies.csv, seed_design.csv, figures, report.md and report.html."""
        from groupsim.study.power_report import write_report

        return write_report(self, out_dir)


def _scenario(value: Scenario | str | Path) -> Scenario:
    return value if isinstance(value, Scenario) else load_scenario(value)


def check_design(groups: Sequence[int], reps: int, alpha: float) -> tuple[int, ...]:
    """Validate designs, study count and alpha; raise ValueError naming the bad one."""
    design = tuple(groups)
    if not design or any(isinstance(k, bool) or not isinstance(k, int) or k < 1 for k in design):
        raise ValueError(f"groups: whole numbers >= 1 (got {list(design)})")
    if isinstance(reps, bool) or not isinstance(reps, int) or reps < 1:
        raise ValueError(f"reps: a whole number >= 1 (got {reps})")
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha: strictly between 0 and 1 (got {alpha})")
    return tuple(sorted(set(design)))


def power(
    treatment: Scenario | str | Path,
    control: Scenario | str | Path,
    groups: Sequence[int] = (1, 2, 4, 8),
    reps: int = 100,
    alpha: float = 0.05,
    seed: int = 0,
    workers: int | None = None,
    label: str | None = None,
    *,
    backend: Backend | None = None,
) -> PowerAnalysis:
    """Power of field studies with k groups per arm, and the seed design's bias.

    Simulates `max(groups) * reps` runs per arm once (treatment runs take the even
    replication seeds of `seed`, control runs the odd ones, so results do not depend on
    `workers` or the backend), plus the seed design's runs under both screening options on
    the first `reps` even seeds (treatment and control alike: common random numbers).

    Args:
        treatment: scenario (or path) of the treatment arm.
        control: scenario (or path) of the control arm.
        groups: designs to evaluate, as groups per arm.
        reps: simulated studies per design (and one-group studies of the seed design).
        alpha: significance level of the tests.
        seed: the analysis' seed.
        workers: processes (default: all cores).
        label: progress label on stderr (None: quiet).
        backend: where the runs go instead of `workers` processes: a backend of
            `groupsim.runs.backends` (e.g. `DaskBackend(local_workers=2)`).

    Raises:
        ValueError: a bad design, `reps` or `alpha`, or both `workers` and `backend`.
        BackendError: the backend cannot start (e.g. an unreachable Dask scheduler).

    Example:
        >>> tiny = {"cohort.students_per_faculty": 3, "cohort.burn_in_weeks": 2,
        ...         "program.followup_weeks": 0}
        >>> a = power(load_scenario("scenarios/home_room.toml", tiny),
        ...           load_scenario("scenarios/no_intervention.toml", tiny),
        ...           groups=(1, 2), reps=3, workers=1)
        >>> list(a.table["groups_per_arm"])
        [1, 2]
    """
    design = check_design(groups, reps, alpha)
    arms = {"treatment": _scenario(treatment), "control": _scenario(control)}
    seeds = replication_seeds(seed, 2 * max(design) * reps)
    arm_seeds = {"treatment": seeds[0::2], "control": seeds[1::2]}
    jobs = _plan_runs(arms, arm_seeds, reps)
    keys = list(jobs)
    outputs = map_tasks(
        group_totals, [(jobs[k], k[2]) for k in keys], workers, label, backend=backend
    )
    done = dict(zip(keys, outputs, strict=True))

    pools = {
        arm: [done[(arm, scenario.group.screening, s)] for s in arm_seeds[arm]]
        for arm, scenario in arms.items()
    }
    studies = field_studies(pools["treatment"], pools["control"], design, reps)
    nulls = _null_studies_of_both_arms(pools, design, reps)
    seed_runs = {
        arm: {
            sc: [done[(arm, sc, s)] for s in arm_seeds["treatment"][:reps]]
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
        table=power_table(studies, alpha, nulls),
        studies=studies,
        nulls=nulls,
        seed_design=seed_design_bias(seed_runs["treatment"], seed_runs["control"], alpha),
        runs=len(keys),
    )


def _plan_runs(
    arms: dict[str, Scenario], arm_seeds: dict[str, list[int]], reps: int
) -> dict[tuple[str, str, int], Scenario]:
    """Every run as (arm, screening, seed) -> scenario, each once, in a fixed order.

    The pools first: each arm's scenario on its own seeds. Then the seed design: both arms
    under both screening options on the first `reps` treatment seeds (common random
    numbers), reusing a pool run where the two coincide.
    """
    jobs: dict[tuple[str, str, int], Scenario] = {}
    for arm, scenario in arms.items():
        for s in arm_seeds[arm]:
            jobs[(arm, scenario.group.screening, s)] = scenario
    screened = {
        (arm, sc): with_screening(arms[arm], sc) for arm in arms for sc in SCREENING_OPTIONS
    }
    for s in arm_seeds["treatment"][:reps]:
        for (arm, sc), scenario in screened.items():
            jobs.setdefault((arm, sc, s), scenario)
    return jobs


def _null_studies_of_both_arms(
    pools: dict[str, list[dict]], design: tuple[int, ...], reps: int
) -> pd.DataFrame:
    """Control-vs-control and treatment-vs-treatment studies (column `arm`).

    Both arms alone: no difference to find, so every rejection is a false positive. The
    treatment arm's groups share a climate, which shows the client-level tests' clustering.
    """
    return pd.concat(
        [
            null_studies(pools["control"], design, reps).assign(arm="control"),
            null_studies(pools["treatment"], design, reps).assign(arm="treatment"),
        ],
        ignore_index=True,
    )
