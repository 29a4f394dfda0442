"""One simulated study: run a scenario with a seed and collect its tables (`groupsim.run`).

Example:
    >>> from groupsim import load_scenario, run
    >>> result = run(load_scenario("scenarios/home_room.toml"), seed=3)
    >>> list(result.questionnaire.columns)
    ['student_id', 'faculty', 'screening', 'pre', 'post', 'followup']
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np
import pandas as pd

from groupsim.model import HomeRoomModel
from groupsim.outputs import SESSION_COLUMNS, conform
from groupsim.scenario import Scenario

__all__ = ["RunResult", "run"]


@dataclass
class RunResult:
    """Everything one run produced.

    Attributes:
        weekly: a row a week (week 0 = screening), see `groupsim.outputs.WEEKLY`.
        sessions: a row a group session.
        students: a row per student per week (all states).
        questionnaire: a row per client: screening, pre, post and follow-up scale totals.
        ties: the network as an edge list per week (week, source, target, strength).
        network: the final networkx graph, node attributes = student states.
        scenario: the scenario that was run.
        seed: the seed it was run with.
    """

    weekly: pd.DataFrame
    sessions: pd.DataFrame
    students: pd.DataFrame
    questionnaire: pd.DataFrame
    ties: pd.DataFrame
    network: nx.Graph
    scenario: Scenario
    seed: int | None


def run(
    scenario: Scenario,
    seed: int | None = 0,
    *,
    record_students: bool = True,
    record_ties: bool = True,
) -> RunResult:
    """Run one scenario to its last week.

    Args:
        scenario: a validated scenario (see `load_scenario`).
        seed: the run's seed; the same scenario and seed give identical results.
        record_students: keep the per-student weekly table (large cohorts: turn off).
        record_ties: keep the weekly edge lists.
    """
    model = HomeRoomModel(
        rng=seed, config=scenario, record_students=record_students, record_ties=record_ties
    )
    while model.running:
        model.step()
    return collect(model, seed)


def collect(model: HomeRoomModel, seed: int | None) -> RunResult:
    """Turn a finished (or stopped) model into a :class:`RunResult`."""
    weekly = conform("weekly", model.datacollector.get_model_vars_dataframe())
    sessions = conform("sessions", pd.DataFrame(model.session_rows, columns=SESSION_COLUMNS))
    if model.student_frames:
        students = pd.DataFrame(
            {k: np.concatenate([f[k] for f in model.student_frames]) for k in model.student_frames[0]}
        )
    else:
        students = pd.DataFrame()
    students = conform("students", students)
    ties = conform("ties", pd.concat(model.tie_frames, ignore_index=True) if model.tie_frames else pd.DataFrame())
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
        network=final_network(model),
        scenario=model.config,
        seed=seed,
    )


def final_network(model: HomeRoomModel) -> nx.Graph:
    """A copy of the network with every student's states as node attributes."""
    graph = model.network.copy()
    for agent in model.student_agents:
        attrs = agent.state()
        attrs.update(
            faculty=agent.faculty,
            faculty_name=agent.faculty_name,
            client=agent.client,
            label=agent.label,
            social_interaction=float(model.social_interaction[agent.student_id]),
        )
        graph.nodes[agent.student_id].update(attrs)
    return graph
