"""Compare designs: replications with common random numbers, effects with CIs (`compare`).

Replication r of every scenario runs with the same seed (`groupsim.runs.execute.replication_seeds`),
so it starts from the same cohort, the same campus network and the same screened clients; the
scenarios differ only in what their files change. Differences are paired by replication: each
is taken against the *first* scenario, the reference.

Example:
    >>> from groupsim import compare
    >>> c = compare(["scenarios/no_intervention.toml", "scenarios/home_room.toml"], reps=3,
    ...             workers=1, overrides={"cohort.students_per_faculty": 6}, label=None)
    >>> row = c.effects.query("outcome == 'post_social_interaction' and scenario == 'home_room'")
    >>> bool(row["difference"].iloc[0] > 0)
    True
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from groupsim.runs.execute import map_tasks, replication_seeds
from groupsim.runs.outcomes import client_columns, outcome_weeks, record_outcomes
from groupsim.runs.outputs import QUESTIONNAIRE, conform
from groupsim.runs.runner import RunResult, run
from groupsim.scenario import Scenario, load_scenario, with_overrides
from groupsim.study.matching import (
    CONTROL_CHOICES,
    control_positions,
    design_mismatches,
    mismatch_sentence,
    missing_controls,
    parameter_differences,
)
from groupsim.study.posterior_effects import (
    posterior_draws,
    posterior_overrides,
    predictive_interval,
    resolve_posterior,
    with_draw,
)
from groupsim.study.stats import (
    bootstrap_mean_difference,
    mean_ci,
    paired_hedges_g,
    paired_t_test,
)

if TYPE_CHECKING:
    from groupsim.model.settled import SettledCohort
    from groupsim.runs.backends import Backend
    from groupsim.scenario.posterior import Posterior

__all__ = [
    "EFFECT_OUTCOMES",
    "MODERATORS",
    "Comparison",
    "MismatchedControlWarning",
    "compare",
    "parameter_differences",
    "snapshot_weeks",
]

#: Outcomes compared between scenarios: name -> (what it is, unit).
EFFECT_OUTCOMES: dict[str, tuple[str, str]] = {}
for _short, _what, _unit in (
    ("social_interaction", "clients' social interaction", "latent score 0-1"),
    ("attitude", "clients' attitude to social interaction", "0-1"),
    ("resolve", "clients' resolve to interact", "0-1"),
    ("anxiety", "clients' social anxiety", "0-1"),
    ("group_density", "group density", "share of client pairs tied"),
    ("disclosed_share", "clients who have opened up", "share of clients"),
    ("friends_social_interaction", "clients' friends' social interaction (spill-over)", "0-1"),
):
    EFFECT_OUTCOMES[f"post_{_short}"] = (f"{_what}, post-program", _unit)
    EFFECT_OUTCOMES[f"followup_{_short}"] = (f"{_what}, follow-up", _unit)
EFFECT_OUTCOMES["questionnaire_post"] = ("questionnaire total, post-test", "35-140")
EFFECT_OUTCOMES["questionnaire_followup"] = ("questionnaire total, follow-up", "35-140")

#: Baseline traits by whose terciles "who benefits" splits the clients.
MODERATORS = {
    "baseline_anxiety": "baseline social anxiety",
    "baseline_sociability": "baseline sociability",
}
TERCILES = ("low", "middle", "high")

#: Bootstrap resamples for each difference's CI.
BOOTSTRAP_RESAMPLES = 10_000


#: Columns of each run's questionnaire table a comparison's clients table keeps, renamed.
QUESTIONNAIRE_COLUMNS = {
    "screening": "questionnaire_screening",
    "pre": "questionnaire_pre",
    "post": "questionnaire_post",
    "followup": "questionnaire_followup",
    "post_missing": "post_missing",
    "followup_missing": "followup_missing",
    "reliable_change": "reliable_change",
    "group": "group",
    "attended": "attended",
    "dropped_out": "dropped_out",
}


#: The types of the clients table's questionnaire columns (the questionnaire's contract).
_CLIENT_TYPES = {name: QUESTIONNAIRE[column][0] for column, name in QUESTIONNAIRE_COLUMNS.items()}


class MismatchedControlWarning(UserWarning):
    """A treatment is compared with a control of another group size, calendar or cohort."""


def _run_replication(
    task: tuple[Scenario, int],
    settled_cohorts: dict[tuple[Any, ...], SettledCohort] | None = None,
) -> dict[str, Any]:
    """One run, reduced to what a comparison keeps.

    Columns, not tables: `compare` builds each of its tables once from all runs (a
    DataFrame per run cost more than the run). `settled_cohorts`: as `run` takes it.
    """
    scenario, seed = task
    # Every week's metrics; the student rows of the weeks `client_columns` reads; no edge
    # lists or faculty rows (not read here).
    records = run(
        scenario,
        seed=seed,
        record_students=True,
        record_ties=False,
        record_faculties=False,
        settled_cohorts=settled_cohorts,
        student_weeks=outcome_weeks(scenario).values(),
    ).records
    answers = records.questionnaire_columns()
    clients = client_columns(records)
    clients.update({name: answers[column] for column, name in QUESTIONNAIRE_COLUMNS.items()})
    return {"weekly": records.weekly, "outcomes": record_outcomes(records), "clients": clients}


def _run_arms(task: tuple[tuple[Scenario, ...], int]) -> list[dict[str, Any]]:
    """One replication of every arm, reduced (module level: it goes to worker processes).

    The arms run with the same seed, so those that agree on the cohort and campus life
    settle it once (`groupsim.model.settled`): the same runs as one by one, a third faster.
    """
    scenarios, seed = task
    settled_cohorts: dict[tuple[Any, ...], SettledCohort] = {}
    return [_run_replication((scenario, seed), settled_cohorts) for scenario in scenarios]


def _stacked(
    runs: list[dict[str, Any]], part: str, ids: dict[str, list[Any]], rows: list[int]
) -> pd.DataFrame:
    """One table of every run's `part` columns, led by the run's `ids` repeated over its rows."""
    columns: dict[str, Any] = {
        name: [v for v, n in zip(values, rows, strict=True) for _ in range(n)]
        for name, values in ids.items()
    }
    for name in runs[0][part]:
        columns[name] = np.concatenate([np.asarray(r[part][name]) for r in runs])
    return pd.DataFrame(columns)


def _resolve(item: Scenario | str | Path, overrides: dict[str, Any] | None) -> tuple[Scenario, str]:
    if isinstance(item, Scenario):
        if not overrides:
            return item, "(Scenario object)"
        source = f"<{item.name}>"
        return with_overrides(item, overrides, source), source
    return load_scenario(item, overrides), str(item)


def _unique_labels(names: list[str]) -> list[str]:
    """Scenario names as labels; a repeated name gets its position appended (`home_room_2`)."""
    labels = []
    for position, name in enumerate(names, start=1):
        labels.append(name if names.count(name) == 1 else f"{name}_{position}")
    return labels


def snapshot_weeks(scenario: Scenario, last_week: int) -> dict[str, int]:
    """Weeks at which figures show a run: baseline, mid-program, end and follow-up.

    Baseline is the last week before the program, end the post-test week, follow-up the
    last week.

    The program calendar decides, not the questionnaire: with `group.screening = "pretest"`
    the pre-test is at week 0 (`outcomes.time_points`), but the group is still pictured
    just before its first session.
    """
    pre = scenario.program.baseline_weeks
    post = pre + scenario.program_weeks
    return {
        "baseline": pre,
        "mid-program": pre + math.ceil((post - pre) / 2),
        "end": post,
        "follow-up": last_week,
    }


@dataclass(eq=False)  # holds DataFrames: compare their contents, not the objects
class Comparison:
    """The replications of several scenarios and their paired comparison.

    Attributes:
        scenarios: the resolved scenarios, the first being the reference.
        labels: their labels in tables and figures (the scenario names, made unique).
        sources: where each came from (file path or "(Scenario object)").
        reps: replications per scenario.
        seed: the experiment's seed; replication r of every scenario runs with `seeds[r]`.
        seeds: the replication seeds.
        results: the weekly rows of every run (`groupsim.runs.outputs.WEEKLY`) with `scenario`,
            `replication` and `seed` columns.
        outcomes: a row per run: `scenario`, `replication`, `seed` and every
            `groupsim.runs.outcomes.OUTCOMES` column.
        clients: a row per client per run (`groupsim.runs.outcomes.client_outcomes`) with
            `scenario` and `replication`.
        overrides: the dotted-path overrides applied to every scenario.
        controls: each label's control, where it is not the reference (`--control auto`
            pairs every design with its matched no-intervention twin).
        posterior: the calibration posterior each replication drew its parameters from
            (None: every run at the scenarios' own values).
        draws: with a posterior, a row per replication: its particle and parameter values
            (`groupsim.study.posterior_effects.posterior_draws`); otherwise empty.
    """

    scenarios: list[Scenario]
    labels: list[str]
    sources: list[str]
    reps: int
    seed: int
    seeds: list[int]
    results: pd.DataFrame
    outcomes: pd.DataFrame
    clients: pd.DataFrame
    overrides: dict[str, Any] = field(default_factory=dict)
    controls: dict[str, str] = field(default_factory=dict)
    posterior: Posterior | None = None
    draws: pd.DataFrame = field(default_factory=pd.DataFrame)
    _effects: pd.DataFrame | None = field(default=None, repr=False)
    _benefits: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def reference(self) -> str:
        """Label of the reference scenario (the first)."""
        return self.labels[0]

    @property
    def effects(self) -> pd.DataFrame:
        """A tidy table: a row per outcome and scenario (see `docs/experiments.md`).

        Columns: `outcome`, `description`, `unit`, `scenario`, `reference`, `n`, `mean`,
        `mean_low`, `mean_high`, `sd`, `difference`, `difference_low`, `difference_high`
        (bootstrap), `hedges_g`, `g_low`, `g_high`, `p_value` (paired t-test),
        `predictive_low`, `predictive_high` (with a posterior: the 5th-95th percentile of the
        per-replication paired differences, `groupsim.study.posterior_effects`; else NaN).
        Effect columns are NaN on the reference's own rows.
        """
        if self._effects is None:
            self._effects = self._compute_effects()
        return self._effects

    @property
    def benefits(self) -> pd.DataFrame:
        """Who benefits: each treatment's effect by tercile of a baseline trait.

        The effect on clients' post-program social interaction, by tercile of a baseline
        trait (see `MODERATORS`), paired by replication and client.

        Columns: `scenario`, `moderator`, `tercile`, `trait_low`, `trait_high` (the tercile's
        range of the trait), `clients` (client-runs), `effect`, `effect_low`, `effect_high`
        (95% t-interval over replications of the replication's mean effect in the tercile).
        """
        if self._benefits is None:
            from groupsim.study.client_level import benefit_table

            self._benefits = benefit_table(self)
        return self._benefits

    def control_of(self, label: str) -> str:
        """The label of the arm `label`'s effects are taken against (its own for a control)."""
        return self.controls.get(label, self.reference)

    @property
    def treatments(self) -> list[str]:
        """The labels compared with a control (every label whose control is another arm)."""
        return [label for label in self.labels if self.control_of(label) != label]

    @property
    def mismatches(self) -> list[str]:
        """A sentence per treatment whose control differs in group size, calendar or cohort."""
        return [
            mismatch_sentence(label, self.control_of(label), found)
            for label in self.treatments
            if (
                found := design_mismatches(
                    self.scenario(label), self.scenario(self.control_of(label))
                )
            )
        ]

    @property
    def client_effects(self) -> pd.DataFrame:
        """Client-level effects on the questionnaire (`groupsim.study.client_level`)."""
        from groupsim.study.client_level import client_effects

        return client_effects(self)

    @property
    def arms(self) -> pd.DataFrame:
        """Per arm: clients, ICC, reliable change, attendance (`groupsim.study.client_level`)."""
        from groupsim.study.client_level import arm_summary

        return arm_summary(self)

    def scenario(self, label: str) -> Scenario:
        """The scenario with this label (as given, without a posterior draw)."""
        return self.scenarios[self.labels.index(label)]

    def scenario_for(self, label: str, replication: int) -> Scenario:
        """The scenario replication `replication` of `label` ran with (its posterior draw)."""
        return with_draw(self.scenario(label), self.posterior, self.draws, replication)

    def rerun(self, label: str, replication: int) -> RunResult:
        """Run replication `replication` of scenario `label` again, with every table recorded.

        The same seed gives the identical run, so this recovers a run's networks and student
        rows without the comparison keeping them all.
        """
        return run(self.scenario_for(label, replication), seed=self.seeds[replication])

    def representative_replication(self, label: str) -> int:
        """The replication closest to the scenario's median post-program social interaction.

        The earliest on ties.
        """
        runs = self.outcomes[self.outcomes["scenario"] == label]
        values = runs["post_social_interaction"].to_numpy()
        distance = np.abs(values - np.median(values))
        return int(runs["replication"].to_numpy()[int(np.argmin(distance))])

    def _paired(self, outcome: str, label: str) -> tuple[np.ndarray, np.ndarray]:
        table = self.outcomes.pivot(index="replication", columns="scenario", values=outcome)
        return table[label].to_numpy(), table[self.control_of(label)].to_numpy()

    def _bootstrap_rng(self, outcome: str, label: str) -> np.random.Generator:
        # One stream per (outcome, scenario) from the experiment's seed: reproducible, and the
        # same whichever other outcomes or scenarios are compared.
        key = [self.seed, 0xB0075, self.labels.index(label), list(EFFECT_OUTCOMES).index(outcome)]
        return np.random.default_rng(np.random.SeedSequence(key))

    def _compute_effects(self) -> pd.DataFrame:
        rows = []
        treatments = self.treatments
        for outcome, (description, unit) in EFFECT_OUTCOMES.items():
            for label in self.labels:
                treated, reference = self._paired(outcome, label)
                mean = mean_ci(treated)
                present = treated[~np.isnan(treated)]  # NaN: e.g. follow-up without follow-up
                row = {
                    "outcome": outcome,
                    "description": description,
                    "unit": unit,
                    "scenario": label,
                    "reference": self.control_of(label),
                    "n": len(present),
                    "mean": mean.value,
                    "mean_low": mean.low,
                    "mean_high": mean.high,
                    "sd": float(np.std(present, ddof=1)) if len(present) > 1 else math.nan,
                }
                effect = {key: math.nan for key in _EFFECT_COLUMNS}
                if label in treatments:
                    diff = bootstrap_mean_difference(
                        treated,
                        reference,
                        self._bootstrap_rng(outcome, label),
                        resamples=BOOTSTRAP_RESAMPLES,
                    )
                    g = paired_hedges_g(treated, reference)
                    effect = {
                        "difference": diff.value,
                        "difference_low": diff.low,
                        "difference_high": diff.high,
                        "hedges_g": g.g,
                        "g_low": g.low,
                        "g_high": g.high,
                        "p_value": paired_t_test(treated, reference),
                    }
                    if self.posterior is not None:
                        low, high = predictive_interval(treated - reference)
                        effect |= {"predictive_low": low, "predictive_high": high}
                rows.append(row | effect)
        return pd.DataFrame(rows)

    def weeks(self, label: str | None = None) -> dict[str, int]:
        """An arm's baseline, mid-program, end and follow-up weeks (default: the reference's).

        Baseline is the pre-test week, end the post-test week (see `snapshot_weeks`).
        """
        label = self.reference if label is None else label
        last = int(self.results.loc[self.results["scenario"] == label, "week"].max())
        return snapshot_weeks(self.scenario(label), last)

    def report(self, out_dir: str | Path, backend: Backend | None = None) -> Path:
        """Write tables, figures, `report.md` and a self-contained `report.html`.

        Into `out_dir`, atomically. Returns the path of `report.html`. With a `backend`
        its workers draw the figures (`groupsim.study.report.write_report`).
        """
        from groupsim.study.report import write_report

        return write_report(self, out_dir, backend)


_EFFECT_COLUMNS = (
    "difference",
    "difference_low",
    "difference_high",
    "hedges_g",
    "g_low",
    "g_high",
    "p_value",
    "predictive_low",
    "predictive_high",
)


def _check_arguments(
    count: int,
    reps: int,
    seed: int,
    workers: int | None,
    backend: Backend | None,
    control: str | None,
) -> None:
    """Raise ValueError for arguments `compare` does not accept (see its Raises)."""
    if count < 2:
        raise ValueError(f"scenarios: need at least 2 to compare (got {count})")
    if reps < 1:
        raise ValueError(f"reps: must be at least 1 (got {reps})")
    if seed < 0:
        raise ValueError(f"seed: must be at least 0 (got {seed})")
    if workers is not None and workers < 1:
        raise ValueError(f"workers: must be at least 1 (got {workers})")
    if workers is not None and backend is not None:
        raise ValueError("workers and backend: give one of them")
    if control is not None and control not in CONTROL_CHOICES:
        raise ValueError(f"control: must be one of {', '.join(CONTROL_CHOICES)} (got {control!r})")


def compare(
    scenarios: Sequence[Scenario | str | Path],
    reps: int,
    seed: int = 0,
    workers: int | None = None,
    *,
    overrides: dict[str, Any] | None = None,
    label: str | None = "compare",
    backend: Backend | None = None,
    control: str | None = None,
    posterior: Posterior | str | Path | None = None,
) -> Comparison:
    """Run `reps` replications of each scenario with common random numbers and compare them.

    Args:
        scenarios: two or more scenarios (objects or scenario file paths); the first is the
            reference every other is compared with.
        reps: replications per scenario (at least 1; a CI needs at least 2).
        seed: the experiment's seed; replication r of every scenario gets the same seed.
        workers: processes (default: all cores); results do not depend on it.
        overrides: dotted-path parameter overrides applied to every scenario.
        label: the progress bar's label (None: no progress output).
        backend: where the runs go instead of `workers` processes: a backend of
            `groupsim.runs.backends` (e.g. `DaskBackend(local_workers=2)`, or one from
            `make_backend`); results do not depend on it.
        control: None: every effect is against the first scenario (a control that differs
            from a design in group size, calendar or cohort gets a `MismatchedControlWarning`
            naming the differences); "auto": each design (a scenario holding a group) gets its
            no-intervention twin (`groupsim.study.matching.matched_control`; a given scenario
            that already is that twin serves), run with the same seeds, and its effects are
            against it.
        posterior: a calibration posterior (`groupsim.scenario.posterior.Posterior`, or the
            folder `groupsim calibrate` wrote): each replication draws one particle, seeded
            by its replication seed, and runs every arm with its values (all its dotted
            paths, in every arm); effects get a posterior predictive 90% interval
            (`groupsim.study.posterior_effects`).

    Returns:
        A :class:`Comparison`.

    Raises:
        ScenarioError: a file is missing or a value is not allowed (a scenario's, or a
            posterior's: a missing folder, a bad column, a value a scenario does not accept).
        ValueError: fewer than two scenarios, `reps` < 1, `seed` < 0, `workers` < 1,
            both `workers` and `backend`, a `control` other than None or "auto", or an
            override of a parameter the posterior varies.
        BackendError: the backend cannot start (e.g. an unreachable Dask scheduler).
    """
    _check_arguments(len(scenarios), reps, seed, workers, backend, control)
    resolved = [_resolve(item, overrides) for item in scenarios]
    if control == "auto":
        twins = missing_controls([scenario for scenario, _ in resolved])
        resolved += [(twin, f"(matched control of {name})") for name, twin in twins]
    loaded = [scenario for scenario, _ in resolved]
    labels = _unique_labels([s.name for s in loaded])
    controls = {}
    if control == "auto":
        controls = {labels[i]: labels[j] for i, j in enumerate(control_positions(loaded))}
    seeds = replication_seeds(seed, reps)
    posterior = resolve_posterior(posterior)
    if posterior is not None and (both := posterior_overrides(posterior, overrides or {})):
        raise ValueError(f"overrides: the posterior varies {', '.join(both)}; set it in one place")
    draws = pd.DataFrame() if posterior is None else posterior_draws(posterior, seeds)
    # A task per replication, all its arms (they share the settled cohort, `_run_arms`).
    tasks = [
        (tuple(with_draw(scenario, posterior, draws, replication) for scenario in loaded), run_seed)
        for replication, run_seed in enumerate(seeds)
    ]
    replications = map_tasks(
        _run_arms, tasks, workers=workers, label=label, backend=backend, unit="replications"
    )
    runs = [result for arms in replications for result in arms]

    positions = [divmod(index, len(loaded)) for index in range(len(runs))]
    ids: dict[str, list[Any]] = {
        "scenario": [labels[position] for _, position in positions],
        "replication": [replication for replication, _ in positions],
        "seed": [seeds[replication] for replication, _ in positions],
    }
    outcomes = [
        {name: values[index] for name, values in ids.items()} | result["outcomes"]
        for index, result in enumerate(runs)
    ]
    weeks = [len(result["weekly"]["week"]) for result in runs]
    results = _stacked(runs, "weekly", ids, weeks)
    results = pd.concat([results[list(ids)], conform("weekly", results)], axis=1)
    client_ids = {"scenario": ids["scenario"], "replication": ids["replication"]}
    client_rows = [len(result["clients"]["student_id"]) for result in runs]
    client_table = _stacked(runs, "clients", client_ids, client_rows).astype(_CLIENT_TYPES)
    comparison = Comparison(
        scenarios=loaded,
        labels=labels,
        sources=[source for _, source in resolved],
        reps=reps,
        seed=seed,
        seeds=seeds,
        results=results,
        outcomes=pd.DataFrame(outcomes),
        clients=client_table,
        overrides=dict(overrides or {}),
        controls=controls,
        posterior=posterior,
        draws=draws,
    )
    for sentence in comparison.mismatches:
        warnings.warn(sentence, MismatchedControlWarning, stacklevel=2)
    return comparison
