"""Group sessions (ODD 3, step 1; 7.1-7.6): attendance, tension, climate, rapport, turns.

Every group holds the week's session among the members who came, turn by turn, on the
members' k x k tie matrix; the ties go back to the model's tie store at the end
(`run_group_sessions`). A session has time for a fixed number of turns (its length over a
turn's), shared by whoever is present, so each member's airtime falls as the group grows.

`run_group_session` hands one group's arrays to the compiled session (`group_session`, through
`groupsim.model.kernel`), which copies the members' ties out of the tie store, runs, in the
ODD's order, `take_attendance`, `open_session`, `hold_turns` (each turn's `group_exchange`, with
`disclose` or `fail_exchange`) and, in the working stage, `teach`, and hands back the members'
ties as pairs (`session_ties`); their arithmetic is the mechanisms of
`groupsim.model.mechanisms`, compiled. `run_group_sessions` writes every group's pairs into the
tie store at once (`kernel.set_pairs`): one merge a session, not one a group, which at campus
scale (250 groups among 100,000 students) would copy the whole store once per group.

One compiled call a group session, and a cheap one to make: a session is a few dozen small
steps, so most of its time went into getting in and out of compiled code. Its random numbers
are drawn from `model.group_rng` in Python, all at once, and handed over as an array
(`session_draws`; numba takes ~20 us to unbox a `numpy.random.Generator`). They are the same
numbers in the same order: two uniforms per member, then four per turn, used or not, so the
arms of a comparison stay in step. The scenario's numbers go in as a numpy record
(`session_parameters`), read in place, where a NamedTuple of 44 numbers was unboxed field by
field (~8 us a call).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple, get_type_hints

import numpy as np

from groupsim.model import kernel as k
from groupsim.model import mechanisms as mech
from groupsim.model.kernel import compiled
from groupsim.model.recording import cohesion, density, disclosed_share

if TYPE_CHECKING:
    from groupsim.model.agents import CounselingGroup, StudentStates
    from groupsim.model.model import HomeRoomModel
    from groupsim.model.schedule import Session
    from groupsim.scenario import Scenario

__all__ = [
    "PARAMETER_DTYPE",
    "SessionParameters",
    "StudentArrays",
    "depth_cap",
    "disclose",
    "facilitation",
    "fail_exchange",
    "group_exchange",
    "group_session",
    "hold_turns",
    "open_session",
    "run_group_session",
    "run_group_sessions",
    "session_draws",
    "session_parameters",
    "session_row",
    "session_ties",
    "student_arrays",
    "take_attendance",
    "teach",
]


class StudentArrays(NamedTuple):
    """The state arrays a session reads and changes (views of `model.states`)."""

    sociability: np.ndarray
    openness: np.ndarray
    anxiety: np.ndarray
    skill: np.ndarray
    attitude: np.ndarray
    resolve: np.ndarray
    rapport: np.ndarray
    disclosure: np.ndarray
    responsiveness: np.ndarray
    sensitivity: np.ndarray
    attended: np.ndarray
    absent_streak: np.ndarray
    dropped_out: np.ndarray


def student_arrays(s: StudentStates) -> StudentArrays:
    """The model's state arrays as the compiled session takes them (no copies)."""
    return StudentArrays(*(getattr(s, name) for name in StudentArrays._fields))


class SessionParameters(NamedTuple):
    """The scenario's numbers a session reads: the fields of `session_parameters`' record.

    The compiled loops' `p` is that record (`params[0]`): its fields by these names.
    """

    attendance_intercept: float
    attendance_resolve: float
    attendance_rapport: float
    attendance_climate: float
    attendance_anxiety: float
    dropout_after: int
    dropout_chance: float
    tension_anxiety: float
    tension_mismatch: float
    tension_calming: float
    tension_rate: float
    climate_setting_weight: float
    climate_tension_weight: float
    climate_rate: float
    rapport_rate: float  # with the technique's family tone
    rapport_anxiety_inhibition: float
    turns: int
    engagement_intercept: float
    engagement_sociability: float
    engagement_resolve: float
    inhibition: float  # relieved by the technique's informality
    partner_base_weight: float
    exchange_intercept: float
    exchange_skill: float
    exchange_climate: float
    exchange_tie: float
    tie_gain: float
    tie_loss: float
    novelty: float
    anxiety_relief: float
    anxiety_sting: float
    skill_gain: float
    disillusion: float
    withdrawal: float
    tie_bonus: float
    openness_weight: float
    rapport_weight: float
    climate_weight: float
    openness_gain: float
    confidence_bound: float
    confidence_climate: float
    convergence: float
    psychoeducation_rate: float
    counselor_view: float


#: `SessionParameters` as a numpy record type, which the compiled session reads in place.
PARAMETER_DTYPE = np.dtype(
    [
        (name, np.int64 if kind is int else np.float64)
        for name, kind in get_type_hints(SessionParameters).items()
    ]
)


def session_parameters(c: Scenario, practices: dict[str, float]) -> np.ndarray:
    """A session's parameters from a scenario and the technique's practices, read once.

    Returns a one-element record array of `PARAMETER_DTYPE` (`params[0]["turns"]`, ...), as
    the compiled session takes it.
    """
    params = np.zeros(1, dtype=PARAMETER_DTYPE)
    params[0] = parameter_values(c, practices)
    return params


