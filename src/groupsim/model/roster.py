"""A cohort from data (ODD 5, Initialisation): real students in place of the drawn cohort.

A cohort file (:mod:`groupsim.scenario.cohort_file`) gives each real student one measured
number, the latent social-interaction score estimated from their answers, and optionally
the friendship network. The latent score is a composite (`measures.score_parts`): contact
frequency, ties, skill, attitude and calm, a fifth each. The other states are not measured.
`adopt_roster` gives every real student a full set of states whose score equals the
estimate, drawing the unmeasured ones conditional on it:

1. The model draws and settles its own cohort first (the scenario's trait distributions and
   burn-in, as without data). These settled students are the *donors*: draws from the
   model's own joint distribution of traits, contact frequency and ties.
2. Within each faculty, real students and donors are matched by rank of their latent score
   (quantile matching, Rubin's predictive mean matching with the score as the predictor):
   a real student takes over the rank-matched donor's sociability, openness, anxiety, skill,
   attitude, responsiveness, sensitivity and contact frequency, so the unmeasured states
   come from students of the same score level.
3. The network is the imported one (same edges; the strengths rescaled to the settled
   network's mean strength, `_network`); without a friendship survey, the donors' settled
   network among the chosen donors.
4. Skill, attitude and calm are then shifted by equal amounts (kept in [0, 1]) until the
   score, with the real network's ties, equals the estimate; their baselines move with them.

Example:
    >>> import numpy as np
    >>> share_shift(np.array([[0.5, 0.5, 0.5]]), np.array([2.1])).round(2).tolist()
    [[0.7, 0.7, 0.7]]
    >>> share_shift(np.array([[0.9, 0.5, 0.5]]), np.array([2.5])).round(2).tolist()
    [[1.0, 0.75, 0.75]]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from groupsim.model import kernel
from groupsim.model.agents import TRAIT_BASELINES, StudentStates
from groupsim.model.measures import SCORE_WEIGHTS, social_interaction_score
from groupsim.model.ties import TieStore
from groupsim.scenario.cohort_file import CohortData, read_cohort

if TYPE_CHECKING:
    from groupsim.model.model import HomeRoomModel

__all__ = ["Roster", "adopt_roster", "explicit_groups", "match_donors", "share_shift"]

#: States a real student takes over from the rank-matched donor.
DONOR_STATES = ("sociability", "openness", "anxiety", "skill", "attitude")
DONOR_EXTRAS = ("responsiveness", "sensitivity", "contact_rate")


@dataclass(frozen=True)
class Roster:
    """The real students behind a model: ids, screening totals, donors used, misfit."""

    data: CohortData
    donors: np.ndarray  # the drawn student each real student took the unmeasured states of
    unreached: np.ndarray  # |score - estimate| left where [0, 1] bounds stopped the shift

    @property
    def ids(self) -> tuple[str, ...]:
        """Each student's (pseudonymised) id, by student number."""
        return self.data.ids

    @property
    def screening_totals(self) -> np.ndarray:
        """The imported screening totals on the model's questionnaire."""
        return self.data.screening_total


def match_donors(
    latent: np.ndarray, faculty: np.ndarray, donor_score: np.ndarray, donor_faculty: np.ndarray
) -> np.ndarray:
    """For each real student, the donor of the same faculty at the same score quantile.

    Real students of faculty f, ranked by score, take the donors of faculty f at the evenly
    spaced quantiles (k + 1/2) / n_f of the donors' score ranking: distinct donors, the same
    order (no random numbers).
    """
    donors = np.empty(len(latent), dtype=np.int64)
    for f in np.unique(faculty):
        real = np.flatnonzero(faculty == f)
        pool = np.flatnonzero(donor_faculty == f)
        pool = pool[np.argsort(donor_score[pool], kind="stable")]
        real = real[np.argsort(latent[real], kind="stable")]
        at = np.floor((np.arange(len(real)) + 0.5) / len(real) * len(pool)).astype(np.int64)
        donors[real] = pool[at]
    return donors


def share_shift(values: np.ndarray, target_sum: np.ndarray, rounds: int = 4) -> np.ndarray:
    """Shift each row's values (in [0, 1]) by equal amounts until they sum to `target_sum`.

    What one value cannot take because of a bound is shared among the others (a few rounds);
    a target outside [0, columns] is met as closely as the bounds allow.
    """
    out = np.clip(values.astype(float), 0.0, 1.0)
    for _ in range(rounds):
        gap = target_sum - out.sum(axis=1)
        room = np.where(gap[:, None] > 0, out < 1.0, out > 0.0)
        count = room.sum(axis=1)
        step = np.divide(gap, count, out=np.zeros_like(gap), where=count > 0)
        out = np.clip(out + room * step[:, None], 0.0, 1.0)
    return out


