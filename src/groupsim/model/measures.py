"""Measurement: the latent social interaction score and the simulated questionnaire (ODD 7.10).

The latent score is a documented composite of contact frequency, ties, skill, attitude and
calm. The questionnaire turns it into 35 item responses on a 1-to-4 scale (totals 35 to 140)
through one fixed graded response model (Samejima 1969), the same in every scenario: item
thresholds are constants of this module, not scenario parameters, so differences between
arms come from the mechanisms and never from the measurement.

A total counts the item steps whose probability exceeds the item's uniform. `totals` decides
almost every step without the logistic: u < logistic(x) exactly when x > logit(u), and a step
whose x lies clearly off logit(u) is decided by the sign of the gap (`steps_passed`, compiled);
the rare step close to it is decided by the logistic itself, as `responses` does. The totals,
and the uniforms drawn, are the same; screening a cohort (105 steps a student) costs a fraction
of computing every step's probability.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, cached_property

import numpy as np
from numpy.typing import ArrayLike

from groupsim.model.compiling import compiled
from groupsim.model.mechanisms import logistic
from groupsim.scenario.instrument import Instrument, step_thresholds

__all__ = [
    "CHANGE_CATEGORIES",
    "QUESTIONNAIRE",
    "REFERENCE_PRE_TOTAL",
    "QuestionnaireModel",
    "reliable_change",
    "reliable_change_threshold",
    "score_parts",
    "score_terms",
    "social_interaction_score",
    "steps_passed",
    "update_contact_rate",
]

#: `steps_passed` decides a step by the sign of x - logit(u) when the gap exceeds
#: `SURE_GAP` and both lie within +-`SURE_RANGE`: there the logistic differs from u by more
#: than 1e-13 (the gap times the logistic's smallest slope, e^-15), a thousand times the
#: rounding error of the probability computed in floating point, so both decide alike. The
#: logits come from the C library's log in the compiled loop, whose last bit may differ from
#: numpy's or between CPUs: that moves a gap by ~1e-15, so no sure step changes side.
SURE_GAP = 1e-6
SURE_RANGE = 15.0

#: Weights of the latent score's components (equal: no component is privileged).
SCORE_WEIGHTS = {"contact": 0.2, "ties": 0.2, "skill": 0.2, "attitude": 0.2, "calm": 0.2}
#: The same weights in their order, as compiled code reads them (numba freezes a global tuple).
_WEIGHTS = tuple(SCORE_WEIGHTS.values())


def update_contact_rate(contact_rate: ArrayLike, contacts: ArrayLike, memory: float) -> np.ndarray:
    """Exponential moving average of good exchanges per week (the frequency a student reports).

    Compiled as it stands by `groupsim.model.kernel` (the weekly measurement runs it there).
    """
    rate = np.asarray(contact_rate, np.float64)
    return memory * rate + (1.0 - memory) * np.asarray(contacts, np.float64)


def score_terms(
    contact_rate: ArrayLike,
    strength_sum: ArrayLike,
    skill: ArrayLike,
    attitude: ArrayLike,
    anxiety: ArrayLike,
    contact_scale: float,
    tie_scale: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The latent score's weighted parts in the order of `SCORE_WEIGHTS` (see `score_parts`)."""
    contact, ties, skill_weight, attitude_weight, calm = _WEIGHTS
    return (
        contact * (1.0 - np.exp(-np.asarray(contact_rate, np.float64) / contact_scale)),
        ties * (1.0 - np.exp(-np.asarray(strength_sum, np.float64) / tie_scale)),
        skill_weight * np.asarray(skill, np.float64),
        attitude_weight * np.asarray(attitude, np.float64),
        calm * (1.0 - np.asarray(anxiety, np.float64)),
    )


def score_parts(
    contact_rate: ArrayLike,
    strength_sum: ArrayLike,
    skill: ArrayLike,
    attitude: ArrayLike,
    anxiety: ArrayLike,
    contact_scale: float,
    tie_scale: float,
) -> dict[str, np.ndarray]:
    """The latent score's weighted parts (`SCORE_WEIGHTS`); they sum to the score.

    Contact frequency and ties saturate (`1 - exp(-x / scale)`): the fifth friend adds less
    than the first.
    """
    terms = score_terms(
        contact_rate, strength_sum, skill, attitude, anxiety, contact_scale, tie_scale
    )
    return dict(zip(SCORE_WEIGHTS, terms, strict=True))


