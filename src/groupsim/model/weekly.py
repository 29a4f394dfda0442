"""The week after the group sessions, compiled: decay (ODD 3, step 3; 7.9) and measurement (7.10).

`decay_week`, `count_contacts` and `score_students` run in the compiled week
(`groupsim.model.week_kernel.run_weeks`; the set-up's first measurement calls the last two from
`HomeRoomModel`), and run the mechanisms themselves (`mechanisms.decay_tie`, `drift_toward`,
`resolve_from`; `measures.update_contact_rate`, `social_interaction_score`, compiled by
`groupsim.model.kernel`). The burn-in's weeks of campus life alone (campus week,
decay, contact count: ODD 5) run as one compiled call, `burn_in_weeks`, with the very same
loops, so a run passes the campus random stream into compiled code once for the whole burn-in.
None of this draws random numbers but the campus week, which draws from `model.campus_rng` in
the same order as week by week.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from groupsim.model import kernel as k
from groupsim.model.agents import TRAIT_BASELINES
from groupsim.model.campus import campus_week
from groupsim.model.kernel import compiled

if TYPE_CHECKING:
    from groupsim.model.model import HomeRoomModel
    from groupsim.scenario import Scenario

__all__ = [
    "WeekEndParameters",
    "burn_in_weeks",
    "count_contacts",
    "decay_week",
    "run_burn_in",
    "score_students",
    "week_end_parameters",
]


class WeekEndParameters(NamedTuple):
    """The scenario's numbers decay and measurement read: the fields of `week_end_parameters`.

    The compiled loops' `p` is that record (`params[0]`): its fields by these names.
    """

    tie_decay: float
    tie_floor: float
    state_drift: float
    resolve_attitude: float
    resolve_control: float
    resolve_calm: float
    contact_memory: float
    contact_scale: float
    tie_scale: float


def week_end_parameters(c: Scenario) -> np.ndarray:
    """Decay's and measurement's parameters, read from a scenario once per run.

    A one-element record array of `WeekEndParameters`' fields, as the compiled code takes it
    (`kernel.parameter_record`).
    """
    return k.parameter_record(WeekEndParameters(
        c.decay.tie_decay, c.decay.tie_floor, c.decay.state_drift, c.resolve.attitude_weight,
        c.resolve.control_weight, c.resolve.calm_weight, c.measurement.contact_memory,
        c.measurement.contact_scale, c.measurement.tie_scale,
    ))  # fmt: skip


def drifting_states(model: HomeRoomModel) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
    """The states that drift (`agents.TRAIT_BASELINES`) and their baselines, as tuples."""
    s = model.states
    return tuple(getattr(s, name) for name in TRAIT_BASELINES), tuple(
        s.baseline[name] for name in TRAIT_BASELINES
    )


@compiled
def decay_week(
    keys: np.ndarray,
    strength: np.ndarray,
    used: np.ndarray,
    drifting: tuple[np.ndarray, ...],
    baselines: tuple[np.ndarray, ...],
    attitude: np.ndarray,
    skill: np.ndarray,
    anxiety: np.ndarray,
    resolve: np.ndarray,
    params: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unused ties weaken and may drop; states drift toward baselines; resolve follows.

    The states are changed in place; returns the tie arrays (`kernel.decay_ties`).
    `params`: `week_end_parameters`' record.
    """
    p = params[0]
    keys, strength, used = k.decay_ties(keys, strength, used, p.tie_decay, p.tie_floor)
    for i in range(len(drifting)):
        drifting[i][:] = k.drift_toward(drifting[i], baselines[i], p.state_drift)
    resolve[:] = k.resolve_from(
        attitude, skill, anxiety, p.resolve_attitude, p.resolve_control, p.resolve_calm
    )
    return keys, strength, used


@compiled
def count_contacts(contact_rate: np.ndarray, contacts: np.ndarray, params: np.ndarray) -> None:
    """This week's good exchanges move the contact frequency (in place); the count restarts.

    `params`: `week_end_parameters`' record.
    """
    contact_rate[:] = k.update_contact_rate(contact_rate, contacts, params[0].contact_memory)
    contacts[:] = 0.0


@compiled
def score_students(
    keys: np.ndarray,
    strength: np.ndarray,
    contact_rate: np.ndarray,
    skill: np.ndarray,
    attitude: np.ndarray,
    anxiety: np.ndarray,
    params: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Every student's summed tie strength and latent social interaction score (ODD 7.10).

    `params`: `week_end_parameters`' record.
    """
    p = params[0]
    strength_sum = k.strength_sums(keys, strength, len(contact_rate))
    score = k.social_interaction_score(
        contact_rate, strength_sum, skill, attitude, anxiety, p.contact_scale, p.tie_scale
    )
    return strength_sum, score


@compiled
def burn_in_weeks(
    weeks: int,
    rng: np.random.Generator,
    keys: np.ndarray,
    strength: np.ndarray,
    used: np.ndarray,
    sociability: np.ndarray,
    resolve: np.ndarray,
    anxiety: np.ndarray,
    skill: np.ndarray,
    attitude: np.ndarray,
    contacts: np.ndarray,
    contact_rate: np.ndarray,
    drifting: tuple[np.ndarray, ...],
    baselines: tuple[np.ndarray, ...],
    faculty: np.ndarray,
    faculty_start: np.ndarray,
    faculty_sizes: np.ndarray,
    campus: np.ndarray,
    params: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Campus life alone, `weeks` times: campus week, decay, contact count (ODD 5).

    `campus`, `params`: the records of `campus.campus_parameters` and `week_end_parameters`.
    """
    for _ in range(weeks):
        keys, strength, used = campus_week(
            rng, keys, strength, used, sociability, resolve, anxiety, skill, attitude,
            contacts, faculty, faculty_start, faculty_sizes, campus,
        )  # fmt: skip
        keys, strength, used = decay_week(
            keys, strength, used, drifting, baselines, attitude, skill, anxiety, resolve, params
        )
        count_contacts(contact_rate, contacts, params)
    return keys, strength, used


def run_burn_in(model: HomeRoomModel, weeks: int) -> None:
    """The burn-in's weeks in one compiled call (`burn_in_weeks`) on the model's arrays."""
    s = model.states
    ties = model.ties
    drifting, baselines = drifting_states(model)
    ties.keys, ties.strength, ties.used = burn_in_weeks(
        weeks, model.campus_stream, ties.keys, ties.strength, ties.used, s.sociability,
        s.resolve, s.anxiety, s.skill, s.attitude, s.contacts_this_week, s.contact_rate,
        drifting, baselines, s.faculty, model.faculty_start, model.faculty_sizes,
        model.campus_parameters, model.week_end_parameters,
    )  # fmt: skip
    ties.changed()
    model.ties_changed()
