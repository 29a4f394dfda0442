"""One simulated study: run a scenario with a seed and collect its tables (`groupsim.run`).

Example:
    >>> from groupsim import load_scenario, run
    >>> result = run(load_scenario("scenarios/home_room.toml"), seed=3)
    >>> list(result.questionnaire.columns)[:6]
    ['student_id', 'faculty', 'screening', 'pre', 'post', 'followup']
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import networkx as nx
import pandas as pd

from groupsim.model.agents import STATES, student_label, student_tag
from groupsim.model.interrupts import interrupts_wait
from groupsim.model.model import HomeRoomModel
from groupsim.model.settled import SettledCohort
from groupsim.runs.execute import collector_waits
from groupsim.runs.records import RunRecords
from groupsim.runs.resources import check_memory
from groupsim.scenario import Scenario

__all__ = ["RunResult", "build_model", "run"]


@dataclass(eq=False)
class RunResult:
    """Everything one run produced: its records, and tables built from them on first use.

    Attributes:
        records: what the run recorded (:class:`~groupsim.runs.records.RunRecords`); the
            tables below and the outcomes (`groupsim.runs.outcomes.run_outcomes`) come
            from them.
        seed: the seed it was run with.
        scenario: (property) the scenario that was run.
        weekly: (property) a row a week (week 0 = screening), see `groupsim.runs.outputs.WEEKLY`.
        sessions: (property) a row a group session.
        students: (property) a row per student per week (all states).
        questionnaire: (property) a row per client: screening, pre, post and follow-up totals.
        ties: (property) the network as an edge list per week (week, source, target, strength).
        faculties: (property) a row per faculty per week: density, clustering, scores.
        network: (property) the final networkx graph, node attributes = student states.
    """

    records: RunRecords
    seed: int | None
    build_network: Callable[[], nx.Graph] = field(repr=False)

    @property
    def scenario(self) -> Scenario:
        """The scenario that was run."""
        return self.records.scenario

    @cached_property
    def weekly(self) -> pd.DataFrame:
        """A row a recorded week (week 0 = screening)."""
        return self.records.weekly_table()

    @cached_property
    def sessions(self) -> pd.DataFrame:
        """A row a group session."""
        return self.records.sessions_table()

    @cached_property
    def students(self) -> pd.DataFrame:
        """A row per student per recorded week (empty without `record_students`)."""
        return self.records.students_table()

    @cached_property
    def questionnaire(self) -> pd.DataFrame:
        """A row per client: screening, pre, post and follow-up totals."""
        return self.records.questionnaire_table()

    @cached_property
    def ties(self) -> pd.DataFrame:
        """The edge list of every recorded week (empty without `record_ties`)."""
        return self.records.ties_table()

    @cached_property
    def faculties(self) -> pd.DataFrame:
        """A row per faculty per recorded week."""
        return self.records.faculties_table()

    @cached_property
    def network(self) -> nx.Graph:
        """The final network, node attributes = student states (built on first use)."""
        return self.build_network()


@interrupts_wait
@collector_waits
def run(
    scenario: Scenario,
    seed: int | None = 0,
    *,
    record_students: bool = True,
    record_ties: bool = True,
    record_weeks: Iterable[int] | None = None,
    record_faculties: bool = True,
    settled_cohorts: dict[tuple[Any, ...], SettledCohort] | None = None,
    student_weeks: Iterable[int] | None = None,
) -> RunResult:
    """Run one scenario to its last week.

    Args:
        scenario: a validated scenario (see `load_scenario`).
        seed: the run's seed; the same scenario and seed give identical results.
        record_students: keep the per-student weekly table (large cohorts: turn off).
        record_ties: keep the weekly edge lists.
        record_weeks: record only these weeks (None: every week). For outcomes alone,
            ``groupsim.runs.outcomes.outcome_weeks(scenario).values()``: the weeks `run_outcomes`
            reads; the run is the same, its tables have only those weeks.
        record_faculties: keep the per-faculty weekly table (off: `faculties` is empty).
        settled_cohorts: a dict kept across the arms of one seed: arms that agree on the
            cohort and campus life settle it once (`groupsim.model.settled`); the results
            are identical to settling it in every arm. None: nothing shared.
        student_weeks: keep the student rows of these weeks only (None: of every recorded
            week); `compare` keeps the outcome weeks', which are all it reads.
    """
    model = build_model(
        scenario,
        seed,
        record_students=record_students,
        record_ties=record_ties,
        record_weeks=record_weeks,
        record_faculties=record_faculties,
        settled_cohorts=settled_cohorts,
        student_weeks=student_weeks,
    )
    model.run_model()
    return collect(model, seed)


def build_model(
    scenario: Scenario,
    seed: int | None,
    *,
    record_students: bool = True,
    record_ties: bool = True,
    record_weeks: Iterable[int] | None = None,
    record_faculties: bool = True,
    settled_cohorts: dict[tuple[Any, ...], SettledCohort] | None = None,
    student_weeks: Iterable[int] | None = None,
) -> HomeRoomModel:
    """A :class:`HomeRoomModel` for one run, after checking that its records fit in memory.

    Every run of `run`, `compare`, `power` and `sweep` is built here, so a scenario too large
    for this machine is refused (a `ScenarioError`) before it starts.
    """
    weeks = None if record_weeks is None else frozenset(map(int, record_weeks))
    students = None if student_weeks is None else frozenset(map(int, student_weeks))
    check_memory(
        scenario,
        record_students,
        record_ties,
        source=f"scenario {scenario.name!r}",
        recorded_weeks=None if weeks is None else len(weeks),
        student_weeks=None if students is None else len(students),
    )
    return HomeRoomModel(
        rng=seed,
        config=scenario,
        record_students=record_students,
        record_ties=record_ties,
        record_weeks=weeks,
        record_faculties=record_faculties,
        settled_cohorts=settled_cohorts,
        student_weeks=students,
    )


def collect(model: HomeRoomModel, seed: int | None) -> RunResult:
    """Turn a finished (or stopped) model into a :class:`RunResult` (tables built on use)."""
    return RunResult(
        records=RunRecords.of(model), seed=seed, build_network=final_network_builder(model)
    )


def final_network_builder(model: HomeRoomModel) -> Callable[[], nx.Graph]:
    """A function that builds the final network, every student's states as node attributes.

    It keeps copies of the final arrays, not the model.
    """
    ties = model.ties.copy()
    s = model.states
    columns = {name: getattr(s, name).copy() for name in STATES}
    faculty = s.faculty.copy()
    client = s.client.copy()
    group = model.group_of.copy()
    score = model.social_interaction.copy()
    names = list(model.faculty_names)
    # The students' names (a data cohort's ids), not their labels or agents: the labels are
    # made only if the network is built, and most runs' never is (nor their agents).
    tags = list(model.student_names)

    def build() -> nx.Graph:
        graph = ties.to_networkx()
        for i in range(ties.n):
            attrs: dict[str, Any] = {name: float(values[i]) for name, values in columns.items()}
            attrs.update(
                faculty=int(faculty[i]),
                faculty_name=names[faculty[i]],
                client=bool(client[i]),
                group=int(group[i]),
                label=student_label(student_tag(tags[i], i), names[faculty[i]]),
                social_interaction=float(score[i]),
            )
            graph.nodes[i].update(attrs)
        return graph

    return build
