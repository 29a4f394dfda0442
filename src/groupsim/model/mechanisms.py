"""The model's mechanisms as small pure functions (ODD section 7, Submodels).

Each function takes numbers or numpy arrays (plain arithmetic, so both work) and returns new
values; none reads or changes the model.
`HomeRoomModel` calls them in the order the ODD gives. Section numbers refer to docs/ODD.md.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

#: A state of one student (a float) or of many (an array of float64), as the caller gives.
type Values = NDArray[np.floating[Any]] | float
#: How many times an event happened to each student (one count, or an array of counts).
type Counts = NDArray[np.int64] | int

__all__ = [
    "attendance_probability",
    "bounded_confidence",
    "bounded_confidence_heard",
    "climate_setting",
    "climate_target",
    "confidence_bound",
    "counselor_trait",
    "decay_tie",
    "disclosure_depth",
    "drift_toward",
    "engagement_probability",
    "exchange_success_probability",
    "facilitate",
    "felt_climate",
    "grow_rapport",
    "learning_weight",
    "logistic",
    "open_up",
    "partner_weights",
    "practice_skill",
    "practised_facilitation",
    "psychoeducation",
    "relieve_anxiety",
    "relieved_inhibition",
    "resolve_from",
    "sting_anxiety",
    "strengthen_tie",
    "tension_target",
    "turns_in_session",
    "update_climate",
    "update_tension",
    "weaken_tie",
    "withdraw",
]


def logistic(x: Values) -> Values:
    """The standard logistic function, numerically safe for large |x|."""
    return 0.5 * (1.0 + np.tanh(0.5 * x))


# 7.1 Climate -------------------------------------------------------------------------------


def climate_setting(warmth: float, home_setting: float, formal_setting: float) -> float:
    """The climate a counselor's setting alone creates (ODD 7.1).

    A formal room passes on `formal_setting` of the counselor's warmth; a home-like room
    (carpet seating, flowers, snacks: the home room practice `home_setting`) raises that
    share toward all of it: `warmth * (formal + (1 - formal) * home_setting)`.
    """
    return warmth * (formal_setting + (1.0 - formal_setting) * home_setting)


def climate_target(
    setting: float, cohesion: float, tension: float, setting_weight: float, tension_weight: float
) -> float:
    """Where the climate heads: the setting plus the cohesion built, less the group's tension."""
    target = setting_weight * setting + (1.0 - setting_weight) * cohesion
    return max(0.0, target - tension_weight * tension)


def update_climate(climate: float, target: float, rate: float) -> float:
    """One session's move of the climate toward its target: `climate += rate*(target-climate)`."""
    return climate + rate * (target - climate)


# 7.2 Rapport -------------------------------------------------------------------------------


def grow_rapport(
    rapport: Values,
    warmth: float,
    climate: float,
    anxiety: Values,
    rate: float,
    anxiety_inhibition: float,
) -> Values:
    """Each present client's trust in the counselor after a session (ODD 7.2).

    Faster with warmth in a safe climate, slower for an anxious client:
    `rapport += g * (1 - rapport)` with `g = rate * warmth * climate * (1 - anxiety_inhibition *
    anxiety)`, at most 1 (so rapport never passes full trust, whatever the rate).
    """
    growth = np.minimum(1.0, rate * warmth * climate * (1.0 - anxiety_inhibition * anxiety))
    return rapport + growth * (1.0 - rapport)


def counselor_trait(mean: float, spread: float, z: float) -> float:
    """One counselor's warmth or facilitation: logit-normal around the scenario's value.

    `logistic(logit(mean) + spread * z)` for a standard normal `z`; `spread = 0` gives
    `mean` itself (every counselor alike).
    """
    if spread == 0.0:
        return mean
    p = min(max(mean, 1e-6), 1.0 - 1e-6)
    return float(logistic(np.log(p / (1.0 - p)) + spread * z))


# 7.1b Tension ------------------------------------------------------------------------------


def tension_target(
    mean_anxiety: float,
    attitude_spread: float,
    stage_conflict: float,
    calm: float,
    anxiety_weight: float,
    mismatch_weight: float,
    calming: float,
) -> float:
    """Where a group's tension heads in a session (Prayitno's reluctance; Tuckman's storming).

    Anxious and mismatched members (the SD of their views) raise it, saturating below 1; the
    stage sets how much conflict it allows (most in the transition); a warm room and a
    facilitating counselor (`calm`, 0-1) take a share `calming` of it away.
    """
    pressure = anxiety_weight * mean_anxiety + mismatch_weight * attitude_spread
    return stage_conflict * pressure / (1.0 + pressure) * (1.0 - calming * calm)


