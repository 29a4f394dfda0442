"""What a group session takes in: the scenario's numbers, the students' arrays, the uniforms.

The compiled session (`groupsim.model.session_kernel.group_session`) reads three things made
here, each in the form that is cheapest to hand to compiled code:

- `session_parameters`: the scenario's numbers a session reads (`SessionParameters`), taken
  from the scenario once a run, as a one-element numpy record read in place
  (`kernel.parameter_record`); a NamedTuple of 44 numbers was unboxed field by field (~8 us a
  call).
- `student_arrays`: the model's state arrays a session reads and changes (`StudentArrays`),
  views, not copies; the model makes it once (`HomeRoomModel.student_arrays`).
- `session_draws`: a session's uniforms, drawn from the group stream all at once before the
  session (compiled: `week_kernel.hold_sessions` calls it), the numbers in the order the
  session's loops use them.

The session's loops are in `groupsim.model.session_kernel`; `groupsim.model.sessions` runs them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from groupsim.model import mechanisms as mech
from groupsim.model.kernel import compiled, parameter_record

if TYPE_CHECKING:
    from groupsim.model.agents import StudentStates
    from groupsim.scenario import Scenario

__all__ = [
    "SessionParameters",
    "StudentArrays",
    "parameter_values",
    "session_draws",
    "session_parameters",
    "student_arrays",
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


def session_parameters(c: Scenario, practices: dict[str, float]) -> np.ndarray:
    """A session's parameters from a scenario and the technique's practices, read once.

    Returns a one-element record array of `SessionParameters`' fields (`params[0]["turns"]`,
    ...), as the compiled session takes it (`kernel.parameter_record`).
    """
    return parameter_record(parameter_values(c, practices))


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


@compiled
def session_draws(rng: np.random.Generator, members: int, params: np.ndarray) -> np.ndarray:
    """A session's uniforms, in the order the session uses them (ODD 7.3, 7.3b).

    Two per member (`take_attendance`: comes, leaves), then four per turn (`hold_turns`: the
    member, taking the turn, the partner, the exchange's success), every one used or not.
    Drawn at once they are the numbers the two loops would draw in turn: each uniform takes
    the generator's next 64 bits.
    """
    return rng.random(2 * members + 4 * params[0].turns)
