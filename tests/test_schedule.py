"""The calendar: stages of sessions, phases of weeks, sessions spread over the program."""

from __future__ import annotations

import math

import pytest

from groupsim.model.schedule import STAGES, Calendar, session_stages


@pytest.mark.parametrize("sessions", [1, 2, 3, 8, 16])
@pytest.mark.parametrize("share", [0.0, 0.4, 1.0])
def test_session_stages_forming_first_termination_last_in_order(sessions, share):
    stages = session_stages(sessions, share)
    assert len(stages) == sessions
    assert set(stages) <= set(STAGES)
    assert stages[0] == "forming"
    if sessions >= 2:
        assert stages[-1] == "termination"
        assert stages.count("forming") == 1
        assert stages.count("termination") == 1
    # Stages never go back: forming, transition, working, termination.
    order = [STAGES.index(stage) for stage in stages]
    assert order == sorted(order)


def test_session_stages_small_programs():
    assert session_stages(1, 0.4) == ["forming"]
    assert session_stages(2, 0.4) == ["forming", "termination"]
    assert session_stages(3, 0.4) == ["forming", "working", "termination"]
    assert session_stages(3, 1.0) == ["forming", "transition", "termination"]


@pytest.mark.parametrize(
    ("sessions", "share", "transition"),
    [(8, 0.4, 2), (16, 0.4, 6), (8, 0.0, 0), (8, 1.0, 6), (7, 0.5, 3), (10, 0.25, 2)],
)
def test_session_stages_transition_share(sessions, share, transition):
    stages = session_stages(sessions, share)
    assert stages.count("transition") == transition
    assert stages.count("working") == sessions - 2 - transition
    # The field's pattern: with 8 sessions the transition covers sessions 2 and 3.
    if (sessions, share) == (8, 0.4):
        assert stages[1:3] == ["transition", "transition"]
        assert stages[3] == "working"


def _calendar(baseline=2, program=4, followup=3, sessions=8, share=0.4, group=True):
    return Calendar(baseline, program, followup, sessions, share, with_group=group)


def test_calendar_weeks_and_phases():
    cal = _calendar()
    assert [w.number for w in cal.weeks] == list(range(0, 1 + 2 + 4 + 3))
    phases = [w.phase for w in cal.weeks]
    assert phases == ["baseline"] * 3 + ["program"] * 4 + ["followup"] * 3
    assert cal.last_week == 9
    assert cal.last_baseline_week == 2
    assert cal.last_program_week == 6
    assert cal.week(4).number == 4
    assert cal.week(4).phase == "program"


def test_calendar_sessions_numbered_with_stages_only_in_program_weeks():
    cal = _calendar()
    sessions = [s for w in cal.weeks for s in w.sessions]
    assert [s.number for s in sessions] == list(range(1, 9))
    assert [s.stage for s in sessions] == session_stages(8, 0.4)
    for week in cal.weeks:
        for session in week.sessions:
            assert session.week == week.number
        if week.phase != "program":
            assert week.sessions == ()
    assert cal.sessions_in(3) == cal.week(3).sessions


@pytest.mark.parametrize(
    ("sessions", "per_week"),
    [(8, 2), (5, 2), (7, 3), (16, 7), (3, 1), (2, 2), (13, 4)],
)
def test_calendar_spreads_sessions_and_respects_sessions_per_week(sessions, per_week):
    weeks = math.ceil(sessions / per_week)  # what the scenario gives when weeks is not set
    cal = _calendar(program=weeks, sessions=sessions)
    counts = [len(w.sessions) for w in cal.weeks if w.phase == "program"]
    assert sum(counts) == sessions
    assert len(counts) == weeks
    assert max(counts) <= per_week
    assert max(counts) - min(counts) <= 1  # as even as possible
    assert counts == sorted(counts, reverse=True)  # earlier weeks take the extra session


def test_calendar_longer_program_than_sessions_need():
    cal = _calendar(program=6, sessions=4)
    counts = [len(w.sessions) for w in cal.weeks if w.phase == "program"]
    # spread over the program (session i in week floor(i * 6 / 4)), not bunched at the start
    assert counts == [1, 1, 0, 1, 1, 0]
    cal = _calendar(program=8, sessions=4)
    assert [len(w.sessions) for w in cal.weeks if w.phase == "program"] == [1, 0] * 4


def test_calendar_without_group_has_program_weeks_but_no_sessions():
    cal = _calendar(group=False)
    assert [w.phase for w in cal.weeks].count("program") == 4
    assert all(w.sessions == () for w in cal.weeks)


def test_calendar_without_baseline_or_followup():
    cal = _calendar(baseline=0, followup=0)
    assert cal.last_baseline_week == 0
    assert cal.last_program_week == cal.last_week == 4
    assert [w.phase for w in cal.weeks] == ["baseline"] + ["program"] * 4
