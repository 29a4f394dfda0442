"""The weeks of the program, compiled: a week in ODD order, one week or many in one call.

`run_weeks` runs weeks as `HomeRoomModel.step` describes them (docs/ODD.md, section 3): every
group's sessions (`session_kernel.group_session`), the tie store's merge and resolve; campus
life (`campus.campus_week`); decay (`weekly.decay_week`); measurement
(`weekly.count_contacts`, `weekly.score_students`); and, in a recorded week, the week's
measures (`recording_kernel.week_measures`). Those are the compiled functions the model ran
one call at a time before, called here in the same order with the same random streams, so a
seed gives the same run to the last bit (`tests/test_week_kernel.py`).

Why one call for many weeks: a default run's Python between those calls (handing the arrays
over, the sessions' rows, the recorded week's row) cost about as much as the compiled code
itself, and the Python in between also evicted the compiled code's data from the caches.
`HomeRoomModel.run_model` runs the weeks between two weeks that need Python (a questionnaire,
a snapshot of the students, ties or faculties) in one call (`groupsim.model.weeks`); `step`
runs one week with the same call, so the live page and a study run the very same code.

What stays in Python, week by week: the questionnaires (`HomeRoomModel.give_questionnaires`,
on the clients' scores this call keeps for their weeks), the records built from the measures
this call leaves in its buffers (`groupsim.model.weeks`), and Mesa's step.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from groupsim.model import kernel as k
from groupsim.model import recording_kernel as rk
from groupsim.model.campus import campus_week
from groupsim.model.kernel import compiled
from groupsim.model.session_inputs import session_draws
from groupsim.model.session_kernel import group_session
from groupsim.model.weekly import count_contacts, decay_week, score_students

__all__ = ["SESSION_MEASURES", "GroupArrays", "hold_sessions", "measure_session", "run_weeks"]

#: What a group's session leaves in the sessions buffer, a row per group per session: the
#: sessions table's measured columns (`groupsim.model.sessions.session_row`), in order.
SESSION_MEASURES = (
    "climate",
    "tension",
    "attendance",
    "engagement",
    "disclosure_depth",
    "group_density",
    "group_cohesion",
    "clients_disclosed_share",
)


class GroupArrays(NamedTuple):
    """The counseling groups as the compiled week takes them (`weeks.group_state`).

    Group g is `members[bounds[g]:bounds[g + 1]]`; `climate` has a row a group (climate,
    tension) and, with `held`, is changed in place by the sessions.
    """

    members: np.ndarray
    bounds: np.ndarray
    climate: np.ndarray
    setting: np.ndarray
    warmth: np.ndarray
    facilitation: np.ndarray
    held: np.ndarray


@compiled
def hold_sessions(
    first: int,
    last: int,
    rng: Any,
    keys: np.ndarray,
    strength: np.ndarray,
    used: np.ndarray,
    n: int,
    st: Any,
    groups: GroupArrays,
    schedule: tuple[np.ndarray, ...],
    threshold: float,
    session_params: np.ndarray,
    week_params: np.ndarray,
    out: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sessions `first` to `last - 1` of the schedule, each held by every group (ODD 7.1-7.6).

    For each session: every group's session in the order of their numbers
    (`session_kernel.group_session`, its uniforms drawn from the group stream `rng`); the
    groups' ties back to the tie store in one merge (`kernel.set_pairs`; a tie a session
    weakened to nothing leaves the store there); resolve follows
    (`mechanisms.resolve_from`). `groups`: a `GroupArrays` (its climates and sessions held
    changed in place). `schedule`:
    each session's stage conflict, depth cap and whether it is a working session;
    `week_params`: `weekly.week_end_parameters`' record (resolve's weights). Writes a
    row of `SESSION_MEASURES` per session and group to `out` (row `s * groups + g`).
    """
    members, bounds, climate, setting, warmth, facilitation, held = groups
    conflict, cap, working = schedule
    size_of = bounds[1:] - bounds[:-1]
    most_pairs = 0
    for g in range(len(size_of)):
        most_pairs += size_of[g] * (size_of[g] - 1) // 2
    for s in range(first, last):
        pair_keys = np.empty(most_pairs, dtype=np.int64)
        pair_strength = np.empty(most_pairs)
        pair_used = np.empty(most_pairs, dtype=np.bool_)
        filled = 0
        for g in range(len(size_of)):
            group = members[bounds[g] : bounds[g + 1]]
            size = len(group)
            draws = session_draws(rng, size, session_params)
            (
                climate_after, tension_after, present, offered, taken, depth_sum, disclosed,
                tie, keys_back, strength_back, used_back,
            ) = group_session(
                draws, group, keys, strength, n, st, climate[g, 0], climate[g, 1], setting[g],
                warmth[g], facilitation[g], conflict[s], cap[s], working[s], session_params,
            )  # fmt: skip
            climate[g, 0], climate[g, 1] = climate_after, tension_after
            held[g] += 1
            measure_session(
                out[s * len(size_of) + g], group, climate[g], present, offered, taken, depth_sum,
                disclosed, tie, st, threshold,
            )  # fmt: skip
            for i in range(len(keys_back)):
                pair_keys[filled + i] = keys_back[i]
                pair_strength[filled + i] = strength_back[i]
                pair_used[filled + i] = used_back[i]
            filled += len(keys_back)
        keys, strength, used = k.set_pairs(
            keys, strength, used, pair_keys[:filled], pair_strength[:filled], pair_used[:filled]
        )
        p = week_params[0]
        for i in range(n):
            st.resolve[i] = k.resolve_from(
                st.attitude[i], st.skill[i], st.anxiety[i], p.resolve_attitude,
                p.resolve_control, p.resolve_calm,
            )  # fmt: skip
    return keys, strength, used