def _network(model: HomeRoomModel, data: CohortData, donors: np.ndarray) -> TieStore:
    """The imported ties; without a survey, the donors' ties among the chosen donors.

    A survey's strengths are ordinal ("how often do you talk?"); the model's tie strength is
    its own scale. The imported strengths keep their order and ratios and are rescaled so
    that their mean is the settled drawn network's mean strength (then capped at 1).
    """
    ties = TieStore(data.n)
    if data.has_network:
        scale = model.ties.strength.mean() / data.tie_strength.mean() if len(model.ties) else 1.0
        ties.set(data.tie_source, data.tie_target, np.minimum(data.tie_strength * scale, 1.0))
        return ties
    new_number = np.full(model.n, -1, dtype=np.int64)
    new_number[donors] = np.arange(data.n)
    a, b = new_number[model.ties.sources], new_number[model.ties.targets]
    kept = (a >= 0) & (b >= 0)
    ties.set(a[kept], b[kept], model.ties.strength[kept])
    return ties


def adopt_roster(model: HomeRoomModel) -> Roster:
    """Replace the model's drawn (settled) cohort by the cohort file's students (ODD 5)."""
    data = read_cohort(model.config.cohort.data)
    old = model.states
    donors = match_donors(data.latent, data.faculty, model.social_interaction, old.faculty)
    states = StudentStates(
        faculty=data.faculty.copy(),
        client=np.zeros(data.n, dtype=bool),
        resolve=np.zeros(data.n),
        rapport=np.zeros(data.n),
        disclosure=np.zeros(data.n),
        contacts_this_week=np.zeros(data.n),
        attended=np.zeros(data.n, dtype=np.int64),
        absent_streak=np.zeros(data.n, dtype=np.int64),
        dropped_out=np.zeros(data.n, dtype=bool),
        **{name: getattr(old, name)[donors].copy() for name in DONOR_STATES + DONOR_EXTRAS},
    )
    states.baseline = {name: old.baseline[name][donors].copy() for name in TRAIT_BASELINES}
    ties = _network(model, data, donors)
    m = model.config.measurement
    # `measures.score_parts` compiled: the C library's exp, the same last bits on every CPU.
    terms = kernel.score_terms(
        states.contact_rate, ties.strength_sums(), states.skill, states.attitude,
        states.anxiety, m.contact_scale, m.tie_scale,
    )  # fmt: skip
    parts = dict(zip(SCORE_WEIGHTS, terms, strict=True))
    # The personal part (skill + attitude + calm) the estimate leaves after contact and ties.
    personal = (data.latent - parts["contact"] - parts["ties"]) / SCORE_WEIGHTS["skill"]
    before = np.column_stack([states.skill, states.attitude, 1.0 - states.anxiety])
    after = share_shift(before, personal)
    for k, name in enumerate(("skill", "attitude", "anxiety")):
        shift = after[:, k] - before[:, k]
        if name == "anxiety":
            shift = -shift  # calm = 1 - anxiety
        getattr(states, name)[:] += shift
        states.baseline[name][:] = np.clip(states.baseline[name] + shift, 0.0, 1.0)
    _install(model, data, states, ties)
    score = social_interaction_score(
        states.contact_rate, model.strength_sum, states.skill, states.attitude, states.anxiety,
        m.contact_scale, m.tie_scale,
    )  # fmt: skip
    model.social_interaction = score
    return Roster(data, donors, np.abs(score - data.latent))


def _install(model: HomeRoomModel, data: CohortData, states: StudentStates, ties: TieStore) -> None:
    """Put the real students into the model: states, ties, faculties and agents."""
    model.states = states
    model.n = data.n
    sizes = data.faculty_sizes
    model.faculty_sizes = np.asarray(sizes, dtype=np.int64)
    model.faculty_start = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    model.faculty_names = list(data.faculty_names)
    model.ties = ties
    model.ties_changed()
    model.strength_sum = ties.strength_sums()
    model.enrol_students([model.faculty_names[f] for f in states.faculty.tolist()], data.ids)
    model.update_resolve()


def explicit_groups(model: HomeRoomModel, client_ids: list[str], groups: int) -> list[np.ndarray]:
    """The groups of `group.client_ids`: the ids dealt to the groups in order."""
    positions = model.roster.data.positions if model.roster is not None else {}
    chosen = np.array([positions[student] for student in client_ids], dtype=np.int64)
    size = len(chosen) // groups
    return [chosen[g * size : (g + 1) * size] for g in range(groups)]
