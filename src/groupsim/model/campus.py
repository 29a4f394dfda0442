"""Campus life (ODD 3, step 2; 7.8): every student's contact opportunities in a week, at once.

Partners are drawn and exchanges judged against the states and ties at the start of the
week; their effects are then applied together. Draws from `model.campus_rng`; the arithmetic
is in `groupsim.model.mechanisms`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from groupsim.model import mechanisms as mech

if TYPE_CHECKING:
    from groupsim.model.model import HomeRoomModel

__all__ = [
    "CAMPUS_CHANNELS",
    "campus_meetings",
    "learn_on_campus",
    "pick_campus_partners",
    "run_campus_week",
    "strengthen_campus_ties",
]

CAMPUS_CHANNELS = ("tie", "closure", "faculty", "anyone")


def run_campus_week(model: HomeRoomModel) -> None:
    """Everyone's contact opportunities this week, all at once (ODD 3, step 2; 7.8).

    Partners are drawn and exchanges judged against the states and ties at the start of
    the week; their effects are then applied together (a student with several good
    exchanges gets the effect of each, `times` in the mechanisms).
    """
    a, b = campus_meetings(model, model.campus_rng)
    if len(a) == 0:
        return
    x = model.config.exchange
    s = model.states
    climate = model.config.climate.campus
    p_success = mech.exchange_success_probability(
        s.skill[a], s.skill[b], climate, model.ties.lookup(a, b), x.intercept, x.skill,
        x.climate, x.tie,
    )  # fmt: skip
    success = model.campus_rng.random(len(a)) < p_success
    strengthen_campus_ties(model, a[success], b[success])
    learn_on_campus(model, a, b, success)


def campus_meetings(
    model: HomeRoomModel, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Who meets whom this week: opportunities, engagement, channel, partner (ODD 7.8)."""
    c = model.config
    s = model.states
    shares = np.array([c.campus.along_ties, c.campus.triadic_closure, c.campus.same_faculty, 0.0])
    shares[3] = max(0.0, 1.0 - shares[:3].sum())
    opportunities = rng.poisson(c.campus.contacts_per_week, size=model.n)
    probability = np.asarray(
        mech.engagement_probability(
            s.sociability,
            s.resolve,
            s.anxiety,
            c.climate.campus,
            c.engagement.intercept,
            c.engagement.sociability,
            c.engagement.resolve,
            c.engagement.inhibition,
        )
    )
    seekers = np.repeat(np.arange(model.n), opportunities)
    seekers = seekers[rng.random(len(seekers)) < probability[seekers]]
    channel = rng.choice(len(CAMPUS_CHANNELS), size=len(seekers), p=shares)
    partner = pick_campus_partners(model, seekers, channel, rng)
    met = (partner >= 0) & (partner != seekers)
    return seekers[met], partner[met]


def strengthen_campus_ties(model: HomeRoomModel, a: np.ndarray, b: np.ndarray) -> None:
    """Each pair's tie is strengthened once per good exchange this week (ODD 7.4)."""
    gain = model.config.exchange.tie_gain
    keys = model.ties.pair_keys(a, b)
    unique_keys, times = np.unique(keys, return_counts=True)
    lo, hi = unique_keys // model.n, unique_keys % model.n
    strength = np.asarray(mech.strengthen_tie(model.ties.lookup(lo, hi), gain, times))
    grown = strength > 0  # with tie_gain = 0 strangers stay strangers: no empty ties
    model.ties.set(lo[grown], hi[grown], strength[grown], used=True)
    model.ties_changed()


def learn_on_campus(
    model: HomeRoomModel, a: np.ndarray, b: np.ndarray, success: np.ndarray
) -> None:
    """The week's campus exchanges change anxiety, skill, attitude and contacts."""
    c = model.config
    x = c.exchange
    s = model.states
    climate = c.climate.campus
    learning = x.campus_learning
    both = np.concatenate
    good = np.bincount(both([a[success], b[success]]), minlength=model.n)
    bad = np.bincount(both([a[~success], b[~success]]), minlength=model.n)
    s.anxiety[:] = mech.relieve_anxiety(s.anxiety, x.anxiety_relief * learning, climate, good)
    s.anxiety[:] = mech.sting_anxiety(s.anxiety, x.anxiety_sting * learning, climate, bad)
    s.skill[:] = mech.practice_skill(s.skill, x.skill_gain * learning, good)
    epsilon = mech.confidence_bound(
        climate, c.attitude.confidence_bound, c.attitude.confidence_climate
    )
    speaker = both([a[success], b[success]])
    listener = both([b[success], a[success]])
    s.attitude[:] = mech.bounded_confidence_heard(
        s.attitude, speaker, listener, epsilon, c.attitude.convergence
    )
    # Contact frequency is everyday campus contact: what a questionnaire asks about,
    # and where a gain made in the group has to show.
    s.contacts_this_week += good
    model.update_resolve()


def pick_campus_partners(
    model: HomeRoomModel, seekers: np.ndarray, channel: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Whom each seeker meets through its channel (ODD 7.8); -1 for nobody.

    `tie`: a friend by tie strength; `closure`: a friend's friend (triadic closure);
    `faculty`: a faculty mate (homophily); `anyone`: any student. Without friends,
    `tie` and `closure` fall back to a faculty mate.
    """
    partner = np.full(len(seekers), -1, dtype=np.int64)
    via_friend = np.flatnonzero(channel <= 1)
    friend = model.ties.sample_neighbours(seekers[via_friend], rng)
    has_friend = friend >= 0
    direct = (channel[via_friend] == 0) & has_friend
    partner[via_friend[direct]] = friend[direct]
    walk = (channel[via_friend] == 1) & has_friend
    partner[via_friend[walk]] = model.ties.sample_neighbours(friend[walk], rng)
    to_faculty = np.concatenate([np.flatnonzero(channel == 2), via_friend[~has_friend]])
    faculty = model.states.faculty[seekers[to_faculty]]
    # Per-faculty sizes (a cohort from data has unequal faculties); the same numbers as a
    # scalar size when the faculties are equal.
    partner[to_faculty] = model.faculty_start[faculty] + rng.integers(
        0, model.faculty_sizes[faculty]
    )
    anyone = np.flatnonzero(channel == 3)
    partner[anyone] = rng.integers(0, model.n, size=len(anyone))
    return partner
