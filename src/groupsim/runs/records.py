"""What one run recorded, as plain data: the one source of its tables and outcomes.

`RunRecords.of(model)` takes a finished (or stopped) model's records without copying them
into DataFrames; `RunResult` (groupsim.runs.runner) builds each table from them on first use,
and `groupsim.runs.outcomes` computes the outcomes straight from them, so a sweep that keeps
only outcomes never builds a table. Imports neither Mesa nor SciPy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from groupsim.model.measures import reliable_change
from groupsim.runs.outputs import SESSION_COLUMNS, conform

if TYPE_CHECKING:
    from groupsim.model.model import HomeRoomModel
    from groupsim.scenario import Scenario

__all__ = ["OCCASIONS", "RunRecords"]

#: The questionnaire's occasions, in order.
OCCASIONS = ("screening", "pre", "post", "followup")


@dataclass(frozen=True, eq=False)
class RunRecords:
    """A run's records, as the model kept them.

    Attributes:
        scenario: the scenario that was run.
        weekly: the weekly metrics, a list of values per column (Mesa's `model_vars`).
        sessions: a dict per group session (`SESSION_COLUMNS`).
        questionnaire: the clients' totals per occasion given (screening, pre, post, ...).
        latent: the clients' latent scores per occasion given (NaN where a total is missing).
        clients: the clients' student ids (sorted).
        client_faculty: each client's faculty.
        client_traits: per client: group, sessions attended, dropped out, responsiveness and
            sensitivity.
        students: a dict of columns per recorded week (empty without `record_students`).
        ties: a dict of columns per recorded week (empty without `record_ties`).
        faculties: a dict of columns per recorded week.
    """

    scenario: Scenario
    weekly: Mapping[str, Sequence[Any]]
    sessions: Sequence[Mapping[str, Any]]
    questionnaire: Mapping[str, np.ndarray]
    latent: Mapping[str, np.ndarray]
    clients: np.ndarray
    client_faculty: np.ndarray
    client_traits: Mapping[str, np.ndarray]
    students: Sequence[Mapping[str, np.ndarray]]
    ties: Sequence[Mapping[str, np.ndarray]]
    faculties: Sequence[Mapping[str, np.ndarray]]

    @classmethod
    def of(cls, model: HomeRoomModel) -> RunRecords:
        """The records of a finished (or stopped) model (no tables are built)."""
        # Shallow copies of the lists (their items are not changed later), so a stopped
        # model that runs on does not change records taken from it.
        return cls(
            scenario=model.config,
            weekly={name: list(values) for name, values in model.datacollector.model_vars.items()},
            sessions=list(model.session_rows),
            questionnaire=dict(model.questionnaire),
            latent=dict(model.latent),
            clients=model.clients,
            client_faculty=model.states.faculty[model.clients],
            client_traits={
                "group": model.group_of[model.clients].copy(),
                "attended": model.states.attended[model.clients].copy(),
                "dropped_out": model.states.dropped_out[model.clients].copy(),
                "responsiveness": model.states.responsiveness[model.clients].copy(),
                "sensitivity": model.states.sensitivity[model.clients].copy(),
            },
            students=list(model.student_frames),
            ties=list(model.tie_frames),
            faculties=list(model.faculty_rows),
        )

    def answers(self, occasion: str) -> np.ndarray:
        """The clients' totals on one occasion (NaN where it was not given)."""
        values = self.questionnaire.get(occasion)
        if values is None:
            return np.full(len(self.clients), np.nan)
        return np.asarray(values, dtype=np.float64)

    @cached_property
    def change_categories(self) -> np.ndarray:
        """Each client's reliable change from pre to post (`measures.reliable_change`), read-only.

        Taken once a run: the questionnaire table and the outcomes both read it.
        """
        change = reliable_change(self.answers("pre"), self.answers("post"))
        change.flags.writeable = False
        return change

    def weekly_table(self) -> pd.DataFrame:
        """A row a recorded week (`groupsim.runs.outputs.WEEKLY`)."""
        return conform("weekly", pd.DataFrame(dict(self.weekly)))

    def sessions_table(self) -> pd.DataFrame:
        """A row a group session (`groupsim.runs.outputs.SESSIONS`)."""
        return conform("sessions", pd.DataFrame(list(self.sessions), columns=SESSION_COLUMNS))

    def students_table(self) -> pd.DataFrame:
        """A row per student per recorded week."""
        return conform("students", _stack(self.students))

    def ties_table(self) -> pd.DataFrame:
        """The edge list of every recorded week."""
        return conform("ties", _stack(self.ties))

    def faculties_table(self) -> pd.DataFrame:
        """A row per faculty per recorded week."""
        return conform("faculties", _stack(self.faculties))

    def questionnaire_table(self) -> pd.DataFrame:
        """A row per client: student id, faculty and the totals of every occasion."""
        return conform("questionnaire", pd.DataFrame(self.questionnaire_columns()))

    def questionnaire_columns(self) -> dict[str, np.ndarray]:
        """The questionnaire table's columns (`groupsim.runs.outputs.QUESTIONNAIRE`) as arrays."""
        columns: dict[str, Any] = {
            "student_id": self.clients.astype(np.int64),
            "faculty": self.client_faculty.astype(np.int64),
        }
        columns.update({occasion: self.answers(occasion) for occasion in OCCASIONS})
        columns["post_missing"] = np.isnan(columns["post"])
        columns["followup_missing"] = np.isnan(columns["followup"])
        columns["reliable_change"] = self.change_categories
        columns.update(self.client_traits)
        return columns


def _stack(frames: Sequence[Mapping[str, np.ndarray]]) -> pd.DataFrame:
    """One DataFrame from a list of column dicts (weekly snapshots)."""
    if not frames:
        return pd.DataFrame()
    return pd.DataFrame({k: np.concatenate([f[k] for f in frames]) for k in frames[0]})
