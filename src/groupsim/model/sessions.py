"""Group sessions (ODD 3, step 1; 7.1-7.6): attendance, tension, climate, rapport, turns.

Every group holds the week's session among the members who came, turn by turn, on the
members' k x k tie matrix; the ties go back to the model's tie store at the end
(`run_group_sessions`). A session has time for a fixed number of turns (its length over a
turn's), shared by whoever is present, so each member's airtime falls as the group grows.
The arithmetic is in `groupsim.model.mechanisms`; these functions apply it to the model's
states in the ODD's order, drawing from `model.group_rng` (a fixed number of draws per
session and member, used or not, so the arms of a comparison stay in step).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from groupsim.model import mechanisms as mech
from groupsim.model.recording import cohesion, density, disclosed_share

if TYPE_CHECKING:
    from groupsim.model.agents import CounselingGroup
    from groupsim.model.model import HomeRoomModel
    from groupsim.model.schedule import Session

__all__ = [
    "SessionTies",
    "SessionTurns",
    "depth_cap",
    "disclose",
    "facilitation",
    "fail_exchange",
    "group_exchange",
    "hold_turns",
    "open_session",
    "run_group_session",
    "run_group_sessions",
    "session_row",
    "take_attendance",
    "teach",
]

#: A group session's ties for the tie store: pairs (a, b), strengths, used this session.
SessionTies = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


@dataclass
class SessionTurns:
    """What a session's turns came to: turns offered and taken, depths disclosed."""

    offered: int = 0
    taken: int = 0
    depths: list[float] = field(default_factory=list)


def run_group_sessions(model: HomeRoomModel, session: Session) -> None:
    """Every group holds this session; their ties then go back to the tie store at once.

    Groups have no members in common, so the order of groups does not matter.
    """
    updates = [run_group_session(model, group, session) for group in model.groups]
    a, b, strength, used = (np.concatenate(part) for part in zip(*updates, strict=True))
    model.ties.set(a[~used], b[~used], strength[~used])
    model.ties.set(a[used], b[used], strength[used], used=True)
    model.ties_changed()
    model.update_resolve()


def run_group_session(
    model: HomeRoomModel, group: CounselingGroup, session: Session
) -> SessionTies:
    """One session: attendance, tension and climate, rapport, turns, teaching (ODD 3, step 1).

    Returns the members' ties after the session (pairs, strengths, used this session)
    for the tie store.
    """
    members = group.members
    k = len(members)
    tie = model.ties.dense(members)  # the members' ties, updated in place this session
    used = np.zeros((k, k), dtype=bool)
    present = take_attendance(model, group)
    climate = open_session(model, group, tie, session, present)
    turns = hold_turns(model, group, tie, used, present, climate, depth_cap(model, session))
    if session.stage == "working":
        teach(model, members[present])
    group.sessions_held += 1
    model.session_rows.append(session_row(model, group, session, tie, present, turns))
    a, b = np.triu_indices(k, 1)
    held = tie[a, b] > 0
    a, b = a[held], b[held]
    return members[a], members[b], tie[a, b], used[a, b]


def take_attendance(model: HomeRoomModel, group: CounselingGroup) -> np.ndarray:
    """Who comes to this session, and who drops out after repeated absences (ODD 7.3b).

    Returns the local indices (0..k-1) of the members present.
    """
    a = model.config.attendance
    s = model.states
    members = group.members
    comes, leaves = model.group_rng.random((2, len(members)))
    chance = mech.attendance_probability(
        s.resolve[members],
        s.rapport[members],
        group.climate,
        s.anxiety[members],
        a.intercept,
        a.resolve,
        a.rapport,
        a.climate,
        a.anxiety,
    )
    active = ~s.dropped_out[members]
    present = active & (comes < chance)
    absent = active & ~present
    s.attended[members[present]] += 1
    s.absent_streak[members[present]] = 0
    s.absent_streak[members[absent]] += 1
    quits = absent & (s.absent_streak[members] >= a.dropout_after) & (leaves < a.dropout_chance)
    s.dropped_out[members[quits]] = True
    return np.flatnonzero(present)