def felt_climate(climate: float, tension: float) -> float:
    """The safety a member feels when rebuffed: the climate, less the group's tension.

    A failed exchange in a tense group hurts as in a colder room (`max(0, climate - tension)`).
    """
    return max(0.0, climate - tension)


def update_tension(tension: float, target: float, rate: float) -> float:
    """One session's move of the tension toward its target."""
    return tension + rate * (target - tension)


# 7.3b Attendance ---------------------------------------------------------------------------


def attendance_probability(
    resolve: Values,
    rapport: Values,
    climate: float,
    anxiety: Values,
    intercept: float,
    resolve_weight: float,
    rapport_weight: float,
    climate_weight: float,
    anxiety_weight: float,
) -> Values:
    """Chance a client comes to a session (ODD 7.3b).

    Resolve, trust in the counselor and a good climate last time draw a client in; social
    anxiety keeps them away (avoidance).
    """
    return logistic(
        intercept
        + resolve_weight * resolve
        + rapport_weight * rapport
        + climate_weight * climate
        - anxiety_weight * anxiety
    )


def turns_in_session(session_minutes: float, turn_minutes: float) -> int:
    """How many exchanges a session has time for: its length over a turn's (at least 1).

    A group shares them: the larger the group, the fewer turns each member gets.
    """
    return max(1, round(session_minutes / turn_minutes))


# 7.3 Engagement ----------------------------------------------------------------------------


def engagement_probability(
    sociability: Values,
    resolve: Values,
    anxiety: Values,
    climate: float,
    intercept: float,
    sociability_weight: float,
    resolve_weight: float,
    inhibition: float,
) -> Values:
    """Chance a student takes part in a round (or seizes a campus contact opportunity).

    Rises with sociability and resolve; anxiety inhibits, but only as far as the climate is
    unsafe (`anxiety * (1 - climate)`): in a safe room anxious students still speak.
    """
    logit = (
        intercept
        + sociability_weight * sociability
        + resolve_weight * resolve
        - inhibition * anxiety * (1.0 - climate)
    )
    return logistic(logit)


def facilitate(probability: Values, facilitation: float) -> Values:
    """Turn-taking: the counselor lifts each member toward the most engaged one.

    The least engaged gain most and the most engaged are unchanged, so quiet members are
    not left out: `p + facilitation * (max(p) - p)`.
    """
    p = np.asarray(probability, dtype=np.float64)
    if p.size == 0:
        return p
    return p + facilitation * (p.max() - p)


def practised_facilitation(facilitation: float, turn_taking: float, share: float) -> float:
    """The facilitation a counselor achieves: the share that needs structured turn-taking."""
    return facilitation * (1.0 - share + share * turn_taking)


def relieved_inhibition(inhibition: float, informality: float, relief: float) -> float:
    """Inhibition by anxiety in a session; an informal meeting removes a share `relief` of it."""
    return inhibition * (1.0 - relief * informality)


# 7.4 Exchange ------------------------------------------------------------------------------


def partner_weights(tie_strength: Values, base_weight: float) -> Values:
    """Normalised chances of choosing each partner: friends first, strangers still met."""
    w = np.asarray(tie_strength, dtype=np.float64) + base_weight
    return w / w.sum()


def exchange_success_probability(
    skill_a: Values,
    skill_b: Values,
    climate: float,
    tie_strength: Values,
    intercept: float,
    skill_weight: float,
    climate_weight: float,
    tie_weight: float,
) -> Values:
    """Chance that an exchange between two students goes well (logistic; ODD 7.4)."""
    mean_skill = 0.5 * (skill_a + skill_b)
    return logistic(
        intercept + skill_weight * mean_skill + climate_weight * climate + tie_weight * tie_strength
    )


def strengthen_tie(tie_strength: Values, gain: float, times: Counts = 1) -> Values:
    """A good exchange moves a tie toward 1: `w += gain * (1 - w)` (a stranger starts at 0).

    `times` good exchanges in a row: `1 - (1 - w) * (1 - gain) ** times`.
    """
    gain = min(max(gain, 0.0), 1.0)
    return 1.0 - (1.0 - tie_strength) * (1.0 - gain) ** times


def learning_weight(responsiveness: Values, tie_strength: Values, novelty: float) -> Values:
    """How much a student takes from one good exchange (ODD 7.4).

    Practising with someone already close teaches less than with someone new
    (`responsiveness * (1 - novelty * tie_strength)`), so a very small group, whose members
    soon know each other well, offers less to learn from.
    """
    return responsiveness * (1.0 - novelty * tie_strength)


def weaken_tie(tie_strength: Values, loss: float, climate: float) -> Values:
    """A failed exchange costs a tie a share of its strength, as far as the room is unsafe."""
    return tie_strength * (1.0 - loss * (1.0 - climate))


