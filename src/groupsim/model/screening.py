"""Initialisation and screening (ODD 5): starting ties, choosing the clients, their friends.

`initial_ties` draws the starting network (compiled); `screen_clients` gives every student the
screening questionnaire and forms the counseling groups from the least socially active
(`select_groups`, by `group.selection`); `friends_of` names the clients' friends at screening.

Example:
    >>> import numpy as np
    >>> order = np.array([5, 2, 7, 0, 1, 3, 4, 6])  # least active first
    >>> faculty = np.repeat([0, 1], 4)
    >>> rng = np.random.default_rng(0)
    >>> [g.tolist() for g in select_groups(order, faculty, 2, 2, 2, "lowest", 1.0, rng)]
    [[5, 7], [2, 0]]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from groupsim.model import kernel
from groupsim.model import mechanisms as mech
from groupsim.model.agents import CounselingGroup, Counselor
from groupsim.model.measures import QUESTIONNAIRE
from groupsim.model.roster import explicit_groups
from groupsim.model.ties import TieStore

if TYPE_CHECKING:
    from groupsim.model.model import HomeRoomModel

__all__ = [
    "draw_counselor",
    "friends_of",
    "initial_ties",
    "screen_clients",
    "select_groups",
]


@kernel.compiled
def initial_ties(
    faculty: np.ndarray,
    faculty_start: np.ndarray,
    faculty_size: int,
    mean_ties: float,
    in_faculty_share: float,
    rng: Any,
) -> tuple[np.ndarray, np.ndarray]:
    """Random starting friendships: mostly inside faculties (homophily), some across.

    Each student starts Poisson(mean_ties / 2) ties (so the mean degree is about
    `mean_ties`); a partner is a faculty mate with probability `in_faculty_share`, otherwise
    anyone. Strengths are uniform in [0.15, 0.6]: acquaintances to friends, no close ties yet.
    Returns the ties as the store keeps them (`TieStore.of_pairs`): keys in order, strengths.

    `rng`: a numpy Generator or a `kernel.RandomStream` of one. In this order: each
    student's ties started; then for every tie started, student by student, a uniform (a
    faculty mate below `in_faculty_share`), a faculty mate, anyone (both partners drawn, one
    used) and a strength. A tie to oneself is dropped; a pair started twice keeps its first
    strength. numba's Generator methods draw numpy's own numbers: the same ties as those
    calls in Python (tested against them, `tests/test_kernel.py`).
    """
    rng = kernel.generator_of(rng)
    n = len(faculty)
    starts = kernel.poisson_draws(rng, mean_ties / 2.0, n)
    total = starts.sum()
    inside = rng.random(total)
    mate = rng.integers(0, faculty_size, total)
    anyone = rng.integers(0, n, total)
    strength = rng.uniform(0.15, 0.6, total)
    keys = np.empty(total, dtype=np.int64)
    kept = 0
    started = 0
    for a in range(n):
        for _ in range(starts[a]):
            j = started
            started += 1
            b = faculty_start[faculty[a]] + mate[j] if inside[j] < in_faculty_share else anyone[j]
            if b != a:
                keys[kept], strength[kept] = kernel.pair_key(a, b, n), strength[j]
                kept += 1
    order = np.argsort(keys[:kept], kind="mergesort")  # a pair's first start first
    pairs = np.empty(kept, dtype=np.int64)
    strengths = np.empty(kept)
    distinct = 0
    for j in order:
        if distinct == 0 or pairs[distinct - 1] != keys[j]:
            pairs[distinct], strengths[distinct] = keys[j], strength[j]
            distinct += 1
    return pairs[:distinct], strengths[:distinct]


def select_groups(
    order: np.ndarray,
    faculty: np.ndarray,
    faculties: int,
    groups: int,
    size: int,
    selection: str,
    screened_share: float,
    rng: np.random.Generator,
) -> list[np.ndarray]:
    """Members of each group, from students ordered least active first (ODD 5, Screening)."""
    if selection == "lowest":
        chosen = order[: groups * size]
        return [chosen[g::groups] for g in range(groups)]  # deal ranks out like cards
    if selection == "random_screened":
        pool = order[: int(np.floor(screened_share * len(order)))]
        chosen = rng.choice(pool, size=groups * size, replace=False)
        return [chosen[g * size : (g + 1) * size] for g in range(groups)]
    # Each faculty's students, least active first: one stable sort of the ranking by faculty.
    ranked_faculty = faculty[order]
    by_faculty = order[np.argsort(ranked_faculty, kind="stable")]
    ends = np.cumsum(np.bincount(ranked_faculty, minlength=faculties)).tolist()
    queues = [by_faculty[start:end] for start, end in zip([0, *ends[:-1]], ends, strict=True)]
    taken = [0] * faculties
    if selection == "within_faculty":
        result = []
        for g in range(groups):
            f = g % faculties
            result.append(np.array(queues[f][taken[f] : taken[f] + size]))
            taken[f] += size
        return result
    return [_across_faculties(order, queues, taken, size, rng) for _ in range(groups)]


def _across_faculties(
    order: np.ndarray,
    queues: list[np.ndarray],
    taken: list[int],
    size: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """One group spread evenly over the faculties, the extra seats at random.

    Takes the members off the front of the faculties' `queues` (advancing `taken`).
    """
    faculties = len(queues)
    left = np.array([len(q) for q in queues]) - np.array(taken)
    per = np.minimum(np.full(faculties, size // faculties), left)
    room = np.flatnonzero(left > per)
    extra = min(size - int(per.sum()), len(room))
    # No extra seat, no draw (numpy's choice of none draws nothing, and costs ~20 us).
    if extra and len(room) == faculties:
        per[rng.choice(faculties, size=extra, replace=False)] += 1
    elif extra:
        per[rng.choice(room, size=extra, replace=False)] += 1
    members: list[int] = []
    for f in range(faculties):
        members.extend(queues[f][taken[f] : taken[f] + per[f]].tolist())
        taken[f] += int(per[f])
    # Faculties that ran out leave seats: fill them with the least active students left
    # (taken off their faculty's queue, behind the part already handed out).
    while len(members) < size:
        rest = [(q[taken[f]], f) for f, q in enumerate(queues) if taken[f] < len(q)]
        rank = {int(student): i for i, student in enumerate(order)}
        student, f = min(rest, key=lambda pair: rank[int(pair[0])])
        members.append(student)
        taken[f] += 1
    return np.array(members)


def screen_clients(model: HomeRoomModel) -> list[CounselingGroup]:
    """Choose the groups: the least socially active students on a screening questionnaire.

    Marks the clients in `model.states.client` and keeps their screening totals in
    `model.questionnaire`; with `group.screening = "pretest"` the screening questionnaire is
    the pre-test itself.
    """
    c = model.config
    screening = QUESTIONNAIRE.totals(model.social_interaction, model.measurement_rng)
    if model.roster is not None:  # a cohort from data was screened already: its own totals
        screening = model.roster.screening_totals
    order = np.lexsort((np.arange(model.n), screening))  # lowest first, ties by id
    if c.group.client_ids:
        members = explicit_groups(model, c.group.client_ids, c.program.groups)
    else:
        members = select_groups(
            order,
            model.states.faculty,
            c.cohort.faculties,
            c.program.groups,
            c.group.clients,
            c.group.selection,
            c.group.screened_share,
            model.population_rng,
        )
    groups = []
    for number, ids in enumerate(members):
        counselor = draw_counselor(model)
        setting = mech.climate_setting(
            counselor.warmth, c.practices["home_setting"], c.climate.formal_setting
        )
        # Before the first session the room already carries the counselor's setting; the
        # cohesion part of the target is still zero (the members are strangers).
        climate = mech.climate_target(setting, 0.0, 0.0, c.climate.setting_weight, 0.0)
        groups.append(CounselingGroup(number, np.sort(ids), counselor, setting, climate))
    clients = np.sort(np.concatenate(members))
    model.states.client[clients] = True
    model.questionnaire["screening"] = screening[clients].astype(float)
    if c.group.screening == "pretest":
        model.questionnaire["pre"] = model.questionnaire["screening"]
    return groups


def draw_counselor(model: HomeRoomModel) -> Counselor:
    """A group's counselor: warmth and facilitation drawn around the scenario's (ODD 5).

    Drawn from the model's own counselor stream (two standard normals per counselor, used or
    not), so the arms of a comparison get the same counselors.
    """
    c = model.config.counselor
    z_warmth, z_facilitation = model.counselor_rng.standard_normal(2)
    return Counselor(
        model,
        model.config.technique_name,
        # Compiled: the C library's log and tanh, the same last bits on every CPU (numpy's
        # differ with AVX-512 and AVX2, see docs/reliability.md).
        kernel.counselor_trait(c.warmth, c.warmth_sd, float(z_warmth)),
        kernel.counselor_trait(c.facilitation, c.facilitation_sd, float(z_facilitation)),
    )


def friends_of(ties: TieStore, clients: np.ndarray) -> np.ndarray:
    """The non-clients tied to a client (sorted ids): where spill-over would show first."""
    is_client = np.zeros(ties.n, dtype=bool)
    is_client[clients] = True
    src, dst = ties.sources, ties.targets
    touching = is_client[src] | is_client[dst]
    candidates = np.concatenate([src[touching], dst[touching]])
    return np.unique(candidates[~is_client[candidates]])
