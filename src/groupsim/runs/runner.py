"""One simulated study: run a scenario with a seed and collect its tables (`groupsim.run`).

Example:
    >>> from groupsim import load_scenario, run
    >>> result = run(load_scenario("scenarios/home_room.toml"), seed=3)
    >>> list(result.questionnaire.columns)
    ['student_id', 'faculty', 'screening', 'pre', 'post', 'followup']
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property

import networkx as nx
import numpy as np
import pandas as pd

from groupsim.model.agents import STATES
from groupsim.model.model import HomeRoomModel
from groupsim.runs.outputs import SESSION_COLUMNS, conform
from groupsim.runs.resources import check_memory
from groupsim.scenario import Scenario

__all__ = ["RunResult", "build_model", "run"]


@dataclass
class RunResult:
    """Everything one run produced.

    Attributes:
        weekly: a row a week (week 0 = screening), see `groupsim.runs.outputs.WEEKLY`.
        sessions: a row a group session.
        students: a row per student per week (all states).
        questionnaire: a row per client: screening, pre, post and follow-up scale totals.
        ties: the network as an edge list per week (week, source, target, strength).
        faculties: a row per faculty per week: density, clustering, scores (spill-over).
        scenario: the scenario that was run.
        seed: the seed it was run with.
        network: (property) the final networkx graph, node attributes = student states.
    """

    weekly: pd.DataFrame
    sessions: pd.DataFrame
    students: pd.DataFrame
    questionnaire: pd.DataFrame
    ties: pd.DataFrame
    faculties: pd.DataFrame
    scenario: Scenario
    seed: int | None
    build_network: Callable[[], nx.Graph] = field(repr=False, compare=False)

    @cached_property
    def network(self) -> nx.Graph:
        """The final network, node attributes = student states (built on first use)."""
        return self.build_network()


def run(
    scenario: Scenario,
    seed: int | None = 0,
    *,
    record_students: bool = True,
    record_ties: bool = True,
    record_weeks: Iterable[int] | None = None,
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
    """
    model = build_model(
        scenario,
        seed,
        record_students=record_students,
        record_ties=record_ties,
        record_weeks=record_weeks,
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
) -> HomeRoomModel:
    """A :class:`HomeRoomModel` for one run, after checking that its records fit in memory.

    Every run of `run`, `compare`, `power` and `sweep` is built here, so a scenario too large
    for this machine is refused (a `ScenarioError`) before it starts.
    """
    weeks = None if record_weeks is None else frozenset(map(int, record_weeks))
    check_memory(
        scenario,
        record_students,
        record_ties,
        source=f"scenario {scenario.name!r}",
        recorded_weeks=None if weeks is None else len(weeks),
    )
    return HomeRoomModel(
        rng=seed,
        config=scenario,
        record_students=record_students,
        record_ties=record_ties,
        record_weeks=weeks,
    )


def collect(model: HomeRoomModel, seed: int | None) -> RunResult:
    """Turn a finished (or stopped) model into a :class:`RunResult`."""
    weekly = conform("weekly", model.datacollector.get_model_vars_dataframe())
    sessions = conform("sessions", pd.DataFrame(model.session_rows, columns=SESSION_COLUMNS))
    students = conform("students", _stack(model.student_frames))
    ties = conform("ties", _stack(model.tie_frames))
    faculties = conform("faculties", _stack(model.faculty_rows))
    q = model.questionnaire
    nan = np.full(len(model.clients), np.nan)
    questionnaire = conform(
        "questionnaire",
        pd.DataFrame(
            {
                "student_id": model.clients.astype(np.int64),
                "faculty": model.states.faculty[model.clients].astype(np.int64),
                "screening": q.get("screening", nan),
                "pre": q.get("pre", nan),
                "post": q.get("post", nan),
                "followup": q.get("followup", nan),
            }
        ),
    )
    return RunResult(
        weekly=weekly,
        sessions=sessions,
        students=students,
        questionnaire=questionnaire,
        ties=ties,
        faculties=faculties,
        build_network=final_network_builder(model),
        scenario=model.config,
        seed=seed,
    )


def _stack(frames: list[dict[str, np.ndarray]]) -> pd.DataFrame:
    """One DataFrame from a list of column dicts (weekly snapshots)."""
    if not frames:
        return pd.DataFrame()
    return pd.DataFrame({k: np.concatenate([f[k] for f in frames]) for k in frames[0]})


def final_network_builder(model: HomeRoomModel) -> Callable[[], nx.Graph]:
    """A function that builds the final network with every student's states as node
    attributes; it keeps copies of the final arrays, not the model.
    """
    ties = model.ties.copy()
    s = model.states
    columns = {name: getattr(s, name).copy() for name in STATES}
    faculty = s.faculty.copy()
    client = s.client.copy()
    group = model.group_of.copy()
    score = model.social_interaction.copy()
    names = list(model.faculty_names)

    def build() -> nx.Graph:
        graph = ties.to_networkx()
        for i in range(ties.n):
            attrs = {name: float(values[i]) for name, values in columns.items()}
            attrs.update(
                faculty=int(faculty[i]),
                faculty_name=names[faculty[i]],
                client=bool(client[i]),
                group=int(group[i]),
                label=f"S{i} - {names[faculty[i]]}",
                social_interaction=float(score[i]),
            )
            graph.nodes[i].update(attrs)
        return graph

    return build