def relieve_anxiety(anxiety: Values, relief: float, climate: float, times: Counts = 1) -> Values:
    """A successful exchange lowers anxiety by a share of what is left, as far as it felt safe.

    Exposure reduces social anxiety when the experience is safe and successful; the same
    success in a tense room teaches less (`anxiety * (1 - relief * climate)`, per success).
    """
    return anxiety * (1.0 - relief * climate) ** times


def sting_anxiety(anxiety: Values, sting: float, climate: float, times: Counts = 1) -> Values:
    """A failed exchange raises anxiety a little; a safe climate cushions the failure.

    Per failure `anxiety += sting * (1 - climate) * (1 - anxiety)`.
    """
    return 1.0 - (1.0 - anxiety) * (1.0 - sting * (1.0 - climate)) ** times


def practice_skill(skill: Values, gain: float, times: Counts = 1) -> Values:
    """Practice in a good exchange raises communication skill toward 1.

    Per exchange `skill += gain * (1 - skill)`.
    """
    return 1.0 - (1.0 - skill) * (1.0 - gain) ** times


# 7.5 Self-disclosure -----------------------------------------------------------------------


def disclosure_depth(
    openness: Values,
    rapport: Values,
    climate: float,
    stage_depth: float,
    openness_weight: float,
    rapport_weight: float,
    climate_weight: float,
) -> Values:
    """How deep a student discloses in a good exchange (social penetration theory).

    Limited by the stage (small talk while forming, deep talk in the working stage) and by a
    weighted mean of the student's openness, trust in the counselor and the room's safety.
    """
    readiness = openness_weight * openness + rapport_weight * rapport + climate_weight * climate
    return stage_depth * readiness


def open_up(openness: Values, depth: Values, gain: float) -> Values:
    """Disclosure met well makes a student more open (reciprocity of disclosure)."""
    return openness + gain * depth * (1.0 - openness)


def withdraw(level: Values, withdrawal: float, climate: float) -> Values:
    """After a bad response a student takes back a share of what they had opened (ODD 7.5).

    `level * (1 - withdrawal * (1 - climate))`: applied to the disclosure depth reached and
    to openness; a safe room cushions it.
    """
    return level * (1.0 - withdrawal * (1.0 - climate))


# 7.6 Attitude ------------------------------------------------------------------------------


def psychoeducation(
    attitude: Values, rapport: Values, rate: Values, counselor_view: float
) -> Values:
    """The counselor's teaching pulls clients' views toward a fixed anchor, through rapport."""
    return attitude + rate * rapport * (counselor_view - attitude)


def confidence_bound(climate: float, base: float, widening: float) -> float:
    """Deffuant's epsilon: how different a peer's view may be and still be heard.

    A safe climate widens it (members listen to views further from their own).
    """
    return min(1.0, base + widening * climate)


def bounded_confidence(
    attitude_a: float, attitude_b: float, epsilon: float, convergence: float
) -> tuple[float, float]:
    """Deffuant-Weisbuch peer influence: close enough views move toward each other by mu."""
    gap = attitude_b - attitude_a
    if abs(gap) >= epsilon:
        return attitude_a, attitude_b
    return attitude_a + convergence * gap, attitude_b - convergence * gap


def bounded_confidence_heard(
    attitude: np.ndarray,
    speaker: np.ndarray,
    listener: np.ndarray,
    epsilon: float,
    convergence: float,
) -> Values:
    """Deffuant peer influence for a week of campus exchanges at once.

    Each listener moves by `convergence` toward the mean of the views it heard within
    epsilon (pairs are given in both directions). Taking the mean of the week's pulls, not
    their sequence, keeps the move a convex step however many peers were heard.
    """
    gap = attitude[speaker] - attitude[listener]
    heard = np.abs(gap) < epsilon
    n = len(attitude)
    pull = np.bincount(listener[heard], gap[heard], n)
    count = np.bincount(listener[heard], minlength=n)
    return attitude + convergence * pull / np.maximum(count, 1)


# 7.7 Resolve -------------------------------------------------------------------------------


def resolve_from(
    attitude: Values,
    skill: Values,
    anxiety: Values,
    attitude_weight: float,
    control_weight: float,
    calm_weight: float,
) -> Values:
    """Intention to interact (theory of planned behaviour): attitude, perceived control, calm."""
    return attitude_weight * attitude + control_weight * skill + calm_weight * (1.0 - anxiety)


# 7.9 Decay ---------------------------------------------------------------------------------


def decay_tie(tie_strength: Values, rate: float) -> Values:
    """An unused tie loses a share of its strength (the cost of keeping a tie)."""
    return tie_strength * (1.0 - rate)


def drift_toward(state: Values, baseline: Values, rate: float) -> Values:
    """States drift back toward the student's trait baseline each week."""
    return state + rate * (baseline - state)
