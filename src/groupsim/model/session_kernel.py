"""The compiled loops of a group session (ODD 7.1-7.6): `group_session` and what it runs.

`group_session` is one group's session in one compiled call: it copies the members' ties out
of the tie store (`kernel.dense`), runs, in the ODD's order, `take_attendance`, `open_session`,
`hold_turns` (each turn's `group_exchange`, with `disclose` or `fail_exchange`) and, in the
working stage, `teach`, and hands back the members' ties as pairs (`session_ties`). Their
arithmetic is the mechanisms of `groupsim.model.mechanisms`, compiled (`groupsim.model.kernel`).

What they read is made in `groupsim.model.session_inputs` (the scenario's numbers `p`, the
students' arrays `st`, the uniforms `draws`); `groupsim.model.sessions` calls `group_session`
and writes what it returns to the model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from groupsim.model import kernel as k
from groupsim.model.kernel import compiled

if TYPE_CHECKING:
    from groupsim.model.session_inputs import SessionParameters, StudentArrays

__all__ = [
    "disclose",
    "fail_exchange",
    "group_exchange",
    "group_session",
    "hold_turns",
    "open_session",
    "session_ties",
    "take_attendance",
    "teach",
]


@compiled
def group_session(
    draws: np.ndarray,
    members: np.ndarray,
    keys: np.ndarray,
    strength: np.ndarray,
    n: int,
    st: StudentArrays,
    climate: float,
    tension: float,
    setting: float,
    warmth: float,
    facilitation: float,
    stage_conflict: float,
    cap: float,
    working: bool,
    params: np.ndarray,
) -> tuple[
    float, float, np.ndarray, int, int, float, int, np.ndarray, np.ndarray, np.ndarray, np.ndarray
]:
    """One group's session, on its members' ties read from the tie store's arrays.

    The members' ties are copied into a k x k matrix the session updates in place; `draws`
    are the session's uniforms (`session_draws`). Returns the climate and tension after it,
    the members present (local indices), turns offered and taken, the summed depth disclosed
    and how many disclosures it sums, the members' tie matrix, and the members' ties as pairs
    for the store (`session_ties`).
    """
    p = params[0]
    tie = k.dense(keys, strength, members, n)
    before = tie.copy()
    used = np.zeros(tie.shape, dtype=np.bool_)
    size = len(members)
    present = take_attendance(draws[: 2 * size], members, st, climate, p)
    climate, tension = open_session(
        members[present], tie, st, climate, tension, setting, warmth, facilitation,
        stage_conflict, p,
    )  # fmt: skip
    offered, taken, depth_sum, disclosed = hold_turns(
        draws[2 * size :], members, present, tie, used, st, climate, tension, cap, facilitation, p
    )
    if working:
        teach(members[present], st, p)
    pair_keys, pair_strength, pair_used = session_ties(n, members, tie, used, before)
    return (
        climate, tension, present, offered, taken, depth_sum, disclosed, tie, pair_keys,
        pair_strength, pair_used,
    )  # fmt: skip


@compiled
def session_ties(
    n: int, members: np.ndarray, tie: np.ndarray, used: np.ndarray, before: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The members' ties after a session, as pairs for the tie store's merge (`set_pairs`).

    Every member pair with a tie after the session or before it (`before`: the tie matrix the
    session started from), with its strength and whether it was used this session (a used
    mark stays until the week's decay): pair keys, strengths and marks. A tie the session
    weakened to nothing (`mechanisms.weaken_tie` with `exchange.tie_loss` 1 in a room felt as
    cold) comes back at strength 0, and the store's merge drops it (`kernel.set_pairs`).
    """
    size = len(members)
    held = 0
    for i in range(size):
        for j in range(i + 1, size):
            held += tie[i, j] > 0 or before[i, j] > 0
    pair_keys = np.empty(held, dtype=np.int64)
    pair_strength = np.empty(held)
    pair_used = np.empty(held, dtype=np.bool_)
    h = 0
    for i in range(size):  # row by row, as numpy's triu_indices
        for j in range(i + 1, size):
            if tie[i, j] > 0 or before[i, j] > 0:
                pair_keys[h] = k.pair_key(members[i], members[j], n)
                pair_strength[h] = tie[i, j]
                pair_used[h] = used[i, j]
                h += 1
    return pair_keys, pair_strength, pair_used


