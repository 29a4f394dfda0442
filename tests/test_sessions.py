"""Group sessions' Python around the compiled session: its row and its inputs."""

from __future__ import annotations

import numpy as np
import pytest

from groupsim.model import recording, sessions, week_kernel, weeks
from groupsim.model.model import HomeRoomModel


@pytest.mark.parametrize("groups", [1, 3])
def test_a_session_row_counts_what_the_recorded_measures_compute(groups):
    """The row's density, cohesion and disclosed share are recording's measures to the bit.

    One session held by the compiled sessions (`week_kernel.hold_sessions`) on a model's
    state; the measures of the members' ties and disclosure right after it.
    """
    model = HomeRoomModel(rng=4, program_groups=groups, cohort_students_per_faculty=12)
    first = next(w for w in model.calendar.weeks if w.sessions).sessions[0]
    threshold = model.config.disclosure.personal_threshold
    out = np.empty((groups, len(week_kernel.SESSION_MEASURES)))
    ties = model.ties
    ties.keys, ties.strength, ties.used = week_kernel.hold_sessions(
        0, 1, model.group_rng, ties.keys, ties.strength, ties.used, model.n,
        model.student_arrays, weeks.group_state(model), weeks.session_schedule(model, [first]),
        threshold, model.session_parameters, model.week_end_parameters, out,
    )  # fmt: skip
    checked = []
    for group, values in zip(model.groups, out.tolist(), strict=True):
        row = sessions.session_row(group, first, values)
        tie = ties.dense(group.members)
        disclosure = model.states.disclosure[group.members]
        assert row["group_density"] == recording.density(tie)
        assert row["group_cohesion"] == recording.cohesion(tie)
        assert row["clients_disclosed_share"] == recording.disclosed_share(disclosure, threshold)
        assert type(row["group_density"]) is float
        checked.append(row)
    assert any(0 < row["group_density"] < 1 for row in checked)


def test_the_student_arrays_are_views_of_the_model_states():
    """The session's arrays, made once, are the model's state arrays themselves."""
    model = HomeRoomModel(rng=1, cohort_students_per_faculty=6)
    arrays = model.student_arrays
    for name in arrays._fields:
        assert getattr(arrays, name) is getattr(model.states, name)
    assert model.student_arrays is arrays
    model.run_model()
    assert np.array_equal(arrays.attended, model.states.attended)


def test_a_tie_a_session_weakens_to_nothing_leaves_the_store():
    """With `exchange.tie_loss` 1, a rebuff in a room felt as cold ends the tie, in the store too.

    Once a bug: the session's tie matrix lost the tie, but only pairs with a tie were handed
    back, so the store kept it at its old strength (the row's density said 0.5, the store 1).
    """
    model = HomeRoomModel(
        rng=4, cohort_students_per_faculty=12, exchange_tie_loss=1.0, exchange_intercept=-20.0,
        counselor_warmth=0.0, counselor_warmth_sd=0.0, attendance_intercept=20.0,
        engagement_intercept=20.0,
    )  # fmt: skip
    members = model.groups[0].members
    a, b = np.triu_indices(len(members), 1)
    ties = model.ties
    ties.set(members[a], members[b], np.full(len(a), 0.5))  # every member pair tied
    first = next(w for w in model.calendar.weeks if w.sessions).sessions[0]
    out = np.empty((1, len(week_kernel.SESSION_MEASURES)))
    ties.keys, ties.strength, ties.used = week_kernel.hold_sessions(
        0, 1, model.group_rng, ties.keys, ties.strength, ties.used, model.n,
        model.student_arrays, weeks.group_state(model), weeks.session_schedule(model, [first]),
        model.config.disclosure.personal_threshold, model.session_parameters,
        model.week_end_parameters, out,
    )  # fmt: skip
    ties.changed()
    row = sessions.session_row(model.groups[0], first, out[0].tolist())
    tie = ties.dense(members)
    assert 0 < row["group_density"] < 1  # every exchange failed: some ties were lost
    assert row["group_density"] == recording.density(tie)
    assert row["group_cohesion"] == recording.cohesion(tie)
    assert (ties.strength > 0).all()  # no empty ties kept
