"""Group sessions' Python around the compiled session: its row and its inputs."""

from __future__ import annotations

import numpy as np
import pytest

from groupsim.model import recording, sessions
from groupsim.model.model import HomeRoomModel


@pytest.mark.parametrize("groups", [1, 3])
def test_a_session_row_counts_what_the_recorded_measures_compute(monkeypatch, groups):
    """The row's density and disclosed share, counted, are recording's measures to the bit."""
    checked = []

    def checking_row(model, group, session, tie, tied_pairs, present, turns):
        row = session_row(model, group, session, tie, tied_pairs, present, turns)
        disclosure = model.states.disclosure[group.members]
        threshold = model.config.disclosure.personal_threshold
        assert row["group_density"] == recording.density(tie)
        assert type(row["group_density"]) is float
        assert row["clients_disclosed_share"] == recording.disclosed_share(disclosure, threshold)
        assert type(row["clients_disclosed_share"]) is float
        checked.append(row)
        return row

    session_row = sessions.session_row
    monkeypatch.setattr(sessions, "session_row", checking_row)
    model = HomeRoomModel(rng=4, program_groups=groups, cohort_students_per_faculty=12)
    model.run_model()
    assert len(checked) == len(model.session_rows) == groups * model.config.program.sessions
    assert any(0 < row["group_density"] < 1 for row in checked)
    assert any(0 < row["clients_disclosed_share"] < 1 for row in checked)


def test_the_student_arrays_are_views_of_the_model_states():
    """The session's arrays, made once, are the model's state arrays themselves."""
    model = HomeRoomModel(rng=1, cohort_students_per_faculty=6)
    arrays = model.student_arrays
    for name in arrays._fields:
        assert getattr(arrays, name) is getattr(model.states, name)
    assert model.student_arrays is arrays
    model.run_model()
    assert np.array_equal(arrays.attended, model.states.attended)
