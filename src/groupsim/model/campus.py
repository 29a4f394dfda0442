"""Campus life (ODD 3, step 2; 7.8): every student's contact opportunities in a week, at once.

Partners are drawn and exchanges judged against the states and ties at the start of the
week; their effects are then applied together. `run_campus_week` hands the model's arrays to
`campus_week`, compiled (`groupsim.model.kernel`), which draws from `model.campus_rng` and
runs the mechanisms of `groupsim.model.mechanisms` (compiled) in this order:
`campus_meetings` (opportunities, engagement, channel, `pick_campus_partners`), the exchanges'
success, `strengthen_campus_ties`, `learn_on_campus`. In the burn-in the same `campus_week` runs
inside one compiled call for all the burn-in's weeks (`groupsim.model.weekly.burn_in_weeks`),
so the Generator is handed to compiled code once, not once a week.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from groupsim.model import kernel as k
from groupsim.model.kernel import compiled

if TYPE_CHECKING:
    from groupsim.model.model import HomeRoomModel
    from groupsim.scenario import Scenario

__all__ = [
    "CAMPUS_CHANNELS",
    "CampusParameters",
    "campus_meetings",
    "campus_parameters",
    "campus_week",
    "learn_on_campus",
    "pick_campus_partners",
    "run_campus_week",
    "strengthen_campus_ties",
]

CAMPUS_CHANNELS = ("tie", "closure", "faculty", "anyone")


class CampusParameters(NamedTuple):
    """The scenario's numbers campus life reads, as the compiled code takes them."""

    contacts_per_week: float
    channel_cdf: np.ndarray  # cumulative shares of CAMPUS_CHANNELS (as numpy's choice)
    climate: float
    engagement_intercept: float
    engagement_sociability: float
    engagement_resolve: float
    engagement_inhibition: float
    exchange_intercept: float
    exchange_skill: float
    exchange_climate: float
    exchange_tie: float
    tie_gain: float
    relief: float  # anxiety relief per good exchange on campus (x campus_learning)
    sting: float
    skill_gain: float
    confidence_bound: float
    confidence_climate: float
    convergence: float
    resolve_attitude: float
    resolve_control: float
    resolve_calm: float


def campus_parameters(c: Scenario) -> CampusParameters:
    """Read campus life's parameters from a scenario once per run."""
    shares = np.array([c.campus.along_ties, c.campus.triadic_closure, c.campus.same_faculty, 0.0])
    shares[3] = max(0.0, 1.0 - shares[:3].sum())
    cdf = shares.cumsum()  # as numpy's Generator.choice(p=shares) turns shares into draws
    cdf /= cdf[-1]
    x = c.exchange
    return CampusParameters(
        float(c.campus.contacts_per_week), cdf, c.climate.campus,
        c.engagement.intercept, c.engagement.sociability, c.engagement.resolve,
        c.engagement.inhibition, x.intercept, x.skill, x.climate, x.tie, x.tie_gain,
        x.anxiety_relief * x.campus_learning, x.anxiety_sting * x.campus_learning,
        x.skill_gain * x.campus_learning, c.attitude.confidence_bound,
        c.attitude.confidence_climate, c.attitude.convergence, c.resolve.attitude_weight,
        c.resolve.control_weight, c.resolve.calm_weight,
    )  # fmt: skip


def run_campus_week(model: HomeRoomModel) -> None:
    """Everyone's contact opportunities this week, all at once (ODD 3, step 2; 7.8).

    Partners are drawn and exchanges judged against the states and ties at the start of
    the week; their effects are then applied together (a student with several good
    exchanges gets the effect of each, `times` in the mechanisms).
    """
    s = model.states
    ties = model.ties
    ties.keys, ties.strength, ties.used = campus_week(
        model.campus_rng, ties.keys, ties.strength, ties.used,
        s.sociability, s.resolve, s.anxiety, s.skill, s.attitude, s.contacts_this_week,
        s.faculty, model.faculty_start, model.faculty_sizes, model.campus_parameters,
    )  # fmt: skip
    ties.changed()
    model.ties_changed()