def social_interaction_score(
    contact_rate: ArrayLike,
    strength_sum: ArrayLike,
    skill: ArrayLike,
    attitude: ArrayLike,
    anxiety: ArrayLike,
    contact_scale: float,
    tie_scale: float,
) -> np.ndarray:
    """Latent social interaction in [0, 1]: the sum of `score_parts`.

    How often, with how many and how strong ties, how competently, how willingly and how
    calmly a student interacts. Compiled as it stands by `groupsim.model.kernel` (the weekly
    measurement runs it there).
    """
    contact, ties, skill_part, attitude_part, calm = score_terms(
        contact_rate, strength_sum, skill, attitude, anxiety, contact_scale, tie_scale
    )
    return np.asarray(contact + ties + skill_part + attitude_part + calm)


@dataclass(frozen=True)
class QuestionnaireModel:
    """A graded response model from the latent score to Likert item responses.

    Item i answers at least category k+1 with probability
    `logistic(discrimination * (score - threshold[k] - location[i]))`, k = 1..3. Item
    locations spread evenly over `[-spread, +spread]` (easier and harder items).
    """

    items: int = 35
    lowest: int = 1
    highest: int = 4
    discrimination: float = 10.0
    thresholds: tuple[float, ...] = (0.025, 0.275, 0.525)
    spread: float = 0.1

    @classmethod
    def from_instrument(cls, instrument: Instrument) -> QuestionnaireModel:
        """The graded response model of an instrument: its items and points, same latent range.

        The default instrument gives exactly `QUESTIONNAIRE`; other scales keep the
        discrimination and item spread and spread their step thresholds evenly over the same
        latent range (:func:`groupsim.scenario.instrument.step_thresholds`). Responses are
        scored answers (reverse-scored items already turned round).

        Example:
            >>> from groupsim.scenario.instrument import default_instrument
            >>> QuestionnaireModel.from_instrument(default_instrument()) == QUESTIONNAIRE
            True
        """
        return cls(
            items=instrument.items,
            lowest=instrument.lowest,
            highest=instrument.highest,
            thresholds=step_thresholds(instrument.steps),
        )

    @property
    def minimum(self) -> int:
        """The lowest possible total."""
        return self.items * self.lowest

    @property
    def maximum(self) -> int:
        """The highest possible total."""
        return self.items * self.highest

    @cached_property
    def locations(self) -> np.ndarray:
        """The items' locations, evenly over [-spread, +spread] (read-only).

        Computed once: a run gives the questionnaire a few times, each a handful of clients,
        and `np.linspace` cost more than the rest of a small questionnaire.
        """
        locations = np.linspace(-self.spread, self.spread, self.items)
        locations.flags.writeable = False
        return locations

    @cached_property
    def threshold_array(self) -> np.ndarray:
        """The step thresholds as a float array (read-only), as `steps_passed` takes them."""
        thresholds = np.asarray(self.thresholds, dtype=float)
        thresholds.flags.writeable = False
        return thresholds

    def arguments(self, score: ArrayLike) -> np.ndarray:
        """The logistic's argument for each student, item and step: shape (n, items, steps).

        `discrimination * (score - threshold[k] - location[i])`.
        """
        score = np.asarray(score, dtype=float)[:, None, None]
        thresholds = np.asarray(self.thresholds, dtype=float)[None, None, :]
        return self.discrimination * (score - thresholds - self.locations[None, :, None])

    def category_probabilities(self, score: ArrayLike) -> np.ndarray:
        """P(response >= k+1) for each student, item and step: shape (n, items, steps)."""
        return np.asarray(logistic(self.arguments(score)))

    def expected_total(self, score: ArrayLike) -> np.ndarray:
        """Mean scale total at a latent score (no item noise)."""
        return self.minimum + self.category_probabilities(score).sum(axis=(1, 2))

    def responses(self, score: ArrayLike, rng: np.random.Generator) -> np.ndarray:
        """Draw item responses (n, items) in lowest..highest."""
        p = self.category_probabilities(score)
        # One uniform per item: the response passes every step whose probability exceeds it
        # (the step probabilities fall with k, so this samples the graded response model).
        u = rng.random(p.shape[:2])[:, :, None]
        return self.lowest + (u < p).sum(axis=2)

    def totals(self, score: ArrayLike, rng: np.random.Generator) -> np.ndarray:
        """Scale totals (items x lowest .. items x highest) for each student.

        The totals of `responses` with the same uniforms: each step passed when its uniform
        is below its probability, decided by `steps_passed` and, for the steps it leaves
        unsure, by the probability itself.
        """
        score = np.asarray(score, dtype=float)
        u = rng.random((len(score), self.items))
        passed, unsure, undecided = steps_passed(
            score, self.threshold_array, self.locations, self.discrimination, u, SURE_GAP,
            SURE_RANGE,
        )  # fmt: skip
        if undecided:
            x = self.arguments(score)
            draws = np.broadcast_to(u[:, :, None], x.shape)
            passed += ((draws < logistic(x)) & unsure).sum(axis=(1, 2))
        return self.minimum + passed

    def standard_error(self, score: ArrayLike) -> np.ndarray:
        """The conditional standard error of measurement of the total at a latent score.

        The square root of the summed item variances of the graded response model: how far a
        total scatters around its expected value by item noise alone.
        """
        p = self.category_probabilities(score)
        ones = np.ones((*p.shape[:2], 1))
        at_least = np.concatenate([ones, p, 0.0 * ones], axis=2)  # P(X >= lowest + m)
        exactly = at_least[:, :, :-1] - at_least[:, :, 1:]
        values = self.lowest + np.arange(exactly.shape[2])
        mean = (exactly * values).sum(axis=2)
        variance = (exactly * values**2).sum(axis=2) - mean**2
        return np.sqrt(variance.sum(axis=1))

    def latent_for_total(self, total: float) -> float:
        """The latent score whose expected total is `total` (bisection; totals rise with it)."""
        low, high = -1.0, 2.0
        for _ in range(60):
            middle = 0.5 * (low + high)
            if self.expected_total([middle])[0] < total:
                low = middle
            else:
                high = middle
        return 0.5 * (low + high)