@compiled
def take_attendance(
    draws: np.ndarray,
    members: np.ndarray,
    st: StudentArrays,
    climate: float,
    p: SessionParameters,
) -> np.ndarray:
    """Who comes to this session, and who drops out after repeated absences (ODD 7.3b).

    `draws`: two uniforms per member, used or not (as numpy's random((2, k)): a row of
    `comes`, one of `leaves`). Returns the local indices of the members present.
    """
    k_ = len(members)
    chance = k.attendance_probability(
        st.resolve[members], st.rapport[members], climate, st.anxiety[members],
        p.attendance_intercept, p.attendance_resolve, p.attendance_rapport,
        p.attendance_climate, p.attendance_anxiety,
    )  # fmt: skip
    present = np.zeros(k_, dtype=np.bool_)
    for i in range(k_):
        m = members[i]
        if st.dropped_out[m]:
            continue
        if draws[i] < chance[i]:
            present[i] = True
            st.attended[m] += 1
            st.absent_streak[m] = 0
        else:
            st.absent_streak[m] += 1
            if st.absent_streak[m] >= p.dropout_after and draws[k_ + i] < p.dropout_chance:
                st.dropped_out[m] = True
    return np.flatnonzero(present)


@compiled
def open_session(
    here: np.ndarray,
    tie: np.ndarray,
    st: StudentArrays,
    climate: float,
    tension: float,
    setting: float,
    warmth: float,
    facilitation: float,
    stage_conflict: float,
    p: SessionParameters,
) -> tuple[float, float]:
    """Tension and climate move toward their targets; present clients' rapport grows.

    ODD 7.1b, 7.1, 7.2. Returns the session's climate and tension.
    """
    calm = 0.5 * (setting + facilitation)
    mean_anxiety = st.anxiety[here].mean() if len(here) else 0.0
    spread = st.attitude[here].std() if len(here) else 0.0
    target = k.tension_target(
        mean_anxiety, spread, stage_conflict, calm, p.tension_anxiety, p.tension_mismatch,
        p.tension_calming,
    )  # fmt: skip
    tension = k.update_tension(tension, target, p.tension_rate)
    pairs = len(tie) * (len(tie) - 1) / 2.0
    cohesion = tie.sum() / 2.0 / pairs if pairs else 0.0
    target = k.climate_target(
        setting, cohesion, tension, p.climate_setting_weight, p.climate_tension_weight
    )
    climate = k.update_climate(climate, target, p.climate_rate)
    st.rapport[here] = k.grow_rapport(
        st.rapport[here], warmth, climate, st.anxiety[here], p.rapport_rate,
        p.rapport_anxiety_inhibition,
    )  # fmt: skip
    return climate, tension


@compiled
def hold_turns(
    draws: np.ndarray,
    members: np.ndarray,
    present: np.ndarray,
    tie: np.ndarray,
    used: np.ndarray,
    st: StudentArrays,
    climate: float,
    tension: float,
    cap: float,
    facilitation: float,
    p: SessionParameters,
) -> tuple[int, int, float, int]:
    """The session's turns: each goes to a present member, who takes it or stays silent.

    A member who takes the turn speaks with a partner chosen by tie strength (ODD 7.3,
    7.4). `draws`: four uniforms per turn, used or not (as numpy's random((4, turns)): turn,
    take, pick, success). Returns turns offered and taken, the summed depth disclosed and the
    disclosures.
    """
    offered, taken, depth_sum, disclosed = 0, 0, 0.0, 0
    if len(present) < 2:  # nobody to talk with
        return offered, taken, depth_sum, disclosed
    here = members[present]
    willing = k.facilitate(
        k.engagement_probability(
            st.sociability[here], st.resolve[here], st.anxiety[here], climate,
            p.engagement_intercept, p.engagement_sociability, p.engagement_resolve,
            p.inhibition,
        ),
        facilitation,
    )  # fmt: skip
    for t in range(p.turns):
        speaker = int(draws[t] * len(present))
        offered += 1
        if draws[p.turns + t] >= willing[speaker]:
            continue  # the turn passes in silence
        taken += 1
        i = present[speaker]
        others = present[present != i]
        weights = k.partner_weights(tie[i][others], p.partner_base_weight)
        chosen = np.searchsorted(np.cumsum(weights), draws[2 * p.turns + t], side="right")
        j = others[min(chosen, len(others) - 1)]  # guard float round-off
        success, depth_a, depth_b = group_exchange(
            members, tie, used, st, i, j, climate, cap, draws[3 * p.turns + t], tension, p
        )
        if success:
            depth_sum += depth_a + depth_b
            disclosed += 2
    return offered, taken, depth_sum, disclosed


