"""The program's weeks run by compiled code (`week_kernel.run_weeks`), and what they leave.

`simulate_weeks` hands the model's state to `week_kernel.run_weeks` for the next weeks and
takes back their results: the tie store and scores, the groups' climates, and each week's
recorded measures, session rows and students' rows (`SimulatedWeek`), which
`HomeRoomModel.step` then records week by week. `weeks_ahead` says how many weeks
`HomeRoomModel.run_model` may run in one call: up to the next week that needs the state
itself, in Python (a snapshot of the ties or the faculties; a questionnaire reads the
clients' scores the call kept, the students' rows are kept too). So a run that keeps no tie
or faculty snapshot (`compare`'s, a sweep's, a power study's, a calibration's) runs its
program in one call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from groupsim.model import recording, recording_kernel, sessions
from groupsim.model.week_kernel import SESSION_MEASURES, GroupArrays, run_weeks
from groupsim.model.weekly import drifting_states

if TYPE_CHECKING:
    from groupsim.model.model import HomeRoomModel
    from groupsim.model.schedule import Session

__all__ = [
    "SimulatedWeek",
    "group_state",
    "questionnaire_weeks",
    "session_schedule",
    "simulate_weeks",
    "weeks_ahead",
]


@dataclass
class SimulatedWeek:
    """A week the compiled code ran, waiting for `HomeRoomModel.step` to record it.

    `measures`: its row of `recording_kernel.WEEK_MEASURES` (None when not recorded);
    `session_rows`: its rows of the sessions table, group by group, session by session;
    `asked`: in a questionnaire's week (`questionnaire_weeks`), the clients' latent scores
    and whether each had dropped out, as that week left them (else None); `students`: in a
    week that keeps the students' rows, those rows (`recording_kernel.STUDENT_ROWS`, else
    None).
    """

    measures: np.ndarray | None
    session_rows: list[dict[str, Any]]
    asked: tuple[np.ndarray, np.ndarray] | None = None
    students: np.ndarray | None = None


def simulate_weeks(model: HomeRoomModel, count: int) -> None:
    """Run the `count` weeks after `model.simulated_week` (`week_kernel.run_weeks`).

    The state moves on to the last of them; each week's results are queued in
    `model.simulated_weeks` for `step` to record (so `model.simulated_week` moves on too).
    """
    first = model.simulated_week + 1
    numbers = range(first, first + count)
    weeks = [model.calendar.week(number) for number in numbers]
    held = [session for week in weeks for session in week.sessions]
    session_at = np.cumsum([0, *(len(week.sessions) for week in weeks)], dtype=np.int64)
    recorded = np.array([model.records(number) for number in numbers], dtype=np.bool_)
    asking = questionnaire_weeks(model)
    questioned = np.array([number in asking for number in numbers], dtype=np.bool_)
    asked = (np.empty((count, len(model.clients))), np.empty((count, len(model.clients)), bool))
    # The weeks that keep the students' rows, each its block of rows.
    pictured = [
        w for w, number in enumerate(numbers) if recorded[w] and model.keeps_students(number)
    ]
    kept = (
        np.full(count, -1, dtype=np.int64),
        np.empty((len(pictured), len(recording_kernel.STUDENT_ROWS), model.n)),
    )
    kept[0][pictured] = np.arange(len(pictured))
    groups = model.groups
    group_arrays = group_state(model)
    schedule = session_schedule(model, held)
    s = model.states
    ties = model.ties
    drifting, baselines = drifting_states(model)
    rows = np.empty((count, len(recording_kernel.WEEK_MEASURES)))
    session_out = np.empty((len(held) * len(groups), len(SESSION_MEASURES)))
    (ties.keys, ties.strength, ties.used, model.strength_sum, model.social_interaction,
     degree, local) = run_weeks(
        session_at, recorded, model.group_stream, model.campus_stream, ties.keys,
        ties.strength, ties.used, model.student_arrays,
        (s.contacts_this_week, s.contact_rate, drifting, baselines),
        (s.faculty, model.faculty_start, model.faculty_sizes), group_arrays, schedule,
        (model.clients, model.friends, s.client, recording.client_states(s),
         group_arrays.climate if model.config.holds_group else recording.NO_CLIMATE),
        model.config.disclosure.personal_threshold, recording.CLUSTERING_SAMPLE,
        (model.session_parameters, model.campus_parameters, model.week_end_parameters),
        rows, session_out, questioned, asked, kept,
    )  # fmt: skip
    ties.changed()
    model.ties_changed()
    for g, group in enumerate(groups):
        group.climate, group.tension = group_arrays.climate[g].tolist()
        group.sessions_held = int(group_arrays.held[g])
    if recorded[-1]:
        model.last_measures = (degree, local)
    values = session_out.tolist()
    at = 0
    for w, week in enumerate(weeks):
        week_rows = []
        for session in week.sessions:
            for group in groups:
                week_rows.append(sessions.session_row(group, session, values[at]))
                at += 1
        model.simulated_weeks.append(
            SimulatedWeek(
                rows[w] if recorded[w] else None,
                week_rows,
                (asked[0][w], asked[1][w]) if questioned[w] else None,
                kept[1][kept[0][w]] if kept[0][w] >= 0 else None,
            )
        )


def group_state(model: HomeRoomModel) -> GroupArrays:
    """The model's groups as the compiled week takes them.

    The counselor's facilitation is `sessions.facilitation` (with the technique's turn-taking).
    """
    groups = model.groups
    members, bounds = model.group_members
    return GroupArrays(
        members,
        bounds,
        np.array([(g.climate, g.tension) for g in groups], dtype=float).reshape(-1, 2),
        np.array([g.setting for g in groups], dtype=float),
        np.array([g.counselor.warmth for g in groups], dtype=float),
        np.array([sessions.facilitation(model, g) for g in groups], dtype=float),
        np.array([g.sessions_held for g in groups], dtype=np.int64),
    )


def session_schedule(model: HomeRoomModel, held: list[Session]) -> tuple[np.ndarray, ...]:
    """The sessions `held` as `week_kernel.hold_sessions` takes them (`schedule`).

    Each session's stage conflict (`tension.<stage>`), depth cap (`sessions.depth_cap`) and
    whether it is a working session (psychoeducation).
    """
    return (
        np.array([getattr(model.config.tension, s.stage) for s in held], dtype=float),
        np.array([sessions.depth_cap(model, s) for s in held], dtype=float),
        np.array([s.stage == "working" for s in held], dtype=np.bool_),
    )


def questionnaire_weeks(model: HomeRoomModel) -> frozenset[int]:
    """The weeks a questionnaire may be due in: the pre-test's, the post-test's, the last.

    Their clients' scores are kept as the week leaves them (`SimulatedWeek.asked`), for
    `HomeRoomModel.give_questionnaires`.
    """
    cal = model.calendar
    return frozenset((cal.last_baseline_week, cal.last_program_week, cal.last_week))


def weeks_ahead(model: HomeRoomModel) -> int:
    """How many weeks `run_model` may run in one call from `model.week`: to the next pause.

    A pause is a recorded week whose state Python reads: one that keeps a snapshot of the
    ties or the faculties. A questionnaire's week is not one, nor a week that keeps the
    students' rows: the compiled weeks keep what the questionnaire reads
    (`SimulatedWeek.asked`) and the rows (`SimulatedWeek.students`).
    """
    cal = model.calendar
    if model.snapshots:
        for number in range(model.week + 1, cal.last_week + 1):
            if model.records(number):
                return number - model.week
    return cal.last_week - model.week