def open_session(
    model: HomeRoomModel,
    group: CounselingGroup,
    tie: np.ndarray,
    session: Session,
    present: np.ndarray,
) -> float:
    """Tension and climate move toward their targets; present clients' rapport grows.

    ODD 7.1b, 7.1, 7.2. Returns the session's climate.
    """
    c = model.config
    s = model.states
    here = group.members[present]
    calm = 0.5 * (group.setting + facilitation(model, group))
    tension = mech.tension_target(
        float(s.anxiety[here].mean()) if len(here) else 0.0,
        float(s.attitude[here].std()) if len(here) else 0.0,
        getattr(c.tension, session.stage),
        calm,
        c.tension.anxiety_weight,
        c.tension.mismatch_weight,
        c.tension.calming,
    )
    group.tension = mech.update_tension(group.tension, tension, c.tension.rate)
    target = mech.climate_target(
        group.setting,
        cohesion(tie),
        group.tension,
        c.climate.setting_weight,
        c.climate.tension_weight,
    )
    group.climate = mech.update_climate(group.climate, target, c.climate.rate)
    rate = c.rapport.rate * (1.0 + c.rapport.family_tone_boost * model.practices["family_tone"])
    s.rapport[here] = mech.grow_rapport(
        s.rapport[here],
        group.counselor.warmth,
        group.climate,
        s.anxiety[here],
        rate,
        c.rapport.anxiety_inhibition,
    )
    return group.climate


def facilitation(model: HomeRoomModel, group: CounselingGroup) -> float:
    """The facilitation this group's counselor achieves with the technique's turn-taking."""
    return mech.practised_facilitation(
        group.counselor.facilitation,
        model.practices["turn_taking"],
        model.config.engagement.turn_taking_share,
    )


def depth_cap(model: HomeRoomModel, session: Session) -> float:
    """The deepest disclosure the session's stage allows (ice-breakers deepen forming)."""
    d = model.config.disclosure
    cap = getattr(d, f"{session.stage}_depth")
    if session.stage == "forming":
        cap += d.ice_breaker_depth * model.practices["ice_breakers"]
    return min(1.0, cap)


def hold_turns(
    model: HomeRoomModel,
    group: CounselingGroup,
    tie: np.ndarray,
    used: np.ndarray,
    present: np.ndarray,
    climate: float,
    cap: float,
) -> SessionTurns:
    """The session's turns: each goes to a present member, who takes it or stays silent.

    A member who takes the turn speaks with a partner chosen by tie strength (ODD 7.3,
    7.4). The random numbers of every turn are drawn at once, whether used or not.
    """
    c = model.config
    s = model.states
    rng = model.group_rng
    turns = mech.turns_in_session(c.program.session_minutes, c.group.turn_minutes)
    draws = rng.random((4, turns))
    result = SessionTurns()
    if len(present) < 2:  # nobody to talk with
        return result
    here = group.members[present]
    inhibition = mech.relieved_inhibition(
        c.engagement.inhibition, model.practices["informality"], c.engagement.informality_relief
    )
    willing = np.asarray(
        mech.facilitate(
            mech.engagement_probability(
                s.sociability[here],
                s.resolve[here],
                s.anxiety[here],
                climate,
                c.engagement.intercept,
                c.engagement.sociability,
                c.engagement.resolve,
                inhibition,
            ),
            facilitation(model, group),
        )
    )
    for turn, take, pick, success in draws.T:
        speaker = int(turn * len(present))
        result.offered += 1
        if take >= willing[speaker]:
            continue  # the turn passes in silence
        result.taken += 1
        i = int(present[speaker])
        others = present[present != i]
        weights = mech.partner_weights(tie[i, others], c.group.partner_base_weight)
        chosen = np.searchsorted(np.cumsum(weights), pick, side="right")
        j = int(others[min(chosen, len(others) - 1)])  # guard float round-off
        result.depths.extend(
            group_exchange(
                model, group.members, tie, used, i, j, climate, cap, success, group.tension
            )
        )
    return result


def teach(model: HomeRoomModel, here: np.ndarray) -> None:
    """Psychoeducation in a working session pulls present clients' views through rapport.

    How far a client moves also depends on their responsiveness (what they take from a
    session).
    """
    a = model.config.attitude
    s = model.states
    rate = np.minimum(1.0, a.psychoeducation_rate * s.responsiveness[here])
    s.attitude[here] = mech.psychoeducation(
        s.attitude[here], s.rapport[here], rate, a.counselor_view
    )