@compiled
def measure_session(
    row: np.ndarray,
    group: np.ndarray,
    climate: np.ndarray,
    present: np.ndarray,
    offered: int,
    taken: int,
    depth_sum: float,
    disclosed: int,
    tie: np.ndarray,
    st: Any,
    threshold: float,
) -> None:
    """A group's session row of `SESSION_MEASURES`, in that order, written to `row`.

    `climate`: the group's (climate, tension) after the session; `tie`: its members' tie
    matrix after it (density and cohesion as `recording.density` and `cohesion` take them).
    """
    size = len(group)
    pairs = size * (size - 1) / 2.0
    opened_up = 0  # members whose disclosure is personal by now
    for m in group:
        opened_up += st.disclosure[m] >= threshold
    tied = 0  # member pairs with a tie
    for i in range(size):
        for j in range(i + 1, size):
            tied += tie[i, j] > 0.0
    row[0], row[1] = climate[0], climate[1]
    row[2] = len(present) / size
    row[3] = taken / offered if offered else 0.0
    row[4] = depth_sum / disclosed if disclosed else 0.0
    row[5] = tied / pairs if pairs else 0.0
    row[6] = (
        rk.pairwise_sum(tie.reshape(size * size), 0, size * size) / 2.0 / pairs if pairs else 0.0
    )
    row[7] = opened_up / size


@compiled
def run_weeks(
    session_at: np.ndarray,
    recorded: np.ndarray,
    group_stream: Any,
    campus_stream: Any,
    keys: np.ndarray,
    strength: np.ndarray,
    used: np.ndarray,
    st: Any,
    weekly_states: tuple[np.ndarray, ...],
    faculties: tuple[np.ndarray, ...],
    groups: GroupArrays,
    schedule: tuple[np.ndarray, ...],
    measured: tuple[Any, ...],
    threshold: float,
    most_sampled: int,
    params: tuple[np.ndarray, np.ndarray, np.ndarray],
    rows: np.ndarray,
    session_rows: np.ndarray,
    questioned: np.ndarray,
    asked: tuple[np.ndarray, np.ndarray],
    kept: tuple[np.ndarray, np.ndarray],
) -> tuple[np.ndarray, ...]:
    """`len(recorded)` weeks in ODD order (docs/ODD.md, section 3); returns the state they leave.

    Week w holds sessions `session_at[w]` to `session_at[w + 1] - 1` of the schedule
    (`hold_sessions`, drawing from `group_stream`), then campus life (`campus_stream`), decay
    and measurement; a week with `recorded[w]` writes its measures to `rows[w]`
    (`recording_kernel.week_measures`). `st`: the students' `StudentArrays`;
    `weekly_states`: contacts this week, contact rate, the drifting states and their
    baselines (`weekly.drifting_states`); `faculties`: each student's faculty, the
    faculties' first students and sizes; `measured`: the clients, their friends, who is a
    client, the client states `week_measures` averages, and the groups' climates as the
    weekly table reads them (none without a group); `params`: the session's, campus life's
    and the week end's parameter records. The states change in place. A week with
    `questioned[w]` (a questionnaire's) keeps its clients' scores and dropouts in row w of
    `asked` (scores, dropped out): the questionnaire, given in Python when `step` reaches the
    week, reads them there, so the weeks after it may run in this call too. Likewise a
    recorded week w with `kept[0][w] >= 0` keeps its students' rows in that block of
    `kept[1]` (`recording_kernel.keep_students`), which `step` records.

    Returns the tie arrays, the summed tie strengths and scores of the last week, and the
    last recorded week's degrees and clustering sample (empty when no week was recorded).
    """
    session_params, campus_params, week_params = params
    contacts, contact_rate, drifting, baselines = weekly_states
    faculty, faculty_start, faculty_sizes = faculties
    clients, friends, is_client, client_states, climates = measured
    n = len(st.resolve)
    p = week_params[0]
    rng = k.generator_of(group_stream)
    strength_sum, score = np.zeros(n), np.zeros(n)
    degree, local = np.zeros(0, dtype=np.int64), np.zeros(0)
    for w in range(len(recorded)):
        keys, strength, used = hold_sessions(
            session_at[w], session_at[w + 1], rng, keys, strength, used, n, st, groups,
            schedule, threshold, session_params, week_params, session_rows,
        )  # fmt: skip
        keys, strength, used = campus_week(
            campus_stream, keys, strength, used, st.sociability, st.resolve, st.anxiety,
            st.skill, st.attitude, contacts, faculty, faculty_start, faculty_sizes,
            campus_params,
        )  # fmt: skip
        keys, strength, used = decay_week(
            keys, strength, used, drifting, baselines, st.attitude, st.skill, st.anxiety,
            st.resolve, week_params,
        )  # fmt: skip
        count_contacts(contact_rate, contacts, week_params)
        strength_sum, score = score_students(
            keys, strength, contact_rate, st.skill, st.attitude, st.anxiety, week_params
        )
        if questioned[w]:
            for i in range(len(clients)):
                asked[0][w, i] = score[clients[i]]
                asked[1][w, i] = st.dropped_out[clients[i]]
        if recorded[w]:
            row, local, degree = rk.week_measures(
                keys, strength, n, groups.members, groups.bounds, climates, clients, friends,
                is_client, client_states, score, strength_sum, st.attended, st.dropped_out,
                threshold, groups.held[0] if len(climates) else 0, most_sampled, p.contact_scale,
                p.tie_scale,
            )  # fmt: skip
            rows[w] = row
            if kept[0][w] >= 0:
                rk.keep_students(kept[1][kept[0][w]], st, contact_rate, strength_sum, score, degree)
    return keys, strength, used, strength_sum, score, degree, local