def parameter_values(c: Scenario, practices: dict[str, float]) -> SessionParameters:
    """The values of `session_parameters`, field by field."""
    a, x, d, e = c.attendance, c.exchange, c.disclosure, c.engagement
    rapport_rate = c.rapport.rate * (1.0 + c.rapport.family_tone_boost * practices["family_tone"])
    return SessionParameters(
        a.intercept, a.resolve, a.rapport, a.climate, a.anxiety, int(a.dropout_after),
        a.dropout_chance, c.tension.anxiety_weight, c.tension.mismatch_weight,
        c.tension.calming, c.tension.rate, c.climate.setting_weight, c.climate.tension_weight,
        c.climate.rate, rapport_rate, c.rapport.anxiety_inhibition,
        mech.turns_in_session(c.program.session_minutes, c.group.turn_minutes),
        e.intercept, e.sociability, e.resolve,
        mech.relieved_inhibition(e.inhibition, practices["informality"], e.informality_relief),
        c.group.partner_base_weight, x.intercept, x.skill, x.climate, x.tie, x.tie_gain,
        x.tie_loss, x.novelty, x.anxiety_relief, x.anxiety_sting, x.skill_gain, x.disillusion,
        d.withdrawal, d.tie_bonus, d.openness_weight, d.rapport_weight, d.climate_weight,
        d.openness_gain, c.attitude.confidence_bound, c.attitude.confidence_climate,
        c.attitude.convergence, c.attitude.psychoeducation_rate, c.attitude.counselor_view,
    )  # fmt: skip


def run_group_sessions(model: HomeRoomModel, session: Session) -> None:
    """Every group holds this session, in the order of their numbers; resolve is recomputed.

    The groups' ties go back to the tie store together, after the last group's session.
    Groups have no members in common, so no group's session reads a tie another changed:
    the order of groups does not matter, and one merge gives the store each group's return
    would have given.
    """
    returned = [model.run_group_session(group, session) for group in model.groups]
    if returned:
        pair_keys, pair_strength, pair_used = (
            np.concatenate(part) for part in zip(*returned, strict=True)
        )
        ties = model.ties
        ties.keys, ties.strength, ties.used = k.set_pairs(
            ties.keys, ties.strength, ties.used, pair_keys, pair_strength, pair_used
        )
        ties.changed()
    model.ties_changed()
    model.update_resolve()


def run_group_session(
    model: HomeRoomModel, group: CounselingGroup, session: Session
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One session: attendance, tension and climate, rapport, turns, teaching (ODD 3, step 1).

    Returns the members' ties after the session as pairs for the tie store (`session_ties`:
    pair keys, strengths, used marks; `run_group_sessions` writes them); the session's row goes
    to `model.session_rows`.
    """
    members = group.members
    ties = model.ties
    outcome = group_session(
        session_draws(model.group_rng, len(members), model.session_parameters), members,
        ties.keys, ties.strength, ties.n, student_arrays(model.states),
        group.climate, group.tension, group.setting, group.counselor.warmth,
        facilitation(model, group), getattr(model.config.tension, session.stage),
        depth_cap(model, session), session.stage == "working", model.session_parameters,
    )  # fmt: skip
    group.climate, group.tension, present, offered, taken, depth_sum, disclosed, tie = outcome[:8]
    group.sessions_held += 1
    turns = (offered, taken, depth_sum / disclosed if disclosed else 0.0)
    model.session_rows.append(session_row(model, group, session, tie, present, turns))
    return outcome[8:]


def session_draws(rng: np.random.Generator, members: int, params: np.ndarray) -> np.ndarray:
    """A session's uniforms, in the order the session uses them (ODD 7.3, 7.3b).

    Two per member (`take_attendance`: comes, leaves), then four per turn (`hold_turns`: the
    member, taking the turn, the partner, the exchange's success), every one used or not.
    Drawn at once they are the numbers the two loops would draw in turn: each uniform takes
    the generator's next 64 bits.
    """
    return rng.random(2 * members + 4 * int(params[0]["turns"]))


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
    pair_keys, pair_strength, pair_used = session_ties(n, members, tie, used)
    return (
        climate, tension, present, offered, taken, depth_sum, disclosed, tie, pair_keys,
        pair_strength, pair_used,
    )  # fmt: skip


@compiled
def session_ties(
    n: int, members: np.ndarray, tie: np.ndarray, used: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The members' ties after a session, as pairs for the tie store's merge (`set_pairs`).

    Every member pair with a tie, with its strength and whether it was used this session (a
    used mark stays until the week's decay): pair keys, strengths and marks.
    """
    size = len(members)
    held = 0
    for i in range(size):
        for j in range(i + 1, size):
            held += tie[i, j] > 0
    pair_keys = np.empty(held, dtype=np.int64)
    pair_strength = np.empty(held)
    pair_used = np.empty(held, dtype=np.bool_)
    h = 0
    for i in range(size):  # row by row, as numpy's triu_indices
        for j in range(i + 1, size):
            if tie[i, j] > 0:
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
    return float(min(1.0, cap))


def session_row(
    model: HomeRoomModel,
    group: CounselingGroup,
    session: Session,
    tie: np.ndarray,
    present: np.ndarray,
    turns: tuple[int, int, float],
) -> dict[str, Any]:
    """The sessions table's row for one group's session (turns: offered, taken, mean depth)."""
    c = model.config
    offered, taken, mean_depth = turns
    return {
        "group": group.number,
        "session": session.number,
        "week": session.week,
        "stage": session.stage,
        "climate": group.climate,
        "tension": group.tension,
        "attendance": len(present) / len(group.members),
        "engagement": taken / offered if offered else 0.0,
        "disclosure_depth": mean_depth,
        "group_density": density(tie),
        "group_cohesion": cohesion(tie),
        "clients_disclosed_share": disclosed_share(
            model.states.disclosure[group.members], c.disclosure.personal_threshold
        ),
    }