@compiled
def campus_week(
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
    faculty: np.ndarray,
    faculty_start: np.ndarray,
    faculty_sizes: np.ndarray,
    p: CampusParameters,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The campus week on the state arrays (changed in place); returns the tie arrays."""
    n = len(sociability)
    a, b = campus_meetings(
        rng, keys, strength, sociability, resolve, anxiety, faculty, faculty_start,
        faculty_sizes, p,
    )  # fmt: skip
    if len(a) == 0:
        return keys, strength, used
    pairs = np.minimum(a, b) * n + np.maximum(a, b)
    p_success = k.exchange_success_probability(
        skill[a], skill[b], p.climate, k.lookup(keys, strength, pairs), p.exchange_intercept,
        p.exchange_skill, p.exchange_climate, p.exchange_tie,
    )  # fmt: skip
    success = rng.random(len(a)) < p_success
    keys, strength, used = strengthen_campus_ties(keys, strength, used, pairs[success], p.tie_gain)
    learn_on_campus(a, b, success, anxiety, skill, attitude, contacts, p)
    resolve[:] = k.resolve_from(
        attitude, skill, anxiety, p.resolve_attitude, p.resolve_control, p.resolve_calm
    )
    return keys, strength, used


@compiled
def campus_meetings(
    rng: np.random.Generator,
    keys: np.ndarray,
    strength: np.ndarray,
    sociability: np.ndarray,
    resolve: np.ndarray,
    anxiety: np.ndarray,
    faculty: np.ndarray,
    faculty_start: np.ndarray,
    faculty_sizes: np.ndarray,
    p: CampusParameters,
) -> tuple[np.ndarray, np.ndarray]:
    """Who meets whom this week: opportunities, engagement, channel, partner (ODD 7.8)."""
    n = len(sociability)
    opportunities = rng.poisson(p.contacts_per_week, n)
    probability = k.engagement_probability(
        sociability, resolve, anxiety, p.climate, p.engagement_intercept,
        p.engagement_sociability, p.engagement_resolve, p.engagement_inhibition,
    )  # fmt: skip
    seekers = np.repeat(np.arange(n), opportunities)
    seekers = seekers[rng.random(len(seekers)) < probability[seekers]]
    channel = np.searchsorted(p.channel_cdf, rng.random(len(seekers)), side="right")
    partner = pick_campus_partners(
        rng, keys, strength, n, seekers, channel, faculty, faculty_start, faculty_sizes
    )
    met = (partner >= 0) & (partner != seekers)
    return seekers[met], partner[met]


@compiled
def pick_campus_partners(
    rng: np.random.Generator,
    keys: np.ndarray,
    strength: np.ndarray,
    n: int,
    seekers: np.ndarray,
    channel: np.ndarray,
    faculty: np.ndarray,
    faculty_start: np.ndarray,
    faculty_sizes: np.ndarray,
) -> np.ndarray:
    """Whom each seeker meets through its channel (ODD 7.8); -1 for nobody.

    `tie`: a friend by tie strength; `closure`: a friend's friend (triadic closure);
    `faculty`: a faculty mate (homophily); `anyone`: any student. Without friends,
    `tie` and `closure` fall back to a faculty mate.
    """
    indptr, cols, _, cumulative = k.build_csr(keys, strength, n)
    partner = np.full(len(seekers), -1, dtype=np.int64)
    via_friend = np.flatnonzero(channel <= 1)
    friend = k.sample_neighbours(indptr, cols, cumulative, seekers[via_friend], rng)
    has_friend = friend >= 0
    direct = (channel[via_friend] == 0) & has_friend
    partner[via_friend[direct]] = friend[direct]
    walk = (channel[via_friend] == 1) & has_friend
    partner[via_friend[walk]] = k.sample_neighbours(indptr, cols, cumulative, friend[walk], rng)
    to_faculty = np.concatenate((np.flatnonzero(channel == 2), via_friend[~has_friend]))
    mates = faculty_start[faculty[seekers[to_faculty]]]
    sizes = faculty_sizes[faculty[seekers[to_faculty]]]
    if len(sizes) > 0 and (sizes == sizes[0]).all():
        partner[to_faculty] = mates + rng.integers(0, sizes[0], len(to_faculty))
    else:  # a cohort from data has faculties of unequal sizes (`model.roster`)
        for j in range(len(to_faculty)):
            partner[to_faculty[j]] = mates[j] + rng.integers(0, sizes[j])
    anyone = np.flatnonzero(channel == 3)
    partner[anyone] = rng.integers(0, n, len(anyone))
    return partner


@compiled
def strengthen_campus_ties(
    keys: np.ndarray, strength: np.ndarray, used: np.ndarray, pairs: np.ndarray, gain: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each pair's tie is strengthened once per good exchange this week (ODD 7.4)."""
    pairs = np.sort(pairs)
    unique = np.empty(len(pairs), dtype=np.int64)
    times = np.empty(len(pairs))
    count = 0
    for i in range(len(pairs)):
        if i > 0 and pairs[i] == pairs[i - 1]:
            times[count - 1] += 1.0
        else:
            unique[count], times[count] = pairs[i], 1.0
            count += 1
    unique, times = unique[:count], times[:count]
    grown = k.strengthen_tie(k.lookup(keys, strength, unique), gain, times)
    keep = grown > 0  # with tie_gain = 0 strangers stay strangers: no empty ties
    return k.set_pairs(
        keys, strength, used, unique[keep], grown[keep], np.ones(keep.sum(), dtype=np.bool_)
    )


@compiled
def learn_on_campus(
    a: np.ndarray,
    b: np.ndarray,
    success: np.ndarray,
    anxiety: np.ndarray,
    skill: np.ndarray,
    attitude: np.ndarray,
    contacts: np.ndarray,
    p: CampusParameters,
) -> None:
    """The week's campus exchanges change anxiety, skill, attitude and contacts (in place)."""
    n = len(anxiety)
    speaker = np.concatenate((a[success], b[success]))
    listener = np.concatenate((b[success], a[success]))
    good = np.zeros(n)  # each student's good and failed exchanges this week
    bad = np.zeros(n)
    for i in range(len(a)):
        if success[i]:
            good[a[i]] += 1.0
            good[b[i]] += 1.0
        else:
            bad[a[i]] += 1.0
            bad[b[i]] += 1.0
    anxiety[:] = k.relieve_anxiety(anxiety, p.relief, p.climate, good)
    anxiety[:] = k.sting_anxiety(anxiety, p.sting, p.climate, bad)
    skill[:] = k.practice_skill(skill, p.skill_gain, good)
    epsilon = k.confidence_bound(p.climate, p.confidence_bound, p.confidence_climate)
    attitude[:] = k.bounded_confidence_heard(attitude, speaker, listener, epsilon, p.convergence)
    # Contact frequency is everyday campus contact: what a questionnaire asks about,
    # and where a gain made in the group has to show.
    contacts += good