#: The pre-test mean of the reference field study (Nur Azizah & Murtafi'ah 2021: 95.4 of 140),
#: where the reliable change index takes the questionnaire's standard error.
REFERENCE_PRE_TOTAL = 95.4

#: The categories of reliable change (Jacobson & Truax 1991).
CHANGE_CATEGORIES = ("improved", "no reliable change", "deteriorated")


@cache
def reliable_change_threshold(reference_total: float = REFERENCE_PRE_TOTAL) -> float:
    """The smallest change in a total that is reliable: `1.96 * sqrt(2) * SE` (Jacobson-Truax).

    SE is the questionnaire's standard error of measurement at the reference total (item noise
    of the graded response model); a change beyond this threshold has under a 5% chance of
    being measurement noise alone.
    """
    error = float(
        QUESTIONNAIRE.standard_error([QUESTIONNAIRE.latent_for_total(reference_total)])[0]
    )
    return 1.96 * np.sqrt(2.0) * error


def reliable_change(pre: ArrayLike, post: ArrayLike) -> np.ndarray:
    """Each client's category: improved, no reliable change, deteriorated ('' when missing).

    Example:
        >>> threshold = reliable_change_threshold()
        >>> list(reliable_change([90, 90, 90, 90], [90 + threshold + 1, 92, 70, float("nan")]))
        ['improved', 'no reliable change', 'deteriorated', '']
    """
    change = np.asarray(post, dtype=float) - np.asarray(pre, dtype=float)
    threshold = reliable_change_threshold()
    # Masks into an object array (a missing change compares False both ways): every run
    # of a study takes this, and `np.select` over strings cost ten times more.
    category = np.full(change.shape, CHANGE_CATEGORIES[1], dtype=object)
    category[change > threshold] = CHANGE_CATEGORIES[0]
    category[change < -threshold] = CHANGE_CATEGORIES[2]
    category[np.isnan(change)] = ""
    return category


@compiled
def steps_passed(
    score: np.ndarray,
    thresholds: np.ndarray,
    locations: np.ndarray,
    discrimination: float,
    uniforms: np.ndarray,
    sure_gap: float,
    sure_range: float,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Each student's item steps passed, the steps left unsure (n, items, steps), and how many.

    A step passes when its item's uniform u (`uniforms`: n x items) is below `logistic(x)`,
    that is when x > logit(u); it is counted when the gap and both sides are sure
    (`SURE_GAP`, `SURE_RANGE`), else marked unsure (and not counted) for the caller to
    decide by the logistic. A uniform of exactly 0 has the logit -inf: unsure, and decided
    there (it passes every step).
    """
    n, items, steps = len(score), len(locations), len(thresholds)
    passed = np.zeros(n, dtype=np.int64)
    unsure = np.zeros((n, items, steps), dtype=np.bool_)
    undecided = 0
    for i in range(n):
        for j in range(items):
            u = uniforms[i, j]
            logit = np.log(u / (1.0 - u))
            for k in range(steps):
                x = discrimination * (score[i] - thresholds[k] - locations[j])
                gap = x - logit
                if abs(gap) > sure_gap and abs(logit) < sure_range and abs(x) < sure_range:
                    passed[i] += gap > 0.0
                else:
                    unsure[i, j, k] = True
                    undecided += 1
    return passed, unsure, undecided


#: The one questionnaire of groupsim: 35 items scored 1 to 4 (Nur Azizah & Murtafi'ah 2021).
QUESTIONNAIRE = QuestionnaireModel()
