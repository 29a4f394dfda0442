"""Campus life (ODD 3, step 2; 7.8): every student's contact opportunities in a week, at once.

Partners are drawn and exchanges judged against the states and ties at the start of the
week; their effects are then applied together (a student with several good exchanges gets
the effect of each, `times` in the mechanisms). `campus_week`, compiled
(`groupsim.model.kernel`), runs inside the compiled week (`groupsim.model.week_kernel`); it
draws from `model.campus_rng` (handed over as `model.campus_stream`, a
`kernel.RandomStream`) and runs the mechanisms of
`groupsim.model.mechanisms` (compiled) in this order:
`campus_meetings` (opportunities, engagement, channel, `pick_campus_partners`), the exchanges'
success, `strengthen_campus_ties`, `learn_on_campus`. In the burn-in the same `campus_week` runs
inside one compiled call for all the burn-in's weeks (`groupsim.model.weekly.burn_in_weeks`),
so the stream is handed to compiled code once, not once a week.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from groupsim.model import kernel as k
from groupsim.model.kernel import compiled

if TYPE_CHECKING:
    from groupsim.scenario import Scenario

__all__ = [
    "CAMPUS_CHANNELS",
    "CampusParameters",
    "campus_meetings",
    "campus_parameters",
    "campus_week",
    "count_by_pair",
    "learn_on_campus",
    "meet_faculty_mates",
    "meet_friends",
    "pick_campus_partners",
    "strengthen_campus_ties",
]

CAMPUS_CHANNELS = ("tie", "closure", "faculty", "anyone")


class CampusParameters(NamedTuple):
    """The scenario's numbers campus life reads: the fields of `campus_parameters`' record.

    The compiled loops' `p` is that record (`params[0]`): its fields by these names.
    """

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


def campus_parameters(c: Scenario) -> np.ndarray:
    """Campus life's parameters, read from a scenario once per run.

    A one-element record array of `CampusParameters`' fields, as the compiled campus week
    takes it (`kernel.parameter_record`).
    """
    shares = np.array([c.campus.along_ties, c.campus.triadic_closure, c.campus.same_faculty, 0.0])
    shares[3] = max(0.0, 1.0 - shares[:3].sum())
    cdf = shares.cumsum()  # as numpy's Generator.choice(p=shares) turns shares into draws
    cdf /= cdf[-1]
    x = c.exchange
    return k.parameter_record(CampusParameters(
        float(c.campus.contacts_per_week), cdf, c.climate.campus,
        c.engagement.intercept, c.engagement.sociability, c.engagement.resolve,
        c.engagement.inhibition, x.intercept, x.skill, x.climate, x.tie, x.tie_gain,
        x.anxiety_relief * x.campus_learning, x.anxiety_sting * x.campus_learning,
        x.skill_gain * x.campus_learning, c.attitude.confidence_bound,
        c.attitude.confidence_climate, c.attitude.convergence, c.resolve.attitude_weight,
        c.resolve.control_weight, c.resolve.calm_weight,
    ))  # fmt: skip


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
    params: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The campus week on the state arrays (changed in place); returns the tie arrays.

    `rng`: a numpy Generator or a `kernel.RandomStream` of one (the model's
    `campus_stream`); `params`: `campus_parameters`' record.
    """
    rng = k.generator_of(rng)
    p = params[0]
    n = len(sociability)
    a, b = campus_meetings(
        rng, keys, strength, sociability, resolve, anxiety, faculty, faculty_start,
        faculty_sizes, p,
    )  # fmt: skip
    if len(a) == 0:
        return keys, strength, used
    # Each meeting's pair is found in the tie store once: its success reads the tie there,
    # and strengthening writes it there.
    pairs, place, found = k.find_pairs(keys, n, a, b)
    p_success = np.empty(len(a))
    for i in range(len(a)):
        tie = strength[place[i]] if found[i] else 0.0
        p_success[i] = k.exchange_success_probability(
            skill[a[i]], skill[b[i]], p.climate, tie, p.exchange_intercept, p.exchange_skill,
            p.exchange_climate, p.exchange_tie,
        )  # fmt: skip
    success = rng.random(len(a)) < p_success
    keys, strength, used = strengthen_campus_ties(
        keys, strength, used, pairs, place, found, success, p.tie_gain
    )
    learn_on_campus(a, b, success, anxiety, skill, attitude, contacts, p)
    for i in range(n):
        resolve[i] = k.resolve_from(
            attitude[i], skill[i], anxiety[i], p.resolve_attitude, p.resolve_control,
            p.resolve_calm,
        )  # fmt: skip
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
    opportunities = k.poisson_draws(rng, p.contacts_per_week, n)
    draws = rng.random(opportunities.sum())  # one per opportunity, student by student
    seekers = np.empty(len(draws), dtype=np.int64)
    count, d = 0, 0
    for i in range(n):
        if opportunities[i] == 0:
            continue
        probability = k.engagement_probability(
            sociability[i], resolve[i], anxiety[i], p.climate, p.engagement_intercept,
            p.engagement_sociability, p.engagement_resolve, p.engagement_inhibition,
        )  # fmt: skip
        # Written every time, kept when it engages: a branch on a draw is mispredicted half
        # the time, which cost more than the comparisons (the same seekers).
        for _ in range(opportunities[i]):
            seekers[count] = i
            count += draws[d] < probability
            d += 1
    seekers = seekers[:count]
    channel = np.empty(count, dtype=np.int64)
    draws = rng.random(count)
    for i in range(count):  # as numpy's choice(p=shares): the first share past the draw
        channel[i] = k.search_right(p.channel_cdf, draws[i], 0, len(p.channel_cdf))
    partner = pick_campus_partners(
        rng, keys, strength, n, seekers, channel, faculty, faculty_start, faculty_sizes
    )
    a = np.empty(count, dtype=np.int64)
    b = np.empty(count, dtype=np.int64)
    met = 0
    for i in range(count):
        if partner[i] >= 0 and partner[i] != seekers[i]:
            a[met], b[met] = seekers[i], partner[i]
            met += 1
    return a[:met], b[:met]


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
    `tie` and `closure` fall back to a faculty mate. The draws come channel by channel, in
    seeker order: friends, friends' friends, faculty mates (those without friends last),
    anyone.
    """
    indptr, cols, _, cumulative = k.build_csr(keys, strength, n)
    m = len(seekers)
    partner = np.full(m, -1, dtype=np.int64)
    via_friend = np.empty(m, dtype=np.int64)  # the seekers of each channel, in order
    to_faculty = np.empty(m, dtype=np.int64)  # then those without friends
    anyone = np.empty(m, dtype=np.int64)
    friends, mates, strangers = 0, 0, 0
    for i in range(m):  # without branches, as the seekers: each list keeps its own
        via_friend[friends], to_faculty[mates], anyone[strangers] = i, i, i
        friends += channel[i] <= 1
        mates += channel[i] == 2
        strangers += channel[i] == 3
    via_friend, anyone = via_friend[:friends], anyone[:strangers]
    lonely = meet_friends(rng, indptr, cols, cumulative, partner, seekers, channel, via_friend)
    to_faculty[mates : mates + len(lonely)] = lonely
    mates += len(lonely)
    meet_faculty_mates(
        rng, partner, seekers, to_faculty[:mates], faculty, faculty_start, faculty_sizes
    )
    drawn = rng.integers(0, n, strangers)
    for j in range(strangers):
        partner[anyone[j]] = drawn[j]
    return partner


@compiled
def meet_friends(
    rng: np.random.Generator,
    indptr: np.ndarray,
    cols: np.ndarray,
    cumulative: np.ndarray,
    partner: np.ndarray,
    seekers: np.ndarray,
    channel: np.ndarray,
    via_friend: np.ndarray,
) -> np.ndarray:
    """A friend (channel 0) or a friend's friend (1) for each seeker `via_friend`.

    Written to `partner`; the friends are drawn first, then their friends. Returns the
    seekers without friends, in order.
    """
    friend = k.sample_neighbours(indptr, cols, cumulative, seekers[via_friend], rng)
    walkers = np.empty(len(via_friend), dtype=np.int64)  # who walks on, in `via_friend`
    lonely = np.empty(len(via_friend), dtype=np.int64)
    walks, alone = 0, 0
    for j in range(len(via_friend)):
        if friend[j] < 0:
            lonely[alone] = via_friend[j]
            alone += 1
        elif channel[via_friend[j]] == 0:
            partner[via_friend[j]] = friend[j]
        else:
            walkers[walks] = j
            walks += 1
    walkers = walkers[:walks]
    walked = k.sample_neighbours(indptr, cols, cumulative, friend[walkers], rng)
    for w in range(walks):
        partner[via_friend[walkers[w]]] = walked[w]
    return lonely[:alone]


@compiled
def meet_faculty_mates(
    rng: np.random.Generator,
    partner: np.ndarray,
    seekers: np.ndarray,
    to_faculty: np.ndarray,
    faculty: np.ndarray,
    faculty_start: np.ndarray,
    faculty_sizes: np.ndarray,
) -> None:
    """A faculty mate, drawn in order, for each seeker `to_faculty` (in `partner`)."""
    own = faculty[seekers[to_faculty]]
    sizes = faculty_sizes[own]
    if len(sizes) > 0 and (sizes == sizes[0]).all():
        offsets = rng.integers(0, sizes[0], len(to_faculty))
    else:  # a cohort from data has faculties of unequal sizes (`model.roster`)
        offsets = np.empty(len(to_faculty), dtype=np.int64)
        for j in range(len(to_faculty)):
            offsets[j] = rng.integers(0, sizes[j])
    for j in range(len(to_faculty)):
        partner[to_faculty[j]] = faculty_start[own[j]] + offsets[j]


@compiled
def strengthen_campus_ties(
    keys: np.ndarray,
    strength: np.ndarray,
    used: np.ndarray,
    pairs: np.ndarray,
    place: np.ndarray,
    found: np.ndarray,
    success: np.ndarray,
    gain: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each pair's tie is strengthened once per good exchange this week (ODD 7.4).

    `place` and `found`: where each meeting's pair is in the tie store (`kernel.find`).
    Good exchanges on a tie are counted at its place, in the store's key order; only the
    new pairs are sorted, to count them and to merge them in order.
    """
    on_tie = np.zeros(len(keys))
    fresh = np.empty(len(pairs), dtype=np.int64)
    count = 0
    for i in range(len(pairs)):
        if success[i] and found[i]:
            on_tie[place[i]] += 1.0
        elif success[i]:
            fresh[count] = i
            count += 1
    unique, times = count_by_pair(pairs, fresh[:count])
    distinct = len(unique)
    size = distinct + np.count_nonzero(on_tie)
    new_keys = np.empty(size, dtype=np.int64)
    grown = np.empty(size)
    new_place = np.empty(size, dtype=np.int64)
    new_found = np.empty(size, dtype=np.bool_)
    at = 0
    for t in range(len(keys)):
        if on_tie[t] > 0:
            new_keys[at], grown[at] = keys[t], k.strengthen_tie(strength[t], gain, on_tie[t])
            new_place[at], new_found[at] = t, True
            at += 1
    for u in range(distinct):
        i = unique[u]
        # With tie_gain = 0 strangers stay strangers: the store adds no tie at 0 (`set_pairs`).
        new_keys[at], grown[at] = pairs[i], k.strengthen_tie(0.0, gain, times[u])
        new_place[at], new_found[at] = place[i], False
        at += 1
    return k.set_found_pairs(
        keys, strength, used, new_place, new_found, new_keys, grown, np.ones(size, dtype=np.bool_)
    )