@compiled
def group_exchange(
    members: np.ndarray,
    tie: np.ndarray,
    used: np.ndarray,
    st: StudentArrays,
    i: int,
    j: int,
    climate: float,
    cap: float,
    draw: float,
    tension: float,
    p: SessionParameters,
) -> tuple[bool, float, float]:
    """An exchange between members i and j (local indices) in a session (ODD 7.4-7.6).

    `draw` is the exchange's uniform random number; `tension` the group's. Returns whether
    it went well and the depths the two disclosed.
    """
    a, b = members[i], members[j]
    w = tie[i, j]
    p_success = k.exchange_success_probability(
        st.skill[a], st.skill[b], climate, w, p.exchange_intercept, p.exchange_skill,
        p.exchange_climate, p.exchange_tie,
    )  # fmt: skip
    if draw >= p_success:
        # A rebuff in a tense group stings as in a colder room (ODD 7.1b, 7.4).
        felt = k.felt_climate(climate, tension)
        fail_exchange(st, a, felt, p)
        fail_exchange(st, b, felt, p)
        tie[i, j] = tie[j, i] = k.weaken_tie(w, p.tie_loss, felt)
        return False, 0.0, 0.0
    # Self-disclosure met well: deeper ties, more openness (social penetration).
    depth_a = disclose(st, a, climate, cap, p)
    depth_b = disclose(st, b, climate, cap, p)
    gain = p.tie_gain + p.tie_bonus * 0.5 * (depth_a + depth_b)
    tie[i, j] = tie[j, i] = min(1.0, k.strengthen_tie(w, gain))
    used[i, j] = used[j, i] = True
    for m in (a, b):
        learned = k.learning_weight(st.responsiveness[m], w, p.novelty)
        relief = min(1.0, p.anxiety_relief * learned)
        st.anxiety[m] = k.relieve_anxiety(st.anxiety[m], relief, climate)
        st.skill[m] = k.practice_skill(st.skill[m], min(1.0, p.skill_gain * learned))
    epsilon = k.confidence_bound(climate, p.confidence_bound, p.confidence_climate)
    st.attitude[a], st.attitude[b] = k.bounded_confidence(
        st.attitude[a], st.attitude[b], epsilon, p.convergence
    )
    return True, depth_a, depth_b


@compiled
def fail_exchange(st: StudentArrays, m: int, climate: float, p: SessionParameters) -> None:
    """A failed exchange stings (more for the sensitive, in a colder room); `m` closes up.

    A sensitive member may also conclude that interaction is not worth it: their view of it
    (attitude) falls by `exchange.disillusion` x sensitivity, as far as the room felt unsafe.
    """
    sting = min(1.0, p.anxiety_sting * st.sensitivity[m])
    st.anxiety[m] = k.sting_anxiety(st.anxiety[m], sting, climate)
    disillusion = min(1.0, p.disillusion * st.sensitivity[m])
    st.attitude[m] = k.withdraw(st.attitude[m], disillusion, climate)
    st.disclosure[m] = k.withdraw(st.disclosure[m], p.withdrawal, climate)
    st.openness[m] = k.withdraw(st.openness[m], p.withdrawal, climate)


@compiled
def disclose(
    st: StudentArrays, student: int, climate: float, cap: float, p: SessionParameters
) -> float:
    """A student's self-disclosure in a good exchange (ODD 7.5); returns its depth."""
    depth = k.disclosure_depth(
        st.openness[student], st.rapport[student], climate, cap, p.openness_weight,
        p.rapport_weight, p.climate_weight,
    )  # fmt: skip
    st.disclosure[student] = max(st.disclosure[student], depth)
    gain = min(1.0, p.openness_gain * st.responsiveness[student])
    st.openness[student] = k.open_up(st.openness[student], depth, gain)
    return depth


@compiled
def teach(here: np.ndarray, st: StudentArrays, p: SessionParameters) -> None:
    """Psychoeducation in a working session pulls present clients' views through rapport.

    How far a client moves also depends on their responsiveness (what they take from a
    session).
    """
    rate = np.minimum(1.0, p.psychoeducation_rate * st.responsiveness[here])
    st.attitude[here] = k.psychoeducation(
        st.attitude[here], st.rapport[here], rate, p.counselor_view
    )