def session_row(
    model: HomeRoomModel,
    group: CounselingGroup,
    session: Session,
    tie: np.ndarray,
    present: np.ndarray,
    turns: SessionTurns,
) -> dict[str, Any]:
    """The sessions table's row for one group's session."""
    c = model.config
    return {
        "group": group.number,
        "session": session.number,
        "week": session.week,
        "stage": session.stage,
        "climate": group.climate,
        "tension": group.tension,
        "attendance": len(present) / len(group.members),
        "engagement": turns.taken / turns.offered if turns.offered else 0.0,
        "disclosure_depth": float(np.mean(turns.depths)) if turns.depths else 0.0,
        "group_density": density(tie),
        "group_cohesion": cohesion(tie),
        "clients_disclosed_share": disclosed_share(
            model.states.disclosure[group.members], c.disclosure.personal_threshold
        ),
    }


def group_exchange(
    model: HomeRoomModel,
    members: np.ndarray,
    tie: np.ndarray,
    used: np.ndarray,
    i: int,
    j: int,
    climate: float,
    cap: float,
    draw: float,
    tension: float = 0.0,
) -> list[float]:
    """An exchange between members i and j (local indices) in a session (ODD 7.4-7.6).

    `draw` is the exchange's uniform random number; `tension` the group's. Returns the
    depths disclosed so the session can report them.
    """
    c = model.config
    x = c.exchange
    s = model.states
    a, b = int(members[i]), int(members[j])
    w = tie[i, j]
    p_success = mech.exchange_success_probability(
        s.skill[a], s.skill[b], climate, w, x.intercept, x.skill, x.climate, x.tie
    )
    if draw >= p_success:
        # A rebuff in a tense group stings as in a colder room (ODD 7.1b, 7.4).
        felt = mech.felt_climate(climate, tension)
        fail_exchange(model, (a, b), felt)
        tie[i, j] = tie[j, i] = float(mech.weaken_tie(w, x.tie_loss, felt))
        return []
    # Self-disclosure met well: deeper ties, more openness (social penetration).
    d = c.disclosure
    depths = [disclose(model, m, climate, cap) for m in (a, b)]
    gain = x.tie_gain + d.tie_bonus * 0.5 * (depths[0] + depths[1])
    tie[i, j] = tie[j, i] = min(1.0, float(mech.strengthen_tie(w, gain)))
    used[i, j] = used[j, i] = True
    for m in (a, b):
        learned = float(mech.learning_weight(s.responsiveness[m], w, x.novelty))
        relief = min(1.0, x.anxiety_relief * learned)
        s.anxiety[m] = mech.relieve_anxiety(s.anxiety[m], relief, climate)
        s.skill[m] = mech.practice_skill(s.skill[m], min(1.0, x.skill_gain * learned))
    epsilon = mech.confidence_bound(
        climate, c.attitude.confidence_bound, c.attitude.confidence_climate
    )
    s.attitude[a], s.attitude[b] = mech.bounded_confidence(
        s.attitude[a], s.attitude[b], epsilon, c.attitude.convergence
    )
    return depths


def fail_exchange(model: HomeRoomModel, pair: tuple[int, int], climate: float) -> None:
    """A failed exchange stings (more for the sensitive, in a colder room); both close up.

    A sensitive member may also conclude that interaction is not worth it: their view of it
    (attitude) falls by `exchange.disillusion` x sensitivity, as far as the room felt unsafe.
    """
    x = model.config.exchange
    withdrawal = model.config.disclosure.withdrawal
    s = model.states
    for m in pair:
        sting = min(1.0, x.anxiety_sting * s.sensitivity[m])
        s.anxiety[m] = mech.sting_anxiety(s.anxiety[m], sting, climate)
        disillusion = min(1.0, x.disillusion * s.sensitivity[m])
        s.attitude[m] = mech.withdraw(s.attitude[m], disillusion, climate)
        s.disclosure[m] = mech.withdraw(s.disclosure[m], withdrawal, climate)
        s.openness[m] = mech.withdraw(s.openness[m], withdrawal, climate)


def disclose(model: HomeRoomModel, student: int, climate: float, cap: float) -> float:
    """A student's self-disclosure in a good exchange (ODD 7.5); returns its depth."""
    d = model.config.disclosure
    s = model.states
    depth = float(
        mech.disclosure_depth(
            s.openness[student],
            s.rapport[student],
            climate,
            cap,
            d.openness_weight,
            d.rapport_weight,
            d.climate_weight,
        )
    )
    s.disclosure[student] = max(s.disclosure[student], depth)
    s.openness[student] = mech.open_up(
        s.openness[student], depth, min(1.0, d.openness_gain * s.responsiveness[student])
    )
    return depth