@compiled
def count_by_pair(pairs: np.ndarray, exchanges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct pairs of `exchanges` (indices into `pairs`), in key order.

    Returns each pair's first exchange and how many exchanges it had.
    """
    order = exchanges[np.argsort(pairs[exchanges])]  # a pair's exchanges together
    unique = np.empty(len(order), dtype=np.int64)
    times = np.empty(len(order))
    distinct = 0
    for i in range(len(order)):
        if i > 0 and pairs[order[i]] == pairs[order[i - 1]]:
            times[distinct - 1] += 1.0
        else:
            unique[distinct], times[distinct] = order[i], 1.0
            distinct += 1
    return unique[:distinct], times[:distinct]


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
    heard = success.sum()
    speaker = np.empty(2 * heard, dtype=np.int64)  # each good exchange in both directions
    listener = np.empty(2 * heard, dtype=np.int64)
    good = np.zeros(n)  # each student's good and failed exchanges this week
    bad = np.zeros(n)
    h = 0
    for i in range(len(a)):
        if success[i]:
            speaker[h], speaker[heard + h] = a[i], b[i]
            listener[h], listener[heard + h] = b[i], a[i]
            h += 1
            good[a[i]] += 1.0
            good[b[i]] += 1.0
        else:
            bad[a[i]] += 1.0
            bad[b[i]] += 1.0
    for i in range(n):
        anxiety[i] = k.relieve_anxiety(anxiety[i], p.relief, p.climate, good[i])
        anxiety[i] = k.sting_anxiety(anxiety[i], p.sting, p.climate, bad[i])
        skill[i] = k.practice_skill(skill[i], p.skill_gain, good[i])
    epsilon = k.confidence_bound(p.climate, p.confidence_bound, p.confidence_climate)
    attitude[:] = k.bounded_confidence_heard(attitude, speaker, listener, epsilon, p.convergence)
    # Contact frequency is everyday campus contact: what a questionnaire asks about,
    # and where a gain made in the group has to show.
    contacts += good
