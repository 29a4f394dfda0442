"""Group sessions (ODD 3, step 1; 7.1-7.6): climate, rapport, exchange rounds, disclosure.

Every group holds the week's session among its few members, exchange by exchange, on the
members' k x k tie matrix; the ties go back to the model's tie store at the end
(`run_group_sessions`). The arithmetic is in `groupsim.model.mechanisms`; these functions
apply it to the model's states in the ODD's order, drawing from `model.group_rng`.
"""

from __future__ import annotations

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
    "disclose",
    "exchange_round",
    "group_exchange",
    "open_session",
    "run_group_session",
    "run_group_sessions",
    "session_row",
    "teach",
]

#: A group session's ties for the tie store: pairs (a, b), strengths, used this session.
SessionTies = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


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
    """One session: climate, rapport, exchange rounds, psychoeducation (ODD 3, step 1).

    Returns the members' ties after the session (pairs, strengths, used this session)
    for the tie store.
    """
    members = group.members
    k = len(members)
    tie = model.ties.dense(members)  # the members' ties, updated in place this session
    used = np.zeros((k, k), dtype=bool)
    climate = open_session(model, group, tie)
    depth_cap = getattr(model.config.disclosure, f"{session.stage}_depth")
    engaged = 0
    depths: list[float] = []
    for _ in range(model.config.group.rounds_per_session):
        engaged += exchange_round(model, group, tie, used, climate, depth_cap, depths)
    if session.stage == "working":
        teach(model, members)
    group.sessions_held += 1
    model.session_rows.append(session_row(model, group, session, tie, engaged, depths))
    a, b = np.triu_indices(k, 1)
    present = tie[a, b] > 0
    a, b = a[present], b[present]
    return members[a], members[b], tie[a, b], used[a, b]


def open_session(model: HomeRoomModel, group: CounselingGroup, tie: np.ndarray) -> float:
    """The climate moves toward its target; rapport grows (ODD 7.1, 7.2).

    Returns the session's climate.
    """
    c = model.config
    target = mech.climate_target(group.setting, cohesion(tie), c.climate.setting_weight)
    group.climate = mech.update_climate(group.climate, target, c.climate.rate)
    members = group.members
    model.states.rapport[members] = mech.grow_rapport(
        model.states.rapport[members], group.counselor.warmth, group.climate, c.rapport.rate
    )
    return group.climate


def exchange_round(
    model: HomeRoomModel,
    group: CounselingGroup,
    tie: np.ndarray,
    used: np.ndarray,
    climate: float,
    depth_cap: float,
    depths: list[float],
) -> int:
    """One round: members engage (ODD 7.3), each engaged one speaks to a partner (7.4).

    Adds the depths disclosed to `depths`; returns how many members engaged.
    """
    c = model.config
    s = model.states
    members = group.members
    k = len(members)
    rng = model.group_rng
    local = np.arange(k)
    probability = mech.engagement_probability(
        s.sociability[members],
        s.resolve[members],
        s.anxiety[members],
        climate,
        c.engagement.intercept,
        c.engagement.sociability,
        c.engagement.resolve,
        c.engagement.inhibition,
    )
    probability = mech.facilitate(probability, group.counselor.facilitation)
    engaged = local[rng.random(k) < probability]
    for speaker in rng.permutation(engaged):
        others = local[local != speaker]
        weights = mech.partner_weights(tie[speaker, others], c.group.partner_base_weight)
        pick = np.searchsorted(np.cumsum(weights), rng.random(), side="right")
        partner = int(others[min(pick, len(others) - 1)])  # guard float round-off
        depths.extend(
            group_exchange(model, members, tie, used, int(speaker), partner, climate, depth_cap)
        )
    return len(engaged)


def teach(model: HomeRoomModel, members: np.ndarray) -> None:
    """Psychoeducation in a working session pulls attitudes through rapport (ODD 7.6)."""
    a = model.config.attitude
    s = model.states
    s.attitude[members] = mech.psychoeducation(
        s.attitude[members], s.rapport[members], a.psychoeducation_rate, a.counselor_view
    )


def session_row(
    model: HomeRoomModel,
    group: CounselingGroup,
    session: Session,
    tie: np.ndarray,
    engaged: int,
    depths: list[float],
) -> dict[str, Any]:
    """The sessions table's row for one group's session."""
    c = model.config
    return {
        "group": group.number,
        "session": session.number,
        "week": session.week,
        "stage": session.stage,
        "climate": group.climate,
        "engagement": engaged / (len(group.members) * c.group.rounds_per_session),
        "disclosure_depth": float(np.mean(depths)) if depths else 0.0,
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
    depth_cap: float,
) -> list[float]:
    """An exchange between members i and j (local indices) in a session (ODD 7.4-7.6).

    Returns the depths disclosed so the session can report them.
    """
    c = model.config
    x = c.exchange
    s = model.states
    a, b = int(members[i]), int(members[j])
    w = tie[i, j]
    p_success = mech.exchange_success_probability(
        s.skill[a], s.skill[b], climate, w, x.intercept, x.skill, x.climate, x.tie
    )
    if model.group_rng.random() >= p_success:
        for m in (a, b):
            s.anxiety[m] = mech.sting_anxiety(s.anxiety[m], x.anxiety_sting, climate)
        return []
    # Self-disclosure met well: deeper ties, more openness (social penetration).
    d = c.disclosure
    depths = [disclose(model, m, climate, depth_cap) for m in (a, b)]
    gain = x.tie_gain + d.tie_bonus * 0.5 * (depths[0] + depths[1])
    tie[i, j] = tie[j, i] = min(1.0, float(mech.strengthen_tie(w, gain)))
    used[i, j] = used[j, i] = True
    for m in (a, b):
        s.anxiety[m] = mech.relieve_anxiety(s.anxiety[m], x.anxiety_relief, climate)
        s.skill[m] = mech.practice_skill(s.skill[m], x.skill_gain)
    epsilon = mech.confidence_bound(
        climate, c.attitude.confidence_bound, c.attitude.confidence_climate
    )
    s.attitude[a], s.attitude[b] = mech.bounded_confidence(
        s.attitude[a], s.attitude[b], epsilon, c.attitude.convergence
    )
    return depths


def disclose(model: HomeRoomModel, student: int, climate: float, depth_cap: float) -> float:
    """A student's self-disclosure in a good exchange (ODD 7.5); returns its depth."""
    d = model.config.disclosure
    s = model.states
    depth = float(
        mech.disclosure_depth(
            s.openness[student],
            s.rapport[student],
            climate,
            depth_cap,
            d.openness_weight,
            d.rapport_weight,
            d.climate_weight,
        )
    )
    s.disclosure[student] = max(s.disclosure[student], depth)
    s.openness[student] = mech.open_up(s.openness[student], depth, d.openness_gain)
    return depth
